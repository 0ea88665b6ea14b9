#!/usr/bin/env python3
"""itc restore: a live QEMU from an instant of a recording continues exactly
like the recording did.

Records the sample FSW's anomaly run to its fatal trap (the FSW then halts
for good, so "the end" is one well-defined instruction), with a checkpoint
every 2e8 instructions.  Restores (a) at the first checkpoint after the
scripted input has all been consumed (commands must arrive before ~2 s of
FSW time, tests/fsw/ANOMALY.md), (b) at an instruction count between two
checkpoints and (d) at init and at a checkpoint before the input has all come (the live
run gets the rest of the recording's input at its recorded instants), runs
each live to the recording's end, and compares the UART bytes with the
recording's from that instant on.  (e) --no-recorded-input: the run differs.
A damaged uart-rx.log or feed file, or a bad --at, gives a clear error and
leaves no QEMU running.
"""
# itc-test-timeout: 600
import json
import os
import re
import signal
import socket
import subprocess
import time

import bundletest as bt
import fswtest
import itctest
from itctest import check, check_eq

EVERY = 100000000   # the input (paced at 20 ms of FSW time a line) ends at ~1.6e8
UNTIL_FATAL = r"uart:FATAL trap[^\n]*\n"
TIME_LIMIT_S = 20    # virtual seconds; the FSW dies at ~5.5 s
INPUT_DONE_NS = 2600000000


# A live run is exact: with patch 0007 an idle warp never carries virtual time
# past the next timer deadline, so the restored run is the recording's, byte
# for byte (scrub checksums included) and instruction for instruction.


def restore_to_end(bundle, at, out, env, *extra):
    """itc restore --at AT run live to the fatal trap: (its --json result, the UART bytes,
    its stderr)."""
    r = bt.ok("restore", bundle, "--at", at, "--until", UNTIL_FATAL, "--until",
              "time:%d" % TIME_LIMIT_S, "--uart-out", out, "--json", *extra, env=env)
    with open(out, "rb") as f:
        return r.json(), f.read(), r.err


def expect_same(what, got, want):
    if got != want:
        raise itctest.TestFailure(fswtest.describe_difference(what, got, want))


def paused_restore(bundle, ck, d, env):
    """itc restore --paused at CK: (process, {endpoint: socket path})."""
    p = itctest.spawn([bt.ITC, "restore", bundle, "--at", ck["name"], "--paused", "--uart-out",
                       os.path.join(d, "ep.uart"), "--json"], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, env=dict(os.environ, **env))
    buf = b""
    deadline = time.monotonic() + 120
    while b"  gdb " not in buf:
        check(time.monotonic() < deadline and p.poll() is None,
              "restore --paused printed no endpoints: %r" % buf)
        buf += os.read(p.stderr.fileno(), 4096)
    return p, dict(re.findall(r"^  (qmp|hmp|gdb)  (\S+)$", buf.decode(), re.M))


def terminated(bundle, ck, d, env):
    """SIGTERM to itc restore ends the run: exit 0, end reason "interrupted",
    the QEMU gone and its endpoint directory removed."""
    p, eps = paused_restore(bundle, ck, d, env)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    check_eq(p.returncode, 0, "itc restore after SIGTERM (stderr %r)" % err[-500:])
    check_eq(json.loads(out)["end_reason"], "interrupted", "end reason after SIGTERM")
    check(not os.path.exists(os.path.dirname(eps["qmp"])),
          "SIGTERM left the endpoint directory %s" % os.path.dirname(eps["qmp"]))
    bt.check_no_stray_qemu(d, "itc restore ended by SIGTERM")


