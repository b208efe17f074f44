// SPDX-License-Identifier: MIT
/*
 * Symbolization, end to end: heaptrace (as root) traces C++ built -g at
 * -O0 and -O2 (tests/workloads/cpp_alloc.cc), glibc's strdup (known) and
 * JIT code named by a perf map (tests/workloads/jit.c), and the JSON
 * frames must name exactly what gdb would: demangled functions, the
 * file:line of each allocating statement, inlined calls as frames of
 * their own ("inlined": true), libc's frames through libc6-dbg.
 *
 * Usage: symbolize_it [FILTER]
 * Environment (defaults are relative to the repository root):
 *   HEAPTRACE              heaptrace binary          (./heaptrace)
 *   HEAPTRACE_CPP_O0       cpp_alloc built -O0       (.output/tests/cpp_alloc_O0)
 *   HEAPTRACE_CPP_O2       cpp_alloc built -O2       (.output/tests/cpp_alloc_O2)
 *   HEAPTRACE_CPP_SRC      its source                (tests/workloads/cpp_alloc.cc)
 *   HEAPTRACE_KNOWN        the `known` workload      (.output/tests/known)
 *   HEAPTRACE_JIT          the `jit` workload        (.output/tests/jit)
 *   HEAPTRACE_TEST_TIMEOUT seconds one run may take  (120)
 *   HEAPTRACE_TEST_KEEP    keep the reports in the temporary directory
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "testlib.h"

static const char *heaptrace_bin, *cpp_o0, *cpp_o2, *cpp_src, *known_bin, *jit_bin;
static double run_timeout;
static char tmpdir[] = "/tmp/heaptrace-sym-XXXXXX";
static int run_seq;

/* ------------------------------------------------------------------ */
/* Running heaptrace                                                   */
/* ------------------------------------------------------------------ */

/* Run heaptrace with args and --json into a file; the parsed report. */
static json_object *trace(const char *const args[])
{
	char json[PATH_MAX], err[PATH_MAX], *argv[24];
	double deadline = now() + run_timeout;
	size_t n = 0;
	int status = 0;
	json_object *r;
	pid_t pid;

	run_seq++;
	snprintf(json, sizeof(json), "%s/%03d.json", tmpdir, run_seq);
	snprintf(err, sizeof(err), "%s/%03d.stderr", tmpdir, run_seq);
	argv[n++] = (char *)heaptrace_bin;
	argv[n++] = "--json";
	argv[n++] = json;
	for (; *args && n < ARRAY_SIZE(argv) - 1; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (null < 0 || e < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("heaptrace still running after %.0f s", run_timeout);
		}
		usleep(10000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("heaptrace exited with status 0x%x; see %s", status, err);
	r = json_object_from_file(json);
	if (!r)
		fail_msg("%s: not JSON", json);
	return r;
}

/* Each configuration is traced once; tests share the reports. */
struct cached_run {
	char key[16];
	json_object *report;
};
static struct cached_run runs[8];

static json_object *trace_cached(const char *key, const char *const args[])
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(runs) && runs[i].report; i++)
		if (!strcmp(runs[i].key, key))
			return runs[i].report;
	assert_true(i < ARRAY_SIZE(runs));
	runs[i].report = trace(args);
	snprintf(runs[i].key, sizeof(runs[i].key), "%s", key);
	return runs[i].report;
}

static json_object *cpp_report(bool o2, bool no_demangle)
{
	const char *bin = o2 ? cpp_o2 : cpp_o0;
	const char *plain[] = { "--", bin, NULL };
	const char *raw[] = { "--no-demangle", "--", bin, NULL };
	char key[16];

	snprintf(key, sizeof(key), "cpp%s%s", o2 ? "2" : "0", no_demangle ? "raw" : "");
	return trace_cached(key, no_demangle ? raw : plain);
}

/* ------------------------------------------------------------------ */
/* Reports                                                             */
/* ------------------------------------------------------------------ */

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static size_t nframes(json_object *stack)
{
	return json_object_array_length(get(stack, "frames"));
}

