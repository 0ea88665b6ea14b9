/* Store: byte-identical export, dedup of pages, zero pages free, checksums. */
#include "snap_store.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static void be(GByteArray *b, int n, guint64 v)
{
    for (int i = n - 1; i >= 0; i--) {
        guint8 c = (v >> (8 * i)) & 0xff;
        g_byte_array_append(b, &c, 1);
    }
}

static void str(GByteArray *b, const char *s)
{
    be(b, 1, strlen(s));
    g_byte_array_append(b, (const guint8 *)s, strlen(s));
}

/* Stream header, RAM START with one 1 MiB block BLOCK, then the header of
 * RAM END, whose records follow. */
static GByteArray *ram_stream_begin(const char *block)
{
    GByteArray *b = g_byte_array_new();
    be(b, 4, 0x5145564d);
    be(b, 4, 3);
    be(b, 1, 0x01);
    be(b, 4, 1);
    str(b, "ram");
    be(b, 4, 0);
    be(b, 4, 4);
    be(b, 8, 0x100000 | 0x4);
    str(b, block);
    be(b, 8, 0x100000);
    be(b, 8, 0x10);
    be(b, 1, 0x7e);
    be(b, 4, 1);
    be(b, 1, 0x03);
    be(b, 4, 1);
    return b;
}

/* RAM END's end marker and footer, then EOF. */
static void ram_stream_end(GByteArray *b)
{
    be(b, 8, 0x10);
    be(b, 1, 0x7e);
    be(b, 4, 1);
    be(b, 1, 0);
}

/* Header, RAM with NPAGES pages whose content is a function of fill+i, EOF. */
static GByteArray *stream(int npages, guint32 fill)
{
    GByteArray *b = ram_stream_begin("r");
    be(b, 8, 0x2);
    str(b, "r");
    be(b, 1, 0);
    guint8 page[4096];
    for (int i = 0; i < npages; i++) {
        memset(page, fill + i, sizeof page);
        for (int k = 0; k < 4; k++)
            page[k] = (fill + i) >> (8 * k);
        be(b, 8, (guint64)(i + 1) * 4096 | 0x8 | 0x20);
        g_byte_array_append(b, page, sizeof page);
    }
    ram_stream_end(b);
    return b;
}

static char *ingest(SnapStore *s, GByteArray *b, GError **e)
{
    SnapIngest *in = snap_store_ingest_begin(s, 3, e);
    for (gsize i = 0; i < b->len; i += 1000)
        if (!snap_ingest_feed(in, b->data + i, MIN(1000, b->len - i), e)) {
            snap_ingest_abort(in);
            return NULL;
        }
    return snap_ingest_commit(in, e);
}

static GByteArray *export(SnapStore *s, const char *id, GError **e)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    gboolean ok = snap_store_export(s, id, f, e);
    fclose(f);
    GByteArray *b = ok ? g_byte_array_new_take((guint8 *)buf, n) : NULL;
    if (!ok)
        free(buf);
    return b;
}

