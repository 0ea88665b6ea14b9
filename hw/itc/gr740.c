/*
 * ITC workbench: GR740 quad-core LEON4FT SoC machine (-M gr740)
 *
 * Memory map and devices follow the GR740 user manual (GR740-UM-DS); see
 * shared/gr740/FACTS.md for the sources of every address.  The LEON3 CPU
 * model stands in for the LEON4FT core (SPARC V8, 8 windows, CASA).
 *
 * Boot: with -bios the PROM image is mapped at 0xC0000000 and every CPU
 * starts there, as on hardware.  With -kernel and no -bios, a small boot
 * stub generated into the PROM does what a GR740 boot loader does before
 * jumping to the ELF entry point (CPU 0 only; secondary CPUs go straight
 * to the entry point when they are started).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/error-report.h"
#include "qemu/datadir.h"
#include "qapi/error.h"
#include "cpu.h"
#include "gr740_fault.h"
#include "itc_checkpoint.h"
#include "itc_fault_channel.h"
#include "hw/boards.h"
#include "hw/loader.h"
#include "hw/sysbus.h"
#include "hw/qdev-properties.h"
#include "hw/misc/unimp.h"
#include "hw/irq.h"
#include "hw/or-irq.h"
#include "system/cpus.h"
#include "system/system.h"
#include "system/qtest.h"
#include "system/reset.h"
#include "system/replay.h"
#include "migration/misc.h"
#include "qapi/visitor.h"
#include "elf.h"
#include "trace.h"
#include "gr740.h"
#include "gr740_devices.h"

#define TYPE_GR740_MACHINE MACHINE_TYPE_NAME("gr740")
OBJECT_DECLARE_SIMPLE_TYPE(GR740MachineState, GR740_MACHINE)

typedef struct GR740BootStore {
    uint32_t addr;
    uint32_t value;
} GR740BootStore;

/*
 * What the boot stub programs on CPU 0 before entering -kernel: the state a
 * GR740 boot loader leaves behind and RTEMS's gr740 BSP relies on.
 */
static const GR740BootStore gr740_boot_stores[] = {
    /* APBUART0: receiver and transmitter enabled. */
    { GR740_APBUART0_BASE + 0x08, 0x3 },
    /*
     * L2 cache enabled, L2CACCC.SPLIT = 1, 128WF = 1, DBPF = 0 (and
     * L2CERR.COMP = 0 from reset): the boot-loader contract RTEMS's gr740
     * validation checks.  Hardware reset leaves the L2C disabled.
     */
    { GR740_L2C_BASE + 0x00, 0x80000000 },
    { GR740_L2C_BASE + 0x3C, 0x00000012 },
    /*
     * GPTIMER0 prescaler: SRELOAD then SCALER = 249, so the timers tick at
     * 1 MHz at 250 MHz (RTEMS gr740 derives the bus clock from SRELOAD).
     */
    { GR740_GPTIMER_BASE(0) + 0x04, GR740_SYS_FREQ_HZ / 1000000 - 1 },
    { GR740_GPTIMER_BASE(0) + 0x00, GR740_SYS_FREQ_HZ / 1000000 - 1 },
};

struct GR740MachineState {
    MachineState parent_obj;

    SPARCCPU *cpus[GR740_MAX_CPUS];
    MemoryRegion prom;
    uint32_t start_pc;
    DeviceState *irqamp;        /* IRQ(A)MP; NULL until created */
    /* Interrupt bus: line n is the OR of its sources (irq_or[n]). */
    DeviceState *irq_or[32];
    unsigned irq_or_used[32];
    ItcStop stop;               /* stop-icount / stop-time-ns (itc_stop.c) */
    ItcCheckpoints checkpoints; /* checkpoint-every/-dir (itc_checkpoint.c) */
    char *uart_rx_log;          /* APBUART0 rx-log (gr740_apbuart.c) */
    char *uart_rx_feed;         /* APBUART0 rx-feed */
    bool zero_run_records;      /* snapshot-zero-runs (patch 0027) */
};

/*
 * An input for one more source on bus interrupt line @line (1..31): the
 * next free input of the line's OR gate, whose output is the IRQ(A)MP's
 * input @line, so sources sharing a line (GRGPIO lines map anywhere)
 * cannot lower each other's level.  NULL (unconnected) for line 0 or
 * while the interrupt controller does not exist yet.
 */
static qemu_irq gr740_irq(GR740MachineState *gms, int line)
{
    if (!gms->irqamp || line <= 0 || line > 31) {
        return NULL;
    }
    /* GRGPIO0/1 use every line; the last input is for fault injection. */
    assert(gms->irq_or_used[line] < GR740_IRQ_INJECT_INPUT);
    return qdev_get_gpio_in(gms->irq_or[line], gms->irq_or_used[line]++);
}

