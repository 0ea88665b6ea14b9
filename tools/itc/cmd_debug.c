/* itc debug: reverse-debug a recording bundle with gdb-multiarch. */
#include "cli.h"
#include "debugger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_debug_main(int argc, char **argv);

static const char usage_text[] =
    "usage: itc debug BUNDLE [--at ICOUNT|ckpt-NNNN] [--batch FILE] [--timeout SECONDS]\n"
    "                 [--gdb PATH] [-- GDB-ARGS...]\n"
    "\n"
    "Replays the recording in QEMU (rr=replay; the bundle is not modified) with the\n"
    "GDB stub on a unix socket in a private directory, and starts gdb-multiarch\n"
    "with the flight software's symbols, attached to it.  Forward and reverse\n"
    "execution work (stepi/step/next/continue/finish and reverse-stepi,\n"
    "reverse-step, reverse-next, reverse-continue, reverse-finish), breakpoints and\n"
    "watchpoints in both directions.  Reverse steps restart from the nearest of\n"
    "the bundle's checkpoints, so they stay fast deep into a long recording.  QEMU\n"
    "also saves a snapshot 1e6 instructions behind where reverse steps will start:\n"
    "on the way to an itc-goto (or --at) target and to where a reverse-continue\n"
    "stops, when the replay runs more than 2e6 instructions to get there, and after\n"
    "two reverse steps in one place; the steps that follow (reverse-step and\n"
    "reverse-next take one per instruction) restart close by (`monitor qom-set\n"
    "/machine reverse-snapshot-distance 0` turns that off).\n"
    "\n"
    "GDB commands added by itc (replay/gdb/itc.py):\n"
    "  itc-icount            instruction count of the current position\n"
    "  itc-goto ICOUNT|+N|-N move there, forwards or backwards\n"
    "  itc-checkpoints       the checkpoints of the bundle\n"
    "\n"
    "  --at POS         start at an instruction count or a checkpoint (default 0)\n"
    "  --batch FILE     run GDB non-interactively on a command file (-batch -x FILE)\n"
    "  --timeout S      give up (exit 2) when a batch session takes longer (default 900)\n"
    "  --gdb PATH       the GDB to use (default: $ITC_GDB or gdb-multiarch)\n"
    "\n"
    "In the GDB session $ITC_BUNDLE is the bundle and $ITC_UART_LOG the UART output\n"
    "of the replay so far.\n"
    "exit status: GDB's (0 ok, 1 GDB reported an error), 2 bad bundle, bad --at,\n"
    "no gdb-multiarch, no QEMU, timeout\n";

int cmd_debug_main(int argc, char **argv)
{
    const char *dir = NULL;
    DebugOptions opt = {.timeout_s = 900};
    const char *const *gdb_extra = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        gboolean has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--")) {
            gdb_extra = (const char *const *)&argv[i + 1];
            break;
        } else if (!strcmp(a, "--at") && has_val) {
            opt.at = argv[++i];
        } else if (!strcmp(a, "--batch") && has_val) {
            opt.batch_file = argv[++i];
        } else if (!strcmp(a, "--gdb") && has_val) {
            opt.gdb = argv[++i];
        } else if (!strcmp(a, "--timeout") && has_val) {
            guint64 t = 0;
            if (!g_ascii_string_to_unsigned(argv[++i], 10, 1, 1000000, &t, NULL))
                return cli_error("debug: --timeout wants a number of seconds, not '%s'", argv[i]);
            opt.timeout_s = (int)t;
        } else if (a[0] == '-') {
            return cli_error("debug: unknown option or missing value: %s", a);
        } else if (!dir) {
            dir = a;
        } else {
            return cli_error("debug: unexpected argument '%s'", a);
        }
    }
    opt.gdb_extra = gdb_extra;
    if (!dir) {
        fputs(usage_text, stderr);
        return CLI_BAD_INPUT;
    }
    if (opt.batch_file && !g_file_test(opt.batch_file, G_FILE_TEST_IS_REGULAR))
        return cli_error("debug: --batch %s: no such file", opt.batch_file);

    GError *e = NULL;
    QemuInstall inst;
    if (!qemu_install_locate(&inst, NULL, &e)) {
        int rc = cli_error("%s", e->message);
        g_error_free(e);
        return rc;
    }
    int rc = CLI_OK;
    int gdb_status = 0;
    ReplayBundle *b = replay_bundle_open(dir, &inst, &e);
    if (!b || !debugger_run(b, &opt, &gdb_status, &e)) {
        rc = cli_error("debug: %s", e->message);
        g_error_free(e);
    } else if (gdb_status != 0) {
        fprintf(stderr, "itc: debug: gdb exited with status %d\n", gdb_status);
        rc = CLI_FAILURE_FOUND;
    }
    replay_bundle_close(b);
    qemu_install_clear(&inst);
    return rc;
}
