// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "target.h"

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39
#define PF_KTHREAD 0x00200000

static int read_capeff(unsigned long long *caps)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", caps) == 1) {
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

int target__check_system(char *msg, size_t len)
{
	unsigned long long caps = 0;
	bool bpf, perfmon, admin;

	if (read_capeff(&caps) == 0) {
		admin = caps & (1ULL << CAP_SYS_ADMIN_BIT);
		bpf = admin || (caps & (1ULL << CAP_BPF_BIT));
		perfmon = admin || (caps & (1ULL << CAP_PERFMON_BIT));
		if (!bpf || !perfmon) {
			snprintf(msg, len, "need root, or CAP_BPF and CAP_PERFMON (missing:%s%s)",
				 bpf ? "" : " CAP_BPF", perfmon ? "" : " CAP_PERFMON");
			return -EPERM;
		}
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(msg, len, "this kernel has no BTF (/sys/kernel/btf/vmlinux): "
			 "heaptrace needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK)) {
		snprintf(msg, len, "this kernel has no uprobe events: "
			 "heaptrace needs CONFIG_UPROBE_EVENTS=y");
		return -ENOTSUP;
	}
	return 0;
}

/* A pidfd of the target, readable once it has exited. */
static int watch_pid(struct ht_target *t, int pid, char *msg, size_t len)
{
	int err;

	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0) {
		err = -errno;
		snprintf(msg, len, "can't watch PID %d: %s", pid, strerror(errno));
		return err;
	}
	return 0;
}

/* Fields of /proc/PID/stat after the command: state, flags. */
static int read_stat(int pid, char *comm, size_t clen, char *state, unsigned long *flags)
{
	char buf[1024], *lp, *rp;
	ssize_t n;
	int fd;

	snprintf(buf, sizeof(buf), "/proc/%d/stat", pid);
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp)
		return -EIO;
	snprintf(comm, clen, "%.*s", (int)(rp - lp - 1), lp + 1);
	/* ") S ppid pgrp session tty tpgid flags" */
	if (sscanf(rp + 1, " %c %*d %*d %*d %*d %*d %lu", state, flags) != 2)
		return -EIO;
	return 0;
}

int target__attach(struct ht_target *t, int pid, char *msg, size_t len)
{
	unsigned long flags = 0;
	char state = 0;
	int err;

	memset(t, 0, sizeof(*t));
	t->pidfd = t->go_fd = t->err_fd = -1;
	t->pid = pid;
	if (pid <= 0) {
		snprintf(msg, len, "invalid PID %d", pid);
		return -EINVAL;
	}
	err = read_stat(pid, t->command, sizeof(t->command), &state, &flags);
	if (err == -ENOENT) {
		snprintf(msg, len, "no process with PID %d", pid);
		return -ESRCH;
	}
	if (err) {
		snprintf(msg, len, "can't read /proc/%d/stat: %s", pid, strerror(-err));
		return err;
	}
	if (flags & PF_KTHREAD) {
		snprintf(msg, len, "PID %d (%s) is a kernel thread: it has no user heap", pid,
			 t->command);
		return -EINVAL;
	}
	if (state == 'Z' || state == 'X') {
		snprintf(msg, len, "PID %d (%s) has already exited", pid, t->command);
		return -ESRCH;
	}
	return watch_pid(t, pid, msg, len);
}

/* In the child, before it waits: drop root when run through sudo. */
static int drop_to_sudo_user(void)
{
	const char *uid_s = getenv("SUDO_UID"), *gid_s = getenv("SUDO_GID");
	const char *user = getenv("SUDO_USER");
	uid_t uid;
	gid_t gid;

	if (!uid_s || !gid_s || getuid() != 0)
		return 0;
	uid = (uid_t)strtoul(uid_s, NULL, 10);
	gid = (gid_t)strtoul(gid_s, NULL, 10);
	if (uid == 0)
		return 0;
	if ((user ? initgroups(user, gid) : setgroups(0, NULL)) || setgid(gid) ||
	    setuid(uid))
		return -errno;
	return 0;
}

