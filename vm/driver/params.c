/* vm.hypervisor.parameters: an allowlist per driver.  A bundle author must
 * not reach host code or host files through the hypervisor's argv (QEMU's
 * -netdev bridge,helper=, -D FILE, -plugin, -object, -chardev, -readconfig,
 * -add-fd... all run or open things on the host as the daemon's user), so
 * every parameter must be a known option whose value is checked against a
 * syntax that cannot name a path, a helper or a backend.  The list is
 * documented in vm/driver/README.md ("Hypervisor parameters"). */
#include "driver.h"
#include "resolve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A value checker: 0 if the value is acceptable. */
typedef bool (*param_value_ok)(const char *v);

struct param_rule {
	const char *opt;
	param_value_ok value;    /* NULL: the option takes no value */
	const char *syntax;      /* for the refusal message */
};

static bool all_in(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

#define DIGITS "0123456789"
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* KEY=VALUE,... where each KEY is one of keys and its value passes ok. */
static bool kv_list_ok(const char *v, const char *const *keys, bool (*ok)(const char *k, const char *val))
{
	char buf[256], *save = NULL;

	if (strlen(v) >= sizeof(buf) || !*v)
		return false;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		size_t k;
		if (!eq)
			return false;
		*eq = '\0';
		for (k = 0; keys[k] && strcmp(keys[k], tok) != 0; k++)
			;
		if (!keys[k] || !ok(tok, eq + 1))
			return false;
	}
	return v[strlen(v) - 1] != ',' && !strstr(v, ",,");
}

static bool smp_val_ok(const char *k, const char *v)
{
	(void)k;
	return all_in(v, DIGITS) && strlen(v) <= 4;
}

/* -smp N or -smp cpus=N,sockets=N,... */
static bool smp_ok(const char *v)
{
	static const char *const keys[] = { "cpus", "maxcpus", "sockets", "dies", "clusters",
					    "cores", "threads", NULL };
	return (all_in(v, DIGITS) && strlen(v) <= 4) || kv_list_ok(v, keys, smp_val_ok);
}

/* -cpu MODEL[,+feat|-feat|feat=value...]: names only, never a path. */
static bool cpu_ok(const char *v)
{
	char buf[256], *save = NULL;
	char *tok;

	if (strlen(v) >= sizeof(buf) || !*v || v[strlen(v) - 1] == ',' || strstr(v, ",,"))
		return false;
	snprintf(buf, sizeof(buf), "%s", v);
	tok = strtok_r(buf, ",", &save);
	if (!tok || !all_in(tok, NAME_CHARS) || tok[0] == '-' || tok[0] == '.')
		return false;
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		if (tok[0] == '+' || tok[0] == '-')
			tok++;
		else if (eq)
			*eq = '\0';
		if (!all_in(tok, NAME_CHARS) || (eq && !all_in(eq + 1, NAME_CHARS)))
			return false;
	}
	return true;
}

static bool rtc_val_ok(const char *k, const char *v)
{
	if (strcmp(k, "base") == 0)
		return strcmp(v, "utc") == 0 || strcmp(v, "localtime") == 0 ||
		       all_in(v, DIGITS "-:T");
	if (strcmp(k, "clock") == 0)
		return strcmp(v, "host") == 0 || strcmp(v, "rt") == 0 || strcmp(v, "vm") == 0;
	return strcmp(v, "none") == 0 || strcmp(v, "slew") == 0; /* driftfix */
}

static bool rtc_ok(const char *v)
{
	static const char *const keys[] = { "base", "clock", "driftfix", NULL };
	return kv_list_ok(v, keys, rtc_val_ok);
}

static bool on_off_ok(const char *k, const char *v)
{
	(void)k;
	return strcmp(v, "on") == 0 || strcmp(v, "off") == 0;
}

static bool overcommit_ok(const char *v)
{
	static const char *const keys[] = { "mem-lock", "cpu-pm", NULL };
	return kv_list_ok(v, keys, on_off_ok);
}

/* Devices without a host backend or any property. */
static bool device_ok(const char *v)
{
	return strcmp(v, "virtio-rng-device") == 0 || strcmp(v, "virtio-balloon-device") == 0;
}

