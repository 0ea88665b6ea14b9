#include "bundle.h"

#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

G_DEFINE_QUARK(bundle - error - quark, bundle_error)

BundleManifest *bundle_manifest_new(void)
{
    BundleManifest *m = g_new0(BundleManifest, 1);
    m->checkpoints = g_array_new(FALSE, TRUE, sizeof(BundleCheckpoint));
    m->faults_json = g_strdup("[]");
    m->smp = 1;
    return m;
}

static void file_clear(BundleFile *f)
{
    g_clear_pointer(&f->file, g_free);
    g_clear_pointer(&f->sha256, g_free);
}

void bundle_manifest_free(BundleManifest *m)
{
    if (!m)
        return;
    g_free(m->qemu_version);
    g_free(m->machine);
    g_strfreev(m->argv);
    file_clear(&m->fsw);
    file_clear(&m->input);
    file_clear(&m->replay_log);
    file_clear(&m->uart);
    file_clear(&m->uart_rx);
    g_free(m->final_digest);
    g_free(m->checkpoint_store);
    g_free(m->init.name);
    g_free(m->init.snapshot);
    g_free(m->created);
    g_free(m->end_reason);
    for (guint i = 0; i < m->checkpoints->len; i++) {
        g_free(g_array_index(m->checkpoints, BundleCheckpoint, i).name);
        g_free(g_array_index(m->checkpoints, BundleCheckpoint, i).snapshot);
    }
    g_array_free(m->checkpoints, TRUE);
    g_free(m->faults_json);
    g_strfreev(m->extra_args);
    g_free(m);
}

/* ---- parsing ---------------------------------------------------------- */

typedef struct {
    GError **error;
    gboolean failed;
} Ctx;

static void bad(Ctx *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void bad(Ctx *c, const char *fmt, ...)
{
    if (c->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(c->error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT, "manifest: %s", m);
    c->failed = TRUE;
}

static JsonNode *member(Ctx *c, JsonObject *o, const char *where, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n)
        bad(c, "%s%smissing field '%s'", where, *where ? ": " : "", name);
    return n;
}

static const char *get_str(Ctx *c, JsonObject *o, const char *where, const char *name,
                           gsize max_len)
{
    JsonNode *n = member(c, o, where, name);
    if (!n)
        return NULL;
    if (json_node_get_value_type(n) != G_TYPE_STRING) {
        bad(c, "%s%sfield '%s' must be a string", where, *where ? ": " : "", name);
        return NULL;
    }
    const char *s = json_node_get_string(n);
    if (strlen(s) > max_len) {
        bad(c, "%s%sfield '%s' is longer than %zu bytes", where, *where ? ": " : "", name, max_len);
        return NULL;
    }
    return s;
}

static guint64 get_uint(Ctx *c, JsonObject *o, const char *where, const char *name, guint64 max)
{
    JsonNode *n = member(c, o, where, name);
    if (!n)
        return 0;
    if (json_node_get_value_type(n) != G_TYPE_INT64) {
        bad(c, "%s%sfield '%s' must be an integer", where, *where ? ": " : "", name);
        return 0;
    }
    gint64 v = json_node_get_int(n);
    if (v < 0 || (guint64)v > max) {
        bad(c, "%s%sfield '%s' = %" G_GINT64_FORMAT " is out of range (0..%" G_GUINT64_FORMAT ")",
            where, *where ? ": " : "", name, v, max);
        return 0;
    }
    return (guint64)v;
}

static JsonObject *get_obj(Ctx *c, JsonObject *o, const char *name)
{
    JsonNode *n = member(c, o, "", name);
    if (!n)
        return NULL;
    if (!JSON_NODE_HOLDS_OBJECT(n)) {
        bad(c, "field '%s' must be an object", name);
        return NULL;
    }
    return json_node_get_object(n);
}

/* An array of at least MIN_LEN strings (at most 4096, each <= 4096 bytes). */
static char **get_strv(Ctx *c, JsonObject *o, const char *name, guint min_len)
{
    JsonNode *an = member(c, o, "", name);
    if (!an)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(an)) {
        bad(c, "field '%s' must be an array of strings", name);
        return NULL;
    }
    JsonArray *aa = json_node_get_array(an);
    guint argc = json_array_get_length(aa);
    if (argc < min_len || argc > 4096) {
        bad(c, "field '%s' has %u elements (%u..4096 allowed)", name, argc, min_len);
        return NULL;
    }
    char **v = g_new0(char *, argc + 1);
    for (guint i = 0; i < argc; i++) {
        JsonNode *n = json_array_get_element(aa, i);
        if (json_node_get_value_type(n) != G_TYPE_STRING ||
            strlen(json_node_get_string(n)) > 4096) {
            bad(c, "%s[%u] is not a string (of at most 4096 bytes)", name, i);
            g_strfreev(v);
            return NULL;
        }
        v[i] = g_strdup(json_node_get_string(n));
    }
    return v;
}

