/*
 * ITC workbench: GR740 level-2 cache controller registers (GRLIB L2C)
 *
 * Only the register interface of the 2 MiB, 4-way L2 cache is modelled:
 * QEMU's memory is always coherent, so flushes, locking and scrubbing
 * complete at once and change no data.  The error registers work: EDAC
 * errors reported through gr740_l2c_report_error() (fault injection) are
 * recorded in L2CERR/L2CERRA and interrupt when unmasked.
 *
 * Register layout: RTEMS l2cache-regs.h / FACTS.md 3.6.
 * Model decisions (UNCONFIRMED against the GR740 UM):
 *  - Hardware reset leaves the cache disabled and L2CACCC = 0; the
 *    machine's boot stub sets L2CC.EN and L2CACCC.SPLIT|128WF, which is
 *    the state RTEMS's gr740 validation expects a boot loader to leave.
 *  - L2CERR.IRQ_PENDING bits: [12] correctable, [13] uncorrectable,
 *    [14] write-protection hit, [15] backend AHB error; cleared by
 *    writing 1.  Writing RST=1 clears the error status (VALID, MULTI,
 *    CEC, TYPE, ...).  The interrupt is the level of PENDING & MASK.
 *  - L2CS reports 4 ways of 512 KiB, 16 MTRRs, 128-bit backend bus.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "hw/irq.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "qapi/visitor.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740L2CState, GR740_L2C)

REG32(L2CC, 0x00)
    FIELD(L2CC, EN, 31, 1)
REG32(L2CS, 0x04)
    FIELD(L2CS, WAY, 0, 2)
    FIELD(L2CS, WAY_SIZE, 2, 11)
    FIELD(L2CS, BBUS_W, 13, 3)
    FIELD(L2CS, MTRR, 16, 6)
    FIELD(L2CS, MP, 22, 1)
REG32(L2CFMA, 0x08)
REG32(L2CFSI, 0x0C)
REG32(L2CERR, 0x20)
    FIELD(L2CERR, RST, 0, 1)
    FIELD(L2CERR, COMP, 1, 1)
    FIELD(L2CERR, IRQ_MASK, 8, 4)
    FIELD(L2CERR, IRQ_PENDING, 12, 4)
    FIELD(L2CERR, CEC, 16, 3)
    FIELD(L2CERR, DISERESP, 19, 1)
    FIELD(L2CERR, VALID, 20, 1)
    FIELD(L2CERR, MULTI, 21, 1)
    FIELD(L2CERR, COR_UCOR, 22, 1)
    FIELD(L2CERR, TAG_DATA, 23, 1)
    FIELD(L2CERR, TYPE, 24, 3)
    FIELD(L2CERR, SCRUB, 27, 1)
    FIELD(L2CERR, AHB_MASTER_INDEX, 28, 4)
REG32(L2CERRA, 0x24)
REG32(L2CTCB, 0x28)
REG32(L2CCB, 0x2C)
REG32(L2CSCRUB, 0x30)
    FIELD(L2CSCRUB, EN, 0, 1)
    FIELD(L2CSCRUB, PEN, 1, 1)
REG32(L2CSDEL, 0x34)
REG32(L2CEINJ, 0x38)
REG32(L2CACCC, 0x3C)
    FIELD(L2CACCC, SPLIT, 1, 1)
    FIELD(L2CACCC, WF128, 4, 1)
    FIELD(L2CACCC, DBPF, 5, 1)
REG32(L2CEINJCFG, 0x4C)
REG32(L2CMTRR0, 0x80)

#define L2C_NMTRR 16
#define L2C_WAYS 4
#define L2C_WAY_KIB 512

#define L2CC_WMASK      0xF007FF3Fu
/* DISERESP, IRQ_MASK, SELECT_CB/TCB, XCB, RCB, COMP */
#define L2CERR_WMASK    0x00080FFEu
#define L2CERR_STATUS   0xFFF70000u  /* cleared by RST */
#define L2CTCB_WMASK    0x0000007Fu
#define L2CCB_WMASK     0x0FFFFFFFu
#define L2CSCRUB_WMASK  0xFFFF000Du  /* INDEX, WAY, EN (PEN is status) */
#define L2CSDEL_WMASK   0x0000FFFFu
#define L2CEINJ_WMASK   0xFFFFFFFDu
#define L2CACCC_WMASK   0x000067F6u
#define L2CEINJCFG_WMASK 0x00000700u

enum { L2C_IRQ_COR = 0, L2C_IRQ_UCOR = 1 };

