/* SPDX-License-Identifier: MIT */
/*
 * An allocator's version, sniffed from the object that contains it:
 * jemalloc's and tcmalloc's version strings and glibc's banner in
 * .rodata, mimalloc's mi_version() code.
 */
#ifndef HEAPTRACE_ALLOCATORS_VERSION_H
#define HEAPTRACE_ALLOCATORS_VERSION_H

#include <stddef.h>
#include "allocators_table.h"

struct ht_elf;
struct ht_elf_symidx;

/* Write fam's version in e to out ("5.3.0"), or "" when unknown. */
void allocators__version(struct ht_elf *e, const struct ht_elf_symidx *ix,
			 enum alloc_family_id fam, char *out, size_t len);

#endif
