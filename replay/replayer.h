/* replayer: re-execute a recording bundle with QEMU in replay mode.
 *
 * A bundle is never modified: opening one for replay checks the manifest,
 * the QEMU version and the files' sha256, then decompresses the replay log
 * into a private 0700 work directory with an empty qcow2.  The checkpoints
 * live in the bundle's snapshot store; those a run needs are exported from
 * it and imported into the qcow2 as internal snapshots (what QEMU's loadvm
 * and reverse execution load) by replay_bundle_rehydrate(). */
#pragma once
#include <glib.h>

#include "bundle.h"
#include "qemu_proc.h"

#define REPLAYER_ERROR (replayer_error_quark())
GQuark replayer_error_quark(void);
enum {
    REPLAYER_ERROR_DIVERGED = 1, /* the replay differs from the recording */
    REPLAYER_ERROR_INCOMPATIBLE, /* recorded with another QEMU build */
    REPLAYER_ERROR_BAD_INPUT,    /* e.g. a bad --at */
};

typedef struct {
    char *bundle_dir;
    BundleManifest *m;
    const QemuInstall *inst; /* borrowed */
    char *workdir;           /* private, removed by replay_bundle_close() */
    char *log_path;          /* decompressed replay log */
    char *qcow2_path;        /* work qcow2: the imported checkpoints */
    char *store_path;        /* BUNDLE/<checkpoint_store> */
    GHashTable *imported;    /* names of the checkpoints in the qcow2 */
    char *fsw_path;          /* BUNDLE/fsw.elf */
} ReplayBundle;

/* Loads and checks the bundle, prepares the work directory. */
ReplayBundle *replay_bundle_open(const char *bundle_dir, const QemuInstall *inst, GError **error);
void replay_bundle_close(ReplayBundle *b);

/* A generous timeout for replaying N instructions. */
int replay_timeout_ms(guint64 instructions);

/* Starts QEMU replaying the log, paused, from SNAPSHOT ("init" or a
 * checkpoint name) with the serial output going to UART_PATH. */
QemuRun *replay_start(const QemuInstall *inst, const char *workdir, const char *name,
                      const char *log_path, const char *qcow2_path, const char *fsw_path,
                      int icount_shift, char **extra, const char *snapshot, const char *uart_path,
                      GError **error);
/* Imports the checkpoints NAMES (NULL-terminated, "init" or ckpt-NNNN;
 * NULL: all of them) into the work qcow2; "init" always, none twice.  A
 * damaged checkpoint is a BUNDLE_ERROR_CORRUPT naming it. */
gboolean replay_bundle_rehydrate(ReplayBundle *b, const char *const *names, GError **error);
/* Starts a paused replay from SNAPSHOT (imported first if it is a bundle
 * checkpoint). */
QemuRun *replay_bundle_start(ReplayBundle *b, const char *name, const char *snapshot,
                             const char *uart_path, GError **error);
/* What replay_bundle_start() passes to QEMU, for callers that add to it
 * (e.g. a GDB socket); the strings are borrowed from B. */
QemuArgs replay_bundle_args(const ReplayBundle *b, const char *snapshot);
/* Replays up to exactly ICOUNT (replay-break) and leaves the VM paused. */
gboolean replay_run_to(QemuRun *r, guint64 icount, int timeout_ms, GError **error);
/* Replays to the end of the log (the recording's final stop + quit, which
 * -action shutdown=pause turns into a pause) and leaves the VM paused. */
gboolean replay_run_to_end(QemuRun *r, int timeout_ms, GError **error);
/* itc-icount and itc-sim-time (virtual ns). */
gboolean replay_read_clock(QemuRun *r, guint64 *icount, guint64 *virtual_ns, GError **error);

typedef struct {
    guint64 icount_end;
    guint64 uart_bytes;
    char *digest;
    gboolean uart_equal;
    guint64 uart_first_difference; /* when !uart_equal */
    gboolean digest_equal;
    gboolean icount_equal;
    /* The replay pauses at every checkpoint and compares its UART byte count
     * with the recording's: the first checkpoint where it differs (-1 if
     * none) brackets where a divergence started. */
    int first_bad_checkpoint;
    guint64 bad_checkpoint_uart; /* the replay's UART bytes there */
    /* ... and its guest RAM, page by page, with the recording's checkpoint:
     * the first checkpoint where pages differ (-1 if none), how many, the
     * first one (RAM block, offset) and the FSW symbol there or in that page
     * (NULL if none).  A divergence that shows in no output is found here. */
    int first_ram_checkpoint;
    guint64 ram_pages_different;
    char *ram_block;
    guint64 ram_offset;
    char *ram_symbol;
    /* The faults (query-itc-faults at the end) against the manifest's:
     * NULL when every one has the recorded state and fired icount, else
     * what differs. */
    char *fault_difference;
    double seconds;
} ReplayVerdict;

/* Replays the whole bundle and compares with the recording.  Returns FALSE
 * only on errors (bad bundle, QEMU trouble); a divergence is reported in
 * VERDICT. */
gboolean replay_bundle_verify(ReplayBundle *b, ReplayVerdict *verdict, GError **error);
void replay_verdict_clear(ReplayVerdict *v);

/* First offset where the files differ, or -1 if equal. */
gint64 replay_first_difference(const char *path_a, const char *path_b, GError **error);
