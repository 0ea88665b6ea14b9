/*
 * ITC workbench: GR740 PROM/IO memory controller registers (FTMCTRL)
 *
 * Register interface of the FTMCTRL (8/16-bit PROM and I/O with EDAC).
 * The PROM itself is a ROM region of the machine; these registers hold
 * the configuration software programs (wait states, widths, EDAC enable)
 * and have no effect on QEMU's accesses.  Layout: RTEMS ftmctrl-regs.h /
 * FACTS.md 3.12.  MCFG2/4/6 (SRAM/SDRAM configuration) do not exist on
 * the GR740's FTMCTRL (no RAM behind it): they read 0 and log.
 *
 * Reset values (model decision, UNCONFIRMED): MCFG1 has the slowest PROM
 * timing (read/write wait states 15) and the PROM width of the "prom-width"
 * bootstrap property (0 = 8-bit, 1 = 16-bit); MCFG3.PE (PROM EDAC) comes
 * from the "prom-edac" bootstrap property; MCFG3.ME (EDAC available) is 1.
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
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740FTMCTRLState, GR740_FTMCTRL)

REG32(MCFG1, 0x00)
    FIELD(MCFG1, PROM_READ_WS, 0, 4)
    FIELD(MCFG1, PROM_WRITE_WS, 4, 4)
    FIELD(MCFG1, PROM_WIDTH, 8, 2)
    FIELD(MCFG1, PWEN, 11, 1)
    FIELD(MCFG1, IOEN, 19, 1)
REG32(MCFG2, 0x04)
REG32(MCFG3, 0x08)
    FIELD(MCFG3, TCB, 0, 8)
    FIELD(MCFG3, PE, 8, 1)
    FIELD(MCFG3, RB, 10, 1)
    FIELD(MCFG3, WB, 11, 1)
    FIELD(MCFG3, ME, 27, 1)
REG32(MCFG4, 0x0C)
REG32(MCFG5, 0x10)
REG32(MCFG6, 0x14)
REG32(MCFG7, 0x18)
    FIELD(MCFG7, BRDYNRLD, 0, 16)
    FIELD(MCFG7, BRDYNCNT, 16, 16)

#define FTMCTRL_REG_SIZE 0x100
#define MCFG1_WMASK 0x7EFBCBFFu
#define MCFG3_WMASK 0x00000DFFu
#define MCFG5_WMASK 0x3F803F80u
#define MCFG7_WMASK 0x0000FFFFu

struct GR740FTMCTRLState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;

    uint32_t mcfg1;
    uint32_t mcfg3;
    uint32_t mcfg5;
    uint32_t mcfg7;

    /* Bootstrap pins */
    uint8_t prom_width;
    bool prom_edac;
};

static uint64_t ftmctrl_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740FTMCTRLState *s = opaque;
    uint32_t r = 0;

    switch (offset) {
    case A_MCFG1:
        r = s->mcfg1;
        break;
    case A_MCFG3:
        r = s->mcfg3 | R_MCFG3_ME_MASK;
        break;
    case A_MCFG5:
        r = s->mcfg5;
        break;
    case A_MCFG7:
        r = s->mcfg7;   /* BRDYNCNT: no bus-ready timeouts, reads 0 */
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-ftmctrl: read of undefined "
                      "offset 0x%" HWADDR_PRIx "\n", offset);
        break;
    }
    trace_gr740_ftmctrl_read(offset, r);
    return r;
}

bool gr740_ftmctrl_prom_edac(DeviceState *dev)
{
    return FIELD_EX32(GR740_FTMCTRL(dev)->mcfg3, MCFG3, PE);
}

static void ftmctrl_write(void *opaque, hwaddr offset, uint64_t value,
                          unsigned size)
{
    GR740FTMCTRLState *s = opaque;
    uint32_t v = value;

    trace_gr740_ftmctrl_write(offset, v);
    switch (offset) {
    case A_MCFG1:
        s->mcfg1 = v & MCFG1_WMASK;
        break;
    case A_MCFG3:
        s->mcfg3 = v & MCFG3_WMASK;
        break;
    case A_MCFG5:
        s->mcfg5 = v & MCFG5_WMASK;
        break;
    case A_MCFG7:
        s->mcfg7 = v & MCFG7_WMASK;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-ftmctrl: write of undefined "
                      "offset 0x%" HWADDR_PRIx " (0x%08x)\n", offset, v);
        break;
    }
}

static const MemoryRegionOps ftmctrl_ops = {
    .read = ftmctrl_read,
    .write = ftmctrl_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void ftmctrl_reset_hold(Object *obj, ResetType type)
{
    GR740FTMCTRLState *s = GR740_FTMCTRL(obj);

    s->mcfg1 = 0;
    s->mcfg1 = FIELD_DP32(s->mcfg1, MCFG1, PROM_READ_WS, 0xF);
    s->mcfg1 = FIELD_DP32(s->mcfg1, MCFG1, PROM_WRITE_WS, 0xF);
    s->mcfg1 = FIELD_DP32(s->mcfg1, MCFG1, PROM_WIDTH, s->prom_width);
    s->mcfg3 = FIELD_DP32(0, MCFG3, PE, s->prom_edac);
    s->mcfg5 = 0;
    s->mcfg7 = 0;
}

static void ftmctrl_realize(DeviceState *dev, Error **errp)
{
    GR740FTMCTRLState *s = GR740_FTMCTRL(dev);

    if (s->prom_width > 1) {
        error_setg(errp, "gr740-ftmctrl: prom-width must be 0 (8-bit) or "
                   "1 (16-bit)");
    }
}

static void ftmctrl_init(Object *obj)
{
    GR740FTMCTRLState *s = GR740_FTMCTRL(obj);

    memory_region_init_io(&s->iomem, obj, &ftmctrl_ops, s, TYPE_GR740_FTMCTRL,
                          FTMCTRL_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
}

static const VMStateDescription vmstate_gr740_ftmctrl = {
    .name = TYPE_GR740_FTMCTRL,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(mcfg1, GR740FTMCTRLState),
        VMSTATE_UINT32(mcfg3, GR740FTMCTRLState),
        VMSTATE_UINT32(mcfg5, GR740FTMCTRLState),
        VMSTATE_UINT32(mcfg7, GR740FTMCTRLState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property ftmctrl_properties[] = {
    DEFINE_PROP_UINT8("prom-width", GR740FTMCTRLState, prom_width, 0),
    DEFINE_PROP_BOOL("prom-edac", GR740FTMCTRLState, prom_edac, false),
};

static void ftmctrl_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = ftmctrl_realize;
    dc->vmsd = &vmstate_gr740_ftmctrl;
    rc->phases.hold = ftmctrl_reset_hold;
    device_class_set_props(dc, ftmctrl_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo ftmctrl_info = {
    .name = TYPE_GR740_FTMCTRL,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740FTMCTRLState),
    .instance_init = ftmctrl_init,
    .class_init = ftmctrl_class_init,
};

static void ftmctrl_register_types(void)
{
    type_register_static(&ftmctrl_info);
}

type_init(ftmctrl_register_types)
