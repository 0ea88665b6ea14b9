/*
 * Sample GR740 flight software: a cyclic executive on a 100 Hz tick.
 *   every frame : command handler (one line from the UART per frame),
 *                 time-tagged command queue, GPIO heartbeat
 *   10 Hz       : telemetry packet (sequence counter, CRC-16/CCITT)
 *   1 Hz        : housekeeping packet (temperature, SMP counter, errors)
 *   on EDAC errors: EDAC packet (AHBSTAT / data access trap counters)
 *   idle        : memory scrub (bounded work per frame), then power-down
 * Commands (one per line): PING | SET_MODE n | DUMP addr len |
 *   AT ms <command> (time-tagged: run <command> at ms after boot) |
 *   EVLOG | STATUS | EDAC 0|1 (SDRAM EDAC off/on)
 *
 * CONTAINS A PLANTED LATENT ANOMALY (see tests/fsw/ANOMALY.md): the event
 * log index ev_wr is shared between tasks (ev_put) and ISRs (ev_put_isr)
 * without masking interrupts.
 */
#include "bsp.h"
#include "kprintf.h"

void ev_put(uint32_t w);
void ev_put_isr(uint32_t w);
void tt_check(uint32_t t);

#define SECTION(s) __attribute__((section(s), used))

/* ------------------------------------------------------------ events */

#define EV_LOG_LEN      32
#define EV_BOOT         0x01
#define EV_CMD          0x10
#define EV_EDAC_CE      0x9a
#define EV_EDAC_UE      0x9b
#define EV_RX_ERROR     0x9c
#define EV_OVERRUN      0x9e
#define EV_WORD(id, arg) (((uint32_t)(id) << 24) | ((tick_count & 0xffff) << 8) | ((arg) & 0xff))

struct tt_entry {
    uint32_t due;               /* tick at which to run cmd */
    uint32_t used;
    char cmd[48];
};
#define TT_MAX          40

/*
 * The event log and the pointer to the next time-tagged command are
 * neighbours in memory (linker script: .bss.evlog.0 then .bss.evlog.1).
 */
uint32_t ev_log[EV_LOG_LEN] SECTION(".bss.evlog.0");
struct tt_entry *tt_next SECTION(".bss.evlog.1");   /* <- the victim */
volatile uint32_t ev_wr;        /* next free slot of ev_log */
volatile uint32_t ev_total;
volatile uint32_t ev_downlinks;

static struct tt_entry tt_queue[TT_MAX];
static uint32_t tt_next_due = 0xffffffffu;   /* cached tt_next->due */

static uint32_t tm_seq, hk_seq, mode, cmd_count, cmd_errors;
static volatile uint32_t frame_busy, overrun_logged, overruns;
static uint32_t scrub_addr, scrub_sum;

static void tm_send(const char *kind, uint32_t seq, const char *body);

/* Downlink the full event log as one telemetry packet. */
static void ev_downlink(void)
{
    char body[EV_LOG_LEN * 9 + 8];
    unsigned i, n = 0;

    for (i = 0; i < EV_LOG_LEN; i++)
        n += ksnprintf(body + n, sizeof(body) - n, "%s%08x", i ? " " : "", ev_log[i]);
    tm_send("EV", ev_downlinks++, body);
}

/* Task context: append; when the log is full, downlink it and start over. */
__attribute__((noinline)) void ev_put(uint32_t w)
{
    uint32_t i = ev_wr;

    ev_total++;
    ev_log[i] = w;
    ev_wr = ++i;
    if (i == EV_LOG_LEN) {
        /*
         * BUG (planted): interrupts are not masked here.  While the full
         * log is downlinked, ev_wr == EV_LOG_LEN; ev_downlink() can block
         * for tens of milliseconds on the UART TX ring, and an ISR that
         * logs meanwhile (ev_put_isr) writes ev_log[EV_LOG_LEN], i.e. the
         * neighbouring global tt_next.
         */
        ev_downlink();
        ev_wr = 0;
    }
}

/* ISR context: append; never downlinks, keeps overwriting the last slot when full. */
__attribute__((noinline)) void ev_put_isr(uint32_t w)
{
    uint32_t i = ev_wr;

    ev_total++;
    ev_log[i] = w;      /* GUILTY STORE when i == EV_LOG_LEN: overwrites tt_next */
    if (i < EV_LOG_LEN - 1)
        ev_wr = i + 1;
}

/* Timer ISR hook: count frame overruns (once per overrun episode). */
static void app_tick_isr(void)
{
    if (frame_busy && !overrun_logged) {
        overrun_logged = 1;
        overruns++;
        ev_put_isr(EV_WORD(EV_OVERRUN, 1));
    }
}

static void app_uart_error_isr(uint32_t status)
{
    ev_put_isr(EV_WORD(EV_RX_ERROR, status));
}

