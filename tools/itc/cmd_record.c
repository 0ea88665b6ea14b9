/* itc record: record a run of the flight software into a bundle. */
#include "cli.h"
#include "faults.h"
#include "recorder.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cmd_record_main(int argc, char **argv);

static const char usage_text[] =
    "usage: itc record FSW.elf -o BUNDLE [options] [-- QEMU-ARGS...]\n"
    "\n"
    "Runs the flight software on an emulated GR740 (-M gr740, one CPU) under icount\n"
    "with QEMU record/replay, taking checkpoints as it goes (with --verify: in a\n"
    "replay pass that also verifies the replay reaches the same final state).  Writes a\n"
    "self-contained bundle directory: manifest.json, replay.bin.zst, checkpoints/\n"
    "(a deduplicating snapshot store, see itc snap), fsw.elf, input.txt, uart.log.\n"
    "\n"
    "options:\n"
    "  -o, --output BUNDLE      bundle directory to create (must not exist or be empty)\n"
    "  --input FILE             scripted UART input, fed line by line 20 ms of virtual\n"
    "                           time apart (the first line at once)\n"
    "  --until COND             end the recording at COND (repeatable, first one wins):\n"
    "                             icount:N       after exactly N instructions\n"
    "                             time:SECONDS   at SECONDS of virtual time\n"
    "                             uart:REGEX     when the UART output matches REGEX\n"
    "                           default: uart:'FATAL trap[^\\n]*\\n' or time:60\n"
    "  --checkpoint-every N     instructions between checkpoints (default 2e7; 0 = none)\n"
    "  --verify                 take the checkpoints in a replay pass after the recording,\n"
    "                           which also verifies that it replays identically (end,\n"
    "                           final state, UART bytes, faults); about twice the time.\n"
    "                           Default: checkpoints during the recording (stop, savevm,\n"
    "                           cont as the count passes each multiple of N), and\n"
    "                           `itc replay BUNDLE` verifies whenever you like\n"
    "  --icount-shift S         2^S ns per instruction (default 2: 250 MHz like the GR740)\n"
    "  --smp N                  CPUs (only 1: QEMU record/replay is single-CPU)\n"
    "  --faults FILE            fault scenario (JSON, below) injected before the guest runs\n"
    "  --fault-socket PATH      the recording's fault channel (default: in a private\n"
    "                           directory, printed at start): `itc inject --recording\n"
    "                           PATH ...` adds a fault while the recording runs\n"
    "  --json                   print the result as JSON\n"
    "  -- ARGS                  extra QEMU arguments (kept in the manifest for replays);\n"
    "                           not the ones itc sets itself or that would make the run\n"
    "                           differ from its replay (-M, -smp, -icount, -kernel, -serial,\n"
    "                           -qmp, -monitor, -gdb, -S, -loadvm, -drive, -action, -accel,\n"
    "                           -display, ...)\n"
    "\n"
    "Fault scenario: a JSON array of faults, each the arguments of QEMU's\n"
    "itc-inject-fault with a definite instant:\n"
    "  [{\"kind\": \"mem-seu\", \"target\": \"0x6624\", \"mask\": 256, \"icount\": 120000000},\n"
    "   {\"kind\": \"gpio\", \"target\": \"grgpio0.3\", \"level\": 1, \"time-ns\": 500000000}]\n"
    "  kind     mem-seu, cpu-reg, irq, gpio, reg-flip, uart-rx, reg-stuck,\n"
    "           uart-corrupt, uart-drop, uart-error, timer-lost-ticks, timer-drift\n"
    "  target   address (\"0x...\"), [cpuN.]REG, IRQ line, grgpioN.LINE, apbuartN,\n"
    "           gptimerN.T (timer-lost-ticks), gptimerN (timer-drift)\n"
    "  mask, count, level, data (hex bytes, uart-rx), duration-ns | duration-icount\n"
    "  (reg-stuck, timer-*), comment: optional (itc inject --help explains each)\n"
    "  icount N | time-ns T: exactly one (instruction count / virtual ns); no 'now'\n"
    "The faults happen at the same instruction in every replay, debug session and\n"
    "restore of the bundle (manifest.json \"faults\" lists them with fired_icount).\n"
    "Faults added while the recording runs go through its fault channel (QEMU's\n"
    "third serial port, whose input is recorded like any serial input), so every\n"
    "replay injects them at the same instruction; manifest.json marks them\n"
    "\"recorded\": true.\n"
    "\n"
    "Ctrl-C (or SIGTERM, SIGHUP) ends the recording early; the bundle is still\n"
    "complete and valid.\n"
    "exit status: 0 ok, 1 the verification replay diverged (nondeterminism),\n"
    "2 bad input or environment (no QEMU, bad ELF, existing bundle, ...)\n";

