// SPDX-License-Identifier: MIT
/*
 * known: a workload whose heap profile is known exactly, one mode per
 * scenario. Run as `known MODE`; tests/integration_it.c traces it with
 * heaptrace and compares the report against the numbers documented here.
 *
 * Rules that keep the profile exact:
 *  - every allocation site is its own named, non-static, noinline function
 *    with a single call to the allocator, called from a single place, so
 *    each site is exactly one stack whose frames[0] is that function;
 *  - no stdio: nothing here allocates behind our back (messages go through
 *    write(2)), so in single-threaded modes the process makes no allocator
 *    calls besides the ones listed;
 *  - pointers are kept in static arrays, never on the heap.
 *
 * Build with -O0 -g -fno-omit-frame-pointer -fno-inline
 * -fno-optimize-sibling-calls -pthread (see tests/tests.mk).
 *
 * Modes and their profiles, per stack (the stack named by frames[0]):
 *
 *  keep          keep_malloc: 1000 x malloc(100), kept.
 *  churn         churn_malloc: 5000 x malloc(64), each freed at once
 *                (5000 temporary).
 *  calloc        do_calloc: 100 x calloc(10, 30), kept.
 *  realloc       orig_alloc: 10 x malloc(1000), each then moved by
 *                move_realloc: realloc(p, 100000), kept; then grow_realloc:
 *                realloc(NULL, 16), then 32, 64, ..., 4096 on that block.
 *  realloc0      zero_alloc: 100 x malloc(40), each freed by zero_realloc:
 *                realloc(p, 0).
 *  reallocarray  do_reallocarray: 100 x reallocarray(NULL, 8, 8), kept.
 *  memalign      50 each, kept: do_posix_memalign (64, 100),
 *                do_aligned_alloc (64, 128), do_memalign (64, 200),
 *                do_valloc (300), do_pvalloc (400).
 *  smallalign    300 each, kept: do_posix_memalign (16, 64),
 *                do_aligned_alloc (16, 64), do_memalign (8, 64) - glibc
 *                hands these alignments on to its own malloc entry.
 *  big           big_temp_malloc: 2 x malloc(8 MiB), each freed at once;
 *                then big_malloc: 3 x malloc(4 MiB), kept.
 *  strdup        do_strdup: 100 x strdup("hello world") (12 bytes), kept.
 *  threads       thread A: thread_alloc 1000 x malloc(48); after A ends,
 *                thread B frees them all in thread_free; then 4 threads run
 *                thread_churn 500 x (malloc(24), free) each, concurrently.
 *  peak          before_peak: 10 x malloc(500) kept; peak_phase:
 *                100 x malloc(10000), then peak_release frees them in
 *                reverse order; then after_peak: 50 x malloc(1000) kept.
 *  attach        pre_attach_alloc: 10 x malloc(256); writes 'R' on stdout
 *                and waits for a byte on stdin; then pre_attach_release
 *                frees those 10 and post_attach_alloc makes
 *                200 x malloc(32), kept; writes 'D' on stdout and waits for
 *                a byte or end of file on stdin, then exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

/* Prototypes keep -Wmissing-prototypes happy while the sites stay global. */
void *keep_malloc(size_t size);
void *churn_malloc(size_t size);
void *do_calloc(size_t n, size_t size);
void *orig_alloc(size_t size);
void *move_realloc(void *p, size_t size);
void *grow_realloc(void *p, size_t size);
void *zero_alloc(size_t size);
void *zero_realloc(void *p);
void *do_reallocarray(size_t n, size_t size);
void *do_posix_memalign(size_t align, size_t size);
void *do_aligned_alloc(size_t align, size_t size);
void *do_memalign(size_t align, size_t size);
void *do_valloc(size_t size);
void *do_pvalloc(size_t size);
void *big_malloc(size_t size);
void *big_temp_malloc(size_t size);
void *do_strdup(const char *s);
void *thread_alloc(size_t size);
void thread_free(void *p);
void *thread_churn(size_t size);
void *before_peak(size_t size);
void *peak_phase(size_t size);
void peak_release(void *p);
void *after_peak(size_t size);
void *pre_attach_alloc(size_t size);
void pre_attach_release(void *p);
void *post_attach_alloc(size_t size);
void release(void *p);

#define MAX_KEPT 1000
static void *kept[MAX_KEPT];

static void *check(void *p, const char *what)
{
	if (!p)
		die(what);
	return p;
}

