/* SPDX-License-Identifier: MIT */
/*
 * The inside of a session, shared by its two rooms: session.c (the
 * lifecycle - open, start, poll, stop, close - and the accessors and
 * reports of heaptrace.h) and sink.c (the event sink the stream feeds:
 * allocations, frees and execs into the stack table and the heap model).
 */
#ifndef HEAPTRACE_SESSION_H
#define HEAPTRACE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "allocators.h"
#include "allocators_watch.h"
#include "cfimaps.h"
#include "events.h"
#include "heaptrace.h"
#include "log.h"
#include "probes.h"
#include "stream.h"
#include "target.h"

struct ht_session {
	struct ht_session_opts opts;
	struct ht_log log;              /* opts.verbosity's level */
	struct ht_target target;
	struct ht_modules *mods;        /* the target's objects: probed, unwound, named */
	struct ht_probe_set set;
	struct ht_probes *probes;
	struct ht_stream *stream;
	struct ht_heap *heap;
	struct ht_stacks *stacks;
	struct ht_mappings *maps;       /* --mmap: anonymous mappings, or NULL */
	struct ht_stacks *map_stacks;   /* ... and the stacks that mapped them */
	uint64_t map_errors;            /* mmap records the model had no memory for */
	struct ht_symbolizer *sym;
	struct ht_unwinder *unwinder;
	struct ht_cfimaps *cfi;         /* --unwind cfi: the tables in BPF maps */
	size_t cfi_done;                /* modules seen by session__cfi_sync */
	struct ht_cfi_totals cfi_tot;   /* kept after the maps are gone */
	uint64_t *frames;               /* scratch for one unwound stack */
	uint64_t *unmapped_pages;       /* code pages known not to be in a file */
	size_t nunmapped, cap_unmapped;
	uint64_t placed[1024];          /* frames found in mods lately, by hash */
	bool new_objects;               /* the sink's map reads added objects */
	bool started, stopped;
	bool launch_exec_seen;          /* the launch's own execve */
	bool execed;                    /* the target replaced its program */
	char exec_chain[1024];          /* launch mode: the programs run before
					 * this one, "env > nice" */
	uint64_t execs_seen;            /* exec records read */
	uint64_t start_ns, end_ns;
	uint64_t start_unix_ns;
	uint64_t model_errors;
	uint64_t frozen_bad;
	int frozen_record_err;
	uint64_t frozen_counters[__HT_C_MAX];
	ht_observer_fn observer;
	void *observer_ctx;
	int observer_err;               /* first error an observer returned */
	uint64_t rng;                   /* rounding of sample weights */
	struct ht_alloc_opts aopts;     /* --allocator, --symbol-prefix */
	char alloc_desc[512];           /* what is traced, for people */
	uint64_t next_maps_check;       /* when to look for new objects */
	struct ht_alloc_watch watch;    /* RssAnon, traced calls seen */
	uint64_t dl_changes;            /* link-map announcements handled */
	size_t npoints_at_start;        /* points found before tracing began */
	uint64_t late_unknown_frees;    /* unknown frees through points found later */
};

/*
 * A launched command exec'd another program (env, nice, sh -c ...): trace
 * that one from its first allocation (session.c).
 */
void session__follow_exec(struct ht_session *s);

/* --unwind cfi: load the unwind tables of objects the module table got
 * since the last call. */
void session__cfi_sync(struct ht_session *s);

/* CLOCK_MONOTONIC in ns (session.c). */
uint64_t session__now_ns(void);

/* The event sink (sink.c): what the stream calls for each record. */
extern const struct ht_stream_ops sink__ops;

/*
 * Has the target exec'd beyond the events read so far? Then its maps show
 * the new program, and reading them would name the old program's
 * addresses after the new one's code.
 */
static inline bool session__maps_replaced(const struct ht_session *s)
{
	return s->execed || (s->probes && probes__exec_count(s->probes) != s->execs_seen);
}

#endif
