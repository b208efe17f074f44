// SPDX-License-Identifier: MIT
/*
 * Allocator discovery. For each object the target maps (or, in launch
 * mode, will map), read its function and data symbols once, recognise the
 * allocator families it contains, and turn each family's table rows that
 * the object defines into probe points.
 *
 * Recognition (symbols only that family defines, robust to unused entry
 * points being gone from a statically linked program):
 *   glibc     malloc, plus gnu_get_libc_version (libc.so.6) or its internal
 *             _int_malloc (.symtab of a static program)
 *   jemalloc  P+malloc_conf or P+malloc_message (data, always kept: jemalloc
 *             reads them) or P+mallctl, with at least one P-prefixed table
 *             function; P is the symbol prefix ("", "je_", "_rjem_", ...).
 *             --symbol-prefix P needs only the table functions.
 *   tcmalloc  tc_malloc or tc_free, plus tc_version or TCMallocGetenvSafe
 *   mimalloc  mi_malloc or mi_free
 *   mozjemalloc  moz_arena_malloc with jemalloc_stats_internal (Firefox)
 *   generic   none of these, but the object's definitions of the standard
 *             entry points are the ones calls bind to (a program's own
 *             malloc, Firefox's mozjemalloc, an LD_PRELOAD allocator)
 * The C++ operator new/delete family is probed only in an object whose
 * allocator defines it (never libstdc++'s: its operators call malloc,
 * whose probe is enough).
 *
 * Binding. A standard entry point (malloc ... cfree, the C++ operators) is
 * probed only where calls to it go: in the first object of the dynamic
 * linker's lookup scope that exports it (ldso__scope: the executable,
 * LD_PRELOAD objects, DT_NEEDED breadth-first), and in the executable for
 * what it defines (its own calls bind there, exported or not; a static
 * program is all its own). A glibc malloc that nothing binds to is not
 * probed. Family-specific names (mallocx, mi_malloc, tc_new, _rjem_malloc)
 * are probed wherever they are defined: only their own
 * callers reach them, through dlsym too. --allocator NAME probes that
 * family's definitions whether calls bind to them or not.
 *
 * An entry point whose first instruction jumps to another entry point (or,
 * through the PLT, to a symbol that is one) is not probed: the other probe
 * sees the very same call, and a free counted twice would be wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "allocators.h"
#include "allocators_detect.h"
#include "allocators_pymalloc.h"
#include "allocators_table.h"
#include "allocators_version.h"
#include "elfsym.h"
#include "ldso.h"
#include "log.h"
#include "modules.h"
#include "placement.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Probe points                                                        */
/* ------------------------------------------------------------------ */

/* A table function found in the object, before it becomes a point. */
struct cand {
	size_t det;                    /* index in the detected array */
	const struct alloc_fn *fn;
	char name[HT_ALLOC_NAME_MAX];
	const struct ht_elf_sym *sym;
	enum ht_layout layout;
	bool skip;
};

struct cands {
	struct cand *c;
	size_t n, cap;
};

/* The bit of a standard entry point in a mask, or 0 for another name. */
static uint64_t std_bit(const char *name)
{
	int b = alloc_std__bit(name);

	return b < 0 ? 0 : 1ULL << b;
}

/* Add the rows of fns the object defines; a standard entry point only if
 * its bit is in allow (the object's definition is the one called). */
static int add_cands(struct cands *cs, const struct ht_elf_symidx *ix, size_t det,
		     const char *prefix, const struct alloc_fn *fns, size_t nfns, uint64_t allow)
{
	for (size_t i = 0; i < nfns; i++) {
		struct cand *c;
		const struct ht_elf_sym *s = allocators__prefixed_func(ix, prefix, fns[i].name);
		uint64_t bit;

		if (!s)
			continue;
		bit = *prefix ? 0 : std_bit(fns[i].name);
		if (bit && !(allow & bit))
			continue;
		if (grow_array((void **)&cs->c, &cs->cap, cs->n + 1, sizeof(*cs->c)))
			return -ENOMEM;
		c = &cs->c[cs->n++];
		memset(c, 0, sizeof(*c));
		c->det = det;
		c->fn = &fns[i];
		c->sym = s;
		c->layout = fns[i].layout;
		snprintf(c->name, sizeof(c->name), "%s%s", prefix, fns[i].name);
	}
	return 0;
}


