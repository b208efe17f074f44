// SPDX-License-Identifier: MIT
/*
 * Unit tests of the symbolizer: inlined frames, lines, demangling, libc
 * through its separate debug file (libc6-dbg), stripped, non-PIE and
 * deleted executables, perf maps of JIT code.
 *
 * Some tests symbolize this process itself; the others run symtarget
 * (tests/symbolize_target.c) in its variants, found in $HT_SYMTARGET_DIR
 * or else next to this program (.output/tests/).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include "modules.h"
#include "perfmap.h"
#include "symbolize.h"

#define NOINLINE __attribute__((noinline, noipa))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

static struct ht_modules *modules_of(int pid)
{
	struct ht_modules *ms = modules__new(pid);

	assert_non_null(ms);
	assert_int_equal(modules__refresh(ms), 0);
	return ms;
}

static void print_frames(const struct ht_frame *f, int n)
{
	for (int i = 0; i < n; i++)
		print_message("    #%d %s%s (%s:%d) [%s] known=%d\n", i, f[i].function,
			      f[i].inlined ? " [inlined]" : "", f[i].file ? f[i].file : "?",
			      f[i].line, f[i].module ? f[i].module : "-", f[i].known);
}

/* Frame i is function fn in file (base name; NULL: no file) at line. */
static void expect_frame(const struct ht_frame *f, int n, int i, const char *fn,
			 const char *file, int line, bool inlined)
{
	if (i >= n || strcmp(f[i].function, fn) != 0 || f[i].inlined != inlined ||
	    (file ? !f[i].file || strcmp(base_name(f[i].file), file) != 0 : f[i].file != NULL) ||
	    f[i].line != line) {
		print_message("expected frame #%d %s%s (%s:%d), got:\n", i, fn,
			      inlined ? " [inlined]" : "", file ? file : "?", line);
		print_frames(f, n);
		fail();
	}
}

/* ------------------------------------------------------------------ */
/* This process                                                        */
/* ------------------------------------------------------------------ */

static volatile uint64_t self_addr;
static volatile int self_line[3];

static NOINLINE void self_capture(void)
{
	self_addr = (uint64_t)__builtin_return_address(0);
}

ALWAYS_INLINE void self_inner(void)
{
	self_capture(); self_line[0] = __LINE__;
}

ALWAYS_INLINE void self_outer(void)
{
	self_inner(); self_line[1] = __LINE__;
}

static NOINLINE void self_function(void)
{
	self_outer(); self_line[2] = __LINE__;
}

static void inline_helpers_are_frames_of_their_own(void **state)
{
	struct ht_modules *ms = modules_of(getpid());
	struct ht_symbolizer *s = symbolizer__new(ms, NULL);
	struct ht_frame f[HT_MAX_INLINE];
	int n;

	self_function();
	assert_non_null(s);
	n = symbolizer__resolve_inline(s, self_addr, f, HT_MAX_INLINE);
	assert_int_equal(n, 3);
	expect_frame(f, n, 0, "self_inner", "test_symbolize.c", self_line[0], true);
	expect_frame(f, n, 1, "self_outer", "test_symbolize.c", self_line[1], true);
	expect_frame(f, n, 2, "self_function", "test_symbolize.c", self_line[2], false);
	for (int i = 0; i < n; i++) {
		assert_true(f[i].known);
		assert_int_equal(f[i].address, self_addr);
		assert_string_equal(base_name(f[i].module), "test_symbolize");
	}

	/* Fewer slots: the innermost frames, then the real function. */
	n = symbolizer__resolve_inline(s, self_addr, f, 2);
	assert_int_equal(n, 2);
	expect_frame(f, n, 0, "self_inner", "test_symbolize.c", self_line[0], true);
	expect_frame(f, n, 1, "self_function", "test_symbolize.c", self_line[2], false);
	n = symbolizer__resolve_inline(s, self_addr, f, 1);
	assert_int_equal(n, 1);
	expect_frame(f, n, 0, "self_function", "test_symbolize.c", self_line[2], false);
	assert_int_equal(symbolizer__resolve_inline(s, self_addr, f, 0), -EINVAL);

	/* One frame per address: the real function, at its own line. */
	assert_int_equal(symbolizer__resolve(s, self_addr, f), 0);
	expect_frame(f, 1, 0, "self_function", "test_symbolize.c", self_line[2], false);
	symbolizer__free(s);
	modules__free(ms);
	(void)state;
}

static void each_address_is_resolved_once(void **state)
{
	struct ht_modules *ms = modules_of(getpid());
	struct ht_symbolizer *s = symbolizer__new(ms, NULL);
	struct ht_frame a[HT_MAX_INLINE], b[HT_MAX_INLINE];
	uint64_t base = (uint64_t)(uintptr_t)&self_function;

	self_function();
	assert_int_equal(symbolizer__resolve_inline(s, self_addr, a, HT_MAX_INLINE), 3);
	/* Many other addresses make the cache grow, then the first is intact. */
	for (uint64_t i = 1; i < 5000; i++)
		assert_int_equal(symbolizer__resolve(s, base + i, b), 0);
	assert_int_equal(symbolizer__resolve_inline(s, self_addr, b, HT_MAX_INLINE), 3);
	for (int i = 0; i < 3; i++) {
		/* the same strings: nothing was resolved again */
		assert_ptr_equal(a[i].function, b[i].function);
		assert_ptr_equal(a[i].file, b[i].file);
		assert_int_equal(a[i].line, b[i].line);
	}
	symbolizer__free(s);
	modules__free(ms);
	(void)state;
}

