/* Window sizes: the caller's terminal (or the pty whose master went over
 * --console-socket) is read with TIOCGWINSZ and its size written to the
 * process's ctl as `resize ROWS COLS` (the guest sets it on its pty with
 * TIOCSWINSZ; SIGWINCH follows there).  At start and on each SIGWINCH. */
#include "ocivm.h"

#include <errno.h>
#include <stdio.h>
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

/* -t on the caller's own terminal: raw, so keys (^C, ^Z) reach the guest's
 * pty, which does the line discipline; restored at exit. */
int winsz_raw(int fd, struct termios *saved)
{
	struct termios raw;

	if (!isatty(fd) || tcgetattr(fd, saved) < 0)
		return -ENOTTY;
	raw = *saved;
	cfmakeraw(&raw);
	return tcsetattr(fd, TCSANOW, &raw) < 0 ? -errno : 0;
}

void winsz_restore(int fd, const struct termios *saved)
{
	tcsetattr(fd, TCSANOW, saved);
}
