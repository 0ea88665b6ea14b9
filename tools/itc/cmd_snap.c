/* itc snap <verb>: the snapshot store from the command line. */
#include "cli.h"
#include "snap_store.h"
#include "snap_stream.h"
#include "snap_symbols.h"
#include "snap_vmdesc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int cmd_snap_main(int argc, char **argv);

typedef struct {
    const char *store;
    const char *out;
    const char *elf;
    guint64 ram_base;
    gboolean json;
    int level;
    GPtrArray *args;
} SnapOpts;

static int parse_opts(int argc, char **argv, SnapOpts *o)
{
    o->store = g_getenv("ITC_STORE");
    o->level = 3;
    o->ram_base = 0x40000000;
    o->args = g_ptr_array_new();
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            o->json = TRUE;
        else if ((!strcmp(a, "--store") || !strcmp(a, "-o") || !strcmp(a, "--level") ||
                  !strcmp(a, "--elf") || !strcmp(a, "--ram-base")) &&
                 i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "--elf"))
                o->elf = v;
            else if (!strcmp(a, "--ram-base"))
                o->ram_base = g_ascii_strtoull(v, NULL, 0);
            else if (!strcmp(a, "--store"))
                o->store = v;
            else if (!strcmp(a, "-o"))
                o->out = v;
            else {
                char *end;
                long l = strtol(v, &end, 10);
                if (*end || l < 1 || l > 19)
                    return cli_error("--level must be 1..19");
                o->level = (int)l;
            }
        } else if (a[0] == '-' && a[1] == '-')
            return cli_error("unknown option %s", a);
        else
            g_ptr_array_add(o->args, (gpointer)a);
    }
    if (!o->store)
        return cli_error("no store: give --store DIR or set ITC_STORE");
    return CLI_OK;
}

static int fail(GError *e)
{
    int rc = cli_error("%s", e->message);
    g_error_free(e);
    return rc;
}

static void ingest_progress(void *opaque, guint64 bytes)
{
    cli_progress_update(opaque, bytes);
}

static int do_ingest(SnapStore *s, SnapOpts *o)
{
    if (o->args->len != 1)
        return cli_error("usage: itc snap ingest FILE|-");
    const char *path = o->args->pdata[0];
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return cli_error("cannot open %s: %s", path, g_strerror(errno));
    GError *e = NULL;
    CliProgress pr;
    cli_progress_start(&pr, "ingest", 0);
    guint64 total = 0;
    g_autofree char *id =
        snap_store_ingest_file(s, f, path, o->level, ingest_progress, &pr, &total, &e);
    cli_progress_end(&pr);
    if (f != stdin)
        fclose(f);
    if (!id)
        return fail(e);
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, id);
        json_builder_set_member_name(b, "bytes");
        json_builder_add_int_value(b, total);
        json_builder_end_object(b);
        cli_print_json(b);
    } else {
        printf("ingested %" G_GUINT64_FORMAT " bytes as snapshot %s\n", total, id);
    }
    return CLI_OK;
}

static int resolve(SnapStore *s, const char *prefix, char id[33])
{
    GError *e = NULL;
    return snap_store_resolve(s, prefix, id, &e) ? CLI_OK : fail(e);
}

static int do_export(SnapStore *s, SnapOpts *o)
{
    char id[33];
    if (o->args->len != 1)
        return cli_error("usage: itc snap export ID [-o FILE|-]");
    int rc = resolve(s, o->args->pdata[0], id);
    if (rc)
        return rc;
    gboolean to_stdout = !o->out || !strcmp(o->out, "-");
    g_autofree char *tmp = to_stdout ? NULL : g_strdup_printf("%s.tmp", o->out);
    FILE *f = to_stdout ? stdout : fopen(tmp, "wb");
    if (!f)
        return cli_error("cannot create %s: %s", tmp, g_strerror(errno));
    GError *e = NULL;
    gboolean ok = snap_store_export(s, id, f, &e);
    if (!to_stdout) {
        ok = (fclose(f) == 0) && ok;
        if (ok && rename(tmp, o->out) < 0)
            ok = FALSE;
        if (!ok)
            unlink(tmp);
    }
    if (!ok)
        return e ? fail(e) : cli_error("cannot write %s", o->out);
    return CLI_OK;
}

