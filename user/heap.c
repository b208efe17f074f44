// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"
#include "util.h"

/*
 * 24 bytes a live block. size_count packs the bytes the block stands for
 * (estimated when sampled; 48 bits: 256 TiB) and the number of blocks it
 * stands for (1, or a sample's weight, at most 1/p < 2^14: 16 bits).
 */
/* 28 bytes: packed to 4-byte alignment, or the time would cost 8. */
struct block {
	uint64_t addr;  /* 0 = empty slot */
	uint64_t size_count;
	uint32_t stack;
	uint32_t tid;
	uint32_t t_ms;  /* allocated at, ms since the heap's time origin */
} __attribute__((packed, aligned(4)));

#define SIZE_BITS 48
#define SIZE_MASK ((1ULL << SIZE_BITS) - 1)

static inline uint64_t block_size(const struct block *b)
{
	return b->size_count & SIZE_MASK;
}

static inline uint32_t block_count(const struct block *b)
{
	return (uint32_t)(b->size_count >> SIZE_BITS);
}

/* The churn counters at the last interval mark. */
struct churn {
	uint64_t allocs, alloc_bytes, frees, freed_bytes, temporary;
};

struct stack_rec {
	struct ht_stats s;       /* peak_* hold the values saved at mod_epoch */
	uint64_t mod_epoch;      /* peak epoch of the last change */
	struct churn mark;
	uint32_t tl_dirty;       /* tl_gen + 1: live bytes changed since the last point */
	uint32_t tl_merge;       /* scratch of log_merge() */
};

/*
 * The timeline's per-stack log: at each point, the live bytes of every
 * stack whose live bytes changed since the point before (12 bytes each).
 */
struct tl_delta {
	uint32_t stack;
	uint64_t live_bytes;
} __attribute__((packed, aligned(4)));

/* Times are kept in ms in 32 bits: 49.7 days, then they saturate. */
#define T_MAX_MS UINT32_MAX

struct ht_heap {
	struct block *blocks;    /* open addressing, linear probing */
	size_t nslots, nblocks;
	struct ht_u64map threads; /* tid -> the thread's most recent allocation */
	struct stack_rec *stacks;
	size_t nstacks, cap_stacks;
	struct ht_stats total;
	struct churn total_mark;
	uint64_t unknown_frees, replaced;
	uint64_t epoch;          /* advances at every new peak */
	uint32_t now_ms;         /* heap__set_time() */
	uint32_t peak_ms;        /* when total live bytes last reached its peak */
	struct ht_timeline_point *tl;
	size_t ntl, cap_tl;
	uint64_t tl_interval_ms, tl_next_ms;  /* the next point is due at tl_next_ms */
	uint32_t *tl_end;        /* per point: the end of its entries in tl_log */
	size_t cap_tl_end;
	struct tl_delta *tl_log;
	size_t nlog, cap_log;
	uint32_t *dirty;         /* stacks changed since the last point */
	size_t ndirty, cap_dirty;
	uint32_t tl_gen;         /* points added so far */
	uint32_t merge_gen;      /* log_merge() calls so far */
	bool tl_lost;            /* out of memory for the log: per-stack series incomplete */
};

/* The series stays within this many points (32 bytes each), and its
 * per-stack log within this many entries (12 bytes each) - or, when more
 * stacks than that change between two points, within 3 per stack (a
 * point, the entries carried from a dropped one, the changes since). */
#define TIMELINE_MAX 4096
#define TIMELINE_LOG_MAX (256 * 1024)
#define TIMELINE_START_MS 100

struct ht_heap *heap__new(void)
{
	struct ht_heap *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->nslots = 1024;
	h->blocks = calloc(h->nslots, sizeof(*h->blocks));
	h->tl_interval_ms = TIMELINE_START_MS;
	h->tl_next_ms = TIMELINE_START_MS;
	if (!h->blocks) {
		heap__free(h);
		return NULL;
	}
	return h;
}

void heap__free(struct ht_heap *h)
{
	if (!h)
		return;
	free(h->blocks);
	u64map__free(&h->threads);
	free(h->stacks);
	free(h->tl);
	free(h->tl_end);
	free(h->tl_log);
	free(h->dirty);
	free(h);
}

/* --- live blocks ------------------------------------------------------ */

