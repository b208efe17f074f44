// SPDX-License-Identifier: MIT
/*
 * Each module gets a Dwfl of its own, reported once (at the load bias
 * modules.c computed, from the descriptor it opened through
 * /proc/PID/map_files), so modules that reuse an address range (dlclose,
 * then dlopen) never collide. Debug files are found by libdwfl's standard
 * search: /usr/lib/debug/.build-id/xx/yyyy.debug by build-id, then
 * .gnu_debuglink next to the file, in .debug/ and under /usr/lib/debug.
 *
 * An address's frames come from the DWARF scopes that contain it: the
 * inlined_subroutine DIEs from the innermost out, then the subprogram.
 * Each frame's line is where execution is inside that function: the line
 * table's line at the address for the innermost, the DW_AT_call_file/
 * DW_AT_call_line of the inlined instance it contains for the others.
 */
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libiberty/demangle.h>
#include "dwindex.h"
#include "modules.h"
#include "perfmap.h"
#include "symbolize.h"
#include "util.h"

/* Debug files in the target's root too, when that is not ours. */
#define DEBUGINFO_PATH ":.debug:/usr/lib/debug"

/* A module's libdwfl view, kept in its HT_MOD_SYMBOLS slot. */
struct symmod {
	Dwfl_Callbacks cb;            /* libdwfl keeps a pointer to it */
	char *debuginfo_path;
	Dwfl *dwfl;
	Dwfl_Module *dm;
	bool syms_tried;
	struct ht_symidx *syms;       /* built on first use */
	struct ht_scopeidx *scopes;   /* CUs indexed on first use */
};

/* The frames of one address, innermost first. */
struct cached {
	int n;
	struct ht_frame *f;
	struct ht_frame_src *src;   /* beside f */
};

struct ht_symbolizer {
	struct ht_modules *ms;
	struct ht_symbolizer_opts opts;
	Dwfl_Callbacks cb;
	char *debuginfo_path;
	char *root;             /* "/proc/PID/root" when the target's root isn't ours */
	struct ht_perfmap *perfmap;
	struct ht_strtab strs;  /* many addresses share a function or a file */
	struct ht_u64map by_addr;  /* address -> index in cache */
	struct cached *cache;
	size_t ncached, cap_cache;
};

static const char *intern(struct ht_symbolizer *s, const char *str)
{
	return strtab__str(&s->strs, str);
}

/* Is the target's root directory another one than ours (a container)? */
static bool other_root(int pid)
{
	struct stat a, b;
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/root", pid);
	if (stat(p, &a) || stat("/", &b))
		return false;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

struct ht_symbolizer *symbolizer__new(struct ht_modules *ms,
				      const struct ht_symbolizer_opts *opts)
{
	struct ht_symbolizer *s = calloc(1, sizeof(*s));
	int pid = modules__pid(ms);
	char buf[128];

	if (!s)
		return NULL;
	s->ms = ms;
	if (opts)
		s->opts = *opts;
	if (pid > 0 && other_root(pid)) {
		snprintf(buf, sizeof(buf), "/proc/%d/root", pid);
		s->root = strdup(buf);
		snprintf(buf, sizeof(buf), "%s:/proc/%d/root/usr/lib/debug", DEBUGINFO_PATH, pid);
		s->debuginfo_path = strdup(buf);
		if (!s->root || !s->debuginfo_path)
			goto err;
	}
	s->cb.find_elf = dwfl_build_id_find_elf;
	s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	s->cb.section_address = dwfl_offline_section_address;
	s->cb.debuginfo_path = &s->debuginfo_path;
	s->perfmap = pid > 0 ? perfmap__new(pid) : NULL;
	if (pid > 0 && !s->perfmap)
		goto err;
	return s;
err:
	symbolizer__free(s);
	errno = ENOMEM;
	return NULL;
}

void symbolizer__free(struct ht_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncached; i++) {
		free(s->cache[i].f);
		free(s->cache[i].src);
	}
	free(s->cache);
	u64map__free(&s->by_addr);
	strtab__free(&s->strs);
	perfmap__free(s->perfmap);
	free(s->root);
	free(s->debuginfo_path);
	free(s);
}

