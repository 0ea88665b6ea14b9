#include "snap_store.h"

#include "snap_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#define MANIFEST_MAGIC_V1 "ITCSNAP1"
#define MANIFEST_MAGIC "ITCSNAP2"
#define IDX_MAGIC "ITCIDX01"
#define PACK_MAGIC "ITCPACK1"
#define MAGIC_LEN 8
#define HASH_LEN 16
#define MANIFEST_HDR_V1 (MAGIC_LEN + 8 + HASH_LEN + 8 + 8 + 8 + 8)
#define MANIFEST_HDR (MANIFEST_HDR_V1 + 3 * HASH_LEN)
/* Longest parent chain written; longer chains are refused on read. */
#define MAX_CHAIN 32
#define MAX_CHAIN_READ 256
#define BODY_CACHE 4
#define OUT_BUF (1u << 20)
#define PACK_ENTRY_HDR (HASH_LEN + 4 + 8)
#define IDX_ENTRY (HASH_LEN + 8 + 4)
#define MAX_MANIFEST (1u << 30)
#define MAX_BODY (4ull << 30)

G_DEFINE_QUARK(snap - store - error - quark, snap_store_error)

typedef struct {
    guint pack;
    guint32 clen;
    guint64 off;
} PageLoc;

typedef struct {
    const guint8 *base; /* read-only mapping of a whole pack file */
    gsize len;
} PackMap;

struct SnapStore {
    char *dir, *packdir, *snapdir;
    GPtrArray *packs;  /* pack base names (without extension) */
    GHashTable *pages; /* 16-byte hash -> PageLoc */
    GArray *maps;      /* PackMap per pack, mapped on first use */
    ZSTD_DCtx *dctx;
    GHashTable *bodies; /* snapshot id -> GBytes manifest body (recently used) */
    GQueue *body_order;
    guint8 zero_hash[HASH_LEN];
};

struct SnapIngest {
    SnapStore *s;
    SnapStreamParser *parser;
    XXH3_state_t *hs;
    ZSTD_CCtx *cctx;
    int level;
    GByteArray *pending, *body;
    GHashTable *fresh; /* hash -> offset in new pack */
    GArray *fresh_idx; /* idx entries bytes */
    char *pack_tmp, *pack_name;
    FILE *pack;
    guint64 pack_off, stream_len, pages;
    guint8 *cbuf;
    gsize cbuf_len;
};

static void put_be(guint8 *b, int n, guint64 v)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        b[i] = v & 0xff;
}

static guint64 get_be(const guint8 *b, int n)
{
    guint64 v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

static void hash128(const void *d, gsize n, guint8 out[HASH_LEN])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(d, n));
    memcpy(out, c.digest, HASH_LEN);
}

static char *hex(const guint8 *h, gsize n)
{
    char *s = g_malloc(n * 2 + 1);
    for (gsize i = 0; i < n; i++)
        sprintf(s + 2 * i, "%02x", h[i]);
    return s;
}

static gboolean corrupt(GError **error, const char *obj, const char *what)
{
    g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT, "%s: %s", obj, what);
    return FALSE;
}

static gboolean io_fail(GError **error, const char *path, const char *what)
{
    g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO, "%s %s: %s", what, path,
                g_strerror(errno));
    return FALSE;
}

/* Crash-safe write: temp file, fsync, rename, fsync directory. */
static gboolean write_atomic(const char *dir, const char *name, const void *d, gsize n,
                             GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *tmp = g_strdup_printf("%s.%d.tmp", path, getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return io_fail(error, tmp, "cannot create");
    const guint8 *p = d;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            unlink(tmp);
            return io_fail(error, tmp, "cannot write");
        }
        p += w;
        n -= w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        unlink(tmp);
        return io_fail(error, tmp, "cannot sync");
    }
    if (rename(tmp, path) < 0)
        return io_fail(error, path, "cannot rename to");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return TRUE;
}

static gboolean load_index(SnapStore *s, const char *base, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s.idx", s->packdir, base);
    g_autofree char *obj = g_strdup_printf("pack index %s.idx", base);
    g_autofree guint8 *d = NULL;
    gsize n;
    if (!g_file_get_contents(path, (char **)&d, &n, error))
        return FALSE;
    if (n < MAGIC_LEN + 4 + HASH_LEN || memcmp(d, IDX_MAGIC, MAGIC_LEN))
        return corrupt(error, obj, "bad header");
    guint8 sum[HASH_LEN];
    hash128(d, n - HASH_LEN, sum);
    if (memcmp(sum, d + n - HASH_LEN, HASH_LEN))
        return corrupt(error, obj, "checksum mismatch");
    guint64 count = get_be(d + MAGIC_LEN, 4);
    if (count * IDX_ENTRY != n - MAGIC_LEN - 4 - HASH_LEN)
        return corrupt(error, obj, "bad entry count");
    g_autofree char *pp = g_strdup_printf("%s/%s.pack", s->packdir, base);
    if (!g_file_test(pp, G_FILE_TEST_EXISTS))
        return corrupt(error, obj, "pack file missing");
    guint pack = s->packs->len;
    g_ptr_array_add(s->packs, g_strdup(base));
    for (guint64 i = 0; i < count; i++) {
        const guint8 *e = d + MAGIC_LEN + 4 + i * IDX_ENTRY;
        PageLoc *loc = g_new(PageLoc, 1);
        loc->pack = pack;
        loc->off = get_be(e + HASH_LEN, 8);
        loc->clen = get_be(e + HASH_LEN + 8, 4);
        g_hash_table_replace(s->pages, g_memdup2(e, HASH_LEN), loc);
    }
    return TRUE;
}

static guint hash_key(gconstpointer k)
{
    guint v;
    memcpy(&v, k, sizeof v);
    return v;
}

static gboolean hash_eq(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, HASH_LEN) == 0;
}

