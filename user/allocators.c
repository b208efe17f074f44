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
 * The C++ operator new/delete family is probed only in an object whose
 * allocator defines it (never libstdc++'s: its operators call malloc,
 * whose probe is enough).
 *
 * An entry point whose first instruction jumps to another entry point (or,
 * through the PLT, to a symbol that is one) is not probed: the other probe
 * sees the very same call, and a free counted twice would be wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "allocators.h"
#include "elfsym.h"
#include "ldso.h"
#include "log.h"
#include "modules.h"
#include "placement.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

struct alloc_fn {
	const char *name;
	enum ht_layout layout;
};

#define FN(n, l) { n, HT_L_##l }

static const struct alloc_fn glibc_fns[] = {
	FN("malloc", SIZE), FN("calloc", CALLOC), FN("realloc", REALLOC),
	FN("reallocarray", REALLOCARRAY), FN("free", FREE),
	FN("posix_memalign", POSIX_MEMALIGN), FN("aligned_alloc", ALIGN_SIZE),
	FN("memalign", ALIGN_SIZE), FN("valloc", SIZE), FN("pvalloc", SIZE),
};

/* Looked up with the object's jemalloc prefix in front. MALLOCX_ZERO and
 * MALLOCX_ALIGN(a) in flags never change the requested size. */
static const struct alloc_fn jemalloc_fns[] = {
	FN("malloc", SIZE), FN("calloc", CALLOC), FN("realloc", REALLOC), FN("free", FREE),
	FN("posix_memalign", POSIX_MEMALIGN), FN("aligned_alloc", ALIGN_SIZE),
	FN("memalign", ALIGN_SIZE), FN("valloc", SIZE),
	FN("mallocx", SIZE_FLAGS),        /* (size, flags) */
	FN("rallocx", REALLOC_FLAGS),     /* (ptr, size, flags) */
	FN("xallocx", XALLOCX),           /* (ptr, size, extra, flags): in place */
	FN("sdallocx", FREE),             /* (ptr, size, flags) */
	FN("dallocx", FREE),              /* (ptr, flags) */
	FN("free_sized", FREE), FN("free_aligned_sized", FREE),
};

static const struct alloc_fn tcmalloc_fns[] = {
	FN("malloc", SIZE), FN("calloc", CALLOC), FN("realloc", REALLOC), FN("free", FREE),
	FN("cfree", FREE), FN("posix_memalign", POSIX_MEMALIGN),
	FN("aligned_alloc", ALIGN_SIZE), FN("memalign", ALIGN_SIZE), FN("valloc", SIZE),
	FN("pvalloc", SIZE),
	FN("tc_malloc", SIZE), FN("tc_malloc_skip_new_handler", SIZE), FN("tc_calloc", CALLOC),
	FN("tc_realloc", REALLOC), FN("tc_free", FREE), FN("tc_cfree", FREE),
	FN("tc_free_sized", FREE), FN("tc_memalign", ALIGN_SIZE),
	FN("tc_posix_memalign", POSIX_MEMALIGN), FN("tc_valloc", SIZE), FN("tc_pvalloc", SIZE),
	FN("tc_new", SIZE), FN("tc_newarray", SIZE), FN("tc_new_nothrow", SIZE),
	FN("tc_newarray_nothrow", SIZE), FN("tc_new_aligned", SIZE_ALIGN),
	FN("tc_newarray_aligned", SIZE_ALIGN), FN("tc_new_aligned_nothrow", SIZE_ALIGN),
	FN("tc_newarray_aligned_nothrow", SIZE_ALIGN),
	FN("tc_delete", FREE), FN("tc_deletearray", FREE), FN("tc_delete_sized", FREE),
	FN("tc_deletearray_sized", FREE), FN("tc_delete_nothrow", FREE),
	FN("tc_deletearray_nothrow", FREE), FN("tc_delete_aligned", FREE),
	FN("tc_deletearray_aligned", FREE), FN("tc_delete_sized_aligned", FREE),
	FN("tc_deletearray_sized_aligned", FREE), FN("tc_delete_aligned_nothrow", FREE),
	FN("tc_deletearray_aligned_nothrow", FREE),
};

/*
 * mimalloc's API. The mi_heap_* functions take the heap first: their
 * size moves one argument right ((heap, size) reads like memalign's
 * (align, size)). mi_cfree, cfree and vfree are left out: they call
 * mi_free after a check, and its probe sees that call.
 */