/* ---- allocation sites: one allocator call each ---- */

NOINLINE void *keep_malloc(size_t size) { return malloc(size); }
NOINLINE void *churn_malloc(size_t size) { return malloc(size); }
NOINLINE void *do_calloc(size_t n, size_t size) { return calloc(n, size); }
NOINLINE void *orig_alloc(size_t size) { return malloc(size); }
NOINLINE void *move_realloc(void *p, size_t size) { return realloc(p, size); }
NOINLINE void *grow_realloc(void *p, size_t size) { return realloc(p, size); }
NOINLINE void *zero_alloc(size_t size) { return malloc(size); }
NOINLINE void *zero_realloc(void *p) { return realloc(p, 0); }
NOINLINE void *do_reallocarray(size_t n, size_t size) { return reallocarray(NULL, n, size); }

NOINLINE void *do_posix_memalign(size_t align, size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, align, size) != 0)
		return NULL;
	return p;
}

NOINLINE void *do_aligned_alloc(size_t align, size_t size) { return aligned_alloc(align, size); }
NOINLINE void *do_memalign(size_t align, size_t size) { return memalign(align, size); }
NOINLINE void *do_valloc(size_t size) { return valloc(size); }
NOINLINE void *do_pvalloc(size_t size) { return pvalloc(size); }
NOINLINE void *big_malloc(size_t size) { return malloc(size); }
NOINLINE void *big_temp_malloc(size_t size) { return malloc(size); }
NOINLINE void *do_strdup(const char *s) { return strdup(s); }
NOINLINE void *thread_alloc(size_t size) { return malloc(size); }
NOINLINE void thread_free(void *p) { free(p); }
NOINLINE void *thread_churn(size_t size) { return malloc(size); }
NOINLINE void *before_peak(size_t size) { return malloc(size); }
NOINLINE void *peak_phase(size_t size) { return malloc(size); }
NOINLINE void peak_release(void *p) { free(p); }
NOINLINE void *after_peak(size_t size) { return malloc(size); }
NOINLINE void *pre_attach_alloc(size_t size) { return malloc(size); }
NOINLINE void pre_attach_release(void *p) { free(p); }
NOINLINE void *post_attach_alloc(size_t size) { return malloc(size); }
NOINLINE void release(void *p) { free(p); }

/* ---- modes ---- */

static void run_keep(void)
{
	for (int i = 0; i < 1000; i++)
		kept[i] = check(keep_malloc(100), "keep_malloc");
}

static void run_churn(void)
{
	for (int i = 0; i < 5000; i++)
		release(check(churn_malloc(64), "churn_malloc"));
}

static void run_calloc(void)
{
	for (int i = 0; i < 100; i++)
		kept[i] = check(do_calloc(10, 30), "do_calloc");
}

static void run_realloc(void)
{
	void *p = NULL;

	for (int i = 0; i < 10; i++) {
		void *o = check(orig_alloc(1000), "orig_alloc");

		kept[i] = check(move_realloc(o, 100000), "move_realloc");
	}
	for (size_t size = 16; size <= 4096; size *= 2)
		p = check(grow_realloc(p, size), "grow_realloc");
	kept[10] = p;
}

static void run_realloc0(void)
{
	for (int i = 0; i < 100; i++) {
		void *p = check(zero_alloc(40), "zero_alloc");

		/* glibc frees p and returns NULL; either way p is gone. */
		kept[i] = zero_realloc(p);
		if (kept[i])
			die("realloc(p, 0) returned a block; expected glibc behaviour");
	}
}

static void run_reallocarray(void)
{
	for (int i = 0; i < 100; i++)
		kept[i] = check(do_reallocarray(8, 8), "do_reallocarray");
}

static void run_memalign(void)
{
	int k = 0;

	for (int i = 0; i < 50; i++)
		kept[k++] = check(do_posix_memalign(64, 100), "do_posix_memalign");
	for (int i = 0; i < 50; i++)
		kept[k++] = check(do_aligned_alloc(64, 128), "do_aligned_alloc");
	for (int i = 0; i < 50; i++)
		kept[k++] = check(do_memalign(64, 200), "do_memalign");
	for (int i = 0; i < 50; i++)
		kept[k++] = check(do_valloc(300), "do_valloc");
	for (int i = 0; i < 50; i++)
		kept[k++] = check(do_pvalloc(400), "do_pvalloc");
}

