#!/usr/bin/env python3
"""itc record / info / replay: the recording bundle.

Records the sample FSW with the anomaly input script for at least 6e8
instructions with a checkpoint every 1e8, then checks the bundle against
facts the test computes itself (file hashes, the QEMU version file, the
checkpoint schedule), replays it twice (same digest as the manifest) and once
more after moving the bundle to another directory.  Damaged bundles (corrupt
or foreign manifest, truncated replay log, missing bundle, a UART log that no
longer matches the run), a wrong ELF, an existing output directory and a
missing QEMU must give exit 2 with a message naming the problem (exit 1 for a
divergence), and leave no QEMU running.
"""
# itc-test-timeout: 600
import json
import re
import os
import shutil
import signal
import subprocess
import time

import bundletest as bt
import fswtest
import itctest
from itctest import TestFailure, check, check_eq

UNTIL = 600000000
EVERY = 100000000


def check_manifest(bundle, m):
    check_eq(m["format"], "itc-bundle", "manifest format")
    check_eq(m["version"], 2, "manifest version")
    check_eq(m["machine"], "gr740", "machine")
    check_eq(m["smp"], 1, "smp")
    check_eq(m["icount_shift"], 2, "default icount shift (250 MHz)")
    check_eq(m["qemu_version"], bt.qemu_version(), "qemu_version")
    check_eq(m["fsw"]["sha256"], bt.sha256(fswtest.FSW_ELF), "fsw sha256 (of build/fsw/fsw.elf)")
    check_eq(m["input"]["sha256"], bt.sha256(fswtest.ANOMALY_INPUT), "input sha256")
    for key in ("fsw", "input", "replay_log", "uart"):
        path = os.path.join(bundle, m[key]["file"])
        check(os.path.isfile(path), "%s file %s missing" % (key, path))
        check_eq(os.path.getsize(path), m[key]["size"], "%s size" % key)
        check_eq(bt.sha256(path), m[key]["sha256"], "%s sha256" % key)
    with open(os.path.join(bundle, m["replay_log"]["file"]), "rb") as f:
        check(f.read(4) == b"\x28\xb5\x2f\xfd", "replay log is not zstd")
    # the checkpoints are in the bundle's snapshot store: every one exports
    # (checksums verified) to the stream QEMU saved; "init" is at icount 0
    store = os.path.join(bundle, m["checkpoint_store"])
    check_eq(m["checkpoint_store"], "checkpoints", "checkpoint store directory")
    check_eq((m["init"]["name"], m["init"]["icount"]), ("init", 0), "init checkpoint")
    ids = [m["init"]["snapshot"]] + [c["snapshot"] for c in m["checkpoints"]]
    check_eq(len(set(ids)), len(ids), "distinct store snapshots per checkpoint")
    listed = bt.ok("snap", "ls", "--store", store, "--json").json()
    check_eq(sorted(s["id"] for s in listed), sorted(ids), "store contents vs the manifest")
    bt.ok("snap", "verify", "--store", store)
    check(m["replay_log"]["uncompressed_size"] > m["replay_log"]["size"],
          "replay log not compressed")
    for a in m["argv"]:
        check(not a.startswith("/") and "=/" not in a and ",/" not in a,
              "manifest argv has an absolute path (bundle not portable): %r" % a)
    # hw/itc/itc_stop.c pauses the recording at exactly the --until icount
    check_eq(m["icount_end"], UNTIL, "icount_end (--until icount:%d)" % UNTIL)
    # the schedule: every EVERY instructions, strictly inside the recording
    want = list(range(EVERY, m["icount_end"], EVERY))
    got = [c["icount"] for c in m["checkpoints"]]
    check_eq(got, want, "checkpoint icounts")
    names = [c["name"] for c in m["checkpoints"]]
    check_eq(names, ["ckpt-%04d" % (i + 1) for i in range(len(want))], "checkpoint names")
    uart_size = m["uart"]["size"]
    prev_ns, prev_off = 0, 0
    for c in m["checkpoints"]:
        # 4 ns per instruction; idle time only adds virtual time
        check(c["virtual_ns"] >= c["icount"] * 4, "checkpoint %s: virtual time %d < 4 ns x "
              "icount" % (c["name"], c["virtual_ns"]))
        check(c["virtual_ns"] > prev_ns, "checkpoint virtual times not increasing")
        check(prev_off <= c["uart_offset"] <= uart_size, "uart_offset out of order")
        prev_ns, prev_off = c["virtual_ns"], c["uart_offset"]
    check(m["virtual_ns_end"] >= prev_ns, "virtual_ns_end before the last checkpoint")
    check(len(m["final_digest"]) == 64, "final_digest")
    check_eq(m["faults"], [], "faults")
    with open(os.path.join(bundle, "uart.log"), "rb") as f:
        uart = f.read()
    check(b"GR740 sample FSW" in uart and b"TM " in uart,
          "uart.log does not hold the FSW's boot banner and telemetry: %r" % uart[:200])


