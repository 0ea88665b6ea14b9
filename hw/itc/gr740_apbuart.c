/*
 * ITC workbench: GR740 APBUART (GRLIB APBUART with FIFOs)
 *
 * Model of the APBUART cores of the GR740 (APBUART0/1).  Unlike
 * hw/char/grlib_apbuart.c it keeps real receive and transmit FIFOs with
 * their levels, shifts characters at the programmed baud rate on the
 * virtual clock, flags receive overrun in STATUS.OV instead of aborting,
 * and has complete migration state.
 *
 * Timing: a character takes 10 bit times; one bit time is 8 * (SCALER + 1)
 * system clocks (GRLIB APBUART: baud = f_sys / (8 * (scaler + 1))).
 * Transmission drains the TX FIFO one character per character time into
 * the chardev.  Reception models the serial line: bytes from the chardev
 * (the recorded input path, so record/replay stays exact) queue on the
 * "line" (a buffer of line-buffer bytes standing for the remote sender)
 * and reach the RX FIFO one character per character time; a character
 * arriving while the RX FIFO is full is lost and STATUS.OV is set, as on
 * hardware.  The line buffer matters under record/replay: there, chardev
 * input reaches the device as asynchronous replay events, so a host burst
 * may arrive before the device could have asked for it; the line absorbs
 * it instead of overrunning the 32-byte FIFO at host speed.
 *
 * Fault injection (gr740_apbuart_inject, VMState subsection "fault"):
 * characters are dropped or corrupted as they complete on the line (so a
 * fault injected at an instruction count hits the next characters that
 * arrive after it); injected FE/PE/OV flags behave like the sticky flags
 * of a received bad character.  Model decision (UNCONFIRMED): an injected
 * error flag raises the receive interrupt when CTRL.RI is set, as the
 * character with the error would have.
 *
 * Recorded input, again (rx-log / rx-feed, the machine's uart-rx-log /
 * uart-rx-feed for APBUART0): with rx-log=FILE every delivery from the
 * chardev to the line is appended to FILE as one line
 *
 *     COUNT ICOUNT VIRTUAL_NS HEXBYTES
 *
 * (COUNT: bytes the line took before this delivery, ICOUNT and VIRTUAL_NS:
 * the instant).  A live QEMU started from a snapshot of that run with
 * rx-feed=FILE gets the deliveries the snapshot had not seen (COUNT at or
 * past its "rx-count") at their VIRTUAL_NS, from a virtual-clock timer:
 * under icount that is the recorded instruction count too, so the live run
 * receives the recording's input exactly as the recording did (itc
 * restore).  A delivery at another instruction count (the live run has
 * left the recording) is warned about once.  The line's byte count
 * "rx-count" is migrated (subsection "rx-count") and never reset; the log
 * and the feed are run control of one process, not device state.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qemu/fifo8.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "chardev/char-fe.h"
#include "migration/vmstate.h"
#include "system/cpu-timers.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

OBJECT_DECLARE_SIMPLE_TYPE(GR740APBUARTState, GR740_APBUART)

REG32(DATA, 0x00)
    FIELD(DATA, DATA, 0, 8)
REG32(STATUS, 0x04)
    FIELD(STATUS, DR, 0, 1)
    FIELD(STATUS, TS, 1, 1)
    FIELD(STATUS, TE, 2, 1)
    FIELD(STATUS, BR, 3, 1)
    FIELD(STATUS, OV, 4, 1)
    FIELD(STATUS, PE, 5, 1)
    FIELD(STATUS, FE, 6, 1)
    FIELD(STATUS, TH, 7, 1)
    FIELD(STATUS, RH, 8, 1)
    FIELD(STATUS, TF, 9, 1)
    FIELD(STATUS, RF, 10, 1)
    FIELD(STATUS, TCNT, 20, 6)
    FIELD(STATUS, RCNT, 26, 6)
REG32(CTRL, 0x08)
    FIELD(CTRL, RE, 0, 1)
    FIELD(CTRL, TE, 1, 1)
    FIELD(CTRL, RI, 2, 1)
    FIELD(CTRL, TI, 3, 1)
    FIELD(CTRL, PS, 4, 1)
    FIELD(CTRL, PE, 5, 1)
    FIELD(CTRL, FL, 6, 1)
    FIELD(CTRL, LB, 7, 1)
    FIELD(CTRL, EC, 8, 1)
    FIELD(CTRL, TF, 9, 1)
    FIELD(CTRL, RF, 10, 1)
    FIELD(CTRL, DB, 11, 1)
    FIELD(CTRL, BI, 12, 1)
    FIELD(CTRL, DI, 13, 1)
    FIELD(CTRL, SI, 14, 1)
    FIELD(CTRL, FA, 31, 1)
REG32(SCALER, 0x0C)
    FIELD(SCALER, RELOAD, 0, 20)
REG32(FIFO, 0x10)
    FIELD(FIFO, DATA, 0, 8)

#define APBUART_REG_SIZE 0x100
/* Sticky error flags, cleared by writing 0 to them in STATUS. */
#define STATUS_STICKY (R_STATUS_BR_MASK | R_STATUS_OV_MASK | \
                       R_STATUS_PE_MASK | R_STATUS_FE_MASK)
