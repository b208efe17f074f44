// SPDX-License-Identifier: MIT
/*
 * unwind_c: allocation sites in C code built WITHOUT frame pointers
 * (-O2 -g -fomit-frame-pointer, see tests/unwind.mk), and allocations made
 * inside glibc on behalf of the workload. tests/unwind_it.c traces it with
 * heaptrace and compares each site's stack with gdb's backtrace at the
 * allocator, frame for frame.
 *
 * Rules:
 *  - every function on a site's path is its own named, non-static,
 *    noipa function (never inlined, cloned or renamed), called from one
 *    place, with locals on its stack so that frames have real sizes;
 *  - no tail calls: each caller still has work to do after its call;
 *  - no stdio except where a mode is about stdio (getline, fopen), so
 *    the process makes no other allocator calls after main starts;
 *  - pointers are kept in a static array, never freed.
 *
 * Modes (`unwind_c MODE`) and their profiles, per stack, innermost first:
 *
 *  deep     100 x malloc(48), kept:
 *           deep_leaf <- deep_3 <- deep_2 <- deep_1 <- run_deep <- main.
 *           deep_3 keeps seven values alive across its call, so %rbp is
 *           a general register there (holding no frame pointer); deep_2
 *           has a 1 KiB buffer.
 *  vla      100 x malloc(56), kept:
 *           vla_leaf <- vla_mid <- vla_outer <- run_vla <- main.
 *           vla_mid has a variable-length array, so even without frame
 *           pointers gcc makes %rbp its frame base (CFA = %rbp + 16): the
 *           one frame-pointer frame among frames that have none. vla_leaf
 *           leaves %rbp alone, so at malloc's return it is vla_mid's frame
 *           base and the frame-pointer chain starts right; but vla_outer
 *           holds a pointer into its own buffer in %rbp, so the chain's
 *           next step lands in that buffer (garbage "return addresses"
 *           0x6f6f6f6f6f6f6f6f): only CFI gets past vla_outer.
 *  strdup   100 x strdup of a 15-character string (16 bytes), kept:
 *           __strdup <- copy_name <- run_strdup <- main.
 *  getline  10 rounds, each on a fresh (NULL, 0) buffer: getline() of
 *           "short\n" mallocs 120 bytes inside glibc, then getline() of a
 *           300-character line reallocs that buffer to 302 bytes (kept):
 *           glibc's getdelim <- read_line <- run_getline <- main, two
 *           stacks (the malloc and the realloc call).
 *           Input comes through a pipe on stdin, which gets a static
 *           buffer first (setvbuf), so stdio allocates nothing else.
 *  qsort    10 x qsort() of 16 ints whose comparator cmp_alloc mallocs
 *           24 bytes (kept) on the first comparison of each sort:
 *           cmp_alloc <- glibc's merge sort (msort_with_tmp, 4 levels)
 *           <- qsort_r <- sort_values <- run_qsort <- main (qsort itself
 *           is a jmp to qsort_r: no frame of its own).
 *  fopen    10 x fopen("/dev/null", "r"), kept open: the FILE (472 bytes)
 *           is malloc'd inside glibc: __fopen_internal <- open_null <-
 *           run_fopen <- main (fopen is a jmp to __fopen_internal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

/* A site the optimiser must leave alone: no inlining, cloning, IPA. */
#define SITE __attribute__((noipa))

#define MAX_KEPT 200
static void *kept[MAX_KEPT];
static int nkept;

static void keep(void *p)
{
	if (!p)
		die("allocation failed");
	if (nkept >= MAX_KEPT)
		die("too many blocks");
	kept[nkept++] = p;
}

/* Opaque uses of stack data: the buffers must really be on the stack. */
SITE void touch(char *buf, size_t len);
SITE long mix(long a, long b, long c, long d, long e, long f, long g);
SITE char *pick(char *buf, size_t off);

SITE void touch(char *buf, size_t len)
{
	buf[0] ^= buf[len - 1];
}

