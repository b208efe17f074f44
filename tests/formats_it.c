// SPDX-License-Identifier: MIT
/*
 * Integration tests of heaptrace's report files (-f/--format, -o, -i,
 * --keep, SIGUSR1): every export is read back by the tool it is made for
 * and compared with the JSON report of the same run, exactly.
 *
 *   pprof   `go tool pprof` (Debian's golang-go) reads the profile; its
 *           web UI (-http) is read in headless Chromium by
 *           tests/svg/pprof_ui.js
 *   folded  parsed back line by line
 *   svg     xmllint accepts it; Debian's headless Chromium, driven by
 *           tests/svg/inspect.js (playwright-core), shows one frame per
 *           node with the right title, and zooms on a click
 *   html    the same Chromium (tests/svg/inspect_html.js): the page's
 *           summary, chart bands, flame graphs, search and tables equal
 *           the JSON report of the same run
 *   files   periodic snapshots, SIGUSR1, --keep, planted symlinks, a
 *           read-only and a full output directory
 *
 * Usage: formats_it [FILTER]     (cmocka test name pattern, * and ?)
 * Run as root (BPF). Environment, defaults relative to the repository root:
 *   HEAPTRACE             heaptrace binary          (./heaptrace)
 *   HEAPTRACE_KNOWN       the `known` workload      (.output/tests/known)
 *   HEAPTRACE_GROW        the `grow` workload       (.output/tests/grow)
 *   HEAPTRACE_DEMO        the demo program          (.output/demo)
 *   HEAPTRACE_CPP_ALLOC   C++ sites, -O2 (.output/tests/cpp_alloc_O2)
 *   HEAPTRACE_CPP_ALLOC_NOPIE  the same, not PIE (.output/tests/cpp_alloc_nopie)
 *   HEAPTRACE_SVG_SCRIPT  tests/svg/inspect.js, with node_modules beside it
 *   HEAPTRACE_PHASES      the `phases` workload     (.output/tests/phases)
 *   HEAPTRACE_HTML_SCRIPT tests/svg/inspect_html.js (the same node_modules)
 *   HEAPTRACE_PPROF_UI_SCRIPT  tests/svg/pprof_ui.js (the same node_modules)
 *   HEAPTRACE_FLAMEGRAPH_PNG  where to copy the screenshot of the demo's
 *                         flame graph (default: only in the temporary dir)
 *   HEAPTRACE_HTML_PNG    the same for the HTML report of `phases`
 *   HEAPTRACE_TEST_TIMEOUT  seconds one command may take (60)
 *   HEAPTRACE_TEST_KEEP   set to keep the temporary directory
 * Tools looked up in PATH: go, node, xmllint; /usr/bin/chromium.
 * scripts/install-test-deps.sh installs them all.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "testlib.h"

/* Geometry of report_svg.c's flame graphs. */
#define SVG_PAD      10.0
#define SVG_FRAME_W  1180.0
#define SVG_MIN_W    0.1
#define GEOM_EPS     0.011     /* coordinates are written with 2 decimals */

/* The grow workload: 100 x 1000 bytes per step, 6 steps by default. */
#define GROW_STEP_BYTES 100000
#define GROW_STEPS      6

static const char *heaptrace_bin, *known_bin, *grow_bin, *demo_bin, *svg_script, *cpp_bin;
static const char *cpp_nopie_bin, *phases_bin, *html_script;
static const char *pprof_ui_script;
static const char *flamegraph_png, *html_png;
static double cmd_timeout;
static char tmpdir[] = "/tmp/heaptrace-fmt-XXXXXX";
static int run_seq;

static const char *const metric_names[] = { "live_bytes", "peak_bytes", "alloc_bytes", "allocs" };

/* ------------------------------------------------------------------ */
/* Small utilities                                                     */
/* ------------------------------------------------------------------ */

/* printf into a fresh heap string (tests free what they keep). */
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	assert_non_null(s);
	return s;
}

/* A whole file as a NUL-terminated string; NULL (errno set) if unreadable. */
static char *slurp(const char *path, size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *s;

	if (fd < 0)
		return NULL;
	s = malloc(cap);
	assert_non_null(s);
	for (;;) {
		ssize_t n;

		if (cap - len < 2) {
			cap *= 2;
			s = realloc(s, cap);
			assert_non_null(s);
		}
		n = read(fd, s + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	s[len] = '\0';
	if (len_out)
		*len_out = len;
	return s;
}

static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(content);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *s = slurp(from, &len);
	int fd;

	if (!s)
		fail_msg("cannot read %s: %s", from, strerror(errno));
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("cannot write %s: %s", to, strerror(errno));
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	close(fd);
	free(s);
}

static bool is_regular(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* A fresh directory under tmpdir, named after the run. */
static char *new_dir(const char *what)
{
	char *d = xasprintf("%s/%03d-%s", tmpdir, ++run_seq, what);

	if (mkdir(d, 0755))
		fail_msg("mkdir %s: %s", d, strerror(errno));
	return d;
}

/* qsort hands out pointers to the elements. */
static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir (no . and ..), sorted; *n gets their number. */
static char **list_dir(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t k = 0;

	if (!d)
		fail_msg("opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		v = realloc(v, (k + 1) * sizeof(*v));
		assert_non_null(v);
		v[k++] = strdup(e->d_name);
	}
	closedir(d);
	if (k)
		qsort(v, k, sizeof(*v), cmp_strp);
	*n = k;
	return v;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *dir_listing(const char *dir)
{
	size_t n, len = 0;
	char **v = list_dir(dir, &n);
	char *s = calloc(1, 1);

	for (size_t i = 0; i < n; i++) {
		s = realloc(s, len + strlen(v[i]) + 4);
		assert_non_null(s);
		len += (size_t)sprintf(s + len, "  %s\n", v[i]);
	}
	free_list(v, n);
	return s;
}

/* heaptrace writes through ".heaptrace-XXXXXX" temporaries: none may stay. */
static void expect_no_temporaries(const char *dir)
{
	size_t n;
	char **v = list_dir(dir, &n);

	for (size_t i = 0; i < n; i++) {
		if (!strncmp(v[i], ".heaptrace-", 11))
			fail_msg("a temporary file was left behind: %s/%s", dir, v[i]);
	}
	free_list(v, n);
}

/* ------------------------------------------------------------------ */
/* Child processes                                                     */
/* ------------------------------------------------------------------ */

static char *mounts[4];

/*
 * Start argv (argv[0] looked up in PATH) with env (NULL-terminated
 * "NAME=value" strings, may be NULL) added to ours, and in/out/err as its
 * standard descriptors (-1: /dev/null). Our own descriptors are O_CLOEXEC.
 */
static pid_t spawn_env(const char *const argv[], const char *const env[], int in, int out,
		       int err)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int fds[3] = { in, out, err };

		for (int i = 0; i < 3; i++)
			if (dup2(fds[i] >= 0 ? fds[i] : null, i) < 0)
				_exit(126);
		for (const char *const *e = env; e && *e; e++)
			putenv((char *)*e);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "formats_it: cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	track_child(pid);
	return pid;
}

struct result {
	int code;
	char *out, *err;       /* whole stdout and stderr */
	char *cmd;             /* the command line, for messages */
};

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	free(r->cmd);
	memset(r, 0, sizeof(*r));
}

/* Run argv to completion, stdout and stderr kept in files in tmpdir. */
static struct result run(const char *const argv[], const char *const env[])
{
	struct result r = { 0 };
	char *out_path, *err_path;
	size_t len = 0;
	int out_fd, err_fd;
	pid_t pid;

	r.cmd = calloc(1, 1);
	for (const char *const *a = argv; *a; a++) {
		r.cmd = realloc(r.cmd, len + strlen(*a) + 2);
		len += (size_t)sprintf(r.cmd + len, "%s%s", len ? " " : "", *a);
	}
	run_seq++;
	out_path = xasprintf("%s/%03d.stdout", tmpdir, run_seq);
	err_path = xasprintf("%s/%03d.stderr", tmpdir, run_seq);
	out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(out_fd >= 0 && err_fd >= 0);
	pid = spawn_env(argv, env, -1, out_fd, err_fd);
	close(out_fd);
	close(err_fd);
	r.code = wait_for(pid, cmd_timeout, -1, NULL);
	r.out = slurp(out_path, NULL);
	r.err = slurp(err_path, NULL);
	assert_true(r.out && r.err);
	free(out_path);
	free(err_path);
	return r;
}

/* Run argv; it must exit 0. */
static struct result run_ok(const char *const argv[], const char *const env[])
{
	struct result r = run(argv, env);

	if (r.code != 0)
		fail_msg("`%s` exited with %d; stderr:\n%s", r.cmd, r.code, r.err);
	return r;
}

/* A process whose stderr we read while it runs (attach mode). */
struct tracer {
	pid_t pid;
	int err_fd;
	char err[65536];
	size_t len;
};

static void tracer_drain(struct tracer *t)
{
	for (;;) {
		char scratch[4096];
		size_t room = sizeof(t->err) - 1 - t->len;
		ssize_t n = read(t->err_fd, room ? t->err + t->len : scratch,
				 room ? room : sizeof(scratch));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (room) {
			t->len += (size_t)n;
			t->err[t->len] = '\0';
		}
	}
}

/* `heaptrace ARGS... -p PID`, waiting for its "attached" line. */
static void tracer_start(struct tracer *t, const char *const args[], pid_t target)
{
	const char *argv[24];
	char pid_str[16];
	size_t n = 0;
	int p[2];
	double deadline = now() + cmd_timeout;
	char *out_path;
	int out_fd;

	memset(t, 0, sizeof(*t));
	snprintf(pid_str, sizeof(pid_str), "%d", (int)target);
	argv[n++] = heaptrace_bin;
	for (; *args && n < ARRAY_SIZE(argv) - 3; args++)
		argv[n++] = *args;
	argv[n++] = "-p";
	argv[n++] = pid_str;
	argv[n] = NULL;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	out_path = xasprintf("%s/%03d-tracer.stdout", tmpdir, ++run_seq);
	out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(out_fd >= 0);
	free(out_path);
	t->pid = spawn_env(argv, NULL, -1, out_fd, p[1]);
	close(out_fd);
	close(p[1]);
	t->err_fd = p[0];
	while (!strstr(t->err, "attached")) {
		struct pollfd pf = { .fd = t->err_fd, .events = POLLIN };
		int status;

		if (now() > deadline)
			fail_msg("heaptrace -p %d never said \"attached\"; stderr:\n%s", (int)target,
				 t->err);
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			untrack_child(t->pid);
			tracer_drain(t);
			fail_msg("heaptrace -p %d exited before attaching; stderr:\n%s",
				 (int)target, t->err);
		}
		if (poll(&pf, 1, 50) > 0)
			tracer_drain(t);
	}
}

/* SIGINT the tracer and wait for it; returns its exit code. */
static int tracer_stop(struct tracer *t)
{
	int code;

	kill(t->pid, SIGINT);
	code = wait_for(t->pid, cmd_timeout, -1, NULL);
	tracer_drain(t);
	close(t->err_fd);
	t->err_fd = -1;
	return code;
}

/* When the last start_grow() started it: its steps come 0.25 s + k * 0.5 s
 * after that. */
static double grow_started;

/* A long `grow` run to attach to: STEPS steps 500 ms apart. */
static pid_t start_grow(int steps)
{
	char steps_str[16];
	const char *argv[] = { grow_bin, steps_str, NULL };

	snprintf(steps_str, sizeof(steps_str), "%d", steps);
	grow_started = now();
	return spawn_env(argv, NULL, -1, -1, -1);
}

/*
 * Sleep at least min_s, until halfway between two steps of grow: a
 * snapshot taken then cannot catch a step half done (100 allocations take
 * about a millisecond, the steps are 500 ms apart).
 */
static void sleep_between_grow_steps(double min_s)
{
	double t = now() + min_s, k = ceil((t - grow_started) / 0.5);

	sleep_s(grow_started + k * 0.5 - now());
}

/* ------------------------------------------------------------------ */
/* Mounts                                                              */
/* ------------------------------------------------------------------ */

static void mount_tmpfs(const char *dir, unsigned long flags, const char *opts)
{
	if (mount("tmpfs", dir, "tmpfs", flags, opts))
		fail_msg("mount -t tmpfs -o %s%s tmpfs %s: %s", flags & MS_RDONLY ? "ro," : "", opts,
			 dir, strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
		if (!mounts[i]) {
			mounts[i] = strdup(dir);
			return;
		}
	}
	fail_msg("too many mounts");
}

static void unmount_all(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
		if (mounts[i]) {
			if (umount2(mounts[i], MNT_DETACH))
				print_error("umount %s: %s\n", mounts[i], strerror(errno));
			free(mounts[i]);
			mounts[i] = NULL;
		}
	}
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static double get_num(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		fail_msg("\"%s\" is not a number", key);
	return json_object_get_double(v);
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	if (!json_object_is_type(v, json_type_string))
		fail_msg("\"%s\" is not a string", key);
	return json_object_get_string(v);
}

static bool get_bool(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	if (!json_object_is_type(v, json_type_boolean))
		fail_msg("\"%s\" is not a boolean", key);
	return json_object_get_boolean(v);
}

static json_object *load_json(const char *path)
{
	json_object *r = json_object_from_file(path);

	if (!r)
		fail_msg("%s is not valid JSON: %s", path, json_util_get_last_err());
	return r;
}

/* A heaptrace JSON report: version 1, of pid, no lost events. */
static json_object *load_report(const char *path, int pid)
{
	json_object *r = load_json(path);

	assert_int_equal(get_int(r, "version"), 1);
	if (pid && get_int(get(r, "target"), "pid") != pid)
		fail_msg("%s: target.pid is %lld, expected %d", path,
			 (long long)get_int(get(r, "target"), "pid"), pid);
	if (get_int(get(r, "totals"), "lost_events"))
		fail_msg("%s: %lld lost events; numbers cannot be compared exactly", path,
			 (long long)get_int(get(r, "totals"), "lost_events"));
	assert_true(json_object_is_type(get(r, "stacks"), json_type_array));
	return r;
}

static const char *leaf_function(json_object *stack)
{
	json_object *frames = get(stack, "frames"), *fn;

	if (json_object_array_length(frames) == 0)
		return "[no stack]";
	fn = get(json_object_array_get_idx(frames, 0), "function");
	return json_object_is_type(fn, json_type_string) ? json_object_get_string(fn) : "?";
}

/* The first frame the exporters show: past the allocator's frames
 * ("alloc_frame": true), the outermost one if all are. */
static size_t shown_index(json_object *frames)
{
	size_t n = json_object_array_length(frames), i;

	for (i = 0; i + 1 < n; i++)
		if (!get_bool(json_object_array_get_idx(frames, i), "alloc_frame"))
			break;
	return i;
}

static const char *shown_leaf_function(json_object *stack)
{
	json_object *frames = get(stack, "frames"), *fn;

	if (json_object_array_length(frames) == 0)
		return "[no stack]";
	fn = get(json_object_array_get_idx(frames, shown_index(frames)), "function");
	return json_object_is_type(fn, json_type_string) ? json_object_get_string(fn) : "?";
}

/* The sum of key over the stacks whose frames[0] is fn. */
static int64_t site_sum(json_object *r, const char *fn, const char *key)
{
	json_object *stacks = get(r, "stacks");
	int64_t sum = 0;

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);

		if (!strcmp(leaf_function(s), fn))
			sum += get_int(s, key);
	}
	return sum;
}

/* The sum of "interval" (churn since the previous snapshot) key over the
 * stacks whose innermost frame is fn; every such stack must have one. */
