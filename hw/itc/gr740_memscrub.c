/*
 * ITC workbench: GR740 memory scrubber and AHB status (GRLIB MEMSCRUB)
 *
 * The MEMSCRUB core on the GR740 memory bus is both an AHB status
 * register for the SDRAM (capturing EDAC errors, counting them against
 * thresholds) and a scrubber that walks a memory range.  Register layout:
 * RTEMS memscrub-regs.h / FACTS.md 3.7.
 *
 * Scrubbing is modelled on the virtual clock only: a run over
 * [RANGEL, RANGEH] takes (blocks * (DELAY + burst cycles)) system clocks;
 * POS is computed from the elapsed virtual time, and at the end of a run
 * STAT.DONE is set, RUNCOUNT is cleared, the scrubber stops (or restarts
 * with CONFIG.LOOP) and, with CONFIG.IRQD, interrupts.  Memory contents
 * are never read or written (no EDAC syndrome is modelled, and the
 * "initialise" mode does not write the INIT pattern), so the scrubber
 * itself finds no errors: STAT.RUNCOUNT/BLKCOUNT stay 0 and the ETHRES
 * thresholds are stored only.  Errors reach the AHBS/AHBFAR registers
 * through gr740_memscrub_report_error(): CPU accesses to an SDRAM word the
 * fault injector poisoned (gr740_fault.c), and, at the end of each run in
 * scrub mode, the poisoned words of the range (the scan hook; the
 * injector corrects the correctable ones, as the scrubber writes back
 * corrected data).  Model decision (UNCONFIRMED): errors found by a run
 * are all reported when the run completes, not at the block's position.
 *
 * Model decisions (UNCONFIRMED details):
 *  - AHBS: NE, CE, DONE, SEC, SBC, CECNT and UECNT are written directly
 *    by software (write 0 to clear); the capture fields are read-only.
 *  - An uncorrectable error interrupts on capture unless AHBERC.UECTE is
 *    set, in which case it interrupts when UECNT reaches UECNTT.  A
 *    correctable error interrupts only when AHBERC.CECTE is set and CECNT
 *    reaches CECNTT.  STAT.DONE is cleared by writing 0 to it.
 *  - A block is 32 bytes (one burst of 8 words: BURSTLEN = 3), taking
 *    8 + DELAY system clocks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "qapi/visitor.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740MemScrubState, GR740_MEMSCRUB)

REG32(AHBS, 0x00)
    FIELD(AHBS, HSIZE, 0, 3)
    FIELD(AHBS, HMASTER, 3, 4)
    FIELD(AHBS, HWRITE, 7, 1)
    FIELD(AHBS, NE, 8, 1)
    FIELD(AHBS, CE, 9, 1)
    FIELD(AHBS, SBC, 10, 1)
    FIELD(AHBS, SEC, 11, 1)
    FIELD(AHBS, DONE, 13, 1)
    FIELD(AHBS, UECNT, 14, 8)
    FIELD(AHBS, CECNT, 22, 10)
REG32(AHBFAR, 0x04)
REG32(AHBERC, 0x08)
    FIELD(AHBERC, UECTE, 0, 1)
    FIELD(AHBERC, CECTE, 1, 1)
    FIELD(AHBERC, UECNTT, 14, 8)
    FIELD(AHBERC, CECNTT, 22, 10)
REG32(STAT, 0x10)
    FIELD(STAT, ACTIVE, 0, 1)
    FIELD(STAT, BURSTLEN, 1, 4)
    FIELD(STAT, DONE, 13, 1)
    FIELD(STAT, BLKCOUNT, 14, 8)
    FIELD(STAT, RUNCOUNT, 22, 10)
REG32(CONFIG, 0x14)
    FIELD(CONFIG, SCEN, 0, 1)
    FIELD(CONFIG, ES, 1, 1)
    FIELD(CONFIG, MODE, 2, 2)
    FIELD(CONFIG, LOOP, 4, 1)
    FIELD(CONFIG, SERA, 5, 1)
    FIELD(CONFIG, IRQD, 7, 1)
    FIELD(CONFIG, DELAY, 8, 8)
REG32(RANGEL, 0x18)
REG32(RANGEH, 0x1C)
REG32(POS, 0x20)
REG32(ETHRES, 0x24)
REG32(INIT, 0x28)
REG32(RANGEL2, 0x2C)
REG32(RANGEH2, 0x30)

#define MEMSCRUB_REG_SIZE 0x100
#define BLOCK_BYTES 32u
#define BLOCK_MASK (BLOCK_BYTES - 1)
#define BURSTLEN_CODE 3u        /* 2^3 = 8 words */
#define BURST_CLOCKS 8u
#define AHBS_SW_BITS (R_AHBS_NE_MASK | R_AHBS_CE_MASK | R_AHBS_SBC_MASK | \
                      R_AHBS_SEC_MASK | R_AHBS_DONE_MASK | \
                      R_AHBS_UECNT_MASK | R_AHBS_CECNT_MASK)
