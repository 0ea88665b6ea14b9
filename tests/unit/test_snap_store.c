/* Store: byte-identical export, dedup of pages, zero pages free, checksums. */
#include "snap_store.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Header, RAM with NPAGES pages filled with fill+i, one zero page, EOF. */
static GByteArray *stream(int npages, guint8 fill)
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
    str(b, "r");
    be(b, 8, 0x100000);
    be(b, 8, 0x10);
    be(b, 1, 0x7e);
    be(b, 4, 1);
    be(b, 1, 0x03);
    be(b, 4, 1);
    be(b, 8, 0x2);
    str(b, "r");
    be(b, 1, 0);
    guint8 page[4096];
    for (int i = 0; i < npages; i++) {
        memset(page, fill + i, sizeof page);
        be(b, 8, (guint64)(i + 1) * 4096 | 0x8 | 0x20);
        g_byte_array_append(b, page, sizeof page);
    }
    be(b, 8, 0x10);
    be(b, 1, 0x7e);
    be(b, 4, 1);
    be(b, 1, 0);
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/snap_store/roundtrip_and_dedup", test_roundtrip_and_dedup);
    g_test_add_func("/snap_store/rejects_bad_stream", test_rejects_bad_stream_without_snapshot);
    return g_test_run();
}
