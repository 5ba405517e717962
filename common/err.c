#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int oerr_vset(struct oerr *err, int code, const char *suffix,
		     const char *fmt, va_list ap)
{
	if (code < 0)
		code = -code;
	if (!err || err->code)
		return -code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (suffix) {
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", suffix);
	}
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
	char pre[OERR_MSG_MAX], old[OERR_MSG_MAX];
	va_list ap;

	if (!err || !err->code)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	size_t n = strnlen(pre, sizeof(err->msg) - 1);
	memcpy(err->msg, pre, n);
	size_t m = strnlen(old, sizeof(err->msg) - 1 - n);
	memcpy(err->msg + n, old, m);
	err->msg[n + m] = '\0';
}

void oerr_clear(struct oerr *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
