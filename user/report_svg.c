// SPDX-License-Identifier: MIT
/*
 * A flame graph written directly as one self-contained SVG: stacks merged
 * into a tree by frame name, root at the bottom, widths proportional to
 * the metric. A short inline script adds click-to-zoom and search; the
 * picture is complete without it (viewers that run no script still show
 * every frame, label and tooltip).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "util.h"

#define IMG_W      1200
#define PAD        10
#define FRAME_W    (IMG_W - 2 * PAD)
#define FRAME_H    16
#define TOP        60            /* title and buttons */
#define BOTTOM     34            /* details line */
#define FONT_PX    11
#define CHAR_W     6.6           /* monospace advance at FONT_PX, estimated */
#define MIN_W      0.1           /* narrower frames are left out, as flamegraph.pl */
#define LEGEND_X   (IMG_W - PAD - 300)

static void xml_str(FILE *f, const char *s)
{
	report__xml_put(f, s, SIZE_MAX);
}

/*
 * A colour from the name (FNV-1a), so that a function keeps its colour
 * across graphs, in the palette of whose code it is: warm for the
 * program's own, blue for libraries, green for the allocator, grey for
 * unmapped code.
 */
static void colour(const struct ht_flame_node *nd, char *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int a, b, c;

	if (nd->name[0] == '[' || nd->kind == REPORT_CODE_UNKNOWN) {
		snprintf(buf, len, "rgb(190,190,190)");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)nd->name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h = hash_u64(h);
	a = (unsigned int)(h % 51);
	b = (unsigned int)((h >> 16) % 231);
	c = (unsigned int)((h >> 32) % 56);
	if (nd->kind == REPORT_CODE_LIBRARY)
		snprintf(buf, len, "rgb(%u,%u,%u)", 60 + c, 130 + b / 3, 205 + a);
	else if (nd->kind == REPORT_CODE_ALLOCATOR)
		snprintf(buf, len, "rgb(%u,%u,%u)", 60 + c, 190 + a, 60 + b / 5);
	else
		snprintf(buf, len, "rgb(%u,%u,%u)", 205 + a, b, c);
}

/* The trailing parameter list of s ("f(int) const"), or NULL. */
static const char *params(const char *s)
{
	const char *close = strrchr(s, ')');
	int depth = 0;

	if (!close)
		return NULL;
	for (const char *p = close; p >= s; p--) {
		if (*p == ')')
			depth++;
		else if (*p == '(' && !--depth)
			return p > s ? p : NULL;
	}
	return NULL;
}

/*
 * The label of a frame fit chars wide, as fit() in the script below: the
 * short name if it fits, else without its parameters (and a function
 * template's "<>"), else its end behind "..": the end holds the
 * function's own name.
 */
static void put_label(FILE *f, const char *name, size_t fit)
{
	char buf[1024];
	const char *p;
	size_t chars;

	if (fit < 3)
		return;
	report__short_name(name, buf, sizeof(buf));
	if (report__utf8_chars(buf) <= fit) {
		report__xml_put(f, buf, SIZE_MAX);
		return;
	}
	p = params(buf);
	if (p)
		buf[p - buf] = '\0';
	/* "f<>" of a function template: its name is f. */
	chars = strlen(buf);
	if (chars > 2 && !strcmp(buf + chars - 2, "<>"))
		buf[chars - 2] = '\0';
	chars = report__utf8_chars(buf);
	if (chars <= fit) {
		report__xml_put(f, buf, SIZE_MAX);
		return;
	}
	fputs("..", f);
	/* Skip to the last fit - 2 characters. */
	p = buf;
	for (size_t skip = chars - (fit - 2); skip; skip--)
		p += report__utf8_len_at(p);
	report__xml_put(f, p, SIZE_MAX);
}

static const char *const code_names[] = {
	[REPORT_CODE_UNKNOWN] = "unknown",
	[REPORT_CODE_PROGRAM] = "program",
	[REPORT_CODE_LIBRARY] = "library",
	[REPORT_CODE_ALLOCATOR] = "allocator",
};

static const char *metric_title(const struct ht_report_input *in, enum ht_metric m)
{
	switch (m) {
	case HT_M_LIVE_BYTES:
		return in->target.exited ? "leaked bytes" : "live bytes";
	case HT_M_PEAK_BYTES:
		return "bytes live at the peak";
	case HT_M_ALLOC_BYTES:
		return "allocated bytes";
	default:
		return "allocations";
	}
}