/* ------------------------------------------------------- telemetry */

/* One ASCII packet: "<kind> <seq> <body> *<crc16 of everything before ' *'>" */
static void tm_send(const char *kind, uint32_t seq, const char *body)
{
    char pkt[400];
    int n = ksnprintf(pkt, sizeof(pkt), "%s %04x %s", kind, seq & 0xffff, body);
    uint16_t crc;

    if (n >= (int)sizeof(pkt))
        n = sizeof(pkt) - 1;
    crc = crc16_ccitt(0xffff, pkt, (size_t)n);
    spin_lock(&print_lock);
    uart_puts(pkt);
    kprintf(" *%04x\n", crc);
    spin_unlock(&print_lock);
}

static void tm_10hz(void)
{
    char body[160];

    ksnprintf(body, sizeof(body), "t=%u mode=%u cmds=%u ev=%u/%u ovr=%u rxerr=%u scrub=%08x",
              tick_count, mode, cmd_count, ev_wr, ev_total, overruns,
              uart_rx_errors, scrub_sum);
    tm_send("TM", tm_seq++, body);
}

static void hk_1hz(void)
{
    char body[160];

    gpio_heartbeat();
    ksnprintf(body, sizeof(body), "up=%us temp=%d cpus=%u smp=%u rxov=%u rxfe=%u cmderr=%u edac=%u/%u",
              tick_count / TICK_HZ, thsens_read(), smp_cpus_up + 1, smp_counter,
              uart_rx_overruns, uart_rx_framing, cmd_errors, edac_ce, edac_ue_traps);
    tm_send("HK", hk_seq++, body);
}

/* EDAC: one EDAC packet per frame in which the error counters moved. */
static uint32_t edac_seen_ce, edac_seen_ue, edac_seq;

static void edac_check(void)
{
    uint32_t ce = edac_ce, ue = edac_ue_traps;
    char body[120];

    if (ce == edac_seen_ce && ue == edac_seen_ue)
        return;
    if (ce != edac_seen_ce)
        ev_put(EV_WORD(EV_EDAC_CE, ce));
    if (ue != edac_seen_ue)
        ev_put(EV_WORD(EV_EDAC_UE, ue));
    edac_seen_ce = ce;
    edac_seen_ue = ue;
    ksnprintf(body, sizeof(body), "ce=%u ue=%u ahberr=%u addr=%08x pc=%08x",
              ce, ue, edac_ahb_err, edac_last_addr, edac_ue_pc);
    tm_send("EDAC", edac_seq++, body);
}

/* ------------------------------------------------------- commands */

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static const char *parse_num(const char *s, uint32_t *v)
{
    uint32_t x = 0;
    int any = 0;

    s = skip_ws(s);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        for (;; s++, any = 1) {
            char c = *s;
            if (c >= '0' && c <= '9') x = x * 16 + (uint32_t)(c - '0');
            else if (c >= 'a' && c <= 'f') x = x * 16 + (uint32_t)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') x = x * 16 + (uint32_t)(c - 'A' + 10);
            else break;
        }
    } else {
        for (; *s >= '0' && *s <= '9'; s++, any = 1)
            x = x * 10 + (uint32_t)(*s - '0');
    }
    *v = x;
    return any ? s : NULL;
}

static int word_is(const char **s, const char *w)
{
    const char *p = *s;

    while (*w && *p == *w) {
        p++;
        w++;
    }
    if (*w || (*p && *p != ' '))
        return 0;
    *s = p;
    return 1;
}

static void reply(const char *fmt, uint32_t a, uint32_t b)
{
    char body[80];

    ksnprintf(body, sizeof(body), fmt, a, b);
    tm_send("ACK", cmd_count, body);
}

static void tt_recompute(void)
{
    unsigned i;

    tt_next = NULL;
    tt_next_due = 0xffffffffu;
    for (i = 0; i < TT_MAX; i++) {
        if (tt_queue[i].used && tt_queue[i].due < tt_next_due) {
            tt_next = &tt_queue[i];
            tt_next_due = tt_queue[i].due;
        }
    }
}

static void cmd_dump(uint32_t addr, uint32_t len)
{
    uint32_t a;
    char line[120];

    if (len > 4096)
        len = 4096;
    addr &= ~3u;
    for (a = addr; a < addr + len; a += 32) {
        unsigned n = ksnprintf(line, sizeof(line), "%08x:", a), k;
        for (k = 0; k < 8 && a + 4 * k < addr + len; k++)
            n += ksnprintf(line + n, sizeof(line) - n, " %08x", REG32(a + 4 * k));
        tm_send("DUMP", a >> 5, line);
    }
}

