/* SPDX-License-Identifier: MIT */
/*
 * alloc_bump: an allocator heaptrace does not recognise - the standard
 * entry points (malloc, calloc, realloc, reallocarray, free,
 * posix_memalign, aligned_alloc, memalign, valloc, pvalloc) over one
 * mmap'd arena, never reusing memory. Built by tests/alloc.mk into the
 * executable of alloc_own (a program with its own malloc, which the
 * libraries it calls bind to) and as libbump.so (an LD_PRELOAD
 * allocator). A header: every .c of tests/workloads is a program.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define BUMP_ARENA (256UL << 20)
#define BUMP_USED __attribute__((used, noinline))

void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void *reallocarray(void *p, size_t n, size_t size);
void free(void *p);
int posix_memalign(void **out, size_t align, size_t size);
void *aligned_alloc(size_t align, size_t size);
void *memalign(size_t align, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);
size_t malloc_usable_size(void *p);

static char *bump_arena;
static size_t bump_top;
static int bump_lock;

/* Each block is preceded by its size. */
static void *bump(size_t align, size_t size)
{
	uintptr_t at, base;

	if (align < 16)
		align = 16;
	while (__atomic_exchange_n(&bump_lock, 1, __ATOMIC_ACQUIRE))
		;
	if (!bump_arena) {
		void *m = mmap(NULL, BUMP_ARENA, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		bump_arena = m == MAP_FAILED ? NULL : m;
	}
	base = (uintptr_t)bump_arena;
	at = (base + bump_top + sizeof(size_t) + align - 1) & ~(uintptr_t)(align - 1);
	if (!bump_arena || size > BUMP_ARENA || at + size > base + BUMP_ARENA) {
		__atomic_store_n(&bump_lock, 0, __ATOMIC_RELEASE);
		errno = ENOMEM;
		return NULL;
	}
	bump_top = at + size - base;
	__atomic_store_n(&bump_lock, 0, __ATOMIC_RELEASE);
	((size_t *)at)[-1] = size;
	return (void *)at;
}

static void *bump_resize(void *p, size_t size)
{
	size_t old = p ? ((size_t *)p)[-1] : 0;
	void *q = bump(16, size);

	if (q && p)
		memcpy(q, p, old < size ? old : size);
	return q;
}

BUMP_USED void *malloc(size_t size) { return bump(16, size); }
BUMP_USED void free(void *p) { (void)p; }
BUMP_USED size_t malloc_usable_size(void *p) { return p ? ((size_t *)p)[-1] : 0; }
BUMP_USED void *memalign(size_t align, size_t size) { return bump(align, size); }
BUMP_USED void *aligned_alloc(size_t align, size_t size) { return bump(align, size); }
BUMP_USED void *valloc(size_t size) { return bump(4096, size); }
BUMP_USED void *pvalloc(size_t size) { return bump(4096, (size + 4095) & ~4095UL); }

BUMP_USED void *calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	p = bump(16, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

BUMP_USED void *realloc(void *p, size_t size)
{
	if (p && !size)
		return NULL; /* p is freed: nothing to do */
	return bump_resize(p, size);
}

BUMP_USED void *reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return bump_resize(p, n * size);
}

BUMP_USED int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	p = bump(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}
