"""Helpers for the sample-FSW end-to-end tests (tests/integration/test_fsw_*.py).

Runs build/fsw/fsw.elf (or fsw.prom) on -M gr740 with the console on
-serial stdio: stdin is the scripted UART input (a file), stdout a file.
Under rr=record QEMU records what the stdio chardev delivers; under
rr=replay the input comes from the replay log (stdin is an empty pipe).
"""
import hashlib
import os
import re
import shlex
import struct
import subprocess
import sys
import threading
import time

import itctest
from itctest import TestFailure, check

ROOT = itctest.ROOT
FSW_ELF = os.path.join(itctest.FSW, "fsw.elf")
FSW_PROM = os.path.join(itctest.FSW, "fsw.prom")
ANOMALY_INPUT = os.path.join(ROOT, "tests", "fsw", "anomaly-input.txt")
# icount shift 2: 4 ns per instruction, i.e. the GR740's 250 MHz.
SHIFT = int(os.environ.get("ITC_FSW_SHIFT", "2"))
RAM_DIGEST_BYTES = 16 << 20      # the FSW lives in the first 16 MiB
FATAL = b"FATAL trap"
RECORD_TAIL = 3.0
INPUT_PACE = 0.02


def require_fsw():
    """Build the FSW if needed; skip (77) when it cannot be built."""
    if not os.path.exists(itctest.QEMU):
        print("SKIP: %s not built" % itctest.QEMU)
        sys.exit(77)
    need = [FSW_ELF, FSW_PROM]
    if not all(os.path.exists(p) for p in need):
        r = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "tests", "fsw"),
                            "O=" + itctest.FSW], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0 or not all(os.path.exists(p) for p in need):
            print(r.stdout.decode(errors="replace")[-2000:])
            print("SKIP: sample FSW not built (cross compiler missing?)")
            sys.exit(77)