/* CTRL bits software can write (FA is read-only; the rest is stored). */
#define CTRL_WRITABLE 0x00007FFFu
#define APBUART_FIFO_MAX 63 /* TCNT/RCNT are 6-bit fields */
#define APBUART_LINE_MAX 65536
#define APBUART_FEED_MAX_FILE (256 * MiB)

/* One delivery of recorded input (rx-feed). */
typedef struct ApbuartFeed {
    uint64_t count;     /* bytes the line had taken before it */
    uint64_t icount;    /* the recorded instant */
    int64_t clock_ns;
    uint8_t *data;
    uint32_t len;
} ApbuartFeed;

struct GR740APBUARTState {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    qemu_irq irq;
    CharBackend chr;
    QEMUTimer *tx_timer;
    QEMUTimer *rx_timer;

    /* Guest-visible state */
    uint32_t ctrl;
    uint32_t status_sticky; /* BR, OV, PE, FE */
    uint32_t scaler;
    Fifo8 rx_fifo;
    Fifo8 tx_fifo;
    Fifo8 rx_line;      /* bytes on the serial line, not yet received */
    bool tx_shifting;   /* a character is in the transmit shift register */
    bool rx_busy;       /* the receiver is within a character time */
    uint32_t line_size;

    /* Injected faults */
    uint32_t fault_drop;    /* characters still to lose */
    uint32_t fault_corrupt; /* characters still to XOR with fault_xor */
    uint8_t fault_xor;

    /* Configuration */
    uint32_t fifo_size;
    uint32_t freq_hz;

    /*
     * Bytes handed to the chardev by this QEMU process ("tx-bytes"; the
     * length of a file chardev's output).  Not device state: not migrated,
     * not reset.
     */
    uint64_t tx_bytes;

    /* Bytes the line took from the chardev or the feed; migrated, not reset */
    uint64_t rx_count;

    /* rx-log / rx-feed: run control of this process, not migrated */
    char *rx_log_path;
    FILE *rx_log;
    bool rx_log_failed;
    char *rx_feed_path;
    GArray *rx_feed;            /* ApbuartFeed by count */
    guint rx_feed_next;
    QEMUTimer *feed_timer;
    bool feed_warned;
};

static int64_t apbuart_char_time_ns(GR740APBUARTState *s)
{
    uint64_t clocks = 10ull * 8 * ((uint64_t)s->scaler + 1);

    return MAX(1, muldiv64(clocks, NANOSECONDS_PER_SECOND, s->freq_hz));
}

static uint32_t apbuart_status(GR740APBUARTState *s)
{
    uint32_t rx = fifo8_num_used(&s->rx_fifo);
    uint32_t tx = fifo8_num_used(&s->tx_fifo);
    uint32_t half = s->fifo_size / 2;
    uint32_t st = s->status_sticky;

    st = FIELD_DP32(st, STATUS, DR, rx > 0);
    st = FIELD_DP32(st, STATUS, TS, tx == 0 && !s->tx_shifting);
    st = FIELD_DP32(st, STATUS, TE, tx == 0);
    st = FIELD_DP32(st, STATUS, TH, tx < half || tx == 0);
    st = FIELD_DP32(st, STATUS, RH, rx >= half && rx > 0);
    st = FIELD_DP32(st, STATUS, TF, tx == s->fifo_size);
    st = FIELD_DP32(st, STATUS, RF, rx == s->fifo_size);
    st = FIELD_DP32(st, STATUS, TCNT, tx);
    st = FIELD_DP32(st, STATUS, RCNT, rx);
    return st;
}