/* IRQ(A)MP output: the interrupt level (0..15) presented to a CPU. */
static void gr740_cpu_set_level(void *opaque, int n, int level)
{
    SPARCCPU *cpu = opaque;
    CPUSPARCState *env = &cpu->env;

    env->pil_in = level ? 1u << level : 0;
    cpu_check_irqs(env);
}

/* The CPU takes an interrupt trap: acknowledge it to the IRQ(A)MP. */
static void gr740_cpu_irq_ack(CPUSPARCState *env, int intno)
{
    gr740_irqamp_ack(env->irq_manager, env_cpu(env)->cpu_index, intno & 15);
}

/* Reset and run (on the CPU's own thread), keeping its interrupt input. */
static void gr740_cpu_start_work(CPUState *cs, run_on_cpu_data data)
{
    SPARCCPU *cpu = SPARC_CPU(cs);
    uint32_t pil_in = cpu->env.pil_in;

    cpu_reset(cs);
    cpu->env.pc = data.host_ulong;
    cpu->env.npc = data.host_ulong + 4;
    cpu->env.pil_in = pil_in;
    cpu_check_irqs(&cpu->env);
    cs->halted = 0;
}

/* Power-down (%asr19) as MPSTAT.STATUS shows it; a start in flight is not. */
static bool gr740_cpu_powered_down(void *opaque, unsigned n)
{
    GR740MachineState *gms = opaque;
    CPUState *cs = CPU(gms->cpus[n]);

    return cs->halted && cpu_work_list_empty(cs);
}

/*
 * IRQ(A)MP MPSTAT (re)started a CPU: it runs from its BADDR when BADDR.AS
 * is set, else from the reset start address.
 */
static void gr740_cpu_start(void *opaque, int n, int level)
{
    SPARCCPU *cpu = opaque;
    GR740MachineState *gms = GR740_MACHINE(qdev_get_machine());
    bool use_baddr;
    uint32_t pc;

    if (!level) {
        return;
    }
    pc = gr740_irqamp_boot_address(gms->irqamp, CPU(cpu)->cpu_index,
                                   &use_baddr);
    async_run_on_cpu(CPU(cpu), gr740_cpu_start_work,
                     RUN_ON_CPU_HOST_ULONG(use_baddr ? pc : gms->start_pc));
}

/*
 * The IRQ(A)MP (first, so that every other device can be wired to it
 * through gr740_irq()), the OR gates of the interrupt bus lines, and the
 * CPUs' interrupt level, acknowledge and start signals.
 */
static void gr740_create_irqamp(GR740MachineState *gms, MachineState *machine)
{
    const GR740PnpEntry *e = gr740_pnp_find("irqamp", GR740_PNP_APB0);
    DeviceState *dev = qdev_new(TYPE_GR740_IRQAMP);
    unsigned i;

    assert(e && e->mmio_bar >= 0);
    object_property_add_child(OBJECT(gms), "irqamp", OBJECT(dev));
    qdev_prop_set_uint32(dev, "ncpu", machine->smp.cpus);
    qdev_prop_set_uint32(dev, "eirq", GR740_EIRQ);
    sysbus_realize_and_unref(SYS_BUS_DEVICE(dev), &error_fatal);
    sysbus_mmio_map(SYS_BUS_DEVICE(dev), 0, e->bar[e->mmio_bar].addr);
    gms->irqamp = dev;

    for (i = 1; i < 32; i++) {
        g_autofree char *name = g_strdup_printf(GR740_IRQ_LINE_CHILD, i);
        DeviceState *or = DEVICE(object_new(TYPE_OR_IRQ));

        object_property_add_child(OBJECT(gms), name, OBJECT(or));
        object_unref(OBJECT(or));
        object_property_set_int(OBJECT(or), "num-lines",
                                GR740_IRQ_SOURCES, &error_fatal);
        qdev_realize(or, NULL, &error_fatal);
        qdev_connect_gpio_out(or, 0, qdev_get_gpio_in(dev, i));
        gms->irq_or[i] = or;
    }

    gr740_irqamp_set_power_down_hook(dev, gr740_cpu_powered_down, gms);
    for (i = 0; i < machine->smp.cpus; i++) {
        SPARCCPU *cpu = gms->cpus[i];

        cpu->env.irq_manager = dev;
        cpu->env.qemu_irq_ack = gr740_cpu_irq_ack;
        qdev_connect_gpio_out_named(dev, "cpu-irq", i,
            qemu_allocate_irq(gr740_cpu_set_level, cpu, 0));
        qdev_connect_gpio_out_named(dev, "cpu-start", i,
            qemu_allocate_irq(gr740_cpu_start, cpu, 0));
    }
}

