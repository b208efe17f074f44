// SPDX-License-Identifier: MIT
/*
 * alloc_tc: tcmalloc's own API (tc_*) with a known profile; linked with
 * -ltcmalloc_minimal (Debian's libtcmalloc-minimal4) by tests/alloc.mk.
 * Declared weak unless ALLOC_LINKED (see common.h): a plain build links
 * and is never run.
 *
 * Sites (frames[0]), all called from run_tc, called from main
 * through alloc_workload_main:
 *   tc_keep   100 x tc_malloc(100), kept
 *   tc_cal    50 x tc_calloc(10, 10), kept
 *   tc_grow   tc_realloc(NULL, 16), then 32, ... 4096 on that block
 *   tc_tmp    50 x tc_malloc(48), each freed at once by tc_free_sized
 *   tc_al     50 x tc_memalign(64, 128), kept
 *   tc_pm     50 x tc_posix_memalign(64, 96), kept
 *   tc_nw     50 x tc_new(40), each freed at once by tc_delete
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <unistd.h>

#include "common.h"

WEAK void *tc_malloc(size_t size);
WEAK void *tc_calloc(size_t n, size_t size);
WEAK void *tc_realloc(void *p, size_t size);
WEAK void tc_free(void *p);
WEAK void tc_free_sized(void *p, size_t size);
WEAK void *tc_memalign(size_t align, size_t size);
WEAK int tc_posix_memalign(void **out, size_t align, size_t size);
WEAK void *tc_new(size_t size);
WEAK void tc_delete(void *p);

void *tc_keep(void);
void *tc_cal(void);
void *tc_grow(void *p, size_t size);
void *tc_tmp(void);
void tc_tmp_free(void *p);
void *tc_al(void);
void *tc_pm(void);
void *tc_nw(void);
void tc_nw_delete(void *p);
void run_tc(void);

static void *kept[300];

NOINLINE void *tc_keep(void) { return tc_malloc(100); }
NOINLINE void *tc_cal(void) { return tc_calloc(10, 10); }
NOINLINE void *tc_grow(void *p, size_t size) { return tc_realloc(p, size); }
NOINLINE void *tc_tmp(void) { return tc_malloc(48); }
NOINLINE void tc_tmp_free(void *p) { tc_free_sized(p, 48); }
NOINLINE void *tc_al(void) { return tc_memalign(64, 128); }
NOINLINE void *tc_pm(void)
{
	void *p = NULL;

	return tc_posix_memalign(&p, 64, 96) ? NULL : p;
}
NOINLINE void *tc_nw(void) { return tc_new(40); }
NOINLINE void tc_nw_delete(void *p) { tc_delete(p); }

NOINLINE void run_tc(void)
{
	void *p = NULL;
	int k = 0;

	for (int i = 0; i < 100; i++)
		kept[k++] = tc_keep();
	for (int i = 0; i < 50; i++)
		kept[k++] = tc_cal();
	for (size_t size = 16; size <= 4096; size *= 2)
		p = tc_grow(p, size);
	kept[k++] = p;
	for (int i = 0; i < 50; i++)
		tc_tmp_free(tc_tmp());
	for (int i = 0; i < 50; i++)
		kept[k++] = tc_al();
	for (int i = 0; i < 50; i++)
		kept[k++] = tc_pm();
	for (int i = 0; i < 50; i++)
		tc_nw_delete(tc_nw());
}

int main(int argc, char **argv)
{
	return alloc_workload_main(argc, argv, ALLOC_PRESENT(tc_malloc), run_tc);
}
