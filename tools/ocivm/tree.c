/* Finding (or starting) the mounted tree and the few file operations ocivm
 * makes on it. */
#include "ocivm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

bool tree_is_mount(const char *dir)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/ctl", dir);
	if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	snprintf(p, sizeof(p), "%s/containers", dir);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int tree_path(const struct ocivm_tree *t, const char *id, const char *rel, char *buf, size_t n)
{
	int r;

	if (id)
		r = snprintf(buf, n, "%s/containers/%s%s%s", t->mount, id, rel ? "/" : "",
			     rel ? rel : "");
	else
		r = snprintf(buf, n, "%s/%s", t->mount, rel ? rel : "");
	return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

int tree_open(struct ocivm_tree *t, const char *root, bool start, struct oerr *err)
{
	char mnt[4096];
	int r;

	if (!root)
		root = OCIVM_DEFAULT_ROOT;
	if (strlen(root) >= sizeof(mnt) - 8)
		return oerr_set(err, ENAMETOOLONG, "--root %s: too long", root);
	if (tree_is_mount(root)) {
		snprintf(t->mount, sizeof(t->mount), "%s", root);
		return 0;
	}
	snprintf(mnt, sizeof(mnt), "%s/mnt", root);
	if (tree_is_mount(mnt)) {
		snprintf(t->mount, sizeof(t->mount), "%s", mnt);
		return 0;
	}
	if (!start)
		return oerr_set(err, ENOENT, "no ocivmfs tree mounted at %s or %s", root, mnt);
	r = tree_start_daemon(root, mnt, err);
	if (r < 0)
		return r;
	snprintf(t->mount, sizeof(t->mount), "%s", mnt);
	return 0;
}

int tree_ctl(const struct ocivm_tree *t, const char *id, const char *line)
{
	char path[4200], buf[4200];
	int fd, r = 0, n;

	if (tree_path(t, id, "ctl", path, sizeof(path)) < 0 && id)
		return -ENAMETOOLONG;
	if (!id)
		snprintf(path, sizeof(path), "%s/ctl", t->mount);
	n = snprintf(buf, sizeof(buf), "%s\n", line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -E2BIG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

int tree_read(const struct ocivm_tree *t, const char *id, const char *rel, char **ret)
{
	char path[4200];
	char *data;
	size_t len;
	int r;

	if ((r = tree_path(t, id, rel, path, sizeof(path))) < 0)
		return r;
	if ((r = file_read_all(path, 1 << 20, &data, &len)) < 0)
		return r;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	*ret = data;
	return 0;
}

bool tree_exists(const struct ocivm_tree *t, const char *id)
{
	char path[4200];
	struct stat st;

	if (tree_path(t, id, NULL, path, sizeof(path)) < 0)
		return false;
	return lstat(path, &st) == 0;
}

void tree_status(const struct ocivm_tree *t, const char *id, char *buf, size_t n)
{
	_cleanup_free_ char *s = NULL;

	buf[0] = '\0';
	if (tree_read(t, id, "status", &s) == 0)
		snprintf(buf, n, "%s", s);
}

/* "2026-01-01T00:00:00.000Z warn create x: why (EINVAL)" -> "create x: why
 * (EINVAL)": the daemon's timestamp and level are noise in a CLI message. */
static const char *strip_stamp(const char *line)
{
	static const char *const levels[] = { "error ", "warn ", "info ", "debug " };
	const char *sp = strchr(line, ' ');

	if (!sp || line[0] < '0' || line[0] > '9' || !memchr(line, 'T', (size_t)(sp - line)))
		return line;
	line = sp + 1;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strncmp(line, levels[i], strlen(levels[i])))
			return line + strlen(levels[i]);
	return line;
}

void tree_last_log(const struct ocivm_tree *t, const char *id, char *buf, size_t n)
{
	_cleanup_free_ char *log = NULL;
	char *line, *save = NULL, *best = NULL;

	buf[0] = '\0';
	if (tree_read(t, NULL, "log", &log) < 0)
		return;
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, id))
			best = line;
	}
	if (best)
		snprintf(buf, n, "%s", strip_stamp(best));
}

int tree_wait_status_settled(const struct ocivm_tree *t, const char *id, int timeout_ms,
			     char *buf, size_t n)
{
	struct timespec nap = { 0, 50 * 1000 * 1000 };

	for (int waited = 0;; waited += 50) {
		tree_status(t, id, buf, n);
		if (!*buf)
			return -ENOENT;
		if (strcmp(buf, "creating"))
			return 0;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
}
