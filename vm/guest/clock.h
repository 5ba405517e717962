/* The guest's clock for the figures ocivm-init reports (EXITED's times of
 * an exec'd process, common/chan.h protocol 4), in microseconds.
 *
 * CLOCK_MONOTONIC when it has a fine resolution.  A guest under QEMU/TCG
 * has none: microvm gives it no HPET or ACPI PM timer, the TSC is not
 * registered, and the clocksource is (refined-)jiffies: 4 ms steps at
 * HZ=250, too coarse to time a process spawn.  There, on x86-64, the TSC
 * is read directly (under TCG it runs at the host's TSC rate) and scaled
 * by the rate the host measured and put on the kernel command line
 * (tsc_early_khz=, vm/driver/strv.c).  Differences only: the origin is
 * arbitrary. */
#ifndef OCIVM_GUEST_CLOCK_H
#define OCIVM_GUEST_CLOCK_H

#include <stdint.h>

uint64_t gclock_us(void);
/* "monotonic", "tsc" or "monotonic-coarse": which one gclock_us reads. */
const char *gclock_name(void);

#endif
