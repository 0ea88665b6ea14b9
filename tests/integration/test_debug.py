#!/usr/bin/env python3
"""itc debug end to end on a recording of the sample FSW's anomaly run.

1. Forward reference: in one replay, run forward (upstream replay breaks,
   no checkpoints involved) to a seeded set of instruction counts and note
   the CPU registers there; also find the write that corrupts tt_next by
   running forward with a watchpoint.
2. Reverse: in another session, on the bundle moved to another directory,
   run to the fatal trap, then itc-goto each of those counts backwards
   (through the checkpoints) and reverse-stepi from count+1: registers must
   be exactly the forward ones; so must six consecutive reverse-stepi far
   from a checkpoint, after which QEMU lists the snapshot it left behind
   them (patch 0025) and itc-checkpoints does not; and a reverse-stepi
   after an itc-goto far from a checkpoint, which left a snapshot 1e6
   instructions before its target (patch 0029).
3. The demo's finding: from the symptom, a watchpoint on tt_next and
   reverse-continue must stop right after the store found forwards;
   reverse-stepi lands on it: a store instruction in ev_put_isr that turns
   tt_next from an even pointer into the odd event word; reverse-continue's
   last leg left a snapshot 1e6 before where it stopped, when it replayed
   more than 2e6 to get there (patch 0029).  Then
   reverse-continue to a breakpoint (tt_check) twice and continue forwards:
   earlier calls going back, and the forward hit is the same instruction.
   make demo's GDB script (tests/demo/anomaly.gdb) on the same bundle must
   report that store, its instruction count and the root cause in words.
4. Source-level stepping both ways from a breakpoint in tt_check (next /
   reverse-next return to the same instruction count and line, finish /
   reverse-next step over the whole call, step / reverse-step / step enter
   and leave it, reverse-finish lands on the call),
   and itc's own GDB commands: itc-icount, itc-goto +N / -N,
   itc-checkpoints (the manifest's checkpoints).
5. --at: a session started at a seeded count or at a checkpoint begins
   exactly there, with the forward replay's registers.
6. Bad input: no bundle, bad --at, no gdb, a gdb that is not gdb-multiarch
   with Python, a bundle of another QEMU build, a truncated replay log, QEMU
   killed under gdb: exit 2 with a message saying so, no QEMU left behind.
On failure the seed and the commands to reproduce are printed.
"""
# itc-test-timeout: 900
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

import itctest
import fswtest
from itctest import check, check_eq

ITC = os.environ.get("ITC", os.path.join(itctest.BUILD, "san", "bin", "itc"))
SEED = int(os.environ.get("ITC_TEST_SEED") or time.time()) & 0xFFFF
REGS = ["pc", "npc", "psr", "wim", "sp", "fp", "g1", "o0", "l0", "i0"]  # must be present

PRELUDE = r"""
python
import gdb, json
RESULTS = {}
def itc_regs():
    f = gdb.selected_frame()
    out = {}
    for r in f.architecture().registers("general"):
        v = f.read_register(r)
        out[r.name] = int(v.format_string(format="x"), 16) & 0xffffffff
    for n in %r:
        if n not in out:
            raise gdb.GdbError("register %%s missing from the general group" %% n)
    return out
def itc_now():
    return int(gdb.execute("monitor itc_icount", to_string=True).split()[-1])
def itc_save(path):
    with open(path, "w") as f:
        json.dump(RESULTS, f)
end
""" % (REGS,)


def run_itc(args, env=None, timeout=600):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([ITC] + args, capture_output=True, text=True, env=e,
                          timeout=timeout)


def write_script(d, name, body):
    """D/NAME.gdb: the prelude, BODY, then RESULTS saved to D/NAME.json."""
    script = os.path.join(d, name + ".gdb")
    with open(script, "w") as f:
        f.write(PRELUDE + body + "\npython itc_save(%r)\n" % os.path.join(d, name + ".json"))
    return script


