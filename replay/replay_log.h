/* replay_log: reads the record/replay log of the QEMU this project builds
 * (10.0: replay/replay-internal.h, REPLAY_VERSION 0xe0200c) far enough to
 * tell what character-device input a recording received, and when.
 *
 * The log is a 12-byte header (the version, big-endian, and 8 reserved
 * bytes) and then events: a kind byte and its big-endian fields.  An
 * instruction event carries the number of instructions executed since the
 * previous event, so an event's instant is the sum of those before it.
 * Events that a gr740 recording cannot hold (keyboard/mouse input, network,
 * audio input) are reported as unsupported rather than skipped. */
#pragma once
#include <glib.h>

#define REPLAY_LOG_ERROR (replay_log_error_quark())
GQuark replay_log_error_quark(void);
enum {
    REPLAY_LOG_ERROR_IO = 1,
    REPLAY_LOG_ERROR_VERSION,     /* not a log of this QEMU's format */
    REPLAY_LOG_ERROR_TRUNCATED,   /* an event runs past the end */
    REPLAY_LOG_ERROR_UNSUPPORTED, /* an event kind this reader does not know */
};

#define REPLAY_LOG_VERSION 0xe0200c

/* Bytes a character device received (an asynchronous char-read event). */
typedef struct {
    guint64 icount; /* instructions executed before they arrived */
    guint8 chardev; /* QEMU's index of the character device (0: the first serial port) */
    GBytes *data;
} ReplayLogInput;

typedef struct {
    GPtrArray *inputs;  /* of ReplayLogInput, in log order */
    guint64 icount_end; /* instructions in the whole log */
    guint64 events;
    gboolean has_end; /* the end-of-log event was found */
} ReplayLogSummary;

/* Reads the log in LEN bytes at DATA. */
gboolean replay_log_parse(const guint8 *data, gsize len, ReplayLogSummary *out, GError **error);
/* Reads the (decompressed) log file PATH. */
gboolean replay_log_read(const char *path, ReplayLogSummary *out, GError **error);
void replay_log_summary_clear(ReplayLogSummary *s);

/* Of S's input to CHARDEV, what arrived at or after instruction count
 * ICOUNT (input logged at ICOUNT itself may have come just before or just
 * after a snapshot taken there): bytes and reads, the first one's instant
 * (0 if none). */
guint64 replay_log_input_from(const ReplayLogSummary *s, guint8 chardev, guint64 icount,
                              guint *reads, guint64 *first_icount);
