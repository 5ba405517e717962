/* The gspec (common/gspec.h) ops sends to ocivm-init, built from the parsed
 * config: every record in the documented order. */
#include "ops/runtime_int.h"
#include "gspec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put2(struct gspec_writer *w, const char *key, const char *a, const char *b)
{
	const char *f[2] = { a, b };
	gspec_put(w, key, 2, f);
}

static bool ambient_ok(const struct ops_process *p, const char *cap);

static void gspec_process(struct gspec_writer *w, const struct ops_process *p, bool terminal)
{
	char uid[16], gid[16], um[16], soft[32], hard[32];

	for (size_t i = 0; i < p->args.n; i++)
		gspec_put(w, "arg", 1, (const char *const *)&p->args.v[i]);
	for (size_t i = 0; i < p->env.n; i++)
		gspec_put(w, "env", 1, (const char *const *)&p->env.v[i]);
	gspec_put(w, "cwd", 1, (const char *const *)&p->cwd);
	snprintf(uid, sizeof(uid), "%u", p->uid);
	snprintf(gid, sizeof(gid), "%u", p->gid);
	if (p->umask >= 0)
		snprintf(um, sizeof(um), "%04o", p->umask);
	else
		strcpy(um, "-");
	const char *u[3] = { uid, gid, um };
	gspec_put(w, "user", 3, u);
	for (size_t i = 0; i < p->n_gids; i++)
		gspec_putf(w, "gid", "%u", p->gids[i]);
	gspec_putf(w, "terminal", "%d", terminal ? 1 : 0);
	if (terminal && p->console_height && p->console_width) {
		char rows[8], cols[8];
		snprintf(rows, sizeof(rows), "%u", (unsigned)p->console_height);
		snprintf(cols, sizeof(cols), "%u", (unsigned)p->console_width);
		put2(w, "winsize", rows, cols);
	}
	gspec_putf(w, "nnp", "%d", p->no_new_privileges ? 1 : 0);
	if (p->has_oom_score_adj)
		gspec_putf(w, "oom", "%d", p->oom_score_adj);
	for (size_t i = 0; i < p->n_rlimits; i++) {
		snprintf(soft, sizeof(soft), "%llu", (unsigned long long)p->rlimits[i].soft);
		snprintf(hard, sizeof(hard), "%llu", (unsigned long long)p->rlimits[i].hard);
		const char *f[3] = { p->rlimits[i].type, soft, hard };
		gspec_put(w, "rlimit", 3, f);
	}
	for (int s = 0; s < OPS_CAP_SETS; s++)
		for (size_t i = 0; i < p->caps[s].n; i++)
			if (s != OPS_CAP_AMBIENT || ambient_ok(p, p->caps[s].v[i]))
				put2(w, "cap", ops_cap_set_names[s], p->caps[s].v[i]);
}

static bool in_set(const struct cj_strv *set, const char *cap)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i], cap) == 0)
			return true;
	return false;
}

/* The kernel raises an ambient capability only if it is permitted and
 * inheritable; like runc, such a request is skipped with a warning rather
 * than failing the start. */
static bool ambient_ok(const struct ops_process *p, const char *cap)
{
	return in_set(&p->caps[OPS_CAP_PERMITTED], cap) && in_set(&p->caps[OPS_CAP_INHERITABLE], cap);
}

static void ambient_note(const struct ops_process *p, char *note, size_t n)
{
	const struct cj_strv *a = &p->caps[OPS_CAP_AMBIENT];
	size_t used = 0;

	note[0] = '\0';
	for (size_t i = 0; i < a->n && used < n; i++) {
		if (ambient_ok(p, a->v[i]))
			continue;
		int k = snprintf(note + used, n - used, "%s%s", used ? ", " : "", a->v[i]);
		used += k > 0 ? (size_t)k : 0;
	}
	if (note[0] && used < n)
		snprintf(note + used, n - used, ": ambient capabilities not also permitted and "
			 "inheritable are not raised");
}

/* A bind mount's copy (ops/bindcopy.c): "copy N REL KIND MODE UID GID HEX"
 * per entry ("-" for no data), then "copymount DEST N OPTS" in the mount's
 * place. */
