/* SPDX-License-Identifier: MIT */
/*
 * Reports of a heap profile: text for people, JSON for scripts, and exports
 * to other tools' formats: folded stacks (flamegraph.pl, speedscope,
 * inferno), a self-contained SVG flame graph, pprof's gzip-compressed
 * profile.proto, and DHAT's JSON for dh_view.html. All of them walk the
 * same struct ht_report_input; none changes it (the symbolizer's cache
 * aside). report.c holds the walks they share.
 */
#ifndef HEAPTRACE_REPORT_H
#define HEAPTRACE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "heap.h"
#include "heaptrace.h"
#include "mappings.h"
#include "symbolize.h"

struct ht_alloc_refused;
struct ht_report_stack;
struct ht_stacks;
struct ht_symbolizer;

/* --mmap: what the BPF side could not record of the mapping calls. */
struct report_map_loss {
	uint64_t ringbuf_full_maps;    /* mmap records the ring had no room for */
	uint64_t ringbuf_full_changes; /* munmap/mremap records */
	uint64_t no_thread_state;      /* mmaps missed: no per-thread state */
	uint64_t failed_unmaps;        /* munmaps recorded at entry that failed */
	uint64_t stacks_cut_short;     /* mmap stacks that ended early (not a loss) */
	uint64_t model_errors;         /* records the model had no memory for */
};

/* Everything a report shows, gathered from a session. */
struct ht_report_input {
	const struct ht_heap *heap;
	const struct ht_stacks *stacks;
	struct ht_symbolizer *sym;
	/* the target and how it was traced: exited means live = leaked; with
	 * launched, heaptrace saw every call; sample_bytes > 0: estimates */
	struct ht_target_info target;
	struct ht_loss loss;
	/* What heaptrace cannot see: the process's anonymous memory (RssAnon,
	 * now or at its exit) next to traced live bytes; and, for a run with
	 * no traced call, the objects that define malloc. */
	bool rss_anon_known;
	uint64_t rss_anon;
	const char *malloc_defs;
	uint64_t late_unknown_frees;  /* unknown frees by allocators traced late */
	/* Allocators found but not traced (pymalloc inlined into python3.11) */
	const struct ht_alloc_refused *untraced;
	size_t nuntraced;
	/* --mmap (text and JSON only): the anonymous mappings and the stacks
	 * that mapped them; NULL when off */
	const struct ht_mappings *maps;
	const struct ht_stacks *map_stacks;
	struct report_map_loss map_loss;
	unsigned int top_n;   /* rows per table in the text report */
	/* Only stacks keep() accepts (NULL: all). */
	bool (*keep)(uint32_t stack, void *ctx);
	void *keep_ctx;
	bool interval;        /* JSON: churn since the heap's interval mark too */
	double older_than_s;  /* text Live/Leaks: only blocks at least this old (0: all) */
	bool short_names;     /* template arguments collapsed (not in JSON) */
	/* Allocator frames: see report__stack(). */
	bool keep_alloc_frames;
	const char *const *alloc_fns;       /* the program's own wrappers (globs) */
	size_t nalloc_fns;
};

int report__text(FILE *f, const struct ht_report_input *in);
int report__json(FILE *f, const struct ht_report_input *in);

/* A stack's or the totals' statistics as JSON members (no braces). */
void report__json_stats(FILE *f, const struct ht_stats *s);

/* The text report's summary: totals, what is unseen, what was lost. */
void report__summary_text(FILE *f, const struct ht_report_input *in);

/* One self-contained HTML page (inline script, no external reference):
 * summary, memory over time by top stacks, flame graphs, tables. */
int report__html(FILE *f, const struct ht_report_input *in);

/* "live_bytes", "peak_bytes", "alloc_bytes", "allocs" (used in file
 * names); NULL for an unknown metric. */
const char *report__metric_name(enum ht_metric m);

