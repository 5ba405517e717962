/* gspec -> apply-plan (see plan.h).  One handler per key, looked up in a
 * table that also fixes each key's field count. */
#include "plan.h"
#include "gspec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gplan_key {
	const char *key;
	int nfields;      /* exact count */
	int (*fn)(struct gplan *p, char **f, char *eb, size_t cap);
};

static int gplan_fail(char *eb, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int gplan_fail(char *eb, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(eb, cap, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Unsigned decimal (or octal with base 8), whole string, within max. */
static int gplan_num(const char *s, int base, unsigned long long max, unsigned long long *ret)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int k_version(struct gplan *p, char **f, char *eb, size_t cap)
{
	return strcmp(f[0], "1") ? gplan_fail(eb, cap, "version: unsupported gspec version %s", f[0]) : 0;
}
static int k_id(struct gplan *p, char **f, char *eb, size_t cap) { p->id = f[0]; return 0; }

static int k_bool(const char *s, int *ret, const char *key, char *eb, size_t cap)
{
	if (strcmp(s, "0") && strcmp(s, "1"))
		return gplan_fail(eb, cap, "%s: expected 0 or 1, got %s", key, s);
	*ret = s[0] == '1';
	return 0;
}

static int k_rootfs(struct gplan *p, char **f, char *eb, size_t cap)
{
	p->rootfs_serial = f[0];
	return k_bool(f[1], &p->rootfs_ro, "rootfs", eb, cap);
}

static int k_fstype(const char *s, const char *key, char *eb, size_t cap)
{
	if (strcmp(s, "ext4") && strcmp(s, "erofs"))
		return gplan_fail(eb, cap, "%s: unsupported filesystem %s", key, s);
	return 0;
}

static int k_rootfs_fstype(struct gplan *p, char **f, char *eb, size_t cap)
{
	p->rootfs_fstype = f[0];
	return k_fstype(f[0], "rootfs_fstype", eb, cap);
}

static int k_image(struct gplan *p, char **f, char *eb, size_t cap)
{
	p->image_serial = f[0];
	p->image_fstype = f[1];
	return k_fstype(f[1], "image", eb, cap);
}

static int k_hostname(struct gplan *p, char **f, char *eb, size_t cap) { p->hostname = f[0]; return 0; }
static int k_domainname(struct gplan *p, char **f, char *eb, size_t cap) { p->domainname = f[0]; return 0; }

/* namespace TYPE: one per linux.namespaces entry. */
static int k_namespace(struct gplan *p, char **f, char *eb, size_t cap)
{
	int t = gtab_ns(f[0]);

	if (t < 0)
		return gplan_fail(eb, cap, "namespace: unknown type %s", f[0]);
	if (p->ns & (unsigned)t)
		return gplan_fail(eb, cap, "namespace: duplicate %s", f[0]);
	p->ns |= (unsigned)t;
	return 0;
}

/* seed HEX: fresh entropy from the host (16..256 bytes), fed to the
 * kernel's pool before anything else runs (vm/guest/fresh.c). */
static int k_seed(struct gplan *p, char **f, char *eb, size_t cap)
{
	size_t n;

	if (gspec_unhex(f[0], &n) < 0 || n < 16 || n > GPLAN_MAX_SEED)
		return gplan_fail(eb, cap, "seed: expected 16..%d bytes of hex", GPLAN_MAX_SEED);
	p->seed = f[0];
	p->seed_len = n;
	return 0;
}

/* clock SEC NSEC: the host's wall clock when it sent the SPEC. */
static int k_clock(struct gplan *p, char **f, char *eb, size_t cap)
{
	char *end;
	long long s = strtoll(f[0], &end, 10);
	long ns;

	if (*end || s <= 0)
		return gplan_fail(eb, cap, "clock: bad seconds %s", f[0]);
	ns = strtol(f[1], &end, 10);
	if (*end || ns < 0 || ns >= 1000000000L)
		return gplan_fail(eb, cap, "clock: bad nanoseconds %s", f[1]);
	p->clock_sec = s;
	p->clock_nsec = ns;
	return 0;
}

/* restored 0|1: this VM was restored from a template (its disks were
 * probed with the template's placeholder: rescan them). */
static int k_restored(struct gplan *p, char **f, char *eb, size_t cap)
{
	return k_bool(f[0], &p->restored, "restored", eb, cap);
}

static int k_arg(struct gplan *p, char **f, char *eb, size_t cap)
{
	if (p->n_args >= GPLAN_MAX_ARGS)
		return gplan_fail(eb, cap, "arg: more than %d", GPLAN_MAX_ARGS);
	p->args[p->n_args++] = f[0];
	return 0;
}

static int k_env(struct gplan *p, char **f, char *eb, size_t cap)
{
	if (!strchr(f[0], '=') || f[0][0] == '=')
		return gplan_fail(eb, cap, "env: %s is not NAME=VALUE", f[0]);
	if (p->n_env >= GPLAN_MAX_ENV)
		return gplan_fail(eb, cap, "env: more than %d", GPLAN_MAX_ENV);
	p->env[p->n_env++] = f[0];
	return 0;
}

static int k_cwd(struct gplan *p, char **f, char *eb, size_t cap)
{
	if (f[0][0] != '/')
		return gplan_fail(eb, cap, "cwd: %s is not absolute", f[0]);
	p->cwd = f[0];
	return 0;
}

static int k_user(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long uid, gid, um = 0;
	if (gplan_num(f[0], 10, 0xfffffffe, &uid) || gplan_num(f[1], 10, 0xfffffffe, &gid))
		return gplan_fail(eb, cap, "user: bad uid/gid %s %s", f[0], f[1]);
	if (strcmp(f[2], "-") && gplan_num(f[2], 8, 0777, &um))
		return gplan_fail(eb, cap, "user: bad umask %s", f[2]);
	p->has_user = 1;
	p->uid = (uid_t)uid;
	p->gid = (gid_t)gid;
	p->umask = strcmp(f[2], "-") ? (int)um : -1;
	return 0;
}

static int k_gid(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long g;
	if (gplan_num(f[0], 10, 0xfffffffe, &g))
		return gplan_fail(eb, cap, "gid: bad group %s", f[0]);
	if (p->n_gids >= GPLAN_MAX_GIDS)
		return gplan_fail(eb, cap, "gid: more than %d", GPLAN_MAX_GIDS);
	p->gids[p->n_gids++] = (gid_t)g;
	return 0;
}

static int k_terminal(struct gplan *p, char **f, char *eb, size_t cap) { return k_bool(f[0], &p->terminal, "terminal", eb, cap); }
static int k_winsize(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long rows, cols;
	if (gplan_num(f[0], 10, 65535, &rows) || gplan_num(f[1], 10, 65535, &cols) ||
	    !rows || !cols)
		return gplan_fail(eb, cap, "winsize: %s %s is not ROWS COLS in 1..65535", f[0], f[1]);
	p->ws_rows = (unsigned short)rows;
	p->ws_cols = (unsigned short)cols;
	return 0;
}
static int k_nnp(struct gplan *p, char **f, char *eb, size_t cap) { return k_bool(f[0], &p->nnp, "nnp", eb, cap); }

static int k_oom(struct gplan *p, char **f, char *eb, size_t cap)
{
	char *end;
	long v = strtol(f[0], &end, 10);
	if (*end || v < -1000 || v > 1000)
		return gplan_fail(eb, cap, "oom: %s is not in -1000..1000", f[0]);
	p->has_oom = 1;
	p->oom = (int)v;
	return 0;
}

static int k_rlimit(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long soft, hard;
	int res = gtab_rlimit(f[0]);
	if (res < 0)
		return gplan_fail(eb, cap, "rlimit: unknown resource %s", f[0]);
	if (gplan_num(f[1], 10, ~0ull, &soft) || gplan_num(f[2], 10, ~0ull, &hard) || soft > hard)
		return gplan_fail(eb, cap, "rlimit: %s: bad limits %s %s", f[0], f[1], f[2]);
	if (p->n_rlimits >= GPLAN_MAX_RLIMITS)
		return gplan_fail(eb, cap, "rlimit: more than %d", GPLAN_MAX_RLIMITS);
	p->rlimits[p->n_rlimits++] = (struct gplan_rlimit){ res, (rlim_t)soft, (rlim_t)hard };
	return 0;
}

static int k_cap(struct gplan *p, char **f, char *eb, size_t cap)
{
	int set = gtab_capset(f[0]), c = gtab_cap(f[1]);
	if (set < 0)
		return gplan_fail(eb, cap, "cap: unknown set %s", f[0]);
	if (c < 0)
		return gplan_fail(eb, cap, "cap: unknown capability %s", f[1]);
	p->has_caps = 1;
	p->caps[set] |= 1ull << c;
	return 0;
}

static int k_memory(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long v;
	if (gplan_num(f[0], 10, (unsigned long long)INT64_MAX, &v) || v == 0)
		return gplan_fail(eb, cap, "memory: bad limit %s", f[0]);
	p->memory_max = v;
	return 0;
}

static int k_pids(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long v;
	if (gplan_num(f[0], 10, (unsigned long long)INT64_MAX, &v) || v == 0)
		return gplan_fail(eb, cap, "pids: bad limit %s", f[0]);
	p->pids_max = v;
	return 0;
}

static int k_idmap(struct gplan_idmap *v, int *n, char **f, const char *key, char *eb, size_t cap)
{
	unsigned long long in, out, count;
	if (gplan_num(f[0], 10, UINT32_MAX, &in) || gplan_num(f[1], 10, UINT32_MAX, &out) ||
	    gplan_num(f[2], 10, UINT32_MAX, &count) || count == 0 ||
	    in + count > 1ull + UINT32_MAX || out + count > 1ull + UINT32_MAX)
		return gplan_fail(eb, cap, "%s: bad range %s %s %s", key, f[0], f[1], f[2]);
	if (*n >= GPLAN_MAX_IDMAPS)
		return gplan_fail(eb, cap, "%s: more than %d", key, GPLAN_MAX_IDMAPS);
	v[(*n)++] = (struct gplan_idmap){ (uint32_t)in, (uint32_t)out, (uint32_t)count };
	return 0;
}
static int k_uidmap(struct gplan *p, char **f, char *eb, size_t cap) { return k_idmap(p->uidmaps, &p->n_uidmaps, f, "uidmap", eb, cap); }
static int k_gidmap(struct gplan *p, char **f, char *eb, size_t cap) { return k_idmap(p->gidmaps, &p->n_gidmaps, f, "gidmap", eb, cap); }

static int k_mount(struct gplan *p, char **f, char *eb, size_t cap)
{
	struct gmntopts o;
	if (f[0][0] != '/')
		return gplan_fail(eb, cap, "mount: destination %s is not absolute", f[0]);
	if (gtab_mntopts(f[3], &o) < 0)
		return gplan_fail(eb, cap, "mount: %s: options too long", f[0]);
	if (p->n_mounts >= GPLAN_MAX_MOUNTS)
		return gplan_fail(eb, cap, "mount: more than %d", GPLAN_MAX_MOUNTS);
	p->mounts[p->n_mounts++] = (struct gplan_mount){ f[0], f[1], f[2], f[3], -1 };
	return 0;
}

/* copymount DEST N OPTS: after the copy records of N */
static int k_copymount(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long n;
	struct gmntopts o;
	int seen = 0;

	if (f[0][0] != '/')
		return gplan_fail(eb, cap, "copymount: destination %s is not absolute", f[0]);
	if (gplan_num(f[1], 10, GPLAN_MAX_MOUNTS, &n) < 0)
		return gplan_fail(eb, cap, "copymount: %s: bad copy number %s", f[0], f[1]);
	for (int i = 0; i < p->n_copies; i++)
		seen |= p->copies[i].n == (int)n && !strcmp(p->copies[i].rel, ".");
	if (!seen)
		return gplan_fail(eb, cap, "copymount: %s: no copy %llu", f[0], n);
	if (gtab_mntopts(f[2], &o) < 0)
		return gplan_fail(eb, cap, "copymount: %s: options too long", f[0]);
	if (p->n_mounts >= GPLAN_MAX_MOUNTS)
		return gplan_fail(eb, cap, "mount: more than %d", GPLAN_MAX_MOUNTS);
	p->mounts[p->n_mounts++] = (struct gplan_mount){ f[0], "bind", "-", f[2], (int)n };
	return 0;
}

/* a relative path without "..", "." components or empty ones (but "." alone) */
static int rel_ok(const char *r)
{
	if (!strcmp(r, "."))
		return 1;
	if (!*r || r[0] == '/' || r[strlen(r) - 1] == '/' || strstr(r, "//"))
		return 0;
	for (const char *c = r; c; c = strchr(c, '/')) {
		c += *c == '/';
		if (!strncmp(c, "..", 2) && (c[2] == '/' || !c[2]))
			return 0;
		if (c[0] == '.' && (c[1] == '/' || !c[1]))
			return 0;
	}
	return 1;
}

/* copy N REL KIND MODE UID GID DATA */
static int k_copy(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long n, mode, uid, gid;
	struct gplan_copy *c;

	if (gplan_num(f[0], 10, GPLAN_MAX_MOUNTS, &n) < 0)
		return gplan_fail(eb, cap, "copy: bad copy number %s", f[0]);
	if (!rel_ok(f[1]))
		return gplan_fail(eb, cap, "copy: bad relative path %s", f[1]);
	if (strlen(f[2]) != 1 || !strchr("fdl", f[2][0]))
		return gplan_fail(eb, cap, "copy: %s: kind %s is not f, d or l", f[1], f[2]);
	if (gplan_num(f[3], 8, 07777, &mode) < 0 ||
	    gplan_num(f[4], 10, 0xfffffffeu, &uid) < 0 || gplan_num(f[5], 10, 0xfffffffeu, &gid) < 0)
		return gplan_fail(eb, cap, "copy: %s: bad mode/uid/gid", f[1]);
	if (p->n_copies >= GPLAN_MAX_COPIES)
		return gplan_fail(eb, cap, "copy: more than %d entries", GPLAN_MAX_COPIES);
	c = &p->copies[p->n_copies];
	*c = (struct gplan_copy){ (int)n, f[1], f[2][0], (mode_t)mode, (uid_t)uid, (gid_t)gid, f[6], 0 };
	if (gspec_unhex(c->data, &c->len) < 0)
		return gplan_fail(eb, cap, "copy: %s: data is not hex", f[1]);
	if (c->kind == 'l' && !c->len)
		return gplan_fail(eb, cap, "copy: %s: empty link target", f[1]);
	p->n_copies++;
	return 0;
}

static int k_sysctl(struct gplan *p, char **f, char *eb, size_t cap)
{
	if (!f[0][0] || f[0][0] == '/' || f[0][0] == '.' || strstr(f[0], ".."))
		return gplan_fail(eb, cap, "sysctl: bad key %s", f[0]);
	if (p->n_sysctls >= GPLAN_MAX_SYSCTL)
		return gplan_fail(eb, cap, "sysctl: more than %d", GPLAN_MAX_SYSCTL);
	p->sysctls[p->n_sysctls++] = (struct gplan_sysctl){ f[0], f[1] };
	return 0;
}

static int k_path(char **v, int *n, char *path, const char *key, char *eb, size_t cap)
{
	if (path[0] != '/')
		return gplan_fail(eb, cap, "%s: %s is not absolute", key, path);
	if (*n >= GPLAN_MAX_PATHS)
		return gplan_fail(eb, cap, "%s: more than %d", key, GPLAN_MAX_PATHS);
	v[(*n)++] = path;
	return 0;
}
static int k_masked(struct gplan *p, char **f, char *eb, size_t cap) { return k_path(p->masked, &p->n_masked, f[0], "masked", eb, cap); }
static int k_readonly(struct gplan *p, char **f, char *eb, size_t cap) { return k_path(p->readonly, &p->n_readonly, f[0], "readonly", eb, cap); }

/* device PATH TYPE MAJOR MINOR MODE UID GID */
static int k_device(struct gplan *p, char **f, char *eb, size_t cap)
{
	unsigned long long maj, min, mode, uid, gid;

	if (f[0][0] != '/' || strstr(f[0], "/../") || !strcmp(f[0], "/"))
		return gplan_fail(eb, cap, "device: path %s is not absolute", f[0]);
	if (strlen(f[1]) != 1 || !strchr("cbup", f[1][0]))
		return gplan_fail(eb, cap, "device: %s: type %s is not one of c, b, u, p", f[0], f[1]);
	if (gplan_num(f[2], 10, 4095, &maj) < 0 || gplan_num(f[3], 10, 1048575, &min) < 0)
		return gplan_fail(eb, cap, "device: %s: bad major/minor %s %s", f[0], f[2], f[3]);
	if (gplan_num(f[4], 8, 07777, &mode) < 0)
		return gplan_fail(eb, cap, "device: %s: bad mode %s", f[0], f[4]);
	if (gplan_num(f[5], 10, 0xfffffffeu, &uid) < 0 || gplan_num(f[6], 10, 0xfffffffeu, &gid) < 0)
		return gplan_fail(eb, cap, "device: %s: bad uid/gid %s %s", f[0], f[5], f[6]);
	if (p->n_devices >= GPLAN_MAX_DEVICES)
		return gplan_fail(eb, cap, "device: more than %d", GPLAN_MAX_DEVICES);
	p->devices[p->n_devices++] = (struct gplan_device){
		f[0], f[1][0] == 'u' ? 'c' : f[1][0], (unsigned)maj, (unsigned)min,
		(mode_t)mode, (uid_t)uid, (gid_t)gid };
	return 0;
}

static const struct gplan_key gplan_keys[] = {
	{ "version", 1, k_version },   { "id", 1, k_id },
	{ "rootfs", 2, k_rootfs },     { "rootfs_fstype", 1, k_rootfs_fstype },
	{ "image", 2, k_image },       { "hostname", 1, k_hostname },
	{ "domainname", 1, k_domainname }, { "namespace", 1, k_namespace },
	{ "arg", 1, k_arg },
	{ "env", 1, k_env },           { "cwd", 1, k_cwd },
	{ "user", 3, k_user },         { "gid", 1, k_gid },
	{ "terminal", 1, k_terminal }, { "nnp", 1, k_nnp },
	{ "winsize", 2, k_winsize },
	{ "oom", 1, k_oom },           { "rlimit", 3, k_rlimit },
	{ "cap", 2, k_cap },           { "mount", 4, k_mount },
	{ "memory", 1, k_memory },     { "pids", 1, k_pids },     { "uidmap", 3, k_uidmap },
	{ "gidmap", 3, k_gidmap },
	{ "sysctl", 2, k_sysctl },     { "masked", 1, k_masked },
	{ "readonly", 1, k_readonly }, { "device", 7, k_device },
	{ "copy", 7, k_copy },         { "copymount", 3, k_copymount },
	{ "seed", 1, k_seed },         { "clock", 2, k_clock },
	{ "restored", 1, k_restored },
	/* the caller's network (vm/guest/net.c) */
	{ "nic", 3, gplan_k_nic },     { "netaddr", 2, gplan_k_netaddr },
	{ "netroute", 3, gplan_k_netroute },
};

static int gplan_apply(struct gplan *p, const struct gspec_record *rec, char *eb, size_t cap)
{
	for (size_t i = 0; i < sizeof(gplan_keys) / sizeof(gplan_keys[0]); i++) {
		const struct gplan_key *k = &gplan_keys[i];
		if (strcmp(k->key, rec->key))
			continue;
		if (rec->nfields != k->nfields)
			return gplan_fail(eb, cap, "%s: %d fields, expected %d", k->key,
					  rec->nfields, k->nfields);
		return k->fn(p, (char **)rec->fields, eb, cap);
	}
	return gplan_fail(eb, cap, "unknown key %s", rec->key);
}

static int gplan_check(const struct gplan *p, char *eb, size_t cap)
{
	if (!p->rootfs_serial)
		return gplan_fail(eb, cap, "no rootfs record");
	if (p->n_args == 0)
		return gplan_fail(eb, cap, "no process args");
	if (!p->n_uidmaps != !p->n_gidmaps)
		return gplan_fail(eb, cap, "a user namespace needs both uidmap and gidmap");
	return 0;
}

int gplan_parse(char *text, size_t len, struct gplan *p, char *eb, size_t cap)
{
	struct gspec_parser ps;
	struct gspec_record rec;
	char why[256];
	int r;

	memset(p, 0, sizeof(*p));
	p->umask = -1;
	p->cwd = "/";
	p->rootfs_fstype = "ext4";
	gspec_parser_init(&ps, text, len);
	while ((r = gspec_next(&ps, &rec)) == 1) {
		if (gplan_apply(p, &rec, why, sizeof(why)) < 0)
			return gplan_fail(eb, cap, "gspec line %d: %s", ps.line, why);
	}
	if (r < 0)
		return gplan_fail(eb, cap, "gspec line %d: malformed or truncated", ps.line);
	return gplan_check(p, eb, cap);
}

const char *gplan_getenv(const struct gplan *p, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < p->n_env; i++)
		if (strncmp(p->env[i], name, n) == 0 && p->env[i][n] == '=')
			return p->env[i] + n + 1;
	return NULL;
}
