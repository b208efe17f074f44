/* SPDX-License-Identifier: MIT */
/*
 * libheaptrace - observe another process's heap from outside it.
 *
 * A session attaches eBPF uprobes to the allocator of a running process
 * (or of a command it starts) and turns every allocation and free into an
 * event. Events feed a heap model (live blocks by stack, exact peak,
 * churn, temporaries) and, if you set one, your own observer callback.
 * Because the observer runs in *your* process, not the target's, it may do
 * anything - allocate, print, take locks - without the recursion and
 * thread-teardown traps of in-process allocator hooks.
 *
 * Lifecycle:
 *
 *	struct ht_session_opts opts = { .sz = sizeof(opts), .pid = pid };
 *	char msg[256];
 *	int err;
 *	struct ht_session *s = ht_session_open(&opts, msg, sizeof(msg), &err);
 *	ht_session_set_observer(s, my_fn, my_ctx);        (optional)
 *	ht_session_start(s, msg, sizeof(msg));             probes go in
 *	while (!ht_session_target_done(s))
 *		ht_session_poll(s, 100);                   events flow
 *	ht_session_stop(s);                                probes come out
 *	ht_session_write_report(s, HT_FORMAT_TEXT, stdout, NULL);
 *	ht_session_close(s);
 *
 * Conventions: functions return 0 or a negative errno; constructors return
 * NULL and set errno (and a one-line reason in msg); option structs start
 * with `sz` = sizeof(struct) so they can grow without breaking callers.
 * A session is not thread-safe: call it from one thread.
 */
#ifndef HEAPTRACE_H
#define HEAPTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HEAPTRACE_VERSION "0.2.0"

struct ht_session;

/* --- opening a session ------------------------------------------------ */

enum ht_unwind_mode {
	HT_UNWIND_FP,     /* frame pointers only (no stack copied) */
	HT_UNWIND_AUTO,   /* + DWARF CFI where a frame has no frame pointer */
	HT_UNWIND_DWARF,  /* DWARF CFI for every frame the stack window covers */
	HT_UNWIND_CFI,    /* in the kernel, from tables built from each object's CFI */
};

struct ht_session_opts {
	size_t sz;               /* sizeof(struct ht_session_opts) */
	int pid;                 /* attach to this process, or */
	char *const *argv;       /* launch this command (looked up in PATH) */
	unsigned int max_depth;  /* frames per stack, 1-127; 0 = 64 */
	uint64_t ring_bytes;     /* ring buffer size (power of 2); 0 = 16 MiB */
	bool run_as_root;        /* launch under sudo: keep root for the command */
	bool no_demangle;        /* keep C++/Rust names mangled */
	bool unwind_set;         /* unwind below was chosen (else CFI) */
	enum ht_unwind_mode unwind;
	uint32_t stack_bytes;    /* stack window for CFI, <= 8192; 0 = 4096 */
	int record_fd;           /* > 0: append every raw event record here
				  * (u32 length, then the record) for replay */
	uint64_t sample_bytes;   /* > 0: sample allocations as a Poisson process
				  * over bytes with this mean; larger ones exact */
	uint64_t seed;           /* sampling seed (0: random) */
	uint32_t sampled_max;    /* sampled/filtered blocks tracked in BPF; 0 = 1M */
	const char *allocator;   /* trace only this allocator family: glibc,
				  * jemalloc, tcmalloc, mimalloc; NULL = all found */
	const char *symbol_prefix; /* jemalloc's symbol prefix (je_, _rjem_...);
				    * NULL = detected */
	uint64_t min_size;       /* record only allocations of min_size bytes or more */
	uint64_t max_size;       /* ... and at most max_size (0: no limit); in the kernel */
	int verbosity;           /* this session's messages on stderr: 0 warnings
				  * and errors, 1 info, 2 debug */
	bool mmap;               /* also trace anonymous mmap/munmap/mremap: the
				  * text and JSON reports get a Mappings table
				  * (never part of the heap totals) */
};

