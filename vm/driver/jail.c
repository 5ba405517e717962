/* Confining the QEMU process: what the daemon opens for it before fork
 * (vm_jail_prepare_qemu), and what the child does to itself before exec
 * (vm_jail_enter).  See jail.h and README.md "Confinement". */
#include "jail.h"
#include "cleanup.h"
#include "fileio.h"
#include "usock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* QEMU under TCG holds ~40 fds; room for disks and threads' eventfds. */
#define VM_JAIL_NOFILE 1024
/* What QEMU may add to guest RAM: its heap and device state (~128 MiB), and
 * under TCG the translation buffer, which QEMU 7.2 sizes at up to 1 GiB and
 * fills as the guest runs new code (a 256 MiB guest's QEMU had ~225 MiB
 * resident at READY here).  A limit below that would OOM-kill a busy VM. */
#define VM_JAIL_QEMU_OVERHEAD_MIB 128
#define VM_JAIL_TCG_CACHE_MIB 1024
#define VM_JAIL_PIDS_MAX 512
/* ocivm-vmm: its own heap, a few threads' stacks, the io_uring rings. */
#define VM_JAIL_VMM_OVERHEAD_MIB 64

int vm_confine_init(const char *user, bool no_confine, struct vm_confine *ret,
		    struct oerr *err)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	memset(ret, 0, sizeof(*ret));
	if (no_confine)
		return 0;
	if (!user) {
		getpwnam_r("ocivm", &pw, buf, sizeof(buf), &res);
		user = res ? "ocivm" : "nobody";
	}
	if (!res && (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res))
		return oerr_set(err, ENOENT, "vm user %s: no such user", user);
	if (pw.pw_uid == 0)
		return oerr_set(err, EINVAL, "vm user %s: is root (use --no-confine to run "
				"hypervisors unconfined)", user);
	ret->on = true;
	ret->uid = pw.pw_uid;
	ret->gid = pw.pw_gid;
	snprintf(ret->user, sizeof(ret->user), "%s", user);
	return 0;
}

static int jail_add_fd(struct vm_jail *j, int fd)
{
	if (fd < 0)
		return fd;
	if (j->n_fds == VM_JAIL_MAX_FDS) {
		close(fd);
		return -E2BIG;
	}
	j->src_fds[j->n_fds] = fd;
	return VM_JAIL_FD_BASE + (int)j->n_fds++;
}

int vm_jail_pass_fd(struct vm_jail *j, int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return d < 0 ? -errno : jail_add_fd(j, d);
}

/* A listening unix socket at path, owned by the daemon (root). */
static int jail_listen(const char *path)
{
	return usock_listen(path, 8, 0600);   /* any length (common/usock.h) */
}

static int jail_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int jail_dup(int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return d < 0 ? -errno : d;
}

/* QEMU reads kernel and initrd through /proc/self/fd/N: the inode itself
 * must be readable by the vm user. */
static int jail_check_readable(const struct vm_jail *j, const char *what, const char *path,
			       struct oerr *err)
{
	struct stat st;

	if (!path || !j->drop_user)
		return 0;
	if (stat(path, &st) < 0)
		return oerr_sys(err, errno, "%s %s", what, path);
	if ((st.st_mode & S_IROTH) || (st.st_uid == j->uid && (st.st_mode & S_IRUSR)) ||
	    (st.st_gid == j->gid && (st.st_mode & S_IRGRP)))
		return 0;
	return oerr_set(err, EACCES, "%s %s (mode %04o): not readable by the vm user uid %u",
			what, path, (unsigned)(st.st_mode & 07777), (unsigned)j->uid);
}

static void jail_paths(struct vm_jail *j, const struct vm_launch *l)
{
	const char *rd = l->paths->run_dir;
	static const char *const libs[] = { "lib", "lib64", "bin" };

	/* vm_paths_init left room for /root/lib64 */
	snprintf(j->root, sizeof(j->root), "%.*s/root", (int)sizeof(j->root) - 16, rd);
	snprintf(j->usr, sizeof(j->usr), "%s/usr", j->root);
	snprintf(j->proc, sizeof(j->proc), "%s/proc", j->root);
	snprintf(j->dev, sizeof(j->dev), "%s/dev", j->root);
	for (size_t i = 0; i < 3; i++)
		snprintf(j->lib[i], sizeof(j->lib[i]), "%s/%s", j->root, libs[i]);
	if (l->accel == VM_ACCEL_KVM)
		snprintf(j->kvm, sizeof(j->kvm), "%s/dev/kvm", j->root);
	/* without it the loader probes every library dir: ~20 ms more per start */
	snprintf(j->etc, sizeof(j->etc), "%s/etc", j->root);
	if (access("/etc/ld.so.cache", R_OK) == 0)
		snprintf(j->ldcache, sizeof(j->ldcache), "%s/etc/ld.so.cache", j->root);
}