struct GR740L2CState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    qemu_irq irq;

    uint32_t l2cc;
    uint32_t l2cerr;
    uint32_t l2cerra;
    uint32_t l2ctcb;
    uint32_t l2ccb;
    uint32_t l2cscrub;
    uint32_t l2csdel;
    uint32_t l2ceinj;
    uint32_t l2caccc;
    uint32_t l2ceinjcfg;
    uint32_t mtrr[L2C_NMTRR];
};

static uint32_t l2c_status(void)
{
    uint32_t r = 0;

    r = FIELD_DP32(r, L2CS, WAY, L2C_WAYS - 1);
    r = FIELD_DP32(r, L2CS, WAY_SIZE, L2C_WAY_KIB);
    r = FIELD_DP32(r, L2CS, BBUS_W, 2);
    r = FIELD_DP32(r, L2CS, MTRR, L2C_NMTRR);
    r = FIELD_DP32(r, L2CS, MP, 1);
    return r;
}

static void l2c_update_irq(GR740L2CState *s)
{
    int level = (FIELD_EX32(s->l2cerr, L2CERR, IRQ_PENDING) &
                 FIELD_EX32(s->l2cerr, L2CERR, IRQ_MASK)) != 0;

    trace_gr740_l2c_irq(level);
    qemu_set_irq(s->irq, level);
}

void gr740_l2c_report_error(DeviceState *dev, uint32_t addr, unsigned master,
                            bool correctable, bool tag)
{
    GR740L2CState *s = GR740_L2C(dev);
    uint32_t e = s->l2cerr;
    unsigned pend = FIELD_EX32(e, L2CERR, IRQ_PENDING);

    trace_gr740_l2c_report(addr, correctable, tag);
    if (FIELD_EX32(e, L2CERR, VALID)) {
        e = FIELD_DP32(e, L2CERR, MULTI, 1);
    } else {
        e = FIELD_DP32(e, L2CERR, VALID, 1);
        e = FIELD_DP32(e, L2CERR, AHB_MASTER_INDEX, master);
        e = FIELD_DP32(e, L2CERR, TAG_DATA, tag);
        e = FIELD_DP32(e, L2CERR, COR_UCOR, !correctable);
        s->l2cerra = addr;
    }
    if (correctable && FIELD_EX32(e, L2CERR, CEC) < 7) {
        e = FIELD_DP32(e, L2CERR, CEC, FIELD_EX32(e, L2CERR, CEC) + 1);
    }
    pend |= 1u << (correctable ? L2C_IRQ_COR : L2C_IRQ_UCOR);
    s->l2cerr = FIELD_DP32(e, L2CERR, IRQ_PENDING, pend);
    l2c_update_irq(s);
}

static uint64_t l2c_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740L2CState *s = opaque;
    uint32_t r = 0;

    switch (offset) {
    case A_L2CC:
        r = s->l2cc;
        break;
    case A_L2CS:
        r = l2c_status();
        break;
    case A_L2CFMA:
    case A_L2CFSI:
        r = 0;  /* flushes complete at once */
        break;
    case A_L2CERR:
        r = s->l2cerr;
        break;
    case A_L2CERRA:
        r = s->l2cerra;
        break;
    case A_L2CTCB:
        r = s->l2ctcb;
        break;
    case A_L2CCB:
        r = s->l2ccb;
        break;
    case A_L2CSCRUB:
        r = s->l2cscrub;
        break;
    case A_L2CSDEL:
        r = s->l2csdel;
        break;
    case A_L2CEINJ:
        r = s->l2ceinj;
        break;
    case A_L2CACCC:
        r = s->l2caccc;
        break;
    case A_L2CEINJCFG:
        r = s->l2ceinjcfg;
        break;
    case A_L2CMTRR0 ... A_L2CMTRR0 + 4 * (L2C_NMTRR - 1):
        if (offset & 3) {
            goto bad;
        }
        r = s->mtrr[(offset - A_L2CMTRR0) / 4];
        break;
    default:
    bad:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-l2c: read of undefined offset "
                      "0x%" HWADDR_PRIx "\n", offset);
        break;
    }
    trace_gr740_l2c_read(offset, r);
    return r;
}