/* What the forwarder analysis of one object knows. */
struct fwd_ctx {
	const struct alloc_detected *det;
	size_t ndet;
	uint64_t std_probed;  /* standard entry points probed where calls go */
};

/* Does the name belong to an entry point (a free, if frees) of any family,
 * with any of the object's prefixes? A call to it is probed there. A
 * standard entry point is probed where its calls bind, if anywhere. */
static bool is_entry_name(const char *name, const struct fwd_ctx *fc, bool frees)
{
	const struct alloc_family *je = &alloc_families[FAM_JEMALLOC];
	const struct alloc_detected *det = fc->det;
	size_t ndet = fc->ndet;
	uint64_t bit = std_bit(name);

	if (bit) {
		const struct alloc_family *g = &alloc_families[FAM_GENERIC];

		if (frees && !alloc_fns__have(g->fns, g->nfns, name, true) &&
		    !alloc_fns__have(alloc_cxx_fns, alloc_ncxx_fns, name, true))
			return false;
		return fc->std_probed & bit;
	}
	for (size_t f = 0; f < NR_FAMILIES; f++)
		if (alloc_fns__have(alloc_families[f].fns, alloc_families[f].nfns, name, frees))
			return true;
	if (alloc_fns__have(alloc_cxx_fns, alloc_ncxx_fns, name, frees))
		return true;
	for (size_t d = 0; d < ndet; d++) {
		size_t pl = strlen(det[d].prefix);

		if (pl && !strncmp(name, det[d].prefix, pl) &&
		    alloc_fns__have(je->fns, je->nfns, name + pl, frees))
			return true;
	}
	return false;
}

struct free_call {
	const struct cand *c;
	const struct cands *cs;
	const struct fwd_ctx *fc;
};

/* A call or jump from the free c->c: to another probed free? */
static int free_call_cb(uint64_t to, const char *name, void *ctx)
{
	const struct free_call *f = ctx;

	for (size_t k = 0; to && k < f->cs->n; k++)
		if (&f->cs->c[k] != f->c &&
		    (f->cs->c[k].fn->layout == HT_L_FREE || f->cs->c[k].fn->layout == HT_L_FREE_WRAP) &&
		    !f->cs->c[k].skip && f->cs->c[k].sym->vaddr == to)
			return 1;
	return name && strcmp(name, f->c->name) && is_entry_name(name, f->fc, true);
}

/*
 * Mark the candidates that tail-call another entry point (not probed: the
 * other probe sees the very same call), and the frees that call or jump to
 * another probed free anywhere in their body (jemalloc's aligned sized
 * operator delete computes flags, then tail-calls sdallocx): those are
 * traced as wrappers, or both probes would see one free.
 */
static void mark_forwarders(struct ht_elf *e, struct cands *cs, const struct fwd_ctx *fc)
{
	struct ht_placement *pl = placement__new();

	if (!pl)
		return;
	for (size_t i = 0; i < cs->n; i++) {
		struct cand *c = &cs->c[i];
		const char *name;
		uint64_t to = 0;

		if (!placement__tail_call(pl, e, c->sym->vaddr, &to, &name))
			continue;
		if (name) {
			/* never itself: through the PLT that is another object's */
			c->skip = strcmp(name, c->name) && is_entry_name(name, fc, false);
		} else {
			for (size_t k = 0; k < cs->n && !c->skip; k++)
				c->skip = k != i && cs->c[k].sym->vaddr == to;
		}
		if (c->skip)
			pr_debug("'%s' tail-calls %s: not probed\n", c->name,
				 name ? name : "another entry point");
	}
	for (size_t i = 0; i < cs->n; i++) {
		struct cand *c = &cs->c[i];
		struct free_call f = { c, cs, fc };

		if (c->skip || c->layout != HT_L_FREE ||
		    !placement__foreach_branch(pl, e, c->sym, free_call_cb, &f))
			continue;
		c->layout = HT_L_FREE_WRAP;
		pr_debug("'%s' may call another probed free: traced as a wrapper\n", c->name);
	}
	placement__free(pl);
}

