/* fs/ino: the shape of the tree — which inode is which file, what a
 * directory holds.  Container inodes carry a slot number (fs/slots.c); a
 * deleted container's slot is freed and never handed to the next container
 * at once, so its stale inodes answer ENOENT. */
#include "fsd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fs/perm.h"

struct fixed { const char *name; fuse_ino_t ino; enum fkind kind; mode_t mode; };

static const struct fixed root_files[] = {
	{ "README", INO_README, FK_TEXT, S_IFREG | 0444 },
	{ "features.json", INO_FEATURES, FK_TEXT, S_IFREG | 0444 },
	{ "events", INO_EVENTS, FK_EVENTS, S_IFREG | 0444 },
	{ "log", INO_LOG, FK_LOG, S_IFREG | 0444 },
	{ "ctl", INO_CTL, FK_GCTL, S_IFREG | 0644 },
	{ "hypervisor", INO_HYPERVISOR, FK_TEXT, S_IFREG | 0444 },
	{ "incoming", INO_INCOMING, FK_DIR, S_IFDIR | 0755 },
	{ "containers", INO_CONTAINERS, FK_DIR, S_IFDIR | 0755 },
	{ "templates", INO_TEMPLATES, FK_DIR, S_IFDIR | 0755 },
};

/* index = CT file index (1..) */
static const struct fixed ct_files[] = {
	{ "ctl", 1, FK_CTL, S_IFREG | 0644 },
	{ "state", 2, FK_TEXT, S_IFREG | 0444 },
	{ "status", 3, FK_TEXT, S_IFREG | 0444 },
	{ "pid", 4, FK_TEXT, S_IFREG | 0444 },
	{ "wait", 5, FK_WAIT, S_IFREG | 0444 },
	{ "exit", 6, FK_TEXT, S_IFREG | 0444 },
	{ "stdout", 7, FK_STREAM, S_IFREG | 0444 },
	{ "stderr", 8, FK_STREAM, S_IFREG | 0444 },
	{ "stdin", 9, FK_STDIN, S_IFREG | 0200 },
	{ "console", 10, FK_STREAM, S_IFREG | 0444 },
	{ "config.json", 11, FK_TEXT, S_IFREG | 0444 },
	{ "bundle", 12, FK_LINK, S_IFLNK | 0777 },
	{ "vm", CT_IDX_VMDIR, FK_DIR, S_IFDIR | 0555 },
	{ "exec", CT_IDX_EXECDIR, FK_DIR, S_IFDIR | 0755 },
};

/* ID/exec/NAME/: the same indexes as ct_files */
static const struct fixed ex_files[] = {
	{ "ctl", 1, FK_CTL, S_IFREG | 0644 },
	{ "status", 3, FK_TEXT, S_IFREG | 0444 },
	{ "pid", 4, FK_TEXT, S_IFREG | 0444 },
	{ "wait", 5, FK_WAIT, S_IFREG | 0444 },
	{ "exit", 6, FK_TEXT, S_IFREG | 0444 },
	{ "stdout", 7, FK_STREAM, S_IFREG | 0444 },
	{ "stderr", 8, FK_STREAM, S_IFREG | 0444 },
	{ "stdin", 9, FK_STDIN, S_IFREG | 0200 },
	{ "times", 13, FK_TEXT, S_IFREG | 0444 },   /* exec'd processes only */
};

static int ct_stream_of(int idx)
{
	return idx == 7 ? OPS_STREAM_STDOUT : idx == 8 ? OPS_STREAM_STDERR :
	       idx == 10 ? OPS_STREAM_CONSOLE : 0;
}

bool fsd_is_ct_ino(fuse_ino_t ino)
{
	return (ino & INO_CT_BIT) && !((ino >> 40) & 0xfff) && !fsd_is_tpl_ino(ino);
}

static void node_fixed(struct node *n, const struct fixed *f, fuse_ino_t ino)
{
	*n = (struct node){ .ino = ino, .kind = f->kind, .mode = f->mode, .name = f->name };
}

