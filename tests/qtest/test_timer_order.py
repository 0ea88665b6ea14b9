#!/usr/bin/env python3
"""Regression test for qemu/patches/0020: timers due at the same time run
in the order they were created, so loading a snapshot (which re-arms every
timer in vmstate section order) does not change the order in which they
run.  Under record/replay a changed order is a divergence (each device
timer is preceded by a virtual-clock checkpoint in the log); seen in
reverse debugging as "Missing character write event in the replay log".

Two GPTIMER units (created in order: unit 1, then unit 2) get a timer due
at the same nanosecond, unit 2's armed first.  The order of their
underflows (the gr740_gptimer_underflow trace) in an uninterrupted run
must equal the order after a migration-stream save and load at the
instant they were armed.  Without the patch the uninterrupted run follows
the arming order (unit 2 first) and the loaded one the section order
(unit 1 first)."""
import os
import re

import itctest
from itctest import check_eq

UNIT = [0xFF908000 + 0x1000 * n for n in range(5)]
SCALER, SRELOAD = 0x0, 0x4
EN, IE = 1, 1 << 3
TRACE = ["-trace", "gr740_gptimer_underflow"]


def arm(q):
    # unit 2's timer 1 first, then unit 1's timer 0: both count 10 ticks of
    # 1 us (SRELOAD 249 at 250 MHz) from the same instant
    for unit, n in ((2, 1), (1, 0)):
        base = UNIT[unit]
        q.writel(base + SRELOAD, 249)
        q.writel(base + SCALER, 249)
        q.writel(base + 0x14 + 0x10 * n, 9)
        q.writel(base + 0x10 + 0x10 * n, 9)
        q.writel(base + 0x18 + 0x10 * n, EN | IE)


def underflow_order(q):
    q.clock_step(30000)
    with open(q.stderr_path, errors="replace") as f:
        order = [int(m) for m in re.findall(r"timer (\d) underflow", f.read())]
    check_eq(len(order), 2, "underflows in %r" % q.stderr())
    return order


def main():
    d = itctest.private_dir()
    mig = os.path.join(d, "armed.mig")
    ref = itctest.Qtest(extra=TRACE)
    arm(ref)
    want = underflow_order(ref)
    ref.close()

    a = itctest.Qtest(qmp=True, extra=TRACE)
    arm(a)
    b = itctest.qtest_reload(a, mig, TRACE)
    got = underflow_order(b)
    b.close()
    print("underflow order: uninterrupted %s, after save and load %s" % (want, got))
    check_eq(got, want, "order of two timers due at the same instant after a load")
    check_eq(want, [0, 1], "timers due together run in creation order (unit 1's first)")


itctest.run_test(main)
