/* qemu_proc: find, configure, start and stop qemu-system-sparc for gr740.
 *
 * Every QEMU gets a private 0700 run directory for its unix sockets (QMP,
 * HMP, GDB) and scratch files.  QEMU runs in its own process group (a Ctrl-C
 * at the terminal reaches only the itc process, which then shuts QEMU down
 * cleanly) and dies with the itc process (PR_SET_PDEATHSIG).  Callers kill it
 * on every error path with qemu_proc_free(). */
#pragma once
#include <glib.h>
#include <sys/types.h>

#include "qmp_client.h"

#define QEMU_PROC_ERROR (qemu_proc_error_quark())
GQuark qemu_proc_error_quark(void);
enum {
    QEMU_PROC_ERROR_NOT_FOUND = 1, /* no QEMU binary */
    QEMU_PROC_ERROR_SPAWN,
    QEMU_PROC_ERROR_EXITED, /* QEMU exited unexpectedly */
    QEMU_PROC_ERROR_TIMEOUT,
    QEMU_PROC_ERROR_IO,
};

/* Where the QEMU build is. */
typedef struct {
    char *qemu;     /* qemu-system-sparc */
    char *qemu_img; /* qemu-img */
    char *version;  /* contents of itc-qemu-version, or "unknown" */
} QemuInstall;

/* ITC_QEMU (and ITC_QEMU_IMG) from ENV if set, else build/qemu-build next to
 * the directory of SELF_EXE (build/<flavour>/bin/itc). */
gboolean qemu_install_locate(QemuInstall *inst, const char *self_exe, GError **error);
void qemu_install_clear(QemuInstall *inst);

/* Runs ARGV (a helper program: qemu-img, the GDB probe) to its end and
 * collects its stdout and stderr (either may be NULL).  One that runs longer
 * than TIMEOUT_MS is killed: QEMU_PROC_ERROR_TIMEOUT.  *WAIT_STATUS is as
 * waitpid() gives it (g_spawn_check_wait_status() reads it). */
gboolean qemu_proc_run_sync(char **argv, int timeout_ms, char **out, char **err, int *wait_status,
                            GError **error);

/* qemu-img create -f qcow2 PATH 1M: the diskless image that holds internal
 * snapshots. */
gboolean qemu_img_create(const QemuInstall *inst, const char *path, GError **error);

/* A private 0700 directory under $TMPDIR, removed (recursively) by
 * qemu_rundir_remove().  It holds a file naming its owner (this process,
 * this boot, this PID namespace); first, run directories of this user that
 * an itc killed before it could remove them left there are removed. */
char *qemu_rundir_new(const char *prefix, GError **error);
void qemu_rundir_remove(const char *dir);

/* What goes on QEMU's command line.  File names are used as given (the
 * manifest keeps bundle-relative names; runs use absolute ones). */
typedef struct {
    const char *qemu;
    int smp;
    int icount_shift;
    const char *rr_mode;    /* "record", "replay" or NULL (no record/replay) */
    const char *rrfile;     /* replay log */
    const char *rrsnapshot; /* snapshot made at record start / loaded at replay start */
    const char *drive;      /* qcow2 holding the snapshots (id=ckpt), or NULL */
    const char *kernel;     /* the FSW ELF */
    const char *loadvm;     /* -loadvm NAME, or NULL */
    const char *qmp_socket; /* unix socket path, QEMU is the server */
    const char *hmp_socket;
    const char *gdb_socket;
    gboolean start_paused; /* -S */
    guint64 stop_icount;   /* > 0: pause after exactly this many instructions */
    guint64 stop_time_ns;  /* > 0: pause at exactly this virtual time */
    /* > 0: QEMU saves the VM state into CHECKPOINT_DIR every this many
     * instructions and says so in an ITC_CHECKPOINT event */
    guint64 checkpoint_every;
    const char *checkpoint_dir;
    /* the fault channel's unix socket (hw/itc/itc_fault_channel.c), or NULL;
     * every run has the same three serial ports (a replay needs the
     * recording's chardevs) */
    const char *fault_socket;
    /* APBUART0: a file that gets every input delivery (record), or the
     * recording's file whose deliveries a live run gets again (restore);
     * hw/itc/gr740_apbuart.c */
    const char *uart_rx_log;
    const char *uart_rx_feed;
    /* > 0: reverse steps leave snapshots this many instructions behind
     * them (patch 0025, machine property reverse-snapshot-distance) */
    guint64 reverse_snapshot_distance;
    const char *const *extra; /* NULL-terminated user arguments, or NULL */
} QemuArgs;

