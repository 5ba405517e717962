/* Per-thread seccomp allowlists of ocivm-vmm (seccomp.c, README "Confinement").
 *
 * Each thread loads the filter of its kind as its first action; a thread
 * started by another one (the virtio I/O threads, started by a vCPU thread
 * when the guest sets DRIVER_OK) also keeps its parent's filter, so the
 * effective set is the intersection: the vCPU list therefore holds what
 * the I/O threads need.  Anything else kills the whole process (SIGSYS). */
#ifndef OCIVM_VMM_SECCOMP_H
#define OCIVM_VMM_SECCOMP_H

#include <stdbool.h>
#include <seccomp.h>

enum vmm_thread_kind {
	VMM_THREAD_MAIN,      /* waits for the end, tears down; the signal thread */
	VMM_THREAD_VCPU,      /* KVM_RUN and the device emulation it runs */
	VMM_THREAD_IO,        /* virtio-blk / virtio-console I/O threads */
	VMM_THREAD_CONTROL,   /* the control socket */
	VMM_THREAD_N,
};

const char *vmm_thread_kind_name(enum vmm_thread_kind k);
/* The filter of one kind (not loaded); own_pid limits tgkill to this
 * process.  0 or -errno. */
int vmm_seccomp_build(enum vmm_thread_kind k, int own_pid, scmp_filter_ctx *ret);
/* Build and load it for the calling thread (and threads it starts later). */
int vmm_seccomp_enter(enum vmm_thread_kind k);

#endif
