// SPDX-License-Identifier: MIT
/*
 * Unit tests of the export formats (folded, SVG, pprof, DHAT). No root and
 * no BPF: the heap model and stack table are filled by hand, and stacks
 * point into this test binary's own functions so that the symbolizer
 * (over this process's modules) gives real names, files and lines.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <zlib.h>
#include "heap.h"
#include "modules.h"
#include "profile.pb-c.h"
#include "report.h"
#include "stacks.h"
#include "symbolize.h"
#include "util.h"

/* --- functions the test stacks point into ----------------------------- */

/* Each is on one line, so any address inside maps to that line, and is
 * a few instructions long so it holds two return addresses. The bodies
 * differ so that identical code folding cannot merge them. */
void ht_test_main(void);
void ht_test_mid(void);
void ht_test_leaf(void);
void ht_test_other(void);
/* A symbol name with the folded separator and XML's special characters. */
void ht_test_odd(void) __asm__("\"ht;odd<&>\"");
/* One that is not UTF-8: a stray 0xff, and 0xc3 cut short by '('. */
void ht_test_bad_utf8(void) __asm__("\"ht_bad\xff\xc3(x\"");

static const int leaf_line = __LINE__ + 1;
__attribute__((noinline)) void ht_test_leaf(void) { __asm__ volatile(".rept 4\n\tnop\n\t.endr"); }
__attribute__((noinline)) void ht_test_mid(void) { __asm__ volatile(".rept 5\n\tnop\n\t.endr"); }
__attribute__((noinline)) void ht_test_main(void) { __asm__ volatile(".rept 6\n\tnop\n\t.endr"); }
__attribute__((noinline)) void ht_test_other(void) { __asm__ volatile(".rept 7\n\tnop\n\t.endr"); }
__attribute__((noinline)) void ht_test_odd(void) { __asm__ volatile(".rept 8\n\tnop\n\t.endr"); }
__attribute__((noinline)) void ht_test_bad_utf8(void) { __asm__ volatile(".rept 9\n\tnop\n\t.endr"); }

/* A return address inside fn (the symbolizer looks at the byte before). */
#define RET(fn, off) ((uint64_t)(uintptr_t)&(fn) + (off))

#define START_NS 1700000000123456789ULL
#define MS(ms) ((uint64_t)(ms) * 1000000)

enum { ST_A, ST_B, ST_C, ST_D, ST_E, NR_ST };

struct fixture {
	struct ht_heap *heap;
	struct ht_stacks *stacks;
	struct ht_modules *ms;
	struct ht_symbolizer *sym;
	struct ht_report_input in;
	uint32_t id[NR_ST];
	uint64_t ips[NR_ST][3];
	uint32_t nr[NR_ST];
	char exe[PATH_MAX];
	const char *exe_base;
};

/*
 * The profile every test reads (innermost frame first), at times in ms
 * since tracing began; the report is at 1500 ms:
 *   A: leaf+1, mid, main   100 at 100, 50 at 200; the 100 freed at 700
 *   B: leaf+4, mid, main   30 at 300, live: same functions as A
 *   C: other, main         1000 at 400 (the total peak, 1180), freed at 600
 *   D: 0x1000, 0x2000      unmapped addresses, 7 live from 800
 *   E: odd, main           5 live from 900
 */
static int fill(struct fixture *fx)
{
	const uint64_t ips[NR_ST][3] = {
		[ST_A] = { RET(ht_test_leaf, 1), RET(ht_test_mid, 1), RET(ht_test_main, 1) },
		[ST_B] = { RET(ht_test_leaf, 4), RET(ht_test_mid, 1), RET(ht_test_main, 1) },
		[ST_C] = { RET(ht_test_other, 1), RET(ht_test_main, 1) },
		[ST_D] = { 0x1000, 0x2000 },
		[ST_E] = { RET(ht_test_odd, 1), RET(ht_test_main, 1) },
	};
	const uint32_t nr[NR_ST] = { 3, 3, 2, 2, 2 };
	int err = 0;

	memcpy(fx->ips, ips, sizeof(ips));
	memcpy(fx->nr, nr, sizeof(nr));
	for (int i = 0; i < NR_ST && !err; i++)
		err = stacks__intern(fx->stacks, fx->ips[i], fx->nr[i], &fx->id[i]);
	heap__set_time(fx->heap, MS(100));
	if (!err)
		err = heap__alloc(fx->heap, 0x10000, 100, fx->id[ST_A], 1);
	heap__set_time(fx->heap, MS(200));
	if (!err)
		err = heap__alloc(fx->heap, 0x10100, 50, fx->id[ST_A], 1);
	heap__set_time(fx->heap, MS(300));
	if (!err)
		err = heap__alloc(fx->heap, 0x20000, 30, fx->id[ST_B], 2);
	heap__set_time(fx->heap, MS(400));
	if (!err)
		err = heap__alloc(fx->heap, 0x30000, 1000, fx->id[ST_C], 3);
	heap__set_time(fx->heap, MS(600));
	if (!err)
		err = heap__free_block(fx->heap, 0x30000, 3);
	heap__set_time(fx->heap, MS(700));
	if (!err)
		err = heap__free_block(fx->heap, 0x10000, 1);
	heap__set_time(fx->heap, MS(800));
	if (!err)
		err = heap__alloc(fx->heap, 0x40000, 7, fx->id[ST_D], 4);
	heap__set_time(fx->heap, MS(900));
	if (!err)
		err = heap__alloc(fx->heap, 0x50000, 5, fx->id[ST_E], 5);
	return err;
}

static int fixture_new(struct fixture **out, bool empty)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	ssize_t n;

	if (!fx)
		return -1;
	*out = fx;
	n = readlink("/proc/self/exe", fx->exe, sizeof(fx->exe) - 1);
	if (n <= 0)
		return -1;
	fx->exe[n] = '\0';
	fx->exe_base = strrchr(fx->exe, '/') ? strrchr(fx->exe, '/') + 1 : fx->exe;
	fx->heap = heap__new();
	fx->stacks = stacks__new();
	fx->ms = modules__new(getpid());
	if (!fx->heap || !fx->stacks || !fx->ms || modules__refresh(fx->ms))
		return -1;
	fx->sym = symbolizer__new(fx->ms, NULL);
	if (!fx->sym)
		return -1;
	if (!empty && fill(fx))
		return -1;
	fx->in.heap = fx->heap;
	fx->in.stacks = fx->stacks;
	fx->in.sym = fx->sym;
	fx->in.target.pid = 4242;
	fx->in.target.command = "fmt<test>&";
	fx->in.target.duration_s = 1.5;
	fx->in.target.start_unix_ns = START_NS;
	fx->in.top_n = 10;
	return 0;
}

static int setup(void **state)
{
	return fixture_new((struct fixture **)state, false);
}

static int setup_empty(void **state)
{
	return fixture_new((struct fixture **)state, true);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (!fx)
		return 0;
	symbolizer__free(fx->sym);
	modules__free(fx->ms);
	stacks__free(fx->stacks);
	heap__free(fx->heap);
	free(fx);
	return 0;
}

