/* config.json: top level, root, process, hostname, annotations; the linux,
 * mounts, hooks and vm sections are in config_linux.c and config_vm.c. */
#include "ops/config.h"
#include "ops/config_int.h"
#include "cleanup.h"
#include "captab.h"
#include "fileio.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ops_cap_set_names[OPS_CAP_SETS] = {
	"bounding", "effective", "inheritable", "permitted", "ambient",
};

static const char *const rlimit_names[] = {
	"RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE",
	"RLIMIT_LOCKS", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
	"RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_RSS", "RLIMIT_RTPRIO",
	"RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};

/* "1.0.x" .. "1.3.x", optionally followed by -suffix or +suffix */
static int check_oci_version(const char *v, struct oerr *err)
{
	const char *p = v + 4;
	bool ok = strncmp(v, "1.", 2) == 0 && v[2] >= '0' && v[2] <= '3' && v[3] == '.' &&
		  *p >= '0' && *p <= '9';

	while (ok && *p >= '0' && *p <= '9')
		p++;
	if (!ok || (*p != '\0' && *p != '-' && *p != '+'))
		return oerr_set(err, EINVAL, "ociVersion: \"%.64s\" is not supported (1.0.x to 1.3.x)", v);
	return 0;
}

int ops_kvs_parse(const cJSON *obj, const char *key, const char *path, size_t max,
		  struct ops_kvs *ret, struct oerr *err)
{
	char p[CJ_PATH_MAX], pk[CJ_PATH_MAX + 80];
	const cJSON *o = NULL, *it;
	int r = cj_object(obj, key, path, 0, &o, err);

	if (r < 0 || !o)
		return r;
	cj_join(p, path, key);
	size_t n = (size_t)cJSON_GetArraySize(o);
	if (n > max)
		return oerr_set(err, EINVAL, "%s: more than %zu entries", p, max);
	ret->v = calloc(n + 1, sizeof(*ret->v));
	if (!ret->v)
		return -ENOMEM;
	cJSON_ArrayForEach(it, o) {
		struct ops_kv *kv = &ret->v[ret->n];
		if (!it->string || !*it->string || strlen(it->string) > OPS_CFG_MAX_STR)
			return oerr_set(err, EINVAL, "%s: keys must be 1 to %d bytes", p, OPS_CFG_MAX_STR);
		snprintf(pk, sizeof(pk), "%s[\"%.64s\"]", p, it->string);
		r = cj_string_value(it, pk, 0, OPS_CFG_MAX_STR, &kv->value, err);
		if (r < 0)
			return r;
		ret->n++;
		kv->key = strdup(it->string);
		if (!kv->key)
			return -ENOMEM;
	}
	return 0;
}

void ops_kvs_free(struct ops_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++) {
		free(kvs->v[i].key);
		free(kvs->v[i].value);
	}
	free(kvs->v);
}

static int parse_root(const cJSON *top, struct ops_config *cfg, struct oerr *err)
{
	const cJSON *root = NULL;
	int r = cj_object(top, "root", "", CJ_REQUIRED, &root, err);

	if (r < 0)
		return r;
	r = cj_string(root, "path", "root", CJ_REQUIRED | CJ_NONEMPTY, PATH_MAX - 1,
		      &cfg->root_path, err);
	if (r < 0)
		return r;
	return cj_bool(root, "readonly", "root", 0, &cfg->root_readonly, err);
}

static int parse_user(const cJSON *proc, struct ops_process *p, struct oerr *err)
{
	const cJSON *user = NULL, *gids = NULL, *it = NULL;
	uint64_t v = 0;
	bool has = false;
	char pi[CJ_PATH_MAX];
	int r = cj_object(proc, "user", "process", CJ_REQUIRED, &user, err);

	if (r < 0)
		return r;
	if ((r = cj_u64(user, "uid", "process.user", CJ_REQUIRED, 0, UINT32_MAX, &v, NULL, err)) < 0)
		return r;
	p->uid = (uint32_t)v;
	if ((r = cj_u64(user, "gid", "process.user", CJ_REQUIRED, 0, UINT32_MAX, &v, NULL, err)) < 0)
		return r;
	p->gid = (uint32_t)v;
	if ((r = cj_u64(user, "umask", "process.user", 0, 0, 0777, &v, &has, err)) < 0)
		return r;
	p->umask = has ? (int)v : -1;
	r = cj_array(user, "additionalGids", "process.user", 0, OPS_CFG_MAX_LIST, &gids, err);
	if (r < 0 || !gids)
		return r;
	p->gids = calloc((size_t)cJSON_GetArraySize(gids) + 1, sizeof(*p->gids));
	if (!p->gids)
		return -ENOMEM;
	cJSON_ArrayForEach(it, gids) {
		r = cj_u64_value(it, cj_index(pi, "process.user.additionalGids", p->n_gids),
				 0, UINT32_MAX, &v, err);
		if (r < 0)
			return r;
		p->gids[p->n_gids++] = (uint32_t)v;
	}
	return 0;
}

