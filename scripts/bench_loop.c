// SPDX-License-Identifier: MIT
/*
 * Benchmark workload: N x (malloc(64); free) in one loop, timed inside the
 * process so that start-up and probe attachment are not counted. Prints
 * the nanoseconds per malloc+free pair. "threads T N": T threads each run
 * the loop at once; prints the nanoseconds per pair of one thread (wall
 * time of the slowest over N): equal to the one-thread figure when the
 * threads share nothing. "mmap N": N x (mmap 64 KiB anonymous; munmap),
 * nanoseconds per pair (what --mmap costs); "syscalls N": ns per getppid()
 * (what a process heaptrace does not trace pays for its tracepoints).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

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

/* "keep N": hold N live blocks (for heaptrace's memory per live block). */
static int keep(long n)
{
	void **p = calloc((size_t)n, sizeof(*p));

	for (long i = 0; p && i < n; i++)
		p[i] = bench_alloc(40);
	return p ? 0 : 1;
}

static void loop(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = bench_alloc(64);

		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
}

static pthread_barrier_t start;

static void *thread_loop(void *arg)
{
	for (int i = 0; i < 100; i++)
		free(bench_alloc(64));
	pthread_barrier_wait(&start);
	loop(*(long *)arg);
	return NULL;
}

/* "threads T N": T threads looping at once; ns per pair of one thread. */
static int threads(int t, long n)
{
	pthread_t tid[64];
	double t0;

	if (t < 1 || t > 64 || pthread_barrier_init(&start, NULL, (unsigned)t + 1))
		return 1;
	for (int i = 0; i < t; i++)
		if (pthread_create(&tid[i], NULL, thread_loop, &n))
			return 1;
	pthread_barrier_wait(&start);
	t0 = now();
	for (int i = 0; i < t; i++)
		pthread_join(tid[i], NULL);
	printf("%.1f\n", (now() - t0) / (double)n);
	return 0;
}

/* "mmap N": ns per anonymous mmap+munmap pair. */
static int mmap_loop(long n)
{
	double t0 = 0;

	for (long i = -100; i < n; i++) {
		void *p;

		if (!i)
			t0 = now(); /* after a warm-up */
		p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || munmap(p, 65536))
			return 1;
	}
	printf("%.1f\n", (now() - t0) / (double)n);
	return 0;
}

/* "syscalls N": ns per getppid(), made as a raw syscall. */
static int syscall_loop(long n)
{
	double t0 = now();

	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("%.1f\n", (now() - t0) / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	double t0, t1;

	if (argc > 2 && !strcmp(argv[1], "keep"))
		return keep(atol(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "mmap"))
		return mmap_loop(atol(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "syscalls"))
		return syscall_loop(atol(argv[2]));
	if (argc > 3 && !strcmp(argv[1], "threads"))
		return threads(atoi(argv[2]), atol(argv[3]));
	/* Warm up: the first calls fault in the heap and the probes. */
	for (int i = 0; i < 100; i++)
		free(bench_alloc(64));
	t0 = now();
	loop(n);
	t1 = now();
	printf("%.1f\n", (t1 - t0) / (double)n);
	return 0;
}
