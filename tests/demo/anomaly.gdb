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
say("Root cause found")
print("""The FSW died at icount %d (misaligned load through tt_next).
tt_next was overwritten %d instructions earlier, at icount %d, by
    0x%x <%s>:  %s      (%s:%d)
which changed tt_next from 0x%x (a valid pointer) to 0x%x (odd).
Call chain at the store (innermost first): %s.
The interrupt path stored an EV_OVERRUN event word into ev_log[32], one past
the end of ev_log, where the linker placed tt_next.  It could, because the task
ev_put() had left the shared index ev_wr at 32 while it downlinked the full
log with interrupts enabled: the unmasked ISR/task race in app/main.c.""" % (
    symptom_icount, symptom_icount - guilty_icount, guilty_icount,
    guilty_pc, guilty_func, guilty_insn,
    guilty_sal.symtab.filename if guilty_sal.symtab else "?", guilty_sal.line,
    old_value, new_value, " <- ".join(chain)))
end