static void test_roundtrip_and_dedup(void)
{
    g_autofree char *dir = g_dir_make_tmp("snapstore-XXXXXX", NULL);
    GError *e = NULL;
    SnapStore *s = snap_store_open(dir, &e);
    g_assert_no_error(e);
    g_autoptr(GByteArray) a = stream(8, 1), b = stream(8, 2); /* b shares 7 pages with a */
    g_autofree char *ia = ingest(s, a, &e);
    g_assert_no_error(e);
    g_autofree char *ib = ingest(s, b, &e);
    g_assert_no_error(e);
    g_assert_cmpstr(ia, !=, ib);
    g_autoptr(GByteArray) xa = export(s, ia, &e), xb = export(s, ib, &e);
    g_assert_no_error(e);
    g_assert_cmpmem(xa->data, xa->len, a->data, a->len);
    g_assert_cmpmem(xb->data, xb->len, b->data, b->len);
    SnapStats st;
    g_assert_true(snap_store_stats(s, &st, &e));
    g_assert_cmpuint(st.unique_pages, ==, 9);
    g_assert_cmpuint(st.page_refs, ==, 16);
    g_assert_cmpuint(st.logical_bytes, ==, a->len + b->len);
    g_assert_cmpuint(st.stored_bytes, <, 8192);
    snap_store_close(s);

    /* reopen, flip one byte of the pack: export and verify must fail, naming the pack */
    s = snap_store_open(dir, &e);
    g_assert_no_error(e);
    g_autofree char *pd = g_build_filename(dir, "packs", NULL);
    GDir *d = g_dir_open(pd, 0, NULL);
    const char *n;
    char *pack = NULL;
    while ((n = g_dir_read_name(d)))
        if (g_str_has_suffix(n, ".pack")) {
            g_free(pack);
            pack = g_build_filename(pd, n, NULL);
        }
    g_dir_close(d);
    g_assert_nonnull(pack);
    gchar *c;
    gsize len;
    g_assert_true(g_file_get_contents(pack, &c, &len, NULL));
    c[len - 3] ^= 0x10;
    g_assert_true(g_file_set_contents(pack, c, len, NULL));
    g_free(c);
    g_autoptr(GByteArray) bad = export(s, ib, &e);
    g_assert_null(bad);
    g_assert_error(e, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT);
    g_assert_nonnull(strstr(e->message, "pack-"));
    g_clear_error(&e);
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(snap_store_verify(s, problems, &e));
    g_assert_cmpuint(problems->len, >=, 1);
    snap_store_close(s);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(pack);
}

/* A RAM block "blkx" of zero-run records (ITC QEMU patch 0027: header,
 * be32 npages, fill byte 0; the first one names the block and is as long as
 * two zero-page records), with zero-page records and a page between them. */
static GByteArray *zero_run_stream(guint32 run)
{
    GByteArray *b = ram_stream_begin("blkx");
    be(b, 8, 0x0 | 0x402); /* names the block: 8 + 1 + 4 + 5 bytes */
    str(b, "blkx");
    be(b, 4, 2);
    be(b, 1, 0);
    be(b, 8, 0x2000 | 0x22); /* two zero-page records */
    be(b, 1, 0);
    be(b, 8, 0x3000 | 0x22);
    be(b, 1, 0);
    guint8 page[4096];
    memset(page, 0x5a, sizeof page);
    be(b, 8, 0x4000 | 0x28);
    g_byte_array_append(b, page, sizeof page);
    be(b, 8, 0x5000 | 0x422);
    be(b, 4, run);
    be(b, 1, 0);
    ram_stream_end(b);
    return b;
}

/* Zero-run records are kept as they are: exports are byte-identical, the
 * pages in between are still stored once. */
static void test_zero_run_records(void)
{
    g_autofree char *dir = g_dir_make_tmp("snapstore-XXXXXX", NULL);
    GError *e = NULL;
    SnapStore *s = snap_store_open(dir, &e);
    g_assert_no_error(e);
    g_autoptr(GByteArray) a = zero_run_stream(0xfb), b = zero_run_stream(2);
    g_autofree char *ia = ingest(s, a, &e);
    g_assert_no_error(e);
    g_autofree char *ib = ingest(s, b, &e);
    g_assert_no_error(e);
    g_autoptr(GByteArray) xa = export(s, ia, &e), xb = export(s, ib, &e);
    g_assert_no_error(e);
    g_assert_cmpmem(xa->data, xa->len, a->data, a->len);
    g_assert_cmpmem(xb->data, xb->len, b->data, b->len);
    SnapStats st;
    g_assert_true(snap_store_stats(s, &st, &e));
    g_assert_cmpuint(st.unique_pages, ==, 1);
    snap_store_close(s);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(rm), ==, 0);
}

/* Deferred sync (a recording's store): the same snapshots, complete after
 * snap_store_sync() and a reopen; no temporary file left; a sync of a store
 * whose directory is gone fails naming it. */
