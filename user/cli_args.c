// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_args.h"
#include "cli_output.h"

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
	"                         svg, pprof, dhat, html (folded and svg: one file per\n"
	"                         metric: live_bytes, peak_bytes, alloc_bytes, allocs;\n"
	"                         html: one page with memory over time by top stacks,\n"
	"                         the four flame graphs and sortable tables)\n"
	"  -o, --output-dir DIR   where those files go (default: current directory),\n"
	"                         named heaptrace-PID-final.EXT at the end; DIR is\n"
	"                         created if missing (with its parents)\n"
	"  -i, --interval SECS    also write a snapshot every SECS seconds, named\n"
	"                         heaptrace-PID-NNNNNN.EXT; SIGUSR1 writes one now\n"
	"      --keep N           keep only the last N periodic snapshots\n"
	"      --no-demangle      show raw C++/Rust symbol names\n"
	"      --keep-alloc-frames  keep the allocator's frames (operator new, strdup,\n"
	"                         ...) on top of the stacks in folded, svg, pprof and\n"
	"                         dhat files and html flame graphs (text and JSON\n"
	"                         always show them)\n"
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
	"                         mimalloc, mozjemalloc, pymalloc (CPython's object\n"
	"                         allocator), or generic: the standard entry points\n"
	"                         (malloc, free..., C++ new/delete) where calls bind;\n"
	"                         generic:PATH: those of the object PATH (default:\n"
	"                         every allocator the process calls, found from the\n"
	"                         symbols of its objects)\n"
	"      --symbol-prefix P  jemalloc's symbol prefix, e.g. je_ or _rjem_ (default:\n"
	"                         detected)\n"
	"      --ring-size BYTES  ring buffer size, a power of two, K/M suffix allowed\n"
	"                         (default 16M); a full ring drops events, counted\n"
	"      --mmap             also trace anonymous mmap/munmap/mremap (syscall\n"
	"                         tracepoints, which cost every process's syscalls a\n"
	"                         little meanwhile): a Mappings table of bytes mapped\n"
	"                         by stack in the text and JSON reports, never in the\n"
	"                         heap totals (folded, svg, pprof and dhat stay\n"
	"                         heap-only)\n"
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

int cli_args__parse(int argc, char **argv, struct config *cfg)
{
	enum { OPT_JSON = 256,
	       OPT_MAX_DEPTH,
	       OPT_RING,
	       OPT_NO_DEMANGLE,
	       OPT_AS_ROOT,
	       OPT_UNWIND,
	       OPT_STACK_BYTES,
	       OPT_KEEP,
	       OPT_RECORD,
	       OPT_SAMPLE,
	       OPT_SEED,
	       OPT_ALLOCATOR,
	       OPT_SYMBOL_PREFIX,
	       OPT_MIN_SIZE,
	       OPT_MAX_SIZE,
	       OPT_KEEP_ALLOC_FRAMES,
	       OPT_ALLOC_FN,
	       OPT_OLDER_THAN,
	       OPT_SHORT_NAMES,
	       OPT_MMAP };
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
		{ "mmap", no_argument, NULL, OPT_MMAP },
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
						"svg, pprof, dhat, html)\n",
					badlen, bad);
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
		case OPT_MMAP:
			cfg->session.mmap = true;
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
