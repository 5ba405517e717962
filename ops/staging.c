/* ops/staging: STATE/.incoming and STATE/.bundles (ops/staging.h): creates
 * by `mv incoming/NAME containers/ID`, and the recovery of their bundles
 * after a daemon died during one. */
#include "ops/staging.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int sub_path(const char *state_dir, const char *sub, const char *name, char *buf,
		    size_t n)
{
	int len = name ? snprintf(buf, n, "%s/%s/%s", state_dir, sub, name)
		       : snprintf(buf, n, "%s/%s", state_dir, sub);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int ops_state_dir_make(const char *path, char **abs, struct oerr *err)
{
	char parent[PATH_MAX];
	char *slash;
	int r = 0;

	if ((size_t)snprintf(parent, sizeof(parent), "%s", path) >= sizeof(parent))
		return oerr_sys(err, ENAMETOOLONG, "state dir %s", path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		r = mkdir_p(parent, 0755);
	}
	if (r == 0 && mkdir(path, 0700) < 0 && errno != EEXIST)
		r = -errno;
	if (r < 0)
		return oerr_sys(err, -r, "state dir %s", path);
	*abs = realpath(path, NULL);
	if (!*abs)
		return oerr_sys(err, errno, "state dir %s", path);
	return 0;
}

int ops_staging_init(const char *state_dir, struct oerr *err)
{
	static const char *const subs[] = { OPS_INCOMING_DIR, OPS_BUNDLES_DIR };
	char path[PATH_MAX];

	for (size_t i = 0; i < 2; i++) {
		if (sub_path(state_dir, subs[i], NULL, path, sizeof(path)) < 0)
			return oerr_set(err, ENAMETOOLONG, "%s/%s: path too long", state_dir, subs[i]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return oerr_sys(err, errno, "mkdir %s", path);
	}
	return 0;
}

int ops_staging_bundle_path(const char *state_dir, const char *id, char *buf, size_t n)
{
	return sub_path(state_dir, OPS_BUNDLES_DIR, id, buf, n);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void ops_staging_drop(const char *state_dir, const char *id)
{
	char path[PATH_MAX];

	if (ops_staging_bundle_path(state_dir, id, path, sizeof(path)) == 0)
		remove_tree(path);
}

int ops_staging_detach(const char *state_dir, const char *id, char *trash, size_t n)
{
	static unsigned long seq;
	char path[PATH_MAX], name[64];

	snprintf(name, sizeof(name), OPS_STAGING_GONE "%d.%lu", (int)getpid(),
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	if (ops_staging_bundle_path(state_dir, id, path, sizeof(path)) < 0 ||
	    ops_staging_bundle_path(state_dir, name, trash, n) < 0)
		return -ENAMETOOLONG;
	return rename(path, trash) < 0 ? -errno : 0;
}

void ops_staging_remove(const char *path)
{
	remove_tree(path);
}

int ops_staging_take(const char *state_dir, const char *id, int dirfd, const char *name,
		     char *dst, size_t dst_n, struct oerr *err)
{
	if (ops_staging_bundle_path(state_dir, id, dst, dst_n) < 0)
		return oerr_set(err, ENAMETOOLONG, "%s/%s/%s: path too long", state_dir,
				OPS_BUNDLES_DIR, id);
	ops_staging_drop(state_dir, id);   /* a leftover of an earlier daemon */
	if (renameat(dirfd, name, AT_FDCWD, dst) < 0)
		return oerr_sys(err, errno, "incoming/%.64s: cannot move it to %s", name, dst);
	return 0;
}

int ops_staging_give_back(const char *state_dir, const char *id, int dirfd, const char *name)
{
	char path[PATH_MAX];

	if (ops_staging_bundle_path(state_dir, id, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	return renameat(AT_FDCWD, path, dirfd, name) < 0 ? -errno : 0;
}

/* .bundles/NAME to .incoming/NAME, else NAME.1 .. NAME.9 (a suffix of at
 * most OPS_ID_SUFFIX_MAX bytes: ops/ops.h); the name used into out. */
static int give_back_free_name(int bfd, int ifd, const char *id, char *out, size_t n)
{
	for (int i = 0; i < 10; i++) {
		snprintf(out, n, i ? "%s.%d" : "%s", id, i);
		if (renameat2(bfd, id, ifd, out, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int ops_staging_recover(const char *state_dir, ops_staging_live_fn live, void *live_ctx,
			ops_staging_log_fn log, void *log_ctx)
{
	char dir[PATH_MAX], inc[PATH_MAX], name[OPS_ID_MAX + OPS_ID_SUFFIX_MAX + 1];
	char line[PATH_MAX + 1024];
	struct dirent *e;
	int back = 0;
	DIR *d;

	if (sub_path(state_dir, OPS_BUNDLES_DIR, NULL, dir, sizeof(dir)) < 0 ||
	    sub_path(state_dir, OPS_INCOMING_DIR, NULL, inc, sizeof(inc)) < 0 ||
	    !(d = opendir(dir)))
		return 0;
	int ifd = open(inc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, OPS_STAGING_GONE, strlen(OPS_STAGING_GONE)) == 0 &&
		    sub_path(state_dir, OPS_BUNDLES_DIR, e->d_name, line, sizeof(line)) == 0)
			remove_tree(line);   /* a delete's bundle, half removed */
		if (ops_id_valid(e->d_name, NULL) < 0 || live(live_ctx, e->d_name))
			continue;
		int r = ifd < 0 ? -errno : give_back_free_name(dirfd(d), ifd, e->d_name, name,
								sizeof(name));
		if (r == 0) {
			back++;
			snprintf(line, sizeof(line), "incoming/%s: the bundle of a create of %s that "
				 "the daemon did not finish is back", name, e->d_name);
		} else {
			snprintf(line, sizeof(line), "%s/%s: the bundle of an unfinished create could "
				 "not go back to incoming/: %s", dir, e->d_name,
				 r == -EEXIST ? "incoming/ has it and 9 copies already" : strerror(-r));
		}
		if (log)
			log(log_ctx, line);
	}
	if (ifd >= 0)
		close(ifd);
	closedir(d);
	return back;
}

/* mv MOUNT/incoming/NAME MOUNT/containers/ID: the bundle moves into the
 * state dir (.bundles/ID), is created from there, and moves back when the
 * create fails.  A duplicate id is EEXIST before the bundle moves. */
int ops_create_moved(struct ops *ops, const char *id, int dirfd, const char *name,
		     struct oerr *err)
{
	const char *st = ops_state_dir(ops);
	char dst[PATH_MAX];
	struct ops_info info;
	int r = ops_id_valid(id, err);

	if (r < 0)
		return r;
	if (ops_get(ops, id, &info, NULL) == 0)
		return oerr_set(err, EEXIST, "container %s already exists", id);
	if ((r = ops_staging_take(st, id, dirfd, name, dst, sizeof(dst), err)) < 0)
		return r;
	r = ops_create(ops, id, dst, NULL, 0, err);
	if (r < 0) {
		int b = ops_staging_give_back(st, id, dirfd, name);
		if (b < 0 && err) {
			size_t len = strlen(err->msg);
			snprintf(err->msg + len, sizeof(err->msg) - len, "; the bundle stays in %s "
				 "(could not go back to incoming/%.64s: %s; the next mount gives it "
				 "back)", dst, name, strerror(-b));
		}
	}
	return r;
}

int ops_incoming_open(struct ops *ops, struct oerr *err)
{
	char path[PATH_MAX];
	const char *st = ops_state_dir(ops);

	if (sub_path(st, OPS_INCOMING_DIR, NULL, path, sizeof(path)) < 0)
		return oerr_set(err, ENAMETOOLONG, "%s/%s: path too long", st, OPS_INCOMING_DIR);
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? oerr_sys(err, errno, "open %s", path) : fd;
}