static void unmapped_addresses_are_unknown_never_named(void **state)
{
	struct ht_modules *ms = modules_of(getpid());
	struct ht_symbolizer *s = symbolizer__new(ms, NULL);
	struct ht_frame f[HT_MAX_INLINE];

	assert_int_equal(symbolizer__resolve(s, 0, f), 0);
	assert_string_equal(f[0].function, "[unknown]");
	assert_false(f[0].known);
	assert_int_equal(symbolizer__resolve_inline(s, 0x10, f, HT_MAX_INLINE), 1);
	assert_string_equal(f[0].function, "[unknown]+0x10");
	assert_null(f[0].module);
	assert_null(f[0].file);
	assert_false(f[0].known);
	symbolizer__free(s);
	modules__free(ms);
	(void)state;
}

extern char _start[];

/*
 * crt1's _start has no DWARF. libdwfl's CU lookup gives the CU before a
 * gap (here the one of main, which may end with a line row at its very
 * end address, and then that line was taken): the frame must have the
 * name and no file:line. (cpp_alloc in tests/symbolize_it.c has
 * such a layout.)
 */
static void code_without_dwarf_gets_no_line(void **state)
{
	struct ht_modules *ms = modules_of(getpid());
	struct ht_symbolizer *s = symbolizer__new(ms, NULL);
	struct ht_frame f[HT_MAX_INLINE];
	int n;

	n = symbolizer__resolve_inline(s, (uint64_t)(uintptr_t)_start + 5, f, HT_MAX_INLINE);
	assert_int_equal(n, 1);
	expect_frame(f, n, 0, "_start", NULL, 0, false);
	assert_true(f[0].known);
	symbolizer__free(s);
	modules__free(ms);
	(void)state;
}

/*
 * A function in top-level asm, without .size: a label in this binary's
 * full .symtab. It gets its name, and no line: the CU's line table only
 * seems to cover it (gcc's line rows around it are its neighbour's).
 */
void test_label_fn(void);
__asm__(".pushsection .text\n"
	".globl test_label_fn\n"
	".type test_label_fn, @function\n"
	"test_label_fn:\n"
	"\tnop\n\tnop\n\tnop\n\tnop\n\tret\n"
	".popsection\n");

static void labels_without_size_named_from_a_full_symtab(void **state)
{
	struct ht_modules *ms = modules_of(getpid());
	struct ht_symbolizer *s = symbolizer__new(ms, NULL);
	uint64_t fn = (uint64_t)(uintptr_t)&test_label_fn;
	struct ht_frame f[HT_MAX_INLINE];
	int n;

	test_label_fn();
	n = symbolizer__resolve_inline(s, fn + 3, f, HT_MAX_INLINE);
	assert_int_equal(n, 1);
	expect_frame(f, n, 0, "test_label_fn", NULL, 0, false);
	assert_true(f[0].known);
	symbolizer__free(s);
	modules__free(ms);
	(void)state;
}

/* libstdc++'s symbols, demangled or not. */
static void cxx_symbols_are_demangled_unless_asked_not_to(void **state)
{
	static const char mangled[] = "_ZNSt6chrono3_V212system_clock3nowEv";
	void *lib = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
	struct ht_symbolizer_opts raw = { .no_demangle = true };
	struct ht_symbolizer *s, *r;
	struct ht_modules *ms;
	struct ht_frame f;
	uint64_t fn;

	assert_non_null(lib);
	fn = (uint64_t)(uintptr_t)dlsym(lib, mangled);
	assert_true(fn != 0);
	ms = modules_of(getpid());
	s = symbolizer__new(ms, NULL);
	r = symbolizer__new(ms, &raw);
	/* as if the function's first byte had been a call */
	assert_int_equal(symbolizer__resolve(s, fn + 1, &f), 0);
	assert_string_equal(f.function, "std::chrono::_V2::system_clock::now()");
	assert_true(f.known);
	assert_string_equal(base_name(f.module), "libstdc++.so.6.0.30");
	assert_int_equal(symbolizer__resolve(r, fn + 1, &f), 0);
	assert_string_equal(f.function, mangled);
	symbolizer__free(r);
	symbolizer__free(s);
	modules__free(ms);
	dlclose(lib);
	(void)state;
}

