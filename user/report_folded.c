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
#include "report_formats.h"
#include "stacks.h"
#include "symbolize.h"

static const char *const metric_names[__HT_M_MAX] = {
	[HT_M_LIVE_BYTES] = "live_bytes",
	[HT_M_PEAK_BYTES] = "peak_bytes",
	[HT_M_ALLOC_BYTES] = "alloc_bytes",
	[HT_M_ALLOCS] = "allocs",
};

const char *report__metric_name(enum ht_metric m)
{
	return (unsigned int)m < __HT_M_MAX ? metric_names[m] : NULL;
}

uint64_t report__metric_value(const struct ht_stats *s, enum ht_metric m)
{
	switch (m) {
	case HT_M_LIVE_BYTES:
		return s->live_bytes;
	case HT_M_PEAK_BYTES:
		return s->peak_bytes;
	case HT_M_ALLOC_BYTES:
		return s->alloc_bytes;
	case HT_M_ALLOCS:
		return s->allocs;
	default:
		return 0;
	}
}

void report__named_stacks_free(struct ht_named_stacks *ns)
{
	free(ns->v);
	free(ns->names);
	free(ns->modules);
	memset(ns, 0, sizeof(*ns));
}

int report__named_stacks(const struct ht_report_input *in, enum ht_metric m,
			 struct ht_named_stacks *out)
{
	size_t n, nframes = 0, k = 0, off = 0;
	struct ht_report_row *rows;
	int err;

	memset(out, 0, sizeof(*out));
	if ((unsigned int)m >= __HT_M_MAX)
		return -EINVAL;
	err = report__rows(in, &rows, &n);
	if (err)
		return err;
	/* Size everything first: the frame arrays never move afterwards. */
	for (size_t i = 0; i < n; i++) {
		uint32_t nr = 0;

		if (!report__metric_value(&rows[i].s, m))
			continue;
		stacks__get(in->stacks, rows[i].stack, &nr);
		nframes += nr ? nr : 1;
		k++;
	}
	out->v = calloc(k ? k : 1, sizeof(*out->v));
	out->names = calloc(nframes ? nframes : 1, sizeof(*out->names));
	out->modules = calloc(nframes ? nframes : 1, sizeof(*out->modules));
	if (!out->v || !out->names || !out->modules) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ht_named_stack *st = &out->v[out->n];
		uint64_t v = report__metric_value(&rows[i].s, m);
		const uint64_t *ips;
		uint32_t nr = 0;

		if (!v)
			continue;
		ips = stacks__get(in->stacks, rows[i].stack, &nr);
		st->names = &out->names[off];
		st->modules = &out->modules[off];
		st->value = v;
		st->nr = nr;
		if (!ips || !nr) {
			st->names[0] = "[no stack]";
			st->nr = 1;
		}
		for (uint32_t j = 0; ips && j < nr; j++) {
			struct ht_frame fr;

			err = symbolizer__resolve(in->sym, ips[j], &fr);
			if (err)
				goto out;
			/* Innermost first in the table, outermost first here. */
			st->names[nr - 1 - j] = fr.function;
			st->modules[nr - 1 - j] = fr.module;
		}
		off += st->nr;
		out->n++;
	}
out:
	free(rows);
	if (err)
		report__named_stacks_free(out);
	return err;
}

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
