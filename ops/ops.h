/* ops/ public API: the OCI runtime semantics behind the mounted tree.
 * fs/ calls these and nothing below them; ops/ calls vm/.
 *
 * Every call returns 0 or -errno and, on failure, fills err with the one-line
 * reason fs/ puts in MOUNT/log and ID/vm/last_error.  Errnos follow the tree
 * contract: EINVAL bad input, EBUSY wrong state, ENOENT no such container,
 * EEXIST duplicate id, ENOSPC state dir full.  Thread-safe: fs/ calls from
 * many FUSE worker threads at once. */
#ifndef OCIVM_OPS_H
#define OCIVM_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"

struct ops;

struct ops_options {
	const char *state_dir;        /* default /run/ocivmfs */
	const char *kernel;           /* default guest kernel (bundles without vm.kernel) */
	const char *initrd;           /* default initrd (ocivm-init) */
	const char *hypervisor;       /* "auto" | "ocivm-vmm" | "qemu" */
	const char *vmm_path;         /* ocivm-vmm binary (NULL: next to the daemon / PATH) */
	const char *qemu_path;        /* NULL: qemu-system-x86_64 from PATH */
	unsigned default_vcpus;       /* 0: 1 */
	uint64_t default_memory_mib;  /* 0: 256 */
	uint64_t max_output_bytes;    /* per stdout/stderr file; 0: 256 MiB (past it: discarded) */
	const char *cache_dir;        /* rootfs image cache; NULL: /var/lib/ocivmfs/images when
				       * state_dir is /run/ocivmfs (a tmpfs), else STATE/.images */
	const char *vm_user;          /* hypervisors run as this user; NULL: ocivm, else nobody */
	bool no_confine;              /* debug/bench: hypervisors run as the daemon, unconfined */
	const char *vm_uids;          /* "FIRST:COUNT": each VM its own uid (ops/vmuid.c); NULL: off */
	/* VM templates (vm.h): "on", "off", NULL = the default (off: see
	 * ops/README.md).  Kept in cache_dir/templates. */
	const char *templates;
};

/* fs/ is told about changes through these; called from ops threads with no
 * ops lock held, so fs/ may call back into ops. */
struct ops_listener {
	/* a state change: line is "<rfc3339> <id> <status>" (the events file) */
	void (*on_event)(void *ctx, const char *id, const char *line);
	/* bytes were appended to a stream file of id (OPS_STREAM_*) or the
	 * container stopped (so readers waiting at EOF must be answered) */
	void (*on_output)(void *ctx, const char *id, int stream);
	/* a daemon message for MOUNT/log */
	void (*on_log)(void *ctx, const char *line);
};

/* Reads the state dir back: containers whose VM still runs are re-attached,
 * the others are marked stopped. */
int ops_open(const struct ops_options *opt, const struct ops_listener *l, void *ctx,
	     struct ops **ret, struct oerr *err);
/* The state dir ops_open made (its absolute path; ops_options.state_dir may
 * be relative), valid until ops_close.  Defined by the runtime and by the
 * tree's test double (tests/fs/fake_ops.c). */
const char *ops_state_dir(struct ops *ops);
/* Frees everything; running VMs keep running.  Call it once no other ops
 * call is in flight. */
void ops_close(struct ops *ops);

/* VM templates for the tree (MOUNT/templates/KEY/{inputs,size,created,uses}),
 * ops/templates.c.  With templates off there are none (list: 0 entries). */
#define OPS_TEMPLATE_KEY_LEN 64
struct ops_template_info {
	char key[OPS_TEMPLATE_KEY_LEN + 1];
	unsigned long long size;     /* bytes on disk */
	long long created;           /* unix seconds */
	unsigned long long uses;     /* creates restored from it */
};
int ops_templates_list(struct ops *ops, struct ops_template_info **ret, size_t *ret_n);
/* 0 or -ENOENT. */
int ops_template_get(struct ops *ops, const char *key, struct ops_template_info *ret);
/* What its key covers, as text (malloc'd); -ENOENT. */
int ops_template_inputs(struct ops *ops, const char *key, char **ret);
/* Drop one (the next create of that key builds it again; containers made
 * from it run on): -ENOENT with reason. */
