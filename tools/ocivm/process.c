/* exec's process.json: the runtime-spec `process` object the tree takes
 * (`exec NAME /abs/process.json` on ID/ctl), from --process FILE as is, or
 * built as runc builds it: the container's own process (config.json of its
 * bundle) with the command line's args, terminal, env, cwd, user, caps and
 * noNewPrivileges on top.  Pure: no tree, no files but the ones named. */
#include "ocivm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "captab.h"
#include "cleanup.h"
#include "fileio.h"

#define PROCESS_MAX_BYTES (1 << 20)
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* "1000", "1000:1000": runc takes numbers only (names need the rootfs). */
int process_parse_user(const char *s, unsigned *uid, unsigned *gid, bool *has_gid)
{
	char *end;
	unsigned long u, g = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	u = strtoul(s, &end, 10);
	if (errno || end == s || u > 0xfffffffeUL || (*end && *end != ':'))
		return -EINVAL;
	*has_gid = *end == ':';
	if (*has_gid) {
		const char *gs = end + 1;
		if (!*gs || *gs == '-')
			return -EINVAL;
		g = strtoul(gs, &end, 10);
		if (errno || end == gs || *end || g > 0xfffffffeUL)
			return -EINVAL;
	}
	*uid = (unsigned)u;
	*gid = (unsigned)g;
	return 0;
}

/* Object member `name` of o, made an object/array of that type if it is
 * missing or of another type. */
static cJSON *member(cJSON *o, const char *name, bool array)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	if (m && (array ? cJSON_IsArray(m) : cJSON_IsObject(m)))
		return m;
	m = array ? cJSON_CreateArray() : cJSON_CreateObject();
	if (m && !cJSON_ReplaceItemInObjectCaseSensitive(o, name, m) &&
	    !cJSON_AddItemToObject(o, name, m))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static void set_item(cJSON *o, const char *name, cJSON *v)
{
	if (!cJSON_ReplaceItemInObjectCaseSensitive(o, name, v))
		cJSON_AddItemToObject(o, name, v);
}

/* K=V replaces an entry with the same K, else is appended (later -e wins). */
static void env_set(cJSON *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	cJSON *e;
	int i = 0;

	cJSON_ArrayForEach(e, env) {
		if (cJSON_IsString(e) && !strncmp(e->valuestring, kv, klen) &&
		    (e->valuestring[klen] == '=' || !e->valuestring[klen])) {
			cJSON_ReplaceItemInArray(env, i, cJSON_CreateString(kv));
			return;
		}
		i++;
	}
	cJSON_AddItemToArray(env, cJSON_CreateString(kv));
}

static bool array_has(const cJSON *arr, const char *s)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr)
		if (cJSON_IsString(e) && !strcasecmp(e->valuestring, s))
			return true;
	return false;
}

/* --cap X: into bounding, effective, permitted, and ambient when the
 * process has inheritable ones (as runc: ambient needs inheritable). */
static int add_caps(cJSON *proc, const struct ocivm_args *a, struct oerr *err)
{
	static const char *const sets[] = { "bounding", "effective", "permitted", "ambient" };
	cJSON *caps, *inh;

	if (!a->n_caps)
		return 0;
	if (!(caps = member(proc, "capabilities", false)))
		return oerr_set(err, ENOMEM, "out of memory");
	inh = cJSON_GetObjectItemCaseSensitive(caps, "inheritable");
	for (size_t i = 0; i < a->n_caps; i++) {
		if (captab_index(a->caps[i]) < 0)
			return oerr_set(err, EINVAL, "--cap %s: unknown capability", a->caps[i]);
		for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
			cJSON *set;
			if (s == 3 && cJSON_GetArraySize(inh) == 0)
				continue;
			if (!(set = member(caps, sets[s], true)))
				return oerr_set(err, ENOMEM, "out of memory");
			if (!array_has(set, a->caps[i]))
				cJSON_AddItemToArray(set, cJSON_CreateString(a->caps[i]));
		}
	}
	return 0;
}

static int set_user(cJSON *proc, const struct ocivm_args *a, struct oerr *err)
{
	unsigned uid, gid;
	bool has_gid;
	cJSON *user, *gids;

	if (!(user = member(proc, "user", false)))
		return oerr_set(err, ENOMEM, "out of memory");
	if (a->user) {
		if (process_parse_user(a->user, &uid, &gid, &has_gid) < 0)
			return oerr_set(err, EINVAL, "--user %s: expected UID[:GID] (numbers)",
					a->user);
		set_item(user, "uid", cJSON_CreateNumber(uid));
		set_item(user, "gid", cJSON_CreateNumber(has_gid ? gid : 0));
		cJSON_DeleteItemFromObjectCaseSensitive(user, "username");
	}
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(user, "uid")))
		set_item(user, "uid", cJSON_CreateNumber(0));
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(user, "gid")))
		set_item(user, "gid", cJSON_CreateNumber(0));
	if (a->n_gids) {
		if (!(gids = member(user, "additionalGids", true)))
			return oerr_set(err, ENOMEM, "out of memory");
		for (size_t i = 0; i < a->n_gids; i++) {
			char *end;
			unsigned long g = strtoul(a->gids[i], &end, 10);
			if (!*a->gids[i] || *a->gids[i] == '-' || *end || g > 0xfffffffeUL)
				return oerr_set(err, EINVAL, "--additional-gids %s: not a number",
						a->gids[i]);
			cJSON_AddItemToArray(gids, cJSON_CreateNumber((double)g));
		}
	}
	return 0;
}

