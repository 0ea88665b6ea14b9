#!/usr/bin/env bash
# Fetch the pinned QEMU orig tarball (Debian source package, see VERSION) into
# a cache outside the clone, verify it, and write $CACHE/fetched.env naming the
# tarball and version to build.  A cached tarball that fails its sha256 is
# deleted and fetched again, never built.  If the archive only has a newer
# Debian revision of the same upstream series, it is used with a warning.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/qemu/VERSION"

cache=${ITC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/itc-workbench}/qemu
mkdir -p "$cache"
env_file=$cache/fetched.env

tarball_of() { # deb version -> orig tarball name
    local v=${1#*:}
    echo "qemu_${v%-*}.orig.tar.xz"
}

sha_ok() { # file sha256
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

pinned=$cache/$(tarball_of "$QEMU_DEB_VERSION")

# Fast path: the environment file names a tarball that is still intact.
if [ -f "$env_file" ]; then
    . "$env_file"
    if sha_ok "$QEMU_TARBALL" "$QEMU_TARBALL_SHA256"; then
        exit 0
    fi
    echo "qemu-fetch: cached $QEMU_TARBALL is missing or corrupt (sha256 mismatch); fetching it again" >&2
    rm -f "$QEMU_TARBALL" "$env_file"
fi
if [ -f "$pinned" ] && ! sha_ok "$pinned" "$QEMU_ORIG_SHA256"; then
    echo "qemu-fetch: cached $pinned fails its sha256; deleting it" >&2
    rm -f "$pinned"
fi

write_env() { # deb-version tarball sha256
    cat >"$env_file.tmp" <<EOT
QEMU_BUILT_DEB_VERSION='$1'
QEMU_BUILT_UPSTREAM='$(v=${1#*:}; v=${v%-*}; echo "${v%+ds}")'
QEMU_TARBALL='$2'
QEMU_TARBALL_SHA256='$3'
EOT
    mv "$env_file.tmp" "$env_file"
}

if [ -f "$pinned" ]; then
    write_env "$QEMU_DEB_VERSION" "$pinned" "$QEMU_ORIG_SHA256"
    exit 0
fi

command -v apt-get >/dev/null || {
    echo "qemu-fetch: apt-get not found; cannot fetch the qemu source package $QEMU_DEB_VERSION" >&2
    exit 1
}
"$here/scripts/apt-sources-add.sh"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

versions() {
    apt-cache showsrc qemu 2>/dev/null | awk '/^Version:/ {print $2}' | sort -u
}
if ! versions | grep -qxF "$QEMU_DEB_VERSION"; then
    as_root apt-get update -q >/dev/null || {
        echo "qemu-fetch: apt-get update failed: the package archive is not reachable" >&2
        exit 1
    }
fi

version=$QEMU_DEB_VERSION
if ! versions | grep -qxF "$QEMU_DEB_VERSION"; then
    version=$(versions | grep -E "^1:${QEMU_SERIES//./\\.}\.[0-9]+" |
              sort -V | tail -n1 || true)
    if [ -z "$version" ]; then
        echo "qemu-fetch: source package qemu $QEMU_DEB_VERSION (or any $QEMU_SERIES.x) is not" \
             "in the archive's $QEMU_DEB_SUITE sources" >&2
        exit 1
    fi
    echo "qemu-fetch: WARNING: pinned qemu $QEMU_DEB_VERSION is gone from the archive;" \
         "building $version instead (recorded in the build and every bundle)" >&2
fi

echo "qemu-fetch: downloading qemu $version source into $cache"
tmp=$(mktemp -d "$cache/dl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get source -q --download-only "qemu=$version" >/dev/null 2>"$tmp/err") || {
    cat "$tmp/err" >&2
    echo "qemu-fetch: apt-get source qemu=$version failed" >&2
    exit 1
}
name=$(tarball_of "$version")
[ -f "$tmp/$name" ] || { echo "qemu-fetch: $name not in the download" >&2; exit 1; }
sum=$(sha256sum "$tmp/$name" | cut -d' ' -f1)
if [ "$version" = "$QEMU_DEB_VERSION" ] && [ "$sum" != "$QEMU_ORIG_SHA256" ]; then
    echo "qemu-fetch: $name sha256 $sum does not match the pin $QEMU_ORIG_SHA256; refusing to build it" >&2
    exit 1
fi
mv "$tmp/$name" "$cache/$name"
write_env "$version" "$cache/$name" "$sum"
echo "qemu-fetch: ok ($name)"
