/*
 * shard_plan_int.h - what the planner's files share: the merge a
 * scatter SELECT needs (struct plan_merge, built by shard_plan_select.c
 * while it rewrites the shards' query, read by shard_plan_merge.c once
 * the shards' column definitions are known) and small helpers.
 * Not for other modules: shard_plan.h is the interface.
 */
#ifndef MYRING_SHARD_PLAN_INT_H
#define MYRING_SHARD_PLAN_INT_H

#include "shard_plan.h"
#include "sql_print.h"

/*
 * A shard column index.  Below PM_HIDDEN: a position in the shards'
 * select list.  From PM_HIDDEN on: the (v - PM_HIDDEN)th of the hidden
 * columns the planner appended, counted from the first of them; with a
 * `*` in the select list only the shards' answer says where they start
 * (ncols - nhidden).
 */
#define PM_HIDDEN 0x100000

/* A column of the merged row (merge_spec.out). */
struct pm_col {
	uint8_t agg;            /* enum merge_agg */
	unsigned col;           /* shard column (partial, argument) */
	unsigned col2;          /* MERGE_AVG: the COUNT partial */
	unsigned typed;         /* shard column whose definition it takes */
};

/* A column of the client's row. */
struct pm_final {
	int mid;                /* the merged column it is, or -1 */
	const struct sql_expr *expr;    /* else: evaluated over merged ones */
	unsigned typed;         /* shard column whose definition it takes */
};

/* A node of a HAVING or select expression that reads a merged column. */
struct pm_ref {
	const struct sql_expr *e;
	unsigned mid;
};

struct pm_key {
	unsigned col;           /* shard column (keys), final column (sort) */
	bool desc;
};

struct plan_merge {
	bool aggregate;
	bool all_keys;          /* SELECT DISTINCT *: every column a key */
	bool star;              /* the select list has a `*` */
	unsigned nshard_cols;   /* shard columns, 0 with a `*` */
	unsigned nhidden;       /* hidden columns appended */
	unsigned nkeys, ngroup;
	struct pm_key *keys;
	/* merged columns; 0 without aggregation: the shard columns, less
	 * the hidden ones */
	unsigned nmid;
	struct pm_col *mid;
	/* the client's columns when a projection is needed (nfinal > 0) */
	unsigned nfinal;
	struct pm_final *final;
	const struct sql_expr *having;
	unsigned nrefs;
	struct pm_ref *refs;
	unsigned nsort;
	struct pm_key *sort;
	uint64_t offset, limit;         /* limit MERGE_NO_LIMIT: none */
	bool shard_limit;               /* the shards got LIMIT o+n */
	/* what EXPLAIN SHARDS says about it */
	char what[200];
};

/* The planner's state for one statement. */
struct planner {
	struct sql_arena *a;
	const struct plan_ctx *ctx;
	const struct keyspace *ks;
	const char *sql;
	size_t len;
	struct sql_reading rd;
	struct shard_plan *out;
	bool failed;
};

/* Fails the plan: PLAN_ERROR 1235 (42000) with a "myring: ..." message.
 * Returns -1. */
int plan_fail(struct planner *pl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int plan_fail_code(struct planner *pl, uint16_t code, const char *state,
		   const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The statement printed for the shards into the arena (NUL-terminated).
 * NULL after plan_fail(). */
const char *plan_print(struct planner *pl, const struct sql_statement *st,
		       size_t *len);

/* An expression's printed text in the arena, for comparing two
 * expressions; NULL after plan_fail(). */
const char *plan_expr_text(struct planner *pl, const struct sql_expr *e);

bool plan_name_eq(struct sql_str a, const char *b);
bool plan_str_eq(struct sql_str a, struct sql_str b);

/* Rewrites the (scatter) SELECT q for the shards and describes its merge
 * in pl->out->merge.  0, or -1 after plan_fail(). */
int plan_select_merge(struct planner *pl, struct sql_query *q);

/* The merge of a plan in words (EXPLAIN SHARDS). */
const char *plan_merge_what(const struct shard_plan *p);

#endif
