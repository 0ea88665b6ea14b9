#!/usr/bin/env python3
"""Regression test for qemu/patches/0009: "migrate" to a file during a
recording.  Unpatched QEMU aborted at once (the migration thread read the
recorded QEMU_CLOCK_HOST without the replay mutex).  Now the migration
completes, the recording goes on (cont), and its replay still stops at the
very instruction where the recording did.  The migration stream is a normal
QEMU stream: the snapshot store ingests it and exports it byte-identically.
Skips (77) without the SPARC cross compiler."""
# itc-test-timeout: 240
import hashlib
import os
import time

import bundletest as bt
import itctest
from itctest import check, check_eq

def main():
    itctest.require_sparc_cc()
    d = itctest.private_dir()
    elf = itctest.assemble_guest(d, itctest.LOOP_GUEST, "loop")
    rr = os.path.join(d, "run.rr")
    stream = os.path.join(d, "mig.stream")
    p, qmp = itctest.start_rr(d, "record", rr, "rec", elf)
    time.sleep(0.3)
    qmp.cmd("migrate", uri="file:" + stream)
    deadline = time.monotonic() + 60
    while True:
        check(p.poll() is None, "QEMU died during migrate in record mode: %s"
              % itctest.stderr_of(d, "rec"))
        st = qmp.cmd("query-migrate").get("status")
        if st in ("completed", "failed", "cancelled"):
            break
        check(time.monotonic() < deadline, "migrate did not finish (status %s)" % st)
        time.sleep(0.05)
    check_eq(st, "completed", "migration status")
    at = qmp.cmd("itc-icount")["icount"]
    qmp.cmd("cont")
    time.sleep(0.3)
    qmp.cmd("stop")
    recorded = qmp.cmd("itc-icount")["icount"]
    check(recorded > at, "the recording did not go on after the migration")
    qmp.cmd("quit")
    check_eq(p.wait(30), 0, "recording QEMU exit status")

    replayed = itctest.replay_to_end(d, rr, "rep", elf)
    check_eq(replayed, recorded, "icount where the replay of a recording with a migrate stops")

    store = os.path.join(d, "store")
    sid = bt.ok("snap", "ingest", stream, "--store", store).out.split()[-1]
    out = os.path.join(d, "back.stream")
    bt.ok("snap", "export", sid, "--store", store, "-o", out)
    with open(stream, "rb") as a, open(out, "rb") as b:
        check(hashlib.sha256(a.read()).digest() == hashlib.sha256(b.read()).digest(),
              "the store did not give the migration stream back byte-identically")
    print("migrate during record at icount %d: completed, %d bytes; replay stops at %d like "
          "the record" % (at, os.path.getsize(stream), replayed))


itctest.run_test(main)