static int do_ls(SnapStore *s, SnapOpts *o)
{
    GError *e = NULL;
    GArray *l = snap_store_list(s, &e);
    if (!l)
        return fail(e);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    if (!o->json)
        printf("%-32s  %-19s  %12s  %8s  %10s  %s\n", "ID", "CREATED", "BYTES", "PAGES", "MANIFEST",
               "DELTA OF");
    for (guint i = 0; i < l->len; i++) {
        SnapInfo *si = &g_array_index(l, SnapInfo, i);
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(si->created);
        g_autofree char *ts = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S");
        if (o->json) {
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "id");
            json_builder_add_string_value(b, si->id);
            json_builder_set_member_name(b, "created");
            json_builder_add_int_value(b, si->created);
            json_builder_set_member_name(b, "bytes");
            json_builder_add_int_value(b, si->stream_len);
            json_builder_set_member_name(b, "pages");
            json_builder_add_int_value(b, si->pages);
            json_builder_set_member_name(b, "manifest_bytes");
            json_builder_add_int_value(b, si->manifest_bytes);
            json_builder_set_member_name(b, "parent");
            if (si->parent[0])
                json_builder_add_string_value(b, si->parent);
            else
                json_builder_add_null_value(b);
            json_builder_end_object(b);
        } else {
            printf("%-32s  %-19s  %12" G_GUINT64_FORMAT "  %8" G_GUINT64_FORMAT
                   "  %10" G_GUINT64_FORMAT "  %.8s\n",
                   si->id, ts, si->stream_len, si->pages, si->manifest_bytes,
                   si->parent[0] ? si->parent : "-");
        }
    }
    json_builder_end_array(b);
    if (o->json)
        cli_print_json(b);
    g_array_free(l, TRUE);
    return CLI_OK;
}

/* Parsed view of a snapshot for show/diff. */
typedef struct {
    GPtrArray *sections;      /* of SnapRecordCopy */
    GHashTable *section_data; /* "name/instance" -> GBytes (last seen) */
    GHashTable *pages;        /* "block@addr" -> PageRef */
    char *buf;                /* the exported stream */
    gsize len;
    guint64 zero_pages, data_pages;
    char *vmdesc;
} SnapView;

typedef struct {
    guint8 hash[16];
    guint64 addr;
    gsize off; /* page data in SnapView.buf, G_MAXSIZE for a zero page */
} PageRef;

typedef struct {
    char *name;
    guint32 instance, version, section_id;
    guint8 type;
    guint64 offset, len;
} SectionInfo;

static void section_info_free(gpointer p)
{
    SectionInfo *si = p;
    g_free(si->name);
    g_free(si);
}

static void view_add_page(SnapView *v, const char *block, guint64 addr, PageRef *pr)
{
    pr->addr = addr;
    g_hash_table_replace(v->pages, g_strdup_printf("%s@%" G_GINT64_MODIFIER "x", block, addr), pr);
}

static gboolean view_record(const SnapRecord *r, gpointer user, GError **error)
{
    SnapView *v = user;
    if (r->kind == SNAP_REC_SECTION || r->kind == SNAP_REC_RAM_HEADER) {
        SectionInfo *si = g_new0(SectionInfo, 1);
        si->name = g_strdup(r->name);
        si->instance = r->instance_id;
        si->version = r->version_id;
        si->section_id = r->section_id;
        si->type = r->section_type;
        si->offset = r->offset;
        si->len = r->kind == SNAP_REC_SECTION ? r->data_len : 0;
        g_ptr_array_add(v->sections, si);
        if (r->kind == SNAP_REC_SECTION) {
            char *key = g_strdup_printf("%s/%u", r->name, r->instance_id);
            for (guint i = 0; i < v->sections->len; i++) {
                SectionInfo *o = v->sections->pdata[i];
                if (o->section_id == r->section_id && o->type != 2 && o->type != 3) {
                    g_free(key);
                    key = g_strdup_printf("%s/%u", o->name, o->instance);
                    break;
                }
            }
            g_hash_table_replace(v->section_data, key, g_bytes_new(r->data, r->data_len));
        }
    } else if (r->kind == SNAP_REC_RAM_PAGE) {
        PageRef *pr = g_new0(PageRef, 1);
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits(r->data, r->data_len));
        memcpy(pr->hash, c.digest, 16);
        pr->off = r->offset + r->raw_len - SNAP_PAGE_SIZE;
        v->data_pages++;
        view_add_page(v, r->name, r->addr, pr);
    } else if (r->kind == SNAP_REC_RAM_ZERO) {
        for (guint32 i = 0; i < r->npages; i++) { /* a run: fill byte 0 throughout */
            PageRef *pr = g_new0(PageRef, 1);
            pr->off = G_MAXSIZE;
            if (r->raw[r->raw_len - 1] != 0) /* fill byte */
                memset(pr->hash, 0xff, sizeof pr->hash);
            v->zero_pages++;
            view_add_page(v, r->name, r->addr + (guint64)i * SNAP_PAGE_SIZE, pr);
        }
    } else if (r->kind == SNAP_REC_VMDESC) {
        v->vmdesc = g_strndup((const char *)r->data, r->data_len);
    }
    return TRUE;
}

