/* ocivm-vmmctl SOCKET REQUEST: send one control request to an ocivm-vmm
 * (PROTOCOL.md) and print the reply.  Exit 0 unless the reply is "error ..."
 * or the socket cannot be reached.
 * ocivm-vmmctl SOCKET console: relay the virtio-console stream: standard
 * input to the guest, guest output to standard output, until the VMM closes
 * it (EOF on standard input only stops the input direction). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int relay(int fd)
{
	struct pollfd p[2] = { { fd, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
	char buf[4096];

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				return 0;
			if (write(STDOUT_FILENO, buf, (size_t)n) != n)
				return 1;
		}
		if (p[1].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0)
				p[1].fd = -1;   /* stop reading stdin, keep printing */
			else if (write(fd, buf, (size_t)n) != n)
				return 1;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	char buf[4096];
	size_t got = 0;

	if (argc != 3 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: ocivm-vmmctl SOCKET status|stop|pause|resume|console\n");
		return 64;
	}
	strcpy(a.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "ocivm-vmmctl: %s: %s\n", argv[1], strerror(errno));
		return 69;
	}
	dprintf(fd, "%s\n", argv[2]);
	if (strcmp(argv[2], "console") == 0)
		return relay(fd);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == sizeof(buf) - 1)
			break;
	}
	buf[got] = '\0';
	fputs(buf, stdout);
	close(fd);
	return got == 0 || strncmp(buf, "error", 5) == 0 ? 1 : 0;
}
