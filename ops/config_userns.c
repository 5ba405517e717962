/* config.json: linux.uidMappings and linux.gidMappings.  ocivm-init applies
 * them to a user namespace of the container's process (vm/guest/userns.c),
 * so they are only meaningful with a `user` entry in linux.namespaces; as
 * runc does, either without the other is refused. */
#include "ops/config_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int parse_idmap(const cJSON *it, const char *p, struct ops_idmap *m, struct oerr *err)
{
	uint64_t c = 0, h = 0, n = 0;
	int r;

	if (!cJSON_IsObject(it))
		return oerr_set(err, EINVAL, "%s: must be an object", p);
	if ((r = cj_u64(it, "containerID", p, CJ_REQUIRED, 0, UINT32_MAX, &c, NULL, err)) < 0 ||
	    (r = cj_u64(it, "hostID", p, CJ_REQUIRED, 0, UINT32_MAX, &h, NULL, err)) < 0 ||
	    (r = cj_u64(it, "size", p, CJ_REQUIRED, 1, UINT32_MAX, &n, NULL, err)) < 0)
		return r;
	if (c + n > 1ull + UINT32_MAX || h + n > 1ull + UINT32_MAX)
		return oerr_set(err, EINVAL, "%s: the range passes 4294967295", p);
	*m = (struct ops_idmap){ (uint32_t)c, (uint32_t)h, (uint32_t)n };
	return 0;
}

/* The kernel refuses overlapping ranges on either side (user_namespaces(7)). */
static int check_overlap(const struct ops_idmap *v, size_t n, const char *key, struct oerr *err)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			const struct ops_idmap *a = &v[i], *b = &v[j];
			bool cc = (uint64_t)a->container_id < (uint64_t)b->container_id + b->size &&
				  (uint64_t)b->container_id < (uint64_t)a->container_id + a->size;
			bool hh = (uint64_t)a->host_id < (uint64_t)b->host_id + b->size &&
				  (uint64_t)b->host_id < (uint64_t)a->host_id + a->size;
			if (cc || hh)
				return oerr_set(err, EINVAL, "linux.%s[%zu]: overlaps linux.%s[%zu]",
						key, i, key, j);
		}
	return 0;
}

static int parse_idmaps(const cJSON *lx, const char *key, struct ops_idmap *v, size_t *ret_n,
			struct oerr *err)
{
	const cJSON *arr = NULL, *it;
	char path[CJ_PATH_MAX], base[CJ_PATH_MAX];
	int r = cj_array(lx, key, "linux", 0, OPS_CFG_MAX_IDMAPS, &arr, err);

	if (r < 0 || !arr)
		return r;
	cj_join(base, "linux", key);
	cJSON_ArrayForEach(it, arr) {
		if ((r = parse_idmap(it, cj_index(path, base, *ret_n), &v[*ret_n], err)) < 0)
			return r;
		(*ret_n)++;
	}
	return check_overlap(v, *ret_n, key, err);
}

static bool mapped(const struct ops_idmap *v, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= v[i].container_id && (uint64_t)id < (uint64_t)v[i].container_id + v[i].size)
			return true;
	return false;
}

/* The process's ids must exist inside the namespace, or setuid/setgid in
 * the guest would fail only at start. */
static int check_process_ids(const struct ops_config *cfg, struct oerr *err)
{
	const struct ops_process *p = &cfg->process;
	const struct ops_linux *l = &cfg->linux_;

	if (!p->present)
		return 0;
	if (!mapped(l->uid_maps, l->n_uid_maps, p->uid))
		return oerr_set(err, EINVAL, "process.user.uid: %u is not mapped by linux.uidMappings",
				p->uid);
	if (!mapped(l->gid_maps, l->n_gid_maps, p->gid))
		return oerr_set(err, EINVAL, "process.user.gid: %u is not mapped by linux.gidMappings",
				p->gid);
	for (size_t i = 0; i < p->n_gids; i++)
		if (!mapped(l->gid_maps, l->n_gid_maps, p->gids[i]))
			return oerr_set(err, EINVAL, "process.user.additionalGids[%zu]: %u is not "
					"mapped by linux.gidMappings", i, p->gids[i]);
	return 0;
}

static bool has_userns(const struct ops_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (strcmp(l->namespaces[i].type, "user") == 0)
			return true;
	return false;
}

int ops_config_parse_userns(const cJSON *top, struct ops_config *cfg, struct oerr *err)
{
	const cJSON *lx = top ? cJSON_GetObjectItemCaseSensitive(top, "linux") : NULL;
	struct ops_linux *l = &cfg->linux_;
	int r;

	if (!cJSON_IsObject(lx))
		return 0;
	if ((r = parse_idmaps(lx, "uidMappings", l->uid_maps, &l->n_uid_maps, err)) < 0 ||
	    (r = parse_idmaps(lx, "gidMappings", l->gid_maps, &l->n_gid_maps, err)) < 0)
		return r;
	if (!has_userns(l)) {
		if (l->n_uid_maps || l->n_gid_maps)
			return oerr_set(err, EINVAL, "linux.%s: mappings need a user namespace "
					"in linux.namespaces", l->n_uid_maps ? "uidMappings" : "gidMappings");
		return 0;
	}
	if (!l->n_uid_maps || !l->n_gid_maps)
		return oerr_set(err, EINVAL, "linux.namespaces: a user namespace needs "
				"linux.uidMappings and linux.gidMappings");
	return check_process_ids(cfg, err);
}
