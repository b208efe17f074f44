// SPDX-License-Identifier: MIT
/*
 * Benchmark workload: N x (malloc(64); free) at the bottom of a 30-frame
 * call chain, built without frame pointers (-O2 -fomit-frame-pointer):
 * what the in-kernel CFI unwinder costs per frame. Prints the
 * nanoseconds per malloc+free pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SITE __attribute__((noipa))

SITE long chain(int depth, long n);
SITE long chain(int depth, long n)
{
	volatile char pad[16];
	long r = 0;

	pad[0] = (char)depth;
	if (depth > 1) {
		r = chain(depth - 1, n);
	} else {
		for (long i = 0; i < n; i++) {
			void *p = malloc(64);

			r += p != NULL;
			free(p);
		}
	}
	pad[1] = pad[0];
	return r;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	struct timespec a, b;
	long r;

	clock_gettime(CLOCK_MONOTONIC, &a);
	/* main and libc's start-up make the other frames */
	r = chain(26, n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f\n", ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) /
			 (double)n);
	return r == n ? 0 : 1;
}