/* S is exactly LEN lowercase hex digits. */
static gboolean is_lower_hex(const char *s, gsize len)
{
    if (!s || strlen(s) != len)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
            return FALSE;
    return TRUE;
}

/* A plain file name inside the bundle: no directories, no "..", no hidden
 * names, printable ASCII only. */
static gboolean plain_name(const char *s)
{
    if (!s || !*s || strlen(s) > 255 || s[0] == '.')
        return FALSE;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == '\\' || !g_ascii_isgraph(*p))
            return FALSE;
    return TRUE;
}

/* One checkpoint object (name, icount, virtual_ns, uart_offset, snapshot);
 * ranges and order are the caller's. */
static gboolean get_checkpoint(Ctx *c, JsonObject *co, const char *where, BundleCheckpoint *ck)
{
    const char *name = get_str(c, co, where, "name", 64);
    ck->icount = get_uint(c, co, where, "icount", G_MAXINT64);
    ck->virtual_ns = get_uint(c, co, where, "virtual_ns", G_MAXINT64);
    ck->uart_offset = get_uint(c, co, where, "uart_offset", BUNDLE_MAX_FILE_SIZE);
    const char *snap = get_str(c, co, where, "snapshot", 64);
    if (c->failed)
        return FALSE;
    if (!plain_name(name)) {
        bad(c, "%s: name '%s' is not a plain name", where, name);
        return FALSE;
    }
    if (!is_lower_hex(snap, 32)) {
        bad(c, "%s: snapshot '%s' is not a store id (32 lowercase hex digits)", where, snap);
        return FALSE;
    }
    ck->name = g_strdup(name);
    ck->snapshot = g_strdup(snap);
    return TRUE;
}

static void get_file(Ctx *c, JsonObject *o, const char *name, BundleFile *f)
{
    JsonObject *fo = get_obj(c, o, name);
    if (!fo)
        return;
    const char *file = get_str(c, fo, name, "file", 255);
    const char *sha = get_str(c, fo, name, "sha256", 64);
    f->size = get_uint(c, fo, name, "size", BUNDLE_MAX_FILE_SIZE);
    if (c->failed)
        return;
    if (!plain_name(file)) {
        bad(c, "%s: file name '%s' is not a plain name inside the bundle", name, file);
        return;
    }
    if (!is_lower_hex(sha, 64)) {
        bad(c, "%s: sha256 is not 64 lowercase hex digits", name);
        return;
    }
    f->file = g_strdup(file);
    f->sha256 = g_strdup(sha);
}

