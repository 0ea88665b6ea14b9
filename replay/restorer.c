#include "restorer.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

static gboolean bad_at(GError **error, const char *at, const char *why)
{
    g_set_error(error, REPLAYER_ERROR, REPLAYER_ERROR_BAD_INPUT, "--at '%s': %s", at, why);
    return FALSE;
}

gboolean restore_prepare(ReplayBundle *b, const char *at, RestorePoint *pt, GError **error)
{
    memset(pt, 0, sizeof(*pt));
    const BundleManifest *m = b->m;
    if (!strcmp(at, "init")) {
        pt->snapshot = g_strdup("init");
        pt->from = g_strdup("init");
        return TRUE;
    }
    if (g_str_has_prefix(at, "ckpt-")) {
        const BundleCheckpoint *ck = bundle_find_checkpoint(m, at);
        if (!ck) {
            g_autofree char *why = g_strdup_printf(
                "no such checkpoint (the bundle has %u: ckpt-0001..ckpt-%04u; itc info lists "
                "them)",
                m->checkpoints->len, m->checkpoints->len);
            return bad_at(error, at, why);
        }
        pt->snapshot = g_strdup(ck->name);
        pt->from = g_strdup(ck->name);
        pt->icount = ck->icount;
        pt->uart_offset = ck->uart_offset;
        return TRUE;
    }
    guint64 k;
    if (!bundle_parse_count(at, &k))
        return bad_at(error, at,
                      "expected 'init', a checkpoint name (ckpt-NNNN) or an "
                      "instruction count");
    if (k > m->icount_end) {
        g_autofree char *why = g_strdup_printf(
            "icount %" G_GUINT64_FORMAT " is past the end of the recording (%" G_GUINT64_FORMAT ")",
            k, m->icount_end);
        return bad_at(error, at, why);
    }
    const BundleCheckpoint *ck = bundle_checkpoint_before(m, k);
    pt->from = g_strdup(ck ? ck->name : "init");
    pt->icount = k;
    guint64 base_uart = ck ? ck->uart_offset : 0;
    if (ck && ck->icount == k) {
        pt->snapshot = g_strdup(ck->name);
        pt->uart_offset = base_uart;
        return TRUE;
    }
    gint64 t0 = g_get_monotonic_time();
    g_autofree char *uart = g_build_filename(b->workdir, "prepare.uart", NULL);
    QemuRun *r = replay_bundle_start(b, "prepare", pt->from, uart, error);
    if (!r)
        return FALSE;
    pt->snapshot = g_strdup_printf("itc-at-%" G_GUINT64_FORMAT, k);
    g_autofree char *cmd = g_strdup_printf("savevm %s", pt->snapshot);
    g_autofree char *out = NULL;
    gboolean ok = replay_run_to(r, k, replay_timeout_ms(k - (ck ? ck->icount : 0)), error) &&
                  qmp_client_hmp(r->qmp, cmd, &out, 120000, error);
    if (ok && out && *g_strstrip(out)) {
        g_set_error(error, REPLAYER_ERROR, REPLAYER_ERROR_DIVERGED, "%s: %s", cmd, out);
        ok = FALSE;
    }
    qemu_run_quit(r);
    struct stat st;
    pt->uart_offset = base_uart + (g_stat(uart, &st) == 0 ? (guint64)st.st_size : 0);
    pt->prepare_seconds = (g_get_monotonic_time() - t0) / 1e6;
    if (!ok)
        restore_point_clear(pt);
    return ok;
}

void restore_point_clear(RestorePoint *pt)
{
    g_clear_pointer(&pt->snapshot, g_free);
    g_clear_pointer(&pt->from, g_free);
}

QemuRun *restore_start(ReplayBundle *b, const RestorePoint *pt, const char *uart_out,
                       QemuStdin stdin_mode, gboolean paused, gboolean recorded_input,
                       RestoreEndpoints *ep, GError **error)
{
    memset(ep, 0, sizeof(*ep));
    g_autofree char *feed = NULL;
    if (recorded_input) {
        if (!b->m->has_uart_rx) {
            g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT,
                        "%s has no uart-rx.log: its input cannot be fed again", b->bundle_dir);
            return NULL;
        }
        g_autofree char *p = g_build_filename(b->bundle_dir, b->m->uart_rx.file, NULL);
        feed = g_canonicalize_filename(p, NULL);
    }
    /* a bundle checkpoint is imported (once); itc-at-K, saved by
     * restore_prepare(), is already in the qcow2 and no bundle name */
    const char *const names[] = {pt->snapshot, NULL};
    if (!replay_bundle_rehydrate(b, names, error))
        return NULL;
    ep->qmp = g_build_filename(b->workdir, "qmp.sock", NULL);
    ep->hmp = g_build_filename(b->workdir, "hmp.sock", NULL);
    ep->gdb = g_build_filename(b->workdir, "gdb.sock", NULL);
    g_autofree char *log = g_build_filename(b->workdir, "live.rr", NULL);
    g_autofree char *user_qmp = g_strdup_printf("unix:%s,server=on,wait=off", ep->qmp);
    g_autoptr(GPtrArray) extra = g_ptr_array_new();
    for (char **e = b->m->extra_args; e && *e; e++)
        g_ptr_array_add(extra, *e);
    g_ptr_array_add(extra, "-qmp");
    g_ptr_array_add(extra, user_qmp);
    g_ptr_array_add(extra, NULL);
    QemuArgs a = {
        .qemu = b->inst->qemu,
        .smp = 1,
        .icount_shift = b->m->icount_shift,
        .rr_mode = "record",
        .rrfile = log,
        .drive = b->qcow2_path,
        .kernel = b->fsw_path,
        .loadvm = pt->snapshot,
        .hmp_socket = ep->hmp,
        .gdb_socket = ep->gdb,
        .start_paused = paused,
        .uart_rx_feed = feed,
        .extra = (const char *const *)extra->pdata,
    };
    QemuRun *r = qemu_run_start(&a, b->workdir, "live", stdin_mode, uart_out, error);
    if (!r) {
        restore_endpoints_clear(ep);
        return NULL;
    }
    return r;
}

void restore_endpoints_clear(RestoreEndpoints *ep)
{
    g_clear_pointer(&ep->qmp, g_free);
    g_clear_pointer(&ep->hmp, g_free);
    g_clear_pointer(&ep->gdb, g_free);
}
