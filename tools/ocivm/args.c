/* Command line parsing in the manner of runc (urfave/cli): global flags
 * before the command, command flags after it, "-x", "--x", "-x=v", "--x=v"
 * and "-x v" spellings alike.  Flags callers pass that mean nothing here
 * (--systemd-cgroup, --no-pivot, ...) are accepted and recorded for a debug
 * line; unknown ones too, so a new podman does not break us. */
#include "ocivm.h"
#include "ops/ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum flag_id {
	F_IGNORE, F_IGNORE_V, F_ROOT, F_LOG, F_LOG_FORMAT, F_DEBUG, F_HELP, F_VERSION,
	F_BUNDLE, F_PID_FILE, F_CONSOLE_SOCKET, F_PRESERVE_FDS, F_DETACH, F_FORCE,
	F_FORMAT, F_QUIET, F_ALL, F_KERNEL, F_DAEMON, F_STATS, F_INTERVAL,
	F_TTY, F_PROCESS, F_CWD, F_ENV, F_USER, F_GIDS, F_CAP, F_NNP,
};

struct flag {
	const char *name;
	char shrt;
	enum flag_id id;
	bool value;
};

static const struct flag global_flags[] = {
	{ "root", 0, F_ROOT, true },
	{ "log", 0, F_LOG, true },
	{ "log-format", 0, F_LOG_FORMAT, true },
	{ "debug", 0, F_DEBUG, false },
	{ "ocivmfs", 0, F_DAEMON, true },
	{ "systemd-cgroup", 0, F_IGNORE, false },
	{ "criu", 0, F_IGNORE_V, true },
	{ "rootless", 0, F_IGNORE_V, true },
	{ "help", 'h', F_HELP, false },
	{ "version", 'v', F_VERSION, false },
	{ NULL, 0, 0, false },
};

/* Flags of every command; 'f' is resolved per command (force vs format). */
static const struct flag cmd_flags[] = {
	{ "bundle", 'b', F_BUNDLE, true },
	{ "pid-file", 0, F_PID_FILE, true },
	{ "console-socket", 0, F_CONSOLE_SOCKET, true },
	{ "preserve-fds", 0, F_PRESERVE_FDS, true },
	{ "detach", 'd', F_DETACH, false },
	{ "force", 0, F_FORCE, false },
	{ "format", 0, F_FORMAT, true },
	{ "quiet", 'q', F_QUIET, false },
	{ "all", 'a', F_ALL, false },
	{ "kernel", 0, F_KERNEL, true },
	{ "help", 'h', F_HELP, false },
	{ "no-pivot", 0, F_IGNORE, false },
	{ "no-new-keyring", 0, F_IGNORE, false },
	{ "no-subreaper", 0, F_IGNORE, false },
	{ "keep", 0, F_IGNORE, false },
	{ "rootless", 0, F_IGNORE, false },
	{ "stats", 0, F_STATS, false },
	{ "tty", 't', F_TTY, false },
	{ "notify-socket", 0, F_IGNORE_V, true },
	{ "interval", 0, F_INTERVAL, true },
	{ "process", 'p', F_PROCESS, true },
	{ "cwd", 0, F_CWD, true },
	{ "env", 'e', F_ENV, true },
	{ "user", 'u', F_USER, true },
	{ "no-new-privs", 0, F_NNP, false },
	{ "cgroup", 0, F_IGNORE_V, true },
	{ "process-label", 0, F_IGNORE_V, true },
	{ "apparmor", 0, F_IGNORE_V, true },
	{ "additional-gids", 'g', F_GIDS, true },
	{ "cap", 'c', F_CAP, true },
	{ NULL, 0, 0, false },
};

static const struct { const char *name; enum ocivm_cmd cmd; } commands[] = {
	{ "create", CMD_CREATE }, { "start", CMD_START }, { "state", CMD_STATE },
	{ "kill", CMD_KILL }, { "delete", CMD_DELETE }, { "run", CMD_RUN },
	{ "list", CMD_LIST }, { "spec", CMD_SPEC }, { "features", CMD_FEATURES },
	{ "exec", CMD_EXEC }, { "pause", CMD_PAUSE }, { "resume", CMD_RESUME },
	{ "ps", CMD_PS }, { "events", CMD_EVENTS }, { "help", CMD_HELP },
	{ "version", CMD_VERSION }, { "mount", CMD_MOUNT },
};

bool ocivm_id_valid(const char *id, struct oerr *err)
{
	return ops_id_valid(id, err) == 0;
}

enum ocivm_cmd ocivm_cmd_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].cmd;
	return CMD_NONE;
}