/*
 * Level part of the interrupt: the FIFO interrupts (CTRL.RF while the RX
 * FIFO is at least half full, CTRL.TF while the TX FIFO is less than half
 * full).  Event interrupts (RI per received character, TI per transmitted
 * character) are pulses on top of it.
 */
static bool apbuart_irq_level(GR740APBUARTState *s)
{
    uint32_t st = apbuart_status(s);

    return (FIELD_EX32(s->ctrl, CTRL, RF) && FIELD_EX32(st, STATUS, RH)) ||
           (FIELD_EX32(s->ctrl, CTRL, TF) && FIELD_EX32(s->ctrl, CTRL, TE) &&
            FIELD_EX32(st, STATUS, TH));
}

static void apbuart_update_irq(GR740APBUARTState *s)
{
    int level = apbuart_irq_level(s);

    trace_gr740_apbuart_irq(level);
    qemu_set_irq(s->irq, level);
}

static void apbuart_event_irq(GR740APBUARTState *s)
{
    if (!apbuart_irq_level(s)) {
        qemu_irq_raise(s->irq);
    }
    apbuart_update_irq(s);
}

static void apbuart_rx_push(GR740APBUARTState *s, uint8_t ch)
{
    if (fifo8_is_full(&s->rx_fifo)) {
        trace_gr740_apbuart_overrun(ch);
        s->status_sticky |= R_STATUS_OV_MASK;
        apbuart_update_irq(s);
        return;
    }
    fifo8_push(&s->rx_fifo, ch);
    trace_gr740_apbuart_rx(ch, fifo8_num_used(&s->rx_fifo));
    if (FIELD_EX32(s->ctrl, CTRL, RI)) {
        apbuart_event_irq(s);
    } else {
        apbuart_update_irq(s);
    }
}

/* Start shifting the next character out, if there is one. */
static void apbuart_tx_kick(GR740APBUARTState *s)
{
    if (s->tx_shifting || fifo8_is_empty(&s->tx_fifo) ||
        !FIELD_EX32(s->ctrl, CTRL, TE)) {
        return;
    }
    s->tx_shifting = true;
    timer_mod(s->tx_timer,
              qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + apbuart_char_time_ns(s));
}

/* End of a character time: the character in the shift register is sent. */
static void apbuart_tx_done(void *opaque)
{
    GR740APBUARTState *s = opaque;
    uint8_t ch;

    if (!s->tx_shifting || fifo8_is_empty(&s->tx_fifo)) {
        s->tx_shifting = false;
        return;
    }
    ch = fifo8_pop(&s->tx_fifo);
    s->tx_shifting = false;
    trace_gr740_apbuart_tx(ch);
    if (FIELD_EX32(s->ctrl, CTRL, LB)) {
        apbuart_rx_push(s, ch);
    } else {
        /* Blocking write: output never depends on host timing. */
        if (qemu_chr_fe_write_all(&s->chr, &ch, 1) == 1) {
            s->tx_bytes++;
        }
    }
    apbuart_tx_kick(s);
    if (FIELD_EX32(s->ctrl, CTRL, TI)) {
        apbuart_event_irq(s);
    } else {
        apbuart_update_irq(s);
    }
}

/* Start shifting in the next character from the line, if there is one. */
static void apbuart_rx_kick(GR740APBUARTState *s)
{
    if (s->rx_busy || fifo8_is_empty(&s->rx_line)) {
        return;
    }
    s->rx_busy = true;
    timer_mod(s->rx_timer,
              qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + apbuart_char_time_ns(s));
}

