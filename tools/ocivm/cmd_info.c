/* state, list, ps, features: what the tree shows, in runc's shapes. */
#include "ocivm.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"

int cmd_state(const struct ocivm_args *a)
{
	struct ocivm_tree t;
	_cleanup_free_ char *s = NULL;
	int r;

	if (a->n_pos < 1 || !ocivm_id_valid(a->pos[0], NULL))
		return ocivm_fail(a->n_pos < 1 ? "state: requires a container id"
					       : "container does not exist");
	if (cmd_open_tree(a, &t, false))
		return 1;
	r = tree_read(&t, a->pos[0], "state", &s);
	if (r == -ENOENT)
		return ocivm_fail("container does not exist");
	if (r < 0)
		return ocivm_fail("state of %s: %s", a->pos[0], strerror(-r));
	printf("%s\n", s);
	return 0;
}

struct row {
	char id[256], status[32], bundle[1024], created[64];
	long pid;
};

static void row_fill(const struct ocivm_tree *t, const char *id, struct row *r)
{
	_cleanup_free_ char *s = NULL;
	cJSON *j, *v;

	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->status, sizeof(r->status), "unknown");
	if (tree_read(t, id, "state", &s) < 0 || !(j = cJSON_Parse(s)))
		return;
	if (cJSON_IsString(v = cJSON_GetObjectItem(j, "status")))
		snprintf(r->status, sizeof(r->status), "%s", v->valuestring);
	if (cJSON_IsString(v = cJSON_GetObjectItem(j, "bundle")))
		snprintf(r->bundle, sizeof(r->bundle), "%s", v->valuestring);
	if (cJSON_IsString(v = cJSON_GetObjectItem(j, "created")))
		snprintf(r->created, sizeof(r->created), "%s", v->valuestring);
	if (cJSON_IsNumber(v = cJSON_GetObjectItem(j, "pid")))
		r->pid = (long)v->valuedouble;
	cJSON_Delete(j);
}

static cJSON *row_json(const struct row *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "ociVersion", OCIVM_SPEC_VERSION);
	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddNumberToObject(o, "pid", (double)r->pid);
	cJSON_AddStringToObject(o, "status", r->status);
	cJSON_AddStringToObject(o, "bundle", r->bundle);
	cJSON_AddStringToObject(o, "rootfs", "");
	cJSON_AddStringToObject(o, "created", r->created);
	cJSON_AddStringToObject(o, "owner", "root");
	return o;
}

static int list_print(const struct ocivm_args *a, const struct ocivm_tree *t, DIR *d)
{
	bool json = a->format && !strcmp(a->format, "json");
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	struct dirent *de;
	struct row r;

	if (!json && !a->quiet)
		printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (a->quiet) {
			printf("%s\n", de->d_name);
			continue;
		}
		row_fill(t, de->d_name, &r);
		if (json)
			cJSON_AddItemToArray(arr, row_json(&r));
		else
			printf("%-20s %-8ld %-10s %-40s %-30s %s\n", r.id, r.pid, r.status,
			       r.bundle, r.created, "root");
	}
	if (json) {
		char *s = cJSON_PrintUnformatted(arr);
		printf("%s\n", s ? s : "[]");
		free(s);
		cJSON_Delete(arr);
	}
	return 0;
}

int cmd_list(const struct ocivm_args *a)
{
	struct ocivm_tree t;
	struct oerr err = { 0 };
	char path[4200];
	DIR *d = NULL;
	int r;

	if (a->format && strcmp(a->format, "json") && strcmp(a->format, "table"))
		return ocivm_fail("invalid format option %s", a->format);
	/* No tree mounted yet: no containers, as runc says for an empty root. */
	if (tree_open(&t, a->root, false, &err) == 0) {
		tree_path(&t, NULL, "containers", path, sizeof(path));
		if (!(d = opendir(path)))
			return ocivm_fail("%s: %s", path, strerror(errno));
	}
	r = list_print(a, &t, d);
	if (d)
		closedir(d);
	return r;
}

/* The container's processes live in the guest; the host process standing
 * for them is the shim (state.pid), so that is what ps shows. */
int cmd_ps(const struct ocivm_args *a)
{
	struct ocivm_tree t;
	_cleanup_free_ char *pid = NULL;
	bool json = a->format && !strcmp(a->format, "json");

	if (a->n_pos < 1 || !ocivm_id_valid(a->pos[0], NULL))
		return ocivm_fail("ps: requires a container id");
	if (cmd_open_tree(a, &t, false))
		return 1;
	if (!tree_exists(&t, a->pos[0]))
		return ocivm_fail("container does not exist");
	if (tree_read(&t, a->pos[0], "pid", &pid) < 0 || atoi(pid) <= 0) {
		printf(json ? "[]\n" : "PID CMD\n");
		return 0;
	}
	if (json)
		printf("[%d]\n", atoi(pid));
	else
		printf("PID CMD\n%d ocivm-shim (the container runs in its VM)\n", atoi(pid));
	return 0;
}

/* runc events: one stats object (--stats) or one every interval until the
 * container stops.  The VM's counters are not mapped to cgroup stats yet,
 * so data is empty. */
int cmd_events(const struct ocivm_args *a)
{
	struct ocivm_tree t;
	char status[32];
	int ms = a->interval_ms > 0 ? a->interval_ms : 5000;

	if (a->n_pos < 1 || !ocivm_id_valid(a->pos[0], NULL))
		return ocivm_fail("events: requires a container id");
	if (cmd_open_tree(a, &t, false))
		return 1;
	for (;;) {
		tree_status(&t, a->pos[0], status, sizeof(status));
		if (!*status)
			return ocivm_fail("container does not exist");
		if (!strcmp(status, "stopped") && !a->stats)
			return 0;
		printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":{}}\n", a->pos[0]);
		fflush(stdout);
		if (a->stats)
			return 0;
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static const char builtin_features[] =
	"{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"" OCIVM_SPEC_VERSION "\","
	"\"hooks\":[\"prestart\",\"createRuntime\",\"createContainer\",\"startContainer\","
	"\"poststart\",\"poststop\"],"
	"\"mountOptions\":[],\"linux\":{\"namespaces\":[],\"capabilities\":[]},"
	"\"annotations\":{\"org.opencontainers.runtime-spec.features.vm\":\"true\"}}";

int cmd_features(const struct ocivm_args *a)
{
	struct ocivm_tree t;
	struct oerr err = { 0 };
	_cleanup_free_ char *s = NULL;

	if (tree_open(&t, a->root, false, &err) == 0 && tree_read(&t, NULL, "features.json", &s) == 0)
		printf("%s\n", s);
	else
		printf("%s\n", builtin_features);
	return 0;
}

/* Not a runc command: starts the tree outside any caller's subreaper (at
 * boot, or before podman/containerd use it), so the daemon is not adopted
 * by the first container's conmon or shim. */
int cmd_mount(const struct ocivm_args *a)
{
	struct ocivm_tree t;

	if (cmd_open_tree(a, &t, true))
		return 1;
	printf("%s\n", t.mount);
	return 0;
}
