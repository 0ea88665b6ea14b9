/*
 * ITC workbench: a digest of guest RAM (itc-ram-digest)
 *
 * Record and replay compare the final state of a run through a digest of
 * RAM and registers.  pmemsave of the 256 MiB SDRAM and hashing the file
 * took ~2 s per run, most of a short recording.  This hashes the machine's
 * RAM in place, skipping zero pages (buffer_is_zero is vectorised): SHA-256
 * over (page index as 8 big-endian bytes, page) for every 4 KiB page that is
 * not all zero.  A run of the sample FSW touches a few hundred pages, so
 * the digest takes milliseconds.  Pages the host never populated are zero
 * and not read at all (patch 0017): reading them faulted in all 256 MiB,
 * half a second of the first digest.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "exec/memory.h"
#include "exec/ramblock.h"
#include "exec/target_page.h"
#include "hw/boards.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-itc.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "system/runstate.h"
#include "trace.h"

#define ITC_DIGEST_PAGE 4096

ItcRamDigest *qmp_itc_ram_digest(Error **errp)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    g_autoptr(GChecksum) h = g_checksum_new(G_CHECKSUM_SHA256);
    ItcRamDigest *r;
    uint64_t size, page, nonzero = 0;
    g_autofree unsigned long *unpopulated = NULL;
    const uint8_t *ram;

    if (!ms->ram) {
        error_setg(errp, "the machine has no RAM region");
        return NULL;
    }
    if (runstate_is_running()) {
        error_setg(errp, "the VM is running; stop it before itc-ram-digest");
        return NULL;
    }
    ram = memory_region_get_ram_ptr(ms->ram);
    size = memory_region_size(ms->ram);
    if (ms->ram->ram_block && qemu_target_page_size() == ITC_DIGEST_PAGE) {
        unpopulated = ram_block_unpopulated_bmap(ms->ram->ram_block,
                                                 size / ITC_DIGEST_PAGE);
    }
    for (page = 0; page < size / ITC_DIGEST_PAGE; page++) {
        const uint8_t *p = ram + page * ITC_DIGEST_PAGE;
        uint8_t index[8];

        if ((unpopulated && test_bit(page, unpopulated)) ||
            buffer_is_zero(p, ITC_DIGEST_PAGE)) {
            continue;
        }
        stq_be_p(index, page);
        g_checksum_update(h, index, sizeof(index));
        g_checksum_update(h, p, ITC_DIGEST_PAGE);
        nonzero++;
    }
    trace_itc_ram_digest(size, nonzero);
    r = g_new0(ItcRamDigest, 1);
    r->sha256 = g_strdup(g_checksum_get_string(h));
    r->size = size;
    r->nonzero_pages = nonzero;
    return r;
}