static void demangle_cxx_and_rust(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "_ZN2ns3fooIiEEvT_", "void ns::foo<int>(int)" },
		{ "_ZNSt6vectorIiSaIiEE17_M_realloc_insertIJRKiEEEvN9__gnu_cxx17__"
		  "normal_iteratorIPiS1_EEDpOT_",
		  "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>("
		  "__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, "
		  "int const&)" },
		{ "_ZN3app6buffer4growEm.cold", "app::buffer::grow(unsigned long) [clone .cold]" },
		/* legacy Rust: the hash goes */
		{ "_ZN4core3fmt5write17h4e4f8c3b4a5d6e7fE", "core::fmt::write" },
		{ "_ZN5alloc7raw_vec19RawVec$LT$T$C$A$GT$7reserve21do_reserve_and_handle"
		  "17h0123456789abcdefE",
		  "alloc::raw_vec::RawVec<T,A>::reserve::do_reserve_and_handle" },
		/* Rust v0 */
		{ "_RNvCs15kBYyAo9fc_7mycrate7example", "mycrate::example" },
		{ "_RNvNtCs1234_7mycrate3foo3bar", "mycrate::foo::bar" },
		/* not mangled, or versioned */
		{ "malloc", "malloc" },
		{ "memcpy@@GLIBC_2.14", "memcpy" },
		{ "__libc_start_main@GLIBC_2.2.5", "__libc_start_main" },
		{ "_Znot_valid_", "_Znot_valid_" },
		{ "@weird", "@weird" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = symbolizer__demangle(cases[i].in, false);

		assert_non_null(d);
		if (strcmp(d, cases[i].out)) {
			print_message("demangle(%s) = \"%s\", expected \"%s\"\n", cases[i].in, d,
				      cases[i].out);
			fail();
		}
		free(d);
	}
	{
		char *d = symbolizer__demangle("_ZN2ns3fooIiEEvT_@@V1", true);

		assert_string_equal(d, "_ZN2ns3fooIiEEvT_");
		free(d);
	}
	(void)state;
}

/* ------------------------------------------------------------------ */
/* libc through libc6-dbg                                              */
/* ------------------------------------------------------------------ */

static volatile uint64_t cmp_ret;

static NOINLINE int cmp_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	cmp_ret = (uint64_t)__builtin_return_address(0);
	return (x > y) - (x < y);
}

/* Is the separate debug file of libc (by build-id) installed? */
static bool libc_debug_installed(struct ht_modules *ms, uint64_t addr)
{
	char path[PATH_MAX], cmd[PATH_MAX + 64], bid[128] = "";
	struct ht_module *m = modules__find(ms, addr);
	FILE *p;

	assert_non_null(m);
	snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null | awk '/Build ID/ {print $3}'",
		 m->path);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(bid, sizeof(bid), p))
		bid[0] = '\0';
	pclose(p);
	bid[strcspn(bid, "\n")] = '\0';
	if (strlen(bid) < 3)
		return false;
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", bid, bid + 2);
	return access(path, R_OK) == 0;
}

/*
 * binutils' addr2line -f -i on a module address (ELF vaddr): its frames'
 * function names and lines, innermost first (a second, independent
 * reader of the same debug files). Returns the count.
 */
static int addr2line(const char *path, uint64_t vaddr, char fn[][128], int *line, int max)
{
	char cmd[PATH_MAX + 64], a[512], b[512];
	int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "addr2line -f -i -e '%s' 0x%llx", path,
		 (unsigned long long)vaddr);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n < max && fgets(a, sizeof(a), p) && fgets(b, sizeof(b), p)) {
		char *colon = strrchr(b, ':');

		a[strcspn(a, "\n")] = '\0';
		snprintf(fn[n], sizeof(fn[n]), "%.127s", a);
		line[n++] = colon ? atoi(colon + 1) : 0;
	}
	assert_int_equal(pclose(p), 0);
	return n;
}

/*
 * qsort calls back into us from libc: the return address is in glibc's
 * msort.c. Debian's libc.so.6 has no .symtab and no DWARF; names of its
 * static functions and lines come from libc6-dbg's
 * /usr/lib/debug/.build-id/xx/yyyy.debug only.
 */