/* "-x", "--name", "-name", "--name=v": the name part (without dashes) and
 * the inline value (NULL when none).  name is copied into nbuf. */
static void split_flag(const char *arg, char *nbuf, size_t n, const char **ret_val)
{
	const char *s = arg + (arg[1] == '-' ? 2 : 1);
	const char *eq = strchr(s, '=');
	size_t len = eq ? (size_t)(eq - s) : strlen(s);

	if (len >= n)
		len = n - 1;
	memcpy(nbuf, s, len);
	nbuf[len] = '\0';
	*ret_val = eq ? eq + 1 : NULL;
}

static const struct flag *find_flag(const struct flag *tbl, const char *name, enum ocivm_cmd cmd)
{
	static const struct flag f_force = { "f", 'f', F_FORCE, false };
	static const struct flag f_format = { "f", 'f', F_FORMAT, true };

	if (!strcmp(name, "f") && tbl == cmd_flags)
		return cmd == CMD_DELETE ? &f_force : &f_format;
	for (; tbl->name; tbl++)
		if (!strcmp(tbl->name, name) || (tbl->shrt && !name[1] && name[0] == tbl->shrt))
			return tbl;
	return NULL;
}

static int set_flag(struct ocivm_args *a, const struct flag *f, const char *arg,
		    const char *val, struct oerr *err)
{
	switch (f->id) {
	case F_IGNORE: case F_IGNORE_V:
		if (a->n_ignored < sizeof(a->ignored) / sizeof(a->ignored[0]))
			a->ignored[a->n_ignored++] = arg;
		return 0;
	case F_ROOT: a->root = val; return 0;
	case F_LOG: a->log_path = val; return 0;
	case F_LOG_FORMAT:
		if (!strcmp(val, "json"))
			a->log_format = LOGF_JSON;
		else if (!strcmp(val, "text"))
			a->log_format = LOGF_TEXT;
		else
			return oerr_set(err, EINVAL, "invalid log format %s", val);
		return 0;
	case F_DEBUG: a->debug = true; return 0;
	case F_HELP: a->help = true; return 0;
	case F_VERSION: a->cmd = CMD_VERSION; return 0;
	case F_BUNDLE: a->bundle = val; return 0;
	case F_PID_FILE: a->pid_file = val; return 0;
	case F_CONSOLE_SOCKET: a->console_socket = val; return 0;
	case F_PRESERVE_FDS: {
		char *end;
		long v = strtol(val, &end, 10);
		if (*end || v < 0 || v > 1024)
			return oerr_set(err, EINVAL, "invalid --preserve-fds %s", val);
		a->preserve_fds = (int)v;
		return 0;
	}
	case F_DETACH: a->detach = true; return 0;
	case F_FORCE: a->force = true; return 0;
	case F_FORMAT: a->format = val; return 0;
	case F_QUIET: a->quiet = true; return 0;
	case F_ALL: a->all = true; return 0;
	case F_KERNEL: a->kernel = val; return 0;
	case F_DAEMON: a->daemon = val; return 0;
	case F_STATS: a->stats = true; return 0;
	case F_TTY: a->tty = true; return 0;
	case F_PROCESS: a->process = val; return 0;
	case F_CWD: a->cwd = val; return 0;
	case F_USER: a->user = val; return 0;
	case F_NNP: a->no_new_privs = true; return 0;
	case F_ENV: case F_GIDS: case F_CAP: {
		/* repeatable: -e A=1 -e B=2, --cap CAP_X --cap CAP_Y */
		const char **v = f->id == F_ENV ? a->env : f->id == F_CAP ? a->caps : a->gids;
		size_t *n = f->id == F_ENV ? &a->n_env : f->id == F_CAP ? &a->n_caps : &a->n_gids;
		if (*n >= OCIVM_MAX_LIST)
			return oerr_set(err, E2BIG, "too many %s flags (at most %d)", arg,
					OCIVM_MAX_LIST);
		v[(*n)++] = val;
		return 0;
	}
	case F_INTERVAL: {
		/* "5s", "500ms", "2" (seconds) as runc's Go duration, roughly */
		char *end;
		double v = strtod(val, &end);
		double ms = !strcmp(end, "ms") ? v : (!*end || !strcmp(end, "s")) ? v * 1000 : -1;
		if (ms < 1 || ms > 86400000.0)
			return oerr_set(err, EINVAL, "invalid --interval %s", val);
		a->interval_ms = (int)ms;
		return 0;
	}
	}
	return 0;
}

/* Parses the flag at argv[*i] (advancing *i past its value). */
static int parse_flag(int argc, char **argv, int *i, const struct flag *tbl,
		      struct ocivm_args *a, struct oerr *err)
{
	char name[64];
	const char *val;
	const char *arg = argv[*i];
	const struct flag *f;

