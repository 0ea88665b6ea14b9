#!/usr/bin/env python3
"""Fault kinds observed on the devices (qtest + QMP): GPIO input level
change (GRGPIO DATA), device register bit flip (GRGPIO OUTPUT), UART RX
byte injection (APBUART0 DATA/STATUS), a fault
scheduled at a virtual time fires when qtest moves the clock there, and
kinds whose device is missing are refused with a clear error."""
# itc-test-timeout: 60
import itctest
from itctest import check, check_eq, TestFailure

GRGPIO0 = 0xFF902000
DATA, OUTPUT = 0x00, 0x04


def qmp_error(q, name, **args):
    try:
        q.cmd(name, **args)
    except TestFailure as e:
        return str(e)
    raise TestFailure("%s %r was accepted" % (name, args))


def body():
    t = itctest.Qtest(qmp=True, extra=["-serial", "null"])
    q = t.qmp

    # GPIO input level change, now.
    before = t.readl(GRGPIO0 + DATA)
    check_eq(before & (1 << 3), 0, "GPIO line 3 low at reset")
    f = q.cmd("itc-inject-fault", kind="gpio", target="grgpio0.3", level=1)
    check_eq(f["state"], "fired", "gpio fault state")
    check_eq(t.readl(GRGPIO0 + DATA) & (1 << 3), 1 << 3, "GPIO line 3 high after fault")
    q.cmd("itc-inject-fault", kind="gpio", target="grgpio0.3", level=0)
    check_eq(t.readl(GRGPIO0 + DATA) & (1 << 3), 0, "GPIO line 3 low again")
    check("out of range" in qmp_error(q, "itc-inject-fault", kind="gpio",
                                      target="grgpio0.99"), "bad gpio line")
    check("no GPIO controller" in qmp_error(q, "itc-inject-fault", kind="gpio",
                                            target="grgpio7.1"), "bad gpio controller")
    check("level" in qmp_error(q, "itc-inject-fault", kind="gpio", target="grgpio0.1",
                               level=5), "bad gpio level")

    # Device register bit flip at a virtual time (qtest drives the clock).
    t.writel(GRGPIO0 + OUTPUT, 0x1)
    now = t.clock()
    f = q.cmd("itc-inject-fault", kind="reg-flip", target="0x%x" % (GRGPIO0 + OUTPUT),
              mask=0x6, **{"time-ns": now + 1000})
    check_eq(f["state"], "pending", "reg-flip pending")
    t.clock_step(999)
    check_eq(t.readl(GRGPIO0 + OUTPUT), 0x1, "register untouched before the deadline")
    t.clock_step(1)
    check_eq(t.readl(GRGPIO0 + OUTPUT), 0x7, "register bits flipped at the deadline")
    check_eq(q.cmd("query-itc-faults")[-1]["state"], "fired", "reg-flip fired")
    check("no device register" in qmp_error(q, "itc-inject-fault", kind="reg-flip",
                                            target="0x1000"), "reg-flip on RAM")
    check("in the past" in qmp_error(q, "itc-inject-fault", kind="reg-flip",
                                     target="0x%x" % (GRGPIO0 + OUTPUT),
                                     **{"time-ns": 0}), "past time")
    check("icount" in qmp_error(q, "itc-inject-fault", kind="cpu-reg", target="g1",
                                icount=10), "icount scheduling without -icount")

    # Memory SEU now: the word in RAM changes.
    t.writel(0x2000, 0x12345678)
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x2000", mask=0x80000001)
    check_eq(t.readl(0x2000), 0x92345679, "double-bit SEU in RAM")

    # UART RX injection: the bytes reach the receiver of APBUART0.
    uart = 0xFF900000
    t.writel(uart + 0x08, 0x1)          # CTRL.RE
    check_eq(t.readl(uart + 0x04) & 1, 0, "no data ready before injection")
    f = q.cmd("itc-inject-fault", kind="uart-rx", target="apbuart0", data="41")
    check_eq(f["state"], "fired", "uart-rx fired")
    for _ in range(100):
        if t.readl(uart + 0x04) & 1:
            break
        t.clock_step(100000)
    check_eq(t.readl(uart + 0x04) & 1, 1, "data ready after injection")
    check_eq(t.readl(uart) & 0xFF, 0x41, "injected byte received")
    check("hex" in qmp_error(q, "itc-inject-fault", kind="uart-rx", target="apbuart0",
                             data="4g"), "bad hex")
    check("no UART" in qmp_error(q, "itc-inject-fault", kind="uart-rx", target="apbuart9",
                                 data="41"), "bad uart")

    # IRQ faults need the IRQ(A)MP; without it the error says so.
    try:
        q.cmd("itc-inject-fault", kind="irq", target="5")
    except TestFailure as e:
        check("IRQ(A)MP" in str(e), "irq error: %s" % e)
    t.close()


itctest.run_test(body)
