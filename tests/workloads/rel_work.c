// SPDX-License-Identifier: MIT
/*
 * rel_work: workloads for the reliability suite (tests/reliability_it.c).
 * Run as `rel_work MODE`; each allocation site is a named noinline
 * function with one allocator call, so the suite can compare heaptrace's
 * report with the exact numbers documented here.
 *
 * Protocol (modes that talk): the workload writes lines to fd 3 when it
 * is open ("ready PID", "done", results...) and reads single bytes from
 * stdin to go on; end of file on stdin ends a wait. Nothing is printed
 * through stdio: messages are formatted by hand and written with write(2),
 * so the workload makes no allocator calls besides its sites (and glibc's
 * own thread bookkeeping in the threaded modes).
 *
 * Modes:
 *  hold        ready; wait; 300 x rel_hold_alloc(128) kept; "done"; wait
 *              for end of file; exit 0.
 *  exec [PROG] ready; wait; 200 x rel_exec_alloc(64) kept; "done"; then
 *              exec PROG (default: itself) as `PROG after-exec`.
 *  after-exec  100 x rel_after_exec_alloc(56) kept; "execed PID"; wait for
 *              end of file; exit 5.
 *  fork        ready; wait; 150 x rel_parent_alloc(96) kept; fork: the
 *              child makes 250 x rel_child_alloc(80) kept, fills them,
 *              writes "child 250 SUM" and exits 7; the parent waits for
 *              it, writes "parent child-exit 7" and "done", waits for end
 *              of file, exits 0.
 *  threads     ready; wait; 64 threads, each making 100 x rel_thr_alloc
 *              (size 32 + 8 * (thread % 16)) and handing every block to
 *              the next thread, which frees it in rel_thr_free while it
 *              allocates its own; "done"; wait for end of file; exit 0.
 *  steady      ready; then per byte 'a' on stdin one phase of 1000
 *              rel_steady_alloc calls (every 10th block kept in a ring of
 *              64, the others freed), "phase N SUM"; at end of file
 *              "end TOTAL", exit 3. The output does not depend on
 *              addresses: a traced and an untraced run print the same.
 *  burst       ready; wait; "bursting"; rel_burst_alloc(32) + free in a
 *              loop until a byte (or end of file) arrives on stdin;
 *              "burst COUNT"; wait for end of file; exit 0.
 *  storm       ready; 4 threads x 4000 rounds, concurrently: rel_storm_churn(40)
 *              freed at once by rel_storm_free; every 16th round also
 *              rel_storm_keep(48), kept (1000 in all). "done"; exit 0.
 *  fds         writes "fds N N ..." (descriptors open besides 0-3) and
 *              "ids UID GID GROUPS..."; exit 0.
 *  soak        churn and slow growth until end of file on stdin: every
 *              millisecond 20 x rel_soak_churn (16-528 bytes) replacing
 *              blocks of a 256-slot ring, and every 100 ms 10 x
 *              rel_soak_grow(64) kept; exit 0.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

void *rel_hold_alloc(size_t size);
void *rel_exec_alloc(size_t size);
void *rel_after_exec_alloc(size_t size);
void *rel_parent_alloc(size_t size);
void *rel_child_alloc(size_t size);
void *rel_thr_alloc(size_t size);
void rel_thr_free(void *p);
void *rel_steady_alloc(size_t size);
void rel_steady_free(void *p);
void *rel_burst_alloc(size_t size);
void rel_burst_free(void *p);
void *rel_storm_churn(size_t size);
void *rel_storm_keep(size_t size);
void rel_storm_free(void *p);
void *rel_soak_churn(size_t size);
void *rel_soak_grow(size_t size);
void rel_soak_free(void *p);

NOINLINE void *rel_hold_alloc(size_t size) { return malloc(size); }
NOINLINE void *rel_exec_alloc(size_t size) { return malloc(size); }
NOINLINE void *rel_after_exec_alloc(size_t size) { return malloc(size); }
NOINLINE void *rel_parent_alloc(size_t size) { return malloc(size); }
NOINLINE void *rel_child_alloc(size_t size) { return malloc(size); }
NOINLINE void *rel_thr_alloc(size_t size) { return malloc(size); }
NOINLINE void rel_thr_free(void *p) { free(p); }
NOINLINE void *rel_steady_alloc(size_t size) { return malloc(size); }
NOINLINE void rel_steady_free(void *p) { free(p); }
NOINLINE void *rel_burst_alloc(size_t size) { return malloc(size); }
NOINLINE void rel_burst_free(void *p) { free(p); }
NOINLINE void *rel_storm_churn(size_t size) { return malloc(size); }
NOINLINE void *rel_storm_keep(size_t size) { return malloc(size); }
NOINLINE void rel_storm_free(void *p) { free(p); }
NOINLINE void *rel_soak_churn(size_t size) { return malloc(size); }
NOINLINE void *rel_soak_grow(size_t size) { return malloc(size); }
NOINLINE void rel_soak_free(void *p) { free(p); }

static const char *self_path;
static const char *exec_path;

/* ---- messages without stdio ---- */

