#ifndef FSW_KPRINTF_H
#define FSW_KPRINTF_H
#include <stdarg.h>
#include <stddef.h>
/* %s %c %u %d %x with optional 0-padding width; output through sink. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bsp_poll(void);
int bsp_can_sleep(void);
#endif