/*
 * Find the target and its allocators and load the BPF programs; nothing
 * is attached yet. NULL on failure, with *err a negative errno and msg a
 * one-line reason. -EINVAL, -ESRCH, -ENOENT (no allocator), -EPERM
 * (privileges), -ENOTSUP (kernel) are the caller's to report as input
 * errors.
 */
struct ht_session *ht_session_open(const struct ht_session_opts *opts, char *msg,
				   size_t len, int *err);

/* --- observing events ------------------------------------------------- */

enum ht_event_kind {
	HT_EVENT_ALLOC,    /* a new block */
	HT_EVENT_FREE,     /* a block freed */
	HT_EVENT_REALLOC,  /* old_addr became addr (old_addr freed, addr allocated) */
};

struct ht_event {
	enum ht_event_kind kind;
	uint32_t tid;            /* thread of the target that made the call */
	uint64_t time_ns;        /* CLOCK_MONOTONIC */
	uint64_t addr;           /* the block (allocated, or freed) */
	uint64_t old_addr;       /* REALLOC: the block it replaced */
	uint64_t size;           /* requested size; FREE: the block's size, or 0 if unknown */
	uint32_t stack_id;       /* ALLOC/REALLOC: the call's stack; FREE: the
				  * block's allocating stack; UINT32_MAX if unknown */
	const char *function;    /* allocator entry point, e.g. "malloc" */
};

/*
 * Called for every event after the model has taken it in. Return 0; a
 * negative value stops ht_session_poll(), which returns it.
 */
typedef int (*ht_observer_fn)(const struct ht_event *e, void *ctx);

int ht_session_set_observer(struct ht_session *s, ht_observer_fn fn, void *ctx);

/* --- running ---------------------------------------------------------- */

/* Attach the probes; a launched command starts running only now. */
int ht_session_start(struct ht_session *s, char *msg, size_t len);

/*
 * What the session traces, for people: "jemalloc 5.3.0 (prefix _rjem_) in
 * /usr/bin/servo, glibc 2.36 malloc in libc.so.6". Grows when an allocator
 * mapped later (dlopen) is found; valid as long as the session.
 */
const char *ht_session_allocators(const struct ht_session *s);

/* An fd that is readable when events wait (for poll/epoll loops). */
int ht_session_fd(const struct ht_session *s);

/* Wait up to timeout_ms for events (0: don't wait), consume them, check
 * the target. 0 or a negative errno (or an observer's error). */
int ht_session_poll(struct ht_session *s, int timeout_ms);

/* Has the target exited or exec'd another program? */
bool ht_session_target_done(const struct ht_session *s);

/* Send sig to the command heaptrace launched (only to that: -EPERM for an
 * attached process); tracing goes on, so its exit is seen. 0 or -errno. */
int ht_session_signal_target(struct ht_session *s, int sig);

/* 0, or the -errno of the first failed write to opts.record_fd (the
 * recording stopped there; tracing went on). */
int ht_session_record_error(const struct ht_session *s);

/* Detach the probes after consuming what is left; the model stays. */
void ht_session_stop(struct ht_session *s);

void ht_session_close(struct ht_session *s);

/* --- the heap model --------------------------------------------------- */

struct ht_stats {
	uint64_t allocs, alloc_bytes;
	uint64_t frees, freed_bytes;
	uint64_t live_blocks, live_bytes;
	uint64_t peak_blocks, peak_bytes;  /* live when total live bytes peaked */
	uint64_t temporary;  /* freed by the allocating thread before its next allocation */
	uint64_t max_live_blocks, max_live_bytes;  /* its own high-water mark (bytes) */
	uint64_t freed_lifetime_ms;  /* lifetimes of its freed blocks, summed (ms) */
};

