/* ocivm: parse runc-style arguments and run one command over the tree. */
#include "ocivm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dispatch(const struct ocivm_args *a)
{
	switch (a->cmd) {
	case CMD_CREATE: return cmd_create(a, NULL);
	case CMD_START: return cmd_start(a);
	case CMD_STATE: return cmd_state(a);
	case CMD_KILL: return cmd_kill(a);
	case CMD_DELETE: return cmd_delete(a);
	case CMD_RUN: return cmd_run(a);
	case CMD_LIST: return cmd_list(a);
	case CMD_SPEC: return cmd_spec(a);
	case CMD_FEATURES: return cmd_features(a);
	case CMD_PAUSE: return cmd_pause_resume(a, true);
	case CMD_RESUME: return cmd_pause_resume(a, false);
	case CMD_PS: return cmd_ps(a);
	case CMD_MOUNT: return cmd_mount(a);
	case CMD_EXEC: return cmd_exec(a);
	case CMD_EVENTS: return cmd_events(a);
	case CMD_VERSION:
		printf("ocivm version %s\nspec: %s\n", OCIVM_VERSION, OCIVM_SPEC_VERSION);
		return 0;
	case CMD_HELP: case CMD_NONE:
		fputs(ocivm_usage(), stdout);
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct ocivm_args a;
	struct oerr err = { 0 };

	if (ocivm_parse_args(argc, argv, &a, &err) < 0) {
		ocivm_log_setup(a.log_path, a.log_format, a.debug);
		ocivm_fail("%s", err.msg);
		fputs(ocivm_usage(), stderr);
		return 1;
	}
	ocivm_log_setup(a.log_path, a.log_format, a.debug);
	for (size_t i = 0; i < a.n_ignored; i++)
		ocivm_debug("ignoring flag %s", a.ignored[i]);
	if (a.daemon)
		setenv("OCIVMFS", a.daemon, 1); /* read where the daemon is started */
	if (a.help) {
		fputs(ocivm_usage(), stdout);
		return 0;
	}
	ocivm_debug("command %s", a.cmd_name ? a.cmd_name : "(none)");
	return dispatch(&a);
}
