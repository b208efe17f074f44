// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "report.h"

void report__json_stats(FILE *f, const struct ht_stats *s)
{
	fprintf(f, "\"allocs\": %llu, \"alloc_bytes\": %llu, \"frees\": %llu, "
		"\"freed_bytes\": %llu, \"live_blocks\": %llu, \"live_bytes\": %llu, "
		"\"peak_blocks\": %llu, \"peak_bytes\": %llu, \"temporary\": %llu",
		(unsigned long long)s->allocs, (unsigned long long)s->alloc_bytes,
		(unsigned long long)s->frees, (unsigned long long)s->freed_bytes,
		(unsigned long long)s->live_blocks, (unsigned long long)s->live_bytes,
		(unsigned long long)s->peak_blocks, (unsigned long long)s->peak_bytes,
		(unsigned long long)s->temporary);
	fprintf(f, ", \"max_live_blocks\": %llu, \"max_live_bytes\": %llu",
		(unsigned long long)s->max_live_blocks, (unsigned long long)s->max_live_bytes);
}

/* Measured times (they vary from run to run, unlike the counters). */
static void json_lifetimes(FILE *f, const struct ht_stats *s)
{
	fprintf(f, "\"freed_lifetime_s\": %.3f, \"avg_lifetime_s\": ",
		(double)s->freed_lifetime_ms / 1e3);
	if (s->frees)
		fprintf(f, "%.6f", (double)s->freed_lifetime_ms / 1e3 / (double)s->frees);
	else
		fputs("null", f);
}

/* Memory over time (heap__timeline()), then the report's moment. */
static void json_timeline(FILE *f, const struct ht_report_input *in,
			  const struct ht_heap_totals *t, uint64_t now)
{
	const struct ht_timeline_point *p;
	uint64_t interval;
	size_t n = heap__timeline(in->heap, &p, &interval);

	fprintf(f, "  \"timeline\": { \"interval_s\": %.3f, "
		"\"columns\": [\"t_s\", \"live_bytes\", \"allocs\", \"frees\"], \"points\": [",
		(double)interval / 1e3);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s[%.3f, %llu, %llu, %llu]", i ? ", " : "", (double)p[i].t_ms / 1e3,
			(unsigned long long)p[i].live_bytes, (unsigned long long)p[i].allocs,
			(unsigned long long)p[i].frees);
	if (!n || now > p[n - 1].t_ms)
		fprintf(f, "%s[%.3f, %llu, %llu, %llu]", n ? ", " : "", (double)now / 1e3,
			(unsigned long long)t->s.live_bytes, (unsigned long long)t->s.allocs,
			(unsigned long long)t->s.frees);
	fputs("] },\n", f);
}

/* The age of the stack's oldest live block at the report's moment. */
static void json_oldest(FILE *f, const struct ht_live_age *a, uint64_t now)
{
	if (a->oldest_ms == UINT64_MAX)
		fputs(", \"oldest_age_s\": null", f);
	else
		fprintf(f, ", \"oldest_age_s\": %.3f",
			(double)(now > a->oldest_ms ? now - a->oldest_ms : 0) / 1e3);
}

/* The churn of the current interval (heap__interval_stats()). */
static void json_interval(FILE *f, const struct ht_stats *iv)
{
	fprintf(f, ", \"interval\": { \"allocs\": %llu, \"alloc_bytes\": %llu, \"frees\": %llu, "
		"\"freed_bytes\": %llu, \"temporary\": %llu }",
		(unsigned long long)iv->allocs, (unsigned long long)iv->alloc_bytes,
		(unsigned long long)iv->frees, (unsigned long long)iv->freed_bytes,
		(unsigned long long)iv->temporary);
}

void report__json_frames(FILE *f, const struct ht_report_stack *st)
{
	fputs("\"frames\": [", f);
	for (uint32_t i = 0; i < st->n; i++) {
		const struct ht_frame *fr = &st->v[i].fr;

		fputs(i ? ",\n      { \"function\": " : "\n      { \"function\": ", f);
		report__json_str(f, fr->function);
		fputs(", \"module\": ", f);
		report__json_str(f, fr->module);
		fprintf(f, ", \"address\": \"0x%llx\", \"file\": ", (unsigned long long)fr->address);
		report__json_str(f, fr->file);
		if (fr->line)
			fprintf(f, ", \"line\": %d", fr->line);
		else
			fputs(", \"line\": null", f);
		fprintf(f, ", \"inlined\": %s, \"alloc_frame\": %s }", fr->inlined ? "true" : "false",
			st->v[i].alloc ? "true" : "false");
	}
	fputs("]", f);
}

