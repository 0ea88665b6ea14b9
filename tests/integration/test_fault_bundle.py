#!/usr/bin/env python3
"""Faults in recordings: itc record --faults, itc replay/info/debug of the
faulted bundle, itc restore --faults, itc inject.

The sample FSW (no input) reports `ev=<ev_wr>/<ev_total>` in every TM
packet.  The scenario flips, at fixed instruction counts:
  U: a bit of an unused RAM word (0x00800000) before the first checkpoint,
  A: bit 4 of ev_total between checkpoints 1 and 2 (TM shows ev=1/17),
  B: bit 8 of ev_total between checkpoints 3 and 4 (ev=1/273).
Checks: the faults fire at their icount (manifest, itc info --json); the
UART output equals a recording without the scenario up to the checkpoint
before A (but for the TM scrub checksum, see masked_lines) and differs
before the checkpoint after A, with the flipped value in the first
differing line; itc replay is identical; in itc debug, itc-goto
before/after each fault (backwards, through "init" for U and through the
checkpoints for A and B) reads the old/new value; itc restore --faults and
itc inject flip words in a live run (a word the test reads back over QMP),
and bad input (malformed scenarios, past icounts, bad targets) exits 2 with
a message naming the problem, leaving no QEMU running.
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

UNTIL = 300000000
EVERY = 50000000
UNUSED = 0x00800000
U_AT, A_AT, B_AT = 30000000, 70000000, 170000000
GPIO_NS = 1000000000  # a fault at a virtual time (the recording spans ~1.4 s)


def scenario(ev_total):
    return [
        {"kind": "mem-seu", "target": "0x%x" % UNUSED, "mask": "0x40000", "icount": U_AT,
         "comment": "unused word, before the first checkpoint"},
        {"kind": "mem-seu", "target": "0x%x" % ev_total, "mask": 0x10, "icount": A_AT},
        {"kind": "mem-seu", "target": "0x%x" % ev_total, "mask": 0x100, "icount": B_AT},
        {"kind": "gpio", "target": "grgpio0.3", "level": 1, "time-ns": GPIO_NS},
    ]


def write_json(path, obj):
    with open(path, "w") as f:
        if isinstance(obj, str):
            f.write(obj)
        else:
            json.dump(obj, f)
    return path


def record(d, name, faults=None):
    bundle = os.path.join(d, name)
    args = ["record", fswtest.FSW_ELF, "-o", bundle, "--until", "icount:%d" % UNTIL,
            "--checkpoint-every", str(EVERY), "--json"]
    if faults:
        args += ["--faults", faults]
    r = bt.ok(*args)
    return bundle, r.json()


def manifest(bundle):
    with open(os.path.join(bundle, "manifest.json")) as f:
        return json.load(f)


def uart(bundle):
    with open(os.path.join(bundle, "uart.log"), "rb") as f:
        return f.read()


def masked_lines(data):
    """UART lines with the TM scrub checksum and the packet CRC masked: the
    scrub sums the FSW's RAM, UART TX ring included, and two recordings of
    the same run were seen to differ there (host-dependent TX drain timing at
    record time; replays are exact)."""
    return re.sub(rb"scrub=[0-9a-f]+ \*[0-9a-f]+", b"scrub=? *?", data).split(b"\n")


def check_uart(plain, faulted):
    mp, mf = manifest(plain), manifest(faulted)
    cp = {c["icount"]: c["uart_offset"] for c in mp["checkpoints"]}
    cf = {c["icount"]: c["uart_offset"] for c in mf["checkpoints"]}
    before, after = EVERY * (A_AT // EVERY), EVERY * (A_AT // EVERY + 1)
    check_eq(cf[before], cp[before], "UART bytes at the checkpoint before fault A")
    raw = uart(faulted)
    a, b = masked_lines(uart(plain)), masked_lines(raw)
    k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), None)
    check(k is not None, "the scenario did not change the UART output")
    offset = sum(len(x) + 1 for x in raw.split(b"\n")[:k])  # of line k in the faulted log
    check(cf[before] <= offset < cf[after],
          "first differing UART line (%d, byte %d) not between the checkpoints around fault A "
          "(bytes %d..%d): %r / %r" % (k, offset, cf[before], cf[after], b[k], a[k]))
    check(b" ev=1/17 " in b[k] and b" ev=1/1 " in a[k],
          "first differing TM line: faulted %r, plain %r" % (b[k], a[k]))
    check(any(b" ev=1/273 " in x for x in b) and not any(b" ev=1/273 " in x for x in a),
          "fault B not visible in the UART")
    return offset


def check_faults_listed(bundle, ev_total):
    info = bt.ok("info", bundle, "--json").json()
    got = [(f["kind"], f["target"], f.get("icount"), f["state"], f.get("fired_icount"))
           for f in info["faults"]]
    want = [("mem-seu", "0x%x" % a, at, "fired", at)
            for a, at in ((UNUSED, U_AT), (ev_total, A_AT), (ev_total, B_AT))]
    check_eq(got[:3], want, "itc info --json faults")
    g = info["faults"][3]
    check_eq((g["kind"], g["time-ns"], g["state"]), ("gpio", GPIO_NS, "fired"),
             "time-ns fault in itc info --json")
    # at 4 ns per instruction, virtual time runs at least as fast as icount
    check(0 < g["fired_icount"] <= GPIO_NS // 4,
          "gpio fault at %d ns fired at icount %d" % (GPIO_NS, g["fired_icount"]))
    check_eq(manifest(bundle)["faults"], info["faults"], "manifest faults")
    text = bt.ok("info", bundle).out
    check("fired at icount %d" % B_AT in text, "itc info text lists the faults: %s" % text)


GDB_BODY = """
python
import gdb, json
out = []
def at(n, expr):
    gdb.execute("itc-goto %%d" %% n, to_string=True)
    out.append([n, expr, int(gdb.parse_and_eval(expr)) & 0xffffffff])
