/* fs/content: the text of the generated files, made at open (a reader sees
 * one consistent snapshot), and the backing files of the output streams. */
#include "fsd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int text_dup(const char *s, char **ret, size_t *ret_len)
{
	char *d = strdup(s);
	if (!d)
		return -ENOMEM;
	*ret = d;
	*ret_len = strlen(d);
	return 0;
}

/* Make sure a malloc'd text ends in a newline (files a person cats). */
static int text_own(char *s, char **ret, size_t *ret_len)
{
	size_t n = strlen(s);
	if (n && s[n - 1] != '\n') {
		char *t = realloc(s, n + 2);
		if (!t) {
			free(s);
			return -ENOMEM;
		}
		s = t;
		s[n++] = '\n';
		s[n] = '\0';
	}
	*ret = s;
	*ret_len = n;
	return 0;
}

/* ID/exec/NAME/{status,pid,exit,times}; times: the guest's figures once it
 * stopped (ocivm-init's, vm.h vm_proc_times), empty before or without */
static int ex_text(struct fsd *fs, const struct node *n, const char *id, char **ret,
		   size_t *ret_len, struct oerr *err)
{
	struct ops_exec_info ei;
	char buf[64] = "";
	int r = ops_exec_get(fs->ops, id, NULL, (unsigned)n->exec, &ei, err);

	if (r < 0)
		return r;
	if (strcmp(n->name, "status") == 0)
		snprintf(buf, sizeof(buf), "%s\n", ops_status_name(ei.status));
	else if (strcmp(n->name, "pid") == 0 && ei.pid > 0)
		snprintf(buf, sizeof(buf), "%d\n", (int)ei.pid);
	else if (strcmp(n->name, "exit") == 0 && ei.status == OPS_STOPPED)
		snprintf(buf, sizeof(buf), ei.exited ? "%d\n" : "unknown\n", ei.exit_status);
	else if (strcmp(n->name, "times") == 0 && ei.status == OPS_STOPPED && ei.spawn_us >= 0)
		snprintf(buf, sizeof(buf), "spawn_us=%lld guest_us=%lld\n",
			 (long long)ei.spawn_us, (long long)ei.guest_us);
	return text_dup(buf, ret, ret_len);
}

static int ct_text(struct fsd *fs, const struct node *n, const char *id, char **ret,
		   size_t *ret_len, struct oerr *err)
{
	struct ops_info info;
	char buf[64] = "", line[FS_LINE_MAX + 1];
	char *s = NULL;
	int r;

	if (n->exec)
		return ex_text(fs, n, id, ret, ret_len, err);
	if (n->sub >= CT_IDX_VMFILE) {
		if (strcmp(n->name, "last_error") == 0 &&
		    fsd_slot_last_error(fs, id, line, sizeof(line)))
			return text_dup(line, ret, ret_len);
		r = ops_vm_file(fs->ops, id, n->name, &s, err);
		return r < 0 ? r : text_own(s, ret, ret_len);
	}
	if (strcmp(n->name, "state") == 0 || strcmp(n->name, "config.json") == 0) {
		r = n->name[0] == 's' ? ops_state_json(fs->ops, id, &s, err)
				      : ops_config_json(fs->ops, id, &s, err);
		return r < 0 ? r : text_own(s, ret, ret_len);
	}
	r = ops_get(fs->ops, id, &info, err);
	if (r < 0)
		return r;
	if (strcmp(n->name, "status") == 0)
		snprintf(buf, sizeof(buf), "%s\n", ops_status_name(info.status));
	else if (strcmp(n->name, "pid") == 0 && info.pid > 0)
		snprintf(buf, sizeof(buf), "%d\n", (int)info.pid);
	else if (strcmp(n->name, "exit") == 0 && info.status == OPS_STOPPED && info.exited)
		snprintf(buf, sizeof(buf), "%d\n", info.exit_status);
	return text_dup(buf, ret, ret_len);
}

static const char gctl_usage[] =
	"write one command per write(2):\n"
	"  create ID /abs/bundle [pid=N] [terminal=0|1]\n"
	"  start ID | kill ID [SIGNAL] | delete ID [force] | pause ID | resume ID\n"
	"  exec ID NAME /abs/process.json | resize ID ROWS COLS\n";
static const char ctl_usage[] =
	"write one command: start | kill [SIGNAL] | delete [force] | pause | resume\n"
	"  | exec NAME /abs/process.json | resize ROWS COLS\n";
static const char ex_ctl_usage[] = "write one command: kill [SIGNAL] | resize ROWS COLS\n";

