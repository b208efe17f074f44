// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "stacks.h"
#include "util.h"

struct entry {
	uint64_t off;   /* index of the first address in ips */
	uint32_t nr;
	uint32_t next;  /* 1 + the id interned before it with its hash; 0: none */
};

struct ht_stacks {
	struct entry *entries;   /* by id */
	size_t nentries, cap_entries;
	uint64_t *ips;           /* all stacks' addresses, back to back */
	size_t nips, cap_ips;
	struct ht_u64map last;   /* hash -> 1 + the last id interned with it (0: none) */
};

struct ht_stacks *stacks__new(void)
{
	return calloc(1, sizeof(struct ht_stacks));
}

void stacks__free(struct ht_stacks *s)
{
	if (!s)
		return;
	free(s->entries);
	free(s->ips);
	u64map__free(&s->last);
	free(s);
}

int stacks__intern(struct ht_stacks *s, const uint64_t *ips, uint32_t nr, uint32_t *id)
{
	uint64_t *last;
	struct entry *e;

	last = u64map__insert(&s->last, hash_words(ips, nr), NULL);
	if (!last)
		return -ENOMEM;
	for (uint64_t i = *last; i; i = s->entries[i - 1].next) {
		e = &s->entries[i - 1];
		if (e->nr == nr && (!nr || !memcmp(&s->ips[e->off], ips, nr * sizeof(*ips)))) {
			*id = (uint32_t)(i - 1);
			return 0;
		}
	}
	if (s->nentries >= UINT32_MAX - 1)
		return -ENOSPC;
	if (grow_array((void **)&s->entries, &s->cap_entries, s->nentries + 1,
		       sizeof(*s->entries)) ||
	    grow_array((void **)&s->ips, &s->cap_ips, s->nips + nr + 1, sizeof(*s->ips)))
		return -ENOMEM;
	e = &s->entries[s->nentries];
	e->off = s->nips;
	e->nr = nr;
	e->next = (uint32_t)*last;
	if (nr)
		memcpy(&s->ips[s->nips], ips, nr * sizeof(*ips));
	s->nips += nr;
	*last = s->nentries + 1;
	*id = (uint32_t)s->nentries++;
	return 0;
}

const uint64_t *stacks__get(const struct ht_stacks *s, uint32_t id, uint32_t *nr)
{
	if (id >= s->nentries)
		return NULL;
	*nr = s->entries[id].nr;
	return &s->ips[s->entries[id].off];
}

uint32_t stacks__count(const struct ht_stacks *s)
{
	return (uint32_t)s->nentries;
}

size_t stacks__mem_bytes(const struct ht_stacks *s)
{
	return sizeof(*s) + s->cap_entries * sizeof(*s->entries) +
	       s->cap_ips * sizeof(*s->ips) + u64map__mem_bytes(&s->last);
}
