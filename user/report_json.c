// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "report.h"
#include "stacks.h"
#include "symbolize.h"

static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_stats(FILE *f, const struct ht_stats *s)
{
	fprintf(f, "\"allocs\": %llu, \"alloc_bytes\": %llu, \"frees\": %llu, "
		"\"freed_bytes\": %llu, \"live_blocks\": %llu, \"live_bytes\": %llu, "
		"\"peak_blocks\": %llu, \"peak_bytes\": %llu, \"temporary\": %llu",
		(unsigned long long)s->allocs, (unsigned long long)s->alloc_bytes,
		(unsigned long long)s->frees, (unsigned long long)s->freed_bytes,
		(unsigned long long)s->live_blocks, (unsigned long long)s->live_bytes,
		(unsigned long long)s->peak_blocks, (unsigned long long)s->peak_bytes,
		(unsigned long long)s->temporary);
}

/* Churn since the baseline (0 where the baseline had nothing). */
static void json_interval(FILE *f, const struct ht_stats *now, const struct ht_stats *then)
{
	static const struct ht_stats zero;

	if (!then)
		then = &zero;
	fprintf(f, ", \"interval\": { \"allocs\": %llu, \"alloc_bytes\": %llu, \"frees\": %llu, "
		"\"freed_bytes\": %llu, \"temporary\": %llu }",
		(unsigned long long)(now->allocs - then->allocs),
		(unsigned long long)(now->alloc_bytes - then->alloc_bytes),
		(unsigned long long)(now->frees - then->frees),
		(unsigned long long)(now->freed_bytes - then->freed_bytes),
		(unsigned long long)(now->temporary - then->temporary));
}

static void json_frames(FILE *f, const struct ht_report_input *in, uint32_t id)
{
	uint32_t nr = 0;
	const uint64_t *ips = stacks__get(in->stacks, id, &nr);
	struct ht_frame fr[HT_MAX_INLINE];
	bool first = true;

	fputs("\"frames\": [", f);
	for (uint32_t i = 0; ips && i < nr; i++) {
		int n = symbolizer__resolve_inline(in->sym, ips[i], fr, HT_MAX_INLINE);

		if (n < 1) {
			fr[0] = (struct ht_frame){ .address = ips[i], .function = "[unknown]" };
			n = 1;
		}
		for (int k = 0; k < n; k++) {
			fputs(first ? "\n      { \"function\": " : ",\n      { \"function\": ", f);
			first = false;
			json_str(f, fr[k].function);
			fputs(", \"module\": ", f);
			json_str(f, fr[k].module);
			fprintf(f, ", \"address\": \"0x%llx\", \"file\": ", (unsigned long long)ips[i]);
			json_str(f, fr[k].file);
			if (fr[k].line)
				fprintf(f, ", \"line\": %d", fr[k].line);
			else
				fputs(", \"line\": null", f);
			fprintf(f, ", \"inlined\": %s }", fr[k].inlined ? "true" : "false");
		}
	}
	fputs("]", f);
}

int report__json(FILE *f, const struct ht_report_input *in)
{
	const struct ht_loss *l = &in->loss;
	struct ht_report_row *rows;
	struct ht_heap_totals t;
	size_t n;
	int err;

	err = report__rows(in, &rows, &n);
	if (err)
		return err;
	heap__totals(in->heap, &t);
	fprintf(f, "{ \"version\": 1,\n  \"target\": { \"pid\": %d, \"command\": ", in->pid);
	json_str(f, in->command);
	fprintf(f, ", \"exited\": %s, \"execed\": %s", in->exited ? "true" : "false",
		in->execed ? "true" : "false");
	if (in->exit_known && WIFEXITED(in->exit_status))
		fprintf(f, ", \"exit_code\": %d", WEXITSTATUS(in->exit_status));
	else if (in->exit_known && WIFSIGNALED(in->exit_status))
		fprintf(f, ", \"signal\": %d", WTERMSIG(in->exit_status));
	fprintf(f, " },\n  \"duration_s\": %.6f,\n", in->duration_s);
	if (in->sample_bytes)
		fprintf(f, "  \"sampling\": { \"sample_bytes\": %llu, \"estimates\": true },\n",
			(unsigned long long)in->sample_bytes);
	else
		fputs("  \"sampling\": null,\n", f);
	if (in->min_size || in->max_size)
		fprintf(f, "  \"size_filter\": { \"min_size\": %llu, \"max_size\": %llu, "
			"\"filtered_allocs\": %llu },\n", (unsigned long long)in->min_size,
			(unsigned long long)in->max_size, (unsigned long long)in->loss.filtered);
	fputs("  \"totals\": { ", f);
	json_stats(f, &t.s);
	if (in->since_totals)
		json_interval(f, &t.s, in->since_totals);
	fprintf(f, ", \"unknown_frees\": %llu, \"lost_events\": %llu },\n",
		(unsigned long long)t.unknown_frees, (unsigned long long)l->lost_events);
	fprintf(f, "  \"loss\": { \"ringbuf_full_allocs\": %llu, \"ringbuf_full_frees\": %llu, "
		"\"no_thread_state\": %llu, \"unreadable_results\": %llu, \"bad_records\": %llu, "
		"\"model_errors\": %llu, \"stale_calls\": %llu, \"stacks_truncated\": %llu, "
		"\"stacks_broken\": %llu, \"replaced_blocks\": %llu, \"sampled_map_full\": %llu, "
		"\"unsampled_allocs\": %llu, \"stack_windows_dropped\": %llu, \"lower_bounds\": %s },\n",
		(unsigned long long)l->ringbuf_full_allocs,
		(unsigned long long)l->ringbuf_full_frees,
		(unsigned long long)l->no_thread_state,
		(unsigned long long)l->unreadable_results,
		(unsigned long long)l->bad_records, (unsigned long long)l->model_errors,
		(unsigned long long)l->stale_calls,
		(unsigned long long)l->stacks_truncated,
		(unsigned long long)l->stacks_broken,
		(unsigned long long)t.replaced, (unsigned long long)l->sampled_map_full,
		(unsigned long long)l->unsampled, (unsigned long long)l->windows_dropped,
		l->lost_events ? "true" : "false");
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
		fputs(i ? ",\n    { " : "\n    { ", f);
		json_frames(f, in, rows[i].stack);
		fputs(",\n      ", f);
		json_stats(f, &rows[i].s);
		if (in->since)
			json_interval(f, &rows[i].s,
				      rows[i].stack < in->nsince ? &in->since[rows[i].stack] : NULL);
		fputs(" }", f);
	}
	fputs(" ] }\n", f);
	free(rows);
	return ferror(f) ? -EIO : 0;
}
