// SPDX-License-Identifier: MIT
/* The allocator tables (see allocators_table.h). */
#include <string.h>
#include "allocators_table.h"
#include "util.h"

#define FN(n, l) { n, HT_L_##l }

/* The C library's entry points: glibc's, and the generic family's. cfree
 * last: glibc 2.36 keeps it only as a hidden version, for old binaries. */
static const struct alloc_fn std_fns[] = {
	FN("malloc", SIZE), FN("calloc", CALLOC), FN("realloc", REALLOC),
	FN("reallocarray", REALLOCARRAY), FN("free", FREE),
	FN("posix_memalign", POSIX_MEMALIGN), FN("aligned_alloc", ALIGN_SIZE),
	FN("memalign", ALIGN_SIZE), FN("valloc", SIZE), FN("pvalloc", SIZE),
	FN("cfree", FREE),
};

/* Looked up with the object's jemalloc prefix in front. MALLOCX_ZERO and
 * MALLOCX_ALIGN(a) in flags never change the requested size. */
static const struct alloc_fn jemalloc_fns[] = {
	FN("malloc", SIZE), FN("calloc", CALLOC), FN("realloc", REALLOC), FN("free", FREE),
	FN("posix_memalign", POSIX_MEMALIGN), FN("aligned_alloc", ALIGN_SIZE),
	FN("memalign", ALIGN_SIZE), FN("valloc", SIZE),
	FN("mallocx", SIZE_FLAGS),        /* (size, flags) */
	FN("rallocx", REALLOC_FLAGS),     /* (ptr, size, flags) */
	FN("xallocx", XALLOCX),           /* (ptr, size, extra, flags): in place */
	FN("sdallocx", FREE),             /* (ptr, size, flags) */
	FN("dallocx", FREE),              /* (ptr, flags) */
	FN("free_sized", FREE), FN("free_aligned_sized", FREE),
};

static const struct alloc_fn tcmalloc_fns[] = {
	FN("malloc", SIZE), FN("calloc", CALLOC), FN("realloc", REALLOC), FN("free", FREE),
	FN("cfree", FREE), FN("posix_memalign", POSIX_MEMALIGN),
	FN("aligned_alloc", ALIGN_SIZE), FN("memalign", ALIGN_SIZE), FN("valloc", SIZE),
	FN("pvalloc", SIZE),
	FN("tc_malloc", SIZE), FN("tc_malloc_skip_new_handler", SIZE), FN("tc_calloc", CALLOC),
	FN("tc_realloc", REALLOC), FN("tc_free", FREE), FN("tc_cfree", FREE),
	FN("tc_free_sized", FREE), FN("tc_memalign", ALIGN_SIZE),
	FN("tc_posix_memalign", POSIX_MEMALIGN), FN("tc_valloc", SIZE), FN("tc_pvalloc", SIZE),
	FN("tc_new", SIZE), FN("tc_newarray", SIZE), FN("tc_new_nothrow", SIZE),
	FN("tc_newarray_nothrow", SIZE), FN("tc_new_aligned", SIZE_ALIGN),
	FN("tc_newarray_aligned", SIZE_ALIGN), FN("tc_new_aligned_nothrow", SIZE_ALIGN),
	FN("tc_newarray_aligned_nothrow", SIZE_ALIGN),
	FN("tc_delete", FREE), FN("tc_deletearray", FREE), FN("tc_delete_sized", FREE),
	FN("tc_deletearray_sized", FREE), FN("tc_delete_nothrow", FREE),
	FN("tc_deletearray_nothrow", FREE), FN("tc_delete_aligned", FREE),
	FN("tc_deletearray_aligned", FREE), FN("tc_delete_sized_aligned", FREE),
	FN("tc_deletearray_sized_aligned", FREE), FN("tc_delete_aligned_nothrow", FREE),
	FN("tc_deletearray_aligned_nothrow", FREE),
};

/*
 * mimalloc's API. The mi_heap_* functions take the heap first: their
 * size moves one argument right ((heap, size) reads like memalign's
 * (align, size)). mi_cfree, cfree and vfree are left out: they call
 * mi_free after a check, and its probe sees that call.
 */
