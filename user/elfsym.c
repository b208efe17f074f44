// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elfsym.h"
#include "util.h"

#define MAX_PHDRS 256

struct ht_elf {
	int fd;
	Elf *elf;
	GElf_Half type;
	size_t nphdr;
	GElf_Phdr phdr[MAX_PHDRS];
};

struct ht_elf *ht_elf__open_fd(int fd)
{
	struct ht_elf *e;
	GElf_Ehdr eh;
	size_t n, i;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (e->fd < 0)
		goto err_free;
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh) ||
	    gelf_getclass(e->elf) != ELFCLASS64)
		goto err_elf;
	e->type = eh.e_type;
	if (elf_getphdrnum(e->elf, &n))
		goto err_elf;
	for (i = 0; i < n && e->nphdr < MAX_PHDRS; i++) {
		if (!gelf_getphdr(e->elf, i, &e->phdr[e->nphdr]))
			goto err_elf;
		if (e->phdr[e->nphdr].p_type == PT_LOAD)
			e->nphdr++;
	}
	return e;

err_elf:
	if (e->elf)
		elf_end(e->elf);
	close(e->fd);
	errno = ENOEXEC;
err_free:
	free(e);
	return NULL;
}

void ht_elf__close(struct ht_elf *e)
{
	if (!e)
		return;
	elf_end(e->elf);
	close(e->fd);
	free(e);
}

struct Elf *ht_elf__handle(const struct ht_elf *e)
{
	return e->elf;
}

bool ht_elf__is_dyn(const struct ht_elf *e)
{
	return e->type == ET_DYN;
}

