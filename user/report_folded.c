// SPDX-License-Identifier: MIT
/*
 * Folded stacks, the input of flamegraph.pl, inferno and speedscope:
 * "outer;middle;inner value" per line. Stacks that differ only in return
 * addresses within the same functions print the same line, so they are
 * merged here: consumers would otherwise show one function twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* Folded lines cannot hold ';' (the separator) or line breaks. */
static int folded_char(unsigned char c)
{
	if (c == ';')
		return ':';
	if (c == '\n' || c == '\r')
		return ' ';
	return c;
}

/* Walks the line a stack prints as, byte by byte, without building it. */
struct cursor {
	const struct ht_named_stack *st;
	uint32_t i;
	const char *p;
};

static void cursor_init(struct cursor *c, const struct ht_named_stack *st)
{
	c->st = st;
	c->i = 0;
	c->p = st->names[0];
}

/* The next byte of the line, or -1 at its end. */
static int cursor_next(struct cursor *c)
{
	if (*c->p)
		return folded_char((unsigned char)*c->p++);
	if (++c->i >= c->st->nr) {
		c->i = c->st->nr;
		return -1;
	}
	c->p = c->st->names[c->i];
	return ';';
}

/* Bytewise order of the printed lines, as sort(1) with LC_ALL=C gives. */
static int cmp_lines(const void *a, const void *b)
{
	struct cursor x, y;
	int cx, cy;

	cursor_init(&x, a);
	cursor_init(&y, b);
	do {
		cx = cursor_next(&x);
		cy = cursor_next(&y);
	} while (cx == cy && cx >= 0);
	return cx < cy ? -1 : cx > cy;
}

static void print_line(FILE *f, const struct ht_named_stack *st, uint64_t v)
{
	struct cursor c;
	int ch;

	cursor_init(&c, st);
	while ((ch = cursor_next(&c)) >= 0)
		fputc(ch, f);
	fprintf(f, " %llu\n", (unsigned long long)v);
}

int report__folded(FILE *f, const struct ht_report_input *in, enum ht_metric m)
{
	struct ht_named_stacks ns;
	int err;

	err = report__named_stacks(in, m, &ns);
	if (err)
		return err;
	qsort(ns.v, ns.n, sizeof(*ns.v), cmp_lines);
	for (size_t i = 0; i < ns.n;) {
		uint64_t sum = 0;
		size_t j = i;

		/* Equal lines are adjacent once sorted: print them once. */
		while (j < ns.n && !cmp_lines(&ns.v[i], &ns.v[j]))
			sum += ns.v[j++].value;
		print_line(f, &ns.v[i], sum);
		i = j;
	}
	report__named_stacks_free(&ns);
	return ferror(f) ? -EIO : 0;
}
