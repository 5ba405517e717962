/* ops_open (probe, state dir, reload after a restart) and ops_close. */
#include "ops/runtime_int.h"
#include "ops/staging.h"
#include "cleanup.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dup_or(const char *s, const char *def)
{
	const char *v = s && *s ? s : def;
	return v ? strdup(v) : NULL;
}

static void hv_line(struct ops *ops)
{
	char drv[384];

	vm_driver_describe(ops->driver, &ops->probe, drv, sizeof(drv));
	snprintf(ops->hv_line, sizeof(ops->hv_line), "%s; VMs run %s%s; %s", drv,
		 ops->confine.on ? "confined as user " : "unconfined (--no-confine)",
		 ops->confine.on ? ops->confine.user : "", ops->tpl_why);
}

/* --templates: on needs QEMU (ocivm-vmm has no snapshots yet).  The
 * default is on where templates were tested: the QEMU driver under TCG
 * (every VM layer passes with them, ops/README.md); under QEMU/KVM, whose
 * restores never ran here, and where the template store cannot be opened,
 * the default is off with the reason in MOUNT/hypervisor. */
static int templates_init(struct ops *ops, const char *opt, struct oerr *err)
{
	char dir[PATH_MAX], why[160];
	bool dflt;

	if (opt && strcmp(opt, "on") && strcmp(opt, "off"))
		return oerr_set(err, EINVAL, "templates: \"%s\" is not on or off", opt);
	if (opt && strcmp(opt, "off") == 0) {
		snprintf(ops->tpl_why, sizeof(ops->tpl_why), "templates off (--templates off)");
		return 0;
	}
	if (!vm_templates_usable(ops->driver, &ops->probe, &dflt, why, sizeof(why))) {
		snprintf(ops->tpl_why, sizeof(ops->tpl_why), "templates off: %.120s", why);
		return 0;
	}
	if (!opt && !dflt) {
		snprintf(ops->tpl_why, sizeof(ops->tpl_why),
			 "templates off (%.100s; --templates on turns them on)", why);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/templates", ops->cache_dir);
	int r = vm_templates_open(dir, &ops->templates, err);
	if (r < 0 && !opt) {   /* the default: off, with the reason, not a failed mount */
		snprintf(ops->tpl_why, sizeof(ops->tpl_why), "templates off: %.140s", err->msg);
		ops_logf(ops, "%s", ops->tpl_why);
		*err = (struct oerr){ 0 };
		return 0;
	}
	if (r < 0)
		return r;
	snprintf(ops->tpl_why, sizeof(ops->tpl_why), "templates on (%.120s)", dir);
	return 0;
}

static int init_fields(struct ops *ops, const struct ops_options *opt, struct oerr *err)
{
	ops->epfd = ops->wakefd = -1;
	pthread_mutex_init(&ops->lock, NULL);
	pthread_cond_init(&ops->cond, NULL);
	if (vm_driver_parse(opt->hypervisor, &ops->driver) < 0)
		return oerr_set(err, EINVAL, "hypervisor: \"%s\" is not auto, ocivm-vmm or qemu",
				opt->hypervisor);
	ops->kernel = dup_or(opt->kernel, NULL);
	ops->initrd = dup_or(opt->initrd, NULL);
	ops->vmm_path = dup_or(opt->vmm_path, NULL);
	ops->qemu_path = dup_or(opt->qemu_path, NULL);
	ops->def_vcpus = opt->default_vcpus ? opt->default_vcpus : 1;
	ops->def_mib = opt->default_memory_mib ? opt->default_memory_mib : VM_DEFAULT_MEMORY_MIB;
	ops->max_output = opt->max_output_bytes ? opt->max_output_bytes : OPS_MAX_OUTPUT_DEFAULT;
	ops->start_timeout_ms = OPS_START_TIMEOUT_MS;
	int r = ops_state_dir_make(opt->state_dir && *opt->state_dir ? opt->state_dir
				   : OPS_STATE_DIR_DEFAULT, &ops->state_dir, err);
	if (r < 0)
		return r;
	if ((r = ops_staging_init(ops->state_dir, err)) < 0)
		return r;
	/* the default state dir is a tmpfs: images there would cost host RAM */
	if (opt->cache_dir && *opt->cache_dir)
		ops->cache_dir = strdup(opt->cache_dir);
	else if (strcmp(ops->state_dir, OPS_STATE_DIR_DEFAULT) == 0)
		ops->cache_dir = strdup(OPS_CACHE_DIR_DEFAULT);
	else if (asprintf(&ops->cache_dir, "%s/.images", ops->state_dir) < 0)
		ops->cache_dir = NULL;
	if (!ops->cache_dir)
		return oerr_set(err, ENOMEM, "out of memory");
	if ((r = mkdir_p(ops->cache_dir, 0700)) < 0)
		return oerr_sys(err, -r, "image cache dir %s", ops->cache_dir);
	if ((r = vm_confine_init(opt->vm_user, opt->no_confine, &ops->confine, err)) < 0 ||
	    (r = ops_vmuid_parse(opt->vm_uids, &ops->vm_uid_first, &ops->vm_uid_count, err)) < 0)
		return r;
	ops->epfd = epoll_create1(EPOLL_CLOEXEC);
	ops->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ops->epfd < 0 || ops->wakefd < 0)
		return oerr_sys(err, errno, "epoll");
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	if (epoll_ctl(ops->epfd, EPOLL_CTL_ADD, ops->wakefd, &ev) < 0)
		return oerr_sys(err, errno, "epoll");
	return 0;
}

