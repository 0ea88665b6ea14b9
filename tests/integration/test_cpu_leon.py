#!/usr/bin/env python3
"""End to end: the GR740 LEON4 CPU registers (qemu/patches/0002).

A guest assembled here with the SPARC cross compiler runs on -M gr740
-smp 4 -icount shift=2 and stores what it saw in RAM (read over QMP):
- %asr17: INDEX = 0 on CPU 0, NWIN = 7 (8 windows), FPU = 01 (GRFPU),
  V8 = 1, MAC = 0 (GR740-UM 6.2.4-6.2.6, 6.5); only DBP, DBPM, DW and SV
  are writable; SV (single-vector trapping) sends a "ta 3" to %tbr.tba + 0
  with tt 0x83 in %tbr, without SV it goes to its own vector.
- %asr22/%asr23 up-counter (UM 6.10.4): 0 with DUCNT = 1 after reset,
  DUCNT writable; counts the 250 MHz clock, so under shift=2 (4 ns per
  instruction = 1 cycle) two reads N instructions apart differ by N + 1
  (the N instructions and the second read); stops while DUCNT = 1.
- the cache control register (ASI 2), the writable %asr17 bits and the
  up-counter survive a migrate-to-file / -incoming round trip.
- each started CPU reads its own index in %asr17 (secondary CPUs need the
  IRQ(A)MP; without it only CPU 0 is checked and the gap is reported).
A second guest takes a trap with traps disabled (ET = 0): the CPU enters
error mode (halted, QOM "error-mode" true, a guest-error log line naming
the trap and pc), QEMU keeps running and answers QMP.
Skips (77) without the cross compiler.
"""
# itc-test-timeout: 180
import os
import subprocess
import time

import itctest
from itctest import check, check_eq

NM = "sparc64-linux-gnu-nm"
RES = 0x10000
N1, N2 = 100, 1000
CC_VALUE = 0x0080000F       # DS, DCS = 11, ICS = 11: caches on, snooping
ASR17_DW = 1 << 14          # set before the checkpoint