/* Several names may share one address (aligned_alloc and memalign in
 * glibc 2.36): one probe per address, or each call would fire twice. */
static struct ht_probe_point *find_point(struct ht_probe_set *set, size_t from,
					 size_t module, uint64_t vaddr)
{
	for (size_t i = from; i < set->n; i++)
		if (set->points[i].module == module && set->points[i].vaddr == vaddr)
			return &set->points[i];
	return NULL;
}

/* --allocator generic or generic:PATH: the standard entry points only. */
static bool generic_asked(const struct ht_alloc_opts *o)
{
	return o->allocator && !strncmp(o->allocator, "generic", 7) &&
	       (!o->allocator[7] || o->allocator[7] == ':');
}

/* The PATH of --allocator generic:PATH, or NULL. */
static const char *generic_path(const struct ht_alloc_opts *o)
{
	return generic_asked(o) && o->allocator[7] == ':' ? o->allocator + 8 : NULL;
}

/*
 * glibc's entry points that reach no other entry point while they run
 * (their work is in _int_malloc & co): malloc, calloc and the memalign
 * family. Not realloc (realloc(NULL, n) calls malloc, realloc(p, 0) free)
 * nor reallocarray. Other families' internals are not known here: their
 * left-out calls keep their return probes.
 */
static bool glibc_leaf(enum ht_layout layout)
{
	switch (layout) {
	case HT_L_SIZE:
	case HT_L_CALLOC:
	case HT_L_ALIGN_SIZE:
	case HT_L_POSIX_MEMALIGN:
		return true;
	default:
		return false;
	}
}

static bool family_wanted(const struct alloc_family *fam, const struct ht_alloc_opts *o)
{
	if (generic_asked(o))
		return fam == &alloc_families[FAM_GENERIC];
	return !o->allocator || !strcmp(o->allocator, fam->name);
}

/*
 * Drop from det the families whose probes would not see all their calls
 * (pymalloc inlined into an interpreter), each kept in set->refused.
 */
static int refuse_untraceable(struct ht_probe_set *set, const struct ht_module *mod,
			      struct ht_elf *e, const struct ht_elf_symidx *ix,
			      const struct ht_alloc_opts *o, struct alloc_detected *det, size_t *ndet)
{
	const struct alloc_family *py = &alloc_families[FAM_PYMALLOC];
	struct ht_alloc_refused *r;
	char why[sizeof(r->why)];
	size_t d;

	for (d = 0; d < *ndet && det[d].fam != py; d++)
		;
	if (d == *ndet || !family_wanted(py, o) || allocators__pymalloc_traceable(e, ix, py, why,
										sizeof(why)))
		return 0;
	memmove(&det[d], &det[d + 1], (*ndet - d - 1) * sizeof(*det));
	(*ndet)--;
	if (grow_array((void **)&set->refused, &set->cap_refused, set->nrefused + 1,
		       sizeof(*set->refused)))
		return -ENOMEM;
	r = &set->refused[set->nrefused++];
	r->family = py->name;
	snprintf(r->object, sizeof(r->object), "%s", mod->path);
	snprintf(r->why, sizeof(r->why), "%s", why);
	r->workaround = PYMALLOC_WORKAROUND;
	return 0;
}

const char *allocators__refusal(const struct ht_alloc_refused *r, char *buf, size_t len)
{
	snprintf(buf, len, "not tracing %s (CPython's object allocator) in %s: %s; run it with "
		 "%s to trace Python's objects as malloc blocks", r->family, r->object, r->why,
		 r->workaround);
	return buf;
}

/*
 * Discover in one object; appends to set. serve: the standard entry points
 * whose calls this object's definitions receive; std_probed: those probed
 * anywhere (for the forwarder rule).
 */
static int discover_module(struct ht_modules *ms, size_t mi, const struct ht_alloc_opts *o,
			   struct ht_probe_set *set, uint64_t serve, uint64_t std_probed)
{
	struct ht_module *mod = modules__get(ms, mi);
	struct alloc_detected det[ALLOC_MAX_PREFIXES + 6];
	struct cands cs = {};
	struct ht_elf_symidx ix;
	struct fwd_ctx fc;
	size_t ndet, first = set->n;
	uint64_t covered = 0;
	struct ht_elf *e;
	int err;

