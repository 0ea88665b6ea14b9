/*
 * ITC workbench: checkpoints QEMU takes by itself on a schedule
 *
 *     -M gr740,checkpoint-dir=DIR,checkpoint-every=20000000
 *     qom-set /machine checkpoint-every 0        (at run time: no more)
 *
 * At every multiple K of checkpoint-every instructions the VM pauses (an
 * EXTERNAL virtual-clock timer, as for stop-icount in itc_stop.c: under
 * icount it fires after exactly K instructions and leaves nothing in a
 * recording), its state is saved into DIR/ckpt-K.stream as
 * itc-snapshot-save does, an ITC_CHECKPOINT event names the file, and the
 * VM runs on.  The state is serialized into memory while the VM is paused;
 * a thread writes the file once it has resumed (creating and filling the
 * file was a third of the pause); the event follows the write.  A
 * recording used to do this from outside, with five QMP
 * round trips per checkpoint while the guest stood still; here the pause
 * is the save.  The paused interval leaves nothing in a replay log either
 * (patch 0010), so a replay passes K without stopping.
 *
 * No checkpoint is taken at or after an armed stop-icount (the run ends
 * there), and one due at the instant a stop fires leaves the VM paused.
 * A "stop" over QMP between the pause and the save is not told apart from
 * the checkpoint's own pause: the VM resumes after the save.
 *
 * Like stop-icount this is run control of one QEMU process, not machine
 * state: it is not migrated.  The event's uart-bytes are what the first
 * APBUART has handed to its chardev in this process (its "tx-bytes"), the
 * length of a file chardev's output at the checkpoint.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-events-itc.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/thread.h"
#include "block/aio.h"
#include "qom/object.h"
#include "hw/qdev-core.h"
#include "migration/snapshot.h"
#include "system/cpu-timers.h"
#include "system/runstate.h"
#include "system/system.h"
#include "trace.h"
#include "itc_checkpoint.h"

static ItcCheckpoints *itc_checkpoint_of(Object *obj, void *opaque)
{
    return (ItcCheckpoints *)((char *)obj + (uintptr_t)opaque);
}

/* The armed stop-icount, or 0. */
static uint64_t itc_checkpoint_limit(ItcCheckpoints *c)
{
    return c->stop ? c->stop->icount.value : 0;
}

/*
 * Aim the timer at the first multiple of @every after the current
 * instruction count, or disarm it.
 */
static void itc_checkpoint_aim(ItcCheckpoints *c)
{
    c->next = 0;
    if (!c->every || !c->dir || !icount_enabled()) {
        if (c->timer) {
            timer_del(c->timer);
        }
        return;
    }
    c->next = ((uint64_t)icount_get_raw() / c->every + 1) * c->every;
    timer_mod(c->timer, itc_icount_deadline(c->next));
    trace_itc_checkpoint_aim(c->next);
}

/* vCPU thread, at the checkpoint's instant. */
static void itc_checkpoint_fire(void *opaque)
{
    ItcCheckpoints *c = opaque;
    int64_t cur = icount_get_raw();
    uint64_t limit = itc_checkpoint_limit(c);

    if (cur < (int64_t)c->next || (limit && c->next >= limit)) {
        /*
         * The virtual clock ran ahead of icount (idle warp): aim again.
         * Or the run stops before this checkpoint: none, but keep the
         * schedule should the stop move.
         */
        if (cur >= (int64_t)c->next) {
            c->next += c->every;
        }
        timer_mod(c->timer, itc_icount_deadline(c->next));
        return;
    }
    c->due = true;
    /* from the vCPU thread, vm_stop() requests the stop and leaves the TB */
    vm_stop(RUN_STATE_PAUSED);
}

/* Main loop: the VM has stopped; save once the stop has completed. */
static void itc_checkpoint_vm_state(void *opaque, bool running,
                                    RunState state)
{
    ItcCheckpoints *c = opaque;

    if (!running && c->due) {
        c->paused_ns = get_clock();
        qemu_bh_schedule(c->save_bh);
    }
}

/* Did a run-control stop fire at the instant @icount? */
static bool itc_checkpoint_stop_fired(ItcCheckpoints *c, int64_t icount)
{
    return c->stop && (c->stop->icount.fired_icount == icount ||
                       c->stop->time.fired_icount == icount);
}

/* A saved checkpoint on its way to its file. */
typedef struct ItcCheckpointWrite {
    ItcCheckpoints *c;
    char *path;
    uint8_t *data;
    size_t size;
    int64_t icount, clock, pause_us;
    uint64_t uart;
    char *error;                /* why the file could not be written */
} ItcCheckpointWrite;