struct line {
	char buf[512];
	size_t len;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 2)
		l->buf[l->len++] = *s++;
}

static void put_u64(struct line *l, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n > 0 && l->len < sizeof(l->buf) - 2)
		l->buf[l->len++] = tmp[--n];
}

/* Send the line to fd 3 (if it is open) with its newline. */
static void send_line(struct line *l)
{
	l->buf[l->len++] = '\n';
	write_all(3, l->buf, l->len);
	l->len = 0;
}

static void send_msg(const char *word, int nvals, const uint64_t *vals)
{
	struct line l = { .len = 0 };

	put_str(&l, word);
	for (int i = 0; i < nvals; i++) {
		put_str(&l, " ");
		put_u64(&l, vals[i]);
	}
	send_line(&l);
}

static void *check(void *p, const char *what)
{
	if (!p)
		die(what);
	return p;
}

/* One byte from stdin: the byte, or -1 at end of file. */
static int wait_byte(void)
{
	unsigned char c;

	for (;;) {
		ssize_t n = read(0, &c, 1);

		if (n == 1)
			return c;
		if (n == 0 || errno != EINTR)
			return -1;
	}
}

static void wait_eof(void)
{
	while (wait_byte() >= 0)
		;
}

static void say_ready(void)
{
	uint64_t pid = (uint64_t)getpid();

	send_msg("ready", 1, &pid);
}

/* A checksum of a block's contents (fills it first). */
static uint64_t fill_sum(unsigned char *p, size_t size, uint64_t seed)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < size; i++) {
		p[i] = (unsigned char)(seed * 31 + i * 7);
		sum = sum * 1099511628211ULL + p[i];
	}
	return sum;
}

/* ---- hold ---- */

static void *held[1000];

static int run_hold(void)
{
	say_ready();
	wait_byte();
	for (int i = 0; i < 300; i++)
		held[i] = check(rel_hold_alloc(128), "rel_hold_alloc");
	send_msg("done", 0, NULL);
	wait_eof();
	return 0;
}

/* ---- exec ---- */

static int run_exec(void)
{
	char *argv[] = { (char *)exec_path, "after-exec", NULL };

	say_ready();
	wait_byte();
	for (int i = 0; i < 200; i++)
		held[i] = check(rel_exec_alloc(64), "rel_exec_alloc");
	send_msg("done", 0, NULL);
	execv(exec_path, argv);
	die("execv failed");
	return 1;
}

static int run_after_exec(void)
{
	uint64_t pid = (uint64_t)getpid();

	for (int i = 0; i < 100; i++)
		held[i] = check(rel_after_exec_alloc(56), "rel_after_exec_alloc");
	send_msg("execed", 1, &pid);
	wait_eof();
	return 5;
}

/* ---- fork ---- */

