/*
 * ITC workbench: GR740 GPTIMER (GRLIB general purpose timer unit)
 *
 * One 16-bit prescaler shared by up to 7 32-bit down-counters.  The
 * prescaler decrements every system clock; when it underflows it reloads
 * from SRELOAD and every enabled, unchained timer decrements by one.  A
 * chained timer (TCTRL.CH) decrements when the preceding timer underflows
 * instead.  A timer underflowing with RS set reloads from TRLDVAL, without
 * RS it stops at 0xFFFFFFFF and clears EN.  With IE set the underflow sets
 * IP and signals the timer's interrupt (IRQ + n with CONFIG.SI, else one
 * shared line).
 *
 * Timing model (tick-exact, cheap): nothing runs per prescaler tick.  The
 * prescaler is an anchor (virtual time, prescaler value, tick number at
 * that instant); the prescaler value and the number of ticks since the
 * anchor are computed from QEMU_CLOCK_VIRTUAL in system clocks.  Each
 * free-running timer is (value, tick number at which it had that value),
 * so TCNTVAL is computed on read.  One QEMUTimer per unit is armed for the
 * earliest underflow that has an observable effect (interrupt, stop,
 * chained successor, "tick" output); periodic underflows nobody observes
 * are never materialised.  Writing SCALER or SRELOAD re-anchors the
 * prescaler after bringing every timer up to date, so timing changes at
 * exactly the written instant.  A QEMUTimer rather than a ptimer: a ptimer
 * counts from the moment it is started, which cannot express the phase of
 * the shared prescaler (a timer enabled mid-period first decrements at the
 * next prescaler underflow, not a full period later).
 *
 * Interrupts are pulses (GRLIB interrupts are one-cycle pulses latched by
 * the IRQ(A)MP); every signalled underflow gives one pulse.
 *
 * Inputs: gpio "latch" 0..31 = the interrupt bus lines.  When a line
 * selected in LATCHCFG rises while CONFIG.EL is set, every TLATCH[n] takes
 * its timer's value and EL clears; with CONFIG.ES set every timer is also
 * loaded from its reload register and ES clears.  The machine may leave
 * them unconnected (then latching never happens).
 * Output: gpio "tick" pulses on each underflow of the last timer, with or
 * without IE.  GR740 UM 21.2.8: the IRQ(A)MP watchdog inputs "are
 * connected to the tick outputs from timer 4 on general purpose timer
 * units 1 - 4" and are "high for one cycle" when it underflows.  GRLIB
 * numbers timers from 1, and UM 20.1 gives the units "four or five"
 * timers, so "timer 4" is taken to be the last timer of units 1..4.
 *
 * Decisions on points the GR740 manual pages available to us do not show
 * (UNCONFIRMED, see the report in the issue note):
 *  - CONFIG writable bits: DF, EL, ES.  EE (external clock) reads 0: the
 *    GR740 timer units have no external clock input in this model; EV
 *    reads 0.  DF has no effect (no debug halt; TCTRL.DH reads 0).
 *  - EL/ES self-clear after a latch event (GRLIB GPTIMER description).
 *  - SCALER and SRELOAD reset to 0xFFFF; counters, reloads and controls
 *    reset to 0, except the watchdog timer when "wdog" is non-zero (last
 *    timer enabled with IE and the counter preset to that value).
 *  - TCTRL.WN/WS are stored (read back) but have no effect.
 *  - CH on timer 0 is stored and ignored (timer 0 has no predecessor).
 *
 * Fault injection (gr740_fault.c; VMState subsection "fault"): a timer
 * can lose underflows (it reloads, but no IP, interrupt or tick output),
 * a number of them or all while a flag is set; the prescaler can drift
 * (its clock runs freq * (1 + ppm / 1e6)), applied by re-anchoring the
 * prescaler at the instant the drift starts or ends, as a SCALER write.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740GPTimerState, GR740_GPTIMER)

REG32(SCALER, 0x00)
    FIELD(SCALER, VALUE, 0, 16)
REG32(SRELOAD, 0x04)
    FIELD(SRELOAD, VALUE, 0, 16)
REG32(CONFIG, 0x08)
    FIELD(CONFIG, TIMERS, 0, 3)
    FIELD(CONFIG, IRQ, 3, 5)
    FIELD(CONFIG, SI, 8, 1)
    FIELD(CONFIG, DF, 9, 1)
    FIELD(CONFIG, EE, 10, 1)
    FIELD(CONFIG, EL, 11, 1)
    FIELD(CONFIG, ES, 12, 1)
    FIELD(CONFIG, EV, 13, 1)
REG32(LATCHCFG, 0x0C)
/* Per timer n at 0x10 + 0x10 * n */
REG32(TCNTVAL, 0x10)
REG32(TRLDVAL, 0x14)
REG32(TCTRL, 0x18)
    FIELD(TCTRL, EN, 0, 1)
    FIELD(TCTRL, RS, 1, 1)
    FIELD(TCTRL, LD, 2, 1)
    FIELD(TCTRL, IE, 3, 1)
    FIELD(TCTRL, IP, 4, 1)
    FIELD(TCTRL, CH, 5, 1)
    FIELD(TCTRL, DH, 6, 1)
    FIELD(TCTRL, WN, 7, 1)
    FIELD(TCTRL, WS, 8, 1)
