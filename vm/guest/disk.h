/* A virtio disk by its serial (/sys/block/vdX/serial), waited for without
 * a limit of its own: at boot virtio_blk probes late under a slow TCG
 * host, and a VM restored from a template gets its rootfs hot-attached to
 * a placeholder slot.  The host's READY deadline ends a VM whose disk never
 * comes; meanwhile a console line every 5 s says which serial is awaited
 * and which disks are seen instead (gchan_wait, chanopen.h). */
#ifndef OCIVM_GUEST_DISK_H
#define OCIVM_GUEST_DISK_H

#include <stddef.h>

#include "chanopen.h"

/* Where to look (the real paths; a unit test points them at a directory). */
struct gdisk_where {
	const char *block;   /* /sys/block */
	const char *dev;     /* /dev */
};

extern const struct gdisk_where gdisk_where_real;

/* One look: 0 with the node's path in dev, or -ENODEV with what is seen
 * instead in why ("disks: vda (virtio2) serial X, vdb without a serial"). */
int gdisk_try(const struct gdisk_where *w, const char *serial, char *dev, size_t cap,
	      char *why, size_t wcap);

/* Wait for the disk with this serial (what: "the rootfs", ...), with a
 * note every note_every_ms, then one naming the node.  0 (dev set). */
int gdisk_find(const struct gdisk_where *w, const struct gchan_clock *c, unsigned note_every_ms,
	       const char *serial, const char *what, gchan_note_fn note, void *note_ctx,
	       char *dev, size_t cap);

#endif
