/* A growable argv and the kernel command line builder. */
#include "driver.h"
#include "cleanup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strv_init(struct strv *s)
{
	*s = (struct strv){ 0 };
}

static void strv_take(struct strv *s, char *str)
{
	if (!str && !s->error)
		s->error = -ENOMEM;
	if (s->error) {
		free(str);
		return;
	}
	if (s->n + 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->v, ncap * sizeof(*nv));
		if (!nv) {
			s->error = -ENOMEM;
			free(str);
			return;
		}
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

void strv_add(struct strv *s, const char *str)
{
	strv_take(s, strdup(str ? str : ""));
}

void strv_addf(struct strv *s, const char *fmt, ...)
{
	char *str = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&str, fmt, ap) < 0)
		str = NULL;
	va_end(ap);
	strv_take(s, str);
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct strv){ 0 };
}

char *strv_join(char *const *v, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	char *out = malloc(len), *p = out;
	if (!out)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? " " : "", v[i]);
	return out;
}

/* Append one kernel parameter, quoted as the kernel's next_arg() expects
 * when it holds blanks: key="value with spaces" or "word with spaces". */
static int cmdline_append(struct strv *parts, const char *param, struct oerr *err)
{
	if (strpbrk(param, "\n\r"))
		return oerr_set(err, EINVAL, "kernel parameter %.60s: contains a newline", param);
	if (!strpbrk(param, " \t")) {
		if (*param)
			strv_add(parts, param);
		return 0;
	}
	if (strchr(param, '"'))
		return oerr_set(err, EINVAL,
				"kernel parameter %.60s: holds both blanks and '\"', which the kernel cannot parse",
				param);
	const char *eq = strchr(param, '=');
	if (eq && !memchr(param, ' ', (size_t)(eq - param)) && !memchr(param, '\t', (size_t)(eq - param)))
		strv_addf(parts, "%.*s=\"%s\"", (int)(eq - param), param, eq + 1);
	else
		strv_addf(parts, "\"%s\"", param);
	return 0;
}

int vm_kernel_cmdline(const struct vm_launch *l, const char *base, char **ret,
		      struct oerr *err)
{
	const struct vm_config *cfg = l->cfg;
	struct strv parts;
	int r = 0;

	strv_init(&parts);
	if (base && *base)
		strv_add(&parts, base);
	if (l->accel == VM_ACCEL_TCG && l->tsc_khz)
		strv_addf(&parts, "tsc_early_khz=%u", l->tsc_khz);
	for (size_t i = 0; i < cfg->n_kernel_params && r == 0; i++)
		r = cmdline_append(&parts, cfg->kernel_params[i], err);
	if (r == 0 && parts.error)
		r = oerr_set(err, ENOMEM, "kernel command line: out of memory");
	if (r == 0) {
		*ret = strv_join(parts.v, parts.n);
		if (!*ret)
			r = oerr_set(err, ENOMEM, "kernel command line: out of memory");
	}
	strv_free(&parts);
	return r;
}
