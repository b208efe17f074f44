// SPDX-License-Identifier: MIT
/*
 * alloc_mi: mimalloc's own API (mi_*) with a known profile; linked with
 * -lmimalloc (Debian's libmimalloc2.0) by tests/alloc.mk. Declared weak
 * unless ALLOC_LINKED (see common.h): a plain build links and is never run.
 *
 * Sites (frames[0]), all called from run_mi, called from main
 * through alloc_workload_main:
 *   mi_keep    100 x mi_malloc(100), kept
 *   mi_zkeep   50 x mi_zalloc(64), kept
 *   mi_ckeep   50 x mi_calloc(4, 25), kept
 *   mi_grow    mi_realloc(NULL, 16), then 32, ... 4096 on that block
 *   mi_al      50 x mi_malloc_aligned(100, 64), each freed at once by
 *              mi_al_free: mi_free
 *   mi_hkeep   50 x mi_heap_malloc(default heap, 80), kept
 *   mi_hcal    20 x mi_heap_calloc(default heap, 3, 10), kept
 *   mi_fs      50 x mi_malloc(32), each freed at once by mi_fs_free:
 *              mi_free_size(p, 32)
 *   mi_nw      50 x mi_new(24), each freed at once by mi_nw_free: mi_free
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <unistd.h>

#include "common.h"

WEAK void *mi_malloc(size_t size);
WEAK void *mi_zalloc(size_t size);
WEAK void *mi_calloc(size_t n, size_t size);
WEAK void *mi_realloc(void *p, size_t size);
WEAK void *mi_malloc_aligned(size_t size, size_t align);
WEAK void mi_free(void *p);
WEAK void mi_free_size(void *p, size_t size);
WEAK void *mi_heap_get_default(void);
WEAK void *mi_heap_malloc(void *heap, size_t size);
WEAK void *mi_heap_calloc(void *heap, size_t n, size_t size);
WEAK void *mi_new(size_t size);

void *mi_keep(void);
void *mi_zkeep(void);
void *mi_ckeep(void);
void *mi_grow(void *p, size_t size);
void *mi_al(void);
void mi_al_free(void *p);
void *mi_hkeep(void *heap);
void *mi_hcal(void *heap);
void *mi_fs(void);
void mi_fs_free(void *p);
void *mi_nw(void);
void mi_nw_free(void *p);
void run_mi(void);

static void *kept[400];

NOINLINE void *mi_keep(void) { return mi_malloc(100); }
NOINLINE void *mi_zkeep(void) { return mi_zalloc(64); }
NOINLINE void *mi_ckeep(void) { return mi_calloc(4, 25); }
NOINLINE void *mi_grow(void *p, size_t size) { return mi_realloc(p, size); }
NOINLINE void *mi_al(void) { return mi_malloc_aligned(100, 64); }
NOINLINE void mi_al_free(void *p) { mi_free(p); }
NOINLINE void *mi_hkeep(void *heap) { return mi_heap_malloc(heap, 80); }
NOINLINE void *mi_hcal(void *heap) { return mi_heap_calloc(heap, 3, 10); }
NOINLINE void *mi_fs(void) { return mi_malloc(32); }
NOINLINE void mi_fs_free(void *p) { mi_free_size(p, 32); }
NOINLINE void *mi_nw(void) { return mi_new(24); }
NOINLINE void mi_nw_free(void *p) { mi_free(p); }

NOINLINE void run_mi(void)
{
	void *p = NULL, *heap = mi_heap_get_default();
	int k = 0;

	for (int i = 0; i < 100; i++)
		kept[k++] = mi_keep();
	for (int i = 0; i < 50; i++)
		kept[k++] = mi_zkeep();
	for (int i = 0; i < 50; i++)
		kept[k++] = mi_ckeep();
	for (size_t size = 16; size <= 4096; size *= 2)
		p = mi_grow(p, size);
	kept[k++] = p;
	for (int i = 0; i < 50; i++)
		mi_al_free(mi_al());
	for (int i = 0; i < 50; i++)
		kept[k++] = mi_hkeep(heap);
	for (int i = 0; i < 20; i++)
		kept[k++] = mi_hcal(heap);
	for (int i = 0; i < 50; i++)
		mi_fs_free(mi_fs());
	for (int i = 0; i < 50; i++)
		mi_nw_free(mi_nw());
}

int main(int argc, char **argv)
{
	return alloc_workload_main(argc, argv, ALLOC_PRESENT(mi_malloc), run_mi);
}
