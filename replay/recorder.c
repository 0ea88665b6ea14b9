#include "recorder.h"

#include "faults.h"
#include "replayer.h"
#include "snap_store.h"
#include "snap_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_US 50000
#define ZSTD_LEVEL 9
/* QEMU writes the replay log's header (its version) when it closes the log
 * (replay_finish); the rest only grows while it records */
#define REPLAY_LOG_HEADER 12
/* how often the checkpoint worker compresses what the log has gained */
#define LOG_STEP_US 200000

G_DEFINE_QUARK(recorder - error - quark, recorder_error)

/* ---- options ------------------------------------------------------------ */

static gboolean until_bad(RecordUntil *u, const char *spec, GError **error)
{
    record_until_clear(u);
    g_set_error(error, RECORDER_ERROR, RECORDER_ERROR_BAD_INPUT,
                "--until '%s': expected icount:N (N > 0), time:SECONDS (virtual, > 0) or "
                "uart:REGEX",
                spec);
    return FALSE;
}

gboolean record_until_parse(RecordUntil *u, const char *spec, GError **error)
{
    memset(u, 0, sizeof(*u));
    const char *colon = strchr(spec, ':');
    if (!colon)
        return until_bad(u, spec, error);
    const char *v = colon + 1;
    gsize klen = colon - spec;
    u->text = g_strdup(spec);
    if (klen == 6 && !strncmp(spec, "icount", 6)) {
        guint64 n;
        if (!bundle_parse_count(v, &n) || n == 0 || n > (guint64)G_MAXINT64)
            return until_bad(u, spec, error);
        u->kind = UNTIL_ICOUNT;
        u->value = n;
    } else if (klen == 4 && !strncmp(spec, "time", 4)) {
        char *end;
        double s = g_ascii_strtod(v, &end);
        if (!*v || *end || !(s > 0) || s > 1e6)
            return until_bad(u, spec, error);
        u->kind = UNTIL_TIME;
        u->value = (guint64)(s * 1e9);
    } else if (klen == 4 && !strncmp(spec, "uart", 4)) {
        GError *e = NULL;
        u->kind = UNTIL_UART;
        u->regex = g_regex_new(v, G_REGEX_RAW | G_REGEX_OPTIMIZE, 0, &e);
        if (!u->regex) {
            g_set_error(error, RECORDER_ERROR, RECORDER_ERROR_BAD_INPUT,
                        "--until %s: bad regular expression: %s", spec, e->message);
            g_error_free(e);
            record_until_clear(u);
            return FALSE;
        }
    } else {
        return until_bad(u, spec, error);
    }
    return TRUE;
}

void record_until_clear(RecordUntil *u)
{
    g_clear_pointer(&u->regex, g_regex_unref);
    g_clear_pointer(&u->text, g_free);
}

void record_stats_clear(RecordStats *s)
{
    g_clear_pointer(&s->end_reason, g_free);
    g_clear_pointer(&s->dropped, g_free);
}

gboolean record_check_extra_args(const char *const *extra, GError **error)
{
    static const char *const owned[] = {
        "M",        "machine", "smp",        "icount",    "kernel",    "bios",     "serial",
        "qmp",      "monitor", "mon",        "gdb",       "s",         "S",        "loadvm",
        "incoming", "accel",   "enable-kvm", "daemonize", "pidfile",   "snapshot", "readconfig",
        "action",   "drive",   "blockdev",   "display",   "nographic",
    };
    for (gsize i = 0; extra && extra[i]; i++) {
        const char *a = extra[i];
        if (a[0] != '-')
            continue; /* an option's value */
        const char *name = a + (a[1] == '-' ? 2 : 1);
        gsize len = strcspn(name, "=");
        for (gsize k = 0; k < G_N_ELEMENTS(owned); k++) {
            if (strlen(owned[k]) == len && !strncmp(name, owned[k], len)) {
                g_set_error(error, RECORDER_ERROR, RECORDER_ERROR_BAD_INPUT,
                            "extra QEMU argument %s: itc sets -%s itself (or it would make the "
                            "replay differ from the recording)",
                            a, owned[k]);
                return FALSE;
            }
        }
    }
    return TRUE;
}

gboolean record_check_elf(const char *path, GError **error)
{
    guint8 h[52];
    FILE *f = fopen(path, "rb");
    if (!f) {
        g_set_error(error, RECORDER_ERROR, RECORDER_ERROR_BAD_INPUT, "%s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    size_t n = fread(h, 1, sizeof(h), f);
    fclose(f);
    const char *why = NULL;
    if (n < sizeof(h) || memcmp(h,
                                "\x7f"
                                "ELF",
                                4))
        why = "not an ELF file";
    else if (h[4] != 1)
        why = "not a 32-bit ELF";
    else if (h[5] != 2)
        why = "not a big-endian ELF";
    else if (((h[18] << 8) | h[19]) != 2 && ((h[18] << 8) | h[19]) != 18)
        why = "not a SPARC ELF (e_machine is not EM_SPARC)";
    else if (((h[16] << 8) | h[17]) != 2)
        why = "not an executable ELF (e_type is not ET_EXEC)";
    if (why) {
        g_set_error(error, RECORDER_ERROR, RECORDER_ERROR_BAD_INPUT,
                    "%s: %s; the flight software must be a 32-bit big-endian SPARC executable",
                    path, why);
        return FALSE;
    }
    return TRUE;
}

/* ---- input feeder ------------------------------------------------------- */

/* Line K of the input is written once the guest's virtual clock has reached
 * the first clock the feeder was told plus K * FEED_PACE_NS.  The schedule is
 * in guest time, not host time: on a loaded host the watcher's polls come
 * late, but the lines then due go out together instead of each later line
 * slipping further (with host-time sleeps the delays added up, and a slow
 * host could deliver the anomaly script after its first time-tagged command
 * was due).  The APBUART's line buffer (4 KiB) takes lines written together
 * and hands them to the RX FIFO at the baud rate. */
#define FEED_PACE_NS 20000000ull

struct RecordFeeder {
    int fd;
    char *data;
    gsize len;
    GMutex lock;
    GCond cond; /* signalled on a new clock and on stop */
    gboolean stop, have_clock;
    guint64 clock_start, clock; /* virtual ns: the first told, the latest */
    GThread *thread;
};
typedef struct RecordFeeder Feeder;

/* Waits until line K is due (TRUE) or the feeder is stopped (FALSE). */
static gboolean feeder_wait_due(Feeder *f, guint64 k)
{
    g_mutex_lock(&f->lock);
    while (!f->stop && (!f->have_clock || f->clock < f->clock_start + k * FEED_PACE_NS))
        g_cond_wait(&f->cond, &f->lock);
    gboolean go = !f->stop;
    g_mutex_unlock(&f->lock);
    return go;
}

/* Waits up to 10 ms for a pipe QEMU has not drained; FALSE once stopped. */
static gboolean feeder_wait_pipe(Feeder *f)
{
    g_mutex_lock(&f->lock);
    if (!f->stop)
        g_cond_wait_until(&f->cond, &f->lock,
                          g_get_monotonic_time() + 10 * G_TIME_SPAN_MILLISECOND);
    gboolean go = !f->stop;
    g_mutex_unlock(&f->lock);
    return go;
}

static gpointer feeder_main(gpointer opaque)
{
    Feeder *f = opaque;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE); /* a dead QEMU gives EPIPE here, not a signal */
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    gsize pos = 0;
    for (guint64 k = 0; pos < f->len && feeder_wait_due(f, k); k++) {
        const char *nl = memchr(f->data + pos, '\n', f->len - pos);
        gsize line_end = nl ? (gsize)(nl - f->data) + 1 : f->len;
        while (pos < line_end) {
            /* the fd does not block: a stop is seen even if QEMU reads no more */
            ssize_t w = write(f->fd, f->data + pos, line_end - pos);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno == EAGAIN) {
                if (!feeder_wait_pipe(f))
                    return NULL;
                continue;
            }
            if (w <= 0)
                return NULL;
            pos += w;
        }
    }
    return NULL;
}

