/* The smallest GR740 program: print through APBUART0 by polling, then halt. */
#include <stdint.h>

#define APBUART0 0xFF900000u
#define UART_DATA (*(volatile uint32_t *)(APBUART0 + 0x0))
#define UART_STATUS (*(volatile uint32_t *)(APBUART0 + 0x4))
#define UART_STATUS_TF (1u << 9)
#define UART_STATUS_TE (1u << 2)

int main(void);

static void uart_putc(char c)
{
    while (UART_STATUS & UART_STATUS_TF)
        ;
    UART_DATA = (uint8_t)c;
}

static void uart_puts(const char *s)
{
    while (*s) {
        if (*s == '\n')
            uart_putc('\r');
        uart_putc(*s++);
    }
}

static void uart_put_dec(uint32_t v)
{
    char buf[12];
    int i = 0;
    do {
        buf[i++] = '0' + v % 10;
        v /= 10;
    } while (v);
    while (i)
        uart_putc(buf[--i]);
}

int main(void)
{
    uint32_t sum = 0;
    uint32_t i;

    uart_puts("Hello from GR740 flight software\n");
    for (i = 1; i <= 100000; i++)
        sum += i * i;
    uart_puts("checksum ");
    uart_put_dec(sum);
    uart_puts("\nEND\n");
    while (!(UART_STATUS & UART_STATUS_TE))
        ;
    return 0;
}
