// SPDX-License-Identifier: MIT
/* Unit tests of the heap model: exact accounting on hand-made event runs. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>
#include "heap.h"

#define T1 101
#define T2 102

static int setup(void **state)
{
	*state = heap__new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	heap__free(*state);
	return 0;
}

static struct ht_stats stats(struct ht_heap *h, uint32_t stack)
{
	struct ht_stats s;

	heap__stack_stats(h, stack, &s);
	return s;
}

static struct ht_heap_totals totals(struct ht_heap *h)
{
	struct ht_heap_totals t;

	heap__totals(h, &t);
	return t;
}

static void kept_allocations_are_live_on_their_stack(void **state)
{
	struct ht_heap *h = *state;

	for (uint64_t i = 0; i < 1000; i++)
		assert_int_equal(heap__alloc(h, 0x1000 + i * 128, 100, 3, T1), 0);
	assert_int_equal(stats(h, 3).allocs, 1000);
	assert_int_equal(stats(h, 3).live_blocks, 1000);
	assert_int_equal(stats(h, 3).live_bytes, 100000);
	assert_int_equal(stats(h, 3).frees, 0);
	assert_int_equal(stats(h, 0).allocs, 0);
	assert_int_equal(totals(h).s.live_bytes, 100000);
	assert_int_equal(totals(h).s.peak_bytes, 100000);
	assert_int_equal(totals(h).s.peak_blocks, 1000);
}

static void alloc_then_free_by_same_thread_is_temporary(void **state)
{
	struct ht_heap *h = *state;

	for (int i = 0; i < 500; i++) {
		assert_int_equal(heap__alloc(h, 0x5000, 64, 1, T1), 0);
		assert_int_equal(heap__free_block(h, 0x5000, T1), 0);
	}
	assert_int_equal(stats(h, 1).allocs, 500);
	assert_int_equal(stats(h, 1).frees, 500);
	assert_int_equal(stats(h, 1).freed_bytes, 32000);
	assert_int_equal(stats(h, 1).temporary, 500);
	assert_int_equal(stats(h, 1).live_blocks, 0);
	assert_int_equal(totals(h).s.temporary, 500);
	assert_int_equal(totals(h).s.peak_bytes, 64);
}

static void free_after_another_allocation_is_not_temporary(void **state)
{
	struct ht_heap *h = *state;

	heap__alloc(h, 0x100, 10, 0, T1);
	heap__alloc(h, 0x200, 20, 1, T1);
	heap__free_block(h, 0x100, T1);  /* another alloc came in between */
	heap__free_block(h, 0x200, T1);  /* the thread's last alloc: temporary */
	assert_int_equal(stats(h, 0).temporary, 0);
	assert_int_equal(stats(h, 1).temporary, 1);
}

static void free_by_another_thread_counts_on_alloc_stack_not_temporary(void **state)
{
	struct ht_heap *h = *state;

	heap__alloc(h, 0x100, 48, 7, T1);
	assert_int_equal(heap__free_block(h, 0x100, T2), 0);
	assert_int_equal(stats(h, 7).frees, 1);
	assert_int_equal(stats(h, 7).freed_bytes, 48);
	assert_int_equal(stats(h, 7).temporary, 0);
}

static void free_of_unknown_block_is_counted_and_ignored(void **state)
{
	struct ht_heap *h = *state;

	heap__alloc(h, 0x100, 8, 0, T1);
	assert_int_equal(heap__free_block(h, 0x999, T1), -ENOENT);
	assert_int_equal(totals(h).unknown_frees, 1);
	assert_int_equal(totals(h).s.frees, 0);
	assert_int_equal(totals(h).s.live_bytes, 8);
}

static void realloc_frees_old_on_its_stack_and_allocates_on_realloc_stack(void **state)
{
	struct ht_heap *h = *state;

	heap__alloc(h, 0x100, 16, 0, T1);
	heap__alloc(h, 0x900, 1, 5, T1);
	assert_int_equal(heap__realloc(h, 0x100, 0x200, 32, 1, T1), 0);
	assert_int_equal(stats(h, 0).frees, 1);
	assert_int_equal(stats(h, 0).freed_bytes, 16);
	assert_int_equal(stats(h, 0).live_bytes, 0);
	assert_int_equal(stats(h, 1).allocs, 1);
	assert_int_equal(stats(h, 1).live_bytes, 32);
	assert_int_equal(totals(h).s.live_bytes, 33);
	assert_int_equal(totals(h).s.allocs, 3);
}

