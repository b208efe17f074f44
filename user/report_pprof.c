// SPDX-License-Identifier: MIT
/*
 * pprof export: a perftools.profiles.Profile (profile.proto), built with
 * protobuf-c's generated code and streamed through zlib's gzip encoder,
 * as `pprof` and Go's runtime/pprof write heap profiles: sample types
 * alloc_objects, alloc_space, inuse_objects, inuse_space.
 *
 * Locations are deduplicated by address, functions by (name, file) and
 * mappings by module path. A location has one Line per source-level frame
 * at its address, the inlined calls first (innermost first), as pprof
 * expects. Allocator frames report__stack() hides are left out: a
 * location that loses only some of its inlined lines to that is a second
 * location at the same address.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "profile.pb-c.h"
#include "report.h"
#include "util.h"

struct pprof {
	const struct ht_report_input *in;
	struct ht_strtab st;
	/* Locations with every line of their address, and with its
	 * allocator lines cut (the same count at a given address); ids
	 * (1-based) by (name, file) string ids and by module. */
	struct ht_u64map loc_by_addr, loc_by_addr_cut, fn_by_key, map_by_file;
	Perftools__Profiles__Location *locs;
	size_t *loc_line;                        /* locs[i]'s first line */
	Perftools__Profiles__Line *lines;
	size_t nlocs, cap_locs, cap_loc_line, nlines, cap_lines;
	Perftools__Profiles__Function *fns;
	size_t nfns, cap_fns;
	Perftools__Profiles__Mapping *maps;
	bool *map_program;                       /* maps[i] is an executable */
	size_t nmaps, cap_maps, cap_map_program;
};

/* The value slot of key: *val is 0 when the key is new (the caller must
 * then store a nonzero value). */
static int map_slot(struct ht_u64map *m, uint64_t key, uint64_t **val)
{
	*val = u64map__insert(m, key, NULL);
	return *val ? 0 : -ENOMEM;
}

/* The string table index of s, adding it on first use. */
static int str_id(struct ht_strtab *st, const char *s, int64_t *out)
{
	uint32_t id;
	int err;

	if (!s)
		s = "";
	err = strtab__intern(st, s, strlen(s), &id);
	*out = id;
	return err;
}

static int mapping_id(struct pprof *p, const struct ht_frame *fr, uint64_t *id)
{
	Perftools__Profiles__Mapping *mp;
	struct ht_object obj;
	int64_t file;
	uint64_t *slot;
	int err;

	*id = 0;
	if (!fr->module)
		return 0;
	err = str_id(&p->st, fr->module, &file);
	if (!err)
		err = map_slot(&p->map_by_file, (uint64_t)file, &slot);
	if (err)
		return err;
	if (!*slot) {
		if (grow_array((void **)&p->maps, &p->cap_maps, p->nmaps + 1, sizeof(*p->maps)) ||
		    grow_array((void **)&p->map_program, &p->cap_map_program, p->nmaps + 1,
			       sizeof(*p->map_program)))
			return -ENOMEM;
		mp = &p->maps[p->nmaps];
		perftools__profiles__mapping__init(mp);
		/* Where the object sits, so that pprof finds the code of an
		 * address in the file (-disasm, -weblist). */
		err = symbolizer__object(p->in->sym, fr->address, &obj);
		if (err && err != -ENOENT)
			return err;
		mp->memory_start = obj.start;
		mp->memory_limit = obj.limit;
		mp->file_offset = obj.file_offset;
		err = str_id(&p->st, obj.build_id, &mp->build_id);
		if (err)
			return err;
		p->map_program[p->nmaps] = obj.program;
		mp->id = ++p->nmaps;
		mp->filename = file;
		*slot = mp->id;
	}
	mp = &p->maps[*slot - 1];
	/* Every location has a function, a placeholder at worst: pprof
	 * need not symbolize it again. */
	mp->has_functions = true;
	mp->has_filenames |= fr->file != NULL;
	mp->has_line_numbers |= fr->line > 0;
	*id = *slot;
	return 0;
}

static int function_id(struct pprof *p, const struct ht_report_frame *f, uint64_t *id)
{
	Perftools__Profiles__Function *fn;
	int64_t name, file;
	uint64_t *slot;
	int err;

	err = str_id(&p->st, f->fr.function, &name);
	/* Absolute, so that -list finds the source from any directory. */
	if (!err)
		err = str_id(&p->st, f->src.path ? f->src.path : f->fr.file, &file);
	if (!err)
		err = map_slot(&p->fn_by_key, (uint64_t)name << 32 | (uint64_t)file, &slot);
	if (err)
		return err;
	if (!*slot) {
		if (grow_array((void **)&p->fns, &p->cap_fns, p->nfns + 1, sizeof(*p->fns)))
			return -ENOMEM;
		fn = &p->fns[p->nfns++];
		perftools__profiles__function__init(fn);
		fn->id = p->nfns;
		fn->name = name;
		/* Names are already demangled; the symbolizer keeps no other. */
		fn->system_name = name;
		fn->filename = file;
		fn->start_line = f->src.start_line;
		*slot = fn->id;
	}
	*id = *slot;
	return 0;
}

