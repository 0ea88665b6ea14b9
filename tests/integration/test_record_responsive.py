#!/usr/bin/env python3
"""Regression test for qemu/patches/0008: in record mode the monitor stays
responsive while the guest runs with no timer armed.

Under icount the vCPU holds the replay mutex for a whole execution slice,
which lasts until the next timer deadline: INT32_MAX ns of virtual time
(5.4e8 instructions at shift=2) when no timer is armed.  The main loop,
which needs that mutex to run any monitor command, used to wait for the
slice to end, so two QMP commands in a row were a whole slice apart and a
savevm took 0.4-1.4 s.  With the patch a waiting main loop kicks the vCPU
out of its slice.  Measured in instructions, not wall-clock time: the
largest gap between consecutive itc-icount replies must be far below a
slice; a savevm during the record lands within a few instructions-worth of
host latency of the request; and the recording (its slices cut at
host-dependent points) still replays to the very instruction where it
stopped.  Skips (77) without the SPARC cross compiler."""
# itc-test-timeout: 240
import os
import subprocess
import time

import itctest
from itctest import check, check_eq

SLICE = 536870911          # INT32_MAX ns at 4 ns per instruction
def main():
    itctest.require_sparc_cc()
    d = itctest.private_dir()
    elf = itctest.assemble_guest(d, itctest.LOOP_GUEST, "loop")
    rr = os.path.join(d, "run.rr")
    qcow2 = os.path.join(d, "ckpt.qcow2")
    subprocess.run([itctest.QEMU_IMG, "create", "-q", "-f", "qcow2", qcow2, "1M"], check=True)
    drive = ["-drive", "if=none,id=ckpt,format=qcow2,file=%s" % qcow2]
    p, qmp = itctest.start_rr(d, "record", rr, "rec", elf, drive)
    time.sleep(0.3)
    counts = [qmp.cmd("itc-icount")["icount"] for _ in range(12)]
    gaps = [b - a for a, b in zip(counts, counts[1:])]
    print("instructions between consecutive QMP replies: %s (a slice is %d)" % (gaps, SLICE))
    # unpatched: each reply waits for the end of a slice (gaps of 0 or whole
    # slices); patched: the vCPU runs only during the round trip
    check(max(gaps) < SLICE // 2, "QMP replies during the record are a slice apart: %s" % gaps)

    before = qmp.cmd("itc-icount")["icount"]
    out = qmp.hmp("savevm during")
    check_eq(out.strip(), "", "savevm during the record")
    snap = qmp.cmd("itc-snapshot-export", name="during", path=os.path.join(d, "during.stream"))
    check(before <= snap["icount"] < before + SLICE // 2,
          "savevm requested at icount %d was taken at %d" % (before, snap["icount"]))

    qmp.cmd("stop")
    recorded = qmp.cmd("itc-icount")["icount"]
    qmp.cmd("quit")
    check_eq(p.wait(30), 0, "recording QEMU exit status")

    replayed = itctest.replay_to_end(d, rr, "rep", elf, drive)
    check_eq(replayed, recorded, "icount where the replay stops")
    print("savevm at icount %d (requested at %d); replay stops at %d like the record"
          % (snap["icount"], before, replayed))


itctest.run_test(main)
