/* Test double of vm/vm.h (see fake_vm.h).  Events are queued and an eventfd
 * makes vm_fd() readable, so the runtime's supervisor thread dispatches them
 * exactly as it would real ones. */
#include "fake_vm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct fake_ctl fake;

enum ev_kind { EV_STARTED, EV_OUTPUT, EV_ERROR, EV_EXIT };
struct fake_ev {
	enum ev_kind kind;
	int a;
	char text[256];
};

struct fake_proc {
	char run_dir[512];
	int alive, status, incarnation;
	struct vm *handle;
	struct fake_proc *next;
};

struct vm {
	struct fake_proc *proc;
	int incarnation;
	int efd;
	struct vm_callbacks cb;
	void *ctx;
	struct fake_ev q[64];
	int nq;
	int done;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct fake_proc *procs;

void fake_reset(void)
{
	pthread_mutex_lock(&mu);
	while (procs) {
		struct fake_proc *p = procs;
		procs = p->next;
		free(p);
	}
	memset(&fake, 0, sizeof(fake));
	pthread_mutex_unlock(&mu);
}

static struct fake_proc *find_proc(const char *run_dir)
{
	for (struct fake_proc *p = procs; p; p = p->next)
		if (strcmp(p->run_dir, run_dir) == 0)
			return p;
	return NULL;
}

static void push(struct vm *vm, enum ev_kind k, int a, const char *text)
{
	if (!vm || vm->nq >= 64)
		return;
	struct fake_ev *e = &vm->q[vm->nq++];
	e->kind = k;
	e->a = a;
	snprintf(e->text, sizeof(e->text), "%s", text ? text : "");
	uint64_t one = 1;
	if (write(vm->efd, &one, sizeof(one)) < 0)
		abort();
}

void fake_output(const char *run_dir, int stream, const char *text)
{
	pthread_mutex_lock(&mu);
	struct fake_proc *p = find_proc(run_dir);
	if (p)
		push(p->handle, EV_OUTPUT, stream, text);
	pthread_mutex_unlock(&mu);
}

void fake_exit(const char *run_dir, int status)
{
	pthread_mutex_lock(&mu);
	struct fake_proc *p = find_proc(run_dir);
	if (p && p->alive) {
		p->alive = 0;
		p->status = status;
		push(p->handle, EV_EXIT, status, NULL);
	}
	pthread_mutex_unlock(&mu);
}

int fake_alive(const char *run_dir)
{
	pthread_mutex_lock(&mu);
	struct fake_proc *p = find_proc(run_dir);
	int r = p && p->alive;
	pthread_mutex_unlock(&mu);
	return r;
}

int vm_probe_host(struct vm_host_probe *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->driver = VM_DRIVER_QEMU;
	ret->accel = VM_ACCEL_TCG;
	snprintf(ret->reason, sizeof(ret->reason), "fake VM driver for tests");
	return 0;
}

static struct vm *new_handle(struct fake_proc *p, const struct vm_callbacks *cb, void *ctx)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	vm->proc = p;
	vm->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->cb = *cb;
	vm->ctx = ctx;
	vm->incarnation = p->incarnation;
	p->handle = vm;
	return vm;
}

/* The real allowlist is vm/driver/params.c (test_vm_argv); here anything
 * starting with "-bad" is refused, to see ops name the JSON path. */
/* No namespace is entered here: the network is read as empty (only lo). */
int vm_net_read(const char *netns, struct vm_net *ret, struct oerr *err)
{
	memset(ret, 0, sizeof(*ret));
	return 0;
}

int vm_hypervisor_params_check(const struct vm_config *cfg, struct oerr *err)
{
	for (size_t i = 0; i < cfg->n_hypervisor_params; i++)
		if (strncmp(cfg->hypervisor_params[i], "-bad", 4) == 0)
			return oerr_set(err, EINVAL, "parameters[%zu] \"%s\": not on the allowlist",
					i, cfg->hypervisor_params[i]);
	return 0;
}

