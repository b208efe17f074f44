// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "stacks.h"
#include "util.h"

struct entry {
	uint64_t hash;
	uint64_t off;   /* index of the first address in ips */
	uint32_t nr;
};

struct ht_stacks {
	struct entry *entries;   /* by id */
	size_t nentries, cap_entries;
	uint64_t *ips;           /* all stacks' addresses, back to back */
	size_t nips, cap_ips;
	uint32_t *slots;         /* open addressing: id + 1, 0 = empty */
	size_t nslots;           /* power of two */
};

struct ht_stacks *stacks__new(void)
{
	struct ht_stacks *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nslots = 1024;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	return s;
}

void stacks__free(struct ht_stacks *s)
{
	if (!s)
		return;
	free(s->entries);
	free(s->ips);
	free(s->slots);
	free(s);
}

static int rehash(struct ht_stacks *s)
{
	size_t n = s->nslots * 2;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t id = 0; id < s->nentries; id++) {
		size_t i = s->entries[id].hash & (n - 1);

		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = (uint32_t)id + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
	return 0;
}

int stacks__intern(struct ht_stacks *s, const uint64_t *ips, uint32_t nr, uint32_t *id)
{
	uint64_t h = hash_words(ips, nr);
	size_t i = h & (s->nslots - 1);
	struct entry *e;

	for (; s->slots[i]; i = (i + 1) & (s->nslots - 1)) {
		e = &s->entries[s->slots[i] - 1];
		if (e->hash == h && e->nr == nr &&
		    (!nr || !memcmp(&s->ips[e->off], ips, nr * sizeof(*ips)))) {
			*id = s->slots[i] - 1;
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
	e->hash = h;
	e->off = s->nips;
	e->nr = nr;
	if (nr)
		memcpy(&s->ips[s->nips], ips, nr * sizeof(*ips));
	s->nips += nr;
	s->slots[i] = (uint32_t)s->nentries + 1;
	*id = (uint32_t)s->nentries++;
	if (s->nentries * 2 > s->nslots)
		return rehash(s);
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
	       s->cap_ips * sizeof(*s->ips) + s->nslots * sizeof(*s->slots);
}