static const struct alloc_fn mimalloc_fns[] = {
	FN("malloc", SIZE), FN("calloc", CALLOC), FN("realloc", REALLOC), FN("free", FREE),
	FN("posix_memalign", POSIX_MEMALIGN), FN("aligned_alloc", ALIGN_SIZE),
	FN("memalign", ALIGN_SIZE), FN("valloc", SIZE), FN("pvalloc", SIZE),
	FN("reallocarray", REALLOCARRAY), FN("reallocf", REALLOC),
	FN("mi_malloc", SIZE), FN("mi_zalloc", SIZE), FN("mi_malloc_small", SIZE),
	FN("mi_zalloc_small", SIZE), FN("mi_calloc", CALLOC), FN("mi_mallocn", CALLOC),
	FN("mi_realloc", REALLOC), FN("mi_reallocf", REALLOC), FN("mi_rezalloc", REALLOC),
	FN("mi_expand", REALLOC), FN("mi_reallocn", REALLOCARRAY),
	FN("mi_recalloc", REALLOCARRAY), FN("mi_reallocarray", REALLOCARRAY),
	FN("mi_free", FREE), FN("mi_free_size", FREE), FN("mi_free_aligned", FREE),
	FN("mi_free_size_aligned", FREE),
	FN("mi_malloc_aligned", SIZE_ALIGN), FN("mi_malloc_aligned_at", SIZE_ALIGN),
	FN("mi_zalloc_aligned", SIZE_ALIGN), FN("mi_zalloc_aligned_at", SIZE_ALIGN),
	FN("mi_calloc_aligned", CALLOC), FN("mi_calloc_aligned_at", CALLOC),
	FN("mi_realloc_aligned", REALLOC_FLAGS), FN("mi_realloc_aligned_at", REALLOC_FLAGS),
	FN("mi_rezalloc_aligned", REALLOC_FLAGS), FN("mi_rezalloc_aligned_at", REALLOC_FLAGS),
	FN("mi_recalloc_aligned", REALLOCARRAY), FN("mi_recalloc_aligned_at", REALLOCARRAY),
	FN("mi_posix_memalign", POSIX_MEMALIGN), FN("mi_memalign", ALIGN_SIZE),
	FN("mi_aligned_alloc", ALIGN_SIZE), FN("mi_valloc", SIZE), FN("mi_pvalloc", SIZE),
	FN("mi_new", SIZE), FN("mi_new_nothrow", SIZE), FN("mi_new_aligned", SIZE_ALIGN),
	FN("mi_new_aligned_nothrow", SIZE_ALIGN), FN("mi_new_n", CALLOC),
	FN("mi_new_realloc", REALLOC), FN("mi_new_reallocn", REALLOCARRAY),
	FN("mi_heap_malloc", ALIGN_SIZE), FN("mi_heap_zalloc", ALIGN_SIZE),
	FN("mi_heap_malloc_small", ALIGN_SIZE), FN("mi_heap_zalloc_small", ALIGN_SIZE),
	FN("mi_heap_alloc_new", ALIGN_SIZE), FN("mi_heap_alloc_new_n", HEAP_CALLOC),
	FN("mi_heap_calloc", HEAP_CALLOC), FN("mi_heap_mallocn", HEAP_CALLOC),
	FN("mi_heap_realloc", HEAP_REALLOC), FN("mi_heap_reallocf", HEAP_REALLOC),
	FN("mi_heap_rezalloc", HEAP_REALLOC), FN("mi_heap_reallocn", HEAP_REALLOCN),
	FN("mi_heap_recalloc", HEAP_REALLOCN),
	FN("mi_heap_malloc_aligned", ALIGN_SIZE), FN("mi_heap_malloc_aligned_at", ALIGN_SIZE),
	FN("mi_heap_zalloc_aligned", ALIGN_SIZE), FN("mi_heap_zalloc_aligned_at", ALIGN_SIZE),
	FN("mi_heap_calloc_aligned", HEAP_CALLOC), FN("mi_heap_calloc_aligned_at", HEAP_CALLOC),
	FN("mi_heap_realloc_aligned", HEAP_REALLOC),
	FN("mi_heap_realloc_aligned_at", HEAP_REALLOC),
	FN("mi_heap_rezalloc_aligned", HEAP_REALLOC),
	FN("mi_heap_rezalloc_aligned_at", HEAP_REALLOC),
	FN("mi_heap_recalloc_aligned", HEAP_REALLOCN),
	FN("mi_heap_recalloc_aligned_at", HEAP_REALLOCN),
};

