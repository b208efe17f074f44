// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

/* The verbosity is CLI configuration, set once at start-up. */
static enum ht_log_level log_level = HT_LOG_WARN;

void ht_log_set_level(enum ht_log_level level)
{
	log_level = level;
}

enum ht_log_level ht_log_get_level(void)
{
	return log_level;
}

void ht_log(enum ht_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	fputs(level == HT_LOG_ERROR ? "heaptrace: " :
	      level == HT_LOG_WARN ? "heaptrace: warning: " : "heaptrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