int ht_elf__vaddr_to_offset(const struct ht_elf *e, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < e->nphdr; i++) {
		const GElf_Phdr *p = &e->phdr[i];

		if (vaddr >= p->p_vaddr && vaddr - p->p_vaddr < p->p_filesz) {
			*off = vaddr - p->p_vaddr + p->p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

int ht_elf__offset_to_vaddr(const struct ht_elf *e, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < e->nphdr; i++) {
		const GElf_Phdr *p = &e->phdr[i];

		if (off >= p->p_offset && off - p->p_offset < p->p_filesz) {
			*vaddr = off - p->p_offset + p->p_vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

long ht_elf__read_code(const struct ht_elf *e, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t off;
	ssize_t n;

	for (size_t i = 0; i < e->nphdr; i++) {
		const GElf_Phdr *p = &e->phdr[i];

		if (vaddr >= p->p_vaddr && vaddr - p->p_vaddr < p->p_filesz) {
			if (len > p->p_filesz - (vaddr - p->p_vaddr))
				len = p->p_filesz - (vaddr - p->p_vaddr);
			break;
		}
	}
	if (ht_elf__vaddr_to_offset(e, vaddr, &off))
		return -ENOENT;
	n = pread(e->fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

#define TYPE_BIT(t) (1u << (t))

/* A defined symbol of one of the types (TYPE_BIT mask). */
static bool is_wanted(const GElf_Sym *s, unsigned types)
{
	return (types & TYPE_BIT(GELF_ST_TYPE(s->st_info))) && s->st_shndx != SHN_UNDEF &&
	       s->st_value != 0;
}

/*
 * Is the version of dynamic symbol i one that answers the references
 * objects make (unversioned, or the default version of a GLIBC_ name)?
 * A hidden version (`cfree@GLIBC_2.2.5`) is for old binaries only, and a
 * definition under another named version answers only references to that
 * version, which objects built against glibc do not make.
 */
static bool version_binds(Elf *elf, Elf_Data *versym, const GElf_Shdr *vdsh, Elf_Data *verdef,
			  size_t i)
{
	GElf_Versym v;
	size_t off = 0;

	if (!versym || !gelf_getversym(versym, (int)i, &v))
		return true;
	if (v & 0x8000)
		return false;
	if ((v & 0x7fff) <= 1)
		return true;
	for (size_t k = 0; verdef && k < vdsh->sh_info; k++) {
		GElf_Verdef vd;
		GElf_Verdaux va;
		const char *name;

		if (!gelf_getverdef(verdef, (int)off, &vd))
			break;
		if (vd.vd_ndx == (v & 0x7fff) && gelf_getverdaux(verdef, (int)(off + vd.vd_aux), &va)) {
			name = elf_strptr(elf, vdsh->sh_link, va.vda_name);
			return name && !strncmp(name, "GLIBC_", 6);
		}
		if (!vd.vd_next)
			break;
		off += vd.vd_next;
	}
	return false;
}

/* The version sections that go with .dynsym, if any. */
static void version_sections(Elf *elf, Elf_Data **versym, GElf_Shdr *vdsh, Elf_Data **verdef)
{
	Elf_Scn *scn = NULL;

	*versym = *verdef = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_GNU_versym) {
			*versym = elf_getdata(scn, NULL);
		} else if (sh.sh_type == SHT_GNU_verdef) {
			*verdef = elf_getdata(scn, NULL);
			*vdsh = sh;
		}
	}
}

/* The one walk over both symbol tables. */
static int foreach_sym(struct ht_elf *e, unsigned types,
		       int (*cb)(const struct ht_elf_sym *s, void *ctx), void *ctx)
{
	Elf_Scn *scn = NULL;
	Elf_Data *versym, *verdef;
	GElf_Shdr vdsh = {};

	version_sections(e->elf, &versym, &vdsh, &verdef);
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 1; i < n; i++) {
			struct ht_elf_sym out;
			GElf_Sym sym;
			const char *name;
			int vis, err;

			if (!gelf_getsym(d, (int)i, &sym) || !is_wanted(&sym, types))
				continue;
			name = elf_strptr(e->elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			vis = GELF_ST_VISIBILITY(sym.st_other);
			out.name = name;
			out.vaddr = sym.st_value;
			out.size = sym.st_size;
			out.global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
			out.func = GELF_ST_TYPE(sym.st_info) == STT_FUNC;
			out.exported = sh.sh_type == SHT_DYNSYM && out.global &&
				       (vis == STV_DEFAULT || vis == STV_PROTECTED) &&
				       version_binds(e->elf, versym, &vdsh, verdef, i);
			err = cb(&out, ctx);
			if (err)
				return err;
		}
	}
	return 0;
}

int ht_elf__foreach_func(struct ht_elf *e,
			 int (*cb)(const struct ht_elf_sym *s, void *ctx), void *ctx)
{
	return foreach_sym(e, TYPE_BIT(STT_FUNC) | TYPE_BIT(STT_GNU_IFUNC), cb, ctx);
}

struct index_ctx {
	struct ht_elf_symidx *ix;
	size_t cap;
};

static int index_cb(const struct ht_elf_sym *s, void *ctx)
{
	struct index_ctx *c = ctx;
	struct ht_elf_symidx *ix = c->ix;

	if (grow_array((void **)&ix->s, &c->cap, ix->n + 1, sizeof(*ix->s)))
		return -ENOMEM;
	ix->s[ix->n++] = *s;
	return 0;
}

/* By name; among equal names global before local, functions first. */
static int sym_cmp(const void *a, const void *b)
{
	const struct ht_elf_sym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->global != y->global)
		return x->global ? -1 : 1;
	if (x->func != y->func)
		return x->func ? -1 : 1;
	if (x->exported != y->exported)
		return x->exported ? -1 : 1;
	return 0;
}

int ht_elf__index_symbols(struct ht_elf *e, struct ht_elf_symidx *ix)
{
	struct index_ctx c = { ix, 0 };
	int err;

	memset(ix, 0, sizeof(*ix));
	/* An IFUNC's address is its resolver: nothing to probe. */
	err = foreach_sym(e, TYPE_BIT(STT_FUNC) | TYPE_BIT(STT_OBJECT), index_cb, &c);
	if (err) {
		ht_elf_symidx__free(ix);
		return err;
	}
	if (ix->n)
		qsort(ix->s, ix->n, sizeof(*ix->s), sym_cmp);
	return 0;
}

void ht_elf_symidx__free(struct ht_elf_symidx *ix)
{
	free(ix->s);
	memset(ix, 0, sizeof(*ix));
}

const struct ht_elf_sym *ht_elf_symidx__find(const struct ht_elf_symidx *ix, const char *name)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->s[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->n && !strcmp(ix->s[lo].name, name) ? &ix->s[lo] : NULL;
}

const struct ht_elf_sym *ht_elf_symidx__func(const struct ht_elf_symidx *ix, const char *name)
{
	const struct ht_elf_sym *s = ht_elf_symidx__find(ix, name);

	return s && s->global && s->func ? s : NULL;
}

const struct ht_elf_sym *ht_elf_symidx__exported(const struct ht_elf_symidx *ix,
						 const char *name)
{
	const struct ht_elf_sym *s = ht_elf_symidx__find(ix, name);

	for (; s && s < ix->s + ix->n && !strcmp(s->name, name); s++)
		if (s->exported && s->func)
			return s;
	return NULL;
}

int ht_elf__foreach_dynamic(const struct ht_elf *e,
			    int (*cb)(int64_t tag, const char *str, void *ctx), void *ctx)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		n = d ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < n; i++) {
			GElf_Dyn dyn;
			const char *str;
			int err;

			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH &&
			    dyn.d_tag != DT_RUNPATH && dyn.d_tag != DT_SONAME)
				continue;
			str = elf_strptr(e->elf, sh.sh_link, dyn.d_un.d_val);
			if (str && (err = cb(dyn.d_tag, str, ctx)))
				return err;
		}
		return 0;
	}
	return 0;
}