	e = modules__elf(mod);
	if (!e)
		return 0;
	err = ht_elf__index_symbols(e, &ix);
	if (err)
		return err;
	ndet = generic_asked(o) ? 0 : allocators__detect(&ix, o, det, ARRAY_SIZE(det) - 1);
	err = refuse_untraceable(set, mod, e, &ix, o, det, &ndet);
	for (size_t d = 0; d < ndet && !err; d++) {
		const struct alloc_family *fam = det[d].fam;

		err = add_cands(&cs, &ix, d, det[d].prefix, fam->fns, fam->nfns, serve);
		if (!err && fam->cxx)
			err = add_cands(&cs, &ix, d, "", alloc_cxx_fns, alloc_ncxx_fns, serve);
	}
	for (size_t i = 0; i < cs.n; i++)
		covered |= std_bit(cs.c[i].name);
	/* Calls to malloc & co reach this object, and no family claims them. */
	if (!err && (serve & ~covered & alloc_std__c_mask())) {
		const struct alloc_family *g = &alloc_families[FAM_GENERIC];

		det[ndet++] = (struct alloc_detected){ .fam = g };
		err = add_cands(&cs, &ix, ndet - 1, "", g->fns, g->nfns, serve & ~covered);
		if (!err)
			err = add_cands(&cs, &ix, ndet - 1, "", alloc_cxx_fns, alloc_ncxx_fns,
					serve & ~covered);
	}
	if (err)
		goto out;
	fc = (struct fwd_ctx){ det, ndet, std_probed };
	mark_forwarders(e, &cs, &fc);

	for (size_t d = 0; d < ndet; d++) {
		const struct alloc_family *fam = det[d].fam;
		struct ht_alloc_found *found;
		size_t npoints = 0;

		if (!family_wanted(fam, o))
			continue;
		for (size_t i = 0; i < cs.n; i++) {
			struct cand *c = &cs.c[i];
			struct ht_probe_point *p;
			uint64_t off;

			if (c->det != d || c->skip)
				continue;
			if (ht_elf__vaddr_to_offset(e, c->sym->vaddr, &off)) {
				pr_warn("can't place '%s' in '%s': address outside any segment\n",
					c->name, mod->path);
				continue;
			}
			p = find_point(set, first, mi, c->sym->vaddr);
			if (p) {
				if (p->layout != c->layout && strcmp(p->family, fam->name))
					pr_debug("'%s' shares its address with '%s' in '%s'\n",
						 c->name, p->func, mod->path);
				else if (p->layout != c->layout)
					pr_warn("'%s' and '%s' share an address in '%s'; tracing it as '%s'\n",
						p->func, c->name, mod->path, p->func);
				else if (!p->alias[0] && !strcmp(p->family, fam->name))
					snprintf(p->alias, sizeof(p->alias), "%s", c->name);
				continue;
			}
			if (grow_array((void **)&set->points, &set->cap, set->n + 1,
				       sizeof(*set->points))) {
				err = -ENOMEM;
				goto out;
			}
			p = &set->points[set->n++];
			memset(p, 0, sizeof(*p));
			p->module = mi;
			p->family = fam->name;
			snprintf(p->func, sizeof(p->func), "%s", c->name);
			p->vaddr = c->sym->vaddr;
			p->offset = placement__probe_offset(e, c->sym, off);
			p->layout = c->layout;
			p->leaf = fam == &alloc_families[FAM_GLIBC] && glibc_leaf(c->layout);
			npoints++;
			pr_debug("%s: '%s' in '%s' at 0x%llx\n", fam->name, p->func, mod->path,
				 (unsigned long long)p->vaddr);
		}
		if (!npoints)
			continue;
		if (grow_array((void **)&set->found, &set->cap_found, set->nfound + 1,
			       sizeof(*set->found))) {
			err = -ENOMEM;
			goto out;
		}
		found = &set->found[set->nfound++];
		memset(found, 0, sizeof(*found));
		found->module = mi;
		found->family = fam->name;
		found->npoints = npoints;
		found->asked = generic_asked(o);
		snprintf(found->prefix, sizeof(found->prefix), "%s", det[d].prefix);
		allocators__version(e, &ix, (enum alloc_family_id)(fam - alloc_families),
				    found->version, sizeof(found->version));
	}
out:
	free(cs.c);
	ht_elf_symidx__free(&ix);
	return err;
}

