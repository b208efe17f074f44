// SPDX-License-Identifier: MIT
/*
 * A session's lifecycle: open (target, allocator discovery, BPF load),
 * start (probes in), poll (drain the stream, look for new objects, watch
 * the target), stop (probes out), close. What a session shows - the model,
 * the target, losses, reports - is session_report.c; the events go
 * through sink.c.
 */
#include <errno.h>
#include <poll.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "heap.h"
#include "ldso.h"
#include "log.h"
#include "mappings.h"
#include "modules.h"
#include "report.h"
#include "session.h"
#include "stacks.h"
#include "symbolize.h"
#include "unwind.h"
#include "util.h"

uint64_t session__now_ns(void)
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

/* Say which allocators found since refused[from] are not traced, and why. */
static void warn_refused(const struct ht_session *s, size_t from)
{
	char line[1024];

	for (size_t i = from; i < s->set.nrefused; i++)
		pr_warn("%s\n", allocators__refusal(&s->set.refused[i], line, sizeof(line)));
}

/*
 * Allocator discovery after open, its one trigger: probe the allocators of
 * objects mapped since the last look (dlopen, or the launched command's
 * own objects the prediction missed). ht_session_poll runs it, never the
 * event path: when the dynamic linker announced a link-map change and
 * once a second (reread: the maps are read again first), and after a
 * drain whose stacks brought new objects into the module table.
 */
static void discover_new_objects(struct ht_session *s, bool reread, bool at_exec)
{
	size_t n = s->set.n, nfound = s->set.nfound, nrefused = s->set.nrefused;
	char desc[512];
	int err, added;

	if (!s->probes || !s->started || s->stopped || session__maps_replaced(s) ||
	    (reread && modules__refresh(s->mods)))
		return;
	added = allocators__discover_new(s->mods, &s->aopts, &s->set);
	warn_refused(s, nrefused);
	if (added <= 0)
		return;
	err = probes__attach_from(s->probes, s->mods, &s->set, n);
	if (err) {
		pr_warn("can't attach probes to %s: %s\n",
			allocators__describe(s->mods, &s->set, nfound, desc, sizeof(desc)),
			strerror(-err));
		allocators__truncate(&s->set, n, nfound);
		return;
	}
	if (at_exec) {
		/* In place before the program exec'd into runs: nothing missed. */
		pr_note("tracing %s in the program exec'd into\n",
			allocators__describe(s->mods, &s->set, nfound, desc, sizeof(desc)));
		allocators__describe(s->mods, &s->set, 0, s->alloc_desc, sizeof(s->alloc_desc));
		return;
	}
	/* Said by default: its calls before now were not seen. */
	pr_warn("tracing %s from %.3f s (mapped later: its calls before then are not seen)\n",
		allocators__describe(s->mods, &s->set, nfound, desc, sizeof(desc)),
		(double)(session__now_ns() - s->start_ns) / 1e9);
	allocators__describe(s->mods, &s->set, 0, s->alloc_desc, sizeof(s->alloc_desc));
}

void session__cfi_sync(struct ht_session *s)
{
	size_t n = modules__count(s->mods);

	if (!s->cfi)
		return;
	for (; s->cfi_done < n; s->cfi_done++) {
		struct ht_module *m = modules__get(s->mods, s->cfi_done);

		if (modules__elf(m))
			cfimaps__add(s->cfi, m);
	}
	cfimaps__totals(s->cfi, &s->cfi_tot);
}

/* The traced calls so far: allocations, frees, unknown frees, and the
 * calls a size filter or sampling left out in the kernel (calls too). */
static uint64_t traced_calls(const struct ht_session *s)
{
	uint64_t c[__HT_C_MAX] = {};
	struct ht_heap_totals t;

	heap__totals(s->heap, &t);
	if (s->probes)
		probes__counters(s->probes, c);
	return t.s.allocs + t.s.frees + t.unknown_frees + c[HT_C_FILTERED] + c[HT_C_UNSAMPLED];
}

/* Never a silently empty report: say when the traced entry points see
 * nothing while the process's memory grows. */
