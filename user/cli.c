// SPDX-License-Identifier: MIT
/*
 * heaptrace command line: check the outputs and the target, run a session
 * until the target ends (or Ctrl-C, SIGTERM, --duration), writing
 * periodic snapshots if asked, then the final reports. The options are
 * cli_args.c's. Uses only libheaptrace's public API.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli_args.h"
#include "cli_dest.h"
#include "cli_output.h"
#include "heaptrace.h"

/*
 * Every destination is checked before the first probe goes in: an hour of
 * tracing is not lost to a read-only directory found at the end. The
 * recording is opened now (it is written from the first event on).
 */
static int check_outputs(struct config *cfg)
{
	char msg[PATH_MAX + 256];
	struct dest d;
	int fd;

	if (cfg->json_path && strcmp(cfg->json_path, "-") &&
	    (dest__resolve(cfg->json_path, DEST_FOLLOW, &d, msg, sizeof(msg)) ||
	     dest__check(&d, msg, sizeof(msg))))
		goto fail;
	if (cfg->formats && output__prepare_dir(cfg->output_dir, msg, sizeof(msg)))
		goto fail;
	if (cfg->record_path) {
		if (dest__resolve(cfg->record_path, DEST_FOLLOW, &d, msg, sizeof(msg)))
			goto fail;
		fd = dest__open_stream(&d, msg, sizeof(msg));
		if (fd < 0)
			goto fail;
		cfg->session.record_fd = fd;
	}
	return 0;
fail:
	fprintf(stderr, "heaptrace: %s\n", msg);
	return EXIT_USAGE;
}

/* A field of /proc/PID/status as a number; -1 if unreadable. */
static long status_field(int pid, const char *name)
{
	char path[64], line[256];
	size_t len = strlen(name);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The command name of pid ("?" if unreadable). */
static void comm_of(int pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "?");
	else
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

/* -p names a process; a thread's ID means its process, heaptrace itself
 * is refused. */
static int resolve_pid(struct config *cfg)
{
	int pid = cfg->session.pid;
	long tgid = status_field(pid, "Tgid");
	char comm[64];

	if (tgid > 0 && tgid != pid) {
		comm_of((int)tgid, comm, sizeof(comm));
		fprintf(stderr, "heaptrace: %d is a thread of PID %ld (%s): tracing that process\n",
			pid, tgid, comm);
		pid = (int)tgid;
		cfg->session.pid = pid;
	}
	if (pid == getpid()) {
		fprintf(stderr, "heaptrace: can't trace heaptrace itself (PID %d)\n", pid);
		return EXIT_USAGE;
	}
	return 0;
}

/* A debugger's breakpoint on a probed function is written back over the
 * uprobe's int3 when removed later: the target then dies of SIGTRAP. */
static void warn_if_traced(int pid)
{
	long tracer = status_field(pid, "TracerPid");
	char comm[64];

	if (tracer <= 0 || tracer == getpid())
		return;
	comm_of((int)tracer, comm, sizeof(comm));
	fprintf(stderr, "heaptrace: warning: PID %d is traced by PID %ld (%s): a breakpoint it sets "
		"on an allocator function while heaptrace is attached and removes after heaptrace "
		"has left kills the target with SIGTRAP; remove such breakpoints before heaptrace "
		"detaches\n", pid, tracer, comm);
}

static int setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How long a launched command may take to exit after -d's SIGTERM. */
#define TERM_GRACE_S 10

enum sig_action { SIG_NONE = 0, SIG_STOP = 1, SIG_SNAPSHOT = 2 };

static int read_signals(int sfd)
{
	struct signalfd_siginfo si;
	int act = SIG_NONE;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
			act |= SIG_STOP;
		else if (si.ssi_signo == SIGUSR1)
			act |= SIG_SNAPSHOT;
	}
	return act;
}

/* Trace until the target ends, a signal, or the duration; write periodic
 * snapshots on the way. */
