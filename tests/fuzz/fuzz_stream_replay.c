// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: stream__replay(), the reader of recordings made with
 * `heaptrace --record` (u32 length, record, ...) - files that come from
 * bug reports, so untrusted. Records go through the decoder into the
 * stack interning and the heap model, as in a replay; each accepted
 * allocation's raw stack window is read whole, as the unwinder may.
 * Afterwards the model's totals must be consistent.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"
#include "stacks.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct model {
	struct ht_heap *heap;
	struct ht_stacks *stacks;
	uint64_t sum;
};

static int on_alloc(void *ctx, const struct ht_alloc_event *e)
{
	struct model *m = ctx;
	const uint8_t *stack = HT_ALLOC_EVENT_STACK(e);
	uint32_t id;

	for (uint32_t i = 0; i < e->stack_len; i++)
		m->sum += stack[i];
	if (stacks__intern(m->stacks, (const uint64_t *)e->ips, e->nr_ips, &id))
		return 0;
	if (e->sample_thr)
		heap__realloc_weighted(m->heap, e->old_addr, e->addr, e->size,
				       (uint32_t)(e->sample_thr % 7 + 1), id, e->hdr.tid);
	else
		heap__realloc(m->heap, e->old_addr, e->addr, e->size, id, e->hdr.tid);
	return 0;
}

static int on_free(void *ctx, const struct ht_free_event *e)
{
	struct model *m = ctx;

	heap__free_block(m->heap, e->addr, e->hdr.tid);
	return 0;
}

static int on_exec(void *ctx, const struct ht_event_hdr *h)
{
	struct model *m = ctx;

	heap__clear_live(m->heap);
	(void)h;
	return 0;
}

static const struct ht_stream_ops ops = { .on_alloc = on_alloc, .on_free = on_free, .on_exec = on_exec };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model m = { heap__new(), stacks__new(), 0 };
	struct ht_heap_totals t;
	struct ht_stats st, sum = { 0 };
	void *copy = malloc(size ? size : 1);
	long n;

	if (!m.heap || !m.stacks || !copy)
		abort();
	memcpy(copy, data, size);
	n = stream__replay(copy, size, &ops, &m);
	if (n < 0 && n != -EBADMSG)
		abort();
	heap__totals(m.heap, &t);
	for (uint32_t i = 0; i < heap__nr_stacks(m.heap); i++) {
		uint32_t nr = 0;

		heap__stack_stats(m.heap, i, &st);
		(void)stacks__get(m.stacks, i, &nr);
		if (st.live_blocks > st.allocs || st.temporary > st.frees)
			abort();
		sum.allocs += st.allocs;
		sum.live_blocks += st.live_blocks;
	}
	if (t.s.allocs < sum.allocs || t.s.live_blocks != sum.live_blocks)
		abort();
	heap__free(m.heap);
	stacks__free(m.stacks);
	free(copy);
	return 0;
}