static void run_smallalign(void)
{
	int k = 0;

	for (int i = 0; i < 300; i++)
		kept[k++] = check(do_posix_memalign(16, 64), "do_posix_memalign");
	for (int i = 0; i < 300; i++)
		kept[k++] = check(do_aligned_alloc(16, 64), "do_aligned_alloc");
	for (int i = 0; i < 300; i++)
		kept[k++] = check(do_memalign(8, 64), "do_memalign");
}

static void run_big(void)
{
	for (int i = 0; i < 2; i++)
		release(check(big_temp_malloc(8u << 20), "big_temp_malloc"));
	for (int i = 0; i < 3; i++)
		kept[i] = check(big_malloc(4u << 20), "big_malloc");
}

static void run_strdup(void)
{
	for (int i = 0; i < 100; i++)
		kept[i] = check(do_strdup("hello world"), "do_strdup");
}

static void *thread_a_main(void *arg)
{
	for (int i = 0; i < 1000; i++)
		kept[i] = check(thread_alloc(48), "thread_alloc");
	return arg;
}

static void *thread_b_main(void *arg)
{
	for (int i = 0; i < 1000; i++)
		thread_free(kept[i]);
	return arg;
}

static pthread_barrier_t churn_start;

static void *thread_churn_main(void *arg)
{
	pthread_barrier_wait(&churn_start);
	for (int i = 0; i < 500; i++)
		release(check(thread_churn(24), "thread_churn"));
	return arg;
}

static void start_thread_or_die(pthread_t *t, void *(*fn)(void *))
{
	if (pthread_create(t, NULL, fn, NULL) != 0)
		die("pthread_create failed");
}

static void run_threads(void)
{
	pthread_t a, b, churn[4];

	start_thread_or_die(&a, thread_a_main);
	pthread_join(a, NULL);
	start_thread_or_die(&b, thread_b_main);
	pthread_join(b, NULL);

	if (pthread_barrier_init(&churn_start, NULL, 4) != 0)
		die("pthread_barrier_init failed");
	for (int i = 0; i < 4; i++)
		start_thread_or_die(&churn[i], thread_churn_main);
	for (int i = 0; i < 4; i++)
		pthread_join(churn[i], NULL);
	pthread_barrier_destroy(&churn_start);
}

static void run_peak(void)
{
	static void *big[100];

	for (int i = 0; i < 10; i++)
		kept[i] = check(before_peak(500), "before_peak");
	for (int i = 0; i < 100; i++)
		big[i] = check(peak_phase(10000), "peak_phase");
	for (int i = 99; i >= 0; i--)
		peak_release(big[i]);
	for (int i = 0; i < 50; i++)
		kept[10 + i] = check(after_peak(1000), "after_peak");
}

/* Tell the driver where we are: one byte on stdout. */
static void signal_driver(char c)
{
	while (write(1, &c, 1) != 1) {
		if (errno != EINTR)
			die("cannot write to stdout");
	}
}

/* Wait for one byte on stdin; end of file counts too. */
static void wait_driver(void)
{
	char c;

	while (read(0, &c, 1) < 0) {
		if (errno != EINTR)
			die("cannot read stdin");
	}
}

static void run_attach(void)
{
	void *pre[10];

	for (int i = 0; i < 10; i++)
		pre[i] = check(pre_attach_alloc(256), "pre_attach_alloc");
	signal_driver('R');
	wait_driver();
	for (int i = 0; i < 10; i++)
		pre_attach_release(pre[i]);
	for (int i = 0; i < 200; i++)
		kept[i] = check(post_attach_alloc(32), "post_attach_alloc");
	signal_driver('D');
	wait_driver();
}

static const struct {
	const char *name;
	void (*run)(void);
} modes[] = {
	{ "keep", run_keep },
	{ "churn", run_churn },
	{ "calloc", run_calloc },
	{ "realloc", run_realloc },
	{ "realloc0", run_realloc0 },
	{ "reallocarray", run_reallocarray },
	{ "memalign", run_memalign },
	{ "smallalign", run_smallalign },
	{ "big", run_big },
	{ "strdup", run_strdup },
	{ "threads", run_threads },
	{ "peak", run_peak },
	{ "attach", run_attach },
};

int main(int argc, char **argv)
{
	if (argc == 2) {
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			if (strcmp(argv[1], modes[i].name) == 0) {
				modes[i].run();
				return 0;
			}
		}
	}
	say("usage: known MODE\nmodes:");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		say(" ");
		say(modes[i].name);
	}
	say("\n");
	return 2;
}