/* C++ operator new/delete, every variant (x86-64 mangling: size_t = m). */
static const struct alloc_fn cxx_fns[] = {
	FN("_Znwm", SIZE), FN("_Znam", SIZE),
	FN("_ZnwmRKSt9nothrow_t", SIZE), FN("_ZnamRKSt9nothrow_t", SIZE),
	FN("_ZnwmSt11align_val_t", SIZE_ALIGN), FN("_ZnamSt11align_val_t", SIZE_ALIGN),
	FN("_ZnwmSt11align_val_tRKSt9nothrow_t", SIZE_ALIGN),
	FN("_ZnamSt11align_val_tRKSt9nothrow_t", SIZE_ALIGN),
	FN("_ZdlPv", FREE), FN("_ZdaPv", FREE), FN("_ZdlPvm", FREE), FN("_ZdaPvm", FREE),
	FN("_ZdlPvRKSt9nothrow_t", FREE), FN("_ZdaPvRKSt9nothrow_t", FREE),
	FN("_ZdlPvSt11align_val_t", FREE), FN("_ZdaPvSt11align_val_t", FREE),
	FN("_ZdlPvmSt11align_val_t", FREE), FN("_ZdaPvmSt11align_val_t", FREE),
	FN("_ZdlPvSt11align_val_tRKSt9nothrow_t", FREE),
	FN("_ZdaPvSt11align_val_tRKSt9nothrow_t", FREE),
};

struct symidx;

struct family {
	const char *name;
	const struct alloc_fn *fns;
	size_t nfns;
	bool prefixed;  /* fns are looked up with the detected prefix */
	bool cxx;       /* the allocator defines operator new/delete itself */
};

/* Most specific first: an address claimed by one family is not probed
 * again for a later one (tcmalloc also defines __libc_malloc...). */
static const struct family families[] = {
	{ "jemalloc", jemalloc_fns, ARRAY_SIZE(jemalloc_fns), true, true },
	{ "tcmalloc", tcmalloc_fns, ARRAY_SIZE(tcmalloc_fns), false, true },
	{ "mimalloc", mimalloc_fns, ARRAY_SIZE(mimalloc_fns), false, true },
	{ "glibc", glibc_fns, ARRAY_SIZE(glibc_fns), false, false },
};

#define FAM_JEMALLOC (&families[0])
#define FAM_TCMALLOC (&families[1])
#define FAM_MIMALLOC (&families[2])
#define FAM_GLIBC (&families[3])

static const char *const family_names = "glibc, jemalloc, tcmalloc, mimalloc";

/* ------------------------------------------------------------------ */
/* One object's symbols                                                */
/* ------------------------------------------------------------------ */

struct sym {
	const char *name;  /* owned by the object's libelf handle */
	uint64_t vaddr, size;
	bool global, func;
};

struct symidx {
	struct sym *s;
	size_t n;
};

/* By name; among equal names global before local, functions first. */
static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->global != y->global)
		return x->global ? -1 : 1;
	if (x->func != y->func)
		return x->func ? -1 : 1;
	return 0;
}

static int symidx_build(Elf *elf, struct symidx *ix)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;

	memset(ix, 0, sizeof(*ix));
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 1; i < n; i++) {
			GElf_Sym gs;
			const char *name;
			int type;

			if (!gelf_getsym(data, (int)i, &gs) || gs.st_shndx == SHN_UNDEF ||
			    !gs.st_value)
				continue;
			type = GELF_ST_TYPE(gs.st_info);
			/* An IFUNC's address is its resolver: nothing to probe. */
			if (type != STT_FUNC && type != STT_OBJECT)
				continue;
			name = elf_strptr(elf, sh.sh_link, gs.st_name);
			if (!name || !*name)
				continue;
			if (grow_array((void **)&ix->s, &cap, ix->n + 1, sizeof(*ix->s)))
				return -ENOMEM;
			ix->s[ix->n++] = (struct sym){
				.name = name, .vaddr = gs.st_value, .size = gs.st_size,
				.global = GELF_ST_BIND(gs.st_info) != STB_LOCAL,
				.func = type == STT_FUNC,
			};
		}
	}
	if (ix->n)
		qsort(ix->s, ix->n, sizeof(*ix->s), sym_cmp);
	return 0;
}

static void symidx_free(struct symidx *ix)
{
	free(ix->s);
	memset(ix, 0, sizeof(*ix));
}

/* The preferred symbol of that name (first of its run), or NULL. */
static const struct sym *sym_find(const struct symidx *ix, const char *name)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->s[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->n && !strcmp(ix->s[lo].name, name) ? &ix->s[lo] : NULL;
}

/* A defined global function of that name: what a table row probes. */
static const struct sym *func_find(const struct symidx *ix, const char *name)
{
	const struct sym *s = sym_find(ix, name);

	return s && s->global && s->func ? s : NULL;
}

