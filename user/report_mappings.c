// SPDX-License-Identifier: MIT
/*
 * --mmap in the text and JSON reports: the Mappings table, anonymous
 * memory mapped by stack - a view of its own, never in the heap totals.
 */
#include <errno.h>
#include <stdlib.h>
#include "report.h"
#include "util.h"

struct map_row {
	uint32_t stack;
	struct ht_map_stats s;
};

/* Mapped now first, then what was mapped in all; then by id. */
static int cmp_map_rows(const void *a, const void *b)
{
	const struct map_row *x = a, *y = b;

	if (x->s.mapped_bytes != y->s.mapped_bytes)
		return x->s.mapped_bytes > y->s.mapped_bytes ? -1 : 1;
	if (x->s.mmap_bytes != y->s.mmap_bytes)
		return x->s.mmap_bytes > y->s.mmap_bytes ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* The stacks that mapped something, sorted; *rows is malloc'ed. */
static int map_rows(const struct ht_report_input *in, struct map_row **rows, size_t *n)
{
	uint32_t nr = mappings__nr_stacks(in->maps);
	struct map_row *r = calloc(nr ? nr : 1, sizeof(*r));
	size_t k = 0;

	if (!r)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		mappings__stack_stats(in->maps, i, &r[k].s);
		if (!r[k].s.mmaps && !r[k].s.mapped_bytes)
			continue;
		r[k++].stack = i;
	}
	qsort(r, k, sizeof(*r), cmp_map_rows);
	*rows = r;
	*n = k;
	return 0;
}

/* Records lost: the table's numbers may be off (either way). */
static uint64_t map_lost(const struct report_map_loss *l, const struct ht_map_totals *t)
{
	return l->ringbuf_full_maps + l->ringbuf_full_changes + l->no_thread_state +
	       l->failed_unmaps + l->model_errors + t->model_errors;
}

/* The report input with the mapping stacks as its stacks. */
static struct ht_report_input map_input(const struct ht_report_input *in)
{
	struct ht_report_input mi = *in;

	mi.stacks = in->map_stacks;
	return mi;
}

int report__mappings_text(FILE *f, const struct ht_report_input *in,
			  struct ht_report_stack *st)
{
	struct ht_report_input mi = map_input(in);
	const struct report_map_loss *l = &in->map_loss;
	struct ht_map_totals t;
	struct map_row *rows;
	char a[32], b[32], c[32], d[32];
	size_t n, shown;
	int err;

	err = map_rows(in, &rows, &n);
	if (err)
		return err;
	mappings__totals(in->maps, &t);
	fputs("\n== Mappings: anonymous memory mapped by stack (mmap, munmap, mremap; not in the "
	      "heap totals) ==\n",
	      f);
	fprintf(f, "%s mapped in %llu ranges%s, peak %s; %llu mmap, %llu munmap, %llu mremap calls\n",
		human_bytes(t.s.mapped_bytes, a, sizeof(a)), (unsigned long long)t.s.ranges,
		in->target.exited ? " at exit" : "", human_bytes(t.s.max_bytes, b, sizeof(b)),
		(unsigned long long)t.s.mmaps, (unsigned long long)t.s.munmaps,
		(unsigned long long)t.s.mremaps);
	if (t.unknown_unmaps || t.unknown_remaps)
		fprintf(f, "%llu munmap and %llu mremap calls of memory not seen mapped anonymous "
			   "(file mappings, or mapped before tracing)\n",
			(unsigned long long)t.unknown_unmaps, (unsigned long long)t.unknown_remaps);
	if (t.replaced_bytes)
		fprintf(f, "%s of mappings replaced by mappings put over them (MAP_FIXED)\n",
			human_bytes(t.replaced_bytes, a, sizeof(a)));
	for (shown = 0; shown < n && shown < in->top_n && !err; shown++) {
		const struct ht_map_stats *s = &rows[shown].s;

		fprintf(f, "#%zu %s mapped in %llu %s (peak %s); %llu mmap (%s), %llu munmap (%s), "
			   "%llu mremap\n",
			shown + 1, human_bytes(s->mapped_bytes, a, sizeof(a)),
			(unsigned long long)s->ranges, s->ranges == 1 ? "range" : "ranges",
			human_bytes(s->max_bytes, b, sizeof(b)), (unsigned long long)s->mmaps,
			human_bytes(s->mmap_bytes, c, sizeof(c)), (unsigned long long)s->munmaps,
			human_bytes(s->munmap_bytes, d, sizeof(d)), (unsigned long long)s->mremaps);
		err = report__text_stack(f, &mi, rows[shown].stack, st);
	}
	if (!err && !n)
		fputs("(no anonymous mappings)\n", f);
	else if (!err && shown < n)
		fputs("... more stacks not shown (-n to show more)\n", f);
	if (map_lost(l, &t))
		fprintf(f, "WARNING: %llu mapping records were lost (ring buffer full: %llu mmap, "
			   "%llu munmap/mremap; no thread state %llu; munmaps that failed %llu; model "
			   "errors %llu): mapped bytes may be off either way\n",
			(unsigned long long)map_lost(l, &t), (unsigned long long)l->ringbuf_full_maps,
			(unsigned long long)l->ringbuf_full_changes,
			(unsigned long long)l->no_thread_state, (unsigned long long)l->failed_unmaps,
			(unsigned long long)(l->model_errors + t.model_errors));
	if (l->stacks_cut_short)
		fprintf(f, "note: %llu mmap stacks were cut short\n",
			(unsigned long long)l->stacks_cut_short);
	free(rows);
	return err;
}

