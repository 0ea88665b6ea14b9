/* itc restore: a live QEMU from an instant of a recording. */
#include "cli.h"
#include "faults.h"
#include "recorder.h"
#include "replay_log.h"
#include "restorer.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cmd_restore_main(int argc, char **argv);

static const char usage_text[] =
    "usage: itc restore BUNDLE --at ckpt-NNNN|init|ICOUNT [options]\n"
    "\n"
    "Starts a live (not replaying) QEMU from the machine state at a checkpoint or at\n"
    "any instruction count of the recording (an instant between checkpoints is first\n"
    "reached by replaying from the nearest earlier checkpoint).  QEMU's QMP, HMP and\n"
    "GDB endpoints are unix sockets in a private 0700 directory; their paths are\n"
    "printed on stderr.  The live run is itself recorded into a scratch log there.\n"
    "The bundle is not modified.\n"
    "\n"
    "options:\n"
    "  --at POINT          init, a checkpoint name (itc info lists them) or an icount\n"
    "  --input FILE        UART input script, fed line by line 20 ms of virtual time\n"
    "                      apart (the first line at once), instead of the\n"
    "                      recording's input\n"
    "  --no-recorded-input do not feed the recording's input (below)\n"
    "  --uart-out FILE     write the UART output to FILE (default: stdout; stdin is\n"
    "                      the UART input unless --input or --uart-out is given)\n"
    "  --until COND        stop and exit at COND: icount:N (after exactly N instructions\n"
    "                      from the start of the recording), time:SECONDS (virtual),\n"
    "                      uart:REGEX (needs --uart-out); default: run until QEMU\n"
    "                      exits or Ctrl-C\n"
    "  --paused            start paused (continue through QMP, HMP or GDB)\n"
    "  --faults FILE       fault scenario (itc record --help) injected before the run\n"
    "                      starts; every icount must be at or after the restore point\n"
    "  --json              print the result as JSON\n"
    "The UART receives the recording's own input that came after the restore point,\n"
    "each delivery at the instruction count and virtual time it had in the recording\n"
    "(the bundle's uart-rx.log), so the live run is the recording until you change\n"
    "something; QEMU warns if a delivery comes at another instruction count (the run\n"
    "has left the recording).  Bundles recorded before uart-rx.log existed have no\n"
    "such record: a note then says how much input the live run does not get.\n"
    "The faults of the recording come with the restored state (pending ones still\n"
    "happen at their instruction count).  `itc inject --qmp SOCKET ...` adds faults\n"
    "to the live run through the printed QMP socket.\n"
    "exit status: 0 ok, 2 bad bundle, --at or --faults, other QEMU build, no QEMU\n";

static int fail(GError *e, const char *what)
{
    int rc = cli_error("%s: %s", what, e->message);
    g_error_free(e);
    return rc;
}