static void realloc_chain_grows_one_block(void **state)
{
	struct ht_heap *h = *state;
	uint64_t addr = 0, size;

	for (size = 16; size <= 4096; size *= 2) {
		uint64_t next = 0x10000 + size;

		heap__realloc(h, addr, next, size, 2, T1);
		addr = next;
	}
	assert_int_equal(stats(h, 2).allocs, 9);
	assert_int_equal(stats(h, 2).alloc_bytes, 8176);
	assert_int_equal(stats(h, 2).frees, 8);
	assert_int_equal(stats(h, 2).freed_bytes, 4080);
	assert_int_equal(stats(h, 2).live_blocks, 1);
	assert_int_equal(stats(h, 2).live_bytes, 4096);
	/* A realloc moves memory as one step: peak is the largest block, not
	 * old + new. */
	assert_int_equal(totals(h).s.peak_bytes, 4096);
}

static void realloc_in_place_keeps_one_block(void **state)
{
	struct ht_heap *h = *state;

	heap__alloc(h, 0x100, 10, 0, T1);
	heap__realloc(h, 0x100, 0x100, 100, 1, T1);
	assert_int_equal(totals(h).s.live_blocks, 1);
	assert_int_equal(totals(h).s.live_bytes, 100);
	assert_int_equal(stats(h, 0).live_bytes, 0);
	assert_int_equal(stats(h, 1).live_bytes, 100);
}

static void peak_is_exact_per_stack_at_moment_of_highest_total(void **state)
{
	struct ht_heap *h = *state;
	uint64_t i;

	/* stack 0 holds 300 throughout; stack 1 peaks with 1000 then drops to
	 * 0; stack 2 grows to 500 after the peak, which stays lower. */
	heap__alloc(h, 0x10, 300, 0, T1);
	for (i = 0; i < 10; i++)
		heap__alloc(h, 0x1000 + i, 100, 1, T1);
	for (i = 0; i < 10; i++)
		heap__free_block(h, 0x1000 + i, T1);
	for (i = 0; i < 5; i++)
		heap__alloc(h, 0x2000 + i, 100, 2, T2);
	assert_int_equal(totals(h).s.peak_bytes, 1300);
	assert_int_equal(totals(h).s.peak_blocks, 11);
	assert_int_equal(stats(h, 0).peak_bytes, 300);
	assert_int_equal(stats(h, 0).peak_blocks, 1);
	assert_int_equal(stats(h, 1).peak_bytes, 1000);
	assert_int_equal(stats(h, 1).peak_blocks, 10);
	assert_int_equal(stats(h, 2).peak_bytes, 0);
	assert_int_equal(stats(h, 2).live_bytes, 500);
}

static void later_higher_peak_replaces_earlier_one(void **state)
{
	struct ht_heap *h = *state;

	heap__alloc(h, 0x10, 1000, 0, T1);   /* peak 1: 1000, all stack 0 */
	heap__free_block(h, 0x10, T1);
	heap__alloc(h, 0x20, 700, 1, T1);
	heap__alloc(h, 0x30, 700, 2, T1);    /* peak 2: 1400 */
	heap__free_block(h, 0x20, T1);
	assert_int_equal(totals(h).s.peak_bytes, 1400);
	assert_int_equal(stats(h, 0).peak_bytes, 0);
	assert_int_equal(stats(h, 1).peak_bytes, 700);
	assert_int_equal(stats(h, 2).peak_bytes, 700);
}

static void equal_total_later_does_not_move_peak(void **state)
{
	struct ht_heap *h = *state;

	heap__alloc(h, 0x10, 100, 0, T1);
	heap__free_block(h, 0x10, T1);
	heap__alloc(h, 0x20, 100, 1, T1);    /* same total: first moment wins */
	assert_int_equal(stats(h, 0).peak_bytes, 100);
	assert_int_equal(stats(h, 1).peak_bytes, 0);
}

static void allocation_over_live_address_replaces_and_counts(void **state)
{
	struct ht_heap *h = *state;

	heap__alloc(h, 0x10, 100, 0, T1);
	heap__alloc(h, 0x10, 50, 1, T1);     /* the free in between was lost */
	assert_int_equal(totals(h).replaced, 1);
	assert_int_equal(totals(h).s.live_blocks, 1);
	assert_int_equal(totals(h).s.live_bytes, 50);
	assert_int_equal(stats(h, 0).frees, 1);
}