static int64_t site_interval_sum(json_object *r, const char *fn, const char *key)
{
	json_object *stacks = get(r, "stacks");
	int64_t sum = 0;

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);

		if (!strcmp(leaf_function(s), fn))
			sum += get_int(get(s, "interval"), key);
	}
	return sum;
}

/* ------------------------------------------------------------------ */
/* heaptrace runs                                                      */
/* ------------------------------------------------------------------ */

/* A launch-mode run writing files: its directory and the target's PID. */
struct run_files {
	char key[160];
	char *dir;
	int pid;
	char *out;            /* heaptrace's stdout */
	json_object *report;  /* the final JSON report */
	bool keep_alloc;      /* run with --keep-alloc-frames */
	bool failed;
};

static struct run_files runs[16];

/* The PID in the names of the heaptrace-PID-* files in dir (one PID only). */
static int files_pid(const char *dir)
{
	size_t n;
	char **v = list_dir(dir, &n);
	int pid = 0;

	for (size_t i = 0; i < n; i++) {
		int p;

		if (sscanf(v[i], "heaptrace-%d-", &p) != 1)
			continue;
		if (pid && p != pid)
			fail_msg("files of two PIDs (%d, %d) in %s", pid, p, dir);
		pid = p;
	}
	free_list(v, n);
	if (!pid)
		fail_msg("no heaptrace-PID-* file in %s", dir);
	return pid;
}

static char *final_path(const struct run_files *rf, const char *ext)
{
	return xasprintf("%s/heaptrace-%d-final.%s", rf->dir, rf->pid, ext);
}

/*
 * `heaptrace [OPT] -f FORMATS -o DIR -- PROGRAM ARG` (json always among
 * the formats), once per test run: tests share it. It must exit 0 and
 * print the text report.
 */
static struct run_files *run_formats_opt(const char *opt, const char *formats,
					 const char *program, const char *arg)
{
	char key[160];
	const char *argv[12];
	struct result r;
	struct run_files *rf;
	char *path;
	size_t slot, n = 0;

	snprintf(key, sizeof(key), "%s %s %s %s", opt ? opt : "", formats, program, arg ? arg : "");
	for (slot = 0; slot < ARRAY_SIZE(runs) && runs[slot].key[0]; slot++) {
		if (!strcmp(runs[slot].key, key)) {
			if (runs[slot].failed)
				fail_msg("`heaptrace -f %s -- %s` already failed in an earlier test",
					 formats, key);
			return &runs[slot];
		}
	}
	assert_true(slot < ARRAY_SIZE(runs));
	rf = &runs[slot];
	snprintf(rf->key, sizeof(rf->key), "%s", key);
	rf->failed = true;
	rf->dir = new_dir("files");
	argv[n++] = heaptrace_bin;
	if (opt)
		argv[n++] = opt;
	argv[n++] = "-f";
	argv[n++] = formats;
	argv[n++] = "-o";
	argv[n++] = rf->dir;
	argv[n++] = "--";
	argv[n++] = program;
	if (arg)
		argv[n++] = arg;
	argv[n] = NULL;
	r = run_ok(argv, NULL);
	if (!strstr(r.out, "allocations"))
		fail_msg("`%s` printed no text report; stdout:\n%s", r.cmd, r.out);
	rf->out = r.out;
	r.out = NULL;
	result_free(&r);
	rf->pid = files_pid(rf->dir);
	expect_no_temporaries(rf->dir);
	path = final_path(rf, "json");
	rf->report = load_report(path, rf->pid);
	free(path);
	if (!get_bool(get(rf->report, "target"), "exited"))
		fail_msg("the final report of a launched run says the target did not exit");
	rf->keep_alloc = opt && !strcmp(opt, "--keep-alloc-frames");
	rf->failed = false;
	return rf;
}

static struct run_files *run_formats(const char *formats, const char *program, const char *arg)
{
	return run_formats_opt(NULL, formats, program, arg);
}

/* ------------------------------------------------------------------ */
/* pprof                                                               */
/* ------------------------------------------------------------------ */

static char *go_env[8];

/* The environment of a throw-away Go home (NULL-ended): nothing is
 * fetched, nothing outside tmpdir is written. */
static const char *const *go_home_env(void)
{
	if (!go_env[0]) {
		char *home = new_dir("gohome");

		go_env[0] = xasprintf("HOME=%s", home);
		go_env[1] = xasprintf("GOPATH=%s/go", home);
		go_env[2] = xasprintf("GOCACHE=%s/cache", home);
		go_env[3] = xasprintf("PPROF_TMPDIR=%s/pprof", home);
		go_env[4] = xasprintf("GOPROXY=off");
		go_env[5] = xasprintf("GOTOOLCHAIN=local");
		go_env[6] = xasprintf("GOTELEMETRY=off");
		free(home);
	}
	return (const char *const *)go_env;
}

/* `go tool pprof -symbolize=none ARGS... FILE` in go_home_env(), in
 * directory dir (NULL: ours). */
static struct result pprof_in(const char *dir, const char *const args[], const char *file)
{
	const char *argv[20];
	size_t n = 0;

	if (dir) {
		argv[n++] = "env";
		argv[n++] = "-C";
		argv[n++] = dir;
	}
	argv[n++] = "go";
	argv[n++] = "tool";
	argv[n++] = "pprof";
	argv[n++] = "-symbolize=none";
	for (; *args && n < ARRAY_SIZE(argv) - 2; args++)
		argv[n++] = *args;
	argv[n++] = file;
	argv[n] = NULL;
	return run_ok(argv, go_home_env());
}

static struct result pprof(const char *const args[], const char *file)
{
	return pprof_in(NULL, args, file);
}

/* One row of `pprof -top`: flat and cum of a function. */
struct top_row {
	int64_t flat, cum;
	bool found;
};

/* A value as pprof prints it with -unit=B ("100000B") or as a count. */
static int64_t pprof_value(const char *tok, const char *unit)
{
	char *end;
	long long v = strtoll(tok, &end, 10);

	if (end == tok || (*end && strcmp(end, unit)))
		fail_msg("pprof value \"%s\" is not an integer in unit \"%s\"", tok, unit);
	return v;
}

static struct top_row top_find(const char *out, const char *fn, const char *unit)
{
	struct top_row row = { 0 };
	const char *p = strstr(out, "flat  flat%");

	if (!p)
		fail_msg("no table in pprof -top output:\n%s", out);
	p = strchr(p, '\n');
	while (p && *++p) {
		char flat[64], fp[16], sp[16], cum[64], cp[16];
		const char *eol = strchrnul(p, '\n');
		int used = 0;

		if (sscanf(p, "%63s %15s %15s %63s %15s %n", flat, fp, sp, cum, cp, &used) == 5 &&
		    used > 0 && (size_t)(eol - (p + used)) == strlen(fn) &&
		    !strncmp(p + used, fn, strlen(fn))) {
			if (row.found)
				fail_msg("pprof -top lists %s twice:\n%s", fn, out);
			row.found = true;
			row.flat = pprof_value(flat, unit);
			row.cum = pprof_value(cum, unit);
		}
		p = *eol ? eol : NULL;
	}
	if (!row.found)
		fail_msg("pprof -top does not list %s:\n%s", fn, out);
	return row;
}

/* `pprof -raw`: samples with their values by type and their locations'
 * addresses, leaf first; the first word of the leaf's name. */
struct raw_sample {
	int64_t v[8];
	unsigned int locs[64];
	uint64_t addrs[64];
	int nlocs;
	char leaf_fn[128];
};

struct raw_profile {
	char types[8][32];
	int ntypes;
	struct raw_sample s[64];
	int n;
	uint64_t loc_addr[1024];      /* by location id */
	char loc_fn[1024][128];
};

static int raw_type(const struct raw_profile *rp, const char *type)
{
	for (int i = 0; i < rp->ntypes; i++)
		if (!strcmp(rp->types[i], type))
			return i;
	fail_msg("pprof -raw has no sample type %s", type);
	return -1;
}

static void parse_raw(const char *out, struct raw_profile *rp)
{
	const char *p = strstr(out, "\nSamples:\n");
	char *line, *save, *copy;
	int section = 0;

	memset(rp, 0, sizeof(*rp));
	if (!p)
		fail_msg("no Samples in pprof -raw output:\n%s", out);
	copy = strdup(p + 1);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, "Samples:")) {
			section = 1;
			continue;
		}
		if (!strcmp(line, "Locations")) {
			section = 3;
			continue;
		}
		if (!strcmp(line, "Mappings"))
			break;
		if (section == 1) {
			/* "alloc_objects/count alloc_space/bytes ... inuse_space/bytes[dflt]" */
			char *tok, *s2;

			for (tok = strtok_r(line, " ", &s2); tok && rp->ntypes < 8;
			     tok = strtok_r(NULL, " ", &s2)) {
				tok[strcspn(tok, "/[")] = '\0';
				snprintf(rp->types[rp->ntypes++], sizeof(rp->types[0]), "%s", tok);
			}
			section = 2;
		} else if (section == 2) {
			char *colon = strchr(line, ':'), *q = line;
			struct raw_sample *s;

			if (!colon)
				continue;     /* a label line */
			assert_true(rp->n < (int)ARRAY_SIZE(rp->s));
			s = &rp->s[rp->n++];
			for (int i = 0; i < rp->ntypes; i++)
				s->v[i] = strtoll(q, &q, 10);
			if (q != colon)
				fail_msg("bad pprof -raw sample line: %s", line);
			for (char *l = colon + 1; s->nlocs < (int)ARRAY_SIZE(s->locs);) {
				char *end;
				unsigned long id = strtoul(l, &end, 10);

				if (end == l)
					break;
				s->locs[s->nlocs++] = (unsigned int)id;
				l = end;
			}
		} else if (section == 3) {
			/* "     1: 0x55a15f0e737a M=1 keep_malloc known.c:125 s=0" */
			unsigned int id;
			unsigned long long addr;
			char fn[128];

			if (sscanf(line, " %u: %llx M=%*d %127s", &id, &addr, fn) != 3 &&
			    sscanf(line, " %u: %llx %127s", &id, &addr, fn) != 3)
				continue;
			if (id >= ARRAY_SIZE(rp->loc_addr))
				fail_msg("pprof -raw: more than %zu locations",
					 ARRAY_SIZE(rp->loc_addr));
			rp->loc_addr[id] = addr;
			snprintf(rp->loc_fn[id], sizeof(rp->loc_fn[id]), "%s", fn);
		}
	}
	free(copy);
	if (!strstr(out, "\nLocations\n") || !rp->ntypes)
		fail_msg("no Locations or sample types in pprof -raw output:\n%s", out);
	for (int i = 0; i < rp->n; i++) {
		struct raw_sample *s = &rp->s[i];

		if (!s->nlocs)
			fail_msg("pprof -raw: sample %d has no location:\n%s", i, out);
		for (int k = 0; k < s->nlocs; k++) {
			if (s->locs[k] >= ARRAY_SIZE(rp->loc_addr) || !rp->loc_addr[s->locs[k]])
				fail_msg("pprof -raw: sample %d has an unknown location:\n%s", i,
					 out);
			s->addrs[k] = rp->loc_addr[s->locs[k]];
		}
		snprintf(s->leaf_fn, sizeof(s->leaf_fn), "%s", rp->loc_fn[s->locs[0]]);
	}
}

/* -raw names a location by its first word ("int*" of "int* f<int>()"). */
static bool same_leaf(const char *raw_word, const char *name)
{
	size_t n = strlen(raw_word);

	return !strncmp(raw_word, name, n) && (!name[n] || name[n] == ' ');
}

/* Every sample of the profile is one JSON stack with the same numbers. */
static void expect_raw_matches_json(const struct raw_profile *rp, json_object *report)
{
	json_object *stacks = get(report, "stacks");
	int ao = raw_type(rp, "alloc_objects"), as = raw_type(rp, "alloc_space");
	int io = raw_type(rp, "inuse_objects"), is = raw_type(rp, "inuse_space");

	if ((size_t)rp->n != json_object_array_length(stacks))
		fail_msg("pprof has %d samples, the JSON report %zu stacks", rp->n,
			 json_object_array_length(stacks));
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *st = json_object_array_get_idx(stacks, i);
		json_object *frames = get(st, "frames");
		size_t nf = json_object_array_length(frames);
		uint64_t addrs[64];
		int na = 0;
		const struct raw_sample *s = NULL;

		/* One location per return address: its frames end with the
		 * function the others were inlined into. */
		for (size_t k = shown_index(frames); k < nf && na < 64; k++) {
			json_object *fr = json_object_array_get_idx(frames, k);

			if (!get_bool(fr, "inlined"))
				addrs[na++] = strtoull(get_str(fr, "address"), NULL, 16);
		}
		for (int k = 0; k < rp->n; k++) {
			if (rp->s[k].nlocs == na &&
			    !memcmp(rp->s[k].addrs, addrs, (size_t)na * sizeof(*addrs))) {
				if (s)
					fail_msg("two pprof samples have the locations of %s",
						 shown_leaf_function(st));
				s = &rp->s[k];
			}
		}
		if (!s)
			fail_msg("no pprof sample for the stack of %s (0x%" PRIx64 ")",
				 shown_leaf_function(st), na ? addrs[0] : 0);
		if (!same_leaf(s->leaf_fn, shown_leaf_function(st)))
			fail_msg("pprof names the leaf %s, the JSON report %s", s->leaf_fn,
				 shown_leaf_function(st));
		if (s->v[ao] != get_int(st, "allocs") || s->v[as] != get_int(st, "alloc_bytes") ||
		    s->v[io] != get_int(st, "live_blocks") || s->v[is] != get_int(st, "live_bytes"))
			fail_msg("%s: pprof has alloc_objects %lld alloc_space %lld inuse_objects "
				 "%lld inuse_space %lld; JSON has allocs %lld alloc_bytes %lld "
				 "live_blocks %lld live_bytes %lld", leaf_function(st),
				 (long long)s->v[ao], (long long)s->v[as], (long long)s->v[io],
				 (long long)s->v[is], (long long)get_int(st, "allocs"),
				 (long long)get_int(st, "alloc_bytes"),
				 (long long)get_int(st, "live_blocks"),
				 (long long)get_int(st, "live_bytes"));
	}
}

static void test_pprof_keep_inuse_space_and_alloc_objects(void **state)
{
	static const char *const inuse[] = { "-top", "-nodefraction=0", "-unit=B",
					     "-sample_index=inuse_space", NULL };
	static const char *const objects[] = { "-top", "-nodefraction=0",
					       "-sample_index=alloc_objects", NULL };
	static const char *const raw[] = { "-raw", NULL };
	struct run_files *rf = run_formats("json,pprof,folded,svg", known_bin, "keep");
	char *pb = final_path(rf, "pb.gz");
	int64_t live = site_sum(rf->report, "keep_malloc", "live_bytes");
	int64_t allocs = site_sum(rf->report, "keep_malloc", "allocs");
	struct raw_profile rp;
	struct top_row row;
	struct result r;

	/* The JSON report itself has known's numbers: 1000 x 100 bytes, kept. */
	assert_int_equal(live, 100000);
	assert_int_equal(allocs, 1000);
	assert_true(is_regular(pb));

	r = pprof(inuse, pb);
	assert_non_null(strstr(r.out, "Type: inuse_space"));
	row = top_find(r.out, "keep_malloc", "B");
	if (row.flat != live || row.cum != live)
		fail_msg("pprof inuse_space of keep_malloc: flat %lld cum %lld, JSON %lld\n%s",
			 (long long)row.flat, (long long)row.cum, (long long)live, r.out);
	result_free(&r);

	r = pprof(objects, pb);
	assert_non_null(strstr(r.out, "Type: alloc_objects"));
	row = top_find(r.out, "keep_malloc", "");
	if (row.flat != allocs)
		fail_msg("pprof alloc_objects of keep_malloc: %lld, JSON %lld\n%s",
			 (long long)row.flat, (long long)allocs, r.out);
	result_free(&r);

	r = pprof(raw, pb);
	parse_raw(r.out, &rp);
	expect_raw_matches_json(&rp, rf->report);
	/* inuse_space is the default sample type, as in Go's heap profiles. */
	assert_non_null(strstr(r.out, "inuse_space/bytes[dflt]"));
	result_free(&r);
	free(pb);
	(void)state;
}

