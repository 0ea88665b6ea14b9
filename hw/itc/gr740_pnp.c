/*
 * ITC workbench: GR740 AMBA plug&play areas and the device table
 *
 * One table (gr740_pnp_table) describes each device the GR740 machine can
 * instantiate: bus, AMBA device id, version, interrupt line and address
 * windows, all taken from the constants in gr740.h.  The machine maps and
 * wires devices from it (gr740_pnp_find), and this device builds the
 * read-only plug&play areas from it once the machine is complete, listing
 * exactly the entries whose QOM child of /machine exists (AHB masters:
 * one LEON4 per created CPU).  When it builds them it also checks that
 * every listed device's first MMIO region is mapped where its record
 * says, so plug&play and the memory map cannot drift apart silently.
 *
 * Areas (record formats: GR740-UM-DS sect. 38.2.2 / FACTS.md 4.1):
 *   0xFFFFF000  processor AHB bus: masters at +32n, slaves at +0x800+32n
 *   0xFFEFF000  memory AHB bus (I/O area 0xFFE00000) behind the L2 cache:
 *               the L2C record's user word 2 points to that I/O area, the
 *               way RTEMS's ambapp scanner finds a bus behind a bridge
 *   0xFF9FF000, 0xFFAFF000  APB bridges 0 and 1: 8-byte records at +8n
 *
 * Model decisions: version fields are chosen here (no GR740 plug&play dump
 * was available); APB slot numbers are the slave's 4 KiB index inside its
 * bridge; the SDRAM controller is reported as FTSDCTRL64 (0x058, "64-bit
 * FT SDRAM controller").  All UNCONFIRMED.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qemu/error-report.h"
#include "qemu/notify.h"
#include "hw/boards.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "system/system.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740PnpState, GR740_PNP)

#define VENDOR_GAISLER          0x01

#define GAISLER_APBMST          0x006
#define GAISLER_APBUART         0x00C
#define GAISLER_IRQMP           0x00D
#define GAISLER_GPTIMER         0x011
#define GAISLER_GPIO            0x01A
#define GAISLER_CLKGATE         0x02C
#define GAISLER_LEON4           0x048
#define GAISLER_L2CACHE         0x04B
#define GAISLER_AHBSTAT         0x052
#define GAISLER_FTMCTRL         0x054
#define GAISLER_MEMSCRUB        0x057
#define GAISLER_FTSDCTRL64      0x058
#define GAISLER_GR740THS        0x099

#define GR740_AHB_IOAREA        0xFFF00000u

#define PNP_AREA_WORDS          (0x1000 / 4)
#define AHB_SLAVE_OFFSET        0x800
#define AHB_RECORD_WORDS        8
#define APB_RECORD_WORDS        2
#define AHB_MAX_RECORDS         64
#define APB_MAX_RECORDS         512

#define MEM(a, sz)      { .addr = (a), .size = (sz) }
#define MEMPC(a, sz)    { .addr = (a), .size = (sz), .prefetch = true, \
                          .cacheable = true }
#define IO(a, sz)       { .addr = (a), .size = (sz), .io = true }

#define APB0(name, sl, dev, ver, line, off, sz) \
    { .child = (name), .bus = GR740_PNP_APB0, .slot = (sl), \
      .device = (dev), .version = (ver), .irq = (line), \
      .bar = { MEM(GR740_APB0_BASE + (off), (sz)) } }
#define APB1(name, sl, dev, ver, line, off, sz) \
    { .child = (name), .bus = GR740_PNP_APB1, .slot = (sl), \
      .device = (dev), .version = (ver), .irq = (line), \
      .bar = { MEM(GR740_APB1_BASE + (off), (sz)) } }
#define PNP_CPU(n) \
    { .child = "cpu" #n, .bus = GR740_PNP_AHB_MASTER, .slot = (n), \
      .device = GAISLER_LEON4, .version = 0, .mmio_bar = -1 }

static const GR740PnpEntry gr740_pnp_table[] = {
    PNP_CPU(0), PNP_CPU(1), PNP_CPU(2), PNP_CPU(3),

    /* Processor AHB bus slaves.  "" = part of the machine, always there. */
    { .child = "l2c", .bus = GR740_PNP_AHB_SLAVE, .slot = 0,
      .device = GAISLER_L2CACHE, .version = 0, .irq = GR740_IRQ_L2C,
      .user = { 0, GR740_MEMBUS_IOAREA, 0 }, .mmio_bar = 1,
      .bar = { MEMPC(GR740_SDRAM_BASE, GR740_SDRAM_MAX),
               MEM(GR740_L2C_BASE, GR740_L2C_WINDOW_SIZE) } },
    { .child = "", .bus = GR740_PNP_AHB_SLAVE, .slot = 1,
      .device = GAISLER_APBMST, .version = 0, .mmio_bar = -1,
      .bar = { MEM(GR740_APB0_BASE, GR740_APB_BRIDGE_SIZE) } },
    { .child = "", .bus = GR740_PNP_AHB_SLAVE, .slot = 2,
      .device = GAISLER_APBMST, .version = 0, .mmio_bar = -1,
      .bar = { MEM(GR740_APB1_BASE, GR740_APB_BRIDGE_SIZE) } },
    { .child = "ftmctrl", .bus = GR740_PNP_AHB_SLAVE, .slot = 3,
      .device = GAISLER_FTMCTRL, .version = 1, .mmio_bar = -1,
      .bar = { MEMPC(GR740_PROM_BASE, 256 * MiB),
               MEM(GR740_PROM_BASE + 256 * MiB, 256 * MiB) } },

    /* Memory AHB bus slaves (I/O BARs relative to 0xFFE00000). */
    { .child = "sdctrl", .bus = GR740_PNP_MEM_SLAVE, .slot = 0,
      .device = GAISLER_FTSDCTRL64, .version = 0, .mmio_bar = 1,
      .bar = { MEMPC(GR740_SDRAM_BASE, GR740_SDRAM_MAX),
               IO(GR740_SDCTRL_BASE, GR740_AHB_REG_SIZE) } },
    { .child = "memscrub", .bus = GR740_PNP_MEM_SLAVE, .slot = 1,
      .device = GAISLER_MEMSCRUB, .version = 1, .irq = GR740_IRQ_MEMSCRUB,
      .mmio_bar = 0,
      .bar = { IO(GR740_MEMSCRUB_BASE, GR740_AHB_REG_SIZE) } },

    /* APB bridge 0 */
    APB0("apbuart0", 0, GAISLER_APBUART, 1, GR740_IRQ_APBUART0, 0x0000, 0x100),
    APB0("apbuart1", 1, GAISLER_APBUART, 1, GR740_IRQ_APBUART1, 0x1000, 0x100),
    APB0("grgpio0", 2, GAISLER_GPIO, 3, GR740_IRQ_GRGPIO, 0x2000, 0x100),
    APB0("ftmctrl", 3, GAISLER_FTMCTRL, 1, GR740_IRQ_NONE, 0x3000, 0x100),
    APB0("irqamp", 4, GAISLER_IRQMP, 3, GR740_IRQ_NONE, 0x4000,
         GR740_IRQAMP_SIZE),
    APB0("gptimer0", 5, GAISLER_GPTIMER, 1, GR740_IRQ_GPTIMER(0), 0x8000,
         0x100),
    APB0("gptimer1", 6, GAISLER_GPTIMER, 1, GR740_IRQ_GPTIMER(1), 0x9000,
         0x100),
    APB0("gptimer2", 7, GAISLER_GPTIMER, 1, GR740_IRQ_GPTIMER(2), 0xA000,
         0x100),
    APB0("gptimer3", 8, GAISLER_GPTIMER, 1, GR740_IRQ_GPTIMER(3), 0xB000,
         0x100),
    APB0("gptimer4", 9, GAISLER_GPTIMER, 1, GR740_IRQ_GPTIMER(4), 0xC000,
         0x100),

    /* APB bridge 1 */
    APB1("clkgate", 4, GAISLER_CLKGATE, 0, GR740_IRQ_NONE, 0x4000, 0x100),
    APB1("grgpio1", 5, GAISLER_GPIO, 3, GR740_IRQ_GRGPIO, 0x5000, 0x100),
    APB1("ahbstat", 6, GAISLER_AHBSTAT, 0, GR740_IRQ_AHBSTAT, 0x6000, 0x100),
    APB1("thsens", 10, GAISLER_GR740THS, 0, GR740_IRQ_NONE, 0xA000, 0x100),
};

