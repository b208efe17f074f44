// SPDX-License-Identifier: MIT
/* Unit tests of stack interning, the maps parser and event decoding. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include "log.h"
#include "procmaps.h"
#include "stacks.h"
#include "stream.h"
#include "util.h"

static void identical_stacks_share_one_id(void **state)
{
	struct ht_stacks *s = stacks__new();
	uint64_t a[] = { 1, 2, 3 }, b[] = { 1, 2, 3 }, c[] = { 1, 2 }, d[] = { 3, 2, 1 };
	uint32_t ia, ib, ic, id, nr;

	assert_non_null(s);
	assert_int_equal(stacks__intern(s, a, 3, &ia), 0);
	assert_int_equal(stacks__intern(s, b, 3, &ib), 0);
	assert_int_equal(stacks__intern(s, c, 2, &ic), 0);
	assert_int_equal(stacks__intern(s, d, 3, &id), 0);
	assert_int_equal(ia, ib);
	assert_int_not_equal(ia, ic);
	assert_int_not_equal(ia, id);
	assert_int_equal(stacks__count(s), 3);
	assert_memory_equal(stacks__get(s, ic, &nr), c, sizeof(c));
	assert_int_equal(nr, 2);
	assert_null(stacks__get(s, 99, &nr));
	stacks__free(s);
}

static void many_stacks_keep_their_ids_across_growth(void **state)
{
	struct ht_stacks *s = stacks__new();
	uint64_t ips[4];
	uint32_t id, nr;

	for (uint32_t i = 0; i < 50000; i++) {
		ips[0] = i;
		ips[1] = i * 7;
		ips[2] = 42;
		ips[3] = i ^ 0x5555;
		assert_int_equal(stacks__intern(s, ips, 1 + i % 4, &id), 0);
		assert_int_equal(id, i);
	}
	for (uint32_t i = 0; i < 50000; i += 997) {
		const uint64_t *p = stacks__get(s, i, &nr);

		assert_int_equal(nr, 1 + i % 4);
		assert_int_equal(p[0], i);
		ips[0] = i;
		ips[1] = i * 7;
		ips[2] = 42;
		ips[3] = i ^ 0x5555;
		assert_int_equal(stacks__intern(s, ips, 1 + i % 4, &id), 0);
		assert_int_equal(id, i);
	}
	stacks__free(s);
}

static void empty_stack_is_a_stack(void **state)
{
	struct ht_stacks *s = stacks__new();
	uint32_t a, b, nr = 7;

	assert_int_equal(stacks__intern(s, NULL, 0, &a), 0);
	assert_int_equal(stacks__intern(s, NULL, 0, &b), 0);
	assert_int_equal(a, b);
	assert_non_null(stacks__get(s, a, &nr));
	assert_int_equal(nr, 0);
	stacks__free(s);
}

static void maps_line_with_path_parses(void **state)
{
	char line[] = "7f1b28683000-7f1b286a9000 r-xp 00028000 fe:00 1049083    "
		      "/usr/lib/x86_64-linux-gnu/libc.so.6\n";
	struct ht_map m;

	assert_int_equal(procmaps__parse_line(line, &m), 0);
	assert_int_equal(m.start, 0x7f1b28683000ULL);
	assert_int_equal(m.end, 0x7f1b286a9000ULL);
	assert_int_equal(m.offset, 0x28000);
	assert_int_equal(m.dev_major, 0xfe);
	assert_int_equal(m.dev_minor, 0);
	assert_int_equal(m.inode, 1049083);
	assert_true(m.exec);
	assert_true(m.read);
	assert_string_equal(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_true(procmaps__is_file(&m));
}

static void maps_anonymous_and_special_lines_are_not_files(void **state)
{
	char anon[] = "7ffd1000-7ffd2000 rw-p 00000000 00:00 0 ";
	char heap[] = "55d0c000-55d2d000 rw-p 00000000 00:00 0                          [heap]";
	struct ht_map m;

	assert_int_equal(procmaps__parse_line(anon, &m), 0);
	assert_false(procmaps__is_file(&m));
	assert_string_equal(m.path, "");
	assert_int_equal(procmaps__parse_line(heap, &m), 0);
	assert_false(procmaps__is_file(&m));
	assert_false(m.exec);
}

static void maps_deleted_path_keeps_suffix(void **state)
{
	char line[] = "400000-401000 r-xp 00000000 08:01 77 /tmp/app (deleted)";
	struct ht_map m;

	assert_int_equal(procmaps__parse_line(line, &m), 0);
	assert_string_equal(m.path, "/tmp/app (deleted)");
}

static void maps_malformed_lines_are_rejected(void **state)
{
	const char *bad[] = {
		"", "zzzz", "1000-", "1000-2000", "2000-1000 r-xp 0 00:00 0",
		"1000-2000 r-x 0 00:00 0", "1000-2000 r-xp zz 00:00 0",
		"1000-2000 r-xp 0 00 0", "1000-2000 r-xp 0 00:00 x",
		"1000-2000 r-xp 0 fffffffff:00 1 /a",
		"ffffffffffffffffffff-1 r-xp 0 00:00 0",
	};
	struct ht_map m;
	char buf[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		assert_int_equal(procmaps__parse_line(buf, &m), -EINVAL);
	}
}

struct seen {
	int allocs, frees, execs;
	uint64_t last_addr;
	uint16_t last_nr;
};

static int on_alloc(void *ctx, const struct ht_alloc_event *e)
{
	struct seen *s = ctx;

	s->allocs++;
	s->last_addr = e->addr;
	s->last_nr = e->nr_ips;
	return 0;
}

static int on_free(void *ctx, const struct ht_free_event *e)
{
	((struct seen *)ctx)->frees++;
	return 0;
}

static int on_exec(void *ctx, const struct ht_event_hdr *h)
{
	((struct seen *)ctx)->execs++;
	return 0;
}

static const struct ht_stream_ops ops = { .on_alloc = on_alloc, .on_free = on_free, .on_exec = on_exec };

static void decode_accepts_well_formed_records(void **state)
{
	struct ht_alloc_event a = { .hdr.type = HT_EV_ALLOC, .addr = 0x1234, .nr_ips = 3 };
	struct ht_free_event f = { .hdr.type = HT_EV_FREE, .addr = 0x1234 };
	struct ht_event_hdr x = { .type = HT_EV_EXEC };
	struct seen s = {};

	assert_int_equal(stream__decode(&a, HT_ALLOC_EVENT_SIZE(3), &ops, &s), 0);
	assert_int_equal(stream__decode(&f, sizeof(f), &ops, &s), 0);
	assert_int_equal(stream__decode(&x, sizeof(x), &ops, &s), 0);
	assert_int_equal(s.allocs, 1);
	assert_int_equal(s.last_addr, 0x1234);
	assert_int_equal(s.last_nr, 3);
	assert_int_equal(s.frees, 1);
	assert_int_equal(s.execs, 1);
	/* --mmap records go to their own handlers, never on_alloc */
	a.hdr.type = HT_EV_MMAP;
	assert_int_equal(stream__decode(&a, HT_ALLOC_EVENT_SIZE(3), &ops, &s), 0);
	assert_int_equal(s.allocs, 1);
}

