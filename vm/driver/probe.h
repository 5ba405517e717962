/* vm/driver/ internals of the host probe, split out for unit tests. */
#ifndef OCIVM_VM_DRIVER_PROBE_H
#define OCIVM_VM_DRIVER_PROBE_H

#include <stdbool.h>

#include "vm/vm.h"

/* Above this a "KVM" emulates rather than runs guest code (hardware: ~0.3-2
 * ns; nested virtualisation: a few; kvm_pvm: ~1400). */
#define VM_PROBE_HW_NS_MAX 20.0

/* Fill driver/accel/kvm_hw_speed/reason from the measured ns_per_insn (ran:
 * the loop ran; pvm: kvm_pvm is loaded; why: why the loop could not run). */
void vm_probe_decide(struct vm_host_probe *p, bool ran, bool pvm, const char *why);
/* Host TSC rate in kHz (rdtsc against CLOCK_MONOTONIC_RAW over 20 ms). */
unsigned vm_probe_tsc_khz(void);

#endif
