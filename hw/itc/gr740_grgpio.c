/*
 * ITC workbench: GR740 GRGPIO (GRLIB general purpose I/O port)
 *
 * GR740 has two ports: GRGPIO0 with 16 lines and GRGPIO1 with 22 lines
 * (UM front page: "16+22 GPIO").  The machine has no external pins, so a
 * line's pin level is OUTPUT for output lines (DIRECTION = 1) and, for
 * input lines, the level last driven on the gpio input "in"[n] (fault
 * injection and tests drive those; 0 after reset).  Output "out"[n]
 * follows the pin level of every line.
 *
 * Interrupts: a line with IMASK set interrupts when its input matches the
 * condition chosen by IEDGE/IPOL: level (IEDGE = 0) while the pin equals
 * IPOL, edge (IEDGE = 1) on a rising (IPOL = 1) or falling (IPOL = 0)
 * transition.  IRQMAPR maps line n to interrupt bus line
 * (irq-base + IRQMAP[n]) & 31 (GRLIB IRQGEN = 1: the plug&play IRQ plus
 * the map value; the machine sets irq-base to the plug&play IRQ); a result
 * of 0 means "no interrupt".  The device has 32
 * outputs ("sysbus-irq" 0..31, one per bus line) which the machine wires
 * to the IRQ(A)MP.  A bus line is held high while any level interrupt
 * mapped to it is active, and pulsed for each edge interrupt.  IFLAG[n] is
 * set whenever line n signals an interrupt and is cleared by writing 1.
 *
 * Decisions on points the available manual pages do not show (UNCONFIRMED):
 *  - CAP reports PU (PULSE register), IER (input enable register at 0x48,
 *    "IPEN"), IFL (IFLAG register), IRQGEN = 1 (interrupt map present).
 *  - Input enable (0x48) resets to all ones; a line whose input is not
 *    enabled reads 0 in DATA and cannot interrupt.
 *  - IAVAIL: every line can interrupt (all ones over the implemented lines).
 *  - PULSE: on a rising edge of gpio input "pulse", OUTPUT bits whose PULSE
 *    bit is set toggle (GRLIB pulse feature; nothing drives it on GR740).
 *  - The LOR/LAND/LXOR aliases are write-only in effect; reads return the
 *    register they alias.  BYPASS is stored with no effect.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "gr740.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740GRGPIOState, GR740_GRGPIO)

REG32(DATA, 0x00)
REG32(OUTPUT, 0x04)
REG32(DIRECTION, 0x08)
REG32(IMASK, 0x0C)
REG32(IPOL, 0x10)
REG32(IEDGE, 0x14)
REG32(BYPASS, 0x18)
REG32(CAP, 0x1C)
    FIELD(CAP, NLINES, 0, 5)
    FIELD(CAP, IRQGEN, 8, 5)
    FIELD(CAP, IFL, 16, 1)
    FIELD(CAP, IER, 17, 1)
    FIELD(CAP, PU, 18, 1)
REG32(IRQMAPR0, 0x20)   /* .. IRQMAPR7 at 0x3C */
REG32(IAVAIL, 0x40)
REG32(IFLAG, 0x44)
REG32(IPEN, 0x48)       /* input enable */
REG32(PULSE, 0x4C)
REG32(LOR_OUTPUT, 0x54)
REG32(LOR_DIRECTION, 0x58)
REG32(LOR_IMASK, 0x5C)
REG32(LAND_OUTPUT, 0x64)
REG32(LAND_DIRECTION, 0x68)
REG32(LAND_IMASK, 0x6C)
REG32(LXOR_OUTPUT, 0x74)
REG32(LXOR_DIRECTION, 0x78)
REG32(LXOR_IMASK, 0x7C)

#define GRGPIO_REG_SIZE     0x100
#define GRGPIO_MAX_LINES    32
#define GRGPIO_BUS_LINES    32

typedef enum GRGPIOAliasOp { ALIAS_OR, ALIAS_AND, ALIAS_XOR } GRGPIOAliasOp;

struct GR740GRGPIOState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    qemu_irq irq[GRGPIO_BUS_LINES];
    qemu_irq out[GRGPIO_MAX_LINES];

    /* Guest-visible state */
    uint32_t output;
    uint32_t dir;
    uint32_t imask;
    uint32_t ipol;
    uint32_t iedge;
    uint32_t bypass;
    uint32_t iflag;
    uint32_t inpen;
    uint32_t pulse;
    uint8_t irqmap[GRGPIO_MAX_LINES];
    /* Pins and derived signals */
    uint32_t pin_in;    /* levels driven on the "in" inputs */
    uint32_t sampled;   /* enabled input levels seen last (edge detection) */
    uint32_t irq_level; /* bus lines currently held high */
    uint32_t out_level; /* levels last driven on "out" */

    /* Configuration */
    uint32_t nlines;
    uint32_t irq_base;
};

