/* config.json: mounts, hooks and the linux section. */
#include "ops/config_int.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

const char *const ops_hook_kind_names[OPS_HOOK_KINDS] = {
	"prestart", "createRuntime", "createContainer", "startContainer",
	"poststart", "poststop",
};

static const char *const ns_types[] = {
	"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};

static int parse_mount(const cJSON *it, const char *p, struct ops_mount *m, struct oerr *err)
{
	int r;

	if (!cJSON_IsObject(it))
		return oerr_set(err, EINVAL, "%s: must be an object", p);
	if ((r = cj_string(it, "destination", p, CJ_REQUIRED | CJ_ABS, PATH_MAX - 1,
			   &m->destination, err)) < 0 ||
	    (r = cj_string(it, "type", p, 0, 64, &m->type, err)) < 0 ||
	    (r = cj_string(it, "source", p, 0, PATH_MAX - 1, &m->source, err)) < 0)
		return r;
	return cj_strv(it, "options", p, 0, 64, OPS_CFG_MAX_STR, &m->options, err);
}

int ops_config_parse_mounts(const cJSON *top, struct ops_config *cfg, struct oerr *err)
{
	const cJSON *arr = NULL, *it;
	char p[CJ_PATH_MAX];
	int r = cj_array(top, "mounts", "", 0, OPS_CFG_MAX_LIST, &arr, err);

	if (r < 0 || !arr)
		return r;
	cfg->mounts = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*cfg->mounts));
	if (!cfg->mounts)
		return -ENOMEM;
	cJSON_ArrayForEach(it, arr) {
		/* counted first, so a half-parsed entry is freed too */
		struct ops_mount *m = &cfg->mounts[cfg->n_mounts++];
		r = parse_mount(it, cj_index(p, "mounts", cfg->n_mounts - 1), m, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_hook(const cJSON *it, const char *p, struct ops_hook *h, struct oerr *err)
{
	uint64_t t = 0;
	int r;

	if (!cJSON_IsObject(it))
		return oerr_set(err, EINVAL, "%s: must be an object", p);
	if ((r = cj_string(it, "path", p, CJ_REQUIRED | CJ_ABS, PATH_MAX - 1, &h->path, err)) < 0 ||
	    (r = cj_strv(it, "args", p, 0, OPS_CFG_MAX_ARGS, OPS_CFG_MAX_STR, &h->args, err)) < 0 ||
	    (r = cj_strv(it, "env", p, 0, OPS_CFG_MAX_ARGS, OPS_CFG_MAX_STR, &h->env, err)) < 0 ||
	    (r = cj_u64(it, "timeout", p, 0, 1, 86400, &t, NULL, err)) < 0)
		return r;
	h->timeout = (unsigned)t;
	return 0;
}

int ops_config_parse_hooks(const cJSON *top, struct ops_config *cfg, struct oerr *err)
{
	const cJSON *hooks = NULL, *arr = NULL, *it = NULL;
	char pk[CJ_PATH_MAX], p[CJ_PATH_MAX];
	int r = cj_object(top, "hooks", "", 0, &hooks, err);

	if (r < 0 || !hooks)
		return r;
	for (int k = 0; k < OPS_HOOK_KINDS; k++) {
		struct ops_hooks *hs = &cfg->hooks[k];
		r = cj_array(hooks, ops_hook_kind_names[k], "hooks", 0, OPS_CFG_MAX_LIST, &arr, err);
		if (r < 0)
			return r;
		if (!arr)
			continue;
		hs->v = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*hs->v));
		if (!hs->v)
			return -ENOMEM;
		cj_join(pk, "hooks", ops_hook_kind_names[k]);
		cJSON_ArrayForEach(it, arr) {
			struct ops_hook *h = &hs->v[hs->n++];
			r = parse_hook(it, cj_index(p, pk, hs->n - 1), h, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void ops_config_free_mounts_hooks(struct ops_config *cfg)
{
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		free(cfg->mounts[i].destination);
		free(cfg->mounts[i].type);
		free(cfg->mounts[i].source);
		cj_strv_free(&cfg->mounts[i].options);
		struct ops_copy *c = cfg->mounts[i].copy;
		for (size_t k = 0; c && k < c->n; k++) {
			free(c->v[k].rel);
			free(c->v[k].data);
		}
		if (c)
			free(c->v);
		free(c);
	}
	free(cfg->mounts);
	for (int k = 0; k < OPS_HOOK_KINDS; k++) {
		for (size_t i = 0; i < cfg->hooks[k].n; i++) {
			free(cfg->hooks[k].v[i].path);
			cj_strv_free(&cfg->hooks[k].v[i].args);
			cj_strv_free(&cfg->hooks[k].v[i].env);
		}
		free(cfg->hooks[k].v);
	}
}

static int parse_namespace(const cJSON *it, const char *p, struct ops_linux *l,
			   struct oerr *err)
{
	struct ops_namespace *ns = &l->namespaces[l->n_namespaces];
	size_t k;
	int r;

	if (!cJSON_IsObject(it))
		return oerr_set(err, EINVAL, "%s: must be an object", p);
	if ((r = cj_string(it, "type", p, CJ_REQUIRED, 16, &ns->type, err)) < 0)
		return r;
	l->n_namespaces++;
	for (k = 0; k < ARRAY_SIZE(ns_types); k++)
		if (strcmp(ns->type, ns_types[k]) == 0)
			break;
	if (k == ARRAY_SIZE(ns_types))
		return oerr_set(err, EINVAL, "%s.type: unknown namespace \"%s\"", p, ns->type);
	for (size_t j = 0; j + 1 < l->n_namespaces; j++)
		if (strcmp(l->namespaces[j].type, ns->type) == 0)
			return oerr_set(err, EINVAL, "%s.type: duplicate %s", p, ns->type);
	if ((r = cj_string(it, "path", p, CJ_ABS, PATH_MAX - 1, &ns->path, err)) < 0)
		return r;
	/* A host namespace cannot reach into a guest kernel.  Only a network
	 * path is kept (the network the caller made; see ops/README.md). */
	if (ns->path && strcmp(ns->type, "network") != 0)
		return oerr_set(err, EINVAL, "%s.path: cannot join an existing %s namespace: "
				"the container runs in its own VM, with its own kernel", p, ns->type);
	return 0;
}

static int parse_device(const cJSON *it, const char *p, struct ops_device *d, struct oerr *err)
{
	uint64_t v = 0;
	int r;

	if (!cJSON_IsObject(it))
		return oerr_set(err, EINVAL, "%s: must be an object", p);
	if ((r = cj_string(it, "type", p, CJ_REQUIRED, 1, &d->type, err)) < 0 ||
	    (r = cj_string(it, "path", p, CJ_REQUIRED | CJ_ABS, PATH_MAX - 1, &d->path, err)) < 0)
		return r;
	if (!strchr("cbup", d->type[0]) || d->type[0] == '\0')
		return oerr_set(err, EINVAL, "%s.type: must be one of c, b, u, p", p);
	const char *base = strrchr(d->path, '/') + 1;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return oerr_set(err, EINVAL, "%s.path: must name a file, not a directory", p);
	unsigned need = d->type[0] == 'p' ? 0 : CJ_REQUIRED;
	if ((r = cj_i64(it, "major", p, need, 0, 4095, &d->major, NULL, err)) < 0 ||
	    (r = cj_i64(it, "minor", p, need, 0, 1048575, &d->minor, NULL, err)) < 0 ||
	    (r = cj_u64(it, "fileMode", p, 0, 0, 07777, &v, &d->has_file_mode, err)) < 0)
		return r;
	d->file_mode = (uint32_t)v;
	/* (uid_t)-1 is chown's "unchanged", not an owner */
	if ((r = cj_u64(it, "uid", p, 0, 0, UINT32_MAX - 1, &v, &d->has_uid, err)) < 0)
		return r;
	d->uid = (uint32_t)v;
	if ((r = cj_u64(it, "gid", p, 0, 0, UINT32_MAX - 1, &v, &d->has_gid, err)) < 0)
		return r;
	d->gid = (uint32_t)v;
	return 0;
}

static int parse_resources(const cJSON *lx, struct ops_linux *l, struct oerr *err)
{
	const cJSON *res = NULL, *mem = NULL, *cpu = NULL, *pids = NULL;
	int r = cj_object(lx, "resources", "linux", 0, &res, err);

	if (r < 0 || !res)
		return r;
	if ((r = cj_object(res, "memory", "linux.resources", 0, &mem, err)) < 0 ||
	    (r = cj_object(res, "cpu", "linux.resources", 0, &cpu, err)) < 0 ||
	    (r = cj_object(res, "pids", "linux.resources", 0, &pids, err)) < 0)
		return r;
	if ((r = cj_i64(mem, "limit", "linux.resources.memory", 0, -1, INT64_MAX,
			&l->memory_limit, &l->has_memory_limit, err)) < 0 ||
	    (r = cj_i64(cpu, "quota", "linux.resources.cpu", 0, -1, INT64_MAX,
			&l->cpu_quota, &l->has_cpu_quota, err)) < 0 ||
	    (r = cj_u64(cpu, "period", "linux.resources.cpu", 0, 1, UINT64_MAX,
			&l->cpu_period, &l->has_cpu_period, err)) < 0 ||
	    (r = cj_u64(cpu, "shares", "linux.resources.cpu", 0, 2, 262144,
			&l->cpu_shares, &l->has_cpu_shares, err)) < 0 ||
	    (r = cj_i64(pids, "limit", "linux.resources.pids", 0, -1, INT64_MAX,
			&l->pids_limit, &l->has_pids_limit, err)) < 0 ||
	    (r = cj_string(cpu, "cpus", "linux.resources.cpu", 0, 256, &l->cpus, err)) < 0)
		return r;
	if (l->cpus && (l->cpus[0] == '\0' || strspn(l->cpus, "0123456789,-") != strlen(l->cpus)))
		return oerr_set(err, EINVAL, "linux.resources.cpu.cpus: must be a cpu list like 0-3,6");
	return 0;
}

static int parse_lists(const cJSON *lx, struct ops_linux *l, struct oerr *err)
{
	const cJSON *arr = NULL, *it;
	char p[CJ_PATH_MAX];
	int r = cj_array(lx, "namespaces", "linux", 0, 16, &arr, err);

	if (r < 0)
		return r;
	if (arr) {
		l->namespaces = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*l->namespaces));
		if (!l->namespaces)
			return -ENOMEM;
		cJSON_ArrayForEach(it, arr)
			if ((r = parse_namespace(it, cj_index(p, "linux.namespaces", l->n_namespaces),
						 l, err)) < 0)
				return r;
	}
	if ((r = cj_array(lx, "devices", "linux", 0, OPS_CFG_MAX_LIST, &arr, err)) < 0)
		return r;
	if (arr) {
		l->devices = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*l->devices));
		if (!l->devices)
			return -ENOMEM;
		cJSON_ArrayForEach(it, arr) {
			struct ops_device *d = &l->devices[l->n_devices++];
			if ((r = parse_device(it, cj_index(p, "linux.devices", l->n_devices - 1),
					      d, err)) < 0)
				return r;
		}
	}
	return 0;
}