static const struct param_rule qemu_rules[] = {
	{ "-smp", smp_ok, "N or cpus=N,maxcpus=N,sockets=N,dies=N,clusters=N,cores=N,threads=N" },
	{ "-cpu", cpu_ok, "MODEL[,+FEAT|-FEAT|FEAT=VALUE...] (names only)" },
	{ "-rtc", rtc_ok, "base=utc|localtime|DATE,clock=host|rt|vm,driftfix=none|slew" },
	{ "-overcommit", overcommit_ok, "mem-lock=on|off,cpu-pm=on|off" },
	{ "-device", device_ok, "virtio-rng-device or virtio-balloon-device" },
	{ "-nographic", NULL, NULL },
	{ "-no-reboot", NULL, NULL },
	{ "-nodefaults", NULL, NULL },
	{ "-no-user-config", NULL, NULL },
};

static bool u20_ok(const char *v)
{
	return all_in(v, DIGITS) && strlen(v) <= 7;
}

/* --cpuid-mask LIST: feature names or LEAF[.SUB]:REG:BIT (ocivm-vmm parses it). */
static bool cpuid_ok(const char *v)
{
	return all_in(v, NAME_CHARS ",:") && v[0] != '-' && v[0] != '.' && strlen(v) < 1024;
}

static const struct param_rule vmm_rules[] = {
	{ "--console-max", u20_ok, "MIB (digits)" },
	{ "--cpuid-mask", cpuid_ok, "names or LEAF[.SUB]:REG:BIT, comma-separated" },
};

static void list_rules(const struct param_rule *rules, size_t n, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "", rules[i].opt);
}

static int check_list(const char *drv, const struct param_rule *rules, size_t n_rules,
		      bool long_opts, const char *const *p, size_t n, struct oerr *err)
{
	char allowed[256];

	list_rules(rules, n_rules, allowed, sizeof(allowed));
	for (size_t i = 0; i < n; i++) {
		const char *a = p[i], *eq = NULL, *val;
		char opt[64];
		size_t k, olen;

		/* QEMU reads --opt as -opt; getopt_long reads --opt=value. */
		if (!long_opts && a[0] == '-' && a[1] == '-')
			a++;
		eq = long_opts ? strchr(a, '=') : NULL;
		olen = eq ? (size_t)(eq - a) : strlen(a);
		snprintf(opt, sizeof(opt), "%.*s", (int)(olen < sizeof(opt) ? olen : sizeof(opt) - 1), a);
		for (k = 0; k < n_rules && strcmp(rules[k].opt, opt) != 0; k++)
			;
		if (k == n_rules || olen >= sizeof(opt))
			return oerr_set(err, EINVAL, "parameters[%zu] \"%.64s\": not on %s's allowlist "
					"(%s; vm/driver/README.md)", i, p[i], drv, allowed);
		if (!rules[k].value) {
			if (eq)
				return oerr_set(err, EINVAL, "parameters[%zu] \"%.64s\": %s takes no value",
						i, p[i], opt);
			continue;
		}
		if (!eq && i + 1 == n)
			return oerr_set(err, EINVAL, "parameters[%zu] \"%.64s\": needs a value (%s)",
					i, p[i], rules[k].syntax);
		val = eq ? eq + 1 : p[++i];
		if (!rules[k].value(val))
			return oerr_set(err, EINVAL, "parameters[%zu] \"%.64s\": not allowed as the value "
					"of %s (allowed: %s)", i, val, opt, rules[k].syntax);
	}
	return 0;
}

int vm_hypervisor_params_check(const struct vm_config *cfg, struct oerr *err)
{
	const struct vm_driver_ops *drv = cfg->hypervisor_path ?
		vm_driver_for_binary(cfg->hypervisor_path) : NULL;
	enum vm_driver d = cfg->driver;

	if (cfg->n_hypervisor_params == 0)
		return 0;
	if (!drv)
		d = vm_driver_choose(d, cfg->probe);
	if (!drv)
		drv = d == VM_DRIVER_QEMU ? &vm_driver_qemu : d == VM_DRIVER_VMM ? &vm_driver_vmm : NULL;
	if (drv == &vm_driver_qemu)
		return check_list(drv->name, qemu_rules, sizeof(qemu_rules) / sizeof(qemu_rules[0]),
				  false, cfg->hypervisor_params, cfg->n_hypervisor_params, err);
	if (drv == &vm_driver_vmm)
		return check_list(drv->name, vmm_rules, sizeof(vmm_rules) / sizeof(vmm_rules[0]),
				  true, cfg->hypervisor_params, cfg->n_hypervisor_params, err);
	return oerr_set(err, EINVAL, "parameters: no driver known for %s to check them against",
			cfg->hypervisor_path ? cfg->hypervisor_path : "the default hypervisor");
}