static bool has_func(const struct symidx *ix, const char *name)
{
	const struct sym *s = sym_find(ix, name);

	return s && s->func;
}

static const struct sym *prefixed_func(const struct symidx *ix, const char *prefix,
				       const char *name)
{
	char buf[HT_ALLOC_NAME_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", prefix, name) >= sizeof(buf))
		return NULL;
	return func_find(ix, buf);
}

/* ------------------------------------------------------------------ */
/* Recognising families                                                */
/* ------------------------------------------------------------------ */

#define MAX_PREFIXES 4

struct detected {
	const struct family *fam;
	char prefix[32];
};

static bool valid_prefix(const char *p, size_t len)
{
	if (len >= 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '_')
			return false;
	return true;
}

/* Does the object define any jemalloc table function under prefix? */
static bool jemalloc_has_fns(const struct symidx *ix, const char *prefix)
{
	for (size_t i = 0; i < ARRAY_SIZE(jemalloc_fns); i++)
		if (prefixed_func(ix, prefix, jemalloc_fns[i].name))
			return true;
	return false;
}

/*
 * jemalloc's prefixes in this object: every P for which P+malloc_conf,
 * P+malloc_message or P+mallctl exists along with P-prefixed table
 * functions. (An application's own `malloc_conf`, set to configure a
 * shared libjemalloc, comes without a malloc: it is not taken.)
 */
static size_t jemalloc_prefixes(const struct symidx *ix, char out[][32], size_t max)
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
			if (!valid_prefix(name, pl))
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

static size_t detect(const struct symidx *ix, const struct ht_alloc_opts *o,
		     struct detected *out, size_t max)
{
	char pfx[MAX_PREFIXES][32];
	size_t n = 0, np;

	/* jemalloc, under each prefix found (or the one given: then the
	 * functions are enough - unless it is "", which glibc has too) */
	if (o->symbol_prefix && !*o->symbol_prefix) {
		np = jemalloc_prefixes(ix, pfx, MAX_PREFIXES);
		for (size_t i = 0; i < np && n < max; i++)
			if (!pfx[i][0])
				out[n++] = (struct detected){ .fam = FAM_JEMALLOC };
	} else if (o->symbol_prefix) {
		if (jemalloc_has_fns(ix, o->symbol_prefix) && n < max) {
			out[n].fam = FAM_JEMALLOC;
			snprintf(out[n].prefix, sizeof(out[n].prefix), "%s", o->symbol_prefix);
			n++;
		}
	} else {
		np = jemalloc_prefixes(ix, pfx, MAX_PREFIXES);
		for (size_t i = 0; i < np && n < max; i++) {
			out[n].fam = FAM_JEMALLOC;
			memcpy(out[n].prefix, pfx[i], sizeof(pfx[i]));
			n++;
		}
	}
	if ((func_find(ix, "tc_malloc") || func_find(ix, "tc_free")) &&
	    (has_func(ix, "tc_version") || has_func(ix, "TCMallocGetenvSafe")) && n < max)
		out[n++] = (struct detected){ .fam = FAM_TCMALLOC };
	if ((func_find(ix, "mi_malloc") || func_find(ix, "mi_free")) && n < max)
		out[n++] = (struct detected){ .fam = FAM_MIMALLOC };
	if (func_find(ix, "malloc") &&
	    (has_func(ix, "gnu_get_libc_version") || has_func(ix, "_int_malloc")) && n < max)
		out[n++] = (struct detected){ .fam = FAM_GLIBC };
	return n;
}

/* ------------------------------------------------------------------ */
/* Reading the object: sections, code, relocations                     */
/* ------------------------------------------------------------------ */

static Elf_Scn *section_by_name(Elf *elf, const char *want, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, out))
			continue;
		name = elf_strptr(elf, shstrndx, out->sh_name);
		if (name && !strcmp(name, want))
			return scn;
	}
	return NULL;
}

/* Is vaddr inside a PLT section (.plt, .plt.sec, .plt.got)? */
static bool in_plt(Elf *elf, uint64_t vaddr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_EXECINSTR) ||
		    vaddr < sh.sh_addr || vaddr - sh.sh_addr >= sh.sh_size)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		return name && !strncmp(name, ".plt", 4);
	}
	return false;
}

