#!/usr/bin/env python3
"""GR740 GPTIMER units, driven only through their registers, the virtual
clock, their interrupt/tick outputs and their "latch" inputs.

Expected values come from the GRLIB GPTIMER description (GR740-UM-DS
chapter 20, shared/gr740/FACTS.md 3.2): the prescaler decrements every
system clock (250 MHz = 4 ns) and, when it underflows, reloads from
SRELOAD and decrements every enabled timer; a timer underflowing from 0
reloads (RS) or stops at 0xFFFFFFFF clearing EN; with IE it sets IP and
signals its interrupt.  With SRELOAD = 249 one tick is exactly 1 us.
"""
# itc-test-timeout: 300
import os
import subprocess
import time

import itctest
from itctest import check, check_eq

UNIT = [0xFF908000 + 0x1000 * n for n in range(5)]
SCALER, SRELOAD, CONFIG, LATCHCFG = 0x0, 0x4, 0x8, 0xC
EN, RS, LD, IE, IP, CH, DH, WN, WS = (1 << b for b in range(9))
US = 1000  # ns
NTIMERS = 5


def tcnt(n):
    return 0x10 + 0x10 * n


def trld(n):
    return 0x14 + 0x10 * n


def tctrl(n):
    return 0x18 + 0x10 * n


def tlatch(n):
    return 0x1C + 0x10 * n


class Unit:
    def __init__(self, q, n):
        self.q, self.base = q, UNIT[n]

    def r(self, off):
        return self.q.readl(self.base + off)

    def w(self, off, v):
        self.q.writel(self.base + off, v)

    def mhz(self):
        """1 MHz ticks from now: prescaler reload and value 249."""
        self.w(SRELOAD, 249)
        self.w(SCALER, 249)

    def clear(self):
        for n in range(NTIMERS):
            self.w(tctrl(n), IP)
            self.w(tcnt(n), 0)
            self.w(trld(n), 0)


def events(q):
    ev = list(q.irq_events)
    q.irq_events.clear()
    return ev


def test_reset_values(q):
    u = Unit(q, 0)
    check_eq(u.r(SRELOAD), 0xFFFF, "SRELOAD after reset")
    check_eq(u.r(SCALER), 0xFFFF, "SCALER after reset (clock still at 0)")
    # TIMERS = 5, IRQ = 1 (first line), SI = 1 for GPTIMER0
    check_eq(u.r(CONFIG), 5 | (1 << 3) | (1 << 8), "GPTIMER0 CONFIG")
    for n in range(1, 5):
        # units 1..4: 4 timers, one shared interrupt, lines 6..9 (gr740.h), SI = 0
        check_eq(Unit(q, n).r(CONFIG), 4 | ((5 + n) << 3), "GPTIMER%d CONFIG" % n)
        check_eq(Unit(q, n).r(tcnt(4)), 0, "GPTIMER%d has no 5th timer (reads 0)" % n)
    for n in range(NTIMERS):
        for off in (tcnt(n), trld(n), tctrl(n), tlatch(n)):
            check_eq(u.r(off), 0, "timer %d offset 0x%x after reset" % (n, off))
    check_eq(u.r(LATCHCFG), 0, "LATCHCFG after reset")
    check_eq(u.r(0x10 + 0x10 * NTIMERS), 0, "offset past the last timer reads 0")


def test_write_masks(q):
    u = Unit(q, 3)
    u.w(SRELOAD, 0xFFFFFFFF)
    check_eq(u.r(SRELOAD), 0xFFFF, "SRELOAD keeps 16 bits")
    u.w(SCALER, 0x12345678)
    check_eq(u.r(SCALER), 0x5678, "SCALER keeps 16 bits (no time passed)")
    cfg = u.r(CONFIG)
    u.w(CONFIG, 0xFFFFFFFF)
    # writable: DF (9), EL (11), ES (12); TIMERS/IRQ/SI/EE/EV read-only
    check_eq(u.r(CONFIG), cfg | (1 << 9) | (1 << 11) | (1 << 12), "CONFIG writable bits")
    u.w(CONFIG, 0)
    check_eq(u.r(CONFIG), cfg, "CONFIG bits clear again")
    u.w(LATCHCFG, 0xA5A5A5A5)
    check_eq(u.r(LATCHCFG), 0xA5A5A5A5, "LATCHCFG is 32 bits wide")
    u.w(LATCHCFG, 0)
    u.w(trld(1), 0xFFFFFFFF)
    check_eq(u.r(trld(1)), 0xFFFFFFFF, "TRLDVAL is 32 bits wide")
    u.w(tctrl(1), 0xFFFFFFFF & ~EN)
    # LD is write-only (reads 0); writing IP=1 clears it; DH is read-only 0
    check_eq(u.r(tctrl(1)), RS | IE | CH | WN | WS, "TCTRL read-back of all ones")
    check_eq(u.r(tcnt(1)), 0xFFFFFFFF, "LD copied TRLDVAL into TCNTVAL")
    u.w(tctrl(1), 0)
    u.w(tcnt(1), 0)
    u.w(trld(1), 0)


