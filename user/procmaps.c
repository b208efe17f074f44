// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "procmaps.h"

static int parse_hex(char **s, uint64_t *out, char stop)
{
	char *end;

	errno = 0;
	*out = strtoull(*s, &end, 16);
	if (end == *s || errno || *end != stop)
		return -EINVAL;
	*s = end + 1;
	return 0;
}

int procmaps__parse_line(char *line, struct ht_map *m)
{
	char *s = line, *nl, *end;
	uint64_t maj, min;

	memset(m, 0, sizeof(*m));
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	if (parse_hex(&s, &m->start, '-') || parse_hex(&s, &m->end, ' '))
		return -EINVAL;
	if (m->end < m->start || strlen(s) < 5 || s[4] != ' ')
		return -EINVAL;
	m->read = s[0] == 'r';
	m->exec = s[2] == 'x';
	s += 5;
	if (parse_hex(&s, &m->offset, ' ') || parse_hex(&s, &maj, ':') ||
	    parse_hex(&s, &min, ' '))
		return -EINVAL;
	if (maj > 0xfffff || min > 0xfffff)
		return -EINVAL;
	m->dev_major = maj;
	m->dev_minor = min;
	errno = 0;
	m->inode = strtoull(s, &end, 10);
	if (end == s || errno || (*end != ' ' && *end != '\0'))
		return -EINVAL;
	while (*end == ' ')
		end++;
	m->path = end;
	return 0;
}

bool procmaps__is_file(const struct ht_map *m)
{
	return m->inode != 0 && m->path[0] == '/';
}

int procmaps__foreach(int pid, int (*cb)(const struct ht_map *m, void *ctx), void *ctx)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	struct ht_map m;
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (procmaps__parse_line(line, &m))
			continue;
		err = cb(&m, ctx);
		if (err)
			break;
	}
	free(line);
	fclose(f);
	return err;
}
