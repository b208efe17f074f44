/* SPDX-License-Identifier: MIT */
/* Reports of a heap profile: text for people, JSON for scripts. */
#ifndef HEAPTRACE_REPORT_H
#define HEAPTRACE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "heap.h"
#include "heaptrace.h"

struct ht_stacks;
struct ht_symbolizer;

/* Everything a report shows, gathered from a session. */
struct ht_report_input {
	const struct ht_heap *heap;
	const struct ht_stacks *stacks;
	struct ht_symbolizer *sym;
	int pid;
	const char *command;
	bool exited;          /* the target has exited (live = leaked) */
	bool execed;          /* the target exec'd another program */
	bool launched;        /* heaptrace started the target: it saw every call */
	bool exit_known;      /* exit_status is meaningful */
	int exit_status;      /* wait status */
	double duration_s;
	uint64_t start_unix_ns; /* wall clock when tracing began */
	uint64_t sample_bytes;  /* > 0: values are estimates from sampling */
	uint64_t min_size, max_size;  /* only these sizes were recorded (0: no limit) */
	struct ht_loss loss;
	unsigned int top_n;   /* rows per table in the text report */
	/* Only stacks keep() accepts (NULL: all). */
	bool (*keep)(uint32_t stack, void *ctx);
	void *keep_ctx;
	const struct ht_stats *since;       /* churn baseline per stack, or NULL */
	uint32_t nsince;
	const struct ht_stats *since_totals;
};


int report__text(FILE *f, const struct ht_report_input *in);
int report__json(FILE *f, const struct ht_report_input *in);

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

#endif