#define AHBERC_WMASK  0xFFFFC003u
#define CONFIG_WMASK  0x0000FFBFu
#define ETHRES_WMASK  0xFFFFC003u

struct GR740MemScrubState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    qemu_irq irq;
    QEMUTimer *done_timer;

    uint32_t ahbs;
    uint32_t ahbfar;
    uint32_t ahberc;
    uint32_t stat;          /* DONE, BLKCOUNT, RUNCOUNT, ACTIVE */
    uint32_t config;
    uint32_t rangel, rangeh, rangel2, rangeh2;
    uint32_t ethres;
    uint32_t init;
    int64_t run_start_ns;   /* virtual time the current run started */
    uint32_t run_base;      /* first address of the current run */

    uint32_t freq_hz;

    GR740ScrubHook scan_hook;
    void *scan_opaque;
};

void gr740_memscrub_set_scan_hook(DeviceState *dev, GR740ScrubHook fn,
                                  void *opaque)
{
    GR740MemScrubState *s = GR740_MEMSCRUB(dev);

    s->scan_hook = fn;
    s->scan_opaque = opaque;
}

static int64_t memscrub_block_ns(GR740MemScrubState *s)
{
    uint64_t clocks = BURST_CLOCKS + FIELD_EX32(s->config, CONFIG, DELAY);

    return MAX(1, muldiv64(clocks, NANOSECONDS_PER_SECOND, s->freq_hz));
}

static void memscrub_range(GR740MemScrubState *s, uint32_t *lo, uint32_t *hi)
{
    bool second = FIELD_EX32(s->config, CONFIG, SERA);

    *lo = (second ? s->rangel2 : s->rangel) & ~BLOCK_MASK;
    *hi = (second ? s->rangeh2 : s->rangeh) | BLOCK_MASK;
}

static uint64_t memscrub_run_blocks(GR740MemScrubState *s)
{
    uint32_t lo, hi;

    memscrub_range(s, &lo, &hi);
    if (hi < lo) {
        return 1;
    }
    return ((uint64_t)hi - lo + 1) / BLOCK_BYTES;
}

static void memscrub_irq_pulse(GR740MemScrubState *s, const char *why)
{
    trace_gr740_memscrub_irq(why);
    qemu_irq_pulse(s->irq);
}

static void memscrub_start_run(GR740MemScrubState *s)
{
    uint32_t lo, hi;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    memscrub_range(s, &lo, &hi);
    s->run_base = lo;
    s->run_start_ns = now;
    s->stat = FIELD_DP32(s->stat, STAT, ACTIVE, 1);
    timer_mod(s->done_timer,
              now + memscrub_run_blocks(s) * memscrub_block_ns(s));
    trace_gr740_memscrub_run(lo, hi);
}

static void memscrub_stop(GR740MemScrubState *s)
{
    s->stat = FIELD_DP32(s->stat, STAT, ACTIVE, 0);
    timer_del(s->done_timer);
}

static void memscrub_run_done(void *opaque)
{
    GR740MemScrubState *s = opaque;
    uint32_t lo, hi;

    /* Scrub mode reads every block of the range: EDAC errors it finds. */
    memscrub_range(s, &lo, &hi);
    if (s->scan_hook && FIELD_EX32(s->config, CONFIG, MODE) == 0) {
        s->scan_hook(s->scan_opaque, DEVICE(s), lo, hi);
    }

    s->stat = FIELD_DP32(s->stat, STAT, DONE, 1);
    s->stat = FIELD_DP32(s->stat, STAT, RUNCOUNT, 0);
    s->stat = FIELD_DP32(s->stat, STAT, BLKCOUNT, 0);
    s->ahbs = FIELD_DP32(s->ahbs, AHBS, DONE, 1);
    if (FIELD_EX32(s->config, CONFIG, LOOP) &&
        FIELD_EX32(s->config, CONFIG, SCEN)) {
        memscrub_start_run(s);
    } else {
        s->config = FIELD_DP32(s->config, CONFIG, SCEN, 0);
        memscrub_stop(s);
    }
    if (FIELD_EX32(s->config, CONFIG, IRQD)) {
        memscrub_irq_pulse(s, "done");
    }
}

static uint32_t memscrub_pos(GR740MemScrubState *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    uint64_t blocks;

    if (!FIELD_EX32(s->stat, STAT, ACTIVE)) {
        return 0;
    }
    blocks = (now - s->run_start_ns) / memscrub_block_ns(s);
    blocks = MIN(blocks, memscrub_run_blocks(s) - 1);
    return s->run_base + blocks * BLOCK_BYTES;
}

