#!/usr/bin/env bash
# The one test runner behind `make test`.  Runs, in order:
#   build/san/tests/*      C unit tests (our code with ASan+UBSan)
#   tests/qtest/*.py       device register tests (-accel qtest)
#   tests/integration/*    end-to-end tests (QEMU processes, gdb-multiarch)
# A test passes with exit 0, is skipped with exit 77 (counted as skipped,
# never as passed), and fails otherwise.  ITC_TESTS=REGEX selects tests.
# Ends with the line "N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
logs=$here/build/test-logs
# (not wiped: several runners may share it; each log is overwritten)
mkdir -p "$logs"
export PYTHONPATH=$here/tests/lib${PYTHONPATH:+:$PYTHONPATH}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ITC_SAN_BIN=$here/build/san/bin
export ITC_BIN=$here/build/rel/bin

tests=()
for t in build/san/tests/*; do [ -x "$t" ] && [ -f "$t" ] && tests+=("$t"); done
for t in tests/qtest/*.py tests/integration/*.py tests/integration/*.sh; do
    [ -f "$t" ] && tests+=("$t")
done

pass=0 fail=0 skip=0
failed=()
for t in "${tests[@]}"; do
    name=${t#build/san/}
    if [ -n "${ITC_TESTS:-}" ] && ! [[ $name =~ $ITC_TESTS ]]; then continue; fi
    log=$logs/$(echo "$name" | tr '/' '_').log
    limit=$(sed -n 's/^# *itc-test-timeout: *\([0-9]\+\).*/\1/p' "$t" 2>/dev/null | head -n1)
    limit=${limit:-900}
    case $t in
        *.py) cmd=(/usr/bin/python3 "$t") ;;
        *) cmd=("$t") ;;
    esac
    start=$(date +%s)
    ITC_TEST_TIMEOUT=$limit PYTHONUNBUFFERED=1 timeout --kill-after=10 "$limit" "${cmd[@]}" </dev/null >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc = 0 ]; then
        pass=$((pass + 1))
        printf 'PASS  %-50s %4ss\n' "$name" "$secs"
    elif [ $rc = 77 ]; then
        skip=$((skip + 1))
        printf 'SKIP  %-50s %s\n' "$name" "$(tail -n1 "$log")"
    else
        fail=$((fail + 1))
        failed+=("$name")
        [ $rc = 124 ] && echo "(timed out after ${limit}s)" >>"$log"
        printf 'FAIL  %-50s %4ss (exit %s)\n' "$name" "$secs" "$rc"
        tail -n 25 "$log" | sed 's/^/      | /'
    fi
done
if [ $fail -gt 0 ]; then
    echo "failed: ${failed[*]} (logs in $logs)"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ] && [ $((pass + fail)) -gt 0 ]
