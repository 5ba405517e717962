/* Confining a hypervisor process (vm/driver/jail.c, cgroup.c).
 *
 * The daemon (root) opens what the VM needs — disks, the console file, the
 * listening sockets, kernel and initrd — and hands them over as inherited
 * fds; in the child, between fork and exec, vm_jail_enter() puts the
 * process into its cgroup, a private mount namespace whose root is an
 * empty per-VM tmpfs holding only /usr (read-only) and a pid-only /proc,
 * empties the capability bounding set, drops to the vm user, sets
 * no_new_privs and rlimits.  The hypervisor never runs as root. */
#ifndef OCIVM_VM_DRIVER_JAIL_H
#define OCIVM_VM_DRIVER_JAIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "driver.h"

#define VM_JAIL_MAX_FDS 24
#define VM_JAIL_FD_BASE 3      /* the child gets src_fds[i] as fd VM_JAIL_FD_BASE+i */
#define VM_JAIL_PATH PATH_MAX /* run_dir/root/...: under a state dir of any length */
#define VM_JAIL_CGROUPS 4      /* v1: memory, pids, cpu, cpuset */
/* QEMU's own seccomp filter (a deny list of whole syscall groups). */
#define VM_QEMU_SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

struct vm_jail {
	bool on;
	bool pass_fds;             /* not confined, but src_fds go to the child (QEMU's
				    * listening sockets) */
	bool drop_user;            /* we are root: mount ns, uid change, bounding set */
	bool thp_off;              /* PR_SET_THP_DISABLE (a template restore: QEMU's
				    * MADV_HUGEPAGE regions, its code buffer first,
				    * would be resident in 2 MiB steps; ~3 MiB a VM) */
	bool vmm_self;             /* ocivm-vmm: it jails itself (--jail-root/--jail-user) */
	uid_t uid;
	gid_t gid;
	gid_t groups[1];           /* the kvm group under -accel kvm */
	size_t n_groups;
	int src_fds[VM_JAIL_MAX_FDS];
	size_t n_fds;
	int exec_fd;               /* O_PATH of the binary (exec'd through it) */
	int cgroup_fds[VM_JAIL_CGROUPS]; /* cgroup.procs files, -1 if none */
	rlim_t nofile;
	/* Paths, computed before fork (the child only makes syscalls). */
	char root[VM_JAIL_PATH];       /* run_dir/root: tmpfs in the child's mount ns */
	char usr[VM_JAIL_PATH + 8];
	char proc[VM_JAIL_PATH + 8];
	char dev[VM_JAIL_PATH + 8];
	char kvm[VM_JAIL_PATH + 16];   /* "" unless -accel kvm */
	char etc[VM_JAIL_PATH + 8];
	char ldcache[VM_JAIL_PATH + 24]; /* "" when the host has no /etc/ld.so.cache */
	char lib[3][VM_JAIL_PATH + 8];
	char cgroups[VM_JAIL_CGROUPS][VM_JAIL_PATH]; /* the cgroup dirs (record, removal) */
	size_t n_cgroups;
	char text[VM_JAIL_PATH + 1024]; /* run_dir/confinement (names the root dir) */
};

/* What a driver passes: fd numbers as the hypervisor sees them (-1: by path). */
struct vm_jail_fds {
	int chan, control, console, kernel, initrd;
	int mem;                       /* the template memfd (l->mem_fd), -1 if none */
	int disk_ro[VM_JAIL_MAX_FDS], disk_rw[VM_JAIL_MAX_FDS];
};

/* Before fork: open what the QEMU process needs, create its cgroup and
 * root dir, fill j and fds.  j->on stays false when cfg->confine is off;
 * then only the listening sockets are made (fds->chan, fds->control,
 * j->pass_fds): QEMU never binds a path itself.
 * vm_jail_release() closes the daemon's copies after the spawn. */
int vm_jail_prepare_qemu(struct vm_jail *j, struct vm_jail_fds *fds,
			 const struct vm_launch *l, struct oerr *err);
void vm_jail_release(struct vm_jail *j);
/* Hand fd (a dup is taken: the caller keeps fd) to the process, confined
 * or not: its number there, or -errno.  vm_jail_release closes the dup. */
int vm_jail_pass_fd(struct vm_jail *j, int fd);
/* ocivm-vmm: its cgroup, root dir and record; the rest it does itself. */
int vm_jail_prepare_vmm(struct vm_jail *j, const struct vm_launch *l, struct oerr *err);
/* In the child after fork (async-signal-safe: syscalls only): the fds are
 * already in place.  0 or -errno (the caller reports it and _exits). */
int vm_jail_enter(const struct vm_jail *j);
/* After the VM is gone: remove its cgroups and root dir (from the files
 * in run_dir, so it works after a daemon restart too). */
void vm_jail_cleanup(const char *run_dir);

/* cgroup.c: the VM's own cgroup under the daemon's (v2 with memory and
 * pids delegated, else v1 memory + pids).  Fills j->cgroups, cgroup_fds
 * and appends to j->text; best effort: *note says why there is none. */
int vm_cgroup_create(struct vm_jail *j, const char *id, unsigned long long mem_bytes,
		     unsigned pids_max, const struct vm_resources *res, char *note,
		     size_t note_len);
/* The same under cgroup file system FSROOT (/sys/fs/cgroup) with the
 * daemon's paths read from SELFF (/proc/self/cgroup): unit tests pass
 * files that mimic them.  res (may be NULL): the bundle's linux.resources
 * cpu on the same cgroup (v2: cpu.max, cpu.weight, cpuset.cpus; v1: the cpu
 * and cpuset hierarchies), best effort too: j->text says what was set or
 * "cgroup cpu none: why" (vm/driver/cgroup_res.c). */
int vm_cgroup_create_in(struct vm_jail *j, const char *fsroot, const char *selff, const char *id,
			unsigned long long mem_bytes, unsigned pids_max,
			const struct vm_resources *res, char *note, size_t note_len);
/* cgroup v2 cpu.weight of a v1 cpu.shares value (runc's and crun's rule). */
unsigned long long vm_cgroup_shares_to_weight(unsigned long long shares);
/* The daemon's path in one hierarchy from /proc/self/cgroup text: ctl ""
 * for v2 ("0::/path"), else one v1 controller, matched as a whole word of
 * the comma list ("2:cpu,cpuacct:/p" has cpu, "3:cpuset:/" has not).  ""
 * for the root; -ENOENT when no line matches. */
int vm_cgroup_self_path(const char *proc_cgroup, const char *ctl, char *buf, size_t len);
void vm_cgroup_remove(const char *dir);
/* "memory.current 123\npids.current 4\n" style lines for one cgroup dir. */
void vm_cgroup_stats(const char *dir, char *buf, size_t len);

#endif
