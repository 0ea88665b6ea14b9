#include "faults.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK(faults - error - quark, faults_error)

static const char *const fault_kinds[] = {
    "mem-seu",   "cpu-reg",      "irq",       "gpio",       "reg-flip",         "uart-rx",
    "reg-stuck", "uart-corrupt", "uart-drop", "uart-error", "timer-lost-ticks", "timer-drift"};
#define KINDS_TEXT                                                                                 \
    "mem-seu, cpu-reg, irq, gpio, reg-flip, uart-rx, reg-stuck, uart-corrupt, uart-drop, "         \
    "uart-error, timer-lost-ticks, timer-drift"
#define DRIFT_MAX 500000 /* ppm, as QEMU */

static gboolean kind_has_duration(const char *k)
{
    return !strcmp(k, "reg-stuck") || !strcmp(k, "timer-lost-ticks") || !strcmp(k, "timer-drift");
}

#define TARGET_MAX 31 /* QEMU keeps 32 bytes with the NUL */
#define DATA_MAX 64   /* hex digits: 32 bytes */
#define COMMENT_MAX 1000

void fault_spec_free(FaultSpec *f)
{
    if (!f)
        return;
    g_free(f->kind);
    g_free(f->target);
    g_free(f->data);
    g_free(f->comment);
    g_free(f->state);
    g_free(f);
}

static gboolean kind_known(const char *k)
{
    for (gsize i = 0; i < G_N_ELEMENTS(fault_kinds); i++)
        if (!strcmp(k, fault_kinds[i]))
            return TRUE;
    return FALSE;
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct {
    const char *what;
    guint index; /* 1-based */
    JsonObject *o;
    GError **error;
    gboolean failed;
} Entry;

static const char *str_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n) : NULL;
}

