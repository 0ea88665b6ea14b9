# ITC workbench: GDB commands for a replay started by `itc debug`.
#
# Loaded by `itc debug` into gdb-multiarch.  Talks to QEMU through the GDB
# stub's "monitor" passthrough (HMP), so it works with stock GDB:
#
#   itc-icount            instruction count of the replay position
#   itc-goto ICOUNT       move to an instruction count (absolute, or +N / -N
#                         relative), forwards or backwards, through the
#                         nearest checkpoint; breakpoints do not stop it
#   itc-checkpoints       the checkpoints QEMU can restart from (the
#                         bundle's; not the snapshots QEMU leaves behind
#                         reverse steps, patch 0025)
#
# Reverse execution itself is GDB's: reverse-stepi, reverse-step,
# reverse-next, reverse-continue, reverse-finish; watchpoints and
# breakpoints work in both directions.
import os
import re

import gdb


def _monitor(cmd):
    return gdb.execute("monitor " + cmd, to_string=True)


def itc_icount():
    """The replay's current instruction count (an int)."""
    out = _monitor("itc_icount")
    m = re.search(r"(\d+)", out)
    if not m:
        raise gdb.GdbError("itc: unexpected answer to itc_icount: %r" % out)
    return int(m.group(1))


def _continue_quietly():
    """GDB's "continue" to the replay break QEMU has set, without GDB's
    "Program received signal SIGINT" for the stop at it: GDB prints that
    past to_string, and "handle SIGINT noprint" would not stop there.  GDB's
    standard output goes to /dev/null meanwhile; errors still raise."""
    gdb.flush()
    saved = os.dup(1)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            gdb.execute("continue", to_string=True)
        finally:
            try:
                gdb.flush()  # what GDB printed meanwhile goes to /dev/null
            finally:
                os.dup2(saved, 1)
                os.close(null)
    finally:
        os.close(saved)


def _flush_caches():
    # The replay moved under GDB's feet: forget cached registers and memory.
    gdb.execute("maintenance flush register-cache", to_string=True)
    gdb.execute("maintenance flush dcache", to_string=True)


class ItcIcount(gdb.Command):
    """Print the instruction count of the current replay position.
Usage: itc-icount"""

    def __init__(self):
        super().__init__("itc-icount", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        print("icount %d" % itc_icount())


class ItcGoto(gdb.Command):
    """Move the replay to an instruction count, forwards or backwards.
Usage: itc-goto ICOUNT | +N | -N
QEMU loads the nearest checkpoint at or before the target (when that is
closer than the current position) and runs to the exact instruction;
breakpoints and watchpoints are suspended meanwhile."""

    def __init__(self):
        super().__init__("itc-goto", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if not re.fullmatch(r"[+-]?\d+", arg):
            raise gdb.GdbError("usage: itc-goto ICOUNT | +N | -N")
        target = int(arg)
        if arg[0] in "+-":
            target += itc_icount()
        if target < 0:
            raise gdb.GdbError("itc-goto: target %d is before the start" % target)
        out = _monitor("itc_goto %d" % target)
        if "icount" not in out:
            raise gdb.GdbError("itc-goto: %s" % out.strip())
        _flush_caches()
        if "resume" in out:
            suspended = [b for b in (gdb.breakpoints() or ()) if b.enabled]
            for b in suspended:
                b.enabled = False
            try:
                _continue_quietly()
            finally:
                for b in suspended:
                    b.enabled = True
        now = itc_icount()
        if now != target:
            raise gdb.GdbError("itc-goto: stopped at icount %d, not %d "
                               "(end of the recording?)" % (now, target))
        print("icount %d" % now)
        gdb.execute("frame", from_tty=False)


class ItcCheckpoints(gdb.Command):
    """List the checkpoints (snapshots with an instruction count).
Usage: itc-checkpoints"""

    def __init__(self):
        super().__init__("itc-checkpoints", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        out = _monitor("info snapshots")
        rows = []
        for line in out.splitlines():
            f = line.split()
            # ID TAG VM_SIZE DATE TIME VM_CLOCK ICOUNT (ID may be "--")
            # QEMU's own snapshots behind reverse steps (patch 0025) are not
            # the recording's checkpoints
            if (len(f) >= 7 and f[-1].isdigit() and f[0] != "ID"
                    and not f[1].startswith("replay-reverse-")):
                rows.append((int(f[-1]), f[1], f[-2]))
        if not rows:
            raise gdb.GdbError("itc-checkpoints: QEMU lists no checkpoints:\n" + out)
        print("%-12s %15s  %s" % ("checkpoint", "icount", "virtual time"))
        for icount, name, clock in sorted(rows):
            print("%-12s %15d  %s" % (name, icount, clock))


ItcIcount()
ItcGoto()
ItcCheckpoints()
