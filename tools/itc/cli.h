/* Shared helpers of the itc command: exit codes, --json output, progress bar. */
#pragma once
#include <glib.h>
#include <json-glib/json-glib.h>

enum { CLI_OK = 0, CLI_FAILURE_FOUND = 1, CLI_BAD_INPUT = 2 };

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} CliCommand;

/* Prints "itc: MSG" to stderr and returns CLI_BAD_INPUT. */
int cli_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Prints a JSON node to stdout (pretty) and frees the builder's root. */
void cli_print_json(JsonBuilder *b);

typedef struct {
    gboolean enabled;
    guint64 total, done;
    gint64 last_us;
    const char *label;
} CliProgress;
/* Enabled only when stderr is a tty; total 0 = unknown. */
void cli_progress_start(CliProgress *p, const char *label, guint64 total);
void cli_progress_update(CliProgress *p, guint64 done);
void cli_progress_end(CliProgress *p);
char *cli_human_bytes(guint64 n);
/* Bytes of the regular files under DIR, recursively; -1 if DIR is not a
 * readable directory. */
gint64 cli_tree_bytes(const char *dir);

/* From cli_stop_signals_catch() to cli_stop_signals_release(), Ctrl-C
 * (SIGINT), kill (SIGTERM) and a closed terminal (SIGHUP) ask the command to
 * stop (cli_stop_requested) instead of killing it; a second one of the same
 * kills.  Interrupted system calls restart (SA_RESTART). */
void cli_stop_signals_catch(void);
void cli_stop_signals_release(void);
/* TRUE once a stop signal came; OPAQUE unused (a should_stop callback). */
gboolean cli_stop_requested(void *opaque);
