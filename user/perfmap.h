/* SPDX-License-Identifier: MIT */
/*
 * Perf map files: JIT compilers (V8/node --perf-basic-prof, the JVM with
 * perf-map-agent, LuaJIT, .NET, Python 3.12 -X perf...) name the code they
 * generate in /tmp/perf-PID.map, one "START SIZE name" line per region,
 * START and SIZE in hex without 0x. The file is written by the target, so
 * every line is parsed defensively and bounded.
 */
#ifndef HEAPTRACE_PERFMAP_H
#define HEAPTRACE_PERFMAP_H

#include <stddef.h>
#include <stdint.h>

/* A line longer than this (name included) is skipped whole. */
#define HT_PERFMAP_MAX_LINE 8192
/* Names are cut to this many bytes when stored. */
#define HT_PERFMAP_MAX_NAME 1024
/* A region larger than this is not code: the line is rejected. */
#define HT_PERFMAP_MAX_SIZE (1ULL << 32)
/* Lines and bytes read from one file at most. */
#define HT_PERFMAP_MAX_ENTRIES (1U << 22)
#define HT_PERFMAP_MAX_BYTES (512U << 20)

/*
 * Parse one line, "START SIZE name" (with or without its newline; START
 * and SIZE hex, an optional 0x accepted; blanks are spaces or tabs; the
 * name is the rest of the line without trailing blanks, CR or LF and may
 * contain blanks). On success *name points into line and is *name_len
 * bytes long (not NUL-terminated). Returns 0, -EINVAL for a malformed line
 * (no name, bad number, more than 16 digits), -ERANGE for a size of 0 or
 * over HT_PERFMAP_MAX_SIZE or a region that wraps around.
 */
int perfmap__parse_line(const char *line, uint64_t *start, uint64_t *size, const char **name,
			size_t *name_len);

struct ht_perfmap;

/*
 * The perf map of process pid: /proc/PID/root/tmp/perf-NSPID.map (the
 * target's own /tmp, with its pid as its namespace sees it), or
 * /tmp/perf-PID.map when the target is gone. Nothing is read yet.
 */
struct ht_perfmap *perfmap__new(int pid);

/* A perf map read from path, shown as display (tests, tools). */
struct ht_perfmap *perfmap__open(const char *path, const char *display);

void perfmap__free(struct ht_perfmap *pm);

/*
 * The name of the region containing addr (the last line that covers it
 * wins, as JITs reuse addresses), or NULL. The file is (re)read when it
 * was never read or has changed since, so code generated late is found;
 * malformed lines are skipped, and so is a last line without its newline
 * (still being written: its name could be cut short).
 * The name (NUL-terminated, control characters replaced by '?') stays
 * valid until the next perfmap__lookup() or perfmap__free().
 */
const char *perfmap__lookup(struct ht_perfmap *pm, uint64_t addr);

/* The file as the target names it, e.g. "/tmp/perf-1234.map". */
const char *perfmap__display(const struct ht_perfmap *pm);

/* Entries held after the last read. */
size_t perfmap__count(const struct ht_perfmap *pm);

#endif
