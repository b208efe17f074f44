// SPDX-License-Identifier: MIT
/*
 * Integration tests: run the real heaptrace (as root) against the workloads
 * in tests/workloads/ and compare its JSON report with their known heap
 * profiles, exactly.
 *
 * Usage: integration [FILTER]
 *   FILTER             cmocka test name pattern (* and ? wildcards)
 * Environment (defaults are relative to the repository root):
 *   HEAPTRACE          heaptrace binary          (./heaptrace)
 *   HEAPTRACE_KNOWN    the `known` workload      (.output/tests/known)
 *   HEAPTRACE_KNOWN_SRC  its source, for line numbers (tests/workloads/known.c)
 *   HEAPTRACE_TEST_TIMEOUT  seconds one heaptrace run may take (120)
 *   HEAPTRACE_TEST_KEEP  set to keep the temporary directory with the
 *                      reports and outputs of every run
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "testlib.h"

static const char *heaptrace_bin;
static const char *known_bin;
static const char *known_src;
static double run_timeout;
static char tmpdir[] = "/tmp/heaptrace-it-XXXXXX";
static int run_seq;

/* ------------------------------------------------------------------ */
/* Child processes                                                     */
/* ------------------------------------------------------------------ */

static void tmp_path(char *path, size_t size, const char *what, const char *ext)
{
	snprintf(path, size, "%s/%03d-%s.%s", tmpdir, run_seq, what, ext);
}

/*
 * Run heaptrace with args (NULL-terminated) to completion, its stdout and
 * stderr in files. Returns the exit code as wait_for does.
 */
static int run_heaptrace(const char *const args[], struct buf *out, struct buf *err)
{
	char *argv[32];
	char out_path[PATH_MAX], err_path[PATH_MAX];
	size_t n = 0;
	int out_fd, err_fd, code;
	pid_t pid;

	argv[n++] = (char *)heaptrace_bin;
	for (; *args && n < ARRAY_SIZE(argv) - 1; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;

	run_seq++;
	tmp_path(out_path, sizeof(out_path), "heaptrace", "stdout");
	tmp_path(err_path, sizeof(err_path), "heaptrace", "stderr");
	out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(out_fd >= 0 && err_fd >= 0);
	pid = spawn(argv, NULL, -1, out_fd, err_fd);
	close(out_fd);
	close(err_fd);
	code = wait_for(pid, run_timeout, -1, NULL);
	read_file(out_path, out);
	read_file(err_path, err);
	return code;
}

/* ------------------------------------------------------------------ */
/* Reports                                                             */
/* ------------------------------------------------------------------ */

static const char *get_string_or_null(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	if (json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string))
		fail_msg("report: \"%s\" is neither a string nor null", key);
	return json_object_get_string(v);
}

static const char *const counter_keys[] = {
	"allocs", "alloc_bytes", "frees", "freed_bytes", "live_blocks",
	"live_bytes", "peak_blocks", "peak_bytes", "temporary",
};

static const char *const total_only_keys[] = { "unknown_frees", "lost_events" };

/* The function name of frames[i], or NULL if there is no such frame. */
static const char *frame_function(json_object *stack, size_t i)
{
	json_object *frames = get(stack, "frames");

	if (i >= json_object_array_length(frames))
		return NULL;
	return get_string_or_null(json_object_array_get_idx(frames, i), "function");
}

/* The function of the first frame that is not an inlined call. */
static const char *first_real_function(json_object *stack)
{
	json_object *frames = get(stack, "frames"), *inl;

	for (size_t i = 0; i < json_object_array_length(frames); i++) {
		json_object *f = json_object_array_get_idx(frames, i);

		if (!json_object_object_get_ex(f, "inlined", &inl) || !json_object_get_boolean(inl))
			return get_string_or_null(f, "function");
	}
	return NULL;
}

static void check_frame_shape(json_object *frame)
{
	const char *addr, *end;
	json_object *line;

	assert_true(json_object_is_type(frame, json_type_object));
	get_string_or_null(frame, "function");
	get_string_or_null(frame, "module");
	get_string_or_null(frame, "file");
	addr = get_string_or_null(frame, "address");
	end = addr;
	if (addr && strncmp(addr, "0x", 2) == 0 && addr[2])
		end = addr + 2 + strspn(addr + 2, "0123456789abcdefABCDEF");
	if (!addr || end == addr || *end != '\0')
		fail_msg("report: frame address \"%s\" is not 0x-prefixed hex",
			 addr ? addr : "(null)");
	line = get(frame, "line");
	if (!json_object_is_type(line, json_type_null) &&
	    !(json_object_is_type(line, json_type_int) && json_object_get_int64(line) > 0))
		fail_msg("report: frame line is neither null nor a positive integer");
}

/* Functions a reported call could be nested in if counted twice. */
static const char *const allocator_names[] = {
	"malloc", "calloc", "realloc", "reallocarray", "free", "memalign",
	"aligned_alloc", "posix_memalign", "valloc", "pvalloc",
	"__libc_malloc", "__libc_calloc", "__libc_realloc", "__libc_memalign",
	"__libc_valloc", "__libc_pvalloc", "__libc_reallocarray",
	"__posix_memalign", "_mid_memalign",
};

/*
 * Everything the contract promises about any report: field types and
 * the relations that hold whatever else the process allocated.
 */
