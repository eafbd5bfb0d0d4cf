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
	bool explaining;        /* under EXPLAIN: take no sequence keys */
	/* The first key an INSERT got from a sequence (a literal node of the
	 * statement's tree), or NULL. */
	struct sql_expr *first_key;
	/* The statement planned (lookups print it for their next steps). */
	const struct sql_statement *st;
};

/* ---- routing (shard_plan.c) ---------------------------------------------- */

#define MAX_TREFS  256
#define MAX_SCOPES 128
#define MAX_CUTS   16

/* A table named by the statement, in the scope (query) naming it. */
struct tref {
	struct sql_str ref;             /* what its columns are qualified by */
	struct sql_str name;
	const struct shard_table *t;    /* TABLE_SHARDED, TABLE_BROADCAST */
	uint8_t kind;                   /* enum shard_table_kind, 0: none */
	unsigned shard;                 /* TABLE_UNSHARDED */
	unsigned scope;
	unsigned parent;                /* its class (union-find) */
	uint64_t mask;                  /* shards its key values allow */
	bool correlated;                /* key = an outer table's key */
	/* a table of a derived table or WITH query answered per shard:
	 * the derived table's own tref stands for its rows */
	bool pushed;
	const struct sql_from *from;    /* where it is named */
};

enum scope_role { SCOPE_TOP, SCOPE_SUB, SCOPE_DERIVED };

struct scope {
	int outer;
	uint8_t role;                   /* enum scope_role */
	const struct sql_query *q;      /* its SELECT */
	/* a derived table's scope not pushed down: why (the refusal) */
	const char *why;
	bool used;                      /* a WITH query's: it is named */
};

/* key IN (SELECT key2 FROM ...): a semi-join that may be co-located */
struct semi {
	unsigned t;
	const struct sql_query *q;
};

struct cut {                            /* an IN-list to cut per shard */
	struct sql_expr *in;
	struct sql_expr *all;
	const struct shard_table *t;
};

struct route {
	/* grown in the arena: most statements name a table or two */
	struct tref *t;
	unsigned nt, cap_t;
	struct scope *sc;
	unsigned nsc, cap_sc;
	struct cut cuts[MAX_CUTS];
	unsigned ncuts;
	struct semi semis[8];
	unsigned nsemis;
	struct sql_cte *ctes[32];
	bool ctes_recursive[32];        /* WITH RECURSIVE */
	unsigned nctes;
	bool keyspace;                  /* a keyspace table is named */
	bool top_setop;                 /* the top query is a UNION ... */
	/* the top query has no rows (key values on different shards) and
	 * nothing else places it: any one shard answers it */
	bool empty_anywhere;
	uint64_t mask;                  /* the shards it goes to */
	/* an outer join keeps rows of this table, which is not sharded,
	 * against a sharded one (refused across shards) */
	struct sql_str outer_kept;
	/* the first `column = value` / `column IN (values)` of the top
	 * query's WHERE on a lookup column (shard_plan_lookup.c) */
	struct lk_cond {
		int t;                  /* the tref, -1: none */
		unsigned lookup;
		struct sql_expr *values;        /* a list (IN) or one */
		bool list;
	} lk;
	bool lk_set;
};

/* A route of its own for one query (a UNION's branch) as the top
 * query: its tables walked, then settled (r->mask, or a refusal). */
int route_walk(struct planner *pl, struct route *r, struct sql_query *q);
int route_settle(struct planner *pl, struct route *r);
/* The shards a settled route goes to (one for broadcast tables only). */
uint64_t route_shards(const struct route *r);
/* It reads no sharded or unsharded table, or its top query has no
 * rows wherever it runs: any one shard answers it. */
bool route_any_shard(const struct route *r);
/* Cuts the route's IN-lists to shard's keys, until route_uncut(). */
int route_cut(struct planner *pl, struct route *r, unsigned shard);
void route_uncut(struct route *r);
/*
 * Whether each shard answers query q (of scope s, whose sharded tables
 * are one class) for its own rows alone, so that the union of the
 * shards' answers is the answer: no aggregates, GROUP BY or DISTINCT
 * unless on the class's shard key (a group, a distinct row, then has one
 * key value: one shard), no LIMIT.  distinct_ok: the rows are made
 * distinct after the merge anyway.  NULL, or what breaks it.
 */
const char *route_rows_apart(struct planner *pl, struct route *r, unsigned s,
			     const struct sql_query *q, bool distinct_ok);
