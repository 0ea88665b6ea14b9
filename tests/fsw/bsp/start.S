/*
 * Mini GR740 BSP: trap table, reset entry (all CPUs), register-window
 * overflow/underflow handlers, interrupt entry, fatal-trap entry.
 * SPARC V8, 8 register windows (LEON4).  Linked at RAM address 0: the trap
 * table is the first 4 KiB, its reset entry jumps to _start.
 */
#define NWIN        8
#define PSR_ET      0x20
#define PSR_PIL     0xf00
#define STACK_CPU   0x10000         /* 64 KiB of stack per CPU */
#define IRQ_FRAME   (96 + 32)       /* minimum frame + %g1..%g7, %y */

    .section .text.traptable, "ax"
    .align 4096
    .global trap_table
trap_table:
    /* tt 0x00: reset */
    sethi   %hi(_start), %g1
    jmp     %g1 + %lo(_start)
     nop
    nop
    /* tt 0x01 .. 0x04 */
    .rept 4
    rd      %psr, %l0
    ba      fatal_entry
     rd     %tbr, %l3
    nop
    .endr
    /* tt 0x05: window overflow */
    rd      %psr, %l0
    ba      window_overflow
     nop
    nop
    /* tt 0x06: window underflow */
    rd      %psr, %l0
    ba      window_underflow
     nop
    nop
    /* tt 0x07 .. 0x08 */
    .rept 2
    rd      %psr, %l0
    ba      fatal_entry
     rd     %tbr, %l3
    nop
    .endr
    /* tt 0x09: data access exception (AHB error, uncorrectable EDAC error) */
    rd      %psr, %l0
    ba      data_access_entry
     nop
    nop
    /* tt 0x0a .. 0x10 */
    .rept 7
    rd      %psr, %l0
    ba      fatal_entry
     rd     %tbr, %l3
    nop
    .endr
    /* tt 0x11 .. 0x1f: interrupt levels 1..15 */
    .irp lvl, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    rd      %psr, %l0
    ba      irq_entry
     mov    \lvl, %l3
    nop
    .endr
    /* tt 0x20 .. 0x80 */
    .rept 97
    rd      %psr, %l0
    ba      fatal_entry
     rd     %tbr, %l3
    nop
    .endr
    /* tt 0x81 ("ta 1"): BSP self-test, runs the interrupt path as line 0 */
    rd      %psr, %l0
    ba      soft_irq
     nop
    nop
    /* tt 0x82 .. 0xff */
    .rept 126
    rd      %psr, %l0
    ba      fatal_entry
     rd     %tbr, %l3
    nop
    .endr

    .section .text.start, "ax"
    .global _start
_start:
    wr      %g0, 0xfc0, %psr        /* S, PS, PIL=15, ET=0, CWP=0 */
    nop; nop; nop
    wr      %g0, 2, %wim            /* window 1 invalid */
    set     trap_table, %g1
    wr      %g1, %tbr
    nop; nop; nop
    rd      %asr17, %g2
    srl     %g2, 28, %g2            /* CPU index */
    /* stack: _stack_top - index * STACK_CPU */
    set     _stack_top, %g1
    sll     %g2, 16, %g3
    sub     %g1, %g3, %sp
    sub     %sp, 96, %sp
    mov     %g0, %fp
    cmp     %g2, 0
    bne     2f
     nop
    /* CPU 0: clear .bss */
    set     __bss_start, %g3
    set     __bss_end, %g4
1:  cmp     %g3, %g4
    bgeu    3f
     nop
    st      %g0, [%g3]
    ba      1b
     add    %g3, 4, %g3
3:  wr      %g0, 0xfc0 | PSR_ET, %psr  /* traps on, PIL still 15 */
    nop; nop; nop
    call    bsp_main
     nop
    ba      halt
     nop
2:  wr      %g0, 0xfc0 | PSR_ET, %psr
    nop; nop; nop
    call    secondary_main
     mov    %g2, %o0
    .global halt
halt:
    wr      %g0, 0xfc0, %psr        /* traps off: nothing wakes us */
    nop; nop; nop
1:  wr      %g0, %asr19             /* power down */
    ba      1b
     nop

/*
 * Window overflow (tt 5): a SAVE found the next window invalid.  We are in
 * that invalid window; spill the window below it (the oldest) to its stack
 * and move the invalid mark down by one.
 */
window_overflow:
    rd      %wim, %l3
    mov     %g1, %l7
    srl     %l3, 1, %g1
    sll     %l3, NWIN - 1, %l4
    or      %l4, %g1, %g1
    and     %g1, 0xff, %g1
    save                            /* into the window to spill */
    wr      %g1, %wim
    nop; nop; nop
    std     %l0, [%sp + 0]
    std     %l2, [%sp + 8]
    std     %l4, [%sp + 16]
    std     %l6, [%sp + 24]
    std     %i0, [%sp + 32]
    std     %i2, [%sp + 40]
    std     %i4, [%sp + 48]
    std     %i6, [%sp + 56]
    restore
    mov     %l7, %g1
    jmp     %l1                     /* retry the SAVE */
     rett   %l2

/*
 * Window underflow (tt 6): a RESTORE found the window above invalid.
 * Trap window = CWP-1 of the RESTORE; fill window CWP+1 from its stack.
 */