static json_object *frame(json_object *stack, size_t i)
{
	return i < nframes(stack) ? json_object_array_get_idx(get(stack, "frames"), i) : NULL;
}

static const char *frame_fn(json_object *stack, size_t i)
{
	json_object *f = frame(stack, i);

	return f ? get_str(f, "function") : NULL;
}

static bool frame_inlined(json_object *f)
{
	json_object *v = NULL;

	/* a report without the field has no inlined frames */
	return json_object_object_get_ex(f, "inlined", &v) && json_object_get_boolean(v);
}

static void print_stack(json_object *s)
{
	print_message("  stack (allocs %lld, bytes %lld):\n", (long long)get_int(s, "allocs"),
		      (long long)get_int(s, "alloc_bytes"));
	for (size_t i = 0; i < nframes(s); i++) {
		json_object *f = frame(s, i), *line = get(f, "line");

		print_message("    #%zu %s%s (%s:%s) [%s]\n", i, get_str(f, "function"),
			      frame_inlined(f) ? " [inlined]" : "",
			      get_str(f, "file") ? get_str(f, "file") : "null",
			      json_object_to_json_string(line),
			      get_str(f, "module") ? base_name(get_str(f, "module")) : "null");
	}
}

static void print_stacks(json_object *r)
{
	json_object *stacks = get(r, "stacks");

	for (size_t i = 0; i < json_object_array_length(stacks); i++)
		print_stack(json_object_array_get_idx(stacks, i));
}

/* The one stack with frame `at` named fn; fails unless exactly one. */
static json_object *stack_with(json_object *r, size_t at, const char *fn)
{
	json_object *stacks = get(r, "stacks"), *found = NULL;
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);
		const char *f = frame_fn(s, at);

		if (f && !strcmp(f, fn)) {
			found = s;
			n++;
		}
	}
	if (n != 1) {
		print_message("expected one stack with frames[%zu] = %s, found %d\n", at, fn, n);
		print_stacks(r);
		fail();
	}
	return found;
}

/* stack_with() for either of two names; *name: the one found. */
static json_object *stack_with_any(json_object *r, size_t at, const char **name,
				   const char *other)
{
	json_object *stacks = get(r, "stacks");

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		const char *f = frame_fn(json_object_array_get_idx(stacks, i), at);

		if (f && !strcmp(f, other)) {
			*name = other;
			break;
		}
	}
	return stack_with(r, at, *name);
}

/* The line tagged "// @tag" in the C++ workload's source. */
static int tag_line(const char *tag)
{
	char line[512], want[64];
	FILE *f = fopen(cpp_src, "re");
	int n = 0, found = 0;

	if (!f)
		fail_msg("%s: %s", cpp_src, strerror(errno));
	snprintf(want, sizeof(want), "// @%s\n", tag);
	while (fgets(line, sizeof(line), f)) {
		const char *at = strstr(line, want);

		n++;
		if (at && at[strlen(want)] == '\0') {
			found = n;
			break;
		}
	}
	fclose(f);
	if (!found)
		fail_msg("no \"// @%s\" in %s", tag, cpp_src);
	return found;
}

/* Frame i of stack s: function, inlined or not, at file (base name):line. */
static void expect_frame(json_object *s, size_t i, const char *fn, bool inlined,
			 const char *file, int line)
{
	json_object *f = frame(s, i);
	const char *got_file = f ? get_str(f, "file") : NULL;
	json_object *l = f ? get(f, "line") : NULL;

	if (!f || strcmp(get_str(f, "function"), fn) != 0 || frame_inlined(f) != inlined ||
	    (file && (!got_file || strcmp(base_name(got_file), file) != 0)) ||
	    (line && (!json_object_is_type(l, json_type_int) || json_object_get_int(l) != line))) {
		print_message("expected frames[%zu] = %s%s (%s:%d)\n", i, fn,
			      inlined ? " [inlined]" : "", file ? file : "?", line);
		print_stack(s);
		fail();
	}
}

