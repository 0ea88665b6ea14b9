/*
 * ITC workbench: GR740 (quad-core LEON4FT) SoC - shared definitions
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ITC_GR740_H
#define HW_ITC_GR740_H

#include "qom/object.h"

/* System frequency of the GR740 (UM front page: 250 MHz). */
#define GR740_SYS_FREQ_HZ       250000000u

/* AHB memory map (see shared/gr740/FACTS.md section 1). */
#define GR740_SDRAM_BASE        0x00000000u
#define GR740_SDRAM_MAX         (2 * GiB)
#define GR740_PROM_BASE         0xC0000000u
#define GR740_PROM_SIZE         (16 * MiB)
#define GR740_APB0_BASE         0xFF900000u
#define GR740_APB1_BASE         0xFFA00000u
#define GR740_AHB_PNP_BASE      0xFFFFF000u

#define GR740_APBUART0_BASE     (GR740_APB0_BASE + 0x0000)
#define GR740_APBUART1_BASE     (GR740_APB0_BASE + 0x1000)

/*
 * Addresses of the other on-chip slaves.  Sources: FACTS.md 1.2/1.3 and
 * GR740-UM-DS v1.7 (sect. 27.1: two AHBSTAT cores reached over APB, one
 * per AHB bus; sect. 38.2: APB bridges, PnP in the top 4 KiB of each
 * bridge).  The UM's memory-map table itself could not be read through
 * our sources, so rows marked UNCONFIRMED are the best available reading
 * (a non-authoritative design note + the cFE PSP neighbours); software
 * finds all of them through plug&play, which is generated from these
 * same constants.
 */
#define GR740_APB_BRIDGE_SIZE   0x100000u
#define GR740_APB_PNP_OFFSET    0xFF000u  /* top 4 KiB of each bridge */
#define GR740_APB0_PNP_BASE     (GR740_APB0_BASE + GR740_APB_PNP_OFFSET)
#define GR740_APB1_PNP_BASE     (GR740_APB1_BASE + GR740_APB_PNP_OFFSET)
#define GR740_AHB_PNP_SIZE      0x1000u

#define GR740_GRGPIO0_BASE      (GR740_APB0_BASE + 0x2000)
#define GR740_FTMCTRL_BASE      (GR740_APB0_BASE + 0x3000)
#define GR740_IRQAMP_BASE       (GR740_APB0_BASE + 0x4000)
/* 4 internal controllers, one every 0x1000 (GR740-UM-DS 21.2.1) */
#define GR740_IRQAMP_SIZE       0x4000u
#define GR740_GPTIMER_BASE(n)   (GR740_APB0_BASE + 0x8000 + 0x1000 * (n))
#define GR740_GPTIMER_UNITS     5
#define GR740_SPWROUTER_AMBA_BASE(n) (GR740_APB0_BASE + 0xD000 + 0x1000 * (n))
#define GR740_GRETH_BASE(n)     (GR740_APB0_BASE + 0x40000 + 0x40000 * (n))

#define GR740_GR1553B_BASE      (GR740_APB1_BASE + 0x0000) /* UNCONFIRMED */
/* UNCONFIRMED */
#define GR740_GRCAN_BASE(n)     (GR740_APB1_BASE + 0x1000 + 0x1000 * (n))
#define GR740_SPICTRL_BASE      (GR740_APB1_BASE + 0x3000) /* UNCONFIRMED */
#define GR740_GRCLKGATE_BASE    (GR740_APB1_BASE + 0x4000) /* UNCONFIRMED */
#define GR740_GRGPIO1_BASE      (GR740_APB1_BASE + 0x5000) /* UNCONFIRMED */
#define GR740_GRGPIO0_LINES     16  /* UM front page: "16+22 GPIO" */
#define GR740_GRGPIO1_LINES     22
/*
 * Timers per GPTIMER unit.  UM 20.1: "four or five decrementing timers";
 * UM 21.2.8: the IRQ(A)MP watchdog inputs come from "timer 4 on general
 * purpose timer units 1 - 4" (GRLIB numbers timers from 1).  Read as: unit
 * 0 has 5 (the 5th is the system watchdog), units 1..4 have 4.  The split
 * per unit is UNCONFIRMED (no register dump seen).
 */
#define GR740_GPTIMER_TIMERS(n) ((n) == 0 ? 5 : 4)
#define GR740_AHBSTAT_BASE      (GR740_APB1_BASE + 0x6000) /* UNCONFIRMED */
#define GR740_BOOTSTRAP_BASE    (GR740_APB1_BASE + 0x9000) /* UNCONFIRMED */
#define GR740_THSENS_BASE       (GR740_APB1_BASE + 0xA000) /* cFE PSP */
#define GR740_GRGPRBANK_BASE    (GR740_APB1_BASE + 0xB000) /* cFE PSP */
#define GR740_SPWTDP_BASE       (GR740_APB1_BASE + 0xC000) /* UNCONFIRMED */
#define GR740_L4STAT_BASE       (GR740_APB1_BASE + 0xD000) /* cFE PSP */