static uint32_t grgpio_mask(GR740GRGPIOState *s)
{
    return s->nlines >= 32 ? UINT32_MAX : (1u << s->nlines) - 1;
}

static uint32_t grgpio_pins(GR740GRGPIOState *s)
{
    return ((s->output & s->dir) | (s->pin_in & ~s->dir)) & grgpio_mask(s);
}

static uint32_t grgpio_data(GR740GRGPIOState *s)
{
    return grgpio_pins(s) & s->inpen;
}

static unsigned grgpio_bus_line(GR740GRGPIOState *s, unsigned n)
{
    return (s->irq_base + s->irqmap[n]) & 31;
}

/*
 * Re-evaluate pins, outputs and interrupts.  Edge interrupts fire for
 * transitions since the previous evaluation.
 */
static void grgpio_update(GR740GRGPIOState *s)
{
    uint32_t data = grgpio_data(s);
    uint32_t pins = grgpio_pins(s);
    uint32_t rose = data & ~s->sampled;
    uint32_t fell = ~data & s->sampled & grgpio_mask(s);
    uint32_t level_act = ~s->iedge & s->imask & ~(data ^ s->ipol) & s->inpen;
    uint32_t edge_act = s->iedge & s->imask &
                        ((rose & s->ipol) | (fell & ~s->ipol));
    uint32_t level = 0, edge = 0;
    unsigned n;

    level_act &= grgpio_mask(s);
    edge_act &= grgpio_mask(s);
    s->sampled = data;
    s->iflag |= level_act | edge_act;

    for (n = 0; n < s->nlines; n++) {
        unsigned line = grgpio_bus_line(s, n);

        if (line == 0) {
            continue;
        }
        if (level_act & (1u << n)) {
            level |= 1u << line;
        }
        if (edge_act & (1u << n)) {
            edge |= 1u << line;
        }
    }
    for (n = 1; n < GRGPIO_BUS_LINES; n++) {
        uint32_t bit = 1u << n;

        if ((edge & bit) && !(level & bit)) {
            /* A pulse on a line not held high by a level interrupt. */
            trace_gr740_grgpio_irq(n, 2);
            if (s->irq_level & bit) {
                qemu_set_irq(s->irq[n], 0);
            }
            qemu_irq_pulse(s->irq[n]);
            s->irq_level &= ~bit;
        } else if ((level ^ s->irq_level) & bit) {
            trace_gr740_grgpio_irq(n, !!(level & bit));
            qemu_set_irq(s->irq[n], !!(level & bit));
        }
    }
    s->irq_level = level;

    for (n = 0; n < s->nlines; n++) {
        uint32_t bit = 1u << n;

        if ((pins ^ s->out_level) & bit) {
            qemu_set_irq(s->out[n], !!(pins & bit));
        }
    }
    s->out_level = pins;
}

static void grgpio_set_pin(void *opaque, int n, int level)
{
    GR740GRGPIOState *s = opaque;

    if (n < 0 || n >= s->nlines) {
        return;
    }
    trace_gr740_grgpio_pin(n, level);
    if (level) {
        s->pin_in |= 1u << n;
    } else {
        s->pin_in &= ~(1u << n);
    }
    grgpio_update(s);
}

static void grgpio_pulse_in(void *opaque, int n, int level)
{
    GR740GRGPIOState *s = opaque;

    if (level) {
        s->output ^= s->pulse;
        grgpio_update(s);
    }
}

static uint32_t grgpio_read_irqmapr(GR740GRGPIOState *s, unsigned r)
{
    uint32_t v = 0;
    unsigned i;

    for (i = 0; i < 4; i++) {
        unsigned n = r * 4 + i;

        if (n < s->nlines) {
            v |= (uint32_t)s->irqmap[n] << (24 - 8 * i);
        }
    }
    return v;
}

static void grgpio_write_irqmapr(GR740GRGPIOState *s, unsigned r, uint32_t v)
{
    unsigned i;

    for (i = 0; i < 4; i++) {
        unsigned n = r * 4 + i;

        if (n < s->nlines) {
            s->irqmap[n] = (v >> (24 - 8 * i)) & 0x1F;
        }
    }
}

