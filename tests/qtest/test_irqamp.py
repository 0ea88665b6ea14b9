#!/usr/bin/env python3
"""GR740 IRQ(A)MP (/machine/irqamp), driven through its registers, its bus
interrupt inputs (qtest set_irq_in), its watchdog inputs and the processor
acknowledge (QOM property "acknowledge", what a CPU does when it takes the
interrupt trap); the level presented to each processor is observed on the
"cpu-irq" outputs (irq_intercept_out) and read as QOM "cpuN-level".

Expected values come from GR740-UM-DS sect. 21 (shared/gr740/FACTS.md 2 and
3.1): 4 processors, EIRQ 10, 4 internal controllers 0x1000 apart, lines
1..15 with priority level (ILEVEL) 1 before 0 and then the higher number,
lines 16..31 signalled on level 10 with PEXTACK, broadcast into the force
registers, IRQMAP at 0x300 (first controller only), two timestamp sets
counting 250 MHz system clocks.
"""
# itc-test-timeout: 240
import os

import itctest
from itctest import check, check_eq

BASE = 0xFF904000
ILEVEL, IPEND, IFORCE0, ICLEAR, MPSTAT, BRDCST, ERRSTAT, WDOGCTRL = range(0, 0x20, 4)
ASMPCTRL, ICSELR0, ICSELR1 = 0x20, 0x24, 0x28
NCPU, EIRQ = 4, 10
SYS_HZ = 250_000_000
PATH = "/machine/irqamp"


def pimask(n):
    return 0x40 + 4 * n


def piforce(n):
    return 0x80 + 4 * n


def pextack(n):
    return 0xC0 + 4 * n


def itcnt(s):
    return 0x100 + 0x10 * s


def itstmpc(s):
    return 0x104 + 0x10 * s


def itstmpas(s):
    return 0x108 + 0x10 * s


def itstmpac(s):
    return 0x10C + 0x10 * s


def baddr(n):
    return 0x200 + 4 * n


def irqmap(n):
    return 0x300 + 4 * n


class Irqamp:
    def __init__(self, extra=(), intercept=True):
        self.q = itctest.Qtest(qmp=True, extra=list(extra))
        if intercept:
            self.q.irq_intercept_out(PATH, "cpu-irq")

    def r(self, off, ctrl=0):
        return self.q.readl(BASE + 0x1000 * ctrl + off)

    def w(self, off, v, ctrl=0):
        self.q.writel(BASE + 0x1000 * ctrl + off, v)

    def pulse(self, line):
        itctest.qtest_set_irq_in(self.q, PATH, "unnamed-gpio-in", line, 1)
        itctest.qtest_set_irq_in(self.q, PATH, "unnamed-gpio-in", line, 0)

    def set_line(self, line, level):
        itctest.qtest_set_irq_in(self.q, PATH, "unnamed-gpio-in", line, level)

    def level(self, cpu):
        return self.q.qmp.cmd("qom-get", path=PATH, property="cpu%d-level" % cpu)

    def levels(self):
        return [self.level(n) for n in range(NCPU)]

    def ack(self, cpu, level):
        self.q.qmp.cmd("qom-set", path=PATH, property="acknowledge", value=(cpu << 8) | level)

    def close(self):
        self.q.close()


def test_reset_values():
    d = Irqamp(extra=["-d", "guest_errors"])
    mpstat = (3 << 28) | (1 << 27) | (1 << 26) | (EIRQ << 16) | 0b1110
    for c in range(4):
        want = {ILEVEL: 0, IPEND: 0, IFORCE0: 0, ICLEAR: 0, MPSTAT: mpstat, BRDCST: 0,
                ERRSTAT: 0, WDOGCTRL: 4 << 27, ASMPCTRL: 3 << 28, ICSELR0: 0, ICSELR1: 0}
        for n in range(NCPU):
            want.update({pimask(n): 0, piforce(n): 0, pextack(n): 0, baddr(n): 0})
        for s in range(2):
            want.update({itstmpc(s): 2 << 27, itstmpas(s): 0, itstmpac(s): 0})
        for off, v in sorted(want.items()):
            check_eq(d.r(off, c), v, "controller %d offset 0x%03x after reset" % (c, off))
    for n in range(8):
        b = 4 * n
        check_eq(d.r(irqmap(n)), (b << 24) | ((b + 1) << 16) | ((b + 2) << 8) | (b + 3),
                 "IRQMAP%d after reset (identity)" % n)
    check_eq(d.levels(), [0] * NCPU, "levels presented after reset")
    d.close()