	split_flag(arg, name, sizeof(name), &val);
	f = find_flag(tbl, name, a->cmd);
	if (!f) {
		/* unknown: ignored; "--x=v" carries its value, "--x" is a switch */
		if (a->n_ignored < sizeof(a->ignored) / sizeof(a->ignored[0]))
			a->ignored[a->n_ignored++] = arg;
		return 0;
	}
	if (f->value && !val) {
		if (*i + 1 >= argc)
			return oerr_set(err, EINVAL, "flag needs an argument: %s", arg);
		val = argv[++*i];
	} else if (!f->value && val && strcmp(val, "true") && strcmp(val, "false")) {
		return oerr_set(err, EINVAL, "flag takes no value: %s", arg);
	} else if (!f->value && val && !strcmp(val, "false")) {
		return 0;
	}
	return set_flag(a, f, arg, val, err);
}

static bool is_flag(const char *s) { return s[0] == '-' && s[1] != '\0'; }

int ocivm_parse_args(int argc, char **argv, struct ocivm_args *a, struct oerr *err)
{
	int i = 1, r;
	bool flags_done = false;

	memset(a, 0, sizeof(*a));
	a->preserve_fds = 0;
	for (; i < argc && is_flag(argv[i]); i++)
		if ((r = parse_flag(argc, argv, &i, global_flags, a, err)) < 0)
			return r;
	if (i >= argc) {
		if (a->cmd == CMD_NONE)
			a->cmd = CMD_HELP;
		return 0;
	}
	a->cmd_name = argv[i];
	a->cmd = ocivm_cmd_lookup(argv[i]);
	if (a->cmd == CMD_NONE)
		return oerr_set(err, EINVAL, "unknown command %s", argv[i]);
	for (i++; i < argc; i++) {
		if (!flags_done && !strcmp(argv[i], "--")) {
			flags_done = true;
		} else if (!flags_done && is_flag(argv[i])) {
			if ((r = parse_flag(argc, argv, &i, cmd_flags, a, err)) < 0)
				return r;
		} else {
			if (a->n_pos >= OCIVM_MAX_POS)
				return oerr_set(err, EINVAL, "too many arguments");
			a->pos[a->n_pos++] = argv[i];
			if (a->cmd == CMD_EXEC) {
				/* after the ID: the process's argv, however long */
				a->exec_args = (const char *const *)argv + i + 1;
				a->n_exec_args = (size_t)(argc - i - 1);
				break;
			}
		}
	}
	return 0;
}

const char *ocivm_usage(void)
{
	return
"usage: ocivm [global flags] COMMAND [flags] [ID]\n"
"\n"
"An OCI runtime whose containers run in their own KVM virtual machines;\n"
"it drives a mounted ocivmfs tree (see MOUNT/README).\n"
"\n"
"Global flags:\n"
"  --root DIR         the mounted tree, or a state root holding it at DIR/mnt\n"
"                     (started there as needed; default " OCIVM_DEFAULT_ROOT ")\n"
"  --log PATH         append log lines to PATH\n"
"  --log-format FMT   text (default) or json\n"
"  --debug            log debug lines too\n"
"  --ocivmfs PATH     the daemon to start under --root (default: ocivmfs\n"
"                     next to ocivm, else from PATH; or $OCIVMFS)\n"
"  --systemd-cgroup, --criu, --rootless: accepted, ignored\n"
"\n"
"Commands:\n"
"  create [--bundle DIR] [--pid-file PATH] [--console-socket PATH] ID\n"
"  start ID             run the created container's process\n"
"  state ID             OCI state JSON\n"
"  kill [--all] ID [SIGNAL]   default TERM; KILL, SIGKILL or 9\n"
"  delete [--force] ID\n"
"  run [-d] [--bundle DIR] [--pid-file PATH] [--console-socket PATH] ID\n"
"  list [-f table|json] [-q]\n"
"  spec [--bundle DIR] [--kernel PATH]   write a busybox-style config.json\n"
"  features             OCI features document\n"
"  exec [--process FILE] [-t] [-d] [--pid-file PATH] [--console-socket PATH]\n"
"       [-e K=V] [--cwd DIR] [-u UID[:GID]] [-g GID] [--cap CAP] [--no-new-privs]\n"
"       ID [CMD ARGS...]     run one more process in a running container\n"
"  pause ID | resume ID | ps [-f json] ID\n"
"  events [--stats] [--interval 5s] ID   stats (empty data) until it stops\n"
"  mount                (ocivm's own) mount the tree under --root if it is\n"
"                       not mounted, print where it is\n"
"  --version | --help\n";
}