int ops_config_parse_linux(const cJSON *top, struct ops_config *cfg, struct oerr *err)
{
	const cJSON *lx = NULL;
	struct ops_linux *l = &cfg->linux_;
	int r = cj_object(top, "linux", "", 0, &lx, err);

	if (r < 0 || !lx)
		return r;
	cfg->has_linux = true;
	if ((r = parse_lists(lx, l, err)) < 0 ||
	    (r = parse_resources(lx, l, err)) < 0 ||
	    (r = ops_kvs_parse(lx, "sysctl", "linux", OPS_CFG_MAX_LIST, &l->sysctl, err)) < 0 ||
	    (r = cj_strv(lx, "maskedPaths", "linux", CJ_ABS, OPS_CFG_MAX_LIST, PATH_MAX - 1,
			 &l->masked_paths, err)) < 0)
		return r;
	return cj_strv(lx, "readonlyPaths", "linux", CJ_ABS, OPS_CFG_MAX_LIST, PATH_MAX - 1,
		       &l->readonly_paths, err);
}

void ops_config_free_linux(struct ops_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++) {
		free(l->namespaces[i].type);
		free(l->namespaces[i].path);
	}
	free(l->namespaces);
	for (size_t i = 0; i < l->n_devices; i++) {
		free(l->devices[i].type);
		free(l->devices[i].path);
	}
	free(l->devices);
	free(l->cpus);
	ops_kvs_free(&l->sysctl);
	cj_strv_free(&l->masked_paths);
	cj_strv_free(&l->readonly_paths);
}

