/* The child's half of the jail (jail.h): between fork and exec, in a
 * process that may have been forked from a multi-threaded daemon, so raw
 * syscalls only — no malloc, no stdio, no glibc set*id broadcast. */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define TRY(x) do { if ((x) < 0) return -errno; } while (0)

static int jail_bind(const char *src, const char *dst, unsigned long extra)
{
	TRY(mount(src, dst, NULL, MS_BIND | MS_REC, NULL));
	TRY(mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | extra, NULL));
	return 0;
}

/* An empty file at dst with src bound on it, read-only. */
static int jail_bind_file(const char *src, const char *dst, unsigned long extra)
{
	int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return jail_bind(src, dst, extra);
}

/* Private mount, network and IPC namespaces; the mount namespace's root is a small read-only tmpfs with
 * /usr (read-only), lib/lib64/bin links into it, /etc/ld.so.cache, a /proc
 * showing processes only, and /dev/kvm when QEMU uses KVM. */
static int jail_mounts(const struct vm_jail *j)
{
	static const char *const targets[] = { "usr/lib", "usr/lib64", "usr/bin" };

	/* and no network (every socket it needs is passed in), no SysV IPC */
	TRY(unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC));
	TRY(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	TRY(mount("ocivm-root", j->root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=64k,nr_inodes=32,mode=0755"));
	TRY(mkdir(j->usr, 0755));
	if (jail_bind("/usr", j->usr, MS_NODEV) < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		TRY(symlink(targets[i], j->lib[i]));
	TRY(mkdir(j->proc, 0555));
	TRY(mount("proc", j->proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "hidepid=invisible,subset=pid"));
	if (j->ldcache[0]) {
		TRY(mkdir(j->etc, 0755));
		if (jail_bind_file("/etc/ld.so.cache", j->ldcache, MS_NODEV | MS_NOEXEC) < 0)
			return -errno;
	}
	if (j->kvm[0]) {
		TRY(mkdir(j->dev, 0755));
		if (jail_bind_file("/dev/kvm", j->kvm, MS_NOEXEC) < 0)
			return -errno;
	}
	TRY(chdir(j->root));
	TRY(syscall(SYS_pivot_root, ".", "."));
	TRY(umount2(".", MNT_DETACH));
	TRY(chdir("/"));
	TRY(mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	return 0;
}

/* Empty the bounding set, then become the vm user: a uid change from 0
 * clears the permitted and effective sets. */
static int jail_drop(const struct vm_jail *j)
{
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	TRY(syscall(SYS_setgroups, j->n_groups, j->groups));
	TRY(syscall(SYS_setresgid, j->gid, j->gid, j->gid));
	TRY(syscall(SYS_setresuid, j->uid, j->uid, j->uid));
	TRY(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	return 0;
}

int vm_jail_enter(const struct vm_jail *j)
{
	struct rlimit core = { 0, 0 }, nofile = { j->nofile, j->nofile };
	int r;

	for (int i = 0; i < VM_JAIL_CGROUPS; i++)
		if (j->cgroup_fds[i] >= 0 && write(j->cgroup_fds[i], "0", 1) < 0)
			return -errno;
	if (j->drop_user) {
		if ((r = jail_mounts(j)) < 0)
			return r;
		if ((r = jail_drop(j)) < 0)
			return r;
	}
	TRY(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	TRY(setrlimit(RLIMIT_CORE, &core));
	TRY(setrlimit(RLIMIT_NOFILE, &nofile));
	return 0;
}
