// SPDX-License-Identifier: MIT
/*
 * alloc_dl: an allocator loaded after tracing started. A glibc program
 * that allocates through malloc, then dlopen()s Debian's libmimalloc
 * (RTLD_LOCAL: its malloc does not replace glibc's here) and allocates
 * through its mi_malloc, found with dlsym - two allocators at once, one
 * of them mapped late.
 *
 * Sites (frames[0]), called from run_dl, called from main:
 *   dl_before  10 x malloc(50), kept (glibc)
 *   then: dlopen, write 'R' on stdout, wait for a byte on stdin (the test
 *   waits until heaptrace says it traces mimalloc)
 *   dl_mi      100 x mi_malloc(100), kept (mimalloc)
 *   dl_after   10 x malloc(60), kept (glibc)
 * Writes 'D' when done.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

typedef void *(*mi_malloc_fn)(size_t);

void *dl_before(void);
void *dl_mi(mi_malloc_fn fn);
void *dl_after(void);
void run_dl(void);

static void *kept[200];

NOINLINE void *dl_before(void) { return malloc(50); }
NOINLINE void *dl_mi(mi_malloc_fn fn) { return fn(100); }
NOINLINE void *dl_after(void) { return malloc(60); }

NOINLINE void run_dl(void)
{
	mi_malloc_fn fn;
	void *lib;
	int k = 0;

	for (int i = 0; i < 10; i++)
		kept[k++] = dl_before();
	lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		_exit(2);
	fn = (mi_malloc_fn)dlsym(lib, "mi_malloc");
	if (!fn)
		_exit(2);
	if (!handshake_ready())
		_exit(1);
	for (int i = 0; i < 100; i++)
		kept[k++] = dl_mi(fn);
	for (int i = 0; i < 10; i++)
		kept[k++] = dl_after();
	if (!handshake_done())
		_exit(1);
}

int main(void)
{
	run_dl();
	return 0;
}
