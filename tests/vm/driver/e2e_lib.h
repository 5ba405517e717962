/* Shared by the end-to-end check (tests/vm/driver/e2e.c) and bench/create:
 * a busybox rootfs image, the kernel and initrd of `make guest`, and one
 * container run through vm.h with its events recorded. */
#ifndef OCIVM_TESTS_E2E_LIB_H
#define OCIVM_TESTS_E2E_LIB_H

#include <limits.h>
#include <stdbool.h>

#include "vm/vm.h"

struct e2e_env {
	char kernel[PATH_MAX], initrd[PATH_MAX];
	char tmp[64], rootfs[128], cache[128], run_dir[128];
	char *image;
	struct vm_host_probe probe;
	bool no_pvh;             /* leave vm_config.cache_dir NULL: boot the bzImage */
	const char *const *hv_params;   /* vm.hypervisor.parameters for the next create */
	size_t n_hv_params;
	const struct vm_confine *confine;   /* vm_config.confine for the next create
					     * (NULL: OCIVM_E2E_CONFINE=1 confines) */
};

/* 0 ready; 1 cannot run here (why says so); -errno on a real failure. */
int e2e_env_init(struct e2e_env *e, char *why, size_t why_len);
void e2e_env_fini(struct e2e_env *e);

struct e2e_run {
	struct vm *vm;
	const char *run_dir;
	char out[8192];
	size_t out_len;
	uint64_t got[3];         /* bytes of [1] stdout, [2] stderr received (for vm_attach) */
	pid_t started;
	int status;              /* -1 until on_exit */
	char reason[300];
	double t0, t_ready, t_start, t_started, t_exit;   /* ms, monotonic */
};

double e2e_now_ms(void);
/* vm_create for /bin/sh -c SCRIPT (rootfs overlay, stdin open). */
int e2e_create(struct e2e_env *e, enum vm_driver d, const char *script, struct e2e_run *run,
	       struct oerr *err);
/* Dispatch until the container printed `want` (NULL: until it exited) or
 * timeout_ms passed: 0, or -ETIMEDOUT. */
int e2e_pump(struct e2e_run *run, const char *want, unsigned timeout_ms);
/* vm_destroy; with OCIVM_E2E_KEEP_CONSOLE=FILE the console is copied first. */
void e2e_destroy(struct e2e_run *run);
/* The callbacks e2e_create installs (ctx: the e2e_run), for vm_attach. */
const struct vm_callbacks *e2e_callbacks(void);

#endif
