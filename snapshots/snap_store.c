#include "snap_store.h"

#include "snap_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#define MANIFEST_MAGIC "ITCSNAP1"
#define IDX_MAGIC "ITCIDX01"
#define PACK_MAGIC "ITCPACK1"
#define MAGIC_LEN 8
#define HASH_LEN 16
#define MANIFEST_HDR (MAGIC_LEN + 8 + HASH_LEN + 8 + 8 + 8 + 8)
#define PACK_ENTRY_HDR (HASH_LEN + 4 + 8)
#define IDX_ENTRY (HASH_LEN + 8 + 4)
#define MAX_MANIFEST (1u << 30)
#define MAX_BODY (4ull << 30)

G_DEFINE_QUARK(snap - store - error - quark, snap_store_error)

typedef struct {
    guint pack;
    guint64 off;
    guint32 clen;
} PageLoc;

struct SnapStore {
    char *dir, *packdir, *snapdir;
    GPtrArray *packs;  /* pack base names (without extension) */
    GHashTable *pages; /* 16-byte hash -> PageLoc */
    GHashTable *fds;   /* pack index -> fd+1 */
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
    s->fds = g_hash_table_new(g_direct_hash, g_direct_equal);
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

static void close_fd(gpointer k, gpointer v, gpointer u)
{
    close(GPOINTER_TO_INT(v) - 1);
}

void snap_store_close(SnapStore *s)
{
    if (!s)
        return;
    g_hash_table_foreach(s->fds, close_fd, NULL);
    g_hash_table_destroy(s->fds);
    g_hash_table_destroy(s->pages);
    g_ptr_array_free(s->packs, TRUE);
    g_free(s->dir);
    g_free(s->packdir);
    g_free(s->snapdir);
    g_free(s);
}

/* Reads one page by hash, checking the entry checksum and content hash. */
static gboolean read_page(SnapStore *s, const guint8 *h, guint8 *out, GError **error)
{
    if (!memcmp(h, s->zero_hash, HASH_LEN)) {
        memset(out, 0, SNAP_PAGE_SIZE);
        return TRUE;
    }
    g_autofree char *hx = hex(h, HASH_LEN);
    PageLoc *loc = g_hash_table_lookup(s->pages, h);
    if (!loc)
        return corrupt(error, hx, "page missing from store");
    const char *base = s->packs->pdata[loc->pack];
    g_autofree char *obj = g_strdup_printf("pack %s.pack page %s", base, hx);
    int fd = GPOINTER_TO_INT(g_hash_table_lookup(s->fds, GUINT_TO_POINTER(loc->pack))) - 1;
    if (fd < 0) {
        g_autofree char *path = g_strdup_printf("%s/%s.pack", s->packdir, base);
        fd = open(path, O_RDONLY);
        if (fd < 0)
            return io_fail(error, path, "cannot open");
        g_hash_table_insert(s->fds, GUINT_TO_POINTER(loc->pack), GINT_TO_POINTER(fd + 1));
    }
    if (loc->clen > ZSTD_compressBound(SNAP_PAGE_SIZE))
        return corrupt(error, obj, "bad compressed length in index");
    g_autofree guint8 *e = g_malloc(PACK_ENTRY_HDR + loc->clen);
    ssize_t r = pread(fd, e, PACK_ENTRY_HDR + loc->clen, loc->off);
    if (r != (ssize_t)(PACK_ENTRY_HDR + loc->clen))
        return corrupt(error, obj, "truncated");
    if (memcmp(e, h, HASH_LEN) || get_be(e + HASH_LEN, 4) != loc->clen)
        return corrupt(error, obj, "entry header does not match index");
    if (XXH3_64bits(e + PACK_ENTRY_HDR, loc->clen) != get_be(e + HASH_LEN + 4, 8))
        return corrupt(error, obj, "chunk checksum mismatch");
    size_t n = ZSTD_decompress(out, SNAP_PAGE_SIZE, e + PACK_ENTRY_HDR, loc->clen);
    if (ZSTD_isError(n) || n != SNAP_PAGE_SIZE)
        return corrupt(error, obj, "cannot decompress");
    guint8 got[HASH_LEN];
    hash128(out, SNAP_PAGE_SIZE, got);
    if (memcmp(got, h, HASH_LEN))
        return corrupt(error, obj, "content hash mismatch");
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

static char *write_manifest(SnapIngest *in, GError **error)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(in->hs));
    size_t bound = ZSTD_compressBound(in->body->len);
    g_autofree guint8 *m = g_malloc(MANIFEST_HDR + bound + HASH_LEN);
    size_t clen = ZSTD_compress(m + MANIFEST_HDR, bound, in->body->data, in->body->len, 3);
    if (ZSTD_isError(clen)) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO, "zstd: %s",
                    ZSTD_getErrorName(clen));
        return NULL;
    }
    memcpy(m, MANIFEST_MAGIC, MAGIC_LEN);
    put_be(m + 8, 8, in->stream_len);
    memcpy(m + 16, c.digest, HASH_LEN);
    put_be(m + 32, 8, g_get_real_time() / G_USEC_PER_SEC);
    put_be(m + 40, 8, in->pages);
    put_be(m + 48, 8, in->body->len);
    put_be(m + 56, 8, clen);
    hash128(m, MANIFEST_HDR + clen, m + MANIFEST_HDR + clen);
    char *id = hex(c.digest, HASH_LEN);
    g_autofree char *name = g_strdup_printf("%s.snap", id);
    if (!write_atomic(in->s->snapdir, name, m, MANIFEST_HDR + clen + HASH_LEN, error))
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

