/* The replay log reader: a hand-built log of every event kind a gr740
 * recording holds gives the instants and bytes of its character-device
 * input; every truncation is an error or (at an event boundary) a log
 * without its end; foreign versions and unknown events are refused. */
#include "replay_log.h"

#include <string.h>

static void put_u32(GByteArray *b, guint32 v)
{
    guint8 x[4] = {v >> 24, v >> 16, v >> 8, v};
    g_byte_array_append(b, x, 4);
}

static void put_u8(GByteArray *b, guint8 v)
{
    g_byte_array_append(b, &v, 1);
}

static void put_zeros(GByteArray *b, guint n)
{
    for (guint i = 0; i < n; i++)
        put_u8(b, 0);
}

static void put_insns(GByteArray *b, guint32 n)
{
    put_u8(b, 0);
    put_u32(b, n);
}

static void put_char_read(GByteArray *b, guint8 chardev, const char *s)
{
    put_u8(b, 7);
    put_u8(b, chardev);
    put_u32(b, strlen(s));
    g_byte_array_append(b, (const guint8 *)s, strlen(s));
}

/* A log, and the offsets where its events end. */
static GByteArray *sample_log(GArray *boundaries)
{
    GByteArray *b = g_byte_array_new();
#define MARK() g_array_append_val(boundaries, b->len)
    put_u32(b, REPLAY_LOG_VERSION);
    put_zeros(b, 8);
    MARK();
    put_u8(b, 37); /* CHECKPOINT_INIT */
    MARK();
    put_insns(b, 100);
    MARK();
    put_u8(b, 31); /* checkpoint: warp account */
    MARK();
    put_u8(b, 29); /* clock (virtual_rt) */
    put_zeros(b, 8);
    MARK();
    put_char_read(b, 0, "AT 5 PING\n");
    MARK();
    put_u8(b, 1); /* interrupt */
    MARK();
    put_insns(b, 50);
    MARK();
    put_u8(b, 22); /* char write: result, offset */
    put_zeros(b, 8);
    MARK();
    put_u8(b, 3); /* bottom half */
    put_zeros(b, 8);
    MARK();
    put_u8(b, 25); /* audio out: frames played (a qword) */
    put_zeros(b, 8);
    MARK();
    put_char_read(b, 1, "x");
    MARK();
    put_u8(b, 2); /* exception */
    MARK();
    put_u8(b, 27); /* random: result, array */
    put_u32(b, 0);
    put_u32(b, 3);
    put_zeros(b, 3);
    MARK();
    put_insns(b, 7);
    MARK();
    put_char_read(b, 0, "C");
    MARK();
    put_u8(b, 14); /* shutdown (host signal) */
    MARK();
    put_u8(b, 39); /* end */
    MARK();
#undef MARK
    return b;
}

static void test_inputs(void)
{
    g_autoptr(GArray) marks = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GByteArray) b = sample_log(marks);
    ReplayLogSummary s;
    GError *e = NULL;
    g_assert_true(replay_log_parse(b->data, b->len, &s, &e));
    g_assert_no_error(e);
    g_assert_true(s.has_end);
    g_assert_cmpuint(s.icount_end, ==, 157);
    g_assert_cmpuint(s.events, ==, marks->len - 1);
    g_assert_cmpuint(s.inputs->len, ==, 3);
    const guint64 at[] = {100, 150, 157};
    const guint8 dev[] = {0, 1, 0};
    const char *text[] = {"AT 5 PING\n", "x", "C"};
    for (guint i = 0; i < 3; i++) {
        const ReplayLogInput *in = s.inputs->pdata[i];
        gsize n;
        const char *d = g_bytes_get_data(in->data, &n);
        g_assert_cmpuint(in->icount, ==, at[i]);
        g_assert_cmpuint(in->chardev, ==, dev[i]);
        g_assert_cmpmem(d, n, text[i], strlen(text[i]));
    }
    guint reads;
    guint64 first;
    g_assert_cmpuint(replay_log_input_from(&s, 0, 0, &reads, &first), ==, 11);
    g_assert_cmpuint(reads, ==, 2);
    g_assert_cmpuint(first, ==, 100);
    /* input at exactly the instant counts (it may have come after a snapshot there) */
    g_assert_cmpuint(replay_log_input_from(&s, 0, 100, &reads, &first), ==, 11);
    g_assert_cmpuint(replay_log_input_from(&s, 0, 101, &reads, &first), ==, 1);
    g_assert_cmpuint(first, ==, 157);
    g_assert_cmpuint(replay_log_input_from(&s, 0, 157, &reads, &first), ==, 1);
    g_assert_cmpuint(replay_log_input_from(&s, 0, 158, &reads, &first), ==, 0);
    g_assert_cmpuint(reads, ==, 0);
    g_assert_cmpuint(first, ==, 0);
    g_assert_cmpuint(replay_log_input_from(&s, 1, 0, &reads, &first), ==, 1);
    replay_log_summary_clear(&s);
}

static void test_truncated(void)
{
    g_autoptr(GArray) marks = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GByteArray) b = sample_log(marks);
    guint next_mark = 0;
    for (guint len = 0; len < b->len; len++) {
        ReplayLogSummary s;
        GError *e = NULL;
        gboolean boundary = next_mark < marks->len && g_array_index(marks, guint, next_mark) == len;
        if (boundary)
            next_mark++;
        gboolean ok = replay_log_parse(b->data, len, &s, &e);
        if (boundary) {
            /* a whole number of events: a log without its end */
            g_assert_no_error(e);
            g_assert_true(ok && !s.has_end);
            replay_log_summary_clear(&s);
        } else {
            g_assert_error(e, REPLAY_LOG_ERROR, REPLAY_LOG_ERROR_TRUNCATED);
            g_assert_false(ok);
            g_assert_null(s.inputs);
            g_error_free(e);
        }
    }
}

static void test_refused(void)
{
    g_autoptr(GArray) marks = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GByteArray) b = sample_log(marks);
    ReplayLogSummary s;
    GError *e = NULL;
    b->data[3] ^= 1; /* another version */
    g_assert_false(replay_log_parse(b->data, b->len, &s, &e));
    g_assert_error(e, REPLAY_LOG_ERROR, REPLAY_LOG_ERROR_VERSION);
    g_clear_error(&e);
    b->data[3] ^= 1;
    const guint8 unknown[] = {5, 9, 26, 40, 255}; /* input, net, audio in, past the end */
    for (guint i = 0; i < G_N_ELEMENTS(unknown); i++) {
        guint at = g_array_index(marks, guint, 5); /* an event's first byte */
        guint8 was = b->data[at];
        b->data[at] = unknown[i];
        g_assert_false(replay_log_parse(b->data, b->len, &s, &e));
        g_assert_error(e, REPLAY_LOG_ERROR, REPLAY_LOG_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(e->message, "not one this reader knows"));
        g_clear_error(&e);
        b->data[at] = was;
    }
    g_assert_true(replay_log_parse(b->data, b->len, &s, &e));
    replay_log_summary_clear(&s);
    g_assert_false(replay_log_read("/nonexistent/replay.bin", &s, &e));
    g_assert_error(e, REPLAY_LOG_ERROR, REPLAY_LOG_ERROR_IO);
    g_clear_error(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/replay_log/inputs_and_instants", test_inputs);
    g_test_add_func("/replay_log/every_truncation", test_truncated);
    g_test_add_func("/replay_log/foreign_version_and_unknown_events", test_refused);
    return g_test_run();
}