def interrupted_recording(d, env, sig):
    """Ctrl-C (SIGINT), or SIGTERM, during the record pass ends the
    recording cleanly: exit 0, a complete bundle that replays identically."""
    bundle = os.path.join(d, "interrupted-%d" % sig)
    p = itctest.spawn([bt.ITC, "record", fswtest.FSW_ELF, "-o", bundle, "--input",
                       fswtest.ANOMALY_INPUT, "--json"], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, env=dict(os.environ, **env))
    uart = os.path.join(bundle, "uart.log")
    deadline = time.monotonic() + 120
    while not (os.path.exists(uart) and b"HK 0001" in open(uart, "rb").read()):
        if p.poll() is not None:
            raise TestFailure("record exited early: %r" % (p.communicate(),))
        check(time.monotonic() < deadline, "no housekeeping telemetry in uart.log in 120 s")
        time.sleep(0.1)
    p.send_signal(sig)
    out, err = p.communicate(timeout=300)
    check_eq(p.returncode, 0, "exit status of an interrupted recording (stderr %r)" % err[-800:])
    rec = json.loads(out)
    check_eq(rec["end_reason"], "interrupted", "end_reason")
    with open(os.path.join(bundle, "manifest.json")) as f:
        m = json.load(f)
    check(fswtest.FATAL not in open(uart, "rb").read(), "interrupted run reached the end anyway")
    check_eq(m["icount_end"], rec["icount_end"], "manifest icount_end")
    v = bt.ok("replay", bundle, "--json", env=env).json()
    check(v["identical"], "replay of an interrupted recording: %r" % v)
    print("recording ended by signal %d: %d instructions, replays identically"
          % (sig, m["icount_end"]))


def swept_run_dirs(d, bundle, env):
    """An itc killed with SIGKILL leaves its run directory in TMPDIR (D); the
    next itc that makes one removes it, and another whose owner died, but
    none whose owner lives, has no owner file or another boot."""
    with open("/proc/sys/kernel/random/boot_id") as f:
        scope = "%s %s" % (f.read().strip(), os.readlink("/proc/self/ns/pid"))
    p = subprocess.Popen(["true"])
    p.wait()
    owners = {"dead": "%d %s" % (p.pid, scope), "live": "%d %s" % (os.getpid(), scope),
              "other-boot": "%d 0-0 %s" % (p.pid, os.readlink("/proc/self/ns/pid")),
              "no-owner": None}
    for name, owner in owners.items():
        os.mkdir(os.path.join(d, "itc-replay-" + name))
        with open(os.path.join(d, "itc-replay-" + name, "junk"), "w") as f:
            f.write("x")
        if owner:
            with open(os.path.join(d, "itc-replay-" + name, "itc-owner"), "w") as f:
                f.write(owner + "\n")
    before = set(os.listdir(d))
    k = itctest.spawn([bt.ITC, "replay", bundle], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, env=dict(os.environ, **env))
    deadline = time.monotonic() + 60
    killed = None
    while killed is None:
        check(time.monotonic() < deadline and k.poll() is None,
              "itc replay made no run directory with an owner file in 60 s")
        for n in set(os.listdir(d)) - before:
            owner = os.path.join(d, n, "itc-owner")
            if n.startswith("itc-replay-") and os.path.exists(owner) and \
                    open(owner).read().startswith("%d " % k.pid):
                killed = n
        time.sleep(0.05)
    time.sleep(0.5)
    k.kill()
    k.wait()
    check(os.path.isdir(os.path.join(d, killed)), "test setup: SIGKILL left no run directory")
    bt.ok("replay", bundle, env=env)
    left = set(n for n in os.listdir(d) if n.startswith("itc-"))
    for gone in ("itc-replay-dead", killed):
        check(gone not in left, "the next itc did not remove %s: %s" % (gone, sorted(left)))
    for kept in ("itc-replay-live", "itc-replay-other-boot", "itc-replay-no-owner"):
        check(kept in left, "%s was removed" % kept)
        shutil.rmtree(os.path.join(d, kept))
    check(not [n for n in left if n.startswith("itc-replay-") and n not in
               ("itc-replay-live", "itc-replay-other-boot", "itc-replay-no-owner")],
          "run directories left: %s" % sorted(left))


