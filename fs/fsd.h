/* fs/: internal interfaces of the ocivmfs daemon (FUSE glue over ops/). */
#ifndef OCIVM_FS_FSD_H
#define OCIVM_FS_FSD_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "err.h"
#include "log.h"
#include "ops/ops.h"

#define FS_ID_MAX (OPS_ID_MAX + 1) /* buffer size for a container id (ops/ops.h) */
#define FS_LOG_LINES 256       /* MOUNT/log keeps this many lines */
#define FS_EVENT_LINES 1024    /* events kept for slow readers */
#define FS_LINE_MAX 512

/* Fixed inode numbers; containers and incoming/ use the ranges below. */
enum {
	INO_ROOT = 1, INO_README, INO_FEATURES, INO_EVENTS, INO_LOG, INO_CTL,
	INO_HYPERVISOR, INO_INCOMING, INO_CONTAINERS, INO_TEMPLATES, INO_FIXED_END,
};
#define INO_CT_BIT   (1ULL << 32)   /* | slot << 8 | file index */
#define INO_LINK_BIT (1ULL << 40)   /* | slot << 8: reply to ln -s */
#define INO_INC_BIT  (1ULL << 48)   /* | counter: incoming/ nodes */
#define INO_TPL_BIT  (1ULL << 62)   /* | key bits << 8 | file: templates/ (fs/templates.c) */
#define CT_IDX_DIR 0
#define CT_IDX_VMDIR 16
#define CT_IDX_VMFILE 32            /* + index in ops_vm_file_names */
#define CT_IDX_EXECDIR 17           /* ID/exec/ */
/* ID/exec/NAME/ and its files: a container inode | the exec number (ops.h,
 * 1..OPS_EXEC_MAX) << INO_EX_SHIFT, file index as for ID/ (CT_IDX_DIR for
 * the directory). */
#define INO_EX_SHIFT 52

/* What an inode is. */
enum fkind {
	FK_NONE, FK_DIR, FK_TEXT, FK_EVENTS, FK_LOG, FK_GCTL, FK_CTL, FK_WAIT,
	FK_STREAM, FK_STDIN, FK_LINK, FK_INCOMING,
};

struct node {
	fuse_ino_t ino;
	enum fkind kind;
	mode_t mode;            /* S_IFxxx | permissions */
	int slot;               /* container slot, 0 for none */
	int sub;                /* ct file index or stream number */
	int exec;               /* exec number under ID/exec/, 0 for the container */
	const char *name;       /* fixed name (static storage) */
};

/* An open file (fi->fh). */
struct fh {
	struct node node;
	char id[FS_ID_MAX];
	char *buf;              /* FK_TEXT/FK_LOG snapshot, dir listing */
	size_t len;
	int fd;                 /* FK_STREAM backing file, incoming fd */
	uint64_t ev_next;       /* FK_EVENTS: next sequence to read */
	struct fuse_pollhandle *ph;
	bool wrote;             /* FK_STDIN: close the guest's stdin on release */
	bool waiter;            /* linked on fsd.waiters */
	struct fh *wprev, *wnext;
};

struct park;
struct inc;

struct fslot;   /* fs/slots.c */

struct fsd {
	struct ops *ops;
	struct fuse_session *se;
	uid_t uid;
	gid_t gid;
	bool has_group;         /* --group: private nodes readable by this group */
	gid_t group;
	time_t mounted;
	bool debug;

	pthread_mutex_t lock;   /* slots, rings, parks, waiters */
	struct fslot **slot_by_id, **slot_by_num;   /* fs/slots.c */
	size_t slot_cap, slot_used;
	int slot_next;          /* the last slot number handed out */
	char log[FS_LOG_LINES][FS_LINE_MAX];
	uint64_t log_n;
	char events[FS_EVENT_LINES][FS_LINE_MAX];
	uint64_t ev_n;          /* events ever recorded */
	uint64_t wake_seq;      /* bumps on every kick (lost-wakeup guard) */
	struct park *parks;
	struct fh *waiters;
	pthread_t ticker;       /* wakes console readers (park.c) */
	pthread_cond_t ticker_cond;
	bool ticker_on, ticker_stop;