static const char *value_str(enum ht_metric m, uint64_t v, char *buf, size_t len)
{
	if (m == HT_M_ALLOCS)
		snprintf(buf, len, "%llu allocation%s", (unsigned long long)v, v == 1 ? "" : "s");
	else
		human_bytes(v, buf, len);
	return buf;
}

static void put_frame(FILE *f, const struct ht_flame *t, const struct ht_flame_node *nd, enum ht_metric m)
{
	uint64_t total = t->v[0].value;
	double scale = total ? (double)FRAME_W / (double)total : 0;
	double x = PAD + (double)nd->off * scale;
	double w = total ? (double)nd->value * scale : FRAME_W;
	double y = TOP + (double)(t->max_depth - nd->depth) * FRAME_H;
	size_t fit = w > 6 ? (size_t)((w - 6) / CHAR_W) : 0;
	const char *mod = nd->module ? strrchr(nd->module, '/') : NULL;
	char val[48], fill[24];

	mod = mod ? mod + 1 : nd->module;
	colour(nd, fill, sizeof(fill));
	fputs("<g class=\"frame\" data-name=\"", f);
	xml_str(f, nd->name);
	fprintf(f, "\" data-o=\"%llu\" data-v=\"%llu\" data-d=\"%u\" data-code=\"%s\"><title>",
		(unsigned long long)nd->off, (unsigned long long)nd->value, nd->depth,
		code_names[nd->kind]);
	xml_str(f, nd->name);
	if (mod) {
		fputs(" (", f);
		xml_str(f, mod);
		fputc(')', f);
	}
	fprintf(f, " - %s (%.2f%%)</title>", value_str(m, nd->value, val, sizeof(val)),
		total ? 100.0 * (double)nd->value / (double)total : 100.0);
	fprintf(f, "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" rx=\"2\" "
		"fill=\"%s\"/><text x=\"%.2f\" y=\"%.0f\">", x, y, w, FRAME_H - 1, fill,
		x + 3, y + FRAME_H - 5);
	put_label(f, nd->name, fit);
	fputs("</text></g>\n", f);
}

/* Zoom rescales the clicked subtree to the full width, stretches and greys
 * its ancestors and hides the rest; search highlights matching frames and
 * sums the width they cover without counting nested matches twice. */
