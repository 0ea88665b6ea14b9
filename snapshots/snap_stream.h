/* snap_stream: push parser for QEMU 10.0 migration streams (savevm/migrate).
 * Feed arbitrary buffers; the parser emits records whose raw bytes, concatenated
 * in order, are exactly the input stream. Non-RAM device data stays opaque. */
#pragma once
#include <glib.h>

#define SNAP_STREAM_MAGIC 0x5145564du
#define SNAP_STREAM_VERSION 3u
#define SNAP_PAGE_SIZE 4096u
#define SNAP_MAX_SECTION (64u << 20)
#define SNAP_MAX_VMDESC (16u << 20)
/* RAM record flag of ITC QEMU's zero-run records (patch 0027) */
#define SNAP_RAM_ZERO_RUN 0x400u

typedef enum {
    SNAP_REC_HEADER,
    SNAP_REC_CONFIG,
    SNAP_REC_SECTION,    /* non-RAM device section: header + opaque data + footer */
    SNAP_REC_RAM_HEADER, /* RAM section header (START/PART/END) */
    SNAP_REC_RAM_PAGE,   /* RAM_SAVE_FLAG_PAGE: raw includes the 4 KiB page */
    SNAP_REC_RAM_ZERO,
    SNAP_REC_RAM_OTHER, /* MEM_SIZE, MULTIFD_FLUSH, EOS */
    SNAP_REC_RAM_FOOTER,
    SNAP_REC_COMMAND,
    SNAP_REC_EOF,
    SNAP_REC_VMDESC,
} SnapRecordKind;

typedef struct {
    SnapRecordKind kind;
    const guint8 *raw; /* bytes of the stream this record covers */
    gsize raw_len;
    guint64 offset;      /* stream offset of raw[0] */
    guint8 section_type; /* QEMU_VM_SECTION_* for sections */
    guint32 section_id;
    const char *name; /* section idstr or RAM block name */
    guint32 instance_id;
    guint32 version_id;
    const guint8 *data; /* section payload / page / JSON text */
    gsize data_len;
    guint64 addr; /* RAM offset in block */
    guint64 ram_flags;
    /* RAM_PAGE: 1. RAM_ZERO: the pages from addr on that this record covers:
     * consecutive continuation records (8-byte header, fill byte 0) come as
     * one record, raw_len 9 bytes per page; so does a zero-run record (flag
     * 0x400, ITC QEMU patch 0027: header, be32 npages, fill byte 0), whose
     * raw_len is its header's + 5. */
    guint32 npages;
} SnapRecord;

typedef gboolean (*SnapRecordFn)(const SnapRecord *rec, gpointer user, GError **error);
typedef struct SnapStreamParser SnapStreamParser;

#define SNAP_STREAM_ERROR (snap_stream_error_quark())
GQuark snap_stream_error_quark(void);
enum { SNAP_STREAM_ERROR_CORRUPT = 1, SNAP_STREAM_ERROR_TRUNCATED, SNAP_STREAM_ERROR_UNSUPPORTED };

SnapStreamParser *snap_stream_parser_new(SnapRecordFn fn, gpointer user);
void snap_stream_parser_free(SnapStreamParser *p);
gboolean snap_stream_parser_feed(SnapStreamParser *p, const guint8 *buf, gsize len, GError **error);
/* End of input: fails if the stream is incomplete. */
gboolean snap_stream_parser_finish(SnapStreamParser *p, GError **error);