struct ht_heap_totals {
	struct ht_stats s;
	uint64_t unknown_frees;   /* frees of blocks never seen allocated */
	uint64_t replaced;        /* allocations at an address still live (a lost free) */
	uint64_t peak_ms;         /* when total live bytes reached its peak, ms after start */
};

void ht_session_totals(const struct ht_session *s, struct ht_heap_totals *out);

/* Stack ids are dense: 0 .. ht_session_nr_stacks() - 1. */
uint32_t ht_session_nr_stacks(const struct ht_session *s);
void ht_session_stack_stats(const struct ht_session *s, uint32_t stack, struct ht_stats *out);

/* The raw return addresses of a stack, innermost first; NULL if unknown. */
const uint64_t *ht_session_stack_ips(const struct ht_session *s, uint32_t stack,
				     uint32_t *nr);

struct ht_frame {
	uint64_t address;       /* as recorded (a return address) */
	const char *function;   /* never NULL: a name, or "module+0xoff" */
	const char *module;     /* path as the target sees it; NULL if unmapped */
	const char *file;       /* NULL when unknown */
	int line;               /* 0 when unknown */
	bool known;             /* function is a symbol, not a placeholder */
	bool inlined;           /* an inlined call inside the next frame */
};

/*
 * Symbolize a stack: up to max frames, innermost first, inlined calls as
 * frames of their own. Strings live as long as the session. Returns the
 * number of frames, or a negative errno.
 */
int ht_session_stack_frames(struct ht_session *s, uint32_t stack, struct ht_frame *out,
			    int max);

/* --- what was lost ---------------------------------------------------- */

struct ht_loss {
	uint64_t ringbuf_full_allocs;  /* allocation records the ring had no room for */
	uint64_t ringbuf_full_frees;
	uint64_t no_thread_state;      /* calls missed: no per-thread state */
	uint64_t unreadable_results;   /* posix_memalign results that could not be read */
	uint64_t stale_calls;          /* entries whose return never came */
	uint64_t nested_calls;         /* calls inside a traced call (not an error) */
	uint64_t stacks_truncated;     /* stacks cut at max_depth */
	uint64_t stacks_broken;        /* frame-pointer walks that hit an unreadable frame */
	uint64_t windows_dropped;      /* stack windows left out, ring nearly full (not a loss) */
	uint64_t filtered;             /* allocations outside min_size..max_size (not a loss) */
	uint64_t sampled_map_full;     /* sampled blocks whose free can't be matched */
	uint64_t unsampled;            /* allocations left out by sampling (not a loss) */
	uint64_t bad_records;          /* malformed ring buffer records */
	uint64_t model_errors;         /* events the model had no memory for */
	uint64_t lost_events;          /* all the losses that make numbers lower bounds */
	uint64_t ringbuf_full_execs;   /* exec records lost: the old heap may look live */
	/* --unwind cfi: stacks that ended early (shorter, never wrong), by reason
	 * (stacks_truncated and stacks_broken count too) */
	uint64_t stacks_no_mapping;    /* next address in no executable mapping */
	uint64_t stacks_no_table;      /* in an object whose table was not loaded yet */
	uint64_t stacks_bad_rule;      /* a CFI rule the unwinder does not follow */
	uint64_t stacks_fp_invalid;    /* no CFI, frame-pointer chain not in the stack */
	uint64_t stacks_uprobe;        /* a pending uretprobe's return not found */
	uint64_t stacks_vma_busy;      /* memory map locked by a writer */
	uint64_t stacks_cut_short;     /* all of the above, truncated and broken included */
	/* --unwind cfi: the unwind tables */
	uint64_t cfi_objects;          /* objects with a table entry */
	uint64_t cfi_fp_only;          /* ... of which without usable CFI */
	uint64_t cfi_rows, cfi_bytes;  /* rows loaded, their size */
	uint64_t cfi_build_ns;         /* time spent building the tables */
};

void ht_session_loss(const struct ht_session *s, struct ht_loss *out);

/* --- the target ------------------------------------------------------- */

