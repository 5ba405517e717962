/* console_echo SOCK [TIMEOUT_S]: connect to ocivm-vmm's control socket, ask
 * for the console ("console\n"), and echo every byte the guest writes on
 * /dev/hvc0 back to it until EOF.  Waits up to TIMEOUT_S (default 30) for
 * the socket to appear, so a harness may start it alongside the VMM.
 * Exit 0 at EOF; prints the number of bytes echoed on stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int connect_retry(const char *path, int timeout_s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	time_t end = time(NULL) + timeout_s;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		int e = errno;
		close(fd);
		if ((e != ENOENT && e != ECONNREFUSED) || time(NULL) >= end)
			return -e;
		usleep(50 * 1000);
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: console_echo SOCK [TIMEOUT_S]\n");
		return 2;
	}
	int fd = connect_retry(argv[1], argc == 3 ? atoi(argv[2]) : 30);
	if (fd < 0) {
		fprintf(stderr, "console_echo: %s: %s\n", argv[1], strerror(-fd));
		return 1;
	}
	if (write_all(fd, "console\n", 8) < 0) {
		perror("console_echo: request");
		return 1;
	}
	char buf[4096];
	unsigned long long total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (write_all(fd, buf, (size_t)n) < 0)
			break;
		total += (unsigned long long)n;
	}
	fprintf(stderr, "console_echo: %llu bytes echoed\n", total);
	return 0;
}