static void expect_counts(json_object *s, int64_t allocs, int64_t bytes)
{
	if (get_int(s, "allocs") != allocs || get_int(s, "alloc_bytes") != bytes) {
		print_message("expected %lld allocations of %lld bytes\n", (long long)allocs,
			      (long long)bytes);
		print_stack(s);
		fail();
	}
}

/* ------------------------------------------------------------------ */
/* C++                                                                 */
/* ------------------------------------------------------------------ */

/*
 * make_buffer is static inline __attribute__((always_inline)): inlined
 * at -O0 as at -O2, it is frames[0] (inlined, at its malloc line), then
 * app::Cache::fill(int) at the line that calls it, then main.
 */
static void check_inlined_helper(bool o2)
{
	json_object *r = cpp_report(o2, false);
	json_object *s = stack_with(r, 0, "make_buffer");

	expect_frame(s, 0, "make_buffer", true, "cpp_alloc.cc", tag_line("make_buffer"));
	expect_frame(s, 1, "app::Cache::fill(int)", false, "cpp_alloc.cc", tag_line("fill"));
	expect_frame(s, 2, "main", false, "cpp_alloc.cc", tag_line("main_fill"));
	expect_counts(s, 100, 100 * 64 + 99 * 100 / 2);
}

static void cpp_O0_inlined_helper_is_its_own_frame(void **state)
{
	check_inlined_helper(false);
	(void)state;
}

static void cpp_O2_inlined_helper_is_its_own_frame(void **state)
{
	check_inlined_helper(true);
	(void)state;
}

/* A function template in a namespace, called through operator new. */
static void check_template_site(bool o2)
{
	json_object *r = cpp_report(o2, false);
	json_object *s = stack_with(r, 1, "int* app::make_array<int>(unsigned long)");
	json_object *f0 = frame(s, 0);

	expect_frame(s, 0, "operator new(unsigned long)", false, NULL, 0);
	if (strncmp(base_name(get_str(f0, "module")), "libstdc++.so", 12) != 0)
		fail_msg("operator new is not libstdc++'s");
	expect_frame(s, 1, "int* app::make_array<int>(unsigned long)", false, "cpp_alloc.cc",
		     tag_line("make_array"));
	expect_frame(s, 2, "main", false, "cpp_alloc.cc", tag_line("main_array"));
	expect_counts(s, 10, 1000);
}

static void cpp_O0_template_site_is_demangled_at_its_line(void **state)
{
	check_template_site(false);
	(void)state;
}

static void cpp_O2_template_site_is_demangled_at_its_line(void **state)
{
	check_template_site(true);
	(void)state;
}

static void cpp_no_demangle_keeps_raw_names(void **state)
{
	json_object *r = cpp_report(true, true);
	json_object *s = stack_with(r, 1, "_ZN3app10make_arrayIiEEPT_m");

	expect_frame(s, 0, "_Znwm", false, NULL, 0);
	expect_frame(s, 1, "_ZN3app10make_arrayIiEEPT_m", false, "cpp_alloc.cc",
		     tag_line("make_array"));
	expect_counts(s, 10, 1000);
	s = stack_with(r, 0, "make_buffer");
	expect_frame(s, 1, "_ZN3app5Cache4fillEi", false, "cpp_alloc.cc", tag_line("fill"));
	(void)state;
}

/* The first frame named fn (not inlined), or fails. */
static size_t find_frame(json_object *s, const char *fn)
{
	for (size_t i = 0; i < nframes(s); i++)
		if (!strcmp(frame_fn(s, i), fn) && !frame_inlined(frame(s, i)))
			return i;
	print_message("no frame %s\n", fn);
	print_stack(s);
	fail();
	return 0;
}

/* The stacks through fn (not inlined) at `line`; their number. */
static size_t stacks_through(json_object *r, const char *fn, json_object **out, size_t max)
{
	json_object *stacks = get(r, "stacks");
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);

		for (size_t k = 0; k < nframes(s); k++) {
			if (strcmp(frame_fn(s, k), fn) || frame_inlined(frame(s, k)))
				continue;
			if (n < max)
				out[n] = s;
			n++;
			break;
		}
	}
	return n;
}