def elf_symbols(path):
    """Name -> value of the symbols of a 32-bit big-endian ELF (stdlib only)."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:4] == b"\x7fELF" and data[4] == 1 and data[5] == 2,
          "%s: not a 32-bit big-endian ELF" % path)
    shoff, = struct.unpack_from(">I", data, 0x20)
    shentsize, shnum = struct.unpack_from(">HH", data, 0x2E)
    secs = [struct.unpack_from(">IIIIIIIIII", data, shoff + i * shentsize)
            for i in range(shnum)]
    syms = {}
    for s in secs:
        if s[1] != 2:           # SHT_SYMTAB
            continue
        strtab = secs[s[6]]
        for off in range(s[4], s[4] + s[5], 16):
            name, value, _size, _info, _other, _shndx = struct.unpack_from(">IIIBBH", data, off)
            end = data.index(b"\0", strtab[4] + name)
            syms[data[strtab[4] + name:end].decode()] = value
    return syms


class Run:
    """One QEMU running the FSW.  mode: None (live icount), 'record', 'replay'."""

    def __init__(self, d, name, mode=None, rrfile=None, input_path=None, smp=1,
                 kernel=FSW_ELF, bios=None, incoming=None, shift=SHIFT, icount=True,
                 gdb=None, extra=(), rr_extra="", interactive=False):
        self.name = name
        self.dir = d
        self.out = os.path.join(d, name + ".uart")
        qmp_path = os.path.join(d, name + ".qmp")
        lst = itctest.qmp_listener(qmp_path)
        argv = [itctest.QEMU, "-M", "gr740", "-smp", str(smp), "-display", "none",
                "-monitor", "none", "-serial", "stdio", "-qmp", "unix:" + qmp_path]
        if icount:
            ic = "shift=%d" % shift
            if mode:
                ic += ",rr=%s,rrfile=%s%s" % (mode, rrfile, rr_extra)
            argv += ["-icount", ic]
        if bios:
            argv += ["-bios", bios]
        else:
            argv += ["-kernel", kernel]
        if incoming:
            argv += ["-incoming", "file:" + incoming]
        argv += list(extra)
        if gdb:
            argv += ["-gdb", "unix:%s,server=on,wait=off" % gdb, "-S"]
        self.argv = argv
        self.input_path = input_path if mode != "replay" else None
        self.stderr_path = os.path.join(d, name + ".stderr")
        # No input is a pipe closed at once, not /dev/null: some machines'
        # /dev/null is a regular file holding other programs' stderr.
        self.proc = itctest.spawn(argv, stdin=subprocess.PIPE, stdout=open(self.out, "wb"),
                                  stderr=open(self.stderr_path, "wb"))
        if not self.input_path and not interactive:
            self.proc.stdin.close()
        self.qmp = itctest.accept_qmp(lst, self.proc)
        if self.input_path:
            threading.Thread(target=self._feed, daemon=True).start()

    def _feed(self):
        """Send the script one line at a time, INPUT_PACE seconds apart.
        Under rr=record QEMU delivers chardev input as asynchronous replay
        events, so a whole file can reach the UART in one burst and overrun
        its 32-byte RX FIFO during the BSP's boot; line pacing spreads the
        script out.  Line K goes out at K * INPUT_PACE after the first (not
        INPUT_PACE after the line before it), so a late wake-up on a loaded
        host does not delay every line after it (the lines then due go out
        together; after boot the FSW's interrupt-driven RX ring takes them):
        the anomaly script must be in before ~2 s of FSW time."""
        try:
            t0 = time.monotonic()
            with open(self.input_path, "rb") as f:
                for k, line in enumerate(f):
                    time.sleep(max(0.0, t0 + k * INPUT_PACE - time.monotonic()))
                    self.proc.stdin.write(line)
                    self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def send(self, line):
        """Type LINE (bytes) at the UART; needs interactive=True."""
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def ticks_and_time(self, tick_addr):
        """(the FSW's tick counter at TICK_ADDR, virtual ns), read with the VM
        stopped so that both belong to the same instant."""
        self.qmp.cmd("stop")
        t = itctest.read_word(self.qmp, tick_addr)
        ns = self.qmp.cmd("itc-sim-time", clock="virtual")["time_ns"]
        self.qmp.cmd("cont")
        return t, ns

    def repro(self):
        """One-line command reproducing this run."""
        cmd = " ".join(shlex.quote(a) for a in self.argv if not a.startswith("unix:"))
        cmd = cmd.replace("-qmp ", "")
        if self.input_path:
            cmd = ("while read -r l; do echo \"$l\"; sleep %s; done < %s | %s"
                   % (INPUT_PACE, shlex.quote(self.input_path), cmd))
        return cmd

    def output(self):
        with open(self.out, "rb") as f:
            return f.read()

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")[-1500:]
        except OSError:
            return ""

    def wait_for(self, pattern, timeout=120):
        """Wait until the UART output matches PATTERN (bytes regex)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            data = self.output()
            m = rx.search(data)
            if m:
                return m
            if self.proc.poll() is not None:
                raise TestFailure("%s: QEMU exited (%s) before %r appeared; stderr: %s\n"
                                  "reproduce: %s" % (self.name, self.proc.returncode,
                                                     pattern, self.stderr(), self.repro()))
            if time.monotonic() > deadline:
                raise TestFailure("%s: %r did not appear in %ss (last output: %r)\n"
                                  "reproduce: %s" % (self.name, pattern, timeout,
                                                     data[-300:], self.repro()))
            time.sleep(0.05)

    def icount(self):
        return self.qmp.cmd("query-replay")["icount"]

    def wait_halted(self, timeout=30, stop=False):
        """Wait until the instruction count stops moving (CPU halted for good).

        A replay ends by replaying the recording's shutdown, so replays are
        stopped (stop=True) as soon as the halt is seen; recordings keep
        running RECORD_TAIL seconds after the halt so that replays have that
        much slack to see it."""
        deadline = time.monotonic() + timeout
        last, same = None, 0
        while same < 2:
            n = self.icount()
            same = same + 1 if n == last else 0
            last = n
            check(time.monotonic() < deadline, "%s: CPU never halted" % self.name)
            time.sleep(0.1)
        if stop:
            self.qmp.cmd("stop")
            check(self.icount() == last, "%s: icount moved after the halt" % self.name)
        return last

    def record_tail(self):
        time.sleep(RECORD_TAIL)

    def digest(self):
        """SHA-256 over the FSW RAM and the CPU registers."""
        path = os.path.join(self.dir, "%s-%d.ram" % (self.name, time.monotonic_ns()))
        self.qmp.cmd("pmemsave", val=0, size=RAM_DIGEST_BYTES, filename=path)
        with open(path, "rb") as f:
            ram = f.read()
        os.unlink(path)
        check(len(ram) == RAM_DIGEST_BYTES, "pmemsave wrote %d bytes" % len(ram))
        regs = self.qmp.hmp("info registers")
        h = hashlib.sha256(ram)
        h.update(regs.encode())
        return h.hexdigest(), regs

    def read_word(self, addr):
        path = os.path.join(self.dir, "%s-%d.w" % (self.name, time.monotonic_ns()))
        self.qmp.cmd("pmemsave", val=addr, size=4, filename=path)
        with open(path, "rb") as f:
            v, = struct.unpack(">I", f.read())
        os.unlink(path)
        return v

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.qmp.cmd("quit")
            except (TestFailure, OSError):
                pass
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n if len(a) != len(b) else -1


def describe_difference(what, got, want):
    i = first_difference(got, want)
    return ("%s: first difference at UART byte %d (got %r, want %r; lengths %d/%d)"
            % (what, i, got[max(0, i - 40):i + 40], want[max(0, i - 40):i + 40],
               len(got), len(want)))


def crc16_ccitt(data, crc=0xFFFF):
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


PACKET = re.compile(rb"^((TM|HK|ACK|EV|DUMP) ([0-9a-f]{4}) [^\r\n]*?) \*([0-9a-f]{4})\r$", re.M)


def packets(data):
    """(kind, seq, text, crc_ok) for each telemetry packet in the output."""
    res = []
    for m in PACKET.finditer(data):
        res.append((m.group(2).decode(), int(m.group(3), 16), m.group(1),
                    crc16_ccitt(m.group(1)) == int(m.group(4), 16)))
    return res


class GdbRsp:
    """Just enough of the GDB remote protocol for a watchpoint: QEMU's gdbstub
    listens on a unix socket (-gdb unix:PATH,server=on,wait=off)."""

    def __init__(self, path, timeout=60):
        import socket
        deadline = time.monotonic() + 10
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                check(time.monotonic() < deadline, "gdbstub socket %s never appeared" % path)
                time.sleep(0.1)
        self.s.settimeout(timeout)
        self.buf = b""

    def _read_packet(self):
        while True:
            i = self.buf.find(b"$")
            j = self.buf.find(b"#", i + 1) if i >= 0 else -1
            if i >= 0 and j >= 0 and len(self.buf) >= j + 3:
                pkt = self.buf[i + 1:j]
                self.buf = self.buf[j + 3:]
                self.s.sendall(b"+")
                return pkt.decode()
            data = self.s.recv(65536)
            if not data:
                raise TestFailure("gdbstub closed the connection")
            self.buf += data

    def send(self, cmd, wait=True):
        csum = sum(cmd.encode()) & 0xFF
        self.s.sendall(b"$%s#%02x" % (cmd.encode(), csum))
        return self._read_packet() if wait else None

    def stop_reply(self):
        return self._read_packet()

    def read_word(self, addr):
        r = self.send("m%x,4" % addr)
        check(len(r) == 8, "gdb memory read answered %r" % r)
        return int(r, 16)