static void bad(Entry *e, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void bad(Entry *e, const char *fmt, ...)
{
    if (e->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    const char *kind = str_member(e->o, "kind");
    const char *target = str_member(e->o, "target");
    g_set_error(e->error, FAULTS_ERROR, FAULTS_ERROR_BAD_INPUT, "%s: fault %u%s%s%s%s%s: %s",
                e->what, e->index, kind || target ? " (" : "", kind ? kind : "",
                kind && target ? " " : "", target ? target : "", kind || target ? ")" : "", m);
    e->failed = TRUE;
}

static const char *opt_str(Entry *e, const char *name, gsize max)
{
    JsonNode *n = json_object_get_member(e->o, name);
    if (!n)
        return NULL;
    if (json_node_get_value_type(n) != G_TYPE_STRING) {
        bad(e, "field '%s' must be a string", name);
        return NULL;
    }
    const char *s = json_node_get_string(n);
    if (strlen(s) > max) {
        bad(e, "field '%s' is longer than %zu characters", name, max);
        return NULL;
    }
    return s;
}

/* An integer member >= MIN (<= MAX); FALSE if absent or bad. */
static gboolean opt_int(Entry *e, const char *name, gint64 min, gint64 max, gint64 *v)
{
    JsonNode *n = json_object_get_member(e->o, name);
    if (!n)
        return FALSE;
    if (json_node_get_value_type(n) != G_TYPE_INT64) {
        bad(e, "field '%s' must be an integer", name);
        return FALSE;
    }
    *v = json_node_get_int(n);
    if (*v < min || *v > max) {
        bad(e,
            "field '%s' = %" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT
            "..%" G_GINT64_FORMAT ")",
            name, *v, min, max);
        return FALSE;
    }
    return TRUE;
}

static FaultSpec *parse_entry(Entry *e, gboolean manifest)
{
    static const char *const scenario_fields[] = {
        "kind",   "target",  "mask",        "count",           "level",   "data",
        "icount", "time-ns", "duration-ns", "duration-icount", "comment", NULL};
    static const char *const outcome_fields[] = {"id", "state", "fired_icount", "recorded", NULL};
    g_autoptr(GList) names = json_object_get_members(e->o);
    for (GList *l = names; l; l = l->next) {
        const char *n = l->data;
        if (g_strv_contains(scenario_fields, n) || (manifest && g_strv_contains(outcome_fields, n)))
            continue;
        if (!strcmp(n, "now") || !strcmp(n, "when"))
            bad(e,
                "field '%s': a scenario fault needs a definite instant, 'icount' or "
                "'time-ns' (faults at 'now' only through itc inject)",
                n);
        else
            bad(e,
                "unknown field '%s' (known: kind, target, mask, count, level, data, icount, "
                "time-ns, duration-ns, duration-icount, comment)",
                n);
        return NULL;
    }
    g_autoptr(FaultSpec) f = g_new0(FaultSpec, 1);
    const char *kind = opt_str(e, "kind", 32);
    const char *target = opt_str(e, "target", TARGET_MAX);
    if (e->failed)
        return NULL;
    if (!kind) {
        bad(e, "missing field 'kind' (" KINDS_TEXT ")");
        return NULL;
    }
    if (!kind_known(kind)) {
        bad(e, "unknown kind '%s' (" KINDS_TEXT ")", kind);
        return NULL;
    }
    if (!target || !*target) {
        bad(e, "missing field 'target'");
        return NULL;
    }
    f->kind = g_strdup(kind);
    f->target = g_strdup(target);
    JsonNode *mn = json_object_get_member(e->o, "mask");
    if (mn) {
        f->has_mask = TRUE;
        if (json_node_get_value_type(mn) == G_TYPE_INT64 && json_node_get_int(mn) >= 0) {
            f->mask = (guint64)json_node_get_int(mn);
        } else if (json_node_get_value_type(mn) == G_TYPE_STRING) {
            const char *s = json_node_get_string(mn);
            char *end;
            errno = 0;
            f->mask = g_ascii_strtoull(s, &end, 0);
            if (!*s || *end || errno || s[0] == '-') {
                bad(e, "field 'mask' = '%s' is not a number", s);
                return NULL;
            }
        } else {
            bad(e, "field 'mask' must be a non-negative integer or a \"0x...\" string");
            return NULL;
        }
    }
    f->has_count = opt_int(e, "count", 1, 1000000, &f->count);
    gboolean drift = !strcmp(kind, "timer-drift");
    f->has_level = opt_int(e, "level", drift ? -DRIFT_MAX : 0, drift ? DRIFT_MAX : 1, &f->level);
    if (drift && !f->has_level && !e->failed)
        bad(e, "timer-drift needs field 'level' (the drift in ppm)");
    f->has_duration_ns = opt_int(e, "duration-ns", 1, G_MAXINT64, &f->duration_ns);
    f->has_duration_icount = opt_int(e, "duration-icount", 1, G_MAXINT64, &f->duration_icount);
    if ((f->has_duration_ns || f->has_duration_icount) && !kind_has_duration(kind))
        bad(e, "%s takes no duration (only reg-stuck, timer-lost-ticks, timer-drift)", kind);
    if (f->has_duration_ns && f->has_duration_icount)
        bad(e, "give either 'duration-ns' or 'duration-icount', not both");
    if (f->has_duration_icount && kind && !strcmp(kind, "timer-lost-ticks"))
        bad(e, "timer-lost-ticks takes 'duration-ns': a CPU waiting for the lost ticks "
               "executes no instructions, so a duration in instructions might never end");
    const char *data = opt_str(e, "data", DATA_MAX);
    const char *comment = opt_str(e, "comment", COMMENT_MAX);
    gint64 ic = 0, ns = 0;
    gboolean has_ic = opt_int(e, "icount", 0, G_MAXINT64, &ic);
    gboolean has_ns = opt_int(e, "time-ns", 0, G_MAXINT64, &ns);
    if (e->failed)
        return NULL;
    if (data) {
        gsize len = strlen(data);
        gboolean hex = len > 0 && len % 2 == 0;
        for (gsize i = 0; hex && i < len; i++)
            hex = g_ascii_isxdigit(data[i]);
        if (!hex) {
            bad(e, "field 'data' = '%s' must be 1-32 bytes as hex digits", data);
            return NULL;
        }
        if (strcmp(kind, "uart-rx")) {
            bad(e, "field 'data' is only for uart-rx");
            return NULL;
        }
        f->data = g_strdup(data);
    } else if (!strcmp(kind, "uart-rx")) {
        bad(e, "uart-rx needs field 'data' (the bytes as hex digits)");
        return NULL;
    }
    f->comment = g_strdup(comment);
    if (has_ic && has_ns) {
        bad(e, "give either 'icount' or 'time-ns', not both");
        return NULL;
    }
    if (!has_ic && !has_ns) {
        bad(e, "missing 'icount' or 'time-ns': a scenario fault needs a definite instant");
        return NULL;
    }
    f->when = has_ic ? FAULT_AT_ICOUNT : FAULT_AT_TIME;
    f->at = has_ic ? (guint64)ic : (guint64)ns;
    if (manifest) {
        gint64 id = 0, fic = 0;
        if (opt_int(e, "id", 1, G_MAXINT32, &id))
            f->id = id;
        const char *state = opt_str(e, "state", 16);
        if (state && strcmp(state, "pending") && strcmp(state, "fired") &&
            strcmp(state, "failed") && strcmp(state, "active"))
            bad(e, "field 'state' = '%s' (pending, fired, failed or active)", state);
        f->state = g_strdup(state);
        if (opt_int(e, "fired_icount", 0, G_MAXINT64, &fic)) {
            f->fired = TRUE;
            f->fired_icount = (guint64)fic;
        }
        JsonNode *rn = json_object_get_member(e->o, "recorded");
        if (rn && (!JSON_NODE_HOLDS_VALUE(rn) || json_node_get_value_type(rn) != G_TYPE_BOOLEAN))
            bad(e, "field 'recorded' must be true or false");
        else if (rn)
            f->recorded = json_node_get_boolean(rn);
        if (e->failed)
            return NULL;
    }
    return g_steal_pointer(&f);
}

GPtrArray *fault_list_parse(const char *text, gsize len, const char *what, gboolean manifest,
                            GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    GError *e = NULL;
    if (!json_parser_load_from_data(p, text, (gssize)len, &e)) {
        g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_BAD_INPUT, "%s: malformed JSON: %s", what,
                    e->message);
        g_error_free(e);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_ARRAY(root)) {
        g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_BAD_INPUT,
                    "%s: expected a JSON array of faults ([{\"kind\": ..., \"target\": ..., "
                    "\"icount\": N}, ...])",
                    what);
        return NULL;
    }
    JsonArray *a = json_node_get_array(root);
    guint n = json_array_get_length(a);
    if (n > FAULTS_MAX) {
        g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_BAD_INPUT, "%s: %u faults, at most %d", what,
                    n, FAULTS_MAX);
        return NULL;
    }
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)fault_spec_free);
    for (guint i = 0; i < n; i++) {
        JsonNode *en = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(en)) {
            g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_BAD_INPUT,
                        "%s: fault %u: must be a JSON object", what, i + 1);
            return NULL;
        }
        Entry ent = {.what = what, .index = i + 1, .o = json_node_get_object(en), .error = error};
        FaultSpec *f = parse_entry(&ent, manifest);
        if (!f)
            return NULL;
        g_ptr_array_add(out, f);
    }
    return g_steal_pointer(&out);
}

