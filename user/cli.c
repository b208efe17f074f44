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
#include "cli_dest.h"
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
	struct ht_report_opts report;   /* every report's options but format and metric */
	const char *json_path;
	const char *output_dir;
	unsigned int formats;     /* OUT_* written as files */
	unsigned int keep;
	const char **alloc_fns;         /* --alloc-fn, behind report.alloc_fns */
	int verbosity;
	const char *record_path;
	bool stdout_closed;       /* started with no fd 1 */
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
"  -p, --pid PID          attach to a running process (a thread's ID means its\n"
"                         process); with -- COMMAND instead, start COMMAND\n"
"                         with the probes in place, following it into the\n"
"                         program it execs (env, nice, sh -c 'exec ...'). An\n"
"                         attached process that execs ends the trace\n"
"  -d, --duration SECS    stop after SECS seconds (default: until the target\n"
"                         exits, or Ctrl-C / SIGTERM); a launched COMMAND\n"
"                         then gets SIGTERM and is traced to its exit (for\n"
"                         up to 10 s), as timeout(1) would end it\n"
"      --run-as-root      under sudo, run COMMAND as root instead of as the\n"
"                         invoking user\n"
"\n"
"Reports (the text report always goes to stdout at the end):\n"
"  -n, --top N            rows per table in the text report (default 10)\n"
"      --json PATH        also write the JSON report to PATH ('-' = stdout,\n"
"                         which then gets no text report); PATH's directory\n"
"                         must exist (none is created). A regular file is\n"
"                         replaced whole (temporary file + rename); a device,\n"
"                         FIFO, socket or descriptor (/dev/stdout, /dev/fd/N,\n"
"                         bash's >(...)) is written in place; a symlink is\n"
"                         followed unless it sits in a sticky world-writable\n"
"                         directory (like /tmp) and belongs to someone else,\n"
"                         as the kernel's protected_symlinks rule - then it\n"
"                         is replaced\n"
"  -f, --format LIST      files to write, comma-separated: text, json, folded,\n"
"                         svg, pprof, dhat (folded and svg: one file per\n"
"                         metric: live_bytes, peak_bytes, alloc_bytes, allocs)\n"
"  -o, --output-dir DIR   where those files go (default: current directory),\n"
"                         named heaptrace-PID-final.EXT at the end; DIR is\n"
"                         created if missing (with its parents)\n"
"  -i, --interval SECS    also write a snapshot every SECS seconds, named\n"
"                         heaptrace-PID-NNNNNN.EXT; SIGUSR1 writes one now\n"
"      --keep N           keep only the last N periodic snapshots\n"
"      --no-demangle      show raw C++/Rust symbol names\n"
"      --keep-alloc-frames  keep the allocator's frames (operator new, strdup,\n"
"                         ...) on top of the stacks in folded, svg, pprof and\n"
"                         dhat files (text and JSON always show them)\n"
"      --alloc-fn GLOB    also leave out the program's own allocation wrappers\n"
"                         matching GLOB (e.g. 'xmalloc', 'g_*alloc*'); repeatable\n"
"      --older-than SECS  the text report's Live/Leaks table counts only blocks\n"
"                         allocated at least SECS seconds before the report\n"
"      --short-names      collapse template arguments in every report but JSON\n"
"                         (std::vector<>::push_back); SVG labels always do\n"
"\n"
"Tracing:\n"
"      --max-depth N      frames per stack, 1-127 (default 64)\n"
"      --unwind MODE      how stacks are walked: cfi (default: in the kernel,\n"
"                         from tables built from each object's DWARF CFI -\n"
"                         whole stacks, cut short where a frame is uncertain,\n"
"                         counted), fp (frame pointers only), auto (frame\n"
"                         pointers, and user-space CFI over a copied stack\n"
"                         window), dwarf (CFI for every frame the window covers)\n"
"      --stack-bytes N    auto/dwarf: raw stack copied per allocation\n"
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
"                         benchmarks and bug reports); written as it comes,\n"
"                         same path rules as --json\n"
"      --allocator NAME   trace only this allocator: glibc, jemalloc, tcmalloc,\n"
"                         mimalloc, or generic: the standard entry points\n"
"                         (malloc, free..., C++ new/delete) where calls bind;\n"
"                         generic:PATH: those of the object PATH (default:\n"
"                         every allocator the process calls, found from the\n"
"                         symbols of its objects)\n"
"      --symbol-prefix P  jemalloc's symbol prefix, e.g. je_ or _rjem_ (default:\n"
"                         detected)\n"
"      --ring-size BYTES  ring buffer size, a power of two, K/M suffix allowed\n"
"                         (default 16M); a full ring drops events, counted\n"
"\n"
"  -v, --verbose          more messages on stderr (-vv: debug)\n"
"  -h, --help             this help\n"
"  -V, --version          print the version\n"
"\n"
"Stacks are never wrong-named: where the next frame is uncertain (no\n"
"unwind table yet, a rule not followed, the depth limit) a stack ends, and\n"
"the report counts it (\"stacks cut short\").\n"
"\n"
"Every output is checked before the first probe goes in: a path that can't\n"
"be written is refused at once (exit 2), not after hours of tracing.\n"
"\n"
"Exit status: 0 report written; 1 tracing failed or a report or recording\n"
"could not be written; 2 bad usage, an output that can't be written, no such\n"
"process or command, no allocator found, or missing privileges. When the\n"
"reader of stdout goes away (heaptrace ... | head), heaptrace ends quietly\n"
"by SIGPIPE (status 141 in the shell), as other filters do.\n";

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
	       OPT_ALLOCATOR, OPT_SYMBOL_PREFIX, OPT_MIN_SIZE, OPT_MAX_SIZE, OPT_KEEP_ALLOC_FRAMES,
	       OPT_ALLOC_FN, OPT_OLDER_THAN, OPT_SHORT_NAMES };
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
		{ "keep-alloc-frames", no_argument, NULL, OPT_KEEP_ALLOC_FRAMES },
		{ "alloc-fn", required_argument, NULL, OPT_ALLOC_FN },
		{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
		{ "short-names", no_argument, NULL, OPT_SHORT_NAMES },
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

	cfg->report.sz = sizeof(cfg->report);
	cfg->report.top_n = 10;
	cfg->session.sz = sizeof(cfg->session);
	while ((c = getopt_long(argc, argv, "+p:d:n:f:o:i:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, INT_MAX, &v) || v == 0)
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
			cfg->report.top_n = (unsigned int)v;
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
			cfg->record_path = optarg;
			break;
		case OPT_KEEP_ALLOC_FRAMES:
			cfg->report.keep_alloc_frames = true;
			break;
		case OPT_ALLOC_FN:
			/* At most one per argument: argc bounds the list. */
			if (!cfg->alloc_fns)
				cfg->alloc_fns = calloc((size_t)argc, sizeof(*cfg->alloc_fns));
			if (!cfg->alloc_fns)
				return usage_error("out of memory for --alloc-fn '%s'", optarg);
			cfg->alloc_fns[cfg->report.nalloc_fns++] = optarg;
			cfg->report.alloc_fns = cfg->alloc_fns;
			break;
		case OPT_SHORT_NAMES:
			cfg->report.short_names = true;
			break;
		case OPT_OLDER_THAN:
			if (parse_seconds(optarg, &cfg->report.older_than_s))
				return usage_error("invalid age '%s'", optarg);
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
	if (cfg->keep && !cfg->interval_s)
		return usage_error("--keep needs -i/--interval (it keeps periodic snapshots)%s",
				   "");
	if (cfg->session.min_size && cfg->session.max_size &&
	    cfg->session.min_size > cfg->session.max_size)
		return usage_error("--min-size is larger than --max-size%s", "");
	if (cfg->formats && !cfg->output_dir)
		cfg->output_dir = ".";
	return 0;
}

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
	rc = parse_args(argc, argv, &cfg);
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
