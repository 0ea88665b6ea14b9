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
page unzeroed fails the digest.  Then the whole again, after the loads.

All of it twice: with the gr740 default, where a snapshot sends a run of
known-zero pages as one zero-run record (patch 0027), and with
snapshot-zero-runs=off, where it sends one record per page and a load
skips the runs of known-zero pages (patch 0026).  The snapshots must be
a fraction of the size with runs; a run record claiming pages past its
RAM block makes the load fail with a message."""
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


# 256 MiB of RAM in 4 KiB pages, a 9-byte record each without runs
PAGE_RECORDS_BYTES = 65536 * 9


def find_run_record(data):
    """Offset of the count of a zero-run record continuing its block (flags
    0x422: zero, run, continue) of at least 2 pages, or -1."""
    for i in range(0, len(data) - 13):
        if data[i + 6] & 0x0f == 0x04 and data[i + 7] == 0x22 and data[i + 12] == 0:
            addr = int.from_bytes(data[i:i + 8], "big") & ~0xfff
            n = int.from_bytes(data[i + 8:i + 12], "big")
            if addr < 256 << 20 and 2 <= n <= 65536 and addr + n * 4096 <= 256 << 20:
                return i + 8
    return -1


def run(d, elf, rnd, zero_runs):
    img = os.path.join(d, "snap-%s.qcow2" % zero_runs)
    subprocess.run([itctest.QEMU_IMG, "create", "-q", "-f", "qcow2", img, "1M"], check=True)
    sock = os.path.join(d, "qmp-%s" % zero_runs)
    lst = itctest.qmp_listener(sock)
    err = open(os.path.join(d, "qemu-%s.stderr" % zero_runs), "w")
    machine = "gr740" if zero_runs else "gr740,snapshot-zero-runs=off"
    p = itctest.spawn([itctest.QEMU, "-M", machine, "-smp", "1", "-display", "none",
                       "-monitor", "none", "-serial", "null", "-icount", "shift=2",
                       "-drive", "if=none,id=snap,format=qcow2,file=" + img,
                       "-kernel", elf, "-qmp", "unix:" + sock, "-S"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    q = itctest.accept_qmp(lst, p)
    check_eq(q.hmp("savevm start").strip(), "", "savevm before the guest runs says")
    q.cmd("cont")

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

    # the size of a snapshot taken before the guest ran (its RAM is zero
    # but for the program): a record per page, or runs
    q.cmd("stop")
    path = os.path.join(d, "start-%s.stream" % zero_runs)
    size = q.cmd("itc-snapshot-export", name="start", path=path)["size"]
    with open(path, "rb") as f:
        data = bytearray(f.read())
    check_eq(size, len(data), "exported stream size")
    off = find_run_record(data)
    if zero_runs:
        check(size < PAGE_RECORDS_BYTES // 4,
              "a snapshot with zero-run records is %d bytes, not under %d"
              % (size, PAGE_RECORDS_BYTES // 4))
        check(off > 0, "the snapshot holds a zero-run record")
        # a run past the end of its RAM block: the load fails and says so
        data[off:off + 4] = (0x7fffffff).to_bytes(4, "big")
        bad = os.path.join(d, "bad.stream")
        with open(bad, "wb") as f:
            f.write(data)
        q.cmd("itc-snapshot-import", name="bad", path=bad, icount=0, **{"vm-clock-ns": 0})
        out = q.hmp("loadvm bad")
        check("Bad run of 2147483647 zero pages" in out,
              "loadvm of a stream with a bad zero run says so: %r" % out)
    else:
        check(size > PAGE_RECORDS_BYTES,
              "without runs a snapshot has a record per page: %d bytes" % size)
        check_eq(off, -1, "offset of a zero-run record in a snapshot without runs")
    q.cmd("quit")
    p.wait(10)


def main():
    itctest.require_sparc_cc()
    rnd = random.Random(SEED)
    print("seed %d (ITC_TEST_SEED=%d to repeat)" % (SEED, SEED))
    d = itctest.private_dir()
    elf = itctest.assemble_guest(d, GUEST)
    for zero_runs in (True, False):
        run(d, elf, rnd, zero_runs)
    print("2x28 snapshots of a guest sweeping 768 pages hold the RAM of their instant, "
          "with zero-run records and without")


itctest.run_test(main)
