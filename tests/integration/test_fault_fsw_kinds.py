#!/usr/bin/env python3
"""The new fault kinds as the sample FSW sees them (live run under icount):
  uart-error FE   -> HK rxfe=1 (the RX ISR counts the framing error)
  uart-corrupt    -> a corrupted command byte: NAK, cmderr=1
  uart-drop       -> the leading junk byte dropped: the command is ACKed
  reg-stuck       -> thermal sensor DATA bits stuck at 1: HK temp=127,
                     back to normal after the duration
  timer-lost-ticks-> 20 ticks (200 ms) lost: the FSW's tick count lags
                     virtual time by 20
  timer-drift     -> +10% for 500 ms: 5 extra ticks
Tick counts are read over QMP with the VM stopped, against virtual time."""
# itc-test-timeout: 300
import re

import fswtest
import itctest
from itctest import check, check_eq

THSENS_STATUS = 0xFFA0A004
TICK_NS = 10000000


def hk_after(run, pos, field):
    """The value of FIELD in the first HK packet after byte POS."""
    rx = re.compile(rb"HK [0-9a-f]{4} [^\n]*\b" + field + rb"=(-?\d+)")
    m = run.wait_for(rb"(?s).{%d}.*?HK [0-9a-f]{4} [^\n]*\b%s=(-?\d+)" % (pos, field),
                     timeout=120)
    return int(rx.search(run.output(), pos).group(1))


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    run = fswtest.Run(d, "kinds", interactive=True)
    try:
        run.wait_for(rb"FSW: cyclic executive running", timeout=60)
        q = run.qmp
        tick = fswtest.elf_symbols(fswtest.FSW_ELF)["tick_count"]

        # uart-error: framing error flagged in STATUS, counted by the FSW.
        pos = len(run.output())
        check_eq(hk_after(run, pos, b"rxfe"), 0, "no framing errors before")
        q.cmd("itc-inject-fault", kind="uart-error", target="apbuart0", mask=0x40)
        run.send(b"PING\n")            # an RX interrupt reads the status
        run.wait_for(rb"ACK [0-9a-f]{4} PING ")
        check_eq(hk_after(run, len(run.output()), b"rxfe"), 1, "HK rxfe after uart-error")

        # uart-corrupt: 'P' ^ 0x20 = 'p': unknown command.
        q.cmd("itc-inject-fault", kind="uart-corrupt", target="apbuart0", mask=0x20)
        run.send(b"PING\n")
        run.wait_for(rb"ACK [0-9a-f]{4} NAK ")
        check_eq(hk_after(run, len(run.output()), b"cmderr"), 1, "HK cmderr after corrupt")

        # uart-drop: the junk byte before the command is lost.
        q.cmd("itc-inject-fault", kind="uart-drop", target="apbuart0", count=1)
        pos = len(run.output())
        run.send(b"XSET_MODE 3\n")
        run.wait_for(rb"(?s).{%d}.*ACK [0-9a-f]{4} SET_MODE 3 " % pos)

        # reg-stuck: thermal sensor DATA field stuck at 0x7f for 1.5 s.
        q.cmd("itc-inject-fault", kind="reg-stuck", target="0x%x" % THSENS_STATUS,
              mask=0x7F, level=1, **{"duration-ns": 1500000000})
        check_eq(hk_after(run, len(run.output()), b"temp"), 127, "HK temp while stuck")
        run.wait_for(rb"(?s).*HK [^\n]*\n.*HK [^\n]*\n", timeout=120)
        pos = len(run.output())
        run.wait_for(rb"(?s).{%d}.*HK [^\n]*\n.*HK [^\n]*\n" % pos, timeout=120)
        check(hk_after(run, len(run.output()), b"temp") != 127, "HK temp after release")

        # timer-lost-ticks for 200 ms (20 ticks of 10 ms).
        t0, v0 = run.ticks_and_time(tick)
        q.cmd("itc-inject-fault", kind="timer-lost-ticks", target="gptimer0.0",
              **{"duration-ns": 200000000})
        run.wait_for(rb"(?s).{%d}.*HK [^\n]*\n" % len(run.output()), timeout=120)
        t1, v1 = run.ticks_and_time(tick)
        lag = (v1 - v0) // TICK_NS - (t1 - t0)
        check(19 <= lag <= 21, "ticks lost: %d (want 20; %d ticks in %d ns)"
              % (lag, t1 - t0, v1 - v0))

        # timer-drift +10% for 500 ms: 5 extra ticks.
        t0, v0 = run.ticks_and_time(tick)
        q.cmd("itc-inject-fault", kind="timer-drift", target="gptimer0", level=100000,
              **{"duration-ns": 500000000})
        run.wait_for(rb"(?s).{%d}.*HK [^\n]*\n.*HK [^\n]*\n" % len(run.output()), timeout=120)
        t1, v1 = run.ticks_and_time(tick)
        extra = (t1 - t0) - (v1 - v0) // TICK_NS
        check(4 <= extra <= 6, "extra ticks from drift: %d (want 5)" % extra)
        states = {f["kind"]: f["state"] for f in q.cmd("query-itc-faults")}
        check_eq(states.get("timer-drift"), "fired", "drift ended")
        check(fswtest.FATAL not in run.output(), "FSW hit a fatal trap")
        print("FSW saw uart-error, uart-corrupt, uart-drop, reg-stuck, lost ticks (%d), "
              "drift (+%d ticks)" % (lag, extra))
    finally:
        run.quit()


itctest.run_test(body)
