// SPDX-License-Identifier: MIT
/*
 * grow: live memory that grows in known steps over time, for the tests of
 * periodic snapshots (tests/formats_it.c).
 *
 *   grow [STEPS [INTERVAL_MS [OFFSET_MS]]]      defaults: 6 500 250
 *
 * Waits OFFSET_MS, then makes STEPS steps INTERVAL_MS apart, each
 * 100 x grow_alloc(1000) kept (100000 bytes), waits INTERVAL_MS more and
 * exits 0. Step k (1-based) happens at OFFSET_MS + (k-1) * INTERVAL_MS
 * after start, on an absolute clock (no drift), so with the defaults the
 * steps fall halfway between the snapshots of `heaptrace -i 0.5`.
 *
 * Profile: one stack with frames[0] = grow_alloc; after k steps,
 * live_bytes = k * 100000, live_blocks = k * 100; nothing is freed.
 *
 * No stdio and no other allocations (errors go out through write(2)); the
 * pointers live in a static array. Build like the other workloads (-O0,
 * frame pointers, no inlining).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE      __attribute__((noinline))
#define PER_STEP      100
#define BLOCK_SIZE    1000
#define MAX_STEPS     200

void *grow_alloc(size_t size);

static void *kept[MAX_STEPS * PER_STEP];

static void die(const char *what)
{
	/* Best effort: the exit status says it anyway. */
	if (write(2, "grow: ", 6) == 6 && write(2, what, strlen(what)) > 0)
		(void)!write(2, "\n", 1);
	_exit(2);
}

static long arg(int argc, char **argv, int i, long def, long min, long max)
{
	char *end;
	long v;

	if (argc <= i)
		return def;
	errno = 0;
	v = strtol(argv[i], &end, 10);
	if (errno || end == argv[i] || *end || v < min || v > max)
		die("usage: grow [STEPS [INTERVAL_MS [OFFSET_MS]]]");
	return v;
}

/* Sleep until start + ms on CLOCK_MONOTONIC. */
static void sleep_until(const struct timespec *start, long ms)
{
	struct timespec t = *start;

	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

NOINLINE void *grow_alloc(size_t size) { return malloc(size); }

int main(int argc, char **argv)
{
	long steps = arg(argc, argv, 1, 6, 1, MAX_STEPS);
	long interval = arg(argc, argv, 2, 500, 1, 60000);
	long offset = arg(argc, argv, 3, 250, 0, 60000);
	struct timespec start;
	size_t n = 0;

	if (argc > 4)
		die("usage: grow [STEPS [INTERVAL_MS [OFFSET_MS]]]");
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long k = 0; k < steps; k++) {
		sleep_until(&start, offset + k * interval);
		for (int i = 0; i < PER_STEP; i++) {
			kept[n] = grow_alloc(BLOCK_SIZE);
			if (!kept[n++])
				die("out of memory");
		}
	}
	sleep_until(&start, offset + steps * interval);
	return 0;
}
