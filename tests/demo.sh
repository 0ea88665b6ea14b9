#!/usr/bin/env bash
# make demo: the main job end to end on the sample flight software.
#   1. record an anomaly run (scripted UART commands; the FSW dies on a
#      fatal trap seconds later) into a bundle with periodic checkpoints
#   2. show what the bundle holds
#   3. reverse-debug it with gdb-multiarch to the instruction that
#      corrupted the variable the FSW crashed on
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
itc=build/rel/bin/itc
bundle=build/demo/anomaly.bundle
rm -rf "$bundle"
mkdir -p build/demo

echo "### 1. itc record: the sample FSW with tests/fsw/anomaly-input.txt"
$itc record build/fsw/fsw.elf -o "$bundle" --input tests/fsw/anomaly-input.txt \
    --until 'uart:FATAL trap[^\n]*\n' --until time:30
echo
echo "### the last UART lines of the recording:"
tail -n 3 "$bundle/uart.log"
echo
echo "### 2. itc info"
$itc info "$bundle"
echo
echo "### 3. itc debug --batch tests/demo/anomaly.gdb"
$itc debug "$bundle" --batch tests/demo/anomaly.gdb
echo
echo "Try it yourself: $itc debug $bundle"