RecordFeeder *record_feeder_start(int fd, const char *path, GError **error)
{
    Feeder *f = g_new0(Feeder, 1);
    if (!g_file_get_contents(path, &f->data, &f->len, error)) {
        g_free(f);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "QEMU's standard input: %s", g_strerror(errno));
        g_free(f->data);
        g_free(f);
        return NULL;
    }
    f->fd = fd;
    g_mutex_init(&f->lock);
    g_cond_init(&f->cond);
    f->thread = g_thread_new("itc-feeder", feeder_main, f);
    return f;
}

void record_feeder_clock(RecordFeeder *f, guint64 virtual_ns)
{
    if (!f)
        return;
    g_mutex_lock(&f->lock);
    if (!f->have_clock) {
        f->have_clock = TRUE;
        f->clock_start = virtual_ns;
    }
    f->clock = virtual_ns;
    g_cond_signal(&f->cond);
    g_mutex_unlock(&f->lock);
}

void record_feeder_stop(RecordFeeder *f)
{
    if (!f)
        return;
    g_mutex_lock(&f->lock);
    f->stop = TRUE;
    g_cond_signal(&f->cond);
    g_mutex_unlock(&f->lock);
    g_thread_join(f->thread);
    g_mutex_clear(&f->lock);
    g_cond_clear(&f->cond);
    g_free(f->data);
    g_free(f);
}

/* ---- helpers ------------------------------------------------------------ */

static gboolean fail(GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gboolean fail(GError **error, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, RECORDER_ERROR, code, m);
    return FALSE;
}

static guint64 file_size(const char *path)
{
    struct stat st;
    return g_stat(path, &st) == 0 ? (guint64)st.st_size : 0;
}

static double since(gint64 t0)
{
    return (g_get_monotonic_time() - t0) / 1e6;
}

static const char *const bundle_files[] = {
    "manifest.json", "replay.bin.zst", "fsw.elf", "input.txt", "uart.log", "uart-rx.log", NULL};

static void remove_partial_bundle(const char *dir, gboolean created)
{
    for (const char *const *f = bundle_files; *f; f++) {
        g_autofree char *p = g_build_filename(dir, *f, NULL);
        g_autofree char *t = g_strconcat(p, ".tmp", NULL);
        g_unlink(p);
        g_unlink(t);
    }
    g_autofree char *store = g_build_filename(dir, BUNDLE_CHECKPOINT_STORE, NULL);
    if (g_file_test(store, G_FILE_TEST_IS_DIR))
        qemu_rundir_remove(store);
    if (created)
        g_rmdir(dir);
}

static gboolean prepare_bundle_dir(const char *dir, gboolean *created, GError **error)
{
    *created = FALSE;
    if (g_file_test(dir, G_FILE_TEST_EXISTS)) {
        GDir *d = g_dir_open(dir, 0, NULL);
        if (!d)
            return fail(error, RECORDER_ERROR_BAD_INPUT, "%s exists and is not a directory", dir);
        gboolean empty = g_dir_read_name(d) == NULL;
        g_dir_close(d);
        if (!empty)
            return fail(error, RECORDER_ERROR_BAD_INPUT,
                        "%s exists and is not empty; refusing to overwrite it", dir);
        return TRUE;
    }
    if (g_mkdir_with_parents(dir, 0755) < 0)
        return fail(error, RECORDER_ERROR_BAD_INPUT, "cannot create %s: %s", dir,
                    g_strerror(errno));
    *created = TRUE;
    return TRUE;
}

/* ---- record pass -------------------------------------------------------- */

typedef struct {
    guint64 icount_end, virtual_ns_end;
    char *digest;
    char *reason;
    GPtrArray *faults; /* of FaultSpec: what every replay injects, with the outcome */
} RecordResult;

/* The scenario's faults (ids filled in by the injection) with their
 * outcome from query-itc-faults (QUERIED, by id). */
static GPtrArray *merge_faults(GPtrArray *scenario, GPtrArray *queried, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)fault_spec_free);
    for (guint i = 0; i < queried->len; i++) {
        FaultSpec *q = queried->pdata[i];
        FaultSpec *s = NULL;
        for (guint j = 0; scenario && j < scenario->len && !s; j++)
            if (((FaultSpec *)scenario->pdata[j])->id == q->id)
                s = scenario->pdata[j];
        FaultSpec *f = g_new0(FaultSpec, 1);
        const FaultSpec *p = s ? s : q; /* the parameters */
        f->id = q->id;
        f->state = g_strdup(q->state);
        f->fired = q->fired;
        f->fired_icount = q->fired_icount;
        f->kind = g_strdup(p->kind);
        f->target = g_strdup(p->target);
        f->has_mask = p->has_mask;
        f->mask = p->mask;
        f->has_count = p->has_count;
        f->count = p->count;
        f->has_level = p->has_level;
        f->level = p->level;
        f->data = g_strdup(p->data);
        /* without them "init" (or the --verify pass) would hold a permanent
         * fault: its end (a virtual timer) in the recording would never come */
        f->has_duration_ns = p->has_duration_ns;
        f->duration_ns = p->duration_ns;
        f->has_duration_icount = p->has_duration_icount;
        f->duration_icount = p->duration_icount;
        f->comment = g_strdup(s ? s->comment : "injected during the recording (fault channel)");
        f->when = p->when;
        f->at = p->at;
        /* not from the scenario: only the fault channel, whose requests are
         * in the replay log, can have added it (QMP injection during a
         * recording would not replay; the recorder offers no QMP socket) */
        f->recorded = !s;
        g_ptr_array_add(out, f);
    }
    return g_steal_pointer(&out);
}

