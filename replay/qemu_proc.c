#include "qemu_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct QemuProc {
    pid_t pid;
    int stdin_fd; /* write end of QEMU's stdin pipe, or -1 */
    char *stderr_path;
    gboolean reaped;
    int status;
};

G_DEFINE_QUARK(qemu - proc - error - quark, qemu_proc_error)

gboolean qemu_install_locate(QemuInstall *inst, const char *self_exe, GError **error)
{
    memset(inst, 0, sizeof(*inst));
    const char *env = g_getenv("ITC_QEMU");
    if (env && *env) {
        inst->qemu = g_strdup(env);
    } else {
        g_autofree char *exe =
            self_exe ? g_strdup(self_exe) : g_file_read_link("/proc/self/exe", NULL);
        g_autofree char *bin = exe ? g_path_get_dirname(exe) : g_strdup(".");
        /* build/<flavour>/bin/itc -> build/qemu-build */
        inst->qemu = g_build_filename(bin, "..", "..", "qemu-build", "qemu-system-sparc", NULL);
        char *canon = g_canonicalize_filename(inst->qemu, NULL);
        g_free(inst->qemu);
        inst->qemu = canon;
    }
    if (!g_file_test(inst->qemu, G_FILE_TEST_IS_EXECUTABLE) ||
        g_file_test(inst->qemu, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_NOT_FOUND,
                    "QEMU not found: %s is not an executable (build it with 'make', or set "
                    "ITC_QEMU to a qemu-system-sparc with the gr740 machine)",
                    inst->qemu);
        qemu_install_clear(inst);
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(inst->qemu);
    const char *img = g_getenv("ITC_QEMU_IMG");
    inst->qemu_img = img && *img ? g_strdup(img) : g_build_filename(dir, "qemu-img", NULL);
    if (!g_file_test(inst->qemu_img, G_FILE_TEST_IS_EXECUTABLE)) {
        g_autofree char *p = g_find_program_in_path("qemu-img");
        if (!p) {
            g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_NOT_FOUND,
                        "qemu-img not found next to %s (set ITC_QEMU_IMG)", inst->qemu);
            qemu_install_clear(inst);
            return FALSE;
        }
        g_free(inst->qemu_img);
        inst->qemu_img = g_steal_pointer(&p);
    }
    g_autofree char *vf = g_build_filename(dir, "itc-qemu-version", NULL);
    char *v = NULL;
    if (g_file_get_contents(vf, &v, NULL, NULL)) {
        g_strstrip(v);
        inst->version = v;
    } else {
        inst->version = g_strdup("unknown");
    }
    return TRUE;
}

void qemu_install_clear(QemuInstall *inst)
{
    g_clear_pointer(&inst->qemu, g_free);
    g_clear_pointer(&inst->qemu_img, g_free);
    g_clear_pointer(&inst->version, g_free);
}

#define RUNDIR_OWNER_FILE "itc-owner"

/* "BOOT-ID PID-NAMESPACE": a PID means this process only within both */
static char *rundir_pid_scope(void)
{
    g_autofree char *boot = NULL;
    g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot, NULL, NULL);
    g_autofree char *ns = g_file_read_link("/proc/self/ns/pid", NULL);
    return g_strdup_printf("%s %s", boot ? g_strstrip(boot) : "?", ns ? ns : "?");
}

static void remove_tree(const char *path);

/* Removes the run directories (itc-*) in TMP_DIR owned by this user whose
 * owner file names a process of SCOPE (rundir_pid_scope) that no longer
 * exists. */
static void rundir_sweep(const char *tmp_dir, const char *scope)
{
    GDir *d = g_dir_open(tmp_dir, 0, NULL);
    if (!d)
        return;
    const char *n;
    while ((n = g_dir_read_name(d))) {
        if (!g_str_has_prefix(n, "itc-"))
            continue;
        g_autofree char *path = g_build_filename(tmp_dir, n, NULL);
        g_autofree char *owner_path = g_build_filename(path, RUNDIR_OWNER_FILE, NULL);
        g_autofree char *owner = NULL;
        struct stat st;
        if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
            !g_file_get_contents(owner_path, &owner, NULL, NULL))
            continue;
        char *rest = NULL;
        gint64 pid = g_ascii_strtoll(owner, &rest, 10);
        if (pid <= 0 || pid > G_MAXINT || *rest != ' ' || strcmp(g_strstrip(rest + 1), scope))
            continue; /* not ours to judge: another boot, namespace or format */
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* its itc is alive (or cannot be asked) */
        remove_tree(path);
    }
    g_dir_close(d);
}