def test_prescaler_counts(q):
    u = Unit(q, 0)
    u.clear()
    u.mhz()
    q.clock_step(400)  # 100 system clocks
    check_eq(u.r(SCALER), 149, "SCALER 100 clocks after writing 249")
    q.clock_step(600)  # 250 clocks in total: one underflow, reload 249
    check_eq(u.r(SCALER), 249, "SCALER right after its underflow")
    q.clock_step(4)
    check_eq(u.r(SCALER), 248, "SCALER one clock later")


def test_counting_1mhz(q):
    u = Unit(q, 0)
    u.clear()
    u.mhz()
    u.w(trld(0), 100000)
    u.w(tctrl(0), EN | LD)
    check_eq(u.r(tcnt(0)), 100000, "TCNTVAL after LD")
    check_eq(u.r(tctrl(0)) & LD, 0, "LD reads 0")
    for n in (1, 10, 123, 4567):
        before = u.r(tcnt(0))
        q.clock_step(n * US)
        check_eq(u.r(tcnt(0)), before - n, "counter after %d us at 1 MHz" % n)
    q.clock_step(US - 4)
    v = u.r(tcnt(0))
    q.clock_step(4)
    check_eq(u.r(tcnt(0)), v - 1, "the decrement lands on the microsecond")
    u.w(tctrl(0), 0)
    v = u.r(tcnt(0))
    q.clock_step(50 * US)
    check_eq(u.r(tcnt(0)), v, "disabled timer keeps its value")
    u.w(tcnt(0), 777)
    check_eq(u.r(tcnt(0)), 777, "TCNTVAL is writable")


def test_scaler_write_changes_timing(q):
    u = Unit(q, 0)
    u.clear()
    u.mhz()
    u.w(tcnt(0), 100)
    u.w(tctrl(0), EN)
    q.clock_step(500)  # half a tick
    u.w(SCALER, 9)     # next tick after 10 clocks = 40 ns
    q.clock_step(36)
    check_eq(u.r(tcnt(0)), 100, "no tick 9 clocks after SCALER=9")
    q.clock_step(4)
    check_eq(u.r(tcnt(0)), 99, "tick 10 clocks after SCALER=9")
    q.clock_step(US - 4)
    check_eq(u.r(tcnt(0)), 99, "then SRELOAD+1 = 250 clocks per tick")
    q.clock_step(4)
    check_eq(u.r(tcnt(0)), 98, "second tick")
    # SRELOAD takes effect at the next prescaler reload
    u.w(SRELOAD, 49)   # 5 tick per us after the current period
    q.clock_step(US)
    check_eq(u.r(tcnt(0)), 97, "current period still 250 clocks")
    q.clock_step(5 * 200)
    check_eq(u.r(tcnt(0)), 92, "then 50 clocks per tick")
    u.w(tctrl(0), 0)


def test_underflow_reload_irq(q):
    u = Unit(q, 0)
    u.clear()
    u.mhz()
    u.w(trld(0), 9)
    events(q)
    u.w(tctrl(0), EN | RS | IE | LD)
    q.clock_step(10 * US - 4)
    check_eq(events(q), [], "no interrupt before the underflow")
    check_eq(u.r(tcnt(0)), 0, "counter reached 0 after 9 ticks")
    q.clock_step(4)
    check_eq(events(q), [("raise", 0), ("lower", 0)], "timer 0 pulses interrupt output 0")
    check_eq(u.r(tcnt(0)), 9, "reloaded from TRLDVAL on underflow")
    check(u.r(tctrl(0)) & IP, "IP set on underflow")
    check(u.r(tctrl(0)) & EN, "EN stays with RS")
    q.clock_step(30 * US)
    check_eq(events(q), [("raise", 0), ("lower", 0)] * 3, "one pulse per 10 us period")
    # IP: writing 0 keeps it, writing 1 clears it
    u.w(tctrl(0), EN | RS | IE)
    check(u.r(tctrl(0)) & IP, "writing IP=0 keeps IP")
    u.w(tctrl(0), EN | RS | IE | IP)
    check_eq(u.r(tctrl(0)) & IP, 0, "writing IP=1 clears IP")
    # without IE: no interrupt and no IP
    u.w(tctrl(0), EN | RS)
    q.clock_step(25 * US)
    check_eq(events(q), [], "no interrupt without IE")
    check_eq(u.r(tctrl(0)) & IP, 0, "no IP without IE")
    u.w(tctrl(0), 0)


