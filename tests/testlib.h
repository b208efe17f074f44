/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the cmocka integration test programs (tests/NAME_it.c):
 * child processes with timeouts, pipes and buffers, files, heaptrace's
 * JSON reports, the command line and the temporary directory.
 *
 * Functions that check something fail the running cmocka test, so they
 * may be called only from inside a test (or its setup and teardown).
 */
#ifndef HEAPTRACE_TESTLIB_H
#define HEAPTRACE_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* ---- time ---- */

/* Seconds on CLOCK_MONOTONIC. */
double now(void);

/* Sleep for s seconds, resuming after signals. */
void sleep_s(double s);

/* ---- child processes ---- */

/*
 * Remember pid as a child that kill_children() must kill; fails the test
 * if more than 32 are tracked at once. spawn() and wait_for() track and
 * forget their children themselves.
 */
void track_child(pid_t pid);

/* Forget pid (it was reaped). */
void untrack_child(pid_t pid);

/* SIGKILL and reap every tracked child (test teardown). */
void kill_children(void);

/* kill_children() as a cmocka teardown. */
int teardown_children(void **state);

/*
 * Start argv[0] (a path) with envp as its environment (NULL: ours) and
 * in, out and err as its stdin, stdout and stderr (-1: /dev/null), and
 * track it. Our own descriptors should be O_CLOEXEC: the child is meant
 * to keep only these three.
 */
pid_t spawn(char *const argv[], char *const envp[], int in, int out, int err);

/* What we read from a child: NUL-terminated, the rest dropped when full. */
struct buf {
	char data[1 << 17];
	size_t len;
};

/* Append what fd has now to b; false at end of file or on error. */
bool drain(int fd, struct buf *b);

/* pipe2(O_CLOEXEC) with a non-blocking read end; -1 on error. */
int pipe_nonblock(int fds[2]);

/*
 * Wait up to timeout seconds for the tracked child pid, collecting fd (if
 * >= 0) into b meanwhile. Returns its exit code, 128 + the signal number
 * if it was killed, or -1 if it did not end in time (it is then killed).
 */
int wait_for(pid_t pid, double timeout, int fd, struct buf *b);

/* Read fd into b until needle shows up; false on end of file or timeout. */
bool wait_for_text(int fd, struct buf *b, const char *needle, double timeout);

/* One byte from fd within timeout seconds; -1 if none came. */
int read_byte(int fd, double timeout);

/* Write the byte c to fd, which must take it. */
void write_byte(int fd, char c);

/* Close *fd if it is open, and mark it closed (-1). */
void close_fd(int *fd);

/* ---- files ---- */

/* The file at path into b; b is empty if it cannot be read. */
void read_file(const char *path, struct buf *b);

/* What follows the last '/' of path (path itself if none; NULL for NULL). */
const char *base_name(const char *path);

/* Remove path and everything under it, not following symlinks. */
int remove_tree(const char *path);

/*
 * A test program's temporary directory: mkdtemp(tmpl), tmpl ending in
 * XXXXXX. 0, or -1 after a message naming the program.
 */
int make_tmpdir(char *tmpl);

/*
 * The end of a test program's temporary directory dir: kept, with a
 * message "PROG: WHAT kept in DIR", if HEAPTRACE_TEST_KEEP is set, else
 * removed with everything in it.
 */
void finish_tmpdir(const char *prog, const char *what, const char *dir);

/* ---- heaptrace's JSON reports ---- */

/* Member key of object o; fails the test if there is none. */
json_object *get(json_object *o, const char *key);

/* Integer member key of o; fails the test if missing or not an integer. */
int64_t get_int(json_object *o, const char *key);

/* ---- main, the command line and the environment ---- */

/* Warn, naming the program, if it does not run as root (to load BPF). */
void warn_unless_root(void);

/* The environment variable name if set and not empty, else def. */
const char *env_or(const char *name, const char *def);

/*
 * Seconds one run may take: HEAPTRACE_TEST_TIMEOUT, or def if that is
 * unset, empty or not a positive number.
 */
double test_timeout(double def);

struct CMUnitTest;

/*
 * All of a test program's main(): runs its n tests as the cmocka group
 * name, between setup and teardown (either may be NULL), with SIGPIPE
 * ignored; the command line [TEST-NAME-PATTERN] runs only the tests whose
 * names match. Returns main's exit code: cmocka's, or 2 after printing the
 * usage if there are more arguments.
 */
int test_main(int argc, char **argv, const char *name, const struct CMUnitTest *tests,
	      size_t n, int (*setup)(void **state), int (*teardown)(void **state));

#endif /* HEAPTRACE_TESTLIB_H */
