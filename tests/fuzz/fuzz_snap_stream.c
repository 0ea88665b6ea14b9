/* libFuzzer target: the migration stream parser must never crash, and the
 * records it emits must cover the accepted input exactly. The JSON device
 * description (a stream's own, or the input itself when it starts with '{')
 * goes through snap_vmdesc: parse, then a field diff of the device payloads. */
#include "snap_stream.h"
#include "snap_vmdesc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

typedef struct {
    guint64 covered;
} Ctx;

static void check_vmdesc(const char *json, gsize len, const guint8 *payload, gsize plen)
{
    GHashTable *t = snap_vmdesc_parse(json, len, NULL);
    if (!t)
        return;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        GPtrArray *ch = snap_vmdesc_diff(v, payload, plen, payload + plen / 2, plen - plen / 2);
        for (guint i = 0; i < ch->len; i++) {
            const SnapFieldChange *c = ch->pdata[i];
            if (c->offset > plen || c->size > plen - c->offset)
                abort(); /* a change must lie within the longer payload */
        }
        g_ptr_array_unref(ch);
    }
    g_hash_table_destroy(t);
}

static gboolean on_rec(const SnapRecord *r, gpointer user, GError **error)
{
    Ctx *c = user;
    if (r->offset != c->covered)
        abort();
    c->covered += r->raw_len;
    if (r->kind == SNAP_REC_VMDESC)
        check_vmdesc((const char *)r->data, r->data_len, r->raw, r->raw_len);
    return TRUE;
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    if (size > 0 && data[0] == '{')
        check_vmdesc((const char *)data, size, data, size);
    Ctx c = {0};
    SnapStreamParser *p = snap_stream_parser_new(on_rec, &c);
    GError *e = NULL;
    /* Feed in two pieces to exercise resumption. */
    size_t half = size ? data[0] % (size + 1) : 0;
    gboolean ok = snap_stream_parser_feed(p, data, half, &e) &&
                  snap_stream_parser_feed(p, data + half, size - half, &e) &&
                  snap_stream_parser_finish(p, &e);
    if (ok && c.covered != size)
        abort();
    g_clear_error(&e);
    snap_stream_parser_free(p);
    return 0;
}