/* realloc: alloc_* and inuse_* differ; every stack must still match. */
static void test_pprof_realloc_every_sample_matches_json(void **state)
{
	static const char *const raw[] = { "-raw", NULL };
	/* Small nodes are dropped from -top unless -nodefraction=0. */
	static const char *const inuse[] = { "-top", "-nodefraction=0", "-unit=B",
					     "-sample_index=inuse_space", NULL };
	static const char *const sites[] = { "orig_alloc", "move_realloc", "grow_realloc" };
	struct run_files *rf = run_formats("json,pprof,folded", known_bin, "realloc");
	char *pb = final_path(rf, "pb.gz");
	struct raw_profile rp;
	struct result r;

	r = pprof(raw, pb);
	parse_raw(r.out, &rp);
	expect_raw_matches_json(&rp, rf->report);
	result_free(&r);

	r = pprof(inuse, pb);
	for (size_t i = 0; i < ARRAY_SIZE(sites); i++) {
		int64_t live = site_sum(rf->report, sites[i], "live_bytes");

		/* A function with nothing live has no row (or a zero one). */
		if (live == 0 && !strstr(r.out, sites[i]))
			continue;
		struct top_row row = top_find(r.out, sites[i], "B");

		if (row.flat != live)
			fail_msg("pprof inuse_space of %s: %lld, JSON %lld\n%s", sites[i],
				 (long long)row.flat, (long long)live, r.out);
	}
	/* known realloc keeps 10 x 100000 bytes from move_realloc. */
	assert_int_equal(site_sum(rf->report, "move_realloc", "live_bytes"), 1000000);
	result_free(&r);
	free(pb);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* folded                                                              */
/* ------------------------------------------------------------------ */

struct folded_line {
	char *stack;           /* "outer;...;inner" */
	const char *leaf;      /* inside stack */
	int64_t value;
};

struct folded {
	struct folded_line *v;
	size_t n;
	char *text;
};

static void folded_free(struct folded *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].stack);
	free(f->v);
	free(f->text);
	memset(f, 0, sizeof(*f));
}

/* Parse "a;b;c 123" lines strictly: sorted bytewise, unique, values > 0. */
static void folded_load(const char *path, struct folded *f)
{
	char *line, *save;

	memset(f, 0, sizeof(*f));
	f->text = slurp(path, NULL);
	if (!f->text)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	if (f->text[0] && f->text[strlen(f->text) - 1] != '\n')
		fail_msg("%s does not end with a newline", path);
	char *copy = strdup(f->text);

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' '), *end;
		struct folded_line *fl;
		long long v;

		if (!sp || sp == line)
			fail_msg("%s: bad line \"%s\"", path, line);
		v = strtoll(sp + 1, &end, 10);
		if (*end || end == sp + 1 || v <= 0)
			fail_msg("%s: bad value in \"%s\"", path, line);
		*sp = '\0';
		if (strstr(line, ";;") || line[0] == ';' || sp[-1] == ';')
			fail_msg("%s: empty frame in \"%s\"", path, line);
		f->v = realloc(f->v, (f->n + 1) * sizeof(*f->v));
		assert_non_null(f->v);
		fl = &f->v[f->n++];
		fl->stack = strdup(line);
		fl->leaf = strrchr(fl->stack, ';') ? strrchr(fl->stack, ';') + 1 : fl->stack;
		fl->value = v;
		if (f->n > 1 && strcmp(f->v[f->n - 2].stack, fl->stack) >= 0)
			fail_msg("%s: lines not sorted or not unique: \"%s\" then \"%s\"", path,
				 f->v[f->n - 2].stack, fl->stack);
	}
	free(copy);
}

/* The folded line a JSON stack prints as: frames outermost first, the
 * allocator's left out. */
static char *json_stack_line(json_object *stack, bool keep_alloc)
{
	json_object *frames = get(stack, "frames");
	size_t n = json_object_array_length(frames), len = 0, first;
	char *s = calloc(1, 1);

	if (n == 0) {
		free(s);
		return strdup("[no stack]");
	}
	first = keep_alloc ? 0 : shown_index(frames);
	for (size_t i = n; i-- > first;) {
		json_object *fn = get(json_object_array_get_idx(frames, i), "function");
		const char *name = json_object_is_type(fn, json_type_string) ?
				   json_object_get_string(fn) : "?";

		s = realloc(s, len + strlen(name) + 2);
		assert_non_null(s);
		if (i != n - 1)
			s[len++] = ';';
		/* As report_folded.c writes names: no separators inside. */
		for (const char *c = name; *c; c++)
			s[len++] = *c == ';' ? ':' : (*c == '\n' || *c == '\r') ? ' ' : *c;
		s[len] = '\0';
	}
	return s;
}

/*
 * For every metric: the sum per site function (the leaf frame) of the
 * folded lines equals the JSON report's sum over the stacks with that
 * first shown frame, and each whole line equals a JSON stack's frames.
 */
static void expect_folded_matches_json(struct run_files *rf, const char *const sites[],
				       size_t nsites)
{
	json_object *stacks = get(rf->report, "stacks");

	for (size_t m = 0; m < ARRAY_SIZE(metric_names); m++) {
		char *ext = xasprintf("%s.folded", metric_names[m]);
		char *path = final_path(rf, ext);
		struct folded f;
		int64_t total_f = 0, total_j = 0;

		folded_load(path, &f);
		for (size_t i = 0; i < nsites; i++) {
			int64_t sum = 0, want = 0;

			for (size_t k = 0; k < json_object_array_length(stacks); k++) {
				json_object *st = json_object_array_get_idx(stacks, k);

				const char *leaf = rf->keep_alloc ? leaf_function(st) :
						   shown_leaf_function(st);

				if (!strcmp(leaf, sites[i]))
					want += get_int(st, metric_names[m]);
			}

			for (size_t k = 0; k < f.n; k++)
				if (!strcmp(f.v[k].leaf, sites[i]))
					sum += f.v[k].value;
			if (sum != want)
				fail_msg("%s: %s sums to %lld in the folded file, %lld in the JSON "
					 "report\n%s", metric_names[m], sites[i], (long long)sum,
					 (long long)want, f.text);
		}
		/* Whole lines: every JSON stack with a value is on its line. */
		for (size_t k = 0; k < f.n; k++) {
			int64_t want = 0;

			for (size_t i = 0; i < json_object_array_length(stacks); i++) {
				json_object *st = json_object_array_get_idx(stacks, i);
				char *line = json_stack_line(st, rf->keep_alloc);

				if (!strcmp(line, f.v[k].stack))
					want += get_int(st, metric_names[m]);
				free(line);
			}
			if (want != f.v[k].value)
				fail_msg("%s: folded line \"%s %lld\" but the JSON stacks with those "
					 "frames sum to %lld", metric_names[m], f.v[k].stack,
					 (long long)f.v[k].value, (long long)want);
			total_f += f.v[k].value;
		}
		for (size_t i = 0; i < json_object_array_length(stacks); i++)
			total_j += get_int(json_object_array_get_idx(stacks, i), metric_names[m]);
		if (total_f != total_j)
			fail_msg("%s: the folded file sums to %lld, the JSON stacks to %lld",
				 metric_names[m], (long long)total_f, (long long)total_j);
		folded_free(&f);
		free(path);
		free(ext);
	}
}

static void test_folded_peak_sums_match_json(void **state)
{
	static const char *const sites[] = { "before_peak", "peak_phase", "after_peak" };
	struct run_files *rf = run_formats("json,folded,svg", known_bin, "peak");

	/* known's documented peak profile, so the comparison is not vacuous. */
	assert_int_equal(site_sum(rf->report, "peak_phase", "peak_bytes"), 1000000);
	assert_int_equal(site_sum(rf->report, "peak_phase", "live_bytes"), 0);
	assert_int_equal(site_sum(rf->report, "after_peak", "allocs"), 50);
	expect_folded_matches_json(rf, sites, ARRAY_SIZE(sites));
	(void)state;
}

