#!/usr/bin/env python3
"""Faults injected into a running recording through its fault channel
(`itc record --fault-socket SOCK`, then `itc inject --recording SOCK ...`)
join the bundle: the request bytes are recorded serial input, so the
recording's own verification replay (final RAM+register digest, UART bytes,
each fault's state and fired icount) and a later `itc replay` are identical,
which they cannot be unless every replay applies the faults at the
instruction they hit in the recording (the flipped bits of ev_total stay in
RAM).  Faults now, at a later instruction count and at a virtual time are
all accepted; a refused request (bad target) and a channel nobody listens
on give exit 2 with a clear message."""
# itc-test-timeout: 900
import json
import os
import subprocess
import time

import bundletest as bt
import fswtest
import itctest
from itctest import check, check_eq

UNTIL = 2000000000
FIRST = 200000000  # inject once the recording is past this


def main():
    fswtest.require_fsw()
    d = itctest.private_dir()
    ev_total = fswtest.elf_symbols(fswtest.FSW_ELF)["ev_total"]
    sock = os.path.join(d, "faults.sock")
    bundle = os.path.join(d, "live")
    errpath = os.path.join(d, "record.err")
    err = open(errpath, "wb")
    p = itctest.spawn([bt.ITC, "record", fswtest.FSW_ELF, "-o", bundle, "--until",
                       "icount:%d" % UNTIL, "--checkpoint-every", "500000000",
                       "--fault-socket", sock, "--json"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
    # a fault now; the reply tells the instruction count it fired at
    deadline = time.monotonic() + 120
    while True:
        check(p.poll() is None, "itc record ended before the injection (exit %s)" % p.returncode)
        check(time.monotonic() < deadline, "the recording did not reach icount %d" % FIRST)
        if os.path.exists(sock):
            r = bt.itc("inject", "--recording", sock, "mem-seu", "0x%x" % ev_total, "--mask",
                       "0x10", "--now", "--json")
            check_eq(r.rc, 0, "inject --now: %s" % r.describe())
            info = json.loads(r.out)
            if info["fired-icount"] >= FIRST:
                break
            # too early: undo (flip the same bit back) and try again later
            r = bt.itc("inject", "--recording", sock, "mem-seu", "0x%x" % ev_total, "--mask",
                       "0x10", "--now")
            check_eq(r.rc, 0, "inject --now (undo): %s" % r.describe())
        time.sleep(0.2)
    now_icount = info["fired-icount"]
    check(now_icount < UNTIL // 2, "test setup: the recording ran too fast (fault at %d)" % now_icount)
    # at a later instruction count, and at a virtual time
    at = now_icount + 300000007
    bt.ok("inject", "--recording", sock, "mem-seu", "0x%x" % ev_total, "--mask", "0x100",
          "--icount", at)
    vt = info["deadline-ns"] + 1500000000
    bt.ok("inject", "--recording", sock, "mem-seu", "0x%x" % ev_total, "--mask", "0x1000",
          "--time-ns", vt)
    # refused by QEMU: the recording goes on
    bt.expect_rc(2, ["refused", "not in ram"], "inject", "--recording", sock, "mem-seu",
                 "0x7ffffff0", "--now")
    out, _ = p.communicate(timeout=800)
    err.close()
    with open(errpath, "rb") as f:
        msg = f.read().decode(errors="replace")
    check_eq(p.returncode, 0, "itc record with faults through the channel (stderr: %s)"
             % msg[-1500:])
    rec = json.loads(out)
    check_eq(rec["icount_end"], UNTIL, "icount_end")
    with open(os.path.join(bundle, "manifest.json")) as f:
        faults = json.load(f)["faults"]
    live = [f for f in faults if f.get("recorded")]
    check(len(live) >= 3, "recorded faults in the manifest: %r" % faults)
    fired = {f["fired_icount"] for f in live}
    check(now_icount in fired, "the 'now' fault at %d: %r" % (now_icount, live))
    check(at in fired, "the fault at icount %d: %r" % (at, live))
    check(all(f["state"] == "fired" for f in live), "states: %r" % live)
    r = bt.ok("replay", bundle, "--json").json()
    check_eq(r["icount_end"], UNTIL, "itc replay icount_end")
    # a channel nobody listens on
    bt.expect_rc(2, ["fault channel"], "inject", "--recording", sock, "mem-seu",
                 "0x%x" % ev_total, "--now")
    print("%d faults through the fault channel (fired at %s); recording and replay identical"
          % (len(live), sorted(fired)))


if __name__ == "__main__":
    itctest.run_test(main)