/* The symbol whose address the dynamic loader stores at GOT slot got. */
static const char *got_symbol(Elf *elf, uint64_t got)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh, symsh;
		Elf_Data *data, *symdata;
		Elf_Scn *symscn;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		symscn = elf_getscn(elf, sh.sh_link);
		if (!data || !symscn || !gelf_getshdr(symscn, &symsh))
			continue;
		symdata = elf_getdata(symscn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Rela r;
			GElf_Sym s;

			if (!gelf_getrela(data, (int)i, &r) || r.r_offset != got)
				continue;
			if (!symdata || !GELF_R_SYM(r.r_info) ||
			    !gelf_getsym(symdata, (int)GELF_R_SYM(r.r_info), &s))
				return NULL;
			return elf_strptr(elf, symsh.sh_link, s.st_name);
		}
	}
	return NULL;
}

/* Skip endbr64 and a bnd prefix. */
static size_t skip_prologue(const uint8_t *c, size_t n)
{
	size_t i = 0;

	if (n >= 4 && c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
		i = 4;
	if (i < n && c[i] == 0xf2)
		i++;
	return i;
}

static int32_t rd32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

/*
 * An instruction that only sets up registers for a tail call: it writes
 * a general register other than the stack pointer, and no memory (it may
 * read memory: mimalloc loads its thread's heap). A short list, not
 * capstone 4's register access lists, which are unreliable.
 */
static bool is_setup(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	x86_reg r;

	switch (insn->id) {
	case X86_INS_NOP:
	case X86_INS_ENDBR64:
		return true;
	case X86_INS_MOV:
	case X86_INS_MOVABS:
	case X86_INS_MOVZX:
	case X86_INS_MOVSX:
	case X86_INS_MOVSXD:
	case X86_INS_LEA:
	case X86_INS_XOR:
	case X86_INS_AND:
	case X86_INS_OR:
	case X86_INS_ADD:
	case X86_INS_SUB:
	case X86_INS_SHL:
	case X86_INS_SHR:
		break;
	default:
		return false;
	}
	if (x->op_count < 1 || x->operands[0].type != X86_OP_REG)
		return false;
	r = x->operands[0].reg;
	return r != X86_REG_RSP && r != X86_REG_ESP && r != X86_REG_SP && r != X86_REG_SPL &&
	       r != X86_REG_RIP;
}

/* The bytes of a section, by name (for version strings). */
static const uint8_t *section_bytes(Elf *elf, const char *name, size_t *len)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section_by_name(elf, name, &sh);
	Elf_Data *d;

	if (!scn || sh.sh_type == SHT_NOBITS)
		return NULL;
	d = elf_rawdata(scn, NULL);
	if (!d || !d->d_buf)
		return NULL;
	*len = d->d_size;
	return d->d_buf;
}

/* jemalloc's JEMALLOC_VERSION: "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c".
 * A build without its VERSION file (Rust's jemalloc-sys) says 0.0.0. */
static void jemalloc_version(Elf *elf, char *out, size_t len)
{
	size_t n = 0;
	const uint8_t *ro = section_bytes(elf, ".rodata", &n), *p;

	for (p = ro; p && (p = memmem(p, n - (size_t)(p - ro), "-g", 2)); p += 2) {
		const uint8_t *start = p, *end = p + 2;
		int dots = 0, dashes = 0, other = 0;

		while (end < ro + n && isxdigit(*end))
			end++;
		if (end - (p + 2) != 40 || end >= ro + n || *end)
			continue;
		while (start > ro && start[-1] && p - start < 24)
			start--;
		if (start > ro && start[-1])
			continue;
		for (const uint8_t *q = start; q < p; q++) {
			dots += *q == '.';
			dashes += *q == '-';
			other += *q != '.' && *q != '-' && !isdigit(*q);
		}
		if (dots != 2 || dashes != 1 || other || !isdigit(*start))
			continue;
		if (!strncmp((const char *)start, "0.0.0-", 6))
			return;
		snprintf(out, len, "%.*s", (int)strcspn((const char *)start, "-"), start);
		return;
	}
}

/* "gperftools 2.10" in .rodata. */
static void tcmalloc_version(Elf *elf, char *out, size_t len)
{
	size_t n = 0;
	const uint8_t *ro = section_bytes(elf, ".rodata", &n), *p;

	if (!ro || !(p = memmem(ro, n, "gperftools ", 11)) || p + 11 >= ro + n ||
	    !isdigit(p[11]))
		return;
	p += 11;
	snprintf(out, len, "%.*s", (int)strnlen((const char *)p, (size_t)(ro + n - p)), p);
	out[strspn(out, "0123456789.")] = '\0';
}