typedef struct {
    gboolean tty;
    gint64 last_us;
    const char *fault_sock; /* announced once the recording runs (NULL: not) */
} Progress;

static void progress(void *opaque, const char *phase, guint64 icount, guint64 vns, guint64 total)
{
    Progress *p = opaque;
    if (p->fault_sock) {
        /* now that the options are checked and QEMU listens on it */
        fprintf(stderr, "%sitc: fault channel of this recording: itc inject --recording %s ...\n",
                p->tty && p->last_us ? "\r\033[K" : "", p->fault_sock);
        p->fault_sock = NULL;
    }
    if (!p->tty)
        return;
    gint64 now = g_get_monotonic_time();
    if (now - p->last_us < 200000)
        return;
    p->last_us = now;
    if (total)
        fprintf(stderr, "\r\033[K%s: %.3g / %.3g instructions (%3d%%), %.3f s virtual", phase,
                (double)icount, (double)total, (int)(icount * 100 / total), vns / 1e9);
    else
        fprintf(stderr, "\r\033[K%s: %.3g instructions, %.3f s virtual (Ctrl-C ends)", phase,
                (double)icount, vns / 1e9);
    fflush(stderr);
}

int cmd_record_main(int argc, char **argv)
{
    const char *fsw = NULL, *out = NULL, *input = NULL, *faults_file = NULL, *fault_sock = NULL;
    gboolean json = FALSE, verify = FALSE;
    guint64 every = RECORD_DEFAULT_CHECKPOINT_EVERY, shift = 2, smp = 1;
    g_autoptr(GArray) until = g_array_new(FALSE, TRUE, sizeof(RecordUntil));
    g_array_set_clear_func(until, (GDestroyNotify)record_until_clear);
    g_autoptr(GPtrArray) extra = g_ptr_array_new();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        gboolean has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                g_ptr_array_add(extra, argv[i]);
        } else if (!strcmp(a, "--json")) {
            json = TRUE;
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has_val) {
            out = argv[++i];
        } else if (!strcmp(a, "--input") && has_val) {
            input = argv[++i];
        } else if (!strcmp(a, "--faults") && has_val) {
            faults_file = argv[++i];
        } else if (!strcmp(a, "--fault-socket") && has_val) {
            fault_sock = argv[++i];
        } else if (!strcmp(a, "--until") && has_val) {
            RecordUntil u;
            GError *e = NULL;
            if (!record_until_parse(&u, argv[++i], &e)) {
                int rc = cli_error("%s", e->message);
                g_error_free(e);
                return rc;
            }
            g_array_append_val(until, u);
        } else if (!strcmp(a, "--verify")) {
            verify = TRUE;
        } else if (!strcmp(a, "--checkpoint-every") && has_val) {
            if (!bundle_parse_count(argv[++i], &every))
                return cli_error("--checkpoint-every: '%s' is not a number of instructions",
                                 argv[i]);
            if (every && every < 100000)
                return cli_error("--checkpoint-every: at least 100000 instructions (or 0)");
        } else if (!strcmp(a, "--icount-shift") && has_val) {
            if (!bundle_parse_count(argv[++i], &shift) || shift > 10)
                return cli_error("--icount-shift: '%s' is not 0..10", argv[i]);
        } else if (!strcmp(a, "--smp") && has_val) {
            if (!bundle_parse_count(argv[++i], &smp) || smp < 1 || smp > 4)
                return cli_error("--smp: '%s' is not 1..4", argv[i]);
        } else if (a[0] == '-') {
            return cli_error("record: unknown option or missing value: %s (see itc record "
                             "--help)",
                             a);
        } else if (!fsw) {
            fsw = a;
        } else {
            return cli_error("record: unexpected argument '%s'", a);
        }
    }
    if (!fsw || !out) {
        fputs(usage_text, stderr);
        return cli_error("record: need FSW.elf and -o BUNDLE");
    }
    if (smp != 1)
        return cli_error("--smp %" G_GUINT64_FORMAT
                         ": QEMU's record/replay supports one CPU only (use --smp 1)",
                         smp);
    if (until->len == 0) {
        RecordUntil u;
        record_until_parse(&u, "uart:" RECORD_DEFAULT_UART_REGEX, NULL);
        g_array_append_val(until, u);
        g_autofree char *t = g_strdup_printf("time:%d", RECORD_DEFAULT_MAX_SECONDS);
        record_until_parse(&u, t, NULL);
        g_array_append_val(until, u);
    }
    GError *e = NULL;
    g_autoptr(GPtrArray) faults = NULL;
    if (faults_file && !(faults = fault_scenario_load(faults_file, &e))) {
        int rc = cli_error("record: %s", e->message);
        g_error_free(e);
        return rc;
    }
    QemuInstall inst;
    if (!qemu_install_locate(&inst, NULL, &e)) {
        int rc = cli_error("%s", e->message);
        g_error_free(e);
        return rc;
    }
    g_ptr_array_add(extra, NULL);
    /* the fault channel: in a private directory unless --fault-socket says where */
    g_autofree char *sock_dir = NULL, *sock_path = NULL;
    if (!fault_sock) {
        sock_dir = g_dir_make_tmp("itc-record-XXXXXX", &e);
        if (!sock_dir) {
            int rc = cli_error("record: %s", e->message);
            g_error_free(e);
            qemu_install_clear(&inst);
            return rc;
        }
        fault_sock = sock_path = g_build_filename(sock_dir, "faults.sock", NULL);
    }
    Progress pr = {.tty = isatty(STDERR_FILENO), .fault_sock = json ? NULL : fault_sock};
    RecordOptions o = {
        .inst = &inst,
        .fsw = fsw,
        .input = input,
        .bundle_dir = out,
        .until = until,
        .checkpoint_every = every,
        .verify = verify,
        .icount_shift = (int)shift,
        .smp = (int)smp,
        .extra = (char **)extra->pdata,
        .faults = faults,
        .fault_socket = fault_sock,
        .should_stop = cli_stop_requested,
        .progress = progress,
        .opaque = &pr,
    };
    /* Ctrl-C, kill (SIGTERM) and a closed terminal (SIGHUP) all end the
     * recording with a complete bundle */
    cli_stop_signals_catch();
    signal(SIGPIPE, SIG_IGN);
    RecordStats st;
    BundleManifest *m = NULL;
    gboolean ok = record_bundle(&o, &st, &m, &e);
    cli_stop_signals_release();
    if (sock_dir) {
        g_unlink(sock_path);
        g_rmdir(sock_dir);
    }
    if (pr.tty && pr.last_us)
        fprintf(stderr, "\r\033[K");
    if (!ok) {
        int rc = g_error_matches(e, RECORDER_ERROR, RECORDER_ERROR_NONDETERMINISTIC)
                     ? CLI_FAILURE_FOUND
                     : CLI_BAD_INPUT;
        cli_error("record: %s", e->message);
        g_error_free(e);
        record_stats_clear(&st);
        qemu_install_clear(&inst);
        return rc;
    }
    /* the whole directory, the checkpoint store included */
    guint64 bundle_bytes = (guint64)MAX(cli_tree_bytes(out), 0);
    double per_1000 = m->icount_end ? m->replay_log.size * 1000.0 / m->icount_end : 0;
    double per_1000_raw =
        m->icount_end ? m->replay_log_uncompressed_size * 1000.0 / m->icount_end : 0;
    double per_ckpt = st.checkpoints ? st.checkpoint_seconds / st.checkpoints : 0;
    if (st.dropped) {
        g_auto(GStrv) lines = g_strsplit(g_strchomp(st.dropped), "\n", -1);
        for (char **l = lines; *l; l++)
            fprintf(stderr, "itc: warning: %s\n", *l);
    }
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
#define S(k, v) (json_builder_set_member_name(b, k), json_builder_add_string_value(b, v))
#define I(k, v) (json_builder_set_member_name(b, k), json_builder_add_int_value(b, (gint64)(v)))
#define D(k, v) (json_builder_set_member_name(b, k), json_builder_add_double_value(b, v))
        S("bundle", out);
        S("end_reason", st.end_reason);
        I("icount_end", m->icount_end);
        I("virtual_ns_end", m->virtual_ns_end);
        S("final_digest", m->final_digest);
        I("checkpoints", m->checkpoints->len);
        I("dropped_checkpoints", st.dropped_checkpoints);
        json_builder_set_member_name(b, "verified");
        json_builder_add_boolean_value(b, m->verified);
        json_builder_set_member_name(b, "faults");
        json_builder_add_value(b, json_from_string(m->faults_json, NULL));
        D("init_resave_seconds", st.init_resave_seconds);
        I("checkpoint_every", every);
        D("record_seconds", st.record_seconds);
        D("record_startup_seconds", st.init_snapshot_seconds);
        D("checkpoint_pass_seconds", st.checkpoint_seconds);
        D("checkpoint_pass_ratio",
          st.record_seconds > 0 ? st.checkpoint_seconds / st.record_seconds : 0);
        D("seconds_per_checkpoint", per_ckpt);
        D("savevm_seconds_avg", st.checkpoints ? st.savevm_seconds_total / st.checkpoints : 0);
        D("compress_seconds", st.compress_seconds);
        I("bundle_bytes", bundle_bytes);
        I("replay_log_bytes", m->replay_log.size);
        I("replay_log_uncompressed_bytes", m->replay_log_uncompressed_size);
        I("checkpoint_store_bytes", st.store_bytes);
        D("checkpoint_store_seconds", st.store_seconds);
        I("uart_bytes", m->uart.size);
        D("log_bytes_per_1000_insns", per_1000);
        D("log_uncompressed_bytes_per_1000_insns", per_1000_raw);
