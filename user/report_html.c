// SPDX-License-Identifier: MIT
/*
 * One self-contained HTML page: the template user/report_html.tmpl.html
 * (compiled in by the Makefile as report_html_tmpl.h) with the profile as
 * JSON where the template says @HEAPTRACE_DATA@. Its script draws the
 * memory chart, the flame graphs and the tables from that data.
 *
 * Bounded for big profiles: each table carries its top TABLE_ROWS stacks
 * and the rest as one "other" line; the chart the CHART_STACKS stacks with
 * the highest high-water marks and an "other" band, the total minus them
 * (so the bands sum to the total at every point, exactly); flame graphs
 * leave out frames narrower than 1/FLAME_MIN of the total, and say how
 * much they left out.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "report_html_tmpl.h"
#include "util.h"

#define TABLE_ROWS 200
#define CHART_STACKS 10
#define FLAME_MIN 1000
#define DATA_MARK "@HEAPTRACE_DATA@"

struct html {
	FILE *f;
	const struct ht_report_input *in;
	struct ht_strtab names; /* function names and module base names */
	struct ht_report_row *rows;
	size_t nrows;
	uint32_t *slot; /* per stack id: 1 + its place in list (0: not in it) */
	uint32_t *list; /* rows (indexes) embedded in full */
	size_t nlist;
	struct ht_live_age *ages;
	uint64_t now_ms;
};

/* The tables, as the text report has them. */
struct html_table {
	const char *key;
	size_t field; /* sorted on */
};

