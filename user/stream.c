// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "stream.h"

struct ht_stream {
	struct ring_buffer *rb;
	const struct ht_stream_ops *ops;
	void *ctx;
	uint64_t records, bad;
	int record_fd;
	int record_err;         /* first failed write of the recording */
};

int stream__decode(const void *data, size_t len, const struct ht_stream_ops *ops,
		   void *ctx)
{
	const struct ht_event_hdr *h = data;
	const struct ht_alloc_event *a = data;

	if (len < sizeof(*h))
		return -EBADMSG;
	switch (h->type) {
	case HT_EV_ALLOC:
	case HT_EV_MMAP:
		/* the addresses and the raw stack window must both be there */
		if (len < HT_ALLOC_EVENT_SIZE(0) || a->nr_ips > HT_MAX_FRAMES ||
		    a->stack_len > HT_MAX_STACK_BYTES ||
		    len < HT_ALLOC_EVENT_SIZE(a->nr_ips) + a->stack_len)
			return -EBADMSG;
		if (h->type == HT_EV_MMAP)
			return ops->on_mmap ? ops->on_mmap(ctx, a) : 0;
		return ops->on_alloc ? ops->on_alloc(ctx, a) : 0;
	case HT_EV_MAP_CHANGE:
		if (len < sizeof(struct ht_map_event))
			return -EBADMSG;
		return ops->on_map_change ? ops->on_map_change(ctx, data) : 0;
	case HT_EV_FREE:
		if (len < sizeof(struct ht_free_event))
			return -EBADMSG;
		return ops->on_free ? ops->on_free(ctx, data) : 0;
	case HT_EV_EXEC:
		return ops->on_exec ? ops->on_exec(ctx, h) : 0;
	default:
		return -EBADMSG;
	}
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int handle(void *ctx, void *data, size_t len)
{
	struct ht_stream *s = ctx;
	uint32_t len32 = (uint32_t)len;
	int err;

	if (s->record_fd > 0) {
		err = write_all(s->record_fd, &len32, sizeof(len32));
		if (!err)
			err = write_all(s->record_fd, data, len);
		if (err) {
			/* A failed recording stops, and says so; tracing goes on. */
			s->record_err = err;
			s->record_fd = -1;
		}
	}
	err = stream__decode(data, len, s->ops, s->ctx);

	s->records++;
	if (err == -EBADMSG) {
		s->bad++;
		return 0;
	}
	/* A handler error stops this drain and is reported by the caller. */
	return err < 0 ? err : 0;
}

struct ht_stream *stream__new(int ringbuf_fd, const struct ht_stream_ops *ops, void *ctx)
{
	struct ht_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = ops;
	s->ctx = ctx;
	s->rb = ring_buffer__new(ringbuf_fd, handle, s, NULL);
	if (!s->rb) {
		int err = errno;

		free(s);
		errno = err;
		return NULL;
	}
	return s;
}

void stream__record_to(struct ht_stream *s, int fd)
{
	s->record_fd = fd;
}

int stream__record_error(const struct ht_stream *s)
{
	return s->record_err;
}

long stream__replay(const void *data, size_t len, const struct ht_stream_ops *ops, void *ctx)
{
	const uint8_t *p = data, *end = p + len;
	struct ht_alloc_event *rec;
	long n = 0;

	/* Records follow 4-byte lengths: each is copied to an aligned buffer
	 * (the largest valid record fits) before its 8-byte fields are read. */
	rec = malloc(sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	while (p < end) {
		uint32_t rl;

		if ((size_t)(end - p) < sizeof(rl)) {
			n = -EBADMSG;
			break;
		}
		memcpy(&rl, p, sizeof(rl));
		p += sizeof(rl);
		if ((size_t)(end - p) < rl) {
			n = -EBADMSG;
			break;
		}
		if (rl <= sizeof(*rec)) {
			memcpy(rec, p, rl);
			stream__decode(rec, rl, ops, ctx);
		}
		p += rl;
		n++;
	}
	free(rec);
	return n;
}

void stream__free(struct ht_stream *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	free(s);
}

int stream__drain(struct ht_stream *s)
{
	return ring_buffer__consume(s->rb);
}

int stream__epoll_fd(const struct ht_stream *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

uint64_t stream__records(const struct ht_stream *s)
{
	return s->records;
}

uint64_t stream__bad_records(const struct ht_stream *s)
{
	return s->bad;
}
