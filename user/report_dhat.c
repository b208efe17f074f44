// SPDX-License-Identifier: MIT
/*
 * DHAT export: the JSON that Valgrind's DHAT writes (dhatFileVersion 2,
 * heap mode) and its viewer dh_view.html loads. One program point (pp)
 * per stack; "fs" indexes "ftbl", innermost frame first, as DHAT does,
 * inlined calls as frames of their own (DHAT's --read-inline-info) and
 * allocator frames left out (report__stack()).
 * Times are in microseconds since tracing began, as dhat-rs writes them.
 *
 * Lifetimes are the model's (ms resolution, written in us): freed blocks
 * from allocation to free, live ones until the report's moment, as DHAT
 * counts blocks still live at exit. Accesses are not measured (bkacc
 * false).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "util.h"

/* A frame as DHAT shows it: a return address and its place among the
 * frames inlined there. */
struct dframe {
	uint64_t addr;
	uint32_t pos;
	const struct ht_frame *fr;   /* in the walk that found it first */
};

struct dtable {
	struct dframe *all;          /* every row's shown frames, row after row */
	size_t n, cap;
	size_t *row_off;             /* row i: all[row_off[i], row_off[i + 1]) */
	struct dframe *uniq;         /* sorted by (addr, pos), no duplicates */
	size_t nuniq;
	struct ht_frame *frames;     /* copies behind dframe.fr */
	size_t cap_frames;
};

static int cmp_dframe(const void *a, const void *b)
{
	const struct dframe *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void dtable_free(struct dtable *t)
{
	free(t->all);
	free(t->row_off);
	free(t->uniq);
	free(t->frames);
}

/* The frame table, less "[root]": every distinct frame the rows show. */
static int dtable_build(struct dtable *t, const struct ht_report_input *in,
			const struct ht_report_row *rows, size_t n)
{
	struct ht_report_stack st = { 0 };
	int err = 0;

	t->row_off = calloc(n + 1, sizeof(*t->row_off));
	if (!t->row_off)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		err = report__stack(in, rows[i].stack, &st);
		if (err)
			goto out;
		if (grow_array((void **)&t->all, &t->cap, t->n + st.n, sizeof(*t->all)) ||
		    grow_array((void **)&t->frames, &t->cap_frames, t->n + st.n,
			       sizeof(*t->frames))) {
			err = -ENOMEM;
			goto out;
		}
		for (uint32_t j = st.first; j < st.n; j++) {
			t->frames[t->n] = st.v[j].fr;
			t->all[t->n].addr = st.v[j].fr.address;
			t->all[t->n].pos = st.v[j].pos;
			t->n++;
		}
		t->row_off[i + 1] = t->n;
	}
	for (size_t i = 0; i < t->n; i++)
		t->all[i].fr = &t->frames[i];
	t->uniq = malloc((t->n ? t->n : 1) * sizeof(*t->uniq));
	if (!t->uniq) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(t->uniq, t->all, t->n * sizeof(*t->uniq));
	qsort(t->uniq, t->n, sizeof(*t->uniq), cmp_dframe);
	for (size_t i = 0; i < t->n; i++)
		if (!t->nuniq || cmp_dframe(&t->uniq[t->nuniq - 1], &t->uniq[i]))
			t->uniq[t->nuniq++] = t->uniq[i];
out:
	report__stack_free(&st);
	return err;
}

/* DHAT's frame syntax: "0xADDR: function (file:line)", or "(in module)". */
static void put_frame(FILE *f, const struct dframe *d)
{
	const struct ht_frame *fr = d->fr;

	fprintf(f, "\"0x%llx: ", (unsigned long long)d->addr);
	report__json_chars(f, fr->function);
	if (fr->file) {
		fputs(" (", f);
		report__json_chars(f, fr->file);
		if (fr->line)
			fprintf(f, ":%d", fr->line);
		fputc(')', f);
	} else if (fr->module) {
		fputs(" (in ", f);
		report__json_chars(f, fr->module);
		fputc(')', f);
	}
	fputc('"', f);
}

static void put_pp(FILE *f, const struct ht_report_row *r, const struct ht_live_age *age,
		   const struct dtable *t, size_t row)
{
	const struct ht_stats *s = &r->s;
	const struct dframe *hit;

	/* mb/mbk: the stack's own high-water mark, whenever it was. */
	fprintf(f, "{\"tb\":%llu,\"tbk\":%llu,\"tl\":%llu\n"
		" ,\"mb\":%llu,\"mbk\":%llu\n"
		" ,\"gb\":%llu,\"gbk\":%llu\n"
		" ,\"eb\":%llu,\"ebk\":%llu\n"
		" ,\"fs\":[",
		(unsigned long long)s->alloc_bytes, (unsigned long long)s->allocs,
		(unsigned long long)((s->freed_lifetime_ms + age->age_sum_ms) * 1000),
		(unsigned long long)s->max_live_bytes, (unsigned long long)s->max_live_blocks,
		(unsigned long long)s->peak_bytes, (unsigned long long)s->peak_blocks,
		(unsigned long long)s->live_bytes, (unsigned long long)s->live_blocks);
	for (size_t j = t->row_off[row]; j < t->row_off[row + 1]; j++) {
		hit = bsearch(&t->all[j], t->uniq, t->nuniq, sizeof(*t->uniq), cmp_dframe);
		/* Index 0 is "[root]"; every frame is in the table. */
		fprintf(f, "%s%zu", j > t->row_off[row] ? "," : "",
			(size_t)(hit - t->uniq) + 1);
	}
	fputs("]\n }\n", f);
}

int report__dhat(FILE *f, const struct ht_report_input *in)
{
	double us = in->target.duration_s > 0 ? in->target.duration_s * 1e6 + 0.5 : 0;
	unsigned long long te = (unsigned long long)us;
	struct ht_live_age *ages = NULL;
	struct ht_heap_totals tot;
	struct ht_report_row *rows;
	struct dtable t = { 0 };
	size_t n;
	int err;

	err = report__rows(in, &rows, &n);
	if (err)
		return err;
	err = dtable_build(&t, in, rows, n);
	if (!err)
		err = report__ages(in, &ages);
	if (err)
		goto out;
	heap__totals(in->heap, &tot);
	fputs("{\"dhatFileVersion\":2\n,\"mode\":\"heap\"\n,\"verb\":\"Allocated\"\n"
	      ",\"bklt\":true\n,\"bkacc\":false\n"
	      ",\"tu\":\"\xc2\xb5s\"\n,\"Mtu\":\"s\"\n"
	      ",\"tuth\":10\n,\"cmd\":\"", f);
	report__json_chars(f, in->target.command ? in->target.command : "");
	fprintf(f, "\"\n,\"pid\":%d\n", in->target.pid);
	/* tg: when total live bytes first reached its peak. */
	fprintf(f, ",\"tg\":%llu\n,\"te\":%llu\n,\"pps\":\n[",
		(unsigned long long)tot.peak_ms * 1000, te);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "," : "", f);
		put_pp(f, &rows[i], &ages[rows[i].stack], &t, i);
	}
	fputs("]\n,\"ftbl\":\n[\"[root]\"\n", f);
	for (size_t i = 0; i < t.nuniq; i++) {
		fputc(',', f);
		put_frame(f, &t.uniq[i]);
		fputc('\n', f);
	}
	fputs("]\n}\n", f);
	err = ferror(f) ? -EIO : 0;
out:
	dtable_free(&t);
	free(ages);
	free(rows);
	return err;
}