/* Has an object with this file identity been looked at? */
static bool is_seen(const struct ht_probe_set *set, const struct ht_module *mod)
{
	for (size_t i = 0; i < set->nseen; i++)
		if (set->seen[i].dev == mod->dev && set->seen[i].inode == mod->inode)
			return true;
	return false;
}

/* Has it been looked at? Marks it. */
static int seen_before(struct ht_probe_set *set, const struct ht_module *mod, bool *seen)
{
	*seen = is_seen(set, mod);
	if (*seen)
		return 0;
	if (grow_array((void **)&set->seen, &set->cap_seen, set->nseen + 1, sizeof(*set->seen)))
		return -ENOMEM;
	set->seen[set->nseen].dev = mod->dev;
	set->seen[set->nseen].inode = mod->inode;
	set->nseen++;
	return 0;
}

/* What module mi defines and exports of the standard entry points. */
static int module_defs(struct ht_modules *ms, struct ht_probe_set *set, size_t mi,
		       struct ht_alloc_defs **out)
{
	struct ht_module *mod = modules__get(ms, mi);
	struct ht_alloc_defs *d;
	struct ht_elf_symidx ix;
	struct ht_elf *e;
	const char *name;

	if (mi >= set->ndefs) {
		size_t cap = set->ndefs;

		if (grow_array((void **)&set->defs, &cap, mi + 1, sizeof(*set->defs)))
			return -ENOMEM;
		memset(set->defs + set->ndefs, 0, (cap - set->ndefs) * sizeof(*set->defs));
		set->ndefs = cap;
	}
	d = *out = &set->defs[mi];
	if (d->known)
		return 0;
	d->known = true;
	e = mod->fd >= 0 ? modules__elf(mod) : NULL;
	if (!e || ht_elf__index_symbols(e, &ix))
		return 0;
	for (int b = 0; (name = alloc_std__name(b)); b++) {
		if (ht_elf_symidx__exported(&ix, name))
			d->exports |= 1ULL << b;
		if (ht_elf_symidx__func(&ix, name))
			d->defines |= 1ULL << b;
	}
	ht_elf_symidx__free(&ix);
	return 0;
}

/* The module --allocator generic:PATH names, or -1. */
static ssize_t module_by_path(struct ht_modules *ms, const char *path)
{
	char *real = realpath(path, NULL);
	ssize_t found = -1;

	for (size_t mi = 0; mi < modules__count(ms) && found < 0; mi++) {
		const char *p = modules__get(ms, mi)->path;

		if (!strcmp(p, path) || (real && !strcmp(p, real)))
			found = (ssize_t)mi;
	}
	free(real);
	return found;
}

/*
 * serve[mi]: the standard entry points whose calls module mi receives
 * (see "Binding" above); *probed: the union over the allocators among them
 * (an object serving only the C++ operators is libstdc++: not probed).
 */
static int bind_entry_points(struct ht_modules *ms, struct ht_probe_set *set,
			     const struct ht_alloc_opts *o, uint64_t *serve, uint64_t *probed)
{
	size_t n = modules__count(ms), *order = calloc(n ? n : 1, sizeof(*order));
	const char *gpath = generic_path(o);
	struct ht_alloc_defs *d;
	uint64_t claimed = 0;
	int norder, err = 0;

	*probed = 0;
	if (!order)
		return -ENOMEM;
	if (gpath) {
		ssize_t mi = module_by_path(ms, gpath);

		if (mi >= 0 && !(err = module_defs(ms, set, (size_t)mi, &d)))
			serve[mi] = d->defines;
		goto out;
	}
	/* --allocator NAME: that family's definitions, called or not */
	if (o->allocator && !generic_asked(o)) {
		for (size_t mi = 0; mi < n && !err; mi++)
			if (!(err = module_defs(ms, set, mi, &d)))
				serve[mi] = d->defines;
		goto out;
	}
	norder = ldso__scope(ms, order, n);
	for (int i = 0; i < norder && !err; i++) {
		size_t mi = order[i];

		err = module_defs(ms, set, mi, &d);
		if (err)
			break;
		/* the executable's own calls bind to what it defines; other
		 * objects' only to what it exports */
		serve[mi] = (d->exports & ~claimed) | (i == 0 ? d->defines : 0);
		claimed |= d->exports;
	}
out:
	for (size_t mi = 0; mi < n; mi++)
		if (serve[mi] & alloc_std__c_mask())
			*probed |= serve[mi];
	free(order);
	return err;
}

