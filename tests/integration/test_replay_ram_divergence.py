#!/usr/bin/env python3
"""itc replay compares the guest RAM with the recording's at every checkpoint.

A divergence that reaches no output (the UART) and is undone before the end
(or a recording whose end differs for another reason) is only visible in
the state.  The test records the sample FSW with two checkpoints, then
alters one RAM page of the second checkpoint in the bundle's store (as if
the recording had held other RAM there): `itc replay` must exit 1 and name
that checkpoint, the number of pages, the page's offset and, in --json, the
same; the UART output and the final digest are still equal.  An unaltered
bundle replays identical, checkpoint RAM included, also with a fault that
writes RAM at the very instruction count of a checkpoint (saved during the
recording after that instant's timers ran, where a replay stops before
them: not a divergence)."""
# itc-test-timeout: 300
import json
import os
import shutil

import bundletest as bt
import fswtest
import itctest
from itctest import check, check_eq

PAGE = 4096


def page_record(stream, offset):
    """Where the record of the page at RAM offset OFFSET starts in STREAM (a
    page record continuing its block: flags 0x28), checked by the record
    that follows it."""
    head = (offset | 0x28).to_bytes(8, "big")
    at = stream.find(head)
    while at >= 0:
        nxt = at + 8 + PAGE
        flags = int.from_bytes(stream[nxt:nxt + 8], "big") & 0xfff
        if nxt + 8 <= len(stream) and flags in (0x10, 0x22, 0x28, 0x422, 0x2, 0x8, 0x402):
            return at
        at = stream.find(head, at + 1)
    return -1


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    env = {"TMPDIR": d}
    bundle = os.path.join(d, "b")
    bt.ok("record", fswtest.FSW_ELF, "-o", bundle, "--until", "icount:300000000",
          "--checkpoint-every", "100000000", env=env)
    r = bt.ok("replay", bundle, "--json", env=env).json()
    check_eq(r["identical"], True, "replay of the unaltered bundle: identical")
    check_eq(r["checkpoint_ram_equal"], True, "checkpoint RAM of the unaltered bundle")

    with open(os.path.join(bundle, "manifest.json")) as f:
        m = json.load(f)
    check_eq([c["name"] for c in m["checkpoints"]], ["ckpt-0001", "ckpt-0002"], "checkpoints")
    store = os.path.join(bundle, m["checkpoint_store"])
    a, b = (c["snapshot"] for c in m["checkpoints"])
    # a page the FSW wrote between the two checkpoints: its record holds data
    diff = bt.itc("snap", "diff", a, b, "--store", store, "--json", env=env)
    check_eq(diff.rc, 1, "snap diff of two checkpoints finds differences")
    pages = [p for p in diff.json()["pages"] if p.startswith("gr740.sdram@")]
    check(pages, "no RAM page differs between the checkpoints: %r" % diff.out[:500])
    offset = int(pages[0].split("@")[1], 16)
    src = os.path.join(d, "ckpt-0002.stream")
    bt.ok("snap", "export", b, "--store", store, "-o", src, env=env)
    with open(src, "rb") as f:
        stream = bytearray(f.read())
    at = page_record(stream, offset)
    check(at >= 0, "no record of page 0x%x in ckpt-0002's stream" % offset)
    stream[at + 8 + 100] ^= 0x5a
    altered = os.path.join(d, "altered.stream")
    with open(altered, "wb") as f:
        f.write(stream)
    new_id = bt.ok("snap", "ingest", altered, "--store", store, env=env).out.split()[-1]
    m["checkpoints"][1]["snapshot"] = new_id
    with open(os.path.join(bundle, "manifest.json"), "w") as f:
        json.dump(m, f, indent=2)

    r = bt.itc("replay", bundle, "--json", env=env)
    check_eq(r.rc, 1, "exit status of a replay whose checkpoint RAM differs (%s)" % r.err[-500:])
    j = r.json()
    check_eq(j["identical"], False, "identical")
    check_eq(j["checkpoint_ram_equal"], False, "checkpoint_ram_equal")
    check_eq(j["first_checkpoint_with_other_ram"], "ckpt-0002", "first checkpoint with other RAM")
    check_eq(j["ram_pages_different"], 1, "RAM pages that differ")
    check_eq(j["ram_block"], "gr740.sdram", "RAM block")
    check_eq(j["ram_first_difference"], offset, "offset of the page that differs")
    check_eq(j["uart_equal"], True, "UART output still equal")
    check_eq(j["digest_equal"], True, "final digest still equal")
    r = bt.itc("replay", bundle, env=env)
    check_eq(r.rc, 1, "exit status without --json")
    check("at ckpt-0002" in r.err and "1 page(s) of guest RAM differ" in r.err
          and "gr740.sdram+0x%x" % offset in r.err,
          "itc replay names the checkpoint, the pages and the offset: %s" % r.err)
    print("a RAM page altered in ckpt-0002 (gr740.sdram+0x%x%s) is reported by itc replay"
          % (offset, ", " + j["ram_symbol"] if "ram_symbol" in j else ""))

    # a fault's RAM write at a checkpoint's very instant is not a divergence
    faults = os.path.join(d, "at-checkpoint.json")
    with open(faults, "w") as f:
        json.dump([{"kind": "mem-seu", "target": "0x%x" % offset, "mask": 1,
                    "icount": 100000000}], f)
    fb = os.path.join(d, "fault")
    bt.ok("record", fswtest.FSW_ELF, "-o", fb, "--until", "icount:250000000",
          "--checkpoint-every", "100000000", "--faults", faults, env=env)
    with open(os.path.join(fb, "manifest.json")) as f:
        fm = json.load(f)
    check_eq(fm["faults"][0].get("fired_icount"), 100000000, "the fault fired at ckpt-0001")
    r = bt.itc("replay", fb, "--json", env=env)
    check_eq(r.rc, 0, "replay with a fault at a checkpoint's instant (%s)" % r.err[-500:])
    check_eq(r.json()["checkpoint_ram_equal"], True, "checkpoint RAM with that fault")
    bt.check_no_stray_qemu(d, "after the replays")


itctest.run_test(body)
