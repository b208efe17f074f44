/* SPDX-License-Identifier: MIT */
/*
 * Unwind tables for the in-kernel unwinder: an object's DWARF call frame
 * information (.eh_frame, else .debug_frame, read through libdw) turned
 * into rows sorted by pc (struct ht_cfi_row in events.h). Every FDE's
 * range is walked row by row with dwarf_cfi_addrframe(); the gaps between
 * FDEs get HT_CFI_NONE rows, rules the BPF side does not follow HT_CFI_BAD
 * rows. A table is built once per object, from untrusted bytes: whatever
 * the input, the result is a sorted table or an error, never a crash.
 */
#ifndef HEAPTRACE_CFITAB_H
#define HEAPTRACE_CFITAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <elfutils/libdw.h>
#include "events.h"

struct Elf;
struct ht_cfitab;

struct ht_cfitab_stats {
	size_t rows;
	size_t bytes;        /* rows * sizeof(struct ht_cfi_row) */
	uint64_t build_ns;   /* time to build the table */
	size_t fdes;         /* FDEs read */
	size_t bad_rows;     /* HT_CFI_BAD rows (rules not followed) */
	size_t skipped_fdes; /* FDEs left out (undecodable, out of range) */
};

/*
 * Build the table of an ELF object (x86-64, ELF64). NULL + errno:
 * ENODATA when it has no CFI, EINVAL when the CFI is malformed, ERANGE
 * when code lies beyond 4 GiB of virtual addresses, ENOMEM.
 */
struct ht_cfitab *cfitab__new(struct Elf *elf);

/* The same from an ELF image in memory (copied: buf may go away). */
struct ht_cfitab *cfitab__new_mem(const void *buf, size_t len);

void cfitab__free(struct ht_cfitab *t);

const struct ht_cfi_row *cfitab__rows(const struct ht_cfitab *t, size_t *n);
void cfitab__stats(const struct ht_cfitab *t, struct ht_cfitab_stats *out);

/* The row covering virtual address pc, or NULL before the first row; the
 * same search the BPF side does. */
const struct ht_cfi_row *cfitab__find(const struct ht_cfitab *t, uint64_t pc);

/* A register saved at CFA + *off (DW_CFA_offset and the like), from the
 * DWARF location ops libdw gives for it; false for any other rule. Shared
 * with the user-space unwinder (unwind.c). */
bool cfitab__saved_at_cfa(const Dwarf_Op *ops, size_t nops, int64_t *off);

#endif