GUEST = r"""
#define RES 0x10000
    .section .text.start, "ax"
    .global _start
    .align 4096
traptable:
    rd      %%tbr, %%l3             /* tt 0x00 slot: single-vector entry */
    ba      sv_trap
     nop
    nop
    .rept 0x82
    ba      bad_trap
     rd     %%tbr, %%l3
    nop
    nop
    .endr
    rd      %%tbr, %%l3             /* tt 0x83: "ta 3" vectored entry */
    ba      vec_trap
     nop
    nop
    .rept 256 - 0x84
    ba      bad_trap
     rd     %%tbr, %%l3
    nop
    nop
    .endr

_start:
#ifdef ERRMODE
    set     RES, %%g4
    set     0xe0e0, %%g1
    st      %%g1, [%%g4 + 0x60]
    .global errinsn
errinsn:
    unimp   0                       /* illegal instruction with ET = 0 */
    set     0xbad, %%g1
    st      %%g1, [%%g4 + 0x64]
1:  ba      1b
     nop
#else
    rd      %%asr17, %%g2
    srl     %%g2, 28, %%g3
    cmp     %%g3, 0
    bne     secondary
     nop
    set     traptable, %%g1
    wr      %%g1, %%tbr
    wr      %%g0, 2, %%wim
    wr      %%g0, 0xfe0, %%psr      /* S, PS, PIL = 15, ET = 1 */
    nop; nop; nop
    set     RES, %%g4
    st      %%g2, [%%g4 + 0x00]     /* %%asr17 after reset */
    set     -1, %%g1
    wr      %%g1, %%asr17
    rd      %%asr17, %%g1
    st      %%g1, [%%g4 + 0x04]     /* after writing all ones */
    wr      %%g0, %%asr17
    rd      %%asr17, %%g1
    st      %%g1, [%%g4 + 0x4c]     /* after writing zero */
    set     0x2000, %%g1            /* SV */
    wr      %%g1, %%asr17
    nop; nop; nop
    mov     0x48, %%g5
    ta      3
    wr      %%g0, %%asr17
    nop; nop; nop
    mov     0x50, %%g5
    ta      3
    set     %(dw)d, %%g1
    wr      %%g1, %%asr17           /* DW, kept across the checkpoint */

    rd      %%asr22, %%g1
    st      %%g1, [%%g4 + 0x0c]
    rd      %%asr23, %%g1
    st      %%g1, [%%g4 + 0x10]
    wr      %%g0, %%asr22           /* DUCNT = 0: start the counter */
    rd      %%asr22, %%g1
    st      %%g1, [%%g4 + 0x14]
    rd      %%asr23, %%g2
    .rept   %(n1)d
    nop
    .endr
    rd      %%asr23, %%g3
    sub     %%g3, %%g2, %%g3
    st      %%g3, [%%g4 + 0x18]
    rd      %%asr23, %%g2
    .rept   %(n2)d
    nop
    .endr
    rd      %%asr23, %%g3
    sub     %%g3, %%g2, %%g3
    st      %%g3, [%%g4 + 0x1c]
    set     0x80000000, %%g1
    wr      %%g1, %%asr22           /* DUCNT = 1: stop */
    rd      %%asr23, %%g2
    .rept   %(n1)d
    nop
    .endr
    rd      %%asr23, %%g3
    sub     %%g3, %%g2, %%g3
    st      %%g3, [%%g4 + 0x20]
    wr      %%g0, %%asr22           /* run again */

    set     %(cc)d, %%g1
    sta     %%g1, [%%g0] 2          /* cache control register */
    lda     [%%g0] 2, %%g1
    st      %%g1, [%%g4 + 0x24]

    set     0xff904010, %%g1        /* IRQ(A)MP MPSTAT: start CPUs 1-3 */
    ld      [%%g1], %%g2
    st      %%g2, [%%g4 + 0x28]
    set     0xe, %%g2
    st      %%g2, [%%g1]
    set     0xd0d0, %%g1
    st      %%g1, [%%g4 + 0x2c]
loop:
    lda     [%%g0] 2, %%g1
    st      %%g1, [%%g4 + 0x34]
    rd      %%asr17, %%g1
    st      %%g1, [%%g4 + 0x38]
1:  rd      %%asr22, %%g1
    rd      %%asr23, %%g2
    rd      %%asr22, %%g3
    cmp     %%g1, %%g3
    bne     1b
     nop
    st      %%g1, [%%g4 + 0x3c]
    st      %%g2, [%%g4 + 0x40]
    ld      [%%g4 + 0x30], %%g1
    add     %%g1, 1, %%g1
    ba      loop
     st     %%g1, [%%g4 + 0x30]

secondary:                          /* record own %%asr17, power down */
    set     RES + 0x100, %%g4
    sll     %%g3, 2, %%g3
    st      %%g2, [%%g4 + %%g3]
2:  wr      %%g0, %%asr19
    ba      2b
     nop
#endif

sv_trap:
    srl     %%l3, 4, %%l3
    and     %%l3, 0xff, %%l3
    set     0x5100, %%l4
    ba      trap_record
     or     %%l3, %%l4, %%l3
vec_trap:
    srl     %%l3, 4, %%l3
    and     %%l3, 0xff, %%l3
    set     0x7e00, %%l4
    ba      trap_record
     or     %%l3, %%l4, %%l3
bad_trap:
    srl     %%l3, 4, %%l3
    and     %%l3, 0xff, %%l3
    set     0xbb00, %%l4
    or      %%l3, %%l4, %%l3
    set     RES, %%l4
    st      %%l3, [%%l4 + 0x44]     /* unexpected trap */
    mov     0x44, %%g5
trap_record:
    set     RES, %%l4
    st      %%l3, [%%l4 + %%g5]
    jmp     %%l2
     rett   %%l2 + 4
""" % {"n1": N1, "n2": N2, "cc": CC_VALUE, "dw": ASR17_DW}



