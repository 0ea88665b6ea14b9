#include "snap_stream.h"

#include <string.h>

enum {
    VM_EOF = 0x00,
    VM_START = 0x01,
    VM_PART = 0x02,
    VM_END = 0x03,
    VM_FULL = 0x04,
    VM_SUBSECTION = 0x05,
    VM_VMDESC = 0x06,
    VM_CONFIG = 0x07,
    VM_COMMAND = 0x08,
    VM_FOOTER = 0x7e,
};

enum {
    RAM_ZERO = 0x2,
    RAM_MEM_SIZE = 0x4,
    RAM_PAGE = 0x8,
    RAM_EOS = 0x10,
    RAM_CONTINUE = 0x20,
    RAM_MULTIFD_FLUSH = 0x200,
    RAM_ZERO_RUN = SNAP_RAM_ZERO_RUN,
};

typedef enum { ST_HEADER, ST_TOP, ST_RAM, ST_RAM_FOOTER, ST_AFTER_EOF, ST_DONE } State;

struct SnapStreamParser {
    SnapRecordFn fn;
    gpointer user;
    GByteArray *buf; /* input not consumed by the last feed */
    const guint8 *d; /* bytes being parsed: buf's, or the caller's (no copy) */
    gsize n;
    gsize head; /* bytes of d already emitted */
    gsize scan; /* resume point of the footer scan */
    guint64 offset;
    State st;
    guint32 ram_section;
    GHashTable *sections; /* section id -> idstr */
    GHashTable *started;  /* ids of iterative sections (START): PART/END continue them */
    char block[256];
    gboolean have_block;
    gboolean finishing;
};

G_DEFINE_QUARK(snap - stream - error - quark, snap_stream_error)

/* Reader over the buffered bytes; NEED means "wait for more input". */
typedef struct {
    const guint8 *p;
    gsize len, pos;
} Rd;
#define NEED 1
#define BAD 2

static int rd_bytes(Rd *r, gsize n, const guint8 **out)
{
    if (r->len - r->pos < n)
        return NEED;
    *out = r->p + r->pos;
    r->pos += n;
    return 0;
}

static int rd_u8(Rd *r, guint8 *v)
{
    const guint8 *b;
    int rc = rd_bytes(r, 1, &b);
    if (!rc)
        *v = b[0];
    return rc;
}

static int rd_be(Rd *r, int n, guint64 *v)
{
    const guint8 *b;
    int rc = rd_bytes(r, n, &b);
    if (rc)
        return rc;
    *v = 0;
    for (int i = 0; i < n; i++)
        *v = (*v << 8) | b[i];
    return 0;
}

static int rd_str(Rd *r, char out[256])
{
    guint8 n;
    const guint8 *b;
    int rc = rd_u8(r, &n);
    if (!rc)
        rc = rd_bytes(r, n, &b);
    if (rc)
        return rc;
    memcpy(out, b, n);
    out[n] = 0;
    return 0;
}

SnapStreamParser *snap_stream_parser_new(SnapRecordFn fn, gpointer user)
{
    SnapStreamParser *p = g_new0(SnapStreamParser, 1);
    p->fn = fn;
    p->user = user;
    p->buf = g_byte_array_new();
    p->sections = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    p->started = g_hash_table_new(g_direct_hash, g_direct_equal);
    p->ram_section = G_MAXUINT32;
    return p;
}

void snap_stream_parser_free(SnapStreamParser *p)
{
    if (!p)
        return;
    g_byte_array_free(p->buf, TRUE);
    g_hash_table_destroy(p->sections);
    g_hash_table_destroy(p->started);
    g_free(p);
}

static gboolean fail(GError **error, int code, guint64 off, const char *what)
{
    g_set_error(error, SNAP_STREAM_ERROR, code, "migration stream offset %" G_GUINT64_FORMAT ": %s",
                off, what);
    return FALSE;
}

static gboolean emit(SnapStreamParser *p, SnapRecord *rec, gsize len, GError **error)
{
    rec->raw = p->d + p->head;
    rec->raw_len = len;
    rec->offset = p->offset;
    gboolean ok = p->fn(rec, p->user, error);
    p->offset += len;
    p->head += len; /* no per-record memmove: compaction happens once per feed */
    p->scan = 0;
    return ok;
}

