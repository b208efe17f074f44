// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "allocators.h"
#include "cfimaps.h"
#include "heap.h"
#include "log.h"
#include "modules.h"
#include "probes.h"
#include "heaptrace.h"
#include "report.h"
#include "report_formats.h"
#include "stacks.h"
#include "stream.h"
#include "symbolize.h"
#include "target.h"
#include "unwind.h"
#include "util.h"


struct ht_session {
	struct ht_session_opts opts;
	struct ht_target target;
	struct ht_modules *probe_mods;  /* the objects probes were placed in */
	struct ht_modules *mods;        /* the objects stacks point into */
	struct ht_probe_set set;
	struct ht_probes *probes;
	struct ht_stream *stream;
	struct ht_heap *heap;
	struct ht_stacks *stacks;
	struct ht_symbolizer *sym;
	struct ht_unwinder *unwinder;
	struct ht_cfimaps *cfi;         /* --unwind cfi: the tables in BPF maps */
	size_t cfi_done[2];             /* modules of probe_mods, mods seen by cfi_sync */
	struct ht_cfi_totals cfi_tot;   /* kept after the maps are gone */
	uint64_t *frames;               /* scratch for one unwound stack */
	uint64_t *unmapped_pages;       /* code pages known not to be in a file */
	size_t nunmapped, cap_unmapped;
	bool started, stopped;
	bool launch_exec_seen;          /* the launch's own execve */
	bool execed;                    /* the target replaced its program */
	uint64_t execs_seen;            /* exec records read */
	uint64_t start_ns, end_ns;
	uint64_t start_unix_ns;
	uint64_t model_errors;
	uint64_t frozen_bad;
	uint64_t frozen_counters[__HT_C_MAX];
	ht_observer_fn observer;
	void *observer_ctx;
	int observer_err;               /* first error an observer returned */
	uint64_t rng;                   /* rounding of sample weights */
	struct ht_alloc_opts aopts;     /* --allocator, --symbol-prefix */
	char alloc_desc[512];           /* what is traced, for people */
	uint64_t next_maps_check;       /* when to look for new objects */
};

