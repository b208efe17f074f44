// SPDX-License-Identifier: MIT
/*
 * alloc_std: the standard C allocation API with a known profile, built
 * once per allocator by tests/alloc.mk (linked with -ljemalloc, with
 * jemalloc's static archive, -ltcmalloc_minimal, -lmimalloc, and with
 * gcc -static for glibc inside the executable); the profile is the same
 * whichever allocator serves it. Traced by tests/alloc_it.c.
 *
 * Sites (frames[0]), all called from run_std, called from main
 * through alloc_workload_main:
 *   std_keep            200 x malloc(100); std_release frees the first 100
 *   std_churn           500 x malloc(64), each freed at once (temporary)
 *   std_calloc          50 x calloc(10, 30), kept
 *   std_grow            realloc(NULL, 16), then 32, ... 4096 on that block
 *   std_posix_memalign  50 x posix_memalign(64, 100), kept
 *   std_aligned_alloc   50 x aligned_alloc(128, 256), kept
 *   std_memalign        50 x memalign(256, 200), kept
 *   std_valloc          50 x valloc(300), kept
 * The peak is just before std_release.
 *
 * No stdio (nothing allocates behind our back). `alloc_std wait` writes
 * 'R' on stdout and waits for a byte on stdin before it starts (for
 * attaching), and writes 'D' when done.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

void *std_keep(void);
void *std_churn(void);
void *std_calloc(void);
void *std_grow(void *p, size_t size);
void *std_posix_memalign(void);
void *std_aligned_alloc(void);
void *std_memalign(void);
void *std_valloc(void);
void std_free(void *p);
void std_release(void *p);
void run_std(void);

static void *keep[200], *kept[256];

NOINLINE void *std_keep(void) { return malloc(100); }
NOINLINE void *std_churn(void) { return malloc(64); }
NOINLINE void *std_calloc(void) { return calloc(10, 30); }
NOINLINE void *std_grow(void *p, size_t size) { return realloc(p, size); }
NOINLINE void *std_posix_memalign(void)
{
	void *p = NULL;

	return posix_memalign(&p, 64, 100) ? NULL : p;
}
NOINLINE void *std_aligned_alloc(void) { return aligned_alloc(128, 256); }
NOINLINE void *std_memalign(void) { return memalign(256, 200); }
NOINLINE void *std_valloc(void) { return valloc(300); }
NOINLINE void std_free(void *p) { free(p); }
NOINLINE void std_release(void *p) { free(p); }

NOINLINE void run_std(void)
{
	void *p = NULL;
	int k = 0;

	for (int i = 0; i < 200; i++)
		keep[i] = std_keep();
	for (int i = 0; i < 500; i++)
		std_free(std_churn());
	for (int i = 0; i < 50; i++)
		kept[k++] = std_calloc();
	for (size_t size = 16; size <= 4096; size *= 2)
		p = std_grow(p, size);
	kept[k++] = p;
	for (int i = 0; i < 50; i++)
		kept[k++] = std_posix_memalign();
	for (int i = 0; i < 50; i++)
		kept[k++] = std_aligned_alloc();
	for (int i = 0; i < 50; i++)
		kept[k++] = std_memalign();
	for (int i = 0; i < 50; i++)
		kept[k++] = std_valloc();
	for (int i = 0; i < 100; i++)
		std_release(keep[i]);
}

int main(int argc, char **argv)
{
	return alloc_workload_main(argc, argv, true, run_std);
}