static guint32 be32_at(const guint8 *d)
{
    return (guint32)d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3];
}

/* Does a plausible next section start at d[i]? 0 = yes, BAD = no, NEED =
 * more input needed to tell. A device payload can contain the footer bytes
 * (e.g. "timer" section 0: a cpu_ticks_offset ending in 0x7e followed by a
 * zero field reads as 7e 00 00 00 00 00 = footer + EOF), so the candidate's
 * header is checked as far as a valid stream allows, never further: EOF
 * must be followed by the device description (a JSON object) or the end of
 * the stream; START/FULL must open a section not seen yet (QEMU writes each
 * once) with a printable idstr and a 16-bit version; PART/END must continue
 * a section opened by START; COMMAND must be a small command. */
static int check_next(SnapStreamParser *p, gsize i)
{
    const guint8 *d = p->d + p->head;
    gsize n = p->n - p->head;
    int more = p->finishing ? BAD : NEED;
    if (i >= n)
        return more;
    switch (d[i]) {
    case VM_EOF:
        if (i + 1 >= n)
            return p->finishing ? 0 : NEED;
        if (d[i + 1] != VM_VMDESC)
            return BAD;
        if (i + 7 > n)
            return more;
        return be32_at(d + i + 2) >= 2 && d[i + 6] == '{' ? 0 : BAD;
    case VM_START:
    case VM_FULL: {
        if (i + 6 > n)
            return more;
        if (g_hash_table_contains(p->sections, GUINT_TO_POINTER(be32_at(d + i + 1))))
            return BAD;
        gsize len = d[i + 5];
        if (len == 0)
            return BAD;
        if (i + 6 + len + 8 > n)
            return more;
        for (gsize k = 0; k < len; k++)
            if (d[i + 6 + k] < 0x20 || d[i + 6 + k] > 0x7e)
                return BAD;
        return be32_at(d + i + 6 + len + 4) <= 0xffff ? 0 : BAD;
    }
    case VM_PART:
    case VM_END:
        if (i + 5 > n)
            return more;
        return g_hash_table_contains(p->started, GUINT_TO_POINTER(be32_at(d + i + 1))) ? 0 : BAD;
    case VM_COMMAND: {
        if (i + 5 > n)
            return more;
        guint cmd = d[i + 1] << 8 | d[i + 2], len = d[i + 3] << 8 | d[i + 4];
        return cmd >= 1 && cmd < 64 && len <= 4096 ? 0 : BAD;
    }
    }
    return BAD;
}

/* Opaque section data ends at the footer (0x7e, be32 section id) followed by
 * a plausible next section (check_next). */
static int find_footer(SnapStreamParser *p, gsize start, guint32 id, gsize *end)
{
    const guint8 *d = p->d + p->head;
    gsize n = p->n - p->head;
    gsize i = MAX(start, p->scan);
    for (; i + 5 <= n; i++) {
        if (d[i] != VM_FOOTER)
            continue;
        guint32 v = (guint32)d[i + 1] << 24 | d[i + 2] << 16 | d[i + 3] << 8 | d[i + 4];
        if (v != id)
            continue;
        int rc = check_next(p, i + 5);
        if (rc == NEED) {
            p->scan = i;
            return NEED;
        }
        if (rc == 0) {
            *end = i + 5;
            return 0;
        }
    }
    if (n - start > SNAP_MAX_SECTION)
        return BAD;
    p->scan = n > 5 ? n - 5 : 0;
    return NEED;
}

