/* The state dir's staging area (ops/staging.c), owned by ops like the rest
 * of the state dir (ops/store.h):
 *   .incoming/   what MOUNT/incoming/ shows (fs/ passes file operations
 *                through to it; ops_incoming_open hands fs/ the directory)
 *   .bundles/ID  a bundle moved out of .incoming by ops_create_moved; the
 *                container's bundle until it is deleted
 * Recovery (at ops_open, after the records are reloaded and half-done
 * creates undone): a .bundles/ID with no container is the bundle of a
 * create by mv that a dead daemon did not finish; it goes back to
 * .incoming/ID (or ID.1 .. ID.9 when taken).
 * These take the state dir's path, not struct ops, so that the runtime and
 * the tree's test double (tests/fs/fake_ops.c) share them. */
#ifndef OCIVM_OPS_STAGING_H
#define OCIVM_OPS_STAGING_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "ops/ops.h"

#define OPS_INCOMING_DIR ".incoming"
#define OPS_BUNDLES_DIR ".bundles"

/* The state dir itself: missing parents 0755, the dir 0700 (an existing
 * one is kept as it is); its absolute path (malloc'd) into *abs.  The
 * reason names the path as given: "state dir PATH: <strerror>". */
int ops_state_dir_make(const char *path, char **abs, struct oerr *err);

/* Make .incoming and .bundles (0700) if missing. */
int ops_staging_init(const char *state_dir, struct oerr *err);

/* live(ctx, id): does container id exist?  log(ctx, line): one line for
 * MOUNT/log.  Returns how many bundles went back. */
typedef bool (*ops_staging_live_fn)(void *ctx, const char *id);
typedef void (*ops_staging_log_fn)(void *ctx, const char *line);
int ops_staging_recover(const char *state_dir, ops_staging_live_fn live, void *live_ctx,
			ops_staging_log_fn log, void *log_ctx);

/* STATE/.bundles/ID into buf; -ENAMETOOLONG. */
int ops_staging_bundle_path(const char *state_dir, const char *id, char *buf, size_t n);
/* Move dirfd/name to .bundles/ID (a leftover there is removed first); the
 * path into dst. */
int ops_staging_take(const char *state_dir, const char *id, int dirfd, const char *name,
		     char *dst, size_t dst_n, struct oerr *err);
/* Move .bundles/ID back to dirfd/name (a failed create); -errno. */
int ops_staging_give_back(const char *state_dir, const char *id, int dirfd, const char *name);
/* Remove .bundles/ID if there is one. */
void ops_staging_drop(const char *state_dir, const char *id);
/* At delete, in two steps: under the lock that makes id free again, rename
 * .bundles/ID to .bundles/.gone.N (path into trash; -ENOENT: none), so a
 * create of the same id that follows at once cannot lose its new bundle;
 * then ops_staging_remove(trash) outside it.  Recovery removes what a dead
 * daemon left of those. */
#define OPS_STAGING_GONE ".gone."
int ops_staging_detach(const char *state_dir, const char *id, char *trash, size_t n);
void ops_staging_remove(const char *path);

#endif