/* --- helpers ---------------------------------------------------------- */

/* A report written to memory; *len gets its length. Caller frees. */
static char *run_metric(int (*fn)(FILE *, const struct ht_report_input *, enum ht_metric),
			const struct fixture *fx, enum ht_metric m, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(fn(f, &fx->in, m), 0);
	assert_int_equal(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

static char *run(int (*fn)(FILE *, const struct ht_report_input *), const struct fixture *fx,
		 size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(fn(f, &fx->in), 0);
	assert_int_equal(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Is xmllint there? (scripts/install-deps.sh installs libxml2-utils.) */
static bool have_xmllint(void)
{
	return system("command -v xmllint >/dev/null 2>&1") == 0;
}

static int xmllint(const char *doc, size_t len)
{
	char path[] = "/tmp/ht-test-svg-XXXXXX", cmd[128];
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
	rc = system(cmd);
	unlink(path);
	return rc;
}

/* --- metric names ----------------------------------------------------- */

static void test_metric_names_are_the_file_name_suffixes(void **state)
{
	(void)state;
	assert_string_equal(report__metric_name(HT_M_LIVE_BYTES), "live_bytes");
	assert_string_equal(report__metric_name(HT_M_PEAK_BYTES), "peak_bytes");
	assert_string_equal(report__metric_name(HT_M_ALLOC_BYTES), "alloc_bytes");
	assert_string_equal(report__metric_name(HT_M_ALLOCS), "allocs");
	assert_null(report__metric_name((enum ht_metric)42));
}

static void test_unknown_metric_is_rejected(void **state)
{
	struct fixture *fx = *state;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(report__folded(f, &fx->in, (enum ht_metric)42), -EINVAL);
	assert_int_equal(report__svg(f, &fx->in, (enum ht_metric)42), -EINVAL);
	fclose(f);
	assert_int_equal(n, 0);
	free(buf);
}

/* --- folded ----------------------------------------------------------- */

static void test_folded_live_bytes_merges_same_functions_and_sorts(void **state)
{
	char *out = run_metric(report__folded, *state, HT_M_LIVE_BYTES, NULL);

	/* A and B differ in return address only: one line, 50 + 30. C has
	 * nothing live. ';' in a name becomes ':'. Bytewise order. */
	assert_string_equal(out,
			    "[unknown]+0x2000;[unknown]+0x1000 7\n"
			    "ht_test_main;ht:odd<&> 5\n"
			    "ht_test_main;ht_test_mid;ht_test_leaf 80\n");
	free(out);
}

static void test_folded_allocs_counts_freed_stacks_too(void **state)
{
	char *out = run_metric(report__folded, *state, HT_M_ALLOCS, NULL);

	assert_string_equal(out,
			    "[unknown]+0x2000;[unknown]+0x1000 1\n"
			    "ht_test_main;ht:odd<&> 1\n"
			    "ht_test_main;ht_test_mid;ht_test_leaf 3\n"
			    "ht_test_main;ht_test_other 1\n");
	free(out);
}

static void test_folded_alloc_bytes_sums_all_allocations(void **state)
{
	char *out = run_metric(report__folded, *state, HT_M_ALLOC_BYTES, NULL);

	assert_string_equal(out,
			    "[unknown]+0x2000;[unknown]+0x1000 7\n"
			    "ht_test_main;ht:odd<&> 5\n"
			    "ht_test_main;ht_test_mid;ht_test_leaf 180\n"
			    "ht_test_main;ht_test_other 1000\n");
	free(out);
}

static void test_folded_peak_bytes_are_the_values_at_the_total_peak(void **state)
{
	char *out = run_metric(report__folded, *state, HT_M_PEAK_BYTES, NULL);

	/* D and E were allocated after the peak: nothing of theirs at it. */
	assert_string_equal(out,
			    "ht_test_main;ht_test_mid;ht_test_leaf 180\n"
			    "ht_test_main;ht_test_other 1000\n");
	free(out);
}

static void test_folded_of_an_empty_profile_is_empty(void **state)
{
	char *out = run_metric(report__folded, *state, HT_M_LIVE_BYTES, NULL);

	assert_string_equal(out, "");
	free(out);
}

/* --- SVG -------------------------------------------------------------- */

static void test_svg_has_one_frame_group_per_tree_node(void **state)
{
	char *out = run_metric(report__svg, *state, HT_M_LIVE_BYTES, NULL);
	static const char *const nodes[] = {
		"data-name=\"all\" data-o=\"0\" data-v=\"92\" data-d=\"0\"",
		"data-name=\"[unknown]+0x2000\" data-o=\"0\" data-v=\"7\" data-d=\"1\"",
		"data-name=\"[unknown]+0x1000\" data-o=\"0\" data-v=\"7\" data-d=\"2\"",
		"data-name=\"ht_test_main\" data-o=\"7\" data-v=\"85\" data-d=\"1\"",
		"data-name=\"ht;odd&lt;&amp;&gt;\" data-o=\"7\" data-v=\"5\" data-d=\"2\"",
		"data-name=\"ht_test_mid\" data-o=\"12\" data-v=\"80\" data-d=\"2\"",
		"data-name=\"ht_test_leaf\" data-o=\"12\" data-v=\"80\" data-d=\"3\"",
	};
	const char *prev = out;

	/* Seven nodes (A and B merged into one path), each one rect; one more
	 * rect is the background, three the legend's. Nodes come in preorder,
	 * children by name. */
	assert_int_equal(count(out, "<g class=\"frame\""), 7);
	assert_int_equal(count(out, "<rect "), 11);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		const char *p = strstr(out, nodes[i]);

		assert_non_null(p);
		assert_true(p >= prev);
		prev = p;
	}
	free(out);
}

static void test_svg_colours_say_whose_code(void **state)
{
	char *out = run_metric(report__svg, *state, HT_M_LIVE_BYTES, NULL);

	/* This test binary is a PIE program; unmapped frames are unknown. */
	assert_non_null(strstr(out, "data-name=\"ht_test_mid\" data-o=\"12\" data-v=\"80\" "
				   "data-d=\"2\" data-code=\"program\""));
	assert_non_null(strstr(out, "data-name=\"[unknown]+0x1000\" data-o=\"0\" data-v=\"7\" "
				   "data-d=\"2\" data-code=\"unknown\""));
	/* Program frames are warm (red >= 205, blue < 56). */
	{
		const char *g = strstr(out, "data-name=\"ht_test_mid\"");
		unsigned int r, gr, b;

		assert_int_equal(sscanf(strstr(g, "fill=\"rgb(") + 10, "%u,%u,%u", &r, &gr, &b), 3);
		assert_true(r >= 205 && b < 56);
	}
	free(out);
}

static void test_strdup_frame_kept_is_a_green_allocator_frame(void **state)
{
	struct fixture *fx = *state;
	const uint64_t ips[] = { RET(strdup, 4), RET(ht_test_mid, 1), RET(ht_test_main, 1) };
	const char *g;
	unsigned int r, gr, b;
	uint32_t id;
	char *out;

	assert_int_equal(stacks__intern(fx->stacks, ips, 3, &id), 0);
	assert_int_equal(heap__alloc(fx->heap, 0x60000, 64, id, 9), 0);
	fx->in.keep_alloc_frames = true;
	out = run_metric(report__svg, fx, HT_M_LIVE_BYTES, NULL);
	g = strstr(out, "data-name=\"__GI___strdup\"");
	assert_non_null(g);
	assert_non_null(strstr(g, "data-code=\"allocator\""));
	assert_int_equal(sscanf(strstr(g, "fill=\"rgb(") + 10, "%u,%u,%u", &r, &gr, &b), 3);
	assert_true(gr >= 190 && r < 116 && b < 107);
	free(out);
}

static void test_short_name_collapses_template_arguments(void **state)
{
	static const char *const cases[][2] = {
		{ "std::vector<long, std::allocator<long> >::push_back(long&&)",
		  "std::vector<>::push_back(long&&)" },
		{ "std::map<int, std::__cxx11::basic_string<char, std::char_traits<char>, "
		  "std::allocator<char> > >::operator[](int const&)",
		  "std::map<>::operator[](int const&)" },
		{ "bool operator< <int>(A<int> const&, A<int> const&)",
		  "bool operator< <>(A<> const&, A<> const&)" },
		{ "std::ostream::operator<<(int)", "std::ostream::operator<<(int)" },
		{ "int* app::make_array<int>(unsigned long)", "int* app::make_array<>(unsigned long)" },
		{ "p->q(int)", "p->q(int)" },
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		report__short_name(cases[i][0], buf, sizeof(buf));
		assert_string_equal(buf, cases[i][1]);
	}
	/* Cut at the buffer, never past it. */
	report__short_name(cases[0][0], buf, 8);
	assert_string_equal(buf, "std::ve");
	(void)state;
}

static void test_svg_titles_say_function_module_value_and_percent(void **state)
{
	struct fixture *fx = *state;
	char *out = run_metric(report__svg, fx, HT_M_LIVE_BYTES, NULL);
	char want[512];

	snprintf(want, sizeof(want), "<title>ht_test_leaf (%s) - 80 B (86.96%%)</title>",
		 fx->exe_base);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "<title>all - 92 B (100.00%)</title>"));
	/* Unmapped frames have no module to name. */
	assert_non_null(strstr(out, "<title>[unknown]+0x1000 - 7 B (7.61%)</title>"));
	free(out);
}

static void test_svg_heading_names_metric_pid_command_and_duration(void **state)
{
	char *out = run_metric(report__svg, *state, HT_M_LIVE_BYTES, NULL);

	assert_non_null(strstr(out, ">heaptrace: live bytes of PID 4242 "
				    "(fmt&lt;test&gt;&amp;) after 1.5 s</text>"));
	free(out);
	out = run_metric(report__svg, *state, HT_M_ALLOCS, NULL);
	assert_non_null(strstr(out, ">heaptrace: allocations of PID 4242 "));
	assert_non_null(strstr(out, "<title>all - 6 allocations (100.00%)</title>"));
	free(out);
}

static void test_svg_is_self_contained_and_scripted(void **state)
{
	char *out = run_metric(report__svg, *state, HT_M_PEAK_BYTES, NULL);

	assert_non_null(strstr(out, "<script type=\"text/ecmascript\"><![CDATA["));
	assert_non_null(strstr(out, "function zoom("));
	assert_non_null(strstr(out, "function search("));
	assert_non_null(strstr(out, "id=\"unzoom\""));
	assert_non_null(strstr(out, "id=\"matched\""));
	/* Nothing fetched from elsewhere: the only URL is the namespace. */
	assert_int_equal(count(out, "http"), 1);
	assert_null(strstr(out, "href"));
	free(out);
}

static void test_svg_colours_depend_only_on_the_name(void **state)
{
	char *live = run_metric(report__svg, *state, HT_M_LIVE_BYTES, NULL);
	char *allocs = run_metric(report__svg, *state, HT_M_ALLOCS, NULL);
	const char *key = "data-name=\"ht_test_mid\"";
	const char *a = strstr(strstr(live, key), "fill=\"");
	const char *b = strstr(strstr(allocs, key), "fill=\"");

	assert_non_null(a);
	assert_non_null(b);
	assert_memory_equal(a, b, strcspn(a + 6, "\"") + 7);
	free(live);
	free(allocs);
}

static void test_svg_passes_xmllint(void **state)
{
	for (int m = 0; m < __HT_M_MAX; m++) {
		size_t len;
		char *out = run_metric(report__svg, *state, (enum ht_metric)m, &len);

		/* libxml2-utils is a test dependency: missing it is a failure. */
		assert_true(have_xmllint());
		assert_int_equal(xmllint(out, len), 0);
		free(out);
	}
}

static void test_svg_of_an_empty_profile_has_only_the_root(void **state)
{
	size_t len;
	char *out = run_metric(report__svg, *state, HT_M_LIVE_BYTES, &len);

	assert_int_equal(count(out, "<g class=\"frame\""), 1);
	assert_non_null(strstr(out, "data-name=\"all\" data-o=\"0\" data-v=\"0\""));
	assert_true(have_xmllint());
	assert_int_equal(xmllint(out, len), 0);
	free(out);
}

/* --- pprof ------------------------------------------------------------ */

static Perftools__Profiles__Profile *decode_pprof(const char *gz, size_t len)
{
	Perftools__Profiles__Profile *p;
	size_t cap = 1 << 16;
	unsigned char *raw = malloc(cap);
	z_stream z = { 0 };
	int ret;

	assert_non_null(raw);
	/* The output must be gzip, not zlib or raw deflate: 32 = auto-detect
	 * would accept those too. */
	assert_true(len > 2 && (unsigned char)gz[0] == 0x1f && (unsigned char)gz[1] == 0x8b);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)len;
	do {
		if (z.total_out == cap) {
			raw = realloc(raw, cap *= 2);
			assert_non_null(raw);
		}
		z.next_out = raw + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		ret = inflate(&z, Z_NO_FLUSH);
		assert_true(ret == Z_OK || ret == Z_STREAM_END);
	} while (ret != Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);
	p = perftools__profiles__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
	free(raw);
	assert_non_null(p);
	return p;
}

