/* SPDX-License-Identifier: MIT */
/* Loading the BPF programs and attaching them to the probe points. */
#ifndef HEAPTRACE_PROBES_H
#define HEAPTRACE_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include "allocators.h"
#include "events.h"

struct ht_probes;
struct ht_modules;

/* How probe points are attached. */
enum ht_links {
	HT_LINKS_AUTO,     /* the best the kernel has, in the order below */
	HT_LINKS_SESSION,  /* per object: one session uprobe_multi link for the
			    * entries and returns of allocating calls (Linux
			    * 6.12+: an entry can cancel its return), one
			    * uprobe_multi link for frees */
	HT_LINKS_MULTI,    /* per object and kind: one uprobe_multi link (6.6+) */
	HT_LINKS_SINGLE,   /* one link per probe point */
};

struct ht_probes_opts {
	int pid;                 /* target process (thread group id) */
	unsigned int max_depth;  /* stack frames to walk, 1..HT_MAX_FRAMES */
	uint64_t ring_bytes;     /* ring buffer size, a power of 2 */
	uint32_t stack_bytes;    /* raw stack copied per allocation (0: none) */
	uint64_t sample_bytes;   /* 0: record every allocation */
	uint64_t sample_seed;
	uint32_t sampled_max;    /* entries of the sampled-blocks map */
	uint64_t min_size;       /* record only sizes in [min_size, max_size] */
	uint64_t max_size;       /* 0: no upper limit */
	uint32_t cfi_rows;       /* > 0: unwind in the kernel from CFI tables of
				  * up to this many rows (see cfimaps.h) */
	enum ht_links links;     /* a kind the kernel lacks falls back to the next */
	bool mmap;               /* also trace anonymous mmap/munmap/mremap */
};

/* HEAPTRACE_LINKS=single or =multi: the fallbacks for kernels without
 * uprobe_multi or session links, chosen where the kernel has them (to test
 * and measure them); unset or anything else: HT_LINKS_AUTO. */
enum ht_links probes__links_from_env(void);

/* Open and load the BPF object for one target. NULL + errno. */
struct ht_probes *probes__load(const struct ht_probes_opts *opts);

/* Attach every point of the set (return probes first, so no call is seen
 * entering without its return). 0 or -errno; on error nothing stays. */
int probes__attach(struct ht_probes *p, struct ht_modules *ms,
		   const struct ht_probe_set *set);

/* Attach the points set->points[from..] (added since the last attach,
 * e.g. an allocator loaded later), in the same order. 0 or -errno; on
 * error none of these stays. */
int probes__attach_from(struct ht_probes *p, struct ht_modules *ms,
			const struct ht_probe_set *set, size_t from);

/* The maps of the in-kernel unwinder (objects by file identity, rows);
 * -1 when it is off. */
int probes__cfi_objs_fd(const struct ht_probes *p);
int probes__cfi_rows_fd(const struct ht_probes *p);

/* The ring buffer map's fd, for the event stream. */
int probes__ringbuf_fd(const struct ht_probes *p);

/* Read the BPF side's loss counters (enum ht_counter), summed over CPUs.
 * 0 or -errno (then out is all zero). */
int probes__counters(const struct ht_probes *p, uint64_t out[__HT_C_MAX]);

/* Probe points attached (an entry and its return count as two), whether
 * through one multi link per object or one link each. */
size_t probes__nr_probes(const struct ht_probes *p);

/* How many times the target has called execve() since the programs loaded. */
uint64_t probes__exec_count(const struct ht_probes *p);

/*
 * Put the link-map hook on the dynamic linker's _dl_debug_state (file
 * offset in the object at path, as the kernel resolves it). 0 or -errno.
 */
int probes__attach_dl_hook(struct ht_probes *p, const char *path, uint64_t offset);

/* How many times the dynamic linker announced a link-map change. */
uint64_t probes__dl_changes(const struct ht_probes *p);

void probes__destroy(struct ht_probes *p);

#endif
