# make demo: find the root cause of the sample FSW's fatal trap by reverse
# execution (run by `itc debug BUNDLE --batch tests/demo/anomaly.gdb`).
#
# 1. run forward to the symptom: the FSW's fatal-trap handler bsp_fatal
# 2. look at the pointer the crashing code dereferenced: tt_next
# 3. watch it and run BACKWARDS to the last instruction that wrote it
# 4. step back over that store and show it, with its source line and the
#    call chain that executed it.
python
import gdb

def say(msg):
    print("\n=== " + msg)

def icount():
    return int(gdb.execute("monitor itc_icount", to_string=True).split()[-1])
end

python say("1. running forward to the symptom (break bsp_fatal)")
break bsp_fatal
continue
python symptom_icount = icount()
python print("stopped in the FATAL trap handler at icount %d" % symptom_icount)
print/x tt_next
python say("2. tt_next is odd: the load through it trapped (mem_address_not_aligned)")
python say("3. watching tt_next and running backwards to its last writer")
delete
watch -l tt_next
reverse-continue
python say("4. one step back, before the store executes")
reverse-stepi
python
guilty_icount = icount()
guilty_pc = int(gdb.parse_and_eval("$pc"))
guilty_insn = gdb.execute("x/i $pc", to_string=True).split(":", 1)[-1].strip()
guilty_sal = gdb.find_pc_line(guilty_pc)
guilty_func = gdb.selected_frame().name()
old_value = int(gdb.parse_and_eval("tt_next").cast(gdb.lookup_type("unsigned long")))
chain = []
f = gdb.selected_frame()
while f is not None and len(chain) < 12:
    chain.append(f.name() or "??")
    try:
        f = f.older()
    except gdb.error:
        break
end
x/i $pc
info line *$pc
print/x tt_next
print i
print w
bt
stepi
print/x tt_next
python
new_value = int(gdb.parse_and_eval("tt_next").cast(gdb.lookup_type("unsigned long")))
ulong = gdb.lookup_type("unsigned long")
def addr(expr):
    return int(gdb.parse_and_eval(expr).cast(ulong))
n_log = int(gdb.parse_and_eval("sizeof(ev_log) / sizeof(ev_log[0])"))
gdb.execute("reverse-stepi", to_string=True)   # back on the store, to read its operands
idx = int(gdb.parse_and_eval("i"))
word = int(gdb.parse_and_eval("w").cast(ulong)) & 0xffffffff
slot = addr("&ev_log[i]")
tt_addr = addr("&tt_next")
say("Root cause found")
print("""The FSW died at icount %d (misaligned load through tt_next).
tt_next was overwritten %d instructions earlier, at icount %d, by
    0x%x <%s>:  %s      (%s:%d)
which changed tt_next from 0x%x to 0x%x (%s).
Call chain at the store (innermost first): %s.""" % (
    symptom_icount, symptom_icount - guilty_icount, guilty_icount,
    guilty_pc, guilty_func, guilty_insn,
    guilty_sal.symtab.filename if guilty_sal.symtab else "?", guilty_sal.line,
    old_value, new_value, "odd: not a pointer" if new_value & 3 else "aligned",
    " <- ".join(chain)))
if slot == tt_addr:
    where = ("ev_log[%d], one past the end of ev_log (%d entries), where the linker "
             "placed tt_next" % (idx, n_log)) if idx == n_log else \
            ("ev_log[%d], which lies at tt_next's address" % idx)
    print("The store wrote the event word 0x%08x into %s." % (word, where))
    if idx >= n_log:
        print("Its index came from the shared ev_wr, which was %d: the log was full and "
              "not yet reset\n(the task side resets ev_wr only after downlinking the log, "
              "with interrupts enabled),\nso an interrupt that logged an event meanwhile "
              "wrote past the end: an unmasked ISR/task race." % idx)
else:
    print("The store wrote 0x%08x to 0x%x; tt_next is at 0x%x." % (word, slot, tt_addr))
end
