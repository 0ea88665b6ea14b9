#!/usr/bin/env python3
"""A late host wake-up does not make the guest lose timer ticks (patch 0007).

A live run (-icount sleep=on) lets virtual time follow host time while the
FSW idles.  Unpatched QEMU adds the whole real-time delay to the virtual clock
when the host wakes the idle warp late, so one warp can jump over many 10 ms
timer periods: the GPTIMER then fires once for all of them and the FSW's
tick_count falls behind virtual time.  Here the host wake-up is delayed on
purpose (QEMU is SIGSTOPped for 400 ms, three times, while the FSW idles); the
FSW must still count exactly one tick per 10 ms of virtual time."""
# itc-test-timeout: 120
import os
import signal
import time

import fswtest
import itctest
from itctest import check

TICK_NS = 10000000
PAUSE_S = 0.4


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    run = fswtest.Run(d, "warp")
    try:
        run.wait_for(rb"FSW: cyclic executive running", timeout=60)
        tick = fswtest.elf_symbols(fswtest.FSW_ELF)["tick_count"]
        t0, v0 = run.ticks_and_time(tick)
        for _ in range(3):
            os.kill(run.proc.pid, signal.SIGSTOP)
            time.sleep(PAUSE_S)
            os.kill(run.proc.pid, signal.SIGCONT)
            time.sleep(0.2)
        t1, v1 = run.ticks_and_time(tick)
        lag = (v1 - v0) // TICK_NS - (t1 - t0)
        check((v1 - v0) >= 10 * TICK_NS, "virtual time hardly moved: %d ns" % (v1 - v0))
        check(-1 <= lag <= 1, "the FSW lost %d timer ticks (%d ticks in %d ns of virtual "
              "time) after late host wake-ups" % (lag, t1 - t0, v1 - v0))
        print("%d ticks in %d ns of virtual time across 3 x %.1f s host stalls: none lost"
              % (t1 - t0, v1 - v0, PAUSE_S))
    finally:
        run.quit()


itctest.run_test(body)