static GPtrArray *list_dir(const char *dir, const char *suffix)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return out;
    const char *n;
    while ((n = g_dir_read_name(d)))
        if (g_str_has_suffix(n, suffix) && !g_str_has_suffix(n, ".tmp"))
            g_ptr_array_add(out, g_strndup(n, strlen(n) - strlen(suffix)));
    g_dir_close(d);
    g_ptr_array_sort(out, (GCompareFunc)g_strcmp0);
    return out;
}

static SnapStore *store_new(const char *dir, GError **error)
{
    SnapStore *s = g_new0(SnapStore, 1);
    s->dir = g_strdup(dir);
    s->packdir = g_build_filename(dir, "packs", NULL);
    s->snapdir = g_build_filename(dir, "snaps", NULL);
    s->packs = g_ptr_array_new_with_free_func(g_free);
    s->pages = g_hash_table_new_full(hash_key, hash_eq, g_free, g_free);
    s->maps = g_array_new(FALSE, TRUE, sizeof(PackMap));
    s->dctx = ZSTD_createDCtx();
    s->bodies =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
    s->body_order = g_queue_new();
    guint8 zero[SNAP_PAGE_SIZE] = {0};
    hash128(zero, sizeof zero, s->zero_hash);
    if (g_mkdir_with_parents(s->packdir, 0755) < 0 || g_mkdir_with_parents(s->snapdir, 0755) < 0) {
        io_fail(error, dir, "cannot create store");
        snap_store_close(s);
        return NULL;
    }
    return s;
}

SnapStore *snap_store_open(const char *dir, GError **error)
{
    SnapStore *s = store_new(dir, error);
    if (!s)
        return NULL;
    g_autoptr(GPtrArray) idx = list_dir(s->packdir, ".idx");
    for (guint i = 0; i < idx->len; i++) {
        if (!load_index(s, idx->pdata[i], error)) {
            snap_store_close(s);
            return NULL;
        }
    }
    return s;
}

void snap_store_close(SnapStore *s)
{
    if (!s)
        return;
    for (guint i = 0; i < s->maps->len; i++) {
        PackMap *pm = &g_array_index(s->maps, PackMap, i);
        if (pm->base)
            munmap((void *)pm->base, pm->len);
    }
    g_array_free(s->maps, TRUE);
    ZSTD_freeDCtx(s->dctx);
    g_hash_table_destroy(s->bodies);
    g_queue_free_full(s->body_order, g_free);
    g_hash_table_destroy(s->pages);
    g_ptr_array_free(s->packs, TRUE);
    g_free(s->dir);
    g_free(s->packdir);
    g_free(s->snapdir);
    g_free(s);
}

static gboolean page_corrupt(SnapStore *s, const PageLoc *loc, const guint8 *h, GError **error,
                             const char *what)
{
    g_autofree char *hx = hex(h, HASH_LEN);
    g_autofree char *obj =
        g_strdup_printf("pack %s.pack page %s", (char *)s->packs->pdata[loc->pack], hx);
    return corrupt(error, obj, what);
}

static const PackMap *pack_map(SnapStore *s, guint pack, GError **error)
{
    if (s->maps->len < s->packs->len)
        g_array_set_size(s->maps, s->packs->len);
    PackMap *pm = &g_array_index(s->maps, PackMap, pack);
    if (pm->base)
        return pm;
    g_autofree char *path =
        g_strdup_printf("%s/%s.pack", s->packdir, (char *)s->packs->pdata[pack]);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        io_fail(error, path, "cannot open");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    void *m = st.st_size > 0 ? mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (m == MAP_FAILED) {
        io_fail(error, path, "cannot map");
        return NULL;
    }
    madvise(m, st.st_size, MADV_WILLNEED);
    pm->base = m;
    pm->len = st.st_size;
    return pm;
}

/* Reads one page by hash into OUT, checking the entry header and the chunk
 * checksum; with CHECK_CONTENT also the content hash (export skips it: the
 * whole reconstructed stream is checked against its XXH3-128 anyway). */
static gboolean read_page(SnapStore *s, const guint8 *h, guint8 *out, gboolean check_content,
                          GError **error)
{
    if (!memcmp(h, s->zero_hash, HASH_LEN)) {
        memset(out, 0, SNAP_PAGE_SIZE);
        return TRUE;
    }
    PageLoc *loc = g_hash_table_lookup(s->pages, h);
    if (!loc) {
        g_autofree char *hx = hex(h, HASH_LEN);
        return corrupt(error, hx, "page missing from store");
    }
    const PackMap *pm = pack_map(s, loc->pack, error);
    if (!pm)
        return FALSE;
    if (loc->clen > ZSTD_compressBound(SNAP_PAGE_SIZE))
        return page_corrupt(s, loc, h, error, "bad compressed length in index");
    if (loc->off > pm->len || pm->len - loc->off < PACK_ENTRY_HDR + (guint64)loc->clen)
        return page_corrupt(s, loc, h, error, "truncated");
    const guint8 *e = pm->base + loc->off;
    if (memcmp(e, h, HASH_LEN) || get_be(e + HASH_LEN, 4) != loc->clen)
        return page_corrupt(s, loc, h, error, "entry header does not match index");
    if (XXH3_64bits(e + PACK_ENTRY_HDR, loc->clen) != get_be(e + HASH_LEN + 4, 8))
        return page_corrupt(s, loc, h, error, "chunk checksum mismatch");
    size_t n = ZSTD_decompressDCtx(s->dctx, out, SNAP_PAGE_SIZE, e + PACK_ENTRY_HDR, loc->clen);
    if (ZSTD_isError(n) || n != SNAP_PAGE_SIZE)
        return page_corrupt(s, loc, h, error, "cannot decompress");
    if (!check_content)
        return TRUE;
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(out, SNAP_PAGE_SIZE));
    if (memcmp(c.digest, h, HASH_LEN))
        return page_corrupt(s, loc, h, error, "content hash mismatch");
    return TRUE;
}

