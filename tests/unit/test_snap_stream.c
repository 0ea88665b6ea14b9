/* Parser on hand-built QEMU 10.0 streams: every section type and RAM flag,
 * byte-by-byte feeding, truncation and corruption. */
#include "snap_stream.h"

#include <string.h>

typedef struct {
    GByteArray *b;
} Builder;

static void u8(Builder *w, guint8 v)
{
    g_byte_array_append(w->b, &v, 1);
}

static void be(Builder *w, int n, guint64 v)
{
    for (int i = n - 1; i >= 0; i--)
        u8(w, (v >> (8 * i)) & 0xff);
}

static void str(Builder *w, const char *s)
{
    u8(w, strlen(s));
    g_byte_array_append(w->b, (const guint8 *)s, strlen(s));
}

static void bytes(Builder *w, const void *d, gsize n)
{
    g_byte_array_append(w->b, d, n);
}

/* Stream magic and version 3. */
static void stream_header(Builder *w)
{
    be(w, 4, 0x5145564d);
    be(w, 4, 3);
}

/* A FULL section's header: ID, IDSTR, instance 0, VERSION. */
static void section_full(Builder *w, guint32 id, const char *idstr, guint32 version)
{
    u8(w, 0x04);
    be(w, 4, id);
    str(w, idstr);
    be(w, 4, 0);
    be(w, 4, version);
}

/* RAM (section 2, version 4) START with the mem-size record of one block
 * "blk" of SIZE bytes. */
static void ram_start(Builder *w, guint64 size)
{
    u8(w, 0x01);
    be(w, 4, 2);
    str(w, "ram");
    be(w, 4, 0);
    be(w, 4, 4);
    be(w, 8, size | 0x4);
    str(w, "blk");
    be(w, 8, size);
}

/* A section's footer. */
static void footer(Builder *w, guint32 id)
{
    u8(w, 0x7e);
    be(w, 4, id);
}

/* EOF, then an empty device description. */
static void eof_vmdesc(Builder *w)
{
    u8(w, 0x00);
    u8(w, 0x06);
    be(w, 4, 2);
    bytes(w, "{}", 2);
}

/* A stream with config (+capabilities/uuid subsections), RAM START/PART/END
 * with MEM_SIZE, ZERO, PAGE, CONTINUE, MULTIFD_FLUSH, EOS, a FULL device
 * section whose data contains a fake footer, a COMMAND, EOF and VMDESCRIPTION. */
static GByteArray *build_stream(void)
{
    Builder w = {g_byte_array_new()};
    stream_header(&w);
    u8(&w, 0x07);
    be(&w, 4, 13);
    bytes(&w, "leon3_generic", 13);
    u8(&w, 0x05);
    str(&w, "configuration/capabilities");
    be(&w, 4, 1);
    be(&w, 4, 1);
    str(&w, "x-ignore-shared");
    u8(&w, 0x05);
    str(&w, "configuration/uuid");
    be(&w, 4, 1);
    bytes(&w, "0123456789abcdef", 16);
    ram_start(&w, 0x3000);
    be(&w, 8, 0x200);
    be(&w, 8, 0x10);
    footer(&w, 2);
    /* RAM PART: zero page, page, continue page */
    u8(&w, 0x02);
    be(&w, 4, 2);
    be(&w, 8, 0x0000 | 0x2);
    str(&w, "blk");
    u8(&w, 0);
    guint8 page[4096];
    memset(page, 0xa5, sizeof page);
    be(&w, 8, 0x1000 | 0x8 | 0x20);
    bytes(&w, page, sizeof page);
    be(&w, 8, 0x10);
    footer(&w, 2);
    /* device FULL with an embedded footer-lookalike not followed by a type */
    section_full(&w, 3, "timer", 2);
    guint8 dev[] = {1, 2, 0x7e, 0, 0, 0, 3, 0x99, 4};
    bytes(&w, dev, sizeof dev);
    footer(&w, 3);
    /* RAM END: continue page */
    u8(&w, 0x03);
    be(&w, 4, 2);
    memset(page, 0x5a, sizeof page);
    be(&w, 8, 0x2000 | 0x8 | 0x20);
    bytes(&w, page, sizeof page);
    be(&w, 8, 0x10);
    footer(&w, 2);
    /* COMMAND */
    u8(&w, 0x08);
    be(&w, 2, 1);
    be(&w, 2, 2);
    bytes(&w, "hi", 2);
    eof_vmdesc(&w);
    return w.b;
}