static int run_fork(void)
{
	uint64_t vals[2];
	int status;
	pid_t pid;

	say_ready();
	wait_byte();
	for (int i = 0; i < 150; i++)
		held[i] = check(rel_parent_alloc(96), "rel_parent_alloc");
	pid = fork();
	if (pid < 0)
		die("fork failed");
	if (pid == 0) {
		uint64_t sum = 0;

		for (int i = 0; i < 250; i++) {
			unsigned char *p = check(rel_child_alloc(80), "rel_child_alloc");

			held[i] = p;
			sum ^= fill_sum(p, 80, (uint64_t)i);
		}
		vals[0] = 250;
		vals[1] = sum;
		send_msg("child", 2, vals);
		_exit(7);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid failed");
	vals[0] = WIFEXITED(status) ? (uint64_t)WEXITSTATUS(status) : 1000 + (uint64_t)WTERMSIG(status);
	send_msg("parent child-exit", 1, vals);
	send_msg("done", 0, NULL);
	wait_eof();
	return 0;
}

/* ---- threads: a ring of 64 threads handing blocks on ---- */

#define NTHREADS 64
#define PER_THREAD 100

struct handoff {
	pthread_mutex_t lock;
	void *slot[PER_THREAD];
	int head, tail;   /* pushed, popped */
};

static struct handoff queues[NTHREADS];
static pthread_barrier_t thr_start;

static void push(struct handoff *q, void *p)
{
	pthread_mutex_lock(&q->lock);
	q->slot[q->head++] = p;
	pthread_mutex_unlock(&q->lock);
}

static void *pop(struct handoff *q)
{
	void *p = NULL;

	pthread_mutex_lock(&q->lock);
	if (q->tail < q->head)
		p = q->slot[q->tail++];
	pthread_mutex_unlock(&q->lock);
	return p;
}

static void *thr_main(void *arg)
{
	int me = (int)(intptr_t)arg, freed = 0;
	size_t size = 32 + 8 * (size_t)(me % 16);
	struct handoff *next = &queues[(me + 1) % NTHREADS], *mine = &queues[me];

	pthread_barrier_wait(&thr_start);
	for (int i = 0; i < PER_THREAD; i++) {
		void *p;

		push(next, check(rel_thr_alloc(size), "rel_thr_alloc"));
		while ((p = pop(mine))) {
			rel_thr_free(p);
			freed++;
		}
	}
	while (freed < PER_THREAD) {
		void *p = pop(mine);

		if (p) {
			rel_thr_free(p);
			freed++;
		} else {
			sched_yield();
		}
	}
	return NULL;
}

static int run_threads(void)
{
	pthread_t t[NTHREADS];

	say_ready();
	wait_byte();
	if (pthread_barrier_init(&thr_start, NULL, NTHREADS))
		die("pthread_barrier_init failed");
	for (int i = 0; i < NTHREADS; i++) {
		pthread_mutex_init(&queues[i].lock, NULL);
		if (pthread_create(&t[i], NULL, thr_main, (void *)(intptr_t)i))
			die("pthread_create failed");
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	send_msg("done", 0, NULL);
	wait_eof();
	return 0;
}

/* ---- steady ---- */

static int run_steady(void)
{
	static void *ring[64];
	uint64_t total = 0, phase = 0;
	int kept = 0;

	say_ready();
	while (wait_byte() >= 0) {
		uint64_t sum = 0, vals[2];

		phase++;
		for (int i = 0; i < 1000; i++) {
			size_t size = 16 + (size_t)(i % 200);
			unsigned char *p = check(rel_steady_alloc(size), "rel_steady_alloc");

			sum += fill_sum(p, size, phase * 1000 + (uint64_t)i);
			if (i % 10 == 0) {
				if (ring[kept % 64])
					rel_steady_free(ring[kept % 64]);
				ring[kept++ % 64] = p;
			} else {
				rel_steady_free(p);
			}
		}
		total += sum;
		vals[0] = phase;
		vals[1] = sum;
		send_msg("phase", 2, vals);
	}
	send_msg("end", 1, &total);
	return 3;
}

/* ---- burst ---- */

static int run_burst(void)
{
	uint64_t count = 0;

	say_ready();
	wait_byte();
	send_msg("bursting", 0, NULL);
	for (;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };

		for (int i = 0; i < 256; i++) {
			rel_burst_free(check(rel_burst_alloc(32), "rel_burst_alloc"));
			count++;
		}
		if (poll(&p, 1, 0) > 0)
			break;
	}
	wait_byte();
	send_msg("burst", 1, &count);
	wait_eof();
	return 0;
}

/* ---- storm ---- */

#define STORM_THREADS 4
#define STORM_ROUNDS 4000

static void *storm_kept[STORM_THREADS][STORM_ROUNDS / 16];
static pthread_barrier_t storm_start;

static void *storm_main(void *arg)
{
	int me = (int)(intptr_t)arg;

	pthread_barrier_wait(&storm_start);
	for (int i = 0; i < STORM_ROUNDS; i++) {
		rel_storm_free(check(rel_storm_churn(40), "rel_storm_churn"));
		if (i % 16 == 0)
			storm_kept[me][i / 16] = check(rel_storm_keep(48), "rel_storm_keep");
	}
	return NULL;
}

static int run_storm(void)
{
	pthread_t t[STORM_THREADS];

	say_ready();
	if (pthread_barrier_init(&storm_start, NULL, STORM_THREADS))
		die("pthread_barrier_init failed");
	for (int i = 0; i < STORM_THREADS; i++)
		if (pthread_create(&t[i], NULL, storm_main, (void *)(intptr_t)i))
			die("pthread_create failed");
	for (int i = 0; i < STORM_THREADS; i++)
		pthread_join(t[i], NULL);
	send_msg("done", 0, NULL);
	return 0;
}

/* ---- fds: what a launched command inherits ---- */

static int run_fds(void)
{
	struct line l = { .len = 0 };
	gid_t groups[64];
	int fd, n;
	DIR *d;
	struct dirent *e;

	/* opendir allocates: this mode is not traced for numbers. */
	put_str(&l, "fds");
	fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	while (d && (e = readdir(d))) {
		long v;
		char *end;

		if (e->d_name[0] == '.')
			continue;
		v = strtol(e->d_name, &end, 10);
		if (*end || v <= 3 || v == fd)
			continue;
		put_str(&l, " ");
		put_u64(&l, (uint64_t)v);
	}
	if (d)
		closedir(d);
	send_line(&l);
	put_str(&l, "ids ");
	put_u64(&l, (uint64_t)getuid());
	put_str(&l, " ");
	put_u64(&l, (uint64_t)getgid());
	n = getgroups(64, groups);
	for (int i = 0; i < n; i++) {
		put_str(&l, " ");
		put_u64(&l, (uint64_t)groups[i]);
	}
	send_line(&l);
	return 0;
}

/* ---- soak ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Pointer arrays of the soak mode live outside the heap. */
static void **mmap_array(size_t n)
{
	void *p = mmap(NULL, n * sizeof(void *), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap failed");
	return p;
}

static int run_soak(void)
{
	static void *ring[256];
	uint64_t x = 88172645463325252ULL, tick = 0, grown = 0;
	void **grow = NULL;
	size_t grow_cap = 0;

	say_ready();
	for (;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };

		for (int i = 0; i < 20; i++) {
			size_t slot, size;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			slot = (size_t)(x % 256);
			size = 16 + (size_t)((x >> 16) % 513);
			if (ring[slot])
				rel_soak_free(ring[slot]);
			ring[slot] = check(rel_soak_churn(size), "rel_soak_churn");
		}
		if (++tick % 100 == 0) {
			for (int i = 0; i < 10; i++) {
				if (grown == grow_cap) {
					/* the pointer array itself comes from mmap */
					size_t cap = grow_cap ? grow_cap * 2 : 4096;
					void **n = mmap_array(cap);

					if (grow) {
						memcpy(n, grow, grown * sizeof(*grow));
						munmap(grow, grow_cap * sizeof(*grow));
					}
					grow = n;
					grow_cap = cap;
				}
				grow[grown++] = check(rel_soak_grow(64), "rel_soak_grow");
			}
		}
		if (poll(&p, 1, 0) > 0 && wait_byte() < 0)
			break;
		sleep_ms(1);
	}
	return 0;
}

static const struct {
	const char *name;
	int (*run)(void);
} modes[] = {
	{ "hold", run_hold },
	{ "exec", run_exec },
	{ "after-exec", run_after_exec },
	{ "fork", run_fork },
	{ "threads", run_threads },
	{ "steady", run_steady },
	{ "burst", run_burst },
	{ "storm", run_storm },
	{ "fds", run_fds },
	{ "soak", run_soak },
};

int main(int argc, char **argv)
{
	self_path = "/proc/self/exe";
	exec_path = argc == 3 && !strcmp(argv[1], "exec") ? argv[2] : self_path;
	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 || exec_path != self_path) {
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (strcmp(argv[1], modes[i].name) == 0)
				return modes[i].run();
	}
	write_all(2, "usage: rel_work MODE\n", 21);
	return 2;
}
