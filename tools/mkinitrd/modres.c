/* Module resolution (see modres.h).  A depth-first walk: a module's soft
 * "pre" dependencies and hard dependencies are appended before it, so the
 * list is a valid load order whatever order modules.dep keeps. */
#include "modres.h"
#include "cleanup.h"

#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MODRES_DEPTH 32

static void kmod_ctx_unrefp(struct kmod_ctx **c) { if (*c) kmod_unref(*c); }
static void kmod_list_unrefp(struct kmod_list **l) { if (*l) kmod_module_unref_list(*l); }

int modres_find_dir(const char *dir, const char *release, char *ret, size_t cap,
		    struct oerr *err)
{
	static const char *const fmts[] = { "%s", "%s/lib/modules/%s", "%s/%s" };
	char probe[4096];
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(fmts); i++) {
		snprintf(ret, cap, fmts[i], dir, release);
		snprintf(probe, sizeof(probe), "%s/modules.dep", ret);
		if (stat(probe, &st) == 0)
			return 0;
	}
	return oerr_set(err, ENOENT, "%s: no modules.dep for %s (run depmod -b)", dir, release);
}

static int modres_has(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

static int modres_add(char **v, size_t *n, const char *s)
{
	if (*n >= MODRES_MAX)
		return -E2BIG;
	if (!(v[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int modres_visit(struct kmod_module *m, struct modres_list *l, int depth,
			struct oerr *err);

static int modres_visit_list(struct kmod_list *list, struct modres_list *l, int depth,
			     struct oerr *err)
{
	struct kmod_list *it;
	int r;

	kmod_list_foreach(it, list) {
		struct kmod_module *d = kmod_module_get_module(it);
		r = modres_visit(d, l, depth + 1, err);
		kmod_module_unref(d);
		if (r < 0)
			return r;
	}
	return 0;
}

static int modres_visit(struct kmod_module *m, struct modres_list *l, int depth,
			struct oerr *err)
{
	const char *name = kmod_module_get_name(m), *path = kmod_module_get_path(m);
	_cleanup_(kmod_list_unrefp) struct kmod_list *pre = NULL, *post = NULL, *deps = NULL;
	int r;

	if (depth > MODRES_DEPTH)
		return oerr_set(err, ELOOP, "module %s: dependency chain too deep", name);
	if (!path) {
		if (!modres_has(l->builtin, l->n_builtin, name) &&
		    modres_add(l->builtin, &l->n_builtin, name) < 0)
			return oerr_set(err, E2BIG, "too many modules");
		return 0;
	}
	if (modres_has(l->names, l->n, name))
		return 0;
	if (kmod_module_get_softdeps(m, &pre, &post) == 0) {
		r = modres_visit_list(pre, l, depth, err);
		if (r < 0)
			return r;
	}
	deps = kmod_module_get_dependencies(m);
	r = modres_visit_list(deps, l, depth, err);
	if (r < 0)
		return r;
	if (modres_has(l->names, l->n, name))
		return 0;
	if (l->n >= MODRES_MAX)
		return oerr_set(err, E2BIG, "more than %d modules", MODRES_MAX);
	l->paths[l->n] = strdup(path);
	l->names[l->n] = strdup(name);
	if (!l->paths[l->n] || !l->names[l->n]) {
		l->n++;
		return oerr_set(err, ENOMEM, "out of memory");
	}
	l->n++;
	return 0;
}

static int modres_one(struct kmod_ctx *ctx, const char *name, struct modres_list *l,
		      struct oerr *err)
{
	_cleanup_(kmod_list_unrefp) struct kmod_list *list = NULL;
	int r = kmod_module_new_from_lookup(ctx, name, &list);

	if (r < 0)
		return oerr_sys(err, -r, "module %s: lookup", name);
	if (!list)
		return oerr_set(err, ENOENT, "module %s: not found (neither a module nor built in)", name);
	return modres_visit_list(list, l, 0, err);
}

int modres_resolve(const char *moddir, const char *const *names, size_t n,
		   struct modres_list *ret, struct oerr *err)
{
	_cleanup_(kmod_ctx_unrefp) struct kmod_ctx *ctx = NULL;
	const char *cfg[] = { "/nonexistent-ocivm-modprobe.d", NULL };
	int r;

	memset(ret, 0, sizeof(*ret));
	/* No host modprobe.d config: the tree must speak for itself. */
	ctx = kmod_new(moddir, cfg);
	if (!ctx)
		return oerr_set(err, ENOMEM, "%s: kmod_new failed", moddir);
	r = kmod_load_resources(ctx);
	if (r < 0)
		return oerr_sys(err, -r, "%s: loading modules indexes", moddir);
	for (size_t i = 0; i < n; i++) {
		r = modres_one(ctx, names[i], ret, err);
		if (r < 0) {
			modres_free(ret);
			return r;
		}
	}
	return 0;
}

void modres_free(struct modres_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->names[i]);
		free(l->paths[i]);
	}
	for (size_t i = 0; i < l->n_builtin; i++)
		free(l->builtin[i]);
	l->n = l->n_builtin = 0;
}
