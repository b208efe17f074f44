/* SPDX-License-Identifier: MIT */
/*
 * Symbolization of the target's code addresses: function (demangled),
 * source file and line, through elfutils' libdwfl (ELF symbol tables,
 * DWARF, separate debug files found by build-id or .gnu_debuglink).
 * Each distinct address is resolved once and cached; nothing here runs on
 * the per-event path.
 */
#ifndef HEAPTRACE_SYMBOLIZE_H
#define HEAPTRACE_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include "heaptrace.h"

struct ht_modules;
struct ht_symbolizer;

#define HT_MAX_INLINE 16

struct ht_symbolizer_opts {
	bool no_demangle;
};

struct ht_symbolizer *symbolizer__new(struct ht_modules *ms,
				      const struct ht_symbolizer_opts *opts);
void symbolizer__free(struct ht_symbolizer *s);

/* Resolve a return address (the call site is the byte before it). The
 * strings stay valid until symbolizer__free(). 0 or -ENOMEM. */
int symbolizer__resolve(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *out);

/*
 * Resolve a return address into its source-level frames, innermost first:
 * the functions inlined at the call site (inlined = true, each with the
 * file:line inside it), then the real function. Returns the number of
 * frames written (>= 1, at most max), or -errno.
 */
int symbolizer__resolve_inline(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *out,
			       int max);

/* What pprof's source view needs besides struct ht_frame. */
struct ht_frame_src {
	const char *path; /* the file, joined with the CU's comp_dir if relative */
	int start_line;   /* the function's first line (DW_AT_decl_line), 0 unknown */
};

/* symbolizer__resolve_inline(), and each frame's source into src[]
 * (which may be NULL). */
int symbolizer__resolve_src(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *out,
			    struct ht_frame_src *src, int max);

/* str kept as long as the symbolizer (one copy per distinct string), or
 * NULL (ENOMEM). */
const char *symbolizer__intern(struct ht_symbolizer *s, const char *str);

/* The object a return address is in, as pprof's Mapping describes it. */
struct ht_object {
	const char *path;      /* as the target sees it */
	uint64_t start, limit; /* its address range; 0 when not known */
	uint64_t file_offset;  /* of start */
	const char *build_id;  /* hex (symbolizer's string); NULL when it has none */
	bool program;          /* an executable (ET_EXEC or PIE), not a library */
};

/* 0, or -ENOENT when addr is in no module. */
int symbolizer__object(struct ht_symbolizer *s, uint64_t addr, struct ht_object *out);

/*
 * The name heaptrace shows for a symbol: without an ELF version suffix
 * ("memcpy@@GLIBC_2.14"), and C++ (_Z) and Rust (legacy _ZN...17h<hash>E
 * without the hash, v0 _R) names demangled, with parameter types.
 * Returns a malloc'd string, or NULL (errno ENOMEM).
 */
char *symbolizer__demangle(const char *name, bool no_demangle);

#endif