/*
 * The path libdwfl looks for .gnu_debuglink files from (next to it, in
 * .debug/ beside it, under /usr/lib/debug/DIR): the module's own path if
 * that is the mapped file, else in the target's root. /proc/PID/maps
 * names files as seen from our root when we can reach them (a chroot)
 * and as the target sees them otherwise (another mount namespace).
 */
static void debuglink_base(const struct ht_symbolizer *s, const struct ht_module *m,
			   char *buf, size_t len)
{
	struct stat mapped, st;

	if (!s->root || fstat(m->fd, &mapped) ||
	    (!stat(m->path, &st) && st.st_dev == mapped.st_dev && st.st_ino == mapped.st_ino)) {
		snprintf(buf, len, "%s", m->path);
		return;
	}
	snprintf(buf, len, "%s%s", s->root, m->path);
}

static void symmod_free(void *data)
{
	struct symmod *sm = data;

	symidx__free(sm->syms);
	scopeidx__free(sm->scopes);
	if (sm->dwfl)
		dwfl_end(sm->dwfl);
	free(sm->debuginfo_path);
	free(sm);
}

/*
 * The module's libdwfl view, reported the first time it is needed (once
 * the module is open and placed) and kept with the module: symbolizers
 * over one table share it.
 */
static struct symmod *module_dwfl(struct ht_symbolizer *s, struct ht_module *m)
{
	struct ht_module_ext *x = &m->ext[HT_MOD_SYMBOLS];
	struct symmod *sm = x->data;
	char path[4096];
	int fd;

	if (m->fd < 0 || !m->bias_known)
		return NULL;  /* unreadable, or not placed (yet) */
	if (x->free)
		return sm->dm ? sm : NULL;
	sm = calloc(1, sizeof(*sm));
	if (!sm)
		return NULL;
	sm->cb = s->cb;
	sm->debuginfo_path = s->debuginfo_path ? strdup(s->debuginfo_path) : NULL;
	sm->cb.debuginfo_path = &sm->debuginfo_path;
	if (s->debuginfo_path && !sm->debuginfo_path) {
		free(sm);
		return NULL;
	}
	x->data = sm;
	x->free = symmod_free;
	sm->dwfl = dwfl_begin(&sm->cb);
	if (!sm->dwfl)
		return NULL;
	fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	debuglink_base(s, m, path, sizeof(path));
	dwfl_report_begin(sm->dwfl);
	sm->dm = dwfl_report_elf(sm->dwfl, m->path, path, fd, m->bias, true);
	if (!sm->dm)
		close(fd);
	dwfl_report_end(sm->dwfl, NULL, NULL);
	return sm->dm ? sm : NULL;
}

static bool is_mangled(const char *name)
{
	return name[0] == '_' && (name[1] == 'Z' || name[1] == 'R');
}

char *symbolizer__demangle(const char *name, bool no_demangle)
{
	const char *at = strchr(name, '@');
	char *plain = NULL, *d = NULL;

	/* "__libc_start_main@@GLIBC_2.34": the version is not the name. */
	if (at && at != name) {
		plain = strndup(name, (size_t)(at - name));
		if (!plain)
			return NULL;
		name = plain;
	}
	/*
	 * DMGL_AUTO tries Rust first (legacy _ZN...17h<hash>E names overlap
	 * the C++ ABI; without DMGL_VERBOSE the hash is left out; v0 _R
	 * names), then the C++ ABI.
	 */
	if (!no_demangle && is_mangled(name))
		d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
	if (d) {
		free(plain);
		return d;
	}
	return plain ? plain : strdup(name);
}

