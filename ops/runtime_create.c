/* ops_create: validate, persist "creating", acquire the rootfs image, build
 * the gspec, boot the VM, run the create hooks; on any failure undo every
 * step so nothing is left behind. */
#include "ops/runtime_int.h"
#include "ops/hooks.h"
#include "ops/hostref.h"
#include "cleanup.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct create_opts {
	pid_t shim_pid;
	int terminal; /* -1: from the config */
};

static int parse_kv(const char *const *kv, size_t n, struct create_opts *o, struct oerr *err)
{
	o->shim_pid = 0;
	o->terminal = -1;
	for (size_t i = 0; i < n; i++) {
		const char *s = kv[i];
		char *end;
		if (strncmp(s, "pid=", 4) == 0) {
			long v = strtol(s + 4, &end, 10);
			if (end == s + 4 || *end || v <= 0 || v > INT32_MAX)
				return oerr_set(err, EINVAL, "create: bad pid \"%.32s\"", s + 4);
			o->shim_pid = (pid_t)v;
		} else if (strcmp(s, "terminal=0") == 0 || strcmp(s, "terminal=1") == 0) {
			o->terminal = s[9] == '1';
		} else {
			return oerr_set(err, EINVAL, "create: unknown option \"%.64s\" (pid=N, terminal=0|1)", s);
		}
	}
	return 0;
}

static int check_bundle(const char *bundle, char **ret_real, struct oerr *err)
{
	struct stat st;

	if (!bundle || bundle[0] != '/')
		return oerr_set(err, EINVAL, "bundle: must be an absolute path");
	char *real = realpath(bundle, NULL);
	if (!real && (errno == ENOENT || errno == ENOTDIR))
		return oerr_set(err, EINVAL, "bundle %s: no such directory", bundle);
	if (!real)
		return oerr_sys(err, errno, "bundle %s", bundle);
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(real);
		return oerr_set(err, EINVAL, "bundle %s: not a directory", bundle);
	}
	*ret_real = real;
	return 0;
}

/* Rootfs directory: root.path, relative to the bundle unless absolute. */
static char *rootfs_dir(const struct ctr *c)
{
	char *p = NULL;
	const char *r = c->cfg->root_path;
	if (r[0] == '/')
		return strdup(r);
	return asprintf(&p, "%s/%s", c->rec.bundle, r) < 0 ? NULL : p;
}

static void asprintf_or_null(char **ret, const char *fmt, const char *arg)
{
	if (asprintf(ret, fmt, arg) < 0)
		*ret = NULL;
}

static void fill_vm_desc(struct ctr *c, struct vm *vm)
{
	struct vm_info in = { 0 };
	struct ops_vm_desc *d = &c->rec.vm;

	vm_get_info(vm, &in);
	ops_vm_desc_free(d);
	d->driver = in.driver ? strdup(in.driver) : NULL;
	d->accel = in.accel ? strdup(in.accel) : NULL;
	d->hypervisor_cmdline = in.cmdline ? strdup(in.cmdline) : NULL;
	d->kernel_cmdline = in.kernel_cmdline ? strdup(in.kernel_cmdline) : NULL;
	d->vcpus = in.vcpus;
	d->memory_mib = in.memory_mib;
	d->spawn_ms = in.spawn_ms;
	d->hello_ms = in.hello_ms;
	d->ready_ms = in.ready_ms;
	if (in.template_key && in.template_key[0])
		asprintf_or_null(&d->tpl, "restored %s", in.template_key);
	else if (in.template_error && in.template_error[0])
		asprintf_or_null(&d->tpl, "cold: %s", in.template_error);
	else
		d->tpl = strdup("cold");
	/* a template that failed: the create went on cold, the reason stays */
	if (in.template_error && in.template_error[0])
		snprintf(c->rec.last_error, sizeof(c->rec.last_error), "template: %s; booted cold",
			 in.template_error);
}

