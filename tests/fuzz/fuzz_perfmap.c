// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the perf map parser (user/perfmap.c), which reads
 * /tmp/perf-PID.map files written by the target - untrusted input.
 * The input is both one line for perfmap__parse_line() and a whole file
 * for perfmap__open() + perfmap__lookup().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static int fd = -1;

static void remove_file(void)
{
	unlink(path);
}

static void check_line(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	uint64_t start, len;
	const char *name;
	size_t name_len;
	int err;

	if (!line)
		return;
	memcpy(line, data, size);
	line[size] = '\0';
	err = perfmap__parse_line(line, &start, &len, &name, &name_len);
	if (err == 0) {
		if (!len || len > HT_PERFMAP_MAX_SIZE || start + len < start)
			abort();
		if (name < line || name + name_len > line + strlen(line) || !name_len)
			abort();
	} else if (err != -EINVAL && err != -ERANGE) {
		abort();
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ht_perfmap *pm;
	uint64_t probe = 0;

	check_line(data, size);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/tmp/heaptrace-fuzz-perfmap-%d.map", (int)getpid());
		unlink(path);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			abort();
		atexit(remove_file);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	pm = perfmap__open(path, "fuzz.map");
	if (!pm)
		abort();
	/* addresses from the input itself, and some fixed ones */
	for (size_t i = 0; i + 8 <= size && i < 64; i += 8)
		memcpy(&probe, data + i, 8), (void)perfmap__lookup(pm, probe);
	(void)perfmap__lookup(pm, 0);
	(void)perfmap__lookup(pm, 0x1000);
	(void)perfmap__lookup(pm, UINT64_MAX);
	for (size_t i = 0; i < perfmap__count(pm) && i < 4; i++) {
		const char *name = perfmap__lookup(pm, 0x400000 + i);

		if (name && strlen(name) > HT_PERFMAP_MAX_NAME)
			abort();
	}
	perfmap__free(pm);
	return 0;
}
