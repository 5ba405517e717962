/* What a bundle may make the daemon (root) touch on the host, checked once at
 * create before anything is built or booted (ops/README.md, "Host files").
 *
 * vm.kernel.path, vm.kernel.initrd and vm.image.path are read by the
 * hypervisor and land in guest memory or on a guest disk, so a bundle could
 * otherwise read any host file through its own guest (initrd=/etc/shadow
 * with a kernel of its own; image=/etc/shadow as /dev/vdb).  The daemon
 * cannot tell who wrote a bundle; the bundle directory's owner stands for
 * its author.  Rule: the path, with every symlink resolved, must be a
 * regular file (the image: or a block device) and either lie inside the
 * bundle directory, or be readable by every user (mode o+r), or, for a
 * bundle not owned by root, be owned by the bundle's owner and readable by
 * it (u+r).  So a bundle reaches nothing its author could not read, and a
 * root-owned bundle (podman, containerd) reaches no private host file.  The
 * resolved path replaces the configured one, so a symlink swapped after the
 * check is not followed (a directory on the way that the author owns can
 * still be swapped: a window between check and open, not closed here).
 * Bind mount sources follow the same rule (ops/bindcopy.c).  The binary
 * vm.hypervisor.path names is run as root: it must be root's, in
 * directories only root may write (check_hv_binary). */
#include "ops/runtime_int.h"
#include "ops/hostref.h"
#include "ops/bindcopy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

static bool path_inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

bool ops_hostref_readable(const char *real, const struct stat *st, const char *bundle,
			  const struct stat *bundle_st)
{
	return path_inside(real, bundle) || (st->st_mode & S_IROTH) ||
	       (bundle_st->st_uid != 0 && st->st_uid == bundle_st->st_uid && (st->st_mode & S_IRUSR));
}

int ops_hostref_file(const char *jpath, char **path, const char *bundle,
		     const struct stat *bundle_st, bool block_ok, struct oerr *err)
{
	struct stat st;
	char *real;

	if (!*path)
		return 0;
	real = realpath(*path, NULL);
	if (!real)
		return oerr_set(err, EINVAL, "%s %.200s: %s", jpath, *path, strerror(errno));
	if (stat(real, &st) < 0) {
		int e = errno;
		free(real);
		return oerr_set(err, EINVAL, "%s %.200s: %s", jpath, *path, strerror(e));
	}
	if (!S_ISREG(st.st_mode) && !(block_ok && S_ISBLK(st.st_mode))) {
		free(real);
		return oerr_set(err, EINVAL, "%s %.200s: not a regular file%s", jpath, *path,
				block_ok ? " or block device" : "");
	}
	if (!ops_hostref_readable(real, &st, bundle, bundle_st)) {
		int r = bundle_st->st_uid == 0 ?
			oerr_set(err, EINVAL, "%s %.200s: outside the bundle and not readable by all: "
				 "refused (host files a bundle may name: ops/README.md)", jpath, real) :
			oerr_set(err, EINVAL, "%s %.200s: outside the bundle, not readable by all, and "
				 "not the bundle owner's (uid %u): refused", jpath, real,
				 (unsigned)bundle_st->st_uid);
		free(real);
		return r;
	}
	free(*path);
	*path = real;
	return 0;
}

/* vm.hypervisor.path is executed by the daemon (root): it and every
 * existing directory above it must be root's and writable by root only
 * (as sudo asks of its secure_path), so no bundle author can put code
 * there.  A missing file is left to vm_create to report, its existing
 * ancestors are still checked (only root could create it there). */
static int check_hv_binary(const char *path, struct oerr *err)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return oerr_set(err, ENAMETOOLONG, "vm.hypervisor.path: too long");
	for (;;) {
		if (stat(p, &st) == 0 && (st.st_uid != 0 || (st.st_mode & 022)))
			return oerr_set(err, EINVAL, "vm.hypervisor.path %.200s: %.200s is not root's or "
					"is writable by others than root: refused (the daemon runs it as "
					"root)", path, p);
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = '\0';
	}
	if (stat("/", &st) == 0 && (st.st_uid != 0 || (st.st_mode & 022)))
		return oerr_set(err, EINVAL, "vm.hypervisor.path %.200s: / is writable by others than root",
				path);
	return 0;
}

/* Hooks run on the host as the daemon (root), from paths and with
 * arguments config.json names: only a bundle whose directory and
 * config.json the daemon's user owns and no one else may write can have
 * any (a non-root author could otherwise run anything as root). */