def test_one_shot_stops(q):
    u = Unit(q, 0)
    u.clear()
    u.mhz()
    u.w(tcnt(1), 4)
    events(q)
    u.w(tctrl(1), EN | IE)
    q.clock_step(5 * US)
    check_eq(events(q), [("raise", 1), ("lower", 1)], "timer 1 on its own output (SI)")
    check_eq(u.r(tcnt(1)), 0xFFFFFFFF, "stops at -1 without RS")
    check_eq(u.r(tctrl(1)) & (EN | IP), IP, "EN cleared, IP set")
    q.clock_step(100 * US)
    check_eq(u.r(tcnt(1)), 0xFFFFFFFF, "stays stopped")
    check_eq(events(q), [], "no further interrupt")
    u.w(tctrl(1), IP)


def test_unobserved_periodic(q):
    """A periodic timer nobody listens to is computed from time."""
    u = Unit(q, 0)
    u.clear()
    u.mhz()
    u.w(trld(3), 99)
    u.w(tctrl(3), EN | RS | LD)
    q.clock_step(1234 * US)
    # period 100 ticks: after 1234 ticks the count is 99 - (1234 mod 100)
    check_eq(u.r(tcnt(3)), 99 - 34, "periodic counter after 1234 us")
    events(q)
    u.w(tctrl(3), EN | RS | IE)  # now observed: next underflow at +66 us
    q.clock_step(65 * US)
    check_eq(u.r(tcnt(3)), 0, "reached 0")
    check_eq(events(q), [], "no interrupt yet")
    q.clock_step(US)
    check_eq(events(q), [("raise", 3), ("lower", 3)], "interrupt when enabling IE mid-period")
    u.w(tctrl(3), IP)


def test_chaining(q):
    u = Unit(q, 0)
    u.clear()
    u.mhz()
    u.w(trld(1), 4)           # timer 1 underflows every 5 us
    u.w(trld(2), 2)
    u.w(tcnt(2), 3)
    events(q)
    u.w(tctrl(2), EN | RS | IE | CH)
    u.w(tctrl(1), EN | RS | LD)
    q.clock_step(5 * US - 4)
    check_eq(u.r(tcnt(2)), 3, "chained timer does not count prescaler ticks")
    q.clock_step(4)
    check_eq(u.r(tcnt(2)), 2, "chained timer decrements on the predecessor's underflow")
    q.clock_step(15 * US - 4)
    check_eq(u.r(tcnt(2)), 0, "after 4 predecessor underflows... (3 more)")
    check_eq(events(q), [], "no interrupt yet")
    q.clock_step(4)
    check_eq(events(q), [("raise", 2), ("lower", 2)], "chained timer underflows on the 4th")
    check_eq(u.r(tcnt(2)), 2, "chained timer reloaded")
    q.clock_step(15 * US)
    check_eq(events(q), [("raise", 2), ("lower", 2)], "then every 3 predecessor underflows")
    u.w(tctrl(1), 0)
    u.w(tctrl(2), IP)