/* SPARC V8 instruction encodings for the generated boot stub. */
enum {
    SPARC_G0 = 0, SPARC_G1 = 1, SPARC_G2 = 2,
    SPARC_OP3_OR = 0x02, SPARC_OP3_ORCC = 0x12, SPARC_OP3_SRL = 0x26,
    SPARC_OP3_JMPL = 0x38, SPARC_OP3_ST = 0x04,
    SPARC_COND_NE = 0x9,
    SPARC_NOP = 0x01000000,
    SPARC_RD_ASR17_G2 = 0x85444000, /* rd %asr17, %g2 */
};

static uint32_t sparc_fmt3_imm(int op, int rd, int op3, int rs1, int32_t simm)
{
    return (op << 30) | (rd << 25) | (op3 << 19) | (rs1 << 14) | (1 << 13) |
           (simm & 0x1fff);
}

static uint32_t sparc_fmt3_reg(int op, int rd, int op3, int rs1, int rs2)
{
    return (op << 30) | (rd << 25) | (op3 << 19) | (rs1 << 14) | rs2;
}

static uint32_t sparc_sethi(int rd, uint32_t value)
{
    return (rd << 25) | (4 << 22) | (value >> 10);
}

static uint32_t *stub_set(uint32_t *p, int rd, uint32_t value)
{
    stl_be_p(p++, sparc_sethi(rd, value));
    stl_be_p(p++, sparc_fmt3_imm(2, rd, SPARC_OP3_OR, rd, value & 0x3ff));
    return p;
}

/*
 * Write the boot stub at the start of the PROM:
 *      rd    %asr17, %g2
 *      srl   %g2, 28, %g2          ! CPU index
 *      orcc  %g0, %g2, %g0
 *      bne   1f                    ! secondaries skip the initialisation
 *       nop
 *      (set addr, %g1; set value, %g2; st %g2, [%g1]) for each store
 *   1: set   entry, %g1
 *      jmp   %g1
 *       nop
 */
static void gr740_write_boot_stub(void *prom, uint32_t entry)
{
    uint32_t *p = prom;
    uint32_t *branch;
    size_t i;

    stl_be_p(p++, SPARC_RD_ASR17_G2);
    stl_be_p(p++, sparc_fmt3_imm(2, SPARC_G2, SPARC_OP3_SRL, SPARC_G2, 28));
    stl_be_p(p++, sparc_fmt3_reg(2, SPARC_G0, SPARC_OP3_ORCC, SPARC_G0,
                                 SPARC_G2));
    branch = p++;
    stl_be_p(p++, SPARC_NOP);
    for (i = 0; i < ARRAY_SIZE(gr740_boot_stores); i++) {
        p = stub_set(p, SPARC_G1, gr740_boot_stores[i].addr);
        p = stub_set(p, SPARC_G2, gr740_boot_stores[i].value);
        stl_be_p(p++, sparc_fmt3_imm(3, SPARC_G2, SPARC_OP3_ST, SPARC_G1, 0));
    }
    /* bne with a word displacement from the branch to here */
    stl_be_p(branch, (SPARC_COND_NE << 25) | (2 << 22) |
                     ((p - branch) & 0x3fffff));
    p = stub_set(p, SPARC_G1, entry);
    stl_be_p(p++, sparc_fmt3_imm(2, SPARC_G0, SPARC_OP3_JMPL, SPARC_G1, 0));
    stl_be_p(p++, SPARC_NOP);
}

static void gr740_cpu_reset(void *opaque)
{
    SPARCCPU *cpu = opaque;
    CPUState *cs = CPU(cpu);
    GR740MachineState *gms = GR740_MACHINE(qdev_get_machine());

    cpu_reset(cs);
    /* CPU 0 runs from reset; the others wait for an MP start. */
    cs->halted = cs->cpu_index != 0;
    cpu->env.pc = gms->start_pc;
    cpu->env.npc = gms->start_pc + 4;
}

