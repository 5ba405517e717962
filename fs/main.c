/* ocivmfs: mounts the control tree of ocivm containers (see fs/README.md).
 *
 *   ocivmfs [--state-dir DIR] [--cache-dir DIR] [--kernel PATH] [--initrd PATH]
 *           [--hypervisor auto|ocivm-vmm|qemu] [--max-output MIB] [--foreground]
 *           [--vm-user USER] [--vm-uids FIRST:COUNT] [--no-confine] [--allow-other]
 *           [--debug] MOUNT
 *
 * Kernel and initrd default to ../share/ocivmfs/{vmlinuz,initrd.img} beside
 * the running binary (an installed prefix, found at run time so that
 * `make install PREFIX=... DESTDIR=...` needs no rebuild), or, for a binary
 * run from a build tree ($(BUILD)/bin), $(BUILD)/guest/{vmlinuz,initrd.img};
 * else the share dir compiled in (OCIVMFS_SHARE). */
#include "fsd.h"

#include <errno.h>
#include <grp.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "proc.h"

#ifndef OCIVMFS_SHARE
#define OCIVMFS_SHARE "/usr/local/share/ocivmfs"
#endif

struct args {
	const char *state_dir, *cache_dir, *kernel, *initrd, *hypervisor, *mount, *vm_user;
	const char *templates;
	const char *vm_uids;
	uint64_t max_output_mib;
	bool foreground, allow_other, debug, no_confine;
	bool has_group;
	gid_t group;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ocivmfs [--state-dir DIR] [--cache-dir DIR] [--kernel PATH] [--initrd PATH]\n"
		   "               [--hypervisor auto|ocivm-vmm|qemu] [--max-output MIB] [--foreground]\n"
		   "               [--vm-user USER] [--no-confine] [--allow-other] [--group GID|NAME]\n"
		   "               [--debug] MOUNT\n"
		   "  --allow-other     other users may reach the tree: README, features.json,\n"
		   "                    hypervisor, events and the list of ids, nothing of a container\n"
		   "  --group GID|NAME  that group may also read each container's files and log,\n"
		   "                    and write its ctl and stdin\n"
		   "  --cache-dir DIR   rootfs image cache (default /var/lib/ocivmfs/images with the\n"
		   "                    default state dir /run/ocivmfs, else STATE/.images)\n"
		   "  --max-output MIB  cap of each container's stdout and stderr file (default 256);\n"
		   "                    past it one marker line, the rest is discarded (vm/output)\n"
		   "  --vm-user USER    hypervisors run as USER (default ocivm, else nobody), confined\n"
		   "  --vm-uids FIRST:COUNT  each VM its own uid and gid from that range (not\n"
		   "                    in /etc/passwd, used by nothing else) instead of --vm-user's\n"
		   "  --no-confine      debug/bench only: hypervisors run as root, unconfined\n"
		   "  --templates on|off  create VMs from pre-booted templates in CACHE/templates\n"
		   "                    (default on with the QEMU driver under TCG; off under\n"
		   "                    ocivm-vmm and QEMU/KVM: MOUNT/hypervisor says why)\n");
}

/* A group id, or a group name. */
static int parse_group(const char *s, gid_t *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s >= '0' && *s <= '9' && !*end && !errno && v < (gid_t)-1) {
		*ret = (gid_t)v;
		return 0;
	}
	struct group *g = getgrnam(s);
	if (!g)
		return -EINVAL;
	*ret = g->gr_gid;
	return 0;
}

/* 1..1048576 MiB, digits only. */
static int parse_mib(const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *s < '0' || *s > '9' || *end || errno || v == 0 || v > (1ull << 20))
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "cache-dir", required_argument, NULL, 'C' },
		{ "max-output", required_argument, NULL, 'M' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "hypervisor", required_argument, NULL, 'H' },
		{ "vm-user", required_argument, NULL, 'u' },
		{ "no-confine", no_argument, NULL, 'n' },
		{ "vm-uids", required_argument, NULL, 'V' },
		{ "templates", required_argument, NULL, 'T' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "allow-other", no_argument, NULL, 'o' },
		{ "group", required_argument, NULL, 'g' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "fdh", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->state_dir = optarg; break;
		case 'C': a->cache_dir = optarg; break;
		case 'M':
			if (parse_mib(optarg, &a->max_output_mib) < 0)
				return -EINVAL;
			break;
		case 'k': a->kernel = optarg; break;
		case 'i': a->initrd = optarg; break;
		case 'H': a->hypervisor = optarg; break;
		case 'u': a->vm_user = optarg; break;
		case 'n': a->no_confine = true; break;
		case 'V': a->vm_uids = optarg; break;
		case 'T': a->templates = optarg; break;
		case 'f': a->foreground = true; break;
		case 'o': a->allow_other = true; break;
		case 'g':
			if (parse_group(optarg, &a->group) < 0) {
				fprintf(stderr, "ocivmfs: --group %s: no such group\n", optarg);
				return -EINVAL;
			}
			a->has_group = true;
			break;
		case 'd': a->debug = a->foreground = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind != argc - 1)
		return -EINVAL;
	a->mount = argv[optind];
	return 0;   /* --hypervisor is ops' to judge (vm_driver_parse): it says why */
}

