// SPDX-License-Identifier: MIT
/*
 * symtarget: a process for tests/test_symbolize.c to symbolize from the
 * outside. It records return addresses at known places, prints them with
 * their source lines, then waits for a byte (or end of file) on stdin so
 * that the test can read its mappings while it runs.
 *
 * Output, one line per site: "NAME ADDRESS LINE" (address in hex), where
 * ADDRESS is a return address in the function NAME and LINE the line of
 * that call; then "ready".
 *
 *   st_inner        in st_inline_inner (always_inline), inlined into
 *                   st_inline_outer (always_inline), inlined into
 *                   st_exported: the call to st_capture
 *   st_inner_call   st_inline_outer's line calling st_inline_inner
 *   st_outer_call   st_exported's line calling st_inline_outer
 *   st_static       in st_static_fn (static, not exported): its call
 *
 * Built -g -O2 -rdynamic (st_exported and st_capture are in .dynsym), as
 * PIE and -no-pie; a stripped copy and a copy with its debug information
 * in a separate file are made from the PIE one (see tests/tests.mk).
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noipa))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

static volatile uint64_t addr[2];
static volatile int line[4];

/* Exported: any caller's return address, where it called from. */
NOINLINE void st_capture(int slot);
NOINLINE void st_exported(void);

NOINLINE void st_capture(int slot)
{
	addr[slot] = (uint64_t)__builtin_return_address(0);
}

ALWAYS_INLINE void st_inline_inner(void)
{
	st_capture(0); line[0] = __LINE__;
}

ALWAYS_INLINE void st_inline_outer(void)
{
	st_inline_inner(); line[1] = __LINE__;
}

NOINLINE void st_exported(void)
{
	st_inline_outer(); line[2] = __LINE__;
}

static NOINLINE void st_static_fn(void)
{
	st_capture(1); line[3] = __LINE__;
}

int main(void)
{
	char c;

	st_exported();
	st_static_fn();
	printf("st_inner %llx %d\n", (unsigned long long)addr[0], line[0]);
	printf("st_inner_call 0 %d\n", line[1]);
	printf("st_outer_call 0 %d\n", line[2]);
	printf("st_static %llx %d\n", (unsigned long long)addr[1], line[3]);
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) < 0)
		;
	return 0;
}