static void many_blocks_survive_table_growth_and_removal(void **state)
{
	struct ht_heap *h = *state;
	const uint64_t n = 200000;

	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(heap__alloc(h, 0x100000 + i * 16, 1, (uint32_t)(i % 7), T1), 0);
	for (uint64_t i = 0; i < n; i += 2)
		assert_int_equal(heap__free_block(h, 0x100000 + i * 16, T2), 0);
	for (uint64_t i = 1; i < n; i += 2)
		assert_int_equal(heap__free_block(h, 0x100000 + i * 16, T2), 0);
	assert_int_equal(totals(h).s.live_blocks, 0);
	assert_int_equal(totals(h).s.frees, n);
	assert_int_equal(totals(h).unknown_frees, 0);
	assert_int_equal(totals(h).s.peak_blocks, n);
}

static void clear_live_forgets_blocks_but_keeps_history(void **state)
{
	struct ht_heap *h = *state;

	heap__alloc(h, 0x10, 100, 0, T1);
	heap__clear_live(h);
	assert_int_equal(totals(h).s.live_bytes, 0);
	assert_int_equal(stats(h, 0).live_bytes, 0);
	assert_int_equal(stats(h, 0).allocs, 1);
	assert_int_equal(stats(h, 0).peak_bytes, 100);
	assert_int_equal(heap__free_block(h, 0x10, T1), -ENOENT);
}

static void weighted_sample_counts_its_weight_in_blocks_and_bytes(void **state)
{
	struct ht_heap *h = *state;

	/* A sample standing for 8193 blocks of 64 bytes (p = 1/8193). */
	assert_int_equal(heap__realloc_weighted(h, 0, 0x10, 8193 * 64, 8193, 4, T1), 0);
	assert_int_equal(stats(h, 4).allocs, 8193);
	assert_int_equal(stats(h, 4).live_blocks, 8193);
	assert_int_equal(stats(h, 4).live_bytes, 8193 * 64);
	assert_int_equal(heap__free_block(h, 0x10, T1), 0);
	assert_int_equal(stats(h, 4).frees, 8193);
	assert_int_equal(stats(h, 4).freed_bytes, 8193 * 64);
	assert_int_equal(stats(h, 4).temporary, 8193);
	assert_int_equal(totals(h).s.live_blocks, 0);
}

static void block_of_more_than_4_gib_keeps_its_size(void **state)
{
	struct ht_heap *h = *state;
	uint64_t size, big = 5ULL << 32;
	uint32_t stack;

	assert_int_equal(heap__alloc(h, 0x10, big, 2, T1), 0);
	assert_int_equal(heap__lookup(h, 0x10, &size, &stack), 0);
	assert_int_equal(size, big);
	assert_int_equal(stack, 2);
	assert_int_equal(totals(h).s.live_bytes, big);
}

/* An interval counts the churn since its mark, per stack (a stack new
 * since the mark: all of it) and in total; live values are not churn. */
static void interval_counts_churn_since_the_mark(void **state)
{
	struct ht_heap *h = *state;
	struct ht_stats iv;

	heap__interval_stats(h, 1, &iv);
	assert_int_equal(iv.allocs, 0);
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(heap__alloc(h, 0x100 + i * 0x10, 10, 1, T1), 0);
	heap__interval_totals(h, &iv);
	assert_int_equal(iv.allocs, 3);
	assert_int_equal(iv.alloc_bytes, 30);
	heap__mark_interval(h);
	heap__interval_stats(h, 1, &iv);
	assert_int_equal(iv.allocs, 0);
	assert_int_equal(iv.live_bytes, 0);
	assert_int_equal(heap__alloc(h, 0x200, 7, 1, T1), 0);
	assert_int_equal(heap__free_block(h, 0x200, T1), 0);   /* temporary */
	assert_int_equal(heap__free_block(h, 0x100, T2), 0);
	assert_int_equal(heap__alloc(h, 0x300, 5, 2, T2), 0);
	heap__interval_stats(h, 1, &iv);
	assert_int_equal(iv.allocs, 1);
	assert_int_equal(iv.alloc_bytes, 7);
	assert_int_equal(iv.frees, 2);
	assert_int_equal(iv.freed_bytes, 17);
	assert_int_equal(iv.temporary, 1);
	assert_int_equal(iv.live_blocks, 0);
	heap__interval_stats(h, 2, &iv);
	assert_int_equal(iv.allocs, 1);
	assert_int_equal(iv.alloc_bytes, 5);
	heap__interval_stats(h, 9, &iv);
	assert_int_equal(iv.allocs, 0);
	heap__interval_totals(h, &iv);
	assert_int_equal(iv.allocs, 2);
	assert_int_equal(iv.alloc_bytes, 12);
	assert_int_equal(iv.frees, 2);
	assert_int_equal(iv.freed_bytes, 17);
	assert_int_equal(iv.temporary, 1);
	assert_int_equal(stats(h, 1).allocs, 4);
}