static void libc_frames_get_names_and_lines_from_libc6_dbg(void **state)
{
	struct ht_modules *ms = modules_of(getpid());
	struct ht_symbolizer *s = symbolizer__new(ms, NULL);
	struct ht_frame f[HT_MAX_INLINE];
	char want_fn[HT_MAX_INLINE][128];
	int want_line[HT_MAX_INLINE];
	int v[4] = { 3, 1, 2, 0 }, n, nw;
	struct ht_module *m;

	qsort(v, 4, sizeof(v[0]), cmp_ints);
	assert_true(cmp_ret != 0);
	if (!libc_debug_installed(ms, cmp_ret))
		fail_msg("libc6-dbg is not installed (or not for this libc): "
			 "apt-get install -y libc6-dbg (scripts/install-deps.sh does)");
	n = symbolizer__resolve_inline(s, cmp_ret, f, HT_MAX_INLINE);
	assert_true(n >= 1);
	if (strncmp(base_name(f[0].module), "libc.so", 7) != 0 || !f[0].file ||
	    strcmp(base_name(f[0].file), "msort.c") != 0 ||
	    strcmp(f[n - 1].function, "msort_with_tmp") != 0 || !f[n - 1].known) {
		print_message("expected msort_with_tmp (msort.c:N) [libc.so.6], got:\n");
		print_frames(f, n);
		fail();
	}
	/* Every frame and line as binutils reads the same debug file. */
	m = modules__find(ms, cmp_ret - 1);
	nw = addr2line(m->path, cmp_ret - 1 - m->bias, want_fn, want_line, HT_MAX_INLINE);
	assert_int_equal(n, nw);
	for (int i = 0; i < n; i++)
		expect_frame(f, n, i, want_fn[i], "msort.c", want_line[i], i < n - 1);
	symbolizer__free(s);
	modules__free(ms);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Perf maps (JIT code)                                                */
/* ------------------------------------------------------------------ */

static int parse(const char *line, uint64_t *start, uint64_t *size, char *name, size_t cap)
{
	const char *nm = NULL;
	size_t len = 0;
	int err = perfmap__parse_line(line, start, size, &nm, &len);

	if (!err) {
		assert_non_null(nm);
		assert_true(len < cap);
		memcpy(name, nm, len);
		name[len] = '\0';
	}
	return err;
}

static void perfmap_lines_parse(void **state)
{
	static const struct {
		const char *line;
		uint64_t start, size;
		const char *name;
	} good[] = {
		{ "7f0012340000 1a0 LazyCompile:*foo bar.js:12\n", 0x7f0012340000, 0x1a0,
		  "LazyCompile:*foo bar.js:12" },
		{ "1000 10 f", 0x1000, 0x10, "f" },
		{ "0x1000 0X20 py::main:/x.py\r\n", 0x1000, 0x20, "py::main:/x.py" },
		{ "  ABCDEF\t10\t  name with  spaces \t\n", 0xabcdef, 0x10, "name with  spaces" },
		{ "ffffffffffffffef 10 last", 0xffffffffffffffefULL, 0x10, "last" },
		{ "0000000000001000 100000000 big", 0x1000, 0x100000000ULL, "big" },
	};
	static const char *const malformed[] = {
		"", "\n", "1000", "1000 10", "1000 10 ", "1000 10 \t\r\n", "1000\t10\n",
		"x1000 10 f", "1000 1g f", "1000 -10 f", "-1000 10 f", "1000  f",
		"0x 10 f", "1000 0x f", "10000000000000000 10 f", "1000 00000000000000010 f",
		"1000 10 f\nextra", "1000 10 f\rx", "\xff\xfe 10 f", "1000:10 f",
		"1000,10 f", "1000 10f",
	};
	static const char *const out_of_range[] = {
		"1000 0 zero", "1000 00000000 zero", "fffffffffffffff0 10 wraps",
		"ffffffffffffffff ffffffffffffffff huge", "1000 100000001 too_big",
		"1000 ffffffffffffffff huge",
	};
	uint64_t start, size;
	char name[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (parse(good[i].line, &start, &size, name, sizeof(name)))
			fail_msg("line %zu (%s) did not parse", i, good[i].line);
		assert_int_equal(start, good[i].start);
		assert_int_equal(size, good[i].size);
		assert_string_equal(name, good[i].name);
	}
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		if (parse(malformed[i], &start, &size, name, sizeof(name)) != -EINVAL)
			fail_msg("malformed line %zu \"%s\" was not -EINVAL", i, malformed[i]);
	for (size_t i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]); i++)
		if (parse(out_of_range[i], &start, &size, name, sizeof(name)) != -ERANGE)
			fail_msg("line %zu \"%s\" was not -ERANGE", i, out_of_range[i]);
	assert_int_equal(perfmap__parse_line(NULL, &start, &size, NULL, NULL), -EINVAL);
	(void)state;
}

static void perfmap_overlong_names_parse_whole(void **state)
{
	size_t n = 100000;
	char *line = malloc(n + 32);
	const char *nm;
	uint64_t start, size;
	size_t len;

	assert_non_null(line);
	strcpy(line, "1000 10 ");
	memset(line + 8, 'a', n);
	strcpy(line + 8 + n, "\n");
	assert_int_equal(perfmap__parse_line(line, &start, &size, &nm, &len), 0);
	assert_int_equal(len, n);
	assert_ptr_equal(nm, line + 8);
	free(line);
	(void)state;
}

/* Deterministic garbage: never a crash, and accepted lines are sane. */
static void perfmap_random_lines_never_crash(void **state)
{
	static const char alphabet[] = "0123456789abcdefxX \t\r\n-+:;/_ \x80\xff\x01";
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char line[64];

	for (int iter = 0; iter < 200000; iter++) {
		size_t len;
		const char *nm;
		uint64_t start, size;
		int err;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = x % (sizeof(line) - 1);
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			line[i] = alphabet[x % (sizeof(alphabet) - 1)];
		}
		line[len] = '\0';
		err = perfmap__parse_line(line, &start, &size, &nm, &len);
		assert_true(err == 0 || err == -EINVAL || err == -ERANGE);
		if (!err) {
			assert_true(size > 0 && size <= HT_PERFMAP_MAX_SIZE);
			assert_true(start + size > start);
			assert_true(len > 0 && nm >= line && nm + len <= line + strlen(line));
			assert_true(nm[0] != ' ' && nm[0] != '\t' && nm[len - 1] != ' ');
			assert_null(memchr(nm, '\n', len));
		}
	}
	(void)state;
}