typedef struct {
    int kinds[16];
    GByteArray *raw;
    guint64 pages_a5, pages_5a;
    char dev_name[32];
    gsize dev_len;
    guint64 last_addr;
} Seen;

static gboolean on_rec(const SnapRecord *r, gpointer user, GError **error)
{
    Seen *s = user;
    g_assert_cmpuint(r->offset, ==, s->raw->len);
    g_byte_array_append(s->raw, r->raw, r->raw_len);
    s->kinds[r->kind]++;
    if (r->kind == SNAP_REC_RAM_PAGE) {
        g_assert_cmpstr(r->name, ==, "blk");
        if (r->data[0] == 0xa5)
            s->pages_a5 = r->addr;
        else
            s->pages_5a = r->addr;
    }
    if (r->kind == SNAP_REC_SECTION) {
        g_strlcpy(s->dev_name, r->name, sizeof s->dev_name);
        s->dev_len = r->data_len;
        g_assert_cmpuint(r->version_id, ==, 2);
    }
    return TRUE;
}

/* B, fed to a parser calling FN CHUNK bytes at a time, must parse whole. */
static void parse_chunked(const GByteArray *b, gsize chunk, SnapRecordFn fn, gpointer user)
{
    SnapStreamParser *p = snap_stream_parser_new(fn, user);
    GError *e = NULL;
    for (gsize i = 0; i < b->len; i += chunk)
        g_assert_true(snap_stream_parser_feed(p, b->data + i, MIN(chunk, b->len - i), &e));
    g_assert_true(snap_stream_parser_finish(p, &e));
    g_assert_no_error(e);
    snap_stream_parser_free(p);
}

static void parse_in_chunks(GByteArray *st, gsize chunk, Seen *s)
{
    memset(s, 0, sizeof *s);
    s->raw = g_byte_array_new();
    parse_chunked(st, chunk, on_rec, s);
}

/* RAM zero pages: the first of a block (it names the block), a run of
 * continuations, a gap, a continuation whose fill byte is not 0, another run. */
static GByteArray *build_zero_runs(void)
{
    Builder w = {g_byte_array_new()};
    stream_header(&w);
    ram_start(&w, 0x10000);
    be(&w, 8, 0x0000 | 0x2);
    str(&w, "blk");
    u8(&w, 0);
    for (guint64 a = 0x1000; a <= 0x5000; a += 0x1000) { /* run of 5 */
        be(&w, 8, a | 0x2 | 0x20);
        u8(&w, 0);
    }
    be(&w, 8, 0x8000 | 0x2 | 0x20); /* gap: a run of 2 */
    u8(&w, 0);
    be(&w, 8, 0x9000 | 0x2 | 0x20);
    u8(&w, 0);
    be(&w, 8, 0xa000 | 0x2 | 0x20); /* fill byte 0x11: alone */
    u8(&w, 0x11);
    be(&w, 8, 0xb000 | 0x2 | 0x20); /* a run of 3 */
    u8(&w, 0);
    be(&w, 8, 0xc000 | 0x2 | 0x20);
    u8(&w, 0);
    be(&w, 8, 0xd000 | 0x2 | 0x20);
    u8(&w, 0);
    be(&w, 8, 0x10);
    footer(&w, 2);
    eof_vmdesc(&w);
    return w.b;
}

typedef struct {
    GByteArray *raw;
    GArray *runs;      /* guint64 pairs: addr, npages */
    guint64 fill_page; /* the page with fill byte 0x11 */
    int records;
    gboolean last_was_run; /* the last record was a zero-run record */
} ZeroSeen;