window_underflow:
    rd      %wim, %l3
    sll     %l3, 1, %l4
    srl     %l3, NWIN - 1, %l5
    or      %l5, %l4, %l5
    and     %l5, 0xff, %l5
    wr      %l5, %wim
    nop; nop; nop
    restore
    restore
    ldd     [%sp + 0], %l0
    ldd     [%sp + 8], %l2
    ldd     [%sp + 16], %l4
    ldd     [%sp + 24], %l6
    ldd     [%sp + 32], %i0
    ldd     [%sp + 40], %i2
    ldd     [%sp + 48], %i4
    ldd     [%sp + 56], %i6
    save
    save
    jmp     %l1
     rett   %l2

/*
 * Interrupt entry: %l0 = PSR, %l1 = PC, %l2 = nPC, %l3 = level.
 * Make the trap window usable (spill if it is the invalid one), build a
 * frame on the interrupted stack, run bsp_irq_dispatch(level) with traps
 * enabled and PIL = 15 (no nesting), then refill the interrupted window if
 * the handler's calls spilled it, and return.
 */
irq_entry:
    rd      %wim, %l4
    mov     1, %l5
    sll     %l5, %l0, %l5           /* 1 << CWP (sll uses the low 5 bits) */
    andcc   %l4, %l5, %g0
    bz      1f
     nop
    srl     %l4, 1, %l6
    sll     %l4, NWIN - 1, %l5
    or      %l5, %l6, %l4
    and     %l4, 0xff, %l4          /* new WIM: one window down */
    wr      %g0, %wim
    nop; nop; nop
    save
    std     %l0, [%sp + 0]
    std     %l2, [%sp + 8]
    std     %l4, [%sp + 16]
    std     %l6, [%sp + 24]
    std     %i0, [%sp + 32]
    std     %i2, [%sp + 40]
    std     %i4, [%sp + 48]
    std     %i6, [%sp + 56]
    restore
    wr      %l4, %wim
    nop; nop; nop
1:  sub     %fp, IRQ_FRAME, %sp
    st      %g1, [%sp + 96]
    std     %g2, [%sp + 104]
    std     %g4, [%sp + 112]
    st      %g6, [%sp + 100]
    st      %g7, [%sp + 120]
    rd      %y, %l5
    st      %l5, [%sp + 124]
    or      %l0, PSR_PIL, %l5
    wr      %l5, PSR_ET, %psr       /* wr xors: ET=1, PIL=15 */
    nop; nop; nop
    call    bsp_irq_dispatch
     mov    %l3, %o0
    wr      %l0, %psr               /* traps off again, old PIL and icc */
    nop; nop; nop
    ld      [%sp + 124], %l5
    wr      %l5, %y
    ld      [%sp + 96], %g1
    ldd     [%sp + 104], %g2
    ldd     [%sp + 112], %g4
    ld      [%sp + 100], %g6
    ld      [%sp + 120], %g7
    /* is the interrupted window (CWP+1) invalid now? */
    rd      %wim, %l4
    mov     1, %l5
    sll     %l5, %l0, %l5
    sll     %l5, 1, %l6
    srl     %l5, NWIN - 1, %l7
    or      %l6, %l7, %l5
    and     %l5, 0xff, %l5
    andcc   %l4, %l5, %g0
    bz      2f
     nop
    sll     %l4, 1, %l5
    srl     %l4, NWIN - 1, %l6
    or      %l5, %l6, %l4
    and     %l4, 0xff, %l4          /* new WIM: one window up */
    wr      %g0, %wim
    nop; nop; nop
    restore
    ldd     [%sp + 0], %l0
    ldd     [%sp + 8], %l2
    ldd     [%sp + 16], %l4
    ldd     [%sp + 24], %l6
    ldd     [%sp + 32], %i0
    ldd     [%sp + 40], %i2
    ldd     [%sp + 48], %i4
    ldd     [%sp + 56], %i6
    save
    wr      %l4, %wim
    nop; nop; nop
2:  jmp     %l1
     rett   %l2

/* Software trap: return after the TA, go through the interrupt path. */
soft_irq:
    mov     %l2, %l1
    add     %l2, 4, %l2
    ba      irq_entry
     mov    0, %l3

/*
 * Any other trap: fatal.  %l1 = PC, %l2 = nPC, %l3 = TBR (tt in 11:4).
 * Traps stay off; WIM = 0 so the C reporter can SAVE freely (we never
 * return); it runs on a stack of its own.
 */
/*
 * Data access exception: count it, remember the pc and skip the faulting
 * instruction (its destination register keeps its old value).  Uses only
 * the trap window's locals, so it is safe in the invalid window too.
 */
data_access_entry:
    sethi   %hi(edac_ue_traps), %l4
    ld      [%l4 + %lo(edac_ue_traps)], %l5
    add     %l5, 1, %l5
    st      %l5, [%l4 + %lo(edac_ue_traps)]
    sethi   %hi(edac_ue_pc), %l4
    st      %l1, [%l4 + %lo(edac_ue_pc)]
    wr      %l0, %psr               /* condition codes of the trapped code */
    nop; nop; nop
    jmp     %l2
     rett   %l2 + 4

fatal_entry:
    wr      %g0, %wim
    nop; nop; nop
    set     _fatal_stack_top - 96, %sp
    mov     %l3, %o0
    mov     %l1, %o1
    call    bsp_fatal
     mov    %l2, %o2
    ba      halt
     nop
