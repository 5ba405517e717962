/* fs/rings: the recent daemon messages (MOUNT/log) and the state-change
 * lines (MOUNT/events), each a fixed ring of lines under fsd.lock. */
#include "fsd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void rfc3339_now(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, n - len, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

/* log_set_sink target: every daemon message lands in MOUNT/log (and on
 * stderr when debugging in the foreground). */
void fsd_log_sink(void *ctx, enum log_level level, const char *line)
{
	struct fsd *fs = ctx;
	const char *lv = level <= LOG_ERR ? "error" : level == LOG_WARN ? "warn" :
			 level == LOG_INFO ? "info" : "debug";
	char ts[64];

	rfc3339_now(ts, sizeof(ts));
	if (fs->debug)
		fprintf(stderr, "%s %s %s\n", ts, lv, line);
	_Static_assert(FS_LINE_MAX >= LOG_LINE_MAX + 40, "a log line must fit its slot");
	pthread_mutex_lock(&fs->lock);
	char *slot = fs->log[fs->log_n % FS_LOG_LINES];
	snprintf(slot, FS_LINE_MAX, "%s %s %s", ts, lv, line);   /* escaped, fits */
	fs->log_n++;
	pthread_mutex_unlock(&fs->lock);
}

int fsd_log_snapshot(struct fsd *fs, char **ret, size_t *ret_len)
{
	char *out = malloc((size_t)FS_LOG_LINES * (FS_LINE_MAX + 1) + 1);
	size_t len = 0;

	if (!out)
		return -ENOMEM;
	pthread_mutex_lock(&fs->lock);
	uint64_t first = fs->log_n > FS_LOG_LINES ? fs->log_n - FS_LOG_LINES : 0;
	for (uint64_t i = first; i < fs->log_n; i++)
		len += (size_t)sprintf(out + len, "%s\n", fs->log[i % FS_LOG_LINES]);
	pthread_mutex_unlock(&fs->lock);
	out[len] = '\0';
	*ret = out;
	*ret_len = len;
	return 0;
}

size_t fsd_log_size(struct fsd *fs)
{
	size_t len = 0;

	pthread_mutex_lock(&fs->lock);
	uint64_t first = fs->log_n > FS_LOG_LINES ? fs->log_n - FS_LOG_LINES : 0;
	for (uint64_t i = first; i < fs->log_n; i++)
		len += strlen(fs->log[i % FS_LOG_LINES]) + 1;
	pthread_mutex_unlock(&fs->lock);
	return len;
}

void fsd_event_push_locked(struct fsd *fs, const char *line)
{
	char *slot = fs->events[fs->ev_n % FS_EVENT_LINES];
	size_t n = strcspn(line, "\n");

	if (n >= FS_LINE_MAX)
		n = FS_LINE_MAX - 1;
	memcpy(slot, line, n);
	slot[n] = '\0';
	fs->ev_n++;
}

/* Copy whole lines from *next on into out (at most size bytes); a reader
 * that fell more than the ring behind skips to the oldest kept line. */
size_t fsd_events_copy_locked(struct fsd *fs, uint64_t *next, char *out, size_t size)
{
	size_t len = 0;

	if (fs->ev_n - *next > FS_EVENT_LINES)
		*next = fs->ev_n - FS_EVENT_LINES;
	while (*next < fs->ev_n) {
		const char *l = fs->events[*next % FS_EVENT_LINES];
		size_t n = strlen(l);
		if (len + n + 1 > size) {
			if (len == 0 && size > 0) {  /* tiny buffer: a cut line */
				memcpy(out, l, size);
				(*next)++;
				return size;
			}
			break;
		}
		memcpy(out + len, l, n);
		out[len + n] = '\n';
		len += n + 1;
		(*next)++;
	}
	return len;
}