static void test_folded_realloc_sums_match_json(void **state)
{
	static const char *const sites[] = { "orig_alloc", "move_realloc", "grow_realloc" };
	struct run_files *rf = run_formats("json,pprof,folded", known_bin, "realloc");

	assert_int_equal(site_sum(rf->report, "orig_alloc", "alloc_bytes"), 10000);
	assert_int_equal(site_sum(rf->report, "orig_alloc", "live_bytes"), 0);
	expect_folded_matches_json(rf, sites, ARRAY_SIZE(sites));
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Allocator frames and inlined frames (C++ at -O2)                    */
/* ------------------------------------------------------------------ */

/* cpp_alloc's sites (tests/workloads/cpp_alloc.cc), allocated bytes. */
#define CPP_MAKE_ARRAY_BYTES   1000     /* 10 x new int[25] */
#define CPP_MAKE_BUFFER_BYTES  11350    /* malloc(64 + i), i < 100 */

static void test_cxx_pprof_top_has_allocating_functions_not_operator_new(void **state)
{
	static const char *const top[] = { "-top", "-nodefraction=0", "-unit=B",
					   "-sample_index=alloc_space", NULL };
	struct run_files *rf = run_formats("json,pprof,folded,svg", cpp_bin, NULL);
	char *pb = final_path(rf, "pb.gz");
	struct top_row row;
	struct result r;

	/* JSON keeps operator new as frames[0] and marks it. */
	assert_int_equal(site_sum(rf->report, "operator new(unsigned long)", "alloc_bytes") >=
			 CPP_MAKE_ARRAY_BYTES, 1);
	r = pprof(top, pb);
	if (strstr(r.out, "operator new"))
		fail_msg("pprof -top lists operator new:\n%s", r.out);
	row = top_find(r.out, "int* app::make_array<int>(unsigned long)", "B");
	if (row.flat != CPP_MAKE_ARRAY_BYTES)
		fail_msg("flat alloc_space of make_array: %lld, want %d\n%s", (long long)row.flat,
			 CPP_MAKE_ARRAY_BYTES, r.out);
	/* make_buffer is always_inline: its own (inlined) node has the bytes. */
	row = top_find(r.out, "make_buffer (inline)", "B");
	if (row.flat != CPP_MAKE_BUFFER_BYTES)
		fail_msg("flat alloc_space of make_buffer: %lld, want %d\n%s",
			 (long long)row.flat, CPP_MAKE_BUFFER_BYTES, r.out);
	result_free(&r);
	free(pb);
	(void)state;
}

/* The line after the Location line that starts with fn, trimmed. */
static char *raw_next_line(const char *out, const char *fn)
{
	char *needle = xasprintf(" %s ", fn);
	const char *p = strstr(out, "\nLocations\n"), *hit, *eol, *next_eol;
	char *line;

	if (!p)
		fail_msg("no Locations in pprof -raw:\n%s", out);
	hit = strstr(p, needle);
	if (!hit)
		fail_msg("no location of %s in pprof -raw:\n%s", fn, out);
	free(needle);
	eol = strchr(hit, '\n');
	assert_non_null(eol);
	eol++;
	while (*eol == ' ')
		eol++;
	next_eol = strchrnul(eol, '\n');
	line = strndup(eol, (size_t)(next_eol - eol));
	assert_non_null(line);
	return line;
}

/* A line of out that contains every one of the strings (NULL-ended). */
static bool has_line_with(const char *out, const char *const want[])
{
	for (const char *p = out; p && *p;) {
		const char *eol = strchrnul(p, '\n');
		size_t i;

		for (i = 0; want[i]; i++) {
			const char *hit = memmem(p, (size_t)(eol - p), want[i], strlen(want[i]));

			if (!hit)
				break;
		}
		if (!want[i])
			return true;
		p = *eol ? eol + 1 : NULL;
	}
	return false;
}

static void test_cxx_pprof_raw_has_inlined_frames(void **state)
{
	static const char *const raw[] = { "-raw", NULL };
	struct run_files *rf = run_formats("json,pprof,folded,svg", cpp_bin, NULL);
	char *pb = final_path(rf, "pb.gz"), *exe_mapping, *line;
	struct raw_profile rp;
	struct result r;

	r = pprof(raw, pb);
	parse_raw(r.out, &rp);
	expect_raw_matches_json(&rp, rf->report);
	/* One location, two lines: make_buffer inlined into Cache::fill. */
	line = raw_next_line(r.out, "make_buffer");
	if (strncmp(line, "app::Cache::fill(int) ", 22))
		fail_msg("make_buffer's location goes on with \"%s\", not Cache::fill:\n%s", line,
			 r.out);
	free(line);
	/* std::vector's frames inlined in grow_vector, innermost first. */
	line = raw_next_line(r.out,
			     "std::__new_allocator<long>::allocate(unsigned long, void const*)");
	if (strncmp(line, "std::allocator_traits<std::allocator<long> >::allocate(", 55))
		fail_msg("no inlined allocator_traits frame after __new_allocator: \"%s\"", line);
	free(line);
	exe_mapping = xasprintf(" %s ", cpp_bin);
	if (!has_line_with(r.out, (const char *const[]){ exe_mapping, "[FN][FL][LN][IN]", NULL }))
		fail_msg("the executable's mapping is not marked with inline frames:\n%s", r.out);
	free(exe_mapping);
	result_free(&r);
	free(pb);
	(void)state;
}

/* -list from / finds the source by its absolute name; the profile is
 * named after the executable (its mapping first, with its build ID). */
static void test_cxx_pprof_list_from_another_directory(void **state)
{
	static const char *const list[] = { "-list=make_array", "-unit=B",
					    "-sample_index=alloc_space", NULL };
	static const char *const raw[] = { "-raw", NULL };
	static const char *const line45[] = { "1000B", "45:", "new T[n]; // @make_array", NULL };
	struct run_files *rf = run_formats("json,pprof,folded,svg", cpp_bin, NULL);
	char *pb = final_path(rf, "pb.gz"), *exe = xasprintf(" %s ", cpp_bin);
	const char *m1;
	unsigned long long start, limit, off;
	char id[64];
	struct result r;

	r = pprof_in("/", list, pb);
	if (!strstr(r.out, "ROUTINE ======================== int* app::make_array") ||
	    !has_line_with(r.out, line45))
		fail_msg("pprof -list from / shows no source line 45 of make_array:\n%s", r.out);
	result_free(&r);

	r = pprof(raw, pb);
	m1 = strstr(r.out, "\nMappings\n1: ");
	if (!m1 || sscanf(m1, "\nMappings\n1: %llx/%llx/%llx", &start, &limit, &off) != 3 ||
	    !strstr(m1, exe))
		fail_msg("the executable is not the first mapping:\n%s", r.out);
	if (start % 4096 || limit % 4096 || off % 4096 || start >= limit ||
	    sscanf(strstr(m1, exe) + strlen(exe), "%63s", id) != 1 || strlen(id) != 40)
		fail_msg("mapping 1 has no page-aligned range or no build ID:\n%s", m1);
	result_free(&r);
	free(exe);
	free(pb);
	(void)state;
}

/* -disasm annotates make_array's instructions after the call to new. */
static void test_cxx_pprof_disasm_from_another_directory(void **state)
{
	static const char *const disasm[] = { "-disasm=make_array", "-unit=B",
					      "-sample_index=alloc_space", NULL };
	static const char *const ret_line[] = { "1000B", "cpp_alloc.cc:45", NULL };
	struct run_files *rf = run_formats("json,pprof", cpp_nopie_bin, NULL);
	char *pb = final_path(rf, "pb.gz");
	struct result r;

	r = pprof_in("/", disasm, pb);
	if (!strstr(r.out, "ROUTINE ======================== _ZN3app10make_arrayIiEEPT_m") ||
	    !has_line_with(r.out, ret_line))
		fail_msg("pprof -disasm from / does not annotate make_array:\n%s", r.out);
	result_free(&r);
	free(pb);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* pprof's web UI in Chromium                                          */
/* ------------------------------------------------------------------ */

#define CPP_MAKE_ARRAY "int* app::make_array<int>(unsigned long)"

/* `pprof -http` serving a profile: the pprof executable itself (a killed
 * `go tool` would leave its pprof child running). */
struct pprof_http {
	pid_t pid;
	int err_fd;
	struct buf *err;       /* its stderr */
	char url[64];          /* http://127.0.0.1:PORT */
};

/* The pprof executable that `go tool pprof` runs. */
static char *pprof_tool(void)
{
	static const char *const argv[] = { "go", "tool", "-n", "pprof", NULL };
	struct result r = run_ok(argv, go_home_env());
	char *tool = strndup(r.out, strcspn(r.out, "\n"));

	assert_non_null(tool);
	if (tool[0] != '/' || access(tool, X_OK))
		fail_msg("`go tool -n pprof` names no executable: \"%s\"", tool);
	result_free(&r);
	return tool;
}

/* Whether something accepts a TCP connection on 127.0.0.1:port. */
static bool tcp_answers(int port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	assert_true(fd >= 0);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/*
 * Serve file with `pprof -no_browser -http=127.0.0.1:` (pprof picks a free
 * port and prints it) from directory dir, on one Go thread (GOMAXPROCS=1:
 * an idle server, small CPU use). Returns once the server answers.
 */
static void pprof_http_start(struct pprof_http *h, const char *dir, const char *file)
{
	static const char needle[] = "Serving web UI on http://127.0.0.1:";
	const char *env[ARRAY_SIZE(go_env) + 1];
	const char *const *home = go_home_env();
	char *tool = pprof_tool();
	const char *const argv[] = { "env", "-C", dir, tool, "-symbolize=none", "-no_browser",
				     "-http=127.0.0.1:", file, NULL };
	double deadline = now() + cmd_timeout;
	const char *hit;
	size_t n = 0;
	int errp[2], port;

	for (; *home && n < ARRAY_SIZE(env) - 2; home++)
		env[n++] = *home;
	env[n++] = "GOMAXPROCS=1";
	env[n] = NULL;
	h->err = calloc(1, sizeof(*h->err));
	assert_non_null(h->err);
	assert_int_equal(pipe_nonblock(errp), 0);
	h->pid = spawn_env(argv, env, -1, -1, errp[1]);
	h->err_fd = errp[0];
	close(errp[1]);
	/* The address comes on one line, before pprof listens. */
	for (;;) {
		struct pollfd p = { .fd = h->err_fd, .events = POLLIN };
		bool open = poll(&p, 1, 100) <= 0 || drain(h->err_fd, h->err);

		hit = strstr(h->err->data, needle);
		if (hit && strchr(hit, '\n'))
			break;
		if (!open || now() > deadline)
			fail_msg("`%s -http` printed no address; stderr:\n%s", tool, h->err->data);
	}
	port = atoi(hit + strlen(needle));
	snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%d", port);
	while (!tcp_answers(port)) {
		if (waitpid(h->pid, NULL, WNOHANG) == h->pid) {
			untrack_child(h->pid);
			drain(h->err_fd, h->err);
			fail_msg("`%s -http` exited; stderr:\n%s", tool, h->err->data);
		}
		if (now() > deadline)
			fail_msg("%s does not answer within %.0f s", h->url, cmd_timeout);
		sleep_s(0.05);
	}
	free(tool);
}

/* Kill the server (the test's teardown kills it if the test failed). */
static void pprof_http_stop(struct pprof_http *h)
{
	kill(h->pid, SIGKILL);
	wait_for(h->pid, cmd_timeout, -1, NULL);
	close_fd(&h->err_fd);
	free(h->err);
	memset(h, 0, sizeof(*h));
	h->err_fd = -1;
}

/* tests/svg/pprof_ui.js on the server at url; its parsed output. */
static json_object *inspect_pprof_ui(const char *url, const char *fn, const char *si,
				     const char *shots)
{
	const char *const argv[] = { "node", pprof_ui_script, "--shots", shots, "--url", url,
				     "--fn", fn, "--si", si, NULL };
	struct result r = run_ok(argv, NULL);
	json_object *out = json_tokener_parse(r.out);

	if (!out || !json_object_is_type(out, json_type_object))
		fail_msg("pprof_ui.js printed no JSON object:\n%.2000s\nstderr:\n%s", r.out,
			 r.err);
	result_free(&r);
	return out;
}

/* A view pprof_ui.js read: HTTP 200, no script, console or request error. */
static void expect_clean_view(json_object *view)
{
	static const char *const lists[] = { "errors", "failed", "bad_responses" };

	if (get_int(view, "status") != 200)
		fail_msg("%s: HTTP status %lld", get_str(view, "url"),
			 (long long)get_int(view, "status"));
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		if (json_object_array_length(get(view, lists[i])))
			fail_msg("%s: %s %s", get_str(view, "url"), lists[i],
				 json_object_to_json_string(get(view, lists[i])));
	}
	if (!is_regular(get_str(view, "shot")))
		fail_msg("%s: no screenshot %s", get_str(view, "url"), get_str(view, "shot"));
}

/* The shown leaf function with the most alloc_bytes in report r. */
static const char *json_top_function(json_object *r, int64_t *bytes)
{
	json_object *stacks = get(r, "stacks");
	const char *top = NULL;

	*bytes = -1;
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		const char *fn = shown_leaf_function(json_object_array_get_idx(stacks, i));
		int64_t sum = 0;

		for (size_t k = 0; k < json_object_array_length(stacks); k++) {
			json_object *s = json_object_array_get_idx(stacks, k);

			if (!strcmp(shown_leaf_function(s), fn))
				sum += get_int(s, "alloc_bytes");
		}
		if (sum > *bytes) {
			*bytes = sum;
			top = fn;
		}
	}
	assert_non_null(top);
	return top;
}

/*
 * The Source view (/ui/source?f=make_array) lists make_array's file by
 * its absolute name with line 45 and its 1000 bytes, from /; the Top
 * view's first row is the function with the most bytes in the JSON
 * report, and no row is operator new.
 *
 * The executable is a copy, removed before pprof starts: the Source view
 * then reads what heaptrace wrote (Functions with absolute file names,
 * Lines), as on another machine. With the executable there, Debian 12's
 * pprof (Go 1.19) disassembles it instead and finds nothing for a C++
 * function: it does not relocate PIE addresses (its ObjAddr is the
 * identity) and names code by DW_AT_name only ("" for make_array's
 * out-of-line DIE), never the profile's function name; -list and the
 * tests above cover the binary-present case.
 */
static void test_cxx_pprof_web_ui_source_and_top_from_another_directory(void **state)
{
	char *bin_dir = new_dir("gone"), *exe = xasprintf("%s/cpp_alloc_O2", bin_dir);
	char *shots = new_dir("pprof-ui"), *pb, *want_bytes, *cwd, *want_file;
	json_object *stacks, *ui, *fns, *fn = NULL, *lines, *rows, *row0;
	const char *file = NULL, *top_fn, *shown;
	int64_t bytes = 0, top_bytes, line = 0;
	struct run_files *rf;
	struct pprof_http h;
	bool found = false;

	copy_file(cpp_bin, exe);
	assert_int_equal(chmod(exe, 0755), 0);
	rf = run_formats("json,pprof", exe, NULL);
	if (unlink(exe))
		fail_msg("unlink %s: %s", exe, strerror(errno));

	/* make_array in the JSON report: its bytes, file and line. */
	stacks = get(rf->report, "stacks");
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *st = json_object_array_get_idx(stacks, i);
		json_object *frames = get(st, "frames");
		json_object *leaf = json_object_array_get_idx(frames, shown_index(frames));

		if (strcmp(shown_leaf_function(st), CPP_MAKE_ARRAY))
			continue;
		bytes += get_int(st, "alloc_bytes");
		file = get_str(leaf, "file");
		line = get_int(leaf, "line");
	}
	if (bytes != CPP_MAKE_ARRAY_BYTES || !file || line != 45)
		fail_msg("the JSON report has make_array with %lld bytes at %s:%lld", (long long)bytes,
			 file ? file : "?", (long long)line);
	cwd = getcwd(NULL, 0);
	assert_non_null(cwd);
	want_file = file[0] == '/' ? xasprintf("%s", file) : xasprintf("%s/%s", cwd, file);
	want_bytes = xasprintf("%lldB", (long long)bytes);

	pb = final_path(rf, "pb.gz");
	pprof_http_start(&h, "/", pb);
	ui = inspect_pprof_ui(h.url, "make_array", "alloc_space", shots);
	pprof_http_stop(&h);

	expect_clean_view(get(ui, "source"));
	fns = get(get(ui, "source"), "functions");
	for (size_t i = 0; i < json_object_array_length(fns); i++) {
		if (!strcmp(get_str(json_object_array_get_idx(fns, i), "name"), CPP_MAKE_ARRAY))
			fn = json_object_array_get_idx(fns, i);
	}
	if (!fn)
		fail_msg("the Source view lists no %s: %s", CPP_MAKE_ARRAY,
			 json_object_to_json_string(fns));
	if (strcmp(get_str(fn, "file"), want_file) || !is_regular(get_str(fn, "file")))
		fail_msg("the Source view names make_array's file %s, not %s", get_str(fn, "file"),
			 want_file);
	lines = get(fn, "lines");
	for (size_t i = 0; i < json_object_array_length(lines); i++) {
		json_object *l = json_object_array_get_idx(lines, i);

		found |= get_int(l, "line") == line && !strcmp(get_str(l, "flat"), want_bytes) &&
			 !strcmp(get_str(l, "cum"), want_bytes) &&
			 strstr(get_str(l, "text"), "new T[n]; // @make_array");
	}
	if (!found)
		fail_msg("the Source view has no line %lld of %s with %s: %s", (long long)line,
			 CPP_MAKE_ARRAY, want_bytes, json_object_to_json_string(lines));

	expect_clean_view(get(ui, "top"));
	rows = get(get(ui, "top"), "rows");
	top_fn = json_top_function(rf->report, &top_bytes);
	free(want_bytes);
	want_bytes = xasprintf("%lldB", (long long)top_bytes);
	row0 = json_object_array_length(rows) ? json_object_array_get_idx(rows, 0) : NULL;
	if (!row0 || strcmp(get_str(row0, "name"), top_fn) ||
	    strcmp(get_str(row0, "flat"), want_bytes))
		fail_msg("the Top view's first row is not %s with %s: %s", top_fn, want_bytes,
			 json_object_to_json_string(rows));
	found = false;
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		shown = get_str(json_object_array_get_idx(rows, i), "name");
		if (strstr(shown, "operator new"))
			fail_msg("the Top view lists %s", shown);
		found |= !strcmp(shown, CPP_MAKE_ARRAY) &&
			 !strcmp(get_str(json_object_array_get_idx(rows, i), "flat"), "1000B");
	}
	if (!found)
		fail_msg("the Top view has no row %s with 1000B: %s", CPP_MAKE_ARRAY,
			 json_object_to_json_string(rows));
	json_object_put(ui);
	free(want_bytes);
	free(want_file);
	free(cwd);
	free(pb);
	free(shots);
	free(exe);
	free(bin_dir);
	(void)state;
}

/* --short-names: folded lines with template arguments collapsed (merged
 * by those names); JSON keeps the full names. */
static void test_cxx_short_names_in_folded_not_in_json(void **state)
{
	static const char *const vec =
		";main;app::grow_vector(int);std::vector<>::push_back(long&&);"
		"long& std::vector<>::emplace_back<>(long&&);"
		"void std::vector<>::_M_realloc_insert<>(__gnu_cxx::__normal_iterator<>, long&&);"
		"std::_Vector_base<>::_M_allocate(unsigned long);"
		"std::allocator_traits<>::allocate(std::allocator<>&, unsigned long);"
		"std::__new_allocator<>::allocate(unsigned long, void const*) 16376\n";
	struct run_files *rf = run_formats_opt("--short-names", "json,folded", cpp_bin, NULL);
	char *path = final_path(rf, "alloc_bytes.folded");
	json_object *stacks = get(rf->report, "stacks");
	bool full = false;
	struct folded f;

	folded_load(path, &f);
	if (!strstr(f.text, vec))
		fail_msg("--short-names: no short std::vector stack of 16376 bytes:\n%s", f.text);
	if (strstr(f.text, "std::allocator<long>"))
		fail_msg("--short-names: template arguments left in:\n%s", f.text);
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *fr = get(json_object_array_get_idx(stacks, i), "frames");

		for (size_t k = 0; k < json_object_array_length(fr); k++)
			full |= !strcmp(get_str(json_object_array_get_idx(fr, k), "function"),
					"std::vector<long, std::allocator<long> >::push_back(long&&)");
	}
	assert_true(full);
	folded_free(&f);
	free(path);
	(void)state;
}

