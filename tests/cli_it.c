// SPDX-License-Identifier: MIT
/*
 * The command line as a user meets it: where reports and recordings go
 * (devices, FIFOs, descriptors, symlinks in shared directories), what is
 * refused before tracing starts, the warnings and one-line errors, and
 * the words of the report. Each test runs the real heaptrace as root and
 * checks what the user sees: the exit status, the exact line, the type
 * of the path afterwards.
 *
 * Usage: cli_it [FILTER]             (cmocka test name pattern)
 * Environment:
 *   HEAPTRACE              heaptrace binary         (./heaptrace)
 *   HEAPTRACE_KNOWN        the `known` workload     (.output/tests/known)
 *   HEAPTRACE_TEST_TIMEOUT seconds one heaptrace run may take (60)
 *   HEAPTRACE_TEST_KEEP    keep the temporary directory
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "testlib.h"

static const char *heaptrace_bin;
static const char *known_bin;
static double run_timeout;
static char tmpdir[] = "/tmp/heaptrace-cli-XXXXXX";
static char *mounted[4];

/* known keep: 1000 x malloc(100), kept (tests/workloads/known.c). */
#define KEEP_ALLOCS 1000
#define KEEP_BYTES 100000

struct result {
	int code;             /* exit code, 128 + signal, -1 on timeout */
	struct buf out, err;
};

static char *path_in_tmp(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
	return p;
}

/* Run argv (NULL-terminated) with stdout to out_fd (-1: a pipe read into
 * r->out) and stderr read into r->err. */
static void run_fd(char *const argv[], int out_fd, struct result *r)
{
	int outp[2] = { -1, -1 }, errp[2];
	pid_t pid;
	double deadline;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pipe_nonblock(errp), 0);
	if (out_fd < 0)
		assert_int_equal(pipe_nonblock(outp), 0);
	pid = spawn(argv, NULL, -1, out_fd >= 0 ? out_fd : outp[1], errp[1]);
	close(errp[1]);
	if (outp[1] >= 0)
		close(outp[1]);
	deadline = now() + run_timeout;
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (outp[0] >= 0)
			drain(outp[0], &r->out);
		drain(errp[0], &r->err);
		if (w == pid) {
			untrack_child(pid);
			r->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			untrack_child(pid);
			r->code = -1;
			break;
		}
		sleep_s(0.005);
	}
	if (outp[0] >= 0) {
		drain(outp[0], &r->out);
		close(outp[0]);
	}
	drain(errp[0], &r->err);
	close(errp[0]);
}

static void run(char *const argv[], struct result *r)
{
	run_fd(argv, -1, r);
}

static void expect_code(const struct result *r, int want)
{
	if (r->code != want)
		fail_msg("heaptrace exited with %d, expected %d; stderr:\n%s", r->code, want,
			 r->err.data);
}

/* stderr holds exactly this line (a whole line). */
static void expect_line(const struct result *r, const char *line)
{
	const char *p = r->err.data;
	size_t len = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == r->err.data || p[-1] == '\n') && p[len] == '\n')
			return;
		p++;
	}
	fail_msg("no line \"%s\" on stderr:\n%s", line, r->err.data);
}

static unsigned int count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* A JSON report of `known keep`, from path or text: exact totals. */
static void expect_keep_report(json_object *o, const char *where)
{
	json_object *t;

	if (!o)
		fail_msg("%s: not a JSON report", where);
	t = get(o, "totals");
	assert_int_equal(get_int(t, "allocs"), KEEP_ALLOCS);
	assert_int_equal(get_int(t, "live_bytes"), KEEP_BYTES);
	json_object_put(o);
}

static void expect_keep_file(const char *path)
{
	expect_keep_report(json_object_from_file(path), path);
}