static int parse_rlimit(const cJSON *it, const char *path, struct ops_process *p,
			struct oerr *err)
{
	struct ops_rlimit *rl = &p->rlimits[p->n_rlimits];
	size_t k;
	int r;

	if (!cJSON_IsObject(it))
		return oerr_set(err, EINVAL, "%s: must be an object", path);
	if ((r = cj_string(it, "type", path, CJ_REQUIRED, 32, &rl->type, err)) < 0)
		return r;
	p->n_rlimits++;
	for (k = 0; k < ARRAY_SIZE(rlimit_names); k++)
		if (strcmp(rl->type, rlimit_names[k]) == 0)
			break;
	if (k == ARRAY_SIZE(rlimit_names))
		return oerr_set(err, EINVAL, "%s.type: unknown rlimit \"%s\"", path, rl->type);
	for (size_t j = 0; j + 1 < p->n_rlimits; j++)
		if (strcmp(p->rlimits[j].type, rl->type) == 0)
			return oerr_set(err, EINVAL, "%s.type: duplicate %s", path, rl->type);
	if ((r = cj_u64(it, "soft", path, CJ_REQUIRED, 0, UINT64_MAX, &rl->soft, NULL, err)) < 0)
		return r;
	if ((r = cj_u64(it, "hard", path, CJ_REQUIRED, 0, UINT64_MAX, &rl->hard, NULL, err)) < 0)
		return r;
	if (rl->soft > rl->hard)
		return oerr_set(err, EINVAL, "%s: soft above hard", path);
	return 0;
}