	struct inc *inc;        /* incoming/ passthrough */

	unsigned jobs;          /* fs/jobs.c: requests answered by their own thread */
	bool jobs_closed;       /* teardown: new ones run inline */
	pthread_cond_t jobs_done;
};

/* slots.c: container id <-> slot (the inode numbers' middle bits) */
int fsd_slot_of(struct fsd *fs, const char *id);       /* allocates; <0 -errno */
int fsd_slot_id(struct fsd *fs, int slot, char *id);    /* -ENOENT when free */
void fsd_slot_free(struct fsd *fs, const char *id);     /* at delete */
size_t fsd_slots_live(struct fsd *fs);
void fsd_slots_free_all(struct fsd *fs);
/* ID/vm/last_error for errors found in fs/ (msg NULL: clear, ops has it) */
void fsd_slot_note(struct fsd *fs, const char *id, const char *msg);
bool fsd_slot_last_error(struct fsd *fs, const char *id, char *buf, size_t n);
/* The size of a container's state or config.json, remembered under what
 * its text depends on (fs/content.c): get is false when nothing is kept
 * for that key.  Only for ids that have a slot. */
enum { FSD_MEMO_STATE, FSD_MEMO_CONFIG, FSD_MEMO_N };
struct fsd_memo_key { uint64_t serial; int status; pid_t pid; };
bool fsd_slot_memo_get(struct fsd *fs, const char *id, int which, const struct fsd_memo_key *k,
		       size_t *ret);
void fsd_slot_memo_put(struct fsd *fs, const char *id, int which, const struct fsd_memo_key *k,
		       size_t len);

/* ino.c: the shape of the tree */
int fsd_node_of(struct fsd *fs, fuse_ino_t ino, struct node *ret, char *ret_id);
int fsd_child(struct fsd *fs, const struct node *dir, const char *dir_id,
	      const char *name, struct node *ret);
int fsd_list(struct fsd *fs, const struct node *dir, const char *dir_id,
	     struct node **ret, char ***ret_names, size_t *ret_n);
void fsd_stat(struct fsd *fs, const struct node *n, const char *id, struct stat *st);
bool fsd_is_ct_ino(fuse_ino_t ino);

/* templates.c: MOUNT/templates/KEY/ (key in the id buffers) */
bool fsd_is_tpl_ino(fuse_ino_t ino);
int fsd_tpl_node_of(struct fsd *fs, fuse_ino_t ino, struct node *ret, char *ret_key);
int fsd_tpl_child(struct fsd *fs, const struct node *dir, const char *key, const char *name,
		  struct node *ret);
int fsd_tpl_list(struct fsd *fs, const struct node *dir, const char *key,
		 int (*add)(void *ctx, const struct node *n, const char *name), void *ctx);
int fsd_tpl_text(struct fsd *fs, const struct node *n, const char *key, char **ret,
		 size_t *ret_len);
/* rmdir templates/KEY: 0 or -errno (reason logged). */
int fsd_tpl_rmdir(struct fsd *fs, const char *name);

/* jobs.c: a request that waits for a VM runs on its own thread, which
 * answers it (exactly one fuse_reply_*): a ctl write, ln -s, mv (takes
 * inc_dirfd).  fsd_jobs_wait: teardown, until none runs. */
typedef void (*fsd_job_fn)(struct fsd *fs, fuse_req_t req, void *arg);
void fsd_job_ctl_write(struct fsd *fs, fuse_req_t req, struct fh *fh, const char *buf, size_t size);
void fsd_job_create_link(struct fsd *fs, fuse_req_t req, const char *id, const char *bundle);
void fsd_job_create_moved(struct fsd *fs, fuse_req_t req, const char *id, int inc_dirfd,
			  const char *name);
