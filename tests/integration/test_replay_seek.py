#!/usr/bin/env python3
"""Regression test for qemu/patches/0004 (replay_break asserted on the
previous break): upstream's replay-seek, issued again before an earlier
seek reached its target, across a checkpoint, used to abort QEMU.  Also
forward and backward seeks while the replay runs, and itc-replay-goto's
refusal to act on a running VM (it must not disturb it).

A short recording of the sample FSW with checkpoints every 1e8
instructions (itc record) is replayed directly with QEMU and QMP."""
# itc-test-timeout: 300
import os
import subprocess
import time

import itctest
import bundletest as bt
import fswtest
from itctest import check, check_eq

ITC = os.environ.get("ITC", os.path.join(itctest.BUILD, "san", "bin", "itc"))


def wait_stopped(qmp, p, what):
    deadline = time.monotonic() + 60
    while qmp.cmd("query-status")["status"] == "running":
        check(p.poll() is None, "QEMU died during %s" % what)
        check(time.monotonic() < deadline, "%s: the replay never stopped" % what)
        time.sleep(0.02)
    return qmp.cmd("itc-icount")["icount"]


def main():
    fswtest.require_fsw()
    d = itctest.private_dir()
    bundle = os.path.join(d, "b")
    r = subprocess.run([ITC, "record", fswtest.FSW_ELF, "-o", bundle, "--until",
                        "icount:450000000", "--checkpoint-every", "100000000"],
                       capture_output=True, text=True, env=dict(os.environ, TMPDIR=d))
    check_eq(r.returncode, 0, "itc record: %s" % r.stderr[-1500:])
    log = os.path.join(d, "replay.bin")
    subprocess.run(["zstd", "-q", "-d", os.path.join(bundle, "replay.bin.zst"), "-o", log],
                   check=True)
    # the checkpoints from the bundle's store, as qcow2 internal snapshots
    qcow2 = os.path.join(d, "ckpt.qcow2")
    bt.rehydrate(bundle, qcow2, d)

    sock = os.path.join(d, "qmp.sock")
    lst = itctest.qmp_listener(sock)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", "1", "-display", "none",
                       "-monitor", "none",
                       # the recording's three serial ports (itc_fault_channel.c)
                       "-serial", "null", "-serial", "null", "-serial", "null",
                       "-icount", "shift=2,rr=replay,rrfile=%s,rrsnapshot=init" % log,
                       "-drive", "if=none,id=ckpt,file=%s,format=qcow2" % qcow2,
                       "-kernel", os.path.join(bundle, "fsw.elf"), "-qmp", "unix:" + sock, "-S"],
                      stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    qmp = itctest.accept_qmp(lst, p)

    # seek to 5e7 (runs from "init"), then at once to 2.5e8: loads ckpt-0002
    # while the break at 5e7 is still armed -> used to abort
    qmp.hmp("replay_seek 50000000")
    out = qmp.hmp("replay_seek 250000000")
    if p.poll() is not None:
        check(False, "QEMU aborted on a second replay_seek: %s %s"
              % (out, p.stderr.read().decode()[-600:]))
    check_eq(wait_stopped(qmp, p, "seek 2.5e8"), 250000000, "icount after the second seek")

    # forward across a checkpoint while running, then backward while running
    for target in (380000000, 120000000, 130000000):
        qmp.cmd("cont")
        qmp.hmp("replay_seek %d" % target)
        check_eq(wait_stopped(qmp, p, "seek %d" % target), target, "icount after seek")

    # itc-replay-goto on a running replay: refused, replay unaffected
    qmp.hmp("replay_break 300000000")
    qmp.cmd("cont")
    try:
        qmp.cmd("itc-replay-goto", icount=10)
        check(False, "itc-replay-goto accepted a running VM")
    except itctest.TestFailure as e:
        check("running" in str(e), "itc-replay-goto on a running VM: %s" % e)
    check_eq(wait_stopped(qmp, p, "break 3e8"), 300000000, "the break still hits")
    # and on a stopped one: backwards through ckpt-0001, exactly
    res = qmp.cmd("itc-replay-goto", icount=150000000)
    check_eq(res.get("snapshot"), "ckpt-0001", "checkpoint loaded for 1.5e8")
    check(res["pending"], "1.5e8 is not a checkpoint: a resume is needed")
    qmp.cmd("cont")
    check_eq(wait_stopped(qmp, p, "goto 1.5e8"), 150000000, "itc-replay-goto position")
    qmp.cmd("quit")
    p.wait(10)


itctest.run_test(main)
