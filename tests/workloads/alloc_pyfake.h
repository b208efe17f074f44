/* SPDX-License-Identifier: MIT */
/*
 * libpyfake: the shape of CPython's object allocator, for heaptrace's
 * check of whether pymalloc can be traced (user/allocators_pymalloc.c):
 * a table of function pointers (here over glibc's malloc) and the entry
 * points PyObject_Malloc, _Calloc, _Realloc, _Free calling through it,
 * plus Py_Initialize (how the family is recognised) and fake_new, a
 * function of the library that allocates through PyObject_Malloc.
 * Built by tests/alloc.mk twice, as a shared libpython is built:
 *   libpyfake.so      with semantic interposition (gcc's default, as
 *                     Debian builds libpython3.11.so): the entry points
 *                     are thunks (jmp *table(%rip)), fake_new calls
 *                     PyObject_Malloc through the PLT - traceable;
 *   libpyfake_nsi.so  -fno-semantic-interposition (as some distributions
 *                     build libpython): the thunk is inlined into
 *                     fake_new, whose calls no probe on PyObject_Malloc
 *                     sees - refused.
 * A header: every .c of tests/workloads is a program.
 */
#include <stdlib.h>

struct pyfake_table {
	void *ctx;
	void *(*malloc)(void *ctx, size_t n);
	void *(*calloc)(void *ctx, size_t n, size_t size);
	void *(*realloc)(void *ctx, void *p, size_t n);
	void (*free)(void *ctx, void *p);
};

void Py_Initialize(void);
void *PyObject_Malloc(size_t n);
void *PyObject_Calloc(size_t n, size_t size);
void *PyObject_Realloc(void *p, size_t n);
void PyObject_Free(void *p);
void *fake_new(size_t n);

static void *raw_malloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}

static void *raw_calloc(void *ctx, size_t n, size_t size)
{
	(void)ctx;
	return calloc(n, size);
}

static void *raw_realloc(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return realloc(p, n);
}

static void raw_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static struct pyfake_table table = { NULL, raw_malloc, raw_calloc, raw_realloc, raw_free };

void Py_Initialize(void)
{
	table.ctx = &table;
}

void *PyObject_Malloc(size_t n)
{
	return table.malloc(table.ctx, n);
}

void *PyObject_Calloc(size_t n, size_t size)
{
	return table.calloc(table.ctx, n, size);
}

void *PyObject_Realloc(void *p, size_t n)
{
	return table.realloc(table.ctx, p, n);
}

void PyObject_Free(void *p)
{
	table.free(table.ctx, p);
}

/* An object of n bytes and a 16-byte header. */
void *fake_new(size_t n)
{
	return PyObject_Malloc(n + 16);
}