def start(d, tag, elf, smp, extra=()):
    sock = os.path.join(d, "qmp-%s.sock" % tag)
    lst = itctest.qmp_listener(sock)
    errpath = os.path.join(d, "stderr-%s.txt" % tag)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", str(smp), "-display", "none",
                       "-monitor", "none", "-serial", "null", "-icount", "shift=2",
                       "-qmp", "unix:" + sock, "-kernel", elf] + list(extra),
                      stdin=subprocess.DEVNULL, stderr=open(errpath, "wb"))
    p.errpath = errpath
    return p, itctest.accept_qmp(lst, p)


def wait_word(qmp, p, addr, want, what, timeout=30):
    deadline = time.monotonic() + timeout
    while itctest.read_word(qmp, addr) != want:
        check(p.poll() is None, "QEMU exited: %s" % open(p.errpath).read()[-800:])
        check(time.monotonic() < deadline, "%s: word at 0x%x never became 0x%x"
              % (what, addr, want))
        time.sleep(0.05)


def counter(qmp):
    return (itctest.read_word(qmp, RES + 0x3c) & 0xFFFFFF) << 32 | itctest.read_word(qmp, RES + 0x40)


def check_registers(qmp):
    r = [itctest.read_word(qmp, RES + 4 * i) for i in range(0x15)]
    asr17 = r[0]
    check_eq(asr17 >> 28, 0, "%asr17 INDEX on CPU 0")
    check_eq(asr17 & 0x1F, 7, "%asr17 NWIN (8 register windows)")
    check_eq((asr17 >> 10) & 3, 1, "%asr17 FPU (GRFPU)")
    check_eq((asr17 >> 8) & 3, 1, "%asr17 V8 = 1, M (MAC) = 0")
    check_eq(asr17 & 0x0C006000, 1 << 26, "%asr17 writable fields after reset")
    check_eq(r[1], asr17 | 0x0C006000, "%asr17 after writing all ones: only "
             "DBP, DBPM, DW, SV change")
    check_eq(r[0x4c // 4], asr17 & ~0x0C006000, "%asr17 after writing zero")
    check_eq(r[0x48 // 4], 0x5183, "ta 3 with SV: entry at tba + 0, tt 0x83")
    check_eq(r[0x50 // 4], 0x7e83, "ta 3 without SV: its own vector")
    check_eq(r[0x44 // 4], 0, "no unexpected trap")
    check_eq(r[0x0c // 4], 0x80000000, "%asr22 after reset: DUCNT = 1, count 0")
    check_eq(r[0x10 // 4], 0, "%asr23 after reset (counter stopped)")
    check_eq(r[0x14 // 4] >> 31, 0, "%asr22 DUCNT after writing 0")
    check_eq(r[0x18 // 4], N1 + 1, "up-counter delta over %d instructions" % N1)
    check_eq(r[0x1c // 4], N2 + 1, "up-counter delta over %d instructions" % N2)
    check_eq(r[0x20 // 4], 0, "up-counter delta while DUCNT = 1 on every CPU")
    check_eq(r[0x24 // 4], CC_VALUE, "cache control register read back")
    return asr17, r[0x28 // 4]


def main():
    itctest.require_sparc_cc(NM)
    d = itctest.private_dir()
    elf = itctest.assemble_guest(d, GUEST, "guest")
    errelf = itctest.assemble_guest(d, GUEST, "errmode", ["ERRMODE"])

    p, qmp = start(d, "src", elf, 4)
    wait_word(qmp, p, RES + 0x2c, 0xD0D0, "guest")
    asr17, mpstat = check_registers(qmp)

    # SMP: every started CPU reads its own index.
    if (mpstat >> 28) == 3:
        for i in range(1, 4):
            wait_word(qmp, p, RES + 0x100 + 4 * i, asr17 & 0x0FFFFFFF | i << 28,
                      "%%asr17 of CPU %d" % i)
    else:
        print("KNOWN GAP: no IRQ(A)MP (MPSTAT reads %08x): CPUs 1-3 cannot be "
              "started, only CPU 0's %%asr17 checked" % mpstat)
    check_eq(itctest.read_word(qmp, RES + 0x100), 0, "CPU 0 does not take the secondary path")

    # Checkpoint round trip.
    deadline = time.monotonic() + 30
    while itctest.read_word(qmp, RES + 0x30) < 10:
        check(time.monotonic() < deadline, "guest loop does not run")
        time.sleep(0.05)
    qmp.cmd("stop")
    loops = itctest.read_word(qmp, RES + 0x30)
    upcnt = counter(qmp)
    check(upcnt > N2, "up-counter running before the checkpoint (%d)" % upcnt)
    ck = os.path.join(d, "ck.mig")
    qmp.cmd("migrate", uri="file:" + ck)
    itctest.wait_migration(qmp)
    qmp.cmd("quit")
    p.wait(10)

    p, qmp = start(d, "dst", elf, 4, ["-incoming", "defer"])
    qmp.cmd("migrate-incoming", uri="file:" + ck)
    itctest.wait_incoming(qmp)
    deadline = time.monotonic() + 30
    while itctest.read_word(qmp, RES + 0x30) <= loops + 2:
        check(p.poll() is None, "restored QEMU exited")
        check(time.monotonic() < deadline, "restored guest does not run")
        time.sleep(0.05)
    qmp.cmd("stop")
    check_eq(itctest.read_word(qmp, RES + 0x34), CC_VALUE, "cache control register after restore")
    check_eq(itctest.read_word(qmp, RES + 0x38), (asr17 & ~0x0C006000) | ASR17_DW,
             "%asr17 (DW set) after restore")
    after = counter(qmp)
    check(after > upcnt, "up-counter continues after restore (%d -> %d)" % (upcnt, after))
    check(itctest.read_word(qmp, RES + 0x3c) >> 31 == 0, "DUCNT still 0 after restore")
    qmp.cmd("quit")
    p.wait(10)

    # Trap with ET = 0: error mode, QEMU keeps running.
    nm = subprocess.run([NM, errelf], capture_output=True, text=True, check=True).stdout
    errinsn = int([ln.split()[0] for ln in nm.splitlines() if ln.endswith(" errinsn")][0], 16)
    p, qmp = start(d, "err", errelf, 1, ["-d", "guest_errors"])
    wait_word(qmp, p, RES + 0x60, 0xE0E0, "error-mode guest")
    cpu = qmp.cmd("query-cpus-fast")[0]["qom-path"]
    deadline = time.monotonic() + 30
    while not qmp.cmd("qom-get", path=cpu, property="error-mode"):
        check(p.poll() is None, "QEMU exited on a trap with ET = 0: %s"
              % open(p.errpath).read()[-800:])
        check(time.monotonic() < deadline, "CPU never reported error mode")
        time.sleep(0.05)
    time.sleep(0.2)
    check(p.poll() is None, "QEMU still running")
    check_eq(qmp.cmd("query-status")["status"], "running", "VM run state")
    check_eq(itctest.read_word(qmp, RES + 0x64), 0, "nothing executes after the trapping instruction")
    regs = qmp.hmp("info registers")
    check("pc: %08x" % errinsn in regs, "pc left at the trapping instruction "
          "0x%08x: %s" % (errinsn, regs[:200]))
    qmp.cmd("quit")
    p.wait(10)
    log = open(p.errpath).read()
    check("trap 0x02" in log and "error mode" in log and "%08x" % errinsn in log,
          "guest-error log names trap 0x02 and the pc: %r" % log[-400:])


itctest.run_test(main)
