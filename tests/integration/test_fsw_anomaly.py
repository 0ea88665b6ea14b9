#!/usr/bin/env python3
"""Sample FSW, planted latent anomaly (tests/fsw/ANOMALY.md).

With the input script tests/fsw/anomaly-input.txt the FSW's timer ISR
writes one word past ev_log[] (ev_put_isr) into the neighbouring global
tt_next; seconds later the time-tag scheduler dereferences it and takes a
mem_address_not_aligned trap (tt 0x07).  Checked here:
  * a control run with one PING fewer never traps (the anomaly needs the
    particular command sequence);
  * the recording traps; every replay (3) traps at the same instruction
    count with the same fatal line and the same corrupted tt_next;
  * in one replay a write watchpoint on tt_next (gdbstub) finds the guilty
    store: PC inside ev_put_isr, value an EV_OVERRUN event word, and at
    least 10^8 instructions before the symptom.
"""
# itc-test-timeout: 360
import os
import re

import fswtest
import itctest
from itctest import TestFailure, check

REPLAYS = 3
FATAL_RX = rb"FATAL trap tt=0x([0-9a-f]{2}) pc=0x([0-9a-f]{8})[^\n]*\n"


def body():
    fswtest.require_fsw()
    syms = fswtest.elf_symbols(fswtest.FSW_ELF)
    for s in ("tt_next", "ev_log", "ev_put_isr", "app_uart_error_isr", "tt_check"):
        check(s in syms, "symbol %s missing from fsw.elf" % s)
    tt_next = syms["tt_next"]
    check(tt_next == syms["ev_log"] + 32 * 4, "tt_next is not the word after ev_log[32]")
    d = itctest.private_dir()

    # Control: one PING fewer -> the log fills elsewhere, no trap by t=6 s.
    with open(fswtest.ANOMALY_INPUT) as f:
        lines = f.read().splitlines()
    pings = [i for i, l in enumerate(lines) if l.endswith(" PING")]
    control_in = os.path.join(d, "control-input.txt")
    with open(control_in, "w") as f:
        f.write("\n".join(l for i, l in enumerate(lines) if i != pings[0]) + "\n")
    ctl = fswtest.Run(d, "control", input_path=control_in)
    ctl.wait_for(rb"TM [0-9a-f]{4} t=600 ", timeout=120)
    out = ctl.output()
    ctl.quit()
    if fswtest.FATAL in out:
        raise TestFailure("control run (one PING fewer) trapped too: %r\nreproduce: %s"
                          % (out[out.index(fswtest.FATAL):][:120], ctl.repro()))

    rr = os.path.join(d, "anomaly.rr")
    rec = fswtest.Run(d, "record", mode="record", rrfile=rr, input_path=fswtest.ANOMALY_INPUT)
    m = rec.wait_for(FATAL_RX, timeout=180)
    rec_line = m.group(0)
    rec_icount = rec.wait_halted()
    rec.record_tail()
    rec_victim = rec.read_word(tt_next)
    rec_cmd = rec.repro()
    rec.quit()
    check(m.group(1) == b"07", "recording: fatal trap type %s, want 0x07 (misaligned "
          "load through tt_next)\nreproduce: %s" % (m.group(1), rec_cmd))
    check(rec_victim >> 24 == 0x9E, "recording: tt_next = 0x%08x at the symptom, want an "
          "EV_OVERRUN event word (0x9e......)" % rec_victim)
    print("recording: %s at icount %d, tt_next=0x%08x"
          % (rec_line.strip().decode(), rec_icount, rec_victim))

    guilty = None
    for i in range(REPLAYS):
        name = "replay%d" % i
        gdb = None
        extra = {}
        if i == 0:
            gsock = os.path.join(d, "gdb.sock")
        rep = fswtest.Run(d, name, mode="replay", rrfile=rr,
                          **({"gdb": gsock} if i == 0 else {}))
        cmd = rep.repro()
        if i == 0:
            gdb = fswtest.GdbRsp(gsock)
            check(gdb.send("Z2,%x,4" % tt_next) == "OK", "gdbstub refused the watchpoint")
            hits = 0
            while True:
                gdb.send("c", wait=False)
                reply = gdb.stop_reply()
                if not reply.startswith("T"):
                    raise TestFailure("replay: gdb stop reply %r before the guilty store" % reply)
                hits += 1
                value = gdb.read_word(tt_next)
                if value >> 24 == 0x9E:
                    guilty = rep.icount()
                    regs = rep.qmp.hmp("info registers")
                    pc = int(re.search(r"pc:\s*([0-9a-f]+)", regs).group(1), 16)
                    break
                check(hits < 1000, "no corrupting write to tt_next in 1000 watchpoint hits")
            lo, hi = syms["ev_put_isr"], syms["app_uart_error_isr"]
            check(lo <= pc <= hi + 4, "guilty store: pc 0x%08x outside ev_put_isr "
                  "[0x%08x, 0x%08x)" % (pc, lo, hi))
            gdb.send("z2,%x,4" % tt_next)
            gdb.send("c", wait=False)
            print("replay 1: guilty store at icount %d, pc 0x%08x (ev_put_isr), "
                  "tt_next := 0x%08x after %d watchpoint hits" % (guilty, pc, value, hits))
        m = rep.wait_for(FATAL_RX, timeout=180)
        icount = rep.wait_halted(stop=True)
        victim = rep.read_word(tt_next)
        rep.quit()
        where = "replay %d of %d (icount %d, recording %d)" % (i + 1, REPLAYS, icount, rec_icount)
        repro = "\nreproduce: %s   (recording: %s)" % (cmd, rec_cmd)
        if m.group(0) != rec_line:
            raise TestFailure("%s: fatal line %r != recorded %r%s"
                              % (where, m.group(0), rec_line, repro))
        if icount != rec_icount:
            raise TestFailure("%s: anomaly at a different instruction count%s" % (where, repro))
        if victim != rec_victim:
            raise TestFailure("%s: tt_next 0x%08x != recorded 0x%08x%s"
                              % (where, victim, rec_victim, repro))
        print("replay %d: same symptom at icount %d" % (i + 1, icount))
    gap = rec_icount - guilty
    if gap < 10 ** 8:
        raise TestFailure("symptom only %d instructions after the guilty store (want >= 1e8)" % gap)
    print("symptom %d instructions after the guilty store" % gap)


itctest.run_test(body)
