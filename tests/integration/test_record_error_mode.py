#!/usr/bin/env python3
"""`itc record` ends when the CPU enters error mode (a trap with traps
disabled halts a LEON for good): a guest counts down ~3e7 instructions,
then executes an illegal instruction with PSR.ET = 0 (as at reset).  With
--until icount far beyond that, the recording used to wait forever; now it
ends with that reason, and its verification replay (same instruction count,
same final state) passes.  Skips (77) without the SPARC cross compiler."""
# itc-test-timeout: 300
import json
import os

import bundletest as bt
import itctest
from itctest import check, check_eq

GUEST = r"""
    .section .text.start, "ax"
    .global _start
_start:
    set     10000000, %g1
1:  subcc   %g1, 1, %g1
    bne     1b
     nop
    .global errinsn
errinsn:
    unimp   0                       /* illegal instruction with ET = 0 */
2:  ba      2b
     nop
"""


def main():
    itctest.require_sparc_cc()
    d = itctest.private_dir()
    elf = itctest.assemble_guest(d, GUEST, "errmode")
    bundle = os.path.join(d, "b")
    r = bt.itc("record", elf, "-o", bundle, "--until", "icount:50000000000",
               "--checkpoint-every", "10000000", "--json", timeout=240)
    check_eq(r.rc, 0, "itc record of a guest that enters error mode: %s" % r.describe())
    rec = r.json()
    check("error mode" in rec["end_reason"], "end reason: %r" % rec["end_reason"])
    # 3 instructions per iteration, then the trap: the count is the guest's
    check(3 * 10000000 <= rec["icount_end"] < 3 * 10000000 + 100,
          "icount_end %d (the guest executes ~3e7 instructions)" % rec["icount_end"])
    with open(os.path.join(bundle, "manifest.json")) as f:
        m = json.load(f)
    check_eq(m["icount_end"], rec["icount_end"], "manifest icount_end")
    print("recording ended in error mode at icount %d: %s" % (rec["icount_end"],
                                                             rec["end_reason"]))


if __name__ == "__main__":
    itctest.run_test(main)
