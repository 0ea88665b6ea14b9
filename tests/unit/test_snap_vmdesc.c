/* Device field names from the JSON VM description: a hand-built stream with a
 * device section (struct array, indexed fields, a subsection) and its vmdesc,
 * parsed by snap_stream; changed bytes are attributed to the right fields. */
#include "snap_stream.h"
#include "snap_vmdesc.h"

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

/* Payload layout of device "gr740-gptimer" instance 0 described below:
 *   anchor_ns   8  @0
 *   t[0].count  4  @8,  t[0].tick_ref 8 @12
 *   t[1].count  4  @20, t[1].tick_ref 8 @24
 *   irq[0] 1 @32, irq[1] 1 @33           (non-compressible array: "index")
 *   subsection "gr740-gptimer/latch" (1+1+19+4 bytes @34), latch 4 @59
 *   unknown trailing bytes @63..64 (not in the description) */
static const char *VMDESC =
    "{\"page_size\":4096,\"devices\":["
    "{\"name\":\"other\",\"instance_id\":0,\"vmsd_name\":\"other\",\"version\":1,"
    "\"fields\":[{\"name\":\"x\",\"type\":\"uint32\",\"size\":4}]},"
    "{\"name\":\"gr740-gptimer\",\"instance_id\":0,\"vmsd_name\":\"gr740-gptimer\","
    "\"version\":1,\"fields\":["
    "{\"name\":\"anchor_ns\",\"type\":\"int64\",\"size\":8},"
    "{\"name\":\"t\",\"array_len\":2,\"type\":\"struct\",\"struct\":{"
    "\"vmsd_name\":\"gr740-gptimer/timer\",\"version\":1,\"fields\":["
    "{\"name\":\"count\",\"type\":\"uint32\",\"size\":4},"
    "{\"name\":\"tick_ref\",\"type\":\"uint64\",\"size\":8}]},\"size\":12},"
    "{\"name\":\"irq\",\"index\":0,\"type\":\"uint8\",\"size\":1},"
    "{\"name\":\"irq\",\"index\":1,\"type\":\"uint8\",\"size\":1}],"
    "\"subsections\":[{\"vmsd_name\":\"gr740-gptimer/latch\",\"version\":1,\"fields\":["
    "{\"name\":\"latch\",\"type\":\"uint32\",\"size\":4}]}]}]}";

static GByteArray *payload(guint32 count1, guint32 latch, guint8 tail)
{
    GByteArray *b = g_byte_array_new();
    be(b, 8, 1000);
    be(b, 4, 7);
    be(b, 8, 70);
    be(b, 4, count1);
    be(b, 8, 80);
    be(b, 1, 0);
    be(b, 1, 1);
    be(b, 1, 0x05);
    str(b, "gr740-gptimer/latch");
    be(b, 4, 1);
    be(b, 4, latch);
    be(b, 1, tail);
    be(b, 1, 0);
    return b;
}

static GByteArray *stream(GByteArray *dev)
{
    GByteArray *b = g_byte_array_new();
    be(b, 4, 0x5145564d);
    be(b, 4, 3);
    be(b, 1, 0x04); /* FULL */
    be(b, 4, 7);
    str(b, "gr740-gptimer");
    be(b, 4, 0);
    be(b, 4, 1);
    g_byte_array_append(b, dev->data, dev->len);
    be(b, 1, 0x7e);
    be(b, 4, 7);
    be(b, 1, 0x00); /* EOF */
    be(b, 1, 0x06);
    be(b, 4, strlen(VMDESC));
    g_byte_array_append(b, (const guint8 *)VMDESC, strlen(VMDESC));
    return b;
}

typedef struct {
    GByteArray *dev;
    char *vmdesc;
} Parsed;

static gboolean on_rec(const SnapRecord *r, gpointer user, GError **error)
{
    Parsed *p = user;
    if (r->kind == SNAP_REC_SECTION) {
        g_assert_cmpstr(r->name, ==, "gr740-gptimer");
        p->dev = g_byte_array_new();
        g_byte_array_append(p->dev, r->data, r->data_len);
    } else if (r->kind == SNAP_REC_VMDESC) {
        p->vmdesc = g_strndup((const char *)r->data, r->data_len);
    }
    return TRUE;
}

static void parse(GByteArray *st, Parsed *p)
{
    memset(p, 0, sizeof *p);
    GError *e = NULL;
    SnapStreamParser *sp = snap_stream_parser_new(on_rec, p);
    g_assert_true(snap_stream_parser_feed(sp, st->data, st->len, &e));
    g_assert_true(snap_stream_parser_finish(sp, &e));
    g_assert_no_error(e);
    snap_stream_parser_free(sp);
    g_assert_nonnull(p->dev);
    g_assert_nonnull(p->vmdesc);
}

static const SnapField *field(GArray *f, const char *name)
{
    for (guint i = 0; i < f->len; i++)
        if (!strcmp(g_array_index(f, SnapField, i).name, name))
            return &g_array_index(f, SnapField, i);
    return NULL;
}