static void write_text(const char *path, const char *mode, const char *text, size_t len)
{
	FILE *f = fopen(path, mode);

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void perfmap_file_lookup(void **state)
{
	char path[] = "/tmp/ht-perfmap-XXXXXX", *big;
	int fd = mkstemp(path);
	struct ht_perfmap *pm;
	size_t blen = HT_PERFMAP_MAX_LINE + 100;
	static const char text[] =
		"1000 100 first\n"
		"garbage line\n"
		"1080 10 later_wins\n"             /* inside first, later: wins there */
		"0 0 zero_size\n"
		"5000 1000000000 too_big\n"
		"2000 10 ctl\x01name\x7f\n"
		"3000 10 nul\0hidden\n"
		"4000 10 cut_short";                /* no newline: still being written */

	assert_true(fd >= 0);
	close(fd);
	write_text(path, "w", text, sizeof(text) - 1);
	pm = perfmap__open(path, "/tmp/perf-1.map");
	assert_non_null(pm);
	assert_string_equal(perfmap__display(pm), "/tmp/perf-1.map");
	assert_string_equal(perfmap__lookup(pm, 0x1000), "first");
	assert_int_equal(perfmap__count(pm), 3);
	assert_string_equal(perfmap__lookup(pm, 0x107f), "first");
	assert_string_equal(perfmap__lookup(pm, 0x1080), "later_wins");
	assert_string_equal(perfmap__lookup(pm, 0x108f), "later_wins");
	assert_string_equal(perfmap__lookup(pm, 0x1090), "first");
	assert_string_equal(perfmap__lookup(pm, 0x10ff), "first");
	assert_null(perfmap__lookup(pm, 0x1100));
	assert_null(perfmap__lookup(pm, 0xfff));
	assert_string_equal(perfmap__lookup(pm, 0x2005), "ctl?name?");
	assert_null(perfmap__lookup(pm, 0x3000));
	assert_null(perfmap__lookup(pm, 0x4000));
	assert_null(perfmap__lookup(pm, 0x5000));

	/* The JIT finishes its line and adds more: a miss reads them. */
	big = malloc(blen + 1);
	assert_non_null(big);
	memcpy(big, "6000 10 ", 8);
	memset(big + 8, 'n', blen - 9);
	big[blen - 1] = '\n';
	big[blen] = '\0';
	write_text(path, "a", "\n", 1);
	write_text(path, "a", big, blen);   /* an overlong line: skipped whole */
	write_text(path, "a", "7000 10 after_long\n", 19);
	memcpy(big, "8000 10 ", 8);
	memset(big + 8, 'm', HT_PERFMAP_MAX_NAME + 50);
	big[8 + HT_PERFMAP_MAX_NAME + 50] = '\n';
	big[8 + HT_PERFMAP_MAX_NAME + 51] = '\0';
	write_text(path, "a", big, strlen(big));   /* a long name: cut */
	assert_string_equal(perfmap__lookup(pm, 0x4000), "cut_short");
	assert_null(perfmap__lookup(pm, 0x6000));
	assert_string_equal(perfmap__lookup(pm, 0x7000), "after_long");
	assert_int_equal(strlen(perfmap__lookup(pm, 0x8000)), HT_PERFMAP_MAX_NAME);
	assert_string_equal(perfmap__lookup(pm, 0x1080), "later_wins");
	perfmap__free(pm);
	free(big);

	/* Not a regular file, or through a symlink: not read. */
	pm = perfmap__open("/dev/zero", NULL);
	assert_null(perfmap__lookup(pm, 0));
	perfmap__free(pm);
	unlink(path);
	(void)state;
}

/* An anonymous executable mapping named by /tmp/perf-PID.map. */
static void jit_code_is_named_by_the_perf_map(void **state)
{
	char path[64], text[256];
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *code = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ht_modules *ms = modules_of(getpid());
	struct ht_symbolizer *s = symbolizer__new(ms, NULL);
	uint64_t base = (uint64_t)(uintptr_t)code;
	struct ht_frame f[HT_MAX_INLINE];
	int n;

	assert_true(code != MAP_FAILED);
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	unlink(path);
	n = snprintf(text, sizeof(text), "%llx 40 JIT:hot_loop\n%llx 20 JIT:helper\n",
		     (unsigned long long)base, (unsigned long long)base + 0x100);
	write_text(path, "w", text, (size_t)n);

	assert_int_equal(symbolizer__resolve_inline(s, base + 0x11, f, HT_MAX_INLINE), 1);
	assert_string_equal(f[0].function, "JIT:hot_loop");
	assert_string_equal(f[0].module, path);
	assert_true(f[0].known);
	assert_null(f[0].file);
	assert_int_equal(symbolizer__resolve(s, base + 0x101, f), 0);
	assert_string_equal(f[0].function, "JIT:helper");
	/* between the regions: no name */
	assert_int_equal(symbolizer__resolve(s, base + 0x81, f), 0);
	snprintf(text, sizeof(text), "[unknown]+0x%llx", (unsigned long long)base + 0x81);
	assert_string_equal(f[0].function, text);
	assert_false(f[0].known);

	/* code compiled later, appended to the map */
	n = snprintf(text, sizeof(text), "%llx 80 JIT:compiled_late\n",
		     (unsigned long long)base + 0x1000);
	write_text(path, "a", text, (size_t)n);
	assert_int_equal(symbolizer__resolve(s, base + 0x1001, f), 0);
	assert_string_equal(f[0].function, "JIT:compiled_late");

	symbolizer__free(s);

	/* A symlink in /tmp is not followed (anyone can plant one there). */
	{
		char real[] = "/tmp/ht-perfmap-XXXXXX";
		int fd = mkstemp(real);

		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(rename(path, real), 0);
		assert_int_equal(symlink(real, path), 0);
		s = symbolizer__new(ms, NULL);
		assert_int_equal(symbolizer__resolve(s, base + 0x11, f), 0);
		snprintf(text, sizeof(text), "[unknown]+0x%llx", (unsigned long long)base + 0x11);
		assert_string_equal(f[0].function, text);
		symbolizer__free(s);
		unlink(real);
	}
	unlink(path);
	modules__free(ms);
	munmap(code, (size_t)page * 2);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* symtarget: other processes                                          */
/* ------------------------------------------------------------------ */

struct target {
	pid_t pid;
	int to;                 /* its stdin */
	uint64_t inner, stat;   /* return addresses */
	int inner_line, inner_call, outer_call, stat_line;
};

static char target_dir[PATH_MAX - 64];

static void target_path(char *buf, size_t len, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%.60s", target_dir, name) >= len)
		fail_msg("path too long");
}

/* A temporary directory of the running test, removed (with its files)
 * by its teardown even when the test fails. */
static char tmp_dir[PATH_MAX];

static char *make_tmp_dir(const char *tmpl)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "%s", tmpl);
	assert_non_null(mkdtemp(tmp_dir));
	return tmp_dir;
}

