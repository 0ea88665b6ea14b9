#!/usr/bin/env python3
"""The qcow2 snapshot table written at once (patch 0023) is the table QEMU
and qemu-img read back.

A paused QEMU imports 26 VM states (random bytes of random sizes, so their
clusters differ) as internal snapshots whose names have every length from 1
to 26 (every length modulo 8, so the padding between table entries varies;
one is "3", the ID of another snapshot) and random icounts, and replaces two
of them (a delete, then a create).
After it quits, `qemu-img check` finds no error, `qemu-img snapshot -l`
lists exactly those names with their icounts, and a second QEMU exports
each snapshot's VM state byte for byte as it was last imported."""
# itc-test-timeout: 300
import os
import random
import re
import subprocess
import time

import itctest
from itctest import check, check_eq

N = 26


def start_qemu(d, name, qcow2):
    sock = os.path.join(d, name + ".qmp")
    lst = itctest.qmp_listener(sock)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", "1", "-display", "none",
                       "-monitor", "none", "-serial", "null", "-icount", "shift=2",
                       "-drive", "if=none,id=ckpt,format=qcow2,cache=unsafe,file=" + qcow2,
                       "-qmp", "unix:" + sock, "-kernel",
                       os.path.join(itctest.FSW, "hello.elf"), "-S"],
                      stderr=open(os.path.join(d, name + ".err"), "w"))
    return p, itctest.accept_qmp(lst, p)


def quit_qemu(p, qmp):
    qmp.cmd("quit")
    p.wait(30)


def main():
    seed = int(os.environ.get("ITC_TEST_SEED") or time.time()) & 0xFFFF
    print("seed %d (ITC_TEST_SEED=%d to repeat)" % (seed, seed))
    rnd = random.Random(seed)
    d = itctest.private_dir()
    qcow2 = os.path.join(d, "ckpt.qcow2")
    subprocess.run([itctest.QEMU_IMG, "create", "-q", "-f", "qcow2", qcow2, "1M"], check=True)

    # a letter first (qcow2 looks a name up as a snapshot ID first), except
    # "3": the ID of the third snapshot, which export must not confuse
    names = ["3"] + [rnd.choice("abcdefghijklmnopqrstuvwxyz") +
                     "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz-0123456789")
                             for _ in range(n - 1)) for n in range(2, N + 1)]
    want = {}
    p, qmp = start_qemu(d, "import", qcow2)
    for i, name in enumerate(names + rnd.sample(names, 2)):
        data = rnd.randbytes(rnd.randrange(1000, 300000))
        path = os.path.join(d, "in-%d.bin" % i)
        with open(path, "wb") as f:
            f.write(data)
        icount = rnd.randrange(0, 10**10)
        r = qmp.cmd("itc-snapshot-import", name=name, path=path, icount=icount,
                    **{"vm-clock-ns": icount * 4})
        check_eq(r["size"], len(data), "imported size of %s" % name)
        want[name] = (icount, data)
    quit_qemu(p, qmp)

    r = subprocess.run([itctest.QEMU_IMG, "check", qcow2], capture_output=True, text=True)
    check(r.returncode == 0 and "No errors" in r.stdout,
          "qemu-img check after the imports: %s %s" % (r.stdout, r.stderr))
    r = subprocess.run([itctest.QEMU_IMG, "snapshot", "-l", qcow2], capture_output=True,
                       text=True)
    check(r.returncode == 0, "qemu-img snapshot -l: %s" % r.stderr)
    listed = {}
    for line in r.stdout.splitlines():
        # ID TAG VM_SIZE DATE TIME VM_CLOCK ICOUNT
        f = line.split()
        if len(f) >= 7 and re.fullmatch(r"\d+", f[0]) and f[1] in want:
            listed[f[1]] = int(f[-1])
    check_eq(listed, dict((n, v[0]) for n, v in want.items()),
             "qemu-img snapshot -l: names and icounts")

    p, qmp = start_qemu(d, "export", qcow2)
    for i, name in enumerate(names):
        out = os.path.join(d, "out-%d.bin" % i)
        qmp.cmd("itc-snapshot-export", name=name, path=out)
        with open(out, "rb") as f:
            check(f.read() == want[name][1],
                  "seed %d: snapshot %r exported differs from what was imported" % (seed, name))
    quit_qemu(p, qmp)


itctest.run_test(main)
