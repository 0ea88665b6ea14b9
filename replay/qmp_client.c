#include "qmp_client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define QMP_MAX_LINE (64u << 20) /* a reply longer than this is refused */

struct QmpClient {
    int fd;
    GString *buf;  /* bytes received, not yet parsed */
    GQueue events; /* of JsonObject */
    guint64 next_id;
};

G_DEFINE_QUARK(qmp - client - error - quark, qmp_client_error)

static gint64 deadline_after(int timeout_ms)
{
    return g_get_monotonic_time() + (gint64)timeout_ms * 1000;
}

/* Reads one line (one JSON message) before DEADLINE. */
static char *read_line(QmpClient *c, gint64 deadline, GError **error)
{
    for (;;) {
        char *nl = memchr(c->buf->str, '\n', c->buf->len);
        if (nl) {
            gsize n = nl - c->buf->str;
            char *line = g_strndup(c->buf->str, n);
            g_string_erase(c->buf, 0, n + 1);
            return line;
        }
        if (c->buf->len > QMP_MAX_LINE) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                        "QMP message longer than %u bytes", QMP_MAX_LINE);
            return NULL;
        }
        gint64 left_us = deadline - g_get_monotonic_time();
        if (left_us <= 0) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_TIMEOUT,
                        "no answer from QEMU in time");
            return NULL;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, (int)MIN(left_us / 1000 + 1, G_MAXINT));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO, "poll on QMP socket: %s",
                        g_strerror(errno));
            return NULL;
        }
        if (r == 0)
            continue;
        char tmp[65536];
        ssize_t n = read(c->fd, tmp, sizeof(tmp));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO,
                        "QEMU closed the QMP connection%s%s", n < 0 ? ": " : " (exited?)",
                        n < 0 ? g_strerror(errno) : "");
            return NULL;
        }
        g_string_append_len(c->buf, tmp, n);
    }
}

/* Reads one message as a JSON object (json_object_unref it). */
static JsonObject *read_message(QmpClient *c, gint64 deadline, GError **error)
{
    for (;;) {
        g_autofree char *line = read_line(c, deadline, error);
        if (!line)
            return NULL;
        g_strstrip(line);
        if (!*line)
            continue;
        g_autoptr(JsonParser) p = json_parser_new();
        GError *e = NULL;
        if (!json_parser_load_from_data(p, line, -1, &e)) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                        "QMP: malformed JSON from QEMU: %s", e->message);
            g_error_free(e);
            return NULL;
        }
        JsonNode *root = json_parser_get_root(p);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                        "QMP: message is not a JSON object");
            return NULL;
        }
        return json_object_ref(json_node_get_object(root));
    }
}

static gboolean write_all(int fd, const char *s, gsize len, GError **error)
{
    while (len) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO, "write to QMP socket: %s",
                        g_strerror(errno));
            return FALSE;
        }
        s += n;
        len -= n;
    }
    return TRUE;
}

QmpClient *qmp_client_connect_lines(const char *path, GError **error)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(a.sun_path)) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO, "socket path too long: %s", path);
        return NULL;
    }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_IO, "connect to %s: %s", path,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    QmpClient *c = g_new0(QmpClient, 1);
    c->fd = fd;
    c->buf = g_string_new(NULL);
    g_queue_init(&c->events);
    return c;
}

static gboolean send_node(QmpClient *c, JsonNode *root, GError **error)
{
    g_autoptr(JsonGenerator) g = json_generator_new();
    json_generator_set_root(g, root);
    g_autofree char *text = json_generator_to_data(g, NULL);
    g_autofree char *line = g_strconcat(text, "\n", NULL);
    return write_all(c->fd, line, strlen(line), error);
}

gboolean qmp_client_send_object(QmpClient *c, JsonObject *obj, GError **error)
{
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(root, obj);
    return send_node(c, root, error);
}

JsonObject *qmp_client_read_object(QmpClient *c, int timeout_ms, GError **error)
{
    return read_message(c, deadline_after(timeout_ms), error);
}

QmpClient *qmp_client_connect(const char *path, int timeout_ms, GError **error)
{
    QmpClient *c = qmp_client_connect_lines(path, error);
    if (!c)
        return NULL;
    gint64 deadline = deadline_after(timeout_ms);
    JsonObject *greeting = read_message(c, deadline, error);
    if (!greeting) {
        qmp_client_free(c);
        return NULL;
    }
    gboolean ok = json_object_has_member(greeting, "QMP");
    json_object_unref(greeting);
    if (!ok) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                    "%s: no QMP greeting (not a QMP socket?)", path);
        qmp_client_free(c);
        return NULL;
    }
    if (!qmp_client_call(c, "qmp_capabilities", NULL, NULL, timeout_ms, error)) {
        qmp_client_free(c);
        return NULL;
    }
    return c;
}

void qmp_client_free(QmpClient *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    g_string_free(c->buf, TRUE);
    g_queue_clear_full(&c->events, (GDestroyNotify)json_object_unref);
    g_free(c);
}

