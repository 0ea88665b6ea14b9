/* libFuzzer target: the migration stream parser must never crash, and the
 * records it emits must cover the accepted input exactly. */
#include "snap_stream.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

typedef struct {
    guint64 covered;
} Ctx;

static gboolean on_rec(const SnapRecord *r, gpointer user, GError **error)
{
    Ctx *c = user;
    if (r->offset != c->covered)
        abort();
    c->covered += r->raw_len;
    return TRUE;
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
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
