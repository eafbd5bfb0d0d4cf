#include "histogram.h"

uint64_t hist_bucket_low(unsigned b)
{
	unsigned e, sub;

	if (b < HIST_LINEAR)
		return b;
	e = (b - HIST_LINEAR) / HIST_SUB + 4;
	sub = (b - HIST_LINEAR) % HIST_SUB;
	return (1ull << e) + ((uint64_t)sub << (e - HIST_SUB_BITS));
}

uint64_t hist_bucket_high(unsigned b)
{
	return b + 1 < HIST_BUCKETS ? hist_bucket_low(b + 1) : UINT64_MAX;
}

uint64_t hist_quantile(const uint32_t *count, uint64_t total, double q,
		       uint64_t min, uint64_t max)
{
	uint64_t rank, seen = 0, v = 0;

	if (!total)
		return 0;
	/* The rank-th smallest sample, 1-based, nearest-rank definition. */
	rank = (uint64_t)(q * (double)total + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += count[b];
		if (seen >= rank) {
			uint64_t lo = hist_bucket_low(b);
			uint64_t hi = hist_bucket_high(b);
			v = b < HIST_LINEAR ? lo :
			    hi == UINT64_MAX ? lo : lo + (hi - lo) / 2;
			break;
		}
	}
	if (v < min)
		v = min;
	if (max && v > max)
		v = max;
	return v;
}

void hist_merge(struct histogram *into, const struct histogram *from)
{
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		into->count[b] += from->count[b];
}
