// SPDX-License-Identifier: MIT
/* The walks over a profile that every report shares. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "stacks.h"
#include "symbolize.h"

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

static const char *const metric_names[__HT_M_MAX] = {
	[HT_M_LIVE_BYTES] = "live_bytes",
	[HT_M_PEAK_BYTES] = "peak_bytes",
	[HT_M_ALLOC_BYTES] = "alloc_bytes",
	[HT_M_ALLOCS] = "allocs",
};

const char *report__metric_name(enum ht_metric m)
{
	return (unsigned int)m < __HT_M_MAX ? metric_names[m] : NULL;
}

uint64_t report__metric_value(const struct ht_stats *s, enum ht_metric m)
{
	switch (m) {
	case HT_M_LIVE_BYTES:
		return s->live_bytes;
	case HT_M_PEAK_BYTES:
		return s->peak_bytes;
	case HT_M_ALLOC_BYTES:
		return s->alloc_bytes;
	case HT_M_ALLOCS:
		return s->allocs;
	default:
		return 0;
	}
}

void report__named_stacks_free(struct ht_named_stacks *ns)
{
	free(ns->v);
	free(ns->names);
	free(ns->modules);
	memset(ns, 0, sizeof(*ns));
}

int report__named_stacks(const struct ht_report_input *in, enum ht_metric m,
			 struct ht_named_stacks *out)
{
	size_t n, nframes = 0, k = 0, off = 0;
	struct ht_report_row *rows;
	int err;

	memset(out, 0, sizeof(*out));
	if ((unsigned int)m >= __HT_M_MAX)
		return -EINVAL;
	err = report__rows(in, &rows, &n);
	if (err)
		return err;
	/* Size everything first: the frame arrays never move afterwards. */
	for (size_t i = 0; i < n; i++) {
		uint32_t nr = 0;

		if (!report__metric_value(&rows[i].s, m))
			continue;
		stacks__get(in->stacks, rows[i].stack, &nr);
		nframes += nr ? nr : 1;
		k++;
	}
	out->v = calloc(k ? k : 1, sizeof(*out->v));
	out->names = calloc(nframes ? nframes : 1, sizeof(*out->names));
	out->modules = calloc(nframes ? nframes : 1, sizeof(*out->modules));
	if (!out->v || !out->names || !out->modules) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ht_named_stack *st = &out->v[out->n];
		uint64_t v = report__metric_value(&rows[i].s, m);
		const uint64_t *ips;
		uint32_t nr = 0;

		if (!v)
			continue;
		ips = stacks__get(in->stacks, rows[i].stack, &nr);
		st->names = &out->names[off];
		st->modules = &out->modules[off];
		st->value = v;
		st->nr = nr;
		if (!ips || !nr) {
			st->names[0] = "[no stack]";
			st->nr = 1;
		}
		for (uint32_t j = 0; ips && j < nr; j++) {
			struct ht_frame fr;

			err = symbolizer__resolve(in->sym, ips[j], &fr);
			if (err)
				goto out;
			/* Innermost first in the table, outermost first here. */
			st->names[nr - 1 - j] = fr.function;
			st->modules[nr - 1 - j] = fr.module;
		}
		off += st->nr;
		out->n++;
	}
out:
	free(rows);
	if (err)
		report__named_stacks_free(out);
	return err;
}

void report__bounds(const struct ht_loss *l, struct report_bounds *out)
{
	uint64_t known = l->ringbuf_full_allocs + l->ringbuf_full_frees + l->ringbuf_full_execs;
	uint64_t either = l->lost_events > known ? l->lost_events - known : 0;

	out->allocs_missing = l->ringbuf_full_allocs + either;
	out->frees_missing = l->ringbuf_full_frees + either;
}