/* Folded and SVG: no operator new, inlined frames; kept on request. */
static void test_cxx_folded_svg_no_operator_new_unless_kept(void **state)
{
	struct run_files *rf = run_formats("json,pprof,folded,svg", cpp_bin, NULL);
	struct run_files *kept = run_formats_opt("--keep-alloc-frames", "json,folded", cpp_bin,
						 NULL);
	char *path = final_path(rf, "alloc_bytes.folded"), *svg = final_path(rf, "alloc_bytes.svg");
	char *kpath = final_path(kept, "alloc_bytes.folded");
	struct folded f, k;
	char *text;

	folded_load(path, &f);
	if (strstr(f.text, "operator new"))
		fail_msg("operator new in the folded file:\n%s", f.text);
	if (!strstr(f.text, ";main;app::Cache::fill(int);make_buffer 11350\n"))
		fail_msg("no inlined make_buffer leaf under Cache::fill:\n%s", f.text);
	if (!strstr(f.text, ";main;int* app::make_array<int>(unsigned long) 1000\n"))
		fail_msg("make_array is not the leaf of its 1000 bytes:\n%s", f.text);
	expect_folded_matches_json(rf, (const char *const[]){ "make_buffer" }, 1);
	text = slurp(svg, NULL);
	assert_non_null(text);
	if (strstr(text, "operator new"))
		fail_msg("operator new in the SVG flame graph");
	assert_non_null(strstr(text, "data-name=\"make_buffer\""));
	free(text);

	folded_load(kpath, &k);
	if (!strstr(k.text, ";main;int* app::make_array<int>(unsigned long);"
			    "operator new(unsigned long) 1000\n"))
		fail_msg("--keep-alloc-frames: no operator new under make_array:\n%s", k.text);
	expect_folded_matches_json(kept, (const char *const[]){ "make_buffer" }, 1);
	folded_free(&f);
	folded_free(&k);
	free(path);
	free(kpath);
	free(svg);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Lifetimes and ages                                                  */
/* ------------------------------------------------------------------ */

/* DHAT's program point whose innermost frame is fn. */
static json_object *dhat_pp(json_object *dhat, const char *fn)
{
	json_object *pps = get(dhat, "pps"), *ftbl = get(dhat, "ftbl");
	json_object *found = NULL;

	for (size_t i = 0; i < json_object_array_length(pps); i++) {
		json_object *pp = json_object_array_get_idx(pps, i);
		json_object *fs = get(pp, "fs");
		const char *fr;

		if (!json_object_array_length(fs))
			continue;
		fr = json_object_get_string(json_object_array_get_idx(
			ftbl, json_object_get_int(json_object_array_get_idx(fs, 0))));
		if (fr && strstr(fr, fn) && strstr(fr, ": ") && !strncmp(strstr(fr, ": ") + 2, fn,
									  strlen(fn))) {
			if (found)
				fail_msg("two DHAT program points start in %s", fn);
			found = pp;
		}
	}
	if (!found)
		fail_msg("no DHAT program point starts in %s", fn);
	return found;
}

/* churn: 5000 blocks freed right away. Their lifetimes are measured on a
 * 1 ms clock: each block's is 0 or 1 ms, and the sum is an unbiased
 * estimate that is not 0 for microsecond lifetimes over 5000 blocks. */
static void test_dhat_churn_has_lifetimes_and_peak_time_of_json(void **state)
{
	struct run_files *rf = run_formats("json,dhat", known_bin, "churn");
	char *path = final_path(rf, "dhat.json");
	json_object *dhat = load_json(path), *pp = dhat_pp(dhat, "churn_malloc");
	json_object *times = get(rf->report, "times"), *st = NULL;
	json_object *stacks = get(rf->report, "stacks");
	int64_t tl = get_int(pp, "tl");

	for (size_t i = 0; i < json_object_array_length(stacks); i++)
		if (!strcmp(leaf_function(json_object_array_get_idx(stacks, i)), "churn_malloc"))
			st = json_object_array_get_idx(stacks, i);
	assert_non_null(st);
	assert_int_equal(get_int(pp, "tbk"), 5000);
	assert_int_equal(get_int(pp, "tb"), 5000 * 64);
	/* Nothing of churn's stays live: tl is the freed blocks' lifetimes. */
	if (tl <= 0 || tl != llround(get_num(st, "freed_lifetime_s") * 1e6) ||
	    tl > (int64_t)(get_num(rf->report, "duration_s") * 1e6))
		fail_msg("churn_malloc: DHAT tl %lld us, JSON freed_lifetime_s %.3f, run %.3f s",
			 (long long)tl, get_num(st, "freed_lifetime_s"),
			 get_num(rf->report, "duration_s"));
	/* One block of 64 bytes at a time: its high-water mark. */
	assert_int_equal(get_int(pp, "mb"), 64);
	assert_int_equal(get_int(pp, "mbk"), 1);
	if (get_int(dhat, "tg") != llround(get_num(times, "peak_time_s") * 1e6) ||
	    get_int(dhat, "tg") > get_int(dhat, "te"))
		fail_msg("DHAT t-gmax %lld us, JSON peak_time_s %.3f, t-end %lld us",
			 (long long)get_int(dhat, "tg"), get_num(times, "peak_time_s"),
			 (long long)get_int(dhat, "te"));
	json_object_put(dhat);
	free(path);
	(void)state;
}

/*
 * The JSON timeline of grow: step i (0-based) at first + i * gap seconds
 * of grow's clock, which starts up to 0.2 s after tracing. A point at t
 * holds at least the steps made by t - 0.2 and at most those by t, and
 * every step count from 0 to steps shows up in some point.
 */
static void expect_timeline_steps(json_object *report, int steps, double first, double gap)
{
	json_object *pts = get(get(report, "timeline"), "points");
	size_t n = json_object_array_length(pts);
	bool seen[64] = { false };

	assert_true(steps < 64);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(pts, i);
		double t = json_object_get_double(json_object_array_get_idx(p, 0));
		int64_t live = json_object_get_int64(json_object_array_get_idx(p, 1));
		int lo = 0, hi = 0;

		for (int k = 0; k < steps; k++) {
			lo += first + k * gap <= t - 0.2;
			hi += first + k * gap <= t;
		}
		if (live < (int64_t)lo * GROW_STEP_BYTES || live > (int64_t)hi * GROW_STEP_BYTES)
			fail_msg("timeline at %.3f s: %lld live, want %d to %d steps of %d", t,
				 (long long)live, lo, hi, GROW_STEP_BYTES);
		if (live % GROW_STEP_BYTES == 0 && live / GROW_STEP_BYTES <= steps)
			seen[live / GROW_STEP_BYTES] = true;
		if (i && t <= json_object_get_double(json_object_array_get_idx(
				     json_object_array_get_idx(pts, i - 1), 0)))
			fail_msg("timeline points out of order at %.3f s", t);
	}
	for (int k = 0; k <= steps; k++)
		if (!seen[k])
			fail_msg("no timeline point after %d steps (%d bytes)", k, k * GROW_STEP_BYTES);
}

/* grow 4 1000 250: steps of 100 x 1000 bytes at 0.25, 1.25, 2.25 and
 * 3.25 s, exit at 4.25 s: at the report the steps are about 4, 3, 2 and
 * 1 s old. --older-than 2.5 leaves exactly the first two; the JSON
 * timeline shows the four steps. */
static void test_grow_timeline_steps_and_older_than_leaks(void **state)
{
	char *dir = new_dir("older");
	const char *argv[] = { heaptrace_bin, "--older-than", "2.5", "-f", "json", "-o", dir,
			       "--", grow_bin, "4", "1000", "250", NULL };
	struct result r = run_ok(argv, NULL);
	json_object *report;
	char *path;
	const char *leaks = strstr(r.out, "== Leaks: memory never freed before the target exited "
					  "(only blocks at least 2.5 s old) ==\n#1 ");
	double oldest;
	char *eol;

	if (!leaks)
		fail_msg("no --older-than Leaks table:\n%s", r.out);
	leaks = strchr(leaks, '#');
	eol = strchr(leaks, '\n');
	if (!strstr(leaks, "195.3 KiB in 200 blocks live, the oldest ") || !eol ||
	    sscanf(strstr(leaks, "the oldest ") + 11, "%lf", &oldest) != 1 ||
	    strstr(leaks, "the oldest ") > eol)
		fail_msg("Leaks of blocks 2.5 s old are not the first two steps:\n%s", r.out);
	/* The first step, 4 s before the exit (load may shift it a little). */
	if (oldest < 3.5 || oldest > 4.5)
		fail_msg("the oldest block is %.1f s old, not about 4:\n%s", oldest, r.out);
	if (strstr(eol, "\n#2 ") && strstr(eol, "\n#2 ") < strstr(eol, "\n== Churn"))
		fail_msg("a second stack in --older-than Leaks:\n%s", r.out);
	path = xasprintf("%s/heaptrace-%d-final.json", dir, files_pid(dir));
	report = load_report(path, files_pid(dir));
	/* --older-than is the text report's: JSON has every live block. */
	assert_int_equal(site_sum(report, "grow_alloc", "live_bytes"), 4 * GROW_STEP_BYTES);
	expect_timeline_steps(report, 4, 0.25, 1.0);
	json_object_put(report);
	free(path);
	result_free(&r);
	free(dir);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* SVG                                                                 */
/* ------------------------------------------------------------------ */

static void test_svg_xmllint_accepts_every_file(void **state)
{
	struct run_files *rfs[] = {
		run_formats("json,pprof,folded,svg", known_bin, "keep"),
		run_formats("json,folded,svg", known_bin, "peak"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(rfs); i++) {
		for (size_t m = 0; m < ARRAY_SIZE(metric_names); m++) {
			char *ext = xasprintf("%s.svg", metric_names[m]);
			char *path = final_path(rfs[i], ext);
			const char *argv[] = { "xmllint", "--noout", path, NULL };
			struct result r = run(argv, NULL);

			if (r.code != 0 || r.err[0])
				fail_msg("xmllint rejects %s (exit %d):\n%s", path, r.code, r.err);
			result_free(&r);
			free(path);
			free(ext);
		}
	}
	(void)state;
}

/* The flame graph a folded file describes: one node per distinct prefix. */
struct node {
	char *path;            /* "a;b;c" */
	const char *name;      /* last element of path */
	int depth;             /* root "all" = 0 */
	int parent;
	int64_t value, off;
	bool drawn;            /* wide enough to be drawn (report_svg.c's MIN_W) */
};

struct tree {
	struct node v[256];
	int n;
};

static int tree_node(struct tree *t, const char *path, size_t len, int parent, int depth)
{
	for (int i = 0; i < t->n; i++)
		if (strlen(t->v[i].path) == len && !strncmp(t->v[i].path, path, len))
			return i;
	assert_true(t->n < (int)ARRAY_SIZE(t->v));
	struct node *nd = &t->v[t->n];

	nd->path = strndup(path, len);
	nd->name = strrchr(nd->path, ';') ? strrchr(nd->path, ';') + 1 : nd->path;
	nd->depth = depth;
	nd->parent = parent;
	return t->n++;
}

static int cmp_node_name(const void *a, const void *b, void *ctx)
{
	const struct tree *t = ctx;

	return strcmp(t->v[*(const int *)a].name, t->v[*(const int *)b].name);
}

static void tree_build(struct tree *t, const struct folded *f)
{
	memset(t, 0, sizeof(*t));
	t->v[0].path = strdup("all");
	t->v[0].name = t->v[0].path;
	t->v[0].parent = -1;
	t->n = 1;
	for (size_t k = 0; k < f->n; k++) {
		const char *s = f->v[k].stack;
		int parent = 0, depth = 1;

		t->v[0].value += f->v[k].value;
		for (const char *p = s;; p++) {
			if (*p == ';' || !*p) {
				int i = tree_node(t, s, (size_t)(p - s), parent, depth++);

				t->v[i].value += f->v[k].value;
				parent = i;
				if (!*p)
					break;
			}
		}
	}
	/* Children left to right in name order, from their parent's left edge. */
	for (int p = 0; p < t->n; p++) {
		int kids[256], nk = 0;
		int64_t off = t->v[p].off;

		for (int i = 1; i < t->n; i++)
			if (t->v[i].parent == p)
				kids[nk++] = i;
		qsort_r(kids, (size_t)nk, sizeof(int), cmp_node_name, t);
		for (int i = 0; i < nk; i++) {
			t->v[kids[i]].off = off;
			off += t->v[kids[i]].value;
		}
	}
	for (int i = 0; i < t->n; i++)
		t->v[i].drawn = !t->v[0].value ||
				(double)t->v[i].value * SVG_FRAME_W / (double)t->v[0].value >= SVG_MIN_W;
}

static void tree_free(struct tree *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->v[i].path);
}

static bool is_ancestor(const struct tree *t, int a, int of)
{
	for (int p = t->v[of].parent; p >= 0; p = t->v[p].parent)
		if (p == a)
			return true;
	return false;
}

/* How report_svg.c words a value in titles (util.c's human_bytes). */
static void value_words(const char *metric, int64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	size_t u = 0;

	if (!strcmp(metric, "allocs")) {
		snprintf(buf, len, "%lld allocation%s", (long long)v, v == 1 ? "" : "s");
		return;
	}
	if (v < 1024) {
		snprintf(buf, len, "%lld B", (long long)v);
		return;
	}
	while (d >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", d, units[u]);
}

static bool near(double a, double b)
{
	return fabs(a - b) <= GEOM_EPS;
}

static bool has_class(json_object *frame, const char *cls)
{
	json_object *c = get(frame, "classes");

	for (size_t i = 0; i < json_object_array_length(c); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(c, i)), cls))
			return true;
	return false;
}

/* The frame of the page for node nd: same depth, name and left edge. */
static json_object *frame_of(json_object *frames, const struct node *nd)
{
	json_object *found = NULL;

	for (size_t i = 0; i < json_object_array_length(frames); i++) {
		json_object *fr = json_object_array_get_idx(frames, i);

		if (get_int(fr, "d") == nd->depth && get_int(fr, "o") == nd->off &&
		    !strcmp(get_str(fr, "name"), nd->name)) {
			if (found)
				fail_msg("two frames for %s", nd->path);
			found = fr;
		}
	}
	return found;
}

static void expect_png(const char *path)
{
	size_t len;
	char *s = slurp(path, &len);

	if (!s)
		fail_msg("no screenshot %s", path);
	if (len < 2000 || memcmp(s, "\x89PNG\r\n\x1a\n", 8))
		fail_msg("%s is not a plausible PNG (%zu bytes)", path, len);
	free(s);
}

/*
 * What Chromium shows for one SVG against the folded file of the same run
 * and metric: one displayed frame per node, at the right place, with the
 * right title; then, if a frame was clicked, the zoom, "Reset Zoom" and
 * Escape; the hover details and the search.
 */
