// SPDX-License-Identifier: MIT
/*
 * Allocator tests: run the real heaptrace (as root) against workloads on
 * every allocator it discovers by itself and compare its JSON report with
 * their known heap profiles, exactly.
 *
 *   - Debian's jemalloc: linked (-ljemalloc), linked statically into the
 *     executable, preloaded under a C++ program (attach mode), and its
 *     non-standard API (mallocx, rallocx, xallocx, sdallocx, dallocx);
 *   - tcmalloc and mimalloc: standard API, their own API, C++ new/delete,
 *     and mimalloc dlopen()ed after tracing started;
 *   - glibc inside a statically linked program, and C++ on glibc, whose
 *     libstdc++ operators must not count twice;
 *   - a Rust program whose global allocator is `_rjem_`-prefixed jemalloc
 *     inside the executable, next to glibc's malloc;
 *   - allocators it does not recognise: a program's own malloc (which
 *     libc binds to) and an LD_PRELOAD one, launched and attached to;
 *     glibc's malloc, which nothing calls then, is not probed;
 *   - a process whose memory grows with no traced call: said on stderr
 *     and in the reports, with its RssAnon;
 *   - CPython's object allocator (pymalloc) in Debian's libpython3.11.so:
 *     a program embedding it (C API, launched and attached to), and gdb
 *     running a Python script, against bpftrace's counts on libpython's
 *     symbols; Debian's python3.11 executable, where pymalloc is inlined,
 *     refused (said everywhere), and traced as malloc blocks under
 *     PYTHONMALLOC=malloc; a library of CPython's shape, traced, and
 *     refused when built with -fno-semantic-interposition;
 *   - --allocator (also generic, generic:PATH) and --symbol-prefix, and
 *     their errors.
 *
 * A site is a workload function; its numbers are the sums over the stacks
 * that pass through it. The stacks through the workload's runner (run_std,
 * workload::run...) must add up to exactly the sites: nothing counted
 * twice, nothing missed.
 *
 * Usage: alloc_it [FILTER]   (cmocka test name pattern)
 * Environment:
 *   HEAPTRACE              heaptrace binary (./heaptrace)
 *   HEAPTRACE_ALLOC_DIR    the workloads (.output/tests/alloc)
 *   HEAPTRACE_ALLOC_RUST   the Rust workload (.output/tests/alloc/rust/debug/workload)
 *   HEAPTRACE_TEST_TIMEOUT seconds one heaptrace run may take (120)
 *   HEAPTRACE_TEST_KEEP    keep the temporary directory with the reports
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

extern char **environ;

static const char *heaptrace_bin;
static const char *alloc_dir;
static const char *rust_bin;
static double run_timeout;
static char tmpdir[] = "/tmp/heaptrace-alloc-XXXXXX";
static int run_seq;

static const char *const jemalloc_lib = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
static const char *const mimalloc_lib = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2";

/* ------------------------------------------------------------------ */
/* Processes                                                           */
/* ------------------------------------------------------------------ */

/* Our environment plus `extra` ("NAME=value" or NULL). */
static char **env_with(const char *extra)
{
	static char *env[512];
	size_t n = 0;

	for (char **e = environ; *e && n < ARRAY_SIZE(env) - 2; e++)
		if (!extra || strncmp(*e, "LD_PRELOAD=", 11))
			env[n++] = *e;
	if (extra)
		env[n++] = (char *)extra;
	env[n] = NULL;
	return env;
}

/*
 * Wait for pid as wait_for does, reading err_fd into err and discarding
 * what comes on out_fd (-1: none) meanwhile, so that it never blocks on a
 * full pipe; then read what is left of both.
 */
static int wait_draining(pid_t pid, double timeout, int out_fd, int err_fd, struct buf *err)
{
	double deadline = now() + timeout;
	int code = -2;

	for (;;) {
		struct pollfd p[2] = { { .fd = err_fd, .events = POLLIN },
				       { .fd = out_fd, .events = POLLIN } };
		char scratch[4096];
		bool more = false;
		int st;

		if (code == -2 && waitpid(pid, &st, WNOHANG) == pid) {
			untrack_child(pid);
			code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		if (code == -2 && now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			untrack_child(pid);
			code = -1;
		}
		poll(p, out_fd >= 0 ? 2 : 1, code == -2 ? 20 : 0);
		if (p[0].revents) {
			ssize_t n = read(err_fd, err->len < sizeof(err->data) - 1 ?
					 err->data + err->len : scratch,
					 err->len < sizeof(err->data) - 1 ?
					 sizeof(err->data) - 1 - err->len : sizeof(scratch));

			if (n > 0 && err->len < sizeof(err->data) - 1) {
				err->len += (size_t)n;
				err->data[err->len] = '\0';
			}
			more |= n > 0;
		}
		if (out_fd >= 0 && p[1].revents)
			more |= read(out_fd, scratch, sizeof(scratch)) > 0;
		if (code != -2 && !more)
			return code;
	}
}

static void tmp_path(char *path, size_t len, const char *what, const char *ext)
{
	snprintf(path, len, "%s/%03d-%s.%s", tmpdir, run_seq, what, ext);
}

static json_object *load_report(const char *path)
{
	json_object *r = json_object_from_file(path);

	if (!r)
		fail_msg("cannot parse JSON report %s: %s", path, json_util_get_last_err());
	return r;
}

/*
 * `[env] heaptrace OPTS... --json FILE -- CMD...`: must exit 0; returns
 * the report and leaves heaptrace's stderr in err (and its stdout, the
 * text report, in out unless NULL).
 */
static json_object *trace_cmd(const char *env, const char *const opts[], char *const cmd[],
			      struct buf *err, struct buf *out)
{
	char json[PATH_MAX], out_path[PATH_MAX], err_path[PATH_MAX];
	const char *program = cmd[0];
	char *argv[32];
	size_t n = 0;
	int out_fd, err_fd, code;

	run_seq++;
	tmp_path(json, sizeof(json), "report", "json");
	tmp_path(out_path, sizeof(out_path), "heaptrace", "stdout");
	tmp_path(err_path, sizeof(err_path), "heaptrace", "stderr");
	argv[n++] = (char *)heaptrace_bin;
	for (; opts && *opts; opts++)
		argv[n++] = (char *)*opts;
	argv[n++] = "--json";
	argv[n++] = json;
	argv[n++] = "--";
	for (; *cmd && n < ARRAY_SIZE(argv) - 1; cmd++)
		argv[n++] = *cmd;
	argv[n] = NULL;
	out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(out_fd >= 0 && err_fd >= 0);
	code = wait_for(spawn(argv, env_with(env), -1, out_fd, err_fd), run_timeout, -1, NULL);
	close(out_fd);
	close(err_fd);
	read_file(err_path, err);
	if (out)
		read_file(out_path, out);
	if (code != 0)
		fail_msg("`heaptrace ... -- %s` exited with %d; stderr:\n%s", program, code,
			 err->data);
	return load_report(json);
}

/*
 * `[env] heaptrace OPTS... --json FILE -- PROGRAM [ARG]`: must exit 0;
 * returns the report and leaves heaptrace's stderr in err.
 */
static json_object *trace(const char *env, const char *const opts[], const char *program,
			  const char *arg, struct buf *err)
{
	char *cmd[] = { (char *)program, (char *)arg, NULL };

	return trace_cmd(env, opts, cmd, err, NULL);
}

/* `heaptrace OPTS... -- PROGRAM`: must exit 2 (bad input); stderr in err. */
static void trace_fails(const char *const opts[], const char *program, struct buf *err)
{
	char err_path[PATH_MAX];
	char *argv[16];
	size_t n = 0;
	int err_fd, code;

	run_seq++;
	tmp_path(err_path, sizeof(err_path), "heaptrace", "stderr");
	argv[n++] = (char *)heaptrace_bin;
	for (; *opts; opts++)
		argv[n++] = (char *)*opts;
	argv[n++] = "--";
	argv[n++] = (char *)program;
	argv[n] = NULL;
	err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(err_fd >= 0);
	code = wait_for(spawn(argv, env_with(NULL), -1, -1, err_fd), run_timeout, -1, NULL);
	close(err_fd);
	read_file(err_path, err);
	if (code != 2)
		fail_msg("expected exit 2, got %d; stderr:\n%s", code, err->data);
}

static void expect_stderr(const struct buf *err, const char *needle)
{
	if (!strstr(err->data, needle))
		fail_msg("heaptrace's stderr lacks \"%s\":\n%s", needle, err->data);
}

static char *workload(const char *name)
{
	static char path[8][PATH_MAX];
	static int slot;
	char *p = path[slot++ % 8];

	snprintf(p, PATH_MAX, "%s/%s", alloc_dir, name);
	return p;
}

/* ------------------------------------------------------------------ */
/* Reports and expected profiles                                       */
/* ------------------------------------------------------------------ */

static const char *const counters[] = {
	"allocs", "alloc_bytes", "frees", "freed_bytes", "live_blocks",
	"live_bytes", "peak_blocks", "peak_bytes", "temporary",
};

struct site {
	const char *fn;
	int64_t v[9];  /* in the order of counters[] */
};

/* allocs, bytes, kept (live at the end and at the peak) */
#define KEPT(fn, n, bytes) { fn, { n, bytes, 0, 0, n, bytes, n, bytes, 0 } }
/* n blocks each freed at once; at the peak `pb` blocks of `pbytes` were live */
#define TEMP(fn, n, bytes, pb, pbytes) { fn, { n, bytes, n, bytes, 0, 0, pb, pbytes, n } }
/* realloc(NULL, 16), then 32 ... 4096: each step frees the last block */
#define GROW(fn) { fn, { 9, 8176, 8, 4080, 1, 4096, 1, 4096, 8 } }

static const char *frame_fn(json_object *frame)
{
	json_object *f = get(frame, "function");

	return json_object_is_type(f, json_type_string) ? json_object_get_string(f) : NULL;
}

/* Index of the first frame of stack s named fn, or -1. */
static int frame_index(json_object *s, const char *fn)
{
	json_object *frames = get(s, "frames");

	for (size_t i = 0; i < json_object_array_length(frames); i++) {
		const char *f = frame_fn(json_object_array_get_idx(frames, i));

		if (f && !strcmp(f, fn))
			return (int)i;
	}
	return -1;
}

static void print_stacks(json_object *r, const char *through)
{
	json_object *stacks = get(r, "stacks");

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);

		if (!through || frame_index(s, through) >= 0)
			print_error("  %s\n", json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN));
	}
}

