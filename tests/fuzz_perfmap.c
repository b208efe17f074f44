// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the perf map line parser:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iuser \
 *         tests/fuzz_perfmap.c user/perfmap.c -o fuzz_perfmap
 *   ./fuzz_perfmap -max_total_time=60
 *
 * Every input is one line (NUL-terminated copy); an accepted line must
 * describe a sane region and a name inside the line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	const char *name;
	uint64_t start, len;
	size_t nlen;
	int err;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	err = perfmap__parse_line(line, &start, &len, &name, &nlen);
	if (err != 0 && err != -EINVAL && err != -ERANGE)
		abort();
	if (!err && (!len || len > HT_PERFMAP_MAX_SIZE || start + len < start || !nlen ||
		     name < line || name + nlen > line + strlen(line) || memchr(name, '\n', nlen)))
		abort();
	free(line);
	return 0;
}