char *qemu_rundir_new(const char *prefix, GError **error)
{
    g_autofree char *scope = rundir_pid_scope();
    if (!g_getenv("ITC_KEEP_TMP"))
        rundir_sweep(g_get_tmp_dir(), scope);
    g_autofree char *tmpl = g_strdup_printf("%sXXXXXX", prefix ? prefix : "itc-");
    char *d = g_dir_make_tmp(tmpl, error);
    if (!d)
        return NULL;
    g_chmod(d, 0700);
    g_autofree char *owner = g_strdup_printf("%d %s\n", (int)getpid(), scope);
    g_autofree char *owner_path = g_build_filename(d, RUNDIR_OWNER_FILE, NULL);
    /* without it the directory is never swept: not worth failing over */
    g_file_set_contents(owner_path, owner, -1, NULL);
    return d;
}

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d) {
        const char *n;
        while ((n = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, n, NULL);
            if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
                remove_tree(p);
            else
                g_unlink(p);
        }
        g_dir_close(d);
    }
    g_rmdir(path);
}

void qemu_rundir_remove(const char *dir)
{
    if (dir && !g_getenv("ITC_KEEP_TMP"))
        remove_tree(dir);
}

/* ",NAME=PATH" for -M (QemuOpts: ',' in a value is ",,"). */
static void machine_opt_path(GString *m, const char *name, const char *path)
{
    g_string_append_printf(m, ",%s=", name);
    for (const char *p = path; *p; p++)
        g_string_append(m, *p == ',' ? ",," : (char[]){*p, 0});
}

char **qemu_args_build(const QemuArgs *a)
{
    GPtrArray *v = g_ptr_array_new();
#define ADD(s) g_ptr_array_add(v, g_strdup(s))
#define ADDF(...) g_ptr_array_add(v, g_strdup_printf(__VA_ARGS__))
    ADD(a->qemu ? a->qemu : "qemu-system-sparc");
    ADD("-M");
    /* hw/itc/itc_stop.c: an exact end, where replay-break is unavailable;
     * hw/itc/itc_checkpoint.c: checkpoints QEMU takes by itself */
    GString *m = g_string_new("gr740");
    if (a->stop_icount)
        g_string_append_printf(m, ",stop-icount=%" G_GUINT64_FORMAT, a->stop_icount);
    if (a->stop_time_ns)
        g_string_append_printf(m, ",stop-time-ns=%" G_GUINT64_FORMAT, a->stop_time_ns);
    if (a->checkpoint_every && a->checkpoint_dir) {
        machine_opt_path(m, "checkpoint-dir", a->checkpoint_dir);
        g_string_append_printf(m, ",checkpoint-every=%" G_GUINT64_FORMAT, a->checkpoint_every);
    }
    if (a->uart_rx_log)
        machine_opt_path(m, "uart-rx-log", a->uart_rx_log);
    if (a->uart_rx_feed)
        machine_opt_path(m, "uart-rx-feed", a->uart_rx_feed);
    if (a->reverse_snapshot_distance)
        g_string_append_printf(m, ",reverse-snapshot-distance=%" G_GUINT64_FORMAT,
                               a->reverse_snapshot_distance);
    g_ptr_array_add(v, g_string_free(m, FALSE));
    ADD("-smp");
    ADDF("%d", a->smp > 0 ? a->smp : 1);
    ADD("-display");
    ADD("none");
    ADD("-monitor");
    ADD("none");
    ADD("-serial");
    ADD("stdio");
    ADD("-serial");
    ADD("null");
    ADD("-serial");
    if (a->fault_socket)
        ADDF("unix:%s,server=on,wait=off", a->fault_socket);
    else
        ADD("null");
    /* A guest or replayed shutdown pauses instead of exiting, so the final
     * state can still be read. */
    ADD("-action");
    ADD("shutdown=pause");
    ADD("-icount");
    GString *ic = g_string_new(NULL);
    g_string_printf(ic, "shift=%d", a->icount_shift);
    if (a->rr_mode) {
        g_string_append_printf(ic, ",rr=%s,rrfile=%s", a->rr_mode, a->rrfile);
        if (a->rrsnapshot)
            g_string_append_printf(ic, ",rrsnapshot=%s", a->rrsnapshot);
    }
    g_ptr_array_add(v, g_string_free(ic, FALSE));
    if (a->drive) {
        ADD("-drive");
        /* a scratch image (the bundle's snapshot store keeps the
         * checkpoints), so savevm need not wait for the disk's flush */
        ADDF("if=none,id=ckpt,format=qcow2,cache=unsafe,file=%s", a->drive);
    }
    ADD("-kernel");
    ADD(a->kernel);
    if (a->loadvm) {
        ADD("-loadvm");
        ADD(a->loadvm);
    }
    for (const char *const *e = a->extra; e && *e; e++)
        ADD(*e);
    if (a->qmp_socket) {
        ADD("-qmp");
        ADDF("unix:%s,server=on,wait=off", a->qmp_socket);
    }
    if (a->hmp_socket) {
        ADD("-chardev");
        ADDF("socket,id=hmp,path=%s,server=on,wait=off", a->hmp_socket);
        ADD("-mon");
        ADD("chardev=hmp,mode=readline");
    }
    if (a->gdb_socket) {
        ADD("-gdb");
        ADDF("unix:%s,server=on,wait=off", a->gdb_socket);
    }
    if (a->start_paused)
        ADD("-S");
#undef ADD
#undef ADDF
    g_ptr_array_add(v, NULL);
    return (char **)g_ptr_array_free(v, FALSE);
}