static int ct_node(struct node *n, int slot, int idx)
{
	fuse_ino_t base = INO_CT_BIT | ((fuse_ino_t)slot << 8);

	if (idx == CT_IDX_DIR) {
		*n = (struct node){ .ino = base, .kind = FK_DIR, .mode = S_IFDIR | 0755,
				    .slot = slot, .name = "" };
		return 0;
	}
	if (idx >= CT_IDX_VMFILE) {
		int i = 0;
		while (ops_vm_file_names[i] && i < idx - CT_IDX_VMFILE)
			i++;
		if (!ops_vm_file_names[i])
			return -ENOENT;
		*n = (struct node){ .ino = base | (fuse_ino_t)idx, .kind = FK_TEXT,
				    .mode = S_IFREG | 0444, .slot = slot, .sub = idx,
				    .name = ops_vm_file_names[i] };
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ct_files); i++) {
		if ((int)ct_files[i].ino == idx) {
			node_fixed(n, &ct_files[i], base | (fuse_ino_t)idx);
			n->slot = slot;
			n->sub = ct_stream_of(idx) ? ct_stream_of(idx) : idx;
			return 0;
		}
	}
	return -ENOENT;
}

static int ex_node(struct node *n, int slot, int num, int idx)
{
	fuse_ino_t base = INO_CT_BIT | ((fuse_ino_t)slot << 8) | ((fuse_ino_t)num << INO_EX_SHIFT);

	if (idx == CT_IDX_DIR) {
		*n = (struct node){ .ino = base, .kind = FK_DIR, .mode = S_IFDIR | 0755,
				    .slot = slot, .exec = num, .name = "" };
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ex_files); i++) {
		if ((int)ex_files[i].ino == idx) {
			node_fixed(n, &ex_files[i], base | (fuse_ino_t)idx);
			n->slot = slot;
			n->exec = num;
			n->sub = ct_stream_of(idx) ? OPS_STREAM_EXEC(num, ct_stream_of(idx)) : idx;
			return 0;
		}
	}
	return -ENOENT;
}

/* Resolve an inode number; ret_id gets the container id for container
 * inodes (after checking the container still exists). */
int fsd_node_of(struct fsd *fs, fuse_ino_t ino, struct node *ret, char *ret_id)
{
	struct ops_info info;

	if (ret_id)
		ret_id[0] = '\0';
	if (ino == INO_ROOT) {
		*ret = (struct node){ .ino = ino, .kind = FK_DIR, .mode = S_IFDIR | 0755,
				      .name = "" };
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(root_files); i++)
		if (root_files[i].ino == ino) {
			node_fixed(ret, &root_files[i], ino);
			return 0;
		}
	if (fsd_is_tpl_ino(ino))
		return fsd_tpl_node_of(fs, ino, ret, ret_id);
	if (ino & INO_INC_BIT) {
		*ret = (struct node){ .ino = ino, .kind = FK_INCOMING };
		return 0;
	}
	int slot = (int)((ino >> 8) & 0xffffff);
	char id[FS_ID_MAX];
	if (fsd_slot_id(fs, slot, id) < 0 || ops_get(fs->ops, id, &info, NULL) < 0)
		return -ENOENT;
	if (ret_id)
		strcpy(ret_id, id);
	if (ino & INO_LINK_BIT) {
		*ret = (struct node){ .ino = ino, .kind = FK_LINK, .mode = S_IFLNK | 0777,
				      .slot = slot, .name = id };
		return 0;
	}
	if (!(ino & INO_CT_BIT))
		return -ENOENT;
	int num = (int)((ino >> INO_EX_SHIFT) & 0xff);
	if (num) {
		struct ops_exec_info ei;
		if (ops_exec_get(fs->ops, id, NULL, (unsigned)num, &ei, NULL) < 0)
			return -ENOENT;
		return ex_node(ret, slot, num, (int)(ino & 0xff));
	}
	return ct_node(ret, slot, (int)(ino & 0xff));
}