static size_t block_slot(const struct ht_heap *h, uint64_t addr)
{
	size_t mask = h->nslots - 1, i = hash_u64(addr) & mask;

	while (h->blocks[i].addr && h->blocks[i].addr != addr)
		i = (i + 1) & mask;
	return i;
}

static int blocks_grow(struct ht_heap *h)
{
	struct block *old = h->blocks;
	size_t n = h->nslots;

	h->blocks = calloc(n * 2, sizeof(*h->blocks));
	if (!h->blocks) {
		h->blocks = old;
		return -ENOMEM;
	}
	h->nslots = n * 2;
	for (size_t i = 0; i < n; i++)
		if (old[i].addr)
			h->blocks[block_slot(h, old[i].addr)] = old[i];
	free(old);
	return 0;
}

/* Remove slot i, shifting later members of its probe run back. */
static void block_remove(struct ht_heap *h, size_t i)
{
	size_t mask = h->nslots - 1, j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!h->blocks[j].addr)
			break;
		home = hash_u64(h->blocks[j].addr) & mask;
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		h->blocks[i] = h->blocks[j];
		i = j;
	}
	h->blocks[i].addr = 0;
	h->nblocks--;
}

/* --- stacks and peak -------------------------------------------------- */

static struct stack_rec *stack_get(struct ht_heap *h, uint32_t stack)
{
	size_t old = h->nstacks;

	if (stack >= h->nstacks) {
		if (grow_array((void **)&h->stacks, &h->cap_stacks, (size_t)stack + 1,
			       sizeof(*h->stacks)))
			return NULL;
		memset(&h->stacks[old], 0, ((size_t)stack + 1 - old) * sizeof(*h->stacks));
		/* New stacks had nothing live at the current peak. */
		for (size_t i = old; i <= stack; i++)
			h->stacks[i].mod_epoch = h->epoch;
		h->nstacks = (size_t)stack + 1;
	}
	return &h->stacks[stack];
}

/* Before a stack's live values change: note it for the timeline's next
 * point (a stack it cannot note leaves the point's entries short: the
 * point's stacks then no longer sum to its total, see heap__timeline_stacks()). */
static void stack_dirty(struct ht_heap *h, struct stack_rec *r)
{
	if (r->tl_dirty == h->tl_gen + 1)
		return;
	if (grow_array((void **)&h->dirty, &h->cap_dirty, h->ndirty + 1, sizeof(*h->dirty))) {
		h->tl_lost = true;
		return;
	}
	h->dirty[h->ndirty++] = (uint32_t)(r - h->stacks);
	r->tl_dirty = h->tl_gen + 1;
}

/* Before a stack's live values change: keep what it held at the peak. */
static void stack_touch(struct ht_heap *h, struct stack_rec *r)
{
	stack_dirty(h, r);
	if (r->mod_epoch == h->epoch)
		return;
	r->s.peak_bytes = r->s.live_bytes;
	r->s.peak_blocks = r->s.live_blocks;
	r->mod_epoch = h->epoch;
}

static void check_peak(struct ht_heap *h)
{
	if (h->total.live_bytes <= h->total.peak_bytes)
		return;
	h->total.peak_bytes = h->total.live_bytes;
	h->total.peak_blocks = h->total.live_blocks;
	h->total.max_live_bytes = h->total.live_bytes;
	h->total.max_live_blocks = h->total.live_blocks;
	h->peak_ms = h->now_ms;
	h->epoch++;
}

/* --- events ----------------------------------------------------------- */

static int do_free(struct ht_heap *h, uint64_t addr, uint32_t tid)
{
	size_t i = block_slot(h, addr);
	struct block *b = &h->blocks[i];
	struct stack_rec *r;
	uint64_t *last;
	uint64_t size;
	uint32_t count;

	if (!b->addr) {
		h->unknown_frees++;
		return -ENOENT;
	}
	size = block_size(b);
	count = block_count(b);
	r = &h->stacks[b->stack];
	stack_touch(h, r);
	r->s.frees += count;
	r->s.freed_bytes += size;
	r->s.live_blocks -= count;
	r->s.live_bytes -= size;
	/* A sampled block stands for count blocks of the same lifetime. */
	r->s.freed_lifetime_ms += (uint64_t)(h->now_ms - b->t_ms) * count;
	h->total.freed_lifetime_ms += (uint64_t)(h->now_ms - b->t_ms) * count;
	h->total.frees += count;
	h->total.freed_bytes += size;
	h->total.live_blocks -= count;
	h->total.live_bytes -= size;
	if (tid && b->tid == tid) {
		last = u64map__find(&h->threads, tid);
		if (last && *last == addr) {
			r->s.temporary += count;
			h->total.temporary += count;
		}
	}
	block_remove(h, i);
	return 0;
}