GPtrArray *fault_scenario_load(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    GError *e = NULL;
    if (!g_file_get_contents(path, &text, &len, &e)) {
        g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_BAD_INPUT, "fault scenario %s", e->message);
        g_error_free(e);
        return NULL;
    }
    if (len > FAULTS_FILE_MAX) {
        g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_BAD_INPUT,
                    "fault scenario %s: larger than %u bytes", path, FAULTS_FILE_MAX);
        return NULL;
    }
    g_autofree char *what = g_strdup_printf("fault scenario %s", path);
    return fault_list_parse(text, len, what, FALSE, error);
}

/* ---- output ------------------------------------------------------------- */

JsonNode *fault_list_to_json(GPtrArray *faults)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; faults && i < faults->len; i++) {
        const FaultSpec *f = faults->pdata[i];
        json_builder_begin_object(b);
#define S(k, v) (json_builder_set_member_name(b, k), json_builder_add_string_value(b, v))
#define I(k, v) (json_builder_set_member_name(b, k), json_builder_add_int_value(b, (gint64)(v)))
        if (f->id)
            I("id", f->id);
        S("kind", f->kind);
        S("target", f->target);
        if (f->has_mask)
            I("mask", f->mask);
        if (f->has_count)
            I("count", f->count);
        if (f->has_level)
            I("level", f->level);
        if (f->data)
            S("data", f->data);
        if (f->has_duration_ns)
            I("duration-ns", f->duration_ns);
        if (f->has_duration_icount)
            I("duration-icount", f->duration_icount);
        if (f->when == FAULT_AT_ICOUNT)
            I("icount", f->at);
        else if (f->when == FAULT_AT_TIME)
            I("time-ns", f->at);
        if (f->comment)
            S("comment", f->comment);
        if (f->state)
            S("state", f->state);
        if (f->fired)
            I("fired_icount", f->fired_icount);
        if (f->recorded) {
            json_builder_set_member_name(b, "recorded");
            json_builder_add_boolean_value(b, TRUE);
        }
#undef S
#undef I
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return json_builder_get_root(b);
}

