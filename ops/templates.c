/* MOUNT/templates/ through ops (ops.h): the vm/ template store, when on. */
#include "runtime_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_info(struct ops_template_info *d, const struct vm_template_info *s)
{
	snprintf(d->key, sizeof(d->key), "%s", s->key);
	d->size = s->size;
	d->created = s->created;
	d->uses = s->uses;
}

int ops_templates_list(struct ops *ops, struct ops_template_info **ret, size_t *ret_n)
{
	struct vm_template_info *v = NULL;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!ops->templates)
		return 0;
	int r = vm_templates_list(ops->templates, &v, &n);
	if (r < 0 || n == 0) {
		free(v);
		return r;
	}
	if (!(*ret = calloc(n, sizeof(**ret)))) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		copy_info(&(*ret)[i], &v[i]);
	*ret_n = n;
	free(v);
	return 0;
}

int ops_template_get(struct ops *ops, const char *key, struct ops_template_info *ret)
{
	struct vm_template_info v;

	if (!ops->templates || vm_templates_get(ops->templates, key, &v) < 0)
		return -ENOENT;
	copy_info(ret, &v);
	return 0;
}

int ops_template_inputs(struct ops *ops, const char *key, char **ret)
{
	return ops->templates ? vm_templates_inputs(ops->templates, key, ret) : -ENOENT;
}

int ops_template_remove(struct ops *ops, const char *key, struct oerr *err)
{
	OERR_LOCAL(err);
	if (!ops->templates)
		return oerr_set(err, ENOENT, "templates/%.80s: templates are off", key);
	int r = vm_templates_remove(ops->templates, key, err);
	if (r == 0)
		ops_logf(ops, "template %.16s: removed (rmdir)", key);
	return r;
}
