/* fs/ctl: the ctl command language, text -> struct (pure: no I/O, no ops).
 *
 *   MOUNT/ctl:          create ID BUNDLE [key=value ...]
 *                       start ID | kill ID [SIGNAL] | delete ID [force]
 *                       pause ID | resume ID
 *                       exec ID NAME /abs/process.json | resize ID ROWS COLS
 *   MOUNT/containers/ID/ctl:
 *                       start | kill [SIGNAL] | delete [force] | pause | resume
 *                       exec NAME /abs/process.json | resize ROWS COLS
 *   MOUNT/containers/ID/exec/NAME/ctl:  kill [SIGNAL] | resize ROWS COLS
 *
 * One command per write; one trailing newline is allowed.  Words are
 * separated by blanks.  SIGNAL is a name (TERM, SIGTERM, case-insensitive)
 * or a number 1..64; the default is SIGTERM. */
#ifndef OCIVM_FS_CTL_H
#define OCIVM_FS_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define CTL_MAX_LEN 8192   /* longer writes: E2BIG */
#define CTL_MAX_KV 16      /* key=value options of create */

enum ctl_verb { CTL_CREATE, CTL_START, CTL_KILL, CTL_DELETE, CTL_PAUSE, CTL_RESUME,
		CTL_EXEC, CTL_RESIZE };

struct ctl_cmd {
	enum ctl_verb verb;
	const char *id;              /* NULL for a per-container ctl */
	const char *bundle;          /* create only */
	const char *kv[CTL_MAX_KV];  /* create only, "key=value" */
	size_t n_kv;
	int signo;                   /* kill only */
	bool force;                  /* delete only */
	const char *name;            /* exec only: the process's name */
	const char *process;         /* exec only: absolute path of process.json */
	unsigned rows, cols;         /* resize only, 1..65535 */
	char buf[CTL_MAX_LEN + 1];   /* the words above point in here */
};

/* Parse a write to MOUNT/ctl (with_id = true: the verb is followed by the
 * container id) or to MOUNT/containers/ID/ctl (with_id = false).
 * Returns 0, -EINVAL (bad command, err says which word) or -E2BIG. */
int ctl_parse(const char *text, size_t len, bool with_id, struct ctl_cmd *ret,
	      struct oerr *err);

/* "TERM", "SIGTERM", "term", "15" -> 15.  -EINVAL when unknown. */
int ctl_signal_parse(const char *s, int *ret_signo);

const char *ctl_verb_name(enum ctl_verb v);

#endif