/* Sum of counter k over the stacks through fn; *nstacks of them. */
static int64_t sum_through(json_object *r, const char *fn, size_t k, int *nstacks)
{
	json_object *stacks = get(r, "stacks");
	int64_t sum = 0;

	*nstacks = 0;
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);

		if (frame_index(s, fn) < 0)
			continue;
		sum += get_int(s, counters[k]);
		(*nstacks)++;
	}
	return sum;
}

enum frame0 {
	FRAME0_SITE,     /* frames[0] is the site: the allocator's own entry was probed */
	FRAME0_WRAPPER,  /* the site is below libstdc++'s operator new (glibc) */
	FRAME0_ANY,      /* Rust: the site is somewhere in the stack */
};

/*
 * The sites' numbers, exactly; the stacks through `runner` add up to the
 * sites exactly (when runner is given); nothing lost, no unknown free.
 */
static void expect_profile(json_object *r, const struct site *sites, size_t n,
			   const char *runner, enum frame0 f0)
{
	json_object *stacks = get(r, "stacks"), *totals = get(r, "totals");
	bool bad = false;

	for (size_t i = 0; i < n; i++) {
		int nst = 0;

		for (size_t k = 0; k < ARRAY_SIZE(counters); k++) {
			int64_t got = sum_through(r, sites[i].fn, k, &nst);

			if (got != sites[i].v[k]) {
				print_error("%s: %s = %lld, expected %lld\n", sites[i].fn, counters[k],
					    (long long)got, (long long)sites[i].v[k]);
				bad = true;
			}
		}
		if (!nst) {
			print_error("%s: no stack\n", sites[i].fn);
			bad = true;
		}
		for (size_t s = 0; s < json_object_array_length(stacks) && f0 != FRAME0_ANY; s++) {
			json_object *st = json_object_array_get_idx(stacks, s);
			int at = frame_index(st, sites[i].fn);
			const char *first = frame_fn(json_object_array_get_idx(get(st, "frames"), 0));

			if (at < 0)
				continue;
			if (f0 == FRAME0_SITE && at != 0) {
				print_error("%s: frames[0] is %s, expected the site itself\n",
					    sites[i].fn, first ? first : "null");
				bad = true;
			}
			if (f0 == FRAME0_WRAPPER && (at == 0 || !first || strncmp(first, "operator new", 12))) {
				print_error("%s: frames[0] is %s, expected libstdc++'s operator new\n",
					    sites[i].fn, first ? first : "null");
				bad = true;
			}
		}
	}
	for (size_t k = 0; runner && k < ARRAY_SIZE(counters); k++) {
		int64_t want = 0, got;
		int nst;

		for (size_t i = 0; i < n; i++)
			want += sites[i].v[k];
		got = sum_through(r, runner, k, &nst);
		if (got != want) {
			print_error("stacks through %s: %s = %lld, expected %lld\n", runner,
				    counters[k], (long long)got, (long long)want);
			bad = true;
		}
	}
	if (get_int(totals, "lost_events") != 0 || get_int(totals, "unknown_frees") != 0) {
		print_error("lost_events = %lld, unknown_frees = %lld, expected 0\n",
			    (long long)get_int(totals, "lost_events"),
			    (long long)get_int(totals, "unknown_frees"));
		bad = true;
	}
	if (bad) {
		print_stacks(r, runner);
		fail();
	}
}

/* No stack passes through fn. */
static void expect_no_stack(json_object *r, const char *fn)
{
	int n;

	if (sum_through(r, fn, 0, &n), n) {
		print_stacks(r, fn);
		fail_msg("%d stacks through %s, expected none", n, fn);
	}
}

/* alloc_std, whichever allocator serves it */
static const struct site std_sites[] = {
	{ "std_keep", { 200, 20000, 100, 10000, 100, 10000, 200, 20000, 0 } },
	TEMP("std_churn", 500, 32000, 0, 0),
	KEPT("std_calloc", 50, 15000),
	GROW("std_grow"),
	KEPT("std_posix_memalign", 50, 5000),
	KEPT("std_aligned_alloc", 50, 12800),
	KEPT("std_memalign", 50, 10000),
	KEPT("std_valloc", 50, 15000),
};