/* Appends what FD has to BUF; FALSE once it is at its end (or broken). */
static gboolean drain_fd(int fd, GString *buf)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n > 0) {
        g_string_append_len(buf, chunk, n);
        return TRUE;
    }
    return n < 0 && (errno == EINTR || errno == EAGAIN);
}

/* In the child: a process group of its own, so that a timeout kills what it
 * started too. */
static void own_process_group(gpointer unused)
{
    (void)unused;
    setpgid(0, 0);
}

gboolean qemu_proc_run_sync(char **argv, int timeout_ms, char **out, char **err, int *wait_status,
                            GError **error)
{
    GPid pid;
    int fds[2] = {-1, -1};
    if (!g_spawn_async_with_pipes(NULL, argv, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                  own_process_group, NULL, &pid, NULL, &fds[0], &fds[1], error))
        return FALSE;
    GString *buf[2] = {g_string_new(NULL), g_string_new(NULL)};
    struct pollfd pfd[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gboolean timed_out = FALSE;
    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        if (left_ms <= 0) {
            timed_out = TRUE;
            break;
        }
        if (poll(pfd, 2, (int)MIN(left_ms, 1000)) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd >= 0 && pfd[i].revents && !drain_fd(pfd[i].fd, buf[i])) {
                close(pfd[i].fd);
                pfd[i].fd = -1; /* poll() ignores a negative fd */
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    }
    /* Its output ended; it may still run (it closed its pipes): the deadline
     * holds for its exit too. */
    int status = 0;
    gboolean reaped = FALSE;
    while (!timed_out) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = TRUE;
            break;
        }
        if (w < 0 && errno != EINTR)
            break; /* not ours to wait for any more */
        if (g_get_monotonic_time() >= deadline)
            timed_out = TRUE;
        else
            g_usleep(1000);
    }
    if (!reaped) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    g_spawn_close_pid(pid);
    if (wait_status)
        *wait_status = status;
    char *text[2];
    for (int i = 0; i < 2; i++)
        text[i] = g_string_free(buf[i], FALSE);
    if (timed_out)
        g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_TIMEOUT,
                    "%s did not finish within %d s (killed)", argv[0], timeout_ms / 1000);
    if (out && !timed_out)
        *out = text[0];
    else
        g_free(text[0]);
    if (err && !timed_out)
        *err = text[1];
    else
        g_free(text[1]);
    return !timed_out;
}

gboolean qemu_img_create(const QemuInstall *inst, const char *path, GError **error)
{
    const char *argv[] = {inst->qemu_img, "create", "-q", "-f", "qcow2", path, "1M", NULL};
    g_autofree char *out = NULL;
    int status = 0;
    if (!qemu_proc_run_sync((char **)argv, 60000, NULL, &out, &status, error))
        return FALSE;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_SPAWN, "qemu-img create %s failed: %s",
                    path, out ? out : "");
        return FALSE;
    }
    return TRUE;
}

static int open_or_null(const char *path, int flags)
{
    return open(path ? path : "/dev/null", flags | O_CLOEXEC, 0644);
}