static void expect_page(json_object *page, const char *folded_path, const char *metric,
			const char *search_a, const char *search_b)
{
	json_object *frames = get(page, "frames"), *errors = get(page, "errors");
	struct folded f;
	struct tree t;
	int drawn = 0, zoomed = -1;
	double total;

	if (json_object_array_length(errors))
		fail_msg("%s: the page reported errors: %s", get_str(page, "file"),
			 json_object_to_json_string(errors));
	assert_string_equal(get_str(page, "root"), "svg");
	assert_string_equal(get_str(page, "metric"), metric);
	assert_int_equal(get_int(page, "scripts"), 1);
	expect_png(get_str(page, "shot"));

	folded_load(folded_path, &f);
	tree_build(&t, &f);
	total = (double)t.v[0].value;
	for (int i = 0; i < t.n; i++)
		drawn += t.v[i].drawn;
	if ((int)json_object_array_length(frames) != drawn)
		fail_msg("%s: %zu frames on the page, %d nodes in the flame graph of\n%s",
			 get_str(page, "file"), json_object_array_length(frames), drawn, f.text);

	for (int i = 0; i < t.n; i++) {
		const struct node *nd = &t.v[i];
		json_object *fr;
		char words[64], suffix[128];
		const char *title;

		if (!nd->drawn)
			continue;
		fr = frame_of(frames, nd);
		if (!fr)
			fail_msg("%s: no frame for %s", get_str(page, "file"), nd->path);
		if (get_int(fr, "v") != nd->value)
			fail_msg("%s: frame %s has value %lld, expected %lld", get_str(page, "file"),
				 nd->path, (long long)get_int(fr, "v"), (long long)nd->value);
		value_words(metric, nd->value, words, sizeof(words));
		snprintf(suffix, sizeof(suffix), " - %s (%.2f%%)", words,
			 total ? 100.0 * (double)nd->value / total : 100.0);
		title = get_str(fr, "title");
		if (strncmp(title, nd->name, strlen(nd->name)) || strlen(title) < strlen(suffix) ||
		    strcmp(title + strlen(title) - strlen(suffix), suffix))
			fail_msg("%s: frame %s has title \"%s\", expected \"%s...%s\"",
				 get_str(page, "file"), nd->path, title, nd->name, suffix);
		if (!get_bool(fr, "displayed") || !near(get_num(fr, "width"),
							 (double)nd->value * SVG_FRAME_W / total) ||
		    !near(get_num(fr, "x"), SVG_PAD + (double)nd->off * SVG_FRAME_W / total))
			fail_msg("%s: frame %s at x %.2f width %.2f (displayed: %d), expected "
				 "x %.2f width %.2f", get_str(page, "file"), nd->path,
				 get_num(fr, "x"), get_num(fr, "width"), get_bool(fr, "displayed"),
				 SVG_PAD + (double)nd->off * SVG_FRAME_W / total,
				 (double)nd->value * SVG_FRAME_W / total);
	}

	/* Hovering shows the frame's title in the details line. */
	{
		json_object *hover = get(page, "hover");
		const char *name = get_str(hover, "name"), *details = get_str(hover, "details");

		if (strncmp(details, name, strlen(name)) || !strstr(details, " - "))
			fail_msg("hovering %s shows \"%s\"", name, details);
	}

	/* The zoom: which node was clicked? */
	json_object *zoom = NULL;

	if (json_object_object_get_ex(page, "zoom", &zoom)) {
		const char *name = get_str(zoom, "name");

		for (int i = 0; i < t.n; i++)
			if (t.v[i].drawn && !strcmp(t.v[i].name, name))
				zoomed = i;
	}
	if (zoomed >= 0) {
		const struct node *z = &t.v[zoomed];
		json_object *zf = get(zoom, "frames");
		int hidden = 0;

		if (!get_bool(zoom, "unzoom_visible"))
			fail_msg("\"Reset Zoom\" is not shown after zooming on %s", z->path);
		for (int i = 0; i < t.n; i++) {
			const struct node *nd = &t.v[i];
			json_object *fr;

			if (!nd->drawn)
				continue;
			fr = frame_of(zf, nd);
			assert_non_null(fr);
			if (i == zoomed || is_ancestor(&t, zoomed, i)) {
				/* The subtree fills the width. */
				double s = SVG_FRAME_W / (double)z->value;

				if (!get_bool(fr, "displayed") || has_class(fr, "hide") ||
				    has_class(fr, "anc") ||
				    !near(get_num(fr, "x"), SVG_PAD + (double)(nd->off - z->off) * s) ||
				    !near(get_num(fr, "width"), (double)nd->value * s))
					fail_msg("zoomed on %s: %s at x %.2f width %.2f, displayed %d",
						 z->path, nd->path, get_num(fr, "x"),
						 get_num(fr, "width"), get_bool(fr, "displayed"));
			} else if (is_ancestor(&t, i, zoomed)) {
				/* Ancestors: stretched to the width and greyed. */
				if (!get_bool(fr, "displayed") || !has_class(fr, "anc") ||
				    !near(get_num(fr, "x"), SVG_PAD) ||
				    !near(get_num(fr, "width"), SVG_FRAME_W) ||
				    strcmp(get_str(fr, "fill"), "rgb(215, 215, 215)"))
					fail_msg("zoomed on %s: ancestor %s is not full width and grey "
						 "(x %.2f width %.2f fill %s)", z->path, nd->path,
						 get_num(fr, "x"), get_num(fr, "width"),
						 get_str(fr, "fill"));
			} else {
				if (get_bool(fr, "displayed") || !has_class(fr, "hide"))
					fail_msg("zoomed on %s: %s is still displayed", z->path,
						 nd->path);
				hidden++;
			}
		}
		if (!hidden)
			fail_msg("zoomed on %s, which has no sibling to hide: pick another frame",
				 z->path);

		/* "Reset Zoom" and Escape bring back the original picture. */
		const char *again[] = { "reset", "escape" };

		for (size_t k = 0; k < ARRAY_SIZE(again); k++) {
			json_object *st = get(page, again[k]), *sf = get(st, "frames");

			if (get_bool(st, "unzoom_visible"))
				fail_msg("\"Reset Zoom\" still shown after %s", again[k]);
			for (size_t i = 0; i < json_object_array_length(frames); i++) {
				json_object *a = json_object_array_get_idx(frames, i);
				json_object *b = json_object_array_get_idx(sf, i);

				if (!near(get_num(a, "x"), get_num(b, "x")) ||
				    !near(get_num(a, "width"), get_num(b, "width")) ||
				    !get_bool(b, "displayed") || has_class(b, "hide") ||
				    has_class(b, "anc"))
					fail_msg("after %s, %s is not back in place", again[k],
						 get_str(a, "name"));
			}
		}
		expect_png(get_str(page, "zoom_shot"));
	}

	/* Search: matching frames highlighted, their share of the total. */
	json_object *search = NULL;

	if (search_a && json_object_object_get_ex(page, "search", &search)) {
		json_object *matches = get(search, "matches");
		int64_t covered = 0;
		char want[64];
		size_t expect_n = 0;

		for (int i = 1; i < t.n; i++) {
			if (!t.v[i].drawn ||
			    (strcmp(t.v[i].name, search_a) && strcmp(t.v[i].name, search_b)))
				continue;
			expect_n++;
			covered += t.v[i].value;   /* these are leaves: no nesting */
		}
		if (json_object_array_length(matches) != expect_n)
			fail_msg("search matched %zu frames, expected %zu: %s",
				 json_object_array_length(matches), expect_n,
				 json_object_to_json_string(matches));
		snprintf(want, sizeof(want), "Matched: %.2f%%", 100.0 * (double)covered / total);
		if (expect_n)
			assert_string_equal(get_str(search, "matched"), want);
	}
	tree_free(&t);
	folded_free(&f);
}

/* Run tests/svg/inspect.js on files; returns its parsed output (an array). */
static json_object *inspect_svgs(const char *const files[], size_t n, const char *const clicks[],
				 const char *search)
{
	const char *argv[32];
	char *shots = new_dir("shots");
	size_t k = 0;
	struct result r;
	json_object *out;

	argv[k++] = "node";
	argv[k++] = svg_script;
	argv[k++] = "--shots";
	argv[k++] = shots;
	for (; clicks && *clicks; clicks++) {
		argv[k++] = "--click";
		argv[k++] = *clicks;
	}
	if (search) {
		argv[k++] = "--search";
		argv[k++] = search;
	}
	for (size_t i = 0; i < n && k < ARRAY_SIZE(argv) - 1; i++)
		argv[k++] = files[i];
	argv[k] = NULL;
	r = run_ok(argv, NULL);
	out = json_tokener_parse(r.out);
	if (!out || !json_object_is_type(out, json_type_array) ||
	    json_object_array_length(out) != n)
		fail_msg("inspect.js printed no result for each file:\n%.2000s\nstderr:\n%s",
			 r.out, r.err);
	result_free(&r);
	free(shots);
	return out;
}

#define SEARCH_RE "^(before|after)_peak$"

static void test_svg_in_chromium_frames_titles_zoom(void **state)
{
	static const char *const clicks[] = { "before_peak", NULL };
	struct run_files *keep = run_formats("json,pprof,folded,svg", known_bin, "keep");
	struct run_files *peak = run_formats("json,folded,svg", known_bin, "peak");
	char *files[5], *folded[5];
	const char *metric[5];
	json_object *pages;
	size_t n = 0;

	files[n] = final_path(keep, "live_bytes.svg");
	folded[n] = final_path(keep, "live_bytes.folded");
	metric[n++] = "live_bytes";
	for (size_t m = 0; m < ARRAY_SIZE(metric_names); m++) {
		char *e1 = xasprintf("%s.svg", metric_names[m]);
		char *e2 = xasprintf("%s.folded", metric_names[m]);

		files[n] = final_path(peak, e1);
		folded[n] = final_path(peak, e2);
		metric[n++] = metric_names[m];
		free(e1);
		free(e2);
	}
	pages = inspect_svgs((const char *const *)files, n, clicks, SEARCH_RE);

	/* The keep_malloc frame by name, as a person would find it. */
	{
		json_object *frames = get(json_object_array_get_idx(pages, 0), "frames"), *km = NULL;

		for (size_t i = 0; i < json_object_array_length(frames); i++) {
			json_object *fr = json_object_array_get_idx(frames, i);

			if (!strcmp(get_str(fr, "name"), "keep_malloc")) {
				assert_null(km);
				km = fr;
			}
		}
		if (!km)
			fail_msg("no g.frame with data-name keep_malloc");
		assert_int_equal(get_int(km, "v"),
				 site_sum(keep->report, "keep_malloc", "live_bytes"));
		if (!strstr(get_str(km, "title"), "keep_malloc") ||
		    !strstr(get_str(km, "title"), " - 97.7 KiB (100.00%)"))
			fail_msg("keep_malloc's title is \"%s\"", get_str(km, "title"));
		assert_string_equal(get_str(km, "label"), "keep_malloc");
	}
	for (size_t i = 0; i < n; i++) {
		json_object *page = json_object_array_get_idx(pages, i);

		expect_page(page, folded[i], metric[i], "before_peak", "after_peak");
		/* Every peak graph has before_peak and a sibling: zoom was tried. */
		if (i > 0 && !json_object_object_get_ex(page, "zoom", NULL))
			fail_msg("%s: before_peak was not clicked", files[i]);
		free(files[i]);
		free(folded[i]);
	}
	json_object_put(pages);
	(void)state;
}

/* The demo of `make demo`, as a flame graph: screenshot for people. */
static void test_svg_demo_flame_graph_screenshot(void **state)
{
	static const char *const clicks[] = { "cache_result", NULL };
	struct run_files *demo = run_formats("json,folded,svg", demo_bin, NULL);
	char *file = final_path(demo, "alloc_bytes.svg");
	char *folded = final_path(demo, "alloc_bytes.folded");
	const char *files[] = { file };
	json_object *pages = inspect_svgs(files, 1, clicks, NULL), *page;

	page = json_object_array_get_idx(pages, 0);
	expect_page(page, folded, "alloc_bytes", NULL, NULL);
	if (!json_object_object_get_ex(page, "zoom", NULL))
		fail_msg("the demo's flame graph has no cache_result frame to click");
	if (json_object_array_length(get(page, "frames")) < 8)
		fail_msg("the demo's flame graph has only %zu frames",
			 json_object_array_length(get(page, "frames")));
	if (flamegraph_png && *flamegraph_png) {
		copy_file(get_str(page, "shot"), flamegraph_png);
		print_message("formats_it: the demo's flame graph: %s\n", flamegraph_png);
	}
	json_object_put(pages);
	free(file);
	free(folded);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

/* Run tests/svg/inspect_html.js on file; returns its parsed output. */
static json_object *inspect_html(const char *file, const char *search, const char *sort)
{
	char *shots = new_dir("html-shots");
	const char *argv[] = { "node", html_script, "--shots", shots, "--search", search,
			       "--sort", sort, file, NULL };
	struct result r = run_ok(argv, NULL);
	json_object *out = json_tokener_parse(r.out);

	if (!out || !json_object_is_type(out, json_type_object))
		fail_msg("inspect_html.js printed no result:\n%.2000s\nstderr:\n%s", r.out, r.err);
	result_free(&r);
	free(shots);
	return out;
}

/* A data-v attribute (a string) as a number. */
static double data_v(json_object *o, const char *key)
{
	const char *s = get_str(o, key);
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end)
		fail_msg("data-v of %s is \"%s\", not a number", key, s);
	return v;
}

static int64_t num_at(json_object *arr, size_t i)
{
	return json_object_get_int64(json_object_array_get_idx(arr, i));
}

/* The indexes of the JSON's stacks with key > 0, highest first, then in
 * the JSON's (stack id) order, as the page's tables sort them. */
static size_t json_table_order(json_object *stacks, const char *key, size_t *order)
{
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		int64_t v = get_int(json_object_array_get_idx(stacks, i), key);
		size_t j = n++;

		if (!v) {
			n--;
			continue;
		}
		for (; j > 0 && get_int(json_object_array_get_idx(stacks, order[j - 1]), key) < v; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	return n;
}

/* One table of the page: its rows are the JSON's stacks in the order of
 * cols[0], each cell the JSON's number (the same decimal, the same
 * double), the function the shown leaf. */
static void expect_html_table(json_object *tables, json_object *report, const char *name,
			      const char *const cols[])
{
	json_object *stacks = get(report, "stacks"), *t = get(tables, name);
	json_object *rows = get(t, "rows"), *columns = get(t, "columns");
	size_t order[64], ncols = 0, n;

	assert_true(json_object_array_length(stacks) <= ARRAY_SIZE(order));
	n = json_table_order(stacks, cols[0], order);
	while (cols[ncols])
		ncols++;
	assert_int_equal(json_object_array_length(columns), ncols + 2);
	for (size_t c = 0; c < ncols; c++)
		assert_string_equal(json_object_get_string(json_object_array_get_idx(columns, c + 1)),
				    cols[c]);
	if (json_object_array_length(rows) != n)
		fail_msg("table %s has %zu rows, the JSON %zu stacks with %s", name,
			 json_object_array_length(rows), n, cols[0]);
	for (size_t i = 0; i < n; i++) {
		json_object *cells = get(json_object_array_get_idx(rows, i), "cells");
		json_object *st = json_object_array_get_idx(stacks, order[i]);

		assert_int_equal(atoll(json_object_get_string(json_object_array_get_idx(cells, 0))),
				 i + 1);
		for (size_t c = 0; c < ncols; c++) {
			const char *cell =
				json_object_get_string(json_object_array_get_idx(cells, c + 1));

			char *end;

			if (strtod(cell, &end) != get_num(st, cols[c]) || !*cell || *end)
				fail_msg("table %s row %zu: %s is %s, the JSON's %g", name, i + 1,
					 cols[c], cell, get_num(st, cols[c]));
		}
		assert_string_equal(json_object_get_string(json_object_array_get_idx(cells, ncols + 1)),
				    shown_leaf_function(st));
	}
}

/*
 * The chart: one band per top stack and "other", summing to the total at
 * every point; the total is the JSON's timeline. Each band holds whole
 * blocks of its site at every point (a point may fall inside a phase);
 * the first point (before the first free) and the last (the report's
 * moment) are known exactly.
 */
static void expect_html_chart(json_object *page, json_object *report)
{
	json_object *chart = get(page, "chart"), *bands = get(chart, "bands");
	json_object *t = get(chart, "t"), *total = get(chart, "total");
	json_object *points = get(get(report, "timeline"), "points");
	json_object *paths = get(chart, "paths"), *other;
	size_t n = json_object_array_length(points), nb = json_object_array_length(bands);
	int site[10], line[10], first_line[13] = { 0 }, per_site[13] = { 0 };

	assert_true(get_bool(chart, "total_line"));
	assert_int_equal(nb, 11);
	assert_int_equal(json_object_array_length(paths), 11);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(paths, 10)), "other");
	other = get(json_object_array_get_idx(bands, 10), "live");
	assert_string_equal(get_str(json_object_array_get_idx(bands, 10), "name"), "other");
	/* Both stacks of sites 8 to 12 (the highest own high-water marks),
	 * told apart by the line in main that called alloc_site(). */
	for (size_t b = 0; b < 10; b++) {
		const char *name = get_str(json_object_array_get_idx(bands, b), "name");

		if (sscanf(name, "phase_site_%d < main:%d", &site[b], &line[b]) != 2 ||
		    site[b] < 8 || site[b] > 12 || line[b] <= 0)
			fail_msg("band %zu is %s, not a stack of sites 8-12", b, name);
		per_site[site[b]]++;
		if (!first_line[site[b]] || line[b] < first_line[site[b]])
			first_line[site[b]] = line[b];
	}
	for (int k = 8; k <= 12; k++)
		assert_int_equal(per_site[k], 2);
	assert_int_equal(json_object_array_length(t), n);
	assert_true(n >= 4);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(points, i);
		int64_t sum = 0, o = num_at(other, i);

		assert_true(json_object_get_double(json_object_array_get_idx(t, i)) ==
			    json_object_get_double(json_object_array_get_idx(p, 0)));
		assert_int_equal(num_at(total, i), num_at(p, 1));
		for (size_t b = 0; b < nb; b++) {
			int64_t v = num_at(get(json_object_array_get_idx(bands, b), "live"), i);

			sum += v;
			if (b < 10 && (v % (site[b] * 1000) || v > site[b] * 10000))
				fail_msg("point %zu: band %zu (site %d) holds %lld", i, b, site[b],
					 (long long)v);
		}
		if (sum != num_at(total, i))
			fail_msg("point %zu: the bands sum to %lld, the total is %lld", i,
				 (long long)sum, (long long)num_at(total, i));
		/* sites 1-6's first stacks and both of site 7 */
		if (o % 1000 || o > 280000 || o < 70000)
			fail_msg("point %zu: \"other\" holds %lld", i, (long long)o);
	}
	/* The first point: the first boundary after the first phase, 400 ms
	 * before the first free. */
	assert_int_equal(num_at(other, 0), 280000);
	for (size_t b = 0; b < 10; b++)
		assert_int_equal(num_at(get(json_object_array_get_idx(bands, b), "live"), 0),
				 line[b] == first_line[site[b]] ? site[b] * 10000 : 0);
	/* The last point is the report's moment: each band is its stack's live bytes. */
	assert_int_equal(num_at(other, n - 1), 140000);
	for (int k = 8; k <= 12; k++) {
		char fn[32];
		int64_t sum = 0;

		snprintf(fn, sizeof(fn), "phase_site_%d", k);
		for (size_t b = 0; b < 10; b++)
			if (site[b] == k)
				sum += num_at(get(json_object_array_get_idx(bands, b), "live"), n - 1);
		assert_int_equal(sum, site_sum(report, fn, "live_bytes"));
	}
}