static int do_alloc(struct ht_heap *h, uint64_t addr, uint64_t size, uint32_t count,
		    uint32_t stack, uint32_t tid)
{
	struct stack_rec *r;
	uint64_t *last;
	size_t i;

	if (!addr)
		return -EINVAL;
	if ((h->nblocks + 1) * 4 > h->nslots * 3 && blocks_grow(h))
		return -ENOMEM;
	r = stack_get(h, stack);
	last = u64map__insert(&h->threads, tid, NULL);
	if (!r || !last)
		return -ENOMEM;
	i = block_slot(h, addr);
	if (h->blocks[i].addr) {
		/* Its free was lost: count it, and let the new block win. */
		h->replaced++;
		do_free(h, addr, 0);
		i = block_slot(h, addr);
	}
	if (size > SIZE_MASK)
		size = SIZE_MASK;
	if (count > 0xffff)
		count = 0xffff;
	h->blocks[i] = (struct block){ addr, size | (uint64_t)count << SIZE_BITS, stack, tid,
				       h->now_ms };
	h->nblocks++;
	stack_touch(h, r);
	r->s.allocs += count;
	r->s.alloc_bytes += size;
	r->s.live_blocks += count;
	r->s.live_bytes += size;
	if (r->s.live_bytes > r->s.max_live_bytes) {
		r->s.max_live_bytes = r->s.live_bytes;
		r->s.max_live_blocks = r->s.live_blocks;
	}
	h->total.allocs += count;
	h->total.alloc_bytes += size;
	h->total.live_blocks += count;
	h->total.live_bytes += size;
	*last = addr;
	return 0;
}

int heap__alloc(struct ht_heap *h, uint64_t addr, uint64_t size, uint32_t stack,
		uint32_t tid)
{
	int err = do_alloc(h, addr, size, 1, stack, tid);

	check_peak(h);
	return err;
}

int heap__lookup(const struct ht_heap *h, uint64_t addr, uint64_t *size, uint32_t *stack)
{
	const struct block *b = &h->blocks[block_slot(h, addr)];

	if (!b->addr)
		return -ENOENT;
	*size = block_size(b);
	*stack = b->stack;
	return 0;
}

int heap__free_block(struct ht_heap *h, uint64_t addr, uint32_t tid)
{
	return do_free(h, addr, tid);
}

int heap__realloc(struct ht_heap *h, uint64_t old, uint64_t addr, uint64_t size,
		  uint32_t stack, uint32_t tid)
{
	return heap__realloc_weighted(h, old, addr, size, 1, stack, tid);
}

int heap__realloc_weighted(struct ht_heap *h, uint64_t old, uint64_t addr, uint64_t size,
			   uint32_t count, uint32_t stack, uint32_t tid)
{
	int err;

	if (old)
		do_free(h, old, tid);
	err = do_alloc(h, addr, size, count, stack, tid);
	check_peak(h);
	return err;
}

void heap__clear_live(struct ht_heap *h)
{
	for (size_t i = 0; i < h->nstacks; i++) {
		stack_touch(h, &h->stacks[i]);
		h->stacks[i].s.live_blocks = 0;
		h->stacks[i].s.live_bytes = 0;
	}
	memset(h->blocks, 0, h->nslots * sizeof(*h->blocks));
	h->nblocks = 0;
	h->total.live_blocks = 0;
	h->total.live_bytes = 0;
}

uint32_t heap__nr_stacks(const struct ht_heap *h)
{
	return (uint32_t)h->nstacks;
}

void heap__stack_stats(const struct ht_heap *h, uint32_t stack, struct ht_stats *out)
{
	const struct stack_rec *r;

	memset(out, 0, sizeof(*out));
	if (stack >= h->nstacks)
		return;
	r = &h->stacks[stack];
	*out = r->s;
	if (r->mod_epoch != h->epoch) {
		/* Unchanged since the peak moment: what it holds now, it held then. */
		out->peak_bytes = r->s.live_bytes;
		out->peak_blocks = r->s.live_blocks;
	}
}

