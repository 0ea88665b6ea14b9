#!/usr/bin/env python3
"""Deterministic fault injection on hello.elf under icount:
- a memory SEU scheduled at instruction count N flips the first byte of the
  string "checksum " the FSW prints after its loop ('c' -> 'b'), and fires
  at N exactly;
- record with the fault, replay with the same fault: identical UART output;
- a checkpoint (migrate to file) taken while the fault is pending, loaded
  with -incoming into a fresh QEMU: the fault still fires at N."""
# itc-test-timeout: 180
import os
import struct
import subprocess
import time

import itctest
from itctest import check, check_eq

ELF = os.path.join(itctest.FSW, "hello.elf")
GREETING = b"checksum "
CHECKSUM = sum(i * i for i in range(1, 100001)) % 2**32
CLEAN = ("Hello from GR740 flight software\r\nchecksum %d\r\nEND\r\n" % CHECKSUM).encode()
FAULTY = CLEAN.replace(b"checksum", b"bhecksum")
N = 300


def greeting_addr():
    """Physical address of the greeting in hello.elf (ELF32 big-endian)."""
    with open(ELF, "rb") as f:
        data = f.read()
    off = data.index(GREETING)
    phoff, = struct.unpack_from(">I", data, 28)
    phentsize, phnum = struct.unpack_from(">HH", data, 42)
    for i in range(phnum):
        typ, poff, vaddr, paddr, filesz = struct.unpack_from(">IIIII", data, phoff + i * phentsize)
        if typ == 1 and poff <= off < poff + filesz:
            return paddr + off - poff
    raise itctest.TestFailure("greeting not in a PT_LOAD segment")


def start(d, tag, icount="shift=0", extra=()):
    qp = os.path.join(d, "qmp-%s.sock" % tag)
    lst = itctest.qmp_listener(qp)
    out = os.path.join(d, "uart-%s.txt" % tag)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-smp", "1", "-display", "none",
                       "-monitor", "none", "-serial", "file:" + out, "-icount", icount,
                       "-qmp", "unix:" + qp, "-kernel", ELF, "-S"] + list(extra),
                      stdin=subprocess.DEVNULL,
                      stderr=open(os.path.join(d, "stderr-%s.txt" % tag), "wb"))
    p.tag = tag
    p.errpath = os.path.join(d, "stderr-%s.txt" % tag)
    return p, itctest.accept_qmp(lst, p), out


def wait_end(out):
    deadline = time.monotonic() + 60
    data = b""
    while time.monotonic() < deadline:
        with open(out, "rb") as f:
            data = f.read()
        if data.endswith(b"END\r\n"):
            break
        time.sleep(0.05)
    return data


def finish(p, q):
    try:
        q.cmd("quit")
    except (OSError, itctest.TestFailure):
        pass        # QEMU may close the socket before answering
    rc = p.wait(10)
    with open(p.errpath, "rb") as f:
        err = f.read().decode(errors="replace")
    check(rc == 0, "QEMU (%s) exited with %s: %s" % (p.tag, rc, err[-500:]))


def body():
    d = itctest.private_dir()
    addr = greeting_addr()
    word = addr & ~3
    # Big-endian: byte k of a word is bits 31-8k..24-8k; flip bit 0 of 'c'.
    mask = 1 << (24 - 8 * (addr & 3))

    # 1. Exactness and guest reaction.
    p, q, out = start(d, "plain")
    f = q.cmd("itc-inject-fault", kind="mem-seu", target="0x%x" % word, mask=mask, icount=N)
    check_eq(f["state"], "pending", "fault pending before start")
    q.cmd("cont")
    check_eq(wait_end(out), FAULTY, "UART output with an SEU on the string")
    fs = q.cmd("query-itc-faults")
    check_eq((fs[0]["state"], fs[0]["fired-icount"]), ("fired", N), "SEU fired at N")
    finish(p, q)

    # Control: without the fault the output is clean (the test can fail).
    p, q, out = start(d, "control")
    q.cmd("cont")
    check_eq(wait_end(out), CLEAN, "UART output without a fault")
    finish(p, q)

    # 2. Record with the fault, replay with the same fault.
    rr = os.path.join(d, "run.rr")
    outs = []
    for mode in ("record", "replay"):
        p, q, out = start(d, mode, "shift=0,rr=%s,rrfile=%s" % (mode, rr))
        q.cmd("itc-inject-fault", kind="mem-seu", target="0x%x" % word, mask=mask, icount=N)
        q.cmd("cont")
        outs.append(wait_end(out))
        check_eq(q.cmd("query-itc-faults")[0].get("fired-icount"), N, "%s: fired at N" % mode)
        finish(p, q)
    check_eq(outs[0], FAULTY, "recorded UART output")
    check_eq(outs[1], outs[0], "replayed UART output")

    # 3. Checkpoint with the fault pending; load into a fresh QEMU.
    ck = os.path.join(d, "ck.mig")
    p, q, out = start(d, "src")
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x%x" % word, mask=mask, icount=N)
    q.cmd("migrate", uri="file:" + ck)
    itctest.wait_migration(q)
    finish(p, q)
    p, q, out = start(d, "dst", extra=["-incoming", "defer"])
    q.cmd("migrate-incoming", uri="file:" + ck)
    deadline = time.monotonic() + 30
    while q.cmd("query-status")["status"] == "inmigrate":
        check(time.monotonic() < deadline, "incoming migration did not finish")
        time.sleep(0.05)
    fs = q.cmd("query-itc-faults")
    check_eq([(x["state"], x["icount"]) for x in fs], [("pending", N)],
             "pending fault carried by the checkpoint")
    q.cmd("cont")
    check_eq(wait_end(out), FAULTY, "UART output after restoring the checkpoint")
    check_eq(q.cmd("query-itc-faults")[0].get("fired-icount"), N, "restored fault fired at N")
    finish(p, q)


itctest.run_test(body)