/* alloc_cxx, whichever allocator serves it */
static const struct site cxx_sites[] = {
	KEPT("cx_new", 100, 4800),
	TEMP("cx_new_tmp", 50, 2400, 0, 0),
	TEMP("cx_new_array", 50, 10000, 0, 0),
	KEPT("cx_nothrow", 50, 15000),
	KEPT("cx_aligned", 50, 6400),
	TEMP("cx_aligned_tmp", 20, 2560, 0, 0),
	/* the last moment of the peak: one of these was live */
	TEMP("cx_aligned_nothrow", 20, 5120, 1, 256),
	TEMP("cx_new_unsized", 20, 1280, 0, 0),
};

static json_object *reports[32];

static json_object *keep_report(json_object *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(reports); i++)
		if (!reports[i]) {
			reports[i] = r;
			break;
		}
	return r;
}

/* ------------------------------------------------------------------ */
/* jemalloc                                                            */
/* ------------------------------------------------------------------ */

static void test_jemalloc_linked_standard_api(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("std_je"), NULL, &err));

	expect_stderr(&err, "tracing jemalloc 5.");
	expect_stderr(&err, " in libjemalloc.so.2");
	expect_profile(r, std_sites, ARRAY_SIZE(std_sites), "run_std", FRAME0_SITE);
	(void)state;
}

/* jemalloc's archive linked into the executable: found in its .symtab. */
static void test_jemalloc_static_in_executable(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("std_jes"), NULL, &err));

	expect_stderr(&err, "tracing jemalloc 5.");
	expect_stderr(&err, "/std_jes");
	expect_profile(r, std_sites, ARRAY_SIZE(std_sites), "run_std", FRAME0_SITE);
	(void)state;
}

static void test_jemalloc_nonstandard_api(void **state)
{
	static const struct site sites[] = {
		KEPT("jx_mallocx", 100, 10000),
		KEPT("jx_mallocx_zero", 50, 10000),
		TEMP("jx_mallocx_align", 50, 5000, 0, 0),
		TEMP("jx_rstart", 1, 16, 0, 0),
		{ "jx_rallocx", { 8, 8160, 7, 4064, 1, 4096, 1, 4096, 7 } },
		/* resized in place by xallocx: freed there, as by a realloc */
		TEMP("jx_xbase", 20, 2000, 0, 0),
		KEPT("jx_xgrow", 20, 2200),
		/* dallocx'd in allocation order after the peak: the last is temporary */
		{ "jx_dkeep", { 30, 1920, 30, 1920, 0, 0, 30, 1920, 1 } },
	};
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("jex"), NULL, &err));

	expect_profile(r, sites, ARRAY_SIZE(sites), "run_jex", FRAME0_SITE);
	expect_no_stack(r, "jx_xfail");
	(void)state;
}

/*
 * Start `program wait` (with env), attach heaptrace to it, let it run:
 * both must exit 0; returns the report, heaptrace's stderr in err.
 */
static json_object *trace_attached(const char *env, const char *program, struct buf *err)
{
	char pid_s[16], json[PATH_MAX];
	char *wl_argv[] = { (char *)program, "wait", NULL };
	char *ht_argv[] = { (char *)heaptrace_bin, "--json", json, "-p", pid_s, NULL };
	int in[2], out[2], errp[2], code;
	pid_t wl, ht;

	err->len = 0;
	err->data[0] = '\0';
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(errp, O_CLOEXEC | O_NONBLOCK), 0);
	wl = spawn(wl_argv, env_with(env), in[0], out[1], -1);
	close(in[0]);
	close(out[1]);
	if (read_byte(out[0], 10) != 'R')
		fail_msg("%s wait did not report ready", program);
	run_seq++;
	tmp_path(json, sizeof(json), "attach", "json");
	snprintf(pid_s, sizeof(pid_s), "%d", (int)wl);
	ht = spawn(ht_argv, env_with(NULL), -1, -1, errp[1]);
	close(errp[1]);
	if (!wait_for_text(errp[0], err, "attached", run_timeout))
		fail_msg("heaptrace -p never said \"attached\"; stderr:\n%s", err->data);
	if (write(in[1], "G", 1) != 1 || read_byte(out[0], 30) != 'D')
		fail_msg("%s wait did not finish", program);
	close(in[1]);
	close(out[0]);
	assert_int_equal(wait_for(wl, 30, -1, NULL), 0);
	code = wait_draining(ht, run_timeout, -1, errp[0], err);
	close(errp[0]);
	if (code != 0)
		fail_msg("heaptrace -p exited with %d; stderr:\n%s", code, err->data);
	return load_report(json);
}

/*
 * A C++ program started with LD_PRELOAD=libjemalloc.so.2 and attached to:
 * jemalloc's own operator new/delete are probed (their fast path never
 * calls malloc), each call counted once.
 */
static void test_jemalloc_preloaded_cxx_attach(void **state)
{
	char preload[PATH_MAX + 16];
	struct buf err;
	json_object *r;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", jemalloc_lib);
	r = keep_report(trace_attached(preload, workload("cxx"), &err));
	expect_stderr(&err, "tracing jemalloc 5.");
	expect_stderr(&err, " in libjemalloc.so.2");
	expect_profile(r, cxx_sites, ARRAY_SIZE(cxx_sites), "run_cxx", FRAME0_SITE);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* C++ on glibc: libstdc++'s operators are not probed                   */
/* ------------------------------------------------------------------ */

static void test_glibc_cxx_counts_new_once_through_malloc(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("cxx"), NULL, &err));

	expect_stderr(&err, "tracing glibc");
	if (strstr(err.data, "libstdc++"))
		fail_msg("libstdc++ is traced:\n%s", err.data);
	expect_profile(r, cxx_sites, ARRAY_SIZE(cxx_sites), "run_cxx", FRAME0_WRAPPER);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* tcmalloc                                                            */
/* ------------------------------------------------------------------ */

static void test_tcmalloc_standard_api(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("std_tc"), NULL, &err));

	expect_stderr(&err, "tracing tcmalloc 2.");
	expect_stderr(&err, " in libtcmalloc_minimal.so.4");
	expect_profile(r, std_sites, ARRAY_SIZE(std_sites), "run_std", FRAME0_SITE);
	(void)state;
}

static void test_tcmalloc_own_api(void **state)
{
	static const struct site sites[] = {
		KEPT("tc_keep", 100, 10000),
		KEPT("tc_cal", 50, 5000),
		GROW("tc_grow"),
		TEMP("tc_tmp", 50, 2400, 0, 0),
		KEPT("tc_al", 50, 6400),
		KEPT("tc_pm", 50, 4800),
		TEMP("tc_nw", 50, 2000, 1, 40),
	};
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("tc"), NULL, &err));

	expect_profile(r, sites, ARRAY_SIZE(sites), "run_tc", FRAME0_SITE);
	(void)state;
}

static void test_tcmalloc_cxx_operators(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("cxx_tc"), NULL, &err));

	expect_stderr(&err, "tracing tcmalloc");
	expect_profile(r, cxx_sites, ARRAY_SIZE(cxx_sites), "run_cxx", FRAME0_SITE);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* mimalloc                                                            */
