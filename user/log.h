/* SPDX-License-Identifier: MIT */
/*
 * Layered logging on stderr: errors always, -v info, -vv debug.
 *
 * The level is a session's (ht_session_opts.verbosity): each call of the
 * session API makes the session's log the current one of its thread for
 * its duration (ht_log_enter/ht_log_leave), so the rooms below it - and
 * libbpf, whose print callback is process-wide by its design - log
 * without a handle, and two sessions in one process keep their own
 * levels. Outside any session, warnings and errors are shown.
 */
#ifndef HEAPTRACE_LOG_H
#define HEAPTRACE_LOG_H

enum ht_log_level { HT_LOG_ERROR, HT_LOG_WARN, HT_LOG_INFO, HT_LOG_DEBUG };

struct ht_log {
	enum ht_log_level level;
};

/* 0 warnings, 1 info, 2 or more debug. */
enum ht_log_level ht_log_level_of(int verbosity);

/* Make log the current one of this thread; returns the one it replaces,
 * for ht_log_leave(). */
const struct ht_log *ht_log_enter(const struct ht_log *log);
void ht_log_leave(const struct ht_log *prev);

enum ht_log_level ht_log_get_level(void);
void ht_log(enum ht_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Something a user should know, said whenever warnings are (no prefix). */
void ht_log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define pr_note(...) ht_log_note(__VA_ARGS__)
#define pr_err(...) ht_log(HT_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) ht_log(HT_LOG_WARN, __VA_ARGS__)
#define pr_info(...) ht_log(HT_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) ht_log(HT_LOG_DEBUG, __VA_ARGS__)

#endif
