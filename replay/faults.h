/* faults: fault scenario files and the faults of a recording.
 *
 * A scenario file is a JSON array of faults; each one mirrors the arguments
 * of QEMU's itc-inject-fault command (qapi/itc.json):
 *
 *   [ {"kind": "mem-seu", "target": "0x00012340", "mask": 256, "icount": 120000000},
 *     {"kind": "gpio", "target": "grgpio0.3", "level": 1, "time-ns": 500000000,
 *      "comment": "free text, ignored"} ]
 *
 * kind: mem-seu, cpu-reg, irq, gpio, reg-flip, uart-rx, reg-stuck,
 * uart-corrupt, uart-drop, uart-error, timer-lost-ticks, timer-drift;
 * target: a string; optional mask (integer or "0x.." string), count, level
 * (integers; level is 0/1, or the drift in ppm for timer-drift), data (hex
 * string, uart-rx), duration-ns or duration-icount (reg-stuck,
 * timer-lost-ticks, timer-drift); exactly one of icount (instruction count)
 * or time-ns (virtual ns).  Faults "now" have no definite instant and are refused.
 * Unknown fields, wrong types and negative numbers are errors naming the
 * entry.  QEMU checks the targets when the faults are injected.
 *
 * The bundle's manifest.json "faults" holds the same objects plus the
 * outcome of the recording: id, state (pending/fired/failed/active) and
 * fired_icount. */
#pragma once
#include <glib.h>
#include <json-glib/json-glib.h>

#include "qmp_client.h"

#define FAULTS_ERROR (faults_error_quark())
GQuark faults_error_quark(void);
enum {
    FAULTS_ERROR_BAD_INPUT = 1, /* malformed scenario (or manifest faults) */
    FAULTS_ERROR_REFUSED,       /* QEMU refused the fault */
    FAULTS_ERROR_CHANNEL,       /* the fault channel could not be reached or did not answer */
};

#define FAULTS_MAX 64              /* QEMU's fault table */
#define FAULTS_FILE_MAX (1u << 20) /* bytes of a scenario file */

typedef enum { FAULT_AT_ICOUNT, FAULT_AT_TIME, FAULT_AT_NOW } FaultWhen;

typedef struct {
    char *kind;   /* ItcFaultKind name */
    char *target; /* as QEMU takes it */
    gboolean has_mask, has_count, has_level;
    guint64 mask;
    gint64 count, level;
    char *data; /* uart-rx bytes in hex, or NULL */
    gboolean has_duration_ns, has_duration_icount;
    gint64 duration_ns, duration_icount;
    char *comment; /* or NULL */
    FaultWhen when;
    guint64 at; /* icount or virtual ns */
    /* outcome (manifest, query) */
    gint64 id;   /* 0: not injected */
    char *state; /* "pending", "fired", "failed" or NULL */
    gboolean fired;
    guint64 fired_icount;
    /* injected through the recording's fault channel (hw/itc/itc_fault_channel.c):
     * its request is in the replay log, so no replay injects it again */
    gboolean recorded;
} FaultSpec;

void fault_spec_free(FaultSpec *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FaultSpec, fault_spec_free)

/* Parses a JSON array of faults (TEXT, LEN bytes); WHAT names the source in
 * messages.  MANIFEST: also accept the outcome fields.  Returns a
 * GPtrArray of FaultSpec (freeing them). */
GPtrArray *fault_list_parse(const char *text, gsize len, const char *what, gboolean manifest,
                            GError **error);
/* Reads and parses a scenario file. */
GPtrArray *fault_scenario_load(const char *path, GError **error);
/* The list as JSON (with the outcome fields when set). */
JsonNode *fault_list_to_json(GPtrArray *faults);
char *fault_list_to_json_text(GPtrArray *faults);
/* "fault 2 (mem-seu 0x1000 at icount 5)" style label, g_free it. */
char *fault_describe(const FaultSpec *f, guint index);

/* The itc-inject-fault arguments for F. */
JsonObject *fault_qmp_args(const FaultSpec *f);
/* Injects F; *ID (optional) gets QEMU's fault id.  QEMU's refusal is a
 * FAULTS_ERROR_REFUSED with QEMU's message. */
gboolean fault_inject(QmpClient *q, const FaultSpec *f, gint64 *id, GError **error);
/* Injects every fault of FAULTS in order (filling in their ids); a refusal
 * names the fault. */
gboolean fault_inject_all(QmpClient *q, GPtrArray *faults, GError **error);
/* query-itc-faults as FaultSpecs sorted by id (when: icount if QEMU has
 * one, else the deadline as a virtual time; no data: QEMU does not report
 * it). */
GPtrArray *fault_query(QmpClient *q, GError **error);
/* Sends F to a recording's fault channel (the unix socket SOCK of
 * hw/itc/itc_fault_channel.c, one JSON line of itc-inject-fault arguments
 * each way) and waits up to TIMEOUT_MS for the reply; *INFO (optional)
 * gets QEMU's description of the fault.  A refusal is FAULTS_ERROR_REFUSED
 * with QEMU's message, no answer FAULTS_ERROR_CHANNEL. */
gboolean fault_channel_inject(const char *sock, const FaultSpec *f, int timeout_ms, JsonNode **info,
                              GError **error);