/* The metric's value in one stack's statistics. */
uint64_t report__metric_value(const struct ht_stats *s, enum ht_metric m);

/* "stack;frames;outermost;first value" lines, identical symbolized stacks
 * merged, sorted bytewise. */
int report__folded(FILE *f, const struct ht_report_input *in, enum ht_metric m);

/* An interactive flame graph (SVG with inline script, no external refs). */
int report__svg(FILE *f, const struct ht_report_input *in, enum ht_metric m);

/* pprof: perftools.profiles.Profile, gzip-compressed. */
int report__pprof(FILE *f, const struct ht_report_input *in);

/* DHAT's JSON (dhatFileVersion 2), as Valgrind's dh_view.html loads it. */
int report__dhat(FILE *f, const struct ht_report_input *in);

/* --- shared by the reports ------------------------------------------- */

/* What heaptrace cannot see (report_unseen.c): the summary's RssAnon line
 * and no-calls warning, and the JSON "memory" group (with its trailing
 * comma and newline). */
void report__unseen_text(FILE *f, const struct ht_report_input *in,
			 const struct ht_heap_totals *t);
void report__unseen_json(FILE *f, const struct ht_report_input *in,
			 const struct ht_heap_totals *t);

/* The stack id symbolized as the text report lists it (report_text.c),
 * and as the JSON "frames" array (report_json.c); st is reused. */
int report__text_stack(FILE *f, const struct ht_report_input *in, uint32_t id,
		       struct ht_report_stack *st);
void report__json_frames(FILE *f, const struct ht_report_stack *st);

/* --mmap (report_mappings.c): the Mappings table at the end of the text
 * report, and the JSON "mappings" group (null when off, with its trailing
 * comma and newline). Stacks are in->map_stacks'. 0 or -errno. */
int report__mappings_text(FILE *f, const struct ht_report_input *in,
			  struct ht_report_stack *st);
int report__mappings_json(FILE *f, const struct ht_report_input *in,
			  struct ht_report_stack *st);

/* One row per stack with its statistics, for exporters. */
struct ht_report_row {
	uint32_t stack;
	struct ht_stats s;
};

/*
 * How far the totals can be off after a loss. A lost allocation record
 * leaves allocations and live blocks short; a lost free leaves frees short
 * and live blocks too high. Losses of an unknown kind (no thread state,
 * bad records, model errors) count on both sides.
 */
struct report_bounds {
	uint64_t allocs_missing;   /* allocations (and live blocks) short by at most */
	uint64_t frees_missing;    /* frees short, live blocks too high, by at most */
};

void report__bounds(const struct ht_loss *l, struct report_bounds *out);

/* All stacks that ever allocated; *rows is malloc'ed. -ENOMEM on failure. */
int report__rows(const struct ht_report_input *in, struct ht_report_row **rows,
		 size_t *n);

/* The report's moment: ms since tracing began. */
uint64_t report__now_ms(const struct ht_report_input *in);

/* Each stack's live blocks by age at that moment (old_*: at least
 * in->older_than_s old); *ages is malloc'ed, one per stack id. */
int report__ages(const struct ht_report_input *in, struct ht_live_age **ages);

/* One stack with a non-zero metric, symbolized for a flame graph: the
 * frames report__stack() shows, outermost first (strings owned by the
 * symbolizer, or literals). */
struct ht_named_stack {
	const char **names;
	const char **modules;   /* per frame; NULL entries when unmapped */
	const uint8_t *kinds;   /* per frame: enum report_code */
	uint32_t nr;            /* >= 1: a stack never captured is "[no stack]" */
	uint64_t value;
};

/* Whose code a frame is, for colours. */
enum report_code {
	REPORT_CODE_UNKNOWN,    /* unmapped (JIT code without a perf map, junk) */
	REPORT_CODE_PROGRAM,    /* the executable: the program's own code */
	REPORT_CODE_LIBRARY,    /* a shared library */
	REPORT_CODE_ALLOCATOR,  /* an allocator frame, when they are kept */
};