struct needed_ctx {
	int (*cb)(const char *name, void *ctx);
	void *ctx;
};

static int needed_cb(int64_t tag, const char *str, void *ctx)
{
	struct needed_ctx *n = ctx;

	return tag == DT_NEEDED ? n->cb(str, n->ctx) : 0;
}

int ht_elf__foreach_needed(const struct ht_elf *e, int (*cb)(const char *name, void *ctx),
			   void *ctx)
{
	struct needed_ctx n = { cb, ctx };

	return ht_elf__foreach_dynamic(e, needed_cb, &n);
}

static int soname_cb(int64_t tag, const char *str, void *ctx)
{
	if (tag != DT_SONAME)
		return 0;
	*(const char **)ctx = str;
	return 1;
}

const char *ht_elf__soname(const struct ht_elf *e)
{
	const char *name = NULL;

	ht_elf__foreach_dynamic(e, soname_cb, &name);
	return name;
}

int ht_elf__interp(const struct ht_elf *e, char *buf, size_t len)
{
	size_t n;

	buf[0] = '\0';
	if (elf_getphdrnum(e->elf, &n))
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		ssize_t got;

		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		got = pread(e->fd, buf, ph.p_filesz < len ? ph.p_filesz : len - 1,
			    (off_t)ph.p_offset);
		buf[got > 0 ? (size_t)got : 0] = '\0';
		buf[strnlen(buf, len - 1)] = '\0';
		return 0;
	}
	return -ENOENT;
}

bool ht_elf__is_x86_64(const struct ht_elf *e)
{
	GElf_Ehdr eh;

	return gelf_getehdr(e->elf, &eh) && eh.e_machine == EM_X86_64 &&
	       (eh.e_type == ET_EXEC || eh.e_type == ET_DYN);
}

bool ht_elf__has_interp(const struct ht_elf *e)
{
	char buf[8];

	return !ht_elf__interp(e, buf, sizeof(buf));
}

static Elf_Scn *section_by_name(Elf *elf, const char *want, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, out))
			continue;
		name = elf_strptr(elf, shstrndx, out->sh_name);
		if (name && !strcmp(name, want))
			return scn;
	}
	return NULL;
}

const uint8_t *ht_elf__section_bytes(const struct ht_elf *e, const char *name, size_t *len)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section_by_name(e->elf, name, &sh);
	Elf_Data *d;

	if (!scn || sh.sh_type == SHT_NOBITS)
		return NULL;
	d = elf_rawdata(scn, NULL);
	if (!d || !d->d_buf)
		return NULL;
	*len = d->d_size;
	return d->d_buf;
}

bool ht_elf__in_plt(const struct ht_elf *e, uint64_t vaddr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e->elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_EXECINSTR) ||
		    vaddr < sh.sh_addr || vaddr - sh.sh_addr >= sh.sh_size)
			continue;
		name = elf_strptr(e->elf, shstrndx, sh.sh_name);
		return name && !strncmp(name, ".plt", 4);
	}
	return false;
}

const char *ht_elf__got_symbol(const struct ht_elf *e, uint64_t got)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh, symsh;
		Elf_Data *data, *symdata;
		Elf_Scn *symscn;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		symscn = elf_getscn(e->elf, sh.sh_link);
		if (!data || !symscn || !gelf_getshdr(symscn, &symsh))
			continue;
		symdata = elf_getdata(symscn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Rela r;
			GElf_Sym s;

			if (!gelf_getrela(data, (int)i, &r) || r.r_offset != got)
				continue;
			if (!symdata || !GELF_R_SYM(r.r_info) ||
			    !gelf_getsym(symdata, (int)GELF_R_SYM(r.r_info), &s))
				return NULL;
			return elf_strptr(e->elf, symsh.sh_link, s.st_name);
		}
	}
	return NULL;
}
struct within_ctx {
	uint64_t from, to;
};

static int within_cb(const struct ht_elf_sym *s, void *ctx)
{
	const struct within_ctx *w = ctx;

	return s->vaddr >= w->from && s->vaddr < w->to;
}

bool ht_elf__symbol_starts_within(struct ht_elf *e, uint64_t from, uint64_t to)
{
	struct within_ctx w = { from, to };

	return ht_elf__foreach_func(e, within_cb, &w) == 1;
}
