/* debugger: a GDB session on a recording bundle.  See debugger.h. */
#include "debugger.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

G_DEFINE_QUARK(debugger - error - quark, debugger_error)

char *debugger_find_gdb(const char *gdb, GError **error)
{
    const char *want = gdb ? gdb : g_getenv("ITC_GDB");
    g_autofree char *path = NULL;
    if (!want || !*want)
        want = "gdb-multiarch";
    path = g_find_program_in_path(want);
    if (!path) {
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_NO_GDB,
                    "%s not found (make setup installs gdb-multiarch)", want);
        return NULL;
    }
    /* A host-only gdb cannot debug the SPARC guest, and itc's commands are
     * GDB Python: check both before QEMU starts.  The marker is assembled by
     * Python, so a program that only echoes its arguments does not pass. */
    const char *argv[] = {path,
                          "-nx",
                          "-batch",
                          "-ex",
                          "set architecture sparc",
                          "-ex",
                          "python print('itc-' + 'gdb-ok')",
                          NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    GError *e = NULL;
    if (!qemu_proc_run_sync((char **)argv, 30000, &out, &err, &status, &e)) {
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_NO_GDB, "cannot run %s: %s", path,
                    e->message);
        g_error_free(e);
        return NULL;
    }
    g_strstrip(err);
    if (strstr(err, "Undefined item")) {
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_NO_GDB,
                    "%s cannot debug SPARC (need gdb-multiarch): %s", path, err);
        return NULL;
    }
    if (!strstr(out, "itc-gdb-ok")) {
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_NO_GDB,
                    "%s is not a GDB with Python (itc's GDB commands need it; "
                    "make setup installs gdb-multiarch)%s%s",
                    path, *err ? ": " : "", err);
        return NULL;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_NO_GDB, "%s failed: %s", path, err);
        return NULL;
    }
    return g_steal_pointer(&path);
}

char *debugger_find_script(const char *self_exe, GError **error)
{
    const char *env = g_getenv("ITC_GDB_SCRIPT");
    if (env && *env) {
        if (g_file_test(env, G_FILE_TEST_IS_REGULAR))
            return g_strdup(env);
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_NO_SCRIPT,
                    "ITC_GDB_SCRIPT=%s: no such file", env);
        return NULL;
    }
    g_autofree char *exe = self_exe ? g_strdup(self_exe) : g_file_read_link("/proc/self/exe", NULL);
    if (!exe) {
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_NO_SCRIPT,
                    "cannot tell where the itc binary is");
        return NULL;
    }
    g_autofree char *bindir = g_path_get_dirname(exe);
    /* installed layout, then the source tree (build/<flavour>/bin/itc) */
    const char *const rel[] = {"../share/itc/gdb/itc.py", "../../../replay/gdb/itc.py"};
    for (gsize i = 0; i < G_N_ELEMENTS(rel); i++) {
        g_autofree char *p = g_build_filename(bindir, rel[i], NULL);
        g_autofree char *canon = g_canonicalize_filename(p, NULL);
        if (g_file_test(canon, G_FILE_TEST_IS_REGULAR))
            return g_steal_pointer(&canon);
    }
    g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_NO_SCRIPT,
                "the ITC GDB commands (itc.py) are not installed next to %s", exe);
    return NULL;
}

gboolean debugger_parse_at(const BundleManifest *m, const char *at, guint64 *icount, GError **error)
{
    const BundleCheckpoint *c = bundle_find_checkpoint(m, at);
    if (c) {
        *icount = c->icount;
        return TRUE;
    }
    if (!strcmp(at, "init") || !strcmp(at, "start")) {
        *icount = 0;
        return TRUE;
    }
    guint64 v = 0;
    if (!bundle_parse_count(at, &v)) {
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_BAD_AT,
                    "--at %s: neither a checkpoint of the bundle nor an instruction count", at);
        return FALSE;
    }
    if (v > m->icount_end) {
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_BAD_AT,
                    "--at %s: the recording ends at icount %" G_GUINT64_FORMAT, at, m->icount_end);
        return FALSE;
    }
    *icount = v;
    return TRUE;
}

/* Positions the paused replay at ICOUNT through itc-replay-goto. */
static gboolean debugger_goto(QemuRun *r, guint64 icount, GError **error)
{
    JsonObject *args = json_object_new();
    JsonNode *res = NULL;
    json_object_set_int_member(args, "icount", (gint64)icount);
    gboolean ok = qmp_client_call(r->qmp, "itc-replay-goto", args, &res, 60000, error);
    json_object_unref(args);
    if (!ok)
        return FALSE;
    gboolean pending =
        JSON_NODE_HOLDS_OBJECT(res) &&
        json_object_get_boolean_member_with_default(json_node_get_object(res), "pending", FALSE);
    json_node_unref(res);
    if (pending) {
        if (!qmp_client_call(r->qmp, "cont", NULL, NULL, 10000, error))
            return FALSE;
        if (!qemu_run_wait_stopped(r, replay_timeout_ms(icount), NULL, error))
            return FALSE;
    }
    guint64 now = 0;
    if (!replay_read_clock(r, &now, NULL, error))
        return FALSE;
    if (now != icount) {
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_BAD_AT,
                    "the replay stopped at icount %" G_GUINT64_FORMAT ", not %" G_GUINT64_FORMAT,
                    now, icount);
        return FALSE;
    }
    return TRUE;
}

