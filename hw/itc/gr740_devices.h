/*
 * ITC workbench: GR740 support devices - functions other models and the
 * fault-injection layer call (AHBSTAT, L2C, MEMSCRUB, thermal sensor),
 * and the plug&play table the machine wires devices from.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ITC_GR740_DEVICES_H
#define HW_ITC_GR740_DEVICES_H

#include "hw/qdev-core.h"

/*
 * AHBSTAT: report a failing AHB access (error response) or, with
 * @correctable, a corrected error signalled by a fault-tolerant core.
 * @master is the AHB master index (HMASTER), @hsize the AHB HSIZE code.
 */
void gr740_ahbstat_report(DeviceState *ahbstat, uint32_t addr, bool write,
                          unsigned master, unsigned hsize, bool correctable);

/* L2 cache: an EDAC error in the cache at @addr (tag or data). */
void gr740_l2c_report_error(DeviceState *l2c, uint32_t addr, unsigned master,
                            bool correctable, bool tag);

/* MEMSCRUB: an SDRAM EDAC error seen on the memory bus at @addr. */
void gr740_memscrub_report_error(DeviceState *memscrub, uint32_t addr,
                                 bool write, unsigned master, unsigned hsize,
                                 bool correctable);

/*
 * APBUART fault injection (gr740_fault.c): the receiver loses the next
 * @drop characters, XORs the @corrupt characters after them with @xor_mask,
 * and the STATUS error flags @error_bits (FE/PE/OV) are set now (with the
 * receive interrupt when CTRL.RI is set).  Counts add up.
 */
void gr740_apbuart_inject(DeviceState *uart, uint32_t drop, uint32_t corrupt,
                          uint8_t xor_mask, uint32_t error_bits);

/*
 * GPTIMER fault injection: timer @n loses its next @count underflows
 * (reload without interrupt or tick output), or all of them while @all is
 * set; the prescaler runs @ppm parts per million fast (negative: slow).
 */
#define GR740_GPTIMER_MAX_DRIFT_PPM 500000
unsigned gr740_gptimer_nr_timers(DeviceState *gpt);
void gr740_gptimer_lose_ticks(DeviceState *gpt, unsigned n, uint32_t count,
                              bool all);
void gr740_gptimer_set_drift(DeviceState *gpt, int32_t ppm);

/* Memory controllers: is EDAC enabled (FTMCTRL MCFG3.PE, SDCTRL MUXCFG.EDEN)? */
bool gr740_ftmctrl_prom_edac(DeviceState *ftmctrl);
bool gr740_sdctrl_edac(DeviceState *sdctrl);

/*
 * MEMSCRUB: @fn is called when a scrub run over [@lo, @hi] completes, to
 * let the fault injector report (and, for correctable errors, correct)
 * the EDAC errors the run read.  @memscrub is passed back for
 * gr740_memscrub_report_error().
 */
typedef void (*GR740ScrubHook)(void *opaque, DeviceState *memscrub,
                               uint32_t lo, uint32_t hi);
void gr740_memscrub_set_scan_hook(DeviceState *memscrub, GR740ScrubHook fn,
                                  void *opaque);

/*
 * QOM property "inject-error" (uint64, write-only) of AHBSTAT, L2C and
 * MEMSCRUB: reports one error through the functions above, for tests and
 * QMP-driven fault injection (qom-set).  Encoding:
 *   [31:0] address  [32] write  [33] correctable  [34] tag (L2C)
 *   [39:36] AHB master  [42:40] HSIZE
 */
#define GR740_INJ_ADDR(v)        ((uint32_t)(v))
#define GR740_INJ_WRITE(v)       (((v) >> 32) & 1)
#define GR740_INJ_CORRECTABLE(v) (((v) >> 33) & 1)
#define GR740_INJ_TAG(v)         (((v) >> 34) & 1)
#define GR740_INJ_MASTER(v)      (((v) >> 36) & 0xf)
#define GR740_INJ_HSIZE(v)       (((v) >> 40) & 0x7)

/*
 * LEON4 up-counter: serve %asr22/%asr23 of the CPU whose state is @env
 * (its cpu_index must be below the device's "num-cpus").
 */
void gr740_upcounter_connect_cpu(DeviceState *upcounter, CPUArchState *env);

/*
 * IRQ(A)MP: processor @cpu takes the interrupt trap for @level (1..15),
 * the acknowledge that clears the pending (or forced) interrupt and, on
 * the extended interrupt level, latches PEXTACK.
 */
void gr740_irqamp_ack(DeviceState *irqamp, unsigned cpu, unsigned level);

/*
 * IRQ(A)MP: boot address register of processor @cpu; *@valid is BADDR.AS
 * (use the address rather than the reset start address).
 */
uint32_t gr740_irqamp_boot_address(DeviceState *irqamp, unsigned cpu,
                                   bool *valid);

/*
 * IRQ(A)MP: how the machine tells whether processor @cpu is in power-down
 * (MPSTAT.STATUS reads 1 for it, and writing 1 restarts it).
 */
typedef bool (*GR740CpuPoweredDown)(void *opaque, unsigned cpu);
void gr740_irqamp_set_power_down_hook(DeviceState *irqamp,
                                      GR740CpuPoweredDown fn, void *opaque);

/* Thermal sensor: the 7-bit code the sensor will report from now on. */
void gr740_thsens_set_temperature(DeviceState *thsens, int code);

/*
 * Plug&play: one table describes every device the machine can
 * instantiate (address, size, interrupt, AMBA ids).  The machine maps and
 * wires its devices from it (gr740_pnp_find), and the plug&play areas
 * list exactly the entries whose QOM child of /machine exists.
 */
/* Memory AHB bus (behind the L2C): I/O area and its plug&play area. */
#define GR740_MEMBUS_IOAREA     0xFFE00000u
#define GR740_MEMBUS_PNP_BASE   (GR740_MEMBUS_IOAREA + 0xFF000u)

typedef enum GR740PnpBus {
    GR740_PNP_AHB_MASTER,   /* processor AHB bus, master records */
    GR740_PNP_AHB_SLAVE,    /* processor AHB bus, slave records */
    GR740_PNP_MEM_SLAVE,    /* memory AHB bus (behind the L2C) */
    GR740_PNP_APB0,
    GR740_PNP_APB1,
} GR740PnpBus;

typedef struct GR740PnpBar {
    uint32_t addr;
    uint32_t size;          /* 0: unused BAR */
    bool io;                /* AHB I/O BAR (relative to the bus I/O area) */
    bool prefetch;
    bool cacheable;
} GR740PnpBar;

typedef struct GR740PnpEntry {
    const char *child;      /* QOM child of /machine; "cpuN" for masters */
    GR740PnpBus bus;
    uint8_t slot;           /* record index in its area */
    int8_t mmio_bar;        /* BAR where MMIO region 0 is mapped, -1: none */
    uint16_t device;        /* vendor is always Gaisler (0x01) */
    uint8_t version;
    uint8_t irq;            /* bus interrupt line, 0 = none */
    uint32_t user[3];       /* AHB user-defined words 1..3 */
    GR740PnpBar bar[4];     /* AHB: up to 4; APB: bar[0] only */
} GR740PnpEntry;

const GR740PnpEntry *gr740_pnp_find(const char *child, GR740PnpBus bus);

#endif