static const struct alloc_fn mimalloc_fns[] = {
	FN("malloc", SIZE), FN("calloc", CALLOC), FN("realloc", REALLOC), FN("free", FREE),
	FN("posix_memalign", POSIX_MEMALIGN), FN("aligned_alloc", ALIGN_SIZE),
	FN("memalign", ALIGN_SIZE), FN("valloc", SIZE), FN("pvalloc", SIZE),
	FN("reallocarray", REALLOCARRAY), FN("reallocf", REALLOC),
	FN("mi_malloc", SIZE), FN("mi_zalloc", SIZE), FN("mi_malloc_small", SIZE),
	FN("mi_zalloc_small", SIZE), FN("mi_calloc", CALLOC), FN("mi_mallocn", CALLOC),
	FN("mi_realloc", REALLOC), FN("mi_reallocf", REALLOC), FN("mi_rezalloc", REALLOC),
	FN("mi_expand", REALLOC), FN("mi_reallocn", REALLOCARRAY),
	FN("mi_recalloc", REALLOCARRAY), FN("mi_reallocarray", REALLOCARRAY),
	FN("mi_free", FREE), FN("mi_free_size", FREE), FN("mi_free_aligned", FREE),
	FN("mi_free_size_aligned", FREE),
	FN("mi_malloc_aligned", SIZE_ALIGN), FN("mi_malloc_aligned_at", SIZE_ALIGN),
	FN("mi_zalloc_aligned", SIZE_ALIGN), FN("mi_zalloc_aligned_at", SIZE_ALIGN),
	FN("mi_calloc_aligned", CALLOC), FN("mi_calloc_aligned_at", CALLOC),
	FN("mi_realloc_aligned", REALLOC_FLAGS), FN("mi_realloc_aligned_at", REALLOC_FLAGS),
	FN("mi_rezalloc_aligned", REALLOC_FLAGS), FN("mi_rezalloc_aligned_at", REALLOC_FLAGS),
	FN("mi_recalloc_aligned", REALLOCARRAY), FN("mi_recalloc_aligned_at", REALLOCARRAY),
	FN("mi_posix_memalign", POSIX_MEMALIGN), FN("mi_memalign", ALIGN_SIZE),
	FN("mi_aligned_alloc", ALIGN_SIZE), FN("mi_valloc", SIZE), FN("mi_pvalloc", SIZE),
	FN("mi_new", SIZE), FN("mi_new_nothrow", SIZE), FN("mi_new_aligned", SIZE_ALIGN),
	FN("mi_new_aligned_nothrow", SIZE_ALIGN), FN("mi_new_n", CALLOC),
	FN("mi_new_realloc", REALLOC), FN("mi_new_reallocn", REALLOCARRAY),
	FN("mi_heap_malloc", ALIGN_SIZE), FN("mi_heap_zalloc", ALIGN_SIZE),
	FN("mi_heap_malloc_small", ALIGN_SIZE), FN("mi_heap_zalloc_small", ALIGN_SIZE),
	FN("mi_heap_alloc_new", ALIGN_SIZE), FN("mi_heap_alloc_new_n", HEAP_CALLOC),
	FN("mi_heap_calloc", HEAP_CALLOC), FN("mi_heap_mallocn", HEAP_CALLOC),
	FN("mi_heap_realloc", HEAP_REALLOC), FN("mi_heap_reallocf", HEAP_REALLOC),
	FN("mi_heap_rezalloc", HEAP_REALLOC), FN("mi_heap_reallocn", HEAP_REALLOCN),
	FN("mi_heap_recalloc", HEAP_REALLOCN),
	FN("mi_heap_malloc_aligned", ALIGN_SIZE), FN("mi_heap_malloc_aligned_at", ALIGN_SIZE),
	FN("mi_heap_zalloc_aligned", ALIGN_SIZE), FN("mi_heap_zalloc_aligned_at", ALIGN_SIZE),
	FN("mi_heap_calloc_aligned", HEAP_CALLOC), FN("mi_heap_calloc_aligned_at", HEAP_CALLOC),
	FN("mi_heap_realloc_aligned", HEAP_REALLOC),
	FN("mi_heap_realloc_aligned_at", HEAP_REALLOC),
	FN("mi_heap_rezalloc_aligned", HEAP_REALLOC),
	FN("mi_heap_rezalloc_aligned_at", HEAP_REALLOC),
	FN("mi_heap_recalloc_aligned", HEAP_REALLOCN),
	FN("mi_heap_recalloc_aligned_at", HEAP_REALLOCN),
};

/*
 * Firefox's mozjemalloc, linked into its executable: the standard entry
 * points and its arena API, moz_arena_malloc(arena, size) & co (a block
 * of an arena is freed with free). moz_arena_memalign (arena, align,
 * size) has no layout yet: not probed.
 */
static const struct alloc_fn mozjemalloc_fns[] = {
	FN("malloc", SIZE), FN("calloc", CALLOC), FN("realloc", REALLOC), FN("free", FREE),
	FN("posix_memalign", POSIX_MEMALIGN), FN("aligned_alloc", ALIGN_SIZE),
	FN("memalign", ALIGN_SIZE), FN("valloc", SIZE),
	FN("moz_arena_malloc", ALIGN_SIZE), FN("moz_arena_calloc", HEAP_CALLOC),
	FN("moz_arena_realloc", HEAP_REALLOC),
};

