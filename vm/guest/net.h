/* The caller's network in the guest (vm/guest/net.c). */
#ifndef OCIVM_GUEST_NET_H
#define OCIVM_GUEST_NET_H

#include <stddef.h>

#include "plan.h"
#include "setup.h"

/* lo up (always: runc does the same); then each NIC of the plan, found by
 * MAC (waiting up to 10 s for virtio_net to probe it), renamed to the
 * caller's name, MTU, up; its addresses; its routes (on-link ones first).
 * 0, or -errno with the reason in eb. */
int gnet_apply(const struct gplan *p, gsetup_note_fn note, void *ctx, char *eb, size_t cap);

#endif
