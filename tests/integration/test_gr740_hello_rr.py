#!/usr/bin/env python3
"""Foundation: -M gr740 runs the minimal FSW, and a record/replay round trip
under icount reproduces its UART output byte for byte (3 replays).

The expected output is computed independently here (the checksum the FSW
prints is sum(i*i for i in 1..100000) mod 2^32), not taken from a run.
"""
# itc-test-timeout: 180
import os
import subprocess
import time

import itctest
from itctest import check, check_eq

ELF = os.path.join(itctest.FSW, "hello.elf")
EXPECTED = ("Hello from GR740 flight software\r\nchecksum %d\r\nEND\r\n"
            % (sum(i * i for i in range(1, 100001)) % 2**32)).encode()


def run(mode, rrfile, out):
    d = os.path.dirname(out)
    qmp_path = os.path.join(d, "qmp-%s-%d.sock" % (mode, time.monotonic_ns()))
    lst = itctest.qmp_listener(qmp_path)
    icount = "shift=0" + (",rr=%s,rrfile=%s" % (mode, rrfile) if mode else "")
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", "1", "-display", "none",
                       "-monitor", "none", "-serial", "file:" + out, "-icount", icount,
                       "-qmp", "unix:" + qmp_path, "-kernel", ELF],
                      stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    qmp = itctest.accept_qmp(lst, p)
    deadline = time.monotonic() + 60
    data = b""
    while time.monotonic() < deadline:
        with open(out, "rb") as f:
            data = f.read()
        if data.endswith(b"END\r\n"):
            break
        time.sleep(0.05)
    if mode == "replay":
        # A replay replays the recording's own "quit" and may exit by itself
        # before ours arrives: both ways of ending are fine.
        try:
            qmp.cmd("quit")
        except (ConnectionError, OSError, itctest.TestFailure):
            pass
    else:
        qmp.cmd("quit")
    check_eq(p.wait(10), 0, "QEMU exit status (%s)" % (mode or "plain"))
    return data


def body():
    d = itctest.private_dir()
    rr = os.path.join(d, "run.rr")
    plain = run(None, None, os.path.join(d, "plain.txt"))
    check_eq(plain, EXPECTED, "UART output of hello.elf on gr740")
    rec = run("record", rr, os.path.join(d, "rec.txt"))
    check_eq(rec, EXPECTED, "UART output while recording")
    check(os.path.getsize(rr) > 0, "replay log is empty")
    for i in range(3):
        rep = run("replay", rr, os.path.join(d, "rep%d.txt" % i))
        check_eq(rep, rec, "UART output of replay %d vs the recording" % i)


itctest.run_test(body)
