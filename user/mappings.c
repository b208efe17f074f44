// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mappings.h"
#include "util.h"

/* A treap node: [lo, hi) mapped by stack; a heap on prio. */
struct range {
	uint64_t lo, hi;
	uint32_t stack, prio;
	struct range *l, *r;
};

struct stack_rec {
	struct ht_map_stats s;
	uint64_t last_op; /* the operation that last counted a call here */
};

/* An mremap between its start and its return: what its start took out,
 * to put back as it was if it fails. */
struct pending {
	uint32_t tid;
	uint32_t stack;
	bool used, found;
	bool split_lo, split_hi; /* a range was cut at addr, at the end */
	uint64_t addr, len;
	struct range *taken; /* the pieces taken out, a list on ->r */
};

#define MAX_PENDING 64

enum op_kind { OP_UNMAP,
	       OP_REMAP,
	       OP_REPLACE };

struct ht_mappings {
	struct range *root;
	uint32_t rng;
	struct stack_rec *stacks;
	size_t nstacks, cap;
	struct ht_map_totals t;
	uint64_t op;          /* cuts so far: a munmap counts once per stack */
	uint32_t first_stack; /* the lowest piece the last cut removed */
	bool cut_any;
	struct pending *keep; /* the mremap whose cut keeps the pieces */
	struct pending pend[MAX_PENDING];
};

struct ht_mappings *mappings__new(void)
{
	struct ht_mappings *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->rng = 0x9e3779b9;
	return m;
}

static void free_tree(struct range *r)
{
	while (r) {
		struct range *next = r->r;

		free_tree(r->l);
		free(r);
		r = next;
	}
}

static void free_list(struct range *r)
{
	while (r) {
		struct range *next = r->r;

		free(r);
		r = next;
	}
}

static void pending_clear(struct ht_mappings *m)
{
	for (size_t i = 0; i < MAX_PENDING; i++)
		free_list(m->pend[i].taken);
	memset(m->pend, 0, sizeof(m->pend));
}

void mappings__free(struct ht_mappings *m)
{
	if (!m)
		return;
	free_tree(m->root);
	pending_clear(m);
	free(m->stacks);
	free(m);
}

static uint32_t next_prio(struct ht_mappings *m)
{
	uint32_t x = m->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	m->rng = x;
	return x;
}

/* Nodes with lo < key to *a, the rest to *b. */
static void split(struct range *t, uint64_t key, struct range **a, struct range **b)
{
	if (!t) {
		*a = *b = NULL;
	} else if (t->lo < key) {
		split(t->r, key, &t->r, b);
		*a = t;
	} else {
		split(t->l, key, a, &t->l);
		*b = t;
	}
}

/* Every node of a lies below every node of b. */
static struct range *merge(struct range *a, struct range *b)
{
	if (!a || !b)
		return a ? a : b;
	if (a->prio > b->prio) {
		a->r = merge(a->r, b);
		return a;
	}
	b->l = merge(a, b->l);
	return b;
}

static struct stack_rec *stack_rec(struct ht_mappings *m, uint32_t stack)
{
	if (stack >= m->nstacks) {
		if (grow_array((void **)&m->stacks, &m->cap, (size_t)stack + 1, sizeof(*m->stacks)))
			return NULL;
		memset(m->stacks + m->nstacks, 0, ((size_t)stack + 1 - m->nstacks) * sizeof(*m->stacks));
		m->nstacks = (size_t)stack + 1;
	}
	return &m->stacks[stack];
}

/* Bytes of stack's range leave (ranges: how its range count changes). */
static void take(struct ht_mappings *m, uint32_t stack, uint64_t bytes, int ranges,
		 enum op_kind kind)
{
	struct stack_rec *r = &m->stacks[stack]; /* it mapped a range: it exists */

	if (!m->cut_any) {
		m->cut_any = true;
		m->first_stack = stack;
	}
	r->s.mapped_bytes -= bytes;
	r->s.ranges += ranges;
	m->t.s.mapped_bytes -= bytes;
	m->t.s.ranges += ranges;
	if (kind == OP_REPLACE) {
		m->t.replaced_bytes += bytes;
		return;
	}
	if (kind != OP_UNMAP)
		return; /* an mremap counts once its result is known */
	r->s.munmap_bytes += bytes;
	m->t.s.munmap_bytes += bytes;
	if (r->last_op == m->op)
		return;
	r->last_op = m->op;
	r->s.munmaps++;
}

/* An mremap's cut: [lo, hi) of stack kept for its failure (node: the
 * node itself, else a new one). */
static void keep_piece(struct ht_mappings *m, struct range *node, uint64_t lo, uint64_t hi,
		       uint32_t stack)
{
	struct range *n = node;

	if (!m->keep) {
		free(node);
		return;
	}
	if (!n && !(n = calloc(1, sizeof(*n)))) {
		m->t.model_errors++; /* a failure could not put it back */
		return;
	}
	n->lo = lo;
	n->hi = hi;
	n->stack = stack;
	n->l = NULL;
	n->r = m->keep->taken;
	m->keep->taken = n;
}

