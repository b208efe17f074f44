// SPDX-License-Identifier: MIT
/* Unit tests of the mappings model (--mmap): exact bytes by stack on
 * hand-made runs, and random runs against a page-by-page reference. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>
#include "mappings.h"

#define P 4096ULL
#define BASE 0x7f0000000000ULL
#define TID 7

static int setup(void **state)
{
	*state = mappings__new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	mappings__free(*state);
	return 0;
}

static struct ht_map_stats stats(struct ht_mappings *m, uint32_t stack)
{
	struct ht_map_stats s;

	mappings__stack_stats(m, stack, &s);
	return s;
}

static struct ht_map_totals totals(struct ht_mappings *m)
{
	struct ht_map_totals t;

	mappings__totals(m, &t);
	return t;
}

static void maps_are_counted_by_stack_in_pages(void **state)
{
	struct ht_mappings *m = *state;

	for (int i = 0; i < 5; i++)
		assert_int_equal(mappings__map(m, BASE + i * 0x100000, 0x100000, 1), 0);
	assert_int_equal(mappings__map(m, BASE + 0x1000000, 100, 2), 0); /* one page */
	assert_int_equal(stats(m, 1).mapped_bytes, 5 * 0x100000);
	assert_int_equal(stats(m, 1).ranges, 5);
	assert_int_equal(stats(m, 1).mmaps, 5);
	assert_int_equal(stats(m, 2).mapped_bytes, P);
	assert_int_equal(totals(m).s.mapped_bytes, 5 * 0x100000 + P);
	assert_int_equal(totals(m).s.max_bytes, 5 * 0x100000 + P);
	assert_int_equal(totals(m).s.mmaps, 6);
}

static void hole_in_the_middle_leaves_two_ranges_of_the_stack(void **state)
{
	struct ht_mappings *m = *state;
	uint64_t lo, hi;
	uint32_t st;

	assert_int_equal(mappings__map(m, BASE, 4 * P, 3), 0);
	mappings__unmap(m, BASE + P, P);
	assert_int_equal(stats(m, 3).mapped_bytes, 3 * P);
	assert_int_equal(stats(m, 3).ranges, 2);
	assert_int_equal(stats(m, 3).munmaps, 1);
	assert_int_equal(stats(m, 3).munmap_bytes, P);
	assert_int_equal(stats(m, 3).max_bytes, 4 * P);
	assert_int_equal(mappings__lookup(m, BASE + P, &lo, &hi, &st), -ENOENT);
	assert_int_equal(mappings__lookup(m, BASE + 2 * P, &lo, &hi, &st), 0);
	assert_int_equal(lo, BASE + 2 * P);
	assert_int_equal(hi, BASE + 4 * P);
	assert_int_equal(st, 3);
	assert_int_equal(totals(m).unknown_unmaps, 0);
}

static void unmap_of_unseen_memory_is_counted_never_negative(void **state)
{
	struct ht_mappings *m = *state;

	assert_int_equal(mappings__map(m, BASE, P, 1), 0);
	mappings__unmap(m, BASE + 10 * P, 5 * P);
	mappings__unmap(m, BASE + 10 * P, 5 * P);
	assert_int_equal(totals(m).unknown_unmaps, 2);
	assert_int_equal(totals(m).s.munmaps, 2);
	assert_int_equal(totals(m).s.mapped_bytes, P);
	/* partly seen: only the seen part goes */
	mappings__unmap(m, BASE - P, 3 * P);
	assert_int_equal(totals(m).s.mapped_bytes, 0);
	assert_int_equal(totals(m).unknown_unmaps, 2);
	assert_int_equal(stats(m, 1).munmap_bytes, P);
}