static void watch_calls(struct ht_session *s, uint64_t now)
{
	char defs[256], grown[32];
	uint64_t grew;

	if (!alloc_watch__tick(&s->watch, traced_calls(s), now, &grew))
		return;
	pr_warn("no call to the traced entry points in %llu s while the process's anonymous "
		"memory grew by %s: it allocates through something else (malloc is defined by: "
		"%s)\n", HT_WATCH_QUIET_NS / 1000000000ULL, human_bytes(grew, grown, sizeof(grown)),
		allocators__malloc_definitions(s->mods, &s->set, defs, sizeof(defs)));
}

void session__follow_exec(struct ht_session *s)
{
	struct ht_heap *heap = heap__new();
	struct ht_stacks *stacks = stacks__new();
	struct ht_unwinder *unw = unwinder__new(s->mods, s->opts.unwind);
	size_t used = strlen(s->exec_chain);
	char link[64], exe[sizeof(s->target.command)];
	ssize_t n;

	if (!heap || !stacks || !unw) {
		/* Can't start afresh: stop at the exec, as attach mode does. */
		heap__free(heap);
		stacks__free(stacks);
		unwinder__free(unw);
		s->model_errors++;
		s->execed = true;
		return;
	}
	snprintf(s->exec_chain + used, sizeof(s->exec_chain) - used, "%s%s", used ? " > " : "",
		 s->target.command);
	snprintf(link, sizeof(link), "/proc/%d/exe", s->target.pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(s->target.command, sizeof(s->target.command), "%s", exe);
	}
	pr_info("PID %d exec'd %s: tracing it from its start\n", s->target.pid,
		s->target.command);
	/* The old program's stacks point into code that is gone: the model,
	 * the stacks and everything learnt about addresses start again. */
	heap__free(s->heap);
	s->heap = heap;
	stacks__free(s->stacks);
	s->stacks = stacks;
	if (s->maps)
		mappings__clear(s->maps);  /* the old program's mappings are gone */
	unwinder__free(s->unwinder);
	s->unwinder = unw;
	symbolizer__free(s->sym);
	s->sym = NULL;  /* made again when a report needs it */
	modules__forget_mappings(s->mods);
	memset(s->placed, 0, sizeof(s->placed));
	s->nunmapped = 0;
	/* Its objects (an allocator of its own?) are looked at on the next
	 * poll. */
	s->new_objects = true;
}

/* Has an attached target exited while heaptrace looked at its objects?
 * A zombie has no exe any more; one still exiting has no mappings left. */
static bool target_gone(const struct ht_session *s)
{
	char path[64], buf[8];
	bool gone;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/exe", s->target.pid);
	if (readlink(path, buf, sizeof(buf)) < 0 && errno == ENOENT)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/maps", s->target.pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	gone = fgetc(f) == EOF;
	fclose(f);
	return gone;
}

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
	const struct ht_log *prev;
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
	s->log.level = ht_log_level_of(s->opts.verbosity);
	prev = ht_log_enter(&s->log);
	s->target.pidfd = s->target.go_fd = s->target.err_fd = -1;
	if (!s->opts.max_depth)
		s->opts.max_depth = 64;
	if (!s->opts.ring_bytes)
		s->opts.ring_bytes = 16 << 20;
	if (!s->opts.unwind_set)
		s->opts.unwind = HT_UNWIND_CFI;
	if (!s->opts.stack_bytes)
		s->opts.stack_bytes = 4096;
	if (s->opts.sample_bytes && !s->opts.seed && getrandom(&s->opts.seed, sizeof(s->opts.seed), 0) < 0)
		s->opts.seed = session__now_ns();
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
	s->mods = modules__new(s->target.pid);
	s->heap = heap__new();
	s->stacks = stacks__new();
	s->unwinder = unwinder__new(s->mods, s->opts.unwind);
	s->frames = calloc(HT_MAX_FRAMES + 1, sizeof(*s->frames));
	if (s->opts.mmap) {
		s->maps = mappings__new();
		s->map_stacks = stacks__new();
	}
	if (!s->mods || !s->heap || !s->stacks || !s->unwinder ||
	    !s->frames || (s->opts.mmap && (!s->maps || !s->map_stacks))) {
		err = -ENOMEM;
		snprintf(msg, len, "out of memory");
		goto err;
	}
	/* A launched command has not mapped its objects yet: find them as
	 * the loader will (if the program can't be found, exec will say). */
	if (!s->target.launched || allocators__add_command(s->mods, s->opts.argv, NULL))
		err = modules__refresh(s->mods);
	if (err) {
		snprintf(msg, len, "can't read the memory map of PID %d: %s", s->target.pid,
			 strerror(-err));
		goto err;
	}
	s->aopts.allocator = s->opts.allocator;
	s->aopts.symbol_prefix = s->opts.symbol_prefix;
	err = allocators__discover(s->mods, &s->aopts, &s->set, s->alloc_desc,
				   sizeof(s->alloc_desc));
	if (err && !s->target.launched && target_gone(s)) {
		snprintf(msg, len, "PID %d exited while heaptrace was attaching", s->target.pid);
		err = -ESRCH;
		goto err;
	}
	if (err) {
		snprintf(msg, len, "PID %d (%s): %s", s->target.pid, s->target.command,
			 s->alloc_desc);
		goto err;
	}
	allocators__describe(s->mods, &s->set, 0, s->alloc_desc, sizeof(s->alloc_desc));
	warn_refused(s, 0);
	s->npoints_at_start = s->set.n;

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
	po.links = probes__links_from_env();
	po.mmap = s->opts.mmap;
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
		session__cfi_sync(s);
	}
	s->stream = stream__new(probes__ringbuf_fd(s->probes), &sink__ops, s);
	if (!s->stream) {
		err = -errno;
		snprintf(msg, len, "can't open ring buffer: %s", strerror(errno));
		goto err;
	}
	if (s->opts.record_fd > 0)
		stream__record_to(s->stream, s->opts.record_fd);
	ht_log_leave(prev);
	return s;

