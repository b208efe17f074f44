// SPDX-License-Identifier: MIT
/*
 * Whether pymalloc's entry points see every call (see allocators_pymalloc.h).
 *
 * Two checks. The entry points must be thunks through the allocator
 * tables (placement__jump_slot); Debian's static python3.11 fails this
 * one: its PyObject_Free compares _PyObject.free with pymalloc's free and
 * runs that inline. And no other code may refer to the slots the thunks
 * jump through: a thunk inlined into a caller (a libpython built with
 * -fno-semantic-interposition) loads or calls through the slot there. The
 * second check scans the object's code for RIP-relative operands: a ModRM
 * byte with mod 00 and r/m 101, then a 32-bit displacement from the end
 * of the instruction (0, 1, 2 or 4 bytes of immediate later) that lands on
 * a slot. A byte scan finds every such instruction and rarely one that is
 * not (random bytes matching both is a 2^-32 event per byte); a false
 * match only refuses tracing, never makes it wrong.
 */
#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "allocators_pymalloc.h"
#include "log.h"
#include "placement.h"
#include "util.h"

/* Functions that read or set the tables, never calling through them. */
static const char *const table_users[] = {
	"PyMem_GetAllocator",
	"PyMem_SetAllocator",
	"PyMem_SetupDebugHooks",
	"_PyMem_SetupAllocators",
	"_PyMem_GetCurrentAllocatorName",
	"_PyMem_PymallocEnabled",
	"_PyMem_DebugEnabled",
	"_PyObject_DebugMallocStats",
};

#define MAX_SLOTS 16
#define MAX_RANGES 32

struct scan {
	uint64_t slot[MAX_SLOTS];
	size_t nslots;
	struct {
		uint64_t from, to;
	} allowed[MAX_RANGES];
	size_t nallowed;
	size_t outside; /* references outside the allowed functions */
	uint64_t first; /* the first of them */
};

static void allow(struct scan *sc, const struct ht_elf_sym *s)
{
	if (s && s->size && sc->nallowed < MAX_RANGES) {
		sc->allowed[sc->nallowed].from = s->vaddr;
		sc->allowed[sc->nallowed].to = s->vaddr + s->size;
		sc->nallowed++;
	}
}

static bool is_allowed(const struct scan *sc, uint64_t a)
{
	for (size_t i = 0; i < sc->nallowed; i++)
		if (a >= sc->allowed[i].from && a < sc->allowed[i].to)
			return true;
	return false;
}

static bool is_slot(const struct scan *sc, uint64_t a)
{
	for (size_t i = 0; i < sc->nslots; i++)
		if (sc->slot[i] == a)
			return true;
	return false;
}

/* The references to the slots in one section of code at addr. */
static void scan_code(struct scan *sc, const uint8_t *b, size_t n, uint64_t addr)
{
	static const uint8_t imm_len[] = { 0, 1, 2, 4 };

	for (size_t i = 1; i + 4 <= n; i++) {
		int32_t disp;

		if ((b[i - 1] & 0xc7) != 0x05)
			continue;
		memcpy(&disp, b + i, sizeof(disp)); /* x86-64: little-endian */
		for (size_t k = 0; k < ARRAY_SIZE(imm_len); k++) {
			uint64_t at = addr + i;

			if (!is_slot(sc, at + 4 + imm_len[k] + (uint64_t)(int64_t)disp))
				continue;
			if (!is_allowed(sc, at) && !sc->outside++)
				sc->first = at;
			break;
		}
	}
}

static void scan_object(struct ht_elf *e, struct scan *sc)
{
	Elf *elf = ht_elf__handle(e);
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		d = elf_rawdata(scn, NULL);
		if (d && d->d_buf)
			scan_code(sc, d->d_buf, d->d_size, sh.sh_addr);
	}
}

bool allocators__pymalloc_traceable(struct ht_elf *e, const struct ht_elf_symidx *ix,
				    const struct alloc_family *fam, char *why, size_t len)
{
	struct ht_placement *pl = placement__new();
	struct scan sc = {};
	bool ok = true;

	if (!pl) {
		snprintf(why, len, "its code could not be read");
		return false;
	}
	for (size_t i = 0; i < fam->nfns && ok; i++) {
		const struct ht_elf_sym *s = ht_elf_symidx__func(ix, fam->fns[i].name);
		uint64_t slot;

		if (!s)
			continue;
		allow(&sc, s);
		ok = placement__jump_slot(pl, e, s->vaddr, &slot);
		if (!ok)
			snprintf(why, len, "its %s runs pymalloc's code instead of calling through "
					   "the allocator table: pymalloc is compiled into the interpreter's "
					   "code, where no probe sees its calls",
				 s->name);
		else if (sc.nslots < MAX_SLOTS && !is_slot(&sc, slot))
			sc.slot[sc.nslots++] = slot;
	}
	placement__free(pl);
	if (!ok)
		return false;
	if (!sc.nslots) {
		snprintf(why, len, "it defines none of pymalloc's entry points");
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(table_users); i++)
		allow(&sc, ht_elf_symidx__find(ix, table_users[i]));
	scan_object(e, &sc);
	pr_debug("pymalloc: %zu table slots, %zu references outside the allocator functions\n",
		 sc.nslots, sc.outside);
	if (sc.outside) {
		snprintf(why, len, "code outside its allocator functions uses the allocator table "
				   "(%zu place%s, the first at 0x%llx): its entry points are inlined into "
				   "callers, where no probe sees their calls",
			 sc.outside,
			 sc.outside == 1 ? "" : "s", (unsigned long long)sc.first);
		return false;
	}
	return true;
}
