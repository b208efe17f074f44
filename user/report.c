// SPDX-License-Identifier: MIT
/* The walks over a profile that every report shares. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "stacks.h"
#include "symbolize.h"
#include "util.h"

int report__rows(const struct ht_report_input *in, struct ht_report_row **rows, size_t *n)
{
	uint32_t nr = heap__nr_stacks(in->heap);
	struct ht_report_row *r = calloc(nr ? nr : 1, sizeof(*r));
	size_t k = 0;

	if (!r)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		heap__stack_stats(in->heap, i, &r[k].s);
		if (!r[k].s.allocs || (in->keep && !in->keep(i, in->keep_ctx)))
			continue;
		r[k++].stack = i;
	}
	*rows = r;
	*n = k;
	return 0;
}

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

uint64_t report__now_ms(const struct ht_report_input *in)
{
	return in->target.duration_s > 0 ? (uint64_t)(in->target.duration_s * 1000 + 0.5) : 0;
}

int report__ages(const struct ht_report_input *in, struct ht_live_age **ages)
{
	uint32_t n = heap__nr_stacks(in->heap);
	double older = in->older_than_s > 0 ? in->older_than_s * 1000 + 0.5 : 0;

	*ages = calloc(n ? n : 1, sizeof(**ages));
	if (!*ages)
		return -ENOMEM;
	return heap__live_ages(in->heap, report__now_ms(in), (uint64_t)older, *ages);
}

/*
 * Functions that only allocate on their caller's behalf. Names as the
 * symbolizer gives them (demangled with parameters, or raw with
 * --no-demangle); every C++ operator new variant (sized, aligned,
 * nothrow, array) matches one of the first four.
 */
static const char *const alloc_fn_globs[] = {
	"operator new(*",
	"operator new\\[\\](*",
	"_Znw*",
	"_Zna*",
	"malloc",
	"calloc",
	"realloc",
	"reallocarray",
	"valloc",
	"pvalloc",
	"memalign",
	"aligned_alloc",
	"posix_memalign",
	"__libc_*alloc*",
	"__libc_memalign",
	"strdup",
	"strndup",
	"__strdup",
	"__strndup",
	"wcsdup",
	"__wcsdup",
	"asprintf",
	"vasprintf",
	"__asprintf*",
	"__vasprintf*",
	"___asprintf*",
	"getline",
	"getdelim",
	"__getdelim",
	"open_memstream",
	"open_wmemstream",
};

/* Allocator libraries: every frame inside them is the allocator's. */
static const char *const alloc_module_globs[] = {
	"libjemalloc.so*",
	"libtcmalloc*.so*",
	"libmimalloc*.so*",
};

static bool match_any(const char *const *globs, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!fnmatch(globs[i], s, 0))
			return true;
	return false;
}

/* A user's glob names a function ("xmalloc") and matches it with or
 * without the parameter list the demangler added ("xmalloc(unsigned long)"). */
static bool match_user(const struct ht_report_input *in, const char *name)
{
	size_t len = strlen(name), depth = 0;
	char buf[256];

	if (match_any(in->alloc_fns, in->nalloc_fns, name))
		return true;
	if (!len || name[len - 1] != ')')
		return false;
	while (len--) {
		if (name[len] == ')')
			depth++;
		else if (name[len] == '(' && !--depth)
			break;
	}
	if (len == (size_t)-1 || !len || len >= sizeof(buf))
		return false;
	memcpy(buf, name, len);
	buf[len] = 0;
	return match_any(in->alloc_fns, in->nalloc_fns, buf);
}

static bool is_alloc_frame(const struct ht_report_input *in, const struct ht_frame *fr)
{
	const char *mod = fr->module ? strrchr(fr->module, '/') : NULL, *fn = fr->function;

	mod = mod ? mod + 1 : fr->module;
	if (mod && match_any(alloc_module_globs, ARRAY_SIZE(alloc_module_globs), mod))
		return true;
	if (!fr->known)
		return false;
	/* glibc's debug information names its code by the internal aliases
	 * (__GI___strdup for strdup). */
	if (!strncmp(fn, "__GI_", 5) &&
	    match_any(alloc_fn_globs, ARRAY_SIZE(alloc_fn_globs), fn + 5))
		return true;
	return match_any(alloc_fn_globs, ARRAY_SIZE(alloc_fn_globs), fn) ||
	       (in->nalloc_fns && match_user(in, fn));
}