static void itc_checkpoint_send(int64_t icount, int64_t clock,
                                const char *path, uint64_t size,
                                uint64_t uart, int64_t pause_us,
                                const char *error)
{
    trace_itc_checkpoint_save(icount, error ? 0 : size, pause_us);
    qapi_event_send_itc_checkpoint(icount, clock, error ? NULL : path,
                                   error ? 0 : size, uart, pause_us, error);
}

/* Main loop, once the file is written: the event. */
static void itc_checkpoint_written(void *opaque)
{
    ItcCheckpointWrite *w = opaque;

    itc_checkpoint_send(w->icount, w->clock, w->path, w->size, w->uart,
                        w->pause_us, w->error);
    w->c->writing = false;
    if (w->c->due) {
        /* the next checkpoint waited for this write (a slow disk) */
        qemu_bh_schedule(w->c->save_bh);
    }
    g_free(w->path);
    g_free(w->error);
    g_free(w);
}

/* The writer thread, while the VM runs: the file. */
static void itc_checkpoint_write(ItcCheckpointWrite *w)
{
    int fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0 || qemu_write_full(fd, w->data, w->size) != w->size) {
        w->error = g_strdup_printf("writing %s: %s", w->path,
                                   g_strerror(errno));
    }
    if (fd >= 0 && close(fd) < 0 && !w->error) {
        w->error = g_strdup_printf("closing %s: %s", w->path,
                                   g_strerror(errno));
    }
    if (w->error && fd >= 0) {
        unlink(w->path);
    }
    g_free(w->data);
    w->data = NULL;
    aio_bh_schedule_oneshot(qemu_get_aio_context(), itc_checkpoint_written,
                            w);
}

/*
 * One thread for all the checkpoints' files, started with the first: a
 * thread per file cost its creation and teardown (about ten system calls,
 * each dear in a virtual machine) at every checkpoint.
 */
static void *itc_checkpoint_writer(void *opaque)
{
    ItcCheckpoints *c = opaque;

    for (;;) {
        ItcCheckpointWrite *w;

        qemu_mutex_lock(&c->write_lock);
        while (!c->write_job) {
            qemu_cond_wait(&c->write_cond, &c->write_lock);
        }
        w = c->write_job;
        c->write_job = NULL;
        qemu_mutex_unlock(&c->write_lock);
        itc_checkpoint_write(w);
    }
    return NULL;
}

static void itc_checkpoint_save(void *opaque)
{
    ItcCheckpoints *c = opaque;
    g_autofree char *path = NULL;
    g_autofree uint8_t *data = NULL;
    Error *err = NULL;
    size_t size = 0;
    uint64_t icount = 0, uart = 0;
    int64_t clock = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), pause_us;
    int64_t at = icount_get_raw();

    if (!c->due) {
        return;
    }
    if (c->writing) {
        /* the last checkpoint's file is not written yet: its end runs this */
        return;
    }
    c->due = false;
    if (!runstate_check(RUN_STATE_PAUSED)) {
        /* shut down or reset in between: no checkpoint, nothing to resume */
        return;
    }
    if (at != (int64_t)c->next) {
        error_setg(&err, "paused at icount %" PRId64 ", the checkpoint was "
                   "due at %" PRIu64, at, c->next);
    } else {
        path = g_strdup_printf("%s/ckpt-%" PRIu64 ".stream", c->dir, c->next);
        data = save_snapshot_buffer(c->last_size ? c->last_size + 65536
                                                 : 1024 * 1024,
                                    &size, &icount, &clock, &err);
    }
    if (c->uart) {
        uart = object_property_get_uint(c->uart, "tx-bytes", &error_abort);
    }
    itc_checkpoint_aim(c);
    pause_us = (get_clock() - c->paused_ns) / 1000;
    if (!data) {
        itc_checkpoint_send(at, clock, NULL, 0, uart, pause_us,
                            error_get_pretty(err));
        error_free(err);
    } else {
        c->last_size = size;
        c->writing = true;
    }
    if (!itc_checkpoint_stop_fired(c, at)) {
        vm_start();     /* before the file: the writer needs no paused VM */
    }
    if (data) {
        ItcCheckpointWrite *w = g_new0(ItcCheckpointWrite, 1);

        *w = (ItcCheckpointWrite) {
            .c = c, .path = g_steal_pointer(&path),
            .data = g_steal_pointer(&data), .size = size, .icount = at,
            .clock = clock, .pause_us = pause_us, .uart = uart,
        };
        if (!c->writer_started) {
            qemu_mutex_init(&c->write_lock);
            qemu_cond_init(&c->write_cond);
            qemu_thread_create(&c->writer, "itc-ckpt-write",
                               itc_checkpoint_writer, c,
                               QEMU_THREAD_DETACHED);
            c->writer_started = true;
        }
        /* one file at a time: "writing" holds the next save back */
        qemu_mutex_lock(&c->write_lock);
        assert(!c->write_job);
        c->write_job = w;
        qemu_cond_signal(&c->write_cond);
        qemu_mutex_unlock(&c->write_lock);
    }
}

