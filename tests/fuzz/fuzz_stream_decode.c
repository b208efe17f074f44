// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: stream__decode(), the ring buffer record decoder.
 * The input is one record. Whatever it accepts must be safe to consume as
 * events.h describes it: an allocation's nr_ips return addresses, then
 * stack_len bytes of raw stack; a free's fields. The handlers read all of
 * it, so a record claiming more than it holds is an out-of-bounds read
 * that AddressSanitizer reports.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static int on_alloc(void *ctx, const struct ht_alloc_event *e)
{
	const uint8_t *stack = HT_ALLOC_EVENT_STACK(e);
	uint64_t s = e->hdr.tid ^ e->hdr.ts ^ e->addr ^ e->size ^ e->old_addr ^ e->sp ^ e->bp ^
		     e->func ^ e->flags ^ e->sample_thr;

	if (e->nr_ips > HT_MAX_FRAMES)
		abort();
	for (uint32_t i = 0; i < e->nr_ips; i++)
		s += e->ips[i];
	for (uint32_t i = 0; i < e->stack_len; i++)
		s += stack[i];
	sink = s;
	(void)ctx;
	return 0;
}

static int on_free(void *ctx, const struct ht_free_event *e)
{
	sink = e->hdr.tid ^ e->hdr.ts ^ e->addr ^ e->func;
	(void)ctx;
	return 0;
}

static int on_exec(void *ctx, const struct ht_event_hdr *h)
{
	sink = h->tid ^ h->ts;
	(void)ctx;
	return 0;
}

static const struct ht_stream_ops ops = { .on_alloc = on_alloc, .on_free = on_free, .on_exec = on_exec };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: reading past the record is caught */
	void *rec = malloc(size ? size : 1);
	int err;

	if (!rec)
		return 0;
	memcpy(rec, data, size);
	err = stream__decode(rec, size, &ops, NULL);
	if (err != 0 && err != -EBADMSG)
		abort();
	free(rec);
	return 0;
}
