/* SPDX-License-Identifier: MIT */
/*
 * The heap model: live blocks by address, and per-stack statistics -
 * allocations, frees, live memory, exact peak, temporaries.
 *
 * Peak is exact and O(1) per event: every time total live bytes reaches a
 * new high the peak epoch advances; a stack saves its live values the first
 * time it changes after the peak moment, so at any time a stack's memory
 * at the peak is either that saved value or, if it has not changed since,
 * its current value.
 *
 * A block is temporary when the thread that allocated it frees it with no
 * other allocation by that thread in between (a realloc counts as one).
 */
#ifndef HEAPTRACE_HEAP_H
#define HEAPTRACE_HEAP_H

#include <stddef.h>
#include <stdint.h>
#include "heaptrace.h"

struct ht_heap;

struct ht_heap *heap__new(void);
void heap__free(struct ht_heap *h);

/* An allocation of size bytes at addr by thread tid, on stack. 0 or -ENOMEM. */
int heap__alloc(struct ht_heap *h, uint64_t addr, uint64_t size, uint32_t stack,
		uint32_t tid);

/* A free of addr by thread tid: 0, or -ENOENT for an unknown block. */
int heap__free_block(struct ht_heap *h, uint64_t addr, uint32_t tid);

/* The live block at addr: 0 with its size and stack, or -ENOENT. */
int heap__lookup(const struct ht_heap *h, uint64_t addr, uint64_t *size, uint32_t *stack);

/* A realloc that turned old into (addr, size): old is freed, then the new
 * block allocated, as one event (the peak is checked once, after both).
 * old == 0 makes it a plain allocation. 0 or -ENOMEM. */
int heap__realloc(struct ht_heap *h, uint64_t old, uint64_t addr, uint64_t size,
		  uint32_t stack, uint32_t tid);

/* The same for a sampled allocation standing for count blocks and size
 * bytes (its estimated share). */
int heap__realloc_weighted(struct ht_heap *h, uint64_t old, uint64_t addr, uint64_t size,
			   uint32_t count, uint32_t stack, uint32_t tid);

/* Forget every live block (the target exec'd: its old heap is gone). */
void heap__clear_live(struct ht_heap *h);

/* Number of stack ids the model has seen (ids are dense from 0). */
uint32_t heap__nr_stacks(const struct ht_heap *h);

/* Statistics of one stack, with its peak values resolved. */
void heap__stack_stats(const struct ht_heap *h, uint32_t stack, struct ht_stats *out);

void heap__totals(const struct ht_heap *h, struct ht_heap_totals *out);

/*
 * The model's clock: ns since tracing began, from the events (it never
 * goes back). Blocks keep their allocation time in ms; freed lifetimes
 * and the time of the peak are measured on it.
 */
void heap__set_time(struct ht_heap *h, uint64_t ns);

/*
 * Memory over time: total live bytes and the allocations and frees so
 * far (cumulative, so rates are differences), at the end of every
 * interval that saw events - every 100 ms at first; a full series (4096
 * points) keeps every other point and doubles the interval, so it covers
 * the whole run in bounded memory. A quiet gap gets its first and last
 * boundary (the values held through it). The per-stack log
 * (heap__timeline_stacks()) keeps within 256 Ki entries (3 MiB) the same
 * way, thinning the series sooner when many stacks change between points
 * (with more than that many stacks changing, within 3 entries a stack).
 */
struct ht_timeline_point {
	uint64_t t_ms; /* since tracing began */
	uint64_t live_bytes, allocs, frees;
};

/* The points, oldest first (valid until the model changes); their count. */
size_t heap__timeline(const struct ht_heap *h, const struct ht_timeline_point **pts,
		      uint64_t *interval_ms);

/*
 * The live bytes of stacks[0..n) at each of heap__timeline()'s points:
 * out[i * n + j] for point i and stacks[j] (out holds points * n). Exact:
 * at each point the model logs every stack whose live bytes changed since
 * the point before (12 bytes a change; when the series is thinned, a
 * dropped point's entries merge into the next), so the live bytes of all
 * stacks at a point sum to its live_bytes. 0, -ENOMEM, or -ENODATA when
 * the log ran out of memory while tracing.
 */
int heap__timeline_stacks(const struct ht_heap *h, const uint32_t *stacks, size_t n,
			  uint64_t *out);

/* What a stack holds by age, from a walk over every live block. */
struct ht_live_age {
	uint64_t oldest_ms;             /* allocation time of its oldest live block; UINT64_MAX: none */
	uint64_t age_sum_ms;            /* the ages of its live blocks at now_ms, summed */
	uint64_t old_blocks, old_bytes; /* live blocks at least older_ms old at now_ms */
};

/* out[i] for each of heap__nr_stacks() stacks. 0. */
int heap__live_ages(const struct ht_heap *h, uint64_t now_ms, uint64_t older_ms,
		    struct ht_live_age *out);

/*
 * Intervals (snapshots): heap__mark_interval() starts a new one. A stack's
 * churn in the current interval - allocs, alloc_bytes, frees, freed_bytes
 * and temporary since the last mark (since the start before the first);
 * the other fields 0 - and the same for the totals.
 */
void heap__mark_interval(struct ht_heap *h);
void heap__interval_stats(const struct ht_heap *h, uint32_t stack, struct ht_stats *out);
void heap__interval_totals(const struct ht_heap *h, struct ht_stats *out);

/* Bytes of memory the model uses. */
size_t heap__mem_bytes(const struct ht_heap *h);

#endif
