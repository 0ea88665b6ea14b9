/*
 * ITC workbench: ITC monitor commands and deterministic fault injection
 *
 * Faults are kept in a fixed table in a VMState'd device (child
 * "fault-injector" of the machine) so a checkpoint carries the pending
 * ones.  A QEMU_CLOCK_VIRTUAL timer armed at the earliest deadline applies
 * them; under icount the virtual clock is derived from the instruction
 * count and QEMU ends translation blocks at timer deadlines, so a fault
 * scheduled at instruction count N is applied exactly after N instructions.
 *
 * EDAC (mem-seu on memory whose controller has EDAC enabled: SDRAM with
 * SDCTRL MUXCFG.EDEN, PROM with FTMCTRL MCFG3.PE, checked when the SEU
 * happens): the flipped bits are written to memory as before, and the
 * word is also entered in a VMState'd table of poisoned words, with the
 * flipped bits as the mismatch between data and check bits.  A 4-byte
 * MMIO overlay (higher priority than the memory, sub-page in TCG) on each
 * poisoned word applies the EDAC semantics; overlays are recreated from
 * the table after a migration/snapshot load.  On a read, while EDAC is
 * enabled:
 *  - one flipped bit (correctable): the CPU reads the corrected value,
 *    the error is reported as correctable to AHBSTAT (CE, NE, failing
 *    address, interrupt) and, for SDRAM, to MEMSCRUB (AHB status of the
 *    memory bus: CECNT, threshold interrupt).  The word stays wrong in
 *    memory (the controllers do not write back corrected data) until it
 *    is written or a MEMSCRUB scrub run covers it.
 *  - two flipped bits (uncorrectable): AHB error response (the CPU takes
 *    a data access exception, tt 0x09, or an instruction access exception
 *    when fetching), reported to AHBSTAT and, for SDRAM, MEMSCRUB (UECNT).
 * Any write to the word re-encodes it (check bits recomputed): the
 * overlay goes away.  With EDAC disabled at the time of the read, the
 * flipped bits are read as they are.  Debugger (attrs.debug) reads see
 * the corrected value of a correctable word and the raw value of an
 * uncorrectable one, and report nothing.
 * Model decisions, UNCONFIRMED against GR740-UM-DS:
 *  - SDRAM errors are reported to the processor bus AHBSTAT as well as to
 *    MEMSCRUB (on the chip the L2 cache sits in between; a correctable
 *    error may not reach AHBSTAT).  The L2 cache is transparent: every
 *    access reads memory.  HMASTER is the CPU index.
 *  - a sub-word write to a correctable word corrects it first (the
 *    controller's read-modify-write); to an uncorrectable word it merges
 *    into the raw data without an error response.
 *  - SEU on top of an SEU: the masks combine; 2 or more bits are
 *    uncorrectable (no miscorrection of 3+ bit errors is modelled).
 *  - PROM writes are ignored (ROM): a PROM word stays poisoned.
 *
 * Faults with a duration (reg-stuck, timer-lost-ticks, timer-drift) are
 * SLOT_ACTIVE from the instant they fire until the duration (virtual ns,
 * or instructions re-aimed like a pending fault) ends, then undone.
 * The end is an expiry of the (non-external) QEMU_CLOCK_VIRTUAL timer, so
 * under record/replay it is a CHECKPOINT_CLOCK_VIRTUAL event in the log: a
 * replay must have the fault with the same duration as the recording
 * (itc record saves "init" again with the faults pending, durations
 * included), or it waits forever for that event.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-itc.h"
#include "qapi/qapi-visit-itc.h"
#include "qobject/qdict.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "qemu/timer.h"
#include "system/cpu-timers.h"
#include "exec/address-spaces.h"
#include "hw/core/cpu.h"
#include "hw/qdev-core.h"
#include "hw/irq.h"
#include "hw/boards.h"
#include "migration/vmstate.h"
#include "chardev/char.h"
#include "cpu.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_fault.h"
#include "gr740_devices.h"

DECLARE_INSTANCE_CHECKER(struct GR740FaultInjector, GR740_FAULT_INJECTOR,
                         TYPE_GR740_FAULT_INJECTOR)

#define ITC_MAX_FAULTS      64
#define ITC_TARGET_LEN      32
#define ITC_DATA_LEN        32

enum { SLOT_FREE = 0, SLOT_PENDING, SLOT_FIRED, SLOT_FAILED, SLOT_ACTIVE };

typedef struct ItcFault {
    uint32_t id;
    uint32_t kind;              /* ItcFaultKind */
    uint32_t state;             /* SLOT_* */
    uint32_t count;
    int32_t level;
    uint64_t mask;
    int64_t deadline_ns;
    int64_t icount;             /* -1: scheduled by time */
    int64_t fired_icount;       /* -1: not fired / no icount */
    uint8_t target[ITC_TARGET_LEN];   /* NUL-terminated */
    uint32_t data_len;
    uint8_t data[ITC_DATA_LEN];
} ItcFault;

#define ITC_MAX_POISON      32

/* A word whose data and EDAC check bits disagree. */
typedef struct ItcPoison {
    uint32_t addr;              /* word address */
    uint32_t mask;              /* bits flipped in the data; 0: free slot */
} ItcPoison;

typedef struct GR740FaultInjector GR740FaultInjector;

typedef struct ItcPoisonOverlay {
    MemoryRegion mr;
    GR740FaultInjector *s;
    unsigned idx;
    bool mapped;
    uint32_t base;              /* where it is (or was last) mapped */
    uint8_t *host;              /* the word in the memory's RAM block */
} ItcPoisonOverlay;

#define ITC_MAX_STUCK       8

/* reg-stuck: an overlay on a device register, forwarding to the device. */
typedef struct ItcStuckOverlay {
    MemoryRegion mr;
    int fault;                  /* index in faults[], -1: free */
    bool mapped;
    MemoryRegion *under;        /* the device's region (referenced) */
    hwaddr under_off;
    uint32_t mask;
    uint32_t set;               /* mask bits stuck at 1 */
} ItcStuckOverlay;

struct GR740FaultInjector {
    DeviceState parent_obj;

    QEMUTimer *timer;
    uint32_t next_id;
    ItcFault faults[ITC_MAX_FAULTS];

    /*
     * Faults with a duration (reg-stuck, timer-lost-ticks, timer-drift),
     * VMState subsection "duration": the requested duration (ns or
     * instructions, 0: none), and while SLOT_ACTIVE when it ends
     * (end_ns INT64_MAX: never; end_icount -1: by virtual time).
     */
    int64_t dur_ns[ITC_MAX_FAULTS];
    int64_t dur_icount[ITC_MAX_FAULTS];
    int64_t end_ns[ITC_MAX_FAULTS];
    int64_t end_icount[ITC_MAX_FAULTS];
    ItcStuckOverlay stuck[ITC_MAX_STUCK];

    ItcPoison poison[ITC_MAX_POISON];
    ItcPoisonOverlay overlay[ITC_MAX_POISON];
};

static GR740FaultInjector *itc_injector(Error **errp)
{
    Object *obj = object_resolve_path_type("", TYPE_GR740_FAULT_INJECTOR,
                                           NULL);

    if (!obj) {
        error_setg(errp, "fault injection needs the gr740 machine");
        return NULL;
    }
    return GR740_FAULT_INJECTOR(obj);
}

/* ---- target parsing / application ---- */

static bool itc_parse_u64(const char *s, uint64_t *v)
{
    return qemu_strtou64(s, NULL, 0, v) == 0;
}

/* Resolve "[cpuN.]REG" into a CPU and a register name. */
static CPUState *itc_parse_cpu_reg(const char *target, const char **reg,
                                   Error **errp)
{
    unsigned long n = 0;
    const char *dot = strchr(target, '.');

    *reg = target;
    if (dot) {
        const char *end = NULL;

        if (strncmp(target, "cpu", 3) ||
            qemu_strtoul(target + 3, &end, 10, &n) || end != dot) {
            error_setg(errp, "bad CPU in '%s' (expected cpuN.REG)", target);
            return NULL;
        }
        *reg = dot + 1;
    }
    CPUState *cs = qemu_get_cpu(n);
    if (!cs) {
        error_setg(errp, "no CPU %lu", n);
    }
    return cs;
}