void gr740_memscrub_report_error(DeviceState *dev, uint32_t addr, bool write,
                                 unsigned master, unsigned hsize,
                                 bool correctable)
{
    GR740MemScrubState *s = GR740_MEMSCRUB(dev);
    uint32_t a = s->ahbs;
    bool irq = false;

    trace_gr740_memscrub_report(addr, write, correctable);
    if (correctable) {
        uint32_t n = FIELD_EX32(a, AHBS, CECNT);

        if (n < R_AHBS_CECNT_MASK >> R_AHBS_CECNT_SHIFT) {
            a = FIELD_DP32(a, AHBS, CECNT, ++n);
        }
        irq = FIELD_EX32(s->ahberc, AHBERC, CECTE) &&
              n == FIELD_EX32(s->ahberc, AHBERC, CECNTT);
    } else {
        uint32_t n = FIELD_EX32(a, AHBS, UECNT);

        if (n < R_AHBS_UECNT_MASK >> R_AHBS_UECNT_SHIFT) {
            a = FIELD_DP32(a, AHBS, UECNT, ++n);
        }
        irq = FIELD_EX32(s->ahberc, AHBERC, UECTE) ?
              n == FIELD_EX32(s->ahberc, AHBERC, UECNTT) :
              !FIELD_EX32(a, AHBS, NE);
    }
    if (!FIELD_EX32(a, AHBS, NE)) {
        a = FIELD_DP32(a, AHBS, HSIZE, hsize);
        a = FIELD_DP32(a, AHBS, HMASTER, master);
        a = FIELD_DP32(a, AHBS, HWRITE, write);
        a = FIELD_DP32(a, AHBS, NE, 1);
        a = FIELD_DP32(a, AHBS, CE, correctable);
        s->ahbfar = addr;
    }
    s->ahbs = a;
    if (irq) {
        memscrub_irq_pulse(s, correctable ? "ce-threshold" : "ue");
    }
}

static uint64_t memscrub_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740MemScrubState *s = opaque;
    uint32_t r = 0;

    switch (offset) {
    case A_AHBS:
        r = s->ahbs;
        break;
    case A_AHBFAR:
        r = s->ahbfar;
        break;
    case A_AHBERC:
        r = s->ahberc;
        break;
    case A_STAT:
        r = FIELD_DP32(s->stat, STAT, BURSTLEN, BURSTLEN_CODE);
        break;
    case A_CONFIG:
        r = s->config;
        break;
    case A_RANGEL:
        r = s->rangel & ~BLOCK_MASK;
        break;
    case A_RANGEH:
        r = s->rangeh | BLOCK_MASK;
        break;
    case A_RANGEL2:
        r = s->rangel2 & ~BLOCK_MASK;
        break;
    case A_RANGEH2:
        r = s->rangeh2 | BLOCK_MASK;
        break;
    case A_POS:
        r = memscrub_pos(s);
        break;
    case A_ETHRES:
        r = s->ethres;
        break;
    case A_INIT:
        r = s->init;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-memscrub: read of undefined "
                      "offset 0x%" HWADDR_PRIx "\n", offset);
        break;
    }
    trace_gr740_memscrub_read(offset, r);
    return r;
}

static void memscrub_write(void *opaque, hwaddr offset, uint64_t value,
                           unsigned size)
{
    GR740MemScrubState *s = opaque;
    uint32_t v = value;
    bool was_on;

    trace_gr740_memscrub_write(offset, v);
    switch (offset) {
    case A_AHBS:
        s->ahbs = (s->ahbs & ~AHBS_SW_BITS) | (v & AHBS_SW_BITS);
        break;
    case A_AHBERC:
        s->ahberc = v & AHBERC_WMASK;
        break;
    case A_STAT:
        /* DONE is cleared by writing 0; the rest is status. */
        if (!FIELD_EX32(v, STAT, DONE)) {
            s->stat = FIELD_DP32(s->stat, STAT, DONE, 0);
        }
        break;
    case A_CONFIG:
        was_on = FIELD_EX32(s->config, CONFIG, SCEN);
        s->config = v & CONFIG_WMASK;
        if (FIELD_EX32(s->config, CONFIG, MODE) == 3) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "gr740-memscrub: CONFIG.MODE 3 is undefined\n");
        }
        if (!was_on && FIELD_EX32(s->config, CONFIG, SCEN)) {
            memscrub_start_run(s);
        } else if (was_on && !FIELD_EX32(s->config, CONFIG, SCEN)) {
            memscrub_stop(s);
        }
        break;
    case A_RANGEL:
        s->rangel = v & ~BLOCK_MASK;
        break;
    case A_RANGEH:
        s->rangeh = v | BLOCK_MASK;
        break;
    case A_RANGEL2:
        s->rangel2 = v & ~BLOCK_MASK;
        break;
    case A_RANGEH2:
        s->rangeh2 = v | BLOCK_MASK;
        break;
    case A_ETHRES:
        s->ethres = v & ETHRES_WMASK;
        break;
    case A_INIT:
        s->init = v;
        break;
    case A_AHBFAR:
    case A_POS:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-memscrub: write to read-only "
                      "offset 0x%" HWADDR_PRIx " ignored\n", offset);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-memscrub: write of undefined "
                      "offset 0x%" HWADDR_PRIx " (0x%08x)\n", offset, v);
        break;
    }
}