struct boot {
	char *image, *gspec, *run_dir;
	size_t gspec_len;
	struct vm_disk disks[2];
	struct vm_config vc;
	struct vm_resources res;
	struct vm_confine confine;
	struct vm_net net;           /* the caller's network (linux.namespaces) */
};

/* linux.resources.cpu -> the hypervisor's cgroup (quota/period also set the
 * vCPU count: ops_config_vm_shape). */
static void boot_resources(const struct ops_linux *l, struct vm_resources *r)
{
	*r = (struct vm_resources){ 0 };
	if (l->has_cpu_quota && l->cpu_quota > 0) {
		r->cpu_quota = (uint64_t)l->cpu_quota;
		r->cpu_period = l->has_cpu_period ? l->cpu_period : 100000;
	}
	if (l->has_cpu_shares)
		r->cpu_shares = l->cpu_shares;
	r->cpus = l->cpus;
}

static int boot_config(struct ops *ops, struct ctr *c, bool terminal, struct boot *b,
		       struct oerr *err)
{
	const struct ops_vm *v = &c->cfg->vm;
	unsigned vcpus;
	uint64_t mib;

	char note[512];
	const char *netns = ops_config_netns(c->cfg);
	int r = netns ? vm_net_read(netns, &b->net, err) : 0;
	if (r < 0)
		return r;
	if (b->net.dropped)
		ops_logf(ops, "%s: warning: %s: %u addresses or routes beyond the limits (%d and "
			 "%d per interface) are not given to the guest", c->rec.id, netns,
			 b->net.dropped, VM_NET_MAX_ADDRS, VM_NET_MAX_ROUTES);
	r = ops_build_gspec(c->cfg, c->rec.id, terminal, v->has_image, &b->net, &b->gspec,
			    &b->gspec_len, note, sizeof(note), err);
	if (r < 0)
		return r;
	if (note[0])
		ops_logf(ops, "%s: warning: process.capabilities.ambient: %s", c->rec.id, note);
	if (asprintf(&b->run_dir, "%s/vm", c->dir) < 0)
		return oerr_set(err, ENOMEM, "out of memory");
	if (mkdir(b->run_dir, 0700) < 0 && errno != EEXIST)
		return oerr_sys(err, errno, "%s", b->run_dir);
	ops_config_vm_shape(c->cfg, ops->def_vcpus, ops->def_mib, &vcpus, &mib);
	/* Both disks are attached read-only: the rootfs image is shared by every
	 * container made from the same tree, and the guest mounts both as
	 * overlay lower layers (a tmpfs upper unless root.readonly). */
	b->disks[0] = (struct vm_disk){ b->image, "rootfs", true };
	b->disks[1] = (struct vm_disk){ v->image_path, "image", true };
	b->vc = (struct vm_config){
		.id = c->rec.id, .run_dir = b->run_dir, .driver = ops->driver,
		.probe = &ops->probe,
		.kernel = v->kernel_path ? v->kernel_path : ops->kernel,
		.initrd = v->initrd ? v->initrd : ops->initrd,
		.kernel_params = (const char *const *)v->kernel_params.v,
		.n_kernel_params = v->kernel_params.n,
		.vcpus = vcpus, .memory_mib = mib,
		.disks = b->disks, .n_disks = v->has_image ? 2 : 1,
		.gspec = b->gspec, .gspec_len = b->gspec_len,
		.confine = &b->confine, .res = &b->res,
		.templates = ops->templates,
		.netns = netns, .net = &b->net,
	};
	if ((r = ops_vmuid_pick(ops, c, &b->confine, err)) < 0)
		return r;
	boot_resources(&c->cfg->linux_, &b->res);
	if (v->has_hypervisor) {
		b->vc.driver = ops_hostref_driver(ops, v);
		b->vc.hypervisor_path = v->hypervisor_path;
		b->vc.hypervisor_params = (const char *const *)v->hypervisor_params.v;
		b->vc.n_hypervisor_params = v->hypervisor_params.n;
	} else {
		enum vm_driver d = vm_driver_choose(ops->driver, &ops->probe);
		b->vc.hypervisor_path = d == VM_DRIVER_VMM ? ops->vmm_path :
					d == VM_DRIVER_QEMU ? ops->qemu_path : NULL;
	}
	if (!b->vc.kernel)
		return oerr_set(err, EINVAL, "vm.kernel.path: not set, and the daemon has no default kernel");
	return 0;
}