static void test_deferred_sync(void)
{
    g_autofree char *dir = g_dir_make_tmp("snapstore-XXXXXX", NULL);
    GError *e = NULL;
    SnapStore *s = snap_store_open(dir, &e);
    g_assert_no_error(e);
    snap_store_defer_sync(s);
    GByteArray *streams[4];
    char *ids[4];
    for (int i = 0; i < 4; i++) {
        streams[i] = stream(6, 10 * i);
        ids[i] = ingest(s, streams[i], &e);
        g_assert_no_error(e);
    }
    g_assert_true(snap_store_sync(s, &e));
    g_assert_no_error(e);
    snap_store_close(s);

    s = snap_store_open(dir, &e);
    g_assert_no_error(e);
    for (int i = 0; i < 4; i++) {
        g_autoptr(GByteArray) x = export(s, ids[i], &e);
        g_assert_no_error(e);
        g_assert_cmpmem(x->data, x->len, streams[i]->data, streams[i]->len);
    }
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(snap_store_verify(s, problems, &e));
    g_assert_cmpuint(problems->len, ==, 0);
    g_autofree char *cmd = g_strdup_printf("find '%s' -name '*.tmp' | grep -q .", dir);
    g_assert_cmpint(system(cmd), !=, 0);

    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(rm), ==, 0);
    g_assert_false(snap_store_sync(s, &e));
    g_assert_error(e, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO);
    g_assert_nonnull(strstr(e->message, dir));
    g_clear_error(&e);
    snap_store_close(s);
    for (int i = 0; i < 4; i++) {
        g_byte_array_unref(streams[i]);
        g_free(ids[i]);
    }
}

