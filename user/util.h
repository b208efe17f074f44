/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the user-space modules. */
#ifndef HEAPTRACE_UTIL_H
#define HEAPTRACE_UTIL_H

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

/* Format a byte count as "1.5 MiB"; returns buf. */
const char *human_bytes(uint64_t bytes, char *buf, size_t len);

/* Grow *arr (element size esz) so that it holds at least need elements. */
int grow_array(void **arr, size_t *cap, size_t need, size_t esz);

#endif
