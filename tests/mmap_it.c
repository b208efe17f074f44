// SPDX-License-Identifier: MIT
/*
 * --mmap tests: run the real heaptrace (as root) on tests/workloads/mmap_work.c,
 * whose anonymous mappings are known by stack, launched and attached to:
 *
 *   - each stack's mapped bytes, ranges and mmap/munmap/mremap counts are
 *     exact: a hole punched in a mapping leaves two ranges of its stack, a
 *     grown mremap stays with the stack that mapped, MAP_FIXED replaces,
 *     a file mapping never counts;
 *   - attached (nothing else runs in the target then), the totals are
 *     exact too, and equal to strace's record of the same syscalls in the
 *     same run (ptrace: an independent reference; bpftrace 0.17 needs
 *     tracefs for syscall tracepoints, which this system does not mount);
 *   - the heap totals and stacks are identical with --mmap on and off, and
 *     without it the JSON says "mappings": null and the text has no table;
 *   - records lost to a full ring buffer are counted and said, never
 *     silently wrong;
 *   - on Debian's python3 (glibc's own mmaps of large blocks, mremap of
 *     them as they grow, thread stacks and arenas), attached and launched,
 *     every total equals strace's record replayed page by page into a
 *     model of its own (tests/strace_mappings.py).
 *
 * Usage: mmap_it [FILTER]   (cmocka test name pattern)
 * Environment:
 *   HEAPTRACE              heaptrace binary (./heaptrace)
 *   HEAPTRACE_MMAP_WORK    the workload (.output/tests/mmap_work)
 *   HEAPTRACE_STRACE_REPLAY tests/strace_mappings.py
 *   HEAPTRACE_TEST_TIMEOUT seconds one heaptrace run may take (120)
 *   HEAPTRACE_TEST_KEEP    keep the temporary directory with the reports
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "testlib.h"

#define KIB 1024LL
#define MIB (1024 * KIB)

static const char *heaptrace_bin;
static const char *work_bin;
static const char *replay_bin;
static double run_timeout;
static char tmpdir[] = "/tmp/heaptrace-mmap-XXXXXX";
static int run_seq;

/* What one run gave: its JSON report, its text report, strace's counts. */
struct run {
	json_object *r;
	struct buf text;
	struct buf err;
	long long bt_mmaps, bt_mmap_bytes, bt_munmaps, bt_mremaps; /* strace's */
};

static void run_free(struct run *x)
{
	if (x->r)
		json_object_put(x->r);
	free(x);
}

static struct run *run_new(void)
{
	struct run *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	return x;
}

/*
 * strace attached to pid and its threads, an independent reference
 * (ptrace, not BPF): their mmap, munmap and mremap calls go to path.
 * Returns when it says it attached; *errfd is its stderr, to keep open
 * until it ends (it says when it attaches to a new thread).
 */
static pid_t start_strace(pid_t pid, const char *path, int *errfd)
{
	char pid_s[16];
	char *argv[] = { "/usr/bin/strace", "-f", "-e", "trace=mmap,munmap,mremap", "-e",
			 "signal=none", "-o", (char *)path, "-p", pid_s, NULL };
	struct buf out = { .len = 0 };
	int p[2];
	pid_t st;

	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	assert_int_equal(pipe_nonblock(p), 0);
	st = spawn(argv, NULL, -1, -1, p[1]);
	close(p[1]);
	if (!wait_for_text(p[0], &out, "attached", run_timeout))
		fail_msg("strace did not attach:\n%s", out.data);
	*errfd = p[0];
	return st;
}

/* Count what strace saw: anonymous mmaps that succeeded and their bytes,
 * munmaps, mremaps. */
static void strace_counts(const char *path, struct run *x)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f)
		fail_msg("no strace output %s", path);
	while (fgets(line, sizeof(line), f)) {
		const char *m = strstr(line, "mmap(");

		if (m && strstr(line, "MAP_ANONYMOUS") && !strstr(line, "= -1")) {
			const char *len = strchr(m, ',');

			x->bt_mmaps++;
			x->bt_mmap_bytes += len ? atoll(len + 1) : 0;
		} else if (strstr(line, "munmap(")) {
			x->bt_munmaps++;
		} else if (strstr(line, "mremap(")) {
			x->bt_mremaps++;
		}
	}
	fclose(f);
}

