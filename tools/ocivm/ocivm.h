/* ocivm: the runc-compatible command line over a mounted ocivmfs tree.
 * It talks only to the tree (file operations); see tools/ocivm/README.md.
 *
 * Pure pieces (argument parsing, signal names, error phrases, log lines) are
 * separate from the ones that touch the tree, so the unit tests need neither
 * FUSE nor a VM. */
#ifndef OCIVM_CLI_H
#define OCIVM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"

#define OCIVM_VERSION "0.1.0"
#define OCIVM_SPEC_VERSION "1.1.0"
#define OCIVM_DEFAULT_ROOT "/run/ocivm"
#define OCIVM_MAX_POS 8
#define OCIVM_MAX_LIST 64

/* ---- args.c: runc-style command line ---------------------------------- */

enum ocivm_cmd {
	CMD_NONE, CMD_CREATE, CMD_START, CMD_STATE, CMD_KILL, CMD_DELETE,
	CMD_RUN, CMD_LIST, CMD_SPEC, CMD_FEATURES, CMD_EXEC, CMD_PAUSE,
	CMD_RESUME, CMD_PS, CMD_EVENTS, CMD_VERSION, CMD_HELP, CMD_MOUNT,
};

enum ocivm_log_format { LOGF_TEXT, LOGF_JSON };

struct ocivm_args {
	/* global flags */
	const char *root;           /* NULL: OCIVM_DEFAULT_ROOT */
	const char *log_path;
	enum ocivm_log_format log_format;
	bool debug;
	const char *daemon;         /* --ocivmfs: the daemon binary to start */
	/* the command and its flags */
	enum ocivm_cmd cmd;
	const char *cmd_name;
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	const char *format;         /* list/ps -f */
	const char *kernel;         /* spec --kernel */
	int preserve_fds;
	bool detach, force, all, quiet, help, stats;
	int interval_ms;            /* events --interval; 0: 5 s */
	const char *pos[OCIVM_MAX_POS]; /* positional args after the command */
	size_t n_pos;
	/* exec: runc's flags and the process's argv after the ID */
	const char *process;        /* --process FILE */
	const char *cwd, *user;     /* --cwd, -u uid[:gid] */
	bool tty, no_new_privs;     /* -t, --no-new-privs */
	const char *env[OCIVM_MAX_LIST], *caps[OCIVM_MAX_LIST], *gids[OCIVM_MAX_LIST];
	size_t n_env, n_caps, n_gids;
	const char *const *exec_args;
	size_t n_exec_args;
	/* flags accepted and ignored, for one debug line each */
	const char *ignored[16];
	size_t n_ignored;
};

/* Parses argv (argv[0] is the program).  Fills a (pointers into argv). */
int ocivm_parse_args(int argc, char **argv, struct ocivm_args *a, struct oerr *err);
/* The daemon's own rule (ops_id_valid, ops/id.c, linked in): runc's
 * charset, 1..OPS_ID_MAX bytes, no leading '.', no "..".  err: the reason. */
bool ocivm_id_valid(const char *id, struct oerr *err);
enum ocivm_cmd ocivm_cmd_lookup(const char *name);
const char *ocivm_usage(void);

/* Signal names: common/signame.h (sig_parse, sig_name), shared with the tree. */
#include "signame.h"

/* ---- errmap.c: errno + state -> the phrases callers match -------------- */

enum ocivm_op { OP_CREATE, OP_START, OP_KILL, OP_DELETE, OP_PAUSE, OP_RESUME, OP_STATE,
		OP_EXEC };

/* status: the container's status word read after the failure ("" when the
 * container is gone or unknown).  Writes a one-line message to buf. */
void ocivm_errmap(enum ocivm_op op, int errnum, const char *id, const char *status,
		  char *buf, size_t n);
/* Exit status from what ID/wait gives ("0", "137", "signal 9", "killed 9"). */
int ocivm_parse_exit(const char *text);

/* ---- olog.c: runc-style log lines -------------------------------------- */

/* Formats one log line (with trailing newline) into buf:
 *   text: time="2026-01-01T00:00:00Z" level=error msg="..."
 *   json: {"level":"error","msg":"...","time":"2026-01-01T00:00:00Z"} */
void ocivm_log_format_line(enum ocivm_log_format f, const char *level, const char *msg,
			   time_t t, char *buf, size_t n);
void ocivm_log_setup(const char *path, enum ocivm_log_format f, bool debug);
void ocivm_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ocivm_debug(...) ocivm_log("debug", __VA_ARGS__)
/* Logs at "error", prints "ocivm: msg" to stderr; returns 1 (the exit code). */
int ocivm_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- tree.c: the mounted tree ----------------------------------------- */

struct ocivm_tree {
	char mount[4096];
};

/* Finds the tree for --root (the mount itself, or ROOT/mnt), starting
 * `ocivmfs --state-dir ROOT/state ROOT/mnt` when start is true and none is
 * mounted.  -ENOENT (not mounted, start false) or -errno. */
int tree_open(struct ocivm_tree *t, const char *root, bool start, struct oerr *err);
/* Starts `ocivmfs --state-dir ROOT/state MNT` detached from the caller (own
 * session, stdio on /dev/null and ROOT/ocivmfs.log) and waits for the mount. */