int allocators__discover_new(struct ht_modules *ms, const struct ht_alloc_opts *opts,
			     struct ht_probe_set *set)
{
	size_t before = set->n, n = modules__count(ms);
	uint64_t *serve = NULL, probed = 0;
	bool any = false;
	int err = 0;

	for (size_t mi = 0; mi < n && !any; mi++) {
		struct ht_module *mod = modules__get(ms, mi);

		any = mod->has_exec && mod->fd >= 0 && !is_seen(set, mod);
	}
	if (!any)
		return 0;
	serve = calloc(n, sizeof(*serve));
	if (!serve)
		return -ENOMEM;
	err = bind_entry_points(ms, set, opts, serve, &probed);
	for (size_t mi = 0; mi < n && !err; mi++) {
		struct ht_module *mod = modules__get(ms, mi);
		bool seen;

		if (!mod->has_exec || mod->fd < 0)
			continue;
		err = seen_before(set, mod, &seen);
		if (err || seen)
			continue;
		if (generic_path(opts) && !serve[mi])
			continue;
		err = discover_module(ms, mi, opts, set, serve[mi], probed);
	}
	free(serve);
	return err ? err : (int)(set->n - before);
}

static const char *module_name(const struct ht_module *m)
{
	const char *base = strrchr(m->path, '/');

	base = base ? base + 1 : m->path;
	/* libraries by their file name, programs by their path */
	return strstr(base, ".so") ? base : m->path;
}

