"""Shared helpers for the ITC workbench's Python tests (stdlib only).

QEMU is started with its qtest and QMP endpoints on unix sockets inside a
private 0700 temporary directory; every process started here is killed when
the test exits, whatever happens.
"""
import atexit
import json
import faulthandler
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
QEMU = os.environ.get("ITC_QEMU", os.path.join(BUILD, "qemu-build", "qemu-system-sparc"))
QEMU_IMG = os.path.join(BUILD, "qemu-build", "qemu-img")
FSW = os.path.join(BUILD, "fsw")

_procs = []
_tmpdirs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
    for d in _tmpdirs:
        if not os.environ.get("ITC_KEEP_TMP"):
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))


def private_dir(prefix="itc-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o700)
    _tmpdirs.append(d)
    return d


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    _procs.append(p)
    return p


def _accept(listener, proc, timeout, what):
    listener.settimeout(0.2)
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn, _ = listener.accept()
            conn.settimeout(timeout)
            return conn
        except socket.timeout:
            if proc.poll() is not None:
                raise TestFailure("QEMU exited (status %s) before connecting its %s socket"
                                  % (proc.returncode, what))
            if time.monotonic() > deadline:
                raise TestFailure("QEMU did not connect its %s socket in %ss" % (what, timeout))


class Qtest:
    """A QEMU under -accel qtest driven through the qtest text protocol."""

    def __init__(self, machine="gr740", extra=(), timeout=30, qmp=False, stderr=None):
        self.dir = private_dir()
        self.timeout = timeout
        qsock = os.path.join(self.dir, "qtest.sock")
        self._ql = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._ql.bind(qsock)
        self._ql.listen(1)
        argv = [QEMU, "-machine", machine, "-accel", "qtest", "-display", "none",
                "-qtest", "unix:" + qsock, "-qtest-log", "/dev/null", "-monitor", "none"]
        self.qmp = None
        if qmp:
            msock = os.path.join(self.dir, "qmp.sock")
            self._ml = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._ml.bind(msock)
            self._ml.listen(1)
            argv += ["-qmp", "unix:" + msock]
        argv += list(extra)
        self.stderr_path = os.path.join(self.dir, "qemu.stderr")
        self._err = open(self.stderr_path, "wb") if stderr is None else stderr
        self.proc = spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=self._err)
        self.sock = _accept(self._ql, self.proc, timeout, "qtest")
        self.rbuf = b""
        self.irq_events = []
        if qmp:
            self.qmp = QMP(_accept(self._ml, self.proc, timeout, "QMP"))

    def _line(self):
        while b"\n" not in self.rbuf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise TestFailure("qtest: no answer from QEMU in %ss" % self.timeout)
            if not data:
                raise TestFailure("qtest: QEMU closed the connection (crashed?) stderr: %s"
                                  % self.stderr())
            self.rbuf += data
        line, self.rbuf = self.rbuf.split(b"\n", 1)
        return line.decode()

    def cmd(self, text):
        self.sock.sendall((text + "\n").encode())
        while True:
            line = self._line()
            if line.startswith("IRQ "):
                _, what, n = line.split()
                self.irq_events.append((what, int(n)))
                continue
            if not line.startswith("OK"):
                raise TestFailure("qtest: %r answered %r" % (text, line))
            return line[2:].strip()

    def readl(self, addr):
        return int(self.cmd("readl 0x%x" % addr), 16)

    def writel(self, addr, val):
        self.cmd("writel 0x%x 0x%x" % (addr, val & 0xFFFFFFFF))

    def readb(self, addr):
        return int(self.cmd("readb 0x%x" % addr), 16)

    def writeb(self, addr, val):
        self.cmd("writeb 0x%x 0x%x" % (addr, val & 0xFF))

    def readw(self, addr):
        return int(self.cmd("readw 0x%x" % addr), 16)

    def writew(self, addr, val):
        self.cmd("writew 0x%x 0x%x" % (addr, val & 0xFFFF))

    def clock_step(self, ns=None):
        return int(self.cmd("clock_step" if ns is None else "clock_step %d" % ns))

    def clock(self):
        """The current virtual clock, without moving it ("clock_set 0" is
        refused with the current value once the clock is past 0)."""
        self.sock.sendall(b"clock_set 0\n")
        while True:
            line = self._line()
            if line.startswith("IRQ "):
                _, what, n = line.split()
                self.irq_events.append((what, int(n)))
                continue
            return int(line.split()[1])

    def irq_intercept_in(self, qom_path):
        self.cmd("irq_intercept_in " + qom_path)

    def irq_intercept_out(self, qom_path, name=None):
        self.cmd("irq_intercept_out " + qom_path + ("" if name is None else " " + name))

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")[-2000:]
        except OSError:
            return ""

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