def test_latch(q):
    u = Unit(q, 0)
    u.clear()
    u.mhz()
    u.w(tcnt(0), 1000)
    u.w(tcnt(4), 50)
    u.w(trld(4), 7)
    u.w(tctrl(0), EN)
    u.w(tctrl(4), EN)
    u.w(LATCHCFG, 1 << 12)
    q.clock_step(10 * US)
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 12, 1)
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 12, 0)
    check_eq(u.r(tlatch(0)), 0, "no latch while CONFIG.EL is clear")
    cfg = u.r(CONFIG)
    u.w(CONFIG, 1 << 11)  # EL
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 3, 1)
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 3, 0)
    check_eq(u.r(tlatch(0)), 0, "line not selected in LATCHCFG: no latch")
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 12, 1)
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 12, 0)
    check_eq(u.r(tlatch(0)), 990, "TLATCH0 = counter at the interrupt")
    check_eq(u.r(tlatch(4)), 40, "TLATCH4 = counter at the interrupt")
    check_eq(u.r(CONFIG), cfg, "EL clears after latching")
    q.clock_step(5 * US)
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 12, 1)
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 12, 0)
    check_eq(u.r(tlatch(0)), 990, "no second latch until EL is set again")
    u.w(CONFIG, 1 << 12)  # ES: load reload values on the next event
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 12, 1)
    itctest.qtest_set_irq_in(q, "/machine/gptimer0", "latch", 12, 0)
    check_eq(u.r(tcnt(4)), 7, "ES loads TRLDVAL into the counters")
    check_eq(u.r(CONFIG), cfg, "ES clears after the event")
    u.w(tctrl(0), 0)
    u.w(tctrl(4), 0)
    u.w(LATCHCFG, 0)


def test_gptimer0():
    q = itctest.Qtest()
    test_reset_values(q)
    test_write_masks(q)
    q.irq_intercept_out("/machine/gptimer0", "sysbus-irq")
    test_prescaler_counts(q)
    test_counting_1mhz(q)
    test_scaler_write_changes_timing(q)
    test_underflow_reload_irq(q)
    test_one_shot_stops(q)
    test_unobserved_periodic(q)
    test_chaining(q)
    test_latch(q)
    q.close()


def test_shared_irq():
    """GPTIMER1..4 (CONFIG.SI = 0): every timer on the unit's one line."""
    q = itctest.Qtest()
    q.irq_intercept_out("/machine/gptimer2", "sysbus-irq")
    u = Unit(q, 2)
    u.mhz()
    u.w(tcnt(3), 2)
    u.w(tcnt(1), 5)
    events(q)
    u.w(tctrl(3), EN | IE)
    u.w(tctrl(1), EN | IE)
    q.clock_step(3 * US)
    check_eq(events(q), [("raise", 0), ("lower", 0)], "timer 3 on the shared output")
    q.clock_step(3 * US)
    check_eq(events(q), [("raise", 0), ("lower", 0)], "timer 1 on the shared output")
    check(u.r(tctrl(1)) & IP and u.r(tctrl(3)) & IP, "IP set in both timers")
    q.close()


def test_watchdog_tick():
    """The underflow of "timer 4" (GRLIB numbers from 1: the 4th and last
    timer of units 1..4) pulses the "tick" output, with or without IE."""
    q = itctest.Qtest()
    q.irq_intercept_out("/machine/gptimer1", "tick")
    u = Unit(q, 1)
    u.mhz()
    u.w(trld(3), 19)
    events(q)
    u.w(tctrl(3), EN | RS | LD)
    q.clock_step(20 * US - 4)
    check_eq(events(q), [], "no tick before the underflow")
    q.clock_step(4)
    check_eq(events(q), [("raise", 0), ("lower", 0)], "tick on underflow of the last timer")
    u.w(tcnt(2), 0)
    u.w(tctrl(2), EN | IE)
    q.clock_step(40 * US)
    check_eq(events(q), [("raise", 0), ("lower", 0)] * 2, "only the last timer ticks")
    q.close()


