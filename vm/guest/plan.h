/* The apply-plan: the gspec (common/gspec.h) parsed once into typed data.
 * Strings point into the SPEC text (decoded in place), so the plan lives as
 * long as that buffer.  Pure: no system calls, unit-tested unprivileged. */
#ifndef OCIVM_GUEST_PLAN_H
#define OCIVM_GUEST_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define GPLAN_MAX_ARGS 256
#define GPLAN_MAX_ENV 512
#define GPLAN_MAX_GIDS 64
#define GPLAN_MAX_RLIMITS 32
#define GPLAN_MAX_MOUNTS 64
#define GPLAN_MAX_SYSCTL 64
#define GPLAN_MAX_PATHS 64
#define GPLAN_MAX_IDMAPS 64
#define GPLAN_MAX_DEVICES 256
#define GPLAN_MAX_COPIES 64
#define GPLAN_MAX_SEED 256
#define GPLAN_MAX_NICS 4
#define GPLAN_MAX_NETADDRS 32
#define GPLAN_MAX_NETROUTES 64

/* linux.namespaces types (namespace records): the guest applies pid, ipc
 * and uts to the container's process (spawn.c; mount always is); the others
 * are carried for completeness (network: the caller's NICs, user: uidmap). */
enum gplan_ns { GNS_PID = 1, GNS_NETWORK = 2, GNS_MOUNT = 4, GNS_IPC = 8, GNS_UTS = 16,
		GNS_USER = 32, GNS_CGROUP = 64, GNS_TIME = 128 };

enum gplan_capset { GCAP_BOUNDING, GCAP_EFFECTIVE, GCAP_INHERITABLE, GCAP_PERMITTED,
		    GCAP_AMBIENT, GCAP_NSETS };

struct gplan_mount { char *dest, *type, *source, *opts; int copy; /* copymount: N, else -1 */ };
/* An entry of a bind mount's copy (copy N REL KIND MODE UID GID DATA):
 * data decoded from hex in place, len bytes. */
struct gplan_copy { int n; char *rel; char kind; mode_t mode; uid_t uid; gid_t gid;
		    char *data; size_t len; };
struct gplan_rlimit { int resource; rlim_t soft, hard; };
struct gplan_sysctl { char *key, *value; };
struct gplan_idmap { uint32_t inside, outside, count; };  /* one uid_map line */
/* linux.devices[i]: type 'c', 'b' or 'p' ('u' is read as 'c'). */
struct gplan_device { char *path; char type; unsigned major, minor; mode_t mode; uid_t uid; gid_t gid; };

/* The caller's network (nic/netaddr/netroute records; vm/guest/net.c):
 * addresses and routes name their NIC by index into nics. */
struct gplan_nic { unsigned char mac[6]; unsigned mtu; char *name; };
struct gplan_ip { int family; unsigned char a[16]; };   /* AF_INET, AF_INET6 */
struct gplan_netaddr { int nic; struct gplan_ip ip; unsigned prefix; };
struct gplan_netroute { int nic; struct gplan_ip dst, gw; unsigned prefix; }; /* gw.family 0: on-link */

struct gplan {
	char *id;
	char *rootfs_serial, *rootfs_fstype;
	int rootfs_ro;
	char *image_serial, *image_fstype;   /* NULL: no vm.image */
	char *hostname, *domainname;         /* NULL: untouched */
	unsigned ns;                         /* GNS_* listed in linux.namespaces */
	char *args[GPLAN_MAX_ARGS + 1]; int n_args;
	char *env[GPLAN_MAX_ENV + 1]; int n_env;
	char *cwd;
	int has_user; uid_t uid; gid_t gid; int umask; /* umask -1: untouched */
	gid_t gids[GPLAN_MAX_GIDS]; int n_gids;
	int terminal, nnp;
	unsigned short ws_rows, ws_cols;     /* winsize: the pty's start size; 0: none */
	int has_oom, oom;
	struct gplan_rlimit rlimits[GPLAN_MAX_RLIMITS]; int n_rlimits;
	int has_caps;                        /* 0: no cap record, caps untouched */
	uint64_t caps[GCAP_NSETS];
	uint64_t memory_max;                 /* bytes; 0: no limit (cgroup.c) */
	uint64_t pids_max;                   /* 0: no limit (cgroup.c) */
	/* a user namespace for the process when there are maps (userns.c) */
	struct gplan_idmap uidmaps[GPLAN_MAX_IDMAPS]; int n_uidmaps;
	struct gplan_idmap gidmaps[GPLAN_MAX_IDMAPS]; int n_gidmaps;
	struct gplan_mount mounts[GPLAN_MAX_MOUNTS]; int n_mounts;
	struct gplan_sysctl sysctls[GPLAN_MAX_SYSCTL]; int n_sysctls;
	char *masked[GPLAN_MAX_PATHS]; int n_masked;
	char *readonly[GPLAN_MAX_PATHS]; int n_readonly;
	struct gplan_device devices[GPLAN_MAX_DEVICES]; int n_devices;
	struct gplan_copy copies[GPLAN_MAX_COPIES]; int n_copies;
	/* from the host driver at SPEC time, not from ops (vm/driver/fresh.c) */
	char *seed; size_t seed_len;         /* NULL: none */
	long long clock_sec; long clock_nsec; /* clock_sec 0: none */
	int restored;                        /* restored from a template */
	struct gplan_nic nics[GPLAN_MAX_NICS]; int n_nics;
	struct gplan_netaddr netaddrs[GPLAN_MAX_NETADDRS]; int n_netaddrs;
	struct gplan_netroute netroutes[GPLAN_MAX_NETROUTES]; int n_netroutes;
};

/* Parse text (writable, len bytes).  0, or -EINVAL with a one-line reason
 * in errbuf ("line 7: rlimit: unknown resource RLIMIT_FOO"). */
int gplan_parse(char *text, size_t len, struct gplan *ret, char *errbuf, size_t cap);
/* plan_net.c: the nic, netaddr and netroute records. */
int gplan_k_nic(struct gplan *p, char **f, char *eb, size_t cap);
int gplan_k_netaddr(struct gplan *p, char **f, char *eb, size_t cap);
int gplan_k_netroute(struct gplan *p, char **f, char *eb, size_t cap);
/* The value of NAME in the plan's env, or NULL. */
const char *gplan_getenv(const struct gplan *p, const char *name);

/* Name tables (tables.c). -1 when unknown. */
int gtab_rlimit(const char *name);        /* "RLIMIT_NOFILE" -> RLIMIT_NOFILE */
int gtab_cap(const char *name);           /* "CAP_SYS_ADMIN" -> 21 */
int gtab_capset(const char *name);        /* "bounding" -> GCAP_BOUNDING */
int gtab_ns(const char *name);            /* "pid" -> GNS_PID */

/* Mount options ("ro,nosuid,mode=755") -> flags + data (tables.c). */
struct gmntopts {
	unsigned long flags;        /* MS_* for mount(2) */
	unsigned long propagation;  /* MS_PRIVATE/MS_SLAVE/... (| MS_REC), 0 if none */
	int bind, recursive;        /* bind or rbind */
	char data[1024];            /* comma-joined options mount(2) does not know */
};
int gtab_mntopts(const char *opts, struct gmntopts *ret);

#endif