/* End of a receive character time: the character enters the RX FIFO. */
static void apbuart_rx_done(void *opaque)
{
    GR740APBUARTState *s = opaque;

    s->rx_busy = false;
    if (!fifo8_is_empty(&s->rx_line)) {
        uint8_t ch = fifo8_pop(&s->rx_line);

        if (s->fault_drop) {
            s->fault_drop--;
            trace_gr740_apbuart_fault_drop(ch);
        } else if (FIELD_EX32(s->ctrl, CTRL, RE)) {
            if (s->fault_corrupt) {
                s->fault_corrupt--;
                ch ^= s->fault_xor;
                trace_gr740_apbuart_fault_corrupt(ch);
            }
            apbuart_rx_push(s, ch);
        } else {
            trace_gr740_apbuart_rx_off(ch);
        }
    }
    apbuart_rx_kick(s);
    qemu_chr_fe_accept_input(&s->chr);
}

void gr740_apbuart_inject(DeviceState *dev, uint32_t drop, uint32_t corrupt,
                          uint8_t xor_mask, uint32_t error_bits)
{
    GR740APBUARTState *s = GR740_APBUART(dev);

    s->fault_drop = MIN((uint64_t)s->fault_drop + drop, UINT32_MAX);
    if (corrupt) {
        s->fault_corrupt = MIN((uint64_t)s->fault_corrupt + corrupt,
                               UINT32_MAX);
        s->fault_xor = xor_mask;
    }
    error_bits &= R_STATUS_FE_MASK | R_STATUS_PE_MASK | R_STATUS_OV_MASK;
    if (error_bits) {
        s->status_sticky |= error_bits;
        if (FIELD_EX32(s->ctrl, CTRL, RI)) {
            apbuart_event_irq(s);
        } else {
            apbuart_update_irq(s);
        }
    }
}

static int apbuart_can_receive(void *opaque)
{
    GR740APBUARTState *s = opaque;

    /* The line takes bytes only while the receiver is on. */
    if (!FIELD_EX32(s->ctrl, CTRL, RE) || FIELD_EX32(s->ctrl, CTRL, LB)) {
        return 0;
    }
    return fifo8_num_free(&s->rx_line);
}