#undef S
#undef I
#undef D
        json_builder_end_object(b);
        cli_print_json(b);
    } else {
        g_autofree char *hb = cli_human_bytes(bundle_bytes);
        printf("recorded %s: %" G_GUINT64_FORMAT " instructions, %.3f s virtual (%s)\n", out,
               m->icount_end, m->virtual_ns_end / 1e9, st.end_reason);
        if (m->verified)
            printf("  record %.1f s; checkpoint pass %.1f s (%u checkpoints, savevm %.2f s each); "
                   "replay verified\n",
                   st.record_seconds, st.checkpoint_seconds, st.checkpoints,
                   st.checkpoints ? st.savevm_seconds_total / st.checkpoints : 0.0);
        else
            printf("  record %.1f s with %u checkpoints (pause + savevm + cont %.2f s each); "
                   "not verified (itc replay %s verifies)\n",
                   st.record_seconds, st.checkpoints,
                   st.checkpoints ? st.savevm_seconds_total / st.checkpoints : 0.0, out);
        printf("  bundle %s; replay log %" G_GUINT64_FORMAT " bytes zstd (%.3f bytes per 1000 "
               "instructions)\n",
               hb, m->replay_log.size, per_1000);
    }
    bundle_manifest_free(m);
    record_stats_clear(&st);
    qemu_install_clear(&inst);
    return CLI_OK;
}
