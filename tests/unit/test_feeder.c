/* The --input feeder: lines go out on the guest's clock (line K once the
 * clock it was told is 20 ms * K past the first), never before, and a stop
 * returns even when nobody reads the pipe. */
#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000ull

typedef struct {
    int rd, wr;
    char *path;
} Pipe;

static void pipe_setup(Pipe *p, const char *text, gsize len)
{
    int fds[2];
    g_assert_cmpint(pipe(fds), ==, 0);
    p->rd = fds[0];
    p->wr = fds[1];
    g_assert_cmpint(fcntl(p->rd, F_SETFL, O_NONBLOCK), ==, 0);
    GError *e = NULL;
    int fd = g_file_open_tmp("itc-feeder-XXXXXX", &p->path, &e);
    g_assert_no_error(e);
    close(fd);
    g_assert_true(g_file_set_contents(p->path, text, len, &e));
    g_assert_no_error(e);
}

/* A feeder of TEXT into a fresh pipe P. */
static RecordFeeder *feeder_on_pipe(Pipe *p, const char *text, gsize len)
{
    pipe_setup(p, text, len);
    GError *e = NULL;
    RecordFeeder *f = record_feeder_start(p->wr, p->path, &e);
    g_assert_no_error(e);
    return f;
}

static void pipe_teardown(Pipe *p)
{
    close(p->rd);
    close(p->wr);
    g_unlink(p->path);
    g_free(p->path);
}

/* What arrives within TIMEOUT_MS, stopping once WANT bytes are in. */
static GString *read_for(Pipe *p, gsize want, int timeout_ms)
{
    GString *s = g_string_new(NULL);
    gint64 end = g_get_monotonic_time() + timeout_ms * G_TIME_SPAN_MILLISECOND;
    while (s->len < want) {
        gint64 left = (end - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = p->rd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        char buf[4096];
        ssize_t n = read(p->rd, buf, sizeof(buf));
        if (n > 0)
            g_string_append_len(s, buf, n);
    }
    return s;
}

static void expect_nothing(Pipe *p)
{
    g_autoptr(GString) s = read_for(p, 1, 60);
    g_assert_cmpstr(s->str, ==, "");
}

static void expect(Pipe *p, const char *want)
{
    g_autoptr(GString) s = read_for(p, strlen(want), 10000);
    g_assert_cmpstr(s->str, ==, want);
}

static void test_lines_on_the_guest_clock(void)
{
    Pipe p;
    const char *text = "a\nbb\nccc\ndddd";
    RecordFeeder *f = feeder_on_pipe(&p, text, strlen(text));
    expect_nothing(&p); /* no clock yet */
    record_feeder_clock(f, 5 * MS);
    expect(&p, "a\n"); /* the first line at the first clock */
    record_feeder_clock(f, 24 * MS);
    expect_nothing(&p); /* 19 ms later: not yet */
    record_feeder_clock(f, 45 * MS);
    expect(&p, "bb\nccc\n"); /* 40 ms past the first: lines 1 and 2 */
    record_feeder_clock(f, 64 * MS);
    expect_nothing(&p);
    record_feeder_clock(f, 65 * MS);
    expect(&p, "dddd"); /* a last line without a newline */
    record_feeder_stop(f);
    pipe_teardown(&p);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "record_feeder_stop did not return\n";
    if (write(2, m, sizeof(m) - 1) < 0)
        _exit(3);
    _exit(2);
}

/* record_feeder_stop(F), or the test ends with a message after 10 s. */
static void stop_within_10s(RecordFeeder *f)
{
    signal(SIGALRM, on_alarm);
    alarm(10);
    record_feeder_stop(f);
    alarm(0);
}

static void test_stop_with_nobody_reading(void)
{
    Pipe p;
    gsize len = 1 << 20; /* far more than a pipe holds */
    char *text = g_malloc(len);
    for (gsize i = 0; i < len; i++)
        text[i] = (i % 64 == 63) ? '\n' : 'x';
    RecordFeeder *f = feeder_on_pipe(&p, text, len);
    g_free(text);
    record_feeder_clock(f, 0);
    record_feeder_clock(f, 1000000 * MS); /* every line is due */
    g_autoptr(GString) got = read_for(&p, 4096, 10000);
    g_assert_cmpuint(got->len, >, 0); /* it writes, until the pipe is full */
    g_usleep(50000);
    stop_within_10s(f);
    pipe_teardown(&p);
}

/* A stop while the feeder waits for its first clock, or for a line not yet
 * due, returns at once. */
static void test_stop_while_waiting(void)
{
    for (int clocks = 0; clocks < 2; clocks++) {
        Pipe p;
        const char *text = "a\nb\n";
        RecordFeeder *f = feeder_on_pipe(&p, text, strlen(text));
        if (clocks) {
            record_feeder_clock(f, 0);
            expect(&p, "a\n");
        }
        g_usleep(20000); /* the thread is waiting now */
        stop_within_10s(f);
        expect_nothing(&p);
        pipe_teardown(&p);
    }
}

static void test_unreadable_file(void)
{
    GError *e = NULL;
    int fds[2];
    g_assert_cmpint(pipe(fds), ==, 0);
    RecordFeeder *f = record_feeder_start(fds[1], "/nonexistent/itc-input.txt", &e);
    g_assert_null(f);
    g_assert_nonnull(e);
    g_assert_nonnull(strstr(e->message, "itc-input.txt"));
    g_error_free(e);
    close(fds[0]);
    close(fds[1]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/feeder/lines_on_the_guest_clock", test_lines_on_the_guest_clock);
    g_test_add_func("/feeder/stop_with_nobody_reading", test_stop_with_nobody_reading);
    g_test_add_func("/feeder/stop_while_waiting", test_stop_while_waiting);
    g_test_add_func("/feeder/unreadable_file", test_unreadable_file);
    return g_test_run();
}
