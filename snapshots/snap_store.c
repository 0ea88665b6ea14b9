#include "snap_store.h"

#include "snap_hash.h"
#include "snap_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#define MANIFEST_MAGIC "ITCSNAP3"
#define IDX_MAGIC "ITCIDX02"
#define PACK_MAGIC "ITCPACK2"
#define MAGIC_LEN 8
#define HASH_LEN 16
#define MANIFEST_HDR (MAGIC_LEN + 8 + HASH_LEN + 8 + 8 + 8 + 8 + 3 * HASH_LEN)
/* Longest parent chain written; longer chains are refused on read. */
#define MAX_CHAIN 64
/* Snapshots per group of plain "previous" parents (see pick_parent). */
#define DELTA_GROUP 32
#define MAX_CHAIN_READ 256
#define BODY_CACHE 4
#define OUT_BUF (1u << 20)
/* New pages of one ingest are compressed together, BLOCK_PAGES per zstd frame. */
#define BLOCK_PAGES 64u
#define BLOCK_BYTES (BLOCK_PAGES * SNAP_PAGE_SIZE)
#define BLOCK_HDR 16             /* npages u32 | clen u32 | xxh3_64(frame) u64 */
#define IDX_HDR (MAGIC_LEN + 12) /* magic | generation u32 | blocks u32 | ordinals u32 */
#define IDX_BLOCK 20             /* offset u64 | clen u32 | npages u32 | first ordinal u32 */
#define NO_BLOCK G_MAXUINT32
#define BLOCKS_IN_FLIGHT 3
#define FRESH_SLOTS0 4096u
#define WRITEBACK_BYTES (1u << 20)
#define BLOCK_CACHE 4
#define MAX_MANIFEST (1u << 30)
#define MAX_BODY (4ull << 30)

G_DEFINE_QUARK(snap - store - error - quark, snap_store_error)

G_STATIC_ASSERT(sizeof(gpointer) >= 8); /* page locations are packed into pointers */

typedef struct {
    guint64 off; /* of the block header in the pack */
    guint32 clen, npages, first;
    guint32 hoff; /* index of its first page's hash in Pack.hashes */
} BlockLoc;

typedef struct {
    char *name;          /* base name, without extension */
    guint32 gen;         /* data file: <name>.pack (0) or <name>.g<gen>.pack (after gc) */
    GArray *blocks;      /* BlockLoc */
    guint32 *page_block; /* ordinal -> block, NO_BLOCK for pages gc removed */
    guint8 *hashes;      /* XXH3-128 per page of the blocks, in block order (the page
                            table's keys point here) */
    guint32 npages;      /* ordinals (pages ever written to the pack) */
    guint32 live_pages;
    const guint8 *map; /* read-only mapping of the pack file, on first use */
    gsize map_len;
} Pack;

/* Page location: pack index << 32 | ordinal, + 1 (0 = not found). */
#define LOC(p, o) GSIZE_TO_POINTER(((gsize)(p) << 32 | (o)) + 1)
#define LOC_PACK(v) ((guint)((GPOINTER_TO_SIZE(v) - 1) >> 32))
#define LOC_ORD(v) ((guint32)((GPOINTER_TO_SIZE(v) - 1) & 0xffffffffu))

typedef struct {
    guint pack, block;
    guint8 *data; /* decompressed, or NULL */
} CachedBlock;

struct SnapStore {
    char *dir, *packdir, *snapdir;
    GPtrArray *packs;       /* Pack* */
    GHashTable *pack_names; /* name -> index + 1 */
    GHashTable *pages;      /* 16-byte hash -> LOC */
    ZSTD_DCtx *dctx;
    CachedBlock cache[BLOCK_CACHE];
    guint cache_next;
    GHashTable *bodies; /* snapshot id -> GBytes manifest body (recently used) */
    GQueue *body_order;
    GHashTable *infos; /* snapshot id -> SnapInfo of its manifest as read (manifests_by_age);
                          forgotten when this store writes or removes that manifest */
    GArray *by_age;    /* deferred sync: SnapInfo of every manifest, oldest first, kept up
                          to date by this store's ingests (NULL: read the directory) */
    guint8 zero_hash[HASH_LEN];
    /* zstd contexts kept between ingests: a new one allocates and clears
     * its tables (MBs at the manifests' level 7) at its first frame */
    ZSTD_CCtx *body_cctx;  /* manifests: the caller's thread */
    ZSTD_CCtx *block_cctx; /* packs: lent to an ingest's compressor thread */
    gboolean defer_sync;   /* ingests not synced one by one (snap_store_defer_sync) */
};

/* Ingest keeps the snapshot as ops in stream order, serialized at commit. */
enum { OP_RAW = 'R', OP_PAGE = 'P', OP_ZEROS = 'Z', OP_PAGES = 'N', OP_PACKS = 'K' };
typedef struct {
    guint8 type;
    guint64 h;     /* ZEROS/PAGES: first record header */
    guint32 n;     /* records (ZEROS/PAGES/PAGE) */
    guint32 ref0;  /* first ref in refs */
    gsize raw_off; /* RAW: bytes in raw */
    gsize raw_len;
} Op;

typedef struct {
    guint8 *data;
    guint32 npages;
    gboolean end; /* marker: no more blocks */
} Block;

