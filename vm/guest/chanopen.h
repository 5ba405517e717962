/* ocivm-init's channel to the host: the virtio port named org.ocivm.chan
 * (QEMU's virtserialport) or /dev/hvc0 (ocivm-vmm's single-port console).
 * It is waited for without a limit of its own: how long a boot takes
 * depends on the host's load (TCG), and the host's deadline ends a VM
 * whose channel never comes.  Meanwhile a line on the console every few
 * seconds says what is missing, so that the host's timeout (which quotes
 * the console) carries a reason. */
#ifndef OCIVM_GUEST_CHANOPEN_H
#define OCIVM_GUEST_CHANOPEN_H

#include <stddef.h>
#include <stdint.h>

#define GCHAN_VPORT_NAME "org.ocivm.chan"
#define GCHAN_HVC "/dev/hvc0"
#define GCHAN_NOTE_EVERY_MS 5000

/* Where to look (the real paths; a unit test points them at a directory). */
struct gchan_where {
	const char *ports;     /* /sys/class/virtio-ports */
	const char *devices;   /* /sys/bus/virtio/devices */
	const char *dev;       /* /dev (the port's node) */
	const char *hvc;       /* /dev/hvc0 */
};

extern const struct gchan_where gchan_where_real;

/* The clock and the nap between two looks (a unit test fakes both). */
struct gchan_clock {
	uint64_t (*now_ms)(void *ctx);
	void (*nap_ms)(void *ctx, unsigned ms);
	void *ctx;
};

extern const struct gchan_clock gchan_clock_real;

typedef void (*gchan_note_fn)(void *ctx, const char *msg);

/* The first line of dir/entry/file (a sysfs attribute) into buf, without
 * its newline: its length, or -1.  Used by the channel, disk and NIC looks. */
int gchan_attr(const char *dir, const char *entry, const char *file, char *buf, size_t cap);
/* Append to a look's why (always terminated; cut when full). */
void gchan_why_add(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One look: the channel's fd (*ret_vport 1 for the named port, 0 for
 * hvc0 in raw mode; its path in path), or -errno with why it is not there
 * yet in why ("no virtio port named ...; ports: ...; ..."). */
int gchan_try(const struct gchan_where *w, int *ret_vport, char *path, size_t cap,
	      char *why, size_t wcap);

/* One look of a wait: >= 0 (done: gchan_wait returns it), -EAGAIN (not
 * yet: why says what is seen instead), or another -errno (give up). */
typedef int (*gchan_look_fn)(void *ctx, char *why, size_t wcap);

/* The wait of ocivm-init for what a (slow) boot brings late: its channel,
 * a disk, a NIC.  Looks every 10 ms with no limit of its own; every
 * note_every_ms, a note "waiting N s for WHAT: WHY".  Returns what the
 * last look returned; *ret_ms (if not NULL) the time waited. */
int gchan_wait(const struct gchan_clock *c, unsigned note_every_ms, const char *what,
	       gchan_look_fn look, void *look_ctx, gchan_note_fn note, void *note_ctx,
	       uint64_t *ret_ms);

/* Look every 10 ms until the channel is there (gchan_wait); every note_every_ms, a
 * note "waiting N s for the channel: WHY".  Once found, a note
 * "channel: PATH ..." (with the time waited).  Returns the fd. */
int gchan_open(const struct gchan_where *w, const struct gchan_clock *c, unsigned note_every_ms,
	       gchan_note_fn note, void *note_ctx, int *ret_vport);

#endif