/* $(BUILD)/guest/NAME beside $(BUILD)/bin/ocivmfs, PREFIX/share/ocivmfs/NAME
 * beside PREFIX/bin/ocivmfs (wherever the prefix was installed), else the
 * share dir compiled in (common/fileio.h). */
static char *guest_file(const char *name)
{
	return share_file(NULL, name, OCIVMFS_SHARE);
}

static char *default_state_dir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *p = NULL;
	if (geteuid() == 0 || !xdg)
		return strdup("/run/ocivmfs");
	return asprintf(&p, "%s/ocivmfs", xdg) > 0 ? p : NULL;
}

static void on_event(void *ctx, const char *id, const char *line)
{
	struct fsd *fs = ctx;
	pthread_mutex_lock(&fs->lock);
	fsd_event_push_locked(fs, line);
	pthread_mutex_unlock(&fs->lock);
	fsd_kick(fs, id, true);
}

static void on_output(void *ctx, const char *id, int stream)
{
	fsd_kick(ctx, id, false);
}

static void on_log(void *ctx, const char *line)
{
	log_info("%s", line);
}

static const struct ops_listener listener = { on_event, on_output, on_log };

/* Fork; the parent waits for the child's "mounted" (or its error) so that
 * `ocivmfs MOUNT && ls MOUNT` works and errors reach the terminal. */
static int daemonize(int *ret_fd)
{
	int p[2];
	char msg[OERR_MSG_MAX + 1];

	if (pipe(p) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(p[0]);
		setsid();
		*ret_fd = p[1];
		return 0;
	}
	close(p[1]);
	ssize_t n = read(p[0], msg, sizeof(msg) - 1);
	if (n == 1 && msg[0] == '\0')
		_exit(0);
	if (n > 0) {
		msg[n] = '\0';
		fprintf(stderr, "ocivmfs: %s\n", msg);
	} else {
		fprintf(stderr, "ocivmfs: the daemon died while starting\n");
	}
	_exit(1);
}

static void report(int fd, const char *msg, bool foreground)
{
	if (fd >= 0) {
		ssize_t r = write(fd, msg, msg[0] ? strlen(msg) : 1);
		(void)r;
		close(fd);
	} else if (msg[0] && foreground) {
		fprintf(stderr, "ocivmfs: %s\n", msg);
	}
}

static void detach_stdio(void)
{
	freopen("/dev/null", "r", stdin);
	freopen("/dev/null", "w", stdout);
	freopen("/dev/null", "w", stderr);
	if (chdir("/") < 0)
		return;
}

static struct fuse_session *session_new(struct fsd *fs, const struct args *a)
{
	char opts[256];
	snprintf(opts, sizeof(opts), "default_permissions,fsname=ocivmfs,subtype=ocivmfs%s",
		 a->allow_other ? ",allow_other" : "");
	char *argv[] = { "ocivmfs", "-o", opts, a->debug ? "-d" : NULL, NULL };
	struct fuse_args fargs = FUSE_ARGS_INIT(a->debug ? 4 : 3, argv);
	struct fuse_session *se = fuse_session_new(&fargs, &fsd_ll_ops, sizeof(fsd_ll_ops), fs);
	fuse_opt_free_args(&fargs);
	return se;
}

static int serve(struct fsd *fs)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int r;

	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	fuse_loop_cfg_set_max_threads(cfg, 64);
	r = fuse_session_loop_mt(fs->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return r;
}

/* A daemon that was killed (not unmounted) leaves a dead mount behind
 * ("Transport endpoint is not connected"): detach it so a new daemon can
 * mount there again. */
static void clear_dead_mount(const char *mnt)
{
	struct stat st;

	if (stat(mnt, &st) == 0 || errno != ENOTCONN)
		return;
	log_warn("%s: a dead ocivmfs mount (killed daemon?): detaching it", mnt);
	if (umount2(mnt, MNT_DETACH) == 0)
		return;
	/* not root: the setuid helper may (its messages go to our stderr) */
	int e = errno, status = 0;
	char *argv[] = { "fusermount3", "-u", "-z", (char *)mnt, NULL };
	struct proc_spawn ps = { .argv = argv, .fd = { -1, 1, 2 }, .flags = PROC_PATH,
				 .exec_fd = -1 };
	pid_t pid;
	int r = proc_spawn(&ps, &pid, NULL);
	if (r == 0 && (r = proc_wait(pid, &status)) > 0 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)
		return;
	if (r < 0)
		log_warn("%s: cannot detach the dead mount: umount2: %s; running fusermount3: %s",
			 mnt, strerror(e), strerror(-r));
	else if (WIFEXITED(status))
		log_warn("%s: cannot detach the dead mount: umount2: %s; fusermount3 -u -z: "
			 "exit status %d", mnt, strerror(e), WEXITSTATUS(status));
	else
		log_warn("%s: cannot detach the dead mount: umount2: %s; fusermount3 -u -z: "
			 "killed by signal %d", mnt, strerror(e), WTERMSIG(status));
}

