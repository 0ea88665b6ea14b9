#!/usr/bin/env python3
"""Guest cannot crash the host: seeded random reads and writes of widths
1, 2 and 4 at random (also unaligned) offsets in every device region of
-M gr740, interleaved with virtual clock steps.  QEMU must stay alive and
keep answering.

The regions are every I/O region of the system address space as "info
mtree" lists them (devices, unimplemented areas, plug&play, unassigned APB
space), plus the fixed list of GR740 device windows below, so a device
that forgot to map itself is still hit at its address.

Reproduce a failure with ITC_SEED=<seed printed below>; ITC_MMIO_OPS sets
the number of accesses (default 4000).
"""
# itc-test-timeout: 300
import os
import random
import re
import time

import itctest
from itctest import check

# GR740 device windows (FACTS.md 1): (base, size)
KNOWN = [
    (0xF0000000, 0x1000),   # L2C registers
    (0xFF900000, 0x100000),  # APB bridge 0
    (0xFFA00000, 0x100000),  # APB bridge 1
    (0xFFE00000, 0x3000),   # SDRAM controller, MEMSCRUB, IOMMU
    (0xFFEFF000, 0x1000),   # memory bus plug&play
    (0xFFFFF000, 0x1000),   # AHB plug&play
]


def io_regions(q):
    out = q.qmp.hmp("info mtree")
    regions = []
    in_system = False
    for line in out.splitlines():
        if line.startswith("address-space: memory"):
            in_system = True
            continue
        if line.startswith("address-space:"):
            in_system = False
        if not in_system:
            continue
        m = re.match(r"\s+([0-9a-f]+)-([0-9a-f]+) \(prio (-?\d+), ([\w/]+)\): (\S+)", line)
        if not m or m.group(4) != "i/o" or m.group(5) == "system":
            continue
        lo, hi = int(m.group(1), 16), int(m.group(2), 16)
        regions.append((m.group(5), lo, hi - lo + 1))
    return regions


def main():
    seed = int(os.environ.get("ITC_SEED", time.time_ns() % 2**32))
    nops = int(os.environ.get("ITC_MMIO_OPS", "4000"))
    print("seed %d (ITC_SEED=%d to reproduce), %d accesses" % (seed, seed, nops))
    rng = random.Random(seed)

    q = itctest.Qtest(qmp=True, extra=["-serial", "null", "-serial", "null"])
    regions = io_regions(q)
    check(len(regions) >= 10, "info mtree listed only %d I/O regions" % len(regions))
    names = {r[0] for r in regions}
    for must in ("gr740-l2c", "gr740-ahbstat", "gr740-memscrub", "gr740-pnp.ahb"):
        check(must in names, "region %s not in the memory map" % must)
    regions += [("known@%08x" % b, b, s) for b, s in KNOWN]
    print("%d regions" % len(regions))

    readers = {1: q.readb, 2: q.readw, 4: q.readl}
    writers = {1: q.writeb, 2: q.writew, 4: q.writel}
    hits = {}
    for i in range(nops):
        name, base, size = rng.choice(regions)
        # Favour the register file at the start of each region.
        span = min(size, 0x100) if rng.random() < 0.7 else size
        width = rng.choice((1, 2, 4))
        off = rng.randrange(max(1, span - width + 1))
        if rng.random() < 0.8:
            off &= ~(width - 1)
        addr = base + off
        op = rng.random()
        if op < 0.5:
            readers[width](addr)
        elif op < 0.95:
            writers[width](addr, rng.choice((0, 0xFFFFFFFF, rng.getrandbits(32),
                                             1 << rng.randrange(32))))
        else:
            q.clock_step(rng.randrange(1, 2_000_000))
        hits[name] = hits.get(name, 0) + 1
        if i % 500 == 499:
            check(q.proc.poll() is None, "QEMU died after access %d (seed %d)" % (i, seed))
            q.qmp.cmd("query-status")
    check(q.proc.poll() is None, "QEMU died (seed %d)" % seed)
    # Still answering, and a device still works after the storm: a system
    # reset brings AHBSTAT back to its reset value.
    q.qmp.cmd("system_reset")
    check(q.readl(0xFFA06000) == 0, "AHBSTAT not back at reset after system_reset")
    print("hit %d regions" % len(hits))
    q.close()


itctest.run_test(main)
