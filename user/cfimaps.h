/* SPDX-License-Identifier: MIT */
/*
 * Loading unwind tables into the BPF maps of the in-kernel unwinder
 * (bpf/unwind.h): one table per object file, built by cfitab.c the first
 * time the object is seen, appended to the rows map (memory-mapped) and
 * registered by file identity (the kernel's s_dev and the inode) with the
 * file-offset-to-address delta of its code. The rows map only grows: a
 * table stays while the session lasts (stacks may still point into an
 * object that was unmapped). An object whose CFI is missing or unusable,
 * or that does not fit, is registered without rows: the BPF side walks
 * its frames by frame pointer only, checked, and the totals count it.
 */
#ifndef HEAPTRACE_CFIMAPS_H
#define HEAPTRACE_CFIMAPS_H

#include <stddef.h>
#include <stdint.h>

struct ht_module;
struct ht_cfimaps;

/* Rows for the unwinder by default: 2M rows, 16 MiB. */
#define HT_CFI_DEFAULT_ROWS (2u << 20)

struct ht_cfi_totals {
	size_t objects;    /* objects registered */
	size_t fp_only;    /* ... of them without a usable table */
	size_t rows;       /* rows loaded */
	size_t bytes;      /* rows * 8 */
	size_t cap_rows;   /* room in the rows map */
	uint64_t build_ns; /* time spent building tables */
};

struct ht_cfimaps *cfimaps__new(int objs_fd, int rows_fd, uint32_t cap_rows);
void cfimaps__free(struct ht_cfimaps *c);

/* Register module m's table (built once per file); 0 or -errno. */
int cfimaps__add(struct ht_cfimaps *c, struct ht_module *m);

void cfimaps__totals(const struct ht_cfimaps *c, struct ht_cfi_totals *out);

#endif