struct GR740PnpState {
    SysBusDevice parent_obj;

    MemoryRegion ahb_area;
    MemoryRegion mem_area;
    MemoryRegion apb0_area;
    MemoryRegion apb1_area;
    Notifier machine_done;

    /* Built once from the table and the machine; constant afterwards. */
    uint32_t ahb[PNP_AREA_WORDS];
    uint32_t mem[PNP_AREA_WORDS];
    uint32_t apb0[PNP_AREA_WORDS];
    uint32_t apb1[PNP_AREA_WORDS];
};

const GR740PnpEntry *gr740_pnp_find(const char *child, GR740PnpBus bus)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(gr740_pnp_table); i++) {
        if (gr740_pnp_table[i].bus == bus &&
            !strcmp(gr740_pnp_table[i].child, child)) {
            return &gr740_pnp_table[i];
        }
    }
    return NULL;
}

static uint32_t pnp_id(const GR740PnpEntry *e)
{
    return (VENDOR_GAISLER << 24) | ((uint32_t)e->device << 12) |
           ((e->version & 0x1f) << 5) | (e->irq & 0x1f);
}

static uint32_t pnp_mask(uint32_t size, int shift)
{
    return (~(size - 1) >> shift) & 0xfff;
}

static uint32_t pnp_ahb_bar(const GR740PnpBar *b, uint32_t ioarea)
{
    if (!b->size) {
        return 0;
    }
    if (b->io) {
        return (((b->addr - ioarea) >> 8) & 0xfff) << 20 |
               pnp_mask(b->size, 8) << 4 | 3;
    }
    return (b->addr & 0xfff00000) | (b->prefetch << 17) |
           (b->cacheable << 16) | pnp_mask(b->size, 20) << 4 | 2;
}

