/* log: one-line diagnostics on stderr for all dropscope programs.
 * Messages that a broken peer or a broken file could repeat every interval
 * go through log_limited(), which prints the first occurrence of a key and
 * then at most one summary a minute with how many were suppressed. */
#ifndef DROPSCOPE_LOG_H
#define DROPSCOPE_LOG_H

#include <stdbool.h>

typedef enum { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR } log_level_t;

/* Sets the program name printed on every line (borrowed, must outlive use)
 * and the lowest level printed, and looks whether stderr is the journal's
 * stream (JOURNAL_STREAM): lines then start with their syslog priority,
 * "<3>" to "<7>", and carry no timestamp of their own. */
void log_init(const char *program, log_level_t min_level);
/* The least level printed from now on, from any thread (a reload). */
void log_set_level(log_level_t min_level);

void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like log_msg, but the message for `key` (a short stable string such as
 * "ingest:decode:<peer>") is printed once, then summarised at most once a
 * minute. Returns true if it printed. Thread-safe. */
bool log_limited(log_level_t level, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)

#endif