static void check_report_shape(json_object *r, bool exited)
{
	json_object *target, *totals, *stacks, *dur;
	const char *command;
	int64_t sum[ARRAY_SIZE(counter_keys)] = { 0 };

	assert_int_equal(get_int(r, "version"), 1);

	target = get(r, "target");
	assert_true(get_int(target, "pid") > 0);
	command = get_string_or_null(target, "command");
	if (!command || !strstr(command, "known"))
		fail_msg("report: target.command \"%s\" does not name the workload",
			 command ? command : "(null)");
	assert_true(json_object_is_type(get(target, "exited"), json_type_boolean));
	if (json_object_get_boolean(get(target, "exited")) != exited)
		fail_msg("report: target.exited is %s, expected %s",
			 exited ? "false" : "true", exited ? "true" : "false");

	dur = get(r, "duration_s");
	assert_true(json_object_is_type(dur, json_type_double) ||
		    json_object_is_type(dur, json_type_int));
	assert_true(json_object_get_double(dur) >= 0);

	totals = get(r, "totals");
	for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++)
		assert_true(get_int(totals, counter_keys[k]) >= 0);
	for (size_t k = 0; k < ARRAY_SIZE(total_only_keys); k++)
		assert_true(get_int(totals, total_only_keys[k]) >= 0);
	if (get_int(totals, "lost_events") != 0)
		fail_msg("report: %lld lost events; counts cannot be exact",
			 (long long)get_int(totals, "lost_events"));
	assert_true(get_int(totals, "peak_bytes") >= get_int(totals, "live_bytes"));
	assert_true(get_int(totals, "peak_blocks") <= get_int(totals, "allocs"));

	stacks = get(r, "stacks");
	assert_true(json_object_is_type(stacks, json_type_array));
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);
		json_object *frames = get(s, "frames");
		const char *fn;

		assert_true(json_object_is_type(frames, json_type_array));
		assert_true(json_object_array_length(frames) >= 1);
		for (size_t f = 0; f < json_object_array_length(frames); f++)
			check_frame_shape(json_object_array_get_idx(frames, f));
		/* frames[0] may be an inlined wrapper named like the allocator
		 * (glibc's rtld-malloc.h calloc): the real caller counts */
		fn = first_real_function(s);
		for (size_t a = 0; fn && a < ARRAY_SIZE(allocator_names); a++) {
			if (strcmp(fn, allocator_names[a]) == 0)
				fail_msg("report: a stack starts inside the allocator (%s): "
					 "a nested call was counted", fn);
		}
		for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++) {
			assert_true(get_int(s, counter_keys[k]) >= 0);
			sum[k] += get_int(s, counter_keys[k]);
		}
		assert_int_equal(get_int(s, "live_blocks"),
				 get_int(s, "allocs") - get_int(s, "frees"));
		assert_int_equal(get_int(s, "live_bytes"),
				 get_int(s, "alloc_bytes") - get_int(s, "freed_bytes"));
		assert_true(get_int(s, "peak_blocks") <= get_int(s, "allocs"));
		assert_true(get_int(s, "peak_bytes") <= get_int(s, "alloc_bytes"));
		assert_true(get_int(s, "temporary") <= get_int(s, "frees"));
	}
	for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++) {
		if (get_int(totals, counter_keys[k]) < sum[k])
			fail_msg("report: totals.%s = %lld is less than the sum over stacks %lld",
				 counter_keys[k], (long long)get_int(totals, counter_keys[k]),
				 (long long)sum[k]);
	}
}

static json_object *load_report(const char *path)
{
	json_object *r = json_object_from_file(path);

	if (!r)
		fail_msg("cannot parse JSON report %s: %s", path, json_util_get_last_err());
	return r;
}

/* Reports of launch-mode runs, one per options + mode, shared by tests. */
static struct {
	char key[128];
	json_object *report;
} reports[48];

/*
 * `heaptrace OPTS... --json FILE -- known MODE` (opts may be NULL): must
 * exit 0, print a text report and write a well-formed JSON report, which
 * is returned (owned by the cache: each options + mode combination is
 * traced once per test run).
 */
static json_object *trace_with(const char *const opts[], const char *mode)
{
	static struct buf out, err;
	char json_path[PATH_MAX], key[128] = "";
	const char *args[16];
	json_object *report;
	size_t slot, n = 0;
	int code;

	if (getenv("HEAPTRACE_LINKS"))
		snprintf(key, sizeof(key), "HEAPTRACE_LINKS=%s ", getenv("HEAPTRACE_LINKS"));
	for (const char *const *o = opts; o && *o && n < ARRAY_SIZE(args) - 6; o++) {
		args[n++] = *o;
		snprintf(key + strlen(key), sizeof(key) - strlen(key), "%s ", *o);
	}
	snprintf(key + strlen(key), sizeof(key) - strlen(key), "-- known %s", mode);
	for (slot = 0; slot < ARRAY_SIZE(reports) && reports[slot].key[0]; slot++) {
		if (strcmp(reports[slot].key, key) == 0) {
			if (!reports[slot].report)
				fail_msg("the report of `heaptrace %s` already failed an earlier test", key);
			return reports[slot].report;
		}
	}
	assert_true(slot < ARRAY_SIZE(reports));
	snprintf(reports[slot].key, sizeof(reports[slot].key), "%s", key);

	/* Named after the run, like the outputs run_heaptrace keeps. */
	snprintf(json_path, sizeof(json_path), "%s/%03d-%s.json", tmpdir, run_seq + 1, mode);
	args[n++] = "--json";
	args[n++] = json_path;
	args[n++] = "--";
	args[n++] = known_bin;
	args[n++] = mode;
	args[n] = NULL;
	code = run_heaptrace(args, &out, &err);
	if (code != 0)
		fail_msg("`heaptrace %s` exited with %d; stderr:\n%s", key, code, err.data);
	if (out.len == 0)
		fail_msg("`heaptrace %s` printed no text report on stdout", key);
	report = load_report(json_path);
	check_report_shape(report, true);
	/* Cached only once well-formed: later tests of a bad one fail too. */
	reports[slot].report = report;
	return report;
}

static json_object *trace_mode(const char *mode)
{
	return trace_with(NULL, mode);
}

/* ------------------------------------------------------------------ */
/* Expected profiles                                                   */
/* ------------------------------------------------------------------ */

/* One allocation site: the stack whose frames[0] is fn[0] (or fn[1]). */
struct site {
	const char *fn[3];     /* accepted names of frames[0] */
	const char *callers[3]; /* expected frames[1], frames[2], ... (prefix) */
	int64_t allocs, alloc_bytes, frees, freed_bytes;
	int64_t live_blocks, live_bytes, peak_blocks, peak_bytes, temporary;
};

static int64_t site_value(const struct site *s, size_t k)
{
	const int64_t v[] = {
		s->allocs, s->alloc_bytes, s->frees, s->freed_bytes, s->live_blocks,
		s->live_bytes, s->peak_blocks, s->peak_bytes, s->temporary,
	};

	return v[k];
}

static bool name_is(const char *fn, const char *const names[3])
{
	for (int i = 0; i < 3 && names[i]; i++)
		if (fn && strcmp(fn, names[i]) == 0)
			return true;
	return false;
}

