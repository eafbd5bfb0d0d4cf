/*
 * metrics.h - Prometheus text exposition (format 0.0.4) of the workers'
 * counters, rule hits and latency histogram, plus build info and the
 * standard process_* metrics.  Built on the control thread (only: it
 * keeps a little state of its own) from counters that only grow, read
 * without stopping any worker.
 */
#ifndef MYRING_METRICS_H
#define MYRING_METRICS_H

#include "strbuf.h"
#include "worker.h"

void metrics_render(const struct proxy *px, uint64_t start_s,
		    struct strbuf *out);

#endif
