/* The bundle's linux.resources.cpu on the hypervisor's own cgroup: quota and
 * period bound the whole VM process (its vCPU threads, which the same quota
 * already sized, plus its I/O threads), shares weigh it against the host's
 * other processes, cpus pin it.  Memory is not set here: guest RAM comes
 * from memory.limit (ops_config_vm_shape) and the cgroup's memory.max from
 * guest RAM.  Best effort, like the cgroup itself: what could not be set is
 * one line of the confinement record. */
#include "cgroup_int.h"
#include "cleanup.h"
#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned long long vm_cgroup_shares_to_weight(unsigned long long shares)
{
	/* runc/crun: [2, 262144] maps linearly onto [1, 10000]; 1024 -> 39 */
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static bool wants_cpu(const struct vm_resources *r)
{
	return r->cpu_quota || r->cpu_shares;
}

/* DIR/FILE's first line into buf ("" if none): 0 or -errno. */
static int cg_read_line(const char *dir, const char *file, char *buf, size_t len)
{
	char path[VM_JAIL_PATH + 40];
	_cleanup_free_ char *data = NULL;
	size_t n;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((r = file_read_all(path, 4096, &data, &n)) < 0)
		return r;
	data[strcspn(data, "\n")] = '\0';
	snprintf(buf, len, "%s", data);
	return 0;
}

/* Enable CTLS ("+cpu +cpuset") in DIR's subtree_control unless there. */
static int v2_enable(const char *dir, const char *ctls, bool cpu, bool cpuset)
{
	char have[256] = "";
	bool need = false;

	cg_read_line(dir, "cgroup.subtree_control", have, sizeof(have));
	/* "cpuset" contains "cpu": look for the words */
	char words[260];
	snprintf(words, sizeof(words), " %s ", have);
	if (cpu && !strstr(words, " cpu "))
		need = true;
	if (cpuset && !strstr(words, " cpuset "))
		need = true;
	return need ? vm_cg_write(dir, "cgroup.subtree_control", ctls) : 0;
}

static int res_v2(struct vm_jail *j, const char *selff, const char *v2,
		  const struct vm_resources *res, char *why, size_t wl)
{
	char self[VM_JAIL_PATH / 2], own[VM_JAIL_PATH], top[VM_JAIL_PATH + 16], path[VM_JAIL_PATH + 32];
	char ctls[32] = "", v[64];
	bool cpu = wants_cpu(res), cpuset = res->cpus != NULL;
	int r;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", v2);
	if ((cpu && !vm_cg_has(path, "cpu ") && !vm_cg_has(path, "cpu\n")) ||
	    (cpuset && !vm_cg_has(path, "cpuset")))
		return snprintf(why, wl, "the %s controller is not available", cpu ? "cpu" : "cpuset"),
		       -EOPNOTSUPP;
	snprintf(ctls, sizeof(ctls), "%s%s%s", cpu ? "+cpu" : "", cpu && cpuset ? " " : "",
		 cpuset ? "+cpuset" : "");
	if ((r = vm_cg_self(selff, "", self, sizeof(self))) < 0)
		return snprintf(why, wl, "no cgroup v2 line in %.100s", selff), r;
	if ((size_t)snprintf(own, sizeof(own), "%s%s", v2, self) >= sizeof(own))
		return snprintf(why, wl, "path too long"), -ENAMETOOLONG;
	snprintf(top, sizeof(top), "%s/ocivmfs", own);
	if ((r = v2_enable(own, ctls, cpu, cpuset)) < 0 || (r = v2_enable(top, ctls, cpu, cpuset)) < 0)
		return snprintf(why, wl, "enabling %s for %.100s", ctls, top), r;
	const char *dir = j->cgroups[0];
	if (res->cpu_quota) {
		snprintf(v, sizeof(v), "%llu %llu", (unsigned long long)res->cpu_quota,
			 (unsigned long long)res->cpu_period);
		if ((r = vm_cg_write(dir, "cpu.max", v)) < 0)
			return snprintf(why, wl, "cpu.max %s", v), r;
	}
	if (res->cpu_shares) {
		snprintf(v, sizeof(v), "%llu", vm_cgroup_shares_to_weight(res->cpu_shares));
		if ((r = vm_cg_write(dir, "cpu.weight", v)) < 0)
			return snprintf(why, wl, "cpu.weight %s", v), r;
	}
	if (cpuset && (r = vm_cg_write(dir, "cpuset.cpus", res->cpus)) < 0)
		return snprintf(why, wl, "cpuset.cpus %.100s", res->cpus), r;
	return 0;
}

/* v1 cpuset: a new cgroup starts with empty cpus and mems, and a process
 * cannot join it then; ocivmfs/ gets its parent's, ID the bundle's cpus. */
static int v1_cpuset(struct vm_jail *j, const char *selff, const char *fsroot, const char *id,
		     const char *cpus, char *why, size_t wl)
{
	char self[VM_JAIL_PATH / 2], mnt[VM_JAIL_PATH], own[VM_JAIL_PATH + 160];
	char top[VM_JAIL_PATH + 176], pcpus[256], mems[256];
	int r;

	if ((r = vm_cg_self(selff, "cpuset", self, sizeof(self))) < 0)
		return snprintf(why, wl, "no cpuset hierarchy in %.100s", selff), r;
	snprintf(mnt, sizeof(mnt), "%s/cpuset", fsroot);
	if ((size_t)snprintf(own, sizeof(own), "%s%s", mnt, self) >= sizeof(own))
		return snprintf(why, wl, "path too long"), -ENAMETOOLONG;
	snprintf(top, sizeof(top), "%s/ocivmfs", own);
	if ((r = cg_read_line(own, "cpuset.cpus", pcpus, sizeof(pcpus))) < 0 ||
	    (r = cg_read_line(own, "cpuset.mems", mems, sizeof(mems))) < 0)
		return snprintf(why, wl, "reading %.100s/cpuset.cpus, cpuset.mems", own), r;
	size_t slot = j->n_cgroups;
	if ((r = vm_cg_make(j, mnt, self, id)) < 0)
		return snprintf(why, wl, "making %.100s/ocivmfs/%.40s", own, id), r;
	const char *dir = j->cgroups[slot];
	if ((r = vm_cg_write(top, "cpuset.cpus", pcpus)) < 0 ||
	    (r = vm_cg_write(top, "cpuset.mems", mems)) < 0 ||
	    (r = vm_cg_write(dir, "cpuset.mems", mems)) < 0)
		return snprintf(why, wl, "cpuset.cpus %.40s, cpuset.mems %.20s for %.100s", pcpus, mems, top), r;
	if ((r = vm_cg_write(dir, "cpuset.cpus", cpus)) < 0)
		return snprintf(why, wl, "cpuset.cpus %.60s (the daemon's cgroup has %.60s)", cpus, pcpus), r;
	return 0;
}

static int res_v1(struct vm_jail *j, const char *selff, const char *fsroot, const char *id,
		  const struct vm_resources *res, char *why, size_t wl)
{
	char self[VM_JAIL_PATH / 2], mnt[VM_JAIL_PATH], v[32];
	int r;

	if (wants_cpu(res)) {
		if ((r = vm_cg_self(selff, "cpu", self, sizeof(self))) < 0)
			return snprintf(why, wl, "no cpu hierarchy in %.100s", selff), r;
		snprintf(mnt, sizeof(mnt), "%s/cpu", fsroot);
		size_t slot = j->n_cgroups;
		if ((r = vm_cg_make(j, mnt, self, id)) < 0)
			return snprintf(why, wl, "making %.60s%.60s/ocivmfs/%.40s", mnt, self, id), r;
		const char *dir = j->cgroups[slot];
		if (res->cpu_quota) {
			/* the period first: a quota is checked against it */
			snprintf(v, sizeof(v), "%llu", (unsigned long long)res->cpu_period);
			if ((r = vm_cg_write(dir, "cpu.cfs_period_us", v)) < 0)
				return snprintf(why, wl, "cpu.cfs_period_us %s", v), r;
			snprintf(v, sizeof(v), "%llu", (unsigned long long)res->cpu_quota);
			if ((r = vm_cg_write(dir, "cpu.cfs_quota_us", v)) < 0)
				return snprintf(why, wl, "cpu.cfs_quota_us %s", v), r;
		}
		if (res->cpu_shares) {
			snprintf(v, sizeof(v), "%llu", (unsigned long long)res->cpu_shares);
			if ((r = vm_cg_write(dir, "cpu.shares", v)) < 0)
				return snprintf(why, wl, "cpu.shares %s", v), r;
		}
	}
	return res->cpus ? v1_cpuset(j, selff, fsroot, id, res->cpus, why, wl) : 0;
}

void vm_cgroup_res(struct vm_jail *j, const char *selff, const char *v2, const char *fsroot,
		   const char *id, const struct vm_resources *res)
{
	char why[200] = "";
	size_t n = strlen(j->text);
	int r;

	if (!res || (!wants_cpu(res) && !res->cpus))
		return;
	r = v2 ? res_v2(j, selff, v2, res, why, sizeof(why)) :
		 res_v1(j, selff, fsroot, id, res, why, sizeof(why));
	if (r < 0) {
		snprintf(j->text + n, sizeof(j->text) - n, "cgroup cpu none: %s: %s\n", why,
			 strerror(-r));
		return;
	}
	n += (size_t)snprintf(j->text + n, sizeof(j->text) - n, "cgroup cpu");
	if (res->cpu_quota && n < sizeof(j->text))
		n += (size_t)snprintf(j->text + n, sizeof(j->text) - n, " quota %llu period %llu",
				      (unsigned long long)res->cpu_quota,
				      (unsigned long long)res->cpu_period);
	if (res->cpu_shares && n < sizeof(j->text))
		n += (size_t)snprintf(j->text + n, sizeof(j->text) - n, " shares %llu (weight %llu)",
				      (unsigned long long)res->cpu_shares,
				      vm_cgroup_shares_to_weight(res->cpu_shares));
	if (res->cpus && n < sizeof(j->text))
		n += (size_t)snprintf(j->text + n, sizeof(j->text) - n, " cpus %s", res->cpus);
	if (n < sizeof(j->text))
		snprintf(j->text + n, sizeof(j->text) - n, "\n");
}
