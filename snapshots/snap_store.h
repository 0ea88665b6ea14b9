/* snap_store: content-addressed snapshot store. RAM pages are keyed by
 * XXH3-128; the new pages of an ingest are zstd-compressed together in blocks
 * of 64 (one pack + index per ingest, compression in a second thread); a
 * snapshot is a checksummed manifest of raw stream bytes and page locations
 * that exports the ingested stream byte-identically. Writes: temp file, fsync,
 * rename. Layout and measurements: snapshots/FORMAT.md. */
#pragma once
#include <glib.h>
#include <stdio.h>

typedef struct SnapStore SnapStore;
typedef struct SnapIngest SnapIngest;

#define SNAP_STORE_ERROR (snap_store_error_quark())
GQuark snap_store_error_quark(void);
enum { SNAP_STORE_ERROR_CORRUPT = 1, SNAP_STORE_ERROR_NOT_FOUND, SNAP_STORE_ERROR_IO };

typedef struct {
    char id[33];
    guint64 stream_len;
    guint64 created; /* unix seconds */
    guint64 pages;   /* page references */
    guint64 manifest_bytes;
    char parent[33]; /* delta manifests: the snapshot whose manifest body this one is
                        compressed against; "" for a full manifest */
} SnapInfo;

typedef struct {
    guint64 snapshots, logical_bytes, stored_bytes, unique_pages, page_refs, page_raw_bytes,
        page_stored_bytes, manifest_bytes, delta_manifests;
} SnapStats;

SnapStore *snap_store_open(const char *dir, GError **error);
void snap_store_close(SnapStore *s);
/* Ingests are no longer synced one by one (by default each is on disk when
 * its id is returned): for a store filled in one go, such as a recording's,
 * made durable at the end by snap_store_sync().  After a crash before that,
 * the latest snapshots may be damaged (verify names them). */
void snap_store_defer_sync(SnapStore *s);
/* Everything written so far on disk: syncfs() of the store's file system. */
gboolean snap_store_sync(SnapStore *s, GError **error);

SnapIngest *snap_store_ingest_begin(SnapStore *s, int zstd_level, GError **error);
gboolean snap_ingest_feed(SnapIngest *in, const guint8 *buf, gsize len, GError **error);
/* Returns the new snapshot id (g_free it). Frees in either case. */
char *snap_ingest_commit(SnapIngest *in, GError **error);
void snap_ingest_abort(SnapIngest *in);
/* Ingests everything F holds (a file or a pipe; NAME names it in errors),
 * calling PROGRESS (optional) with the bytes read so far; *TOTAL (optional)
 * gets the stream length.  Returns the new id (g_free it). */
char *snap_store_ingest_file(SnapStore *s, FILE *f, const char *name, int zstd_level,
                             void (*progress)(void *opaque, guint64 bytes), void *opaque,
                             guint64 *total, GError **error);

/* Writes the stream; verifies length and XXH3-128 at the end. */
gboolean snap_store_export(SnapStore *s, const char *id, FILE *out, GError **error);
GArray *snap_store_list(SnapStore *s, GError **error); /* of SnapInfo, by creation time */
gboolean snap_store_resolve(SnapStore *s, const char *prefix, char out[33], GError **error);
/* Snapshots stored as deltas of ID are rewritten against ID's parent first. */
gboolean snap_store_remove(SnapStore *s, const char *id, GError **error);
/* Deletes temp files and unreferenced packs, rewrites packs without their
 * unreferenced blocks; returns bytes freed. */
gboolean snap_store_gc(SnapStore *s, guint64 *freed, GError **error);
gboolean snap_store_stats(SnapStore *s, SnapStats *st, GError **error);
/* Checks every checksum; appends a "object: problem" string per damaged object. */
gboolean snap_store_verify(SnapStore *s, GPtrArray *problems, GError **error);
