/* See ns.h. */
#include "ns.h"
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int ns_same(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

int gns_pid_prepare(const struct gplan *p, const char *root, pid_t join, int *restore,
		    char *eb, size_t cap)
{
	char path[64];
	int self, fd;

	*restore = -1;
	if (join > 0)
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)join);
	if (join > 0 ? ns_same("/proc/self/ns/pid", path) : !(root && (p->ns & GNS_PID)))
		return 0;
	if ((self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) < 0)
		return gsetup_fail(eb, cap, errno, "init's pid namespace");
	if (join > 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWPID) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			close(self);
			return gsetup_fail(eb, cap, e, "joining the container's pid namespace");
		}
		close(fd);
	} else if (unshare(CLONE_NEWPID) < 0) {
		int e = errno;
		close(self);
		return gsetup_fail(eb, cap, e, "pid namespace (linux.namespaces)");
	}
	*restore = self;
	return 0;
}

void gns_pid_restore(int restore)
{
	if (restore < 0)
		return;
	/* back to init's own: its later children (the userns helper aside,
	 * which the process forks) must not land in the container's */
	if (setns(restore, CLONE_NEWPID) < 0) {
		perror("ocivm-init: back to init's pid namespace");
		abort();   /* every later fork would be inside the container */
	}
	close(restore);
}

int gns_sysctl_ns(const char *key)
{
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					   "kernel.sem", "kernel.shmall", "kernel.shmmax",
					   "kernel.shmmni", "kernel.shm_rmid_forced" };

	for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
		if (strcmp(key, ipc[i]) == 0)
			return GNS_IPC;
	if (strncmp(key, "fs.mqueue.", 10) == 0)
		return GNS_IPC;
	if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
		return GNS_UTS;
	return 0;
}

int gns_unshare(const struct gplan *p, char *eb, size_t cap)
{
	int fl = (p->ns & GNS_IPC ? CLONE_NEWIPC : 0) | (p->ns & GNS_UTS ? CLONE_NEWUTS : 0), r;

	if (!fl)
		return 0;
	if (unshare(fl) < 0)
		return gsetup_fail(eb, cap, errno, "%s namespace (linux.namespaces)",
				   fl == CLONE_NEWIPC ? "ipc" : fl == CLONE_NEWUTS ? "uts" : "ipc and uts");
	if ((p->ns & GNS_UTS) && (r = gsetup_names(p, eb, cap)) < 0)
		return r;
	for (int i = 0; i < p->n_sysctls; i++) {
		int ns = gns_sysctl_ns(p->sysctls[i].key);
		if (ns && (p->ns & (unsigned)ns) && (r = gsetup_sysctl(&p->sysctls[i], eb, cap)) < 0)
			return r;
	}
	return 0;
}

int gns_under(const char *dest, const char *path)
{
	size_t n = strlen(dest);

	while (n > 1 && dest[n - 1] == '/')
		n--;
	if (n == 1 && dest[0] == '/')
		return path[0] == '/';
	return strncmp(dest, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* dest (a proc or mqueue mount the config made in init's namespaces) made
 * again from inside: what was under it goes with the old one. */
static int ns_remount(const struct gplan *p, const struct gplan_mount *m, char *eb, size_t cap)
{
	struct gmntopts o;
	int r = 0;

	if (gtab_mntopts(m->opts, &o) < 0 || o.bind)
		return 0;
	if (umount2(m->dest, MNT_DETACH) < 0)
		return gsetup_fail(eb, cap, errno, "unmount %s", m->dest);
	unsigned long fl = o.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (mount(m->type, m->dest, m->type, fl, o.data[0] ? o.data : NULL) < 0)
		return gsetup_fail(eb, cap, errno, "mount %s on %s for the container's namespace",
				   m->type, m->dest);
	for (int i = 0; i < p->n_masked && r == 0; i++)
		if (gns_under(m->dest, p->masked[i]))
			r = gsetup_masked("/", p->masked[i], eb, cap);
	for (int i = 0; i < p->n_readonly && r == 0; i++)
		if (gns_under(m->dest, p->readonly[i]))
			r = gsetup_readonly("/", p->readonly[i], eb, cap);
	return r;
}

int gns_remount(const struct gplan *p, char *eb, size_t cap)
{
	int r = 0;

	for (int i = 0; i < p->n_mounts && r == 0; i++) {
		const struct gplan_mount *m = &p->mounts[i];
		if (m->copy < 0 && (((p->ns & GNS_PID) && strcmp(m->type, "proc") == 0) ||
				    ((p->ns & GNS_IPC) && strcmp(m->type, "mqueue") == 0)))
			r = ns_remount(p, m, eb, cap);
	}
	return r;
}

long gns_parse_nspid(const char *status)
{
	const char *l = strstr(status, "\nNSpid:");
	long v = -1;

	if (!l && strncmp(status, "NSpid:", 6) == 0)
		l = status - 1;
	if (!l)
		return -1;
	for (const char *s = l + 7; *s && *s != '\n';) {
		char *end;
		long n = strtol(s, &end, 10);
		if (end == s)
			break;
		v = n;
		s = end;
	}
	return v;
}

pid_t gns_inner_pid(pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return pid;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pid;
	buf[n] = '\0';
	long v = gns_parse_nspid(buf);
	return v > 0 ? (pid_t)v : pid;
}
