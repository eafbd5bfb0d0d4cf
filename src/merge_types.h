/*
 * merge_types.h - the column definitions MariaDB 10.11 gives aggregates,
 * for the merged columns myring builds itself (merge.h): AVG rewritten to
 * SUM and COUNT, COUNT/SUM/AVG(DISTINCT x) computed from the shards'
 * distinct x.  Where a shard computed the same aggregate, its own column
 * definition is already the answer.
 *
 * Each rule was read from the server (tests/capture, docs/architecture.md
 * "Merging results"); tests/unit/test_merge_types.c checks them against
 * the definitions MariaDB sent for every column type (merge_fixtures.h),
 * and tests/integration/test_merge.c against the live server on every
 * `make test`:
 *
 *   COUNT(x)      LONGLONG(21), NOT NULL
 *   SUM(x)        exact x (integers, DECIMAL, BIT, YEAR, temporal values,
 *                 ENUM/SET): DECIMAL(min(p + 22, 65), s);
 *                 otherwise DOUBLE, decimals of a FLOAT(m,d)/DOUBLE(m,d)
 *   AVG(x)        exact x: DECIMAL(p + 4, min(s + 4, 38));
 *                 otherwise DOUBLE, d + 4 decimals for FLOAT(m,d)/DOUBLE(m,d)
 *   MIN/MAX(x)    x's type; integers at their type's full display width,
 *                 FLOAT/DOUBLE at 17 + d (23 without d); strings and BLOBs
 *                 with decimals 39, TEXT/BLOB by size (TINY_BLOB..LONG_BLOB),
 *                 ENUM/SET as VAR_STRING; nullable; only UNSIGNED, BINARY
 *                 and NUM flags are kept (BINARY added for binary charset)
 *
 * p is x's precision: integers by their type (TINYINT 3, SMALLINT 5,
 * MEDIUMINT 8, INT 10, BIGINT 19, BIGINT UNSIGNED 20), DECIMAL(p,s) its
 * own, BIT(m) m, YEAR 4, DATE 8, DATETIME(n)/TIMESTAMP(n) 14 + n,
 * TIME(n) 7 + n, ENUM/SET their length in characters.
 */
#ifndef MYRING_MERGE_TYPES_H
#define MYRING_MERGE_TYPES_H

#include "merge.h"

/*
 * The definition of agg(x) given x's, as the server reports x in the same
 * connection (so its charset is the connection's result character set).
 * Names and origin fields: the result's name is x's (the caller renames
 * it), schema, table and originals are empty, as for any expression.
 * Two lengths depend on the column's own character set, which the
 * definition of x does not carry (it shows the result character set):
 * AVG over a string column (a DOUBLE of at most 23) and MIN/MAX over a
 * TEXT column.  They are computed for a column in the result character
 * set, the common case (a utf8mb4 table read over a utf8mb4 connection).
 * Returns 0, or -1 for an aggregate that has no rule (MERGE_COL).
 */
int merge_type_of(enum merge_agg agg, const struct rs_coldef *x,
		  struct rs_coldef *out);

/* x's precision as the server counts it for SUM and AVG (above); 0 for
 * types whose SUM and AVG are DOUBLE. */
unsigned merge_type_precision(const struct rs_coldef *x);

#endif
