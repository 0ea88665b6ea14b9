#!/usr/bin/env python3
"""A run's virtual clock starts at the start (patch 0024).

Under -icount shift=N with sleep=on, unpatched QEMU took the host time
between its start and the vCPU's first slice for an idle warp and added it
to the virtual clock, so each run began at another virtual time (0.05-1.5 ms
after two instructions on this FSW).  Here QEMU (one CPU, the sample FSW,
as itc runs it) stops after exactly N instructions (stop-icount, itc_stop.c)
in three runs, with a pause before it runs on one of them; the virtual
clock must read exactly N << shift ns every time: the FSW does not idle
that early, so no warp may have happened."""
# itc-test-timeout: 120
import os
import socket
import subprocess
import time

import fswtest
import itctest
from itctest import check_eq

SHIFT = 2


def clock_after(d, n, paused, i):
    sock = os.path.join(d, "qmp-%d-%d.sock" % (n, i))
    args = [itctest.QEMU, "-M", "gr740,stop-icount=%d" % n, "-smp", "1", "-icount",
            "shift=%d" % SHIFT, "-display", "none", "-monitor", "none", "-serial", "null",
            "-kernel", fswtest.FSW_ELF, "-qmp", "unix:%s,server=on,wait=off" % sock]
    if paused:
        args.append("-S")
    p = itctest.spawn(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(sock):
            if time.monotonic() > deadline or p.poll() is not None:
                p.kill()
                raise itctest.TestFailure("QEMU did not start: %r" % p.stderr.read()[-500:])
            time.sleep(0.01)
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        q = itctest.QMP(s)
        if paused:
            time.sleep(0.2)   # host time passes before the guest runs
            q.cmd("cont")
        deadline = time.monotonic() + 30
        while q.cmd("query-status")["status"] == "running":
            itctest.check(time.monotonic() < deadline, "QEMU did not stop at icount %d" % n)
            time.sleep(0.01)
        return q.cmd("itc-icount")["icount"], q.cmd("itc-sim-time")["time_ns"]
    finally:
        p.kill()
        p.wait()


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    for n in (2, 100000):
        for i, paused in enumerate((False, True, False)):
            icount, ns = clock_after(d, n, paused, i)
            check_eq(icount, n, "instructions executed")
            check_eq(ns, n << SHIFT, "virtual ns after %d instructions (run %d%s)"
                     % (n, i, ", paused first" if paused else ""))
    print("virtual clock after 2 and 100000 instructions: exactly icount << %d, 6 runs" % SHIFT)


itctest.run_test(body)
