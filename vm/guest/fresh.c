/* Fresh per-VM state after the SPEC (fresh.h). */
#include "fresh.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/random.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FRESH_BLK_DRIVER "/sys/bus/virtio/drivers/virtio_blk"
#define FRESH_MACHINE_ID "/run/ocivm-machine-id"   /* init's, outside the root */

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

/* machine-id(5): 32 lowercase hex digits and a newline, a random (v4)
 * UUID as systemd makes one; from the CRNG, reseeded with this VM's seed. */
static int fresh_new_id(char out[34])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b))
		return -(errno ? errno : EIO);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	out[32] = '\n';
	out[33] = '\0';
	return 0;
}

/* A machine-id file that says nothing: empty, blanks, or systemd's
 * "uninitialized" (first boot). */
static bool fresh_id_unset(int fd)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	size_t i = 0, j;

	if (n <= 0)
		return n == 0;
	buf[n] = '\0';
	while (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n')
		i++;
	for (j = strlen(buf); j > i && (buf[j - 1] == ' ' || buf[j - 1] == '\t' || buf[j - 1] == '\n'); j--)
		;
	return j == i || (j - i == 13 && strncmp(buf + i, "uninitialized", 13) == 0);
}

int gfresh_machine_id(const struct gplan *p, const char *root, gsetup_note_fn note, void *ctx,
		      char *eb, size_t cap)
{
	char etc[PATH_MAX], id[34], msg[96];
	struct stat st;
	int r;

	for (int i = 0; i < p->n_mounts; i++)
		if (strcmp(p->mounts[i].dest, "/etc/machine-id") == 0)
			return 0;   /* the bundle's own */
	if (gsetup_in_root(root, "/etc", etc, sizeof(etc)) < 0 || stat(etc, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return 0;   /* no /etc (or one leading out of the root): nothing to fill */
	int dfd = open(etc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fresh_fail(eb, cap, errno, "machine-id: /etc");
	int fd = openat(dfd, "machine-id", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	const char *how = NULL;
	if (fd < 0 && errno == ENOENT) {
		/* none: a file of its own, in the container's (writable) root */
		if ((r = fresh_new_id(id)) < 0) {
			close(dfd);
			return fresh_fail(eb, cap, -r, "machine-id: getrandom");
		}
		fd = openat(dfd, "machine-id", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
		if (fd < 0 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
			snprintf(msg, sizeof(msg), "machine-id: none in a read-only /etc: left absent");
			how = msg;
		} else if (fd < 0 || write(fd, id, 33) != 33 || fchmod(fd, 0444) < 0) {
			r = errno;
			if (fd >= 0)
				close(fd);
			close(dfd);
			return fresh_fail(eb, cap, r, "machine-id: writing /etc/machine-id");
		} else {
			how = "machine-id: generated /etc/machine-id";
		}
	} else if (fd < 0) {
		r = errno;   /* ELOOP: a symlink, the image's choice: left alone */
		close(dfd);
		return r == ELOOP ? 0 : fresh_fail(eb, cap, r, "machine-id: /etc/machine-id");
	} else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fresh_id_unset(fd)) {
		/* an empty one (as images ship for systemd to fill): this VM's
		 * id mounted over it, read-only, the image's file unchanged */
		char dst[PATH_MAX + 16];
		int tfd = -1;
		snprintf(dst, sizeof(dst), "%s/machine-id", etc);
		if ((r = fresh_new_id(id)) < 0 ||
		    (tfd = open(FRESH_MACHINE_ID, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444)) < 0 ||
		    write(tfd, id, 33) != 33 || mount(FRESH_MACHINE_ID, dst, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
			r = r < 0 ? -r : errno;
			if (tfd >= 0)
				close(tfd);
			close(fd);
			close(dfd);
			return fresh_fail(eb, cap, r, "machine-id: mounting one on the empty /etc/machine-id");
		}
		close(tfd);
		how = "machine-id: generated, mounted on the empty /etc/machine-id";
	}
	if (fd >= 0)
		close(fd);
	close(dfd);
	if (how && note)
		note(ctx, how);
	return 0;
}