/* ---- ingest ---- */

static void flush_raw(SnapIngest *in)
{
    if (in->pending->len == 0)
        return;
    guint8 h[5] = {'R'};
    put_be(h + 1, 4, in->pending->len);
    g_byte_array_append(in->body, h, 5);
    g_byte_array_append(in->body, in->pending->data, in->pending->len);
    g_byte_array_set_size(in->pending, 0);
}

static gboolean store_page(SnapIngest *in, const guint8 *page, const guint8 *h, GError **error)
{
    if (!memcmp(h, in->s->zero_hash, HASH_LEN) || g_hash_table_contains(in->s->pages, h) ||
        g_hash_table_contains(in->fresh, h))
        return TRUE;
    if (!in->pack) {
        in->pack_name =
            g_strdup_printf("pack-%" G_GINT64_MODIFIER "x-%d", g_get_real_time(), getpid());
        in->pack_tmp = g_strdup_printf("%s/%s.pack.tmp", in->s->packdir, in->pack_name);
        in->pack = fopen(in->pack_tmp, "wb");
        if (!in->pack || fwrite(PACK_MAGIC, 1, MAGIC_LEN, in->pack) != MAGIC_LEN)
            return io_fail(error, in->pack_tmp, "cannot write");
        in->pack_off = MAGIC_LEN;
    }
    size_t c = ZSTD_compressCCtx(in->cctx, in->cbuf, in->cbuf_len, page, SNAP_PAGE_SIZE, in->level);
    if (ZSTD_isError(c)) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO, "zstd: %s", ZSTD_getErrorName(c));
        return FALSE;
    }
    guint8 e[PACK_ENTRY_HDR];
    memcpy(e, h, HASH_LEN);
    put_be(e + HASH_LEN, 4, c);
    put_be(e + HASH_LEN + 4, 8, XXH3_64bits(in->cbuf, c));
    if (fwrite(e, 1, sizeof e, in->pack) != sizeof e || fwrite(in->cbuf, 1, c, in->pack) != c)
        return io_fail(error, in->pack_tmp, "cannot write");
    guint8 ie[IDX_ENTRY];
    memcpy(ie, h, HASH_LEN);
    put_be(ie + HASH_LEN, 8, in->pack_off);
    put_be(ie + HASH_LEN + 8, 4, c);
    g_array_append_vals(in->fresh_idx, ie, IDX_ENTRY);
    g_hash_table_add(in->fresh, g_memdup2(h, HASH_LEN));
    in->pack_off += sizeof e + c;
    return TRUE;
}

static gboolean on_record(const SnapRecord *rec, gpointer user, GError **error)
{
    SnapIngest *in = user;
    if (rec->kind != SNAP_REC_RAM_PAGE) {
        g_byte_array_append(in->pending, rec->raw, rec->raw_len);
        return TRUE;
    }
    g_byte_array_append(in->pending, rec->raw, rec->raw_len - SNAP_PAGE_SIZE);
    flush_raw(in);
    guint8 h[HASH_LEN + 1] = {'P'};
    hash128(rec->data, SNAP_PAGE_SIZE, h + 1);
    g_byte_array_append(in->body, h, sizeof h);
    in->pages++;
    return store_page(in, rec->data, h + 1, error);
}

SnapIngest *snap_store_ingest_begin(SnapStore *s, int zstd_level, GError **error)
{
    SnapIngest *in = g_new0(SnapIngest, 1);
    in->s = s;
    in->level = zstd_level;
    in->parser = snap_stream_parser_new(on_record, in);
    in->hs = XXH3_createState();
    XXH3_128bits_reset(in->hs);
    in->cctx = ZSTD_createCCtx();
    in->pending = g_byte_array_new();
    in->body = g_byte_array_new();
    in->fresh = g_hash_table_new_full(hash_key, hash_eq, g_free, NULL);
    in->fresh_idx = g_array_new(FALSE, FALSE, 1);
    in->cbuf_len = ZSTD_compressBound(SNAP_PAGE_SIZE);
    in->cbuf = g_malloc(in->cbuf_len);
    return in;
}

gboolean snap_ingest_feed(SnapIngest *in, const guint8 *buf, gsize len, GError **error)
{
    XXH3_128bits_update(in->hs, buf, len);
    in->stream_len += len;
    return snap_stream_parser_feed(in->parser, buf, len, error);
}

void snap_ingest_abort(SnapIngest *in)
{
    if (!in)
        return;
    if (in->pack) {
        fclose(in->pack);
        unlink(in->pack_tmp);
    }
    snap_stream_parser_free(in->parser);
    XXH3_freeState(in->hs);
    ZSTD_freeCCtx(in->cctx);
    g_byte_array_free(in->pending, TRUE);
    g_byte_array_free(in->body, TRUE);
    g_hash_table_destroy(in->fresh);
    g_array_free(in->fresh_idx, TRUE);
    g_free(in->pack_tmp);
    g_free(in->pack_name);
    g_free(in->cbuf);
    g_free(in);
}

static gboolean finish_pack(SnapIngest *in, GError **error)
{
    if (!in->pack)
        return TRUE;
    int fd = fileno(in->pack);
    gboolean ok = fflush(in->pack) == 0 && fsync(fd) == 0;
    ok = fclose(in->pack) == 0 && ok;
    in->pack = NULL;
    g_autofree char *path = g_strdup_printf("%s/%s.pack", in->s->packdir, in->pack_name);
    if (!ok || rename(in->pack_tmp, path) < 0) {
        unlink(in->pack_tmp);
        return io_fail(error, path, "cannot write");
    }
    guint count = in->fresh_idx->len / IDX_ENTRY;
    g_autoptr(GByteArray) idx = g_byte_array_new();
    guint8 h[4];
    put_be(h, 4, count);
    g_byte_array_append(idx, (const guint8 *)IDX_MAGIC, MAGIC_LEN);
    g_byte_array_append(idx, h, 4);
    g_byte_array_append(idx, (const guint8 *)in->fresh_idx->data, in->fresh_idx->len);
    guint8 sum[HASH_LEN];
    hash128(idx->data, idx->len, sum);
    g_byte_array_append(idx, sum, HASH_LEN);
    g_autofree char *iname = g_strdup_printf("%s.idx", in->pack_name);
    if (!write_atomic(in->s->packdir, iname, idx->data, idx->len, error))
        return FALSE;
    return load_index(in->s, in->pack_name, error);
}