static void view_clear(SnapView *v)
{
    if (v->sections)
        g_ptr_array_free(v->sections, TRUE);
    if (v->section_data)
        g_hash_table_destroy(v->section_data);
    if (v->pages)
        g_hash_table_destroy(v->pages);
    g_free(v->vmdesc);
    free(v->buf);
}

static gboolean view_load(SnapStore *s, const char *id, SnapView *v, GError **error)
{
    memset(v, 0, sizeof *v);
    v->sections = g_ptr_array_new_with_free_func(section_info_free);
    v->section_data =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
    v->pages = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    /* Export into a buffer of the stream's size (open_memstream's repeated
     * growth, copying and zero-filling was most of a diff's time). */
    guint64 want = 0;
    GArray *l = snap_store_list(s, error);
    if (!l)
        return FALSE;
    for (guint i = 0; i < l->len; i++)
        if (!strcmp(g_array_index(l, SnapInfo, i).id, id))
            want = g_array_index(l, SnapInfo, i).stream_len;
    g_array_free(l, TRUE);
    char *buf = malloc(want + 1);
    FILE *mem = buf ? fmemopen(buf, want + 1, "w") : NULL;
    if (!mem) {
        free(buf);
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_IO, "cannot buffer snapshot %s", id);
        return FALSE;
    }
    setvbuf(mem, NULL, _IONBF, 0);
    gboolean ok = snap_store_export(s, id, mem, error);
    long pos = ftell(mem);
    fclose(mem);
    size_t len = pos > 0 ? (size_t)pos : 0;
    if (ok && len != want) {
        g_set_error(error, SNAP_STORE_ERROR, SNAP_STORE_ERROR_CORRUPT,
                    "snapshot %s: exported %zu bytes, manifest says %" G_GUINT64_FORMAT, id, len,
                    want);
        ok = FALSE;
    }
    if (ok) {
        SnapStreamParser *p = snap_stream_parser_new(view_record, v);
        /* Bounded pieces keep the parser's own buffer small. */
        for (gsize i = 0; ok && i < len; i += 1 << 16)
            ok = snap_stream_parser_feed(p, (guint8 *)buf + i, MIN(1 << 16, len - i), error);
        ok = ok && snap_stream_parser_finish(p, error);
        snap_stream_parser_free(p);
    }
    v->buf = buf;
    v->len = len;
    return ok;
}

static const char *type_name(guint8 t)
{
    switch (t) {
    case 1:
        return "start";
    case 2:
        return "part";
    case 3:
        return "end";
    case 4:
        return "full";
    }
    return "?";
}

