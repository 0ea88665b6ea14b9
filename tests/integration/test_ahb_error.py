#!/usr/bin/env python3
"""End to end: a GR740 guest load from an address no AHB slave decodes gets
an AHB error response.  The CPU must take a data access exception (trap
type 0x09, SPARC V8) and AHBSTAT must capture the failing access (NE,
HWRITE = 0, HSIZE = word, HMASTER = CPU 0, AHBFAR = the address), while a
load from unassigned APB space returns 0 without any trap (GR740-UM
38.2.1).  The guest is a few instructions assembled here with the SPARC
cross compiler; it stores what it saw in RAM, which the test reads over
QMP.  Skips (77) without the cross compiler.
"""
# itc-test-timeout: 120
import os
import subprocess
import time

import itctest
from itctest import check, check_eq

# LEON4 traps on an AHB error response also with the MMU off (upstream
# QEMU only traps with the SRMMU enabled; qemu/patches/0002 fixes that).
RESULT = 0x10000  # results[0..4]

GUEST = r"""
    .section .text.start, "ax"
    .global _start
    .align 4096
traptable:
    .rept 256
    ba      bad_trap
     rd     %tbr, %l3
    nop
    nop
    .endr
_start:
    set     traptable, %g1
    wr      %g1, %tbr
    wr      %g0, 2, %wim
    wr      %g0, 0xfe0, %psr        /* S, PS, PIL=15, ET=1, CWP=0 */
    nop; nop; nop
    set     0x10000, %g4            /* results */
    st      %g0, [%g4]
    set     0xff800000, %g1
    ld      [%g1], %g2              /* no slave: AHB error -> trap 0x09 */
    set     0xffa06000, %g1         /* AHBSTAT */
    ld      [%g1], %g2
    st      %g2, [%g4 + 4]
    ld      [%g1 + 4], %g2
    st      %g2, [%g4 + 8]
    set     0xff9f0000, %g1         /* unassigned APB space */
    ld      [%g1], %g2
    st      %g2, [%g4 + 12]
    set     0xd0d0, %g2
    st      %g2, [%g4 + 16]
1:  ba      1b
     nop
bad_trap:                           /* record the trap type, skip the insn */
    srl     %l3, 4, %l3
    and     %l3, 0xff, %l3
    set     0x10000, %l4
    ld      [%l4], %l5
    srl     %l5, 16, %l5
    add     %l5, 1, %l5             /* count traps in bits 31:16 */
    sll     %l5, 16, %l5
    or      %l3, %l5, %l5
    st      %l5, [%l4]
    jmp     %l2
     rett   %l2 + 4
"""



def main():
    itctest.require_sparc_cc()
    d = itctest.private_dir()
    elf = itctest.assemble_guest(d, GUEST)
    sock = os.path.join(d, "qmp.sock")
    lst = itctest.qmp_listener(sock)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", "1", "-display", "none",
                       "-monitor", "none", "-serial", "null", "-icount", "shift=0",
                       "-qmp", "unix:" + sock, "-kernel", elf],
                      stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    qmp = itctest.accept_qmp(lst, p)
    deadline = time.monotonic() + 30
    while itctest.read_word(qmp, RESULT + 16) != 0xD0D0:
        # (read stderr only once QEMU has exited: before, read() blocks)
        if p.poll() is not None:
            check(False, "QEMU exited: %s" % p.stderr.read().decode()[-800:])
        check(time.monotonic() < deadline, "guest did not finish (results %s)"
              % [hex(itctest.read_word(qmp, RESULT + 4 * i)) for i in range(5)])
        time.sleep(0.05)
    qmp.cmd("stop")
    traps, ahbs, ahbfar, apb = (itctest.read_word(qmp, RESULT + 4 * i) for i in range(4))
    check_eq(traps >> 16, 1, "number of traps taken")
    check_eq(traps & 0xFF, 0x09, "trap type of the load from an undecoded address")
    check(ahbs & 1 << 8, "AHBSTAT.NE after the AHB error (AHBS %08x)" % ahbs)
    check_eq(ahbs & 0xFF, 2, "AHBS HWRITE=0, HMASTER=0 (CPU 0), HSIZE=2 (word)")
    check_eq(ahbfar, 0xFF800000, "AHBFAR")
    check_eq(apb, 0, "unassigned APB space reads 0 without a trap")
    qmp.cmd("quit")
    p.wait(10)


itctest.run_test(main)