/* ---- manifests ---- */

typedef struct {
    SnapInfo info;
    guint64 created_us;
    guint8 stream_hash[HASH_LEN], body_hash[HASH_LEN], parent_body_hash[HASH_LEN];
    gboolean has_parent, v1;
    char parent[33];
    guint64 body_ulen;
    guint8 *file; /* whole manifest file */
    gsize file_len, body_off, body_clen;
    GBytes *body_ref; /* decompressed body, when loaded */
    const guint8 *body;
    gsize body_len;
} Manifest;

static void manifest_clear(Manifest *m)
{
    g_free(m->file);
    if (m->body_ref)
        g_bytes_unref(m->body_ref);
    memset(m, 0, sizeof *m);
}

static gboolean all_zero(const guint8 *d, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (d[i])
            return FALSE;
    return TRUE;
}

/* Reads and checks a manifest file (header and checksum); no decompression. */
static gboolean manifest_read(SnapStore *s, const char *id, Manifest *m, GError **error)
{
    memset(m, 0, sizeof *m);
    g_autofree char *path = g_strdup_printf("%s/%s.snap", s->snapdir, id);
    g_autofree char *obj = g_strdup_printf("snapshot manifest %s", id);
    guint8 *d = NULL;
    gsize n;
    GError *e = NULL;
    if (!g_file_get_contents(path, (char **)&d, &n, &e)) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_NOT_FOUND, "no snapshot %s: %s", id,
                    e->message);
        g_error_free(e);
        return FALSE;
    }
    m->file = d;
    m->file_len = n;
    gboolean v1 = n >= MAGIC_LEN && !memcmp(d, MANIFEST_MAGIC_V1, MAGIC_LEN);
    gsize hdr = v1 ? MANIFEST_HDR_V1 : MANIFEST_HDR;
    if (n < hdr + HASH_LEN || n > MAX_MANIFEST || (!v1 && memcmp(d, MANIFEST_MAGIC, MAGIC_LEN))) {
        manifest_clear(m);
        return corrupt(error, obj, "bad header (not an ITCSNAP1/ITCSNAP2 manifest)");
    }
    guint8 sum[HASH_LEN];
    hash128(d, n - HASH_LEN, sum);
    if (memcmp(sum, d + n - HASH_LEN, HASH_LEN)) {
        manifest_clear(m);
        return corrupt(error, obj, "checksum mismatch");
    }
    guint64 ulen = get_be(d + 48, 8), clen = get_be(d + 56, 8);
    if (clen != n - hdr - HASH_LEN || ulen > MAX_BODY) {
        manifest_clear(m);
        return corrupt(error, obj, "bad body length");
    }
    g_autofree char *hx = hex(d + 16, HASH_LEN);
    if (strcmp(hx, id)) {
        manifest_clear(m);
        return corrupt(error, obj, "id does not match stream hash");
    }
    m->v1 = v1;
    g_strlcpy(m->info.id, id, sizeof m->info.id);
    m->info.stream_len = get_be(d + 8, 8);
    m->created_us = get_be(d + 32, 8);
    if (v1)
        m->created_us *= G_USEC_PER_SEC;
    m->info.created = m->created_us / G_USEC_PER_SEC;
    m->info.pages = get_be(d + 40, 8);
    m->info.manifest_bytes = n;
    memcpy(m->stream_hash, d + 16, HASH_LEN);
    m->body_ulen = ulen;
    m->body_off = hdr;
    m->body_clen = clen;
    if (!v1) {
        memcpy(m->body_hash, d + 64, HASH_LEN);
        if (!all_zero(d + 80, HASH_LEN)) {
            m->has_parent = TRUE;
            char *p = hex(d + 80, HASH_LEN);
            g_strlcpy(m->parent, p, sizeof m->parent);
            g_free(p);
            memcpy(m->parent_body_hash, d + 96, HASH_LEN);
            if (!strcmp(m->parent, id)) {
                manifest_clear(m);
                return corrupt(error, obj, "manifest names itself as parent");
            }
        }
    }
    g_strlcpy(m->info.parent, m->parent, sizeof m->info.parent);
    return TRUE;
}

static void cache_body(SnapStore *s, const char *id, GBytes *body)
{
    if (g_hash_table_contains(s->bodies, id))
        return;
    g_hash_table_insert(s->bodies, g_strdup(id), g_bytes_ref(body));
    g_queue_push_tail(s->body_order, g_strdup(id));
    while (g_queue_get_length(s->body_order) > BODY_CACHE) {
        char *old = g_queue_pop_head(s->body_order);
        g_hash_table_remove(s->bodies, old);
        g_free(old);
    }
}

static GBytes *manifest_body(SnapStore *s, Manifest *m, int depth, GError **error);

/* The decompressed body of the parent of M, checked against the checksum M
 * recorded for it. Errors name both the child and the parent. */
