/* fs/ctl: the ctl command parser (see ctl.h).  Pure: the fuzz target and the
 * unit tests link this file alone with common/err.c. */
#include "ctl.h"

#include "cleanup.h"
#include "signame.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <strings.h>

#define CTL_MAX_WORDS (3 + CTL_MAX_KV)

static const char *const ctl_verbs[] = {
	[CTL_CREATE] = "create", [CTL_START] = "start", [CTL_KILL] = "kill",
	[CTL_DELETE] = "delete", [CTL_PAUSE] = "pause", [CTL_RESUME] = "resume",
	[CTL_EXEC] = "exec", [CTL_RESIZE] = "resize",
};

const char *ctl_verb_name(enum ctl_verb v)
{
	return (unsigned)v < ARRAY_SIZE(ctl_verbs) ? ctl_verbs[v] : "?";
}

int ctl_signal_parse(const char *s, int *ret_signo)
{
	int sig = sig_parse(s);

	if (sig < 0)
		return sig;
	*ret_signo = sig;
	return 0;
}

/* Copy text into cmd->buf, check its shape, split it into words. */
static int ctl_split(const char *text, size_t len, struct ctl_cmd *cmd,
		     char **words, size_t *ret_n, struct oerr *err)
{
	size_t n = 0;

	if (len > CTL_MAX_LEN)
		return oerr_set(err, E2BIG, "ctl: command of %zu bytes, the limit is %d",
				len, CTL_MAX_LEN);
	if (len && text[len - 1] == '\n')
		len--;
	if (memchr(text, '\0', len))
		return oerr_set(err, EINVAL, "ctl: NUL byte in command");
	if (memchr(text, '\n', len))
		return oerr_set(err, EINVAL, "ctl: one command per write (newline inside)");
	memcpy(cmd->buf, text, len);
	cmd->buf[len] = '\0';
	for (char *save = NULL, *w = strtok_r(cmd->buf, " \t\r", &save); w;
	     w = strtok_r(NULL, " \t\r", &save)) {
		if (n == CTL_MAX_WORDS)
			return oerr_set(err, EINVAL, "ctl: more than %d words", CTL_MAX_WORDS);
		words[n++] = w;
	}
	if (n == 0)
		return oerr_set(err, EINVAL, "ctl: empty command");
	*ret_n = n;
	return 0;
}

static int ctl_verb_parse(const char *w, enum ctl_verb *ret, struct oerr *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(ctl_verbs); i++) {
		if (strcmp(w, ctl_verbs[i]) == 0) {
			*ret = (enum ctl_verb)i;
			return 0;
		}
	}
	return oerr_set(err, EINVAL, "ctl: unknown command \"%.64s\" (create, start, "
			"kill, delete, pause, resume, exec, resize)", w);
}

static int ctl_args_create(struct ctl_cmd *cmd, char **args, size_t n, struct oerr *err)
{
	if (n < 1)
		return oerr_set(err, EINVAL, "ctl: usage: create ID BUNDLE [key=value ...]");
	if (args[0][0] != '/')
		return oerr_set(err, EINVAL, "ctl: bundle \"%.256s\" must be an absolute path",
				args[0]);
	cmd->bundle = args[0];
	for (size_t i = 1; i < n; i++) {
		char *eq = strchr(args[i], '=');
		if (!eq || eq == args[i])
			return oerr_set(err, EINVAL, "ctl: option \"%.64s\" is not key=value",
					args[i]);
		if (cmd->n_kv == CTL_MAX_KV)
			return oerr_set(err, EINVAL, "ctl: more than %d options", CTL_MAX_KV);
		cmd->kv[cmd->n_kv++] = args[i];
	}
	return 0;
}

static int ctl_dim(const char *w, unsigned *ret)
{
	char *end;
	unsigned long v = strtoul(w, &end, 10);

	if (!*w || *end || w[0] == '-' || w[0] == '+' || v < 1 || v > 65535)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int ctl_args_exec(struct ctl_cmd *cmd, char **args, size_t n, struct oerr *err)
{
	if (n != 2)
		return oerr_set(err, EINVAL, "ctl: usage: exec NAME /abs/process.json");
	if (args[1][0] != '/')
		return oerr_set(err, EINVAL, "ctl: process.json \"%.256s\" must be an absolute path",
				args[1]);
	cmd->name = args[0];
	cmd->process = args[1];
	return 0;
}

static int ctl_args(struct ctl_cmd *cmd, char **args, size_t n, struct oerr *err)
{
	const char *verb = ctl_verb_name(cmd->verb);

	switch (cmd->verb) {
	case CTL_CREATE:
		return ctl_args_create(cmd, args, n, err);
	case CTL_EXEC:
		return ctl_args_exec(cmd, args, n, err);
	case CTL_RESIZE:
		if (n != 2 || ctl_dim(args[0], &cmd->rows) < 0 || ctl_dim(args[1], &cmd->cols) < 0)
			return oerr_set(err, EINVAL, "ctl: usage: resize ROWS COLS (1..65535)");
		return 0;
	case CTL_KILL:
		if (n > 1)
			return oerr_set(err, EINVAL, "ctl: usage: kill [SIGNAL]");
		if (n == 1 && ctl_signal_parse(args[0], &cmd->signo) < 0)
			return oerr_set(err, EINVAL, "ctl: unknown signal \"%.64s\"", args[0]);
		return 0;
	case CTL_DELETE:
		if (n > 1 || (n == 1 && strcmp(args[0], "force") != 0))
			return oerr_set(err, EINVAL, "ctl: usage: delete [force]");
		cmd->force = n == 1;
		return 0;
	default:
		if (n > 0)
			return oerr_set(err, EINVAL, "ctl: %s takes no arguments", verb);
		return 0;
	}
}

int ctl_parse(const char *text, size_t len, bool with_id, struct ctl_cmd *ret,
	      struct oerr *err)
{
	char *words[CTL_MAX_WORDS];
	size_t n = 0, first = 1;
	int r;

	memset(ret, 0, offsetof(struct ctl_cmd, buf));
	ret->signo = SIGTERM;
	r = ctl_split(text, len, ret, words, &n, err);
	if (r < 0)
		return r;
	r = ctl_verb_parse(words[0], &ret->verb, err);
	if (r < 0)
		return r;
	if (ret->verb == CTL_CREATE && !with_id)
		return oerr_set(err, EINVAL, "ctl: create belongs in MOUNT/ctl");
	if (with_id) {
		if (n < 2)
			return oerr_set(err, EINVAL, "ctl: %s needs a container id",
					words[0]);
		ret->id = words[1];
		first = 2;
	}
	return ctl_args(ret, words + first, n - first, err);
}