REG32(TLATCH, 0x1C)

#define GPT_REG_SIZE        0x100
#define GPT_MAX_TIMERS      7
#define GPT_LATCH_LINES     32
#define CONFIG_WRITABLE     (R_CONFIG_DF_MASK | R_CONFIG_EL_MASK | \
                             R_CONFIG_ES_MASK)
/* TCTRL bits kept in the state (LD is an action, DH is read-only 0). */
#define TCTRL_STORED        (R_TCTRL_EN_MASK | R_TCTRL_RS_MASK | \
                             R_TCTRL_IE_MASK | R_TCTRL_IP_MASK | \
                             R_TCTRL_CH_MASK | R_TCTRL_WN_MASK | \
                             R_TCTRL_WS_MASK)

typedef struct GR740GPTimer {
    uint32_t count;     /* value at tick number @tick_ref (or frozen value) */
    uint64_t tick_ref;  /* prescaler tick number @count refers to */
    uint32_t reload;
    uint32_t ctrl;      /* TCTRL_STORED bits */
    uint32_t latch;
} GR740GPTimer;

struct GR740GPTimerState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    QEMUTimer *timer;
    qemu_irq irq[GPT_MAX_TIMERS];
    qemu_irq tick;

    /* Prescaler: value @scaler_anchor at @anchor_ns, tick number then. */
    int64_t anchor_ns;
    uint32_t scaler_anchor;
    uint64_t ticks_anchor;
    uint32_t sreload;
    uint32_t config;    /* CONFIG_WRITABLE bits */
    uint32_t latchcfg;
    GR740GPTimer t[GPT_MAX_TIMERS];

    /* Injected faults */
    uint32_t lost[GPT_MAX_TIMERS];  /* underflows still to lose */
    uint32_t lost_all;              /* bit n: timer n loses every one */
    int32_t drift_ppm;

    /* Configuration */
    uint32_t nr_timers;
    uint32_t freq_hz;
    uint32_t irq_line;
    bool separate_irq;
    uint32_t wdog;
};

/* The prescaler's clock (Hz), with an injected drift. */
static uint32_t gpt_freq(GR740GPTimerState *s)
{
    int64_t f = s->freq_hz + (int64_t)s->freq_hz * s->drift_ppm / 1000000;

    return MAX(f, 1);
}

/* System clocks elapsed between the prescaler anchor and @now. */
static uint64_t gpt_cycles(GR740GPTimerState *s, int64_t now)
{
    if (now <= s->anchor_ns) {
        return 0;
    }
    return muldiv64(now - s->anchor_ns, gpt_freq(s), NANOSECONDS_PER_SECOND);
}

