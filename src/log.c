#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

enum log_level log_threshold = LOG_INFO;
__thread int log_worker = -1;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_worker >= 0)
		n = snprintf(line, sizeof(line), "%s.%03ldZ %s [w%d] ", ts,
			     now.tv_nsec / 1000000, level_names[level], log_worker);
	else
		n = snprintf(line, sizeof(line), "%s.%03ldZ %s [%s] ", ts,
			     now.tv_nsec / 1000000, level_names[level],
			     log_worker == -2 ? "ctl" : "main");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* One fputs per line: stdio locks the stream, so lines from several
	 * workers never interleave. */
	fprintf(stderr, "%s\n", line);
}
