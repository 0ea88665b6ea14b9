/*
 * ITC workbench: pause the VM at an exact instruction count or virtual time
 *
 *     -M gr740,stop-icount=2000000000      (or stop-time-ns=500000000)
 *     qom-set /machine stop-icount 3000000000   (at run time, over QMP)
 *
 * Upstream's replay-break only works while replaying, so a recording that
 * had to end at instruction N could only be stopped over QMP after N had
 * passed.  These machine properties arm a QEMU_CLOCK_VIRTUAL timer at the
 * instant.  Under icount the virtual clock is derived from the instruction
 * count and QEMU ends translation blocks at timer deadlines, so the VM
 * pauses after exactly N instructions (or at the first instruction boundary
 * at or after T ns of virtual time; if the CPU idles at T, the idle warp
 * runs on to the next guest timer deadline (patch 0007 bounds it there; this
 * timer is EXTERNAL so that it leaves no trace in a recording) and the pause
 * comes with the warp),
 * in record mode as in a plain run.  This is run control of one QEMU
 * process, not machine state: it is not migrated, and a replay of such a
 * recording needs none (the log ends there).  0 means "no stop".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "hw/qdev-core.h"
#include "system/cpu-timers.h"
#include "system/runstate.h"
#include "system/system.h"
#include "trace.h"
#include "itc_stop.h"

int64_t itc_icount_deadline(uint64_t icount)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
           icount_to_ns((int64_t)icount - icount_get_raw());
}

static void itc_stop_fire(void *opaque)
{
    ItcStopAt *at = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    if (at->by_icount) {
        int64_t cur = icount_get_raw();

        /*
         * The virtual clock ran ahead of the instruction count (icount warp
         * while the CPU idled): aim again at the instruction count.
         */
        if (cur < (int64_t)at->value) {
            timer_mod(at->timer, itc_icount_deadline(at->value));
            return;
        }
    }
    at->fired_icount = icount_enabled() ? icount_get_raw() : -1;
    trace_itc_stop_fire(at->fired_icount, now);
    /* from the vCPU thread, vm_stop() requests the stop and leaves the TB */
    vm_stop(RUN_STATE_PAUSED);
}

/*
 * Arm (or, for 0, disarm) @at; false with @errp set if the instant is not
 * ahead, leaving the timer as it was.
 */
static bool itc_stop_arm(ItcStopAt *at, Error **errp)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t deadline;

    if (!at->timer) {
        at->fired_icount = -1;
        /*
         * EXTERNAL: the timer does not change guest state, so under
         * record/replay it logs no CHECKPOINT_CLOCK_VIRTUAL; a replay,
         * which has no such timer, would wait for those forever.
         */
        at->timer = timer_new_full(NULL, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                                   QEMU_TIMER_ATTR_EXTERNAL, itc_stop_fire, at);
    }
    if (!at->value) {
        timer_del(at->timer);
        return true;
    }
    if (at->by_icount) {
        int64_t cur;

        if (!icount_enabled()) {
            error_setg(errp, "stop-icount needs -icount");
            return false;
        }
        cur = icount_get_raw();
        if ((int64_t)at->value <= cur) {
            error_setg(errp, "stop-icount %" PRIu64 " is not after the "
                       "current instruction count %" PRId64, at->value, cur);
            return false;
        }
        deadline = itc_icount_deadline(at->value);
    } else {
        if ((int64_t)at->value <= now) {
            error_setg(errp, "stop-time-ns %" PRIu64 " is not after the "
                       "current virtual time %" PRId64, at->value, now);
            return false;
        }
        deadline = at->value;
    }
    timer_mod(at->timer, deadline);
    trace_itc_stop_arm(at->by_icount ? (int64_t)at->value : -1, deadline);
    return true;
}

/* Command-line values: icount is configured after the machine options. */
static void itc_stop_machine_done(Notifier *n, void *data)
{
    ItcStop *s = container_of(n, ItcStop, machine_done);
    Error *err = NULL;

    if (!itc_stop_arm(&s->icount, &err) || !itc_stop_arm(&s->time, &err)) {
        error_report_err(err);
        exit(1);
    }
}

static ItcStopAt *itc_stop_at(Object *obj, const char *name, void *opaque)
{
    ItcStop *s = (ItcStop *)((char *)obj + (uintptr_t)opaque);

    return !strcmp(name, "stop-icount") ? &s->icount : &s->time;
}

static void itc_stop_get(Object *obj, Visitor *v, const char *name,
                         void *opaque, Error **errp)
{
    visit_type_uint64(v, name, &itc_stop_at(obj, name, opaque)->value, errp);
}

static void itc_stop_set(Object *obj, Visitor *v, const char *name,
                         void *opaque, Error **errp)
{
    ItcStop *s = (ItcStop *)((char *)obj + (uintptr_t)opaque);
    ItcStopAt *at = itc_stop_at(obj, name, opaque);
    uint64_t value, old = at->value;

    if (!visit_type_uint64(v, name, &value, errp)) {
        return;
    }
    if (value > INT64_MAX) {
        error_setg(errp, "%s %" PRIu64 " is out of range", name, value);
        return;
    }
    at->by_icount = at == &s->icount;
    at->value = value;
    if (!phase_check(PHASE_MACHINE_READY)) {
        if (!s->machine_done.notify) {
            s->machine_done.notify = itc_stop_machine_done;
            qemu_add_machine_init_done_notifier(&s->machine_done);
        }
        return;
    }
    if (!itc_stop_arm(at, errp)) {
        at->value = old;                    /* its timer is unchanged */
    }
}

void itc_stop_class_add_props(ObjectClass *oc, size_t offset)
{
    object_class_property_add(oc, "stop-icount", "uint64", itc_stop_get,
                              itc_stop_set, NULL, (void *)offset);
    object_class_property_set_description(oc, "stop-icount",
        "pause after exactly this many instructions (0: never; needs -icount)");
    object_class_property_add(oc, "stop-time-ns", "uint64", itc_stop_get,
                              itc_stop_set, NULL, (void *)offset);
    object_class_property_set_description(oc, "stop-time-ns",
        "pause at exactly this virtual time in ns (0: never)");
}