static int run_loop(struct ht_session *s, const struct config *cfg, struct output *out,
		    int sfd)
{
	double start = mono_s();
	double deadline = cfg->duration_s > 0 ? start + cfg->duration_s : 0;
	double next_snap = cfg->interval_s > 0 ? start + cfg->interval_s : 0;
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];
	struct ht_target_info ti;
	bool grace = false;
	int ep, err = 0;

	ht_session_target_info(s, &ti);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = ht_session_fd(s);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);

	while (!ht_session_target_done(s)) {
		double now = mono_s(), wake = now + 0.05;
		int act;

		if (deadline && now >= deadline) {
			if (!ti.launched || grace)
				break;
			/* A launched command ends with the trace, as under timeout(1):
			 * asked to stop, and traced to its exit. */
			if (ht_session_signal_target(s, SIGTERM))
				break;
			fprintf(stderr, "heaptrace: --duration reached: sent SIGTERM to PID %d (%s), "
				"tracing its exit for up to %d s\n", ti.pid, ti.command,
				TERM_GRACE_S);
			grace = true;
			deadline = now + TERM_GRACE_S;
			continue;
		}
		if (deadline && deadline < wake)
			wake = deadline;
		if (next_snap && next_snap < wake)
			wake = next_snap;
		if (epoll_wait(ep, evs, 4, (int)((wake - now) * 1000) + 1) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		act = read_signals(sfd);
		err = ht_session_poll(s, 0);
		if (err || (act & SIG_STOP))
			break;
		if ((act & SIG_SNAPSHOT) && !out->formats)
			fprintf(stderr, "heaptrace: SIGUSR1 asks for a snapshot, but no -f/--format "
				"was given\n");
		if (out->formats && ((act & SIG_SNAPSHOT) || (next_snap && mono_s() >= next_snap))) {
			output__snapshot(out, s, false);
			while (next_snap && next_snap <= mono_s())
				next_snap += cfg->interval_s;
		}
	}
	close(ep);
	if (grace && !ht_session_target_done(s))
		fprintf(stderr, "heaptrace: PID %d (%s) still runs %d s after SIGTERM: left running "
			"untraced\n", ti.pid, ti.command, TERM_GRACE_S);
	return err;
}

/* One report to stdout. A reader that went away (`| head`) is not an
 * error to print: *broken_pipe tells main to end as other tools do. */
static int write_stdout(struct ht_session *s, enum ht_format fmt,
			const struct ht_report_opts *ro, bool stdout_closed, bool *broken_pipe)
{
	char *buf;
	size_t n;
	int err;

	if (stdout_closed) {
		fprintf(stderr, "heaptrace: can't write the report to stdout: it is closed\n");
		return -EBADF;
	}
	err = output__render(s, fmt, ro, &buf, &n);
	if (!err) {
		err = dest__write_all(STDOUT_FILENO, buf, n);
		free(buf);
	}
	if (err == -EPIPE)
		*broken_pipe = true;
	else if (err)
		fprintf(stderr, "heaptrace: can't write the report to stdout: %s\n",
			dest__strerror(err));
	return err;
}

static int write_reports(struct ht_session *s, const struct config *cfg, struct output *out,
			 bool *broken_pipe)
{
	const struct ht_report_opts *ro = &cfg->report;
	bool json_stdout = cfg->json_path && !strcmp(cfg->json_path, "-");
	int err = 0, e;

	if (cfg->json_path) {
		if (json_stdout)
			err = write_stdout(s, HT_FORMAT_JSON, ro, cfg->stdout_closed, broken_pipe);
		else
			err = output__write_file(cfg->json_path, DEST_FOLLOW, s, HT_FORMAT_JSON,
						 ro);
	}
	if (out->formats) {
		e = output__snapshot(out, s, true);
		err = err ? err : e;
		/* where the files are: the report on stdout does not say */
		if (out->written)
			fprintf(stderr, "heaptrace: wrote %u file%s in %s: heaptrace-%d-final.*\n",
				out->written, out->written == 1 ? "" : "s", out->dir, out->pid);
	}
	if (!json_stdout && !*broken_pipe) {
		e = write_stdout(s, HT_FORMAT_TEXT, ro, cfg->stdout_closed, broken_pipe);
		err = err ? err : e;
	}
	e = ht_session_record_error(s);
	if (e) {
		fprintf(stderr, "heaptrace: can't write the recording '%s': %s (it stopped there)\n",
			cfg->record_path, dest__strerror(e));
		err = err ? err : e;
	}
	return err;
}

