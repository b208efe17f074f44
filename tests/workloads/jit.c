// SPDX-License-Identifier: MIT
/*
 * jit: allocations from generated code, named by a perf map, for
 * tests/symbolize_it.c. Like a JIT compiler, it writes machine
 * code into an anonymous mapping and describes it in /tmp/perf-PID.map
 * ("START SIZE name", hex). The map is left behind for heaptrace to read
 * at report time; the test removes it.
 *
 * Profile, per stack (frames[0]):
 *   jit_alloc_77   (in the perf map)     7 x malloc(77), kept
 *   [unknown]+0x.. (code not in the map) 3 x malloc(55), kept
 * Each generated function keeps a frame pointer and calls malloc; it is
 * called from run_jit (frames[1]).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

typedef void *(*alloc_fn)(void);

/* push %rbp; mov %rsp,%rbp; mov $SIZE,%edi; movabs $malloc,%rax;
 * call *%rax; pop %rbp; ret */
static size_t emit(uint8_t *p, uint32_t size)
{
	static const uint8_t head[] = { 0x55, 0x48, 0x89, 0xe5, 0xbf };
	static const uint8_t mov_rax[] = { 0x48, 0xb8 };
	static const uint8_t tail[] = { 0xff, 0xd0, 0x5d, 0xc3 };
	void *(*target)(size_t) = malloc;
	uint64_t m = (uint64_t)(uintptr_t)target;
	size_t n = 0;

	memcpy(p + n, head, sizeof(head));
	n += sizeof(head);
	memcpy(p + n, &size, 4);
	n += 4;
	memcpy(p + n, mov_rax, sizeof(mov_rax));
	n += sizeof(mov_rax);
	memcpy(p + n, &m, 8);
	n += 8;
	memcpy(p + n, tail, sizeof(tail));
	n += sizeof(tail);
	return n;
}

static void *kept[10];

NOINLINE static void run_jit(alloc_fn named, alloc_fn unnamed)
{
	for (int i = 0; i < 7; i++)
		kept[i] = named();
	for (int i = 0; i < 3; i++)
		kept[7 + i] = unnamed();
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *code = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char path[64], line[128];
	size_t len;
	int fd, n;

	if (code == MAP_FAILED)
		return 1;
	len = emit(code, 77);
	emit(code + 0x800, 55);
	if (mprotect(code, (size_t)page, PROT_READ | PROT_EXEC))
		return 1;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	/* no stdio: nothing but the sites allocates */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	n = snprintf(line, sizeof(line), "%llx %zx jit_alloc_77\n",
		     (unsigned long long)(uintptr_t)code, len);
	if (fd < 0 || write(fd, line, (size_t)n) != n || close(fd))
		return 1;
	run_jit((alloc_fn)(void *)code, (alloc_fn)(void *)(code + 0x800));
	return 0;
}
