/* recorder: `itc record` as a library call.
 *
 *  1. record pass: QEMU with -icount rr=record,rrsnapshot=init and a diskless
 *     qcow2; the scripted UART input is fed line by line (bursts < 32 bytes,
 *     20 ms apart) to QEMU's stdin, the UART output goes to uart.log; the
 *     run is watched until the end condition, stopped, its final state
 *     digested, and QEMU quits.
 *     With a fault scenario QEMU starts paused, the faults are injected
 *     (itc-inject-fault) and "init" is saved again with them pending, so
 *     every replay, debug session or restore that loads "init" (or a later
 *     checkpoint) has them without injecting anything (the log does not hold
 *     QMP commands).  Faults injected while the recording runs go through the
 *     recorded fault channel instead (itc inject --recording).
 *     Checkpoints (default): hw/itc/itc_stop.c pauses the run at exactly
 *     every multiple of the checkpoint interval; savevm writes ckpt-NNNN
 *     into the qcow2 and the run continues (QEMU patches 0010-0012 make
 *     such pauses invisible to the log and to the guest).  At the end every
 *     checkpoint is exported from the qcow2 into the bundle's snapshot store.
 *  2. with --verify, a checkpoint pass instead: the log is replayed from
 *     "init" (saved again with the faults), the replay breaks at every
 *     multiple of the interval and savevm writes ckpt-NNNN; at the end the
 *     replay must reach the recorded final state, UART bytes and faults
 *     (else: a determinism failure, exit 1, files kept without manifest).
 *  3. the log is zstd-compressed, the ELF and input copied, manifest.json
 *     written last (atomically). */
#pragma once
#include <glib.h>

#include "bundle.h"
#include "qemu_proc.h"

#define RECORDER_ERROR (recorder_error_quark())
GQuark recorder_error_quark(void);
enum {
    RECORDER_ERROR_BAD_INPUT = 1,    /* bad ELF, bad option, existing bundle */
    RECORDER_ERROR_NONDETERMINISTIC, /* the checkpoint replay diverged */
    RECORDER_ERROR_FAILED,           /* QEMU trouble */
};

typedef enum { UNTIL_ICOUNT, UNTIL_TIME, UNTIL_UART } RecordUntilKind;
typedef struct {
    RecordUntilKind kind;
    guint64 value; /* icount, or virtual ns */
    GRegex *regex; /* UNTIL_UART */
    char *text;    /* as given */
} RecordUntil;

/* Parses "icount:N", "time:SECONDS" (virtual), "uart:REGEX". */
gboolean record_until_parse(RecordUntil *u, const char *spec, GError **error);
void record_until_clear(RecordUntil *u);

#define RECORD_DEFAULT_UART_REGEX "FATAL trap[^\\n]*\\n"
#define RECORD_DEFAULT_MAX_SECONDS 60
/* 2e7: a reverse-stepi replays 1e7 instructions on average (~20 ms on the
 * sample FSW); the recording costs 1.05-1.10x a plain run (make bench) */
#define RECORD_DEFAULT_CHECKPOINT_EVERY G_GUINT64_CONSTANT(20000000)

typedef void (*RecordProgressFn)(void *opaque, const char *phase, guint64 icount,
                                 guint64 virtual_ns, guint64 total);

typedef struct {
    const QemuInstall *inst;
    const char *fsw;        /* ELF */
    const char *input;      /* scripted UART input or NULL */
    const char *bundle_dir; /* created; must not exist or be empty */
    GArray *until;          /* of RecordUntil; any one ends the recording */
    guint64 checkpoint_every;
    int icount_shift;
    int smp;
    char **extra; /* user QEMU args */
    /* Fault scenario (GPtrArray of FaultSpec, faults.h) or NULL: injected
     * before the guest runs; the bundle's "init" snapshot carries them. */
    GPtrArray *faults;
    /* The fault channel's socket during the record pass (itc inject
     * --recording), or NULL: requests there are recorded. */
    const char *fault_socket;
    /* Take the checkpoints in a replay pass after the recording, which
     * also verifies that the recording replays identically (end icount,
     * final digest, UART bytes, faults).  Default: during the record pass
     * (stop, savevm, cont as the count passes each multiple of
     * checkpoint_every), not verified. */
    gboolean verify;
    /* Polled during the record pass: TRUE ends the recording (Ctrl-C). */
    gboolean (*should_stop)(void *opaque);
    /* Progress: phase "record"/"checkpoints", icount, virtual ns, total icount (0 = unknown). */
    RecordProgressFn progress;
    void *opaque;
} RecordOptions;

