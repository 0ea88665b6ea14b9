#!/usr/bin/env python3
"""Every GR740 device type has migration state: qemu-system-sparc -M gr740
-dump-vmstate FILE must list a VMStateDescription for every device type
defined in hw/itc (the TYPE_... "name" string definitions in hw/itc/*.c and
*.h), and for every gr740 device the machine actually instantiates (QMP
qom-list of /machine).  A device class without dc->vmsd is absent from the
dump, so this fails as soon as a device forgets its VMState.
"""
# itc-test-timeout: 60
import glob
import json
import os
import re
import subprocess

import itctest
from itctest import check, check_eq

TYPE_RE = re.compile(r'#define\s+TYPE_\w+\s+"([^"]+)"')


def type_names():
    names = set()
    for path in sorted(glob.glob(os.path.join(itctest.ROOT, "hw", "itc", "*.[ch]"))):
        with open(path) as f:
            names.update(TYPE_RE.findall(f.read()))
    return names


def dump_vmstate():
    out = os.path.join(itctest.private_dir(), "vmstate.json")
    r = subprocess.run([itctest.QEMU, "-M", "gr740", "-display", "none",
                        "-dump-vmstate", out], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check_eq(r.returncode, 0, "-dump-vmstate exit status (stderr: %s)" % r.stderr.decode()[-500:])
    with open(out) as f:
        return json.load(f)


def instantiated_types():
    q = itctest.Qtest(qmp=True)
    types = set()
    for p in q.qmp.cmd("qom-list", path="/machine"):
        m = re.match(r"child<(.+)>$", p["type"])
        if m and m.group(1).startswith("gr740-"):
            types.add(m.group(1))
    q.close()
    return types


def main():
    names = type_names()
    check(len(names) >= 5, "found only %d TYPE_ definitions in hw/itc: %s" % (len(names), names))
    dump = dump_vmstate()
    missing = sorted(n for n in names if n not in dump)
    check(not missing, "device types without a VMState in -dump-vmstate: %s" % missing)
    for n in names:
        desc = dump[n]
        check("Name" in desc and "version_id" in desc, "%s: malformed VMState entry %r" % (n, desc))
    inst = instantiated_types()
    check(inst, "no gr740-* device found under /machine")
    missing = sorted(t for t in inst if t not in dump)
    check(not missing, "instantiated devices without a VMState: %s" % missing)
    print("%d device types, %d instantiated, all with VMState" % (len(names), len(inst)))


itctest.run_test(main)
