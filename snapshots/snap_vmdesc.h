/* snap_vmdesc: QEMU's JSON VM description (the "vmdesc" after a migration
 * stream's EOF) flattened into named byte ranges of each device section, so
 * snapshot diffs can name changed device fields. */
#pragma once
#include <glib.h>

typedef struct {
    char *name;   /* "t[0].count", "cpu/fpu.fsr", ... */
    gsize offset; /* in the section payload (after the section header) */
    gsize size;
} SnapField;

typedef struct {
    char *name;   /* field name, or NULL for bytes no field describes */
    gsize offset; /* of the changed range in the section payload */
    gsize size;
} SnapFieldChange;

/* Parses the description: "idstr/instance" -> GArray of SnapField (ordered,
 * non-overlapping). Fails on malformed JSON or a description that is not an
 * object with a "devices" array. */
GHashTable *snap_vmdesc_parse(const char *json, gsize len, GError **error);

/* Changed ranges between two payloads of one device section: one entry per
 * changed field of FIELDS (may be NULL), and one per maximal run of changed
 * bytes no field covers. Returns a GPtrArray of SnapFieldChange. */
GPtrArray *snap_vmdesc_diff(const GArray *fields, const guint8 *a, gsize alen, const guint8 *b,
                            gsize blen);