class QMP:
    """Minimal QMP client over an already-connected socket."""

    def __init__(self, sock):
        self.sock = sock
        self.f = sock.makefile("rwb")
        greeting = self._recv()
        check("QMP" in greeting, "QMP greeting missing: %r" % greeting)
        self.events = []
        self.cmd("qmp_capabilities")

    def _recv(self):
        line = self.f.readline()
        if not line:
            raise TestFailure("QMP: connection closed")
        return json.loads(line)

    def cmd(self, execute, **args):
        msg = {"execute": execute}
        if args:
            msg["arguments"] = args
        self.f.write((json.dumps(msg) + "\n").encode())
        self.f.flush()
        while True:
            r = self._recv()
            if "event" in r:
                self.events.append(r)
                continue
            if "error" in r:
                raise TestFailure("QMP %s failed: %s" % (execute, r["error"].get("desc")))
            return r.get("return")

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})

    def wait_event(self, name, timeout=60):
        self.sock.settimeout(timeout)
        for e in self.events:
            if e["event"] == name:
                self.events.remove(e)
                return e
        while True:
            r = self._recv()
            if r.get("event") == name:
                return r
            self.events.append(r)




def qmp_listener(path):
    """Return a listening socket at PATH for QEMU's '-qmp unix:PATH' to connect to."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    return s


def accept_qmp(listener, proc, timeout=30):
    return QMP(_accept(listener, proc, timeout, "QMP"))


def run_test(fn):
    """Run a test body; print the failure and exit 1 on TestFailure.

    When the runner says how long the test may take (ITC_TEST_TIMEOUT), dump
    every thread's stack shortly before that, so a hang shows where it is."""
    limit = int(os.environ.get("ITC_TEST_TIMEOUT", "0") or 0)
    if limit > 10:
        faulthandler.dump_traceback_later(limit - 5, exit=False)
    try:
        fn()
    except TestFailure as e:
        print("FAIL: %s" % e)
        sys.exit(1)
    print("ok")
    sys.exit(0)


def qtest_reload(q, path, extra=()):
    """Save the state of Qtest Q (started with qmp=True) into the migration
    stream file PATH, close Q, and return a new Qtest (with EXTRA) loaded
    from it, its virtual clock at the save instant: qtest's clock is not in
    the stream (under TCG and icount it is)."""
    t_save = q.clock()
    q.qmp.cmd("stop")
    q.qmp.cmd("migrate", uri="file:" + path)
    wait_migration(q.qmp)
    q.close()
    b = Qtest(qmp=True, extra=list(extra) + ["-incoming", "file:" + path])
    wait_incoming(b.qmp)
    b.cmd("clock_set %d" % t_save)
    return b


def qtest_set_irq_in(q, qom_path, name, num, level):
    """Drive input gpio NUM of the named group NAME of the device at
    QOM_PATH to LEVEL (qtest "set_irq_in")."""
    q.cmd("set_irq_in %s %s %d %d" % (qom_path, name, num, level))


def wait_migration(qmp, timeout=30):
    """Wait until an outgoing migration has completed (fail otherwise)."""
    deadline = time.monotonic() + timeout
    while True:
        st = qmp.cmd("query-migrate").get("status")
        if st == "completed":
            return
        check(st not in ("failed", "cancelled"), "migration %s" % st)
        check(time.monotonic() < deadline, "migration did not complete")
        time.sleep(0.05)


def wait_incoming(qmp, timeout=30):
    """Wait until an -incoming QEMU has loaded its state; leave it running."""
    deadline = time.monotonic() + timeout
    while qmp.cmd("query-status")["status"] == "inmigrate":
        check(time.monotonic() < deadline, "incoming migration did not finish")
        time.sleep(0.05)
    if qmp.cmd("query-status")["status"] != "running":
        qmp.cmd("cont")