struct ht_named_stacks {
	struct ht_named_stack *v;
	size_t n;
	const char **names;     /* storage behind every v[i].names */
	const char **modules;
	uint8_t *kinds;
};

/* Every stack whose metric m is non-zero, in stack id order. 0 or -errno;
 * free with report__named_stacks_free() either way. */
int report__named_stacks(const struct ht_report_input *in, enum ht_metric m,
			 struct ht_named_stacks *out);
void report__named_stacks_free(struct ht_named_stacks *ns);

/*
 * A flame graph's tree (report_svg.c, report_html.c): the stacks merged by
 * frame name, in preorder (a parent before its children, siblings in name
 * order), v[0] the root "all".
 */
struct ht_flame_node {
	const char *name;
	const char *module;          /* of the first stack that reached it */
	uint8_t kind;                /* enum report_code, the same way */
	uint64_t value;
	uint64_t off;                /* left edge, in metric units */
	uint64_t next;               /* left edge of the next child placed */
	uint32_t parent, depth;
};

struct ht_flame {
	struct ht_flame_node *v;
	size_t n, cap;
	uint32_t max_depth;
};

/* Build t from ns (sorted in place). 0 or -errno; free t either way. */
int report__flame_build(struct ht_flame *t, struct ht_named_stacks *ns);
void report__flame_free(struct ht_flame *t);

/* One source-level frame of a symbolized stack. */
struct ht_report_frame {
	struct ht_frame fr;     /* fr.address: the return address it belongs to */
	struct ht_frame_src src;
	uint32_t pos;           /* its place among that address's frames, innermost 0 */
	bool alloc;             /* in the allocator or an allocation wrapper */
};

/*
 * A stack symbolized for a report, innermost first: at each return
 * address the functions inlined there, innermost first, then the function
 * they were inlined into. The leading run of allocator frames (operator
 * new and its variants, strdup-style libc wrappers, the malloc family,
 * frames in an allocator library, and in->alloc_fns) is marked alloc;
 * frames [first, n) are what the exporters show: all of them with
 * in->keep_alloc_frames, else all but that run (at least one frame is
 * always shown). n is 0 for a stack that was never captured. With
 * in->short_names, function names have their template arguments
 * collapsed (report__short_name()).
 */
struct ht_report_stack {
	struct ht_report_frame *v;
	uint32_t n, first;
	size_t cap;
};

/* Symbolize stack id into st (reused across calls). 0 or -errno. */
int report__stack(const struct ht_report_input *in, uint32_t id, struct ht_report_stack *st);
void report__stack_free(struct ht_report_stack *st);

/* s as a JSON string, quoted ("null" for NULL), valid UTF-8 whatever
 * bytes s holds: a byte that starts no valid sequence becomes U+FFFD. */
void report__json_str(FILE *f, const char *s);
/* The same without the quotes, to build one string from several parts. */
void report__json_chars(FILE *f, const char *s);
/* report__json_str() for JSON inside an HTML <script>: '<' as \u003c. */
void report__json_html_str(FILE *f, const char *s);

/* At most max characters of s as XML 1.0 text or attribute content:
 * markup escaped, invalid UTF-8 and control characters as '?'. */
void report__xml_put(FILE *f, const char *s, size_t max);

/*
 * A name for a label: s with every template argument list collapsed
 * ("std::vector<long, std::allocator<long> >::push_back(long&&)" gives
 * "std::vector<>::push_back(long&&)"), into buf (cut at len - 1).
 */
void report__short_name(const char *s, char *buf, size_t len);

/* Characters (not bytes) in s: labels are cut by what fits on screen. */
size_t report__utf8_chars(const char *s);
/* Bytes of the character at s (1 for a byte that starts none). */
size_t report__utf8_len_at(const char *s);

#endif
