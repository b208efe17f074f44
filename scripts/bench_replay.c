// SPDX-License-Identifier: MIT
/*
 * User-space throughput and memory, without the kernel in the way:
 *
 *   bench_replay RECORDING   replays a stream saved by `heaptrace --record`
 *                            through the event decoder, stack interning and
 *                            the heap model (frame-pointer stacks), and
 *                            prints events per second on one core;
 *   bench_replay --blocks N  holds N live blocks over 1000 stacks in the
 *                            heap model and prints its bytes per live block.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "heap.h"
#include "stacks.h"
#include "stream.h"

struct model {
	struct ht_heap *heap;
	struct ht_stacks *stacks;
};

static int on_alloc(void *ctx, const struct ht_alloc_event *e)
{
	struct model *m = ctx;
	uint32_t id;

	if (stacks__intern(m->stacks, (const uint64_t *)e->ips, e->nr_ips, &id))
		return -ENOMEM;
	return heap__realloc(m->heap, e->old_addr, e->addr, e->size, id, e->hdr.tid);
}

static int on_free(void *ctx, const struct ht_free_event *e)
{
	struct model *m = ctx;

	heap__free_block(m->heap, e->addr, e->hdr.tid);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	if (f)
		fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static int replay(const char *path)
{
	static const struct ht_stream_ops ops = { .on_alloc = on_alloc, .on_free = on_free };
	struct model m = { heap__new(), stacks__new() };
	long events = 0, n;
	struct stat st;
	double t0, t;
	void *data;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "bench_replay: can't open '%s': %s\n", path, strerror(errno));
		return 1;
	}
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (data == MAP_FAILED)
		return 1;
	t0 = now();
	do {
		n = stream__replay(data, (size_t)st.st_size, &ops, &m);
		if (n < 0) {
			fprintf(stderr, "bench_replay: '%s' is truncated\n", path);
			return 1;
		}
		events += n;
		t = now() - t0;
	} while (t < 1.0);
	printf("replay: %ld events in %.2f s: %.2f million events/s\n", events, t,
	       (double)events / t / 1e6);
	return 0;
}

static int blocks(long n)
{
	struct ht_heap *h = heap__new();
	long rss0 = rss_bytes(), rss1;

	for (long i = 0; i < n; i++)
		if (heap__alloc(h, 0x10000000 + (uint64_t)i * 48, 40, (uint32_t)(i % 1000), 1))
			return 1;
	rss1 = rss_bytes();
	printf("memory: %ld live blocks: model %.1f bytes/block, RSS growth %.1f bytes/block\n",
	       n, (double)heap__mem_bytes(h) / (double)n, (double)(rss1 - rss0) / (double)n);
	heap__free(h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--blocks"))
		return blocks(atol(argv[2]));
	if (argc == 2)
		return replay(argv[1]);
	fprintf(stderr, "usage: bench_replay RECORDING | --blocks N\n");
	return 2;
}
