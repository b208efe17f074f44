/* SPDX-License-Identifier: MIT */
/* The event stream: ring buffer records, validated and dispatched. */
#ifndef HEAPTRACE_STREAM_H
#define HEAPTRACE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "events.h"

struct ht_stream_ops {
	int (*on_alloc)(void *ctx, const struct ht_alloc_event *e);
	int (*on_free)(void *ctx, const struct ht_free_event *e);
	int (*on_exec)(void *ctx, const struct ht_event_hdr *h);
	/* --mmap: an anonymous mapping (the allocation layout), a change */
	int (*on_mmap)(void *ctx, const struct ht_alloc_event *e);
	int (*on_map_change)(void *ctx, const struct ht_map_event *e);
};

/*
 * Validate one record and hand it to ops. Returns the handler's result,
 * or -EBADMSG for a record that is truncated or of an unknown type.
 */
int stream__decode(const void *data, size_t len, const struct ht_stream_ops *ops,
		   void *ctx);

struct ht_stream;

struct ht_stream *stream__new(int ringbuf_fd, const struct ht_stream_ops *ops, void *ctx);
void stream__free(struct ht_stream *s);

/* Consume everything available now; returns records consumed or -errno. */
int stream__drain(struct ht_stream *s);

/* An fd that becomes readable when the BPF side wakes the consumer. */
int stream__epoll_fd(const struct ht_stream *s);

/* Append each record (u32 length, then its bytes) to fd, for replay. */
void stream__record_to(struct ht_stream *s, int fd);

/* 0, or the -errno of the first failed write to the recording (which
 * stopped it). */
int stream__record_error(const struct ht_stream *s);

/* Feed a recording made by stream__record_to() through ops: records
 * consumed, or -EBADMSG for a truncated file. */
long stream__replay(const void *data, size_t len, const struct ht_stream_ops *ops, void *ctx);

uint64_t stream__records(const struct ht_stream *s);
uint64_t stream__bad_records(const struct ht_stream *s);

#endif