/* "... release version 2.36." in libc's banner, when linked in. */
static void glibc_version(Elf *elf, char *out, size_t len)
{
	static const char key[] = "release version ";
	size_t n = 0;
	const uint8_t *ro = section_bytes(elf, ".rodata", &n), *p;

	if (!ro || !(p = memmem(ro, n, key, sizeof(key) - 1)))
		return;
	p += sizeof(key) - 1;
	snprintf(out, len, "%.*s", (int)strnlen((const char *)p, (size_t)(ro + n - p)), p);
	out[strspn(out, "0123456789.")] = '\0';
	if (*out && out[strlen(out) - 1] == '.')
		out[strlen(out) - 1] = '\0';
}

/* mi_version() is `mov $MI_MALLOC_VERSION, %eax; ret` (209 = 2.0.9). */
static void mimalloc_version(struct ht_elf *e, const struct symidx *ix, char *out,
			     size_t len)
{
	const struct sym *s = func_find(ix, "mi_version");
	uint8_t c[16];
	long n;
	size_t i;
	int32_t v;

	if (!s || (n = ht_elf__read_code(e, s->vaddr, c, sizeof(c))) < 6)
		return;
	i = skip_prologue(c, (size_t)n);
	if (i + 6 > (size_t)n || c[i] != 0xb8 || c[i + 5] != 0xc3)
		return;
	v = rd32(c + i + 1);
	if (v > 0 && v < 10000)
		snprintf(out, len, "%d.%d.%d", v / 100, v / 10 % 10, v % 10);
}

static void family_version(struct ht_elf *e, const struct symidx *ix,
			   const struct family *fam, char *out, size_t len)
{
	Elf *elf = ht_elf__handle(e);

	out[0] = '\0';
	if (fam == FAM_JEMALLOC)
		jemalloc_version(elf, out, len);
	else if (fam == FAM_TCMALLOC)
		tcmalloc_version(elf, out, len);
	else if (fam == FAM_MIMALLOC)
		mimalloc_version(e, ix, out, len);
	else if (fam == FAM_GLIBC)
		glibc_version(elf, out, len);
}

/* ------------------------------------------------------------------ */
/* Probe points                                                        */
/* ------------------------------------------------------------------ */

/*
 * A uprobe costs ~4x more on an instruction the kernel must single-step
 * than on one it emulates: move the entry probe to the first emulated
 * instruction every call reaches with arguments and stack untouched
 * (glibc's free: past `test %rdi,%rdi` to its `je`). Returns the file
 * offset to probe.
 */
static uint64_t place_probe(struct ht_elf *e, const struct sym *sym, uint64_t off)
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

/* A table function found in the object, before it becomes a point. */
struct cand {
	size_t det;                    /* index in the detected array */
	const struct alloc_fn *fn;
	char name[HT_ALLOC_NAME_MAX];
	const struct sym *sym;
	enum ht_layout layout;
	bool skip;
};

struct cands {
	struct cand *c;
	size_t n, cap;
};

static int add_cands(struct cands *cs, const struct symidx *ix, size_t det,
		     const char *prefix, const struct alloc_fn *fns, size_t nfns)
{
	for (size_t i = 0; i < nfns; i++) {
		struct cand *c;
		const struct sym *s = prefixed_func(ix, prefix, fns[i].name);

		if (!s)
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

static bool fns_have(const struct alloc_fn *fns, size_t n, const char *name, bool frees)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, fns[i].name) && (!frees || fns[i].layout == HT_L_FREE))
			return true;
	return false;
}

/* Does the name belong to an entry point (a free, if frees) of any family,
 * with any of the object's prefixes? A call to it is probed there. */
static bool is_entry_name(const char *name, const struct detected *det, size_t ndet,
			  bool frees)
{
	for (size_t f = 0; f < ARRAY_SIZE(families); f++)
		if (fns_have(families[f].fns, families[f].nfns, name, frees))
			return true;
	if (fns_have(cxx_fns, ARRAY_SIZE(cxx_fns), name, frees))
		return true;
	for (size_t d = 0; d < ndet; d++) {
		size_t pl = strlen(det[d].prefix);

		if (pl && !strncmp(name, det[d].prefix, pl) &&
		    fns_have(jemalloc_fns, ARRAY_SIZE(jemalloc_fns), name + pl, frees))
			return true;
	}
	return false;
}

/* The symbol a jump or call to `to` reaches through a PLT stub. */
static const char *plt_target(struct ht_elf *e, uint64_t to)
{
	uint8_t c[16];
	long n;
	size_t i;

	if (!in_plt(ht_elf__handle(e), to))
		return NULL;
	n = ht_elf__read_code(e, to, c, sizeof(c));
	i = n > 0 ? skip_prologue(c, (size_t)n) : 0;
	if (n <= 0 || i + 6 > (size_t)n || c[i] != 0xff || c[i + 1] != 0x25)
		return NULL;
	return got_symbol(ht_elf__handle(e), to + i + 6 + (int64_t)rd32(c + i + 2));
}

