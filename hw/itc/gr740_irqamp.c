/*
 * ITC workbench: GR740 IRQ(A)MP multiprocessor interrupt controller with
 * extended ASMP support (GR740-UM-DS sect. 21)
 *
 * The interrupt bus has 32 lines (0 is unused).  Each bus line goes
 * through the interrupt map (IRQMAP, UM 21.2.9) to a controller line;
 * controller lines 1..15 are regular interrupts, 16..31 extended
 * interrupts that reach the processors on level EIRQ (10 on GR740,
 * UM 21.2.3).  There are "nctrl" internal controllers (UM 21.2.1), one
 * 4 KiB register set each at base + 0x1000 * k; every one of them sees the
 * whole bus and has its own level, pending, broadcast, watchdog and
 * timestamp registers.  The processor registers (mask, force, extended
 * acknowledge, boot address, MPSTAT status bit) exist once per processor;
 * a processor takes its interrupts from the controller its ICSEL field
 * selects.
 *
 * Inputs:  unnamed gpio 0..31 = the interrupt bus lines (level: while a
 *          line is high, its pending bit is set again whenever software or
 *          an acknowledge clears it, as the hardware samples the bus every
 *          cycle; GRLIB peripherals pulse).  A line shared by several
 *          sources is ORed by the machine.  gpio "wdog" 0..3 = watchdog
 *          inputs (tick of timer 4 of GPTIMER units 1..4, UM 21.2.8).
 * Outputs: gpio "cpu-irq" n: level = interrupt level (0..15) presented to
 *          processor n; gpio "cpu-start" n: pulsed when MPSTAT starts
 *          processor n (the machine reads gr740_irqamp_boot_address()).
 * The processor acknowledges through gr740_irqamp_ack() when it takes the
 * interrupt trap.
 *
 * Decisions on points the UM pages available to us do not settle
 * (UNCONFIRMED):
 *  - IRQMAP resets to the identity mapping (bus line n -> line n).
 *  - IFORCE0 (0x008) is a plain read/write view of processor 0's force
 *    bits; PIFORCE[n] has the set (IF) / clear (FC) semantics.
 *  - The extended interrupt acknowledged on level EIRQ is the highest
 *    numbered pending unmasked one; the acknowledge clears it, pending bit
 *    EIRQ and latches its number in PEXTACK.
 *  - ASMPCTRL and ICSELR are writable only through controller 0; BADDR and
 *    MPSTAT start bits, like mask/force/extack, only through the
 *    processor's own controller (UM 21.2.1 for the latter).
 *  - STATUS reads 1 for a processor not yet started and for one in
 *    power-down (%asr19, asked through the machine's hook).  Writing 1
 *    resets such a processor and starts it at BADDR.BOOTADDR when
 *    BADDR.AS = 1, else at the machine's reset start address ("a halted
 *    processor can be reset and restarted", UM 21.2.4).
 *  - WDOGCTRL.WDOGIRQ is read/write and resets to 0 (watchdog inputs do
 *    nothing until software chooses a line).
 *  - Two timestamp register sets per controller (ITSTMPC.TSTAMP = 2, UM
 *    table 393); TSISEL names a controller line; ITCNT counts system
 *    clocks (250 MHz) of QEMU_CLOCK_VIRTUAL since it was 0.
 *  - ERRSTAT reads 0 (no processor error mode is modelled).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740IrqampState, GR740_IRQAMP)

/* Offsets inside one controller's 4 KiB register set. */
REG32(ILEVEL, 0x000)
REG32(IPEND, 0x004)
REG32(IFORCE0, 0x008)
REG32(ICLEAR, 0x00C)
REG32(MPSTAT, 0x010)
    FIELD(MPSTAT, STATUS, 0, 16)
    FIELD(MPSTAT, EIRQ, 16, 4)
    FIELD(MPSTAT, ER, 26, 1)
    FIELD(MPSTAT, BA, 27, 1)
    FIELD(MPSTAT, NCPU, 28, 4)
REG32(BRDCST, 0x014)
REG32(ERRSTAT, 0x018)
REG32(WDOGCTRL, 0x01C)
    FIELD(WDOGCTRL, WDOGMSK, 0, 4)
    FIELD(WDOGCTRL, WDOGIRQ, 16, 4)
    FIELD(WDOGCTRL, NWDOG, 27, 5)
