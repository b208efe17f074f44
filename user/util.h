/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the user-space modules. */
#ifndef HEAPTRACE_UTIL_H
#define HEAPTRACE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* 64-bit mix of one word (splitmix64 finalizer). */
static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Hash of an array of words. */
uint64_t hash_words(const uint64_t *w, size_t n);

/* Hash of len bytes of a string (FNV-1a, then mixed). */
uint64_t hash_str(const char *s, size_t len);

/*
 * An open-addressing hash table from u64 keys to u64 values (linear
 * probing over a power of two of slots, at most half full). Every key is
 * allowed, 0 too. A zeroed struct is an empty table; u64map__free() it.
 */
struct ht_u64slot {
	uint64_t key, val;
};

struct ht_u64map {
	struct ht_u64slot *slots; /* key 0 marks a free slot ... */
	size_t nslots, n;
	bool has_zero; /* ... so key 0 lives here */
	uint64_t zero_val;
};

/* Where key is, or the free slot it would go to (nslots > 0, key != 0). */
static inline struct ht_u64slot *u64map__probe(const struct ht_u64map *m, uint64_t key)
{
	size_t mask = m->nslots - 1, i = hash_u64(key) & mask;

	while (m->slots[i].key && m->slots[i].key != key)
		i = (i + 1) & mask;
	return &m->slots[i];
}

/* The value of key, or NULL. Valid until the next insert. */
static inline uint64_t *u64map__find(const struct ht_u64map *m, uint64_t key)
{
	struct ht_u64slot *sl;

	if (!key)
		return m->has_zero ? (uint64_t *)&m->zero_val : NULL;
	if (!m->nslots)
		return NULL;
	sl = u64map__probe(m, key);
	return sl->key ? &sl->val : NULL;
}

/* u64map__insert() for key 0 and when the table must grow first. */
uint64_t *u64map__insert_slow(struct ht_u64map *m, uint64_t key, bool *added);

/* The value of key, added as 0 (then *added is set, if added is not
 * NULL) when it was not there; NULL when out of memory. Valid until the
 * next insert. */
static inline uint64_t *u64map__insert(struct ht_u64map *m, uint64_t key, bool *added)
{
	struct ht_u64slot *sl;

	if (!key || (m->n + 1) * 2 > m->nslots)
		return u64map__insert_slow(m, key, added);
	sl = u64map__probe(m, key);
	if (added)
		*added = !sl->key;
	if (!sl->key) {
		*sl = (struct ht_u64slot){ key, 0 };
		m->n++;
	}
	return &sl->val;
}

size_t u64map__count(const struct ht_u64map *m);
size_t u64map__mem_bytes(const struct ht_u64map *m);
void u64map__clear(struct ht_u64map *m);
void u64map__free(struct ht_u64map *m);

/*
 * Interned strings: one copy of each, with a dense id (0, 1, ... in the
 * order they came). Copies live until strtab__free(). Zeroed = empty.
 */
struct ht_strtab {
	char **v; /* by id */
	size_t n, cap;
	struct ht_u64map last; /* hash -> 1 + the last id added with it (0: none) */
	uint32_t *next;        /* by id: 1 + the one added before it with its hash */
	size_t cap_next;
};

/* The id of s[0..len), added on first use: 0, -ENOMEM or -E2BIG. */
int strtab__intern(struct ht_strtab *t, const char *s, size_t len, uint32_t *id);

/* The interned copy of s; NULL when out of memory. */
const char *strtab__str(struct ht_strtab *t, const char *s);

void strtab__free(struct ht_strtab *t);

/* Format a byte count as "1.5 MiB"; returns buf. */
const char *human_bytes(uint64_t bytes, char *buf, size_t len);

/* openat2(2) with these open flags and RESOLVE_* flags: an fd, or -1
 * with errno set (ENOSYS before Linux 5.6). */
int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

/* Grow *arr (element size esz) so that it holds at least need elements. */
int grow_array(void **arr, size_t *cap, size_t need, size_t esz);

#endif
