/* SPDX-License-Identifier: MIT */
/*
 * The allocator table and discovery: which functions of which mapped
 * object heaptrace probes, and how each passes its arguments. The table
 * is data; adding an allocator is a row, not new BPF code.
 */
#ifndef HEAPTRACE_ALLOCATORS_H
#define HEAPTRACE_ALLOCATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"

struct ht_modules;

/* One place a probe goes: a function of a module, at a file offset. */
struct ht_probe_point {
	size_t module;            /* index in the module table */
	const char *family;       /* "glibc" */
	const char *func;         /* table name, e.g. "malloc" */
	const char *alias;        /* another name at the same address, or NULL */
	uint64_t vaddr;           /* the function's ELF address */
	uint64_t offset;          /* file offset the probe is attached at */
	enum ht_layout layout;
};

struct ht_probe_set {
	struct ht_probe_point *points;
	size_t n, cap;
};

/* Find every allocator entry point in the target's mapped objects.
 * Returns 0 (set->n may be 0: nothing found) or -errno. */
int allocators__discover(struct ht_modules *ms, struct ht_probe_set *set);

void allocators__free(struct ht_probe_set *set);

/* True for the layouts whose probe is a free (entry only). */
static inline bool layout_is_free(enum ht_layout l)
{
	return l == HT_L_FREE;
}

#endif