static int parse_rlimits(const cJSON *proc, struct ops_process *p, struct oerr *err)
{
	const cJSON *arr = NULL, *it;
	char pi[CJ_PATH_MAX];
	int r = cj_array(proc, "rlimits", "process", 0, 64, &arr, err);

	if (r < 0 || !arr)
		return r;
	p->rlimits = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*p->rlimits));
	if (!p->rlimits)
		return -ENOMEM;
	cJSON_ArrayForEach(it, arr) {
		r = parse_rlimit(it, cj_index(pi, "process.rlimits", p->n_rlimits), p, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_caps(const cJSON *proc, struct ops_process *p, struct oerr *err)
{
	const cJSON *caps = NULL;
	char pi[CJ_PATH_MAX], ps[CJ_PATH_MAX];
	int r = cj_object(proc, "capabilities", "process", 0, &caps, err);

	if (r < 0 || !caps)
		return r;
	for (int s = 0; s < OPS_CAP_SETS; s++) {
		r = cj_strv(caps, ops_cap_set_names[s], "process.capabilities", 0, 64, 64,
			    &p->caps[s], err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < p->caps[s].n; i++) {
			const char *c = p->caps[s].v[i];
			if (strncmp(c, "CAP_", 4) != 0 || strlen(c) < 5 ||
			    strspn(c + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(c + 4))
				return oerr_set(err, EINVAL, "%s: \"%.64s\" is not a capability name",
						cj_index(pi, cj_join(ps, "process.capabilities",
								     ops_cap_set_names[s]), i), c);
			if (captab_index(c) < 0)
				return oerr_set(err, EINVAL, "%s: unknown capability %.64s",
						cj_index(pi, cj_join(ps, "process.capabilities",
								     ops_cap_set_names[s]), i), c);
		}
	}
	return 0;
}

static int parse_env_args(const cJSON *proc, struct ops_process *p, struct oerr *err)
{
	char pi[CJ_PATH_MAX];
	int r = cj_strv(proc, "args", "process", 0, OPS_CFG_MAX_ARGS, OPS_CFG_MAX_STR,
			&p->args, err);

	if (r < 0)
		return r;
	r = cj_strv(proc, "env", "process", 0, OPS_CFG_MAX_ARGS, OPS_CFG_MAX_STR, &p->env, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->env.n; i++) {
		const char *eq = strchr(p->env.v[i], '=');
		if (!eq || eq == p->env.v[i])
			return oerr_set(err, EINVAL, "%s: must be NAME=VALUE",
					cj_index(pi, "process.env", i));
	}
	return 0;
}

/* process.consoleSize {height, width}: both required, each 1..65535; 0 0
 * is read as absent, as runc does (docker sends it when its own output is
 * not a terminal). */
static int parse_console_size(const cJSON *proc, struct ops_process *p, struct oerr *err)
{
	const cJSON *sz = NULL;
	uint64_t h = 0, w = 0;
	int r = cj_object(proc, "consoleSize", "process", 0, &sz, err);

	if (r < 0 || !sz)
		return r;
	if ((r = cj_u64(sz, "height", "process.consoleSize", CJ_REQUIRED, 0, UINT16_MAX, &h,
			NULL, err)) < 0 ||
	    (r = cj_u64(sz, "width", "process.consoleSize", CJ_REQUIRED, 0, UINT16_MAX, &w,
			NULL, err)) < 0)
		return r;
	if (!h != !w)
		return oerr_set(err, EINVAL, "process.consoleSize.%s: must be 1 to 65535 "
				"(or both 0: no size)", h ? "width" : "height");
	p->console_height = (uint16_t)h;
	p->console_width = (uint16_t)w;
	return 0;
}

static int parse_process(const cJSON *top, struct ops_process *p, struct oerr *err)
{
	const cJSON *proc = NULL;
	int64_t oom = 0;
	int r = cj_object(top, "process", "", 0, &proc, err);

	if (r < 0 || !proc)
		return r;
	p->present = true;
	if ((r = cj_bool(proc, "terminal", "process", 0, &p->terminal, err)) < 0 ||
	    (r = parse_user(proc, p, err)) < 0 ||
	    (r = parse_env_args(proc, p, err)) < 0 ||
	    (r = cj_string(proc, "cwd", "process", CJ_REQUIRED | CJ_ABS, PATH_MAX - 1,
			   &p->cwd, err)) < 0 ||
	    (r = parse_rlimits(proc, p, err)) < 0 ||
	    (r = cj_bool(proc, "noNewPrivileges", "process", 0, &p->no_new_privileges, err)) < 0 ||
	    (r = parse_caps(proc, p, err)) < 0 ||
	    (r = parse_console_size(proc, p, err)) < 0)
		return r;
	r = cj_i64(proc, "oomScoreAdj", "process", 0, -1000, 1000, &oom, &p->has_oom_score_adj, err);
	p->oom_score_adj = (int)oom;
	return r;
}

static void process_free(struct ops_process *p);

static int parse_names(const cJSON *top, struct ops_config *cfg, struct oerr *err)
{
	int r = cj_string(top, "hostname", "", 0, 64, &cfg->hostname, err);
	if (r < 0)
		return r;
	r = cj_string(top, "domainname", "", 0, 64, &cfg->domainname, err);
	if (r < 0)
		return r;
	return ops_kvs_parse(top, "annotations", "", OPS_CFG_MAX_LIST, &cfg->annotations, err);
}

static int parse_top(const cJSON *top, struct ops_config *cfg, struct oerr *err)
{
	int r;

	if (!cJSON_IsObject(top))
		return oerr_set(err, EINVAL, "config.json: must be a JSON object");
	if ((r = cj_string(top, "ociVersion", "", CJ_REQUIRED, 64, &cfg->oci_version, err)) < 0 ||
	    (r = check_oci_version(cfg->oci_version, err)) < 0 ||
	    (r = parse_root(top, cfg, err)) < 0 ||
	    (r = parse_process(top, &cfg->process, err)) < 0 ||
	    (r = parse_names(top, cfg, err)) < 0 ||
	    (r = ops_config_parse_mounts(top, cfg, err)) < 0 ||
	    (r = ops_config_parse_hooks(top, cfg, err)) < 0 ||
	    (r = ops_config_parse_linux(top, cfg, err)) < 0 ||
	    (r = ops_config_parse_userns(top, cfg, err)) < 0)
		return r;
	return ops_config_parse_vm(top, &cfg->vm, err);
}

int ops_config_parse(const char *json, size_t len, struct ops_config **ret, struct oerr *err)
{
	const char *end = NULL;

	if (len > OPS_CFG_MAX_BYTES)
		return oerr_set(err, E2BIG, "config.json: larger than %u bytes", OPS_CFG_MAX_BYTES);
	cJSON *top = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!top) {
		size_t off = end && end >= json ? (size_t)(end - json) : 0;
		return oerr_set(err, EINVAL, "config.json: invalid JSON near byte %zu", off);
	}
	for (; end && end < json + len; end++)
		if (*end != ' ' && *end != '\n' && *end != '\t' && *end != '\r' && *end != '\0') {
			cJSON_Delete(top);
			return oerr_set(err, EINVAL, "config.json: trailing bytes after the JSON value");
		}
	struct ops_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		cJSON_Delete(top);
		return oerr_set(err, ENOMEM, "config.json: out of memory");
	}
	cfg->process.umask = -1;
	int r = parse_top(top, cfg, err);
	cJSON_Delete(top);
	if (r < 0) {
		if (r == -ENOMEM)
			oerr_set(err, ENOMEM, "config.json: out of memory");
		ops_config_free(cfg);
		return r;
	}
	*ret = cfg;
	return 0;
}

int ops_config_load(const char *bundle, struct ops_config **ret, char **ret_text,
		    struct oerr *err)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct ops_config *cfg = NULL;

	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path))
		return oerr_set(err, ENAMETOOLONG, "bundle: path too long");
	int r = file_read_all(path, OPS_CFG_MAX_BYTES, &text, &len);
	if (r == -EFBIG)
		return oerr_set(err, E2BIG, "config.json: larger than %u bytes", OPS_CFG_MAX_BYTES);
	if (r == -ENOENT)   /* EINVAL for the caller, but the reason is the missing file */
		return oerr_set(err, EINVAL, "bundle: %s: no such file (a bundle needs one)", path);
	if (r < 0)
		return oerr_sys(err, -r, "bundle: cannot read %s", path);
	r = ops_config_parse(text, len, &cfg, err);
	if (r < 0)
		return r;
	*ret = cfg;
	if (ret_text)
		*ret_text = TAKE_PTR(text);
	return 0;
}

