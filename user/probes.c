// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "heaptrace.skel.h"
#include "log.h"
#include "modules.h"
#include "probes.h"
#include "util.h"

struct ht_probes {
	struct heaptrace_bpf *skel;
	struct bpf_link **links;
	size_t nlinks, cap;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && ht_log_get_level() < HT_LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && ht_log_get_level() < HT_LOG_INFO)
		return 0;
	if (level == LIBBPF_WARN && ht_log_get_level() < HT_LOG_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

struct ht_probes *probes__load(const struct ht_probes_opts *opts)
{
	struct ht_probes *p;
	int err;

	libbpf_set_print(libbpf_print);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;

	/* Open: set what the programs must know before they are verified. */
	p->skel = heaptrace_bpf__open();
	if (!p->skel) {
		err = -errno;
		pr_err("can't open BPF object: %s\n", strerror(errno));
		goto err_free;
	}
	p->skel->rodata->target_tgid = (uint32_t)opts->pid;
	p->skel->rodata->max_depth = opts->max_depth;
	p->skel->rodata->wakeup_bytes = opts->ring_bytes / 4;
	p->skel->rodata->stack_bytes = opts->stack_bytes;
	p->skel->rodata->min_size = opts->min_size;
	p->skel->rodata->max_size = opts->max_size;
	if (opts->sample_bytes) {
		/* p(step) = 1 - exp(-(step + 1/2) / steps) of size / sample_bytes */
		p->skel->rodata->sample_bytes = opts->sample_bytes;
		p->skel->rodata->sample_seed = opts->sample_seed;
		for (int i = 0; i < HT_SAMPLE_STEPS; i++) {
			double pr = -expm1(-(i + 0.5) / HT_SAMPLE_STEPS);

			p->skel->rodata->sample_thr[i] = (uint32_t)(pr * 4294967296.0);
		}
	}
	if (opts->sample_bytes || opts->min_size || opts->max_size) {
		p->skel->rodata->track_blocks = 1;
		err = bpf_map__set_max_entries(p->skel->maps.sampled, opts->sampled_max);
		if (err)
			goto err_destroy;
	}
	err = bpf_map__set_max_entries(p->skel->maps.events, (uint32_t)opts->ring_bytes);
	if (err)
		goto err_destroy;
	if (opts->cfi_rows) {
		p->skel->rodata->unwind_cfi = 1;
		err = bpf_map__set_max_entries(p->skel->maps.cfi_rows, opts->cfi_rows);
		if (err)
			goto err_destroy;
	} else {
		bpf_map__set_max_entries(p->skel->maps.cfi_objs, 1);
	}

	/* Load: the verifier checks the programs. */
	err = heaptrace_bpf__load(p->skel);
	if (err) {
		pr_err("can't load BPF programs: %s\n", strerror(-err));
		goto err_destroy;
	}

	/* Exec of the target ends its old heap: watch for it. */
	err = heaptrace_bpf__attach(p->skel);
	if (err) {
		pr_err("can't attach exec tracepoint: %s\n", strerror(-err));
		goto err_destroy;
	}
	return p;

err_destroy:
	heaptrace_bpf__destroy(p->skel);
err_free:
	free(p);
	errno = -err;
	return NULL;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Detach links in parallel: removing one uprobe waits for an RCU grace
 * period (~80 ms here), so one at a time would take seconds.
 */
static void destroy_links(struct bpf_link **links, size_t n)
{
	pthread_t *tids = calloc(n, sizeof(*tids));
	bool *started = calloc(n, sizeof(*started));

	for (size_t i = 0; i < n; i++)
		if (tids && started && !pthread_create(&tids[i], NULL, destroy_link, links[i]))
			started[i] = true;
		else
			bpf_link__destroy(links[i]);
	for (size_t i = 0; i < n; i++)
		if (started && started[i])
			pthread_join(tids[i], NULL);
	free(tids);
	free(started);
}

static int attach_one(struct ht_probes *p, struct ht_modules *ms, int pid,
		      const struct ht_probe_set *set, size_t i, bool ret)
{
	const struct ht_probe_point *pt = &set->points[i];
	struct ht_module *mod = modules__get(ms, pt->module);
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_program *prog;
	struct bpf_link *link;
	char path[4200];
	int err;

	err = modules__probe_path(ms, mod, path, sizeof(path));
	if (err) {
		pr_err("can't attach uprobe '%s' in '%s': %s\n", pt->func, mod->path,
		       strerror(-err));
		return err;
	}
	uo.bpf_cookie = HT_COOKIE(i, pt->layout);
	uo.retprobe = ret;
	if (layout_is_free(pt->layout))
		prog = p->skel->progs.ht_free;
	else
		prog = ret ? p->skel->progs.ht_exit : p->skel->progs.ht_enter;
	link = bpf_program__attach_uprobe_opts(prog, pid, path, pt->offset, &uo);
	if (!link) {
		err = -errno;
		/* a permission error is the caller's one-line message */
		if (err == -EACCES || err == -EPERM)
			pr_info("can't attach %s '%s' in '%s': %s\n", ret ? "uretprobe" : "uprobe",
				pt->func, mod->path, strerror(errno));
		else
			pr_err("can't attach %s '%s' in '%s': %s\n", ret ? "uretprobe" : "uprobe",
			       pt->func, mod->path, strerror(errno));
		return err;
	}
	if (grow_array((void **)&p->links, &p->cap, p->nlinks + 1, sizeof(*p->links))) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	p->links[p->nlinks++] = link;
	pr_debug("attached %s %s at %s+0x%llx\n", ret ? "uretprobe" : "uprobe", pt->func,
		 mod->path, (unsigned long long)pt->offset);
	return 0;
}

int probes__attach_from(struct ht_probes *p, struct ht_modules *ms,
			const struct ht_probe_set *set, size_t from)
{
	int pid = (int)p->skel->rodata->target_tgid;
	size_t nlinks = p->nlinks;
	int err = 0;

	/* Returns first: an entry seen without its return would leave the
	 * thread looking nested. Frees last. */
	for (size_t i = from; i < set->n && !err; i++)
		if (!layout_is_free(set->points[i].layout))
			err = attach_one(p, ms, pid, set, i, true);
	for (size_t i = from; i < set->n && !err; i++)
		if (!layout_is_free(set->points[i].layout))
			err = attach_one(p, ms, pid, set, i, false);
	for (size_t i = from; i < set->n && !err; i++)
		if (layout_is_free(set->points[i].layout))
			err = attach_one(p, ms, pid, set, i, false);
	if (err) {
		destroy_links(p->links + nlinks, p->nlinks - nlinks);
		p->nlinks = nlinks;
	}
	return err;
}

int probes__attach(struct ht_probes *p, struct ht_modules *ms,
		   const struct ht_probe_set *set)
{
	return probes__attach_from(p, ms, set, 0);
}

int probes__cfi_objs_fd(const struct ht_probes *p)
{
	return p->skel->rodata->unwind_cfi ? bpf_map__fd(p->skel->maps.cfi_objs) : -1;
}

int probes__cfi_rows_fd(const struct ht_probes *p)
{
	return p->skel->rodata->unwind_cfi ? bpf_map__fd(p->skel->maps.cfi_rows) : -1;
}

int probes__ringbuf_fd(const struct ht_probes *p)
{
	return bpf_map__fd(p->skel->maps.events);
}

void probes__counters(const struct ht_probes *p, uint64_t out[__HT_C_MAX])
{
	for (int i = 0; i < __HT_C_MAX; i++)
		out[i] = __atomic_load_n(&p->skel->bss->counters[i], __ATOMIC_RELAXED);
}

uint64_t probes__exec_count(const struct ht_probes *p)
{
	return __atomic_load_n(&p->skel->bss->exec_count, __ATOMIC_ACQUIRE);
}

size_t probes__nr_links(const struct ht_probes *p)
{
	return p->nlinks;
}

void probes__destroy(struct ht_probes *p)
{
	if (!p)
		return;
	destroy_links(p->links, p->nlinks);
	free(p->links);
	heaptrace_bpf__destroy(p->skel);
	free(p);
}