/* Checks the end conditions; returns the reason (static or allocated into
 * *OWNED) or NULL. */
static const char *until_reached(const RecordOptions *o, guint64 icount, guint64 vns,
                                 const GString *uart, gsize scan_from, char **owned)
{
    for (guint i = 0; o->until && i < o->until->len; i++) {
        RecordUntil *u = &g_array_index(o->until, RecordUntil, i);
        gboolean hit = FALSE;
        if (u->kind == UNTIL_ICOUNT)
            hit = icount >= u->value;
        else if (u->kind == UNTIL_TIME)
            hit = vns >= u->value;
        else
            hit = g_regex_match_full(u->regex, uart->str + scan_from, uart->len - scan_from, 0, 0,
                                     NULL, NULL);
        if (hit) {
            *owned = g_strdup_printf("--until %s", u->text);
            return *owned;
        }
    }
    return NULL;
}

/* The QOM path of the first CPU (query-cpus-fast), or NULL. */
static char *first_cpu_path(QemuRun *r)
{
    g_autoptr(JsonNode) ret = NULL;
    if (!qmp_client_call(r->qmp, "query-cpus-fast", NULL, &ret, 10000, NULL) ||
        !JSON_NODE_HOLDS_ARRAY(ret) || !json_array_get_length(json_node_get_array(ret)))
        return NULL;
    JsonNode *c = json_array_get_element(json_node_get_array(ret), 0);
    if (!JSON_NODE_HOLDS_OBJECT(c))
        return NULL;
    return g_strdup(
        json_object_get_string_member_with_default(json_node_get_object(c), "qom-path", NULL));
}

/* TRUE if the CPU at PATH is in error mode (a trap with traps disabled:
 * halted for good, target/sparc in qemu/patches/0002). */
static gboolean cpu_in_error_mode(QemuRun *r, const char *path)
{
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", "error-mode");
    g_autoptr(JsonNode) ret = NULL;
    return qmp_client_call(r->qmp, "qom-get", args, &ret, 10000, NULL) &&
           JSON_NODE_HOLDS_VALUE(ret) && json_node_get_value_type(ret) == G_TYPE_BOOLEAN &&
           json_node_get_boolean(ret);
}

gboolean record_watch(QemuRun *r, const char *uart_path, GArray *until, gboolean exit_ok,
                      gboolean (*should_stop)(void *), RecordProgressFn progress, void *opaque,
                      RecordTickFn tick, void *tick_opaque, RecordFeeder *feeder, char **reason_out,
                      GError **error)
{
    GString *uart = g_string_new(NULL);
    gsize scanned = 0;
    int ufd = -1;
    gboolean ok = TRUE;
    char *owned = NULL;
    const char *reason = NULL;
    guint64 icount = 0, vns = 0;
    RecordOptions o = {.until = until};
    g_autofree char *cpu = first_cpu_path(r);
    gint64 polled = 0; /* when QEMU was last polled */
    if (progress)      /* QEMU runs: say so before the first poll */
        progress(opaque, "record", 0, 0, 0);
    while (ok && !reason) {
        gboolean woke = FALSE;
        if (tick) {
            /* the tick acts on checkpoints: wake on one */
            GError *e = NULL;
            gint64 wait_ms = (polled + POLL_US - g_get_monotonic_time()) / 1000;
            woke = qmp_client_peek_event(r->qmp, "ITC_CHECKPOINT",
                                         CLAMP(wait_ms, 0, POLL_US / 1000), &e);
            if (!woke) {
                if (!g_error_matches(e, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_TIMEOUT)) {
                    g_propagate_error(error, e);
                    ok = FALSE;
                    break;
                }
                g_error_free(e);
            }
        } else {
            g_usleep(POLL_US);
        }
        if (should_stop && should_stop(opaque)) {
            reason = "interrupted";
            break;
        }
        /* a checkpoint between two polls: each query would hold up the
         * vCPU (QEMU's main loop takes the replay mutex); only hand it on */
        if (woke && g_get_monotonic_time() - polled < POLL_US) {
            ok = tick(tick_opaque, r, error);
            continue;
        }
        polled = g_get_monotonic_time();
        if (!qemu_proc_alive(r->proc)) {
            if (exit_ok) {
                reason = "QEMU exited";
                break;
            }
            g_autofree char *tail = qemu_proc_stderr_tail(r->proc);
            ok = fail(error, RECORDER_ERROR_FAILED, "QEMU exited during the run%s%s",
                      *tail ? ": " : "", tail);
            break;
        }
        GError *e = NULL;
        g_autofree char *st = qemu_run_status(r, &e);
        ok = st && replay_read_clock(r, &icount, &vns, &e);
        if (!ok) {
            if (exit_ok && qemu_proc_wait(r->proc, 2000, NULL, NULL)) {
                g_clear_error(&e);
                ok = TRUE;
                reason = "QEMU exited";
                break;
            }
            g_propagate_error(error, e);
            break;
        }
        if (!strcmp(st, "shutdown")) {
            reason = "the guest shut down";
            break;
        }
        record_feeder_clock(feeder, vns);
        if (tick && !(ok = tick(tick_opaque, r, error)))
            break;
        /* nothing more can happen: a --until icount would wait forever */
        if (cpu && cpu_in_error_mode(r, cpu)) {
            reason = "the CPU entered error mode (a trap with traps disabled)";
            break;
        }
        if (ufd < 0 && uart_path)
            ufd = open(uart_path, O_RDONLY | O_CLOEXEC);
        if (ufd >= 0) {
            char buf[65536];
            ssize_t n;
            while ((n = read(ufd, buf, sizeof(buf))) > 0)
                g_string_append_len(uart, buf, n);
        }
        reason = until_reached(&o, icount, vns, uart, scanned > 4096 ? scanned - 4096 : 0, &owned);
        scanned = uart->len;
        if (progress)
            progress(opaque, "record", icount, vns, 0);
    }
    if (ufd >= 0)
        close(ufd);
    g_string_free(uart, TRUE);
    if (ok)
        *reason_out = owned ? owned : g_strdup(reason);
    else
        g_free(owned);
    return ok;
}

