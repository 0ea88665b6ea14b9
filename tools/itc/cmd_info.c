/* itc info: what a recording bundle holds. */
#include "bundle.h"
#include "cli.h"
#include "faults.h"
#include "qemu_proc.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cmd_info_main(int argc, char **argv);

static const char usage_text[] =
    "usage: itc info BUNDLE [--json]\n"
    "\n"
    "Shows what a recording bundle holds: the QEMU build it was recorded with and\n"
    "whether the QEMU found now can replay it, the instruction and virtual-time span,\n"
    "the files and their sizes (missing or resized files are flagged), the\n"
    "checkpoints and the injected faults (with the instruction count each fired at).\n"
    "Does not run QEMU and does not hash the files (itc replay verifies).\n"
    "exit status: 0 ok, 2 not a bundle, damaged manifest, or files missing or\n"
    "resized (everything else is still shown)\n";

typedef struct {
    const char *role;
    const BundleFile *f;
} FileRow;

static void json_checkpoint(JsonBuilder *b, const BundleCheckpoint *c)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, c->name);
    json_builder_set_member_name(b, "icount");
    json_builder_add_int_value(b, (gint64)c->icount);
    json_builder_set_member_name(b, "virtual_ns");
    json_builder_add_int_value(b, (gint64)c->virtual_ns);
    json_builder_set_member_name(b, "uart_offset");
    json_builder_add_int_value(b, (gint64)c->uart_offset);
    json_builder_set_member_name(b, "snapshot");
    json_builder_add_string_value(b, c->snapshot);
    json_builder_end_object(b);
}

static const char *file_state(const char *dir, const BundleFile *f, guint64 *actual)
{
    g_autofree char *p = g_build_filename(dir, f->file, NULL);
    struct stat st;
    if (stat(p, &st) < 0) {
        *actual = 0;
        return "missing";
    }
    *actual = st.st_size;
    return (guint64)st.st_size == f->size ? "ok" : "size differs";
}

int cmd_info_main(int argc, char **argv)
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
            return cli_error("info: unknown option %s", argv[i]);
        } else if (!dir) {
            dir = argv[i];
        } else {
            return cli_error("info: unexpected argument '%s'", argv[i]);
        }
    }
    if (!dir) {
        fputs(usage_text, stderr);
        return CLI_BAD_INPUT;
    }
    GError *e = NULL;
    g_autoptr(BundleManifest) m = bundle_manifest_load(dir, &e);
    if (!m) {
        int rc = cli_error("%s", e->message);
        g_error_free(e);
        return rc;
    }
    QemuInstall inst;
    g_autofree char *qemu_note = NULL;
    gboolean have_qemu = qemu_install_locate(&inst, NULL, &e);
    const char *compat;
    if (!have_qemu) {
        qemu_note = g_strdup(e->message);
        g_clear_error(&e);
        compat = "unknown (no QEMU found)";
    } else {
        compat = strcmp(inst.version, m->qemu_version) ? "incompatible" : "compatible";
    }
    FileRow rows[] = {{"fsw", &m->fsw},
                      {"input", m->has_input ? &m->input : NULL},
                      {"replay_log", &m->replay_log},
                      {"uart", &m->uart},
                      {"uart_rx", m->has_uart_rx ? &m->uart_rx : NULL}};
    g_autofree char *store_dir = g_build_filename(dir, m->checkpoint_store, NULL);
    gint64 store_bytes = cli_tree_bytes(store_dir);
    gboolean files_ok = store_bytes >= 0;
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
#define S(k, v) (json_builder_set_member_name(b, k), json_builder_add_string_value(b, v))
#define I(k, v) (json_builder_set_member_name(b, k), json_builder_add_int_value(b, (gint64)(v)))
        S("bundle", dir);
        S("created", m->created);
        S("machine", m->machine);
        I("smp", m->smp);
        I("icount_shift", m->icount_shift);
        S("qemu_version", m->qemu_version);
        S("qemu_found_version", have_qemu ? inst.version : "");
        S("qemu_compatibility", compat);
        I("icount_end", m->icount_end);
        I("virtual_ns_end", m->virtual_ns_end);
        S("final_digest", m->final_digest);
        S("end_reason", m->end_reason ? m->end_reason : "");
        json_builder_set_member_name(b, "verified");
        json_builder_add_boolean_value(b, m->verified);
        I("replay_log_uncompressed_bytes", m->replay_log_uncompressed_size);
        json_builder_set_member_name(b, "files");
        json_builder_begin_array(b);
        for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
            if (!rows[i].f)
                continue;
            guint64 actual;
            const char *state = file_state(dir, rows[i].f, &actual);
            files_ok = files_ok && !strcmp(state, "ok");
            json_builder_begin_object(b);
            S("role", rows[i].role);
            S("file", rows[i].f->file);
            I("size", rows[i].f->size);
            I("actual_size", actual);
            S("sha256", rows[i].f->sha256);
            S("state", state);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "checkpoint_store");
        json_builder_begin_object(b);
        S("dir", m->checkpoint_store);
        I("bytes", MAX(store_bytes, 0));
        S("state", store_bytes >= 0 ? "ok" : "missing");
        json_builder_end_object(b);
        json_builder_set_member_name(b, "init");
        json_checkpoint(b, &m->init);
        json_builder_set_member_name(b, "checkpoints");
        json_builder_begin_array(b);
        for (guint i = 0; i < m->checkpoints->len; i++)
            json_checkpoint(b, &g_array_index(m->checkpoints, BundleCheckpoint, i));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "faults");
        json_builder_add_value(b, json_from_string(m->faults_json, NULL));
        json_builder_set_member_name(b, "files_ok");
        json_builder_add_boolean_value(b, files_ok);
