/*
 * Mini GR740 BSP: plug&play scan, IRQ(A)MP dispatch (incl. extended
 * interrupts), GPTIMER0 1 MHz tick, interrupt-driven APBUART, GRGPIO
 * heartbeat, temperature sensor, SMP start with a casa spinlock.
 * Register layouts: shared/gr740/FACTS.md section 3.
 */
#include <stdarg.h>
#include "bsp.h"
#include "kprintf.h"

struct pnp_dev pnp_devs[PNP_MAX];
unsigned pnp_count;

static uint32_t irqamp_base;
static unsigned irqamp_eirq;
static uint32_t uart_base = APBUART0_BASE;
static uint32_t gpt_base;
static uint32_t gpio_base;
static uint32_t ths_base;

volatile uint32_t irq_nesting;
volatile uint32_t irq_spurious;
static irq_handler_t irq_fn[32];
static void *irq_arg[32];

spinlock_t uart_lock;       /* TX ring + UART CTRL; taken with irqs masked */
spinlock_t print_lock;      /* whole messages; never taken in an ISR */
spinlock_t counter_lock;

volatile uint32_t smp_cpus_up;
volatile uint32_t smp_counter;
volatile uint32_t tick_count;
void (*tick_hook)(void);
void (*uart_error_hook)(uint32_t status);
volatile uint32_t uart_rx_errors, uart_rx_overruns, uart_rx_framing;

/* fatal trap record, for the debugger */
volatile uint32_t fatal_tt, fatal_pc, fatal_npc;

/* ---------------------------------------------------------------- CPU */

unsigned cpu_index(void)
{
    uint32_t v;
    __asm__ volatile("rd %%asr17, %0" : "=r"(v));
    return v >> 28;
}

static inline uint32_t psr_get(void)
{
    uint32_t v;
    __asm__ volatile("rd %%psr, %0" : "=r"(v) : : "memory");
    return v;
}

static inline void psr_set(uint32_t v)
{
    __asm__ volatile("wr %0, %%psr; nop; nop; nop" : : "r"(v) : "memory", "cc");
}

uint32_t irq_save(void)
{
    uint32_t p = psr_get();
    psr_set(p | 0xf00);
    return p;
}

void irq_restore(uint32_t p)
{
    uint32_t cur = psr_get();
    psr_set((cur & ~0xf00u) | (p & 0xf00u));
}

void irq_enable(void)
{
    psr_set(psr_get() & ~0xf00u);
}

static int irqs_masked(void)
{
    return (psr_get() & 0xf00u) == 0xf00u || irq_nesting;
}

static inline uint32_t casa(volatile uint32_t *p, uint32_t cmp, uint32_t nv)
{
    __asm__ volatile("casa [%1] 0xb, %2, %0"
                     : "+r"(nv) : "r"(p), "r"(cmp) : "memory");
    return nv;
}

void spin_lock(spinlock_t *l)
{
    while (casa(l, 0, 1) != 0) {
        while (*l)
            ;
    }
}

void spin_unlock(spinlock_t *l)
{
    __asm__ volatile("stbar" : : : "memory");
    *l = 0;
}

/* ---------------------------------------------------------- plug&play */

static void pnp_add(uint8_t bus, uint32_t id, uint32_t addr, uint32_t size)
{
    struct pnp_dev *d;

    if (pnp_count >= PNP_MAX)
        return;
    d = &pnp_devs[pnp_count++];
    d->bus = bus;
    d->vendor = id >> 24;
    d->device = (id >> 12) & 0xfff;
    d->version = (id >> 5) & 0x1f;
    d->irq = id & 0x1f;
    d->addr = addr;
    d->size = size;
}

static void pnp_scan_apb(uint32_t base)
{
    uint32_t pnp = base + 0xff000;
    unsigned i;

    for (i = 0; i < 512; i++) {
        uint32_t id = REG32(pnp + 8 * i);
        uint32_t bar = REG32(pnp + 8 * i + 4);
        uint32_t mask;

        if ((id >> 24) == 0)
            continue;
        mask = (bar >> 4) & 0xfff;
        pnp_add(PNP_APB, id, base + ((((bar >> 20) & 0xfff) & mask) << 8),
                ((~mask & 0xfff) + 1) << 8);
    }
}

