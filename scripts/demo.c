// SPDX-License-Identifier: MIT
/*
 * The bundled demo for `make demo`: a toy "server" that parses requests
 * (churn), caches some results forever (a leak), and builds one big index
 * in a burst that it then drops (the peak).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

struct entry {
	char *key;
	struct entry *next;
};

NOINLINE char *parse_request(int i)
{
	char *buf = malloc(256);

	snprintf(buf, 256, "GET /item/%d HTTP/1.1", i);
	return buf;
}

NOINLINE struct entry *cache_result(struct entry *head, const char *req)
{
	struct entry *e = malloc(sizeof(*e));

	e->key = strdup(req);
	e->next = head;
	return e;
}

NOINLINE void **build_index(size_t n)
{
	void **idx = calloc(n, sizeof(*idx));

	for (size_t i = 0; i < n; i++)
		idx[i] = malloc(4096);
	return idx;
}

NOINLINE void drop_index(void **idx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(idx[i]);
	free(idx);
}

NOINLINE void serve(struct entry **cache)
{
	for (int i = 0; i < 2000; i++) {
		char *req = parse_request(i);

		if (i % 10 == 0)
			*cache = cache_result(*cache, req);
		free(req);
	}
}

int main(void)
{
	struct entry *cache = NULL;
	void **idx;

	serve(&cache);
	idx = build_index(500);
	drop_index(idx, 500);
	serve(&cache);
	printf("demo: served 4000 requests, cached %d\n", 400);
	return 0;
}
