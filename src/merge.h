/*
 * merge.h - merges the result streams of N shards into one result, as one
 * server holding all the rows would have answered.  Pure: no I/O; the
 * caller feeds each shard's row packets as they arrive, in any
 * interleaving, and the merge hands finished rows to an emit callback as
 * soon as they are certain.
 *
 *   shard 0 rows ─┐                                   ┌─ ORDER BY over merged
 *   shard 1 rows ─┼─ concatenation | k-way merge ─ aggregate ─ project ─ rows ─ OFFSET/LIMIT ─ emit
 *   shard N rows ─┘   (keys: the     (GROUP BY,    (callback:  (buffered,
 *                      shards' order) DISTINCT,     HAVING,     top-N with
 *                                     COUNT, SUM,   expressions) a LIMIT)
 *                                     MIN, MAX, AVG)
 *
 * Every stage but the first is optional; each is described with its
 * fields of struct merge_spec.  What the shards must be asked for (the
 * planner's rewrite) is part of each stage's contract:
 *
 * Concatenation (nkeys == 0): rows pass through in arrival order, unbuffered.
 *
 * K-way merge (nkeys > 0): every shard returns its rows sorted by keys
 * (ORDER BY on the same columns, directions and collations).  A row is
 * emitted once every shard that has not ended has a row queued, so a
 * shard's rows wait only while another shard has not yet sent its next
 * row: memory is the rows queued per shard, never a whole result.  A
 * shard with more than pause_bytes queued should stop being read
 * (merge_should_pause()); this never stalls the merge, which only ever
 * waits for a shard with nothing queued.
 *
 * Aggregation (aggregate): rows with equal values of the first ngroup keys
 * form a group (every shard returns GROUP BY g ORDER BY g, so a group's
 * rows from all shards meet in the k-way merge); with ngroup == 0 all rows
 * are one group and one row comes out even if no shard sent a row (COUNT 0,
 * SUM NULL).  The merged row's columns (out) combine the shards' partial
 * results:
 *
 *   MERGE_COL             the group's first row's value (grouping columns,
 *                         and SELECT DISTINCT a, b as GROUP BY a, b)
 *   MERGE_COUNT           sum of partial COUNT(*) / COUNT(x)
 *   MERGE_SUM             sum of partial SUMs, NULL if all are NULL
 *   MERGE_MIN, MERGE_MAX  of the partials, NULLs ignored
 *   MERGE_AVG             sum of the SUM partials (col) / sum of the COUNT
 *                         partials (col2): shards get AVG(x) rewritten to
 *                         SUM(x), COUNT(x); NULL when the count is 0
 *   MERGE_COUNT_DISTINCT  COUNT(DISTINCT keys[ngroup..nkeys)): shards return
 *   MERGE_SUM_DISTINCT    GROUP BY g, x ORDER BY g, x (x the distinct
 *   MERGE_AVG_DISTINCT    arguments); a tuple counts once however many
 *                         shards hold it, and not at all if one of its
 *                         values is NULL.  SUM/AVG(DISTINCT x): col is x.
 *                         Other aggregates of the same query combine the
 *                         per-(g, x) partials as usual.
 *
 * Projection (project): a callback of the planner's computes the final
 * row from the merged one: HAVING (drop the row), expressions over
 * aggregates, hidden columns left out.  Without one, the merged columns
 * are the result.
 *
 * Sort (nsort > 0): ORDER BY on final columns that the shards could not
 * sort by (an aggregate, an expression): rows are buffered, within the
 * budget, and come out when every shard has ended; with a LIMIT only the
 * best offset + limit rows are kept.
 *
 * OFFSET/LIMIT: applied last.  Shards get LIMIT offset + limit (no
 * offset); once limit rows are out the merge is done and the caller may
 * stop reading (and cancel) the shards.
 *
 * Memory: queued rows, group and sort buffers are allocated in bounded
 * chunks, all counted against budget; above it the merge fails with a
 * clear message instead of growing.  Nothing else is allocated after
 * merge_new().
 *
 * Values are compared as the server compares them (mysql_value.h):
 * numbers by value, DECIMAL exactly, temporal values by time, strings by
 * the collation the planner names for each key (collation.h: result sets
 * do not carry a column's collation); NULL first in ascending order.
 */
#ifndef MYRING_MERGE_H
#define MYRING_MERGE_H

#include "mysql_srv.h"
#include "mysql_value.h"
#include "rs_codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERGE_DEFAULT_BUDGET      (16u << 20)
#define MERGE_DEFAULT_PAUSE_BYTES (256u << 10)
#define MERGE_NO_LIMIT            UINT64_MAX
/* A collation id meaning "the one in the column definition": right only
 * when the column's collation is the connection's result collation. */
#define MERGE_COLL_FROM_DEF       0xFFFFu

