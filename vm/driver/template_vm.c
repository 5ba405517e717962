/* Creating a VM from a template (template.h): build the template once per
 * key, then restore it for each create.
 *
 * Build: the same QEMU machine with guest RAM in a fresh memfd
 * (memory-backend-file, share=on), in each disk slot a 1 MiB placeholder
 * of zeros instead of the container's disk, and as many NICs as the
 * container has, on taps of a namespace of their own (net_tpl.c) with
 * placeholder MACs (GSPEC_TPL_NIC_MAC); once ocivm-init
 * says HELLO (it then waits for its SPEC), QMP stop, x-ignore-shared (RAM
 * stays out of the stream: it is the memfd), migrate to an fd of
 * build/t/state (getfd: QEMU 7.2 has no file: URI, and an exec: URI needs
 * a shell the confined QEMU may not spawn), quit; vm_tpl_commit writes
 * and renames the files.
 *
 * Restore: the container's own argv with guest RAM mapped MAP_PRIVATE
 * from the template's sealed memfd (share=off: pages shared copy-on-write
 * by every VM of the template) and -incoming defer; QMP x-ignore-shared,
 * migrate-incoming from the state fd, cont.  The disks are the container's
 * own from the start: a drive's backing file is not part of migration
 * state.  The guest had probed only the placeholder (capacity 1 MiB,
 * partition scan of zeros); the SPEC carries "restored 1" and ocivm-init
 * unbinds and binds virtio_blk before it mounts anything
 * (vm/guest/fresh.c), so the fresh probe reads the real capacity and no
 * page of the placeholder stays cached.  The SPEC goes out at once: init
 * said HELLO in the template (its features are kept in the header).  Seed,
 * clock and hostname come with the SPEC as for a cold boot. */
#include "vm_priv.h"
#include "template.h"
#include "spawn.h"
#include "image.h"
#include "net.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TPL_PLACEHOLDER_BYTES (1u << 20)
#define TPL_QMP_MS 30000u          /* save or restore over QMP */
#define TPL_XIGNORE "{\"execute\":\"migrate-set-capabilities\",\"arguments\":" \
	"{\"capabilities\":[{\"capability\":\"x-ignore-shared\",\"state\":true}]}}"

/* Stop the template VM and save it to build/t/state. */
static int tpl_save(struct vm *bvm, const char *build, struct oerr *err)
{
	char path[PATH_MAX + 16];
	struct vm_qmp q;
	int r;

	snprintf(path, sizeof(path), "%s/t/state", build);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return oerr_sys(err, errno, "templates: creating %s", path);
	if ((r = vm_qmp_open(&q, bvm->paths.control_sock, bvm->pidfd,
			     vm_now_ms() + TPL_QMP_MS, err)) < 0)
		return r;
	if ((r = vm_qmp_exec(&q, "{\"execute\":\"stop\"}", -1, NULL, 0, err)) == 0 &&
	    (r = vm_qmp_exec(&q, TPL_XIGNORE, -1, NULL, 0, err)) == 0 &&
	    (r = vm_qmp_exec(&q, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"tpl\"}}",
			     fd, NULL, 0, err)) == 0 &&
	    (r = vm_qmp_exec(&q, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:tpl\"}}",
			     -1, NULL, 0, err)) == 0)
		r = vm_qmp_migrate_wait(&q, bvm->pidfd, err);
	vm_qmp_close(&q);
	if (r < 0)
		oerr_prefix(err, "saving the template: ");
	return r;
}

/* The template VM's config: the container's machine with placeholder disks. */
static int tpl_build_vm(struct vm_templates *t, const char *key, const char *inputs,
			const struct vm_config *user_cfg, const struct vm_host_probe *probe,
			struct oerr *err)
{
	char build[PATH_MAX], run[PATH_MAX + 8], disk[PATH_MAX + 8], id[40];
	struct vm_disk disks[VM_TPL_CACHE];
	struct vm_config cfg = *user_cfg;
	uint64_t mib = cfg.memory_mib ? cfg.memory_mib : VM_DEFAULT_MEMORY_MIB;
	int r;