/* Waits for PID; kills it after TIMEOUT_S seconds (0 = wait forever). */
static gboolean debugger_wait_gdb(GPid pid, int timeout_s, int *status, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    for (;;) {
        int st = 0;
        pid_t w = waitpid(pid, &st, timeout_s > 0 ? WNOHANG : 0);
        if (w == pid) {
            *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return TRUE;
        }
        if (w < 0 && errno != EINTR) {
            g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_TIMEOUT, "waitpid: %s",
                        g_strerror(errno));
            return FALSE;
        }
        if (timeout_s > 0 && g_get_monotonic_time() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_TIMEOUT,
                        "gdb did not finish within %d s (killed)", timeout_s);
            return FALSE;
        }
        if (timeout_s > 0)
            g_usleep(50000);
    }
}

gboolean debugger_run(ReplayBundle *b, const DebugOptions *opt, int *gdb_status, GError **error)
{
    g_autofree char *gdb = debugger_find_gdb(opt->gdb, error);
    if (!gdb)
        return FALSE;
    g_autofree char *script = debugger_find_script(NULL, error);
    if (!script)
        return FALSE;
    guint64 at = 0;
    if (opt->at && !debugger_parse_at(b->m, opt->at, &at, error))
        return FALSE;

    g_autofree char *gdb_sock = g_build_filename(b->workdir, "gdb.sock", NULL);
    g_autofree char *uart = g_build_filename(b->workdir, "uart.log", NULL);
    /* every checkpoint, for reverse execution */
    if (!replay_bundle_rehydrate(b, NULL, error))
        return FALSE;
    QemuArgs a = replay_bundle_args(b, "init");
    a.gdb_socket = gdb_sock;
    /* GDB steps back an instruction at a time, many times per source line:
     * after two steps in one place, the next start close behind it */
    a.reverse_snapshot_distance = DEBUGGER_REVERSE_SNAPSHOT_DISTANCE;
    QemuRun *r = qemu_run_start(&a, b->workdir, "debug", QEMU_STDIN_NULL, uart, error);
    if (!r)
        return FALSE;
    if (opt->at && at > 0 && !debugger_goto(r, at, error)) {
        qemu_run_free(r);
        return FALSE;
    }

    g_autofree char *fsw_cmd = g_strdup_printf("file %s", b->fsw_path);
    g_autofree char *src_cmd = g_strdup_printf("source %s", script);
    g_autofree char *target_cmd = g_strdup_printf("target remote %s", gdb_sock);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, gdb);
    g_ptr_array_add(argv, "-q");
    if (opt->batch_file) {
        g_ptr_array_add(argv, "-nx");
        g_ptr_array_add(argv, "-batch");
        g_ptr_array_add(argv, "-iex");
        g_ptr_array_add(argv, "set pagination off");
    }
    g_ptr_array_add(argv, "-iex");
    g_ptr_array_add(argv, "set confirm off");
    g_ptr_array_add(argv, "-ex");
    g_ptr_array_add(argv, src_cmd);
    g_ptr_array_add(argv, "-ex");
    g_ptr_array_add(argv, fsw_cmd);
    g_ptr_array_add(argv, "-ex");
    g_ptr_array_add(argv, target_cmd);
    for (const char *const *x = opt->gdb_extra; x && *x; x++)
        g_ptr_array_add(argv, (char *)*x);
    if (opt->batch_file) {
        g_ptr_array_add(argv, "-x");
        g_ptr_array_add(argv, (char *)opt->batch_file);
    }
    g_ptr_array_add(argv, NULL);

    g_auto(GStrv) env = g_get_environ();
    env = g_environ_setenv(env, "ITC_BUNDLE", b->bundle_dir, TRUE);
    env = g_environ_setenv(env, "ITC_UART_LOG", uart, TRUE);

    /* GDB owns the terminal's Ctrl-C (it interrupts the target); QEMU runs
     * in its own process group, so only GDB and this process see it. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    GPid pid = 0;
    gboolean ok = g_spawn_async(NULL, (char **)argv->pdata, env,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CHILD_INHERITS_STDIN, NULL,
                                NULL, &pid, error);
    if (ok)
        ok = debugger_wait_gdb(pid, opt->batch_file ? opt->timeout_s : 0, gdb_status, error);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    g_ptr_array_free(argv, TRUE);
    int qemu_status = 0;
    if (ok && qemu_proc_wait(r->proc, 0, &qemu_status, NULL) &&
        !(WIFEXITED(qemu_status) && WEXITSTATUS(qemu_status) == 0)) {
        /* GDB only says "Remote connection closed"; QEMU's own words are
         * in its stderr (a gdb "kill" or a guest shutdown exits with 0) */
        g_autofree char *tail = qemu_proc_stderr_tail(r->proc);
        g_autofree char *how =
            WIFSIGNALED(qemu_status)
                ? g_strdup_printf("was killed by signal %d", WTERMSIG(qemu_status))
                : g_strdup_printf("exited with status %d", WEXITSTATUS(qemu_status));
        g_set_error(error, DEBUGGER_ERROR, DEBUGGER_ERROR_QEMU_DIED,
                    "QEMU %s during the debug session (gdb status %d)%s%s", how, *gdb_status,
                    *tail ? "; its stderr ends with:\n" : ", with nothing on stderr", tail);
        ok = FALSE;
    }
    qemu_run_quit(r);
    return ok;
}