/* merge_row() / merge_end() results. */
#define MERGE_OK    0
#define MERGE_DONE  1   /* the result is complete: every row is out */
#define MERGE_ERROR (-1)

enum merge_agg {
	MERGE_COL,
	MERGE_COUNT,
	MERGE_SUM,
	MERGE_MIN,
	MERGE_MAX,
	MERGE_AVG,
	MERGE_COUNT_DISTINCT,
	MERGE_SUM_DISTINCT,
	MERGE_AVG_DISTINCT,
};

struct merge_key {
	unsigned col;
	bool desc;
	/* For strings that are not binary: the collation the shards sorted
	 * by (required: 0 is refused), or MERGE_COLL_FROM_DEF. */
	uint16_t collation;
};

struct merge_col {
	enum merge_agg agg;
	unsigned col;           /* input column (partial, or argument) */
	unsigned col2;          /* MERGE_AVG: the COUNT partial */
	uint16_t collation;     /* MIN/MAX over strings, as merge_key's */
	struct rs_coldef def;   /* the merged column (merge_types.h) */
};

/* Computes the final row (nout values) from the merged one (nin values;
 * strings point into merge memory, valid during the call).  Returns 1 to
 * keep the row, 0 to drop it (HAVING), -1 to fail the query with a
 * message in err. */
typedef int (*merge_project_fn)(void *ctx, const struct myv *in, unsigned nin,
				struct myv *out, unsigned nout, char *err,
				size_t errlen);

/* Takes one row of the result (a row packet's payload, valid during the
 * call).  Returns 0, or -1 to stop the merge. */
typedef int (*merge_emit_fn)(void *ctx, const uint8_t *payload, size_t len);

struct merge_spec {
	unsigned nstreams;              /* shards, >= 1 */
	enum rs_proto in_proto;         /* what the shards send */
	enum rs_proto out_proto;        /* what the client gets */
	unsigned ncols;                 /* columns of every shard's rows */
	const struct rs_coldef *cols;

	unsigned nkeys;                 /* the shards' ORDER BY; 0: concatenate */
	const struct merge_key *keys;

	bool aggregate;
	unsigned ngroup;                /* keys[0..ngroup) group; the rest are
	                                 * the DISTINCT arguments */

	unsigned nout;                  /* merged columns; without aggregate, */
	const struct merge_col *out;    /* MERGE_COL only, or nout 0 = all */

	merge_project_fn project;
	void *project_ctx;
	unsigned nfinal;                /* the project callback's columns */
	const struct rs_coldef *final;

	unsigned nsort;                 /* ORDER BY on final columns */
	const struct merge_key *sort;

	uint64_t offset;
	uint64_t limit;                 /* MERGE_NO_LIMIT: none */

	size_t budget;                  /* bytes; 0: MERGE_DEFAULT_BUDGET */
	size_t pause_bytes;             /* 0: MERGE_DEFAULT_PAUSE_BYTES */

	merge_emit_fn emit;
	void *emit_ctx;
};

struct merge;

/* Checks the spec (columns, collations, aggregates) and sets up every
 * buffer whose size it fixes.  Returns NULL with a message in err (a
 * MySQL error for the client: collation not supported, ...). */
struct merge *merge_new(const struct merge_spec *spec, char *err,
			size_t errlen);
void merge_free(struct merge *m);

/* One row packet payload from shard `stream` (not the terminator).
 * Returns MERGE_OK, MERGE_DONE (LIMIT reached; further rows are ignored)
 * or MERGE_ERROR. */
int merge_row(struct merge *m, unsigned stream, const uint8_t *payload,
	      size_t len);
/* Shard `stream` sent its terminator.  Returns MERGE_DONE once every
 * shard has ended and the last rows are out. */
int merge_end(struct merge *m, unsigned stream);

/* Bytes of shard `stream`'s rows queued: stop reading it while this is
 * above the spec's pause_bytes (merge_should_pause). */
size_t merge_backlog(const struct merge *m, unsigned stream);
bool merge_should_pause(const struct merge *m, unsigned stream);
/* Bytes the merge holds (queues, groups, sort), within the budget. */
size_t merge_memory(const struct merge *m);

/* After MERGE_ERROR: the message for the client ("myring: ..."). */
const char *merge_error(const struct merge *m);

/* The result's columns: final, merged, or the shards' own. */
const struct rs_coldef *merge_columns(const struct merge *m, unsigned *n);
/* Appends the column count, the definitions and (without
 * CLIENT_DEPRECATE_EOF) the EOF to pb, for a client with caps. */
void merge_write_header(const struct merge *m, struct pkt_buf *pb,
			uint64_t caps);
/* Appends the terminator (EOF, or OK 0xFE with CLIENT_DEPRECATE_EOF). */
void merge_write_end(struct pkt_buf *pb, uint64_t caps, uint16_t status,
		     uint16_t warnings);

#endif
