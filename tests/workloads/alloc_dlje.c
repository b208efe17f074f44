// SPDX-License-Identifier: MIT
/*
 * alloc_dlje: jemalloc dlopen()ed while heaptrace traces (RTLD_LOCAL:
 * glibc's malloc stays the program's), its mallocx found with dlsym. No
 * handshake: heaptrace must learn of the object from the dynamic linker's
 * announcement.
 *
 *   alloc_dlje          dlopen, 300 ms of sleep, then dlje_alloc:
 *                       1000 x mallocx(100, 0)
 *   alloc_dlje paced    dlopen, then 1000 x mallocx(100, 0), one per
 *                       millisecond: how many heaptrace misses measures
 *                       its window between announcement and probes
 * then dlje_free: each block freed with dallocx (those allocated before
 * the probes are unknown frees of an allocator traced late).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <time.h>
#include "common.h"

typedef void *(*mallocx_fn)(size_t, int);
typedef void (*dallocx_fn)(void *, int);

void *dlje_alloc(mallocx_fn fn);
void dlje_free(dallocx_fn fn, void *p);

static void *kept[1000];

NOINLINE void *dlje_alloc(mallocx_fn fn) { return fn(100, 0); }
NOINLINE void dlje_free(dallocx_fn fn, void *p) { fn(p, 0); }

static void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	bool paced = argc > 1 && !strcmp(argv[1], "paced");
	void *lib = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
	mallocx_fn fn = lib ? (mallocx_fn)dlsym(lib, "mallocx") : NULL;
	dallocx_fn fn_d = lib ? (dallocx_fn)dlsym(lib, "dallocx") : NULL;

	if (!fn || !fn_d)
		die("can't dlopen libjemalloc.so.2 or find its mallocx and dallocx");
	if (!paced)
		sleep_ns(300 * 1000 * 1000L);
	for (int i = 0; i < 1000; i++) {
		kept[i] = dlje_alloc(fn);
		if (paced)
			sleep_ns(1000 * 1000L);
	}
	for (int i = 0; i < 1000; i++)
		dlje_free(fn_d, kept[i]);
	return 0;
}