/* The interned name to show for a symbol (ELF or DWARF). */
static const char *show_name(struct ht_symbolizer *s, const char *name)
{
	size_t len = strlen(name);
	char *d, *unquoted = NULL;
	const char *r;

	/* gcc copies an asm("\"name\"") label, quotes and all, into
	 * DW_AT_linkage_name; the symbol has no quotes. */
	if (len > 2 && name[0] == '"' && name[len - 1] == '"') {
		unquoted = strndup(name + 1, len - 2);
		if (!unquoted)
			return NULL;
		name = unquoted;
	}
	d = symbolizer__demangle(name, s->opts.no_demangle);
	free(unquoted);
	if (!d)
		return NULL;
	r = intern(s, d);
	free(d);
	return r;
}

static const char *die_string(Dwarf_Die *die, int attr)
{
	Dwarf_Attribute a;
	const char *n;

	if (!dwarf_attr_integrate(die, attr, &a))
		return NULL;
	n = dwarf_formstring(&a);
	return n && *n ? n : NULL;
}

/*
 * The name of a function DIE, as gdb shows it: its linkage name (through
 * abstract origins and specifications) if it has one; else, for the real
 * function, a mangled symbol (C++/Rust, qualified and with parameters);
 * else its DWARF name (C: "msort_with_tmp", not the symbol of gcc's
 * partial clone "msort_with_tmp.part.0"); else the symbol.
 */
static const char *die_function(Dwarf_Die *die, const char *sym)
{
	const char *n = die_string(die, DW_AT_linkage_name);

	if (!n)
		n = die_string(die, DW_AT_MIPS_linkage_name);
	if (!n && sym && is_mangled(sym))
		n = sym;
	if (!n)
		n = die_string(die, DW_AT_name);
	return n ? n : sym;
}

/* Where an inlined instance was called from: DW_AT_call_file/line. */
static void call_site(struct ht_symbolizer *s, Dwarf_Die *inl, struct ht_frame *f)
{
	Dwarf_Attribute a;
	Dwarf_Word idx, line;
	Dwarf_Files *files;
	Dwarf_Die cu;
	size_t nfiles;
	const char *file;

	if (!dwarf_attr(inl, DW_AT_call_line, &a) || dwarf_formudata(&a, &line) || !line ||
	    line > 0x7fffffff)
		return;
	if (!dwarf_attr(inl, DW_AT_call_file, &a) || dwarf_formudata(&a, &idx) ||
	    !dwarf_diecu(inl, &cu, NULL, NULL) || dwarf_getsrcfiles(&cu, &files, &nfiles) ||
	    idx >= nfiles)
		return;
	file = dwarf_filesrc(files, idx, NULL, NULL);
	if (!file)
		return;
	f->file = intern(s, file);
	f->line = f->file ? (int)line : 0;
}

/* The line table's file:line at pc. */
static void pc_line(struct ht_symbolizer *s, Dwfl_Module *dm, uint64_t pc, struct ht_frame *f)
{
	Dwfl_Line *l = dwfl_module_getsrc(dm, pc);
	const char *file;
	int line = 0;

	if (!l)
		return;
	file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
	if (!file || line <= 0)
		return;
	f->file = intern(s, file);
	f->line = f->file ? line : 0;
}

/* The module's base name without " (deleted)", plus an offset. */
static const char *placeholder(struct ht_symbolizer *s, const struct ht_module *m,
			       uint64_t off)
{
	const char *base = strrchr(m->path, '/');
	char buf[512];
	size_t len;

	base = base ? base + 1 : m->path;
	len = strlen(base);
	if (len > 10 && !strcmp(base + len - 10, " (deleted)"))
		len -= 10;
	if (len > 400)
		len = 400;
	snprintf(buf, sizeof(buf), "%.*s+0x%llx", (int)len, base, (unsigned long long)off);
	return intern(s, buf);
}

