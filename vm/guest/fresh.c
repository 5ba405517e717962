/* Fresh per-VM state after the SPEC (fresh.h). */
#include "fresh.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define FRESH_BLK_DRIVER "/sys/bus/virtio/drivers/virtio_blk"

static int fresh_fail(char *eb, size_t cap, int e, const char *what)
{
	snprintf(eb, cap, "%s: %s", what, strerror(e));
	return -e;
}

static int fresh_seed(const struct gplan *p, char *eb, size_t cap)
{
	struct {
		struct rand_pool_info info;
		unsigned char buf[GPLAN_MAX_SEED];
	} req;
	int fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return fresh_fail(eb, cap, errno, "/dev/urandom");
	memset(&req, 0, sizeof(req));
	req.info.entropy_count = (int)(p->seed_len * 8);
	req.info.buf_size = (int)p->seed_len;
	memcpy(req.buf, p->seed, p->seed_len);
	if (ioctl(fd, RNDADDENTROPY, &req) < 0)
		r = fresh_fail(eb, cap, errno, "RNDADDENTROPY");
	/* ENODATA: the CRNG is not ready yet; the credited seed makes it so */
	else if (ioctl(fd, RNDRESEEDCRNG) < 0 && errno != ENODATA)
		r = fresh_fail(eb, cap, errno, "RNDRESEEDCRNG");
	explicit_bzero(&req, sizeof(req));
	close(fd);
	return r;
}

static int fresh_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Unbind and bind each virtio_blk device: a fresh probe reads the
 * capacity (and serial) of the disk the restored VM was given. */
static int fresh_rescan_disks(gsetup_note_fn note, void *ctx, char *eb, size_t cap)
{
	char names[16][NAME_MAX + 1], path[2 * NAME_MAX];
	int n = 0;
	DIR *d = opendir(FRESH_BLK_DRIVER);
	struct dirent *e;

	if (!d)
		return 0;   /* no virtio_blk bound: nothing probed yet */
	while ((e = readdir(d)) && n < 16)
		if (strncmp(e->d_name, "virtio", 6) == 0)
			memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);
	closedir(d);
	for (int i = 0; i < n; i++) {
		int r = fresh_write(FRESH_BLK_DRIVER "/unbind", names[i]);
		if (r == 0)
			r = fresh_write(FRESH_BLK_DRIVER "/bind", names[i]);
		if (r < 0) {
			snprintf(path, sizeof(path), "rebinding %.64s", names[i]);
			return fresh_fail(eb, cap, -r, path);
		}
	}
	snprintf(path, sizeof(path), "restored from a template: %d disk(s) probed again", n);
	if (note)
		note(ctx, path);
	return 0;
}

int gfresh_apply(const struct gplan *p, gsetup_note_fn note, void *ctx, char *eb, size_t cap)
{
	int r;

	if (p->seed && (r = fresh_seed(p, eb, cap)) < 0)
		return r;
	if (p->clock_sec) {
		struct timespec ts = { (time_t)p->clock_sec, p->clock_nsec };
		if (clock_settime(CLOCK_REALTIME, &ts) < 0)
			return fresh_fail(eb, cap, errno, "setting the clock");
	}
	if (p->restored && (r = fresh_rescan_disks(note, ctx, eb, cap)) < 0)
		return r;
	return 0;
}