BundleManifest *bundle_manifest_parse(const char *text, gsize len, GError **error)
{
    if (len > BUNDLE_MANIFEST_MAX) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT,
                    "manifest: %zu bytes, more than the limit of %u", len, BUNDLE_MANIFEST_MAX);
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT, "manifest: contains NUL bytes");
        return NULL;
    }
    g_autoptr(JsonParser) p = json_parser_new();
    GError *e = NULL;
    if (!json_parser_load_from_data(p, text, (gssize)len, &e)) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT, "manifest: not valid JSON: %s",
                    e->message);
        g_error_free(e);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT,
                    "manifest: top level is not a JSON object");
        return NULL;
    }
    JsonObject *o = json_node_get_object(root);
    Ctx c = {.error = error};
    const char *format = get_str(&c, o, "", "format", 64);
    if (c.failed)
        return NULL;
    if (strcmp(format, BUNDLE_FORMAT)) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT,
                    "manifest: format is '%s', not '%s' (not an itc bundle)", format,
                    BUNDLE_FORMAT);
        return NULL;
    }
    guint64 version = get_uint(&c, o, "", "version", G_MAXINT32);
    if (c.failed)
        return NULL;
    if (version != BUNDLE_FORMAT_VERSION) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_VERSION,
                    "manifest: bundle format version %" G_GUINT64_FORMAT
                    " is not supported (this itc reads version %d)",
                    version, BUNDLE_FORMAT_VERSION);
        return NULL;
    }
    g_autoptr(BundleManifest) m = bundle_manifest_new();
    m->qemu_version = g_strdup(get_str(&c, o, "", "qemu_version", 256));
    m->machine = g_strdup(get_str(&c, o, "", "machine", 64));
    m->smp = (int)get_uint(&c, o, "", "smp", 64);
    m->icount_shift = (int)get_uint(&c, o, "", "icount_shift", 10);
    m->created = g_strdup(get_str(&c, o, "", "created", 64));
    m->icount_end = get_uint(&c, o, "", "icount_end", G_MAXINT64);
    m->virtual_ns_end = get_uint(&c, o, "", "virtual_ns_end", G_MAXINT64);
    const char *digest = get_str(&c, o, "", "final_digest", 64);
    /* absent in bundles written before checkpoints were taken during the
     * recording: those always came from the verifying replay pass */
    JsonNode *vn = json_object_get_member(o, "verified");
    if (vn && (!JSON_NODE_HOLDS_VALUE(vn) || json_node_get_value_type(vn) != G_TYPE_BOOLEAN)) {
        bad(&c, "field 'verified' must be true or false");
        return NULL;
    }
    m->verified = vn ? json_node_get_boolean(vn) : TRUE;
    JsonNode *er = json_object_get_member(o, "end_reason");
    if (er && json_node_get_value_type(er) == G_TYPE_STRING)
        m->end_reason = g_strndup(json_node_get_string(er), 256);
    if (c.failed)
        return NULL;
    if (strcmp(m->machine, "gr740")) {
        bad(&c, "machine '%s' is not supported (only gr740)", m->machine);
        return NULL;
    }
    if (m->smp != 1) {
        bad(&c, "smp %d is not supported (record/replay needs 1 CPU)", m->smp);
        return NULL;
    }
    if (!is_lower_hex(digest, 64)) {
        bad(&c, "final_digest is not 64 lowercase hex digits");
        return NULL;
    }
    m->final_digest = g_strdup(digest);

    m->argv = get_strv(&c, o, "argv", 1);
    m->extra_args = get_strv(&c, o, "qemu_extra_args", 0);
    if (c.failed)
        return NULL;

    get_file(&c, o, "fsw", &m->fsw);
    get_file(&c, o, "uart", &m->uart);
    get_file(&c, o, "replay_log", &m->replay_log);
    JsonObject *rl = c.failed ? NULL : get_obj(&c, o, "replay_log");
    if (rl)
        m->replay_log_uncompressed_size =
            get_uint(&c, rl, "replay_log", "uncompressed_size", BUNDLE_MAX_FILE_SIZE);
    JsonNode *in = member(&c, o, "", "input");
    if (c.failed)
        return NULL;
    if (JSON_NODE_HOLDS_OBJECT(in)) {
        m->has_input = TRUE;
        get_file(&c, o, "input", &m->input);
    } else if (!JSON_NODE_HOLDS_NULL(in)) {
        bad(&c, "field 'input' must be an object or null");
    }
    if (!c.failed && json_object_has_member(o, "uart_rx")) {
        m->has_uart_rx = TRUE;
        get_file(&c, o, "uart_rx", &m->uart_rx);
    }
    if (c.failed)
        return NULL;

    /* the checkpoint store and the start state */
    const char *store = get_str(&c, o, "", "checkpoint_store", 255);
    if (c.failed)
        return NULL;
    if (!plain_name(store)) {
        bad(&c, "checkpoint_store '%s' is not a plain name inside the bundle", store);
        return NULL;
    }
    m->checkpoint_store = g_strdup(store);
    JsonObject *io = get_obj(&c, o, "init");
    if (!io || !get_checkpoint(&c, io, "init", &m->init))
        return NULL;
    if (strcmp(m->init.name, "init") || m->init.icount != 0 || m->init.uart_offset != 0) {
        bad(&c, "init: must be named 'init', at icount 0 and uart_offset 0");
        return NULL;
    }

    /* checkpoints */
    JsonNode *cn = member(&c, o, "", "checkpoints");
    if (c.failed)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(cn)) {
        bad(&c, "field 'checkpoints' must be an array");
        return NULL;
    }
    JsonArray *ca = json_node_get_array(cn);
    guint nck = json_array_get_length(ca);
    if (nck > BUNDLE_MAX_CHECKPOINTS) {
        bad(&c, "%u checkpoints, more than the limit of %d", nck, BUNDLE_MAX_CHECKPOINTS);
        return NULL;
    }
    guint64 prev_icount = 0, prev_uart = 0;
    for (guint i = 0; i < nck; i++) {
        JsonNode *n = json_array_get_element(ca, i);
        char where[48];
        g_snprintf(where, sizeof(where), "checkpoints[%u]", i);
        if (!JSON_NODE_HOLDS_OBJECT(n)) {
            bad(&c, "%s is not an object", where);
            return NULL;
        }
        JsonObject *co = json_node_get_object(n);
        BundleCheckpoint ck = {0};
        if (!get_checkpoint(&c, co, where, &ck))
            return NULL;
        /* owned by the array from here on */
        g_array_append_val(m->checkpoints, ck);
        if (!g_str_has_prefix(ck.name, "ckpt-")) {
            bad(&c, "%s: name '%s' is not of the form ckpt-NNNN", where, ck.name);
            return NULL;
        }
        if (ck.icount <= prev_icount) {
            bad(&c, "%s: icount %" G_GUINT64_FORMAT " is not greater than the previous one", where,
                ck.icount);
            return NULL;
        }
        if (ck.icount >= m->icount_end) {
            bad(&c, "%s: icount %" G_GUINT64_FORMAT " is not before icount_end", where, ck.icount);
            return NULL;
        }
        if (ck.uart_offset < prev_uart || ck.uart_offset > m->uart.size) {
            bad(&c, "%s: uart_offset %" G_GUINT64_FORMAT " is out of order or past uart.size",
                where, ck.uart_offset);
            return NULL;
        }
        prev_icount = ck.icount;
        prev_uart = ck.uart_offset;
    }

    JsonNode *fn = member(&c, o, "", "faults");
    if (c.failed)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(fn)) {
        bad(&c, "field 'faults' must be an array");
        return NULL;
    }
    g_autoptr(JsonGenerator) g = json_generator_new();
    json_generator_set_root(g, fn);
    g_free(m->faults_json);
    m->faults_json = json_generator_to_data(g, NULL);
    GError *fe = NULL;
    g_autoptr(GPtrArray) faults =
        fault_list_parse(m->faults_json, strlen(m->faults_json), "manifest: faults", TRUE, &fe);
    if (!faults) {
        g_set_error_literal(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT, fe->message);
        g_error_free(fe);
        return NULL;
    }
    return g_steal_pointer(&m);
}