static void pnp_scan_ahb(uint32_t ioarea, int depth)
{
    uint32_t pnp = ioarea + 0xff000;
    unsigned i, b;

    for (i = 0; i < 64; i++) {
        uint32_t id = REG32(pnp + 32 * i);
        if ((id >> 24) != 0)
            pnp_add(PNP_AHBM, id, 0, 0);
    }
    for (i = 0; i < 64; i++) {
        uint32_t rec = pnp + 0x800 + 32 * i;
        uint32_t id = REG32(rec);
        uint32_t first = 0, size = 0;

        if ((id >> 24) == 0)
            continue;
        for (b = 0; b < 4; b++) {
            uint32_t bar = REG32(rec + 16 + 4 * b);
            uint32_t type = bar & 0xf, mask = (bar >> 4) & 0xfff;
            uint32_t a = bar & 0xfff00000u;
            if (type == 3)
                a = ioarea + ((bar >> 12) & 0xfff00);
            if (type == 2 || type == 3) {
                first = a;
                size = (type == 3) ? (((~mask & 0xfff) + 1) << 8)
                                   : (((~mask & 0xfff) + 1) << 20);
                break;
            }
        }
        pnp_add(PNP_AHBS, id, first, size);
        if ((id >> 24) == VENDOR_GAISLER && ((id >> 12) & 0xfff) == DEV_APBMST)
            pnp_scan_apb(first);
        /* a bus behind the L2 cache: user word 2 holds its I/O area */
        if (depth == 0 && (id >> 24) == VENDOR_GAISLER &&
            ((id >> 12) & 0xfff) == DEV_L2CACHE && REG32(rec + 8))
            pnp_scan_ahb(REG32(rec + 8), depth + 1);
    }
}

static void pnp_print(void)
{
    static const char *const busname[] = { "AHBM", "AHBS", "APB " };
    unsigned i, n[3] = { 0, 0, 0 };

    kprintf("PNP scan: AHB I/O area 0xfff00000\n");
    for (i = 0; i < pnp_count; i++) {
        const struct pnp_dev *d = &pnp_devs[i];
        n[d->bus]++;
        kprintf("PNP %s %02x:%03x ver %u irq %u addr 0x%08x size 0x%x\n",
                busname[d->bus], d->vendor, d->device, d->version, d->irq,
                d->addr, d->size);
    }
    kprintf("PNP end: %u AHB masters, %u AHB slaves, %u APB slaves\n",
            n[0], n[1], n[2]);
}

const struct pnp_dev *pnp_find(uint8_t bus, uint16_t device, unsigned nth)
{
    unsigned i;

    for (i = 0; i < pnp_count; i++) {
        if (pnp_devs[i].bus == bus && pnp_devs[i].vendor == VENDOR_GAISLER &&
            pnp_devs[i].device == device && nth-- == 0)
            return &pnp_devs[i];
    }
    return NULL;
}

/* ---------------------------------------------------------- IRQ(A)MP */

#define IRQ_PEND        0x04
#define IRQ_CLEAR       0x0c
#define IRQ_MPSTAT      0x10
#define IRQ_MASK(c)     (0x40 + 4 * (c))
#define IRQ_EXTACK(c)   (0xc0 + 4 * (c))

int irq_register(unsigned line, irq_handler_t fn, void *arg)
{
    uint32_t p;

    if (!irqamp_base || line == 0 || line > 31 || line == irqamp_eirq)
        return -1;
    if (line >= 16 && !irqamp_eirq)
        return -1;
    p = irq_save();
    irq_fn[line] = fn;
    irq_arg[line] = arg;
    REG32(irqamp_base + IRQ_CLEAR) = 1u << line;
    REG32(irqamp_base + IRQ_MASK(0)) |= 1u << line;
    irq_restore(p);
    return 0;
}

void bsp_irq_dispatch(unsigned level)
{
    unsigned line = level;

    irq_nesting++;
    if (irqamp_eirq && level == irqamp_eirq) {
        unsigned cpu = cpu_index();
        line = REG32(irqamp_base + IRQ_EXTACK(cpu)) & 0x1f;
        if (line < 16) {
            /* no extended id latched: take the highest pending one ourselves */
            uint32_t p = REG32(irqamp_base + IRQ_PEND) &
                         REG32(irqamp_base + IRQ_MASK(cpu)) & 0xffff0000u;
            for (line = 31; line >= 16 && !(p & (1u << line)); line--)
                ;
            if (line >= 16)
                REG32(irqamp_base + IRQ_CLEAR) = 1u << line;
            else
                line = 0;
        }
    }
    if (irq_fn[line])
        irq_fn[line](irq_arg[line]);
    else
        irq_spurious++;
    irq_nesting--;
}

unsigned smp_ncpus(void)
{
    if (!irqamp_base)
        return 1;
    return (REG32(irqamp_base + IRQ_MPSTAT) >> 28) + 1;
}

