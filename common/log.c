#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_sink_fn log_sink;
static void *log_sink_ctx;
static enum log_level log_max = LOG_INFO;

void log_set_sink(log_sink_fn fn, void *ctx)
{
	pthread_mutex_lock(&log_lock);
	log_sink = fn;
	log_sink_ctx = ctx;
	pthread_mutex_unlock(&log_lock);
}

void log_set_level(enum log_level max) { log_max = max; }

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX], small[256];
	char *raw = NULL;
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	int n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0) {   /* no memory: the head of it, still escaped */
		raw = NULL;
		va_start(ap, fmt);
		vsnprintf(small, sizeof(small), fmt, ap);
		va_end(ap);
	}
	text_fit(line, sizeof(line), raw ? raw : small);
	free(raw);
	pthread_mutex_lock(&log_lock);
	if (log_sink)
		log_sink(log_sink_ctx, level, line);
	else
		fprintf(stderr, "%s\n", line);
	pthread_mutex_unlock(&log_lock);
}