static int remove_tmp_dir(void **state)
{
	struct dirent *e;
	DIR *d;

	if (!tmp_dir[0])
		return 0;
	d = opendir(tmp_dir);
	if (d) {
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(tmp_dir);
	tmp_dir[0] = '\0';
	(void)state;
	return 0;
}

/* Not built (tests/symbolize.mk builds them with the unit tests): skip. */
static void need_target(const char *path)
{
	if (access(path, X_OK)) {
		print_message("SKIPPED: %s: %s\n", path, strerror(errno));
		skip();
	}
}

/* A copy in a child process: no cmocka there. 0 or -1. */
static int copy_quietly(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t r = -1;

	while (in >= 0 && out >= 0 && (r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r)
			r = -1;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out))
		r = -1;
	return r == 0 ? 0 : -1;
}

/*
 * In the child: a mount namespace of its own whose root is a new tmpfs
 * holding copies of the files (as a container runtime does with
 * pivot_root), so that nothing in it can be reached from our root.
 */
static int enter_container(const char *dir, const char *const files[][2])
{
	char old[PATH_MAX];

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("ht-root", dir, "tmpfs", 0, "mode=0755"))
		return -1;
	for (int i = 0; files[i][0]; i++)
		if (copy_quietly(files[i][0], files[i][1]))
			return -1;
	snprintf(old, sizeof(old), "%s/old", dir);
	if (mkdir(old, 0700) || syscall(SYS_pivot_root, dir, old) || chdir("/") ||
	    umount2("/old", MNT_DETACH) || rmdir("/old"))
		return -1;
	return 0;
}

/* Run path: as it is; inside root (chroot there first); or in a
 * container holding files (root: its mount point on our side). */
static void start_target_in(const char *root, const char *path, struct target *t,
			    const char *const files[][2])
{
	int in[2], out[2];
	char line[256], name[64];
	unsigned long long a;
	int l;
	FILE *f;

	memset(t, 0, sizeof(*t));
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (root && files && enter_container(root, files))
			_exit(125);
		if (root && !files && (chroot(root) || chdir("/")))
			_exit(126);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->to = in[1];
	f = fdopen(out[0], "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && strcmp(line, "ready\n")) {
		if (sscanf(line, "%63s %llx %d", name, &a, &l) != 3)
			continue;
		if (!strcmp(name, "st_inner")) {
			t->inner = a;
			t->inner_line = l;
		} else if (!strcmp(name, "st_inner_call")) {
			t->inner_call = l;
		} else if (!strcmp(name, "st_outer_call")) {
			t->outer_call = l;
		} else if (!strcmp(name, "st_static")) {
			t->stat = a;
			t->stat_line = l;
		}
	}
	fclose(f);
	assert_true(t->inner && t->stat && t->inner_line && t->inner_call && t->outer_call);
}

static void start_target(const char *path, struct target *t)
{
	need_target(path);
	start_target_in(NULL, path, t, NULL);
}

