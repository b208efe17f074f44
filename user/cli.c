// SPDX-License-Identifier: MIT
/*
 * heaptrace command line: parse options, run a session until the target
 * ends (or Ctrl-C, or --duration), then write the reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "report.h"
#include "session.h"
#include "target.h"

#define HEAPTRACE_VERSION "0.1.0"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILURE_RT = 1,  /* tracing failed */
	EXIT_USAGE = 2,       /* bad input: options, PID, command, privileges */
};

/* The CLI's configuration: the only file-scope state it has. */
struct config {
	struct ht_session_opts session;
	double duration_s;
	unsigned int top_n;
	const char *json_path;
	int verbosity;
};

static const char usage_text[] =
"Usage: heaptrace [OPTIONS] -p PID\n"
"       heaptrace [OPTIONS] -- COMMAND [ARGS...]\n"
"\n"
"Trace every heap allocation and free of a process through eBPF uprobes on\n"
"its allocator (glibc malloc family), without changing the process, and\n"
"report which stacks hold memory now (live, or leaked at exit), which held\n"
"it when total live memory peaked, and which allocate most often (churn).\n"
"\n"
"  -p, --pid PID          attach to a running process; with -- COMMAND instead,\n"
"                         start COMMAND with the probes in place\n"
"  -d, --duration SECS    stop after SECS seconds (default: until the target\n"
"                         exits, or Ctrl-C / SIGTERM)\n"
"  -n, --top N            rows per table in the text report (default 10)\n"
"      --json PATH        also write the report as JSON to PATH ('-' = stdout,\n"
"                         which then gets no text report)\n"
"      --max-depth N      frames per stack, 1-127 (default 64)\n"
"      --unwind MODE      how stacks are walked: fp (frame pointers only),\n"
"                         auto (default: frame pointers, and DWARF CFI from\n"
"                         .eh_frame for frames without one, e.g. glibc's\n"
"                         strdup or libstdc++'s operator new), dwarf (CFI\n"
"                         for every frame the stack window covers)\n"
"      --stack-bytes N    raw stack copied per allocation for CFI unwinding\n"
"                         (default 4096, max 8192)\n"
"      --ring-size BYTES  ring buffer size, a power of two, K/M suffix allowed\n"
"                         (default 16M); a full ring drops events, counted\n"
"      --no-demangle      show raw C++/Rust symbol names\n"
"      --run-as-root      under sudo, run COMMAND as root instead of as the\n"
"                         invoking user\n"
"  -v, --verbose          more messages on stderr (-vv: debug)\n"
"  -h, --help             this help\n"
"  -V, --version          print the version\n"
"\n"
"Frames of code built without frame pointers are recovered through CFI\n"
"only within the copied stack window (--stack-bytes); beyond it, such\n"
"frames are lost.\n"
"\n"
"Exit status: 0 report written; 1 tracing failed; 2 bad usage, no such\n"
"process or command, no allocator found, or missing privileges.\n";

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out > max)
		return -EINVAL;
	return 0;
}