BundleManifest *bundle_manifest_load(const char *bundle_dir, GError **error)
{
    if (!g_file_test(bundle_dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_IO, "%s: no such bundle directory",
                    bundle_dir);
        return NULL;
    }
    g_autofree char *path = g_build_filename(bundle_dir, BUNDLE_MANIFEST, NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(error, BUNDLE_ERROR, errno == ENOENT ? BUNDLE_ERROR_CORRUPT : BUNDLE_ERROR_IO,
                    "%s: cannot open the manifest: %s (not a bundle, or an unfinished one)", path,
                    g_strerror(errno));
        return NULL;
    }
    GByteArray *b = g_byte_array_new();
    guint8 tmp[65536];
    ssize_t n;
    while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
        g_byte_array_append(b, tmp, n);
        if (b->len > BUNDLE_MANIFEST_MAX)
            break;
    }
    int saved = errno;
    close(fd);
    if (n < 0) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_IO, "%s: read error: %s", path,
                    g_strerror(saved));
        g_byte_array_free(b, TRUE);
        return NULL;
    }
    BundleManifest *m = bundle_manifest_parse((const char *)b->data, b->len, error);
    g_byte_array_free(b, TRUE);
    if (!m)
        g_prefix_error(error, "%s: ", path);
    return m;
}

/* ---- writing ---------------------------------------------------------- */

static void add_file(JsonBuilder *b, const char *name, const BundleFile *f,
                     const guint64 *uncompressed)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, f->file);
    json_builder_set_member_name(b, "sha256");
    json_builder_add_string_value(b, f->sha256);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, (gint64)f->size);
    if (uncompressed) {
        json_builder_set_member_name(b, "uncompressed_size");
        json_builder_add_int_value(b, (gint64)*uncompressed);
    }
    json_builder_end_object(b);
}

