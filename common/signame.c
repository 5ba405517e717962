/* See signame.h. */
#include "signame.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct { const char *name; int signo; } sig_aliases[] = {
	{ "IOT", SIGIOT }, { "POLL", SIGPOLL }, { "CLD", SIGCHLD },
};

const char *sig_name(int signo)
{
	return signo > 0 && signo < SIGRTMIN ? sigabbrev_np(signo) : NULL;
}

/* RTMIN, RTMIN+3, RTMAX-2 */
static int sig_parse_rt(const char *s)
{
	long off = 0;
	int base;
	char *end;

	if (strncasecmp(s, "RTMIN", 5) == 0)
		base = SIGRTMIN;
	else if (strncasecmp(s, "RTMAX", 5) == 0)
		base = SIGRTMAX;
	else
		return -EINVAL;
	s += 5;
	if (*s) {
		if ((*s != '+' && *s != '-') || !isdigit((unsigned char)s[1]))
			return -EINVAL;
		errno = 0;
		off = strtol(s, &end, 10);
		if (errno || *end)
			return -EINVAL;
	}
	if (off < SIGRTMIN - base || off > SIGRTMAX - base)
		return -EINVAL;
	return (int)(base + off);
}

int sig_parse(const char *s)
{
	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)s[0])) {
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		return errno || *end || v < 1 || v > SIGRTMAX ? -EINVAL : (int)v;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *n = sigabbrev_np(i);
		if (n && strcasecmp(s, n) == 0)
			return i;
	}
	for (size_t i = 0; i < sizeof(sig_aliases) / sizeof(sig_aliases[0]); i++)
		if (strcasecmp(s, sig_aliases[i].name) == 0)
			return sig_aliases[i].signo;
	return sig_parse_rt(s);
}
