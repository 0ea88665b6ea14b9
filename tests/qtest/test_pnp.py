#!/usr/bin/env python3
"""GR740 AMBA plug&play areas, decoded with readl and checked record by
record against a table written here from the GR740 facts
(shared/gr740/FACTS.md 1 and 4: addresses, Gaisler device ids) and the
interrupt lines the project assigned in hw/itc/gr740.h (see its comment).

Record formats (GR740-UM-DS sect. 38.2.2, FACTS.md 4.1):
  id word: VENDOR[31:24] DEVICE[23:12] VERSION[9:5] IRQ[4:0]
  AHB BAR: ADDR[31:20] P[17] C[16] MASK[15:4] TYPE[3:0] (2 mem, 3 I/O)
  APB BAR: ADDR[31:20] (= address bits 19:8) MASK[15:4] TYPE = 1

The areas must list exactly the devices the machine instantiates: the set
of decoded records is compared with the expected records of the devices
that exist under /machine (QMP qom-list), and every record's address must
be where that device answers.
"""
# itc-test-timeout: 120
import itctest
from itctest import check, check_eq

GAISLER = 0x01
AHB_PNP = 0xFFFFF000
MEM_PNP = 0xFFEFF000
MEM_IOAREA = 0xFFE00000
AHB_IOAREA = 0xFFF00000
APB = {0: 0xFF900000, 1: 0xFFA00000}
GiB, MiB = 1 << 30, 1 << 20

# Gaisler device ids (FACTS.md 4.2 / RTEMS ambapp_ids.h)
LEON4, APBMST, L2CACHE, FTMCTRL, FTSDCTRL64, MEMSCRUB = 0x048, 0x006, 0x04B, 0x054, 0x058, 0x057
APBUART, IRQMP, GPTIMER, GPIO, CLKGATE, AHBSTAT, GR740THS = \
    0x00C, 0x00D, 0x011, 0x01A, 0x02C, 0x052, 0x099

# (QOM child or None = always present, device, irq, ((start, size, kind), ...))
# kind: "mem", "mem-pc" (prefetchable+cacheable), "io", "apb"
AHB_SLAVES = [
    ("l2c", L2CACHE, 28, ((0x00000000, 2 * GiB, "mem-pc"), (0xF0000000, 128 * MiB, "mem"))),
    (None, APBMST, 0, ((0xFF900000, 1 * MiB, "mem"),)),
    (None, APBMST, 0, ((0xFFA00000, 1 * MiB, "mem"),)),
    ("ftmctrl", FTMCTRL, 0, ((0xC0000000, 256 * MiB, "mem-pc"), (0xD0000000, 256 * MiB, "mem"))),
]
MEM_SLAVES = [
    ("sdctrl", FTSDCTRL64, 0, ((0x00000000, 2 * GiB, "mem-pc"), (0xFFE00000, 0x100, "io"))),
    ("memscrub", MEMSCRUB, 26, ((0xFFE01000, 0x100, "io"),)),
]
APB_SLAVES = {
    0: [
        ("apbuart0", APBUART, 29, 0xFF900000, 0x100),
        ("apbuart1", APBUART, 30, 0xFF901000, 0x100),
        ("grgpio0", GPIO, 0, 0xFF902000, 0x100),
        ("ftmctrl", FTMCTRL, 0, 0xFF903000, 0x100),
        ("irqamp", IRQMP, 0, 0xFF904000, 0x4000),
        ("gptimer0", GPTIMER, 1, 0xFF908000, 0x100),
        ("gptimer1", GPTIMER, 6, 0xFF909000, 0x100),
        ("gptimer2", GPTIMER, 7, 0xFF90A000, 0x100),
        ("gptimer3", GPTIMER, 8, 0xFF90B000, 0x100),
        ("gptimer4", GPTIMER, 9, 0xFF90C000, 0x100),
    ],
    1: [
        ("clkgate", CLKGATE, 0, 0xFFA04000, 0x100),
        ("grgpio1", GPIO, 0, 0xFFA05000, 0x100),
        ("ahbstat", AHBSTAT, 27, 0xFFA06000, 0x100),
        ("thsens", GR740THS, 0, 0xFFA0A000, 0x100),
    ],
}