static bool itc_reg_valid(const char *reg)
{
    if (!strcmp(reg, "pc") || !strcmp(reg, "npc") || !strcmp(reg, "psr")) {
        return true;
    }
    return strlen(reg) == 2 && strchr("goli", reg[0]) &&
           reg[1] >= '0' && reg[1] <= '7';
}

static bool itc_apply_cpu_reg(ItcFault *f, Error **errp)
{
    const char *reg;
    CPUState *cs = itc_parse_cpu_reg((const char *)f->target, &reg, errp);
    CPUSPARCState *env;
    uint32_t m = f->mask;

    if (!cs) {
        return false;
    }
    env = cpu_env(cs);
    if (!strcmp(reg, "pc")) {
        env->pc ^= m;
    } else if (!strcmp(reg, "npc")) {
        env->npc ^= m;
    } else if (!strcmp(reg, "psr")) {
        cpu_put_psr(env, cpu_get_psr(env) ^ m);
    } else {
        int i = reg[1] - '0';

        switch (reg[0]) {
        case 'g':
            if (i) {
                env->gregs[i] ^= m;
            }
            break;
        case 'o':
            env->regwptr[i] ^= m;
            break;
        case 'l':
            env->regwptr[8 + i] ^= m;
            break;
        default:
            env->regwptr[16 + i] ^= m;
            break;
        }
    }
    return true;
}

/* ---- EDAC: poisoned words ---- */

static Object *itc_machine_child(const char *name)
{
    g_autofree char *path = g_strdup_printf("/machine/%s", name);

    return object_resolve_path(path, NULL);
}

static bool itc_is_sdram(uint32_t addr)
{
    return addr < GR740_SDRAM_MAX;      /* only RAM words get this far */
}

/* Is EDAC enabled in the controller of the memory at @addr? */
static bool itc_edac_on(uint32_t addr)
{
    Object *o;

    if (itc_is_sdram(addr)) {
        o = itc_machine_child("sdctrl");
        return o && gr740_sdctrl_edac(DEVICE(o));
    }
    if (addr >= GR740_PROM_BASE && addr - GR740_PROM_BASE < GR740_PROM_SIZE) {
        o = itc_machine_child("ftmctrl");
        return o && gr740_ftmctrl_prom_edac(DEVICE(o));
    }
    return false;
}

static void itc_edac_report(uint32_t addr, bool write, unsigned size,
                            bool correctable)
{
    unsigned master = current_cpu ? current_cpu->cpu_index : 0;
    Object *o;

    trace_gr740_fault_edac(addr, write, correctable);
    if (itc_is_sdram(addr)) {
        o = itc_machine_child("memscrub");
        if (o) {
            gr740_memscrub_report_error(DEVICE(o), addr, write, master,
                                        ctz32(size), correctable);
        }
    }
    o = itc_machine_child("ahbstat");
    if (o) {
        gr740_ahbstat_report(DEVICE(o), addr, write, master, ctz32(size),
                             correctable);
    }
}

static int itc_poison_find(GR740FaultInjector *s, uint32_t addr)
{
    for (int i = 0; i < ITC_MAX_POISON; i++) {
        if (s->poison[i].mask && s->poison[i].addr == addr) {
            return i;
        }
    }
    return -1;
}

static bool itc_poison_map(GR740FaultInjector *s, int i)
{
    ItcPoisonOverlay *o = &s->overlay[i];
    MemoryRegionSection sec;

    sec = memory_region_find(get_system_memory(), s->poison[i].addr, 4);
    if (!sec.mr || !memory_region_is_ram(sec.mr) ||
        int128_get64(sec.size) != 4) {
        if (sec.mr) {
            memory_region_unref(sec.mr);
        }
        return false;
    }
    o->host = (uint8_t *)memory_region_get_ram_ptr(sec.mr) +
              sec.offset_within_region;
    memory_region_unref(sec.mr);
    o->base = s->poison[i].addr;
    o->mapped = true;
    memory_region_add_subregion_overlap(get_system_memory(), o->base, &o->mr,
                                        100);
    return true;
}

static void itc_poison_unmap(GR740FaultInjector *s, int i)
{
    ItcPoisonOverlay *o = &s->overlay[i];

    if (o->mapped) {
        o->mapped = false;
        memory_region_del_subregion(get_system_memory(), &o->mr);
    }
}

/* Flip @mask in the word at @addr (RAM or PROM), invalidating code. */
static bool itc_flip_word(uint32_t addr, uint32_t mask)
{
    uint8_t buf[4];

    if (address_space_read(&address_space_memory, addr,
                           MEMTXATTRS_UNSPECIFIED, buf, 4) != MEMTX_OK) {
        return false;
    }
    /* The mask applies to the word as the (big-endian) guest sees it. */
    stl_be_p(buf, ldl_be_p(buf) ^ mask);
    return address_space_write_rom(&address_space_memory, addr,
                                   MEMTXATTRS_UNSPECIFIED, buf, 4) == MEMTX_OK;
}

/* The word at @addr takes the SEU @mask with EDAC on: poison it. */
static bool itc_poison_add(GR740FaultInjector *s, uint32_t addr,
                           uint32_t mask, Error **errp)
{
    int i = itc_poison_find(s, addr);

    if (i < 0) {
        for (i = 0; i < ITC_MAX_POISON && s->poison[i].mask; i++) {
            ;
        }
        if (i == ITC_MAX_POISON) {
            error_setg(errp, "too many words with uncorrected EDAC errors "
                       "(max %d)", ITC_MAX_POISON);
            return false;
        }
        s->poison[i].addr = addr;
    }
    itc_poison_unmap(s, i);
    if (!itc_flip_word(addr, mask)) {
        error_setg(errp, "cannot write 0x%" PRIx32, addr);
        return false;
    }
    s->poison[i].mask ^= mask;
    if (s->poison[i].mask && !itc_poison_map(s, i)) {
        s->poison[i].mask = 0;
        error_setg(errp, "0x%" PRIx32 " is not in RAM", addr);
        return false;
    }
    return true;
}

static MemTxResult itc_poison_read(void *opaque, hwaddr off, uint64_t *data,
                                   unsigned size, MemTxAttrs attrs)
{
    ItcPoisonOverlay *o = opaque;
    ItcPoison *p = &o->s->poison[o->idx];
    unsigned shift = (4 - off - size) * 8;
    uint32_t word;

    if (!o->mapped) {
        /* A TLB entry from before the word was rewritten. */
        uint8_t buf[8];
        MemTxResult r = address_space_read(&address_space_memory,
                                           o->base + off, attrs, buf, size);
        *data = ldn_be_p(buf, size);
        return r;
    }
    word = ldl_be_p(o->host);
    if (itc_edac_on(p->addr)) {
        if (ctpop32(p->mask) == 1) {
            word ^= p->mask;
            if (!attrs.debug) {
                itc_edac_report(o->base + off, false, size, true);
            }
        } else if (!attrs.debug) {
            itc_edac_report(o->base + off, false, size, false);
            *data = 0;
            return MEMTX_ERROR;
        }
    }
    *data = extract32(word, shift, size * 8);
    return MEMTX_OK;
}

