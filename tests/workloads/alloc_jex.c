// SPDX-License-Identifier: MIT
/*
 * alloc_jex: jemalloc's non-standard API with a known profile; linked
 * with -ljemalloc (Debian's libjemalloc2) by tests/alloc.mk. Declared weak
 * unless ALLOC_LINKED (see common.h): a plain build links and is never run.
 *
 * Sites (frames[0]), all called from run_jex, called from main
 * through alloc_workload_main:
 *   jx_mallocx        100 x mallocx(100, 0), kept
 *   jx_mallocx_zero   50 x mallocx(200, MALLOCX_ZERO), kept
 *   jx_mallocx_align  50 x mallocx(100, MALLOCX_ALIGN(64)), each freed at
 *                     once by sdallocx(p, 100, MALLOCX_ALIGN(64)): temporary
 *   jx_rstart         mallocx(16, 0), then jx_rallocx: rallocx(p, 32), 64,
 *                     ... 4096 on that block (each step frees the last)
 *   jx_xbase          20 x mallocx(100, 0), each then resized in place by
 *                     jx_xgrow: xallocx(p, 110, 0, 0) - 110 is in 100's
 *                     size class (112), so it succeeds: a realloc of p to
 *                     110 bytes at the same address - and not by
 *                     jx_xfail: xallocx(p, 1 MiB, 0, 0), which can't grow a
 *                     small block in place (returns 112 < 1 MiB): no change
 *   jx_dkeep          30 x mallocx(64, 0), then all freed by dallocx(p, 0)
 *                     in allocation order (the last one is temporary)
 * The peak is just before the dallocx frees.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <unistd.h>

#include "common.h"

#define MALLOCX_ZERO 0x40
#define MALLOCX_ALIGN(a) ((int)__builtin_ctzl(a))

WEAK void *mallocx(size_t size, int flags);
WEAK void *rallocx(void *ptr, size_t size, int flags);
WEAK size_t xallocx(void *ptr, size_t size, size_t extra, int flags);
WEAK void sdallocx(void *ptr, size_t size, int flags);
WEAK void dallocx(void *ptr, int flags);

void *jx_mallocx(void);
void *jx_mallocx_zero(void);
void *jx_mallocx_align(void);
void jx_sdallocx(void *p);
void *jx_rstart(void);
void *jx_rallocx(void *p, size_t size);
void *jx_xbase(void);
size_t jx_xgrow(void *p);
size_t jx_xfail(void *p);
void *jx_dkeep(void);
void jx_dallocx(void *p);
void run_jex(void);

static void *kept[300], *dk[30];

NOINLINE void *jx_mallocx(void) { return mallocx(100, 0); }
NOINLINE void *jx_mallocx_zero(void) { return mallocx(200, MALLOCX_ZERO); }
NOINLINE void *jx_mallocx_align(void) { return mallocx(100, MALLOCX_ALIGN(64)); }
NOINLINE void jx_sdallocx(void *p) { sdallocx(p, 100, MALLOCX_ALIGN(64)); }
NOINLINE void *jx_rstart(void) { return mallocx(16, 0); }
NOINLINE void *jx_rallocx(void *p, size_t size) { return rallocx(p, size, 0); }
NOINLINE void *jx_xbase(void) { return mallocx(100, 0); }
NOINLINE size_t jx_xgrow(void *p) { return xallocx(p, 110, 0, 0); }
NOINLINE size_t jx_xfail(void *p) { return xallocx(p, 1 << 20, 0, 0); }
NOINLINE void *jx_dkeep(void) { return mallocx(64, 0); }
NOINLINE void jx_dallocx(void *p) { dallocx(p, 0); }

NOINLINE void run_jex(void)
{
	void *p;
	int k = 0;

	for (int i = 0; i < 100; i++)
		kept[k++] = jx_mallocx();
	for (int i = 0; i < 50; i++)
		kept[k++] = jx_mallocx_zero();
	for (int i = 0; i < 50; i++)
		jx_sdallocx(jx_mallocx_align());
	p = jx_rstart();
	for (size_t size = 32; size <= 4096; size *= 2)
		p = jx_rallocx(p, size);
	kept[k++] = p;
	for (int i = 0; i < 20; i++) {
		p = jx_xbase();
		if (jx_xgrow(p) < 110)
			_exit(3);
		if (jx_xfail(p) >= 1 << 20)
			_exit(4);
		kept[k++] = p;
	}
	for (int i = 0; i < 30; i++)
		dk[i] = jx_dkeep();
	for (int i = 0; i < 30; i++)
		jx_dallocx(dk[i]);
}

int main(int argc, char **argv)
{
	return alloc_workload_main(argc, argv, ALLOC_PRESENT(mallocx), run_jex);
}