def endpoints(bundle, ck, d, env):
    """--paused: QMP, HMP and GDB sockets are printed and answer; the machine
    sits exactly at the checkpoint; quitting through the user's QMP ends itc
    with exit 0."""
    p, eps = paused_restore(bundle, ck, d, env)
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
    r, got, _ = restore_to_end(bundle, ck["name"], os.path.join(d, "a.uart"), env)
    expect_same("restore --at %s" % ck["name"], got, uart[ck["uart_offset"]:])
    check_eq(r["end_icount"], end, "instruction count where restored run (a) halted")
    check_eq(r["recorded_input_from_bytes"], 0, "input after a checkpoint past the input")
    check(fswtest.FATAL in got, "restored run did not reach the fatal trap")
    print("restore at %s (icount %d): %d UART bytes identical, halted at the recording's "
          "icount %d" % (ck["name"], ck["icount"], len(got), end))

    # (b) between two checkpoints
    k = late[0]["icount"] + EVERY // 2 + 12345
    check(k < late[1]["icount"], "test setup: icount %d not between checkpoints" % k)
    r, got, _ = restore_to_end(bundle, k, os.path.join(d, "b.uart"), env)
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
    terminated(bundle, late[0], d, env)

    # (c) --until icount:N stops after exactly N instructions (itc_stop.c)
    stop_at = late[0]["icount"] + 7654321
    r = bt.ok("restore", bundle, "--at", late[0]["name"], "--until", "icount:%d" % stop_at,
              "--uart-out", os.path.join(d, "c.uart"), "--json", env=env).json()
    check_eq(r["end_icount"], stop_at, "restore --until icount: instructions at the end")
    bt.expect_rc(2, ["not after the current instruction count"], "restore", bundle, "--at",
                 late[0]["name"], "--until", "icount:%d" % (late[0]["icount"] - 5),
                 "--uart-out", os.path.join(d, "c2.uart"), env=env)

    # (d) restored before the input has all come: the live run gets the rest
    # of the recording's input (uart-rx.log) at the recorded instants, so it
    # is the recording from there on, byte for byte and to the instruction
    check("uart_rx" in m, "the manifest lists no uart_rx: %r" % sorted(m))
    with open(os.path.join(bundle, "uart-rx.log")) as f:
        deliveries = [ln.split() for ln in f if ln.strip() and not ln.startswith("#")]
    check(deliveries, "uart-rx.log lists no delivery")
    # itc record paces --input in guest time: no byte of line K (from 0)
    # reaches the UART before K * 20 ms of virtual time, all of it does, and
    # before the script's first time-tagged command is due (AT 2000 ms), or
    # the anomaly does not happen; the UART lost nothing (the FSW's
    # housekeeping counts RX overruns)
    with open(fswtest.ANOMALY_INPUT, "rb") as f:
        script = f.read()
    for dv in deliveries:
        last_byte = int(dv[0]) + len(dv[3]) // 2 - 1
        line = script[:last_byte].count(b"\n")
        check(int(dv[2]) >= line * 20_000_000,
              "input line %d delivered at %s ns of virtual time, before %d ms"
              % (line, dv[2], line * 20))
    fed = sum(len(dv[3]) // 2 for dv in deliveries)
    check_eq(fed, len(script), "input bytes delivered (uart-rx.log)")
    late = max(int(dv[2]) for dv in deliveries)
    check(late < 2_000_000_000, "the input ended at %d ns of virtual time, after the first "
          "time-tagged command was due" % late)
    rxov = re.findall(rb"rxov=(\d+)", uart)
    check(rxov and all(v == b"0" for v in rxov),
          "the FSW reported UART RX overruns: %s" % sorted(set(rxov)))
    last_delivery = max(int(dv[1]) for dv in deliveries)
    # The feeder paces the input in guest time, but by the watcher's polls
    # (every 50 ms of host time), so where it lands in the run still depends
    # on the host: with no checkpoint before the last delivery, an
    # instruction count before it (reached by replay) stands in.
    early = [c for c in m["checkpoints"] if c["icount"] < last_delivery]
    if early:
        ck = early[0]
    else:  # in the widest gap between two deliveries
        at = sorted({0} | {int(dv[1]) for dv in deliveries})
        a, b = max(zip(at, at[1:]), key=lambda p: p[1] - p[0])
        k = (a + b) // 2
        ck = {"name": str(k), "icount": k, "uart_offset": None}
    later = [dv for dv in deliveries if int(dv[1]) > ck["icount"]]
    check(later, "test setup: no input after %s" % ck["name"])
    out = os.path.join(d, "d.uart")
    # from init too: patch 0024 (no start-up warp) makes the live run's clock
    # the recording's from the first instruction
    for ck in (m["init"], ck):
        r, got, _ = restore_to_end(bundle, ck["name"], out, env)
        offset = ck["uart_offset"]
        if offset is None:
            offset = r["recorded_uart_offset"]
        want = uart[offset:]
        expect_same("restore --at %s with the recording's input" % ck["name"], got, want)
        check_eq(r["end_icount"], end, "instruction count where restored run (d) halted")
        check_eq(r["recorded_input_fed"], True, "recorded_input_fed")
        check_eq(r["left_recording_input"], False, "left_recording_input")
        n = len([dv for dv in deliveries if int(dv[1]) >= ck["icount"]])
        print("restore at %s with %d later input deliveries: %d UART bytes identical, halted at "
              "the recording's icount %d" % (ck["name"], n, len(got), end))
    # at the very instruction count of a delivery (reached by replay): the
    # snapshot's rx-count tells whether that delivery is still to come
    k = int(later[0][1])
    r, got, _ = restore_to_end(bundle, k, out, env)
    check(len(got) > 0 and uart.endswith(got),
          "restore --at %d (an input delivery's icount): output is not the tail of the "
          "recording's: %s" % (k, fswtest.describe_difference("restore", got, uart[-len(got):])))
    check_eq(r["end_icount"], end, "instruction count where restored run (d, %d) halted" % k)
    check_eq(r["left_recording_input"], False, "left_recording_input (--at %d)" % k)

    # (e) the same without the recording's input: a note, and the FSW gets
    # fewer commands (its telemetry counts them)
    r, got, err = restore_to_end(bundle, ck["name"], os.path.join(d, "e.uart"), env,
                            "--no-recorded-input")
    check_eq(r["recorded_input_fed"], False, "recorded_input_fed (--no-recorded-input)")
    check("this live run does not (--no-recorded-input)" in err,
          "restore --no-recorded-input notes the input it does not feed: %s" % err)
    check(got != want, "without the recording's input the run is the same")

    # (e2) a byte the recording did not have (an injected uart-rx fault)
    # before the next recorded delivery: the run has left the recording, and
    # itc says so
    nxt = min(int(dv[1]) for dv in deliveries if int(dv[1]) > ck["icount"])
    extra = (ck["icount"] + nxt) // 2   # between the restore point and the next delivery
    check(ck["icount"] < extra < nxt, "test setup: no room for an extra byte after %d" % ck["icount"])
    faults = os.path.join(d, "extra-byte.json")
    with open(faults, "w") as f:
        json.dump([{"kind": "uart-rx", "target": "apbuart0", "data": "0a",
                    "icount": extra}], f)
    r, got, err = restore_to_end(bundle, ck["name"], os.path.join(d, "e2.uart"), env,
                                 "--faults", faults)
    check_eq(r["left_recording_input"], True, "left_recording_input after an extra input byte")
    check("left the recording" in err, "itc restore does not repeat QEMU's warning: %s" % err)

    # (f) a damaged uart-rx.log is refused (exit 2); QEMU names a malformed
    # feed file and its line
    rx = os.path.join(bundle, "uart-rx.log")
    with open(rx, "rb") as f:
        saved = f.read()
    with open(rx, "ab") as f:
        f.write(b"9 9 9 00\n")
    bt.expect_rc(2, ["uart-rx.log"], "restore", bundle, "--at", ck["name"], env=env)
    with open(rx, "wb") as f:
        f.write(saved)
    bad = os.path.join(d, "bad-feed.log")
    for text, needle in ((b"0 5 100 4142\n12 6 90 41\n", "line 2"),
                         (b"0 5 100 41x2\n", "line 1"),
                         (b"3 5 100 41\n", "line 1")):
        with open(bad, "wb") as f:
            f.write(text)
        q = subprocess.run([itctest.QEMU, "-M", "gr740,uart-rx-feed=" + bad, "-icount",
                            "shift=2", "-display", "none", "-monitor", "none", "-serial",
                            "null", "-kernel", fswtest.FSW_ELF, "-S"],
                           capture_output=True, text=True, timeout=60)
        check(q.returncode != 0 and "rx-feed" in q.stderr and needle in q.stderr,
              "QEMU with a bad rx-feed (%r): rc %d, %r" % (text, q.returncode, q.stderr))

    # bad --at
    bt.expect_rc(2, ["no such checkpoint"], "restore", bundle, "--at", "ckpt-9999", env=env)
    bt.expect_rc(2, ["past the end"], "restore", bundle, "--at", end + 1, env=env)
    bt.expect_rc(2, ["--at"], "restore", bundle, "--at", "soon", env=env)
    bt.expect_rc(2, ["needs --uart-out"], "restore", bundle, "--at", "init", "--until",
                 "uart:x", env=env)
    bt.check_no_stray_qemu(d, "itc restore")


itctest.run_test(body)
