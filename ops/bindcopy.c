/* Bind mounts of host paths (ops/README.md, "Bind mounts").  The VM shares
 * no file system with the host (no virtio-fs yet), so a bind mount cannot be
 * a live view of a host path.  What can be honoured honestly is a snapshot:
 * a small file or directory tree (the files podman and containerd bind —
 * /etc/resolv.conf, /etc/hosts, /etc/hostname, /run/.containerenv, an empty
 * shm directory) is read at create and sent to the guest, which bind-mounts
 * its copy at the destination.  Anything larger, or holding devices,
 * sockets or FIFOs, or a source the host-file rule (hostref.c) does not let
 * this bundle read, is refused at create with the mount's JSON path. */
#include "ops/runtime_int.h"
#include "ops/bindcopy.h"
#include "ops/hostref.h"
#include "cleanup.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct walk {
	const char *bundle;
	const struct stat *bst;
	const char *jpath;
	struct ops_copy *c;
	size_t *bytes;              /* budget left */
	struct oerr *err;
};

static int add_entry(struct walk *w, const char *rel, char kind, const struct stat *st,
		     char *data, size_t len)
{
	struct ops_copy *c = w->c;
	struct ops_copy_entry *v;

	if (c->n >= OPS_COPY_MAX_ENTRIES) {
		free(data);
		return oerr_set(w->err, EINVAL, "%s: more than %d entries to copy into the VM "
				"(a bind mount of a host path is copied; larger trees need shared "
				"volumes, not supported)", w->jpath, OPS_COPY_MAX_ENTRIES);
	}
	v = realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v || !(rel = strdup(rel))) {
		free(data);
		return oerr_set(w->err, ENOMEM, "out of memory");
	}
	c->v = v;
	v[c->n++] = (struct ops_copy_entry){ (char *)rel, kind, st->st_mode & 07777,
					     st->st_uid, st->st_gid, data, len };
	return 0;
}

static int walk_path(struct walk *w, const char *path, const char *rel, int depth);

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static int walk_dir(struct walk *w, const char *path, const char *rel, int depth)
{
	_cleanup_(closedirp) DIR *d = opendir(path);
	struct dirent *e;
	char p[PATH_MAX], r[PATH_MAX];
	int rc = 0;

	if (!d)
		return oerr_set(w->err, EINVAL, "%s: %.200s: %s", w->jpath, path, strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", path, e->d_name) >= (int)sizeof(p) ||
		    snprintf(r, sizeof(r), "%s/%s", rel, e->d_name) >= (int)sizeof(r))
			return oerr_set(w->err, ENAMETOOLONG, "%s: %.200s: name too long", w->jpath, path);
		rc = walk_path(w, p, !strcmp(rel, ".") ? r + 2 : r, depth + 1);
	}
	return rc;
}

static int walk_path(struct walk *w, const char *path, const char *rel, int depth)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int r;

	if (depth > OPS_COPY_MAX_DEPTH)
		return oerr_set(w->err, EINVAL, "%s: %.200s: deeper than %d levels", w->jpath, path,
				OPS_COPY_MAX_DEPTH);
	if (lstat(path, &st) < 0)
		return oerr_set(w->err, EINVAL, "%s: %.200s: %s", w->jpath, path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !(S_ISLNK(st.st_mode) && depth > 0))
		return oerr_set(w->err, EINVAL, "%s: %.200s: only regular files, directories and "
				"symlinks can be copied into the VM", w->jpath, path);
	if (!S_ISLNK(st.st_mode) && !ops_hostref_readable(path, &st, w->bundle, w->bst))
		return oerr_set(w->err, EINVAL, "%s: %.200s: outside the bundle and not readable by "
				"all (nor the bundle owner's): refused", w->jpath, path);
	if (S_ISLNK(st.st_mode) || S_ISREG(st.st_mode)) {
		if ((size_t)st.st_size > *w->bytes)
			return oerr_set(w->err, EINVAL, "%s: %.200s: more than %d bytes to copy into "
					"the VM (a bind mount of a host path is copied; volumes need "
					"shared file systems, not supported)", w->jpath, path,
					OPS_COPY_MAX_BYTES);
		if (S_ISLNK(st.st_mode)) {
			data = calloc(1, (size_t)st.st_size + 1);
			ssize_t n = data ? readlink(path, data, (size_t)st.st_size + 1) : -1;
			if (n < 0 || n > st.st_size) {
				free(data);
				return oerr_set(w->err, EINVAL, "%s: %.200s: cannot read the link", w->jpath, path);
			}
			len = (size_t)n;
		} else if ((r = file_read_all(path, *w->bytes, &data, &len)) < 0) {
			return oerr_set(w->err, EINVAL, "%s: %.200s: %s", w->jpath, path, strerror(-r));
		}
		*w->bytes -= len;
	}
	r = add_entry(w, rel, S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : 'f', &st, data, len);
	if (r == 0 && S_ISDIR(st.st_mode))
		r = walk_dir(w, path, rel, depth);
	return r;
}

bool ops_mount_is_bind(const struct ops_mount *m)
{
	if (m->type && strcmp(m->type, "bind") == 0)
		return true;
	for (size_t i = 0; i < m->options.n; i++)
		if (!strcmp(m->options.v[i], "bind") || !strcmp(m->options.v[i], "rbind"))
			return true;
	return false;
}

int ops_bindcopy_load(struct ops_config *cfg, const char *bundle, const struct stat *bst,
		      struct oerr *err)
{
	size_t bytes = OPS_COPY_MAX_BYTES;
	char jpath[512];

	for (size_t i = 0; i < cfg->n_mounts; i++) {
		struct ops_mount *m = &cfg->mounts[i];
		_cleanup_free_ char *abs = NULL, *real = NULL;
		if (!ops_mount_is_bind(m))
			continue;
		if (!m->source)
			return oerr_set(err, EINVAL, "mounts[%zu].source: required for a bind mount", i);
		snprintf(jpath, sizeof(jpath), "mounts[%zu] (bind mount of host %.200s on %.200s)",
			 i, m->source, m->destination);
		if (m->source[0] != '/' && asprintf(&abs, "%s/%s", bundle, m->source) < 0)
			return oerr_set(err, ENOMEM, "out of memory");
		real = realpath(abs ? abs : m->source, NULL);
		if (!real)
			return oerr_set(err, EINVAL, "%s: %s on the host", jpath, strerror(errno));
		if (!(m->copy = calloc(1, sizeof(*m->copy))))
			return oerr_set(err, ENOMEM, "out of memory");
		struct walk w = { bundle, bst, jpath, m->copy, &bytes, err };
		int r = walk_path(&w, real, ".", 0);
		if (r < 0)
			return r;
	}
	return 0;
}