/* ------------------------------------------------------------ APBUART */

#define U_DATA      0x00
#define U_STATUS    0x04
#define U_CTRL      0x08
#define U_SCALER    0x0c
#define ST_DR       (1u << 0)
#define ST_TE       (1u << 2)
#define ST_BR       (1u << 3)
#define ST_OV       (1u << 4)
#define ST_PE       (1u << 5)
#define ST_FE       (1u << 6)
#define ST_TF       (1u << 9)
#define CT_RE       (1u << 0)
#define CT_TE       (1u << 1)
#define CT_RI       (1u << 2)
#define CT_TF       (1u << 9)

#define TX_RING     1024u
#define RX_RING     4096u
static volatile uint8_t tx_ring[TX_RING];
static volatile uint32_t tx_head, tx_tail;     /* producer / consumer */
static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;     /* ISR / task */
static int uart_irq_mode;
static int timer_polled;
static void timer_poll(void);

/* Move bytes from the TX ring into the hardware FIFO; uart_lock held.
 * Returns the number of bytes moved. */
static unsigned tx_pump(void)
{
    unsigned n = 0;

    while (tx_tail != tx_head && !(REG32(uart_base + U_STATUS) & ST_TF)) {
        REG32(uart_base + U_DATA) = tx_ring[tx_tail % TX_RING];
        tx_tail++;
        n++;
    }
    if (uart_irq_mode) {
        uint32_t c = REG32(uart_base + U_CTRL);
        uint32_t want = (tx_tail != tx_head) ? (c | CT_TF) : (c & ~CT_TF);
        if (want != c)
            REG32(uart_base + U_CTRL) = want;
    }
    return n;
}

uint32_t uart_tx_free(void)
{
    return TX_RING - (tx_head - tx_tail);
}

static void rx_drain(void);

static void uart_putc_raw(char c)
{
    for (;;) {
        uint32_t p = irq_save();
        int masked = (p & 0xf00u) == 0xf00u || irq_nesting;

        /* RX keeps up while the console is polled (boot, ISRs) */
        if ((masked || !uart_irq_mode) && cpu_index() == 0 && !irq_nesting)
            rx_drain();
        spin_lock(&uart_lock);
        if (tx_head - tx_tail < TX_RING) {
            tx_ring[tx_head % TX_RING] = (uint8_t)c;
            tx_head++;
            tx_pump();
            spin_unlock(&uart_lock);
            irq_restore(p);
            return;
        }
        if (masked || !uart_irq_mode)
            tx_pump();      /* nobody else will drain: poll the FIFO */
        spin_unlock(&uart_lock);
        irq_restore(p);
        if (!masked && timer_polled)
            timer_poll();   /* no IRQ controller: keep time while waiting */
    }
}

void uart_putc(char c)
{
    if (c == '\n')
        uart_putc_raw('\r');
    uart_putc_raw(c);
}

void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

void uart_flush(void)
{
    for (;;) {
        uint32_t p = irq_save();
        int empty;
        spin_lock(&uart_lock);
        if (irqs_masked() || !uart_irq_mode)
            tx_pump();
        empty = tx_head == tx_tail && (REG32(uart_base + U_STATUS) & ST_TE);
        spin_unlock(&uart_lock);
        irq_restore(p);
        if (empty)
            return;
    }
}

int uart_getc(void)
{
    int c;

    if (rx_tail == rx_head && cpu_index() == 0) {
        /* nothing buffered: look at the FIFO too (an RX interrupt can be
         * missed, e.g. for bytes that arrived before RI was enabled) */
        uint32_t p = irq_save();
        if (!irq_nesting)
            rx_drain();
        irq_restore(p);
    }

    if (rx_tail == rx_head)
        return -1;
    c = rx_ring[rx_tail % RX_RING];
    rx_tail++;
    return c;
}

/* Move received bytes into the RX ring; on CPU 0, ISR or irqs masked. */
static void rx_drain(void)
{
    uint32_t st;

    st = REG32(uart_base + U_STATUS);
    while (st & ST_DR) {
        uint8_t c = REG32(uart_base + U_DATA);
        if (rx_head - rx_tail < RX_RING) {
            rx_ring[rx_head % RX_RING] = c;
            rx_head++;
        } else {
            uart_rx_overruns++;     /* software ring overrun: byte lost */
        }
        st = REG32(uart_base + U_STATUS);
    }
    if (st & (ST_OV | ST_FE | ST_PE | ST_BR)) {
        uart_rx_errors++;
        if (st & ST_OV)
            uart_rx_overruns++;
        if (st & ST_FE)
            uart_rx_framing++;
        REG32(uart_base + U_STATUS) = 0;   /* clear sticky error flags */
        if (uart_error_hook)
            uart_error_hook(st);
    }
}

