#!/usr/bin/env python3
"""Snapshots skip reading RAM pages known to be zero (patch 0013,
migration/ram.c): each savevm must still hold exactly the RAM of its instant.

A guest sweeps 768 pages over and over, storing a non-zero word into each
page on odd sweeps and zero on even ones, so between two snapshots pages go
from zero to non-zero and back; between snapshots a fault injection also
flips a bit in a page that was zero (a write from outside the CPU).  For
each of the snapshots the RAM digest (itc-ram-digest) is taken right after
the savevm; loading each snapshot afterwards, in another order, must give
that digest back.  A snapshot that called a written page zero fails this.
Loads skip zero pages known to be zero too, so between the loads the guest
runs and a fault flips a bit in another zero page: a load that left such a
page unzeroed fails the digest.  Then the whole again, after the loads."""
# itc-test-timeout: 300
import os
import random
import subprocess
import time

import itctest
from itctest import check, check_eq

GUEST = r"""
    .section .text.start, "ax"
    .global _start
_start:
    mov     1, %g5                  ! sweep number
1:  set     0x100000, %g2           ! first page
    set     0x400000, %g3           ! end: 768 pages
    set     4096, %g7
    andcc   %g5, 1, %g0
    be      2f
     mov    %g0, %g4                ! even sweep: store zero
    mov     %g5, %g4                ! odd sweep: store the sweep number
2:  st      %g4, [%g2 + 0x10]
    set     1500, %g6               ! a while on each page
3:  subcc   %g6, 1, %g6
    bne     3b
     nop
    add     %g2, %g7, %g2
    cmp     %g2, %g3
    bne     2b
     nop
    ba      1b
     add    %g5, 1, %g5
"""

SEED = int(os.environ.get("ITC_TEST_SEED", random.randrange(1 << 16)))


def main():
    itctest.require_sparc_cc()
    rnd = random.Random(SEED)
    print("seed %d (ITC_TEST_SEED=%d to repeat)" % (SEED, SEED))
    d = itctest.private_dir()
    elf = itctest.assemble_guest(d, GUEST)
    img = os.path.join(d, "snap.qcow2")
    subprocess.run([itctest.QEMU_IMG, "create", "-q", "-f", "qcow2", img, "1M"], check=True)
    sock = os.path.join(d, "qmp")
    lst = itctest.qmp_listener(sock)
    err = open(os.path.join(d, "qemu.stderr"), "w")
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", "1", "-display", "none",
                       "-monitor", "none", "-serial", "null", "-icount", "shift=2",
                       "-drive", "if=none,id=snap,format=qcow2,file=" + img,
                       "-kernel", elf, "-qmp", "unix:" + sock],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    q = itctest.accept_qmp(lst, p)

    def savevm(name):
        q.cmd("stop")
        out = q.hmp("savevm " + name)
        check_eq(out.strip(), "", "savevm %s says" % name)
        r = q.cmd("itc-ram-digest")
        q.cmd("cont")
        return r

    def loadvm_digest(name):
        out = q.hmp("loadvm " + name)
        check_eq(out.strip(), "", "loadvm %s says" % name)
        return q.cmd("itc-ram-digest")["sha256"]

    for rnd_pass in ("first", "after a loadvm"):
        digests = {}
        for i in range(14):
            time.sleep(rnd.uniform(0.005, 0.06))
            if i % 3 == 2:
                # a page no sweep touches, zero until now
                q.cmd("itc-inject-fault", kind="mem-seu",
                      target="0x%x" % (0x800000 + 4096 * (len(digests) + 20 * (rnd_pass != "first"))),
                      mask=1 << rnd.randrange(32))
            name = "s%d-%d" % (rnd_pass == "first", i)
            r = savevm(name)
            digests[name] = r["sha256"]
        check(len(set(digests.values())) > len(digests) // 2,
              "the guest changed RAM between snapshots (%d distinct digests of %d)"
              % (len(set(digests.values())), len(digests)))
        q.cmd("stop")
        names = list(digests)
        rnd.shuffle(names)
        for k, name in enumerate(names):
            check_eq(loadvm_digest(name), digests[name],
                     "RAM digest after loadvm %s (%s round) vs at its savevm" % (name, rnd_pass))
            # the guest (and a fault) writes after the load, before the next
            q.cmd("cont")
            time.sleep(rnd.uniform(0.005, 0.04))
            if k % 3 == 1:
                q.cmd("itc-inject-fault", kind="mem-seu",
                      target="0x%x" % (0xa00000 + 4096 * (k + 20 * (rnd_pass != "first"))),
                      mask=1 << rnd.randrange(32))
            q.cmd("stop")
        q.cmd("cont")
    q.cmd("quit")
    p.wait(10)
    print("28 snapshots of a guest sweeping 768 pages hold the RAM of their instant")


itctest.run_test(main)