static int jail_open_disks(struct vm_jail *j, struct vm_jail_fds *fds,
			   const struct vm_config *cfg, struct oerr *err)
{
	if (cfg->n_disks > VM_JAIL_MAX_FDS / 2)
		return oerr_set(err, E2BIG, "confining: %zu disks, at most %d", cfg->n_disks,
				VM_JAIL_MAX_FDS / 2);
	for (size_t i = 0; i < cfg->n_disks; i++) {
		const struct vm_disk *d = &cfg->disks[i];
		fds->disk_ro[i] = jail_add_fd(j, jail_open(d->path, O_RDONLY));
		fds->disk_rw[i] = d->readonly ? -1 : jail_add_fd(j, jail_open(d->path, O_RDWR));
		if (fds->disk_ro[i] < 0 || (!d->readonly && fds->disk_rw[i] < 0))
			return oerr_sys(err, -(fds->disk_ro[i] < 0 ? fds->disk_ro[i] : fds->disk_rw[i]),
					"confining: opening disk %s", d->path);
	}
	return 0;
}

/* The channel and QMP sockets, listening: QEMU gets them as fds, so their
 * paths may be any length (QEMU's own bind would stop at sun_path). */
static int jail_listen_all(struct vm_jail *j, struct vm_jail_fds *fds, const struct vm_paths *p,
			   struct oerr *err)
{
	if ((fds->chan = jail_add_fd(j, jail_listen(p->chan_sock))) < 0)
		return oerr_sys(err, -fds->chan, "listening on %s", p->chan_sock);
	if ((fds->control = jail_add_fd(j, jail_listen(p->control_sock))) < 0)
		return oerr_sys(err, -fds->control, "listening on %s", p->control_sock);
	return 0;
}

static int jail_open_all(struct vm_jail *j, struct vm_jail_fds *fds, const struct vm_launch *l,
			 struct oerr *err)
{
	const struct vm_paths *p = l->paths;
	const struct vm_config *cfg = l->cfg;
	int r;

	if ((r = jail_check_readable(j, "kernel", cfg->kernel, err)) < 0 ||
	    (r = jail_check_readable(j, "initrd", cfg->initrd, err)) < 0)
		return r;
	if ((r = jail_listen_all(j, fds, p, err)) < 0)
		return r;
	fds->console = jail_add_fd(j, jail_open(p->console, O_WRONLY | O_CREAT | O_APPEND |
						O_NOFOLLOW));
	if (fds->console < 0)
		return oerr_sys(err, -fds->console, "confining: opening %s", p->console);
	if ((fds->kernel = jail_add_fd(j, jail_open(cfg->kernel, O_RDONLY))) < 0)
		return oerr_sys(err, -fds->kernel, "confining: opening kernel %s", cfg->kernel);
	if (cfg->initrd && (fds->initrd = jail_add_fd(j, jail_open(cfg->initrd, O_RDONLY))) < 0)
		return oerr_sys(err, -fds->initrd, "confining: opening initrd %s", cfg->initrd);
	if (l->mem_template &&
	    (fds->mem = jail_add_fd(j, jail_dup(l->mem_fd))) < 0)
		return oerr_sys(err, -fds->mem, "confining: passing the template memory");
	if ((j->exec_fd = jail_open(l->binary, O_PATH)) < 0)
		return oerr_sys(err, -j->exec_fd, "confining: opening %s", l->binary);
	return jail_open_disks(j, fds, cfg, err);
}

static void jail_describe(struct vm_jail *j, const struct vm_launch *l)
{
	size_t n = 0, cap = sizeof(j->text);
	char *t = j->text;

	if (j->drop_user)
		n += (size_t)snprintf(t + n, cap - n, "user %s uid %u gid %u\n"
				      "capabilities none (bounding set empty)\n",
				      l->cfg->confine->user, (unsigned)j->uid, (unsigned)j->gid);
	else
		n += (size_t)snprintf(t + n, cap - n, "user the daemon's (uid %u: not root, "
				      "cannot change user)\n", (unsigned)geteuid());
	n += (size_t)snprintf(t + n, cap - n, "no_new_privs 1\nseccomp qemu -sandbox %s\n",
			      VM_QEMU_SANDBOX);
	if (j->drop_user && n < cap)
		n += (size_t)snprintf(t + n, cap - n, "net_ns, ipc_ns new (no network)\n"
				      "mount_ns root %s (tmpfs, read-only): "
				      "/usr read-only, /proc subset=pid%s%s\n", j->root,
				      j->ldcache[0] ? ", /etc/ld.so.cache" : "",
				      j->kvm[0] ? ", /dev/kvm" : "");
	if (n < cap)
		n += (size_t)snprintf(t + n, cap - n, "rlimits nofile %u core 0\nfds %zu passed "
				      "(sockets, console, kernel, initrd, disks)\n",
				      VM_JAIL_NOFILE, j->n_fds);
}

