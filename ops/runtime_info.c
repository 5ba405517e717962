/* What the tree shows: state JSON, config, features, vm/ files, lists. */
#include "ops/runtime_int.h"
#include "captab.h"
#include "cleanup.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OPS_OCI_VERSION "1.2.0"

static pid_t ctr_pid(const struct ctr *c)
{
	if (c->rec.status == OPS_STOPPED)
		return 0;
	return c->rec.shim_pid ? c->rec.shim_pid : c->rec.vmm_pid;
}

int ops_state_text(struct ops *ops, struct ctr *c, char **ret)
{
	char ts[64];
	struct tm tm;
	cJSON *o = cJSON_CreateObject(), *ann;

	if (!o)
		return -ENOMEM;
	cJSON_AddStringToObject(o, "ociVersion", OPS_OCI_VERSION);
	cJSON_AddStringToObject(o, "id", c->rec.id);
	cJSON_AddStringToObject(o, "status", ops_status_name(c->rec.status));
	pid_t pid = ctr_pid(c);
	if (pid > 0)
		cJSON_AddNumberToObject(o, "pid", pid);
	cJSON_AddStringToObject(o, "bundle", c->rec.bundle ? c->rec.bundle : "");
	ann = cJSON_AddObjectToObject(o, "annotations");
	for (size_t i = 0; c->cfg && ann && i < c->cfg->annotations.n; i++)
		cJSON_AddStringToObject(ann, c->cfg->annotations.v[i].key,
					c->cfg->annotations.v[i].value);
	gmtime_r(&c->rec.created, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, "created", ts);
	*ret = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return *ret ? 0 : -ENOMEM;
}

int ops_state_json(struct ops *ops, const char *id, char **ret, struct oerr *err)
{
	pthread_mutex_lock(&ops->lock);
	struct ctr *c = ops_find(ops, id);
	int r = c ? ops_state_text(ops, c, ret) : oerr_set(err, ENOENT, "%.64s: no such container", id);
	pthread_mutex_unlock(&ops->lock);
	return r;
}

int ops_config_json(struct ops *ops, const char *id, char **ret, struct oerr *err)
{
	int r = 0;
	pthread_mutex_lock(&ops->lock);
	struct ctr *c = ops_find(ops, id);
	if (!c)
		r = oerr_set(err, ENOENT, "%.64s: no such container", id);
	else if (!(*ret = strdup(c->config_text ? c->config_text : "")))
		r = -ENOMEM;
	pthread_mutex_unlock(&ops->lock);
	return r;
}

