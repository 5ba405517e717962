/* OCI hooks.  All hooks run on the host, in the daemon's namespaces: the
 * guest cannot see host binaries, so createContainer and startContainer
 * (which runc runs inside the container's namespaces) run on the host too,
 * at the same point of the lifecycle.  Each hook gets the state JSON on
 * stdin, exactly its own args (args[0] is argv[0]; default: path) and env,
 * stdout/stderr on out_fd, and is killed (its whole process group) when its
 * timeout expires. */
#ifndef OCIVM_OPS_HOOKS_H
#define OCIVM_OPS_HOOKS_H

#include "err.h"
#include "ops/config.h"

/* Applied when a hook has no timeout of its own (0: wait forever). */
#define OPS_HOOK_DEFAULT_TIMEOUT 120

/* 0 when the hook exited 0; -EIO (non-zero exit or signal), -ETIMEDOUT, or
 * -errno (could not run) with err saying which and why. */
int ops_hook_run(const struct ops_hook *h, const char *state_json, int out_fd,
		 unsigned default_timeout, struct oerr *err);

/* Run the hooks of one kind in order; stop at the first failure, whose
 * message starts with "hooks.KIND[i]". */
int ops_hooks_run(const struct ops_config *cfg, enum ops_hook_kind kind,
		  const char *state_json, int out_fd, unsigned default_timeout,
		  struct oerr *err);

/* Run every hook of one kind even if some fail (poststop); each failure is
 * reported through warn.  Returns how many failed. */
int ops_hooks_run_all(const struct ops_config *cfg, enum ops_hook_kind kind,
		      const char *state_json, int out_fd, unsigned default_timeout,
		      void (*warn)(void *ctx, const char *msg), void *ctx);

#endif
