// SPDX-License-Identifier: MIT
/*
 * What heaptrace cannot see, in the text and JSON reports: the process's
 * anonymous memory next to the traced live bytes, the allocators found
 * but not traced (and why), and a run in which the traced entry points
 * saw no call at all.
 */
#include <string.h>
#include "allocators.h"
#include "report.h"
#include "util.h"

static const char gap_note[] =
	"the gap can be runtime heaps in mmap'd memory, blocks from before attach, "
	"allocator overhead";

/* Not one call, recorded or left out by a size filter or sampling. */
static bool no_calls(const struct ht_report_input *in, const struct ht_heap_totals *t)
{
	return !t->s.allocs && !t->s.frees && !t->unknown_frees && !in->loss.filtered &&
	       !in->loss.unsampled;
}

void report__unseen_text(FILE *f, const struct ht_report_input *in,
			 const struct ht_heap_totals *t)
{
	char a[32], b[32];

	if (in->rss_anon_known)
		fprintf(f, "  anon memory   %12s  RssAnon%s; traced live %s: %s\n",
			human_bytes(in->rss_anon, a, sizeof(a)), in->target.exited ? " at exit" : "",
			human_bytes(t->s.live_bytes, b, sizeof(b)), gap_note);
	if (in->late_unknown_frees)
		fprintf(f, "  %llu of the unknown frees are of allocators traced late (mapped while "
			   "tracing): their blocks came before the probes\n",
			(unsigned long long)in->late_unknown_frees);
	for (size_t i = 0; i < in->nuntraced; i++) {
		const struct ht_alloc_refused *r = &in->untraced[i];

		fprintf(f, "  not traced    %s in %s: %s; workaround: %s\n", r->family, r->object,
			r->why, r->workaround);
	}
	if (no_calls(in, t))
		fprintf(f, "\nWARNING: no call to the traced entry points was seen: the program "
			   "allocates through something else (malloc is defined by: %s)\n",
			in->malloc_defs ? in->malloc_defs : "unknown");
}

void report__unseen_json(FILE *f, const struct ht_report_input *in,
			 const struct ht_heap_totals *t)
{
	const char *p = in->malloc_defs && strcmp(in->malloc_defs, "none") ? in->malloc_defs : "";

	fputs("  \"memory\": { \"rss_anon_bytes\": ", f);
	if (in->rss_anon_known)
		fprintf(f, "%llu", (unsigned long long)in->rss_anon);
	else
		fputs("null", f);
	fprintf(f, ", \"traced_live_bytes\": %llu, \"late_allocator_unknown_frees\": %llu, "
		   "\"no_traced_calls\": %s, \"malloc_defined_by\": [",
		(unsigned long long)t->s.live_bytes, (unsigned long long)in->late_unknown_frees,
		no_calls(in, t) ? "true" : "false");
	for (bool first = true; *p; first = false) {
		size_t n = strcspn(p, ",");
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		fputs(first ? "" : ", ", f);
		report__json_str(f, name);
		p += n;
		p += strspn(p, ", ");
	}
	fputs("], \"untraced_allocators\": [", f);
	for (size_t i = 0; i < in->nuntraced; i++) {
		const struct ht_alloc_refused *r = &in->untraced[i];

		fputs(i ? ", { \"family\": " : "{ \"family\": ", f);
		report__json_str(f, r->family);
		fputs(", \"object\": ", f);
		report__json_str(f, r->object);
		fputs(", \"reason\": ", f);
		report__json_str(f, r->why);
		fputs(", \"workaround\": ", f);
		report__json_str(f, r->workaround);
		fputs(" }", f);
	}
	fprintf(f, "], \"note\": \"%s\" },\n", gap_note);
}
