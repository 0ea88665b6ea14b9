#!/usr/bin/env python3
"""GR740 GRGPIO ports, driven through their registers, their "in" pin
inputs and observed on their interrupt-bus outputs.

Expected values come from the GRLIB GRGPIO description
(shared/gr740/FACTS.md 3.4): DATA = pin levels (output register for output
lines, the driven level for input lines); IRQMAPR maps line n to a bus
interrupt line (8-bit slots, 5-bit values, line 4k in bits 28:24); IEDGE
chooses edge (1) or level (0), IPOL high/rising (1) or low/falling (0).
GRGPIO0 has 16 lines, GRGPIO1 22 (GR740 UM: "16+22 GPIO").
"""
# itc-test-timeout: 60
import os

import itctest
from itctest import check, check_eq

GPIO0, GPIO1 = 0xFF902000, 0xFFA05000
APB_PNP = {GPIO0: 0xFF9FF000, GPIO1: 0xFFAFF000}  # top 4 KiB of each APB bridge
GAISLER_GPIO = 0x01A
DATA, OUTPUT, DIRECTION, IMASK, IPOL, IEDGE, BYPASS, CAP = range(0, 0x20, 4)
IRQMAPR = [0x20 + 4 * k for k in range(8)]
IAVAIL, IFLAG, IPEN, PULSE = 0x40, 0x44, 0x48, 0x4C
LOR, LAND, LXOR = 0x50, 0x60, 0x70  # + OUTPUT/DIRECTION/IMASK offsets


