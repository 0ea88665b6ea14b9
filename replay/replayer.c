#include "replayer.h"

#include "faults.h"
#include "snap_store.h"
#include "snap_stream.h"
#include "snap_symbols.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

G_DEFINE_QUARK(replayer - error - quark, replayer_error)

ReplayBundle *replay_bundle_open(const char *bundle_dir, const QemuInstall *inst, GError **error)
{
    g_autoptr(BundleManifest) m = bundle_manifest_load(bundle_dir, error);
    if (!m)
        return NULL;
    if (strcmp(m->qemu_version, inst->version)) {
        g_set_error(error, REPLAYER_ERROR, REPLAYER_ERROR_INCOMPATIBLE,
                    "%s was recorded with QEMU %s, but the QEMU found is %s (%s): a replay log "
                    "only replays on the QEMU build that recorded it",
                    bundle_dir, m->qemu_version, inst->version, inst->qemu);
        return NULL;
    }
    const BundleFile *files[] = {&m->fsw, &m->replay_log, &m->uart};
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++)
        if (!bundle_file_verify(files[i], bundle_dir, error))
            return NULL;
    if (m->has_uart_rx && !bundle_file_verify(&m->uart_rx, bundle_dir, error))
        return NULL;
    g_autofree char *store = g_build_filename(bundle_dir, m->checkpoint_store, NULL);
    if (!g_file_test(store, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT,
                    "%s: the checkpoint store is missing (damaged bundle)", store);
        return NULL;
    }
    char *wd = qemu_rundir_new("itc-replay-", error);
    if (!wd)
        return NULL;
    ReplayBundle *b = g_new0(ReplayBundle, 1);
    b->bundle_dir = g_strdup(bundle_dir);
    b->inst = inst;
    b->workdir = wd;
    b->m = g_steal_pointer(&m);
    b->log_path = g_build_filename(wd, "replay.bin", NULL);
    b->qcow2_path = g_build_filename(wd, "checkpoints.qcow2", NULL);
    b->store_path = g_steal_pointer(&store);
    b->imported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *abs = g_canonicalize_filename(bundle_dir, NULL);
    b->fsw_path = g_build_filename(abs, b->m->fsw.file, NULL);
    g_autofree char *zst = g_build_filename(bundle_dir, b->m->replay_log.file, NULL);
    guint64 n = 0;
    if (!bundle_zstd_decompress(zst, b->log_path, b->m->replay_log_uncompressed_size, &n, error) ||
        !qemu_img_create(inst, b->qcow2_path, error)) {
        replay_bundle_close(b);
        return NULL;
    }
    if (n != b->m->replay_log_uncompressed_size) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT,
                    "%s: replay log decompresses to %" G_GUINT64_FORMAT
                    " bytes, the manifest says %" G_GUINT64_FORMAT,
                    zst, n, b->m->replay_log_uncompressed_size);
        replay_bundle_close(b);
        return NULL;
    }
    return b;
}

void replay_bundle_close(ReplayBundle *b)
{
    if (!b)
        return;
    qemu_rundir_remove(b->workdir);
    g_free(b->workdir);
    g_free(b->bundle_dir);
    bundle_manifest_free(b->m);
    g_free(b->log_path);
    g_free(b->qcow2_path);
    g_free(b->store_path);
    if (b->imported)
        g_hash_table_destroy(b->imported);
    g_free(b->fsw_path);
    g_free(b);
}

int replay_timeout_ms(guint64 instructions)
{
    /* 10^7 instructions per second is far below any replay speed seen */
    guint64 ms = 120000 + instructions / 10000;
    return (int)MIN(ms, (guint64)G_MAXINT);
}

/* The QemuArgs of a paused replay of LOG_PATH from SNAPSHOT (the strings
 * are borrowed). */
static QemuArgs replay_args(const QemuInstall *inst, const char *log_path, const char *qcow2_path,
                            const char *fsw_path, int icount_shift, char **extra,
                            const char *snapshot)
{
    return (QemuArgs){
        .qemu = inst->qemu,
        .smp = 1,
        .icount_shift = icount_shift,
        .rr_mode = "replay",
        .rrfile = log_path,
        .rrsnapshot = snapshot,
        .drive = qcow2_path,
        .kernel = fsw_path,
        .start_paused = TRUE,
        .extra = (const char *const *)extra,
    };
}