const char *ops_config_netns(const struct ops_config *cfg)
{
	for (size_t i = 0; i < cfg->linux_.n_namespaces; i++)
		if (strcmp(cfg->linux_.namespaces[i].type, "network") == 0)
			return cfg->linux_.namespaces[i].path;
	return NULL;
}

/* Opened by O_PATH first: a FIFO or a device is never opened for real;
 * only a file of nsfs is, to ask its type. */
int ops_config_netns_check(const struct ops_config *cfg, uid_t bundle_uid, struct oerr *err)
{
	const struct ops_linux *l = &cfg->linux_;
	struct statfs sfs;
	char self[64];
	size_t i;

	for (i = 0; i < l->n_namespaces; i++)
		if (strcmp(l->namespaces[i].type, "network") == 0 && l->namespaces[i].path)
			break;
	if (i == l->n_namespaces)
		return 0;
	const char *p = l->namespaces[i].path;
	if (bundle_uid != 0)
		return oerr_set(err, EPERM, "linux.namespaces[%zu].path %.200s: the bundle belongs "
				"to uid %u: joining a network namespace (its interfaces are handed "
				"to the VM) takes a bundle owned by root: refused", i, p,
				(unsigned)bundle_uid);
	int pfd = open(p, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return oerr_set(err, EINVAL, "linux.namespaces[%zu].path %.200s: %s", i, p,
				strerror(errno));
	if (fstatfs(pfd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
		close(pfd);
		return oerr_set(err, EINVAL, "linux.namespaces[%zu].path %.200s: not a namespace "
				"file (nsfs: /proc/PID/ns/net or a bind mount of one, as "
				"/run/netns/NAME)", i, p);
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	int fd = open(self, O_RDONLY | O_CLOEXEC);
	close(pfd);
	if (fd < 0)
		return oerr_sys(err, errno, "linux.namespaces[%zu].path %.200s", i, p);
	int type = ioctl(fd, NS_GET_NSTYPE);
	int e = errno;
	close(fd);
	if (type < 0)
		return oerr_sys(err, e, "linux.namespaces[%zu].path %.200s: NS_GET_NSTYPE", i, p);
	if (type != CLONE_NEWNET)
		return oerr_set(err, EINVAL, "linux.namespaces[%zu].path %.200s: a namespace, but "
				"not a network namespace", i, p);
	return 0;
}
