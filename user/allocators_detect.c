// SPDX-License-Identifier: MIT
/*
 * Recognising allocator families in one object's symbols (the rules are in
 * allocators.c's comment and allocators_detect.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "allocators_detect.h"
#include "util.h"

static bool has_func(const struct ht_elf_symidx *ix, const char *name)
{
	const struct ht_elf_sym *s = ht_elf_symidx__find(ix, name);

	return s && s->func;
}

const struct ht_elf_sym *allocators__prefixed_func(const struct ht_elf_symidx *ix,
						   const char *prefix, const char *name)
{
	char buf[HT_ALLOC_NAME_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", prefix, name) >= sizeof(buf))
		return NULL;
	return ht_elf_symidx__func(ix, buf);
}

bool allocators__valid_prefix(const char *p, size_t len)
{
	if (len >= 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '_')
			return false;
	return true;
}

/* Does the object define any jemalloc table function under prefix? */
static bool jemalloc_has_fns(const struct ht_elf_symidx *ix, const char *prefix)
{
	for (size_t i = 0; i < alloc_families[FAM_JEMALLOC].nfns; i++)
		if (allocators__prefixed_func(ix, prefix, alloc_families[FAM_JEMALLOC].fns[i].name))
			return true;
	return false;
}

/*
 * jemalloc's prefixes in this object: every P for which P+malloc_conf,
 * P+malloc_message or P+mallctl exists along with P-prefixed table
 * functions. (An application's own `malloc_conf`, set to configure a
 * shared libjemalloc, comes without a malloc: it is not taken.)
 */
static size_t jemalloc_prefixes(const struct ht_elf_symidx *ix, char out[][32], size_t max)
{
	static const char *const markers[] = { "malloc_conf", "malloc_message", "mallctl" };
	size_t n = 0;

	for (size_t i = 0; i < ix->n && n < max; i++) {
		const char *name = ix->s[i].name;
		size_t len = strlen(name);

		for (size_t m = 0; m < ARRAY_SIZE(markers); m++) {
			size_t ml = strlen(markers[m]), pl;
			char p[32];
			bool dup = false;

			if (len < ml || strcmp(name + len - ml, markers[m]))
				continue;
			pl = len - ml;
			if (!allocators__valid_prefix(name, pl))
				continue;
			memcpy(p, name, pl);
			p[pl] = '\0';
			for (size_t k = 0; k < n; k++)
				dup |= !strcmp(out[k], p);
			if (dup || !jemalloc_has_fns(ix, p))
				continue;
			memcpy(out[n++], p, pl + 1);
			break;
		}
	}
	return n;
}

size_t allocators__detect(const struct ht_elf_symidx *ix, const struct ht_alloc_opts *o,
			  struct alloc_detected *out, size_t max)
{
	char pfx[ALLOC_MAX_PREFIXES][32];
	size_t n = 0, np;

	/* jemalloc, under each prefix found (or the one given: then the
	 * functions are enough - unless it is "", which glibc has too) */
	if (o->symbol_prefix && !*o->symbol_prefix) {
		np = jemalloc_prefixes(ix, pfx, ALLOC_MAX_PREFIXES);
		for (size_t i = 0; i < np && n < max; i++)
			if (!pfx[i][0])
				out[n++] = (struct alloc_detected){ .fam = &alloc_families[FAM_JEMALLOC] };
	} else if (o->symbol_prefix) {
		if (jemalloc_has_fns(ix, o->symbol_prefix) && n < max) {
			out[n].fam = &alloc_families[FAM_JEMALLOC];
			snprintf(out[n].prefix, sizeof(out[n].prefix), "%s", o->symbol_prefix);
			n++;
		}
	} else {
		np = jemalloc_prefixes(ix, pfx, ALLOC_MAX_PREFIXES);
		for (size_t i = 0; i < np && n < max; i++) {
			out[n].fam = &alloc_families[FAM_JEMALLOC];
			memcpy(out[n].prefix, pfx[i], sizeof(pfx[i]));
			n++;
		}
	}
	if ((ht_elf_symidx__func(ix, "tc_malloc") || ht_elf_symidx__func(ix, "tc_free")) &&
	    (has_func(ix, "tc_version") || has_func(ix, "TCMallocGetenvSafe")) && n < max)
		out[n++] = (struct alloc_detected){ .fam = &alloc_families[FAM_TCMALLOC] };
	if ((ht_elf_symidx__func(ix, "mi_malloc") || ht_elf_symidx__func(ix, "mi_free")) && n < max)
		out[n++] = (struct alloc_detected){ .fam = &alloc_families[FAM_MIMALLOC] };
	if (ht_elf_symidx__func(ix, "moz_arena_malloc") && has_func(ix, "jemalloc_stats_internal") &&
	    n < max)
		out[n++] = (struct alloc_detected){ .fam = &alloc_families[FAM_MOZJEMALLOC] };
	/* CPython: libpython, or an interpreter with it linked in (an
	 * extension module only imports PyObject_Malloc) */
	if (ht_elf_symidx__func(ix, "PyObject_Malloc") && ht_elf_symidx__func(ix, "PyObject_Free") &&
	    has_func(ix, "Py_Initialize") && n < max)
		out[n++] = (struct alloc_detected){ .fam = &alloc_families[FAM_PYMALLOC] };
	if (ht_elf_symidx__func(ix, "malloc") &&
	    (has_func(ix, "gnu_get_libc_version") || has_func(ix, "_int_malloc")) && n < max)
		out[n++] = (struct alloc_detected){ .fam = &alloc_families[FAM_GLIBC] };
	return n;
}
