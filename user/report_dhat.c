// SPDX-License-Identifier: MIT
/*
 * DHAT export: the JSON that Valgrind's DHAT writes (dhatFileVersion 2,
 * heap mode) and its viewer dh_view.html loads. One program point (pp)
 * per stack; "fs" indexes "ftbl", innermost frame first, as DHAT does.
 * Times are in microseconds since tracing began, as dhat-rs writes them.
 *
 * What heaptrace does not measure is written as DHAT's neutral value:
 * no block lifetimes (tl = 0) and no accesses (bkacc false).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "stacks.h"
#include "symbolize.h"

static void json_str(FILE *f, const char *s)
{
	size_t len;

	for (; *s; s += len) {
		len = report__utf8_len(s);
		if (!len) {
			/* JSON text must be UTF-8: mark the byte as unknown. */
			fputs("\\ufffd", f);
			len = 1;
		} else if (*s == '"' || *s == '\\') {
			fputc('\\', f);
			fputc(*s, f);
		} else if ((unsigned char)*s < 0x20) {
			fprintf(f, "\\u%04x", (unsigned char)*s);
		} else {
			fwrite(s, 1, len, f);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every distinct return address, sorted: the frame table, less "[root]". */
static int frame_table(const struct ht_report_input *in, const struct ht_report_row *rows,
		       size_t n, uint64_t **addrs, size_t *naddrs)
{
	size_t total = 0, k = 0;
	uint64_t *a;

	for (size_t i = 0; i < n; i++) {
		uint32_t nr = 0;

		if (stacks__get(in->stacks, rows[i].stack, &nr))
			total += nr;
	}
	a = malloc((total ? total : 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t nr = 0;
		const uint64_t *ips = stacks__get(in->stacks, rows[i].stack, &nr);

		for (uint32_t j = 0; ips && j < nr; j++)
			a[k++] = ips[j];
	}
	qsort(a, k, sizeof(*a), cmp_u64);
	total = 0;
	for (size_t i = 0; i < k; i++)
		if (!total || a[total - 1] != a[i])
			a[total++] = a[i];
	*addrs = a;
	*naddrs = total;
	return 0;
}

/* DHAT's frame syntax: "0xADDR: function (file:line)", or "(in module)". */
static int put_frame(FILE *f, struct ht_symbolizer *sym, uint64_t addr)
{
	struct ht_frame fr;
	int err;

	err = symbolizer__resolve(sym, addr, &fr);
	if (err)
		return err;
	fprintf(f, "\"0x%llx: ", (unsigned long long)addr);
	json_str(f, fr.function);
	if (fr.file) {
		fputs(" (", f);
		json_str(f, fr.file);
		if (fr.line)
			fprintf(f, ":%d", fr.line);
		fputc(')', f);
	} else if (fr.module) {
		fputs(" (in ", f);
		json_str(f, fr.module);
		fputc(')', f);
	}
	fputc('"', f);
	return 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void put_pp(FILE *f, const struct ht_report_input *in, const struct ht_report_row *r,
		   const uint64_t *addrs, size_t naddrs)
{
	const struct ht_stats *s = &r->s;
	const uint64_t *ips, *hit;
	uint32_t nr = 0;

	/*
	 * mb/mbk are the stack's own maximum, which the model does not keep:
	 * the larger of its values at the total peak and now is a lower bound
	 * that is exact for stacks that only grow or only peak with the total.
	 */
	fprintf(f, "{\"tb\":%llu,\"tbk\":%llu,\"tl\":0\n"
		" ,\"mb\":%llu,\"mbk\":%llu\n"
		" ,\"gb\":%llu,\"gbk\":%llu\n"
		" ,\"eb\":%llu,\"ebk\":%llu\n"
		" ,\"fs\":[",
		(unsigned long long)s->alloc_bytes, (unsigned long long)s->allocs,
		(unsigned long long)max_u64(s->peak_bytes, s->live_bytes),
		(unsigned long long)max_u64(s->peak_blocks, s->live_blocks),
		(unsigned long long)s->peak_bytes, (unsigned long long)s->peak_blocks,
		(unsigned long long)s->live_bytes, (unsigned long long)s->live_blocks);
	ips = stacks__get(in->stacks, r->stack, &nr);
	for (uint32_t j = 0; ips && j < nr; j++) {
		hit = bsearch(&ips[j], addrs, naddrs, sizeof(*addrs), cmp_u64);
		/* Index 0 is "[root]"; every address is in the table. */
		fprintf(f, "%s%zu", j ? "," : "", (size_t)(hit - addrs) + 1);
	}
	fputs("]\n }\n", f);
}

int report__dhat(FILE *f, const struct ht_report_input *in)
{
	double us = in->duration_s > 0 ? in->duration_s * 1e6 + 0.5 : 0;
	unsigned long long te = (unsigned long long)us;
	struct ht_report_row *rows;
	uint64_t *addrs = NULL;
	size_t n, naddrs = 0;
	int err;

	err = report__rows(in, &rows, &n);
	if (err)
		return err;
	err = frame_table(in, rows, n, &addrs, &naddrs);
	if (err)
		goto out;
	fputs("{\"dhatFileVersion\":2\n,\"mode\":\"heap\"\n,\"verb\":\"Allocated\"\n"
	      ",\"bklt\":true\n,\"bkacc\":false\n"
	      ",\"tu\":\"\xc2\xb5s\"\n,\"Mtu\":\"s\"\n"
	      /* Lifetimes are not measured (tl is 0): the threshold is moot. */
	      ",\"tuth\":10\n,\"cmd\":\"", f);
	json_str(f, in->command ? in->command : "");
	fprintf(f, "\"\n,\"pid\":%d\n", in->pid);
	/*
	 * tg is when the total peak happened. The model knows what was live
	 * then but not when it was: t-end is written, an upper bound, so the
	 * viewer's "at t-gmax" columns are right and its time is approximate.
	 */
	fprintf(f, ",\"tg\":%llu\n,\"te\":%llu\n,\"pps\":\n[", te, te);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "," : "", f);
		put_pp(f, in, &rows[i], addrs, naddrs);
	}
	fputs("]\n,\"ftbl\":\n[\"[root]\"\n", f);
	for (size_t i = 0; i < naddrs; i++) {
		fputc(',', f);
		err = put_frame(f, in->sym, addrs[i]);
		if (err)
			goto out;
		fputc('\n', f);
	}
	fputs("]\n}\n", f);
	err = ferror(f) ? -EIO : 0;
out:
	free(addrs);
	free(rows);
	return err;
}
