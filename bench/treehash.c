/* bench-treehash DIR [ROUNDS]: the rootfs cache key (vm_tree_hash, SHA-256
 * over metadata and every byte) of DIR, ROUNDS times (default 3); prints the
 * best wall time and the MB/s of file data it covered:
 *   treehash ms=<best> mb=<data MB> mbps=<x> entries=<n> key=<hex> */
#include "vm/driver/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct vm_tree_sum sum;
	double best = 1e9;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;

	if (argc < 2 || rounds < 1)
		return fprintf(stderr, "usage: bench-treehash DIR [ROUNDS]\n"), 2;
	for (int i = 0; i < rounds; i++) {
		double t0 = now_s();
		int r = vm_tree_hash(argv[1], &sum);
		double t = now_s() - t0;
		if (r < 0)
			return fprintf(stderr, "bench-treehash: %s: %s\n", argv[1], strerror(-r)), 1;
		if (t < best)
			best = t;
	}
	double mb = (double)sum.bytes / 1e6;
	printf("treehash ms=%.1f mb=%.1f mbps=%.0f entries=%llu key=%s\n", best * 1e3, mb,
	       mb / best, (unsigned long long)sum.entries, sum.hex);
	return 0;
}
