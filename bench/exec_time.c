/* bench/exec_time: times exec through the ocivmfs tree, N times, and prints
 * medians in microseconds on one line:
 *   exec_time DIR JSON N    DIR = MOUNT/containers/ID: write
 *                           "exec bNAME JSON" to DIR/ctl, read
 *                           DIR/exec/bNAME/wait to its end (the clock
 *                           stops there), then read DIR/exec/bNAME/times
 *                           and rmdir DIR/exec/bNAME (not timed).  A
 *                           status other than 0 fails.
 * Output: "total_us write_us spawn_us guest_us over_us over_min_us":
 * ctl write to wait's end; the ctl write alone (it returns once ocivm-init
 * said STARTED); the guest's own figures from times (ocivm-init: its fork
 * of the process to its reaping, and EXEC taken to EXITED sent), "na" when
 * the tree has no times; and total minus spawn per exec (what exec adds
 * over the guest's spawn), its median and its smallest. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { T_TOTAL, T_WRITE, T_SPAWN, T_GUEST, T_OVER, T_N };

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The whole of a small file into buf (NUL-terminated): its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, cap - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return n < 0 ? -1 : len;
}

static int one(const char *dir, const char *json, int i, double t[T_N])
{
	char path[4096], line[4200], st[64], tm[128];
	ssize_t n, len;
	double t0 = now_us();
	long long spawn, guest;
	int fd;

	snprintf(path, sizeof(path), "%s/ctl", dir);
	snprintf(line, sizeof(line), "exec b%d-%d %s\n", (int)getpid(), i, json);
	if ((fd = open(path, O_WRONLY)) < 0)
		return -1;
	n = write(fd, line, strlen(line));
	close(fd);
	if (n < 0)
		return -1;
	t[T_WRITE] = now_us() - t0;
	snprintf(path, sizeof(path), "%s/exec/b%d-%d/wait", dir, (int)getpid(), i);
	if ((len = read_small(path, st, sizeof(st))) < 0)
		return -1;
	t[T_TOTAL] = now_us() - t0;
	snprintf(path, sizeof(path), "%s/exec/b%d-%d/times", dir, (int)getpid(), i);
	t[T_SPAWN] = t[T_GUEST] = -1;
	if (read_small(path, tm, sizeof(tm)) > 0 &&
	    sscanf(tm, "spawn_us=%lld guest_us=%lld", &spawn, &guest) == 2) {
		t[T_SPAWN] = (double)spawn;
		t[T_GUEST] = (double)guest;
	}
	t[T_OVER] = t[T_TOTAL] - t[T_SPAWN];
	snprintf(path, sizeof(path), "%s/exec/b%d-%d", dir, (int)getpid(), i);
	if (rmdir(path) < 0)
		return -1;
	if (strtol(st, NULL, 10) != 0 || len == 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int n = argc == 4 ? atoi(argv[3]) : 0;
	double *v[T_N], t[T_N];
	bool timed = true;   /* every exec had its times */

	if (n <= 0)
		return 2;
	for (int k = 0; k < T_N; k++)
		if (!(v[k] = calloc((size_t)n, sizeof(double))))
			return 2;
	for (int i = 0; i < n; i++) {
		if (one(argv[1], argv[2], i, t) < 0) {
			fprintf(stderr, "exec_time: iteration %d: %s\n", i, strerror(errno));
			return 1;
		}
		for (int k = 0; k < T_N; k++)
			v[k][i] = t[k];
		timed = timed && t[T_SPAWN] >= 0;
	}
	printf("%.1f %.1f", median(v[T_TOTAL], n), median(v[T_WRITE], n));
	if (timed) {
		double over = median(v[T_OVER], n);   /* sorts it: [0] is the smallest */
		printf(" %.1f %.1f %.1f %.1f\n", median(v[T_SPAWN], n), median(v[T_GUEST], n),
		       over, v[T_OVER][0]);
	} else
		printf(" na na na na\n");
	return 0;
}
