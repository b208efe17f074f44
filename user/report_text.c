// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "report.h"
#include "stacks.h"
#include "symbolize.h"
#include "util.h"

struct table {
	const char *title;
	const char *empty;
	size_t field;        /* offsetof(struct ht_stats, ...) sorted on */
};

static uint64_t field(const struct ht_stats *s, size_t off)
{
	return *(const uint64_t *)((const char *)s + off);
}

static int cmp_rows(const void *a, const void *b, void *ctx)
{
	const struct ht_report_row *x = a, *y = b;
	size_t off = *(const size_t *)ctx;
	uint64_t vx = field(&x->s, off), vy = field(&y->s, off);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static void print_stack(FILE *f, const struct ht_report_input *in, uint32_t id)
{
	uint32_t nr = 0;
	const uint64_t *ips = stacks__get(in->stacks, id, &nr);

	if (!ips || !nr) {
		fprintf(f, "        [no stack captured]\n");
		return;
	}
	for (uint32_t i = 0; i < nr; i++) {
		struct ht_frame fr[HT_MAX_INLINE];
		int n = symbolizer__resolve_inline(in->sym, ips[i], fr, HT_MAX_INLINE);

		if (n < 1) {
			fprintf(f, "        0x%llx\n", (unsigned long long)ips[i]);
			continue;
		}
		for (int k = 0; k < n; k++) {
			const char *mod = fr[k].module ? strrchr(fr[k].module, '/') : NULL;

			fprintf(f, "        %s", fr[k].function);
			if (fr[k].file)
				fprintf(f, " (%s:%d)", fr[k].file, fr[k].line);
			if (mod)
				fprintf(f, " [%s]", mod + 1);
			if (fr[k].inlined)
				fputs(" (inlined)", f);
			fputc('\n', f);
		}
	}
}

static void print_row(FILE *f, const struct ht_report_input *in, size_t rank,
		      const struct ht_report_row *r, size_t off)
{
	char a[32], b[32], c[32];

	fprintf(f, "#%zu ", rank);
	if (off == offsetof(struct ht_stats, peak_bytes))
		fprintf(f, "%s in %llu blocks at peak", human_bytes(r->s.peak_bytes, a, sizeof(a)),
			(unsigned long long)r->s.peak_blocks);
	else if (off == offsetof(struct ht_stats, live_bytes))
		fprintf(f, "%s in %llu blocks live", human_bytes(r->s.live_bytes, a, sizeof(a)),
			(unsigned long long)r->s.live_blocks);
	else if (off == offsetof(struct ht_stats, allocs))
		fprintf(f, "%llu allocations, %s; %llu freed (%s)",
			(unsigned long long)r->s.allocs, human_bytes(r->s.alloc_bytes, a, sizeof(a)),
			(unsigned long long)r->s.frees, human_bytes(r->s.freed_bytes, b, sizeof(b)));
	else
		fprintf(f, "%llu temporary of %llu allocations (%s allocated)",
			(unsigned long long)r->s.temporary, (unsigned long long)r->s.allocs,
			human_bytes(r->s.alloc_bytes, c, sizeof(c)));
	fputc('\n', f);
	print_stack(f, in, r->stack);
}

static void print_table(FILE *f, const struct ht_report_input *in, struct ht_report_row *rows,
			size_t n, const struct table *t)
{
	size_t shown = 0;

	fprintf(f, "\n== %s ==\n", t->title);
	qsort_r(rows, n, sizeof(*rows), cmp_rows, (void *)&t->field);
	for (size_t i = 0; i < n && shown < in->top_n; i++) {
		if (!field(&rows[i].s, t->field))
			break;
		print_row(f, in, ++shown, &rows[i], t->field);
	}
	if (!shown)
		fprintf(f, "(%s)\n", t->empty);
	else if (shown < n && field(&rows[shown].s, t->field))
		fprintf(f, "... more stacks not shown (-n to show more)\n");
}

static void print_summary(FILE *f, const struct ht_report_input *in)
{
	struct ht_heap_totals t;
	char a[32], b[32], c[32], d[32];

	heap__totals(in->heap, &t);
	fprintf(f, "heaptrace: PID %d (%s), traced %.2f s", in->pid, in->command,
		in->duration_s);
	if (in->execed)
		fprintf(f, ", target exec'd another program (its old heap is gone)");
	else if (in->exit_known && WIFEXITED(in->exit_status))
		fprintf(f, ", target exited with status %d", WEXITSTATUS(in->exit_status));
	else if (in->exit_known && WIFSIGNALED(in->exit_status))
		fprintf(f, ", target killed by signal %d", WTERMSIG(in->exit_status));
	else if (in->exited)
		fprintf(f, ", target exited");
	fprintf(f, "\n");
	if (in->sample_bytes)
		fprintf(f, "sampled every %llu bytes on average: counts and sizes are estimates\n"
			"(allocations of %llu bytes or more are exact)\n",
			(unsigned long long)in->sample_bytes, (unsigned long long)in->sample_bytes);
	if (in->min_size && in->max_size)
		fprintf(f, "only allocations of %llu to %llu bytes were recorded (%llu left out)\n",
			(unsigned long long)in->min_size, (unsigned long long)in->max_size,
			(unsigned long long)in->loss.filtered);
	else if (in->min_size)
		fprintf(f, "only allocations of %llu bytes or more were recorded (%llu left out)\n",
			(unsigned long long)in->min_size, (unsigned long long)in->loss.filtered);
	else if (in->max_size)
		fprintf(f, "only allocations of at most %llu bytes were recorded (%llu left out)\n",
			(unsigned long long)in->max_size, (unsigned long long)in->loss.filtered);
	fprintf(f, "\n");
	fprintf(f, "  allocations   %12llu  %s\n", (unsigned long long)t.s.allocs,
		human_bytes(t.s.alloc_bytes, a, sizeof(a)));
	fprintf(f, "  frees         %12llu  %s\n", (unsigned long long)t.s.frees,
		human_bytes(t.s.freed_bytes, b, sizeof(b)));
	fprintf(f, "  %-13s %12llu  %s\n", in->exited ? "leaked" : "live",
		(unsigned long long)t.s.live_blocks, human_bytes(t.s.live_bytes, c, sizeof(c)));
	fprintf(f, "  peak          %12llu  %s\n", (unsigned long long)t.s.peak_blocks,
		human_bytes(t.s.peak_bytes, d, sizeof(d)));
	fprintf(f, "  temporary     %12llu\n", (unsigned long long)t.s.temporary);
	fprintf(f, "  unknown frees %12llu  (blocks allocated before tracing began)\n",
		(unsigned long long)t.unknown_frees);
	fprintf(f, "  lost events   %12llu\n", (unsigned long long)in->loss.lost_events);
	fprintf(f, "  stacks        %12u\n", stacks__count(in->stacks));
	if (in->loss.lost_events)
		fprintf(f, "\nWARNING: %llu events were lost (ring buffer full: %llu allocs, "
			"%llu frees); all numbers are lower bounds.\n",
			(unsigned long long)in->loss.lost_events,
			(unsigned long long)in->loss.ringbuf_full_allocs,
			(unsigned long long)in->loss.ringbuf_full_frees);
	if (in->loss.stacks_truncated)
		fprintf(f, "note: %llu stacks were cut at the depth limit (--max-depth)\n",
			(unsigned long long)in->loss.stacks_truncated);
	if (in->loss.stacks_cut_short > in->loss.stacks_truncated) {
		const struct ht_loss *l = &in->loss;

		/* shorter, never wrong: each ended where the next frame was not certain */
		fprintf(f, "note: stacks cut short: %llu (unreadable %llu, no mapping %llu, no table "
			"%llu, unfollowed CFI %llu, bad frame pointer %llu, uretprobe %llu, maps "
			"locked %llu)\n",
			(unsigned long long)(l->stacks_cut_short - l->stacks_truncated),
			(unsigned long long)l->stacks_broken, (unsigned long long)l->stacks_no_mapping,
			(unsigned long long)l->stacks_no_table, (unsigned long long)l->stacks_bad_rule,
			(unsigned long long)l->stacks_fp_invalid, (unsigned long long)l->stacks_uprobe,
			(unsigned long long)l->stacks_vma_busy);
	}
}

int report__text(FILE *f, const struct ht_report_input *in)
{
	const struct table tables[] = {
		{ "Peak: stacks holding the most memory when total live bytes was highest",
		  "nothing was live at the peak", offsetof(struct ht_stats, peak_bytes) },
		{ in->exited ? "Leaks: memory never freed before the target exited"
			     : "Live: memory held now",
		  in->exited ? "no leaks" : "nothing live", offsetof(struct ht_stats, live_bytes) },
		{ "Churn: stacks allocating most often", "no allocations",
		  offsetof(struct ht_stats, allocs) },
		{ "Temporary: blocks freed by their thread before its next allocation",
		  "no temporary allocations", offsetof(struct ht_stats, temporary) },
	};
	struct ht_report_row *rows;
	size_t n;
	int err;

	err = report__rows(in, &rows, &n);
	if (err)
		return err;
	print_summary(f, in);
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
		print_table(f, in, rows, n, &tables[i]);
	free(rows);
	return ferror(f) ? -EIO : 0;
}
