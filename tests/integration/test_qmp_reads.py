#!/usr/bin/env python3
"""Regression test for qemu/patches/0018: a QMP monitor reads what the
client sent instead of one byte at a time, and still queues requests
exactly as before.

  * 50 commands pipelined in one write (more than the monitor's request
    queue of 8): every reply comes, in order, errors included;
  * a command trickled in a few bytes per write is parsed whole;
  * a 20000-byte command (larger than one read) is answered, and QEMU
    does far fewer read system calls for it than it has bytes (one read,
    a poll and eventfd traffic per byte before the patch): counted in
    /proc/PID/io, not timed."""
import json
import os
import socket
import subprocess
import time

import itctest
from itctest import check, check_eq


def syscr(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("syscr:"):
                return int(line.split()[1])
    raise itctest.TestFailure("no syscr in /proc/%d/io" % pid)


class RawQMP:
    def __init__(self, sock):
        self.sock = sock
        self.f = sock.makefile("rb")
        check("QMP" in self.recv(), "QMP greeting missing")
        self.send({"execute": "qmp_capabilities"})
        check("return" in self.recv(), "qmp_capabilities refused")

    def send(self, msg):
        self.sock.sendall((json.dumps(msg) + "\n").encode())

    def recv(self):
        while True:
            line = self.f.readline()
            if not line:
                raise itctest.TestFailure("QMP: connection closed")
            r = json.loads(line)
            if "event" not in r:
                return r


def main():
    d = itctest.private_dir()
    sock = os.path.join(d, "qmp.sock")
    lst = itctest.qmp_listener(sock)
    p = itctest.spawn([itctest.QEMU, "-M", "gr740", "-S", "-display", "none", "-monitor", "none",
                       "-serial", "null", "-qmp", "unix:" + sock,
                       "-kernel", os.path.join(itctest.FSW, "fsw.elf")])
    conn, _ = lst.accept()
    conn.settimeout(60)
    q = RawQMP(conn)

    # pipelined: one write, replies in order (every 7th asks for a
    # property that does not exist)
    cmds = []
    for i in range(50):
        prop = "no-such-property" if i % 7 == 3 else "type"
        cmds.append({"execute": "qom-get", "id": i,
                     "arguments": {"path": "/machine", "property": prop}})
    conn.sendall("".join(json.dumps(c) + "\n" for c in cmds).encode())
    for i in range(50):
        r = q.recv()
        check_eq(r.get("id"), i, "id of reply %d to pipelined commands" % i)
        want = "error" if i % 7 == 3 else "return"
        check(want in r, "reply %d: expected %s, got %r" % (i, want, r))
    print("50 pipelined commands: 50 replies in order")

    # trickled: a command split over many writes
    msg = (json.dumps({"execute": "query-status", "id": "trickle"}) + "\n").encode()
    for k in range(0, len(msg), 3):
        conn.sendall(msg[k:k + 3])
        time.sleep(0.002)
    r = q.recv()
    check_eq(r.get("id"), "trickle", "reply to a trickled command")
    check("return" in r, "query-status failed: %r" % r)

    # large: more than one read; count QEMU's read system calls for it
    path = "/machine" + "/" * 20000
    time.sleep(0.2)
    before = syscr(p.pid)
    q.send({"execute": "qom-get", "id": "large", "arguments": {"path": path, "property": "type"}})
    r = q.recv()
    reads = syscr(p.pid) - before
    check_eq(r.get("id"), "large", "reply to a 20000-byte command")
    print("a %d-byte command: %d read system calls in QEMU" % (len(path) + 80, reads))
    check(reads < 2000, "QEMU made %d read system calls for a 20000-byte command "
          "(one per byte: the monitor reads byte by byte)" % reads)

    q.send({"execute": "quit"})
    p.wait(30)


itctest.run_test(main)