def test_pending_mask_clear_and_level_lines():
    d = Irqamp()
    d.pulse(5)
    check_eq(d.r(IPEND), 1 << 5, "IPEND after a pulse on line 5")
    check_eq(d.levels(), [0] * NCPU, "masked: no processor sees line 5")
    check_eq(d.q.irq_events, [], "no cpu-irq change while masked")
    d.w(pimask(0), 1 << 5)
    check_eq(d.levels(), [5, 0, 0, 0], "CPU0 unmasks line 5")
    check_eq(d.q.irq_events, [("raise", 0)], "cpu-irq[0] raised")
    d.w(ICLEAR, 1 << 5)
    check_eq(d.r(IPEND), 0, "ICLEAR clears")
    check_eq(d.q.irq_events[-1], ("lower", 0), "cpu-irq[0] lowered")
    # IPEND is writable; bit 0 does not exist.
    d.w(IPEND, 0xFFFFFFFF)
    check_eq(d.r(IPEND), 0xFFFFFFFE, "IPEND write")
    d.w(ICLEAR, 0xFFFFFFFF)
    # A line held high sets its pending bit again after every clear.
    d.set_line(6, 1)
    d.w(ICLEAR, 1 << 6)
    check_eq(d.r(IPEND), 1 << 6, "line 6 still high: pending again after ICLEAR")
    d.set_line(6, 0)
    check_eq(d.r(IPEND), 1 << 6, "pending stays after the line drops")
    d.w(ICLEAR, 1 << 6)
    check_eq(d.r(IPEND), 0, "cleared once the line is low")
    # The acknowledge clears the pending bit (not the mask).
    d.w(pimask(0), 1 << 7)
    d.pulse(7)
    check_eq(d.level(0), 7, "line 7 presented")
    d.ack(0, 7)
    check_eq((d.r(IPEND), d.level(0), d.r(pimask(0))), (0, 0, 1 << 7),
             "IPEND, level and mask after CPU0 acknowledges level 7")
    d.close()


def test_priority():
    d = Irqamp()
    d.w(pimask(0), 0xFFFE)
    d.pulse(3)
    d.pulse(7)
    check_eq(d.level(0), 7, "level 0 lines: the higher number wins")
    d.w(ILEVEL, 1 << 3)
    check_eq(d.level(0), 3, "ILEVEL 1 beats a higher number on level 0")
    d.pulse(2)
    d.w(ILEVEL, (1 << 3) | (1 << 2))
    check_eq(d.level(0), 3, "within level 1 the higher number wins")
    d.pulse(15)
    check_eq(d.level(0), 3, "15 on level 0 still below level 1")
    d.w(ILEVEL, 0)
    check_eq(d.level(0), 15, "all on level 0: 15")
    d.w(pimask(0), (1 << 3) | (1 << 2))
    check_eq(d.level(0), 3, "masked lines do not count")
    d.ack(0, 3)
    check_eq(d.level(0), 2, "next after acknowledging 3")
    check_eq(d.r(IPEND), (1 << 7) | (1 << 2) | (1 << 15), "only 3 was cleared")
    d.close()


def test_force():
    d = Irqamp()
    d.w(pimask(1), 1 << 4)
    d.w(piforce(1), 1 << 4)
    check_eq(d.r(piforce(1)), 1 << 4, "PIFORCE1 set")
    check_eq(d.levels(), [0, 4, 0, 0], "forced on CPU1 only")
    d.w(piforce(1), 1 << (16 + 4))
    check_eq((d.r(piforce(1)), d.level(1)), (0, 0), "FC bit clears the force bit")
    d.w(piforce(1), 1 << 4)
    d.w(piforce(1), 0)
    check_eq(d.r(piforce(1)), 1 << 4, "writing 0 keeps force bits")
    # Forced and pending: the acknowledge clears the force bit first.
    d.pulse(4)
    d.ack(1, 4)
    check_eq((d.r(piforce(1)), d.r(IPEND), d.level(1)), (0, 1 << 4, 4),
             "acknowledge of a forced and pending interrupt")
    d.ack(1, 4)
    check_eq((d.r(IPEND), d.level(1)), (0, 0), "second acknowledge clears pending")
    # IFORCE0 is processor 0's force register.
    d.w(pimask(0), 1 << 9)
    d.w(IFORCE0, 1 << 9)
    check_eq((d.r(piforce(0)), d.level(0)), (1 << 9, 9), "IFORCE0 forces on CPU0")
    d.w(IFORCE0, 0)
    check_eq(d.r(piforce(0)), 0, "IFORCE0 write 0")
    d.close()


