/* bundle: the recording bundle directory and its manifest.json.
 *
 *   BUNDLE/manifest.json      this manifest (written last, atomically)
 *          replay.bin.zst     QEMU's replay log, zstd
 *          checkpoints/       snapshot store (snapshots/FORMAT.md) holding the
 *                             checkpoints as deduplicated migration streams:
 *                             "init" at icount 0 and ckpt-NNNN
 *          fsw.elf            the flight software
 *          input.txt          the scripted UART input (optional)
 *          uart.log           the UART output of the recording
 *          uart-rx.log        APBUART0's input deliveries with their instants
 *                             (hw/itc/gr740_apbuart.c rx-log; optional: older
 *                             bundles have none)
 *
 * A manifest is untrusted input: it is size-limited, every field is type- and
 * range-checked, and file names must be plain names inside the bundle. */
#pragma once
#include <glib.h>

#define BUNDLE_ERROR (bundle_error_quark())
GQuark bundle_error_quark(void);
enum {
    BUNDLE_ERROR_IO = 1,
    BUNDLE_ERROR_CORRUPT, /* manifest or file damaged or not a bundle */
    BUNDLE_ERROR_VERSION, /* unsupported format version */
};

#define BUNDLE_FORMAT "itc-bundle"
#define BUNDLE_FORMAT_VERSION 2 /* 1: checkpoints as a qcow2 file */
#define BUNDLE_MANIFEST "manifest.json"
/* the checkpoint store: a directory inside the bundle */
#define BUNDLE_CHECKPOINT_STORE "checkpoints"
#define BUNDLE_MANIFEST_MAX (4u << 20)
#define BUNDLE_MAX_CHECKPOINTS 100000
#define BUNDLE_MAX_FILE_SIZE (G_GUINT64_CONSTANT(1) << 40)

typedef struct {
    char *file;   /* plain name inside the bundle */
    char *sha256; /* 64 lowercase hex digits */
    guint64 size;
} BundleFile;

typedef struct {
    char *name; /* ckpt-NNNN, or "init" */
    guint64 icount;
    guint64 virtual_ns;
    guint64 uart_offset; /* UART bytes emitted before this instant */
    char *snapshot;      /* its id in the checkpoint store (32 hex digits) */
} BundleCheckpoint;

typedef struct {
    char *qemu_version;
    char *machine;
    int smp;
    int icount_shift;
    char **argv; /* QEMU argv with bundle-relative file names */
    BundleFile fsw;
    gboolean has_input;
    BundleFile input;
    BundleFile replay_log;
    guint64 replay_log_uncompressed_size;
    BundleFile uart;
    gboolean has_uart_rx;
    BundleFile uart_rx;
    guint64 icount_end;
    guint64 virtual_ns_end;
    char *final_digest;     /* sha256 hex of RAM + registers at icount_end */
    char *checkpoint_store; /* directory of the snapshot store in the bundle */
    BundleCheckpoint init;  /* the start state ("init", icount 0) */
    char *created;          /* ISO 8601 UTC */
    char *end_reason;       /* why the recording ended (free text) */
    gboolean verified;      /* a replay pass checked the recording (itc record --verify) */
    GArray *checkpoints;    /* of BundleCheckpoint, strictly increasing icount */
    char *faults_json;      /* the "faults" array as JSON text ("[]") */
    char **extra_args;      /* user QEMU arguments (after --), NULL-terminated */
} BundleManifest;

BundleManifest *bundle_manifest_new(void);
void bundle_manifest_free(BundleManifest *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BundleManifest, bundle_manifest_free)

/* Parses and validates manifest JSON text of LEN bytes. */
BundleManifest *bundle_manifest_parse(const char *text, gsize len, GError **error);
/* Reads BUNDLE_DIR/manifest.json (size-limited) and parses it. */
BundleManifest *bundle_manifest_load(const char *bundle_dir, GError **error);
/* Serializes (pretty JSON, g_free it). */
char *bundle_manifest_to_json(const BundleManifest *m);
/* Writes BUNDLE_DIR/manifest.json atomically. */
gboolean bundle_manifest_save(const BundleManifest *m, const char *bundle_dir, GError **error);

/* Checkpoint I (0-based) or NULL; looks up by name. */
const BundleCheckpoint *bundle_find_checkpoint(const BundleManifest *m, const char *name);
/* The last checkpoint with icount <= ICOUNT, or NULL (then: "init" at 0). */
const BundleCheckpoint *bundle_checkpoint_before(const BundleManifest *m, guint64 icount);

/* An instruction count (or another count) as users write it: decimal
 * (leading zeros allowed, never octal) or 0x hex, exactly, or 1e9 / 2.5e7
 * notation for a whole number below 2^53 (where doubles are exact).  FALSE
 * for anything else, negative included. */
gboolean bundle_parse_count(const char *s, guint64 *out);

/* Writes DATA to PATH through PATH.tmp + fsync + rename (+ fsync of the dir). */
gboolean bundle_write_atomic(const char *path, const void *data, gsize len, GError **error);
/* sha256 (hex, 65 bytes with NUL) and size of a file. */
gboolean bundle_hash_file(const char *path, char sha256[65], guint64 *size, GError **error);
/* Fills F with NAME, the sha256 and size of BUNDLE_DIR/NAME. */
gboolean bundle_file_describe(BundleFile *f, const char *bundle_dir, const char *name,
                              GError **error);
/* Checks that BUNDLE_DIR/F->file exists with F's size and sha256. */
gboolean bundle_file_verify(const BundleFile *f, const char *bundle_dir, GError **error);
/* Copies a file (tmp + fsync + rename). */
gboolean bundle_copy_file(const char *src, const char *dst, GError **error);

/* zstd streaming: compress SRC into DST (tmp + rename); decompress SRC into
 * DST, refusing more than MAX_OUT bytes and a truncated or damaged frame. */
gboolean bundle_zstd_compress(const char *src, const char *dst, int level, GError **error);
/* Compresses SRC into DST while another process is still appending to SRC:
 * bundle_zstd_follow_step compresses what SRC has gained since the last call
 * (nothing if SRC does not exist yet), bundle_zstd_follow_finish, once the
 * writer is done, the rest, then writes DST (tmp + fsync + rename).  The
 * first HEAD bytes, which the writer may still rewrite when it closes SRC
 * (QEMU's replay log header), are read last and go in a frame of their own
 * before the rest's; bundle_zstd_decompress gives back SRC whole.  An error
 * sticks: every later call fails with it. */
typedef struct BundleZstdFollow BundleZstdFollow;
BundleZstdFollow *bundle_zstd_follow_new(const char *src, const char *dst, gsize head, int level);
gboolean bundle_zstd_follow_step(BundleZstdFollow *z, GError **error);
gboolean bundle_zstd_follow_finish(BundleZstdFollow *z, GError **error);
/* Removes the temporary files. */
void bundle_zstd_follow_free(BundleZstdFollow *z);
gboolean bundle_zstd_decompress(const char *src, const char *dst, guint64 max_out,
                                guint64 *out_size, GError **error);