static GBytes *parent_body(SnapStore *s, Manifest *m, int depth, GError **error)
{
    g_autofree char *obj = g_strdup_printf("snapshot manifest %s", m->info.id);
    if (depth >= MAX_CHAIN_READ) {
        corrupt(error, obj, "parent chain too long (cycle?)");
        return NULL;
    }
    Manifest pm;
    GError *e = NULL;
    GBytes *pb = NULL;
    if (!manifest_read(s, m->parent, &pm, &e)) {
        if (g_error_matches(e, SNAP_STORE_ERROR, SNAP_STORE_ERROR_NOT_FOUND))
            g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT,
                        "%s: parent manifest %s is missing", obj, m->parent);
        else
            g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT, "%s: parent %s: %s", obj,
                        m->parent, e->message);
        g_error_free(e);
        return NULL;
    }
    pb = manifest_body(s, &pm, depth + 1, &e);
    manifest_clear(&pm);
    if (!pb) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT, "%s: parent %s: %s", obj,
                    m->parent, e->message);
        g_error_free(e);
        return NULL;
    }
    gsize pl;
    const guint8 *pd = g_bytes_get_data(pb, &pl);
    guint8 h[HASH_LEN];
    hash128(pd, pl, h);
    if (memcmp(h, m->parent_body_hash, HASH_LEN)) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT,
                    "%s: parent manifest %s does not match the checksum recorded for it", obj,
                    m->parent);
        g_bytes_unref(pb);
        return NULL;
    }
    return pb;
}

/* Decompresses M's body (against its parent's body for a delta manifest). */
static GBytes *manifest_body(SnapStore *s, Manifest *m, int depth, GError **error)
{
    GBytes *c = g_hash_table_lookup(s->bodies, m->info.id);
    if (c)
        return g_bytes_ref(c);
    g_autofree char *obj = g_strdup_printf("snapshot manifest %s", m->info.id);
    g_autoptr(GBytes) pb = NULL;
    if (m->has_parent && !(pb = parent_body(s, m, depth, error)))
        return NULL;
    const guint8 *src = m->file + m->body_off;
    if (ZSTD_getFrameContentSize(src, m->body_clen) != m->body_ulen) {
        corrupt(error, obj, "body size mismatch");
        return NULL;
    }
    guint8 *body = g_malloc(m->body_ulen ? m->body_ulen : 1);
    ZSTD_DCtx_reset(s->dctx, ZSTD_reset_session_and_parameters);
    ZSTD_DCtx_setParameter(s->dctx, ZSTD_d_windowLogMax, 31);
    if (pb) {
        gsize pl;
        const guint8 *pd = g_bytes_get_data(pb, &pl);
        ZSTD_DCtx_refPrefix(s->dctx, pd, pl);
    }
    size_t r = ZSTD_decompressDCtx(s->dctx, body, m->body_ulen, src, m->body_clen);
    ZSTD_DCtx_reset(s->dctx, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(r) || r != m->body_ulen) {
        g_free(body);
        corrupt(error, obj, "cannot decompress body");
        return NULL;
    }
    if (!m->v1) {
        guint8 h[HASH_LEN];
        hash128(body, m->body_ulen, h);
        if (memcmp(h, m->body_hash, HASH_LEN)) {
            g_free(body);
            corrupt(error, obj, "decompressed body does not match its checksum");
            return NULL;
        }
    }
    GBytes *b = g_bytes_new_take(body, m->body_ulen);
    cache_body(s, m->info.id, b);
    return b;
}

static gboolean manifest_load(SnapStore *s, const char *id, gboolean with_body, Manifest *m,
                              GError **error)
{
    if (!manifest_read(s, id, m, error))
        return FALSE;
    if (!with_body)
        return TRUE;
    m->body_ref = manifest_body(s, m, 0, error);
    if (!m->body_ref) {
        manifest_clear(m);
        return FALSE;
    }
    m->body = g_bytes_get_data(m->body_ref, &m->body_len);
    return TRUE;
}

/* zstd of BODY, against PREFIX (the parent's body) when given. */
static GBytes *compress_body(const guint8 *body, gsize len, GBytes *prefix, GError **error)
{
    gsize pl = 0;
    const guint8 *pd = prefix ? g_bytes_get_data(prefix, &pl) : NULL;
    int wlog = 10;
    while (wlog < 30 && ((guint64)1 << wlog) < len + pl)
        wlog++;
    ZSTD_CCtx *c = ZSTD_createCCtx();
    /* Level 3 alone (level 9 is slower and no smaller: the page hashes do
     * not compress); level 7 for deltas finds far more of the parent (2nd of
     * the bench: 804 B at 7, 4.4 KB at 5, 5.9 KB at 3; 9 is slower for ~10%). */
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, pd ? 7 : 3);
    ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setPledgedSrcSize(c, len);
    if (pd)
        ZSTD_CCtx_refPrefix(c, pd, pl);
    size_t bound = ZSTD_compressBound(len);
    guint8 *out = g_malloc(bound);
    size_t r = ZSTD_compress2(c, out, bound, body, len);
    ZSTD_freeCCtx(c);
    if (ZSTD_isError(r)) {
        g_free(out);
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO, "zstd: %s", ZSTD_getErrorName(r));
        return NULL;
    }
    return g_bytes_new_take(g_realloc(out, r ? r : 1), r);
}

typedef struct {
    char id[33];
    guint64 stream_len, created_us, pages;
} ManifestFields;

/* Writes a v2 manifest for BODY; delta against PARENT (id, body) if that is
 * smaller than compressing the body alone. */