def copy_bundle(src, d, name):
    dst = os.path.join(d, name)
    shutil.copytree(src, dst)
    return dst


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    env = {"TMPDIR": d}   # every QEMU command line then names d
    bundle = os.path.join(d, "b")
    r = bt.ok("record", fswtest.FSW_ELF, "-o", bundle, "--input", fswtest.ANOMALY_INPUT,
              "--until", "icount:%d" % UNTIL, "--checkpoint-every", "%d" % EVERY, "--json",
              env=env)
    rec = r.json()
    print("recorded: %s" % json.dumps(rec))
    bt.check_no_stray_qemu(d, "itc record")
    with open(os.path.join(bundle, "manifest.json")) as f:
        m = json.load(f)
    check_manifest(bundle, m)
    check_eq(rec["icount_end"], m["icount_end"], "record --json icount_end")
    check_eq(rec["checkpoints"], len(m["checkpoints"]), "record --json checkpoints")

    info = bt.ok("info", bundle, "--json").json()
    check_eq(info["qemu_compatibility"], "compatible", "info compatibility")
    check_eq(info["icount_end"], m["icount_end"], "info icount_end")
    check_eq(info["checkpoints"], m["checkpoints"], "info checkpoints")
    check(info["files_ok"], "info reports damaged files: %r" % info["files"])
    human = bt.ok("info", bundle)
    check("ckpt-0001" in human.out and "compatible" in human.out, "info text: %s" % human.out)

    digests = []
    for i in range(2):
        v = bt.ok("replay", bundle, "--json", env=env).json()
        check(v["identical"] and v["uart_equal"] and v["digest_equal"] and
              v["diverged"] is False,
              "replay %d not identical: %r" % (i + 1, v))
        check_eq(v["digest"], m["final_digest"], "replay %d digest" % (i + 1))
        check_eq(v["icount_end"], m["icount_end"], "replay %d icount_end" % (i + 1))
        digests.append(v["digest"])
    check_eq(digests[0], digests[1], "digests of two replays")
    bt.check_no_stray_qemu(d, "itc replay")
    with open(os.path.join(bundle, "manifest.json")) as f:
        check_eq(json.load(f), m, "manifest after replays (bundle must not change)")

    # portability: move the bundle elsewhere
    other = os.path.join(itctest.private_dir(), "moved", "bundle")
    os.makedirs(os.path.dirname(other))
    shutil.move(bundle, other)
    v = bt.ok("replay", other, "--json", env=env).json()
    check(v["identical"], "replay of the moved bundle: %r" % v)
    bundle = other

    # extra QEMU arguments: kept in the manifest and given to the replay too;
    # the options itc sets itself (or that would change the run) are refused
    ex = os.path.join(d, "extra-args")
    r = bt.ok("record", fswtest.FSW_ELF, "-o", ex, "--until", "icount:50000000", "--",
              "-name", "itc-extra-args", env=env)
    check("fault channel of this recording" in r.err,
          "itc record does not announce its fault channel: %s" % r.err)
    with open(os.path.join(ex, "manifest.json")) as f:
        check_eq(json.load(f)["qemu_extra_args"], ["-name", "itc-extra-args"],
                 "manifest qemu_extra_args")
    v = bt.ok("replay", ex, "--json", env=env).json()
    check(v["identical"], "replay of a recording with extra QEMU arguments: %r" % v)
    for args, what in [(["-smp", "2"], "-smp 2"), (["--icount=shift=3"], "-icount"),
                       (["-machine", "leon3_generic"], "-machine"), (["-S"], "-S")]:
        bad_x = os.path.join(d, "extra-bad")
        r = bt.expect_rc(2, ["extra QEMU argument", what.split()[0]], "record", fswtest.FSW_ELF,
                         "-o", bad_x, "--until", "icount:1000000", "--", *args, env=env)
        check("fault channel" not in r.err,
              "a refused recording announces a fault channel (%s): %s" % (what, r.err))
        check(not os.path.exists(os.path.join(bad_x, "manifest.json")),
              "a refused recording leaves no bundle (%s)" % what)
    bt.check_no_stray_qemu(d, "itc record with extra arguments")
    # an --input that is missing or not a file: exit 2, named, no bundle
    for inp, why in [(os.path.join(d, "missing-input.txt"), "no such file"),
                     (d, "not a regular file")]:
        bad_i = os.path.join(d, "input-bad")
        bt.expect_rc(2, ["--input", inp, why], "record", fswtest.FSW_ELF, "-o", bad_i,
                     "--input", inp, "--until", "icount:1000000", env=env)
        check(not os.path.exists(os.path.join(bad_i, "manifest.json")),
              "a refused --input %s leaves a bundle" % inp)
        bt.expect_rc(2, ["--input", inp, why], "restore", bundle, "--at", "init",
                     "--input", inp, "--uart-out", os.path.join(d, "input-bad.uart"), env=env)

    # ---- damaged bundles: exit 2, a message naming the problem ----
    bad = copy_bundle(bundle, d, "corrupt-manifest")
    with open(os.path.join(bad, "manifest.json"), "w") as f:
        f.write('{"format": "itc-bundle", "version": 1, "machine": ')
    bt.expect_rc(2, ["manifest", "not valid JSON"], "replay", bad, env=env)
    bt.expect_rc(2, ["manifest", "not valid JSON"], "info", bad)
    bt.expect_rc(2, ["manifest"], "restore", bad, "--at", "ckpt-0001", env=env)

    foreign = copy_bundle(bundle, d, "foreign")
    with open(os.path.join(foreign, "manifest.json"), "w") as f:
        json.dump({"format": "something-else", "version": 1}, f)
    bt.expect_rc(2, ["not an itc bundle"], "info", foreign)

    nofield = copy_bundle(bundle, d, "nofield")
    mm = dict(m)
    del mm["icount_end"]
    with open(os.path.join(nofield, "manifest.json"), "w") as f:
        json.dump(mm, f)
    bt.expect_rc(2, ["icount_end"], "replay", nofield, env=env)

    trunc = copy_bundle(bundle, d, "truncated-log")
    log = os.path.join(trunc, m["replay_log"]["file"])
    with open(log, "rb") as f:
        data = f.read()
    with open(log, "wb") as f:
        f.write(data[:len(data) // 2])
    bt.expect_rc(2, ["replay.bin.zst", "truncated"], "replay", trunc, env=env)
    # itc info still shows it all, names the damage and exits 2
    r = bt.expect_rc(2, ["damaged", "missing or resized"], "info", trunc)
    check(re.search(r"replay\.bin\.zst.*(truncated|size|resized)", r.out),
          "itc info does not flag the truncated log: %s" % r.out)
    # with --json the verdict is on stdout too: not a divergence (exit 2)
    v = bt.expect_rc(2, ["truncated"], "replay", trunc, "--json", env=env).json()
    check(v["identical"] is False and v["diverged"] is False and "truncated" in v["error"],
          "itc replay --json on a truncated log: %s" % v)
    # also when the manifest is edited to match the truncated file
    mm = dict(m)
    mm["replay_log"] = dict(m["replay_log"], size=len(data) // 2, sha256=bt.sha256(log))
    with open(os.path.join(trunc, "manifest.json"), "w") as f:
        json.dump(mm, f)
    bt.expect_rc(2, ["replay.bin.zst", "truncated"], "replay", trunc, env=env)

    # a damaged checkpoint store: a flipped byte in the middle of every pack
    # (each pack holds only pages of the checkpoint whose ingest wrote it, so
    # "init" is damaged too); the error names the checkpoint and the block
    damaged = copy_bundle(bundle, d, "damaged-checkpoints")
    packs = os.path.join(damaged, m["checkpoint_store"], "packs")
    for name in os.listdir(packs):
        if not name.endswith(".pack"):
            continue
        q = os.path.join(packs, name)
        with open(q, "r+b") as f:
            f.seek(os.path.getsize(q) // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0xFF]))
    bt.expect_rc(2, ["checkpoint init", "pack", "block"], "replay", damaged, env=env)
    bt.expect_rc(2, ["checkpoint init", "pack", "block"], "restore", damaged, "--at",
                 "ckpt-0002", env=env)
    # the store missing altogether
    gone = copy_bundle(bundle, d, "no-checkpoints")
    shutil.rmtree(os.path.join(gone, m["checkpoint_store"]))
    bt.expect_rc(2, ["checkpoint store is missing"], "replay", gone, env=env)
    bt.expect_rc(2, ["damaged"], "info", gone)

    bt.expect_rc(2, ["no such bundle"], "replay", os.path.join(d, "does-not-exist"), env=env)
    bt.expect_rc(2, ["no such bundle"], "info", os.path.join(d, "does-not-exist"))

    # a recording whose UART log no longer matches the run (one byte more
    # between ckpt-0003 and ckpt-0004): exit 1, the byte offset, the bracket
    div = copy_bundle(bundle, d, "diverged")
    up = os.path.join(div, "uart.log")
    with open(up, "rb") as f:
        u = f.read()
    c3, c4 = m["checkpoints"][2], m["checkpoints"][3]
    pos = (c3["uart_offset"] + c4["uart_offset"]) // 2
    check(c3["uart_offset"] < pos < c4["uart_offset"], "test setup: no UART bytes between "
          "ckpt-0003 and ckpt-0004")
    with open(up, "wb") as f:
        f.write(u[:pos] + b"\x00" + u[pos:])
    mm = json.loads(json.dumps(m))
    mm["uart"] = dict(m["uart"], sha256=bt.sha256(up), size=len(u) + 1)
    for ck in mm["checkpoints"][3:]:
        ck["uart_offset"] += 1
    with open(os.path.join(div, "manifest.json"), "w") as f:
        json.dump(mm, f)
    bt.expect_rc(1, ["diverged", "byte %d" % pos, "between ckpt-0003 (icount %d) and ckpt-0004"
                     % c3["icount"]], "replay", div, env=env)

    # a manifest that says the recording went further than its log: the
    # replay shuts down before the last checkpoint, a divergence (exit 1)
    longer = copy_bundle(bundle, d, "longer")
    mm = json.loads(json.dumps(m))
    last = mm["checkpoints"][-1]
    extra = dict(last, name="ckpt-%04d" % (len(mm["checkpoints"]) + 1),
                 icount=m["icount_end"] + 1000000, virtual_ns=m["virtual_ns_end"] + 4000000)
    mm["checkpoints"].append(extra)
    mm["icount_end"] = extra["icount"] + 1000000
    mm["virtual_ns_end"] = extra["virtual_ns"] + 4000000
    with open(os.path.join(longer, "manifest.json"), "w") as f:
        json.dump(mm, f)
    bt.expect_rc(1, ["shut down at icount %d" % m["icount_end"], "diverged"], "replay", longer,
                 env=env)
    v = bt.expect_rc(1, ["diverged"], "replay", longer, "--json", env=env).json()
    check(v["identical"] is False and v["diverged"] is True and
          ("shut down at icount %d" % m["icount_end"]) in v["error"],
          "itc replay --json on a divergence reported as an error: %s" % v)

    # another QEMU build recorded it
    other_q = copy_bundle(bundle, d, "other-qemu")
    mm = dict(m, qemu_version="0:0.0-other")
    with open(os.path.join(other_q, "manifest.json"), "w") as f:
        json.dump(mm, f)
    bt.expect_rc(2, ["0:0.0-other"], "replay", other_q, env=env)
    r = bt.ok("info", other_q)
    check("incompatible" in r.out and "cannot replay" in r.err, "info on a bundle of another "
          "QEMU: %s %s" % (r.out, r.err))

    # missing QEMU
    bt.expect_rc(2, ["QEMU not found"], "replay", bundle,
                 env=dict(env, ITC_QEMU=os.path.join(d, "no-qemu")))
    v = bt.expect_rc(2, ["QEMU not found"], "replay", bundle, "--json",
                     env=dict(env, ITC_QEMU=os.path.join(d, "no-qemu"))).json()
    check(v["diverged"] is False and "QEMU not found" in v["error"],
          "itc replay --json without QEMU: %s" % v)
    bt.expect_rc(2, ["QEMU not found"], "record", fswtest.FSW_ELF, "-o", os.path.join(d, "x"),
                 env=dict(env, ITC_QEMU=os.path.join(d, "no-qemu")))

    # wrong ELF, bad options, existing output: exit 2, nothing left behind
    for path, needle in ((os.path.realpath("/bin/sh"), "not a 32-bit"),
                         (fswtest.ANOMALY_INPUT, "not an ELF"),
                         (os.path.join(d, "nope.elf"), "No such file")):
        out = os.path.join(d, "wrong-elf")
        bt.expect_rc(2, [needle], "record", path, "-o", out, env=env)
        check(not os.path.exists(out), "record with a bad ELF left %s behind" % out)
    bt.expect_rc(2, ["not empty"], "record", fswtest.FSW_ELF, "-o", bundle, env=env)
    bt.expect_rc(2, ["--until"], "record", fswtest.FSW_ELF, "-o", os.path.join(d, "y"),
                 "--until", "icount:lots", env=env)
    bt.expect_rc(2, ["one CPU"], "record", fswtest.FSW_ELF, "-o", os.path.join(d, "y"),
                 "--smp", "2", env=env)
    bt.check_no_stray_qemu(d, "the error cases")
    swept_run_dirs(d, bundle, env)
    interrupted_recording(d, env, signal.SIGINT)
    interrupted_recording(d, env, signal.SIGTERM)
    bt.check_no_stray_qemu(d, "an interrupted recording")


itctest.run_test(body)
