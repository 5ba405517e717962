/* ocivm-vmmctl SOCKET REQUEST: send one control request to an ocivm-vmm
 * (PROTOCOL.md) and print the reply.  Exit 0 unless the reply is "error ..."
 * or the socket cannot be reached.  (The console request is not relayed.) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	char buf[4096];
	size_t got = 0;

	if (argc != 3 || strlen(argv[1]) >= sizeof(a.sun_path) ||
	    strcmp(argv[2], "console") == 0) {
		fprintf(stderr, "usage: ocivm-vmmctl SOCKET status|stop|pause|resume\n");
		return 64;
	}
	strcpy(a.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "ocivm-vmmctl: %s: %s\n", argv[1], strerror(errno));
		return 69;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	dprintf(fd, "%s\n", argv[2]);
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