/*
 * CPython's object allocator: the PyObject_ and PyMem_ entry points, each
 * a call through a table (pymalloc by default; the C library's malloc
 * under PYTHONMALLOC=malloc, nested then). The frees are traced as
 * wrappers: a block pymalloc did not serve goes on to free(), whose probe
 * must see that call as nested. PyMem_Raw* is malloc itself: not probed.
 */
static const struct alloc_fn pymalloc_fns[] = {
	FN("PyObject_Malloc", SIZE), FN("PyObject_Calloc", CALLOC),
	FN("PyObject_Realloc", REALLOC), FN("PyObject_Free", FREE_WRAP),
	FN("PyMem_Malloc", SIZE), FN("PyMem_Calloc", CALLOC), FN("PyMem_Realloc", REALLOC),
	FN("PyMem_Free", FREE_WRAP),
};

/* C++ operator new/delete, every variant (x86-64 mangling: size_t = m). */
const struct alloc_fn alloc_cxx_fns[] = {
	FN("_Znwm", SIZE), FN("_Znam", SIZE),
	FN("_ZnwmRKSt9nothrow_t", SIZE), FN("_ZnamRKSt9nothrow_t", SIZE),
	FN("_ZnwmSt11align_val_t", SIZE_ALIGN), FN("_ZnamSt11align_val_t", SIZE_ALIGN),
	FN("_ZnwmSt11align_val_tRKSt9nothrow_t", SIZE_ALIGN),
	FN("_ZnamSt11align_val_tRKSt9nothrow_t", SIZE_ALIGN),
	FN("_ZdlPv", FREE), FN("_ZdaPv", FREE), FN("_ZdlPvm", FREE), FN("_ZdaPvm", FREE),
	FN("_ZdlPvRKSt9nothrow_t", FREE), FN("_ZdaPvRKSt9nothrow_t", FREE),
	FN("_ZdlPvSt11align_val_t", FREE), FN("_ZdaPvSt11align_val_t", FREE),
	FN("_ZdlPvmSt11align_val_t", FREE), FN("_ZdaPvmSt11align_val_t", FREE),
	FN("_ZdlPvSt11align_val_tRKSt9nothrow_t", FREE),
	FN("_ZdaPvSt11align_val_tRKSt9nothrow_t", FREE),
};

const size_t alloc_ncxx_fns = ARRAY_SIZE(alloc_cxx_fns);

const struct alloc_family alloc_families[NR_FAMILIES] = {
	[FAM_JEMALLOC] = { "jemalloc", jemalloc_fns, ARRAY_SIZE(jemalloc_fns), true, true },
	[FAM_TCMALLOC] = { "tcmalloc", tcmalloc_fns, ARRAY_SIZE(tcmalloc_fns), false, true },
	[FAM_MIMALLOC] = { "mimalloc", mimalloc_fns, ARRAY_SIZE(mimalloc_fns), false, true },
	[FAM_MOZJEMALLOC] = { "mozjemalloc", mozjemalloc_fns, ARRAY_SIZE(mozjemalloc_fns), false,
			      true },
	[FAM_PYMALLOC] = { "pymalloc", pymalloc_fns, ARRAY_SIZE(pymalloc_fns), false, false },
	[FAM_GLIBC] = { "glibc", std_fns, ARRAY_SIZE(std_fns) - 1, false, false },
	[FAM_GENERIC] = { "generic", std_fns, ARRAY_SIZE(std_fns), false, true },
};

const char alloc_family_names[] = "glibc, jemalloc, tcmalloc, mimalloc, mozjemalloc, pymalloc, generic";

int alloc_std__bit(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(std_fns); i++)
		if (!strcmp(std_fns[i].name, name))
			return (int)i;
	for (size_t i = 0; i < ARRAY_SIZE(alloc_cxx_fns); i++)
		if (!strcmp(alloc_cxx_fns[i].name, name))
			return (int)(ARRAY_SIZE(std_fns) + i);
	return -1;
}

const char *alloc_std__name(int bit)
{
	if (bit < 0)
		return NULL;
	if ((size_t)bit < ARRAY_SIZE(std_fns))
		return std_fns[bit].name;
	bit -= (int)ARRAY_SIZE(std_fns);
	return (size_t)bit < ARRAY_SIZE(alloc_cxx_fns) ? alloc_cxx_fns[bit].name : NULL;
}

uint64_t alloc_std__c_mask(void)
{
	return (1ULL << ARRAY_SIZE(std_fns)) - 1;
}

const struct alloc_family *alloc_family__by_name(const char *name)
{
	for (size_t f = 0; f < NR_FAMILIES; f++)
		if (!strcmp(alloc_families[f].name, name))
			return &alloc_families[f];
	return NULL;
}

bool alloc_fns__have(const struct alloc_fn *fns, size_t n, const char *name, bool frees)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, fns[i].name) &&
		    (!frees || fns[i].layout == HT_L_FREE || fns[i].layout == HT_L_FREE_WRAP))
			return true;
	return false;
}