QemuRun *replay_start(const QemuInstall *inst, const char *workdir, const char *name,
                      const char *log_path, const char *qcow2_path, const char *fsw_path,
                      int icount_shift, char **extra, const char *snapshot, const char *uart_path,
                      GError **error)
{
    QemuArgs a = replay_args(inst, log_path, qcow2_path, fsw_path, icount_shift, extra, snapshot);
    return qemu_run_start(&a, workdir, name, QEMU_STDIN_NULL, uart_path, error);
}

QemuArgs replay_bundle_args(const ReplayBundle *b, const char *snapshot)
{
    return replay_args(b->inst, b->log_path, b->qcow2_path, b->fsw_path, b->m->icount_shift,
                       b->m->extra_args, snapshot);
}

/* The bundle checkpoint called NAME ("init" or ckpt-NNNN), or NULL. */
static const BundleCheckpoint *bundle_checkpoint_named(const BundleManifest *m, const char *name)
{
    return !strcmp(name, "init") ? &m->init : bundle_find_checkpoint(m, name);
}

/* Writes checkpoint CK's stream from the store S to F; a damaged store is
 * BUNDLE_ERROR_CORRUPT naming the checkpoint, its snapshot and the store. */
static gboolean export_checkpoint(ReplayBundle *b, SnapStore *s, const BundleCheckpoint *ck,
                                  FILE *f, GError **error)
{
    GError *e = NULL;
    if (snap_store_export(s, ck->snapshot, f, &e))
        return TRUE;
    g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT, "checkpoint %s (snapshot %s in %s): %s",
                ck->name, ck->snapshot, b->store_path, e->message);
    g_error_free(e);
    return FALSE;
}

/* Exports checkpoint CK from the store to SCRATCH and has QEMU import it as
 * an internal snapshot. */
static gboolean import_checkpoint(ReplayBundle *b, SnapStore *s, QmpClient *q,
                                  const BundleCheckpoint *ck, const char *scratch, GError **error)
{
    FILE *f = fopen(scratch, "wbe");
    if (!f) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_IO, "%s: %s", scratch, g_strerror(errno));
        return FALSE;
    }
    gboolean ok = export_checkpoint(b, s, ck, f, error);
    if (fclose(f) != 0 && ok) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_IO, "%s: %s", scratch, g_strerror(errno));
        return FALSE;
    }
    if (!ok)
        return FALSE;
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "name", ck->name);
    json_object_set_string_member(args, "path", scratch);
    json_object_set_int_member(args, "icount", (gint64)ck->icount);
    json_object_set_int_member(args, "vm-clock-ns", (gint64)ck->virtual_ns);
    if (!qmp_client_call(q, "itc-snapshot-import", args, NULL, 120000, error)) {
        g_prefix_error(error, "importing checkpoint %s: ", ck->name);
        return FALSE;
    }
    return TRUE;
}

gboolean replay_bundle_rehydrate(ReplayBundle *b, const char *const *names, GError **error)
{
    g_autoptr(GPtrArray) todo = g_ptr_array_new();
    const BundleManifest *m = b->m;
    if (!g_hash_table_contains(b->imported, "init"))
        g_ptr_array_add(todo, (gpointer)&m->init);
    for (guint i = 0; names ? names[i] != NULL : i < m->checkpoints->len; i++) {
        const BundleCheckpoint *ck = names ? bundle_checkpoint_named(m, names[i])
                                           : &g_array_index(m->checkpoints, BundleCheckpoint, i);
        if (ck && ck != &m->init && !g_hash_table_contains(b->imported, ck->name))
            g_ptr_array_add(todo, (gpointer)ck);
    }
    if (!todo->len)
        return TRUE;
    SnapStore *s = snap_store_open(b->store_path, error);
    if (!s) {
        g_prefix_error(error, "checkpoint store of %s: ", b->bundle_dir);
        return FALSE;
    }
    /* A short-lived, paused, non-replaying QEMU with the work qcow2 does the
     * imports: a replay QEMU needs "init" before it starts. */
    QemuArgs a = {
        .qemu = b->inst->qemu,
        .smp = 1,
        .icount_shift = m->icount_shift,
        .drive = b->qcow2_path,
        .kernel = b->fsw_path,
        .start_paused = TRUE,
    };
    QemuRun *r = qemu_run_start(&a, b->workdir, "rehydrate", QEMU_STDIN_NULL, NULL, error);
    gboolean ok = r != NULL;
    g_autofree char *scratch = g_build_filename(b->workdir, "checkpoint.stream", NULL);
    for (guint i = 0; ok && i < todo->len; i++) {
        const BundleCheckpoint *ck = todo->pdata[i];
        ok = import_checkpoint(b, s, r->qmp, ck, scratch, error);
        if (ok)
            g_hash_table_add(b->imported, g_strdup(ck->name));
    }
    g_unlink(scratch);
    if (r)
        qemu_run_quit(r);
    snap_store_close(s);
    return ok;
}

