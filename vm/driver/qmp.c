/* A QMP session for what pause/resume/stop (qemu.c) do not need: commands
 * with arguments, a file descriptor passed along with one (SCM_RIGHTS, for
 * getfd), and migration to / from such an fd (template save and restore,
 * template_vm.c).  Every read has the session's deadline. */
#include "driver.h"
#include "cleanup.h"
#include "spawn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double qmp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static unsigned qmp_left(const struct vm_qmp *q)
{
	double left = q->deadline - qmp_now();
	return left > 0 ? (unsigned)left + 1 : 0;
}

/* Read lines until "return" (its line into reply) or "error". */
static int qmp_reply(struct vm_qmp *q, const char *what, char *reply, size_t cap,
		     struct oerr *err)
{
	char line[4096];

	for (;;) {
		unsigned left = qmp_left(q);
		int n = left ? vm_sock_read_line(q->fd, line, sizeof(line), left) : -ETIMEDOUT;
		if (n == -EMSGSIZE)
			continue;
		if (n < 0)
			return oerr_sys(err, -n, "qmp %s: reading the reply", what);
		if (strstr(line, "\"error\""))
			return oerr_set(err, EIO, "qmp %s: %.200s", what, line);
		if (strstr(line, "\"return\"")) {
			if (reply)
				snprintf(reply, cap, "%s", line);
			return 0;
		}
	}
}

int vm_qmp_open(struct vm_qmp *q, const char *sock, int pidfd, double deadline,
		struct oerr *err)
{
	char line[4096];
	int fd;

	q->fd = -1;
	q->deadline = deadline;
	for (;;) {   /* unconfined, QEMU makes the socket once it runs */
		fd = vm_sock_connect(sock);
		if (fd >= 0)
			break;
		if (qmp_now() > deadline || (pidfd >= 0 && vm_pidfd_wait(pidfd, 0) == 1))
			return oerr_sys(err, -fd, "qmp: connecting to %s", sock);
		struct timespec nap = { 0, 5 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
	q->fd = fd;
	int n = vm_sock_read_line(fd, line, sizeof(line), qmp_left(q));
	if (n < 0 && n != -EMSGSIZE) {
		vm_qmp_close(q);
		return oerr_sys(err, -n, "qmp: reading the greeting");
	}
	int r = vm_qmp_exec(q, "{\"execute\":\"qmp_capabilities\"}", -1, NULL, 0, err);
	if (r < 0)
		vm_qmp_close(q);
	return r;
}

void vm_qmp_close(struct vm_qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

int vm_qmp_exec(struct vm_qmp *q, const char *json, int pass_fd, char *reply, size_t cap,
		struct oerr *err)
{
	size_t len = strlen(json);
	_cleanup_free_ char *msg = malloc(len + 2);
	int r;

	if (!msg)
		return oerr_set(err, ENOMEM, "qmp: out of memory");
	memcpy(msg, json, len);
	msg[len++] = '\n';
	if (pass_fd >= 0) {   /* the fd rides on the command */
		union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
		struct iovec iov = { msg, len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		memset(&u, 0, sizeof(u));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		ssize_t n;
		do
			n = sendmsg(q->fd, &mh, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return oerr_sys(err, errno, "qmp: passing an fd");
		r = vm_sock_send_all(q->fd, msg + n, len - (size_t)n, qmp_left(q));
	} else {
		r = vm_sock_send_all(q->fd, msg, len, qmp_left(q));
	}
	if (r < 0)
		return oerr_sys(err, -r, "qmp: sending %.60s", json);
	return qmp_reply(q, json, reply, cap, err);
}

int vm_qmp_migrate_wait(struct vm_qmp *q, int pidfd, struct oerr *err)
{
	char reply[4096];

	for (;;) {
		int r = vm_qmp_exec(q, "{\"execute\":\"query-migrate\"}", -1, reply,
				    sizeof(reply), err);
		if (r < 0)
			return r;
		if (strstr(reply, "\"status\": \"completed\""))
			return 0;
		if (strstr(reply, "\"status\": \"failed\"") || strstr(reply, "\"status\": \"cancelled\""))
			return oerr_set(err, EIO, "migration failed: %.300s", reply);
		if (qmp_now() > q->deadline)
			return oerr_set(err, ETIMEDOUT, "migration did not complete: %.200s", reply);
		if (pidfd >= 0 && vm_pidfd_wait(pidfd, 0) == 1)
			return oerr_set(err, EIO, "the hypervisor ended during the migration");
		struct timespec nap = { 0, 2 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
}
