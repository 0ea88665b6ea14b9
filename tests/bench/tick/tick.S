/* Timer-interrupt-heavy benchmark guest: GPTIMER timer 0 interrupts at
 * 10 kHz of virtual time while the CPU runs a busy loop; the handler clears
 * the timer's IP bit (write 1) and counts ticks.  Built for gr740 and for
 * leon3_generic from the same source (addresses and clock from -D). */
    .section .text.start, "ax"
    .global _start
    .align 4096
traptable:
    .rept 17                        /* tt 0x00..0x10: spin (unexpected) */
    ba      .
     nop
    nop
    nop
    .endr
    .rept 15                        /* tt 0x11..0x1f: interrupt levels 1..15 */
    sethi   %hi(irq_handler), %l4
    jmp     %l4 + %lo(irq_handler)
     nop
    nop
    .endr
    .rept 224                       /* tt 0x20..0xff: spin */
    ba      .
     nop
    nop
    nop
    .endr

_start:
    set     traptable, %g1
    wr      %g1, %tbr
    wr      %g0, 2, %wim
    wr      %g0, 0xe0, %psr         /* S, PS, ET, PIL 0, CWP 0 */
    nop; nop; nop
    set     IRQMP_BASE, %g1
    st      %g0, [%g1]              /* ILEVEL */
    set     (1 << TIMER_IRQ), %g2
    st      %g2, [%g1 + 0x40]       /* CPU 0 mask */
    set     TIMER_BASE, %g1
    set     SCALER_RELOAD, %g2      /* 1 MHz timer clock */
    st      %g2, [%g1 + 0x04]
    st      %g2, [%g1 + 0x00]
    set     99, %g2                 /* 100 us period: 10 kHz */
    st      %g2, [%g1 + 0x14]
    st      %g2, [%g1 + 0x10]
    set     0xf, %g2                /* EN | RS | LD | IE */
    st      %g2, [%g1 + 0x18]
    set     ITERATIONS, %g3
1:  subcc   %g3, 1, %g3
    bne     1b
     add    %g4, %g3, %g4
    set     UART_BASE, %g1
    set     3, %g2                  /* APBUART CTRL: RE | TE */
    st      %g2, [%g1 + 8]
    set     'D', %g2
    st      %g2, [%g1]
    set     '\n', %g2
    st      %g2, [%g1]
2:  ba      2b
     nop

irq_handler:                        /* %l1/%l2 = pc/npc of the interrupted insn */
    set     TIMER_BASE + 0x18, %l4
    set     0x1b, %l5               /* EN | RS | IE, IP written 1 = clear */
    st      %l5, [%l4]
    set     ticks, %l4
    ld      [%l4], %l5
    add     %l5, 1, %l5
    st      %l5, [%l4]
    jmp     %l1
     rett   %l2

    .data
    .align 4
    .global ticks
ticks:
    .word 0