static void itc_checkpoint_init_once(ItcCheckpoints *c)
{
    if (c->timer) {
        return;
    }
    /*
     * EXTERNAL: the timer does not change guest state, so under
     * record/replay it logs no CHECKPOINT_CLOCK_VIRTUAL (a replay has no
     * such timer).
     */
    c->timer = timer_new_full(NULL, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                              QEMU_TIMER_ATTR_EXTERNAL, itc_checkpoint_fire,
                              c);
    c->save_bh = qemu_bh_new(itc_checkpoint_save, c);
    qemu_add_vm_change_state_handler(itc_checkpoint_vm_state, c);
}

/* Command-line values: icount is configured after the machine options. */
static void itc_checkpoint_machine_done(Notifier *n, void *data)
{
    ItcCheckpoints *c = container_of(n, ItcCheckpoints, machine_done);

    if (c->every && !icount_enabled()) {
        error_report("checkpoint-every needs -icount");
        exit(1);
    }
    if (c->every && !c->dir) {
        error_report("checkpoint-every needs checkpoint-dir");
        exit(1);
    }
    itc_checkpoint_init_once(c);
    itc_checkpoint_aim(c);
}

static void itc_checkpoint_defer(ItcCheckpoints *c)
{
    if (!c->machine_done.notify) {
        c->machine_done.notify = itc_checkpoint_machine_done;
        qemu_add_machine_init_done_notifier(&c->machine_done);
    }
}

static void itc_checkpoint_get_every(Object *obj, Visitor *v,
                                     const char *name, void *opaque,
                                     Error **errp)
{
    visit_type_uint64(v, name, &itc_checkpoint_of(obj, opaque)->every, errp);
}

static void itc_checkpoint_set_every(Object *obj, Visitor *v,
                                     const char *name, void *opaque,
                                     Error **errp)
{
    ItcCheckpoints *c = itc_checkpoint_of(obj, opaque);
    uint64_t value;

    if (!visit_type_uint64(v, name, &value, errp)) {
        return;
    }
    if (value > INT64_MAX) {
        error_setg(errp, "%s %" PRIu64 " is out of range", name, value);
        return;
    }
    if (!phase_check(PHASE_MACHINE_READY)) {
        c->every = value;
        itc_checkpoint_defer(c);
        return;
    }
    if (value && !icount_enabled()) {
        error_setg(errp, "checkpoint-every needs -icount");
        return;
    }
    if (value && !c->dir) {
        error_setg(errp, "set checkpoint-dir before checkpoint-every");
        return;
    }
    if (c->due || c->writing) {
        error_setg(errp, "a checkpoint is being taken; try again");
        return;
    }
    c->every = value;
    itc_checkpoint_init_once(c);
    itc_checkpoint_aim(c);
}

static void itc_checkpoint_get_dir(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    ItcCheckpoints *c = itc_checkpoint_of(obj, opaque);
    char *value = g_strdup(c->dir ?: "");

    visit_type_str(v, name, &value, errp);
    g_free(value);
}

static void itc_checkpoint_set_dir(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    ItcCheckpoints *c = itc_checkpoint_of(obj, opaque);
    g_autofree char *value = NULL;

    if (!visit_type_str(v, name, &value, errp)) {
        return;
    }
    if (!*value) {
        error_setg(errp, "checkpoint-dir must not be empty");
        return;
    }
    if (!g_file_test(value, G_FILE_TEST_IS_DIR)) {
        error_setg(errp, "checkpoint-dir %s is not a directory", value);
        return;
    }
    if (c->due || c->writing) {
        error_setg(errp, "a checkpoint is being taken; try again");
        return;
    }
    g_free(c->dir);
    c->dir = g_steal_pointer(&value);
}

void itc_checkpoint_class_add_props(ObjectClass *oc, size_t offset)
{
    object_class_property_add(oc, "checkpoint-every", "uint64",
                              itc_checkpoint_get_every,
                              itc_checkpoint_set_every, NULL,
                              (void *)offset);
    object_class_property_set_description(oc, "checkpoint-every",
        "save the VM state into checkpoint-dir every this many instructions "
        "(0: never; needs -icount); an ITC_CHECKPOINT event follows each");
    object_class_property_add(oc, "checkpoint-dir", "str",
                              itc_checkpoint_get_dir, itc_checkpoint_set_dir,
                              NULL, (void *)offset);
    object_class_property_set_description(oc, "checkpoint-dir",
        "directory for the checkpoints' stream files (ckpt-ICOUNT.stream)");
}

void itc_checkpoint_connect(ItcCheckpoints *c, const ItcStop *stop,
                            Object *uart)
{
    c->stop = stop;
    c->uart = uart;
}