def test_vmstate_round_trip():
    """Save mid-countdown (prescaler mid-period, chained timer, pending
    event); the loaded copy continues exactly like an uninterrupted run."""
    d = itctest.private_dir()
    mig = os.path.join(d, "gpt.mig")

    def setup(q):
        u = Unit(q, 0)
        u.w(SRELOAD, 249)
        u.w(SCALER, 249)
        q.clock_step(5 * US + 17)  # 5 prescaler ticks before re-anchoring
        u.w(SCALER, 100)
        u.w(trld(0), 13)
        u.w(tctrl(0), EN | RS | IE | LD)
        u.w(trld(1), 6)
        u.w(tcnt(1), 4)
        u.w(tctrl(1), EN | RS | IE | CH)
        u.w(tcnt(3), 12345)
        u.w(trld(3), 999)
        u.w(tctrl(3), EN | RS | WN)
        u.w(LATCHCFG, 0x80000002)
        u.w(CONFIG, 1 << 9)
        q.clock_step(37 * US + 123)

    def observe(q):
        u = Unit(q, 0)
        # interrupts first, with no register access to trigger a catch-up:
        # they must come from the migrated timer deadline alone
        q.irq_intercept_out("/machine/gptimer0", "sysbus-irq")
        q.irq_events.clear()
        out = []
        for _ in range(4):
            q.clock_step(7 * US)
            out.append(events(q))
        check(any(out), "interrupts while observing")
        for step in (0, 3, 4 * US, 13 * US + 7, 200 * US):
            q.clock_step(step) if step else None
            out.append([u.r(o) for o in (SCALER, SRELOAD, CONFIG, LATCHCFG)] +
                       [u.r(f(n)) for n in range(NTIMERS) for f in (tcnt, trld, tctrl)])
        u.w(SCALER, 3)
        q.clock_step(1000)
        out.append([u.r(tcnt(n)) for n in range(NTIMERS)] + [u.r(SCALER)])
        return out

    a = itctest.Qtest(qmp=True)
    setup(a)
    b = itctest.qtest_reload(a, mig)
    ref = itctest.Qtest(qmp=True)
    setup(ref)
    want = observe(ref)
    ref.close()
    got = observe(b)
    for i, (g, w) in enumerate(zip(got, want)):
        check_eq(g, w, "registers at observation %d after load vs uninterrupted run" % i)
    check_eq(len(got), len(want), "observation count")



# A guest that runs the timers under TCG: timer 0 at 10 kHz (EN|RS|LD|IE),
# timer 1 chained to it, timer 2 free-running at 1 MHz, polled into a hash.
GUEST_C = r"""
#include <stdint.h>
#define UART(o) (*(volatile uint32_t *)(0xFF900000u + (o)))
#define GPT(o) (*(volatile uint32_t *)(0xFF908000u + (o)))
static uint32_t table[256];
static void putc_(char c) { while (!(UART(4) & 4)) ; UART(0) = (uint8_t)c; }
static void puthex(uint32_t v)
{
    for (int i = 7; i >= 0; i--)
        putc_("0123456789abcdef"[(v >> (4 * i)) & 15]);
    putc_(' ');
}
static __attribute__((noinline)) uint32_t mix(uint32_t a, uint32_t b)
{ a ^= b + 0x9e3779b9u + (a << 6) + (a >> 2); table[a & 255] += b; return a; }
int main(void)
{
    uint32_t h = 1, v[5];
    UART(8) = 3;
    GPT(0x14) = 99;         GPT(0x18) = 0x0f;   /* EN RS LD IE */
    GPT(0x24) = 0xffffffff; GPT(0x28) = 0x27;   /* EN RS LD CH */
    GPT(0x34) = 0xffffffff; GPT(0x38) = 0x07;   /* EN RS LD */
    for (uint32_t i = 0; i < 6000000; i++) {
        h = mix(h, i ^ table[i & 255]);
        if (!(i & 255))
            h ^= GPT(0x30);
    }
    v[0] = GPT(0x10); v[1] = GPT(0x20); v[2] = GPT(0x30); v[3] = GPT(0x18);
    v[4] = GPT(0x00);
    puthex(h);
    for (int i = 0; i < 5; i++)
        puthex(v[i]);
    putc_('\n');
    return 0;
}
"""
GUEST_S = """
    .section .text.start, "ax"
    .global _start
_start:
    wr      %g0, 0xfc0, %psr
    wr      %g0, 2, %wim
    nop; nop; nop
    set     _stack_top, %sp
    sub     %sp, 96, %sp
    call    main
     mov    %g0, %fp
1:  wr      %g0, %asr19
    ba      1b
     nop
"""
GUEST_LD = """
ENTRY(_start)
MEMORY { ram : ORIGIN = 0, LENGTH = 16M }
SECTIONS {
    .text : { *(.text.start) *(.text*) } > ram
    .rodata : { *(.rodata*) } > ram
    .data : { *(.data*) } > ram
    .bss : { *(.bss*) *(COMMON) } > ram
    _stack_top = ORIGIN(ram) + LENGTH(ram);
}
"""


