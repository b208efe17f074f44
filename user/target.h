/* SPDX-License-Identifier: MIT */
/*
 * The traced process: attaching to a running one, or launching a command
 * held back until the probes are in place; noticing its exit.
 */
#ifndef HEAPTRACE_TARGET_H
#define HEAPTRACE_TARGET_H

#include <stdbool.h>

struct ht_target {
	int pid;
	int pidfd;           /* readable once the process has exited */
	bool launched;
	bool seized;         /* launch: held at exit through ptrace */
	bool exited;
	int exit_status;     /* wait status, launch mode only */
	char command[256];   /* comm, or the launched argv[0] */
	int go_fd;           /* launch: write a byte to let the child exec */
	int err_fd;          /* launch: the child's exec errno, or EOF */
};

struct ht_launch_opts {
	bool run_as_root;    /* under sudo, keep root for the command */
};

/*
 * Check that heaptrace can trace at all: privileges (root, or CAP_BPF and
 * CAP_PERFMON), a kernel with BTF and uprobes. Returns 0, or -EPERM /
 * -ENOTSUP with a one-line message written into msg.
 */
int target__check_system(char *msg, size_t len);

/* Attach to a running process. -ESRCH (no such process), -EINVAL (a
 * kernel thread or zombie), -errno; msg gets a one-line reason. */
int target__attach(struct ht_target *t, int pid, char *msg, size_t len);

/* Fork a child for argv that waits until target__start(). */
int target__launch(struct ht_target *t, char *const argv[],
		   const struct ht_launch_opts *opts, char *msg, size_t len);

/* Let the launched child exec; -errno (with msg) when exec failed. */
int target__start(struct ht_target *t, char *msg, size_t len);

/* What runs while a launched child is held (NULL: nothing). */
struct target_hooks {
	void (*at_exit)(void *ctx);  /* its exit stop: its memory map still exists */
	void (*at_exec)(void *ctx);  /* it has exec'd: the new program has not run yet */
};

/*
 * Has the process exited? Non-blocking; fills exited/exit_status.
 *
 * A launched child is held at its exit (ptrace's exit stop, while its
 * memory map still exists) so that its modules can be read after its last
 * allocation: h->at_exit(ctx) runs there, then the child finishes exiting;
 * and after each execve, before the new program runs: h->at_exec(ctx).
 * Signals the child receives are passed on unchanged.
 */
bool target__check_exit(struct ht_target *t, const struct target_hooks *h, void *ctx);

/* Stop waiting for the child (if it never ran) and close fds. */
/* The process's environment now (/proc/PID/environ), NULL-terminated, in
 * one malloc'd block (free() it); NULL if unreadable. */
char **target__environ(const struct ht_target *t);

/* Send sig to a launched command that still runs. 0 or -errno (-ESRCH:
 * not launched, or gone). */
int target__signal(struct ht_target *t, int sig);

void target__close(struct ht_target *t);

#endif
