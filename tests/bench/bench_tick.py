#!/usr/bin/env python3
"""Timer-interrupt-heavy loop: gr740 vs leon3_generic under -icount shift=2.

The same guest (tests/bench/tick/tick.S) on both machines: GPTIMER timer 0
interrupts at 10 kHz of virtual time through the interrupt controller
(IRQ(A)MP on gr740, IRQMP on leon3_generic) while the CPU runs a busy loop
of 4.5e8 instructions (1.8 s virtual, ~18000 interrupts).  Time from QEMU
start to the 'D' line, alternating machines; the ratio is
leon3_time / gr740_time (> 1: gr740 faster).  The tick count is read over
QMP and must be the same on both machines."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import itctest  # noqa: E402

ROUNDS = int(os.environ.get("ITC_BENCH_ROUNDS", "3"))
BENCH = os.path.join(itctest.BUILD, "bench")
MACHINES = (("gr740", "tick-gr740.elf", 0x2000), ("leon3_generic", "tick-leon3.elf", 0x40002000))


def run(d, machine, elf, ticks_addr):
    sock = os.path.join(d, machine + ".qmp")
    lst = itctest.qmp_listener(sock)
    argv = [itctest.QEMU, "-M", machine, "-display", "none", "-monitor", "none",
            "-serial", "stdio", "-icount", "shift=2", "-qmp", "unix:" + sock, "-kernel", elf]
    if machine == "gr740":
        argv += ["-smp", "1"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    qmp = itctest.accept_qmp(lst, p)
    line = p.stdout.readline()
    dt = time.monotonic() - t0
    qmp.cmd("stop")
    ticks = int(qmp.hmp("xp /1wx 0x%x" % ticks_addr).split(":")[1].split()[0], 16)
    p.kill()
    p.wait()
    lst.close()
    os.unlink(sock)
    if line.strip() != b"D":
        sys.exit("bench_tick: %s printed %r" % (machine, line))
    return dt, ticks


def main():
    d = itctest.private_dir("itc-bench-")
    times = {m: [] for m, _, _ in MACHINES}
    ticks = {}
    for _ in range(ROUNDS):
        for m, elf, addr in MACHINES:
            dt, n = run(d, m, os.path.join(BENCH, elf), addr)
            times[m].append(dt)
            ticks.setdefault(m, set()).add(n)
    g = statistics.median(times["gr740"])
    l3 = statistics.median(times["leon3_generic"])
    tg, tl = sorted(ticks["gr740"]), sorted(ticks["leon3_generic"])
    if tg[0] < 10000 or tl[0] < 10000:
        sys.exit("bench_tick: too few timer interrupts taken (gr740 %s, leon3_generic %s)"
                 % (tg, tl))
    print("%-58s %8.3f   (gr740 %.2fs, leon3_generic %.2fs, %d vs %d interrupts at 10 kHz)"
          % ("10 kHz timer-interrupt loop, gr740 / leon3_generic speed", l3 / g, g, l3,
             tg[0], tl[0]))


if __name__ == "__main__":
    main()
