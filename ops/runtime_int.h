/* Internal to the runtime behind ops/ops.h (runtime*.c). */
#ifndef OCIVM_OPS_RUNTIME_INT_H
#define OCIVM_OPS_RUNTIME_INT_H

#include <pthread.h>
#include <stdbool.h>

#include "ops/config.h"
#include "ops/lifecycle.h"
#include "ops/ops.h"
#include "ops/store.h"
#include "vm/vm.h"

#define OPS_START_TIMEOUT_MS 60000u
#define OPS_DESTROY_GRACE_MS 2000u
#define OPS_MAX_OUTPUT_DEFAULT (256ull << 20)
#define OPS_STATE_DIR_DEFAULT "/run/ocivmfs"
#define OPS_CACHE_DIR_DEFAULT "/var/lib/ocivmfs/images"

/* An extra process (exec.c). */
struct ops_exec {
	struct ops_exec_info info;
	char last_error[256];         /* its ERROR line */
	bool started;                 /* STARTED came */
	int out_fd[3];                /* [1] stdout, [2] stderr, -1 when closed */
	uint64_t out_len[3];
};

struct ctr {
	struct ops *ops;
	uint64_t serial;              /* epoll key; never reused */
	struct ops_record rec;        /* what state.json holds */
	char *dir;                    /* STATE/ID */
	struct ops_config *cfg;
	char *config_text;
	struct vm *vm;                /* NULL when there is no VM */
	int vm_users;                 /* threads using vm outside the lock */
	int reaping;                  /* the supervisor is destroying a VM that ended */
	bool in_epoll;
	bool busy;                    /* create/start/delete under way */
	bool started;                 /* on_started since the last start */
	bool dir_made;                /* create made dir (its undo may remove it) */
	char start_err[OERR_MSG_MAX]; /* on_error text while starting */
	int refs;
	bool removed;
	uint64_t generation;
	int out_fd[3];                /* [1] stdout, [2] stderr, -1 when closed */
	uint64_t out_len[3];          /* bytes in the stream file */
	uint64_t out_dropped[3];      /* discarded past max_output (since this daemon) */
	bool out_capped[3];           /* the marker line is in the file */
	char out_last[3];             /* last byte written (0: not known) */
	uint32_t vm_uid;              /* --vm-uids: the uid its VM runs as (0: none) */
	struct ops_exec *execs[OPS_EXEC_MAX + 1];   /* by number; [0] unused */
};

struct ops {
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* vm_users, start, busy changes */
	char *state_dir, *cache_dir, *kernel, *initrd, *vmm_path, *qemu_path;
	enum vm_driver driver;
	unsigned def_vcpus;
	uint64_t def_mib;
	uint64_t max_output;          /* per stream file */
	unsigned start_timeout_ms;
	struct ops_listener l;
	void *lctx;
	struct ctr **v;
	size_t n, cap;
	uint64_t next_serial;
	int epfd, wakefd;
	pthread_t sup;
	bool sup_running;
	struct vm_host_probe probe;
	struct vm_confine confine;    /* every VM's user and confinement (vm.h) */
	uint32_t vm_uid_first, vm_uid_count; /* --vm-uids (ops/vmuid.c); count 0: off */
	char hv_line[1024];
	struct vm_templates *templates; /* NULL: templates off */
	char tpl_why[160];            /* templates on/off and why (hv_line) */
	char held_log[8][512];        /* lines logged under the lock, sent later */
	int n_held_log;
};

/* A change to tell fs/ about once the lock is dropped. */
struct ops_note {
	char id[OPS_ID_MAX + 1];
	char line[OPS_ID_MAX + 96];
	bool event, output;
};

/* Lets a public call work with err == NULL. */
#define OERR_LOCAL(err) struct oerr err##_local = { 0 }; if (!(err)) (err) = &err##_local

void ops_rfc3339(char *buf, size_t n);

