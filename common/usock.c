/* common/usock.h: unix sockets at paths longer than sun_path. */
#include "usock.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The address of path in *sa; *ret_dirfd is the directory opened for a
 * long path (the caller closes it after bind/connect), else -1. */
static int usock_addr(const char *path, struct sockaddr_un *sa, int *ret_dirfd)
{
	size_t n = path ? strlen(path) : 0;

	*ret_dirfd = -1;
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (n == 0)
		return -EINVAL;
	if (n < sizeof(sa->sun_path)) {
		memcpy(sa->sun_path, path, n + 1);
		return 0;
	}
	const char *slash = strrchr(path, '/');
	if (!slash || slash[1] == '\0' || slash == path)
		return -ENAMETOOLONG;
	char dir[PATH_MAX];
	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", fd,
			     slash + 1) >= sizeof(sa->sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	*ret_dirfd = fd;
	return 0;
}

int usock_listen(const char *path, int backlog, mode_t mode)
{
	struct sockaddr_un sa;
	_cleanup_close_ int dirfd = -1;
	int r = usock_addr(path, &sa, &dirfd);

	if (r < 0)
		return r;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);   /* a stale socket of an earlier run */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (mode && chmod(path, mode) < 0) || listen(fd, backlog) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int usock_connect(const char *path, int flags)
{
	struct sockaddr_un sa;
	_cleanup_close_ int dirfd = -1;
	int r = usock_addr(path, &sa, &dirfd);

	if (r < 0)
		return r;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return TAKE_FD(fd);
}