static void print_stack(json_object *s)
{
	print_error("  stack %s\n", json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN));
}

/* The one stack whose frames[0].function is one of names; fails if not exactly one. */
static json_object *find_stack(json_object *r, const char *const names[3])
{
	json_object *stacks = get(r, "stacks"), *found = NULL;
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);

		if (name_is(frame_function(s, 0), names)) {
			found = s;
			n++;
		}
	}
	if (n != 1) {
		print_error("expected exactly one stack with frames[0] = %s, found %d\n",
			    names[0], n);
		for (size_t i = 0; i < json_object_array_length(stacks); i++)
			print_stack(json_object_array_get_idx(stacks, i));
		fail();
	}
	return found;
}

static bool has_stack(json_object *r, const char *fn)
{
	json_object *stacks = get(r, "stacks");

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		const char *f = frame_function(json_object_array_get_idx(stacks, i), 0);

		if (f && strcmp(f, fn) == 0)
			return true;
	}
	return false;
}

/*
 * The line of `fn`'s definition in the workload source when the whole
 * function sits on that line (so the call's line is known), else 0.
 */
static int64_t one_line_site(const char *fn)
{
	FILE *f = fopen(known_src, "re");
	char line[512], pattern[128];
	int64_t n = 0, found = -1;

	if (!f)
		fail_msg("cannot open workload source %s: %s", known_src, strerror(errno));
	snprintf(pattern, sizeof(pattern), "%s(", fn);
	while (fgets(line, sizeof(line), f)) {
		char *at = strstr(line, pattern);

		n++;
		if (strncmp(line, "NOINLINE ", 9) == 0 && at && (at[-1] == ' ' || at[-1] == '*')) {
			size_t len = strcspn(line, "\n");

			found = len > 0 && line[len - 1] == '}' ? n : 0;
			break;
		}
	}
	fclose(f);
	if (found < 0)
		fail_msg("no NOINLINE definition of %s in %s", fn, known_src);
	return found;
}

/* frames[0] of a workload site: in the workload binary, at its call line. */
static void check_site_frame(json_object *stack, const char *fn)
{
	json_object *f0 = json_object_array_get_idx(get(stack, "frames"), 0);
	const char *module = get_string_or_null(f0, "module");
	const char *file = get_string_or_null(f0, "file");
	int64_t want_line = one_line_site(fn);

	if (!module || strcmp(base_name(module), base_name(known_bin)) != 0)
		fail_msg("%s: frames[0].module is %s, expected the workload %s", fn,
			 module ? module : "null", known_bin);
	if (file) {
		if (strcmp(base_name(file), "known.c") != 0)
			fail_msg("%s: frames[0].file is %s, expected known.c", fn, file);
		if (want_line && get_int(f0, "line") != want_line)
			fail_msg("%s: frames[0].line is %lld, expected %lld", fn,
				 (long long)get_int(f0, "line"), (long long)want_line);
	}
}

/* Find the site's stack and compare every counter and the callers. */
static void expect_site(json_object *r, const struct site *want)
{
	json_object *s = find_stack(r, want->fn);
	bool bad = false;

	for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++) {
		int64_t got = get_int(s, counter_keys[k]), w = site_value(want, k);

		if (got != w) {
			print_error("%s: %s = %lld, expected %lld\n", want->fn[0],
				    counter_keys[k], (long long)got, (long long)w);
			bad = true;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(want->callers) && want->callers[i]; i++) {
		const char *got = frame_function(s, i + 1);

		if (!got || strcmp(got, want->callers[i]) != 0) {
			print_error("%s: frames[%zu].function = %s, expected %s\n", want->fn[0],
				    i + 1, got ? got : "(none)", want->callers[i]);
			bad = true;
		}
	}
	if (bad) {
		print_stack(s);
		fail();
	}
	if (!want->fn[1])
		check_site_frame(s, want->fn[0]);
}

static void expect_sites(json_object *r, const struct site *sites, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_site(r, &sites[i]);
}

/*
 * For a workload that makes no allocator calls besides its sites (single
 * threaded, no stdio): totals are exactly the sum of the sites.
 * skip_frees leaves frees/freed_bytes alone (attach mode, where frees of
 * unknown blocks may or may not be part of them).
 */
static void expect_totals_exact(json_object *r, const struct site *sites, size_t n,
				int64_t unknown_frees, bool skip_frees)
{
	json_object *totals = get(r, "totals");
	bool bad = false;

	for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++) {
		int64_t want = 0, got = get_int(totals, counter_keys[k]);

		if (skip_frees && (strcmp(counter_keys[k], "frees") == 0 ||
				   strcmp(counter_keys[k], "freed_bytes") == 0))
			continue;
		for (size_t i = 0; i < n; i++)
			want += site_value(&sites[i], k);
		if (got != want) {
			print_error("totals.%s = %lld, expected %lld\n", counter_keys[k],
				    (long long)got, (long long)want);
			bad = true;
		}
	}
	if (get_int(totals, "unknown_frees") != unknown_frees) {
		print_error("totals.unknown_frees = %lld, expected %lld\n",
			    (long long)get_int(totals, "unknown_frees"), (long long)unknown_frees);
		bad = true;
	}
	if (bad) {
		print_error("  totals %s\n", json_object_to_json_string_ext(totals, JSON_C_TO_STRING_PLAIN));
		fail();
	}
}

#define SITE(name, ...) { .fn = { name }, __VA_ARGS__ }
#define MAIN_THREAD(runner) .callers = { runner, "main" }

/* ------------------------------------------------------------------ */
/* Launch-mode tests                                                   */
/* ------------------------------------------------------------------ */

