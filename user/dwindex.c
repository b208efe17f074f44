// SPDX-License-Identifier: MIT
#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include "dwindex.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Symbols                                                             */
/* ------------------------------------------------------------------ */

struct sym_ent {
	uint64_t lo, hi;        /* [lo, hi); hi == lo: no size */
	const char *name;       /* in libdwfl's copy of the file */
	uint32_t order;         /* index in the symbol table */
	uint8_t rank;           /* global 2, weak 1, local 0 */
	bool label_ok;          /* no size, from a full .symtab */
};

struct ht_symidx {
	struct sym_ent *e;      /* sorted by lo, then order */
	uint64_t *max_hi;       /* max_hi[i]: largest hi in e[0..i] */
	size_t n;
};

/* Up to a few files per module give symbols: main, debug, aux. */
struct elf_kind {
	Elf *elf[4];
	bool full[4];
	int n;
};

static bool has_symtab(struct elf_kind *k, Elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	bool full = false;

	for (int i = 0; i < k->n; i++)
		if (k->elf[i] == e)
			return k->full[i];
	while (e && (scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			full = true;
	if (k->n < 4) {
		k->elf[k->n] = e;
		k->full[k->n++] = full;
	}
	return full;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym_ent *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

struct ht_symidx *symidx__new(Dwfl_Module *dm)
{
	struct ht_symidx *x = calloc(1, sizeof(*x));
	struct elf_kind kinds = { 0 };
	int nsyms = dwfl_module_getsymtab(dm);
	size_t cap = 0;

	if (!x)
		return NULL;
	for (int i = 1; i < nsyms; i++) {
		GElf_Word shndx = SHN_UNDEF;
		Elf *elf = NULL;
		GElf_Addr addr;
		GElf_Sym sym;
		const char *name = dwfl_module_getsym_info(dm, i, &sym, &addr, &shndx, &elf, NULL);
		int type = GELF_ST_TYPE(sym.st_info), bind = GELF_ST_BIND(sym.st_info);

		if (!name || !*name || shndx == SHN_UNDEF || shndx == SHN_ABS ||
		    shndx == (GElf_Word)-1 ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE) ||
		    addr + sym.st_size < addr)
			continue;
		if (grow_array((void **)&x->e, &cap, x->n + 1, sizeof(*x->e))) {
			symidx__free(x);
			errno = ENOMEM;
			return NULL;
		}
		x->e[x->n++] = (struct sym_ent){
			.lo = addr,
			.hi = addr + sym.st_size,
			.name = name,
			.order = (uint32_t)i,
			.rank = bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0,
			/* not a local label (".annobin_*" notes, say) */
			.label_ok = !sym.st_size && name[0] != '.' && has_symtab(&kinds, elf),
		};
	}
	if (x->n) {
		x->max_hi = malloc(x->n * sizeof(*x->max_hi));
		if (!x->max_hi) {
			symidx__free(x);
			errno = ENOMEM;
			return NULL;
		}
	}
	qsort(x->e, x->n, sizeof(*x->e), cmp_sym);
	for (size_t i = 0; i < x->n; i++)
		x->max_hi[i] = i && x->max_hi[i - 1] > x->e[i].hi ? x->max_hi[i - 1] : x->e[i].hi;
	return x;
}

void symidx__free(struct ht_symidx *x)
{
	if (!x)
		return;
	free(x->e);
	free(x->max_hi);
	free(x);
}

size_t symidx__count(const struct ht_symidx *x)
{
	return x->n;
}

/* Is b better than a for the same address? */
static bool better(const struct sym_ent *a, const struct sym_ent *b)
{
	if (!a || b->lo != a->lo)
		return !a || b->lo > a->lo;
	return b->rank > a->rank || (b->rank == a->rank && b->order < a->order);
}

static bool same_section(Dwfl_Module *dm, uint64_t a, uint64_t b)
{
	Dwarf_Addr ra = a, rb = b, bias;
	Elf_Scn *sa = dwfl_module_address_section(dm, &ra, &bias);

	return sa && sa == dwfl_module_address_section(dm, &rb, &bias);
}

const char *symidx__find(const struct ht_symidx *x, Dwfl_Module *dm, uint64_t pc)
{
	const struct sym_ent *best = NULL, *label = NULL;
	size_t lo = 0, hi = x->n, first;

	/* hi = the number of symbols starting at or before pc */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->e[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && x->max_hi[i] > pc;)
		if (x->e[i].hi > pc && better(best, &x->e[i]))
			best = &x->e[i];
	if (best || !lo)
		return best ? best->name : NULL;

	/*
	 * A label: the symbols starting last before pc must all be labels
	 * (a sized one there ended before pc), and nothing may end between
	 * them and pc.
	 */
	first = lo - 1;
	while (first > 0 && x->e[first - 1].lo == x->e[lo - 1].lo)
		first--;
	for (size_t i = first; i < lo; i++) {
		if (x->e[i].hi != x->e[i].lo)
			return NULL;
		if (x->e[i].label_ok && (!label || better(label, &x->e[i])))
			label = &x->e[i];
	}
	if (!label || (first && x->max_hi[first - 1] > label->lo) ||
	    !same_section(dm, label->lo, pc))
		return NULL;
	return label->name;
}

/* ------------------------------------------------------------------ */
/* Scopes                                                              */
/* ------------------------------------------------------------------ */

#define MAX_NESTING 256

struct scope_node {
	Dwarf_Die die;
	int parent;             /* node index, -1: none */
	int depth;              /* nesting of function scopes */
	bool inlined;           /* DW_TAG_inlined_subroutine */
};

struct scope_range {
	uint64_t lo, hi;        /* DWARF addresses */
	uint32_t node;
};

struct cu_scopes {
	int err;                /* indexing failed: no scopes */
	struct scope_node *nodes;
	size_t nnodes, cap_nodes;
	struct scope_range *ranges;  /* sorted by lo */
	size_t nranges, cap_ranges;
	uint64_t *max_hi;
};

struct ht_scopeidx {
	struct ht_u64map by_off;  /* CU DIE offset -> index in cus */
	struct cu_scopes *cus;
	size_t n, cap;
};

struct ht_scopeidx *scopeidx__new(void)
{
	return calloc(1, sizeof(struct ht_scopeidx));
}

static void cu_free(struct cu_scopes *c)
{
	free(c->nodes);
	free(c->ranges);
	free(c->max_hi);
}

void scopeidx__free(struct ht_scopeidx *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		cu_free(&x->cus[i]);
	free(x->cus);
	u64map__free(&x->by_off);
	free(x);
}

/* Add a function DIE with its ranges; *node = its index, or -1 when it
 * has no code (a declaration or an abstract instance). */
static int add_function(struct cu_scopes *c, Dwarf_Die *die, int parent, bool inlined,
			int *node)
{
	Dwarf_Addr base, start, end;
	ptrdiff_t off = 0;
	size_t first = c->nranges;

	*node = -1;
	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
		if (end <= start)
			continue;
		if (grow_array((void **)&c->ranges, &c->cap_ranges, c->nranges + 1,
			       sizeof(*c->ranges)))
			return -ENOMEM;
		c->ranges[c->nranges++] = (struct scope_range){ start, end, (uint32_t)c->nnodes };
	}
	if (c->nranges == first)
		return 0;
	if (grow_array((void **)&c->nodes, &c->cap_nodes, c->nnodes + 1, sizeof(*c->nodes)))
		return -ENOMEM;
	c->nodes[c->nnodes] = (struct scope_node){
		.die = *die,
		.parent = parent,
		.depth = parent >= 0 ? c->nodes[parent].depth + 1 : 0,
		.inlined = inlined,
	};
	*node = (int)c->nnodes++;
	return 0;
}

/* Index the functions under die (children only), inside node parent. */
static int walk(struct cu_scopes *c, Dwarf_Die *die, int parent, int nesting)
{
	Dwarf_Die child;
	int r, err = 0;

	if (nesting > MAX_NESTING)
		return 0;
	r = dwarf_child(die, &child);
	if (r)
		return r < 0 ? -EINVAL : 0;
	do {
		int tag = dwarf_tag(&child), node;

		switch (tag) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
			err = add_function(c, &child, parent, tag == DW_TAG_inlined_subroutine,
					   &node);
			/* Without code of its own, nothing inside has any. */
			if (!err && node >= 0)
				err = walk(c, &child, node, nesting + 1);
			break;
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
		case DW_TAG_namespace:
		case DW_TAG_module:
			err = walk(c, &child, parent, nesting + 1);
			break;
		default:
			/* types, variables, parameters: no code */
			break;
		}
		if (err)
			return err;
	} while ((r = dwarf_siblingof(&child, &child)) == 0);
	return r < 0 ? -EINVAL : 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct scope_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

static int cu_index(struct cu_scopes *c, Dwarf_Die *cu)
{
	int err = walk(c, cu, -1, 0);

	if (!err && c->nranges) {
		c->max_hi = malloc(c->nranges * sizeof(*c->max_hi));
		if (!c->max_hi)
			err = -ENOMEM;
	}
	if (err) {
		cu_free(c);
		c->nodes = NULL;
		c->ranges = NULL;
		c->max_hi = NULL;
		c->nnodes = c->nranges = 0;
		return err;
	}
	qsort(c->ranges, c->nranges, sizeof(*c->ranges), cmp_range);
	for (size_t i = 0; i < c->nranges; i++)
		c->max_hi[i] = i && c->max_hi[i - 1] > c->ranges[i].hi ? c->max_hi[i - 1]
								     : c->ranges[i].hi;
	return 0;
}

/* The CU's index, built on first use; NULL on -ENOMEM. */
static struct cu_scopes *cu_scopes(struct ht_scopeidx *x, Dwarf_Die *cu)
{
	uint64_t *idx = u64map__find(&x->by_off, dwarf_dieoffset(cu));
	struct cu_scopes *c;

	if (idx)
		return &x->cus[*idx];
	if (grow_array((void **)&x->cus, &x->cap, x->n + 1, sizeof(*x->cus)))
		return NULL;
	idx = u64map__insert(&x->by_off, dwarf_dieoffset(cu), NULL);
	if (!idx)
		return NULL;
	c = &x->cus[x->n];
	memset(c, 0, sizeof(*c));
	c->err = cu_index(c, cu);
	*idx = x->n++;
	return c;
}

int scopeidx__find(struct ht_scopeidx *x, Dwarf_Die *cu, uint64_t pc, Dwarf_Die *out,
		   int max, bool *cu_has_code)
{
	struct cu_scopes *c = cu_scopes(x, cu);
	size_t lo = 0, hi;
	int best = -1, n = 0;

	*cu_has_code = false;
	if (!c)
		return -ENOMEM;
	if (c->err)
		return c->err;
	*cu_has_code = c->nnodes > 0;
	hi = c->nranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->ranges[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The deepest function whose ranges hold pc is the innermost. */
	for (size_t i = lo; i-- > 0 && c->max_hi[i] > pc;) {
		const struct scope_range *r = &c->ranges[i];

		if (r->hi > pc && (best < 0 || c->nodes[r->node].depth > c->nodes[best].depth))
			best = (int)r->node;
	}
	for (int k = best; k >= 0 && n < max; k = c->nodes[k].parent) {
		out[n++] = c->nodes[k].die;
		if (!c->nodes[k].inlined)
			break;
	}
	return n;
}
