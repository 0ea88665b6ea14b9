#!/usr/bin/env python3
"""The fault kinds with device hooks (qtest + QMP): reg-stuck (a register
bit held at a level for a duration, then released), uart-corrupt /
uart-drop / uart-error on APBUART0's receiver, timer-lost-ticks (a number
of underflows, or all for a duration) and timer-drift on GPTIMER0, and
the QMP errors for bad input to each (the machine unaffected)."""
# itc-test-timeout: 60
import itctest
from itctest import check, check_eq, TestFailure

GRGPIO0_OUTPUT = 0xFF902004
UART = 0xFF900000
GPT = 0xFF908000
TCNT0, TRLD0, TCTRL0 = GPT + 0x10, GPT + 0x14, GPT + 0x18
EN, RS, LD, IE, IP = 1, 2, 4, 8, 16


def qmp_error(q, **args):
    try:
        q.cmd("itc-inject-fault", **args)
    except TestFailure as e:
        return str(e)
    raise TestFailure("itc-inject-fault %r was accepted" % (args,))


def uart_rx(t, q, hexdata):
    q.cmd("itc-inject-fault", kind="uart-rx", target="apbuart0", data=hexdata)
    got = []
    for _ in range(200):
        t.clock_step(100000)
        while t.readl(UART + 4) & 1:
            got.append(t.readl(UART) & 0xFF)
        if len(got) * 2 >= len(hexdata):
            break
    return bytes(got)