static MemTxResult itc_poison_write(void *opaque, hwaddr off, uint64_t data,
                                    unsigned size, MemTxAttrs attrs)
{
    ItcPoisonOverlay *o = opaque;
    GR740FaultInjector *s = o->s;
    ItcPoison *p = &s->poison[o->idx];
    uint32_t word;
    uint8_t buf[8];

    if (!o->mapped) {
        stn_be_p(buf, size, data);
        return address_space_write(&address_space_memory, o->base + off,
                                   attrs, buf, size);
    }
    if (!itc_is_sdram(p->addr)) {
        return MEMTX_OK;        /* PROM: ROM, the write has no effect */
    }
    word = ldl_be_p(o->host);
    if (size < 4 && ctpop32(p->mask) == 1 && itc_edac_on(p->addr)) {
        word ^= p->mask;        /* read-modify-write corrects */
    }
    word = deposit32(word, (4 - off - size) * 8, size * 8, data);
    trace_gr740_fault_edac_rewrite(p->addr, p->mask);
    /* The word is re-encoded: no longer poisoned. */
    itc_poison_unmap(s, o->idx);
    p->mask = 0;
    stl_be_p(buf, word);
    return address_space_write(&address_space_memory, o->base, attrs, buf, 4);
}

static const MemoryRegionOps itc_poison_ops = {
    .read_with_attrs = itc_poison_read,
    .write_with_attrs = itc_poison_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/*
 * MEMSCRUB finished a scrub run over [lo, hi]: it read every poisoned
 * SDRAM word there.  With EDAC on it reports each one; it writes the
 * corrected data of the correctable ones back.
 */
static void itc_scrub_hook(void *opaque, DeviceState *memscrub, uint32_t lo,
                           uint32_t hi)
{
    GR740FaultInjector *s = opaque;

    for (int i = 0; i < ITC_MAX_POISON; i++) {
        ItcPoison *p = &s->poison[i];
        bool ce;

        if (!p->mask || !itc_is_sdram(p->addr) || p->addr < lo ||
            p->addr > hi || !itc_edac_on(p->addr)) {
            continue;
        }
        ce = ctpop32(p->mask) == 1;
        trace_gr740_fault_edac_scrub(p->addr, ce);
        /* The scrubber's own AHB master index: UNCONFIRMED, 0 here. */
        gr740_memscrub_report_error(memscrub, p->addr, false, 0, 2, ce);
        if (ce) {
            uint32_t mask = p->mask;

            itc_poison_unmap(s, i);
            p->mask = 0;
            itc_flip_word(p->addr, mask);
        }
    }
}

static bool itc_check_ram_word(uint64_t addr, Error **errp)
{
    MemoryRegionSection s;
    GR740FaultInjector *inj;
    bool ok;

    if (addr & 3) {
        error_setg(errp, "address 0x%" PRIx64 " is not word aligned", addr);
        return false;
    }
    inj = itc_injector(NULL);
    if (addr <= UINT32_MAX && inj && itc_poison_find(inj, addr) >= 0) {
        return true;            /* already poisoned: under its overlay */
    }
    s = memory_region_find(get_system_memory(), addr, 4);
    ok = s.mr && memory_region_is_ram(s.mr) && int128_get64(s.size) == 4;
    if (s.mr) {
        memory_region_unref(s.mr);
    }
    if (!ok) {
        error_setg(errp, "address 0x%" PRIx64 " is not in RAM", addr);
    }
    return ok;
}

static bool itc_apply_mem_seu(ItcFault *f, Error **errp)
{
    GR740FaultInjector *s = itc_injector(errp);
    uint64_t addr;

    if (!s) {
        return false;
    }
    if (!itc_parse_u64((const char *)f->target, &addr) ||
        !itc_check_ram_word(addr, errp)) {
        if (errp && !*errp) {
            error_setg(errp, "bad address '%s'", f->target);
        }
        return false;
    }
    if (itc_edac_on(addr) || itc_poison_find(s, addr) >= 0) {
        return itc_poison_add(s, addr, f->mask, errp);
    }
    /* No EDAC: the bits just flip (ROM too; code is invalidated). */
    if (!itc_flip_word(addr, f->mask)) {
        error_setg(errp, "cannot write 0x%" PRIx64, addr);
        return false;
    }
    return true;
}

static DeviceState *itc_irqamp(Error **errp)
{
    Object *o = object_resolve_path("/machine/irqamp", NULL);

    if (!o || !object_dynamic_cast(o, TYPE_DEVICE)) {
        error_setg(errp, "the IRQ(A)MP interrupt controller is not present");
        return NULL;
    }
    return DEVICE(o);
}

static bool itc_parse_irq(const char *target, uint64_t *line, Error **errp)
{
    if (!itc_parse_u64(target, line) || *line < 1 || *line > 31) {
        error_setg(errp, "IRQ line '%s' out of range (1-31)", target);
        return false;
    }
    return true;
}

static bool itc_apply_irq(ItcFault *f, Error **errp)
{
    uint64_t line;
    DeviceState *irqamp;
    g_autofree char *path = NULL;
    Object *or;
    qemu_irq irq;

    if (!itc_parse_irq((const char *)f->target, &line, errp)) {
        return false;
    }
    irqamp = itc_irqamp(errp);
    if (!irqamp) {
        return false;
    }
    /*
     * Through the line's OR gate when the machine has one, so that the
     * pulse's falling edge does not hide a level a device holds.
     */
    path = g_strdup_printf("/machine/" GR740_IRQ_LINE_CHILD, (unsigned)line);
    or = object_resolve_path(path, NULL);
    irq = or ? qdev_get_gpio_in(DEVICE(or), GR740_IRQ_INJECT_INPUT)
             : qdev_get_gpio_in(irqamp, line);
    for (uint32_t i = 0; i < f->count; i++) {
        qemu_irq_pulse(irq);
    }
    return true;
}

/* "grgpioN.LINE" -> the GRGPIO device and the line. */
static DeviceState *itc_parse_gpio(const char *target, int *line,
                                   Error **errp)
{
    const char *dot = strchr(target, '.');
    g_autofree char *path = NULL;
    unsigned long n;
    Object *o;
    NamedGPIOList *ngl;

    if (!dot || qemu_strtoul(dot + 1, NULL, 10, &n)) {
        error_setg(errp, "bad GPIO '%s' (expected grgpioN.LINE)", target);
        return NULL;
    }
    path = g_strdup_printf("/machine/%.*s", (int)(dot - target), target);
    o = object_resolve_path(path, NULL);
    if (!o || !object_dynamic_cast(o, TYPE_DEVICE) ||
        strncmp(target, "grgpio", 6)) {
        error_setg(errp, "no GPIO controller '%.*s'", (int)(dot - target),
                   target);
        return NULL;
    }
    QLIST_FOREACH(ngl, &DEVICE(o)->gpios, node) {
        if (ngl->name && !strcmp(ngl->name, "in")) {
            if (n >= ngl->num_in) {
                error_setg(errp, "GPIO line %lu out of range (0-%d)", n,
                           ngl->num_in - 1);
                return NULL;
            }
            *line = n;
            return DEVICE(o);
        }
    }
    error_setg(errp, "'%.*s' has no GPIO inputs", (int)(dot - target),
               target);
    return NULL;
}

static bool itc_apply_gpio(ItcFault *f, Error **errp)
{
    int line;
    DeviceState *dev = itc_parse_gpio((const char *)f->target, &line, errp);

    if (!dev) {
        return false;
    }
    qemu_set_irq(qdev_get_gpio_in_named(dev, "in", line), f->level);
    return true;
}

/* A word-aligned device register (mapped, not RAM). */
static bool itc_check_reg(const char *target, uint64_t *addr, Error **errp)
{
    MemoryRegionSection s;
    bool ok;

    if (!itc_parse_u64(target, addr) || (*addr & 3)) {
        error_setg(errp, "bad register address '%s' (word aligned "
                   "physical address)", target);
        return false;
    }
    s = memory_region_find(get_system_memory(), *addr, 4);
    ok = s.mr && !memory_region_is_ram(s.mr) && !memory_region_is_romd(s.mr);
    if (s.mr) {
        memory_region_unref(s.mr);
    }
    if (!ok) {
        error_setg(errp, "no device register at 0x%" PRIx64, *addr);
    }
    return ok;
}

static bool itc_apply_reg_flip(ItcFault *f, Error **errp)
{
    uint64_t addr;
    uint32_t v;

    if (!itc_check_reg((const char *)f->target, &addr, errp)) {
        return false;
    }
    v = address_space_ldl_be(&address_space_memory, addr,
                             MEMTXATTRS_UNSPECIFIED, NULL);
    address_space_stl_be(&address_space_memory, addr, v ^ (uint32_t)f->mask,
                         MEMTXATTRS_UNSPECIFIED, NULL);
    return true;
}

/* The character device behind UART @target ("apbuart0"/"apbuart1"). */
static Chardev *itc_uart_chardev(const char *target, Error **errp)
{
    g_autofree char *path = g_strdup_printf("/machine/%s", target);
    g_autofree char *label = NULL;
    Object *o = strncmp(target, "apbuart", 7) ? NULL :
                object_resolve_path(path, NULL);
    Chardev *chr;

    if (!o) {
        error_setg(errp, "no UART '%s' (apbuart0, apbuart1)", target);
        return NULL;
    }
    label = object_property_get_str(o, "chardev", NULL);
    chr = label && *label ? qemu_chr_find(label) : NULL;
    if (!chr) {
        error_setg(errp, "UART '%s' has no character device", target);
    }
    return chr;
}

static bool itc_apply_uart_rx(ItcFault *f, Error **errp)
{
    Chardev *chr = itc_uart_chardev((const char *)f->target, errp);

    if (!chr) {
        return false;
    }
    /* Through the chardev backend: the recorded input path. */
    qemu_chr_be_write(chr, f->data, f->data_len);
    return true;
}

/* "apbuartN" -> the UART device. */
static DeviceState *itc_uart_dev(const char *target, Error **errp)
{
    Object *o = strncmp(target, "apbuart", 7) ? NULL :
                itc_machine_child(target);

    if (!o || !object_dynamic_cast(o, TYPE_DEVICE)) {
        error_setg(errp, "no UART '%s' (apbuart0, apbuart1)", target);
        return NULL;
    }
    return DEVICE(o);
}

/* "gptimerN" (unit) or, with @timer, "gptimerN.T" -> the GPTIMER unit. */
static DeviceState *itc_gptimer(const char *target, unsigned *timer,
                                Error **errp)
{
    g_autofree char *unit = g_strdup(target);
    char *dot = strchr(unit, '.');
    unsigned long n = 0;
    Object *o;

    if (timer && (!dot || qemu_strtoul(dot + 1, NULL, 10, &n))) {
        error_setg(errp, "bad timer '%s' (expected gptimerN.T)", target);
        return NULL;
    }
    if (dot) {
        if (!timer) {
            error_setg(errp, "bad timer unit '%s' (expected gptimerN)",
                       target);
            return NULL;
        }
        *dot = 0;
    }
    o = strncmp(unit, "gptimer", 7) ? NULL : itc_machine_child(unit);
    if (!o || !object_dynamic_cast(o, TYPE_GR740_GPTIMER)) {
        error_setg(errp, "no GPTIMER unit '%s' (gptimer0-gptimer4)", unit);
        return NULL;
    }
    if (timer) {
        unsigned nr = gr740_gptimer_nr_timers(DEVICE(o));

        if (n >= nr) {
            error_setg(errp, "timer %lu out of range (%s has timers 0-%u)",
                       n, unit, nr - 1);
            return NULL;
        }
        *timer = n;
    }
    return DEVICE(o);
}

static MemTxResult itc_stuck_read(void *opaque, hwaddr off, uint64_t *data,
                                  unsigned size, MemTxAttrs attrs)
{
    ItcStuckOverlay *o = opaque;
    MemTxResult r;

    r = memory_region_dispatch_read(o->under, o->under_off + off, data,
                                    size_memop(size) | MO_BE, attrs);
    if (o->mapped) {
        *data = (*data & ~o->mask) | o->set;
    }
    return r;
}

static MemTxResult itc_stuck_write(void *opaque, hwaddr off, uint64_t data,
                                   unsigned size, MemTxAttrs attrs)
{
    ItcStuckOverlay *o = opaque;

    if (o->mapped) {
        data = (data & ~o->mask) | o->set;
    }
    return memory_region_dispatch_write(o->under, o->under_off + off, data,
                                        size_memop(size) | MO_BE, attrs);
}

static const MemoryRegionOps itc_stuck_ops = {
    .read_with_attrs = itc_stuck_read,
    .write_with_attrs = itc_stuck_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static int itc_stuck_find(GR740FaultInjector *s, int fault)
{
    for (int i = 0; i < ITC_MAX_STUCK; i++) {
        if (s->stuck[i].fault == fault) {
            return i;
        }
    }
    return -1;
}

static bool itc_stuck_start(GR740FaultInjector *s, int fi, Error **errp)
{
    ItcFault *f = &s->faults[fi];
    int i = itc_stuck_find(s, -1);
    ItcStuckOverlay *o;
    MemoryRegionSection sec;
    uint64_t addr;

    if (!itc_check_reg((const char *)f->target, &addr, errp)) {
        return false;
    }
    if (i < 0) {
        error_setg(errp, "too many stuck registers (max %d)", ITC_MAX_STUCK);
        return false;
    }
    o = &s->stuck[i];
    sec = memory_region_find(get_system_memory(), addr, 4);
    o->under = sec.mr;          /* keeps the reference */
    o->under_off = sec.offset_within_region;
    o->mask = f->mask;
    o->set = f->level ? f->mask : 0;
    o->fault = fi;
    o->mapped = true;
    memory_region_add_subregion_overlap(get_system_memory(), addr, &o->mr,
                                        200);
    return true;
}

static void itc_stuck_stop(GR740FaultInjector *s, int fi)
{
    int i = itc_stuck_find(s, fi);
    ItcStuckOverlay *o;

    if (i < 0) {
        return;
    }
    o = &s->stuck[i];
    o->mapped = false;
    memory_region_del_subregion(get_system_memory(), &o->mr);
    memory_region_unref(o->under);
    o->under = NULL;
    o->fault = -1;
}

static bool itc_kind_has_duration(uint32_t kind)
{
    return kind == ITC_FAULT_KIND_REG_STUCK ||
           kind == ITC_FAULT_KIND_TIMER_LOST_TICKS ||
           kind == ITC_FAULT_KIND_TIMER_DRIFT;
}

static bool itc_apply_new(GR740FaultInjector *s, ItcFault *f, Error **errp)
{
    int fi = f - s->faults;
    const char *target = (const char *)f->target;
    DeviceState *dev;
    unsigned n = 0;

    switch (f->kind) {
    case ITC_FAULT_KIND_REG_STUCK:
        return itc_stuck_start(s, fi, errp);
    case ITC_FAULT_KIND_UART_CORRUPT:
    case ITC_FAULT_KIND_UART_DROP:
    case ITC_FAULT_KIND_UART_ERROR:
        dev = itc_uart_dev(target, errp);
        if (!dev) {
            return false;
        }
        gr740_apbuart_inject(dev,
                             f->kind == ITC_FAULT_KIND_UART_DROP ? f->count : 0,
                             f->kind == ITC_FAULT_KIND_UART_CORRUPT ?
                             f->count : 0, f->mask,
                             f->kind == ITC_FAULT_KIND_UART_ERROR ? f->mask : 0);
        return true;
    case ITC_FAULT_KIND_TIMER_LOST_TICKS:
        dev = itc_gptimer(target, &n, errp);
        if (!dev) {
            return false;
        }
        if (s->dur_ns[fi] || s->dur_icount[fi]) {
            gr740_gptimer_lose_ticks(dev, n, 0, true);
        } else {
            gr740_gptimer_lose_ticks(dev, n, f->count, false);
        }
        return true;
    case ITC_FAULT_KIND_TIMER_DRIFT:
        dev = itc_gptimer(target, NULL, errp);
        if (!dev) {
            return false;
        }
        gr740_gptimer_set_drift(dev, f->level);
        return true;
    default:
        error_setg(errp, "unknown fault kind %u", f->kind);
        return false;
    }
}

/* A fault with a duration ends: undo it. */
static void itc_end(GR740FaultInjector *s, ItcFault *f)
{
    int fi = f - s->faults;
    DeviceState *dev;
    unsigned n;

    switch (f->kind) {
    case ITC_FAULT_KIND_REG_STUCK:
        itc_stuck_stop(s, fi);
        break;
    case ITC_FAULT_KIND_TIMER_LOST_TICKS:
        dev = itc_gptimer((const char *)f->target, &n, NULL);
        if (dev) {
            gr740_gptimer_lose_ticks(dev, n, 0, false);
        }
        break;
    case ITC_FAULT_KIND_TIMER_DRIFT:
        dev = itc_gptimer((const char *)f->target, NULL, NULL);
        if (dev) {
            gr740_gptimer_set_drift(dev, 0);
        }
        break;
    }
    f->state = SLOT_FIRED;
    trace_gr740_fault_end(f->id, f->kind,
                          icount_enabled() ? icount_get_raw() : -1);
}

static bool itc_apply(ItcFault *f, Error **errp)
{
    switch (f->kind) {
    case ITC_FAULT_KIND_MEM_SEU:
        return itc_apply_mem_seu(f, errp);
    case ITC_FAULT_KIND_CPU_REG:
        return itc_apply_cpu_reg(f, errp);
    case ITC_FAULT_KIND_IRQ:
        return itc_apply_irq(f, errp);
    case ITC_FAULT_KIND_GPIO:
        return itc_apply_gpio(f, errp);
    case ITC_FAULT_KIND_REG_FLIP:
        return itc_apply_reg_flip(f, errp);
    case ITC_FAULT_KIND_UART_RX:
        return itc_apply_uart_rx(f, errp);
    default: {
        GR740FaultInjector *s = itc_injector(errp);

        return s && itc_apply_new(s, f, errp);
    }
    }
}

/* ---- scheduling ---- */

static void itc_rearm(GR740FaultInjector *s)
{
    int64_t next = INT64_MAX;

    for (int i = 0; i < ITC_MAX_FAULTS; i++) {
        if (s->faults[i].state == SLOT_PENDING &&
            s->faults[i].deadline_ns < next) {
            next = s->faults[i].deadline_ns;
        }
        if (s->faults[i].state == SLOT_ACTIVE && s->end_ns[i] < next) {
            next = s->end_ns[i];
        }
    }
    if (next == INT64_MAX) {
        timer_del(s->timer);
    } else {
        timer_mod(s->timer, next);
    }
}

static void itc_fire(ItcFault *f)
{
    Error *err = NULL;
    GR740FaultInjector *s = itc_injector(NULL);
    int fi = s ? f - s->faults : 0;

    f->fired_icount = icount_enabled() ? icount_get_raw() : -1;
    f->state = itc_apply(f, &err) ? SLOT_FIRED : SLOT_FAILED;
    if (s && f->state == SLOT_FIRED && itc_kind_has_duration(f->kind) &&
        (f->kind != ITC_FAULT_KIND_TIMER_LOST_TICKS ||
         s->dur_ns[fi] || s->dur_icount[fi])) {
        int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

        f->state = SLOT_ACTIVE;
        s->end_icount[fi] = -1;
        if (s->dur_icount[fi] && f->fired_icount >= 0) {
            s->end_icount[fi] = f->fired_icount + s->dur_icount[fi];
            s->end_ns[fi] = now + icount_to_ns(s->dur_icount[fi]);
        } else if (s->dur_ns[fi]) {
            s->end_ns[fi] = now + s->dur_ns[fi];
        } else {
            s->end_ns[fi] = INT64_MAX;      /* until the end of the run */
        }
    }
    trace_gr740_fault_fire(f->id, f->kind, f->fired_icount, f->state);
    if (err) {
        error_report_err(err);
    }
}

static void itc_timer_cb(void *opaque)
{
    GR740FaultInjector *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    for (int i = 0; i < ITC_MAX_FAULTS; i++) {
        ItcFault *f = &s->faults[i];

        if (f->state == SLOT_ACTIVE && s->end_ns[i] <= now) {
            if (s->end_icount[i] >= 0 && icount_enabled() &&
                icount_get_raw() < s->end_icount[i]) {
                s->end_ns[i] = now + icount_to_ns(s->end_icount[i] -
                                                  icount_get_raw());
                continue;
            }
            itc_end(s, f);
            continue;
        }
        if (f->state != SLOT_PENDING || f->deadline_ns > now) {
            continue;
        }
        if (f->icount >= 0 && icount_enabled()) {
            int64_t cur = icount_get_raw();

            /*
             * The virtual clock ran ahead of the instruction count (icount
             * warp while the CPUs idled): re-aim at the instruction count.
             */
            if (cur < f->icount) {
                f->deadline_ns = now + icount_to_ns(f->icount - cur);
                continue;
            }
        }
        itc_fire(f);
    }
    itc_rearm(s);
}

static ItcFaultInfo *itc_fault_info(ItcFault *f)
{
    ItcFaultInfo *info = g_new0(ItcFaultInfo, 1);

    info->id = f->id;
    info->kind = f->kind;
    info->target = g_strdup((const char *)f->target);
    info->mask = f->mask;
    info->count = f->count;
    info->level = f->level;
    info->state = f->state == SLOT_PENDING ? ITC_FAULT_STATE_PENDING :
                  f->state == SLOT_FIRED ? ITC_FAULT_STATE_FIRED :
                  f->state == SLOT_ACTIVE ? ITC_FAULT_STATE_ACTIVE :
                  ITC_FAULT_STATE_FAILED;
    {
        GR740FaultInjector *s = itc_injector(NULL);
        int fi = s ? f - s->faults : 0;

        if (s && s->dur_ns[fi]) {
            info->has_duration_ns = true;
            info->duration_ns = s->dur_ns[fi];
        } else if (s && s->dur_icount[fi]) {
            info->has_duration_icount = true;
            info->duration_icount = s->dur_icount[fi];
        }
    }
    if (f->kind == ITC_FAULT_KIND_UART_RX) {
        GString *hex = g_string_new(NULL);

        for (uint32_t i = 0; i < f->data_len && i < ITC_DATA_LEN; i++) {
            g_string_append_printf(hex, "%02x", f->data[i]);
        }
        info->data = g_string_free(hex, false);
    }
    info->deadline_ns = f->deadline_ns;
    info->has_icount = f->icount >= 0;
    info->icount = f->icount;
    info->has_fired_icount = f->state != SLOT_PENDING && f->fired_icount >= 0;
    info->fired_icount = f->fired_icount;
    return info;
}

ItcFaultInfo *qmp_itc_inject_fault(ItcFaultKind kind, const char *target,
                                   bool has_mask, uint64_t mask,
                                   bool has_count, int64_t count,
                                   bool has_level, int64_t level,
                                   const char *data,
                                   bool has_icount, int64_t icount,
                                   bool has_time_ns, int64_t time_ns,
                                   bool has_duration_ns, int64_t duration_ns,
                                   bool has_duration_icount,
                                   int64_t duration_icount,
                                   Error **errp)
{
    GR740FaultInjector *s = itc_injector(errp);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    ItcFault *f = NULL;
    uint64_t v;
    uint8_t bytes[ITC_DATA_LEN];
    size_t nbytes = 0;

    if (!s) {
        return NULL;
    }
    if (!has_mask) {
        mask = 1;
    }
    if (!has_count) {
        count = 1;
    }
    if (!has_level) {
        level = 1;
    }
    if (strlen(target) >= ITC_TARGET_LEN) {
        error_setg(errp, "target '%s' too long", target);
        return NULL;
    }
    /* Validate now, so bad input never gets scheduled. */
    switch (kind) {
    case ITC_FAULT_KIND_MEM_SEU:
        if (!itc_parse_u64(target, &v)) {
            error_setg(errp, "bad address '%s'", target);
            return NULL;
        }
        if (!itc_check_ram_word(v, errp)) {
            return NULL;
        }
        if (mask > UINT32_MAX || ctpop64(mask) < 1 || ctpop64(mask) > 2) {
            error_setg(errp, "mem-seu mask must flip 1 or 2 bits of a "
                       "32-bit word");
            return NULL;
        }
        break;
    case ITC_FAULT_KIND_CPU_REG: {
        const char *reg;

        if (!itc_parse_cpu_reg(target, &reg, errp)) {
            return NULL;
        }
        if (!itc_reg_valid(reg)) {
            error_setg(errp, "unknown register '%s' (g0-g7, o0-o7, l0-l7, "
                       "i0-i7, pc, npc, psr)", reg);
            return NULL;
        }
        if (mask == 0 || mask > UINT32_MAX) {
            error_setg(errp, "cpu-reg mask must be a non-zero 32-bit value");
            return NULL;
        }
        break;
    }
    case ITC_FAULT_KIND_IRQ:
        if (!itc_parse_irq(target, &v, errp) || !itc_irqamp(errp)) {
            return NULL;
        }
        if (count < 1 || count > 1000000) {
            error_setg(errp, "irq count must be 1-1000000");
            return NULL;
        }
        break;
    case ITC_FAULT_KIND_GPIO: {
        int line;

        if (!itc_parse_gpio(target, &line, errp)) {
            return NULL;
        }
        if (level != 0 && level != 1) {
            error_setg(errp, "gpio level must be 0 or 1");
            return NULL;
        }
        break;
    }
    case ITC_FAULT_KIND_UART_RX: {
        size_t len = data ? strlen(data) : 0;

        if (!itc_uart_chardev(target, errp)) {
            return NULL;
        }
        if (!len || len % 2 || len / 2 > ITC_DATA_LEN) {
            error_setg(errp, "uart-rx needs 'data': 1-%d bytes as hex digits",
                       ITC_DATA_LEN);
            return NULL;
        }
        for (size_t i = 0; i < len; i += 2) {
            if (!g_ascii_isxdigit(data[i]) || !g_ascii_isxdigit(data[i + 1])) {
                error_setg(errp, "'data' is not hex: '%s'", data);
                return NULL;
            }
            bytes[nbytes++] = g_ascii_xdigit_value(data[i]) << 4 |
                              g_ascii_xdigit_value(data[i + 1]);
        }
        break;
    }
    case ITC_FAULT_KIND_REG_FLIP:
    case ITC_FAULT_KIND_REG_STUCK:
        if (!itc_check_reg(target, &v, errp)) {
            return NULL;
        }
        if (mask == 0 || mask > UINT32_MAX) {
            error_setg(errp, "%s mask must be a non-zero 32-bit value",
                       ItcFaultKind_str(kind));
            return NULL;
        }
        if (kind == ITC_FAULT_KIND_REG_STUCK && level != 0 && level != 1) {
            error_setg(errp, "reg-stuck level must be 0 or 1");
            return NULL;
        }
        break;
    case ITC_FAULT_KIND_UART_CORRUPT:
    case ITC_FAULT_KIND_UART_DROP:
    case ITC_FAULT_KIND_UART_ERROR:
        if (!itc_uart_dev(target, errp)) {
            return NULL;
        }
        if (kind != ITC_FAULT_KIND_UART_ERROR &&
            (count < 1 || count > 1000000)) {
            error_setg(errp, "%s count must be 1-1000000",
                       ItcFaultKind_str(kind));
            return NULL;
        }
        if (kind == ITC_FAULT_KIND_UART_CORRUPT && (mask < 1 || mask > 255)) {
            error_setg(errp, "uart-corrupt mask must be 1-255 (XOR of a byte)");
            return NULL;
        }
        if (kind == ITC_FAULT_KIND_UART_ERROR &&
            (mask == 0 || (mask & ~(uint64_t)0x70))) {
            error_setg(errp, "uart-error mask must be a combination of FE "
                       "(0x40), PE (0x20) and OV (0x10)");
            return NULL;
        }
        break;
    case ITC_FAULT_KIND_TIMER_LOST_TICKS: {
        unsigned t;

        if (!itc_gptimer(target, &t, errp)) {
            return NULL;
        }
        if (!has_duration_ns && !has_duration_icount &&
            (count < 1 || count > 1000000)) {
            error_setg(errp, "timer-lost-ticks count must be 1-1000000");
            return NULL;
        }
        break;
    }
    case ITC_FAULT_KIND_TIMER_DRIFT:
        if (!itc_gptimer(target, NULL, errp)) {
            return NULL;
        }
        if (!has_level || level == 0 || level < -GR740_GPTIMER_MAX_DRIFT_PPM ||
            level > GR740_GPTIMER_MAX_DRIFT_PPM) {
            error_setg(errp, "timer-drift needs 'level': the drift in ppm, "
                       "non-zero, -%d..%d", GR740_GPTIMER_MAX_DRIFT_PPM,
                       GR740_GPTIMER_MAX_DRIFT_PPM);
            return NULL;
        }
        break;
    default:
        error_setg(errp, "unknown fault kind");
        return NULL;
    }
    if (has_duration_ns || has_duration_icount) {
        if (!itc_kind_has_duration(kind)) {
            error_setg(errp, "%s takes no duration", ItcFaultKind_str(kind));
            return NULL;
        }
        /*
         * Every tick is lost for the duration: a CPU that sleeps until its
         * next tick executes no instruction, so a duration in instructions
         * would never end (and a recording waiting for it would hang).
         */
        if (kind == ITC_FAULT_KIND_TIMER_LOST_TICKS && has_duration_icount) {
            error_setg(errp, "timer-lost-ticks takes its duration in "
                       "duration-ns: a CPU waiting for the lost ticks "
                       "executes no instructions, so a duration in "
                       "instructions might never end");
            return NULL;
        }
        if (has_duration_ns && has_duration_icount) {
            error_setg(errp, "give either 'duration-ns' or 'duration-icount', "
                       "not both");
            return NULL;
        }
        if ((has_duration_ns && duration_ns <= 0) ||
            (has_duration_icount && duration_icount <= 0)) {
            error_setg(errp, "the duration must be positive");
            return NULL;
        }
        if (has_duration_icount && !icount_enabled()) {
            error_setg(errp, "a duration in instructions needs -icount");
            return NULL;
        }
    }
    if (has_icount && has_time_ns) {
        error_setg(errp, "give either 'icount' or 'time-ns', not both");
        return NULL;
    }
    if (has_icount) {
        int64_t cur;

        if (!icount_enabled()) {
            error_setg(errp, "scheduling at an instruction count needs "
                       "-icount");
            return NULL;
        }
        cur = icount_get_raw();
        if (icount < cur) {
            error_setg(errp, "instruction count %" PRId64 " is in the past "
                       "(now %" PRId64 ")", icount, cur);
            return NULL;
        }
        time_ns = now + icount_to_ns(icount - cur);
    } else if (has_time_ns) {
        if (time_ns < now) {
            error_setg(errp, "virtual time %" PRId64 " ns is in the past "
                       "(now %" PRId64 ")", time_ns, now);
            return NULL;
        }
    }
    for (int i = 0; i < ITC_MAX_FAULTS; i++) {
        if (s->faults[i].state == SLOT_FREE) {
            f = &s->faults[i];
            break;
        }
    }
    if (!f) {
        /* Reuse the oldest finished slot. */
        for (int i = 0; i < ITC_MAX_FAULTS; i++) {
            if (s->faults[i].state != SLOT_PENDING &&
                s->faults[i].state != SLOT_ACTIVE &&
                (!f || s->faults[i].id < f->id)) {
                f = &s->faults[i];
            }
        }
        if (!f) {
            error_setg(errp, "too many pending or active faults (max %d)",
                       ITC_MAX_FAULTS);
            return NULL;
        }
    }
    memset(f, 0, sizeof(*f));
    s->dur_ns[f - s->faults] = has_duration_ns ? duration_ns : 0;
    s->dur_icount[f - s->faults] = has_duration_icount ? duration_icount : 0;
    s->end_ns[f - s->faults] = 0;
    s->end_icount[f - s->faults] = -1;
    f->id = ++s->next_id;
    f->kind = kind;
    f->mask = mask;
    f->count = count;
    f->level = level;
    f->data_len = nbytes;
    memcpy(f->data, bytes, nbytes);
    f->icount = has_icount ? icount : -1;
    f->fired_icount = -1;
    pstrcpy((char *)f->target, sizeof(f->target), target);
    if (!has_icount && !has_time_ns) {
        f->deadline_ns = now;
        itc_fire(f);
        if (f->state == SLOT_FAILED) {
            Error *err = NULL;

            itc_apply(f, &err);     /* report the reason to the caller */
            error_propagate(errp, err);
            memset(f, 0, sizeof(*f));
            return NULL;
        }
        itc_rearm(s);           /* the end of a fault with a duration */
    } else {
        f->deadline_ns = time_ns;
        f->state = SLOT_PENDING;
        trace_gr740_fault_schedule(f->id, f->kind, time_ns);
        itc_rearm(s);
    }
    return itc_fault_info(f);
}

ItcFaultInfoList *qmp_query_itc_faults(Error **errp)
{
    GR740FaultInjector *s = itc_injector(errp);
    ItcFaultInfoList *head = NULL, **tail = &head;

    if (!s) {
        return NULL;
    }
    for (int i = 0; i < ITC_MAX_FAULTS; i++) {
        if (s->faults[i].state != SLOT_FREE) {
            QAPI_LIST_APPEND(tail, itc_fault_info(&s->faults[i]));
        }
    }
    return head;
}

SimTime *qmp_itc_sim_time(bool has_clock, ClockType clock, Error **errp)
{
    static const QEMUClockType map[] = {
        [CLOCK_TYPE_REALTIME] = QEMU_CLOCK_REALTIME,
        [CLOCK_TYPE_VIRTUAL] = QEMU_CLOCK_VIRTUAL,
        [CLOCK_TYPE_HOST] = QEMU_CLOCK_HOST,
        [CLOCK_TYPE_VIRTUAL_RT] = QEMU_CLOCK_VIRTUAL_RT,
    };
    SimTime *t = g_new0(SimTime, 1);

    t->time_ns = qemu_clock_get_ns(map[has_clock ? clock :
                                       CLOCK_TYPE_VIRTUAL]);
    return t;
}

ItcIcount *qmp_itc_icount(Error **errp)
{
    ItcIcount *r;

    if (!icount_enabled()) {
        error_setg(errp, "instruction counting is off (start QEMU with "
                   "-icount)");
        return NULL;
    }
    r = g_new0(ItcIcount, 1);
    r->icount = icount_get_raw();
    return r;
}

/* ---- HMP ---- */

void hmp_itc_sim_time(Monitor *mon, const QDict *qdict)
{
    const char *name = qdict_get_try_str(qdict, "clock");
    Error *err = NULL;
    int clock = CLOCK_TYPE_VIRTUAL;
    g_autoptr(SimTime) t = NULL;

    if (name) {
        clock = qapi_enum_parse(&ClockType_lookup, name, -1, &err);
        if (clock < 0) {
            monitor_printf(mon, "Error: unknown clock '%s' (realtime, "
                           "virtual, host, virtual-rt)\n", name);
            error_free(err);
            return;
        }
    }
    t = qmp_itc_sim_time(true, clock, &err);
    if (hmp_handle_error(mon, err)) {
        return;
    }
    monitor_printf(mon, "%s: %" PRId64 " ns\n", ClockType_str(clock),
                   t->time_ns);
}

void hmp_itc_icount(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;
    g_autoptr(ItcIcount) r = qmp_itc_icount(&err);

    if (hmp_handle_error(mon, err)) {
        return;
    }
    monitor_printf(mon, "icount: %" PRId64 "\n", r->icount);
}

static void hmp_print_fault(Monitor *mon, ItcFaultInfo *f)
{
    monitor_printf(mon, "fault %" PRId64 ": %s %s mask=0x%" PRIx64
                   " count=%" PRId64 " level=%" PRId64 " %s deadline=%"
                   PRId64 "ns",
                   f->id, ItcFaultKind_str(f->kind), f->target, f->mask,
                   f->count, f->level, ItcFaultState_str(f->state),
                   f->deadline_ns);
    if (f->has_icount) {
        monitor_printf(mon, " icount=%" PRId64, f->icount);
    }
    if (f->has_fired_icount) {
        monitor_printf(mon, " fired-icount=%" PRId64, f->fired_icount);
    }
    if (f->has_duration_ns) {
        monitor_printf(mon, " duration=%" PRId64 "ns", f->duration_ns);
    }
    monitor_printf(mon, "\n");
}

void hmp_itc_inject_fault(Monitor *mon, const QDict *qdict)
{
    const char *kname = qdict_get_str(qdict, "kind");
    const char *target = qdict_get_str(qdict, "target");
    const char *mstr = qdict_get_try_str(qdict, "mask");
    const char *when = qdict_get_try_str(qdict, "when");
    const char *cstr = qdict_get_try_str(qdict, "count");
    const char *dstr = qdict_get_try_str(qdict, "duration");
    const char *lstr = qdict_get_try_str(qdict, "level");
    uint64_t mask = 1, count = 1, at = 0, dur = 0;
    int64_t level = 1;
    bool has_icount = false, has_time = false, has_level = false;
    bool has_dur_ns = false, has_dur_icount = false;
    Error *err = NULL;
    int kind;
    g_autoptr(ItcFaultInfo) info = NULL;

    kind = qapi_enum_parse(&ItcFaultKind_lookup, kname, -1, NULL);
    if (kind < 0) {
        monitor_printf(mon, "Error: unknown fault kind '%s' (mem-seu, "
                       "cpu-reg, irq, gpio, reg-flip, uart-rx, reg-stuck, "
                       "uart-corrupt, uart-drop, uart-error, "
                       "timer-lost-ticks, timer-drift)\n", kname);
        return;
    }
    if (mstr && (kind == ITC_FAULT_KIND_GPIO ||
                 kind == ITC_FAULT_KIND_TIMER_DRIFT)) {
        if (qemu_strtoi64(mstr, NULL, 0, &level)) {
            monitor_printf(mon, "Error: bad level '%s'\n", mstr);
            return;
        }
        has_level = true;
    } else if (mstr && kind != ITC_FAULT_KIND_UART_RX &&
               !itc_parse_u64(mstr, &mask)) {
        monitor_printf(mon, "Error: bad mask '%s'\n", mstr);
        return;
    }
    if (lstr) {
        if (qemu_strtoi64(lstr, NULL, 0, &level)) {
            monitor_printf(mon, "Error: bad level '%s'\n", lstr);
            return;
        }
        has_level = true;
    }
    if (dstr) {
        const char *num = dstr;

        if (g_str_has_prefix(dstr, "icount=")) {
            has_dur_icount = true;
            num = dstr + 7;
        } else {
            has_dur_ns = true;
            if (g_str_has_prefix(dstr, "ns=")) {
                num = dstr + 3;
            }
        }
        if (!itc_parse_u64(num, &dur) || dur > INT64_MAX) {
            monitor_printf(mon, "Error: bad duration '%s' (ns=N or "
                           "icount=N)\n", dstr);
            return;
        }
    }
    if (cstr && (!itc_parse_u64(cstr, &count) || count > INT64_MAX)) {
        monitor_printf(mon, "Error: bad count '%s'\n", cstr);
        return;
    }
    if (when && strcmp(when, "now")) {
        if (g_str_has_prefix(when, "icount=")) {
            has_icount = true;
        } else if (g_str_has_prefix(when, "time=")) {
            has_time = true;
        }
        if ((!has_icount && !has_time) ||
            !itc_parse_u64(strchr(when, '=') + 1, &at) || at > INT64_MAX) {
            monitor_printf(mon, "Error: bad time '%s' (now, icount=N or "
                           "time=NS)\n", when);
            return;
        }
    }
    info = qmp_itc_inject_fault(kind, target, true, mask, true, count,
                                has_level, level,
                                kind == ITC_FAULT_KIND_UART_RX ? mstr : NULL,
                                has_icount, at, has_time, at,
                                has_dur_ns, dur, has_dur_icount, dur, &err);
    if (hmp_handle_error(mon, err)) {
        return;
    }
    hmp_print_fault(mon, info);
}

void hmp_info_itc_faults(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;
    ItcFaultInfoList *l = qmp_query_itc_faults(&err), *e;

    if (hmp_handle_error(mon, err)) {
        return;
    }
    if (!l) {
        monitor_printf(mon, "no faults\n");
    }
    for (e = l; e; e = e->next) {
        hmp_print_fault(mon, e->value);
    }
    qapi_free_ItcFaultInfoList(l);
}

/* ---- device ---- */

static const VMStateDescription vmstate_itc_fault = {
    .name = "itc-fault",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(id, ItcFault),
        VMSTATE_UINT32(kind, ItcFault),
        VMSTATE_UINT32(state, ItcFault),
        VMSTATE_UINT32(count, ItcFault),
        VMSTATE_INT32(level, ItcFault),
        VMSTATE_UINT64(mask, ItcFault),
        VMSTATE_INT64(deadline_ns, ItcFault),
        VMSTATE_INT64(icount, ItcFault),
        VMSTATE_INT64(fired_icount, ItcFault),
        VMSTATE_UINT8_ARRAY(target, ItcFault, ITC_TARGET_LEN),
        VMSTATE_UINT32(data_len, ItcFault),
        VMSTATE_UINT8_ARRAY(data, ItcFault, ITC_DATA_LEN),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_itc_poison = {
    .name = "itc-poison",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(addr, ItcPoison),
        VMSTATE_UINT32(mask, ItcPoison),
        VMSTATE_END_OF_LIST()
    }
};

static bool itc_poison_needed(void *opaque)
{
    GR740FaultInjector *s = opaque;

    for (int i = 0; i < ITC_MAX_POISON; i++) {
        if (s->poison[i].mask) {
            return true;
        }
    }
    return false;
}

static const VMStateDescription vmstate_itc_edac = {
    .name = TYPE_GR740_FAULT_INJECTOR "/edac",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = itc_poison_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(poison, GR740FaultInjector, ITC_MAX_POISON, 1,
                             vmstate_itc_poison, ItcPoison),
        VMSTATE_END_OF_LIST()
    }
};

static bool itc_duration_needed(void *opaque)
{
    GR740FaultInjector *s = opaque;

    for (int i = 0; i < ITC_MAX_FAULTS; i++) {
        if (s->dur_ns[i] || s->dur_icount[i] ||
            s->faults[i].state == SLOT_ACTIVE) {
            return true;
        }
    }
    return false;
}

static const VMStateDescription vmstate_itc_duration = {
    .name = TYPE_GR740_FAULT_INJECTOR "/duration",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = itc_duration_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_INT64_ARRAY(dur_ns, GR740FaultInjector, ITC_MAX_FAULTS),
        VMSTATE_INT64_ARRAY(dur_icount, GR740FaultInjector, ITC_MAX_FAULTS),
        VMSTATE_INT64_ARRAY(end_ns, GR740FaultInjector, ITC_MAX_FAULTS),
        VMSTATE_INT64_ARRAY(end_icount, GR740FaultInjector, ITC_MAX_FAULTS),
        VMSTATE_END_OF_LIST()
    }
};

