// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elfsym.h"

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

static bool is_func(const GElf_Sym *s)
{
	int t = GELF_ST_TYPE(s->st_info);

	return (t == STT_FUNC || t == STT_GNU_IFUNC) && s->st_shndx != SHN_UNDEF &&
	       s->st_value != 0;
}

int ht_elf__foreach_func(struct ht_elf *e,
			 int (*cb)(const struct ht_elf_sym *s, void *ctx), void *ctx)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 1; i < n; i++) {
			struct ht_elf_sym out;
			GElf_Sym sym;
			const char *name;
			int err;

			if (!gelf_getsym(data, (int)i, &sym) || !is_func(&sym))
				continue;
			name = elf_strptr(e->elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			out.name = name;
			out.vaddr = sym.st_value;
			out.size = sym.st_size;
			out.global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
			err = cb(&out, ctx);
			if (err)
				return err;
		}
	}
	return 0;
}

struct find_ctx {
	const char *name;
	struct ht_elf_sym *out;
};

static int find_cb(const struct ht_elf_sym *s, void *ctx)
{
	struct find_ctx *f = ctx;

	if (!s->global || strcmp(s->name, f->name))
		return 0;
	*f->out = *s;
	return 1;
}

int ht_elf__find_func(struct ht_elf *e, const char *name, struct ht_elf_sym *out)
{
	struct find_ctx f = { name, out };

	return ht_elf__foreach_func(e, find_cb, &f) == 1 ? 0 : -ENOENT;
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