gboolean qmp_client_call(QmpClient *c, const char *cmd, JsonObject *args, JsonNode **result,
                         int timeout_ms, GError **error)
{
    guint64 id = ++c->next_id;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, cmd);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, (gint64)id);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    if (args) {
        JsonNode *an = json_node_new(JSON_NODE_OBJECT);
        json_node_set_object(an, args);
        json_object_set_member(json_node_get_object(root), "arguments", an);
    }
    if (!send_node(c, root, error))
        return FALSE;
    gint64 deadline = deadline_after(timeout_ms);
    for (;;) {
        JsonObject *m = read_message(c, deadline, error);
        if (!m) {
            g_prefix_error(error, "%s: ", cmd);
            return FALSE;
        }
        if (json_object_has_member(m, "event")) {
            g_queue_push_tail(&c->events, m);
            continue;
        }
        JsonNode *idn = json_object_get_member(m, "id");
        if (!idn || json_node_get_value_type(idn) != G_TYPE_INT64 ||
            (guint64)json_node_get_int(idn) != id) {
            json_object_unref(m); /* a reply to something else: ignore */
            continue;
        }
        if (json_object_has_member(m, "error")) {
            JsonNode *en = json_object_get_member(m, "error");
            const char *desc = NULL;
            if (JSON_NODE_HOLDS_OBJECT(en))
                desc = json_object_get_string_member_with_default(json_node_get_object(en), "desc",
                                                                  NULL);
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_COMMAND, "QMP %s failed: %s", cmd,
                        desc ? desc : "(no description)");
            json_object_unref(m);
            return FALSE;
        }
        JsonNode *ret = json_object_get_member(m, "return");
        if (!ret) {
            g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                        "QMP %s: reply has neither return nor error", cmd);
            json_object_unref(m);
            return FALSE;
        }
        if (result)
            *result = json_node_copy(ret);
        json_object_unref(m);
        return TRUE;
    }
}

gboolean qmp_client_call_int(QmpClient *c, const char *cmd, const char *member, gint64 *value,
                             int timeout_ms, GError **error)
{
    g_autoptr(JsonNode) r = NULL;
    if (!qmp_client_call(c, cmd, NULL, &r, timeout_ms, error))
        return FALSE;
    JsonNode *v =
        JSON_NODE_HOLDS_OBJECT(r) ? json_object_get_member(json_node_get_object(r), member) : NULL;
    if (!v || json_node_get_value_type(v) != G_TYPE_INT64) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                    "QMP %s: no integer '%s' in the reply", cmd, member);
        return FALSE;
    }
    *value = json_node_get_int(v);
    return TRUE;
}

gboolean qmp_client_hmp(QmpClient *c, const char *command_line, char **output, int timeout_ms,
                        GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "command-line", command_line);
    g_autoptr(JsonNode) r = NULL;
    if (!qmp_client_call(c, "human-monitor-command", args, &r, timeout_ms, error))
        return FALSE;
    if (json_node_get_value_type(r) != G_TYPE_STRING) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                    "HMP '%s': reply is not a string", command_line);
        return FALSE;
    }
    if (output)
        *output = g_strdup(json_node_get_string(r));
    return TRUE;
}

static JsonObject *take_event(QmpClient *c, const char *name)
{
    for (GList *l = c->events.head; l; l = l->next) {
        JsonObject *e = l->data;
        const char *n = json_object_get_string_member_with_default(e, "event", "");
        if (!name || !strcmp(n, name)) {
            g_queue_delete_link(&c->events, l);
            return e;
        }
    }
    return NULL;
}

gboolean qmp_client_wait_event(QmpClient *c, const char *name, JsonObject **event, int timeout_ms,
                               GError **error)
{
    JsonObject *e = take_event(c, name);
    gint64 deadline = deadline_after(timeout_ms);
    while (!e) {
        JsonObject *m = read_message(c, deadline, error);
        if (!m) {
            g_prefix_error(error, "waiting for QMP event %s: ", name);
            return FALSE;
        }
        if (!json_object_has_member(m, "event")) {
            json_object_unref(m);
            continue;
        }
        const char *n = json_object_get_string_member_with_default(m, "event", "");
        if (!strcmp(n, name))
            e = m;
        else
            g_queue_push_tail(&c->events, m);
    }
    if (event)
        *event = e;
    else
        json_object_unref(e);
    return TRUE;
}

JsonObject *qmp_client_take_event(QmpClient *c, const char *name)
{
    return take_event(c, name);
}

gboolean qmp_client_peek_event(QmpClient *c, const char *name, int timeout_ms, GError **error)
{
    JsonObject *e;
    if (!qmp_client_wait_event(c, name, &e, timeout_ms, error))
        return FALSE;
    /* back where it was: no other event NAME is queued before it */
    g_queue_push_head(&c->events, e);
    return TRUE;
}

void qmp_client_drop_events(QmpClient *c, const char *name)
{
    JsonObject *e;
    while ((e = take_event(c, name)))
        json_object_unref(e);
}