	if (cfg.n_disks > VM_TPL_CACHE)
		return oerr_set(err, E2BIG, "templates: %zu disks", cfg.n_disks);
	if ((r = vm_tpl_build_dir(t, key, build, sizeof(build), err)) < 0)
		return r;
	snprintf(run, sizeof(run), "%s/run", build);
	snprintf(disk, sizeof(disk), "%s/disk", build);
	snprintf(id, sizeof(id), "template-%.16s", key);
	int dfd = open(disk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (dfd < 0 || ftruncate(dfd, TPL_PLACEHOLDER_BYTES) < 0) {
		r = oerr_sys(err, errno, "templates: creating %s", disk);
		if (dfd >= 0)
			close(dfd);
		vm_tpl_rmtree(build);
		return r;
	}
	close(dfd);
	for (size_t i = 0; i < cfg.n_disks; i++)
		disks[i] = (struct vm_disk){ disk, cfg.disks[i].serial, cfg.disks[i].readonly ||
					     vm_image_is_cached(cfg.disks[i].path) };
	cfg.disks = disks;
	cfg.run_dir = run;
	cfg.id = id;
	cfg.res = NULL;
	cfg.templates = NULL;
	size_t n_nics = cfg.netns && cfg.net ? cfg.net->n : 0;
	cfg.netns = NULL;   /* never the container's network: as many NICs on taps of their own */
	cfg.net = NULL;
	int mem = vm_tpl_memfd_new(mib << 20), taps[VM_NET_MAX_NICS], nsfd = -1;
	struct vm *bvm = vm_alloc(NULL, NULL);
	for (size_t i = 0; i < VM_NET_MAX_NICS; i++)
		taps[i] = -1;
	if (mem < 0 || !bvm) {
		r = mem < 0 ? oerr_sys(err, -mem, "templates: memfd") : oerr_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if ((r = vm_paths_init(&bvm->paths, run, err)) < 0)
		goto out;
	if (n_nics && (r = vm_net_tpl_taps(n_nics, taps, &nsfd, err)) < 0)
		goto out;
	struct vm_launch_tpl lt = { .mem_fd = mem, .share = true, .n_nics = n_nics,
				    .tap_fds = n_nics ? taps : NULL };
	if ((r = vm_launch(bvm, &cfg, probe, &lt, err)) < 0)
		goto out;
	r = vm_session_hello(bvm, cfg.ready_timeout_ms ? cfg.ready_timeout_ms : VM_DEFAULT_READY_MS,
			     err);
	if (r == 0)
		r = tpl_save(bvm, build, err);
	vm_stop_process(bvm, 2000);
	vm_remove_files(&bvm->paths, true);
	if (r == 0)
		r = vm_tpl_commit(t, key, build, mem, mib << 20, inputs, bvm->hello, err);
	if (r == 0)
		log_info("template %.16s: built (boot to HELLO %.0f ms, saved in %.0f ms)", key,
			 bvm->hello_ms, vm_now_ms() - bvm->t0_ms);
out:
	vm_net_tpl_taps_close(taps, nsfd);
	if (bvm)
		vm_free(bvm);
	if (mem >= 0)
		close(mem);
	vm_tpl_rmtree(build);
	return r;
}

/* Restore tpl into vm (run_dir of cfg): spawn, migrate-incoming, cont. */
static int tpl_restore(struct vm *vm, const struct vm_config *cfg,
		       const struct vm_host_probe *probe, struct vm_tpl *tpl, struct oerr *err)
{
	struct vm_launch_tpl lt = { .mem_fd = tpl->mem_fd, .incoming = true };
	struct vm_qmp q;
	int r;

	if ((r = vm_session_hello_apply(vm, tpl->hello, err)) < 0)
		return r;
	if ((r = vm_launch(vm, cfg, probe, &lt, err)) < 0)
		return r;
	double t_spawned = vm_now_ms();
	/* the channel first: connected before the state loads, the port stays
	 * open for the guest (it was in the template), which then reads the
	 * SPEC at once instead of napping on POLLHUP until a host comes */
	if ((r = vm_session_connect(vm, vm_now_ms() + TPL_QMP_MS, err)) < 0)
		return r;
	if ((r = vm_qmp_open(&q, vm->paths.control_sock, vm->pidfd, vm_now_ms() + TPL_QMP_MS,
			     err)) < 0)
		return r;
	double t_qmp = vm_now_ms();
	if ((r = vm_qmp_exec(&q, TPL_XIGNORE, -1, NULL, 0, err)) == 0 &&
	    (r = vm_qmp_exec(&q, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"tpl\"}}",
			     tpl->state_fd, NULL, 0, err)) == 0 &&
	    (r = vm_qmp_exec(&q, "{\"execute\":\"migrate-incoming\",\"arguments\":"
			     "{\"uri\":\"fd:tpl\"}}", -1, NULL, 0, err)) == 0 &&
	    (r = vm_qmp_migrate_wait(&q, vm->pidfd, err)) == 0)
		r = vm_qmp_exec(&q, "{\"execute\":\"cont\"}", -1, NULL, 0, err);
	vm_qmp_close(&q);
	if (r < 0) {
		oerr_prefix(err, "restoring: ");
		return r;
	}
	vm->restored = true;
	snprintf(vm->tpl_timing, sizeof(vm->tpl_timing), "QEMU up %.0f ms, state loaded %.0f ms later",
		 t_qmp - t_spawned + (t_spawned - vm->t0_ms - vm->spawn_ms), vm_now_ms() - t_qmp);
	return vm_session_open(vm, cfg->gspec, cfg->gspec_len,
			       cfg->ready_timeout_ms ? cfg->ready_timeout_ms : VM_DEFAULT_READY_MS,
			       err);
}

int vm_template_create(const struct vm_config *cfg, const struct vm_host_probe *probe,
		       const struct vm_callbacks *cb, void *ctx, double t0_ms, struct vm **ret,
		       struct oerr *err)
{
	char key[65], why[256];
	_cleanup_free_ char *inputs = NULL;
	struct vm_tpl tpl;
	int r = vm_template_key(cfg, probe, key, &inputs, err);

	if (r < 0)
		return r;
	int lock = vm_tpl_lock(cfg->templates, key);
	if (lock < 0)
		return oerr_sys(err, -lock, "templates: locking %.16s", key);
	r = vm_tpl_get(cfg->templates, key, &tpl, why, sizeof(why));
	if (r == 0) {
		r = tpl_build_vm(cfg->templates, key, inputs, cfg, probe, err);
		if (r == 0 && vm_tpl_get(cfg->templates, key, &tpl, why, sizeof(why)) != 1)
			r = oerr_set(err, EIO, "templates: the new template %.16s: %s", key, why);
		if (r < 0) {
			vm_tpl_unlock(lock);
			oerr_prefix(err, "building the template: ");
			return r;
		}
	}
	vm_tpl_count_use(cfg->templates, key);
	vm_tpl_unlock(lock);   /* the fds are ours: a drop now changes nothing for this VM */

	struct vm *vm = vm_alloc(cb, ctx);
	if (vm)
		vm->t0_ms = t0_ms;   /* the create's timings include a build */
	if (!vm || (r = vm_paths_init(&vm->paths, cfg->run_dir, err)) < 0) {
		r = vm ? r : oerr_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	r = tpl_restore(vm, cfg, probe, &tpl, err);
	if (r == 0)
		r = vm_epoll_setup(vm, err);
	if (r < 0)
		goto fail;
	close(tpl.mem_fd);
	close(tpl.state_fd);
	snprintf(vm->template_key, sizeof(vm->template_key), "%s", key);
	char note[200];
	snprintf(note, sizeof(note), "restored from template %.16s (%s)", key, vm->tpl_timing);
	vm_note(vm, note);
	*ret = vm;
	return 0;
fail:
	close(tpl.mem_fd);
	close(tpl.state_fd);
	if (vm && !vm->restored) {   /* QEMU refused the template itself: build it anew */
		log_warn("template %.16s: %s: dropped, it will be rebuilt", key, err->msg);
		vm_templates_remove(cfg->templates, key, NULL);
	}
	if (vm) {
		vm_stop_process(vm, 200);
		vm_remove_files(&vm->paths, true);
		vm_free(vm);
	}
	return r;
}