QemuRun *replay_bundle_start(ReplayBundle *b, const char *name, const char *snapshot,
                             const char *uart_path, GError **error)
{
    const char *const names[] = {snapshot, NULL};
    if (!replay_bundle_rehydrate(b, names, error))
        return NULL;
    QemuArgs a = replay_bundle_args(b, snapshot);
    return qemu_run_start(&a, b->workdir, name, QEMU_STDIN_NULL, uart_path, error);
}

gboolean replay_read_clock(QemuRun *r, guint64 *icount, guint64 *virtual_ns, GError **error)
{
    gint64 ic = 0, ns = 0;
    if (icount && !qmp_client_call_int(r->qmp, "itc-icount", "icount", &ic, 10000, error))
        return FALSE;
    if (virtual_ns && !qmp_client_call_int(r->qmp, "itc-sim-time", "time_ns", &ns, 10000, error))
        return FALSE;
    if (icount)
        *icount = (guint64)ic;
    if (virtual_ns)
        *virtual_ns = (guint64)ns;
    return TRUE;
}

gboolean replay_run_to(QemuRun *r, guint64 icount, int timeout_ms, GError **error)
{
    guint64 now;
    if (!replay_read_clock(r, &now, NULL, error))
        return FALSE;
    if (now == icount)
        return TRUE;
    if (now > icount) {
        g_set_error(error, REPLAYER_ERROR, REPLAYER_ERROR_BAD_INPUT,
                    "replay is at icount %" G_GUINT64_FORMAT ", past the target %" G_GUINT64_FORMAT,
                    now, icount);
        return FALSE;
    }
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_int_member(args, "icount", (gint64)icount);
    if (!qmp_client_call(r->qmp, "replay-break", args, NULL, 10000, error) ||
        !qmp_client_call(r->qmp, "cont", NULL, NULL, 10000, error))
        return FALSE;
    g_autofree char *st = NULL;
    if (!qemu_run_wait_stopped(r, timeout_ms, &st, error)) {
        g_prefix_error(error, "replaying to icount %" G_GUINT64_FORMAT ": ", icount);
        return FALSE;
    }
    if (!replay_read_clock(r, &now, NULL, error))
        return FALSE;
    if (now != icount && !strcmp(st, "shutdown")) {
        /* callers aim within the recording: it got further than this */
        g_set_error(error, REPLAYER_ERROR, REPLAYER_ERROR_DIVERGED,
                    "the replay shut down at icount %" G_GUINT64_FORMAT
                    ", before icount %" G_GUINT64_FORMAT
                    ", which the recording reached: it diverged",
                    now, icount);
        return FALSE;
    }
    if (now != icount) {
        g_set_error(error, REPLAYER_ERROR, REPLAYER_ERROR_BAD_INPUT,
                    "replay stopped (%s) at icount %" G_GUINT64_FORMAT
                    " instead of %" G_GUINT64_FORMAT,
                    st, now, icount);
        return FALSE;
    }
    return TRUE;
}

gboolean replay_run_to_end(QemuRun *r, int timeout_ms, GError **error)
{
    g_autofree char *st = qemu_run_status(r, error);
    if (!st)
        return FALSE;
    if (strcmp(st, "shutdown")) {
        if (!qmp_client_call(r->qmp, "replay-delete-break", NULL, NULL, 10000, error) ||
            !qmp_client_call(r->qmp, "cont", NULL, NULL, 10000, error))
            return FALSE;
        g_clear_pointer(&st, g_free);
        if (!qemu_run_wait_stopped(r, timeout_ms, &st, error)) {
            g_prefix_error(error, "replaying to the end: ");
            return FALSE;
        }
    }
    if (strcmp(st, "shutdown")) {
        g_set_error(error, REPLAYER_ERROR, REPLAYER_ERROR_DIVERGED,
                    "replay stopped in state '%s' before the end of the recording", st);
        return FALSE;
    }
    return TRUE;
}

