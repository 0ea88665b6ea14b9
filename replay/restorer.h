/* restorer: turn an instant of a recording into a live QEMU.
 *
 * Snapshots taken during a replay carry a "replay" vmstate section that a
 * QEMU without record/replay refuses, so the live run is itself recorded
 * (rr=record into a scratch log in the private work directory) and loads
 * the snapshot with -loadvm from the bundle's private qcow2 copy.  An
 * instant between checkpoints is first reached by replaying from the
 * nearest earlier checkpoint and saving a snapshot there. */
#pragma once
#include <glib.h>

#include "replayer.h"

typedef struct {
    char *snapshot;      /* to -loadvm */
    char *from;          /* the checkpoint it came from ("init" or ckpt-NNNN) */
    guint64 icount;      /* the instant */
    guint64 uart_offset; /* UART bytes the recording emitted before it */
    double prepare_seconds;
} RestorePoint;

/* AT: "init", a checkpoint name, or an instruction count (0..icount_end). */
gboolean restore_prepare(ReplayBundle *b, const char *at, RestorePoint *pt, GError **error);
void restore_point_clear(RestorePoint *pt);

/* Sockets in the work directory. */
typedef struct {
    char *qmp; /* for the user; itc keeps its own QMP connection */
    char *hmp;
    char *gdb;
} RestoreEndpoints;

/* Starts the live QEMU from PT.  UART_OUT: file for the serial output, or
 * "-" for our stdout; STDIN_MODE: QEMU_STDIN_PIPE when feeding a script.
 * RECORDED_INPUT: the UART gets the recording's input deliveries that PT's
 * state had not had, at their recorded instants (the bundle's uart-rx.log,
 * hw/itc/gr740_apbuart.c rx-feed); the bundle must have one. */
QemuRun *restore_start(ReplayBundle *b, const RestorePoint *pt, const char *uart_out,
                       QemuStdin stdin_mode, gboolean paused, gboolean recorded_input,
                       RestoreEndpoints *ep, GError **error);
void restore_endpoints_clear(RestoreEndpoints *ep);