static void gr740_load_firmware(GR740MachineState *gms, MachineState *machine)
{
    const char *kernel = machine->kernel_filename;
    bool have_bios = machine->firmware != NULL;
    uint64_t entry = 0;

    gms->start_pc = GR740_PROM_BASE;
    if (have_bios) {
        g_autofree char *path = qemu_find_file(QEMU_FILE_TYPE_BIOS,
                                               machine->firmware);
        ssize_t size = path ? get_image_size(path) : -1;

        if (size < 0) {
            error_report("gr740: cannot read PROM image '%s'",
                         machine->firmware);
            exit(1);
        }
        if (size > GR740_PROM_SIZE) {
            error_report("gr740: PROM image '%s' is %zd bytes, the PROM "
                         "holds %u", machine->firmware, size,
                         (unsigned)GR740_PROM_SIZE);
            exit(1);
        }
        if (load_image_targphys(path, GR740_PROM_BASE, size) < 0) {
            error_report("gr740: could not load PROM image '%s'",
                         machine->firmware);
            exit(1);
        }
    }

    if (kernel) {
        ssize_t size = load_elf(kernel, NULL, NULL, NULL, &entry, NULL, NULL,
                                NULL, ELFDATA2MSB, EM_SPARC, 0, 0);

        if (size < 0) {
            error_report("gr740: could not load kernel '%s': not a big-endian "
                         "SPARC ELF file that fits the memory map", kernel);
            exit(1);
        }
        if (!have_bios) {
            gr740_write_boot_stub(memory_region_get_ram_ptr(&gms->prom),
                                  entry);
        }
    } else if (!have_bios && !qtest_enabled()) {
        error_report("gr740: nothing to run: give -kernel FSW.elf or "
                     "-bios PROM.img");
        exit(1);
    }
    trace_gr740_boot(kernel && !have_bios ? entry : GR740_PROM_BASE,
                     have_bios ? "prom" : kernel ? "boot stub" : "none");
}

/*
 * GPTIMER0..4 and GRGPIO0/1.  GPTIMER0 has one interrupt per timer
 * (CONFIG.SI), units 1..4 one shared line each (UM 20.1); the underflow
 * "tick" of the last timer of units 1..4 is the IRQ(A)MP watchdog input.
 * GRGPIO lines reach the interrupt bus through their IRQMAP registers
 * (bus line = (GR740_IRQ_GRGPIO + IRQMAP[n]) mod 32, the plug&play IRQ
 * being GR740_IRQ_GRGPIO), so all 31 bus lines are wired.  Not wired: the GPTIMER "latch" inputs (they
 * need a fan-out of the interrupt bus lines from the IRQ(A)MP).
 */
static void gr740_create_timers_gpio(GR740MachineState *gms)
{
    Object *machine = OBJECT(gms);
    DeviceState *dev;
    unsigned i, n;

    for (i = 0; i < GR740_GPTIMER_UNITS; i++) {
        g_autofree char *name = g_strdup_printf("gptimer%u", i);

        dev = qdev_new(TYPE_GR740_GPTIMER);
        object_property_add_child(machine, name, OBJECT(dev));
        qdev_prop_set_uint32(dev, "nr-timers", GR740_GPTIMER_TIMERS(i));
        qdev_prop_set_uint32(dev, "irq-line", GR740_IRQ_GPTIMER(i));
        qdev_prop_set_bit(dev, "separate-irq", i == 0);
        sysbus_realize_and_unref(SYS_BUS_DEVICE(dev), &error_fatal);
        sysbus_mmio_map(SYS_BUS_DEVICE(dev), 0, GR740_GPTIMER_BASE(i));
        for (n = 0; n < (i == 0 ? GR740_GPTIMER_TIMERS(0) : 1); n++) {
            sysbus_connect_irq(SYS_BUS_DEVICE(dev), n,
                               gr740_irq(gms, GR740_IRQ_GPTIMER(i) + n));
        }
        if (i > 0 && gms->irqamp) {
            g_autofree char *wdog = g_strdup_printf("wdog[%u]", i - 1);

            /* Until the IRQ(A)MP has its "wdog" inputs, leave it open. */
            if (object_property_find(OBJECT(gms->irqamp), wdog)) {
                qdev_connect_gpio_out_named(dev, "tick", 0,
                    qdev_get_gpio_in_named(gms->irqamp, "wdog", i - 1));
            }
        }
    }

    for (i = 0; i < 2; i++) {
        static const uint32_t base[] = { GR740_GRGPIO0_BASE,
                                         GR740_GRGPIO1_BASE };
        static const uint32_t lines[] = { GR740_GRGPIO0_LINES,
                                          GR740_GRGPIO1_LINES };
        g_autofree char *name = g_strdup_printf("grgpio%u", i);

        dev = qdev_new(TYPE_GR740_GRGPIO);
        object_property_add_child(machine, name, OBJECT(dev));
        qdev_prop_set_uint32(dev, "nlines", lines[i]);
        /* Software reads the base from plug&play: line = IRQ + IRQMAP[n]. */
        qdev_prop_set_uint32(dev, "irq-base", GR740_IRQ_GRGPIO);
        sysbus_realize_and_unref(SYS_BUS_DEVICE(dev), &error_fatal);
        sysbus_mmio_map(SYS_BUS_DEVICE(dev), 0, base[i]);
        for (n = 1; n < 32; n++) {
            sysbus_connect_irq(SYS_BUS_DEVICE(dev), n, gr740_irq(gms, n));
        }
    }
}

