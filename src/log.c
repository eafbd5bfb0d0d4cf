#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

enum log_level log_threshold = LOG_INFO;
__thread int log_worker = -1;
bool log_journal;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* syslog priorities: err, warning, info, debug. */
static const char *const journal_prefix[] = {"<3>", "<4>", "<6>", "<7>"};

/*
 * systemd names the journal stream it connects to stderr in
 * $JOURNAL_STREAM ("device:inode"); a child that inherited the variable
 * but not the stream (stderr redirected) must not take it as its own.
 */
void log_detect_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		      fstat(2, &st) == 0 && st.st_dev == (dev_t)dev &&
		      st.st_ino == (ino_t)ino;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	if (log_journal) {
		/* The journal stamps each line itself, and reads "<N>" as
		 * its priority (journalctl -p warning). */
		n = snprintf(line, sizeof(line), "%s", journal_prefix[level]);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "%s.%03ldZ ", ts,
			     now.tv_nsec / 1000000);
	}
	if (log_worker >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s [w%d] ",
			      level_names[level], log_worker);
	else
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s [%s] ",
			      level_names[level],
			      log_worker == -2 ? "ctl" : "main");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* One fputs per line: stdio locks the stream, so lines from several
	 * workers never interleave. */
	fprintf(stderr, "%s\n", line);
}