static int setup(struct fsd *fs, struct args *a, struct ops_options *oo, struct oerr *err)
{
	/* ops makes the state dir (missing parents 0755, the dir 0700) and
	 * resolves it: before detach_stdio's chdir("/"), so a relative
	 * --state-dir means the caller's */
	oo->state_dir = a->state_dir;
	int r = ops_open(oo, &listener, fs, &fs->ops, err);
	if (r < 0) {
		oerr_set(err, -r, "cannot open the state dir %s", a->state_dir);
		return r;
	}
	r = fsd_inc_init(fs, err);
	if (r < 0)
		return r;
	fs->se = session_new(fs, a);
	if (!fs->se)
		return oerr_set(err, EINVAL, "fuse_session_new failed");
	if (fuse_set_signal_handlers(fs->se) < 0)
		return oerr_set(err, EIO, "cannot install signal handlers");
	clear_dead_mount(a->mount);
	if (fuse_session_mount(fs->se, a->mount) < 0)
		return oerr_set(err, EIO, "cannot mount on %s (see above)", a->mount);
	if (fsd_ticker_start(fs) < 0)
		log_warn("no console ticker thread: a reader of console waits for the "
			 "container's output or state changes");
	return 0;
}

static void teardown(struct fsd *fs, bool mounted)
{
	if (fs->se && mounted)
		fuse_session_unmount(fs->se);
	/* Requests still being answered by their own threads (creates, ctl)
	 * use ops and the session: let them finish first. */
	fsd_jobs_wait(fs);
	/* First stop what kicks parked reads and poll handles (they point into
	 * the session): the console ticker, ops' supervisor (the listener). */
	fsd_ticker_stop(fs);
	if (fs->ops)
		ops_close(fs->ops);
	fs->ops = NULL;
	if (fs->se) {
		fuse_remove_signal_handlers(fs->se);
		fsd_parks_drop(fs);
		fuse_session_destroy(fs->se);
	}
	fsd_inc_free(fs);
	log_set_sink(NULL, NULL);
	fsd_slots_free_all(fs);
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct oerr err = { 0 };
	struct fsd fs = { .uid = getuid(), .gid = getgid(), .mounted = time(NULL) };
	_cleanup_free_ char *state = NULL, *cache = NULL, *kernel = NULL, *initrd = NULL, *mnt = NULL;
	int pipe_fd = -1, r;

	if (parse_args(argc, argv, &a) < 0) {
		usage(stderr);
		return 2;
	}
	if ((mnt = realpath(a.mount, NULL)) || (errno == ENOTCONN && (mnt = strdup(a.mount))))
		a.mount = mnt;   /* absolute: the daemon chdirs to / */
	if (!a.state_dir)
		a.state_dir = state = default_state_dir();
	if (a.cache_dir && a.cache_dir[0] != '/') {   /* the daemon chdirs to / */
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)) || asprintf(&cache, "%s/%s", cwd, a.cache_dir) < 0) {
			fprintf(stderr, "ocivmfs: --cache-dir %s: %s\n", a.cache_dir, strerror(errno));
			return 1;
		}
		a.cache_dir = cache;
	}
	if (!a.kernel)
		a.kernel = kernel = guest_file("vmlinuz");
	if (!a.initrd)
		a.initrd = initrd = guest_file("initrd.img");
	struct ops_options oo = { .kernel = a.kernel, .initrd = a.initrd,
				  .hypervisor = a.hypervisor ? a.hypervisor : "auto",
				  .cache_dir = a.cache_dir,
				  .vm_user = a.vm_user, .no_confine = a.no_confine,
				  .vm_uids = a.vm_uids, .templates = a.templates,
				  .max_output_bytes = a.max_output_mib << 20 };
	if (!a.foreground && (r = daemonize(&pipe_fd)) < 0) {
		fprintf(stderr, "ocivmfs: fork: %s\n", strerror(-r));
		return 1;
	}
	fs.debug = a.debug;
	fs.has_group = a.has_group;
	fs.group = a.group;
	pthread_mutex_init(&fs.lock, NULL);
	pthread_cond_init(&fs.jobs_done, NULL);
	log_set_level(a.debug ? LOG_DEBUG : LOG_INFO);
	log_set_sink(fsd_log_sink, &fs);
	if (setup(&fs, &a, &oo, &err) < 0) {
		report(pipe_fd, err.msg, true);
		teardown(&fs, false);
		return 1;
	}
	report(pipe_fd, "", a.foreground);
	if (!a.foreground)
		detach_stdio();
	log_info("mounted %s (state %s, kernel %s, initrd %s); %s", a.mount,
		 ops_state_dir(fs.ops), a.kernel, a.initrd, ops_hypervisor_line(fs.ops));
	r = serve(&fs);
	log_info("unmounting %s", a.mount);
	teardown(&fs, true);
	return r < 0 ? 1 : 0;
}