/* Take the nodes of t (all starting inside [.., hi)) out; the one that
 * runs past hi keeps its part from hi and is returned (at most one). */
static struct range *drain(struct ht_mappings *m, struct range *t, uint64_t hi,
			   enum op_kind kind)
{
	struct range *left, *right, *kept = NULL;

	if (!t)
		return NULL;
	left = t->l;
	right = t->r;
	kept = drain(m, left, hi, kind);
	if (t->hi > hi) {
		take(m, t->stack, hi - t->lo, 0, kind);
		if (m->keep) {
			keep_piece(m, NULL, t->lo, hi, t->stack);
			m->keep->split_hi = true;
		}
		t->lo = hi;
		t->l = t->r = NULL;
		kept = t;
	} else {
		take(m, t->stack, t->hi - t->lo, -1, kind);
		keep_piece(m, t, t->lo, t->hi, t->stack);
	}
	right = drain(m, right, hi, kind);
	return right ? right : kept;
}

/* Remove [lo, hi) from every range. Returns whether any byte was mapped. */
static bool cut(struct ht_mappings *m, uint64_t lo, uint64_t hi, enum op_kind kind)
{
	struct range *a, *b, *mid, *c, *x, *kept;

	m->op++;
	m->cut_any = false;
	split(m->root, lo, &a, &b);
	split(b, hi, &mid, &c);
	for (x = a; x && x->r; x = x->r)
		;
	if (x && x->hi > lo) {
		uint64_t end = x->hi;

		take(m, x->stack, (end < hi ? end : hi) - lo, 0, kind);
		if (m->keep) {
			keep_piece(m, NULL, lo, end < hi ? end : hi, x->stack);
			m->keep->split_lo = true;
			m->keep->split_hi |= end > hi;
		}
		x->hi = lo;
		if (end > hi) {
			struct range *n = m->t.s.ranges < HT_MAP_MAX_RANGES ? calloc(1, sizeof(*n)) : NULL;

			if (n) {
				n->lo = hi;
				n->hi = end;
				n->stack = x->stack;
				n->prio = next_prio(m);
				m->stacks[x->stack].s.ranges++;
				m->t.s.ranges++;
				c = merge(n, c);
			} else {
				/* the part past the hole is lost to the model */
				m->t.model_errors++;
				take(m, x->stack, end - hi, 0, kind);
			}
		}
	}
	kept = drain(m, mid, hi, kind);
	if (kept)
		c = merge(kept, c);
	m->root = merge(a, c);
	return m->cut_any;
}

/* Insert [lo, hi), free in the model, for stack (in node, if not NULL:
 * it is used or freed). 0 or -ENOMEM. */
static int insert_node(struct ht_mappings *m, struct range *node, uint64_t lo, uint64_t hi,
		       uint32_t stack)
{
	struct stack_rec *r = stack_rec(m, stack);
	struct range *n = node, *a, *b;

	if (!r || m->t.s.ranges >= HT_MAP_MAX_RANGES || (!n && !(n = calloc(1, sizeof(*n))))) {
		free(node);
		m->t.model_errors++;
		return -ENOMEM;
	}
	n->lo = lo;
	n->hi = hi;
	n->stack = stack;
	n->l = n->r = NULL;
	n->prio = next_prio(m);
	split(m->root, lo, &a, &b);
	m->root = merge(merge(a, n), b);
	r->s.ranges++;
	r->s.mapped_bytes += hi - lo;
	if (r->s.mapped_bytes > r->s.max_bytes)
		r->s.max_bytes = r->s.mapped_bytes;
	m->t.s.ranges++;
	m->t.s.mapped_bytes += hi - lo;
	if (m->t.s.mapped_bytes > m->t.s.max_bytes)
		m->t.s.max_bytes = m->t.s.mapped_bytes;
	return 0;
}

static int insert(struct ht_mappings *m, uint64_t lo, uint64_t hi, uint32_t stack)
{
	return insert_node(m, NULL, lo, hi, stack);
}

/* The ranges on both sides of at made one again, if they are of one
 * stack (an mremap's cut undone). */
static void join_at(struct ht_mappings *m, uint64_t at)
{
	struct range *a, *b, *x, **yp, *y;

	split(m->root, at, &a, &b);
	for (x = a; x && x->r; x = x->r)
		;
	for (yp = &b; *yp && (*yp)->l; yp = &(*yp)->l)
		;
	y = *yp;
	if (x && y && x->hi == at && y->lo == at && x->stack == y->stack) {
		x->hi = y->hi;
		*yp = y->r;
		free(y);
		m->stacks[x->stack].s.ranges--;
		m->t.s.ranges--;
	}
	m->root = merge(a, b);
}

static uint64_t page_end(uint64_t addr, uint64_t len)
{
	uint64_t end = addr + ((len + HT_MAP_PAGE - 1) & ~(HT_MAP_PAGE - 1));

	return end < addr ? UINT64_MAX & ~(HT_MAP_PAGE - 1) : end;
}

