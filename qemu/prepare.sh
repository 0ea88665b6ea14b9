#!/usr/bin/env bash
# Unpack the fetched QEMU orig tarball into build/qemu-src, apply
# qemu/patches/*.patch in order, and link hw/itc in.  Re-unpacks only when the
# tarball or the patch set changed.  Unpacked files keep the tarball's mtimes,
# and every file a patch touches (before or now) is touched, so an incremental
# ninja build recompiles exactly what changed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/qemu-src}
cache=${ITC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/itc-workbench}/qemu
. "$cache/fetched.env" 2>/dev/null || {
    echo "qemu-prepare: no fetched QEMU source; run 'make setup' first" >&2
    exit 1
}

patches=("$here"/qemu/patches/*.patch)
[ -e "${patches[0]}" ] || patches=()
key=$( { echo "$QEMU_TARBALL_SHA256"; cat "${patches[@]}" /dev/null; } | sha256sum | cut -d' ' -f1)
stamp=$out/.itc-prepared

link_itc() {
    local want=$here/hw/itc
    if [ "$(readlink "$out/hw/itc" 2>/dev/null)" != "$want" ]; then
        rm -rf "$out/hw/itc"
        ln -s "$want" "$out/hw/itc"
    fi
}

if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$key" ]; then
    link_itc
    exit 0
fi

echo "qemu-prepare: unpacking $(basename "$QEMU_TARBALL") into $out"
old_files=()
[ -f "$stamp" ] && mapfile -t old_files < <(tail -n +2 "$stamp")
tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
tar -xf "$QEMU_TARBALL" -C "$tmp" --strip-components=1
touched=()
for p in "${patches[@]}"; do
    echo "qemu-prepare: applying $(basename "$p")"
    patch -d "$tmp" -p1 --quiet --no-backup-if-mismatch <"$p" || {
        echo "qemu-prepare: patch $(basename "$p") does not apply to $QEMU_BUILT_DEB_VERSION" >&2
        exit 1
    }
    mapfile -t -O "${#touched[@]}" touched < <(sed -n 's|^+++ b/\([^\t ]*\).*|\1|p' "$p")
done
# Files patched before but not now must look changed too.
for f in "${old_files[@]}" "${touched[@]}"; do
    [ -e "$tmp/$f" ] && touch "$tmp/$f"
done
# Keep the old tree's generated-nothing: the source tree holds only sources.
rm -rf "$out.old"
[ -d "$out" ] && mv "$out" "$out.old"
mv "$tmp" "$out"
rm -rf "$out.old"
{ echo "$key"; printf '%s\n' "${touched[@]}"; } >"$stamp"
link_itc
