/* SPDX-License-Identifier: MIT */
/*
 * Where a report or recording goes: what an output path names, whether it
 * can be written, and how to write it without harming what is there.
 *
 *  - a regular file, or no file yet: written to a temporary file beside it
 *    and renamed into place (the file appears whole or not at all);
 *  - a character device, a FIFO or a Unix socket: opened (connected) and
 *    written in place, never replaced;
 *  - an inherited descriptor (/dev/stdout, /dev/stderr, /dev/fd/N,
 *    /proc/self/fd/N): written through that descriptor;
 *  - a symbolic link: followed only with DEST_FOLLOW, and then only where
 *    the kernel's protected_symlinks rule would follow it (outside a
 *    sticky world-writable directory, or owned by the directory's owner or
 *    by the invoking user); a link that is not followed is replaced;
 *  - a directory or a block device: refused.
 *
 * No missing directory is created. Messages are one line, without the
 * "heaptrace: " prefix, and name the path as the user gave it.
 */
#ifndef HEAPTRACE_CLI_DEST_H
#define HEAPTRACE_CLI_DEST_H

#include <limits.h>
#include <stddef.h>

enum dest_kind {
	DEST_FILE,    /* regular file or none yet: temporary file + rename */
	DEST_INPLACE, /* character device or FIFO */
	DEST_SOCKET,  /* Unix stream socket */
	DEST_FD,      /* inherited descriptor */
};

enum dest_flags {
	DEST_FOLLOW = 1 << 0, /* follow trusted symlinks (a path the user named) */
};

struct dest {
	enum dest_kind kind;
	int fd;                /* DEST_FD: the descriptor */
	const char *shown;     /* the path as given, for messages */
	char path[PATH_MAX];   /* what is opened, or renamed over */
};

/* What path names now. 0, or -errno with msg set. */
int dest__resolve(const char *path, unsigned int flags, struct dest *d, char *msg, size_t len);

/*
 * Can d be written? For a file: a temporary file can be created beside it
 * (so a read-only directory or file system is found before tracing). For
 * a device, FIFO or socket: write permission (nothing is opened: opening a
 * FIFO would show its reader an end of file). 0, or -errno with msg set.
 */
int dest__check(const struct dest *d, char *msg, size_t len);

/* Write buf to d as one report. 0, or -errno with msg set. */
int dest__write(const struct dest *d, const void *buf, size_t n, char *msg, size_t len);

/*
 * Open d for a stream of writes (a recording): a regular file is created
 * or truncated in place. Returns the descriptor, or -errno with msg set.
 */
int dest__open_stream(const struct dest *d, char *msg, size_t len);

/* Write all of buf to fd; 0 or -errno (EINTR retried). */
int dest__write_all(int fd, const void *buf, size_t n);

/* The cause of a failed write as a user reads it ("broken pipe: ..."). */
const char *dest__strerror(int err);

#endif
