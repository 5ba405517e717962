/* See disk.h. */
#include "disk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct gdisk_where gdisk_where_real = { "/sys/block", "/dev" };

int gdisk_try(const struct gdisk_where *w, const char *serial, char *dev, size_t cap,
	      char *why, size_t wcap)
{
	DIR *d = opendir(w->block);
	struct dirent *e;
	int seen = 0, r = -ENODEV;

	why[0] = '\0';
	if (!d) {
		snprintf(why, wcap, "%s: %s", w->block, strerror(errno));
		return -ENODEV;
	}
	gchan_why_add(why, wcap, "disks:");
	while ((e = readdir(d))) {
		char got[128], link[PATH_MAX], slot[64] = "", p[512];
		struct stat st;
		if (strncmp(e->d_name, "vd", 2) != 0)
			continue;
		seen++;
		/* the virtio device it sits on (the slot), when sysfs says */
		snprintf(p, sizeof(p), "%s/%s/device", w->block, e->d_name);
		ssize_t n = readlink(p, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			const char *base = strrchr(link, '/');
			snprintf(slot, sizeof(slot), " (%.48s)", base ? base + 1 : link);
		}
		if (gchan_attr(w->block, e->d_name, "serial", got, sizeof(got)) <= 0) {
			gchan_why_add(why, wcap, " %s%s without a serial,", e->d_name, slot);
			continue;
		}
		if (strcmp(got, serial) != 0) {
			gchan_why_add(why, wcap, " %s%s serial %s,", e->d_name, slot, got);
			continue;
		}
		snprintf(dev, cap, "%s/%s", w->dev, e->d_name);
		if (stat(dev, &st) == 0) {
			r = 0;
			break;
		}
		gchan_why_add(why, wcap, " %s%s has it but %s is not there yet,", e->d_name, slot, dev);
	}
	closedir(d);
	size_t n = strlen(why);
	if (r < 0 && !seen)
		gchan_why_add(why, wcap, " none (is virtio_blk loaded?)");
	else if (r < 0 && n && why[n - 1] == ',')
		why[n - 1] = '\0';
	return r;
}

struct disk_look {
	const struct gdisk_where *w;
	const char *serial;
	char *dev;
	size_t cap;
};

static int disk_look(void *ctx, char *why, size_t wcap)
{
	struct disk_look *l = ctx;
	return gdisk_try(l->w, l->serial, l->dev, l->cap, why, wcap) == 0 ? 0 : -EAGAIN;
}

int gdisk_find(const struct gdisk_where *w, const struct gchan_clock *c, unsigned note_every_ms,
	       const char *serial, const char *what, gchan_note_fn note, void *note_ctx,
	       char *dev, size_t cap)
{
	struct disk_look l = { w, serial, dev, cap };
	char label[256], msg[400];
	uint64_t waited;

	snprintf(label, sizeof(label), "%s, the virtio disk with serial %s", what, serial);
	int r = gchan_wait(c, note_every_ms, label, disk_look, &l, note, note_ctx, &waited);
	if (r == 0 && waited >= note_every_ms) {
		snprintf(msg, sizeof(msg), "%s: %s (serial %s) after %llu ms", what, dev, serial,
			 (unsigned long long)waited);
		note(note_ctx, msg);
	}
	return r;
}
