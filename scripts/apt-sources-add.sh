#!/usr/bin/env bash
# Add (once) the apt entries the workbench needs, with the archive URI and
# keyring taken from this machine's own apt configuration:
#   deb     <codename>-backports   (meson >= 1.5 on bookworm)
#   deb-src <QEMU_DEB_SUITE>       (the pinned QEMU source package)
# Prints nothing and changes nothing when the file is already right.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/qemu/VERSION"

read -r uri key < <("$here/scripts/apt-sources.sh")
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
file=/etc/apt/sources.list.d/itc-workbench.sources
signed=""
[ "$key" != "-" ] && signed="Signed-By: $key"

want=$(cat <<EOT
# Added by ITC workbench (scripts/apt-sources-add.sh); URI from this machine's apt config.
Types: deb
URIs: $uri
Suites: ${codename}-backports
Components: main
$signed

Types: deb-src
URIs: $uri
Suites: $QEMU_DEB_SUITE
Components: main
$signed
EOT
)
if [ -f "$file" ] && [ "$(cat "$file")" = "$want" ]; then
    exit 0
fi
echo "setup: writing $file (backports and $QEMU_DEB_SUITE sources from $uri)"
if [ "$(id -u)" = 0 ]; then
    printf '%s\n' "$want" >"$file"
else
    printf '%s\n' "$want" | sudo tee "$file" >/dev/null
fi