int ops_process_parse(const char *json, size_t len, struct ops_process *ret, struct oerr *err)
{
	const char *end = NULL;

	memset(ret, 0, sizeof(*ret));
	ret->umask = -1;
	if (len > OPS_CFG_MAX_BYTES)
		return oerr_set(err, E2BIG, "process.json: larger than %u bytes", OPS_CFG_MAX_BYTES);
	cJSON *proc = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!proc) {
		size_t off = end && end >= json ? (size_t)(end - json) : 0;
		return oerr_set(err, EINVAL, "process.json: invalid JSON near byte %zu", off);
	}
	if (!cJSON_IsObject(proc)) {
		cJSON_Delete(proc);
		return oerr_set(err, EINVAL, "process: must be an object");
	}
	cJSON *top = cJSON_CreateObject();
	if (!top) {
		cJSON_Delete(proc);
		return oerr_set(err, ENOMEM, "process.json: out of memory");
	}
	cJSON_AddItemToObject(top, "process", proc);
	int r = parse_process(top, ret, err);
	cJSON_Delete(top);
	if (r == 0 && ret->args.n == 0)
		r = oerr_set(err, EINVAL, "process.args: at least one argument is required");
	if (r < 0)
		ops_process_free(ret);
	return r;
}

void ops_process_free(struct ops_process *p)
{
	process_free(p);
	memset(p, 0, sizeof(*p));
}

static void process_free(struct ops_process *p)
{
	free(p->gids);
	cj_strv_free(&p->args);
	cj_strv_free(&p->env);
	free(p->cwd);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	for (int s = 0; s < OPS_CAP_SETS; s++)
		cj_strv_free(&p->caps[s]);
}

void ops_config_free(struct ops_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->oci_version);
	free(cfg->root_path);
	process_free(&cfg->process);
	free(cfg->hostname);
	free(cfg->domainname);
	ops_kvs_free(&cfg->annotations);
	ops_config_free_mounts_hooks(cfg);
	ops_config_free_linux(&cfg->linux_);
	ops_config_free_vm(&cfg->vm);
	free(cfg);
}
