/* SPDX-License-Identifier: MIT */
/*
 * What the test workloads share: the attribute that keeps a call site its
 * own frame, output that allocates nothing (no stdio), the handshake with
 * the test that drives a workload, and the main() of the allocator
 * workloads. All static inline: a workload takes what it needs.
 */
#ifndef HEAPTRACE_WORKLOADS_COMMON_H
#define HEAPTRACE_WORKLOADS_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

/*
 * tests/alloc.mk defines ALLOC_LINKED when it links a workload with its
 * allocator. tests/tests.mk builds every workload plainly too: there the
 * allocator's API is declared weak, the program links, and (never run)
 * it would find the API missing.
 */
#ifdef ALLOC_LINKED
#define WEAK
#define ALLOC_PRESENT(fn) true
#else
#define WEAK __attribute__((weak))
#define ALLOC_PRESENT(fn) ((fn) != NULL)
#endif

/* All len bytes of s to fd, resuming after signals; gives up if fd fails. */
static inline void write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* s on stderr. */
static inline void say(const char *s)
{
	write_all(2, s, strlen(s));
}

/* "PROGRAM: what" on stderr, and exit 1. */
static inline void die(const char *what)
{
	say(program_invocation_short_name);
	say(": ");
	say(what);
	say("\n");
	_exit(1);
}

/* Tell the driving test we are ready ('R' on stdout), wait for its byte. */
static inline bool handshake_ready(void)
{
	char c;

	return write(1, "R", 1) == 1 && read(0, &c, 1) == 1;
}

/* Tell the driving test we are done ('D' on stdout). */
static inline bool handshake_done(void)
{
	return write(1, "D", 1) == 1;
}

/*
 * main() of an allocator workload: run() once; with the argument "wait",
 * between handshake_ready() and handshake_done(). Returns 2 if the
 * allocator is not there (!present), 1 if the handshake failed, else 0.
 */
static inline int alloc_workload_main(int argc, char **argv, bool present, void (*run)(void))
{
	bool wait = argc > 1 && !strcmp(argv[1], "wait");

	if (!present)
		return 2;
	if (wait && !handshake_ready())
		return 1;
	run();
	return wait && !handshake_done() ? 1 : 0;
}

#endif /* HEAPTRACE_WORKLOADS_COMMON_H */
