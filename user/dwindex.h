/* SPDX-License-Identifier: MIT */
/*
 * Lookup indexes the symbolizer builds over a libdwfl module, once, so
 * that each address costs a binary search instead of a scan:
 *  - the module's function symbols (libdwfl's dwfl_module_addrinfo scans
 *    the whole symbol table for every address);
 *  - per compilation unit, the address ranges of its concrete functions
 *    and inlined calls with their nesting (dwarf_getscopes and
 *    dwarf_getscopes_die walk the CU's DIEs for every address).
 */
#ifndef HEAPTRACE_DWINDEX_H
#define HEAPTRACE_DWINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <elfutils/libdwfl.h>

struct ht_symidx;

/* Index the symbols of dm (its .symtab, or .dynsym, as libdwfl finds
 * them). NULL + errno on failure; an empty index when there are none. */
struct ht_symidx *symidx__new(Dwfl_Module *dm);
void symidx__free(struct ht_symidx *x);

/*
 * The function symbol containing pc (absolute address): among sized
 * symbols the one starting last at or before pc that covers it (aliases:
 * global over weak over local, then the first in the table). If none
 * covers pc, a symbol without size (an assembler label) directly before
 * pc in the same section, only when it comes from a full .symtab (a
 * .dynsym lacks the unexported functions that may lie in between).
 * NULL if none.
 */
const char *symidx__find(const struct ht_symidx *x, Dwfl_Module *dm, uint64_t pc);

size_t symidx__count(const struct ht_symidx *x);

struct ht_scopeidx;

struct ht_scopeidx *scopeidx__new(void);
void scopeidx__free(struct ht_scopeidx *x);

/*
 * The functions around DWARF address pc in the CU cu, innermost first:
 * the DW_TAG_inlined_subroutine DIEs, then the DW_TAG_subprogram that
 * contains them. At most max DIEs are written to out; returns how many,
 * 0 when no function of the CU covers pc, or -errno. *cu_has_code is set
 * when the CU has functions at all (then code outside them, top-level
 * asm, is not the CU's: its line table only seems to cover it). The CU
 * is indexed on first use.
 */
int scopeidx__find(struct ht_scopeidx *x, Dwarf_Die *cu, uint64_t pc, Dwarf_Die *out,
		   int max, bool *cu_has_code);

#endif