/* A uniform double in [0, 1) from an xorshift64* stream. */
static double next_unit(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Has the target exec'd beyond the events read so far? Then its maps show
 * the new program, and reading them would name the old program's
 * addresses after the new one's code.
 */
static bool maps_replaced(const struct ht_session *s)
{
	return s->execed || (s->probes && probes__exec_count(s->probes) != s->execs_seen);
}

/*
 * Probe the allocators of objects mapped since discovery (dlopen, or the
 * launched command's own objects the prediction missed).
 */
static void probe_new_objects(struct ht_session *s)
{
	size_t n = s->set.n, nfound = s->set.nfound;
	char desc[512];
	int err;

	if (!s->probes || !s->started || s->stopped || maps_replaced(s) ||
	    modules__refresh(s->probe_mods))
		return;
	if (allocators__discover_new(s->probe_mods, &s->aopts, &s->set) <= 0)
		return;
	err = probes__attach_from(s->probes, s->probe_mods, &s->set, n);
	if (err) {
		pr_warn("can't attach probes to %s: %s\n",
			allocators__describe(s->probe_mods, &s->set, nfound, desc, sizeof(desc)),
			strerror(-err));
		allocators__truncate(&s->set, n, nfound);
		return;
	}
	pr_info("tracing %s (mapped later)\n",
		allocators__describe(s->probe_mods, &s->set, nfound, desc, sizeof(desc)));
	allocators__describe(s->probe_mods, &s->set, 0, s->alloc_desc, sizeof(s->alloc_desc));
}

/* Load the unwind tables of objects added to ms since the last call. */
static void cfi_sync(struct ht_session *s, struct ht_modules *ms, size_t *done)
{
	size_t n = modules__count(ms);

	if (!s->cfi)
		return;
	for (; *done < n; (*done)++) {
		struct ht_module *m = modules__get(ms, *done);

		if (modules__elf(m))
			cfimaps__add(s->cfi, m);
	}
	cfimaps__totals(s->cfi, &s->cfi_tot);
}

static void cfi_sync_all(struct ht_session *s)
{
	cfi_sync(s, s->probe_mods, &s->cfi_done[0]);
	cfi_sync(s, s->mods, &s->cfi_done[1]);
}

/*
 * Make sure the module table covers pc: a library loaded since the last
 * look sends us back to /proc/PID/maps. Pages found in no file (JIT code,
 * a stack gone bad) are remembered so they don't cost a re-read each time.
 */
static void ensure_mapped(struct ht_session *s, uint64_t pc)
{
	uint64_t page = pc >> 12;

	if (modules__find(s->mods, pc))
		return;
	for (size_t i = 0; i < s->nunmapped; i++)
		if (s->unmapped_pages[i] == page)
			return;
	if (maps_replaced(s))
		return;  /* its program is gone: unknown, never misnamed */
	modules__refresh(s->mods);
	probe_new_objects(s);
	cfi_sync_all(s);
	if (modules__find(s->mods, pc))
		return;
	if (s->nunmapped >= 4096)
		s->nunmapped = 0;
	if (!grow_array((void **)&s->unmapped_pages, &s->cap_unmapped, s->nunmapped + 1,
			sizeof(*s->unmapped_pages)))
		s->unmapped_pages[s->nunmapped++] = page;
}

static const char *func_name(const struct ht_session *s, uint32_t func)
{
	return func < s->set.n ? s->set.points[func].func : "?";
}

static void notify(struct ht_session *s, const struct ht_event *ev)
{
	int err;

	if (!s->observer || s->observer_err)
		return;
	err = s->observer(ev, s->observer_ctx);
	if (err < 0)
		s->observer_err = err;
}

static int on_alloc(void *ctx, const struct ht_alloc_event *e)
{
	struct ht_session *s = ctx;
	uint64_t bytes = e->size;
	uint32_t id, n, count = 1;
	struct ht_event ev;

	if (s->execed)
		return 0;  /* the program exec'd into: not the traced one */
	for (uint32_t i = 0; i < e->nr_ips; i++)
		ensure_mapped(s, e->ips[i]);
	if (e->flags & HT_AF_NO_TABLE) {
		/* the stack ended in an object the unwinder has no table for */
		ensure_mapped(s, e->stop_pc);
		cfi_sync_all(s);
	}
	n = unwinder__unwind(s->unwinder, e, s->frames, s->opts.max_depth);
	if (e->sample_thr) {
		/* A sample stands for 1/p allocations of its size. */
		double w = 4294967296.0 / (double)e->sample_thr;

		/* Rounded up or down at random in proportion, so that the
		 * block count stays unbiased even for small weights. */
		count = (uint32_t)w;
		if (next_unit(&s->rng) < w - (double)count)
			count++;
		bytes = (uint64_t)((double)e->size * w + 0.5);
	}
	if (stacks__intern(s->stacks, s->frames, n, &id) ||
	    heap__realloc_weighted(s->heap, e->old_addr, e->addr, bytes, count, id,
				   e->hdr.tid)) {
		s->model_errors++;
		return 0;
	}
	if (s->observer) {
		ev = (struct ht_event){
			.kind = e->old_addr ? HT_EVENT_REALLOC : HT_EVENT_ALLOC,
			.tid = e->hdr.tid, .time_ns = e->hdr.ts, .addr = e->addr,
			.old_addr = e->old_addr, .size = e->size, .stack_id = id,
			.function = func_name(s, e->func),
		};
		notify(s, &ev);
	}
	return 0;
}

static int on_free(void *ctx, const struct ht_free_event *e)
{
	struct ht_session *s = ctx;
	struct ht_event ev = {
		.kind = HT_EVENT_FREE, .tid = e->hdr.tid, .time_ns = e->hdr.ts,
		.addr = e->addr, .stack_id = UINT32_MAX, .function = func_name(s, e->func),
	};

	if (s->execed)
		return 0;
	if (s->observer)
		heap__lookup(s->heap, e->addr, &ev.size, &ev.stack_id);
	heap__free_block(s->heap, e->addr, e->hdr.tid);
	notify(s, &ev);
	return 0;
}

static int on_exec(void *ctx, const struct ht_event_hdr *h)
{
	struct ht_session *s = ctx;

	s->execs_seen++;
	if (s->target.launched && !s->launch_exec_seen) {
		/* The command starting: whatever came before is not its heap. */
		s->launch_exec_seen = true;
		heap__clear_live(s->heap);
		return 0;
	}
	s->execed = true;
	return 0;
}

static const struct ht_stream_ops stream_ops = {
	.on_alloc = on_alloc,
	.on_free = on_free,
	.on_exec = on_exec,
};

static int open_target(struct ht_session *s, char *msg, size_t len)
{
	struct ht_launch_opts lo = { .run_as_root = s->opts.run_as_root };

	if (s->opts.argv && s->opts.argv[0])
		return target__launch(&s->target, s->opts.argv, &lo, msg, len);
	return target__attach(&s->target, s->opts.pid, msg, len);
}

struct ht_session *ht_session_open(const struct ht_session_opts *opts, char *msg,
				   size_t len, int *errp)
{
	struct ht_probes_opts po = {};
	struct ht_session *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s) {
		*errp = -ENOMEM;
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	/* Options from an older, smaller struct keep their defaults. */
	memcpy(&s->opts, opts, opts->sz && opts->sz < sizeof(s->opts) ? opts->sz : sizeof(s->opts));
	s->opts.sz = sizeof(s->opts);
	s->target.pidfd = s->target.go_fd = s->target.err_fd = -1;
	if (!s->opts.max_depth)
		s->opts.max_depth = 64;
	if (!s->opts.ring_bytes)
		s->opts.ring_bytes = 16 << 20;
	if (!s->opts.unwind_set)
		s->opts.unwind = HT_UNWIND_AUTO;
	if (!s->opts.stack_bytes)
		s->opts.stack_bytes = 4096;
	if (s->opts.sample_bytes && !s->opts.seed && getrandom(&s->opts.seed, sizeof(s->opts.seed), 0) < 0)
		s->opts.seed = now_ns();
	s->rng = s->opts.seed | 1;
	if (s->opts.unwind == HT_UNWIND_FP || s->opts.unwind == HT_UNWIND_CFI)
		s->opts.stack_bytes = 0;

	err = target__check_system(msg, len);
	if (err)
		goto err;
	err = open_target(s, msg, len);
	if (err)
		goto err;

	/* Find the allocators in what the target maps. */
	s->probe_mods = modules__new(s->target.pid);
	s->mods = modules__new(s->target.pid);
	s->heap = heap__new();
	s->stacks = stacks__new();
	s->unwinder = unwinder__new(s->mods, s->opts.unwind);
	s->frames = calloc(HT_MAX_FRAMES + 1, sizeof(*s->frames));
	if (!s->probe_mods || !s->mods || !s->heap || !s->stacks || !s->unwinder ||
	    !s->frames) {
		err = -ENOMEM;
		snprintf(msg, len, "out of memory");
		goto err;
	}
	/* A launched command has not mapped its objects yet: find them as
	 * the loader will (if the program can't be found, exec will say). */
	if (!s->target.launched || allocators__add_command(s->probe_mods, s->opts.argv))
		err = modules__refresh(s->probe_mods);
	if (err) {
		snprintf(msg, len, "can't read the memory map of PID %d: %s", s->target.pid,
			 strerror(-err));
		goto err;
	}
	s->aopts.allocator = s->opts.allocator;
	s->aopts.symbol_prefix = s->opts.symbol_prefix;
	err = allocators__discover(s->probe_mods, &s->aopts, &s->set, s->alloc_desc,
				   sizeof(s->alloc_desc));
	if (err) {
		snprintf(msg, len, "PID %d (%s): %s", s->target.pid, s->target.command,
			 s->alloc_desc);
		goto err;
	}
	allocators__describe(s->probe_mods, &s->set, 0, s->alloc_desc, sizeof(s->alloc_desc));
	if (!s->target.launched)
		modules__refresh(s->mods);

	/* Load the BPF programs for this target. */
	po.pid = s->target.pid;
	po.max_depth = s->opts.max_depth;
	po.ring_bytes = s->opts.ring_bytes;
	po.stack_bytes = s->opts.stack_bytes;
	po.sample_bytes = s->opts.sample_bytes;
	po.sample_seed = s->opts.seed;
	po.sampled_max = s->opts.sampled_max ? s->opts.sampled_max : 1 << 20;
	po.min_size = s->opts.min_size;
	po.max_size = s->opts.max_size;
	if (s->opts.unwind == HT_UNWIND_CFI)
		po.cfi_rows = HT_CFI_DEFAULT_ROWS;
	s->probes = probes__load(&po);
	if (!s->probes) {
		err = -errno;
		snprintf(msg, len, "can't load BPF programs: %s", strerror(errno));
		goto err;
	}
	if (po.cfi_rows) {
		/* Tables for what is mapped now, or - for a command not started
		 * yet - for the objects it will map. */
		s->cfi = cfimaps__new(probes__cfi_objs_fd(s->probes),
				      probes__cfi_rows_fd(s->probes), po.cfi_rows);
		if (!s->cfi) {
			err = -errno;
			snprintf(msg, len, "can't map the unwind tables: %s", strerror(errno));
			goto err;
		}
		cfi_sync_all(s);
	}
	s->stream = stream__new(probes__ringbuf_fd(s->probes), &stream_ops, s);
	if (!s->stream) {
		err = -errno;
		snprintf(msg, len, "can't open ring buffer: %s", strerror(errno));
		goto err;
	}
	if (s->opts.record_fd > 0)
		stream__record_to(s->stream, s->opts.record_fd);
	return s;

err:
	*errp = err;
	ht_session_close(s);
	return NULL;
}

int ht_session_start(struct ht_session *s, char *msg, size_t len)
{
	int err;

	err = probes__attach(s->probes, s->probe_mods, &s->set);
	if (err == -EACCES || err == -EPERM) {
		/* Kernels with the fix to c9e0924e5c2b ("perf/core: open access
		 * to probes for CAP_PERFMON") create uprobes for CAP_SYS_ADMIN
		 * only: name it, as target__check_system() names the others. */
		snprintf(msg, len, "can't attach uprobes: %s (missing: CAP_SYS_ADMIN, which "
			 "this kernel requires for uprobes)", strerror(-err));
		return err;
	}
	if (err) {
		snprintf(msg, len, "can't attach probes: %s", strerror(-err));
		return err;
	}
	s->started = true;
	s->start_ns = now_ns();
	s->start_unix_ns = wall_ns();
	if (s->target.launched) {
		err = target__start(&s->target, msg, len);
		if (err)
			return err;
	}
	return 0;
}

const char *ht_session_allocators(const struct ht_session *s)
{
	return s->alloc_desc;
}

int ht_session_fd(const struct ht_session *s)
{
	return stream__epoll_fd(s->stream);
}

/* At the launched child's exit stop: everything it did is in the ring
 * and its maps still exist. */
static void at_target_exit(void *ctx)
{
	struct ht_session *s = ctx;

	if (!maps_replaced(s))
		modules__refresh(s->mods);
	stream__drain(s->stream);
}

int ht_session_set_observer(struct ht_session *s, ht_observer_fn fn, void *ctx)
{
	s->observer = fn;
	s->observer_ctx = ctx;
	s->observer_err = 0;
	return 0;
}

int ht_session_poll(struct ht_session *s, int timeout_ms)
{
	struct pollfd p;
	int n;

	if (s->stopped)
		return 0;
	if (timeout_ms) {
		p.fd = stream__epoll_fd(s->stream);
		p.events = POLLIN;
		if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
			return -errno;
	}
	n = stream__drain(s->stream);
	if (n < 0)
		return n;
	/* A dlopen'd allocator calls nothing traced yet: look once a second. */
	if (!s->target.exited && now_ns() >= s->next_maps_check) {
		s->next_maps_check = now_ns() + 1000000000ULL;
		probe_new_objects(s);
		cfi_sync(s, s->probe_mods, &s->cfi_done[0]);
	}
	if (!s->target.exited && target__check_exit(&s->target, at_target_exit, s))
		stream__drain(s->stream);
	return s->observer_err;
}

bool ht_session_target_done(const struct ht_session *s)
{
	return s->target.exited || s->execed;
}

void ht_session_stop(struct ht_session *s)
{
	if (s->stopped || !s->probes)
		return;
	stream__drain(s->stream);
	probes__counters(s->probes, s->frozen_counters);
	s->frozen_bad = stream__bad_records(s->stream);
	if (!s->target.exited && !maps_replaced(s))
		modules__refresh(s->mods);
	s->end_ns = now_ns();
	s->stopped = true;
	/* Probes go first: the target runs on without them. */
	stream__free(s->stream);
	s->stream = NULL;
	probes__destroy(s->probes);
	s->probes = NULL;
	cfimaps__free(s->cfi);
	s->cfi = NULL;
}

static struct ht_symbolizer *symbolizer(struct ht_session *s)
{
	struct ht_symbolizer_opts so = { .no_demangle = s->opts.no_demangle };

	if (!s->sym)
		s->sym = symbolizer__new(s->mods, &so);
	return s->sym;
}

void ht_session_loss(const struct ht_session *s, struct ht_loss *out)
{
	uint64_t c[__HT_C_MAX];

	memset(out, 0, sizeof(*out));
	if (s->probes)
		probes__counters(s->probes, c);
	else
		memcpy(c, s->frozen_counters, sizeof(c));
	out->ringbuf_full_allocs = c[HT_C_RINGBUF_FULL_ALLOC];
	out->ringbuf_full_frees = c[HT_C_RINGBUF_FULL_FREE];
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
			   out->no_thread_state + out->unreadable_results + out->bad_records +
			   out->model_errors + out->sampled_map_full;
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

void ht_session_target_info(const struct ht_session *s, struct ht_target_info *out)
{
	uint64_t end = s->end_ns ? s->end_ns : now_ns();

	memset(out, 0, sizeof(*out));
	out->pid = s->target.pid;
	out->command = s->target.command;
	out->launched = s->target.launched;
	out->exited = s->target.exited;
	out->execed = s->execed;
	out->exit_known = s->target.launched && s->target.exited;
	out->exit_status = s->target.exit_status;
	out->duration_s = s->start_ns ? (double)(end - s->start_ns) / 1e9 : 0.0;
	out->start_unix_ns = s->start_unix_ns;
	out->sample_bytes = s->opts.sample_bytes;
	out->min_size = s->opts.min_size;
	out->max_size = s->opts.max_size;
	out->nr_probes = s->probes ? probes__nr_links(s->probes) : 0;
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
	struct ht_target_info ti;
	struct ht_report_input in = {};
	struct keep_adapter ka;

	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!o.top_n)
		o.top_n = 10;
	ht_session_target_info(s, &ti);
	in.heap = s->heap;
	in.stacks = s->stacks;
	in.sym = symbolizer(s);
	if (!in.sym)
		return -ENOMEM;
	in.pid = ti.pid;
	in.command = ti.command;
	in.exited = ti.exited;
	in.execed = ti.execed;
	in.exit_known = ti.exit_known;
	in.exit_status = ti.exit_status;
	in.duration_s = ti.duration_s;
	in.start_unix_ns = ti.start_unix_ns;
	in.sample_bytes = ti.sample_bytes;
	in.min_size = ti.min_size;
	in.max_size = ti.max_size;
	ht_session_loss(s, &in.loss);
	in.top_n = o.top_n;
	in.since = o.since;
	in.nsince = o.nsince;
	in.since_totals = o.since_totals;
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
	}
	return -EINVAL;
}

void ht_set_verbosity(int level)
{
	ht_log_set_level(level >= 2 ? HT_LOG_DEBUG : level == 1 ? HT_LOG_INFO : HT_LOG_WARN);
}

void ht_session_close(struct ht_session *s)
{
	if (!s)
		return;
	ht_session_stop(s);
	stream__free(s->stream);
	probes__destroy(s->probes);
	target__close(&s->target);
	symbolizer__free(s->sym);
	unwinder__free(s->unwinder);
	cfimaps__free(s->cfi);
	free(s->frames);
	free(s->unmapped_pages);
	allocators__free(&s->set);
	modules__free(s->probe_mods);
	modules__free(s->mods);
	heap__free(s->heap);
	stacks__free(s->stacks);
	free(s);
}