def decode_id(w):
    return (w >> 24) & 0xFF, (w >> 12) & 0xFFF, (w >> 5) & 0x1F, w & 0x1F


def decode_ahb_bar(w, ioarea):
    if w == 0:
        return None
    typ = w & 0xF
    mask = (w >> 4) & 0xFFF
    addr = (w >> 20) & 0xFFF
    if typ == 2:
        start = addr << 20
        size = ((~(mask << 20)) & 0xFFFFFFFF) + 1
        kind = "mem-pc" if (w >> 16) & 3 == 3 else "mem"
        check((w >> 16) & 3 in (0, 3), "BAR %08x: P/C bits must be both or none here" % w)
    elif typ == 3:
        start = ioarea | (addr << 8)
        size = ((~(mask << 8)) & 0xFFFFF) + 1
        kind = "io"
    else:
        raise itctest.TestFailure("AHB BAR %08x has type %d" % (w, typ))
    return (start, size, kind)


def read_area(q, base, nwords):
    return [q.readl(base + 4 * i) for i in range(nwords)]


def ahb_records(q, base, ioarea, first, count):
    recs = []
    for n in range(count):
        w = read_area(q, base + first + 32 * n, 8)
        if w[0] == 0:
            check(all(x == 0 for x in w), "AHB record at %#x: id 0 but other words set" % (base + first + 32 * n))
            continue
        vendor, dev, ver, irq = decode_id(w[0])
        check_eq(vendor, GAISLER, "vendor of AHB record at %#x" % (base + first + 32 * n))
        bars = tuple(b for b in (decode_ahb_bar(x, ioarea) for x in w[4:8]) if b)
        recs.append((dev, irq, bars, tuple(w[1:4])))
    return recs


def apb_records(q, bridge):
    recs = []
    base = APB[bridge] + 0xFF000
    for n in range(512):
        idw = q.readl(base + 8 * n)
        bar = q.readl(base + 8 * n + 4)
        if idw == 0:
            check(bar == 0, "APB%d slot %d: id 0 but BAR %08x" % (bridge, n, bar))
            continue
        vendor, dev, ver, irq = decode_id(idw)
        check_eq(vendor, GAISLER, "vendor of APB%d slot %d" % (bridge, n))
        check_eq(bar & 0xF, 1, "APB%d slot %d BAR type" % (bridge, n))
        mask = (bar >> 4) & 0xFFF
        start = APB[bridge] + ((((bar >> 20) & 0xFFF) & mask) << 8)
        size = ((~(mask << 8)) & 0xFFFFF) + 1
        recs.append((dev, irq, start, size))
    return recs


def children(qmp):
    return {p["name"] for p in qmp.cmd("qom-list", path="/machine")
            if p["type"].startswith("child<")}


def present(kids, child):
    return child is None or child in kids