SITE long mix(long a, long b, long c, long d, long e, long f, long g)
{
	return a ^ (b << 1) ^ (c << 2) ^ (d << 3) ^ (e << 4) ^ (f << 5) ^ (g << 6);
}

SITE char *pick(char *buf, size_t off)
{
	return buf + off;
}

static volatile long mixed;

/* ---- deep: five levels without frame pointers ---- */

SITE void *deep_leaf(size_t size);
SITE void *deep_3(size_t size, long a, long b, long c);
SITE void *deep_2(size_t size, long a);
SITE void *deep_1(size_t size);
SITE void run_deep(void);

SITE void *deep_leaf(size_t size)
{
	char tag[24];
	void *p;

	memset(tag, 'l', sizeof(tag));
	touch(tag, sizeof(tag));
	p = malloc(size);
	touch(tag, sizeof(tag));
	return p;
}

SITE void *deep_3(size_t size, long a, long b, long c)
{
	/* Seven values live across the call: all callee-saved registers,
	 * %rbp included, hold data here. */
	long v0 = a * 3, v1 = b * 5, v2 = c * 7, v3 = a ^ b, v4 = b ^ c;
	long v5 = a + c, v6 = a - b;
	void *p = deep_leaf(size);

	mixed = mix(v0, v1, v2, v3, v4, v5, v6);
	return p;
}

SITE void *deep_2(size_t size, long a)
{
	char buf[1024];
	void *p;

	memset(buf, (int)a, sizeof(buf));
	touch(buf, sizeof(buf));
	p = deep_3(size, a, a + 1, a + 2);
	touch(buf, sizeof(buf));
	return p;
}

SITE void *deep_1(size_t size)
{
	char buf[160];
	void *p;

	memset(buf, 'd', sizeof(buf));
	touch(buf, sizeof(buf));
	p = deep_2(size, buf[3]);
	touch(buf, sizeof(buf));
	return p;
}

SITE void run_deep(void)
{
	for (int i = 0; i < 100; i++)
		keep(deep_1(48));
}

/* ---- vla: one frame-pointer frame between frames without ---- */

SITE void *vla_leaf(size_t size);
SITE void *vla_mid(size_t size, size_t n);
SITE void *vla_outer(size_t size);
SITE void run_vla(void);

SITE void *vla_leaf(size_t size)
{
	char tag[40];
	void *p;

	/* Only `size` is live across a call, in %rbx: %rbp stays vla_mid's
	 * frame base down to malloc. */
	memset(tag, 'v', sizeof(tag));
	touch(tag, sizeof(tag));
	p = malloc(size);
	mixed = tag[5];
	return p;
}

SITE void *vla_mid(size_t size, size_t n)
{
	char scratch[n];
	void *p;

	memset(scratch, 'm', n);
	touch(scratch, n);
	p = vla_leaf(size);
	touch(scratch, n);
	return p;
}

SITE void *vla_outer(size_t size)
{
	char buf[300];
	char *head, *tail;
	void *p;

	memset(buf, 'o', sizeof(buf));
	/* Two pointers into buf live across the call, in callee-saved
	 * registers: %rbp is one, so the frame-pointer chain that starts
	 * at vla_mid's frame goes on into buf. */
	head = pick(buf, 16);
	tail = pick(buf, 200);
	p = vla_mid(size, 200);
	touch(head, 8);
	touch(tail, 8);
	return p;
}

SITE void run_vla(void)
{
	for (int i = 0; i < 100; i++)
		keep(vla_outer(56));
}

/* ---- strdup: malloc called from inside glibc ---- */

SITE char *copy_name(const char *name);
SITE void run_strdup(void);

SITE char *copy_name(const char *name)
{
	char tag[64];
	char *p;

	memset(tag, 's', sizeof(tag));
	touch(tag, sizeof(tag));
	p = strdup(name);
	touch(tag, sizeof(tag));
	return p;
}

