/* SPDX-License-Identifier: MIT */
/* Parser for /proc/PID/maps. */
#ifndef HEAPTRACE_PROCMAPS_H
#define HEAPTRACE_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ht_map {
	uint64_t start, end;  /* [start, end) */
	uint64_t offset;      /* file offset of start */
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	bool exec, read;
	const char *path;     /* points into the parsed line; "" if anonymous */
};

/*
 * Parse one line of /proc/PID/maps (without or with its newline, which is
 * cut off in place). Returns 0 or -EINVAL for a malformed line.
 */
int procmaps__parse_line(char *line, struct ht_map *m);

/* A mapping backed by a regular file: not anonymous, [heap], [vdso]... */
bool procmaps__is_file(const struct ht_map *m);

/*
 * Call cb for each mapping of process pid, in address order; stops at the
 * first non-zero return of cb and returns it. Returns -errno when the
 * maps file cannot be read.
 */
int procmaps__foreach(int pid, int (*cb)(const struct ht_map *m, void *ctx), void *ctx);

#endif
