// SPDX-License-Identifier: MIT
/*
 * alloc_py: CPython's object allocator through its C API with a known
 * profile, in a program that embeds Debian's libpython3.11.so.1.0 (linked
 * -lpython3.11 by tests/alloc.mk, as gdb and perf link it). Declared weak
 * unless ALLOC_LINKED (see common.h): a plain build links and is never run.
 *
 * Python is initialised first (isolated, no site: a few thousand calls,
 * all traced too), then the sites run, all called from run_py, called
 * from main through alloc_workload_main:
 *   py_keep      200 x PyObject_Malloc(100); py_release frees the first 100
 *   py_big       20 x PyObject_Malloc(1000): over pymalloc's 512 bytes, so
 *                PyObject_Malloc calls malloc (nested: counted once);
 *                py_big_release frees the first 10 (PyObject_Free -> free)
 *   py_calloc    50 x PyObject_Calloc(10, 30), kept
 *   py_grow      PyObject_Realloc(NULL, 16), then 32, ... 4096 on that block
 *                (pymalloc's up to 512, then malloc's)
 *   py_mem       50 x PyMem_Malloc(64), each freed at once by py_mem_free
 *                (PyMem_Free): temporary
 *   py_mem_calloc  50 x PyMem_Calloc(4, 25), kept
 *   py_mem_grow  PyMem_Realloc(NULL, 16), then 32, ... 4096 on that block
 *   py_bytes     50 x PyBytes_FromStringAndSize(NULL, 67): bytes objects of
 *                33 + 67 = 100 bytes (PyObject_Malloc in libpython, below
 *                the site); py_bytes_drop drops the first 25 (Py_DecRef:
 *                bytes' dealloc calls PyObject_Free)
 * The peak is just before py_release.
 *
 * Python is not finalised: what is live at the exit stays live.
 * `alloc_py wait` writes 'R' on stdout once Python is initialised and
 * waits for a byte on stdin before the sites run (for attaching), and
 * writes 'D' when done.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <unistd.h>

#include "common.h"

WEAK void *PyObject_Malloc(size_t size);
WEAK void *PyObject_Calloc(size_t n, size_t size);
WEAK void *PyObject_Realloc(void *p, size_t size);
WEAK void PyObject_Free(void *p);
WEAK void *PyMem_Malloc(size_t size);
WEAK void *PyMem_Calloc(size_t n, size_t size);
WEAK void *PyMem_Realloc(void *p, size_t size);
WEAK void PyMem_Free(void *p);
WEAK void *PyBytes_FromStringAndSize(const char *s, long n);
WEAK void Py_DecRef(void *o);
WEAK void Py_InitializeEx(int initsigs);
WEAK extern int Py_IsolatedFlag, Py_NoSiteFlag, Py_IgnoreEnvironmentFlag;

void *py_keep(void);
void *py_big(void);
void *py_calloc(void);
void *py_grow(void *p, size_t size);
void *py_mem(void);
void *py_mem_calloc(void);
void *py_mem_grow(void *p, size_t size);
void *py_bytes(void);
void py_release(void *p);
void py_big_release(void *p);
void py_mem_free(void *p);
void py_bytes_drop(void *o);
void run_py(void);

static void *keep[200], *big[20], *bytes[50], *kept[256];

NOINLINE void *py_keep(void) { return PyObject_Malloc(100); }
NOINLINE void *py_big(void) { return PyObject_Malloc(1000); }
NOINLINE void *py_calloc(void) { return PyObject_Calloc(10, 30); }
NOINLINE void *py_grow(void *p, size_t size) { return PyObject_Realloc(p, size); }
NOINLINE void *py_mem(void) { return PyMem_Malloc(64); }
NOINLINE void *py_mem_calloc(void) { return PyMem_Calloc(4, 25); }
NOINLINE void *py_mem_grow(void *p, size_t size) { return PyMem_Realloc(p, size); }
NOINLINE void *py_bytes(void) { return PyBytes_FromStringAndSize(NULL, 67); }
NOINLINE void py_release(void *p) { PyObject_Free(p); }
NOINLINE void py_big_release(void *p) { PyObject_Free(p); }
NOINLINE void py_mem_free(void *p) { PyMem_Free(p); }
NOINLINE void py_bytes_drop(void *o) { Py_DecRef(o); }

NOINLINE void run_py(void)
{
	void *p = NULL;
	int k = 0;

	for (int i = 0; i < 200; i++)
		keep[i] = py_keep();
	for (int i = 0; i < 20; i++)
		big[i] = py_big();
	for (int i = 0; i < 50; i++)
		kept[k++] = py_calloc();
	for (size_t size = 16; size <= 4096; size *= 2)
		p = py_grow(p, size);
	kept[k++] = p;
	for (int i = 0; i < 50; i++)
		py_mem_free(py_mem());
	for (int i = 0; i < 50; i++)
		kept[k++] = py_mem_calloc();
	p = NULL;
	for (size_t size = 16; size <= 4096; size *= 2)
		p = py_mem_grow(p, size);
	kept[k++] = p;
	for (int i = 0; i < 50; i++)
		bytes[i] = py_bytes();
	for (int i = 0; i < 100; i++)
		py_release(keep[i]);
	for (int i = 0; i < 10; i++)
		py_big_release(big[i]);
	for (int i = 0; i < 25; i++)
		py_bytes_drop(bytes[i]);
}

int main(int argc, char **argv)
{
	if (!ALLOC_PRESENT(Py_InitializeEx))
		return 2;
	/* python -I -S: no user site, no environment, no site module */
	Py_IsolatedFlag = Py_NoSiteFlag = Py_IgnoreEnvironmentFlag = 1;
	Py_InitializeEx(0);
	return alloc_workload_main(argc, argv, true, run_py);
}