static const struct html_table tables[] = {
	{ "peak", offsetof(struct ht_stats, peak_bytes) },
	{ "live", offsetof(struct ht_stats, live_bytes) },
	{ "churn", offsetof(struct ht_stats, allocs) },
	{ "temporary", offsetof(struct ht_stats, temporary) },
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static uint64_t field(const struct ht_stats *s, size_t off)
{
	return *(const uint64_t *)((const char *)s + off);
}

struct by_field {
	const struct ht_report_row *rows;
	size_t off;
};

/* Row indexes by a field, highest first, then by stack id. */
static int cmp_field(const void *a, const void *b, void *ctx)
{
	const struct by_field *c = ctx;
	const struct ht_report_row *x = &c->rows[*(const uint32_t *)a];
	const struct ht_report_row *y = &c->rows[*(const uint32_t *)b];
	uint64_t vx = field(&x->s, c->off), vy = field(&y->s, c->off);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* A string's id in the page's names table, or -1 for NULL. */
static int name_id(struct html *h, const char *s, long *id)
{
	uint32_t v;
	int err;

	if (!s) {
		*id = -1;
		return 0;
	}
	err = strtab__intern(&h->names, s, strlen(s), &v);
	*id = v;
	return err;
}

static const char *base_name(const char *mod)
{
	const char *p = mod ? strrchr(mod, '/') : NULL;

	return p ? p + 1 : mod;
}

/* Row r into the embedded list (once). */
static void list_add(struct html *h, uint32_t r)
{
	uint32_t id = h->rows[r].stack;

	if (h->slot[id])
		return;
	h->list[h->nlist++] = r;
	h->slot[id] = (uint32_t)h->nlist;
}

/*
 * The rows (indexes into h->rows) of each table, at most TABLE_ROWS with
 * a non-zero value, and of the chart: the stacks with the highest
 * high-water marks. Each goes into the embedded list.
 */
static int pick_rows(struct html *h, uint32_t out[NTABLES][TABLE_ROWS], size_t nout[NTABLES],
		     uint32_t chart[CHART_STACKS], size_t *nchart)
{
	uint32_t *order = malloc((h->nrows ? h->nrows : 1) * sizeof(*order));
	struct by_field c = { .rows = h->rows };

	if (!order)
		return -ENOMEM;
	for (size_t t = 0; t <= NTABLES; t++) {
		size_t max = t < NTABLES ? TABLE_ROWS : CHART_STACKS, k = 0;
		uint32_t *dst = t < NTABLES ? out[t] : chart;

		c.off = t < NTABLES ? tables[t].field : offsetof(struct ht_stats, max_live_bytes);
		for (size_t i = 0; i < h->nrows; i++)
			order[i] = (uint32_t)i;
		qsort_r(order, h->nrows, sizeof(*order), cmp_field, &c);
		for (size_t i = 0; i < h->nrows && k < max && field(&h->rows[order[i]].s, c.off);
		     i++) {
			list_add(h, order[i]);
			dst[k++] = order[i];
		}
		*(t < NTABLES ? &nout[t] : nchart) = k;
	}
	free(order);
	return 0;
}

/* The embedded stacks: shown frames innermost first, each [function,
 * module base name, file] as name ids (-1: unknown) and the line (0). */
static int put_stacks(struct html *h)
{
	struct ht_report_stack st = { 0 };
	FILE *f = h->f;
	int err = 0;

	fputs("\"stacks\":[", f);
	for (size_t i = 0; i < h->nlist && !err; i++) {
		const struct ht_report_row *r = &h->rows[h->list[i]];
		const struct ht_live_age *a = &h->ages[r->stack];

		err = report__stack(h->in, r->stack, &st);
		fprintf(f, "%s\n{\"frames\":[", i ? "," : "");
		for (uint32_t j = st.first; j < st.n && !err; j++) {
			const struct ht_frame *fr = &st.v[j].fr;
			long fn = -1, mod = -1, file = -1;

			err = name_id(h, fr->function, &fn);
			if (!err)
				err = name_id(h, base_name(fr->module), &mod);
			if (!err)
				err = name_id(h, fr->file, &file);
			fprintf(f, "%s[%ld,%ld,%ld,%d]", j > st.first ? "," : "", fn, mod, file,
				fr->line);
		}
		fputs("],", f);
		report__json_stats(f, &r->s);
		if (a->oldest_ms == UINT64_MAX)
			fputs(",\"oldest_age_s\":null}", f);
		else
			fprintf(f, ",\"oldest_age_s\":%.3f}",
				(double)(h->now_ms > a->oldest_ms ? h->now_ms - a->oldest_ms : 0) /
					1e3);
	}
	fputs("],\n", f);
	report__stack_free(&st);
	return err;
}

static void put_tables(struct html *h, uint32_t rows[NTABLES][TABLE_ROWS],
		       const size_t nrows[NTABLES])
{
	FILE *f = h->f;

	fputs("\"tables\":{", f);
	for (size_t t = 0; t < NTABLES; t++) {
		uint64_t other = 0, other_stacks = 0;

		for (size_t i = 0; i < h->nrows; i++)
			if (field(&h->rows[i].s, tables[t].field)) {
				other += field(&h->rows[i].s, tables[t].field);
				other_stacks++;
			}
		fprintf(f, "%s\"%s\":{\"rows\":[", t ? "," : "", tables[t].key);
		for (size_t i = 0; i < nrows[t]; i++) {
			const struct ht_report_row *r = &h->rows[rows[t][i]];

			fprintf(f, "%s%u", i ? "," : "", h->slot[r->stack] - 1);
			other -= field(&r->s, tables[t].field);
			other_stacks--;
		}
		fprintf(f, "],\"other_stacks\":%llu,\"other\":%llu}", (unsigned long long)other_stacks,
			(unsigned long long)other);
	}
	fputs("},\n", f);
}

/*
 * Memory over time: the timeline's points, the live bytes of the chart's
 * stacks at each, and "other", the total minus them; then the report's
 * moment, as in the JSON report.
 */
static int put_timeline(struct html *h, const uint32_t *chart, size_t nchart,
			const struct ht_heap_totals *t)
{
	const struct ht_timeline_point *p;
	uint64_t interval, *v = NULL;
	uint32_t ids[CHART_STACKS];
	size_t n = heap__timeline(h->in->heap, &p, &interval), npts;
	bool final = !n || h->now_ms > p[n - 1].t_ms;
	FILE *f = h->f;
	int err;

	for (size_t j = 0; j < nchart; j++)
		ids[j] = h->rows[chart[j]].stack;
	npts = n + final;
	v = calloc(npts * (nchart ? nchart : 1), sizeof(*v));
	if (!v)
		return -ENOMEM;
	err = heap__timeline_stacks(h->in->heap, ids, nchart, v);
	if (err && err != -ENODATA)
		goto out;
	if (err)
		nchart = 0;
	if (final)
		for (size_t j = 0; j < nchart; j++)
			v[n * nchart + j] = h->rows[chart[j]].s.live_bytes;
	fprintf(f, "\"timeline\":{\"interval_s\":%.3f,\"bands_lost\":%s,\"t\":[",
		(double)interval / 1e3, err ? "true" : "false");
	for (size_t i = 0; i < npts; i++)
		fprintf(f, "%s%.3f", i ? "," : "", (double)(i < n ? p[i].t_ms : h->now_ms) / 1e3);
	fputs("],\"live\":[", f);
	for (size_t i = 0; i < npts; i++)
		fprintf(f, "%s%llu", i ? "," : "",
			(unsigned long long)(i < n ? p[i].live_bytes : t->s.live_bytes));
	fputs("],\"allocs\":[", f);
	for (size_t i = 0; i < npts; i++)
		fprintf(f, "%s%llu", i ? "," : "",
			(unsigned long long)(i < n ? p[i].allocs : t->s.allocs));
	fputs("],\"bands\":[", f);
	for (size_t j = 0; j < nchart; j++) {
		fprintf(f, "%s\n{\"stack\":%u,\"live\":[", j ? "," : "",
			h->slot[ids[j]] - 1);
		for (size_t i = 0; i < npts; i++)
			fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)v[i * nchart + j]);
		fputs("]}", f);
	}
	fputs("],\"other\":[", f);
	for (size_t i = 0; i < npts; i++) {
		uint64_t rest = i < n ? p[i].live_bytes : t->s.live_bytes;

		for (size_t j = 0; j < nchart; j++)
			rest -= v[i * nchart + j];
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)rest);
	}
	fputs("]},\n", f);
	err = 0;