int tree_start_daemon(const char *root, const char *mnt, struct oerr *err);
/* Is dir a mounted ocivmfs tree (has ctl, containers/)? */
bool tree_is_mount(const char *dir);
/* MOUNT/rel or MOUNT/containers/ID/rel (id may be NULL). */
int tree_path(const struct ocivm_tree *t, const char *id, const char *rel, char *buf, size_t n);
/* Writes one line to a ctl file (global when id is NULL).  0 or -errno. */
int tree_ctl(const struct ocivm_tree *t, const char *id, const char *line);
/* Reads a small file of the tree, trailing newline stripped. */
int tree_read(const struct ocivm_tree *t, const char *id, const char *rel, char **ret);
/* Status word of ID; "" when the container does not exist. */
void tree_status(const struct ocivm_tree *t, const char *id, char *buf, size_t n);
bool tree_exists(const struct ocivm_tree *t, const char *id);
/* The last line of MOUNT/log that mentions id, without the daemon's stamp
 * and level: the reason behind an errno; buf "" when none. */
void tree_last_log(const struct ocivm_tree *t, const char *id, char *buf, size_t n);
/* Polls ID/status until it is not "creating" (or timeout_ms passes). */
int tree_wait_status_settled(const struct ocivm_tree *t, const char *id, int timeout_ms,
			     char *buf, size_t n);

/* ---- shim.c, console.c -------------------------------------------------- */

struct shim_opts {
	const struct ocivm_tree *tree;
	const char *id;   /* "ID", or "ID/exec/NAME" for an exec'd process */
	int go_fd;        /* read end: "1" once the container exists (then bytes
			   * for stdin before any read of fd 0, up to EOF),
			   * EOF = give up */
	int pty_slave;    /* -1 unless --console-socket */
	int tty_fd;       /* window size source (SIGWINCH -> resize), or -1 */
	bool exec;        /* rmdir ID/exec/NAME once it stopped and its output is out */
	const char *unlink_path; /* exec: the process.json we wrote, or NULL */
};
/* Runs in the forked shim; never returns (exits with the container's status). */
void shim_main(const struct shim_opts *o) __attribute__((noreturn));
/* Opens a pty; returns master and (raw) slave. */
int console_open_pty(int *ret_master, int *ret_slave, struct oerr *err);
/* Sends fd over the unix socket at path with SCM_RIGHTS (as runc does). */
int console_send_fd(const char *socket_path, int fd, struct oerr *err);

/* ---- winsz.c: window sizes -> `resize ROWS COLS` ------------------------ */

struct termios;
/* The size of the terminal fd; -ENODATA while it is 0x0. */
int winsz_get(int fd, unsigned *rows, unsigned *cols);
int winsz_line(unsigned rows, unsigned cols, char *buf, size_t n);
/* Writes fd's size to the ctl of dir ("ID" or "ID/exec/NAME"). */
int winsz_send(const struct ocivm_tree *t, const char *dir, int fd);
/* Caller's terminal raw for -t (saved restored by winsz_restore); what its
 * canonical mode held (lines, an EOF as VEOF) goes to pending[0..*n). */
#define WINSZ_PENDING_MAX 16384
int winsz_raw(int fd, struct termios *saved, char *pending, size_t cap, size_t *n);
void winsz_restore(int fd, const struct termios *saved);

/* ---- process.c: exec's process.json ------------------------------------ */

struct cJSON;
/* "UID" or "UID:GID", numbers only; -EINVAL otherwise. */
int process_parse_user(const char *s, unsigned *uid, unsigned *gid, bool *has_gid);
/* From --process (as is), else base (the container's process; may be NULL)
 * with a's args, -t, -e, --cwd, -u, -g, --cap, --no-new-privs.  With rows
 * and cols and terminal true, consoleSize is filled when absent.  JSON text
 * in *ret_json (free()); -errno with err set. */
int process_build(const struct ocivm_args *a, const struct cJSON *base, unsigned rows, unsigned cols,
		  char **ret_json, struct oerr *err);
bool process_is_terminal(const char *json);
/* The process object of BUNDLE/config.json, or NULL. */
struct cJSON *process_of_bundle(const char *bundle);

/* ---- commands (cmd_*.c) ------------------------------------------------- */

int cmd_exec(const struct ocivm_args *a);

int cmd_create(const struct ocivm_args *a, pid_t *ret_shim);
int cmd_start(const struct ocivm_args *a);
int cmd_run(const struct ocivm_args *a);
int cmd_state(const struct ocivm_args *a);
int cmd_kill(const struct ocivm_args *a);
int cmd_delete(const struct ocivm_args *a);
int cmd_pause_resume(const struct ocivm_args *a, bool pause);
int cmd_list(const struct ocivm_args *a);
int cmd_ps(const struct ocivm_args *a);
int cmd_spec(const struct ocivm_args *a);
int cmd_features(const struct ocivm_args *a);
int cmd_mount(const struct ocivm_args *a);
int cmd_events(const struct ocivm_args *a);
/* Reports a failed ctl write (runc's phrase + the tree's reason); returns 1. */
int cmd_fail_op(const struct ocivm_tree *t, enum ocivm_op op, int r, const char *id);
/* Shared: open the tree for a, logging the failure; 0 or 1 (exit code). */
int cmd_open_tree(const struct ocivm_args *a, struct ocivm_tree *t, bool start);

#endif