/* A small deterministic generator (xorshift64). */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * steps steps of ms_per_step ms over nstacks stacks: each step allocates
 * and frees a few blocks at random (and step clear_at clears the heap).
 * ref[k * nstacks + j] is stack j's live bytes after step k. Then every
 * point of the timeline, at t_ms, must hold for every stack what it held
 * after the last step before t_ms, and its stacks sum to its live_bytes.
 */
static void expect_timeline_stacks_exact(struct ht_heap *h, uint32_t nstacks, size_t steps,
					 uint64_t ms_per_step, size_t per_step, size_t clear_at)
{
	uint64_t *ref = calloc(steps * nstacks, sizeof(*ref)), *out, x = 88172645463325252ULL;
	uint64_t *addr = calloc(4096, sizeof(*addr)), next_addr = 0x1000, interval;
	uint32_t *ids = calloc(nstacks, sizeof(*ids)), *astack = calloc(4096, sizeof(*astack));
	const struct ht_timeline_point *p;
	size_t n;

	assert_non_null(ref);
	assert_non_null(addr);
	assert_non_null(ids);
	assert_non_null(astack);
	for (size_t k = 0; k < steps; k++) {
		heap__set_time(h, (k + 1) * ms_per_step * 1000000);
		for (size_t e = 0; e < per_step; e++) {
			size_t slot = next_rand(&x) % 4096;
			uint64_t size = 1 + next_rand(&x) % 1000;

			if (addr[slot]) {
				assert_int_equal(heap__free_block(h, addr[slot], T1), 0);
				addr[slot] = 0;
			} else {
				astack[slot] = (uint32_t)(next_rand(&x) % nstacks);
				addr[slot] = next_addr;
				next_addr += 0x10;
				assert_int_equal(heap__alloc(h, addr[slot], size, astack[slot], T1), 0);
			}
		}
		if (k == clear_at) {
			heap__clear_live(h);
			for (size_t i = 0; i < 4096; i++)
				addr[i] = 0;
		}
		for (uint32_t j = 0; j < nstacks; j++)
			ref[k * nstacks + j] = stats(h, j).live_bytes;
	}
	heap__set_time(h, (steps + 1) * ms_per_step * 1000000);
	n = heap__timeline(h, &p, &interval);
	assert_true(n > 10);
	for (uint32_t j = 0; j < nstacks; j++)
		ids[j] = j;
	out = calloc(n * nstacks, sizeof(*out));
	assert_non_null(out);
	assert_int_equal(heap__timeline_stacks(h, ids, nstacks, out), 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t sum = 0;
		/* Step k runs at (k + 1) * ms_per_step: the point holds the
		 * steps before t_ms, c - 1 of them. */
		size_t c = (p[i].t_ms + ms_per_step - 1) / ms_per_step;

		for (uint32_t j = 0; j < nstacks; j++) {
			uint64_t want = c >= 2 ? ref[(c - 2) * nstacks + j] : 0;

			if (out[i * nstacks + j] != want)
				fail_msg("point %zu at %llu ms: stack %u holds %llu, want %llu", i,
					 (unsigned long long)p[i].t_ms, j,
					 (unsigned long long)out[i * nstacks + j],
					 (unsigned long long)want);
			sum += out[i * nstacks + j];
		}
		assert_int_equal(sum, p[i].live_bytes);
	}
	free(out);
	free(astack);
	free(ids);
	free(addr);
	free(ref);
}

