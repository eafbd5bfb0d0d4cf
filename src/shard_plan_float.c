/*
 * shard_plan_float.c - exact FLOAT columns in an execution over several
 * shards (docs/sharding.md, "Prepared statements").
 *
 * The shards answer a cross-shard query as text, where a FLOAT has 6
 * significant digits; the binary protocol the client reads carries its
 * 4 bytes.  A DOUBLE's text has the digits that read back as the same
 * double, and every FLOAT is a double exactly, so the shards are asked
 * for the FLOAT columns as doubles: the shard query's select item of
 * each such column becomes CAST(item AS DOUBLE), or for MIN(x) / MAX(x)
 * MIN(CAST(x AS DOUBLE)) (the same order, so the same row wins).  The
 * executor gives those columns their FLOAT definitions back
 * (plan_ctx.float_cols) and encodes the merged values as 4-byte FLOATs:
 * the double is a FLOAT's value, so the float is the one a single
 * server sends.  NULL stays NULL, -0.0 stays -0.0 (a cast keeps the
 * sign).  Sorting, grouping and DISTINCT on the doubles order and
 * compare as on the floats.
 */
#include "shard_plan_int.h"

#include <string.h>

static struct sql_expr *node(struct planner *pl, const struct sql_expr *from)
{
	struct sql_expr *e = sql_arena_alloc(pl->a, sizeof(*e));

	if (e) {
		if (from)
			*e = *from;
		else
			memset(e, 0, sizeof(*e));
		e->next = NULL;
	}
	return e;
}

static int nomem(struct planner *pl)
{
	return plan_fail_code(pl, 1105, "HY000",
			      "myring: out of memory planning the statement");
}

/* CAST(x AS DOUBLE), x copied (its next is the cast's type). */
static struct sql_expr *cast_double(struct planner *pl,
				    const struct sql_expr *x)
{
	static const char cast[] = "CAST", dbl[] = "DOUBLE";
	struct sql_expr *f = node(pl, NULL), *arg = node(pl, x),
			*type = node(pl, NULL);

	if (!f || !arg || !type)
		return NULL;
	type->kind = SQL_E_TYPE;
	type->tname = (struct sql_str){ dbl, sizeof(dbl) - 1 };
	f->kind = SQL_E_FUNC;
	f->pos = x->pos;
	f->fname = (struct sql_str){ cast, sizeof(cast) - 1 };
	arg->sep = SQL_SEP_COMMA;
	type->sep = SQL_SEP_AS;
	arg->next = type;
	f->args = arg;
	return f;
}

/* The select item's expression, asked for as a double. */
static int exact_item(struct planner *pl, struct sql_item *it)
{
	struct sql_expr *e = it->expr, *w;
	int agg = plan_agg_kind(e);

	if (agg == MERGE_MIN || agg == MERGE_MAX) {
		if (!e->args || e->args->next || plan_uses_aggregate(e->args))
			return plan_fail(pl, "myring: the FLOAT column of "
					     "this MIN/MAX cannot be merged "
					     "exactly across shards");
		w = node(pl, e);
		if (!w || !(w->args = cast_double(pl, e->args)))
			return nomem(pl);
		it->expr = w;
		return 0;
	}
	if (agg != -1 || plan_uses_aggregate(e))
		return plan_fail(pl, "myring: a FLOAT column computed from "
				     "aggregates cannot be sent exactly by an "
				     "execution over several shards: send the "
				     "statement as text");
	if (!(w = cast_double(pl, e)))
		return nomem(pl);
	it->expr = w;
	return 0;
}

int plan_float_items(struct planner *pl, struct sql_query *q)
{
	uint64_t mask = pl->ctx->float_cols;
	unsigned ncols = pl->ctx->float_ncols, nitems = 0, k = 1;
	struct sql_item *items[64];
	int star = -1;

	while (q->kind == SQL_Q_PAREN && !q->order && !q->limit)
		q = q->left;
	for (struct sql_item *it = q->items; it; it = it->next) {
		if (nitems == 64)
			return plan_fail(pl, "myring: FLOAT columns in a "
					     "select list of more than 64 items "
					     "cannot be sent exactly by an "
					     "execution over several shards");
		if (it->expr->kind == SQL_E_STAR) {
			if (star >= 0)
				return plan_fail(pl, "myring: a FLOAT column "
						     "of two `*`s cannot be "
						     "sent exactly by an "
						     "execution over several "
						     "shards: name the columns");
			star = (int)nitems;
		}
		items[nitems++] = it;
	}
	/* A `*` stands for the columns the shards' answer has beyond the
	 * other items. */
	if (star >= 0) {
		if (ncols < nitems)
			return plan_fail(pl, "myring: the statement's columns "
					     "changed: prepare it again");
		k = ncols - (nitems - 1);
	} else if (ncols != nitems) {
		return plan_fail(pl, "myring: the statement's columns changed: "
				     "prepare it again");
	}
	for (unsigned j = 0; j < 64 && j < ncols; j++) {
		unsigned i = j;

		if (!(mask & (1ull << j)))
			continue;
		if (star >= 0 && j >= (unsigned)star) {
			if (j < (unsigned)star + k)
				return plan_fail(pl, "myring: a FLOAT column "
						     "of `*` cannot be sent "
						     "exactly by an execution "
						     "over several shards: "
						     "name the columns");
			i = j - k + 1;
		}
		if (exact_item(pl, items[i]))
			return -1;
	}
	return 0;
}
