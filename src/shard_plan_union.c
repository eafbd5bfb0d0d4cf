/*
 * shard_plan_union.c - a UNION [ALL] whose rows are on several shards.
 *
 * Each branch is routed on its own, as if it were the whole statement:
 *
 *   a branch over sharded tables spread over several shards ... runs on
 *       each of them, which answers it for its own rows; so it must not
 *       combine rows (route_rows_apart: no aggregates, GROUP BY or
 *       DISTINCT but on the shard key, no LIMIT of its own);
 *   a branch on one shard (a key value, an unsharded table) ..... runs
 *       there only, whatever it computes;
 *   a branch over broadcast tables only, or none (SELECT 1) ..... runs
 *       on one shard of the statement's, so its rows come once.
 *
 * Every shard is sent the whole statement, so that the result's columns
 * (names from the first branch, types from all of them) are the same
 * everywhere; a branch that is not the shard's is given LIMIT 0 there.
 * The shards' rows are then merged as a scatter SELECT's:
 *
 *   UNION ALL ............ concatenated, or with the union's ORDER BY a
 *                          k-way merge; LIMIT o+n on the shards
 *   UNION (DISTINCT) ..... each shard sorts its distinct rows on every
 *                          column (ORDER BY's first), the merge drops the
 *                          rows another shard also had: as SELECT
 *                          DISTINCT; LIMIT o+n on the shards
 *
 * A UNION DISTINCT under a UNION ALL would be made distinct per shard
 * only, and EXCEPT and INTERSECT need every shard's rows at once: those
 * are refused across shards.
 */
#include "shard_plan_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BRANCHES 64

struct branch {
	struct sql_query *q;
	struct route *r;
	uint64_t mask;          /* the shards it runs on; 0: any one */
	/* its own LIMIT, put back after LIMIT 0 */
	struct sql_expr *limit, *offset;
};

struct uplan {
	struct planner *pl;
	struct branch b[MAX_BRANCHES];
	unsigned n;
	bool distinct_inside;   /* a UNION DISTINCT below the top */
};

static bool has_tail(const struct sql_query *q)
{
	return q->order || q->limit || q->offset || q->lock;
}

/* The branches of UNION node q, left to right: every operand that is not
 * a plain UNION (a SELECT, parentheses with clauses of their own, EXCEPT,
 * INTERSECT). */
static int branches(struct uplan *u, struct sql_query *q, bool top)
{
	if (q->kind == SQL_Q_UNION && !q->with && (top || !has_tail(q))) {
		if (!top && !q->all)
			u->distinct_inside = true;
		return branches(u, q->left, false) ||
		       branches(u, q->right, false);
	}
	if (u->n == MAX_BRANCHES)
		return plan_fail(u->pl, "myring: more than %d branches in a "
					"UNION", MAX_BRANCHES);
	u->b[u->n++].q = q;
	return 0;
}

/* The scope of a branch's own SELECT in its route. */
static int branch_scope(const struct branch *b)
{
	for (unsigned s = 0; s < b->r->nsc; s++)
		if (b->r->sc[s].q == b->q && b->r->sc[s].outer < 0)
			return (int)s;
	return -1;
}

static int route_branch(struct uplan *u, struct branch *b, bool distinct)
{
	struct planner *pl = u->pl;
	const char *why;
	int s;

	b->r = sql_arena_alloc(pl->a, sizeof(*b->r));
	if (!b->r)
		return plan_fail(pl, "myring: out of memory");
	if (route_walk(pl, b->r, b->q) || route_settle(pl, b->r))
		return -1;
	if (route_any_shard(b->r)) {
		b->mask = 0;
		return 0;
	}
	b->mask = route_shards(b->r);
	if (__builtin_popcountll(b->mask) < 2)
		return 0;
	s = branch_scope(b);
	why = s < 0 ? "parentheses with an ORDER BY or LIMIT of their own" :
	      route_rows_apart(pl, b->r, (unsigned)s, b->q, distinct);
	if (why)
		return plan_fail(pl, "myring: a UNION branch over sharded tables "
				     "across shards with %s is not supported "
				     "(each shard would answer it for its own "
				     "rows only)", why);
	return 0;
}

/* ---- the merge ----------------------------------------------------------- */

/* The first branch's SELECT: it names the result's columns. */
static const struct sql_query *first_select(const struct sql_query *q)
{
	while (q && q->kind != SQL_Q_SELECT)
		q = q->left;
	return q;
}

/* The result column an ORDER BY of the union names: a position, or the
 * name of a column of the first SELECT (its alias, or the column).
 * -1 after plan_fail(). */
