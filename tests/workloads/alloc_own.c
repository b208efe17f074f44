// SPDX-License-Identifier: MIT
/*
 * alloc_own: a program with its own malloc family (alloc_bump.h) in the
 * executable. The libraries it calls bind to it: libc's strdup calls the
 * program's malloc, not glibc's.
 *
 * Sites, called from run_own, called from main:
 *   own_keep     100 x malloc(40), kept (frames[0])
 *   own_churn    200 x malloc(24), each freed at once (frames[0])
 *   own_strdup   50 x strdup of 11 characters (12 bytes), kept: the stack
 *                is [strdup, own_strdup, ...]
 * `alloc_own wait` writes 'R' and waits for a byte before it starts, and
 * writes 'D' when done (for attaching).
 */
#define _GNU_SOURCE
#include <string.h>
#include "alloc_bump.h"
#include "common.h"

void *own_keep(void);
void *own_churn(void);
void own_free(void *p);
char *own_strdup(void);
void run_own(void);

static void *kept[200];

NOINLINE void *own_keep(void) { return malloc(40); }
NOINLINE void *own_churn(void) { return malloc(24); }
NOINLINE void own_free(void *p) { free(p); }
NOINLINE char *own_strdup(void) { return strdup("hello world"); }

NOINLINE void run_own(void)
{
	int k = 0;

	for (int i = 0; i < 100; i++)
		kept[k++] = own_keep();
	for (int i = 0; i < 200; i++)
		own_free(own_churn());
	for (int i = 0; i < 50; i++)
		kept[k++] = own_strdup();
}

int main(int argc, char **argv)
{
	return alloc_workload_main(argc, argv, true, run_own);
}
