/* --console-socket: a pty whose master goes to the caller over a unix
 * socket with SCM_RIGHTS (as runc sends it; the payload is the pty's name),
 * while the shim bridges the slave to the container's terminal. */
#include "ocivm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"

int console_open_pty(int *ret_master, int *ret_slave, struct oerr *err)
{
	_cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	_cleanup_close_ int slave = -1;
	char name[128];
	struct termios tio;

	if (master < 0)
		return oerr_sys(err, errno, "posix_openpt");
	if (grantpt(master) < 0 || unlockpt(master) < 0 ||
	    ptsname_r(master, name, sizeof(name)) != 0)
		return oerr_sys(err, errno, "preparing the pty");
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return oerr_sys(err, errno, "opening %s", name);
	/* The guest's own pty does the line discipline; ours only carries bytes. */
	if (tcgetattr(slave, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(slave, TCSANOW, &tio);
	}
	*ret_master = TAKE_FD(master);
	*ret_slave = TAKE_FD(slave);
	return 0;
}

int console_send_fd(const char *socket_path, int fd, struct oerr *err)
{
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char name[128] = "/dev/ptmx";
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr msg = { 0 };
	struct cmsghdr *c;

	if (s < 0)
		return oerr_sys(err, errno, "socket");
	if (strlen(socket_path) >= sizeof(addr.sun_path))
		return oerr_set(err, ENAMETOOLONG, "console socket path too long");
	strcpy(addr.sun_path, socket_path);
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return oerr_sys(err, errno, "connecting to console socket %s", socket_path);
	ptsname_r(fd, name, sizeof(name));
	iov = (struct iovec){ name, strlen(name) };
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
		return oerr_sys(err, errno, "sending the pty to %s", socket_path);
	return 0;
}