/* Each metric's flame graph: a site's frames sum to its JSON numbers. */
static void expect_html_flame(json_object *page, json_object *report)
{
	json_object *flame = get(page, "flame");

	for (size_t m = 0; m < ARRAY_SIZE(metric_names); m++) {
		json_object *frames = get(get(flame, metric_names[m]), "frames");
		int64_t root = -1;

		for (int k = 1; k <= 12; k++) {
			char fn[32];
			int64_t sum = 0;

			snprintf(fn, sizeof(fn), "phase_site_%d", k);
			for (size_t i = 0; i < json_object_array_length(frames); i++) {
				json_object *fr = json_object_array_get_idx(frames, i);

				if (strcmp(get_str(fr, "name"), fn))
					continue;
				sum += get_int(fr, "v");
				assert_string_equal(get_str(fr, "code"), "program");
			}
			if (sum != site_sum(report, fn, metric_names[m]))
				fail_msg("%s flame graph: %s frames hold %lld, the JSON %lld",
					 metric_names[m], fn, (long long)sum,
					 (long long)site_sum(report, fn, metric_names[m]));
		}
		for (size_t i = 0; i < json_object_array_length(frames); i++)
			if (!strcmp(get_str(json_object_array_get_idx(frames, i), "name"), "all"))
				root = get_int(json_object_array_get_idx(frames, i), "v");
		assert_int_equal(root, get_int(get(report, "totals"), metric_names[m]));
	}
	/* Switching the metric changes the values: site 12 freed all it had. */
	assert_int_equal(site_sum(report, "phase_site_12", "live_bytes"), 0);
	assert_int_equal(site_sum(report, "phase_site_12", "allocs"), 20);
}

/* Typing into the search marks exactly the matching frames of the graph
 * shown (allocations, selected last) and covers their share. */
static void expect_html_search(json_object *page, json_object *report)
{
	json_object *s = get(page, "search"), *matches = get(s, "matches");
	json_object *frames = get(get(get(page, "flame"), "allocs"), "frames");
	size_t want = 0;
	int64_t sum = 0;
	char text[64];

	for (size_t i = 0; i < json_object_array_length(frames); i++) {
		const char *name = get_str(json_object_array_get_idx(frames, i), "name");

		if (!strcmp(name, "phase_site_10") || !strcmp(name, "phase_site_11") ||
		    !strcmp(name, "phase_site_12"))
			want++;
	}
	assert_int_equal(want, 3);
	assert_int_equal(json_object_array_length(matches), want);
	for (size_t i = 0; i < want; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(matches, i));

		if (strncmp(name, "phase_site_1", 12) || strlen(name) != 13 || name[12] > '2')
			fail_msg("search marked %s", name);
		sum += site_sum(report, name, "allocs");
	}
	snprintf(text, sizeof(text), "Matched: %.2f%%",
		 100.0 * (double)sum / (double)get_int(get(report, "totals"), "allocs"));
	assert_string_equal(get_str(s, "matched"), text);
}

/*
 * Clicking a row shows its whole stack, innermost first: the lines are the
 * frames of a JSON stack with that row's alloc_bytes, function by function.
 */
static void expect_html_clicked_stack(json_object *lines, json_object *stacks,
				      int64_t alloc_bytes)
{
	size_t nl = json_object_array_length(lines);

	for (size_t k = 0; k < json_object_array_length(stacks); k++) {
		json_object *st = json_object_array_get_idx(stacks, k), *fr = get(st, "frames");
		size_t i, nf = json_object_array_length(fr);

		if (get_int(st, "alloc_bytes") != alloc_bytes || nf != nl)
			continue;
		for (i = 0; i < nf; i++) {
			const char *fn = get_str(json_object_array_get_idx(fr, i), "function");
			const char *line = json_object_get_string(json_object_array_get_idx(lines, i));

			if (strncmp(line, fn, strlen(fn)))
				break;
		}
		if (i == nf)
			return;
	}
	fail_msg("the stack shown on a click is no JSON stack of %lld bytes: %s",
		 (long long)alloc_bytes, json_object_to_json_string(lines));
}

/* Clicking a header sorts by it, highest first; clicking again, lowest.
 * Clicking the first row then shows its stack. */
static void expect_html_sorted(json_object *page, json_object *report)
{
	json_object *s = get(page, "sorted"), *first = get(s, "first"), *second = get(s, "second");
	json_object *stacks = get(report, "stacks");
	size_t order[64], n = json_table_order(stacks, "alloc_bytes", order);

	assert_string_equal(get_str(s, "first_class"), "desc");
	assert_string_equal(get_str(s, "second_class"), "asc");
	assert_int_equal(json_object_array_length(first), n);
	assert_int_equal(json_object_array_length(second), n);
	for (size_t i = 0; i < n; i++) {
		int64_t v = get_int(json_object_array_get_idx(stacks, order[i]), "alloc_bytes");

		assert_int_equal(atoll(json_object_get_string(json_object_array_get_idx(first, i))),
				 v);
		assert_int_equal(
			atoll(json_object_get_string(json_object_array_get_idx(second, n - 1 - i))),
			v);
	}
	expect_html_clicked_stack(get(s, "clicked_stack"), stacks,
				  atoll(json_object_get_string(json_object_array_get_idx(second, 0))));
}

/*
 * The phases workload as one HTML page in headless Chromium, against the
 * JSON report of the same run: no error, no request but the file itself,
 * the summary's numbers, the chart's bands, each flame graph, the search,
 * every table and a sort; a screenshot is left in the test's directory.
 */
static void test_html_in_chromium_matches_json(void **state)
{
	static const char *const peak_cols[] = { "peak_bytes", "peak_blocks", "max_live_bytes",
						  NULL };
	static const char *const live_cols[] = { "live_bytes", "live_blocks", "oldest_age_s", NULL };
	static const char *const churn_cols[] = { "allocs", "alloc_bytes", "frees", "freed_bytes",
						  NULL };
	static const char *const temp_cols[] = { "temporary", "allocs", "alloc_bytes", NULL };
	static const char *const keys[] = { "allocs",	     "frees",	      "live_bytes",
					    "peak_bytes",    "temporary",     "unknown_frees",
					    "lost_events" };
	struct run_files *rf = run_formats("json,html", phases_bin, NULL);
	json_object *r = rf->report, *totals = get(r, "totals"), *page, *sum, *req, *errors;
	char *file = final_path(rf, "html"), *url = xasprintf("file://%s", file);
	double peak_s = get_num(get(r, "times"), "peak_time_s");

	/* The workload's profile, exactly. */
	assert_int_equal(get_int(totals, "allocs"), 180);
	assert_int_equal(get_int(totals, "alloc_bytes"), 1350000);
	assert_int_equal(get_int(totals, "peak_bytes"), 1140000);
	assert_int_equal(get_int(totals, "live_bytes"), 900000);
	assert_int_equal(json_object_array_length(get(r, "stacks")), 18);

	page = inspect_html(file, "^phase_site_1[0-2]$", "churn:alloc_bytes");
	errors = get(page, "errors");
	if (json_object_array_length(errors))
		fail_msg("the page had errors: %s", json_object_to_json_string(errors));
	req = get(page, "requests");
	assert_int_equal(json_object_array_length(req), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(req, 0)), url);

	sum = get(page, "summary");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (data_v(sum, keys[i]) != (double)get_int(totals, keys[i]))
			fail_msg("summary %s is %s, the JSON's %lld", keys[i], get_str(sum, keys[i]),
				 (long long)get_int(totals, keys[i]));
	assert_true(data_v(sum, "peak_time_s") == peak_s);
	assert_true(data_v(sum, "stacks") == 18);
	if (json_object_is_type(get(get(r, "memory"), "rss_anon_bytes"), json_type_null))
		assert_string_equal(get_str(sum, "rss_anon_bytes"), "null");
	else
		assert_true(data_v(sum, "rss_anon_bytes") ==
			    (double)get_int(get(r, "memory"), "rss_anon_bytes"));
	assert_true(data_v(get(page, "peak_label"), "v") == peak_s);
	if (peak_s < 0.7 || peak_s > 1.4)
		fail_msg("the peak at %.3f s is not at the third phase (800 ms)", peak_s);

	expect_html_chart(page, r);
	expect_html_flame(page, r);
	expect_html_search(page, r);
	expect_html_table(get(page, "tables"), r, "peak", peak_cols);
	expect_html_table(get(page, "tables"), r, "live", live_cols);
	expect_html_table(get(page, "tables"), r, "churn", churn_cols);
	expect_html_table(get(page, "tables"), r, "temporary", temp_cols);
	expect_html_sorted(page, r);
	expect_png(get_str(page, "shot"));
	if (html_png && *html_png)
		copy_file(get_str(page, "shot"), html_png);
	print_message("formats_it: the HTML report's screenshot: %s (opened in %lld ms)\n",
		      html_png && *html_png ? html_png : get_str(page, "shot"),
		      (long long)get_int(page, "load_ms"));
	json_object_put(page);
	free(url);
	free(file);
	(void)state;
}

/* What the text report notes is shown on the page, word for word: stacks
 * cut at --max-depth 2 (all 180 allocations' stacks are deeper). */
static void test_html_shows_the_text_reports_notes(void **state)
{
	struct run_files *rf = run_formats_opt("--max-depth=2", "json,html", phases_bin, NULL);
	char *file = final_path(rf, "html"), *line = strstr(rf->out, "\nnote: "), *end;
	json_object *page = inspect_html(file, "x", "peak:peak_bytes"), *warnings;

	assert_int_equal(get_int(get(rf->report, "loss"), "stacks_truncated"), 180);
	if (!line)
		fail_msg("the text report has no note:\n%s", rf->out);
	line++;
	end = strchr(line, '\n');
	assert_non_null(end);
	*end = '\0';
	warnings = get(page, "warnings");
	assert_int_equal(json_object_array_length(warnings), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(warnings, 0)), line);
	*end = '\n';
	assert_int_equal(json_object_array_length(get(page, "errors")), 0);
	json_object_put(page);
	free(file);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */
/* ------------------------------------------------------------------ */

/* "heaptrace-PID-000042.ext" -> 42, "heaptrace-PID-final.ext" -> 0;
 * -1 for any other name (wrong PID, padding or extension). */
static int snapshot_seq(const char *name, int pid, const char *ext)
{
	char want[256];
	unsigned int seq;
	int used = 0;

	snprintf(want, sizeof(want), "heaptrace-%d-final.%s", pid, ext);
	if (!strcmp(name, want))
		return 0;
	if (sscanf(name, "heaptrace-%*d-%u.%n", &seq, &used) != 1 || !used || seq == 0)
		return -1;
	snprintf(want, sizeof(want), "heaptrace-%d-%06u.%s", pid, seq, ext);
	return strcmp(name, want) ? -1 : (int)seq;
}

/* grow_alloc's live bytes in a report (0 when it has no such stack yet). */
static int64_t grow_live(json_object *r)
{
	return site_sum(r, "grow_alloc", "live_bytes");
}

static void test_periodic_snapshots_grow_in_steps(void **state)
{
	char *dir = new_dir("periodic");
	const char *argv[] = { heaptrace_bin, "-f", "json", "-o", dir, "-i", "0.5", "--",
			       grow_bin, NULL };
	struct result r = run_ok(argv, NULL);
	int pid = files_pid(dir), max_seq = 0, distinct = 0;
	int64_t last = -1;
	size_t n;
	char **names = list_dir(dir, &n);
	bool seen[1000] = { false }, final = false;

	for (size_t i = 0; i < n; i++) {
		int seq = snapshot_seq(names[i], pid, "json");

		if (seq < 0 || seq >= (int)ARRAY_SIZE(seen))
			fail_msg("unexpected file %s in %s:\n%s", names[i], dir, dir_listing(dir));
		if (seq == 0)
			final = true;
		else
			seen[seq] = true;
		if (seq > max_seq)
			max_seq = seq;
	}
	free_list(names, n);
	if (!final)
		fail_msg("no final snapshot:\n%s", dir_listing(dir));
	/* grow runs 3.25 s: at least 3 snapshots even on a slow machine. */
	if (max_seq < 3)
		fail_msg("only %d periodic snapshots in 3.25 s at -i 0.5:\n%s", max_seq,
			 dir_listing(dir));
	for (int seq = 1; seq <= max_seq; seq++) {
		char *path = xasprintf("%s/heaptrace-%d-%06d.json", dir, pid, seq);
		json_object *rep;
		int64_t live;

		if (!seen[seq])
			fail_msg("snapshot %06d is missing:\n%s", seq, dir_listing(dir));
		rep = load_report(path, pid);
		if (get_bool(get(rep, "target"), "exited"))
			fail_msg("%s: a periodic snapshot says the target exited", path);
		live = grow_live(rep);
		if (live % GROW_STEP_BYTES || live > GROW_STEPS * GROW_STEP_BYTES)
			fail_msg("%s: grow_alloc holds %lld bytes, not a whole number of %d-byte "
				 "steps", path, (long long)live, GROW_STEP_BYTES);
		if (live < last)
			fail_msg("%s: live bytes went down from %lld to %lld", path,
				 (long long)last, (long long)live);
		if (live != last)
			distinct++;
		assert_int_equal(site_sum(rep, "grow_alloc", "live_blocks"), live / 1000);
		/* grow only allocates: its churn since the previous snapshot is
		 * exactly the growth in between. */
		assert_int_equal(site_interval_sum(rep, "grow_alloc", "allocs"),
				 (live - (last < 0 ? 0 : last)) / 1000);
		assert_int_equal(site_interval_sum(rep, "grow_alloc", "alloc_bytes"),
				 live - (last < 0 ? 0 : last));
		last = live;
		json_object_put(rep);
		free(path);
	}
	/* Snapshots every 0.5 s of growth every 0.5 s must see it grow. */
	if (distinct < 2)
		fail_msg("all %d snapshots show the same live bytes (%lld)", max_seq,
			 (long long)last);
	{
		char *path = xasprintf("%s/heaptrace-%d-final.json", dir, pid);
		json_object *rep = load_report(path, pid);

		assert_int_equal(grow_live(rep), GROW_STEPS * GROW_STEP_BYTES);
		assert_int_equal(site_sum(rep, "grow_alloc", "allocs"), GROW_STEPS * 100);
		assert_int_equal(site_interval_sum(rep, "grow_alloc", "alloc_bytes"),
				 GROW_STEPS * GROW_STEP_BYTES - last);
		assert_true(get_bool(get(rep, "target"), "exited"));
		json_object_put(rep);
		free(path);
	}
	expect_no_temporaries(dir);
	result_free(&r);
	free(dir);
	(void)state;
}

/* Wait up to timeout for path to be a regular file; seconds it took or -1. */
static double wait_for_file(const char *path, double timeout)
{
	double t0 = now();

	while (now() - t0 < timeout) {
		if (is_regular(path))
			return now() - t0;
		usleep(2000);
	}
	return -1;
}

static void test_sigusr1_writes_snapshot_within_a_second(void **state)
{
	char *dir = new_dir("sigusr1");
	const char *args[] = { "-f", "json", "-o", dir, NULL };
	pid_t target = start_grow(40);
	struct tracer t;
	char *first, *second, *final;
	json_object *r1, *r2;
	double took;

	first = xasprintf("%s/heaptrace-%d-000001.json", dir, (int)target);
	second = xasprintf("%s/heaptrace-%d-000002.json", dir, (int)target);
	final = xasprintf("%s/heaptrace-%d-final.json", dir, (int)target);
	tracer_start(&t, args, target);
	/* No -i: nothing is written until asked. */
	sleep_between_grow_steps(0.3);
	assert_false(exists(first));

	assert_int_equal(kill(t.pid, SIGUSR1), 0);
	took = wait_for_file(first, 1.0);
	if (took < 0)
		fail_msg("no %s within 1 s of SIGUSR1:\n%s", first, dir_listing(dir));
	r1 = load_report(first, (int)target);
	assert_false(get_bool(get(r1, "target"), "exited"));

	/* Let grow make a step or two, then ask again. */
	sleep_between_grow_steps(0.6);
	assert_int_equal(kill(t.pid, SIGUSR1), 0);
	if (wait_for_file(second, 1.0) < 0)
		fail_msg("no %s within 1 s of the second SIGUSR1:\n%s", second, dir_listing(dir));
	r2 = load_report(second, (int)target);
	if (grow_live(r2) <= grow_live(r1))
		fail_msg("the second snapshot shows no growth: %lld then %lld bytes",
			 (long long)grow_live(r1), (long long)grow_live(r2));
	assert_int_equal(grow_live(r2) % GROW_STEP_BYTES, 0);

	if (tracer_stop(&t) != 0)
		fail_msg("heaptrace -p exited with an error after SIGINT:\n%s", t.err);
	assert_true(is_regular(final));
	expect_no_temporaries(dir);
	print_message("formats_it: SIGUSR1 snapshot written after %.0f ms\n", took * 1000);
	json_object_put(r1);
	json_object_put(r2);
	free(first);
	free(second);
	free(final);
	free(dir);
	(void)state;
}

static void test_keep_2_leaves_last_two_snapshots(void **state)
{
	char *dir = new_dir("keep");
	const char *argv[] = { heaptrace_bin, "-f", "json,folded", "-o", dir, "-i", "0.25",
			       "--keep", "2", "--", grow_bin, NULL };
	struct result r = run_ok(argv, NULL);
	int pid = files_pid(dir), max_seq = 0;
	size_t n;
	char **names = list_dir(dir, &n);
	int count[1000] = { 0 };
	static const char *const exts[] = { "json", "live_bytes.folded", "peak_bytes.folded",
					     "alloc_bytes.folded", "allocs.folded" };

	for (size_t i = 0; i < n; i++) {
		int seq = -1;

		for (size_t e = 0; e < ARRAY_SIZE(exts) && seq < 0; e++)
			seq = snapshot_seq(names[i], pid, exts[e]);
		if (seq < 0 || seq >= (int)ARRAY_SIZE(count))
			fail_msg("unexpected file %s:\n%s", names[i], dir_listing(dir));
		count[seq]++;
		if (seq > max_seq)
			max_seq = seq;
	}
	free_list(names, n);
	/* 3.25 s at -i 0.25: about 13 snapshots; at least 3 must have been made. */
	if (max_seq < 3)
		fail_msg("only %d snapshots: --keep was not exercised:\n%s", max_seq,
			 dir_listing(dir));
	for (int seq = 0; seq <= max_seq; seq++) {
		bool kept = seq == 0 || seq >= max_seq - 1;

		if (count[seq] != (kept ? (int)ARRAY_SIZE(exts) : 0))
			fail_msg("--keep 2: snapshot %06d has %d of its %zu files (last is %06d):\n%s",
				 seq, count[seq], ARRAY_SIZE(exts), max_seq, dir_listing(dir));
	}
	for (int seq = max_seq - 1; seq <= max_seq; seq++) {
		char *path = xasprintf("%s/heaptrace-%d-%06d.json", dir, pid, seq);

		json_object_put(load_report(path, pid));
		free(path);
	}
	expect_no_temporaries(dir);
	result_free(&r);
	free(dir);
	(void)state;
}

static void test_planted_symlinks_are_replaced_not_followed(void **state)
{
	static const char *const planted[] = { "final.json", "000001.json",
					       "final.live_bytes.folded" };
	char *dir = new_dir("symlink");
	char *outside = xasprintf("%s/%03d-outside.txt", tmpdir, run_seq);
	char *dangling = xasprintf("%s/%03d-nonexistent", tmpdir, run_seq);
	const char *args[] = { "-f", "json,folded", "-o", dir, NULL };
	pid_t target = start_grow(40);
	struct tracer t;
	struct stat before, after;
	char *content, *link_path[ARRAY_SIZE(planted) + 1];

	write_file(outside, "precious\n");
	assert_int_equal(stat(outside, &before), 0);
	for (size_t i = 0; i < ARRAY_SIZE(planted); i++) {
		link_path[i] = xasprintf("%s/heaptrace-%d-%s", dir, (int)target, planted[i]);
		assert_int_equal(symlink(outside, link_path[i]), 0);
	}
	/* One to a file that does not exist: following it would create it. */
	link_path[ARRAY_SIZE(planted)] = xasprintf("%s/heaptrace-%d-final.allocs.folded", dir,
						   (int)target);
	assert_int_equal(symlink(dangling, link_path[ARRAY_SIZE(planted)]), 0);

	tracer_start(&t, args, target);
	assert_int_equal(kill(t.pid, SIGUSR1), 0);
	if (wait_for_file(link_path[1], 1.0) < 0)
		fail_msg("snapshot 000001 did not replace the symlink within 1 s:\n%s",
			 dir_listing(dir));
	/* A step of grow, so that every final file has something in it. */
	sleep_between_grow_steps(0.6);
	if (tracer_stop(&t) != 0)
		fail_msg("heaptrace -p exited with an error:\n%s", t.err);

	content = slurp(outside, NULL);
	assert_non_null(content);
	assert_string_equal(content, "precious\n");
	assert_int_equal(stat(outside, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_true(after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
		    after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
	if (exists(dangling))
		fail_msg("heaptrace followed a dangling symlink and created %s", dangling);
	for (size_t i = 0; i <= ARRAY_SIZE(planted); i++) {
		struct stat st;

		if (lstat(link_path[i], &st) || !S_ISREG(st.st_mode) || st.st_size == 0)
			fail_msg("%s is not a regular, non-empty file now", link_path[i]);
		if (strstr(link_path[i], ".json"))
			json_object_put(load_report(link_path[i], (int)target));
		free(link_path[i]);
	}
	expect_no_temporaries(dir);
	free(content);
	free(outside);
	free(dangling);
	free(dir);
	(void)state;
}

/* Tracing finished and the text report was printed, though files failed. */
static void expect_write_failure(const struct result *r, const char *dir, const char *reason)
{
	if (r->code != 1)
		fail_msg("`%s` exited with %d, expected 1; stderr:\n%s", r->cmd, r->code, r->err);
	if (!strstr(r->err, "can't write") || !strstr(r->err, dir) || !strstr(r->err, reason))
		fail_msg("`%s`: no \"can't write '%s/...': %s\" on stderr:\n%s", r->cmd, dir,
			 reason, r->err);
	if (!strstr(r->out, "allocations") || !strstr(r->out, "keep_malloc") ||
	    !strstr(r->out, "1000"))
		fail_msg("`%s` did not print the text report of the traced run:\n%s", r->cmd,
			 r->out);
}

/* A read-only output directory is found out before tracing starts. */
static void test_read_only_output_dir_is_refused_at_start_exit_2(void **state)
{
	char *dir = new_dir("readonly");
	const char *argv[] = { heaptrace_bin, "-f", "json,svg", "-o", dir, "--", known_bin, "keep",
			       NULL };
	struct result r;
	size_t n;

	char **names;

	mount_tmpfs(dir, MS_RDONLY, "size=1m");
	r = run(argv, NULL);
	if (r.code != 2)
		fail_msg("`%s` exited with %d, expected 2; stderr:\n%s", r.cmd, r.code, r.err);
	if (!strstr(r.err, "can't write to") || !strstr(r.err, dir) ||
	    !strstr(r.err, "Read-only file system"))
		fail_msg("`%s`: no \"can't write to '%s': Read-only file system\" on stderr:\n%s",
			 r.cmd, dir, r.err);
	if (strstr(r.out, "allocations"))
		fail_msg("`%s` traced although its output directory is read-only", r.cmd);
	names = list_dir(dir, &n);
	free_list(names, n);
	assert_int_equal(n, 0);
	result_free(&r);
	free(dir);
	(void)state;
}

static void test_full_disk_exit_1_no_partial_files(void **state)
{
	char *dir = new_dir("full");
	char *fill = xasprintf("%s/fill", dir);
	const char *argv[] = { heaptrace_bin, "-f", "json,svg", "-o", dir, "--", known_bin, "keep",
			       NULL };
	static char block[4096];
	struct result r;
	char **names;
	size_t n;
	int fd;

	mount_tmpfs(dir, 0, "size=64k");
	fd = open(fill, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	for (;;) {
		ssize_t w = write(fd, block, sizeof(block));

		if (w < 0 && errno == ENOSPC)
			break;
		if (w <= 0)
			fail_msg("filling %s: %s", dir, strerror(errno));
	}
	close(fd);

	r = run(argv, NULL);
	expect_write_failure(&r, dir, "No space left on device");
	names = list_dir(dir, &n);
	if (n != 1 || strcmp(names[0], "fill"))
		fail_msg("files left in the full directory:\n%s", dir_listing(dir));
	free_list(names, n);
	result_free(&r);
	free(fill);
	free(dir);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Fixtures and main                                                   */
/* ------------------------------------------------------------------ */

static int teardown_test(void **state)
{
	kill_children();
	unmount_all();
	(void)state;
	return 0;
}

/* Is prog runnable through PATH? */
static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save;
	bool found = false;

	if (!path)
		path = "/usr/bin:/bin";
	copy = strdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir, prog);

		found = access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found;
}

static int setup_group(void **state)
{
	static const char *const tools[] = { "go", "node", "xmllint" };
	char *modules;
	bool ok = true;

	heaptrace_bin = env_or("HEAPTRACE", "./heaptrace");
	known_bin = env_or("HEAPTRACE_KNOWN", ".output/tests/known");
	grow_bin = env_or("HEAPTRACE_GROW", ".output/tests/grow");
	demo_bin = env_or("HEAPTRACE_DEMO", ".output/demo");
	cpp_bin = env_or("HEAPTRACE_CPP_ALLOC", ".output/tests/cpp_alloc_O2");
	cpp_nopie_bin = env_or("HEAPTRACE_CPP_ALLOC_NOPIE", ".output/tests/cpp_alloc_nopie");
	svg_script = env_or("HEAPTRACE_SVG_SCRIPT", "tests/svg/inspect.js");
	phases_bin = env_or("HEAPTRACE_PHASES", ".output/tests/phases");
	html_script = env_or("HEAPTRACE_HTML_SCRIPT", "tests/svg/inspect_html.js");
	pprof_ui_script = env_or("HEAPTRACE_PPROF_UI_SCRIPT", "tests/svg/pprof_ui.js");
	flamegraph_png = getenv("HEAPTRACE_FLAMEGRAPH_PNG");
	html_png = getenv("HEAPTRACE_HTML_PNG");
	cmd_timeout = test_timeout(60);

	const char *bins[] = { heaptrace_bin, known_bin, grow_bin, demo_bin, cpp_bin,
			       cpp_nopie_bin, phases_bin };

	for (size_t i = 0; i < ARRAY_SIZE(bins); i++) {
		if (access(bins[i], X_OK)) {
			fprintf(stderr, "formats_it: %s is missing: build it first\n", bins[i]);
			ok = false;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		if (!in_path(tools[i])) {
			fprintf(stderr, "formats_it: %s is not installed\n", tools[i]);
			ok = false;
		}
	}
	if (access("/usr/bin/chromium", X_OK)) {
		fprintf(stderr, "formats_it: /usr/bin/chromium is not installed\n");
		ok = false;
	}
	if (strrchr(svg_script, '/'))
		modules = xasprintf("%.*s/node_modules/playwright-core",
				    (int)(strrchr(svg_script, '/') - svg_script), svg_script);
	else
		modules = xasprintf("node_modules/playwright-core");
	if (access(svg_script, R_OK) || access(pprof_ui_script, R_OK) || access(modules, R_OK)) {
		fprintf(stderr, "formats_it: %s, %s or %s is missing\n", svg_script,
			pprof_ui_script, modules);
		ok = false;
	}
	free(modules);
	if (!ok) {
		fprintf(stderr, "formats_it: run scripts/install-test-deps.sh and make\n");
		return -1;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "formats_it: must run as root (BPF, mounts)\n");
		return -1;
	}
	/* Our tmpfs mounts go away with us even if we crash: a mount namespace
	 * of our own (heaptrace and the workloads share it). Best effort. */
	if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		fprintf(stderr, "formats_it: mount --make-rprivate /: %s\n", strerror(errno));
	if (make_tmpdir(tmpdir))
		return -1;
	chmod(tmpdir, 0755);
	(void)state;
	return 0;
}

static int teardown_group(void **state)
{
	kill_children();
	unmount_all();
	for (size_t i = 0; i < ARRAY_SIZE(runs); i++) {
		if (runs[i].report)
			json_object_put(runs[i].report);
		free(runs[i].dir);
		free(runs[i].out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(go_env); i++)
		free(go_env[i]);
	finish_tmpdir("formats_it", "outputs", tmpdir);
	(void)state;
	return 0;
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown_test)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_pprof_keep_inuse_space_and_alloc_objects),
		T(test_pprof_realloc_every_sample_matches_json),
		T(test_folded_peak_sums_match_json),
		T(test_folded_realloc_sums_match_json),
		T(test_cxx_pprof_top_has_allocating_functions_not_operator_new),
		T(test_cxx_pprof_raw_has_inlined_frames),
		T(test_cxx_pprof_list_from_another_directory),
		T(test_cxx_pprof_disasm_from_another_directory),
		T(test_cxx_pprof_web_ui_source_and_top_from_another_directory),
		T(test_cxx_folded_svg_no_operator_new_unless_kept),
		T(test_cxx_short_names_in_folded_not_in_json),
		T(test_dhat_churn_has_lifetimes_and_peak_time_of_json),
		T(test_grow_timeline_steps_and_older_than_leaks),
		T(test_svg_xmllint_accepts_every_file),
		T(test_svg_in_chromium_frames_titles_zoom),
		T(test_svg_demo_flame_graph_screenshot),
		T(test_html_in_chromium_matches_json),
		T(test_html_shows_the_text_reports_notes),
		T(test_periodic_snapshots_grow_in_steps),
		T(test_sigusr1_writes_snapshot_within_a_second),
		T(test_keep_2_leaves_last_two_snapshots),
		T(test_planted_symlinks_are_replaced_not_followed),
		T(test_read_only_output_dir_is_refused_at_start_exit_2),
		T(test_full_disk_exit_1_no_partial_files),
	};

	return test_main(argc, argv, "formats", tests, ARRAY_SIZE(tests), setup_group,
			 teardown_group);
}