char *fault_list_to_json_text(GPtrArray *faults)
{
    g_autoptr(JsonNode) n = fault_list_to_json(faults);
    g_autoptr(JsonGenerator) g = json_generator_new();
    json_generator_set_root(g, n);
    return json_generator_to_data(g, NULL);
}

char *fault_describe(const FaultSpec *f, guint index)
{
    const char *unit = f->when == FAULT_AT_ICOUNT ? "icount" : "time-ns";
    if (f->when == FAULT_AT_NOW)
        return g_strdup_printf("fault %u (%s %s, now)", index, f->kind, f->target);
    return g_strdup_printf("fault %u (%s %s at %s %" G_GUINT64_FORMAT ")", index, f->kind,
                           f->target, unit, f->at);
}

/* ---- QMP ---------------------------------------------------------------- */

JsonObject *fault_qmp_args(const FaultSpec *f)
{
    JsonObject *a = json_object_new();
    json_object_set_string_member(a, "kind", f->kind);
    json_object_set_string_member(a, "target", f->target);
    if (f->has_mask)
        json_object_set_int_member(a, "mask", (gint64)f->mask);
    if (f->has_count)
        json_object_set_int_member(a, "count", f->count);
    if (f->has_level)
        json_object_set_int_member(a, "level", f->level);
    if (f->data)
        json_object_set_string_member(a, "data", f->data);
    if (f->has_duration_ns)
        json_object_set_int_member(a, "duration-ns", f->duration_ns);
    if (f->has_duration_icount)
        json_object_set_int_member(a, "duration-icount", f->duration_icount);
    if (f->when == FAULT_AT_ICOUNT)
        json_object_set_int_member(a, "icount", (gint64)f->at);
    else if (f->when == FAULT_AT_TIME)
        json_object_set_int_member(a, "time-ns", (gint64)f->at);
    return a;
}

gboolean fault_inject(QmpClient *q, const FaultSpec *f, gint64 *id, GError **error)
{
    g_autoptr(JsonObject) args = fault_qmp_args(f);
    g_autoptr(JsonNode) r = NULL;
    GError *e = NULL;
    if (!qmp_client_call(q, "itc-inject-fault", args, &r, 10000, &e)) {
        if (g_error_matches(e, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_COMMAND)) {
            /* "QMP itc-inject-fault failed: <QEMU's message>" */
            const char *m = strstr(e->message, "failed: ");
            g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_REFUSED, "%s",
                        m ? m + strlen("failed: ") : e->message);
            g_error_free(e);
        } else {
            g_propagate_error(error, e);
        }
        return FALSE;
    }
    JsonNode *idn =
        JSON_NODE_HOLDS_OBJECT(r) ? json_object_get_member(json_node_get_object(r), "id") : NULL;
    if (!idn || json_node_get_value_type(idn) != G_TYPE_INT64) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                    "itc-inject-fault: no fault id in the reply");
        return FALSE;
    }
    if (id)
        *id = json_node_get_int(idn);
    return TRUE;
}

gboolean fault_inject_all(QmpClient *q, GPtrArray *faults, GError **error)
{
    for (guint i = 0; faults && i < faults->len; i++) {
        FaultSpec *f = faults->pdata[i];
        if (!fault_inject(q, f, &f->id, error)) {
            g_autofree char *d = fault_describe(f, i + 1);
            g_prefix_error(error, "%s: QEMU refused it: ", d);
            return FALSE;
        }
    }
    return TRUE;
}

