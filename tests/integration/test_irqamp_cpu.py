#!/usr/bin/env python3
"""End to end: the IRQ(A)MP wired to real CPUs (-M gr740 -smp 3).  A few
instructions assembled here with the SPARC cross compiler:
  * CPU 0 starts CPU 1 through MPSTAT with BADDR1 = a label | AS (CPU 1
    must begin there) and CPU 2 with AS = 0 (CPU 2 must begin at the reset
    address, the boot stub, and reach _start like CPU 0);
  * CPU 0 forces interrupt 5 on itself, then pends extended line 20; with
    PIL 0 each must be taken exactly once (trap 0x15, then 0x1a = level 10),
    which needs the acknowledge of the trap to clear PIFORCE0 bit 5, IPEND
    bit 20 and to latch 20 in PEXTACK0;
  * CPU 1 powers down (%asr19): MPSTAT.STATUS shows it, and writing its bit
    resets it and runs it from BADDR1 again.
The guest stores what it saw in RAM; the test reads it over QMP.  Expected
values: GR740-UM-DS sect. 21 (FACTS.md 2, 3.1), SPARC V8 trap types.
Skips (77) without the cross compiler.
"""
# itc-test-timeout: 120
import os
import subprocess
import time

import itctest
from itctest import check, check_eq

RESULT = 0x10000

GUEST = r"""
    .section .text.start, "ax"
    .global _start
    .align 4096
traptable:
    .rept 256
    ba      trap
     rd     %tbr, %l3
    nop
    nop
    .endr
_start:
    rd      %asr17, %g5
    srl     %g5, 28, %g5            /* CPU index */
    set     traptable, %g1
    wr      %g1, %tbr
    wr      %g0, 2, %wim
    wr      %g0, 0xfe0, %psr        /* S, PS, PIL=15, ET=1, CWP=0 */
    nop; nop; nop
    cmp     %g5, 0
    bne     via_reset
     nop
    set     0x10000, %g4            /* results */
    set     0xff904000, %g1         /* IRQ(A)MP */
    set     via_baddr, %g2
    or      %g2, 1, %g2             /* AS */
    st      %g2, [%g1 + 0x204]      /* BADDR1 */
    mov     2, %g2
    st      %g2, [%g1 + 0x10]       /* MPSTAT: start CPU 1 */
    mov     4, %g2
    st      %g2, [%g1 + 0x10]       /* start CPU 2 (BADDR2.AS = 0) */
    mov     0x20, %g2
    st      %g2, [%g1 + 0x40]       /* PIMASK0 = line 5 */
    st      %g2, [%g1 + 0x80]       /* PIFORCE0: force 5 */
    wr      %g0, 0x0e0, %psr        /* PIL 0: take it */
    nop; nop; nop; nop
    wr      %g0, 0xfe0, %psr
    nop; nop; nop
    set     0x100000, %g2           /* extended line 20 */
    st      %g2, [%g1 + 0x40]
    st      %g2, [%g1 + 0x04]       /* IPEND */
    wr      %g0, 0x0e0, %psr
    nop; nop; nop; nop
    wr      %g0, 0xfe0, %psr
    nop; nop; nop
    ld      [%g1 + 0x80], %g2
    st      %g2, [%g4 + 8]          /* PIFORCE0 */
    ld      [%g1 + 0x04], %g2
    st      %g2, [%g4 + 12]         /* IPEND */
    ld      [%g1 + 0xc0], %g2
    st      %g2, [%g4 + 16]         /* PEXTACK0 */
    set     0x10030, %g6            /* run counts */
4:  ld      [%g6 + 4], %g2          /* CPU 1 ran once ... */
    cmp     %g2, 1
    bne     4b
     nop
    set     1000000, %g3
5:  ld      [%g1 + 0x10], %g2       /* ... and is in power-down */
    andcc   %g2, 2, %g0
    bne     6f
     nop
    subcc   %g3, 1, %g3
    bne     5b
     nop
6:  st      %g2, [%g4 + 24]         /* MPSTAT then */
    mov     2, %g2
    st      %g2, [%g1 + 0x10]       /* MPSTAT: restart CPU 1 */
7:  ld      [%g6 + 4], %g2
    cmp     %g2, 2
    bne     7b
     nop
    set     0xd0d0, %g2
    st      %g2, [%g4 + 20]
1:  ba      1b
     nop
via_reset:                          /* CPU n started at the reset address */
    set     0x10020, %g4
    sll     %g5, 2, %g3
    set     0x5ec00000, %g2
    or      %g2, %g5, %g2
    st      %g2, [%g4 + %g3]
2:  ba      2b
     nop
via_baddr:                          /* CPU n started at its BADDR */
    rd      %asr17, %g5
    srl     %g5, 28, %g5
    set     0x10020, %g4
    sll     %g5, 2, %g3
    set     0xbadd0000, %g2
    or      %g2, %g5, %g2
    st      %g2, [%g4 + %g3]
    set     0x10030, %g4            /* count the runs */
    ld      [%g4 + %g3], %g2
    add     %g2, 1, %g2
    st      %g2, [%g4 + %g3]
    wr      %g0, %asr19             /* power down (ET = 0: for good) */
3:  ba      3b
     nop
trap:                               /* count traps, log their types */
    srl     %l3, 4, %l3
    and     %l3, 0xff, %l3
    set     0x10000, %l4
    ld      [%l4 + 4], %l5
    sll     %l5, 8, %l5
    or      %l5, %l3, %l5
    st      %l5, [%l4 + 4]
    ld      [%l4], %l5
    add     %l5, 1, %l5
    st      %l5, [%l4]
    jmp     %l1                     /* back to the interrupted instruction */
     rett   %l2
"""



