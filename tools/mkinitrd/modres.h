/* Module resolution with libkmod: the modules a guest needs and all their
 * dependencies (and "pre" soft dependencies), in load order, from a foreign
 * modules tree (not the host's).  Built-in modules are reported apart. */
#ifndef OCIVM_MODRES_H
#define OCIVM_MODRES_H

#include <stddef.h>

#include "err.h"

#define MODRES_MAX 256

struct modres_list {
	size_t n;
	char *names[MODRES_MAX];   /* module names, load order */
	char *paths[MODRES_MAX];   /* absolute .ko paths */
	size_t n_builtin;
	char *builtin[MODRES_MAX]; /* requested (or needed) but built in */
};

/* Find the directory holding modules.dep for release: dir itself, or
 * dir/lib/modules/release, or dir/release.  Writes it into ret (cap bytes). */
int modres_find_dir(const char *dir, const char *release, char *ret, size_t cap,
		    struct oerr *err);
int modres_resolve(const char *moddir, const char *const *names, size_t n,
		   struct modres_list *ret, struct oerr *err);
void modres_free(struct modres_list *l);

#endif