static const char *pp_str(const Perftools__Profiles__Profile *p, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < p->n_string_table);
	return p->string_table[i];
}

static const Perftools__Profiles__Location *pp_loc(const Perftools__Profiles__Profile *p,
						    uint64_t id)
{
	for (size_t i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			return p->location[i];
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static const Perftools__Profiles__Function *pp_fn(const Perftools__Profiles__Profile *p,
						   uint64_t id)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id == id)
			return p->function[i];
	fail_msg("no function %llu", (unsigned long long)id);
	return NULL;
}

static void test_pprof_has_heap_sample_types_in_order(void **state)
{
	static const char *const want[4][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
	};
	size_t len;
	char *out = run(report__pprof, *state, &len);
	Perftools__Profiles__Profile *p = decode_pprof(out, len);

	assert_true(p->n_string_table > 0);
	assert_string_equal(p->string_table[0], "");
	assert_int_equal(p->n_sample_type, 4);
	for (int i = 0; i < 4; i++) {
		assert_string_equal(pp_str(p, p->sample_type[i]->type), want[i][0]);
		assert_string_equal(pp_str(p, p->sample_type[i]->unit), want[i][1]);
	}
	assert_string_equal(pp_str(p, p->default_sample_type), "inuse_space");
	assert_non_null(p->period_type);
	assert_string_equal(pp_str(p, p->period_type->type), "space");
	assert_string_equal(pp_str(p, p->period_type->unit), "bytes");
	assert_int_equal(p->period, 1);
	/* Collected 1.5 s after tracing began, covering those 1.5 s. */
	assert_int_equal(p->time_nanos, (int64_t)START_NS + 1500000000);
	assert_int_equal(p->duration_nanos, 1500000000);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(out);
}

