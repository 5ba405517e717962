/* Typed, bounded readers over cJSON values for the config parser.  Every
 * reader names the JSON path in its error ("process.args[2]: must be a
 * string").  An absent optional member returns 0 and leaves *ret alone; a
 * JSON null counts as absent.  Only ops/ includes this (cJSON stays here). */
#ifndef OCIVM_OPS_CJ_H
#define OCIVM_OPS_CJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

#define CJ_PATH_MAX 192

enum {
	CJ_REQUIRED = 1 << 0,  /* absent member is an error */
	CJ_ABS      = 1 << 1,  /* string must be an absolute path */
	CJ_NONEMPTY = 1 << 2,  /* string (or array) must not be empty */
};

struct cj_strv {
	char **v;
	size_t n;
};
void cj_strv_free(struct cj_strv *sv);

/* "parent.key" (or "key" at the top) into buf. */
const char *cj_join(char buf[CJ_PATH_MAX], const char *parent, const char *key);
/* "parent[i]" into buf. */
const char *cj_index(char buf[CJ_PATH_MAX], const char *parent, size_t i);

/* The member, or NULL when absent/null; -EINVAL when required and absent. */
int cj_member(const cJSON *obj, const char *key, const char *path, unsigned flags,
	      const cJSON **ret, struct oerr *err);
int cj_object(const cJSON *obj, const char *key, const char *path, unsigned flags,
	      const cJSON **ret, struct oerr *err);
/* An array with at most max items (NULL when absent). */
int cj_array(const cJSON *obj, const char *key, const char *path, unsigned flags,
	     size_t max, const cJSON **ret, struct oerr *err);

/* A string value itself (item may not be NULL), copied. */
int cj_string_value(const cJSON *item, const char *path, unsigned flags, size_t max_len,
		    char **ret, struct oerr *err);
int cj_string(const cJSON *obj, const char *key, const char *path, unsigned flags,
	      size_t max_len, char **ret, struct oerr *err);
int cj_strv(const cJSON *obj, const char *key, const char *path, unsigned flags,
	    size_t max_items, size_t max_len, struct cj_strv *ret, struct oerr *err);
int cj_bool(const cJSON *obj, const char *key, const char *path, unsigned flags,
	    bool *ret, struct oerr *err);
/* Integers: the JSON number must be integral and within [min, max]. */
int cj_u64_value(const cJSON *item, const char *path, uint64_t min, uint64_t max,
		 uint64_t *ret, struct oerr *err);
int cj_u64(const cJSON *obj, const char *key, const char *path, unsigned flags,
	   uint64_t min, uint64_t max, uint64_t *ret, bool *ret_present, struct oerr *err);
int cj_i64(const cJSON *obj, const char *key, const char *path, unsigned flags,
	   int64_t min, int64_t max, int64_t *ret, bool *ret_present, struct oerr *err);

#endif
