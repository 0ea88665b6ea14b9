#!/usr/bin/env python3
"""gr740 vs leon3_generic: the same CPU-bound loop under -icount shift=0.

Both guests execute the identical instruction stream (same loop, built for
each machine's RAM and UART address); the time from QEMU start to the
checksum line on the UART is measured for each, alternating machines, and
the median ratio leon3_time / gr740_time is the gr740 instructions-per-second
ratio (target >= 0.95).
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import itctest  # noqa: E402

ROUNDS = int(os.environ.get("ITC_BENCH_ROUNDS", "3"))
BENCH = os.path.join(itctest.BUILD, "bench")


def run(machine, elf):
    argv = [itctest.QEMU, "-M", machine, "-display", "none", "-monitor", "none",
            "-serial", "stdio", "-icount", "shift=0", "-kernel", elf]
    if machine == "gr740":
        argv += ["-smp", "1"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    dt = time.monotonic() - t0
    p.kill()
    p.wait()
    if not line.strip():
        sys.exit("bench_machine: %s printed no checksum" % machine)
    return dt, line.strip().decode()


def main():
    times = {"gr740": [], "leon3_generic": []}
    sums = set()
    for _ in range(ROUNDS):
        for m, elf in (("gr740", "loop-gr740.elf"), ("leon3_generic", "loop-leon3.elf")):
            dt, s = run(m, os.path.join(BENCH, elf))
            times[m].append(dt)
            sums.add(s)
    if len(sums) != 1:
        sys.exit("bench_machine: machines computed different checksums %s" % sums)
    g = statistics.median(times["gr740"])
    l3 = statistics.median(times["leon3_generic"])
    print("%-58s %8.3f   (gr740 %.2fs, leon3_generic %.2fs, target >= 0.95)"
          % ("CPU loop ips, gr740 / leon3_generic (icount shift=0)", l3 / g, g, l3))


if __name__ == "__main__":
    main()