void heap__totals(const struct ht_heap *h, struct ht_heap_totals *out)
{
	out->s = h->total;
	out->unknown_frees = h->unknown_frees;
	out->replaced = h->replaced;
	out->peak_ms = h->peak_ms;
}

/*
 * Two neighbouring points' entries as one, [a_start, b_end): each stack
 * once, with its last value (b's entries come after a's, and a point's
 * own entries may name a stack twice when a dropped point's were carried
 * into it). Moved down to *w <= a_start in place: first the entries that
 * a later one overrides are marked dead, walking back, then the rest are
 * moved, walking forward.
 */
static void log_merge(struct ht_heap *h, size_t a_start, size_t b_end, size_t *w)
{
	uint32_t g = ++h->merge_gen;

	for (size_t i = b_end; i-- > a_start;) {
		struct stack_rec *r = &h->stacks[h->tl_log[i].stack];

		if (r->tl_merge == g)
			h->tl_log[i].stack = UINT32_MAX;
		else
			r->tl_merge = g;
	}
	for (size_t i = a_start; i < b_end; i++)
		if (h->tl_log[i].stack != UINT32_MAX)
			h->tl_log[(*w)++] = h->tl_log[i];
}

/*
 * A full series keeps every other point and halves its rate: point 2k
 * takes over the entries of point 2k - 1, and a last odd point's entries
 * wait for the next point.
 */
static void timeline_compact(struct ht_heap *h)
{
	size_t k = 1, w;

	if (!h->ntl)
		return;
	w = h->tl_end[0];
	for (size_t i = 2; i < h->ntl; i += 2) {
		log_merge(h, h->tl_end[i - 2], h->tl_end[i], &w);
		h->tl[k] = h->tl[i];
		h->tl_end[k++] = (uint32_t)w;
	}
	if (!(h->ntl & 1))
		log_merge(h, h->tl_end[h->ntl - 2], h->tl_end[h->ntl - 1], &w);
	h->nlog = w;
	h->ntl = k;
	h->tl_interval_ms *= 2;
}

/* The stacks changed since the last point, with their live bytes now. */
static int timeline_log(struct ht_heap *h)
{
	if (grow_array((void **)&h->tl_log, &h->cap_log, h->nlog + h->ndirty, sizeof(*h->tl_log)))
		return -ENOMEM;
	for (size_t i = 0; i < h->ndirty; i++) {
		uint32_t id = h->dirty[i];

		h->tl_log[h->nlog++] = (struct tl_delta){ id, h->stacks[id].s.live_bytes };
	}
	h->ndirty = 0;
	h->tl_gen++;
	return 0;
}

static void timeline_add(struct ht_heap *h, uint64_t t_ms)
{
	while (h->ntl > 1 &&
	       (h->ntl == TIMELINE_MAX || h->nlog + h->ndirty > TIMELINE_LOG_MAX))
		timeline_compact(h);
	if (grow_array((void **)&h->tl, &h->cap_tl, h->ntl + 1, sizeof(*h->tl)) ||
	    grow_array((void **)&h->tl_end, &h->cap_tl_end, h->ntl + 1, sizeof(*h->tl_end)))
		return;  /* a point less: the series is a sample anyway */
	if (timeline_log(h))
		h->tl_lost = true;
	h->tl[h->ntl] = (struct ht_timeline_point){ t_ms, h->total.live_bytes, h->total.allocs,
						    h->total.frees };
	h->tl_end[h->ntl++] = (uint32_t)h->nlog;
}

/*
 * Before the model changes at ms: the values held since the last event
 * are those at the first due point and, after a quiet gap, at the last
 * interval boundary before ms too.
 */
static void timeline_tick(struct ht_heap *h, uint64_t ms)
{
	uint64_t due = h->tl_next_ms, last;

	if (ms < due)
		return;
	last = ms - ms % h->tl_interval_ms;
	timeline_add(h, due);
	if (last > due)
		timeline_add(h, last);
	/* The interval may have doubled on the way. */
	h->tl_next_ms = ms - ms % h->tl_interval_ms + h->tl_interval_ms;
}