static void test_rejects_bad_stream_without_snapshot(void)
{
    g_autofree char *dir = g_dir_make_tmp("snapstore-XXXXXX", NULL);
    GError *e = NULL;
    SnapStore *s = snap_store_open(dir, &e);
    g_autoptr(GByteArray) a = stream(2, 1);
    g_byte_array_set_size(a, a->len - 3);
    g_autofree char *id = ingest(s, a, &e);
    g_assert_null(id);
    g_assert_nonnull(e);
    g_clear_error(&e);
    GArray *l = snap_store_list(s, &e);
    g_assert_cmpuint(l->len, ==, 0);
    g_array_free(l, TRUE);
    snap_store_close(s);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

static const SnapInfo *info(GArray *l, const char *id)
{
    for (guint i = 0; i < l->len; i++)
        if (!strcmp(g_array_index(l, SnapInfo, i).id, id))
            return &g_array_index(l, SnapInfo, i);
    return NULL;
}

static char *manifest_path(const char *dir, const char *id)
{
    return g_strdup_printf("%s/snaps/%s.snap", dir, id);
}

static void exports_equal(SnapStore *s, const char *id, GByteArray *want)
{
    GError *e = NULL;
    g_autoptr(GByteArray) x = export(s, id, &e);
    g_assert_no_error(e);
    g_assert_cmpmem(x->data, x->len, want->data, want->len);
}

/* Rewrites the 8-byte magic at the start of PATH. */
static void set_magic(const char *path, const char *magic)
{
    gchar *d;
    gsize n;
    g_assert_true(g_file_get_contents(path, &d, &n, NULL));
    memcpy(d, magic, 8);
    g_assert_true(g_file_set_contents(path, d, n, NULL));
    g_free(d);
}

/* Manifests stored as deltas (snapshot n is a delta of snapshot n - 1 within
 * groups of 32): chain recorded, exports exact, damaged or missing parent
 * named, rm rewrites the children. Here a <- b0 <- b <- c; the tests break b. */
static void test_delta_manifests(void)
{
    g_autofree char *dir = g_dir_make_tmp("snapstore-XXXXXX", NULL);
    GError *e = NULL;
    SnapStore *s = snap_store_open(dir, &e);
    g_assert_no_error(e);
    g_autoptr(GByteArray) a = stream(64, 1), b0 = stream(64, 2), b = stream(64, 3),
                          c = stream(64, 4);
    g_autofree char *ia = ingest(s, a, &e);
    g_autofree char *ib0 = ingest(s, b0, &e);
    g_autofree char *ib = ingest(s, b, &e);
    g_autofree char *ic = ingest(s, c, &e);
    g_assert_no_error(e);
    GArray *l = snap_store_list(s, &e);
    g_assert_no_error(e);
    g_assert_cmpstr(info(l, ia)->parent, ==, "");
    g_assert_cmpstr(info(l, ib0)->parent, ==, ia);
    g_assert_cmpstr(info(l, ib)->parent, ==, ib0);
    g_assert_cmpstr(info(l, ic)->parent, ==, ib);
    g_assert_cmpuint(info(l, ic)->manifest_bytes, <, info(l, ia)->manifest_bytes);
    g_array_free(l, TRUE);
    snap_store_close(s);

    /* fresh process view: chains resolve from disk */
    s = snap_store_open(dir, &e);
    exports_equal(s, ia, a);
    exports_equal(s, ib0, b0);
    exports_equal(s, ib, b);
    exports_equal(s, ic, c);

    /* damaged parent: the child's export fails naming both; verify too */
    g_autofree char *pb = manifest_path(dir, ib);
    gchar *orig;
    gsize olen;
    g_assert_true(g_file_get_contents(pb, &orig, &olen, NULL));
    gchar *bad = g_memdup2(orig, olen);
    bad[olen / 2] ^= 0x08;
    g_assert_true(g_file_set_contents(pb, bad, olen, NULL));
    snap_store_close(s);
    s = snap_store_open(dir, &e);
    g_assert_null(export(s, ic, &e));
    g_assert_error(e, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT);
    g_assert_nonnull(strstr(e->message, ic));
    g_assert_nonnull(strstr(e->message, ib));
    g_clear_error(&e);
    exports_equal(s, ia, a);
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(snap_store_verify(s, problems, &e));
    g_assert_cmpuint(problems->len, ==, 2); /* b itself, and c through its parent */
    gboolean named = FALSE;
    for (guint i = 0; i < problems->len; i++)
        named |= strstr(problems->pdata[i], ic) && strstr(problems->pdata[i], ib);
    g_assert_true(named);
    /* rm of a damaged parent cannot rebuild the child: refused, nothing lost */
    g_assert_false(snap_store_remove(s, ib, &e));
    g_assert_nonnull(strstr(e->message, ic));
    g_clear_error(&e);
    g_assert_true(g_file_test(pb, G_FILE_TEST_EXISTS));

    /* missing parent */
    g_assert_cmpint(g_unlink(pb), ==, 0);
    snap_store_close(s);
    s = snap_store_open(dir, &e);
    g_assert_null(export(s, ic, &e));
    g_assert_error(e, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT);
    g_assert_nonnull(strstr(e->message, ic));
    g_assert_nonnull(strstr(e->message, ib));
    g_assert_nonnull(strstr(e->message, "missing"));
    g_clear_error(&e);

    /* restored parent: rm b rewrites c against b0, which keeps exporting */
    g_assert_true(g_file_set_contents(pb, orig, olen, NULL));
    snap_store_close(s);
    s = snap_store_open(dir, &e);
    g_assert_true(snap_store_remove(s, ib, &e));
    g_assert_no_error(e);
    exports_equal(s, ic, c);
    l = snap_store_list(s, &e);
    g_assert_cmpuint(l->len, ==, 3);
    g_assert_cmpstr(info(l, ic)->parent, ==, ib0);
    g_array_free(l, TRUE);
    guint64 freed;
    g_assert_true(snap_store_gc(s, &freed, &e));
    snap_store_close(s);

    /* rm of a parent without parent rewrites its children as full manifests */
    s = snap_store_open(dir, &e);
    g_assert_true(snap_store_remove(s, ia, &e));
    g_assert_no_error(e);
    exports_equal(s, ic, c);
    exports_equal(s, ib0, b0);
    g_autoptr(GPtrArray) p2 = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(snap_store_verify(s, p2, &e));
    g_assert_cmpuint(p2->len, ==, 0);
    snap_store_close(s);

    /* manifests of the old formats (pages by hash) are refused by name */
    g_autofree char *pc = manifest_path(dir, ic);
    set_magic(pc, "ITCSNAP2");
    s = snap_store_open(dir, &e);
    g_assert_null(export(s, ic, &e));
    g_assert_error(e, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT);
    g_assert_nonnull(strstr(e->message, "old manifest format"));
    g_assert_nonnull(strstr(e->message, ic));
    g_clear_error(&e);
    snap_store_close(s);
    g_free(orig);
    g_free(bad);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

static char *only_file(const char *dir, const char *suffix, gboolean newest)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    char *best = NULL;
    while ((n = g_dir_read_name(d)))
        if (g_str_has_suffix(n, suffix) && (!best || (strcmp(n, best) > 0) == newest)) {
            g_free(best);
            best = g_strdup(n);
        }
    g_dir_close(d);
    g_assert_nonnull(best);
    char *p = g_build_filename(dir, best, NULL);
    g_free(best);
    return p;
}

/* Pages are compressed in blocks: a damaged block is named by verify, the
 * snapshots using it fail to export, the others still export; packs of an
 * old format are refused when the store is opened. */
static void test_damaged_block(void)
{
    g_autofree char *dir = g_dir_make_tmp("snapstore-XXXXXX", NULL);
    GError *e = NULL;
    SnapStore *s = snap_store_open(dir, &e);
    g_autoptr(GByteArray) a = stream(200, 1), b = stream(200, 201); /* no page in common */
    g_autofree char *ia = ingest(s, a, &e);
    g_autofree char *ib = ingest(s, b, &e);
    g_assert_no_error(e);
    snap_store_close(s);
    g_autofree char *pd = g_build_filename(dir, "packs", NULL);
    g_autofree char *pack = only_file(pd, ".pack", TRUE); /* b's pack */
    gchar *c;
    gsize len;
    g_assert_true(g_file_get_contents(pack, &c, &len, NULL));
    c[8 + 16 + 20] ^= 0x01; /* inside the first block's frame */
    g_assert_true(g_file_set_contents(pack, c, len, NULL));
    g_free(c);
    s = snap_store_open(dir, &e);
    g_assert_no_error(e);
    g_assert_null(export(s, ib, &e));
    g_assert_error(e, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT);
    g_autofree char *base = g_path_get_basename(pack);
    g_assert_nonnull(strstr(e->message, base));
    g_assert_nonnull(strstr(e->message, "block 0"));
    g_clear_error(&e);
    exports_equal(s, ia, a);
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(snap_store_verify(s, problems, &e));
    g_assert_cmpuint(problems->len, ==, 2); /* the block, and snapshot b */
    gboolean block_named = FALSE, snap_named = FALSE;
    for (guint i = 0; i < problems->len; i++) {
        block_named |= strstr(problems->pdata[i], base) && strstr(problems->pdata[i], "block 0");
        snap_named |= strstr(problems->pdata[i], ib) != NULL;
    }
    g_assert_true(block_named && snap_named);
    snap_store_close(s);

    g_autofree char *idx = only_file(pd, ".idx", FALSE);
    set_magic(idx, "ITCIDX01");
    g_assert_null(snap_store_open(dir, &e));
    g_assert_error(e, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT);
    g_assert_nonnull(strstr(e->message, "old pack index format"));
    g_clear_error(&e);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

static guint count_files(const char *dir, const char *suffix)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    guint k = 0;
    while ((n = g_dir_read_name(d)))
        k += g_str_has_suffix(n, suffix);
    g_dir_close(d);
    return k;
}

/* gc drops the blocks no snapshot references: a pack with dead and live
 * blocks is rewritten as its next generation, whose pages still export, in
 * this process (ingest reuses them) and after reopening. */
static void test_gc_drops_dead_blocks(void)
{
    g_autofree char *dir = g_dir_make_tmp("snapstore-XXXXXX", NULL);
    g_autofree char *pd = g_build_filename(dir, "packs", NULL);
    GError *e = NULL;
    SnapStore *s = snap_store_open(dir, &e);
    g_autoptr(GByteArray) a = stream(300, 1);  /* blocks of 64 x 4 + 44 pages */
    g_autoptr(GByteArray) b = stream(44, 257); /* exactly the pages of a's last block */
    g_autofree char *ia = ingest(s, a, &e);
    g_autofree char *ib = ingest(s, b, &e);
    g_assert_no_error(e);
    g_assert_cmpuint(count_files(pd, ".pack"), ==, 1); /* b added no page */
    g_assert_true(snap_store_remove(s, ia, &e));
    guint64 freed = 0;
    g_assert_true(snap_store_gc(s, &freed, &e));
    g_assert_no_error(e);
    g_assert_cmpuint(freed, >, 256 * 16); /* at least the dead block's hashes */
    g_assert_cmpuint(count_files(pd, ".g1.pack"), ==, 1);
    g_assert_cmpuint(count_files(pd, ".pack"), ==, 1);
    exports_equal(s, ib, b);
    SnapStats st;
    g_assert_true(snap_store_stats(s, &st, &e));
    g_assert_cmpuint(st.unique_pages, ==, 44);
    /* the same process ingests a again: its first block's pages are new */
    g_free(ia);
    ia = ingest(s, a, &e);
    g_assert_no_error(e);
    exports_equal(s, ia, a);
    snap_store_close(s);
    s = snap_store_open(dir, &e);
    g_assert_no_error(e);
    exports_equal(s, ia, a);
    exports_equal(s, ib, b);
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(snap_store_verify(s, problems, &e));
    g_assert_cmpuint(problems->len, ==, 0);
    g_assert_true(snap_store_stats(s, &st, &e));
    g_assert_cmpuint(st.unique_pages, ==, 300);
    snap_store_close(s);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* A store filling with deferred sync keeps its list of manifests between
 * ingests instead of reading the directory: it must pick the same delta
 * parents as a store that reads it, across the skip-delta groups (every
 * 32nd), a stream ingested again and a removal. */
static void test_deferred_parents(void)
{
    GError *e = NULL;
    g_autofree char *dir_a = g_dir_make_tmp("snapstore-XXXXXX", NULL);
    g_autofree char *dir_b = g_dir_make_tmp("snapstore-XXXXXX", NULL);
    SnapStore *a = snap_store_open(dir_a, &e), *b = snap_store_open(dir_b, &e);
    g_assert_no_error(e);
    snap_store_defer_sync(b);
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < 70; i++) {
        g_autoptr(GByteArray) st = stream(4, i == 40 ? 7 : 3 * i); /* 40: 7 again */
        g_autofree char *ia = ingest(a, st, &e);
        g_assert_no_error(e);
        g_autofree char *ib = ingest(b, st, &e);
        g_assert_no_error(e);
        g_assert_cmpstr(ia, ==, ib);
        g_ptr_array_add(ids, g_strdup(ia));
        if (i == 50) { /* a removal in the middle of a chain */
            g_assert_true(snap_store_remove(a, ids->pdata[45], &e));
            g_assert_true(snap_store_remove(b, ids->pdata[45], &e));
            g_assert_no_error(e);
        }
    }
    g_assert_true(snap_store_sync(b, &e));
    GArray *la = snap_store_list(a, &e), *lb = snap_store_list(b, &e);
    g_assert_no_error(e);
    g_assert_cmpuint(la->len, ==, lb->len);
    guint deltas = 0;
    for (guint i = 0; i < la->len; i++) {
        const SnapInfo *x = &g_array_index(la, SnapInfo, i);
        const SnapInfo *y = info(lb, x->id);
        g_assert_nonnull(y);
        g_assert_cmpstr(x->parent, ==, y->parent);
        deltas += x->parent[0] != 0;
    }
    g_assert_cmpuint(deltas, >, 60);
    g_array_free(la, TRUE);
    g_array_free(lb, TRUE);
    for (guint i = 0; i < ids->len; i++) {
        if (i == 45)
            continue;
        g_autoptr(GByteArray) st = stream(4, i == 40 ? 7 : 3 * i);
        exports_equal(b, ids->pdata[i], st);
    }
    snap_store_close(a);
    snap_store_close(b);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s' '%s'", dir_a, dir_b);
    g_assert_cmpint(system(rm), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/snap_store/roundtrip_and_dedup", test_roundtrip_and_dedup);
    g_test_add_func("/snap_store/rejects_bad_stream", test_rejects_bad_stream_without_snapshot);
    g_test_add_func("/snap_store/deferred_sync", test_deferred_sync);
    g_test_add_func("/snap_store/zero_run_records", test_zero_run_records);
    g_test_add_func("/snap_store/delta_manifests", test_delta_manifests);
    g_test_add_func("/snap_store/deferred_parents", test_deferred_parents);
    g_test_add_func("/snap_store/damaged_block", test_damaged_block);
    g_test_add_func("/snap_store/gc_drops_dead_blocks", test_gc_drops_dead_blocks);
    return g_test_run();
}
