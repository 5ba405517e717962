/* vm/vm.h: one VM's life cycle — spawn, handshake, attach, requests,
 * destroy.  The conversation itself is in session.c. */
#include "vm_priv.h"
#include "resolve.h"
#include "image.h"
#include "kernel.h"
#include "spawn.h"
#include "jail.h"
#include "template.h"
#include "net.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double vm_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct vm *vm_alloc(const struct vm_callbacks *cb, void *ctx)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->rd = malloc(sizeof(*vm->rd));
	if (!vm->rd) {
		free(vm);
		return NULL;
	}
	chan_reader_init(vm->rd);
	pthread_mutex_init(&vm->wlock, NULL);
	vm->pidfd = vm->chan = vm->epfd = -1;
	vm->t0_ms = vm_now_ms();
	if (cb)
		vm->cb = *cb;
	vm->ctx = ctx;
	return vm;
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->chan >= 0)
		close(vm->chan);
	if (vm->epfd >= 0)
		close(vm->epfd);
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	vm_net_watch_close(vm->netw);
	pthread_mutex_destroy(&vm->wlock);
	vm_outq_free(vm);
	vm_record_free(&vm->rec);
	free(vm->cmdline);
	free(vm->rd);
	free(vm);
}

int vm_epoll_setup(struct vm *vm, struct oerr *err)
{
	struct epoll_event ev = { .events = EPOLLIN };

	vm->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vm->epfd < 0)
		return oerr_sys(err, errno, "epoll_create1");
	ev.data.fd = vm->pidfd;
	if (epoll_ctl(vm->epfd, EPOLL_CTL_ADD, vm->pidfd, &ev) < 0)
		return oerr_sys(err, errno, "epoll_ctl");
	ev.data.fd = vm->chan;
	if (vm->chan >= 0 && epoll_ctl(vm->epfd, EPOLL_CTL_ADD, vm->chan, &ev) < 0)
		return oerr_sys(err, errno, "epoll_ctl");
	/* the caller's interfaces (run_dir/net): a watch failing costs only
	 * the log line of a deleted interface, not the VM */
	struct oerr werr = { 0 };
	if (vm_net_watch_open(vm->paths.run_dir, &vm->netw, &werr) < 0)
		log_warn("%s: network: not watching its interfaces: %s", vm->paths.run_dir, werr.msg);
	ev.data.fd = vm->netw ? vm_net_watch_fd(vm->netw) : -1;
	if (vm->netw && epoll_ctl(vm->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
		return oerr_sys(err, errno, "epoll_ctl");
	return 0;
}

/* What makes the VM reachable; with all, its console and log too. */
void vm_remove_files(const struct vm_paths *p, bool all)
{
	unlink(p->chan_sock);
	unlink(p->control_sock);
	unlink(p->vm_json);
	unlink(p->hello);
	vm_jail_cleanup(p->run_dir);
	vm_net_cleanup(p->run_dir);   /* the taps' tc filters in the caller's netns */
	if (all) {
		unlink(p->console);
		unlink(p->log);
	}
}

/* Does any disk sit on a file system that refuses O_DIRECT (tmpfs)? */
static bool disks_refuse_direct_io(const struct vm_config *cfg)
{
	for (size_t i = 0; i < cfg->n_disks; i++) {
		int fd = open(cfg->disks[i].path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (fd < 0 && errno == EINVAL)
			return true;
		if (fd >= 0)
			close(fd);
	}
	return false;
}

static int vm_check_config(const struct vm_config *cfg, struct oerr *err)
{
	if (!cfg->kernel || access(cfg->kernel, R_OK) < 0)
		return oerr_sys(err, cfg->kernel ? errno : ENOENT, "kernel %s",
				cfg->kernel ? cfg->kernel : "(none)");
	if (cfg->initrd && access(cfg->initrd, R_OK) < 0)
		return oerr_sys(err, errno, "initrd %s", cfg->initrd);
	for (size_t i = 0; i < cfg->n_disks; i++)
		if (!cfg->disks[i].path ||
		    access(cfg->disks[i].path, cfg->disks[i].readonly ||
			   vm_image_is_cached(cfg->disks[i].path) ? R_OK : R_OK | W_OK) < 0)
			return oerr_sys(err, cfg->disks[i].path ? errno : EINVAL, "disk %s",
					cfg->disks[i].path ? cfg->disks[i].path : "(none)");
	if (!cfg->gspec || !cfg->gspec_len)
		return oerr_set(err, EINVAL, "vm config: no gspec for ocivm-init");
	if (cfg->gspec_len > CHAN_MAX_PAYLOAD)
		return oerr_set(err, E2BIG, "vm config: gspec of %zu bytes exceeds one frame",
				cfg->gspec_len);
	return 0;
}

void vm_note(struct vm *vm, const char *note)
{
	size_t n = strlen(vm->notes);
	snprintf(vm->notes + n, sizeof(vm->notes) - n, "%s%s", n ? "; " : "", note);
}

/* The config as launched: cached rootfs images are shared, so they are
 * attached read-only whatever the config says; QEMU boots an LZ4 bzImage as
 * its PVH vmlinux when a cache_dir is given.  *disks and *pvh are the
 * caller's to free. */
int vm_adjust_config(struct vm *vm, const struct vm_driver_ops *drv,
			    struct vm_config *cfg, struct vm_disk **disks, char **pvh)
{
	*disks = calloc(cfg->n_disks + 1, sizeof(**disks));
	if (!*disks)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_disks; i++) {
		(*disks)[i] = cfg->disks[i];
		(*disks)[i].readonly |= vm_image_is_cached(cfg->disks[i].path);
	}
	cfg->disks = *disks;
	if (drv == &vm_driver_qemu && vm_kernel_pvh(cfg->cache_dir, cfg->kernel, pvh) == 0) {
		cfg->kernel = *pvh;
		vm_note(vm, "kernel booted through PVH (the bzImage's own vmlinux)");
	}
	return 0;
}

/* vm_info.confinement: the confinement file's lines joined with "; ". */
static void vm_confinement_line(struct vm *vm, const char *text)
{
	size_t n = 0;

	for (const char *p = text; *p && n + 3 < sizeof(vm->confinement); p++) {
		if (*p != '\n')
			vm->confinement[n++] = *p;
		else if (p[1]) {
			vm->confinement[n++] = ';';
			vm->confinement[n++] = ' ';
		}
	}
	vm->confinement[n] = '\0';
}

/* vm.json: takes over argv. */
static int vm_record_launch(struct vm *vm, const struct vm_launch *l, struct strv *argv)
{
	struct vm_record *rec = &vm->rec;

	snprintf(rec->driver, sizeof(rec->driver), "%s", vm->drv->name);
	snprintf(rec->accel, sizeof(rec->accel), "%s", l->accel == VM_ACCEL_KVM ? "kvm" : "tcg");
	rec->pid = vm->pid;
	vm_proc_start_time(vm->pid, &rec->start_time);
	rec->started_unix = (unsigned long long)time(NULL);
	rec->vcpus = l->cfg->vcpus ? l->cfg->vcpus : 1;
	rec->memory_mib = l->cfg->memory_mib ? l->cfg->memory_mib : VM_DEFAULT_MEMORY_MIB;
	vm_kernel_cmdline(l, vm->drv->base_cmdline, &rec->kernel_cmdline, NULL);
	rec->chan_sock = strdup(vm->paths.chan_sock);
	rec->control_sock = strdup(vm->paths.control_sock);
	rec->argv = argv->v;
	rec->argc = argv->n;
	*argv = (struct strv){ 0 };
	return vm_record_write(vm->paths.vm_json, rec);
}

int vm_launch(struct vm *vm, const struct vm_config *user_cfg, const struct vm_host_probe *probe,
	      const struct vm_launch_tpl *t, struct oerr *err)
{
	struct vm_config cfg = *user_cfg;
	struct vm_choice c;
	struct strv argv;
	int r = vm_resolve(&cfg, probe, &c, err);

	if (r < 0)
		return r;
	_cleanup_free_ char *binary = c.binary, *pvh = NULL;
	_cleanup_free_ struct vm_disk *disks = NULL;
	vm->drv = c.drv;
	cfg.driver = c.drv == &vm_driver_vmm ? VM_DRIVER_VMM : VM_DRIVER_QEMU;
	if ((r = vm_hypervisor_params_check(&cfg, err)) < 0)
		return r;
	if (vm_adjust_config(vm, c.drv, &cfg, &disks, &pvh) < 0)
		return oerr_set(err, ENOMEM, "out of memory");
	struct vm_launch l = { .cfg = &cfg, .paths = &vm->paths, .binary = binary,
			       .accel = c.accel, .tsc_khz = probe->tsc_khz,
			       .no_direct_io = disks_refuse_direct_io(&cfg),
			       .mem_template = t != NULL, .mem_fd = t ? t->mem_fd : -1,
			       .mem_share = t && t->share, .incoming = t && t->incoming,
			       .n_tpl_nics = t ? t->n_nics : 0 };
	if (l.no_direct_io && c.drv == &vm_driver_qemu)
		vm_note(vm, "a disk's file system refuses O_DIRECT: QEMU uses "
			"cache=writeback,aio=threads instead of cache=none,aio=io_uring");
	_cleanup_free_ struct vm_jail *jail = malloc(sizeof(*jail));   /* paths of PATH_MAX */
	struct vm_jail_fds fds;
	if (!jail)
		return oerr_set(err, ENOMEM, "out of memory");
	strv_init(&argv);
	r = c.drv == &vm_driver_qemu ? vm_jail_prepare_qemu(jail, &fds, &l, err)
				     : vm_jail_prepare_vmm(jail, &l, err);
	if (r == 0 && jail->on) {
		l.jail = jail;
		l.fds = c.drv == &vm_driver_qemu ? &fds : NULL;
		vm_confinement_line(vm, jail->text);
	} else if (r == 0 && jail->pass_fds) {
		l.socks = &fds;   /* unconfined QEMU: only its listening sockets */
	}
	int taps[VM_NET_MAX_NICS];
	for (size_t i = 0; i < VM_NET_MAX_NICS; i++)
		taps[i] = -1;
	for (size_t i = 0; r == 0 && t && t->tap_fds && i < t->n_nics; i++)
		if ((l.net_fds[l.n_net++] = vm_jail_pass_fd(jail, t->tap_fds[i])) < 0)
			r = oerr_sys(err, -l.net_fds[i], "passing the template's tap %zu", i);
	if (r == 0 && cfg.netns && cfg.net && cfg.net->n) {
		r = vm_net_connect(vm->paths.run_dir, cfg.id, cfg.netns, cfg.net, taps, err);
		for (size_t i = 0; r == 0 && i < cfg.net->n; i++)
			if ((l.net_fds[l.n_net++] = vm_jail_pass_fd(jail, taps[i])) < 0)
				r = oerr_sys(err, -l.net_fds[i], "passing tap %zu", i);
	}
	for (size_t i = 0; i < VM_NET_MAX_NICS; i++)
		if (taps[i] >= 0)
			close(taps[i]);   /* jail holds dups until the spawn */
	if (r == 0)
		r = c.drv->build_argv(&l, &argv, err);
	if (r == 0)
		r = vm_spawn_jailed(argv.v, vm->paths.log,
				    jail->on || jail->pass_fds || jail->n_fds ? jail : NULL,
				    &vm->pid, &vm->pidfd, err);
	vm_jail_release(jail);   /* the daemon's copies; also after a failed prepare */
	if (r < 0) {
		strv_free(&argv);
		return r;
	}
	vm->is_child = true;
	vm->spawn_ms = vm_now_ms() - vm->t0_ms;
	vm->cmdline = strv_join(argv.v, argv.n);
	r = vm_record_launch(vm, &l, &argv);
	if (r < 0)
		return oerr_sys(err, -r, "writing %s", vm->paths.vm_json);
	return 0;
}

int vm_create(const struct vm_config *cfg, const struct vm_callbacks *cb, void *ctx,
	      struct vm **ret, struct oerr *err)
{
	struct vm_host_probe local;
	const struct vm_host_probe *probe = cfg->probe;
	struct vm *vm = vm_alloc(cb, ctx);
	int r;

	if (!vm)
		return oerr_set(err, ENOMEM, "vm_create: out of memory");
	r = vm_paths_init(&vm->paths, cfg->run_dir, err);
	if (r == 0)
		r = vm_check_config(cfg, err);
	if (r == 0 && mkdir(cfg->run_dir, 0700) < 0 && errno != EEXIST)
		r = oerr_sys(err, errno, "creating %s", cfg->run_dir);
	if (r < 0) {
		vm_free(vm);
		return r;
	}
	if (!probe) {
		vm_probe_host(&local);
		probe = &local;
	}
	vm_remove_files(&vm->paths, true);   /* leftovers of an earlier VM of this id */
	if (cfg->templates) {   /* with NICs too: a template of as many NICs */
		struct vm *tvm = NULL;
		struct oerr terr = { 0 };
		r = vm_template_create(cfg, probe, cb, ctx, vm->t0_ms, &tvm, &terr);
		if (r == 0) {
			vm_free(vm);
			*ret = tvm;
			return 0;
		}
		if (r != -ENOTSUP) {   /* a cold boot serves; the reason stays */
			text_fit(vm->template_error, sizeof(vm->template_error), terr.msg);
			log_warn("%s: template: %s; booting cold", cfg->id ? cfg->id : cfg->run_dir,
				 terr.msg);
			vm_remove_files(&vm->paths, true);
		}
	}
	r = vm_launch(vm, cfg, probe, NULL, err);
	if (r == 0)
		r = vm_session_open(vm, cfg->gspec, cfg->gspec_len,
				    cfg->ready_timeout_ms ? cfg->ready_timeout_ms : VM_DEFAULT_READY_MS, err);
	if (r == 0)
		r = vm_epoll_setup(vm, err);
	if (r < 0) {
		if (vm->drv)
			oerr_prefix(err, "%s: ", vm->drv->name);
		vm_stop_process(vm, 200);
		vm_remove_files(&vm->paths, true);   /* a failed create leaves nothing */
		vm_free(vm);
		return r;
	}
	*ret = vm;
	return 0;
}

int vm_attach(const char *run_dir, const struct vm_callbacks *cb, void *ctx,
	      const uint64_t *have, struct vm **ret, int *ret_status, struct oerr *err)
{
	struct vm *vm = vm_alloc(cb, ctx);
	unsigned long long st = 0;
	int r;

	if (ret_status)
		*ret_status = 255;
	if (!vm)
		return oerr_set(err, ENOMEM, "vm_attach: out of memory");
	r = vm_paths_init(&vm->paths, run_dir, err);
	if (r == 0 && (r = vm_record_read(vm->paths.vm_json, &vm->rec)) < 0)
		r = r == -ENOENT ? oerr_set(err, ESRCH, "%s: no VM was recorded here", run_dir)
				 : oerr_sys(err, -r, "reading %s", vm->paths.vm_json);
	if (r == 0 && !(vm->drv = vm_driver_by_name(vm->rec.driver)))
		r = oerr_set(err, EINVAL, "%s: unknown driver %s", vm->paths.vm_json, vm->rec.driver);
	if (r == 0) {
		vm->pid = vm->rec.pid;
		vm->pidfd = vm_pidfd_open(vm->pid);
		if (vm->pidfd < 0 || vm_proc_start_time(vm->pid, &st) < 0 || st != vm->rec.start_time) {
			r = oerr_set(err, ESRCH, "the VM process %d of %s is gone", (int)vm->pid, run_dir);
			vm_net_cleanup(run_dir);   /* it died while no daemon watched */
		}
	}
	if (r == 0)
		r = vm_session_reattach(vm, have, err);
	if (r == 0)
		r = vm_epoll_setup(vm, err);
	if (r < 0) {
		vm_free(vm);
		return r;
	}
	vm->cmdline = strv_join(vm->rec.argv, vm->rec.argc);
	_cleanup_free_ char *conf = NULL;
	if (vm_confinement_text(run_dir, &conf) == 0)
		vm_confinement_line(vm, conf);
	*ret = vm;
	return 0;
}

int vm_start(struct vm *vm, struct oerr *err)
{
	int r = vm_out_ack(vm, 0, err);   /* protocol 3: the guest keeps output until acknowledged */
	return r < 0 ? r : vm_session_send(vm, CHAN_START, NULL, 0, err);
}

int vm_signal(struct vm *vm, int signo, struct oerr *err)
{
	return vm_proc_signal(vm, 0, signo, err);
}

int vm_write_stdin(struct vm *vm, const void *buf, size_t len, struct oerr *err)
{
	return vm_proc_write_stdin(vm, 0, buf, len, err);
}

int vm_close_stdin(struct vm *vm, struct oerr *err)
{
	return vm_proc_close_stdin(vm, 0, err);
}

int vm_pause(struct vm *vm, struct oerr *err)
{
	return vm->drv->control(&vm->paths, VM_CTL_PAUSE, 5000, err);
}

int vm_resume(struct vm *vm, struct oerr *err)
{
	return vm->drv->control(&vm->paths, VM_CTL_RESUME, 5000, err);
}

int vm_fd(const struct vm *vm)
{
	return vm->epfd;
}

int vm_dispatch(struct vm *vm)
{
	if (vm->netw)   /* drained always (level-triggered), logged while the VM runs */
		vm_net_watch_read(vm->netw, !vm->done);
	return vm_session_dispatch(vm);
}

pid_t vm_pid(const struct vm *vm)
{
	return vm->pid;
}

/* Ask, then TERM the process group, then KILL; reap. */
void vm_stop_process(struct vm *vm, unsigned grace_ms)
{
	if (vm->pidfd < 0)
		return;
	if (vm_pidfd_wait(vm->pidfd, 0) == 0) {
		vm->drv->control(&vm->paths, VM_CTL_STOP, grace_ms ? grace_ms : 1, NULL);
		if (vm_pidfd_wait(vm->pidfd, grace_ms) == 0) {
			kill(-vm->pid, SIGTERM);
			kill(vm->pid, SIGTERM);
			if (vm_pidfd_wait(vm->pidfd, grace_ms) == 0) {
				kill(-vm->pid, SIGKILL);
				kill(vm->pid, SIGKILL);
				vm_pidfd_wait(vm->pidfd, 5000);
			}
		}
	}
	vm_reap(vm->pidfd, vm->is_child);
}

int vm_destroy(struct vm *vm, unsigned grace_ms)
{
	if (!vm)
		return 0;
	vm_stop_process(vm, grace_ms);
	vm_remove_files(&vm->paths, false);
	vm_free(vm);
	return 0;
}

void vm_get_info(const struct vm *vm, struct vm_info *ret)
{
	*ret = (struct vm_info){
		.driver = vm->rec.driver,
		.accel = vm->rec.accel,
		.cmdline = vm->cmdline ? vm->cmdline : "",
		.kernel_cmdline = vm->rec.kernel_cmdline ? vm->rec.kernel_cmdline : "",
		.vcpus = vm->rec.vcpus,
		.memory_mib = vm->rec.memory_mib,
		.spawn_ms = vm->spawn_ms,
		.hello_ms = vm->hello_ms,
		.ready_ms = vm->ready_ms,
		.confinement = vm->confinement,
		.notes = vm->notes,
		.template_key = vm->template_key,
		.template_error = vm->template_error,
		.template_timing = vm->tpl_timing,
		/* QEMU's virtconsole discards what it gets with no client */
		.detached_output_lost = strcmp(vm->rec.driver, "qemu") == 0 &&
					vm->cmdline && strstr(vm->cmdline, "virtconsole"),
	};
}