int fsd_content(struct fsd *fs, const struct node *n, const char *id, char **ret,
		size_t *ret_len, struct oerr *err)
{
	char *s = NULL;
	int r;

	switch (n->ino) {
	case INO_README:
		return text_dup(fsd_readme, ret, ret_len);
	case INO_FEATURES:
		r = ops_features_json(&s);
		return r < 0 ? r : text_own(s, ret, ret_len);
	case INO_LOG:
		return fsd_log_snapshot(fs, ret, ret_len);
	case INO_HYPERVISOR:
		s = strdup(ops_hypervisor_line(fs->ops));
		return s ? text_own(s, ret, ret_len) : -ENOMEM;
	case INO_CTL:
		return text_dup(gctl_usage, ret, ret_len);
	}
	if (fsd_is_tpl_ino(n->ino))
		return fsd_tpl_text(fs, n, id, ret, ret_len);
	if (n->kind == FK_CTL)
		return text_dup(n->exec ? ex_ctl_usage : ctl_usage, ret, ret_len);
	if (n->slot && id && id[0])
		return ct_text(fs, n, id, ret, ret_len, err);
	return -ENOENT;
}

/* Length of a text as text_own would leave it (a newline added). */
static size_t own_len(const char *s)
{
	size_t n = strlen(s);
	return n && s[n - 1] != '\n' ? n + 1 : n;
}

/* Render the text only to count it. */
static int size_by_render(struct fsd *fs, const struct node *n, const char *id, size_t *ret)
{
	char *text = NULL;
	int r = fsd_content(fs, n, id, &text, ret, NULL);
	free(text);
	return r;
}

/* state and config.json: their length is remembered with what the text
 * depends on (the container instance; for state its status and pid: the
 * rest of it, id, bundle, annotations, created, never changes), so a stat
 * renders them once per change, not once per call.  The key read again
 * after rendering must be the same, else the text may belong to the next
 * change and is not kept. */
static int ct_size_memo(struct fsd *fs, const struct node *n, const char *id, int which,
			size_t *ret)
{
	struct ops_info a, b;
	struct fsd_memo_key ka, kb;
	int r = ops_get(fs->ops, id, &a, NULL);

	if (r < 0)
		return r;
	ka = (struct fsd_memo_key){ .serial = a.serial };
	if (which == FSD_MEMO_STATE)
		ka.status = (int)a.status, ka.pid = a.pid;
	if (fsd_slot_memo_get(fs, id, which, &ka, ret))
		return 0;
	if ((r = size_by_render(fs, n, id, ret)) < 0)
		return r;
	if (ops_get(fs->ops, id, &b, NULL) < 0)
		return 0;
	kb = (struct fsd_memo_key){ .serial = b.serial };
	if (which == FSD_MEMO_STATE)
		kb.status = (int)b.status, kb.pid = b.pid;
	if (ka.serial == kb.serial && ka.status == kb.status && ka.pid == kb.pid)
		fsd_slot_memo_put(fs, id, which, &ka, *ret);
	return 0;
}

int fsd_content_size(struct fsd *fs, const struct node *n, const char *id, size_t *ret)
{
	static size_t features_len;   /* constant for the process */
	size_t len;

	switch (n->ino) {
	case INO_README:
		*ret = strlen(fsd_readme);
		return 0;
	case INO_FEATURES:
		if ((len = __atomic_load_n(&features_len, __ATOMIC_RELAXED)))
			return *ret = len, 0;
		int r = size_by_render(fs, n, id, ret);
		if (r == 0)
			__atomic_store_n(&features_len, *ret, __ATOMIC_RELAXED);
		return r;
	case INO_LOG:
		*ret = fsd_log_size(fs);
		return 0;
	case INO_HYPERVISOR:
		*ret = own_len(ops_hypervisor_line(fs->ops));
		return 0;
	case INO_CTL:
		*ret = strlen(gctl_usage);
		return 0;
	}
	if (n->kind == FK_CTL) {
		*ret = strlen(n->exec ? ex_ctl_usage : ctl_usage);
		return 0;
	}
	if (n->slot && id && id[0] && !n->exec && n->sub < CT_IDX_VMFILE) {
		if (strcmp(n->name, "state") == 0)
			return ct_size_memo(fs, n, id, FSD_MEMO_STATE, ret);
		if (strcmp(n->name, "config.json") == 0)
			return ct_size_memo(fs, n, id, FSD_MEMO_CONFIG, ret);
	}
	return size_by_render(fs, n, id, ret);   /* a few bytes: status, pid, vm/ files */
}

/* Open the backing file of a stream (it may appear only once the VM
 * writes); leaves fh->fd at -1 while it does not exist. */
int fsd_stream_open(struct fsd *fs, struct fh *fh)
{
	char path[4096];
	int r = ops_stream_path(fs->ops, fh->id, fh->node.sub, path, sizeof(path));

	if (r < 0)
		return r;
	fh->fd = open(path, O_RDONLY | O_CLOEXEC);
	return fh->fd < 0 ? -errno : 0;
}