void fsd_jobs_wait(struct fsd *fs);
/* ll.c: the entry reply of the tree's cache policy */
void fsd_reply_entry(fuse_req_t req, struct fsd *fs, const struct node *n,
		     const char *id, double entry_timeout);

/* rings.c: MOUNT/log and MOUNT/events */
void fsd_log_sink(void *ctx, enum log_level level, const char *line);
int fsd_log_snapshot(struct fsd *fs, char **ret, size_t *ret_len);
size_t fsd_log_size(struct fsd *fs);   /* the length of a snapshot now */
void fsd_event_push_locked(struct fsd *fs, const char *line);
size_t fsd_events_copy_locked(struct fsd *fs, uint64_t *next, char *out, size_t size);

/* park.c: blocking reads, poll */
void fsd_read_blocking(struct fsd *fs, fuse_req_t req, struct fh *fh, size_t size,
		       off_t off, bool nonblock);
void fsd_kick(struct fsd *fs, const char *id, bool events);
void fsd_waiter_add(struct fsd *fs, struct fh *fh);
void fsd_waiter_del(struct fsd *fs, struct fh *fh);
void fsd_poll(struct fsd *fs, fuse_req_t req, struct fh *fh, struct fuse_pollhandle *ph);
void fsd_parks_drop(struct fsd *fs);
/* The console file grows without ops knowing (the hypervisor writes it):
 * a thread looks for its waiting readers every 200 ms.  stop before ops_close. */
int fsd_ticker_start(struct fsd *fs);
void fsd_ticker_stop(struct fsd *fs);
/* answer now: 1 replied, 0 would block (no reply sent) */
int fsd_try_read(struct fsd *fs, fuse_req_t req, struct fh *fh, size_t size, off_t off);

/* content.c: generated files */
int fsd_content(struct fsd *fs, const struct node *n, const char *id, char **ret,
		size_t *ret_len, struct oerr *err);
/* The length fsd_content would give now (stat's st_size), without making
 * the large texts: 0, or -errno as fsd_content. */
int fsd_content_size(struct fsd *fs, const struct node *n, const char *id, size_t *ret);
int fsd_stream_open(struct fsd *fs, struct fh *fh);
extern const char fsd_readme[];

/* write.c: ctl, stdin, create/delete by file operations */
int fsd_write(struct fsd *fs, struct fh *fh, const char *buf, size_t len);
int fsd_create_link(struct fsd *fs, const char *id, const char *bundle);
int fsd_create_moved(struct fsd *fs, const char *id, int inc_dirfd, const char *name);
int fsd_delete(struct fsd *fs, const char *id, bool force);
void fsd_fail(struct fsd *fs, const char *id, const char *what, const struct oerr *err);
/* rmdir under a directory other than containers/: ID/exec/NAME reaps a
 * stopped exec'd process (EBUSY while it runs), anything else EPERM. */
int fsd_rmdir_exec(struct fsd *fs, fuse_ino_t parent, const char *name);
/* The last writer of a stdin file closed it: the process's stdin ends. */
void fsd_stdin_release(struct fsd *fs, struct fh *fh);
void fsd_forget_name(struct fsd *fs, const char *id);

/* incoming.c: passthrough of the staging area */
int fsd_inc_init(struct fsd *fs, struct oerr *err);
void fsd_inc_free(struct fsd *fs);
extern const struct fuse_lowlevel_ops fsd_inc_ops;  /* handlers for INO_INC_BIT inodes */
int fsd_inc_lookup_root(struct fsd *fs, fuse_req_t req, const char *name);
int fsd_inc_root_fd(struct fsd *fs);
int fsd_inc_fd_of(struct fsd *fs, fuse_ino_t ino);   /* dup of its O_PATH fd */
void fsd_inc_forget(struct fsd *fs, fuse_ino_t ino, uint64_t nlookup);

/* ll.c */
extern const struct fuse_lowlevel_ops fsd_ll_ops;

#endif
