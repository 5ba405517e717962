/* What a VM must not share with its siblings, applied as soon as the SPEC
 * arrives and before anything else: fresh entropy, the wall clock, and
 * (restored from a template) disks probed again.  See vm/guest/README.md,
 * "Templates". */
#ifndef OCIVM_GUEST_FRESH_H
#define OCIVM_GUEST_FRESH_H

#include "plan.h"
#include "setup.h"

/* Mix plan->seed into the kernel's pool (RNDADDENTROPY, credited) and
 * reseed the CRNG (RNDRESEEDCRNG), set CLOCK_REALTIME to plan->clock, and
 * with plan->restored unbind and bind every virtio_blk device so the guest
 * reads the capacity of the disk it got at restore.  0 or -errno with a
 * reason in eb; what is absent from the plan is left alone. */
int gfresh_apply(const struct gplan *plan, gsetup_note_fn note, void *ctx, char *eb, size_t cap);

/* The container's /etc/machine-id (machine-id(5)) when its root has none
 * that says anything, after the config's mounts (a bundle that mounts its
 * own /etc/machine-id keeps it): absent, one of its own written into /etc
 * (the writable root's upper layer; a read-only /etc keeps it absent);
 * empty or "uninitialized", one of its own bind-mounted over it, read-only.
 * A random v4 UUID from the CRNG (reseeded with this VM's seed first): two
 * containers, of one template too, never share one.  A symlink, or a file
 * that says something, is left alone (the image's, as under runc). */
int gfresh_machine_id(const struct gplan *p, const char *root, gsetup_note_fn note, void *ctx,
		      char *eb, size_t cap);

#endif