int mappings__map(struct ht_mappings *m, uint64_t addr, uint64_t len, uint32_t stack)
{
	uint64_t end = page_end(addr, len);
	struct stack_rec *r;
	int err;

	if (end <= addr)
		return 0;
	cut(m, addr, end, OP_REPLACE);
	err = insert(m, addr, end, stack);
	if (err)
		return err;
	r = &m->stacks[stack];
	r->s.mmaps++;
	r->s.mmap_bytes += end - addr;
	m->t.s.mmaps++;
	m->t.s.mmap_bytes += end - addr;
	return 0;
}

void mappings__unmap(struct ht_mappings *m, uint64_t addr, uint64_t len)
{
	uint64_t end = page_end(addr, len);

	m->t.s.munmaps++;
	if (end <= addr || !cut(m, addr, end, OP_UNMAP))
		m->t.unknown_unmaps++;
}

void mappings__replace(struct ht_mappings *m, uint64_t addr, uint64_t len)
{
	uint64_t end = page_end(addr, len);

	if (end > addr)
		cut(m, addr, end, OP_REPLACE);
}

static struct pending *pending_of(struct ht_mappings *m, uint32_t tid, bool create)
{
	struct pending *free_slot = NULL;

	for (size_t i = 0; i < MAX_PENDING; i++) {
		if (m->pend[i].used && m->pend[i].tid == tid)
			return &m->pend[i];
		if (!m->pend[i].used && !free_slot)
			free_slot = &m->pend[i];
	}
	return create ? free_slot : NULL;
}

int mappings__lookup(const struct ht_mappings *m, uint64_t addr, uint64_t *lo, uint64_t *hi,
		     uint32_t *stack)
{
	const struct range *t = m->root;

	while (t) {
		if (addr < t->lo) {
			t = t->l;
		} else if (addr >= t->hi) {
			t = t->r;
		} else {
			*lo = t->lo;
			*hi = t->hi;
			*stack = t->stack;
			return 0;
		}
	}
	return -ENOENT;
}

int mappings__remap_begin(struct ht_mappings *m, uint32_t tid, uint64_t addr, uint64_t len,
			  bool keep_old)
{
	struct pending *p = pending_of(m, tid, true);
	uint64_t lo, hi;

	if (!p) {
		m->t.model_errors++;
		return -ENOMEM;
	}
	/* A start whose end never came (its record lost) is replaced. */
	free_list(p->taken);
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->tid = tid;
	p->addr = addr;
	p->len = len;
	if (keep_old || !len) {
		p->found = !mappings__lookup(m, addr, &lo, &hi, &p->stack);
		return 0;
	}
	m->keep = p;
	if (page_end(addr, len) > addr && cut(m, addr, page_end(addr, len), OP_REMAP)) {
		p->found = true;
		p->stack = m->first_stack;
	}
	m->keep = NULL;
	return 0;
}

/* A failed mremap: what its start took out goes back as it was. */
static int remap_undo(struct ht_mappings *m, struct pending *q)
{
	int err = 0;

	while (q->taken) {
		struct range *n = q->taken;

		q->taken = n->r;
		if (insert_node(m, n, n->lo, n->hi, n->stack))
			err = -ENOMEM;
	}
	if (q->split_lo)
		join_at(m, q->addr);
	if (q->split_hi)
		join_at(m, page_end(q->addr, q->len));
	return err;
}

int mappings__remap_end(struct ht_mappings *m, uint32_t tid, bool ok, uint64_t addr,
			uint64_t len)
{
	struct pending *p = pending_of(m, tid, false);
	struct pending q;
	uint64_t end;

	if (!p)
		return 0; /* its start was not seen: counted where it was lost */
	q = *p;
	memset(p, 0, sizeof(*p));
	if (!ok)
		return remap_undo(m, &q);
	free_list(q.taken);
	end = page_end(addr, len);
	/* whatever was at the new place is gone (MREMAP_FIXED unmaps it),
	 * also when what moved there was never seen mapped */
	if (end > addr)
		cut(m, addr, end, OP_REPLACE);
	if (!q.found) {
		m->t.unknown_remaps++;
		return 0;
	}
	m->t.s.mremaps++;
	if (end <= addr)
		return 0;
	if (insert(m, addr, end, q.stack))
		return -ENOMEM;
	m->stacks[q.stack].s.mremaps++;
	return 0;
}

void mappings__clear(struct ht_mappings *m)
{
	free_tree(m->root);
	m->root = NULL;
	if (m->nstacks)
		memset(m->stacks, 0, m->nstacks * sizeof(*m->stacks));
	memset(&m->t, 0, sizeof(m->t));
	pending_clear(m);
}

uint32_t mappings__nr_stacks(const struct ht_mappings *m)
{
	return (uint32_t)m->nstacks;
}

void mappings__stack_stats(const struct ht_mappings *m, uint32_t stack, struct ht_map_stats *out)
{
	if (stack < m->nstacks)
		*out = m->stacks[stack].s;
	else
		memset(out, 0, sizeof(*out));
}

void mappings__totals(const struct ht_mappings *m, struct ht_map_totals *out)
{
	*out = m->t;
}