/*
 * Does the function at vaddr, on its only path, set up registers and then
 * jump (a tail call)? The caller's return address and stack are left
 * untouched: the target sees the very same call. *to is the target, or 0
 * with *name the symbol for a jump through the GOT (directly, or by way
 * of a PLT stub).
 */
static bool forwards_to(csh cs, struct ht_elf *e, uint64_t vaddr, uint64_t *to,
			const char **name)
{
	uint8_t code[64];
	cs_insn *insns = NULL;
	long len = ht_elf__read_code(e, vaddr, code, sizeof(code));
	size_t n;
	bool ok = false;

	*to = 0;
	*name = NULL;
	if (len <= 0)
		return false;
	n = cs_disasm(cs, code, (size_t)len, vaddr, 12, &insns);
	for (size_t i = 0; i < n; i++) {
		const cs_x86 *x = &insns[i].detail->x86;
		const cs_x86_op *op = &x->operands[0];

		if (is_setup(&insns[i]))
			continue;
		if (insns[i].id != X86_INS_JMP || x->op_count != 1)
			break;
		if (op->type == X86_OP_IMM) {
			*name = plt_target(e, (uint64_t)op->imm);
			*to = *name ? 0 : (uint64_t)op->imm;
			ok = true;
		} else if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP &&
			   op->mem.index == X86_REG_INVALID) {
			*name = got_symbol(ht_elf__handle(e), insns[i].address + insns[i].size +
							     (uint64_t)op->mem.disp);
			ok = *name != NULL;
		}
		break;
	}
	if (insns)
		cs_free(insns, n);
	return ok;
}

/*
 * Does the free at c call or jump to another probed free anywhere in its
 * body (jemalloc's aligned sized operator delete computes flags, then
 * tail-calls sdallocx)? Then both probes would see one free.
 */
static bool calls_a_free(csh cap, struct ht_elf *e, const struct cand *c,
			 const struct cands *cs, const struct detected *det, size_t ndet)
{
	uint8_t code[1024];
	size_t len = c->sym->size && c->sym->size < sizeof(code) ? c->sym->size : sizeof(code);
	cs_insn *insns = NULL;
	long got = ht_elf__read_code(e, c->sym->vaddr, code, len);
	size_t n;
	bool found = false;

	if (got <= 0)
		return false;
	n = cs_disasm(cap, code, (size_t)got, c->sym->vaddr, 0, &insns);
	for (size_t i = 0; i < n && !found; i++) {
		const cs_x86 *x = &insns[i].detail->x86;
		const cs_x86_op *op = &x->operands[0];
		const char *name = NULL;

		if ((insns[i].id != X86_INS_JMP && insns[i].id != X86_INS_CALL) || x->op_count != 1)
			continue;
		if (op->type == X86_OP_IMM) {
			for (size_t k = 0; k < cs->n && !found; k++)
				found = &cs->c[k] != c && cs->c[k].fn->layout == HT_L_FREE &&
					!cs->c[k].skip && cs->c[k].sym->vaddr == (uint64_t)op->imm;
			name = found ? NULL : plt_target(e, (uint64_t)op->imm);
		} else if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP &&
			   op->mem.index == X86_REG_INVALID) {
			name = got_symbol(ht_elf__handle(e), insns[i].address + insns[i].size +
							     (uint64_t)op->mem.disp);
		}
		if (name && strcmp(name, c->name))
			found = is_entry_name(name, det, ndet, true);
	}
	if (insns)
		cs_free(insns, n);
	return found;
}

