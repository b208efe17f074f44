// SPDX-License-Identifier: MIT
/*
 * The event sink: the stream's records, decoded, go into the stack table
 * and the heap model here - one allocation, free or exec at a time - and
 * on to the caller's observer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"
#include "mappings.h"
#include "modules.h"
#include "session.h"
#include "stacks.h"
#include "unwind.h"
#include "util.h"

/* A uniform double in [0, 1) from an xorshift64* stream. */
static double next_unit(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

enum placed { NOT_PLACED, PLACED, PLACED_NOW /* by reading the maps again */ };

/*
 * Is pc in the module table? A library loaded since the last look sends
 * us back to /proc/PID/maps - and tells the session's discovery trigger
 * that there are objects to look at (it runs from ht_session_poll: the
 * event path never probes). Pages found in no file (JIT code, a stack gone
 * bad) are remembered so they don't cost a re-read each time.
 */
static enum placed ensure_mapped(struct ht_session *s, uint64_t pc)
{
	uint64_t page = pc >> 12;
	size_t before = modules__count(s->mods);

	if (modules__find(s->mods, pc))
		return PLACED;
	for (size_t i = 0; i < s->nunmapped; i++)
		if (s->unmapped_pages[i] == page)
			return NOT_PLACED;
	if (session__maps_replaced(s))
		return NOT_PLACED;  /* its program is gone: unknown, never misnamed */
	modules__refresh(s->mods);
	if (modules__count(s->mods) != before)
		s->new_objects = true;
	if (modules__find(s->mods, pc))
		return PLACED_NOW;
	if (s->nunmapped >= 4096)
		s->nunmapped = 0;
	if (!grow_array((void **)&s->unmapped_pages, &s->cap_unmapped, s->nunmapped + 1,
			sizeof(*s->unmapped_pages)))
		s->unmapped_pages[s->nunmapped++] = page;
	return NOT_PLACED;
}

/*
 * ensure_mapped() for one frame. Most stacks repeat: a frame placed lately
 * is remembered (by hash, one slot each) and not looked up again - a
 * placed frame stays placed, the table only grows.
 */
static enum placed place(struct ht_session *s, uint64_t pc)
{
	uint64_t *slot = &s->placed[hash_u64(pc) & (ARRAY_SIZE(s->placed) - 1)];
	enum placed r;

	if (*slot == pc)
		return PLACED;
	r = ensure_mapped(s, pc);
	if (r != NOT_PLACED)
		*slot = pc;
	return r;
}

/*
 * Unwind e into s->frames. The frames BPF walked are placed first, for
 * the unwinder to find their CFI. A frame CFI reaches beyond them can lie
 * in an object mapped since the table was read (a launched command's
 * libraries while the loader maps them, a dlopen): the unwinder stops
 * there, at the last frame. If placing that frame takes a new read of the
 * maps, the unwind runs again with a fresh unwinder (the old one keeps
 * "no module" for that address).
 */
static uint32_t unwind(struct ht_session *s, const struct ht_alloc_event *e)
{
	struct ht_unwinder *u;
	uint32_t n;

	for (uint32_t i = 0; i < e->nr_ips; i++)
		place(s, e->ips[i]);
	if (e->flags & HT_AF_NO_TABLE)
		/* the in-kernel unwind stopped in an object without a table:
		 * the next poll loads one (session__cfi_sync) for the stacks
		 * after it */
		place(s, e->stop_pc);
	n = unwinder__unwind(s->unwinder, e, s->frames, s->opts.max_depth);
	/* Only user-space CFI over a stack window can have stopped for want
	 * of a module: the kernel's walk (cfi) and fp arrive complete. */
	if (!n || !e->stack_len || place(s, s->frames[n - 1]) != PLACED_NOW)
		return n;
	u = unwinder__new(s->mods, s->opts.unwind);
	if (!u)
		return n;
	unwinder__free(s->unwinder);
	s->unwinder = u;
	return unwinder__unwind(s->unwinder, e, s->frames, s->opts.max_depth);
}

static const char *func_name(const struct ht_session *s, uint32_t func)
{
	return func < s->set.n ? s->set.points[func].func : "?";
}

static void notify(struct ht_session *s, const struct ht_event *ev)
{
	int err;

	if (!s->observer || s->observer_err)
		return;
	err = s->observer(ev, s->observer_ctx);
	if (err < 0)
		s->observer_err = err;
}

/* The model's clock follows the events: block ages and lifetimes. */
static void set_time(struct ht_session *s, uint64_t ts)
{
	heap__set_time(s->heap, ts > s->start_ns ? ts - s->start_ns : 0);
}

static int on_alloc(void *ctx, const struct ht_alloc_event *e)
{
	struct ht_session *s = ctx;
	uint64_t bytes = e->size;
	uint32_t id, n, count = 1;
	struct ht_event ev;

	if (s->execed)
		return 0;  /* the program exec'd into: not the traced one */
	n = unwind(s, e);
	if (e->sample_thr) {
		/* A sample stands for 1/p allocations of its size. */
		double w = 4294967296.0 / (double)e->sample_thr;

		/* Rounded up or down at random in proportion, so that the
		 * block count stays unbiased even for small weights. */
		count = (uint32_t)w;
		if (next_unit(&s->rng) < w - (double)count)
			count++;
		bytes = (uint64_t)((double)e->size * w + 0.5);
	}
	set_time(s, e->hdr.ts);
	if (stacks__intern(s->stacks, s->frames, n, &id) ||
	    heap__realloc_weighted(s->heap, e->old_addr, e->addr, bytes, count, id,
				   e->hdr.tid)) {
		s->model_errors++;
		return 0;
	}
	if (s->observer) {
		ev = (struct ht_event){
			.kind = e->old_addr ? HT_EVENT_REALLOC : HT_EVENT_ALLOC,
			.tid = e->hdr.tid, .time_ns = e->hdr.ts, .addr = e->addr,
			.old_addr = e->old_addr, .size = e->size, .stack_id = id,
			.function = func_name(s, e->func),
		};
		notify(s, &ev);
	}
	return 0;
}

static int on_free(void *ctx, const struct ht_free_event *e)
{
	struct ht_session *s = ctx;
	struct ht_event ev = {
		.kind = HT_EVENT_FREE, .tid = e->hdr.tid, .time_ns = e->hdr.ts,
		.addr = e->addr, .stack_id = UINT32_MAX, .function = func_name(s, e->func),
	};

	if (s->execed)
		return 0;
	if (s->observer)
		heap__lookup(s->heap, e->addr, &ev.size, &ev.stack_id);
	set_time(s, e->hdr.ts);
	/* A block of an allocator traced late was allocated before its probes */
	if (heap__free_block(s->heap, e->addr, e->hdr.tid) == -ENOENT &&
	    e->func >= s->npoints_at_start)
		s->late_unknown_frees++;
	notify(s, &ev);
	return 0;
}

static int on_exec(void *ctx, const struct ht_event_hdr *h)
{
	struct ht_session *s = ctx;

	s->execs_seen++;
	if (s->target.launched && !s->launch_exec_seen) {
		/* The command starting: whatever came before is not its heap,
		 * and the addresses read before it are not its mappings. */
		s->launch_exec_seen = true;
		heap__clear_live(s->heap);
		if (s->maps)
			mappings__clear(s->maps);
		modules__forget_mappings(s->mods);
		memset(s->placed, 0, sizeof(s->placed));
		return 0;
	}
	if (s->target.launched) {
		/* The command handed over to another program: follow it. */
		session__follow_exec(s);
		return 0;
	}
	s->execed = true;
	return 0;
}

/* --mmap: an anonymous mapping, into a model and stack table of its own. */
static int on_mmap(void *ctx, const struct ht_alloc_event *e)
{
	struct ht_session *s = ctx;
	uint32_t id, n;

	if (s->execed || !s->maps)
		return 0;
	n = unwind(s, e);
	if (stacks__intern(s->map_stacks, s->frames, n, &id))
		s->map_errors++;
	else
		mappings__map(s->maps, e->addr, e->size, id); /* its errors counted there */
	return 0;
}

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static int on_map_change(void *ctx, const struct ht_map_event *e)
{
	struct ht_session *s = ctx;

	if (s->execed || !s->maps)
		return 0;
	switch (e->kind) {
	case HT_MM_UNMAP:
		mappings__unmap(s->maps, e->addr, e->len);
		break;
	case HT_MM_FIXED_OVER:
		mappings__replace(s->maps, e->addr, e->len);
		break;
	case HT_MM_REMAP_FROM:
		mappings__remap_begin(s->maps, e->hdr.tid, e->addr, e->len,
				      e->flags & MREMAP_DONTUNMAP);
		break;
	case HT_MM_REMAP_TO:
		mappings__remap_end(s->maps, e->hdr.tid, e->ret >= 0 || e->ret < -4095, e->addr,
				    e->len);
		break;
	default:
		return -EBADMSG;
	}
	return 0;
}

const struct ht_stream_ops sink__ops = {
	.on_alloc = on_alloc,
	.on_free = on_free,
	.on_exec = on_exec,
	.on_mmap = on_mmap,
	.on_map_change = on_map_change,
};
