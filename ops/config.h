/* config.json parsed once into typed structs; nothing else in ocivmfs
 * touches the raw JSON.  Unknown members are ignored (runtime-spec config.md:
 * runtimes MUST ignore unknown properties); known ones are type- and
 * range-checked, and every rejection names the JSON path and why. */
#ifndef OCIVM_OPS_CONFIG_H
#define OCIVM_OPS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "ops/cj.h"

/* Limits on what a config can make us allocate. */
#define OPS_CFG_MAX_BYTES   (1u << 20)  /* config.json size */
#define OPS_CFG_MAX_STR     4096        /* any one string */
#define OPS_CFG_MAX_ARGS    1024        /* process.args, env, kernel params... */
#define OPS_CFG_MAX_LIST    256         /* mounts, hooks per kind, devices, paths... */
#define OPS_CFG_MAX_VCPUS   256
/* Guest RAM (ops/README.md, "VM shape"): the floor is the least the Debian
 * cloud kernel + initrd boot in and run a small process (76 MiB measured
 * under QEMU/TCG, 74 MiB dies: "Out of memory and no killable processes"),
 * with a margin; the headroom is what the guest keeps beside a container
 * filled to its memory.limit (kernel, init, page tables: 68 MiB of a
 * 96 MiB guest are in use before the container runs). */
#define OPS_GUEST_FLOOR_MIB    96
#define OPS_GUEST_HEADROOM_MIB 96
#define OPS_CFG_MIN_MEMORY  ((uint64_t)OPS_GUEST_FLOOR_MIB << 20)
#define OPS_CFG_MAX_MEMORY  (1ull << 40)

struct ops_kv { char *key, *value; };
struct ops_kvs { struct ops_kv *v; size_t n; };

struct ops_rlimit { char *type; uint64_t soft, hard; };

enum ops_cap_set { OPS_CAP_BOUNDING, OPS_CAP_EFFECTIVE, OPS_CAP_INHERITABLE,
		   OPS_CAP_PERMITTED, OPS_CAP_AMBIENT, OPS_CAP_SETS };
extern const char *const ops_cap_set_names[OPS_CAP_SETS];

struct ops_process {
	bool present;
	bool terminal;
	uint32_t uid, gid;
	int umask;                    /* -1: not given */
	uint32_t *gids; size_t n_gids;
	struct cj_strv args, env;
	char *cwd;
	struct ops_rlimit *rlimits; size_t n_rlimits;
	bool no_new_privileges;
	struct cj_strv caps[OPS_CAP_SETS];
	bool has_oom_score_adj;
	int oom_score_adj;
	/* consoleSize: the pty's size before the process starts (0 0: not
	 * given, or given as 0 0, which runc also leaves unset) */
	uint16_t console_height, console_width;
};

/* A bind mount's host source as copied into the VM (ops/bindcopy.c):
 * entries in preorder, rel "." for the source itself, kind f|d|l. */
struct ops_copy_entry { char *rel; char kind; uint32_t mode, uid, gid; char *data; size_t len; };
struct ops_copy { struct ops_copy_entry *v; size_t n; };

struct ops_mount {
	char *destination, *type, *source;
	struct cj_strv options;
	struct ops_copy *copy;        /* a bind mount's copy, read at create; else NULL */
};

enum ops_hook_kind { OPS_HOOK_PRESTART, OPS_HOOK_CREATE_RUNTIME, OPS_HOOK_CREATE_CONTAINER,
		     OPS_HOOK_START_CONTAINER, OPS_HOOK_POSTSTART, OPS_HOOK_POSTSTOP,
		     OPS_HOOK_KINDS };
extern const char *const ops_hook_kind_names[OPS_HOOK_KINDS];

struct ops_hook {
	char *path;
	struct cj_strv args, env;
	unsigned timeout;             /* seconds, 0: none */
};
struct ops_hooks { struct ops_hook *v; size_t n; };

struct ops_namespace { char *type, *path; };
struct ops_device {
	char *type, *path;
	int64_t major, minor;
	bool has_file_mode, has_uid, has_gid;
	uint32_t file_mode, uid, gid;
};