/* Checkpoints taken during the record pass (the default; --verify takes
 * them in a replay pass instead).  QEMU takes them by itself
 * (hw/itc/itc_checkpoint.c): at exactly every multiple K of checkpoint_every
 * it pauses (a timer that leaves nothing in the log), saves the VM state into
 * a stream file in the run directory, sends an ITC_CHECKPOINT event and
 * runs on.  The tick hands each event to a worker thread, which moves the
 * stream into the store while QEMU records on, at low priority.  With patch
 * 0010 the paused interval leaves nothing in the replay log, so a replay
 * passes K without stopping, and a load of the snapshot continues the log
 * right where the recording saved it. */
typedef struct {
    /* until the worker is joined, only it uses these */
    BundleManifest *m;
    RecordStats *stats;
    SnapStore *store;      /* the bundle's checkpoint store */
    const char *bdir;      /* the bundle (a stream the store rejects is kept) */
    guint taken;           /* checkpoints saved (numbers their names) */
    BundleZstdFollow *log; /* the replay log, compressed while QEMU writes it */
    GError *error;         /* why the worker stopped storing */
    /* shared */
    GAsyncQueue *events; /* ITC_CHECKPOINT events; one without "event" ends the worker */
    GThread *worker;
    gint failed; /* set once error is */
} RecordCheckpointer;

gboolean record_machine_set(QemuRun *r, const char *property, guint64 value, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "path", "/machine");
    json_object_set_string_member(args, "property", property);
    json_object_set_int_member(args, "value", (gint64)value);
    return qmp_client_call(r->qmp, "qom-set", args, NULL, 10000, error);
}

static gboolean ingest_checkpoint(SnapStore *s, BundleCheckpoint *ck, const char *scratch,
                                  GError **error);
static gboolean store_or_drop_checkpoint(SnapStore *s, BundleManifest *m, guint i,
                                         const char *scratch, const char *bdir, RecordStats *stats,
                                         GError **error);

/* One ITC_CHECKPOINT event EV into the manifest and the store. */
static gboolean record_checkpoint(RecordCheckpointer *c, JsonObject *ev, GError **error)
{
    JsonObject *d = json_object_get_object_member(ev, "data");
    if (!d)
        return fail(error, RECORDER_ERROR_FAILED, "QEMU sent an ITC_CHECKPOINT event without data");
    gint64 icount = json_object_get_int_member_with_default(d, "icount", -1);
    const char *why = json_object_get_string_member_with_default(d, "error", NULL);
    const char *path = json_object_get_string_member_with_default(d, "path", NULL);
    if (why || !path)
        return fail(error, RECORDER_ERROR_FAILED, "checkpoint at icount %" G_GINT64_FORMAT ": %s",
                    icount, why ? why : "QEMU named no stream file");
    BundleCheckpoint ck = {
        .icount = (guint64)icount,
        .virtual_ns = (guint64)json_object_get_int_member_with_default(d, "vm-clock-ns", 0),
        /* the bytes the paused machine had sent: timers due at this very
         * instant may have run (a replay break stops before them) */
        .uart_offset = (guint64)json_object_get_int_member_with_default(d, "uart-bytes", 0),
        .name = g_strdup_printf("ckpt-%04u", ++c->taken),
    };
    c->stats->savevm_seconds_total +=
        json_object_get_int_member_with_default(d, "pause-us", 0) / 1e6;
    g_array_append_val(c->m->checkpoints, ck);
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = store_or_drop_checkpoint(c->store, c->m, c->m->checkpoints->len - 1, path,
                                           c->bdir, c->stats, error);
    c->stats->checkpoints = c->m->checkpoints->len;
    c->stats->store_seconds += since(t0);
    return ok;
}

/* EV into the store, unless an earlier checkpoint failed (its error kept). */
static void checkpoint_store_event(RecordCheckpointer *c, JsonObject *ev)
{
    if (!c->error && !record_checkpoint(c, ev, &c->error))
        g_atomic_int_set(&c->failed, 1);
}

static gpointer checkpoint_worker(gpointer opaque)
{
    RecordCheckpointer *c = opaque;
    /* Nice 19 (this thread and the store's compressor, which inherits it):
     * on two cores an ingest at normal priority takes turns with the vCPU
     * thread.  SCHED_IDLE read 1.08x over a plain run against 1.10-1.13x
     * (medians of 8 alternating runs) but starved on a busy host: a
     * recording waited seconds at its end. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
    for (;;) {
        /* between checkpoints, what QEMU added to the replay log (an error
         * sticks and ends the recording when it is compressed at the end) */
        JsonObject *ev = g_async_queue_timeout_pop(c->events, LOG_STEP_US);
        if (c->log)
            (void)bundle_zstd_follow_step(c->log, NULL);
        if (!ev)
            continue;
        gboolean end = !json_object_has_member(ev, "event");
        if (!end)
            checkpoint_store_event(c, ev);
        json_object_unref(ev);
        if (end)
            return NULL;
    }
}

static void checkpoint_worker_start(RecordCheckpointer *c)
{
    c->events = g_async_queue_new();
    c->worker = g_thread_new("itc-ckpt-store", checkpoint_worker, c);
}

/* Every checkpoint QEMU has announced so far to the worker; FALSE with its
 * error once it has failed. */
static gboolean record_checkpoints(RecordCheckpointer *c, QemuRun *r, GError **error)
{
    JsonObject *ev;
    /* the checkpoints' pauses are not the run's */
    qmp_client_drop_events(r->qmp, "STOP");
    qmp_client_drop_events(r->qmp, "RESUME");
    while ((ev = qmp_client_take_event(r->qmp, "ITC_CHECKPOINT")))
        g_async_queue_push(c->events, ev);
    if (g_atomic_int_get(&c->failed)) {
        g_propagate_error(error, g_error_copy(c->error));
        return FALSE;
    }
    return TRUE;
}

/* The worker ends after the checkpoint it is storing; the caller stores the
 * rest at its own priority (QEMU is stopped: nothing to leave CPU time
 * to); then the first error, if any. */