void heap__set_time(struct ht_heap *h, uint64_t ns)
{
	uint64_t ms = ns / 1000000;

	/* Never backwards: CPUs' events may come a little out of order. */
	ms = ms < T_MAX_MS ? ms : T_MAX_MS;
	if (ms <= h->now_ms)
		return;
	timeline_tick(h, ms);
	h->now_ms = (uint32_t)ms;
}

size_t heap__timeline(const struct ht_heap *h, const struct ht_timeline_point **pts,
		      uint64_t *interval_ms)
{
	*pts = h->tl;
	*interval_ms = h->tl_interval_ms;
	return h->ntl;
}

int heap__live_ages(const struct ht_heap *h, uint64_t now_ms, uint64_t older_ms,
		    struct ht_live_age *out)
{
	for (size_t i = 0; i < h->nstacks; i++)
		out[i] = (struct ht_live_age){ .oldest_ms = UINT64_MAX };
	for (size_t i = 0; i < h->nslots; i++) {
		const struct block *b = &h->blocks[i];
		struct ht_live_age *a;

		if (!b->addr || b->stack >= h->nstacks)
			continue;
		a = &out[b->stack];
		if (b->t_ms < a->oldest_ms)
			a->oldest_ms = b->t_ms;
		if (now_ms > b->t_ms)
			a->age_sum_ms += (now_ms - b->t_ms) * block_count(b);
		if (b->t_ms + older_ms <= now_ms) {
			a->old_blocks += block_count(b);
			a->old_bytes += block_size(b);
		}
	}
	return 0;
}

static void churn_mark(struct churn *c, const struct ht_stats *s)
{
	*c = (struct churn){ s->allocs, s->alloc_bytes, s->frees, s->freed_bytes, s->temporary };
}

static void churn_since(struct ht_stats *out, const struct ht_stats *s, const struct churn *c)
{
	*out = (struct ht_stats){
		.allocs = s->allocs - c->allocs,
		.alloc_bytes = s->alloc_bytes - c->alloc_bytes,
		.frees = s->frees - c->frees,
		.freed_bytes = s->freed_bytes - c->freed_bytes,
		.temporary = s->temporary - c->temporary,
	};
}

void heap__mark_interval(struct ht_heap *h)
{
	for (size_t i = 0; i < h->nstacks; i++)
		churn_mark(&h->stacks[i].mark, &h->stacks[i].s);
	churn_mark(&h->total_mark, &h->total);
}

void heap__interval_stats(const struct ht_heap *h, uint32_t stack, struct ht_stats *out)
{
	if (stack >= h->nstacks)
		memset(out, 0, sizeof(*out));
	else
		churn_since(out, &h->stacks[stack].s, &h->stacks[stack].mark);
}

void heap__interval_totals(const struct ht_heap *h, struct ht_stats *out)
{
	churn_since(out, &h->total, &h->total_mark);
}

int heap__timeline_stacks(const struct ht_heap *h, const uint32_t *stacks, size_t n,
			  uint64_t *out)
{
	uint32_t *col;
	uint64_t *cur;
	size_t e = 0;

	if (h->tl_lost)
		return -ENODATA;
	col = calloc(h->nstacks ? h->nstacks : 1, sizeof(*col));
	cur = calloc(n ? n : 1, sizeof(*cur));
	if (!col || !cur) {
		free(col);
		free(cur);
		return -ENOMEM;
	}
	/* col: 1 + the stack's column, 0 for stacks not asked for */
	for (size_t j = 0; j < n; j++)
		if (stacks[j] < h->nstacks)
			col[stacks[j]] = (uint32_t)j + 1;
	for (size_t i = 0; i < h->ntl; i++) {
		for (; e < h->tl_end[i]; e++)
			if (col[h->tl_log[e].stack])
				cur[col[h->tl_log[e].stack] - 1] = h->tl_log[e].live_bytes;
		memcpy(&out[i * n], cur, n * sizeof(*cur));
	}
	free(col);
	free(cur);
	return 0;
}

size_t heap__mem_bytes(const struct ht_heap *h)
{
	return sizeof(*h) + h->nslots * sizeof(*h->blocks) +
	       u64map__mem_bytes(&h->threads) + h->cap_stacks * sizeof(*h->stacks) +
	       h->cap_tl * sizeof(*h->tl) + h->cap_tl_end * sizeof(*h->tl_end) +
	       h->cap_log * sizeof(*h->tl_log) + h->cap_dirty * sizeof(*h->dirty);
}
