/* See userns.h. */
#include "userns.h"
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int guserns_format(const struct gplan_idmap *v, int n, char *buf, size_t cap)
{
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		int w = snprintf(buf + len, cap - len, "%u %u %u\n", v[i].inside, v[i].outside,
				 v[i].count);
		if (w < 0 || (size_t)w >= cap - len)
			return -ENAMETOOLONG;
		len += (size_t)w;
	}
	return (int)len;
}

/* The kernel takes a map in one write only. */
static int write_map(pid_t pid, const char *file, const struct gplan_idmap *v, int n,
		     char *eb, size_t cap)
{
	char path[64], buf[GPLAN_MAX_IDMAPS * 36];
	int len = guserns_format(v, n, buf, sizeof(buf));

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || len < 0 || write(fd, buf, (size_t)len) != len) {
		int e = len < 0 ? -len : errno;
		if (fd >= 0)
			close(fd);
		return gsetup_fail(eb, cap, e, "writing %s (linux.%s)", file,
				   file[0] == 'u' ? "uidMappings" : "gidMappings");
	}
	close(fd);
	return 0;
}

static __attribute__((noreturn)) void helper_run(const struct gplan *p, pid_t pid, int go, int res)
{
	char c, eb[200] = "";

	if (read(go, &c, 1) != 1)   /* the process gave up before unsharing */
		_exit(0);
	if (write_map(pid, "uid_map", p->uidmaps, p->n_uidmaps, eb, sizeof(eb)) == 0)
		write_map(pid, "gid_map", p->gidmaps, p->n_gidmaps, eb, sizeof(eb));
	if (eb[0] && write(res, eb, strlen(eb)) < 0)
		_exit(2);
	_exit(eb[0] ? 1 : 0);
}

int guserns_prepare(const struct gplan *p, struct guserns *u, char *eb, size_t cap)
{
	int go[2], res[2];

	u->helper = 0;
	if (!p->n_uidmaps)
		return 0;
	if (pipe2(go, O_CLOEXEC) < 0)
		return gsetup_fail(eb, cap, errno, "user namespace: pipe");
	if (pipe2(res, O_CLOEXEC) < 0) {
		close(go[0]), close(go[1]);
		return gsetup_fail(eb, cap, errno, "user namespace: pipe");
	}
	/* the pid in init's /proc (the helper writes there): in a new pid
	 * namespace getpid() is 1 */
	char link[32] = "";
	ssize_t ln = readlink("/proc/self", link, sizeof(link) - 1);
	pid_t self = ln > 0 ? (pid_t)atoi(link) : getpid();
	u->helper = fork();
	if (u->helper < 0) {
		close(go[0]), close(go[1]), close(res[0]), close(res[1]);
		return gsetup_fail(eb, cap, errno, "user namespace: fork");
	}
	if (u->helper == 0) {
		close(go[1]), close(res[0]);
		helper_run(p, self, go[0], res[1]);
	}
	close(go[0]), close(res[1]);
	u->go = go[1];
	u->res = res[0];
	return 0;
}

int guserns_enter(struct guserns *u, char *eb, size_t cap)
{
	char why[200];
	ssize_t n = 0;
	int st = 0, r = 0;

	if (!u->helper)
		return 0;
	if (unshare(CLONE_NEWUSER) < 0)
		r = gsetup_fail(eb, cap, errno, "user namespace (CONFIG_USER_NS?)");
	else if (write(u->go, "u", 1) != 1)
		r = gsetup_fail(eb, cap, errno, "user namespace: helper");
	close(u->go);
	if (r == 0)
		n = read(u->res, why, sizeof(why) - 1);
	close(u->res);
	while (waitpid(u->helper, &st, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && n > 0) {
		why[n] = '\0';
		r = gsetup_fail(eb, cap, 0, "%s", why);
	} else if (r == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		r = gsetup_fail(eb, cap, 0, "user namespace: the map writer failed");
	}
	return r;
}
