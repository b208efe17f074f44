// SPDX-License-Identifier: MIT
/* Helpers shared by the integration test programs; see testlib.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testlib.h"

extern char **environ;

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Everything we started and have not reaped; teardown kills leftovers. */
static pid_t children[32];

void track_child(pid_t pid)
{
	for (size_t i = 0; i < ARRAY_SIZE(children); i++) {
		if (!children[i]) {
			children[i] = pid;
			return;
		}
	}
	fail_msg("too many child processes");
}

void untrack_child(pid_t pid)
{
	for (size_t i = 0; i < ARRAY_SIZE(children); i++)
		if (children[i] == pid)
			children[i] = 0;
}

void kill_children(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(children); i++) {
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	}
}

int teardown_children(void **state)
{
	kill_children();
	(void)state;
	return 0;
}

pid_t spawn(char *const argv[], char *const envp[], int in, int out, int err)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int fds[3] = { in, out, err };

		for (int i = 0; i < 3; i++) {
			if (dup2(fds[i] >= 0 ? fds[i] : null, i) < 0)
				_exit(126);
		}
		signal(SIGPIPE, SIG_DFL);
		execve(argv[0], argv, envp ? envp : environ);
		dprintf(2, "%s: cannot execute %s: %s\n", program_invocation_short_name,
			argv[0], strerror(errno));
		_exit(127);
	}
	track_child(pid);
	return pid;
}

bool drain(int fd, struct buf *b)
{
	for (;;) {
		size_t room = sizeof(b->data) - 1 - b->len;
		char scratch[4096];
		ssize_t n = read(fd, room ? b->data + b->len : scratch, room ? room : sizeof(scratch));

		if (n > 0) {
			if (room) {
				b->len += (size_t)n;
				b->data[b->len] = '\0';
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

int pipe_nonblock(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	return fcntl(fds[0], F_SETFL, O_NONBLOCK);
}

int wait_for(pid_t pid, double timeout, int fd, struct buf *b)
{
	double deadline = now() + timeout;

	for (;;) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			untrack_child(pid);
			if (fd >= 0)
				drain(fd, b);
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			return 128 + WTERMSIG(status);
		}
		if (r < 0 && errno != EINTR)
			fail_msg("waitpid(%d): %s", (int)pid, strerror(errno));
		if (now() > deadline) {
			print_error("process %d still running after %.0f s; killing it\n",
				    (int)pid, timeout);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			untrack_child(pid);
			return -1;
		}
		if (fd >= 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 20) > 0)
				drain(fd, b);
		} else {
			usleep(10000);
		}
	}
}

bool wait_for_text(int fd, struct buf *b, const char *needle, double timeout)
{
	double deadline = now() + timeout;

	while (!strstr(b->data, needle)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((deadline - now()) * 1000);

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		if (!drain(fd, b) && !strstr(b->data, needle))
			return false;
	}
	return true;
}

int read_byte(int fd, double timeout)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char c;

	if (poll(&p, 1, (int)(timeout * 1000)) <= 0)
		return -1;
	return read(fd, &c, 1) == 1 ? c : -1;
}

void write_byte(int fd, char c)
{
	assert_int_equal(write(fd, &c, 1), 1);
}

void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void read_file(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	b->len = 0;
	b->data[0] = '\0';
	if (fd < 0)
		return;
	drain(fd, b);
	close(fd);
}

const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int remove_tree(const char *path)
{
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int make_tmpdir(char *tmpl)
{
	if (mkdtemp(tmpl))
		return 0;
	fprintf(stderr, "%s: mkdtemp %s: %s\n", program_invocation_short_name, tmpl,
		strerror(errno));
	return -1;
}

void finish_tmpdir(const char *prog, const char *what, const char *dir)
{
	if (getenv("HEAPTRACE_TEST_KEEP"))
		fprintf(stderr, "%s: %s kept in %s\n", prog, what, dir);
	else
		remove_tree(dir);
}

json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("report: no field \"%s\" in %.400s", key,
			 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	return v;
}

int64_t get_int(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	if (!json_object_is_type(v, json_type_int))
		fail_msg("report: \"%s\" is not an integer: %.400s", key,
			 json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	return json_object_get_int64(v);
}

void warn_unless_root(void)
{
	if (geteuid() != 0)
		fprintf(stderr, "%s: not root; heaptrace will likely fail\n",
			program_invocation_short_name);
}

const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

double test_timeout(double def)
{
	double t = atof(env_or("HEAPTRACE_TEST_TIMEOUT", "0"));

	return t > 0 ? t : def;
}

int test_main(int argc, char **argv, const char *name, const struct CMUnitTest *tests,
	      size_t n, int (*setup)(void **state), int (*teardown)(void **state))
{
	if (argc > 2) {
		fprintf(stderr, "usage: %s [TEST-NAME-PATTERN]\n", argv[0]);
		return 2;
	}
	if (argc == 2)
		cmocka_set_test_filter(argv[1]);
	signal(SIGPIPE, SIG_IGN);
	return _cmocka_run_group_tests(name, tests, n, setup, teardown);
}