static int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long mult = 1;
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		mult = 1ULL << 10;
	else if (*end == 'M' || *end == 'm')
		mult = 1ULL << 20;
	else if (*end == 'G' || *end == 'g')
		mult = 1ULL << 30;
	else if (*end)
		return -EINVAL;
	if (*end && end[1])
		return -EINVAL;
	*out *= mult;
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "heaptrace: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'heaptrace --help' for more information.\n");
	return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct config *cfg)
{
	enum { OPT_JSON = 256, OPT_MAX_DEPTH, OPT_RING, OPT_NO_DEMANGLE, OPT_AS_ROOT,
	       OPT_UNWIND, OPT_STACK_BYTES };
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "top", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
		{ "ring-size", required_argument, NULL, OPT_RING },
		{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
		{ "unwind", required_argument, NULL, OPT_UNWIND },
		{ "stack-bytes", required_argument, NULL, OPT_STACK_BYTES },
		{ "run-as-root", no_argument, NULL, OPT_AS_ROOT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	unsigned long long v;
	char *end;
	int c;

	cfg->top_n = 10;
	while ((c = getopt_long(argc, argv, "+p:d:n:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, 0x3fffffff, &v) || v == 0)
				return usage_error("invalid PID '%s'", optarg);
			cfg->session.pid = (int)v;
			break;
		case 'd':
			errno = 0;
			cfg->duration_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(cfg->duration_s > 0))
				return usage_error("invalid duration '%s'", optarg);
			break;
		case 'n':
			if (parse_uint(optarg, 1000000, &v))
				return usage_error("invalid row count '%s'", optarg);
			cfg->top_n = (unsigned int)v;
			break;
		case OPT_JSON:
			cfg->json_path = optarg;
			break;
		case OPT_MAX_DEPTH:
			if (parse_uint(optarg, HT_MAX_FRAMES, &v) || v == 0)
				return usage_error("invalid --max-depth '%s' (1-127)", optarg);
			cfg->session.max_depth = (unsigned int)v;
			break;
		case OPT_RING:
			if (parse_size(optarg, &v) || v < 4096 || v > (1ULL << 30) || (v & (v - 1)))
				return usage_error("invalid --ring-size '%s' (a power of two, 4K-1G)",
						   optarg);
			cfg->session.ring_bytes = v;
			break;
		case OPT_UNWIND:
			if (!strcmp(optarg, "fp"))
				cfg->session.unwind = HT_UNWIND_FP;
			else if (!strcmp(optarg, "auto"))
				cfg->session.unwind = HT_UNWIND_AUTO;
			else if (!strcmp(optarg, "dwarf"))
				cfg->session.unwind = HT_UNWIND_DWARF;
			else
				return usage_error("invalid --unwind '%s' (fp, auto or dwarf)", optarg);
			cfg->session.unwind_set = true;
			break;
		case OPT_STACK_BYTES:
			if (parse_size(optarg, &v) || v < 64 || v > HT_MAX_STACK_BYTES || (v % 8))
				return usage_error("invalid --stack-bytes '%s' (64-8192, a multiple of 8)",
						   optarg);
			cfg->session.stack_bytes = (uint32_t)v;
			break;
		case OPT_NO_DEMANGLE:
			cfg->session.no_demangle = true;
			break;
		case OPT_AS_ROOT:
			cfg->session.run_as_root = true;
			break;
		case 'v':
			cfg->verbosity++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		case 'V':
			printf("heaptrace %s\n", HEAPTRACE_VERSION);
			exit(EXIT_OK);
		default:
			fprintf(stderr, "Try 'heaptrace --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		cfg->session.argv = &argv[optind];
	if (cfg->session.pid && cfg->session.argv)
		return usage_error("give either -p PID or -- COMMAND, not both%s", "");
	if (!cfg->session.pid && !cfg->session.argv)
		return usage_error("nothing to trace: give -p PID or -- COMMAND%s", "");
	return 0;
}

static int setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
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

/* Returns 1 when a stop was asked (signal), 0 otherwise. */
static int read_signals(int sfd)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
			stop = 1;
	return stop;
}

/* Trace until the target ends, a signal, or the duration. */
static int run_loop(struct ht_session *s, const struct config *cfg, int sfd)
{
	double deadline = cfg->duration_s > 0 ? mono_s() + cfg->duration_s : 0;
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	int ep, err = 0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = ht_session_fd(s);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);

	while (!ht_session_target_done(s)) {
		int timeout = 50;

		if (deadline) {
			double left = deadline - mono_s();

			if (left <= 0)
				break;
			if (left * 1000 < timeout)
				timeout = (int)(left * 1000) + 1;
		}
		if (epoll_wait(ep, out, 4, timeout) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (read_signals(sfd))
			break;
		err = ht_session_poll(s);
		if (err)
			break;
	}
	close(ep);
	return err;
}

/* Create an output file without following a symlink planted at its name;
 * under sudo, hand it to the invoking user. */
static FILE *open_output(const char *path)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (uid && gid && geteuid() == 0 &&
	    fchown(fd, (uid_t)strtoul(uid, NULL, 10), (gid_t)strtoul(gid, NULL, 10)))
		pr_debug("can't chown '%s': %s\n", path, strerror(errno));
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

static int write_reports(struct ht_session *s, const struct config *cfg)
{
	struct ht_report_input in;
	bool json_stdout = cfg->json_path && !strcmp(cfg->json_path, "-");
	int err = 0;

	report__input_from_session(&in, s, cfg->top_n);
	if (!in.sym) {
		pr_err("can't create symbolizer: %s\n", strerror(errno));
		return -ENOMEM;
	}
	if (cfg->json_path) {
		FILE *f = json_stdout ? stdout : open_output(cfg->json_path);

		if (!f) {
			err = -errno;
			pr_err("can't write '%s': %s\n", cfg->json_path, strerror(errno));
		} else {
			err = report__json(f, &in);
			if ((f != stdout && fclose(f)) || err) {
				err = err ? err : -errno;
				pr_err("can't write '%s': %s\n", cfg->json_path, strerror(-err));
			}
		}
	}
	if (!json_stdout) {
		int terr = report__text(stdout, &in);

		fflush(stdout);
		err = err ? err : terr;
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
	struct ht_session *s;
	char msg[512] = "";
	int sfd, err, rc;

	rc = parse_args(argc, argv, &cfg);
	if (rc)
		return rc;
	ht_log_set_level(cfg.verbosity >= 2 ? HT_LOG_DEBUG :
			 cfg.verbosity == 1 ? HT_LOG_INFO : HT_LOG_WARN);
	sfd = setup_signals();
	if (sfd < 0) {
		pr_err("can't set up signals: %s\n", strerror(-sfd));
		return EXIT_FAILURE_RT;
	}

	/* Open: find the target and its allocator, load the BPF programs. */
	s = ht_session_open(&cfg.session, msg, sizeof(msg), &err);
	if (!s) {
		pr_err("%s\n", msg);
		return exit_for(err);
	}

	/* Attach; a launched command starts only now. */
	err = ht_session_start(s, msg, sizeof(msg));
	if (err) {
		pr_err("%s\n", msg);
		rc = cfg.session.argv && err != -ENOENT ? EXIT_USAGE : exit_for(err);
		if (!cfg.session.argv || err == -ENOENT || err == -EACCES || err == -ENOEXEC)
			rc = exit_for(err);
		ht_session_close(s);
		return rc;
	}
	if (!cfg.session.argv)
		fprintf(stderr, "heaptrace: attached to PID %d (%s): %zu probes; Ctrl-C to stop\n",
			cfg.session.pid, ht_session_target(s)->command, ht_session_nr_probes(s));

	/* Trace until the target ends, a signal, or --duration. */
	err = run_loop(s, &cfg, sfd);
	if (err)
		pr_err("tracing failed: %s\n", strerror(-err));
	ht_session_stop(s);

	/* Report. */
	rc = write_reports(s, &cfg) || err ? EXIT_FAILURE_RT : EXIT_OK;
	ht_session_close(s);
	close(sfd);
	return rc;
}
