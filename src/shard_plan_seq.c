/*
 * shard_plan_seq.c - an INSERT into a sharded table with a sequence that
 * leaves its key to the sequence (docs/sharding.md, "Sequences"): the
 * planner takes the keys (plan_ctx.take_keys) and writes them into the
 * statement's tree as literals, one per row that needs one, so that the
 * rows are placed and split per shard like rows that named their keys.
 *
 * A row needs a key when the column list lacks the key column, or its
 * value is NULL, DEFAULT, or 0 (as AUTO_INCREMENT reads 0, unless
 * sql_mode has NO_AUTO_VALUE_ON_ZERO).  The keys go to the rows in text
 * order, ascending, so the first row's key is the smallest: what MySQL's
 * LAST_INSERT_ID() reports for a multi-row INSERT.
 */
#include "shard_plan_int.h"

#include <stdio.h>
#include <string.h>

/* Only digits 0 after an optional '-'. */
static bool zero_text(const char *p, size_t len)
{
	size_t i = len && p[0] == '-';

	if (i == len)
		return false;
	for (; i < len; i++)   /* not NUL-terminated */
		if (p[i] != '0')
			return false;
	return true;
}

/*
 * An execution planned by its parameters' values (plan_ctx.params) leaves
 * the key to the sequence where a ? bound as a number reads 0: the
 * integer, or a DOUBLE or DECIMAL that looks the same.  Which of them it
 * is, is for the planning with the values written in (plan_ctx.bind) to
 * say: such a ? asks for keys (PLAN_KEYS), so that it is planned so.  A
 * ? bound as NULL places nothing and is planned so anyway.
 */
static bool param_wants_key(const struct planner *pl,
			    const struct sql_expr *v)
{
	const struct plan_param *pp = pl->ctx->params;

	if (!pp || v->param >= pl->ctx->nparams || !pp[v->param].known ||
	    pp[v->param].is_string ||
	    (pl->ctx->sql_mode & PLAN_MODE_NO_AUTO_VALUE_ON_ZERO))
		return false;
	return zero_text(pp[v->param].text, pp[v->param].len);
}

static bool wants_key(const struct planner *pl, const struct sql_expr *v)
{
	if (v->kind == SQL_E_DEFAULT)
		return true;
	if (v->kind == SQL_E_PARAM)
		return param_wants_key(pl, v);
	if (v->kind != SQL_E_LITERAL)
		return false;
	if (v->op == SQL_LIT_NULL)
		return true;
	if (v->op != SQL_LIT_INT ||
	    (pl->ctx->sql_mode & PLAN_MODE_NO_AUTO_VALUE_ON_ZERO))
		return false;
	for (size_t i = 0; i < v->text.len; i++)   /* not NUL-terminated */
		if (v->text.ptr[i] != '0')
			return false;
	return v->text.len > 0;
}

static struct sql_expr *new_node(struct planner *pl)
{
	struct sql_expr *e = sql_arena_alloc(pl->a, sizeof(*e));

	if (e)
		memset(e, 0, sizeof(*e));
	return e;
}

/* e becomes the integer literal k (its place in its list kept). */
static int set_key(struct planner *pl, struct sql_expr *e, int64_t k)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lld", (long long)k);
	const char *text = sql_arena_dup(pl->a, buf, (size_t)n);
	struct sql_expr *next = e->next;
	uint32_t pos = e->pos;

	if (!text)
		return -1;
	memset(e, 0, sizeof(*e));
	e->kind = SQL_E_LITERAL;
	e->op = SQL_LIT_INT;
	e->text = (struct sql_str){ text, (size_t)n };
	e->next = next;
	e->pos = pos;
	if (!pl->first_key)
		pl->first_key = e;
	return 0;
}

static int nomem(struct planner *pl)
{
	return plan_fail_code(pl, 1105, "HY000",
			      "myring: out of memory planning the statement");
}

/* The position of t's key in the column list, or -1. */
static int key_position(const struct sql_insert *in,
			const struct shard_table *t, unsigned *ncols)
{
	int at = -1;

	*ncols = 0;
	for (const struct sql_name *n = in->columns; n; n = n->next) {
		if (at < 0 && plan_name_eq(n->name, t->key))
			at = (int)*ncols;
		(*ncols)++;
	}
	return at;
}

static struct sql_expr *nth(struct sql_expr *e, unsigned i)
{
	while (e && i--)
		e = e->next;
	return e;
}

/* How many keys the statement needs (appending the key column where it
 * is missing); -1 after plan_fail(). */
static long count_wanted(struct planner *pl, struct sql_insert *in,
			 const struct shard_table *t, int *key_at)
{
	unsigned ncols, row = 0;
	long want = 0;

	if (in->set) {
		struct sql_assign *a = in->set;

		for (; a && !plan_name_eq(a->column->column, t->key);
		     a = a->next)
			;
		*key_at = a ? 0 : -1;
		return !a || wants_key(pl, a->value);
	}
	if (!in->columns)
		return 0;       /* refused by the caller: no key column */
	*key_at = key_position(in, t, &ncols);
	for (struct sql_expr *r = in->rows; r; r = r->next) {
		unsigned nvals = 0;

		row++;
		for (struct sql_expr *v = r->args; v; v = v->next)
			nvals++;
		/* A row of the wrong length would take the key in another
		 * column's place once the key column is added. */
		if (nvals != ncols)
			return plan_fail_code(pl, 1136, "21S01", "myring: column "
					      "count doesn't match value count "
					      "at row %u", row);
		if (*key_at < 0 ||
		    wants_key(pl, nth(r->args, (unsigned)*key_at)))
			want++;
	}
	return want;
}

