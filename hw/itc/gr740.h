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

#define GR740_MAX_CPUS          4

#define TYPE_GR740_APBUART "gr740-apbuart"

#endif

/*
 * Interrupt lines (IRQ(A)MP bus lines).  Lines 16..31 are extended
 * interrupts, signalled to the CPUs on GR740_EIRQ.  The plug&play records
 * are generated from these same constants so software reads what is wired.
 * TODO(verify against GR740-UM-DS "interrupt assignment" table).
 */
#define GR740_EIRQ              10
#define GR740_IRQ_GPTIMER0      1   /* timers 0..4 on lines 1..5 (CONFIG.SI) */
#define GR740_IRQ_GPTIMER(n)    (GR740_IRQ_GPTIMER0 + 0)  /* placeholder */
#define GR740_IRQ_AHBSTAT       27
#define GR740_IRQ_L2C           28
#define GR740_IRQ_APBUART0      29
#define GR740_IRQ_APBUART1      30
#define GR740_IRQ_MEMSCRUB      26
