#!/usr/bin/env python3
# itc-test-timeout: 120
"""itc snap diff names device fields from the stream's JSON VM description:
two gr740 checkpoints (migrate to file) a few ms of virtual time apart, with
GPTIMER0 timer 0 running; the diff must show the timer's counter under its
vmdesc name with the values the guest-visible counter register had at each
checkpoint."""
import json
import os
import struct
import subprocess

from itctest import QEMU, Qtest, check, check_eq, private_dir, run_test, wait_migration

ITC = os.path.join(os.environ.get("ITC_SAN_BIN", os.path.join(os.path.dirname(QEMU), "..", "san", "bin")), "itc")
GPT0 = 0xff908000  # GR740_GPTIMER_BASE(0); timer 0: counter +0x10, reload +0x14, control +0x18


def itc(*args, store, rc=0):
    r = subprocess.run([ITC, "snap"] + list(args) + ["--store", store], capture_output=True)
    check_eq(r.returncode, rc, "itc snap %s (stderr %s)" % (" ".join(args), r.stderr.decode()[-300:]))
    return r


def vmdesc(path):
    """The JSON after EOF: 0x06, be32 length, text running to the end."""
    data = open(path, "rb").read()
    for p in range(len(data) - 5, 0, -1):
        if data[p] == 0x06 and struct.unpack(">I", data[p + 1:p + 5])[0] == len(data) - p - 5:
            return json.loads(data[p + 5:])
    raise AssertionError("no VM description in " + path)


def main():
    d = private_dir()
    q = Qtest(machine="gr740", qmp=True)
    q.writel(GPT0 + 0x14, 0xffffffff)
    q.writel(GPT0 + 0x18, 0x7)  # enable, restart, load
    q.clock_step(1000000)
    paths, counters = [], []
    for n in ("a", "b"):
        counters.append(q.readl(GPT0 + 0x10))
        paths.append(os.path.join(d, n + ".mig"))
        q.qmp.cmd("migrate", uri="file:" + paths[-1])
        wait_migration(q.qmp)
        q.qmp.cmd("cont")
        q.clock_step(3000000)
    q.close()
    check(counters[0] != counters[1], "timer counter moved: %r" % counters)
    desc = vmdesc(paths[1])
    gpt = [x for x in desc["devices"] if x["name"] == "gr740-gptimer" and x["instance_id"] == 0]
    check(len(gpt) == 1 and any(f["name"] == "t" for f in gpt[0]["fields"]), "vmdesc lists gr740-gptimer")

    store = os.path.join(d, "store")
    ids = [itc("ingest", p, store=store).stdout.split()[-1].decode() for p in paths]
    r = itc("diff", ids[0], ids[1], store=store, rc=1)
    want = "gr740-gptimer[0].t[0].count: 0x%08x -> 0x%08x" % tuple(counters)
    check(want.encode() in r.stdout, "diff shows %r in:\n%s" % (want, r.stdout.decode()[-1500:]))

    r = itc("diff", "--json", ids[0], ids[1], store=store, rc=1)
    secs = {s["section"]: s for s in json.loads(r.stdout)["sections"]}
    check("gr740-gptimer/0" in secs, "gptimer section changed: %r" % list(secs))
    fields = secs["gr740-gptimer/0"]["fields"]
    check(fields and all(f["named"] for f in fields),
          "every changed gptimer byte belongs to a named field: %r" % fields)
    count = [f for f in fields if f["field"] == "gr740-gptimer[0].t[0].count"]
    check_eq(len(count), 1, "one t[0].count change")
    check_eq((count[0]["a"], count[0]["b"], count[0]["size"]),
             ("0x%08x" % counters[0], "0x%08x" % counters[1], 4), "t[0].count values")
    # the same checkpoint twice: no change
    itc("diff", ids[1], ids[1], store=store, rc=0)


run_test(main)
