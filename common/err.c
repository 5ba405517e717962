#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The escaped form of byte c: itself when printable ASCII, else \xHH. */
static size_t esc_len(unsigned char c)
{
	return c < 0x20 || c >= 0x7f ? 4 : 1;
}

static char *esc_put(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (esc_len(c) == 1) {
		*o++ = (char)c;
		return o;
	}
	*o++ = '\\';
	*o++ = 'x';
	*o++ = hex[c >> 4];
	*o++ = hex[c & 15];
	return o;
}

size_t text_fit(char *out, size_t n, const char *in)
{
	static const char cut[] = "...";
	size_t len = strlen(in), total = 0, head = 0, tail = len, used = 0;
	char *o = out;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		total += esc_len((unsigned char)in[i]);
	if (total >= n && n > TEXT_FIT_MIN) {   /* cut the middle, keep the end */
		size_t room = n - 1 - (sizeof(cut) - 1);
		size_t tail_room = room / 2 < TEXT_FIT_TAIL ? room / 2 : TEXT_FIT_TAIL;
		while (tail > 0 && used + esc_len((unsigned char)in[tail - 1]) <= tail_room)
			used += esc_len((unsigned char)in[--tail]);
		while (head < tail && used + esc_len((unsigned char)in[head]) <= room)
			used += esc_len((unsigned char)in[head++]);
	} else if (total >= n) {   /* too small to cut: keep the head */
		while (head < len && used + esc_len((unsigned char)in[head]) <= n - 1)
			used += esc_len((unsigned char)in[head++]);
	} else {
		head = len;
	}
	for (size_t i = 0; i < head; i++)
		o = esc_put(o, (unsigned char)in[i]);
	if (head < tail && tail < len) {
		memcpy(o, cut, sizeof(cut) - 1);
		o += sizeof(cut) - 1;
	}
	for (size_t i = head < tail ? tail : len; i < len; i++)
		o = esc_put(o, (unsigned char)in[i]);
	*o = '\0';
	return (size_t)(o - out);
}

static int oerr_vset(struct oerr *err, int code, const char *suffix,
		     const char *fmt, va_list ap)
{
	char raw[4 * OERR_MSG_MAX];

	if (code < 0)
		code = -code;
	if (!err || err->code)
		return -code;
	err->code = code;
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1;
	if (n < 0)
		raw[0] = '\0';
	if (suffix)   /* the errno's text ends the line: cut the middle, not it */
		snprintf(raw + len, sizeof(raw) - len, ": %s", suffix);
	text_fit(err->msg, sizeof(err->msg), raw);
	return -code;
}

int oerr_set(struct oerr *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = oerr_vset(err, code, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int oerr_sys(struct oerr *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = oerr_vset(err, code, strerror(code < 0 ? -code : code), fmt, ap);
	va_end(ap);
	return r;
}

void oerr_prefix(struct oerr *err, const char *fmt, ...)
{
	char line[3 * OERR_MSG_MAX];
	va_list ap;

	if (!err || !err->code)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(line, OERR_MSG_MAX, fmt, ap);
	va_end(ap);
	size_t len = n < 0 ? 0 : (size_t)n < OERR_MSG_MAX ? (size_t)n : OERR_MSG_MAX - 1;
	snprintf(line + len, sizeof(line) - len, "%s", err->msg);
	text_fit(err->msg, sizeof(err->msg), line);   /* the old end (errno) stays */
}

void oerr_clear(struct oerr *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