void report__stack_free(struct ht_report_stack *st)
{
	free(st->v);
	memset(st, 0, sizeof(*st));
}

int report__stack(const struct ht_report_input *in, uint32_t id, struct ht_report_stack *st)
{
	struct ht_frame fr[HT_MAX_INLINE];
	struct ht_frame_src src[HT_MAX_INLINE];
	uint32_t nr = 0, nalloc;
	const uint64_t *ips = stacks__get(in->stacks, id, &nr);

	st->n = st->first = 0;
	for (uint32_t i = 0; ips && i < nr; i++) {
		int k = symbolizer__resolve_src(in->sym, ips[i], fr, src, HT_MAX_INLINE);

		if (k < 0)
			return k;
		if (grow_array((void **)&st->v, &st->cap, st->n + (size_t)k, sizeof(*st->v)))
			return -ENOMEM;
		for (int j = 0; j < k; j++) {
			struct ht_report_frame *f = &st->v[st->n++];

			f->fr = fr[j];
			f->fr.address = ips[i];
			f->src = src[j];
			if (in->short_names && fr[j].known) {
				char buf[1024];

				report__short_name(fr[j].function, buf, sizeof(buf));
				f->fr.function = symbolizer__intern(in->sym, buf);
				if (!f->fr.function)
					return -ENOMEM;
			}
			f->pos = (uint32_t)j;
			f->alloc = false;
		}
	}
	for (nalloc = 0; nalloc < st->n; nalloc++) {
		if (!is_alloc_frame(in, &st->v[nalloc].fr))
			break;
		st->v[nalloc].alloc = true;
	}
	if (!in->keep_alloc_frames)
		st->first = nalloc < st->n ? nalloc : st->n - (st->n > 0);
	return 0;
}

void report__named_stacks_free(struct ht_named_stacks *ns)
{
	free(ns->v);
	free(ns->names);
	free(ns->modules);
	free(ns->kinds);
	memset(ns, 0, sizeof(*ns));
}

/* Modules seen so far and whether each is the program (few: a list). */
struct code_cache {
	const char **mods;
	bool *program;
	size_t n, cap, cap_program;
};

static int frame_code(const struct ht_report_input *in, struct code_cache *cc,
		      const struct ht_report_frame *f, uint8_t *out)
{
	struct ht_object obj;
	size_t i;

	if (f->alloc && in->keep_alloc_frames) {
		*out = REPORT_CODE_ALLOCATOR;
		return 0;
	}
	if (!f->fr.module) {
		*out = REPORT_CODE_UNKNOWN;
		return 0;
	}
	for (i = 0; i < cc->n && cc->mods[i] != f->fr.module; i++)
		;
	if (i == cc->n) {
		if (grow_array((void **)&cc->mods, &cc->cap, cc->n + 1, sizeof(*cc->mods)) ||
		    grow_array((void **)&cc->program, &cc->cap_program, cc->n + 1,
			       sizeof(*cc->program)))
			return -ENOMEM;
		if (symbolizer__object(in->sym, f->fr.address, &obj))
			obj.program = false;
		cc->mods[i] = f->fr.module;
		cc->program[i] = obj.program;
		cc->n++;
	}
	*out = cc->program[i] ? REPORT_CODE_PROGRAM : REPORT_CODE_LIBRARY;
	return 0;
}

int report__named_stacks(const struct ht_report_input *in, enum ht_metric m,
			 struct ht_named_stacks *out)
{
	size_t n, nframes = 0, cap_v = 0, cap_names = 0, cap_mods = 0, cap_kinds = 0;
	struct code_cache cc = { 0 };
	struct ht_report_stack st = { 0 };
	struct ht_report_row *rows;
	int err;