/*
 * The frames of pc from the DWARF of its CU, innermost first, at most max;
 * the outermost (the real function) is named sym when the symbol table
 * knows it. Returns the number of frames, 0 when no function of the CU
 * covers pc (then *line_ok says if the CU's line table may still be
 * trusted for pc: only if the CU has no functions at all, like assembly
 * from an older gas), or -ENOMEM.
 */
static int dwarf_frames(struct ht_symbolizer *s, struct symmod *sm, Dwarf_Die *cu,
			Dwarf_Addr bias, uint64_t pc, const char *sym, struct ht_frame *fr,
			struct ht_frame_src *src, int max, bool *line_ok)
{
	Dwarf_Die funcs[64];
	bool has_code;
	int nf, n = 0, decl;

	*line_ok = false;
	if (!sm->scopes) {
		sm->scopes = scopeidx__new();
		if (!sm->scopes)
			return -ENOMEM;
	}
	nf = scopeidx__find(sm->scopes, cu, pc - bias, funcs, (int)ARRAY_SIZE(funcs), &has_code);
	if (nf < 0)
		return nf == -ENOMEM ? nf : 0;  /* DWARF it cannot read: none */
	*line_ok = !has_code;
	for (int i = 0; i < nf; i++) {
		bool inl = dwarf_tag(&funcs[i]) == DW_TAG_inlined_subroutine;
		struct ht_frame *f;
		const char *name;

		/* Too deep: keep the innermost ones and the real function. */
		if (n == max - 1 && i < nf - 1 && inl)
			continue;
		f = &fr[n++];
		f->inlined = inl;
		name = die_function(&funcs[i], inl ? NULL : sym);
		if (name) {
			f->function = show_name(s, name);
			f->known = f->function != NULL;
		} else if (inl) {
			f->function = intern(s, "[inlined]");
		}
		if (i == 0)
			pc_line(s, sm->dm, pc, f);
		else
			call_site(s, &funcs[i - 1], f);
		/* Through the abstract origin for an inlined instance. */
		if (!dwarf_decl_line(&funcs[i], &decl) && decl > 0)
			src[n - 1].start_line = decl;
	}
	/* Only inlined scopes (odd DWARF): the symbol is the real function. */
	if (nf && dwarf_tag(&funcs[nf - 1]) == DW_TAG_inlined_subroutine && sym) {
		struct ht_frame *f = &fr[n < max ? n++ : max - 1];

		memset(f, 0, sizeof(*f));
		f->function = show_name(s, sym);
		f->known = f->function != NULL;
		call_site(s, &funcs[nf - 1], f);
	}
	return n;
}

/* Relative source paths of the CU's frames joined with its comp_dir. */
static void absolute_paths(struct ht_symbolizer *s, Dwarf_Die *cu, const struct ht_frame *fr,
			   struct ht_frame_src *src, int n)
{
	const char *dir = die_string(cu, DW_AT_comp_dir);
	char buf[4096];

	for (int i = 0; i < n; i++) {
		if (!fr[i].file || fr[i].file[0] == '/') {
			src[i].path = fr[i].file;
			continue;
		}
		if (!dir || snprintf(buf, sizeof(buf), "%s/%s", dir, fr[i].file) >=
			    (int)sizeof(buf))
			continue;
		src[i].path = intern(s, buf);
	}
}

/* All frames of a return address into fr and src (HT_MAX_INLINE); the
 * count. */
static int resolve(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *fr,
		   struct ht_frame_src *src)
{
	uint64_t pc = addr - 1, off;
	struct ht_module *m = modules__find(s->ms, pc);
	const char *sym = NULL, *name;
	struct symmod *sm;
	char buf[64];
	int n = 0;