REG32(ASMPCTRL, 0x020)
    FIELD(ASMPCTRL, L, 0, 1)
    FIELD(ASMPCTRL, ICF, 1, 1)
    FIELD(ASMPCTRL, NCTRL, 28, 4)
REG32(ICSELR0, 0x024)
REG32(ICSELR1, 0x028)
REG32(PIMASK, 0x040)            /* + 4 * cpu */
REG32(PIFORCE, 0x080)           /* + 4 * cpu */
    FIELD(PIFORCE, IF, 1, 15)
    FIELD(PIFORCE, FC, 17, 15)
REG32(PEXTACK, 0x0C0)           /* + 4 * cpu */
    FIELD(PEXTACK, EID, 0, 5)
REG32(ITCNT, 0x100)             /* + 0x10 * set */
REG32(ITSTMPC, 0x104)
    FIELD(ITSTMPC, TSISEL, 0, 5)
    FIELD(ITSTMPC, KS, 5, 1)
    FIELD(ITSTMPC, S2, 25, 1)
    FIELD(ITSTMPC, S1, 26, 1)
    FIELD(ITSTMPC, TSTAMP, 27, 5)
REG32(ITSTMPAS, 0x108)
REG32(ITSTMPAC, 0x10C)
REG32(BADDR, 0x200)             /* + 4 * cpu */
    FIELD(BADDR, AS, 0, 1)
    FIELD(BADDR, BOOTADDR, 3, 29)
REG32(IRQMAP, 0x300)            /* + 4 * n, controller 0 only */

#define IRQAMP_MAX_CPUS     GR740_MAX_CPUS
#define IRQAMP_MAX_CTRL     4
#define IRQAMP_CTRL_STRIDE  0x1000
#define IRQAMP_WINDOW       (IRQAMP_MAX_CTRL * IRQAMP_CTRL_STRIDE)
#define IRQAMP_LINES        32
#define IRQAMP_NWDOG        4
#define IRQAMP_NTSTAMP      2
#define IRQAMP_NIRQMAP      (IRQAMP_LINES / 4)
#define IRQAMP_REGULAR      0x0000FFFEu     /* lines 1..15 */
#define IRQAMP_EXTENDED     0xFFFF0000u     /* lines 16..31 */
#define ITSTMPC_STORED      (R_ITSTMPC_TSISEL_MASK | R_ITSTMPC_KS_MASK | \
                             R_ITSTMPC_S1_MASK | R_ITSTMPC_S2_MASK)
#define WDOGCTRL_STORED     (R_WDOGCTRL_WDOGMSK_MASK | R_WDOGCTRL_WDOGIRQ_MASK)

typedef struct GR740IrqampTstamp {
    uint32_t ctrl;          /* ITSTMPC_STORED bits */
    uint32_t assertion;
    uint32_t ack;
} GR740IrqampTstamp;

/* One internal interrupt controller. */
typedef struct GR740IrqampCtrl {
    uint32_t ilevel;
    uint32_t ipend;
    uint32_t brdcst;
    uint32_t wdogctrl;      /* WDOGCTRL_STORED bits */
    GR740IrqampTstamp ts[IRQAMP_NTSTAMP];
} GR740IrqampCtrl;

struct GR740IrqampState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    qemu_irq cpu_irq[IRQAMP_MAX_CPUS];
    qemu_irq cpu_start[IRQAMP_MAX_CPUS];

    GR740IrqampCtrl ctrl[IRQAMP_MAX_CTRL];
    uint32_t pimask[IRQAMP_MAX_CPUS];
    uint32_t piforce[IRQAMP_MAX_CPUS];
    uint32_t pextack[IRQAMP_MAX_CPUS];
    uint32_t baddr[IRQAMP_MAX_CPUS];
    uint32_t pil[IRQAMP_MAX_CPUS];  /* level presented on cpu-irq[n] */
    uint32_t halted;                /* MPSTAT.STATUS */
    uint32_t asmpctrl;              /* ICF and L */
    uint32_t icselr[2];
    uint32_t irqmap[IRQAMP_NIRQMAP];
    uint32_t bus_level;             /* bus lines currently high */
    GR740CpuPoweredDown powered_down;   /* machine hook, not state */
    void *powered_down_opaque;

    /* Configuration */
    uint32_t ncpu;
    uint32_t nctrl;
    uint32_t eirq;
};

/* Controller lines the controller can latch (extended only with EIRQ). */
static uint32_t irqamp_valid_lines(GR740IrqampState *s)
{
    return s->eirq ? (IRQAMP_REGULAR | IRQAMP_EXTENDED) : IRQAMP_REGULAR;
}