/* Prescaler ticks (underflows) in the first @c clocks after the anchor. */
static uint64_t gpt_ticks_in(GR740GPTimerState *s, uint64_t c)
{
    if (c < (uint64_t)s->scaler_anchor + 1) {
        return 0;
    }
    return 1 + (c - s->scaler_anchor - 1) / ((uint64_t)s->sreload + 1);
}

static uint64_t gpt_ticks_at(GR740GPTimerState *s, int64_t now)
{
    return s->ticks_anchor + gpt_ticks_in(s, gpt_cycles(s, now));
}

static uint32_t gpt_scaler_at(GR740GPTimerState *s, int64_t now)
{
    uint64_t c = gpt_cycles(s, now);

    if (c <= s->scaler_anchor) {
        return s->scaler_anchor - c;
    }
    return s->sreload - (c - s->scaler_anchor - 1) % ((uint64_t)s->sreload + 1);
}

/* Virtual time of prescaler tick number @tick (> ticks_anchor). */
static int64_t gpt_tick_time(GR740GPTimerState *s, uint64_t tick)
{
    uint64_t n = tick - s->ticks_anchor;
    uint64_t c = (uint64_t)s->scaler_anchor + 1 +
                 (n - 1) * ((uint64_t)s->sreload + 1);

    /* Saturate far-future events (counts near 2^32 at a 2^16 divisor). */
    if (c > (uint64_t)INT64_MAX / 4) {
        return INT64_MAX;
    }
    return s->anchor_ns +
           muldiv64_round_up(c, NANOSECONDS_PER_SECOND, gpt_freq(s));
}

static bool gpt_chained(GR740GPTimerState *s, unsigned n)
{
    return n > 0 && FIELD_EX32(s->t[n].ctrl, TCTRL, CH);
}

/* Enabled and decremented by the prescaler (not by a predecessor). */
static bool gpt_free_running(GR740GPTimerState *s, unsigned n)
{
    return FIELD_EX32(s->t[n].ctrl, TCTRL, EN) && !gpt_chained(s, n);
}

/* Does an underflow of timer @n have an effect someone can observe? */
static bool gpt_needs_event(GR740GPTimerState *s, unsigned n)
{
    uint32_t c = s->t[n].ctrl;

    if (FIELD_EX32(c, TCTRL, IE) || !FIELD_EX32(c, TCTRL, RS)) {
        return true;
    }
    if (n + 1 < s->nr_timers && gpt_chained(s, n + 1) &&
        FIELD_EX32(s->t[n + 1].ctrl, TCTRL, EN)) {
        return true;
    }
    return n == s->nr_timers - 1 && s->tick;
}

/* Value of timer @n at prescaler tick number @ticks. */
static uint32_t gpt_value_at(GR740GPTimerState *s, unsigned n, uint64_t ticks)
{
    GR740GPTimer *t = &s->t[n];
    uint64_t k;

    if (!gpt_free_running(s, n) || ticks <= t->tick_ref) {
        return t->count;
    }
    k = ticks - t->tick_ref;
    if (k <= t->count) {
        return t->count - k;
    }
    if (!FIELD_EX32(t->ctrl, TCTRL, RS)) {
        return UINT32_MAX;  /* stopped at -1 (the event clears EN) */
    }
    return t->reload - (k - t->count - 1) % ((uint64_t)t->reload + 1);
}

