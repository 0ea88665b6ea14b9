#!/usr/bin/env python3
"""Sample FSW, boot: fsw.elf (-kernel) and fsw.prom (-bios, PROM loader)
boot on -M gr740, print their plug&play scan and then telemetry.

The FSW's plug&play table is checked against what the machine model
declares (QMP 'info qtree'), not against a stored copy of FSW output:
  * every APB slave the FSW found is a qtree device of the QOM type that
    its GRLIB device id names, mapped at that address, and where the
    device has an irq-line property, PnP reports that line;
  * every device qtree maps inside the two APB bridges is in the scan;
  * AHB masters: one per CPU (query-cpus-fast).
Telemetry: >= 3 TM packets with consecutive sequence numbers, a 100 ms
tick spacing and a valid CRC-16/CCITT (computed here).
"""
# itc-test-timeout: 180
import re

import fswtest
import itctest
from itctest import TestFailure, check, check_eq

# GRLIB device id (FACTS.md 4.2) -> QOM type of the gr740 model.
APB_TYPES = {0x00C: "gr740-apbuart", 0x00D: "gr740-irqamp", 0x011: "gr740-gptimer",
             0x01A: "gr740-grgpio", 0x054: "gr740-ftmctrl", 0x02C: "gr740-clkgate",
             0x052: "gr740-ahbstat", 0x099: "gr740-thsens"}
APB_WINDOWS = [(0xFF900000, 0xFF9FF000), (0xFFA00000, 0xFFAFF000)]
PNP_RX = re.compile(rb"PNP (AHBM|AHBS|APB ) ([0-9a-f]{2}):([0-9a-f]{3}) ver (\d+) irq (\d+) "
                    rb"addr 0x([0-9a-f]{8}) size 0x([0-9a-f]+)\r\n")


def qtree_devices(text):
    """[(type, {prop: value}, [mmio base, ...])] from 'info qtree'."""
    devs = []
    cur = None
    for line in text.splitlines():
        m = re.match(r"\s*dev: ([\w.-]+), id", line)
        if m:
            cur = (m.group(1), {}, [])
            devs.append(cur)
            continue
        if cur is None:
            continue
        m = re.match(r"\s*mmio ([0-9a-f]+)/([0-9a-f]+)", line)
        if m:
            cur[2].append(int(m.group(1), 16))
            continue
        m = re.match(r"\s*([\w-]+) = (\d+)", line)
        if m:
            cur[1][m.group(1)] = int(m.group(2))
    return devs


def boot(d, name, **kw):
    run = fswtest.Run(d, name, **kw)
    run.wait_for(rb"TM 0003 [^\n]*\n", timeout=90)
    out = run.output()
    qtree = run.qmp.hmp("info qtree")
    ncpu = len(run.qmp.cmd("query-cpus-fast"))
    cmd = run.repro()
    run.quit()
    return out, qtree, ncpu, cmd


def check_pnp(out, qtree, ncpu, cmd):
    recs = [(b.decode().strip(), int(v, 16), int(dv, 16), int(irq), int(a, 16))
            for b, v, dv, _ver, irq, a, _sz in PNP_RX.findall(out)]
    check(recs, "no PNP lines in the FSW output\nreproduce: %s" % cmd)
    check(b"PNP end:" in out, "PNP scan did not finish\nreproduce: %s" % cmd)
    devs = [dv for dv in qtree_devices(qtree) if dv[0] != "unimplemented-device"]
    at = {}
    for typ, props, mmios in devs:
        for a in mmios:
            at.setdefault(a, []).append((typ, props))
    apb = [r for r in recs if r[0] == "APB"]
    for _bus, vendor, dev, irq, addr in apb:
        want = APB_TYPES.get(dev)
        check(vendor == 1, "APB record at 0x%08x: vendor %02x" % (addr, vendor))
        if want is None:
            raise TestFailure("FSW reports unknown APB device 01:%03x at 0x%08x" % (dev, addr))
        found = [p for t, p in at.get(addr, []) if t == want]
        if not found:
            raise TestFailure("FSW plug&play says %s (01:%03x) at 0x%08x, but qtree maps %r "
                              "there\nreproduce: %s" % (want, dev, addr,
                                                        [t for t, _ in at.get(addr, [])], cmd))
        props = found[0]
        if "irq-line" in props:
            check_eq(irq, props["irq-line"], "irq of %s at 0x%08x (PnP vs qtree irq-line)"
                     % (want, addr))
    seen = {r[4] for r in apb}
    for typ, _props, mmios in devs:
        for a in mmios:
            if any(lo <= a < hi for lo, hi in APB_WINDOWS) and not typ.startswith("gr740-pnp"):
                check(a in seen, "qtree maps %s at 0x%08x (APB) but the FSW's plug&play scan "
                      "did not find it\nreproduce: %s" % (typ, a, cmd))
    masters = [r for r in recs if r[0] == "AHBM"]
    check_eq(len(masters), ncpu, "AHB masters in plug&play vs CPUs (query-cpus-fast)")
    check(all(r[2] == 0x048 for r in masters), "AHB masters are not all LEON4 (01:048)")
    return recs


def check_telemetry(out, cmd):
    check(b"BSP self-test: interrupt path at call depths 0..11 ok" in out,
          "BSP self-test (trap/interrupt entry, window spill/fill) did not pass\n"
          "reproduce: %s" % cmd)
    tm = [p for p in fswtest.packets(out) if p[0] == "TM"]
    check(len(tm) >= 3, "fewer than 3 TM packets\nreproduce: %s" % cmd)
    for kind, seq, text, ok in tm:
        check(ok, "TM packet with a bad CRC: %r\nreproduce: %s" % (text, cmd))
    seqs = [p[1] for p in tm]
    check_eq(seqs, list(range(seqs[0], seqs[0] + len(seqs))), "TM sequence counters")
    ticks = [int(re.search(rb" t=(\d+) ", p[2]).group(1)) for p in tm]
    check(all(b - a == 10 for a, b in zip(ticks, ticks[1:])),
          "TM packets not 10 ticks (100 ms) apart: %r" % ticks)


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    out, qtree, ncpu, cmd = boot(d, "kernel")
    recs = check_pnp(out, qtree, ncpu, cmd)
    check_telemetry(out, cmd)
    print("-kernel fsw.elf: %d plug&play records match qtree; telemetry ok" % len(recs))
    pout, pqtree, pncpu, pcmd = boot(d, "prom", bios=fswtest.FSW_PROM)
    precs = check_pnp(pout, pqtree, pncpu, pcmd)
    check_telemetry(pout, pcmd)
    check_eq(precs, recs, "plug&play scan booted from PROM vs from -kernel")
    print("-bios fsw.prom: boots through the PROM loader; same scan; telemetry ok")


itctest.run_test(body)