QemuProc *qemu_proc_spawn(char **argv, QemuStdin stdin_mode, const char *stdout_path,
                          const char *stderr_path, GError **error)
{
    int in[2] = {-1, -1};
    gboolean own_group = stdin_mode != QEMU_STDIN_INHERIT;
    gboolean out_inherit = stdout_path && !strcmp(stdout_path, "-");
    /* No input is an empty pipe, not /dev/null: a pipe whose write end is
     * closed reads EOF whatever the machine's /dev/null is (seen as a regular
     * file collecting other programs' stderr, which QEMU fed to the UART). */
    if (stdin_mode != QEMU_STDIN_INHERIT && pipe2(in, O_CLOEXEC) < 0) {
        g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_SPAWN, "pipe: %s", g_strerror(errno));
        return NULL;
    }
    if (stdin_mode == QEMU_STDIN_NULL) {
        close(in[1]);
        in[1] = -1;
    }
    int infd = stdin_mode == QEMU_STDIN_INHERIT ? dup(0) : in[0];
    int outfd = out_inherit ? dup(1) : open_or_null(stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
    int errfd = stderr_path ? open_or_null(stderr_path, O_WRONLY | O_CREAT | O_TRUNC) : -2;
    if (infd < 0 || outfd < 0 || errfd == -1) {
        g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_SPAWN,
                    "cannot open QEMU's stdio files (%s): %s",
                    outfd < 0 ? stdout_path : stderr_path, g_strerror(errno));
        goto fail;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_SPAWN, "fork: %s", g_strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls from here. */
        if (own_group)
            setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        signal(SIGINT, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        dup2(infd, 0);
        dup2(outfd, 1);
        if (errfd >= 0)
            dup2(errfd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(infd);
    close(outfd);
    if (errfd >= 0)
        close(errfd);
    QemuProc *p = g_new0(QemuProc, 1);
    p->pid = pid;
    p->stdin_fd = in[1];
    p->stderr_path = g_strdup(stderr_path);
    return p;
fail:
    if (infd >= 0)
        close(infd);
    if (in[1] >= 0)
        close(in[1]);
    if (outfd >= 0)
        close(outfd);
    if (errfd >= 0)
        close(errfd);
    return NULL;
}

int qemu_proc_stdin_fd(QemuProc *p)
{
    return p->stdin_fd;
}

pid_t qemu_proc_pid(QemuProc *p)
{
    return p->pid;
}

static gboolean try_reap(QemuProc *p)
{
    if (p->reaped)
        return TRUE;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid) {
        p->reaped = TRUE;
        p->status = st;
    }
    return p->reaped;
}

gboolean qemu_proc_alive(QemuProc *p)
{
    return !try_reap(p);
}

gboolean qemu_proc_wait(QemuProc *p, int timeout_ms, int *status, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gulong nap = 250; /* QEMU exits within milliseconds of a quit or SIGTERM */
    while (!try_reap(p)) {
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_TIMEOUT,
                        "QEMU (pid %d) did not exit within %d ms", (int)p->pid, timeout_ms);
            return FALSE;
        }
        g_usleep(nap);
        nap = MIN(nap * 2, 10000);
    }
    if (status)
        *status = p->status;
    return TRUE;
}

static void kill_and_reap(QemuProc *p)
{
    if (!try_reap(p)) {
        kill(p->pid, SIGKILL);
        int st;
        while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
            ;
        p->reaped = TRUE;
        p->status = st;
    }
}

void qemu_proc_terminate(QemuProc *p)
{
    if (!try_reap(p))
        kill(p->pid, SIGTERM);
}

void qemu_proc_shutdown(QemuProc *p, QmpClient *qmp)
{
    if (!p)
        return;
    if (qmp && !try_reap(p)) {
        /* quit closes the connection before or after answering: ignore errors */
        qmp_client_call(qmp, "quit", NULL, NULL, 5000, NULL);
        qemu_proc_wait(p, 10000, NULL, NULL);
    }
    kill_and_reap(p);
}

void qemu_proc_free(QemuProc *p)
{
    if (!p)
        return;
    kill_and_reap(p);
    if (p->stdin_fd >= 0)
        close(p->stdin_fd);
    g_free(p->stderr_path);
    g_free(p);
}

char *qemu_proc_stderr_tail(QemuProc *p)
{
    char *s = NULL;
    gsize n = 0;
    if (!p->stderr_path || !g_file_get_contents(p->stderr_path, &s, &n, NULL))
        return g_strdup("");
    g_strstrip(s);
    if (strlen(s) > 1000) {
        char *t = g_strdup(s + strlen(s) - 1000);
        g_free(s);
        s = t;
    }
    return s;
}

char *qemu_proc_stderr_line(QemuProc *p, const char *needle)
{
    g_autofree char *s = NULL;
    if (!p->stderr_path || !g_file_get_contents(p->stderr_path, &s, NULL, NULL))
        return NULL;
    const char *hit = strstr(s, needle);
    if (!hit)
        return NULL;
    const char *from = hit;
    while (from > s && from[-1] != '\n')
        from--;
    return g_strndup(from, strcspn(from, "\n"));
}