# ---------------------------------------------------------------- guests
SPARC_CC = "sparc64-linux-gnu-gcc"
GUEST_LDS = """
ENTRY(_start)
MEMORY { ram : ORIGIN = 0x00000000, LENGTH = 16M }
SECTIONS { .text : { *(.text.start) *(.text*) } > ram }
"""


def require_sparc_cc(*others):
    """Skip (77) unless the SPARC cross compiler (and OTHERS) are installed."""
    for tool in (SPARC_CC,) + others:
        if not shutil.which(tool):
            print("skip: %s not installed" % tool)
            sys.exit(77)


def assemble_guest(d, source, name="guest", defines=(), lds=GUEST_LDS):
    """Assemble SOURCE (SPARC assembly, preprocessed) into D/NAME.elf for
    -kernel, linked at 0x0 as a freestanding 32-bit LEON image."""
    src, ld, elf = (os.path.join(d, n) for n in (name + ".S", name + ".ld", name + ".elf"))
    with open(src, "w") as f:
        f.write(source)
    with open(ld, "w") as f:
        f.write(lds)
    r = subprocess.run([SPARC_CC, "-m32", "-mcpu=leon3", "-fno-pic", "-fno-pie", "-no-pie",
                        "-nostdlib", "-static", "-Wl,-m,elf32_sparc", "-Wl,-z,noexecstack",
                        "-Wl,--no-warn-rwx-segments", "-Wl,--build-id=none", "-T", ld]
                       + ["-D" + x for x in defines] + [src, "-o", elf],
                       capture_output=True, text=True)
    check_eq(r.returncode, 0, "assembling %s: %s" % (name, r.stderr))
    return elf


def read_word(qmp, addr):
    """A 32-bit word of guest physical memory, read over QMP (HMP xp)."""
    return int(qmp.hmp("xp /1wx 0x%x" % addr).split(":")[1].split()[0], 16)


# A busy loop that never idles and arms no timer: every icount slice lasts
# as long as QEMU allows, and the instruction count depends only on time run.
LOOP_GUEST = r"""
    .section .text.start, "ax"
    .global _start
_start:
    set     0x1000, %g2
1:  add     %g1, 1, %g1
    st      %g1, [%g2]
    ba      1b
     nop
"""


def start_rr(d, mode, rr, name, elf, extra=()):
    """QEMU running ELF on gr740 under -icount shift=2,rr=MODE,rrfile=RR:
    one CPU, the three serial ports every run has, -action shutdown=pause
    (a replay pauses at the recorded end); stderr in D/NAME.stderr.
    Returns (process, QMP)."""
    sock = os.path.join(d, name + ".qmp")
    lst = qmp_listener(sock)
    err = open(os.path.join(d, name + ".stderr"), "w")
    p = spawn([QEMU, "-M", "gr740", "-smp", "1", "-display", "none", "-monitor", "none",
               "-serial", "null", "-serial", "null", "-serial", "null",
               "-action", "shutdown=pause", "-icount", "shift=2,rr=%s,rrfile=%s" % (mode, rr),
               "-kernel", elf, "-qmp", "unix:" + sock] + list(extra),
              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    return p, accept_qmp(lst, p)


def stderr_of(d, name):
    """The end of D/NAME.stderr of a start_rr() QEMU."""
    with open(os.path.join(d, name + ".stderr")) as f:
        return f.read()[-800:]


def replay_to_end(d, rr, name, elf, extra=(), timeout=120):
    """Replays the log RR of ELF (from reset, as start_rr NAME) to the recorded
    end; the instruction count there.  The replay QEMU is gone afterwards."""
    p, qmp = start_rr(d, "replay", rr, name, elf, extra)
    try:
        return replay_end_icount(qmp, p, d, name, timeout)
    finally:
        p.kill()
        p.wait()


def replay_end_icount(qmp, p, d, name, timeout=120):
    """Waits until the replay started as NAME pauses at the recorded end;
    its instruction count there."""
    deadline = time.monotonic() + timeout
    while qmp.cmd("query-status")["status"] == "running":
        check(p.poll() is None, "the replay exited instead of pausing at the recorded end: %s"
              % stderr_of(d, name))
        check(time.monotonic() < deadline, "the replay did not reach the recorded end")
        time.sleep(0.05)
    return qmp.cmd("itc-icount")["icount"]