/* Internal controller processor @cpu is routed to (ICSEL). */
static unsigned irqamp_cpu_ctrl(GR740IrqampState *s, unsigned cpu)
{
    return extract32(s->icselr[cpu / 8], 28 - 4 * (cpu % 8), 4);
}

static bool irqamp_cpu_on(GR740IrqampState *s, unsigned cpu, unsigned c)
{
    return irqamp_cpu_ctrl(s, cpu) == c;
}

/* System clocks (250 MHz) of virtual time: the timestamp counter. */
static uint32_t irqamp_tcnt(void)
{
    return muldiv64(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), GR740_SYS_FREQ_HZ,
                    NANOSECONDS_PER_SECOND);
}

/* Controller line of bus line @line (interrupt map). */
static unsigned irqamp_map(GR740IrqampState *s, unsigned line)
{
    return extract32(s->irqmap[line / 4], 24 - 8 * (line % 4), 5);
}

static uint32_t irqamp_map_lines(GR740IrqampState *s, uint32_t bus)
{
    uint32_t lines = 0;
    unsigned n;

    for (n = 1; n < IRQAMP_LINES; n++) {
        if (bus & (1u << n)) {
            lines |= 1u << irqamp_map(s, n);
        }
    }
    return lines & irqamp_valid_lines(s);
}

/* Interrupt level presented to processor @cpu (0: none). */
static unsigned irqamp_cpu_level(GR740IrqampState *s, unsigned cpu)
{
    unsigned c = irqamp_cpu_ctrl(s, cpu);
    uint32_t pend, lines, high;

    if (c >= s->nctrl) {
        return 0;
    }
    pend = (s->ctrl[c].ipend | s->piforce[cpu]) & s->pimask[cpu];
    lines = pend & IRQAMP_REGULAR;
    if (s->eirq && (pend & IRQAMP_EXTENDED)) {
        lines |= 1u << s->eirq;
    }
    if (!lines) {
        return 0;
    }
    high = lines & s->ctrl[c].ilevel;
    return 31 - clz32(high ? high : lines);
}

static void irqamp_update(GR740IrqampState *s)
{
    unsigned n;

    for (n = 0; n < s->ncpu; n++) {
        unsigned level = irqamp_cpu_level(s, n);

        if (level != s->pil[n]) {
            trace_gr740_irqamp_cpu_level(n, level);
            s->pil[n] = level;
            qemu_set_irq(s->cpu_irq[n], level);
        }
    }
}

/*
 * Controller lines @lines are asserted: set them pending in every
 * controller, or, for broadcast lines, in the force register of every
 * processor routed to that controller (UM 21.2.5).
 */
static void irqamp_assert(GR740IrqampState *s, uint32_t lines)
{
    unsigned c, n;

    lines &= irqamp_valid_lines(s);
    if (!lines) {
        return;
    }
    for (c = 0; c < s->nctrl; c++) {
        uint32_t bc = lines & s->ctrl[c].brdcst & IRQAMP_REGULAR;

        s->ctrl[c].ipend |= lines & ~bc;
        for (n = 0; bc && n < s->ncpu; n++) {
            if (irqamp_cpu_on(s, n, c)) {
                s->piforce[n] |= bc;
            }
        }
    }
}

/* Lines still held high set their pending bits again after a clear. */
static void irqamp_reassert(GR740IrqampState *s)
{
    irqamp_assert(s, irqamp_map_lines(s, s->bus_level));
}

/* Timestamp an assertion of controller line @line in every controller. */
static void irqamp_stamp_assert(GR740IrqampState *s, unsigned line)
{
    uint32_t now = irqamp_tcnt();
    unsigned c, i;

    for (c = 0; c < s->nctrl; c++) {
        for (i = 0; i < IRQAMP_NTSTAMP; i++) {
            GR740IrqampTstamp *t = &s->ctrl[c].ts[i];

            if (FIELD_EX32(t->ctrl, ITSTMPC, TSISEL) != line) {
                continue;
            }
            if (FIELD_EX32(t->ctrl, ITSTMPC, KS)) {
                if (FIELD_EX32(t->ctrl, ITSTMPC, S1)) {
                    continue;   /* keep the first stamp */
                }
            } else {
                t->ctrl = FIELD_DP32(t->ctrl, ITSTMPC, S2, 0);
            }
            t->assertion = now;
            t->ctrl = FIELD_DP32(t->ctrl, ITSTMPC, S1, 1);
        }
    }
}