static int parse_config(SnapStreamParser *p, Rd *r, GError **error)
{
    guint64 len;
    const guint8 *b;
    int rc = rd_be(r, 4, &len);
    if (rc)
        return rc;
    if (len > 255)
        return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "machine name too long"), BAD;
    if ((rc = rd_bytes(r, len, &b)))
        return rc;
    for (;;) {
        guint8 t;
        char name[256];
        guint64 ver, cnt;
        if ((rc = rd_u8(r, &t))) {
            if (p->finishing)
                return 0;
            return rc;
        }
        if (t != VM_SUBSECTION) {
            r->pos--;
            return 0;
        }
        if ((rc = rd_str(r, name)) || (rc = rd_be(r, 4, &ver)))
            return rc;
        if (!strcmp(name, "configuration/capabilities")) {
            if ((rc = rd_be(r, 4, &cnt)))
                return rc;
            if (cnt > 64)
                return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "too many capabilities"),
                       BAD;
            for (guint64 i = 0; i < cnt; i++) {
                char cap[256];
                if ((rc = rd_str(r, cap)))
                    return rc;
            }
        } else if (!strcmp(name, "configuration/uuid")) {
            if ((rc = rd_bytes(r, 16, &b)))
                return rc;
        } else if (!strcmp(name, "configuration/target-page-bits")) {
            if ((rc = rd_bytes(r, 4, &b)))
                return rc;
        } else {
            return fail(error, SNAP_STREAM_ERROR_UNSUPPORTED, p->offset,
                        "unknown configuration subsection"),
                   BAD;
        }
    }
}

static int step_top(SnapStreamParser *p, GError **error)
{
    Rd r = {p->d + p->head, p->n - p->head, 0};
    SnapRecord rec = {0};
    guint8 t;
    guint64 v, id, inst, ver;
    char name[256];
    int rc;

    if ((rc = rd_u8(&r, &t)))
        return rc;
    rec.section_type = t;
    switch (t) {
    case VM_CONFIG:
        if ((rc = parse_config(p, &r, error)))
            return rc;
        rec.kind = SNAP_REC_CONFIG;
        return emit(p, &rec, r.pos, error) ? 0 : BAD;
    case VM_START:
    case VM_FULL:
        if ((rc = rd_be(&r, 4, &id)) || (rc = rd_str(&r, name)) || (rc = rd_be(&r, 4, &inst)) ||
            (rc = rd_be(&r, 4, &ver)))
            return rc;
        g_hash_table_insert(p->sections, GUINT_TO_POINTER((guint)id), g_strdup(name));
        if (t == VM_START)
            g_hash_table_add(p->started, GUINT_TO_POINTER((guint)id));
        break;
    case VM_PART:
    case VM_END: {
        if ((rc = rd_be(&r, 4, &id)))
            return rc;
        const char *n = g_hash_table_lookup(p->sections, GUINT_TO_POINTER((guint)id));
        if (!n)
            return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset,
                        "section part for unknown section id"),
                   BAD;
        g_strlcpy(name, n, sizeof name);
        inst = ver = 0;
        break;
    }
    case VM_COMMAND: {
        const guint8 *b;
        if ((rc = rd_be(&r, 2, &v)) || (rc = rd_be(&r, 2, &id)) || (rc = rd_bytes(&r, id, &b)))
            return rc;
        rec.kind = SNAP_REC_COMMAND;
        rec.data = b;
        rec.data_len = id;
        return emit(p, &rec, r.pos, error) ? 0 : BAD;
    }
    case VM_EOF:
        rec.kind = SNAP_REC_EOF;
        p->st = ST_AFTER_EOF;
        return emit(p, &rec, 1, error) ? 0 : BAD;
    default:
        return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "unknown section type"), BAD;
    }
    rec.section_id = id;
    rec.name = name;
    rec.instance_id = inst;
    rec.version_id = ver;
    if (!strcmp(name, "ram")) {
        rec.kind = SNAP_REC_RAM_HEADER;
        p->st = ST_RAM;
        p->ram_section = id;
        return emit(p, &rec, r.pos, error) ? 0 : BAD;
    }
    gsize end;
    rc = find_footer(p, r.pos, id, &end);
    if (rc == BAD)
        return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "device section without footer"),
               BAD;
    if (rc)
        return rc;
    rec.kind = SNAP_REC_SECTION;
    rec.data = p->d + p->head + r.pos;
    rec.data_len = end - 5 - r.pos;
    return emit(p, &rec, end, error) ? 0 : BAD;
}

/* How many 9-byte zero-page continuation records that follow the one whose
 * header is @v (the pages after it, fill byte 0) @d holds: a snapshot of a
 * guest that uses little of its RAM is mostly such runs, and one record per
 * run spares the consumer a call per page. */