static void uart_isr(void *arg)
{
    (void)arg;
    rx_drain();
    spin_lock(&uart_lock);
    tx_pump();
    spin_unlock(&uart_lock);
}

/* Without an interrupt controller: poll the devices from the idle loop. */
void bsp_poll(void)
{
    if (timer_polled)
        timer_poll();
    if (!uart_irq_mode)
        uart_isr(NULL);
}

int bsp_can_sleep(void)
{
    return uart_irq_mode && !timer_polled;
}

static void uart_init(void)
{
    const struct pnp_dev *d = pnp_find(PNP_APB, DEV_APBUART, 0);
    unsigned line = IRQ_APBUART0_FALLBACK;

    if (d) {
        uart_base = d->addr;
        line = d->irq;
    }
    if (irq_register(line, uart_isr, NULL) == 0) {
        uart_irq_mode = 1;
        REG32(uart_base + U_CTRL) = CT_RE | CT_TE | CT_RI;
    }
    kprintf("UART 0x%08x irq %u %s\n", uart_base, line,
            uart_irq_mode ? "interrupt-driven" : "polled (no IRQ controller)");
}

/* ------------------------------------------------------------ GPTIMER */

#define GPT_SCALER  0x00
#define GPT_SRELOAD 0x04
#define GPT_CONFIG  0x08
#define GPT_TCNT(n) (0x10 + 0x10 * (n))
#define GPT_TRLD(n) (0x14 + 0x10 * (n))
#define GPT_TCTL(n) (0x18 + 0x10 * (n))
#define TCTL_EN     (1u << 0)
#define TCTL_RS     (1u << 1)
#define TCTL_LD     (1u << 2)
#define TCTL_IE     (1u << 3)
#define TCTL_IP     (1u << 4)

static void timer_isr(void *arg)
{
    (void)arg;
    REG32(gpt_base + GPT_TCTL(0)) = TCTL_EN | TCTL_RS | TCTL_IE | TCTL_IP;
    tick_count++;
    if (tick_hook)
        tick_hook();
}

static void timer_poll(void)
{
    if (!gpt_base)
        return;
    /* no interrupt controller: poll the pending bit */
    if (REG32(gpt_base + GPT_TCTL(0)) & TCTL_IP)
        timer_isr(NULL);
}


static void timer_init(void)
{
    const struct pnp_dev *d = pnp_find(PNP_APB, DEV_GPTIMER, 0);
    unsigned line;

    gpt_base = d ? d->addr : GPTIMER0_BASE;
    line = d ? d->irq : ((REG32(gpt_base + GPT_CONFIG) >> 3) & 0x1f);
    if (!line)
        line = IRQ_GPTIMER0_FALLBACK;
    /* 250 MHz / (249 + 1) = 1 MHz timer ticks */
    REG32(gpt_base + GPT_SRELOAD) = SYS_HZ / 1000000u - 1;
    REG32(gpt_base + GPT_SCALER) = SYS_HZ / 1000000u - 1;
    REG32(gpt_base + GPT_TRLD(0)) = 1000000u / TICK_HZ - 1;
    if (irq_register(line, timer_isr, NULL) != 0)
        timer_polled = 1;
    REG32(gpt_base + GPT_TCTL(0)) = TCTL_EN | TCTL_RS | TCTL_LD | TCTL_IE | TCTL_IP;
    kprintf("GPTIMER0 0x%08x irq %u sreload %u tick %u Hz%s\n", gpt_base, line,
            REG32(gpt_base + GPT_SRELOAD), TICK_HZ, timer_polled ? " (polled)" : "");
}

/* ------------------------------------------------- GPIO, temperature */

void gpio_heartbeat(void)
{
    if (!gpio_base)
        return;
    REG32(gpio_base + 0x04) ^= 1u;
}

int thsens_read(void)
{
    if (!ths_base)
        return -1;
    return REG32(ths_base + 0x04) & 0x7f;
}

static void misc_init(void)
{
    const struct pnp_dev *d = pnp_find(PNP_APB, DEV_GPIO, 0);

    if (d) {
        gpio_base = d->addr;
        REG32(gpio_base + 0x08) |= 1u;      /* line 0: heartbeat output */
        kprintf("GRGPIO0 0x%08x heartbeat on line 0\n", gpio_base);
    } else {
        kprintf("GRGPIO0 not found\n");
    }
    d = pnp_find(PNP_APB, DEV_GR740THS, 0);
    if (d) {
        ths_base = d->addr;
        /* CLKEN, SRSTN, DIV for a slow sample clock */
        REG32(ths_base + 0x00) = (100u << 16) | (1u << 1) | (1u << 0);
        kprintf("THSENS 0x%08x status 0x%08x\n", ths_base, REG32(ths_base + 0x04));
    } else {
        kprintf("THSENS not found\n");
    }
}

