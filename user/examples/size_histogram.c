// SPDX-License-Identifier: MIT
/*
 * size_histogram: a per-thread histogram of allocation sizes, built on
 * libheaptrace's observer callback.
 *
 *   sudo size_histogram -p PID          (Ctrl-C to print)
 *   sudo size_histogram -- COMMAND ...
 *
 * Threads are numbered in the order they first allocate; buckets are
 * powers of two: "64-127" holds sizes 64 to 127.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <heaptrace.h>

#define BUCKETS 64
#define MAX_THREADS 1024

struct histo {
	uint32_t tids[MAX_THREADS];
	uint64_t counts[MAX_THREADS][BUCKETS];
	int nthreads;
};

static int bucket(uint64_t size)
{
	int b = 0;

	while (size >>= 1)
		b++;
	return b;
}

/* Runs in this process for every event of the target: it may allocate,
 * print or lock freely - nothing here runs inside the target. */
static int on_event(const struct ht_event *e, void *ctx)
{
	struct histo *h = ctx;
	int t;

	if (e->kind == HT_EVENT_FREE)
		return 0;
	for (t = 0; t < h->nthreads && h->tids[t] != e->tid; t++)
		;
	if (t == h->nthreads) {
		if (t == MAX_THREADS)
			return 0;
		h->tids[h->nthreads++] = e->tid;
	}
	h->counts[t][bucket(e->size)]++;
	return 0;
}

int main(int argc, char **argv)
{
	struct ht_session_opts opts = { .sz = sizeof(opts) };
	struct histo *h = calloc(1, sizeof(*h));
	struct ht_session *s;
	char msg[256];
	sigset_t set, pending;
	int err;

	if (argc >= 3 && !strcmp(argv[1], "-p"))
		opts.pid = atoi(argv[2]);
	else if (argc >= 3 && !strcmp(argv[1], "--"))
		opts.argv = &argv[2];
	else {
		fprintf(stderr, "usage: size_histogram -p PID | -- COMMAND [ARGS...]\n");
		return 2;
	}
	/* Ctrl-C ends tracing instead of killing us. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	s = ht_session_open(&opts, msg, sizeof(msg), &err);
	if (!s) {
		fprintf(stderr, "size_histogram: %s\n", msg);
		return 2;
	}
	ht_session_set_observer(s, on_event, h);
	if (ht_session_start(s, msg, sizeof(msg))) {
		fprintf(stderr, "size_histogram: %s\n", msg);
		return 1;
	}
	while (!ht_session_target_done(s)) {
		if (ht_session_poll(s, 100) || sigpending(&pending) ||
		    sigismember(&pending, SIGINT))
			break;
	}
	ht_session_stop(s);

	for (int t = 0; t < h->nthreads; t++) {
		printf("thread %d\n", t + 1);
		for (int b = 0; b < BUCKETS; b++)
			if (h->counts[t][b])
				printf("  %llu-%llu: %llu\n", 1ULL << b, (2ULL << b) - 1,
				       (unsigned long long)h->counts[t][b]);
	}
	ht_session_close(s);
	free(h);
	return 0;
}
