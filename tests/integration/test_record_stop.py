#!/usr/bin/env python3
"""Checkpoints taken during the recording (itc record's default) and patch
0010: a recording whose VM is paused many times (a savevm at each pause)
replays identically.

Before patch 0010, QEMU's main loop kept logging virtual_rt timer
checkpoints and clock reads while a recording was paused (~110 events per
40 ms savevm when the FSW idled).  A replay, which does not pause there,
stalled at that instruction count in about one recording of three with six
pauses.  Here three recordings with ~30 pauses each must each:
- have their checkpoints at exactly every N instructions (hw/itc/itc_stop.c
  pauses the recording there), with `verified: false` in the manifest;
- replay identically with `itc replay` (which breaks at every checkpoint and
  compares the UART byte count there, then the whole output and digest);
- replay without any break (a plain QEMU -icount rr=replay) to exactly the
  recorded end.
One of them is replayed a second time (same digest).  A bundle recorded with
--verify (checkpoints in a replay pass) says `verified: true`.

Taking checkpoints must not change the recorded run (patch 0011: a pause
used to start an idle warp that moved the guest's clock on): the sample FSW
without input, recorded to the same instruction count with and without
checkpoints, ends in the same RAM + register digest with the same UART bytes.

Those pauses come at exact instruction counts, so the CPU is never idle at
them.  A user's `stop` can come at any instant: a raw recording of the FSW
is stopped over QMP 40 times at host-timed instants (about half of the
FSW's time is power-down, so many stops catch the CPU idle with an idle
warp armed, whose timer logged the events), held 30 ms, and continued; its
replay must reach exactly the recorded end."""
# itc-test-timeout: 900
import json
import os
import random
import subprocess
import time

import bundletest as bt
import fswtest
import itctest
from itctest import check, check_eq

EVERY = 20000000
UNTIL = 600000000
RECORDINGS = 3


def plain_replay_end(d, bundle, name):
    """The icount where a replay of BUNDLE's log, from reset and with no
    break, pauses at the recorded end."""
    log = os.path.join(d, name + ".bin")
    subprocess.run(["zstd", "-d", "-q", "-f", os.path.join(bundle, "replay.bin.zst"), "-o", log],
                   check=True)
    return itctest.replay_to_end(d, log, name, os.path.join(bundle, "fsw.elf"), timeout=300)


def stops_at_any_instant(d):
    log = os.path.join(d, "stops.rr")
    p, q = itctest.start_rr(d, "record", log, "stops-rec", fswtest.FSW_ELF)
    rnd = random.Random(7)
    try:
        for _ in range(40):
            time.sleep(rnd.uniform(0.01, 0.06))
            q.cmd("stop")
            time.sleep(0.03)
            q.cmd("cont")
        q.cmd("stop")
        end = q.cmd("itc-icount")["icount"]
        # SIGTERM: QEMU logs the instructions, then the shutdown (see recorder.c)
        p.terminate()
        check_eq(p.wait(timeout=60), 0, "exit status of the recording QEMU")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(end > 100000000, "the recording ran only %d instructions" % end)
    got = itctest.replay_to_end(d, log, "stops-replay", fswtest.FSW_ELF)
    check_eq(got, end, "end of the replay of a recording stopped 40 times at any instant")


def checkpoints_are_invisible(d, env):
    got = {}
    for every in (0, EVERY):
        bundle = os.path.join(d, "invisible-%d" % every)
        rec = bt.ok("record", fswtest.FSW_ELF, "-o", bundle, "--checkpoint-every", every,
                    "--until", "icount:%d" % UNTIL, "--json", env=env).json()
        check_eq(rec["checkpoints"], 0 if not every else UNTIL // every - 1,
                 "checkpoints with --checkpoint-every %d" % every)
        got[every] = (rec["final_digest"], bt.sha256(os.path.join(bundle, "uart.log")))
    check_eq(got[EVERY], got[0], "final digest and UART sha256 with checkpoints every %d "
             "vs without checkpoints" % EVERY)


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    env = {"TMPDIR": d}
    stops_at_any_instant(d)
    checkpoints_are_invisible(d, env)
    digests = []
    for i in range(RECORDINGS):
        bundle = os.path.join(d, "b%d" % i)
        rec = bt.ok("record", fswtest.FSW_ELF, "-o", bundle, "--input", fswtest.ANOMALY_INPUT,
                    "--checkpoint-every", EVERY, "--until", "icount:%d" % UNTIL, "--json",
                    env=env).json()
        check_eq(rec["verified"], False, "record --json: verified (checkpoints during record)")
        with open(os.path.join(bundle, "manifest.json")) as f:
            m = json.load(f)
        check_eq(m["verified"], False, "manifest: verified")
        check_eq(m["icount_end"], UNTIL, "icount_end")
        got = [c["icount"] for c in m["checkpoints"]]
        check_eq(got, list(range(EVERY, UNTIL, EVERY)), "checkpoint icounts of recording %d" % i)
        r = bt.ok("replay", bundle, env=env, timeout=600)
        check("replay identical" in r.out, "itc replay of recording %d: %s" % (i, r.out))
        digests.append(m["final_digest"])
        end = plain_replay_end(d, bundle, "plain%d" % i)
        check_eq(end, UNTIL, "end of the break-less replay of recording %d" % i)
        if i == 0:
            r2 = bt.ok("replay", bundle, "--json", env=env, timeout=600).json()
            check_eq(r2["digest"], m["final_digest"], "second replay: final digest")
    bundle = os.path.join(d, "verified")
    rec = bt.ok("record", fswtest.FSW_ELF, "-o", bundle, "--checkpoint-every", 100000000,
                "--until", "icount:300000000", "--verify", "--json", env=env).json()
    check_eq(rec["verified"], True, "record --verify --json: verified")
    info = bt.ok("info", bundle, "--json", env=env).json()
    check_eq(info["verified"], True, "itc info --json: verified")
    bt.check_no_stray_qemu(d, "record with checkpoints during the recording")


itctest.run_test(body)
