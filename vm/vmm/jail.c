/* ocivm-vmm's jail step (jail.h). */
#include "vm/vmm/jail.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

int vmm_jail_parse_user(const char *s, struct vmm_jail_cfg *cfg)
{
	char *end;
	errno = 0;
	unsigned long u = strtoul(s, &end, 10);
	if (errno || end == s || *end != ':' || u == 0 || u > 0xfffffffeul)
		return -EINVAL;
	const char *g = end + 1;
	unsigned long gid = strtoul(g, &end, 10);
	if (errno || end == g || *end || gid == 0 || gid > 0xfffffffeul)
		return -EINVAL;
	cfg->uid = (uid_t)u;
	cfg->gid = (gid_t)gid;
	return 0;
}

/* Entries of /proc/self/task: the threads of this process. */
static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The root becomes an empty read-only tmpfs: nothing of the host's file
 * system is reachable by path any more.  A mount namespace belongs to a
 * thread: with other threads running they would stay outside. */
static int jail_pivot(const char *dir, struct oerr *err)
{
	int n = count_threads();
	if (n != 1)
		return oerr_set(err, EINVAL, "jail: %d threads already running (it must come "
				"before any thread starts)", n);
	if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC) < 0)
		return oerr_sys(err, errno, "jail: unshare(mount, network, IPC namespaces)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return oerr_sys(err, errno, "jail: making / private");
	if (mount("ocivm-vmm-root", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,nr_inodes=2,mode=0555") < 0)
		return oerr_sys(err, errno, "jail: tmpfs on %s", dir);
	if (chdir(dir) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return oerr_sys(err, errno, "jail: pivot_root into %s", dir);
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return oerr_sys(err, errno, "jail: detaching the old root");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return oerr_sys(err, errno, "jail: remounting / read-only");
	return 0;
}

static int jail_drop(const struct vmm_jail_cfg *c, struct oerr *err)
{
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return oerr_sys(err, errno, "jail: dropping capability %d from the bounding set", cap);
	if (setgroups(0, NULL) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
	    setresuid(c->uid, c->uid, c->uid) < 0)
		return oerr_sys(err, errno, "jail: becoming uid %u gid %u", (unsigned)c->uid,
				(unsigned)c->gid);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return oerr_sys(err, errno, "jail: no_new_privs");
	return 0;
}

/* Highest open fd (from /proc/self/fd, read before the pivot). */
static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	int top = 2;
	struct dirent *e;

	if (!d)
		return 1023;
	while ((e = readdir(d)))
		if (atoi(e->d_name) > top)
			top = atoi(e->d_name);
	closedir(d);
	return top;
}

int vmm_jail_enter(const struct vmm_jail_cfg *c, struct oerr *err)
{
	int top = highest_fd();
	struct rlimit core = { 0, 0 };
	struct rlimit nofile = { (rlim_t)top + 1 + c->nofile_extra,
				 (rlim_t)top + 1 + c->nofile_extra };
	int r;

	if ((r = jail_pivot(c->root_dir, err)) < 0 || (r = jail_drop(c, err)) < 0)
		return r;
	if (setrlimit(RLIMIT_CORE, &core) < 0 || setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		return oerr_sys(err, errno, "jail: rlimits");
	return 0;
}
