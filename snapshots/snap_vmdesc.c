#include "snap_vmdesc.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_ARRAY (1u << 20)
#define MAX_DEPTH 32
#define MAX_STEPS (1u << 21) /* field elements visited per device */
#define MAX_OFFSET (1ull << 32)

static void field_clear(gpointer p)
{
    g_free(((SnapField *)p)->name);
}

static void add_field(GArray *out, const char *name, gsize off, gsize size)
{
    SnapField f = {g_strdup(name), off, size};
    g_array_append_val(out, f);
}

static gint64 member_int(JsonObject *o, const char *name, gint64 dflt)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || json_node_get_value_type(n) != G_TYPE_INT64)
        return dflt;
    return json_node_get_int(n);
}

static JsonObject *member_object(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *member_array(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

/* Appends the leaf fields of a vmsd description (its "fields", then its
 * "subsections", each preceded by the subsection marker, name and version in
 * the stream) starting at *OFF. Returns FALSE if the description is
 * inconsistent (the caller then drops this device's fields). */
static gboolean flatten(JsonObject *d, const char *prefix, gsize *off, GArray *out, int depth,
                        guint *steps)
{
    if (depth > MAX_DEPTH)
        return FALSE;
    JsonArray *fields = member_array(d, "fields");
    for (guint i = 0; fields && i < json_array_get_length(fields); i++) {
        JsonNode *fn = json_array_get_element(fields, i);
        if (!JSON_NODE_HOLDS_OBJECT(fn))
            return FALSE;
        JsonObject *f = json_node_get_object(fn);
        const char *name = json_object_get_string_member_with_default(f, "name", NULL);
        gint64 size = member_int(f, "size", -1);
        if (!name || size < 0)
            return FALSE;
        gint64 n = member_int(f, "array_len", -1), index = member_int(f, "index", -1);
        if (n > MAX_ARRAY)
            return FALSE;
        JsonObject *st = member_object(f, "struct");
        for (gint64 k = 0; k < (n < 0 ? 1 : n); k++) {
            if (++*steps > MAX_STEPS || *off > MAX_OFFSET || (guint64)size > MAX_OFFSET)
                return FALSE;
            g_autofree char *full =
                n >= 0       ? g_strdup_printf("%s%s[%" G_GINT64_FORMAT "]", prefix, name, k)
                : index >= 0 ? g_strdup_printf("%s%s[%" G_GINT64_FORMAT "]", prefix, name, index)
                             : g_strdup_printf("%s%s", prefix, name);
            gsize start = *off;
            if (st) {
                g_autofree char *p = g_strdup_printf("%s.", full);
                guint before = out->len;
                if (!flatten(st, p, off, out, depth + 1, steps) || *off != start + (gsize)size) {
                    /* struct description does not add up: keep it as one field */
                    g_array_set_size(out, before);
                    add_field(out, full, start, size);
                }
            } else if (size > 0) {
                add_field(out, full, start, size);
            }
            *off = start + size;
        }
    }
    JsonArray *subs = member_array(d, "subsections");
    for (guint i = 0; subs && i < json_array_get_length(subs); i++) {
        JsonNode *sn = json_array_get_element(subs, i);
        if (!JSON_NODE_HOLDS_OBJECT(sn))
            return FALSE;
        JsonObject *so = json_node_get_object(sn);
        const char *vn = json_object_get_string_member_with_default(so, "vmsd_name", NULL);
        if (!vn || strlen(vn) > 255)
            return FALSE;
        *off += 1 + 1 + strlen(vn) + 4; /* QEMU_VM_SUBSECTION, name length, name, version */
        g_autofree char *p = g_strdup_printf("%s%s.", prefix, vn);
        if (!flatten(so, p, off, out, depth + 1, steps))
            return FALSE;
    }
    return TRUE;
}

GHashTable *snap_vmdesc_parse(const char *json, gsize len, GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, json, len, error))
        return NULL;
    JsonNode *root = json_parser_get_root(p);
    JsonArray *devs = root && JSON_NODE_HOLDS_OBJECT(root)
                          ? member_array(json_node_get_object(root), "devices")
                          : NULL;
    if (!devs) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "device description: no \"devices\" array");
        return NULL;
    }
    GHashTable *t =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    for (guint i = 0; i < json_array_get_length(devs); i++) {
        JsonNode *dn = json_array_get_element(devs, i);
        if (!JSON_NODE_HOLDS_OBJECT(dn))
            continue;
        JsonObject *d = json_node_get_object(dn);
        const char *name = json_object_get_string_member_with_default(d, "name", NULL);
        gint64 inst = member_int(d, "instance_id", -1);
        if (!name || inst < 0)
            continue;
        GArray *fields = g_array_new(FALSE, FALSE, sizeof(SnapField));
        g_array_set_clear_func(fields, field_clear);
        gsize off = 0;
        guint steps = 0;
        if (!flatten(d, "", &off, fields, 0, &steps))
            g_array_set_size(fields, 0);
        g_hash_table_replace(t, g_strdup_printf("%s/%" G_GINT64_FORMAT, name, inst), fields);
    }
    return t;
}

static void add_change(GPtrArray *out, const char *name, gsize off, gsize size)
{
    SnapFieldChange *c = g_new(SnapFieldChange, 1);
    c->name = g_strdup(name);
    c->offset = off;
    c->size = size;
    g_ptr_array_add(out, c);
}

static void change_free(gpointer p)
{
    g_free(((SnapFieldChange *)p)->name);
    g_free(p);
}

static gint by_offset(gconstpointer x, gconstpointer y)
{
    const SnapFieldChange *a = *(SnapFieldChange *const *)x, *b = *(SnapFieldChange *const *)y;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

GPtrArray *snap_vmdesc_diff(const GArray *fields, const guint8 *a, gsize alen, const guint8 *b,
                            gsize blen)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(change_free);
    gsize n = MAX(alen, blen);
    g_autofree gboolean *covered = g_new0(gboolean, n + 1);
    for (guint i = 0; fields && i < fields->len; i++) {
        const SnapField *f = &g_array_index(fields, SnapField, i);
        if (f->offset > n || f->size > n - f->offset)
            continue; /* beyond both payloads */
        gboolean diff = FALSE;
        for (gsize k = f->offset; k < f->offset + f->size; k++) {
            covered[k] = TRUE;
            if (k >= alen || k >= blen || a[k] != b[k])
                diff = TRUE;
        }
        if (diff)
            add_change(out, f->name, f->offset, f->size);
    }
    for (gsize k = 0; k < n;) {
        if (covered[k] || (k < alen && k < blen && a[k] == b[k])) {
            k++;
            continue;
        }
        gsize start = k;
        while (k < n && !covered[k] && !(k < alen && k < blen && a[k] == b[k]))
            k++;
        add_change(out, NULL, start, k - start);
    }
    g_ptr_array_sort(out, by_offset);
    return out;
}
