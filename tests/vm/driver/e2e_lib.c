/* See e2e_lib.h. */
#include "e2e_lib.h"
#include "gspec.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double e2e_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int make_rootfs(struct e2e_env *e)
{
	static const char *const dirs[] = { "bin", "dev", "proc", "sys", "tmp", "etc" };
	static const char *const applets[] = { "sh", "cat", "echo", "sleep", "true" };
	char p[256], cmd[512];

	snprintf(e->rootfs, sizeof(e->rootfs), "%s/rootfs", e->tmp);
	mkdir(e->rootfs, 0755);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", e->rootfs, dirs[i]);
		mkdir(p, 0755);
	}
	snprintf(cmd, sizeof(cmd), "cp /bin/busybox %s/bin/busybox", e->rootfs);
	if (system(cmd) != 0)
		return -EIO;
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
		snprintf(p, sizeof(p), "%s/bin/%s", e->rootfs, applets[i]);
		if (symlink("busybox", p) < 0)
			return -errno;
	}
	return 0;
}

int e2e_env_init(struct e2e_env *e, char *why, size_t why_len)
{
	const char *build = getenv("BUILD");
	struct oerr err = { 0 };

	memset(e, 0, sizeof(*e));
	if (!build || !*build)
		build = "build";
	snprintf(e->kernel, sizeof(e->kernel), "%s/guest/vmlinuz", build);
	snprintf(e->initrd, sizeof(e->initrd), "%s/guest/initrd.img", build);
	if (access(e->kernel, R_OK) < 0 || access(e->initrd, R_OK) < 0)
		return snprintf(why, why_len, "no guest kernel/initrd in %s/guest (run make guest)", build), 1;
	if (access("/bin/busybox", X_OK) < 0)
		return snprintf(why, why_len, "no /bin/busybox (Debian package busybox-static)"), 1;
	vm_probe_host(&e->probe);
	strcpy(e->tmp, "/tmp/vm-e2e.XXXXXX");
	if (!mkdtemp(e->tmp))
		return -errno;
	snprintf(e->cache, sizeof(e->cache), "%s/cache", e->tmp);
	snprintf(e->run_dir, sizeof(e->run_dir), "%s/run", e->tmp);
	int r = make_rootfs(e);
	if (r == 0)
		r = vm_image_acquire(e->cache, e->rootfs, "e2e", &e->image, &err);
	if (r < 0)
		snprintf(why, why_len, "rootfs image: %s", err.msg[0] ? err.msg : strerror(-r));
	return r;
}