/* The location of the frames v[0, n) of one return address. */
static int location_id(struct pprof *p, const struct ht_report_frame *v, uint32_t n, uint64_t *id)
{
	Perftools__Profiles__Location *loc;
	uint64_t *slot, map, fn;
	int err;

	err = map_slot(v[0].pos ? &p->loc_by_addr_cut : &p->loc_by_addr, v[0].fr.address, &slot);
	if (err)
		return err;
	if (*slot) {
		*id = *slot;
		return 0;
	}
	/* The real function (last) owns the address's module. */
	err = mapping_id(p, &v[n - 1].fr, &map);
	if (err)
		return err;
	if (grow_array((void **)&p->locs, &p->cap_locs, p->nlocs + 1, sizeof(*p->locs)) ||
	    grow_array((void **)&p->loc_line, &p->cap_loc_line, p->nlocs + 1,
		       sizeof(*p->loc_line)) ||
	    grow_array((void **)&p->lines, &p->cap_lines, p->nlines + n, sizeof(*p->lines)))
		return -ENOMEM;
	loc = &p->locs[p->nlocs];
	p->loc_line[p->nlocs++] = p->nlines;
	perftools__profiles__location__init(loc);
	loc->id = p->nlocs;
	loc->mapping_id = map;
	loc->address = v[0].fr.address;
	loc->n_line = n;
	for (uint32_t i = 0; i < n; i++) {
		Perftools__Profiles__Line *line = &p->lines[p->nlines++];

		err = function_id(p, &v[i], &fn);
		if (err)
			return err;
		perftools__profiles__line__init(line);
		line->function_id = fn;
		line->line = v[i].fr.line;
	}
	if (n > 1 && map)
		p->maps[map - 1].has_inline_frames = true;
	*slot = *id = loc->id;
	return 0;
}

/* A ProtobufCBuffer that gzips what protobuf-c packs straight into a
 * FILE, so the serialized profile never sits in memory whole. */
struct gz_out {
	ProtobufCBuffer base;    /* first: protobuf-c passes &base */
	z_stream z;
	FILE *f;
	int err;
	unsigned char buf[16384];
};

static int gz_run(struct gz_out *g, int flush)
{
	size_t have;
	int ret;

	do {
		g->z.next_out = g->buf;
		g->z.avail_out = sizeof(g->buf);
		ret = deflate(&g->z, flush);
		if (ret == Z_STREAM_ERROR)
			return -EIO;
		have = sizeof(g->buf) - g->z.avail_out;
		if (have && fwrite(g->buf, 1, have, g->f) != have)
			return -EIO;
	} while (g->z.avail_out == 0);
	return flush == Z_FINISH && ret != Z_STREAM_END ? -EIO : 0;
}

static void gz_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	struct gz_out *g = (struct gz_out *)b;

	while (len && !g->err) {
		uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;

		g->z.next_in = (Bytef *)data;
		g->z.avail_in = n;
		g->err = gz_run(g, Z_NO_FLUSH);
		data += n;
		len -= n;
	}
}