static int check_hooks(const struct ops_config *cfg, const char *bundle,
		       const struct stat *bst, struct oerr *err)
{
	char path[PATH_MAX];
	struct stat cst;
	size_t n = 0;

	for (int k = 0; k < OPS_HOOK_KINDS; k++)
		n += cfg->hooks[k].n;
	if (!n)
		return 0;
	uid_t me = geteuid();
	if (bst->st_uid != me || (bst->st_mode & 022))
		return oerr_set(err, EPERM, "hooks: the bundle %.200s belongs to uid %u (mode %03o): "
				"hooks run as the daemon (uid %u), so only from a bundle it owns that "
				"no one else may write: refused", bundle, (unsigned)bst->st_uid,
				(unsigned)(bst->st_mode & 0777), (unsigned)me);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	if (lstat(path, &cst) < 0)
		return oerr_sys(err, errno, "hooks: %.200s", path);
	if (!S_ISREG(cst.st_mode) || cst.st_uid != me || (cst.st_mode & 022))
		return oerr_set(err, EPERM, "hooks: %.200s belongs to uid %u (mode %03o%s): hooks run "
				"as the daemon (uid %u), so only from a config.json it owns that no "
				"one else may write: refused", path, (unsigned)cst.st_uid,
				(unsigned)(cst.st_mode & 0777), S_ISREG(cst.st_mode) ? "" : ", not a file",
				(unsigned)me);
	return 0;
}

/* root.path is read by the daemon (root) into the rootfs image the guest
 * gets: a bundle not owned by root may only name a tree its owner owns
 * (root.path "/" or "/etc" would copy host files it cannot read).  The
 * tree's own entries are copied as they are, symlinks as symlinks: a
 * rootfs/etc -> /etc link points at the guest's /etc, never the host's. */
static int check_rootfs(const struct ops_config *cfg, const char *bundle,
			const struct stat *bst, struct oerr *err)
{
	char path[PATH_MAX];
	struct stat st;

	if (bst->st_uid == 0 || !cfg->root_path)
		return 0;
	if (snprintf(path, sizeof(path), "%s%s%s", cfg->root_path[0] == '/' ? "" : bundle,
		     cfg->root_path[0] == '/' ? "" : "/", cfg->root_path) >= (int)sizeof(path))
		return oerr_set(err, ENAMETOOLONG, "root.path: too long");
	_cleanup_free_ char *real = realpath(path, NULL);
	if (!real || stat(real, &st) < 0)
		return 0;   /* missing: the image builder says so */
	if (st.st_uid != bst->st_uid)
		return oerr_set(err, EPERM, "root.path %.200s: belongs to uid %u, not to the bundle's "
				"owner (uid %u): refused (the daemon would copy it into the guest)",
				real, (unsigned)st.st_uid, (unsigned)bst->st_uid);
	return 0;
}

/* The driver boot_config will ask vm_create for (by the binary's name). */
enum vm_driver ops_hostref_driver(const struct ops *ops, const struct ops_vm *v)
{
	if (!v->has_hypervisor)
		return ops->driver;
	enum vm_driver d = vm_driver_of_binary(v->hypervisor_path);   /* vm_create's rule */
	return d != VM_DRIVER_AUTO ? d : ops->driver;
}

int ops_hostref_check(const struct ops *ops, struct ops_config *cfg, const char *bundle,
		      struct oerr *err)
{
	struct ops_vm *v = &cfg->vm;
	struct stat bst;
	int r;

	if (stat(bundle, &bst) < 0)
		return oerr_sys(err, errno, "bundle %.200s", bundle);
	if ((r = ops_hostref_file("vm.kernel.path", &v->kernel_path, bundle, &bst, false, err)) < 0 ||
	    (r = ops_hostref_file("vm.kernel.initrd", &v->initrd, bundle, &bst, false, err)) < 0 ||
	    (r = ops_hostref_file("vm.image.path", &v->image_path, bundle, &bst, true, err)) < 0 ||
	    (r = ops_bindcopy_load(cfg, bundle, &bst, err)) < 0 ||
	    (r = check_hooks(cfg, bundle, &bst, err)) < 0 || (r = check_rootfs(cfg, bundle, &bst, err)) < 0 ||
	    (r = ops_config_netns_check(cfg, bst.st_uid, err)) < 0)
		return r;
	if (v->has_hypervisor && (r = check_hv_binary(v->hypervisor_path, err)) < 0)
		return r;
	if (v->has_hypervisor && v->hypervisor_params.n) {
		struct vm_config vc = {
			.driver = ops_hostref_driver(ops, v), .probe = &ops->probe,
			.hypervisor_path = v->hypervisor_path,
			.hypervisor_params = (const char *const *)v->hypervisor_params.v,
			.n_hypervisor_params = v->hypervisor_params.n,
		};
		if ((r = vm_hypervisor_params_check(&vc, err)) < 0) {
			oerr_prefix(err, "vm.hypervisor.");
			return r;
		}
	}
	return 0;
}
