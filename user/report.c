// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include "report.h"
#include "target.h"

void report__input_from_session(struct ht_report_input *in, struct ht_session *s,
				unsigned int top_n)
{
	const struct ht_target *t = ht_session_target(s);

	in->heap = ht_session_heap(s);
	in->stacks = ht_session_stacks(s);
	in->sym = ht_session_symbolizer(s);
	in->pid = t->pid;
	in->command = t->command;
	in->exited = t->exited;
	in->execed = ht_session_execed(s);
	in->exit_known = t->launched && t->exited;
	in->exit_status = t->exit_status;
	in->duration_s = ht_session_duration(s);
	in->start_unix_ns = ht_session_start_time(s);
	ht_session_loss(s, &in->loss);
	in->top_n = top_n;
}

int report__rows(const struct ht_report_input *in, struct ht_report_row **rows, size_t *n)
{
	uint32_t nr = heap__nr_stacks(in->heap);
	struct ht_report_row *r = calloc(nr ? nr : 1, sizeof(*r));
	size_t k = 0;

	if (!r)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		heap__stack_stats(in->heap, i, &r[k].s);
		if (!r[k].s.allocs)
			continue;
		r[k++].stack = i;
	}
	*rows = r;
	*n = k;
	return 0;
}
