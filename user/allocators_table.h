/* SPDX-License-Identifier: MIT */
/*
 * The allocator tables: for each family heaptrace knows, the entry points
 * it probes and how each passes its arguments (its layout). Data only;
 * adding an allocator or an entry point is a row. Recognising a family in
 * an object and turning rows into probe points is allocators.c's job.
 */
#ifndef HEAPTRACE_ALLOCATORS_TABLE_H
#define HEAPTRACE_ALLOCATORS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"

struct alloc_fn {
	const char *name;
	enum ht_layout layout;
};

/* Most specific first: an address claimed by one family is not probed
 * again for a later one (tcmalloc also defines __libc_malloc...). */
enum alloc_family_id {
	FAM_JEMALLOC,
	FAM_TCMALLOC,
	FAM_MIMALLOC,
	FAM_MOZJEMALLOC,
	FAM_PYMALLOC,  /* CPython's object allocator (allocators_pymalloc.h) */
	FAM_GLIBC,
	FAM_GENERIC,   /* the standard entry points of an allocator not recognised */
	NR_FAMILIES,
};

struct alloc_family {
	const char *name;
	const struct alloc_fn *fns;
	size_t nfns;
	bool prefixed;  /* fns are looked up with the detected prefix */
	bool cxx;       /* the allocator defines operator new/delete itself */
};

extern const struct alloc_family alloc_families[NR_FAMILIES];

/* C++ operator new/delete, every variant (x86-64 mangling). */
extern const struct alloc_fn alloc_cxx_fns[];
extern const size_t alloc_ncxx_fns;

/* The list of family names, for messages. */
extern const char alloc_family_names[];

/* The family of that name, or NULL. */
const struct alloc_family *alloc_family__by_name(const char *name);

/* Is name a row of fns (a free, if frees)? */
bool alloc_fns__have(const struct alloc_fn *fns, size_t n, const char *name, bool frees);

/*
 * The standard entry points: the C library's malloc family and the C++
 * operators, names a program or a preloaded allocator replaces by
 * defining them (the dynamic linker decides which definition is called).
 * Each has a bit in a 64-bit mask: its bit, or -1 for another name.
 */
int alloc_std__bit(const char *name);
const char *alloc_std__name(int bit);  /* NULL past the last */

/* The bits of the C entry points (malloc ... cfree), not the operators. */
uint64_t alloc_std__c_mask(void);

#endif