int fsd_child(struct fsd *fs, const struct node *dir, const char *dir_id,
	      const char *name, struct node *ret)
{
	if (dir->ino == INO_ROOT) {
		for (size_t i = 0; i < ARRAY_SIZE(root_files); i++)
			if (strcmp(root_files[i].name, name) == 0) {
				node_fixed(ret, &root_files[i], root_files[i].ino);
				return 0;
			}
		return -ENOENT;
	}
	if (dir->ino == INO_TEMPLATES || fsd_is_tpl_ino(dir->ino))
		return fsd_tpl_child(fs, dir, dir_id, name, ret);
	if (dir->ino == INO_CONTAINERS) {
		struct ops_info info;
		if (ops_id_valid(name, NULL) < 0 || ops_get(fs->ops, name, &info, NULL) < 0)
			return -ENOENT;
		int slot = fsd_slot_of(fs, name);
		return slot < 0 ? slot : ct_node(ret, slot, CT_IDX_DIR);
	}
	if (dir->kind == FK_DIR && dir->slot && dir->exec) {
		for (size_t i = 0; i < ARRAY_SIZE(ex_files); i++)
			if (strcmp(ex_files[i].name, name) == 0)
				return ex_node(ret, dir->slot, dir->exec, (int)ex_files[i].ino);
		return -ENOENT;
	}
	if (dir->kind == FK_DIR && dir->slot && (dir->ino & 0xff) == CT_IDX_EXECDIR) {
		struct ops_exec_info ei;
		if (!dir_id || ops_exec_get(fs->ops, dir_id, name, 0, &ei, NULL) < 0)
			return -ENOENT;
		return ex_node(ret, dir->slot, (int)ei.num, CT_IDX_DIR);
	}
	if (dir->kind == FK_DIR && dir->slot && (dir->ino & 0xff) == CT_IDX_DIR) {
		for (size_t i = 0; i < ARRAY_SIZE(ct_files); i++)
			if (strcmp(ct_files[i].name, name) == 0)
				return ct_node(ret, dir->slot, (int)ct_files[i].ino);
		return -ENOENT;
	}
	if (dir->kind == FK_DIR && dir->slot && (dir->ino & 0xff) == CT_IDX_VMDIR) {
		for (int i = 0; ops_vm_file_names[i]; i++)
			if (strcmp(ops_vm_file_names[i], name) == 0)
				return ct_node(ret, dir->slot, CT_IDX_VMFILE + i);
		return -ENOENT;
	}
	return -ENOTDIR;
}

static int list_add(struct node **nodes, char ***names, size_t *n, size_t *cap,
		    const struct node *nd, const char *name)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 32;
		struct node *a = realloc(*nodes, c * sizeof(**nodes));
		if (!a)
			return -ENOMEM;
		*nodes = a;
		char **b = realloc(*names, c * sizeof(**names));
		if (!b)
			return -ENOMEM;
		*names = b;
		*cap = c;
	}
	(*names)[*n] = strdup(name);
	if (!(*names)[*n])
		return -ENOMEM;
	(*nodes)[(*n)++] = *nd;
	return 0;
}

struct list_ctx { struct node **nodes; char ***names; size_t *n, *cap; };

static int list_add_cb(void *ctx, const struct node *nd, const char *name)
{
	struct list_ctx *l = ctx;
	return list_add(l->nodes, l->names, l->n, l->cap, nd, name);
}

static int list_containers(struct fsd *fs, struct node **nodes, char ***names,
			   size_t *n, size_t *cap)
{
	char **ids = NULL;
	size_t n_ids = 0;
	struct node nd;
	int r = ops_list(fs->ops, &ids, &n_ids);

	for (size_t i = 0; r >= 0 && i < n_ids; i++) {
		int slot = fsd_slot_of(fs, ids[i]);
		if (slot < 0)
			continue;
		ct_node(&nd, slot, CT_IDX_DIR);
		r = list_add(nodes, names, n, cap, &nd, ids[i]);
	}
	if (ids)
		ops_free_list(ids, n_ids);
	return r < 0 ? r : 0;
}

