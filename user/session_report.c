// SPDX-License-Identifier: MIT
/*
 * What a session shows (heaptrace.h's read side): the heap model's totals
 * and stacks, symbolized frames, interval marks, the target, what was
 * lost, and the reports in every format.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "heap.h"
#include "log.h"
#include "report.h"
#include "session.h"
#include "stacks.h"
#include "symbolize.h"

static struct ht_symbolizer *symbolizer(struct ht_session *s)
{
	struct ht_symbolizer_opts so = { .no_demangle = s->opts.no_demangle };

	if (!s->sym)
		s->sym = symbolizer__new(s->mods, &so);
	return s->sym;
}

/* The BPF side's counters: live, or as they were when the probes went. */
static void read_counters(const struct ht_session *s, uint64_t c[__HT_C_MAX])
{
	if (s->probes)
		probes__counters(s->probes, c);
	else
		memcpy(c, s->frozen_counters, sizeof(s->frozen_counters));
}

static void session_loss(const struct ht_session *s, struct ht_loss *out)
{
	uint64_t c[__HT_C_MAX];

	memset(out, 0, sizeof(*out));
	read_counters(s, c);
	out->ringbuf_full_allocs = c[HT_C_RINGBUF_FULL_ALLOC];
	out->ringbuf_full_frees = c[HT_C_RINGBUF_FULL_FREE];
	out->ringbuf_full_execs = c[HT_C_RINGBUF_FULL_EXEC];
	out->no_thread_state = c[HT_C_NO_STATE];
	out->unreadable_results = c[HT_C_OUT_READ_FAIL];
	out->stale_calls = c[HT_C_STALE_CALL];
	out->nested_calls = c[HT_C_NESTED];
	out->stacks_truncated = c[HT_C_STACK_TRUNCATED];
	out->stacks_broken = c[HT_C_STACK_BROKEN];
	out->windows_dropped = c[HT_C_WINDOW_DROPPED];
	out->filtered = c[HT_C_FILTERED];
	out->sampled_map_full = c[HT_C_SAMPLED_MAP_FULL];
	out->unsampled = c[HT_C_UNSAMPLED];
	out->bad_records = s->stream ? stream__bad_records(s->stream) : s->frozen_bad;
	out->model_errors = s->model_errors;
	out->stacks_no_mapping = c[HT_C_UW_NO_MAPPING];
	out->stacks_no_table = c[HT_C_UW_NO_TABLE];
	out->stacks_bad_rule = c[HT_C_UW_BAD_RULE];
	out->stacks_fp_invalid = c[HT_C_UW_FP_INVALID];
	out->stacks_uprobe = c[HT_C_UW_UPROBE];
	out->stacks_vma_busy = c[HT_C_UW_VMA_BUSY];
	out->stacks_cut_short = out->stacks_truncated + out->stacks_broken +
				out->stacks_no_mapping + out->stacks_no_table +
				out->stacks_bad_rule + out->stacks_fp_invalid +
				out->stacks_uprobe + out->stacks_vma_busy;
	out->cfi_objects = s->cfi_tot.objects;
	out->cfi_fp_only = s->cfi_tot.fp_only;
	out->cfi_rows = s->cfi_tot.rows;
	out->cfi_bytes = s->cfi_tot.bytes;
	out->cfi_build_ns = s->cfi_tot.build_ns;
	out->lost_events = out->ringbuf_full_allocs + out->ringbuf_full_frees +
			   out->ringbuf_full_execs +
			   out->no_thread_state + out->unreadable_results + out->bad_records +
			   out->model_errors + out->sampled_map_full;
}

/* --mmap: what the BPF side and the sink could not record of the mappings. */
static void map_loss(const struct ht_session *s, struct report_map_loss *out)
{
	uint64_t c[__HT_C_MAX];

	read_counters(s, c);
	out->ringbuf_full_maps = c[HT_C_RINGBUF_FULL_MMAP];
	out->ringbuf_full_changes = c[HT_C_RINGBUF_FULL_UNMAP];
	out->no_thread_state = c[HT_C_MMAP_NO_STATE];
	out->failed_unmaps = c[HT_C_MUNMAP_FAILED];
	out->stacks_cut_short = c[HT_C_MMAP_STACK_SHORT];
	out->model_errors = s->map_errors;
}

/* probes__counters() may say why it can't: at the session's level. */
void ht_session_loss(const struct ht_session *s, struct ht_loss *out)
{
	const struct ht_log *prev = ht_log_enter(&s->log);

	session_loss(s, out);
	ht_log_leave(prev);
}

void ht_session_totals(const struct ht_session *s, struct ht_heap_totals *out)
{
	heap__totals(s->heap, out);
}

uint32_t ht_session_nr_stacks(const struct ht_session *s)
{
	return heap__nr_stacks(s->heap);
}

