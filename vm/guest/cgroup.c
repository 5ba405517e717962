/* See cgroup.h. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int gcg_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, value, strlen(value));
	int r = n == (ssize_t)strlen(value) ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return r;
}

static int gcg_make(const struct gplan *p, char *eb, size_t cap)
{
	char v[32];
	int r;

	if (mount("cgroup2", GCGROUP_ROOT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 &&
	    errno != EBUSY)
		return gsetup_fail(eb, cap, errno, "mount cgroup2 on " GCGROUP_ROOT);
	if ((r = gcg_write(GCGROUP_ROOT "/cgroup.subtree_control", "+memory")) < 0)
		return gsetup_fail(eb, cap, -r, "enabling the memory controller "
				   "(is CONFIG_MEMCG in the guest kernel?)");
	if (p->pids_max && (r = gcg_write(GCGROUP_ROOT "/cgroup.subtree_control", "+pids")) < 0)
		return gsetup_fail(eb, cap, -r, "enabling the pids controller "
				   "(is CONFIG_CGROUP_PIDS in the guest kernel?)");
	if (mkdir(GCGROUP_DIR, 0755) < 0 && errno != EEXIST)
		return gsetup_fail(eb, cap, errno, "mkdir " GCGROUP_DIR);
	if (p->pids_max) {
		snprintf(v, sizeof(v), "%" PRIu64, p->pids_max);
		if ((r = gcg_write(GCGROUP_DIR "/pids.max", v)) < 0)
			return gsetup_fail(eb, cap, -r, "pids.max %s", v);
	}
	if (!p->memory_max)
		return 0;
	snprintf(v, sizeof(v), "%" PRIu64, p->memory_max);
	if ((r = gcg_write(GCGROUP_DIR "/memory.max", v)) < 0)
		return gsetup_fail(eb, cap, -r, "memory.max %s", v);
	/* no swap in the guest; a kernel without swap accounting has no file */
	if ((r = gcg_write(GCGROUP_DIR "/memory.swap.max", "0")) < 0 && r != -ENOENT)
		return gsetup_fail(eb, cap, -r, "memory.swap.max 0");
	return 0;
}

int gcgroup_setup(const struct gplan *p, gsetup_note_fn note, void *ctx, char *eb, size_t cap)
{
	char why[256], msg[320];
	int r = gcg_make(p, why, sizeof(why));

	if (r == 0)
		return 0;
	if (p->memory_max || p->pids_max)
		return gsetup_fail(eb, cap, -r, "cannot enforce the %s limit: %s",
				   p->memory_max ? "memory" : "pids", why);
	snprintf(msg, sizeof(msg), "no cgroup for the container: %s", why);
	note(ctx, msg);
	return 0;
}

int gcgroup_join(const struct gplan *p, char *eb, size_t cap)
{
	int r;

	if (access(GCGROUP_DIR "/cgroup.procs", F_OK) < 0) {
		if (p->memory_max || p->pids_max)
			return gsetup_fail(eb, cap, errno, GCGROUP_DIR " is missing");
		return 0;
	}
	if ((r = gcg_write(GCGROUP_DIR "/cgroup.procs", "0")) < 0)
		return gsetup_fail(eb, cap, -r, "joining " GCGROUP_DIR);
	if (unshare(CLONE_NEWCGROUP) < 0)
		return gsetup_fail(eb, cap, errno, "cgroup namespace");
	return 1;
}

int gcgroup_remount(const struct gplan *p, char *eb, size_t cap)
{
	for (int i = 0; i < p->n_mounts; i++) {
		const struct gplan_mount *m = &p->mounts[i];
		struct gmntopts o;
		if ((strcmp(m->type, "cgroup") && strcmp(m->type, "cgroup2")) ||
		    gtab_mntopts(m->opts, &o) < 0 || o.bind)
			continue;
		if (umount2(m->dest, MNT_DETACH) < 0)
			return gsetup_fail(eb, cap, errno, "unmount %s", m->dest);
		/* the options go on this mount only, never on the superblock */
		unsigned long fl = o.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
		if (mount("cgroup2", m->dest, "cgroup2", fl & ~MS_RDONLY, NULL) < 0)
			return gsetup_fail(eb, cap, errno, "mount cgroup2 on %s", m->dest);
		if ((fl & MS_RDONLY) && mount(NULL, m->dest, NULL, MS_BIND | MS_REMOUNT | fl, NULL) < 0)
			return gsetup_fail(eb, cap, errno, "read-only %s", m->dest);
	}
	return 0;
}