static void l2c_write(void *opaque, hwaddr offset, uint64_t value,
                      unsigned size)
{
    GR740L2CState *s = opaque;
    uint32_t v = value;
    unsigned pend;

    trace_gr740_l2c_write(offset, v);
    switch (offset) {
    case A_L2CC:
        s->l2cc = v & L2CC_WMASK;
        break;
    case A_L2CS:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-l2c: L2CS is read-only\n");
        break;
    case A_L2CFMA:
    case A_L2CFSI:
        /* Flush/invalidate: QEMU memory is coherent, nothing to do. */
        break;
    case A_L2CERR:
        pend = FIELD_EX32(s->l2cerr, L2CERR, IRQ_PENDING) &
               ~FIELD_EX32(v, L2CERR, IRQ_PENDING);
        if (FIELD_EX32(v, L2CERR, RST)) {
            s->l2cerr &= ~L2CERR_STATUS;
        }
        s->l2cerr = (s->l2cerr & ~L2CERR_WMASK) | (v & L2CERR_WMASK);
        s->l2cerr = FIELD_DP32(s->l2cerr, L2CERR, IRQ_PENDING, pend);
        l2c_update_irq(s);
        break;
    case A_L2CERRA:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-l2c: L2CERRA is read-only\n");
        break;
    case A_L2CTCB:
        s->l2ctcb = v & L2CTCB_WMASK;
        break;
    case A_L2CCB:
        s->l2ccb = v & L2CCB_WMASK;
        break;
    case A_L2CSCRUB:
        /* A scrub of the (always clean) cache finishes at once: PEN = 0. */
        s->l2cscrub = v & L2CSCRUB_WMASK;
        break;
    case A_L2CSDEL:
        s->l2csdel = v & L2CSDEL_WMASK;
        break;
    case A_L2CEINJ:
        s->l2ceinj = v & L2CEINJ_WMASK;
        break;
    case A_L2CACCC:
        s->l2caccc = v & L2CACCC_WMASK;
        break;
    case A_L2CEINJCFG:
        s->l2ceinjcfg = v & L2CEINJCFG_WMASK;
        break;
    case A_L2CMTRR0 ... A_L2CMTRR0 + 4 * (L2C_NMTRR - 1):
        if (offset & 3) {
            goto bad;
        }
        s->mtrr[(offset - A_L2CMTRR0) / 4] = v;
        break;
    default:
    bad:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-l2c: write of undefined offset "
                      "0x%" HWADDR_PRIx " (0x%08x)\n", offset, v);
        break;
    }
}

static const MemoryRegionOps l2c_ops = {
    .read = l2c_read,
    .write = l2c_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void l2c_set_inject(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    uint64_t inj;

    if (visit_type_uint64(v, name, &inj, errp)) {
        gr740_l2c_report_error(DEVICE(obj), GR740_INJ_ADDR(inj),
                               GR740_INJ_MASTER(inj),
                               GR740_INJ_CORRECTABLE(inj), GR740_INJ_TAG(inj));
    }
}

static void l2c_reset_hold(Object *obj, ResetType type)
{
    GR740L2CState *s = GR740_L2C(obj);

    s->l2cc = 0;
    s->l2cerr = 0;
    s->l2cerra = 0;
    s->l2ctcb = 0;
    s->l2ccb = 0;
    s->l2cscrub = 0;
    s->l2csdel = 0;
    s->l2ceinj = 0;
    s->l2caccc = 0;
    s->l2ceinjcfg = 0;
    memset(s->mtrr, 0, sizeof(s->mtrr));
    qemu_set_irq(s->irq, 0);
}

static void l2c_init(Object *obj)
{
    GR740L2CState *s = GR740_L2C(obj);

    memory_region_init_io(&s->iomem, obj, &l2c_ops, s, TYPE_GR740_L2C,
                          GR740_L2C_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
    object_property_add(obj, "inject-error", "uint64", NULL, l2c_set_inject,
                        NULL, NULL);
}

static const VMStateDescription vmstate_gr740_l2c = {
    .name = TYPE_GR740_L2C,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(l2cc, GR740L2CState),
        VMSTATE_UINT32(l2cerr, GR740L2CState),
        VMSTATE_UINT32(l2cerra, GR740L2CState),
        VMSTATE_UINT32(l2ctcb, GR740L2CState),
        VMSTATE_UINT32(l2ccb, GR740L2CState),
        VMSTATE_UINT32(l2cscrub, GR740L2CState),
        VMSTATE_UINT32(l2csdel, GR740L2CState),
        VMSTATE_UINT32(l2ceinj, GR740L2CState),
        VMSTATE_UINT32(l2caccc, GR740L2CState),
        VMSTATE_UINT32(l2ceinjcfg, GR740L2CState),
        VMSTATE_UINT32_ARRAY(mtrr, GR740L2CState, L2C_NMTRR),
        VMSTATE_END_OF_LIST()
    },
};

static void l2c_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->vmsd = &vmstate_gr740_l2c;
    rc->phases.hold = l2c_reset_hold;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo l2c_info = {
    .name = TYPE_GR740_L2C,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740L2CState),
    .instance_init = l2c_init,
    .class_init = l2c_class_init,
};

static void l2c_register_types(void)
{
    type_register_static(&l2c_info);
}

type_init(l2c_register_types)
