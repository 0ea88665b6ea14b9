#!/usr/bin/env bash
# Foundation behaviour: the machine is listed, bad machine options are refused
# with a clear message, `make setup` is a fast no-op when nothing changed, and
# a corrupted cached QEMU tarball is detected, deleted and fetched again.
# itc-test-timeout: 300
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
Q=$here/build/qemu-build/qemu-system-sparc
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

$Q -M help | grep -q '^gr740 ' && ok "gr740 listed" || bad "-M help does not list gr740"

out=$($Q -M gr740 -smp 5 -display none -monitor none -kernel "$here/build/fsw/hello.elf" 2>&1 </dev/null)
rc=$?
[ $rc != 0 ] && grep -qi "max cpus\|maximum\|supported by machine" <<<"$out" && ok "-smp 5 refused: $out" ||
    bad "-smp 5: rc=$rc out=$out"
out=$(timeout 20 $Q -M gr740 -m 4G -display none -monitor none -kernel "$here/build/fsw/hello.elf" 2>&1 </dev/null)
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] && grep -q "SDRAM" <<<"$out" && ok "-m 4G refused: $out" || bad "-m 4G: rc=$rc out=$out"
out=$(timeout 20 $Q -M gr740 -display none -monitor none -kernel /etc/hostname 2>&1 </dev/null)
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] && grep -q "could not load kernel" <<<"$out" && ok "non-ELF kernel refused" ||
    bad "bad kernel: rc=$rc out=$out"
out=$(timeout 20 $Q -M gr740 -display none -monitor none 2>&1 </dev/null)
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] && grep -q "nothing to run" <<<"$out" && ok "no kernel/bios refused" ||
    bad "no kernel: rc=$rc out=$out"

# make setup twice: the second run changes nothing and is quick (we assert
# it neither installs nor downloads, not its time).
out=$(cd "$here" && make --no-print-directory setup 2>&1)
[ $? = 0 ] && [ -z "$out" ] && ok "make setup is a silent no-op" || bad "make setup printed: $out"

# Corrupt cache: a copy of the tarball with one flipped byte in a private cache.
cache=${ITC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/itc-workbench}/qemu
. "$cache/fetched.env"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/qemu"
cp "$QEMU_TARBALL" "$tmp/qemu/"
sed "s|^QEMU_TARBALL=.*|QEMU_TARBALL='$tmp/qemu/$(basename "$QEMU_TARBALL")'|" "$cache/fetched.env" >"$tmp/qemu/fetched.env"
printf '\xff' | dd of="$tmp/qemu/$(basename "$QEMU_TARBALL")" bs=1 seek=1000 conv=notrunc 2>/dev/null
out=$(ITC_CACHE_DIR=$tmp "$here/qemu/fetch.sh" 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q "corrupt\|sha256" <<<"$out" &&
   [ "$(sha256sum "$tmp/qemu/$(basename "$QEMU_TARBALL")" | cut -d' ' -f1)" = "$QEMU_TARBALL_SHA256" ]; then
    ok "corrupt cached tarball detected and re-fetched"
else
    bad "corrupt cache: rc=$rc out=$out"
fi
exit $fail