int ops_template_remove(struct ops *ops, const char *key, struct oerr *err);

/* One line about which hypervisor serves new containers and why (for
 * MOUNT/hypervisor and the log). */
const char *ops_hypervisor_line(struct ops *ops);

/* Options of "create ID BUNDLE key=value..." (and the CLI):
 *   pid=N        host process that stands for the container (the CLI's shim)
 *   terminal=0|1 override process.terminal
 * Unknown keys are EINVAL. */
int ops_create(struct ops *ops, const char *id, const char *bundle,
	       const char *const *kv, size_t n_kv, struct oerr *err);
/* The staging area MOUNT/incoming/ shows (ops/staging.c): STATE/.incoming,
 * as an O_PATH directory descriptor for fs/ to pass file operations through
 * (the caller closes it); 0.. or -errno. */
int ops_incoming_open(struct ops *ops, struct oerr *err);
/* Create id from the bundle dirfd/name (a directory in the staging area):
 * it moves to STATE/.bundles/ID, the container's bundle until ops_delete;
 * a failed create moves it back (a daemon that died meanwhile: the next
 * ops_open gives it back to incoming/ and logs it).  EEXIST before moving. */
int ops_create_moved(struct ops *ops, const char *id, int dirfd, const char *name,
		     struct oerr *err);
int ops_start(struct ops *ops, const char *id, struct oerr *err);
int ops_kill(struct ops *ops, const char *id, int signo, struct oerr *err);
int ops_pause(struct ops *ops, const char *id, struct oerr *err);
int ops_resume(struct ops *ops, const char *id, struct oerr *err);
int ops_delete(struct ops *ops, const char *id, bool force, struct oerr *err);
int ops_write_stdin(struct ops *ops, const char *id, const void *buf, size_t len,
		    struct oerr *err);
int ops_close_stdin(struct ops *ops, const char *id, struct oerr *err);

/* The container id: the one limit and the one check every layer uses
 * (fs/, the ocivm CLI and ops itself call ops_id_valid, ops/id.c).  Ids
 * become file names with at most OPS_ID_SUFFIX_MAX bytes added, each within
 * NAME_MAX (255): STATE/ID/, STATE/.bundles/ID, incoming/ID.9 (a bundle
 * given back after a crash), the image cache's refs/KEY/ID and owners/ID,
 * the VM's cgroup .../ocivmfs/ID.  Paths never limit it: a VM's sockets are
 * reached through their directory (common/usock.h), so any state dir works.
 * runc's character set [A-Za-z0-9_+.-], no leading '.', no "..". */
#define OPS_ID_MAX 250
#define OPS_ID_SUFFIX_MAX 5
/* 0, or -EINVAL with the reason ("id: longer than 250 bytes"). */
int ops_id_valid(const char *id, struct oerr *err);

enum ops_status { OPS_CREATING, OPS_CREATED, OPS_RUNNING, OPS_PAUSED, OPS_STOPPED };
const char *ops_status_name(enum ops_status s);

struct ops_info {
	enum ops_status status;
	pid_t pid;              /* registered shim pid, else the VMM pid; 0 when stopped */
	bool exited;
	int exit_status;        /* valid when exited */
	time_t created;
	uint64_t generation;    /* bumps on every change (cache key for fs/) */
	uint64_t serial;        /* this container's, never another's in this ops (fs/'s
				 * size cache: an id deleted and made again differs) */
	char bundle[4096];
};
int ops_get(struct ops *ops, const char *id, struct ops_info *ret, struct oerr *err);
/* ids, sorted; free with ops_free_list. */
int ops_list(struct ops *ops, char ***ret_ids, size_t *ret_n);
void ops_free_list(char **ids, size_t n);