static void expect_type(const char *path, mode_t type, const char *what)
{
	struct stat st;

	if (lstat(path, &st))
		fail_msg("%s: %s", path, strerror(errno));
	if ((st.st_mode & S_IFMT) != type)
		fail_msg("%s is no longer %s (mode %o)", path, what, st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void expect_text(const char *path, const char *text)
{
	struct buf b;

	read_file(path, &b);
	if (strcmp(b.data, text))
		fail_msg("%s was changed: \"%s\"", path, b.data);
}

/* ---- 1. devices, FIFOs and descriptors are written in place ---- */

static void test_json_to_fifo_is_written_for_its_reader(void **state)
{
	char *fifo = path_in_tmp("report.fifo"), *got = path_in_tmp("fifo.json");
	char *cat[] = { "/bin/cat", fifo, NULL };
	char *argv[] = { (char *)heaptrace_bin, "--json", fifo, "--", (char *)known_bin, "keep",
			 NULL };
	struct result r;
	pid_t reader;
	int out;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	out = open(got, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(out >= 0);
	reader = spawn(cat, NULL, -1, out, -1);
	close(out);
	run(argv, &r);
	expect_code(&r, 0);
	assert_int_equal(wait_for(reader, 10, -1, NULL), 0);
	expect_type(fifo, S_IFIFO, "a FIFO");
	expect_keep_file(got);
	free(fifo);
	free(got);
	(void)state;
}

static void test_json_to_dev_null_keeps_the_device(void **state)
{
	char *argv[] = { (char *)heaptrace_bin, "--json", "/dev/null", "--", (char *)known_bin,
			 "keep", NULL };
	struct result r;
	struct stat st;

	run(argv, &r);
	expect_code(&r, 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	(void)state;
}

/* A device node of its own (a /dev/full) named by opt: written in place,
 * the error is the device's (one line, exit 1), the node stays, and the
 * text report still comes. */
static void expect_full_device_fails(const char *opt, const char *name, const char *what)
{
	char *dev = path_in_tmp(name), *line;
	char *argv[] = { (char *)heaptrace_bin, (char *)opt, dev, "--", (char *)known_bin, "keep",
			 NULL };
	struct result r;

	assert_int_equal(mknod(dev, S_IFCHR | 0666, makedev(1, 7)), 0);
	run(argv, &r);
	expect_code(&r, 1);
	assert_true(asprintf(&line, "heaptrace: can't write %s'%s': No space left on device%s",
			     what, dev, *what ? " (it stopped there)" : "") > 0);
	expect_line(&r, line);
	expect_type(dev, S_IFCHR, "a character device");
	assert_non_null(strstr(r.out.data, "allocations           1000"));
	free(line);
	free(dev);
}

static void test_json_to_full_device_fails_in_place_exit_1(void **state)
{
	expect_full_device_fails("--json", "full", "");
	(void)state;
}

static void test_record_to_full_device_fails_with_one_line_exit_1(void **state)
{
	expect_full_device_fails("--record", "full-rec", "the recording ");
	(void)state;
}

/* bash's >(...) hands heaptrace /dev/fd/63, a pipe. */
static void test_json_to_process_substitution(void **state)
{
	char *got = path_in_tmp("procsub.json"), *script;
	char *argv[] = { "/bin/bash", "-c", NULL, NULL };
	struct result r;

	assert_true(asprintf(&script, "%s --json >(cat > %s) -- %s keep; rc=$?; wait $!; exit $rc",
			     heaptrace_bin, got, known_bin) > 0);
	argv[2] = script;
	run(argv, &r);
	expect_code(&r, 0);
	expect_keep_file(got);
	free(script);
	free(got);
	(void)state;
}

/* --json /dev/stdout with stdout a file: the report lands in that file
 * (through the descriptor), followed by the text report. */
static void test_json_to_dev_stdout_writes_through_the_descriptor(void **state)
{
	char *got = path_in_tmp("stdout.txt");
	char *argv[] = { (char *)heaptrace_bin, "--json", "/dev/stdout", "--", (char *)known_bin,
			 "keep", NULL };
	struct result r;
	struct buf b;
	json_tokener *tok;
	json_object *o;
	int out;

	out = open(got, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(out >= 0);
	run_fd(argv, out, &r);
	close(out);
	expect_code(&r, 0);
	expect_type(got, S_IFREG, "a regular file");
	read_file(got, &b);
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, b.data, (int)b.len);
	assert_non_null(o);
	/* the text report follows the JSON */
	assert_non_null(strstr(b.data + json_tokener_get_parse_end(tok), "allocations"));
	json_tokener_free(tok);
	expect_keep_report(o, got);
	free(got);
	(void)state;
}

/* ---- symlinks: followed as protected_symlinks would ---- */

static void test_planted_symlink_in_sticky_dir_is_replaced_not_followed(void **state)
{
	char *shared = path_in_tmp("shared"), *victim = path_in_tmp("victim");
	char *link = path_in_tmp("shared/out.json");
	char *argv[] = { (char *)heaptrace_bin, "--json", link, "--", (char *)known_bin, "keep",
			 NULL };
	struct result r;

	assert_int_equal(mkdir(shared, 0777), 0);
	assert_int_equal(chmod(shared, 01777), 0);
	write_text(victim, "precious\n");
	assert_int_equal(symlink(victim, link), 0);
	/* planted by another user: nobody */
	assert_int_equal(lchown(link, 65534, 65534), 0);
	run(argv, &r);
	expect_code(&r, 0);
	expect_text(victim, "precious\n");
	expect_type(link, S_IFREG, "replaced by a regular file");
	expect_keep_file(link);
	free(shared);
	free(victim);
	free(link);
	(void)state;
}

static void test_own_symlink_is_followed(void **state)
{
	char *dir = path_in_tmp("own"), *real = path_in_tmp("real.json");
	char *link = path_in_tmp("own/out.json");
	char *argv[] = { (char *)heaptrace_bin, "--json", link, "--", (char *)known_bin, "keep",
			 NULL };
	struct result r;

	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(symlink("../real.json", link), 0);
	run(argv, &r);
	expect_code(&r, 0);
	expect_type(link, S_IFLNK, "a symlink");
	expect_keep_file(real);
	free(dir);
	free(real);
	free(link);
	(void)state;
}

/* ---- 2. every output is checked before tracing starts ---- */

/* A command that leaves a mark if it ever runs. */
static char *marker(void)
{
	char *m = path_in_tmp("ran");

	unlink(m);
	return m;
}

static void expect_refused(char *const argv[], const char *mark, const char *line)
{
	struct result r;

	run(argv, &r);
	expect_code(&r, 2);
	expect_line(&r, line);
	if (count_lines(r.err.data) != 1 && !strstr(r.err.data, "Try 'heaptrace --help'"))
		fail_msg("more than one line on stderr:\n%s", r.err.data);
	if (r.out.len)
		fail_msg("a report was printed although the output was refused:\n%s",
			 r.out.data);
	if (mark && exists(mark))
		fail_msg("the command ran although its output was refused");
}

static void test_json_missing_directory_refused_before_tracing(void **state)
{
	char *mark = marker(), *path = path_in_tmp("nodir/x.json"), *line;
	char *argv[] = { (char *)heaptrace_bin, "--json", path, "--", "/bin/touch", mark, NULL };

	assert_true(asprintf(&line, "heaptrace: can't write '%s': no directory '%s/nodir' "
			     "(heaptrace creates none)", path, tmpdir) > 0);
	expect_refused(argv, mark, line);
	free(line);
	free(path);
	free(mark);
	(void)state;
}

static void mount_ro(const char *dir)
{
	assert_int_equal(mkdir(dir, 0755), 0);
	if (mount("tmpfs", dir, "tmpfs", MS_RDONLY, "size=64k"))
		fail_msg("mount -o ro tmpfs %s: %s", dir, strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(mounted); i++)
		if (!mounted[i]) {
			mounted[i] = strdup(dir);
			return;
		}
	fail_msg("too many mounts");
}

/* opt naming a file in a read-only file system is refused at once. */
static void expect_read_only_refused(const char *opt, const char *sub, const char *file)
{
	char *mark = marker(), *dir = path_in_tmp(sub), *path, *line;
	char *argv[] = { (char *)heaptrace_bin, (char *)opt, NULL, "--", "/bin/touch", mark, NULL };

	assert_true(asprintf(&path, "%s/%s", dir, file) > 0);
	argv[2] = path;
	mount_ro(dir);
	assert_true(asprintf(&line, "heaptrace: can't write '%s': Read-only file system", path) >
		    0);
	expect_refused(argv, mark, line);
	free(line);
	free(path);
	free(dir);
	free(mark);
}

static void test_json_in_read_only_dir_refused_before_tracing(void **state)
{
	expect_read_only_refused("--json", "ro1", "x.json");
	(void)state;
}

static void test_record_in_read_only_dir_refused_before_tracing(void **state)
{
	expect_read_only_refused("--record", "ro2", "x.rec");
	(void)state;
}

static void test_output_dir_naming_a_file_refused_before_tracing(void **state)
{
	char *mark = marker(), *file = path_in_tmp("plain"), *line;
	char *argv[] = { (char *)heaptrace_bin, "-f", "json", "-o", file, "--", "/bin/touch", mark,
			 NULL };

	write_text(file, "x");
	assert_true(asprintf(&line, "heaptrace: can't write to '%s': Not a directory", file) > 0);
	expect_refused(argv, mark, line);
	free(line);
	free(file);
	free(mark);
	(void)state;
}

static void test_keep_without_interval_is_a_usage_error(void **state)
{
	char *mark = marker();
	char *argv[] = { (char *)heaptrace_bin, "-f", "json", "--keep", "3", "--", "/bin/touch",
			 mark, NULL };

	expect_refused(argv, mark,
		       "heaptrace: --keep needs -i/--interval (it keeps periodic snapshots)");
	free(mark);
	(void)state;
}

/* ---- 3. a traced target is warned about ---- */

/* `known attach` started, its 'R' read: it then waits on stdin. */
static pid_t start_waiting_known(int *in)
{
	char *argv[] = { (char *)known_bin, "attach", NULL };
	int inp[2], outp[2];
	pid_t pid;

	assert_int_equal(pipe2(inp, O_CLOEXEC), 0);
	assert_int_equal(pipe_nonblock(outp), 0);
	pid = spawn(argv, NULL, inp[0], outp[1], -1);
	close(inp[0]);
	close(outp[1]);
	assert_int_equal(read_byte(outp[0], 10), 'R');
	close(outp[0]);
	*in = inp[1];
	return pid;
}

static void test_attach_to_ptraced_target_warns_naming_the_tracer(void **state)
{
	char pid_str[16], *line;
	char *argv[] = { (char *)heaptrace_bin, "-d", "0.3", "-p", pid_str, NULL };
	struct result r;
	int in;
	pid_t pid = start_waiting_known(&in);

	assert_int_equal(ptrace(PTRACE_SEIZE, pid, 0, 0), 0);
	snprintf(pid_str, sizeof(pid_str), "%d", (int)pid);
	run(argv, &r);
	expect_code(&r, 0);
	assert_true(asprintf(&line, "heaptrace: warning: PID %d is traced by PID %d (cli_it): a "
			     "breakpoint it sets on an allocator function while heaptrace is "
			     "attached and removes after heaptrace has left kills the target with "
			     "SIGTRAP; remove such breakpoints before heaptrace detaches",
			     (int)pid, (int)getpid()) > 0);
	expect_line(&r, line);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	untrack_child(pid);
	close(in);
	free(line);
	(void)state;
}

/* ---- 5. truthful words ---- */

/* python3 with a second thread, both sleeping. */
static void test_pid_of_a_thread_traces_its_process(void **state)
{
	char *py[] = { "/usr/bin/python3", "-c",
		       "import threading, time\n"
		       "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
		       "time.sleep(30)\n", NULL };
	char tid_str[16], task[64], *line;
	char *argv[] = { (char *)heaptrace_bin, "-d", "0.3", "-p", tid_str, NULL };
	struct result r;
	struct dirent *de;
	pid_t pid = spawn(py, NULL, -1, -1, -1);
	int tid = 0;
	DIR *d;

	for (double deadline = now() + 10; !tid && now() < deadline; sleep_s(0.02)) {
		snprintf(task, sizeof(task), "/proc/%d/task", (int)pid);
		d = opendir(task);
		assert_non_null(d);
		while ((de = readdir(d)))
			if (atoi(de->d_name) > 0 && atoi(de->d_name) != pid)
				tid = atoi(de->d_name);
		closedir(d);
	}
	assert_true(tid > 0);
	snprintf(tid_str, sizeof(tid_str), "%d", tid);
	run(argv, &r);
	expect_code(&r, 0);
	assert_true(asprintf(&line, "heaptrace: %d is a thread of PID %d (python3): tracing that "
			     "process", tid, (int)pid) > 0);
	expect_line(&r, line);
	free(line);
	assert_true(asprintf(&line, "heaptrace: PID %d (", (int)pid) > 0);
	assert_non_null(strstr(r.out.data, line));
	if (strstr(r.err.data, "is traced by"))
		fail_msg("a tracer warning for a target without tracer:\n%s", r.err.data);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	untrack_child(pid);
	free(line);
	(void)state;
}

static void test_pid_of_heaptrace_itself_is_refused(void **state)
{
	char *script;
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	struct result r;

	assert_true(asprintf(&script, "echo $$ >&2; exec %s -p $$", heaptrace_bin) > 0);
	argv[2] = script;
	run(argv, &r);
	expect_code(&r, 2);
	free(script);
	assert_true(asprintf(&script, "heaptrace: can't trace heaptrace itself (PID %d)",
			     atoi(r.err.data)) > 0);
	expect_line(&r, script);
	free(script);
	(void)state;
}

static void test_pid_range_messages_agree(void **state)
{
	static const char *const absent[] = { "2147483647", "4194305" };
	char *argv[] = { (char *)heaptrace_bin, "-p", NULL, NULL };
	struct result r;
	char line[128];

	for (size_t i = 0; i < ARRAY_SIZE(absent); i++) {
		argv[2] = (char *)absent[i];
		run(argv, &r);
		expect_code(&r, 2);
		snprintf(line, sizeof(line), "heaptrace: no process with PID %s", absent[i]);
		expect_line(&r, line);
		assert_int_equal(count_lines(r.err.data), 1);
	}
	argv[2] = "2147483648";
	run(argv, &r);
	expect_code(&r, 2);
	expect_line(&r, "heaptrace: invalid PID '2147483648'");
	(void)state;
}

/* `known threads` makes 6 threads; at its exit each frees its tcache
 * (allocated inside glibc, not through malloc) and the chunks the cache
 * still holds: A (1000 mallocs, no frees) 1 + 0, B (frees A's 1000 blocks
 * of 48: 7 cached) 1 + 7, 4 churn threads (24-byte churn: 1 cached)
 * 4 x (1 + 1) = 17 frees of blocks no entry point returned. */
static void test_launch_unknown_frees_are_named_the_allocators_own(void **state)
{
	char *json = path_in_tmp("threads.json");
	char *argv[] = { (char *)heaptrace_bin, "--json", json, "--", (char *)known_bin, "threads",
			 NULL };
	struct result r;
	json_object *o;

	run(argv, &r);
	expect_code(&r, 0);
	o = json_object_from_file(json);
	assert_non_null(o);
	assert_int_equal(get_int(get(o, "totals"), "unknown_frees"), 17);
	json_object_put(o);
	assert_non_null(strstr(r.out.data, "  unknown frees           17  (the allocator's own "
				"blocks, e.g. glibc's thread cache at thread exit)\n"));
	assert_null(strstr(r.out.data, "before tracing began"));
	free(json);
	(void)state;
}

/* The files of -f/-o are named on stderr at the end: one line, their
 * number, directory and pattern - and exactly those files are there. */
static void test_report_files_are_named_at_the_end(void **state)
{
	char *dir = path_in_tmp("named"), *line, *argv[] = { (char *)heaptrace_bin, "-f",
							     "html,svg,json", "-o", dir, "--",
							     (char *)known_bin, "keep", NULL };
	const char *p, *q;
	struct result r;
	int pid, n = 0;
	DIR *d;
	struct dirent *de;

	run(argv, &r);
	expect_code(&r, 0);
	p = strstr(r.err.data, "heaptrace: wrote 6 files in ");
	if (!p)
		fail_msg("no line naming the files:\n%s", r.err.data);
	q = strstr(p, ": heaptrace-");
	assert_non_null(q);
	assert_int_equal(sscanf(q, ": heaptrace-%d-final.*\n", &pid), 1);
	assert_true(asprintf(&line, "heaptrace: wrote 6 files in %s: heaptrace-%d-final.*\n", dir,
			     pid) > 0);
	assert_non_null(strstr(r.err.data, line));
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			char *want;

			assert_true(asprintf(&want, "heaptrace-%d-final.", pid) > 0);
			if (strncmp(de->d_name, want, strlen(want)))
				fail_msg("an unexpected file in %s: %s", dir, de->d_name);
			free(want);
			n++;
		}
	closedir(d);
	assert_int_equal(n, 6); /* html, json, 4 svg */
	free(line);
	free(dir);
	(void)state;
}

/* The reader left before the report: no message, ended by SIGPIPE as
 * `yes | head` is. */
static void test_broken_pipe_on_stdout_ends_quietly_by_sigpipe(void **state)
{
	char *argv[] = { (char *)heaptrace_bin, "--", (char *)known_bin, "keep", NULL };
	struct result r;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	run_fd(argv, p[1], &r);
	close(p[1]);
	expect_code(&r, 128 + SIGPIPE);
	assert_null(strstr(r.err.data, "can't write"));
	(void)state;
}

static void test_closed_stdout_is_named_exit_1(void **state)
{
	char *script;
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	struct result r;

	assert_true(asprintf(&script, "exec %s -- %s keep >&-", heaptrace_bin, known_bin) > 0);
	argv[2] = script;
	run(argv, &r);
	expect_code(&r, 1);
	expect_line(&r, "heaptrace: can't write the report to stdout: it is closed");
	free(script);
	(void)state;
}

/* Attaching takes ~0.1-0.5 s here: a target that ends meanwhile gives one
 * line, whichever moment it picks. */
static void test_target_exiting_during_attach_gives_one_line(void **state)
{
	static const char *const naps[] = { "0.02", "0.05", "0.08", "0.12", "0.16", "0.2", "0.25",
					    "0.3" };
	char pid_str[16], want[128];
	char *argv[] = { (char *)heaptrace_bin, "-p", pid_str, NULL };
	int during = 0;

	for (int round = 0; round < 3 && !during; round++) {
		for (size_t i = 0; i < ARRAY_SIZE(naps); i++) {
			char *sl[] = { "/bin/sleep", (char *)naps[i], NULL };
			pid_t pid = spawn(sl, NULL, -1, -1, -1);
			struct result r;

			snprintf(pid_str, sizeof(pid_str), "%d", (int)pid);
			run(argv, &r);
			wait_for(pid, 10, -1, NULL);
			if (r.code == 0)
				continue;
			expect_code(&r, 2);
			assert_int_equal(count_lines(r.err.data), 1);
			snprintf(want, sizeof(want),
				 "heaptrace: PID %d exited while heaptrace was attaching", (int)pid);
			if (strstr(r.err.data, want)) {
				during++;
				continue;
			}
			/* Exited before heaptrace looked: a zombie until we reap it. */
			snprintf(want, sizeof(want), "heaptrace: PID %d (sleep) has already exited",
				 (int)pid);
			expect_line(&r, want);
		}
	}
	if (!during)
		fail_msg("no target exited during the attach in 24 tries");
	(void)state;
}

/* ---- 4. launch mode: the command's life is the trace's ---- */

/* -d ends a launched command as timeout(1) would: SIGTERM, then traced to
 * its exit; nothing keeps running after the report. */
static void test_duration_in_launch_mode_ends_the_command(void **state)
{
	char *argv[] = { (char *)heaptrace_bin, "-d", "0.3", "--", "/bin/sleep", "30", NULL };
	char want[160], path[64];
	struct result r;
	int pid;
	const char *p;

	run(argv, &r);
	expect_code(&r, 0);
	p = strstr(r.out.data, "heaptrace: PID ");
	assert_non_null(p);
	pid = atoi(p + strlen("heaptrace: PID "));
	assert_true(pid > 0);
	snprintf(want, sizeof(want), "heaptrace: --duration reached: sent SIGTERM to PID %d "
		 "(/bin/sleep), tracing its exit for up to 10 s", pid);
	expect_line(&r, want);
	snprintf(want, sizeof(want), "heaptrace: PID %d (/bin/sleep), traced", pid);
	assert_non_null(strstr(r.out.data, want));
	assert_non_null(strstr(r.out.data, "target killed by signal 15\n"));
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (exists(path))
		fail_msg("the command (PID %d) still runs after the report", pid);
	(void)state;
}

/* Wrappers that exec the real program: it is traced from its first
 * allocation, named with the chain, and its exit status reported. */
static void test_launch_follows_exec_wrappers_to_the_program(void **state)
{
	static const char *const wrappers[][4] = {
		{ "/usr/bin/env", "FOO=1", NULL, "/usr/bin/env" },
		{ "/usr/bin/nice", "-n1", NULL, "/usr/bin/nice" },
		{ "/usr/bin/taskset", "-c", "0", "/usr/bin/taskset" },
	};
	char *json = path_in_tmp("wrapped.json"), want[512];
	struct result r;

	for (size_t i = 0; i < ARRAY_SIZE(wrappers); i++) {
		char *argv[12];
		size_t n = 0;
		json_object *o, *t, *st;

		argv[n++] = (char *)heaptrace_bin;
		argv[n++] = "--json";
		argv[n++] = json;
		argv[n++] = "--";
		for (int k = 0; k < 3 && wrappers[i][k]; k++)
			argv[n++] = (char *)wrappers[i][k];
		argv[n++] = (char *)known_bin;
		argv[n++] = "keep";
		argv[n] = NULL;
		run(argv, &r);
		expect_code(&r, 0);
		o = json_object_from_file(json);
		assert_non_null(o);
		t = get(o, "target");
		assert_string_equal(json_object_get_string(get(t, "run_by")), wrappers[i][3]);
		assert_string_equal(json_object_get_string(get(t, "command")), known_bin);
		assert_int_equal(get_int(t, "exit_code"), 0);
		assert_false(json_object_get_boolean(get(t, "execed")));
		st = json_object_array_get_idx(get(o, "stacks"), 0);
		assert_string_equal(json_object_get_string(get(json_object_array_get_idx(
					    get(st, "frames"), 0), "function")), "keep_malloc");
		json_object_put(o);
		expect_keep_file(json);
		snprintf(want, sizeof(want), "run by %s, which exec'd it: this report is of %s "
			 "from its start\n", wrappers[i][3], known_bin);
		assert_non_null(strstr(r.out.data, want));
		assert_non_null(strstr(r.out.data, "target exited with status 0\n"));
	}
	free(json);
	(void)state;
}

/* ------------------------------------------------------------------ */

static int setup_group(void **state)
{
	heaptrace_bin = env_or("HEAPTRACE", "./heaptrace");
	known_bin = env_or("HEAPTRACE_KNOWN", ".output/tests/known");
	run_timeout = test_timeout(60);
	if (make_tmpdir(tmpdir))
		return -1;
	chmod(tmpdir, 0755);
	(void)state;
	return 0;
}

static int teardown_group(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(mounted); i++) {
		if (mounted[i])
			umount2(mounted[i], MNT_DETACH);
		free(mounted[i]);
		mounted[i] = NULL;
	}
	finish_tmpdir("cli_it", "outputs", tmpdir);
	(void)state;
	return 0;
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown_children)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_json_to_fifo_is_written_for_its_reader),
		T(test_json_to_dev_null_keeps_the_device),
		T(test_json_to_full_device_fails_in_place_exit_1),
		T(test_record_to_full_device_fails_with_one_line_exit_1),
		T(test_json_to_process_substitution),
		T(test_json_to_dev_stdout_writes_through_the_descriptor),
		T(test_planted_symlink_in_sticky_dir_is_replaced_not_followed),
		T(test_own_symlink_is_followed),
		T(test_json_missing_directory_refused_before_tracing),
		T(test_json_in_read_only_dir_refused_before_tracing),
		T(test_record_in_read_only_dir_refused_before_tracing),
		T(test_output_dir_naming_a_file_refused_before_tracing),
		T(test_keep_without_interval_is_a_usage_error),
		T(test_attach_to_ptraced_target_warns_naming_the_tracer),
		T(test_duration_in_launch_mode_ends_the_command),
		T(test_launch_follows_exec_wrappers_to_the_program),
		T(test_pid_of_a_thread_traces_its_process),
		T(test_pid_of_heaptrace_itself_is_refused),
		T(test_pid_range_messages_agree),
		T(test_launch_unknown_frees_are_named_the_allocators_own),
		T(test_report_files_are_named_at_the_end),
		T(test_broken_pipe_on_stdout_ends_quietly_by_sigpipe),
		T(test_closed_stdout_is_named_exit_1),
		T(test_target_exiting_during_attach_gives_one_line),
	};

	return test_main(argc, argv, "cli", tests, ARRAY_SIZE(tests), setup_group, teardown_group);
}
