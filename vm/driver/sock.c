/* Unix stream socket helpers with deadlines: nothing here blocks forever. */
#include "driver.h"
#include "cleanup.h"
#include "usock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int vm_sock_connect(const char *path)
{
	/* Non-blocking: a unix connect blocks while the listener's backlog is
	 * full, i.e. forever on a stopped or wedged hypervisor; so it fails with
	 * -EAGAIN instead.  The fd stays non-blocking (the helpers below poll).
	 * Any path length: a long one is reached through its directory. */
	return usock_connect(path, SOCK_NONBLOCK);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline: 0 ready, -ETIMEDOUT, -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = events };
		int n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0)
			return 0;
	}
}

int vm_sock_send_all(int fd, const void *buf, size_t len, unsigned timeout_ms)
{
	const char *p = buf;
	long long deadline = now_ms() + timeout_ms;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int vm_sock_read_line(int fd, char *buf, size_t cap, unsigned timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t len = 0;

	for (;;) {
		char c;
		int r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			return r;
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (c == '\n') {
			if (len && buf[len - 1] == '\r')
				len--;
			buf[len] = '\0';
			return len >= cap - 1 ? -EMSGSIZE : (int)len;
		}
		if (len < cap - 1)
			buf[len++] = c;
	}
}
