#!/usr/bin/env python3
"""EDAC semantics of mem-seu (qtest + QMP).  With EDAC enabled in the SDRAM
controller (MUXCFG.EDEN) a single-bit SEU is corrected on read and reported
as correctable (AHBSTAT CE/NE/AHBFAR, MEMSCRUB CECNT); a double-bit SEU is
uncorrectable (AHBSTAT NE without CE, MEMSCRUB UECNT; the access gets an
AHB error response, which test_fault_edac_fsw.py shows as a CPU trap); a
write re-encodes the word.  Without EDAC the bits just flip.  PROM EDAC
(FTMCTRL MCFG3.PE) corrects the same way.  A MEMSCRUB scrub run over a
correctable word reports and corrects it.  A checkpoint (migration to a
file) carries the poisoned words."""
# itc-test-timeout: 90
import os

import itctest
from itctest import check, check_eq

AHBSTAT = 0xFFA06000
MEMSCRUB = 0xFFE01000
SDCTRL_MUXCFG = 0xFFE00020
FTMCTRL_MCFG3 = 0xFF903008
PROM = 0xC0000000
NE, CE = 1 << 8, 1 << 9


def cecnt(t):
    return t.readl(MEMSCRUB) >> 22


def uecnt(t):
    return (t.readl(MEMSCRUB) >> 14) & 0xFF


def clear_status(t):
    t.writel(AHBSTAT, 0)
    t.writel(MEMSCRUB, 0)


