#!/usr/bin/env python3
"""Regression test for qemu/patches/0005: a recording ended with QMP "quit"
must replay up to the very instruction the recording reached.  Before the
fix the shutdown event was logged without the instructions executed since
the previous event, and the replay stopped 2e4..1e5 instructions short.

A busy loop (assembled here; a guest that idles hides the bug, because
going idle logs the instruction count anyway) is recorded for a while
(-action shutdown=pause keeps QEMU around after the replayed quit),
stopped, its icount read, then quit; the replay must pause at the same
icount.  Skips (77) without the SPARC cross compiler."""
# itc-test-timeout: 240
import os
import time


import itctest
from itctest import check, check_eq

def main():
    itctest.require_sparc_cc()
    d = itctest.private_dir()
    elf = itctest.assemble_guest(d, itctest.LOOP_GUEST, "loop")
    rr = os.path.join(d, "run.rr")
    p, qmp = itctest.start_rr(d, "record", rr, "rec", elf)
    deadline = time.monotonic() + 60
    while qmp.cmd("itc-icount")["icount"] < 200000000:
        check(time.monotonic() < deadline, "the loop did not run 2e8 instructions")
        time.sleep(0.05)
    qmp.cmd("stop")
    recorded = qmp.cmd("itc-icount")["icount"]
    qmp.cmd("quit")
    check_eq(p.wait(30), 0, "recording QEMU exit status")

    replayed = itctest.replay_to_end(d, rr, "rep", elf)
    check_eq(replayed, recorded, "icount where the replay of a quit-ended recording stops")


itctest.run_test(main)