	memset(out, 0, sizeof(*out));
	if ((unsigned int)m >= __HT_M_MAX)
		return -EINVAL;
	err = report__rows(in, &rows, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		uint64_t v = report__metric_value(&rows[i].s, m);
		struct ht_named_stack *ns;
		uint32_t shown;

		if (!v)
			continue;
		err = report__stack(in, rows[i].stack, &st);
		if (err)
			goto out;
		shown = st.n ? st.n - st.first : 1;
		if (grow_array((void **)&out->v, &cap_v, out->n + 1, sizeof(*out->v)) ||
		    grow_array((void **)&out->names, &cap_names, nframes + shown,
			       sizeof(*out->names)) ||
		    grow_array((void **)&out->modules, &cap_mods, nframes + shown,
			       sizeof(*out->modules)) ||
		    grow_array((void **)&out->kinds, &cap_kinds, nframes + shown,
			       sizeof(*out->kinds))) {
			err = -ENOMEM;
			goto out;
		}
		ns = &out->v[out->n++];
		ns->value = v;
		ns->nr = shown;
		/* An offset for now: the arrays may still move. */
		ns->names = (const char **)(uintptr_t)nframes;
		if (!st.n) {
			out->names[nframes] = "[no stack]";
			out->modules[nframes] = NULL;
			out->kinds[nframes] = REPORT_CODE_UNKNOWN;
		}
		/* Innermost first in the walk, outermost first here. */
		for (uint32_t j = st.first; j < st.n; j++) {
			size_t k = nframes + st.n - 1 - j;

			out->names[k] = st.v[j].fr.function;
			out->modules[k] = st.v[j].fr.module;
			err = frame_code(in, &cc, &st.v[j], &out->kinds[k]);
			if (err)
				goto out;
		}
		nframes += shown;
	}
	for (size_t i = 0; i < out->n; i++) {
		size_t off = (size_t)(uintptr_t)out->v[i].names;

		out->v[i].names = &out->names[off];
		out->v[i].modules = &out->modules[off];
		out->v[i].kinds = &out->kinds[off];
	}
out:
	free(cc.mods);
	free(cc.program);
	report__stack_free(&st);
	free(rows);
	if (err)
		report__named_stacks_free(out);
	return err;
}

/* Frame by frame, a shorter stack first: siblings come out sorted by name
 * and stacks sharing a prefix come out next to each other. */