static void gspec_copy(struct gspec_writer *w, const struct ops_copy *c, unsigned n)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct ops_copy_entry *e = &c->v[i];
		char num[16], kind[2] = { e->kind, 0 }, mode[16], uid[16], gid[16];
		char *data = gspec_hex(e->data, e->len);
		if (!data) {
			w->error = -ENOMEM;
			return;
		}
		snprintf(num, sizeof(num), "%u", n);
		snprintf(mode, sizeof(mode), "%04o", e->mode & 07777);
		snprintf(uid, sizeof(uid), "%u", e->uid);
		snprintf(gid, sizeof(gid), "%u", e->gid);
		const char *f[8] = { num, e->rel, kind, mode, uid, gid, data };
		gspec_put(w, "copy", 7, f);
		free(data);
	}
}

static void gspec_mounts(struct gspec_writer *w, const struct ops_config *cfg)
{
	unsigned copies = 0;

	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct ops_mount *m = &cfg->mounts[i];
		size_t len = 0;
		for (size_t k = 0; k < m->options.n; k++)
			len += strlen(m->options.v[k]) + 1;
		char *opts = malloc(len + 2);
		if (!opts) {
			w->error = -ENOMEM;
			return;
		}
		opts[0] = '\0';
		for (size_t k = 0; k < m->options.n; k++) {
			if (k)
				strcat(opts, ",");
			strcat(opts, m->options.v[k]);
		}
		if (m->copy) {
			char num[16];
			snprintf(num, sizeof(num), "%u", copies);
			gspec_copy(w, m->copy, copies++);
			const char *f[3] = { m->destination, num, opts[0] ? opts : "-" };
			gspec_put(w, "copymount", 3, f);
			free(opts);
			continue;
		}
		const char *f[4] = { m->destination, m->type ? m->type : "none",
				     m->source ? m->source : "none", opts[0] ? opts : "-" };
		gspec_put(w, "mount", 4, f);
		free(opts);
	}
}

static void gspec_idmaps(struct gspec_writer *w, const char *key, const struct ops_idmap *v,
			 size_t n)
{
	char c[16], h[16], s[16];

	for (size_t i = 0; i < n; i++) {
		snprintf(c, sizeof(c), "%u", v[i].container_id);
		snprintf(h, sizeof(h), "%u", v[i].host_id);
		snprintf(s, sizeof(s), "%u", v[i].size);
		const char *f[3] = { c, h, s };
		gspec_put(w, key, 3, f);
	}
}

/* linux.devices: made in the guest (vm/guest/config.c), which refuses a
 * node its kernel does not have. */
static void gspec_devices(struct gspec_writer *w, const struct ops_linux *l)
{
	for (size_t i = 0; i < l->n_devices; i++) {
		const struct ops_device *d = &l->devices[i];
		char maj[24], min[24], mode[16], uid[16], gid[16];
		snprintf(maj, sizeof(maj), "%lld", (long long)d->major);
		snprintf(min, sizeof(min), "%lld", (long long)d->minor);
		snprintf(mode, sizeof(mode), "%04o", d->has_file_mode ? d->file_mode & 07777 : 0666);
		snprintf(uid, sizeof(uid), "%u", d->has_uid ? d->uid : 0);
		snprintf(gid, sizeof(gid), "%u", d->has_gid ? d->gid : 0);
		const char *f[7] = { d->path, d->type, maj, min, mode, uid, gid };
		gspec_put(w, "device", 7, f);
	}
}

/* The caller's network, read on the host (vm_net_read): nic, netaddr,
 * netroute records (common/gspec.h). */