int ops_get(struct ops *ops, const char *id, struct ops_info *ret, struct oerr *err)
{
	pthread_mutex_lock(&ops->lock);
	struct ctr *c = ops_find(ops, id);
	if (c) {
		memset(ret, 0, sizeof(*ret));
		ret->status = c->rec.status;
		ret->pid = ctr_pid(c);
		ret->exited = c->rec.exited;
		ret->exit_status = c->rec.exit_status;
		ret->created = c->rec.created;
		ret->generation = c->generation;
		ret->serial = c->serial;
		snprintf(ret->bundle, sizeof(ret->bundle), "%s", c->rec.bundle ? c->rec.bundle : "");
	}
	pthread_mutex_unlock(&ops->lock);
	return c ? 0 : oerr_set(err, ENOENT, "%.64s: no such container", id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ops_list(struct ops *ops, char ***ret_ids, size_t *ret_n)
{
	pthread_mutex_lock(&ops->lock);
	size_t n = ops->n;
	char **ids = calloc(n + 1, sizeof(*ids));
	for (size_t i = 0; ids && i < n; i++)
		if (!(ids[i] = strdup(ops->v[i]->rec.id))) {
			ops_free_list(ids, i);
			ids = NULL;
		}
	pthread_mutex_unlock(&ops->lock);
	if (!ids)
		return -ENOMEM;
	qsort(ids, n, sizeof(*ids), cmp_str);
	*ret_ids = ids;
	*ret_n = n;
	return 0;
}

void ops_free_list(char **ids, size_t n)
{
	if (!ids)
		return;
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int ops_features_json(char **ret)
{
	static const char *const ns[] = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
	static const char *const mopts[] = { "ro", "rw", "nosuid", "nodev", "noexec", "bind", "rbind",
					     "relatime", "noatime", "strictatime", "sync", "remount" };
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return -ENOMEM;
	cJSON_AddStringToObject(o, "ociVersionMin", "1.0.0");
	cJSON_AddStringToObject(o, "ociVersionMax", "1.3.0");
	cJSON_AddItemToObject(o, "hooks", cJSON_CreateStringArray(ops_hook_kind_names, OPS_HOOK_KINDS));
	cJSON_AddItemToObject(o, "mountOptions", cJSON_CreateStringArray(mopts, ARRAY_SIZE(mopts)));
	cJSON *lx = cJSON_AddObjectToObject(o, "linux");
	if (lx) {
		cJSON_AddItemToObject(lx, "namespaces", cJSON_CreateStringArray(ns, ARRAY_SIZE(ns)));
		cJSON_AddItemToObject(lx, "capabilities", cJSON_CreateStringArray(captab_names, ARRAY_SIZE(captab_names)));
		cJSON *cg = cJSON_AddObjectToObject(lx, "cgroup");
		cJSON_AddBoolToObject(cg, "v1", 0);
		cJSON_AddBoolToObject(cg, "v2", 0);
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(lx, "seccomp"), "enabled", 0);
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(lx, "apparmor"), "enabled", 0);
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(lx, "selinux"), "enabled", 0);
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(lx, "intelRdt"), "enabled", 0);
	}
	cJSON *ann = cJSON_AddObjectToObject(o, "annotations");
	cJSON_AddStringToObject(ann, "io.github.ocivmfs.vm", "true");
	cJSON_AddStringToObject(ann, "io.github.ocivmfs.hooks", "host");
	cJSON_AddStringToObject(ann, "io.github.ocivmfs.vm.image.formats", "raw");
	/* linux.namespaces[].path: only network is accepted (its interfaces are
	 * connected to the VM: vm/driver/net.c); any other type is refused at
	 * create. */
	cJSON_AddStringToObject(ann, "io.github.ocivmfs.linux.namespaces.path", "network");
	cJSON_AddStringToObject(ann, "io.github.ocivmfs.net",
				"the network namespace at linux.namespaces' network path is the "
				"container's: each Ethernet interface in it (at most 4) is connected to "
				"a virtio-net NIC of the VM by a tap and tc mirred redirects in that "
				"namespace; the guest's NIC gets its name, MAC, MTU, addresses and "
				"routes as read at create; an interface deleted later is logged, the "
				"VM runs on; without a path the container has only lo");
	cJSON_AddStringToObject(ann, "io.github.ocivmfs.mounts.bind",
				"a bind mount of a host path is a copy taken at create, not a shared "
				"volume: a regular file, directory tree or symlinks of at most 16384 "
				"bytes and 64 entries per container (all binds together), readable by "
				"all or inside the bundle, is sent to the guest and bind-mounted there "
				"(ro honoured; writes stay in the VM); anything else fails the create "
				"with EINVAL");
	cJSON_AddStringToObject(ann, "io.github.ocivmfs.machine-id",
				"a root whose /etc has no machine-id gets one of its own (a random "
				"UUID, machine-id(5)) written there, an empty or \"uninitialized\" one "
				"gets one bind-mounted over it read-only; the image's own, a symlink, or "
				"a mount on /etc/machine-id is kept: two containers never share one");
	cJSON_AddStringToObject(ann, "io.github.ocivmfs.linux.devices",
				"made in the guest with type (c, b, u as c, p), major:minor, fileMode "
				"(default 0666), uid, gid (default 0); a node of a device the guest kernel "
				"does not have (no /sys/dev/char|block/MAJ:MIN in the VM, e.g. /dev/kvm or "
				"a host disk) fails the create: host devices are not passed through");
	*ret = cJSON_Print(o);
	cJSON_Delete(o);
	return *ret ? 0 : -ENOMEM;
}

const char *const ops_vm_file_names[] = {
	"kernel", "cmdline", "vcpus", "memory", "disks", "timings", "driver", "accel",
	"hypervisor_cmdline", "last_error", "output", "confinement", "cgroup", "template", NULL,
};

