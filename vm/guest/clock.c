/* See clock.h. */
#include "clock.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GCLOCK_FINE_NS 1000   /* a resolution this fine is used as it is */

static int gclock_kind = -1;      /* -1 not chosen, 0 monotonic, 1 tsc, 2 coarse */
static uint64_t gclock_tsc_khz;

/* tsc_early_khz=N of /proc/cmdline, 0 without. */
static uint64_t cmdline_tsc_khz(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, "tsc_early_khz=")); p++)
		if (p == buf || p[-1] == ' ')
			return strtoull(p + 14, NULL, 10);
	return 0;
}

static void gclock_choose(void)
{
	struct timespec res;

	gclock_kind = 2;
	if (clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 &&
	    res.tv_nsec <= GCLOCK_FINE_NS) {
		gclock_kind = 0;
		return;
	}
#if defined(__x86_64__)
	if ((gclock_tsc_khz = cmdline_tsc_khz()) > 0)
		gclock_kind = 1;
#endif
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t gclock_us(void)
{
	if (gclock_kind < 0)
		gclock_choose();
#if defined(__x86_64__)
	if (gclock_kind == 1) {
		uint32_t lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		unsigned __int128 t = ((unsigned __int128)hi << 32 | lo) * 1000u;
		return (uint64_t)(t / gclock_tsc_khz);
	}
#endif
	return mono_us();
}

const char *gclock_name(void)
{
	if (gclock_kind < 0)
		gclock_choose();
	return gclock_kind == 0 ? "monotonic" : gclock_kind == 1 ? "tsc" : "monotonic-coarse";
}