class Port:
    def __init__(self, q, base, path):
        self.q, self.base, self.path = q, base, path

    def r(self, off):
        return self.q.readl(self.base + off)

    def w(self, off, v):
        self.q.writel(self.base + off, v)

    def pin(self, n, level):
        itctest.qtest_set_irq_in(self.q, self.path, "in", n, level)

    def map(self, line, bus):
        """Map GPIO line to bus interrupt line, keeping the other slots."""
        reg = IRQMAPR[line // 4]
        shift = 24 - 8 * (line % 4)
        v = self.r(reg) & ~(0xFF << shift)
        self.w(reg, v | (bus << shift))


def pnp_irq(q, base):
    """The IRQ field of the GRGPIO plug&play record whose BAR is @base:
    software computes bus line = IRQ + IRQMAP[n] (GRLIB IRQGEN = 1)."""
    pnp = APB_PNP[base]
    bridge = pnp & 0xFFF00000
    for slot in range(512):
        ident = q.readl(pnp + 8 * slot)
        bar = q.readl(pnp + 8 * slot + 4)
        if ident >> 24 == 1 and (ident >> 12) & 0xFFF == GAISLER_GPIO and \
                bridge + (((bar >> 20) & 0xFFF) << 8) == base:
            return ident & 0x1F
    raise itctest.TestFailure("no GRGPIO plug&play record for 0x%08x" % base)


def bus(q, base, mapval):
    line = (pnp_irq(q, base) + mapval) & 31
    check(line != 0, "test map value %d lands on bus line 0" % mapval)
    return line


def events(q):
    ev = list(q.irq_events)
    q.irq_events.clear()
    return ev


def test_reset_and_masks(q):
    for base, path, lines in ((GPIO0, "/machine/grgpio0", 16), (GPIO1, "/machine/grgpio1", 22)):
        p = Port(q, base, path)
        m = (1 << lines) - 1
        for off in (DATA, OUTPUT, DIRECTION, IMASK, IPOL, IEDGE, BYPASS, IFLAG, PULSE) + tuple(IRQMAPR):
            check_eq(p.r(off), 0, "%s offset 0x%x after reset" % (path, off))
        # NLINES = lines - 1, IRQGEN = 1 (map registers), IFL, IER, PU
        check_eq(p.r(CAP), (lines - 1) | (1 << 8) | (1 << 16) | (1 << 17) | (1 << 18),
                 "%s CAP" % path)
        check_eq(p.r(IAVAIL), m, "%s IAVAIL: every line can interrupt" % path)
        check_eq(p.r(IPEN), m, "%s input enable resets to all lines" % path)
        for off in (OUTPUT, DIRECTION, IMASK, IPOL, IEDGE, BYPASS, PULSE, IPEN):
            p.w(off, 0xFFFFFFFF)
            check_eq(p.r(off), m, "%s offset 0x%x keeps %d bits" % (path, off, lines))
            p.w(off, m if off == IPEN else 0)
        p.w(DATA, 0xFFFF)
        check_eq(p.r(DATA), 0, "DATA is read-only")
        for k, reg in enumerate(IRQMAPR):
            p.w(reg, 0xFFFFFFFF)
            want = 0
            for i in range(4):
                if 4 * k + i < lines:
                    want |= 0x1F << (24 - 8 * i)
            check_eq(p.r(reg), want, "%s IRQMAPR%d: 5-bit slots of existing lines" % (path, k))
            p.w(reg, 0)
        # IMASK = all ones with IPOL = 0 made every (low) line interrupt
        check_eq(p.r(IFLAG), m, "%s IFLAG flagged the active-low lines" % path)
        p.w(IFLAG, 0xFFFFFFFF)
        check_eq(p.r(IFLAG), 0, "%s IFLAG write-1-to-clear" % path)


def test_output_direction_data(q):
    p = Port(q, GPIO0, "/machine/grgpio0")
    p.w(DIRECTION, 0x00FF)
    p.w(OUTPUT, 0x0F0F)
    check_eq(p.r(DATA), 0x000F, "DATA: output lines show OUTPUT, inputs are low")
    p.pin(13, 1)
    p.pin(3, 0)  # an output line: the external level does not matter
    check_eq(p.r(DATA), 0x200F, "input pin 13 driven high")
    p.w(DIRECTION, 0x20FF)
    check_eq(p.r(DATA), 0x000F, "line 13 turned output drives OUTPUT (0)")
    p.w(DIRECTION, 0x00FF)
    check_eq(p.r(DATA), 0x200F, "line 13 input again shows the pin")
    p.w(IPEN, 0xDFFF)
    check_eq(p.r(DATA), 0x000F, "input enable cleared: line 13 reads 0")
    p.w(IPEN, 0xFFFF)
    # logical aliases
    p.w(LOR + OUTPUT, 0x00F0)
    check_eq(p.r(OUTPUT), 0x0FFF, "LOR_OUTPUT sets bits")
    p.w(LAND + OUTPUT, 0xFF3C)
    check_eq(p.r(OUTPUT), 0x0F3C, "LAND_OUTPUT clears bits")
    p.w(LXOR + OUTPUT, 0x0101)
    check_eq(p.r(OUTPUT), 0x0E3D, "LXOR_OUTPUT toggles bits")
    p.w(LOR + DIRECTION, 0xFF00)
    check_eq(p.r(DIRECTION), 0xFFFF, "LOR_DIRECTION")
    p.w(LXOR + DIRECTION, 0x00FF)
    check_eq(p.r(DIRECTION), 0xFF00, "LXOR_DIRECTION")
    p.w(LAND + DIRECTION, 0)
    check_eq(p.r(DIRECTION), 0, "LAND_DIRECTION")
    p.w(LOR + IMASK, 0x8001)
    p.w(LXOR + IMASK, 0x0003)
    p.w(LAND + IMASK, 0x8002)
    check_eq(p.r(IMASK), 0x8002, "IMASK aliases")
    p.w(IMASK, 0)
    p.w(OUTPUT, 0)
    p.pin(13, 0)


def test_level_interrupts(q):
    p = Port(q, GPIO0, "/machine/grgpio0")
    L20, L3 = bus(q, GPIO0, 20), bus(q, GPIO0, 3)
    p.w(IFLAG, 0xFFFF)  # earlier IMASK tests flagged active-low lines
    check_eq(p.r(IFLAG), 0, "IFLAG clear before the test")
    p.map(5, 20)
    check_eq(p.r(IRQMAPR[1]), 20 << 16, "line 5 in IRQMAPR1 bits 20:16")
    p.w(IPOL, 1 << 5)          # active high
    events(q)
    p.w(IMASK, 1 << 5)
    check_eq(events(q), [], "pin low: no interrupt")
    p.pin(5, 1)
    check_eq(events(q), [("raise", L20)], "level-high interrupt on the mapped bus line")
    check(p.r(IFLAG) & (1 << 5), "IFLAG set for line 5")
    p.pin(5, 0)
    check_eq(events(q), [("lower", L20)], "level interrupt drops with the pin")
    p.w(IFLAG, 1 << 5)
    check_eq(p.r(IFLAG), 0, "IFLAG write-1-to-clear")
    p.w(IPOL, 0)               # active low: pin is low now
    check_eq(events(q), [("raise", L20)], "active-low level asserts at once")
    p.w(IMASK, 0)
    check_eq(events(q), [("lower", L20)], "masking drops the level")
    # two lines on one bus line: OR
    p.map(6, 20)
    p.w(IPOL, (1 << 5) | (1 << 6))
    p.w(IMASK, (1 << 5) | (1 << 6))
    p.pin(5, 1)
    p.pin(6, 1)
    p.pin(5, 0)
    check_eq(events(q), [("raise", L20)], "bus line stays up while one mapped line is active")
    p.pin(6, 0)
    check_eq(events(q), [("lower", L20)], "drops when no mapped line is active")
    # a map value that lands on bus line 0: no interrupt
    p.map(6, -pnp_irq(q, GPIO0) & 31)
    p.pin(6, 1)
    check_eq(events(q), [], "a line mapped to bus line 0 does not interrupt")
    p.pin(6, 0)
    # an output line interrupts on its own output value
    p.w(IMASK, 0)
    p.map(7, 3)
    p.w(DIRECTION, 1 << 7)
    p.w(IPOL, 1 << 7)
    p.w(IMASK, 1 << 7)
    p.w(OUTPUT, 1 << 7)
    check_eq(events(q), [("raise", L3)], "output line level interrupt")
    p.w(OUTPUT, 0)
    check_eq(events(q), [("lower", L3)], "output line level released")
    for off in (IMASK, IPOL, DIRECTION, IFLAG):
        p.w(off, 0xFFFF if off == IFLAG else 0)


def test_edge_interrupts(q):
    p = Port(q, GPIO1, "/machine/grgpio1")
    L17 = bus(q, GPIO1, 17)
    q.irq_events.clear()
    p.map(21, 17)
    check_eq(p.r(IRQMAPR[5]), 17 << 16, "line 21 in IRQMAPR5 bits 20:16")
    p.w(IEDGE, 1 << 21)
    p.w(IPOL, 1 << 21)         # rising
    p.w(IMASK, 1 << 21)
    p.pin(21, 1)
    check_eq(events(q), [("raise", L17), ("lower", L17)], "rising edge pulses the mapped bus line")
    p.pin(21, 1)
    check_eq(events(q), [], "no edge, no interrupt")
    p.pin(21, 0)
    check_eq(events(q), [], "falling edge ignored with IPOL=1")
    p.w(IPOL, 0)               # falling
    p.pin(21, 1)
    check_eq(events(q), [], "rising edge ignored with IPOL=0")
    p.pin(21, 0)
    check_eq(events(q), [("raise", L17), ("lower", L17)], "falling edge pulses")
    check(p.r(IFLAG) & (1 << 21), "IFLAG set by the edge")
    p.w(IMASK, 0)
    p.pin(21, 1)
    p.pin(21, 0)
    check_eq(events(q), [], "masked line: no interrupt")
    p.w(IEDGE, 0)
    p.w(IFLAG, 0xFFFFFFFF)


def test_on_grgpio0():
    q = itctest.Qtest()
    test_reset_and_masks(q)
    test_output_direction_data(q)
    q.irq_intercept_out("/machine/grgpio0", "sysbus-irq")
    test_level_interrupts(q)
    q.close()
    q = itctest.Qtest()
    q.irq_intercept_out("/machine/grgpio1", "sysbus-irq")
    test_edge_interrupts(q)
    q.close()


def test_out_pins():
    q = itctest.Qtest()
    q.irq_intercept_out("/machine/grgpio0", "out")
    p = Port(q, GPIO0, "/machine/grgpio0")
    p.w(OUTPUT, 1 << 4)
    check_eq(events(q), [], "OUTPUT of an input line does not drive the pin")
    p.w(DIRECTION, 1 << 4)
    check_eq(events(q), [("raise", 4)], "pin 4 driven high once it is an output")
    p.pin(2, 1)
    check_eq(events(q), [("raise", 2)], "an input pin's level is visible on out[2]")
    q.close()


def test_vmstate_round_trip():
    d = itctest.private_dir()
    mig = os.path.join(d, "gpio.mig")
    regs = [DATA, OUTPUT, DIRECTION, IMASK, IPOL, IEDGE, BYPASS, CAP] + IRQMAPR + \
           [IAVAIL, IFLAG, IPEN, PULSE]

    def setup(q):
        p = Port(q, GPIO1, "/machine/grgpio1")
        p.w(DIRECTION, 0x0000FF)
        p.w(OUTPUT, 0x3000A5)
        p.w(BYPASS, 0x123)
        p.w(PULSE, 0x10)
        p.map(10, 12)
        p.map(11, 13)
        p.w(IEDGE, 1 << 11)
        p.w(IPOL, 1 << 10)     # line 10 level high, line 11 falling edge
        p.w(IMASK, (1 << 10) | (1 << 11))
        p.pin(10, 1)
        p.pin(11, 1)
        p.pin(20, 1)
        p.w(IPEN, 0x2FFFFF)

    def observe(q):
        p = Port(q, GPIO1, "/machine/grgpio1")
        q.irq_intercept_out("/machine/grgpio1", "sysbus-irq")
        out = [p.r(o) for o in regs]
        p.pin(11, 0)     # falling edge: needs the level sampled before the save
        p.pin(10, 0)     # level drops (qtest reports no "lower" it never saw raised)
        p.pin(10, 1)
        out.append(events(q))
        out += [p.r(o) for o in regs]
        return out

    a = itctest.Qtest(qmp=True)
    setup(a)
    a.qmp.cmd("stop")
    a.qmp.cmd("migrate", uri="file:" + mig)
    itctest.wait_migration(a.qmp)
    a.close()
    ref = itctest.Qtest(qmp=True)
    setup(ref)
    want = observe(ref)
    b = itctest.Qtest(qmp=True, extra=["-incoming", "file:" + mig])
    itctest.wait_incoming(b.qmp)
    got = observe(b)
    check_eq(got, want, "GRGPIO1 after load vs an uninterrupted run")
    L12, L13 = bus(ref, GPIO1, 12), bus(ref, GPIO1, 13)
    check_eq(want[len(regs)], [("raise", L13), ("lower", L13), ("raise", L12)],
             "reference run saw the edge and the level change")


def body():
    test_on_grgpio0()
    test_out_pins()
    test_vmstate_round_trip()


itctest.run_test(body)
