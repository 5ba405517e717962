/* The tree answers with an errno; callers (podman, containerd, the OCI
 * validation suite) match runc's phrases.  The status word read right after
 * the failure decides between them. */
#include "ocivm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *op_verb(enum ocivm_op op)
{
	switch (op) {
	case OP_CREATE: return "create";
	case OP_START: return "start";
	case OP_KILL: return "kill";
	case OP_DELETE: return "delete";
	case OP_PAUSE: return "pause";
	case OP_RESUME: return "resume";
	case OP_STATE: return "state";
	case OP_EXEC: return "exec in";
	}
	return "?";
}

static void map_busy(enum ocivm_op op, const char *id, const char *st, char *buf, size_t n)
{
	bool stopped = !strcmp(st, "stopped");
	bool running = !strcmp(st, "running") || !strcmp(st, "paused");

	if (op == OP_EXEC && (stopped || !strcmp(st, "paused") || !strcmp(st, "created")))
		snprintf(buf, n, "cannot exec in a %s container", st);
	else if (op == OP_START && stopped)
		snprintf(buf, n, "cannot start a container that has stopped");
	else if (op == OP_START && running)
		snprintf(buf, n, "cannot start an already running container");
	else if (op == OP_KILL || op == OP_PAUSE)
		snprintf(buf, n, "container not running");
	else if (op == OP_RESUME)
		snprintf(buf, n, "container not paused");
	else if (op == OP_DELETE)
		snprintf(buf, n, "cannot delete container %s that is not stopped: %s", id,
			 *st ? st : "unknown");
	else
		snprintf(buf, n, "cannot %s container %s in state %s", op_verb(op), id,
			 *st ? st : "unknown");
}

void ocivm_errmap(enum ocivm_op op, int errnum, const char *id, const char *status,
		  char *buf, size_t n)
{
	const char *st = status ? status : "";

	if (errnum < 0)
		errnum = -errnum;
	if (op == OP_CREATE && errnum == EEXIST)
		snprintf(buf, n, "container with given ID already exists");
	else if (errnum == ENOENT && op == OP_CREATE)
		snprintf(buf, n, "create container %s: no such file or directory", id);
	else if (errnum == ENOENT)
		snprintf(buf, n, "container does not exist");
	else if (errnum == EBUSY || errnum == EALREADY)
		map_busy(op, id, st, buf, n);
	else
		snprintf(buf, n, "%s container %s: %s", op_verb(op), id, strerror(errnum));
}

int ocivm_parse_exit(const char *text)
{
	/* "0", "137", "exited 1", "signal 9", "killed 9" */
	const char *p = text;
	bool sig = strstr(text, "sig") || strstr(text, "kill");
	long v;

	while (*p && (*p < '0' || *p > '9'))
		p++;
	if (!*p)
		return -EINVAL;
	v = strtol(p, NULL, 10);
	if (sig && v < 128)
		v += 128;
	if (v < 0 || v > 255)
		v = 255;
	return (int)v;
}
