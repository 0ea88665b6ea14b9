/* Small freestanding library: formatting, CRC-16/CCITT, mem*. */
#include <stdarg.h>
#include "bsp.h"
#include "kprintf.h"

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* CRC-16/CCITT-FALSE: poly 0x1021, init supplied by the caller (0xFFFF). */
uint16_t crc16_ccitt(uint16_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    int i;

    while (len--) {
        crc ^= (uint16_t)(*p++) << 8;
        for (i = 0; i < 8; i++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

struct out { char *buf; size_t size, pos; };

static void out_c(struct out *o, char c)
{
    if (o->pos + 1 < o->size)
        o->buf[o->pos] = c;
    o->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        char tmp[12];
        int width = 0, zero = 0, n = 0, neg = 0;
        unsigned base = 10;
        uint32_t v;
        const char *s;

        if (*fmt != '%') {
            out_c(&o, *fmt);
            continue;
        }
        fmt++;
        if (*fmt == '0') {
            zero = 1;
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 's':
            s = va_arg(ap, const char *);
            while (*s)
                out_c(&o, *s++);
            continue;
        case 'c':
            out_c(&o, (char)va_arg(ap, int));
            continue;
        case 'd': {
            int x = va_arg(ap, int);
            if (x < 0) {
                neg = 1;
                v = (uint32_t)-x;
            } else {
                v = (uint32_t)x;
            }
            break;
        }
        case 'u':
            v = va_arg(ap, uint32_t);
            break;
        case 'x':
            v = va_arg(ap, uint32_t);
            base = 16;
            break;
        case '%':
            out_c(&o, '%');
            continue;
        default:
            out_c(&o, '?');
            continue;
        }
        do {
            tmp[n++] = "0123456789abcdef"[v % base];
            v /= base;
        } while (v);
        if (neg)
            tmp[n++] = '-';
        while (width-- > n)
            out_c(&o, zero ? '0' : ' ');
        while (n)
            out_c(&o, tmp[--n]);
    }
    if (size)
        buf[o.pos < size ? o.pos : size - 1] = 0;
    return (int)o.pos;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void kprintf(const char *fmt, ...)
{
    char buf[160];
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    uart_puts(buf);
}