def main():
    itctest.require_sparc_cc()
    d = itctest.private_dir()
    elf = itctest.assemble_guest(d, GUEST)
    sock = os.path.join(d, "qmp.sock")
    lst = itctest.qmp_listener(sock)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", "3", "-display", "none",
                       "-monitor", "none", "-serial", "null", "-qmp", "unix:" + sock,
                       "-kernel", elf], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    qmp = itctest.accept_qmp(lst, p)
    deadline = time.monotonic() + 30
    while not (itctest.read_word(qmp, RESULT + 20) == 0xD0D0 and itctest.read_word(qmp, RESULT + 0x24) and
               itctest.read_word(qmp, RESULT + 0x28)):
        if p.poll() is not None:
            check(False, "QEMU exited: %s" % p.stderr.read().decode()[-800:])
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    qmp.cmd("stop")
    res = [itctest.read_word(qmp, RESULT + 4 * i) for i in range(7)]
    runs = [itctest.read_word(qmp, RESULT + 0x30 + 4 * i) for i in range(3)]
    cpus = [itctest.read_word(qmp, RESULT + 0x20 + 4 * i) for i in range(3)]
    mpstat = itctest.read_word(qmp, 0xFF904010)
    qmp.cmd("quit")
    p.wait(10)
    check_eq(res[5], 0xD0D0, "CPU 0 finished its sequence (results %s)" % [hex(v) for v in res])
    check_eq(res[0], 2, "interrupt traps taken (an unacknowledged one would repeat)")
    check_eq(res[1], 0x151A, "trap types: forced level 5, then extended on level 10")
    check_eq(res[2], 0, "PIFORCE0 after the acknowledge")
    check_eq(res[3], 0, "IPEND after the acknowledge of extended line 20")
    check_eq(res[4], 20, "PEXTACK0")
    check_eq(cpus[1], 0xBADD0001, "CPU 1 started at BADDR1 (AS = 1)")
    check_eq(cpus[2], 0x5EC00002, "CPU 2 started at the reset address (AS = 0)")
    check_eq(cpus[0], 0, "CPU 0 never ran the secondary paths")
    check_eq(res[6] & 0xFFFF, 0b0010, "MPSTAT.STATUS with CPU 1 in power-down")
    check_eq(runs[1], 2, "CPU 1 ran from BADDR1 twice (start, restart)")
    check_eq(mpstat & 0xFFFF, 0b0010, "MPSTAT.STATUS at the end: CPU 1 powered down again")


itctest.run_test(main)