gint64 replay_first_difference(const char *path_a, const char *path_b, GError **error)
{
    g_autofree char *a = NULL, *b = NULL;
    gsize la = 0, lb = 0;
    if (!g_file_get_contents(path_a, &a, &la, error) ||
        !g_file_get_contents(path_b, &b, &lb, error))
        return -2;
    gsize n = MIN(la, lb), i = 0;
    while (i < n && a[i] == b[i])
        i++;
    if (i == n && la == lb)
        return -1;
    return (gint64)i;
}

void replay_verdict_clear(ReplayVerdict *v)
{
    g_clear_pointer(&v->ram_block, g_free);
    g_clear_pointer(&v->ram_symbol, g_free);
    g_clear_pointer(&v->digest, g_free);
    g_clear_pointer(&v->fault_difference, g_free);
}

/* NULL if the replayed faults match the recorded ones (REC, the manifest's;
 * NULL if they did not parse), else what differs. */
static char *compare_faults(GPtrArray *rec, GPtrArray *replayed)
{
    if (!rec)
        return g_strdup("the manifest's faults do not parse");
    if (rec->len != replayed->len)
        return g_strdup_printf("%u faults in the recording, %u in the replay", rec->len,
                               replayed->len);
    for (guint i = 0; i < rec->len; i++) {
        const FaultSpec *a = rec->pdata[i], *b = replayed->pdata[i];
        if (g_strcmp0(a->state, b->state) || a->fired != b->fired ||
            a->fired_icount != b->fired_icount) {
            g_autofree char *d = fault_describe(a, i + 1);
            return g_strdup_printf(
                "%s: %s at icount %" G_GUINT64_FORMAT
                " in the recording, %s at icount %" G_GUINT64_FORMAT " in the replay",
                d, a->state ? a->state : "?", a->fired_icount, b->state, b->fired_icount);
        }
    }
    return NULL;
}

/* ---- guest RAM of a snapshot, page by page ------------------------------ */

#define PAGE_UNSET G_MAXUINT64    /* the stream has no record for the page */
#define SDRAM_BLOCK "gr740.sdram" /* at guest address 0 */

/* RAM block name -> GArray of guint64, one per page: 0 for a zero page, else
 * the XXH3-64 of its bytes with the low bit set; PAGE_UNSET: not in the
 * stream. */
typedef GHashTable RamPages;

static gboolean all_zero(const guint8 *d, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (d[i])
            return FALSE;
    return TRUE;
}

static gboolean on_ram_record(const SnapRecord *r, gpointer user, GError **error)
{
    RamPages *pages = user;
    if ((r->kind != SNAP_REC_RAM_PAGE && r->kind != SNAP_REC_RAM_ZERO) || !r->name)
        return TRUE;
    GArray *a = g_hash_table_lookup(pages, r->name);
    if (!a) {
        a = g_array_new(FALSE, FALSE, sizeof(guint64));
        g_hash_table_insert(pages, g_strdup(r->name), a);
    }
    guint64 first = r->addr / SNAP_PAGE_SIZE, end = first + r->npages;
    if (end > (1u << 20)) /* past 4 GiB: not a gr740's RAM */
        return TRUE;
    for (guint64 i = a->len; i < end; i++) {
        guint64 unset = PAGE_UNSET;
        g_array_append_val(a, unset);
    }
    guint64 h = 0;
    if (r->kind == SNAP_REC_RAM_PAGE) {
        if (!all_zero(r->data, SNAP_PAGE_SIZE))
            h = XXH3_64bits(r->data, SNAP_PAGE_SIZE) | 1;
    } else if (r->raw[r->raw_len - 1]) { /* a zero record's fill byte */
        guint8 page[SNAP_PAGE_SIZE];
        memset(page, r->raw[r->raw_len - 1], sizeof page);
        h = XXH3_64bits(page, sizeof page) | 1;
    }
    for (guint64 i = first; i < end; i++)
        g_array_index(a, guint64, i) = h;
    return TRUE;
}