const char *allocators__describe(struct ht_modules *ms, const struct ht_probe_set *set,
				 size_t from, char *buf, size_t len)
{
	size_t at = 0;
	bool first = true;

	if (len)
		buf[0] = '\0';
	/* The allocators a program chose first, then glibc's malloc. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = from; i < set->nfound && at < len; i++) {
			const struct ht_alloc_found *f = &set->found[i];
			const char *mod = module_name(modules__get(ms, f->module));
			bool glibc = !strcmp(f->family, "glibc");
			int n;

			if (glibc != (pass == 1))
				continue;
			if (!strcmp(f->family, "generic"))
				n = snprintf(buf + at, len - at, "%smalloc family in %s (%s: standard "
					     "entry points)", first ? "" : ", ", mod,
					     f->asked ? "--allocator generic"
						      : "allocator not recognised");
			else
				n = snprintf(buf + at, len - at, "%s%s%s%s%s%s%s%s in %s",
					     first ? "" : ", ", f->family, f->version[0] ? " " : "",
					     f->version, glibc ? " malloc" : "",
					     f->prefix[0] ? " (prefix " : "", f->prefix,
					     f->prefix[0] ? ")" : "", mod);
			if (n < 0)
				break;
			at += (size_t)n;
			first = false;
		}
	}
	return buf;
}

void allocators__truncate(struct ht_probe_set *set, size_t n, size_t nfound)
{
	if (n < set->n)
		set->n = n;
	if (nfound < set->nfound)
		set->nfound = nfound;
}

/* Was jemalloc found under this prefix? */
static bool found_prefix(const struct ht_probe_set *set, const char *prefix)
{
	for (size_t i = 0; i < set->nfound; i++)
		if (!strcmp(set->found[i].family, "jemalloc") &&
		    !strcmp(set->found[i].prefix, prefix))
			return true;
	return false;
}

int allocators__discover(struct ht_modules *ms, const struct ht_alloc_opts *opts,
			 struct ht_probe_set *set, char *msg, size_t len)
{
	struct ht_alloc_opts all = {};  /* for the list of what there is */
	struct ht_probe_set every = {};
	char found[400];
	bool known = !opts->allocator;
	int err;

	known = known || alloc_family__by_name(opts->allocator) || generic_asked(opts);
	if (opts->symbol_prefix &&
	    !allocators__valid_prefix(opts->symbol_prefix, strlen(opts->symbol_prefix))) {
		snprintf(msg, len, "invalid --symbol-prefix '%s' (jemalloc's symbol prefix, "
			 "e.g. je_ or _rjem_)", opts->symbol_prefix);
		return -EINVAL;
	}
	if (opts->symbol_prefix && opts->allocator && strcmp(opts->allocator, "jemalloc")) {
		snprintf(msg, len, "--symbol-prefix is jemalloc's, not %s's", opts->allocator);
		return -EINVAL;
	}
	if (known) {
		err = allocators__discover_new(ms, opts, set);
		if (err < 0) {
			snprintf(msg, len, "can't read allocator symbols: %s", strerror(-err));
			return err;
		}
		if (set->n && (!opts->symbol_prefix || found_prefix(set, opts->symbol_prefix)))
			return 0;
		allocators__truncate(set, 0, 0);
		set->nseen = 0;
		if (generic_path(opts)) {
			snprintf(msg, len, "'%s' is not mapped or defines no malloc entry point; "
				 "malloc is defined by: %s", generic_path(opts),
				 allocators__malloc_definitions(ms, set, found, sizeof(found)));
			return -ENOENT;
		}
	}

	/* Say what there is instead. */
	err = allocators__discover_new(ms, &all, &every);
	allocators__describe(ms, &every, 0, found, sizeof(found));
	allocators__free(&every);
	if (err < 0) {
		snprintf(msg, len, "can't read allocator symbols: %s", strerror(-err));
		return err;
	}
	if (!known)
		snprintf(msg, len, "unknown allocator '%s' (known: %s); found: %s",
			 opts->allocator, alloc_family_names, found[0] ? found : "none");
	else if (opts->allocator || opts->symbol_prefix)
		snprintf(msg, len, "no %s%s%s%s found; found: %s",
			 opts->allocator ? opts->allocator : "jemalloc",
			 opts->symbol_prefix ? " with prefix '" : "",
			 opts->symbol_prefix ? opts->symbol_prefix : "",
			 opts->symbol_prefix ? "'" : "", found[0] ? found : "none");
	else
		snprintf(msg, len, "no known allocator found (looked for %s)", alloc_family_names);
	if (set->nrefused) {
		size_t at = strlen(msg);
		char line[600];

		snprintf(msg + at, len - at, "; %s",
			 allocators__refusal(&set->refused[0], line, sizeof(line)));
	}
	return known ? -ENOENT : -EINVAL;
}

static int add_command_cb(const char *path, void *ctx)
{
	struct ht_modules *ms = ctx;
	size_t idx;
	int err = modules__add_file(ms, path, &idx);

	if (err)
		pr_debug("can't open '%s': %s\n", path, strerror(-err));
	return err == -ENOMEM ? err : 0;
}

int allocators__add_command(struct ht_modules *ms, char *const argv[], char *const envp[])
{
	return ldso__command_objects(argv, envp, add_command_cb, ms);
}

const char *allocators__malloc_definitions(struct ht_modules *ms, struct ht_probe_set *set,
					   char *buf, size_t len)
{
	uint64_t bit = std_bit("malloc");
	size_t at = 0;

	if (len)
		buf[0] = '\0';
	for (size_t mi = 0; mi < modules__count(ms) && at < len; mi++) {
		struct ht_module *mod = modules__get(ms, mi);
		struct ht_alloc_defs *d;
		int n;

		if (!mod->has_exec || mod->fd < 0 || module_defs(ms, set, mi, &d) ||
		    !(d->defines & bit))
			continue;
		n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "", module_name(mod));
		if (n < 0)
			break;
		at += (size_t)n;
	}
	if (!at && len)
		snprintf(buf, len, "none");
	return buf;
}

void allocators__free(struct ht_probe_set *set)
{
	free(set->points);
	free(set->found);
	free(set->refused);
	free(set->seen);
	free(set->defs);
	memset(set, 0, sizeof(*set));
}