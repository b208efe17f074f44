// SPDX-License-Identifier: MIT
/*
 * alloc_cxx: C++ operator new/delete in every variant, with a known
 * profile. tests/alloc_it.c runs it on glibc (libstdc++'s operators call
 * malloc: counted once, by malloc's probe), with jemalloc preloaded
 * (LD_PRELOAD, attach mode), and linked with tcmalloc and with mimalloc,
 * whose operators are probed themselves.
 *
 * Sites (the first frame in this program), called from run_cxx,
 * alloc_workload_main, main:
 *   cx_new              100 x new Node (48 bytes), kept
 *   cx_new_tmp          50 x new Node, each deleted at once by cx_delete
 *                       (sized delete): temporary
 *   cx_new_array        50 x new char[200], each freed at once by
 *                       cx_delete_array (delete[]): temporary
 *   cx_nothrow          50 x new (std::nothrow) char[300], kept
 *   cx_aligned          50 x new Aligned (128 bytes, alignas(64)), kept
 *   cx_aligned_tmp      20 x new Aligned, each deleted at once by
 *                       cx_delete_aligned (sized aligned delete): temporary
 *   cx_aligned_nothrow  20 x operator new(256, align_val_t(128), nothrow),
 *                       each freed at once by the matching delete: temporary
 *   cx_new_unsized      20 x operator new(64), each freed at once by
 *                       cx_delete_unsized: operator delete(p): temporary
 *
 * `alloc_cxx wait` writes 'R' on stdout and waits for a byte on stdin
 * before it starts, and writes 'D' when done. No iostreams.
 */
#include <cstddef>
#include <cstring>
#include <new>
#include <unistd.h>

#include "common.h"

struct Node {
	Node *next;
	char payload[40];
};

struct alignas(64) Aligned {
	char data[128];
};

static_assert(sizeof(Node) == 48, "Node is 48 bytes");
static_assert(sizeof(Aligned) == 128, "Aligned is 128 bytes");

extern "C" {
Node *cx_new(void);
Node *cx_new_tmp(void);
void cx_delete(Node *p);
char *cx_new_array(void);
void cx_delete_array(char *p);
char *cx_nothrow(void);
Aligned *cx_aligned(void);
Aligned *cx_aligned_tmp(void);
void cx_delete_aligned(Aligned *p);
void *cx_aligned_nothrow(void);
void cx_delete_aligned_nothrow(void *p);
void *cx_new_unsized(void);
void cx_delete_unsized(void *p);
void run_cxx(void);

static void *kept[300];

NOINLINE Node *cx_new(void) { return new Node(); }
NOINLINE Node *cx_new_tmp(void) { return new Node(); }
NOINLINE void cx_delete(Node *p) { delete p; }
NOINLINE char *cx_new_array(void) { return new char[200]; }
NOINLINE void cx_delete_array(char *p) { delete[] p; }
NOINLINE char *cx_nothrow(void) { return new (std::nothrow) char[300]; }
NOINLINE Aligned *cx_aligned(void) { return new Aligned(); }
NOINLINE Aligned *cx_aligned_tmp(void) { return new Aligned(); }
NOINLINE void cx_delete_aligned(Aligned *p) { delete p; }
NOINLINE void *cx_aligned_nothrow(void)
{
	return ::operator new(256, std::align_val_t(128), std::nothrow);
}
NOINLINE void cx_delete_aligned_nothrow(void *p)
{
	::operator delete(p, std::align_val_t(128), std::nothrow);
}
NOINLINE void *cx_new_unsized(void) { return ::operator new(64); }
NOINLINE void cx_delete_unsized(void *p) { ::operator delete(p); }

NOINLINE void run_cxx(void)
{
	int k = 0;

	for (int i = 0; i < 100; i++)
		kept[k++] = cx_new();
	for (int i = 0; i < 50; i++)
		cx_delete(cx_new_tmp());
	for (int i = 0; i < 50; i++)
		cx_delete_array(cx_new_array());
	for (int i = 0; i < 50; i++)
		kept[k++] = cx_nothrow();
	for (int i = 0; i < 50; i++)
		kept[k++] = cx_aligned();
	for (int i = 0; i < 20; i++)
		cx_delete_aligned(cx_aligned_tmp());
	for (int i = 0; i < 20; i++)
		cx_delete_aligned_nothrow(cx_aligned_nothrow());
	for (int i = 0; i < 20; i++)
		cx_delete_unsized(cx_new_unsized());
}
}

int main(int argc, char **argv)
{
	return alloc_workload_main(argc, argv, true, run_cxx);
}