static const MemoryRegionOps memscrub_ops = {
    .read = memscrub_read,
    .write = memscrub_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void memscrub_set_inject(Object *obj, Visitor *v, const char *name,
                                void *opaque, Error **errp)
{
    uint64_t inj;

    if (visit_type_uint64(v, name, &inj, errp)) {
        gr740_memscrub_report_error(DEVICE(obj), GR740_INJ_ADDR(inj),
                                    GR740_INJ_WRITE(inj),
                                    GR740_INJ_MASTER(inj),
                                    GR740_INJ_HSIZE(inj),
                                    GR740_INJ_CORRECTABLE(inj));
    }
}

static void memscrub_reset_hold(Object *obj, ResetType type)
{
    GR740MemScrubState *s = GR740_MEMSCRUB(obj);

    timer_del(s->done_timer);
    s->ahbs = 0;
    s->ahbfar = 0;
    s->ahberc = 0;
    s->stat = 0;
    s->config = 0;
    s->rangel = s->rangel2 = 0;
    s->rangeh = s->rangeh2 = BLOCK_MASK;
    s->ethres = 0;
    s->init = 0;
    s->run_start_ns = 0;
    s->run_base = 0;
    qemu_set_irq(s->irq, 0);
}

static void memscrub_realize(DeviceState *dev, Error **errp)
{
    GR740MemScrubState *s = GR740_MEMSCRUB(dev);

    if (s->freq_hz == 0) {
        error_setg(errp, "gr740-memscrub: frequency must not be 0");
        return;
    }
    s->done_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, memscrub_run_done, s);
}

static void memscrub_unrealize(DeviceState *dev)
{
    GR740MemScrubState *s = GR740_MEMSCRUB(dev);

    timer_free(s->done_timer);
}

static void memscrub_init(Object *obj)
{
    GR740MemScrubState *s = GR740_MEMSCRUB(obj);

    memory_region_init_io(&s->iomem, obj, &memscrub_ops, s,
                          TYPE_GR740_MEMSCRUB, MEMSCRUB_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
    object_property_add(obj, "inject-error", "uint64", NULL,
                        memscrub_set_inject, NULL, NULL);
}

static const VMStateDescription vmstate_gr740_memscrub = {
    .name = TYPE_GR740_MEMSCRUB,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ahbs, GR740MemScrubState),
        VMSTATE_UINT32(ahbfar, GR740MemScrubState),
        VMSTATE_UINT32(ahberc, GR740MemScrubState),
        VMSTATE_UINT32(stat, GR740MemScrubState),
        VMSTATE_UINT32(config, GR740MemScrubState),
        VMSTATE_UINT32(rangel, GR740MemScrubState),
        VMSTATE_UINT32(rangeh, GR740MemScrubState),
        VMSTATE_UINT32(rangel2, GR740MemScrubState),
        VMSTATE_UINT32(rangeh2, GR740MemScrubState),
        VMSTATE_UINT32(ethres, GR740MemScrubState),
        VMSTATE_UINT32(init, GR740MemScrubState),
        VMSTATE_INT64(run_start_ns, GR740MemScrubState),
        VMSTATE_UINT32(run_base, GR740MemScrubState),
        VMSTATE_TIMER_PTR(done_timer, GR740MemScrubState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property memscrub_properties[] = {
    DEFINE_PROP_UINT32("frequency", GR740MemScrubState, freq_hz,
                       GR740_SYS_FREQ_HZ),
};

static void memscrub_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = memscrub_realize;
    dc->unrealize = memscrub_unrealize;
    dc->vmsd = &vmstate_gr740_memscrub;
    rc->phases.hold = memscrub_reset_hold;
    device_class_set_props(dc, memscrub_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo memscrub_info = {
    .name = TYPE_GR740_MEMSCRUB,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740MemScrubState),
    .instance_init = memscrub_init,
    .class_init = memscrub_class_init,
};

static void memscrub_register_types(void)
{
    type_register_static(&memscrub_info);
}

type_init(memscrub_register_types)