void ht_session_stack_stats(const struct ht_session *s, uint32_t stack, struct ht_stats *out)
{
	heap__stack_stats(s->heap, stack, out);
}

const uint64_t *ht_session_stack_ips(const struct ht_session *s, uint32_t stack,
				     uint32_t *nr)
{
	return stacks__get(s->stacks, stack, nr);
}

int ht_session_stack_frames(struct ht_session *s, uint32_t stack, struct ht_frame *out,
			    int max)
{
	struct ht_symbolizer *sym = symbolizer(s);
	const uint64_t *ips;
	uint32_t nr = 0;
	int n = 0;

	if (!sym)
		return -ENOMEM;
	ips = stacks__get(s->stacks, stack, &nr);
	if (!ips)
		return -ENOENT;
	for (uint32_t i = 0; i < nr && n < max; i++) {
		int k = symbolizer__resolve_inline(sym, ips[i], out + n, max - n);

		if (k < 0)
			return k;
		n += k;
	}
	return n;
}

void ht_session_mark_interval(struct ht_session *s)
{
	heap__mark_interval(s->heap);
}

void ht_session_target_info(const struct ht_session *s, struct ht_target_info *out)
{
	uint64_t end = s->end_ns ? s->end_ns : session__now_ns();

	memset(out, 0, sizeof(*out));
	out->pid = s->target.pid;
	out->command = s->target.command;
	out->launched = s->target.launched;
	out->exited = s->target.exited;
	out->execed = s->execed;
	out->exec_chain = s->exec_chain;
	out->exit_known = s->target.launched && s->target.exited;
	out->exit_status = s->target.exit_status;
	out->duration_s = s->start_ns ? (double)(end - s->start_ns) / 1e9 : 0.0;
	out->start_unix_ns = s->start_unix_ns;
	out->sample_bytes = s->opts.sample_bytes;
	out->min_size = s->opts.min_size;
	out->max_size = s->opts.max_size;
	out->nr_probes = s->probes ? probes__nr_probes(s->probes) : 0;
}

struct keep_adapter {
	struct ht_session *s;
	const struct ht_report_opts *opts;
};

static bool keep_stack(uint32_t stack, void *ctx)
{
	struct keep_adapter *k = ctx;

	return k->opts->keep(k->s, stack, k->opts->keep_ctx);
}

int ht_session_write_report(struct ht_session *s, enum ht_format fmt, FILE *f,
			    const struct ht_report_opts *opts)
{
	struct ht_report_opts o = { .sz = sizeof(o), .top_n = 10, .metric = HT_M_LIVE_BYTES };
	struct ht_report_input in = {};
	struct keep_adapter ka;
	char malloc_defs[256];

	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!o.top_n)
		o.top_n = 10;
	ht_session_target_info(s, &in.target);
	in.heap = s->heap;
	in.stacks = s->stacks;
	in.sym = symbolizer(s);
	if (!in.sym)
		return -ENOMEM;
	ht_session_loss(s, &in.loss);
	if (!in.target.exited && !s->stopped)
		alloc_watch__read(&s->watch);
	in.late_unknown_frees = s->late_unknown_frees;
	in.untraced = s->set.refused;
	in.nuntraced = s->set.nrefused;
	if (s->maps) {
		in.maps = s->maps;
		in.map_stacks = s->map_stacks;
		map_loss(s, &in.map_loss);
	}
	in.rss_anon_known = s->watch.rss_known;
	in.rss_anon = s->watch.rss_anon;
	in.malloc_defs = allocators__malloc_definitions(s->mods, &s->set, malloc_defs,
							sizeof(malloc_defs));
	in.top_n = o.top_n;
	in.interval = o.interval;
	in.keep_alloc_frames = o.keep_alloc_frames;
	in.alloc_fns = o.alloc_fns;
	in.nalloc_fns = o.nalloc_fns;
	in.older_than_s = o.older_than_s;
	in.short_names = o.short_names;
	if (o.keep) {
		ka.s = s;
		ka.opts = &o;
		in.keep = keep_stack;
		in.keep_ctx = &ka;
	}
	switch (fmt) {
	case HT_FORMAT_TEXT:
		return report__text(f, &in);
	case HT_FORMAT_JSON:
		return report__json(f, &in);
	case HT_FORMAT_FOLDED:
		return report__folded(f, &in, o.metric);
	case HT_FORMAT_SVG:
		return report__svg(f, &in, o.metric);
	case HT_FORMAT_PPROF:
		return report__pprof(f, &in);
	case HT_FORMAT_DHAT:
		return report__dhat(f, &in);
	case HT_FORMAT_HTML:
		return report__html(f, &in);
	}
	return -EINVAL;
}
