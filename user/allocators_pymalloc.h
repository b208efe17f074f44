/* SPDX-License-Identifier: MIT */
/*
 * Can CPython's object allocator (pymalloc) be traced at its entry points
 * in this object? PyObject_Malloc & co dispatch through a table of function
 * pointers (_PyObject, _PyMem) that PYTHONMALLOC and PyMem_SetAllocator
 * fill. In a shared libpython built with semantic interposition (Debian's
 * libpython3.11.so.1.0) each entry point is a thunk, `jmp *slot(%rip)`,
 * and every call reaches it. An interpreter built so that the compiler
 * may inline them (Debian's static /usr/bin/python3.11: LTO,
 * -fno-semantic-interposition, the table's default functions devirtualized
 * into their callers) allocates and frees objects at call sites no probe
 * sees: its frees would be missed and freed objects shown as live.
 */
#ifndef HEAPTRACE_ALLOCATORS_PYMALLOC_H
#define HEAPTRACE_ALLOCATORS_PYMALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include "allocators_table.h"
#include "elfsym.h"

/* The workaround, for messages. */
#define PYMALLOC_WORKAROUND "PYTHONMALLOC=malloc"

/*
 * Traceable when every entry point of fam (pymalloc's table) the object
 * defines is such a thunk, and no code outside them and the functions
 * that only read or set the tables (PyMem_GetAllocator, ...) refers to the
 * slots they jump through. Otherwise false, with why (for people) saying
 * what was found.
 */
bool allocators__pymalloc_traceable(struct ht_elf *e, const struct ht_elf_symidx *ix,
				    const struct alloc_family *fam, char *why, size_t len);

#endif
