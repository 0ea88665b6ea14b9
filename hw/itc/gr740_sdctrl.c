/*
 * ITC workbench: GR740 SDRAM controller configuration registers
 *
 * Register interface of the GR740's 64-bit PC100 SDRAM controller with
 * Reed-Solomon EDAC (RTEMS mmctrl-regs.h / FACTS.md 3.12).  SDRAM is
 * plain QEMU RAM, so timing fields are stored only; SDCFG1.COMMAND
 * executes at once and reads back 0.  MUXCFG.EDEN enables EDAC: the
 * fault injector (gr740_fault.c) asks gr740_sdctrl_edac() whether an
 * injected SEU is corrected/reported or just seen as flipped bits.
 *
 * Reset values (model decision, UNCONFIRMED): SDCFG1 with slow safe
 * timing (TRP=1, TRFC=7, TC=1), 64-bit bus, refresh reload 0x7FFF;
 * MUXCFG with the 64+32 bit Reed-Solomon data width (DWIDTH=2) and EDEN
 * from the "edac" bootstrap property.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740SDCTRLState, GR740_SDCTRL)

REG32(SDCFG1, 0x00)
    FIELD(SDCFG1, RFLOAD, 0, 15)
    FIELD(SDCFG1, D64, 15, 1)
    FIELD(SDCFG1, COMMAND, 18, 3)
    FIELD(SDCFG1, TC, 26, 1)
    FIELD(SDCFG1, TRFC, 27, 3)
    FIELD(SDCFG1, TRP, 30, 1)
REG32(SDCFG2, 0x04)
REG32(MUXCFG, 0x20)
    FIELD(MUXCFG, EDEN, 0, 1)
    FIELD(MUXCFG, DWIDTH, 16, 3)
REG32(FTDA, 0x24)
REG32(FTDC, 0x28)
REG32(FTDD, 0x2C)
REG32(FTBND, 0x30)

#define SDCTRL_REG_SIZE 0x100
/* All defined fields except the read-only 64-bit flag and COMMAND. */
#define SDCFG1_WMASK 0xFFE17FFFu
#define SDCFG2_WMASK 0x4000E000u
/* DATAMUX, CEN, BAUPD, BAEN, CODE, EDEN (ERRLOC, DDERR, DWIDTH, BEID: status) */
#define MUXCFG_WMASK 0x000000FFu

struct GR740SDCTRLState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;

    uint32_t sdcfg1;
    uint32_t sdcfg2;
    uint32_t muxcfg;
    uint32_t ftda;
    uint32_t ftdc;
    uint32_t ftdd;
    uint32_t ftbnd;

    bool edac;              /* bootstrap: EDAC enabled at reset */
};

static uint64_t sdctrl_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740SDCTRLState *s = opaque;
    uint32_t r = 0;

    switch (offset) {
    case A_SDCFG1:
        r = s->sdcfg1 | R_SDCFG1_D64_MASK;
        break;
    case A_SDCFG2:
        r = s->sdcfg2;
        break;
    case A_MUXCFG:
        r = FIELD_DP32(s->muxcfg, MUXCFG, DWIDTH, 2);
        break;
    case A_FTDA:
        r = s->ftda;
        break;
    case A_FTDC:
        r = s->ftdc;
        break;
    case A_FTDD:
        r = s->ftdd;
        break;
    case A_FTBND:
        r = s->ftbnd;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-sdctrl: read of undefined "
                      "offset 0x%" HWADDR_PRIx "\n", offset);
        break;
    }
    trace_gr740_sdctrl_read(offset, r);
    return r;
}

bool gr740_sdctrl_edac(DeviceState *dev)
{
    return FIELD_EX32(GR740_SDCTRL(dev)->muxcfg, MUXCFG, EDEN);
}

static void sdctrl_write(void *opaque, hwaddr offset, uint64_t value,
                         unsigned size)
{
    GR740SDCTRLState *s = opaque;
    uint32_t v = value;

    trace_gr740_sdctrl_write(offset, v);
    switch (offset) {
    case A_SDCFG1:
        /* COMMAND (precharge, refresh, load mode...) completes at once. */
        s->sdcfg1 = v & SDCFG1_WMASK;
        break;
    case A_SDCFG2:
        s->sdcfg2 = v & SDCFG2_WMASK;
        break;
    case A_MUXCFG:
        s->muxcfg = v & MUXCFG_WMASK;
        break;
    case A_FTDA:
        s->ftda = v;
        break;
    case A_FTDC:
        s->ftdc = v;
        break;
    case A_FTDD:
        s->ftdd = v;
        break;
    case A_FTBND:
        s->ftbnd = v;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-sdctrl: write of undefined "
                      "offset 0x%" HWADDR_PRIx " (0x%08x)\n", offset, v);
        break;
    }
}

static const MemoryRegionOps sdctrl_ops = {
    .read = sdctrl_read,
    .write = sdctrl_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void sdctrl_reset_hold(Object *obj, ResetType type)
{
    GR740SDCTRLState *s = GR740_SDCTRL(obj);

    s->sdcfg1 = 0;
    s->sdcfg1 = FIELD_DP32(s->sdcfg1, SDCFG1, TRP, 1);
    s->sdcfg1 = FIELD_DP32(s->sdcfg1, SDCFG1, TRFC, 7);
    s->sdcfg1 = FIELD_DP32(s->sdcfg1, SDCFG1, TC, 1);
    s->sdcfg1 = FIELD_DP32(s->sdcfg1, SDCFG1, RFLOAD, 0x7FFF);
    s->sdcfg2 = 0;
    s->muxcfg = FIELD_DP32(0, MUXCFG, EDEN, s->edac);
    s->ftda = s->ftdc = s->ftdd = s->ftbnd = 0;
}

static void sdctrl_init(Object *obj)
{
    GR740SDCTRLState *s = GR740_SDCTRL(obj);

    memory_region_init_io(&s->iomem, obj, &sdctrl_ops, s, TYPE_GR740_SDCTRL,
                          SDCTRL_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
}

static const VMStateDescription vmstate_gr740_sdctrl = {
    .name = TYPE_GR740_SDCTRL,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(sdcfg1, GR740SDCTRLState),
        VMSTATE_UINT32(sdcfg2, GR740SDCTRLState),
        VMSTATE_UINT32(muxcfg, GR740SDCTRLState),
        VMSTATE_UINT32(ftda, GR740SDCTRLState),
        VMSTATE_UINT32(ftdc, GR740SDCTRLState),
        VMSTATE_UINT32(ftdd, GR740SDCTRLState),
        VMSTATE_UINT32(ftbnd, GR740SDCTRLState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property sdctrl_properties[] = {
    DEFINE_PROP_BOOL("edac", GR740SDCTRLState, edac, false),
};

static void sdctrl_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->vmsd = &vmstate_gr740_sdctrl;
    rc->phases.hold = sdctrl_reset_hold;
    device_class_set_props(dc, sdctrl_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo sdctrl_info = {
    .name = TYPE_GR740_SDCTRL,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740SDCTRLState),
    .instance_init = sdctrl_init,
    .class_init = sdctrl_class_init,
};

static void sdctrl_register_types(void)
{
    type_register_static(&sdctrl_info);
}

type_init(sdctrl_register_types)