out:
	free(v);
	return err;
}

/*
 * One metric's flame graph: nodes in preorder as [name, module, kind,
 * parent, value, left edge] (module -1: none; parent -1: the root). A
 * node narrower than total / FLAME_MIN is left out with its subtree; the
 * subtrees left out are counted in "pruned" (their value) and
 * "pruned_frames".
 */
static int put_flame(struct html *h, enum ht_metric m)
{
	struct ht_named_stacks ns;
	struct ht_flame t = { 0 };
	uint32_t *idx = NULL, k = 0;
	uint64_t pruned = 0, pruned_nodes = 0, total;
	FILE *f = h->f;
	int err;

	err = report__named_stacks(h->in, m, &ns);
	if (!err)
		err = report__flame_build(&t, &ns);
	if (!err && !(idx = calloc(t.n, sizeof(*idx))))
		err = -ENOMEM;
	if (err)
		goto out;
	total = t.v[0].value;
	fprintf(f, "%s\"%s\":{\"nodes\":[", m ? "," : "", report__metric_name(m));
	for (size_t i = 0; i < t.n && !err; i++) {
		const struct ht_flame_node *nd = &t.v[i];
		long name = -1, mod = -1;

		/* idx: 1 + the node's place in the page; 0: left out */
		if (i && (!idx[nd->parent] || (unsigned __int128)nd->value * FLAME_MIN < total)) {
			if (idx[nd->parent]) {
				pruned += nd->value;
				pruned_nodes++;
			}
			continue;
		}
		idx[i] = ++k;
		err = name_id(h, nd->name, &name);
		if (!err)
			err = name_id(h, base_name(nd->module), &mod);
		fprintf(f, "%s[%ld,%ld,%u,%d,%llu,%llu]", i ? "," : "", name, mod, nd->kind,
			i ? (int)idx[nd->parent] - 1 : -1, (unsigned long long)nd->value,
			(unsigned long long)nd->off);
	}
	fprintf(f, "],\"total\":%llu,\"pruned\":%llu,\"pruned_frames\":%llu}",
		(unsigned long long)total, (unsigned long long)pruned,
		(unsigned long long)pruned_nodes);
out:
	free(idx);
	report__flame_free(&t);
	report__named_stacks_free(&ns);
	return err;
}

