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

OBJECT_DECLARE_SIMPLE_TYPE(GR740FaultInjector, GR740_FAULT_INJECTOR)

#define ITC_MAX_FAULTS      64
#define ITC_TARGET_LEN      32
#define ITC_DATA_LEN        32

enum { SLOT_FREE = 0, SLOT_PENDING, SLOT_FIRED, SLOT_FAILED };

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

struct GR740FaultInjector {
    DeviceState parent_obj;

    QEMUTimer *timer;
    uint32_t next_id;
    ItcFault faults[ITC_MAX_FAULTS];
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

static bool itc_check_ram_word(uint64_t addr, Error **errp)
{
    MemoryRegionSection s;
    bool ok;

    if (addr & 3) {
        error_setg(errp, "address 0x%" PRIx64 " is not word aligned", addr);
        return false;
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
    uint64_t addr;
    uint8_t buf[4];

    if (!itc_parse_u64((const char *)f->target, &addr) ||
        !itc_check_ram_word(addr, errp)) {
        if (errp && !*errp) {
            error_setg(errp, "bad address '%s'", f->target);
        }
        return false;
    }
    if (address_space_read(&address_space_memory, addr,
                           MEMTXATTRS_UNSPECIFIED, buf, 4) != MEMTX_OK) {
        error_setg(errp, "cannot read 0x%" PRIx64, addr);
        return false;
    }
    /* The mask applies to the word as the (big-endian) guest sees it. */
    stl_be_p(buf, ldl_be_p(buf) ^ (uint32_t)f->mask);
    /* A write through the address space also invalidates translated code. */
    if (address_space_write(&address_space_memory, addr,
                            MEMTXATTRS_UNSPECIFIED, buf, 4) != MEMTX_OK) {
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
    default:
        error_setg(errp, "unknown fault kind %u", f->kind);
        return false;
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

    f->fired_icount = icount_enabled() ? icount_get_raw() : -1;
    f->state = itc_apply(f, &err) ? SLOT_FIRED : SLOT_FAILED;
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
                  ITC_FAULT_STATE_FAILED;
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
        if (!itc_check_reg(target, &v, errp)) {
            return NULL;
        }
        if (mask == 0 || mask > UINT32_MAX) {
            error_setg(errp, "reg-flip mask must be a non-zero 32-bit value");
            return NULL;
        }
        break;
    default:
        error_setg(errp, "unknown fault kind");
        return NULL;
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
                (!f || s->faults[i].id < f->id)) {
                f = &s->faults[i];
            }
        }
        if (!f) {
            error_setg(errp, "too many pending faults (max %d)",
                       ITC_MAX_FAULTS);
            return NULL;
        }
    }
    memset(f, 0, sizeof(*f));
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
    monitor_printf(mon, "\n");
}

void hmp_itc_inject_fault(Monitor *mon, const QDict *qdict)
{
    const char *kname = qdict_get_str(qdict, "kind");
    const char *target = qdict_get_str(qdict, "target");
    const char *mstr = qdict_get_try_str(qdict, "mask");
    const char *when = qdict_get_try_str(qdict, "when");
    const char *cstr = qdict_get_try_str(qdict, "count");
    uint64_t mask = 1, count = 1, at = 0;
    bool has_icount = false, has_time = false;
    Error *err = NULL;
    int kind;
    g_autoptr(ItcFaultInfo) info = NULL;

    kind = qapi_enum_parse(&ItcFaultKind_lookup, kname, -1, NULL);
    if (kind < 0) {
        monitor_printf(mon, "Error: unknown fault kind '%s' (mem-seu, "
                       "cpu-reg, irq, gpio, reg-flip, uart-rx)\n", kname);
        return;
    }
    if (mstr && kind != ITC_FAULT_KIND_UART_RX &&
        !itc_parse_u64(mstr, &mask)) {
        monitor_printf(mon, "Error: bad mask '%s'\n", mstr);
        return;
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
    info = qmp_itc_inject_fault(kind, target, kind != ITC_FAULT_KIND_GPIO,
                                mask, true, count,
                                kind == ITC_FAULT_KIND_GPIO && mstr, mask,
                                kind == ITC_FAULT_KIND_UART_RX ? mstr : NULL,
                                has_icount, at, has_time, at, &err);
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
    .name = "gr740-fault",
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

static int itc_post_load(void *opaque, int version_id)
{
    GR740FaultInjector *s = opaque;

    for (int i = 0; i < ITC_MAX_FAULTS; i++) {
        ItcFault *f = &s->faults[i];

        f->target[ITC_TARGET_LEN - 1] = 0;
        if (f->data_len > ITC_DATA_LEN) {
            return -EINVAL;
        }
        if (f->state > SLOT_FAILED || f->kind >= ITC_FAULT_KIND__MAX) {
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
    .post_load = itc_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(next_id, GR740FaultInjector),
        VMSTATE_STRUCT_ARRAY(faults, GR740FaultInjector, ITC_MAX_FAULTS, 1,
                             vmstate_itc_fault, ItcFault),
        VMSTATE_END_OF_LIST()
    }
};

static void gr740_fault_injector_realize(DeviceState *dev, Error **errp)
{
    GR740FaultInjector *s = GR740_FAULT_INJECTOR(dev);

    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, itc_timer_cb, s);
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