static void one_unmap_over_several_stacks_counts_once_each(void **state)
{
	struct ht_mappings *m = *state;

	assert_int_equal(mappings__map(m, BASE, P, 1), 0);
	assert_int_equal(mappings__map(m, BASE + P, P, 2), 0);
	assert_int_equal(mappings__map(m, BASE + 2 * P, P, 1), 0);
	assert_int_equal(mappings__map(m, BASE + 3 * P, 2 * P, 2), 0);
	mappings__unmap(m, BASE, 4 * P); /* cuts the last range of stack 2 */
	assert_int_equal(stats(m, 1).munmaps, 1);
	assert_int_equal(stats(m, 1).munmap_bytes, 2 * P);
	assert_int_equal(stats(m, 1).mapped_bytes, 0);
	assert_int_equal(stats(m, 2).munmaps, 1);
	assert_int_equal(stats(m, 2).munmap_bytes, 2 * P);
	assert_int_equal(stats(m, 2).mapped_bytes, P);
	assert_int_equal(stats(m, 2).ranges, 1);
	assert_int_equal(totals(m).s.ranges, 1);
}

static void map_fixed_over_a_range_replaces_it(void **state)
{
	struct ht_mappings *m = *state;

	assert_int_equal(mappings__map(m, BASE, 4 * P, 1), 0);
	assert_int_equal(mappings__map(m, BASE + P, 2 * P, 2), 0);
	assert_int_equal(stats(m, 1).mapped_bytes, 2 * P);
	assert_int_equal(stats(m, 1).ranges, 2);
	assert_int_equal(stats(m, 1).munmaps, 0);
	assert_int_equal(stats(m, 2).mapped_bytes, 2 * P);
	assert_int_equal(totals(m).replaced_bytes, 2 * P);
	/* a file mapped over it */
	mappings__replace(m, BASE, P);
	assert_int_equal(stats(m, 1).mapped_bytes, P);
	assert_int_equal(totals(m).replaced_bytes, 3 * P);
	assert_int_equal(totals(m).s.mapped_bytes, 3 * P);
}

static void mremap_keeps_the_stack_that_mapped(void **state)
{
	struct ht_mappings *m = *state;
	uint64_t lo, hi;
	uint32_t st;

	assert_int_equal(mappings__map(m, BASE, P, 4), 0);
	/* grown and moved */
	assert_int_equal(mappings__remap_begin(m, TID, BASE, P, false), 0);
	assert_int_equal(totals(m).s.mapped_bytes, 0);
	assert_int_equal(mappings__remap_end(m, TID, true, BASE + 100 * P, 4 * P), 0);
	assert_int_equal(stats(m, 4).mapped_bytes, 4 * P);
	assert_int_equal(stats(m, 4).mremaps, 1);
	assert_int_equal(stats(m, 4).mmaps, 1);
	assert_int_equal(mappings__lookup(m, BASE + 103 * P, &lo, &hi, &st), 0);
	assert_int_equal(st, 4);
	/* shrunk in place */
	assert_int_equal(mappings__remap_begin(m, TID, BASE + 100 * P, 4 * P, false), 0);
	assert_int_equal(mappings__remap_end(m, TID, true, BASE + 100 * P, P), 0);
	assert_int_equal(stats(m, 4).mapped_bytes, P);
	assert_int_equal(stats(m, 4).mremaps, 2);
	/* failed: put back */
	assert_int_equal(mappings__remap_begin(m, TID, BASE + 100 * P, P, false), 0);
	assert_int_equal(mappings__remap_end(m, TID, false, 0, 8 * P), 0);
	assert_int_equal(stats(m, 4).mapped_bytes, P);
	assert_int_equal(stats(m, 4).mremaps, 2);
	assert_int_equal(totals(m).s.mremaps, 2);
	assert_int_equal(totals(m).s.max_bytes, 4 * P);
	/* memory never seen mapped */
	assert_int_equal(mappings__remap_begin(m, TID, BASE + 500 * P, P, false), 0);
	assert_int_equal(mappings__remap_end(m, TID, true, BASE + 600 * P, P), 0);
	assert_int_equal(totals(m).unknown_remaps, 1);
	assert_int_equal(totals(m).s.mapped_bytes, P);
}