static int do_show(SnapStore *s, SnapOpts *o)
{
    char id[33];
    if (o->args->len != 1)
        return cli_error("usage: itc snap show ID");
    int rc = resolve(s, o->args->pdata[0], id);
    if (rc)
        return rc;
    SnapView v;
    GError *e = NULL;
    if (!view_load(s, id, &v, &e)) {
        view_clear(&v);
        return fail(e);
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    json_builder_set_member_name(b, "sections");
    json_builder_begin_array(b);
    if (!o->json)
        printf("snapshot %s\n%-6s %-28s %5s %4s %10s %8s\n", id, "TYPE", "SECTION", "INST", "VER",
               "OFFSET", "BYTES");
    for (guint i = 0; i < v.sections->len; i++) {
        SectionInfo *si = v.sections->pdata[i];
        if (o->json) {
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "type");
            json_builder_add_string_value(b, type_name(si->type));
            json_builder_set_member_name(b, "name");
            json_builder_add_string_value(b, si->name);
            json_builder_set_member_name(b, "instance");
            json_builder_add_int_value(b, si->instance);
            json_builder_set_member_name(b, "version");
            json_builder_add_int_value(b, si->version);
            json_builder_set_member_name(b, "offset");
            json_builder_add_int_value(b, si->offset);
            json_builder_set_member_name(b, "bytes");
            json_builder_add_int_value(b, si->len);
            json_builder_end_object(b);
        } else {
            printf("%-6s %-28s %5u %4u %10" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT "\n",
                   type_name(si->type), si->name, si->instance, si->version, si->offset, si->len);
        }
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "data_pages");
    json_builder_add_int_value(b, v.data_pages);
    json_builder_set_member_name(b, "zero_pages");
    json_builder_add_int_value(b, v.zero_pages);
    json_builder_end_object(b);
    if (o->json)
        cli_print_json(b);
    else
        printf("RAM: %" G_GUINT64_FORMAT " data pages, %" G_GUINT64_FORMAT " zero pages\n",
               v.data_pages, v.zero_pages);
    view_clear(&v);
    return CLI_OK;
}

static const guint8 *page_bytes(const SnapView *v, const PageRef *p)
{
    static const guint8 zero[SNAP_PAGE_SIZE];
    return p && p->off != G_MAXSIZE && p->off + SNAP_PAGE_SIZE <= v->len
               ? (const guint8 *)v->buf + p->off
               : zero;
}

static guint64 read_be(const guint8 *d, gsize n)
{
    guint64 v = 0;
    for (gsize i = 0; i < n; i++)
        v = v << 8 | d[i];
    return v;
}

/* Names the FSW variables in a changed page: "telemetry_seq: 41 -> 42". */
static void diff_symbols(GPtrArray *syms, guint64 base, const SnapView *va, const SnapView *vb,
                         const PageRef *pa, const PageRef *pb, GHashTable *seen, JsonBuilder *b,
                         gboolean json)
{
    const guint8 *x = page_bytes(va, pa), *y = page_bytes(vb, pb);
    guint64 addr = pa ? pa->addr : pb->addr;
    for (gsize i = 0; i < SNAP_PAGE_SIZE; i++) {
        if (x[i] == y[i])
            continue;
        const SnapSymbol *sym = snap_symbols_find(syms, base + addr + i);
        if (!sym || g_hash_table_contains(seen, sym->name))
            continue;
        g_hash_table_add(seen, sym->name);
        gsize start = sym->addr - base - addr;
        gboolean scalar =
            sym->size <= 8 && sym->addr >= base + addr && start + sym->size <= SNAP_PAGE_SIZE;
        g_autofree char *text =
            scalar ? g_strdup_printf("%s: %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT, sym->name,
                                     read_be(x + start, sym->size), read_be(y + start, sym->size))
                   : g_strdup_printf("%s: changed", sym->name);
        if (json)
            json_builder_add_string_value(b, text);
        else
            printf("%s\n", text);
    }
}

/* "0x0000002a" for fields up to 8 bytes (VMState is big-endian), else hex
 * bytes (at most 16 shown); bytes past the end of a payload are "--". */
static char *field_value(const guint8 *d, gsize len, gsize off, gsize size)
{
    if (off >= len)
        return g_strdup("(absent)");
    gsize n = MIN(size, len - off);
    GString *s = g_string_new("0x");
    for (gsize i = 0; i < MIN(n, 16); i++)
        g_string_append_printf(s, "%02x", d[off + i]);
    if (n < size || n > 16)
        g_string_append(s, size > 16 ? "..." : "--");
    return g_string_free(s, FALSE);
}