static uint32_t *grgpio_alias_target(GR740GRGPIOState *s, hwaddr offset)
{
    switch (offset & 0xF) {
    case A_OUTPUT:
        return &s->output;
    case A_DIRECTION:
        return &s->dir;
    case A_IMASK:
        return &s->imask;
    }
    return NULL;
}

static uint64_t grgpio_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740GRGPIOState *s = opaque;
    uint32_t r = 0;

    switch (offset) {
    case A_DATA:
        r = grgpio_data(s);
        break;
    case A_OUTPUT:
        r = s->output;
        break;
    case A_DIRECTION:
        r = s->dir;
        break;
    case A_IMASK:
        r = s->imask;
        break;
    case A_IPOL:
        r = s->ipol;
        break;
    case A_IEDGE:
        r = s->iedge;
        break;
    case A_BYPASS:
        r = s->bypass;
        break;
    case A_CAP:
        r = FIELD_DP32(r, CAP, NLINES, s->nlines - 1);
        r = FIELD_DP32(r, CAP, IRQGEN, 1);
        r = FIELD_DP32(r, CAP, IFL, 1);
        r = FIELD_DP32(r, CAP, IER, 1);
        r = FIELD_DP32(r, CAP, PU, 1);
        break;
    case A_IRQMAPR0 ... A_IRQMAPR0 + 0x1C:
        if (offset & 3) {
            goto bad;
        }
        r = grgpio_read_irqmapr(s, (offset - A_IRQMAPR0) / 4);
        break;
    case A_IAVAIL:
        r = grgpio_mask(s);
        break;
    case A_IFLAG:
        r = s->iflag;
        break;
    case A_IPEN:
        r = s->inpen;
        break;
    case A_PULSE:
        r = s->pulse;
        break;
    case A_LOR_OUTPUT:
    case A_LOR_DIRECTION:
    case A_LOR_IMASK:
    case A_LAND_OUTPUT:
    case A_LAND_DIRECTION:
    case A_LAND_IMASK:
    case A_LXOR_OUTPUT:
    case A_LXOR_DIRECTION:
    case A_LXOR_IMASK:
        r = *grgpio_alias_target(s, offset);
        break;
    default:
    bad:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "gr740-grgpio: read of undefined offset 0x%" HWADDR_PRIx
                      "\n", offset);
        break;
    }
    trace_gr740_grgpio_read(offset, r);
    return r;
}

static void grgpio_write(void *opaque, hwaddr offset, uint64_t value,
                         unsigned size)
{
    GR740GRGPIOState *s = opaque;
    uint32_t m = grgpio_mask(s);
    uint32_t v = value;

    trace_gr740_grgpio_write(offset, v);
    switch (offset) {
    case A_DATA:
    case A_CAP:
    case A_IAVAIL:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "gr740-grgpio: write to read-only offset 0x%"
                      HWADDR_PRIx "\n", offset);
        break;
    case A_OUTPUT:
        s->output = v & m;
        break;
    case A_DIRECTION:
        s->dir = v & m;
        break;
    case A_IMASK:
        s->imask = v & m;
        break;
    case A_IPOL:
        s->ipol = v & m;
        break;
    case A_IEDGE:
        s->iedge = v & m;
        break;
    case A_BYPASS:
        s->bypass = v & m;
        break;
    case A_IRQMAPR0 ... A_IRQMAPR0 + 0x1C:
        if (offset & 3) {
            goto bad;
        }
        grgpio_write_irqmapr(s, (offset - A_IRQMAPR0) / 4, v);
        break;
    case A_IFLAG:
        s->iflag &= ~v;
        break;
    case A_IPEN:
        s->inpen = v & m;
        break;
    case A_PULSE:
        s->pulse = v & m;
        break;
    case A_LOR_OUTPUT:
    case A_LOR_DIRECTION:
    case A_LOR_IMASK:
        *grgpio_alias_target(s, offset) |= v & m;
        break;
    case A_LAND_OUTPUT:
    case A_LAND_DIRECTION:
    case A_LAND_IMASK:
        *grgpio_alias_target(s, offset) &= v;
        break;
    case A_LXOR_OUTPUT:
    case A_LXOR_DIRECTION:
    case A_LXOR_IMASK:
        *grgpio_alias_target(s, offset) ^= v & m;
        break;
    default:
    bad:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "gr740-grgpio: write of undefined offset 0x%" HWADDR_PRIx
                      " (0x%08x)\n", offset, v);
        return;
    }
    grgpio_update(s);
}

