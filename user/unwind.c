// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include "cfitab.h"
#include "elfsym.h"
#include "modules.h"
#include "unwind.h"
#include "util.h"

/* x86-64 DWARF register numbers. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

enum bp_rule { BP_SAME, BP_AT_CFA, BP_UNDEF };

/* How to leave a frame at one pc: CFA = reg + off; RA at CFA + ra_off. */
struct rule {
	uint64_t key;      /* lookup address; 0 = empty slot */
	bool ok;
	uint8_t cfa_reg;   /* REG_RSP or REG_RBP */
	uint8_t bp;        /* enum bp_rule */
	int64_t cfa_off, ra_off, bp_off;
};

struct mod_cfi {
	Dwarf_CFI *cfi;
	bool tried;
};

struct ht_unwinder {
	struct ht_modules *ms;
	enum ht_unwind_mode mode;
	struct mod_cfi *cfis;
	size_t ncfis;
	struct rule *rules;   /* open addressing cache */
	size_t nslots, nrules;
};

struct ht_unwinder *unwinder__new(struct ht_modules *ms, enum ht_unwind_mode mode)
{
	struct ht_unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->ms = ms;
	u->mode = mode;
	u->nslots = 4096;
	u->rules = calloc(u->nslots, sizeof(*u->rules));
	if (!u->rules) {
		free(u);
		return NULL;
	}
	return u;
}

void unwinder__free(struct ht_unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->ncfis; i++)
		if (u->cfis[i].cfi)
			dwarf_cfi_end(u->cfis[i].cfi);
	free(u->cfis);
	free(u->rules);
	free(u);
}

static Dwarf_CFI *module_cfi(struct ht_unwinder *u, struct ht_module *m)
{
	size_t n = modules__count(u->ms), idx = 0;
	struct ht_elf *e;

	while (idx < n && modules__get(u->ms, idx) != m)
		idx++;
	if (idx >= n)
		return NULL;
	if (n > u->ncfis) {
		struct mod_cfi *c = realloc(u->cfis, n * sizeof(*c));

		if (!c)
			return NULL;
		memset(c + u->ncfis, 0, (n - u->ncfis) * sizeof(*c));
		u->cfis = c;
		u->ncfis = n;
	}
	if (!u->cfis[idx].tried) {
		u->cfis[idx].tried = true;
		e = modules__elf(m);
		if (e)
			u->cfis[idx].cfi = dwarf_getcfi_elf((Elf *)ht_elf__handle(e));
	}
	return u->cfis[idx].cfi;
}

static void compute_rule(struct ht_unwinder *u, uint64_t addr, struct rule *r)
{
	struct ht_module *m = modules__find(u->ms, addr);
	Dwarf_Op mem[3], *ops;
	Dwarf_Frame *frame;
	Dwarf_CFI *cfi;
	size_t nops;

	r->ok = false;
	if (!m || !m->bias_known)
		return;
	cfi = module_cfi(u, m);
	if (!cfi || dwarf_cfi_addrframe(cfi, addr - m->bias, &frame))
		return;
	if (dwarf_frame_cfa(frame, &ops, &nops) || nops != 1)
		goto out;
	if (ops[0].atom == DW_OP_breg7 || ops[0].atom == DW_OP_breg6) {
		r->cfa_reg = ops[0].atom == DW_OP_breg7 ? REG_RSP : REG_RBP;
		r->cfa_off = (int64_t)ops[0].number;
	} else if (ops[0].atom == DW_OP_bregx &&
		   (ops[0].number == REG_RSP || ops[0].number == REG_RBP)) {
		r->cfa_reg = (uint8_t)ops[0].number;
		r->cfa_off = (int64_t)ops[0].number2;
	} else {
		goto out;
	}
	if (dwarf_frame_register(frame, REG_RA, mem, &ops, &nops) ||
	    !cfitab__saved_at_cfa(ops, nops, &r->ra_off))
		goto out;
	if (dwarf_frame_register(frame, REG_RBP, mem, &ops, &nops))
		goto out;
	if (nops == 0)
		r->bp = ops ? BP_UNDEF : BP_SAME;
	else if (cfitab__saved_at_cfa(ops, nops, &r->bp_off))
		r->bp = BP_AT_CFA;
	else
		r->bp = BP_UNDEF;
	r->ok = true;
out:
	free(frame);
}

static const struct rule *lookup_rule(struct ht_unwinder *u, uint64_t addr)
{
	size_t mask = u->nslots - 1, i = hash_u64(addr) & mask;

	while (u->rules[i].key && u->rules[i].key != addr)
		i = (i + 1) & mask;
	if (u->rules[i].key)
		return &u->rules[i];
	if ((u->nrules + 1) * 2 > u->nslots) {
		/* A full cache starts over rather than growing without bound. */
		memset(u->rules, 0, u->nslots * sizeof(*u->rules));
		u->nrules = 0;
		i = hash_u64(addr) & mask;
	}
	u->rules[i].key = addr;
	compute_rule(u, addr, &u->rules[i]);
	u->nrules++;
	return &u->rules[i];
}

struct window {
	uint64_t base;
	const uint8_t *bytes;
	uint32_t len;
};

static bool read_word(const struct window *w, uint64_t addr, uint64_t *out)
{
	if (addr < w->base || addr - w->base > (uint64_t)w->len - 8 || w->len < 8)
		return false;
	memcpy(out, w->bytes + (addr - w->base), 8);
	return true;
}