/* Field-level changes of one device section, named from the vmdesc. */
static guint diff_fields(GHashTable *desc, const char *key, const guint8 *xd, gsize xn,
                         const guint8 *yd, gsize yn, JsonBuilder *b, gboolean json)
{
    const GArray *fields = desc ? g_hash_table_lookup(desc, key) : NULL;
    g_autoptr(GPtrArray) ch = snap_vmdesc_diff(fields, xd, xn, yd, yn);
    g_autofree char *label = g_strdup(key);
    char *slash = strrchr(label, '/');
    g_autofree char *pretty =
        slash ? g_strdup_printf("%.*s[%s]", (int)(slash - label), label, slash + 1)
              : g_strdup(label);
    if (json) {
        json_builder_set_member_name(b, "fields");
        json_builder_begin_array(b);
    }
    for (guint i = 0; i < ch->len; i++) {
        const SnapFieldChange *c = ch->pdata[i];
        g_autofree char *va = field_value(xd, xn, c->offset, c->size);
        g_autofree char *vb = field_value(yd, yn, c->offset, c->size);
        g_autofree char *name =
            c->name ? g_strdup_printf("%s.%s", pretty, c->name)
                    : g_strdup_printf("%s+0x%zx..0x%zx", pretty, c->offset, c->offset + c->size);
        if (json) {
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "field");
            json_builder_add_string_value(b, name);
            json_builder_set_member_name(b, "named");
            json_builder_add_boolean_value(b, c->name != NULL);
            json_builder_set_member_name(b, "offset");
            json_builder_add_int_value(b, c->offset);
            json_builder_set_member_name(b, "size");
            json_builder_add_int_value(b, c->size);
            json_builder_set_member_name(b, "a");
            json_builder_add_string_value(b, va);
            json_builder_set_member_name(b, "b");
            json_builder_add_string_value(b, vb);
            json_builder_end_object(b);
        } else {
            printf("  %s: %s -> %s\n", name, va, vb);
        }
    }
    if (json)
        json_builder_end_array(b);
    return ch->len;
}

static int do_diff(SnapStore *s, SnapOpts *o)
{
    char a[33], bid[33];
    if (o->args->len != 2)
        return cli_error("usage: itc snap diff A B");
    int rc = resolve(s, o->args->pdata[0], a);
    if (!rc)
        rc = resolve(s, o->args->pdata[1], bid);
    if (rc)
        return rc;
    SnapView va, vb;
    GError *e = NULL;
    gboolean ok = view_load(s, a, &va, &e);
    if (ok)
        ok = view_load(s, bid, &vb, &e);
    else
        memset(&vb, 0, sizeof vb);
    if (!ok) {
        view_clear(&va);
        view_clear(&vb);
        return fail(e);
    }
    g_autoptr(GPtrArray) syms = NULL;
    if (o->elf && !(syms = snap_symbols_load(o->elf, &e))) {
        view_clear(&va);
        view_clear(&vb);
        return fail(e);
    }
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    /* Field names: B's device description, else A's; none -> byte ranges. */
    g_autoptr(GHashTable) desc = NULL;
    const char *vd = vb.vmdesc ? vb.vmdesc : va.vmdesc;
    if (vd) {
        GError *de = NULL;
        desc = snap_vmdesc_parse(vd, strlen(vd), &de);
        if (!desc) {
            fprintf(stderr, "itc: note: %s; device changes shown as byte ranges\n", de->message);
            g_error_free(de);
        }
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "sections");
    json_builder_begin_array(b);
    GHashTableIter it;
    gpointer k, val;
    g_autoptr(GList) keys =
        g_list_sort(g_hash_table_get_keys(va.section_data), (GCompareFunc)g_strcmp0);
    guint changed_sections = 0;
    for (GList *l = keys; l; l = l->next) {
        GBytes *x = g_hash_table_lookup(va.section_data, l->data);
        GBytes *y = g_hash_table_lookup(vb.section_data, l->data);
        if (y && g_bytes_equal(x, y))
            continue;
        gsize xn, yn, first = 0, count = 0;
        const guint8 *xd = g_bytes_get_data(x, &xn), *yd = y ? g_bytes_get_data(y, &yn) : NULL;
        if (yd) {
            first = G_MAXSIZE;
            for (gsize i = 0; i < MIN(xn, yn); i++)
                if (xd[i] != yd[i]) {
                    count++;
                    if (first == G_MAXSIZE)
                        first = i;
                }
            count += MAX(xn, yn) - MIN(xn, yn);
            if (first == G_MAXSIZE)
                first = MIN(xn, yn);
        }
        changed_sections++;
        if (o->json) {
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "section");
            json_builder_add_string_value(b, l->data);
            json_builder_set_member_name(b, "first_offset");
            json_builder_add_int_value(b, first);
            json_builder_set_member_name(b, "bytes_changed");
            json_builder_add_int_value(b, count);
            json_builder_set_member_name(b, "only_in_a");
            json_builder_add_boolean_value(b, y == NULL);
            if (y)
                diff_fields(desc, l->data, xd, xn, yd, yn, b, TRUE);
            json_builder_end_object(b);
        } else if (!y) {
            printf("section %s: only in %s\n", (char *)l->data, a);
        } else {
            printf("section %s: %zu bytes changed, first at offset %zu\n", (char *)l->data, count,
                   first);
            diff_fields(desc, l->data, xd, xn, yd, yn, NULL, FALSE);
        }
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "pages");
    json_builder_begin_array(b);
    guint changed_pages = 0;
    g_autoptr(GPtrArray) changed = g_ptr_array_new();
    g_autoptr(GList) pk = g_list_sort(g_hash_table_get_keys(vb.pages), (GCompareFunc)g_strcmp0);
    for (GList *l = pk; l; l = l->next) {
        PageRef *y = g_hash_table_lookup(vb.pages, l->data);
        PageRef *x = g_hash_table_lookup(va.pages, l->data);
        if (x && !memcmp(x->hash, y->hash, 16))
            continue;
        if (syms)
            g_ptr_array_add(changed, l->data);
        changed_pages++;
        if (o->json)
            json_builder_add_string_value(b, l->data);
        else
            printf("page %s changed\n", (char *)l->data);
    }
    g_hash_table_iter_init(&it, va.pages);
    while (g_hash_table_iter_next(&it, &k, &val))
        if (!g_hash_table_contains(vb.pages, k)) {
            changed_pages++;
            if (o->json)
                json_builder_add_string_value(b, k);
            else
                printf("page %s only in %s\n", (char *)k, a);
        }
    json_builder_end_array(b);
    if (syms) {
        json_builder_set_member_name(b, "symbols");
        json_builder_begin_array(b);
        for (guint i = 0; i < changed->len; i++)
            diff_symbols(syms, o->ram_base, &va, &vb,
                         g_hash_table_lookup(va.pages, changed->pdata[i]),
                         g_hash_table_lookup(vb.pages, changed->pdata[i]), seen, b, o->json);
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
    if (o->json)
        cli_print_json(b);
    else
        printf("%u sections and %u pages differ\n", changed_sections, changed_pages);
    view_clear(&va);
    view_clear(&vb);
    return changed_sections || changed_pages ? CLI_FAILURE_FOUND : CLI_OK;
}