static int itc_pre_load(void *opaque)
{
    GR740FaultInjector *s = opaque;

    /* The running machine's stuck registers go; the loaded ones come. */
    for (int i = 0; i < ITC_MAX_FAULTS; i++) {
        itc_stuck_stop(s, i);
        s->dur_ns[i] = s->dur_icount[i] = s->end_ns[i] = 0;
        s->end_icount[i] = -1;
    }

    /* No subsection in the stream: nothing poisoned. */
    for (int i = 0; i < ITC_MAX_POISON; i++) {
        itc_poison_unmap(s, i);
        s->poison[i].mask = 0;
    }
    return 0;
}

static int itc_post_load(void *opaque, int version_id)
{
    GR740FaultInjector *s = opaque;

    for (int i = 0; i < ITC_MAX_POISON; i++) {
        if (!s->poison[i].mask) {
            continue;
        }
        if ((s->poison[i].addr & 3) ||
            (i > 0 && itc_poison_find(s, s->poison[i].addr) != i) ||
            !itc_poison_map(s, i)) {
            return -EINVAL;
        }
    }

    for (int i = 0; i < ITC_MAX_FAULTS; i++) {
        ItcFault *f = &s->faults[i];

        f->target[ITC_TARGET_LEN - 1] = 0;
        if (f->data_len > ITC_DATA_LEN) {
            return -EINVAL;
        }
        if (f->state > SLOT_ACTIVE || f->kind >= ITC_FAULT_KIND__MAX) {
            return -EINVAL;
        }
        if (f->state == SLOT_ACTIVE && f->kind == ITC_FAULT_KIND_REG_STUCK &&
            !itc_stuck_start(s, i, NULL)) {
            return -EINVAL;
        }
    }
    itc_rearm(s);
    return 0;
}

