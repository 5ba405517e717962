/* See chanopen.h. */
#include "chanopen.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define GCHAN_NAP_MS 10
#define GCHAN_VIRTIO_ID_CONSOLE "0x0003"

const struct gchan_where gchan_where_real = {
	.ports = "/sys/class/virtio-ports",
	.devices = "/sys/bus/virtio/devices",
	.dev = "/dev",
	.hvc = GCHAN_HVC,
};

static uint64_t real_now_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void real_nap_ms(void *ctx, unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	(void)ctx;
	nanosleep(&ts, NULL);
}

const struct gchan_clock gchan_clock_real = { real_now_ms, real_nap_ms, NULL };

void gchan_why_add(char *why, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(why + n, cap - n, fmt, ap);
	va_end(ap);
}

int gchan_attr(const char *dir, const char *entry, const char *file, char *buf, size_t cap)
{
	char p[512];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s/%s", dir, entry, file);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return (int)strlen(buf);
}

/* The named port: its fd, or -errno (-ENOENT: not there; the ports seen
 * go into why). */
static int try_vport(const struct gchan_where *w, char *path, size_t cap, char *why, size_t wcap)
{
	DIR *d = opendir(w->ports);
	struct dirent *e;
	int r = -ENOENT, seen = 0;

	if (!d) {
		gchan_why_add(why, wcap, "no virtio port named " GCHAN_VPORT_NAME " (%s: %s)", w->ports,
			strerror(errno));
		return -ENOENT;
	}
	gchan_why_add(why, wcap, "no virtio port named " GCHAN_VPORT_NAME " (ports:");
	while ((e = readdir(d))) {
		char name[128];
		if (e->d_name[0] == '.')
			continue;
		seen++;
		if (gchan_attr(w->ports, e->d_name, "name", name, sizeof(name)) <= 0) {
			/* the name comes from the host after the device */
			gchan_why_add(why, wcap, " %s without a name yet", e->d_name);
			continue;
		}
		if (strcmp(name, GCHAN_VPORT_NAME) != 0) {
			gchan_why_add(why, wcap, " %s named %s", e->d_name, name);
			continue;
		}
		snprintf(path, cap, "%s/%s", w->dev, e->d_name);
		int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0) {
			closedir(d);
			return fd;
		}
		r = -errno;
		gchan_why_add(why, wcap, " %s named %s but open %s: %s", e->d_name, name, path, strerror(errno));
	}
	closedir(d);
	gchan_why_add(why, wcap, "%s)", seen ? "" : " none");
	return r;
}

/* What the virtio bus has of console devices (id 3), into why. */
static void describe_devices(const struct gchan_where *w, char *why, size_t wcap)
{
	DIR *d = opendir(w->devices);
	struct dirent *e;
	int consoles = 0;

	gchan_why_add(why, wcap, "; virtio console devices:");
	if (!d) {
		gchan_why_add(why, wcap, " none (%s: %s; is virtio_mmio loaded?)", w->devices, strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		char id[32], p[512];
		struct stat st;
		if (e->d_name[0] == '.' || gchan_attr(w->devices, e->d_name, "device", id, sizeof(id)) < 0 ||
		    strcmp(id, GCHAN_VIRTIO_ID_CONSOLE) != 0)
			continue;
		consoles++;
		snprintf(p, sizeof(p), "%s/%s/driver", w->devices, e->d_name);
		if (stat(p, &st) == 0)
			gchan_why_add(why, wcap, " %s", e->d_name);
		else
			gchan_why_add(why, wcap, " %s without a driver (is virtio_console loaded?)", e->d_name);
	}
	closedir(d);
	if (!consoles)
		gchan_why_add(why, wcap, " none (is a virtio-serial device attached?)");
}

int gchan_try(const struct gchan_where *w, int *ret_vport, char *path, size_t cap,
	      char *why, size_t wcap)
{
	struct termios t;
	int fd, r;

	why[0] = '\0';
	if ((fd = try_vport(w, path, cap, why, wcap)) >= 0) {
		*ret_vport = 1;
		return fd;
	}
	r = fd;
	if ((fd = open(w->hvc, O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0) {
		why[0] = '\0';
		snprintf(path, cap, "%s", w->hvc);
		*ret_vport = 0;
		if (tcgetattr(fd, &t) == 0) {
			cfmakeraw(&t);
			tcsetattr(fd, TCSANOW, &t);
		}
		return fd;
	}
	int herr = errno;
	gchan_why_add(why, wcap, "; %s: %s", w->hvc, strerror(herr));
	describe_devices(w, why, wcap);
	return r == -ENOENT ? -herr : r;
}

int gchan_wait(const struct gchan_clock *c, unsigned note_every_ms, const char *what,
	       gchan_look_fn look, void *look_ctx, gchan_note_fn note, void *note_ctx,
	       uint64_t *ret_ms)
{
	uint64_t t0 = c->now_ms(c->ctx), next = t0 + note_every_ms;
	char why[1024], msg[1400];

	for (;;) {
		why[0] = '\0';
		int r = look(look_ctx, why, sizeof(why));
		uint64_t now = c->now_ms(c->ctx);
		if (r != -EAGAIN) {
			if (ret_ms)
				*ret_ms = now - t0;
			return r;
		}
		if (now >= next) {
			snprintf(msg, sizeof(msg), "waiting %llu s for %s: %s",
				 (unsigned long long)(now - t0) / 1000, what, why);
			note(note_ctx, msg);
			next = now + note_every_ms;
		}
		c->nap_ms(c->ctx, GCHAN_NAP_MS);
	}
}

struct chan_look {
	const struct gchan_where *w;
	int *ret_vport;
	char path[320];
};

static int chan_look(void *ctx, char *why, size_t wcap)
{
	struct chan_look *l = ctx;
	int fd = gchan_try(l->w, l->ret_vport, l->path, sizeof(l->path), why, wcap);
	return fd >= 0 ? fd : -EAGAIN;
}

int gchan_open(const struct gchan_where *w, const struct gchan_clock *c, unsigned note_every_ms,
	       gchan_note_fn note, void *note_ctx, int *ret_vport)
{
	struct chan_look l = { w, ret_vport, "" };
	uint64_t waited;
	char msg[400];
	int fd = gchan_wait(c, note_every_ms, "the channel", chan_look, &l, note, note_ctx, &waited);

	snprintf(msg, sizeof(msg), "channel: %s (%s) after %llu ms", l.path,
		 *ret_vport ? "virtio port " GCHAN_VPORT_NAME : "console, raw mode",
		 (unsigned long long)waited);
	note(note_ctx, msg);
	return fd;
}