/* rx-log: one line per delivery (see the top of this file). */
static void apbuart_rx_log(GR740APBUARTState *s, const uint8_t *buf, int size)
{
    int i;

    if (!s->rx_log || s->rx_log_failed) {
        return;
    }
    fprintf(s->rx_log, "%" PRIu64 " %" PRId64 " %" PRId64 " ", s->rx_count,
            icount_get_raw(), qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    for (i = 0; i < size; i++) {
        fprintf(s->rx_log, "%02x", buf[i]);
    }
    fputc('\n', s->rx_log);
    if (fflush(s->rx_log) != 0 || ferror(s->rx_log)) {
        warn_report("gr740-apbuart: rx-log %s: %s; no more input is logged",
                    s->rx_log_path, strerror(errno));
        s->rx_log_failed = true;
    }
}

/* Bytes arrive on the line (from the chardev or the feed). */
static void apbuart_line_take(GR740APBUARTState *s, const uint8_t *buf,
                              int size)
{
    int i;

    apbuart_rx_log(s, buf, size);
    s->rx_count += size;
    for (i = 0; i < size; i++) {
        if (fifo8_is_full(&s->rx_line)) {
            /* Only possible when a replayed burst exceeds what was asked. */
            trace_gr740_apbuart_line_full(size - i);
            break;
        }
        fifo8_push(&s->rx_line, buf[i]);
    }
    apbuart_rx_kick(s);
}

static void apbuart_receive(void *opaque, const uint8_t *buf, int size)
{
    apbuart_line_take(opaque, buf, size);
}

/* Arm the feed timer for the next recorded delivery, if any. */
static void apbuart_feed_aim(GR740APBUARTState *s)
{
    ApbuartFeed *e;

    if (!s->rx_feed) {
        return;
    }
    if (s->rx_feed_next >= s->rx_feed->len) {
        timer_del(s->feed_timer);
        return;
    }
    e = &g_array_index(s->rx_feed, ApbuartFeed, s->rx_feed_next);
    /* a deadline already past fires at the next timer run */
    timer_mod(s->feed_timer, e->clock_ns);
}

/* After a state load: the first delivery the loaded state has not had. */
static void apbuart_feed_seek(GR740APBUARTState *s)
{
    guint i = 0;

    if (!s->rx_feed) {
        return;
    }
    while (i < s->rx_feed->len &&
           g_array_index(s->rx_feed, ApbuartFeed, i).count < s->rx_count) {
        i++;
    }
    s->rx_feed_next = i;
    apbuart_feed_aim(s);
}

static void apbuart_feed_fire(void *opaque)
{
    GR740APBUARTState *s = opaque;
    ApbuartFeed *e;
    int64_t icount = icount_get_raw();
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    if (!s->rx_feed || s->rx_feed_next >= s->rx_feed->len) {
        return;
    }
    e = &g_array_index(s->rx_feed, ApbuartFeed, s->rx_feed_next++);
    trace_gr740_apbuart_feed(e->len, e->count, icount, e->icount);
    if ((icount != (int64_t)e->icount || s->rx_count != e->count ||
         now != e->clock_ns) && !s->feed_warned) {
        warn_report("gr740-apbuart: recorded input (byte %" PRIu64 " on) "
                    "arrives at icount %" PRId64 ", %" PRId64 " ns, after "
                    "%" PRIu64 " bytes; the recording had it at icount "
                    "%" PRIu64 ", %" PRId64 " ns: this run has left the "
                    "recording", e->count, icount, now, s->rx_count,
                    e->icount, e->clock_ns);
        s->feed_warned = true;
    }
    apbuart_line_take(s, e->data, e->len);
    apbuart_feed_aim(s);
}

static void apbuart_feed_free(gpointer p)
{
    g_free(((ApbuartFeed *)p)->data);
}

/* Parse one rx-log line into @e; false if it is not one. */
static bool apbuart_feed_parse(const char *line, ApbuartFeed *e)
{
    const char *p = line;
    uint64_t clock;
    size_t n;

    if (qemu_strtou64(p, &p, 10, &e->count) || *p++ != ' ' ||
        qemu_strtou64(p, &p, 10, &e->icount) || *p++ != ' ' ||
        qemu_strtou64(p, &p, 10, &clock) || *p++ != ' ' ||
        clock > INT64_MAX) {
        return false;
    }
    e->clock_ns = clock;
    n = strlen(p);
    if (n == 0 || n % 2 || n / 2 > APBUART_LINE_MAX) {
        return false;
    }
    e->len = n / 2;
    e->data = g_malloc(e->len);
    for (uint32_t i = 0; i < e->len; i++) {
        int hi = g_ascii_xdigit_value(p[2 * i]);
        int lo = g_ascii_xdigit_value(p[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            g_free(e->data);
            return false;
        }
        e->data[i] = hi << 4 | lo;
    }
    return true;
}

/* Read rx-feed: deliveries with contiguous counts from 0, in time order. */
static bool apbuart_feed_load(GR740APBUARTState *s, Error **errp)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GArray) feed = g_array_new(false, false, sizeof(ApbuartFeed));
    GError *gerr = NULL;
    uint64_t count = 0, icount = 0;
    int64_t clock = 0;
    gsize size;
    struct stat st;

    g_array_set_clear_func(feed, apbuart_feed_free);
    if (stat(s->rx_feed_path, &st) == 0 && st.st_size > APBUART_FEED_MAX_FILE) {
        error_setg(errp, "gr740-apbuart: rx-feed %s: larger than %d MiB",
                   s->rx_feed_path, (int)(APBUART_FEED_MAX_FILE / MiB));
        return false;
    }
    if (!g_file_get_contents(s->rx_feed_path, &text, &size, &gerr)) {
        error_setg(errp, "gr740-apbuart: rx-feed: %s", gerr->message);
        g_error_free(gerr);
        return false;
    }
    if (strlen(text) != size) {
        error_setg(errp, "gr740-apbuart: rx-feed %s: not an rx-log file",
                   s->rx_feed_path);
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        ApbuartFeed e;

        if (!lines[i][0] || lines[i][0] == '#') {
            continue;
        }
        if (!apbuart_feed_parse(lines[i], &e)) {
            error_setg(errp, "gr740-apbuart: rx-feed %s line %u: not "
                       "\"COUNT ICOUNT VIRTUAL_NS HEXBYTES\"",
                       s->rx_feed_path, i + 1);
            return false;
        }
        g_array_append_val(feed, e);
        if (e.count != count || e.icount < icount || e.clock_ns < clock) {
            error_setg(errp, "gr740-apbuart: rx-feed %s line %u: byte count "
                       "%" PRIu64 " (expected %" PRIu64 ") or instant out of "
                       "order", s->rx_feed_path, i + 1, e.count, count);
            return false;
        }
        count += e.len;
        icount = e.icount;
        clock = e.clock_ns;
    }
    s->rx_feed = g_steal_pointer(&feed);
    return true;
}

