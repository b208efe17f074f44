// SPDX-License-Identifier: MIT
/*
 * heaptrace command line: parse options, run a session until the target
 * ends (or Ctrl-C, SIGTERM, --duration), writing periodic snapshots if
 * asked, then the final reports. Uses only libheaptrace's public API.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "cli_output.h"
#include "heaptrace.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILURE_RT = 1,  /* tracing failed, or a report could not be written */
	EXIT_USAGE = 2,       /* bad input: options, PID, command, privileges */
};

/* The CLI's configuration: the only file-scope state it has. */
struct config {
	struct ht_session_opts session;
	double duration_s;
	double interval_s;
	unsigned int top_n;
	const char *json_path;
	const char *output_dir;
	unsigned int formats;     /* OUT_* written as files */
	unsigned int keep;
	int verbosity;
};

static const char usage_text[] =
"Usage: heaptrace [OPTIONS] -p PID\n"
"       heaptrace [OPTIONS] -- COMMAND [ARGS...]\n"
"\n"
"Trace every heap allocation and free of a process through eBPF uprobes on\n"
"its allocators (glibc, jemalloc, tcmalloc, mimalloc, C++ new/delete),\n"
"without changing the process, and report which stacks hold memory now\n"
"(live, or leaked at exit), which held it when total live memory peaked,\n"
"and which allocate most often (churn).\n"
"\n"
"Target:\n"
"  -p, --pid PID          attach to a running process; with -- COMMAND instead,\n"
"                         start COMMAND with the probes in place\n"
"  -d, --duration SECS    stop after SECS seconds (default: until the target\n"
"                         exits, or Ctrl-C / SIGTERM)\n"
"      --run-as-root      under sudo, run COMMAND as root instead of as the\n"
"                         invoking user\n"
"\n"
"Reports (the text report always goes to stdout at the end):\n"
"  -n, --top N            rows per table in the text report (default 10)\n"
"      --json PATH        also write the JSON report to PATH ('-' = stdout,\n"
"                         which then gets no text report)\n"
"  -f, --format LIST      files to write, comma-separated: text, json, folded,\n"
"                         svg, pprof, dhat (folded and svg: one file per\n"
"                         metric: live_bytes, peak_bytes, alloc_bytes, allocs)\n"
"  -o, --output-dir DIR   where those files go (default: current directory),\n"
"                         named heaptrace-PID-final.EXT at the end\n"
"  -i, --interval SECS    also write a snapshot every SECS seconds, named\n"
"                         heaptrace-PID-NNNNNN.EXT; SIGUSR1 writes one now\n"
"      --keep N           keep only the last N periodic snapshots\n"
"      --no-demangle      show raw C++/Rust symbol names\n"
"\n"
"Tracing:\n"
"      --max-depth N      frames per stack, 1-127 (default 64)\n"
"      --unwind MODE      how stacks are walked: fp (frame pointers only),\n"
"                         cfi (in the kernel, from tables built from each\n"
"                         object's DWARF CFI: whole stacks, cut short where\n"
"                         a frame is uncertain, counted),\n"
"                         auto (default: frame pointers, and DWARF CFI from\n"
"                         .eh_frame for frames without one, e.g. glibc's\n"
"                         strdup or libstdc++'s operator new), dwarf (CFI\n"
"                         for every frame the stack window covers)\n"
"      --stack-bytes N    raw stack copied per allocation for CFI unwinding\n"
"                         (default 4096, max 8192)\n"
"      --sample-bytes N   sample allocations as a Poisson process over bytes\n"
"                         with mean N (K/M suffix allowed): each sample is\n"
"                         weighted so that estimates are unbiased; blocks of\n"
"                         N bytes or more are always recorded exactly; frees of\n"
"                         unsampled blocks are filtered in the kernel\n"
"      --seed N           make sampling reproducible\n"
"      --min-size N       record only allocations of N bytes or more, and\n"
"      --max-size N       of at most N bytes (filtered in the kernel: no stack\n"
"                         walk, no record, and their frees are not recorded)\n"
"      --record FILE      also save the raw event stream to FILE (for replay\n"
"                         benchmarks and bug reports)\n"
"      --allocator NAME   trace only this allocator: glibc, jemalloc, tcmalloc\n"
"                         or mimalloc (default: every one the process maps,\n"
"                         found from the symbols of its objects)\n"
"      --symbol-prefix P  jemalloc's symbol prefix, e.g. je_ or _rjem_ (default:\n"
"                         detected)\n"
"      --ring-size BYTES  ring buffer size, a power of two, K/M suffix allowed\n"
"                         (default 16M); a full ring drops events, counted\n"
"\n"
"  -v, --verbose          more messages on stderr (-vv: debug)\n"
"  -h, --help             this help\n"
"  -V, --version          print the version\n"
"\n"
"Frames of code built without frame pointers are recovered through CFI\n"
"only within the copied stack window (--stack-bytes); beyond it, such\n"
"frames are lost.\n"
"\n"
"Exit status: 0 report written; 1 tracing failed or a report could not be\n"
"written; 2 bad usage, no such process or command, no allocator found, or\n"
"missing privileges.\n";

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