static void irqamp_stamp_ack(GR740IrqampState *s, unsigned c, unsigned line)
{
    unsigned i;

    for (i = 0; i < IRQAMP_NTSTAMP; i++) {
        GR740IrqampTstamp *t = &s->ctrl[c].ts[i];

        if (FIELD_EX32(t->ctrl, ITSTMPC, TSISEL) != line ||
            !FIELD_EX32(t->ctrl, ITSTMPC, S1) ||
            (FIELD_EX32(t->ctrl, ITSTMPC, KS) &&
             FIELD_EX32(t->ctrl, ITSTMPC, S2))) {
            continue;
        }
        t->ack = irqamp_tcnt();
        t->ctrl = FIELD_DP32(t->ctrl, ITSTMPC, S2, 1);
    }
}

/* Bus interrupt line @line changes to @level. */
static void irqamp_set_irq(void *opaque, int line, int level)
{
    GR740IrqampState *s = opaque;
    uint32_t bit = 1u << line;

    trace_gr740_irqamp_set_irq(line, level);
    if (!level) {
        s->bus_level &= ~bit;
        return;
    }
    if (line == 0 || (s->bus_level & bit)) {
        s->bus_level |= bit;
        return;
    }
    s->bus_level |= bit;
    if (irqamp_map_lines(s, bit)) {
        irqamp_stamp_assert(s, irqamp_map(s, line));
    }
    irqamp_assert(s, irqamp_map_lines(s, bit));
    irqamp_update(s);
}

/* Watchdog input @n pulses: WDOGIRQ pending where WDOGMSK enables it. */
static void irqamp_wdog(void *opaque, int n, int level)
{
    GR740IrqampState *s = opaque;
    unsigned c;

    trace_gr740_irqamp_wdog(n, level);
    if (!level) {
        return;
    }
    for (c = 0; c < s->nctrl; c++) {
        uint32_t w = s->ctrl[c].wdogctrl;
        unsigned line = FIELD_EX32(w, WDOGCTRL, WDOGIRQ);

        if ((FIELD_EX32(w, WDOGCTRL, WDOGMSK) & (1u << n)) && line) {
            s->ctrl[c].ipend |= 1u << line;
        }
    }
    irqamp_update(s);
}

void gr740_irqamp_ack(DeviceState *dev, unsigned cpu, unsigned level)
{
    GR740IrqampState *s = GR740_IRQAMP(dev);
    uint32_t bit = 1u << level;
    unsigned c, line = level;
    GR740IrqampCtrl *ctrl;
    uint32_t ext;

    if (cpu >= s->ncpu || level == 0 || level > 15) {
        return;
    }
    c = irqamp_cpu_ctrl(s, cpu);
    if (c >= s->nctrl) {
        return;
    }
    ctrl = &s->ctrl[c];
    ext = ctrl->ipend & s->pimask[cpu] & IRQAMP_EXTENDED;
    if (s->piforce[cpu] & bit) {
        s->piforce[cpu] &= ~bit;
    } else if (s->eirq && level == s->eirq && ext) {
        line = 31 - clz32(ext);
        ctrl->ipend &= ~((1u << line) | bit);
        s->pextack[cpu] = line;
    } else {
        ctrl->ipend &= ~bit;
    }
    trace_gr740_irqamp_ack(cpu, level, line);
    irqamp_stamp_ack(s, c, line);
    irqamp_reassert(s);
    irqamp_update(s);
}

uint32_t gr740_irqamp_boot_address(DeviceState *dev, unsigned cpu,
                                   bool *valid)
{
    GR740IrqampState *s = GR740_IRQAMP(dev);
    uint32_t b = cpu < s->ncpu ? s->baddr[cpu] : 0;

    *valid = FIELD_EX32(b, BADDR, AS);
    return b & R_BADDR_BOOTADDR_MASK;
}

void gr740_irqamp_set_power_down_hook(DeviceState *dev,
                                      GR740CpuPoweredDown fn, void *opaque)
{
    GR740IrqampState *s = GR740_IRQAMP(dev);

    s->powered_down = fn;
    s->powered_down_opaque = opaque;
}

