/*
 * counters.h - the per-worker counters that SHOW STATS (admin.c) and
 * /metrics (metrics.c) both publish, described once: each is a uint64_t
 * field of struct worker_stats, summed over the workers.
 */
#ifndef MYRING_COUNTERS_H
#define MYRING_COUNTERS_H

#include <stddef.h>

struct counter_desc {
	const char *name;        /* SHOW STATS variable */
	const char *metric;      /* Prometheus counter name */
	const char *help;
	size_t offset;           /* of the field in struct worker_stats */
};

extern const struct counter_desc worker_counters[];
extern const size_t nworker_counters;

#endif