#define OPS_CFG_MAX_IDMAPS 64     /* lines of uid_map / gid_map */
struct ops_idmap { uint32_t container_id, host_id, size; };

struct ops_linux {
	struct ops_namespace *namespaces; size_t n_namespaces;
	/* linux.uidMappings / gidMappings (config_userns.c): only with a user
	 * namespace, which then needs both */
	struct ops_idmap uid_maps[OPS_CFG_MAX_IDMAPS], gid_maps[OPS_CFG_MAX_IDMAPS];
	size_t n_uid_maps, n_gid_maps;
	bool has_memory_limit;
	int64_t memory_limit;         /* bytes, -1 unlimited */
	bool has_cpu_quota, has_cpu_period;
	int64_t cpu_quota;
	uint64_t cpu_period;
	char *cpus;                   /* cpuset string, e.g. "0-3,6" */
	bool has_cpu_shares, has_pids_limit;
	uint64_t cpu_shares;          /* 2..262144 (the kernel's v1 range) */
	int64_t pids_limit;           /* -1 or 0: unlimited */
	struct ops_kvs sysctl;
	struct cj_strv masked_paths, readonly_paths;
	struct ops_device *devices; size_t n_devices;
};

enum ops_image_format { OPS_IMAGE_RAW, OPS_IMAGE_QCOW2, OPS_IMAGE_VDI, OPS_IMAGE_VMDK,
			OPS_IMAGE_VHD };

struct ops_vm {
	bool present;
	char *kernel_path, *initrd;
	struct cj_strv kernel_params;
	bool has_hypervisor;          /* a non-empty hypervisor object */
	char *hypervisor_path;
	struct cj_strv hypervisor_params;
	bool has_image;               /* a non-empty image object */
	char *image_path;
	enum ops_image_format image_format;
	bool has_vcpus, has_memory;
	uint32_t vcpus;
	uint64_t memory;              /* bytes */
};

struct ops_config {
	char *oci_version;
	char *root_path;
	bool root_readonly;
	struct ops_process process;
	char *hostname, *domainname;
	struct ops_mount *mounts; size_t n_mounts;
	struct ops_hooks hooks[OPS_HOOK_KINDS];
	struct ops_kvs annotations;
	bool has_linux;
	struct ops_linux linux_;
	struct ops_vm vm;
};

/* Parse config.json text (len bytes, need not be NUL-terminated).  On
 * failure: -EINVAL (or -ENOMEM/-E2BIG) and err names the JSON path. */
int ops_config_parse(const char *json, size_t len, struct ops_config **ret, struct oerr *err);
/* Read BUNDLE/config.json and parse it. */
int ops_config_load(const char *bundle, struct ops_config **ret, char **ret_text,
		    struct oerr *err);
void ops_config_free(struct ops_config *cfg);
/* A runtime-spec process object alone (runc exec --process): 0, or -errno
 * with "process.PATH: why" in err.  Free with ops_process_free. */
int ops_process_parse(const char *json, size_t len, struct ops_process *ret, struct oerr *err);
void ops_process_free(struct ops_process *p);

/* linux.namespaces' network path, or NULL (then the guest has only lo). */
const char *ops_config_netns(const struct ops_config *cfg);
/* At create: the network path names a network namespace (a file of nsfs
 * whose NS_GET_NSTYPE is CLONE_NEWNET), else -EINVAL with
 * "linux.namespaces[I].path P: why"; -EPERM when the bundle is not owned
 * by root (bundle_uid): a network namespace is joined by the daemon, and
 * its interfaces are taken over, so only root's bundles may name one.
 * 0 without a path. */
int ops_config_netns_check(const struct ops_config *cfg, uid_t bundle_uid, struct oerr *err);

/* VM shape: vm.hwConfig, else linux.resources (cpu quota/period rounded up,
 * else the cpuset's size; memory limit rounded up to MiB), else defaults. */
void ops_config_vm_shape(const struct ops_config *cfg, unsigned def_vcpus, uint64_t def_mib,
			 unsigned *ret_vcpus, uint64_t *ret_mib);

#endif
