/* SPDX-License-Identifier: MIT */
/*
 * Where to put an entry uprobe. A uprobe on an instruction the kernel
 * emulates (push reg, jmp/jcc/call rel, nop) costs about a quarter of one
 * it must single-step (endbr64, test, mov...). When a function starts with
 * instructions that only write flags (glibc's free: test %rdi,%rdi; je),
 * probing the first emulated instruction after them sees the same
 * arguments, stack pointer and memory for much less.
 */
#ifndef HEAPTRACE_PLACEMENT_H
#define HEAPTRACE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