#undef S
#undef I
        json_builder_end_object(b);
        cli_print_json(b);
    } else {
        printf("bundle       %s (created %s)\n", dir, m->created);
        printf("machine      %s, %d CPU, icount shift %d (%g MHz)\n", m->machine, m->smp,
               m->icount_shift, 1000.0 / (1 << m->icount_shift));
        printf("span         %" G_GUINT64_FORMAT " instructions, %.6f s virtual (ended: %s)\n",
               m->icount_end, m->virtual_ns_end / 1e9, m->end_reason ? m->end_reason : "?");
        printf("final state  sha256 %s\n", m->final_digest);
        printf("verified     %s\n",
               m->verified ? "yes (replayed identically when recorded)"
                           : "no (checkpoints taken while recording; itc replay verifies)");
        printf("QEMU         recorded with %s; found %s: %s\n", m->qemu_version,
               have_qemu ? inst.version : "none", compat);
        if (have_qemu && strcmp(compat, "compatible"))
            fprintf(stderr,
                    "itc: warning: this QEMU (%s) cannot replay a bundle recorded with "
                    "%s\n",
                    inst.version, m->qemu_version);
        if (qemu_note)
            fprintf(stderr, "itc: warning: %s\n", qemu_note);
        printf("files\n");
        for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
            if (!rows[i].f)
                continue;
            guint64 actual;
            const char *state = file_state(dir, rows[i].f, &actual);
            files_ok = files_ok && !strcmp(state, "ok");
            g_autofree char *h = cli_human_bytes(rows[i].f->size);
            printf("  %-11s %-18s %10s  %s\n", rows[i].role, rows[i].f->file, h, state);
        }
        g_autofree char *sd = g_strconcat(m->checkpoint_store, "/", NULL);
        g_autofree char *sh = cli_human_bytes(MAX(store_bytes, 0));
        printf("  %-11s %-18s %10s  %s\n", "checkpoints", sd, sh,
               store_bytes >= 0 ? "ok (snapshot store)" : "missing");
        if (m->replay_log.size && m->icount_end)
            printf("replay log   %" G_GUINT64_FORMAT " bytes uncompressed, %.3f bytes (zstd) "
                   "per 1000 instructions\n",
                   m->replay_log_uncompressed_size,
                   m->replay_log.size * 1000.0 / (double)m->icount_end);
        printf("checkpoints  %u (plus 'init' at icount 0)\n", m->checkpoints->len);
        for (guint i = 0; i <= m->checkpoints->len; i++) {
            const BundleCheckpoint *c =
                i ? &g_array_index(m->checkpoints, BundleCheckpoint, i - 1) : &m->init;
            printf("  %-10s icount %13" G_GUINT64_FORMAT "  %10.6f s  uart %-8" G_GUINT64_FORMAT
                   "  snapshot %.12s\n",
                   c->name, c->icount, c->virtual_ns / 1e9, c->uart_offset, c->snapshot);
        }
        g_autoptr(GPtrArray) faults =
            fault_list_parse(m->faults_json, strlen(m->faults_json), "faults", TRUE, NULL);
        printf("faults       %u%s\n", faults ? faults->len : 0,
               faults && faults->len ? " (in 'init': every replay has them)" : "");
        for (guint i = 0; faults && i < faults->len; i++) {
            const FaultSpec *f = faults->pdata[i];
            g_autofree char *d = fault_describe(f, i + 1);
            printf("  %s: %s", d, f->state ? f->state : "?");
            if (f->fired)
                printf(" at icount %" G_GUINT64_FORMAT, f->fired_icount);
            printf("\n");
        }
    }
    if (have_qemu)
        qemu_install_clear(&inst);
    if (!files_ok)
        return cli_error("info: %s is damaged: files of the bundle are missing or resized "
                         "(listed above); it cannot be replayed",
                         dir);
    return CLI_OK;
}
