#!/usr/bin/env python3
"""Sample FSW, -smp 4 live run: CPU 0 starts CPUs 1..3 through IRQ(A)MP
MPSTAT; each secondary reports in on the UART and adds 2000 to a shared
counter under a casa spinlock.  All four CPUs must report in, and the
1 Hz housekeeping packet must show cpus=4 and smp=6000 (a lost update
would show less).  The gr740 machine has an IRQ(A)MP, so an FSW that does
not find one in plug&play is a failure, not a skip.
"""
# itc-test-timeout: 120
import re

import fswtest
import itctest
from itctest import check


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    run = fswtest.Run(d, "smp4", smp=4)
    run.wait_for(rb"(IRQAMP not found[^\n]*\n|SMP: \d+ CPU)", timeout=60)
    if b"IRQAMP not found" in run.output():
        cmd = run.repro()
        run.quit()
        check(False, "the FSW did not find the IRQ(A)MP in plug&play, so CPUs 1..3 "
              "cannot be started\nreproduce: %s" % cmd)
    m = run.wait_for(rb"HK [0-9a-f]{4} up=1s [^\n]*\n", timeout=90)
    out = run.output()
    cmd = run.repro()
    run.quit()
    check(b"SMP: 4 CPU(s)" in out, "FSW did not see 4 CPUs in MPSTAT\nreproduce: %s" % cmd)
    for cpu in (1, 2, 3):
        check(re.search(rb"CPU%d: up\r\n" % cpu, out) and
              re.search(rb"CPU%d: report in, loop hash [0-9a-f]{8}\r\n" % cpu, out),
              "CPU%d did not report in\nreproduce: %s" % (cpu, cmd))
    hk = m.group(0)
    check(b" cpus=4 " in hk and b" smp=6000 " in hk,
          "housekeeping %r: want cpus=4 smp=6000 (3 CPUs x 2000 locked increments)\n"
          "reproduce: %s" % (hk, cmd))
    print("all four CPUs reported in; shared counter 6000")


itctest.run_test(body)