static int cmp_frames(const void *a, const void *b)
{
	const struct ht_named_stack *x = a, *y = b;
	uint32_t n = x->nr < y->nr ? x->nr : y->nr;
	int c;

	for (uint32_t i = 0; i < n; i++) {
		c = strcmp(x->names[i], y->names[i]);
		if (c)
			return c;
	}
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

static int add_node(struct ht_flame *t, const char *name, const char *module, uint8_t kind,
		    uint32_t parent, uint32_t depth)
{
	struct ht_flame_node *nd;

	if (t->n >= UINT32_MAX)
		return -E2BIG;
	if (grow_array((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return -ENOMEM;
	nd = &t->v[t->n++];
	memset(nd, 0, sizeof(*nd));
	nd->name = name;
	nd->module = module;
	nd->kind = kind;
	nd->parent = parent;
	nd->depth = depth;
	if (depth > t->max_depth)
		t->max_depth = depth;
	return 0;
}

/*
 * The flame graph's tree: insert the sorted stacks. A stack can only share a node with the stack
 * before it, through the last child at each depth (the "path"), so new
 * nodes are appended in preorder and a node's children are in name order.
 */
int report__flame_build(struct ht_flame *t, struct ht_named_stacks *ns)
{
	uint32_t *path, path_len = 1, max_nr = 0;
	int err;

	for (size_t i = 0; i < ns->n; i++)
		if (ns->v[i].nr > max_nr)
			max_nr = ns->v[i].nr;
	path = calloc((size_t)max_nr + 1, sizeof(*path));
	if (!path)
		return -ENOMEM;
	err = add_node(t, "all", NULL, REPORT_CODE_UNKNOWN, 0, 0);
	if (err)
		goto out;
	qsort(ns->v, ns->n, sizeof(*ns->v), cmp_frames);
	for (size_t i = 0; i < ns->n; i++) {
		const struct ht_named_stack *st = &ns->v[i];
		bool shared = true;

		t->v[0].value += st->value;
		for (uint32_t d = 0; d < st->nr; d++) {
			uint32_t cur = path[d];

			if (shared && d + 1 < path_len &&
			    !strcmp(t->v[path[d + 1]].name, st->names[d])) {
				t->v[path[d + 1]].value += st->value;
				continue;
			}
			shared = false;
			err = add_node(t, st->names[d], st->modules[d], st->kinds[d], cur, d + 1);
			if (err)
				goto out;
			t->v[t->n - 1].value = st->value;
			path[d + 1] = (uint32_t)(t->n - 1);
			path_len = d + 2;
		}
	}
	/* Left edges: in preorder a parent is placed before its children. */
	for (size_t i = 1; i < t->n; i++) {
		struct ht_flame_node *p = &t->v[t->v[i].parent];

		t->v[i].off = p->next;
		t->v[i].next = p->next;
		p->next += t->v[i].value;
	}
out:
	free(path);
	return err;
}

void report__flame_free(struct ht_flame *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s does not
 * start one (overlong forms, surrogates and values past U+10FFFF are
 * invalid). */
static size_t utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	c = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

static void json_chars(FILE *f, const char *s, bool html)
{
	size_t len;

	for (; *s; s += len) {
		len = utf8_len(s);
		if (!len) {
			fputs("\\ufffd", f);
			len = 1;
		} else if (*s == '"' || *s == '\\') {
			fputc('\\', f);
			fputc(*s, f);
		} else if (*s == '\n') {
			fputs("\\n", f);
		} else if (*s == '\t') {
			fputs("\\t", f);
		} else if ((unsigned char)*s < 0x20 || (html && *s == '<')) {
			fprintf(f, "\\u%04x", (unsigned char)*s);
		} else {
			fwrite(s, 1, len, f);
		}
	}
}

void report__json_chars(FILE *f, const char *s)
{
	json_chars(f, s, false);
}

static void json_str(FILE *f, const char *s, bool html)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	json_chars(f, s, html);
	fputc('"', f);
}

void report__json_str(FILE *f, const char *s)
{
	json_str(f, s, false);
}

void report__json_html_str(FILE *f, const char *s)
{
	json_str(f, s, true);
}

void report__xml_put(FILE *f, const char *s, size_t max)
{
	size_t len;

	for (; *s && max; s += len, max--) {
		len = utf8_len(s);
		if (!len) {
			fputc('?', f);
			len = 1;
			continue;
		}
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		case '\t':
		case '\n':
		case '\r':
			fputc(' ', f);
			break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				fputc('?', f);
			else
				fwrite(s, 1, len, f);
		}
	}
}

/* Does s[0, i) end with "operator" (then '<' is no template list)? */
static bool after_operator(const char *s, size_t i)
{
	while (i && s[i - 1] == '<')
		i--;
	return i >= 8 && !strncmp(s + i - 8, "operator", 8);
}

void report__short_name(const char *s, char *buf, size_t len)
{
	size_t k = 0, depth = 0;

	if (!len)
		return;
	for (size_t i = 0; s[i] && k + 1 < len; i++) {
		if (s[i] == '<' && (depth || !after_operator(s, i))) {
			if (!depth++)
				buf[k++] = '<';
			continue;
		}
		if (s[i] == '>' && depth) {
			if (!--depth && k + 1 < len)
				buf[k++] = '>';
			continue;
		}
		if (!depth)
			buf[k++] = s[i];
	}
	buf[k] = '\0';
}

size_t report__utf8_len_at(const char *s)
{
	size_t n = utf8_len(s);

	return n ? n : 1;
}

/* Characters (not bytes) in s, an invalid byte counting as one. */
size_t report__utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s += report__utf8_len_at(s))
		n++;
	return n;
}

void report__bounds(const struct ht_loss *l, struct report_bounds *out)
{
	uint64_t known = l->ringbuf_full_allocs + l->ringbuf_full_frees + l->ringbuf_full_execs;
	uint64_t either = l->lost_events > known ? l->lost_events - known : 0;

	out->allocs_missing = l->ringbuf_full_allocs + either;
	out->frees_missing = l->ringbuf_full_frees + either;
}
