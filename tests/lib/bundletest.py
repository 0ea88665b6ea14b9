"""Helpers for the `itc record/replay/info/restore` tests: run the itc
command (the ASan/UBSan build when present), parse its JSON, check that no
QEMU started for a test is left running."""
import hashlib
import json
import os
import subprocess

import itctest
from itctest import TestFailure, check

ITC = os.path.join(os.environ.get("ITC_SAN_BIN") or os.path.join(itctest.BUILD, "san", "bin"),
                   "itc")
if not os.path.exists(ITC):
    ITC = os.path.join(itctest.BUILD, "rel", "bin", "itc")


class Result:
    def __init__(self, argv, p):
        self.argv = argv
        self.rc = p.returncode
        self.out = p.stdout.decode(errors="replace")
        self.err = p.stderr.decode(errors="replace")

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            raise TestFailure("%s: stdout is not JSON: %r (stderr %r)"
                              % (" ".join(self.argv), self.out[-500:], self.err[-500:]))

    def describe(self):
        return "`%s` exited %d; stderr: %s" % (" ".join(self.argv), self.rc, self.err[-1500:])


def itc(*args, timeout=600, env=None):
    argv = [ITC] + [str(a) for a in args]
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=e)
    except subprocess.TimeoutExpired:
        raise TestFailure("`%s` did not finish in %ss" % (" ".join(argv), timeout))
    return Result(argv, p)


def ok(*args, **kw):
    r = itc(*args, **kw)
    if r.rc != 0:
        raise TestFailure(r.describe())
    return r


def expect_rc(rc, needles, *args, **kw):
    """Run itc, want exit status RC and every string of NEEDLES in stderr."""
    r = itc(*args, **kw)
    if r.rc != rc:
        raise TestFailure("want exit %d: %s" % (rc, r.describe()))
    for n in needles:
        if n.lower() not in r.err.lower():
            raise TestFailure("want %r in the message: %s" % (n, r.describe()))
    return r


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stray_qemus(marker):
    """PIDs of qemu-system-sparc processes whose command line mentions MARKER
    or whose itc parent is gone."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "qemu-system-sparc" in cmd and marker in cmd:
            found.append((int(pid), cmd[:300]))
    return found


def check_no_stray_qemu(marker, what):
    s = stray_qemus(marker)
    check(not s, "%s left QEMU running: %s" % (what, s))


def qemu_version():
    with open(os.path.join(itctest.BUILD, "qemu-build", "itc-qemu-version")) as f:
        return f.read().strip()


def rehydrate(bundle, qcow2, d):
    """Build QCOW2 with the bundle's checkpoints ("init" and every ckpt-NNNN)
    as internal snapshots, the way `itc debug` does: each is exported from
    the bundle's snapshot store (`itc snap export`) and imported by a paused
    plain QEMU (itc-snapshot-import).  Returns the manifest."""
    with open(os.path.join(bundle, "manifest.json")) as f:
        m = json.load(f)
    store = os.path.join(bundle, m["checkpoint_store"])
    subprocess.run([itctest.QEMU_IMG, "create", "-q", "-f", "qcow2", qcow2, "1M"], check=True)
    sock = os.path.join(d, "rehydrate.qmp")
    lst = itctest.qmp_listener(sock)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-display", "none", "-monitor", "none",
                       "-serial", "null", "-serial", "null", "-serial", "null",
                       "-drive", "if=none,id=ckpt,file=%s,format=qcow2" % qcow2,
                       "-kernel", os.path.join(bundle, "fsw.elf"), "-qmp", "unix:" + sock, "-S"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE)
    qmp = itctest.accept_qmp(lst, p)
    stream = os.path.join(d, "rehydrate.stream")
    # bad requests: a clear QMP error, nothing created
    for cmd, args, needle in (
            ("itc-snapshot-import", {"name": "x", "path": stream + ".missing", "icount": 0,
                                     "vm-clock-ns": 0}, "No such file"),
            ("itc-snapshot-export", {"name": "nope", "path": stream}, "no snapshot 'nope'"),
            ("itc-snapshot-save", {"path": os.path.join(d, "no-such-dir", "x")},
             "No such file")):
        try:
            qmp.cmd(cmd, **args)
            raise TestFailure("%s %r succeeded" % (cmd, args))
        except TestFailure as e:
            check(needle in str(e), "%s error %r does not say %r" % (cmd, str(e), needle))
    # itc-snapshot-save writes the very stream savevm puts in the image
    saved = qmp.cmd("itc-snapshot-save", path=stream)
    check(saved["size"] == os.path.getsize(stream) and saved["icount"] == -1,
          "itc-snapshot-save: %r" % saved)
    check(qmp.hmp("savevm same").strip() == "", "savevm same")
    qmp.cmd("itc-snapshot-export", name="same", path=stream + ".savevm")
    with open(stream, "rb") as a, open(stream + ".savevm", "rb") as b:
        check(a.read() == b.read(), "itc-snapshot-save and savevm wrote different streams")
    qmp.hmp("delvm same")
    for c in [m["init"]] + m["checkpoints"]:
        ok("snap", "export", c["snapshot"], "--store", store, "-o", stream)
        r = qmp.cmd("itc-snapshot-import", name=c["name"], path=stream, icount=c["icount"],
                    **{"vm-clock-ns": c["virtual_ns"]})
        check(r["size"] == os.path.getsize(stream), "itc-snapshot-import of %s: %r"
              % (c["name"], r))
    qmp.cmd("quit")
    p.wait(30)
    return m