static void apbuart_event(void *opaque, QEMUChrEvent event)
{
    GR740APBUARTState *s = opaque;

    if (event == CHR_EVENT_BREAK && FIELD_EX32(s->ctrl, CTRL, RE)) {
        s->status_sticky |= R_STATUS_BR_MASK;
        if (FIELD_EX32(s->ctrl, CTRL, BI)) {
            apbuart_event_irq(s);
        }
    }
}

static uint64_t apbuart_read(void *opaque, hwaddr offset, unsigned size)
{
    GR740APBUARTState *s = opaque;
    uint32_t r = 0;

    switch (offset) {
    case A_DATA:
        if (!fifo8_is_empty(&s->rx_fifo)) {
            r = fifo8_pop(&s->rx_fifo);
            apbuart_update_irq(s);
            qemu_chr_fe_accept_input(&s->chr);
        }
        break;
    case A_STATUS:
        r = apbuart_status(s);
        break;
    case A_CTRL:
        r = s->ctrl | R_CTRL_FA_MASK;
        break;
    case A_SCALER:
        r = s->scaler;
        break;
    case A_FIFO:
        if (!FIELD_EX32(s->ctrl, CTRL, DB)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "gr740-apbuart: FIFO debug read with CTRL.DB clear\n");
        } else if (!fifo8_is_empty(&s->tx_fifo)) {
            /* Debug mode: software reads what was queued for transmission. */
            r = fifo8_pop(&s->tx_fifo);
            apbuart_update_irq(s);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "gr740-apbuart: read of undefined offset 0x%" HWADDR_PRIx
                      "\n", offset);
        break;
    }
    trace_gr740_apbuart_read(offset, r);
    return r;
}

static void apbuart_write(void *opaque, hwaddr offset, uint64_t value,
                          unsigned size)
{
    GR740APBUARTState *s = opaque;
    uint32_t v = value;

    trace_gr740_apbuart_write(offset, v);
    switch (offset) {
    case A_DATA:
        if (fifo8_is_full(&s->tx_fifo)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "gr740-apbuart: write to full TX FIFO, 0x%02x lost\n",
                          v & 0xff);
            break;
        }
        fifo8_push(&s->tx_fifo, v & 0xff);
        apbuart_tx_kick(s);
        apbuart_update_irq(s);
        break;
    case A_STATUS:
        /* Sticky error flags are cleared by writing zero to them. */
        s->status_sticky &= v & STATUS_STICKY;
        apbuart_update_irq(s);
        break;
    case A_CTRL:
        s->ctrl = v & CTRL_WRITABLE;
        apbuart_tx_kick(s);
        apbuart_update_irq(s);
        qemu_chr_fe_accept_input(&s->chr);
        break;
    case A_SCALER:
        s->scaler = FIELD_EX32(v, SCALER, RELOAD);
        break;
    case A_FIFO:
        if (!FIELD_EX32(s->ctrl, CTRL, DB)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "gr740-apbuart: FIFO debug write with CTRL.DB clear\n");
        } else {
            /* Debug mode: software writes the receive FIFO. */
            apbuart_rx_push(s, v & 0xff);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "gr740-apbuart: write of undefined offset 0x%" HWADDR_PRIx
                      " (0x%08x)\n", offset, v);
        break;
    }
}

