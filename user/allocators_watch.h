/* SPDX-License-Identifier: MIT */
/*
 * Is heaptrace seeing the process's memory? The process's anonymous
 * memory (RssAnon of /proc/PID/status) next to what the traced entry
 * points account for, and a warning when they see no call for a while
 * (5 s) while that memory grows by 1 MiB or more - the program allocates
 * through something heaptrace does not trace - so that a report is never
 * silently empty.
 */
#ifndef HEAPTRACE_ALLOCATORS_WATCH_H
#define HEAPTRACE_ALLOCATORS_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#define HT_WATCH_QUIET_NS (5ULL * 1000000000ULL)
#define HT_WATCH_GROWTH (1ULL << 20)

struct ht_alloc_watch {
	int pid;
	uint64_t rss_anon; /* bytes, as last read */
	bool rss_known;
	uint64_t calls;     /* traced calls at the last look */
	uint64_t quiet_ns;  /* when they last changed (or the start) */
	uint64_t quiet_rss; /* RssAnon then */
	bool warned;
};

void alloc_watch__init(struct ht_alloc_watch *w, int pid, uint64_t now_ns);

/* Read RssAnon now (a process that is gone keeps the last value); 0 or -errno. */
int alloc_watch__read(struct ht_alloc_watch *w);

/*
 * One look: calls is the number of traced calls so far. Returns true,
 * once per session, when the traced entry points have seen no call for
 * HT_WATCH_QUIET_NS while RssAnon grew by HT_WATCH_GROWTH or more; *grew
 * is then the growth in bytes.
 */
bool alloc_watch__tick(struct ht_alloc_watch *w, uint64_t calls, uint64_t now_ns,
		       uint64_t *grew);

#endif