struct SnapIngest {
    SnapStore *s;
    SnapStreamParser *parser;
    XXH3_state_t *hs;
    int level;
    GArray *ops; /* Op */
    GByteArray *raw;
    GArray *refs;             /* guint64: 0 zero page, else (store pack << 32 | ordinal) + 1 */
    guint32 *fresh;           /* open addressing: ordinal + 1 of a new page, 0 = empty */
    guint32 fresh_mask;       /* slots - 1 */
    GByteArray *fresh_hashes; /* hash per new page, by ordinal */
    guint new_pack;           /* index the new pack gets in s->packs */
    char *pack_tmp, *pack_name;
    int fd;
    guint64 stream_len, pages;
    Block *blk;               /* being filled */
    GAsyncQueue *todo, *done; /* to the compressor / back for reuse */
    GThread *worker;          /* the compressor (NULL: inline_zstd) */
    gboolean started;         /* the pack is open */
    gboolean inline_zstd;     /* compression in the ingest's own thread */
    gboolean ended, blocks_done;
    ZSTD_CCtx *cctx; /* the compressor's, while it runs */
    guint8 *cbuf;
    gsize cap;
    /* compressor state: written only by the worker until it is joined */
    GArray *blocks;                 /* BlockLoc */
    guint64 pack_off, pack_flushed; /* written / writeback started */
    GError *werr;
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

static void put_varint(GByteArray *b, guint64 v)
{
    guint8 t[10];
    int n = 0;
    do {
        t[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
        v >>= 7;
    } while (v);
    g_byte_array_append(b, t, n);
}

static gboolean get_varint(const guint8 **p, const guint8 *end, guint64 *v)
{
    *v = 0;
    for (int sh = 0; sh < 64 && *p < end; sh += 7) {
        guint8 c = *(*p)++;
        *v |= (guint64)(c & 0x7f) << sh;
        if (!(c & 0x80))
            return TRUE;
    }
    return FALSE;
}

static void hash128(const void *d, gsize n, guint8 out[HASH_LEN])
{
    snap_hash128(d, n, out);
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

static gboolean write_all(int fd, const void *d, gsize n)
{
    const guint8 *p = d;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FALSE;
        p += w;
        n -= w;
    }
    return TRUE;
}

static void sync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

/* DIR/NAME.<pid>.tmp written, its writeback started (if SYNC), left open in
 * *FD for tmp_sync. Returns the temp path (g_free) or NULL. */
static char *write_tmp_start(const char *dir, const char *name, const void *d, gsize n, int *fd,
                             gboolean sync, GError **error)
{
    char *tmp = g_strdup_printf("%s/%s.%d.tmp", dir, name, getpid());
    *fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (*fd < 0) {
        io_fail(error, tmp, "cannot create");
        g_free(tmp);
        return NULL;
    }
    if (!write_all(*fd, d, n)) {
        io_fail(error, tmp, "cannot write");
        close(*fd);
        *fd = -1;
        unlink(tmp);
        g_free(tmp);
        return NULL;
    }
    if (sync)
        sync_file_range(*fd, 0, n, SYNC_FILE_RANGE_WRITE);
    return tmp;
}

/* Syncs (if SYNC) and closes a write_tmp_start file (the temp file stays on
 * error). */
static gboolean tmp_sync(int fd, const char *tmp, gboolean sync, GError **error)
{
    gboolean ok = !sync || fsync(fd) == 0;
    if (!ok)
        io_fail(error, tmp, "cannot write");
    close(fd);
    return ok;
}

/* First half of a crash-safe write: DIR/NAME.<pid>.tmp written and synced.
 * Returns the temp path (g_free) or NULL. */
static char *write_tmp(const char *dir, const char *name, const void *d, gsize n, GError **error)
{
    int fd;
    char *tmp = write_tmp_start(dir, name, d, n, &fd, TRUE, error);
    if (tmp && !tmp_sync(fd, tmp, TRUE, error)) {
        unlink(tmp);
        g_free(tmp);
        return NULL;
    }
    return tmp;
}

/* Second half: rename to DIR/NAME, optionally sync the directory. */
static gboolean publish(const char *tmp, const char *dir, const char *name, gboolean sync,
                        GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (rename(tmp, path) < 0) {
        io_fail(error, path, "cannot rename to");
        unlink(tmp);
        return FALSE;
    }
    if (sync)
        sync_dir(dir);
    return TRUE;
}

/* Crash-safe write: temp file, fsync, rename, fsync directory. */
static gboolean write_atomic(const char *dir, const char *name, const void *d, gsize n,
                             GError **error)
{
    g_autofree char *tmp = write_tmp(dir, name, d, n, error);
    return tmp && publish(tmp, dir, name, TRUE, error);
}

static void pack_free(Pack *p)
{
    if (!p)
        return;
    if (p->map)
        munmap((void *)p->map, p->map_len);
    g_free(p->name);
    g_array_free(p->blocks, TRUE);
    g_free(p->page_block);
    g_free(p->hashes);
    g_free(p);
}

static char *pack_file(const char *dir, const char *name, guint32 gen)
{
    return gen ? g_strdup_printf("%s/%s.g%u.pack", dir, name, gen)
               : g_strdup_printf("%s/%s.pack", dir, name);
}

/* Index: "ITCIDX02" | generation u32 | blocks u32 | ordinals u32
 * | (offset u64 | clen u32 | npages u32 | first ordinal u32) per block
 * | hash[16] per page of the blocks | xxh3_128 of all preceding bytes. */
static gboolean add_index(SnapStore *s, const char *base, const guint8 *d, gsize n, GError **error)
{
    g_autofree char *obj = g_strdup_printf("pack index %s.idx", base);
    if (n >= MAGIC_LEN && !memcmp(d, "ITCIDX", 6) && memcmp(d, IDX_MAGIC, MAGIC_LEN))
        return corrupt(error, obj,
                       "old pack index format (pre-release store, one page per chunk): not "
                       "supported, re-create the store");
    if (n < IDX_HDR + HASH_LEN || memcmp(d, IDX_MAGIC, MAGIC_LEN))
        return corrupt(error, obj, "bad header");
    guint8 sum[HASH_LEN];
    hash128(d, n - HASH_LEN, sum);
    if (memcmp(sum, d + n - HASH_LEN, HASH_LEN))
        return corrupt(error, obj, "checksum mismatch");
    guint64 nb = get_be(d + MAGIC_LEN + 4, 4), nord = get_be(d + MAGIC_LEN + 8, 4);
    if (nb * IDX_BLOCK > n - IDX_HDR - HASH_LEN)
        return corrupt(error, obj, "bad entry count");
    Pack *p = g_new0(Pack, 1);
    p->name = g_strdup(base);
    p->gen = get_be(d + MAGIC_LEN, 4);
    p->blocks = g_array_sized_new(FALSE, FALSE, sizeof(BlockLoc), nb);
    p->npages = nord;
    p->page_block = g_new(guint32, nord ? nord : 1);
    for (guint64 i = 0; i < nord; i++)
        p->page_block[i] = NO_BLOCK;
    const guint8 *e = d + IDX_HDR;
    guint64 next = 0, live = 0;
    for (guint64 i = 0; i < nb; i++, e += IDX_BLOCK) {
        BlockLoc b = {get_be(e, 8), get_be(e + 8, 4), get_be(e + 12, 4), get_be(e + 16, 4), live};
        if (b.npages == 0 || b.npages > BLOCK_PAGES || b.first < next ||
            (guint64)b.first + b.npages > nord || b.clen > ZSTD_compressBound(BLOCK_BYTES)) {
            pack_free(p);
            return corrupt(error, obj, "bad block entry");
        }
        for (guint32 k = 0; k < b.npages; k++)
            p->page_block[b.first + k] = i;
        next = (guint64)b.first + b.npages;
        live += b.npages;
        g_array_append_val(p->blocks, b);
    }
    if (nb * IDX_BLOCK + live * HASH_LEN != n - IDX_HDR - HASH_LEN) {
        pack_free(p);
        return corrupt(error, obj, "bad entry count");
    }
    p->live_pages = live;
    p->hashes = g_memdup2(e, live * HASH_LEN + 1);
    guint pack = s->packs->len;
    g_ptr_array_add(s->packs, p);
    g_hash_table_insert(s->pack_names, p->name, GUINT_TO_POINTER(pack + 1));
    for (guint i = 0; i < p->blocks->len; i++) {
        const BlockLoc *b = &g_array_index(p->blocks, BlockLoc, i);
        for (guint32 k = 0; k < b->npages; k++)
            g_hash_table_replace(s->pages, p->hashes + (gsize)(b->hoff + k) * HASH_LEN,
                                 LOC(pack, b->first + k));
    }
    return TRUE;
}

static gboolean load_index(SnapStore *s, const char *base, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s.idx", s->packdir, base);
    g_autofree guint8 *d = NULL;
    gsize n;
    if (!g_file_get_contents(path, (char **)&d, &n, error))
        return FALSE;
    if (!add_index(s, base, d, n, error))
        return FALSE;
    const Pack *p = s->packs->pdata[s->packs->len - 1];
    g_autofree char *pp = pack_file(s->packdir, base, p->gen);
    if (!g_file_test(pp, G_FILE_TEST_EXISTS)) {
        g_autofree char *obj = g_strdup_printf("pack index %s.idx", base);
        return corrupt(error, obj, "pack file missing");
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
    s->packs = g_ptr_array_new_with_free_func((GDestroyNotify)pack_free);
    s->pack_names = g_hash_table_new(g_str_hash, g_str_equal);
    s->pages = g_hash_table_new(hash_key, hash_eq);
    s->dctx = ZSTD_createDCtx();
    s->bodies =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
    s->body_order = g_queue_new();
    s->infos = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
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

void snap_store_defer_sync(SnapStore *s)
{
    s->defer_sync = TRUE;
}

gboolean snap_store_sync(SnapStore *s, GError **error)
{
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    gboolean ok = fd >= 0 && syncfs(fd) == 0;
    if (!ok)
        io_fail(error, s->dir, "cannot sync");
    if (fd >= 0)
        close(fd);
    return ok;
}

void snap_store_close(SnapStore *s)
{
    if (!s)
        return;
    for (guint i = 0; i < BLOCK_CACHE; i++)
        g_free(s->cache[i].data);
    ZSTD_freeDCtx(s->dctx);
    ZSTD_freeCCtx(s->body_cctx);
    ZSTD_freeCCtx(g_atomic_pointer_exchange(&s->block_cctx, NULL));
    g_hash_table_destroy(s->bodies);
    g_queue_free_full(s->body_order, g_free);
    g_hash_table_destroy(s->infos);
    g_clear_pointer(&s->by_age, g_array_unref);
    g_hash_table_destroy(s->pages);
    g_hash_table_destroy(s->pack_names);
    g_ptr_array_free(s->packs, TRUE);
    g_free(s->dir);
    g_free(s->packdir);
    g_free(s->snapdir);
    g_free(s);
}

static gboolean block_corrupt(SnapStore *s, guint pack, guint block, GError **error,
                              const char *what)
{
    const Pack *p = s->packs->pdata[pack];
    const BlockLoc *b = &g_array_index(p->blocks, BlockLoc, block);
    g_autofree char *path = pack_file("", p->name, p->gen);
    g_autofree char *obj =
        g_strdup_printf("pack %s block %u (offset %" G_GUINT64_FORMAT ")", path + 1, block, b->off);
    return corrupt(error, obj, what);
}

static Pack *pack_map(SnapStore *s, guint pack, GError **error)
{
    Pack *p = s->packs->pdata[pack];
    if (p->map)
        return p;
    g_autofree char *path = pack_file(s->packdir, p->name, p->gen);
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
    p->map = m;
    p->map_len = st.st_size;
    return p;
}

/* Decompresses one block into OUT (BLOCK_BYTES), checking its header against
 * the index and its frame checksum. */
static gboolean read_block(SnapStore *s, guint pack, guint block, guint8 *out, GError **error)
{
    Pack *p = pack_map(s, pack, error);
    if (!p)
        return FALSE;
    const BlockLoc *b = &g_array_index(p->blocks, BlockLoc, block);
    if (b->off > p->map_len || p->map_len - b->off < BLOCK_HDR + (guint64)b->clen)
        return block_corrupt(s, pack, block, error, "truncated");
    const guint8 *e = p->map + b->off;
    if (get_be(e, 4) != b->npages || get_be(e + 4, 4) != b->clen)
        return block_corrupt(s, pack, block, error, "block header does not match index");
    if (XXH3_64bits(e + BLOCK_HDR, b->clen) != get_be(e + 8, 8))
        return block_corrupt(s, pack, block, error, "chunk checksum mismatch");
    gsize want = (gsize)b->npages * SNAP_PAGE_SIZE;
    size_t n = ZSTD_decompressDCtx(s->dctx, out, want, e + BLOCK_HDR, b->clen);
    if (ZSTD_isError(n) || n != want)
        return block_corrupt(s, pack, block, error, "cannot decompress");
    return TRUE;
}

/* The page at ORD of PACK, through a small cache of decompressed blocks (a
 * sequential export decompresses each block once). */
static const guint8 *get_page(SnapStore *s, guint pack, guint32 ord, GError **error)
{
    const Pack *p = s->packs->pdata[pack];
    guint block = p->page_block[ord];
    const BlockLoc *b = &g_array_index(p->blocks, BlockLoc, block);
    for (guint i = 0; i < BLOCK_CACHE; i++) {
        CachedBlock *c = &s->cache[(s->cache_next + BLOCK_CACHE - 1 - i) % BLOCK_CACHE];
        if (c->data && c->pack == pack && c->block == block)
            return c->data + (gsize)(ord - b->first) * SNAP_PAGE_SIZE;
    }
    CachedBlock *c = &s->cache[s->cache_next];
    if (!c->data)
        c->data = g_malloc(BLOCK_BYTES);
    c->pack = G_MAXUINT;
    if (!read_block(s, pack, block, c->data, error))
        return NULL;
    c->pack = pack;
    c->block = block;
    s->cache_next = (s->cache_next + 1) % BLOCK_CACHE;
    return c->data + (gsize)(ord - b->first) * SNAP_PAGE_SIZE;
}

/* ---- ingest ---- */

/* The compressor's zstd context and output buffer (one ingest at a time
 * has the store's context). */
static void compressor_begin(SnapIngest *in)
{
    in->cctx = g_atomic_pointer_exchange(&in->s->block_cctx, NULL);
    if (in->cctx)
        ZSTD_CCtx_reset(in->cctx, ZSTD_reset_session_and_parameters);
    else
        in->cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(in->cctx, ZSTD_c_compressionLevel, in->level);
    in->cap = BLOCK_HDR + ZSTD_compressBound(BLOCK_BYTES);
    in->cbuf = g_malloc(in->cap);
}

/* Block B compressed and appended to the pack. */
static void compressor_block(SnapIngest *in, const Block *b)
{
    if (in->werr)
        return;
    guint8 *cbuf = in->cbuf;
    size_t c = ZSTD_compress2(in->cctx, cbuf + BLOCK_HDR, in->cap - BLOCK_HDR, b->data,
                              (gsize)b->npages * SNAP_PAGE_SIZE);
    if (ZSTD_isError(c)) {
        g_set_error(&in->werr, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO, "zstd: %s",
                    ZSTD_getErrorName(c));
        return;
    }
    put_be(cbuf, 4, b->npages);
    put_be(cbuf + 4, 4, c);
    put_be(cbuf + 8, 8, XXH3_64bits(cbuf + BLOCK_HDR, c));
    BlockLoc loc = {in->pack_off, c, b->npages, 0, 0};
    if (!write_all(in->fd, cbuf, BLOCK_HDR + c))
        io_fail(&in->werr, in->pack_tmp, "cannot write");
    g_array_append_val(in->blocks, loc);
    in->pack_off += BLOCK_HDR + c;
    /* start writeback of each MiB now: the final fsync then has
     * little left to do (not per block: each call is a disk
     * request, a VM exit on virtio, for a few KB here) */
    if (!in->s->defer_sync && in->pack_off - in->pack_flushed >= WRITEBACK_BYTES) {
        sync_file_range(in->fd, in->pack_flushed, in->pack_off - in->pack_flushed,
                        SYNC_FILE_RANGE_WRITE);
        in->pack_flushed = in->pack_off;
    }
}

/* After the last block: the pack synced, the context back to the store. */
static void compressor_end(SnapIngest *in)
{
    if (!in->werr && !in->s->defer_sync && fsync(in->fd) < 0)
        io_fail(&in->werr, in->pack_tmp, "cannot sync");
    g_clear_pointer(&in->cbuf, g_free);
    /* back to the store for the next ingest (freed if another is there) */
    if (!g_atomic_pointer_compare_and_exchange(&in->s->block_cctx, NULL, in->cctx))
        ZSTD_freeCCtx(in->cctx);
    in->cctx = NULL;
}

/* One block from the queue (the end marker: the end); FALSE after the end. */
static gboolean compressor_step(SnapIngest *in, Block *b)
{
    if (b->end) {
        compressor_end(in);
        g_async_queue_push(in->done, b);
        return FALSE;
    }
    compressor_block(in, b);
    g_async_queue_push(in->done, b);
    return TRUE;
}

/* The compressor thread: the pack's data is synced there, while the main
 * thread writes the manifest. */
static gpointer compressor(gpointer u)
{
    SnapIngest *in = u;
    compressor_begin(in);
    while (compressor_step(in, g_async_queue_pop(in->todo)))
        ;
    return NULL;
}

/* Inline compression (no thread): the blocks queued so far, now. */
static void compressor_drain(SnapIngest *in)
{
    Block *b;
    while (in->inline_zstd && (b = g_async_queue_try_pop(in->todo)))
        compressor_step(in, b);
}

static gboolean pack_start(SnapIngest *in, GError **error)
{
    in->pack_name = g_strdup_printf("pack-%" G_GINT64_MODIFIER "x-%d", g_get_real_time(), getpid());
    in->pack_tmp = g_strdup_printf("%s/%s.pack.tmp", in->s->packdir, in->pack_name);
    in->fd = open(in->pack_tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in->fd < 0 || !write_all(in->fd, PACK_MAGIC, MAGIC_LEN))
        return io_fail(error, in->pack_tmp, "cannot write");
    in->pack_off = MAGIC_LEN;
    in->todo = g_async_queue_new();
    in->done = g_async_queue_new();
    /* A store filling in one go (deferred sync: a recording's checkpoints,
     * a few new pages each) compresses in the ingest's thread: a thread of
     * its own per ingest cost more (its creation and the hand-overs, ~15
     * system calls) than it saved. */
    in->inline_zstd = in->s->defer_sync;
    for (int i = 0; i < (in->inline_zstd ? 1 : BLOCKS_IN_FLIGHT); i++) {
        Block *b = g_new0(Block, 1);
        b->data = g_malloc(BLOCK_BYTES);
        g_async_queue_push(in->done, b);
    }
    in->started = TRUE;
    if (in->inline_zstd)
        compressor_begin(in);
    else
        in->worker = g_thread_new("snap-zstd", compressor, in);
    return TRUE;
}

/* Hands the filled block to the compressor (NPAGES 0: end). */
static void block_submit(SnapIngest *in)
{
    Block *b = in->blk;
    if (!b)
        b = g_async_queue_pop(in->done);
    in->blk = NULL;
    g_async_queue_push(in->todo, b);
    compressor_drain(in);
}

/* Ends the compressor's input (after the filled block, if any); it then
 * writes the remaining blocks and syncs the pack. */
static void pack_end(SnapIngest *in)
{
    if (!in->started || in->ended)
        return;
    if (in->blk && in->blk->npages)
        block_submit(in);
    Block *end = in->blk ? in->blk : g_async_queue_pop(in->done);
    in->blk = NULL;
    end->npages = 0;
    end->end = TRUE;
    g_async_queue_push(in->todo, end);
    in->ended = TRUE;
    compressor_drain(in);
}

/* After pack_end: waits until the compressor has written every block (it
 * hands the end marker back before syncing the pack). */
static void pack_wait_blocks(SnapIngest *in)
{
    if (!in->started || in->blocks_done)
        return;
    pack_end(in);
    GSList *held = NULL;
    for (;;) {
        Block *b = g_async_queue_pop(in->done);
        if (b->end) {
            g_async_queue_push(in->done, b);
            break;
        }
        held = g_slist_prepend(held, b);
    }
    for (GSList *l = held; l; l = l->next)
        g_async_queue_push(in->done, l->data);
    g_slist_free(held);
    in->blocks_done = TRUE;
}

static void pack_join(SnapIngest *in)
{
    if (!in->started)
        return;
    pack_end(in);
    if (in->worker)
        g_thread_join(in->worker);
    in->worker = NULL;
    in->started = FALSE;
    Block *b;
    while ((b = g_async_queue_try_pop(in->done))) {
        g_free(b->data);
        g_free(b);
    }
}

static guint32 *fresh_slot(SnapIngest *in, const guint8 *h)
{
    guint32 i = hash_key(h) & in->fresh_mask;
    while (in->fresh[i] &&
           memcmp(in->fresh_hashes->data + (gsize)(in->fresh[i] - 1) * HASH_LEN, h, HASH_LEN))
        i = (i + 1) & in->fresh_mask;
    return &in->fresh[i];
}

static void fresh_grow(SnapIngest *in)
{
    guint32 n = (in->fresh_mask + 1) * 2;
    g_free(in->fresh);
    in->fresh = g_new0(guint32, n);
    in->fresh_mask = n - 1;
    guint32 count = in->fresh_hashes->len / HASH_LEN;
    for (guint32 o = 0; o < count; o++)
        *fresh_slot(in, in->fresh_hashes->data + (gsize)o * HASH_LEN) = o + 1;
}

static guint64 new_page_ref(SnapIngest *in, const guint8 *page, const guint8 *h, GError **error)
{
    gpointer v = g_hash_table_lookup(in->s->pages, h);
    if (v)
        return ((guint64)LOC_PACK(v) << 32 | LOC_ORD(v)) + 1;
    guint32 *slot = fresh_slot(in, h);
    if (*slot)
        return ((guint64)in->new_pack << 32 | (*slot - 1)) + 1;
    if (!in->started && !pack_start(in, error))
        return 0;
    if (!in->blk) {
        in->blk = g_async_queue_pop(in->done);
        in->blk->npages = 0;
    }
    memcpy(in->blk->data + (gsize)in->blk->npages * SNAP_PAGE_SIZE, page, SNAP_PAGE_SIZE);
    if (++in->blk->npages == BLOCK_PAGES)
        block_submit(in);
    guint32 ord = in->fresh_hashes->len / HASH_LEN;
    g_byte_array_append(in->fresh_hashes, h, HASH_LEN);
    *slot = ord + 1;
    if ((ord + 1) * 2u > in->fresh_mask)
        fresh_grow(in);
    return ((guint64)in->new_pack << 32 | ord) + 1;
}

static gboolean page_is_zero(const guint8 *p)
{
    guint64 acc = 0, w;
    for (gsize i = 0; i < SNAP_PAGE_SIZE; i += sizeof w) {
        memcpy(&w, p + i, sizeof w);
        acc |= w;
        if (i == 0 && acc) /* most pages: decided by their first word */
            return FALSE;
    }
    return acc == 0;
}

static Op *last_op(SnapIngest *in, guint8 type)
{
    if (in->ops->len && g_array_index(in->ops, Op, in->ops->len - 1).type == type)
        return &g_array_index(in->ops, Op, in->ops->len - 1);
    return NULL;
}

static void add_raw(SnapIngest *in, const guint8 *d, gsize n)
{
    if (!n)
        return;
    Op *o = last_op(in, OP_RAW);
    if (!o) {
        Op op = {.type = OP_RAW, .raw_off = in->raw->len};
        g_array_append_val(in->ops, op);
        o = last_op(in, OP_RAW);
    }
    g_byte_array_append(in->raw, d, n);
    o->raw_len += n;
}

/* A RAM record whose header is 8 bytes continues a run of its type when its
 * header is the run's first header + 4 KiB per record. */
static void add_run(SnapIngest *in, guint8 type, guint64 h, guint32 n, guint64 ref)
{
    Op *o = last_op(in, type);
    if (!o || o->h + (guint64)o->n * SNAP_PAGE_SIZE != h || o->n > G_MAXUINT32 - n) {
        Op op = {.type = type, .h = h, .ref0 = in->refs->len};
        g_array_append_val(in->ops, op);
        o = last_op(in, type);
    }
    o->n += n;
    if (type == OP_PAGES)
        g_array_append_val(in->refs, ref);
}

static gboolean on_record(const SnapRecord *rec, gpointer user, GError **error)
{
    SnapIngest *in = user;
    /* zero-run records (ITC QEMU patch 0027) are kept as raw bytes */
    if (rec->kind == SNAP_REC_RAM_ZERO && !(rec->ram_flags & SNAP_RAM_ZERO_RUN) &&
        rec->raw_len == 9 * (gsize)rec->npages &&
        rec->raw[8] == 0) { /* 8-byte headers, fill byte 0 (a run: the parser checked) */
        add_run(in, OP_ZEROS, get_be(rec->raw, 8), rec->npages, 0);
        return TRUE;
    }
    if (rec->kind != SNAP_REC_RAM_PAGE) {
        add_raw(in, rec->raw, rec->raw_len);
        return TRUE;
    }
    in->pages++;
    guint64 ref = 0;
    if (!page_is_zero(rec->data)) { /* the zero page is never stored */
        guint8 h[HASH_LEN];
        hash128(rec->data, SNAP_PAGE_SIZE, h);
        if (memcmp(h, in->s->zero_hash, HASH_LEN) && !(ref = new_page_ref(in, rec->data, h, error)))
            return FALSE;
    }
    gsize hl = rec->raw_len - SNAP_PAGE_SIZE;
    if (hl == 8) {
        add_run(in, OP_PAGES, get_be(rec->raw, 8), 1, ref);
        return TRUE;
    }
    add_raw(in, rec->raw, hl);
    Op op = {.type = OP_PAGE, .n = 1, .ref0 = in->refs->len};
    g_array_append_val(in->ops, op);
    g_array_append_val(in->refs, ref);
    return TRUE;
}

SnapIngest *snap_store_ingest_begin(SnapStore *s, int zstd_level, GError **error)
{
    SnapIngest *in = g_new0(SnapIngest, 1);
    in->s = s;
    in->level = zstd_level;
    in->parser = snap_stream_parser_new(on_record, in);
    in->hs = XXH3_createState();
    XXH3_128bits_reset(in->hs);
    in->ops = g_array_new(FALSE, FALSE, sizeof(Op));
    in->raw = g_byte_array_new();
    in->refs = g_array_new(FALSE, FALSE, sizeof(guint64));
    in->fresh = g_new0(guint32, FRESH_SLOTS0);
    in->fresh_mask = FRESH_SLOTS0 - 1;
    in->fresh_hashes = g_byte_array_new();
    in->new_pack = s->packs->len;
    in->blocks = g_array_new(FALSE, FALSE, sizeof(BlockLoc));
    in->fd = -1;
    return in;
}

gboolean snap_ingest_feed(SnapIngest *in, const guint8 *buf, gsize len, GError **error)
{
    snap_hash128_update(in->hs, buf, len);
    in->stream_len += len;
    return snap_stream_parser_feed(in->parser, buf, len, error);
}

char *snap_store_ingest_file(SnapStore *s, FILE *f, const char *name, int zstd_level,
                             void (*progress)(void *opaque, guint64 bytes), void *opaque,
                             guint64 *total, GError **error)
{
    SnapIngest *in = snap_store_ingest_begin(s, zstd_level, error);
    if (!in)
        return NULL;
    /* 64 KiB reads: each piece is hashed and parsed while in cache (larger
     * reads and mmap both measured slower) */
    g_autofree guint8 *buf = g_malloc(1 << 16);
    guint64 n_total = 0;
    gboolean ok = TRUE;
    size_t n;
    while (ok && (n = fread(buf, 1, 1 << 16, f)) > 0) {
        ok = snap_ingest_feed(in, buf, n, error);
        n_total += n;
        if (progress)
            progress(opaque, n_total);
    }
    if (ok && ferror(f)) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO, "read error on %s", name);
        ok = FALSE;
    }
    if (!ok) {
        snap_ingest_abort(in);
        return NULL;
    }
    if (total)
        *total = n_total;
    return snap_ingest_commit(in, error);
}

void snap_ingest_abort(SnapIngest *in)
{
    if (!in)
        return;
    pack_join(in);
    if (in->fd >= 0) {
        close(in->fd);
        unlink(in->pack_tmp);
    }
    if (in->todo)
        g_async_queue_unref(in->todo);
    if (in->done)
        g_async_queue_unref(in->done);
    g_clear_error(&in->werr);
    snap_stream_parser_free(in->parser);
    XXH3_freeState(in->hs);
    g_array_free(in->ops, TRUE);
    g_byte_array_free(in->raw, TRUE);
    g_array_free(in->refs, TRUE);
    g_free(in->fresh);
    g_byte_array_free(in->fresh_hashes, TRUE);
    g_array_free(in->blocks, TRUE);
    g_free(in->pack_tmp);
    g_free(in->pack_name);
    g_free(in);
}

/* The new pack's index bytes (after pack_join). */
static GByteArray *index_bytes(guint32 gen, guint32 ordinals, GArray *blocks, const guint8 *hashes,
                               gsize hashes_len)
{
    GByteArray *idx = g_byte_array_new();
    guint8 h[IDX_BLOCK];
    g_byte_array_append(idx, (const guint8 *)IDX_MAGIC, MAGIC_LEN);
    put_be(h, 4, gen);
    put_be(h + 4, 4, blocks->len);
    put_be(h + 8, 4, ordinals);
    g_byte_array_append(idx, h, 12);
    for (guint i = 0; i < blocks->len; i++) {
        const BlockLoc *b = &g_array_index(blocks, BlockLoc, i);
        put_be(h, 8, b->off);
        put_be(h + 8, 4, b->clen);
        put_be(h + 12, 4, b->npages);
        put_be(h + 16, 4, b->first);
        g_byte_array_append(idx, h, IDX_BLOCK);
    }
    g_byte_array_append(idx, hashes, hashes_len);
    guint8 sum[HASH_LEN];
    hash128(idx->data, idx->len, sum);
    g_byte_array_append(idx, sum, HASH_LEN);
    return idx;
}

/* ---- manifests ---- */

typedef struct {
    SnapInfo info;
    guint64 created_us;
    guint8 stream_hash[HASH_LEN], body_hash[HASH_LEN], parent_body_hash[HASH_LEN];
    gboolean has_parent;
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
    gsize hdr = MANIFEST_HDR;
    if (n >= MAGIC_LEN &&
        (!memcmp(d, "ITCSNAP1", MAGIC_LEN) || !memcmp(d, "ITCSNAP2", MAGIC_LEN))) {
        manifest_clear(m);
        return corrupt(error, obj,
                       "old manifest format (pre-release store, pages by hash): not supported, "
                       "re-create the store");
    }
    if (n < hdr + HASH_LEN || n > MAX_MANIFEST || memcmp(d, MANIFEST_MAGIC, MAGIC_LEN)) {
        manifest_clear(m);
        return corrupt(error, obj, "bad header (not an ITCSNAP3 manifest)");
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
    g_strlcpy(m->info.id, id, sizeof m->info.id);
    m->info.stream_len = get_be(d + 8, 8);
    m->created_us = get_be(d + 32, 8);
    m->info.created = m->created_us / G_USEC_PER_SEC;
    m->info.pages = get_be(d + 40, 8);
    m->info.manifest_bytes = n;
    memcpy(m->stream_hash, d + 16, HASH_LEN);
    m->body_ulen = ulen;
    m->body_off = hdr;
    m->body_clen = clen;
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
    guint8 h[HASH_LEN];
    hash128(body, m->body_ulen, h);
    if (memcmp(h, m->body_hash, HASH_LEN)) {
        g_free(body);
        corrupt(error, obj, "decompressed body does not match its checksum");
        return NULL;
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
static GBytes *compress_body(SnapStore *s, const guint8 *body, gsize len, GBytes *prefix,
                             GError **error)
{
    gsize pl = 0;
    const guint8 *pd = prefix ? g_bytes_get_data(prefix, &pl) : NULL;
    int wlog = 10;
    while (wlog < 30 && ((guint64)1 << wlog) < len + pl)
        wlog++;
    if (!s->body_cctx)
        s->body_cctx = ZSTD_createCCtx();
    ZSTD_CCtx *c = s->body_cctx;
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
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

/* A manifest file for BODY; delta against PARENT (id, body) if that is
 * smaller than compressing the body alone. */
static GByteArray *manifest_bytes(SnapStore *s, const ManifestFields *f, const guint8 *body,
                                  gsize len, const char *parent, GBytes *parent_body,
                                  GError **error)
{
    g_autoptr(GBytes) full = compress_body(s, body, len, NULL, error);
    if (!full)
        return NULL;
    g_autoptr(GBytes) delta = NULL;
    if (parent_body && !(delta = compress_body(s, body, len, parent_body, error)))
        return NULL;
    gboolean use_delta = delta && g_bytes_get_size(delta) < g_bytes_get_size(full);
    GBytes *z = use_delta ? delta : full;
    gsize clen = g_bytes_get_size(z);
    GByteArray *ba = g_byte_array_sized_new(MANIFEST_HDR + clen + HASH_LEN);
    g_byte_array_set_size(ba, MANIFEST_HDR + clen + HASH_LEN);
    guint8 *m = ba->data;
    memset(m, 0, MANIFEST_HDR);
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
    return ba;
}

static gint by_created(gconstpointer a, gconstpointer b)
{
    const SnapInfo *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The list manifests_by_age() keeps is out of date (a manifest removed or
 * rewritten): the next one reads the directory again. */
static void forget_by_age(SnapStore *s)
{
    g_clear_pointer(&s->by_age, g_array_unref);
}

static gboolean manifest_write(SnapStore *s, const ManifestFields *f, const guint8 *body, gsize len,
                               const char *parent, GBytes *parent_body, GError **error)
{
    g_autoptr(GByteArray) m = manifest_bytes(s, f, body, len, parent, parent_body, error);
    if (!m)
        return FALSE;
    g_autofree char *name = g_strdup_printf("%s.snap", f->id);
    g_hash_table_remove(s->infos, f->id);
    forget_by_age(s);
    return write_atomic(s->snapdir, name, m->data, m->len, error);
}

/* Headers of every readable manifest, oldest first (SnapInfo.created holds
 * the creation time in microseconds here). Unreadable ones are skipped
 * (verify reports them).  A store filling in one go (deferred sync: this
 * process's alone meanwhile) keeps the list between its ingests rather
 * than reading the directory for each: an ingest then costs the same at
 * the 400th checkpoint as at the first (it took 0.7 ms at the 25th and
 * 1.35 ms at the 175th). */
static GArray *manifests_by_age(SnapStore *s)
{
    if (s->by_age)
        return g_array_copy(s->by_age);
    g_autoptr(GPtrArray) ids = list_dir(s->snapdir, ".snap");
    GArray *out = g_array_new(FALSE, FALSE, sizeof(SnapInfo));
    for (guint i = 0; i < ids->len; i++) {
        /* each ingest picks a parent among all manifests: read each once */
        SnapInfo *info = g_hash_table_lookup(s->infos, ids->pdata[i]);
        if (!info) {
            Manifest m;
            if (!manifest_read(s, ids->pdata[i], &m, NULL))
                continue;
            m.info.created = m.created_us; /* sort key; callers use only id/parent */
            info = g_memdup2(&m.info, sizeof m.info);
            g_hash_table_insert(s->infos, g_strdup(ids->pdata[i]), info);
            manifest_clear(&m);
        }
        g_array_append_val(out, *info);
    }
    g_array_sort(out, by_created);
    if (s->defer_sync)
        s->by_age = g_array_copy(out);
    return out;
}

/* A manifest this store has just written, into the kept list (if any). */
static void add_by_age(SnapStore *s, const char *id, guint64 created_us, const guint8 *manifest)
{
    if (!s->by_age)
        return;
    SnapInfo info = {.created = created_us};
    g_strlcpy(info.id, id, sizeof info.id);
    if (!all_zero(manifest + 80, HASH_LEN)) { /* a delta: its parent */
        g_autofree char *parent = hex(manifest + 80, HASH_LEN);
        g_strlcpy(info.parent, parent, sizeof info.parent);
    }
    for (guint i = 0; i < s->by_age->len; i++)
        if (!strcmp(g_array_index(s->by_age, SnapInfo, i).id, id)) {
            g_array_remove_index(s->by_age, i);
            break;
        }
    g_array_append_val(s->by_age, info);
    g_array_sort(s->by_age, by_created);
}

static const SnapInfo *find_info(GArray *l, const char *id)
{
    for (guint i = 0; i < l->len; i++)
        if (!strcmp(g_array_index(l, SnapInfo, i).id, id))
            return &g_array_index(l, SnapInfo, i);
    return NULL;
}

/* Parent for a new manifest of snapshot ID: the new snapshot is number n
 * (0-based, by creation time, ID itself not counted); its parent is number
 * n - 1, except every DELTA_GROUP-th snapshot, whose parent is number n with
 * the lowest set bit cleared (skip-delta between groups). Chains stay below
 * DELTA_GROUP + log2(n / DELTA_GROUP) while almost every delta is against the
 * previous checkpoint. No parent if that chain is MAX_CHAIN long already
 * (after rm) or contains ID. */
static gboolean pick_parent(SnapStore *s, const char *id, char out[33])
{
    g_autoptr(GArray) l = manifests_by_age(s);
    for (guint i = 0; i < l->len; i++)
        if (!strcmp(g_array_index(l, SnapInfo, i).id, id)) {
            g_array_remove_index(l, i);
            break;
        }
    guint n = l->len;
    if (n == 0)
        return FALSE;
    const SnapInfo *c = &g_array_index(l, SnapInfo, n % DELTA_GROUP ? n - 1 : n & (n - 1));
    int depth = 0;
    for (const SnapInfo *a = c; a && a->parent[0]; a = find_info(l, a->parent))
        if (++depth >= MAX_CHAIN || !strcmp(a->parent, id))
            return FALSE;
    g_strlcpy(out, c->id, 33);
    return TRUE;
}

static gint by_name_packs(gconstpointer a, gconstpointer b, gpointer u)
{
    const char *const *names = u;
    return strcmp(names[*(const guint *)a], names[*(const guint *)b]);
}

static guint64 zigzag(gint64 d)
{
    return ((guint64)d << 1) ^ (guint64)(d >> 63);
}

/* The manifest body: 'K' pack table (names sorted), then the ops in stream
 * order; page refs are (table index << 32 | ordinal) + 1, 0 for a zero page,
 * each written as a zigzag varint of ref - (previous ref + 1). */
static GByteArray *serialize_body(SnapIngest *in)
{
    SnapStore *s = in->s;
    guint npk = s->packs->len + 1;
    g_autofree const char **names = g_new0(const char *, npk);
    g_autofree guint32 *table = g_new0(guint32, npk);
    for (guint i = 0; i < in->refs->len; i++) {
        guint64 r = g_array_index(in->refs, guint64, i);
        if (r)
            table[(r - 1) >> 32] = 1;
    }
    g_autoptr(GArray) used = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < npk; i++) {
        names[i] = i == in->new_pack ? in->pack_name : ((Pack *)s->packs->pdata[i])->name;
        if (table[i])
            g_array_append_val(used, i);
    }
    g_array_sort_with_data(used, by_name_packs, names);
    GByteArray *b = g_byte_array_new();
    guint8 op = OP_PACKS;
    g_byte_array_append(b, &op, 1);
    put_varint(b, used->len);
    for (guint i = 0; i < used->len; i++) {
        guint pk = g_array_index(used, guint, i);
        table[pk] = i;
        put_varint(b, strlen(names[pk]));
        g_byte_array_append(b, (const guint8 *)names[pk], strlen(names[pk]));
    }
    guint64 prev = 0, next_h = 0;
    for (guint i = 0; i < in->ops->len; i++) {
        const Op *o = &g_array_index(in->ops, Op, i);
        g_byte_array_append(b, &o->type, 1);
        if (o->type == OP_RAW) {
            put_varint(b, o->raw_len);
            g_byte_array_append(b, in->raw->data + o->raw_off, o->raw_len);
            continue;
        }
        if (o->type != OP_PAGE) {
            put_varint(b, zigzag((gint64)(o->h - next_h)));
            put_varint(b, o->n);
            next_h = o->h + (guint64)o->n * SNAP_PAGE_SIZE;
        }
        if (o->type == OP_ZEROS)
            continue;
        for (guint32 k = 0; k < o->n; k++) {
            guint64 r = g_array_index(in->refs, guint64, o->ref0 + k);
            guint64 v = r ? ((guint64)table[(r - 1) >> 32] << 32 | ((r - 1) & 0xffffffffu)) + 1 : 0;
            put_varint(b, zigzag((gint64)(v - prev - 1)));
            prev = v;
        }
    }
    return b;
}

static void unlink_free(char *tmp)
{
    if (tmp) {
        unlink(tmp);
        g_free(tmp);
    }
}

/* Write order: pack data and the index and manifest temp files are synced,
 * then pack and index are renamed (directory synced), then the manifest. */
static char *commit(SnapIngest *in, GError **error)
{
    pack_end(in); /* the compressor writes the last blocks meanwhile */
    g_autoptr(GByteArray) body = serialize_body(in);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(in->hs));
    ManifestFields f = {
        .stream_len = in->stream_len, .created_us = g_get_real_time(), .pages = in->pages};
    g_autofree char *id = hex(c.digest, HASH_LEN);
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
    g_autoptr(GByteArray) mb = manifest_bytes(in->s, &f, body->data, body->len, parent, pb, error);
    if (!mb)
        return NULL;
    /* index and manifest temp files are written and synced while the
     * compressor syncs the pack */
    pack_wait_blocks(in);
    g_autofree char *sname = g_strdup_printf("%s.snap", id);
    g_autofree char *iname = in->pack_name ? g_strdup_printf("%s.idx", in->pack_name) : NULL;
    guint32 nfresh = in->fresh_hashes->len / HASH_LEN;
    for (guint i = 0, first = 0; i < in->blocks->len; i++) {
        BlockLoc *b = &g_array_index(in->blocks, BlockLoc, i);
        b->first = b->hoff = first;
        first += b->npages;
    }
    g_autoptr(GByteArray) idx =
        in->pack_name
            ? index_bytes(0, nfresh, in->blocks, in->fresh_hashes->data, in->fresh_hashes->len)
            : NULL;
    /* both written before either is synced: their writeback (and the pack's)
     * is then under way, and the first fsync's journal commit covers both */
    char *itmp = NULL, *stmp = NULL;
    int ifd = -1, sfd = -1;
    gboolean sync = !in->s->defer_sync;
    gboolean ok =
        (!idx ||
         (itmp = write_tmp_start(in->s->packdir, iname, idx->data, idx->len, &ifd, sync, error))) &&
        (stmp = write_tmp_start(in->s->snapdir, sname, mb->data, mb->len, &sfd, sync, error));
    if (ifd >= 0)
        ok = tmp_sync(ifd, itmp, sync, ok ? error : NULL) && ok;
    if (sfd >= 0)
        ok = tmp_sync(sfd, stmp, sync, ok ? error : NULL) && ok;
    pack_join(in);
    if (ok && in->werr) {
        g_propagate_error(error, in->werr);
        in->werr = NULL;
        ok = FALSE;
    }
    if (ok && in->pack_name) {
        g_autofree char *pname = g_strdup_printf("%s.pack", in->pack_name);
        close(in->fd);
        in->fd = -1;
        ok = publish(in->pack_tmp, in->s->packdir, pname, FALSE, error) &&
             publish(itmp, in->s->packdir, iname, sync, error) &&
             add_index(in->s, in->pack_name, idx->data, idx->len, error);
    }
    g_hash_table_remove(in->s->infos, id);
    ok = ok && publish(stmp, in->s->snapdir, sname, sync, error);
    if (!ok) {
        unlink_free(itmp);
        unlink_free(stmp);
        return NULL;
    }
    add_by_age(in->s, id, f.created_us, mb->data);
    g_free(itmp);
    g_free(stmp);
    return g_steal_pointer(&id);
}

char *snap_ingest_commit(SnapIngest *in, GError **error)
{
    char *id = NULL;
    if (snap_stream_parser_finish(in->parser, error))
        id = commit(in, error);
    snap_ingest_abort(in);
    return id;
}

/* Walks a manifest body: raw bytes (also the generated RAM record headers)
 * go to RAW, page references to PAGE (pack G_MAXUINT: the zero page). */
typedef struct {
    gboolean (*raw)(gpointer u, const guint8 *d, gsize n, GError **error);
    gboolean (*page)(gpointer u, guint pack, guint32 ord, GError **error);
} BodyFns;

static gboolean walk_fail(const Manifest *m, GError **error, const char *what)
{
    g_autofree char *obj = g_strdup_printf("snapshot manifest %s", m->info.id);
    return corrupt(error, obj, what);
}

static gboolean get_ref(SnapStore *s, const Manifest *m, const guint8 **p, const guint8 *end,
                        const guint *table, guint64 ntable, guint64 *prev, guint *pack,
                        guint32 *ord, GError **error)
{
    guint64 z;
    if (!get_varint(p, end, &z))
        return walk_fail(m, error, "truncated record");
    guint64 v = *prev + 1 + ((z >> 1) ^ -(z & 1));
    *prev = v;
    if (!v) {
        *pack = G_MAXUINT;
        return TRUE;
    }
    guint64 t = (v - 1) >> 32;
    *ord = (v - 1) & 0xffffffffu;
    const Pack *pk = t < ntable ? s->packs->pdata[table[t]] : NULL;
    if (!pk || *ord >= pk->npages || pk->page_block[*ord] == NO_BLOCK)
        return walk_fail(m, error, "bad page reference");
    *pack = table[t];
    return TRUE;
}

static gboolean manifest_walk(SnapStore *s, const Manifest *m, const BodyFns *fn, gpointer u,
                              GError **error)
{
    const guint8 *p = m->body, *end = m->body + m->body_len;
    guint64 np, prev = 0, next_h = 0, out = 0, limit = m->info.stream_len;
    if (p == end || *p++ != OP_PACKS || !get_varint(&p, end, &np) || np > (1u << 20))
        return walk_fail(m, error, "bad pack table");
    g_autofree guint *table = g_new0(guint, np + 1);
    for (guint64 i = 0; i < np; i++) {
        guint64 n;
        if (!get_varint(&p, end, &n) || n > 255 || (guint64)(end - p) < n)
            return walk_fail(m, error, "bad pack table");
        g_autofree char *name = g_strndup((const char *)p, n);
        p += n;
        gpointer v = g_hash_table_lookup(s->pack_names, name);
        if (!v) {
            g_autofree char *w = g_strdup_printf("pack %s.pack is missing", name);
            return walk_fail(m, error, w);
        }
        table[i] = GPOINTER_TO_UINT(v) - 1;
    }
    while (p < end) {
        guint8 op = *p++;
        guint64 n, h = 0;
        guint pack;
        guint32 ord = 0;
        if (op == OP_RAW) {
            if (!get_varint(&p, end, &n) || (guint64)(end - p) < n)
                return walk_fail(m, error, "truncated record");
            if ((out += n) > limit)
                return walk_fail(m, error, "longer than its stream");
            if (!fn->raw(u, p, n, error))
                return FALSE;
            p += n;
        } else if (op == OP_PAGE) {
            if (!get_ref(s, m, &p, end, table, np, &prev, &pack, &ord, error))
                return FALSE;
            if ((out += SNAP_PAGE_SIZE) > limit)
                return walk_fail(m, error, "longer than its stream");
            if (!fn->page(u, pack, ord, error))
                return FALSE;
        } else if (op == OP_ZEROS || op == OP_PAGES) {
            guint64 z;
            if (!get_varint(&p, end, &z) || !get_varint(&p, end, &n))
                return walk_fail(m, error, "truncated record");
            h = next_h + ((z >> 1) ^ -(z & 1));
            next_h = h + n * SNAP_PAGE_SIZE;
            guint64 rec = op == OP_ZEROS ? 9 : 8 + SNAP_PAGE_SIZE;
            if (n > limit / rec || (out += n * rec) > limit)
                return walk_fail(m, error, "longer than its stream");
            guint8 hdr[9] = {0};
            for (guint64 k = 0; k < n; k++, h += SNAP_PAGE_SIZE) {
                put_be(hdr, 8, h);
                if (op == OP_ZEROS) {
                    if (!fn->raw(u, hdr, 9, error))
                        return FALSE;
                    continue;
                }
                if (!get_ref(s, m, &p, end, table, np, &prev, &pack, &ord, error) ||
                    !fn->raw(u, hdr, 8, error) || !fn->page(u, pack, ord, error))
                    return FALSE;
            }
        } else {
            return walk_fail(m, error, "unknown record");
        }
    }
    return TRUE;
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

static gboolean export_page(gpointer u, guint pack, guint32 ord, GError **error)
{
    ExportCtx *x = u;
    if (OUT_BUF - x->used < SNAP_PAGE_SIZE && !export_flush(x, error))
        return FALSE;
    if (pack == G_MAXUINT) {
        memset(x->buf + x->used, 0, SNAP_PAGE_SIZE);
    } else {
        const guint8 *d = get_page(x->s, pack, ord, error);
        if (!d)
            return FALSE;
        memcpy(x->buf + x->used, d, SNAP_PAGE_SIZE);
    }
    x->used += SNAP_PAGE_SIZE;
    return TRUE;
}

static gboolean export_raw(gpointer u, const guint8 *d, gsize n, GError **error)
{
    ExportCtx *x = u;
    if (n <= OUT_BUF - x->used) {
        memcpy(x->buf + x->used, d, n);
        x->used += n;
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
    static const BodyFns fns = {export_raw, export_page};
    gboolean ok = manifest_walk(s, &m, &fns, &x, error) && export_flush(&x, error);
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
    g_hash_table_remove(s->infos, id);
    forget_by_age(s);
    if (unlink(path) < 0)
        return io_fail(error, path, "cannot remove");
    return TRUE;
}

/* gc marks live blocks: per pack, one flag per block. */
static gboolean mark_raw(gpointer u, const guint8 *d, gsize n, GError **error)
{
    return TRUE;
}

typedef struct {
    SnapStore *s;
    guint8 **live;
} MarkCtx;

static gboolean mark_page(gpointer u, guint pack, guint32 ord, GError **error)
{
    MarkCtx *mc = u;
    if (pack != G_MAXUINT)
        mc->live[pack][((Pack *)mc->s->packs->pdata[pack])->page_block[ord]] = 1;
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

/* Installs a new generation of pack I in memory (after compaction). */
static void pack_replace(SnapStore *s, guint i, guint32 gen, GArray *blocks, GByteArray *hashes)
{
    Pack *p = s->packs->pdata[i];
    for (guint b = 0; b < p->blocks->len; b++) {
        const BlockLoc *bl = &g_array_index(p->blocks, BlockLoc, b);
        for (guint32 k = 0; k < bl->npages; k++)
            g_hash_table_remove(s->pages, p->hashes + (gsize)(bl->hoff + k) * HASH_LEN);
    }
    for (guint c = 0; c < BLOCK_CACHE; c++)
        if (s->cache[c].pack == i)
            s->cache[c].pack = G_MAXUINT;
    if (p->map)
        munmap((void *)p->map, p->map_len);
    p->map = NULL;
    g_free(p->hashes);
    g_array_free(p->blocks, TRUE);
    p->gen = gen;
    p->blocks = g_array_ref(blocks);
    p->hashes = g_memdup2(hashes->data, hashes->len + 1);
    p->live_pages = hashes->len / HASH_LEN;
    for (guint32 o = 0; o < p->npages; o++)
        p->page_block[o] = NO_BLOCK;
    for (guint b = 0; b < blocks->len; b++) {
        const BlockLoc *bl = &g_array_index(blocks, BlockLoc, b);
        for (guint32 k = 0; k < bl->npages; k++) {
            p->page_block[bl->first + k] = b;
            g_hash_table_replace(s->pages, p->hashes + (gsize)(bl->hoff + k) * HASH_LEN,
                                 LOC(i, bl->first + k));
        }
    }
}

/* Rewrites pack I without its dead blocks (LIVE[b] == 0) as its next
 * generation: the new data file (written, synced, renamed), then the index
 * naming it (atomically), then the old data file is removed. A crash leaves
 * one complete generation and at worst an orphan data file gc removes. Live
 * blocks are copied as they are; a damaged one leaves the pack untouched
 * (verify reports it). */
static gboolean compact_pack(SnapStore *s, guint i, const guint8 *live, guint64 *freed,
                             GError **error)
{
    Pack *p = pack_map(s, i, error);
    if (!p)
        return FALSE;
    g_autoptr(GArray) blocks = g_array_new(FALSE, FALSE, sizeof(BlockLoc));
    g_autoptr(GByteArray) hashes = g_byte_array_new();
    g_autoptr(GByteArray) data = g_byte_array_new();
    g_byte_array_append(data, (const guint8 *)PACK_MAGIC, MAGIC_LEN);
    for (guint b = 0; b < p->blocks->len; b++) {
        if (!live[b])
            continue;
        BlockLoc bl = g_array_index(p->blocks, BlockLoc, b);
        if (bl.off > p->map_len || p->map_len - bl.off < BLOCK_HDR + (guint64)bl.clen ||
            XXH3_64bits(p->map + bl.off + BLOCK_HDR, bl.clen) != get_be(p->map + bl.off + 8, 8))
            return TRUE;
        g_byte_array_append(hashes, p->hashes + (gsize)bl.hoff * HASH_LEN,
                            (gsize)bl.npages * HASH_LEN);
        guint64 off = data->len;
        g_byte_array_append(data, p->map + bl.off, BLOCK_HDR + bl.clen);
        bl.off = off;
        bl.hoff = hashes->len / HASH_LEN - bl.npages;
        g_array_append_val(blocks, bl);
    }
    guint32 gen = p->gen + 1;
    g_autofree char *oldf = pack_file(s->packdir, p->name, p->gen);
    g_autofree char *newf = pack_file("", p->name, gen);
    g_autofree char *iname = g_strdup_printf("%s.idx", p->name);
    g_autofree char *ipath = g_strdup_printf("%s/%s", s->packdir, iname);
    guint64 before = file_size(oldf) + file_size(ipath);
    g_autoptr(GByteArray) idx = index_bytes(gen, p->npages, blocks, hashes->data, hashes->len);
    g_autofree char *tmp = write_tmp(s->packdir, newf + 1, data->data, data->len, error);
    if (!tmp || !publish(tmp, s->packdir, newf + 1, TRUE, error) ||
        !write_atomic(s->packdir, iname, idx->data, idx->len, error))
        return FALSE;
    unlink(oldf);
    *freed += before - MIN(before, data->len + idx->len);
    pack_replace(s, i, gen, blocks, hashes);
    return TRUE;
}

gboolean snap_store_gc(SnapStore *s, guint64 *freed, GError **error)
{
    *freed = 0;
    MarkCtx mc = {s, g_new0(guint8 *, s->packs->len + 1)};
    for (guint i = 0; i < s->packs->len; i++)
        mc.live[i] = g_malloc0(((Pack *)s->packs->pdata[i])->blocks->len + 1);
    static const BodyFns fns = {mark_raw, mark_page};
    g_autoptr(GPtrArray) ids = ids_by_age(s);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < ids->len; i++) {
        Manifest m;
        if (!manifest_load(s, ids->pdata[i], TRUE, &m, error)) {
            ok = FALSE;
            break;
        }
        ok = manifest_walk(s, &m, &fns, &mc, error);
        manifest_clear(&m);
    }
    /* A block is kept if any page in it is referenced; a pack none of whose
     * blocks is, is removed (index first); one with some dead blocks is
     * rewritten without them. */
    g_autoptr(GHashTable) keep = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; ok && i < s->packs->len; i++) {
        const Pack *p = s->packs->pdata[i];
        guint nlive = 0;
        for (guint b = 0; b < p->blocks->len; b++)
            nlive += mc.live[i][b];
        g_autofree char *ip = g_strdup_printf("%s/%s.idx", s->packdir, p->name);
        if (nlive == 0) {
            g_autofree char *pf = pack_file(s->packdir, p->name, p->gen);
            *freed += file_size(ip) + file_size(pf);
            unlink(ip);
            unlink(pf);
            continue;
        }
        if (nlive < p->blocks->len)
            ok = compact_pack(s, i, mc.live[i], freed, error);
        p = s->packs->pdata[i];
        g_autofree char *pf = pack_file("", p->name, p->gen);
        g_hash_table_add(keep, g_strdup(pf + 1));
    }
    for (guint i = 0; i < s->packs->len; i++)
        g_free(mc.live[i]);
    g_free(mc.live);
    if (!ok)
        return FALSE;
    /* temp files, and data files no index names (crash leftovers) */
    const char *dirs[] = {s->packdir, s->snapdir};
    for (int j = 0; j < 2; j++) {
        GDir *d = g_dir_open(dirs[j], 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(dirs[j], n, NULL);
            gboolean orphan_pack =
                j == 0 && g_str_has_suffix(n, ".pack") && !g_hash_table_contains(keep, n);
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
    g_autoptr(GPtrArray) ids = ids_by_age(s);
    for (guint i = 0; i < ids->len; i++) {
        Manifest m;
        if (!manifest_load(s, ids->pdata[i], TRUE, &m, error))
            return FALSE;
        st->snapshots++;
        st->logical_bytes += m.info.stream_len;
        st->page_refs += m.info.pages;
        st->manifest_bytes += m.info.manifest_bytes;
        st->delta_manifests += m.has_parent;
        manifest_clear(&m);
    }
    st->stored_bytes += st->manifest_bytes;
    st->page_raw_bytes = st->page_refs * SNAP_PAGE_SIZE;
    for (guint i = 0; i < s->packs->len; i++) {
        const Pack *p = s->packs->pdata[i];
        st->unique_pages += p->live_pages;
        for (guint b = 0; b < p->blocks->len; b++)
            st->page_stored_bytes += g_array_index(p->blocks, BlockLoc, b).clen + BLOCK_HDR;
        g_autofree char *pf = pack_file(s->packdir, p->name, p->gen);
        g_autofree char *ip = g_strdup_printf("%s/%s.idx", s->packdir, p->name);
        st->stored_bytes += file_size(pf) + file_size(ip);
    }
    return TRUE;
}

gboolean snap_store_verify(SnapStore *s, GPtrArray *problems, GError **error)
{
    /* Indexes were checksummed on open; check every block and page. */
    g_autofree guint8 *buf = g_malloc(BLOCK_BYTES);
    for (guint i = 0; i < s->packs->len; i++) {
        const Pack *p = s->packs->pdata[i];
        for (guint b = 0; b < p->blocks->len; b++) {
            GError *e = NULL;
            if (!read_block(s, i, b, buf, &e)) {
                g_ptr_array_add(problems, g_strdup(e->message));
                g_error_free(e);
                continue;
            }
            const BlockLoc *bl = &g_array_index(p->blocks, BlockLoc, b);
            for (guint32 k = 0; k < bl->npages; k++) {
                guint8 h[HASH_LEN];
                hash128(buf + (gsize)k * SNAP_PAGE_SIZE, SNAP_PAGE_SIZE, h);
                if (memcmp(h, p->hashes + (gsize)(bl->hoff + k) * HASH_LEN, HASH_LEN)) {
                    g_autofree char *pf = pack_file("", p->name, p->gen);
                    g_ptr_array_add(problems, g_strdup_printf("pack %s block %u page %u: content "
                                                              "hash mismatch",
                                                              pf + 1, b, bl->first + k));
                }
            }
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