static uint32_t pnp_apb_bar(const GR740PnpBar *b, uint32_t bridge)
{
    return (((b->addr - bridge) >> 8) & 0xfff) << 20 |
           pnp_mask(b->size, 8) << 4 | 1;
}

/* Is the entry's device part of this machine? */
static Object *pnp_present(const GR740PnpEntry *e, MachineState *ms,
                           bool *present)
{
    Object *child = NULL;

    if (e->bus == GR740_PNP_AHB_MASTER) {
        *present = e->slot < ms->smp.cpus;
    } else if (!e->child[0]) {
        *present = true;
    } else {
        child = object_resolve_path_component(OBJECT(ms), e->child);
        *present = child != NULL;
    }
    return child;
}

static void pnp_check_mapping(const GR740PnpEntry *e, Object *child,
                              uint32_t ioarea)
{
    SysBusDevice *sbd;
    uint32_t want;

    if (!child || e->mmio_bar < 0 ||
        !object_dynamic_cast(child, TYPE_SYS_BUS_DEVICE)) {
        return;
    }
    sbd = SYS_BUS_DEVICE(child);
    want = e->bar[e->mmio_bar].addr;
    if (sbd->num_mmio < 1 || sbd->mmio[0].addr != want) {
        error_report("gr740: device '%s' is mapped at 0x%" HWADDR_PRIx
                     " but its plug&play record says 0x%08x",
                     e->child, sbd->num_mmio ? sbd->mmio[0].addr : 0, want);
        exit(1);
    }
}

static void pnp_build(GR740PnpState *s)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    size_t i;
    int b;

    for (i = 0; i < ARRAY_SIZE(gr740_pnp_table); i++) {
        const GR740PnpEntry *e = &gr740_pnp_table[i];
        bool present;
        Object *child = pnp_present(e, ms, &present);
        uint32_t *rec;

        if (!present) {
            continue;
        }
        switch (e->bus) {
        case GR740_PNP_AHB_MASTER:
        case GR740_PNP_AHB_SLAVE:
        case GR740_PNP_MEM_SLAVE: {
            uint32_t *area = e->bus == GR740_PNP_MEM_SLAVE ? s->mem : s->ahb;
            uint32_t ioarea = e->bus == GR740_PNP_MEM_SLAVE ?
                              GR740_MEMBUS_IOAREA : GR740_AHB_IOAREA;

            assert(e->slot < AHB_MAX_RECORDS / 2);
            rec = area + (e->bus == GR740_PNP_AHB_MASTER ? 0 :
                          AHB_SLAVE_OFFSET / 4) + e->slot * AHB_RECORD_WORDS;
            assert(!rec[0]);
            rec[0] = pnp_id(e);
            rec[1] = e->user[0];
            rec[2] = e->user[1];
            rec[3] = e->user[2];
            for (b = 0; b < 4; b++) {
                rec[4 + b] = pnp_ahb_bar(&e->bar[b], ioarea);
            }
            pnp_check_mapping(e, child, ioarea);
            break;
        }
        case GR740_PNP_APB0:
        case GR740_PNP_APB1: {
            bool one = e->bus == GR740_PNP_APB1;

            assert(e->slot < APB_MAX_RECORDS);
            rec = (one ? s->apb1 : s->apb0) + e->slot * APB_RECORD_WORDS;
            assert(!rec[0]);
            rec[0] = pnp_id(e);
            rec[1] = pnp_apb_bar(&e->bar[0],
                                 one ? GR740_APB1_BASE : GR740_APB0_BASE);
            pnp_check_mapping(e, child, 0);
            break;
        }
        }
    }
}