/* runtime.c: table, refs, notes, supervisor */
struct ctr *ops_find(struct ops *ops, const char *id);             /* lock held */
struct ctr *ops_find_ref(struct ops *ops, const char *id, struct oerr *err); /* takes lock */
void ops_unref(struct ops *ops, struct ctr *c);                    /* takes lock */
void ops_unref_locked(struct ops *ops, struct ctr *c);
int ops_insert(struct ops *ops, struct ctr *c);                    /* lock held */
void ops_remove(struct ops *ops, struct ctr *c);                   /* lock held */
struct ctr *ops_ctr_new(struct ops *ops, const char *id);
/* Lock held.  Sets, saves and notes the status; returns the save's result
 * (the status is set either way: a caller that can refuse undoes it). */
int ops_set_status(struct ops *ops, struct ctr *c, enum ops_status s, struct ops_note *n);
/* Lock held; with err NULL, logs a failure. */
int ops_persist(struct ops *ops, struct ctr *c, struct oerr *err);
void ops_notify(struct ops *ops, const struct ops_note *n);        /* lock NOT held */
/* To the listener's on_log: ops_logf with the lock NOT held; with it held,
 * ops_logf_locked keeps the line until the next ops_notify. */
void ops_logf(struct ops *ops, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ops_logf_locked(struct ops *ops, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ops_watch(struct ops *ops, struct ctr *c);                     /* lock held */
/* Take the VM away from c (lock held, returns with it held), waiting for its
 * users; the caller destroys it after dropping the lock. */
struct vm *ops_take_vm(struct ops *ops, struct ctr *c);
/* Wait (lock held) until a VM the supervisor is destroying is gone. */
void ops_wait_reaped(struct ops *ops, struct ctr *c);
/* Grab c->vm for a request outside the lock; NULL if there is none. */
struct vm *ops_vm_get(struct ops *ops, struct ctr *c);
void ops_vm_put(struct ops *ops, struct ctr *c);
extern const struct vm_callbacks ops_vm_callbacks;
void ops_close_streams(struct ctr *c);
void *ops_supervisor(void *arg);
int ops_open_streams(struct ctr *c, struct oerr *err);
void ops_mark_stopped(struct ops *ops, struct ctr *c, int status, const char *reason,
		      struct ops_note *n); /* lock held */

/* exec.c: the VM callbacks of exec'd processes; at the container's stop
 * (lock held) every one still running is marked stopped (255); at free. */
void ops_exec_cb_started(void *ctx, unsigned proc, pid_t pid);
void ops_exec_cb_output(void *ctx, unsigned proc, int stream, const void *buf, size_t len);
void ops_exec_cb_error(void *ctx, unsigned proc, const char *reason);
void ops_exec_cb_exit(void *ctx, unsigned proc, int status, const struct vm_proc_times *times);
void ops_exec_stop_all(struct ctr *c);
void ops_exec_free_all(struct ctr *c);

/* spec.c (gspec), runtime_create.c, runtime_info.c */
/* note (may be NULL) gets a warning about requests that cannot be honoured
 * ("" if none). */
/* net (NULL: none): the caller's network, as nic/netaddr/netroute records. */
int ops_build_gspec(const struct ops_config *cfg, const char *id, bool terminal,
		    bool has_image, const struct vm_net *net, char **ret, size_t *ret_len,
		    char *note, size_t note_len, struct oerr *err);
/* EXEC's gspec: the process records of p (common/chan.h, protocol 2). */
int ops_build_exec_gspec(const struct ops_process *p, const char *id, char **ret,
			 size_t *ret_len, struct oerr *err);
int ops_state_text(struct ops *ops, struct ctr *c, char **ret);   /* lock held */
void ops_run_poststop(struct ops *ops, struct ctr *c);            /* lock NOT held */
void ops_run_hooks_warn(struct ops *ops, struct ctr *c, enum ops_hook_kind k); /* lock NOT held */
/* Run the hooks of one kind with the current state; stop at a failure. */
int ops_run_hooks(struct ops *ops, struct ctr *c, enum ops_hook_kind k, struct oerr *err);

/* ops/vmuid.c: "FIRST:COUNT" (NULL or "": off), and the confinement of
 * self's VM: ops->confine, with the lowest free uid of the range as uid
 * and gid when --vm-uids is on (-EAGAIN when none is free). */
int ops_vmuid_parse(const char *s, uint32_t *first, uint32_t *count, struct oerr *err);
int ops_vmuid_pick(struct ops *ops, struct ctr *self, struct vm_confine *ret, struct oerr *err);

#endif
