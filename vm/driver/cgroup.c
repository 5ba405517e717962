/* The VM process's own cgroup, under the daemon's: DAEMON_CGROUP/ocivmfs/ID.
 * cgroup v2 when the unified hierarchy offers memory and pids, else the v1
 * memory and pids hierarchies (hybrid machines mount both).  Best effort:
 * a machine that delegates neither gets a VM without a cgroup and a note
 * saying why. */
#include "cgroup_int.h"
#include "jail.h"
#include "cleanup.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int vm_cgroup_self_path(const char *proc_cgroup, const char *ctl, char *buf, size_t len)
{
	_cleanup_free_ char *data = strdup(proc_cgroup);
	char *save = NULL;

	if (!data)
		return -ENOMEM;
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		bool match = false;
		if (!c2)
			continue;
		*c2 = '\0';
		if (!ctl[0]) {
			match = c1 == l + 1 && l[0] == '0' && c1[1] == '\0';
		} else {
			char *s2 = NULL;
			for (char *w = strtok_r(c1 + 1, ",", &s2); w && !match; w = strtok_r(NULL, ",", &s2))
				match = strcmp(w, ctl) == 0;
		}
		if (match) {
			if ((size_t)snprintf(buf, len, "%s", strcmp(c2 + 1, "/") ? c2 + 1 : "") >= len)
				return -ENAMETOOLONG;
			return 0;
		}
	}
	return -ENOENT;
}

int vm_cg_self(const char *selff, const char *ctl, char *buf, size_t len)
{
	_cleanup_free_ char *data = NULL;
	size_t n;

	if (file_read_all(selff, 65536, &data, &n) < 0)
		return -ENOENT;
	return vm_cgroup_self_path(data, ctl, buf, len);
}

int vm_cg_write(const char *dir, const char *file, const char *val)
{
	char path[VM_JAIL_PATH + 40];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd_write_all(fd, val, strlen(val));
}

bool vm_cg_has(const char *path, const char *word)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	return file_read_all(path, 4096, &data, &n) == 0 && strstr(data, word);
}

int vm_cg_make(struct vm_jail *j, const char *mnt, const char *self, const char *id)
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

static int cg_v2(struct vm_jail *j, const char *selff, const char *mnt, const char *id, unsigned long long mem,
		 unsigned pids)
{
	char self[VM_JAIL_PATH / 2], top[VM_JAIL_PATH], own[VM_JAIL_PATH], ctl[VM_JAIL_PATH + 32],
		v[32];
	int r;

	if (vm_cg_self(selff, "", self, sizeof(self)) < 0)
		return -ENOENT;
	if ((size_t)snprintf(own, sizeof(own), "%s%s", mnt, self) >= sizeof(own) - 16)
		return -ENAMETOOLONG;
	snprintf(top, sizeof(top), "%.*s/ocivmfs", (int)sizeof(own) - 16, own);
	snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", own);
	/* The daemon's own cgroup must hand memory and pids down (it cannot
	 * when it holds processes and is not the root).  It was written as
	 * ".../cgroup.subtree_control/" before: ENOTDIR, so no v2 cgroup ever
	 * unless something else had enabled memory there. */
	if (!vm_cg_has(ctl, "memory") && vm_cg_write(own, "cgroup.subtree_control", "+memory +pids") < 0)
		return -EPERM;
	if ((r = mkdir_p(top, 0755)) < 0)
		return r;
	if ((r = vm_cg_write(top, "cgroup.subtree_control", "+memory +pids")) < 0)
		return r;
	if ((r = vm_cg_make(j, mnt, self, id)) < 0)
		return r;
	snprintf(v, sizeof(v), "%llu", mem);
	if ((r = vm_cg_write(j->cgroups[0], "memory.max", v)) < 0)
		return r;
	snprintf(v, sizeof(v), "%u", pids);
	return vm_cg_write(j->cgroups[0], "pids.max", v);
}

static int cg_v1(struct vm_jail *j, const char *selff, const char *fsroot, const char *id, unsigned long long mem,
		 unsigned pids)
{
	char self[VM_JAIL_PATH / 2], mnt[VM_JAIL_PATH], v[32];
	int r;

	if (vm_cg_self(selff, "memory", self, sizeof(self)) < 0)
		return -ENOENT;
	snprintf(mnt, sizeof(mnt), "%s/memory", fsroot);
	if ((r = vm_cg_make(j, mnt, self, id)) < 0)
		return r;
	snprintf(v, sizeof(v), "%llu", mem);
	if ((r = vm_cg_write(j->cgroups[0], "memory.limit_in_bytes", v)) < 0)
		return r;
	if (vm_cg_self(selff, "pids", self, sizeof(self)) < 0)
		return -ENOENT;
	snprintf(mnt, sizeof(mnt), "%s/pids", fsroot);
	if ((r = vm_cg_make(j, mnt, self, id)) < 0)
		return r;
	snprintf(v, sizeof(v), "%u", pids);
	return vm_cg_write(j->cgroups[1], "pids.max", v);
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

int vm_cgroup_create_in(struct vm_jail *j, const char *fsroot, const char *selff, const char *id,
			unsigned long long mem_bytes, unsigned pids_max,
			const struct vm_resources *res, char *note, size_t note_len)
{
	char v2[VM_JAIL_PATH], path[VM_JAIL_PATH + 32];
	size_t n = strlen(j->text);
	int r;

	v2[0] = '\0';
	snprintf(path, sizeof(path), "%s/cgroup.controllers", fsroot);
	if (vm_cg_has(path, "memory"))
		snprintf(v2, sizeof(v2), "%s", fsroot);
	snprintf(path, sizeof(path), "%s/unified/cgroup.controllers", fsroot);
	if (!v2[0] && vm_cg_has(path, "memory"))
		snprintf(v2, sizeof(v2), "%s/unified", fsroot);
	r = v2[0] ? cg_v2(j, selff, v2, id, mem_bytes, pids_max) :
		    cg_v1(j, selff, fsroot, id, mem_bytes, pids_max);
	if (r < 0) {
		cg_undo(j);
		snprintf(note, note_len, "%s: %s", v2[0] ? "cgroup v2 (memory, pids)" :
			 "cgroup v1 memory and pids", strerror(-r));
		return r;
	}
	snprintf(j->text + n, sizeof(j->text) - n, "cgroup %s memory.max %llu MiB pids.max %u\n",
		 v2[0] ? "v2" : "v1 (memory, pids)", mem_bytes >> 20, pids_max);
	vm_cgroup_res(j, selff, v2[0] ? v2 : NULL, fsroot, id, res);
	return 0;
}

int vm_cgroup_create(struct vm_jail *j, const char *id, unsigned long long mem_bytes,
		     unsigned pids_max, const struct vm_resources *res, char *note,
		     size_t note_len)
{
	return vm_cgroup_create_in(j, "/sys/fs/cgroup", "/proc/self/cgroup", id, mem_bytes, pids_max, res, note,
				   note_len);
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
		"memory.peak", "memory.events", "pids.current", "pids.max",
		"cpu.max", "cpu.weight", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares",
		"cpu.stat", "cpuset.cpus", NULL,
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
