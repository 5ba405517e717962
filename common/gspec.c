/* gspec writer (host) and parser (guest): see gspec.h for the format.
 *
 * Field encoding: bytes < 0x21, >= 0x7f and '%' are written as %XX (upper-case
 * hex); an empty field is written as "%00" (a NUL byte is otherwise refused,
 * so "%00" can only ever mean "empty").  The parser is allocation-free and
 * depends only on libc, so the static ocivm-init can link it. */
#include "gspec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hexdig[] = "0123456789ABCDEF";

void gspec_writer_init(struct gspec_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void gspec_writer_free(struct gspec_writer *w)
{
	if (!w)
		return;
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

static int gspec_reserve(struct gspec_writer *w, size_t more)
{
	if (w->error)
		return w->error;
	if (w->len + more + 1 > GSPEC_MAX_LEN + 1)
		return w->error = -E2BIG;
	if (w->len + more + 1 <= w->cap)
		return 0;
	size_t ncap = w->cap ? w->cap : 1024;
	while (ncap < w->len + more + 1)
		ncap *= 2;
	char *n = realloc(w->buf, ncap);
	if (!n)
		return w->error = -ENOMEM;
	w->buf = n;
	w->cap = ncap;
	return 0;
}

static void gspec_append(struct gspec_writer *w, const char *s, size_t n)
{
	if (gspec_reserve(w, n) < 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static int gspec_must_escape(unsigned char c)
{
	return c < 0x21 || c >= 0x7f || c == '%';
}

static void gspec_append_field(struct gspec_writer *w, const char *f)
{
	char tmp[3];

	if (!f || !*f) {
		gspec_append(w, "%00", 3);
		return;
	}
	for (; *f; f++) {
		unsigned char c = (unsigned char)*f;
		if (!gspec_must_escape(c)) {
			gspec_append(w, (const char *)&c, 1);
			continue;
		}
		tmp[0] = '%';
		tmp[1] = hexdig[c >> 4];
		tmp[2] = hexdig[c & 15];
		gspec_append(w, tmp, 3);
	}
}

static int gspec_key_valid(const char *key)
{
	if (!key || !*key)
		return 0;
	for (const char *k = key; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return 0;
	return 1;
}

void gspec_put(struct gspec_writer *w, const char *key, int nfields, const char *const *fields)
{
	if (w->error)
		return;
	if (!gspec_key_valid(key) || nfields < 0 || nfields > GSPEC_MAX_FIELDS) {
		w->error = -EINVAL;
		return;
	}
	gspec_append(w, key, strlen(key));
	for (int i = 0; i < nfields; i++) {
		gspec_append(w, " ", 1);
		gspec_append_field(w, fields[i]);
	}
	gspec_append(w, "\n", 1);
}

void gspec_putf(struct gspec_writer *w, const char *key, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	if (w->error)
		return;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		w->error = -ENOMEM;
		return;
	}
	const char *f[1] = { s };
	gspec_put(w, key, 1, f);
	free(s);
}

int gspec_finish(struct gspec_writer *w, char **ret_text, size_t *ret_len)
{
	gspec_append(w, "end\n", 4);
	if (w->error)
		return w->error;
	*ret_text = w->buf;
	*ret_len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return 0;
}

/* ---- parser ---- */

void gspec_parser_init(struct gspec_parser *ps, char *text, size_t len)
{
	ps->p = text;
	ps->end = text + len;
	ps->line = 0;
	ps->seen_end = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode s[0..n) in place into s, NUL-terminate.  -EINVAL on a bad escape,
 * a raw byte that should have been escaped, or a NUL other than "%00". */
static int gspec_decode(char *s, size_t n)
{
	size_t o = 0;

	if (n == 3 && memcmp(s, "%00", 3) == 0) {
		s[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '%') {
			if (gspec_must_escape(c))
				return -EINVAL;
			s[o++] = (char)c;
			continue;
		}
		if (n - i < 3)
			return -EINVAL;
		int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -EINVAL;
		s[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	s[o] = '\0';
	return 0;
}

/* Split one line (without its LF) into key and fields. */
static int gspec_split(char *line, size_t n, struct gspec_record *ret)
{
	size_t i = 0, start;

	while (i < n && line[i] != ' ')
		i++;
	if (i == 0)
		return -EINVAL;
	ret->key = line;
	ret->nfields = 0;
	int more = i < n;
	line[i] = '\0';
	if (!gspec_key_valid(line))
		return -EINVAL;
	while (more) {
		start = ++i;
		while (i < n && line[i] != ' ')
			i++;
		if (i == start || ret->nfields == GSPEC_MAX_FIELDS)
			return -EINVAL;
		more = i < n;
		if (gspec_decode(line + start, i - start) < 0)
			return -EINVAL;
		ret->fields[ret->nfields++] = line + start;
	}
	for (int k = ret->nfields; k < GSPEC_MAX_FIELDS; k++)
		ret->fields[k] = NULL;
	return 0;
}

int gspec_next(struct gspec_parser *ps, struct gspec_record *ret)
{
	if (ps->seen_end)
		return 0;
	ps->line++;
	if (ps->p >= ps->end)
		return -EINVAL; /* truncated: no "end" */
	char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
	if (!nl) {
		/* only "end" may lack its LF, as the very last bytes */
		if (ps->end - ps->p == 3 && memcmp(ps->p, "end", 3) == 0) {
			ps->p = ps->end;
			ps->seen_end = 1;
			return 0;
		}
		return -EINVAL; /* last line cut off */
	}
	char *line = ps->p;
	size_t n = (size_t)(nl - line);
	if (memchr(line, '\0', n))
		return -EINVAL;
	ps->p = nl + 1;
	if (n == 3 && memcmp(line, "end", 3) == 0) {
		if (ps->p != ps->end)
			return -EINVAL; /* bytes after "end" */
		ps->seen_end = 1;
		*nl = '\0';
		return 0;
	}
	*nl = '\0';
	if (gspec_split(line, n, ret) < 0)
		return -EINVAL;
	return 1;
}

char *gspec_hex(const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	char *out = malloc(len ? 2 * len + 1 : 2);

	if (!out)
		return NULL;
	if (!len)
		return strcpy(out, "-");
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

/* A lowercase hex digit's value, else -1 (gspec_hex writes lowercase only). */
static int lowhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int gspec_unhex(char *s, size_t *ret_len)
{
	size_t n = strlen(s);

	if (strcmp(s, "-") == 0) {
		*s = '\0';
		*ret_len = 0;
		return 0;
	}
	if (n % 2)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 2) {
		int hi = lowhex(s[i]), lo = lowhex(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		s[i / 2] = (char)(hi << 4 | lo);
	}
	s[n / 2] = '\0';
	*ret_len = n / 2;
	return 0;
}
