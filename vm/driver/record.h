/* RUN/vm.json: what vm_attach() needs to find a VM again, and what a person
 * reading the run dir wants to know.  Written atomically once the process
 * runs.  A flat JSON object (cJSON): strings, unsigned integers below 2^53
 * and one array of strings; unknown keys are skipped. */
#ifndef OCIVM_VM_DRIVER_RECORD_H
#define OCIVM_VM_DRIVER_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vm_record {
	char driver[32];            /* "qemu" | "ocivm-vmm" */
	char accel[8];              /* "kvm" | "tcg" */
	pid_t pid;
	unsigned long long start_time;   /* /proc/PID/stat starttime: guards pid reuse */
	unsigned long long started_unix; /* wall clock at spawn, for people */
	unsigned vcpus;
	uint64_t memory_mib;
	char *kernel_cmdline;
	char *chan_sock;            /* for people; derived from run_dir when read */
	char *control_sock;
	char **argv;                /* NULL-terminated */
	size_t argc;
};

/* 0 or -errno. */
int vm_record_write(const char *path, const struct vm_record *rec);
/* 0, -ENOENT, -EINVAL (malformed: not ours), -errno. */
int vm_record_parse(const char *text, struct vm_record *ret);
int vm_record_read(const char *path, struct vm_record *ret);
void vm_record_free(struct vm_record *rec);

#endif
