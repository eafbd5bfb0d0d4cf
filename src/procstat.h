/*
 * procstat.h - what the process uses, as every Prometheus client library
 * exports it (process_cpu_seconds_total, process_resident_memory_bytes,
 * ...): read from /proc/self and getrlimit when /metrics is scraped, on
 * the control thread (file reads never run on a worker).
 */
#ifndef MYRING_PROCSTAT_H
#define MYRING_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>

struct procstat {
	bool have_stat;            /* /proc/self/stat was readable */
	double cpu_seconds;        /* user + system, all threads */
	double start_time;         /* unix seconds */
	uint64_t virtual_bytes;
	uint64_t resident_bytes;
	bool have_fds;             /* /proc/self/fd was readable */
	uint64_t open_fds;
	double max_fds;            /* soft RLIMIT_NOFILE; INFINITY if none */
};

/* Fills ps; what cannot be read is flagged absent, never an error.  One
 * thread only (the control thread): the start time is computed once. */
void procstat_read(struct procstat *ps);

#endif