static char *vm_file_text(const struct ops_record *r, const char *name)
{
	const struct ops_vm_desc *d = &r->vm;
	char *s = NULL;
	const char *v = NULL;

	if (strcmp(name, "vcpus") == 0)
		return asprintf(&s, "%u\n", d->vcpus) < 0 ? NULL : s;
	if (strcmp(name, "memory") == 0)
		return asprintf(&s, "%llu MiB\n", (unsigned long long)d->memory_mib) < 0 ? NULL : s;
	if (strcmp(name, "timings") == 0)
		return asprintf(&s, "spawn %.1f\nhello %.1f\nready %.1f\n", d->spawn_ms,
				d->hello_ms, d->ready_ms) < 0 ? NULL : s;
	if (strcmp(name, "kernel") == 0)
		v = d->kernel;
	else if (strcmp(name, "cmdline") == 0)
		v = d->kernel_cmdline;
	else if (strcmp(name, "disks") == 0)
		v = d->disks;
	else if (strcmp(name, "driver") == 0)
		v = d->driver;
	else if (strcmp(name, "accel") == 0)
		v = d->accel;
	else if (strcmp(name, "hypervisor_cmdline") == 0)
		v = d->hypervisor_cmdline;
	else if (strcmp(name, "last_error") == 0)
		v = r->last_error;
	else if (strcmp(name, "template") == 0)
		v = d->tpl;
	if (!v || !*v)
		return strdup("");
	return asprintf(&s, "%s\n", v) < 0 ? NULL : s;
}

/* vm/output: the stream cap and what was dropped past it (lock held). */
static char *output_text(const struct ops *ops, const struct ctr *c)
{
	char *s = NULL;
	return asprintf(&s, "max_output %llu\nstdout_discarded %llu\nstderr_discarded %llu\n",
			(unsigned long long)ops->max_output,
			(unsigned long long)c->out_dropped[1],
			(unsigned long long)c->out_dropped[2]) < 0 ? NULL : s;
}

int ops_vm_file(struct ops *ops, const char *id, const char *name, char **ret, struct oerr *err)
{
	size_t k;
	for (k = 0; ops_vm_file_names[k]; k++)
		if (strcmp(name, ops_vm_file_names[k]) == 0)
			break;
	if (!ops_vm_file_names[k])
		return oerr_set(err, ENOENT, "vm/%.64s: no such file", name);
	char run_dir[PATH_MAX] = "";
	pthread_mutex_lock(&ops->lock);
	struct ctr *c = ops_find(ops, id);
	bool conf = c && strcmp(name, "confinement") == 0;
	bool cg = c && strcmp(name, "cgroup") == 0;
	char *s = !c || conf || cg ? NULL : strcmp(name, "output") == 0 ? output_text(ops, c)
			     : vm_file_text(&c->rec, name);
	if (conf || cg)
		snprintf(run_dir, sizeof(run_dir), "%s/vm", c->dir);
	pthread_mutex_unlock(&ops->lock);
	if (conf && vm_confinement_text(run_dir, &s) < 0)   /* files and live cgroup figures */
		s = NULL;
	if (cg && vm_cgroup_text(run_dir, &s) < 0)          /* the live figures only */
		s = NULL;
	if (!c)
		return oerr_set(err, ENOENT, "%.64s: no such container", id);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int ops_stream_path(struct ops *ops, const char *id, int stream, char *buf, size_t n)
{
	static const char *const names[] = { NULL, "stdout", "stderr", "vm/console" };
	int num = stream / 16, s = stream % 16;
	if (s < OPS_STREAM_STDOUT || s > OPS_STREAM_CONSOLE || num > OPS_EXEC_MAX ||
	    (num && s == OPS_STREAM_CONSOLE))
		return -EINVAL;
	pthread_mutex_lock(&ops->lock);
	struct ctr *c = ops_find(ops, id);
	struct ops_exec *e = c && num ? c->execs[num] : NULL;
	int r = !c || (num && !e) ? -ENOENT
		: (num ? snprintf(buf, n, "%s/exec/%s/%s", c->dir, e->info.name, names[s])
		       : snprintf(buf, n, "%s/%s", c->dir, names[s])) >= (int)n ? -ENAMETOOLONG : 0;
	pthread_mutex_unlock(&ops->lock);
	return r;
}
