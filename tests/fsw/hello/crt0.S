/* Minimal start-up for the hello program: supervisor mode, traps off,
 * one window of headroom, a stack, then main().  CPUs other than 0 sleep. */
    .section .text.start, "ax"
    .global _start
_start:
    rd      %asr17, %g1
    srl     %g1, 28, %g1
    cmp     %g1, 0
    bne     1f
     nop
    wr      %g0, 0xfc0, %psr        /* S, PS, PIL=15, ET=0, CWP=0 */
    wr      %g0, 2, %wim            /* window 1 invalid */
    nop; nop; nop
    set     _stack_top, %sp
    sub     %sp, 96, %sp
    call    main
     mov    %g0, %fp
1:  wr      %g0, %asr19             /* power down */
    ba      1b
     nop