static const MemoryRegionOps apbuart_ops = {
    .read = apbuart_read,
    .write = apbuart_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 4,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

/*
 * The whole FIFO buffer goes into the migration stream, used slots or not:
 * keep the unused ones zero rather than whatever the host heap held, so that
 * snapshots of the same state are identical (and hold no host data).
 */
static void apbuart_fifo_clear(Fifo8 *f)
{
    fifo8_reset(f);
    memset(f->data, 0, f->capacity);
}

static void apbuart_reset_hold(Object *obj, ResetType type)
{
    GR740APBUARTState *s = GR740_APBUART(obj);

    s->ctrl = 0;
    s->status_sticky = 0;
    s->scaler = 0;
    s->tx_shifting = false;
    s->rx_busy = false;
    s->fault_drop = s->fault_corrupt = 0;
    s->fault_xor = 0;
    apbuart_fifo_clear(&s->rx_fifo);
    apbuart_fifo_clear(&s->tx_fifo);
    apbuart_fifo_clear(&s->rx_line);
    timer_del(s->tx_timer);
    timer_del(s->rx_timer);
    qemu_set_irq(s->irq, 0);
}

static void apbuart_realize(DeviceState *dev, Error **errp)
{
    GR740APBUARTState *s = GR740_APBUART(dev);

    if (s->fifo_size < 1 || s->fifo_size > APBUART_FIFO_MAX) {
        error_setg(errp, "gr740-apbuart: fifo-size must be 1..%d, not %u",
                   APBUART_FIFO_MAX, s->fifo_size);
        return;
    }
    if (s->freq_hz == 0) {
        error_setg(errp, "gr740-apbuart: frequency must not be 0");
        return;
    }
    if (s->line_size < 1 || s->line_size > APBUART_LINE_MAX) {
        error_setg(errp, "gr740-apbuart: line-buffer must be 1..%d, not %u",
                   APBUART_LINE_MAX, s->line_size);
        return;
    }
    if ((s->rx_log_path || s->rx_feed_path) && !icount_enabled()) {
        error_setg(errp, "gr740-apbuart: rx-log and rx-feed need -icount");
        return;
    }
    if (s->rx_feed_path && !apbuart_feed_load(s, errp)) {
        return;
    }
    if (s->rx_log_path) {
        s->rx_log = fopen(s->rx_log_path, "w");
        if (!s->rx_log) {
            error_setg_errno(errp, errno, "gr740-apbuart: rx-log %s",
                             s->rx_log_path);
            g_clear_pointer(&s->rx_feed, g_array_unref);
            return;
        }
        fprintf(s->rx_log, "# gr740-apbuart rx-log 1: COUNT ICOUNT "
                "VIRTUAL_NS HEXBYTES\n");
        fflush(s->rx_log);
    }
    fifo8_create(&s->rx_fifo, s->fifo_size);
    fifo8_create(&s->rx_line, s->line_size);
    fifo8_create(&s->tx_fifo, s->fifo_size);
    s->tx_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, apbuart_tx_done, s);
    s->rx_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, apbuart_rx_done, s);
    if (s->rx_feed) {
        s->feed_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, apbuart_feed_fire, s);
        apbuart_feed_seek(s);
    }
    qemu_chr_fe_set_handlers(&s->chr, apbuart_can_receive, apbuart_receive,
                             apbuart_event, NULL, s, NULL, true);
}

static void apbuart_unrealize(DeviceState *dev)
{
    GR740APBUARTState *s = GR740_APBUART(dev);

    timer_free(s->tx_timer);
    timer_free(s->rx_timer);
    if (s->feed_timer) {
        timer_free(s->feed_timer);
    }
    if (s->rx_feed) {
        g_array_free(s->rx_feed, true);
    }
    if (s->rx_log) {
        fclose(s->rx_log);
    }
    fifo8_destroy(&s->rx_fifo);
    fifo8_destroy(&s->tx_fifo);
    fifo8_destroy(&s->rx_line);
}