static const VMStateDescription vmstate_gr740_fault_injector = {
    .name = TYPE_GR740_FAULT_INJECTOR,
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = itc_pre_load,
    .post_load = itc_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(next_id, GR740FaultInjector),
        VMSTATE_STRUCT_ARRAY(faults, GR740FaultInjector, ITC_MAX_FAULTS, 1,
                             vmstate_itc_fault, ItcFault),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_itc_edac,
        &vmstate_itc_duration,
        NULL
    }
};

static void gr740_fault_injector_realize(DeviceState *dev, Error **errp)
{
    GR740FaultInjector *s = GR740_FAULT_INJECTOR(dev);

    Object *ms = itc_machine_child("memscrub");

    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, itc_timer_cb, s);
    for (int i = 0; i < ITC_MAX_POISON; i++) {
        g_autofree char *name = g_strdup_printf("gr740-fault.edac%d", i);

        s->overlay[i].s = s;
        s->overlay[i].idx = i;
        memory_region_init_io(&s->overlay[i].mr, OBJECT(s), &itc_poison_ops,
                              &s->overlay[i], name, 4);
    }
    for (int i = 0; i < ITC_MAX_STUCK; i++) {
        g_autofree char *name = g_strdup_printf("gr740-fault.stuck%d", i);

        s->stuck[i].fault = -1;
        memory_region_init_io(&s->stuck[i].mr, OBJECT(s), &itc_stuck_ops,
                              &s->stuck[i], name, 4);
        /* Stuck faults on one register chain through each other. */
        s->stuck[i].mr.disable_reentrancy_guard = true;
    }
    for (int i = 0; i < ITC_MAX_FAULTS; i++) {
        s->end_icount[i] = -1;
    }
    if (ms) {
        gr740_memscrub_set_scan_hook(DEVICE(ms), itc_scrub_hook, s);
    }
}

static void gr740_fault_injector_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = gr740_fault_injector_realize;
    dc->vmsd = &vmstate_gr740_fault_injector;
    dc->desc = "ITC deterministic fault injector";
    dc->user_creatable = false;
}

static const TypeInfo gr740_fault_injector_info = {
    .name = TYPE_GR740_FAULT_INJECTOR,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(GR740FaultInjector),
    .class_init = gr740_fault_injector_class_init,
};

static void gr740_fault_register_types(void)
{
    type_register_static(&gr740_fault_injector_info);
}

type_init(gr740_fault_register_types)

void gr740_fault_injector_create(Object *machine)
{
    DeviceState *dev = qdev_new(TYPE_GR740_FAULT_INJECTOR);

    object_property_add_child(machine, "fault-injector", OBJECT(dev));
    qdev_realize_and_unref(dev, NULL, &error_fatal);
}