/* ---- manifests ---- */

typedef struct {
    SnapInfo info;
    guint8 stream_hash[HASH_LEN];
    guint8 *body;
    gsize body_len;
} Manifest;

static void manifest_clear(Manifest *m)
{
    g_free(m->body);
}

static gboolean manifest_load(SnapStore *s, const char *id, gboolean with_body, Manifest *m,
                              GError **error)
{
    memset(m, 0, sizeof *m);
    g_autofree char *path = g_strdup_printf("%s/%s.snap", s->snapdir, id);
    g_autofree char *obj = g_strdup_printf("snapshot manifest %s", id);
    g_autofree guint8 *d = NULL;
    gsize n;
    GError *e = NULL;
    if (!g_file_get_contents(path, (char **)&d, &n, &e)) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_NOT_FOUND, "no snapshot %s: %s", id,
                    e->message);
        g_error_free(e);
        return FALSE;
    }
    if (n < MANIFEST_HDR + HASH_LEN || n > MAX_MANIFEST || memcmp(d, MANIFEST_MAGIC, MAGIC_LEN))
        return corrupt(error, obj, "bad header");
    guint8 sum[HASH_LEN];
    hash128(d, n - HASH_LEN, sum);
    if (memcmp(sum, d + n - HASH_LEN, HASH_LEN))
        return corrupt(error, obj, "checksum mismatch");
    guint64 ulen = get_be(d + 48, 8), clen = get_be(d + 56, 8);
    if (clen != n - MANIFEST_HDR - HASH_LEN || ulen > MAX_BODY)
        return corrupt(error, obj, "bad body length");
    g_autofree char *hx = hex(d + 16, HASH_LEN);
    if (strcmp(hx, id))
        return corrupt(error, obj, "id does not match stream hash");
    g_strlcpy(m->info.id, id, sizeof m->info.id);
    m->info.stream_len = get_be(d + 8, 8);
    m->info.created = get_be(d + 32, 8);
    m->info.pages = get_be(d + 40, 8);
    memcpy(m->stream_hash, d + 16, HASH_LEN);
    if (!with_body)
        return TRUE;
    if (ZSTD_getFrameContentSize(d + MANIFEST_HDR, clen) != ulen)
        return corrupt(error, obj, "body size mismatch");
    m->body = g_malloc(ulen ? ulen : 1);
    size_t r = ZSTD_decompress(m->body, ulen, d + MANIFEST_HDR, clen);
    if (ZSTD_isError(r) || r != ulen) {
        manifest_clear(m);
        return corrupt(error, obj, "cannot decompress body");
    }
    m->body_len = ulen;
    return TRUE;
}

/* Walks the manifest ops: page refs go to page_fn, raw bytes to raw_fn. */
typedef gboolean (*OpFn)(const guint8 *d, gsize n, gboolean page, gpointer u, GError **error);