/* Mark the candidates that tail-call another entry point. */
static void mark_forwarders(struct ht_elf *e, struct cands *cs, const struct detected *det,
			    size_t ndet)
{
	csh cap;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cap) != CS_ERR_OK)
		return;
	if (cs_option(cap, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
		cs_close(&cap);
		return;
	}
	for (size_t i = 0; i < cs->n; i++) {
		struct cand *c = &cs->c[i];
		const char *name;
		uint64_t to = 0;

		if (!forwards_to(cap, e, c->sym->vaddr, &to, &name))
			continue;
		if (name) {
			c->skip = is_entry_name(name, det, ndet, false);
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

		if (c->skip || c->layout != HT_L_FREE || !calls_a_free(cap, e, c, cs, det, ndet))
			continue;
		c->layout = HT_L_FREE_WRAP;
		pr_debug("'%s' may call another probed free: traced as a wrapper\n", c->name);
	}
	cs_close(&cap);
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

static bool family_wanted(const struct family *fam, const struct ht_alloc_opts *o)
{
	return !o->allocator || !strcmp(o->allocator, fam->name);
}

/* Discover in one object; appends to set. */
static int discover_module(struct ht_modules *ms, size_t mi, const struct ht_alloc_opts *o,
			   struct ht_probe_set *set)
{
	struct ht_module *mod = modules__get(ms, mi);
	struct detected det[MAX_PREFIXES + 3];
	struct cands cs = {};
	struct symidx ix;
	size_t ndet, first = set->n;
	struct ht_elf *e;
	int err;

	e = modules__elf(mod);
	if (!e)
		return 0;
	err = symidx_build(ht_elf__handle(e), &ix);
	if (err)
		return err;
	ndet = detect(&ix, o, det, ARRAY_SIZE(det));
	for (size_t d = 0; d < ndet && !err; d++) {
		const struct family *fam = det[d].fam;

		err = add_cands(&cs, &ix, d, det[d].prefix, fam->fns, fam->nfns);
		if (!err && fam->cxx)
			err = add_cands(&cs, &ix, d, "", cxx_fns, ARRAY_SIZE(cxx_fns));
	}
	if (err)
		goto out;
	mark_forwarders(e, &cs, det, ndet);

	for (size_t d = 0; d < ndet; d++) {
		const struct family *fam = det[d].fam;
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
			p->offset = place_probe(e, c->sym, off);
			p->layout = c->layout;
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
		snprintf(found->prefix, sizeof(found->prefix), "%s", det[d].prefix);
		family_version(e, &ix, fam, found->version, sizeof(found->version));
	}
out:
	free(cs.c);
	symidx_free(&ix);
	return err;
}

/* Has an object with this file identity been looked at? Marks it. */
static int seen_before(struct ht_probe_set *set, const struct ht_module *mod, bool *seen)
{
	for (size_t i = 0; i < set->nseen; i++)
		if (set->seen[i].dev == mod->dev && set->seen[i].inode == mod->inode) {
			*seen = true;
			return 0;
		}
	*seen = false;
	if (grow_array((void **)&set->seen, &set->cap_seen, set->nseen + 1, sizeof(*set->seen)))
		return -ENOMEM;
	set->seen[set->nseen].dev = mod->dev;
	set->seen[set->nseen].inode = mod->inode;
	set->nseen++;
	return 0;
}

int allocators__discover_new(struct ht_modules *ms, const struct ht_alloc_opts *opts,
			     struct ht_probe_set *set)
{
	size_t before = set->n;

	for (size_t mi = 0; mi < modules__count(ms); mi++) {
		struct ht_module *mod = modules__get(ms, mi);
		bool seen;
		int err;

		if (!mod->has_exec || mod->fd < 0)
			continue;
		err = seen_before(set, mod, &seen);
		if (err)
			return err;
		if (seen)
			continue;
		err = discover_module(ms, mi, opts, set);
		if (err)
			return err;
	}
	return (int)(set->n - before);
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
			bool glibc = !strcmp(f->family, "glibc");
			int n;

			if (glibc != (pass == 1))
				continue;
			n = snprintf(buf + at, len - at, "%s%s%s%s%s%s%s%s in %s",
				     first ? "" : ", ", f->family, f->version[0] ? " " : "",
				     f->version, glibc ? " malloc" : "",
				     f->prefix[0] ? " (prefix " : "", f->prefix,
				     f->prefix[0] ? ")" : "",
				     module_name(modules__get(ms, f->module)));
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

	for (size_t f = 0; f < ARRAY_SIZE(families) && !known; f++)
		known = !strcmp(opts->allocator, families[f].name);
	if (opts->symbol_prefix &&
	    !valid_prefix(opts->symbol_prefix, strlen(opts->symbol_prefix))) {
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
			 opts->allocator, family_names, found[0] ? found : "none");
	else if (opts->allocator || opts->symbol_prefix)
		snprintf(msg, len, "no %s%s%s%s found; found: %s",
			 opts->allocator ? opts->allocator : "jemalloc",
			 opts->symbol_prefix ? " with prefix '" : "",
			 opts->symbol_prefix ? opts->symbol_prefix : "",
			 opts->symbol_prefix ? "'" : "", found[0] ? found : "none");
	else
		snprintf(msg, len, "no known allocator found (looked for %s)", family_names);
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

int allocators__add_command(struct ht_modules *ms, char *const argv[])
{
	return ldso__command_objects(argv, add_command_cb, ms);
}

void allocators__free(struct ht_probe_set *set)
{
	free(set->points);
	free(set->found);
	free(set->seen);
	memset(set, 0, sizeof(*set));
}
