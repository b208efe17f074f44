// SPDX-License-Identifier: MIT
/* Watching what the traced entry points see (see allocators_watch.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "allocators_watch.h"

void alloc_watch__init(struct ht_alloc_watch *w, int pid, uint64_t now_ns)
{
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->quiet_ns = now_ns;
	if (!alloc_watch__read(w))
		w->quiet_rss = w->rss_anon;
}

int alloc_watch__read(struct ht_alloc_watch *w)
{
	char path[64], line[256];
	unsigned long long kb;
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", w->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %llu kB", &kb) == 1) {
			w->rss_anon = (uint64_t)kb * 1024;
			w->rss_known = true;
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

bool alloc_watch__tick(struct ht_alloc_watch *w, uint64_t calls, uint64_t now_ns,
		       uint64_t *grew)
{
	bool had = w->rss_known;

	if (alloc_watch__read(w) || !had) {
		w->quiet_rss = w->rss_anon;
		return false;
	}
	if (calls != w->calls) {
		w->calls = calls;
		w->quiet_ns = now_ns;
		w->quiet_rss = w->rss_anon;
		return false;
	}
	if (w->warned || now_ns - w->quiet_ns < HT_WATCH_QUIET_NS ||
	    w->rss_anon < w->quiet_rss + HT_WATCH_GROWTH)
		return false;
	w->warned = true;
	*grew = w->rss_anon - w->quiet_rss;
	return true;
}
