/* SPDX-License-Identifier: MIT */
/*
 * The CLI's configuration and its command line: --help's text, the option
 * parsers and their one-line errors.
 */
#ifndef HEAPTRACE_CLI_ARGS_H
#define HEAPTRACE_CLI_ARGS_H

#include <stdbool.h>
#include "heaptrace.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILURE_RT = 1, /* tracing failed, or a report could not be written */
	EXIT_USAGE = 2,      /* bad input: options, PID, command, privileges */
};

/* The CLI's configuration (main's, not file-scope state). */
struct config {
	struct ht_session_opts session;
	double duration_s;
	double interval_s;
	struct ht_report_opts report; /* every report's options but format and metric */
	const char *json_path;
	const char *output_dir;
	unsigned int formats; /* OUT_* written as files */
	unsigned int keep;
	const char **alloc_fns; /* --alloc-fn, behind report.alloc_fns */
	int verbosity;
	const char *record_path;
	bool stdout_closed; /* started with no fd 1 */
};

/*
 * Fill cfg from the command line. 0, or the exit code (EXIT_USAGE after
 * one line on stderr); --help and --version print and exit 0.
 */
int cli_args__parse(int argc, char **argv, struct config *cfg);

#endif