def body():
    t = itctest.Qtest(qmp=True, extra=["-serial", "null"])
    q = t.qmp

    # reg-stuck: bit 2 stuck at 1, bit 0 stuck at 0, for 1000 ns.
    t.writel(GRGPIO0_OUTPUT, 0x1)
    f = q.cmd("itc-inject-fault", kind="reg-stuck", target="0x%x" % GRGPIO0_OUTPUT,
              mask=0x4, level=1, **{"duration-ns": 1000})
    check_eq(f["state"], "active", "reg-stuck active")
    check_eq(f.get("duration-ns"), 1000, "reg-stuck duration reported")
    check_eq(t.readl(GRGPIO0_OUTPUT), 0x5, "stuck-at-1 bit reads 1")
    t.writel(GRGPIO0_OUTPUT, 0x0)
    check_eq(t.readl(GRGPIO0_OUTPUT), 0x4, "a write cannot clear the stuck bit")
    q.cmd("itc-inject-fault", kind="reg-stuck", target="0x%x" % GRGPIO0_OUTPUT,
          mask=0x1, level=0, **{"duration-ns": 500})
    t.writel(GRGPIO0_OUTPUT, 0x3)
    check_eq(t.readl(GRGPIO0_OUTPUT), 0x6, "two stuck faults on one register")
    t.clock_step(500)
    check_eq(t.readl(GRGPIO0_OUTPUT), 0x6, "stuck-at-0 ended, bit 0 was written 0")
    t.writel(GRGPIO0_OUTPUT, 0x1)
    check_eq(t.readl(GRGPIO0_OUTPUT), 0x5, "bit 0 writable again, bit 2 still stuck")
    t.clock_step(500)
    # Released: the register keeps what the stuck bit made of the last write.
    check_eq(t.readl(GRGPIO0_OUTPUT), 0x5, "released: the value the device holds")
    t.writel(GRGPIO0_OUTPUT, 0x1)
    check_eq(t.readl(GRGPIO0_OUTPUT), 0x1, "released: bit 2 writable again")
    states = [x["state"] for x in q.cmd("query-itc-faults") if x["kind"] == "reg-stuck"]
    check_eq(states, ["fired", "fired"], "reg-stuck faults ended")

    # UART receive faults.
    t.writel(UART + 0x08, 0x1)          # CTRL.RE
    q.cmd("itc-inject-fault", kind="uart-corrupt", target="apbuart0", mask=0x20)
    check_eq(uart_rx(t, q, "4142"), b"aB", "uart-corrupt XORs the next byte")
    q.cmd("itc-inject-fault", kind="uart-drop", target="apbuart0", count=2)
    check_eq(uart_rx(t, q, "4344"), b"", "uart-drop loses the next 2 bytes")
    check_eq(uart_rx(t, q, "45"), b"E", "reception normal after the drops")
    check_eq(t.readl(UART + 4) & 0x70, 0, "no error flags yet")
    q.cmd("itc-inject-fault", kind="uart-error", target="apbuart0", mask=0x60)
    check_eq(t.readl(UART + 4) & 0x70, 0x60, "FE and PE flagged in STATUS")

    # GPTIMER0 timer 0: 1 MHz prescaler, 10 us period, interrupt pending bit.
    t.writel(GPT + 0x04, 249)
    t.writel(GPT + 0x00, 249)
    t.writel(TRLD0, 9)
    t.writel(TCTRL0, EN | RS | LD | IE)
    t.clock_step(5000)                  # mid-period from here on

    def period_ip():
        t.writel(TCTRL0, EN | RS | IE | IP)     # clear IP (write 1)
        t.clock_step(10000)
        return bool(t.readl(TCTRL0) & IP)

    check(period_ip(), "timer underflows every 10 us")
    q.cmd("itc-inject-fault", kind="timer-lost-ticks", target="gptimer0.0", count=2)
    check_eq([period_ip() for _ in range(3)], [False, False, True],
             "two underflows lost, then normal")
    q.cmd("itc-inject-fault", kind="timer-lost-ticks", target="gptimer0.0",
          **{"duration-ns": 30000})
    check_eq([period_ip() for _ in range(4)], [False, False, False, True],
             "all underflows lost for 30 us")

    # Drift: +10% for 1 ms.  Count a free-running timer with a long period.
    t.writel(TRLD0, 0xFFFFFFFF)
    t.writel(TCTRL0, EN | RS | LD)
    t.clock_step(1000)
    a = t.readl(TCNT0)
    t.clock_step(100000)
    check_eq(a - t.readl(TCNT0), 100, "100 ticks in 100 us without drift")
    q.cmd("itc-inject-fault", kind="timer-drift", target="gptimer0", level=100000,
          **{"duration-ns": 1000000})
    a = t.readl(TCNT0)
    t.clock_step(100000)
    check_eq(a - t.readl(TCNT0), 110, "110 ticks in 100 us at +10%")
    t.clock_step(1000000)
    a = t.readl(TCNT0)
    t.clock_step(100000)
    check_eq(a - t.readl(TCNT0), 100, "drift ended")

    # Bad input: clear errors, nothing scheduled.
    n = len(q.cmd("query-itc-faults"))
    reg = "0x%x" % GRGPIO0_OUTPUT
    for args, want in [
        (dict(kind="reg-stuck", target="0x1000", mask=1), "no device register"),
        (dict(kind="reg-stuck", target=reg, mask=1, level=2), "level"),
        (dict(kind="reg-stuck", target=reg, mask=0), "mask"),
        (dict(kind="uart-corrupt", target="apbuart0", mask=0x100), "mask"),
        (dict(kind="uart-corrupt", target="apbuart7"), "no UART"),
        (dict(kind="uart-drop", target="apbuart0", count=0), "count"),
        (dict(kind="uart-drop", target="apbuart0", **{"duration-ns": 10}),
         "takes no duration"),
        (dict(kind="uart-error", target="apbuart0", mask=0x1), "FE"),
        (dict(kind="timer-lost-ticks", target="gptimer0.9"), "out of range"),
        (dict(kind="timer-lost-ticks", target="gptimer9.0"), "no GPTIMER"),
        (dict(kind="timer-lost-ticks", target="gptimer0"), "gptimerN.T"),
        (dict(kind="timer-lost-ticks", target="gptimer0.0", **{"duration-ns": -5}),
         "positive"),
        (dict(kind="timer-lost-ticks", target="gptimer0.0", **{"duration-icount": 100}),
         "duration-ns"),
        (dict(kind="timer-drift", target="gptimer0"), "level"),
        (dict(kind="timer-drift", target="gptimer0", level=600000), "ppm"),
        (dict(kind="timer-drift", target="gptimer0.1", level=10), "gptimerN"),
        (dict(kind="timer-drift", target="gptimer0", level=10,
              **{"duration-icount": 100}), "-icount"),
        (dict(kind="reg-stuck", target=reg, mask=1, **{"duration-ns": 5,
                                                        "duration-icount": 5}),
         "not both"),
    ]:
        err = qmp_error(q, **args)
        check(want in err, "%r: error %r should mention %r" % (args, err, want))
    check_eq(len(q.cmd("query-itc-faults")), n, "rejected faults are not recorded")
    check_eq(t.readl(GRGPIO0_OUTPUT), 0x1, "machine unaffected by rejected faults")
    hmp = q.hmp("itc_inject_fault timer-drift gptimer1 -2000 now 1 ns=1000")
    check("timer-drift gptimer1" in hmp and "active" in hmp and "duration=1000ns" in hmp,
          "HMP timer-drift: %r" % hmp)
    hmp = q.hmp("itc_inject_fault reg-stuck %s 0x8 now 1 icount=5" % reg)
    check(hmp.startswith("Error") and "-icount" in hmp, "HMP error printed: %r" % hmp)
    print("reg-stuck, uart-corrupt/drop/error, timer-lost-ticks/drift and bad input ok")


itctest.run_test(body)
