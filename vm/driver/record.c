/* RUN/vm.json writer and reader (see record.h). */
#include "record.h"
#include "cleanup.h"
#include "fileio.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MAX_LEN (1u << 20)
#define RECORD_MAX_ARGS 4096u

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int vm_record_write(const char *path, const struct vm_record *rec)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "{\"version\":1,\"driver\":");
	put_str(f, rec->driver);
	fprintf(f, ",\"accel\":");
	put_str(f, rec->accel);
	fprintf(f, ",\"pid\":%d,\"start_time\":%llu,\"started_unix\":%llu,\"vcpus\":%u,"
		"\"memory_mib\":%llu,\"kernel_cmdline\":", (int)rec->pid, rec->start_time,
		rec->started_unix, rec->vcpus, (unsigned long long)rec->memory_mib);
	put_str(f, rec->kernel_cmdline);
	fprintf(f, ",\"chan_sock\":");
	put_str(f, rec->chan_sock);
	fprintf(f, ",\"control_sock\":");
	put_str(f, rec->control_sock);
	fprintf(f, ",\"argv\":[");
	for (size_t i = 0; i < rec->argc; i++) {
		if (i)
			fputc(',', f);
		put_str(f, rec->argv[i]);
	}
	fprintf(f, "]}\n");
	if (fclose(f) != 0)
		return -ENOMEM;
	return file_write_atomic(path, buf, len, 0644);
}

struct jp {
	const char *p;
};

static void jp_ws(struct jp *j)
{
	while (isspace((unsigned char)*j->p))
		j->p++;
}

static int jp_expect(struct jp *j, char c)
{
	jp_ws(j);
	if (*j->p != c)
		return -EINVAL;
	j->p++;
	return 0;
}

/* A JSON string into a malloc'd buffer (\uXXXX below 0x80 only: we write
 * nothing else). */
static int jp_string(struct jp *j, char **ret)
{
	if (jp_expect(j, '"') < 0)
		return -EINVAL;
	const char *start = j->p;
	size_t n = 0;
	while (start[n] && start[n] != '"')
		n += start[n] == '\\' && start[n + 1] ? 2 : 1;
	if (start[n] != '"')
		return -EINVAL;
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return -ENOMEM;
	for (const char *s = start; s < start + n; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		s++;
		if (*s == 'u') {
			unsigned v;
			if (sscanf(s + 1, "%4x", &v) != 1 || v == 0 || v > 0x7f || s + 4 >= start + n) {
				free(out);
				return -EINVAL;
			}
			*o++ = (char)v;
			s += 4;
		} else {
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		}
	}
	*o = '\0';
	j->p = start + n + 1;
	*ret = out;
	return 0;
}

static int jp_uint(struct jp *j, unsigned long long *ret)
{
	char *end;
	jp_ws(j);
	if (!isdigit((unsigned char)*j->p))
		return -EINVAL;
	errno = 0;
	*ret = strtoull(j->p, &end, 10);
	if (errno)
		return -EINVAL;
	j->p = end;
	return 0;
}

static int jp_argv(struct jp *j, struct vm_record *rec)
{
	if (jp_expect(j, '[') < 0)
		return -EINVAL;
	jp_ws(j);
	if (*j->p == ']')
		return j->p++, 0;
	for (;;) {
		char *s;
		if (rec->argc >= RECORD_MAX_ARGS)
			return -EINVAL;
		int r = jp_string(j, &s);
		if (r < 0)
			return r;
		char **nv = realloc(rec->argv, (rec->argc + 2) * sizeof(*nv));
		if (!nv)
			return free(s), -ENOMEM;
		rec->argv = nv;
		rec->argv[rec->argc++] = s;
		rec->argv[rec->argc] = NULL;
		jp_ws(j);
		if (*j->p == ']')
			return j->p++, 0;
		if (jp_expect(j, ',') < 0)
			return -EINVAL;
	}
}

static int copy_small(char *dst, size_t cap, char *src)
{
	int r = strlen(src) < cap ? 0 : -EINVAL;
	if (r == 0)
		strcpy(dst, src);
	free(src);
	return r;
}

static int jp_member(struct jp *j, const char *key, struct vm_record *rec)
{
	unsigned long long v = 0;
	char *s = NULL;
	int r;

	if (strcmp(key, "argv") == 0)
		return jp_argv(j, rec);
	jp_ws(j);
	if (*j->p == '"') {
		r = jp_string(j, &s);
		if (r < 0)
			return r;
		if (strcmp(key, "driver") == 0)
			return copy_small(rec->driver, sizeof(rec->driver), s);
		if (strcmp(key, "accel") == 0)
			return copy_small(rec->accel, sizeof(rec->accel), s);
		char **slot = strcmp(key, "kernel_cmdline") == 0 ? &rec->kernel_cmdline :
			      strcmp(key, "chan_sock") == 0 ? &rec->chan_sock :
			      strcmp(key, "control_sock") == 0 ? &rec->control_sock : NULL;
		if (slot) {
			free(*slot);
			*slot = s;
		} else {
			free(s);   /* unknown keys are skipped: newer writers may add some */
		}
		return 0;
	}
	r = jp_uint(j, &v);
	if (r < 0)
		return r;
	if (strcmp(key, "pid") == 0)
		rec->pid = (pid_t)v;
	else if (strcmp(key, "start_time") == 0)
		rec->start_time = v;
	else if (strcmp(key, "started_unix") == 0)
		rec->started_unix = v;
	else if (strcmp(key, "vcpus") == 0)
		rec->vcpus = (unsigned)v;
	else if (strcmp(key, "memory_mib") == 0)
		rec->memory_mib = v;
	return 0;
}

int vm_record_parse(const char *text, struct vm_record *ret)
{
	struct vm_record rec = { 0 };
	struct jp j = { text };
	int r = jp_expect(&j, '{');

	while (r == 0) {
		_cleanup_free_ char *key = NULL;
		r = jp_string(&j, &key);
		if (r == 0)
			r = jp_expect(&j, ':');
		if (r == 0)
			r = jp_member(&j, key, &rec);
		if (r < 0)
			break;
		jp_ws(&j);
		if (*j.p == '}')
			break;
		r = jp_expect(&j, ',');
	}
	if (r == 0 && (rec.pid <= 0 || !rec.driver[0]))
		r = -EINVAL;
	if (r < 0) {
		vm_record_free(&rec);
		return r;
	}
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
