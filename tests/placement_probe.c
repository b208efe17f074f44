// SPDX-License-Identifier: MIT
/*
 * Print where placement__find() would put the entry probe of some functions
 * of an ELF file, with their first instructions, to check by hand. Not a
 * unit test: its output depends on the machine's libraries.
 *
 *   gcc -Iuser tests/placement_probe.c user/placement.c -lcapstone -lelf
 *   ./a.out /usr/lib/x86_64-linux-gnu/libc.so.6 [SYMBOL...]
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <capstone/capstone.h>
#include "placement.h"

#define CODE_MAX 64

static const char *const default_syms[] = {
	"malloc", "free", "calloc", "realloc", "posix_memalign", "aligned_alloc",
	"memalign", "valloc", "pvalloc", "reallocarray",
};

/* First defined function called name in .symtab, else .dynsym. */
static int find_sym(Elf *elf, const char *name, GElf_Sym *out)
{
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf_Data *data;
	GElf_Sym sym;
	size_t i, n;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		Elf32_Word want = pass ? SHT_DYNSYM : SHT_SYMTAB;

		for (scn = NULL; (scn = elf_nextscn(elf, scn));) {
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != want || !sh.sh_entsize)
				continue;
			data = elf_getdata(scn, NULL);
			if (!data)
				continue;
			n = sh.sh_size / sh.sh_entsize;
			for (i = 0; i < n; i++) {
				const char *s;

				if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF)
					continue;
				if (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
				    GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
					continue;
				s = elf_strptr(elf, sh.sh_link, sym.st_name);
				if (s && !strcmp(s, name)) {
					*out = sym;
					return 0;
				}
			}
		}
	}
	return -ENOENT;
}

/* Copy up to max bytes of the code at vaddr from its section. */
static size_t read_code(Elf *elf, uint64_t vaddr, uint8_t *buf, size_t max)
{
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf_Data *data;
	size_t off, n;

	for (scn = NULL; (scn = elf_nextscn(elf, scn));) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		if (vaddr < sh.sh_addr || vaddr >= sh.sh_addr + sh.sh_size)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			return 0;
		off = vaddr - sh.sh_addr;
		n = data->d_size - off;
		if (n > max)
			n = max;
		memcpy(buf, (const uint8_t *)data->d_buf + off, n);
		return n;
	}
	return 0;
}

/* Disassemble the first instructions, marking the probed one. */
static void print_insns(csh cs, const uint8_t *code, size_t len, uint64_t vaddr,
			uint64_t probe)
{
	cs_insn *insn;
	size_t n, i;

	n = cs_disasm(cs, code, len, vaddr, 0, &insn);
	for (i = 0; i < n && i < 6; i++) {
		char bytes[3 * 16 + 1] = "";
		size_t j;

		for (j = 0; j < insn[i].size; j++)
			sprintf(bytes + 3 * j, "%02x ", insn[i].bytes[j]);
		printf("    %s +%-3lu %-24s %s %s\n",
		       insn[i].address == probe ? "=>" : "  ",
		       (unsigned long)(insn[i].address - vaddr), bytes,
		       insn[i].mnemonic, insn[i].op_str);
	}
	if (n)
		cs_free(insn, n);
}

int main(int argc, char **argv)
{
	const char *const *syms = default_syms;
	size_t nsyms = sizeof(default_syms) / sizeof(default_syms[0]), i;
	int fd, ret = 0;
	Elf *elf;
	csh cs;

	if (argc < 2) {
		fprintf(stderr, "usage: %s ELF [SYMBOL...]\n", argv[0]);
		return 2;
	}
	if (argc > 2) {
		syms = (const char *const *)&argv[2];
		nsyms = argc - 2;
	}
	if (elf_version(EV_CURRENT) == EV_NONE)
		return 1;
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		fprintf(stderr, "%s: not an ELF file\n", argv[1]);
		return 1;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return 1;

	printf("%-16s %-10s %6s  %-10s %-6s %s\n", "symbol", "vaddr", "size", "probe", "moved",
	       "emulated");
	for (i = 0; i < nsyms; i++) {
		uint8_t code[CODE_MAX];
		uint64_t probe;
		GElf_Sym sym;
		size_t len;
		bool emul;
		int err;

		if (find_sym(elf, syms[i], &sym)) {
			printf("%-16s not found\n", syms[i]);
			ret = 1;
			continue;
		}
		len = read_code(elf, sym.st_value, code, sizeof(code));
		err = placement__find(code, len, sym.st_value, sym.st_size, &probe, &emul);
		if (err) {
			printf("%-16s error %d\n", syms[i], err);
			ret = 1;
			continue;
		}
		printf("%-16s %#-10lx %6lu  %#-10lx +%-5lu %s%s\n", syms[i],
		       (unsigned long)sym.st_value, (unsigned long)sym.st_size,
		       (unsigned long)probe, (unsigned long)(probe - sym.st_value),
		       emul ? "yes" : "no",
		       GELF_ST_TYPE(sym.st_info) == STT_GNU_IFUNC ? " (ifunc resolver)" : "");
		print_insns(cs, code, len, sym.st_value, probe);
	}
	cs_close(&cs);
	elf_end(elf);
	close(fd);
	return ret;
}
