// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "report.h"
#include "stacks.h"
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

int report__text_stack(FILE *f, const struct ht_report_input *in, uint32_t id,
		       struct ht_report_stack *st)
{
	int err = report__stack(in, id, st);

	if (err)
		return err;
	if (!st->n)
		fprintf(f, "        [no stack captured]\n");
	for (uint32_t i = 0; i < st->n; i++) {
		const struct ht_frame *fr = &st->v[i].fr;
		const char *mod = fr->module ? strrchr(fr->module, '/') : NULL;

		fprintf(f, "        %s", fr->function);
		if (fr->file)
			fprintf(f, " (%s:%d)", fr->file, fr->line);
		if (mod)
			fprintf(f, " [%s]", mod + 1);
		if (fr->inlined)
			fputs(" (inlined)", f);
		fputc('\n', f);
	}
	return 0;
}

/* What the rows need beyond their statistics. */
struct text_ctx {
	struct ht_report_stack st;
	const struct ht_live_age *ages;  /* per stack */
	uint64_t now_ms;
};

static int print_row(FILE *f, const struct ht_report_input *in, size_t rank,
		     const struct ht_report_row *r, size_t off, struct text_ctx *cx)
{
	const struct ht_live_age *age = &cx->ages[r->stack];
	char a[32], b[32], c[32];

	fprintf(f, "#%zu ", rank);
	if (off == offsetof(struct ht_stats, peak_bytes))
		fprintf(f, "%s in %llu %s at peak", human_bytes(r->s.peak_bytes, a, sizeof(a)),
			(unsigned long long)r->s.peak_blocks, r->s.peak_blocks == 1 ? "block" : "blocks");
	else if (off == offsetof(struct ht_stats, live_bytes))
		fprintf(f, "%s in %llu %s live", human_bytes(r->s.live_bytes, a, sizeof(a)),
			(unsigned long long)r->s.live_blocks, r->s.live_blocks == 1 ? "block" : "blocks");
	else if (off == offsetof(struct ht_stats, allocs))
		fprintf(f, "%llu %s, %s; %llu freed (%s)", (unsigned long long)r->s.allocs,
			r->s.allocs == 1 ? "allocation" : "allocations", human_bytes(r->s.alloc_bytes, a, sizeof(a)),
			(unsigned long long)r->s.frees, human_bytes(r->s.freed_bytes, b, sizeof(b)));
	else
		fprintf(f, "%llu temporary of %llu %s (%s allocated)",
			(unsigned long long)r->s.temporary, (unsigned long long)r->s.allocs,
			r->s.allocs == 1 ? "allocation" : "allocations",
			human_bytes(r->s.alloc_bytes, c, sizeof(c)));
	if (off == offsetof(struct ht_stats, live_bytes) && age->oldest_ms != UINT64_MAX)
		fprintf(f, ", the oldest %.1f s old",
			(double)(cx->now_ms > age->oldest_ms ? cx->now_ms - age->oldest_ms : 0) /
				1e3);
	fputc('\n', f);
	return report__text_stack(f, in, r->stack, &cx->st);
}

static int print_table(FILE *f, const struct ht_report_input *in, struct ht_report_row *rows,
		       size_t n, const struct table *t, struct text_ctx *cx)
{
	size_t shown = 0;
	int err;

	fprintf(f, "\n== %s", t->title);
	if (t->field == offsetof(struct ht_stats, live_bytes) && in->older_than_s > 0)
		fprintf(f, " (only blocks at least %g s old)", in->older_than_s);
	fputs(" ==\n", f);
	qsort_r(rows, n, sizeof(*rows), cmp_rows, (void *)&t->field);
	for (size_t i = 0; i < n && shown < in->top_n; i++) {
		if (!field(&rows[i].s, t->field))
			break;
		err = print_row(f, in, ++shown, &rows[i], t->field, cx);
		if (err)
			return err;
	}
	if (!shown)
		fprintf(f, "(%s)\n", t->empty);
	else if (shown < n && field(&rows[shown].s, t->field))
		fprintf(f, "... more stacks not shown (-n to show more)\n");
	return 0;
}

/* --older-than: the live values of each row become those of its blocks
 * that old (the tables after Live do not show live values). */
static void older_only(struct ht_report_row *rows, size_t n, const struct ht_live_age *ages)
{
	for (size_t i = 0; i < n; i++) {
		rows[i].s.live_blocks = ages[rows[i].stack].old_blocks;
		rows[i].s.live_bytes = ages[rows[i].stack].old_bytes;
	}
}