static gboolean on_zero(const SnapRecord *r, gpointer user, GError **error)
{
    ZeroSeen *s = user;
    g_byte_array_append(s->raw, r->raw, r->raw_len);
    if (r->kind != SNAP_REC_RAM_ZERO)
        return TRUE;
    g_assert_cmpstr(r->name, ==, "blk");
    g_assert_cmpuint(r->npages, >=, 1);
    s->records++;
    if (r->raw[r->raw_len - 1] == 0x11) {
        g_assert_cmpuint(r->npages, ==, 1);
        s->fill_page = r->addr;
        return TRUE;
    }
    gboolean run_record = (r->ram_flags & SNAP_RAM_ZERO_RUN) != 0;
    if (run_record) { /* header (+ block name), be32 npages, fill byte */
        gsize hl = r->ram_flags & 0x20 ? 8 : 8 + 1 + strlen(r->name);
        g_assert_cmpuint(r->raw_len, ==, hl + 5);
        g_assert_cmpuint((guint32)r->raw[hl] << 24 | r->raw[hl + 1] << 16 | r->raw[hl + 2] << 8 |
                             r->raw[hl + 3],
                         ==, r->npages);
    } else if (r->npages > 1) /* 9 bytes a page, each header its page's */
        for (guint32 i = 0; i < r->npages; i++) {
            g_assert_cmpuint(r->raw_len, ==, 9 * r->npages);
            guint64 h = 0;
            for (int b = 0; b < 8; b++)
                h = h << 8 | r->raw[9 * i + b];
            g_assert_cmphex(h, ==, (r->addr + 0x1000 * i) | 0x22);
            g_assert_cmpuint(r->raw[9 * i + 8], ==, 0);
        }
    guint64 run[2] = {r->addr, r->npages};
    GArray *a = s->runs;
    /* a run split by the end of a feed continues the previous record */
    if (a->len && !run_record && !s->last_was_run &&
        g_array_index(a, guint64, a->len - 2) + 0x1000 * g_array_index(a, guint64, a->len - 1) ==
            run[0] &&
        run[0] != 0x1000 && run[0] != 0x8000 && run[0] != 0xb000 && run[0] != 0x11000)
        g_array_index(a, guint64, a->len - 1) += run[1];
    else
        g_array_append_vals(a, run, 2);
    s->last_was_run = run_record;
    return TRUE;
}

/* ST fed in pieces of CHUNK bytes to on_zero: the records' bytes must be the
 * stream's and the zero runs WANT (NWANT addr, npages values).  The caller
 * checks the rest and frees S with zero_seen_clear(). */
static void parse_zero_runs(GByteArray *st, gsize chunk, const guint64 *want, gsize nwant,
                            ZeroSeen *s)
{
    *s = (ZeroSeen){g_byte_array_new(), g_array_new(FALSE, FALSE, sizeof(guint64)), 0, 0, FALSE};
    parse_chunked(st, chunk, on_zero, s);
    g_assert_cmpuint(s->raw->len, ==, st->len);
    g_assert_true(memcmp(s->raw->data, st->data, st->len) == 0);
    g_assert_cmpuint(s->runs->len, ==, nwant);
    for (guint i = 0; i < s->runs->len; i++)
        g_assert_cmphex(g_array_index(s->runs, guint64, i), ==, want[i]);
}

static void zero_seen_clear(ZeroSeen *s)
{
    g_byte_array_free(s->raw, TRUE);
    g_array_free(s->runs, TRUE);
}

static void test_zero_page_runs(void)
{
    g_autoptr(GByteArray) st = build_zero_runs();
    /* whole: the block's first page alone (it names the block), then the runs */
    const guint64 want[] = {0x0, 1, 0x1000, 5, 0x8000, 2, 0xb000, 3};
    gsize chunks[] = {st->len, 1, 7, 20};
    for (gsize c = 0; c < G_N_ELEMENTS(chunks); c++) {
        ZeroSeen s;
        parse_zero_runs(st, chunks[c], want, G_N_ELEMENTS(want), &s);
        g_assert_cmphex(s.fill_page, ==, 0xa000);
        if (c == 0) /* in one feed: a record per run */
            g_assert_cmpint(s.records, ==, 5);
        zero_seen_clear(&s);
    }
}