static int exit_for(int err)
{
	switch (err) {
	case -EINVAL:
	case -ESRCH:
	case -ENOENT:
	case -EPERM:
	case -EACCES:
	case -ENOEXEC:
	case -ENOTDIR:
		return EXIT_USAGE;
	default:
		return EXIT_FAILURE_RT;
	}
}

int main(int argc, char **argv)
{
	struct config cfg = {};
	struct output out = {};
	struct ht_target_info ti;
	struct ht_session *s;
	bool broken_pipe = false;
	char msg[512] = "";
	int sfd, err, rc;

	/* A closed stdout or stderr would be taken by the next file opened,
	 * and reports written into it: hold the slots (writes then fail). */
	cfg.stdout_closed = fcntl(STDOUT_FILENO, F_GETFD) < 0;
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDONLY | O_CLOEXEC) != fd)
			return EXIT_FAILURE_RT;
	rc = cli_args__parse(argc, argv, &cfg);
	if (rc)
		return rc;
	cfg.session.verbosity = cfg.verbosity;
	if (cfg.session.pid) {
		rc = resolve_pid(&cfg);
		if (rc)
			return rc;
	}
	/* Found out now, not after hours of tracing. */
	rc = check_outputs(&cfg);
	if (rc)
		return rc;

	/* Open: find the target and its allocator, load the BPF programs. A
	 * command to launch is forked here, before heaptrace blocks and
	 * ignores signals: it starts with the signal mask and dispositions
	 * heaptrace was given. */
	s = ht_session_open(&cfg.session, msg, sizeof(msg), &err);
	if (!s) {
		fprintf(stderr, "heaptrace: %s\n", msg);
		return exit_for(err);
	}
	sfd = setup_signals();
	if (sfd < 0) {
		fprintf(stderr, "heaptrace: can't set up signals: %s\n", strerror(-sfd));
		ht_session_close(s);
		return EXIT_FAILURE_RT;
	}

	/* Attach; a launched command starts only now. */
	err = ht_session_start(s, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "heaptrace: %s\n", msg);
		ht_session_close(s);
		close(sfd);
		return exit_for(err);
	}
	fprintf(stderr, "heaptrace: tracing %s\n", ht_session_allocators(s));
	ht_session_target_info(s, &ti);
	if (!ti.launched) {
		fprintf(stderr, "heaptrace: attached to PID %d (%s): %zu probes; Ctrl-C to stop\n",
			ti.pid, ti.command, ti.nr_probes);
		warn_if_traced(ti.pid);
	}
	out.dir = cfg.output_dir;
	out.formats = cfg.formats;
	out.keep = cfg.keep;
	out.pid = ti.pid;
	out.report = &cfg.report;

	/* Trace until the target ends, a signal, or --duration. */
	err = run_loop(s, &cfg, &out, sfd);
	if (err)
		fprintf(stderr, "heaptrace: tracing failed: %s\n", strerror(-err));
	ht_session_stop(s);

	/* Report. */
	rc = write_reports(s, &cfg, &out, &broken_pipe) || err || out.errors ? EXIT_FAILURE_RT
									    : EXIT_OK;
	ht_session_close(s);
	free(cfg.alloc_fns);
	close(sfd);
	if (broken_pipe) {
		/* Like any filter whose reader left: quietly, by SIGPIPE. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	return rc;
}
