#!/usr/bin/env python3
"""GR740 APBUART register behaviour, driven only through its registers, the
virtual clock and its chardev (a unix socket the test talks to).

Expected values come from the GRLIB APBUART register description
(shared/gr740/FACTS.md 3.3): a character takes 10 bit times of
8 * (SCALER + 1) system clocks at 250 MHz.
"""
# itc-test-timeout: 120
import os
import socket
import time

import itctest
from itctest import check, check_eq

BASE = 0xFF900000
DATA, STATUS, CTRL, SCALER, FIFO = (BASE + o for o in (0x0, 0x4, 0x8, 0xC, 0x10))
DR, TS, TE, BR, OV, PE, FE, TH, RH, TF, RF = (1 << b for b in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
C_RE, C_TE, C_RI, C_TI, C_LB, C_TFI, C_RFI, C_DB = (1 << b for b in (0, 1, 2, 3, 7, 9, 10, 11))
FA = 1 << 31
FIFO_SIZE = 32
SYS_HZ = 250_000_000


def tcnt(st):
    return (st >> 20) & 0x3F


def rcnt(st):
    return (st >> 26) & 0x3F


def char_ns(scaler):
    return (10 * 8 * (scaler + 1) * 1_000_000_000 + SYS_HZ - 1) // SYS_HZ


class Uart:
    def __init__(self):
        d = itctest.private_dir()
        path = os.path.join(d, "uart.sock")
        self.q = itctest.Qtest(extra=["-chardev", "socket,id=c0,path=%s,server=on,wait=off" % path,
                                      "-serial", "chardev:c0"])
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(5)
        self.q.irq_intercept_out("/machine/apbuart0", "sysbus-irq")

    def recv(self, n):
        buf = b""
        deadline = time.monotonic() + 5
        while len(buf) < n and time.monotonic() < deadline:
            buf += self.s.recv(n - len(buf))
        return buf

    def feed(self, data, scaler, want_rcnt):
        """Send bytes and step the clock until the RX FIFO holds want_rcnt."""
        self.s.sendall(data)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            st = self.q.readl(STATUS)
            if rcnt(st) >= want_rcnt:
                return st
            self.q.clock_step(char_ns(scaler))
        raise itctest.TestFailure("RX FIFO never reached %d (STATUS 0x%08x)" % (want_rcnt, st))


def test_reset_values(u):
    q = u.q
    check_eq(q.readl(CTRL), FA, "CTRL after reset (only FA)")
    st = q.readl(STATUS)
    check_eq(st, TS | TE | TH, "STATUS after reset")
    check_eq(q.readl(SCALER), 0, "SCALER after reset")
    q.writel(SCALER, 0xFFFFFFFF)
    check_eq(q.readl(SCALER), 0xFFFFF, "SCALER keeps 20 bits")
    q.writel(CTRL, 0xFFFFFFFF)
    check_eq(q.readl(CTRL), FA | 0x7FFF, "CTRL writable bits")
    q.writel(CTRL, 0)
    q.writel(SCALER, 0)


def test_tx_timing_and_fifo(u):
    q = u.q
    scaler = 270  # 115200 baud at 250 MHz
    q.writel(SCALER, scaler)
    q.writel(CTRL, C_TE)
    q.writel(DATA, ord("A"))
    st = q.readl(STATUS)
    check_eq(tcnt(st), 1, "TCNT right after one write")
    check(not st & TE and not st & TS, "TE/TS clear while a character is queued: 0x%08x" % st)
    q.clock_step(char_ns(scaler) - 1000)
    check_eq(tcnt(q.readl(STATUS)), 1, "TCNT before one character time elapsed")
    q.clock_step(1000)
    st = q.readl(STATUS)
    check_eq(tcnt(st), 0, "TCNT after one character time")
    check(st & TE and st & TS, "TE and TS set once sent: 0x%08x" % st)
    check_eq(u.recv(1), b"A", "byte on the chardev")

    for i in range(FIFO_SIZE):
        q.writel(DATA, 0x30 + i)
    st = q.readl(STATUS)
    check_eq(tcnt(st), FIFO_SIZE, "TCNT with a full TX FIFO")
    check(st & TF, "TF set when the TX FIFO is full")
    check(not st & TH, "TH clear when full")
    q.writel(DATA, ord("!"))  # lost: FIFO full (logged as a guest error)
    check_eq(tcnt(q.readl(STATUS)), FIFO_SIZE, "TCNT after writing to a full FIFO")
    q.clock_step(char_ns(scaler) * (FIFO_SIZE // 2))
    st = q.readl(STATUS)
    check_eq(tcnt(st), FIFO_SIZE // 2, "TCNT after draining half")
    q.clock_step(char_ns(scaler) * FIFO_SIZE)
    check_eq(u.recv(FIFO_SIZE), bytes(0x30 + i for i in range(FIFO_SIZE)),
             "transmitted bytes in order, the overflow byte dropped")


def test_rx_fifo_overrun_and_irq(u):
    q = u.q
    scaler = 0
    q.writel(SCALER, scaler)
    q.writel(CTRL, C_RE | C_RI)
    u.q.irq_events.clear()
    st = u.feed(b"x", scaler, 1)
    check(st & DR, "DR set after a character arrived")
    check(("raise", 0) in u.q.irq_events, "RI raises the interrupt: %s" % u.q.irq_events)
    check_eq(q.readl(DATA), ord("x"), "DATA pops the received byte")
    check(not q.readl(STATUS) & DR, "DR clear once the FIFO is empty")

    payload = bytes(range(0x40, 0x40 + FIFO_SIZE + 3))
    st = u.feed(payload, scaler, FIFO_SIZE)
    # keep the clock going so the remaining 3 bytes arrive into a full FIFO
    for _ in range(20):
        q.clock_step(char_ns(scaler))
    st = q.readl(STATUS)
    check_eq(rcnt(st), FIFO_SIZE, "RCNT with a full RX FIFO")
    check(st & RF and st & RH, "RF and RH set when full: 0x%08x" % st)
    check(st & OV, "OV flagged when bytes arrive into a full FIFO: 0x%08x" % st)
    got = bytes(q.readl(DATA) for _ in range(FIFO_SIZE))
    check_eq(got, payload[:FIFO_SIZE], "FIFO keeps the first 32 bytes, in order")
    q.writel(STATUS, 0xFFFFFFFF)
    check(q.readl(STATUS) & OV, "OV survives writing 1 (sticky)")
    q.writel(STATUS, 0)
    check(not q.readl(STATUS) & OV, "OV cleared by writing 0")


def test_loopback_and_debug_fifo(u):
    q = u.q
    q.writel(SCALER, 0)
    q.writel(CTRL, C_RE | C_TE | C_LB)
    q.writel(DATA, 0x5A)
    q.clock_step(char_ns(0))
    check_eq(rcnt(q.readl(STATUS)), 1, "loopback delivers the byte to RX")
    check_eq(q.readl(DATA), 0x5A, "looped-back byte")
    q.writel(CTRL, C_DB)
    q.writel(FIFO, 0x11)
    check_eq(rcnt(q.readl(STATUS)), 1, "debug FIFO write fills RX")
    check_eq(q.readl(DATA), 0x11, "debug-written byte")
    q.writel(CTRL, 0)


def test_fifo_level_interrupt(u):
    q = u.q
    q.writel(CTRL, 0)
    u.q.irq_events.clear()
    q.writel(CTRL, C_TE | C_TFI)  # TX FIFO empty -> half-empty level interrupt
    check_eq(u.q.irq_events[-1:], [("raise", 0)], "TF level interrupt with an empty TX FIFO")
    q.writel(CTRL, 0)
    check_eq(u.q.irq_events[-1:], [("lower", 0)], "level interrupt drops when disabled")


def test_vmstate_round_trip():
    """Save with the RX FIFO half full and a TX char mid-shift; the loaded
    copy must continue exactly like the original."""
    d = itctest.private_dir()
    mig = os.path.join(d, "uart.mig")

    def setup(q):
        q.writel(SCALER, 100)
        q.writel(CTRL, C_TE | C_RE | C_DB | C_TI)
        for b in b"HALF":
            q.writel(FIFO, b)
        q.writel(DATA, 0x41)
        q.writel(DATA, 0x42)
        q.clock_step(char_ns(100) // 2)

    def observe(q):
        out = [q.readl(STATUS), q.readl(CTRL), q.readl(SCALER)]
        q.clock_step(char_ns(100) // 2 + 10)
        out.append(q.readl(STATUS))
        out += [q.readl(DATA) for _ in range(4)]
        q.clock_step(char_ns(100))
        out.append(q.readl(STATUS))
        return out

    a = itctest.Qtest(qmp=True)
    setup(a)
    t_save = a.clock()
    a.qmp.cmd("stop")
    a.qmp.cmd("migrate", uri="file:" + mig)
    deadline = time.monotonic() + 30
    while a.qmp.cmd("query-migrate").get("status") != "completed":
        check(time.monotonic() < deadline, "migration did not complete")
        time.sleep(0.05)
    ref = itctest.Qtest(qmp=True)
    setup(ref)
    want = observe(ref)
    b = itctest.Qtest(qmp=True, extra=["-incoming", "file:" + mig])
    deadline = time.monotonic() + 30
    while b.qmp.cmd("query-status")["status"] == "inmigrate":
        check(time.monotonic() < deadline, "incoming migration did not finish")
        time.sleep(0.05)
    if b.qmp.cmd("query-status")["status"] != "running":
        b.qmp.cmd("cont")
    # qtest's virtual clock is not part of the migration stream (under TCG
    # and icount it is): bring the destination's clock to the save instant.
    b.cmd("clock_set %d" % t_save)
    got = observe(b)
    check_eq(got, want, "registers after load vs an uninterrupted run")


def body():
    u = Uart()
    test_reset_values(u)
    test_tx_timing_and_fifo(u)
    test_rx_fifo_overrun_and_irq(u)
    test_loopback_and_debug_fifo(u)
    test_fifo_level_interrupt(u)
    test_vmstate_round_trip()


itctest.run_test(body)