	memset(fr, 0, HT_MAX_INLINE * sizeof(*fr));
	memset(src, 0, HT_MAX_INLINE * sizeof(*src));
	if (!m) {
		/* JIT code, named by the target's perf map, or nothing. */
		name = s->perfmap ? perfmap__lookup(s->perfmap, pc) : NULL;
		if (name) {
			fr[0].function = intern(s, name);
			fr[0].module = perfmap__display(s->perfmap);
			fr[0].known = true;
		} else {
			snprintf(buf, sizeof(buf), "[unknown]+0x%llx", (unsigned long long)addr);
			fr[0].function = intern(s, buf);
		}
		n = 1;
		goto out;
	}
	sm = module_dwfl(s, m);
	if (sm) {
		Dwarf_Addr bias = 0;
		bool line_ok = false;
		Dwarf_Die *cu;

		if (!sm->syms_tried) {
			sm->syms_tried = true;
			sm->syms = symidx__new(sm->dm);
		}
		sym = sm->syms ? symidx__find(sm->syms, sm->dm, pc) : NULL;
		/*
		 * libdwfl hands out the CU before a gap between CUs (crt1's
		 * _start, code without DWARF) and that CU's last line: only a
		 * CU that really covers pc is used.
		 */
		cu = dwfl_module_addrdie(sm->dm, pc, &bias);
		if (cu && dwarf_haspc(cu, pc - bias) <= 0)
			cu = NULL;
		n = cu ? dwarf_frames(s, sm, cu, bias, pc, sym, fr, src, HT_MAX_INLINE, &line_ok)
		       : 0;
		if (n < 0)
			return n;
		if (!n) {
			n = 1;
			if (sym) {
				fr[0].function = show_name(s, sym);
				fr[0].known = fr[0].function != NULL;
			}
			if (cu && line_ok)
				pc_line(s, sm->dm, pc, &fr[0]);
		}
		if (cu)
			absolute_paths(s, cu, fr, src, n);
	} else {
		n = 1;
	}
	for (int i = 0; i < n; i++)
		fr[i].module = m->path;
	if (!fr[n - 1].function) {
		/* ELF address when the load bias is known, else file offset. */
		if (m->bias_known)
			off = pc - m->bias;
		else if (modules__file_offset(s->ms, pc, &off))
			off = pc - m->bias;
		fr[n - 1].function = placeholder(s, m, off);
		fr[n - 1].known = false;
	}
out:
	for (int i = 0; i < n; i++) {
		fr[i].address = addr;
		if (!fr[i].function)
			return -ENOMEM;
	}
	return n;
}

/* The cache entry of addr (!= 0), resolved on first use. */
static int lookup(struct ht_symbolizer *s, uint64_t addr, const struct cached **out)
{
	struct ht_frame fr[HT_MAX_INLINE];
	struct ht_frame_src src[HT_MAX_INLINE];
	struct cached *c;
	uint64_t *idx;
	bool added;
	int n;

	idx = u64map__find(&s->by_addr, addr);
	if (idx) {
		*out = &s->cache[*idx];
		return 0;
	}
	if (grow_array((void **)&s->cache, &s->cap_cache, s->ncached + 1, sizeof(*s->cache)))
		return -ENOMEM;
	n = resolve(s, addr, fr, src);
	if (n < 0)
		return n;
	c = &s->cache[s->ncached];
	c->f = malloc((size_t)n * sizeof(*c->f));
	c->src = malloc((size_t)n * sizeof(*c->src));
	idx = c->f && c->src ? u64map__insert(&s->by_addr, addr, &added) : NULL;
	if (!idx) {
		free(c->f);
		free(c->src);
		return -ENOMEM;
	}
	memcpy(c->f, fr, (size_t)n * sizeof(*c->f));
	memcpy(c->src, src, (size_t)n * sizeof(*c->src));
	c->n = n;
	*idx = s->ncached++;
	*out = c;
	return 0;
}

static void unknown_frame(struct ht_frame *out)
{
	memset(out, 0, sizeof(*out));
	out->function = "[unknown]";
}