static void test_every_section_and_flag(void)
{
    g_autoptr(GByteArray) st = build_stream();
    gsize chunks[] = {1, 7, 4096, st->len};
    for (gsize c = 0; c < G_N_ELEMENTS(chunks); c++) {
        Seen s;
        parse_in_chunks(st, chunks[c], &s);
        g_assert_cmpuint(s.raw->len, ==, st->len);
        g_assert_true(memcmp(s.raw->data, st->data, st->len) == 0);
        g_assert_cmpint(s.kinds[SNAP_REC_HEADER], ==, 1);
        g_assert_cmpint(s.kinds[SNAP_REC_CONFIG], ==, 1);
        g_assert_cmpint(s.kinds[SNAP_REC_RAM_HEADER], ==, 3);
        g_assert_cmpint(s.kinds[SNAP_REC_RAM_PAGE], ==, 2);
        g_assert_cmpint(s.kinds[SNAP_REC_RAM_ZERO], ==, 1);
        g_assert_cmpint(s.kinds[SNAP_REC_RAM_OTHER], ==, 5); /* mem size, flush, 3x EOS */
        g_assert_cmpint(s.kinds[SNAP_REC_RAM_FOOTER], ==, 3);
        g_assert_cmpint(s.kinds[SNAP_REC_SECTION], ==, 1);
        g_assert_cmpint(s.kinds[SNAP_REC_COMMAND], ==, 1);
        g_assert_cmpint(s.kinds[SNAP_REC_EOF], ==, 1);
        g_assert_cmpint(s.kinds[SNAP_REC_VMDESC], ==, 1);
        g_assert_cmpuint(s.pages_a5, ==, 0x1000);
        g_assert_cmpuint(s.pages_5a, ==, 0x2000);
        g_assert_cmpstr(s.dev_name, ==, "timer");
        g_assert_cmpuint(s.dev_len, ==, 9);
        g_byte_array_free(s.raw, TRUE);
    }
}

static gboolean ignore(const SnapRecord *r, gpointer u, GError **e)
{
    return TRUE;
}

static gboolean parse_all(const guint8 *d, gsize n, GError **e)
{
    SnapStreamParser *p = snap_stream_parser_new(ignore, NULL);
    gboolean ok = snap_stream_parser_feed(p, d, n, e) && snap_stream_parser_finish(p, e);
    snap_stream_parser_free(p);
    return ok;
}

static void test_truncation_rejected(void)
{
    g_autoptr(GByteArray) st = build_stream();
    for (gsize n = 0; n < st->len; n++) {
        GError *e = NULL;
        if (n == st->len - 7) { /* ends right after EOF: the description is optional */
            g_assert_true(parse_all(st->data, n, &e));
            continue;
        }
        g_assert_false(parse_all(st->data, n, &e));
        g_assert_nonnull(e);
        g_error_free(e);
    }
}

static void test_bad_magic_version_flags(void)
{
    g_autoptr(GByteArray) st = build_stream();
    GError *e = NULL;
    st->data[0] ^= 1;
    g_assert_false(parse_all(st->data, st->len, &e));
    g_assert_true(strstr(e->message, "magic") != NULL);
    g_clear_error(&e);
    st->data[0] ^= 1;
    st->data[7] = 4;
    g_assert_false(parse_all(st->data, st->len, &e));
    g_assert_error(e, SNAP_STREAM_ERROR, SNAP_STREAM_ERROR_UNSUPPORTED);
    g_clear_error(&e);
    st->data[7] = 3;
    /* unknown section type right after the config section */
    g_autoptr(GByteArray) t = build_stream();
    gsize off = 8 + 1 + 4 + 13 + 1 + 1 + 26 + 4 + 4 + 1 + 15 + 1 + 1 + 18 + 4 + 16;
    g_assert_cmpuint(t->data[off], ==, 0x01);
    t->data[off] = 0x42;
    g_assert_false(parse_all(t->data, t->len, &e));
    g_assert_true(strstr(e->message, "unknown section type") != NULL);
    g_clear_error(&e);
    /* unsupported RAM flag (XBZRLE 0x40) in the first RAM record */
    t->data[off] = 0x01;
    gsize ram = off + 1 + 4 + 4 + 4 + 4;
    t->data[ram + 7] = 0x40;
    g_assert_false(parse_all(t->data, t->len, &e));
    g_assert_nonnull(e);
    g_clear_error(&e);
}