static void gpt_underflow(GR740GPTimerState *s, unsigned n, uint64_t tick)
{
    GR740GPTimer *t = &s->t[n];

    trace_gr740_gptimer_underflow(n, tick);
    if (FIELD_EX32(t->ctrl, TCTRL, RS)) {
        t->count = t->reload;
    } else {
        t->count = UINT32_MAX;
        t->ctrl = FIELD_DP32(t->ctrl, TCTRL, EN, 0);
    }
    t->tick_ref = tick;
    if (s->lost_all & (1u << n) || s->lost[n]) {
        /* Injected fault: the tick is lost (no IP, interrupt, tick out). */
        if (!(s->lost_all & (1u << n))) {
            s->lost[n]--;
        }
        trace_gr740_gptimer_fault_lost(n, tick);
    } else {
        if (FIELD_EX32(t->ctrl, TCTRL, IE)) {
            t->ctrl = FIELD_DP32(t->ctrl, TCTRL, IP, 1);
            qemu_irq_pulse(s->irq[s->separate_irq ? n : 0]);
        }
        if (n == s->nr_timers - 1 && s->tick) {
            qemu_irq_pulse(s->tick);
        }
    }
    if (n + 1 < s->nr_timers && gpt_chained(s, n + 1) &&
        FIELD_EX32(s->t[n + 1].ctrl, TCTRL, EN)) {
        GR740GPTimer *next = &s->t[n + 1];

        if (next->count == 0) {
            gpt_underflow(s, n + 1, tick);
        } else {
            next->count--;
            next->tick_ref = tick;
        }
    }
}

/* Earliest observable underflow: timer index, or -1; tick in *@tick. */
static int gpt_next_event(GR740GPTimerState *s, uint64_t *tick)
{
    int best = -1;
    unsigned n;

    for (n = 0; n < s->nr_timers; n++) {
        uint64_t e;

        if (!gpt_free_running(s, n) || !gpt_needs_event(s, n)) {
            continue;
        }
        e = s->t[n].tick_ref + (uint64_t)s->t[n].count + 1;
        if (best < 0 || e < *tick) {
            best = n;
            *tick = e;
        }
    }
    return best;
}

/*
 * Bring the unit up to @now: run every observable underflow up to the
 * current prescaler tick in order, then fold the free-running timers so
 * that (count, tick_ref) describe the present.
 */
static bool gpt_sync(GR740GPTimerState *s, int64_t now)
{
    uint64_t ticks = gpt_ticks_at(s, now);
    uint64_t e = 0;
    bool events = false;
    unsigned n;
    int i;

    while ((i = gpt_next_event(s, &e)) >= 0 && e <= ticks) {
        gpt_underflow(s, i, e);
        events = true;
    }
    for (n = 0; n < s->nr_timers; n++) {
        if (gpt_free_running(s, n)) {
            s->t[n].count = gpt_value_at(s, n, ticks);
            s->t[n].tick_ref = ticks;
        }
    }
    return events;
}

static void gpt_schedule(GR740GPTimerState *s)
{
    uint64_t e = 0;

    if (gpt_next_event(s, &e) < 0) {
        timer_del(s->timer);
        return;
    }
    timer_mod(s->timer, gpt_tick_time(s, e));
}

