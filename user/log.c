// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include "log.h"

/*
 * The log of the session whose call this thread is in (NULL: none). Not
 * configuration but a scope, set and restored by ht_log_enter/leave: the
 * rooms below a session, and libbpf's print callback, reach it here.
 */
static _Thread_local const struct ht_log *current;

enum ht_log_level ht_log_level_of(int verbosity)
{
	return verbosity >= 2 ? HT_LOG_DEBUG : verbosity == 1 ? HT_LOG_INFO : HT_LOG_WARN;
}

const struct ht_log *ht_log_enter(const struct ht_log *log)
{
	const struct ht_log *prev = current;

	current = log;
	return prev;
}

void ht_log_leave(const struct ht_log *prev)
{
	current = prev;
}

enum ht_log_level ht_log_get_level(void)
{
	return current ? current->level : HT_LOG_WARN;
}

void ht_log(enum ht_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > ht_log_get_level())
		return;
	fputs(level == HT_LOG_ERROR ? "heaptrace: " :
	      level == HT_LOG_WARN ? "heaptrace: warning: " : "heaptrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void ht_log_note(const char *fmt, ...)
{
	va_list ap;

	if (HT_LOG_WARN > ht_log_get_level())
		return;
	fputs("heaptrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
