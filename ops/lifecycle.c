/* Lifecycle table and status names (ids: ops/id.c). */
#include "ops/lifecycle.h"

#include <errno.h>
#include <string.h>

static const char *const status_names[OPS_STATUS_COUNT] = {
	"creating", "created", "running", "paused", "stopped",
};

static const char *const op_names[OPS_OP_COUNT] = {
	"start", "kill", "pause", "resume", "delete", "delete force",
	"ready", "started", "exited",
};

const char *ops_status_name(enum ops_status s)
{
	return (unsigned)s < OPS_STATUS_COUNT ? status_names[s] : "unknown";
}

const char *ops_op_name(enum ops_op op)
{
	return (unsigned)op < OPS_OP_COUNT ? op_names[op] : "unknown";
}

#define NO    { EBUSY, false, 0 }
#define TO(s) { 0, false, s }
#define GONE  { 0, true, OPS_STOPPED }

/* rows: state; columns: enum ops_op */
static const struct ops_transition table[OPS_STATUS_COUNT][OPS_OP_COUNT] = {
	/*               start             kill              pause            resume           delete  delete-force ready             started           exited */
	[OPS_CREATING] = { NO,              NO,               NO,              NO,              NO,     NO,          TO(OPS_CREATED),  NO,               TO(OPS_STOPPED) },
	[OPS_CREATED]  = { TO(OPS_RUNNING), TO(OPS_CREATED),  NO,              NO,              NO,     GONE,        NO,               TO(OPS_RUNNING),  TO(OPS_STOPPED) },
	[OPS_RUNNING]  = { NO,              TO(OPS_RUNNING),  TO(OPS_PAUSED),  NO,              NO,     GONE,        NO,               NO,               TO(OPS_STOPPED) },
	[OPS_PAUSED]   = { NO,              NO,               NO,              TO(OPS_RUNNING), NO,     GONE,        NO,               NO,               TO(OPS_STOPPED) },
	[OPS_STOPPED]  = { NO,              NO,               NO,              NO,              GONE,   GONE,        NO,               NO,               NO },
};

static const char *why(enum ops_status s, enum ops_op op)
{
	switch (op) {
	case OPS_OP_START: return "start needs a created container";
	case OPS_OP_KILL: return "kill needs a created or running container";
	case OPS_OP_PAUSE: return "pause needs a running container";
	case OPS_OP_RESUME: return "resume needs a paused container";
	case OPS_OP_DELETE:
		return "delete needs a stopped container (kill it first, or delete force)";
	case OPS_OP_DELETE_FORCE: return "the container is still being created";
	default: return "not possible in this state";
	}
}

int ops_transition(enum ops_status s, enum ops_op op, struct ops_transition *ret,
		   struct oerr *err)
{
	if ((unsigned)s >= OPS_STATUS_COUNT || (unsigned)op >= OPS_OP_COUNT)
		return oerr_set(err, EINVAL, "bad state or operation");
	*ret = table[s][op];
	if (ret->err)
		return oerr_set(err, ret->err, "%s: container is %s; %s", ops_op_name(op),
				status_names[s], why(s, op));
	return 0;
}
