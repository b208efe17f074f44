// SPDX-License-Identifier: MIT
/*
 * The HTML report of a big profile, without the kernel in the way:
 *
 *   bench_html STACKS OUT.html
 *
 * fills the heap model with STACKS distinct stacks over 600 s of model
 * time (two blocks each, one of them freed later; sizes at random) and
 * writes the HTML report to OUT.html; prints the stacks, the file's size
 * and the time the report took. The frames are return addresses spread
 * over this process's libc (real names from the symbolizer), shaped as a
 * tree: the outer frames are shared by many stacks, the inner ones by few.
 * `make bench-html` then opens the file in headless Chromium.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "heap.h"
#include "modules.h"
#include "report.h"
#include "stacks.h"
#include "symbolize.h"
#include "util.h"

#define DEPTH 12
#define POOL 4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The executable mapping of libc in /proc/self/maps. */
static int libc_text(uint64_t *lo, uint64_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		char perm[8];

		if (sscanf(line, "%llx-%llx %7s", &a, &b, perm) == 3 && perm[2] == 'x' &&
		    strstr(line, "/libc.so")) {
			*lo = a;
			*hi = b;
			err = 0;
		}
	}
	fclose(f);
	return err;
}

static uint64_t mix(uint64_t x)
{
	return hash_u64(x * 0x9e3779b97f4a7c15ULL + 1);
}

int main(int argc, char **argv)
{
	struct ht_heap *heap = heap__new();
	struct ht_stacks *stacks = stacks__new();
	struct ht_modules *ms = modules__new(getpid());
	struct ht_symbolizer *sym = NULL;
	struct ht_report_input in = { 0 };
	uint64_t pool[POOL], lo = 0, hi = 0, addr = 0x100000;
	long n = argc == 3 ? atol(argv[1]) : 0;
	double t0, t1;
	struct stat st;
	FILE *f;
	int err;

	if (n <= 0) {
		fprintf(stderr, "usage: bench_html STACKS OUT.html\n");
		return 2;
	}
	if (!heap || !stacks || !ms || modules__refresh(ms) || libc_text(&lo, &hi) ||
	    !(sym = symbolizer__new(ms, NULL))) {
		fprintf(stderr, "bench_html: can't set up the model\n");
		return 1;
	}
	for (int i = 0; i < POOL; i++)
		pool[i] = lo + 1 + mix((uint64_t)i) % (hi - lo - 1);
	/* Stack s at model time s * 60 s / n: frame d (outermost 0) is shared
	 * by the stacks that agree on s's top bits, fewer bits further out. */
	for (long s = 0; s < n; s++) {
		uint64_t ips[DEPTH];
		uint32_t id;

		for (int d = 0; d < DEPTH; d++) {
			int shift = (DEPTH - 1 - d) * 16 / DEPTH;

			ips[DEPTH - 1 - d] = pool[mix((uint64_t)(s >> shift) * DEPTH + d) % POOL];
		}
		/* The two innermost frames tell every stack apart. */
		ips[0] = pool[s % POOL];
		ips[1] = pool[(s / POOL) % POOL];
		if (stacks__intern(stacks, ips, DEPTH, &id))
			return 1;
		heap__set_time(heap, (uint64_t)(s * 600000.0 / n) * 1000000);
		heap__alloc(heap, addr, 16 + mix(s) % 4096, id, 1);
		heap__alloc(heap, addr + 0x10000000, 16 + mix(s + n) % 65536, id, 1);
		if (s >= 100)
			heap__free_block(heap, addr + 0x10000000 - 100 * 0x10, 1);
		addr += 0x10;
	}
	heap__set_time(heap, 600000ULL * 1000000);
	in.heap = heap;
	in.stacks = stacks;
	in.sym = sym;
	in.target.pid = getpid();
	in.target.command = "bench_html";
	in.target.duration_s = 600;
	in.top_n = 10;
	f = fopen(argv[2], "w");
	if (!f)
		return 1;
	t0 = now();
	err = report__html(f, &in);
	if (fclose(f) && !err)
		err = -EIO;
	t1 = now();
	if (err || stat(argv[2], &st)) {
		fprintf(stderr, "bench_html: can't write %s: %s\n", argv[2], strerror(-err));
		return 1;
	}
	printf("html report of %u stacks: %lld bytes (%.1f MiB), written in %.2f s; "
	       "heap model %.1f MiB\n",
	       stacks__count(stacks), (long long)st.st_size, (double)st.st_size / 1048576,
	       t1 - t0, (double)heap__mem_bytes(heap) / 1048576);
	symbolizer__free(sym);
	modules__free(ms);
	stacks__free(stacks);
	heap__free(heap);
	return 0;
}