static int union_column(struct planner *pl, const struct sql_query *first,
			const struct sql_expr *e, unsigned ncols, int star_at)
{
	unsigned i = 0;
	int found = -1;
	uint64_t n;

	if (e->kind == SQL_E_LITERAL && e->op == SQL_LIT_INT &&
	    !(e->flags & SQL_EF_NEG) && e->text.len < 6) {
		/* the text is not NUL-terminated */
		n = 0;
		for (size_t k = 0; k < e->text.len; k++)
			n = n * 10 + (uint64_t)(e->text.ptr[k] - '0');
		if (n >= 1 && n <= ncols &&
		    (star_at < 0 || n - 1 < (unsigned)star_at))
			return (int)n - 1;
	}
	if (e->kind == SQL_E_COLUMN && !e->table.len) {
		for (const struct sql_item *it = first->items; it;
		     it = it->next, i++) {
			struct sql_str name = it->alias;

			if (star_at >= 0 && (int)i >= star_at)
				break;
			if (!name.len && it->expr->kind == SQL_E_COLUMN)
				name = it->expr->column;
			if (!plan_str_eq(name, e->column))
				continue;
			if (found >= 0) {
				found = -1;
				break;
			}
			found = (int)i;
		}
		if (found >= 0)
			return found;
	}
	{
		const char *t = plan_expr_text(pl, e);

		return plan_fail(pl, "myring: ORDER BY %.60s of a UNION across "
				     "shards is not supported (name a column "
				     "of the first SELECT, or its position)",
				 t ? t : "");
	}
}

/* The shards' ORDER BY: the merge's keys as positions. */
static struct sql_order *positions(struct planner *pl,
				   const struct plan_merge *m)
{
	struct sql_order *head = NULL, **tail = &head;

	for (unsigned i = 0; i < m->nkeys; i++) {
		struct sql_order *o = sql_arena_alloc(pl->a, sizeof(*o));

		if (!o || !(o->expr = plan_int_literal(pl, m->keys[i].col + 1)))
			return NULL;
		o->desc = m->keys[i].desc;
		*tail = o;
		tail = &o->next;
	}
	return head;
}

/*
 * The merge of the union top (its ORDER BY and LIMIT rewritten for the
 * shards), in pl->out->merge.
 */
static int union_merge(struct planner *pl, struct sql_query *top)
{
	const struct sql_query *first = first_select(top);
	struct plan_merge *m = sql_arena_alloc(pl->a, sizeof(*m));
	bool distinct = !top->all;
	unsigned ncols = 0, norder = 0;
	int star_at = -1;
	bool *used;
	char what[sizeof(m->what)];

	if (!m || !first)
		return plan_fail(pl, "myring: out of memory");
	for (const struct sql_item *it = first->items; it; it = it->next) {
		if (it->expr->kind == SQL_E_STAR && star_at < 0)
			star_at = (int)ncols;
		ncols++;
	}
	m->star = star_at >= 0;
	m->nshard_cols = m->star ? 0 : ncols;
	m->limit = MERGE_NO_LIMIT;
	if (distinct && m->star)
		return plan_fail(pl, "myring: UNION (DISTINCT) across shards "
				     "with * in the first SELECT is not "
				     "supported (name the columns)");
	/* ORDER BY NULL: no order */
	if (top->order && !top->order->next &&
	    top->order->expr->kind == SQL_E_LITERAL &&
	    top->order->expr->op == SQL_LIT_NULL)
		top->order = NULL;
	for (const struct sql_order *o = top->order; o; o = o->next)
		norder++;
	m->keys = sql_arena_alloc(pl->a, (norder + ncols + 1) *
				  sizeof(*m->keys));
	used = sql_arena_alloc(pl->a, ncols + 1);
	if (!m->keys || !used)
		return plan_fail(pl, "myring: out of memory");
	for (const struct sql_order *o = top->order; o; o = o->next) {
		int c = union_column(pl, first, o->expr, ncols, star_at);

		if (c < 0)
			return -1;
		if (used[c])
			continue;
		used[c] = true;
		m->keys[m->nkeys++] = (struct pm_key){ (unsigned)c, o->desc };
	}
	if (distinct) {
		/* every column a key, ORDER BY's first: one group per
		 * distinct row, as SELECT DISTINCT */
		for (unsigned c = 0; c < ncols; c++)
			if (!used[c])
				m->keys[m->nkeys++] = (struct pm_key){ c, false };
		m->aggregate = true;
		m->ngroup = m->nkeys;
		m->mid = sql_arena_alloc(pl->a, ncols * sizeof(*m->mid) + 1);
		if (!m->mid)
			return plan_fail(pl, "myring: out of memory");
		for (unsigned c = 0; c < ncols; c++)
			m->mid[c] = (struct pm_col){ .agg = MERGE_COL, .col = c,
						     .typed = c };
		m->nmid = ncols;
	}
	if (m->nkeys && !(top->order = positions(pl, m)))
		return plan_fail(pl, "myring: out of memory");
	/* Rows come out in the shards' order, distinct ones too: the first
	 * o + n of each shard suffice. */
	if (top->limit) {
		uint64_t n, o;

		if (plan_limit_value(pl, top->limit, &n) ||
		    plan_limit_value(pl, top->offset, &o))
			return -1;
		m->limit = n;
		m->offset = o;
		top->offset = NULL;
		top->limit = NULL;
		if (n + o >= n) {
			if (!(top->limit = plan_int_literal(pl, n + o)))
				return plan_fail(pl, "myring: out of memory");
			m->shard_limit = true;
		}
	}
	plan_describe(m);
	snprintf(what, sizeof(what), "%s: %.180s", distinct ? "UNION" :
		 "UNION ALL", m->what);
	memcpy(m->what, what, sizeof(m->what));
	pl->out->merge = m;
	return 0;
}

