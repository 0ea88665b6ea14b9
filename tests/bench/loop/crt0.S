    .section .text.start, "ax"
    .global _start
_start:
    rd      %asr17, %g1
    srl     %g1, 28, %g1
    cmp     %g1, 0
    bne     1f
     nop
    wr      %g0, 0xfc0, %psr
    wr      %g0, 2, %wim
    nop; nop; nop
    set     _stack_top, %sp
    sub     %sp, 96, %sp
    call    main
     mov    %g0, %fp
1:  wr      %g0, %asr19
    ba      1b
     nop