struct ht_target_info {
	int pid;
	const char *command;
	bool launched;       /* started by the session */
	bool exited;
	bool execed;         /* replaced its program: its old heap is gone */
	const char *exec_chain; /* launched: the programs run before this one
				 * ("env > nice"; "" if none): each exec'd the
				 * next, and the report is of the last */
	bool exit_known;     /* exit_status is meaningful (launched only) */
	int exit_status;     /* wait(2) status */
	double duration_s;   /* traced so far (until ht_session_stop()) */
	uint64_t sample_bytes;  /* > 0: values are estimates from sampling */
	uint64_t min_size, max_size;  /* size filter (0: none) */
	uint64_t start_unix_ns;
	size_t nr_probes;
};

void ht_session_target_info(const struct ht_session *s, struct ht_target_info *out);

/* --- reports ---------------------------------------------------------- */

enum ht_format {
	HT_FORMAT_TEXT,    /* summary and top-N tables for people */
	HT_FORMAT_JSON,    /* the stable JSON report (version 1) */
	HT_FORMAT_FOLDED,  /* "outer;inner value" lines for flamegraph.pl & co */
	HT_FORMAT_SVG,     /* self-contained interactive flame graph */
	HT_FORMAT_PPROF,   /* gzip-compressed profile.proto */
	HT_FORMAT_DHAT,    /* DHAT JSON for Valgrind's dh_view.html */
	HT_FORMAT_HTML,    /* one self-contained page: chart, flame graphs, tables */
};

/* What folded files and flame graphs weigh each stack by. */
enum ht_metric {
	HT_M_LIVE_BYTES,   /* live now (leaked, once the target exited) */
	HT_M_PEAK_BYTES,   /* live at the moment of the total peak */
	HT_M_ALLOC_BYTES,  /* allocated in total */
	HT_M_ALLOCS,       /* number of allocations */
	__HT_M_MAX,
};

struct ht_report_opts {
	size_t sz;                /* sizeof(struct ht_report_opts) */
	unsigned int top_n;       /* text: rows per table; 0 = 10 */
	enum ht_metric metric;    /* folded, svg */
	/* A filtered view: only stacks for which keep() returns true. */
	bool (*keep)(struct ht_session *s, uint32_t stack, void *ctx);
	void *keep_ctx;
	/*
	 * JSON: also the churn in the current interval, since the last
	 * ht_session_mark_interval() (since the start before the first): each
	 * stack and the totals get an "interval" object with allocs,
	 * alloc_bytes, frees, freed_bytes and temporary.
	 */
	bool interval;
	/*
	 * Folded, SVG, pprof, DHAT and HTML leave out the allocator's frames at the
	 * top of each stack (operator new and its variants, strdup-style libc
	 * wrappers, the malloc family, frames inside an allocator library), so
	 * that "self" lands on the function that allocated; keep_alloc_frames
	 * keeps them. alloc_fns (nalloc_fns fnmatch(3) globs, matched with and
	 * without the parameter list) names the program's own wrappers to
	 * leave out the same way. Text and JSON show every frame; JSON marks
	 * that run "alloc_frame": true whether kept or not.
	 */
	bool keep_alloc_frames;
	const char *const *alloc_fns;
	size_t nalloc_fns;
	/* Text: the Live/Leaks table counts only blocks at least this many
	 * seconds old (0: all) - the leak signal of a server that never exits. */
	double older_than_s;
	/* Every format but JSON: C++/Rust template arguments collapsed
	 * ("std::vector<>::push_back(long&&)"). SVG labels always are. */
	bool short_names;
};

/*
 * Start a new interval (periodic snapshots): reports with opts.interval
 * show the churn from this moment on.
 */
void ht_session_mark_interval(struct ht_session *s);

/* Write the model as a report in format fmt; NULL opts = defaults. */
int ht_session_write_report(struct ht_session *s, enum ht_format fmt, FILE *f,
			    const struct ht_report_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* HEAPTRACE_H */
