/* The caller's network in the guest (vm/guest/net.c). */
#ifndef OCIVM_GUEST_NET_H
#define OCIVM_GUEST_NET_H

#include <linux/if.h>
#include <stddef.h>

#include "chanopen.h"
#include "plan.h"
#include "setup.h"

/* lo up (always: runc does the same); then each NIC of the plan, found by
 * MAC (gnet_wait), renamed to the caller's name, MTU, up; its addresses;
 * its routes (on-link ones first).
 * 0, or -errno with the reason in eb. */
int gnet_apply(const struct gplan *p, gsetup_note_fn note, void *ctx, char *eb, size_t cap);

/* Each NIC of the plan by MAC under sysnet (/sys/class/net) into names;
 * restored (p->restored), the template's Nth NIC by its placeholder MAC,
 * which takes the plan's (ioctl on s).  No limit of its own: virtio_net
 * probes late on a slow TCG host, and the host's READY deadline ends a VM
 * whose NIC never comes; meanwhile every note_every_ms a note "waiting N s
 * for NIC i (eth0, MAC ...): interfaces: lo 00:..., ...".  0. */
int gnet_wait(const char *sysnet, const struct gchan_clock *c, unsigned note_every_ms, int s,
	      const struct gplan *p, gsetup_note_fn note, void *ctx, char names[][IFNAMSIZ]);

#endif