int vm_create(const struct vm_config *cfg, const struct vm_callbacks *cb, void *ctx,
	      struct vm **ret, struct oerr *err)
{
	pthread_mutex_lock(&mu);
	fake.creates++;
	snprintf(fake.last_gspec, sizeof(fake.last_gspec), "%.*s", (int)cfg->gspec_len, cfg->gspec);
	snprintf(fake.last_hypervisor, sizeof(fake.last_hypervisor), "%s",
		 cfg->hypervisor_path ? cfg->hypervisor_path : "");
	fake.last_vcpus = cfg->vcpus;
	fake.last_uid = cfg->confine && cfg->confine->on ? cfg->confine->uid : 0;
	fake.last_res = cfg->res ? *cfg->res : (struct vm_resources){ 0 };
	fake.last_res.cpus = NULL;
	fake.last_mib = cfg->memory_mib;
	if (fake.create_hang_mark[0]) {
		pthread_mutex_unlock(&mu);
		close(open(fake.create_hang_mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
		for (;;)
			pause();
	}
	if (fake.create_rc) {
		pthread_mutex_unlock(&mu);
		return oerr_set(err, -fake.create_rc, "fake: the VM did not become ready");
	}
	struct fake_proc *p = find_proc(cfg->run_dir);
	if (!p) {
		p = calloc(1, sizeof(*p));
		snprintf(p->run_dir, sizeof(p->run_dir), "%s", cfg->run_dir);
		p->next = procs;
		procs = p;
	}
	p->alive = 1;
	p->incarnation++;
	fake.live++;
	*ret = new_handle(p, cb, ctx);
	pthread_mutex_unlock(&mu);
	return 0;
}

int vm_attach(const char *run_dir, const struct vm_callbacks *cb, void *ctx,
	      const uint64_t *have, struct vm **ret, int *ret_status, struct oerr *err)
{
	pthread_mutex_lock(&mu);
	struct fake_proc *p = find_proc(run_dir);
	int r = 0;
	if (!p || !p->alive) {
		*ret_status = p ? p->status : 255;
		r = oerr_set(err, ESRCH, "fake: no VM in %s", run_dir);
	} else {
		*ret = new_handle(p, cb, ctx);
	}
	pthread_mutex_unlock(&mu);
	return r;
}

int vm_start(struct vm *vm, struct oerr *err)
{
	pthread_mutex_lock(&mu);
	if (fake.start == FAKE_START_OK)
		push(vm, EV_STARTED, 42, NULL);
	else if (fake.start == FAKE_START_ERROR)
		push(vm, EV_ERROR, 0, "exec /bin/sh: no such file");
	pthread_mutex_unlock(&mu);
	return 0;
}

int vm_signal(struct vm *vm, int signo, struct oerr *err)
{
	pthread_mutex_lock(&mu);
	if (fake.signal_rc) {
		int r = fake.signal_rc;
		pthread_mutex_unlock(&mu);
		return oerr_set(err, -r, "the channel to ocivm-init is closed");
	}
	fake.last_signal = signo;
	if ((signo == SIGKILL || signo == SIGTERM) && vm->proc->alive) {
		vm->proc->alive = 0;
		vm->proc->status = 128 + signo;
		push(vm, EV_EXIT, 128 + signo, NULL);
	}
	pthread_mutex_unlock(&mu);
	return 0;
}

int vm_write_stdin(struct vm *vm, const void *buf, size_t len, struct oerr *err)
{
	pthread_mutex_lock(&mu);
	size_t n = len < sizeof(fake.stdin_buf) - fake.stdin_len ? len : sizeof(fake.stdin_buf) - fake.stdin_len;
	memcpy(fake.stdin_buf + fake.stdin_len, buf, n);
	fake.stdin_len += n;
	pthread_mutex_unlock(&mu);
	return 0;
}

int vm_close_stdin(struct vm *vm, struct oerr *err) { return 0; }

/* Exec'd processes: started at once (the callback runs on the caller's
 * thread, as vm_dispatch's would, without ops' lock); SIGKILL/SIGTERM end
 * them with 128+signal; a name "fail" in the gspec's args fails to start. */
int vm_exec(struct vm *vm, unsigned proc, const char *gspec, size_t len, struct oerr *err)
{
	if (memmem(gspec, len, "arg nosuchfile", 14)) {
		if (vm->cb.on_proc_error)
			vm->cb.on_proc_error(vm->ctx, proc, "nosuchfile: executable file not found in $PATH");
		if (vm->cb.on_proc_exit)
			vm->cb.on_proc_exit(vm->ctx, proc, 127, NULL);
		return 0;
	}
	if (vm->cb.on_proc_started)
		vm->cb.on_proc_started(vm->ctx, proc, (pid_t)(100 + proc));
	if (vm->cb.on_proc_output)
		vm->cb.on_proc_output(vm->ctx, proc, 1, "hi\n", 3);
	return 0;
}

int vm_proc_signal(struct vm *vm, unsigned proc, int signo, struct oerr *err)
{
	if (proc == 0)
		return vm_signal(vm, signo, err);
	if ((signo == SIGKILL || signo == SIGTERM) && vm->cb.on_proc_exit)
		vm->cb.on_proc_exit(vm->ctx, proc, 128 + signo, NULL);
	return 0;
}

int vm_proc_write_stdin(struct vm *vm, unsigned proc, const void *buf, size_t len,
			struct oerr *err)
{
	return proc ? 0 : vm_write_stdin(vm, buf, len, err);
}

int vm_proc_close_stdin(struct vm *vm, unsigned proc, struct oerr *err) { return 0; }

int vm_proc_resize(struct vm *vm, unsigned proc, unsigned rows, unsigned cols,
		   struct oerr *err)
{
	return 0;
}
int vm_pause(struct vm *vm, struct oerr *err) { return 0; }
int vm_resume(struct vm *vm, struct oerr *err) { return 0; }
int vm_fd(const struct vm *vm) { return vm->efd; }
pid_t vm_pid(const struct vm *vm) { return 4242; }

int vm_dispatch(struct vm *vm)
{
	uint64_t v;
	struct fake_ev q[64];
	int nq;

	pthread_mutex_lock(&mu);
	if (read(vm->efd, &v, sizeof(v)) < 0) {
		/* nothing pending */
	}
	nq = vm->nq;
	memcpy(q, vm->q, sizeof(q[0]) * (size_t)nq);
	vm->nq = 0;
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < nq && !vm->done; i++) {
		switch (q[i].kind) {
		case EV_STARTED: vm->cb.on_started(vm->ctx, q[i].a); break;
		case EV_OUTPUT: vm->cb.on_output(vm->ctx, q[i].a, q[i].text, strlen(q[i].text)); break;
		case EV_ERROR: vm->cb.on_error(vm->ctx, q[i].text); break;
		case EV_EXIT:
			vm->done = 1;
			vm->cb.on_exit(vm->ctx, q[i].a, NULL);
			break;
		}
	}
	return vm->done;
}

static void drop_handle(struct vm *vm)
{
	pthread_mutex_lock(&mu);
	if (vm->proc->handle == vm)
		vm->proc->handle = NULL;
	pthread_mutex_unlock(&mu);
	close(vm->efd);
	free(vm);
}

int vm_destroy(struct vm *vm, unsigned grace_ms)
{
	pthread_mutex_lock(&mu);
	fake.destroys++;
	if (vm->proc->alive && vm->incarnation == vm->proc->incarnation) {
		vm->proc->alive = 0;
		vm->proc->status = 128 + SIGKILL;
	}
	fake.live--;
	pthread_mutex_unlock(&mu);
	drop_handle(vm);
	return 0;
}

void vm_free(struct vm *vm)
{
	drop_handle(vm);
}

void vm_get_info(const struct vm *vm, struct vm_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->driver = "qemu";
	ret->accel = "tcg";
	ret->cmdline = "qemu-system-x86_64 -M microvm";
	ret->kernel_cmdline = "console=hvc0";
	pthread_mutex_lock(&mu);
	ret->vcpus = fake.last_vcpus;
	ret->memory_mib = fake.last_mib;
	pthread_mutex_unlock(&mu);
	ret->ready_ms = 12.5;
	ret->confinement = "user nobody uid 65534 gid 65534";
}

/* Confinement is the driver's business: the fake only says what it got. */
int vm_confine_init(const char *user, bool no_confine, struct vm_confine *ret,
		    struct oerr *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->on = !no_confine;
	snprintf(ret->user, sizeof(ret->user), "%s", user ? user : "nobody");
	ret->uid = ret->gid = 65534;
	return 0;
}

int vm_confinement_text(const char *run_dir, char **ret)
{
	*ret = strdup("");
	return *ret ? 0 : -ENOMEM;
}

int vm_cgroup_text(const char *run_dir, char **ret)
{
	*ret = strdup("cgroup /fake\nmemory.current 1\n");
	return *ret ? 0 : -ENOMEM;
}

int vm_image_acquire(const char *cache_dir, const char *rootfs_dir, const char *owner,
		     char **ret_path, struct oerr *err)
{
	pthread_mutex_lock(&mu);
	int rc = fake.image_rc;
	if (!rc)
		fake.image_refs++;
	pthread_mutex_unlock(&mu);
	if (rc)
		return oerr_set(err, -rc, "fake: cannot build an image of %s", rootfs_dir);
	return asprintf(ret_path, "%s/images/fake.ext4", cache_dir) < 0 ? -ENOMEM : 0;
}

void vm_image_reclaim(const char *cache_dir, unsigned *ret_tmps, unsigned *ret_locks)
{
	*ret_tmps = 0;
	*ret_locks = 0;
}

int vm_image_release(const char *cache_dir, const char *owner, struct oerr *err)
{
	pthread_mutex_lock(&mu);
	fake.image_refs--;
	pthread_mutex_unlock(&mu);
	return 0;
}

/* Templates: the fake keeps none (the real store: test_vm_template). */
struct vm_templates { int unused; };
int vm_templates_open(const char *dir, struct vm_templates **ret, struct oerr *err)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : oerr_set(err, ENOMEM, "out of memory");
}
void vm_templates_close(struct vm_templates *t) { free(t); }
const char *vm_templates_dir(const struct vm_templates *t) { return "/nonexistent"; }
int vm_templates_list(struct vm_templates *t, struct vm_template_info **ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	return 0;
}
int vm_templates_get(struct vm_templates *t, const char *key, struct vm_template_info *ret)
{
	return -ENOENT;
}
int vm_templates_inputs(struct vm_templates *t, const char *key, char **ret) { return -ENOENT; }
int vm_templates_remove(struct vm_templates *t, const char *key, struct oerr *err)
{
	return oerr_set(err, ENOENT, "template %.16s: no such template", key);
}
