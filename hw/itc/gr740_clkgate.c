/*
 * ITC workbench: GR740 clock gating unit (GRLIB GRCLKGATE)
 *
 * Registers (RTEMS grclkgate-regs.h / FACTS.md 3.8): UNLOCK, CLKEN,
 * RESET, OVERRIDE.  GRLIB semantics: a core's CLKEN and RESET bits can
 * only be changed while its UNLOCK bit is set; writes to locked bits are
 * ignored.  OVERRIDE forces the clocks of CPUs/FPUs on (stored only).
 *
 * Gating is bookkeeping only: the other models keep running whatever
 * their clock bit says.  The number of gated cores ("ncores", default 10)
 * and the reset state (all clocks on, no core in reset) are model
 * decisions, UNCONFIRMED against the GR740 UM.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "gr740.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740ClkGateState, GR740_CLKGATE)

REG32(UNLOCK, 0x00)
REG32(CLKEN, 0x04)
REG32(RESET, 0x08)
REG32(OVERRIDE, 0x0C)
    FIELD(OVERRIDE, OVERRIDE, 0, 4)
    FIELD(OVERRIDE, FOVERRIDE, 16, 4)

#define CLKGATE_REG_SIZE 0x100
#define OVERRIDE_WMASK 0x000F000Fu

struct GR740ClkGateState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;

    uint32_t unlock;
    uint32_t clken;
    uint32_t reset;
    uint32_t override;

    uint32_t ncores;
};

static uint32_t clkgate_mask(GR740ClkGateState *s)
{
    return s->ncores >= 32 ? UINT32_MAX : (1u << s->ncores) - 1;
}

static uint64_t clkgate_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740ClkGateState *s = opaque;
    uint32_t r = 0;

    switch (offset) {
    case A_UNLOCK:
        r = s->unlock;
        break;
    case A_CLKEN:
        r = s->clken;
        break;
    case A_RESET:
        r = s->reset;
        break;
    case A_OVERRIDE:
        r = s->override;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-clkgate: read of undefined "
                      "offset 0x%" HWADDR_PRIx "\n", offset);
        break;
    }
    trace_gr740_clkgate_read(offset, r);
    return r;
}

static uint32_t clkgate_unlocked_update(GR740ClkGateState *s, hwaddr offset,
                                        uint32_t old, uint32_t v)
{
    if ((old ^ v) & ~s->unlock) {
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-clkgate: write to locked bits "
                      "0x%08x of offset 0x%" HWADDR_PRIx " ignored\n",
                      (old ^ v) & ~s->unlock, offset);
    }
    return (old & ~s->unlock) | (v & s->unlock);
}

static void clkgate_write(void *opaque, hwaddr offset, uint64_t value,
                          unsigned size)
{
    GR740ClkGateState *s = opaque;
    uint32_t v = value & clkgate_mask(s);

    trace_gr740_clkgate_write(offset, value);
    switch (offset) {
    case A_UNLOCK:
        s->unlock = v;
        break;
    case A_CLKEN:
        s->clken = clkgate_unlocked_update(s, offset, s->clken, v);
        break;
    case A_RESET:
        s->reset = clkgate_unlocked_update(s, offset, s->reset, v);
        break;
    case A_OVERRIDE:
        s->override = value & OVERRIDE_WMASK;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-clkgate: write of undefined "
                      "offset 0x%" HWADDR_PRIx " (0x%08x)\n", offset,
                      (uint32_t)value);
        break;
    }
}

static const MemoryRegionOps clkgate_ops = {
    .read = clkgate_read,
    .write = clkgate_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void clkgate_reset_hold(Object *obj, ResetType type)
{
    GR740ClkGateState *s = GR740_CLKGATE(obj);

    s->unlock = 0;
    s->clken = clkgate_mask(s);
    s->reset = 0;
    s->override = 0;
}

static void clkgate_realize(DeviceState *dev, Error **errp)
{
    GR740ClkGateState *s = GR740_CLKGATE(dev);

    if (s->ncores < 1 || s->ncores > 32) {
        error_setg(errp, "gr740-clkgate: ncores must be 1..32");
    }
}

static void clkgate_init(Object *obj)
{
    GR740ClkGateState *s = GR740_CLKGATE(obj);

    memory_region_init_io(&s->iomem, obj, &clkgate_ops, s, TYPE_GR740_CLKGATE,
                          CLKGATE_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
}

static const VMStateDescription vmstate_gr740_clkgate = {
    .name = TYPE_GR740_CLKGATE,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(unlock, GR740ClkGateState),
        VMSTATE_UINT32(clken, GR740ClkGateState),
        VMSTATE_UINT32(reset, GR740ClkGateState),
        VMSTATE_UINT32(override, GR740ClkGateState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property clkgate_properties[] = {
    DEFINE_PROP_UINT32("ncores", GR740ClkGateState, ncores, 10),
};

static void clkgate_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = clkgate_realize;
    dc->vmsd = &vmstate_gr740_clkgate;
    rc->phases.hold = clkgate_reset_hold;
    device_class_set_props(dc, clkgate_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo clkgate_info = {
    .name = TYPE_GR740_CLKGATE,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740ClkGateState),
    .instance_init = clkgate_init,
    .class_init = clkgate_class_init,
};

static void clkgate_register_types(void)
{
    type_register_static(&clkgate_info);
}

type_init(clkgate_register_types)