static struct sql_expr *null_node(struct planner *pl)
{
	struct sql_expr *v = new_node(pl);

	if (v) {
		v->kind = SQL_E_LITERAL;
		v->op = SQL_LIT_NULL;   /* replaced by its key */
	}
	return v;
}

/* The key column, added to the column list (NULL in every row) or the
 * SET list (= NULL). */
static int add_key_column(struct planner *pl, struct sql_insert *in,
			  const struct shard_table *t)
{
	struct sql_str key = { t->key, strlen(t->key) };

	if (in->set) {
		struct sql_assign *a = sql_arena_alloc(pl->a, sizeof(*a)), **tail;
		struct sql_expr *col = new_node(pl), *value = null_node(pl);

		if (!a || !col || !value)
			return -1;
		col->kind = SQL_E_COLUMN;
		col->column = key;
		a->column = col;
		a->value = value;
		a->next = NULL;
		for (tail = &in->set; *tail; tail = &(*tail)->next)
			;
		*tail = a;
		return 0;
	}
	{
		struct sql_name *n = sql_arena_alloc(pl->a, sizeof(*n)), **tail;

		if (!n)
			return -1;
		n->name = key;
		n->next = NULL;
		for (tail = &in->columns; *tail; tail = &(*tail)->next)
			;
		*tail = n;
	}
	for (struct sql_expr *r = in->rows; r; r = r->next) {
		struct sql_expr *v = null_node(pl), **tail;

		if (!v)
			return -1;
		for (tail = &r->args; *tail; tail = &(*tail)->next)
			;
		*tail = v;
	}
	return 0;
}

int plan_insert_keys(struct planner *pl, struct sql_insert *in,
		     const struct shard_table *t)
{
	const struct plan_ctx *c = pl->ctx;
	int seq = t->sequence[0] ? keyspace_sequence(pl->ks, t->sequence) : -1;
	int64_t *keys;
	long want;
	int key_at = -1;
	unsigned k = 0;

	if (seq < 0)
		return 0;
	want = count_wanted(pl, in, t, &key_at);
	if (want <= 0)
		return (int)want;
	if (pl->explaining)
		return plan_fail(pl, "myring: EXPLAIN of an INSERT that takes "
				     "keys from sequence %s: its shards are the "
				     "keys' (name the key to see them)",
				 t->sequence);
	if (want > 1000000)
		return plan_fail(pl, "myring: an INSERT into sharded table %s "
				     "takes at most 1000000 keys of sequence "
				     "%s at once", t->name, t->sequence);
	keys = sql_arena_alloc(pl->a, (size_t)want * sizeof(*keys));
	if (!keys)
		return nomem(pl);
	/* Without take_keys (a prepare, or an execution planned by the
	 * values that place it) no keys are taken: the plan says how many
	 * it needs. */
	if (!c->take_keys ||
	    c->take_keys(c->keys_arg, (unsigned)seq, (unsigned)want, keys)) {
		pl->out->kind = PLAN_KEYS;
		pl->out->need_seq = (unsigned)seq;
		pl->out->need_keys = (unsigned)want;
		return 2;
	}
	if (key_at < 0 && add_key_column(pl, in, t))
		return nomem(pl);
	if (in->set) {
		struct sql_assign *a = in->set;

		for (; !plan_name_eq(a->column->column, t->key); a = a->next)
			;
		if (set_key(pl, a->value, keys[0]))
			return nomem(pl);
	} else {
		unsigned ncols;
		unsigned at = (unsigned)key_position(in, t, &ncols);

		for (struct sql_expr *r = in->rows; r; r = r->next) {
			struct sql_expr *v = nth(r->args, at);

			if (wants_key(pl, v) && set_key(pl, v, keys[k++]))
				return nomem(pl);
		}
	}
	pl->out->insert_id = (uint64_t)keys[0];
	return 1;
}

int plan_insert_one_keyed(struct planner *pl, const struct sql_statement *st,
			  unsigned shard)
{
	struct shard_plan *p = pl->out;
	struct sql_expr *e = pl->first_key, *lit = new_node(pl);
	static const char fn[] = "LAST_INSERT_ID";
	const char *sql;
	size_t len;

	if (!e || !lit)
		return nomem(pl);
	*lit = *e;
	lit->next = NULL;
	e->kind = SQL_E_FUNC;
	e->op = 0;
	e->flags = 0;
	e->args = lit;
	e->fschema = (struct sql_str){ 0 };
	e->fname = (struct sql_str){ fn, sizeof(fn) - 1 };
	e->forder = NULL;
	e->separator = NULL;
	sql = plan_print(pl, st, &len);
	if (!sql)
		return -1;
	p->kind = PLAN_ONE;
	p->rewritten = true;
	p->nparts = 1;
	p->parts[0] = (struct plan_part){ shard, sql, len };
	return 0;
}