static const MemoryRegionOps grgpio_ops = {
    .read = grgpio_read,
    .write = grgpio_write,
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

static void grgpio_reset_hold(Object *obj, ResetType type)
{
    GR740GRGPIOState *s = GR740_GRGPIO(obj);
    unsigned n;

    s->output = 0;
    s->dir = 0;
    s->imask = 0;
    s->ipol = 0;
    s->iedge = 0;
    s->bypass = 0;
    s->iflag = 0;
    s->inpen = grgpio_mask(s);
    s->pulse = 0;
    memset(s->irqmap, 0, sizeof(s->irqmap));
    /* Pins driven from outside keep their level across a reset. */
    s->sampled = grgpio_data(s);
    /*
     * Lower only the bus lines this port holds: other devices share the
     * interrupt bus lines.
     */
    for (n = 0; n < GRGPIO_BUS_LINES; n++) {
        if (s->irq_level & (1u << n)) {
            qemu_set_irq(s->irq[n], 0);
        }
    }
    s->irq_level = 0;
    grgpio_update(s);
}

static void grgpio_realize(DeviceState *dev, Error **errp)
{
    GR740GRGPIOState *s = GR740_GRGPIO(dev);

    if (s->nlines < 1 || s->nlines > GRGPIO_MAX_LINES) {
        error_setg(errp, "gr740-grgpio: nlines must be 1..%d, not %u",
                   GRGPIO_MAX_LINES, s->nlines);
        return;
    }
    if (s->irq_base > 31) {
        error_setg(errp, "gr740-grgpio: irq-base must be 0..31, not %u",
                   s->irq_base);
        return;
    }
    qdev_init_gpio_in_named(dev, grgpio_set_pin, "in", s->nlines);
    qdev_init_gpio_out_named(dev, s->out, "out", s->nlines);
}

static void grgpio_init(Object *obj)
{
    GR740GRGPIOState *s = GR740_GRGPIO(obj);
    unsigned n;

    memory_region_init_io(&s->iomem, obj, &grgpio_ops, s, TYPE_GR740_GRGPIO,
                          GRGPIO_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
    for (n = 0; n < GRGPIO_BUS_LINES; n++) {
        sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq[n]);
    }
    qdev_init_gpio_in_named(DEVICE(obj), grgpio_pulse_in, "pulse", 1);
}

static int grgpio_post_load(void *opaque, int version_id)
{
    GR740GRGPIOState *s = opaque;
    uint32_t inv = ~grgpio_mask(s);
    unsigned n;

    if ((s->output | s->dir | s->imask | s->ipol | s->iedge | s->bypass |
         s->inpen | s->pulse | s->pin_in) & inv) {
        return -EINVAL;
    }
    for (n = 0; n < GRGPIO_MAX_LINES; n++) {
        if (s->irqmap[n] > 0x1F) {
            return -EINVAL;
        }
    }
    return 0;
}

static const VMStateDescription vmstate_gr740_grgpio = {
    .name = TYPE_GR740_GRGPIO,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = grgpio_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(output, GR740GRGPIOState),
        VMSTATE_UINT32(dir, GR740GRGPIOState),
        VMSTATE_UINT32(imask, GR740GRGPIOState),
        VMSTATE_UINT32(ipol, GR740GRGPIOState),
        VMSTATE_UINT32(iedge, GR740GRGPIOState),
        VMSTATE_UINT32(bypass, GR740GRGPIOState),
        VMSTATE_UINT32(iflag, GR740GRGPIOState),
        VMSTATE_UINT32(inpen, GR740GRGPIOState),
        VMSTATE_UINT32(pulse, GR740GRGPIOState),
        VMSTATE_UINT8_ARRAY(irqmap, GR740GRGPIOState, GRGPIO_MAX_LINES),
        VMSTATE_UINT32(pin_in, GR740GRGPIOState),
        VMSTATE_UINT32(sampled, GR740GRGPIOState),
        VMSTATE_UINT32(irq_level, GR740GRGPIOState),
        VMSTATE_UINT32(out_level, GR740GRGPIOState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property grgpio_properties[] = {
    DEFINE_PROP_UINT32("nlines", GR740GRGPIOState, nlines, 16),
    DEFINE_PROP_UINT32("irq-base", GR740GRGPIOState, irq_base, 0),
};

static void grgpio_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = grgpio_realize;
    dc->vmsd = &vmstate_gr740_grgpio;
    rc->phases.hold = grgpio_reset_hold;
    device_class_set_props(dc, grgpio_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo grgpio_info = {
    .name = TYPE_GR740_GRGPIO,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740GRGPIOState),
    .instance_init = grgpio_init,
    .class_init = grgpio_class_init,
};

static void grgpio_register_types(void)
{
    type_register_static(&grgpio_info);
}

type_init(grgpio_register_types)