static gint by_id(gconstpointer a, gconstpointer b)
{
    const FaultSpec *x = *(FaultSpec *const *)a, *y = *(FaultSpec *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

GPtrArray *fault_query(QmpClient *q, GError **error)
{
    g_autoptr(JsonNode) r = NULL;
    if (!qmp_client_call(q, "query-itc-faults", NULL, &r, 10000, error))
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(r)) {
        g_set_error(error, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_PROTOCOL,
                    "query-itc-faults: reply is not an array");
        return NULL;
    }
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)fault_spec_free);
    JsonArray *a = json_node_get_array(r);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *en = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(en))
            continue;
        JsonObject *o = json_node_get_object(en);
        FaultSpec *f = g_new0(FaultSpec, 1);
        f->id = json_object_get_int_member_with_default(o, "id", 0);
        f->kind = g_strdup(json_object_get_string_member_with_default(o, "kind", "?"));
        f->target = g_strdup(json_object_get_string_member_with_default(o, "target", "?"));
        f->has_mask = f->has_count = f->has_level = TRUE;
        f->mask = (guint64)json_object_get_int_member_with_default(o, "mask", 0);
        f->count = json_object_get_int_member_with_default(o, "count", 1);
        f->level = json_object_get_int_member_with_default(o, "level", 1);
        f->state = g_strdup(json_object_get_string_member_with_default(o, "state", "?"));
        if (json_object_has_member(o, "duration-ns")) {
            f->has_duration_ns = TRUE;
            f->duration_ns = json_object_get_int_member(o, "duration-ns");
        }
        if (json_object_has_member(o, "duration-icount")) {
            f->has_duration_icount = TRUE;
            f->duration_icount = json_object_get_int_member(o, "duration-icount");
        }
        if (json_object_has_member(o, "data"))
            f->data = g_strdup(json_object_get_string_member(o, "data"));
        if (json_object_has_member(o, "icount")) {
            f->when = FAULT_AT_ICOUNT;
            f->at = (guint64)json_object_get_int_member(o, "icount");
        } else {
            f->when = FAULT_AT_TIME;
            f->at = (guint64)json_object_get_int_member_with_default(o, "deadline-ns", 0);
        }
        if (json_object_has_member(o, "fired-icount")) {
            f->fired = TRUE;
            f->fired_icount = (guint64)json_object_get_int_member(o, "fired-icount");
        }
        g_ptr_array_add(out, f);
    }
    g_ptr_array_sort(out, by_id);
    return g_steal_pointer(&out);
}

gboolean fault_channel_inject(const char *sock, const FaultSpec *f, int timeout_ms, JsonNode **info,
                              GError **error)
{
    GError *e = NULL;
    g_autoptr(JsonObject) args = fault_qmp_args(f);
    QmpClient *c = qmp_client_connect_lines(sock, &e);
    JsonObject *o =
        c && qmp_client_send_object(c, args, &e) ? qmp_client_read_object(c, timeout_ms, &e) : NULL;
    qmp_client_free(c);
    if (!o) {
        g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_CHANNEL, "fault channel %s: %s%s", sock,
                    e->message,
                    g_error_matches(e, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_TIMEOUT)
                        ? " (is the recording running?)"
                        : "");
        g_error_free(e);
        return FALSE;
    }
    g_autoptr(JsonObject) reply = o;
    if (json_object_has_member(reply, "error")) {
        g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_REFUSED, "%s",
                    json_object_get_string_member_with_default(reply, "error", "?"));
        return FALSE;
    }
    JsonNode *ret = json_object_get_member(reply, "return");
    if (!ret || !JSON_NODE_HOLDS_OBJECT(ret) ||
        !json_object_has_member(json_node_get_object(ret), "id")) {
        g_set_error(error, FAULTS_ERROR, FAULTS_ERROR_CHANNEL,
                    "fault channel %s: unexpected answer without a fault id", sock);
        return FALSE;
    }
    if (info)
        *info = json_node_copy(ret);
    return TRUE;
}
