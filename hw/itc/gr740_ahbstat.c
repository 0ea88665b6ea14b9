/*
 * ITC workbench: GR740 AHB status register (GRLIB AHBSTAT)
 *
 * Captures the first failing AHB transaction (or correctable error
 * reported by a fault-tolerant core) and interrupts.  GR740-UM-DS v1.7
 * sect. 27: on an error response the status and failing-address
 * registers are frozen and NE is set, with an interrupt; a correctable
 * error has the same effect and also sets CE.  Software re-arms the
 * monitor by clearing NE.
 *
 * Errors reach the model two ways: gr740_ahbstat_report(), which fault
 * injection and other models call, and the AHB default slave.  The
 * default slave (sysbus MMIO region 1, which the machine maps under the
 * whole 4 GiB address space at the lowest priority) answers every access
 * no other slave decodes with an AHB error response, as the GRLIB AHB
 * controller does: the access fails (the CPU takes an access exception)
 * and AHBSTAT captures it, with HMASTER = the CPU index.  Debugger
 * accesses (gdbstub, monitor) are not reported.
 *
 * Model decisions (UNCONFIRMED details of the GR740 core):
 *  - NE, CE and ME are written directly by a write to AHBS (writing 0
 *    clears them, as RTEMS's ahbstat driver does); all other AHBS fields
 *    and AHBFAR are read-only.
 *  - An error arriving while NE is set leaves the captured values alone
 *    and sets ME (multiple errors); it does not interrupt again.
 *  - The interrupt is a pulse on each new capture.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "hw/irq.h"
#include "hw/core/cpu.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "qapi/visitor.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740AHBStatState, GR740_AHBSTAT)

REG32(AHBS, 0x00)
    FIELD(AHBS, HSIZE, 0, 3)
    FIELD(AHBS, HMASTER, 3, 4)
    FIELD(AHBS, HWRITE, 7, 1)
    FIELD(AHBS, NE, 8, 1)
    FIELD(AHBS, CE, 9, 1)
    FIELD(AHBS, AF, 10, 1)
    FIELD(AHBS, CF, 11, 1)
    FIELD(AHBS, FW, 12, 1)
    FIELD(AHBS, ME, 13, 1)
REG32(AHBFAR, 0x04)

#define AHBSTAT_REG_SIZE 0x100
#define AHBS_SW_BITS (R_AHBS_NE_MASK | R_AHBS_CE_MASK | R_AHBS_ME_MASK)

struct GR740AHBStatState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    MemoryRegion default_slave;
    qemu_irq irq;

    uint32_t ahbs;
    uint32_t ahbfar;
};

void gr740_ahbstat_report(DeviceState *dev, uint32_t addr, bool write,
                          unsigned master, unsigned hsize, bool correctable)
{
    GR740AHBStatState *s = GR740_AHBSTAT(dev);

    trace_gr740_ahbstat_report(addr, write, master, correctable);
    if (FIELD_EX32(s->ahbs, AHBS, NE)) {
        s->ahbs = FIELD_DP32(s->ahbs, AHBS, ME, 1);
        return;
    }
    s->ahbs = FIELD_DP32(s->ahbs, AHBS, HSIZE, hsize);
    s->ahbs = FIELD_DP32(s->ahbs, AHBS, HMASTER, master);
    s->ahbs = FIELD_DP32(s->ahbs, AHBS, HWRITE, write);
    s->ahbs = FIELD_DP32(s->ahbs, AHBS, NE, 1);
    s->ahbs = FIELD_DP32(s->ahbs, AHBS, CE, correctable);
    s->ahbfar = addr;
    qemu_irq_pulse(s->irq);
}

/* AHB default slave: an error response to anything nobody else decodes. */
static void ahbstat_bus_error(GR740AHBStatState *s, hwaddr addr, bool write,
                              unsigned size, MemTxAttrs attrs)
{
    if (attrs.debug) {
        return;
    }
    trace_gr740_ahbstat_bus_error(addr, write, size);
    gr740_ahbstat_report(DEVICE(s), addr, write,
                         current_cpu ? current_cpu->cpu_index : 0,
                         ctz32(size), false);
}

