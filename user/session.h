/* SPDX-License-Identifier: MIT */
/*
 * A tracing session: one target, its probes, the event stream and the
 * models fed by it (heap, stacks), plus the symbolizer used at report
 * time. The CLI is one user of this; the event flow is:
 *
 *   target -> probes (BPF) -> ring buffer -> stream -> heap model
 */
#ifndef HEAPTRACE_SESSION_H
#define HEAPTRACE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"
#include "unwind.h"

struct ht_session;
struct ht_heap;
struct ht_stacks;
struct ht_symbolizer;
struct ht_target;

struct ht_session_opts {
	int pid;                 /* attach to this process, or */
	char *const *argv;       /* launch this command (argv[0] looked up in PATH) */
	unsigned int max_depth;  /* frames per stack; 0 = 64 */
	uint64_t ring_bytes;     /* ring buffer size (power of 2); 0 = 16 MiB */
	bool run_as_root;        /* launch: keep root under sudo */
	bool no_demangle;
	enum ht_unwind_mode unwind;  /* default HT_UNWIND_AUTO */
	bool unwind_set;             /* unwind was chosen (else the default) */
	uint32_t stack_bytes;        /* stack window for CFI; 0 = 4096 */
};

/* What the BPF side and the stream could not record. */
struct ht_loss {
	uint64_t counters[__HT_C_MAX];  /* enum ht_counter */
	uint64_t bad_records;           /* malformed ring buffer records */
	uint64_t model_errors;          /* events the model had no memory for */
	uint64_t lost_events;           /* the sum of all losses above */
};

/* Open a session: find the target and its allocators, load the BPF
 * programs. Nothing is attached yet. NULL + errno; msg says why. Exit
 * class: -EINVAL/-ESRCH/-ENOENT/-EPERM are the user's input. */
struct ht_session *ht_session_open(const struct ht_session_opts *opts, char *msg,
				   size_t len, int *err);

/* Attach the probes; in launch mode, then let the command run. */
int ht_session_start(struct ht_session *s, char *msg, size_t len);

/* An fd to wait on (readable when events are waiting). */
int ht_session_fd(const struct ht_session *s);

/* Consume waiting events and check the target. 0, or -errno on failure. */
int ht_session_poll(struct ht_session *s);

/* Has the target ended (exited, or exec'd another program)? */
bool ht_session_target_done(const struct ht_session *s);

/* Stop tracing: detach the probes after consuming what is left. */
void ht_session_stop(struct ht_session *s);

const struct ht_target *ht_session_target(const struct ht_session *s);
bool ht_session_execed(const struct ht_session *s);
const struct ht_heap *ht_session_heap(const struct ht_session *s);
const struct ht_stacks *ht_session_stacks(const struct ht_session *s);
struct ht_symbolizer *ht_session_symbolizer(struct ht_session *s);
void ht_session_loss(const struct ht_session *s, struct ht_loss *out);
double ht_session_duration(const struct ht_session *s);
/* Wall-clock time (ns since the epoch) when tracing began. */
uint64_t ht_session_start_time(const struct ht_session *s);
size_t ht_session_nr_probes(const struct ht_session *s);

void ht_session_close(struct ht_session *s);

#endif