/* ---- the plan ------------------------------------------------------------ */

static int print_for(struct uplan *u, struct sql_statement *st,
		     unsigned shard, struct sql_expr *zero)
{
	struct planner *pl = u->pl;
	struct shard_plan *p = pl->out;
	const char *s;
	size_t len;
	int rc = 0;

	for (unsigned i = 0; i < u->n; i++) {
		struct branch *b = &u->b[i];

		b->limit = b->q->limit;
		b->offset = b->q->offset;
		if (!(b->mask >> shard & 1)) {
			b->q->limit = zero;
			b->q->offset = NULL;
		}
		if (!rc)
			rc = route_cut(pl, b->r, shard);
	}
	s = rc ? NULL : plan_print(pl, st, &len);
	for (unsigned i = 0; i < u->n; i++) {
		u->b[i].q->limit = u->b[i].limit;
		u->b[i].q->offset = u->b[i].offset;
		route_uncut(u->b[i].r);
	}
	if (!s)
		return -1;
	p->parts[p->nparts].shard = shard;
	p->parts[p->nparts].sql = s;
	p->parts[p->nparts].len = len;
	p->nparts++;
	return 0;
}

int plan_union(struct planner *pl, struct sql_statement *st)
{
	struct shard_plan *p = pl->out;
	struct sql_query *top = st->query;
	struct uplan *u = sql_arena_alloc(pl->a, sizeof(*u));
	struct sql_expr *zero;
	uint64_t mask = 0, any;
	bool keyspace = false;

	if (!u)
		return plan_fail(pl, "myring: out of memory");
	u->pl = pl;
	if (branches(u, top, true))
		return -1;
	for (unsigned i = 0; i < u->n; i++) {
		if (route_branch(u, &u->b[i], !top->all))
			return -1;
		keyspace |= u->b[i].r->keyspace;
		mask |= u->b[i].mask;
	}
	if (!keyspace) {
		p->kind = PLAN_PASS;
		return 0;
	}
	/* Branches any shard answers: one of the statement's. */
	if (mask)
		any = mask & -mask;
	else if (pl->ctx->in_trans && pl->ctx->trans_shard >= 0 &&
		 (unsigned)pl->ctx->trans_shard < pl->ks->nshards)
		any = 1ull << pl->ctx->trans_shard;
	else
		any = 1;
	mask |= any;
	if (__builtin_popcountll(mask) == 1) {
		plan_on_shard(pl, (unsigned)__builtin_ctzll(mask));
		return 0;
	}
	for (unsigned i = 0; i < u->n; i++)
		if (!u->b[i].mask)
			u->b[i].mask = any;
	if (top->all && u->distinct_inside)
		return plan_fail(pl, "myring: a UNION DISTINCT followed by a "
				     "UNION ALL across shards is not supported "
				     "(its duplicates would be removed per shard "
				     "only)");
	if (union_merge(pl, top))
		return -1;
	if (!(zero = plan_int_literal(pl, 0)))
		return plan_fail(pl, "myring: out of memory");
	p->kind = PLAN_MULTI;
	p->result = PLAN_RESULT_ROWS;
	p->nparts = 0;
	for (uint64_t m = mask; m; m &= m - 1)
		if (print_for(u, st, (unsigned)__builtin_ctzll(m), zero))
			return -1;
	return 0;
}
