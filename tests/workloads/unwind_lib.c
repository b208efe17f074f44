// SPDX-License-Identifier: MIT
/*
 * unwind_lib: a shared object built without frame pointers, dlopen'ed by
 * `unwind_cfi dlopen` after heaptrace started: its frames can only be
 * unwound once heaptrace has loaded its unwind table.
 */
#include <stdlib.h>

#define SITE __attribute__((noipa))

SITE void *lib_alloc_inner(size_t n);
SITE void *lib_alloc_outer(size_t n);

SITE void *lib_alloc_inner(size_t n)
{
	volatile char pad[24];
	void *p;

	pad[0] = (char)n;
	p = malloc(n);
	pad[1] = pad[0];
	return p;
}

SITE void *lib_alloc_outer(size_t n)
{
	volatile char pad[40];
	void *p;

	pad[0] = (char)n;
	p = lib_alloc_inner(n);
	pad[1] = pad[0];
	return p;
}