/*
 * Create a sysbus device of @type as /machine/@child, map its MMIO region
 * 0 where the plug&play table (gr740_pnp.c) says and connect its IRQ 0 to
 * the table's interrupt line, so wiring and plug&play cannot disagree.
 */
static DeviceState *gr740_attach(GR740MachineState *gms, const char *type,
                                 const char *child, GR740PnpBus bus)
{
    const GR740PnpEntry *e = gr740_pnp_find(child, bus);
    DeviceState *dev = qdev_new(type);
    SysBusDevice *sbd = SYS_BUS_DEVICE(dev);

    assert(e && e->mmio_bar >= 0);
    object_property_add_child(OBJECT(gms), child, OBJECT(dev));
    sysbus_realize_and_unref(sbd, &error_fatal);
    sysbus_mmio_map(sbd, 0, e->bar[e->mmio_bar].addr);
    if (e->irq) {
        sysbus_connect_irq(sbd, 0, gr740_irq(gms, e->irq));
    }
    return dev;
}

/* Unassigned APB space: reads as zero, writes ignored, no bus error. */
static uint64_t gr740_apb_unassigned_read(void *opaque, hwaddr addr,
                                          unsigned size)
{
    return 0;
}

static void gr740_apb_unassigned_write(void *opaque, hwaddr addr,
                                       uint64_t value, unsigned size)
{
}

static const MemoryRegionOps gr740_apb_unassigned_ops = {
    .read = gr740_apb_unassigned_read,
    .write = gr740_apb_unassigned_write,
    .endianness = DEVICE_BIG_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
};

static void gr740_unimplemented(const char *name, hwaddr base, hwaddr size)
{
    DeviceState *dev = qdev_new(TYPE_UNIMPLEMENTED_DEVICE);

    qdev_prop_set_string(dev, "name", name);
    qdev_prop_set_uint64(dev, "size", size);
    sysbus_realize_and_unref(SYS_BUS_DEVICE(dev), &error_fatal);
    sysbus_mmio_map_overlap(SYS_BUS_DEVICE(dev), 0, base, -1000);
}

/*
 * Regions of the GR740 map the machine does not model: accesses are
 * logged (-d unimp) and read as zero.  Anything modelled later simply
 * maps over them (priority 0 beats -1000).  Below them, the rest of each
 * APB bridge is unassigned APB space (GR740-UM sect. 38.2.1).
 */
static void gr740_map_unimplemented(MachineState *machine)
{
    static const struct {
        const char *name;
        hwaddr base, size;
    } regions[] = {
        { "gr740.pci-mem",      0x80000000u, 0x40000000u },
        { "gr740.prom-io",      GR740_PROM_BASE + 256 * MiB, 256 * MiB },
        { "gr740.l2c-diag",     GR740_L2C_BASE + GR740_L2C_REG_SIZE,
          GR740_L2C_WINDOW_SIZE - GR740_L2C_REG_SIZE },
        { "gr740.iommu",        GR740_IOMMU_BASE, 0x1000 },
        { "gr740.grgpio0",      GR740_GRGPIO0_BASE, 0x1000 },
        { "gr740.gptimer0",     GR740_GPTIMER_BASE(0), 0x1000 },
        { "gr740.gptimer1",     GR740_GPTIMER_BASE(1), 0x1000 },
        { "gr740.gptimer2",     GR740_GPTIMER_BASE(2), 0x1000 },
        { "gr740.gptimer3",     GR740_GPTIMER_BASE(3), 0x1000 },
        { "gr740.gptimer4",     GR740_GPTIMER_BASE(4), 0x1000 },
        { "gr740.spwrouter0",   GR740_SPWROUTER_AMBA_BASE(0), 0x1000 },
        { "gr740.spwrouter1",   GR740_SPWROUTER_AMBA_BASE(1), 0x1000 },
        { "gr740.spwrouter2",   GR740_SPWROUTER_AMBA_BASE(2), 0x1000 },
        { "gr740.spwrouter3",   GR740_SPWROUTER_AMBA_BASE(3), 0x1000 },
        { "gr740.greth0",       GR740_GRETH_BASE(0), 0x1000 },
        { "gr740.greth1",       GR740_GRETH_BASE(1), 0x1000 },
        { "gr740.gr1553b",      GR740_GR1553B_BASE, 0x1000 },
        { "gr740.grcan0",       GR740_GRCAN_BASE(0), 0x1000 },
        { "gr740.grcan1",       GR740_GRCAN_BASE(1), 0x1000 },
        { "gr740.spictrl",      GR740_SPICTRL_BASE, 0x1000 },
        { "gr740.grgpio1",      GR740_GRGPIO1_BASE, 0x1000 },
        { "gr740.bootstrap",    GR740_BOOTSTRAP_BASE, 0x1000 },
        { "gr740.grgprbank",    GR740_GRGPRBANK_BASE, 0x1000 },
        { "gr740.spwtdp",       GR740_SPWTDP_BASE, 0x1000 },
        { "gr740.l4stat",       GR740_L4STAT_BASE, 0x1000 },
    };
    static const hwaddr apb[] = { GR740_APB0_BASE, GR740_APB1_BASE };
    MemoryRegion *sysmem = get_system_memory();
    size_t i;

    for (i = 0; i < ARRAY_SIZE(apb); i++) {
        MemoryRegion *mr = g_new0(MemoryRegion, 1);
        g_autofree char *name = g_strdup_printf("gr740.apb%zu-unassigned", i);

        memory_region_init_io(mr, OBJECT(machine), &gr740_apb_unassigned_ops,
                              NULL, name, GR740_APB_BRIDGE_SIZE);
        memory_region_add_subregion_overlap(sysmem, apb[i], mr, -2000);
    }
    for (i = 0; i < ARRAY_SIZE(regions); i++) {
        gr740_unimplemented(regions[i].name, regions[i].base,
                            regions[i].size);
    }
    if (machine->ram_size < GR740_SDRAM_MAX) {
        gr740_unimplemented("gr740.sdram-unpopulated",
                            GR740_SDRAM_BASE + machine->ram_size,
                            GR740_SDRAM_MAX - machine->ram_size);
    }
}

