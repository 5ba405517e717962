/* The VM process's own cgroup, under the daemon's: DAEMON_CGROUP/ocivmfs/ID.
 * cgroup v2 when the unified hierarchy offers memory and pids, else the v1
 * memory and pids hierarchies (hybrid machines mount both).  Best effort:
 * a machine that delegates neither gets a VM without a cgroup and a note
 * saying why. */
#include "jail.h"
#include "cleanup.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The daemon's path in one hierarchy from /proc/self/cgroup: ctl "" for v2
 * ("0::/path"), else a v1 controller name ("4:memory:/path"). */
static int cg_self_path(const char *ctl, char *buf, size_t len)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	char *save = NULL;

	if (file_read_all("/proc/self/cgroup", 65536, &data, &n) < 0)
		return -ENOENT;
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		bool match = ctl[0] ? strstr(c1 + 1, ctl) != NULL && strlen(c1 + 1) >= strlen(ctl)
				    : (c1 == l + 1 && l[0] == '0' && c1[1] == '\0');
		if (match) {
			snprintf(buf, len, "%s", strcmp(c2 + 1, "/") ? c2 + 1 : "");
			return 0;
		}
	}
	return -ENOENT;
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[VM_JAIL_PATH + 40];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd_write_all(fd, val, strlen(val));
}

static bool cg_has(const char *path, const char *word)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	return file_read_all(path, 4096, &data, &n) == 0 && strstr(data, word);
}

/* mkdir DIR (and ocivmfs/ above it), open its cgroup.procs. */
static int cg_make(struct vm_jail *j, const char *mnt, const char *self, const char *id)
{
	char dir[VM_JAIL_PATH];
	int r;

	if (snprintf(dir, sizeof(dir), "%s%s/ocivmfs/%s", mnt, self, id) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if ((r = mkdir_p(dir, 0755)) < 0)
		return r;
	char procs[VM_JAIL_PATH + 16];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		rmdir(dir);
		return r;
	}
	j->cgroup_fds[j->n_cgroups] = fd;
	snprintf(j->cgroups[j->n_cgroups++], VM_JAIL_PATH, "%s", dir);
	return 0;
}

static int cg_v2(struct vm_jail *j, const char *mnt, const char *id, unsigned long long mem,
		 unsigned pids)
{
	char self[VM_JAIL_PATH / 2], top[VM_JAIL_PATH], ctl[VM_JAIL_PATH + 32], v[32];
	int r;

	if (cg_self_path("", self, sizeof(self)) < 0)
		return -ENOENT;
	snprintf(top, sizeof(top), "%s%s/ocivmfs", mnt, self);
	snprintf(ctl, sizeof(ctl), "%s%s/cgroup.subtree_control", mnt, self);
	/* The daemon's own cgroup must hand memory and pids down (it cannot
	 * when it holds processes and is not the root). */
	if (!cg_has(ctl, "memory") && cg_write(ctl, "", "+memory +pids") < 0)
		return -EPERM;
	if ((r = mkdir_p(top, 0755)) < 0)
		return r;
	if ((r = cg_write(top, "cgroup.subtree_control", "+memory +pids")) < 0)
		return r;
	if ((r = cg_make(j, mnt, self, id)) < 0)
		return r;
	snprintf(v, sizeof(v), "%llu", mem);
	if ((r = cg_write(j->cgroups[0], "memory.max", v)) < 0)
		return r;
	snprintf(v, sizeof(v), "%u", pids);
	return cg_write(j->cgroups[0], "pids.max", v);
}

static int cg_v1(struct vm_jail *j, const char *id, unsigned long long mem, unsigned pids)
{
	char self[VM_JAIL_PATH / 2], v[32];
	int r;

	if (cg_self_path("memory", self, sizeof(self)) < 0)
		return -ENOENT;
	if ((r = cg_make(j, "/sys/fs/cgroup/memory", self, id)) < 0)
		return r;
	snprintf(v, sizeof(v), "%llu", mem);
	if ((r = cg_write(j->cgroups[0], "memory.limit_in_bytes", v)) < 0)
		return r;
	if (cg_self_path("pids", self, sizeof(self)) < 0)
		return -ENOENT;
	if ((r = cg_make(j, "/sys/fs/cgroup/pids", self, id)) < 0)
		return r;
	snprintf(v, sizeof(v), "%u", pids);
	return cg_write(j->cgroups[1], "pids.max", v);
}

static void cg_undo(struct vm_jail *j)
{
	for (size_t i = 0; i < j->n_cgroups; i++) {
		close(j->cgroup_fds[i]);
		j->cgroup_fds[i] = -1;
		vm_cgroup_remove(j->cgroups[i]);
	}
	j->n_cgroups = 0;
}

int vm_cgroup_create(struct vm_jail *j, const char *id, unsigned long long mem_bytes,
		     unsigned pids_max, char *note, size_t note_len)
{
	const char *v2 = NULL;
	size_t n = strlen(j->text);
	int r;

	if (cg_has("/sys/fs/cgroup/cgroup.controllers", "memory"))
		v2 = "/sys/fs/cgroup";
	else if (cg_has("/sys/fs/cgroup/unified/cgroup.controllers", "memory"))
		v2 = "/sys/fs/cgroup/unified";
	r = v2 ? cg_v2(j, v2, id, mem_bytes, pids_max) : cg_v1(j, id, mem_bytes, pids_max);
	if (r < 0) {
		cg_undo(j);
		snprintf(note, note_len, "%s: %s", v2 ? "cgroup v2 (memory, pids)" :
			 "cgroup v1 memory and pids", strerror(-r));
		return r;
	}
	snprintf(j->text + n, sizeof(j->text) - n, "cgroup %s memory.max %llu MiB pids.max %u\n",
		 v2 ? "v2" : "v1 (memory, pids)", mem_bytes >> 20, pids_max);
	return 0;
}

void vm_cgroup_remove(const char *dir)
{
	/* Only what we made: DIR ends in /ocivmfs/ID under /sys/fs/cgroup. */
	if (strncmp(dir, "/sys/fs/cgroup/", 15) || !strstr(dir, "/ocivmfs/") || strstr(dir, ".."))
		return;
	rmdir(dir);
}

void vm_cgroup_stats(const char *dir, char *buf, size_t len)
{
	static const char *const files[] = {
		"memory.current", "memory.usage_in_bytes", "memory.max_usage_in_bytes",
		"memory.peak", "memory.events", "pids.current", "pids.max", NULL,
	};
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; files[i] && n < len; i++) {
		char path[VM_JAIL_PATH + 40];
		_cleanup_free_ char *data = NULL;
		size_t dl;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (file_read_all(path, 1024, &data, &dl) < 0)
			continue;
		for (char *p = data; *p; p++)
			if (*p == '\n' && p[1])
				*p = ' ';
		n += (size_t)snprintf(buf + n, len - n, "%s %s%s", files[i], data,
				      dl && data[dl - 1] == '\n' ? "" : "\n");
	}
}
