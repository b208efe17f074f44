// SPDX-License-Identifier: MIT
/*
 * The libheaptrace examples, run as a user would against the known
 * workload, with their whole output compared exactly. Needs root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testlib.h"

static const char *out_dir(void)
{
	return env_or("HEAPTRACE_OUT", ".output");
}

/* Run a shell command line, return its stdout (malloc'ed) and status. */
static char *run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	size_t n;

	assert_non_null(p);
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	*status = pclose(p);
	return buf;
}

static void size_histogram_counts_sizes_of_known_workload(void **state)
{
	char cmd[512];
	char *out;
	int st;

	snprintf(cmd, sizeof(cmd), "%s/examples/size_histogram -- %s/tests/known memalign",
		 out_dir(), out_dir());
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	/* 50 each of 100, 128, 200, 300 and 400 bytes, one thread. */
	assert_string_equal(out, "thread 1\n"
				 "  64-127: 50\n"
				 "  128-255: 100\n"
				 "  256-511: 100\n");
	free(out);
	(void)state;
}

static void growth_alert_names_the_growing_stack_once(void **state)
{
	char cmd[512];
	char *out;
	int st;

	/* big: 2 x 8 MiB allocated and freed (never +10 MiB live), then
	 * 3 x 4 MiB kept: the third pushes big_malloc's growth to 12 MiB. */
	snprintf(cmd, sizeof(cmd), "%s/examples/growth_alert 10 60 -- %s/tests/known big",
		 out_dir(), out_dir());
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	/* Below main, glibc's frames are named by its symbol table or, with
	 * libc6-dbg installed, by DWARF (__libc_start_main_impl): compare the
	 * workload's part exactly and count the rest. */
	static const char want[] = "ALERT: live memory of stack 1 grew by 12582912 bytes\n"
				   "  big_malloc\n"
				   "  run_big\n"
				   "  main\n";
	assert_memory_equal(out, want, sizeof(want) - 1);
	assert_non_null(strstr(out + sizeof(want) - 1, "  __libc_start_call_main\n"));
	assert_non_null(strstr(out, "  _start\n"));
	assert_null(strstr(out + 1, "ALERT"));
	free(out);
	(void)state;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(size_histogram_counts_sizes_of_known_workload),
		cmocka_unit_test(growth_alert_names_the_growing_stack_once),
	};

	return test_main(argc, argv, "libheaptrace examples", tests, ARRAY_SIZE(tests), NULL, NULL);
}
