/*
 * Digest statistics: the per-worker table (lookup, record, eviction at
 * the bound, reset), snapshots and merging across workers, and the
 * latency histogram behind the percentiles.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "digest_stats.h"
#include "histogram.h"

Test(histogram, buckets_are_monotonic_and_contain_their_values)
{
	unsigned prev = 0;

	for (uint64_t v = 0; v < 5000000; v = v < 64 ? v + 1 : v + v / 7) {
		unsigned b = hist_bucket(v);
		cr_assert_geq(b, prev, "bucket of %llu went back", (unsigned long long)v);
		cr_assert_leq(hist_bucket_low(b), v);
		cr_assert_gt(hist_bucket_high(b), v, "v=%llu b=%u",
			     (unsigned long long)v, b);
		/* Relative width at most 1/HIST_SUB above the linear range. */
		if (v >= HIST_LINEAR)
			cr_assert_leq((hist_bucket_high(b) - hist_bucket_low(b)) *
				      HIST_SUB, hist_bucket_low(b));
		prev = b;
	}
	cr_assert_eq(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
	cr_assert_eq(hist_bucket(1ull << 40), HIST_BUCKETS - 1);
}

Test(histogram, quantiles_within_bucket_precision)
{
	struct histogram h = {0};
	uint64_t total = 0;

	/* 1..10000 us uniformly: p50 ~ 5000, p95 ~ 9500, p99 ~ 9900. */
	for (uint64_t v = 1; v <= 10000; v++, total++)
		hist_record(&h, v);
	uint64_t p50 = hist_quantile(h.count, total, 0.50, 1, 10000);
	uint64_t p95 = hist_quantile(h.count, total, 0.95, 1, 10000);
	uint64_t p99 = hist_quantile(h.count, total, 0.99, 1, 10000);
	cr_assert(p50 > 5000 * 0.9 && p50 < 5000 * 1.1, "p50 %llu", (unsigned long long)p50);
	cr_assert(p95 > 9500 * 0.9 && p95 < 9500 * 1.1, "p95 %llu", (unsigned long long)p95);
	cr_assert(p99 > 9900 * 0.9 && p99 <= 10000, "p99 %llu", (unsigned long long)p99);
	cr_assert_eq(hist_quantile(h.count, 0, 0.5, 0, 0), 0);
	/* Clamped to the observed extremes. */
	struct histogram one = {0};
	hist_record(&one, 777);
	cr_assert_eq(hist_quantile(one.count, 1, 0.99, 777, 777), 777);
}

Test(digest_stats, records_per_digest_user_and_schema)
{
	struct dstat_table t;
	struct dstat_rows snap;

	cr_assert_eq(dstat_init(&t, 64), 0);
	uint64_t a = dstat_touch(&t, 111, "SELECT ?", 8, "app", "shop", 1000);
	uint64_t b = dstat_touch(&t, 111, "SELECT ?", 8, "app", "other", 1000);
	uint64_t c = dstat_touch(&t, 222, "UPDATE t SET a = ?", 18, "app", "shop", 1000);
	cr_assert(a && b && c);
	cr_assert_neq(a, b);
	cr_assert_eq(dstat_touch(&t, 111, "SELECT ?", 8, "app", "shop", 1001), a);
	dstat_record(&t, a, 100, false, 5, 0, 1001);
	dstat_record(&t, a, 300, true, 0, 0, 1002);
	dstat_record(&t, c, 50, false, 0, 7, 1003);
	cr_assert_eq(t.live, 3);
	cr_assert_eq(dstat_snapshot(&t, &snap), 0);
	cr_assert_eq(snap.n, 3);
	bool seen = false;
	for (size_t i = 0; i < snap.n; i++) {
		struct dstat *e = &snap.rows[i];
		if (e->digest == 111 && !strcmp(e->schema, "shop")) {
			seen = true;
			cr_assert_eq(e->count, 2);
			cr_assert_eq(e->errors, 1);
			cr_assert_eq(e->rows_sent, 5);
			cr_assert_eq(e->sum_us, 400);
			cr_assert_eq(e->min_us, 100);
			cr_assert_eq(e->max_us, 300);
			cr_assert_eq(e->first_seen, 1000);
			cr_assert_eq(e->last_seen, 1002);
			cr_assert_str_eq(e->text, "SELECT ?");
			cr_assert_str_eq(e->user, "app");
		}
		if (e->digest == 222)
			cr_assert_eq(e->rows_affected, 7);
	}
	cr_assert(seen);
	dstat_rows_free(&snap);
	dstat_destroy(&t);
}

