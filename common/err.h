/* Errors: functions return 0 or -errno.  Where a human needs the reason, the
 * caller passes a `struct oerr` and the callee fills it once with the errno
 * and a one-line message (e.g. "vm.kernel.path: must be an absolute path").
 * Library code never logs; the caller that owns the oerr logs it once. */
#ifndef OCIVM_ERR_H
#define OCIVM_ERR_H

#include <stddef.h>

#define OERR_MSG_MAX 512

struct oerr {
	int code;                 /* positive errno, 0 = no error */
	char msg[OERR_MSG_MAX];   /* one line, no trailing newline */
};

/* Record an error (first one wins: an oerr already set is left alone, so the
 * innermost, most specific reason survives).  Returns -code, so callers can
 * write `return oerr_set(err, EINVAL, "x: bad");`.  err may be NULL. */
int oerr_set(struct oerr *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like oerr_set, with ": strerror(code)" appended. */
int oerr_sys(struct oerr *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix an existing message ("creating web: " + msg). */
void oerr_prefix(struct oerr *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void oerr_clear(struct oerr *err);

/* Copy text `in` into out (n bytes) as one printable line: every byte that is
 * not printable ASCII (control bytes, ESC, newline, 0x80-0xff) becomes \xHH,
 * so a hostile id or config cannot put raw bytes into a log or a file.
 * A line that does not fit loses its middle, marked "...", never its end
 * (where the reason and the errno are): the last TEXT_FIT_TAIL bytes stay.
 * Escaping is idempotent (its output is printable).  Returns the length. */
#define TEXT_FIT_TAIL 128
#define TEXT_FIT_MIN 32
size_t text_fit(char *out, size_t n, const char *in);

#endif
