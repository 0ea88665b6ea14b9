#!/usr/bin/env bash
# make demo: the main job as far as it exists.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PYTHONPATH=$here/tests/lib
exec /usr/bin/python3 tests/demo_rr.py