typedef struct {
    double record_seconds;
    double checkpoint_seconds;
    double compress_seconds;
    double savevm_seconds_total;
    double init_snapshot_seconds; /* QEMU start up to running, incl. rrsnapshot=init */
    double init_resave_seconds;   /* savevm init with the faults (--verify pass) */
    double store_seconds;         /* checkpoints moved into the bundle's store */
    guint64 store_bytes;          /* the store's size on disk */
    guint checkpoints;
    char *end_reason;
    /* Checkpoints left out of the bundle because the snapshot store could
     * not parse their stream (each kept in the bundle directory as
     * NAME.unparsed-stream for a bug report), one line each; NULL if none. */
    char *dropped;
    guint dropped_checkpoints;
} RecordStats;

/* Checks the extra QEMU arguments of a recording (NULL-terminated, may be
 * NULL): none of the options itc sets itself (machine, CPUs, icount, kernel,
 * serial ports, monitors, GDB stub, snapshots, the checkpoint drive, the
 * shutdown action, the display) or that would make QEMU's run differ from
 * its replay (accelerator, -daemonize). */
gboolean record_check_extra_args(const char *const *extra, GError **error);

/* Checks that PATH is a 32-bit big-endian SPARC executable ELF. */
gboolean record_check_elf(const char *path, GError **error);

/* Records; on success the bundle is complete and *MANIFEST (optional) gets its
 * manifest.  On failure nothing is left in BUNDLE_DIR if it was created here. */
gboolean record_bundle(const RecordOptions *o, RecordStats *stats, BundleManifest **manifest,
                       GError **error);
void record_stats_clear(RecordStats *s);

/* Feeds the file PATH to FD (made non-blocking) line by line from a thread,
 * paced in guest time: line K goes out once record_feeder_clock() has been
 * told a virtual time 20 ms * K past the first one it was told (record_watch
 * tells it at every poll).  Stopped and freed by record_feeder_stop(), which
 * never waits on QEMU. */
typedef struct RecordFeeder RecordFeeder;
RecordFeeder *record_feeder_start(int fd, const char *path, GError **error);
void record_feeder_clock(RecordFeeder *f, guint64 virtual_ns); /* F may be NULL */
void record_feeder_stop(RecordFeeder *f);

/* Sets the machine's run-control PROPERTY over QMP: a stop ("stop-icount"
 * or "stop-time-ns", hw/itc/itc_stop.c) or the checkpoint schedule
 * ("checkpoint-every", hw/itc/itc_checkpoint.c) to VALUE (0 disarms). */
gboolean record_machine_set(QemuRun *r, const char *property, guint64 value, GError **error);

/* Polls a running QEMU (every 50 ms) until one of UNTIL (of RecordUntil; the
 * uart conditions read UART_PATH) holds, SHOULD_STOP says so, or the guest
 * shuts down; *REASON gets why (g_free it).  QEMU exiting is an error unless
 * EXIT_OK.  TICK (optional) is called after every poll and whenever a
 * checkpoint QEMU took (an ITC_CHECKPOINT event) arrives between two polls;
 * such a wake reads nothing more from QEMU.  FALSE from TICK (with an error)
 * ends the watch with that error.  FEEDER (optional) is told the guest's
 * virtual time at every poll. */
typedef gboolean (*RecordTickFn)(void *opaque, QemuRun *r, GError **error);
gboolean record_watch(QemuRun *r, const char *uart_path, GArray *until, gboolean exit_ok,
                      gboolean (*should_stop)(void *), RecordProgressFn progress, void *opaque,
                      RecordTickFn tick, void *tick_opaque, RecordFeeder *feeder, char **reason,
                      GError **error);