/* MPSTAT.STATUS: not yet started, or in power-down. */
static uint32_t irqamp_status(GR740IrqampState *s)
{
    uint32_t r = s->halted;
    unsigned n;

    for (n = 0; s->powered_down && n < s->ncpu; n++) {
        if (s->powered_down(s->powered_down_opaque, n)) {
            r |= 1u << n;
        }
    }
    return r;
}

static uint32_t irqamp_mpstat(GR740IrqampState *s)
{
    uint32_t r = irqamp_status(s);

    r = FIELD_DP32(r, MPSTAT, EIRQ, s->eirq);
    r = FIELD_DP32(r, MPSTAT, ER, 1);
    r = FIELD_DP32(r, MPSTAT, BA, 1);
    r = FIELD_DP32(r, MPSTAT, NCPU, s->ncpu - 1);
    return r;
}

static void irqamp_start_cpus(GR740IrqampState *s, unsigned c, uint32_t v)
{
    uint32_t status = irqamp_status(s);
    unsigned n;

    for (n = 0; n < s->ncpu; n++) {
        uint32_t bit = 1u << n;

        if (!(v & bit) || !(status & bit) || !irqamp_cpu_on(s, n, c)) {
            continue;
        }
        s->halted &= ~bit;
        trace_gr740_irqamp_start(n, s->baddr[n]);
        qemu_irq_pulse(s->cpu_start[n]);
    }
}

static void irqamp_write_piforce(GR740IrqampState *s, unsigned c,
                                 unsigned n, uint32_t v)
{
    uint32_t set = v & IRQAMP_REGULAR;
    uint32_t clr = (v >> 16) & IRQAMP_REGULAR;

    if (irqamp_cpu_on(s, n, c)) {
        s->piforce[n] = (s->piforce[n] | set) & ~clr;
    } else if (FIELD_EX32(s->asmpctrl, ASMPCTRL, ICF)) {
        s->piforce[n] |= set;   /* set, never clear, from elsewhere */
    }
}

static void irqamp_guest_error(const char *what, unsigned c, hwaddr o,
                               uint32_t v)
{
    qemu_log_mask(LOG_GUEST_ERROR,
                  "gr740-irqamp: %s of undefined offset 0x%" HWADDR_PRIx
                  " of controller %u (0x%08x)\n", what, o, c, v);
}

/* Is @o the register at @base of a processor (then its index in *@n)? */
static bool irqamp_cpu_reg(GR740IrqampState *s, hwaddr o, hwaddr base,
                           unsigned *n)
{
    *n = (o - base) / 4;
    return o >= base && o < base + 0x40 && *n < s->ncpu;
}

static uint64_t irqamp_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740IrqampState *s = opaque;
    unsigned c = offset / IRQAMP_CTRL_STRIDE;
    hwaddr o = offset % IRQAMP_CTRL_STRIDE;
    GR740IrqampCtrl *ctrl = &s->ctrl[c < s->nctrl ? c : 0];
    uint32_t r = 0;
    unsigned n;

    if (c >= s->nctrl) {
        irqamp_guest_error("read", c, o, 0);
        return 0;
    }
    switch (o) {
    case A_ILEVEL:
        r = ctrl->ilevel;
        break;
    case A_IPEND:
        r = ctrl->ipend;
        break;
    case A_IFORCE0:
        r = s->piforce[0];
        break;
    case A_ICLEAR:
    case A_ERRSTAT:
        break;
    case A_MPSTAT:
        r = irqamp_mpstat(s);
        break;
    case A_BRDCST:
        r = ctrl->brdcst;
        break;
    case A_WDOGCTRL:
        r = FIELD_DP32(ctrl->wdogctrl, WDOGCTRL, NWDOG, IRQAMP_NWDOG);
        break;
    case A_ASMPCTRL:
        r = FIELD_DP32(s->asmpctrl, ASMPCTRL, NCTRL, s->nctrl - 1);
        break;
    case A_ICSELR0:
    case A_ICSELR1:
        r = s->icselr[(o - A_ICSELR0) / 4];
        break;
    default:
        if (irqamp_cpu_reg(s, o, A_PIMASK, &n)) {
            r = s->pimask[n];
        } else if (irqamp_cpu_reg(s, o, A_PIFORCE, &n)) {
            r = s->piforce[n];
        } else if (irqamp_cpu_reg(s, o, A_PEXTACK, &n)) {
            r = s->pextack[n];
        } else if (irqamp_cpu_reg(s, o, A_BADDR, &n)) {
            r = s->baddr[n];
        } else if (o >= A_ITCNT && o < A_ITCNT + 0x10 * IRQAMP_NTSTAMP) {
            GR740IrqampTstamp *t = &ctrl->ts[(o - A_ITCNT) / 0x10];

            switch (o & 0xF) {
            case A_ITCNT & 0xF:
                r = irqamp_tcnt();
                break;
            case A_ITSTMPC & 0xF:
                r = FIELD_DP32(t->ctrl, ITSTMPC, TSTAMP, IRQAMP_NTSTAMP);
                break;
            case A_ITSTMPAS & 0xF:
                r = t->assertion;
                break;
            case A_ITSTMPAC & 0xF:
                r = t->ack;
                break;
            }
        } else if (c == 0 && o >= A_IRQMAP &&
                   o < A_IRQMAP + 4 * IRQAMP_NIRQMAP) {
            r = s->irqmap[(o - A_IRQMAP) / 4];
        } else {
            irqamp_guest_error("read", c, o, 0);
        }
        break;
    }
    trace_gr740_irqamp_read(offset, r);
    return r;
}

