#!/usr/bin/env python3
"""Sample FSW, record/replay: record one run of fsw.elf with the scripted
UART input tests/fsw/anomaly-input.txt under -icount rr=record (-smp 1),
then replay it 5 times.  Every replay must emit the same UART bytes, halt
at the same instruction count and end in the same state (SHA-256 of the
FSW's 16 MiB of RAM and of 'info registers').  The run ends when the FSW's
fatal-trap handler halts the CPU for good (the planted anomaly, see
tests/fsw/ANOMALY.md), so "the end" is a well-defined instruction.
"""
# itc-test-timeout: 420
import os

import fswtest
import itctest
from itctest import TestFailure

REPLAYS = 5


def finish(run, replay):
    run.wait_for(fswtest.FATAL + rb"[^\n]*\n", timeout=180)
    icount = run.wait_halted(stop=replay)
    if not replay:
        run.record_tail()
    digest, regs = run.digest()
    out = run.output()
    run.quit()
    return out, icount, digest, regs


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    rr = os.path.join(d, "fsw.rr")
    rec = fswtest.Run(d, "record", mode="record", rrfile=rr,
                      input_path=fswtest.ANOMALY_INPUT)
    rec_cmd = rec.repro()
    out, icount, digest, regs = finish(rec, False)
    if b"ACK" not in out or b"TM " not in out:
        raise TestFailure("recording: FSW printed no telemetry/acks; output tail %r\n"
                          "reproduce: %s" % (out[-400:], rec_cmd))
    print("recorded: %d UART bytes, halted at icount %d, digest %s" % (len(out), icount, digest))
    for i in range(REPLAYS):
        rep = fswtest.Run(d, "replay%d" % i, mode="replay", rrfile=rr)
        cmd = rep.repro()
        rout, ricount, rdigest, rregs = finish(rep, True)
        where = ("replay %d of %d diverged from the recording (recording halted at "
                 "icount %d, replay at icount %d)" % (i + 1, REPLAYS, icount, ricount))
        repro = "\nreproduce: %s   (recording: %s)" % (cmd, rec_cmd)
        if rout != out:
            raise TestFailure(where + ": " + fswtest.describe_difference(
                "UART output", rout, out) + repro)
        if ricount != icount:
            raise TestFailure(where + ": halt instruction count differs" + repro)
        if rdigest != digest:
            raise TestFailure(where + ": final state digest %s != %s\nreplay regs:\n%s\n"
                              "recorded regs:\n%s%s" % (rdigest, digest, rregs, regs, repro))
        print("replay %d: identical (%d bytes, icount %d)" % (i + 1, len(rout), ricount))


itctest.run_test(body)