/* "SERIAL PATH ro|rw" per disk, one a line. */
static void describe_disks(const struct boot *b, char **ret)
{
	char *s = NULL, *prev;

	for (size_t i = 0; i < b->vc.n_disks; i++) {
		const struct vm_disk *d = &b->disks[i];
		prev = s;
		if (asprintf(&s, "%s%s%s %s %s", prev ? prev : "", prev ? "\n" : "", d->serial,
			     d->path, d->readonly ? "ro" : "rw") < 0)
			s = NULL;
		free(prev);
		if (!s)
			return;
	}
	free(*ret);
	*ret = s;
}

static void boot_free(struct boot *b)
{
	free(b->image);
	free(b->gspec);
	free(b->run_dir);
}

int ops_run_hooks(struct ops *ops, struct ctr *c, enum ops_hook_kind k, struct oerr *err)
{
	_cleanup_free_ char *state = NULL;
	char path[PATH_MAX];

	if (!c->cfg || !c->cfg->hooks[k].n)
		return 0;
	pthread_mutex_lock(&ops->lock);
	ops_state_text(ops, c, &state);
	pthread_mutex_unlock(&ops->lock);
	snprintf(path, sizeof(path), "%s/hooks.log", c->dir);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	return ops_hooks_run(c->cfg, k, state ? state : "{}", fd, OPS_HOOK_DEFAULT_TIMEOUT, err);
}

static void warn_cb(void *ctx, const char *msg)
{
	struct ctr *c = ctx;
	ops_logf(c->ops, "%s: warning: %s", c->rec.id, msg);
}

/* poststart and poststop (runtime.md): every hook runs, a failure is only
 * logged as a warning and the lifecycle goes on. */
void ops_run_hooks_warn(struct ops *ops, struct ctr *c, enum ops_hook_kind k)
{
	_cleanup_free_ char *state = NULL;
	char path[PATH_MAX];

	if (!c->cfg || !c->cfg->hooks[k].n)
		return;
	pthread_mutex_lock(&ops->lock);
	ops_state_text(ops, c, &state);
	pthread_mutex_unlock(&ops->lock);
	snprintf(path, sizeof(path), "%s/hooks.log", c->dir);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ops_hooks_run_all(c->cfg, k, state ? state : "{}", fd, OPS_HOOK_DEFAULT_TIMEOUT, warn_cb, c);
}

void ops_run_poststop(struct ops *ops, struct ctr *c)
{
	ops_run_hooks_warn(ops, c, OPS_HOOK_POSTSTOP);
}

static int save_locked(struct ops *ops, struct ctr *c, struct oerr *err)
{
	pthread_mutex_lock(&ops->lock);
	int r = ops_store_save(c->dir, &c->rec, err);
	pthread_mutex_unlock(&ops->lock);
	return r;
}

/* Everything a create does, in order; ops_create undoes it on failure. */
static int create_steps(struct ops *ops, struct ctr *c, const struct create_opts *o,
			struct oerr *err)
{
	char path[PATH_MAX];
	struct boot b = { 0 };
	struct vm *vm = NULL;
	int r;