int report__json(FILE *f, const struct ht_report_input *opts)
{
	/* Scripts get the names as the symbolizer gives them. */
	struct ht_report_input full = *opts;
	const struct ht_report_input *in = &full;
	const struct ht_loss *l = &in->loss;
	struct ht_report_stack st = { 0 };
	struct ht_live_age *ages = NULL;
	struct ht_report_row *rows = NULL;
	struct ht_heap_totals t;
	struct ht_stats iv;
	struct report_bounds bd;
	uint64_t now = report__now_ms(in);
	size_t n;
	int err;

	full.short_names = false;
	report__bounds(l, &bd);
	err = report__rows(in, &rows, &n);
	if (!err)
		err = report__ages(in, &ages);
	if (err)
		goto out;
	heap__totals(in->heap, &t);
	fprintf(f, "{ \"version\": 1,\n  \"target\": { \"pid\": %d, \"command\": ", in->target.pid);
	report__json_str(f, in->target.command);
	fprintf(f, ", \"exited\": %s, \"execed\": %s", in->target.exited ? "true" : "false",
		in->target.execed ? "true" : "false");
	if (in->target.exec_chain && *in->target.exec_chain) {
		fputs(", \"run_by\": ", f);
		report__json_str(f, in->target.exec_chain);
	}
	if (in->target.exit_known && WIFEXITED(in->target.exit_status))
		fprintf(f, ", \"exit_code\": %d", WEXITSTATUS(in->target.exit_status));
	else if (in->target.exit_known && WIFSIGNALED(in->target.exit_status))
		fprintf(f, ", \"signal\": %d", WTERMSIG(in->target.exit_status));
	fprintf(f, " },\n  \"duration_s\": %.6f,\n", in->target.duration_s);
	if (in->target.sample_bytes)
		fprintf(f, "  \"sampling\": { \"sample_bytes\": %llu, \"estimates\": true },\n",
			(unsigned long long)in->target.sample_bytes);
	else
		fputs("  \"sampling\": null,\n", f);
	if (in->target.min_size || in->target.max_size)
		fprintf(f, "  \"size_filter\": { \"min_size\": %llu, \"max_size\": %llu, "
			"\"filtered_allocs\": %llu },\n", (unsigned long long)in->target.min_size,
			(unsigned long long)in->target.max_size, (unsigned long long)in->loss.filtered);
	fputs("  \"totals\": { ", f);
	report__json_stats(f, &t.s);
	if (in->interval) {
		heap__interval_totals(in->heap, &iv);
		json_interval(f, &iv);
	}
	fprintf(f, ", \"unknown_frees\": %llu, \"lost_events\": %llu },\n",
		(unsigned long long)t.unknown_frees, (unsigned long long)l->lost_events);
	fprintf(f, "  \"times\": { \"peak_time_s\": %.3f, ", (double)t.peak_ms / 1e3);
	json_lifetimes(f, &t.s);
	fputs(" },\n", f);
	fprintf(f, "  \"loss\": { \"ringbuf_full_allocs\": %llu, \"ringbuf_full_frees\": %llu, "
		"\"ringbuf_full_execs\": %llu, \"no_thread_state\": %llu, \"unreadable_results\": %llu, \"bad_records\": %llu, "
		"\"model_errors\": %llu, \"stale_calls\": %llu, \"stacks_truncated\": %llu, "
		"\"stacks_broken\": %llu, \"replaced_blocks\": %llu, \"sampled_map_full\": %llu, "
		"\"unsampled_allocs\": %llu, \"stack_windows_dropped\": %llu, \"lower_bounds\": %s, "
		"\"allocs_missing_max\": %llu, \"frees_missing_max\": %llu },\n",
		(unsigned long long)l->ringbuf_full_allocs,
		(unsigned long long)l->ringbuf_full_frees,
		(unsigned long long)l->ringbuf_full_execs,
		(unsigned long long)l->no_thread_state,
		(unsigned long long)l->unreadable_results,
		(unsigned long long)l->bad_records, (unsigned long long)l->model_errors,
		(unsigned long long)l->stale_calls,
		(unsigned long long)l->stacks_truncated,
		(unsigned long long)l->stacks_broken,
		(unsigned long long)t.replaced, (unsigned long long)l->sampled_map_full,
		(unsigned long long)l->unsampled, (unsigned long long)l->windows_dropped,
		l->lost_events ? "true" : "false", (unsigned long long)bd.allocs_missing,
		(unsigned long long)bd.frees_missing);
	json_timeline(f, in, &t, now);
	report__unseen_json(f, in, &t);
	err = report__mappings_json(f, in, &st);
	if (err)
		goto out;
	fprintf(f, "  \"unwind\": { \"stacks_cut_short\": %llu, \"cut_short\": { \"depth\": %llu, "
		"\"unreadable\": %llu, \"no_mapping\": %llu, \"no_table\": %llu, "
		"\"bad_rule\": %llu, \"fp_invalid\": %llu, \"uretprobe\": %llu, "
		"\"maps_locked\": %llu }, \"tables\": { \"objects\": %llu, "
		"\"frame_pointers_only\": %llu, \"rows\": %llu, \"bytes\": %llu, "
		"\"build_ms\": %.1f } },\n",
		(unsigned long long)l->stacks_cut_short, (unsigned long long)l->stacks_truncated,
		(unsigned long long)l->stacks_broken, (unsigned long long)l->stacks_no_mapping,
		(unsigned long long)l->stacks_no_table, (unsigned long long)l->stacks_bad_rule,
		(unsigned long long)l->stacks_fp_invalid, (unsigned long long)l->stacks_uprobe,
		(unsigned long long)l->stacks_vma_busy, (unsigned long long)l->cfi_objects,
		(unsigned long long)l->cfi_fp_only, (unsigned long long)l->cfi_rows,
		(unsigned long long)l->cfi_bytes, (double)l->cfi_build_ns / 1e6);
	fputs("  \"stacks\": [", f);
	for (size_t i = 0; i < n; i++) {
		err = report__stack(in, rows[i].stack, &st);
		if (err)
			goto out;
		fputs(i ? ",\n    { " : "\n    { ", f);
		report__json_frames(f, &st);
		fputs(",\n      ", f);
		report__json_stats(f, &rows[i].s);
		fputs(", ", f);
		json_lifetimes(f, &rows[i].s);
		json_oldest(f, &ages[rows[i].stack], now);
		if (in->interval) {
			heap__interval_stats(in->heap, rows[i].stack, &iv);
			json_interval(f, &iv);
		}
		fputs(" }", f);
	}
	fputs(" ] }\n", f);
	err = ferror(f) ? -EIO : 0;
out:
	report__stack_free(&st);
	free(ages);
	free(rows);
	return err;
}
