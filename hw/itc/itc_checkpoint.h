/*
 * ITC workbench: checkpoints QEMU takes by itself on a schedule
 * (machine properties checkpoint-every / checkpoint-dir, see
 * itc_checkpoint.c)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ITC_ITC_CHECKPOINT_H
#define HW_ITC_ITC_CHECKPOINT_H

#include "qemu/notify.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "system/runstate.h"
#include "itc_stop.h"

typedef struct ItcCheckpoints {
    uint64_t every;             /* instructions between checkpoints; 0: none */
    char *dir;                  /* where the stream files go */
    uint64_t next;              /* icount of the next checkpoint; 0: none */
    QEMUTimer *timer;           /* EXTERNAL virtual-clock timer at @next */
    QEMUBH *save_bh;            /* saves and resumes, in the main loop */
    bool due;                   /* paused for @next, not saved yet */
    bool writing;               /* a saved checkpoint's file being written */
    size_t last_size;           /* the last checkpoint's stream length */
    int64_t paused_ns;          /* host time the pause began */
    const ItcStop *stop;        /* no checkpoint at or after its stop */
    Object *uart;               /* its "tx-bytes" go with each checkpoint */
    Notifier machine_done;
    /* the writer thread and the file it is handed (itc_checkpoint.c) */
    bool writer_started;
    QemuThread writer;
    QemuMutex write_lock;
    QemuCond write_cond;
    struct ItcCheckpointWrite *write_job;
} ItcCheckpoints;

/*
 * Add the properties "checkpoint-every" and "checkpoint-dir" to machine
 * class @oc, whose instances embed an ItcCheckpoints at byte @offset.
 */
void itc_checkpoint_class_add_props(ObjectClass *oc, size_t offset);

/*
 * From the machine's init: the run-control stops (a checkpoint due at or
 * after an armed stop-icount is not taken, one at the instant a stop fires
 * does not resume the VM) and the UART whose byte count is reported.
 */
void itc_checkpoint_connect(ItcCheckpoints *c, const ItcStop *stop,
                            Object *uart);

#endif