def debug_batch(d, bundle, name, body, env=None):
    """Run BODY (gdb commands) under itc debug --batch; return RESULTS."""
    script = write_script(d, name, body)
    out = os.path.join(d, name + ".json")
    r = run_itc(["debug", bundle, "--batch", script, "--timeout", "600"], env=env)
    check(r.returncode == 0 and os.path.exists(out),
          "itc debug --batch %s failed (exit %d):\n%s\n%s\nreproduce: %s debug %s --batch %s"
          % (name, r.returncode, r.stdout[-3000:], r.stderr[-3000:], ITC, bundle, script))
    with open(out) as f:
        return json.load(f), r.stdout


def stray_qemus(tmp):
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [l for l in ps.splitlines() if "qemu-system-sparc" in l and tmp in l]


def main():
    fswtest.require_fsw()
    check(os.path.exists(ITC), "%s not built" % ITC)
    d = itctest.private_dir()
    tmp = os.path.join(d, "tmp")
    os.mkdir(tmp)
    env = {"TMPDIR": tmp}
    bundle = os.path.join(d, "rec", "anomaly.bundle")
    os.mkdir(os.path.dirname(bundle))
    print("seed %d (ITC_TEST_SEED=%d to repeat)" % (SEED, SEED))

    r = run_itc(["record", fswtest.FSW_ELF, "-o", bundle, "--input", fswtest.ANOMALY_INPUT,
                 "--until", r"uart:FATAL trap[^\n]*\n", "--until", "time:30", "--json"], env=env)
    check(r.returncode == 0, "itc record failed (exit %d): %s" % (r.returncode, r.stderr[-2000:]))
    with open(os.path.join(bundle, "manifest.json")) as f:
        m = json.load(f)
    end = m["icount_end"]
    ckpts = [c["icount"] for c in m["checkpoints"]]
    check(len(ckpts) >= 5, "expected checkpoints every 1e8 instructions, got %s" % ckpts)
    with open(os.path.join(bundle, "uart.log"), "rb") as f:
        check(fswtest.FATAL in f.read(), "the recording does not show the fatal trap")

    rnd = random.Random(SEED)
    # The recording ends about 1.3e6 instructions after the fatal trap (the
    # FATAL line is printed polled at 115200 baud): a checkpoint that close
    # to the end may lie after the trap, so the last one used is well before.
    last = max(c for c in ckpts if c < end - 5000000)
    # consecutive reverse steps far from a checkpoint: QEMU leaves a snapshot
    # behind them (patch 0025) and the later ones start from it
    far = ckpts[1] + 5000000 + rnd.randrange(0, 10000000)
    run_back = [far - i for i in range(1, 7)]
    # an itc-goto this far from any snapshot leaves one 1e6 before its target
    far2 = ckpts[3] + 5000000 + rnd.randrange(0, 10000000)
    points = sorted(set([rnd.randrange(1000, end - 5000000) for _ in range(6)] +
                        [ckpts[2], ckpts[2] + 1, ckpts[2] - 1, last + 7, far2 - 1] +
                        run_back))
    print("points:", points)

    # 1. forward reference: plain forward replay to each point
    body = ""
    for k in points:
        body += ("monitor replay_break %d\ncontinue\n"
                 "python RESULTS[%d] = dict(icount=itc_now(), regs=itc_regs())\n" % (k, k))
    fwd, _ = debug_batch(d, bundle, "forward", body, env)
    for k in points:
        check_eq(fwd[str(k)]["icount"], k, "forward replay_break position")
    # the corrupting write, found forwards from the start with a watchpoint
    body = r"""
watch -l tt_next
python
while True:
    gdb.execute("continue")
    v = int(gdb.parse_and_eval("tt_next").cast(gdb.lookup_type("unsigned long")))
    if v & 1:
        RESULTS["corrupt"] = dict(icount=itc_now(), value=v)
        break
end
"""
    watch, _ = debug_batch(d, bundle, "watch", body, env)
    corrupt = watch["corrupt"]
    print("forward: tt_next corrupted at icount %d (value 0x%x)"
          % (corrupt["icount"], corrupt["value"]))

    # 2. reverse, on the bundle moved elsewhere (bundles are portable)
    moved = os.path.join(d, "elsewhere", "b")
    os.makedirs(os.path.dirname(moved))
    shutil.move(bundle, moved)
    body = "break bsp_fatal\ncontinue\ndelete\npython RESULTS['fatal'] = itc_now()\n"
    # first, so that no snapshot left behind other reverse steps serves them;
    # the goto leaves none (distance 0), the second reverse step does
    body += ("monitor qom-set /machine reverse-snapshot-distance 0\nitc-goto %d\n"
             "monitor qom-set /machine reverse-snapshot-distance 1000000\n" % far)
    for k in run_back:
        body += "reverse-stepi\npython RESULTS['back%d'] = dict(icount=itc_now(), regs=itc_regs())\n" % k
    body += ("python RESULTS['snapshots'] = gdb.execute('monitor info snapshots', to_string=True)\n"
             "python RESULTS['checkpoints'] = gdb.execute('itc-checkpoints', to_string=True)\n")
    # a goto far from any snapshot leaves one behind its target, and the
    # reverse step from there replays from it
    body += ("itc-goto %d\npython RESULTS['goto_snapshots'] = "
             "gdb.execute('monitor info snapshots', to_string=True)\n"
             "reverse-stepi\npython RESULTS['far2'] = dict(icount=itc_now(), regs=itc_regs())\n"
             % far2)
    for k in reversed([k for k in points if k not in run_back]):
        body += "itc-goto %d\npython RESULTS['goto%d'] = dict(icount=itc_now(), regs=itc_regs())\n" % (k, k)
        body += ("itc-goto %d\nreverse-stepi\n"
                 "python RESULTS['rsi%d'] = dict(icount=itc_now(), regs=itc_regs())\n" % (k + 1, k))
    rev, rev_out = debug_batch(d, moved, "reverse", body, env)
    check(rev["fatal"] > max(points), "the fatal trap (icount %d) is after all points" % rev["fatal"])
    # itc-goto's stop at its replay break is not reported as a signal
    check("SIGINT" not in rev_out,
          "itc-goto prints a SIGINT: %r" % rev_out[max(0, rev_out.find("SIGINT") - 300):][:600])
    went = [k for k in points if k not in run_back][0]
    check("icount %d" % went in rev_out, "itc-goto %d prints where it arrived" % went)
    for k in run_back:
        got = rev["back%d" % k]
        check_eq(got["icount"], k, "consecutive reverse-stepi from %d: position" % far)
        for reg in sorted(fwd[str(k)]["regs"]):
            check(got["regs"][reg] == fwd[str(k)]["regs"][reg],
                  "seed %d: at icount %d, consecutive reverse-stepi gives %%%s = 0x%x, forward "
                  "replay 0x%x" % (SEED, k, reg, got["regs"][reg], fwd[str(k)]["regs"][reg]))
    behind = [int(n) for n in re.findall(r"replay-reverse-(\d+)", rev["snapshots"])]
    # the second step (to far - 2) saved one 1e6 instructions before it
    check(far - 2 - 1000000 in behind,
          "no snapshot left behind the consecutive reverse steps from %d: %s"
          % (far, rev["snapshots"][-1500:]))
    check(far - 1000000 not in behind,
          "an itc-goto with reverse-snapshot-distance 0 left a snapshot: %s" % behind)
    check("replay-reverse" not in rev["checkpoints"],
          "itc-checkpoints lists QEMU's own snapshots: %s" % rev["checkpoints"])
    behind = [int(n) for n in re.findall(r"replay-reverse-(\d+)", rev["goto_snapshots"])]
    check(far2 - 1000000 in behind,
          "itc-goto %d left no snapshot 1e6 before it: %s" % (far2, behind))
    got = rev["far2"]
    check_eq(got["icount"], far2 - 1, "reverse-stepi after itc-goto %d: position" % far2)
    for reg in sorted(fwd[str(far2 - 1)]["regs"]):
        check(got["regs"][reg] == fwd[str(far2 - 1)]["regs"][reg],
              "seed %d: at icount %d, reverse-stepi after itc-goto gives %%%s = 0x%x, forward "
              "replay 0x%x" % (SEED, far2 - 1, reg, got["regs"][reg],
                               fwd[str(far2 - 1)]["regs"][reg]))
    for k in reversed([k for k in points if k not in run_back]):
        for how in ("goto", "rsi"):
            got = rev["%s%d" % (how, k)]
            check_eq(got["icount"], k, "%s to %d: position" % (how, k))
            for reg in sorted(fwd[str(k)]["regs"]):
                check(got["regs"][reg] == fwd[str(k)]["regs"][reg],
                      "seed %d: at icount %d, %s gives %%%s = 0x%x, forward replay 0x%x"
                      % (SEED, k, "itc-goto" if how == "goto" else "reverse-stepi",
                         reg, got["regs"][reg], fwd[str(k)]["regs"][reg]))

    # 3. the demo's finding: reverse-continue to the guilty store
    body = r"""
break bsp_fatal
continue
delete
watch -l tt_next
reverse-continue
python RESULTS["rc_stop"] = itc_now()
python RESULTS["rc_snapshots"] = gdb.execute("monitor info snapshots", to_string=True)
reverse-stepi
python
pc = int(gdb.parse_and_eval("$pc"))
RESULTS["store"] = dict(icount=itc_now(), pc=pc,
    func=gdb.block_for_pc(pc).function.name,
    insn=gdb.execute("x/i $pc", to_string=True),
    before=int(gdb.parse_and_eval("tt_next").cast(gdb.lookup_type("unsigned long"))))
gdb.execute("stepi")
RESULTS["after"] = int(gdb.parse_and_eval("tt_next").cast(gdb.lookup_type("unsigned long")))
# reverse-continue to a BREAKPOINT, across the FSW's power-down idle
# (qemu/patches/0006), then forwards again to the same hit
gdb.execute("delete")
gdb.execute("break tt_check")
hits = []
for cmd in ("reverse-continue", "reverse-continue", "continue"):
    gdb.execute(cmd)
    hits.append(dict(icount=itc_now(), pc=int(gdb.parse_and_eval("$pc")),
                     t=int(gdb.parse_and_eval("t"))))
RESULTS["bp_hits"] = hits
RESULTS["tt_check"] = int(gdb.parse_and_eval("(unsigned long)&tt_check"))
end
"""
    fin, _ = debug_batch(d, moved, "finding", body, env)
    st = fin["store"]
    check_eq(fin["rc_stop"], corrupt["icount"],
             "reverse-continue stops where the forward watchpoint saw the corruption")
    check_eq(st["icount"], corrupt["icount"] - 1, "reverse-stepi lands on the store")
    behind = [int(n) for n in re.findall(r"replay-reverse-(\d+)", fin["rc_snapshots"])]
    last_leg = fin["rc_stop"] - max([0] + [c for c in ckpts if c <= fin["rc_stop"]])
    if last_leg > 2000000:
        check(fin["rc_stop"] - 1000000 in behind,
              "reverse-continue's last leg (%d instructions) left no snapshot 1e6 before its "
              "stop: %s" % (last_leg, behind))
    else:
        check(not behind, "reverse-continue's last leg (%d instructions) left a snapshot: %s"
              % (last_leg, behind))
    check_eq(st["func"], "ev_put_isr", "function of the guilty store")
    check(re.search(r":\s+st\s", st["insn"]), "a store instruction: %r" % st["insn"])
    check(st["before"] % 4 == 0 and st["before"] != 0,
          "tt_next before the store is a valid pointer (0x%x)" % st["before"])
    check_eq(fin["after"], corrupt["value"], "tt_next after the store")
    h1, h2, h3 = fin["bp_hits"]
    for h in (h1, h2, h3):
        check(0 <= h["pc"] - fin["tt_check"] < 16,
              "breakpoint stop inside tt_check's prologue (pc 0x%x)" % h["pc"])
    check(h2["icount"] < h1["icount"] < st["icount"],
          "reverse-continue to a breakpoint goes backwards: %s" % fin["bp_hits"])
    check(h1["t"] > h2["t"], "the earlier tt_check call has the earlier tick: %s" % fin["bp_hits"])
    check_eq(h3["icount"], h1["icount"], "continue from the earlier hit stops at the later one")

    # 3b. make demo's own GDB script on the same recording: it must say what
    # the assertions above found (the demo is not run by make test itself)
    r = run_itc(["debug", moved, "--batch", os.path.join(itctest.ROOT, "tests", "demo",
                                                          "anomaly.gdb"), "--timeout", "300"],
                env=env)
    check(r.returncode == 0, "the demo's GDB script failed (exit %d): %s"
          % (r.returncode, r.stderr[-2000:]))
    for want in ("Root cause found",
                 "The FSW died at icount %d" % rev["fatal"],
                 "at icount %d, by" % st["icount"],
                 "<ev_put_isr>:",
                 "from 0x%x to 0x%x (odd: not a pointer)" % (st["before"], corrupt["value"]),
                 "one past the end of ev_log",
                 "an unmasked ISR/task race"):
        check(want in r.stdout, "the demo does not say %r:\n%s" % (want, r.stdout[-3000:]))

    # 4. source-level stepping both ways, and itc's GDB commands
    body = r'''
break tt_check
continue
delete
python
def where():
    f = gdb.selected_frame()
    sal = f.find_sal()
    return dict(icount=itc_now(), func=f.name(), line=sal.line, pc=int(f.pc()))
RESULTS["at"] = where()
RESULTS["caller_line"] = gdb.selected_frame().older().find_sal().line
for cmd in ("next", "reverse-next", "finish", "reverse-next", "step", "reverse-step", "step",
            "reverse-finish"):
    gdb.execute(cmd, to_string=True)
    RESULTS[cmd + str(len([k for k in RESULTS if k.startswith(cmd)]))] = where()
RESULTS["insn"] = gdb.execute("x/2i $pc - 4", to_string=True)
RESULTS["icount_cmd"] = gdb.execute("itc-icount", to_string=True)
RESULTS["now"] = itc_now()
gdb.execute("itc-goto +1000", to_string=True)
RESULTS["plus"] = itc_now()
gdb.execute("itc-goto -400", to_string=True)
RESULTS["minus"] = itc_now()
RESULTS["checkpoints"] = gdb.execute("itc-checkpoints", to_string=True)
end
'''
    src, _ = debug_batch(d, moved, "source", body, env)
    at = src["at"]
    check_eq(at["func"], "tt_check", "breakpoint function")
    nxt, back = src["next0"], src["reverse-next0"]
    check(nxt["icount"] > at["icount"] and nxt["line"] != at["line"],
          "next moves on a line: %s -> %s" % (at, nxt))
    check_eq((back["icount"], back["line"], back["pc"]), (at["icount"], at["line"], at["pc"]),
             "reverse-next after next: back where next started")
    fin = src["finish0"]
    check(fin["func"] == "app_main" and fin["icount"] > at["icount"],
          "finish returns to tt_check's caller: %s" % fin)
    over = src["reverse-next1"]
    check(over["func"] == "app_main" and over["icount"] < at["icount"]
          and over["line"] == src["caller_line"],
          "reverse-next from after the call steps back over all of tt_check to the line "
          "of the call (%d): %s" % (src["caller_line"], over))
    into = src["step0"]
    check(into["func"] == "tt_check" and over["icount"] < into["icount"] <= at["icount"] + 4,
          "step from the call's line enters tt_check: %s" % into)
    rs = src["reverse-step0"]
    check(rs["func"] == "app_main" and rs["line"] == src["caller_line"]
          and over["icount"] <= rs["icount"] < into["icount"],
          "reverse-step from tt_check's first line goes back to the line of the call: %s" % rs)
    again = src["step1"]
    check_eq((again["func"], again["icount"], again["pc"]),
             (into["func"], into["icount"], into["pc"]),
             "step after reverse-step enters tt_check where the first step did")
    rf = src["reverse-finish0"]
    check(rf["func"] == "app_main" and rf["icount"] < into["icount"]
          and rf["line"] == src["caller_line"],
          "reverse-finish goes back to the call in app_main: %s" % rf)
    check(re.search(r"\scall\s", src["insn"]), "reverse-finish stops at the call (or its "
          "delay slot): %r" % src["insn"])
    check_eq(src["icount_cmd"].strip(), "icount %d" % src["now"], "itc-icount output")
    check_eq(src["plus"], src["now"] + 1000, "itc-goto +1000")
    check_eq(src["minus"], src["now"] + 600, "itc-goto -400")
    listed = {}
    for line in src["checkpoints"].splitlines()[1:]:
        f = line.split()
        listed[f[0]] = int(f[1])
    want = dict((c["name"], c["icount"]) for c in m["checkpoints"])
    want["init"] = 0
    check_eq(listed, want, "itc-checkpoints lists the manifest's checkpoints")

    # 5. --at: the session starts exactly there
    k = points[1]
    named = m["checkpoints"][3]
    for pos, icount, regs in [(str(k), k, fwd[str(k)]["regs"]),
                              (named["name"], named["icount"], None)]:
        r = run_itc(["debug", moved, "--at", pos, "--batch", write_script(
            d, "at-" + pos, "python RESULTS['at'] = dict(icount=itc_now(), regs=itc_regs())\n"),
            "--timeout", "300"], env=env)
        check(r.returncode == 0, "itc debug --at %s failed: %s" % (pos, r.stderr[-2000:]))
        with open(os.path.join(d, "at-%s.json" % pos)) as f:
            got = json.load(f)["at"]
        check_eq(got["icount"], icount, "itc debug --at %s: start position" % pos)
        if regs:
            check_eq(got["regs"], regs, "itc debug --at %s: registers of the forward replay" % pos)

    # 6. bad input: clear errors, exit 2, no QEMU left running.  A QEMU that
    # dies under gdb is reported with how it died, not as gdb's failure.
    killer = os.path.join(d, "kill-qemu.gdb")
    with open(killer, "w") as f:
        f.write("python\nimport os, subprocess\n"
                "w = os.path.dirname(os.environ['ITC_UART_LOG'])\n"
                "subprocess.run(['pkill', '-KILL', '-f', 'qemu-system-sparc.*' + w])\n"
                "end\nshell sleep 0.5\nstepi\n")
    other_qemu = os.path.join(d, "other-qemu")
    shutil.copytree(moved, other_qemu)
    with open(os.path.join(other_qemu, "manifest.json"), "w") as f:
        json.dump(dict(m, qemu_version="0:0.0-other"), f)
    truncated = os.path.join(d, "truncated")
    shutil.copytree(moved, truncated)
    log = os.path.join(truncated, m["replay_log"]["file"])
    with open(log, "rb") as f:
        data = f.read()
    with open(log, "wb") as f:
        f.write(data[:len(data) // 2])
    # the host's own gdb, where it cannot debug SPARC (Debian's gdb)
    host_gdb = []
    if os.path.exists("/usr/bin/gdb") and subprocess.run(
            ["/usr/bin/gdb", "-nx", "-batch", "-ex", "set architecture sparc"],
            capture_output=True).returncode != 0:
        host_gdb = [(["debug", moved], {"ITC_GDB": "/usr/bin/gdb"}, "cannot debug SPARC")]
    for args, env2, what in [
            (["debug", moved, "--batch", killer], {}, "QEMU was killed by signal 9"),
            (["debug", os.path.join(d, "nonexistent")], {}, "no such bundle"),
            (["debug", moved, "--at", "ckpt-9999"], {}, "--at"),
            (["debug", moved, "--at", str(end + 1000)], {}, "ends at"),
            (["debug", moved], {"ITC_GDB": os.path.join(d, "no-such-gdb")}, "not found"),
            (["debug", moved], {"ITC_GDB": "/bin/true"}, "not a GDB with Python"),
            (["debug", other_qemu], {}, "0:0.0-other"),
            (["debug", truncated], {}, "truncated")] + host_gdb:
        e = dict(env)
        e.update(env2)
        r = run_itc(args, env=e, timeout=120)
        check_eq(r.returncode, 2, "exit status of itc %s" % " ".join(args[1:]))
        check(what in r.stderr, "itc %s: message should mention %r: %r"
              % (" ".join(args), what, r.stderr))
    time.sleep(0.5)
    check(not stray_qemus(tmp), "QEMU left running: %s" % stray_qemus(tmp))


itctest.run_test(main)