static void irqamp_write(void *opaque, hwaddr offset, uint64_t value,
                         unsigned size)
{
    GR740IrqampState *s = opaque;
    unsigned c = offset / IRQAMP_CTRL_STRIDE;
    hwaddr o = offset % IRQAMP_CTRL_STRIDE;
    GR740IrqampCtrl *ctrl = &s->ctrl[c < s->nctrl ? c : 0];
    uint32_t v = value;
    unsigned n;

    trace_gr740_irqamp_write(offset, v);
    if (c >= s->nctrl) {
        irqamp_guest_error("write", c, o, v);
        return;
    }
    switch (o) {
    case A_ILEVEL:
        ctrl->ilevel = v & IRQAMP_REGULAR;
        break;
    case A_IPEND:
        ctrl->ipend = v & irqamp_valid_lines(s);
        break;
    case A_IFORCE0:
        if (irqamp_cpu_on(s, 0, c)) {
            s->piforce[0] = v & IRQAMP_REGULAR;
        }
        break;
    case A_ICLEAR:
        ctrl->ipend &= ~v;
        break;
    case A_MPSTAT:
        irqamp_start_cpus(s, c, FIELD_EX32(v, MPSTAT, STATUS));
        break;
    case A_BRDCST:
        ctrl->brdcst = v & IRQAMP_REGULAR;
        break;
    case A_ERRSTAT:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "gr740-irqamp: write to read-only ERRSTAT\n");
        break;
    case A_WDOGCTRL:
        ctrl->wdogctrl = v & WDOGCTRL_STORED;
        break;
    case A_ASMPCTRL:
        if (c == 0) {
            s->asmpctrl = v & (R_ASMPCTRL_ICF_MASK | R_ASMPCTRL_L_MASK);
        }
        break;
    case A_ICSELR0:
    case A_ICSELR1:
        if (c == 0 && !FIELD_EX32(s->asmpctrl, ASMPCTRL, L)) {
            s->icselr[(o - A_ICSELR0) / 4] = v;
        }
        break;
    default:
        if (irqamp_cpu_reg(s, o, A_PIMASK, &n)) {
            if (irqamp_cpu_on(s, n, c)) {
                s->pimask[n] = v & irqamp_valid_lines(s);
            }
        } else if (irqamp_cpu_reg(s, o, A_PIFORCE, &n)) {
            irqamp_write_piforce(s, c, n, v);
        } else if (irqamp_cpu_reg(s, o, A_PEXTACK, &n)) {
            if (irqamp_cpu_on(s, n, c)) {
                s->pextack[n] = v & R_PEXTACK_EID_MASK;
            }
        } else if (irqamp_cpu_reg(s, o, A_BADDR, &n)) {
            if (irqamp_cpu_on(s, n, c)) {
                s->baddr[n] = v & (R_BADDR_BOOTADDR_MASK | R_BADDR_AS_MASK);
            }
        } else if (o >= A_ITCNT && o < A_ITCNT + 0x10 * IRQAMP_NTSTAMP) {
            GR740IrqampTstamp *t = &ctrl->ts[(o - A_ITCNT) / 0x10];

            if ((o & 0xF) == (A_ITSTMPC & 0xF)) {
                /* S1/S2: write 1 clears; KS and TSISEL read/write. */
                uint32_t sticky = t->ctrl & ~v &
                                  (R_ITSTMPC_S1_MASK | R_ITSTMPC_S2_MASK);

                t->ctrl = (v & (R_ITSTMPC_TSISEL_MASK | R_ITSTMPC_KS_MASK)) |
                          sticky;
            } else {
                qemu_log_mask(LOG_GUEST_ERROR,
                              "gr740-irqamp: write to read-only timestamp "
                              "register 0x%" HWADDR_PRIx "\n", o);
            }
        } else if (c == 0 && o >= A_IRQMAP &&
                   o < A_IRQMAP + 4 * IRQAMP_NIRQMAP) {
            s->irqmap[(o - A_IRQMAP) / 4] = v;
        } else {
            irqamp_guest_error("write", c, o, v);
        }
        break;
    }
    /* Lines held high set again what a write cleared. */
    irqamp_reassert(s);
    irqamp_update(s);
}

