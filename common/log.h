/* Logging for programs (main() and its daemon loop), not for library code.
 * Messages go to stderr by default; a program may install a sink (the daemon
 * keeps the recent ones for MOUNT/log). */
#ifndef OCIVM_LOG_H
#define OCIVM_LOG_H

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

/* A sink gets one printable line of at most LOG_LINE_MAX - 1 bytes: log_msg
 * escapes non-printable bytes (\xHH) and cuts a longer line in its middle,
 * keeping its end (the reason and errno), see text_fit in err.h. */
#define LOG_LINE_MAX 448

typedef void (*log_sink_fn)(void *ctx, enum log_level level, const char *line);

void log_set_sink(log_sink_fn fn, void *ctx);
void log_set_level(enum log_level max);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