static RamPages *ram_pages_parse(const guint8 *d, gsize n, GError **error)
{
    RamPages *pages =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    SnapStreamParser *p = snap_stream_parser_new(on_ram_record, pages);
    gboolean ok = snap_stream_parser_feed(p, d, n, error) && snap_stream_parser_finish(p, error);
    snap_stream_parser_free(p);
    if (!ok)
        g_clear_pointer(&pages, g_hash_table_unref);
    return pages;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* How many pages differ between A and B; the first (blocks by name, then
 * by offset) in *BLOCK / *OFFSET. */
static guint64 ram_pages_diff(RamPages *a, RamPages *b, char **block, guint64 *offset)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    RamPages *both[] = {a, b};
    for (int s = 0; s < 2; s++) {
        g_hash_table_iter_init(&it, both[s]);
        while (g_hash_table_iter_next(&it, &k, NULL))
            if (s == 0 || !g_hash_table_contains(a, k))
                g_ptr_array_add(names, k);
    }
    g_ptr_array_sort(names, by_name);
    guint64 n = 0;
    for (guint i = 0; i < names->len; i++) {
        GArray *x = g_hash_table_lookup(a, names->pdata[i]);
        GArray *y = g_hash_table_lookup(b, names->pdata[i]);
        guint len = MAX(x ? x->len : 0, y ? y->len : 0);
        for (guint p = 0; p < len; p++) {
            guint64 u = x && p < x->len ? g_array_index(x, guint64, p) : PAGE_UNSET;
            guint64 w = y && p < y->len ? g_array_index(y, guint64, p) : PAGE_UNSET;
            if (u == w)
                continue;
            if (!n++) {
                *block = g_strdup(names->pdata[i]);
                *offset = (guint64)p * SNAP_PAGE_SIZE;
            }
        }
    }
    return n;
}

/* Did one of FAULTS (the manifest's; NULL: none parsed) fire at ICOUNT? */
static gboolean fault_fired_at(GPtrArray *faults, guint64 icount)
{
    for (guint i = 0; faults && i < faults->len; i++) {
        const FaultSpec *f = faults->pdata[i];
        if (f->fired && f->fired_icount == icount)
            return TRUE;
    }
    return FALSE;
}

/* The recording's RAM at checkpoint CK (from the store S) against the
 * replay's (R paused there): sets V's state fields at the first difference.
 * FALSE on errors only (a damaged checkpoint, QEMU trouble). */
static gboolean compare_checkpoint_ram(ReplayBundle *b, SnapStore *s, QemuRun *r,
                                       const BundleCheckpoint *ck, guint index, ReplayVerdict *v,
                                       GError **error)
{
    g_autofree char *path = g_build_filename(b->workdir, "state.stream", NULL);
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "path", path);
    if (!qmp_client_call(r->qmp, "itc-snapshot-save", args, NULL, 120000, error)) {
        g_prefix_error(error, "saving the replay's state at %s: ", ck->name);
        return FALSE;
    }
    g_autofree guint8 *mine = NULL;
    gsize mine_len = 0;
    gboolean ok = g_file_get_contents(path, (char **)&mine, &mine_len, error);
    g_unlink(path);
    if (!ok)
        return FALSE;
    char *rec = NULL;
    size_t rec_len = 0;
    FILE *f = open_memstream(&rec, &rec_len);
    if (!f) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_IO, "exporting %s: %s", ck->name,
                    g_strerror(errno));
        return FALSE;
    }
    ok = export_checkpoint(b, s, ck, f, error);
    fclose(f);
    if (!ok) {
        free(rec);
        return FALSE;
    }
    RamPages *want = ram_pages_parse((const guint8 *)rec, rec_len, error);
    free(rec);
    if (!want) {
        g_prefix_error(error, "checkpoint %s: ", ck->name);
        return FALSE;
    }
    RamPages *got = ram_pages_parse(mine, mine_len, error);
    if (!got) {
        g_prefix_error(error, "the replay's state at %s: ", ck->name);
        g_hash_table_unref(want);
        return FALSE;
    }
    char *block = NULL;
    guint64 offset = 0, n = ram_pages_diff(want, got, &block, &offset);
    g_hash_table_unref(want);
    g_hash_table_unref(got);
    if (n) {
        v->first_ram_checkpoint = (int)index;
        v->ram_pages_different = n;
        v->ram_block = block;
        v->ram_offset = offset;
        g_autoptr(GPtrArray) syms =
            strcmp(block, SDRAM_BLOCK) ? NULL : snap_symbols_load(b->fsw_path, NULL);
        const SnapSymbol *sym = syms ? snap_symbols_find(syms, offset) : NULL;
        /* the symbol, or the first one in the page */
        for (guint i = 0; !sym && syms && i < syms->len; i++) {
            const SnapSymbol *c = syms->pdata[i];
            if (c->addr >= offset && c->addr < offset + SNAP_PAGE_SIZE)
                sym = c;
        }
        if (sym)
            v->ram_symbol = g_strdup(sym->name);
    }
    return TRUE;
}

