#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "vm/vmm/seccomp.h"
#include "vm/vmm/vmm.h"

#define SIG_KICK SIGUSR1

static void on_kick(int sig) { (void)sig; }

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Make every vCPU leave KVM_RUN soon (immediate_exit closes the window
 * between checking the run state and entering the guest). */
static void kick_all(struct kvm_vm *vm)
{
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		if (!c->started)
			continue;
		__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (!pthread_equal(c->thread, pthread_self()))
			pthread_kill(c->thread, SIG_KICK);
	}
}

void kvm_vm_finish(struct kvm_vm *vm, enum exit_action action, const char *msg)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->done) {
		vm->done = true;
		vm->result = action;
		snprintf(vm->result_msg, sizeof(vm->result_msg), "%s", msg ? msg : "");
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	kick_all(vm);
}

/* Returns false when the VM is done. */
static bool park_if_paused(struct kvm_vm *vm)
{
	bool done;

	pthread_mutex_lock(&vm->lock);
	if (vm->paused && !vm->done) {
		vm->parked++;
		pthread_cond_broadcast(&vm->cond);
		while (vm->paused && !vm->done)
			pthread_cond_wait(&vm->cond, &vm->lock);
		vm->parked--;
	}
	done = vm->done;
	pthread_mutex_unlock(&vm->lock);
	return !done;
}

static void finish_with_rip(struct vcpu *c, enum exit_action a, const char *why)
{
	struct kvm_regs r;
	char msg[256];

	if (ioctl(c->fd, KVM_GET_REGS, &r) == 0)
		snprintf(msg, sizeof(msg), "vCPU %u: %s (rip 0x%llx)", c->index, why,
			 (unsigned long long)r.rip);
	else
		snprintf(msg, sizeof(msg), "vCPU %u: %s", c->index, why);
	kvm_vm_finish(c->vm, a, msg);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct kvm_vm *vm = c->vm;
	struct exit_ctx ctx = { .pio = &vm->pio, .mmio = &vm->mmio, .stats = &vm->stats };
	sigset_t set;

	if (vm->seccomp && vmm_seccomp_enter(VMM_THREAD_VCPU) < 0) {
		kvm_vm_finish(vm, EXIT_INTERNAL, "vCPU thread: cannot load its seccomp filter");
		return NULL;
	}
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (park_if_paused(vm)) {
		if (c->index == 0 && vm->first_run_ns == 0)
			vm->first_run_ns = now_ns();
		int rr = ioctl(c->fd, KVM_RUN, 0);
		int e = errno;
		coalesce_drain(&vm->coalesce, &vm->pio, &vm->mmio);   /* before any exit */
		if (rr < 0) {
			__atomic_store_n(&c->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			if (e == EINTR || e == EAGAIN)
				continue;   /* kicked, or an AP after INIT (kvm_pvm) */
			char why[96];
			snprintf(why, sizeof(why), "KVM_RUN: %s", strerror(e));
			finish_with_rip(c, EXIT_INTERNAL, why);
			break;
		}
		enum exit_action a = handle_exit(&ctx, c->run);
		if (a != EXIT_CONTINUE) {
			finish_with_rip(c, a, ctx.reason);
			break;
		}
	}
	return NULL;
}

int vcpus_start(struct kvm_vm *vm, struct oerr *err)
{
	struct sigaction sa = { .sa_handler = on_kick };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL) < 0)
		return oerr_sys(err, errno, "sigaction");
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		int r = pthread_create(&c->thread, NULL, vcpu_thread, c);
		if (r != 0) {
			kvm_vm_finish(vm, EXIT_INTERNAL, "cannot start vCPU threads");
			return oerr_sys(err, r, "pthread_create (vCPU %u)", i);
		}
		c->started = true;
	}
	return 0;
}

int kvm_vm_pause(struct kvm_vm *vm)
{
	unsigned n = 0;

	pthread_mutex_lock(&vm->lock);
	vm->paused = true;
	pthread_mutex_unlock(&vm->lock);
	kick_all(vm);
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		n += vm->vcpus[i].started;
	while (vm->parked < n && !vm->done)
		pthread_cond_wait(&vm->cond, &vm->lock);
	int r = vm->done ? -ESRCH : 0;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int kvm_vm_resume(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	int r = vm->done ? -ESRCH : 0;
	vm->paused = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return r;
}

bool kvm_vm_is_paused(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	bool p = vm->paused;
	pthread_mutex_unlock(&vm->lock);
	return p;
}

/* Replays deferred UART writes every DRAIN_MS while waiting. */
#define DRAIN_MS 5

int kvm_vm_wait(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	while (!vm->done) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += DRAIN_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&vm->cond, &vm->lock, &ts);
		pthread_mutex_unlock(&vm->lock);
		coalesce_drain(&vm->coalesce, &vm->pio, &vm->mmio);
		pthread_mutex_lock(&vm->lock);
	}
	pthread_mutex_unlock(&vm->lock);
	kick_all(vm);
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	coalesce_drain(&vm->coalesce, &vm->pio, &vm->mmio);   /* the last bytes */
	return exit_action_status(vm->result);
}
