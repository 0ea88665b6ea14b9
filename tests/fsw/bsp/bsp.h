/* Mini GR740 BSP interface (sample flight software, tests/fsw). */
#ifndef FSW_BSP_H
#define FSW_BSP_H

#include <stdint.h>
#include <stddef.h>

#define REG32(a) (*(volatile uint32_t *)(uintptr_t)(a))

#define VENDOR_GAISLER  0x01
#define DEV_APBMST      0x006
#define DEV_APBUART     0x00C
#define DEV_IRQMP       0x00D
#define DEV_GPTIMER     0x011
#define DEV_GPIO        0x01A
#define DEV_L2CACHE     0x04B
#define DEV_GR740THS    0x099
#define DEV_AHBSTAT     0x052

/* Fallback addresses/lines when plug&play does not list a device. */
#define APBUART0_BASE   0xFF900000u
#define IRQAMP_BASE     0xFF904000u
#define GPTIMER0_BASE   0xFF908000u
#define GRGPIO0_BASE    0xFF902000u
#define THSENS_BASE     0xFFA0A000u
#define IRQ_APBUART0_FALLBACK 29
#define IRQ_GPTIMER0_FALLBACK 1

#define SYS_HZ          250000000u
#define UART_BAUD       115200u
#define TICK_HZ         100u        /* GPTIMER0 timer 0: cyclic executive minor frame */

enum pnp_bus { PNP_AHBM, PNP_AHBS, PNP_APB };

struct pnp_dev {
    uint8_t bus;
    uint8_t vendor;
    uint16_t device;
    uint8_t version;
    uint8_t irq;
    uint32_t addr;
    uint32_t size;
};

#define PNP_MAX 64
extern struct pnp_dev pnp_devs[PNP_MAX];
extern unsigned pnp_count;

/* BSP */
void bsp_main(void);                 /* start.S -> here (CPU 0) */
void secondary_main(unsigned cpu);   /* start.S -> here (CPUs 1..3) */
void app_main(void);                 /* the application (app/) */
void bsp_irq_dispatch(unsigned level);
void bsp_fatal(uint32_t tbr, uint32_t pc, uint32_t npc);
void halt(void) __attribute__((noreturn));

unsigned cpu_index(void);
uint32_t irq_save(void);
void irq_restore(uint32_t psr);
void irq_enable(void);

typedef void (*irq_handler_t)(void *arg);
int irq_register(unsigned line, irq_handler_t fn, void *arg);
extern volatile uint32_t irq_nesting;   /* != 0 while an ISR runs */

const struct pnp_dev *pnp_find(uint8_t bus, uint16_t device, unsigned nth);

/* spinlock (casa) */
typedef volatile uint32_t spinlock_t;
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
extern spinlock_t uart_lock, print_lock;

/* UART: interrupt-driven TX ring and RX ring. */
void uart_putc(char c);               /* blocks while the TX ring is full */
void uart_puts(const char *s);
void uart_put_hex(uint32_t v, int digits);
void uart_put_dec(uint32_t v);
int uart_getc(void);                  /* -1 if nothing */
void uart_flush(void);                /* wait until everything is sent */
uint32_t uart_tx_free(void);
extern volatile uint32_t uart_rx_errors, uart_rx_overruns, uart_rx_framing;
extern void (*uart_error_hook)(uint32_t status);   /* called from the RX ISR */

/* Timer / time */
extern volatile uint32_t tick_count;
extern void (*tick_hook)(void);        /* called from the timer ISR */

/* EDAC (edac.c, trap 0x09 in start.S) */
void edac_init(void);
int edac_enable(int on);
extern volatile uint32_t edac_ce, edac_ahb_err, edac_last_addr;
extern volatile uint32_t edac_ue_traps, edac_ue_pc;

/* GPIO, temperature */
void gpio_heartbeat(void);
int thsens_read(void);                 /* degrees-ish raw DATA field, -1 if none */

/* SMP */
extern volatile uint32_t smp_cpus_up;
extern volatile uint32_t smp_counter;
unsigned smp_ncpus(void);

/* utilities */
uint16_t crc16_ccitt(uint16_t crc, const void *buf, size_t len);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);

#endif