static gboolean manifest_walk(const Manifest *m, OpFn fn, gpointer u, GError **error)
{
    g_autofree char *obj = g_strdup_printf("snapshot manifest %s", m->info.id);
    gsize i = 0;
    while (i < m->body_len) {
        guint8 op = m->body[i++];
        if (op == 'P') {
            if (m->body_len - i < HASH_LEN)
                return corrupt(error, obj, "truncated page reference");
            if (!fn(m->body + i, HASH_LEN, TRUE, u, error))
                return FALSE;
            i += HASH_LEN;
        } else if (op == 'R') {
            if (m->body_len - i < 4)
                return corrupt(error, obj, "truncated raw record");
            guint64 n = get_be(m->body + i, 4);
            i += 4;
            if (m->body_len - i < n)
                return corrupt(error, obj, "truncated raw record");
            if (!fn(m->body + i, n, FALSE, u, error))
                return FALSE;
            i += n;
        } else {
            return corrupt(error, obj, "unknown record");
        }
    }
    return TRUE;
}

typedef struct {
    SnapStore *s;
    FILE *out;
    XXH3_state_t *hs;
    guint64 len;
} ExportCtx;

static gboolean export_op(const guint8 *d, gsize n, gboolean page, gpointer u, GError **error)
{
    ExportCtx *x = u;
    guint8 buf[SNAP_PAGE_SIZE];
    if (page) {
        if (!read_page(x->s, d, buf, error))
            return FALSE;
        d = buf;
        n = SNAP_PAGE_SIZE;
    }
    XXH3_128bits_update(x->hs, d, n);
    x->len += n;
    if (x->out && fwrite(d, 1, n, x->out) != n) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO, "write failed: %s",
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean snap_store_export(SnapStore *s, const char *id, FILE *out, GError **error)
{
    Manifest m;
    if (!manifest_load(s, id, TRUE, &m, error))
        return FALSE;
    ExportCtx x = {s, out, XXH3_createState(), 0};
    XXH3_128bits_reset(x.hs);
    gboolean ok = manifest_walk(&m, export_op, &x, error);
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
    manifest_clear(&m);
    return ok;
}

static gint by_created(gconstpointer a, gconstpointer b)
{
    const SnapInfo *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

GArray *snap_store_list(SnapStore *s, GError **error)
{
    g_autoptr(GPtrArray) ids = list_dir(s->snapdir, ".snap");
    GArray *out = g_array_new(FALSE, FALSE, sizeof(SnapInfo));
    for (guint i = 0; i < ids->len; i++) {
        Manifest m;
        if (!manifest_load(s, ids->pdata[i], FALSE, &m, error)) {
            g_array_free(out, TRUE);
            return NULL;
        }
        g_array_append_val(out, m.info);
    }
    g_array_sort(out, by_created);
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

gboolean snap_store_remove(SnapStore *s, const char *id, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s.snap", s->snapdir, id);
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

gboolean snap_store_gc(SnapStore *s, guint64 *freed, GError **error)
{
    *freed = 0;
    g_autoptr(GHashTable) live = g_hash_table_new_full(hash_key, hash_eq, g_free, NULL);
    g_autoptr(GPtrArray) ids = list_dir(s->snapdir, ".snap");
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
    g_autoptr(GPtrArray) ids = list_dir(s->snapdir, ".snap");
    for (guint i = 0; i < ids->len; i++) {
        Manifest m;
        if (!manifest_load(s, ids->pdata[i], TRUE, &m, error))
            return FALSE;
        gboolean ok = manifest_walk(&m, mark_op, live, error);
        st->snapshots++;
        st->logical_bytes += m.info.stream_len;
        st->page_refs += m.info.pages;
        manifest_clear(&m);
        if (!ok)
            return FALSE;
        g_autofree char *p = g_strdup_printf("%s/%s.snap", s->snapdir, (char *)ids->pdata[i]);
        st->stored_bytes += file_size(p);
    }
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
        if (!read_page(s, k, buf, &e)) {
            g_ptr_array_add(problems, g_strdup(e->message));
            g_error_free(e);
        }
    }
    g_autoptr(GPtrArray) ids = list_dir(s->snapdir, ".snap");
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
