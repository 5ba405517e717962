/* bench/ctl_time: times one file operation of the ocivmfs tree, N times,
 * and prints the median in microseconds (one number).
 *   ctl_time read PATH N             open + read to EOF + close
 *   ctl_time write PATH TEXT N       open + write(TEXT) + close (errors ok)
 *   ctl_time event EVENTS CTL A B N  write A, then B, to CTL alternately;
 *                                    time until the event line is readable
 *   ctl_time spawn N PROG ARGS...    fork + exec + wait (stdout to /dev/null) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int one_read(const char *path)
{
	char buf[65536];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}

static int one_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t r = write(fd, text, strlen(text));
	(void)r;
	close(fd);
	return 0;
}

static int one_spawn(char **argv)
{
	pid_t pid = fork();
	int st;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* write a command, then wait (poll) for the next events line */
static int one_event(int evfd, const char *ctl, const char *cmd, double *us)
{
	char buf[4096];
	struct pollfd p = { .fd = evfd, .events = POLLIN };
	double t0 = now_us();
	int fd = open(ctl, O_WRONLY);
	if (fd < 0 || write(fd, cmd, strlen(cmd)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (poll(&p, 1, 10000) != 1 || read(evfd, buf, sizeof(buf)) <= 0)
		return -1;
	*us = now_us() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *mode = argv[1];
	int n = atoi(strcmp(mode, "spawn") == 0 ? argv[2] : argv[argc - 1]);
	double *v = calloc((size_t)(n > 0 ? n : 1), sizeof(double));
	int evfd = -1;

	if (n <= 0 || !v)
		return 2;
	if (strcmp(mode, "event") == 0 && (argc != 7 || (evfd = open(argv[2], O_RDONLY | O_NONBLOCK)) < 0))
		return 2;
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		int r;
		if (strcmp(mode, "read") == 0)
			r = one_read(argv[2]);
		else if (strcmp(mode, "write") == 0)
			r = one_write(argv[2], argv[3]);
		else if (strcmp(mode, "spawn") == 0)
			r = one_spawn(argv + 3);
		else if (strcmp(mode, "event") == 0)
			r = one_event(evfd, argv[3], i % 2 ? argv[5] : argv[4], &v[i]);
		else
			return 2;
		if (r < 0) {
			fprintf(stderr, "ctl_time: %s failed at iteration %d: %s\n", mode, i, strerror(errno));
			return 1;
		}
		if (strcmp(mode, "event") != 0)
			v[i] = now_us() - t0;
	}
	printf("%.1f\n", median(v, n));
	return 0;
}