for n in %s:
    at(n, "ev_total")
    at(n, "*(unsigned int *)0x%x")
with open(%r, "w") as f:
    json.dump(out, f)
end
"""


def check_debug(d, bundle):
    # far forward first, so that every later goto goes backwards (loads a
    # checkpoint, or "init" before the first one)
    points = [UNTIL, U_AT - 1000, U_AT + 1000, A_AT - 1000, A_AT + 1000, B_AT - 1000,
              B_AT + 1000, 1000, A_AT + 1000]
    res = os.path.join(d, "debug.json")
    script = write_json(os.path.join(d, "faults.gdb"), GDB_BODY % (points, UNUSED, res))
    r = bt.itc("debug", bundle, "--batch", script, "--timeout", "300", timeout=400)
    check(r.rc == 0 and os.path.exists(res), "itc debug: %s\n%s" % (r.describe(), r.out[-2000:]))
    with open(res) as f:
        got = {(n, e): v for n, e, v in json.load(f)}
    unused = "*(unsigned int *)0x%x" % UNUSED
    ev_before = got[(A_AT - 1000, "ev_total")]
    check(ev_before & 0x110 == 0, "ev_total before fault A already has the bits: %#x" % ev_before)
    want = {
        (UNTIL, unused): 0x40000, (U_AT - 1000, unused): 0, (U_AT + 1000, unused): 0x40000,
        (1000, unused): 0, (A_AT + 1000, "ev_total"): ev_before ^ 0x10,
        (B_AT - 1000, "ev_total"): ev_before ^ 0x10, (B_AT + 1000, "ev_total"): ev_before ^ 0x110,
        (UNTIL, "ev_total"): ev_before ^ 0x110,
    }
    for k, v in want.items():
        check_eq(got[k], v, "itc debug: %s at icount %d" % (k[1], k[0]))


# ---- live runs: restore --faults, inject ----------------------------------

class Qmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(30)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.f.flush()
        while True:
            m = json.loads(self.f.readline())
            if "return" in m:
                return m["return"]
            if "error" in m:
                raise itctest.TestFailure("QMP %s: %s" % (name, m["error"]))

    def close(self):
        self.f.close()
        self.s.close()


def start_restore(d, bundle, at, extra=()):
    """itc restore --paused in the background; returns (process, qmp socket)."""
    err = open(os.path.join(d, "restore-%s.err" % at), "w+")
    p = subprocess.Popen([bt.ITC, "restore", bundle, "--at", str(at), "--paused",
                          "--uart-out", os.path.join(d, "restore-%s.uart" % at)] + list(extra),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        err.seek(0)
        m = re.search(r"^  qmp  (\S+)$", err.read(), re.M)
        if m:
            return p, err, m.group(1)
        check(p.poll() is None, "itc restore exited %s" % p.poll())
        time.sleep(0.1)
    p.kill()
    raise itctest.TestFailure("itc restore printed no QMP socket")


def stop_restore(p, err):
    p.send_signal(2)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        raise itctest.TestFailure("itc restore did not end on SIGINT")
    err.close()


def check_restore_and_inject(d, bundle):
    at = 2 * EVERY
    words = (UNUSED + 0x100, UNUSED + 0x200, UNUSED + 0x300)
    sc = write_json(os.path.join(d, "restore.json"),
                    [{"kind": "mem-seu", "target": "0x%x" % words[0], "mask": 1,
                      "icount": at + 5000000}])
    p, err, sock = start_restore(d, bundle, at, ["--faults", sc])
    try:
        q = Qmp(sock)
        fs = q.cmd("query-itc-faults")
        mine = [f for f in fs if f["target"] == "0x%x" % words[0]]
        check_eq([(f["state"], f.get("icount")) for f in mine], [("pending", at + 5000000)],
                 "restore --faults: the scenario fault is pending in the live QEMU")
        q.close()  # QEMU's QMP socket serves one client at a time
        # itc inject: into the future, now, and bad input
        r = bt.ok("inject", "--qmp", sock, "mem-seu", "0x%x" % words[1], "--mask", "0x2",
                  "--icount", at + 6000000)
        check(re.fullmatch(r"\d+\n", r.out), "itc inject prints the fault id: %r" % r.out)
        r = bt.ok("inject", "--qmp", sock, "mem-seu", "0x%x" % words[2], "--mask", "4", "--now")
        now_id = int(r.out)
        bt.expect_rc(2, ["in the past"], "inject", "--qmp", sock, "mem-seu", "0x%x" % words[1],
                     "--icount", 1)
        bt.expect_rc(2, ["not in RAM"], "inject", "--qmp", sock, "mem-seu", "0xf0000000",
                     "--now")
        bt.expect_rc(2, ["kind"], "inject", "--qmp", sock, "cosmic-ray", "0x0", "--now")
        bt.expect_rc(2, ["connect"], "inject", "--qmp", os.path.join(d, "nosuch.sock"),
                     "mem-seu", "0x0", "--now")
        q = Qmp(sock)
        q.cmd("cont")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            fs = {f["id"]: f for f in q.cmd("query-itc-faults")}
            if all(f["state"] != "pending" for f in fs.values()):
                break
            time.sleep(0.2)
        q.cmd("stop")
        # the recording's fault B, pending in the checkpoint restored from
        rec_b = [f for f in fs.values() if f.get("icount") == B_AT]
        check_eq([(f["state"], f.get("fired-icount")) for f in rec_b], [("fired", B_AT)],
                 "the recording's pending fault B in the restored run")
        byid = {f["target"]: f for f in fs.values()}
        check_eq(byid["0x%x" % words[0]].get("fired-icount"), at + 5000000,
                 "restore --faults fault fired at its icount")
        check_eq(byid["0x%x" % words[1]].get("fired-icount"), at + 6000000,
                 "itc inject --icount fault fired at its icount")
        check_eq(fs[now_id]["state"], "fired", "itc inject --now fired")
        mem = os.path.join(d, "words.bin")
        q.cmd("pmemsave", val=UNUSED, size=0x400, filename=mem)
        with open(mem, "rb") as f:
            data = f.read()
        got = [int.from_bytes(data[w - UNUSED:w - UNUSED + 4], "big") for w in words]
        check_eq(got, [1, 2, 4], "words flipped by restore --faults / itc inject")
        q.close()
    finally:
        stop_restore(p, err)
    # a restore scenario fault before the restore point: exit 2
    bad = write_json(os.path.join(d, "restore-past.json"),
                     [{"kind": "mem-seu", "target": "0x%x" % UNUSED, "icount": at - 1}])
    bt.expect_rc(2, ["fault 1", "before the restore point"], "restore", bundle, "--at", at,
                 "--faults", bad, "--uart-out", os.path.join(d, "x.uart"))


# ---- bad scenarios -----------------------------------------------------------

BAD = [
    ("malformed", '[{"kind": "mem-seu",', ["malformed JSON"]),
    ("not-array", '{"kind": "mem-seu"}', ["array"]),
    ("unknown-kind", [{"kind": "cosmic-ray", "target": "0x0", "icount": 5}],
     ["fault 1", "unknown kind 'cosmic-ray'"]),
    ("unknown-field", [{"kind": "mem-seu", "target": "0x0", "icount": 5},
                       {"kind": "mem-seu", "target": "0x0", "icount": 5, "colour": "red"}],
     ["fault 2", "unknown field 'colour'"]),
    ("no-instant", [{"kind": "mem-seu", "target": "0x0"}], ["fault 1", "icount"]),
    ("now", [{"kind": "mem-seu", "target": "0x0", "now": True}], ["fault 1", "now"]),
    ("negative", [{"kind": "mem-seu", "target": "0x0", "icount": -5}],
     ["fault 1", "icount", "out of range"]),
    ("float", [{"kind": "mem-seu", "target": "0x0", "time-ns": 1.5}],
     ["fault 1", "time-ns", "integer"]),
    ("mask-type", [{"kind": "mem-seu", "target": "0x0", "mask": True, "icount": 5}],
     ["fault 1", "mask"]),
    ("both", [{"kind": "mem-seu", "target": "0x0", "icount": 5, "time-ns": 5}],
     ["fault 1", "either"]),
    ("no-target", [{"kind": "gpio", "icount": 5}], ["fault 1", "target"]),
    ("uart-no-data", [{"kind": "uart-rx", "target": "apbuart0", "icount": 5}],
     ["fault 1", "data"]),
    ("not-object", [5], ["fault 1", "object"]),
]


def check_bad_scenarios(d):
    for name, content, needles in BAD:
        path = write_json(os.path.join(d, "bad-%s.json" % name), content)
        out = os.path.join(d, "bad-bundle-%s" % name)
        bt.expect_rc(2, needles + [path], "record", fswtest.FSW_ELF, "-o", out, "--until",
                     "icount:1000000", "--faults", path)
        check(not os.path.exists(out), "%s: a bundle directory was created" % name)
    bt.expect_rc(2, ["no such file"], "record", fswtest.FSW_ELF, "-o", os.path.join(d, "x"),
                 "--faults", os.path.join(d, "missing.json"))
    # QEMU refuses the target: exit 2 with QEMU's reason, nothing left behind
    path = write_json(os.path.join(d, "bad-target.json"),
                      [{"kind": "mem-seu", "target": "0xf0000000", "icount": 5}])
    out = os.path.join(d, "bad-target-bundle")
    bt.expect_rc(2, ["fault 1", "not in RAM"], "record", fswtest.FSW_ELF, "-o", out,
                 "--until", "icount:1000000", "--faults", path)
    check(not os.path.exists(os.path.join(out, "manifest.json")), "bad target left a bundle")


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    ev_total = fswtest.elf_symbols(fswtest.FSW_ELF)["ev_total"]
    check_bad_scenarios(d)
    bt.check_no_stray_qemu(d, "bad scenarios")

    sc = write_json(os.path.join(d, "scenario.json"), scenario(ev_total))
    faulted, rec = record(d, "faulted", sc)
    plain, _ = record(d, "plain")
    bt.check_no_stray_qemu(d, "itc record")
    check_eq([(f["state"], f.get("fired_icount")) for f in rec["faults"]][:3],
             [("fired", U_AT), ("fired", A_AT), ("fired", B_AT)], "itc record --json faults")
    check_eq(manifest(plain)["faults"], [], "plain recording has no faults")
    check_faults_listed(faulted, ev_total)
    diff_at = check_uart(plain, faulted)
    print("UART differs from byte %d; init re-save %.3f s" % (diff_at, rec["init_resave_seconds"]))

    r = bt.ok("replay", faulted, "--json")
    v = r.json()
    check(v["identical"] and v["faults_equal"], "itc replay of the faulted bundle: %s" % r.out)

    check_debug(d, faulted)
    check_restore_and_inject(d, faulted)
    bt.check_no_stray_qemu(d, "itc debug/restore")


itctest.run_test(body)
