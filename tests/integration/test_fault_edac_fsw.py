#!/usr/bin/env python3
"""EDAC seen by the sample FSW (command EDAC 1 enables SDRAM EDAC; it counts AHBSTAT
interrupts and data access exceptions, and downlinks an EDAC packet when the
counters move).  A single-bit SEU injected into the FSW variable `mode` is
corrected (telemetry still shows mode=0) and reported as correctable with
the variable's address; after a SET_MODE rewrote the word, a double-bit SEU
makes the FSW's loads of `mode` take data access exceptions (counted as
uncorrectable, with the address from AHBSTAT); SET_MODE re-encodes the word
and the errors stop."""
# itc-test-timeout: 240
import re

import fswtest
import itctest
from itctest import check, check_eq

PKT = rb"EDAC [0-9a-f]{4} ce=(\d+) ue=(\d+) ahberr=(\d+) addr=([0-9a-f]{8}) pc=([0-9a-f]{8})"


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    run = fswtest.Run(d, "edac", interactive=True)
    try:
        run.wait_for(rb"EDAC SDRAM off, AHBSTAT 0x[0-9a-f]{8} irq \d+\r?\n", timeout=60)
        run.wait_for(rb"FSW: cyclic executive running", timeout=60)
        mode = fswtest.elf_symbols(fswtest.FSW_ELF)["mode"]
        q = run.qmp
        run.send(b"EDAC 1\n")
        run.wait_for(rb"ACK [0-9a-f]{4} EDAC 1 ")

        # Correctable: reported, corrected.
        q.cmd("itc-inject-fault", kind="mem-seu", target="0x%x" % mode, mask=0x10)
        m = run.wait_for(PKT + rb"[^\n]*\n(?:[^\n]*\n)*?TM [0-9a-f]{4} t=\d+ mode=(\d+) ")
        ce, ue, _ahberr = (int(x) for x in m.groups()[:3])
        addr = int(m.group(4), 16)
        check(ce >= 1, "FSW counted a correctable error (ce=%d)" % ce)
        check_eq(ue, 0, "no uncorrectable error for a single-bit SEU")
        check_eq(addr, mode, "AHBSTAT failing address = &mode")
        check_eq(int(m.group(6)), 0, "telemetry shows the corrected mode")

        # Rewrite the word (command), then a double-bit SEU: traps.
        run.send(b"SET_MODE 2\n")
        run.wait_for(rb"ACK [0-9a-f]{4} SET_MODE 2 ")
        check_eq(itctest.read_word(q, mode), 2, "mode after SET_MODE 2")
        q.cmd("itc-inject-fault", kind="mem-seu", target="0x%x" % mode, mask=0x300)
        m = run.wait_for(rb"EDAC [0-9a-f]{4} ce=\d+ ue=[1-9]\d* ahberr=[1-9]\d* "
                         rb"addr=([0-9a-f]{8}) pc=([0-9a-f]{8})")
        check_eq(int(m.group(1), 16), mode, "uncorrectable error address = &mode")
        check(int(m.group(2), 16) < mode, "trap pc %s in the FSW code" % m.group(2))

        # SET_MODE re-encodes the word: no more traps.
        run.send(b"SET_MODE 5\n")
        pat = (rb"ACK [0-9a-f]{4} SET_MODE 5 [^\n]*\n(?:[^\n]*\n)*?"
               rb"HK [^\n]* edac=\d+/(\d+) [^\n]*\n(?:[^\n]*\n)*?"
               rb"HK [^\n]* edac=\d+/(\d+) ")
        m = run.wait_for(pat, timeout=180)
        check_eq(m.group(1), m.group(2), "uncorrectable count stops after the rewrite")
        tail = run.output()[m.start():]
        check(re.search(rb"TM [0-9a-f]{4} t=\d+ mode=5 ", tail), "telemetry shows mode=5")
        check(fswtest.FATAL not in run.output(), "FSW hit a fatal trap")
        print("FSW: correctable error reported and corrected, uncorrectable one trapped "
              "and reported at 0x%08x, rewrite cleared it" % mode)
    finally:
        run.quit()


itctest.run_test(body)