gboolean replay_bundle_verify(ReplayBundle *b, ReplayVerdict *v, GError **error)
{
    memset(v, 0, sizeof(*v));
    gint64 t0 = g_get_monotonic_time();
    g_autofree char *uart = g_build_filename(b->workdir, "replay.uart", NULL);
    QemuRun *r = replay_bundle_start(b, "replay", "init", uart, error);
    if (!r)
        return FALSE;
    v->first_bad_checkpoint = -1;
    v->first_ram_checkpoint = -1;
    g_autoptr(GPtrArray) recorded_faults = fault_list_parse(
        b->m->faults_json, strlen(b->m->faults_json), "the manifest's faults", TRUE, NULL);
    SnapStore *store = b->m->checkpoints->len ? snap_store_open(b->store_path, error) : NULL;
    gboolean ok = !b->m->checkpoints->len || store;
    for (guint i = 0; ok && i < b->m->checkpoints->len; i++) {
        const BundleCheckpoint *ck = &g_array_index(b->m->checkpoints, BundleCheckpoint, i);
        guint64 prev = i ? g_array_index(b->m->checkpoints, BundleCheckpoint, i - 1).icount : 0;
        ok = replay_run_to(r, ck->icount, replay_timeout_ms(ck->icount - prev), error);
        struct stat st;
        guint64 n = ok && g_stat(uart, &st) == 0 ? (guint64)st.st_size : 0;
        /* A checkpoint taken during the recording (not --verify) was saved
         * after a QMP stop, and timers due at that very instant may have run
         * before it (the UART then has sent one more byte: one transmitter
         * timer); a replay break stops before them.  That one byte is not a
         * divergence: the whole UART output, the end and the digest are
         * still compared exactly. */
        guint64 slack = b->m->verified ? 0 : 1;
        gboolean same =
            n == ck->uart_offset || (n < ck->uart_offset && ck->uart_offset - n <= slack);
        if (ok && !same && v->first_bad_checkpoint < 0) {
            v->first_bad_checkpoint = (int)i;
            v->bad_checkpoint_uart = n;
        }
        /* the guest's RAM too, up to the first checkpoint where it differs;
         * not where a recorded fault fired at the checkpoint's very
         * instant in a recording-time checkpoint (its timer may have
         * written RAM before the save, see slack above) */
        if (ok && v->first_ram_checkpoint < 0 &&
            !(slack && fault_fired_at(recorded_faults, ck->icount)))
            ok = compare_checkpoint_ram(b, store, r, ck, i, v, error);
    }
    if (store)
        snap_store_close(store);
    ok = ok && replay_run_to_end(r, replay_timeout_ms(b->m->icount_end), error) &&
         replay_read_clock(r, &v->icount_end, NULL, error) &&
         (v->digest = qemu_state_digest(r->qmp, error)) != NULL;
    g_autoptr(GPtrArray) faults = ok ? fault_query(r->qmp, error) : NULL;
    ok = ok && faults;
    qemu_run_quit(r);
    if (!ok)
        return FALSE;
    g_autofree char *rec = g_build_filename(b->bundle_dir, b->m->uart.file, NULL);
    gint64 d = replay_first_difference(uart, rec, error);
    if (d == -2)
        return FALSE;
    struct stat st;
    v->uart_bytes = g_stat(uart, &st) == 0 ? (guint64)st.st_size : 0;
    v->uart_equal = d == -1;
    v->uart_first_difference = d < 0 ? 0 : (guint64)d;
    v->icount_equal = v->icount_end == b->m->icount_end;
    v->digest_equal = !strcmp(v->digest, b->m->final_digest);
    v->fault_difference = compare_faults(recorded_faults, faults);
    v->seconds = (g_get_monotonic_time() - t0) / 1e6;
    return TRUE;
}