#define SET_STR(k, v)                                                                              \
    do {                                                                                           \
        json_builder_set_member_name(b, k);                                                        \
        json_builder_add_string_value(b, v);                                                       \
    } while (0)
#define SET_INT(k, v)                                                                              \
    do {                                                                                           \
        json_builder_set_member_name(b, k);                                                        \
        json_builder_add_int_value(b, (gint64)(v));                                                \
    } while (0)

static void add_checkpoint(JsonBuilder *b, const BundleCheckpoint *ck)
{
    json_builder_begin_object(b);
    SET_STR("name", ck->name ? ck->name : "");
    SET_INT("icount", ck->icount);
    SET_INT("virtual_ns", ck->virtual_ns);
    SET_INT("uart_offset", ck->uart_offset);
    SET_STR("snapshot", ck->snapshot ? ck->snapshot : "");
    json_builder_end_object(b);
}

char *bundle_manifest_to_json(const BundleManifest *m)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    SET_STR("format", BUNDLE_FORMAT);
    SET_INT("version", BUNDLE_FORMAT_VERSION);
    SET_STR("created", m->created ? m->created : "");
    SET_STR("qemu_version", m->qemu_version ? m->qemu_version : "unknown");
    SET_STR("machine", m->machine ? m->machine : "gr740");
    SET_INT("smp", m->smp);
    SET_INT("icount_shift", m->icount_shift);
    json_builder_set_member_name(b, "argv");
    json_builder_begin_array(b);
    for (char **a = m->argv; a && *a; a++)
        json_builder_add_string_value(b, *a);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "qemu_extra_args");
    json_builder_begin_array(b);
    for (char **a = m->extra_args; a && *a; a++)
        json_builder_add_string_value(b, *a);
    json_builder_end_array(b);
    add_file(b, "fsw", &m->fsw, NULL);
    if (m->has_input) {
        add_file(b, "input", &m->input, NULL);
    } else {
        json_builder_set_member_name(b, "input");
        json_builder_add_null_value(b);
    }
    add_file(b, "replay_log", &m->replay_log, &m->replay_log_uncompressed_size);
    add_file(b, "uart", &m->uart, NULL);
    if (m->has_uart_rx)
        add_file(b, "uart_rx", &m->uart_rx, NULL);
    SET_STR("checkpoint_store", m->checkpoint_store ? m->checkpoint_store : "");
    json_builder_set_member_name(b, "init");
    add_checkpoint(b, &m->init);
    SET_INT("icount_end", m->icount_end);
    SET_INT("virtual_ns_end", m->virtual_ns_end);
    SET_STR("final_digest", m->final_digest ? m->final_digest : "");
    if (m->end_reason)
        SET_STR("end_reason", m->end_reason);
    json_builder_set_member_name(b, "verified");
    json_builder_add_boolean_value(b, m->verified);
    json_builder_set_member_name(b, "checkpoints");
    json_builder_begin_array(b);
    for (guint i = 0; i < m->checkpoints->len; i++) {
        add_checkpoint(b, &g_array_index(m->checkpoints, BundleCheckpoint, i));
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "faults");
    JsonNode *faults = json_from_string(m->faults_json ? m->faults_json : "[]", NULL);
    json_builder_add_value(b, faults ? faults
                                     : json_node_init_array(json_node_alloc(), json_array_new()));
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) g = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    json_generator_set_pretty(g, TRUE);
    char *s = json_generator_to_data(g, NULL);
    char *r = g_strconcat(s, "\n", NULL);
    g_free(s);
    return r;
}

gboolean bundle_manifest_save(const BundleManifest *m, const char *bundle_dir, GError **error)
{
    g_autofree char *text = bundle_manifest_to_json(m);
    g_autofree char *path = g_build_filename(bundle_dir, BUNDLE_MANIFEST, NULL);
    return bundle_write_atomic(path, text, strlen(text), error);
}

const BundleCheckpoint *bundle_find_checkpoint(const BundleManifest *m, const char *name)
{
    for (guint i = 0; i < m->checkpoints->len; i++) {
        const BundleCheckpoint *ck = &g_array_index(m->checkpoints, BundleCheckpoint, i);
        if (!strcmp(ck->name, name))
            return ck;
    }
    return NULL;
}