/* 30,000 steps of 30 ms (900 s): the series is thinned (4096 points) twice. */
static void timeline_stacks_sum_to_total_through_thinning(void **state)
{
	struct ht_heap *h = *state;
	const struct ht_timeline_point *p;
	uint64_t interval;

	expect_timeline_stacks_exact(h, 20, 30000, 30, 8, 20000);
	heap__timeline(h, &p, &interval);
	assert_int_equal(interval, 400);
}

/* 3,000 stacks changing each step: the log's bound thins the series. */
static void timeline_stacks_log_bound_thins_exactly(void **state)
{
	struct ht_heap *h = *state;
	const struct ht_timeline_point *p;
	uint64_t interval;
	size_t n;

	expect_timeline_stacks_exact(h, 3000, 400, 100, 3000, 1000);
	n = heap__timeline(h, &p, &interval);
	assert_true(interval > 100);
	assert_true(n < 400);
}

/*
 * More stacks change between two points than the log holds (270,000 >
 * 256 Ki): the series keeps thinning to its last points, each exact, and
 * the log stops growing (entries carried from a dropped point are merged,
 * not piled up).
 */
static void timeline_stacks_more_changes_than_the_log_holds(void **state)
{
	enum { S = 270000, STEPS = 12 };
	struct ht_heap *h = *state;
	const struct ht_timeline_point *p;
	uint64_t interval, *out;
	uint32_t *all = calloc(S, sizeof(*all));
	size_t mem_early = 0, n;

	assert_non_null(all);
	for (uint32_t s = 0; s < S; s++)
		all[s] = s;

	for (uint64_t k = 0; k < STEPS; k++) {
		heap__set_time(h, (k + 1) * 100 * 1000000);
		for (uint32_t s = 0; s < S; s++) {
			uint64_t addr = 0x1000 + ((uint64_t)s << 4);

			if (k)
				assert_int_equal(heap__free_block(h, addr, T1), 0);
			assert_int_equal(heap__alloc(h, addr, 1 + (s + k) % 7, s, T1), 0);
		}
		if (k == 5)
			mem_early = heap__mem_bytes(h);
	}
	heap__set_time(h, (STEPS + 1) * 100 * 1000000);
	assert_true(heap__mem_bytes(h) <= mem_early);
	n = heap__timeline(h, &p, &interval);
	assert_true(n >= 2);
	out = calloc(n * S, sizeof(*out));
	assert_non_null(out);
	assert_int_equal(heap__timeline_stacks(h, all, S, out), 0);
	for (size_t i = 0; i < n; i++) {
		/* the point at (k + 1) * 100 ms holds steps 0 .. k - 1 */
		uint64_t k = p[i].t_ms / 100 - 1, sum = 0;

		for (uint32_t s = 0; s < S; s++) {
			uint64_t want = k ? 1 + (s + k - 1) % 7 : 0;

			if (out[i * S + s] != want)
				fail_msg("point %zu: stack %u holds %llu, want %llu", i, s,
					 (unsigned long long)out[i * S + s],
					 (unsigned long long)want);
			sum += want;
		}
		assert_int_equal(p[i].live_bytes, sum);
	}
	free(out);
	free(all);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(kept_allocations_are_live_on_their_stack),
		T(alloc_then_free_by_same_thread_is_temporary),
		T(free_after_another_allocation_is_not_temporary),
		T(free_by_another_thread_counts_on_alloc_stack_not_temporary),
		T(free_of_unknown_block_is_counted_and_ignored),
		T(realloc_frees_old_on_its_stack_and_allocates_on_realloc_stack),
		T(realloc_chain_grows_one_block),
		T(realloc_in_place_keeps_one_block),
		T(peak_is_exact_per_stack_at_moment_of_highest_total),
		T(later_higher_peak_replaces_earlier_one),
		T(equal_total_later_does_not_move_peak),
		T(allocation_over_live_address_replaces_and_counts),
		T(many_blocks_survive_table_growth_and_removal),
		T(clear_live_forgets_blocks_but_keeps_history),
		T(weighted_sample_counts_its_weight_in_blocks_and_bytes),
		T(block_of_more_than_4_gib_keeps_its_size),
		T(interval_counts_churn_since_the_mark),
		T(timeline_stacks_sum_to_total_through_thinning),
		T(timeline_stacks_log_bound_thins_exactly),
		T(timeline_stacks_more_changes_than_the_log_holds),
	};

	return cmocka_run_group_tests_name("heap model", tests, NULL, NULL);
}