/* PLAN_ONE: the client's text to one shard. */
void plan_on_shard(struct planner *pl, unsigned shard);

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

/* A top-level UNION [ALL] (shard_plan_union.c): each branch routed on
 * its own, sent to its shards only, the rows merged.  0, or -1 after
 * plan_fail(). */
int plan_union(struct planner *pl, struct sql_statement *st);

/* From shard_plan_select.c: MERGE_* of an aggregate call, -1 for no
 * aggregate, -2 for one myring cannot merge; a LIMIT's number (0
 * without one; -1 after plan_fail() for other than a number); an
 * integer literal in the arena; m->what from the merge. */
int plan_agg_kind(const struct sql_expr *e);
/* Whether e (and the expressions after it in its list) holds an
 * aggregate of its own query (not a subquery's). */
bool plan_uses_aggregate(const struct sql_expr *e);

/* The select items of q's shard query that give the FLOAT columns of
 * plan_ctx.float_cols asked for as doubles (shard_plan_float.c).  0, or
 * -1 after plan_fail(). */
int plan_float_items(struct planner *pl, struct sql_query *q);
int plan_limit_value(struct planner *pl, const struct sql_expr *e,
		     uint64_t *v);
struct sql_expr *plan_int_literal(struct planner *pl, uint64_t v);
void plan_describe(struct plan_merge *m);

/* The keys of an INSERT into sharded table t whose rows leave the key
 * column to t's sequence (omitted, NULL, DEFAULT, or 0 without
 * NO_AUTO_VALUE_ON_ZERO): the tree is rewritten to carry them as
 * literals (shard_plan_seq.c).  0: nothing to generate; 1: keys given
 * (pl->first_key, out->insert_id); 2: PLAN_KEYS (out says what is
 * needed); -1 after plan_fail(). */
int plan_insert_keys(struct planner *pl, struct sql_insert *in,
		     const struct shard_table *t);

/* A one-shard INSERT that got keys: its first key becomes
 * LAST_INSERT_ID(key), so that the shard's OK reports it and sets it,
 * and the statement is printed for the shard (PLAN_ONE, rewritten).
 * 0, or -1 after plan_fail(). */
int plan_insert_one_keyed(struct planner *pl, const struct sql_statement *st,
			  unsigned shard);

/* ---- lookups (shard_plan_lookup.c) ----------------------------------- */

/* A WHERE conjunct col = value (list false) or col IN (values) of the
 * top query, where col is lookup `lookup` of sharded tref ti: the first
 * is the one a lookup step reads, and once its keys are found
 * (plan_ctx.keys_found) it narrows ti to their shards. */
void lookup_conjunct(struct planner *pl, struct route *r, int ti,
		     unsigned lookup, struct sql_expr *values, bool list);
/* After settle(): a statement over several shards with a lookup
 * condition reads the lookup first (a step).  1: planned (the step, or
 * the lookup tables' set-up), 0: not needed, -1 after plan_fail(). */
int lookup_route(struct planner *pl, struct route *r, uint64_t mask);
/* An INSERT into sharded table t with lookups: the lookup rows of its
 * rows are written first, a step per lookup.  1, 0 or -1 as above. */
int lookup_insert(struct planner *pl, struct sql_insert *in,
		  const struct shard_table *t);
/* A single-table UPDATE (set) or DELETE of tref t, on the shards of
 * mask: the rows it changes are read, then their lookup rows moved or
 * removed, a step each.  1, 0 or -1 as above. */
int lookup_write(struct planner *pl, struct route *r, const struct tref *t,
		 const struct sql_from *table, const struct sql_assign *set,
		 const struct sql_expr *where, bool ordered, bool ignore,
		 uint64_t mask);
/* What a step does, in words (EXPLAIN SHARDS). */
const char *lookup_step_what(const struct shard_plan *p);
/* The shard of a key value as a shard sent it (text, in the session's
 * character set), or -1 (shard_plan.c). */
int plan_key_shard(struct planner *pl, const struct shard_table *t,
		   const char *v, size_t len, bool is_string);
/* The lookup column a column reference of tref ti names, or -1. */
int lookup_column(struct route *r, int ti, const struct sql_expr *col);

/* The merge of a plan in words (EXPLAIN SHARDS). */
const char *plan_merge_what(const struct shard_plan *p);

#endif