static void test_pprof_has_one_sample_per_stack_with_exact_values(void **state)
{
	struct fixture *fx = *state;
	static const int64_t want[NR_ST][4] = {
		/* allocs, alloc_bytes, live_blocks, live_bytes */
		[ST_A] = { 2, 150, 1, 50 },
		[ST_B] = { 1, 30, 1, 30 },
		[ST_C] = { 1, 1000, 0, 0 },
		[ST_D] = { 1, 7, 1, 7 },
		[ST_E] = { 1, 5, 1, 5 },
	};
	size_t len;
	char *out = run(report__pprof, fx, &len);
	Perftools__Profiles__Profile *p = decode_pprof(out, len);

	assert_int_equal(p->n_sample, NR_ST);
	for (int i = 0; i < NR_ST; i++) {
		const Perftools__Profiles__Sample *s = p->sample[fx->id[i]];

		assert_int_equal(s->n_value, 4);
		for (int v = 0; v < 4; v++)
			assert_int_equal(s->value[v], want[i][v]);
		/* Leaf first, one location per return address. */
		assert_int_equal(s->n_location_id, fx->nr[i]);
		for (uint32_t j = 0; j < fx->nr[i]; j++)
			assert_int_equal(pp_loc(p, s->location_id[j])->address, fx->ips[i][j]);
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(out);
}

static void test_pprof_deduplicates_locations_functions_and_mappings(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *out = run(report__pprof, fx, &len);
	Perftools__Profiles__Profile *p = decode_pprof(out, len);
	const Perftools__Profiles__Sample *a = p->sample[fx->id[ST_A]];
	const Perftools__Profiles__Sample *b = p->sample[fx->id[ST_B]];
	const Perftools__Profiles__Sample *d = p->sample[fx->id[ST_D]];
	const Perftools__Profiles__Location *la = pp_loc(p, a->location_id[0]);
	const Perftools__Profiles__Location *lb = pp_loc(p, b->location_id[0]);
	const Perftools__Profiles__Function *fn;
	Dl_info dl;

	/* 8 distinct addresses; 7 functions (leaf+1 and leaf+4 are one); the
	 * test binary is the only mapping, unmapped frames have none. */
	assert_int_equal(p->n_location, 8);
	assert_int_equal(p->n_function, 7);
	assert_int_equal(p->n_mapping, 1);
	assert_int_equal(p->mapping[0]->id, 1);
	assert_string_equal(pp_str(p, p->mapping[0]->filename), fx->exe);
	assert_true(p->mapping[0]->has_functions);
	/* The executable segment holding the code, page-aligned, at its file
	 * offset, with the build ID the linker wrote. */
	assert_true(p->mapping[0]->memory_start <= la->address);
	assert_true(la->address < p->mapping[0]->memory_limit);
	assert_int_equal(p->mapping[0]->memory_start % 4096, 0);
	assert_int_equal(p->mapping[0]->memory_limit % 4096, 0);
	assert_int_equal(p->mapping[0]->file_offset % 4096, 0);
	/* Here the code's file offsets are its addresses: start - offset is
	 * where the object is loaded. */
	assert_int_equal(dladdr((void *)&ht_test_leaf, &dl), 1);
	assert_int_equal(p->mapping[0]->memory_start - p->mapping[0]->file_offset,
			 (uint64_t)(uintptr_t)dl.dli_fbase);
	assert_int_equal(strlen(pp_str(p, p->mapping[0]->build_id)), 40);
	assert_int_equal(a->location_id[1], b->location_id[1]);
	assert_int_not_equal(a->location_id[0], b->location_id[0]);
	assert_int_equal(la->n_line, 1);
	assert_int_equal(lb->n_line, 1);
	assert_int_equal(la->line[0]->function_id, lb->line[0]->function_id);
	assert_int_equal(la->mapping_id, 1);
	fn = pp_fn(p, la->line[0]->function_id);
	assert_string_equal(pp_str(p, fn->name), "ht_test_leaf");
	if (fn->filename) {
		const char *file = pp_str(p, fn->filename);

		/* Absolute: the compile directory joined with DWARF's name. */
		assert_int_equal(file[0], '/');
		assert_int_equal(strcmp(file + strlen(file) - 21, "/tests/test_formats.c"), 0);
		assert_int_equal(access(file, R_OK), 0);
		assert_int_equal(la->line[0]->line, leaf_line);
		assert_int_equal(fn->start_line, leaf_line);
	}
	assert_int_equal(pp_loc(p, d->location_id[0])->mapping_id, 0);
	fn = pp_fn(p, pp_loc(p, d->location_id[0])->line[0]->function_id);
	assert_string_equal(pp_str(p, fn->name), "[unknown]+0x1000");
	/* The odd name goes through unchanged: protobuf strings are bytes. */
	fn = pp_fn(p, pp_loc(p, p->sample[fx->id[ST_E]]->location_id[0])->line[0]->function_id);
	assert_string_equal(pp_str(p, fn->name), "ht;odd<&>");
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(out);
}

static void test_pprof_of_an_empty_profile_decodes(void **state)
{
	size_t len;
	char *out = run(report__pprof, *state, &len);
	Perftools__Profiles__Profile *p = decode_pprof(out, len);

	assert_int_equal(p->n_sample, 0);
	assert_int_equal(p->n_location, 0);
	assert_int_equal(p->n_sample_type, 4);
	assert_string_equal(p->string_table[0], "");
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(out);
}

/* --- DHAT ------------------------------------------------------------- */

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\"", key);
	return v;
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static json_object *parse_dhat(const struct fixture *fx, char **text)
{
	json_object *root;

	*text = run(report__dhat, fx, NULL);
	root = json_tokener_parse(*text);
	assert_non_null(root);
	return root;
}