#define VEC_LONG "std::vector<long, std::allocator<long> >"
#define STRING "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"
#define JOIN_PATHS "app::join_paths(" STRING " const&, int)"

/*
 * std::vector<long> growth: 11 blocks (capacity 1..1024). At -O2,
 * push_back and emplace_back are inlined into app::grow_vector and the
 * allocator chain into _M_realloc_insert; at -O0 nothing is.
 */
static void check_vector_growth(bool o2)
{
	json_object *r = cpp_report(o2, false), *s[4];
	size_t n = stacks_through(r, "app::grow_vector(int)", s, ARRAY_SIZE(s)), k, inl = 0;

	if (n != 1) {
		print_message("%zu stacks through app::grow_vector(int), expected 1\n", n);
		print_stacks(r);
		fail();
	}
	k = find_frame(s[0], "app::grow_vector(int)");
	expect_frame(s[0], k, "app::grow_vector(int)", false, "cpp_alloc.cc",
		     tag_line("grow_vector"));
	expect_frame(s[0], k - 1, VEC_LONG "::push_back(long&&)", o2, "stl_vector.h", 0);
	expect_frame(s[0], k - 2, "long& " VEC_LONG "::emplace_back<long>(long&&)", o2,
		     "vector.tcc", 0);
	find_frame(s[0], "void " VEC_LONG "::_M_realloc_insert<long>(__gnu_cxx::__normal_iterator"
		   "<long*, " VEC_LONG " >, long&&)");
	expect_frame(s[0], 0, "operator new(unsigned long)", false, NULL, 0);
	for (size_t i = 0; i < nframes(s[0]); i++)
		inl += frame_inlined(frame(s[0], i));
	/* push_back, emplace_back, and allocate's three levels */
	assert_int_equal(inl, o2 ? 5 : 0);
	expect_counts(s[0], 11, 8 * 2047);
}

static void cpp_O0_vector_growth_has_no_inlined_frames(void **state)
{
	check_vector_growth(false);
	(void)state;
}

static void cpp_O2_vector_internals_are_inlined_frames(void **state)
{
	check_vector_growth(true);
	(void)state;
}

/* std::string temporaries, all freed; std::map nodes kept. */
static void cpp_O2_string_temporaries_and_map_nodes(void **state)
{
	json_object *r = cpp_report(true, false), *s[8];
	size_t n = stacks_through(r, JOIN_PATHS, s, ARRAY_SIZE(s));
	int64_t allocs = 0;

	assert_true(n >= 1 && n <= ARRAY_SIZE(s));
	for (size_t i = 0; i < n; i++) {
		size_t k = find_frame(s[i], JOIN_PATHS);

		expect_frame(s[i], k, frame_fn(s[i], k), false, "cpp_alloc.cc",
			     tag_line("join_paths"));
		/* operator+ was inlined here */
		assert_true(frame_inlined(frame(s[i], k - 1)));
		assert_int_equal(get_int(s[i], "live_bytes"), 0);
		allocs += get_int(s[i], "allocs");
	}
	assert_true(allocs >= 20);

	n = stacks_through(r, "app::Index::add(int, char const*)", s, ARRAY_SIZE(s));
	assert_int_equal(n, 2);   /* the node, and the string assigned into it */
	for (size_t i = 0; i < n; i++) {
		size_t k = find_frame(s[i], "app::Index::add(int, char const*)");
		const char *in = frame_fn(s[i], k - 1);

		expect_frame(s[i], k, "app::Index::add(int, char const*)", false, "cpp_alloc.cc",
			     tag_line("index_add"));
		assert_true(frame_inlined(frame(s[i], k - 1)));
		if (!strncmp(in, "std::map<int, " STRING, strlen("std::map<int, " STRING)))
			expect_counts(s[i], 50, 50 * 72);
		else if (strncmp(in, STRING "::", strlen(STRING "::")))
			fail_msg("unexpected frame %s", in);
	}
	(void)state;
}

