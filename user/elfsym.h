/* SPDX-License-Identifier: MIT */
/*
 * Reading the ELF facts heaptrace needs from a mapped object: its type,
 * load segments (to turn addresses into file offsets and back), its
 * function and data symbols from .symtab and .dynsym (one walk, also kept
 * as an index by name), section bytes, and which symbol a GOT slot or PLT
 * stub stands for. Backed by libelf; all reads are bounded by the file's
 * size.
 */
#ifndef HEAPTRACE_ELFSYM_H
#define HEAPTRACE_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ht_elf;

struct ht_elf_sym {
	const char *name;   /* owned by the ht_elf */
	uint64_t vaddr;
	uint64_t size;
	bool global;        /* STB_GLOBAL or STB_WEAK */
	bool func;          /* STT_FUNC (else a data object or an IFUNC) */
	bool exported;      /* other objects' references can bind to it: in
			     * .dynsym, default or protected visibility, a
			     * version that binds (see elfsym.c) */
};

/*
 * An object's defined function and data symbols by name (IFUNCs left
 * out: their address is a resolver, nothing to probe). Among equal names
 * global ones come first, functions before data.
 */
struct ht_elf_symidx {
	struct ht_elf_sym *s;
	size_t n;
};

/* Open the ELF file behind fd (the fd is duplicated). NULL + errno. */
struct ht_elf *ht_elf__open_fd(int fd);
void ht_elf__close(struct ht_elf *e);

bool ht_elf__is_dyn(const struct ht_elf *e);  /* ET_DYN (PIE or library) */

/* The libelf handle, for libdw (CFI); owned by e. */
struct Elf *ht_elf__handle(const struct ht_elf *e);

/* Call cb for every defined function symbol, IFUNCs included (both
 * tables, may repeat); a non-zero return of cb stops and is returned. */
int ht_elf__foreach_func(struct ht_elf *e,
			 int (*cb)(const struct ht_elf_sym *s, void *ctx), void *ctx);

/* Build the index of e's symbols (names owned by e); 0 or -ENOMEM. */
int ht_elf__index_symbols(struct ht_elf *e, struct ht_elf_symidx *ix);
void ht_elf_symidx__free(struct ht_elf_symidx *ix);

/* The preferred symbol of that name, or NULL. */
const struct ht_elf_sym *ht_elf_symidx__find(const struct ht_elf_symidx *ix, const char *name);

/* A defined global function of that name, or NULL. */
const struct ht_elf_sym *ht_elf_symidx__func(const struct ht_elf_symidx *ix, const char *name);

/* An exported function of that name (what the dynamic linker binds
 * references from other objects to), or NULL. */
const struct ht_elf_sym *ht_elf_symidx__exported(const struct ht_elf_symidx *ix,
						 const char *name);

/* Call cb with the tag and string of each DT_NEEDED, DT_SONAME, DT_RPATH
 * and DT_RUNPATH entry, in order; cb's non-zero return stops and is
 * returned. */
int ht_elf__foreach_dynamic(const struct ht_elf *e,
			    int (*cb)(int64_t tag, const char *str, void *ctx), void *ctx);

/* Call cb with each DT_NEEDED name, in order; cb's non-zero return stops. */
int ht_elf__foreach_needed(const struct ht_elf *e, int (*cb)(const char *name, void *ctx),
			   void *ctx);

/* DT_SONAME, or NULL. */
const char *ht_elf__soname(const struct ht_elf *e);

/* Has a PT_INTERP (a dynamically linked program, or a library that has
 * one)? A program without one is static: its own definitions serve it. */
bool ht_elf__has_interp(const struct ht_elf *e);

/* The PT_INTERP path into buf; 0, or -ENOENT when there is none. */
int ht_elf__interp(const struct ht_elf *e, char *buf, size_t len);

/* An x86-64 executable or shared object (what the loader would map)? */
bool ht_elf__is_x86_64(const struct ht_elf *e);

/* The bytes of a section, by name; NULL when absent or without bytes. */
const uint8_t *ht_elf__section_bytes(const struct ht_elf *e, const char *name, size_t *len);

/* Is vaddr inside a PLT section (.plt, .plt.sec, .plt.got)? */
bool ht_elf__in_plt(const struct ht_elf *e, uint64_t vaddr);

/* The name of the symbol whose address the dynamic loader stores in the
 * GOT slot at vaddr got, or NULL. */
const char *ht_elf__got_symbol(const struct ht_elf *e, uint64_t got);

/* Does any function symbol start in [from, to)? */
bool ht_elf__symbol_starts_within(struct ht_elf *e, uint64_t from, uint64_t to);

/* Virtual address -> file offset through PT_LOAD; 0 or -ENOENT. */
int ht_elf__vaddr_to_offset(const struct ht_elf *e, uint64_t vaddr, uint64_t *off);

/* File offset -> virtual address through PT_LOAD; 0 or -ENOENT. */
int ht_elf__offset_to_vaddr(const struct ht_elf *e, uint64_t off, uint64_t *vaddr);

/*
 * Read up to len bytes of code at vaddr into buf (for decoding a function's
 * first instructions). Returns bytes read or -errno.
 */
long ht_elf__read_code(const struct ht_elf *e, uint64_t vaddr, void *buf, size_t len);

#endif
