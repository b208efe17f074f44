/* SPDX-License-Identifier: MIT */
/*
 * The CLI's report files: which formats, where, under which names, and
 * written so that a file appears whole or not at all.
 */
#ifndef HEAPTRACE_CLI_OUTPUT_H
#define HEAPTRACE_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include "heaptrace.h"

enum {
	OUT_TEXT = 1 << HT_FORMAT_TEXT,
	OUT_JSON = 1 << HT_FORMAT_JSON,
	OUT_FOLDED = 1 << HT_FORMAT_FOLDED,
	OUT_SVG = 1 << HT_FORMAT_SVG,
	OUT_PPROF = 1 << HT_FORMAT_PPROF,
	OUT_DHAT = 1 << HT_FORMAT_DHAT,
};

/* Parse "text,json,svg" into a mask of OUT_*; on -EINVAL, *bad and
 * *badlen delimit the unknown name in list. */
int output__parse_formats(const char *list, unsigned int *mask, const char **bad,
			  int *badlen);

struct output {
	const char *dir;        /* where snapshot files go */
	unsigned int formats;   /* OUT_* */
	unsigned int keep;      /* keep the last N periodic snapshots (0: all) */
	int pid;
	const struct ht_report_opts *report;   /* options of every file, or NULL */
	unsigned int seq;       /* last periodic snapshot written */
	unsigned int errors;    /* files that could not be written */
	unsigned int written;   /* files of the last snapshot written */
};

/* Create dir (and its parents) if missing and check that files can be
 * created there. 0, or -errno with a one-line msg. */
int output__prepare_dir(const char *dir, char *msg, size_t len);

/* Under sudo (SUDO_UID/SUDO_GID set, running as root), give the file to
 * the invoking user; best effort. */
void output__give_to_sudo_user(int fd);

/*
 * Write one snapshot in every chosen format: "heaptrace-PID-SEQ.EXT"
 * (seq zero-padded) or, with final, "heaptrace-PID-final.EXT". Each file
 * goes to a temporary name in dir and is renamed into place: no partial
 * files, and a symlink planted at the name is replaced, never followed.
 * Errors are reported on stderr and counted; the caller traces on.
 * Returns 0 or the first -errno.
 */
int output__snapshot(struct output *o, struct ht_session *s, bool final);

/* One report in memory (*buf malloc'ed, *n bytes). 0 or -errno. */
int output__render(struct ht_session *s, enum ht_format fmt, const struct ht_report_opts *opts,
		   char **buf, size_t *n);

/* Write one report to path as cli_dest.h says (dest_flags: DEST_*);
 * errors are reported on stderr. 0 or -errno. */
int output__write_file(const char *path, unsigned int dest_flags, struct ht_session *s,
		       enum ht_format fmt, const struct ht_report_opts *opts);

#endif