/*
 * file/line are filled wherever there is debug information: every frame
 * in the workload (built -g) but crt1's _start (none), and libc's
 * (libc6-dbg).
 */
static void check_lines_everywhere(json_object *r, const char *bin)
{
	json_object *stacks = get(r, "stacks");
	int workload = 0, libc = 0;

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);

		for (size_t k = 0; k < nframes(s); k++) {
			json_object *f = frame(s, k);
			const char *mod = get_str(f, "module"), *fn = get_str(f, "function");
			bool has = get_str(f, "file") && json_object_is_type(get(f, "line"),
									   json_type_int);

			if (!mod)
				continue;
			if (!strcmp(mod, bin)) {
				workload++;
				if (!strcmp(fn, "_start") ? has : !has) {
					print_message("frames[%zu]: file:line %s\n", k,
						      has ? "where there is no DWARF" : "missing");
					print_stack(s);
					fail();
				}
			} else if (!strncmp(base_name(mod), "libc.so", 7)) {
				libc++;
				if (!has) {
					print_message("frames[%zu]: libc frame without file:line "
						      "(libc6-dbg installed?)\n", k);
					print_stack(s);
					fail();
				}
			}
		}
	}
	assert_true(workload >= 20);
	assert_true(libc >= 2);
}

static void cpp_file_and_line_wherever_debug_info_exists(void **state)
{
	check_lines_everywhere(cpp_report(false, false), cpp_o0);
	check_lines_everywhere(cpp_report(true, false), cpp_o2);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* libc (libc6-dbg) and JIT code                                       */
/* ------------------------------------------------------------------ */

/* Run a shell command; its first output line (without newline). */
static void shell_line(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	if (!fgets(out, (int)len, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

/*
 * known strdup: 100 x strdup. frames[0] is glibc's __strdup, named by
 * libc6-dbg's DWARF (__GI___strdup, as gdb says), at the line of its malloc call in strdup.c, read
 * independently here: the return address of __strdup's call to malloc by
 * objdump, its line by addr2line.
 */
static void libc_strdup_frame_has_its_name_and_line(void **state)
{
	const char *argv[] = { "--", known_bin, "strdup", NULL };
	json_object *r = trace_cached("strdup", argv), *s, *f0;
	char cmd[PATH_MAX * 3], out[256], libc[PATH_MAX];
	unsigned long long ret = 0, addr;
	const char *name;
	int line;

	/* glibc calls it by its hidden alias: gdb shows __GI___strdup too */
	name = "__GI___strdup";
	s = stack_with_any(r, 0, &name, "__strdup");
	f0 = frame(s, 0);
	snprintf(libc, sizeof(libc), "%s", get_str(f0, "module"));
	/* the return address (ELF address) of __strdup's call to malloc */
	snprintf(cmd, sizeof(cmd),
		 "set -- $(readelf -sW --dyn-syms '%s' 2>/dev/null | "
		 "awk '$8 ~ /^__strdup(@|$)/ {print $2, $3; exit}'); "
		 "objdump -d --no-show-raw-insn --start-address=0x$1 "
		 "--stop-address=$(printf 0x%%x $((0x$1 + $2))) '%s' | "
		 "awk '/\\tcall.*<malloc@plt>/ {getline; sub(\":\", \"\", $1); print $1; exit}'",
		 libc, libc);
	shell_line(cmd, out, sizeof(out));
	ret = strtoull(out, NULL, 16);
	assert_true(ret != 0);
	snprintf(cmd, sizeof(cmd), "addr2line -e '%s' 0x%llx | sed 's/.*://'", libc, ret - 1);
	shell_line(cmd, out, sizeof(out));
	line = atoi(out);
	assert_true(line > 0);

	expect_frame(s, 0, name, false, "strdup.c", line);
	addr = strtoull(get_str(f0, "address"), NULL, 16);
	/* that call site and no other: same offset in the page */
	assert_int_equal(addr & 0xfff, ret & 0xfff);
	expect_frame(s, 1, "do_strdup", false, "known.c", 0);
	expect_counts(s, 100, 1200);
	(void)state;
}

static void jit_code_is_named_by_its_perf_map(void **state)
{
	const char *argv[] = { "--", jit_bin, NULL };
	json_object *r = trace_cached("jit", argv), *s;
	char map[64], unknown[64];
	const char *fn;
	int pid = (int)get_int(get(r, "target"), "pid");

	snprintf(map, sizeof(map), "/tmp/perf-%d.map", pid);
	unlink(map);
	s = stack_with(r, 0, "jit_alloc_77");
	expect_frame(s, 0, "jit_alloc_77", false, NULL, 0);
	assert_string_equal(get_str(frame(s, 0), "module"), map);
	assert_null(get_str(frame(s, 0), "file"));
	expect_frame(s, 1, "run_jit", false, "jit.c", 0);
	expect_counts(s, 7, 7 * 77);

	/* the code the map does not name: an address, never a name */
	s = NULL;
	for (size_t i = 0; i < json_object_array_length(get(r, "stacks")); i++) {
		json_object *t = json_object_array_get_idx(get(r, "stacks"), i);

		fn = frame_fn(t, 0);
		if (fn && !strncmp(fn, "[unknown]+0x", 12) && frame_fn(t, 1) &&
		    !strcmp(frame_fn(t, 1), "run_jit"))
			s = t;
	}
	assert_non_null(s);
	snprintf(unknown, sizeof(unknown), "[unknown]+%s", get_str(frame(s, 0), "address"));
	expect_frame(s, 0, unknown, false, NULL, 0);
	assert_null(get_str(frame(s, 0), "module"));
	expect_counts(s, 3, 3 * 55);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static int setup(void **state)
{
	const char *const need[] = { "HEAPTRACE", "HEAPTRACE_CPP_O0", "HEAPTRACE_CPP_O2",
				     "HEAPTRACE_CPP_SRC", "HEAPTRACE_KNOWN", "HEAPTRACE_JIT" };
	static char abs_paths[6][PATH_MAX];
	const char **paths[] = { &heaptrace_bin, &cpp_o0, &cpp_o2, &cpp_src, &known_bin, &jit_bin };
	const char *defs[] = { "./heaptrace", ".output/tests/cpp_alloc_O0",
			       ".output/tests/cpp_alloc_O2", "tests/workloads/cpp_alloc.cc",
			       ".output/tests/known", ".output/tests/jit" };

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		/* absolute: module paths in the report are */
		if (!realpath(env_or(need[i], defs[i]), abs_paths[i])) {
			fprintf(stderr, "symbolize_integration: %s: %s (set %s)\n",
				env_or(need[i], defs[i]), strerror(errno), need[i]);
			return -1;
		}
		*paths[i] = abs_paths[i];
	}
	run_timeout = test_timeout(120);
	if (make_tmpdir(tmpdir))
		return -1;
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(runs); i++)
		if (runs[i].report)
			json_object_put(runs[i].report);
	finish_tmpdir("symbolize_integration", "reports", tmpdir);
	(void)state;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpp_O0_inlined_helper_is_its_own_frame),
		cmocka_unit_test(cpp_O2_inlined_helper_is_its_own_frame),
		cmocka_unit_test(cpp_O0_template_site_is_demangled_at_its_line),
		cmocka_unit_test(cpp_O2_template_site_is_demangled_at_its_line),
		cmocka_unit_test(cpp_no_demangle_keeps_raw_names),
		cmocka_unit_test(cpp_O0_vector_growth_has_no_inlined_frames),
		cmocka_unit_test(cpp_O2_vector_internals_are_inlined_frames),
		cmocka_unit_test(cpp_O2_string_temporaries_and_map_nodes),
		cmocka_unit_test(cpp_file_and_line_wherever_debug_info_exists),
		cmocka_unit_test(libc_strdup_frame_has_its_name_and_line),
		cmocka_unit_test(jit_code_is_named_by_its_perf_map),
	};

	return test_main(argc, argv, "symbolize", tests, ARRAY_SIZE(tests), setup, teardown);
}
