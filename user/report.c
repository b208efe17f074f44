// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include "report.h"

int report__rows(const struct ht_report_input *in, struct ht_report_row **rows, size_t *n)
{
	uint32_t nr = heap__nr_stacks(in->heap);
	struct ht_report_row *r = calloc(nr ? nr : 1, sizeof(*r));
	size_t k = 0;

	if (!r)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		heap__stack_stats(in->heap, i, &r[k].s);
		if (!r[k].s.allocs || (in->keep && !in->keep(i, in->keep_ctx)))
			continue;
		r[k++].stack = i;
	}
	*rows = r;
	*n = k;
	return 0;
}

void report__bounds(const struct ht_loss *l, struct report_bounds *out)
{
	uint64_t known = l->ringbuf_full_allocs + l->ringbuf_full_frees;
	uint64_t either = l->lost_events > known ? l->lost_events - known : 0;

	out->allocs_missing = l->ringbuf_full_allocs + either;
	out->frees_missing = l->ringbuf_full_frees + either;
}
