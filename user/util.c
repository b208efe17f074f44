// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include "util.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

uint64_t hash_words(const uint64_t *w, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;

	for (size_t i = 0; i < n; i++)
		h = hash_u64(h ^ w[i]) + i;
	return h;
}

uint64_t hash_str(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return hash_u64(h);
}

/* --- u64 -> u64 table ------------------------------------------------- */

static int map_grow(struct ht_u64map *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 64;
	struct ht_u64slot *old = m->slots;
	size_t nold = m->nslots;

	m->slots = calloc(n, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->nslots = n;
	for (size_t j = 0; j < nold; j++)
		if (old[j].key)
			*u64map__probe(m, old[j].key) = old[j];
	free(old);
	return 0;
}

uint64_t *u64map__insert_slow(struct ht_u64map *m, uint64_t key, bool *added)
{
	if (key) {
		if (map_grow(m))
			return NULL;
		return u64map__insert(m, key, added);
	}
	if (added)
		*added = !m->has_zero;
	if (!m->has_zero) {
		m->has_zero = true;
		m->zero_val = 0;
		m->n++;
	}
	return &m->zero_val;
}

size_t u64map__count(const struct ht_u64map *m)
{
	return m->n;
}

size_t u64map__mem_bytes(const struct ht_u64map *m)
{
	return m->nslots * sizeof(*m->slots);
}

void u64map__clear(struct ht_u64map *m)
{
	if (m->nslots)
		memset(m->slots, 0, m->nslots * sizeof(*m->slots));
	m->has_zero = false;
	m->n = 0;
}

void u64map__free(struct ht_u64map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* --- string interner -------------------------------------------------- */

int strtab__intern(struct ht_strtab *t, const char *s, size_t len, uint32_t *id)
{
	uint64_t *last;
	char *copy;

	last = u64map__insert(&t->last, hash_str(s, len), NULL);
	if (!last)
		return -ENOMEM;
	for (uint64_t i = *last; i; i = t->next[i - 1]) {
		if (!strncmp(t->v[i - 1], s, len) && !t->v[i - 1][len]) {
			*id = (uint32_t)(i - 1);
			return 0;
		}
	}
	if (t->n >= UINT32_MAX - 1)
		return -E2BIG;
	if (grow_array((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)) ||
	    grow_array((void **)&t->next, &t->cap_next, t->n + 1, sizeof(*t->next)))
		return -ENOMEM;
	copy = strndup(s, len);
	if (!copy)
		return -ENOMEM;
	t->v[t->n] = copy;
	t->next[t->n] = (uint32_t)*last;
	*last = t->n + 1;
	*id = (uint32_t)t->n++;
	return 0;
}

const char *strtab__str(struct ht_strtab *t, const char *s)
{
	uint32_t id;

	return strtab__intern(t, s, strlen(s), &id) ? NULL : t->v[id];
}

void strtab__free(struct ht_strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->next);
	u64map__free(&t->last);
	memset(t, 0, sizeof(*t));
}

const char *human_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = { .flags = flags, .resolve = resolve };

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int grow_array(void **arr, size_t *cap, size_t need, size_t esz)
{
	size_t ncap = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / esz)
			return -ENOMEM;
		ncap *= 2;
	}
	p = realloc(*arr, ncap * esz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}