static int write_gzip(FILE *f, const Perftools__Profiles__Profile *prof)
{
	struct gz_out *g = calloc(1, sizeof(*g));
	int err;

	if (!g)
		return -ENOMEM;
	g->base.append = gz_append;
	g->f = f;
	/* windowBits 15 + 16: a gzip header and trailer, as pprof expects. */
	if (deflateInit2(&g->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return -ENOMEM;
	}
	perftools__profiles__profile__pack_to_buffer(prof, &g->base);
	if (!g->err) {
		g->z.next_in = NULL;
		g->z.avail_in = 0;
		g->err = gz_run(g, Z_FINISH);
	}
	err = g->err;
	deflateEnd(&g->z);
	free(g);
	return err;
}

static void pprof_free(struct pprof *p)
{
	strtab__free(&p->st);
	u64map__free(&p->loc_by_addr);
	u64map__free(&p->loc_by_addr_cut);
	u64map__free(&p->fn_by_key);
	u64map__free(&p->map_by_file);
	free(p->locs);
	free(p->loc_line);
	free(p->lines);
	free(p->fns);
	free(p->maps);
	free(p->map_program);
}

enum { V_ALLOCS, V_ALLOC_BYTES, V_LIVE_BLOCKS, V_LIVE_BYTES, NR_VALUES };

/* Everything the Profile points to that is not in struct pprof. */
struct pprof_arrays {
	Perftools__Profiles__Sample *samples;
	Perftools__Profiles__Sample **sample_ptrs;
	int64_t *values;
	uint64_t *loc_ids;
	Perftools__Profiles__Location **loc_ptrs;
	Perftools__Profiles__Line **line_ptrs;
	Perftools__Profiles__Function **fn_ptrs;
	Perftools__Profiles__Mapping **map_ptrs;
};

static void arrays_free(struct pprof_arrays *a)
{
	free(a->samples);
	free(a->sample_ptrs);
	free(a->values);
	free(a->loc_ids);
	free(a->loc_ptrs);
	free(a->line_ptrs);
	free(a->fn_ptrs);
	free(a->map_ptrs);
}

static int add_samples(struct pprof *p, struct pprof_arrays *a,
		       const struct ht_report_row *rows, size_t n)
{
	struct ht_report_stack st = { 0 };
	size_t nlocs = 0, cap_ids = 0;
	int err = 0;

	a->samples = calloc(n ? n : 1, sizeof(*a->samples));
	a->sample_ptrs = calloc(n ? n : 1, sizeof(*a->sample_ptrs));
	a->values = calloc(n ? n * NR_VALUES : 1, sizeof(*a->values));
	if (!a->samples || !a->sample_ptrs || !a->values)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		Perftools__Profiles__Sample *s = &a->samples[i];
		int64_t *v = &a->values[i * NR_VALUES];

		perftools__profiles__sample__init(s);
		err = report__stack(p->in, rows[i].stack, &st);
		if (err)
			goto out;
		/* Both leaf first: the walk's order is pprof's. One location
		 * per return address, with the lines shown there. */
		for (uint32_t j = st.first, k; j < st.n; j = k) {
			for (k = j + 1; k < st.n && st.v[k].fr.address == st.v[j].fr.address &&
					st.v[k].pos > st.v[k - 1].pos; k++)
				;
			if (grow_array((void **)&a->loc_ids, &cap_ids, nlocs + 1,
				       sizeof(*a->loc_ids))) {
				err = -ENOMEM;
				goto out;
			}
			err = location_id(p, &st.v[j], k - j, &a->loc_ids[nlocs++]);
			if (err)
				goto out;
			s->n_location_id++;
		}
		v[V_ALLOCS] = (int64_t)rows[i].s.allocs;
		v[V_ALLOC_BYTES] = (int64_t)rows[i].s.alloc_bytes;
		v[V_LIVE_BLOCKS] = (int64_t)rows[i].s.live_blocks;
		v[V_LIVE_BYTES] = (int64_t)rows[i].s.live_bytes;
		s->value = v;
		s->n_value = NR_VALUES;
		a->sample_ptrs[i] = s;
	}
	/* loc_ids has stopped moving: point each sample into it. */
	nlocs = 0;
	for (size_t i = 0; i < n; i++) {
		a->samples[i].location_id = a->loc_ids ? &a->loc_ids[nlocs] : NULL;
		nlocs += a->samples[i].n_location_id;
	}
out:
	report__stack_free(&st);
	return err;
}

/*
 * pprof names a profile after its first mapping ("File:") and takes it
 * for the main binary: the first executable object (not a library)
 * goes first, the ids following the new order.
 */
static void program_first(struct pprof *p, struct pprof_arrays *a)
{
	size_t k;

	for (k = 0; k < p->nmaps && !p->map_program[k]; k++)
		;
	if (!k || k == p->nmaps)
		return;
	memmove(&a->map_ptrs[1], &a->map_ptrs[0], k * sizeof(*a->map_ptrs));
	a->map_ptrs[0] = &p->maps[k];
	for (size_t i = 0; i <= k; i++)
		a->map_ptrs[i]->id = i + 1;
	/* Old ids 1..k are now 2..k+1; k+1 is 1. */
	for (size_t i = 0; i < p->nlocs; i++) {
		uint64_t *m = &p->locs[i].mapping_id;

		if (*m && *m <= k)
			(*m)++;
		else if (*m == k + 1)
			*m = 1;
	}
}

