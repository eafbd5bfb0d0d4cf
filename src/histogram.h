/*
 * histogram.h - log-linear latency histogram in microseconds.
 *
 * Buckets 0..15 hold 0..15 us exactly; above that each power of two is
 * split into HIST_SUB equal buckets, so a value is placed within 1/HIST_SUB
 * of itself (12.5% with 8: good enough for p50/p95/p99, and far cheaper
 * than keeping samples).  Recording is a clz and two shifts, no branches
 * beyond the small-value test; merging is adding arrays.  The top bucket
 * takes everything from about 2^31 us (36 minutes) up.
 */
#ifndef MYRING_HISTOGRAM_H
#define MYRING_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS 3
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_LINEAR 16u                   /* 0..15 exact */
#define HIST_OCTAVES 28u                  /* 2^4 .. 2^31 */
#define HIST_BUCKETS (HIST_LINEAR + HIST_OCTAVES * HIST_SUB)

struct histogram {
	uint32_t count[HIST_BUCKETS];
};

static inline unsigned hist_bucket(uint64_t us)
{
	unsigned e, b;

	if (us < HIST_LINEAR)
		return (unsigned)us;
	e = 63u - (unsigned)__builtin_clzll(us);          /* >= 4 */
	b = HIST_LINEAR + (e - 4) * HIST_SUB +
	    (unsigned)((us >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

static inline void hist_record(struct histogram *h, uint64_t us)
{
	h->count[hist_bucket(us)]++;
}

/* Smallest value that falls in bucket b, and the first above it. */
uint64_t hist_bucket_low(unsigned b);
uint64_t hist_bucket_high(unsigned b);
/* The value at quantile q (0..1): the midpoint of the bucket holding it,
 * clamped to [min, max] when those are known (max 0 = unknown). */
uint64_t hist_quantile(const uint32_t *count, uint64_t total, double q,
		       uint64_t min, uint64_t max);
void hist_merge(struct histogram *into, const struct histogram *from);

#endif