static void test_random_flips_never_crash(void)
{
    g_autoptr(GByteArray) st = build_stream();
    GRand *r = g_rand_new_with_seed(42);
    for (int i = 0; i < 3000; i++) {
        g_autoptr(GByteArray) c = g_byte_array_new();
        g_byte_array_append(c, st->data, st->len);
        int flips = g_rand_int_range(r, 1, 4);
        for (int k = 0; k < flips; k++)
            c->data[g_rand_int_range(r, 0, c->len)] ^= 1 << g_rand_int_range(r, 0, 8);
        GError *e = NULL;
        if (!parse_all(c->data, c->len, &e))
            g_assert_nonnull(e);
        g_clear_error(&e);
    }
    g_rand_free(r);
}

typedef struct {
    gsize lens[4];
    int n;
} Sections;

static gboolean on_section(const SnapRecord *r, gpointer user, GError **error)
{
    Sections *s = user;
    if (r->kind == SNAP_REC_SECTION && s->n < 4)
        s->lens[s->n++] = r->data_len;
    return TRUE;
}

/* The device sections of stream B, fed to a parser CHUNK bytes at a time
 * (which must succeed). */
static Sections parse_sections(const GByteArray *b, gsize chunk)
{
    Sections s = {{0}, 0};
    parse_chunked(b, chunk, on_section, &s);
    return s;
}

/* QEMU's "timer" device is section 0 on leon3/gr740; a cpu_ticks_offset whose
 * low byte is 0x7e, followed by the always-zero 8-byte field, reads as
 * footer(0) + EOF. Seen in about 1 of 256 real checkpoints. */
static void test_footer_lookalike_in_payload(void)
{
    Builder w = {g_byte_array_new()};
    stream_header(&w);
    section_full(&w, 0, "timer", 2);
    be(&w, 8, 0x000000134d62257eull);
    be(&w, 8, 0);
    be(&w, 8, 0x000000093580856cull);
    footer(&w, 0);
    section_full(&w, 3, "cpu_common", 1);
    guint8 dev[] = {0x7e, 0, 0, 0, 3, 0x04, 0, 0, 0, 0, 0, 1, 2}; /* FULL with an empty idstr */
    bytes(&w, dev, sizeof dev);
    footer(&w, 3);
    eof_vmdesc(&w);
    gsize chunks[] = {1, 5, w.b->len};
    for (gsize c = 0; c < G_N_ELEMENTS(chunks); c++) {
        Sections s = parse_sections(w.b, chunks[c]);
        g_assert_cmpint(s.n, ==, 2);
        g_assert_cmpuint(s.lens[0], ==, 24);
        g_assert_cmpuint(s.lens[1], ==, sizeof dev);
    }
    g_byte_array_free(w.b, TRUE);
}

/* Footer lookalikes followed by what starts a section only in an invalid
 * stream: EOF + VMDESC without a JSON object, FULL reopening a section
 * already seen, PART of a section that no START opened. None ends the
 * device section. */