/* ------------------------------------------------------------------ */

static void test_mimalloc_standard_api(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("std_mi"), NULL, &err));

	expect_stderr(&err, "tracing mimalloc 2.");
	expect_stderr(&err, " in libmimalloc.so.2");
	expect_profile(r, std_sites, ARRAY_SIZE(std_sites), "run_std", FRAME0_SITE);
	(void)state;
}

static void test_mimalloc_own_api(void **state)
{
	static const struct site sites[] = {
		KEPT("mi_keep", 100, 10000),
		KEPT("mi_zkeep", 50, 3200),
		KEPT("mi_ckeep", 50, 5000),
		GROW("mi_grow"),
		TEMP("mi_al", 50, 5000, 0, 0),
		KEPT("mi_hkeep", 50, 4000),
		KEPT("mi_hcal", 20, 600),
		TEMP("mi_fs", 50, 1600, 1, 32),
		TEMP("mi_nw", 50, 1200, 0, 0),
	};
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("mi"), NULL, &err));

	expect_profile(r, sites, ARRAY_SIZE(sites), "run_mi", FRAME0_SITE);
	(void)state;
}

static void test_mimalloc_cxx_operators(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("cxx_mi"), NULL, &err));

	expect_stderr(&err, "tracing mimalloc");
	expect_profile(r, cxx_sites, ARRAY_SIZE(cxx_sites), "run_cxx", FRAME0_SITE);
	(void)state;
}

/*
 * Launch mode with LD_PRELOAD in the environment: the command will map the
 * preloaded allocator, so its probes are in place from the first call.
 */
static void test_launch_finds_preloaded_allocator(void **state)
{
	char preload[PATH_MAX + 16];
	struct buf err;
	json_object *r;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", mimalloc_lib);
	r = keep_report(trace(preload, NULL, workload("cxx"), NULL, &err));
	expect_stderr(&err, "tracing mimalloc");
	expect_profile(r, cxx_sites, ARRAY_SIZE(cxx_sites), "run_cxx", FRAME0_SITE);
	(void)state;
}

/*
 * mimalloc dlopen()ed by a glibc program after tracing started: its probes
 * go in once it is mapped, and both allocators are traced.
 */
static void test_dlopened_allocator_is_probed_when_mapped(void **state)
{
	static const struct site sites[] = {
		KEPT("dl_before", 10, 500),
		KEPT("dl_mi", 100, 10000),
		KEPT("dl_after", 10, 600),
	};
	char json[PATH_MAX];
	char *argv[] = { (char *)heaptrace_bin, "-v", "--json", json, "--", workload("dl"), NULL };
	int in[2], out[2], errp[2], code;
	struct buf err = { .len = 0 };
	json_object *r;
	pid_t ht;

	run_seq++;
	tmp_path(json, sizeof(json), "dl", "json");
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(errp, O_CLOEXEC | O_NONBLOCK), 0);
	ht = spawn(argv, env_with(NULL), in[0], out[1], errp[1]);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	if (read_byte(out[0], run_timeout) != 'R')
		fail_msg("alloc_dl did not report ready");
	if (!wait_for_text(errp[0], &err, "(mapped later", 10))
		fail_msg("heaptrace did not find the dlopen'd allocator; stderr:\n%s", err.data);
	expect_stderr(&err, "tracing mimalloc");
	if (write(in[1], "G", 1) != 1 || read_byte(out[0], 30) != 'D')
		fail_msg("alloc_dl did not finish");
	close(in[1]);
	/* its text report follows on the same pipe */
	code = wait_draining(ht, run_timeout, out[0], errp[0], &err);
	close(out[0]);
	close(errp[0]);
	if (code != 0)
		fail_msg("heaptrace exited with %d; stderr:\n%s", code, err.data);
	r = keep_report(load_report(json));
	/* dlopen allocates inside run_dl too: only the sites are exact */
	expect_profile(r, sites, ARRAY_SIZE(sites), NULL, FRAME0_SITE);
	(void)state;
}

/*
 * jemalloc dlopen()ed with no handshake: heaptrace learns of it from the
 * dynamic linker's announcement (its uprobe on _dl_debug_state), says so
 * by default, and sees every one of the 1000 mallocx calls the workload
 * makes 300 ms later. (jemalloc's initial-exec TLS needs room in the
 * static TLS block to be dlopen()ed.)
 */
static const char dlje_env[] = "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536";

static void test_dlopened_jemalloc_after_announcement(void **state)
{
	/* all 1000 live at the peak, then each freed (not by their thread's
	 * next allocation: the frees come in a row, so the last is temporary) */
	static const struct site sites[] = {
		{ "dlje_alloc", { 1000, 100000, 1000, 100000, 0, 0, 1000, 100000, 1 } },
	};
	struct buf err;
	json_object *r = keep_report(trace(dlje_env, NULL, workload("dlje"), NULL, &err));

	expect_stderr(&err, "tracing jemalloc 5.3.0 in libjemalloc.so.2 from ");
	expect_stderr(&err, " (mapped later: its calls before then are not seen)");
	expect_profile(r, sites, ARRAY_SIZE(sites), NULL, FRAME0_SITE);
	assert_int_equal(get_int(get(r, "memory"), "late_allocator_unknown_frees"), 0);
	(void)state;
}

/*
 * The same, its 1000 mallocx paced one per millisecond from the dlopen on:
 * those before the probes are missed, and their dallocx are unknown frees
 * labelled as an allocator's traced late - exactly as many as were missed.
 */
static void test_late_allocator_frees_are_labelled(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(dlje_env, NULL, workload("dlje"), "paced", &err));
	int64_t seen, late;
	int n;

	seen = sum_through(r, "dlje_alloc", 0, &n);
	late = get_int(get(r, "memory"), "late_allocator_unknown_frees");
	print_message("dlje paced: %lld of 1000 mallocx seen, %lld late unknown frees\n",
		      (long long)seen, (long long)late);
	assert_int_equal(seen + late, 1000);
	assert_int_equal(get_int(get(r, "totals"), "unknown_frees"), late);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* glibc in a static program                                           */
/* ------------------------------------------------------------------ */

static void test_static_program_glibc_inside_executable(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("std_static"), NULL, &err));

	expect_stderr(&err, "tracing glibc");
	expect_stderr(&err, "/std_static");
	expect_profile(r, std_sites, ARRAY_SIZE(std_sites), "run_std", FRAME0_SITE);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Rust on _rjem_ jemalloc                                             */
/* ------------------------------------------------------------------ */

static const struct site rust_je_sites[] = {
	KEPT("workload::reserve_vecs", 3, 8800),
	KEPT("workload::keep_boxes", 1000, 100000),
	TEMP("workload::churn_boxes", 500, 32000, 0, 0),
	KEPT("workload::aligned_boxes", 50, 204800),
	/* 16 bytes, then realloc to 32 ... 4096 */
	GROW("workload::grow_vec"),
};

static const struct site rust_sites[] = {
	KEPT("workload::reserve_vecs", 3, 8800),
	KEPT("workload::keep_boxes", 1000, 100000),
	TEMP("workload::churn_boxes", 500, 32000, 0, 0),
	KEPT("workload::aligned_boxes", 50, 204800),
	GROW("workload::grow_vec"),
	KEPT("workload::libc_mallocs", 50, 3200),  /* glibc */
};

