#!/usr/bin/env python3
"""itc restore: a live QEMU from an instant of a recording continues exactly
like the recording did.

Records the sample FSW's anomaly run to its fatal trap (the FSW then halts
for good, so "the end" is one well-defined instruction), with a checkpoint
every 2e8 instructions.  Restores (a) at the first checkpoint after the
scripted input has all been consumed (commands must arrive before ~2 s of
FSW time, tests/fsw/ANOMALY.md) and (b) at an instruction count between two
checkpoints, runs each live to the recording's end, and compares the UART
bytes with the recording's from that instant on.  A bad --at gives exit 2
and leaves no QEMU running.
"""
# itc-test-timeout: 600
import json
import os
import re
import socket
import subprocess
import time

import bundletest as bt
import fswtest
import itctest
from itctest import check, check_eq

EVERY = 200000000
UNTIL_FATAL = r"uart:FATAL trap[^\n]*\n"
TIME_LIMIT_S = 20    # virtual seconds; the FSW dies at ~5.5 s
INPUT_DONE_NS = 2600000000


# A live run is exact: with patch 0007 an idle warp never carries virtual time
# past the next timer deadline, so the restored run is the recording's, byte
# for byte (scrub checksums included) and instruction for instruction.


def endpoints(bundle, ck, d, env):
    """--paused: QMP, HMP and GDB sockets are printed and answer; the machine
    sits exactly at the checkpoint; quitting through the user's QMP ends itc
    with exit 0."""
    p = itctest.spawn([bt.ITC, "restore", bundle, "--at", ck["name"], "--paused", "--uart-out",
                       os.path.join(d, "ep.uart"), "--json"], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, env=dict(os.environ, **env))
    buf = b""
    deadline = time.monotonic() + 120
    while b"  gdb " not in buf:
        check(time.monotonic() < deadline and p.poll() is None,
              "restore --paused printed no endpoints: %r" % buf)
        buf += os.read(p.stderr.fileno(), 4096)
    eps = dict(re.findall(r"^  (qmp|hmp|gdb)  (\S+)$", buf.decode(), re.M))
    check_eq(sorted(eps), ["gdb", "hmp", "qmp"], "endpoints printed")
    for name, path in eps.items():
        check(path.startswith(d), "%s socket %s not in the private directory" % (name, path))
        mode = os.stat(os.path.dirname(path)).st_mode & 0o777
        check_eq(mode, 0o700, "mode of the endpoint directory")
    s = socket.socket(socket.AF_UNIX)
    s.connect(eps["qmp"])
    q = itctest.QMP(s)
    check_eq(q.cmd("itc-icount")["icount"], ck["icount"], "icount of the paused restored machine")
    h = socket.socket(socket.AF_UNIX)
    h.settimeout(30)
    h.connect(eps["hmp"])
    h.sendall(b"info status\n")
    text = b""
    while b"VM status" not in text:
        text += h.recv(4096)
    g = fswtest.GdbRsp(eps["gdb"])
    check(g.send("?").startswith(("T", "S")), "gdb stub stop reply")
    regs = g.send("g")
    check(len(regs) >= 8 * 72, "gdb register dump too short: %r" % regs[:80])
    g.s.close()
    q.cmd("cont")
    try:
        q.cmd("quit")
    except (itctest.TestFailure, OSError):
        pass
    out, err = p.communicate(timeout=60)
    check_eq(p.returncode, 0, "itc restore after QMP quit (stderr %r)" % err[-500:])
    check_eq(json.loads(out)["end_reason"], "QEMU exited", "end reason")


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    env = {"TMPDIR": d}
    bundle = os.path.join(d, "b")
    bt.ok("record", fswtest.FSW_ELF, "-o", bundle, "--input", fswtest.ANOMALY_INPUT,
          "--checkpoint-every", EVERY, "--json", env=env)
    with open(os.path.join(bundle, "manifest.json")) as f:
        m = json.load(f)
    with open(os.path.join(bundle, "uart.log"), "rb") as f:
        uart = f.read()
    check(fswtest.FATAL in uart, "the recording did not reach the fatal trap: %r" % uart[-300:])
    end = m["icount_end"]
    late = [c for c in m["checkpoints"] if c["virtual_ns"] >= INPUT_DONE_NS]
    check(len(late) >= 2, "want >= 2 checkpoints after %d ns: %r" % (INPUT_DONE_NS,
                                                                    m["checkpoints"]))

    # (a) at a checkpoint
    ck = late[0]
    out = os.path.join(d, "a.uart")
    r = bt.ok("restore", bundle, "--at", ck["name"], "--until", UNTIL_FATAL, "--until",
              "time:%d" % TIME_LIMIT_S, "--uart-out", out, "--json", env=env).json()
    with open(out, "rb") as f:
        got = f.read()
    want = uart[ck["uart_offset"]:]
    if got != want:
        raise itctest.TestFailure(fswtest.describe_difference(
            "restore --at %s" % ck["name"], got, want))
    check_eq(r["end_icount"], end, "instruction count where restored run (a) halted")
    check_eq(r["recorded_input_from_bytes"], 0, "input after a checkpoint past the input")
    check(fswtest.FATAL in got, "restored run did not reach the fatal trap")
    print("restore at %s (icount %d): %d UART bytes identical, halted at the recording's "
          "icount %d" % (ck["name"], ck["icount"], len(got), end))

    # (b) between two checkpoints
    k = late[0]["icount"] + EVERY // 2 + 12345
    check(k < late[1]["icount"], "test setup: icount %d not between checkpoints" % k)
    out = os.path.join(d, "b.uart")
    r = bt.ok("restore", bundle, "--at", k, "--until", UNTIL_FATAL, "--until",
              "time:%d" % TIME_LIMIT_S, "--uart-out", out, "--json", env=env).json()
    with open(out, "rb") as f:
        got = f.read()
    check_eq(r["from"], late[0]["name"], "restore --at %d replayed from" % k)
    check(uart.endswith(got), "restore --at %d: output is not the tail of the recording's: %s"
          % (k, fswtest.describe_difference("restore", got, uart[-len(got):])))
    check(len(got) < len(uart) - late[0]["uart_offset"],
          "restore --at %d: output starts at or before checkpoint %s" % (k, late[0]["name"]))
    check(len(got) > len(uart) - late[1]["uart_offset"],
          "restore --at %d: output starts after checkpoint %s" % (k, late[1]["name"]))
    check_eq(r["recorded_uart_offset"], len(uart) - len(got), "reported UART offset")
    check_eq(r["end_icount"], end, "instruction count where restored run (b) halted")
    print("restore at icount %d: %d UART bytes identical, halted at the recording's icount %d"
          % (k, len(got), end))

    endpoints(bundle, late[0], d, env)

    # (c) --until icount:N stops after exactly N instructions (itc_stop.c)
    stop_at = late[0]["icount"] + 7654321
    r = bt.ok("restore", bundle, "--at", late[0]["name"], "--until", "icount:%d" % stop_at,
              "--uart-out", os.path.join(d, "c.uart"), "--json", env=env).json()
    check_eq(r["end_icount"], stop_at, "restore --until icount: instructions at the end")
    bt.expect_rc(2, ["not after the current instruction count"], "restore", bundle, "--at",
                 late[0]["name"], "--until", "icount:%d" % (late[0]["icount"] - 5),
                 "--uart-out", os.path.join(d, "c2.uart"), env=env)

    # (d) restored before the input: every input byte of the recording is
    # reported as not fed (the replay log's char-read events after K)
    with open(fswtest.ANOMALY_INPUT, "rb") as f:
        script = f.read()
    r = bt.itc("restore", bundle, "--at", "init", "--until", "icount:50000000", "--uart-out",
               os.path.join(d, "d.uart"), "--json", env=env)
    check_eq(r.rc, 0, "restore --at init: %s" % r.describe())
    check_eq(r.json()["recorded_input_from_bytes"], len(script),
             "restore --at init: the recording's input bytes reported as not fed")
    check("%d input bytes at or after icount 0" % len(script) in r.err,
          "restore --at init notes the input it does not feed: %s" % r.err)

    # bad --at
    bt.expect_rc(2, ["no such checkpoint"], "restore", bundle, "--at", "ckpt-9999", env=env)
    bt.expect_rc(2, ["past the end"], "restore", bundle, "--at", end + 1, env=env)
    bt.expect_rc(2, ["--at"], "restore", bundle, "--at", "soon", env=env)
    bt.expect_rc(2, ["needs --uart-out"], "restore", bundle, "--at", "init", "--until",
                 "uart:x", env=env)
    bt.check_no_stray_qemu(d, "itc restore")


itctest.run_test(body)
