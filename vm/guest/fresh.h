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

#endif