static void test_rust_rjem_jemalloc_and_glibc(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, rust_bin, NULL, &err));

	expect_stderr(&err, "tracing jemalloc (prefix _rjem_) in ");
	expect_stderr(&err, "glibc");
	expect_profile(r, rust_sites, ARRAY_SIZE(rust_sites), "workload::run", FRAME0_ANY);
	(void)state;
}

/* --allocator jemalloc --symbol-prefix _rjem_: jemalloc only. */
static void test_rust_allocator_and_prefix_options(void **state)
{
	static const char *const opts[] = { "--allocator", "jemalloc", "--symbol-prefix",
					    "_rjem_", NULL };
	struct buf err;
	json_object *r = keep_report(trace(NULL, opts, rust_bin, NULL, &err));

	expect_stderr(&err, "tracing jemalloc (prefix _rjem_) in ");
	if (strstr(err.data, "glibc"))
		fail_msg("--allocator jemalloc traces glibc too:\n%s", err.data);
	expect_profile(r, rust_je_sites, ARRAY_SIZE(rust_je_sites), "workload::run",
		       FRAME0_ANY);
	expect_no_stack(r, "workload::libc_mallocs");
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Allocators heaptrace does not recognise                             */
/* ------------------------------------------------------------------ */

/*
 * The report's "memory" group: RssAnon read, traced live bytes as in the
 * totals, and whether no traced call was seen (naming then what defines
 * malloc).
 */
static void expect_memory_group(json_object *r, bool no_calls)
{
	json_object *m = get(r, "memory");

	if (!json_object_is_type(get(m, "rss_anon_bytes"), json_type_int) ||
	    get_int(m, "rss_anon_bytes") <= 0)
		fail_msg("memory.rss_anon_bytes missing: %s", json_object_to_json_string(m));
	assert_int_equal(get_int(m, "traced_live_bytes"), get_int(get(r, "totals"), "live_bytes"));
	assert_int_equal(json_object_get_boolean(get(m, "no_traced_calls")), no_calls);
}

/* alloc_own: the program's own malloc; libc's strdup binds to it too. */
static const struct site own_sites[] = {
	KEPT("own_keep", 100, 4000),
	TEMP("own_churn", 200, 4800, 0, 0),
	KEPT("own_strdup", 50, 600),
};

static void expect_own(json_object *r, const struct buf *err)
{
	json_object *stacks = get(r, "stacks");

	expect_stderr(err, "tracing malloc family in ");
	expect_stderr(err, "/own (allocator not recognised: standard entry points)");
	if (strstr(err->data, "malloc in libc.so.6"))
		fail_msg("glibc's malloc is traced, though nothing binds to it:\n%s", err->data);
	expect_profile(r, own_sites, ARRAY_SIZE(own_sites), "run_own", FRAME0_ANY);
	expect_memory_group(r, false);
	/* own_keep, own_churn: frames[0]; own_strdup below libc's strdup */
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *st = json_object_array_get_idx(stacks, i);
		int at_keep = frame_index(st, "own_keep"), at_churn = frame_index(st, "own_churn");
		int at_dup = frame_index(st, "own_strdup");

		if ((at_keep > 0 || at_churn > 0) || (at_dup >= 0 && at_dup != 1))
			fail_msg("unexpected stack %s",
				 json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN));
	}
}

static void test_own_malloc_in_executable(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("own"), NULL, &err));

	expect_own(r, &err);
	(void)state;
}

static void test_own_malloc_in_executable_attach(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace_attached(NULL, workload("own"), &err));

	expect_own(r, &err);
	(void)state;
}

/* An unknown allocator preloaded under a glibc program: its definitions
 * win, glibc's malloc is not probed. */
static void expect_bump(json_object *r, const struct buf *err)
{
	expect_stderr(err, "tracing malloc family in libbump.so (allocator not recognised: "
		      "standard entry points)");
	if (strstr(err->data, "malloc in libc.so.6"))
		fail_msg("glibc's malloc is traced, though nothing binds to it:\n%s", err->data);
	expect_profile(r, std_sites, ARRAY_SIZE(std_sites), "run_std", FRAME0_SITE);
}

static void test_preloaded_unknown_allocator(void **state)
{
	char preload[PATH_MAX + 16];
	struct buf err;
	json_object *r;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", workload("libbump.so"));
	r = keep_report(trace(preload, NULL, workload("std_glibc"), NULL, &err));
	expect_bump(r, &err);
	(void)state;
}

static void test_preloaded_unknown_allocator_attach(void **state)
{
	char preload[PATH_MAX + 16];
	struct buf err;
	json_object *r;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", workload("libbump.so"));
	r = keep_report(trace_attached(preload, workload("std_glibc"), &err));
	expect_bump(r, &err);
	(void)state;
}

/*
 * Launch mode through exec wrappers (a script, sh, env) that set
 * LD_PRELOAD for the program they run: held at each exec, heaptrace puts
 * the probes of the new program's objects - found with its environment -
 * in place before it runs, so the preloaded allocator's first call is
 * seen: the profile is the preloaded one's, exactly.
 */
static void test_exec_wrapper_preload_traced_from_first_call(void **state)
{
	char script[PATH_MAX];
	struct buf err;
	json_object *r;
	FILE *f;

	snprintf(script, sizeof(script), "%s/preload-wrapper.sh", tmpdir);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nexec /usr/bin/env LD_PRELOAD=%s %s\n", workload("libbump.so"),
		workload("std_glibc"));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(script, 0755), 0);
	r = keep_report(trace(NULL, NULL, script, NULL, &err));
	/* glibc's malloc is traced for sh and env, which call it */
	expect_stderr(&err, "tracing malloc family in libbump.so (allocator not recognised: "
		      "standard entry points) in the program exec'd into");
	expect_profile(r, std_sites, ARRAY_SIZE(std_sites), "run_std", FRAME0_SITE);
	if (!strstr(json_object_get_string(get(get(r, "target"), "run_by")), "/usr/bin/env"))
		fail_msg("target.run_by does not name env: %s",
			 json_object_get_string(get(get(r, "target"), "run_by")));
	assert_int_equal(get_int(get(r, "totals"), "unknown_frees"), 0);
	(void)state;
}

/* --allocator generic: jemalloc's standard entry points only. */
static void test_allocator_generic_traces_standard_entry_points(void **state)
{
	static const char *const opts[] = { "--allocator", "generic", NULL };
	struct buf err;
	json_object *r = keep_report(trace(NULL, opts, workload("std_je"), NULL, &err));

	expect_stderr(&err, "tracing malloc family in libjemalloc.so.2 (--allocator generic: "
		      "standard entry points)");
	expect_profile(r, std_sites, ARRAY_SIZE(std_sites), "run_std", FRAME0_SITE);
	(void)state;
}

/* --allocator generic:PATH: that object's definitions. */
static void test_allocator_generic_path(void **state)
{
	char opt[PATH_MAX + 16];
	const char *const opts[] = { "--allocator", opt, NULL };
	struct buf err;
	json_object *r;

	snprintf(opt, sizeof(opt), "generic:%s", workload("own"));
	r = keep_report(trace(NULL, opts, workload("own"), NULL, &err));
	expect_stderr(&err, "/own (--allocator generic: standard entry points)");
	expect_profile(r, own_sites, ARRAY_SIZE(own_sites), "run_own", FRAME0_ANY);
	(void)state;
}