static gboolean manifest_write(SnapStore *s, const ManifestFields *f, const guint8 *body, gsize len,
                               const char *parent, GBytes *parent_body, GError **error)
{
    g_autoptr(GBytes) full = compress_body(body, len, NULL, error);
    if (!full)
        return FALSE;
    g_autoptr(GBytes) delta = NULL;
    if (parent_body && !(delta = compress_body(body, len, parent_body, error)))
        return FALSE;
    gboolean use_delta = delta && g_bytes_get_size(delta) < g_bytes_get_size(full);
    GBytes *z = use_delta ? delta : full;
    gsize clen = g_bytes_get_size(z);
    g_autofree guint8 *m = g_malloc0(MANIFEST_HDR + clen + HASH_LEN);
    memcpy(m, MANIFEST_MAGIC, MAGIC_LEN);
    put_be(m + 8, 8, f->stream_len);
    for (int i = 0; i < HASH_LEN; i++)
        sscanf(f->id + 2 * i, "%2hhx", &m[16 + i]);
    put_be(m + 32, 8, f->created_us);
    put_be(m + 40, 8, f->pages);
    put_be(m + 48, 8, len);
    put_be(m + 56, 8, clen);
    hash128(body, len, m + 64);
    if (use_delta) {
        for (int i = 0; i < HASH_LEN; i++)
            sscanf(parent + 2 * i, "%2hhx", &m[80 + i]);
        gsize pl;
        const guint8 *pd = g_bytes_get_data(parent_body, &pl);
        hash128(pd, pl, m + 96);
    }
    memcpy(m + MANIFEST_HDR, g_bytes_get_data(z, NULL), clen);
    hash128(m, MANIFEST_HDR + clen, m + MANIFEST_HDR + clen);
    g_autofree char *name = g_strdup_printf("%s.snap", f->id);
    return write_atomic(s->snapdir, name, m, MANIFEST_HDR + clen + HASH_LEN, error);
}

/* Headers of every readable manifest, oldest first. Unreadable ones are
 * skipped (verify reports them). */
static GArray *manifests_by_age(SnapStore *s)
{
    g_autoptr(GPtrArray) ids = list_dir(s->snapdir, ".snap");
    GArray *out = g_array_new(FALSE, FALSE, sizeof(SnapInfo));
    for (guint i = 0; i < ids->len; i++) {
        Manifest m;
        if (!manifest_read(s, ids->pdata[i], &m, NULL))
            continue;
        m.info.created = m.created_us; /* sort key; callers use only id/parent */
        g_array_append_val(out, m.info);
        manifest_clear(&m);
    }
    return out;
}

static gint by_created(gconstpointer a, gconstpointer b)
{
    const SnapInfo *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

static const SnapInfo *find_info(GArray *l, const char *id)
{
    for (guint i = 0; i < l->len; i++)
        if (!strcmp(g_array_index(l, SnapInfo, i).id, id))
            return &g_array_index(l, SnapInfo, i);
    return NULL;
}

/* Parent for a new manifest of snapshot ID, skip-delta style: the new
 * snapshot is number n (0-based, by creation time, ID itself not counted) and
 * its parent is number n with the lowest set bit cleared, so chains are at
 * most log2(n) long while most parents are only a few checkpoints back. No
 * parent if that chain is MAX_CHAIN long already (after rm) or contains ID. */
static gboolean pick_parent(SnapStore *s, const char *id, char out[33])
{
    g_autoptr(GArray) l = manifests_by_age(s);
    g_array_sort(l, by_created);
    for (guint i = 0; i < l->len; i++)
        if (!strcmp(g_array_index(l, SnapInfo, i).id, id)) {
            g_array_remove_index(l, i);
            break;
        }
    guint n = l->len;
    if (n == 0)
        return FALSE;
    const SnapInfo *c = &g_array_index(l, SnapInfo, n & (n - 1));
    int depth = 0;
    for (const SnapInfo *a = c; a && a->parent[0]; a = find_info(l, a->parent))
        if (++depth >= MAX_CHAIN || !strcmp(a->parent, id))
            return FALSE;
    g_strlcpy(out, c->id, 33);
    return TRUE;
}

static char *write_manifest(SnapIngest *in, GError **error)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(in->hs));
    ManifestFields f = {
        .stream_len = in->stream_len, .created_us = g_get_real_time(), .pages = in->pages};
    char *id = hex(c.digest, HASH_LEN);
    g_strlcpy(f.id, id, sizeof f.id);
    char parent[33];
    g_autoptr(GBytes) pb = NULL;
    if (pick_parent(in->s, id, parent)) {
        Manifest pm;
        if (manifest_read(in->s, parent, &pm, NULL)) {
            pb = manifest_body(in->s, &pm, 0, NULL); /* damaged parent: write a full manifest */
            manifest_clear(&pm);
        }
    }
    if (!manifest_write(in->s, &f, in->body->data, in->body->len, parent, pb, error))
        g_clear_pointer(&id, g_free);
    return id;
}

char *snap_ingest_commit(SnapIngest *in, GError **error)
{
    char *id = NULL;
    if (snap_stream_parser_finish(in->parser, error)) {
        flush_raw(in);
        if (finish_pack(in, error))
            id = write_manifest(in, error);
    }
    snap_ingest_abort(in);
    return id;
}

/* Walks the manifest ops: page refs go to page_fn, raw bytes to raw_fn. */
typedef gboolean (*OpFn)(const guint8 *d, gsize n, gboolean page, gpointer u, GError **error);

static gboolean manifest_walk(const Manifest *m, OpFn fn, gpointer u, GError **error)
{
    gsize i = 0;
    while (i < m->body_len) {
        guint8 op = m->body[i++];
        if (op == 'P') {
            if (m->body_len - i < HASH_LEN)
                goto truncated;
            if (!fn(m->body + i, HASH_LEN, TRUE, u, error))
                return FALSE;
            i += HASH_LEN;
        } else if (op == 'R') {
            if (m->body_len - i < 4)
                goto truncated;
            guint64 n = get_be(m->body + i, 4);
            i += 4;
            if (m->body_len - i < n)
                goto truncated;
            if (!fn(m->body + i, n, FALSE, u, error))
                return FALSE;
            i += n;
        } else {
            g_autofree char *obj = g_strdup_printf("snapshot manifest %s", m->info.id);
            return corrupt(error, obj, "unknown record");
        }
    }
    return TRUE;
truncated : {
    g_autofree char *obj = g_strdup_printf("snapshot manifest %s", m->info.id);
    return corrupt(error, obj, "truncated record");
}
}

/* Export: pages are decompressed straight into a large output buffer that is
 * hashed and written in big blocks. */