static int parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !(*out > 0) || *out > 1e9)
		return -EINVAL;
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
	       OPT_UNWIND, OPT_STACK_BYTES, OPT_KEEP, OPT_RECORD, OPT_SAMPLE, OPT_SEED,
	       OPT_ALLOCATOR, OPT_SYMBOL_PREFIX, OPT_MIN_SIZE, OPT_MAX_SIZE };
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "top", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "format", required_argument, NULL, 'f' },
		{ "output-dir", required_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'i' },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
		{ "ring-size", required_argument, NULL, OPT_RING },
		{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
		{ "unwind", required_argument, NULL, OPT_UNWIND },
		{ "stack-bytes", required_argument, NULL, OPT_STACK_BYTES },
		{ "run-as-root", no_argument, NULL, OPT_AS_ROOT },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "sample-bytes", required_argument, NULL, OPT_SAMPLE },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "min-size", required_argument, NULL, OPT_MIN_SIZE },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "allocator", required_argument, NULL, OPT_ALLOCATOR },
		{ "symbol-prefix", required_argument, NULL, OPT_SYMBOL_PREFIX },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	unsigned long long v;
	const char *bad;
	int c, badlen;

	cfg->top_n = 10;
	cfg->session.sz = sizeof(cfg->session);
	while ((c = getopt_long(argc, argv, "+p:d:n:f:o:i:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, 0x3fffffff, &v) || v == 0)
				return usage_error("invalid PID '%s'", optarg);
			cfg->session.pid = (int)v;
			break;
		case 'd':
			if (parse_seconds(optarg, &cfg->duration_s))
				return usage_error("invalid duration '%s'", optarg);
			break;
		case 'i':
			if (parse_seconds(optarg, &cfg->interval_s))
				return usage_error("invalid interval '%s'", optarg);
			break;
		case 'n':
			if (parse_uint(optarg, 1000000, &v))
				return usage_error("invalid row count '%s'", optarg);
			cfg->top_n = (unsigned int)v;
			break;
		case OPT_JSON:
			cfg->json_path = optarg;
			break;
		case 'f':
			if (output__parse_formats(optarg, &cfg->formats, &bad, &badlen)) {
				fprintf(stderr, "heaptrace: unknown format '%.*s' (text, json, folded, "
					"svg, pprof, dhat)\n", badlen, bad);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			cfg->output_dir = optarg;
			break;
		case OPT_KEEP:
			if (parse_uint(optarg, 1000000000, &v) || v == 0)
				return usage_error("invalid --keep '%s'", optarg);
			cfg->keep = (unsigned int)v;
			break;
		case OPT_MAX_DEPTH:
			if (parse_uint(optarg, 127, &v) || v == 0)
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
			else if (!strcmp(optarg, "cfi"))
				cfg->session.unwind = HT_UNWIND_CFI;
			else
				return usage_error("invalid --unwind '%s' (fp, cfi, auto or dwarf)",
						   optarg);
			cfg->session.unwind_set = true;
			break;
		case OPT_STACK_BYTES:
			if (parse_size(optarg, &v) || v < 64 || v > 8192 || (v % 8))
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
		case OPT_SAMPLE:
			if (parse_size(optarg, &v) || v < 2 || v > (1ULL << 40))
				return usage_error("invalid --sample-bytes '%s'", optarg);
			cfg->session.sample_bytes = v;
			break;
		case OPT_MIN_SIZE:
		case OPT_MAX_SIZE:
			if (parse_size(optarg, &v) || v == 0)
				return usage_error("invalid size '%s'", optarg);
			if (c == OPT_MIN_SIZE)
				cfg->session.min_size = v;
			else
				cfg->session.max_size = v;
			break;
		case OPT_SEED:
			if (parse_uint(optarg, UINT64_MAX, &v) || v == 0)
				return usage_error("invalid --seed '%s' (a positive integer)", optarg);
			cfg->session.seed = v;
			break;
		case OPT_ALLOCATOR:
			cfg->session.allocator = optarg;
			break;
		case OPT_SYMBOL_PREFIX:
			cfg->session.symbol_prefix = optarg;
			break;
		case OPT_RECORD:
			cfg->session.record_fd = open(optarg, O_WRONLY | O_CREAT | O_TRUNC |
						      O_NOFOLLOW | O_CLOEXEC, 0600);
			if (cfg->session.record_fd < 0) {
				fprintf(stderr, "heaptrace: can't create '%s': %s\n", optarg,
					strerror(errno));
				return EXIT_USAGE;
			}
			output__give_to_sudo_user(cfg->session.record_fd);
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
	if ((cfg->interval_s || cfg->keep || cfg->output_dir) && !cfg->formats)
		return usage_error("--interval, --keep and --output-dir need -f/--format%s", "");
	if (cfg->session.min_size && cfg->session.max_size &&
	    cfg->session.min_size > cfg->session.max_size)
		return usage_error("--min-size is larger than --max-size%s", "");
	if (cfg->formats && !cfg->output_dir)
		cfg->output_dir = ".";
	return 0;
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
	int ep, err = 0;

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

		if (deadline && now >= deadline)
			break;
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
	return err;
}

static int write_reports(struct ht_session *s, const struct config *cfg, struct output *out)
{
	struct ht_report_opts ro = { .sz = sizeof(ro), .top_n = cfg->top_n };
	bool json_stdout = cfg->json_path && !strcmp(cfg->json_path, "-");
	int err = 0, e;

	if (cfg->json_path) {
		if (json_stdout)
			err = ht_session_write_report(s, HT_FORMAT_JSON, stdout, &ro);
		else
			err = output__write_file(cfg->json_path, s, HT_FORMAT_JSON, &ro);
	}
	if (out->formats) {
		e = output__snapshot(out, s, true);
		err = err ? err : e;
	}
	if (!json_stdout) {
		e = ht_session_write_report(s, HT_FORMAT_TEXT, stdout, &ro);
		if (e)
			fprintf(stderr, "heaptrace: can't write the report: %s\n", strerror(-e));
		err = err ? err : e;
	}
	fflush(stdout);
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
	char msg[512] = "";
	int sfd, err, rc;

	rc = parse_args(argc, argv, &cfg);
	if (rc)
		return rc;
	ht_set_verbosity(cfg.verbosity);
	if (cfg.formats) {
		/* Found out now, not after hours of tracing. */
		err = output__prepare_dir(cfg.output_dir);
		if (!err && access(cfg.output_dir, W_OK))
			err = -errno;
		if (err) {
			fprintf(stderr, "heaptrace: can't write to '%s': %s\n", cfg.output_dir,
				strerror(-err));
			return EXIT_USAGE;
		}
	}
	sfd = setup_signals();
	if (sfd < 0) {
		fprintf(stderr, "heaptrace: can't set up signals: %s\n", strerror(-sfd));
		return EXIT_FAILURE_RT;
	}

	/* Open: find the target and its allocator, load the BPF programs. */
	s = ht_session_open(&cfg.session, msg, sizeof(msg), &err);
	if (!s) {
		fprintf(stderr, "heaptrace: %s\n", msg);
		return exit_for(err);
	}

	/* Attach; a launched command starts only now. */
	err = ht_session_start(s, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "heaptrace: %s\n", msg);
		ht_session_close(s);
		return exit_for(err);
	}
	fprintf(stderr, "heaptrace: tracing %s\n", ht_session_allocators(s));
	ht_session_target_info(s, &ti);
	if (!ti.launched)
		fprintf(stderr, "heaptrace: attached to PID %d (%s): %zu probes; Ctrl-C to stop\n",
			ti.pid, ti.command, ti.nr_probes);
	out.dir = cfg.output_dir;
	out.formats = cfg.formats;
	out.keep = cfg.keep;
	out.pid = ti.pid;

	/* Trace until the target ends, a signal, or --duration. */
	err = run_loop(s, &cfg, &out, sfd);
	if (err)
		fprintf(stderr, "heaptrace: tracing failed: %s\n", strerror(-err));
	ht_session_stop(s);

	/* Report. */
	rc = write_reports(s, &cfg, &out) || err || out.errors ? EXIT_FAILURE_RT : EXIT_OK;
	ht_session_close(s);
	output__free(&out);
	close(sfd);
	return rc;
}