static void test_dhat_header_is_dh_view_heap_format(void **state)
{
	char *text;
	json_object *root = parse_dhat(*state, &text);

	assert_int_equal(jint(root, "dhatFileVersion"), 2);
	assert_string_equal(json_object_get_string(jget(root, "mode")), "heap");
	assert_string_equal(json_object_get_string(jget(root, "verb")), "Allocated");
	assert_true(json_object_get_boolean(jget(root, "bklt")));
	assert_false(json_object_get_boolean(jget(root, "bkacc")));
	assert_string_equal(json_object_get_string(jget(root, "tu")), "\xc2\xb5s");
	assert_string_equal(json_object_get_string(jget(root, "Mtu")), "s");
	jint(root, "tuth");
	assert_string_equal(json_object_get_string(jget(root, "cmd")), "fmt<test>&");
	assert_int_equal(jint(root, "pid"), 4242);
	assert_int_equal(jint(root, "te"), 1500000);
	/* The total peak: C's 1000 bytes allocated at 400 ms. */
	assert_int_equal(jint(root, "tg"), 400000);
	json_object_put(root);
	free(text);
}

static void test_dhat_program_points_have_exact_values(void **state)
{
	struct fixture *fx = *state;
	static const int64_t want[NR_ST][9] = {
		/* tb, tbk, mb, mbk, gb, gbk, eb, ebk, frames */
		[ST_A] = { 150, 2, 150, 2, 150, 2, 50, 1, 3 },
		[ST_B] = { 30, 1, 30, 1, 30, 1, 30, 1, 3 },
		[ST_C] = { 1000, 1, 1000, 1, 1000, 1, 0, 0, 2 },
		[ST_D] = { 7, 1, 7, 1, 0, 0, 7, 1, 2 },
		[ST_E] = { 5, 1, 5, 1, 0, 0, 5, 1, 2 },
	};
	static const int64_t want_tl[NR_ST] = {
		[ST_A] = (700 - 100 + 1500 - 200) * 1000, [ST_B] = (1500 - 300) * 1000,
		[ST_C] = (600 - 400) * 1000, [ST_D] = (1500 - 800) * 1000,
		[ST_E] = (1500 - 900) * 1000,
	};
	static const char *const keys[] = { "tb", "tbk", "mb", "mbk", "gb", "gbk", "eb", "ebk" };
	char *text;
	json_object *root = parse_dhat(fx, &text);
	json_object *pps = jget(root, "pps"), *ftbl = jget(root, "ftbl");

	assert_int_equal(json_object_array_length(pps), NR_ST);
	for (int i = 0; i < NR_ST; i++) {
		json_object *pp = json_object_array_get_idx(pps, fx->id[i]);
		json_object *fs = jget(pp, "fs");

		for (int k = 0; k < 8; k++)
			assert_int_equal(jint(pp, keys[k]), want[i][k]);
		/* Freed blocks until their free, live ones until 1500 ms. */
		assert_int_equal(jint(pp, "tl"), want_tl[i]);
		assert_int_equal(json_object_array_length(fs), want[i][8]);
		/* Innermost first; each frame names its own address. */
		for (size_t j = 0; j < json_object_array_length(fs); j++) {
			int64_t idx = json_object_get_int64(json_object_array_get_idx(fs, j));
			const char *fr;
			char addr[32];

			assert_true(idx >= 1 && (size_t)idx < json_object_array_length(ftbl));
			fr = json_object_get_string(json_object_array_get_idx(ftbl, idx));
			snprintf(addr, sizeof(addr), "0x%llx: ", (unsigned long long)fx->ips[i][j]);
			assert_memory_equal(fr, addr, strlen(addr));
		}
	}
	json_object_put(root);
	free(text);
}

static void test_dhat_frame_table_is_root_then_unique_frames(void **state)
{
	struct fixture *fx = *state;
	char *text, with_line[64], in_module_str[PATH_MAX + 8];
	json_object *root = parse_dhat(fx, &text);
	json_object *ftbl = jget(root, "ftbl");
	bool leaf = false, unknown = false, in_module = false;
	size_t n = json_object_array_length(ftbl);

	snprintf(with_line, sizeof(with_line), "test_formats.c:%d)", leaf_line);
	snprintf(in_module_str, sizeof(in_module_str), "(in %s)", fx->exe);
	/* "[root]" and the 8 distinct return addresses. */
	assert_int_equal(n, 9);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(ftbl, 0)), "[root]");
	for (size_t i = 1; i < n; i++) {
		const char *fr = json_object_get_string(json_object_array_get_idx(ftbl, i));

		/* "(file:line)" with line info, else "(in module)". */
		if (strstr(fr, ": ht_test_leaf (")) {
			assert_true(strstr(fr, with_line) || strstr(fr, in_module_str));
			leaf = true;
		}
		if (!strcmp(fr, "0x1000: [unknown]+0x1000"))
			unknown = true;
		if (strstr(fr, ": ht;odd<&> ("))
			in_module = true;
	}
	assert_true(leaf && unknown && in_module);
	json_object_put(root);
	free(text);
}

static void test_dhat_of_an_empty_profile_has_no_program_points(void **state)
{
	char *text;
	json_object *root = parse_dhat(*state, &text);

	assert_int_equal(json_object_array_length(jget(root, "pps")), 0);
	assert_int_equal(json_object_array_length(jget(root, "ftbl")), 1);
	json_object_put(root);
	free(text);
}

/* --- frames shared by every report ---------------------------------- */

/* One more live block of size bytes on ips (innermost first). */
static void add_stack(struct fixture *fx, const uint64_t *ips, uint32_t nr, uint64_t addr,
		      uint64_t size)
{
	uint32_t id;

	assert_int_equal(stacks__intern(fx->stacks, ips, nr, &id), 0);
	assert_int_equal(heap__alloc(fx->heap, addr, size, id, 9), 0);
}

/* text parsed as JSON by json-c in strict mode, which rejects invalid UTF-8. */
static json_object *parse_strict(const char *text)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (!o)
		fail_msg("JSON rejected: %s\n%s",
			 json_tokener_error_desc(json_tokener_get_error(tok)), text);
	json_tokener_free(tok);
	return o;
}

static json_object *json_report(const struct fixture *fx)
{
	char *out = run(report__json, fx, NULL);
	json_object *o = parse_strict(out);

	free(out);
	return o;
}

/* The frames of the JSON stack whose frame 0 has function fn. */
static json_object *json_frames_of(json_object *r, const char *fn)
{
	json_object *stacks = json_object_object_get(r, "stacks");

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *fr = json_object_object_get(json_object_array_get_idx(stacks, i),
							 "frames");
		json_object *f0 = json_object_array_get_idx(fr, 0);

		if (f0 && !strcmp(json_object_get_string(json_object_object_get(f0, "function")),
				  fn))
			return fr;
	}
	fail_msg("no JSON stack starts with %s", fn);
	return NULL;
}

static bool frame_bool(json_object *frames, size_t i, const char *key)
{
	return json_object_get_boolean(
		json_object_object_get(json_object_array_get_idx(frames, i), key));
}