static const char script[] =
	"var svg = document.documentElement, frames = [], root = null, last = '';\n"
	"var details = document.getElementById('details');\n"
	"var matched = document.getElementById('matched');\n"
	"var unzoom = document.getElementById('unzoom');\n"
	"function shortName(s) {\n"
	"	var out = '', depth = 0;\n"
	"	for (var i = 0; i < s.length; i++) {\n"
	"		var c = s[i];\n"
	"		if (c === '<' && (depth || !/operator<*$/.test(s.substring(0, i)))) {\n"
	"			if (!depth++)\n"
	"				out += '<';\n"
	"		} else if (c === '>' && depth) {\n"
	"			if (!--depth)\n"
	"				out += '>';\n"
	"		} else if (!depth) {\n"
	"			out += c;\n"
	"		}\n"
	"	}\n"
	"	return out;\n"
	"}\n"
	"function noParams(s) {\n"
	"	var close = s.lastIndexOf(')'), depth = 0;\n"
	"	for (var i = close; i >= 0; i--) {\n"
	"		if (s[i] === ')')\n"
	"			depth++;\n"
	"		else if (s[i] === '(' && !--depth)\n"
	"			return i > 0 ? s.substring(0, i) : s;\n"
	"	}\n"
	"	return s;\n"
	"}\n"
	"function fit(f, x, w) {\n"
	"	var n = Math.floor((w - 6) / CW), s = f.label;\n"
	"	if (n < 3)\n"
	"		s = '';\n"
	"	else if (s.length > n) {\n"
	"		s = noParams(s).replace(/(.)<>$/, '$1');\n"
	"		if (s.length > n)\n"
	"			s = '..' + s.substring(s.length - (n - 2));\n"
	"	}\n"
	"	f.t.textContent = s;\n"
	"	f.t.setAttribute('x', (x + 3).toFixed(2));\n"
	"}\n"
	"function place(f, x, w) {\n"
	"	f.r.setAttribute('x', x.toFixed(2));\n"
	"	f.r.setAttribute('width', w.toFixed(2));\n"
	"	fit(f, x, w);\n"
	"}\n"
	"function zoom(z) {\n"
	"	if (!z.v)\n"
	"		return;\n"
	"	var s = FW / z.v;\n"
	"	frames.forEach(function (f) {\n"
	"		var cl = f.g.classList;\n"
	"		cl.remove('hide');\n"
	"		cl.remove('anc');\n"
	"		if (f.d >= z.d && f.o >= z.o && f.o + f.v <= z.o + z.v) {\n"
	"			place(f, PAD + (f.o - z.o) * s, f.v * s);\n"
	"		} else if (f.d < z.d && f.o <= z.o && f.o + f.v >= z.o + z.v) {\n"
	"			cl.add('anc');\n"
	"			place(f, PAD, FW);\n"
	"		} else {\n"
	"			cl.add('hide');\n"
	"		}\n"
	"	});\n"
	"	unzoom.classList.toggle('hide', z === root);\n"
	"}\n"
	"function clearSearch() {\n"
	"	frames.forEach(function (f) { f.g.classList.remove('match'); });\n"
	"	matched.textContent = '';\n"
	"}\n"
	"function search() {\n"
	"	var term = window.prompt('Search for functions (regular expression)', last);\n"
	"	var re = null, iv = [], sum = 0, end = 0;\n"
	"	if (term === null)\n"
	"		return;\n"
	"	last = term;\n"
	"	clearSearch();\n"
	"	if (term === '')\n"
	"		return;\n"
	"	try { re = new RegExp(term); } catch (e) { re = null; }\n"
	"	frames.forEach(function (f) {\n"
	"		var hit = f.d > 0 && (re ? re.test(f.n) : f.n.indexOf(term) >= 0);\n"
	"		if (hit) {\n"
	"			f.g.classList.add('match');\n"
	"			iv.push([f.o, f.o + f.v]);\n"
	"		}\n"
	"	});\n"
	"	iv.sort(function (a, b) { return a[0] - b[0]; });\n"
	"	iv.forEach(function (r) {\n"
	"		if (r[1] <= end)\n"
	"			return;\n"
	"		sum += r[1] - Math.max(r[0], end);\n"
	"		end = r[1];\n"
	"	});\n"
	"	matched.textContent = 'Matched: ' +\n"
	"		(root.v ? (100 * sum / root.v).toFixed(2) : '0.00') + '%';\n"
	"}\n"
	"function frameOf(e) {\n"
	"	for (var g = e.target; g && g !== svg; g = g.parentNode)\n"
	"		if (g.htFrame)\n"
	"			return g.htFrame;\n"
	"	return null;\n"
	"}\n"
	"Array.prototype.forEach.call(document.querySelectorAll('g.frame'), function (g) {\n"
	"	var f = { g: g, r: g.querySelector('rect'), t: g.querySelector('text'),\n"
	"		title: g.querySelector('title').textContent,\n"
	"		n: g.getAttribute('data-name'), o: +g.getAttribute('data-o'),\n"
	"		v: +g.getAttribute('data-v'), d: +g.getAttribute('data-d') };\n"
	"	f.label = shortName(f.n);\n"
	"	g.htFrame = f;\n"
	"	frames.push(f);\n"
	"	if (f.d === 0)\n"
	"		root = f;\n"
	"});\n"
	"svg.addEventListener('click', function (e) {\n"
	"	var f = frameOf(e);\n"
	"	if (f)\n"
	"		zoom(f);\n"
	"});\n"
	"svg.addEventListener('mouseover', function (e) {\n"
	"	var f = frameOf(e);\n"
	"	details.textContent = f ? f.title : ' ';\n"
	"});\n"
	"unzoom.addEventListener('click', function () { zoom(root); });\n"
	"document.getElementById('search').addEventListener('click', search);\n"
	"matched.addEventListener('click', clearSearch);\n"
	"window.addEventListener('keydown', function (e) {\n"
	"	if (e.key === 'f' && (e.ctrlKey || e.metaKey)) {\n"
	"		e.preventDefault();\n"
	"		search();\n"
	"	} else if (e.key === 'Escape') {\n"
	"		zoom(root);\n"
	"		clearSearch();\n"
	"	}\n"
	"});\n";