static void pnp_machine_done(Notifier *n, void *opaque)
{
    GR740PnpState *s = container_of(n, GR740PnpState, machine_done);

    pnp_build(s);
}

static uint64_t pnp_read(const uint32_t *area, hwaddr offset, unsigned size)
{
    uint32_t word = area[(offset & 0xfff) >> 2];
    unsigned shift = (4 - size - (offset & 3)) * 8;

    /* Big-endian sub-word reads of the record words. */
    return size == 4 ? word : (word >> shift) & ((1u << (size * 8)) - 1);
}

static void pnp_write(const char *area, hwaddr offset, uint64_t value)
{
    qemu_log_mask(LOG_GUEST_ERROR, "gr740-pnp: write of 0x%" PRIx64
                  " to read-only %s plug&play area offset 0x%" HWADDR_PRIx
                  " ignored\n", value, area, offset);
}

#define PNP_AREA_OPS(name, field) \
    static uint64_t pnp_##name##_read(void *opaque, hwaddr offset,      \
                                      unsigned size)                     \
    {                                                                    \
        GR740PnpState *s = opaque;                                       \
        uint64_t r = pnp_read(s->field, offset, size);                   \
                                                                         \
        trace_gr740_pnp_read(#name, offset, r);                          \
        return r;                                                        \
    }                                                                    \
    static void pnp_##name##_write(void *opaque, hwaddr offset,         \
                                   uint64_t value, unsigned size)        \
    {                                                                    \
        pnp_write(#name, offset, value);                                 \
    }                                                                    \
    static const MemoryRegionOps pnp_##name##_ops = {                   \
        .read = pnp_##name##_read,                                       \
        .write = pnp_##name##_write,                                     \
        .endianness = DEVICE_BIG_ENDIAN,                                 \
        .valid = { .min_access_size = 1, .max_access_size = 4 },         \
        .impl = { .min_access_size = 1, .max_access_size = 4 },          \
    };

PNP_AREA_OPS(ahb, ahb)
PNP_AREA_OPS(mem, mem)
PNP_AREA_OPS(apb0, apb0)
PNP_AREA_OPS(apb1, apb1)

static void pnp_realize(DeviceState *dev, Error **errp)
{
    GR740PnpState *s = GR740_PNP(dev);

    s->machine_done.notify = pnp_machine_done;
    qemu_add_machine_init_done_notifier(&s->machine_done);
}

static void pnp_init(Object *obj)
{
    GR740PnpState *s = GR740_PNP(obj);
    SysBusDevice *sbd = SYS_BUS_DEVICE(obj);

    memory_region_init_io(&s->ahb_area, obj, &pnp_ahb_ops, s,
                          "gr740-pnp.ahb", GR740_AHB_PNP_SIZE);
    memory_region_init_io(&s->mem_area, obj, &pnp_mem_ops, s,
                          "gr740-pnp.membus", GR740_AHB_PNP_SIZE);
    memory_region_init_io(&s->apb0_area, obj, &pnp_apb0_ops, s,
                          "gr740-pnp.apb0", GR740_AHB_PNP_SIZE);
    memory_region_init_io(&s->apb1_area, obj, &pnp_apb1_ops, s,
                          "gr740-pnp.apb1", GR740_AHB_PNP_SIZE);
    sysbus_init_mmio(sbd, &s->ahb_area);
    sysbus_init_mmio(sbd, &s->mem_area);
    sysbus_init_mmio(sbd, &s->apb0_area);
    sysbus_init_mmio(sbd, &s->apb1_area);
}

/* The areas are read-only constants of the machine: no migrated state. */
static const VMStateDescription vmstate_gr740_pnp = {
    .name = TYPE_GR740_PNP,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_END_OF_LIST()
    },
};

static void pnp_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = pnp_realize;
    dc->vmsd = &vmstate_gr740_pnp;
    dc->user_creatable = false;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pnp_info = {
    .name = TYPE_GR740_PNP,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740PnpState),
    .instance_init = pnp_init,
    .class_init = pnp_class_init,
};

static void pnp_register_types(void)
{
    type_register_static(&pnp_info);
}

type_init(pnp_register_types)
