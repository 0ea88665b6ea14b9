#!/usr/bin/env bash
# make bench: every benchmark prints one or more "name  ratio  (details)" rows;
# ratios are measured side by side in this one run.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
make --no-print-directory -s -C tests/bench O="$here/build/bench" >/dev/null
printf '%-58s %8s   %s\n' "benchmark" "ratio" "details"
printf '%s\n' "-------------------------------------------------------------------------------------------"
for b in tests/bench/bench_*.py tests/bench/snap_bench.* tests/bench/rr_*; do
    [ -f "$b" ] || continue
    case $b in
        *.py) /usr/bin/python3 "$b" ;;
        *.sh) bash "$b" ;;
    esac || echo "$(basename "$b"): FAILED"
done
