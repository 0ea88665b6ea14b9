#include "replay_log.h"

#include <string.h>

G_DEFINE_QUARK(replay - log - error - quark, replay_log_error)

/* Event kinds of replay/replay-internal.h (QEMU 10.0). */
enum {
    EV_INSTRUCTION = 0,
    EV_INTERRUPT = 1,
    EV_EXCEPTION = 2,
    EV_ASYNC_BH = 3,
    EV_ASYNC_BH_ONESHOT = 4,
    EV_ASYNC_INPUT = 5,
    EV_ASYNC_INPUT_SYNC = 6,
    EV_ASYNC_CHAR_READ = 7,
    EV_ASYNC_BLOCK = 8,
    EV_ASYNC_NET = 9,
    EV_SHUTDOWN = 10,
    EV_SHUTDOWN_LAST = 21, /* + SHUTDOWN_CAUSE__MAX (11) */
    EV_CHAR_WRITE = 22,
    EV_CHAR_READ_ALL = 23,
    EV_CHAR_READ_ALL_ERROR = 24,
    EV_AUDIO_OUT = 25,
    EV_AUDIO_IN = 26,
    EV_RANDOM = 27,
    EV_CLOCK = 28, /* two clocks */
    EV_CLOCK_LAST = 29,
    EV_CHECKPOINT = 30, /* nine checkpoints */
    EV_CHECKPOINT_LAST = 38,
    EV_END = 39,
};

#define HEADER_SIZE 12

typedef struct {
    const guint8 *p, *end;
    const guint8 *start;
} Cursor;

static gboolean need(Cursor *c, gsize n, guint8 kind, GError **error)
{
    if ((gsize)(c->end - c->p) >= n)
        return TRUE;
    g_set_error(error, REPLAY_LOG_ERROR, REPLAY_LOG_ERROR_TRUNCATED,
                "replay log truncated: event %u at byte %td needs %zu more bytes, %td left", kind,
                c->p - c->start - 1, n, c->end - c->p);
    return FALSE;
}

static guint32 get_u32(Cursor *c)
{
    guint32 v = (guint32)c->p[0] << 24 | (guint32)c->p[1] << 16 | (guint32)c->p[2] << 8 | c->p[3];
    c->p += 4;
    return v;
}

/* A length-prefixed array: its bytes, or NULL. */
static const guint8 *get_array(Cursor *c, guint8 kind, guint32 *len, GError **error)
{
    if (!need(c, 4, kind, error))
        return NULL;
    *len = get_u32(c);
    if (!need(c, *len, kind, error))
        return NULL;
    const guint8 *a = c->p;
    c->p += *len;
    return a;
}

static void input_free(ReplayLogInput *in)
{
    g_bytes_unref(in->data);
    g_free(in);
}

