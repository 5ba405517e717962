/* bench_vmm_qmp SOCKET stats|quit: a minimal QMP client for bench/vmm.sh.
 * "stats" prints the KVM vCPU statistics of a running QEMU summed over its
 * vCPUs (query-stats), one "name=value" per line; "quit" stops QEMU. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BUF_MAX (1u << 20)

/* Read until a line holding "return" or "error" arrives; returns its start. */
static char *read_reply(int fd, char *buf, size_t cap, size_t *len)
{
	for (;;) {
		char *line = buf, *nl;
		while ((nl = memchr(line, '\n', *len - (size_t)(line - buf)))) {
			*nl = '\0';
			if (strstr(line, "\"return\"") || strstr(line, "\"error\""))
				return line;
			line = nl + 1;
		}
		size_t keep = *len - (size_t)(line - buf);
		memmove(buf, line, keep);
		*len = keep;
		ssize_t n = read(fd, buf + *len, cap - 1 - *len);
		if (n <= 0)
			return NULL;
		*len += (size_t)n;
		buf[*len] = '\0';
	}
}

static char *cmd(int fd, char *buf, const char *json)
{
	size_t len = 0;
	if (write(fd, json, strlen(json)) < 0)
		return NULL;
	return read_reply(fd, buf, BUF_MAX, &len);
}

static void sum_stat(const char *reply, const char *name)
{
	char key[64];
	unsigned long long total = 0;
	snprintf(key, sizeof(key), "\"name\": \"%s\", \"value\": ", name);
	for (const char *p = reply; (p = strstr(p, key)); p += strlen(key))
		total += strtoull(p + strlen(key), NULL, 10);
	printf("%s=%llu\n", name, total);
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "exits", "io_exits", "mmio_exits", "halt_exits",
					     "insn_emulation" };
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	char *buf = malloc(BUF_MAX), *r;

	if (argc != 3 || strlen(argv[1]) >= sizeof(a.sun_path) || !buf) {
		fprintf(stderr, "usage: bench_vmm_qmp SOCKET stats|quit\n");
		return 64;
	}
	strcpy(a.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "bench_vmm_qmp: %s: %s\n", argv[1], strerror(errno));
		return 69;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!cmd(fd, buf, "{\"execute\":\"qmp_capabilities\"}\n"))
		return 1;
	if (strcmp(argv[2], "quit") == 0)
		return cmd(fd, buf, "{\"execute\":\"quit\"}\n") ? 0 : 1;
	r = cmd(fd, buf, "{\"execute\":\"query-stats\",\"arguments\":{\"target\":\"vcpu\"}}\n");
	if (!r || strstr(r, "\"error\"")) {
		fprintf(stderr, "bench_vmm_qmp: query-stats failed: %s\n", r ? r : "no reply");
		return 1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		sum_stat(r, names[i]);
	return 0;
}