static void test_layout(void)
{
    GError *e = NULL;
    g_autoptr(GHashTable) t = snap_vmdesc_parse(VMDESC, strlen(VMDESC), &e);
    g_assert_no_error(e);
    GArray *f = g_hash_table_lookup(t, "gr740-gptimer/0");
    g_assert_nonnull(f);
    g_assert_nonnull(g_hash_table_lookup(t, "other/0"));
    struct {
        const char *name;
        gsize off, size;
    } want[] = {{"anchor_ns", 0, 8},      {"t[0].count", 8, 4},
                {"t[0].tick_ref", 12, 8}, {"t[1].count", 20, 4},
                {"t[1].tick_ref", 24, 8}, {"irq[0]", 32, 1},
                {"irq[1]", 33, 1},        {"gr740-gptimer/latch.latch", 59, 4}};
    g_assert_cmpuint(f->len, ==, G_N_ELEMENTS(want));
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        const SnapField *x = field(f, want[i].name);
        g_assert_nonnull(x);
        g_assert_cmpuint(x->offset, ==, want[i].off);
        g_assert_cmpuint(x->size, ==, want[i].size);
    }
}

static void test_diff_names_fields(void)
{
    g_autoptr(GByteArray) da = payload(0x100, 5, 0), db = payload(0x0ff, 6, 9);
    g_autoptr(GByteArray) sa = stream(da), sb = stream(db);
    Parsed pa, pb;
    parse(sa, &pa);
    parse(sb, &pb);
    GError *e = NULL;
    g_autoptr(GHashTable) t = snap_vmdesc_parse(pb.vmdesc, strlen(pb.vmdesc), &e);
    g_assert_no_error(e);
    g_autoptr(GPtrArray) ch =
        snap_vmdesc_diff(g_hash_table_lookup(t, "gr740-gptimer/0"), pa.dev->data, pa.dev->len,
                         pb.dev->data, pb.dev->len);
    g_assert_cmpuint(ch->len, ==, 3);
    const SnapFieldChange *c0 = ch->pdata[0], *c1 = ch->pdata[1], *c2 = ch->pdata[2];
    g_assert_cmpstr(c0->name, ==, "t[1].count");
    g_assert_cmpuint(c0->offset, ==, 20);
    g_assert_cmpuint(c0->size, ==, 4);
    g_assert_cmpstr(c1->name, ==, "gr740-gptimer/latch.latch");
    g_assert_null(c2->name); /* the byte no field describes */
    g_assert_cmpuint(c2->offset, ==, 63);
    g_assert_cmpuint(c2->size, ==, 1);

    /* no description: byte ranges only */
    g_autoptr(GPtrArray) raw =
        snap_vmdesc_diff(NULL, pa.dev->data, pa.dev->len, pb.dev->data, pb.dev->len);
    g_assert_cmpuint(raw->len, ==, 2); /* 22..23 and 62..63 */
    for (guint i = 0; i < raw->len; i++)
        g_assert_null(((SnapFieldChange *)raw->pdata[i])->name);
    /* different lengths: the extra bytes are a change */
    g_autoptr(GPtrArray) longer =
        snap_vmdesc_diff(NULL, pa.dev->data, pa.dev->len, pa.dev->data, pa.dev->len - 2);
    g_assert_cmpuint(longer->len, ==, 1);
    g_assert_cmpuint(((SnapFieldChange *)longer->pdata[0])->offset, ==, pa.dev->len - 2);
    g_byte_array_free(pa.dev, TRUE);
    g_byte_array_free(pb.dev, TRUE);
    g_free(pa.vmdesc);
    g_free(pb.vmdesc);
}

static void test_bad_descriptions(void)
{
    const char *bad[] = {"", "[]", "{\"devices\":3}", "{\"devices\":[", "{\"x\":1}"};
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *e = NULL;
        GHashTable *t = snap_vmdesc_parse(bad[i], strlen(bad[i]), &e);
        g_assert_null(t);
        g_assert_nonnull(e);
        g_error_free(e);
    }
    /* a device whose struct sizes do not add up keeps the struct as one field;
     * a field without a size drops the device's fields (byte ranges instead) */
    const char *odd = "{\"devices\":[{\"name\":\"d\",\"instance_id\":1,\"fields\":["
                      "{\"name\":\"s\",\"type\":\"struct\",\"struct\":{\"fields\":["
                      "{\"name\":\"a\",\"size\":2}]},\"size\":6}]},"
                      "{\"name\":\"e\",\"instance_id\":0,\"fields\":[{\"name\":\"a\"}]}]}";
    GError *e = NULL;
    g_autoptr(GHashTable) t = snap_vmdesc_parse(odd, strlen(odd), &e);
    g_assert_no_error(e);
    GArray *d = g_hash_table_lookup(t, "d/1");
    g_assert_cmpuint(d->len, ==, 1);
    g_assert_cmpstr(g_array_index(d, SnapField, 0).name, ==, "s");
    g_assert_cmpuint(g_array_index(d, SnapField, 0).size, ==, 6);
    GArray *x = g_hash_table_lookup(t, "e/0");
    g_assert_cmpuint(x->len, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/snap_vmdesc/layout", test_layout);
    g_test_add_func("/snap_vmdesc/diff_names_fields", test_diff_names_fields);
    g_test_add_func("/snap_vmdesc/bad_descriptions", test_bad_descriptions);
    return g_test_run();
}