/* The summary: the numbers, and the text report's summary as it is. */
static int put_summary(struct html *h, const struct ht_heap_totals *t)
{
	const struct ht_report_input *in = h->in;
	char *text = NULL;
	size_t len = 0;
	FILE *f = h->f, *mf = open_memstream(&text, &len);

	if (!mf)
		return -ENOMEM;
	report__summary_text(mf, in);
	if (fclose(mf))
		return -ENOMEM;
	fprintf(f, "\"pid\":%d,\"command\":", in->target.pid);
	report__json_html_str(f, in->target.command);
	fprintf(f, ",\"exited\":%s,\"duration_s\":%.6f,\"sample_bytes\":%llu,\"totals\":{",
		in->target.exited ? "true" : "false", in->target.duration_s,
		(unsigned long long)in->target.sample_bytes);
	report__json_stats(f, &t->s);
	fprintf(f, ",\"unknown_frees\":%llu,\"lost_events\":%llu},\"peak_time_s\":%.3f,",
		(unsigned long long)t->unknown_frees, (unsigned long long)in->loss.lost_events,
		(double)t->peak_ms / 1e3);
	if (in->rss_anon_known)
		fprintf(f, "\"rss_anon_bytes\":%llu,", (unsigned long long)in->rss_anon);
	else
		fputs("\"rss_anon_bytes\":null,", f);
	fprintf(f, "\"stacks_total\":%zu,\"limits\":{\"table_rows\":%d,\"chart_stacks\":%d,"
		   "\"flame_min\":%d},\"summary_text\":",
		h->nrows, TABLE_ROWS, CHART_STACKS, FLAME_MIN);
	report__json_html_str(f, text);
	fputs(",\n", f);
	free(text);
	return 0;
}

static int put_names(struct html *h)
{
	fputs("\"names\":[", h->f);
	for (size_t i = 0; i < h->names.n; i++) {
		fputs(i ? "," : "", h->f);
		report__json_html_str(h->f, h->names.v[i]);
	}
	fputs("]", h->f);
	return 0;
}

static int put_data(struct html *h)
{
	uint32_t rows[NTABLES][TABLE_ROWS], chart[CHART_STACKS];
	size_t nrows[NTABLES], nchart;
	struct ht_heap_totals t;
	int err;

	heap__totals(h->in->heap, &t);
	err = pick_rows(h, rows, nrows, chart, &nchart);
	if (!err) {
		fputc('{', h->f);
		err = put_summary(h, &t);
	}
	if (!err)
		err = put_stacks(h);
	if (!err) {
		put_tables(h, rows, nrows);
		err = put_timeline(h, chart, nchart, &t);
	}
	if (!err)
		fputs("\"flame\":{", h->f);
	for (int m = 0; m < __HT_M_MAX && !err; m++)
		err = put_flame(h, (enum ht_metric)m);
	if (!err) {
		fputs("},\n", h->f);
		err = put_names(h);
		fputs("}", h->f);
	}
	return err;
}

int report__html(FILE *f, const struct ht_report_input *in)
{
	const char *mark = strstr(report_html_tmpl, DATA_MARK);
	struct html h = { .f = f, .in = in, .now_ms = report__now_ms(in) };
	uint32_t nr = heap__nr_stacks(in->heap);
	int err;

	if (!mark)
		return -EINVAL;
	err = report__rows(in, &h.rows, &h.nrows);
	if (!err)
		err = report__ages(in, &h.ages);
	if (err)
		goto out;
	h.slot = calloc(nr ? nr : 1, sizeof(*h.slot));
	h.list = calloc(NTABLES * TABLE_ROWS + CHART_STACKS, sizeof(*h.list));
	if (!h.slot || !h.list) {
		err = -ENOMEM;
		goto out;
	}
	fwrite(report_html_tmpl, 1, (size_t)(mark - report_html_tmpl), f);
	err = put_data(&h);
	if (err)
		goto out;
	fputs(mark + strlen(DATA_MARK), f);
	err = ferror(f) ? -EIO : 0;
out:
	strtab__free(&h.names);
	free(h.list);
	free(h.slot);
	free(h.ages);
	free(h.rows);
	return err;
}
