// SPDX-License-Identifier: MIT
/*
 * alloc_pyfake: allocations through libpyfake (alloc_pyfake.h), linked by
 * tests/alloc.mk with libpyfake.so (pyfake) or libpyfake_nsi.so
 * (pyfake_nsi). Declared weak unless ALLOC_LINKED (see common.h).
 *
 * Sites, called from run_pyfake, called from main:
 *   pf_keep   100 x PyObject_Malloc(64), kept (frames[0])
 *   pf_tmp    50 x PyObject_Malloc(48), each freed at once by pf_free
 *             (PyObject_Free)
 *   pf_new    50 x fake_new(16): PyObject_Malloc(32) in the library, kept
 */
#define _GNU_SOURCE
#include <stddef.h>

#include "common.h"

WEAK void Py_Initialize(void);
WEAK void *PyObject_Malloc(size_t n);
WEAK void PyObject_Free(void *p);
WEAK void *fake_new(size_t n);

void *pf_keep(void);
void *pf_tmp(void);
void pf_free(void *p);
void *pf_new(void);
void run_pyfake(void);

static void *kept[150];

NOINLINE void *pf_keep(void) { return PyObject_Malloc(64); }
NOINLINE void *pf_tmp(void) { return PyObject_Malloc(48); }
NOINLINE void pf_free(void *p) { PyObject_Free(p); }
NOINLINE void *pf_new(void) { return fake_new(16); }

NOINLINE void run_pyfake(void)
{
	int k = 0;

	Py_Initialize();
	for (int i = 0; i < 100; i++)
		kept[k++] = pf_keep();
	for (int i = 0; i < 50; i++)
		pf_free(pf_tmp());
	for (int i = 0; i < 50; i++)
		kept[k++] = pf_new();
}

int main(int argc, char **argv)
{
	return alloc_workload_main(argc, argv, ALLOC_PRESENT(fake_new), run_pyfake);
}
