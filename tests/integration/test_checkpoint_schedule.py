#!/usr/bin/env python3
"""Checkpoints QEMU takes by itself (hw/itc/itc_checkpoint.c, machine
properties checkpoint-every / checkpoint-dir, QMP event ITC_CHECKPOINT),
which `itc record` uses.

  * with checkpoint-every=E and stop-icount=5E, checkpoints come at exactly
    E, 2E, 3E and 4E instructions (none at the stop), each a complete
    stream file of the size the event gives;
  * they do not perturb the run: a run without them (icount sleep=off, so
    both runs are deterministic) reaches the same RAM digest and UART
    output at 5E, and paused at 2E by stop-icount it has sent the bytes
    the checkpoint's uart-bytes gives (the length of its file chardev);
  * a stream is a savevm stream of that instant: the snapshot store reads
    it, and itc-snapshot-save in the run without checkpoints, paused at the
    same instant, writes the same bytes (QEMU serializes a checkpoint into
    memory and writes it from a thread; the streams differ only in the
    host-clock offsets of the "timer" section);
  * checkpoint-every 0 at run time ends the schedule;
  * checkpoints closer together than writing a file takes (every 20011
    instructions): each waits for the last one's file, none is lost;
  * bad configurations are refused with a message; a checkpoint that cannot
    be written is an ITC_CHECKPOINT event with an error, and the VM runs
    on."""
# itc-test-timeout: 300
import os
import subprocess
import time

import itctest
from itctest import check, check_eq

FSW = os.path.join(itctest.FSW, "fsw.elf")
ITC = os.path.join(itctest.BUILD, "rel", "bin", "itc")
E = 20000007  # odd: not TB- or frame-aligned
END = 5 * E


def start(d, name, mprops, paused=False):
    sock = os.path.join(d, name + ".qmp")
    lst = itctest.qmp_listener(sock)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740," + mprops, "-smp", "1", "-display", "none",
                       "-monitor", "none", "-serial", "file:" + os.path.join(d, name + ".uart"),
                       "-icount", "shift=2,sleep=off", "-kernel", FSW, "-qmp", "unix:" + sock]
                      + (["-S"] if paused else []),
                      stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return p, itctest.accept_qmp(lst, p)


def wait_paused_at(qmp, icount, what, timeout=120):
    deadline = time.monotonic() + timeout
    while qmp.cmd("query-status")["status"] != "paused" or \
            qmp.cmd("itc-icount")["icount"] != icount:
        check(time.monotonic() < deadline,
              "%s: not paused at icount %d after %d s (at %d)"
              % (what, icount, timeout, qmp.cmd("itc-icount")["icount"]))
        time.sleep(0.02)


def checkpoint_events(qmp):
    qmp.cmd("query-status")  # reads the events sent before its reply
    evs = [e["data"] for e in qmp.events if e["event"] == "ITC_CHECKPOINT"]
    qmp.events = [e for e in qmp.events if e["event"] != "ITC_CHECKPOINT"]
    return evs


def uart_bytes(d, name):
    with open(os.path.join(d, name + ".uart"), "rb") as f:
        return f.read()


def same_stream_but_host_clock(ckpt, saved):
    """CKPT (a checkpoint) and SAVED (itc-snapshot-save at the same instant
    in another run) hold the same bytes but for the "timer" section's
    cpu_ticks_offset, dummy and cpu_clock_offset (24 bytes after its
    header): offsets from the host clock."""
    with open(ckpt, "rb") as f:
        a = f.read()
    with open(saved, "rb") as f:
        b = f.read()
    check_eq(len(a), len(b), "length of the checkpoint stream and of itc-snapshot-save's")
    hdr = b"\x05timer" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x02"
    t = a.find(hdr)
    check(t > 0 and b.find(hdr) == t, "the timer section in both streams")
    t += len(hdr)
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    check(all(t <= i < t + 24 for i in diff),
          "bytes that differ outside the timer section's clock offsets: %s"
          % [i for i in diff if not t <= i < t + 24][:10])


