/* Name tables for the gspec: rlimit resources, capabilities, capability
 * sets, and mount options (flags vs. data). */
#include "plan.h"
#include "captab.h"

#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#define ENT(x) { #x, x }
struct gtab_ent { const char *name; int value; };

static const struct gtab_ent gtab_rlimits[] = {
	ENT(RLIMIT_CPU), ENT(RLIMIT_FSIZE), ENT(RLIMIT_DATA), ENT(RLIMIT_STACK),
	ENT(RLIMIT_CORE), ENT(RLIMIT_RSS), ENT(RLIMIT_NPROC), ENT(RLIMIT_NOFILE),
	ENT(RLIMIT_MEMLOCK), ENT(RLIMIT_AS), ENT(RLIMIT_LOCKS), ENT(RLIMIT_SIGPENDING),
	ENT(RLIMIT_MSGQUEUE), ENT(RLIMIT_NICE), ENT(RLIMIT_RTPRIO), ENT(RLIMIT_RTTIME),
};

static const char *const gtab_capsets[GCAP_NSETS] = {
	[GCAP_BOUNDING] = "bounding", [GCAP_EFFECTIVE] = "effective",
	[GCAP_INHERITABLE] = "inheritable", [GCAP_PERMITTED] = "permitted",
	[GCAP_AMBIENT] = "ambient",
};

int gtab_rlimit(const char *name)
{
	for (size_t i = 0; i < sizeof(gtab_rlimits) / sizeof(gtab_rlimits[0]); i++)
		if (strcmp(gtab_rlimits[i].name, name) == 0)
			return gtab_rlimits[i].value;
	return -1;
}

int gtab_cap(const char *name)
{
	return captab_index(name);
}

int gtab_capset(const char *name)
{
	for (int i = 0; i < GCAP_NSETS; i++)
		if (strcmp(gtab_capsets[i], name) == 0)
			return i;
	return -1;
}

/* The runtime-spec's linux.namespaces types, bit i is 1 << i (enum gplan_ns). */
static const char *const gtab_nss[] = { "pid", "network", "mount", "ipc", "uts", "user",
					"cgroup", "time" };

int gtab_ns(const char *name)
{
	for (size_t i = 0; i < sizeof(gtab_nss) / sizeof(gtab_nss[0]); i++)
		if (strcmp(gtab_nss[i], name) == 0)
			return 1 << i;
	return -1;
}

struct gtab_flag { const char *name; unsigned long set, clear; };

static const struct gtab_flag gtab_flags[] = {
	{ "ro", MS_RDONLY, 0 },          { "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },      { "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },        { "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },      { "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 },   { "async", 0, MS_SYNCHRONOUS },
	{ "dirsync", MS_DIRSYNC, 0 },    { "remount", MS_REMOUNT, 0 },
	{ "mand", MS_MANDLOCK, 0 },      { "nomand", 0, MS_MANDLOCK },
	{ "atime", 0, MS_NOATIME },      { "noatime", MS_NOATIME, 0 },
	{ "diratime", 0, MS_NODIRATIME }, { "nodiratime", MS_NODIRATIME, 0 },
	{ "relatime", MS_RELATIME, 0 },  { "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 }, { "nostrictatime", 0, MS_STRICTATIME },
	{ "silent", MS_SILENT, 0 },      { "loud", 0, MS_SILENT },
	{ "defaults", 0, 0 },
};

static const struct gtab_flag gtab_props[] = {
	{ "private", MS_PRIVATE, 0 },   { "rprivate", MS_PRIVATE | MS_REC, 0 },
	{ "shared", MS_SHARED, 0 },     { "rshared", MS_SHARED | MS_REC, 0 },
	{ "slave", MS_SLAVE, 0 },       { "rslave", MS_SLAVE | MS_REC, 0 },
	{ "unbindable", MS_UNBINDABLE, 0 }, { "runbindable", MS_UNBINDABLE | MS_REC, 0 },
};

static int gtab_opt(const char *o, struct gmntopts *r)
{
	for (size_t i = 0; i < sizeof(gtab_flags) / sizeof(gtab_flags[0]); i++)
		if (strcmp(o, gtab_flags[i].name) == 0) {
			r->flags = (r->flags | gtab_flags[i].set) & ~gtab_flags[i].clear;
			return 1;
		}
	for (size_t i = 0; i < sizeof(gtab_props) / sizeof(gtab_props[0]); i++)
		if (strcmp(o, gtab_props[i].name) == 0) {
			r->propagation = gtab_props[i].set;
			return 1;
		}
	if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
		r->bind = 1;
		r->recursive |= o[0] == 'r';
		return 1;
	}
	return 0;
}

int gtab_mntopts(const char *opts, struct gmntopts *r)
{
	char tok[256];
	size_t dl = 0;

	memset(r, 0, sizeof(*r));
	if (!opts || !*opts || strcmp(opts, "-") == 0)
		return 0;
	while (*opts) {
		size_t n = strcspn(opts, ",");
		if (n >= sizeof(tok))
			return -1;
		memcpy(tok, opts, n);
		tok[n] = '\0';
		opts += n + (opts[n] == ',');
		if (!n || gtab_opt(tok, r))
			continue;
		int w = snprintf(r->data + dl, sizeof(r->data) - dl, "%s%s", dl ? "," : "", tok);
		if (w < 0 || (size_t)w >= sizeof(r->data) - dl)
			return -1;
		dl += (size_t)w;
	}
	return 0;
}
