/* SPDX-License-Identifier: MIT */
/*
 * The mappings model (--mmap): the target's anonymous mappings as address
 * ranges, each with the stack of the mmap call that made it, and per-stack
 * statistics. A different view from the heap model, never mixed into it:
 * the allocator's own mmaps (glibc's large blocks and arenas) show here
 * with the malloc stack that caused them, and in the heap tables as the
 * blocks they hold.
 *
 * Ranges never overlap; lengths are rounded up to pages as the kernel
 * does. munmap of part of a range cuts it (a hole in the middle leaves
 * two ranges of the same stack); a new mapping over existing ranges
 * (MAP_FIXED) replaces them, counted; a munmap that hits no range is an
 * unknown unmap, counted, and changes nothing. mremap takes the old range
 * out when the call starts (another thread may map the freed addresses
 * before it returns) and puts the result back when it returns, attributed
 * to the stack that mapped the old range (its lowest piece, if several);
 * one that failed puts back what it took out, as it was.
 *
 * The ranges are a treap keyed by start address: O(log n) expected per
 * operation, plus the ranges an unmap removes; at most HT_MAP_MAX_RANGES
 * ranges (a mapping beyond is a counted model error).
 */
#ifndef HEAPTRACE_MAPPINGS_H
#define HEAPTRACE_MAPPINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HT_MAP_PAGE 4096ULL
#define HT_MAP_MAX_RANGES (1U << 20)

struct ht_mappings;

/* A stack's mappings (the totals use the same fields, over all stacks). */
struct ht_map_stats {
	uint64_t mapped_bytes; /* mapped now */
	uint64_t ranges;       /* ranges now (a hole punched makes two) */
	uint64_t max_bytes;    /* its own high-water mark of mapped_bytes */
	uint64_t mmaps;        /* mmap calls that mapped it */
	uint64_t mmap_bytes;   /* bytes they mapped */
	uint64_t munmaps;      /* munmap calls that unmapped some of it */
	uint64_t munmap_bytes; /* bytes they unmapped */
	uint64_t mremaps;      /* mremap calls that moved or resized it */
};

struct ht_map_totals {
	struct ht_map_stats s;   /* s.max_bytes: the peak of total mapped bytes */
	uint64_t unknown_unmaps; /* munmap calls that hit no range seen mapped */
	uint64_t unknown_remaps; /* mremap calls of memory not seen mapped */
	uint64_t replaced_bytes; /* bytes a new mapping took over (MAP_FIXED) */
	uint64_t model_errors;   /* changes not recorded: no memory, too many ranges */
};

struct ht_mappings *mappings__new(void);
void mappings__free(struct ht_mappings *m);

/* An anonymous mapping of len bytes at addr by stack. 0 or -ENOMEM. */
int mappings__map(struct ht_mappings *m, uint64_t addr, uint64_t len, uint32_t stack);

/* munmap(addr, len). */
void mappings__unmap(struct ht_mappings *m, uint64_t addr, uint64_t len);

/* A mapping that is not anonymous (a file) put over [addr, addr + len):
 * what was there is replaced. */
void mappings__replace(struct ht_mappings *m, uint64_t addr, uint64_t len);

/*
 * mremap(addr, len, ...) by thread tid begins: the old range is taken out
 * (kept, with keep_old, for MREMAP_DONTUNMAP or len 0). Its end: ok with
 * the new range (addr, len), or failed, which puts the old one back.
 * 0 or -ENOMEM.
 */
int mappings__remap_begin(struct ht_mappings *m, uint32_t tid, uint64_t addr, uint64_t len,
			  bool keep_old);
int mappings__remap_end(struct ht_mappings *m, uint32_t tid, bool ok, uint64_t addr,
			uint64_t len);

/* Forget every range and statistic (the target exec'd: its mappings are gone). */
void mappings__clear(struct ht_mappings *m);

/* Stack ids with statistics: 0 .. mappings__nr_stacks() - 1. */
uint32_t mappings__nr_stacks(const struct ht_mappings *m);
void mappings__stack_stats(const struct ht_mappings *m, uint32_t stack, struct ht_map_stats *out);
void mappings__totals(const struct ht_mappings *m, struct ht_map_totals *out);

/* The range containing addr: 0 with its bounds and stack, or -ENOENT. */
int mappings__lookup(const struct ht_mappings *m, uint64_t addr, uint64_t *lo, uint64_t *hi,
		     uint32_t *stack);

#endif
