/* RUN/vm.json writer and reader (see record.h), with cJSON. */
#include "record.h"
#include "cleanup.h"
#include "fileio.h"

#include <cjson/cJSON.h>   /* Debian's libcjson-dev; no -I needed this way */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MAX_LEN (1u << 20)
#define RECORD_MAX_ARGS 4096u
#define RECORD_MAX_UINT 9007199254740992.0   /* 2^53: exact in a JSON number */

static void json_free(cJSON **j) { cJSON_Delete(*j); }
#define _cleanup_json_ _cleanup_(json_free)

static int add_str(cJSON *o, const char *key, const char *s)
{
	return cJSON_AddStringToObject(o, key, s ? s : "") ? 0 : -ENOMEM;
}

static int add_num(cJSON *o, const char *key, unsigned long long v)
{
	return cJSON_AddNumberToObject(o, key, (double)v) ? 0 : -ENOMEM;
}

int vm_record_write(const char *path, const struct vm_record *rec)
{
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	cJSON *argv;

	if (!o || add_num(o, "version", 1) < 0 || add_str(o, "driver", rec->driver) < 0 ||
	    add_str(o, "accel", rec->accel) < 0 || add_num(o, "pid", (unsigned long long)rec->pid) < 0 ||
	    add_num(o, "start_time", rec->start_time) < 0 ||
	    add_num(o, "started_unix", rec->started_unix) < 0 || add_num(o, "vcpus", rec->vcpus) < 0 ||
	    add_num(o, "memory_mib", rec->memory_mib) < 0 ||
	    add_str(o, "kernel_cmdline", rec->kernel_cmdline) < 0 ||
	    add_str(o, "chan_sock", rec->chan_sock) < 0 ||
	    add_str(o, "control_sock", rec->control_sock) < 0 ||
	    !(argv = cJSON_AddArrayToObject(o, "argv")))
		return -ENOMEM;
	for (size_t i = 0; i < rec->argc; i++) {
		cJSON *s = cJSON_CreateString(rec->argv[i]);
		if (!s || !cJSON_AddItemToArray(argv, s)) {
			cJSON_Delete(s);
			return -ENOMEM;
		}
	}
	_cleanup_free_ char *text = cJSON_PrintUnformatted(o);
	if (!text)
		return -ENOMEM;
	size_t len = strlen(text);
	_cleanup_free_ char *buf = malloc(len + 2);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len++] = '\n';
	return file_write_atomic(path, buf, len, 0644);
}

/* A member that is absent is 0 / NULL; one of the wrong type is -EINVAL. */
static int get_uint(const cJSON *o, const char *key, unsigned long long max, unsigned long long *ret)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!j)
		return 0;
	double v = cJSON_GetNumberValue(j);
	if (!cJSON_IsNumber(j) || v < 0 || v > (double)max || v >= RECORD_MAX_UINT || floor(v) != v)
		return -EINVAL;
	*ret = (unsigned long long)v;
	return 0;
}

static int get_str(const cJSON *o, const char *key, char **ret)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!j)
		return 0;
	if (!cJSON_IsString(j))
		return -EINVAL;
	free(*ret);
	*ret = strdup(j->valuestring);
	return *ret ? 0 : -ENOMEM;
}

static int get_small(const cJSON *o, const char *key, char *dst, size_t cap)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!j)
		return 0;
	if (!cJSON_IsString(j) || strlen(j->valuestring) >= cap)
		return -EINVAL;
	strcpy(dst, j->valuestring);
	return 0;
}

static int get_argv(const cJSON *o, struct vm_record *rec)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "argv"), *s;
	if (!a)
		return 0;
	if (!cJSON_IsArray(a) || (unsigned)cJSON_GetArraySize(a) > RECORD_MAX_ARGS)
		return -EINVAL;
	rec->argv = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*rec->argv));
	if (!rec->argv)
		return -ENOMEM;
	cJSON_ArrayForEach(s, a) {
		if (!cJSON_IsString(s))
			return -EINVAL;
		if (!(rec->argv[rec->argc] = strdup(s->valuestring)))
			return -ENOMEM;
		rec->argc++;
	}
	return 0;
}

static int get_members(const cJSON *o, struct vm_record *rec, unsigned long long *pid,
		       unsigned long long *vcpus, unsigned long long *mem)
{
	int r;
	if ((r = get_small(o, "driver", rec->driver, sizeof(rec->driver))) < 0 ||
	    (r = get_small(o, "accel", rec->accel, sizeof(rec->accel))) < 0 ||
	    (r = get_uint(o, "pid", 0x7fffffff, pid)) < 0 ||
	    (r = get_uint(o, "start_time", ~0ull, &rec->start_time)) < 0 ||
	    (r = get_uint(o, "started_unix", ~0ull, &rec->started_unix)) < 0 ||
	    (r = get_uint(o, "vcpus", ~0u, vcpus)) < 0 ||
	    (r = get_uint(o, "memory_mib", ~0ull, mem)) < 0 ||
	    (r = get_str(o, "kernel_cmdline", &rec->kernel_cmdline)) < 0 ||
	    (r = get_str(o, "chan_sock", &rec->chan_sock)) < 0 ||
	    (r = get_str(o, "control_sock", &rec->control_sock)) < 0)
		return r;
	return get_argv(o, rec);
}

int vm_record_parse(const char *text, struct vm_record *ret)
{
	struct vm_record rec = { 0 };
	unsigned long long pid = 0, vcpus = 0, mem = 0;
	_cleanup_json_ cJSON *o = cJSON_ParseWithOpts(text, NULL, 1);   /* nothing after it */
	/* unknown keys are skipped: newer writers may add some */
	int r = cJSON_IsObject(o) ? get_members(o, &rec, &pid, &vcpus, &mem) : -EINVAL;

	if (r == 0 && (pid == 0 || !rec.driver[0]))
		r = -EINVAL;
	if (r < 0) {
		vm_record_free(&rec);
		return r;
	}
	rec.pid = (pid_t)pid;
	rec.vcpus = (unsigned)vcpus;
	rec.memory_mib = mem;
	*ret = rec;
	return 0;
}

int vm_record_read(const char *path, struct vm_record *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = file_read_all(path, RECORD_MAX_LEN, &text, NULL);

	if (r < 0)
		return r;
	return vm_record_parse(text, ret);
}

void vm_record_free(struct vm_record *rec)
{
	for (size_t i = 0; i < rec->argc; i++)
		free(rec->argv[i]);
	free(rec->argv);
	free(rec->kernel_cmdline);
	free(rec->chan_sock);
	free(rec->control_sock);
	memset(rec, 0, sizeof(*rec));
}
