/*
 * ITC workbench: fault channel, the recorded way to inject faults
 *
 * Faults added over QMP while a recording runs cannot be replayed: the
 * injection happens in the main loop at a host-dependent moment, and the
 * timers it arms write replay checkpoints no replay would write.  This
 * device reads fault requests from the machine's third serial port
 * (serial_hd(2), e.g. -serial unix:PATH,server=on,wait=off), one JSON
 * object per line with the arguments of itc-inject-fault:
 *
 *     {"kind": "mem-seu", "target": "0x6624", "mask": 16}
 *
 * and answers each with one line, {"return": {...ItcFaultInfo}} or
 * {"error": "message"}.  Serial ports are recorded chardevs: under
 * record/replay the request bytes are logged as input and delivered again
 * at the same point of every replay, where this device injects the same
 * fault (its reply is a logged write), so the fault needs no other
 * replay support.  A request without icount/time-ns happens at once.
 * The partial line is migrated, so a checkpoint between two bytes of a
 * request stays exact.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-itc.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qemu/log.h"
#include "chardev/char-fe.h"
#include "hw/qdev-core.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "migration/vmstate.h"
#include "trace.h"
#include "itc_fault_channel.h"

OBJECT_DECLARE_SIMPLE_TYPE(ItcFaultChannel, ITC_FAULT_CHANNEL)

#define ITC_FAULT_LINE_MAX 512

struct ItcFaultChannel {
    DeviceState parent_obj;

    CharBackend chr;
    uint32_t len;               /* bytes in line[] */
    bool overflow;              /* discarding up to the next newline */
    uint8_t line[ITC_FAULT_LINE_MAX];
};

static void itc_fault_channel_reply(ItcFaultChannel *s, GString *msg)
{
    g_string_append_c(msg, '\n');
    qemu_chr_fe_write_all(&s->chr, (const uint8_t *)msg->str, msg->len);
}

static void itc_fault_channel_request(ItcFaultChannel *s, const char *text)
{
    g_autoptr(GString) json = NULL;
    Error *err = NULL;
    QObject *ret = NULL;
    QObject *req = qobject_from_json(text, &err);
    QDict *args = req ? qobject_to(QDict, req) : NULL;

    if (!err && !args) {
        error_setg(&err, "a request is a JSON object of itc-inject-fault "
                   "arguments");
    }
    if (!err) {
        qmp_marshal_itc_inject_fault(args, &ret, &err);
    }
    if (err) {
        g_autoptr(QDict) e = qdict_new();

        trace_itc_fault_channel_error(error_get_pretty(err));
        qdict_put_str(e, "error", error_get_pretty(err));
        json = qobject_to_json(QOBJECT(e));
        error_free(err);
    } else {
        g_autoptr(QDict) r = qdict_new();

        trace_itc_fault_channel_injected(text);
        qdict_put_obj(r, "return", ret);
        json = qobject_to_json(QOBJECT(r));
    }
    qobject_unref(req);
    itc_fault_channel_reply(s, json);
}

static int itc_fault_channel_can_read(void *opaque)
{
    return ITC_FAULT_LINE_MAX;
}

static void itc_fault_channel_read(void *opaque, const uint8_t *buf, int size)
{
    ItcFaultChannel *s = opaque;

    for (int i = 0; i < size; i++) {
        if (buf[i] == '\n') {
            if (s->overflow) {
                g_autoptr(GString) out = g_string_new(
                    "{\"error\": \"request longer than 511 bytes\"}");

                itc_fault_channel_reply(s, out);
            } else if (s->len) {
                g_autofree char *text = g_strndup((char *)s->line, s->len);

                itc_fault_channel_request(s, text);
            }
            s->len = 0;
            s->overflow = false;
        } else if (buf[i] == '\r' || s->overflow) {
            continue;
        } else if (s->len < ITC_FAULT_LINE_MAX - 1) {
            s->line[s->len++] = buf[i];
        } else {
            s->overflow = true;
        }
    }
}

static void itc_fault_channel_realize(DeviceState *dev, Error **errp)
{
    ItcFaultChannel *s = ITC_FAULT_CHANNEL(dev);

    qemu_chr_fe_set_handlers(&s->chr, itc_fault_channel_can_read,
                             itc_fault_channel_read, NULL, NULL, s, NULL,
                             true);
}

static int itc_fault_channel_post_load(void *opaque, int version_id)
{
    ItcFaultChannel *s = opaque;

    return s->len < ITC_FAULT_LINE_MAX ? 0 : -EINVAL;
}

static const VMStateDescription vmstate_itc_fault_channel = {
    .name = "itc-fault-channel",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = itc_fault_channel_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(len, ItcFaultChannel),
        VMSTATE_BOOL(overflow, ItcFaultChannel),
        VMSTATE_UINT8_ARRAY(line, ItcFaultChannel, ITC_FAULT_LINE_MAX),
        VMSTATE_END_OF_LIST()
    },
};

static const Property itc_fault_channel_props[] = {
    DEFINE_PROP_CHR("chardev", ItcFaultChannel, chr),
};

static void itc_fault_channel_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = itc_fault_channel_realize;
    dc->vmsd = &vmstate_itc_fault_channel;
    dc->desc = "ITC fault channel (recorded fault requests on a serial port)";
    dc->user_creatable = false;
    device_class_set_props(dc, itc_fault_channel_props);
}

static const TypeInfo itc_fault_channel_info = {
    .name = TYPE_ITC_FAULT_CHANNEL,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(ItcFaultChannel),
    .class_init = itc_fault_channel_class_init,
};

static void itc_fault_channel_register_types(void)
{
    type_register_static(&itc_fault_channel_info);
}

type_init(itc_fault_channel_register_types)

void itc_fault_channel_create(Object *machine, Chardev *chr)
{
    DeviceState *dev = qdev_new(TYPE_ITC_FAULT_CHANNEL);

    object_property_add_child(machine, "fault-channel", OBJECT(dev));
    qdev_prop_set_chr(dev, "chardev", chr);
    qdev_realize_and_unref(dev, NULL, &error_fatal);
}