static void put_header(FILE *f, const struct ht_report_input *in, enum ht_metric m,
		       const struct ht_flame *t, int height)
{
	char val[48];

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" data-metric=\"%s\">\n",
		IMG_W, height, IMG_W, height, report__metric_name(m));
	fprintf(f, "<style type=\"text/css\"><![CDATA[\n"
		"text { font-family: monospace; font-size: %dpx; fill: #000; }\n"
		"#title { font-size: 17px; text-anchor: middle; }\n"
		"#subtitle { fill: #555; text-anchor: middle; }\n"
		"#search, #matched { text-anchor: end; }\n"
		".button { cursor: pointer; fill: #036; }\n"
		".button:hover { text-decoration: underline; }\n"
		"g.frame { cursor: pointer; }\n"
		"g.frame:hover rect { stroke: #000; stroke-width: 0.5; }\n"
		".match rect { fill: rgb(230,0,230); }\n"
		".anc rect { fill: rgb(215,215,215); }\n"
		".hide { display: none; }\n"
		"]]></style>\n", FONT_PX);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"rgb(248,248,240)\"/>\n",
		IMG_W, height);
	fprintf(f, "<text id=\"title\" x=\"%d\" y=\"24\">heaptrace: %s of PID %d", IMG_W / 2,
		metric_title(in, m), in->target.pid);
	if (in->target.command) {
		fputs(" (", f);
		xml_str(f, in->target.command);
		fputc(')', f);
	}
	fprintf(f, " after %.1f s</text>\n", in->target.duration_s);
	fprintf(f, "<text id=\"subtitle\" x=\"%d\" y=\"42\">total %s", IMG_W / 2,
		value_str(m, t->v[0].value, val, sizeof(val)));
	if (in->loss.lost_events)
		fprintf(f, "; %llu events lost, numbers are lower bounds",
			(unsigned long long)in->loss.lost_events);
	fputs("</text>\n", f);
	fprintf(f, "<text id=\"unzoom\" class=\"button hide\" x=\"%d\" y=\"42\">Reset Zoom</text>\n"
		"<text id=\"search\" class=\"button\" x=\"%d\" y=\"42\">Search</text>\n",
		PAD, IMG_W - PAD);
	/* What the colours say: left of Search, on the subtitle's line. */
	fprintf(f, "<g id=\"legend\"><rect x=\"%d\" y=\"33\" width=\"10\" height=\"10\" "
		"fill=\"rgb(230,100,30)\"/><text x=\"%d\" y=\"42\">program</text>"
		"<rect x=\"%d\" y=\"33\" width=\"10\" height=\"10\" fill=\"rgb(85,170,230)\"/>"
		"<text x=\"%d\" y=\"42\">libraries</text>"
		"<rect x=\"%d\" y=\"33\" width=\"10\" height=\"10\" fill=\"rgb(85,215,80)\"/>"
		"<text x=\"%d\" y=\"42\">allocator</text></g>\n",
		LEGEND_X, LEGEND_X + 14, LEGEND_X + 74, LEGEND_X + 88, LEGEND_X + 160,
		LEGEND_X + 174);
	fprintf(f, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n"
		"<text id=\"matched\" class=\"button\" x=\"%d\" y=\"%d\"></text>\n",
		PAD, height - 12, IMG_W - PAD, height - 12);
}

int report__svg(FILE *f, const struct ht_report_input *in, enum ht_metric m)
{
	struct ht_named_stacks ns;
	struct ht_flame t = { 0 };
	int height, err;

	err = report__named_stacks(in, m, &ns);
	if (err)
		return err;
	err = report__flame_build(&t, &ns);
	if (err)
		goto out;
	height = TOP + (int)(t.max_depth + 1) * FRAME_H + BOTTOM;
	put_header(f, in, m, &t, height);
	for (size_t i = 0; i < t.n; i++) {
		/* Children are never wider than their parent: all skipped too. */
		if (t.v[0].value &&
		    (double)t.v[i].value * FRAME_W / (double)t.v[0].value < MIN_W)
			continue;
		put_frame(f, &t, &t.v[i], m);
	}
	fprintf(f, "<script type=\"text/ecmascript\"><![CDATA[\n"
		"'use strict';\nvar PAD = %d, FW = %d, CW = %.1f;\n%s]]></script>\n</svg>\n",
		PAD, FRAME_W, CHAR_W, script);
	err = ferror(f) ? -EIO : 0;
out:
	report__flame_free(&t);
	report__named_stacks_free(&ns);
	return err;
}