/* The container's process without what is its own (args, terminal size):
 * the base of an exec built from flags.  base may be NULL. */
static cJSON *start_from(const cJSON *base)
{
	cJSON *p = cJSON_IsObject(base) ? cJSON_Duplicate(base, true) : cJSON_CreateObject();

	if (!p)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(p, "args");
	cJSON_DeleteItemFromObjectCaseSensitive(p, "commandLine");
	cJSON_DeleteItemFromObjectCaseSensitive(p, "consoleSize");
	if (!cJSON_GetObjectItemCaseSensitive(p, "cwd"))
		cJSON_AddStringToObject(p, "cwd", "/");
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(p, "env"))) {
		cJSON *env = member(p, "env", true);
		if (env)
			cJSON_AddItemToArray(env, cJSON_CreateString(DEFAULT_PATH));
	}
	return p;
}

static int from_flags(cJSON *p, const struct ocivm_args *a, struct oerr *err)
{
	cJSON *args, *env;
	int r;

	if (!a->n_exec_args)
		return oerr_set(err, EINVAL, "exec: args must not be empty "
				"(give CMD ARGS... or --process FILE)");
	if (!(args = member(p, "args", true)) || !(env = member(p, "env", true)))
		return oerr_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < a->n_exec_args; i++)
		cJSON_AddItemToArray(args, cJSON_CreateString(a->exec_args[i]));
	for (size_t i = 0; i < a->n_env; i++) {
		if (!strchr(a->env[i], '=') || a->env[i][0] == '=')
			return oerr_set(err, EINVAL, "--env %s: expected KEY=VALUE", a->env[i]);
		env_set(env, a->env[i]);
	}
	set_item(p, "terminal", cJSON_CreateBool(a->tty));
	if (a->cwd) {
		if (a->cwd[0] != '/')
			return oerr_set(err, EINVAL, "--cwd %s: must be an absolute path", a->cwd);
		set_item(p, "cwd", cJSON_CreateString(a->cwd));
	}
	if ((r = set_user(p, a, err)) < 0 || (r = add_caps(p, a, err)) < 0)
		return r;
	if (a->no_new_privs)
		set_item(p, "noNewPrivileges", cJSON_CreateTrue());
	return 0;
}

static int from_file(cJSON **ret, const char *path, struct oerr *err)
{
	_cleanup_free_ char *text = NULL;
	const cJSON *args;
	size_t len;
	int r;

	if ((r = file_read_all(path, PROCESS_MAX_BYTES, &text, &len)) < 0)
		return oerr_set(err, -r, "--process %s: %s", path, strerror(-r));
	if (!(*ret = cJSON_Parse(text)) || !cJSON_IsObject(*ret))
		return oerr_set(err, EINVAL, "--process %s: not a JSON object", path);
	args = cJSON_GetObjectItemCaseSensitive(*ret, "args");
	if (!cJSON_IsArray(args) || cJSON_GetArraySize(args) == 0)
		return oerr_set(err, EINVAL, "--process %s: args must not be empty", path);
	return 0;
}

int process_build(const struct ocivm_args *a, const cJSON *base, unsigned rows, unsigned cols,
		  char **ret_json, struct oerr *err)
{
	cJSON *p = NULL;
	int r;

	if (a->process) {
		/* runc: with --process the other process flags do not apply */
		r = from_file(&p, a->process, err);
	} else {
		p = start_from(base);
		r = p ? from_flags(p, a, err) : oerr_set(err, ENOMEM, "out of memory");
	}
	if (r == 0 && rows && cols && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "terminal")) &&
	    !cJSON_GetObjectItemCaseSensitive(p, "consoleSize")) {
		cJSON *sz = cJSON_AddObjectToObject(p, "consoleSize");
		if (sz) {
			cJSON_AddNumberToObject(sz, "height", rows);
			cJSON_AddNumberToObject(sz, "width", cols);
		}
	}
	if (r == 0 && !(*ret_json = cJSON_PrintUnformatted(p)))
		r = oerr_set(err, ENOMEM, "out of memory");
	cJSON_Delete(p);
	return r;
}

bool process_is_terminal(const char *json)
{
	cJSON *p = cJSON_Parse(json);
	bool t = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "terminal"));

	cJSON_Delete(p);
	return t;
}

cJSON *process_of_bundle(const char *bundle)
{
	char path[4200];
	_cleanup_free_ char *text = NULL;
	size_t len;
	cJSON *cfg, *p;

	if (!bundle || snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path))
		return NULL;
	if (file_read_all(path, 4 << 20, &text, &len) < 0 || !(cfg = cJSON_Parse(text)))
		return NULL;
	p = cJSON_DetachItemFromObjectCaseSensitive(cfg, "process");
	cJSON_Delete(cfg);
	return p;
}