def build_guest(d):
    cc = "sparc64-linux-gnu-gcc"
    for name, text in (("g.c", GUEST_C), ("g.S", GUEST_S), ("g.ld", GUEST_LD)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    elf = os.path.join(d, "g.elf")
    try:
        subprocess.run([cc, "-m32", "-mcpu=leon3", "-O2", "-fno-pic", "-fno-pie", "-ffreestanding",
                        "-nostdlib", "-fno-builtin", "-std=gnu11", "-no-pie", "-static",
                        "-Wl,-m,elf32_sparc", "-Wl,-z,noexecstack", "-Wl,--no-warn-rwx-segments",
                        "-Wl,--build-id=none", "-T", os.path.join(d, "g.ld"),
                        os.path.join(d, "g.S"), os.path.join(d, "g.c"), "-lgcc", "-o", elf],
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        return None, str(e)
    return elf, None


def run_guest(d, elf, icount, extra=(), stop_after=None):
    """Run the guest under TCG; return its UART line.  With stop_after,
    stop after that many seconds, migrate to a file, and finish the run in
    a second QEMU loaded from it."""
    def start(out, more):
        sock = os.path.join(d, "qmp%d.sock" % time.monotonic_ns())
        lst = itctest.qmp_listener(sock)
        p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", "1", "-display", "none",
                           "-monitor", "none", "-serial", "file:" + out, "-icount", icount,
                           "-qmp", "unix:" + sock, "-kernel", elf] + list(more),
                          stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return p, itctest.accept_qmp(lst, p)

    def wait_line(out, qmp, p):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(out) as f:
                text = f.read()
            if text.endswith("\n"):
                try:
                    qmp.cmd("quit")
                except (OSError, itctest.TestFailure):
                    pass  # a replay ends by itself where the recording ended
                p.wait(10)
                return text.strip()
            time.sleep(0.05)
        raise itctest.TestFailure("guest printed no result line")

    out = os.path.join(d, "out%d.txt" % time.monotonic_ns())
    open(out, "w").close()
    p, qmp = start(out, extra)
    if stop_after is None:
        return wait_line(out, qmp, p)
    time.sleep(stop_after)
    qmp.cmd("stop")
    with open(out) as f:
        check_eq(f.read(), "", "guest finished before the migration point")
    mig = os.path.join(d, "tcg.mig")
    qmp.cmd("migrate", uri="file:" + mig)
    itctest.wait_migration(qmp)
    qmp.cmd("quit")
    p.wait(10)
    out2 = os.path.join(d, "out%d.txt" % time.monotonic_ns())
    open(out2, "w").close()
    p, qmp = start(out2, ["-incoming", "file:" + mig])
    itctest.wait_incoming(qmp)
    return wait_line(out2, qmp, p)


def test_tcg_guest():
    """Under TCG + icount: the counters agree with each other (timer 1
    counts timer 0's underflows at 10 kHz, timer 2 counts 1 MHz ticks), the
    run is deterministic, a record/replay reproduces it, and a run migrated
    mid-way ends identically."""
    d = itctest.private_dir()
    elf, err = build_guest(d)
    if elf is None:
        print("note: no SPARC cross compiler, TCG guest part skipped (%s)" % err)
        return
    first = run_guest(d, elf, "shift=0")
    words = first.split()
    check_eq(len(words), 6, "guest result line %r" % first)
    h, t0, t1, t2, c0, sc = (int(w, 16) for w in words)
    ticks = 0xFFFFFFFF - t2            # 1 MHz ticks since timer 2 started
    underflows = 0xFFFFFFFF - t1       # timer 0 underflows seen by timer 1
    check(ticks > 10000, "the guest ran for more than 10 ms: %d ticks" % ticks)
    check(abs(underflows - ticks // 100) <= 1,
          "chained timer counts the 10 kHz underflows: %d vs %d ticks" % (underflows, ticks))
    check(t0 <= 99, "timer 0 within its reload range: %d" % t0)
    check_eq(c0, EN | RS | IE | IP, "timer 0 control at the end")
    check(sc <= 249, "prescaler within SRELOAD: %d" % sc)
    check_eq(run_guest(d, elf, "shift=0"), first, "second icount run")
    rr = os.path.join(d, "g.rr")
    check_eq(run_guest(d, elf, "shift=0,rr=record,rrfile=" + rr), first, "recorded run")
    check_eq(run_guest(d, elf, "shift=0,rr=replay,rrfile=" + rr), first, "replayed run")
    check_eq(run_guest(d, elf, "shift=0", stop_after=0.3), first, "run migrated mid-way")


def body():
    test_gptimer0()
    test_shared_irq()
    test_watchdog_tick()
    test_vmstate_round_trip()
    test_tcg_guest()


itctest.run_test(body)