static void gpt_timer_cb(void *opaque)
{
    GR740GPTimerState *s = opaque;

    gpt_sync(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    gpt_schedule(s);
}

/* Re-anchor the prescaler at @now with value @scaler (after gpt_sync). */
static void gpt_set_anchor(GR740GPTimerState *s, int64_t now, uint32_t scaler)
{
    s->ticks_anchor = gpt_ticks_at(s, now);
    s->anchor_ns = now;
    s->scaler_anchor = scaler;
}

unsigned gr740_gptimer_nr_timers(DeviceState *dev)
{
    return GR740_GPTIMER(dev)->nr_timers;
}

void gr740_gptimer_lose_ticks(DeviceState *dev, unsigned n, uint32_t count,
                              bool all)
{
    GR740GPTimerState *s = GR740_GPTIMER(dev);

    assert(n < s->nr_timers);
    gpt_sync(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    s->lost[n] = MIN((uint64_t)s->lost[n] + count, UINT32_MAX);
    s->lost_all = all ? s->lost_all | 1u << n : s->lost_all & ~(1u << n);
    gpt_schedule(s);
}

void gr740_gptimer_set_drift(DeviceState *dev, int32_t ppm)
{
    GR740GPTimerState *s = GR740_GPTIMER(dev);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    gpt_sync(s, now);
    gpt_set_anchor(s, now, gpt_scaler_at(s, now));
    s->drift_ppm = ppm;
    trace_gr740_gptimer_fault_drift(ppm);
    gpt_schedule(s);
}

static void gpt_latch(void *opaque, int line, int level)
{
    GR740GPTimerState *s = opaque;
    int64_t now;
    unsigned n;

    if (!level || !(s->latchcfg & (1u << line)) ||
        !(s->config & (R_CONFIG_EL_MASK | R_CONFIG_ES_MASK))) {
        return;
    }
    now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    gpt_sync(s, now);
    for (n = 0; n < s->nr_timers; n++) {
        if (s->config & R_CONFIG_EL_MASK) {
            s->t[n].latch = s->t[n].count;
        }
        if (s->config & R_CONFIG_ES_MASK) {
            s->t[n].count = s->t[n].reload;
        }
    }
    trace_gr740_gptimer_latch(line, s->config);
    s->config &= ~(R_CONFIG_EL_MASK | R_CONFIG_ES_MASK);
    gpt_schedule(s);
}

static uint32_t gpt_config(GR740GPTimerState *s)
{
    uint32_t r = s->config;

    r = FIELD_DP32(r, CONFIG, TIMERS, s->nr_timers);
    r = FIELD_DP32(r, CONFIG, IRQ, s->irq_line);
    r = FIELD_DP32(r, CONFIG, SI, s->separate_irq);
    return r;
}

static uint64_t gpt_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740GPTimerState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    uint32_t r = 0;
    bool events = false;
    unsigned n;

    switch (offset) {
    case A_SCALER:
        r = gpt_scaler_at(s, now);
        break;
    case A_SRELOAD:
        r = s->sreload;
        break;
    case A_CONFIG:
        r = gpt_config(s);
        break;
    case A_LATCHCFG:
        r = s->latchcfg;
        break;
    default:
        n = offset / 0x10 - 1;
        if (offset < A_TCNTVAL || n >= s->nr_timers) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "gr740-gptimer: read of undefined offset 0x%"
                          HWADDR_PRIx "\n", offset);
            break;
        }
        switch (offset & 0xF) {
        case A_TCNTVAL & 0xF:
            events = gpt_sync(s, now);
            r = s->t[n].count;
            break;
        case A_TRLDVAL & 0xF:
            r = s->t[n].reload;
            break;
        case A_TCTRL & 0xF:
            /* IP/EN may change at an underflow not yet processed. */
            events = gpt_sync(s, now);
            r = s->t[n].ctrl;
            break;
        case A_TLATCH & 0xF:
            r = s->t[n].latch;
            break;
        }
        /*
         * Folding the timers keeps the next event where it was; only
         * underflows processed here (before the timer callback ran) move
         * it.  Polling TCNTVAL must not re-arm the timer every time.
         */
        if (events) {
            gpt_schedule(s);
        }
        break;
    }
    trace_gr740_gptimer_read(offset, r);
    return r;
}

static void gpt_write_tctrl(GR740GPTimerState *s, unsigned n, uint32_t v)
{
    GR740GPTimer *t = &s->t[n];
    uint32_t ip = t->ctrl & R_TCTRL_IP_MASK;

    /* IP: writing 1 clears it, writing 0 keeps it (GR740 UM 20.2). */
    if (v & R_TCTRL_IP_MASK) {
        ip = 0;
    }
    t->ctrl = (v & TCTRL_STORED & ~R_TCTRL_IP_MASK) | ip;
    if (FIELD_EX32(v, TCTRL, LD)) {
        t->count = t->reload;
    }
}

