// SPDX-License-Identifier: MIT
/*
 * Benchmark workload: N x (malloc(64); free) in one loop, timed inside the
 * process so that start-up and probe attachment are not counted. Prints
 * the nanoseconds per malloc+free pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

NOINLINE void *bench_alloc(size_t n)
{
	return malloc(n);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	double t0, t1;

	/* Warm up: the first calls fault in the heap and the probes. */
	for (int i = 0; i < 100; i++)
		free(bench_alloc(64));
	t0 = now();
	for (long i = 0; i < n; i++) {
		void *p = bench_alloc(64);

		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
	t1 = now();
	printf("%.1f\n", (t1 - t0) / (double)n);
	return 0;
}