gboolean bundle_parse_count(const char *s, guint64 *out)
{
    char *end;
    if (!g_ascii_isdigit(*s))
        return FALSE; /* no sign, space or empty string */
    gboolean hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    errno = 0;
    /* decimal even with leading zeros (never octal); hex only after 0x */
    guint64 v = hex ? g_ascii_strtoull(s + 2, &end, 16) : g_ascii_strtoull(s, &end, 10);
    if (!*end && !errno && (!hex || g_ascii_isxdigit(s[2]))) {
        *out = v;
        return TRUE;
    }
    /* 1e9, 2.5e7: digits, one '.', an exponent; no hex floats, inf or nan */
    if (hex || strspn(s, "0123456789.eE+-") != strlen(s))
        return FALSE;
    double d = g_ascii_strtod(s, &end);
    if (*end || !(d >= 0) || d >= 9007199254740992.0 || d != (double)(guint64)d)
        return FALSE;
    *out = (guint64)d;
    return TRUE;
}

const BundleCheckpoint *bundle_checkpoint_before(const BundleManifest *m, guint64 icount)
{
    const BundleCheckpoint *best = NULL;
    for (guint i = 0; i < m->checkpoints->len; i++) {
        const BundleCheckpoint *ck = &g_array_index(m->checkpoints, BundleCheckpoint, i);
        if (ck->icount <= icount)
            best = ck;
    }
    return best;
}

/* ---- files ------------------------------------------------------------- */

static gboolean io_error(GError **error, const char *what, const char *path)
{
    g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_IO, "%s %s: %s", what, path, g_strerror(errno));
    return FALSE;
}

static void fsync_dir_of(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

gboolean bundle_write_atomic(const char *path, const void *data, gsize len, GError **error)
{
    g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return io_error(error, "cannot create", tmp);
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            io_error(error, "cannot write", tmp);
            close(fd);
            g_unlink(tmp);
            return FALSE;
        }
        p += n;
        len -= n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        io_error(error, "cannot write", tmp);
        g_unlink(tmp);
        return FALSE;
    }
    if (rename(tmp, path) < 0) {
        io_error(error, "cannot rename into", path);
        g_unlink(tmp);
        return FALSE;
    }
    fsync_dir_of(path);
    return TRUE;
}

gboolean bundle_hash_file(const char *path, char sha256[65], guint64 *size, GError **error)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return io_error(error, "cannot open", path);
    g_autoptr(GChecksum) h = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree guchar *buf = g_malloc(1 << 20);
    size_t n;
    guint64 total = 0;
    while ((n = fread(buf, 1, 1 << 20, f)) > 0) {
        g_checksum_update(h, buf, n);
        total += n;
    }
    gboolean bad_read = ferror(f);
    fclose(f);
    if (bad_read)
        return io_error(error, "read error on", path);
    g_strlcpy(sha256, g_checksum_get_string(h), 65);
    if (size)
        *size = total;
    return TRUE;
}

gboolean bundle_file_describe(BundleFile *f, const char *bundle_dir, const char *name,
                              GError **error)
{
    g_autofree char *path = g_build_filename(bundle_dir, name, NULL);
    char sha[65];
    if (!bundle_hash_file(path, sha, &f->size, error))
        return FALSE;
    g_free(f->file);
    g_free(f->sha256);
    f->file = g_strdup(name);
    f->sha256 = g_strdup(sha);
    return TRUE;
}

gboolean bundle_file_verify(const BundleFile *f, const char *bundle_dir, GError **error)
{
    g_autofree char *path = g_build_filename(bundle_dir, f->file, NULL);
    char sha[65];
    guint64 size;
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT, "%s: missing from the bundle", path);
        return FALSE;
    }
    if (!bundle_hash_file(path, sha, &size, error))
        return FALSE;
    if (size != f->size) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT,
                    "%s: %" G_GUINT64_FORMAT " bytes, the manifest says %" G_GUINT64_FORMAT
                    " (truncated or damaged)",
                    path, size, f->size);
        return FALSE;
    }
    if (strcmp(sha, f->sha256)) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT,
                    "%s: sha256 %s does not match the manifest (damaged)", path, sha);
        return FALSE;
    }
    return TRUE;
}

