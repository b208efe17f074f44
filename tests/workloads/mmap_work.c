// SPDX-License-Identifier: MIT
/*
 * Anonymous mappings from known stacks, for --mmap (tests/mmap_it.c):
 *
 *   map_keep        5 x 1 MiB, kept
 *   map_churn       3 x 64 KiB, each unmapped at once
 *   map_hole        16 KiB, its second page unmapped: 12 KiB in 2 ranges
 *   map_grow        4 KiB, grown by mremap to 16 KiB (attributed here)
 *   map_fixed_base  8 KiB, of which map_fixed_over maps its second page
 *                   again (MAP_FIXED): 4 KiB each, 4 KiB replaced
 *   map_file        4 KiB of a file, unmapped: neither counts (its munmap
 *                   is an unmap of memory not seen mapped anonymous)
 *   heap_work       10 x malloc(100) and malloc(300000), kept: the heap
 *                   totals; glibc maps the large block itself
 *
 * With the argument "wait", between handshake_ready() and
 * handshake_done(). "churn N" instead: N x (mmap 64 KiB; munmap) in
 * map_many, to overflow a small ring buffer; "threads T N": T threads
 * each N x (mmap 64 KiB; mremap it to 128 KiB; munmap) in map_race, at
 * once - the addresses one thread unmaps are what the next mmap of
 * another gets.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "common.h"

#define KIB 1024UL
#define MIB (1024 * KIB)

static void *keep[32];
static int nkeep;

/* Each function calls mmap itself: its own frame is the mapping's stack. */
static NOINLINE void map_keep(void)
{
	for (int i = 0; i < 5; i++) {
		void *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);

		if (p == MAP_FAILED)
			die("mmap failed");
		keep[nkeep++] = p;
	}
}

static NOINLINE void map_churn(void)
{
	for (int i = 0; i < 3; i++) {
		void *p = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED || munmap(p, 64 * KIB))
			die("mmap/munmap failed");
	}
}

static NOINLINE void map_hole(void)
{
	char *p = mmap(NULL, 16 * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	if (p == MAP_FAILED || munmap(p + 4 * KIB, 4 * KIB))
		die("mmap/munmap failed");
	keep[nkeep++] = p;
}

static NOINLINE void map_grow(void)
{
	void *p = mmap(NULL, 4 * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap failed");
	/* grown in place or moved: the model takes either */
	p = mremap(p, 4 * KIB, 16 * KIB, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		die("mremap failed");
	keep[nkeep++] = p;
}

static NOINLINE char *map_fixed_base(void)
{
	char *p = mmap(NULL, 8 * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap failed");
	return p;
}

static NOINLINE void map_fixed_over(char *base)
{
	void *p = mmap(base + 4 * KIB, 4 * KIB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (p != base + 4 * KIB)
		die("mmap MAP_FIXED failed");
	keep[nkeep++] = base;
}

static NOINLINE void map_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		die("open failed");
	p = mmap(NULL, 4 * KIB, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED || munmap(p, 4 * KIB))
		die("file mmap/munmap failed");
	close(fd);
}

static NOINLINE void heap_work(void)
{
	for (int i = 0; i < 10; i++)
		keep[nkeep++] = malloc(100);
	keep[nkeep++] = malloc(300000);
}

static NOINLINE void map_many(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED || munmap(p, 64 * KIB))
			die("mmap/munmap failed");
	}
}

static pthread_barrier_t race_start;

static NOINLINE void map_race(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED)
			die("mmap failed");
		p = mremap(p, 64 * KIB, 128 * KIB, MREMAP_MAYMOVE);
		if (p == MAP_FAILED || munmap(p, 128 * KIB))
			die("mremap/munmap failed");
	}
}

static void *race_thread(void *arg)
{
	pthread_barrier_wait(&race_start);
	map_race(*(long *)arg);
	return NULL;
}

static int race(int t, long n)
{
	pthread_t tid[16];

	if (t < 1 || t > 16 || pthread_barrier_init(&race_start, NULL, (unsigned)t))
		return 1;
	for (int i = 0; i < t; i++)
		if (pthread_create(&tid[i], NULL, race_thread, &n))
			return 1;
	for (int i = 0; i < t; i++)
		pthread_join(tid[i], NULL);
	return 0;
}

static void run(const char *self)
{
	map_keep();
	map_churn();
	map_hole();
	map_grow();
	map_fixed_over(map_fixed_base());
	map_file(self);
	heap_work();
}

int main(int argc, char **argv)
{
	bool wait = argc > 1 && !strcmp(argv[1], "wait");

	if (argc > 2 && !strcmp(argv[1], "churn")) {
		map_many(atol(argv[2]));
		return 0;
	}
	if (argc > 3 && !strcmp(argv[1], "threads"))
		return race(atoi(argv[2]), atol(argv[3]));

	if (wait && !handshake_ready())
		return 1;
	run(argv[0]);
	return wait && !handshake_done() ? 1 : 0;
}