static gboolean checkpoint_worker_join(RecordCheckpointer *c, GError **error)
{
    if (!c->worker)
        return TRUE;
    g_async_queue_push_front(c->events, json_object_new());
    g_thread_join(c->worker);
    c->worker = NULL;
    JsonObject *ev;
    while ((ev = g_async_queue_try_pop(c->events))) {
        checkpoint_store_event(c, ev);
        json_object_unref(ev);
    }
    g_async_queue_unref(c->events);
    c->events = NULL;
    if (c->error) {
        g_propagate_error(error, c->error);
        c->error = NULL;
        return FALSE;
    }
    return TRUE;
}

static gboolean record_tick(void *opaque, QemuRun *r, GError **error)
{
    return record_checkpoints(opaque, r, error);
}

/* Ends QEMU's checkpoint schedule: then nothing resumes the VM behind a
 * "stop".  QEMU refuses while a checkpoint is being taken (the VM paused
 * for it resumes when it is saved); that takes milliseconds. */
static gboolean end_checkpoint_schedule(QemuRun *r, GError **error)
{
    for (int tries = 0;; tries++) {
        GError *e = NULL;
        if (record_machine_set(r, "checkpoint-every", 0, &e))
            return TRUE;
        if (!strstr(e->message, "being taken") || tries >= 10000) {
            g_propagate_prefixed_error(error, e, "ending the checkpoints: ");
            return FALSE;
        }
        g_error_free(e);
        g_usleep(1000);
    }
}

static SnapStore *open_checkpoint_store(const char *bdir, GError **error);
static gboolean store_init_checkpoint(QemuRun *r, SnapStore *s, const char *scratch,
                                      BundleManifest *m, RecordStats *stats, GError **error);

static gboolean record_pass(const RecordOptions *o, const char *bdir, const char *rundir,
                            const char *log_path, BundleZstdFollow *log, const char *qcow2,
                            const char *fsw, const char *uart_path, RecordResult *res,
                            BundleManifest *m, RecordStats *stats, GError **error)
{
    /* APBUART0's input deliveries and their instants, for itc restore */
    g_autofree char *rx_log = g_build_filename(bdir, "uart-rx.log", NULL);
    QemuArgs a = {
        .qemu = o->inst->qemu,
        .smp = o->smp,
        .icount_shift = o->icount_shift,
        .rr_mode = "record",
        .rrfile = log_path,
        .rrsnapshot = "init",
        .drive = qcow2,
        .kernel = fsw,
        .extra = (const char *const *)o->extra,
        .fault_socket = o->fault_socket,
        .uart_rx_log = rx_log,
    };
    /* --until icount/time: QEMU pauses at exactly that instant (the
     * earliest of each kind); the watch loop then sees it reached */
    for (guint i = 0; o->until && i < o->until->len; i++) {
        const RecordUntil *u = &g_array_index(o->until, RecordUntil, i);
        guint64 *v = u->kind == UNTIL_ICOUNT ? &a.stop_icount
                     : u->kind == UNTIL_TIME ? &a.stop_time_ns
                                             : NULL;
        if (v && (!*v || u->value < *v))
            *v = u->value;
    }
    /* QEMU takes the checkpoints (none at or after the --until icount) */
    if (!o->verify) {
        a.checkpoint_every = o->checkpoint_every;
        a.checkpoint_dir = rundir;
    }
    gboolean has_faults = o->faults && o->faults->len;
    a.start_paused = has_faults;
    gint64 t0 = g_get_monotonic_time();
    QemuRun *r = qemu_run_start(&a, rundir, "record", o->input ? QEMU_STDIN_PIPE : QEMU_STDIN_NULL,
                                uart_path, error);
    if (!r)
        return FALSE;
    if (has_faults) {
        /* "init" is saved at start-up, before this: save it again with the
         * faults pending (with --verify, the checkpoint pass does) */
        g_autofree char *out = NULL;
        if (!fault_inject_all(r->qmp, o->faults, error) ||
            (!o->verify && !qmp_client_hmp(r->qmp, "savevm init", &out, 120000, error)) ||
            !qmp_client_call(r->qmp, "cont", NULL, NULL, 10000, error)) {
            qemu_run_free(r);
            return FALSE;
        }
    }
    stats->init_snapshot_seconds = since(t0);
    RecordFeeder *feeder = NULL;
    if (o->input && !(feeder = record_feeder_start(qemu_proc_stdin_fd(r->proc), o->input, error))) {
        qemu_run_free(r);
        return FALSE;
    }
    g_autofree char *reason = NULL;
    g_autofree char *scratch = g_build_filename(rundir, "checkpoint.stream", NULL);
    SnapStore *store = o->verify ? NULL : open_checkpoint_store(bdir, error);
    if (!o->verify && !store) {
        record_feeder_stop(feeder);
        qemu_run_free(r);
        return FALSE;
    }
    RecordCheckpointer ckp = {.m = m, .stats = stats, .store = store, .bdir = bdir, .log = log};
    if (store)
        checkpoint_worker_start(&ckp);
    gboolean ok =
        record_watch(r, uart_path, o->until, FALSE, o->should_stop, o->progress, o->opaque,
                     o->verify ? NULL : record_tick, &ckp, feeder, &reason, error);
    record_feeder_stop(feeder);
    if (ok) {
        ok = (o->verify || end_checkpoint_schedule(r, error)) &&
             qmp_client_call(r->qmp, "stop", NULL, NULL, 30000, error) &&
             replay_read_clock(r, &res->icount_end, &res->virtual_ns_end, error) &&
             (res->digest = qemu_state_digest(r->qmp, error)) != NULL;
    }
    if (ok) {
        g_autoptr(GPtrArray) q = fault_query(r->qmp, error);
        ok = q != NULL;
        ok = ok && (res->faults = merge_faults(o->faults, q, error)) != NULL;
    }
    if (ok && !o->verify) /* the checkpoints QEMU announced before the end too */
        ok = record_checkpoints(&ckp, r, error);
    gboolean joined = checkpoint_worker_join(&ckp, ok ? error : NULL);
    ok = ok && joined;
    if (ok && !o->verify) { /* none at or after the end */
        while (m->checkpoints->len &&
               g_array_index(m->checkpoints, BundleCheckpoint, m->checkpoints->len - 1).icount >=
                   res->icount_end) {
            BundleCheckpoint *ck =
                &g_array_index(m->checkpoints, BundleCheckpoint, m->checkpoints->len - 1);
            if (ck->snapshot)
                snap_store_remove(store, ck->snapshot, NULL);
            g_free(ck->name);
            g_free(ck->snapshot);
            g_array_set_size(m->checkpoints, m->checkpoints->len - 1);
        }
        ok = store_init_checkpoint(r, store, scratch, m, stats, error);
    }
    if (store)
        snap_store_close(store);
    if (ok) {
        /* End with SIGTERM, not QMP quit: QEMU 10.0 logs a quit's shutdown
         * event without first logging the instructions executed since the
         * previous event (replay_shutdown_request), so a replay would shut
         * down early; on a signal, replay_finish logs the instructions and
         * then the shutdown, exactly at icount_end.  The replay (with -action
         * shutdown=pause) pauses there, in the state digested above. */
        qemu_proc_terminate(r->proc);
        int status = 0;
        if (!qemu_proc_wait(r->proc, 60000, &status, error))
            ok = FALSE;
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            g_autofree char *tail = qemu_proc_stderr_tail(r->proc);
            ok = fail(error, RECORDER_ERROR_FAILED,
                      "QEMU did not exit cleanly after the recording (status 0x%x): %s", status,
                      tail);
        }
    }
    qemu_run_free(r);
    stats->record_seconds = since(t0);
    if (ok)
        res->reason = g_steal_pointer(&reason);
    return ok;
}