/* generic:PATH of an object the process does not map: refused, with what
 * defines malloc. */
static void test_allocator_generic_path_not_mapped(void **state)
{
	char opt[PATH_MAX + 16];
	const char *const opts[] = { "--allocator", opt, NULL };
	struct buf err;

	snprintf(opt, sizeof(opt), "generic:%s", jemalloc_lib);
	trace_fails(opts, workload("own"), &err);
	expect_stderr(&err, "is not mapped or defines no malloc entry point; malloc is "
		      "defined by: ");
	expect_stderr(&err, "/own, libc.so.6");
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Memory heaptrace does not see                                       */
/* ------------------------------------------------------------------ */

/*
 * alloc_quiet maps and touches 70 MiB in 7 s without calling malloc: the
 * warning comes after 5 s on stderr, and at the end on stderr, in the text
 * and in the JSON report, naming libc.so.6 as what defines malloc; the
 * exit status stays 0.
 */
static void test_no_traced_calls_is_said(void **state)
{
	char out_path[PATH_MAX];
	struct buf err, out;
	json_object *r = keep_report(trace(NULL, NULL, workload("quiet"), NULL, &err)), *defs;

	expect_stderr(&err, "no call to the traced entry points in 5 s while the process's "
		      "anonymous memory grew by ");
	expect_stderr(&err, "no call to the traced entry points was seen (malloc is defined by: "
		      "libc.so.6)");
	tmp_path(out_path, sizeof(out_path), "heaptrace", "stdout");
	read_file(out_path, &out);
	if (!strstr(out.data, "WARNING: no call to the traced entry points was seen") ||
	    !strstr(out.data, "  anon memory "))
		fail_msg("the text report does not say it:\n%s", out.data);
	expect_memory_group(r, true);
	/* 70 MiB touched, read at exit */
	if (get_int(get(r, "memory"), "rss_anon_bytes") < 70 << 20)
		fail_msg("rss_anon_bytes = %lld, expected at least 70 MiB",
			 (long long)get_int(get(r, "memory"), "rss_anon_bytes"));
	defs = get(get(r, "memory"), "malloc_defined_by");
	assert_int_equal(json_object_array_length(defs), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(defs, 0)),
			    "libc.so.6");
	(void)state;
}

/* ------------------------------------------------------------------ */
/* CPython's object allocator                                          */
/* ------------------------------------------------------------------ */

/*
 * alloc_py (embeds Debian's libpython3.11.so.1.0): the sites that call
 * PyObject_ and PyMem_ themselves (frames[0]), then py_bytes, below
 * libpython's PyBytes_FromStringAndSize. py_big's blocks are malloc's
 * (over 512 bytes): counted once, as PyObject_Malloc calls.
 */
static const struct site py_sites[] = {
	{ "py_keep", { 200, 20000, 100, 10000, 100, 10000, 200, 20000, 0 } },
	{ "py_big", { 20, 20000, 10, 10000, 10, 10000, 20, 20000, 0 } },
	KEPT("py_calloc", 50, 15000),
	GROW("py_grow"),
	TEMP("py_mem", 50, 3200, 0, 0),
	KEPT("py_mem_calloc", 50, 5000),
	GROW("py_mem_grow"),
	{ "py_bytes", { 50, 5000, 25, 2500, 25, 2500, 50, 5000, 0 } },
};

static void expect_py(json_object *r, const struct buf *err)
{
	json_object *stacks = get(r, "stacks");

	expect_stderr(err, "tracing pymalloc 3.11.");
	expect_stderr(err, " in libpython3.11.so.1.0, glibc 2.36 malloc in libc.so.6");
	expect_profile(r, py_sites, ARRAY_SIZE(py_sites) - 1, NULL, FRAME0_SITE);
	expect_profile(r, py_sites, ARRAY_SIZE(py_sites), "run_py", FRAME0_ANY);
	/* a Python object's stack is the interpreter's C stack */
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *st = json_object_array_get_idx(stacks, i);
		const char *f0 = frame_fn(json_object_array_get_idx(get(st, "frames"), 0));

		if (frame_index(st, "py_bytes") == 1 && f0 &&
		    !strcmp(f0, "PyBytes_FromStringAndSize"))
			return;
	}
	print_stacks(r, "py_bytes");
	fail_msg("no stack PyBytes_FromStringAndSize < py_bytes");
}

static void test_pymalloc_in_libpython(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace(NULL, NULL, workload("py"), NULL, &err));

	expect_py(r, &err);
	(void)state;
}

static void test_pymalloc_in_libpython_attach(void **state)
{
	struct buf err;
	json_object *r = keep_report(trace_attached(NULL, workload("py"), &err));

	expect_py(r, &err);
	(void)state;
}

/* Python objects of a known size: 400 bytes objects of 33 + 461 = 494
 * bytes (pymalloc's), 100 of them freed; 30 of 33 + 3001 = 3034 bytes
 * (malloc's, through PyObject_Malloc), 10 of them freed. int.to_bytes
 * allocates them through PyBytes_FromStringAndSize. os._exit: no
 * finalisation frees them. */
static const char py_snippet[] =
	"import os\n"
	"small = [(0).to_bytes(461, 'little') for _ in range(400)]\n"
	"del small[:100]\n"
	"big = [(0).to_bytes(3001, 'little') for _ in range(30)]\n"
	"del big[:10]\n"
	"os._exit(0)\n";

static void write_py_snippet(char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/objects.py", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(py_snippet, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chmod(tmpdir, 0755), 0);
}

/* Counters 0-5 (allocs ... live_bytes) summed over the stacks through fn
 * whose frames[0] is PyBytes_FromStringAndSize. */
static void py_objects(json_object *r, const char *fn, int64_t v[6])
{
	json_object *stacks = get(r, "stacks");

	memset(v, 0, 6 * sizeof(*v));
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *st = json_object_array_get_idx(stacks, i);
		const char *f0 = frame_fn(json_object_array_get_idx(get(st, "frames"), 0));

		if (!f0 || strcmp(f0, "PyBytes_FromStringAndSize") || frame_index(st, fn) < 0)
			continue;
		for (size_t k = 0; k < 6; k++)
			v[k] += get_int(st, counters[k]);
	}
}

/*
 * bpftrace's counts of libpython's PyObject_Malloc calls of 494 and 3034
 * bytes, and of the PyObject_Free calls of those blocks, by process: the
 * independent reference. Started before heaptrace, stopped after.
 */
static const char py_bt_prog[] =
	"BEGIN { printf(\"ready\\n\"); }\n"
	"uprobe:/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0:PyObject_Malloc "
	"/arg0 == 494 || arg0 == 3034/ { @sz[tid] = arg0; }\n"
	"uretprobe:/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0:PyObject_Malloc /@sz[tid]/ "
	"{ @allocs[pid, @sz[tid]] = count(); @blk[pid, retval] = @sz[tid]; delete(@sz[tid]); }\n"
	"uprobe:/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0:PyObject_Free /@blk[pid, arg0]/ "
	"{ @frees[pid, @blk[pid, arg0]] = count(); delete(@blk[pid, arg0]); }\n"
	"END { clear(@sz); clear(@blk); }\n";

