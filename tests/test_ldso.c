// SPDX-License-Identifier: MIT
/*
 * Unit tests of the dynamic loader emulation (user/ldso.c): the objects a
 * launched command will map, on this Debian system's own programs.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include "ldso.h"

struct list {
	char paths[64][PATH_MAX];
	int n;
};

static int collect(const char *path, void *ctx)
{
	struct list *l = ctx;

	if (l->n < 64)
		snprintf(l->paths[l->n++], PATH_MAX, "%s", path);
	return 0;
}

static int find(const struct list *l, const char *base)
{
	for (int i = 0; i < l->n; i++) {
		const char *slash = strrchr(l->paths[i], '/');

		/* real paths: libz.so.1 is libz.so.1.2.13 */
		if (!strncmp(slash ? slash + 1 : l->paths[i], base, strlen(base)))
			return i;
	}
	return -1;
}

static struct list *objects(char *const argv[], int *err)
{
	static struct list l;

	memset(&l, 0, sizeof(l));
	*err = ldso__command_objects(argv, NULL, collect, &l);
	return &l;
}

/* `true`, found in PATH: itself first, then its loader and libc. */
static void test_program_in_path_and_its_libraries(void **state)
{
	char *argv[] = { "true", NULL };
	struct list *l;
	int err;

	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	unsetenv("LD_PRELOAD");
	l = objects(argv, &err);
	assert_int_equal(err, 0);
	assert_true(l->n >= 3);
	assert_string_equal(l->paths[0], "/usr/bin/true");
	assert_true(find(l, "libc.so.6") > 0);
	assert_true(find(l, "ld-linux-x86-64.so.2") > 0);
	/* real paths, as /proc/PID/maps shows them */
	for (int i = 0; i < l->n; i++)
		assert_int_equal(l->paths[i][0], '/');
	(void)state;
}

/* LD_PRELOAD libraries are mapped too, before the program's own. */
static void test_ld_preload_is_included(void **state)
{
	char *argv[] = { "/bin/true", NULL };
	struct list *l;
	int err;

	setenv("LD_PRELOAD", "libz.so.1", 1);
	l = objects(argv, &err);
	unsetenv("LD_PRELOAD");
	assert_int_equal(err, 0);
	assert_true(find(l, "libz.so.1") > 0);
	assert_true(find(l, "libz.so.1") < find(l, "libc.so.6"));
	(void)state;
}

/* A #! script runs its interpreter. */
static void test_script_maps_its_interpreter(void **state)
{
	char path[] = "/tmp/ldso-test-XXXXXX";
	char *argv[] = { path, NULL };
	struct list *l;
	int fd = mkstemp(path), err;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	l = objects(argv, &err);
	unlink(path);
	assert_int_equal(err, 0);
	assert_true(l->n >= 2);
	assert_true(strstr(l->paths[0], "sh") != NULL || strstr(l->paths[0], "dash") != NULL);
	assert_true(find(l, "libc.so.6") > 0);
	(void)state;
}

static void test_missing_program_is_enoent(void **state)
{
	char *argv[] = { "/nonexistent/program", NULL };
	char *argv2[] = { "no-such-program-in-path", NULL };
	int err;

	objects(argv, &err);
	assert_int_equal(err, -ENOENT);
	objects(argv2, &err);
	assert_int_equal(err, -ENOENT);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_program_in_path_and_its_libraries),
		cmocka_unit_test(test_ld_preload_is_included),
		cmocka_unit_test(test_script_maps_its_interpreter),
		cmocka_unit_test(test_missing_program_is_enoent),
	};

	return cmocka_run_group_tests_name("loader emulation", tests, NULL, NULL);
}