def test_extended():
    d = Irqamp()
    d.w(pimask(0), (1 << 18) | (1 << 25) | (1 << 20))
    d.pulse(20)
    check_eq(d.r(IPEND), 1 << 20, "extended line 20 pending")
    check_eq(d.levels(), [EIRQ, 0, 0, 0], "extended interrupt presented on level 10")
    d.ack(0, EIRQ)
    check_eq((d.r(pextack(0)), d.r(IPEND), d.level(0)), (20, 0, 0),
             "PEXTACK, IPEND, level after acknowledging level 10")
    d.pulse(18)
    d.pulse(25)
    d.ack(0, EIRQ)
    check_eq((d.r(pextack(0)), d.r(IPEND), d.level(0)), (25, 1 << 18, EIRQ),
             "the highest extended line is acknowledged first")
    d.ack(0, EIRQ)
    check_eq((d.r(pextack(0)), d.r(IPEND), d.level(0)), (18, 0, 0), "then line 18")
    # An extended line above a regular one below 10, below one above 10.
    d.w(pimask(0), (1 << 20) | (1 << 9) | (1 << 11))
    d.pulse(20)
    d.pulse(9)
    check_eq(d.level(0), EIRQ, "extended (10) beats 9")
    d.pulse(11)
    check_eq(d.level(0), 11, "11 beats extended (10)")
    d.close()


def test_broadcast():
    d = Irqamp()
    d.w(BRDCST, 1 << 6)
    check_eq(d.r(BRDCST), 1 << 6, "BRDCST")
    for n in range(NCPU):
        d.w(pimask(n), 1 << 6)
    d.pulse(6)
    check_eq(d.r(IPEND), 0, "a broadcast line does not set IPEND")
    check_eq([d.r(piforce(n)) for n in range(NCPU)], [1 << 6] * NCPU, "it forces every CPU")
    check_eq(d.levels(), [6] * NCPU, "every CPU sees level 6")
    d.ack(2, 6)
    check_eq([d.r(piforce(n)) for n in range(NCPU)], [1 << 6, 1 << 6, 0, 1 << 6],
             "CPU2's acknowledge clears only its force bit")
    check_eq(d.levels(), [6, 6, 0, 6], "levels after CPU2's acknowledge")
    d.pulse(7)
    check_eq(d.r(IPEND), 1 << 7, "line 7 (not broadcast) goes to IPEND")
    d.close()


def test_irqmap():
    d = Irqamp()
    # Bus line 3 -> controller line 12, bus line 9 -> extended line 21.
    d.w(irqmap(0), 0x0001020C)
    d.w(irqmap(2), 0x08150A0B)
    check_eq(d.r(irqmap(0)), 0x0001020C, "IRQMAP0 read back")
    d.pulse(3)
    check_eq(d.r(IPEND), 1 << 12, "bus line 3 pends controller line 12")
    d.w(ICLEAR, 0xFFFFFFFF)
    d.pulse(9)
    check_eq(d.r(IPEND), 1 << 21, "bus line 9 pends extended line 21")
    d.w(pimask(0), 1 << 21)
    d.ack(0, EIRQ)
    check_eq(d.r(pextack(0)), 21, "PEXTACK names the mapped line")
    d.pulse(12)
    check_eq(d.r(IPEND), 1 << 12, "bus line 12 still maps to itself")
    check_eq(d.r(irqmap(0), 1), 0, "IRQMAP not in controller 1")
    d.close()


def test_mp_start_and_boot_address():
    d = Irqamp()
    d.w(baddr(2), 0x40001237)
    check_eq(d.r(baddr(2)), 0x40001231, "BADDR2: BOOTADDR[31:3] and AS")
    d.w(MPSTAT, 1 << 2)
    check_eq(d.r(MPSTAT) & 0xFFFF, 0b1010, "CPU2 started: its STATUS bit clears")
    d.w(MPSTAT, 0xF)
    check_eq(d.r(MPSTAT) & 0xFFFF, 0, "all started")
    d.w(MPSTAT, 0xF)
    check_eq(d.r(MPSTAT) >> 16, (3 << 12) | (1 << 11) | (1 << 10) | EIRQ,
             "NCPU/BA/ER/EIRQ are read-only")
    d.close()
    # -smp 2: NCPU = 1, only CPU1 waits.
    q = itctest.Qtest(extra=["-smp", "2"])
    check_eq(q.readl(BASE + MPSTAT), (1 << 28) | (1 << 27) | (1 << 26) | (EIRQ << 16) | 0b10,
             "MPSTAT with 2 CPUs")
    q.close()