/*
 * AHBSTAT, L2C, MEMSCRUB, FTMCTRL and SDRAM controller registers, clock
 * gating, thermal sensor, and the plug&play areas (built when the machine
 * is complete, from the devices that exist then).
 */
static void gr740_create_support_devices(GR740MachineState *gms,
                                         MachineState *machine)
{
    SysBusDevice *pnp, *ahbstat;

    gr740_attach(gms, TYPE_GR740_L2C, "l2c", GR740_PNP_AHB_SLAVE);
    gr740_attach(gms, TYPE_GR740_SDCTRL, "sdctrl", GR740_PNP_MEM_SLAVE);
    gr740_attach(gms, TYPE_GR740_MEMSCRUB, "memscrub", GR740_PNP_MEM_SLAVE);
    gr740_attach(gms, TYPE_GR740_FTMCTRL, "ftmctrl", GR740_PNP_APB0);
    gr740_attach(gms, TYPE_GR740_CLKGATE, "clkgate", GR740_PNP_APB1);
    ahbstat = SYS_BUS_DEVICE(gr740_attach(gms, TYPE_GR740_AHBSTAT, "ahbstat",
                                          GR740_PNP_APB1));
    /* AHB default slave: error response (captured by AHBSTAT) below all. */
    sysbus_mmio_map_overlap(ahbstat, 1, 0, -3000);
    gr740_attach(gms, TYPE_GR740_THSENS, "thsens", GR740_PNP_APB1);

    pnp = SYS_BUS_DEVICE(qdev_new(TYPE_GR740_PNP));
    object_property_add_child(OBJECT(machine), "pnp", OBJECT(pnp));
    sysbus_realize_and_unref(pnp, &error_fatal);
    sysbus_mmio_map(pnp, 0, GR740_AHB_PNP_BASE);
    sysbus_mmio_map(pnp, 1, GR740_MEMBUS_PNP_BASE);
    sysbus_mmio_map(pnp, 2, GR740_APB0_PNP_BASE);
    sysbus_mmio_map(pnp, 3, GR740_APB1_PNP_BASE);

    gr740_map_unimplemented(machine);
}

/*
 * What the LEON CPU model needs to look like a GR740 LEON4FT (the CPU model
 * is LEON3; target/sparc changes in qemu/patches/0002):
 *  - %asr17: GR740_ASR17_CONFIG (gr740.h) besides INDEX and NWIN = 7.
 *    FPU = GRFPU (UM 6.5), V8 mul/div (UM 6.2.4/6.2.5), no MAC (UM 6.2.6),
 *    bit 26 set at reset as SIS's GR740 model reports (0x04000107).  NWP
 *    (number of watchpoints) reads 0 although the GR740 has 4 (UM 6.2.10):
 *    QEMU does not implement %asr24-31, so software must not rely on them.
 *  - a trap with traps disabled enters error mode (halts the CPU) as on
 *    hardware, rather than the LEON3 model's "ta 0 shuts QEMU down".
 *    Error mode is not a guest panic for QEMU: the other CPUs go on, no
 *    GUEST_PANICKED event is sent (the default panic action would end
 *    QEMU and lose the state to debug); the CPU's QOM property
 *    "error-mode" and a guest-error log line (-d guest_errors) report it,
 *    and a system reset leaves it.
 */
