#!/usr/bin/env python3
"""Snapshot store benchmark: N checkpoints (default 100) of a 256 MiB
leon3_generic guest whose RAM changes between checkpoints (32 MiB of
semi-compressible data loaded at start, then 16 random pages rewritten
per checkpoint through qtest). Each checkpoint is a 'migrate' to file,
ingested into an itc store and also taken as a qcow2 internal snapshot
(savevm). Then the same for N checkpoints of the sample FSW running on
-M gr740 (256 MiB, icount), taken evenly over its run (every
SNAP_BENCH_FSW_MS of wall time), when build/fsw/fsw.elf exists. Prints
ratios measured side by side in this one run.
Env: SNAP_BENCH_N (checkpoints), SNAP_BENCH_FSW_MS (default 100)."""
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from itctest import QEMU_IMG, Qtest, private_dir, wait_migration  # noqa: E402
import fswtest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ITC = os.path.join(ROOT, "build", "rel", "bin", "itc")
RAM = 0x40000000
N = int(os.environ.get("SNAP_BENCH_N", "100"))


def du(path):
    total = 0
    for dp, _, fs in os.walk(path):
        for f in fs:
            total += os.path.getsize(os.path.join(dp, f))
    return total


def timed(argv, **kw):
    t = time.monotonic()
    r = subprocess.run(argv, capture_output=True, **kw)
    if r.returncode != 0:
        raise SystemExit("%s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr.decode()[-500:]))
    return time.monotonic() - t, r


def row(name, ratio, details):
    print("%-58s %8s   %s" % (name, ratio, details))


def main():
    d = private_dir("itc-snapbench-")
    rnd = random.Random(1234)
    bios = os.path.join(d, "bios.bin")
    with open(bios, "wb") as f:
        f.write(struct.pack(">II", 0x10800000, 0x01000000))
    data = os.path.join(d, "data.bin")
    with open(data, "wb") as f:  # pages of text-like, partly repetitive content
        for i in range(32 * 256):
            words = [b"tlm%05d" % rnd.randrange(2000) for _ in range(8)]
            f.write((b" ".join(words) * 64)[:4096])
    disk = os.path.join(d, "vm.qcow2")
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", disk, "16M"], check=True)
    q = Qtest(machine="leon3_generic", qmp=True, extra=[
        "-m", "256M", "-bios", bios, "-device", "loader,file=%s,addr=0x%x,force-raw=on" % (data, RAM + 0x1000000),
        "-drive", "if=none,id=d0,format=qcow2,file=" + disk])
    store = os.path.join(d, "store")
    stored, ids, ingest_s = [], [], []
    mig = os.path.join(d, "cp.mig")
    first = os.path.join(d, "first.mig")
    for i in range(N):
        for _ in range(16):
            addr = RAM + rnd.randrange(0, 256 << 20, 4096)
            q.cmd("write 0x%x 0x1000 0x%s" % (addr, os.urandom(64).hex() * 64))
        if os.path.exists(mig):  # migrate to file: does not truncate an existing file
            os.remove(mig)
        q.qmp.cmd("migrate", uri="file:" + mig)
        wait_migration(q.qmp)
        q.qmp.cmd("cont")
        q.qmp.hmp("savevm cp%d" % i)
        if i == 0:
            os.rename(mig, first)
            src = first
        else:
            src = mig
        t, r = timed([ITC, "snap", "ingest", src, "--store", store])
        ingest_s.append(t)
        ids.append(r.stdout.split()[-1].decode())
        stored.append(du(store))
    q.proc.kill()
    last = mig
    size = os.path.getsize(last)
    deltas = [b - a for a, b in zip(stored, stored[1:])]
    med = statistics.median(deltas) if deltas else stored[0]
    # one checkpoint compressed by the zstd command (time: best of 3, below)
    tz1, r = timed(["zstd", "-1", "-c", last])
    z1 = len(r.stdout)
    tz3, r = timed(["zstd", "-3", "-c", last])
    z3 = len(r.stdout)
    qcow = os.path.getsize(disk)
    total = stored[-1]
    # ingest/export throughput on the last stream (fresh store: all content new)
    # best of 3, alternating with zstd -1 (a loaded 2-core machine is noisy)
    ti = []
    for k in range(3):
        s2 = os.path.join(d, "store2-%d" % k)
        t, r = timed([ITC, "snap", "ingest", last, "--store", s2])
        ti.append(t)
        i2 = r.stdout.split()[-1].decode()
        tz1 = min(tz1, timed(["zstd", "-1", "-c", last])[0])
    ti = min(ti)
    zf = os.path.join(d, "last.zst")
    subprocess.run(["zstd", "-q", "-3", "-f", last, "-o", zf], check=True)
    te, tzd = [], []  # best of 3, alternating, each to a new file
    for k in range(3):
        for f in (os.path.join(d, "x.mig"), os.path.join(d, "z.mig")):
            if os.path.exists(f):
                os.remove(f)
        te.append(timed([ITC, "snap", "export", i2, "-o", os.path.join(d, "x.mig"), "--store", s2])[0])
        tzd.append(timed(["zstd", "-q", "-d", zf, "-o", os.path.join(d, "z.mig")])[0])
    te, tzd = min(te), min(tzd)
    # export of a delta manifest deep in the chain of the 100-checkpoint store
    tel, _ = timed([ITC, "snap", "export", ids[-1], "-o", os.path.join(d, "y.mig"), "--store", store])
    st = subprocess.run([ITC, "snap", "stats", "--json", "--store", store], capture_output=True,
                        check=True)
    import json
    stats = json.loads(st.stdout)
    t0 = time.monotonic()
    subprocess.run([ITC, "snap", "diff", ids[0], ids[-1], "--store", store], capture_output=True)
    td = time.monotonic() - t0
    mb = size / 1e6
    print("snap_bench: %d checkpoints of a 256 MiB guest, stream %.1f MB each" % (N, mb))
    row("snap: median stored bytes per extra checkpoint", "%d" % med, "bytes (stream %d bytes)" % size)
    row("snap: one stream / median extra stored", "%.0fx" % (size / max(med, 1)), "")
    row("snap: N x zstd -1 streams / itc store total", "%.1fx" % (N * z1 / total),
        "itc %d B, zstd-1 one cp %d B, zstd-3 %d B" % (total, z1, z3))
    row("snap: itc store total / zstd -3 of one checkpoint", "%.2fx" % (total / z3),
        "target <= 1.3x; first checkpoint %d B, manifests %d B (%d deltas)"
        % (stored[0], stats["manifest_bytes"], stats["delta_manifests"]))
    row("snap: qcow2 internal snapshots / itc store total", "%.1fx" % (qcow / total), "qcow2 %d B" % qcow)
    row("snap: ingest throughput / zstd -1 throughput", "%.2f" % (tz1 / ti),
        "ingest %.0f MB/s, zstd -1 %.0f MB/s" % (mb / ti, mb / tz1))
    row("snap: export throughput / zstd -1 throughput", "%.2f" % (tz1 / te), "export %.0f MB/s" % (mb / te))
    row("snap: export throughput / zstd -d throughput", "%.2f" % (tzd / te),
        "export %.0f ms, zstd -d %.0f ms (256 MiB guest, target <= 150 ms)" % (te * 1e3, tzd * 1e3))
    row("snap: export of checkpoint %d (delta manifest chain)" % N, "%.0fms" % (tel * 1e3), "")
    row("snap: diff first..last time", "%.2fs" % td, "")


def fsw_bench():
    """N checkpoints of the sample FSW (gr740, 256 MiB) taken evenly over its run."""
    if not os.path.exists(fswtest.FSW_ELF):
        print("snap(gr740 fsw): skipped, %s not built (make fsw)" % fswtest.FSW_ELF)
        return
    d = private_dir("itc-snapbench-fsw-")
    run = fswtest.Run(d, "fsw", input_path=fswtest.ANOMALY_INPUT)
    every = int(os.environ.get("SNAP_BENCH_FSW_MS", "100")) / 1000.0
    store = os.path.join(d, "store")
    mig, first = os.path.join(d, "cp.mig"), os.path.join(d, "first.mig")
    stored, ids, icounts = [], [], []
    try:
        for i in range(N):
            time.sleep(every)
            if os.path.exists(mig):
                os.remove(mig)
            run.qmp.cmd("migrate", uri="file:" + mig)
            wait_migration(run.qmp)
            icounts.append(run.icount())
            run.qmp.cmd("cont")
            if i == 0:
                shutil.copy(mig, first)
            _, r = timed([ITC, "snap", "ingest", mig, "--store", store])
            ids.append(r.stdout.split()[-1].decode())
            stored.append(du(store))
    finally:
        run.proc.kill()
    size = os.path.getsize(mig)
    deltas = [b - a for a, b in zip(stored, stored[1:])]
    med = statistics.median(deltas) if deltas else stored[0]
    _, r = timed(["zstd", "-3", "-c", mig])
    z3 = len(r.stdout)
    total = stored[-1]
    te = min(timed([ITC, "snap", "export", ids[-1], "-o", os.path.join(d, "x%d.mig" % k), "--store",
                    store])[0] for k in range(3))
    t0 = time.monotonic()
    subprocess.run([ITC, "snap", "diff", ids[0], ids[-1], "--store", store], capture_output=True)
    td = time.monotonic() - t0
    print("snap(gr740 fsw): %d checkpoints over %.2f s of guest time (icount %d..%d), stream %.1f MB"
          % (N, (icounts[-1] - icounts[0]) * 4e-9, icounts[0], icounts[-1], size / 1e6))
    row("snap(gr740 fsw): median stored bytes per extra checkpoint", "%d" % med, "bytes")
    row("snap(gr740 fsw): itc store total / zstd -3 of one checkpoint", "%.2fx" % (total / z3),
        "target <= 1.3x; itc %d B, zstd-3 %d B, first checkpoint %d B" % (total, z3, stored[0]))
    row("snap(gr740 fsw): export of last checkpoint", "%.0fms" % (te * 1e3), "")
    row("snap(gr740 fsw): diff first..last time", "%.2fs" % td, "")


main()
fsw_bench()