Test(digest_stats, bounded_with_evictions_counted_and_stale_cookies_ignored)
{
	struct dstat_table t;
	char text[32];
	uint64_t first;

	cr_assert_eq(dstat_init(&t, 16), 0);
	first = dstat_touch(&t, 1, "q1", 2, "u", "s", 1);
	for (uint64_t d = 2; d <= 1000; d++) {
		int n = snprintf(text, sizeof(text), "q%llu", (unsigned long long)d);
		uint64_t c = dstat_touch(&t, d, text, (size_t)n, "u", "s", d);
		cr_assert(c);
		dstat_record(&t, c, d, false, 1, 0, d);
		cr_assert_leq(t.live, 16);
	}
	cr_assert_eq(t.live, 16);
	cr_assert_eq(t.evictions, 1000 - 16);
	/* The oldest entry is long gone: recording through its cookie does
	 * nothing (and does not touch the entry now in its place). */
	struct dstat_rows before, after;
	dstat_snapshot(&t, &before);
	dstat_record(&t, first, 999999, true, 1, 1, 5000);
	dstat_snapshot(&t, &after);
	uint64_t sb = 0, sa = 0;
	for (size_t i = 0; i < before.n; i++)
		sb += before.rows[i].sum_us;
	for (size_t i = 0; i < after.n; i++)
		sa += after.rows[i].sum_us;
	cr_assert_eq(sa, sb);
	/* Every survivor is still findable (deletion kept probe chains). */
	for (size_t i = 0; i < after.n; i++) {
		struct dstat *e = &after.rows[i];
		uint64_t c = dstat_touch(&t, e->digest, e->text, strlen(e->text),
					 "u", "s", 6000);
		cr_assert(c);
		cr_assert_eq(t.live, 16, "re-touching a survivor inserted a copy");
	}
	dstat_rows_free(&before);
	dstat_rows_free(&after);
	dstat_reset(&t);
	cr_assert_eq(t.live, 0);
	cr_assert_eq(t.evictions, 0);
	uint64_t c = dstat_touch(&t, 5, "q5", 2, "u", "s", 1);
	dstat_record(&t, c, 10, false, 0, 0, 1);
	cr_assert_eq(t.live, 1);
	dstat_destroy(&t);
}

Test(digest_stats, merge_combines_workers)
{
	struct dstat_table w[3];
	struct dstat_rows snaps[3], merged;

	for (int i = 0; i < 3; i++) {
		cr_assert_eq(dstat_init(&w[i], 32), 0);
		for (int k = 0; k <= i; k++) {
			uint64_t c = dstat_touch(&w[i], 42, "SELECT ?", 8, "u", "s",
						 (uint64_t)(100 + i));
			dstat_record(&w[i], c, (uint64_t)(10 * (i + 1)), k == 0, 1,
				     0, (uint64_t)(100 + i));
		}
		uint64_t c = dstat_touch(&w[i], (uint64_t)(1000 + i), "X", 1, "u",
					 "s", 1);
		dstat_record(&w[i], c, 1, false, 0, 0, 1);
		cr_assert_eq(dstat_snapshot(&w[i], &snaps[i]), 0);
	}
	cr_assert_eq(dstat_merge(snaps, 3, &merged), 0);
	cr_assert_eq(merged.n, 4);
	bool found = false;
	for (size_t i = 0; i < merged.n; i++) {
		struct dstat *e = &merged.rows[i];
		if (e->digest != 42)
			continue;
		found = true;
		cr_assert_eq(e->count, 6);
		cr_assert_eq(e->errors, 3);
		cr_assert_eq(e->sum_us, 10 * 1 + 20 * 2 + 30 * 3);
		cr_assert_eq(e->min_us, 10);
		cr_assert_eq(e->max_us, 30);
		cr_assert_eq(e->first_seen, 100);
		cr_assert_eq(e->last_seen, 102);
		uint64_t hsum = 0;
		for (unsigned b = 0; b < HIST_BUCKETS; b++)
			hsum += e->hist.count[b];
		cr_assert_eq(hsum, 6);
	}
	cr_assert(found);
	dstat_rows_free(&merged);
	for (int i = 0; i < 3; i++)
		dstat_destroy(&w[i]);
}
