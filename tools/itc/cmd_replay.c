/* itc replay: re-execute a bundle and check it against the recording. */
#include "cli.h"
#include "replayer.h"

#include <stdio.h>
#include <string.h>

int cmd_replay_main(int argc, char **argv);

static const char usage_text[] =
    "usage: itc replay BUNDLE [--json]\n"
    "\n"
    "Replays the recording from its start (QEMU rr=replay, the bundle is not\n"
    "modified) to its end and compares the UART output byte for byte and the final\n"
    "state digest (SHA-256 of guest RAM and CPU registers) with the recording; at\n"
    "each checkpoint, the UART byte count and the guest RAM page by page with the\n"
    "checkpoint's.  Reports the first divergence (for RAM: the checkpoint, how many\n"
    "pages, the first address and the FSW symbol there).\n"
    "With --json the verdict goes to standard output as one JSON object, also when\n"
    "the replay cannot run (then with \"error\" and \"diverged\").\n"
    "exit status: 0 identical, 1 diverged, 2 bad bundle, other QEMU build, no QEMU\n";

int cmd_replay_main(int argc, char **argv)
{
    const char *dir = NULL;
    gboolean json = FALSE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = TRUE;
        } else if (argv[i][0] == '-') {
            return cli_error("replay: unknown option %s", argv[i]);
        } else if (!dir) {
            dir = argv[i];
        } else {
            return cli_error("replay: unexpected argument '%s'", argv[i]);
        }
    }
    if (!dir) {
        fputs(usage_text, stderr);
        return CLI_BAD_INPUT;
    }
    GError *e = NULL;
    QemuInstall inst = {0};
    gboolean have_qemu = qemu_install_locate(&inst, NULL, &e);
    ReplayBundle *b = have_qemu ? replay_bundle_open(dir, &inst, &e) : NULL;
    ReplayVerdict v = {0};
    gboolean ok = b && replay_bundle_verify(b, &v, &e);
    int rc = CLI_OK;
    if (!ok) {
        gboolean diverged = g_error_matches(e, REPLAYER_ERROR, REPLAYER_ERROR_DIVERGED);
        rc = diverged ? CLI_FAILURE_FOUND : CLI_BAD_INPUT;
        if (json) {
            /* a verdict on stdout all the same: what went wrong, and whether
             * it is a divergence (exit 1) or a bad bundle or setup (exit 2) */
            g_autoptr(JsonBuilder) jb = json_builder_new();
            json_builder_begin_object(jb);
            json_builder_set_member_name(jb, "bundle");
            json_builder_add_string_value(jb, dir);
            json_builder_set_member_name(jb, "identical");
            json_builder_add_boolean_value(jb, FALSE);
            json_builder_set_member_name(jb, "diverged");
            json_builder_add_boolean_value(jb, diverged);
            json_builder_set_member_name(jb, "error");
            json_builder_add_string_value(jb, e->message);
            json_builder_end_object(jb);
            cli_print_json(jb);
        }
        cli_error("replay: %s", e->message);
        g_error_free(e);
    } else {
        const BundleManifest *m = b->m;
        gboolean same = v.uart_equal && v.digest_equal && v.icount_equal &&
                        v.first_bad_checkpoint < 0 && v.first_ram_checkpoint < 0 &&
                        !v.fault_difference;
        rc = same ? CLI_OK : CLI_FAILURE_FOUND;
        if (json) {
            g_autoptr(JsonBuilder) jb = json_builder_new();
            json_builder_begin_object(jb);
#define S(k, x) (json_builder_set_member_name(jb, k), json_builder_add_string_value(jb, x))
#define I(k, x) (json_builder_set_member_name(jb, k), json_builder_add_int_value(jb, (gint64)(x)))
#define B(k, x) (json_builder_set_member_name(jb, k), json_builder_add_boolean_value(jb, x))
            S("bundle", dir);
            B("identical", same);
            B("diverged", !same);
            I("icount_end", v.icount_end);
            I("recorded_icount_end", m->icount_end);
            S("digest", v.digest);
            S("recorded_digest", m->final_digest);
            I("uart_bytes", v.uart_bytes);
            I("recorded_uart_bytes", m->uart.size);
            B("uart_equal", v.uart_equal);
            if (!v.uart_equal)
                I("uart_first_difference", v.uart_first_difference);
            B("digest_equal", v.digest_equal);
            B("faults_equal", !v.fault_difference);
            if (v.fault_difference)
                S("fault_difference", v.fault_difference);
            if (v.first_bad_checkpoint >= 0)
                S("first_checkpoint_with_other_uart_count",
                  g_array_index(m->checkpoints, BundleCheckpoint, v.first_bad_checkpoint).name);
            B("checkpoint_ram_equal", v.first_ram_checkpoint < 0);
            if (v.first_ram_checkpoint >= 0) {
                S("first_checkpoint_with_other_ram",
                  g_array_index(m->checkpoints, BundleCheckpoint, v.first_ram_checkpoint).name);
                I("ram_pages_different", v.ram_pages_different);
                S("ram_block", v.ram_block);
                I("ram_first_difference", v.ram_offset);
                if (v.ram_symbol)
                    S("ram_symbol", v.ram_symbol);
            }
            json_builder_set_member_name(jb, "seconds");
            json_builder_add_double_value(jb, v.seconds);
#undef S
#undef I
#undef B
            json_builder_end_object(jb);
            cli_print_json(jb);
        } else if (same) {
            printf("replay identical: %" G_GUINT64_FORMAT " instructions, %" G_GUINT64_FORMAT
                   " UART bytes, final digest %s (%.1f s)\n",
                   v.icount_end, v.uart_bytes, v.digest, v.seconds);
        }
        if (!same) {
            if (v.first_ram_checkpoint >= 0) {
                const BundleCheckpoint *ck =
                    &g_array_index(m->checkpoints, BundleCheckpoint, v.first_ram_checkpoint);
                fprintf(stderr,
                        "itc: replay diverged: at %s (icount %" G_GUINT64_FORMAT
                        ") %" G_GUINT64_FORMAT
                        " page(s) of guest RAM differ from the recording's checkpoint, the "
                        "first at %s+0x%" G_GINT64_MODIFIER "x%s%s%s\n",
                        ck->name, ck->icount, v.ram_pages_different, v.ram_block, v.ram_offset,
                        v.ram_symbol ? " (" : "", v.ram_symbol ? v.ram_symbol : "",
                        v.ram_symbol ? ")" : "");
            }
            if (!v.uart_equal)
                fprintf(stderr,
                        "itc: replay diverged: UART output differs from the recording at byte "
                        "%" G_GUINT64_FORMAT " (replay %" G_GUINT64_FORMAT
                        " bytes, recording %" G_GUINT64_FORMAT ")\n",
                        v.uart_first_difference, v.uart_bytes, m->uart.size);
            /* the first checkpoint after the divergence: by UART byte
             * counts there, else by the first different byte (the
             * recording had sent it by that checkpoint) */
            int bad = v.first_bad_checkpoint;
            if (bad >= 0) {
                const BundleCheckpoint *ck = &g_array_index(m->checkpoints, BundleCheckpoint, bad);
                fprintf(stderr,
                        "itc: at %s (icount %" G_GUINT64_FORMAT
                        ") the replay had emitted %" G_GUINT64_FORMAT
                        " UART bytes, the recording %" G_GUINT64_FORMAT "\n",
                        ck->name, ck->icount, v.bad_checkpoint_uart, ck->uart_offset);
            } else if (!v.uart_equal) {
                for (guint i = 0; bad < 0 && i < m->checkpoints->len; i++)
                    if (g_array_index(m->checkpoints, BundleCheckpoint, i).uart_offset >
                        v.uart_first_difference)
                        bad = (int)i;
            }
            if (bad >= 0) {
                const BundleCheckpoint *ck = &g_array_index(m->checkpoints, BundleCheckpoint, bad);
                if (bad > 0) {
                    const BundleCheckpoint *ok_ck =
                        &g_array_index(m->checkpoints, BundleCheckpoint, bad - 1);
                    fprintf(stderr,
                            "itc: the divergence started between %s (icount %" G_GUINT64_FORMAT
                            ") and %s (icount %" G_GUINT64_FORMAT ")\n",
                            ok_ck->name, ok_ck->icount, ck->name, ck->icount);
                } else {
                    fprintf(stderr,
                            "itc: the divergence started before %s (icount %" G_GUINT64_FORMAT
                            ")\n",
                            ck->name, ck->icount);
                }
            }
            if (!v.icount_equal)
                fprintf(stderr,
                        "itc: replay diverged: it ended at icount %" G_GUINT64_FORMAT
                        ", the recording at %" G_GUINT64_FORMAT "\n",
                        v.icount_end, m->icount_end);
            if (v.fault_difference)
                fprintf(stderr, "itc: replay diverged: %s\n", v.fault_difference);
            if (!v.digest_equal)
                fprintf(stderr,
                        "itc: replay diverged: final state digest %s at icount %" G_GUINT64_FORMAT
                        " differs from the recording's %s at icount %" G_GUINT64_FORMAT "\n",
                        v.digest, v.icount_end, m->final_digest, m->icount_end);
        }
    }
    replay_verdict_clear(&v);
    replay_bundle_close(b);
    if (have_qemu)
        qemu_install_clear(&inst);
    return rc;
}
