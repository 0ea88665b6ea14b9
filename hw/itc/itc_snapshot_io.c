/*
 * ITC workbench: internal snapshots to and from migration-stream files
 * (itc-snapshot-export, itc-snapshot-import), and the VM state straight
 * into one (itc-snapshot-save)
 *
 * A bundle keeps its checkpoints in the workbench's deduplicating snapshot
 * store, whose unit is a migration stream.  QEMU's reverse execution loads
 * checkpoints from qcow2 internal snapshots.  These two commands move a
 * snapshot's VM state between the two without running the VM: export
 * copies the VM state of an internal snapshot (a migration stream, as
 * savevm wrote it) to a file; import writes a stream file into the image's
 * VM-state area and creates an internal snapshot over it, with the
 * instruction count and virtual time the caller gives (QEMU's replay code
 * picks snapshots by instruction count).  Only the block layer is used:
 * the guest, its devices and the replay position are untouched.
 *
 * A recording's checkpoints need no image at all: save writes the stream
 * savevm would put in the image straight into a file (patch 0016), which
 * costs a third of savevm followed by export.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "block/block-global-state.h"
#include "block/block-io.h"
#include "block/snapshot.h"
#include "migration/snapshot.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-itc.h"
#include "qemu/cutils.h"
#include "trace.h"

#define ITC_SNAPSHOT_CHUNK (1024 * 1024)

static BlockDriverState *itc_snapshot_bs(Error **errp)
{
    if (!bdrv_all_can_snapshot(false, NULL, errp)) {
        return NULL;
    }
    return bdrv_all_find_vmstate_bs(NULL, false, NULL, errp);
}

static ItcSnapshotStream *itc_snapshot_result(const QEMUSnapshotInfo *sn)
{
    ItcSnapshotStream *r = g_new0(ItcSnapshotStream, 1);

    r->name = g_strdup(sn->name);
    r->size = sn->vm_state_size;
    r->icount = sn->icount == -1ULL ? -1 : (int64_t)sn->icount;
    r->vm_clock_ns = sn->vm_clock_nsec;
    return r;
}

ItcSnapshotStream *qmp_itc_snapshot_export(const char *name, const char *path,
                                           Error **errp)
{
    g_autofree uint8_t *buf = NULL;
    BlockDriverState *bs;
    QEMUSnapshotInfo sn;
    uint64_t pos = 0;
    int fd, ret;

    bs = itc_snapshot_bs(errp);
    if (!bs) {
        return NULL;
    }
    if (bdrv_snapshot_find(bs, &sn, name) < 0) {
        error_setg(errp, "no snapshot '%s'", name);
        return NULL;
    }
    if (sn.vm_state_size == 0) {
        error_setg(errp, "snapshot '%s' has no VM state", name);
        return NULL;
    }
    fd = qemu_create(path, O_WRONLY | O_TRUNC | O_BINARY, 0600, errp);
    if (fd < 0) {
        return NULL;
    }
    buf = g_malloc(ITC_SNAPSHOT_CHUNK);
    bdrv_drain_all_begin();
    /*
     * The VM state of a snapshot is read from the active image.  Go to it
     * by its ID: a name that looks like another snapshot's ID would find
     * that one (qcow2 tries IDs first).
     */
    ret = bdrv_all_goto_snapshot(sn.id_str, false, NULL, errp);
    while (ret >= 0 && pos < sn.vm_state_size) {
        int n = MIN(ITC_SNAPSHOT_CHUNK, sn.vm_state_size - pos);

        ret = bdrv_load_vmstate(bs, buf, pos, n);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "reading the VM state of '%s'", name);
        } else if (qemu_write_full(fd, buf, n) != n) {
            error_setg_errno(errp, errno, "writing %s", path);
            ret = -1;
        }
        pos += n;
    }
    bdrv_drain_all_end();
    if (ret >= 0 && qemu_close(fd) < 0) {
        error_setg_errno(errp, errno, "closing %s", path);
        return NULL;
    }
    if (ret < 0) {
        qemu_close(fd);
        unlink(path);
        return NULL;
    }
    trace_itc_snapshot_export(name, sn.vm_state_size, path);
    return itc_snapshot_result(&sn);
}

ItcStateStream *qmp_itc_snapshot_save(const char *path, Error **errp)
{
    ItcStateStream *r = g_new0(ItcStateStream, 1);
    uint64_t size, icount;
    int64_t clock;

    if (!save_snapshot_stream(path, &size, &icount, &clock, errp)) {
        g_free(r);
        return NULL;
    }
    trace_itc_snapshot_save(size, icount, path);
    r->size = size;
    r->icount = icount == -1ULL ? -1 : (int64_t)icount;
    r->vm_clock_ns = clock;
    return r;
}

ItcSnapshotStream *qmp_itc_snapshot_import(const char *name, const char *path,
                                           int64_t icount, int64_t vm_clock_ns,
                                           Error **errp)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree uint8_t *buf = NULL;
    BlockDriverState *bs;
    QEMUSnapshotInfo sn;
    uint64_t size = 0;
    int fd, ret = 0;

    if (strlen(name) >= sizeof(sn.name)) {
        error_setg(errp, "snapshot name '%s' is too long", name);
        return NULL;
    }
    if (icount < -1 || vm_clock_ns < 0) {
        error_setg(errp, "icount must be >= -1 and vm-clock-ns >= 0");
        return NULL;
    }
    bs = itc_snapshot_bs(errp);
    if (!bs) {
        return NULL;
    }
    fd = qemu_open(path, O_RDONLY | O_BINARY, errp);
    if (fd < 0) {
        return NULL;
    }
    if (bdrv_all_delete_snapshot(name, false, NULL, errp) < 0) {
        qemu_close(fd);
        return NULL;
    }
    buf = g_malloc(ITC_SNAPSHOT_CHUNK);
    bdrv_drain_all_begin();
    for (;;) {
        ssize_t n = read(fd, buf, ITC_SNAPSHOT_CHUNK);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error_setg_errno(errp, errno, "reading %s", path);
            ret = -1;
            break;
        }
        if (n == 0) {
            break;
        }
        ret = bdrv_save_vmstate(bs, buf, size, n);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "writing the VM state of '%s'", name);
            break;
        }
        size += n;
    }
    qemu_close(fd);
    if (ret >= 0 && size == 0) {
        error_setg(errp, "%s is empty", path);
        ret = -1;
    }
    if (ret >= 0) {
        memset(&sn, 0, sizeof(sn));
        pstrcpy(sn.name, sizeof(sn.name), name);
        sn.date_sec = g_date_time_to_unix(now);
        sn.date_nsec = g_date_time_get_microsecond(now) * 1000;
        sn.vm_clock_nsec = vm_clock_ns;
        sn.icount = icount < 0 ? -1ULL : (uint64_t)icount;
        ret = bdrv_all_create_snapshot(&sn, bs, size, false, NULL, errp);
        if (ret < 0) {
            bdrv_all_delete_snapshot(name, false, NULL, NULL);
        }
    }
    bdrv_drain_all_end();
    if (ret < 0) {
        return NULL;
    }
    sn.vm_state_size = size;
    trace_itc_snapshot_import(name, size, icount);
    return itc_snapshot_result(&sn);
}