static void gr740_cpu_config(SPARCCPU *cpu)
{
    qdev_prop_set_uint32(DEVICE(cpu), "asr17-config", GR740_ASR17_CONFIG);
    cpu->env.def.features &= ~CPU_FEATURE_TA0_SHUTDOWN;
}

static void gr740_init(MachineState *machine)
{
    GR740MachineState *gms = GR740_MACHINE(machine);
    MemoryRegion *sysmem = get_system_memory();
    DeviceState *dev, *upcounter;
    unsigned i;

    ram_set_zero_run_records(gms->zero_run_records);

    if (machine->ram_size > GR740_SDRAM_MAX) {
        error_report("gr740: -m %" PRIu64 "M is more than the %u MiB of "
                     "SDRAM the GR740 can address",
                     (uint64_t)(machine->ram_size / MiB),
                     (unsigned)(GR740_SDRAM_MAX / MiB));
        exit(1);
    }

    /* LEON4 up-counter (%asr22/%asr23), shared by all CPUs. */
    upcounter = qdev_new(TYPE_GR740_UPCOUNTER);
    object_property_add_child(OBJECT(machine), "upcounter",
                              OBJECT(upcounter));
    qdev_prop_set_uint32(upcounter, "num-cpus", machine->smp.cpus);
    sysbus_realize_and_unref(SYS_BUS_DEVICE(upcounter), &error_fatal);

    for (i = 0; i < machine->smp.cpus; i++) {
        SPARCCPU *cpu = SPARC_CPU(object_new(machine->cpu_type));

        gr740_cpu_config(cpu);
        qdev_realize(DEVICE(cpu), NULL, &error_fatal);
        object_unref(OBJECT(cpu));
        cpu_sparc_set_id(&cpu->env, i);
        gr740_upcounter_connect_cpu(upcounter, &cpu->env);
        gms->cpus[i] = cpu;
        qemu_register_reset(gr740_cpu_reset, cpu);
    }

    memory_region_add_subregion(sysmem, GR740_SDRAM_BASE, machine->ram);

    memory_region_init_rom(&gms->prom, NULL, "gr740.prom", GR740_PROM_SIZE,
                           &error_fatal);
    memory_region_add_subregion(sysmem, GR740_PROM_BASE, &gms->prom);

    /* The interrupt controller before every device that calls gr740_irq(). */
    gr740_create_irqamp(gms, machine);

    /* APBUART0/1 on the first two serial ports (recorded chardev input). */
    for (i = 0; i < 2; i++) {
        static const uint32_t base[] = { GR740_APBUART0_BASE,
                                         GR740_APBUART1_BASE };
        static const int line[] = { GR740_IRQ_APBUART0, GR740_IRQ_APBUART1 };
        g_autofree char *name = g_strdup_printf("apbuart%u", i);

        dev = qdev_new(TYPE_GR740_APBUART);
        object_property_add_child(OBJECT(machine), name, OBJECT(dev));
        qdev_prop_set_chr(dev, "chardev", serial_hd(i));
        if (i == 0 && gms->uart_rx_log) {
            qdev_prop_set_string(dev, "rx-log", gms->uart_rx_log);
        }
        if (i == 0 && gms->uart_rx_feed) {
            qdev_prop_set_string(dev, "rx-feed", gms->uart_rx_feed);
        }
        sysbus_realize_and_unref(SYS_BUS_DEVICE(dev), &error_fatal);
        sysbus_mmio_map(SYS_BUS_DEVICE(dev), 0, base[i]);
        sysbus_connect_irq(SYS_BUS_DEVICE(dev), 0, gr740_irq(gms, line[i]));
        if (i == 0) {
            itc_checkpoint_connect(&gms->checkpoints, &gms->stop, OBJECT(dev));
        }
    }

    gr740_create_timers_gpio(gms);

    /* Support devices and plug&play; keep after the interrupt controller. */
    gr740_create_support_devices(gms, machine);

    /* ITC monitor: deterministic fault injector (gr740_fault.c). */
    gr740_fault_injector_create(OBJECT(machine));
    /* Fault requests on the third serial port (itc_fault_channel.c). */
    if (serial_hd(2)) {
        itc_fault_channel_create(OBJECT(machine), serial_hd(2));
    }

    gr740_load_firmware(gms, machine);
}

