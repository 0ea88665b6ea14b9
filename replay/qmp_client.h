/* qmp_client: a QMP connection to one QEMU over a unix socket.
 *
 * QEMU is always the server (-qmp unix:PATH,server=on,wait=off, in a private
 * 0700 directory); we connect.  Every call and wait takes a timeout in
 * milliseconds.  Events that arrive while waiting for a reply are queued and
 * can be taken later with qmp_client_wait_event().  Errors are GErrors in the
 * QMP_CLIENT_ERROR domain; nothing is printed. */
#pragma once
#include <glib.h>
#include <json-glib/json-glib.h>

#define QMP_CLIENT_ERROR (qmp_client_error_quark())
GQuark qmp_client_error_quark(void);
enum {
    QMP_CLIENT_ERROR_IO = 1,   /* socket error, connection closed */
    QMP_CLIENT_ERROR_TIMEOUT,  /* no answer within the timeout */
    QMP_CLIENT_ERROR_PROTOCOL, /* malformed or unexpected message */
    QMP_CLIENT_ERROR_COMMAND,  /* QEMU answered the command with an error */
};

typedef struct QmpClient QmpClient;

/* One connection attempt; on success the greeting has been read and
 * capabilities negotiated. */
QmpClient *qmp_client_connect(const char *path, int timeout_ms, GError **error);
void qmp_client_free(QmpClient *c);
/* A connection without the QMP handshake, for other sockets that exchange
 * one JSON object per line (the fault channel, hw/itc/itc_fault_channel.c),
 * with the two calls below. */
QmpClient *qmp_client_connect_lines(const char *path, GError **error);
/* Sends OBJ (not consumed) as one line. */
gboolean qmp_client_send_object(QmpClient *c, JsonObject *obj, GError **error);
/* The next line as a JSON object (json_object_unref it). */
JsonObject *qmp_client_read_object(QmpClient *c, int timeout_ms, GError **error);

/* Runs CMD with ARGS (may be NULL; not consumed).  *RESULT (optional) gets
 * the "return" member (json_node_unref it). */
gboolean qmp_client_call(QmpClient *c, const char *cmd, JsonObject *args, JsonNode **result,
                         int timeout_ms, GError **error);
/* Runs CMD and reads the integer member MEMBER of its object result. */
gboolean qmp_client_call_int(QmpClient *c, const char *cmd, const char *member, gint64 *value,
                             int timeout_ms, GError **error);
/* Runs an HMP command line through human-monitor-command; *OUTPUT (optional)
 * gets its text (g_free it). */
gboolean qmp_client_hmp(QmpClient *c, const char *command_line, char **output, int timeout_ms,
                        GError **error);
/* Waits for event NAME (queued or new); *EVENT (optional) gets the whole
 * event object (json_object_unref it). */
gboolean qmp_client_wait_event(QmpClient *c, const char *name, JsonObject **event, int timeout_ms,
                               GError **error);
/* Waits for event NAME (queued or new) as qmp_client_wait_event() does,
 * and leaves it queued. */
gboolean qmp_client_peek_event(QmpClient *c, const char *name, int timeout_ms, GError **error);
/* The oldest queued event NAME (json_object_unref it), or NULL: no I/O. */
JsonObject *qmp_client_take_event(QmpClient *c, const char *name);
/* Drops queued events called NAME (all if NAME is NULL). */
void qmp_client_drop_events(QmpClient *c, const char *name);
