/* Persistence: one directory per container under the state dir, holding
 *   state.json   the record below (written to a temp file, fsynced, renamed)
 *   config.json  the config the container was created with
 *   stdout, stderr, hooks.log   output files, kept after the container stops
 *   vm/          the VM's run_dir (sockets, console, vm.json)
 * After a daemon restart ops_open() reads the records back.  The state dir's
 * other entries: .images/ (vm/'s image cache by default), .incoming/ and
 * .bundles/ (ops/staging.h). */
#ifndef OCIVM_OPS_STORE_H
#define OCIVM_OPS_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "ops/lifecycle.h"

struct ops_vm_desc {
	char *kernel, *kernel_cmdline, *driver, *accel, *hypervisor_cmdline, *disks;
	char *tpl;               /* ID/vm/template: "restored KEY", "cold: why", "cold" */
	unsigned vcpus;
	uint64_t memory_mib;
	double spawn_ms, hello_ms, ready_ms;
};

struct ops_record {
	char id[OPS_ID_MAX + 1];
	char *bundle;
	enum ops_status status;
	time_t created;
	pid_t shim_pid, vmm_pid;
	bool exited;
	int exit_status;
	bool image_held;         /* we hold a rootfs image reference */
	char last_error[OERR_MSG_MAX];
	struct ops_vm_desc vm;
};

void ops_record_free(struct ops_record *rec);
void ops_vm_desc_free(struct ops_vm_desc *d);

/* Room kept for a container's record (state.reserve, allocated at create):
 * when its filesystem is full, a save shrinks the reserve a record's worth
 * and writes (so the stop that ends a container, with its exit status, is
 * saved although output or other containers filled the disk); later saves
 * grow it back where there is room. */
#define OPS_STORE_RESERVE (16 * 1024)
/* Allocate dir/state.reserve: -ENOSPC (nothing left) when there is no room. */
int ops_store_reserve(const char *dir, struct oerr *err);
/* dir is the container's directory.  0 or -errno (ENOSPC when the file
 * system and the reserve are full); on failure the previous state.json is
 * untouched and no temp file is left. */
int ops_store_save(const char *dir, const struct ops_record *rec, struct oerr *err);
int ops_store_load(const char *dir, struct ops_record *ret, struct oerr *err);
/* Remove a container directory and everything in it. */
int ops_store_remove(const char *dir);

#endif
