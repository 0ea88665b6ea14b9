/* debugger: a GDB session on a recording bundle (`itc debug`).
 *
 * QEMU replays the bundle (rr=replay, the bundle's checkpoints as qcow2
 * internal snapshots in a private copy) with its GDB stub on a unix socket
 * in the private work directory; gdb-multiarch is started with the FSW's
 * symbols, connected to it, and with the ITC GDB commands loaded
 * (replay/gdb/itc.py: itc-icount, itc-goto, itc-checkpoints).  Reverse
 * execution is QEMU's: each reverse step restarts from the nearest
 * checkpoint, so its cost is bounded by the checkpoint spacing, not by the
 * length of the recording.  After two reverse steps in one place QEMU
 * leaves a snapshot DEBUGGER_REVERSE_SNAPSHOT_DISTANCE instructions behind
 * (patch 0025), so that the steps that follow replay only that far. */
#pragma once

#include <glib.h>

#include "replayer.h"

#define DEBUGGER_REVERSE_SNAPSHOT_DISTANCE G_GUINT64_CONSTANT(1000000)

#define DEBUGGER_ERROR (debugger_error_quark())
GQuark debugger_error_quark(void);

enum {
    DEBUGGER_ERROR_NO_GDB = 1, /* gdb-multiarch missing or unusable */
    DEBUGGER_ERROR_NO_SCRIPT,  /* replay/gdb/itc.py not found */
    DEBUGGER_ERROR_BAD_AT,     /* --at names no checkpoint or is out of range */
    DEBUGGER_ERROR_TIMEOUT,    /* a batch session did not finish in time */
    DEBUGGER_ERROR_QEMU_DIED,  /* QEMU crashed or failed under gdb */
};

typedef struct {
    const char *gdb;              /* gdb binary (NULL: ITC_GDB or gdb-multiarch) */
    const char *at;               /* start position: ICOUNT or ckpt-NNNN, or NULL */
    const char *batch_file;       /* run GDB with -batch -x FILE, or NULL */
    int timeout_s;                /* batch only; 0 = none */
    const char *const *gdb_extra; /* extra GDB arguments (NULL-terminated) */
} DebugOptions;

/* Finds a gdb that can debug SPARC (GDB, or ITC_GDB, or gdb-multiarch in
 * PATH); g_free the result. */
char *debugger_find_gdb(const char *gdb, GError **error);

/* Finds itc.py next to SELF_EXE (ITC_GDB_SCRIPT overrides): installed as
 * <bindir>/../share/itc/gdb/itc.py, or in the source tree's replay/gdb/. */
char *debugger_find_script(const char *self_exe, GError **error);

/* Parses --at: a checkpoint name of the manifest or an instruction count
 * within the recording. */
gboolean debugger_parse_at(const BundleManifest *m, const char *at, guint64 *icount,
                           GError **error);

/* Runs a whole session: QEMU replaying B, positioned at OPT->at, and GDB
 * attached to it until GDB exits.  *GDB_STATUS is GDB's exit status.
 * QEMU is always shut down before returning. */
gboolean debugger_run(ReplayBundle *b, const DebugOptions *opt, int *gdb_status, GError **error);