/* A container found in the state dir: re-attach, or mark it stopped. */
static void reload_one(struct ops *ops, const char *id)
{
	struct oerr err = { 0 };
	struct ops_note n = { 0 };
	struct ctr *c = ops_ctr_new(ops, id);
	char path[PATH_MAX];
	size_t len;

	if (!c)
		return;
	int lr = ops_store_load(c->dir, &c->rec, &err);
	snprintf(path, sizeof(path), "%s/vm/vm.json", c->dir);
	if (lr == -ENOENT && access(path, F_OK) < 0) {
		/* made by a create that died before its first record (no VM yet):
		 * left alone, it would only make the next create of id fail */
		ops_store_remove(c->dir);
		ops_logf(ops, "%s: removed: a create stopped before it saved anything", id);
	} else if (lr < 0 || strcmp(c->rec.id, id) != 0) {
		ops_logf(ops, "%s: not reloaded: %s", id, err.code ? err.msg : "id mismatch");
	}
	if (lr < 0 || strcmp(c->rec.id, id) != 0) {
		free(c->dir);
		ops_record_free(&c->rec);
		free(c);
		return;
	}
	snprintf(path, sizeof(path), "%s/config.json", c->dir);
	if (file_read_all(path, OPS_CFG_MAX_BYTES, &c->config_text, &len) == 0)
		ops_config_parse(c->config_text, len, &c->cfg, &err);
	if (c->rec.status == OPS_CREATING) {
		/* the daemon died mid-create: undo it, nothing is left behind */
		struct vm *vm = NULL;
		int st;
		snprintf(path, sizeof(path), "%s/vm", c->dir);
		if (vm_attach(path, &ops_vm_callbacks, c, NULL, &vm, &st, NULL) == 0)
			vm_destroy(vm, OPS_DESTROY_GRACE_MS);
		if (c->rec.image_held)
			vm_image_release(ops->cache_dir, id, NULL);
		ops_store_remove(c->dir);
		ops_logf(ops, "%s: removed: the daemon stopped while it was being created", id);
		c->removed = true;
		c->refs = 1;
		ops_unref_locked(ops, c);
		return;
	}
	pthread_mutex_lock(&ops->lock);
	ops_insert(ops, c);
	pthread_mutex_unlock(&ops->lock);
	if (c->rec.status == OPS_STOPPED)
		return;
	/* what the stream files hold: the guest sends the rest again (bytes the
	 * previous daemon had in flight); past the cap, nothing is wanted */
	uint64_t have[2];
	bool streams = ops_open_streams(c, NULL) == 0;
	for (int s = 1; s <= 2; s++)
		have[s - 1] = c->out_capped[s] ? UINT64_MAX : c->out_len[s];
	int st = 255;
	struct vm *vm = NULL;
	snprintf(path, sizeof(path), "%s/vm", c->dir);
	int r = vm_attach(path, &ops_vm_callbacks, c, streams ? have : NULL, &vm, &st, &err);
	if (r == 0) {
		struct vm_info in = { 0 };
		vm_get_info(vm, &in);
		ops_logf(ops, "%s: re-attached to its VM (%s)%s", id, in.driver ? in.driver : "?",
			 in.detached_output_lost ? "; what it wrote to stdout/stderr while no "
				 "daemon was attached is lost (QEMU's virtconsole discards it)" : "");
	}
	pthread_mutex_lock(&ops->lock);
	if (r == 0) {
		c->vm = vm;
		c->rec.vmm_pid = vm_pid(vm);
		ops_watch(ops, c);
	} else {
		ops_mark_stopped(ops, c, st, r == -ESRCH ? "the VM ended while the daemon was away"
							 : err.msg, &n);
	}
	pthread_mutex_unlock(&ops->lock);
	(void)n; /* no events from inside ops_open: the caller is not ready yet */
}