static void decode_rejects_truncated_and_unknown_records(void **state)
{
	struct ht_alloc_event a = { .hdr.type = HT_EV_ALLOC, .nr_ips = 3 };
	struct ht_free_event f = { .hdr.type = HT_EV_FREE };
	struct ht_event_hdr x = { .type = 99 };
	struct ht_map_event c = { .hdr.type = HT_EV_MAP_CHANGE };
	struct seen s = {};

	assert_int_equal(stream__decode(&a, HT_ALLOC_EVENT_SIZE(2), &ops, &s), -EBADMSG);
	a.nr_ips = HT_MAX_FRAMES + 1;
	assert_int_equal(stream__decode(&a, sizeof(a), &ops, &s), -EBADMSG);
	assert_int_equal(stream__decode(&f, sizeof(f) - 1, &ops, &s), -EBADMSG);
	assert_int_equal(stream__decode(&x, sizeof(x), &ops, &s), -EBADMSG);
	assert_int_equal(stream__decode(&x, 3, &ops, &s), -EBADMSG);
	assert_int_equal(stream__decode(&c, sizeof(c) - 1, &ops, &s), -EBADMSG);
	a.hdr.type = HT_EV_MMAP;
	assert_int_equal(stream__decode(&a, HT_ALLOC_EVENT_SIZE(2), &ops, &s), -EBADMSG);
	assert_int_equal(s.allocs + s.frees + s.execs, 0);
}