/* The rest of IN appended to OUT: NULL, or what failed. */
static const char *stream_copy(FILE *in, FILE *out)
{
    g_autofree char *buf = g_malloc(1 << 20);
    size_t n;
    while ((n = fread(buf, 1, 1 << 20, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            return "write error";
    return ferror(in) ? "read error" : NULL;
}

gboolean bundle_copy_file(const char *src, const char *dst, GError **error)
{
    FILE *in = fopen(src, "rb");
    if (!in)
        return io_error(error, "cannot open", src);
    g_autofree char *tmp = g_strdup_printf("%s.tmp", dst);
    FILE *out = fopen(tmp, "wb");
    if (!out) {
        fclose(in);
        return io_error(error, "cannot create", tmp);
    }
    gboolean ok = !stream_copy(in, out) && fflush(out) == 0 && fsync(fileno(out)) == 0;
    fclose(in);
    ok = (fclose(out) == 0) && ok;
    if (!ok || rename(tmp, dst) < 0) {
        io_error(error, "cannot copy to", dst);
        g_unlink(tmp);
        return FALSE;
    }
    return TRUE;
}

struct BundleZstdFollow {
    char *src, *dst, *body_path;
    int in;     /* SRC, once it exists */
    FILE *body; /* the frame of SRC from HEAD on (read back at the end) */
    ZSTD_CCtx *cc;
    gsize head;
    guint64 pos; /* SRC's next byte to compress */
    GError *err; /* the first error: every later call reports it */
};

BundleZstdFollow *bundle_zstd_follow_new(const char *src, const char *dst, gsize head, int level)
{
    BundleZstdFollow *z = g_new0(BundleZstdFollow, 1);
    z->src = g_strdup(src);
    z->dst = g_strdup(dst);
    z->body_path = g_strdup_printf("%s.body.tmp", dst);
    z->in = -1;
    z->head = head;
    z->pos = head;
    z->cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(z->cc, ZSTD_c_checksumFlag, 1);
    return z;
}

static gboolean follow_fail(BundleZstdFollow *z, const char *why, GError **error)
{
    if (!z->err)
        g_set_error(&z->err, BUNDLE_ERROR, BUNDLE_ERROR_IO, "compressing %s into %s: %s", z->src,
                    z->dst, why);
    if (error)
        *error = g_error_copy(z->err);
    return FALSE;
}

/* N bytes of input (END: and no more) through CC into OUT. */
static const char *zstd_write(ZSTD_CCtx *cc, FILE *out, const void *buf, gsize n, gboolean end)
{
    char obuf[1 << 14];
    ZSTD_inBuffer ib = {buf, n, 0};
    for (;;) {
        ZSTD_outBuffer ob = {obuf, sizeof obuf, 0};
        size_t r = ZSTD_compressStream2(cc, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(r))
            return ZSTD_getErrorName(r);
        if (fwrite(obuf, 1, ob.pos, out) != ob.pos)
            return "write error";
        if (end ? r == 0 : ib.pos == ib.size)
            return NULL;
    }
}

/* SRC's bytes from z->pos to its current end (END: and the frame's end). */
static gboolean follow_read(BundleZstdFollow *z, gboolean end, GError **error)
{
    if (z->err)
        return follow_fail(z, NULL, error);
    if (z->in < 0 && (z->in = open(z->src, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT && !end)
            return TRUE; /* not written yet */
        return follow_fail(z, g_strerror(errno), error);
    }
    if (!z->body && !(z->body = fopen(z->body_path, "w+b")))
        return follow_fail(z, g_strerror(errno), error);
    g_autofree char *buf = g_malloc(1 << 17);
    for (;;) {
        ssize_t n = pread(z->in, buf, 1 << 17, (off_t)z->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return follow_fail(z, g_strerror(errno), error);
        const char *why = zstd_write(z->cc, z->body, buf, n, end && n == 0);
        if (why)
            return follow_fail(z, why, error);
        z->pos += n;
        if (n == 0)
            return TRUE;
    }
}

gboolean bundle_zstd_follow_step(BundleZstdFollow *z, GError **error)
{
    return follow_read(z, FALSE, error);
}

gboolean bundle_zstd_follow_finish(BundleZstdFollow *z, GError **error)
{
    if (!follow_read(z, TRUE, error))
        return FALSE;
    if (z->pos < z->head)
        return follow_fail(z, "shorter than its header", error);
    g_autofree char *tmp = g_strdup_printf("%s.tmp", z->dst);
    FILE *out = fopen(tmp, "wb");
    if (!out)
        return follow_fail(z, g_strerror(errno), error);
    const char *why = NULL;
    if (z->head) { /* the header as it is now, in a frame of its own */
        g_autofree char *h = g_malloc(z->head);
        ZSTD_CCtx_reset(z->cc, ZSTD_reset_session_only);
        if (pread(z->in, h, z->head, 0) != (ssize_t)z->head)
            why = "cannot read its header";
        else
            why = zstd_write(z->cc, out, h, z->head, TRUE);
    }
    /* then the rest's frame */
    if (!why && (fflush(z->body) != 0 || fseek(z->body, 0, SEEK_SET) != 0))
        why = "write error";
    if (!why)
        why = stream_copy(z->body, out);
    if (!why && (fflush(out) != 0 || fsync(fileno(out)) != 0))
        why = g_strerror(errno);
    if (fclose(out) != 0 && !why)
        why = "write error";
    if (!why && rename(tmp, z->dst) < 0)
        why = g_strerror(errno);
    if (why) {
        g_unlink(tmp);
        return follow_fail(z, why, error);
    }
    return TRUE;
}

void bundle_zstd_follow_free(BundleZstdFollow *z)
{
    if (!z)
        return;
    if (z->in >= 0)
        close(z->in);
    if (z->body)
        fclose(z->body);
    g_unlink(z->body_path);
    ZSTD_freeCCtx(z->cc);
    g_clear_error(&z->err);
    g_free(z->src);
    g_free(z->dst);
    g_free(z->body_path);
    g_free(z);
}

gboolean bundle_zstd_compress(const char *src, const char *dst, int level, GError **error)
{
    BundleZstdFollow *z = bundle_zstd_follow_new(src, dst, 0, level);
    gboolean ok = bundle_zstd_follow_finish(z, error);
    bundle_zstd_follow_free(z);
    return ok;
}

gboolean bundle_zstd_decompress(const char *src, const char *dst, guint64 max_out,
                                guint64 *out_size, GError **error)
{
    FILE *in = fopen(src, "rb");
    if (!in)
        return io_error(error, "cannot open", src);
    FILE *out = fopen(dst, "wb");
    if (!out) {
        fclose(in);
        return io_error(error, "cannot create", dst);
    }
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    size_t ilen = ZSTD_DStreamInSize(), olen = ZSTD_DStreamOutSize();
    g_autofree char *ibuf = g_malloc(ilen), *obuf = g_malloc(olen);
    guint64 total = 0;
    size_t last_r = 1;
    gboolean seen_input = FALSE;
    char *why = NULL;
    size_t n;
    while (!why && (n = fread(ibuf, 1, ilen, in)) > 0) {
        seen_input = TRUE;
        ZSTD_inBuffer ib = {ibuf, n, 0};
        while (ib.pos < ib.size || last_r > 0) {
            ZSTD_outBuffer ob = {obuf, olen, 0};
            size_t r = ZSTD_decompressStream(dc, &ob, &ib);
            if (ZSTD_isError(r)) {
                why = g_strdup_printf("damaged zstd data (%s)", ZSTD_getErrorName(r));
                break;
            }
            last_r = r;
            total += ob.pos;
            if (total > max_out) {
                why = g_strdup_printf("decompresses to more than %" G_GUINT64_FORMAT " bytes",
                                      max_out);
                break;
            }
            if (ob.pos && fwrite(obuf, 1, ob.pos, out) != ob.pos) {
                why = g_strdup("write error");
                break;
            }
            if (ib.pos == ib.size && ob.pos < olen)
                break;
        }
    }
    if (!why && ferror(in))
        why = g_strdup("read error");
    if (!why && (!seen_input || last_r != 0))
        why = g_strdup("truncated (the zstd frame is incomplete)");
    ZSTD_freeDCtx(dc);
    fclose(in);
    if (fclose(out) != 0 && !why)
        why = g_strdup("write error");
    if (why) {
        g_set_error(error, BUNDLE_ERROR, BUNDLE_ERROR_CORRUPT, "%s: %s", src, why);
        g_free(why);
        g_unlink(dst);
        return FALSE;
    }
    if (out_size)
        *out_size = total;
    return TRUE;
}