err:
	*errp = err;
	ht_session_close(s);
	ht_log_leave(prev);
	return NULL;
}

/* Learn of new objects when the dynamic linker announces them (a uprobe
 * on its _dl_debug_state), not on the next once-a-second look. */
static void attach_dl_hook(struct ht_session *s)
{
	char path[4200];
	uint64_t off;
	size_t mi;
	int err = ldso__debug_hook(s->mods, &mi, &off);

	if (!err)
		err = modules__probe_path(s->mods, modules__get(s->mods, mi), path, sizeof(path));
	if (!err)
		err = probes__attach_dl_hook(s->probes, path, off);
	if (err)
		pr_info("no hook on the dynamic linker (%s): new objects are looked for once a "
			"second\n", strerror(-err));
	else
		pr_debug("link-map hook on _dl_debug_state in '%s'\n", path);
}

static int session_start(struct ht_session *s, char *msg, size_t len)
{
	int err;

	err = probes__attach(s->probes, s->mods, &s->set);
	if (err == -EACCES || err == -EPERM) {
		/* Kernels with the fix to c9e0924e5c2b ("perf/core: open access
		 * to probes for CAP_PERFMON") create uprobes for CAP_SYS_ADMIN
		 * only: name it, as target__check_system() names the others. */
		snprintf(msg, len, "can't attach uprobes: %s (missing: CAP_SYS_ADMIN, which "
			 "this kernel requires for uprobes)", strerror(-err));
		return err;
	}
	if (err == -ESRCH) {
		snprintf(msg, len, "PID %d exited while heaptrace was attaching", s->target.pid);
		return err;
	}
	if (err) {
		snprintf(msg, len, "can't attach probes: %s", strerror(-err));
		return err;
	}
	attach_dl_hook(s);
	s->started = true;
	s->start_ns = session__now_ns();
	s->start_unix_ns = wall_ns();
	alloc_watch__init(&s->watch, s->target.pid, s->start_ns);
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
/*
 * The launched command has exec'd (env, nice, sh -c 'exec ...') and is
 * held before the new program's first instruction: read up to its exec
 * record (the model starts afresh: session__follow_exec), then put in the
 * probes of the objects the new program will map, found as the dynamic
 * linker will find them with the new program's environment.
 */
static void at_target_exec(void *ctx)
{
	struct ht_session *s = ctx;
	char link[64], exe[4096], *argv[2] = { exe, NULL }, **envp;
	ssize_t n;

	stream__drain(s->stream);
	if (session__maps_replaced(s))
		return;  /* its exec record is not read (lost?): nothing is known */
	snprintf(link, sizeof(link), "/proc/%d/exe", s->target.pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	envp = target__environ(&s->target);
	if (!allocators__add_command(s->mods, argv, envp))
		discover_new_objects(s, false, true);
	free(envp);
	session__cfi_sync(s);
}

static void at_target_exit(void *ctx)
{
	struct ht_session *s = ctx;

	alloc_watch__read(&s->watch);  /* its memory at its end */
	if (!session__maps_replaced(s))
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

static int session_poll(struct ht_session *s, int timeout_ms)
{
	static const struct target_hooks hooks = { .at_exit = at_target_exit,
						    .at_exec = at_target_exec };
	struct pollfd p;
	bool announced;
	uint64_t now;
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
	/* Tables for objects the drain's stacks brought in. */
	session__cfi_sync(s);
	/* A dlopen'd allocator calls nothing traced yet: look when the
	 * dynamic linker announces a change of its link map, once a second,
	 * and at once when stacks pointed into new objects. */
	now = session__now_ns();
	announced = s->probes && probes__dl_changes(s->probes) != s->dl_changes;
	if (announced)
		s->dl_changes = probes__dl_changes(s->probes);
	if (!s->target.exited && (s->new_objects || announced || now >= s->next_maps_check)) {
		bool reread = announced || now >= s->next_maps_check;

		if (reread)
			s->next_maps_check = now + 1000000000ULL;
		s->new_objects = false;
		discover_new_objects(s, reread, false);
		session__cfi_sync(s);
		if (reread)
			watch_calls(s, now);
	}
	if (!s->target.exited && target__check_exit(&s->target, &hooks, s))
		stream__drain(s->stream);
	return s->observer_err;
}

int ht_session_signal_target(struct ht_session *s, int sig)
{
	return s->target.launched ? target__signal(&s->target, sig) : -EPERM;
}

int ht_session_record_error(const struct ht_session *s)
{
	return s->stream ? stream__record_error(s->stream) : s->frozen_record_err;
}

bool ht_session_target_done(const struct ht_session *s)
{
	return s->target.exited || s->execed;
}

static void session_stop(struct ht_session *s)
{
	if (s->stopped || !s->probes)
		return;
	stream__drain(s->stream);
	probes__counters(s->probes, s->frozen_counters);
	s->frozen_bad = stream__bad_records(s->stream);
	s->frozen_record_err = stream__record_error(s->stream);
	if (!s->target.exited && !session__maps_replaced(s))
		modules__refresh(s->mods);
	s->end_ns = session__now_ns();
	s->stopped = true;
	if (s->started && !traced_calls(s)) {
		char defs[256];

		pr_warn("no call to the traced entry points was seen (malloc is defined by: %s)\n",
			allocators__malloc_definitions(s->mods, &s->set, defs, sizeof(defs)));
	}
	/* Probes go first: the target runs on without them. */
	stream__free(s->stream);
	s->stream = NULL;
	probes__destroy(s->probes);
	s->probes = NULL;
	cfimaps__free(s->cfi);
	s->cfi = NULL;
}

/*
 * The calls that reach the rooms below (discovery, probes, libbpf) run
 * with the session's log as their thread's current one.
 */
int ht_session_start(struct ht_session *s, char *msg, size_t len)
{
	const struct ht_log *prev = ht_log_enter(&s->log);
	int err = session_start(s, msg, len);

	ht_log_leave(prev);
	return err;
}

int ht_session_poll(struct ht_session *s, int timeout_ms)
{
	const struct ht_log *prev = ht_log_enter(&s->log);
	int err = session_poll(s, timeout_ms);

	ht_log_leave(prev);
	return err;
}

void ht_session_stop(struct ht_session *s)
{
	const struct ht_log *prev = ht_log_enter(&s->log);

	session_stop(s);
	ht_log_leave(prev);
}

void ht_session_close(struct ht_session *s)
{
	const struct ht_log *prev;

	if (!s)
		return;
	prev = ht_log_enter(&s->log);
	session_stop(s);
	stream__free(s->stream);
	probes__destroy(s->probes);
	target__close(&s->target);
	symbolizer__free(s->sym);
	unwinder__free(s->unwinder);
	cfimaps__free(s->cfi);
	free(s->frames);
	free(s->unmapped_pages);
	allocators__free(&s->set);
	modules__free(s->mods);
	heap__free(s->heap);
	stacks__free(s->stacks);
	mappings__free(s->maps);
	stacks__free(s->map_stacks);
	ht_log_leave(prev);
	free(s);
}
