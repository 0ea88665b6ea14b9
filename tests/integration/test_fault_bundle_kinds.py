#!/usr/bin/env python3
"""The new fault kinds in recordings: itc record --faults with a scenario of
reg-stuck (thermal sensor DATA bits), uart-error, and mem-seu after the
input turned EDAC on (FSW command EDAC 1): the manifest has every fault at its instruction count, the FSW's
output shows them (EDAC packet, rxfe=1, temp=127), and itc replay of the
bundle is identical (UART and faults).  Malformed new-kind scenario
entries are refused with a clear message."""
# itc-test-timeout: 600
import json
import os

import bundletest as bt
import fswtest
import itctest
from itctest import check, check_eq

UNTIL = 300000000
EVERY = 50000000
THSENS_STATUS = 0xFFA0A004


def write_json(path, obj):
    with open(path, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    mode = fswtest.elf_symbols(fswtest.FSW_ELF)["mode"]
    scenario = [
        {"kind": "mem-seu", "target": "0x%x" % mode, "mask": 0x8, "icount": 150000000,
         "comment": "the input turned EDAC on (command EDAC 1)"},
        {"kind": "uart-error", "target": "apbuart0", "mask": 0x40, "icount": 60000000},
        {"kind": "reg-stuck", "target": "0x%x" % THSENS_STATUS, "mask": 0x7F, "level": 1,
         "icount": 80000000},
        # Faults with a duration that ends inside the recording: the end is a
        # virtual timer, which every replay must meet too.
        # (Not timer-lost-ticks with duration-icount on gptimer0.0: the FSW
        # idles waiting for that timer's ticks, so its instructions, and the
        # fault, never end.)
        {"kind": "reg-stuck", "target": "0x%x" % THSENS_STATUS, "mask": 0x7F, "level": 1,
         "icount": 30000000, "duration-icount": 10000000},
        {"kind": "timer-drift", "target": "gptimer0", "level": 50000, "icount": 100000000,
         "duration-ns": 20000000},
        {"kind": "timer-lost-ticks", "target": "gptimer0.0", "icount": 190000000,
         "duration-ns": 30000000},
    ]
    sc = write_json(os.path.join(d, "scenario.json"), scenario)
    bundle = os.path.join(d, "faulted")
    inp = write_json(os.path.join(d, "input.txt"), "EDAC 1\n")
    r = bt.ok("record", fswtest.FSW_ELF, "-o", bundle, "--until", "icount:%d" % UNTIL,
              "--checkpoint-every", str(EVERY), "--faults", sc, "--input", inp, "--json")
    rec = r.json()
    got = [(f["kind"], f["state"], f.get("fired_icount")) for f in rec["faults"]]
    want = [(s["kind"], "active" if s["kind"] == "reg-stuck" and "duration-icount" not in s
             else "fired", s["icount"]) for s in scenario]
    check_eq(got, want, "faults of the recording (kind, state, fired icount)")
    dur = ("duration-ns", "duration-icount")
    check_eq([{k: f[k] for k in dur if k in f} for f in rec["faults"]],
             [{k: s[k] for k in dur if k in s} for s in scenario],
             "the manifest keeps the durations (replays and --verify need them)")
    with open(os.path.join(bundle, "uart.log"), "rb") as f:
        out = f.read()
    check(b"EDAC 0000 ce=" in out, "the FSW reported the corrected SEU (EDAC packet)")
    check(b"rxfe=1" in out, "the FSW counted the injected framing error")
    check(b"temp=127" in out, "the FSW saw the stuck temperature bits")

    r = bt.ok("replay", bundle, "--json")
    v = r.json()
    check(v["identical"] and v["faults_equal"], "itc replay of the faulted bundle: %s" % r.out)

    # Bad input for the new kinds: refused before QEMU starts.
    for name, entry, needle in [
        ("drift-no-level", {"kind": "timer-drift", "target": "gptimer0", "icount": 5},
         "level"),
        ("drift-range", {"kind": "timer-drift", "target": "gptimer0", "level": 900000,
                         "icount": 5}, "out of range"),
        ("dur-kind", {"kind": "uart-drop", "target": "apbuart0", "duration-ns": 5,
                      "icount": 5}, "takes no duration"),
        ("dur-both", {"kind": "reg-stuck", "target": "0xff902004", "duration-ns": 5,
                      "duration-icount": 5, "icount": 5}, "not both"),
        ("dur-zero", {"kind": "reg-stuck", "target": "0xff902004", "duration-ns": 0,
                      "icount": 5}, "out of range"),
    ]:
        path = write_json(os.path.join(d, name + ".json"), [entry])
        bt.expect_rc(2, ["fault 1", needle], "record", fswtest.FSW_ELF, "-o",
                     os.path.join(d, name + "-bundle"), "--until", "icount:1000000",
                     "--faults", path)
    path = write_json(os.path.join(d, "bad-timer.json"),
                      [{"kind": "timer-lost-ticks", "target": "gptimer0.7", "icount": 5}])
    bt.expect_rc(2, ["fault 1", "out of range"], "record", fswtest.FSW_ELF, "-o",
                 os.path.join(d, "bad-timer-bundle"), "--until", "icount:1000000",
                 "--faults", path)
    bt.check_no_stray_qemu(d, "itc record/replay")
    print("new kinds recorded at their instruction counts; replay identical")


itctest.run_test(body)
