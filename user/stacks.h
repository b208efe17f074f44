/* SPDX-License-Identifier: MIT */
/*
 * Stack interning: identical stacks (same return addresses, same order)
 * share one dense id, so the heap model keeps a 4-byte id per block.
 * Ids are never reused; equality is checked on the full address list,
 * never on a hash alone.
 */
#ifndef HEAPTRACE_STACKS_H
#define HEAPTRACE_STACKS_H

#include <stddef.h>
#include <stdint.h>

struct ht_stacks;

struct ht_stacks *stacks__new(void);
void stacks__free(struct ht_stacks *s);

/* Intern ips[0..nr) (innermost first); *id receives its id. 0 or -ENOMEM. */
int stacks__intern(struct ht_stacks *s, const uint64_t *ips, uint32_t nr, uint32_t *id);

/* The addresses of stack id; NULL for an unknown id. */
const uint64_t *stacks__get(const struct ht_stacks *s, uint32_t id, uint32_t *nr);

uint32_t stacks__count(const struct ht_stacks *s);

/* Bytes of memory the table uses. */
size_t stacks__mem_bytes(const struct ht_stacks *s);

#endif
