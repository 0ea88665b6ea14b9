#!/usr/bin/env bash
# Build qemu-system-sparc and qemu-img out of tree from build/qemu-src into
# build/qemu-build.  Configures only when needed; an unchanged tree is a
# ninja no-op, a change in hw/itc rebuilds only what depends on it.
# Serialised with a lock so parallel callers never run ninja twice at once.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=$here/build/qemu-src
bld=$here/build/qemu-build
mkdir -p "$here/build"
exec 9>"$here/build/.qemu-build.lock"
flock 9

"$here/qemu/prepare.sh" "$src"

args=(
    --python=/usr/bin/python3 --target-list=sparc-softmmu
    --without-default-features --disable-docs --disable-install-blobs
    --enable-fdt=system --enable-zstd --disable-werror --enable-tools
)
want="${args[*]}"
if [ ! -f "$bld/build.ninja" ] || [ "$(cat "$bld/.itc-configured" 2>/dev/null)" != "$want" ]; then
    echo "qemu-build: configuring in $bld"
    rm -rf "$bld"
    mkdir -p "$bld"
    (cd "$bld" && "$src/configure" "${args[@]}" >configure.log 2>&1) || {
        tail -n 30 "$bld/configure.log" >&2
        echo "qemu-build: configure failed (full log: $bld/configure.log)" >&2
        exit 1
    }
    echo "$want" >"$bld/.itc-configured"
fi
log=$bld/.itc-ninja.log
ninja -C "$bld" qemu-system-sparc qemu-img >"$log" 2>&1 || {
    grep -v '^ninja: Entering' "$log" | tail -n 60 >&2
    echo "qemu-build: build failed" >&2
    exit 1
}
grep -v -e '^ninja: Entering' -e '^ninja: no work to do' "$log" | grep -E '^\[|error|warning' | tail -n 3 || true
# Our own code (hw/itc) must build without warnings, like -Werror.
if grep -E 'hw/itc/[^:]+:[0-9]+:[0-9]+: warning' "$log" >&2; then
    touch "$here"/hw/itc/*.c   # so the next build reports them again
    echo "qemu-build: warnings in hw/itc (treated as errors)" >&2
    exit 1
fi
cache=${ITC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/itc-workbench}/qemu
. "$cache/fetched.env"
# What was actually built; recorded in every bundle.
# The machine model is part of the version: a replay log only replays on the
# same device models, so the hash of our patches and hw/itc is appended.
model=$(cd "$here" && find qemu/patches hw/itc -type f | LC_ALL=C sort | xargs sha256sum |
        sha256sum | cut -c1-12)
printf '%s itc-%s\n' "$QEMU_BUILT_DEB_VERSION" "$model" >"$bld/itc-qemu-version.tmp"
cmp -s "$bld/itc-qemu-version.tmp" "$bld/itc-qemu-version" 2>/dev/null ||
    mv "$bld/itc-qemu-version.tmp" "$bld/itc-qemu-version"
rm -f "$bld/itc-qemu-version.tmp"
