/* The OCI lifecycle as an explicit table: (state, operation) -> outcome.
 * runtime.md: start only from created; kill only in created or running;
 * delete only when stopped unless forced; pause/resume between running and
 * paused; a refused operation changes nothing. */
#ifndef OCIVM_OPS_LIFECYCLE_H
#define OCIVM_OPS_LIFECYCLE_H

#include <stdbool.h>

#include "err.h"
#include "ops/ops.h"

#define OPS_STATUS_COUNT 5

enum ops_op {
	/* asked for by a user */
	OPS_OP_START, OPS_OP_KILL, OPS_OP_PAUSE, OPS_OP_RESUME,
	OPS_OP_DELETE, OPS_OP_DELETE_FORCE,
	/* reported by the VM or the runtime itself */
	OPS_OP_READY,        /* vm_create returned, create hooks passed */
	OPS_OP_STARTED,      /* the process runs */
	OPS_OP_EXITED,       /* the process (or the VM) ended */
	OPS_OP_COUNT
};

struct ops_transition {
	int err;               /* 0 allowed, else a positive errno (EBUSY) */
	bool gone;             /* allowed and the container goes away (delete) */
	enum ops_status next;  /* the state after success */
};

const char *ops_op_name(enum ops_op op);
/* 0 and the outcome, or -EBUSY (wrong state) with err saying why. */
int ops_transition(enum ops_status s, enum ops_op op, struct ops_transition *ret,
		   struct oerr *err);

#endif