typedef struct {
    SnapStore *s;
    FILE *out;
    XXH3_state_t *hs;
    guint64 len;
    guint8 *buf;
    gsize used;
} ExportCtx;

static gboolean export_flush(ExportCtx *x, GError **error)
{
    if (!x->used)
        return TRUE;
    XXH3_128bits_update(x->hs, x->buf, x->used);
    x->len += x->used;
    if (x->out && fwrite(x->buf, 1, x->used, x->out) != x->used) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO, "write failed: %s",
                    g_strerror(errno));
        return FALSE;
    }
    x->used = 0;
    return TRUE;
}

static gboolean export_op(const guint8 *d, gsize n, gboolean page, gpointer u, GError **error)
{
    ExportCtx *x = u;
    if (page) {
        if (OUT_BUF - x->used < SNAP_PAGE_SIZE && !export_flush(x, error))
            return FALSE;
        if (!read_page(x->s, d, x->buf + x->used, FALSE, error))
            return FALSE;
        x->used += SNAP_PAGE_SIZE;
        return TRUE;
    }
    while (n > 0) {
        if (x->used == OUT_BUF && !export_flush(x, error))
            return FALSE;
        gsize k = MIN(n, OUT_BUF - x->used);
        memcpy(x->buf + x->used, d, k);
        x->used += k;
        d += k;
        n -= k;
    }
    return TRUE;
}

gboolean snap_store_export(SnapStore *s, const char *id, FILE *out, GError **error)
{
    Manifest m;
    if (!manifest_load(s, id, TRUE, &m, error))
        return FALSE;
    ExportCtx x = {s, out, XXH3_createState(), 0, g_malloc(OUT_BUF), 0};
    XXH3_128bits_reset(x.hs);
    gboolean ok = manifest_walk(&m, export_op, &x, error) && export_flush(&x, error);
    if (ok) {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(x.hs));
        if (x.len != m.info.stream_len || memcmp(c.digest, m.stream_hash, HASH_LEN)) {
            g_autofree char *obj = g_strdup_printf("snapshot %s", id);
            ok = corrupt(error, obj, "reconstructed stream does not match its checksum");
        }
    }
    if (ok && out && fflush(out) != 0)
        ok = io_fail(error, "output", "cannot flush");
    XXH3_freeState(x.hs);
    g_free(x.buf);
    manifest_clear(&m);
    return ok;
}

GArray *snap_store_list(SnapStore *s, GError **error)
{
    g_autoptr(GPtrArray) ids = list_dir(s->snapdir, ".snap");
    GArray *out = g_array_new(FALSE, FALSE, sizeof(SnapInfo));
    g_autoptr(GArray) us = g_array_new(FALSE, FALSE, sizeof(SnapInfo));
    for (guint i = 0; i < ids->len; i++) {
        Manifest m;
        if (!manifest_load(s, ids->pdata[i], FALSE, &m, error)) {
            g_array_free(out, TRUE);
            return NULL;
        }
        SnapInfo k = m.info;
        k.created = m.created_us;
        g_array_append_val(us, k);
        manifest_clear(&m);
    }
    g_array_sort(us, by_created);
    for (guint i = 0; i < us->len; i++) {
        SnapInfo k = g_array_index(us, SnapInfo, i);
        k.created /= G_USEC_PER_SEC;
        g_array_append_val(out, k);
    }
    return out;
}

gboolean snap_store_resolve(SnapStore *s, const char *prefix, char out[33], GError **error)
{
    g_autoptr(GPtrArray) ids = list_dir(s->snapdir, ".snap");
    int found = 0;
    for (guint i = 0; i < ids->len; i++) {
        if (g_str_has_prefix(ids->pdata[i], prefix) && strlen(prefix) > 0) {
            g_strlcpy(out, ids->pdata[i], 33);
            found++;
        }
    }
    if (found == 1)
        return TRUE;
    g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_NOT_FOUND, "%s snapshot matches '%s'",
                found ? "more than one" : "no", prefix);
    return FALSE;
}

/* Removing a snapshot that other manifests are deltas of first rewrites each
 * such child against the removed snapshot's own parent (or as a full
 * manifest), then unlinks it: a crash in between leaves valid manifests. */
gboolean snap_store_remove(SnapStore *s, const char *id, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s.snap", s->snapdir, id);
    g_autoptr(GArray) l = manifests_by_age(s);
    Manifest victim = {0};
    gboolean have_victim = FALSE;
    g_autoptr(GBytes) gp_body = NULL;
    for (guint i = 0; i < l->len; i++) {
        const SnapInfo *c = &g_array_index(l, SnapInfo, i);
        if (strcmp(c->parent, id))
            continue;
        Manifest cm;
        GError *e = NULL;
        if (!have_victim) {
            if (!manifest_read(s, id, &victim, &e))
                goto cannot;
            have_victim = TRUE;
            if (victim.has_parent && !(gp_body = parent_body(s, &victim, 0, NULL)))
                victim.parent[0] = 0; /* grandparent unusable: children become full */
        }
        if (!manifest_load(s, c->id, TRUE, &cm, &e))
            goto cannot;
        ManifestFields f = {
            .stream_len = cm.info.stream_len, .created_us = cm.created_us, .pages = cm.info.pages};
        g_strlcpy(f.id, cm.info.id, sizeof f.id);
        gboolean ok = manifest_write(s, &f, cm.body, cm.body_len, victim.parent, gp_body, error);
        manifest_clear(&cm);
        g_hash_table_remove(s->bodies, c->id);
        if (!ok) {
            manifest_clear(&victim);
            return FALSE;
        }
        continue;
    cannot:
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT,
                    "cannot remove %s: snapshot %s is stored as a delta of it and cannot be "
                    "rebuilt: %s",
                    id, c->id, e->message);
        g_error_free(e);
        manifest_clear(&victim);
        return FALSE;
    }
    manifest_clear(&victim);
    g_hash_table_remove(s->bodies, id);
    if (unlink(path) < 0)
        return io_fail(error, path, "cannot remove");
    return TRUE;
}