def check_machine(smp):
    q = itctest.Qtest(qmp=True, extra=["-smp", str(smp)])
    kids = children(q.qmp)
    for must in ("l2c", "sdctrl", "memscrub", "ftmctrl", "ahbstat", "clkgate", "thsens",
                 "apbuart0", "apbuart1", "pnp"):
        check(must in kids, "/machine/%s missing (children: %s)" % (must, sorted(kids)))

    # AHB masters: one LEON4 per CPU, at master index = CPU index.
    masters = ahb_records(q, AHB_PNP, AHB_IOAREA, 0, 64)
    check_eq(sorted(m[:2] for m in masters), [(LEON4, 0)] * smp, "AHB masters (-smp %d)" % smp)
    for n in range(smp):
        check_eq(decode_id(q.readl(AHB_PNP + 32 * n))[1], LEON4, "master %d" % n)

    got = sorted(r[:3] for r in ahb_records(q, AHB_PNP, AHB_IOAREA, 0x800, 64))
    want = sorted((d, i, b) for c, d, i, b in AHB_SLAVES if present(kids, c))
    check_eq(got, want, "processor AHB bus slave records")
    # The L2C record leads to the memory bus: user word 2 = its I/O area.
    l2 = [r for r in ahb_records(q, AHB_PNP, AHB_IOAREA, 0x800, 64) if r[0] == L2CACHE]
    check_eq(l2[0][3][1], MEM_IOAREA, "L2C record user word 2 (memory bus I/O area)")

    got = sorted(r[:3] for r in ahb_records(q, MEM_PNP, MEM_IOAREA, 0x800, 64))
    want = sorted((d, i, b) for c, d, i, b in MEM_SLAVES if present(kids, c))
    check_eq(got, want, "memory AHB bus slave records")
    check_eq(ahb_records(q, MEM_PNP, MEM_IOAREA, 0, 64), [], "memory bus master records")

    for bridge in (0, 1):
        got = sorted(apb_records(q, bridge))
        want = sorted((d, i, a, s) for c, d, i, a, s in APB_SLAVES[bridge] if c in kids)
        check_eq(got, want, "APB bridge %d records" % bridge)

    # Devices that report their interrupt line in a register too must agree
    # (GPTIMER CONFIG.IRQ[7:3], CONFIG.SI[8] for the separate-line unit 0).
    for c, d, i, a, s in APB_SLAVES[0]:
        if d == GPTIMER and c in kids:
            cfg = q.readl(a + 8)
            check_eq((cfg >> 3) & 0x1F, i, "%s CONFIG.IRQ" % c)
            check_eq((cfg >> 8) & 1, int(c == "gptimer0"), "%s CONFIG.SI" % c)

    # Read-only: writes are ignored.
    before = q.readl(AHB_PNP)
    q.writel(AHB_PNP, 0)
    check_eq(q.readl(AHB_PNP), before, "AHB PnP after a write")
    q.writel(APB[0] + 0xFF000, 0)
    check_eq(q.readl(APB[0] + 0xFF000) >> 12, (GAISLER << 12) | APBUART, "APB PnP slot 0 after a write")
    # Sub-word reads see the big-endian record bytes.
    check_eq(q.readb(AHB_PNP), GAISLER, "byte 0 of master record 0 (vendor)")
    check_eq(q.readw(AHB_PNP + 2), before & 0xFFFF, "low half of master record 0")
    return q, kids


def check_irq_wiring(q, kids):
    """With the interrupt controller present, a UART0 TX interrupt must reach
    the line its plug&play record names (29)."""
    if "irqamp" not in kids:
        print("note: /machine/irqamp not present yet, interrupt wiring not checked")
        return
    q.irq_intercept_in("/machine/irqamp")
    uart = 0xFF900000
    q.writel(uart + 0x08, (1 << 1) | (1 << 3))  # TE | TI
    q.writel(uart + 0x00, 0x41)
    q.clock_step(10_000_000)
    lines = {n for what, n in q.irq_events if what == "raise"}
    check(29 in lines, "UART0 TX interrupt did not raise IRQ(A)MP input 29 (raised: %s)" % sorted(lines))
    # Error reporters, through their fault-injection hook: each must reach
    # the line of its plug&play record (AHBSTAT 27, MEMSCRUB 26, L2C 28).
    q.writel(0xF0000020, 0xF << 8)  # L2CERR.IRQ_MASK: all
    for child, line in (("ahbstat", 27), ("memscrub", 26), ("l2c", 28)):
        q.irq_events.clear()
        q.qmp.cmd("qom-set", path="/machine/" + child, property="inject-error", value=0x1000)
        q.clock()  # a qtest round trip: collects the IRQ lines sent meanwhile
        lines = {n for what, n in q.irq_events if what == "raise"}
        check_eq(lines, {line}, "IRQ(A)MP inputs raised by a %s error" % child)


def main():
    q, kids = check_machine(4)
    check_irq_wiring(q, kids)
    q.close()
    q, _ = check_machine(2)
    q.close()


itctest.run_test(main)