/* Every key, 0 and ~0 too, keeps its value across growth. */
static void u64map_keeps_every_key_across_growth(void **state)
{
	struct ht_u64map m = { 0 };
	uint64_t *v;
	bool added;

	assert_null(u64map__find(&m, 0));
	assert_null(u64map__find(&m, 42));
	for (uint64_t k = 0; k < 5000; k++) {
		v = u64map__insert(&m, k * 0x10000, &added);
		assert_non_null(v);
		assert_true(added);
		*v = k + 7;
	}
	v = u64map__insert(&m, UINT64_MAX, &added);
	assert_true(added);
	*v = 1;
	assert_int_equal(u64map__count(&m), 5001);
	for (uint64_t k = 0; k < 5000; k++) {
		v = u64map__insert(&m, k * 0x10000, &added);
		assert_false(added);
		assert_int_equal(*v, k + 7);
		assert_int_equal(*u64map__find(&m, k * 0x10000), k + 7);
	}
	assert_int_equal(*u64map__find(&m, UINT64_MAX), 1);
	assert_null(u64map__find(&m, 0x10001));
	u64map__clear(&m);
	assert_int_equal(u64map__count(&m), 0);
	assert_null(u64map__find(&m, 0));
	assert_null(u64map__find(&m, 0x10000));
	u64map__free(&m);
	(void)state;
}

/* One copy and one dense id per string, compared whole (a prefix or a
 * longer string is another). */
static void strtab_interns_each_string_once(void **state)
{
	struct ht_strtab t = { 0 };
	char buf[32];
	uint32_t id;

	for (int i = 0; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "name%d", i);
		assert_int_equal(strtab__intern(&t, buf, strlen(buf), &id), 0);
		assert_int_equal(id, i);
	}
	assert_int_equal(strtab__intern(&t, "name12", 6, &id), 0);
	assert_int_equal(id, 12);
	assert_int_equal(strtab__intern(&t, "name123456", 6, &id), 0);
	assert_int_equal(id, 12);
	assert_int_equal(strtab__intern(&t, "name1", 5, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(strtab__intern(&t, "", 0, &id), 0);
	assert_int_equal(id, 3000);
	assert_ptr_equal(strtab__str(&t, "name7"), t.v[7]);
	assert_string_equal(strtab__str(&t, "name2999"), "name2999");
	assert_int_equal(t.n, 3001);
	strtab__free(&t);
	(void)state;
}

static void *level_in_thread(void *arg)
{
	*(enum ht_log_level *)arg = ht_log_get_level();
	return NULL;
}

/* A session's log level holds in its calls only, on its thread only:
 * sessions nest (an observer calling another session) and restore. */
static void log_level_is_the_current_sessions(void **state)
{
	const struct ht_log debug = { ht_log_level_of(2) }, quiet = { ht_log_level_of(0) };
	const struct ht_log *outer, *inner;
	enum ht_log_level other = HT_LOG_DEBUG;
	pthread_t t;

	assert_int_equal(ht_log_get_level(), HT_LOG_WARN);
	assert_int_equal(ht_log_level_of(1), HT_LOG_INFO);
	outer = ht_log_enter(&debug);
	assert_null(outer);
	assert_int_equal(ht_log_get_level(), HT_LOG_DEBUG);
	assert_int_equal(pthread_create(&t, NULL, level_in_thread, &other), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(other, HT_LOG_WARN);
	inner = ht_log_enter(&quiet);
	assert_ptr_equal(inner, &debug);
	assert_int_equal(ht_log_get_level(), HT_LOG_WARN);
	ht_log_leave(inner);
	assert_int_equal(ht_log_get_level(), HT_LOG_DEBUG);
	ht_log_leave(outer);
	assert_int_equal(ht_log_get_level(), HT_LOG_WARN);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identical_stacks_share_one_id),
		cmocka_unit_test(many_stacks_keep_their_ids_across_growth),
		cmocka_unit_test(empty_stack_is_a_stack),
		cmocka_unit_test(u64map_keeps_every_key_across_growth),
		cmocka_unit_test(strtab_interns_each_string_once),
		cmocka_unit_test(log_level_is_the_current_sessions),
		cmocka_unit_test(maps_line_with_path_parses),
		cmocka_unit_test(maps_anonymous_and_special_lines_are_not_files),
		cmocka_unit_test(maps_deleted_path_keeps_suffix),
		cmocka_unit_test(maps_malformed_lines_are_rejected),
		cmocka_unit_test(decode_accepts_well_formed_records),
		cmocka_unit_test(decode_rejects_truncated_and_unknown_records),
	};

	return cmocka_run_group_tests_name("stacks, maps, events", tests, NULL, NULL);
}