/*
 * `heaptrace [--mmap] --json FILE -- WORK ARGS` (launch; cmd instead of WORK
 * if not NULL), or the workload
 * started with "wait" and `heaptrace [--mmap] --json FILE -p PID` attached
 * to it (attach; with_strace: strace records its syscalls too).
 */
static struct run *trace_opts(bool mmap, bool attach, bool with_strace, const char *const *opts,
			      const char *cmd, const char *const *args)
{
	struct run *x = run_new();
	char json[PATH_MAX], st_path[PATH_MAX], pid_s[16];
	char *ht_argv[16];
	char *wl_argv[] = { (char *)work_bin, "wait", NULL };
	int out[2], errp[2], in[2], wout[2], n = 0, code, st_err = -1;
	pid_t wl = 0, ht, st = 0;

	run_seq++;
	snprintf(json, sizeof(json), "%s/%03d-%s%s.json", tmpdir, run_seq,
		 attach ? "attach" : "launch", mmap ? "-mmap" : "");
	ht_argv[n++] = (char *)heaptrace_bin;
	if (mmap)
		ht_argv[n++] = "--mmap";
	for (; opts && *opts; opts++)
		ht_argv[n++] = (char *)*opts;
	ht_argv[n++] = "--json";
	ht_argv[n++] = json;
	if (attach) {
		assert_int_equal(pipe2(in, O_CLOEXEC), 0);
		assert_int_equal(pipe2(wout, O_CLOEXEC), 0);
		wl = spawn(wl_argv, NULL, in[0], wout[1], -1);
		close(in[0]);
		close(wout[1]);
		if (read_byte(wout[0], 10) != 'R')
			fail_msg("%s wait did not report ready", work_bin);
		snprintf(st_path, sizeof(st_path), "%s/%03d-strace.txt", tmpdir, run_seq);
		if (with_strace)
			st = start_strace(wl, st_path, &st_err);
		snprintf(pid_s, sizeof(pid_s), "%d", (int)wl);
		ht_argv[n++] = "-p";
		ht_argv[n++] = pid_s;
	} else {
		ht_argv[n++] = "--";
		ht_argv[n++] = (char *)(cmd ? cmd : work_bin);
		for (; args && *args; args++)
			ht_argv[n++] = (char *)*args;
	}
	ht_argv[n] = NULL;
	assert_int_equal(pipe_nonblock(out), 0);
	assert_int_equal(pipe_nonblock(errp), 0);
	ht = spawn(ht_argv, NULL, -1, out[1], errp[1]);
	close(out[1]);
	close(errp[1]);
	if (attach) {
		if (!wait_for_text(errp[0], &x->err, "attached", run_timeout))
			fail_msg("heaptrace -p never said \"attached\"; stderr:\n%s", x->err.data);
		write_byte(in[1], 'G');
		if (read_byte(wout[0], 30) != 'D')
			fail_msg("%s wait did not finish", work_bin);
		close(in[1]);
		close(wout[0]);
		assert_int_equal(wait_for(wl, 30, -1, NULL), 0);
	}
	code = wait_for(ht, run_timeout, out[0], &x->text);
	while (drain(errp[0], &x->err))
		;
	close(out[0]);
	close(errp[0]);
	if (code != 0)
		fail_msg("heaptrace exited with %d; stderr:\n%s", code, x->err.data);
	if (st) {
		if (wait_for(st, 30, -1, NULL) != 0)
			fail_msg("strace failed");
		close_fd(&st_err);
		strace_counts(st_path, x);
	}
	x->r = json_object_from_file(json);
	if (!x->r)
		fail_msg("cannot parse JSON report %s", json);
	return x;
}

