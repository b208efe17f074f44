/* SPDX-License-Identifier: MIT */
/*
 * Which allocator families an object holds, from its symbols: jemalloc
 * under each prefix it uses (P+malloc_conf, P+malloc_message or P+mallctl
 * with P-prefixed table functions), tcmalloc, mimalloc, mozjemalloc,
 * CPython's pymalloc (PyObject_Malloc, PyObject_Free and Py_Initialize)
 * and glibc, by symbols only that family defines.
 */
#ifndef HEAPTRACE_ALLOCATORS_DETECT_H
#define HEAPTRACE_ALLOCATORS_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include "allocators.h"
#include "allocators_table.h"
#include "elfsym.h"

#define ALLOC_MAX_PREFIXES 4

struct alloc_detected {
	const struct alloc_family *fam;
	char prefix[32]; /* jemalloc's symbol prefix */
};

/* The families the object with symbol index ix holds, at most max. */
size_t allocators__detect(const struct ht_elf_symidx *ix, const struct ht_alloc_opts *o,
			  struct alloc_detected *out, size_t max);

/* Can p (len bytes) be a symbol prefix? */
bool allocators__valid_prefix(const char *p, size_t len);

/* The function prefix+name in ix, or NULL. */
const struct ht_elf_sym *allocators__prefixed_func(const struct ht_elf_symidx *ix,
						   const char *prefix, const char *name);

#endif