gboolean replay_log_parse(const guint8 *data, gsize len, ReplayLogSummary *out, GError **error)
{
    memset(out, 0, sizeof(*out));
    if (len < HEADER_SIZE) {
        g_set_error(error, REPLAY_LOG_ERROR, REPLAY_LOG_ERROR_TRUNCATED,
                    "replay log of %zu bytes: shorter than its %d-byte header", len, HEADER_SIZE);
        return FALSE;
    }
    Cursor c = {.p = data, .end = data + len, .start = data};
    guint32 version = get_u32(&c);
    if (version != REPLAY_LOG_VERSION) {
        g_set_error(error, REPLAY_LOG_ERROR, REPLAY_LOG_ERROR_VERSION,
                    "replay log version 0x%x, this reader knows 0x%x (QEMU 10.0)", version,
                    REPLAY_LOG_VERSION);
        return FALSE;
    }
    c.p = data + HEADER_SIZE;
    g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func((GDestroyNotify)input_free);
    guint64 icount = 0, events = 0;
    gboolean end = FALSE;
    while (c.p < c.end && !end) {
        guint8 kind = *c.p++;
        gsize skip = 0;
        events++;
        if (kind == EV_INSTRUCTION) {
            if (!need(&c, 4, kind, error))
                return FALSE;
            icount += get_u32(&c);
        } else if (kind == EV_ASYNC_CHAR_READ) {
            guint32 n;
            if (!need(&c, 1, kind, error))
                return FALSE;
            guint8 chardev = *c.p++;
            const guint8 *bytes = get_array(&c, kind, &n, error);
            if (!bytes)
                return FALSE;
            ReplayLogInput *in = g_new0(ReplayLogInput, 1);
            in->icount = icount;
            in->chardev = chardev;
            in->data = g_bytes_new(bytes, n);
            g_ptr_array_add(inputs, in);
        } else if (kind == EV_CHAR_READ_ALL) {
            guint32 n;
            if (!get_array(&c, kind, &n, error))
                return FALSE;
        } else if (kind == EV_RANDOM) {
            guint32 n;
            if (!need(&c, 4, kind, error))
                return FALSE;
            c.p += 4;
            if (!get_array(&c, kind, &n, error))
                return FALSE;
        } else if (kind == EV_END) {
            end = TRUE;
        } else if (kind == EV_ASYNC_BH || kind == EV_ASYNC_BH_ONESHOT || kind == EV_ASYNC_BLOCK ||
                   kind == EV_CHAR_WRITE || kind == EV_AUDIO_OUT ||
                   (kind >= EV_CLOCK && kind <= EV_CLOCK_LAST)) {
            skip = 8;
        } else if (kind == EV_CHAR_READ_ALL_ERROR) {
            skip = 4;
        } else if (kind == EV_INTERRUPT || kind == EV_EXCEPTION || kind == EV_ASYNC_INPUT_SYNC ||
                   (kind >= EV_SHUTDOWN && kind <= EV_SHUTDOWN_LAST) ||
                   (kind >= EV_CHECKPOINT && kind <= EV_CHECKPOINT_LAST)) {
            skip = 0;
        } else {
            g_set_error(error, REPLAY_LOG_ERROR, REPLAY_LOG_ERROR_UNSUPPORTED,
                        "replay log: event %u at byte %td is not one this reader knows (input "
                        "device, network or audio input, or not a QEMU 10.0 log)",
                        kind, c.p - c.start - 1);
            return FALSE;
        }
        if (skip) {
            if (!need(&c, skip, kind, error))
                return FALSE;
            c.p += skip;
        }
    }
    out->inputs = g_steal_pointer(&inputs);
    out->icount_end = icount;
    out->events = events;
    out->has_end = end;
    return TRUE;
}

gboolean replay_log_read(const char *path, ReplayLogSummary *out, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    GError *e = NULL;
    memset(out, 0, sizeof(*out));
    if (!g_file_get_contents(path, &data, &len, &e)) {
        g_set_error(error, REPLAY_LOG_ERROR, REPLAY_LOG_ERROR_IO, "%s", e->message);
        g_error_free(e);
        return FALSE;
    }
    if (!replay_log_parse((const guint8 *)data, len, out, error)) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    return TRUE;
}

void replay_log_summary_clear(ReplayLogSummary *s)
{
    g_clear_pointer(&s->inputs, g_ptr_array_unref);
}

guint64 replay_log_input_from(const ReplayLogSummary *s, guint8 chardev, guint64 icount,
                              guint *reads, guint64 *first_icount)
{
    guint64 bytes = 0;
    *reads = 0;
    *first_icount = 0;
    for (guint i = 0; s->inputs && i < s->inputs->len; i++) {
        const ReplayLogInput *in = s->inputs->pdata[i];
        if (in->chardev != chardev || in->icount < icount)
            continue;
        if (!*reads)
            *first_icount = in->icount;
        (*reads)++;
        bytes += g_bytes_get_size(in->data);
    }
    return bytes;
}