static char *gr740_get_uart_rx_log(Object *obj, Error **errp)
{
    return g_strdup(GR740_MACHINE(obj)->uart_rx_log);
}

static void gr740_set_uart_rx_log(Object *obj, const char *value,
                                  Error **errp)
{
    GR740MachineState *gms = GR740_MACHINE(obj);

    g_free(gms->uart_rx_log);
    gms->uart_rx_log = g_strdup(value);
}

static char *gr740_get_uart_rx_feed(Object *obj, Error **errp)
{
    return g_strdup(GR740_MACHINE(obj)->uart_rx_feed);
}

static void gr740_set_uart_rx_feed(Object *obj, const char *value,
                                   Error **errp)
{
    GR740MachineState *gms = GR740_MACHINE(obj);

    g_free(gms->uart_rx_feed);
    gms->uart_rx_feed = g_strdup(value);
}

static void gr740_get_reverse_snapshots(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    uint64_t value = replay_get_reverse_snapshots();

    visit_type_uint64(v, name, &value, errp);
}

static void gr740_set_reverse_snapshots(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    uint64_t value;

    if (visit_type_uint64(v, name, &value, errp)) {
        replay_set_reverse_snapshots(value);
    }
}

static bool gr740_get_zero_runs(Object *obj, Error **errp)
{
    return GR740_MACHINE(obj)->zero_run_records;
}

/*
 * The setting is QEMU-wide (migration/ram.c): the machine being run applies
 * it, from gr740_init() and on a qom-set afterwards; an instance made only
 * to list the properties must not.
 */
static void gr740_set_zero_runs(Object *obj, bool value, Error **errp)
{
    GR740_MACHINE(obj)->zero_run_records = value;
    if (phase_check(PHASE_MACHINE_READY) && obj == OBJECT(current_machine)) {
        ram_set_zero_run_records(value);
    }
}

static void gr740_machine_instance_init(Object *obj)
{
    GR740_MACHINE(obj)->zero_run_records = true;
}

static void gr740_machine_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->desc = "GR740 quad-core LEON4FT SoC (ITC workbench)";
    mc->init = gr740_init;
    mc->default_cpu_type = SPARC_CPU_TYPE_NAME("LEON3");
    mc->default_ram_id = "gr740.sdram";
    mc->default_ram_size = 256 * MiB;
    mc->max_cpus = GR740_MAX_CPUS;
    mc->default_cpus = GR740_MAX_CPUS;
    itc_stop_class_add_props(oc, offsetof(GR740MachineState, stop));
    itc_checkpoint_class_add_props(oc,
                                   offsetof(GR740MachineState, checkpoints));
    object_class_property_add(oc, "reverse-snapshot-distance", "uint64",
                              gr740_get_reverse_snapshots,
                              gr740_set_reverse_snapshots, NULL, NULL);
    object_class_property_set_description(oc, "reverse-snapshot-distance",
        "replay: a reverse step more than twice this many instructions past "
        "the nearest snapshot, after another reverse step there, first "
        "saves a snapshot this many instructions before its target "
        "(0: never)");
    object_class_property_add_bool(oc, "snapshot-zero-runs",
                                   gr740_get_zero_runs, gr740_set_zero_runs);
    object_class_property_set_description(oc, "snapshot-zero-runs",
        "snapshots send a run of pages known to be zero as one record "
        "(only this QEMU loads them; off: one record per page, as "
        "upstream)");
    object_class_property_add_str(oc, "uart-rx-log", gr740_get_uart_rx_log,
                                  gr740_set_uart_rx_log);
    object_class_property_set_description(oc, "uart-rx-log",
        "append every input delivery to APBUART0 to this file "
        "(COUNT ICOUNT VIRTUAL_NS HEXBYTES; needs -icount)");
    object_class_property_add_str(oc, "uart-rx-feed", gr740_get_uart_rx_feed,
                                  gr740_set_uart_rx_feed);
    object_class_property_set_description(oc, "uart-rx-feed",
        "deliver a uart-rx-log's input to APBUART0 at its recorded instants "
        "(those a loaded snapshot had not received)");
}

static const TypeInfo gr740_machine_info = {
    .name = TYPE_GR740_MACHINE,
    .parent = TYPE_MACHINE,
    .instance_size = sizeof(GR740MachineState),
    .instance_init = gr740_machine_instance_init,
    .class_init = gr740_machine_class_init,
};

static void gr740_machine_register_types(void)
{
    type_register_static(&gr740_machine_info);
}

type_init(gr740_machine_register_types)