#define GR740_L2C_BASE          0xF0000000u /* RTEMS LEON3_L2CACHE_BASE */
/* Registers; the rest of the window is the diagnostic area. */
#define GR740_L2C_REG_SIZE      0x1000u
#define GR740_L2C_WINDOW_SIZE   0x08000000u
#define GR740_SDCTRL_BASE       0xFFE00000u /* UNCONFIRMED */
#define GR740_MEMSCRUB_BASE     0xFFE01000u /* cFE PSP */
#define GR740_IOMMU_BASE        0xFFE02000u /* UNCONFIRMED */
#define GR740_AHB_REG_SIZE      0x100u      /* AHB I/O BAR of those three */

#define GR740_MAX_CPUS          4

#define TYPE_GR740_APBUART      "gr740-apbuart"
#define TYPE_GR740_AHBSTAT      "gr740-ahbstat"
#define TYPE_GR740_L2C          "gr740-l2c"
#define TYPE_GR740_MEMSCRUB     "gr740-memscrub"
#define TYPE_GR740_FTMCTRL      "gr740-ftmctrl"
#define TYPE_GR740_SDCTRL       "gr740-sdctrl"
#define TYPE_GR740_CLKGATE      "gr740-clkgate"
#define TYPE_GR740_THSENS       "gr740-thsens"
#define TYPE_GR740_PNP          "gr740-pnp"
#define TYPE_GR740_GPTIMER      "gr740-gptimer"
#define TYPE_GR740_GRGPIO       "gr740-grgpio"
#define TYPE_GR740_UPCOUNTER    "gr740-upcounter"
#define TYPE_GR740_IRQAMP       "gr740-irqamp"

/*
 * LEON4 %asr17 (processor configuration) fields other than INDEX and NWIN,
 * as the GR740 reports them; see gr740_cpu_config() in gr740.c.
 */
/*
 * Bit 26 is 1 after reset in SIS's GR740 model (0x04000107); read here as
 * DBPM (rw, disable branch prediction on I-cache misses).  UNCONFIRMED: the
 * GR740-UM %asr17 table (sect. 6.10.3) was not reachable through our sources.
 */
#define GR740_ASR17_DBPM        (1u << 26)
#define GR740_ASR17_FPU_GRFPU   (1u << 10)  /* FPU[11:10] = 01: GRFPU */
#define GR740_ASR17_V8          (1u << 8)   /* V8 mul/div present */
#define GR740_ASR17_CONFIG      (GR740_ASR17_DBPM | GR740_ASR17_FPU_GRFPU | \
                                 GR740_ASR17_V8)

/*
 * Interrupt lines (IRQ(A)MP bus lines).  Lines 16..31 are extended
 * interrupts, signalled to the CPUs on GR740_EIRQ.  The plug&play records
 * are generated from these same constants so software reads what is wired.
 *
 * Source: GR740-UM-DS v1.7 chapter 2 "interrupt assignments" table.  That
 * page was NOT reachable through the manual mirror we can search (only
 * sect. 21 IRQ(A)MP, 27 AHBSTAT and 38 APB bridge pages were); the values
 * are the assignment as remembered from that table / a GR740 board's
 * plug&play listing, and are UNCONFIRMED.  EIRQ = 10 is confirmed by RTEMS
 * (optirqampextirq.yml) and SIS.  Because RTEMS and Linux read lines from
 * plug&play, a wrong number here is self-consistent, not fatal.
 */
#define GR740_EIRQ              10

/*
 * Each bus line is the OR of its sources: QOM child /machine/irq-lineN (an
 * or-irq with GR740_IRQ_SOURCES inputs) drives IRQ(A)MP input N.  The
 * last input is kept for fault injection (gr740_fault.c), so an injected
 * pulse cannot lower a line a device holds high.
 */
#define GR740_IRQ_SOURCES       8
#define GR740_IRQ_INJECT_INPUT  (GR740_IRQ_SOURCES - 1)
#define GR740_IRQ_LINE_CHILD    "irq-line%u"
#define GR740_IRQ_GPTIMER0      1   /* GPTIMER0: timers 0..4 on 1..5 (SI=1) */
/* First line of GPTIMER unit n: unit 0: 1..5; units 1..4: one line each, 6..9 */
#define GR740_IRQ_GPTIMER(n)    ((n) == 0 ? GR740_IRQ_GPTIMER0 : 5 + (n))
#define GR740_IRQ_GRPCI2        11
/* GRGPIO "pirq" (irq-base): line n interrupts on GR740_IRQ_GRGPIO + IRQMAP[n] */
#define GR740_IRQ_GRGPIO        0
#define GR740_IRQ_GRETH0        24
#define GR740_IRQ_GRETH1        25
#define GR740_IRQ_MEMSCRUB      26
#define GR740_IRQ_AHBSTAT       27
#define GR740_IRQ_L2C           28
#define GR740_IRQ_APBUART0      29
#define GR740_IRQ_APBUART1      30
#define GR740_IRQ_IOMMU         31
/*
 * No interrupt: FTMCTRL, SDCTRL (their errors reach AHBSTAT/MEMSCRUB),
 * GRCLKGATE, thermal sensor.
 */
#define GR740_IRQ_NONE          0

#endif