static int do_verify(SnapStore *s, SnapOpts *o)
{
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    GError *e = NULL;
    if (!snap_store_verify(s, problems, &e))
        return fail(e);
    for (guint i = 0; i < problems->len; i++)
        fprintf(stderr, "damaged: %s\n", (char *)problems->pdata[i]);
    if (problems->len) {
        printf("verify: %u problem(s)\n", problems->len);
        return CLI_BAD_INPUT;
    }
    printf("verify: ok\n");
    return CLI_OK;
}

static int do_rm(SnapStore *s, SnapOpts *o)
{
    char id[33];
    if (o->args->len != 1)
        return cli_error("usage: itc snap rm ID");
    int rc = resolve(s, o->args->pdata[0], id);
    if (rc)
        return rc;
    GError *e = NULL;
    return snap_store_remove(s, id, &e) ? CLI_OK : fail(e);
}

static int do_gc(SnapStore *s, SnapOpts *o)
{
    guint64 freed;
    GError *e = NULL;
    if (!snap_store_gc(s, &freed, &e))
        return fail(e);
    printf("gc: freed %" G_GUINT64_FORMAT " bytes\n", freed);
    return CLI_OK;
}

static int do_stats(SnapStore *s, SnapOpts *o)
{
    SnapStats st;
    GError *e = NULL;
    if (!snap_store_stats(s, &st, &e))
        return fail(e);
    double ratio = st.stored_bytes ? (double)st.logical_bytes / st.stored_bytes : 0;
    guint64 data_refs = st.page_refs;
    double dedup = st.unique_pages ? (double)data_refs / st.unique_pages : 0;
    double comp = st.page_stored_bytes ? (double)st.unique_pages * 4096 / st.page_stored_bytes : 0;
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
#define M(n, v)                                                                                    \
    json_builder_set_member_name(b, n);                                                            \
    json_builder_add_int_value(b, v)
        M("snapshots", st.snapshots);
        M("logical_bytes", st.logical_bytes);
        M("stored_bytes", st.stored_bytes);
        M("unique_pages", st.unique_pages);
        M("page_refs", st.page_refs);
        M("manifest_bytes", st.manifest_bytes);
        M("delta_manifests", st.delta_manifests);
#undef M
        json_builder_set_member_name(b, "ratio");
        json_builder_add_double_value(b, ratio);
        json_builder_set_member_name(b, "dedup_ratio");
        json_builder_add_double_value(b, dedup);
        json_builder_set_member_name(b, "compression_ratio");
        json_builder_add_double_value(b, comp);
        json_builder_end_object(b);
        cli_print_json(b);
    } else {
        g_autofree char *l = cli_human_bytes(st.logical_bytes),
                        *s2 = cli_human_bytes(st.stored_bytes),
                        *mb = cli_human_bytes(st.manifest_bytes);
        printf("snapshots          %" G_GUINT64_FORMAT
               "\nlogical bytes      %s\nstored bytes       %s\n"
               "overall ratio      %.1fx\npage refs          %" G_GUINT64_FORMAT
               "\nunique pages       %" G_GUINT64_FORMAT
               "\ndedup ratio        %.1fx\ncompression ratio  %.1fx\nmanifests          %s"
               " (%" G_GUINT64_FORMAT " stored as deltas)\n",
               st.snapshots, l, s2, ratio, st.page_refs, st.unique_pages, dedup, comp, mb,
               st.delta_manifests);
    }
    return CLI_OK;
}

