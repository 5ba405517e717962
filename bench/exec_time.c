/* bench/exec_time: times exec through the ocivmfs tree, N times, and prints
 * the median in microseconds (one number):
 *   exec_time DIR JSON N    DIR = MOUNT/containers/ID: write
 *                           "exec bNAME JSON" to DIR/ctl, read
 *                           DIR/exec/bNAME/wait to its end (the clock
 *                           stops there), then rmdir DIR/exec/bNAME
 *                           (not timed).  A status other than 0 fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static int one(const char *dir, const char *json, int i, double *us)
{
	char path[4096], line[4200], st[64];
	ssize_t n, len = 0;
	double t0 = now_us();
	int fd;

	snprintf(path, sizeof(path), "%s/ctl", dir);
	snprintf(line, sizeof(line), "exec b%d-%d %s\n", (int)getpid(), i, json);
	if ((fd = open(path, O_WRONLY)) < 0)
		return -1;
	n = write(fd, line, strlen(line));
	close(fd);
	if (n < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/exec/b%d-%d/wait", dir, (int)getpid(), i);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	while ((n = read(fd, st + len, sizeof(st) - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	*us = now_us() - t0;
	st[len] = '\0';
	snprintf(path, sizeof(path), "%s/exec/b%d-%d", dir, (int)getpid(), i);
	if (rmdir(path) < 0)
		return -1;
	if (strtol(st, NULL, 10) != 0 || len == 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc == 4 ? atoi(argv[3]) : 0;
	double *v = calloc((size_t)(n > 0 ? n : 1), sizeof(double));

	if (n <= 0 || !v)
		return 2;
	for (int i = 0; i < n; i++) {
		if (one(argv[1], argv[2], i, &v[i]) < 0) {
			fprintf(stderr, "exec_time: iteration %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%.1f\n", n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
	return 0;
}
