/*
 * digest_stats.h - per-worker statistics by query fingerprint and
 * (user, schema): counts, errors, rows, time and a latency histogram.
 *
 * One table per worker, touched only by its worker, so recording takes no
 * lock and no atomic.  Memory is bounded: at most `max` entries, and a new
 * fingerprint arriving at a full table evicts the least recently seen of
 * a few sampled entries (approximate LRU, O(1)); evictions are counted.
 * Readers get a copy (dstat_snapshot) made on the worker's own thread, and
 * merge the copies of all workers (dstat_merge).
 */
#ifndef MYRING_DIGEST_STATS_H
#define MYRING_DIGEST_STATS_H

#include "histogram.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DSTAT_USER_MAX 48
#define DSTAT_SCHEMA_MAX 68

struct dstat {
	uint64_t key;            /* digest mixed with user and schema; 0 = free */
	uint64_t digest;
	uint32_t gen;            /* bumped when the entry is reused */
	char *text;              /* fingerprint (malloc'd) */
	char user[DSTAT_USER_MAX];
	char schema[DSTAT_SCHEMA_MAX];
	uint64_t count, errors, rows_sent, rows_affected;
	uint64_t sum_us, min_us, max_us;
	uint64_t first_seen, last_seen;  /* unix seconds */
	struct histogram hist;
};

struct dstat_table {
	uint32_t max;            /* entries */
	uint32_t mask;           /* slots - 1 */
	uint32_t *slots;         /* entry index + 1; 0 = empty */
	struct dstat *pool;      /* max entries, touched as used */
	uint32_t used;           /* entries handed out (never shrinks) */
	uint32_t *free_idx;      /* freed entries, reused first */
	uint32_t nfree;
	uint32_t live;
	uint64_t evictions;
	uint64_t rng;
};

int dstat_init(struct dstat_table *t, uint32_t max);
void dstat_destroy(struct dstat_table *t);
void dstat_reset(struct dstat_table *t);

/*
 * The entry for (digest, user, schema), created with the fingerprint text
 * if absent (evicting one when full).  Returns a cookie for dstat_record,
 * or 0 if memory ran out.  now_s is the wall clock in seconds.
 */
uint64_t dstat_touch(struct dstat_table *t, uint64_t digest, const char *text,
		     size_t text_len, const char *user, const char *schema,
		     uint64_t now_s);
/* Adds one finished command to the entry; ignored if it was evicted since. */
void dstat_record(struct dstat_table *t, uint64_t cookie, uint64_t us,
		  bool error, uint64_t rows, uint64_t affected, uint64_t now_s);

/* A copy of every live entry, with texts copied too (free with
 * dstat_rows_free). */
struct dstat_rows {
	struct dstat *rows;
	size_t n;
};
int dstat_snapshot(const struct dstat_table *t, struct dstat_rows *out);
/* Merges several snapshots: entries with the same digest, user and schema
 * are combined.  Consumes the inputs' texts. */
int dstat_merge(struct dstat_rows *in, unsigned nin, struct dstat_rows *out);
void dstat_rows_free(struct dstat_rows *r);

#endif
