/* Log lines as runc writes them with --log and --log-format (logrus text or
 * JSON lines: conmon and containerd read the last "error" msg from there). */
#include "ocivm.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct {
	int fd;
	enum ocivm_log_format format;
	bool debug;
} olog = { -1, LOGF_TEXT, false };

/* Appends s to out (at *pos, bounded by n) with JSON/logrus escaping. */
static void put_escaped(char *out, size_t n, size_t *pos, const char *s)
{
	for (; *s && *pos + 7 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[(*pos)++] = '\\';
			out[(*pos)++] = (char)c;
		} else if (c == '\n') {
			out[(*pos)++] = '\\';
			out[(*pos)++] = 'n';
		} else if (c < 0x20) {
			*pos += (size_t)snprintf(out + *pos, n - *pos, "\\u%04x", c);
		} else {
			out[(*pos)++] = (char)c;
		}
	}
	out[*pos] = '\0';
}

static void put_raw(char *out, size_t n, size_t *pos, const char *s)
{
	size_t len = strlen(s);

	if (*pos + len >= n)
		len = n - *pos - 1;
	memcpy(out + *pos, s, len);
	*pos += len;
	out[*pos] = '\0';
}

void ocivm_log_format_line(enum ocivm_log_format f, const char *level, const char *msg,
			   time_t t, char *buf, size_t n)
{
	char ts[64];
	struct tm tm;
	size_t pos = 0;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf[0] = '\0';
	if (n < 16)
		return;
	if (f == LOGF_JSON) {
		put_raw(buf, n - 3, &pos, "{\"level\":\"");
		put_escaped(buf, n - 3, &pos, level);
		put_raw(buf, n - 3, &pos, "\",\"msg\":\"");
		put_escaped(buf, n - 3, &pos, msg);
		put_raw(buf, n - 3, &pos, "\",\"time\":\"");
		put_raw(buf, n - 3, &pos, ts);
		put_raw(buf, n, &pos, "\"}\n");
	} else {
		put_raw(buf, n - 3, &pos, "time=\"");
		put_raw(buf, n - 3, &pos, ts);
		put_raw(buf, n - 3, &pos, "\" level=");
		put_raw(buf, n - 3, &pos, level);
		put_raw(buf, n - 3, &pos, " msg=\"");
		put_escaped(buf, n - 3, &pos, msg);
		put_raw(buf, n, &pos, "\"\n");
	}
}

void ocivm_log_setup(const char *path, enum ocivm_log_format f, bool debug)
{
	olog.format = f;
	olog.debug = debug;
	if (olog.fd >= 0)
		close(olog.fd);
	olog.fd = -1;
	if (path)
		olog.fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

static void log_v(const char *level, const char *fmt, va_list ap)
{
	char msg[2048], line[4608];
	bool dbg = !strcmp(level, "debug");

	if (dbg && !olog.debug)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (olog.fd >= 0) {
		ocivm_log_format_line(olog.format, level, msg, time(NULL), line, sizeof(line));
		if (write(olog.fd, line, strlen(line)) < 0) {
			/* nowhere better to say it */
		}
	} else if (dbg) {
		fprintf(stderr, "ocivm: debug: %s\n", msg);
	}
}

void ocivm_log(const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}

int ocivm_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v("error", fmt, ap);
	va_end(ap);
	fprintf(stderr, "ocivm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}
