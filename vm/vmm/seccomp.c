/* The per-thread seccomp allowlists of ocivm-vmm, built with libseccomp
 * (seccomp.h).  Default action: kill the process.  ioctl is allowed only
 * with the KVM request numbers each kind issues; mmap/mprotect never with
 * PROT_EXEC; clone only for threads (CLONE_THREAD), clone3 answers ENOSYS
 * so glibc falls back to clone; tgkill only inside this process. */
#include "vm/vmm/seccomp.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SECCOMP_SET_MODE_FILTER
#define SECCOMP_SET_MODE_FILTER 1
#endif

/* Every thread: memory, locks, signals, time, exit, I/O on fds it holds. */
static const int base_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(close),
	SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(brk), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall),
	SCMP_SYS(rseq), SCMP_SYS(set_robust_list), SCMP_SYS(getrandom), SCMP_SYS(lseek),
	SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(sched_getaffinity),
};
/* The virtio I/O threads: io_uring, the sync engine, eventfds, the console socket. */
static const int io_calls[] = {
	SCMP_SYS(io_uring_enter), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(pread64),
	SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(preadv2),
	SCMP_SYS(pwritev2), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fallocate),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(shutdown), SCMP_SYS(eventfd2),
};
static const int control_calls[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(accept4), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(shutdown), SCMP_SYS(pread64),
	SCMP_SYS(fcntl),
};
/* Main: waits, replaying coalesced UART writes every 5 ms (the 8250 model
 * may raise its IRQ and toggle coalescing then), then tears down (devices
 * unbind their ioeventfds and irqfds, OCIVM_VMM_STATS reads the KVM stats
 * fds); the signal thread's sigwait. */
static const int main_calls[] = {
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(pread64),
};

static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_IRQ_LINE, KVM_IOEVENTFD,
	KVM_REGISTER_COALESCED_MMIO, KVM_UNREGISTER_COALESCED_MMIO,
	TUNSETOFFLOAD,   /* virtio-net: the guest's offloads, at DRIVER_OK */
};
static const unsigned long main_ioctls[] = {
	KVM_GET_REGS, KVM_IOEVENTFD, KVM_IRQFD, KVM_IRQ_LINE,
	KVM_REGISTER_COALESCED_MMIO, KVM_UNREGISTER_COALESCED_MMIO,
};

const char *vmm_thread_kind_name(enum vmm_thread_kind k)
{
	static const char *const names[] = {
		[VMM_THREAD_MAIN] = "main", [VMM_THREAD_VCPU] = "vcpu",
		[VMM_THREAD_IO] = "io", [VMM_THREAD_CONTROL] = "control",
	};
	return k < VMM_THREAD_N ? names[k] : "?";
}

static int allow_all(scmp_filter_ctx f, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(f, SCMP_ACT_ALLOW, calls[i], 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static int allow_ioctls(scmp_filter_ctx f, const unsigned long *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					 SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)reqs[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Rules with arguments every kind shares. */
static int allow_common(scmp_filter_ctx f, int own_pid)
{
	int r;

	if ((r = allow_all(f, base_calls, sizeof(base_calls) / sizeof(*base_calls))) < 0)
		return r;
	if ((r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		return r;
	/* pthread_kill (vCPU kicks) and raise: this process only */
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)own_pid));
}

/* Starting threads (the vCPU threads start the I/O threads; main starts the
 * signal thread): clone with CLONE_THREAD only, and the new thread may
 * stack its own filter (libseccomp: prctl NO_NEW_PRIVS, seccomp). */
static int allow_threads(scmp_filter_ctx f)
{
	int r;

	if ((r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD))) < 0 ||
	    (r = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0 ||
	    (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 1,
				  SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER))) < 0)
		return r;
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS));
}

static int build_rules(scmp_filter_ctx f, enum vmm_thread_kind k, int own_pid)
{
	int r = allow_common(f, own_pid);
#define ALL(list) allow_all(f, list, sizeof(list) / sizeof(*list))
#define IOCTLS(list) allow_ioctls(f, list, sizeof(list) / sizeof(*list))
	if (r < 0)
		return r;
	switch (k) {
	case VMM_THREAD_VCPU:
		if ((r = ALL(io_calls)) < 0 || (r = allow_threads(f)) < 0)
			return r;
		return IOCTLS(vcpu_ioctls);
	case VMM_THREAD_IO:
		return ALL(io_calls);
	case VMM_THREAD_CONTROL:
		if ((r = ALL(control_calls)) < 0)
			return r;
		return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1,
					SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET));
	case VMM_THREAD_MAIN:
		if ((r = ALL(main_calls)) < 0 || (r = allow_threads(f)) < 0)
			return r;
		return IOCTLS(main_ioctls);
	default:
		return -EINVAL;
	}
#undef ALL
#undef IOCTLS
}

int vmm_seccomp_build(enum vmm_thread_kind k, int own_pid, scmp_filter_ctx *ret)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r;

	if (!f)
		return -ENOMEM;
	r = build_rules(f, k, own_pid);
	if (r < 0) {
		seccomp_release(f);
		return r;
	}
	*ret = f;
	return 0;
}

int vmm_seccomp_enter(enum vmm_thread_kind k)
{
	scmp_filter_ctx f;
	int r = vmm_seccomp_build(k, getpid(), &f);

	if (r < 0)
		return r;
	r = seccomp_load(f);
	seccomp_release(f);
	return r;
}
