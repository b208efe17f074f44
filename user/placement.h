/* SPDX-License-Identifier: MIT */
/*
 * Where to put an entry uprobe. A uprobe on an instruction the kernel
 * emulates (push reg, jmp/jcc/call rel, nop) costs about a quarter of one
 * it must single-step (endbr64, test, mov...). When a function starts with
 * instructions that only write flags (glibc's free: test %rdi,%rdi; je),
 * probing the first emulated instruction after them sees the same
 * arguments, stack pointer and memory for much less.
 *
 * Also the rest of what heaptrace reads from an entry point's code with
 * capstone: whether it only forwards to another function (a tail call,
 * directly or through the PLT/GOT), and which functions its body calls or
 * jumps to.
 */
#ifndef HEAPTRACE_PLACEMENT_H
#define HEAPTRACE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ht_elf;
struct ht_elf_sym;
struct ht_placement;

/*
 * Find where to put an entry probe for a function whose code starts at vaddr.
 * code/len: the first bytes of the function (len may be < the function's
 * size; the more is passed, the more branch targets are seen). func_size 0
 * (unknown) never moves the probe.
 * On success *probe_vaddr is the address to probe (vaddr itself when moving
 * is not safe or not useful), and *emulated tells whether the instruction at
 * *probe_vaddr is one the kernel emulates. Returns 0, or -errno only on
 * internal failure (capstone could not open); undecodable code is not an
 * error: it returns vaddr.
 */
int placement__find(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t func_size,
		    uint64_t *probe_vaddr, bool *emulated);

/* True when the kernel emulates the first instruction of code/len. */
bool placement__is_emulated(const uint8_t *code, size_t len);

/*
 * The file offset to put sym's entry probe at, given the offset off of
 * its first instruction: moved to an emulated instruction when
 * placement__find allows it and no other symbol starts in between.
 */
uint64_t placement__probe_offset(struct ht_elf *e, const struct ht_elf_sym *sym, uint64_t off);

/* A decoder for the analyses below (capstone, with detail). NULL + errno. */
struct ht_placement *placement__new(void);
void placement__free(struct ht_placement *pl);

/*
 * Does the function at vaddr, on its only path, set up registers and then
 * jump (a tail call)? The caller's return address and stack are left
 * untouched: the target sees the very same call. *to is the target, or 0
 * with *name the symbol for a jump through the GOT (directly, or by way
 * of a PLT stub).
 */
bool placement__tail_call(struct ht_placement *pl, struct ht_elf *e, uint64_t vaddr,
			  uint64_t *to, const char **name);

/*
 * Call cb for every direct or GOT-indirect call and jump in the body of fn
 * (its first KiB): to is the direct target (0 through the GOT), name the
 * symbol reached through a PLT stub or GOT slot, or NULL. A non-zero
 * return of cb stops the walk and is returned.
 */
int placement__foreach_branch(struct ht_placement *pl, struct ht_elf *e,
			      const struct ht_elf_sym *fn,
			      int (*cb)(uint64_t to, const char *name, void *ctx), void *ctx);

/*
 * Does the function at vaddr, on its fall-through path (conditional
 * branches not taken), reach an indirect jump through a memory slot at a
 * fixed address (jmp *slot(%rip)) before any call, return or other jump?
 * Such a function is a thunk that dispatches through a table of function
 * pointers (CPython's PyObject_Malloc: _PyObject.malloc). *slot is the
 * slot's address.
 */
bool placement__jump_slot(struct ht_placement *pl, struct ht_elf *e, uint64_t vaddr,
			  uint64_t *slot);

#endif
