/*
 * ITC workbench: GR740 temperature sensor controller
 *
 * Registers (RTEMS gr740-thsens-regs.h, cFE PSP GR740 header):
 *   CTRL   DIV[25:16] ALEN[8] PDN[7] DCORRECT[6:2] SRSTN[1] CLKEN[0]
 *   STATUS MAX[30:24] MIN[22:16] SCLK[15] WE[10] UPD[9] ALACT[8] DATA[6:0]
 *   THRES  THRES[6:0]
 *
 * The sensor samples while CLKEN=1, SRSTN=1 and PDN=0.  Each sample puts
 * the sensor code in DATA, sets UPD (cleared when STATUS is read, per the
 * cFE PSP description), and tracks MIN/MAX.  With ALEN, ALACT is set while
 * DATA >= THRES.  SRSTN=0 resets the measurement state (DATA, MIN, MAX).
 *
 * The temperature is not host data: it is the QOM property "temperature",
 * the 7-bit sensor code (0..127) the sensor reports, settable on the
 * command line (-global gr740-thsens.temperature=N), with qom-set, or by
 * fault injection through gr740_thsens_set_temperature().  The code to
 * degrees calibration (DCORRECT) is not modelled.  Anything that changes
 * it during a recorded run must go through a recorded path.
 *
 * Timing (model decision, UNCONFIRMED): the sensor clock is
 * f_sys / (DIV + 1) and one conversion takes 1024 sensor clocks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740ThSensState, GR740_THSENS)

REG32(CTRL, 0x00)
    FIELD(CTRL, CLKEN, 0, 1)
    FIELD(CTRL, SRSTN, 1, 1)
    FIELD(CTRL, DCORRECT, 2, 5)
    FIELD(CTRL, PDN, 7, 1)
    FIELD(CTRL, ALEN, 8, 1)
    FIELD(CTRL, DIV, 16, 10)
REG32(STATUS, 0x04)
    FIELD(STATUS, DATA, 0, 7)
    FIELD(STATUS, ALACT, 8, 1)
    FIELD(STATUS, UPD, 9, 1)
    FIELD(STATUS, WE, 10, 1)
    FIELD(STATUS, SCLK, 15, 1)
    FIELD(STATUS, MIN, 16, 7)
    FIELD(STATUS, MAX, 24, 7)
REG32(THRES, 0x08)
    FIELD(THRES, THRES, 0, 7)

#define THSENS_REG_SIZE 0x100
#define CTRL_WMASK 0x03FF01FFu
#define THSENS_CODE_MAX 127
#define CONVERSION_SENSOR_CLOCKS 1024u

struct GR740ThSensState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    QEMUTimer *sample_timer;

    uint32_t ctrl;
    uint32_t thres;
    uint8_t data;
    uint8_t min;
    uint8_t max;
    bool upd;
    bool sampled;           /* at least one sample since SRSTN */
    int32_t temperature;    /* sensor code the next samples report */

    uint32_t freq_hz;
};

static bool thsens_running(GR740ThSensState *s)
{
    return FIELD_EX32(s->ctrl, CTRL, CLKEN) &&
           FIELD_EX32(s->ctrl, CTRL, SRSTN) &&
           !FIELD_EX32(s->ctrl, CTRL, PDN);
}

static int64_t thsens_period_ns(GR740ThSensState *s)
{
    uint64_t clocks = (uint64_t)CONVERSION_SENSOR_CLOCKS *
                      (FIELD_EX32(s->ctrl, CTRL, DIV) + 1);

    return MAX(1, muldiv64(clocks, NANOSECONDS_PER_SECOND, s->freq_hz));
}

static void thsens_schedule(GR740ThSensState *s)
{
    if (thsens_running(s)) {
        if (!timer_pending(s->sample_timer)) {
            timer_mod(s->sample_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                      thsens_period_ns(s));
        }
    } else {
        timer_del(s->sample_timer);
    }
}

static void thsens_sample(void *opaque)
{
    GR740ThSensState *s = opaque;

    s->data = s->temperature;
    if (!s->sampled) {
        s->min = s->max = s->data;
        s->sampled = true;
    } else {
        s->min = MIN(s->min, s->data);
        s->max = MAX(s->max, s->data);
    }
    s->upd = true;
    trace_gr740_thsens_sample(s->data);
    thsens_schedule(s);
}

static uint32_t thsens_status(GR740ThSensState *s)
{
    uint32_t r = 0;
    bool alarm = FIELD_EX32(s->ctrl, CTRL, ALEN) && s->sampled &&
                 s->data >= FIELD_EX32(s->thres, THRES, THRES);

    r = FIELD_DP32(r, STATUS, DATA, s->data);
    r = FIELD_DP32(r, STATUS, ALACT, alarm);
    r = FIELD_DP32(r, STATUS, UPD, s->upd);
    r = FIELD_DP32(r, STATUS, MIN, s->min);
    r = FIELD_DP32(r, STATUS, MAX, s->max);
    return r;
}

static void thsens_measure_reset(GR740ThSensState *s)
{
    s->data = 0;
    s->min = 0;
    s->max = 0;
    s->upd = false;
    s->sampled = false;
}