/* malloc'd texts the tree shows. */
int ops_state_json(struct ops *ops, const char *id, char **ret, struct oerr *err);
int ops_config_json(struct ops *ops, const char *id, char **ret, struct oerr *err);
int ops_features_json(char **ret);
/* ID/vm/<name>: kernel, cmdline, vcpus, memory, disks, timings, driver,
 * accel, hypervisor_cmdline, last_error, output (stream cap, bytes discarded),
 * confinement (what the VM process got + live cgroup figures), cgroup (only
 * the live figures of its cgroups: memory, pids, cpu.stat, ...).  -ENOENT for an unknown name. */
int ops_vm_file(struct ops *ops, const char *id, const char *name, char **ret, struct oerr *err);
extern const char *const ops_vm_file_names[]; /* NULL-terminated */

/* Output streams are plain files in the state dir, appended as the guest
 * produces them and kept after the container stops; fs/ preads them.
 * stdout and stderr stop growing at max_output_bytes: one marker line
 * "[ocivmfs: output truncated after N bytes]", then the rest is counted
 * (vm/output) and dropped; the container keeps running. */
enum { OPS_STREAM_STDOUT = 1, OPS_STREAM_STDERR = 2, OPS_STREAM_CONSOLE = 3 };
int ops_stream_path(struct ops *ops, const char *id, int stream, char *buf, size_t n);

/* Extra processes of a running container (ops/exec.c), by NAME (the
 * ops_id_valid rule, at most OPS_EXEC_NAME_MAX bytes).  ops_exec reads the
 * runtime-spec process object from process_json (an absolute path), starts
 * it in the container and returns once it runs (pid known) or failed:
 * EBUSY the container is not running or OPS_EXEC_MAX processes are kept,
 * EEXIST the name is taken, EINVAL bad JSON (with its JSON path), ENOENT the
 * executable is not found, EACCES it cannot be started.  A stopped one is
 * kept (exit status, output) until ops_exec_remove.  Events: "<time> ID
 * exec NAME started" and "<time> ID exec NAME exited STATUS".  Each has a
 * number 1..OPS_EXEC_MAX, stable while it exists (fs/ inode numbers).
 * Not kept over a daemon restart. */
#define OPS_EXEC_NAME_MAX 64
#define OPS_EXEC_MAX 255
int ops_exec(struct ops *ops, const char *id, const char *name, const char *process_json,
	     struct oerr *err);
int ops_exec_kill(struct ops *ops, const char *id, const char *name, int signo,
		  struct oerr *err);
int ops_exec_write_stdin(struct ops *ops, const char *id, const char *name, const void *buf,
			 size_t len, struct oerr *err);
int ops_exec_close_stdin(struct ops *ops, const char *id, const char *name, struct oerr *err);
/* EBUSY while it runs. */
int ops_exec_remove(struct ops *ops, const char *id, const char *name, struct oerr *err);
/* The terminal's window size; name NULL: the container's own process. */
int ops_resize(struct ops *ops, const char *id, const char *name, unsigned rows,
	       unsigned cols, struct oerr *err);
struct ops_exec_info {
	unsigned num;
	enum ops_status status;  /* OPS_CREATING until it runs, OPS_RUNNING, OPS_STOPPED */
	pid_t pid;               /* in the guest */
	bool exited;
	int exit_status;         /* valid when exited: code, or 128+signal */
	/* the guest's times once it stopped (vm.h vm_proc_times), -1 unknown:
	 * its fork to its reaping, and init's EXEC to EXITED */
	int64_t spawn_us, guest_us;
	char name[OPS_EXEC_NAME_MAX + 1];
};
/* By name, or by number when name is NULL. */
int ops_exec_get(struct ops *ops, const char *id, const char *name, unsigned num,
		 struct ops_exec_info *ret, struct oerr *err);
/* All of a container's, by number; free(*ret). */
int ops_exec_list(struct ops *ops, const char *id, struct ops_exec_info **ret, size_t *ret_n);
/* The stream files of exec number num: stream OPS_STREAM_EXEC(num, s). */
#define OPS_STREAM_EXEC(num, s) (16 * (int)(num) + (s))

#endif