def refused(d, argv_tail, want):
    r = subprocess.run([itctest.QEMU, "-smp", "1", "-display", "none", "-monitor", "none",
                        "-serial", "null", "-kernel", FSW, "-S"] + argv_tail,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    check(r.returncode != 0, "%s: QEMU accepted it" % argv_tail)
    check(want in r.stderr, "%s: stderr %r lacks %r" % (argv_tail, r.stderr[-300:], want))


def main():
    d = itctest.private_dir()
    ck = os.path.join(d, "ck")
    os.mkdir(ck)

    # A: the schedule, up to a stop at a multiple of E
    p, qmp = start(d, "a", "checkpoint-dir=%s,checkpoint-every=%d,stop-icount=%d" % (ck, E, END))
    wait_paused_at(qmp, END, "run with checkpoints")
    evs = checkpoint_events(qmp)
    check_eq([e["icount"] for e in evs], [E, 2 * E, 3 * E, 4 * E], "checkpoint instants")
    for e in evs:
        check("error" not in e, "checkpoint at %d: %s" % (e["icount"], e.get("error")))
        path = os.path.join(ck, "ckpt-%d.stream" % e["icount"])
        check_eq(e["path"], path, "stream file of the checkpoint at %d" % e["icount"])
        check_eq(os.path.getsize(path), e["size"], "size of %s" % path)
    check_eq(sorted(os.listdir(ck)), sorted("ckpt-%d.stream" % e["icount"] for e in evs),
             "files in checkpoint-dir (none at the stop)")
    ub = [e["uart-bytes"] for e in evs]
    check(ub == sorted(ub) and ub[-1] > 0, "uart-bytes grow: %s" % ub)
    digest_a = qmp.cmd("itc-ram-digest")["sha256"]
    uart_a = uart_bytes(d, "a")
    check_eq(qmp.cmd("qom-get", path="/machine/apbuart0", property="tx-bytes"), len(uart_a),
             "apbuart0 tx-bytes against its file chardev")

    # the store reads a checkpoint's stream: a savevm stream of that instant
    st = os.path.join(d, "store")
    r = subprocess.run([ITC, "snap", "ingest", evs[1]["path"], "--store", st, "--json"],
                       capture_output=True, text=True, timeout=60)
    check_eq(r.returncode, 0, "itc snap ingest of a checkpoint stream: " + r.stderr[-300:])

    # the schedule ends at run time
    qmp.cmd("qom-set", path="/machine", property="checkpoint-every", value=0)
    qmp.cmd("qom-set", path="/machine", property="stop-icount", value=END + 2 * E)
    qmp.cmd("cont")
    wait_paused_at(qmp, END + 2 * E, "run after checkpoint-every 0")
    check_eq(checkpoint_events(qmp), [], "checkpoints after checkpoint-every 0")
    qmp.cmd("quit")
    p.wait(30)

    # B: no schedule: the same instants, the same bytes and state
    p, qmp = start(d, "b", "stop-icount=%d" % (2 * E))
    wait_paused_at(qmp, 2 * E, "run without checkpoints")
    check_eq(len(uart_bytes(d, "b")), evs[1]["uart-bytes"],
             "UART bytes at %d without checkpoints vs the checkpoint's uart-bytes" % (2 * E))
    saved = os.path.join(d, "b-2E.stream")
    qmp.cmd("itc-snapshot-save", path=saved)
    same_stream_but_host_clock(evs[1]["path"], saved)
    qmp.cmd("qom-set", path="/machine", property="stop-icount", value=END)
    qmp.cmd("cont")
    wait_paused_at(qmp, END, "run without checkpoints")
    check_eq(qmp.cmd("itc-ram-digest")["sha256"], digest_a,
             "RAM digest at %d with and without checkpoints" % END)
    check_eq(uart_bytes(d, "b"), uart_a, "UART output at %d with and without checkpoints" % END)
    qmp.cmd("quit")
    p.wait(30)

    # D: checkpoints closer together than a file takes to write
    dense = os.path.join(d, "dense")
    os.mkdir(dense)
    n, step = 60, 20011
    p, qmp = start(d, "d", "checkpoint-dir=%s,checkpoint-every=%d,stop-icount=%d"
                   % (dense, step, (n + 1) * step))
    wait_paused_at(qmp, (n + 1) * step, "run with dense checkpoints")
    evs_d = checkpoint_events(qmp)
    check_eq([e["icount"] for e in evs_d], [step * (i + 1) for i in range(n)],
             "dense checkpoints' instants")
    for e in evs_d:
        check("error" not in e and os.path.getsize(e["path"]) == e["size"],
              "dense checkpoint %s" % e)
    qmp.cmd("quit")
    p.wait(30)

    # C: a checkpoint that cannot be written: an error event, the VM runs on
    gone = os.path.join(d, "gone")
    os.mkdir(gone)
    p, qmp = start(d, "c", "stop-icount=%d" % (3 * E), paused=True)
    qmp.cmd("qom-set", path="/machine", property="checkpoint-dir", value=gone)
    qmp.cmd("qom-set", path="/machine", property="checkpoint-every", value=E)
    os.rmdir(gone)
    qmp.cmd("cont")
    wait_paused_at(qmp, 3 * E, "run with an unwritable checkpoint-dir")
    evs = checkpoint_events(qmp)
    check_eq([e["icount"] for e in evs], [E, 2 * E], "failed checkpoints' instants")
    for e in evs:
        check("error" in e and "path" not in e and gone in e["error"],
              "failed checkpoint event: %s" % e)
    # bad values at run time: refused, the schedule unchanged
    for prop, value, want in (("checkpoint-dir", os.path.join(d, "a.uart"), "not a directory"),
                              ("checkpoint-dir", "", "must not be empty")):
        try:
            qmp.cmd("qom-set", path="/machine", property=prop, value=value)
            err = None
        except itctest.TestFailure as e:
            err = str(e)
        check(err and want in err, "qom-set %s %r: %s (want %r)" % (prop, value, err, want))
    qmp.cmd("quit")
    p.wait(30)

    # bad configurations at start-up
    refused(d, ["-M", "gr740,checkpoint-every=%d" % E, "-icount", "shift=2"],
            "checkpoint-every needs checkpoint-dir")
    refused(d, ["-M", "gr740,checkpoint-dir=%s,checkpoint-every=%d" % (ck, E)],
            "checkpoint-every needs -icount")
    refused(d, ["-M", "gr740,checkpoint-dir=%s" % os.path.join(d, "nowhere"),
                "-icount", "shift=2"], "is not a directory")


if __name__ == "__main__":
    itctest.run_test(main)