def body():
    t = itctest.Qtest(qmp=True, extra=["-serial", "null"])
    q = t.qmp

    # No EDAC (reset state): the bits just flip, nothing is reported.
    t.writel(0x3000, 0x11111111)
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x3000", mask=0x1)
    check_eq(t.readl(0x3000), 0x11111110, "SEU without EDAC: bit flipped")
    check_eq(t.readl(AHBSTAT) & NE, 0, "no AHBSTAT report without EDAC")

    t.writel(SDCTRL_MUXCFG, 1)          # EDEN
    # Correctable: corrected on read, reported (every read, while NE is clear).
    t.writel(0x2000, 0x12345678)
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x2000", mask=0x100)
    check_eq(t.readl(0x2000), 0x12345678, "single-bit SEU corrected on read")
    s = t.readl(AHBSTAT)
    check(s & NE and s & CE, "AHBSTAT NE+CE after a correctable error (%08x)" % s)
    check_eq(t.readl(AHBSTAT + 4), 0x2000, "AHBSTAT failing address")
    check_eq(cecnt(t), 1, "MEMSCRUB CECNT")
    check_eq(t.readw(0x2002), 0x5678, "halfword read corrected too")
    check_eq(t.readb(0x2001), 0x34, "byte read corrected too")
    check_eq(cecnt(t), 3, "every read of the word counts")
    check_eq(t.readl(0x2004), 0, "neighbour word unaffected")
    check_eq(cecnt(t), 3, "neighbour read is not an error")
    # A second SEU on the same word: two bits now, uncorrectable.
    clear_status(t)
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x2000", mask=0x1)
    t.readl(0x2000)
    s = t.readl(AHBSTAT)
    check(s & NE and not s & CE, "AHBSTAT NE without CE: uncorrectable (%08x)" % s)
    check_eq(uecnt(t), 1, "MEMSCRUB UECNT")
    # A write re-encodes: no error any more.
    clear_status(t)
    t.writel(0x2000, 0xCAFEF00D)
    check_eq(t.readl(0x2000), 0xCAFEF00D, "value written")
    check_eq(t.readl(AHBSTAT) & NE, 0, "no error after the word was rewritten")
    check_eq(cecnt(t) + uecnt(t), 0, "no MEMSCRUB count after rewrite")

    # Double-bit SEU in one go; a byte write re-encodes it.
    t.writel(0x2100, 0xA5A5A5A5)
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x2100", mask=0x81)
    t.readl(0x2100)
    check_eq(t.readl(AHBSTAT) & (NE | CE), NE, "double-bit SEU uncorrectable")
    check_eq(t.readl(AHBSTAT + 4), 0x2100, "failing address of the double-bit error")
    clear_status(t)
    t.writeb(0x2100, 0x11)
    check_eq(t.readl(0x2100), 0x11A5A524, "sub-word write merges into the raw word")
    check_eq(t.readl(AHBSTAT) & NE, 0, "sub-word write re-encoded the word")

    # Sub-word write to a correctable word: read-modify-write corrects it.
    t.writel(0x2200, 0x01020304)
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x2200", mask=0x10000)
    t.writeb(0x2203, 0xFF)
    clear_status(t)
    check_eq(t.readl(0x2200), 0x010203FF, "RMW of a correctable word")
    check_eq(t.readl(AHBSTAT) & NE, 0, "no error after the RMW")

    # EDAC switched off later: the poisoned word reads raw (flipped).
    t.writel(0x2300, 0x0)
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x2300", mask=0x8)
    t.writel(SDCTRL_MUXCFG, 0)
    clear_status(t)
    check_eq(t.readl(0x2300), 0x8, "EDAC off: raw bits")
    check_eq(t.readl(AHBSTAT) & NE, 0, "EDAC off: nothing reported")
    t.writel(SDCTRL_MUXCFG, 1)
    check_eq(t.readl(0x2300), 0x0, "EDAC on again: corrected")

    # MEMSCRUB scrub run over the word: counted and corrected in memory.
    clear_status(t)
    t.writel(MEMSCRUB + 0x18, 0x2000)   # RANGEL
    t.writel(MEMSCRUB + 0x1C, 0x23FF)   # RANGEH
    t.writel(MEMSCRUB + 0x14, 0x1)      # CONFIG: SCEN, scrub mode
    t.clock_step(10_000_000)
    check(t.readl(MEMSCRUB + 0x10) & (1 << 13), "scrub run done")
    check_eq(cecnt(t), 1, "the scrubber counted the correctable word")
    t.writel(SDCTRL_MUXCFG, 0)
    check_eq(t.readl(0x2300), 0x0, "the scrubber wrote the corrected word back")
    t.writel(SDCTRL_MUXCFG, 1)

    # PROM with FTMCTRL EDAC (MCFG3.PE).
    prom_word = t.readl(PROM + 0x100)
    t.writel(FTMCTRL_MCFG3, t.readl(FTMCTRL_MCFG3) | (1 << 8))
    clear_status(t)
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x%x" % (PROM + 0x100), mask=0x4)
    check_eq(t.readl(PROM + 0x100), prom_word, "PROM SEU corrected")
    s = t.readl(AHBSTAT)
    check(s & NE and s & CE, "PROM correctable error reported (%08x)" % s)
    check_eq(cecnt(t), 0, "PROM errors are not on the SDRAM bus (MEMSCRUB)")
    t.writel(FTMCTRL_MCFG3, t.readl(FTMCTRL_MCFG3) & ~(1 << 8))
    check_eq(t.readl(PROM + 0x100), prom_word ^ 0x4, "PROM without EDAC: flipped")

    # A checkpoint carries the poisoned words: save, load, still corrected+reported.
    t.writel(0x2400, 0x55555555)
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x2400", mask=0x2)
    path = os.path.join(t.dir, "state.mig")
    q.cmd("migrate", uri="file:" + path)
    itctest.wait_migration(q)
    t.close()

    t2 = itctest.Qtest(qmp=True, extra=["-serial", "null", "-incoming", "file:" + path])
    itctest.wait_incoming(t2.qmp)
    clear_status(t2)
    check_eq(t2.readl(0x2400), 0x55555555, "restored poisoned word corrected")
    s = t2.readl(AHBSTAT)
    check(s & NE and s & CE, "restored poisoned word reported (%08x)" % s)
    t2.close()
    print("EDAC: correct+report, uncorrectable, re-encode, scrub, PROM, checkpoint")


itctest.run_test(body)
