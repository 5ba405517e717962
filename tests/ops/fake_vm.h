/* A test double of vm/vm.h for the ops runtime tests: no KVM, no processes.
 * A "VM process" (struct fake_proc) outlives its handle, so daemon restarts
 * (ops_close + ops_open) can re-attach. */
#ifndef OCIVM_TESTS_FAKE_VM_H
#define OCIVM_TESTS_FAKE_VM_H

#include <stddef.h>

#include "vm/vm.h"

enum fake_start { FAKE_START_OK, FAKE_START_ERROR, FAKE_START_SILENT };

struct fake_ctl {
	int create_rc;            /* vm_create fails with this (negative) */
	int image_rc;             /* vm_image_acquire fails with this */
	enum fake_start start;
	int image_refs;           /* acquired minus released */
	int creates, destroys, live;
	int last_signal;
	int signal_rc;            /* vm_signal fails with this (channel closed: -EPIPE) */
	char last_gspec[65536];
	char stdin_buf[4096];
	size_t stdin_len;
	char last_hypervisor[256];
	unsigned last_vcpus;
	uint32_t last_uid;                /* cfg->confine->uid (0: none) */
	struct vm_resources last_res;     /* cpus not kept */
	unsigned long long last_mib;
	/* vm_create makes this file, then never returns (a daemon killed
	 * mid-create: test_staging forks a child that hangs there) */
	char create_hang_mark[256];
};
extern struct fake_ctl fake;

void fake_reset(void);
/* The guest writes to stdout (1) or stderr (2). */
void fake_output(const char *run_dir, int stream, const char *text);
/* The container process exits (status) or the VM dies. */
void fake_exit(const char *run_dir, int status);
/* Is a VM process for run_dir alive? */
int fake_alive(const char *run_dir);

#endif
