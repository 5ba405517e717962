/* vm/driver/fresh.c: the SPEC's per-VM records (seed, clock, restored). */
#ifndef OCIVM_VM_DRIVER_FRESH_H
#define OCIVM_VM_DRIVER_FRESH_H

#include <stdbool.h>
#include <stddef.h>

#define VM_FRESH_SEED_BYTES 32

/* gspec (ending in "end\n") with "seed HEX", "clock SEC NSEC" and
 * "restored 0|1" inserted before its end: malloc'd into *ret.  0, or
 * -EINVAL (no end record), -ENOMEM, or getrandom's -errno. */
int vm_gspec_fresh(const char *gspec, size_t len, bool restored, char **ret, size_t *ret_len);

#endif
