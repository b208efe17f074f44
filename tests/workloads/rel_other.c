// SPDX-License-Identifier: MIT
/*
 * rel_other: the program rel_work execs into in the reliability suite's
 * exec tests. Built without PIE next to a non-PIE rel_work, its code sits
 * at the same addresses as rel_work's, under other names: a report that
 * symbolized the old program's stacks against this one would name these
 * functions. `rel_other after-exec`: 100 x other_after_exec_alloc(56)
 * kept, "execed PID" on fd 3, wait for end of file on stdin, exit 5.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

void other_wide_function(volatile uint64_t *v);
void *other_after_exec_alloc(size_t size);

#define STEP(n) v[(n) % 8] = v[((n) + 3) % 8] * 2654435761u + (n);
#define STEP8(n) STEP(n) STEP(n + 1) STEP(n + 2) STEP(n + 3) STEP(n + 4) STEP(n + 5) \
	STEP(n + 6) STEP(n + 7)
#define STEP64(n) STEP8(n) STEP8(n + 8) STEP8(n + 16) STEP8(n + 24) STEP8(n + 32) \
	STEP8(n + 40) STEP8(n + 48) STEP8(n + 56)

/* Wide enough to cover the first pages of rel_work's code. */
NOINLINE void other_wide_function(volatile uint64_t *v)
{
	STEP64(0) STEP64(64) STEP64(128) STEP64(192) STEP64(256) STEP64(320)
	STEP64(384) STEP64(448) STEP64(512) STEP64(576)
}

NOINLINE void *other_after_exec_alloc(size_t size) { return malloc(size); }

static void *kept[100];

int main(int argc, char **argv)
{
	char msg[40] = "execed ", tmp[16];
	size_t len = 7;
	int n = 0;
	unsigned int pid = (unsigned int)getpid();
	char c;

	if (argc != 2 || strcmp(argv[1], "after-exec")) {
		volatile uint64_t v[8] = { 1 };

		other_wide_function(v);
		return 2;
	}
	for (int i = 0; i < 100; i++)
		kept[i] = other_after_exec_alloc(56);
	do
		tmp[n++] = (char)('0' + pid % 10);
	while ((pid /= 10));
	while (n > 0)
		msg[len++] = tmp[--n];
	msg[len++] = '\n';
	write_all(3, msg, len);
	while (read(0, &c, 1) > 0 || (errno == EINTR))
		;
	return 5;
}
