/*
 * Logging to stderr, one line per event, safe from any thread (stdio locks the stream).
 * libwebsockets' own log lines are routed here too. A line is "<time> <level> <text>", or
 * "<N><text>" with N the syslog level when stderr is the journal (systemd's JOURNAL_STREAM).
 */
#ifndef PARLOR_LOG_H
#define PARLOR_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Parses "error", "warn", "info" or "debug"; -1 when unknown. */
int log_level_parse(const char *s);
/* Sets the threshold for parlor's and lws's messages, and looks whether stderr is the journal.
 * Call before starting threads. */
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
