#!/usr/bin/env bash
# itc-test-timeout: 120
# Short libFuzzer run of the migration stream parser (see tests/fuzz/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
command -v clang >/dev/null || { echo "clang missing"; exit 77; }
make -s -C "$here/tests/fuzz" O="$here/build/fuzz" run SECONDS=${ITC_FUZZ_SECONDS:-30}