static void gspec_net(struct gspec_writer *w, const struct vm_net *net)
{
	char mac[18], mtu[16], ip[INET6_ADDRSTRLEN + 8], gw[INET6_ADDRSTRLEN];

	for (size_t i = 0; net && i < net->n; i++) {
		const struct vm_net_nic *n = &net->nic[i];
		const uint8_t *m = n->mac;
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		snprintf(mtu, sizeof(mtu), "%u", n->mtu);
		const char *f[3] = { mac, mtu, n->name };
		gspec_put(w, "nic", 3, f);
		for (size_t k = 0; k < n->n_addrs; k++) {
			const struct vm_net_addr *a = &n->addrs[k];
			inet_ntop(a->ip.family, a->ip.a, ip, INET6_ADDRSTRLEN);
			snprintf(ip + strlen(ip), 8, "/%u", a->prefix);
			put2(w, "netaddr", mac, ip);
		}
		for (size_t k = 0; k < n->n_routes; k++) {
			const struct vm_net_route *r = &n->routes[k];
			inet_ntop(r->dst.family, r->dst.a, ip, INET6_ADDRSTRLEN);
			snprintf(ip + strlen(ip), 8, "/%u", r->prefix);
			if (r->gw.family)
				inet_ntop(r->gw.family, r->gw.a, gw, sizeof(gw));
			const char *rf[3] = { mac, ip, r->gw.family ? gw : "-" };
			gspec_put(w, "netroute", 3, rf);
		}
	}
}

int ops_build_gspec(const struct ops_config *cfg, const char *id, bool terminal,
		    bool has_image, const struct vm_net *net, char **ret, size_t *ret_len,
		    char *note, size_t note_len, struct oerr *err)
{
	struct gspec_writer w;
	const struct ops_linux *l = &cfg->linux_;

	gspec_writer_init(&w);
	gspec_putf(&w, "version", "1");
	gspec_put(&w, "id", 1, &id);
	put2(&w, "rootfs", "rootfs", cfg->root_readonly ? "1" : "0");
	gspec_putf(&w, "rootfs_fstype", "ext4");
	if (has_image)
		put2(&w, "image", "image", "ext4");
	if (cfg->hostname)
		gspec_put(&w, "hostname", 1, (const char *const *)&cfg->hostname);
	if (cfg->domainname)
		gspec_put(&w, "domainname", 1, (const char *const *)&cfg->domainname);
	for (size_t i = 0; i < l->n_namespaces; i++)
		gspec_put(&w, "namespace", 1, (const char *const *)&l->namespaces[i].type);
	gspec_process(&w, &cfg->process, terminal);
	if (l->has_memory_limit && l->memory_limit > 0)
		gspec_putf(&w, "memory", "%lld", (long long)l->memory_limit);
	if (l->has_pids_limit && l->pids_limit > 0)
		gspec_putf(&w, "pids", "%lld", (long long)l->pids_limit);
	gspec_idmaps(&w, "uidmap", l->uid_maps, l->n_uid_maps);
	gspec_idmaps(&w, "gidmap", l->gid_maps, l->n_gid_maps);
	gspec_mounts(&w, cfg);
	for (size_t i = 0; i < l->sysctl.n; i++)
		put2(&w, "sysctl", l->sysctl.v[i].key, l->sysctl.v[i].value);
	for (size_t i = 0; i < l->masked_paths.n; i++)
		gspec_put(&w, "masked", 1, (const char *const *)&l->masked_paths.v[i]);
	for (size_t i = 0; i < l->readonly_paths.n; i++)
		gspec_put(&w, "readonly", 1, (const char *const *)&l->readonly_paths.v[i]);
	gspec_devices(&w, l);
	gspec_net(&w, net);
	int r = gspec_finish(&w, ret, ret_len);
	gspec_writer_free(&w);
	if (note)
		ambient_note(&cfg->process, note, note_len);
	if (r == -E2BIG)
		return oerr_set(err, EINVAL, "config.json: the process spec is larger than %d bytes",
				GSPEC_MAX_LEN);
	if (r < 0)
		return oerr_set(err, -r, "config.json: cannot encode the guest spec");
	return 0;
}

int ops_build_exec_gspec(const struct ops_process *p, const char *id, char **ret,
			 size_t *ret_len, struct oerr *err)
{
	struct gspec_writer w;

	gspec_writer_init(&w);
	gspec_putf(&w, "version", "1");
	gspec_put(&w, "id", 1, &id);
	put2(&w, "rootfs", "rootfs", "0");   /* required by the parser; EXEC joins the container's */
	gspec_process(&w, p, p->terminal);
	int r = gspec_finish(&w, ret, ret_len);
	gspec_writer_free(&w);
	if (r == -E2BIG)
		return oerr_set(err, EINVAL, "process.json: larger than %d bytes once encoded",
				GSPEC_MAX_LEN);
	if (r < 0)
		return oerr_set(err, -r, "process.json: cannot encode the process spec");
	return 0;
}
