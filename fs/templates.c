/* fs/templates: MOUNT/templates/KEY/{inputs,size,created,uses}, the VM
 * templates ops/ keeps (ops_templates_list); rmdir templates/KEY drops
 * one.  Inodes: INO_TPL_BIT | the key's first 24 bits << 8 | file index
 * (0: the directory); a number is resolved back by listing the templates
 * (a handful), so two keys sharing their first 6 hex digits would share
 * inodes: one in 16 million per pair. */
#include "fsd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"

static const char *const tpl_files[] = { NULL, "inputs", "size", "created", "uses" };
#define TPL_NFILES 5

static fuse_ino_t tpl_base(const char *key)
{
	char six[7];
	snprintf(six, sizeof(six), "%.6s", key);
	return INO_TPL_BIT | (fuse_ino_t)strtoul(six, NULL, 16) << 8;
}

static void tpl_node(struct node *n, const char *key, int idx)
{
	if (idx == 0)
		*n = (struct node){ .ino = tpl_base(key), .kind = FK_DIR, .mode = S_IFDIR | 0755,
				    .name = "" };
	else
		*n = (struct node){ .ino = tpl_base(key) | (fuse_ino_t)idx, .kind = FK_TEXT,
				    .mode = S_IFREG | 0444, .sub = idx, .name = tpl_files[idx] };
}

bool fsd_is_tpl_ino(fuse_ino_t ino)
{
	return (ino & INO_TPL_BIT) != 0;
}

int fsd_tpl_node_of(struct fsd *fs, fuse_ino_t ino, struct node *ret, char *ret_key)
{
	struct ops_template_info *v = NULL;
	size_t n = 0;
	int idx = (int)(ino & 0xff), r = -ENOENT;

	if (idx >= TPL_NFILES || ops_templates_list(fs->ops, &v, &n) < 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (tpl_base(v[i].key) == (ino & ~(fuse_ino_t)0xff)) {
			tpl_node(ret, v[i].key, idx);
			if (ret_key)
				snprintf(ret_key, FS_ID_MAX, "%s", v[i].key);
			r = 0;
			break;
		}
	free(v);
	return r;
}

int fsd_tpl_child(struct fsd *fs, const struct node *dir, const char *key, const char *name,
		  struct node *ret)
{
	struct ops_template_info info;

	if (dir->ino == INO_TEMPLATES) {
		if (ops_template_get(fs->ops, name, &info) < 0)
			return -ENOENT;
		tpl_node(ret, info.key, 0);
		return 0;
	}
	for (int i = 1; i < TPL_NFILES; i++)
		if (strcmp(tpl_files[i], name) == 0) {
			tpl_node(ret, key, i);
			return 0;
		}
	return -ENOENT;
}

int fsd_tpl_list(struct fsd *fs, const struct node *dir, const char *key,
		 int (*add)(void *ctx, const struct node *n, const char *name), void *ctx)
{
	struct node nd;
	int r = 0;

	if (dir->ino != INO_TEMPLATES) {
		for (int i = 1; r >= 0 && i < TPL_NFILES; i++) {
			tpl_node(&nd, key, i);
			r = add(ctx, &nd, nd.name);
		}
		return r;
	}
	struct ops_template_info *v = NULL;
	size_t n = 0;
	r = ops_templates_list(fs->ops, &v, &n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		tpl_node(&nd, v[i].key, 0);
		r = add(ctx, &nd, v[i].key);
	}
	free(v);
	return r;
}

int fsd_tpl_text(struct fsd *fs, const struct node *n, const char *key, char **ret,
		 size_t *ret_len)
{
	struct ops_template_info info;
	char buf[96];
	int r;

	if (!key || ops_template_get(fs->ops, key, &info) < 0)
		return -ENOENT;
	switch (n->sub) {
	case 1:
		if ((r = ops_template_inputs(fs->ops, key, ret)) < 0)
			return r;
		*ret_len = strlen(*ret);
		return 0;
	case 2:
		snprintf(buf, sizeof(buf), "%llu\n", info.size);
		break;
	case 3: {
		struct tm tm;
		time_t t = (time_t)info.created;
		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ\n", &tm);
		break;
	}
	default:
		snprintf(buf, sizeof(buf), "%llu\n", info.uses);
		break;
	}
	if (!(*ret = strdup(buf)))
		return -ENOMEM;
	*ret_len = strlen(buf);
	return 0;
}

int fsd_tpl_rmdir(struct fsd *fs, const char *name)
{
	struct oerr err = { 0 };
	int r = ops_template_remove(fs->ops, name, &err);

	if (r < 0)
		log_warn("rmdir templates/%.80s: %s", name, err.msg);
	return r;
}