static void stop_target(struct target *t)
{
	int status;

	close(t->to);
	assert_int_equal(waitpid(t->pid, &status, 0), t->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The full frames of a target with debug information. */
static void expect_target_frames(struct ht_symbolizer *s, const struct target *t,
				 const char *module)
{
	struct ht_frame f[HT_MAX_INLINE];
	int n;

	n = symbolizer__resolve_inline(s, t->inner, f, HT_MAX_INLINE);
	assert_int_equal(n, 3);
	expect_frame(f, n, 0, "st_inline_inner", "symbolize_target.c", t->inner_line, true);
	expect_frame(f, n, 1, "st_inline_outer", "symbolize_target.c", t->inner_call, true);
	expect_frame(f, n, 2, "st_exported", "symbolize_target.c", t->outer_call, false);
	for (int i = 0; i < n; i++) {
		assert_true(f[i].known);
		assert_string_equal(f[i].module, module);
	}
	n = symbolizer__resolve_inline(s, t->stat, f, HT_MAX_INLINE);
	assert_int_equal(n, 1);
	expect_frame(f, n, 0, "st_static_fn", "symbolize_target.c", t->stat_line, false);
	assert_string_equal(f[0].module, module);
}

static void run_full_target(const char *name)
{
	char path[PATH_MAX];
	struct ht_modules *ms;
	struct ht_symbolizer *s;
	struct target t;

	target_path(path, sizeof(path), name);
	start_target(path, &t);
	ms = modules_of(t.pid);
	s = symbolizer__new(ms, NULL);
	assert_non_null(s);
	expect_target_frames(s, &t, path);
	symbolizer__free(s);
	modules__free(ms);
	stop_target(&t);
}

static void pie_executable_at_its_load_address(void **state)
{
	run_full_target("symtarget");
	(void)state;
}

static void non_pie_executable(void **state)
{
	run_full_target("symtarget-nopie");
	(void)state;
}

/* symtarget-debuglink: stripped, its DWARF and .symtab in a .debug file
 * named by .gnu_debuglink, next to it. */
static void debug_information_through_gnu_debuglink(void **state)
{
	run_full_target("symtarget-debuglink");
	(void)state;
}

/*
 * strip --strip-all leaves .dynsym: exported functions keep their names
 * (no file:line), the static one must not be given a neighbour's name.
 */
static void stripped_executable_names_exports_only(void **state)
{
	char path[PATH_MAX], want[128];
	struct ht_frame f[HT_MAX_INLINE];
	struct ht_modules *ms;
	struct ht_symbolizer *s;
	struct ht_module *m;
	struct target t;
	int n;

	target_path(path, sizeof(path), "symtarget-stripped");
	start_target(path, &t);
	ms = modules_of(t.pid);
	s = symbolizer__new(ms, NULL);
	n = symbolizer__resolve_inline(s, t.inner, f, HT_MAX_INLINE);
	assert_int_equal(n, 1);
	expect_frame(f, n, 0, "st_exported", NULL, 0, false);
	assert_true(f[0].known);
	assert_string_equal(f[0].module, path);

	m = modules__find(ms, t.stat);
	assert_non_null(m);
	assert_true(m->bias_known);
	snprintf(want, sizeof(want), "symtarget-stripped+0x%llx",
		 (unsigned long long)(t.stat - 1 - m->bias));
	n = symbolizer__resolve_inline(s, t.stat, f, HT_MAX_INLINE);
	assert_int_equal(n, 1);
	expect_frame(f, n, 0, want, NULL, 0, false);
	assert_false(f[0].known);
	symbolizer__free(s);
	modules__free(ms);
	stop_target(&t);
	(void)state;
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t r;

	assert_true(in >= 0 && out >= 0);
	while ((r = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)r), r);
	assert_int_equal(r, 0);
	close(in);
	assert_int_equal(close(out), 0);
}

/*
 * A binary deleted (or replaced) after it started: read through
 * /proc/PID/map_files; and when even that fails, the frame says so.
 */
static void deleted_executable_is_read_through_map_files(void **state)
{
	char src[PATH_MAX], path[PATH_MAX + 32], want[PATH_MAX + 64], mod[PATH_MAX + 64];
	const char *dir;
	struct ht_frame f[HT_MAX_INLINE];
	struct ht_modules *ms;
	struct ht_symbolizer *s;
	struct ht_module *m;
	struct target t;
	uint64_t off;
	int n;

	target_path(src, sizeof(src), "symtarget");
	need_target(src);
	dir = make_tmp_dir("/tmp/ht-symtest-XXXXXX");
	snprintf(path, sizeof(path), "%s/app", dir);
	copy_file(src, path);
	start_target(path, &t);
	assert_int_equal(unlink(path), 0);

	ms = modules_of(t.pid);
	m = modules__find(ms, t.inner);
	assert_non_null(m);
	snprintf(mod, sizeof(mod), "%s (deleted)", path);
	assert_string_equal(m->path, mod);
	if (m->fd >= 0) {
		assert_true(m->deleted);
		s = symbolizer__new(ms, NULL);
		expect_target_frames(s, &t, mod);
		symbolizer__free(s);
	} else {
		/* opening map_files takes CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE */
		assert_true(geteuid() != 0);
		print_message("note: not root: map_files unreadable, "
			      "only the fallback is tested\n");
	}

	/* Unreadable (no map_files: not root, or too late): module+offset. */
	for (size_t i = 0; i < modules__count(ms); i++) {
		m = modules__get(ms, i);
		if (strcmp(m->path, mod))
			continue;
		close(m->fd);
		m->fd = -1;
		m->bias_known = false;
	}
	s = symbolizer__new(ms, NULL);
	assert_int_equal(modules__file_offset(ms, t.stat - 1, &off), 0);
	snprintf(want, sizeof(want), "app+0x%llx", (unsigned long long)off);
	n = symbolizer__resolve_inline(s, t.stat, f, HT_MAX_INLINE);
	assert_int_equal(n, 1);
	expect_frame(f, n, 0, want, NULL, 0, false);
	assert_false(f[0].known);
	assert_string_equal(f[0].module, mod);
	symbolizer__free(s);
	modules__free(ms);
	stop_target(&t);
	(void)state;
}

/*
 * A target whose root is not ours: a static symtarget, stripped, run in a
 * chroot with its .gnu_debuglink file next to it. (In another mount
 * namespace, maps would name it "/symtarget-static" and the debug file
 * would be found under /proc/PID/root; in a chroot maps names the file
 * as we see it, and the symbolizer must look there instead.)
 */
static void other_root_debug_file_is_found_in_that_root(void **state)
{
	char src[PATH_MAX], dst[PATH_MAX + 32];
	struct ht_modules *ms;
	const char *dir;
	struct ht_symbolizer *s;
	struct target t;

	if (geteuid() != 0) {
		print_message("SKIPPED: chroot needs root\n");
		skip();
	}
	target_path(src, sizeof(src), "symtarget-static");
	need_target(src);
	dir = make_tmp_dir("/tmp/ht-symroot-XXXXXX");
	snprintf(dst, sizeof(dst), "%s/symtarget-static", dir);
	copy_file(src, dst);
	target_path(src, sizeof(src), "symtarget-static.debug");
	snprintf(dst, sizeof(dst), "%s/symtarget-static.debug", dir);
	copy_file(src, dst);

	start_target_in(dir, "/symtarget-static", &t, NULL);
	ms = modules_of(t.pid);
	s = symbolizer__new(ms, NULL);
	/* maps names it as we see it: a chroot is within our mounts */
	snprintf(dst, sizeof(dst), "%s/symtarget-static", dir);
	expect_target_frames(s, &t, dst);
	symbolizer__free(s);
	modules__free(ms);
	stop_target(&t);
	(void)state;
}

/*
 * A container: another mount namespace whose root (a tmpfs) we cannot
 * reach. maps names the binary "/symtarget-static", as the target sees
 * it; the module is read through map_files, the .gnu_debuglink file is
 * found under /proc/PID/root.
 */
static void container_debug_file_is_found_under_proc_pid_root(void **state)
{
	char bin[PATH_MAX], dbg[PATH_MAX], bin_in[PATH_MAX + 32], dbg_in[PATH_MAX + 32];
	const char *files[3][2] = { { bin, bin_in }, { dbg, dbg_in }, { NULL, NULL } };
	struct ht_modules *ms;
	struct ht_symbolizer *s;
	struct target t;
	const char *dir;

	if (geteuid() != 0) {
		print_message("SKIPPED: mount namespaces need root\n");
		skip();
	}
	target_path(bin, sizeof(bin), "symtarget-static");
	target_path(dbg, sizeof(dbg), "symtarget-static.debug");
	need_target(bin);
	dir = make_tmp_dir("/tmp/ht-symns-XXXXXX");
	snprintf(bin_in, sizeof(bin_in), "%s/symtarget-static", dir);
	snprintf(dbg_in, sizeof(dbg_in), "%s/symtarget-static.debug", dir);

	start_target_in(dir, "/symtarget-static", &t, files);
	ms = modules_of(t.pid);
	s = symbolizer__new(ms, NULL);
	expect_target_frames(s, &t, "/symtarget-static");
	symbolizer__free(s);
	modules__free(ms);
	stop_target(&t);
	(void)state;
}

static int setup(void **state)
{
	const char *env = getenv("HT_SYMTARGET_DIR");
	ssize_t n;

	if (env && *env) {
		snprintf(target_dir, sizeof(target_dir), "%s", env);
	} else {
		n = readlink("/proc/self/exe", target_dir, sizeof(target_dir) - 1);
		if (n <= 0)
			return -1;
		target_dir[n] = '\0';
		*strrchr(target_dir, '/') = '\0';
	}
	signal(SIGPIPE, SIG_IGN);
	(void)state;
	return 0;
}

#define WITH_TMP_DIR(fn) cmocka_unit_test_teardown(fn, remove_tmp_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inline_helpers_are_frames_of_their_own),
		cmocka_unit_test(each_address_is_resolved_once),
		cmocka_unit_test(unmapped_addresses_are_unknown_never_named),
		cmocka_unit_test(code_without_dwarf_gets_no_line),
		cmocka_unit_test(labels_without_size_named_from_a_full_symtab),
		cmocka_unit_test(cxx_symbols_are_demangled_unless_asked_not_to),
		cmocka_unit_test(demangle_cxx_and_rust),
		cmocka_unit_test(libc_frames_get_names_and_lines_from_libc6_dbg),
		cmocka_unit_test(perfmap_lines_parse),
		cmocka_unit_test(perfmap_overlong_names_parse_whole),
		cmocka_unit_test(perfmap_random_lines_never_crash),
		cmocka_unit_test(perfmap_file_lookup),
		cmocka_unit_test(jit_code_is_named_by_the_perf_map),
		cmocka_unit_test(pie_executable_at_its_load_address),
		cmocka_unit_test(non_pie_executable),
		cmocka_unit_test(debug_information_through_gnu_debuglink),
		cmocka_unit_test(stripped_executable_names_exports_only),
		WITH_TMP_DIR(deleted_executable_is_read_through_map_files),
		WITH_TMP_DIR(other_root_debug_file_is_found_in_that_root),
		WITH_TMP_DIR(container_debug_file_is_found_under_proc_pid_root),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