static void cmd_exec(const char *line)
{
    const char *s = skip_ws(line);
    uint32_t a, b;

    cmd_count++;
    /* executed commands are logged first, then acknowledged */
    if (word_is(&s, "PING")) {
        ev_put(EV_WORD(EV_CMD, 1));
        reply("PING", 0, 0);
    } else if (word_is(&s, "SET_MODE") && parse_num(s, &a)) {
        mode = a;
        ev_put(EV_WORD(EV_CMD, 2));
        reply("SET_MODE %u", a, 0);
    } else if (word_is(&s, "DUMP") && (s = parse_num(s, &a)) && parse_num(s, &b)) {
        cmd_dump(a, b);
        ev_put(EV_WORD(EV_CMD, 3));
        reply("DUMP %08x %u", a, b);
    } else if (word_is(&s, "AT") && (s = parse_num(s, &a))) {
        unsigned i;
        s = skip_ws(s);
        for (i = 0; i < TT_MAX && tt_queue[i].used; i++)
            ;
        if (i == TT_MAX || !*s) {
            cmd_errors++;
            reply("AT rejected", 0, 0);
            return;
        }
        tt_queue[i].due = a / (1000 / TICK_HZ);
        tt_queue[i].used = 1;
        ksnprintf(tt_queue[i].cmd, sizeof(tt_queue[i].cmd), "%s", s);
        tt_recompute();
        reply("AT %u slot %u", a, i);
    } else if (word_is(&s, "EDAC") && parse_num(s, &a)) {
        reply("EDAC %u", edac_enable(a != 0), 0);
    } else if (word_is(&s, "EVLOG")) {
        ev_downlink();
    } else if (word_is(&s, "STATUS")) {
        reply("STATUS mode=%u ev_wr=%u", mode, ev_wr);
    } else {
        cmd_errors++;
        reply("NAK", 0, 0);
    }
}

/* Time-tagged commands: the per-frame check only compares the cached due tick. */
__attribute__((noinline)) void tt_check(uint32_t t)
{
    struct tt_entry *e;
    char cmd[48];

    if (t < tt_next_due)
        return;
    e = tt_next;
    if (t - e->due > 5 * TICK_HZ) {         /* word load through tt_next */
        spin_lock(&print_lock);
        kprintf("TT late by %u ticks\n", t - e->due);
        spin_unlock(&print_lock);
    }
    memcpy(cmd, e->cmd, sizeof(cmd));
    e->used = 0;
    tt_recompute();                         /* free the slot first ... */
    cmd_exec(cmd);                          /* ... so cmd may schedule again */
}

static char cmd_line[64];
static unsigned cmd_len;

/* Collect UART bytes; execute at most one complete line per frame. */
static void cmd_poll(void)
{
    int c;

    while ((c = uart_getc()) >= 0) {
        if (c == '\r' || c == '\n') {
            if (cmd_len) {
                cmd_line[cmd_len] = 0;
                cmd_len = 0;
                cmd_exec(cmd_line);
                return;
            }
        } else if (cmd_len < sizeof(cmd_line) - 1) {
            cmd_line[cmd_len++] = (char)c;
        }
    }
}

/* ------------------------------------------------------------ idle */

static void scrub_step(void)
{
    uint32_t k, s = scrub_sum;

    for (k = 0; k < 64; k++)
        s = (s << 1 | s >> 31) ^ REG32(scrub_addr + 4 * k);
    scrub_sum = s;
    scrub_addr += 256;
    if (scrub_addr >= 0x00010000u)      /* the FSW's own 64 KiB */
        scrub_addr = 0;
}

static void power_down(void)
{
    __asm__ volatile("wr %%g0, %%asr19" : : : "memory");
}

#define SCRUB_STEPS_PER_FRAME 4000   /* about 1.4e6 instructions: ~55% of a 10 ms frame at 250 MHz */

void app_main(void)
{
    uint32_t last = tick_count, steps = 0;

    tick_hook = app_tick_isr;
    uart_error_hook = app_uart_error_isr;
    ev_put(EV_WORD(EV_BOOT, 0));
    spin_lock(&print_lock);     /* CPUs 1..3 may be printing */
    kprintf("FSW: cyclic executive running, %u Hz frame\n", TICK_HZ);
    spin_unlock(&print_lock);
    for (;;) {
        uint32_t t;

        while ((t = tick_count) == last) {
            if (steps < SCRUB_STEPS_PER_FRAME) {
                scrub_step();
                steps++;
            } else if (bsp_can_sleep()) {
                power_down();
            }
            bsp_poll();
        }
        last = t;
        steps = 0;
        frame_busy = 1;
        cmd_poll();
        tt_check(t);
        edac_check();
        if (t % 10 == 0)
            tm_10hz();
        if (t % TICK_HZ == 50)
            hk_1hz();
        frame_busy = 0;
        overrun_logged = 0;
    }
}
