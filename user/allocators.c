// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "allocators.h"
#include "elfsym.h"
#include "log.h"
#include "modules.h"
#include "placement.h"
#include "util.h"

struct alloc_fn {
	const char *name;
	enum ht_layout layout;
};

struct alloc_family {
	const char *name;
	const char *marker;  /* a symbol only this allocator's object defines */
	const struct alloc_fn *fns;
	size_t nfns;
};

static const struct alloc_fn glibc_fns[] = {
	{ "malloc", HT_L_SIZE },
	{ "calloc", HT_L_CALLOC },
	{ "realloc", HT_L_REALLOC },
	{ "reallocarray", HT_L_REALLOCARRAY },
	{ "free", HT_L_FREE },
	{ "posix_memalign", HT_L_POSIX_MEMALIGN },
	{ "aligned_alloc", HT_L_ALIGN_SIZE },
	{ "memalign", HT_L_ALIGN_SIZE },
	{ "valloc", HT_L_SIZE },
	{ "pvalloc", HT_L_SIZE },
};

static const struct alloc_family families[] = {
	{ "glibc", "gnu_get_libc_version", glibc_fns, ARRAY_SIZE(glibc_fns) },
};

/*
 * A uprobe costs ~4x more on an instruction the kernel must single-step
 * than on one it emulates: move the entry probe to the first emulated
 * instruction every call reaches with arguments and stack untouched
 * (glibc's free: past `test %rdi,%rdi` to its `je`). Returns the file
 * offset to probe.
 */
static uint64_t place_probe(struct ht_elf *e, const struct ht_elf_sym *sym, uint64_t off)
{
	uint8_t code[1024];
	uint64_t at, moved_off;
	bool emulated;
	long n;

	n = ht_elf__read_code(e, sym->vaddr, code,
			      sym->size && sym->size < sizeof(code) ? sym->size : sizeof(code));
	if (n <= 0 || placement__find(code, (size_t)n, sym->vaddr, sym->size, &at, &emulated))
		return off;
	if (at == sym->vaddr || ht_elf__symbol_starts_within(e, sym->vaddr + 1, at + 1) ||
	    ht_elf__vaddr_to_offset(e, at, &moved_off))
		return off;
	pr_debug("probe for '%s' moved +%llu to an emulated instruction\n", sym->name,
		 (unsigned long long)(at - sym->vaddr));
	return moved_off;
}

/* Several names may share one address (aligned_alloc and memalign in
 * glibc 2.36): one probe per address, or each call would fire twice. */
static struct ht_probe_point *find_point(struct ht_probe_set *set, size_t module,
					 uint64_t vaddr)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->points[i].module == module && set->points[i].vaddr == vaddr)
			return &set->points[i];
	return NULL;
}

static int add_family(struct ht_probe_set *set, size_t mi, struct ht_module *mod,
		      struct ht_elf *e, const struct alloc_family *fam)
{
	for (size_t i = 0; i < fam->nfns; i++) {
		const struct alloc_fn *fn = &fam->fns[i];
		struct ht_probe_point *p;
		struct ht_elf_sym sym;
		uint64_t off;

		if (ht_elf__find_func(e, fn->name, &sym))
			continue;
		if (ht_elf__vaddr_to_offset(e, sym.vaddr, &off)) {
			pr_warn("can't place '%s' in '%s': address outside any segment\n",
				fn->name, mod->path);
			continue;
		}
		p = find_point(set, mi, sym.vaddr);
		if (!p)
			off = place_probe(e, &sym, off);
		if (p) {
			if (p->layout != fn->layout)
				pr_warn("'%s' and '%s' share an address in '%s'; tracing it as '%s'\n",
					p->func, fn->name, mod->path, p->func);
			else if (!p->alias)
				p->alias = fn->name;
			continue;
		}
		if (grow_array((void **)&set->points, &set->cap, set->n + 1,
			       sizeof(*set->points)))
			return -ENOMEM;
		set->points[set->n++] = (struct ht_probe_point){
			.module = mi, .family = fam->name, .func = fn->name,
			.vaddr = sym.vaddr, .offset = off, .layout = fn->layout,
		};
	}
	return 0;
}

int allocators__discover(struct ht_modules *ms, struct ht_probe_set *set)
{
	for (size_t mi = 0; mi < modules__count(ms); mi++) {
		struct ht_module *mod = modules__get(ms, mi);
		struct ht_elf_sym sym;
		struct ht_elf *e;

		if (!mod->has_exec)
			continue;
		e = modules__elf(mod);
		if (!e)
			continue;
		for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
			int err;

			if (ht_elf__find_func(e, families[f].marker, &sym) ||
			    ht_elf__find_func(e, "malloc", &sym))
				continue;
			err = add_family(set, mi, mod, e, &families[f]);
			if (err)
				return err;
			pr_info("tracing %s malloc in %s\n", families[f].name, mod->path);
		}
	}
	return 0;
}

void allocators__free(struct ht_probe_set *set)
{
	free(set->points);
	memset(set, 0, sizeof(*set));
}