static void test_footer_lookalike_invalid_next(void)
{
    Builder w = {g_byte_array_new()};
    stream_header(&w);
    section_full(&w, 5, "apbuart", 1);
    guint8 dev[] = {
        0x7e, 0, 0, 0, 5, 0x00, 0x06, 0, 0, 0, 2, 0x11, /* EOF, no JSON */
        0x7e, 0, 0, 0, 5, 0x04, 0,    0, 0, 5, 1, 'x',
        0,    0, 0, 0, 0, 0,    0,    1,          /* FULL id 5 again */
        0x7e, 0, 0, 0, 5, 0x02, 0,    0, 0, 5, 9, /* PART of a FULL */
        0x7e, 0, 0, 0, 5, 0x04, 0,    0, 0, 6, 1, 'y',
        0,    0, 0, 0, 0, 1,    0,    0, /* version 65536 */
    };
    bytes(&w, dev, sizeof dev);
    footer(&w, 5);
    section_full(&w, 6, "irqamp", 1);
    be(&w, 4, 0x12345678);
    footer(&w, 6);
    eof_vmdesc(&w);
    gsize chunks[] = {1, 7, w.b->len};
    for (gsize c = 0; c < G_N_ELEMENTS(chunks); c++) {
        Sections s = parse_sections(w.b, chunks[c]);
        g_assert_cmpint(s.n, ==, 2);
        g_assert_cmpuint(s.lens[0], ==, sizeof dev);
        g_assert_cmpuint(s.lens[1], ==, 4);
    }
    g_byte_array_free(w.b, TRUE);
}

/* ITC QEMU's zero-run records (patch 0027, flag 0x400): one naming the
 * block, one continuing it, then a bad one (COUNT pages, fill byte FILL). */
static GByteArray *build_zero_run_records(guint32 count, guint8 fill)
{
    Builder w = {g_byte_array_new()};
    stream_header(&w);
    ram_start(&w, 0x100000);
    be(&w, 8, 0x0000 | 0x402);
    str(&w, "blk");
    be(&w, 4, 16);
    u8(&w, 0);
    be(&w, 8, 0x11000 | 0x2 | 0x20); /* a page record between */
    u8(&w, 0);
    be(&w, 8, 0x12000 | 0x422);
    be(&w, 4, 0x100000 / 0x1000 - 0x12);
    u8(&w, 0);
    be(&w, 8, 0x40000 | 0x422);
    be(&w, 4, count);
    u8(&w, fill);
    be(&w, 8, 0x10);
    footer(&w, 2);
    eof_vmdesc(&w);
    return w.b;
}

static void test_zero_run_records(void)
{
    g_autoptr(GByteArray) st = build_zero_run_records(3, 0);
    const guint64 want[] = {0x0, 16, 0x11000, 1, 0x12000, 0xee, 0x40000, 3};
    gsize chunks[] = {st->len, 1, 5};
    for (gsize c = 0; c < G_N_ELEMENTS(chunks); c++) {
        ZeroSeen s;
        parse_zero_runs(st, chunks[c], want, G_N_ELEMENTS(want), &s);
        g_assert_cmpint(s.records, ==, 4); /* each run record is one record */
        zero_seen_clear(&s);
    }
    /* a run of no pages, or with a fill byte other than 0, is corrupt */
    const guint32 counts[] = {0, 3};
    const guint8 fills[] = {0, 7};
    for (gsize i = 0; i < G_N_ELEMENTS(counts); i++) {
        g_autoptr(GByteArray) bad = build_zero_run_records(counts[i], fills[i]);
        GError *e = NULL;
        g_assert_false(parse_all(bad->data, bad->len, &e));
        g_assert_error(e, SNAP_STREAM_ERROR, SNAP_STREAM_ERROR_CORRUPT);
        g_assert_true(strstr(e->message, "run of zero pages") != NULL);
        g_clear_error(&e);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/snap_stream/every_section_and_flag", test_every_section_and_flag);
    g_test_add_func("/snap_stream/zero_page_runs", test_zero_page_runs);
    g_test_add_func("/snap_stream/zero_run_records", test_zero_run_records);
    g_test_add_func("/snap_stream/truncation_rejected", test_truncation_rejected);
    g_test_add_func("/snap_stream/bad_magic_version_flags", test_bad_magic_version_flags);
    g_test_add_func("/snap_stream/random_flips_never_crash", test_random_flips_never_crash);
    g_test_add_func("/snap_stream/footer_lookalike_in_payload", test_footer_lookalike_in_payload);
    g_test_add_func("/snap_stream/footer_lookalike_invalid_next",
                    test_footer_lookalike_invalid_next);
    return g_test_run();
}