static void gpt_write(void *opaque, hwaddr offset, uint64_t value,
                      unsigned size)
{
    GR740GPTimerState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    uint32_t v = value;
    unsigned n;

    trace_gr740_gptimer_write(offset, v);
    gpt_sync(s, now);
    switch (offset) {
    case A_SCALER:
        gpt_set_anchor(s, now, FIELD_EX32(v, SCALER, VALUE));
        break;
    case A_SRELOAD:
        gpt_set_anchor(s, now, gpt_scaler_at(s, now));
        s->sreload = FIELD_EX32(v, SRELOAD, VALUE);
        break;
    case A_CONFIG:
        s->config = v & CONFIG_WRITABLE;
        break;
    case A_LATCHCFG:
        s->latchcfg = v;
        break;
    default:
        n = offset / 0x10 - 1;
        if (offset < A_TCNTVAL || n >= s->nr_timers) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "gr740-gptimer: write of undefined offset 0x%"
                          HWADDR_PRIx " (0x%08x)\n", offset, v);
            break;
        }
        switch (offset & 0xF) {
        case A_TCNTVAL & 0xF:
            s->t[n].count = v;
            break;
        case A_TRLDVAL & 0xF:
            s->t[n].reload = v;
            break;
        case A_TCTRL & 0xF:
            gpt_write_tctrl(s, n, v);
            break;
        case A_TLATCH & 0xF:
            qemu_log_mask(LOG_GUEST_ERROR,
                          "gr740-gptimer: write to read-only TLATCH%u\n", n);
            break;
        }
        break;
    }
    /* Every timer's (count, tick_ref) now refers to the present tick. */
    for (n = 0; n < s->nr_timers; n++) {
        s->t[n].tick_ref = gpt_ticks_at(s, now);
    }
    gpt_schedule(s);
}

static const MemoryRegionOps gpt_ops = {
    .read = gpt_read,
    .write = gpt_write,
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

static void gpt_reset_hold(Object *obj, ResetType type)
{
    GR740GPTimerState *s = GR740_GPTIMER(obj);
    unsigned n;

    s->anchor_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    s->scaler_anchor = R_SCALER_VALUE_MASK;
    s->ticks_anchor = 0;
    s->sreload = R_SRELOAD_VALUE_MASK;
    s->config = 0;
    s->latchcfg = 0;
    memset(s->t, 0, sizeof(s->t));
    if (s->wdog) {
        GR740GPTimer *w = &s->t[s->nr_timers - 1];

        w->count = s->wdog;
        w->ctrl = R_TCTRL_EN_MASK | R_TCTRL_IE_MASK;
    }
    for (n = 0; n < s->nr_timers; n++) {
        qemu_set_irq(s->irq[n], 0);
    }
    qemu_set_irq(s->tick, 0);
    gpt_schedule(s);
}

static void gpt_realize(DeviceState *dev, Error **errp)
{
    GR740GPTimerState *s = GR740_GPTIMER(dev);
    unsigned n;

    if (s->nr_timers < 1 || s->nr_timers > GPT_MAX_TIMERS) {
        error_setg(errp, "gr740-gptimer: nr-timers must be 1..%d, not %u",
                   GPT_MAX_TIMERS, s->nr_timers);
        return;
    }
    if (s->freq_hz == 0) {
        error_setg(errp, "gr740-gptimer: frequency must not be 0");
        return;
    }
    if (s->irq_line > 31) {
        error_setg(errp, "gr740-gptimer: irq-line must be 0..31, not %u",
                   s->irq_line);
        return;
    }
    /* One output per timer with separate interrupts, else a single one. */
    for (n = 0; n < (s->separate_irq ? s->nr_timers : 1); n++) {
        sysbus_init_irq(SYS_BUS_DEVICE(dev), &s->irq[n]);
    }
    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, gpt_timer_cb, s);
}

static void gpt_unrealize(DeviceState *dev)
{
    GR740GPTimerState *s = GR740_GPTIMER(dev);

    timer_free(s->timer);
}

