/*
 * PROM boot loader for the sample FSW (-bios fsw.prom): runs at 0xC0000000
 * on every CPU.  CPU 0 copies the FSW image (linked at RAM 0) from the PROM
 * into SDRAM and jumps to its reset entry; CPUs started later by the FSW
 * (IRQ(A)MP MPSTAT) find the image in RAM and jump straight to it.
 */
    .section .text, "ax"
    .global _prom_start
_prom_start:
    wr      %g0, 0xfc0, %psr        /* S, PS, PIL=15, ET=0 */
    nop; nop; nop
    rd      %asr17, %g1
    srl     %g1, 28, %g1
    cmp     %g1, 0
    bne     2f
     nop
    set     fsw_image, %g2
    set     fsw_image_end, %g3
    mov     %g0, %g4                /* destination: RAM 0 */
1:  cmp     %g2, %g3
    bgeu    2f
     nop
    ld      [%g2], %g5
    st      %g5, [%g4]
    add     %g2, 4, %g2
    ba      1b
     add    %g4, 4, %g4
2:  jmp     %g0                     /* FSW trap table entry 0 = reset */
     nop

    .section .rodata, "a"
    .align 8
fsw_image:
    .incbin FSW_BIN
    .align 4
fsw_image_end:
