// SPDX-License-Identifier: MIT
/*
 * Reliability tests: heaptrace runs as root next to production processes,
 * so it must never harm its target, never report wrong numbers silently
 * and never be a way in. Each test drives the real heaptrace (as root)
 * against a workload of tests/workloads/rel_work.c through a fault - the
 * target killed, exec'ing or forking, 64 threads, heaptrace killed or
 * interrupted, an overloaded ring buffer, missing privileges, sudo, a
 * hostile container file tree - and checks exact outcomes.
 *
 * Usage: reliability [FILTER]      (cmocka test name pattern)
 * Environment:
 *   HEAPTRACE              heaptrace binary            (./heaptrace)
 *   HEAPTRACE_REL_WORK     the rel_work workload       (.output/tests/rel_work)
 *   HEAPTRACE_REL_NOPIE    rel_work built without PIE  (.output/tests/rel_work_nopie)
 *   HEAPTRACE_REL_OTHER    rel_other built without PIE (.output/tests/rel_other_nopie)
 *   HEAPTRACE_TEST_TIMEOUT seconds one heaptrace run may take (60)
 *   HEAPTRACE_TEST_KEEP    keep the temporary directory
 *   HEAPTRACE_TEST_TIMES   print each test's duration
 *
 * Protocol with the workload: it writes lines on its fd 3 ("ready PID",
 * "done", results) and reads single bytes on stdin; see rel_work.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
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
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "testlib.h"

static const char *heaptrace_bin;
static const char *work_bin;
static const char *nopie_bin;
static const char *other_bin;
static double run_timeout;
static char tmpdir[] = "/tmp/heaptrace-rel-XXXXXX";
static int run_seq;

/* ------------------------------------------------------------------ */
/* Processes                                                           */
/* ------------------------------------------------------------------ */

/* Descendants that may be re-parented to us (we are a child subreaper),
 * next to our children (testlib's): teardown kills and reaps whatever is
 * left. */
static pid_t orphans[32];

static void track(pid_t *set, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++) {
		if (set[i] == 0) {
			set[i] = pid;
			return;
		}
	}
	fail_msg("too many processes to track");
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *rp;
	int ppid = -1, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

static void kill_all(void)
{
	kill_children();
	for (size_t i = 0; i < ARRAY_SIZE(orphans); i++) {
		if (orphans[i] > 0 && parent_of(orphans[i]) == getpid()) {
			kill(orphans[i], SIGKILL);
			waitpid(orphans[i], NULL, 0);
		}
		orphans[i] = 0;
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

struct spawn_opts {
	int fd[4];                 /* stdin, stdout, stderr, fd 3: -1 = /dev/null
				    * (fd 3: closed) */
	const char *const *env;    /* extra NAME=VALUE entries */
	void (*pre_exec)(void *ctx);  /* in the child, last thing before exec */
	void *ctx;
};

#define SPAWN_OPTS(...) ((struct spawn_opts){ .fd = { -1, -1, -1, -1 }, __VA_ARGS__ })


/*
 * Start argv[0] (a path) with exactly the given descriptors 0-3: every
 * other descriptor is closed, so whatever a launched command inherits
 * beyond them comes from heaptrace.
 */
static pid_t spawn_with(char *const argv[], const struct spawn_opts *o)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR), moved[4];
		sigset_t none;

		for (int i = 0; i < 4; i++) {
			int src = o->fd[i] >= 0 ? o->fd[i] : (i < 3 ? null : -1);

			moved[i] = src >= 0 ? fcntl(src, F_DUPFD_CLOEXEC, 100) : -1;
			if (src >= 0 && moved[i] < 0)
				_exit(126);
		}
		for (int i = 0; i < 4; i++) {
			if (moved[i] >= 0 && dup2(moved[i], i) < 0)
				_exit(126);
			if (moved[i] < 0)
				close(i);
		}
		close_range(4, ~0U, 0);
		for (const char *const *e = o->env; e && *e; e++)
			putenv((char *)*e);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (o->pre_exec)
			o->pre_exec(o->ctx);
		execv(argv[0], argv);
		dprintf(2, "reliability: cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	track_child(pid);
	return pid;
}

static void pipe_nb(int fds[2])
{
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
}

static void tmp_path(char *path, size_t size, const char *what)
{
	snprintf(path, size, "%s/%03d-%s", tmpdir, run_seq, what);
}

/* ------------------------------------------------------------------ */
/* The workload's fd 3: lines                                          */
/* ------------------------------------------------------------------ */

struct chan {
	int fd;
	struct buf b;
	size_t pos;        /* lines before this were consumed */
	char line[1024];
};

/*
 * The next line starting with prefix (lines before it are skipped), within
 * timeout seconds; NULL at end of file or timeout.
 */
static const char *chan_line(struct chan *c, const char *prefix, double timeout)
{
	double deadline = now() + timeout;

	for (;;) {
		char *nl;

		while ((nl = memchr(c->b.data + c->pos, '\n', c->b.len - c->pos))) {
			size_t len = (size_t)(nl - (c->b.data + c->pos));
			bool match = strncmp(c->b.data + c->pos, prefix, strlen(prefix)) == 0;

			snprintf(c->line, sizeof(c->line), "%.*s", (int)len, c->b.data + c->pos);
			c->pos += len + 1;
			if (match)
				return c->line;
		}
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int left = (int)((deadline - now()) * 1000);

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return NULL;
		if (!drain(c->fd, &c->b) && !memchr(c->b.data + c->pos, '\n', c->b.len - c->pos))
			return NULL;
	}
}

static const char *expect_line(struct chan *c, const char *prefix, double timeout)
{
	const char *l = chan_line(c, prefix, timeout);

	if (!l)
		fail_msg("the workload never wrote \"%s...\"; it wrote:\n%s", prefix, c->b.data);
	return l;
}

/* All the workload wrote until end of file (every writer gone). */
static const char *chan_rest(struct chan *c, double timeout)
{
	double deadline = now() + timeout;

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int left = (int)((deadline - now()) * 1000);

		if (left <= 0)
			fail_msg("the workload's fd 3 stayed open; it wrote:\n%s", c->b.data);
		if (poll(&p, 1, left) > 0 && !drain(c->fd, &c->b))
			return c->b.data;
	}
}

static void send_byte(int fd, char c)
{
	assert_int_equal(write(fd, &c, 1), 1);
}

/* ------------------------------------------------------------------ */
/* Running heaptrace and workloads                                     */
/* ------------------------------------------------------------------ */

/* One heaptrace run: stdout in a file, stderr through a pipe. */
struct run {
	pid_t pid;
	int err_fd;
	struct buf err, out;
	char out_path[PATH_MAX], json_path[PATH_MAX];
};

/* A workload: its stdin, its fd 3, its pid. */
struct work {
	pid_t pid;
	int in;
	struct chan ch;
};

static struct run ht = { .err_fd = -1 };
static struct run ht2 = { .err_fd = -1 };
static struct work wk = { .in = -1, .ch = { .fd = -1 } };
static struct work ref = { .in = -1, .ch = { .fd = -1 } };

/*
 * Start heaptrace ARGS... with --json FILE first; the workload's stdin and
 * fd 3 (for launch mode) are w's when w is given.
 */
static void ht_start_opts(struct run *r, const char *const args[], struct work *w,
			  struct spawn_opts so)
{
	char *argv[40];
	size_t n = 0;
	int err[2], in[2] = { -1, -1 }, ch[2] = { -1, -1 }, out_fd;

	run_seq++;
	tmp_path(r->out_path, sizeof(r->out_path), "heaptrace.stdout");
	tmp_path(r->json_path, sizeof(r->json_path), "report.json");
	argv[n++] = (char *)heaptrace_bin;
	argv[n++] = "--json";
	argv[n++] = r->json_path;
	for (; *args && n < ARRAY_SIZE(argv) - 1; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;

	pipe_nb(err);
	out_fd = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(out_fd >= 0);
	if (w) {
		assert_int_equal(pipe2(in, O_CLOEXEC), 0);
		pipe_nb(ch);
		so.fd[0] = in[0];
		so.fd[3] = ch[1];
	}
	so.fd[1] = out_fd;
	so.fd[2] = err[1];
	r->err.len = 0;
	r->err.data[0] = '\0';
	r->out.len = 0;
	r->out.data[0] = '\0';
	r->pid = spawn_with(argv, &so);
	close(out_fd);
	close(err[1]);
	r->err_fd = err[0];
	if (w) {
		close(in[0]);
		close(ch[1]);
		w->in = in[1];
		w->ch.fd = ch[0];
		w->ch.b.len = 0;
		w->ch.b.data[0] = '\0';
		w->ch.pos = 0;
	}
}

static void ht_start(struct run *r, const char *const args[], struct work *w)
{
	ht_start_opts(r, args, w, SPAWN_OPTS());
}

/* heaptrace's exit code; stdout and stderr collected. */
static int ht_wait(struct run *r, double timeout)
{
	int code = wait_for(r->pid, timeout, r->err_fd, &r->err);

	read_file(r->out_path, &r->out);
	close_fd(&r->err_fd);
	return code;
}

static void ht_wait_attached(struct run *r)
{
	if (!wait_for_text(r->err_fd, &r->err, "attached", run_timeout))
		fail_msg("heaptrace never said \"attached\"; stderr:\n%s", r->err.data);
}

/* Launch mode: heaptrace ARGS -- rel_work MODE; returns when it is ready. */
static void launch(struct run *r, struct work *w, const char *const opts[], const char *mode)
{
	const char *args[24];
	size_t n = 0;
	const char *l;

	for (; opts && *opts; opts++)
		args[n++] = *opts;
	args[n++] = "--";
	args[n++] = work_bin;
	args[n++] = mode;
	args[n] = NULL;
	ht_start(r, args, w);
	l = chan_line(&w->ch, "ready ", run_timeout);
	if (!l) {
		drain(r->err_fd, &r->err);
		fail_msg("the launched workload never became ready; heaptrace stderr:\n%s",
			 r->err.data);
	}
	w->pid = atoi(l + 6);
	assert_true(w->pid > 0);
	track(orphans, ARRAY_SIZE(orphans), w->pid);
}

/* Start `BIN MODE [ARG]` directly; returns when it is ready. */
static void work_start_bin(struct work *w, const char *bin, const char *mode, const char *arg,
			   struct spawn_opts so)
{
	char *argv[] = { (char *)bin, (char *)mode, (char *)arg, NULL };
	int in[2], ch[2];

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	pipe_nb(ch);
	so.fd[0] = in[0];
	so.fd[3] = ch[1];
	w->pid = spawn_with(argv, &so);
	close(in[0]);
	close(ch[1]);
	w->in = in[1];
	w->ch.fd = ch[0];
	w->ch.b.len = 0;
	w->ch.b.data[0] = '\0';
	w->ch.pos = 0;
	expect_line(&w->ch, "ready ", 10);
}

static void work_start(struct work *w, const char *mode)
{
	work_start_bin(w, work_bin, mode, NULL, SPAWN_OPTS());
}

/* heaptrace -p the workload, with extra args; returns once attached. */
static void attach(struct run *r, struct work *w, const char *const opts[])
{
	const char *args[24];
	char pid_str[16];
	size_t n = 0;

	for (; opts && *opts; opts++)
		args[n++] = *opts;
	snprintf(pid_str, sizeof(pid_str), "%d", (int)w->pid);
	args[n++] = "-p";
	args[n++] = pid_str;
	args[n] = NULL;
	ht_start(r, args, NULL);
	ht_wait_attached(r);
}

/* The workload's exit code once it ends (it is our child or orphan). */
static int work_end(struct work *w, double timeout)
{
	close_fd(&w->in);
	return wait_for(w->pid, timeout, -1, NULL);
}

static void ht_expect_exit(struct run *r, int want)
{
	int code = ht_wait(r, run_timeout);

	if (code != want)
		fail_msg("heaptrace exited with %d, expected %d; stderr:\n%s", code, want,
			 r->err.data);
}

/* ------------------------------------------------------------------ */
/* Reports                                                             */
/* ------------------------------------------------------------------ */

static json_object *report;

static bool has(json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static bool get_bool(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	if (!json_object_is_type(v, json_type_boolean))
		fail_msg("report: \"%s\" is not a boolean", key);
	return json_object_get_boolean(v);
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	if (json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static const char *const counter_keys[] = {
	"allocs", "alloc_bytes", "frees", "freed_bytes", "live_blocks",
	"live_bytes", "peak_blocks", "peak_bytes", "temporary",
};

/* Load r's JSON report into `report` and check what holds for any report. */
static json_object *load_report(struct run *r, bool exited)
{
	json_object *totals, *stacks;
	int64_t sum[ARRAY_SIZE(counter_keys)] = { 0 };

	if (report)
		json_object_put(report);
	report = json_object_from_file(r->json_path);
	if (!report)
		fail_msg("cannot parse JSON report %s: %s; heaptrace stderr:\n%s", r->json_path,
			 json_util_get_last_err(), r->err.data);
	assert_int_equal(get_int(report, "version"), 1);
	if (get_bool(get(report, "target"), "exited") != exited)
		fail_msg("report: target.exited is %s, expected %s",
			 exited ? "false" : "true", exited ? "true" : "false");
	totals = get(report, "totals");
	stacks = get(report, "stacks");
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);

		assert_true(json_object_array_length(get(s, "frames")) >= 1);
		for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++)
			sum[k] += get_int(s, counter_keys[k]);
		assert_int_equal(get_int(s, "live_blocks"), get_int(s, "allocs") - get_int(s, "frees"));
		assert_int_equal(get_int(s, "live_bytes"),
				 get_int(s, "alloc_bytes") - get_int(s, "freed_bytes"));
		assert_true(get_int(s, "temporary") <= get_int(s, "frees"));
	}
	for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++)
		if (get_int(totals, counter_keys[k]) < sum[k])
			fail_msg("report: totals.%s is less than the sum over stacks", counter_keys[k]);
	assert_int_equal(get_bool(get(report, "loss"), "lower_bounds"),
			 get_int(totals, "lost_events") != 0);
	return report;
}

static void expect_no_loss(json_object *r)
{
	int64_t lost = get_int(get(r, "totals"), "lost_events");

	if (lost)
		fail_msg("report: %lld lost events: %s", (long long)lost,
			 json_object_to_json_string_ext(get(r, "loss"), JSON_C_TO_STRING_PLAIN));
}

static const char *frame_fn(json_object *stack, size_t i)
{
	json_object *frames = get(stack, "frames");

	if (i >= json_object_array_length(frames))
		return NULL;
	return get_str(json_object_array_get_idx(frames, i), "function");
}

static void print_stacks(json_object *r)
{
	json_object *stacks = get(r, "stacks");

	for (size_t i = 0; i < json_object_array_length(stacks) && i < 40; i++)
		print_error("  stack %.600s\n", json_object_to_json_string_ext(
				    json_object_array_get_idx(stacks, i), JSON_C_TO_STRING_PLAIN));
}

static int count_stacks(json_object *r, const char *fn)
{
	json_object *stacks = get(r, "stacks");
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		const char *f = frame_fn(json_object_array_get_idx(stacks, i), 0);

		n += f && strcmp(f, fn) == 0;
	}
	return n;
}

/* The one stack whose frames[0] is fn. */
static json_object *site(json_object *r, const char *fn)
{
	json_object *stacks = get(r, "stacks");

	if (count_stacks(r, fn) != 1) {
		print_error("expected exactly one stack with frames[0] = %s, found %d\n", fn,
			    count_stacks(r, fn));
		print_stacks(r);
		fail();
	}
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);
		const char *f = frame_fn(s, 0);

		if (f && strcmp(f, fn) == 0)
			return s;
	}
	return NULL;
}

/*
 * The counters of every stack whose frames[0] is fn (and frames[1]
 * caller), summed into a new object; fails if there is none.
 */
static json_object *site_sum(json_object *r, const char *fn, const char *caller)
{
	json_object *stacks = get(r, "stacks"), *sum = json_object_new_object();
	int64_t v[ARRAY_SIZE(counter_keys)] = { 0 }, cut = 0;
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);
		const char *f = frame_fn(s, 0);

		if (!f || strcmp(f, fn) != 0)
			continue;
		/* Shorter is allowed when counted (below); a wrong caller never. */
		if (!frame_fn(s, 1))
			cut += get_int(s, "allocs");
		else if (strcmp(frame_fn(s, 1), caller) != 0) {
			print_stacks(r);
			fail_msg("a stack of %s is called from %s, expected %s", fn,
				 frame_fn(s, 1) ? frame_fn(s, 1) : "nothing", caller);
		}
		for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++)
			v[k] += get_int(s, counter_keys[k]);
		n++;
	}
	if (!n) {
		print_stacks(r);
		fail_msg("no stack starts at %s", fn);
	}
	/* A walk the kernel's busy memory map cut short (64 threads mapping
	 * and unmapping: maps_locked) is counted; more cut stacks than that
	 * would be silently wrong. */
	if (cut && (!has(r, "unwind") || get_int(get(r, "unwind"), "stacks_cut_short") < cut)) {
		print_stacks(r);
		fail_msg("%lld allocations of %s are on stacks cut before %s, more than the %lld "
			 "stacks the report counts as cut short", (long long)cut, fn, caller,
			 has(r, "unwind") ? (long long)get_int(get(r, "unwind"), "stacks_cut_short")
					  : 0LL);
	}
	for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++)
		json_object_object_add(sum, counter_keys[k], json_object_new_int64(v[k]));
	return sum;
}

#define ANY (-1)

/* Compare a stack's counters; ANY skips one. */
static void expect_stats(json_object *s, const char *what, int64_t allocs, int64_t alloc_bytes,
			 int64_t frees, int64_t freed_bytes, int64_t live_blocks,
			 int64_t live_bytes, int64_t temporary)
{
	const int64_t want[] = { allocs, alloc_bytes, frees, freed_bytes, live_blocks,
				 live_bytes, ANY, ANY, temporary };
	bool bad = false;

	for (size_t k = 0; k < ARRAY_SIZE(counter_keys); k++) {
		int64_t got = get_int(s, counter_keys[k]);

		if (want[k] != ANY && got != want[k]) {
			print_error("%s: %s = %lld, expected %lld\n", what, counter_keys[k],
				    (long long)got, (long long)want[k]);
			bad = true;
		}
	}
	if (bad) {
		print_error("  %s\n", json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN));
		fail();
	}
}

/* A site with n kept blocks of size bytes. */
static void expect_kept(json_object *r, const char *fn, int64_t n, int64_t size)
{
	expect_stats(site(r, fn), fn, n, n * size, 0, 0, n, n * size, 0);
}

static void expect_text(const struct buf *b, const char *needle, const char *what)
{
	if (!strstr(b->data, needle))
		fail_msg("%s does not contain \"%s\":\n%.3000s", what, needle, b->data);
}

/* ------------------------------------------------------------------ */
/* Probes: in the target's memory and in the kernel                    */
/* ------------------------------------------------------------------ */

/*
 * Bytes of the target's executable libc mappings that differ from the
 * file: a uprobe is an int3 written into the target's copy of the page.
 * -1 if the mappings could not be read.
 */
static long patched_bytes(pid_t pid)
{
	char path[64], line[4096];
	long diff = 0;
	int found = 0, mem;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (!maps || mem < 0) {
		if (maps)
			fclose(maps);
		if (mem >= 0)
			close(mem);
		return -1;
	}
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long start, end, off;
		char perms[8], file[PATH_MAX] = "", fpath[128];
		int fd;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %4095[^\n]", &start, &end, perms,
			   &off, file) != 5)
			continue;
		if (strcmp(perms, "r-xp") || !strstr(file, "/libc.so.6"))
			continue;
		snprintf(fpath, sizeof(fpath), "/proc/%d/map_files/%llx-%llx", (int)pid, start, end);
		fd = open(fpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		found++;
		for (unsigned long long a = start; a < end; a += 65536) {
			static unsigned char m[65536], f[65536];
			size_t len = end - a < sizeof(m) ? (size_t)(end - a) : sizeof(m);
			ssize_t nm = pread(mem, m, len, (off_t)a);
			ssize_t nf = pread(fd, f, len, (off_t)(off + (a - start)));

			if (nm != (ssize_t)len || nf < 0) {
				diff = -1;
				break;
			}
			for (ssize_t i = 0; i < nm && diff >= 0; i++)
				diff += i >= nf || m[i] != f[i];
		}
		close(fd);
	}
	fclose(maps);
	close(mem);
	return found && diff >= 0 ? diff : -1;
}

/* The target's libc as in the file once heaptrace is gone (unregistering
 * is asynchronous after a kill: give it some seconds). */
static void expect_unpatched(pid_t pid)
{
	double deadline = now() + 15;
	long d;

	while ((d = patched_bytes(pid)) != 0 && now() < deadline)
		sleep_s(0.05);
	if (d != 0)
		fail_msg("PID %d: %ld bytes of its libc code still differ from the file "
			 "(probes left behind)", (int)pid, d);
}

/* `bpftool -j ARGS`, parsed. */
static json_object *bpftool(const char *a1, const char *a2)
{
	char *argv[] = { "/usr/sbin/bpftool", "-j", (char *)a1, (char *)a2, NULL };
	char path[PATH_MAX];
	json_object *j;
	int fd, code;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/bpftool.json", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	pid = spawn_with(argv, &(struct spawn_opts){ .fd = { -1, fd, -1, -1 } });
	close(fd);
	code = wait_for(pid, 30, -1, NULL);
	if (code != 0)
		fail_msg("bpftool -j %s %s exited with %d", a1, a2, code);
	j = json_object_from_file(path);
	if (!j)
		return json_object_new_array();  /* empty output: nothing listed */
	assert_true(json_object_is_type(j, json_type_array));
	return j;
}

struct progs {
	int64_t id[16];
	size_t n;
};

static void add_prog(struct progs *p, int64_t id)
{
	for (size_t k = 0; k < p->n; k++)
		if (p->id[k] == id)
			return;
	if (p->n < ARRAY_SIZE(p->id))
		p->id[p->n++] = id;
}

/* The programs whose program or link fds ht_pid holds (uprobe_multi links
 * are no perf events): "prog_id:" in their fdinfo. */
static void fd_progs(pid_t ht_pid, struct progs *p)
{
	char path[PATH_MAX], line[256];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)ht_pid);
	dir = opendir(path);
	assert_non_null(dir);
	while ((d = readdir(dir))) {
		FILE *f;
		long long id;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)ht_pid, d->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "prog_id: %lld", &id) == 1)
				add_prog(p, id);
		if (f)
			fclose(f);
	}
	closedir(dir);
}

/* The programs heaptrace process ht_pid has attached (bpftool perf list,
 * and the links it holds). */
static void attached_progs(pid_t ht_pid, struct progs *p)
{
	json_object *perf = bpftool("perf", "list");

	p->n = 0;
	fd_progs(ht_pid, p);
	for (size_t i = 0; i < json_object_array_length(perf); i++) {
		json_object *e = json_object_array_get_idx(perf, i);

		if (get_int(e, "pid") == ht_pid)
			add_prog(p, get_int(e, "prog_id"));
	}
	json_object_put(perf);
	if (p->n < 3)
		fail_msg("bpftool perf list shows %zu programs of heaptrace (PID %d), expected "
			 "its entry, return, free and exec programs", p->n, (int)ht_pid);
}

/* Anything of ht_pid's programs left: perf events, programs, links. */
static int leftovers(pid_t ht_pid, const struct progs *p, char *what, size_t len)
{
	static const char *const lists[][2] = { { "perf", "list" }, { "prog", "show" },
						{ "link", "list" } };
	int n = 0;

	what[0] = '\0';
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		json_object *arr = bpftool(lists[l][0], lists[l][1]);

		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *e = json_object_array_get_idx(arr, i);
			const char *key = l == 1 ? "id" : "prog_id";
			int64_t id = has(e, key) ? get_int(e, key) : -1;
			bool hit = l == 0 && has(e, "pid") && get_int(e, "pid") == ht_pid;

			for (size_t k = 0; k < p->n; k++)
				hit |= id == p->id[k];
			if (hit) {
				n++;
				snprintf(what + strlen(what), len - strlen(what), "%s %s: %.200s\n",
					 lists[l][0], lists[l][1],
					 json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
			}
		}
		json_object_put(arr);
	}
	return n;
}

static void expect_no_leftovers(pid_t ht_pid, const struct progs *p)
{
	double deadline = now() + 20;
	char what[4096];
	int n;

	while ((n = leftovers(ht_pid, p, what, sizeof(what))) && now() < deadline)
		sleep_s(0.2);
	if (n)
		fail_msg("%d BPF objects of the dead heaptrace (PID %d) remain:\n%s", n,
			 (int)ht_pid, what);
}

/* ------------------------------------------------------------------ */
/* 1. The target is SIGKILLed mid-trace                                */
/* ------------------------------------------------------------------ */

static void test_launch_target_sigkilled_reports_what_it_saw(void **state)
{
	json_object *r;

	launch(&ht, &wk, NULL, "hold");
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 10);
	assert_int_equal(kill(wk.pid, SIGKILL), 0);
	ht_expect_exit(&ht, 0);
	r = load_report(&ht, true);
	assert_int_equal(get_int(get(r, "target"), "signal"), 9);
	assert_false(has(get(r, "target"), "exit_code"));
	expect_kept(r, "rel_hold_alloc", 300, 128);
	expect_no_loss(r);
	expect_text(&ht.out, "killed by signal 9", "the text report");
	(void)state;
}

static void test_attach_target_sigkilled_reports_what_it_saw(void **state)
{
	json_object *r;

	work_start(&wk, "hold");
	attach(&ht, &wk, NULL);
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 10);
	assert_int_equal(kill(wk.pid, SIGKILL), 0);
	assert_int_equal(work_end(&wk, 10), 128 + SIGKILL);
	ht_expect_exit(&ht, 0);
	r = load_report(&ht, true);
	expect_kept(r, "rel_hold_alloc", 300, 128);
	assert_int_equal(get_int(get(r, "totals"), "allocs"), 300);
	expect_no_loss(r);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* 2. The target execs another program                                 */
/* ------------------------------------------------------------------ */

/*
 * The 200 blocks made before the exec, on one stack, and nothing of the
 * new program. frames[0] must be rel_exec_alloc, or - when heaptrace could
 * no longer read the old program's map - an unresolved address, but never
 * another function's name.
 */
static void expect_exec_report(struct run *r, bool name_required)
{
	json_object *rep = load_report(r, false), *stacks = get(rep, "stacks"), *hit = NULL;

	assert_true(get_bool(get(rep, "target"), "execed"));
	expect_no_loss(rep);
	if (count_stacks(rep, "rel_after_exec_alloc") || count_stacks(rep, "other_after_exec_alloc")) {
		print_stacks(rep);
		fail_msg("allocations of the program exec'd into were counted");
	}
	assert_int_equal(get_int(get(rep, "totals"), "allocs"), 200);
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i);

		if (get_int(s, "allocs") == 200)
			hit = s;
	}
	if (!hit) {
		print_stacks(rep);
		fail_msg("no stack holds the 200 blocks made before the exec");
	}
	expect_stats(hit, "the pre-exec site", 200, 12800, 0, 0, 200, 12800, 0);
	for (size_t f = 0; f < json_object_array_length(get(hit, "frames")); f++) {
		json_object *fr = json_object_array_get_idx(get(hit, "frames"), f);
		const char *fn = get_str(fr, "function"), *mod = get_str(fr, "module");

		/* A name from the new program is a wrong name. */
		if (fn && (strstr(fn, "other_") || strstr(fn, "after_exec"))) {
			print_stacks(rep);
			fail_msg("frame %zu of the old program's stack is named %s (module %s): "
				 "symbolized against the program exec'd into", f, fn,
				 mod ? mod : "null");
		}
	}
	if (strcmp(frame_fn(hit, 0), "rel_exec_alloc") != 0) {
		if (name_required || !strchr(frame_fn(hit, 0), '+')) {
			print_stacks(rep);
			fail_msg("frames[0] of the pre-exec site is %s, expected rel_exec_alloc%s",
				 frame_fn(hit, 0), name_required ? "" : " or an unresolved address");
		}
	}
	expect_text(&r->out, "exec", "the text report");
}

/*
 * Launch mode follows the command into the program it execs (as env or
 * nice do): the report is that program's, from its first allocation, with
 * its exit status; the program before it is named, its heap left out.
 */
static void expect_followed_report(struct run *r, const char *fn_site, const char *gone,
				   const char *before)
{
	json_object *rep = load_report(r, true), *target = get(rep, "target"), *hit;
	const char *run_by;

	assert_false(get_bool(target, "execed"));
	assert_int_equal(get_int(target, "exit_code"), 5);
	run_by = get_str(target, "run_by");
	if (!strstr(run_by, before))
		fail_msg("target.run_by is \"%s\", expected the program before the exec (%s)",
			 run_by, before);
	expect_no_loss(rep);
	if (count_stacks(rep, gone) || count_stacks(rep, "rel_exec_alloc")) {
		print_stacks(rep);
		fail_msg("allocations of the program before the exec were counted");
	}
	assert_int_equal(get_int(get(rep, "totals"), "allocs"), 100);
	hit = site(rep, fn_site);
	expect_stats(hit, fn_site, 100, 5600, 0, 0, 100, 5600, 0);
}

static void test_launch_target_exec_is_followed(void **state)
{
	launch(&ht, &wk, NULL, "exec");
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 10);
	expect_line(&wk.ch, "execed ", 10);
	/* the program exec'd into waits for end of file, then exits 5
	 * (heaptrace's child: the report has its status) */
	close_fd(&wk.in);
	ht_expect_exit(&ht, 0);
	expect_followed_report(&ht, "rel_after_exec_alloc", "other_after_exec_alloc", "rel_work");
	(void)state;
}

static void test_attach_target_exec_is_reported(void **state)
{
	work_start(&wk, "exec");
	attach(&ht, &wk, NULL);
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 10);
	expect_line(&wk.ch, "execed ", 10);
	ht_expect_exit(&ht, 0);
	expect_exec_report(&ht, true);
	assert_int_equal(work_end(&wk, 10), 5);
	(void)state;
}

/*
 * A non-PIE program exec'ing another non-PIE one: the new program's code
 * sits at the old one's addresses under other names.
 */
static void test_attach_exec_between_non_pie_programs_never_misnames(void **state)
{
	work_start_bin(&wk, nopie_bin, "exec", other_bin, SPAWN_OPTS());
	attach(&ht, &wk, NULL);
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 10);
	expect_line(&wk.ch, "execed ", 10);
	ht_expect_exit(&ht, 0);
	expect_exec_report(&ht, true);
	assert_int_equal(work_end(&wk, 10), 5);
	(void)state;
}

static void test_launch_exec_between_non_pie_programs_never_misnames(void **state)
{
	const char *const args[] = { "--", nopie_bin, "exec", other_bin, NULL };

	ht_start(&ht, args, &wk);
	wk.pid = atoi(expect_line(&wk.ch, "ready ", run_timeout) + 6);
	track(orphans, ARRAY_SIZE(orphans), wk.pid);
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 10);
	expect_line(&wk.ch, "execed ", 10);
	close_fd(&wk.in);
	ht_expect_exit(&ht, 0);
	/* the new program's code sits at the old one's addresses: its site
	 * must carry its own name, and no old name may appear */
	expect_followed_report(&ht, "other_after_exec_alloc", "rel_after_exec_alloc",
			       "rel_work_nopie");
	(void)state;
}

/* ------------------------------------------------------------------ */
/* 3. The target forks                                                 */
/* ------------------------------------------------------------------ */

/* What `rel_work fork` writes after "ready", and its exit code, untraced. */
static int untraced_fork(char *out, size_t len)
{
	const char *nl;
	int code;

	work_start(&ref, "fork");
	send_byte(ref.in, 'G');
	expect_line(&ref.ch, "done", 10);
	code = work_end(&ref, 10);
	chan_rest(&ref.ch, 10);
	nl = strchr(ref.ch.b.data, '\n');
	snprintf(out, len, "%s", nl ? nl + 1 : "");
	close_fd(&ref.ch.fd);
	return code;
}

/* After "ready": the child's line, the parent's, "done". */
static void expect_fork_outputs(struct work *w, const char *untraced)
{
	char traced[4096];
	const char *nl = strchr(w->ch.b.data, '\n');

	snprintf(traced, sizeof(traced), "%s", nl ? nl + 1 : "");
	if (strcmp(traced, untraced) != 0)
		fail_msg("traced, the workload wrote:\n%s\nuntraced:\n%s", traced, untraced);
	assert_non_null(strstr(traced, "parent child-exit 7\n"));
	assert_non_null(strstr(traced, "child 250 "));
}

static void expect_fork_report(json_object *r)
{
	expect_no_loss(r);
	expect_kept(r, "rel_parent_alloc", 150, 96);
	if (count_stacks(r, "rel_child_alloc")) {
		print_stacks(r);
		fail_msg("the forked child's allocations were counted");
	}
	assert_int_equal(get_int(get(r, "totals"), "allocs"), 150);
}

static void test_launch_fork_child_untraced_and_unharmed(void **state)
{
	char untraced[4096];
	json_object *r;

	assert_int_equal(untraced_fork(untraced, sizeof(untraced)), 0);

	launch(&ht, &wk, NULL, "fork");
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 10);
	close_fd(&wk.in);
	chan_rest(&wk.ch, 10);
	ht_expect_exit(&ht, 0);
	r = load_report(&ht, true);
	assert_int_equal(get_int(get(r, "target"), "exit_code"), 0);
	expect_fork_outputs(&wk, untraced);
	expect_fork_report(r);
	(void)state;
}

static void test_attach_fork_child_untraced_and_unharmed(void **state)
{
	char untraced[4096];

	assert_int_equal(untraced_fork(untraced, sizeof(untraced)), 0);

	work_start(&wk, "fork");
	attach(&ht, &wk, NULL);
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 10);
	assert_int_equal(work_end(&wk, 10), 0);
	chan_rest(&wk.ch, 10);
	ht_expect_exit(&ht, 0);
	expect_fork_outputs(&wk, untraced);
	expect_fork_report(load_report(&ht, true));
	(void)state;
}

/* ------------------------------------------------------------------ */
/* 4. 64 threads handing blocks to each other                          */
/* ------------------------------------------------------------------ */

/* 64 threads x 100 blocks of 32 + 8 * (thread % 16) bytes. */
#define THR_ALLOCS 6400
#define THR_BYTES (100LL * 4 * (16 * 32 + 8 * 120))

static void threads_with(const char *const opts[])
{
	json_object *r, *s;

	launch(&ht, &wk, opts, "threads");
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 30);
	close_fd(&wk.in);
	ht_expect_exit(&ht, 0);
	r = load_report(&ht, true);
	if (get_int(get(r, "totals"), "lost_events"))
		print_error("lost events: %s\n", json_object_to_json_string_ext(
				    get(r, "loss"), JSON_C_TO_STRING_PLAIN));
	/* One site; under pressure some of its stacks may lack the frames only
	 * the raw stack window gives, so its counts are summed over every
	 * stack that starts there. */
	s = site_sum(r, "rel_thr_alloc", "thr_main");
	/* freed by another thread: never temporary */
	expect_stats(s, "rel_thr_alloc", THR_ALLOCS, THR_BYTES, THR_ALLOCS, THR_BYTES, 0, 0, 0);
	json_object_put(s);
	expect_no_loss(r);
}

static void test_64_threads_cross_thread_frees_exact(void **state)
{
	threads_with(NULL);
	(void)state;
}

static void test_64_threads_cross_thread_frees_exact_fp(void **state)
{
	static const char *const opts[] = { "--unwind", "fp", NULL };

	threads_with(opts);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* 5. heaptrace SIGKILLed while attached                               */
/* ------------------------------------------------------------------ */

/* `rel_work steady` untraced: 3 phases, its output after "ready" and exit code. */
static int untraced_steady(char *out, size_t len)
{
	const char *nl;
	int code;

	work_start(&ref, "steady");
	for (int i = 0; i < 3; i++) {
		send_byte(ref.in, 'a');
		expect_line(&ref.ch, "phase ", 10);
	}
	code = work_end(&ref, 10);
	chan_rest(&ref.ch, 10);
	nl = strchr(ref.ch.b.data, '\n');
	snprintf(out, len, "%s", nl ? nl + 1 : "");
	close_fd(&ref.ch.fd);
	return code;
}

static void finish_steady(struct work *w, const char *untraced, int untraced_code)
{
	const char *nl;

	send_byte(w->in, 'a');
	expect_line(&w->ch, "phase 2", 10);
	send_byte(w->in, 'a');
	expect_line(&w->ch, "phase 3", 10);
	assert_int_equal(work_end(w, 10), untraced_code);
	chan_rest(&w->ch, 10);
	nl = strchr(w->ch.b.data, '\n');
	if (strcmp(nl ? nl + 1 : "", untraced) != 0)
		fail_msg("after heaptrace was killed, the target wrote:\n%s\nuntraced:\n%s",
			 nl ? nl + 1 : "", untraced);
}

static void test_heaptrace_sigkilled_while_attached_leaves_no_trace(void **state)
{
	char untraced[4096];
	int untraced_code = untraced_steady(untraced, sizeof(untraced));
	struct progs progs;

	assert_int_equal(untraced_code, 3);
	work_start(&wk, "steady");
	assert_int_equal(patched_bytes(wk.pid), 0);
	attach(&ht, &wk, NULL);
	attached_progs(ht.pid, &progs);
	/* the check can fail: probes are in the target's code now */
	if (patched_bytes(wk.pid) <= 0)
		fail_msg("no probe visible in the target's libc while attached");
	send_byte(wk.in, 'a');
	expect_line(&wk.ch, "phase 1", 10);

	assert_int_equal(kill(ht.pid, SIGKILL), 0);
	assert_int_equal(ht_wait(&ht, 10), 128 + SIGKILL);
	expect_no_leftovers(ht.pid, &progs);
	expect_unpatched(wk.pid);
	finish_steady(&wk, untraced, untraced_code);
	(void)state;
}

static void test_heaptrace_sigkilled_in_launch_mode_command_runs_on(void **state)
{
	char untraced[4096];
	int untraced_code = untraced_steady(untraced, sizeof(untraced));
	struct progs progs;

	launch(&ht, &wk, NULL, "steady");
	attached_progs(ht.pid, &progs);
	send_byte(wk.in, 'a');
	expect_line(&wk.ch, "phase 1", 10);
	assert_int_equal(kill(ht.pid, SIGKILL), 0);
	assert_int_equal(ht_wait(&ht, 10), 128 + SIGKILL);
	expect_no_leftovers(ht.pid, &progs);
	expect_unpatched(wk.pid);
	/* re-parented to us (a subreaper), out of heaptrace's ptrace hold */
	assert_int_equal(parent_of(wk.pid), getpid());
	finish_steady(&wk, untraced, untraced_code);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* 6. SIGINT / SIGTERM                                                 */
/* ------------------------------------------------------------------ */

/* Has process pid blocked signal sig (heaptrace reads them via signalfd)? */
static bool blocks(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &mask) == 1)
			break;
	fclose(f);
	return mask & (1ULL << (sig - 1));
}

static void test_sigint_before_attached_ends_cleanly(void **state)
{
	char pid_str[16];
	const char *args[] = { "-p", pid_str, NULL };
	double deadline;
	bool early = false;
	json_object *r;

	work_start(&wk, "hold");
	snprintf(pid_str, sizeof(pid_str), "%d", (int)wk.pid);
	/* Attaching takes ~1 s here; the signal lands in the middle of it. */
	for (int attempt = 0; attempt < 5 && !early; attempt++) {
		ht_start(&ht, args, NULL);
		deadline = now() + 10;
		while (!blocks(ht.pid, SIGINT) && now() < deadline)
			sleep_s(0.001);
		drain(ht.err_fd, &ht.err);
		early = !strstr(ht.err.data, "attached");
		assert_int_equal(kill(ht.pid, SIGINT), 0);
		ht_expect_exit(&ht, 0);
	}
	if (!early)
		fail_msg("could not signal heaptrace before it attached");
	r = load_report(&ht, false);
	expect_no_loss(r);
	assert_int_equal(get_int(get(r, "totals"), "allocs"), 0);
	expect_text(&ht.out, "heaptrace: PID", "the text report");
	expect_unpatched(wk.pid);
	/* the target is unharmed and untraced */
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "done", 10);
	assert_int_equal(work_end(&wk, 10), 0);
	(void)state;
}

/* The burst's site: at most what the workload did, consistent. */
static void expect_burst_report(json_object *r, uint64_t count)
{
	json_object *s = site(r, "rel_burst_alloc");
	int64_t allocs = get_int(s, "allocs");

	expect_no_loss(r);
	if (allocs <= 0 || (uint64_t)allocs > count)
		fail_msg("rel_burst_alloc: %lld allocations reported, the workload made %llu",
			 (long long)allocs, (unsigned long long)count);
	assert_int_equal(get_int(s, "alloc_bytes"), 32 * allocs);
	assert_true(get_int(s, "frees") >= allocs - 1);
	assert_true(get_int(s, "live_blocks") <= 1);
}

static uint64_t stop_burst(struct work *w)
{
	const char *l;

	send_byte(w->in, 'x');
	send_byte(w->in, 'x');
	l = expect_line(&w->ch, "burst ", 10);
	return strtoull(l + 6, NULL, 10);
}

static void test_sigterm_during_burst_attach(void **state)
{
	uint64_t count;

	work_start(&wk, "burst");
	attach(&ht, &wk, NULL);
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "bursting", 10);
	sleep_s(0.3);
	assert_int_equal(kill(ht.pid, SIGTERM), 0);
	ht_expect_exit(&ht, 0);
	expect_unpatched(wk.pid);
	count = stop_burst(&wk);
	expect_burst_report(load_report(&ht, false), count);
	expect_text(&ht.out, "heaptrace: PID", "the text report");
	assert_int_equal(work_end(&wk, 10), 0);
	(void)state;
}

static void test_sigterm_during_burst_launch_command_runs_on(void **state)
{
	uint64_t count;
	json_object *r;

	launch(&ht, &wk, NULL, "burst");
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "bursting", 10);
	sleep_s(0.3);
	assert_int_equal(kill(ht.pid, SIGTERM), 0);
	ht_expect_exit(&ht, 0);
	expect_unpatched(wk.pid);
	count = stop_burst(&wk);
	r = load_report(&ht, false);
	expect_burst_report(r, count);
	assert_false(has(get(r, "target"), "exit_code"));
	assert_int_equal(work_end(&wk, 10), 0);
	(void)state;
}

static void test_repeated_sigint_gives_one_complete_report(void **state)
{
	uint64_t count;
	const char *p;
	int reports = 0;

	work_start(&wk, "burst");
	attach(&ht, &wk, NULL);
	send_byte(wk.in, 'G');
	expect_line(&wk.ch, "bursting", 10);
	sleep_s(0.2);
	for (int i = 0; i < 20; i++) {
		kill(ht.pid, i % 2 ? SIGTERM : SIGINT);
		sleep_s(0.005);
	}
	ht_expect_exit(&ht, 0);
	expect_unpatched(wk.pid);
	count = stop_burst(&wk);
	expect_burst_report(load_report(&ht, false), count);
	for (p = ht.out.data; (p = strstr(p, "heaptrace: PID")); p++)
		reports++;
	assert_int_equal(reports, 1);
	assert_non_null(strstr(ht.out.data, "== Churn"));
	assert_int_equal(work_end(&wk, 10), 0);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* 7. Overload: a 4 KiB ring under a 4-thread storm                    */
/* ------------------------------------------------------------------ */

/* Known functions of rel_work; any other frame in it is a wrong stack. */
static const char *const storm_fns[] = { "rel_storm_churn", "rel_storm_keep", "storm_main" };

static void storm_with(const char *const opts[])
{
	json_object *r, *loss, *stacks;
	int64_t recorded = 0;

	launch(&ht, &wk, opts, "storm");
	expect_line(&wk.ch, "done", 60);
	ht_expect_exit(&ht, 0);
	r = load_report(&ht, true);
	loss = get(r, "loss");
	if (get_int(loss, "ringbuf_full_allocs") + get_int(loss, "ringbuf_full_frees") <= 0 ||
	    get_int(get(r, "totals"), "lost_events") <= 0 || !get_bool(loss, "lower_bounds"))
		fail_msg("a 4 KiB ring under a storm lost nothing? loss: %s",
			 json_object_to_json_string_ext(loss, JSON_C_TO_STRING_PLAIN));
	expect_text(&ht.out, "WARNING: ", "the text report");
	expect_text(&ht.out, "lower bounds", "the text report");
	{
		/* Each number says which way it can be off, and by how much. */
		int64_t lost = get_int(get(r, "totals"), "lost_events");
		int64_t either = lost - get_int(loss, "ringbuf_full_allocs") -
				 get_int(loss, "ringbuf_full_frees") -
				 get_int(loss, "ringbuf_full_execs");
		char line[160];

		assert_int_equal(get_int(loss, "allocs_missing_max"),
				 get_int(loss, "ringbuf_full_allocs") + either);
		assert_int_equal(get_int(loss, "frees_missing_max"),
				 get_int(loss, "ringbuf_full_frees") + either);
		snprintf(line, sizeof(line), "leaked blocks may be too high by up to %lld (lost "
			 "frees) or too low by up to %lld", (long long)get_int(loss, "frees_missing_max"),
			 (long long)get_int(loss, "allocs_missing_max"));
		expect_text(&ht.out, line, "the text report");
	}

	stacks = get(r, "stacks");
	for (size_t i = 0; i < json_object_array_length(stacks); i++) {
		json_object *s = json_object_array_get_idx(stacks, i), *frames = get(s, "frames");
		const char *fn0 = frame_fn(s, 0);
		int64_t allocs = get_int(s, "allocs");

		/* every frame in the workload is one of its known functions */
		for (size_t f = 0; f < json_object_array_length(frames); f++) {
			json_object *fr = json_object_array_get_idx(frames, f);
			const char *fn = get_str(fr, "function"), *mod = get_str(fr, "module");
			bool known = false;

			if (!mod || !strstr(mod, "rel_work"))
				continue;
			for (size_t k = 0; k < ARRAY_SIZE(storm_fns); k++)
				known |= fn && strcmp(fn, storm_fns[k]) == 0;
			known |= fn && (!strcmp(fn, "main") || !strcmp(fn, "run_storm") ||
					!strcmp(fn, "_start"));
			if (!known) {
				print_stacks(r);
				fail_msg("a stack has frame %s in the workload: not one of its sites", fn);
			}
		}
		if (fn0 && strcmp(fn0, "rel_storm_churn") == 0) {
			/* 4 x 4000 of 40 bytes, all freed */
			assert_string_equal(frame_fn(s, 1), "storm_main");
			assert_true(allocs <= 16000);
			assert_int_equal(get_int(s, "alloc_bytes"), 40 * allocs);
			assert_true(get_int(s, "frees") <= allocs);
			/* Every block is freed; one stays live only if its free was
			 * lost - and each lost free is counted. */
			assert_int_equal(get_int(s, "live_blocks"), allocs - get_int(s, "frees"));
			assert_true(get_int(s, "live_blocks") <=
				    get_int(get(r, "loss"), "ringbuf_full_frees"));
			recorded += allocs;
		} else if (fn0 && strcmp(fn0, "rel_storm_keep") == 0) {
			/* 4 x 250 of 48 bytes, never freed */
			assert_string_equal(frame_fn(s, 1), "storm_main");
			assert_true(allocs <= 1000);
			assert_int_equal(get_int(s, "alloc_bytes"), 48 * allocs);
			assert_int_equal(get_int(s, "frees"), 0);
			assert_true(get_int(s, "live_blocks") <= 1000);
			recorded += allocs;
		} else {
			/* glibc's own: thread start-up (no frame in the workload
			 * besides the known ones, checked above) */
			const char *mod = get_str(json_object_array_get_idx(frames, 0), "module");

			if (mod && strstr(mod, "rel_work")) {
				print_stacks(r);
				fail_msg("a stack starts in the workload at %s", fn0 ? fn0 : "?");
			}
		}
	}
	(void)recorded;
}

static void test_overload_small_ring_counts_loss_never_misattributes(void **state)
{
	static const char *const opts[] = { "--ring-size", "4096", NULL };

	storm_with(opts);
	(void)state;
}

static void test_overload_small_ring_fp_records_only_true_sites(void **state)
{
	static const char *const opts[] = { "--ring-size", "4096", "--unwind", "fp", NULL };

	storm_with(opts);
	/* small records: some get through, and they were checked */
	assert_true(get_int(site(report, "rel_storm_churn"), "allocs") > 0);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* 8. Privileges                                                       */
/* ------------------------------------------------------------------ */

/*
 * Run `setpriv --reuid=65534 --regid=65534 --clear-groups [CAPS] heaptrace
 * ARGS`: exit code, stderr in ht.err.
 */
static int run_unprivileged(const char *caps, const char *const args[])
{
	char inh[128], amb[128];
	char *argv[24];
	size_t n = 0;
	int err[2], out_fd;

	run_seq++;
	tmp_path(ht.out_path, sizeof(ht.out_path), "heaptrace.stdout");
	argv[n++] = "/usr/bin/setpriv";
	argv[n++] = "--reuid=65534";
	argv[n++] = "--regid=65534";
	argv[n++] = "--clear-groups";
	if (caps) {
		snprintf(inh, sizeof(inh), "--inh-caps=%s", caps);
		snprintf(amb, sizeof(amb), "--ambient-caps=%s", caps);
		argv[n++] = inh;
		argv[n++] = amb;
	}
	argv[n++] = (char *)heaptrace_bin;
	for (; *args; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	pipe_nb(err);
	out_fd = open(ht.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ht.err.len = 0;
	ht.err.data[0] = '\0';
	ht.pid = spawn_with(argv, &(struct spawn_opts){ .fd = { -1, out_fd, err[1], -1 } });
	close(out_fd);
	close(err[1]);
	ht.err_fd = err[0];
	return ht_wait(&ht, run_timeout);
}

static void expect_one_line(const struct buf *b)
{
	if (b->len < 2 || strchr(b->data, '\n') != b->data + b->len - 1)
		fail_msg("expected exactly one line on stderr, got:\n%s", b->data);
}

static void expect_denied(const char *caps, const char *missing, const char *present)
{
	char pid_str[16];
	const char *args[] = { "-p", pid_str, NULL };
	int code;

	work_start(&wk, "hold");
	snprintf(pid_str, sizeof(pid_str), "%d", (int)wk.pid);
	code = run_unprivileged(caps, args);
	if (code != 2)
		fail_msg("unprivileged heaptrace exited %d, expected 2; stderr:\n%s", code,
			 ht.err.data);
	expect_one_line(&ht.err);
	expect_text(&ht.err, missing, "the error");
	if (present && strstr(ht.err.data, present))
		fail_msg("the error names %s as missing, which was given:\n%s", present,
			 ht.err.data);
	assert_int_equal(patched_bytes(wk.pid), 0);
}

static void test_unprivileged_exits_2_naming_both_capabilities(void **state)
{
	expect_denied(NULL, "CAP_BPF", NULL);
	expect_text(&ht.err, "CAP_PERFMON", "the error");
	(void)state;
}

static void test_unprivileged_with_cap_bpf_names_cap_perfmon(void **state)
{
	expect_denied("+bpf", "missing: CAP_PERFMON)", "missing: CAP_BPF");
	(void)state;
}

static void test_unprivileged_with_cap_perfmon_names_cap_bpf(void **state)
{
	expect_denied("+perfmon", "missing: CAP_BPF)", NULL);
	(void)state;
}

static void test_unprivileged_launch_never_runs_command(void **state)
{
	char marker[PATH_MAX];
	const char *args[] = { "--", "/usr/bin/touch", marker, NULL };
	struct stat st;
	int code;

	snprintf(marker, sizeof(marker), "/tmp/heaptrace-rel-marker-%d", (int)getpid());
	unlink(marker);
	code = run_unprivileged(NULL, args);
	assert_int_equal(code, 2);
	expect_one_line(&ht.err);
	if (stat(marker, &st) == 0) {
		unlink(marker);
		fail_msg("the command ran although heaptrace could not trace it");
	}
	(void)state;
}

static void drop_to_nobody(void *ctx)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		_exit(126);
	(void)ctx;
}

/*
 * CAP_BPF and CAP_PERFMON, tracing a process of the same user: either it
 * works, or the one-line error names what is still missing (kernels
 * where uprobes through perf need CAP_SYS_ADMIN).
 */
static void test_bpf_and_perfmon_only_works_or_names_what_is_missing(void **state)
{
	char pid_str[16];
	const char *args[] = { "-d", "1", "-p", pid_str, NULL };
	int code;

	work_start_bin(&wk, work_bin, "hold", NULL, SPAWN_OPTS(.pre_exec = drop_to_nobody));
	snprintf(pid_str, sizeof(pid_str), "%d", (int)wk.pid);
	code = run_unprivileged("+bpf,+perfmon", args);
	if (code == 0) {
		expect_text(&ht.out, "heaptrace: PID", "the report");
		return;
	}
	if (code != 2)
		fail_msg("heaptrace with CAP_BPF+CAP_PERFMON exited %d; stderr:\n%s", code,
			 ht.err.data);
	expect_one_line(&ht.err);
	expect_text(&ht.err, "CAP_SYS_ADMIN", "the error");
	assert_int_equal(patched_bytes(wk.pid), 0);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* 9. Launch mode under sudo                                           */
/* ------------------------------------------------------------------ */

static const char *const sudo_env[] = { "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody",
					NULL };

static void run_sudo(const char *const args[])
{
	ht_start_opts(&ht, args, NULL, SPAWN_OPTS(.env = sudo_env));
	ht_expect_exit(&ht, 0);
}

static void test_sudo_launch_runs_command_as_invoking_user(void **state)
{
	static const char *const args[] = { "--", "/usr/bin/id", "-u", NULL };

	run_sudo(args);
	if (strncmp(ht.out.data, "65534\n", 6) != 0)
		fail_msg("under sudo, `id -u` printed:\n%.200s", ht.out.data);
	(void)state;
}

static void test_sudo_run_as_root_keeps_root(void **state)
{
	static const char *const args[] = { "--run-as-root", "--", "/usr/bin/id", "-u", NULL };

	run_sudo(args);
	if (strncmp(ht.out.data, "0\n", 2) != 0)
		fail_msg("with --run-as-root, `id -u` printed:\n%.200s", ht.out.data);
	(void)state;
}

/* The command gets the user's uid, gid and groups - none of root's - and
 * no descriptor of heaptrace's (BPF maps, ring buffer, pidfd...). */
static void test_launched_command_gets_user_ids_and_no_heaptrace_fds(void **state)
{
	const char *const args[] = { "--", work_bin, "fds", NULL };

	ht_start_opts(&ht, args, &wk, SPAWN_OPTS(.env = sudo_env));
	close_fd(&wk.in);
	ht_expect_exit(&ht, 0);
	chan_rest(&wk.ch, 10);
	assert_non_null(chan_line(&wk.ch, "fds", 1));
	if (strcmp(wk.ch.line, "fds") != 0)
		fail_msg("the launched command inherited descriptors from heaptrace: %s",
			 wk.ch.line);
	assert_non_null(chan_line(&wk.ch, "ids ", 1));
	assert_string_equal(wk.ch.line, "ids 65534 65534 65534");

	/* as root too (no sudo): still no descriptor of heaptrace's */
	ht_start(&ht2, args, &ref);
	close_fd(&ref.in);
	ht_expect_exit(&ht2, 0);
	chan_rest(&ref.ch, 10);
	assert_non_null(chan_line(&ref.ch, "fds", 1));
	assert_string_equal(ref.ch.line, "fds");
	close_fd(&ref.ch.fd);
	(void)state;
}

static void expect_owner(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(path, &st))
		fail_msg("%s was not written: %s", path, strerror(errno));
	if (st.st_uid != uid || st.st_gid != gid)
		fail_msg("%s belongs to %u:%u, expected %u:%u", path, st.st_uid, st.st_gid, uid,
			 gid);
}

static void test_sudo_json_report_belongs_to_invoking_user(void **state)
{
	static const char *const args[] = { "--", "/usr/bin/true", NULL };

	run_sudo(args);
	expect_owner(ht.json_path, 65534, 65534);
	(void)state;
}

static void test_sudo_every_file_and_directory_belongs_to_invoking_user(void **state)
{
	char dir[PATH_MAX], rec[PATH_MAX], path[PATH_MAX + 512];
	const char *const args[] = { "-f", "json", "-o", dir, "--record", rec, "--",
				     "/usr/bin/true", NULL };
	DIR *d;
	struct dirent *e;
	int files = 0;

	snprintf(dir, sizeof(dir), "%s/sudo-out-%d/new", tmpdir, run_seq + 1);
	snprintf(rec, sizeof(rec), "%s/sudo-%d.rec", tmpdir, run_seq + 1);
	run_sudo(args);
	expect_owner(ht.json_path, 65534, 65534);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		expect_owner(path, 65534, 65534);
		files++;
	}
	closedir(d);
	assert_int_equal(files, 1);
	expect_owner(rec, 65534, 65534);
	expect_owner(dir, 65534, 65534);
	*strrchr(dir, '/') = '\0';
	expect_owner(dir, 65534, 65534);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* 10. A container's file tree pointing outside it                     */
/* ------------------------------------------------------------------ */

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	assert_true(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static void mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

/* A minimal root with copies (own inodes) of the workload and its libs. */
static void make_root(const char *root)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/lib/x86_64-linux-gnu", root);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/lib64", root);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/lib/x86_64-linux-gnu/libc.so.6", root);
	copy_file("/lib/x86_64-linux-gnu/libc.so.6", p);
	snprintf(p, sizeof(p), "%s/lib64/ld-linux-x86-64.so.2", root);
	copy_file("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", p);
	snprintf(p, sizeof(p), "%s/rel_work", root);
	copy_file(work_bin, p);
}

static void enter_root(void *ctx)
{
	if (chroot((const char *)ctx) || chdir("/"))
		_exit(126);
}

struct mask_ctx {
	char map_files[64];
	char empty[PATH_MAX];
};

/* heaptrace in its own mount namespace where the target's map_files is
 * hidden: it must find the target's files by path. */
static void hide_map_files(void *ctx)
{
	struct mask_ctx *m = ctx;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount(m->empty, m->map_files, NULL, MS_BIND, NULL))
		_exit(125);
}

static void test_container_symlinks_never_lead_outside(void **state)
{
	char root[PATH_MAX], decoy[PATH_MAX], p[2 * PATH_MAX], link[2 * PATH_MAX], pid_str[16];
	const char *const args[] = { "-p", pid_str, NULL };
	char *watched[] = { "rel_work", "lib/x86_64-linux-gnu/libc.so.6",
			    "lib64/ld-linux-x86-64.so.2" };
	static struct mask_ctx mask;
	char ev[4096];
	json_object *r;
	bool attached;
	int in, code;
	ssize_t n;

	/*
	 * The target runs chroot'ed in ROOT. /proc/PID/maps shows its files
	 * by our paths (ROOT/lib/...), which inside its root name
	 * ROOT/ROOT/lib/...: there it has planted a symlink to DECOY, an
	 * absolute path outside its root holding copies of its files.
	 */
	snprintf(root, sizeof(root), "%s/root", tmpdir);
	snprintf(decoy, sizeof(decoy), "%s/decoy", tmpdir);
	make_root(root);
	make_root(decoy);
	snprintf(p, sizeof(p), "%s%s", root, tmpdir);
	mkdirs(p);
	snprintf(link, sizeof(link), "%s%s/root", root, tmpdir);
	assert_int_equal(symlink(decoy, link), 0);

	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	for (size_t i = 0; i < ARRAY_SIZE(watched); i++) {
		snprintf(p, sizeof(p), "%s/%s", decoy, watched[i]);
		assert_true(inotify_add_watch(in, p, IN_OPEN | IN_ACCESS) >= 0);
	}
	work_start_bin(&wk, "/rel_work", "hold", NULL, SPAWN_OPTS(.pre_exec = enter_root,
								  .ctx = root));
	snprintf(pid_str, sizeof(pid_str), "%d", (int)wk.pid);
	snprintf(mask.map_files, sizeof(mask.map_files), "/proc/%d/map_files", (int)wk.pid);
	snprintf(mask.empty, sizeof(mask.empty), "%s/empty", tmpdir);
	mkdirs(mask.empty);

	ht_start_opts(&ht, args, NULL, SPAWN_OPTS(.pre_exec = hide_map_files, .ctx = &mask));
	attached = wait_for_text(ht.err_fd, &ht.err, "attached", run_timeout);
	if (attached) {
		send_byte(wk.in, 'G');
		expect_line(&wk.ch, "done", 10);
		assert_int_equal(work_end(&wk, 10), 0);
	}
	code = ht_wait(&ht, run_timeout);

	n = read(in, ev, sizeof(ev));
	close(in);
	if (n > 0)
		fail_msg("heaptrace opened files outside the target's root through its symlink "
			 "(%zd bytes of inotify events on %s); stderr:\n%s", n, decoy, ht.err.data);
	if (!attached || code != 0)
		fail_msg("heaptrace could not trace the chroot'ed target (exit %d); stderr:\n%s",
			 code, ht.err.data);
	/* and it traced the target's own libc: the exact numbers */
	r = load_report(&ht, true);
	expect_no_loss(r);
	expect_kept(r, "rel_hold_alloc", 300, 128);
	(void)state;
}

/* ------------------------------------------------------------------ */
/* Fixtures and main                                                   */
/* ------------------------------------------------------------------ */

static void reset_work(struct work *w)
{
	close_fd(&w->in);
	close_fd(&w->ch.fd);
	w->pid = 0;
}

static double test_start;

static int setup_test(void **state)
{
	test_start = now();
	(void)state;
	return 0;
}

static int teardown_test(void **state)
{
	if (getenv("HEAPTRACE_TEST_TIMES"))
		fprintf(stderr, "  (%.2f s)\n", now() - test_start);
	kill_all();
	close_fd(&ht.err_fd);
	close_fd(&ht2.err_fd);
	reset_work(&wk);
	reset_work(&ref);
	(void)state;
	return 0;
}

static int setup_group(void **state)
{
	const char *const *bins[] = { &heaptrace_bin, &work_bin, &nopie_bin, &other_bin };
	static char abs[4][PATH_MAX];
	struct stat st;

	heaptrace_bin = env_or("HEAPTRACE", "./heaptrace");
	work_bin = env_or("HEAPTRACE_REL_WORK", ".output/tests/rel_work");
	nopie_bin = env_or("HEAPTRACE_REL_NOPIE", ".output/tests/rel_work_nopie");
	other_bin = env_or("HEAPTRACE_REL_OTHER", ".output/tests/rel_other_nopie");
	run_timeout = test_timeout(60);
	for (size_t i = 0; i < ARRAY_SIZE(bins); i++) {
		if (stat(*bins[i], &st) != 0 || !realpath(*bins[i], abs[i])) {
			fprintf(stderr, "reliability: need %s (see the usage at the top of "
				"tests/reliability_it.c)\n", *bins[i]);
			return -1;
		}
		*(const char **)bins[i] = abs[i];
	}
	if (geteuid() != 0) {
		fprintf(stderr, "reliability: must run as root\n");
		return -1;
	}
	if (make_tmpdir(tmpdir))
		return -1;
	/* nobody must reach the binaries, and write nothing here */
	chmod(tmpdir, 0711);
	/* descendants whose parent dies (heaptrace) become ours to reap */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	(void)state;
	return 0;
}

static int teardown_group(void **state)
{
	if (report)
		json_object_put(report);
	finish_tmpdir("reliability", "outputs", tmpdir);
	(void)state;
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_test, teardown_test)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_launch_target_sigkilled_reports_what_it_saw),
		T(test_attach_target_sigkilled_reports_what_it_saw),
		T(test_launch_target_exec_is_followed),
		T(test_attach_target_exec_is_reported),
		T(test_attach_exec_between_non_pie_programs_never_misnames),
		T(test_launch_exec_between_non_pie_programs_never_misnames),
		T(test_launch_fork_child_untraced_and_unharmed),
		T(test_attach_fork_child_untraced_and_unharmed),
		T(test_64_threads_cross_thread_frees_exact),
		T(test_64_threads_cross_thread_frees_exact_fp),
		T(test_heaptrace_sigkilled_while_attached_leaves_no_trace),
		T(test_heaptrace_sigkilled_in_launch_mode_command_runs_on),
		T(test_sigint_before_attached_ends_cleanly),
		T(test_sigterm_during_burst_attach),
		T(test_sigterm_during_burst_launch_command_runs_on),
		T(test_repeated_sigint_gives_one_complete_report),
		T(test_overload_small_ring_counts_loss_never_misattributes),
		T(test_overload_small_ring_fp_records_only_true_sites),
		T(test_unprivileged_exits_2_naming_both_capabilities),
		T(test_unprivileged_with_cap_bpf_names_cap_perfmon),
		T(test_unprivileged_with_cap_perfmon_names_cap_bpf),
		T(test_unprivileged_launch_never_runs_command),
		T(test_bpf_and_perfmon_only_works_or_names_what_is_missing),
		T(test_sudo_launch_runs_command_as_invoking_user),
		T(test_sudo_run_as_root_keeps_root),
		T(test_launched_command_gets_user_ids_and_no_heaptrace_fds),
		T(test_sudo_json_report_belongs_to_invoking_user),
		T(test_sudo_every_file_and_directory_belongs_to_invoking_user),
		T(test_container_symlinks_never_lead_outside),
	};

	return test_main(argc, argv, "reliability", tests, ARRAY_SIZE(tests), setup_group,
			 teardown_group);
}
