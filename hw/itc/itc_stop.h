/*
 * ITC workbench: pause the VM at an exact instruction count or virtual time
 * (machine properties stop-icount / stop-time-ns, see itc_stop.c)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ITC_ITC_STOP_H
#define HW_ITC_ITC_STOP_H

#include "qemu/notify.h"
#include "qemu/timer.h"

typedef struct ItcStopAt {
    QEMUTimer *timer;
    uint64_t value;             /* 0: none */
    bool by_icount;
    int64_t fired_icount;       /* where it last paused the VM; -1: never */
} ItcStopAt;

typedef struct ItcStop {
    ItcStopAt icount;
    ItcStopAt time;
    Notifier machine_done;
} ItcStop;

/*
 * The virtual-clock instant at which the instruction count reaches @icount
 * (ahead of the current one).  Under icount, translation blocks end at timer
 * deadlines, so a timer due then fires after exactly that many instructions.
 */
int64_t itc_icount_deadline(uint64_t icount);

/*
 * Add the properties "stop-icount" and "stop-time-ns" to machine class @oc,
 * whose instances embed an ItcStop at byte @offset.
 */
void itc_stop_class_add_props(ObjectClass *oc, size_t offset);

#endif