static void test_json_symbol_with_invalid_utf8_is_valid_json(void **state)
{
	struct fixture *fx = *state;
	const uint64_t ips[] = { RET(ht_test_bad_utf8, 1), RET(ht_test_main, 1) };
	json_object *r;

	add_stack(fx, ips, 2, 0x60000, 11);
	r = json_report(fx);
	/* Each byte that starts no UTF-8 sequence is U+FFFD; the rest stays. */
	json_frames_of(r, "ht_bad\xef\xbf\xbd\xef\xbf\xbd(x");
	json_object_put(r);
}

static void test_dhat_symbol_with_invalid_utf8_is_valid_json(void **state)
{
	struct fixture *fx = *state;
	const uint64_t ips[] = { RET(ht_test_bad_utf8, 1), RET(ht_test_main, 1) };
	char *out;

	add_stack(fx, ips, 2, 0x60000, 11);
	out = run(report__dhat, fx, NULL);
	json_object_put(parse_strict(out));
	assert_non_null(strstr(out, ": ht_bad\\ufffd\\ufffd(x ("));
	free(out);
}

/* strdup (in libc) called by mid: folded shows mid as the leaf. */
static void add_strdup_stack(struct fixture *fx)
{
	const uint64_t ips[] = { RET(strdup, 4), RET(ht_test_mid, 1), RET(ht_test_main, 1) };

	add_stack(fx, ips, 3, 0x60000, 64);
}

static void test_folded_leaves_out_libc_strdup_frame_unless_kept(void **state)
{
	struct fixture *fx = *state;
	char *out;

	add_strdup_stack(fx);
	out = run_metric(report__folded, fx, HT_M_LIVE_BYTES, NULL);
	assert_string_equal(out,
			    "[unknown]+0x2000;[unknown]+0x1000 7\n"
			    "ht_test_main;ht:odd<&> 5\n"
			    "ht_test_main;ht_test_mid 64\n"
			    "ht_test_main;ht_test_mid;ht_test_leaf 80\n");
	free(out);
	fx->in.keep_alloc_frames = true;
	out = run_metric(report__folded, fx, HT_M_LIVE_BYTES, NULL);
	/* glibc's debug information names the code __GI___strdup. */
	assert_string_equal(out,
			    "[unknown]+0x2000;[unknown]+0x1000 7\n"
			    "ht_test_main;ht:odd<&> 5\n"
			    "ht_test_main;ht_test_mid;__GI___strdup 64\n"
			    "ht_test_main;ht_test_mid;ht_test_leaf 80\n");
	free(out);
}

/* With --alloc-fn glob, the alloc_bytes folded file is want. */
static void expect_folded_with_alloc_fn(struct fixture *fx, const char *const *glob,
					const char *want)
{
	char *out;

	fx->in.alloc_fns = glob;
	fx->in.nalloc_fns = 1;
	out = run_metric(report__folded, fx, HT_M_ALLOC_BYTES, NULL);
	assert_string_equal(out, want);
	free(out);
}

static void test_alloc_fn_glob_folds_own_wrapper_everywhere(void **state)
{
	struct fixture *fx = *state;
	static const char *const globs[] = { "ht_test_l*f" };
	json_object *r, *fr;
	char *out;

	/* Folded: A and B lose their leaf, so mid is theirs. */
	expect_folded_with_alloc_fn(fx, globs,
				    "[unknown]+0x2000;[unknown]+0x1000 7\n"
				    "ht_test_main;ht:odd<&> 5\n"
				    "ht_test_main;ht_test_mid 180\n"
				    "ht_test_main;ht_test_other 1000\n");
	/* JSON keeps the frame and marks it; frames[0] stays the leaf. */
	r = json_report(fx);
	fr = json_frames_of(r, "ht_test_leaf");
	assert_int_equal(json_object_array_length(fr), 3);
	assert_true(frame_bool(fr, 0, "alloc_frame"));
	assert_false(frame_bool(fr, 1, "alloc_frame"));
	assert_false(frame_bool(fr, 2, "alloc_frame"));
	fr = json_frames_of(r, "ht_test_other");
	assert_false(frame_bool(fr, 0, "alloc_frame"));
	json_object_put(r);
	/* SVG: no frame of the wrapper. */
	out = run_metric(report__svg, fx, HT_M_ALLOC_BYTES, NULL);
	assert_null(strstr(out, "data-name=\"ht_test_leaf\""));
	free(out);
}

static void test_every_frame_alloc_keeps_the_outermost(void **state)
{
	static const char *const globs[] = { "ht_test_*" };

	/* odd is no ht_test_ name: E keeps odd and main; the others main. */
	expect_folded_with_alloc_fn(*state, globs,
				    "[unknown]+0x2000;[unknown]+0x1000 7\n"
				    "ht_test_main 1180\n"
				    "ht_test_main;ht:odd<&> 5\n");
}

/* --- lifetimes and ages ---------------------------------------------- */

/* G: 500 bytes from 1000 to 1100 ms: its own high-water mark (500) comes
 * after the total peak and is not part of it. */
static void add_late_high_water(struct fixture *fx)
{
	const uint64_t ips[] = { RET(ht_test_other, 4), RET(ht_test_mid, 1) };
	uint32_t id;

	assert_int_equal(stacks__intern(fx->stacks, ips, 2, &id), 0);
	heap__set_time(fx->heap, MS(1000));
	assert_int_equal(heap__alloc(fx->heap, 0x70000, 500, id, 6), 0);
	heap__set_time(fx->heap, MS(1100));
	assert_int_equal(heap__free_block(fx->heap, 0x70000, 6), 0);
}

static void test_dhat_max_is_the_stacks_own_high_water_mark(void **state)
{
	struct fixture *fx = *state;
	json_object *root, *pps, *pp;
	char *text;

	add_late_high_water(fx);
	root = parse_dhat(fx, &text);
	pps = jget(root, "pps");
	pp = json_object_array_get_idx(pps, NR_ST);
	assert_int_equal(jint(pp, "mb"), 500);
	assert_int_equal(jint(pp, "mbk"), 1);
	assert_int_equal(jint(pp, "gb"), 0);
	assert_int_equal(jint(pp, "tl"), 100000);
	/* The peak did not move. */
	assert_int_equal(jint(root, "tg"), 400000);
	json_object_put(root);
	free(text);
}

/* A JSON number of seconds in ms. */
static int64_t json_ms(json_object *o, const char *key)
{
	return (int64_t)(json_object_get_double(json_object_object_get(o, key)) * 1000 + 0.5);
}