static gboolean mark_op(const guint8 *d, gsize n, gboolean page, gpointer u, GError **error)
{
    if (page)
        g_hash_table_add(u, g_memdup2(d, HASH_LEN));
    return TRUE;
}

static guint64 file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (guint64)st.st_size : 0;
}

/* Every manifest id, parents before children where possible (cache hits). */
static GPtrArray *ids_by_age(SnapStore *s)
{
    g_autoptr(GArray) l = manifests_by_age(s);
    g_array_sort(l, by_created);
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < l->len; i++) {
        g_ptr_array_add(ids, g_strdup(g_array_index(l, SnapInfo, i).id));
        g_hash_table_add(seen, g_array_index(l, SnapInfo, i).id);
    }
    /* unreadable manifests last, so callers still report them */
    g_autoptr(GPtrArray) all = list_dir(s->snapdir, ".snap");
    for (guint i = 0; i < all->len; i++)
        if (!g_hash_table_contains(seen, all->pdata[i]))
            g_ptr_array_add(ids, g_strdup(all->pdata[i]));
    g_hash_table_destroy(seen);
    return ids;
}

gboolean snap_store_gc(SnapStore *s, guint64 *freed, GError **error)
{
    *freed = 0;
    g_autoptr(GHashTable) live = g_hash_table_new_full(hash_key, hash_eq, g_free, NULL);
    g_autoptr(GPtrArray) ids = ids_by_age(s);
    for (guint i = 0; i < ids->len; i++) {
        Manifest m;
        if (!manifest_load(s, ids->pdata[i], TRUE, &m, error))
            return FALSE;
        gboolean ok = manifest_walk(&m, mark_op, live, error);
        manifest_clear(&m);
        if (!ok)
            return FALSE;
    }
    g_autofree gboolean *used = g_new0(gboolean, s->packs->len + 1);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->pages);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (g_hash_table_contains(live, k))
            used[((PageLoc *)v)->pack] = TRUE;
    for (guint i = 0; i < s->packs->len; i++) {
        if (used[i])
            continue;
        for (int j = 0; j < 2; j++) {
            g_autofree char *p = g_strdup_printf("%s/%s.%s", s->packdir, (char *)s->packs->pdata[i],
                                                 j ? "pack" : "idx");
            *freed += file_size(p);
            unlink(p);
        }
    }
    const char *dirs[] = {s->packdir, s->snapdir};
    for (int j = 0; j < 2; j++) {
        GDir *d = g_dir_open(dirs[j], 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(dirs[j], n, NULL);
            gboolean orphan_pack = g_str_has_suffix(n, ".pack");
            if (orphan_pack) {
                g_autofree char *base = g_strndup(n, strlen(n) - 5);
                g_autofree char *ip = g_strdup_printf("%s/%s.idx", dirs[j], base);
                orphan_pack = !g_file_test(ip, G_FILE_TEST_EXISTS);
            }
            if (g_str_has_suffix(n, ".tmp") || orphan_pack) {
                *freed += file_size(p);
                unlink(p);
            }
        }
        if (d)
            g_dir_close(d);
    }
    return TRUE;
}

gboolean snap_store_stats(SnapStore *s, SnapStats *st, GError **error)
{
    memset(st, 0, sizeof *st);
    g_autoptr(GHashTable) live = g_hash_table_new_full(hash_key, hash_eq, g_free, NULL);
    g_autoptr(GPtrArray) ids = ids_by_age(s);
    for (guint i = 0; i < ids->len; i++) {
        Manifest m;
        if (!manifest_load(s, ids->pdata[i], TRUE, &m, error))
            return FALSE;
        gboolean ok = manifest_walk(&m, mark_op, live, error);
        st->snapshots++;
        st->logical_bytes += m.info.stream_len;
        st->page_refs += m.info.pages;
        st->manifest_bytes += m.info.manifest_bytes;
        st->delta_manifests += m.has_parent;
        manifest_clear(&m);
        if (!ok)
            return FALSE;
    }
    st->stored_bytes += st->manifest_bytes;
    st->page_raw_bytes = st->page_refs * SNAP_PAGE_SIZE;
    st->unique_pages = g_hash_table_size(s->pages);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->pages);
    while (g_hash_table_iter_next(&it, &k, &v))
        st->page_stored_bytes += ((PageLoc *)v)->clen + PACK_ENTRY_HDR;
    for (guint i = 0; i < s->packs->len; i++)
        for (int j = 0; j < 2; j++) {
            g_autofree char *p = g_strdup_printf("%s/%s.%s", s->packdir, (char *)s->packs->pdata[i],
                                                 j ? "pack" : "idx");
            st->stored_bytes += file_size(p);
        }
    return TRUE;
}

gboolean snap_store_verify(SnapStore *s, GPtrArray *problems, GError **error)
{
    /* Indexes were checksummed on open; check every pack entry. */
    GHashTableIter it;
    gpointer k, v;
    guint8 buf[SNAP_PAGE_SIZE];
    g_hash_table_iter_init(&it, s->pages);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        GError *e = NULL;
        if (!read_page(s, k, buf, TRUE, &e)) {
            g_ptr_array_add(problems, g_strdup(e->message));
            g_error_free(e);
        }
    }
    /* Every manifest, its parent chain (delta manifests) and its pages. */
    g_autoptr(GPtrArray) ids = ids_by_age(s);
    for (guint i = 0; i < ids->len; i++) {
        GError *e = NULL;
        if (!snap_store_export(s, ids->pdata[i], NULL, &e)) {
            g_ptr_array_add(problems,
                            g_strdup_printf("snapshot %s: %s", (char *)ids->pdata[i], e->message));
            g_error_free(e);
        }
    }
    return TRUE;
}