/* In bpftrace's output, "@name[pid, size]: n" (0 when absent). */
static int64_t bt_count(const char *out, const char *name, int pid, uint64_t size)
{
	char key[96];
	const char *p;

	snprintf(key, sizeof(key), "@%s[%d, %llu]: ", name, pid, (unsigned long long)size);
	p = strstr(out, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : 0;
}

/*
 * A real Debian program that embeds libpython: gdb runs a Python script
 * whose objects are known. Only blocks of 494 to 3034 bytes are recorded
 * (gdb's Python does some 90,000 PyObject_Malloc calls as it starts).
 * heaptrace counts them exactly as the script makes them, and as bpftrace
 * counts the calls on libpython's symbols in the same run.
 */
static void test_pymalloc_gdb_python_objects(void **state)
{
	static const char *const opts[] = { "--min-size", "494", "--max-size", "3034", NULL };
	char script[PATH_MAX], *cmd[] = { "/usr/bin/gdb", "-nx", "-batch", "-x", script, NULL };
	char *bt_argv[] = { "/usr/bin/bpftrace", "-e", (char *)py_bt_prog, NULL };
	char bt_err[PATH_MAX];
	struct buf err, bt_out;
	int bt_fd[2], bt_err_fd, pid, code;
	/* 400 x 494 + 30 x 3034 bytes; 100 x 494 + 10 x 3034 freed */
	static const int64_t want[6] = { 430, 288620, 110, 79740, 320, 208880 };
	int64_t got[6];
	json_object *r;
	pid_t bt;

	write_py_snippet(script, sizeof(script));
	assert_int_equal(pipe_nonblock(bt_fd), 0);
	snprintf(bt_err, sizeof(bt_err), "%s/bpftrace.stderr", tmpdir);
	bt_err_fd = open(bt_err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(bt_err_fd >= 0);
	bt = spawn(bt_argv, env_with(NULL), -1, bt_fd[1], bt_err_fd);
	close(bt_fd[1]);
	close(bt_err_fd);
	bt_out.len = 0;
	bt_out.data[0] = '\0';
	if (!wait_for_text(bt_fd[0], &bt_out, "ready", 60))
		fail_msg("bpftrace did not start:\n%s", bt_out.data);
	r = keep_report(trace_cmd(NULL, opts, cmd, &err, NULL));
	kill(bt, SIGINT);
	code = wait_for(bt, 30, bt_fd[0], &bt_out);
	close(bt_fd[0]);
	assert_int_equal(code, 0);

	expect_stderr(&err, "tracing pymalloc 3.11.");
	expect_stderr(&err, " in libpython3.11.so.1.0, glibc 2.36 malloc in libc.so.6");
	/* the calls the size filter leaves out are calls */
	if (strstr(err.data, "no call to the traced entry points"))
		fail_msg("a warning of no calls, with 150,000 filtered:\n%s", err.data);
	pid = (int)get_int(get(r, "target"), "pid");
	/* The script's objects: int.to_bytes below the script's run (before
	 * and after the interpreter specialises the call: two stacks) */
	py_objects(r, "PyRun_SimpleFileExFlags", got);
	for (size_t k = 0; k < 6; k++)
		if (got[k] != want[k])
			fail_msg("stacks PyBytes_FromStringAndSize < ... < PyRun_SimpleFileExFlags: "
				 "%s = %lld, expected %lld", counters[k], (long long)got[k],
				 (long long)want[k]);
	/* bpftrace saw the same calls, and none of these sizes elsewhere */
	if (bt_count(bt_out.data, "allocs", pid, 494) != 400 ||
	    bt_count(bt_out.data, "frees", pid, 494) != 100 ||
	    bt_count(bt_out.data, "allocs", pid, 3034) != 30 ||
	    bt_count(bt_out.data, "frees", pid, 3034) != 10)
		fail_msg("bpftrace counted otherwise for PID %d:\n%s", pid, bt_out.data);
	assert_int_equal(get_int(get(r, "totals"), "unknown_frees"), 0);
	assert_int_equal(get_int(get(r, "totals"), "lost_events"), 0);
	(void)state;
}

/*
 * Debian's python3.11 executable has pymalloc inlined into its callers:
 * not traced, said on stderr, in the text and in the JSON report; its
 * objects are not seen. With PYTHONMALLOC=malloc they are malloc blocks,
 * counted exactly.
 */
static void test_pymalloc_static_python_refused(void **state)
{
	static const char *const opts[] = { "--min-size", "494", "--max-size", "494", NULL };
	char script[PATH_MAX], *cmd[] = { "/usr/bin/python3.11", script, NULL };
	struct buf err, out;
	json_object *r, *u, *totals;

	write_py_snippet(script, sizeof(script));
	r = keep_report(trace_cmd(NULL, opts, cmd, &err, &out));
	expect_stderr(&err, "not tracing pymalloc (CPython's object allocator) in "
		      "/usr/bin/python3.11: its PyObject_Malloc runs pymalloc's code instead of "
		      "calling through the allocator table");
	expect_stderr(&err, "; run it with PYTHONMALLOC=malloc to trace Python's objects as "
		      "malloc blocks\n");
	expect_stderr(&err, "tracing glibc 2.36 malloc in libc.so.6\n");
	if (!strstr(out.data, "  not traced    pymalloc in /usr/bin/python3.11: its "
			      "PyObject_Malloc runs pymalloc's code") ||
	    !strstr(out.data, "; workaround: PYTHONMALLOC=malloc\n"))
		fail_msg("the text report does not say it:\n%s", out.data);
	u = get(get(r, "memory"), "untraced_allocators");
	assert_int_equal(json_object_array_length(u), 1);
	u = json_object_array_get_idx(u, 0);
	assert_string_equal(json_object_get_string(get(u, "family")), "pymalloc");
	assert_string_equal(json_object_get_string(get(u, "object")), "/usr/bin/python3.11");
	assert_string_equal(json_object_get_string(get(u, "workaround")), "PYTHONMALLOC=malloc");
	assert_non_null(strstr(json_object_get_string(get(u, "reason")), "PyObject_Malloc"));
	/* its 400 objects of 494 bytes are pymalloc's: not seen */
	assert_int_equal(get_int(get(r, "totals"), "allocs"), 0);

	/*
	 * Under every link kind. With session uprobes a call the size filter
	 * leaves out has its return probe cancelled only where nothing can
	 * nest in it (glibc's malloc): a guess from the old return address
	 * still in its slot once took later, deeper calls of CPython's eval
	 * loop for nested ones (151 of these 400 counted).
	 */
	for (int k = 0; k < 2; k++) {
		if (k)
			setenv("HEAPTRACE_LINKS", "multi", 1);
		r = keep_report(trace_cmd("PYTHONMALLOC=malloc", opts, cmd, &err, NULL));
		unsetenv("HEAPTRACE_LINKS");
		totals = get(r, "totals");
		assert_int_equal(get_int(totals, "allocs"), 400);
		assert_int_equal(get_int(totals, "frees"), 100);
		assert_int_equal(get_int(totals, "live_blocks"), 300);
		assert_int_equal(get_int(totals, "unknown_frees"), 0);
	}
	(void)state;
}

/* libpyfake's sites, whichever probes see them */
static const struct site pyfake_sites[] = {
	KEPT("pf_keep", 100, 6400),
	TEMP("pf_tmp", 50, 2400, 0, 0),
	KEPT("pf_new", 50, 1600),
};

/*
 * CPython's allocator shape in a library (alloc_pyfake.h): with thunks
 * only, traced through its entry points alone (--allocator pymalloc:
 * exact); built with -fno-semantic-interposition, whose fake_new has the
 * thunk inlined, refused - its blocks are then glibc's, still exact.
 */
static void test_pymalloc_inlined_thunk_refused(void **state)
{
	static const char *const only_py[] = { "--allocator", "pymalloc", NULL };
	struct buf err;
	json_object *r = keep_report(trace(NULL, only_py, workload("pyfake"), NULL, &err));

	expect_stderr(&err, "tracing pymalloc in libpyfake.so\n");
	expect_profile(r, pyfake_sites, ARRAY_SIZE(pyfake_sites), "run_pyfake", FRAME0_ANY);

	r = keep_report(trace(NULL, NULL, workload("pyfake_nsi"), NULL, &err));
	expect_stderr(&err, "not tracing pymalloc (CPython's object allocator) in ");
	expect_stderr(&err, "/libpyfake_nsi.so: code outside its allocator functions uses the "
		      "allocator table (1 place, the first at 0x");
	expect_stderr(&err, "tracing glibc 2.36 malloc in libc.so.6\n");
	expect_profile(r, pyfake_sites, ARRAY_SIZE(pyfake_sites), "run_pyfake", FRAME0_ANY);
	(void)state;
}

/* --allocator pymalloc where it is refused: an error that says why. */
static void test_allocator_pymalloc_refused_is_an_error(void **state)
{
	static const char *const opts[] = { "--allocator", "pymalloc", NULL };
	struct buf err;

	trace_fails(opts, "/usr/bin/python3.11", &err);
	expect_stderr(&err, "no pymalloc found; found: glibc 2.36 malloc in libc.so.6; not tracing "
		      "pymalloc (CPython's object allocator) in /usr/bin/python3.11: ");
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Choosing and errors                                                 */
/* ------------------------------------------------------------------ */

/* --allocator glibc on a jemalloc program: its jemalloc calls are not seen. */
static void test_allocator_option_restricts_tracing(void **state)
{
	static const char *const opts[] = { "--allocator", "glibc", NULL };
	struct buf err;
	json_object *r = keep_report(trace(NULL, opts, workload("std_je"), NULL, &err));

	const char *line = strstr(err.data, "tracing ");

	expect_stderr(&err, "tracing glibc");
	/* on its "tracing" line */
	if (line && memmem(line, strcspn(line, "\n"), "jemalloc", 8))
		fail_msg("--allocator glibc traces jemalloc too:\n%s", err.data);
	expect_no_stack(r, "run_std");
	/* glibc's malloc, which nothing calls, sees nothing: said, with the
	 * malloc the program binds to */
	expect_stderr(&err, "no call to the traced entry points was seen (malloc is defined by: "
		      "libjemalloc.so.2, libc.so.6)");
	(void)state;
}

static void test_unknown_allocator_lists_what_was_found(void **state)
{
	static const char *const opts[] = { "--allocator", "hoard", NULL };
	struct buf err;

	trace_fails(opts, workload("std_je"), &err);
	expect_stderr(&err, "unknown allocator 'hoard'");
	expect_stderr(&err, "jemalloc 5.");
	expect_stderr(&err, "glibc");
	(void)state;
}

static void test_allocator_not_found_lists_what_was_found(void **state)
{
	static const char *const opts[] = { "--allocator", "tcmalloc", NULL };
	struct buf err;

	trace_fails(opts, workload("std_je"), &err);
	expect_stderr(&err, "no tcmalloc found");
	expect_stderr(&err, "found: jemalloc 5.");
	(void)state;
}

static void test_symbol_prefix_not_found_is_an_error(void **state)
{
	static const char *const opts[] = { "--symbol-prefix", "zz_", NULL };
	struct buf err;

	trace_fails(opts, workload("std_je"), &err);
	expect_stderr(&err, "no jemalloc with prefix 'zz_' found");
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Fixtures and main                                                   */
/* ------------------------------------------------------------------ */

static int setup_group(void **state)
{
	struct stat st;

	heaptrace_bin = env_or("HEAPTRACE", "./heaptrace");
	alloc_dir = env_or("HEAPTRACE_ALLOC_DIR", ".output/tests/alloc");
	rust_bin = env_or("HEAPTRACE_ALLOC_RUST", ".output/tests/alloc/rust/debug/workload");
	run_timeout = test_timeout(120);
	if (stat(heaptrace_bin, &st) || stat(alloc_dir, &st) || stat(rust_bin, &st)) {
		fprintf(stderr, "alloc_it: need %s, %s and %s (make alloc-tests builds them)\n",
			heaptrace_bin, alloc_dir, rust_bin);
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
	for (size_t i = 0; i < ARRAY_SIZE(reports); i++)
		if (reports[i])
			json_object_put(reports[i]);
	finish_tmpdir("alloc_it", "outputs", tmpdir);
	(void)state;
	return 0;
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown_children)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_jemalloc_linked_standard_api),
		T(test_jemalloc_static_in_executable),
		T(test_jemalloc_nonstandard_api),
		T(test_jemalloc_preloaded_cxx_attach),
		T(test_glibc_cxx_counts_new_once_through_malloc),
		T(test_tcmalloc_standard_api),
		T(test_tcmalloc_own_api),
		T(test_tcmalloc_cxx_operators),
		T(test_mimalloc_standard_api),
		T(test_mimalloc_own_api),
		T(test_mimalloc_cxx_operators),
		T(test_launch_finds_preloaded_allocator),
		T(test_dlopened_allocator_is_probed_when_mapped),
		T(test_dlopened_jemalloc_after_announcement),
		T(test_late_allocator_frees_are_labelled),
		T(test_static_program_glibc_inside_executable),
		T(test_rust_rjem_jemalloc_and_glibc),
		T(test_rust_allocator_and_prefix_options),
		T(test_own_malloc_in_executable),
		T(test_own_malloc_in_executable_attach),
		T(test_preloaded_unknown_allocator),
		T(test_preloaded_unknown_allocator_attach),
		T(test_exec_wrapper_preload_traced_from_first_call),
		T(test_allocator_generic_traces_standard_entry_points),
		T(test_allocator_generic_path),
		T(test_allocator_generic_path_not_mapped),
		T(test_no_traced_calls_is_said),
		T(test_pymalloc_in_libpython),
		T(test_pymalloc_in_libpython_attach),
		T(test_pymalloc_gdb_python_objects),
		T(test_pymalloc_static_python_refused),
		T(test_pymalloc_inlined_thunk_refused),
		T(test_allocator_pymalloc_refused_is_an_error),
		T(test_allocator_option_restricts_tracing),
		T(test_unknown_allocator_lists_what_was_found),
		T(test_allocator_not_found_lists_what_was_found),
		T(test_symbol_prefix_not_found_is_an_error),
	};

	return test_main(argc, argv, "alloc", tests, ARRAY_SIZE(tests), setup_group,
			 teardown_group);
}