static void test_json_lifetimes_ages_and_peak_time(void **state)
{
	struct fixture *fx = *state;
	json_object *r = json_report(fx), *times = json_object_object_get(r, "times");
	json_object *stacks = json_object_object_get(r, "stacks");
	json_object *a = json_object_array_get_idx(stacks, fx->id[ST_A]);
	json_object *c = json_object_array_get_idx(stacks, fx->id[ST_C]);

	assert_int_equal(json_ms(times, "peak_time_s"), 400);
	/* 600 + 200 ms over 2 frees. */
	assert_int_equal(json_ms(times, "freed_lifetime_s"), 800);
	assert_int_equal(json_ms(times, "avg_lifetime_s"), 400);
	/* A: one block freed after 600 ms; the other live since 200 ms. */
	assert_int_equal(json_object_get_int64(json_object_object_get(a, "max_live_bytes")), 150);
	assert_int_equal(json_ms(a, "freed_lifetime_s"), 600);
	assert_int_equal(json_ms(a, "avg_lifetime_s"), 600);
	assert_int_equal(json_ms(a, "oldest_age_s"), 1300);
	/* C: nothing live, freed after 200 ms. */
	assert_true(json_object_is_type(json_object_object_get(c, "oldest_age_s"), json_type_null));
	assert_int_equal(json_ms(c, "avg_lifetime_s"), 200);
	json_object_put(r);
}

static void expect_in(const char *out, const char *want)
{
	if (!strstr(out, want))
		fail_msg("no \"%s\" in:\n%s", want, out);
}

static void test_json_timeline_has_the_model_at_each_interval(void **state)
{
	/* t_s, live_bytes, allocs, frees: the values held at each 100 ms
	 * boundary an event crossed (500 and 600 ms: the quiet gap), then
	 * the report's moment. */
	static const double want[][4] = {
		{ 0.1, 0, 0, 0 }, { 0.2, 100, 1, 0 }, { 0.3, 150, 2, 0 }, { 0.4, 180, 3, 0 },
		{ 0.5, 1180, 4, 0 }, { 0.6, 1180, 4, 0 }, { 0.7, 180, 4, 1 }, { 0.8, 80, 4, 2 },
		{ 0.9, 87, 5, 2 }, { 1.5, 92, 6, 2 },
	};
	json_object *r = json_report(*state);
	json_object *tl = json_object_object_get(r, "timeline");
	json_object *pts = json_object_object_get(tl, "points");

	assert_int_equal(json_ms(tl, "interval_s"), 100);
	assert_int_equal(json_object_array_length(pts), ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		json_object *p = json_object_array_get_idx(pts, i);

		assert_int_equal(json_object_array_length(p), 4);
		assert_int_equal((int64_t)(json_object_get_double(json_object_array_get_idx(p, 0)) *
					   1000 + 0.5), (int64_t)(want[i][0] * 1000 + 0.5));
		for (int k = 1; k < 4; k++)
			assert_int_equal(json_object_get_int64(json_object_array_get_idx(p, k)),
					 (int64_t)want[i][k]);
	}
	json_object_put(r);
}

static void test_timeline_stays_bounded_over_a_long_run(void **state)
{
	struct fixture *fx = *state;
	const struct ht_timeline_point *p;
	uint64_t interval;
	size_t n;

	/* An event every 100 ms for 10 hours: 360,000 intervals. */
	for (uint64_t t = 1000; t <= 36000000; t += 100) {
		heap__set_time(fx->heap, MS(t));
		assert_int_equal(heap__alloc(fx->heap, 0x100000 + t, 1, fx->id[ST_E], 7), 0);
		assert_int_equal(heap__free_block(fx->heap, 0x100000 + t, 7), 0);
	}
	n = heap__timeline(fx->heap, &p, &interval);
	assert_true(n <= 4096);
	assert_true(n > 2048);
	/* 100 ms doubled until 360,000 intervals fit: 12.8 s. */
	assert_int_equal(interval, 12800);
	assert_int_equal(p[0].t_ms, 100);
	assert_true(p[n - 1].t_ms > 36000000 - 2 * interval);
	for (size_t i = 1; i < n; i++)
		assert_true(p[i].t_ms > p[i - 1].t_ms);
}

static void test_text_live_shows_oldest_age_and_older_than_filters(void **state)
{
	struct fixture *fx = *state;
	char *out = run(report__text, fx, NULL);

	/* Ages at 1500 ms: A's 50 bytes since 200, B 300, D 800, E 900. */
	expect_in(out, "50 B in 1 block live, the oldest 1.3 s old\n");
	expect_in(out, "30 B in 1 block live, the oldest 1.2 s old\n");
	expect_in(out, "7 B in 1 block live, the oldest 0.7 s old\n");
	free(out);
	/* At least 1 s old: only A's and B's blocks. */
	fx->in.older_than_s = 1.0;
	out = run(report__text, fx, NULL);
	expect_in(out, "== Live: memory held now (only blocks at least 1 s old) ==\n"
		       "#1 50 B in 1 block live, the oldest 1.3 s old\n");
	expect_in(out, "#2 30 B in 1 block live, the oldest 1.2 s old\n");
	if (strstr(out, "7 B in 1 block live"))
		fail_msg("D is younger than 1 s:\n%s", out);
	free(out);
	/* 1.25 s: A's block only; 2 s: nothing. */
	fx->in.older_than_s = 1.25;
	out = run(report__text, fx, NULL);
	expect_in(out, "#1 50 B in 1 block live, the oldest 1.3 s old\n");
	if (strstr(out, "30 B in 1 block live"))
		fail_msg("B is younger than 1.25 s:\n%s", out);
	free(out);
	fx->in.older_than_s = 2;
	out = run(report__text, fx, NULL);
	expect_in(out, "(only blocks at least 2 s old) ==\n(nothing live)\n");
	free(out);
}

/* --- HTML ------------------------------------------------------------- */

/* The data the HTML page embeds, parsed: between its script tags, with no
 * '<' at all (a name cannot close the script early). */
static json_object *html_data(const struct fixture *fx)
{
	static const char open_tag[] = "<script type=\"application/json\" id=\"data\">";
	char *out = run(report__html, fx, NULL), *start = strstr(out, open_tag), *end;
	json_object *d;

	assert_non_null(start);
	start += strlen(open_tag);
	end = strstr(start, "</script>");
	assert_non_null(end);
	*end = '\0';
	if (strchr(start, '<'))
		fail_msg("a raw '<' in the page's data: %s", strchr(start, '<'));
	d = parse_strict(start);
	assert_null(strstr(end + 1, "@HEAPTRACE_DATA@"));
	assert_non_null(strstr(end + 1, "</html>"));
	free(out);
	return d;
}

/* Element i of an array of integers. */
static int64_t jat(json_object *arr, size_t i)
{
	return json_object_get_int64(json_object_array_get_idx(arr, i));
}

/* The function of an embedded stack's innermost shown frame. */
static const char *html_leaf(json_object *d, size_t stack)
{
	json_object *st = json_object_array_get_idx(jget(d, "stacks"), stack);
	json_object *f0 = json_object_array_get_idx(jget(st, "frames"), 0);

	return json_object_get_string(
		json_object_array_get_idx(jget(d, "names"), (size_t)jat(f0, 0)));
}

/*
 * The chart's bands are the stacks by high-water mark (C 1000, A 150,
 * B 30, D 7, E 5: all five, so "other" is 0), each with its live bytes at
 * every point of the JSON timeline, and they sum to the total there.
 */