static void test_keep_malloc_blocks_stay_live(void **state)
{
	static const struct site sites[] = {
		SITE("keep_malloc", MAIN_THREAD("run_keep"), .allocs = 1000,
		     .alloc_bytes = 100000, .live_blocks = 1000, .live_bytes = 100000,
		     .peak_blocks = 1000, .peak_bytes = 100000),
	};
	json_object *r = trace_mode("keep");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

static void test_churn_malloc_free_pairs_are_temporary(void **state)
{
	static const struct site sites[] = {
		SITE("churn_malloc", MAIN_THREAD("run_churn"), .allocs = 5000,
		     .alloc_bytes = 320000, .frees = 5000, .freed_bytes = 320000,
		     .peak_blocks = 1, .peak_bytes = 64, .temporary = 5000),
	};
	json_object *r = trace_mode("churn");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

static void test_calloc_counts_n_times_size(void **state)
{
	static const struct site sites[] = {
		SITE("do_calloc", MAIN_THREAD("run_calloc"), .allocs = 100,
		     .alloc_bytes = 30000, .live_blocks = 100, .live_bytes = 30000,
		     .peak_blocks = 100, .peak_bytes = 30000),
	};
	json_object *r = trace_mode("calloc");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

/* known realloc: the moved blocks, then the growing chain. */
static const struct site realloc_sites[] = {
	/* realloc frees each at once: no allocation in between */
	SITE("orig_alloc", MAIN_THREAD("run_realloc"), .allocs = 10,
	     .alloc_bytes = 10000, .frees = 10, .freed_bytes = 10000, .temporary = 10),
	SITE("move_realloc", MAIN_THREAD("run_realloc"), .allocs = 10,
	     .alloc_bytes = 1000000, .live_blocks = 10, .live_bytes = 1000000,
	     .peak_blocks = 10, .peak_bytes = 1000000),
	/* 16 + 32 + ... + 4096; each step frees the previous block first */
	SITE("grow_realloc", MAIN_THREAD("run_realloc"), .allocs = 9,
	     .alloc_bytes = 8176, .frees = 8, .freed_bytes = 4080, .live_blocks = 1,
	     .live_bytes = 4096, .peak_blocks = 1, .peak_bytes = 4096, .temporary = 8),
};

static void test_realloc_frees_old_block_on_its_allocating_stack(void **state)
{
	expect_sites(trace_mode("realloc"), realloc_sites, 2);
	(void)state;
}

static void test_realloc_chain_counts_every_step_once(void **state)
{
	json_object *r = trace_mode("realloc");

	expect_site(r, &realloc_sites[2]);
	expect_totals_exact(r, realloc_sites, ARRAY_SIZE(realloc_sites), 0, false);
	(void)state;
}

static void test_realloc_to_zero_frees_block(void **state)
{
	static const struct site sites[] = {
		SITE("zero_alloc", MAIN_THREAD("run_realloc0"), .allocs = 100,
		     .alloc_bytes = 4000, .frees = 100, .freed_bytes = 4000,
		     .peak_blocks = 1, .peak_bytes = 40, .temporary = 100),
	};
	json_object *r = trace_mode("realloc0");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	if (has_stack(r, "zero_realloc"))
		expect_site(r, &(struct site)SITE("zero_realloc"));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

static void test_reallocarray_counts_once_per_call(void **state)
{
	static const struct site sites[] = {
		SITE("do_reallocarray", MAIN_THREAD("run_reallocarray"), .allocs = 100,
		     .alloc_bytes = 6400, .live_blocks = 100, .live_bytes = 6400,
		     .peak_blocks = 100, .peak_bytes = 6400),
	};
	json_object *r = trace_mode("reallocarray");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

#define KEPT50(name, size) \
	SITE(name, MAIN_THREAD("run_memalign"), .allocs = 50, .alloc_bytes = 50 * (size), \
	     .live_blocks = 50, .live_bytes = 50 * (size), .peak_blocks = 50, \
	     .peak_bytes = 50 * (size))

static void test_memalign_family_counts_requested_size_once(void **state)
{
	/* aligned_alloc and memalign share one address in glibc 2.36 */
	static const struct site sites[] = {
		KEPT50("do_posix_memalign", 100), KEPT50("do_aligned_alloc", 128),
		KEPT50("do_memalign", 200), KEPT50("do_valloc", 300),
		KEPT50("do_pvalloc", 400),
	};
	json_object *r = trace_mode("memalign");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

static void test_big_mmap_blocks_counted_once(void **state)
{
	static const struct site sites[] = {
		SITE("big_temp_malloc", MAIN_THREAD("run_big"), .allocs = 2,
		     .alloc_bytes = 16777216, .frees = 2, .freed_bytes = 16777216,
		     .temporary = 2),
		SITE("big_malloc", MAIN_THREAD("run_big"), .allocs = 3,
		     .alloc_bytes = 12582912, .live_blocks = 3, .live_bytes = 12582912,
		     .peak_blocks = 3, .peak_bytes = 12582912),
	};
	json_object *r = trace_mode("big");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

/* strdup's malloc: frames[0] is strdup in libc, not the workload. */
#define STRDUP_NAMES { "strdup", "__strdup", "__GI___strdup" }
#define STRDUP_COUNTS .allocs = 100, .alloc_bytes = 1200, .live_blocks = 100, \
	.live_bytes = 1200, .peak_blocks = 100, .peak_bytes = 1200

static void expect_libc_frame0(json_object *r, const struct site *site)
{
	json_object *f0 = json_object_array_get_idx(get(find_stack(r, site->fn), "frames"), 0);
	const char *module = get_string_or_null(f0, "module");

	if (!module || strncmp(base_name(module), "libc", 4) != 0)
		fail_msg("%s frame module is %s, expected libc", site->fn[0],
			 module ? module : "null");
}

/*
 * glibc's strdup keeps a length in %rbp when it calls malloc, so only
 * CFI unwinding (the default, --unwind auto) gets from strdup back to its
 * caller.
 */
static void test_strdup_unwinds_through_libc_to_caller(void **state)
{
	static const struct site sites[] = {
		{ .fn = STRDUP_NAMES, .callers = { "do_strdup", "run_strdup", "main" },
		  STRDUP_COUNTS },
	};
	json_object *r = trace_mode("strdup");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_libc_frame0(r, &sites[0]);
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

/* With frame pointers only the walk stops in strdup; counts stay exact. */
static void test_strdup_counts_exact_with_fp_unwinding(void **state)
{
	static const char *const fp[] = { "--unwind", "fp", NULL };
	static const struct site sites[] = {
		{ .fn = STRDUP_NAMES, STRDUP_COUNTS },
	};
	json_object *r = trace_with(fp, "strdup");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_libc_frame0(r, &sites[0]);
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

/* Full CFI unwinding must find the same sites, callers and counts. */
static void test_dwarf_unwinding_finds_same_sites_and_counts(void **state)
{
	static const char *const dwarf[] = { "--unwind", "dwarf", NULL };

	expect_sites(trace_with(dwarf, "realloc"), realloc_sites, ARRAY_SIZE(realloc_sites));
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Sampling (--sample-bytes): estimates within bounds from statistics  */
/* ------------------------------------------------------------------ */

/*
 * An allocation of size s < N is recorded with p = 1 - exp(-(k + 1/2) /
 * 4096), k = s * 4096 / N (the BPF side's quantized Poisson probability),
 * and weighted 1/p. The count estimate over n allocations then has mean n
 * and standard deviation sqrt(n (1 - p) / p): assert within 5 sigma.
 */
static double sample_p(double size, double n)
{
	double k = (double)(int64_t)(size * 4096 / n);

	return -expm1(-(k + 0.5) / 4096);
}

static void expect_estimate(const char *what, int64_t got, double want, double sigma)
{
	if (fabs((double)got - want) > 5 * sigma)
		fail_msg("%s: estimate %lld is more than 5 sigma (%.0f) from %.0f", what,
			 (long long)got, sigma, want);
}

static json_object *sampled_stack(json_object *r, const char *fn, int64_t sample_bytes)
{
	const char *const names[3] = { fn, NULL, NULL };
	json_object *sampling = get(r, "sampling");

	assert_int_equal(get_int(sampling, "sample_bytes"), sample_bytes);
	assert_true(json_object_get_boolean(get(sampling, "estimates")));
	return find_stack(r, names);
}

static void test_sampling_estimates_are_within_five_sigma(void **state)
{
	static const char *const opts[] = { "--sample-bytes", "512", "--seed", "7", NULL };
	json_object *st = sampled_stack(trace_with(opts, "keep"), "keep_malloc", 512);
	double p = sample_p(100, 512), sigma = sqrt(1000 * (1 - p) / p);

	expect_estimate("keep_malloc allocs", get_int(st, "allocs"), 1000, sigma);
	expect_estimate("keep_malloc live_blocks", get_int(st, "live_blocks"), 1000, sigma);
	expect_estimate("keep_malloc live_bytes", get_int(st, "live_bytes"), 100000, 100 * sigma);
	assert_int_equal(get_int(st, "frees"), 0);
	(void)state;
}

static void test_sampling_records_frees_of_sampled_blocks_only(void **state)
{
	static const char *const opts[] = { "--sample-bytes", "512", "--seed", "3", NULL };
	json_object *r = trace_with(opts, "churn");
	json_object *st = sampled_stack(r, "churn_malloc", 512);
	double p = sample_p(64, 512), sigma = sqrt(5000 * (1 - p) / p);
	int64_t allocs = get_int(st, "allocs");

	expect_estimate("churn_malloc allocs", allocs, 5000, sigma);
	/* Every recorded block's free is recorded, no other free is. */
	assert_int_equal(get_int(st, "frees"), allocs);
	assert_int_equal(get_int(st, "temporary"), allocs);
	assert_int_equal(get_int(st, "live_blocks"), 0);
	assert_int_equal(get_int(st, "live_bytes"), 0);
	assert_int_equal(get_int(get(r, "totals"), "unknown_frees"), 0);
	(void)state;
}

/*
 * glibc's memalign family hands alignments of 16 or less on to malloc's
 * own entry: posix_memalign through _mid_memalign (a call), aligned_alloc
 * and memalign by a jump at their own stack pointer. That malloc is nested
 * in the call - no stale call, no second sampling draw - under every link
 * kind, so each site's estimate is its 300 calls, not twice that. (The jump
 * used to count as a stale call and draw again; with session uprobes,
 * cancelling an unsampled posix_memalign's return did the same.)
 */
static void test_sampling_draws_once_per_memalign_call(void **state)
{
	static const char *const opts[] = { "--sample-bytes", "256", "--seed", "5", NULL };
	static const char *const links[] = { NULL, "multi" };
	static const char *const fns[] = { "do_posix_memalign", "do_aligned_alloc",
					   "do_memalign" };
	double p = sample_p(64, 256), sigma = sqrt(300 * (1 - p) / p);
	json_object *exact = trace_mode("smallalign");

	assert_int_equal(get_int(get(exact, "loss"), "stale_calls"), 0);
	for (size_t k = 0; k < ARRAY_SIZE(links); k++) {
		json_object *r;

		if (links[k])
			setenv("HEAPTRACE_LINKS", links[k], 1);
		r = trace_with(opts, "smallalign");
		unsetenv("HEAPTRACE_LINKS");
		assert_int_equal(get_int(get(r, "loss"), "stale_calls"), 0);
		for (size_t i = 0; i < ARRAY_SIZE(fns); i++)
			expect_estimate(fns[i], get_int(sampled_stack(r, fns[i], 256), "allocs"),
					300, sigma);
	}
	(void)state;
}

static void test_sampling_records_large_blocks_exactly(void **state)
{
	static const char *const opts[] = { "--sample-bytes", "1M", "--seed", "1", NULL };
	static const struct site sites[] = {
		SITE("big_temp_malloc", MAIN_THREAD("run_big"), .allocs = 2,
		     .alloc_bytes = 16777216, .frees = 2, .freed_bytes = 16777216,
		     .temporary = 2),
		SITE("big_malloc", MAIN_THREAD("run_big"), .allocs = 3,
		     .alloc_bytes = 12582912, .live_blocks = 3, .live_bytes = 12582912,
		     .peak_blocks = 3, .peak_bytes = 12582912),
	};
	json_object *r = trace_with(opts, "big");

	assert_int_equal(get_int(get(r, "sampling"), "sample_bytes"), 1 << 20);
	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Probe links                                                         */
/* ------------------------------------------------------------------ */

/* A stack as one line: its frame functions and its counters. */
static void stack_line(json_object *st, char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; frame_function(st, i) && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s;", frame_function(st, i));
	for (size_t k = 0; k < ARRAY_SIZE(counter_keys) && n < len; k++)
		n += (size_t)snprintf(buf + n, len - n, " %s=%lld", counter_keys[k],
				      (long long)get_int(st, counter_keys[k]));
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every stack with the same counters in both reports, and the same total
 * counts. */
static void expect_same_profile(const char *what, json_object *a, json_object *b)
{
	json_object *sa = get(a, "stacks"), *sb = get(b, "stacks");
	size_t n = json_object_array_length(sa);
	char **la, **lb;

	/* counts only: times (peak_time_s, lifetimes) differ from run to run */
	for (size_t k = 0; k < ARRAY_SIZE(counter_keys) + ARRAY_SIZE(total_only_keys); k++) {
		const char *key = k < ARRAY_SIZE(counter_keys)
					  ? counter_keys[k]
					  : total_only_keys[k - ARRAY_SIZE(counter_keys)];

		if (get_int(get(a, "totals"), key) != get_int(get(b, "totals"), key))
			fail_msg("%s: totals.%s differ: %lld, %lld", what, key,
				 (long long)get_int(get(a, "totals"), key),
				 (long long)get_int(get(b, "totals"), key));
	}
	assert_int_equal(json_object_array_length(sb), n);
	la = calloc(n, sizeof(*la));
	lb = calloc(n, sizeof(*lb));
	assert_true(la && lb);
	for (size_t i = 0; i < n; i++) {
		la[i] = malloc(4096);
		lb[i] = malloc(4096);
		assert_true(la[i] && lb[i]);
		stack_line(json_object_array_get_idx(sa, i), la[i], 4096);
		stack_line(json_object_array_get_idx(sb, i), lb[i], 4096);
	}
	qsort(la, n, sizeof(*la), cmp_line);
	qsort(lb, n, sizeof(*lb), cmp_line);
	for (size_t i = 0; i < n; i++)
		if (strcmp(la[i], lb[i]))
			fail_msg("%s: stacks differ:\n  %s\n  %s", what, la[i], lb[i]);
	for (size_t i = 0; i < n; i++) {
		free(la[i]);
		free(lb[i]);
	}
	free(la);
	free(lb);
}

/* `heaptrace -vv OPTS -- known MODE` with HEAPTRACE_LINKS=links (NULL:
 * unset); its stderr must name the links it used. */
static json_object *trace_links(const char *links, const char *opt, const char *val,
				const char *mode, const char *used)
{
	const char *const opts[] = { "-vv", opt, val, NULL };
	static struct buf err;
	char path[PATH_MAX];
	json_object *r;

	if (links)
		setenv("HEAPTRACE_LINKS", links, 1);
	r = trace_with(opts, mode);
	unsetenv("HEAPTRACE_LINKS");
	tmp_path(path, sizeof(path), "heaptrace", "stderr");
	read_file(path, &err);
	if (!strstr(err.data, used))
		fail_msg("HEAPTRACE_LINKS=%s %s %s: stderr does not say '%s'", links ? links : "",
			 opt ? opt : "", mode, used);
	return r;
}

/*
 * The fallbacks for kernels without session uprobes (one uprobe_multi
 * link per object and kind) or without uprobe_multi links (one link per
 * probe point), forced here through HEAPTRACE_LINKS, see exactly what the
 * session links see, whose numbers the tests above check - with size
 * filters too, where session links cancel the return probes of the calls
 * left out. (Sampled runs differ from run to run: each thread's random
 * stream is seeded with its thread id; the sampling tests above run on
 * session links.)
 */
static void test_link_fallbacks_count_the_same(void **state)
{
	static const struct {
		const char *mode, *opt, *val;
	} runs[] = {
		{ "keep", NULL, NULL }, { "churn", NULL, NULL }, { "realloc", NULL, NULL },
		{ "memalign", NULL, NULL },
		{ "realloc", "--max-size", "100" }, { "realloc", "--min-size", "100" },
		{ "memalign", "--min-size", "200" }, { "churn", "--max-size", "32" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(runs); i++) {
		const char *m = runs[i].mode, *o = runs[i].opt, *v = runs[i].val;
		json_object *best = trace_links(NULL, o, v, m, "session uprobe_multi links");

		expect_same_profile(m, best, trace_links("multi", o, v, m,
							 "through uprobe_multi links"));
		expect_same_profile(m, best, trace_links("single", o, v, m,
							 "through single uprobe links"));
	}
	(void)state;
}

/* ------------------------------------------------------------------ */
/* In-kernel size filters (--min-size, --max-size)                    */
/* ------------------------------------------------------------------ */

static void test_min_size_records_only_large_enough_allocations(void **state)
{
	static const char *const opts[] = { "--min-size", "200", NULL };
	static const struct site sites[] = {
		KEPT50("do_memalign", 200), KEPT50("do_valloc", 300), KEPT50("do_pvalloc", 400),
	};
	json_object *r = trace_with(opts, "memalign");
	json_object *f = get(r, "size_filter");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	assert_false(has_stack(r, "do_posix_memalign"));
	assert_false(has_stack(r, "do_aligned_alloc"));
	assert_int_equal(get_int(f, "min_size"), 200);
	assert_int_equal(get_int(f, "max_size"), 0);
	assert_int_equal(get_int(f, "filtered_allocs"), 100);
	(void)state;
}

/* A realloc growing past the limit frees the recorded block it replaces. */
static void test_max_size_frees_recorded_block_when_realloc_grows_past(void **state)
{
	static const char *const opts[] = { "--max-size", "100", NULL };
	static const struct site sites[] = {
		SITE("grow_realloc", MAIN_THREAD("run_realloc"), .allocs = 3, .alloc_bytes = 112,
		     .frees = 3, .freed_bytes = 112, .peak_blocks = 1, .peak_bytes = 64,
		     .temporary = 3),
	};
	json_object *r = trace_with(opts, "realloc");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	assert_false(has_stack(r, "orig_alloc"));
	assert_false(has_stack(r, "move_realloc"));
	/* 10 x 1000 + 10 x 100000 + 6 growth steps of 128..4096 */
	assert_int_equal(get_int(get(r, "size_filter"), "filtered_allocs"), 26);
	(void)state;
}

/*
 * known threads also makes glibc's own thread bookkeeping calls (DTV
 * callocs, frees of per-thread caches), so totals are only bounded.
 */
static const struct site thread_sites[] = {
	/* freed by thread B: counted here, never temporary */
	SITE("thread_alloc", .callers = { "thread_a_main" }, .allocs = 1000,
	     .alloc_bytes = 48000, .frees = 1000, .freed_bytes = 48000,
	     .peak_blocks = 1000, .peak_bytes = 48000),
	/* 4 threads x 500, interleaved: temporary is per thread */
	SITE("thread_churn", .callers = { "thread_churn_main" }, .allocs = 2000,
	     .alloc_bytes = 48000, .frees = 2000, .freed_bytes = 48000, .temporary = 2000),
};

static void test_threads_cross_thread_free_counts_on_allocating_stack(void **state)
{
	json_object *r = trace_mode("threads");

	expect_site(r, &thread_sites[0]);
	assert_false(has_stack(r, "thread_free"));
	assert_true(get_int(get(r, "totals"), "peak_bytes") >= 48000);
	(void)state;
}

static void test_threads_concurrent_churn_is_temporary_per_thread(void **state)
{
	expect_site(trace_mode("threads"), &thread_sites[1]);
	(void)state;
}

static void test_peak_is_per_stack_share_at_global_peak(void **state)
{
	static const struct site sites[] = {
		SITE("before_peak", MAIN_THREAD("run_peak"), .allocs = 10, .alloc_bytes = 5000,
		     .live_blocks = 10, .live_bytes = 5000, .peak_blocks = 10, .peak_bytes = 5000),
		/* freed newest first: only the last block is temporary */
		SITE("peak_phase", MAIN_THREAD("run_peak"), .allocs = 100,
		     .alloc_bytes = 1000000, .frees = 100, .freed_bytes = 1000000,
		     .peak_blocks = 100, .peak_bytes = 1000000, .temporary = 1),
		/* allocated after the peak: nothing of it was live then */
		SITE("after_peak", MAIN_THREAD("run_peak"), .allocs = 50, .alloc_bytes = 50000,
		     .live_blocks = 50, .live_bytes = 50000),
	};
	json_object *r = trace_mode("peak");

	expect_sites(r, sites, ARRAY_SIZE(sites));
	expect_totals_exact(r, sites, ARRAY_SIZE(sites), 0, false);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Attach-mode tests                                                   */
/* ------------------------------------------------------------------ */

/* What is traced of `known attach` once attached. */
static const struct site attach_sites[] = {
	SITE("post_attach_alloc", MAIN_THREAD("run_attach"), .allocs = 200,
	     .alloc_bytes = 6400, .live_blocks = 200, .live_bytes = 6400,
	     .peak_blocks = 200, .peak_bytes = 6400),
};

struct attach_run {
	pid_t workload, tracer;
	int to_workload, from_workload; /* its stdin, its stdout */
	int tracer_err;
	struct buf err;
	char json_path[PATH_MAX];
};

static struct attach_run att = { .to_workload = -1, .from_workload = -1, .tracer_err = -1 };

/*
 * Start `known attach`, wait until it has made its pre-attach blocks,
 * attach `heaptrace EXTRA... --json FILE -p PID` and wait for its
 * "attached" line.
 */
static void attach_start(const char *const extra[])
{
	int in[2], out[2], err[2];
	char pid_str[16], out_path[PATH_MAX];
	char *known_argv[] = { (char *)known_bin, "attach", NULL };
	char *argv[10];
	size_t n = 0;
	int out_fd;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe_nonblock(err), 0);
	att.workload = spawn(known_argv, NULL, in[0], out[1], -1);
	close(in[0]);
	close(out[1]);
	att.to_workload = in[1];
	att.from_workload = out[0];
	if (read_byte(att.from_workload, 10) != 'R')
		fail_msg("known attach did not report ready");

	run_seq++;
	tmp_path(att.json_path, sizeof(att.json_path), "attach", "json");
	tmp_path(out_path, sizeof(out_path), "attach", "stdout");
	snprintf(pid_str, sizeof(pid_str), "%d", (int)att.workload);
	argv[n++] = (char *)heaptrace_bin;
	for (; extra && *extra && n < ARRAY_SIZE(argv) - 6; extra++)
		argv[n++] = (char *)*extra;
	argv[n++] = "--json";
	argv[n++] = att.json_path;
	argv[n++] = "-p";
	argv[n++] = pid_str;
	argv[n] = NULL;
	out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(out_fd >= 0);
	att.err.len = 0;
	att.err.data[0] = '\0';
	att.tracer = spawn(argv, NULL, -1, out_fd, err[1]);
	close(out_fd);
	close(err[1]);
	att.tracer_err = err[0];
	if (!wait_for_text(att.tracer_err, &att.err, "attached", run_timeout))
		fail_msg("heaptrace -p %d never said \"attached\"; stderr:\n%s",
			 (int)att.workload, att.err.data);
}

/* Let the workload run its traced part and wait until it is done. */
static void attach_release_workload(void)
{
	write_byte(att.to_workload, 'G');
	if (read_byte(att.from_workload, 30) != 'D')
		fail_msg("known attach did not finish its traced part");
}

/* Let the workload exit (end of file on its stdin) and reap it. */
static void attach_end_workload(void)
{
	close_fd(&att.to_workload);
	assert_int_equal(wait_for(att.workload, 30, -1, NULL), 0);
}

static json_object *attach_finish_tracer(bool exited)
{
	int code = wait_for(att.tracer, run_timeout, att.tracer_err, &att.err);
	json_object *r;

	if (code != 0)
		fail_msg("heaptrace -p exited with %d; stderr:\n%s", code, att.err.data);
	r = load_report(att.json_path);
	check_report_shape(r, exited);
	assert_int_equal(get_int(get(r, "target"), "pid"), att.workload);
	return r;
}

/* Blocks made before attaching are invisible; their frees are unknown. */
static void expect_attach_profile(json_object *r)
{
	assert_false(has_stack(r, "pre_attach_alloc"));
	expect_sites(r, attach_sites, ARRAY_SIZE(attach_sites));
	expect_totals_exact(r, attach_sites, ARRAY_SIZE(attach_sites), 10, true);
}

static void test_attach_ends_with_target_and_counts_unknown_frees(void **state)
{
	json_object *r;

	attach_start(NULL);
	attach_release_workload();
	attach_end_workload();
	r = attach_finish_tracer(true);
	expect_attach_profile(r);
	json_object_put(r);
	(void)state;
}

static void test_attach_sigint_stops_tracing_running_target(void **state)
{
	json_object *r;

	attach_start(NULL);
	attach_release_workload();
	assert_int_equal(kill(att.tracer, SIGINT), 0);
	r = attach_finish_tracer(false);
	attach_end_workload();
	expect_attach_profile(r);
	json_object_put(r);
	(void)state;
}

static void test_attach_duration_limit_stops_tracing(void **state)
{
	static const char *const limit[] = { "-d", "2", NULL };
	json_object *r;

	attach_start(limit);
	attach_release_workload();
	r = attach_finish_tracer(false);
	attach_end_workload();
	expect_attach_profile(r);
	if (json_object_get_double(get(r, "duration_s")) < 1.5)
		fail_msg("-d 2 traced for only %.3f s", json_object_get_double(get(r, "duration_s")));
	json_object_put(r);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Bad input                                                           */
/* ------------------------------------------------------------------ */

static void expect_bad_input(const char *const args[], bool one_line)
{
	static struct buf out, err;
	char cmd[512] = "heaptrace";
	int code = run_heaptrace(args, &out, &err);
	char *nl;

	for (const char *const *a = args; *a; a++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s", *a);
	if (code != 2)
		fail_msg("`%s` exited with %d, expected 2; stderr:\n%s", cmd, code, err.data);
	if (err.len == 0)
		fail_msg("`%s` exited 2 without a message on stderr", cmd);
	nl = strchr(err.data, '\n');
	if (one_line && (err.len < 2 || nl != err.data + err.len - 1))
		fail_msg("expected exactly one line on stderr, got:\n%s", err.data);
}

static void test_attach_nonexistent_pid_exits_2_with_one_line(void **state)
{
	char pid_str[16];
	const char *args[] = { "-p", pid_str, NULL };
	pid_t pid = 999999;

	/* pid_max is usually far below, but make sure. */
	while (kill(pid, 0) == 0 || errno != ESRCH)
		pid++;
	snprintf(pid_str, sizeof(pid_str), "%d", (int)pid);
	expect_bad_input(args, true);
	(void)state;
}

static void test_attach_kernel_thread_exits_2(void **state)
{
	const char *args[] = { "-p", "2", NULL };

	expect_bad_input(args, false);
	(void)state;
}

static void test_launch_nonexistent_command_exits_2(void **state)
{
	char json_path[PATH_MAX];
	const char *args[] = { "--json", json_path, "--", "/nonexistent/cmd", NULL };

	snprintf(json_path, sizeof(json_path), "%s/nonexistent-cmd.json", tmpdir);
	expect_bad_input(args, false);
	(void)state;
}

static void test_no_target_is_usage_error_exit_2(void **state)
{
	const char *args[] = { NULL };

	expect_bad_input(args, false);
	(void)state;
}

static void test_unknown_option_is_usage_error_exit_2(void **state)
{
	const char *args[] = { "--no-such-option", "--", "/bin/true", NULL };

	expect_bad_input(args, false);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Fixtures and main                                                   */
/* ------------------------------------------------------------------ */

static int teardown_test(void **state)
{
	kill_children();
	close_fd(&att.to_workload);
	close_fd(&att.from_workload);
	close_fd(&att.tracer_err);
	(void)state;
	return 0;
}

static int setup_group(void **state)
{
	struct stat st;

	heaptrace_bin = env_or("HEAPTRACE", "./heaptrace");
	known_bin = env_or("HEAPTRACE_KNOWN", ".output/tests/known");
	known_src = env_or("HEAPTRACE_KNOWN_SRC", "tests/workloads/known.c");
	run_timeout = test_timeout(120);

	if (stat(heaptrace_bin, &st) != 0 || stat(known_bin, &st) != 0 ||
	    stat(known_src, &st) != 0) {
		fprintf(stderr, "integration: need %s, %s and %s (set HEAPTRACE, "
			"HEAPTRACE_KNOWN, HEAPTRACE_KNOWN_SRC)\n",
			heaptrace_bin, known_bin, known_src);
		return -1;
	}
	warn_unless_root();
	if (make_tmpdir(tmpdir))
		return -1;
	(void)state;
	return 0;
}

static int teardown_group(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(reports); i++) {
		if (reports[i].report)
			json_object_put(reports[i].report);
	}
	finish_tmpdir("integration", "outputs", tmpdir);
	(void)state;
	return 0;
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown_test)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_keep_malloc_blocks_stay_live),
		T(test_churn_malloc_free_pairs_are_temporary),
		T(test_calloc_counts_n_times_size),
		T(test_realloc_frees_old_block_on_its_allocating_stack),
		T(test_realloc_chain_counts_every_step_once),
		T(test_realloc_to_zero_frees_block),
		T(test_reallocarray_counts_once_per_call),
		T(test_memalign_family_counts_requested_size_once),
		T(test_big_mmap_blocks_counted_once),
		T(test_strdup_unwinds_through_libc_to_caller),
		T(test_strdup_counts_exact_with_fp_unwinding),
		T(test_dwarf_unwinding_finds_same_sites_and_counts),
		T(test_sampling_estimates_are_within_five_sigma),
		T(test_sampling_records_frees_of_sampled_blocks_only),
		T(test_sampling_records_large_blocks_exactly),
		T(test_sampling_draws_once_per_memalign_call),
		T(test_link_fallbacks_count_the_same),
		T(test_min_size_records_only_large_enough_allocations),
		T(test_max_size_frees_recorded_block_when_realloc_grows_past),
		T(test_threads_cross_thread_free_counts_on_allocating_stack),
		T(test_threads_concurrent_churn_is_temporary_per_thread),
		T(test_peak_is_per_stack_share_at_global_peak),
		T(test_attach_ends_with_target_and_counts_unknown_frees),
		T(test_attach_sigint_stops_tracing_running_target),
		T(test_attach_duration_limit_stops_tracing),
		T(test_attach_nonexistent_pid_exits_2_with_one_line),
		T(test_attach_kernel_thread_exits_2),
		T(test_launch_nonexistent_command_exits_2),
		T(test_no_target_is_usage_error_exit_2),
		T(test_unknown_option_is_usage_error_exit_2),
	};

	return test_main(argc, argv, "integration", tests, ARRAY_SIZE(tests), setup_group,
			 teardown_group);
}