/* ---- checkpoint pass ---------------------------------------------------- */

/* QEMU saves the paused VM's state (a migration stream) straight into
 * SCRATCH, for checkpoint CK (at CK's instruction count). */
static gboolean save_checkpoint_stream(QemuRun *r, const BundleCheckpoint *ck, const char *scratch,
                                       GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "path", scratch);
    JsonNode *res = NULL;
    if (!qmp_client_call(r->qmp, "itc-snapshot-save", args, &res, 120000, error)) {
        g_prefix_error(error, "checkpoint at icount %" G_GUINT64_FORMAT ": ", ck->icount);
        return FALSE;
    }
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(res) ? json_node_get_object(res) : NULL;
    gint64 icount = o ? json_object_get_int_member_with_default(o, "icount", -2) : -2;
    json_node_unref(res);
    if (icount != (gint64)ck->icount) {
        g_unlink(scratch);
        return fail(error, RECORDER_ERROR_FAILED,
                    "QEMU saved the checkpoint at icount %" G_GINT64_FORMAT
                    ", it was due at %" G_GUINT64_FORMAT,
                    icount, ck->icount);
    }
    return TRUE;
}

/* QEMU writes checkpoint CK's VM state (a migration stream) from the
 * pass's qcow2 to SCRATCH; for "init" this also gives its virtual time. */
static gboolean export_checkpoint(QemuRun *r, BundleCheckpoint *ck, const char *scratch,
                                  GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "name", ck->name);
    json_object_set_string_member(args, "path", scratch);
    JsonNode *res = NULL;
    if (!qmp_client_call(r->qmp, "itc-snapshot-export", args, &res, 120000, error))
        return FALSE;
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(res) ? json_node_get_object(res) : NULL;
    gint64 icount = o ? json_object_get_int_member_with_default(o, "icount", -2) : -2;
    gint64 vclock = o ? json_object_get_int_member_with_default(o, "vm-clock-ns", -1) : -1;
    json_node_unref(res);
    if (icount != (gint64)ck->icount || vclock < 0) {
        g_unlink(scratch);
        return fail(error, RECORDER_ERROR_FAILED,
                    "snapshot %s: QEMU recorded it at icount %" G_GINT64_FORMAT
                    ", the checkpoint is at %" G_GUINT64_FORMAT,
                    ck->name, icount, ck->icount);
    }
    if (!strcmp(ck->name, "init"))
        ck->virtual_ns = (guint64)vclock;
    return TRUE;
}

/* The store ingests the stream in SCRATCH (removed then): sets CK->snapshot. */
static gboolean ingest_checkpoint(SnapStore *s, BundleCheckpoint *ck, const char *scratch,
                                  GError **error)
{
    FILE *f = fopen(scratch, "rbe");
    if (!f)
        return fail(error, RECORDER_ERROR_FAILED, "%s: %s", scratch, g_strerror(errno));
    ck->snapshot = snap_store_ingest_file(s, f, scratch, 3, NULL, NULL, NULL, error);
    fclose(f);
    if (!ck->snapshot) {
        g_prefix_error(error, "%s (icount %" G_GUINT64_FORMAT "): ", ck->name, ck->icount);
        return FALSE;
    }
    g_unlink(scratch);
    return TRUE;
}

/* The bundle's store, filled in one go: synced once, when "init" is in
 * (store_init_checkpoint), not at every checkpoint (each fsync is disk I/O
 * beside the recording; an interrupted recording leaves no bundle anyway). */
static SnapStore *open_checkpoint_store(const char *bdir, GError **error)
{
    g_autofree char *dir = g_build_filename(bdir, BUNDLE_CHECKPOINT_STORE, NULL);
    SnapStore *s = snap_store_open(dir, error);
    if (s)
        snap_store_defer_sync(s);
    return s;
}

/* CK's stream in SCRATCH into the store S, or, if the store cannot parse
 * it, CK left out of M (at index I) with the reason in STATS->dropped. */
static gboolean store_or_drop_checkpoint(SnapStore *s, BundleManifest *m, guint i,
                                         const char *scratch, const char *bdir, RecordStats *stats,
                                         GError **error)
{
    BundleCheckpoint *ck = &g_array_index(m->checkpoints, BundleCheckpoint, i);
    GError *e = NULL;
    if (ingest_checkpoint(s, ck, scratch, &e))
        return TRUE;
    if (e->domain != SNAP_STREAM_ERROR) {
        g_propagate_error(error, e);
        return FALSE;
    }
    /* The store's parser finds a device section's end by its footer
     * bytes, which device data can mimic (snap_stream.c, check_next());
     * seen once in ~2000 checkpoints.  A checkpoint is an optimisation:
     * leave it out rather than lose the recording, and keep its
     * stream for a bug report. */
    g_autofree char *keep = g_strdup_printf("%s/%s.unparsed-stream", bdir, ck->name);
    if (rename(scratch, keep) < 0)
        g_clear_pointer(&keep, g_free);
    g_autofree char *before = stats->dropped;
    stats->dropped = g_strdup_printf("%scheckpoint left out of the bundle: %s (its stream: %s)\n",
                                     before ? before : "", e->message, keep ? keep : "not kept");
    g_error_free(e);
    stats->dropped_checkpoints++;
    g_free(ck->name);
    g_free(ck->snapshot);
    g_array_remove_index(m->checkpoints, i);
    return TRUE;
}

