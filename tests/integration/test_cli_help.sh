#!/usr/bin/env bash
# Every itc command (and `itc` itself) answers --help on stdout with exit 0
# and a usage line naming it; no arguments is a usage error (exit 2) on stderr.
# itc-test-timeout: 60
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
ITC=$here/build/san/bin/itc
[ -x "$ITC" ] || ITC=$here/build/rel/bin/itc
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

out=$("$ITC" --help 2>/dev/null)
[ $? = 0 ] && grep -q '^usage: itc ' <<<"$out" && ok "itc --help" || bad "itc --help: $out"
for c in snap record replay debug info restore inject; do
    out=$("$ITC" "$c" --help 2>/dev/null)
    rc=$?
    [ $rc = 0 ] && grep -q "usage: itc $c" <<<"$out" && ok "itc $c --help" ||
        bad "itc $c --help: rc=$rc out=${out:0:200}"
done
out=$("$ITC" snap export --help 2>/dev/null)
[ $? = 0 ] && grep -q "export ID" <<<"$out" && ok "itc snap export --help" || bad "snap export --help"
for c in snap record replay debug info restore inject; do
    "$ITC" "$c" >/dev/null 2>&1 </dev/null
    rc=$?
    [ $rc = 2 ] && ok "itc $c without arguments: exit 2" || bad "itc $c without arguments: rc=$rc"
done
exit $fail
