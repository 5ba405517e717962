#include "ops/cj.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cj_strv_free(struct cj_strv *sv)
{
	if (!sv)
		return;
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

const char *cj_join(char buf[CJ_PATH_MAX], const char *parent, const char *key)
{
	int n; /* a path cut short is still a good enough message */

	if (parent && *parent)
		n = snprintf(buf, CJ_PATH_MAX, "%s.%s", parent, key);
	else
		n = snprintf(buf, CJ_PATH_MAX, "%s", key);
	(void)n;
	return buf;
}

const char *cj_index(char buf[CJ_PATH_MAX], const char *parent, size_t i)
{
	size_t n = strnlen(parent, CJ_PATH_MAX - 24); /* "[%zu]" fits in 24 */

	memmove(buf, parent, n);
	snprintf(buf + n, CJ_PATH_MAX - n, "[%zu]", i);
	return buf;
}

int cj_member(const cJSON *obj, const char *key, const char *path, unsigned flags,
	      const cJSON **ret, struct oerr *err)
{
	char p[CJ_PATH_MAX];
	const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	if (it && cJSON_IsNull(it))
		it = NULL;
	if (!it && (flags & CJ_REQUIRED))
		return oerr_set(err, EINVAL, "%s: required", cj_join(p, path, key));
	*ret = it;
	return 0;
}

static int cj_typed(const cJSON *obj, const char *key, const char *path, unsigned flags,
		    int (*is)(const cJSON *), const char *what, const cJSON **ret,
		    struct oerr *err)
{
	char p[CJ_PATH_MAX];
	const cJSON *it = NULL;
	int r = cj_member(obj, key, path, flags, &it, err);

	if (r < 0)
		return r;
	if (it && !is(it))
		return oerr_set(err, EINVAL, "%s: must be %s", cj_join(p, path, key), what);
	*ret = it;
	return 0;
}

static int is_object(const cJSON *it) { return cJSON_IsObject(it); }
static int is_array(const cJSON *it) { return cJSON_IsArray(it); }

int cj_object(const cJSON *obj, const char *key, const char *path, unsigned flags,
	      const cJSON **ret, struct oerr *err)
{
	return cj_typed(obj, key, path, flags, is_object, "an object", ret, err);
}

int cj_array(const cJSON *obj, const char *key, const char *path, unsigned flags,
	     size_t max, const cJSON **ret, struct oerr *err)
{
	char p[CJ_PATH_MAX];
	const cJSON *it = NULL;
	int r = cj_typed(obj, key, path, flags, is_array, "an array", &it, err);

	if (r < 0)
		return r;
	if (it && (size_t)cJSON_GetArraySize(it) > max)
		return oerr_set(err, EINVAL, "%s: more than %zu entries", cj_join(p, path, key), max);
	if (it && (flags & CJ_NONEMPTY) && cJSON_GetArraySize(it) == 0)
		return oerr_set(err, EINVAL, "%s: must not be empty", cj_join(p, path, key));
	*ret = it;
	return 0;
}

int cj_string_value(const cJSON *item, const char *path, unsigned flags, size_t max_len,
		    char **ret, struct oerr *err)
{
	if (!cJSON_IsString(item) || !item->valuestring)
		return oerr_set(err, EINVAL, "%s: must be a string", path);
	const char *s = item->valuestring;
	size_t n = strlen(s);
	if (n > max_len)
		return oerr_set(err, EINVAL, "%s: longer than %zu bytes", path, max_len);
	if ((flags & CJ_NONEMPTY) && n == 0)
		return oerr_set(err, EINVAL, "%s: must not be empty", path);
	if ((flags & CJ_ABS) && s[0] != '/')
		return oerr_set(err, EINVAL, "%s: must be an absolute path", path);
	char *c = strdup(s);
	if (!c)
		return oerr_set(err, ENOMEM, "%s: out of memory", path);
	*ret = c;
	return 0;
}

int cj_string(const cJSON *obj, const char *key, const char *path, unsigned flags,
	      size_t max_len, char **ret, struct oerr *err)
{
	char p[CJ_PATH_MAX];
	const cJSON *it = NULL;
	int r = cj_member(obj, key, path, flags, &it, err);

	if (r < 0 || !it)
		return r;
	char *s = NULL;
	r = cj_string_value(it, cj_join(p, path, key), flags, max_len, &s, err);
	if (r < 0)
		return r;
	free(*ret);
	*ret = s;
	return 0;
}

int cj_strv(const cJSON *obj, const char *key, const char *path, unsigned flags,
	    size_t max_items, size_t max_len, struct cj_strv *ret, struct oerr *err)
{
	char p[CJ_PATH_MAX], pi[CJ_PATH_MAX];
	const cJSON *arr = NULL, *it;
	int r = cj_array(obj, key, path, flags, max_items, &arr, err);

	if (r < 0 || !arr)
		return r;
	cj_join(p, path, key);
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return oerr_set(err, ENOMEM, "%s: out of memory", p);
	cJSON_ArrayForEach(it, arr) {
		r = cj_string_value(it, cj_index(pi, p, i), flags & CJ_ABS, max_len, &v[i], err);
		if (r < 0)
			break;
		i++;
	}
	if (r < 0) {
		struct cj_strv tmp = { v, i };
		cj_strv_free(&tmp);
		return r;
	}
	cj_strv_free(ret);
	ret->v = v;
	ret->n = n;
	return 0;
}

int cj_bool(const cJSON *obj, const char *key, const char *path, unsigned flags,
	    bool *ret, struct oerr *err)
{
	char p[CJ_PATH_MAX];
	const cJSON *it = NULL;
	int r = cj_member(obj, key, path, flags, &it, err);

	if (r < 0 || !it)
		return r;
	if (!cJSON_IsBool(it))
		return oerr_set(err, EINVAL, "%s: must be a boolean", cj_join(p, path, key));
	*ret = cJSON_IsTrue(it);
	return 0;
}

static int cj_integral(const cJSON *item, const char *path, double *ret, struct oerr *err)
{
	if (!cJSON_IsNumber(item))
		return oerr_set(err, EINVAL, "%s: must be a number", path);
	double d = item->valuedouble;
	/* doubles beyond 2^63 are integral already; NaN fails d == d */
	if (d != d || (d > -9.2e18 && d < 9.2e18 && d != (double)(int64_t)d))
		return oerr_set(err, EINVAL, "%s: must be an integer", path);
	*ret = d;
	return 0;
}

int cj_u64_value(const cJSON *item, const char *path, uint64_t min, uint64_t max,
		 uint64_t *ret, struct oerr *err)
{
	double d;
	int r = cj_integral(item, path, &d, err);

	if (r < 0)
		return r;
	/* 2^64 is what 18446744073709551615 (e.g. RLIM_INFINITY) parses to */
	if (d < 0 || d > 18446744073709551616.0)
		return oerr_set(err, EINVAL, "%s: out of range", path);
	uint64_t v = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
	if (v < min || v > max)
		return oerr_set(err, EINVAL, "%s: must be between %llu and %llu", path,
				(unsigned long long)min, (unsigned long long)max);
	*ret = v;
	return 0;
}

int cj_u64(const cJSON *obj, const char *key, const char *path, unsigned flags,
	   uint64_t min, uint64_t max, uint64_t *ret, bool *ret_present, struct oerr *err)
{
	char p[CJ_PATH_MAX];
	const cJSON *it = NULL;
	int r = cj_member(obj, key, path, flags, &it, err);

	if (r < 0 || !it)
		return r;
	r = cj_u64_value(it, cj_join(p, path, key), min, max, ret, err);
	if (r == 0 && ret_present)
		*ret_present = true;
	return r;
}

int cj_i64(const cJSON *obj, const char *key, const char *path, unsigned flags,
	   int64_t min, int64_t max, int64_t *ret, bool *ret_present, struct oerr *err)
{
	char p[CJ_PATH_MAX];
	const cJSON *it = NULL;
	double d;
	int r = cj_member(obj, key, path, flags, &it, err);

	if (r < 0 || !it)
		return r;
	cj_join(p, path, key);
	r = cj_integral(it, p, &d, err);
	if (r < 0)
		return r;
	if (d < -9223372036854775808.0 || d >= 9223372036854775808.0 ||
	    (int64_t)d < min || (int64_t)d > max)
		return oerr_set(err, EINVAL, "%s: must be between %lld and %lld", p,
				(long long)min, (long long)max);
	*ret = (int64_t)d;
	if (ret_present)
		*ret_present = true;
	return 0;
}