void gr740_thsens_set_temperature(DeviceState *dev, int code)
{
    GR740ThSensState *s = GR740_THSENS(dev);

    s->temperature = MIN(MAX(code, 0), THSENS_CODE_MAX);
}

static uint64_t thsens_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740ThSensState *s = opaque;
    uint32_t r = 0;

    switch (offset) {
    case A_CTRL:
        r = s->ctrl;
        break;
    case A_STATUS:
        r = thsens_status(s);
        s->upd = false;
        break;
    case A_THRES:
        r = s->thres;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-thsens: read of undefined "
                      "offset 0x%" HWADDR_PRIx "\n", offset);
        break;
    }
    trace_gr740_thsens_read(offset, r);
    return r;
}

static void thsens_write(void *opaque, hwaddr offset, uint64_t value,
                         unsigned size)
{
    GR740ThSensState *s = opaque;
    uint32_t v = value;

    trace_gr740_thsens_write(offset, v);
    switch (offset) {
    case A_CTRL:
        s->ctrl = v & CTRL_WMASK;
        if (!FIELD_EX32(s->ctrl, CTRL, SRSTN)) {
            thsens_measure_reset(s);
        }
        thsens_schedule(s);
        break;
    case A_STATUS:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-thsens: STATUS is read-only\n");
        break;
    case A_THRES:
        s->thres = v & R_THRES_THRES_MASK;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "gr740-thsens: write of undefined "
                      "offset 0x%" HWADDR_PRIx " (0x%08x)\n", offset, v);
        break;
    }
}

static const MemoryRegionOps thsens_ops = {
    .read = thsens_read,
    .write = thsens_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void thsens_get_temperature(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    GR740ThSensState *s = GR740_THSENS(obj);

    visit_type_int32(v, name, &s->temperature, errp);
}

static void thsens_prop_set_temperature(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    GR740ThSensState *s = GR740_THSENS(obj);
    int32_t code;

    if (!visit_type_int32(v, name, &code, errp)) {
        return;
    }
    if (code < 0 || code > THSENS_CODE_MAX) {
        error_setg(errp, "gr740-thsens: temperature is a 7-bit sensor code "
                   "(0..%d), not %d", THSENS_CODE_MAX, code);
        return;
    }
    s->temperature = code;
}

static void thsens_reset_hold(Object *obj, ResetType type)
{
    GR740ThSensState *s = GR740_THSENS(obj);

    timer_del(s->sample_timer);
    s->ctrl = 0;
    s->thres = 0;
    thsens_measure_reset(s);
}

static void thsens_realize(DeviceState *dev, Error **errp)
{
    GR740ThSensState *s = GR740_THSENS(dev);

    if (s->freq_hz == 0) {
        error_setg(errp, "gr740-thsens: frequency must not be 0");
        return;
    }
    s->sample_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, thsens_sample, s);
}

static void thsens_unrealize(DeviceState *dev)
{
    GR740ThSensState *s = GR740_THSENS(dev);

    timer_free(s->sample_timer);
}

static void thsens_init(Object *obj)
{
    GR740ThSensState *s = GR740_THSENS(obj);

    s->temperature = 40;
    memory_region_init_io(&s->iomem, obj, &thsens_ops, s, TYPE_GR740_THSENS,
                          THSENS_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
    object_property_add(obj, "temperature", "int32", thsens_get_temperature,
                        thsens_prop_set_temperature, NULL, NULL);
}

static int thsens_post_load(void *opaque, int version_id)
{
    GR740ThSensState *s = opaque;

    if (s->temperature < 0 || s->temperature > THSENS_CODE_MAX ||
        s->data > THSENS_CODE_MAX || s->min > THSENS_CODE_MAX ||
        s->max > THSENS_CODE_MAX) {
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_gr740_thsens = {
    .name = TYPE_GR740_THSENS,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = thsens_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, GR740ThSensState),
        VMSTATE_UINT32(thres, GR740ThSensState),
        VMSTATE_UINT8(data, GR740ThSensState),
        VMSTATE_UINT8(min, GR740ThSensState),
        VMSTATE_UINT8(max, GR740ThSensState),
        VMSTATE_BOOL(upd, GR740ThSensState),
        VMSTATE_BOOL(sampled, GR740ThSensState),
        VMSTATE_INT32(temperature, GR740ThSensState),
        VMSTATE_TIMER_PTR(sample_timer, GR740ThSensState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property thsens_properties[] = {
    DEFINE_PROP_UINT32("frequency", GR740ThSensState, freq_hz,
                       GR740_SYS_FREQ_HZ),
};

static void thsens_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = thsens_realize;
    dc->unrealize = thsens_unrealize;
    dc->vmsd = &vmstate_gr740_thsens;
    rc->phases.hold = thsens_reset_hold;
    device_class_set_props(dc, thsens_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo thsens_info = {
    .name = TYPE_GR740_THSENS,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740ThSensState),
    .instance_init = thsens_init,
    .class_init = thsens_class_init,
};

static void thsens_register_types(void)
{
    type_register_static(&thsens_info);
}

type_init(thsens_register_types)