static void mremap_dontunmap_keeps_the_old_range(void **state)
{
	struct ht_mappings *m = *state;

	assert_int_equal(mappings__map(m, BASE, 2 * P, 5), 0);
	assert_int_equal(mappings__remap_begin(m, TID, BASE, 2 * P, true), 0);
	assert_int_equal(mappings__remap_end(m, TID, true, BASE + 50 * P, 2 * P), 0);
	assert_int_equal(stats(m, 5).mapped_bytes, 4 * P);
	assert_int_equal(stats(m, 5).ranges, 2);
}

/*
 * A failed mremap changes nothing (measured on python3 calling libc's
 * mremap, against strace): over a hole (EFAULT) the hole stays, over two
 * stacks' adjacent ranges (one kernel VMA: ENOMEM growing in place) each
 * keeps its own, at an unaligned address (EINVAL) the range stays whole.
 */
static void failed_mremap_leaves_the_ranges_as_they_were(void **state)
{
	struct ht_mappings *m = *state;

	assert_int_equal(mappings__map(m, BASE, 4 * P, 1), 0);
	mappings__unmap(m, BASE + P, P);
	assert_int_equal(mappings__remap_begin(m, TID, BASE, 4 * P, false), 0);
	assert_int_equal(mappings__remap_end(m, TID, false, 0, 8 * P), 0);
	assert_int_equal(stats(m, 1).mapped_bytes, 3 * P);
	assert_int_equal(stats(m, 1).ranges, 2);

	assert_int_equal(mappings__map(m, BASE + 10 * P, 2 * P, 2), 0);
	assert_int_equal(mappings__map(m, BASE + 12 * P, P, 3), 0);
	assert_int_equal(mappings__remap_begin(m, TID, BASE + 10 * P, 3 * P, false), 0);
	assert_int_equal(mappings__remap_end(m, TID, false, 0, 6 * P), 0);
	assert_int_equal(stats(m, 2).mapped_bytes, 2 * P);
	assert_int_equal(stats(m, 2).ranges, 1);
	assert_int_equal(stats(m, 3).mapped_bytes, P);
	assert_int_equal(stats(m, 3).ranges, 1);

	/* [20, 24) cut at 20 + 100 bytes and at 22 + 100, put back whole */
	assert_int_equal(mappings__map(m, BASE + 20 * P, 4 * P, 4), 0);
	assert_int_equal(mappings__remap_begin(m, TID, BASE + 20 * P + 100, 2 * P, false), 0);
	assert_int_equal(mappings__remap_end(m, TID, false, 0, 4 * P), 0);
	assert_int_equal(stats(m, 4).mapped_bytes, 4 * P);
	assert_int_equal(stats(m, 4).ranges, 1);
	assert_int_equal(totals(m).s.mapped_bytes, 10 * P);
	assert_int_equal(totals(m).s.ranges, 5);
	assert_int_equal(totals(m).s.mremaps, 0);
	assert_int_equal(totals(m).model_errors, 0);
}

/* Memory never seen mapped (a file mapping) moved over a tracked range
 * (MREMAP_FIXED): the kernel unmapped that range. */
static void unknown_mremap_over_a_range_takes_it_out(void **state)
{
	struct ht_mappings *m = *state;

	assert_int_equal(mappings__map(m, BASE, 2 * P, 6), 0);
	assert_int_equal(mappings__remap_begin(m, TID, BASE + 100 * P, 2 * P, false), 0);
	assert_int_equal(mappings__remap_end(m, TID, true, BASE, 2 * P), 0);
	assert_int_equal(totals(m).unknown_remaps, 1);
	assert_int_equal(stats(m, 6).mapped_bytes, 0);
	assert_int_equal(totals(m).s.mapped_bytes, 0);
	assert_int_equal(totals(m).s.ranges, 0);
}