static struct run *trace(bool mmap, bool attach, bool with_strace)
{
	return trace_opts(mmap, attach, with_strace, NULL, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* Expected mappings                                                   */
/* ------------------------------------------------------------------ */

static const char *const fields[] = {
	"mapped_bytes",
	"ranges",
	"max_mapped_bytes",
	"mmaps",
	"mmap_bytes",
	"munmaps",
	"munmap_bytes",
	"mremaps",
};

struct site {
	const char *fn;
	long long v[8]; /* in the order of fields[] */
};

/*
 * tests/workloads/mmap_work.c, by the function that called mmap. glibc
 * maps malloc(300000) itself: the chunk (300000 + 16 bytes, rounded to
 * 16) and its size word, rounded up to pages, 303104 bytes.
 */
static const struct site sites[] = {
	{ "map_keep", { 5 * MIB, 5, 5 * MIB, 5, 5 * MIB, 0, 0, 0 } },
	{ "map_churn", { 0, 0, 64 * KIB, 3, 192 * KIB, 3, 192 * KIB, 0 } },
	{ "map_hole", { 12 * KIB, 2, 16 * KIB, 1, 16 * KIB, 1, 4 * KIB, 0 } },
	{ "map_grow", { 16 * KIB, 1, 16 * KIB, 1, 4 * KIB, 0, 0, 1 } },
	{ "map_fixed_base", { 4 * KIB, 1, 8 * KIB, 1, 8 * KIB, 0, 0, 0 } },
	{ "map_fixed_over", { 4 * KIB, 1, 4 * KIB, 1, 4 * KIB, 0, 0, 0 } },
	{ "heap_work", { 303104, 1, 303104, 1, 303104, 0, 0, 0 } },
};

static bool has_frame(json_object *s, const char *fn)
{
	json_object *frames = get(s, "frames");

	for (size_t i = 0; i < json_object_array_length(frames); i++) {
		json_object *f = get(json_object_array_get_idx(frames, i), "function");

		if (json_object_is_type(f, json_type_string) && !strcmp(json_object_get_string(f), fn))
			return true;
	}
	return false;
}

static void print_mappings(json_object *m)
{
	print_error("%s\n", json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY));
}

/* Exactly one mapping stack passes through each site, with its numbers. */
static void expect_sites(json_object *r)
{
	json_object *m = get(r, "mappings"), *stacks = get(m, "stacks");

	for (size_t k = 0; k < ARRAY_SIZE(sites); k++) {
		json_object *found = NULL;
		int nfound = 0;

		for (size_t i = 0; i < json_object_array_length(stacks); i++) {
			json_object *s = json_object_array_get_idx(stacks, i);

			if (has_frame(s, sites[k].fn)) {
				found = s;
				nfound++;
			}
		}
		if (nfound != 1) {
			print_mappings(m);
			fail_msg("%d mapping stacks through %s, expected 1", nfound, sites[k].fn);
		}
		for (size_t f = 0; f < ARRAY_SIZE(fields); f++) {
			if (get_int(found, fields[f]) == sites[k].v[f])
				continue;
			print_mappings(m);
			fail_msg("%s: %s is %lld, expected %lld", sites[k].fn, fields[f],
				 (long long)get_int(found, fields[f]), sites[k].v[f]);
		}
	}
	/* the file mapping never counts; nothing was lost */
	for (size_t i = 0; i < json_object_array_length(stacks); i++)
		if (has_frame(json_object_array_get_idx(stacks, i), "map_file"))
			fail_msg("a file mapping (map_file) shows in the mappings");
	assert_int_equal(get_int(get(m, "loss"), "lost_events"), 0);
}

/* The site values summed: the totals of an attached run. */
static long long sites_sum(size_t f)
{
	long long sum = 0;

	for (size_t k = 0; k < ARRAY_SIZE(sites); k++)
		sum += sites[k].v[f];
	return sum;
}

/* The heap side: identical with --mmap on and off. */
static const char *const heap_fields[] = {
	"allocs",
	"alloc_bytes",
	"frees",
	"freed_bytes",
	"live_blocks",
	"live_bytes",
	"peak_blocks",
	"peak_bytes",
	"temporary",
	"unknown_frees",
	"lost_events",
};

static const char *const heap_loss[] = {
	"ringbuf_full_allocs",
	"ringbuf_full_frees",
	"no_thread_state",
	"stacks_truncated",
	"stacks_broken",
	"stack_windows_dropped",
	"model_errors",
};

static void expect_same_heap(json_object *with, json_object *without)
{
	json_object *a = get(with, "totals"), *b = get(without, "totals");
	json_object *sa = get(with, "stacks"), *sb = get(without, "stacks");

	for (size_t i = 0; i < ARRAY_SIZE(heap_fields); i++)
		if (get_int(a, heap_fields[i]) != get_int(b, heap_fields[i]))
			fail_msg("heap totals differ with --mmap: %s %lld, without %lld", heap_fields[i],
				 (long long)get_int(a, heap_fields[i]),
				 (long long)get_int(b, heap_fields[i]));
	/* the workload's heap: 10 x malloc(100) and malloc(300000), kept */
	assert_int_equal(get_int(a, "allocs"), 11);
	assert_int_equal(get_int(a, "alloc_bytes"), 301000);
	assert_int_equal(get_int(a, "live_bytes"), 301000);
	assert_int_equal(json_object_array_length(sa), json_object_array_length(sb));
	for (size_t i = 0; i < json_object_array_length(sa); i++)
		for (size_t f = 0; f < 9; f++)
			assert_int_equal(get_int(json_object_array_get_idx(sa, i), heap_fields[f]),
					 get_int(json_object_array_get_idx(sb, i), heap_fields[f]));
	assert_true(json_object_is_type(get(without, "mappings"), json_type_null));
	/* and what the heap side counts as lost or cut short */
	for (size_t i = 0; i < ARRAY_SIZE(heap_loss); i++)
		assert_int_equal(get_int(get(with, "loss"), heap_loss[i]),
				 get_int(get(without, "loss"), heap_loss[i]));
	assert_int_equal(get_int(get(with, "unwind"), "stacks_cut_short"),
			 get_int(get(without, "unwind"), "stacks_cut_short"));
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

/* Launched: the loader's own mappings come too, so totals are only at
 * least the sites'; each site is exact. */
static void test_launch_mappings_by_stack_exact_heap_unchanged(void **state)
{
	struct run *on = trace(true, false, false), *off = trace(false, false, false);
	json_object *t = get(get(on->r, "mappings"), "totals");

	expect_sites(on->r);
	assert_true(get_int(t, "mmaps") >= sites_sum(3));
	assert_true(get_int(t, "mapped_bytes") >= sites_sum(0));
	assert_int_equal(get_int(t, "replaced_bytes"), 4 * KIB);
	/* the file's munmap at least */
	assert_true(get_int(t, "unknown_unmaps") >= 1);
	expect_same_heap(on->r, off->r);
	if (!strstr(on->text.data, "== Mappings: anonymous memory mapped by stack"))
		fail_msg("no Mappings table in the text report:\n%s", on->text.data);
	if (strstr(off->text.data, "== Mappings"))
		fail_msg("a Mappings table without --mmap:\n%s", off->text.data);
	run_free(on);
	run_free(off);
	(void)state;
}

/* Attached: the workload's calls are all there is - totals exact, and
 * the same as strace saw in that run. */
static void test_attach_mappings_exact_and_as_strace_counts(void **state)
{
	struct run *on = trace(true, true, true), *off = trace(false, true, false);
	json_object *t = get(get(on->r, "mappings"), "totals");

	expect_sites(on->r);
	for (size_t f = 0; f < ARRAY_SIZE(fields); f++) {
		if (!strcmp(fields[f], "max_mapped_bytes") || !strcmp(fields[f], "munmaps"))
			continue;
		if (get_int(t, fields[f]) != sites_sum(f)) {
			print_mappings(get(on->r, "mappings"));
			fail_msg("total %s is %lld, expected %lld", fields[f],
				 (long long)get_int(t, fields[f]), sites_sum(f));
		}
	}
	/* munmap: the sites' and the file's, which is unknown */
	assert_int_equal(get_int(t, "unknown_unmaps"), 1);
	assert_int_equal(get_int(t, "munmaps"), sites_sum(5) + 1);
	/* the end is the peak: 5 MiB + 64 KiB while map_churn ran was less */
	assert_int_equal(get_int(t, "peak_bytes"), sites_sum(0));
	assert_int_equal(get_int(t, "replaced_bytes"), 4 * KIB);
	/* strace, on the same syscalls in the same run */
	assert_int_equal(get_int(t, "mmaps"), on->bt_mmaps);
	assert_int_equal(get_int(t, "mmap_bytes"), on->bt_mmap_bytes);
	assert_int_equal(get_int(t, "munmaps"), on->bt_munmaps);
	assert_int_equal(get_int(t, "mremaps"), on->bt_mremaps);
	expect_same_heap(on->r, off->r);
	run_free(on);
	run_free(off);
	(void)state;
}

/* The stack through fn in the mappings (exactly one), or fail. */
static json_object *site_stack(json_object *r, const char *fn)
{
	json_object *stacks = get(get(r, "mappings"), "stacks"), *found = NULL;

	for (size_t i = 0; i < json_object_array_length(stacks); i++)
		if (has_frame(json_object_array_get_idx(stacks, i), fn)) {
			if (found)
				fail_msg("two mapping stacks through %s", fn);
			found = json_object_array_get_idx(stacks, i);
		}
	if (!found)
		fail_msg("no mapping stack through %s", fn);
	return found;
}

/*
 * A 4 KiB ring and 20,000 mmap+munmap pairs: records may be lost. Either
 * none was, and the counts are exact, or the loss is counted, bounds what
 * is off and is said under the table - never silently wrong.
 */
static void test_lost_mapping_records_are_counted_and_said(void **state)
{
	static const char *const opts[] = { "--ring-size", "4K", NULL };
	static const char *const args[] = { "churn", "20000", NULL };
	struct run *x = trace_opts(true, false, false, opts, NULL, args);
	json_object *loss = get(get(x->r, "mappings"), "loss");
	json_object *s = site_stack(x->r, "map_many");
	long long maps_lost = get_int(loss, "ringbuf_full_maps");
	long long changes_lost = get_int(loss, "ringbuf_full_changes");

	if (!maps_lost && !changes_lost) {
		assert_int_equal(get_int(s, "mmaps"), 20000);
		assert_int_equal(get_int(s, "munmaps"), 20000);
		assert_int_equal(get_int(s, "mapped_bytes"), 0);
		assert_int_equal(get_int(loss, "lost_events"), 0);
		print_message("mmap_it: no mapping record lost this time (exact counts checked)\n");
	} else {
		assert_true(get_int(s, "mmaps") >= 20000 - maps_lost);
		assert_true(get_int(s, "mmaps") <= 20000);
		/* a lost munmap leaves its 64 KiB mapped, nothing else does */
		assert_true(get_int(s, "mapped_bytes") <= changes_lost * 64 * KIB);
		assert_true(get_int(loss, "lost_events") >= maps_lost + changes_lost);
		if (!strstr(x->text.data, "mapping records were lost"))
			fail_msg("loss not said in the text report:\n%s", x->text.data);
	}
	run_free(x);
	(void)state;
}

/*
 * Four threads mapping, growing and unmapping 64 KiB at once, 2,000 times
 * each: the addresses one unmaps are what another's next mmap gets. Each
 * unmap is applied at its call's entry, each mapping at its return, so the
 * model never sees a range mapped twice or unmapped before it was mapped:
 * every byte of map_race is unmapped at the end, every call counted once.
 */
static void test_threads_racing_for_addresses_count_exactly(void **state)
{
	static const char *const args[] = { "threads", "4", "2000", NULL };
	struct run *x = trace_opts(true, false, false, NULL, NULL, args);
	json_object *m = get(x->r, "mappings");
	json_object *s = site_stack(x->r, "map_race");

	if (get_int(get(m, "loss"), "lost_events"))
		fail_msg("records lost (%lld): exactness not checkable on this run",
			 (long long)get_int(get(m, "loss"), "lost_events"));
	assert_int_equal(get_int(s, "mmaps"), 8000);
	assert_int_equal(get_int(s, "mremaps"), 8000);
	assert_int_equal(get_int(s, "munmaps"), 8000);
	assert_int_equal(get_int(s, "munmap_bytes"), 8000 * 128 * KIB);
	assert_int_equal(get_int(s, "mapped_bytes"), 0);
	assert_int_equal(get_int(s, "ranges"), 0);
	assert_int_equal(get_int(get(m, "totals"), "unknown_remaps"), 0);
	assert_int_equal(get_int(get(m, "totals"), "replaced_bytes"), 0);
	run_free(x);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* A real program: Debian's python3 against strace, replayed           */
/* ------------------------------------------------------------------ */

/*
 * After a line on stdin (attached: heaptrace is in place), blocks above
 * glibc's mmap threshold: 40 mapped, every other one unmapped, one grown
 * 30 times (realloc of a mapped chunk: mremap); argv[1] threads map and
 * free their own (thread stacks, arenas: only attached, where strace sees
 * the same run - arenas race for addresses).
 */
static const char py_work[] =
	"import sys, threading\n"
	"print('R', flush=True)\n"
	"sys.stdin.readline()\n"
	"keep = [bytearray(200000 + 4096 * i) for i in range(40)]\n"
	"del keep[::2]\n"
	"b = bytearray(300000)\n"
	"for i in range(30):\n"
	"    b += bytearray(100000)\n"
	"def work():\n"
	"    x = [bytearray(150000 + i) for i in range(20)]\n"
	"    for i in range(10):\n"
	"        y = bytearray(250000 + i)\n"
	"ts = [threading.Thread(target=work) for i in range(int(sys.argv[1]))]\n"
	"[t.start() for t in ts]\n"
	"[t.join() for t in ts]\n";

/* Compared beside fields[] (the totals'). */
static const char *const replay_extra[] = { "unknown_unmaps", "unknown_remaps", "replaced_bytes" };

/* tests/strace_mappings.py on strace's log: its totals. */
static json_object *strace_replayed(const char *log)
{
	char *argv[] = { "/usr/bin/python3", (char *)replay_bin, (char *)log, NULL };
	struct buf *out = calloc(1, sizeof(*out));
	json_object *r;
	int p[2], code;
	pid_t pid;

	assert_non_null(out);
	assert_int_equal(pipe_nonblock(p), 0);
	pid = spawn(argv, NULL, -1, p[1], -1);
	close(p[1]);
	code = wait_for(pid, run_timeout, p[0], out);
	close(p[0]);
	if (code)
		fail_msg("%s %s exited with %d", replay_bin, log, code);
	r = json_tokener_parse(out->data);
	if (!r)
		fail_msg("%s printed no JSON:\n%s", replay_bin, out->data);
	free(out);
	return r;
}

/* Every total as the replay has it, nothing lost; the replay's totals. */
static json_object *expect_as_replayed(json_object *report, const char *log)
{
	json_object *m = get(report, "mappings"), *t = get(m, "totals");
	json_object *ref = strace_replayed(log);

	if (get_int(get(m, "loss"), "lost_events"))
		fail_msg("records lost (%lld): the totals are not comparable on this run",
			 (long long)get_int(get(m, "loss"), "lost_events"));
	for (size_t i = 0; i < ARRAY_SIZE(fields) + ARRAY_SIZE(replay_extra); i++) {
		const char *f = i < ARRAY_SIZE(fields) ? fields[i] : replay_extra[i - ARRAY_SIZE(fields)];

		if (get_int(t, f) == get_int(ref, f))
			continue;
		print_mappings(t);
		print_error("strace replayed: %s\n", json_object_to_json_string(ref));
		fail_msg("%s is %lld, strace's record replayed says %lld", f,
			 (long long)get_int(t, f), (long long)get_int(ref, f));
	}
	assert_int_equal(get_int(ref, "failed_unmaps"), 0);
	assert_int_equal(get_int(ref, "replaced_unasked"), 0);
	return ref;
}

/* py_work's own calls are there: 40 blocks mapped, 20 unmapped, one grown. */
static void expect_py_work(json_object *report, const char *log)
{
	json_object *t = get(get(report, "mappings"), "totals");

	json_object_put(expect_as_replayed(report, log));
	assert_true(get_int(t, "mmaps") >= 40);
	assert_true(get_int(t, "munmaps") >= 20);
	assert_true(get_int(t, "mremaps") >= 1);
	print_message("mmap_it: python3: %lld mmap, %lld munmap, %lld mremap, %lld bytes mapped "
		      "at the end, as strace's record replayed\n",
		      (long long)get_int(t, "mmaps"), (long long)get_int(t, "munmaps"),
		      (long long)get_int(t, "mremaps"), (long long)get_int(t, "mapped_bytes"));
}

/*
 * python3 running script with arg, attached to by strace, then by heaptrace
 * --mmap, until it ends; log: strace's record (PATH_MAX).
 */
static struct run *attach_python3(const char *script, const char *arg, char *log)
{
	char *py[] = { "/usr/bin/python3", "-c", (char *)script, (char *)arg, NULL };
	char json[PATH_MAX], pid_s[16];
	char *ht[] = { (char *)heaptrace_bin, "--mmap", "--json", json, "-p", pid_s, NULL };
	struct run *x = run_new();
	int in[2], out[2], errp[2], code, st_err;
	pid_t py_pid, ht_pid, st;

	run_seq++;
	snprintf(json, sizeof(json), "%s/%03d-python3-attach.json", tmpdir, run_seq);
	snprintf(log, PATH_MAX, "%s/%03d-python3-strace.txt", tmpdir, run_seq);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	py_pid = spawn(py, NULL, in[0], out[1], -1);
	close(in[0]);
	close(out[1]);
	if (read_byte(out[0], 30) != 'R')
		fail_msg("python3 did not start");
	st = start_strace(py_pid, log, &st_err);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)py_pid);
	assert_int_equal(pipe_nonblock(errp), 0);
	ht_pid = spawn(ht, NULL, -1, -1, errp[1]);
	close(errp[1]);
	if (!wait_for_text(errp[0], &x->err, "attached", run_timeout))
		fail_msg("heaptrace -p never said \"attached\"; stderr:\n%s", x->err.data);
	write_byte(in[1], '\n');
	close(in[1]);
	assert_int_equal(wait_for(py_pid, run_timeout, -1, NULL), 0);
	close(out[0]);
	code = wait_for(ht_pid, run_timeout, errp[0], &x->err);
	close(errp[0]);
	if (code)
		fail_msg("heaptrace exited with %d; stderr:\n%s", code, x->err.data);
	if (wait_for(st, 30, -1, NULL) != 0)
		fail_msg("strace failed");
	close(st_err);
	x->r = json_object_from_file(json);
	if (!x->r)
		fail_msg("cannot parse JSON report %s", json);
	return x;
}

/* Attached, with strace attached first: both see the same run, threads too. */
static void test_python3_attached_totals_as_strace_replayed(void **state)
{
	char log[PATH_MAX];
	struct run *x = attach_python3(py_work, "2", log);

	expect_py_work(x->r, log);
	run_free(x);
	(void)state;
}

/*
 * Failed calls, through ctypes: mremap over a hole (EFAULT), over two
 * mmaps the kernel merged into one VMA, grown in place into taken pages
 * (ENOMEM), at an unaligned address (EINVAL); munmap of a length past the
 * address space (EINVAL). Each changes nothing.
 */
static const char py_failing[] =
	"import ctypes, sys\n"
	"libc = ctypes.CDLL(None)\n"
	"libc.mmap.restype = ctypes.c_void_p\n"
	"libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,\n"
	"                      ctypes.c_int, ctypes.c_long]\n"
	"libc.mremap.restype = ctypes.c_void_p\n"
	"libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]\n"
	"libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]\n"
	"P = 4096\n"
	"def mm(n, at=None):\n"
	"    return libc.mmap(at, n, 3, 0x32 if at else 0x22, -1, 0)\n"
	"print('R', flush=True)\n"
	"sys.stdin.readline()\n"
	"a = mm(4 * P)\n"
	"libc.munmap(a + P, P)\n"
	"libc.mremap(a, 4 * P, 8 * P, 1)\n"
	"b = mm(4 * P)\n"
	"mm(P, b + P)\n"
	"libc.mremap(b, 2 * P, 8 * P, 0)\n"
	"c = mm(4 * P)\n"
	"libc.mremap(c + 100, 2 * P, 4 * P, 1)\n"
	"d = mm(4 * P)\n"
	"libc.munmap(d, 1 << 62)\n";

static void test_python3_failed_calls_change_nothing_as_strace_replayed(void **state)
{
	char log[PATH_MAX];
	struct run *x = attach_python3(py_failing, "", log);
	json_object *ref = expect_as_replayed(x->r, log);

	assert_int_equal(get_int(ref, "failed_remaps"), 3);
	assert_int_equal(get_int(get(get(x->r, "mappings"), "totals"), "mremaps"), 0);
	json_object_put(ref);
	run_free(x);
	(void)state;
}

/*
 * Launched: heaptrace's launch holds the program with ptrace, so strace
 * cannot be on the same run; an equivalent one is (one thread, the same
 * hash seed: python3's mappings are the same run to run), started by
 * strace as heaptrace starts it, from its execve.
 */
static void test_python3_launched_totals_as_strace_replayed(void **state)
{
	char log[PATH_MAX];
	char *st[] = { "/usr/bin/strace", "-f", "-e", "trace=mmap,munmap,mremap,execve", "-e",
		       "signal=none", "-o", log, "/usr/bin/python3", "-c", (char *)py_work, "0",
		       NULL };
	static const char *const args[] = { "-c", py_work, "0", NULL };
	struct run *x;

	snprintf(log, sizeof(log), "%s/python3-launch-strace.txt", tmpdir);
	if (wait_for(spawn(st, NULL, -1, -1, -1), run_timeout, -1, NULL) != 0)
		fail_msg("strace python3 failed");
	x = trace_opts(true, false, false, NULL, "/usr/bin/python3", args);
	expect_py_work(x->r, log);
	run_free(x);
	(void)state;
}

static int setup_group(void **state)
{
	struct stat st;

	heaptrace_bin = env_or("HEAPTRACE", "./heaptrace");
	work_bin = env_or("HEAPTRACE_MMAP_WORK", ".output/tests/mmap_work");
	replay_bin = env_or("HEAPTRACE_STRACE_REPLAY", "tests/strace_mappings.py");
	run_timeout = test_timeout(120);
	if (stat(heaptrace_bin, &st) || stat(work_bin, &st) || stat(replay_bin, &st)) {
		fprintf(stderr, "mmap_it: need %s, %s and %s (make mmap-tests builds them)\n",
			heaptrace_bin, work_bin, replay_bin);
		return -1;
	}
	/* python3's dicts the same in every run: its mappings too */
	setenv("PYTHONHASHSEED", "0", 1);
	warn_unless_root();
	if (make_tmpdir(tmpdir))
		return -1;
	(void)state;
	return 0;
}

static int teardown_group(void **state)
{
	finish_tmpdir("mmap_it", "outputs", tmpdir);
	(void)state;
	return 0;
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown_children)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_launch_mappings_by_stack_exact_heap_unchanged),
		T(test_attach_mappings_exact_and_as_strace_counts),
		T(test_lost_mapping_records_are_counted_and_said),
		T(test_threads_racing_for_addresses_count_exactly),
		T(test_python3_attached_totals_as_strace_replayed),
		T(test_python3_launched_totals_as_strace_replayed),
		T(test_python3_failed_calls_change_nothing_as_strace_replayed),
	};

	return test_main(argc, argv, "mmap", tests, ARRAY_SIZE(tests), setup_group,
			 teardown_group);
}
