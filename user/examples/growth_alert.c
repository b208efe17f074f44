// SPDX-License-Identifier: MIT
/*
 * growth_alert: print a stack the moment its live memory has grown by more
 * than N MiB within a time window - a leak alarm for a long-running server,
 * built on libheaptrace's observer callback and its heap model.
 *
 *   sudo growth_alert MIB WINDOW_S -p PID
 *   sudo growth_alert MIB WINDOW_S -- COMMAND ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <heaptrace.h>

struct watch {
	struct ht_session *s;
	uint64_t limit;          /* bytes of growth that trigger an alert */
	uint64_t window_ns;
	struct base {            /* per stack: live bytes at the window start */
		uint64_t t0, live0;
		int alerted;
	} *bases;
	uint32_t nbases;
};

static int on_event(const struct ht_event *e, void *ctx)
{
	struct watch *w = ctx;
	struct ht_frame frames[32];
	struct ht_stats st;
	struct base *b;
	int n;

	if (e->kind == HT_EVENT_FREE || e->stack_id == UINT32_MAX)
		return 0;
	if (e->stack_id >= w->nbases) {
		uint32_t nn = e->stack_id + 64;

		w->bases = realloc(w->bases, nn * sizeof(*w->bases));
		memset(w->bases + w->nbases, 0, (nn - w->nbases) * sizeof(*w->bases));
		w->nbases = nn;
	}
	b = &w->bases[e->stack_id];
	ht_session_stack_stats(w->s, e->stack_id, &st);
	/* A new window starts when the old one has passed. */
	if (!b->t0 || e->time_ns - b->t0 > w->window_ns) {
		b->t0 = e->time_ns;
		b->live0 = st.live_bytes - e->size;
	}
	if (b->alerted || st.live_bytes <= b->live0 || st.live_bytes - b->live0 <= w->limit)
		return 0;
	b->alerted = 1;
	printf("ALERT: live memory of stack %u grew by %llu bytes\n", e->stack_id,
	       (unsigned long long)(st.live_bytes - b->live0));
	n = ht_session_stack_frames(w->s, e->stack_id, frames, 32);
	for (int i = 0; i < n; i++)
		printf("  %s\n", frames[i].function);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct ht_session_opts opts = { .sz = sizeof(opts) };
	struct watch w = {};
	char msg[256];
	int err;

	if (argc < 5 || (strcmp(argv[3], "-p") && strcmp(argv[3], "--"))) {
		fprintf(stderr, "usage: growth_alert MIB WINDOW_S -p PID | -- COMMAND...\n");
		return 2;
	}
	w.limit = strtoull(argv[1], NULL, 10) << 20;
	w.window_ns = strtoull(argv[2], NULL, 10) * 1000000000ULL;
	if (!strcmp(argv[3], "-p"))
		opts.pid = atoi(argv[4]);
	else
		opts.argv = &argv[4];

	w.s = ht_session_open(&opts, msg, sizeof(msg), &err);
	if (!w.s) {
		fprintf(stderr, "growth_alert: %s\n", msg);
		return 2;
	}
	ht_session_set_observer(w.s, on_event, &w);
	if (ht_session_start(w.s, msg, sizeof(msg))) {
		fprintf(stderr, "growth_alert: %s\n", msg);
		return 1;
	}
	while (!ht_session_target_done(w.s))
		if (ht_session_poll(w.s, 100))
			break;
	ht_session_stop(w.s);
	ht_session_close(w.s);
	free(w.bases);
	return 0;
}