int symbolizer__resolve(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *out)
{
	const struct cached *c;
	int err;

	if (!addr) {
		unknown_frame(out);
		return 0;
	}
	err = lookup(s, addr, &c);
	if (err)
		return err;
	/* The real function, at its own line. */
	*out = c->f[c->n - 1];
	return 0;
}

int symbolizer__resolve_src(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *out,
			    struct ht_frame_src *src, int max)
{
	const struct cached *c;
	int err, n;

	if (max < 1)
		return -EINVAL;
	if (!addr) {
		unknown_frame(out);
		if (src)
			memset(src, 0, sizeof(*src));
		return 1;
	}
	err = lookup(s, addr, &c);
	if (err)
		return err;
	n = c->n <= max ? c->n : max;
	/* Cut short: the innermost frames, then the real function. */
	memcpy(out, c->f, (size_t)(n - 1) * sizeof(*out));
	out[n - 1] = c->f[c->n - 1];
	if (src) {
		memcpy(src, c->src, (size_t)(n - 1) * sizeof(*src));
		src[n - 1] = c->src[c->n - 1];
	}
	return n;
}

int symbolizer__resolve_inline(struct ht_symbolizer *s, uint64_t addr, struct ht_frame *out,
			       int max)
{
	return symbolizer__resolve_src(s, addr, out, NULL, max);
}

/* ET_EXEC, or ET_DYN marked DF_1_PIE: a program, not a library. */
static bool is_program(Elf *elf)
{
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;

	if (!gelf_getehdr(elf, &eh))
		return false;
	if (eh.e_type == ET_EXEC)
		return true;
	if (eh.e_type != ET_DYN)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++)
			if (gelf_getdyn(d, (int)i, &dyn) && dyn.d_tag == DT_FLAGS_1)
				return (dyn.d_un.d_val & DF_1_PIE) != 0;
	}
	return false;
}

/* The mapping the kernel made of the PT_LOAD segment holding pc: from
 * its page, at its page's file offset, as /proc/PID/maps shows it. */
static void load_segment(Elf *elf, Dwarf_Addr bias, uint64_t pc, struct ht_object *out)
{
	const uint64_t page = 4096;
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		uint64_t lo;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		lo = bias + ph.p_vaddr;
		if (pc < lo || pc >= lo + ph.p_memsz)
			continue;
		out->start = lo & ~(page - 1);
		out->limit = (lo + ph.p_memsz + page - 1) & ~(page - 1);
		out->file_offset = ph.p_offset & ~(page - 1);
		return;
	}
}

int symbolizer__object(struct ht_symbolizer *s, uint64_t addr, struct ht_object *out)
{
	struct ht_module *m = modules__find(s->ms, addr - 1);
	const unsigned char *bits;
	struct symmod *sm;
	Dwarf_Addr low, high, bias, vaddr;
	char hex[129];
	Elf *elf;
	int len;

	memset(out, 0, sizeof(*out));
	if (!m)
		return -ENOENT;
	out->path = m->path;
	sm = module_dwfl(s, m);
	if (!sm)
		return 0;
	/* The whole object, until the segment holding addr is found. */
	dwfl_module_info(sm->dm, NULL, &low, &high, NULL, NULL, NULL, NULL);
	out->start = low;
	out->limit = high;
	elf = dwfl_module_getelf(sm->dm, &bias);
	if (elf)
		load_segment(elf, bias, addr - 1, out);
	len = dwfl_module_build_id(sm->dm, &bits, &vaddr);
	if (len > 0 && (size_t)len * 2 < sizeof(hex)) {
		for (int i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", bits[i]);
		out->build_id = intern(s, hex);
		if (!out->build_id)
			return -ENOMEM;
	}
	out->program = elf && is_program(elf);
	return 0;
}

const char *symbolizer__intern(struct ht_symbolizer *s, const char *str)
{
	return intern(s, str);
}
