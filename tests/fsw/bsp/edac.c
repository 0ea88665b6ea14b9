/*
 * EDAC supervision (sample FSW): SDRAM EDAC on by command (EDAC 1) or
 * bootstrap, AHBSTAT interrupt counts
 * the errors the memory controllers report, the data access exception
 * (trap 0x09: AHB error response, e.g. an uncorrectable EDAC error) is
 * counted and the faulting load skipped (start.S: data_access_entry).
 * The application downlinks the counters (HK edac=ce/ue) and an event per
 * new error.
 */
#include "bsp.h"
#include "kprintf.h"

#define AHBSTAT_FALLBACK  0xFFA06000u
#define IRQ_AHBSTAT_FALLBACK 27
#define SDCTRL_BASE       0xFFE00000u   /* FTSDCTRL64 registers (memory bus I/O BAR) */
#define SDCTRL_MUXCFG     0x20
#define MUXCFG_EDEN       (1u << 0)

#define AHBS_NE           (1u << 8)
#define AHBS_CE           (1u << 9)

static uint32_t ahbstat_base;

volatile uint32_t edac_ce;          /* correctable errors reported by AHBSTAT */
volatile uint32_t edac_ahb_err;     /* uncorrectable / other AHB errors reported */
volatile uint32_t edac_last_addr;   /* AHBFAR of the last report */
volatile uint32_t edac_ue_traps;    /* data access exceptions taken (start.S) */
volatile uint32_t edac_ue_pc;       /* pc of the last one (start.S) */

static void ahbstat_isr(void *arg)
{
    uint32_t s = REG32(ahbstat_base);

    (void)arg;
    if (!(s & AHBS_NE))
        return;
    edac_last_addr = REG32(ahbstat_base + 4);
    if (s & AHBS_CE)
        edac_ce++;
    else
        edac_ahb_err++;
    REG32(ahbstat_base) = 0;        /* clear NE/CE: re-arm the monitor */
}

/* SDRAM EDAC on/off (SDCTRL MUXCFG.EDEN); returns the new state. */
int edac_enable(int on)
{
    uint32_t m = REG32(SDCTRL_BASE + SDCTRL_MUXCFG);

    REG32(SDCTRL_BASE + SDCTRL_MUXCFG) = on ? m | MUXCFG_EDEN : m & ~MUXCFG_EDEN;
    return (REG32(SDCTRL_BASE + SDCTRL_MUXCFG) & MUXCFG_EDEN) != 0;
}

/*
 * AHBSTAT supervision always; SDRAM EDAC stays as the boot loader / the
 * bootstrap pins left it (command EDAC 1 turns it on).
 */
void edac_init(void)
{
    const struct pnp_dev *d = pnp_find(PNP_APB, DEV_AHBSTAT, 0);
    unsigned line = d ? d->irq : IRQ_AHBSTAT_FALLBACK;

    ahbstat_base = d ? d->addr : AHBSTAT_FALLBACK;
    REG32(ahbstat_base) = 0;
    kprintf("EDAC SDRAM %s, AHBSTAT 0x%08x irq %u%s\n",
            (REG32(SDCTRL_BASE + SDCTRL_MUXCFG) & MUXCFG_EDEN) ? "on" : "off",
            ahbstat_base, line,
            irq_register(line, ahbstat_isr, NULL) == 0 ? "" : " (not connected)");
}