static void apbuart_init(Object *obj)
{
    GR740APBUARTState *s = GR740_APBUART(obj);

    memory_region_init_io(&s->iomem, obj, &apbuart_ops, s, TYPE_GR740_APBUART,
                          APBUART_REG_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
    object_property_add_uint64_ptr(obj, "tx-bytes", &s->tx_bytes,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "rx-count", &s->rx_count,
                                   OBJ_PROP_FLAG_READ);
}

static int apbuart_post_load(void *opaque, int version_id)
{
    GR740APBUARTState *s = opaque;

    if (s->scaler > R_SCALER_RELOAD_MASK || (s->ctrl & ~CTRL_WRITABLE)) {
        return -EINVAL;
    }
    apbuart_feed_seek(s);
    return 0;
}

static bool apbuart_rx_count_needed(void *opaque)
{
    GR740APBUARTState *s = opaque;

    return s->rx_count != 0;
}

static const VMStateDescription vmstate_gr740_apbuart_rx_count = {
    .name = TYPE_GR740_APBUART "/rx-count",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = apbuart_rx_count_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(rx_count, GR740APBUARTState),
        VMSTATE_END_OF_LIST()
    },
};

static bool apbuart_fault_needed(void *opaque)
{
    GR740APBUARTState *s = opaque;

    return s->fault_drop || s->fault_corrupt;
}

static const VMStateDescription vmstate_gr740_apbuart_fault = {
    .name = TYPE_GR740_APBUART "/fault",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = apbuart_fault_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(fault_drop, GR740APBUARTState),
        VMSTATE_UINT32(fault_corrupt, GR740APBUARTState),
        VMSTATE_UINT8(fault_xor, GR740APBUARTState),
        VMSTATE_END_OF_LIST()
    },
};

static int apbuart_pre_load(void *opaque)
{
    GR740APBUARTState *s = opaque;

    s->fault_drop = s->fault_corrupt = 0;   /* absent subsection: none */
    s->fault_xor = 0;
    s->rx_count = 0;                        /* absent subsection: none */
    return 0;
}

static const VMStateDescription vmstate_gr740_apbuart = {
    .name = TYPE_GR740_APBUART,
    .version_id = 2,
    .minimum_version_id = 2,
    .pre_load = apbuart_pre_load,
    .post_load = apbuart_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, GR740APBUARTState),
        VMSTATE_UINT32(status_sticky, GR740APBUARTState),
        VMSTATE_UINT32(scaler, GR740APBUARTState),
        VMSTATE_FIFO8(rx_fifo, GR740APBUARTState),
        VMSTATE_FIFO8(tx_fifo, GR740APBUARTState),
        VMSTATE_FIFO8(rx_line, GR740APBUARTState),
        VMSTATE_BOOL(tx_shifting, GR740APBUARTState),
        VMSTATE_BOOL(rx_busy, GR740APBUARTState),
        VMSTATE_TIMER_PTR(tx_timer, GR740APBUARTState),
        VMSTATE_TIMER_PTR(rx_timer, GR740APBUARTState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_gr740_apbuart_fault,
        &vmstate_gr740_apbuart_rx_count,
        NULL
    },
};

static const Property apbuart_properties[] = {
    DEFINE_PROP_CHR("chardev", GR740APBUARTState, chr),
    DEFINE_PROP_UINT32("fifo-size", GR740APBUARTState, fifo_size, 32),
    DEFINE_PROP_UINT32("line-buffer", GR740APBUARTState, line_size, 4096),
    DEFINE_PROP_UINT32("frequency", GR740APBUARTState, freq_hz,
                       GR740_SYS_FREQ_HZ),
    DEFINE_PROP_STRING("rx-log", GR740APBUARTState, rx_log_path),
    DEFINE_PROP_STRING("rx-feed", GR740APBUARTState, rx_feed_path),
};

static void apbuart_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = apbuart_realize;
    dc->unrealize = apbuart_unrealize;
    dc->vmsd = &vmstate_gr740_apbuart;
    rc->phases.hold = apbuart_reset_hold;
    device_class_set_props(dc, apbuart_properties);
    set_bit(DEVICE_CATEGORY_INPUT, dc->categories);
}

static const TypeInfo apbuart_info = {
    .name = TYPE_GR740_APBUART,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(GR740APBUARTState),
    .instance_init = apbuart_init,
    .class_init = apbuart_class_init,
};

static void apbuart_register_types(void)
{
    type_register_static(&apbuart_info);
}

type_init(apbuart_register_types)