static void test_html_bands_are_each_stacks_live_bytes_at_each_point(void **state)
{
	static const int64_t want_c[] = { 0, 0, 0, 0, 1000, 1000, 0, 0, 0, 0 };
	static const int64_t want_a[] = { 0, 100, 150, 150, 150, 150, 150, 50, 50, 50 };
	static const char *const order[] = { "ht_test_other", "ht_test_leaf", "ht_test_leaf",
					     NULL, "ht;odd<&>" };
	json_object *d = html_data(*state), *tl = jget(d, "timeline");
	json_object *bands = jget(tl, "bands"), *live = jget(tl, "live"), *other = jget(tl, "other");
	size_t n = json_object_array_length(jget(tl, "t"));

	assert_int_equal(n, ARRAY_SIZE(want_c));
	assert_int_equal(json_object_array_length(bands), 5);
	for (size_t b = 0; b < 5; b++)
		if (order[b])
			assert_string_equal(html_leaf(d, (size_t)json_object_get_int64(jget(
						    json_object_array_get_idx(bands, b), "stack"))),
					    order[b]);
	for (size_t i = 0; i < n; i++) {
		int64_t sum = jat(other, i);

		for (size_t b = 0; b < 5; b++)
			sum += jat(jget(json_object_array_get_idx(bands, b), "live"), i);
		assert_int_equal(sum, jat(live, i));
		assert_int_equal(jat(other, i), 0);
		assert_int_equal(jat(jget(json_object_array_get_idx(bands, 0), "live"), i),
				 want_c[i]);
		assert_int_equal(jat(jget(json_object_array_get_idx(bands, 1), "live"), i),
				 want_a[i]);
	}
	assert_false(json_object_get_boolean(jget(tl, "bands_lost")));
	json_object_put(d);
}

/* Names and the command pass through the JSON inside the page intact;
 * the summary carries the text report's loss warning. */
static void test_html_data_keeps_names_and_the_loss_warning(void **state)
{
	struct fixture *fx = *state;
	json_object *d, *names, *peak;
	bool odd = false;

	fx->in.loss.lost_events = 3;
	fx->in.loss.ringbuf_full_allocs = 3;
	d = html_data(fx);
	assert_string_equal(json_object_get_string(jget(d, "command")), "fmt<test>&");
	names = jget(d, "names");
	for (size_t i = 0; i < json_object_array_length(names); i++)
		odd |= !strcmp(json_object_get_string(json_object_array_get_idx(names, i)),
			       "ht;odd<&>");
	assert_true(odd);
	assert_non_null(strstr(json_object_get_string(jget(d, "summary_text")),
			       "WARNING: 3 events were lost (ring buffer full: 3 allocs, 0 frees)"));
	assert_int_equal(jint(jget(d, "totals"), "lost_events"), 3);
	/* Peak table: C, A, B by their bytes at the peak; nothing more. */
	peak = jget(jget(d, "tables"), "peak");
	assert_int_equal(json_object_array_length(jget(peak, "rows")), 3);
	assert_string_equal(html_leaf(d, (size_t)jat(jget(peak, "rows"), 0)), "ht_test_other");
	assert_int_equal(jint(peak, "other_stacks"), 0);
	json_object_put(d);
}

/* A frame narrower than 1/1000 of the total is left out with its callees,
 * counted: with 2,000,000 more bytes under main, mid (A and B, 80 bytes),
 * odd (E, 5) and D's unmapped root (7) go. */
static void test_html_flame_graph_prunes_narrow_frames_and_counts_them(void **state)
{
	struct fixture *fx = *state;
	const uint64_t ips[] = { RET(ht_test_other, 2), RET(ht_test_main, 1) };
	json_object *d, *fl, *nodes;

	add_stack(fx, ips, 2, 0x70000, 2000000);
	d = html_data(fx);
	fl = jget(jget(d, "flame"), "live_bytes");
	nodes = jget(fl, "nodes");
	assert_int_equal(jint(fl, "total"), 2000092);
	assert_int_equal(jint(fl, "pruned"), 92);
	assert_int_equal(jint(fl, "pruned_frames"), 3);
	/* The root, then parents before children; the values add up. */
	assert_int_equal(jat(json_object_array_get_idx(nodes, 0), 3), -1);
	assert_int_equal(jat(json_object_array_get_idx(nodes, 0), 4), 2000092);
	for (size_t i = 1; i < json_object_array_length(nodes); i++)
		assert_true(jat(json_object_array_get_idx(nodes, i), 3) < (int64_t)i);
	json_object_put(d);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_EMPTY(fn) cmocka_unit_test_setup_teardown(fn, setup_empty, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metric_names_are_the_file_name_suffixes),
		T(test_unknown_metric_is_rejected),
		T(test_folded_live_bytes_merges_same_functions_and_sorts),
		T(test_folded_allocs_counts_freed_stacks_too),
		T(test_folded_alloc_bytes_sums_all_allocations),
		T(test_folded_peak_bytes_are_the_values_at_the_total_peak),
		T_EMPTY(test_folded_of_an_empty_profile_is_empty),
		T(test_svg_has_one_frame_group_per_tree_node),
		T(test_svg_titles_say_function_module_value_and_percent),
		T(test_svg_colours_say_whose_code),
		T(test_strdup_frame_kept_is_a_green_allocator_frame),
		cmocka_unit_test(test_short_name_collapses_template_arguments),
		T(test_svg_heading_names_metric_pid_command_and_duration),
		T(test_svg_is_self_contained_and_scripted),
		T(test_svg_colours_depend_only_on_the_name),
		T(test_svg_passes_xmllint),
		T_EMPTY(test_svg_of_an_empty_profile_has_only_the_root),
		T(test_pprof_has_heap_sample_types_in_order),
		T(test_pprof_has_one_sample_per_stack_with_exact_values),
		T(test_pprof_deduplicates_locations_functions_and_mappings),
		T_EMPTY(test_pprof_of_an_empty_profile_decodes),
		T(test_dhat_header_is_dh_view_heap_format),
		T(test_dhat_program_points_have_exact_values),
		T(test_dhat_frame_table_is_root_then_unique_frames),
		T_EMPTY(test_dhat_of_an_empty_profile_has_no_program_points),
		T(test_json_symbol_with_invalid_utf8_is_valid_json),
		T(test_dhat_symbol_with_invalid_utf8_is_valid_json),
		T(test_folded_leaves_out_libc_strdup_frame_unless_kept),
		T(test_alloc_fn_glob_folds_own_wrapper_everywhere),
		T(test_every_frame_alloc_keeps_the_outermost),
		T(test_dhat_max_is_the_stacks_own_high_water_mark),
		T(test_json_lifetimes_ages_and_peak_time),
		T(test_text_live_shows_oldest_age_and_older_than_filters),
		T(test_html_bands_are_each_stacks_live_bytes_at_each_point),
		T(test_html_data_keeps_names_and_the_loss_warning),
		T(test_html_flame_graph_prunes_narrow_frames_and_counts_them),
		T(test_json_timeline_has_the_model_at_each_interval),
		T(test_timeline_stays_bounded_over_a_long_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