int cmd_restore_main(int argc, char **argv)
{
    const char *dir = NULL, *at = NULL, *input = NULL, *uart_out = NULL, *faults_file = NULL;
    gboolean json = FALSE, paused = FALSE, no_recorded_input = FALSE;
    g_autoptr(GArray) until = g_array_new(FALSE, TRUE, sizeof(RecordUntil));
    g_array_set_clear_func(until, (GDestroyNotify)record_until_clear);
    gboolean until_uart = FALSE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        gboolean has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            json = TRUE;
        } else if (!strcmp(a, "--paused")) {
            paused = TRUE;
        } else if (!strcmp(a, "--no-recorded-input")) {
            no_recorded_input = TRUE;
        } else if (!strcmp(a, "--at") && has_val) {
            at = argv[++i];
        } else if (!strcmp(a, "--input") && has_val) {
            input = argv[++i];
        } else if (!strcmp(a, "--faults") && has_val) {
            faults_file = argv[++i];
        } else if (!strcmp(a, "--uart-out") && has_val) {
            uart_out = argv[++i];
        } else if (!strcmp(a, "--until") && has_val) {
            RecordUntil u;
            GError *e = NULL;
            if (!record_until_parse(&u, argv[++i], &e))
                return fail(e, "restore");
            until_uart |= u.kind == UNTIL_UART;
            g_array_append_val(until, u);
        } else if (a[0] == '-') {
            return cli_error("restore: unknown option or missing value: %s (see itc restore "
                             "--help)",
                             a);
        } else if (!dir) {
            dir = a;
        } else {
            return cli_error("restore: unexpected argument '%s'", a);
        }
    }
    if (!dir || !at) {
        fputs(usage_text, stderr);
        return cli_error("restore: need BUNDLE and --at");
    }
    if (until_uart && !uart_out)
        return cli_error("restore: --until uart:REGEX needs --uart-out FILE");
    if (input && !g_file_test(input, G_FILE_TEST_IS_REGULAR))
        return cli_error("restore: --input %s: %s", input,
                         g_file_test(input, G_FILE_TEST_EXISTS) ? "not a regular file"
                                                                : "no such file");
    GError *e = NULL;
    g_autoptr(GPtrArray) faults = NULL;
    if (faults_file && !(faults = fault_scenario_load(faults_file, &e)))
        return fail(e, "restore");
    QemuInstall inst;
    if (!qemu_install_locate(&inst, NULL, &e))
        return fail(e, "restore");
    int rc = CLI_OK;
    RestorePoint pt = {0};
    RestoreEndpoints ep = {0};
    QemuRun *r = NULL;
    RecordFeeder *feeder = NULL;
    g_autofree char *reason = NULL;
    g_autofree char *left = NULL; /* QEMU's warning that the input left the recording */
    guint64 icount = 0, vns = 0;
    gboolean stopped = FALSE;
    signal(SIGPIPE, SIG_IGN);
    ReplayBundle *b = replay_bundle_open(dir, &inst, &e);
    if (!b || !restore_prepare(b, at, &pt, &e)) {
        rc = fail(e, "restore");
        goto out;
    }
    /* The recording's UART input after the restore point is fed again at its
     * instants unless --input replaces it; when it is not (or the bundle
     * predates uart-rx.log), say how much there was. */
    gboolean feed = b->m->has_uart_rx && !input && !no_recorded_input;
    ReplayLogSummary log = {0};
    guint input_reads = 0;
    guint64 input_first = 0, input_bytes = 0;
    gboolean log_ok = replay_log_read(b->log_path, &log, &e);
    if (log_ok) {
        input_bytes = replay_log_input_from(&log, 0, pt.icount, &input_reads, &input_first);
        replay_log_summary_clear(&log);
        const char *fate = feed    ? "): the live run gets them at the same instants "
                                     "(--no-recorded-input: not)"
                           : input ? "); this live run does not (--input replaces them)"
                           : no_recorded_input
                               ? "); this live run does not (--no-recorded-input)"
                               : "); this live run does not (the bundle has no uart-rx.log: "
                                 "recorded before itc kept one)";
        if (input_bytes)
            fprintf(stderr,
                    "itc: %sthe recording's UART got %" G_GUINT64_FORMAT
                    " input bytes at or after icount %" G_GUINT64_FORMAT
                    " (%u reads, the first at icount %" G_GUINT64_FORMAT "%s\n",
                    feed ? "" : "note: ", input_bytes, pt.icount, input_reads, input_first, fate);
    } else {
        fprintf(
            stderr,
            "itc: warning: cannot tell the recording's UART input from icount %" G_GUINT64_FORMAT
            ": %s\n",
            pt.icount, e->message);
        g_clear_error(&e);
    }
    for (guint i = 0; faults && i < faults->len; i++) {
        const FaultSpec *f = faults->pdata[i];
        if (f->when == FAULT_AT_ICOUNT && f->at < pt.icount) {
            g_autofree char *desc = fault_describe(f, i + 1);
            rc = cli_error("restore: %s: %s: icount %" G_GUINT64_FORMAT
                           " is before the restore point (icount %" G_GUINT64_FORMAT ")",
                           faults_file, desc, f->at, pt.icount);
            goto out;
        }
    }
    QemuStdin in_mode = input       ? QEMU_STDIN_PIPE
                        : uart_out  ? QEMU_STDIN_NULL
                        : isatty(0) ? QEMU_STDIN_INHERIT
                                    : QEMU_STDIN_NULL;
    gboolean has_faults = faults && faults->len;
    /* Ctrl-C, kill and a closed terminal end the run, QEMU and all; from
     * before QEMU starts, so that no signal finds QEMU up and itc unprepared */
    cli_stop_signals_catch();
    r = restore_start(b, &pt, uart_out ? uart_out : "-", in_mode, paused || has_faults, feed, &ep,
                      &e);
    if (!r) {
        rc = fail(e, "restore");
        goto out;
    }
    if (cli_stop_requested(NULL)) {
        rc = cli_error("restore: interrupted while starting QEMU");
        goto out;
    }
    /* QEMU on our terminal is in our process group: Ctrl-C reaches it, it
     * exits, and the watch below ends with it */
    if (in_mode == QEMU_STDIN_INHERIT)
        signal(SIGINT, SIG_IGN);
    if (has_faults) {
        if (!fault_inject_all(r->qmp, faults, &e)) {
            g_prefix_error(&e, "%s: ", faults_file);
            rc = fail(e, "restore");
            goto out;
        }
        if (!paused && !qmp_client_call(r->qmp, "cont", NULL, NULL, 10000, &e)) {
            rc = fail(e, "restore");
            goto out;
        }
    }
    guint64 start_icount = 0;
    if (!replay_read_clock(r, &start_icount, NULL, &e)) {
        rc = fail(e, "restore");
        goto out;
    }
    /* --until icount/time: QEMU pauses at exactly that instant
     * (hw/itc/itc_stop.c); the watch loop below then sees it reached */
    for (guint i = 0; i < until->len; i++) {
        const RecordUntil *u = &g_array_index(until, RecordUntil, i);
        if (u->kind == UNTIL_UART)
            continue;
        if (!record_machine_set(r, u->kind == UNTIL_ICOUNT ? "stop-icount" : "stop-time-ns",
                                u->value, &e)) {
            g_prefix_error(&e, "--until %s: ", u->text);
            rc = fail(e, "restore");
            goto out;
        }
    }
    fprintf(stderr,
            "itc: live QEMU (pid %d) restored from %s at icount %" G_GUINT64_FORMAT
            " (QEMU reports %" G_GUINT64_FORMAT "), %s\n"
            "  qmp  %s\n  hmp  %s\n  gdb  %s\n",
            (int)qemu_proc_pid(r->proc), pt.from, pt.icount, start_icount,
            paused ? "paused" : "running", ep.qmp, ep.hmp, ep.gdb);
    if (input && !(feeder = record_feeder_start(qemu_proc_stdin_fd(r->proc), input, &e))) {
        rc = fail(e, "restore");
        goto out;
    }
    if (!record_watch(r, uart_out, until, TRUE, cli_stop_requested, NULL, NULL, NULL, NULL, feeder,
                      &reason, &e)) {
        rc = fail(e, "restore");
        goto out;
    }
    record_feeder_stop(feeder);
    feeder = NULL;
    /* gr740-apbuart warns once when recorded input arrives off the recording */
    left = feed ? qemu_proc_stderr_line(r->proc, "left the recording") : NULL;
    if (left)
        fprintf(stderr, "itc: warning: %s\n", left);
    if (qemu_proc_alive(r->proc)) {
        stopped = qmp_client_call(r->qmp, "stop", NULL, NULL, 10000, NULL) &&
                  replay_read_clock(r, &icount, &vns, NULL);
    }
    if (json) {
        g_autoptr(JsonBuilder) jb = json_builder_new();
        json_builder_begin_object(jb);
#define S(k, x) (json_builder_set_member_name(jb, k), json_builder_add_string_value(jb, x))
#define I(k, x) (json_builder_set_member_name(jb, k), json_builder_add_int_value(jb, (gint64)(x)))
        S("bundle", dir);
        S("from", pt.from);
        I("at_icount", pt.icount);
        I("start_icount", start_icount);
        I("recorded_uart_offset", pt.uart_offset);
        if (log_ok) {
            I("recorded_input_from_bytes", input_bytes);
            I("recorded_input_from_reads", input_reads);
        }
        json_builder_set_member_name(jb, "recorded_input_fed");
        json_builder_add_boolean_value(jb, feed);
        json_builder_set_member_name(jb, "left_recording_input");
        json_builder_add_boolean_value(jb, left != NULL);
        json_builder_set_member_name(jb, "prepare_seconds");
        json_builder_add_double_value(jb, pt.prepare_seconds);
        S("end_reason", reason);
        if (stopped) {
            I("end_icount", icount);
            I("end_virtual_ns", vns);
        }
#undef S
#undef I
        json_builder_end_object(jb);
        cli_print_json(jb);
    } else if (stopped) {
        fprintf(stderr, "itc: stopped at icount %" G_GUINT64_FORMAT " (%s)\n", icount, reason);
    } else {
        fprintf(stderr, "itc: %s\n", reason);
    }
out:
    cli_stop_signals_release();
    record_feeder_stop(feeder);
    qemu_run_quit(r);
    restore_endpoints_clear(&ep);
    restore_point_clear(&pt);
    replay_bundle_close(b);
    qemu_install_clear(&inst);
    return rc;
}