void e2e_env_fini(struct e2e_env *e)
{
	char cmd[128];
	vm_image_release(e->cache, "e2e", NULL);
	free(e->image);
	if (e->tmp[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", e->tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "e2e: could not remove %s\n", e->tmp);
	}
}

static void on_started(void *ctx, pid_t pid)
{
	struct e2e_run *r = ctx;
	r->started = pid;
	r->t_started = e2e_now_ms();
}

static void on_output(void *ctx, int stream, const void *buf, size_t len)
{
	struct e2e_run *r = ctx;
	r->got[stream == 2 ? 2 : 1] += len;
	if (r->out_len + len < sizeof(r->out)) {
		memcpy(r->out + r->out_len, buf, len);
		r->out_len += len;
		r->out[r->out_len] = '\0';
	}
}

static void on_exit_cb(void *ctx, int status, const char *reason)
{
	struct e2e_run *r = ctx;
	r->status = status;
	r->t_exit = e2e_now_ms();
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
}

static const struct vm_callbacks e2e_cbs = {
	.on_started = on_started, .on_output = on_output, .on_exit = on_exit_cb,
};

const struct vm_callbacks *e2e_callbacks(void)
{
	return &e2e_cbs;
}

static int make_gspec(const char *script, char **ret, size_t *ret_len)
{
	struct gspec_writer w;
	const char *rootfs[] = { "rootfs", "0" };
	const char *user[] = { "0", "0", "-" };

	gspec_writer_init(&w);
	gspec_putf(&w, "version", "1");
	gspec_putf(&w, "id", "e2e");
	gspec_put(&w, "rootfs", 2, rootfs);
	gspec_putf(&w, "rootfs_fstype", "ext4");
	gspec_putf(&w, "hostname", "e2e");
	gspec_putf(&w, "arg", "/bin/sh");
	gspec_putf(&w, "arg", "-c");
	gspec_putf(&w, "arg", "%s", script);
	gspec_putf(&w, "env", "PATH=/bin");
	gspec_putf(&w, "cwd", "/");
	gspec_put(&w, "user", 3, user);
	gspec_putf(&w, "terminal", "0");
	return gspec_finish(&w, ret, ret_len);
}

int e2e_create(struct e2e_env *e, enum vm_driver d, const char *script, struct e2e_run *run,
	       struct oerr *err)
{
	struct vm_disk disk = { .path = e->image, .serial = "rootfs", .readonly = true };
	char *gspec = NULL;
	size_t gspec_len = 0;
	int r = make_gspec(script, &gspec, &gspec_len);

	if (r < 0)
		return oerr_set(err, -r, "gspec: %s", strerror(-r));
	struct vm_config cfg = {
		.id = "e2e", .run_dir = e->run_dir, .driver = d, .probe = &e->probe,
		.kernel = e->kernel, .initrd = e->initrd, .vcpus = 1, .memory_mib = 256,
		.disks = &disk, .n_disks = 1, .gspec = gspec, .gspec_len = gspec_len,
		.ready_timeout_ms = 120000, .cache_dir = e->no_pvh ? NULL : e->cache,
		.hypervisor_params = e->hv_params, .n_hypervisor_params = e->n_hv_params,
		.confine = e->confine,
	};
	/* OCIVM_E2E_CONFINE=1: every VM confined as the daemon runs it */
	static struct vm_confine env_conf;
	if (!cfg.confine && getenv("OCIVM_E2E_CONFINE") &&
	    vm_confine_init(NULL, false, &env_conf, NULL) == 0)
		cfg.confine = &env_conf;
	/* Knobs for boot experiments (vm/driver/README.md):
	 * OCIVM_E2E_KPARAM  extra kernel parameters, blank-separated;
	 * OCIVM_E2E_TSC_KHZ overrides the measured TSC rate (0: no tsc_early_khz). */
	const char *kparam = getenv("OCIVM_E2E_KPARAM"), *tsc = getenv("OCIVM_E2E_TSC_KHZ");
	char kbuf[512], *save = NULL;
	const char *kv[16];
	snprintf(kbuf, sizeof(kbuf), "%s", kparam ? kparam : "");
	for (char *tok = strtok_r(kbuf, " ", &save); tok && cfg.n_kernel_params < 16;
	     tok = strtok_r(NULL, " ", &save))
		kv[cfg.n_kernel_params++] = tok;
	cfg.kernel_params = kv;
	if (tsc && *tsc)
		e->probe.tsc_khz = (unsigned)strtoul(tsc, NULL, 10);
	memset(run, 0, sizeof(*run));
	run->status = -1;
	run->run_dir = e->run_dir;
	run->t0 = e2e_now_ms();
	r = vm_create(&cfg, &e2e_cbs, run, &run->vm, err);
	free(gspec);
	run->t_ready = e2e_now_ms();
	return r;
}

int e2e_pump(struct e2e_run *run, const char *want, unsigned timeout_ms)
{
	double deadline = e2e_now_ms() + timeout_ms;

	while (e2e_now_ms() < deadline) {
		if (want ? strstr(run->out, want) != NULL : run->status >= 0)
			return 0;
		if (run->status >= 0)
			return -EPIPE;   /* ended without printing want */
		struct pollfd p = { vm_fd(run->vm), POLLIN, 0 };
		poll(&p, 1, 200);
		if (vm_dispatch(run->vm) < 0)
			return -EIO;
	}
	return -ETIMEDOUT;
}

void e2e_destroy(struct e2e_run *run)
{
	const char *keep = getenv("OCIVM_E2E_KEEP_CONSOLE");
	char cmd[512];
	if (run->vm && keep && *keep) {   /* the console file goes with the VM */
		snprintf(cmd, sizeof(cmd), "cp %s/console %s", run->run_dir, keep);
		if (system(cmd) != 0)
			fprintf(stderr, "e2e: could not keep the console\n");
	}
	if (run->vm)
		vm_destroy(run->vm, 2000);
	run->vm = NULL;
}