/* Written whole then renamed, without fsync: both are re-derivable facts
 * about a running process (fsync cost ~4 ms each on this machine's disk). */
static int jail_write(const char *path, const char *text, mode_t mode)
{
	char tmp[VM_JAIL_PATH + 32];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	int r = fd_write_all(fd, text, strlen(text));
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* run_dir/confinement and run_dir/cgroups (the dirs to remove later). */
static int jail_record(const struct vm_jail *j, const struct vm_paths *p)
{
	char path[VM_JAIL_PATH + 16], list[VM_JAIL_CGROUPS * (VM_JAIL_PATH + 1) + 1] = "";
	int r;

	for (size_t i = 0; i < j->n_cgroups; i++) {
		strcat(list, j->cgroups[i]);
		strcat(list, "\n");
	}
	snprintf(path, sizeof(path), "%s/cgroups", p->run_dir);
	if ((r = jail_write(path, list, 0600)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/confinement", p->run_dir);
	return jail_write(path, j->text, 0644);
}

int vm_jail_prepare_qemu(struct vm_jail *j, struct vm_jail_fds *fds,
			 const struct vm_launch *l, struct oerr *err)
{
	const struct vm_config *cfg = l->cfg;
	char cg_note[200] = "";
	struct stat st;
	int r;

	memset(j, 0, sizeof(*j));
	memset(fds, -1, sizeof(*fds));
	j->exec_fd = -1;
	for (int i = 0; i < VM_JAIL_CGROUPS; i++)
		j->cgroup_fds[i] = -1;
	j->thp_off = l->incoming;   /* see jail.h */
	if (!cfg->confine || !cfg->confine->on) {   /* unconfined: the sockets only */
		j->pass_fds = true;
		return jail_listen_all(j, fds, l->paths, err);
	}
	j->on = true;
	j->drop_user = geteuid() == 0;
	j->uid = cfg->confine->uid;
	j->gid = cfg->confine->gid;
	j->nofile = VM_JAIL_NOFILE;
	jail_paths(j, l);
	if (j->kvm[0] && stat("/dev/kvm", &st) == 0 && st.st_gid != 0) {
		j->groups[0] = st.st_gid;
		j->n_groups = 1;
	}
	if ((r = jail_open_all(j, fds, l, err)) < 0)
		return r;
	if (j->drop_user && mkdir(j->root, 0755) < 0 && errno != EEXIST)
		return oerr_sys(err, errno, "confining: creating %s", j->root);
	unsigned long long mem = ((cfg->memory_mib ? cfg->memory_mib : VM_DEFAULT_MEMORY_MIB) +
				  VM_JAIL_QEMU_OVERHEAD_MIB +
				  (l->accel == VM_ACCEL_KVM ? 0 : VM_JAIL_TCG_CACHE_MIB)) << 20;
	jail_describe(j, l);
	if (vm_cgroup_create(j, cfg->id ? cfg->id : "vm", mem, VM_JAIL_PIDS_MAX, cfg->res, cg_note,
			     sizeof(cg_note)) < 0) {
		size_t n = strlen(j->text);
		snprintf(j->text + n, sizeof(j->text) - n, "cgroup none: %s\n", cg_note);
	}
	if ((r = jail_record(j, l->paths)) < 0)
		return oerr_sys(err, -r, "confining: writing %s/confinement", l->paths->run_dir);
	return 0;
}

/* ocivm-vmm confines itself (vm/vmm/jail.c, seccomp.c) once it has opened
 * /dev/kvm and the rest as root: the daemon only makes its cgroup and the
 * empty root dir, and passes --jail-root/--jail-user. */
int vm_jail_prepare_vmm(struct vm_jail *j, const struct vm_launch *l, struct oerr *err)
{
	const struct vm_config *cfg = l->cfg;
	char cg_note[200] = "";
	size_t n;

	memset(j, 0, sizeof(*j));
	j->exec_fd = -1;
	for (int i = 0; i < VM_JAIL_CGROUPS; i++)
		j->cgroup_fds[i] = -1;
	j->thp_off = l->incoming;   /* see jail.h */
	if (!cfg->confine || !cfg->confine->on)
		return 0;
	j->on = true;
	j->vmm_self = geteuid() == 0;
	j->uid = cfg->confine->uid;
	j->gid = cfg->confine->gid;
	j->nofile = VM_JAIL_NOFILE;
	jail_paths(j, l);
	if (j->vmm_self && mkdir(j->root, 0755) < 0 && errno != EEXIST)
		return oerr_sys(err, errno, "confining: creating %s", j->root);
	if (j->vmm_self)
		snprintf(j->text, sizeof(j->text), "user %s uid %u gid %u (ocivm-vmm drops to it "
			 "once /dev/kvm, disks, console and socket are open)\n"
			 "capabilities none (bounding set empty)\nno_new_privs 1\n"
			 "seccomp ocivm-vmm per-thread allowlists (main, vcpu, io, control), "
			 "kill_process\nnet_ns, ipc_ns new (no network)\n"
			 "mount_ns root %s (empty tmpfs, read-only)\n"
			 "rlimits nofile (fds held + 64) core 0\n", cfg->confine->user,
			 (unsigned)j->uid, (unsigned)j->gid, j->root);
	else
		snprintf(j->text, sizeof(j->text), "user the daemon's (uid %u: not root, cannot "
			 "change user)\nno_new_privs 1\nseccomp ocivm-vmm per-thread allowlists\n"
			 "rlimits nofile %u core 0\n", (unsigned)geteuid(), VM_JAIL_NOFILE);
	unsigned long long mem = ((cfg->memory_mib ? cfg->memory_mib : VM_DEFAULT_MEMORY_MIB) +
				  VM_JAIL_VMM_OVERHEAD_MIB) << 20;
	if (vm_cgroup_create(j, cfg->id ? cfg->id : "vm", mem, VM_JAIL_PIDS_MAX, cfg->res, cg_note,
			     sizeof(cg_note)) < 0) {
		n = strlen(j->text);
		snprintf(j->text + n, sizeof(j->text) - n, "cgroup none: %s\n", cg_note);
	}
	int r = jail_record(j, l->paths);
	return r < 0 ? oerr_sys(err, -r, "confining: writing %s/confinement", l->paths->run_dir) : 0;
}

void vm_jail_release(struct vm_jail *j)
{
	for (size_t i = 0; i < j->n_fds; i++)
		close(j->src_fds[i]);
	j->n_fds = 0;
	if (j->exec_fd >= 0)
		close(j->exec_fd);
	for (int i = 0; i < VM_JAIL_CGROUPS; i++) {
		if (j->cgroup_fds[i] >= 0)
			close(j->cgroup_fds[i]);
		j->cgroup_fds[i] = -1;
	}
	j->exec_fd = -1;
}

void vm_jail_cleanup(const char *run_dir)
{
	char path[VM_JAIL_PATH + 16];
	_cleanup_free_ char *list = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/cgroups", run_dir);
	if (file_read_all(path, 4096, &list, &len) == 0) {
		char *save = NULL;
		for (char *d = strtok_r(list, "\n", &save); d; d = strtok_r(NULL, "\n", &save))
			vm_cgroup_remove(d);
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/root", run_dir);
	rmdir(path);
}

/* "cgroup DIR\n" and its live figures per dir in run_dir/cgroups, after
 * HEAD (may be ""). */
static int cgroup_text(const char *run_dir, const char *head, size_t hlen, char **ret)
{
	char path[VM_JAIL_PATH + 16], stats[1024];
	_cleanup_free_ char *list = NULL;
	size_t llen;
	char *out = NULL;

	snprintf(path, sizeof(path), "%s/cgroups", run_dir);
	if (file_read_all(path, 4096, &list, &llen) < 0)
		list = NULL;
	size_t cap = hlen + 2048 + (list ? llen * 8 : 0);
	if (!(out = malloc(cap)))
		return -ENOMEM;
	size_t n = (size_t)snprintf(out, cap, "%s", head);
	char *save = NULL;
	for (char *d = list ? strtok_r(list, "\n", &save) : NULL; d && n < cap;
	     d = strtok_r(NULL, "\n", &save)) {
		vm_cgroup_stats(d, stats, sizeof(stats));
		n += (size_t)snprintf(out + n, cap - n, "cgroup %s\n%s", d, stats);
	}
	*ret = out;
	return 0;
}

int vm_cgroup_text(const char *run_dir, char **ret)
{
	return cgroup_text(run_dir, "", 0, ret);
}

int vm_confinement_text(const char *run_dir, char **ret)
{
	char path[VM_JAIL_PATH + 16];
	_cleanup_free_ char *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/confinement", run_dir);
	if (file_read_all(path, 8192, &text, &len) < 0) {
		*ret = strdup("");
		return *ret ? 0 : -ENOMEM;
	}
	return cgroup_text(run_dir, text, len, ret);
}
