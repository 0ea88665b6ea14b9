/* itc inject: inject a fault into a running recording or restore over QMP. */
#include "cli.h"
#include "bundle.h"
#include "faults.h"
#include "qmp_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cmd_inject_main(int argc, char **argv);

static const char usage_text[] =
    "usage: itc inject (--qmp SOCKET | --recording SOCKET) KIND TARGET [options]\n"
    "                  (--icount N | --time-ns T | --now)\n"
    "\n"
    "Injects one fault into a running QEMU with QEMU's itc-inject-fault, and prints\n"
    "the fault id: through its QMP socket (itc restore prints it), or through the\n"
    "fault channel of a running recording (itc record prints it), where the request\n"
    "itself is recorded, so that every replay of the bundle injects the fault at\n"
    "the same instruction.\n"
    "  KIND     mem-seu, cpu-reg, irq, gpio, reg-flip, uart-rx, reg-stuck,\n"
    "           uart-corrupt, uart-drop, uart-error, timer-lost-ticks, timer-drift\n"
    "  TARGET   address (0x...), [cpuN.]REG, IRQ line, grgpioN.LINE, apbuartN,\n"
    "           gptimerN.T (timer-lost-ticks), gptimerN (timer-drift)\n"
    "\n"
    "options:\n"
    "  --qmp SOCKET     QMP unix socket of the running QEMU\n"
    "  --recording SOCKET  fault channel socket of a running itc record\n"
    "  --mask M         bits to flip (mem-seu: 1 or 2 bits; default 1), to hold\n"
    "                   (reg-stuck), XOR byte (uart-corrupt), STATUS flags FE 0x40,\n"
    "                   PE 0x20, OV 0x10 (uart-error)\n"
    "  --count N        repeat count (irq), bytes (uart-corrupt, uart-drop),\n"
    "                   underflows (timer-lost-ticks); default 1\n"
    "  --level L        input level 0/1 (gpio, reg-stuck; default 1), drift in ppm\n"
    "                   (timer-drift, may be negative)\n"
    "  --data HEX       bytes to receive (uart-rx)\n"
    "  --duration-ns D  how long reg-stuck, timer-lost-ticks, timer-drift last\n"
    "  --duration-icount N  the same in instructions (not timer-lost-ticks)\n"
    "  --icount N       at instruction count N (not in the past)\n"
    "  --time-ns T      at virtual time T ns\n"
    "  --now            immediately\n"
    "  --json           print QEMU's description of the fault\n"
    "Faults known before a recording starts can go into a scenario file instead\n"
    "(itc record --faults).\n"
    "exit status: 0 injected, 2 bad arguments, no QEMU at SOCKET, or QEMU refused\n";

static int print_fault(JsonNode *r, gboolean json)
{
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(r) ? json_node_get_object(r) : NULL;
    if (!o || !json_object_has_member(o, "id"))
        return cli_error("inject: QEMU's reply has no fault id");
    if (json) {
        g_autoptr(JsonGenerator) g = json_generator_new();
        json_generator_set_root(g, r);
        json_generator_set_pretty(g, TRUE);
        g_autofree char *text = json_generator_to_data(g, NULL);
        printf("%s\n", text);
    } else {
        printf("%" G_GINT64_FORMAT "\n", json_object_get_int_member(o, "id"));
    }
    return CLI_OK;
}

int cmd_inject_main(int argc, char **argv)
{
    const char *sock = NULL, *channel = NULL;
    gboolean json = FALSE;
    int whens = 0;
    FaultSpec f = {0};
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        gboolean has_val = i + 1 < argc;
        guint64 v = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            json = TRUE;
        } else if (!strcmp(a, "--now")) {
            f.when = FAULT_AT_NOW;
            whens++;
        } else if (!strcmp(a, "--qmp") && has_val) {
            sock = argv[++i];
        } else if (!strcmp(a, "--recording") && has_val) {
            channel = argv[++i];
        } else if (!strcmp(a, "--data") && has_val) {
            f.data = argv[++i];
        } else if (!strcmp(a, "--level") && has_val) {
            char *end;
            errno = 0;
            gint64 l = g_ascii_strtoll(argv[++i], &end, 0);
            if (!*argv[i] || *end || errno)
                return cli_error("inject: --level '%s' is not a number", argv[i]);
            f.has_level = TRUE;
            f.level = l;
        } else if ((!strcmp(a, "--mask") || !strcmp(a, "--count") || !strcmp(a, "--duration-ns") ||
                    !strcmp(a, "--duration-icount") || !strcmp(a, "--icount") ||
                    !strcmp(a, "--time-ns")) &&
                   has_val) {
            if (!bundle_parse_count(argv[++i], &v) || v > G_MAXINT64)
                return cli_error("inject: %s '%s' is not a non-negative number", a, argv[i]);
            if (!strcmp(a, "--mask")) {
                f.has_mask = TRUE;
                f.mask = v;
            } else if (!strcmp(a, "--count")) {
                f.has_count = TRUE;
                f.count = (gint64)v;
            } else if (!strcmp(a, "--duration-ns")) {
                f.has_duration_ns = TRUE;
                f.duration_ns = (gint64)v;
            } else if (!strcmp(a, "--duration-icount")) {
                f.has_duration_icount = TRUE;
                f.duration_icount = (gint64)v;
            } else {
                f.when = !strcmp(a, "--icount") ? FAULT_AT_ICOUNT : FAULT_AT_TIME;
                f.at = v;
                whens++;
            }
        } else if (a[0] == '-' && a[1]) {
            return cli_error("inject: unknown option or missing value: %s (see itc inject "
                             "--help)",
                             a);
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            return cli_error("inject: unexpected argument '%s'", a);
        }
    }
    if (!!sock == !!channel || npos < 2) {
        fputs(usage_text, stderr);
        return cli_error("inject: need one of --qmp SOCKET or --recording SOCKET, then KIND "
                         "and TARGET");
    }
    if (whens != 1)
        return cli_error("inject: give exactly one of --icount N, --time-ns T, --now");
    f.kind = (char *)pos[0];
    f.target = (char *)pos[1];
    GError *e = NULL;
    if (channel) {
        g_autoptr(JsonNode) info = NULL;
        if (!fault_channel_inject(channel, &f, 10000, &info, &e)) {
            int rc = g_error_matches(e, FAULTS_ERROR, FAULTS_ERROR_REFUSED)
                         ? cli_error("inject: QEMU refused the fault: %s", e->message)
                         : cli_error("inject: %s", e->message);
            g_error_free(e);
            return rc;
        }
        return print_fault(info, json);
    }
    QmpClient *q = qmp_client_connect(sock, 5000, &e);
    if (!q) {
        int rc = cli_error("inject: cannot connect to QMP at %s: %s", sock, e->message);
        g_error_free(e);
        return rc;
    }
    g_autoptr(JsonObject) args = fault_qmp_args(&f);
    g_autoptr(JsonNode) r = NULL;
    gboolean ok = qmp_client_call(q, "itc-inject-fault", args, &r, 10000, &e);
    qmp_client_free(q);
    if (!ok) {
        const char *m = strstr(e->message, "failed: ");
        int rc = g_error_matches(e, QMP_CLIENT_ERROR, QMP_CLIENT_ERROR_COMMAND) && m
                     ? cli_error("inject: QEMU refused the fault: %s", m + strlen("failed: "))
                     : cli_error("inject: %s", e->message);
        g_error_free(e);
        return rc;
    }
    return print_fault(r, json);
}