/* "init", which QEMU saved in its image at start-up, into the store S (the
 * checkpoints are there already) through SCRATCH; the store's figures
 * into STATS. */
static gboolean store_init_checkpoint(QemuRun *r, SnapStore *s, const char *scratch,
                                      BundleManifest *m, RecordStats *stats, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_free(m->init.name);
    m->init.name = g_strdup("init");
    m->init.icount = 0;
    m->init.uart_offset = 0;
    gboolean ok = export_checkpoint(r, &m->init, scratch, error) &&
                  ingest_checkpoint(s, &m->init, scratch, error) && snap_store_sync(s, error);
    SnapStats st = {0};
    if (ok && snap_store_stats(s, &st, NULL))
        stats->store_bytes = st.stored_bytes;
    m->checkpoint_store = g_strdup(BUNDLE_CHECKPOINT_STORE);
    stats->store_seconds += since(t0);
    if (!ok)
        g_prefix_error(error, "storing the checkpoints: ");
    return ok;
}

static gboolean checkpoint_pass(const RecordOptions *o, const char *bdir, const char *rundir,
                                const char *log_path, const char *qcow2, const char *fsw,
                                const char *uart_path, const RecordResult *res, BundleManifest *m,
                                RecordStats *stats, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_autofree char *ck_uart = g_build_filename(rundir, "checkpoint.uart", NULL);
    QemuRun *r = replay_start(o->inst, rundir, "checkpoint", log_path, qcow2, fsw, o->icount_shift,
                              o->extra, "init", ck_uart, error);
    if (!r)
        return FALSE;
    gboolean ok = TRUE;
    if (res->faults && res->faults->len) {
        /* Schedule the recording's faults at icount 0 and save "init" again
         * (savevm replaces it) with them pending: "init" taken at record
         * start has no faults, and a load of it (a replay, a reverse step
         * before the first checkpoint, a restore) must bring them back. */
        for (guint i = 0; i < res->faults->len; i++) {
            FaultSpec *f = res->faults->pdata[i];
            gint64 id;
            if (f->recorded)
                continue; /* its request replays from the log */
            ok = fault_inject(r->qmp, f, &id, error);
            if (!ok) {
                g_autofree char *d = fault_describe(f, i + 1);
                g_prefix_error(error, "%s: ", d);
                break;
            }
        }
        g_autofree char *out = NULL;
        gint64 ts = g_get_monotonic_time();
        ok = ok && qmp_client_hmp(r->qmp, "savevm init", &out, 120000, error);
        stats->init_resave_seconds = since(ts);
        if (ok && out && *g_strstrip(out))
            ok = fail(error, RECORDER_ERROR_FAILED, "savevm init (with the faults): %s", out);
    }
    guint n = 0;
    int timeout = replay_timeout_ms(o->checkpoint_every);
    g_autofree char *scratch = g_build_filename(rundir, "checkpoint.stream", NULL);
    SnapStore *s = ok ? open_checkpoint_store(bdir, error) : NULL;
    ok = ok && s;
    for (guint64 k = o->checkpoint_every; ok && o->checkpoint_every && k < res->icount_end;
         k += o->checkpoint_every) {
        BundleCheckpoint ck = {0};
        ok = replay_run_to(r, k, timeout, error) &&
             replay_read_clock(r, &ck.icount, &ck.virtual_ns, error);
        gint64 ts = g_get_monotonic_time();
        ok = ok && save_checkpoint_stream(r, &ck, scratch, error);
        stats->savevm_seconds_total += since(ts);
        if (!ok)
            break;
        ck.uart_offset = file_size(ck_uart);
        ck.name = g_strdup_printf("ckpt-%04u", ++n);
        g_array_append_val(m->checkpoints, ck);
        ts = g_get_monotonic_time();
        ok = store_or_drop_checkpoint(s, m, m->checkpoints->len - 1, scratch, bdir, stats, error);
        stats->store_seconds += since(ts);
        if (o->progress)
            o->progress(o->opaque, "checkpoints", k, ck.virtual_ns, res->icount_end);
    }
    guint64 end = 0;
    g_autofree char *digest = NULL;
    if (ok)
        ok = replay_run_to_end(r, replay_timeout_ms(res->icount_end), error) &&
             replay_read_clock(r, &end, NULL, error) &&
             (digest = qemu_state_digest(r->qmp, error)) != NULL;
    g_autoptr(GPtrArray) replayed = ok ? fault_query(r->qmp, error) : NULL;
    ok = ok && replayed && store_init_checkpoint(r, s, scratch, m, stats, error);
    if (s)
        snap_store_close(s);
    qemu_run_quit(r);
    stats->checkpoint_seconds = since(t0);
    stats->checkpoints = m->checkpoints->len;
    if (!ok && error && g_error_matches(*error, REPLAYER_ERROR, REPLAYER_ERROR_DIVERGED)) {
        /* the replay of what was just recorded went elsewhere */
        GError *e = g_steal_pointer(error);
        fail(error, RECORDER_ERROR_NONDETERMINISTIC, "determinism failure: %s", e->message);
        g_error_free(e);
        return FALSE;
    }
    if (!ok) {
        g_prefix_error(error, "checkpoint pass: ");
        return FALSE;
    }
    if (end != res->icount_end)
        return fail(error, RECORDER_ERROR_NONDETERMINISTIC,
                    "determinism failure: the recording ended at icount %" G_GUINT64_FORMAT
                    ", its replay at %" G_GUINT64_FORMAT,
                    res->icount_end, end);
    if (strcmp(digest, res->digest))
        return fail(error, RECORDER_ERROR_NONDETERMINISTIC,
                    "determinism failure: the final state (RAM + registers) of the replay "
                    "differs from the recording's at icount %" G_GUINT64_FORMAT,
                    end);
    guint nf = res->faults ? res->faults->len : 0;
    if (replayed->len != nf)
        return fail(error, RECORDER_ERROR_NONDETERMINISTIC,
                    "determinism failure: %u faults in the recording, %u in its replay", nf,
                    replayed->len);
    for (guint i = 0; i < nf; i++) {
        const FaultSpec *a = res->faults->pdata[i], *b = replayed->pdata[i];
        if (strcmp(a->state, b->state) || a->fired != b->fired ||
            a->fired_icount != b->fired_icount) {
            g_autofree char *desc = fault_describe(a, i + 1);
            return fail(error, RECORDER_ERROR_NONDETERMINISTIC,
                        "determinism failure: %s is %s (icount %" G_GUINT64_FORMAT
                        ") in the recording, %s (icount %" G_GUINT64_FORMAT ") in its replay",
                        desc, a->state, a->fired_icount, b->state, b->fired_icount);
        }
    }
    GError *e = NULL;
    gint64 d = replay_first_difference(ck_uart, uart_path, &e);
    if (d == -2) {
        g_propagate_error(error, e);
        return FALSE;
    }
    if (d >= 0)
        return fail(error, RECORDER_ERROR_NONDETERMINISTIC,
                    "determinism failure: the replay's UART output differs from the "
                    "recording's at byte %" G_GINT64_FORMAT,
                    d);
    return TRUE;
}

