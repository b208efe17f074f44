/* SPDX-License-Identifier: MIT */
/*
 * The allocator table and discovery: which functions of which mapped
 * object heaptrace probes, and how each passes its arguments. The table
 * is data; adding an allocator is a row, not new BPF code.
 *
 * Families: glibc's malloc, jemalloc (any symbol prefix: "", je_, _rjem_,
 * or --symbol-prefix), tcmalloc, mimalloc, mozjemalloc, CPython's pymalloc,
 * each with its own entry points and - for the allocators that define
 * them - the C++ operator new/delete family; and the generic family, the
 * standard entry points of an allocator heaptrace does not recognise.
 * Discovery reads the ELF symbols (.dynsym and .symtab) of every object
 * the target maps, recognises each family by symbols only it defines, and
 * probes a standard entry point (malloc, free, operator new...) only in
 * the object whose definition the dynamic linker binds calls to. It never
 * probes an entry point whose first instruction just jumps to another
 * probed one (mimalloc's valloc -> mi_valloc, jemalloc's operator delete
 * -> free): the target's probe sees the same call.
 */
#ifndef HEAPTRACE_ALLOCATORS_H
#define HEAPTRACE_ALLOCATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"

struct ht_modules;

#define HT_ALLOC_NAME_MAX 80

/* One place a probe goes: a function of a module, at a file offset. */
struct ht_probe_point {
	size_t module;            /* index in the module table */
	const char *family;       /* "glibc", "jemalloc", "tcmalloc", "mimalloc" */
	char func[HT_ALLOC_NAME_MAX];   /* the symbol, e.g. "_rjem_malloc" */
	char alias[HT_ALLOC_NAME_MAX];  /* another name at the address, or "" */
	uint64_t vaddr;           /* the function's ELF address */
	uint64_t offset;          /* file offset the probe is attached at */
	enum ht_layout layout;
	bool leaf;                /* reaches no other probed entry point (HT_COOKIE_LEAF) */
};

/* One allocator found in one object. */
struct ht_alloc_found {
	size_t module;
	const char *family;
	char prefix[32];          /* jemalloc's symbol prefix ("" if none) */
	char version[32];         /* "5.3.0", or "" when unknown */
	size_t npoints;
	bool asked;               /* generic by --allocator generic */
};

/* An allocator found but not probed: its probes could not see all its
 * calls (CPython's pymalloc inlined into an interpreter's code). */
struct ht_alloc_refused {
	const char *family;
	char object[256];         /* the object's path */
	char why[256];            /* what was found, for people */
	const char *workaround;   /* e.g. "PYTHONMALLOC=malloc" */
};

struct ht_probe_set {
	struct ht_probe_point *points;
	size_t n, cap;
	struct ht_alloc_found *found;
	size_t nfound, cap_found;
	struct ht_alloc_refused *refused;
	size_t nrefused, cap_refused;
	/* objects already looked at, by file identity (dev, inode) */
	struct { uint64_t dev, inode; } *seen;
	size_t nseen, cap_seen;
	/* per module: the standard entry points (allocators_table.h bits) it
	 * exports and those it defines; read once */
	struct ht_alloc_defs { uint64_t exports, defines; bool known; } *defs;
	size_t ndefs;
};

struct ht_alloc_opts {
	const char *allocator;      /* trace only this family; "generic" or
				     * "generic:PATH" for the standard entry
				     * points; NULL: all found */
	const char *symbol_prefix;  /* jemalloc's symbol prefix; NULL: detect */
};

/*
 * Find every allocator entry point in the target's mapped objects (as
 * far as opts allow). Returns 0 with set->n > 0; -EINVAL (unknown
 * allocator name, bad prefix) or -ENOENT (nothing found) with a one-line
 * reason in msg that lists what was found; or another -errno.
 */
int allocators__discover(struct ht_modules *ms, const struct ht_alloc_opts *opts,
			 struct ht_probe_set *set, char *msg, size_t len);

/*
 * Look at the objects of ms not looked at yet (a library loaded since)
 * and add their entry points to set. Returns the number of points added,
 * or -errno.
 */
int allocators__discover_new(struct ht_modules *ms, const struct ht_alloc_opts *opts,
			     struct ht_probe_set *set);

/* Drop the points and allocators added from (n, nfound) on. */
void allocators__truncate(struct ht_probe_set *set, size_t n, size_t nfound);

/*
 * Describe set->found[from..] for people: "jemalloc 5.3.0 (prefix
 * _rjem_) in /usr/bin/servo, glibc 2.36 malloc in libc.so.6". Returns buf.
 */
const char *allocators__describe(struct ht_modules *ms, const struct ht_probe_set *set,
				 size_t from, char *buf, size_t len);

/*
 * The refusal r for people, one line: "not tracing pymalloc (CPython's
 * object allocator) in /usr/bin/python3.11: ...; run it with ...".
 * Returns buf.
 */
const char *allocators__refusal(const struct ht_alloc_refused *r, char *buf, size_t len);

/*
 * Launch mode: add to ms the objects `argv` will map once it runs - its
 * executable (looked up in PATH), the libraries of LD_PRELOAD and
 * /etc/ld.so.preload, and its DT_NEEDED closure as the dynamic loader
 * resolves it - so that probes are in place before its first call. envp
 * is the command's environment (NULL: ours).
 * Returns 0, or -ENOENT when the executable can't be found.
 */
int allocators__add_command(struct ht_modules *ms, char *const argv[], char *const envp[]);

/*
 * The objects of ms that define malloc, for people: "firefox-esr,
 * libc.so.6" ("none" when there is none). Returns buf.
 */
const char *allocators__malloc_definitions(struct ht_modules *ms, struct ht_probe_set *set,
					   char *buf, size_t len);

void allocators__free(struct ht_probe_set *set);

/* True for the layouts whose probe is a free (entry only). */
static inline bool layout_is_free(enum ht_layout l)
{
	return l == HT_L_FREE;
}

#endif