void report__summary_text(FILE *f, const struct ht_report_input *in)
{
	struct ht_heap_totals t;
	char a[32], b[32], c[32], d[32];

	heap__totals(in->heap, &t);
	fprintf(f, "heaptrace: PID %d (%s), traced %.2f s", in->target.pid, in->target.command,
		in->target.duration_s);
	if (in->target.execed)
		fprintf(f, ", target exec'd another program (its old heap is gone)");
	else if (in->target.exit_known && WIFEXITED(in->target.exit_status))
		fprintf(f, ", target exited with status %d", WEXITSTATUS(in->target.exit_status));
	else if (in->target.exit_known && WIFSIGNALED(in->target.exit_status))
		fprintf(f, ", target killed by signal %d", WTERMSIG(in->target.exit_status));
	else if (in->target.exited)
		fprintf(f, ", target exited");
	fprintf(f, "\n");
	if (in->target.exec_chain && *in->target.exec_chain)
		fprintf(f, "run by %s, which exec'd it: this report is of %s from its start\n",
			in->target.exec_chain, in->target.command);
	if (in->target.sample_bytes)
		fprintf(f, "sampled every %llu bytes on average: counts and sizes are estimates\n"
			"(allocations of %llu bytes or more are exact)\n",
			(unsigned long long)in->target.sample_bytes, (unsigned long long)in->target.sample_bytes);
	if (in->target.min_size && in->target.max_size)
		fprintf(f, "only allocations of %llu to %llu bytes were recorded (%llu left out)\n",
			(unsigned long long)in->target.min_size, (unsigned long long)in->target.max_size,
			(unsigned long long)in->loss.filtered);
	else if (in->target.min_size)
		fprintf(f, "only allocations of %llu bytes or more were recorded (%llu left out)\n",
			(unsigned long long)in->target.min_size, (unsigned long long)in->loss.filtered);
	else if (in->target.max_size)
		fprintf(f, "only allocations of at most %llu bytes were recorded (%llu left out)\n",
			(unsigned long long)in->target.max_size, (unsigned long long)in->loss.filtered);
	fprintf(f, "\n");
	fprintf(f, "  allocations   %12llu  %s\n", (unsigned long long)t.s.allocs,
		human_bytes(t.s.alloc_bytes, a, sizeof(a)));
	fprintf(f, "  frees         %12llu  %s\n", (unsigned long long)t.s.frees,
		human_bytes(t.s.freed_bytes, b, sizeof(b)));
	fprintf(f, "  %-13s %12llu  %s\n", in->target.exited ? "leaked" : "live",
		(unsigned long long)t.s.live_blocks, human_bytes(t.s.live_bytes, c, sizeof(c)));
	fprintf(f, "  peak          %12llu  %s\n", (unsigned long long)t.s.peak_blocks,
		human_bytes(t.s.peak_bytes, d, sizeof(d)));
	fprintf(f, "  temporary     %12llu\n", (unsigned long long)t.s.temporary);
	/* Launched, heaptrace saw every call from the start: what is left are
	 * the allocator's own blocks (glibc frees its per-thread cache, and
	 * the chunks it still holds, at thread exit). */
	fprintf(f, "  unknown frees %12llu  (%s)\n", (unsigned long long)t.unknown_frees,
		in->target.launched ? "the allocator's own blocks, e.g. glibc's thread cache at thread exit"
			     : "blocks allocated before tracing began, or the allocator's own");
	fprintf(f, "  lost events   %12llu\n", (unsigned long long)in->loss.lost_events);
	fprintf(f, "  stacks        %12u\n", stacks__count(in->stacks));
	report__unseen_text(f, in, &t);
	if (in->loss.lost_events) {
		struct report_bounds bd;

		report__bounds(&in->loss, &bd);
		fprintf(f, "\nWARNING: %llu events were lost (ring buffer full: %llu allocs, "
			"%llu frees):\n", (unsigned long long)in->loss.lost_events,
			(unsigned long long)in->loss.ringbuf_full_allocs,
			(unsigned long long)in->loss.ringbuf_full_frees);
		fprintf(f, "  allocation and free counts and bytes are lower bounds (at most %llu "
			"allocations and %llu frees missing);\n", (unsigned long long)bd.allocs_missing,
			(unsigned long long)bd.frees_missing);
		fprintf(f, "  %s blocks may be too high by up to %llu (lost frees) or too low by up "
			"to %llu; peak and temporary may be off either way.\n",
			in->target.exited ? "leaked" : "live", (unsigned long long)bd.frees_missing,
			(unsigned long long)bd.allocs_missing);
	}
	if (in->loss.ringbuf_full_execs)
		fprintf(f, "WARNING: %llu exec records were lost (ring buffer full): blocks of the "
			"program before the exec may show as live.\n",
			(unsigned long long)in->loss.ringbuf_full_execs);
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
		{ in->target.exited ? "Leaks: memory never freed before the target exited"
			     : "Live: memory held now",
		  in->target.exited ? "no leaks" : "nothing live", offsetof(struct ht_stats, live_bytes) },
		{ "Churn: stacks allocating most often", "no allocations",
		  offsetof(struct ht_stats, allocs) },
		{ "Temporary: blocks freed by their thread before its next allocation",
		  "no temporary allocations", offsetof(struct ht_stats, temporary) },
	};
	struct text_ctx cx = { .now_ms = report__now_ms(in) };
	struct ht_live_age *ages = NULL;
	struct ht_report_row *rows;
	size_t n;
	int err;

	err = report__rows(in, &rows, &n);
	if (err)
		return err;
	err = report__ages(in, &ages);
	if (err)
		goto out;
	cx.ages = ages;
	report__summary_text(f, in);
	for (size_t i = 0; i < ARRAY_SIZE(tables) && !err; i++) {
		if (tables[i].field == offsetof(struct ht_stats, live_bytes) && in->older_than_s > 0)
			older_only(rows, n, ages);
		err = print_table(f, in, rows, n, &tables[i], &cx);
	}
	if (!err && in->maps)
		err = report__mappings_text(f, in, &cx.st);
out:
	report__stack_free(&cx.st);
	free(ages);
	free(rows);
	return err ? err : ferror(f) ? -EIO : 0;
}
