#!/usr/bin/env python3
# itc-test-timeout: 300
"""itc snap: real QEMU migration streams ingest, export byte-identically,
load into unmodified QEMU; corruption gives exit 2 and verify names the
damaged object; manifests stored as deltas of their parent: a damaged or
missing parent gives exit 2 naming parent and child, rm of a parent keeps
its child exporting; kill -9 during ingest leaves a consistent store."""
import glob
import hashlib
import json
import shutil
import os
import random
import signal
import struct
import subprocess
import time

from itctest import (QEMU, accept_qmp, check, check_eq, private_dir, qmp_listener, run_test, spawn,
                     wait_incoming, wait_migration)

ITC = os.path.join(os.environ.get("ITC_SAN_BIN", os.path.join(os.path.dirname(QEMU), "..", "san", "bin")), "itc")
RAM = 0x40000000


def start_qemu(d, name, extra=()):
    bios = os.path.join(d, "bios.bin")
    with open(bios, "wb") as f:  # "ba ." ; nop: the guest spins in ROM
        f.write(struct.pack(">II", 0x10800000, 0x01000000))
    sock = os.path.join(d, name + ".qmp")
    lst = qmp_listener(sock)
    p = spawn([QEMU, "-M", "leon3_generic", "-m", "64M", "-display", "none", "-monitor", "none",
               "-serial", "none", "-qmp", "unix:" + sock, "-bios", bios, "-S"] + list(extra),
              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return p, accept_qmp(lst, p)


def itc(*args, store=None, check_rc=None, stdin=None):
    argv = [ITC, "snap"] + list(args) + (["--store", store] if store else [])
    r = subprocess.run(argv, capture_output=True, input=stdin)
    if check_rc is not None and r.returncode != check_rc:
        raise AssertionError("%s: rc %d, stderr %s" % (argv, r.returncode, r.stderr.decode()))
    return r


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    d = private_dir()
    store = os.path.join(d, "store")
    streams, values = [], []
    for i in range(3):
        val = 0x11110000 + i
        blob = os.path.join(d, "blob%d" % i)
        with open(blob, "wb") as f:  # 4 pages of distinct content; the rest of RAM stays zero
            f.write(struct.pack(">I", val) * 4096)
        p, q = start_qemu(d, "src%d" % i, ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (blob, RAM + 0x100000)])
        path = os.path.join(d, "s%d.mig" % i)
        q.cmd("migrate", uri="file:" + path)
        wait_migration(q)
        streams.append(path)
        values.append(val)
        p.kill()
        p.wait()
    ids = []
    for s in streams:
        r = itc("ingest", s, store=store, check_rc=0)
        ids.append(r.stdout.split()[-1].decode())
    # streaming from a pipe
    r = itc("ingest", "-", store=store, check_rc=0, stdin=open(streams[0], "rb").read())
    check_eq(r.stdout.split()[-1].decode(), ids[0], "same stream -> same id")
    for s, i in zip(streams, ids):
        out = os.path.join(d, i + ".out")
        itc("export", i, "-o", out, store=store, check_rc=0)
        check_eq(sha(out), sha(s), "export of %s byte-identical" % i)
    itc("verify", store=store, check_rc=0)
    r = itc("ls", "--json", store=store, check_rc=0)
    check(all(i.encode() in r.stdout for i in ids), "ls lists all snapshots")
    r = itc("show", ids[0], store=store, check_rc=0)
    check(b"ram" in r.stdout, "show lists the ram section")
    r = itc("stats", "--json", store=store, check_rc=0)
    check(b"logical_bytes" in r.stdout, "stats")

    # delta manifests (snapshot n is a delta of n - 1, skip-delta every 32nd)
    r = itc("ls", "--json", store=store, check_rc=0)
    info = {x["id"]: x for x in json.loads(r.stdout)}
    check_eq(info[ids[1]]["parent"], ids[0], "parent of the second snapshot")
    check_eq(info[ids[2]]["parent"], ids[1], "parent of the third snapshot")
    check(info[ids[2]]["manifest_bytes"] * 4 < info[ids[0]]["manifest_bytes"],
          "delta manifest much smaller than a full one: %r" % info)
    for case in ("damaged", "missing"):
        s3 = os.path.join(d, "delta-" + case)
        shutil.copytree(store, s3)
        parent = os.path.join(s3, "snaps", ids[0] + ".snap")
        if case == "damaged":
            b = bytearray(open(parent, "rb").read())
            b[len(b) // 2] ^= 0x20
            open(parent, "wb").write(bytes(b))
        else:
            os.remove(parent)
        r = itc("export", ids[2], store=s3)
        check_eq(r.returncode, 2, "export of a child whose parent is %s" % case)
        check(ids[2].encode() in r.stderr and ids[0].encode() in r.stderr,
              "%s parent: message names child and parent: %s" % (case, r.stderr))
        if case == "missing":
            check(b"missing" in r.stderr, "says the parent is missing: %s" % r.stderr)
        r = itc("verify", store=s3)
        check_eq(r.returncode, 2, "verify with a %s parent" % case)
        for k in (1, 2):
            check(any(ids[k].encode() in ln and ids[0].encode() in ln for ln in r.stderr.splitlines()),
                  "verify names child %d and %s parent: %s" % (k, case, r.stderr))
        if case == "damaged":
            r = itc("rm", ids[0], store=s3)
            check_eq(r.returncode, 2, "rm of a damaged parent refused")
            check(ids[1].encode() in r.stderr or ids[2].encode() in r.stderr,
                  "rm names a child: %s" % r.stderr)
            check(os.path.exists(parent), "damaged parent kept")

    # diff names the changed RAM pages and, with --elf, the FSW variable
    r = itc("diff", ids[0], ids[1], store=store, check_rc=1)
    check(b"leon3.ram@101000 changed" in r.stdout, "diff lists a changed page: %s" % r.stdout[-300:])
    r = itc("diff", ids[0], ids[0], store=store, check_rc=0)
    asm = "/usr/bin/sparc64-linux-gnu-as"
    if os.path.exists(asm):
        src = os.path.join(d, "t.s")
        with open(src, "w") as f:
            f.write(".section .data\n.globl telemetry_seq\n.type telemetry_seq,@object\n"
                    ".size telemetry_seq,4\ntelemetry_seq: .word 0\n")
        subprocess.run([asm, "-32", src, "-o", src + ".o"], check=True)
        elf = os.path.join(d, "fsw.elf")
        subprocess.run(["/usr/bin/sparc64-linux-gnu-ld", "-m", "elf32_sparc", "-Tdata=0x%x" % (RAM + 0x102000),
                        "-e", "0", src + ".o", "-o", elf], check=True)
        r = itc("diff", ids[0], ids[1], "--elf", elf, store=store, check_rc=1)
        want = "telemetry_seq: %d -> %d" % (values[0], values[1])
        check(want.encode() in r.stdout, "diff --elf: want %r in %r" % (want, r.stdout[-300:]))

    # exported stream loads into unmodified QEMU and continues
    out = os.path.join(d, ids[-1] + ".out")
    p2, q2 = start_qemu(d, "dst", ["-incoming", "file:" + out])
    wait_incoming(q2)
    check_eq(q2.cmd("query-status")["status"], "running", "status after load")
    q2.cmd("stop")
    words = q2.hmp("xp /2wx 0x%x" % (RAM + 0x100000 + 0x2000)).split()
    check_eq(words[1:3], ["0x%08x" % values[-1]] * 2, "RAM content after load")
    p2.kill()
    p2.wait()

    # corruption of the input stream: truncated and flipped -> exit 2
    data = open(streams[0], "rb").read()
    cstore = os.path.join(d, "cstore")
    for cut in (3, 8, 40, len(data) // 2, len(data) - 1):
        r = itc("ingest", "-", store=cstore, stdin=data[:cut])
        check_eq(r.returncode, 2, "truncated at %d" % cut)
        check(b"itc:" in r.stderr, "message for truncated stream")
    rnd = random.Random(1)
    for _ in range(20):
        b = bytearray(data)
        pos = rnd.randrange(len(b))
        b[pos] ^= 1 << rnd.randrange(8)
        r = itc("ingest", "-", store=cstore, stdin=bytes(b))
        check(r.returncode in (0, 2), "flip at %d: rc %d %s" % (pos, r.returncode, r.stderr))
        if r.returncode == 0:  # accepted: must still round trip exactly
            i = r.stdout.split()[-1].decode()
            e = itc("export", i, store=cstore, check_rc=0)
            check(e.stdout == bytes(b), "flipped stream round trip")

    # corruption inside the store: pack, index, manifest
    def damage(path, off):
        b = bytearray(open(path, "rb").read())
        b[off % len(b)] ^= 0x40
        open(path, "wb").write(bytes(b))

    for kind in ("pack", "snap", "idx"):
        s2 = os.path.join(d, "s-" + kind)
        shutil.copytree(store, s2)
        victim = sorted(glob.glob(os.path.join(s2, "*", "*." + kind)))[0]
        damage(victim, 100 if kind != "idx" else 20)
        r = itc("verify", store=s2)
        check_eq(r.returncode, 2, "verify after damaging %s" % kind)
        name = os.path.basename(victim).rsplit(".", 1)[0]
        check(name.encode() in r.stderr, "verify names %s: %s" % (name, r.stderr))
        if kind == "snap":
            r = itc("export", name, store=s2)
            check_eq(r.returncode, 2, "export of damaged manifest")

    # one damaged block of the newest pack (pages only later checkpoints use):
    # verify names pack and block, those snapshots fail with 2, the first exports
    s2 = os.path.join(d, "s-block")
    shutil.copytree(store, s2)
    victim = sorted(glob.glob(os.path.join(s2, "packs", "*.pack")))[-1]
    damage(victim, 8 + 16 + 30)  # magic, block header, inside the first zstd frame
    r = itc("verify", store=s2)
    check_eq(r.returncode, 2, "verify after damaging a block")
    name = os.path.basename(victim)
    check(("%s block 0" % name).encode() in r.stderr, "verify names the block: %s" % r.stderr)
    r = itc("export", ids[-1], store=s2)
    check_eq(r.returncode, 2, "export of a snapshot using the damaged block")
    check(name.encode() in r.stderr, "export names the pack: %s" % r.stderr)
    e = itc("export", ids[0], store=s2, check_rc=0)
    check(e.stdout == open(streams[0], "rb").read(), "first snapshot exports beside a damaged block")

    # crash safety: kill -9 during ingest at seeded random moments
    big = os.path.join(d, "big.mig")
    with open(big, "wb") as f:
        f.write(data)
    rnd = random.Random(7)
    for t in range(4):
        b = bytearray(data)
        b[-500] ^= 0  # keep
        pr = subprocess.Popen([ITC.replace("/san/", "/rel/"), "snap", "ingest", "-", "--store", store],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        half = rnd.randrange(len(data))
        pr.stdin.write(data[:half])
        pr.stdin.flush()
        time.sleep(rnd.random() * 0.05)
        pr.send_signal(signal.SIGKILL)
        pr.wait()
        try:
            pr.stdin.close()
        except BrokenPipeError:
            pass
    itc("verify", store=store, check_rc=0)
    for s, i in zip(streams, ids):
        e = itc("export", i, store=store, check_rc=0)
        check(e.stdout == open(s, "rb").read(), "export after kills")
    itc("gc", store=store, check_rc=0)
    itc("verify", store=store, check_rc=0)
    itc("rm", ids[0], store=store, check_rc=0)  # parent of ids[1]: rewritten first
    itc("gc", store=store, check_rc=0)
    itc("verify", store=store, check_rc=0)
    for k in (1, 2):
        e = itc("export", ids[k], store=store, check_rc=0)
        check(e.stdout == open(streams[k], "rb").read(), "export of %d after rm+gc" % k)


run_test(main)
