/*
 * CPU-bound benchmark guest: the same instruction stream on every machine.
 * Runs ITERATIONS rounds of a mixed integer loop (ALU, loads/stores, calls
 * through register windows), prints the checksum, then powers down.
 * Built once per machine: only RAM origin and UART base differ.
 */
#include <stdint.h>

#ifndef UART_BASE
#error UART_BASE
#endif
#define UART_DATA (*(volatile uint32_t *)(UART_BASE + 0x0))
#define UART_STATUS (*(volatile uint32_t *)(UART_BASE + 0x4))
#define UART_CTRL (*(volatile uint32_t *)(UART_BASE + 0x8))

int main(void);
static uint32_t table[256];

static void putc_(char c)
{
    while (!(UART_STATUS & (1u << 2))) /* TE: TX FIFO empty */
        ;
    UART_DATA = (uint8_t)c;
}

static void puthex(uint32_t v)
{
    for (int i = 7; i >= 0; i--)
        putc_("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

static __attribute__((noinline)) uint32_t mix(uint32_t a, uint32_t b)
{
    a ^= b + 0x9e3779b9u + (a << 6) + (a >> 2);
    table[a & 255] += b;
    return a;
}

int main(void)
{
    uint32_t h = 1;
    uint32_t n = ITERATIONS;

    UART_CTRL = 3;
    for (uint32_t i = 0; i < n; i++)
        h = mix(h, i ^ table[i & 255]);
    puthex(h);
    putc_('\n');
    return 0;
}