/* ---- the whole flow ------------------------------------------------------ */

static char **template_argv(const RecordOptions *o, gboolean has_input)
{
    QemuArgs a = {
        .qemu = "qemu-system-sparc",
        .smp = o->smp,
        .icount_shift = o->icount_shift,
        .rr_mode = "replay",
        .rrfile = "replay.bin",
        .rrsnapshot = "init",
        .drive = "checkpoints.qcow2",
        .kernel = "fsw.elf",
        .extra = (const char *const *)o->extra,
    };
    return qemu_args_build(&a);
}

gboolean record_bundle(const RecordOptions *o, RecordStats *stats, BundleManifest **manifest,
                       GError **error)
{
    memset(stats, 0, sizeof(*stats));
    if (o->smp != 1)
        return fail(error, RECORDER_ERROR_BAD_INPUT,
                    "--smp %d: QEMU's record/replay supports one CPU only", o->smp);
    if (o->icount_shift < 0 || o->icount_shift > 10)
        return fail(error, RECORDER_ERROR_BAD_INPUT, "--icount-shift must be 0..10");
    if (!record_check_elf(o->fsw, error) ||
        !record_check_extra_args((const char *const *)o->extra, error))
        return FALSE;
    if (o->input && !g_file_test(o->input, G_FILE_TEST_IS_REGULAR))
        return fail(error, RECORDER_ERROR_BAD_INPUT, "--input %s: %s", o->input,
                    g_file_test(o->input, G_FILE_TEST_EXISTS) ? "not a regular file"
                                                              : "no such file");
    gboolean created;
    if (!prepare_bundle_dir(o->bundle_dir, &created, error))
        return FALSE;
    g_autofree char *bdir = g_canonicalize_filename(o->bundle_dir, NULL);
    g_autofree char *rundir = qemu_rundir_new("itc-record-", error);
    if (!rundir) {
        remove_partial_bundle(bdir, created);
        return FALSE;
    }
    g_autofree char *log_path = g_build_filename(rundir, "replay.bin", NULL);
    /* the checkpoints are saved into a qcow2 in the run directory; the
     * bundle gets them in its snapshot store */
    g_autofree char *qcow2 = g_build_filename(rundir, "checkpoints.qcow2", NULL);
    g_autofree char *fsw = g_build_filename(bdir, "fsw.elf", NULL);
    g_autofree char *uart = g_build_filename(bdir, "uart.log", NULL);
    g_autofree char *input = g_build_filename(bdir, "input.txt", NULL);
    g_autofree char *zst = g_build_filename(bdir, "replay.bin.zst", NULL);
    g_autoptr(BundleManifest) m = bundle_manifest_new();
    RecordResult res = {0};
    BundleZstdFollow *log = bundle_zstd_follow_new(log_path, zst, REPLAY_LOG_HEADER, ZSTD_LEVEL);
    gboolean ok =
        bundle_copy_file(o->fsw, fsw, error) &&
        (!o->input || bundle_copy_file(o->input, input, error)) &&
        qemu_img_create(o->inst, qcow2, error) &&
        record_pass(o, bdir, rundir, log_path, log, qcow2, fsw, uart, &res, m, stats, error) &&
        (!o->verify ||
         checkpoint_pass(o, bdir, rundir, log_path, qcow2, fsw, uart, &res, m, stats, error));
    if (ok) {
        gint64 t0 = g_get_monotonic_time();
        ok = bundle_zstd_follow_finish(log, error); /* the rest of it */
        stats->compress_seconds = since(t0);
    }
    bundle_zstd_follow_free(log);
    if (ok) {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        m->created = g_date_time_format_iso8601(now);
        m->qemu_version = g_strdup(o->inst->version);
        m->machine = g_strdup("gr740");
        m->smp = o->smp;
        m->icount_shift = o->icount_shift;
        m->argv = template_argv(o, o->input != NULL);
        m->extra_args = g_strdupv(o->extra);
        m->has_input = o->input != NULL;
        m->icount_end = res.icount_end;
        m->virtual_ns_end = res.virtual_ns_end;
        m->final_digest = g_strdup(res.digest);
        m->end_reason = g_strdup(res.reason);
        m->verified = o->verify;
        g_free(m->faults_json);
        m->faults_json = fault_list_to_json_text(res.faults);
        m->replay_log_uncompressed_size = file_size(log_path);
        m->has_uart_rx = TRUE;
        ok = bundle_file_describe(&m->fsw, bdir, "fsw.elf", error) &&
             (!o->input || bundle_file_describe(&m->input, bdir, "input.txt", error)) &&
             bundle_file_describe(&m->replay_log, bdir, "replay.bin.zst", error) &&
             bundle_file_describe(&m->uart, bdir, "uart.log", error) &&
             bundle_file_describe(&m->uart_rx, bdir, "uart-rx.log", error) &&
             bundle_manifest_save(m, bdir, error);
    }
    stats->end_reason = g_strdup(res.reason);
    g_free(res.digest);
    g_free(res.reason);
    if (res.faults)
        g_ptr_array_unref(res.faults);
    if (!ok && error && g_error_matches(*error, RECORDER_ERROR, RECORDER_ERROR_NONDETERMINISTIC)) {
        /* keep the evidence: the files and the raw log, but no manifest */
        g_autofree char *raw = g_build_filename(bdir, "replay.bin", NULL);
        if (rename(log_path, raw) < 0)
            bundle_copy_file(log_path, raw, NULL);
        g_prefix_error(error, "%s kept for inspection (no manifest: not a valid bundle): ", bdir);
        qemu_rundir_remove(rundir);
        return FALSE;
    }
    qemu_rundir_remove(rundir);
    if (!ok) {
        remove_partial_bundle(bdir, created);
        return FALSE;
    }
    if (manifest)
        *manifest = g_steal_pointer(&m);
    return TRUE;
}