/* ---------------------------------------------------------------- SMP */

void secondary_main(unsigned cpu)
{
    uint32_t i, x = cpu;

    spin_lock(&print_lock);
    kprintf("CPU%u: up\n", cpu);
    spin_unlock(&print_lock);
    for (i = 0; i < 2000; i++) {
        x = x * 1103515245u + 12345u;
        spin_lock(&counter_lock);
        smp_counter++;
        spin_unlock(&counter_lock);
    }
    spin_lock(&counter_lock);
    smp_cpus_up++;
    spin_unlock(&counter_lock);
    spin_lock(&print_lock);
    kprintf("CPU%u: report in, loop hash %08x\n", cpu, x);
    spin_unlock(&print_lock);
}

static void smp_start(void)
{
    unsigned n = smp_ncpus(), i;

    kprintf("SMP: %u CPU(s)\n", n);
    for (i = 1; i < n && i < 4; i++)
        REG32(irqamp_base + IRQ_MPSTAT) = 1u << i;
}

/* ----------------------------------------------------------- self-test */

/*
 * Exercise the interrupt entry/exit path (window spill on entry, refill
 * on exit, globals/%y/icc preserved) at every call depth through "ta 1",
 * which start.S routes into irq_entry as line 0.  The same computation
 * without traps must give the same result.
 */
static volatile int selftest_trap;

__attribute__((noinline)) static uint32_t selftest_rec(uint32_t depth, uint32_t x)
{
    uint32_t a = x * 3u + depth, b = x ^ 0x5a5au, r = 0;

    if (depth)
        r = selftest_rec(depth - 1, a);
    if (selftest_trap)
        __asm__ volatile("ta 1" : : : "memory");
    return r + a * b + (a >> 3);
}

static int bsp_selftest(void)
{
    uint32_t want, got, before = irq_spurious, d;
    int ok = 1;

    for (d = 0; d < 12; d++) {
        selftest_trap = 0;
        want = selftest_rec(d, 0x1234u + d);
        selftest_trap = 1;
        got = selftest_rec(d, 0x1234u + d);
        if (got != want)
            ok = 0;
    }
    /* depth d traps d+1 times */
    if (irq_spurious - before != 12 * 13 / 2)
        ok = 0;
    irq_spurious = before;
    kprintf("BSP self-test: interrupt path at call depths 0..11 %s\n", ok ? "ok" : "FAILED");
    return ok;
}

/* --------------------------------------------------------------- main */

void bsp_fatal(uint32_t tbr, uint32_t pc, uint32_t npc)
{
    fatal_tt = (tbr >> 4) & 0xff;
    fatal_pc = pc;
    fatal_npc = npc;
    uart_irq_mode = 0;
    irq_nesting = 1;
    uart_lock = 0;          /* the trap may have hit inside a critical section */
    kprintf("\nFATAL trap tt=0x%02x pc=0x%08x npc=0x%08x tick=%u\n",
            fatal_tt, pc, npc, tick_count);
    uart_flush();
}

void bsp_main(void)
{
    const struct pnp_dev *d;

    /* polled console first: 115200 8N1 */
    REG32(uart_base + U_SCALER) = SYS_HZ / (8 * UART_BAUD) - 1;
    REG32(uart_base + U_CTRL) = CT_RE | CT_TE;
    kprintf("\nGR740 sample FSW: boot on CPU%u\n", cpu_index());
    pnp_scan_ahb(0xfff00000u, 0);
    pnp_print();
    d = pnp_find(PNP_APB, DEV_IRQMP, 0);
    irqamp_base = d ? d->addr : 0;
    if (irqamp_base) {
        irqamp_eirq = (REG32(irqamp_base + IRQ_MPSTAT) >> 16) & 0xf;
        REG32(irqamp_base + IRQ_MASK(0)) = 0;
        kprintf("IRQAMP 0x%08x eirq %u ncpu %u\n", irqamp_base, irqamp_eirq,
                smp_ncpus());
    } else {
        kprintf("IRQAMP not found: polled mode\n");
    }
    bsp_selftest();
    uart_init();
    timer_init();
    misc_init();
    edac_init();
    irq_enable();
    if (irqamp_base)
        smp_start();
    app_main();
}