static MemTxResult ahbstat_default_read(void *opaque, hwaddr addr,
                                        uint64_t *data, unsigned size,
                                        MemTxAttrs attrs)
{
    *data = 0;
    ahbstat_bus_error(opaque, addr, false, size, attrs);
    return MEMTX_DECODE_ERROR;
}

static MemTxResult ahbstat_default_write(void *opaque, hwaddr addr,
                                         uint64_t value, unsigned size,
                                         MemTxAttrs attrs)
{
    ahbstat_bus_error(opaque, addr, true, size, attrs);
    return MEMTX_DECODE_ERROR;
}

static const MemoryRegionOps ahbstat_default_ops = {
    .read_with_attrs = ahbstat_default_read,
    .write_with_attrs = ahbstat_default_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

static uint64_t ahbstat_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740AHBStatState *s = opaque;
    uint32_t r = 0;

    switch (offset) {
    case A_AHBS:
        r = s->ahbs;
        break;
    case A_AHBFAR:
        r = s->ahbfar;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-ahbstat: read of undefined "
                      "offset 0x%" HWADDR_PRIx "\n", offset);
        break;
    }
    trace_gr740_ahbstat_read(offset, r);
    return r;
}

static void ahbstat_write(void *opaque, hwaddr offset, uint64_t value,
                          unsigned size)
{
    GR740AHBStatState *s = opaque;
    uint32_t v = value;

    trace_gr740_ahbstat_write(offset, v);
    switch (offset) {
    case A_AHBS:
        s->ahbs = (s->ahbs & ~AHBS_SW_BITS) | (v & AHBS_SW_BITS);
        break;
    case A_AHBFAR:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "gr740-ahbstat: write to read-only AHBFAR ignored\n");
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-ahbstat: write of undefined "
                      "offset 0x%" HWADDR_PRIx " (0x%08x)\n", offset, v);
        break;
    }
}

static const MemoryRegionOps ahbstat_ops = {
    .read = ahbstat_read,
    .write = ahbstat_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void ahbstat_set_inject(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    uint64_t inj;

    if (visit_type_uint64(v, name, &inj, errp)) {
        gr740_ahbstat_report(DEVICE(obj), GR740_INJ_ADDR(inj),
                             GR740_INJ_WRITE(inj), GR740_INJ_MASTER(inj),
                             GR740_INJ_HSIZE(inj),
                             GR740_INJ_CORRECTABLE(inj));
    }
}

static void ahbstat_reset_hold(Object *obj, ResetType type)
{
    GR740AHBStatState *s = GR740_AHBSTAT(obj);

    s->ahbs = 0;
    s->ahbfar = 0;
    qemu_set_irq(s->irq, 0);
}

static void ahbstat_init(Object *obj)
{
    GR740AHBStatState *s = GR740_AHBSTAT(obj);

    memory_region_init_io(&s->iomem, obj, &ahbstat_ops, s, TYPE_GR740_AHBSTAT,
                          AHBSTAT_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
    memory_region_init_io(&s->default_slave, obj, &ahbstat_default_ops, s,
                          "gr740-ahbstat.default-slave", 4 * GiB);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->default_slave);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
    object_property_add(obj, "inject-error", "uint64", NULL, ahbstat_set_inject,
                        NULL, NULL);
}

static const VMStateDescription vmstate_gr740_ahbstat = {
    .name = TYPE_GR740_AHBSTAT,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ahbs, GR740AHBStatState),
        VMSTATE_UINT32(ahbfar, GR740AHBStatState),
        VMSTATE_END_OF_LIST()
    },
};

static void ahbstat_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->vmsd = &vmstate_gr740_ahbstat;
    rc->phases.hold = ahbstat_reset_hold;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo ahbstat_info = {
    .name = TYPE_GR740_AHBSTAT,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740AHBStatState),
    .instance_init = ahbstat_init,
    .class_init = ahbstat_class_init,
};

static void ahbstat_register_types(void)
{
    type_register_static(&ahbstat_info);
}

type_init(ahbstat_register_types)