/*
 * The standard x86-64 frame-pointer frame, the one layout BPF's walk
 * assumes: CFA = %rbp + 16, return address at CFA - 8, the caller's %rbp
 * at CFA - 16.
 */
static bool is_fp_frame(const struct rule *r)
{
	return r->ok && r->cfa_reg == REG_RBP && r->cfa_off == 16 && r->ra_off == -8 &&
	       r->bp == BP_AT_CFA && r->bp_off == -16;
}

/*
 * Append the frame-pointer chain BPF walked, e->ips[1..], to out[*n..]
 * for as long as it is right, and say where CFI is to go on from.
 *
 * fp[0] = e->bp and fp[k] = *fp[k-1]; ips[k] was read at fp[k-1] + 8.
 * The step from ips[k] to ips[k+1] took fp[k] for the frame base of the
 * function at ips[k]: right if that function keeps a frame pointer there,
 * which its CFI tells (with no CFI for it, the chain is the best there
 * is, as in a plain frame-pointer walk). A function whose CFI says it has
 * none only holds data in %rbp (code built without frame pointers uses it
 * as a general register, often for a pointer into its own stack frame,
 * which the walk then follows into garbage): the chain ends being right
 * at its frame. Stop there, with the state at that frame for CFI to go on
 * from: its stack pointer is fp[k-1] + 16 (just above where its callee
 * saved %rbp and the return address) and its %rbp the value saved at
 * fp[k-1]. The chain's last frame gets the same state, to go on where the
 * walk stopped (e.g. at __libc_start_call_main, which has no frame
 * pointer).
 *
 * Returns true with *pc, *sp, *bp set when CFI can go on, false when the
 * stack ends here (out is full, or that state lies outside the window).
 */
static bool splice_chain(struct ht_unwinder *u, const struct window *w,
			 const struct ht_alloc_event *e, uint64_t *out, uint32_t *n,
			 uint32_t max, uint64_t *pc, uint64_t *sp, uint64_t *bp)
{
	uint64_t fp = e->bp;  /* fp[k-1] */
	bool fp_known = true; /* fp[k-1] was read from the window */
	uint32_t k;

	for (k = 1; k < e->nr_ips && *n < max; k++) {
		const struct rule *r;

		out[(*n)++] = e->ips[k];
		r = lookup_rule(u, e->ips[k] - 1);
		if (k + 1 == e->nr_ips || (r->ok && !is_fp_frame(r))) {
			/* The chain's end, or beyond this frame it is not one. */
			if (!fp_known || !read_word(w, fp, bp))
				return false;
			*sp = fp + 16;
			*pc = e->ips[k];
			return true;
		}
		/* Right so far: follow it, past the window if need be
		 * (BPF read these frames; we only lose the state to resume). */
		if (fp_known && !read_word(w, fp, &fp))
			fp_known = false;
	}
	return false;
}

uint32_t unwinder__unwind(struct ht_unwinder *u, const struct ht_alloc_event *e,
			  uint64_t *out, uint32_t max)
{
	struct window w = { e->sp, HT_ALLOC_EVENT_STACK(e), e->stack_len };
	uint64_t pc = e->ips[0], sp = e->sp, bp = e->bp, cfa, ra;
	bool spliced = false;
	uint32_t n = 0;

	if (!e->nr_ips || !max)
		return 0;
	if (u->mode == HT_UNWIND_FP || !e->stack_len)
		goto fp_only;
	out[n++] = pc;
	while (n < max) {
		/* Frame 0 is at its pc (the allocator just returned); callers
		 * are mid-call, at the byte before their return address. */
		const struct rule *r = lookup_rule(u, n == 1 ? pc : pc - 1);

		if (!r->ok)
			break;
		if (is_fp_frame(r) && bp == e->bp && !spliced &&
		    u->mode == HT_UNWIND_AUTO) {
			/* A frame-pointer frame whose base is where BPF's walk
			 * started: that walk is right from here for as long as
			 * splice_chain finds it right; CFI goes on after it. */
			spliced = true;
			if (e->nr_ips < 2 || !splice_chain(u, &w, e, out, &n, max, &pc, &sp, &bp))
				return n;
			continue;
		}
		cfa = (r->cfa_reg == REG_RSP ? sp : bp) + (uint64_t)r->cfa_off;
		if (!read_word(&w, cfa + (uint64_t)r->ra_off, &ra) || !ra)
			break;
		if (r->bp == BP_AT_CFA && !read_word(&w, cfa + (uint64_t)r->bp_off, &bp))
			break;
		if (cfa <= sp)
			break;
		sp = cfa;
		pc = ra;
		out[n++] = pc;
	}
	/* CFI ran out (window end, unknown code). If rbp still holds what it
	 * held at the return, the chain BPF walked from it is the best
	 * continuation there is - the same a frame-pointer walk would give,
	 * as far as splice_chain finds it right. */
	if (n == 1)
		goto fp_only;
	if (bp == e->bp && !spliced && e->nr_ips >= 2)
		splice_chain(u, &w, e, out, &n, max, &pc, &sp, &bp);
	return n;

fp_only:
	for (n = 0; n < e->nr_ips && n < max; n++)
		out[n] = e->ips[n];
	return n;
}
