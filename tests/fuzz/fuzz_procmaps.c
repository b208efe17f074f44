// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: procmaps__parse_line(), the /proc/PID/maps line parser.
 * The input is one line (it may hold anything, NULs and newlines too).
 * On success the result must describe a sane mapping whose path points
 * into the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	struct ht_map m;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (procmaps__parse_line(line, &m) == 0) {
		size_t len = strlen(line);

		if (m.end < m.start || m.dev_major > 0xfffff || m.dev_minor > 0xfffff)
			abort();
		if (!m.path || m.path < line || m.path > line + len)
			abort();
		if (strchr(m.path, '\n'))
			abort();
		(void)procmaps__is_file(&m);
	}
	free(line);
	return 0;
}
