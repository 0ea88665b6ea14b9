#include "cli.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "itc: %s\n", m);
    return CLI_BAD_INPUT;
}

void cli_print_json(JsonBuilder *b)
{
    g_autoptr(JsonGenerator) g = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    json_generator_set_pretty(g, TRUE);
    g_autofree char *s = json_generator_to_data(g, NULL);
    printf("%s\n", s);
}

void cli_progress_start(CliProgress *p, const char *label, guint64 total)
{
    p->enabled = isatty(STDERR_FILENO);
    p->total = total;
    p->done = 0;
    p->last_us = 0;
    p->label = label;
}

void cli_progress_update(CliProgress *p, guint64 done)
{
    p->done = done;
    if (!p->enabled)
        return;
    gint64 now = g_get_monotonic_time();
    if (now - p->last_us < 100000)
        return;
    p->last_us = now;
    g_autofree char *h = cli_human_bytes(done);
    if (p->total) {
        int pct = (int)(done * 100 / p->total);
        int bar = pct * 30 / 100;
        fprintf(stderr, "\r%s [%-30.*s] %3d%% %s", p->label, bar, "##############################",
                pct, h);
    } else {
        fprintf(stderr, "\r%s %s", p->label, h);
    }
}

void cli_progress_end(CliProgress *p)
{
    if (p->enabled && p->last_us)
        fprintf(stderr, "\r\033[K");
}

char *cli_human_bytes(guint64 n)
{
    return g_format_size_full(n, G_FORMAT_SIZE_IEC_UNITS);
}

gint64 cli_tree_bytes(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return -1;
    gint64 total = 0;
    const char *n;
    while ((n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, n, NULL);
        struct stat st;
        if (lstat(p, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            total += MAX(cli_tree_bytes(p), 0);
        else if (S_ISREG(st.st_mode))
            total += st.st_size;
    }
    g_dir_close(d);
    return total;
}

/* the process's signal dispositions are process-wide: so is this flag */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    stop_requested = 1;
    signal(sig, SIG_DFL); /* a second one kills */
}

void cli_stop_signals_catch(void)
{
    struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void cli_stop_signals_release(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}

gboolean cli_stop_requested(void *opaque)
{
    return stop_requested != 0;
}