static void set_exited_error(QemuProc *p, GError **error, const char *what)
{
    g_autofree char *tail = qemu_proc_stderr_tail(p);
    int st = p->status;
    g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_EXITED, "QEMU exited (%s %d) %s%s%s",
                WIFSIGNALED(st) ? "signal" : "status",
                WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), what,
                *tail ? "; its stderr: " : "", tail);
}

QmpClient *qemu_proc_connect_qmp(QemuProc *p, const char *socket_path, int timeout_ms,
                                 GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        if (!qemu_proc_alive(p)) {
            set_exited_error(p, error, "before its QMP socket was up");
            return NULL;
        }
        GError *e = NULL;
        if (g_file_test(socket_path, G_FILE_TEST_EXISTS)) {
            QmpClient *c = qmp_client_connect(socket_path, timeout_ms, &e);
            if (c)
                return c;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_TIMEOUT,
                        "QEMU's QMP socket %s did not answer within %d ms%s%s", socket_path,
                        timeout_ms, e ? ": " : "", e ? e->message : "");
            g_clear_error(&e);
            return NULL;
        }
        g_clear_error(&e);
        g_usleep(20000);
    }
}

char *qemu_state_digest(QmpClient *qmp, GError **error)
{
    g_autoptr(JsonNode) res = NULL;
    if (!qmp_client_call(qmp, "itc-ram-digest", NULL, &res, 120000, error))
        return NULL;
    const char *ram =
        JSON_NODE_HOLDS_OBJECT(res)
            ? json_object_get_string_member_with_default(json_node_get_object(res), "sha256", NULL)
            : NULL;
    if (!ram || strlen(ram) != 64) {
        g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_IO,
                    "itc-ram-digest: no sha256 in the reply");
        return NULL;
    }
    g_autofree char *regs = NULL;
    if (!qmp_client_hmp(qmp, "info registers", &regs, 10000, error))
        return NULL;
    g_autoptr(GChecksum) h = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(h, (const guchar *)ram, 64);
    g_checksum_update(h, (const guchar *)regs, strlen(regs));
    return g_strdup(g_checksum_get_string(h));
}

QemuRun *qemu_run_start(QemuArgs *a, const char *rundir, const char *name, QemuStdin stdin_mode,
                        const char *uart_path, GError **error)
{
    QemuRun *r = g_new0(QemuRun, 1);
    r->qmp_path = g_strdup_printf("%s/%s.qmp", rundir, name);
    r->uart_path = g_strdup(uart_path);
    g_autofree char *err_path = g_strdup_printf("%s/%s.stderr", rundir, name);
    a->qmp_socket = r->qmp_path;
    r->argv = qemu_args_build(a);
    r->proc = qemu_proc_spawn(r->argv, stdin_mode, uart_path, err_path, error);
    if (!r->proc) {
        qemu_run_free(r);
        return NULL;
    }
    r->qmp = qemu_proc_connect_qmp(r->proc, r->qmp_path, 30000, error);
    if (!r->qmp) {
        qemu_run_free(r);
        return NULL;
    }
    return r;
}

char *qemu_run_status(QemuRun *r, GError **error)
{
    g_autoptr(JsonNode) st = NULL;
    if (!qmp_client_call(r->qmp, "query-status", NULL, &st, 10000, error))
        return NULL;
    const char *s =
        JSON_NODE_HOLDS_OBJECT(st)
            ? json_object_get_string_member_with_default(json_node_get_object(st), "status", NULL)
            : NULL;
    if (!s) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                    "query-status: no status in the reply");
        return NULL;
    }
    return g_strdup(s);
}

gboolean qemu_run_wait_stopped(QemuRun *r, int timeout_ms, char **status, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        if (!qemu_proc_alive(r->proc)) {
            set_exited_error(r->proc, error, "while running");
            return FALSE;
        }
        char *s = qemu_run_status(r, error);
        if (!s)
            return FALSE;
        if (strcmp(s, "running")) {
            if (status)
                *status = s;
            else
                g_free(s);
            return TRUE;
        }
        g_free(s);
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, QEMU_PROC_ERROR, QEMU_PROC_ERROR_TIMEOUT,
                        "QEMU still running after %d ms", timeout_ms);
            return FALSE;
        }
        g_usleep(20000);
    }
}

void qemu_run_quit(QemuRun *r)
{
    if (!r)
        return;
    qemu_proc_shutdown(r->proc, r->qmp);
    qemu_run_free(r);
}

void qemu_run_free(QemuRun *r)
{
    if (!r)
        return;
    qmp_client_free(r->qmp);
    qemu_proc_free(r->proc);
    g_strfreev(r->argv);
    g_free(r->qmp_path);
    g_free(r->uart_path);
    g_free(r);
}
