/*
 * ITC workbench: debugger-friendly replay positioning (itc-replay-goto)
 *
 * Upstream's replay-seek loads the nearest snapshot and then resumes the
 * VM by itself.  Under GDB that is wrong twice over: the stop at the
 * target reaches GDB as an unsolicited stop reply, and a seek issued
 * while an earlier seek is still running trips an assertion in
 * replay_break().  itc-replay-goto only does the synchronous half: with
 * the VM stopped it loads the best checkpoint (the snapshot with the
 * largest instruction count not after the target, when that is closer
 * than where the replay is) and arms a replay breakpoint at the target.
 * Whoever stopped the VM (GDB with "continue", or QMP "cont") resumes it
 * and receives the stop at the target in the normal way.  When the machine
 * leaves snapshots behind reverse steps (reverse-snapshot-distance N) and
 * the replay has more than 2 N instructions to run, it also leaves one N
 * before the target, so that the reverse steps which usually follow a goto
 * replay N instructions, not the distance from the checkpoint.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "migration/snapshot.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-itc.h"
#include "qapi/qapi-commands-replay.h"
#include "qobject/qdict.h"
#include "system/replay.h"
#include "system/runstate.h"
#include "trace.h"

ItcReplayGoto *qmp_itc_replay_goto(int64_t icount, Error **errp)
{
    g_autofree char *snapshot = NULL;
    ItcReplayGoto *ret;
    uint64_t current;
    int64_t snap_icount = -1;
    uint64_t target = icount;

    if (replay_mode != REPLAY_MODE_PLAY) {
        error_setg(errp, "itc-replay-goto needs a replay (-icount ...,rr=replay)");
        return NULL;
    }
    if (icount < 0) {
        error_setg(errp, "instruction count %" PRId64 " is negative", icount);
        return NULL;
    }
    if (runstate_is_running()) {
        error_setg(errp, "the VM is running; stop it before itc-replay-goto");
        return NULL;
    }

    /* Forget any earlier break: replay_break() asserts on a stale one. */
    qmp_replay_delete_break(&error_abort);

    current = replay_get_current_icount();
    /* the snapshot search reverse steps use (patches 0028, 0029) */
    snapshot = replay_find_nearest_snapshot(target, &snap_icount);
    if (target < current) {
        if (!snapshot) {
            error_setg(errp, "no checkpoint at or before instruction %" PRIu64
                       " (the replay is at %" PRIu64 ")", target, current);
            return NULL;
        }
    } else if (snapshot && (uint64_t)snap_icount <= current) {
        /* Running on from here is at least as close. */
        g_clear_pointer(&snapshot, g_free);
    }

    if (snapshot) {
        trace_itc_replay_goto_load(snapshot, snap_icount, target);
        if (!load_snapshot(snapshot, NULL, false, NULL, errp)) {
            return NULL;
        }
        current = replay_get_current_icount();
    }

    ret = g_new0(ItcReplayGoto, 1);
    ret->icount = current;
    ret->snapshot = g_steal_pointer(&snapshot);
    ret->pending = current != target;
    if (ret->pending) {
        /* with reverse snapshots on, leaves one close behind the target */
        replay_break_behind(target, errp);
        if (*errp) {
            qapi_free_ItcReplayGoto(ret);
            return NULL;
        }
    }
    return ret;
}

void hmp_itc_goto(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;
    g_autoptr(ItcReplayGoto) r =
        qmp_itc_replay_goto(qdict_get_int(qdict, "icount"), &err);

    if (hmp_handle_error(mon, err)) {
        return;
    }
    if (r->snapshot) {
        monitor_printf(mon, "loaded checkpoint %s, ", r->snapshot);
    }
    monitor_printf(mon, "at icount %" PRId64 "%s\n", r->icount,
                   r->pending ? ", resume to reach the target" : "");
}