def test_timestamps():
    d = Irqamp()
    t0 = d.r(itcnt(0))
    d.q.clock_step(1000)
    check_eq((d.r(itcnt(0)) - t0) & 0xFFFFFFFF, 250, "1 us = 250 system clocks")
    check_eq(d.r(itcnt(1)), d.r(itcnt(0)), "both sets read the same counter")
    d.w(itstmpc(0), 5)                      # TSISEL = 5, KS = 0
    d.q.clock_step(12345)
    t_assert = d.q.clock()
    d.pulse(5)
    check_eq(d.r(itstmpas(0)), (t_assert * SYS_HZ // 10**9) & 0xFFFFFFFF,
             "assertion stamp = counter at the pulse")
    check_eq(d.r(itstmpc(0)), (2 << 27) | (1 << 26) | 5, "S1 set")
    d.w(pimask(0), 1 << 5)
    d.q.clock_step(4000)
    t_ack = d.q.clock()
    d.ack(0, 5)
    check_eq(d.r(itstmpac(0)), (t_ack * SYS_HZ // 10**9) & 0xFFFFFFFF,
             "acknowledge stamp = counter at the acknowledge")
    check_eq(d.r(itstmpc(0)), (2 << 27) | (1 << 26) | (1 << 25) | 5, "S1 and S2 set")
    # KS = 0: a new assertion restamps and clears S2.
    d.q.clock_step(1000)
    d.pulse(5)
    check_eq(d.r(itstmpc(0)), (2 << 27) | (1 << 26) | 5, "KS=0: new assertion clears S2")
    check(d.r(itstmpas(0)) != (t_assert * SYS_HZ // 10**9) & 0xFFFFFFFF, "KS=0: restamped")
    # KS = 1: the first stamp is kept until S1/S2 are cleared.
    d.w(itstmpc(1), (1 << 5) | 7)
    d.pulse(7)
    first = d.r(itstmpas(1))
    d.q.clock_step(1000)
    d.pulse(7)
    check_eq(d.r(itstmpas(1)), first, "KS=1 keeps the first stamp")
    d.w(itstmpc(1), (1 << 26) | (1 << 25) | (1 << 5) | 7)
    check_eq(d.r(itstmpc(1)), (2 << 27) | (1 << 5) | 7, "S1/S2 write-1-to-clear")
    d.pulse(7)
    check(d.r(itstmpas(1)) != first, "after clearing S1 the next assertion is stamped")
    # Software writes to IPEND are not stamped (UM 21.2.7).
    d.w(itstmpc(0), (1 << 26) | (1 << 25) | 9)
    d.w(IPEND, 1 << 9)
    check_eq(d.r(itstmpc(0)) & (3 << 25), 0, "IPEND write: no stamp")
    d.close()


def test_asmp_controllers():
    d = Irqamp()
    d.w(ICSELR0, 0x01000000)                # CPU1 -> controller 1
    check_eq(d.r(ICSELR0, 2), 0x01000000, "ICSELR0 readable from every controller")
    d.w(pimask(1), 1 << 4)                  # through controller 0: ignored
    check_eq(d.r(pimask(1)), 0, "CPU1's mask is not writable from controller 0")
    d.w(pimask(1), 1 << 4, ctrl=1)
    check_eq(d.r(pimask(1), 3), 1 << 4, "written through controller 1")
    d.pulse(4)
    check_eq((d.r(IPEND), d.r(IPEND, 1)), (1 << 4, 1 << 4), "every controller latches the bus")
    d.w(ICLEAR, 1 << 4)
    check_eq((d.r(IPEND), d.r(IPEND, 1)), (0, 1 << 4), "pending is per controller")
    check_eq(d.level(1), 4, "CPU1 follows controller 1")
    d.w(ILEVEL, 1 << 2, ctrl=1)
    check_eq((d.r(ILEVEL), d.r(ILEVEL, 1)), (0, 1 << 2), "ILEVEL is per controller")
    d.w(MPSTAT, 1 << 1)
    check_eq(d.r(MPSTAT) & 2, 2, "CPU1 cannot be started from controller 0")
    d.w(MPSTAT, 1 << 1, ctrl=1)
    check_eq(d.r(MPSTAT) & 2, 0, "started from its controller")
    d.w(ICSELR0, 0, ctrl=1)
    check_eq(d.r(ICSELR0), 0x01000000, "ICSELR writable only through controller 0")
    d.w(ASMPCTRL, 1)                        # lock
    d.w(ICSELR0, 0)
    check_eq(d.r(ICSELR0), 0x01000000, "locked ICSELR")
    check_eq(d.r(ASMPCTRL), (3 << 28) | 1, "ASMPCTRL with L")
    # ICF: force bits of CPU1 can be set (not cleared) from controller 0.
    d.w(piforce(1), 1 << 4)
    check_eq(d.r(piforce(1)), 0, "ICF=0: no force from another controller")
    d.w(ASMPCTRL, 2 | 1)
    d.w(piforce(1), 1 << 4)
    check_eq(d.r(piforce(1)), 1 << 4, "ICF=1: set from controller 0")
    d.w(piforce(1), 1 << 20)
    check_eq(d.r(piforce(1)), 1 << 4, "but not cleared")
    d.w(piforce(1), 1 << 20, ctrl=1)
    check_eq(d.r(piforce(1)), 0, "cleared through its own controller")
    d.close()


def test_watchdog():
    d = Irqamp()
    d.w(WDOGCTRL, (15 << 16) | 0b0100)
    check_eq(d.r(WDOGCTRL), (4 << 27) | (15 << 16) | 0b0100, "WDOGCTRL")
    itctest.qtest_set_irq_in(d.q, PATH, "wdog", 0, 1)
    itctest.qtest_set_irq_in(d.q, PATH, "wdog", 0, 0)
    check_eq(d.r(IPEND), 0, "watchdog input 0 not enabled")
    itctest.qtest_set_irq_in(d.q, PATH, "wdog", 2, 1)
    itctest.qtest_set_irq_in(d.q, PATH, "wdog", 2, 0)
    check_eq(d.r(IPEND), 1 << 15, "watchdog input 2 pends WDOGIRQ 15")
    check_eq(d.r(IPEND, 1), 0, "only in the controller that enabled it")
    d.close()


def test_undefined_offsets():
    d = Irqamp(extra=["-d", "guest_errors"])
    for off in (0x02C, 0x030, 0x03C, 0x0FC, 0x120, 0x1F0, 0x210, 0x320, 0xFFC):
        d.w(off, 0xFFFFFFFF)
        check_eq(d.r(off), 0, "undefined offset 0x%03x reads 0" % off)
    d.w(ERRSTAT, 0xF)
    check_eq(d.r(ERRSTAT), 0, "ERRSTAT is read-only 0")
    d.w(itstmpas(0), 0x1234)
    check_eq(d.r(itstmpas(0)), 0, "ITSTMPAS is read-only")
    check_eq(d.r(IPEND), 0, "no side effect on IPEND")
    check_eq(d.q.readb(BASE + MPSTAT), 0x3C, "byte read of MPSTAT (big-endian)")
    err = d.q.stderr()
    check("gr740-irqamp" in err and "undefined offset" in err,
          "undefined accesses are logged as guest errors: %r" % err[-500:])
    d.close()
    # Acknowledge property refuses nonsense.
    d = Irqamp()
    try:
        d.ack(7, 3)
        check(False, "acknowledge for CPU 7 was accepted")
    except itctest.TestFailure:
        pass
    d.close()


def test_shared_line_and_fault_injection():
    """Bus line 6 is the OR of its sources (/machine/irq-line6): a source
    holding it high keeps it high through another source's pulse and
    through an injected IRQ fault (itc-inject-fault kind=irq)."""
    d = Irqamp()
    orgate = "/machine/irq-line6"
    itctest.qtest_set_irq_in(d.q, orgate, "unnamed-gpio-in", 0, 1)   # held
    check_eq(d.r(IPEND), 1 << 6, "held source sets pending")
    itctest.qtest_set_irq_in(d.q, orgate, "unnamed-gpio-in", 1, 1)   # a pulse
    itctest.qtest_set_irq_in(d.q, orgate, "unnamed-gpio-in", 1, 0)
    d.w(ICLEAR, 1 << 6)
    check_eq(d.r(IPEND), 1 << 6, "after another source's pulse the line is still high")
    f = d.q.qmp.cmd("itc-inject-fault", kind="irq", target="6")
    check_eq(f["state"], "fired", "irq fault fired")
    d.w(ICLEAR, 1 << 6)
    check_eq(d.r(IPEND), 1 << 6, "after an injected pulse the line is still high")
    itctest.qtest_set_irq_in(d.q, orgate, "unnamed-gpio-in", 0, 0)
    d.w(ICLEAR, 1 << 6)
    check_eq(d.r(IPEND), 0, "released: ICLEAR clears")
    d.q.qmp.cmd("itc-inject-fault", kind="irq", target="6")
    check_eq(d.r(IPEND), 1 << 6, "an injected pulse alone sets pending")
    d.close()


def setup_awkward(d):
    """Pending, forced, masked, extended, held, mapped, stamped state."""
    d.w(irqmap(1), 0x04050E07)              # bus line 6 -> controller line 14
    d.w(ILEVEL, 1 << 3)
    d.w(BRDCST, 1 << 8)
    d.w(itstmpc(0), 3)
    d.q.clock_step(1_000_000)               # non-zero timestamps
    d.w(pimask(0), (1 << 3) | (1 << 5) | (1 << 22) | (1 << 14))
    d.w(pimask(1), (1 << 8) | (1 << 9))
    d.w(pimask(3), 1 << 5)
    d.w(baddr(3), 0x00004001)
    d.w(ICSELR0, 0x00010000)                # CPU3 -> controller 1
    d.pulse(3)
    d.pulse(5)
    d.pulse(22)
    d.pulse(8)                              # broadcast: force on all CPUs
    d.w(piforce(1), 1 << 9)
    d.set_line(6, 1)                        # held high
    d.ack(0, 3)                             # clears 3
    d.ack(0, 5)
    d.pulse(3)                              # pending again, stamped again
    d.w(MPSTAT, 1 << 2)
    d.w(pimask(2), 1 << 8)


def observe(d):
    regs = [d.r(o, c) for c in range(2) for o in
            (ILEVEL, IPEND, MPSTAT, BRDCST, ASMPCTRL, ICSELR0, itstmpc(0), itstmpas(0), itstmpac(0))]
    regs += [d.r(o) for n in range(NCPU) for o in (pimask(n), piforce(n), pextack(n), baddr(n))]
    regs += [d.r(irqmap(n)) for n in range(8)]
    out = [regs, d.levels()]
    # Continue: acknowledges, a clear of the held line, the line dropping.
    d.ack(0, 3)
    d.ack(0, EIRQ)
    d.ack(1, 9)
    d.ack(1, 8)
    d.w(ICLEAR, 1 << 14)
    out.append([d.r(IPEND), d.r(pextack(0)), d.r(piforce(1)), d.levels()])
    d.set_line(6, 0)
    d.w(ICLEAR, 1 << 14)
    out.append([d.r(IPEND), d.levels()])
    return out


def test_vmstate_round_trip():
    """Save with pending + forced + masked + extended + held-line state; the
    loaded copy must read and continue like an uninterrupted run."""
    tmp = itctest.private_dir()
    mig = os.path.join(tmp, "irqamp.mig")
    a = Irqamp(intercept=False)
    setup_awkward(a)
    t_save = a.q.clock()
    a.q.qmp.cmd("stop")
    a.q.qmp.cmd("migrate", uri="file:" + mig)
    itctest.wait_migration(a.q.qmp)
    a.close()

    ref = Irqamp(intercept=False)
    setup_awkward(ref)
    want = observe(ref)
    ref.close()
    # CPU0: 3 (ILEVEL 1) over 14 and extended; CPU1: forced 9 over forced
    # 8; CPU2: broadcast 8; CPU3 (controller 1, where 5 was not acked): 5.
    check_eq(want[1], [3, 9, 8, 5], "levels of the awkward state (sanity)")

    b = Irqamp(extra=["-incoming", "file:" + mig], intercept=False)
    itctest.wait_incoming(b.q.qmp)
    b.q.cmd("clock_set %d" % t_save)
    got = observe(b)
    check_eq(got, want, "after load vs an uninterrupted run")
    b.close()


def body():
    test_reset_values()
    test_pending_mask_clear_and_level_lines()
    test_priority()
    test_force()
    test_extended()
    test_broadcast()
    test_irqmap()
    test_mp_start_and_boot_address()
    test_timestamps()
    test_asmp_controllers()
    test_watchdog()
    test_undefined_offsets()
    test_shared_line_and_fault_injection()
    test_vmstate_round_trip()


itctest.run_test(body)