static void json_map_stats(FILE *f, const struct ht_map_stats *s)
{
	fprintf(f, "\"mapped_bytes\": %llu, \"ranges\": %llu, \"max_mapped_bytes\": %llu, "
		   "\"mmaps\": %llu, \"mmap_bytes\": %llu, \"munmaps\": %llu, \"munmap_bytes\": %llu, "
		   "\"mremaps\": %llu",
		(unsigned long long)s->mapped_bytes, (unsigned long long)s->ranges,
		(unsigned long long)s->max_bytes, (unsigned long long)s->mmaps,
		(unsigned long long)s->mmap_bytes, (unsigned long long)s->munmaps,
		(unsigned long long)s->munmap_bytes, (unsigned long long)s->mremaps);
}

int report__mappings_json(FILE *f, const struct ht_report_input *opts,
			  struct ht_report_stack *st)
{
	struct ht_report_input mi;
	const struct report_map_loss *l = &opts->map_loss;
	struct ht_map_totals t;
	struct map_row *rows;
	size_t n;
	int err;

	if (!opts->maps) {
		fputs("  \"mappings\": null,\n", f);
		return 0;
	}
	mi = map_input(opts);
	err = map_rows(&mi, &rows, &n);
	if (err)
		return err;
	mappings__totals(mi.maps, &t);
	fputs("  \"mappings\": { \"totals\": { ", f);
	json_map_stats(f, &t.s);
	fprintf(f, ", \"peak_bytes\": %llu, \"unknown_unmaps\": %llu, \"unknown_remaps\": %llu, "
		   "\"replaced_bytes\": %llu },\n",
		(unsigned long long)t.s.max_bytes,
		(unsigned long long)t.unknown_unmaps, (unsigned long long)t.unknown_remaps,
		(unsigned long long)t.replaced_bytes);
	fprintf(f, "    \"loss\": { \"ringbuf_full_maps\": %llu, \"ringbuf_full_changes\": %llu, "
		   "\"no_thread_state\": %llu, \"failed_unmaps\": %llu, \"model_errors\": %llu, "
		   "\"lost_events\": %llu, \"stacks_cut_short\": %llu },\n    \"stacks\": [",
		(unsigned long long)l->ringbuf_full_maps, (unsigned long long)l->ringbuf_full_changes,
		(unsigned long long)l->no_thread_state, (unsigned long long)l->failed_unmaps,
		(unsigned long long)(l->model_errors + t.model_errors),
		(unsigned long long)map_lost(l, &t), (unsigned long long)l->stacks_cut_short);
	for (size_t i = 0; i < n && !err; i++) {
		err = report__stack(&mi, rows[i].stack, st);
		if (err)
			break;
		fputs(i ? ",\n    { " : "\n    { ", f);
		report__json_frames(f, st);
		fputs(",\n      ", f);
		json_map_stats(f, &rows[i].s);
		fputs(" }", f);
	}
	fputs(" ] },\n", f);
	free(rows);
	return err;
}