/* Pointer arrays last: the element arrays above moved while growing. */
static int link_arrays(struct pprof *p, struct pprof_arrays *a)
{
	a->loc_ptrs = calloc(p->nlocs ? p->nlocs : 1, sizeof(*a->loc_ptrs));
	a->line_ptrs = calloc(p->nlines ? p->nlines : 1, sizeof(*a->line_ptrs));
	a->fn_ptrs = calloc(p->nfns ? p->nfns : 1, sizeof(*a->fn_ptrs));
	a->map_ptrs = calloc(p->nmaps ? p->nmaps : 1, sizeof(*a->map_ptrs));
	if (!a->loc_ptrs || !a->line_ptrs || !a->fn_ptrs || !a->map_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < p->nlines; i++)
		a->line_ptrs[i] = &p->lines[i];
	for (size_t i = 0; i < p->nlocs; i++) {
		a->loc_ptrs[i] = &p->locs[i];
		p->locs[i].line = &a->line_ptrs[p->loc_line[i]];
	}
	for (size_t i = 0; i < p->nfns; i++)
		a->fn_ptrs[i] = &p->fns[i];
	for (size_t i = 0; i < p->nmaps; i++)
		a->map_ptrs[i] = &p->maps[i];
	program_first(p, a);
	return 0;
}

int report__pprof(FILE *f, const struct ht_report_input *in)
{
	static const char *const types[NR_VALUES][2] = {
		[V_ALLOCS] = { "alloc_objects", "count" },
		[V_ALLOC_BYTES] = { "alloc_space", "bytes" },
		[V_LIVE_BLOCKS] = { "inuse_objects", "count" },
		[V_LIVE_BYTES] = { "inuse_space", "bytes" },
	};
	Perftools__Profiles__Profile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt[NR_VALUES], period_type;
	Perftools__Profiles__ValueType *vt_ptrs[NR_VALUES];
	struct pprof p = { .in = in };
	struct pprof_arrays a = { 0 };
	char comment[2][256];
	int64_t comments[2], empty;
	size_t ncomments = 0;
	struct ht_report_row *rows = NULL;
	size_t n;
	int err;

	err = str_id(&p.st, "", &empty);    /* index 0 must be "" */
	for (int i = 0; i < NR_VALUES && !err; i++) {
		perftools__profiles__value_type__init(&vt[i]);
		err = str_id(&p.st, types[i][0], &vt[i].type);
		if (!err)
			err = str_id(&p.st, types[i][1], &vt[i].unit);
		vt_ptrs[i] = &vt[i];
	}
	perftools__profiles__value_type__init(&period_type);
	if (!err)
		err = str_id(&p.st, "space", &period_type.type);
	if (!err)
		err = str_id(&p.st, "bytes", &period_type.unit);
	if (!err)
		err = str_id(&p.st, "inuse_space", &prof.default_sample_type);
	snprintf(comment[ncomments], sizeof(comment[0]), "heaptrace: PID %d (%s)", in->target.pid,
		 in->target.command ? in->target.command : "?");
	if (!err)
		err = str_id(&p.st, comment[ncomments], &comments[ncomments]);
	ncomments++;
	if (in->loss.lost_events) {
		snprintf(comment[ncomments], sizeof(comment[0]),
			 "%llu events lost: all numbers are lower bounds",
			 (unsigned long long)in->loss.lost_events);
		if (!err)
			err = str_id(&p.st, comment[ncomments], &comments[ncomments]);
		ncomments++;
	}
	if (!err)
		err = report__rows(in, &rows, &n);
	if (!err)
		err = add_samples(&p, &a, rows, n);
	if (!err)
		err = link_arrays(&p, &a);
	if (err)
		goto out;
	prof.sample_type = vt_ptrs;
	prof.n_sample_type = NR_VALUES;
	prof.sample = a.sample_ptrs;
	prof.n_sample = n;
	prof.mapping = a.map_ptrs;
	prof.n_mapping = p.nmaps;
	prof.location = a.loc_ptrs;
	prof.n_location = p.nlocs;
	prof.function = a.fn_ptrs;
	prof.n_function = p.nfns;
	prof.string_table = p.st.v;
	prof.n_string_table = p.st.n;
	/* Collected now: the profile covers the time since tracing began. */
	prof.duration_nanos = (int64_t)(in->target.duration_s * 1e9 + 0.5);
	prof.time_nanos = (int64_t)in->target.start_unix_ns + prof.duration_nanos;
	prof.period_type = &period_type;
	prof.period = 1;
	prof.comment = comments;
	prof.n_comment = ncomments;
	err = write_gzip(f, &prof);
	if (!err && ferror(f))
		err = -EIO;
out:
	free(rows);
	arrays_free(&a);
	pprof_free(&p);
	return err;
}
