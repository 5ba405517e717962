/* libFuzzer target for the ctl command parser (fs/ctl.c).  Checks, beyond
 * "no crash": a parse either fails with EINVAL/E2BIG and a message, or yields
 * a command whose words are non-empty, blank-free and inside the buffer. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ctl.h"

static void check_word(const struct ctl_cmd *cmd, const char *w)
{
	if (!w)
		return;
	if (w < cmd->buf || w >= cmd->buf + sizeof(cmd->buf) || !*w ||
	    strpbrk(w, " \t\r\n"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_cmd cmd;
	struct oerr err;

	for (int with_id = 0; with_id < 2; with_id++) {
		oerr_clear(&err);
		int r = ctl_parse((const char *)data, size, with_id, &cmd, &err);
		if (r < 0) {
			if ((r != -EINVAL && r != -E2BIG) || err.code != -r || !err.msg[0])
				abort();
			continue;
		}
		check_word(&cmd, cmd.id);
		check_word(&cmd, cmd.bundle);
		if (cmd.n_kv > CTL_MAX_KV)
			abort();
		for (size_t i = 0; i < cmd.n_kv; i++)
			check_word(&cmd, cmd.kv[i]);
		if (cmd.verb == CTL_CREATE && (!cmd.bundle || cmd.bundle[0] != '/'))
			abort();
		if (cmd.signo < 1 || cmd.signo > 64)
			abort();
	}
	return 0;
}