static void gpt_init(Object *obj)
{
    GR740GPTimerState *s = GR740_GPTIMER(obj);

    memory_region_init_io(&s->iomem, obj, &gpt_ops, s, TYPE_GR740_GPTIMER,
                          GPT_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
    qdev_init_gpio_in_named(DEVICE(obj), gpt_latch, "latch", GPT_LATCH_LINES);
    qdev_init_gpio_out_named(DEVICE(obj), &s->tick, "tick", 1);
}

static int gpt_post_load(void *opaque, int version_id)
{
    GR740GPTimerState *s = opaque;
    unsigned n;

    if (s->scaler_anchor > R_SCALER_VALUE_MASK ||
        s->sreload > R_SRELOAD_VALUE_MASK || (s->config & ~CONFIG_WRITABLE) ||
        s->drift_ppm < -GR740_GPTIMER_MAX_DRIFT_PPM ||
        s->drift_ppm > GR740_GPTIMER_MAX_DRIFT_PPM) {
        return -EINVAL;
    }
    for (n = 0; n < GPT_MAX_TIMERS; n++) {
        if (s->t[n].ctrl & ~TCTRL_STORED) {
            return -EINVAL;
        }
    }
    return 0;
}

static bool gpt_fault_needed(void *opaque)
{
    GR740GPTimerState *s = opaque;

    if (s->lost_all || s->drift_ppm) {
        return true;
    }
    for (unsigned n = 0; n < GPT_MAX_TIMERS; n++) {
        if (s->lost[n]) {
            return true;
        }
    }
    return false;
}

static const VMStateDescription vmstate_gr740_gptimer_fault = {
    .name = TYPE_GR740_GPTIMER "/fault",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = gpt_fault_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(lost, GR740GPTimerState, GPT_MAX_TIMERS),
        VMSTATE_UINT32(lost_all, GR740GPTimerState),
        VMSTATE_INT32(drift_ppm, GR740GPTimerState),
        VMSTATE_END_OF_LIST()
    },
};

static int gpt_pre_load(void *opaque)
{
    GR740GPTimerState *s = opaque;

    memset(s->lost, 0, sizeof(s->lost));    /* absent subsection: none */
    s->lost_all = 0;
    s->drift_ppm = 0;
    return 0;
}

static const VMStateDescription vmstate_gr740_gptimer_timer = {
    .name = TYPE_GR740_GPTIMER "/timer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, GR740GPTimer),
        VMSTATE_UINT64(tick_ref, GR740GPTimer),
        VMSTATE_UINT32(reload, GR740GPTimer),
        VMSTATE_UINT32(ctrl, GR740GPTimer),
        VMSTATE_UINT32(latch, GR740GPTimer),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_gr740_gptimer = {
    .name = TYPE_GR740_GPTIMER,
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = gpt_pre_load,
    .post_load = gpt_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_INT64(anchor_ns, GR740GPTimerState),
        VMSTATE_UINT32(scaler_anchor, GR740GPTimerState),
        VMSTATE_UINT64(ticks_anchor, GR740GPTimerState),
        VMSTATE_UINT32(sreload, GR740GPTimerState),
        VMSTATE_UINT32(config, GR740GPTimerState),
        VMSTATE_UINT32(latchcfg, GR740GPTimerState),
        VMSTATE_STRUCT_ARRAY(t, GR740GPTimerState, GPT_MAX_TIMERS, 1,
                             vmstate_gr740_gptimer_timer, GR740GPTimer),
        VMSTATE_TIMER_PTR(timer, GR740GPTimerState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_gr740_gptimer_fault,
        NULL
    },
};

static const Property gpt_properties[] = {
    DEFINE_PROP_UINT32("nr-timers", GR740GPTimerState, nr_timers, 5),
    DEFINE_PROP_UINT32("frequency", GR740GPTimerState, freq_hz,
                       GR740_SYS_FREQ_HZ),
    DEFINE_PROP_UINT32("irq-line", GR740GPTimerState, irq_line, 0),
    DEFINE_PROP_BOOL("separate-irq", GR740GPTimerState, separate_irq, true),
    DEFINE_PROP_UINT32("wdog", GR740GPTimerState, wdog, 0),
};

static void gpt_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = gpt_realize;
    dc->unrealize = gpt_unrealize;
    dc->vmsd = &vmstate_gr740_gptimer;
    rc->phases.hold = gpt_reset_hold;
    device_class_set_props(dc, gpt_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo gpt_info = {
    .name = TYPE_GR740_GPTIMER,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740GPTimerState),
    .instance_init = gpt_init,
    .class_init = gpt_class_init,
};

static void gpt_register_types(void)
{
    type_register_static(&gpt_info);
}

type_init(gpt_register_types)