	if (mkdir(c->dir, 0700) < 0)
		return errno == EEXIST ? oerr_set(err, EEXIST, "%s: a state directory for this id already exists", c->dir)
				       : oerr_sys(err, errno == ENOSPC ? ENOSPC : errno, "%s", c->dir);
	c->dir_made = true;
	if ((r = ops_store_reserve(c->dir, err)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/config.json", c->dir);
	if ((r = file_write_atomic(path, c->config_text, strlen(c->config_text), 0644)) < 0)
		return oerr_sys(err, -r, "%s", path);
	if ((r = ops_open_streams(c, err)) < 0 || (r = save_locked(ops, c, err)) < 0)
		return r;
	_cleanup_free_ char *rootfs = rootfs_dir(c);
	if (!rootfs)
		return oerr_set(err, ENOMEM, "out of memory");
	if ((r = vm_image_acquire(ops->cache_dir, rootfs, c->rec.id, &b.image, err)) < 0) {
		/* mke2fs's exit status carries no errno: a full state dir shows
		 * only in its message, and the tree promises ENOSPC for it */
		if (r == -EIO && strstr(err->msg, strerror(ENOSPC))) {
			err->code = ENOSPC;
			r = -ENOSPC;
		}
		oerr_prefix(err, "root.path: ");
		return r;
	}
	c->rec.image_held = true;
	if ((r = save_locked(ops, c, err)) < 0)
		goto out;
	bool terminal = o->terminal >= 0 ? o->terminal : c->cfg->process.terminal;
	if ((r = boot_config(ops, c, terminal, &b, err)) < 0)
		goto out;
	r = vm_create(&b.vc, &ops_vm_callbacks, c, &vm, err);
	if (r < 0)
		goto out;
	pthread_mutex_lock(&ops->lock);
	c->vm = vm;
	c->rec.vmm_pid = vm_pid(vm);
	fill_vm_desc(c, vm);
	struct vm_info vi;
	vm_get_info(vm, &vi);
	if (c->rec.vm.tpl && strncmp(c->rec.vm.tpl, "cold: ", 6) == 0)
		ops_logf(ops, "%s: template not used (%s); booted cold", c->rec.id,
			 c->rec.vm.tpl + 6);
	else if (c->rec.vm.tpl && strncmp(c->rec.vm.tpl, "restored ", 9) == 0) {
		struct vm_info ti;
		vm_get_info(vm, &ti);
		ops_logf(ops, "%s: restored from template %.16s (%s; READY at %.0f ms)", c->rec.id,
			 c->rec.vm.tpl + 9, ti.template_timing ? ti.template_timing : "",
			 ti.ready_ms);
	}
	ops_logf(ops, "%s: VM process %d %s", c->rec.id, (int)vm_pid(vm),
		 vi.confinement && vi.confinement[0] ? vi.confinement : "runs unconfined, as the daemon's user");
	c->rec.vm.kernel = strdup(b.vc.kernel);
	describe_disks(&b, &c->rec.vm.disks);
	pthread_mutex_unlock(&ops->lock);
	if ((r = ops_run_hooks(ops, c, OPS_HOOK_PRESTART, err)) < 0 ||
	    (r = ops_run_hooks(ops, c, OPS_HOOK_CREATE_RUNTIME, err)) < 0 ||
	    (r = ops_run_hooks(ops, c, OPS_HOOK_CREATE_CONTAINER, err)) < 0)
		goto out;
out:
	boot_free(&b);
	return r;
}

static void create_undo(struct ops *ops, struct ctr *c)
{
	pthread_mutex_lock(&ops->lock);
	struct vm *vm = ops_take_vm(ops, c);
	pthread_mutex_unlock(&ops->lock);
	if (vm) {
		vm_destroy(vm, OPS_DESTROY_GRACE_MS);
		ops_run_poststop(ops, c); /* the lifecycle continues at delete */
	}
	if (c->rec.image_held)
		vm_image_release(ops->cache_dir, c->rec.id, NULL);
	c->rec.image_held = false;
	ops_close_streams(c);
	if (c->dir_made)   /* not a directory this create found there */
		ops_store_remove(c->dir);
}

static int create_prepare(struct ops *ops, const char *id, const char *bundle,
			  struct ctr **ret, struct oerr *err)
{
	_cleanup_free_ char *real = NULL, *text = NULL;
	struct ops_config *cfg = NULL;
	int r;

	if ((r = ops_id_valid(id, err)) < 0 || (r = check_bundle(bundle, &real, err)) < 0 ||
	    (r = ops_config_load(real, &cfg, &text, err)) < 0)
		return r;
	if (!cfg->process.present || cfg->process.args.n == 0) {
		ops_config_free(cfg);
		return oerr_set(err, EINVAL, "process.args: required when starting");
	}
	if ((r = ops_hostref_check(ops, cfg, real, err)) < 0) {
		ops_config_free(cfg);
		return r;
	}
	struct ctr *c = ops_ctr_new(ops, id);
	if (!c) {
		ops_config_free(cfg);
		return oerr_set(err, ENOMEM, "out of memory");
	}
	c->cfg = cfg;
	c->config_text = TAKE_PTR(text);
	c->rec.bundle = TAKE_PTR(real);
	c->rec.status = OPS_CREATING;
	c->rec.created = time(NULL);
	*ret = c;
	return 0;
}

/* Undo a create and drop the container: nothing of it is left. */
static int create_fail(struct ops *ops, struct ctr *c, int r, struct oerr *err)
{
	oerr_prefix(err, "create %s: ", c->rec.id);
	create_undo(ops, c);
	pthread_mutex_lock(&ops->lock);
	ops_remove(ops, c);
	ops_unref_locked(ops, c);
	pthread_mutex_unlock(&ops->lock);
	return r;
}

int ops_create(struct ops *ops, const char *id, const char *bundle,
	       const char *const *kv, size_t n_kv, struct oerr *err)
{
	OERR_LOCAL(err);
	struct create_opts o;
	struct ctr *c = NULL;
	struct ops_note n = { 0 };
	struct ops_transition t;
	int r;

	if ((r = parse_kv(kv, n_kv, &o, err)) < 0 || (r = ops_id_valid(id, err)) < 0)
		return r;
	pthread_mutex_lock(&ops->lock);
	bool exists = ops_find(ops, id) != NULL;   /* EEXIST before the bundle's errors, as runc */
	pthread_mutex_unlock(&ops->lock);
	if (exists)
		return oerr_set(err, EEXIST, "%s: a container with this id exists", id);
	if ((r = create_prepare(ops, id, bundle, &c, err)) < 0)
		return r;
	c->rec.shim_pid = o.shim_pid;
	pthread_mutex_lock(&ops->lock);
	bool dup = ops_find(ops, id) != NULL;
	if (dup || ops_insert(ops, c) < 0) {
		pthread_mutex_unlock(&ops->lock);
		c->removed = true;
		c->refs = 1;
		ops_unref(ops, c);
		return dup ? oerr_set(err, EEXIST, "%s: a container with this id exists", id)
			   : oerr_set(err, ENOMEM, "%s: out of memory", id);
	}
	c->busy = true;
	c->refs++; /* ours */
	pthread_mutex_unlock(&ops->lock);

	r = create_steps(ops, c, &o, err);
	if (r < 0)
		return create_fail(ops, c, r, err);
	pthread_mutex_lock(&ops->lock);
	ops_transition(c->rec.status, OPS_OP_READY, &t, NULL);
	c->rec.status = t.next;
	r = ops_persist(ops, c, err);   /* the record first: no "created" it does not hold */
	c->rec.status = OPS_CREATING;
	if (r < 0) {
		pthread_mutex_unlock(&ops->lock);
		return create_fail(ops, c, r, err);
	}
	c->busy = false;
	ops_set_status(ops, c, t.next, &n);
	ops_watch(ops, c);
	ops_unref_locked(ops, c);
	pthread_mutex_unlock(&ops->lock);
	ops_notify(ops, &n);
	return 0;
}