static const MemoryRegionOps irqamp_ops = {
    .read = irqamp_read,
    .write = irqamp_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 4,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static void irqamp_reset_hold(Object *obj, ResetType type)
{
    GR740IrqampState *s = GR740_IRQAMP(obj);
    unsigned i, n;

    memset(s->ctrl, 0, sizeof(s->ctrl));
    memset(s->pimask, 0, sizeof(s->pimask));
    memset(s->piforce, 0, sizeof(s->piforce));
    memset(s->pextack, 0, sizeof(s->pextack));
    memset(s->baddr, 0, sizeof(s->baddr));
    memset(s->icselr, 0, sizeof(s->icselr));
    s->asmpctrl = 0;
    /* Processor 0 runs from reset, the others wait for MPSTAT (UM 21.2.4). */
    s->halted = ((1u << s->ncpu) - 1) & ~1u;
    for (i = 0; i < IRQAMP_NIRQMAP; i++) {
        s->irqmap[i] = (4 * i) << 24 | (4 * i + 1) << 16 |
                       (4 * i + 2) << 8 | (4 * i + 3);
    }
    /* bus_level follows the inputs, which reset on their own. */
    for (n = 0; n < s->ncpu; n++) {
        s->pil[n] = 0;
        qemu_set_irq(s->cpu_irq[n], 0);
    }
}

static void irqamp_realize(DeviceState *dev, Error **errp)
{
    GR740IrqampState *s = GR740_IRQAMP(dev);
    unsigned n;

    if (s->ncpu < 1 || s->ncpu > IRQAMP_MAX_CPUS) {
        error_setg(errp, "gr740-irqamp: ncpu must be 1..%d, not %u",
                   IRQAMP_MAX_CPUS, s->ncpu);
        return;
    }
    if (s->nctrl < 1 || s->nctrl > IRQAMP_MAX_CTRL) {
        error_setg(errp, "gr740-irqamp: nctrl must be 1..%d, not %u",
                   IRQAMP_MAX_CTRL, s->nctrl);
        return;
    }
    if (s->eirq > 15) {
        error_setg(errp, "gr740-irqamp: eirq must be 0 (none) or 1..15, "
                   "not %u", s->eirq);
        return;
    }
    qdev_init_gpio_out_named(dev, s->cpu_irq, "cpu-irq", s->ncpu);
    qdev_init_gpio_out_named(dev, s->cpu_start, "cpu-start", s->ncpu);
    for (n = 0; n < s->ncpu; n++) {
        g_autofree char *name = g_strdup_printf("cpu%u-level", n);

        object_property_add_uint32_ptr(OBJECT(dev), name, &s->pil[n],
                                       OBJ_PROP_FLAG_READ);
    }
}

static void irqamp_init(Object *obj)
{
    GR740IrqampState *s = GR740_IRQAMP(obj);

    memory_region_init_io(&s->iomem, obj, &irqamp_ops, s, TYPE_GR740_IRQAMP,
                          IRQAMP_WINDOW);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
    qdev_init_gpio_in(DEVICE(obj), irqamp_set_irq, IRQAMP_LINES);
    qdev_init_gpio_in_named(DEVICE(obj), irqamp_wdog, "wdog", IRQAMP_NWDOG);
}

static int irqamp_post_load(void *opaque, int version_id)
{
    GR740IrqampState *s = opaque;
    unsigned c, i;

    for (c = 0; c < IRQAMP_MAX_CTRL; c++) {
        if (s->ctrl[c].wdogctrl & ~WDOGCTRL_STORED) {
            return -EINVAL;
        }
        for (i = 0; i < IRQAMP_NTSTAMP; i++) {
            if (s->ctrl[c].ts[i].ctrl & ~ITSTMPC_STORED) {
                return -EINVAL;
            }
        }
    }
    for (i = 0; i < IRQAMP_MAX_CPUS; i++) {
        if (s->pil[i] > 15) {
            return -EINVAL;
        }
    }
    return 0;
}

static const VMStateDescription vmstate_gr740_irqamp_tstamp = {
    .name = TYPE_GR740_IRQAMP "/tstamp",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, GR740IrqampTstamp),
        VMSTATE_UINT32(assertion, GR740IrqampTstamp),
        VMSTATE_UINT32(ack, GR740IrqampTstamp),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_gr740_irqamp_ctrl = {
    .name = TYPE_GR740_IRQAMP "/ctrl",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ilevel, GR740IrqampCtrl),
        VMSTATE_UINT32(ipend, GR740IrqampCtrl),
        VMSTATE_UINT32(brdcst, GR740IrqampCtrl),
        VMSTATE_UINT32(wdogctrl, GR740IrqampCtrl),
        VMSTATE_STRUCT_ARRAY(ts, GR740IrqampCtrl, IRQAMP_NTSTAMP, 1,
                             vmstate_gr740_irqamp_tstamp, GR740IrqampTstamp),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_gr740_irqamp = {
    .name = TYPE_GR740_IRQAMP,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = irqamp_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(ctrl, GR740IrqampState, IRQAMP_MAX_CTRL, 1,
                             vmstate_gr740_irqamp_ctrl, GR740IrqampCtrl),
        VMSTATE_UINT32_ARRAY(pimask, GR740IrqampState, IRQAMP_MAX_CPUS),
        VMSTATE_UINT32_ARRAY(piforce, GR740IrqampState, IRQAMP_MAX_CPUS),
        VMSTATE_UINT32_ARRAY(pextack, GR740IrqampState, IRQAMP_MAX_CPUS),
        VMSTATE_UINT32_ARRAY(baddr, GR740IrqampState, IRQAMP_MAX_CPUS),
        VMSTATE_UINT32_ARRAY(pil, GR740IrqampState, IRQAMP_MAX_CPUS),
        VMSTATE_UINT32(halted, GR740IrqampState),
        VMSTATE_UINT32(asmpctrl, GR740IrqampState),
        VMSTATE_UINT32_ARRAY(icselr, GR740IrqampState, 2),
        VMSTATE_UINT32_ARRAY(irqmap, GR740IrqampState, IRQAMP_NIRQMAP),
        VMSTATE_UINT32(bus_level, GR740IrqampState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property irqamp_properties[] = {
    DEFINE_PROP_UINT32("ncpu", GR740IrqampState, ncpu, IRQAMP_MAX_CPUS),
    DEFINE_PROP_UINT32("nctrl", GR740IrqampState, nctrl, IRQAMP_MAX_CTRL),
    DEFINE_PROP_UINT32("eirq", GR740IrqampState, eirq, GR740_EIRQ),
};

/*
 * QOM property "acknowledge" (uint32, write-only): what the processor does
 * when it takes an interrupt trap, for tests and QMP.  [3:0] level, [11:8]
 * processor.
 */
static void irqamp_prop_ack(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    GR740IrqampState *s = GR740_IRQAMP(obj);
    uint32_t val;

    if (!visit_type_uint32(v, name, &val, errp)) {
        return;
    }
    if (((val >> 8) & 0xF) >= s->ncpu || (val & ~0xFFFu) || !(val & 0xF)) {
        error_setg(errp, "acknowledge: want (cpu << 8) | level with cpu < %u "
                   "and level 1..15, not 0x%x", s->ncpu, val);
        return;
    }
    gr740_irqamp_ack(DEVICE(obj), (val >> 8) & 0xF, val & 0xF);
}

static void irqamp_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = irqamp_realize;
    dc->vmsd = &vmstate_gr740_irqamp;
    rc->phases.hold = irqamp_reset_hold;
    device_class_set_props(dc, irqamp_properties);
    object_class_property_add(klass, "acknowledge", "uint32", NULL,
                              irqamp_prop_ack, NULL, NULL);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo irqamp_info = {
    .name = TYPE_GR740_IRQAMP,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740IrqampState),
    .instance_init = irqamp_init,
    .class_init = irqamp_class_init,
};

static void irqamp_register_types(void)
{
    type_register_static(&irqamp_info);
}

type_init(irqamp_register_types)
