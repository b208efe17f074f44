// SPDX-License-Identifier: MIT
/*
 * phases: twelve allocation sites whose live bytes rise and fall over
 * about 1.5 s, for the memory-over-time chart of the HTML report
 * (tests/formats_it.c): more stacks than the chart has bands (10), so
 * that its "other" band holds some.
 *
 * Site k (1..12) is phase_site_K: malloc(k * 1000).
 *   at 0 ms:    every site allocates 10 blocks (780,000 bytes live);
 *   at 400 ms:  sites 1-6 free theirs (570,000 live);
 *   at 800 ms:  sites 7-12 allocate 10 more each, from a second call of
 *               alloc_site() (1,140,000 live: the peak);
 *   at 1200 ms: site 12 frees its 20 (900,000 live);
 *   at 1500 ms: exits, the rest leaked.
 * 180 allocations, 1,350,000 bytes, on 18 stacks (sites 7-12 have two).
 * The ten with the highest own high-water marks are both stacks of sites
 * 8 to 12; site 7's and sites 1-6's are "other". Times drift by what the
 * calls take.
 *
 * No stdio and no other allocations; pointers in a static array. Build
 * like the other workloads (-O0, frame pointers, no inlining).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"

#define SITES 12
#define PER_SITE 10

static void *kept[SITES][2 * PER_SITE];

/* One function per site: twelve stacks whose frames[0] name them. */
void *phase_site_1(void);
void *phase_site_2(void);
void *phase_site_3(void);
void *phase_site_4(void);
void *phase_site_5(void);
void *phase_site_6(void);
void *phase_site_7(void);
void *phase_site_8(void);
void *phase_site_9(void);
void *phase_site_10(void);
void *phase_site_11(void);
void *phase_site_12(void);
NOINLINE void *phase_site_1(void) { return malloc(1000); }
NOINLINE void *phase_site_2(void) { return malloc(2000); }
NOINLINE void *phase_site_3(void) { return malloc(3000); }
NOINLINE void *phase_site_4(void) { return malloc(4000); }
NOINLINE void *phase_site_5(void) { return malloc(5000); }
NOINLINE void *phase_site_6(void) { return malloc(6000); }
NOINLINE void *phase_site_7(void) { return malloc(7000); }
NOINLINE void *phase_site_8(void) { return malloc(8000); }
NOINLINE void *phase_site_9(void) { return malloc(9000); }
NOINLINE void *phase_site_10(void) { return malloc(10000); }
NOINLINE void *phase_site_11(void) { return malloc(11000); }
NOINLINE void *phase_site_12(void) { return malloc(12000); }

static void *(*const site[SITES])(void) = {
	phase_site_1,
	phase_site_2,
	phase_site_3,
	phase_site_4,
	phase_site_5,
	phase_site_6,
	phase_site_7,
	phase_site_8,
	phase_site_9,
	phase_site_10,
	phase_site_11,
	phase_site_12,
};

/* ms milliseconds (the phases drift by the time their calls take). */
static void pause_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static void alloc_site(int s, int from)
{
	for (int i = from; i < from + PER_SITE; i++) {
		kept[s][i] = site[s]();
		if (!kept[s][i])
			_exit(2);
	}
}

static void free_site(int s)
{
	for (int i = 0; i < 2 * PER_SITE; i++) {
		if (kept[s][i])
			free(kept[s][i]);
		kept[s][i] = NULL;
	}
}

int main(void)
{
	for (int s = 0; s < SITES; s++)
		alloc_site(s, 0);
	pause_ms(400);
	for (int s = 0; s < 6; s++)
		free_site(s);
	pause_ms(400);
	for (int s = 6; s < SITES; s++)
		alloc_site(s, PER_SITE);
	pause_ms(400);
	free_site(SITES - 1);
	pause_ms(300);
	return 0;
}
