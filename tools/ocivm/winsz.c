/* Window sizes: the caller's terminal (or the pty whose master went over
 * --console-socket) is read with TIOCGWINSZ and its size written to the
 * process's ctl as `resize ROWS COLS` (the guest sets it on its pty with
 * TIOCSWINSZ; SIGWINCH follows there).  At start and on each SIGWINCH. */
#include "ocivm.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int winsz_get(int fd, unsigned *rows, unsigned *cols)
{
	struct winsize ws;

	if (fd < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return -errno;
	if (!ws.ws_row || !ws.ws_col)
		return -ENODATA; /* nobody set a size yet */
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 0;
}

int winsz_line(unsigned rows, unsigned cols, char *buf, size_t n)
{
	int r = snprintf(buf, n, "resize %u %u", rows, cols);

	return r < 0 || (size_t)r >= n ? -ENOBUFS : 0;
}

int winsz_send(const struct ocivm_tree *t, const char *dir, int fd)
{
	unsigned rows, cols;
	char line[48];
	int r;

	if ((r = winsz_get(fd, &rows, &cols)) < 0)
		return r;
	if ((r = winsz_line(rows, cols, line, sizeof(line))) < 0)
		return r;
	return tree_ctl(t, dir, line);
}

/* What the canonical line discipline of fd holds already (complete lines
 * and EOFs), read without blocking into buf[*n..cap).  n_tty keeps an EOF
 * (VEOF typed; script(1) writes one when its own stdin ends) as a 0 byte
 * with a line mark: a read returns the line without it (or 0 bytes for a
 * bare EOF), so a line that does not end in an end-of-line character ended
 * in VEOF, and VEOF is put back after it: the key raw mode would pass. */
static void take_canonical(int fd, const struct termios *tio, char *buf, size_t cap,
			   size_t *n)
{
	char line[4096]; /* N_TTY_BUF_SIZE: a canonical line is shorter */
	char veof = tio->c_cc[VEOF] != _POSIX_VDISABLE ? (char)tio->c_cc[VEOF] : 4;

	for (int i = 0; i < 256 && *n + sizeof(line) + 1 <= cap; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN) ||
		    (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
			return; /* no complete line queued (or the tty is gone) */
		ssize_t r = read(fd, line, sizeof(line));
		if (r < 0)
			return;
		memcpy(buf + *n, line, (size_t)r);
		*n += (size_t)r;
		char last = r ? line[r - 1] : 0;
		if (!r || (last != '\n' && (!tio->c_cc[VEOL] || last != (char)tio->c_cc[VEOL]) &&
			   (!tio->c_cc[VEOL2] || last != (char)tio->c_cc[VEOL2])))
			buf[(*n)++] = veof;
	}
}

/* -t on the caller's own terminal: raw, so keys (^C, ^Z) reach the guest's
 * pty, which does the line discipline; restored at exit.  A switch from
 * canonical to raw hands what the line discipline holds over as data, an
 * EOF as a 0 byte (the guest's pty echoes it as ^@): so VEOF is disabled
 * first (a ^D typed from now on stays the byte 4), the queued lines are
 * taken into pending (*n bytes, to send before anything else is read) and
 * only then the terminal goes raw.  A partial line stays queued and is
 * read raw, as typed. */
int winsz_raw(int fd, struct termios *saved, char *pending, size_t cap, size_t *n)
{
	struct termios t;

	*n = 0;
	if (!isatty(fd) || tcgetattr(fd, saved) < 0)
		return -ENOTTY;
	t = *saved;
	if (t.c_lflag & ICANON) {
		t.c_cc[VEOF] = _POSIX_VDISABLE;
		if (tcsetattr(fd, TCSANOW, &t) < 0)
			return -errno;
		take_canonical(fd, saved, pending, cap, n);
		t = *saved;
	}
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		int e = errno;
		tcsetattr(fd, TCSANOW, saved);
		return -e;
	}
	return 0;
}

void winsz_restore(int fd, const struct termios *saved)
{
	tcsetattr(fd, TCSANOW, saved);
}
