/*
 * log.h - diagnostics on stderr, one line each, prefixed with UTC time
 * (or, into systemd's journal, the syslog priority), level and worker.
 * Not for the hot path: the query log (querylog.c) is.
 */
#ifndef MYRING_LOG_H
#define MYRING_LOG_H

#include "cli.h"

#include <stdbool.h>

extern enum log_level log_threshold;
/* Worker id of the calling thread, -1 for the main thread. */
extern __thread int log_worker;

/* True when stderr is systemd's journal stream: lines then carry their
 * syslog priority ("<4>") instead of a timestamp. */
extern bool log_journal;
void log_detect_journal(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_enabled(lvl) ((lvl) <= log_threshold)
#define LOGE(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define LOGW(...) do { if (log_enabled(LOG_WARN)) log_msg(LOG_WARN, __VA_ARGS__); } while (0)
#define LOGI(...) do { if (log_enabled(LOG_INFO)) log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define LOGD(...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