static gsize zero_run_len(const guint8 *d, gsize n, guint64 v)
{
    gsize k = 0;
    while (n - k * 9 >= 9 && k < G_MAXUINT32 - 1) {
        const guint8 *e = d + k * 9;
        guint64 want = v + (k + 1) * SNAP_PAGE_SIZE;
        if (want < v || ((guint64)be32_at(e) << 32 | be32_at(e + 4)) != want || e[8])
            break;
        k++;
    }
    return k;
}

static int step_ram(SnapStreamParser *p, GError **error)
{
    Rd r = {p->d + p->head, p->n - p->head, 0};
    SnapRecord rec = {.section_id = p->ram_section};
    guint64 v;
    int rc;

    if ((rc = rd_be(&r, 8, &v)))
        return rc;
    guint64 flags = v & (SNAP_PAGE_SIZE - 1);
    rec.addr = v & ~(guint64)(SNAP_PAGE_SIZE - 1);
    rec.ram_flags = flags;
    if (flags & RAM_MEM_SIZE) {
        if (flags != RAM_MEM_SIZE)
            return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "bad RAM mem-size flags"), BAD;
        guint64 total = 0;
        while (total < rec.addr) {
            char name[256];
            guint64 used;
            if ((rc = rd_str(&r, name)) || (rc = rd_be(&r, 8, &used)))
                return rc;
            if (used > rec.addr - total)
                return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset,
                            "RAM block sizes exceed total"),
                       BAD;
            if (used == 0)
                return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "empty RAM block"), BAD;
            total += used;
        }
        rec.kind = SNAP_REC_RAM_OTHER;
        return emit(p, &rec, r.pos, error) ? 0 : BAD;
    }
    if (flags == RAM_EOS) {
        rec.kind = SNAP_REC_RAM_OTHER;
        p->st = ST_RAM_FOOTER;
        return emit(p, &rec, r.pos, error) ? 0 : BAD;
    }
    if (flags == RAM_MULTIFD_FLUSH) {
        rec.kind = SNAP_REC_RAM_OTHER;
        return emit(p, &rec, r.pos, error) ? 0 : BAD;
    }
    guint64 base = flags & ~(guint64)RAM_CONTINUE;
    if (base != RAM_ZERO && base != RAM_PAGE && base != (RAM_ZERO | RAM_ZERO_RUN))
        return fail(error, SNAP_STREAM_ERROR_UNSUPPORTED, p->offset,
                    "unsupported RAM flag combination"),
               BAD;
    if (flags & RAM_CONTINUE) {
        if (!p->have_block)
            return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset,
                        "RAM continue flag without a block"),
                   BAD;
    } else {
        char name[256];
        if ((rc = rd_str(&r, name)))
            return rc;
        memcpy(p->block, name, sizeof name);
        p->have_block = TRUE;
    }
    rec.name = p->block;
    const guint8 *b;
    rec.npages = 1;
    if (base == (RAM_ZERO | RAM_ZERO_RUN)) { /* be32 n, fill byte 0 */
        guint64 n;
        if ((rc = rd_be(&r, 4, &n)) || (rc = rd_bytes(&r, 1, &b)))
            return rc;
        if (n == 0 || b[0] || rec.addr + n * SNAP_PAGE_SIZE < rec.addr)
            return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "bad run of zero pages"), BAD;
        rec.kind = SNAP_REC_RAM_ZERO;
        rec.npages = (guint32)n;
    } else if (base == RAM_ZERO) {
        if ((rc = rd_bytes(&r, 1, &b)))
            return rc;
        rec.kind = SNAP_REC_RAM_ZERO;
        if ((flags & RAM_CONTINUE) && r.pos == 9 && !b[0])
            r.pos += zero_run_len(r.p + 9, r.len - 9, v) * 9;
        rec.npages = (guint32)(r.pos / 9);
    } else {
        if ((rc = rd_bytes(&r, SNAP_PAGE_SIZE, &b)))
            return rc;
        rec.kind = SNAP_REC_RAM_PAGE;
        rec.data = b;
        rec.data_len = SNAP_PAGE_SIZE;
    }
    return emit(p, &rec, r.pos, error) ? 0 : BAD;
}