SITE void run_strdup(void)
{
	for (int i = 0; i < 100; i++)
		keep(copy_name("unwind-strdup-1")); /* 15 characters */
}

/* ---- getline: malloc and realloc inside glibc's getdelim ---- */

SITE ssize_t read_line(char **line, size_t *cap, FILE *in);
SITE void run_getline(void);

SITE ssize_t read_line(char **line, size_t *cap, FILE *in)
{
	char tag[32];
	ssize_t n;

	memset(tag, 'g', sizeof(tag));
	touch(tag, sizeof(tag));
	n = getline(line, cap, in);
	touch(tag, sizeof(tag));
	return n;
}

static char stdin_buf[8192];

SITE void run_getline(void)
{
	static char input[10 * (6 + 301)];
	size_t len = 0;
	int fds[2];

	for (int r = 0; r < 10; r++) {
		memcpy(input + len, "short\n", 6);
		len += 6;
		memset(input + len, 'x', 300);
		len += 300;
		input[len++] = '\n';
	}
	if (pipe(fds) != 0 || write(fds[1], input, len) != (ssize_t)len)
		die("cannot fill the input pipe");
	close(fds[1]);
	if (dup2(fds[0], 0) != 0)
		die("dup2 failed");
	close(fds[0]);
	if (setvbuf(stdin, stdin_buf, _IOFBF, sizeof(stdin_buf)) != 0)
		die("setvbuf failed");
	for (int r = 0; r < 10; r++) {
		char *line = NULL;
		size_t cap = 0;

		if (read_line(&line, &cap, stdin) != 6 || cap != 120)
			die("unexpected first line");
		if (read_line(&line, &cap, stdin) != 301 || cap != 302)
			die("unexpected second line");
		keep(line);
	}
}

/* ---- qsort: the comparator allocates, called from glibc ---- */

SITE int cmp_alloc(const void *a, const void *b);
SITE void sort_values(int *v, size_t n);
SITE void run_qsort(void);

static int first_compare;

SITE int cmp_alloc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	if (first_compare) {
		first_compare = 0;
		keep(malloc(24));
	}
	return (x > y) - (x < y);
}

SITE void sort_values(int *v, size_t n)
{
	char tag[48];

	memset(tag, 'q', sizeof(tag));
	touch(tag, sizeof(tag));
	first_compare = 1;
	qsort(v, n, sizeof(*v), cmp_alloc);
	touch(tag, sizeof(tag));
}

SITE void run_qsort(void)
{
	for (int r = 0; r < 10; r++) {
		int v[16];

		for (int i = 0; i < 16; i++)
			v[i] = (i * 7 + r) % 16;
		sort_values(v, 16);
		for (int i = 1; i < 16; i++)
			if (v[i - 1] > v[i])
				die("qsort did not sort");
	}
}

/* ---- fopen: the FILE is allocated inside glibc ---- */

SITE FILE *open_null(void);
SITE void run_fopen(void);

SITE FILE *open_null(void)
{
	char tag[40];
	FILE *f;

	memset(tag, 'f', sizeof(tag));
	touch(tag, sizeof(tag));
	f = fopen("/dev/null", "r");
	touch(tag, sizeof(tag));
	return f;
}

SITE void run_fopen(void)
{
	for (int i = 0; i < 10; i++)
		keep(open_null());
}

static char done[8];

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} modes[] = {
		{ "deep", run_deep }, { "vla", run_vla }, { "strdup", run_strdup },
		{ "getline", run_getline }, { "qsort", run_qsort }, { "fopen", run_fopen },
	};

	if (argc != 2)
		die("usage: unwind_c deep|vla|strdup|getline|qsort|fopen");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[1], modes[i].name) == 0) {
			modes[i].run();
			/* Not a tail call: main stays on every stack. */
			touch(done, sizeof(done));
			return 0;
		}
	}
	die("unknown mode");
	return 2;
}