/* The entries of a (non-incoming) directory, without "." and "..". */
int fsd_list(struct fsd *fs, const struct node *dir, const char *dir_id,
	     struct node **ret, char ***ret_names, size_t *ret_n)
{
	struct node *nodes = NULL, nd;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (dir->ino == INO_ROOT) {
		for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(root_files); i++) {
			node_fixed(&nd, &root_files[i], root_files[i].ino);
			r = list_add(&nodes, &names, &n, &cap, &nd, nd.name);
		}
	} else if (dir->ino == INO_CONTAINERS) {
		r = list_containers(fs, &nodes, &names, &n, &cap);
	} else if (dir->ino == INO_TEMPLATES || fsd_is_tpl_ino(dir->ino)) {
		struct list_ctx l = { &nodes, &names, &n, &cap };
		r = fsd_tpl_list(fs, dir, dir_id, list_add_cb, &l);
	} else if (dir->slot && dir->exec) {
		for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(ex_files); i++) {
			ex_node(&nd, dir->slot, dir->exec, (int)ex_files[i].ino);
			r = list_add(&nodes, &names, &n, &cap, &nd, nd.name);
		}
	} else if (dir->slot && (dir->ino & 0xff) == CT_IDX_EXECDIR) {
		struct ops_exec_info *v = NULL;
		size_t nv = 0;
		r = dir_id ? ops_exec_list(fs->ops, dir_id, &v, &nv) : -ENOENT;
		for (size_t i = 0; r >= 0 && i < nv; i++) {
			ex_node(&nd, dir->slot, (int)v[i].num, CT_IDX_DIR);
			r = list_add(&nodes, &names, &n, &cap, &nd, v[i].name);
		}
		free(v);
	} else if (dir->slot && (dir->ino & 0xff) == CT_IDX_DIR) {
		for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(ct_files); i++) {
			ct_node(&nd, dir->slot, (int)ct_files[i].ino);
			r = list_add(&nodes, &names, &n, &cap, &nd, nd.name);
		}
	} else if (dir->slot && (dir->ino & 0xff) == CT_IDX_VMDIR) {
		for (int i = 0; r >= 0 && ops_vm_file_names[i]; i++) {
			ct_node(&nd, dir->slot, CT_IDX_VMFILE + i);
			r = list_add(&nodes, &names, &n, &cap, &nd, nd.name);
		}
	} else {
		r = -ENOTDIR;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		free(nodes);
		return r;
	}
	*ret = nodes;
	*ret_names = names;
	*ret_n = n;
	return 0;
}

/* Per-container nodes, the log, incoming/ and templates/ (paths of the
 * daemon's kernel and binaries) are private (fs/perm.c). */
static bool node_private(const struct node *n)
{
	return ((n->ino & INO_CT_BIT) && !(n->ino & INO_LINK_BIT)) || n->ino == INO_LOG ||
	       n->ino == INO_INCOMING || n->ino == INO_TEMPLATES || fsd_is_tpl_ino(n->ino);
}

void fsd_stat(struct fsd *fs, const struct node *n, const char *id, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = fsd_perm(n->mode, node_private(n), fs->has_group);
	st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->has_group ? fs->group : fs->gid;
	st->st_atime = st->st_mtime = st->st_ctime = fs->mounted;
	st->st_blksize = 4096;
	if (n->kind == FK_TEXT || n->kind == FK_LOG) {
		/* the size of what a read would see now (tools like cmp use it;
		 * README is read through the page cache, so up to st_size) */
		size_t len = 0;
		if (fsd_content_size(fs, n, id, &len) == 0)
			st->st_size = (off_t)len;
	}
	if (n->kind == FK_STREAM && id && id[0]) {
		char path[4096];
		struct stat bs;
		if (ops_stream_path(fs->ops, id, n->sub, path, sizeof(path)) == 0 &&
		    stat(path, &bs) == 0) {
			st->st_size = bs.st_size;
			st->st_mtim = bs.st_mtim;
		}
	}
	if (n->kind == FK_LINK && id && id[0]) {
		struct ops_info info;
		if (ops_get(fs->ops, id, &info, NULL) == 0) {
			st->st_size = (off_t)strlen(info.bundle);
			st->st_mtime = st->st_ctime = info.created;
		}
	}
}
