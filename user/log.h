/* SPDX-License-Identifier: MIT */
/* Layered logging on stderr: errors always, -v info, -vv debug. */
#ifndef HEAPTRACE_LOG_H
#define HEAPTRACE_LOG_H

enum ht_log_level { HT_LOG_ERROR, HT_LOG_WARN, HT_LOG_INFO, HT_LOG_DEBUG };

void ht_log_set_level(enum ht_log_level level);
enum ht_log_level ht_log_get_level(void);
void ht_log(enum ht_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...) ht_log(HT_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) ht_log(HT_LOG_WARN, __VA_ARGS__)
#define pr_info(...) ht_log(HT_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) ht_log(HT_LOG_DEBUG, __VA_ARGS__)

#endif
