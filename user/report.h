/* SPDX-License-Identifier: MIT */
/*
 * Reports of a heap profile: what every report and export reads (struct
 * ht_report_input), the text report for people, the JSON report for
 * scripts and the per-stack rows the exports share; the exports
 * themselves are in report_formats.h.
 */
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

/* All stacks that ever allocated; *rows is malloc'ed. -ENOMEM on failure. */
int report__rows(const struct ht_report_input *in, struct ht_report_row **rows,
		 size_t *n);

#endif