static int step(SnapStreamParser *p, GError **error)
{
    Rd r = {p->d + p->head, p->n - p->head, 0};
    SnapRecord rec = {0};
    guint64 v, id;
    int rc;
    switch (p->st) {
    case ST_HEADER:
        if ((rc = rd_be(&r, 4, &v)))
            return rc;
        if (v != SNAP_STREAM_MAGIC)
            return fail(error, SNAP_STREAM_ERROR_CORRUPT, 0,
                        "not a QEMU migration stream (bad magic)"),
                   BAD;
        if ((rc = rd_be(&r, 4, &v)))
            return rc;
        if (v != SNAP_STREAM_VERSION)
            return fail(error, SNAP_STREAM_ERROR_UNSUPPORTED, 4, "unsupported stream version"), BAD;
        rec.kind = SNAP_REC_HEADER;
        p->st = ST_TOP;
        return emit(p, &rec, r.pos, error) ? 0 : BAD;
    case ST_TOP:
        return step_top(p, error);
    case ST_RAM:
        return step_ram(p, error);
    case ST_RAM_FOOTER: {
        guint8 t;
        if ((rc = rd_u8(&r, &t)) || (rc = rd_be(&r, 4, &id)))
            return rc;
        if (t != VM_FOOTER || id != p->ram_section)
            return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "bad RAM section footer"), BAD;
        rec.kind = SNAP_REC_RAM_FOOTER;
        rec.section_id = (guint32)id;
        p->st = ST_TOP;
        return emit(p, &rec, r.pos, error) ? 0 : BAD;
    }
    case ST_AFTER_EOF: {
        guint8 t;
        const guint8 *b;
        if ((rc = rd_u8(&r, &t)))
            return rc;
        if (t != VM_VMDESC)
            return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "trailing data after EOF"),
                   BAD;
        if ((rc = rd_be(&r, 4, &v)))
            return rc;
        if (v > SNAP_MAX_VMDESC)
            return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset,
                        "device description too large"),
                   BAD;
        if ((rc = rd_bytes(&r, v, &b)))
            return rc;
        rec.kind = SNAP_REC_VMDESC;
        rec.data = b;
        rec.data_len = v;
        p->st = ST_DONE;
        return emit(p, &rec, r.pos, error) ? 0 : BAD;
    }
    case ST_DONE:
        return fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset,
                    "trailing data after device description"),
               BAD;
    }
    return BAD;
}

static gboolean run(SnapStreamParser *p, GError **error)
{
    while (p->n > p->head) {
        int rc = step(p, error);
        if (rc == NEED)
            return TRUE;
        if (rc == BAD) {
            if (error && !*error)
                fail(error, SNAP_STREAM_ERROR_CORRUPT, p->offset, "corrupt stream");
            return FALSE;
        }
    }
    return TRUE;
}

/* Input is parsed in place; only an incomplete record at the end of a feed
 * is copied, then completed with slices of the next input until the parser
 * is past it, and parsing continues in place. */
gboolean snap_stream_parser_feed(SnapStreamParser *p, const guint8 *buf, gsize len, GError **error)
{
    gboolean ok = TRUE;
    while (ok && len > 0) {
        if (p->buf->len == 0) {
            p->d = buf;
            p->n = len;
            p->head = 0;
            ok = run(p, error);
            g_byte_array_append(p->buf, p->d + p->head, p->n - p->head);
            break;
        }
        gsize old = p->buf->len, k = MIN(len, MAX(old, 8192));
        g_byte_array_append(p->buf, buf, k);
        p->d = p->buf->data;
        p->n = p->buf->len;
        p->head = 0;
        ok = run(p, error);
        if (p->head >= old) { /* past the copied record: back to in place */
            gsize used = p->head - old;
            g_byte_array_set_size(p->buf, 0);
            buf += used;
            len -= used;
        } else {
            g_byte_array_remove_range(p->buf, 0, p->head);
            buf += k;
            len -= k;
        }
    }
    p->d = p->buf->data;
    p->n = p->buf->len;
    p->head = 0;
    return ok;
}

gboolean snap_stream_parser_finish(SnapStreamParser *p, GError **error)
{
    p->finishing = TRUE;
    if (!run(p, error))
        return FALSE;
    if (p->n > p->head || (p->st != ST_AFTER_EOF && p->st != ST_DONE))
        return fail(error, SNAP_STREAM_ERROR_TRUNCATED, p->offset + p->n - p->head,
                    "stream truncated");
    return TRUE;
}