static const struct {
    const char *verb;
    int (*fn)(SnapStore *, SnapOpts *);
} verbs[] = {
    {"ingest", do_ingest}, {"export", do_export}, {"ls", do_ls},
    {"show", do_show},     {"verify", do_verify}, {"rm", do_rm},
    {"gc", do_gc},         {"stats", do_stats},   {"diff", do_diff},
};

static const char usage_text[] =
    "usage: itc snap VERB [--store DIR] [--json] [ARGS]\n"
    "\n"
    "A content-addressed store of QEMU migration streams (snapshots/FORMAT.md):\n"
    "RAM pages are deduplicated across snapshots and zstd-compressed in packs; a\n"
    "snapshot is a small checksummed manifest.  A bundle's checkpoints/ is one.\n"
    "\n"
    "  ingest FILE|-          store a stream (a pipe is fine); prints the new id last\n"
    "         [--level N]     zstd level 1..19 (default 3)\n"
    "  export ID [-o FILE]    write the stream back, byte-identical (default stdout)\n"
    "  ls                     list the snapshots\n"
    "  show ID                a snapshot's sections, devices and RAM blocks\n"
    "  verify                 check every checksum; names each damaged object\n"
    "  rm ID                  remove a snapshot (gc frees its pages)\n"
    "  gc                     drop unreferenced blocks and packs\n"
    "  stats                  logical vs stored bytes, dedup and compression ratios\n"
    "  diff A B [--elf FSW]   changed device fields and RAM pages; with --elf the\n"
    "         [--ram-base A]  changed bytes as FSW symbols (RAM base 0x40000000)\n"
    "\n"
    "IDs may be abbreviated to a unique prefix.  The store is --store DIR or\n"
    "$ITC_STORE.  exit status: 0 ok, 1 diff found differences, 2 bad input or\n"
    "damage (verify, or a damaged object in the way).\n";

int cmd_snap_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return CLI_BAD_INPUT;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") ||
            (i == 1 && !strcmp(argv[i], "help"))) {
            fputs(usage_text, stdout);
            return CLI_OK;
        }
    }
    for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++) {
        if (strcmp(argv[1], verbs[i].verb))
            continue;
        SnapOpts o = {0};
        int rc = parse_opts(argc - 2, argv + 2, &o);
        if (rc == CLI_OK) {
            GError *e = NULL;
            SnapStore *s = snap_store_open(o.store, &e);
            rc = s ? verbs[i].fn(s, &o) : fail(e);
            snap_store_close(s);
        }
        g_ptr_array_free(o.args, TRUE);
        return rc;
    }
    return cli_error("unknown snap verb '%s'", argv[1]);
}