static void clear_forgets_everything(void **state)
{
	struct ht_mappings *m = *state;

	assert_int_equal(mappings__map(m, BASE, 2 * P, 5), 0);
	mappings__clear(m);
	assert_int_equal(totals(m).s.mapped_bytes, 0);
	assert_int_equal(totals(m).s.mmaps, 0);
	assert_int_equal(stats(m, 5).mmaps, 0);
	mappings__unmap(m, BASE, P);
	assert_int_equal(totals(m).unknown_unmaps, 1);
}

/* Random maps, unmaps, fixed maps and remaps over 512 pages, checked after
 * every step against a page array that knows each page's stack. */
#define NPAGES 512
#define NSTACKS 6

static void random_runs_match_a_page_by_page_reference(void **state)
{
	struct ht_mappings *m = *state;
	int32_t page[NPAGES];
	uint64_t seed = 12345;

	for (int i = 0; i < NPAGES; i++)
		page[i] = -1;
	for (int step = 0; step < 20000; step++) {
		uint64_t bytes[NSTACKS] = { 0 }, total = 0;
		int op, lo, n, st;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		op = (int)(seed >> 60) & 3;
		lo = (int)((seed >> 20) % NPAGES);
		n = 1 + (int)((seed >> 40) % 16);
		st = (int)((seed >> 8) % NSTACKS);
		if (lo + n > NPAGES)
			n = NPAGES - lo;
		if (op == 0 || op == 1) { /* map (MAP_FIXED over whatever is there) */
			assert_int_equal(mappings__map(m, BASE + lo * P, n * P, (uint32_t)st), 0);
			for (int i = lo; i < lo + n; i++)
				page[i] = st;
		} else if (op == 2) {
			mappings__unmap(m, BASE + lo * P, n * P - 1);
			for (int i = lo; i < lo + n; i++)
				page[i] = -1;
		} else if (page[lo] >= 0) { /* move [lo, lo + n) to the end of the space */
			int to = NPAGES - 16, keep = page[lo];

			assert_int_equal(mappings__remap_begin(m, TID, BASE + lo * P, n * P, false), 0);
			for (int i = lo; i < lo + n; i++)
				page[i] = -1;
			assert_int_equal(mappings__remap_end(m, TID, true, BASE + to * P, 16 * P), 0);
			for (int i = to; i < NPAGES; i++)
				page[i] = keep;
		}
		for (int i = 0; i < NPAGES; i++) {
			uint64_t a, b;
			uint32_t s;
			int found = mappings__lookup(m, BASE + i * P + 7, &a, &b, &s);

			if (page[i] < 0) {
				assert_int_equal(found, -ENOENT);
				continue;
			}
			assert_int_equal(found, 0);
			assert_int_equal(s, page[i]);
			bytes[page[i]] += P;
			total += P;
		}
		for (int s = 0; s < NSTACKS; s++)
			assert_int_equal(stats(m, (uint32_t)s).mapped_bytes, bytes[s]);
		assert_int_equal(totals(m).s.mapped_bytes, total);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(maps_are_counted_by_stack_in_pages),
		T(hole_in_the_middle_leaves_two_ranges_of_the_stack),
		T(unmap_of_unseen_memory_is_counted_never_negative),
		T(one_unmap_over_several_stacks_counts_once_each),
		T(map_fixed_over_a_range_replaces_it),
		T(mremap_keeps_the_stack_that_mapped),
		T(mremap_dontunmap_keeps_the_old_range),
		T(failed_mremap_leaves_the_ranges_as_they_were),
		T(unknown_mremap_over_a_range_takes_it_out),
		T(clear_forgets_everything),
		T(random_runs_match_a_page_by_page_reference),
	};

	return cmocka_run_group_tests_name("mappings", tests, NULL, NULL);
}
