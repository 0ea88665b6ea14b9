#!/usr/bin/env python3
"""itc-ram-digest (hw/itc/itc_digest.c), what record and replay compare:
equal for equal RAM, different after a one-bit change anywhere (also in a
page that was all zero, and in the last page), back to the first value when
the bit is flipped back; refused while the VM runs.  The value is checked
against a digest computed here from a pmemsave of the whole RAM with the
documented rule (SHA-256 over page index + page for non-zero 4 KiB pages)."""
# itc-test-timeout: 120
import hashlib
import os
import struct
import subprocess

import fswtest
import itctest
from itctest import check, check_eq

PAGE = 4096


def digest_from_dump(path):
    h = hashlib.sha256()
    zero = bytes(PAGE)
    with open(path, "rb") as f:
        index = 0
        while True:
            page = f.read(PAGE)
            if not page:
                break
            if page != zero:
                h.update(struct.pack(">Q", index) + page)
            index += 1
    return h.hexdigest()


def flip(q, addr):
    q.cmd("itc-inject-fault", kind="mem-seu", target="0x%x" % addr, mask=0x1)


def body():
    fswtest.require_fsw()
    d = itctest.private_dir()
    sock = os.path.join(d, "qmp")
    lst = itctest.qmp_listener(sock)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-display", "none", "-monitor", "none",
                       "-serial", "null", "-icount", "shift=2", "-kernel", fswtest.FSW_ELF,
                       "-qmp", "unix:" + sock, "-S"],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
    q = itctest.accept_qmp(lst, p)
    r0 = q.cmd("itc-ram-digest")
    size = r0["size"]
    check_eq(size, 256 << 20, "RAM size digested")
    check(0 < r0["nonzero-pages"] < size // PAGE, "non-zero pages: %d" % r0["nonzero-pages"])
    dump = os.path.join(d, "ram")
    q.cmd("pmemsave", val=0, size=size, filename=dump)
    check_eq(r0["sha256"], digest_from_dump(dump), "digest vs the documented rule")
    check_eq(q.cmd("itc-ram-digest")["sha256"], r0["sha256"], "digest of unchanged RAM")
    for addr in (0x40, 0x800000, size - 4):
        flip(q, addr)
        r1 = q.cmd("itc-ram-digest")
        check(r1["sha256"] != r0["sha256"], "a flipped bit at 0x%x left the digest unchanged"
              % addr)
        flip(q, addr)
        check_eq(q.cmd("itc-ram-digest")["sha256"], r0["sha256"], "digest after flipping back")
    q.cmd("cont")
    try:
        q.cmd("itc-ram-digest")
        check(False, "itc-ram-digest accepted while the VM runs")
    except itctest.TestFailure as e:
        check("stop it" in str(e), "error while running: %s" % e)
    q.cmd("quit")
    p.wait(10)
    print("RAM digest: %d non-zero pages of %d; matches the rule, sees single-bit changes"
          % (r0["nonzero-pages"], size // PAGE))


itctest.run_test(body)
