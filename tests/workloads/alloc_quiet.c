// SPDX-License-Identifier: MIT
/*
 * alloc_quiet: memory that grows with no call to any malloc entry point -
 * 1 MiB of anonymous memory mapped and touched every 100 ms, for 7 s (70
 * MiB), through mmap only. heaptrace must say that it sees nothing
 * (tests/alloc_it.c); the exit status stays 0.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "common.h"

int main(void)
{
	const struct timespec tick = { 0, 100 * 1000 * 1000 };

	for (int i = 0; i < 70; i++) {
		void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED)
			die("mmap failed");
		memset(p, 1, 1 << 20);
		nanosleep(&tick, NULL);
	}
	return 0;
}
