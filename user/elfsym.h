/* SPDX-License-Identifier: MIT */
/*
 * Reading the ELF facts heaptrace needs from a mapped object: its type,
 * load segments (to turn addresses into file offsets and back), its code
 * and function symbols from .symtab and .dynsym (where functions start,
 * for probe placement). Backed by libelf; all reads are bounded by the
 * file's size.
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
};

/* Open the ELF file behind fd (the fd is duplicated). NULL + errno. */
struct ht_elf *ht_elf__open_fd(int fd);
void ht_elf__close(struct ht_elf *e);

bool ht_elf__is_dyn(const struct ht_elf *e);  /* ET_DYN (PIE or library) */

/* The libelf handle, for libdw (CFI); owned by e. */
struct Elf *ht_elf__handle(const struct ht_elf *e);

/* Find a defined function symbol; 0 or -ENOENT. */
int ht_elf__find_func(struct ht_elf *e, const char *name, struct ht_elf_sym *out);

/* Call cb for every defined function symbol (both tables, may repeat). */
int ht_elf__foreach_func(struct ht_elf *e,
			 int (*cb)(const struct ht_elf_sym *s, void *ctx), void *ctx);

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
