/*
 * ITC workbench: GR740 LEON4 up-counter (%asr22/%asr23)
 *
 * GR740-UM-DS v1.7 sect. 6.10.4 (Tables 51/52): a 56-bit counter shared by
 * all processors (the DSU time tag counter), read through
 *   %asr22  DUCNT[31] (rw, reset 1)  RESERVED[30:24]  UPCNT(55:32)[23:0]
 *   %asr23  UPCNT(31:0)
 * It counts system clock cycles (250 MHz) while at least one processor has
 * its DUCNT bit cleared (the DSU, which could also enable it, is not
 * modelled), also while processors are powered down.  It is 0 after reset
 * and only DUCNT is writable; writes to %asr23 are ignored.
 *
 * The count is derived from QEMU_CLOCK_VIRTUAL, so it advances exactly with
 * the instruction count under -icount and replays identically.  The CPU
 * reads and writes the registers through the board ASR hooks of the LEON
 * CPU (qemu/patches/0002).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "cpu.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740UpCounterState, GR740_UPCOUNTER)

#define UPCNT_BITS          56
#define UPCNT_MASK          ((1ULL << UPCNT_BITS) - 1)
#define ASR22_DUCNT         (1u << 31)
#define ASR22_UPCNT_MASK    0x00ffffffu

struct GR740UpCounterState {
    SysBusDevice parent_obj;

    /* properties */
    uint32_t num_cpus;
    uint64_t freq_hz;

    /* state */
    uint32_t ducnt;     /* bit n: DUCNT of CPU n */
    uint64_t frozen;    /* count while stopped */
    int64_t base;       /* while running: count = clock ticks - base */
};

static uint32_t upcnt_all_cpus(GR740UpCounterState *s)
{
    return (1u << s->num_cpus) - 1;
}

static bool upcnt_running(GR740UpCounterState *s)
{
    return (s->ducnt & upcnt_all_cpus(s)) != upcnt_all_cpus(s);
}

/* System clock cycles since the virtual clock started. */
static int64_t upcnt_ticks(GR740UpCounterState *s)
{
    return muldiv64(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), s->freq_hz,
                    NANOSECONDS_PER_SECOND);
}

static uint64_t upcnt_value(GR740UpCounterState *s)
{
    uint64_t v = upcnt_running(s) ? upcnt_ticks(s) - s->base : s->frozen;

    return v & UPCNT_MASK;
}

static uint32_t gr740_upcounter_asr_read(CPUSPARCState *env, void *opaque,
                                         int asr)
{
    GR740UpCounterState *s = opaque;
    int cpu = env_cpu(env)->cpu_index;
    uint64_t v = upcnt_value(s);
    uint32_t ret;

    switch (asr) {
    case 22:
        ret = (s->ducnt & (1u << cpu) ? ASR22_DUCNT : 0) |
              ((v >> 32) & ASR22_UPCNT_MASK);
        break;
    case 23:
        ret = (uint32_t)v;
        break;
    default:
        ret = 0;
        break;
    }
    trace_gr740_upcounter_read(cpu, asr, ret);
    return ret;
}

static void gr740_upcounter_asr_write(CPUSPARCState *env, void *opaque,
                                      int asr, uint32_t value)
{
    GR740UpCounterState *s = opaque;
    int cpu = env_cpu(env)->cpu_index;
    uint64_t now = upcnt_value(s);
    bool was_running = upcnt_running(s);

    trace_gr740_upcounter_write(cpu, asr, value);
    if (asr != 22) {
        return;     /* %asr23 is read-only */
    }
    if (value & ASR22_DUCNT) {
        s->ducnt |= 1u << cpu;
    } else {
        s->ducnt &= ~(1u << cpu);
    }
    if (was_running && !upcnt_running(s)) {
        s->frozen = now;
    } else if (!was_running && upcnt_running(s)) {
        s->base = upcnt_ticks(s) - s->frozen;
    }
}

void gr740_upcounter_connect_cpu(DeviceState *dev, CPUArchState *env)
{
    env->leon_asr_read = gr740_upcounter_asr_read;
    env->leon_asr_write = gr740_upcounter_asr_write;
    env->leon_asr_opaque = GR740_UPCOUNTER(dev);
}

static void gr740_upcounter_reset_hold(Object *obj, ResetType type)
{
    GR740UpCounterState *s = GR740_UPCOUNTER(obj);

    s->ducnt = upcnt_all_cpus(s);
    s->frozen = 0;
    s->base = 0;
}

static void gr740_upcounter_realize(DeviceState *dev, Error **errp)
{
    GR740UpCounterState *s = GR740_UPCOUNTER(dev);

    if (s->num_cpus < 1 || s->num_cpus > 16) {
        error_setg(errp, "gr740-upcounter: num-cpus must be 1..16, not %u",
                   s->num_cpus);
        return;
    }
    if (s->freq_hz == 0 || s->freq_hz > NANOSECONDS_PER_SECOND) {
        error_setg(errp, "gr740-upcounter: freq must be 1..1000000000 Hz");
        return;
    }
}

static const VMStateDescription vmstate_gr740_upcounter = {
    .name = "gr740-upcounter",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ducnt, GR740UpCounterState),
        VMSTATE_UINT64(frozen, GR740UpCounterState),
        VMSTATE_INT64(base, GR740UpCounterState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property gr740_upcounter_properties[] = {
    DEFINE_PROP_UINT32("num-cpus", GR740UpCounterState, num_cpus, 1),
    DEFINE_PROP_UINT64("freq", GR740UpCounterState, freq_hz,
                       GR740_SYS_FREQ_HZ),
};

static void gr740_upcounter_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->desc = "GR740 LEON4 up-counter (%asr22/%asr23)";
    dc->realize = gr740_upcounter_realize;
    dc->vmsd = &vmstate_gr740_upcounter;
    rc->phases.hold = gr740_upcounter_reset_hold;
    device_class_set_props(dc, gr740_upcounter_properties);
}

static const TypeInfo gr740_upcounter_info = {
    .name = TYPE_GR740_UPCOUNTER,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740UpCounterState),
    .class_init = gr740_upcounter_class_init,
};

static void gr740_upcounter_register_types(void)
{
    type_register_static(&gr740_upcounter_info);
}

type_init(gr740_upcounter_register_types)