/* The argv (NULL-terminated, g_strfreev it). */
char **qemu_args_build(const QemuArgs *a);

typedef struct QemuProc QemuProc;

typedef enum {
    QEMU_STDIN_NULL,    /* /dev/null */
    QEMU_STDIN_PIPE,    /* a pipe; qemu_proc_stdin_fd() is its write end */
    QEMU_STDIN_INHERIT, /* ours (a terminal): QEMU then stays in our process group */
} QemuStdin;

/* Starts ARGV.  STDOUT_PATH (serial output): a file created/truncated, NULL
 * for /dev/null, "-" for our stdout.  STDERR_PATH: a file, or NULL to
 * inherit ours. */
QemuProc *qemu_proc_spawn(char **argv, QemuStdin stdin_mode, const char *stdout_path,
                          const char *stderr_path, GError **error);
int qemu_proc_stdin_fd(QemuProc *p);
pid_t qemu_proc_pid(QemuProc *p);
gboolean qemu_proc_alive(QemuProc *p);
/* Waits for the exit; FALSE with QEMU_PROC_ERROR_TIMEOUT when it does not. */
gboolean qemu_proc_wait(QemuProc *p, int timeout_ms, int *status, GError **error);
/* Sends SIGTERM (QEMU shuts down cleanly and, under rr=record, first logs
 * the instructions executed so far, then the shutdown). */
void qemu_proc_terminate(QemuProc *p);
/* Asks QMP to quit, waits a little, then SIGKILLs; always reaps. */
void qemu_proc_shutdown(QemuProc *p, QmpClient *qmp);
/* Kills (SIGKILL) if still running, reaps, frees. */
void qemu_proc_free(QemuProc *p);
/* Last lines of QEMU's stderr file (g_free it), "" if none. */
char *qemu_proc_stderr_tail(QemuProc *p);
/* The first line of QEMU's stderr file that contains NEEDLE (g_free it), or
 * NULL. */
char *qemu_proc_stderr_line(QemuProc *p, const char *needle);
/* Connects to QEMU's QMP server socket, retrying until TIMEOUT_MS while the
 * process is alive. */
QmpClient *qemu_proc_connect_qmp(QemuProc *p, const char *socket_path, int timeout_ms,
                                 GError **error);

/* SHA-256 (hex) over the guest RAM digest (itc-ram-digest: the non-zero
 * pages, hashed in QEMU) and the text of "info registers": the state digest
 * that record and replay compare.  The VM must be stopped. */
char *qemu_state_digest(QmpClient *qmp, GError **error);

/* A started QEMU with its QMP connection. */
typedef struct {
    QemuProc *proc;
    QmpClient *qmp;
    char *qmp_path;
    char *uart_path;
    char **argv;
} QemuRun;

/* Builds the argv from A (its qmp_socket is set to RUNDIR/NAME.qmp), sends
 * QEMU's stderr to RUNDIR/NAME.stderr and the serial output to UART_PATH,
 * spawns and connects to QMP.  Kills QEMU on failure. */
QemuRun *qemu_run_start(QemuArgs *a, const char *rundir, const char *name, QemuStdin stdin_mode,
                        const char *uart_path, GError **error);
/* "running", "paused", "shutdown", ... (g_free it). */
char *qemu_run_status(QemuRun *r, GError **error);
/* Waits until the VM is no longer running (a break, a stop or a shutdown),
 * FALSE on timeout or if QEMU died. */
gboolean qemu_run_wait_stopped(QemuRun *r, int timeout_ms, char **status, GError **error);
/* Asks QEMU to quit, waits, kills if needed, frees. */
void qemu_run_quit(QemuRun *r);
/* Kills QEMU, frees. */
void qemu_run_free(QemuRun *r);