static void reload(struct ops *ops)
{
	DIR *d = opendir(ops->state_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || ops_id_valid(e->d_name, NULL) < 0)
			continue;
		reload_one(ops, e->d_name);
	}
	closedir(d);
}

static bool staging_live(void *ctx, const char *id)
{
	struct ops *ops = ctx;

	pthread_mutex_lock(&ops->lock);
	bool live = ops_find(ops, id) != NULL;
	pthread_mutex_unlock(&ops->lock);
	return live;
}

static void staging_log(void *ctx, const char *line)
{
	ops_logf(ctx, "%s", line);
}

const char *ops_state_dir(struct ops *ops)
{
	return ops->state_dir;
}

/* A daemon killed during an image build left its temporary (and a lock
 * file per image ever seen may remain): gone now, said once. */
static void reclaim_images(struct ops *ops)
{
	unsigned tmps = 0, locks = 0;

	vm_image_reclaim(ops->cache_dir, &tmps, &locks);
	if (tmps)
		ops_logf(ops, "image cache %s: removed %u temporary image(s) of a build that "
			 "stopped with its daemon", ops->cache_dir, tmps);
	if (locks)
		ops_logf(ops, "image cache %s: removed %u lock file(s) of images that are gone",
			 ops->cache_dir, locks);
}

int ops_open(const struct ops_options *opt, const struct ops_listener *l, void *ctx,
	     struct ops **ret, struct oerr *err)
{
	struct ops *ops = calloc(1, sizeof(*ops));
	static const struct ops_options none = { 0 };

	if (!ops)
		return oerr_set(err, ENOMEM, "out of memory");
	if (l)
		ops->l = *l;
	ops->lctx = ctx;
	int r = init_fields(ops, opt ? opt : &none, err);
	if (r < 0) {
		ops_close(ops);
		return r;
	}
	vm_probe_host(&ops->probe);
	if ((r = templates_init(ops, opt ? opt->templates : NULL, err)) < 0) {
		ops_close(ops);
		return r;
	}
	hv_line(ops);
	reload(ops);
	/* after the reload: a create by mv that died is undone by now */
	ops_staging_recover(ops->state_dir, staging_live, ops, staging_log, ops);
	reclaim_images(ops);
	if (pthread_create(&ops->sup, NULL, ops_supervisor, ops) != 0) {
		ops_close(ops);
		return oerr_set(err, EAGAIN, "cannot start the supervisor thread");
	}
	ops->sup_running = true;
	*ret = ops;
	return 0;
}

void ops_close(struct ops *ops)
{
	if (!ops)
		return;
	if (ops->sup_running) {
		uint64_t one = 1;
		if (write(ops->wakefd, &one, sizeof(one)) < 0) {
			/* eventfd write cannot fail here */
		}
		pthread_join(ops->sup, NULL);
	}
	for (size_t i = 0; i < ops->n; i++) {
		struct ctr *c = ops->v[i];
		if (c->vm)
			vm_free(c->vm); /* the VM keeps running */
		c->vm = NULL;
		c->removed = true;
		c->refs = 1;
		ops_unref_locked(ops, c);
	}
	free(ops->v);
	if (ops->epfd >= 0)
		close(ops->epfd);
	if (ops->wakefd >= 0)
		close(ops->wakefd);
	vm_templates_close(ops->templates);
	free(ops->state_dir);
	free(ops->cache_dir);
	free(ops->kernel);
	free(ops->initrd);
	free(ops->vmm_path);
	free(ops->qemu_path);
	pthread_mutex_destroy(&ops->lock);
	pthread_cond_destroy(&ops->cond);
	free(ops);
}

const char *ops_hypervisor_line(struct ops *ops)
{
	return ops->hv_line;
}