int target__launch(struct ht_target *t, char *const argv[],
		   const struct ht_launch_opts *opts, char *msg, size_t len)
{
	int go[2], errp[2], ready[2];
	char c = 0;
	pid_t pid;
	int err;

	memset(t, 0, sizeof(*t));
	t->pidfd = t->go_fd = t->err_fd = -1;
	t->launched = true;
	snprintf(t->command, sizeof(t->command), "%s", argv[0]);
	if (pipe2(go, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(ready, O_CLOEXEC)) {
		snprintf(msg, len, "can't create pipes: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		snprintf(msg, len, "can't fork: %s", strerror(errno));
		return err;
	}
	if (pid == 0) {
		/* Child: drop privileges, say ready, wait for the probes, exec.
		 * Nothing here may allocate once the probes can see it. */
		close(go[1]);
		close(errp[0]);
		close(ready[0]);
		err = opts->run_as_root ? 0 : drop_to_sudo_user();
		if (err) {
			err = -err;
			if (write(errp[1], &err, sizeof(err)) < 0)
				_exit(126);
			_exit(126);
		}
		close(ready[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(126);
		execvp(argv[0], argv);
		err = errno;
		if (write(errp[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(errp[1]);
	close(ready[1]);
	t->pid = pid;
	/* Hold the child at its exit, to read its maps after its last call,
	 * and at each exec, to put the probes of the program it runs in place
	 * before that program's first instruction. No EXITKILL: if heaptrace
	 * dies, the child runs on. */
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC))
		t->seized = false;
	else
		t->seized = true;
	t->go_fd = go[1];
	t->err_fd = errp[0];
	/* Wait until the child has dropped privileges (EOF on ready). */
	while (read(ready[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	return watch_pid(t, pid, msg, len);
}

/* Wait until the launched child has exited, passing its stops through. */
static void wait_child(struct ht_target *t)
{
	int st;

	while (!t->exited) {
		pid_t r = waitpid(t->pid, &st, __WALL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			t->exit_status = st;
			t->exited = true;
			break;
		}
		if (WIFSTOPPED(st))
			ptrace(PTRACE_DETACH, t->pid, 0, 0);
	}
}

int target__start(struct ht_target *t, char *msg, size_t len)
{
	ssize_t n;
	int err = 0;
	char c = 1;

	/* A child that failed before waiting closed its pipe: its errno
	 * follows on err_fd either way. */
	if (write(t->go_fd, &c, 1) != 1 && errno != EPIPE) {
		err = -errno;
		snprintf(msg, len, "can't start '%s': %s", t->command, strerror(errno));
		return err;
	}
	close(t->go_fd);
	t->go_fd = -1;
	do
		n = read(t->err_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(t->err_fd);
	t->err_fd = -1;
	if (n == sizeof(err)) {
		wait_child(t);
		snprintf(msg, len, "can't execute '%s': %s", t->command, strerror(err));
		return -err;
	}
	return 0;
}

/* Handle the seized child's ptrace stops; true once it has exited. */
static bool reap_child(struct ht_target *t, const struct target_hooks *h, void *ctx)
{
	int st, sig;

	for (;;) {
		pid_t r = waitpid(t->pid, &st, WNOHANG | __WALL);

		if (r <= 0)
			return false;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			t->exit_status = st;
			t->exited = true;
			return true;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		switch (st >> 16) {
		case PTRACE_EVENT_EXIT:
			if (h && h->at_exit)
				h->at_exit(ctx);
			ptrace(PTRACE_DETACH, t->pid, 0, 0);
			t->seized = false;
			break;
		case PTRACE_EVENT_EXEC:
			/* The new program, before its first instruction. */
			if (h && h->at_exec)
				h->at_exec(ctx);
			ptrace(PTRACE_CONT, t->pid, 0, 0);
			break;
		case PTRACE_EVENT_STOP:
			/* A group stop (SIGSTOP, SIGTSTP...): stay stopped. */
			if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
				ptrace(PTRACE_LISTEN, t->pid, 0, 0);
			else
				ptrace(PTRACE_CONT, t->pid, 0, 0);
			break;
		default:
			/* A signal on its way to the child: deliver it. */
			ptrace(PTRACE_CONT, t->pid, 0, (void *)(long)sig);
			break;
		}
	}
}

bool target__check_exit(struct ht_target *t, const struct target_hooks *h, void *ctx)
{
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

	if (t->exited)
		return true;
	if (t->launched)
		return reap_child(t, h, ctx);
	if (t->pidfd < 0 || poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
		return false;
	t->exited = true;
	return true;
}

char **target__environ(const struct ht_target *t)
{
	char path[64], *buf = NULL, **v;
	size_t len = 0, cap = 0, n = 0, k = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	do {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				close(fd);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r > 0)
			len += (size_t)r;
	} while (r > 0 || (r < 0 && errno == EINTR));
	close(fd);
	if (!buf)
		return NULL;
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		n += !buf[i];
	/* One block: the pointers, then the strings. */
	v = malloc((n + 2) * sizeof(*v) + len + 1);
	if (v) {
		char *str = (char *)(v + n + 2);

		memcpy(str, buf, len + 1);
		for (size_t i = 0; i < len; i += strlen(str + i) + 1)
			v[k++] = str + i;
		v[k] = NULL;
	}
	free(buf);
	return v;
}

int target__signal(struct ht_target *t, int sig)
{
	if (!t->launched || t->exited || t->pidfd < 0)
		return -ESRCH;
	return syscall(SYS_pidfd_send_signal, t->pidfd, sig, NULL, 0) ? -errno : 0;
}

/* Let a still-running launched child go: out of its ptrace hold, not
 * waited for. */
static void release_child(struct ht_target *t)
{
	int st;

	if (!t->seized)
		return;
	ptrace(PTRACE_INTERRUPT, t->pid, 0, 0);
	for (;;) {
		pid_t r = waitpid(t->pid, &st, __WALL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			t->exited = r >= 0;
			t->exit_status = st;
			break;
		}
		if (WIFSTOPPED(st)) {
			int sig = (st >> 16) ? 0 : WSTOPSIG(st);

			if (!ptrace(PTRACE_DETACH, t->pid, 0, (void *)(long)sig))
				break;
		}
	}
	t->seized = false;
}

void target__close(struct ht_target *t)
{
	if (t->go_fd >= 0) {
		/* The child never got to exec: let it go away. */
		close(t->go_fd);
		t->go_fd = -1;
		if (!t->exited && t->launched)
			wait_child(t);
	}
	if (t->launched && !t->exited)
		release_child(t);
	if (t->err_fd >= 0)
		close(t->err_fd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->err_fd = t->pidfd = -1;
}
