#!/usr/bin/env python3
"""Machine properties stop-icount / stop-time-ns (hw/itc/itc_stop.c): the
VM pauses after exactly N instructions, or at exactly T ns of virtual time,
in a plain icount run, in record mode (what `itc record --until
icount:N|time:S` uses) and when set at run time with qom-set; bad values are
refused with a clear message.  The instants are chosen by this test, not read back from the code
under test."""
# itc-test-timeout: 300
import os
import random
import subprocess
import time

import itctest
from itctest import check, check_eq

FSW = os.path.join(itctest.FSW, "fsw.elf")


def start(d, name, mprops, rr=None):
    sock = os.path.join(d, name + ".qmp")
    lst = itctest.qmp_listener(sock)
    ic = "shift=2" + (",rr=record,rrfile=%s" % rr if rr else "")
    p = itctest.spawn([itctest.QEMU, "-M", "gr740," + mprops, "-smp", "1", "-display", "none",
                       "-monitor", "none", "-serial", "null", "-icount", ic,
                       "-kernel", FSW, "-qmp", "unix:" + sock],
                      stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, itctest.accept_qmp(lst, p)


def wait_paused(qmp, what, timeout=120):
    deadline = time.monotonic() + timeout
    while qmp.cmd("query-status")["status"] == "running":
        check(time.monotonic() < deadline, "%s: still running after %d s" % (what, timeout))
        time.sleep(0.02)
    check_eq(qmp.cmd("query-status")["status"], "paused", what + ": run state")


def quit(p, qmp):
    qmp.cmd("quit")
    p.wait(30)


def refused(d, mprops, want, icount=True):
    r = subprocess.run([itctest.QEMU, "-M", "gr740," + mprops, "-smp", "1", "-display", "none",
                        "-monitor", "none", "-serial", "null", "-kernel", FSW, "-S"]
                       + (["-icount", "shift=2"] if icount else []),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    check(r.returncode != 0, "%s: QEMU accepted it" % mprops)
    check(want in r.stderr, "%s: stderr %r lacks %r" % (mprops, r.stderr[-300:], want))


def main():
    d = itctest.private_dir()
    rnd = random.Random(7)
    # plain icount run, odd instruction counts (not TB- or frame-aligned)
    for n in (rnd.randrange(10**7, 5 * 10**7) | 1, rnd.randrange(10**8, 2 * 10**8)):
        p, qmp = start(d, "plain%d" % n, "stop-icount=%d" % n)
        wait_paused(qmp, "icount=%d" % n)
        check_eq(qmp.cmd("itc-icount")["icount"], n, "instructions executed at the stop")
        quit(p, qmp)
    # virtual time
    t = 123456789
    p, qmp = start(d, "time", "stop-time-ns=%d" % t)
    wait_paused(qmp, "time-ns")
    # the first instruction boundary >= t (4 ns per instruction at shift=2);
    # if the FSW idles at t, the idle warp runs on to the next guest timer
    # deadline (the FSW's 10 ms tick; patch 0007 bounds it there): 50 ms of
    # virtual time is a sanity bound (a stop found by polling would be later)
    vt = qmp.cmd("itc-sim-time", clock="virtual")["time_ns"]
    check(t <= vt < t + 50000000, "virtual time at the stop: %d, want >= %d" % (vt, t))
    # set at run time (qom-set) from the paused state
    n2 = qmp.cmd("itc-icount")["icount"] + 3 * 10**7 + 11
    qmp.cmd("qom-set", path="/machine", property="stop-icount", value=n2)
    check_eq(qmp.cmd("qom-get", path="/machine", property="stop-icount"), n2, "qom-get stop-icount")
    qmp.cmd("cont")
    wait_paused(qmp, "qom-set stop-icount")
    check_eq(qmp.cmd("itc-icount")["icount"], n2, "instructions at the stop set over QMP")
    # a past instant over QMP: an error, the machine and the old value unaffected
    err = None
    try:
        qmp.cmd("qom-set", path="/machine", property="stop-icount", value=5)
    except itctest.TestFailure as e:  # the QMP error reply
        err = str(e)
    check(err is not None, "qom-set of a past stop-icount succeeded")
    check("not after the current instruction count" in err, "past icount error: %s" % err)
    check_eq(qmp.cmd("query-status")["status"], "paused", "state after a refused qom-set")
    check_eq(qmp.cmd("qom-get", path="/machine", property="stop-icount"), n2,
             "stop-icount after a refused qom-set")
    quit(p, qmp)
    # record mode
    n = 77777777
    rr = os.path.join(d, "rec.rr")
    p, qmp = start(d, "rec", "stop-icount=%d" % n, rr=rr)
    wait_paused(qmp, "record icount")
    check_eq(qmp.cmd("itc-icount")["icount"], n, "instructions recorded at the stop")
    quit(p, qmp)
    # bad input on the command line
    refused(d, "stop-icount=1000", "stop-icount needs -icount", icount=False)
    refused(d, "stop-icount=%d" % (1 << 63), "out of range")
    refused(d, "stop-time-ns=abc", "stop-time-ns")
    print("itc-stop pauses at exactly the requested icount / virtual time")


if __name__ == "__main__":
    itctest.run_test(main)
