/*
 * shard_plan_lookup.c - statements on sharded tables with lookups
 * (docs/sharding.md, "Lookup tables").
 *
 * A lookup keeps, in myring.<table> on one shard, a row (value, keyid)
 * per row of the sharded table, so that `col = v` finds the keys (and so
 * the shards) of the rows with v.  A statement that needs a lookup runs
 * in steps: each step is a plan of its own (parts whose answers are not
 * the client's), after which the executor plans the statement again with
 * what the step read (plan_ctx.keys_found, rows_found) and the next step
 * number, until the last plan is the statement itself.  Planning is a
 * pure function of the text, the step and what was read, so the steps
 * need no state here.  The steps, in order (each taken only if needed):
 *
 *   set-up       CREATE DATABASE / TABLE IF NOT EXISTS, once per worker,
 *                outside any transaction (DDL would end it)
 *   route        SELECT keyid FROM the lookup WHERE value IN (...): the
 *                shards of the keys found are the statement's
 *   read         SELECT key, columns ... FOR UPDATE: the rows an UPDATE
 *                or DELETE changes, with their old values
 *   delete i     DELETE of the old (value, keyid) rows of lookup i
 *   insert i     INSERT of the new (value, keyid) rows of lookup i
 *   the statement
 *
 * A write's steps run in one distributed transaction (the session's, or
 * an implicit one), so the lookup rows change with the row or not at all.
 */
#include "shard_plan_int.h"

#include "collation.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Step numbers after the set-up (which takes 1 + lookups of the keyspace). */
enum {
	ST_ROUTE = 0,
	ST_READ = 1,
	ST_DELETE = 2,
	ST_INSERT = ST_DELETE + SHARD_LOOKUPS_MAX,
};

static unsigned lookups_total(const struct keyspace *ks)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ks->ntables; i++)
		n += ks->tables[i].nlookups;
	return n;
}

static unsigned base(const struct planner *pl)
{
	return 1 + lookups_total(pl->ks);
}

/* Whether this step is still to run. */
static bool due(const struct planner *pl, unsigned step)
{
	return pl->ctx->step <= base(pl) + step;
}

/* ---- text ---------------------------------------------------------------- */

static void put_name(struct sql_buf *b, const char *s, size_t n)
{
	sql_buf_putc(b, '`');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '`')
			sql_buf_putc(b, '`');
		sql_buf_putc(b, s[i]);
	}
	sql_buf_putc(b, '`');
}

static void put_table(struct sql_buf *b, const struct shard_lookup *l)
{
	sql_buf_puts(b, "`myring`.");
	put_name(b, l->table, strlen(l->table));
}

/* e as the session reads it; -1 after plan_fail(). */
static int put_expr(struct planner *pl, struct sql_buf *b,
		    const struct sql_expr *e)
{
	struct sql_print_opts po = { .rd = &pl->rd };
	struct sql_expr one = *e;
	int r;

	one.next = NULL;
	r = sql_print_expr(b, &one, &po);
	if (r == SQL_PRINT_NOMEM || r == SQL_PRINT_TOO_DEEP)
		return plan_fail(pl, "myring: out of memory");
	if (r == SQL_PRINT_INEXACT)
		return plan_fail(pl, "myring: a lookup's value cannot be "
				 "written exactly in this character set");
	return 0;
}

/* A value a shard sent (a cell), as a literal: an integer as itself
 * (compared exactly with a BIGINT column), anything else as a string in
 * the session's character set. */
static int put_cell(struct planner *pl, struct sql_buf *b, const char *v,
		    size_t n, bool is_int)
{
	struct sql_expr e;
	size_t digits;

	memset(&e, 0, sizeof(e));
	e.kind = SQL_E_LITERAL;
	e.op = SQL_LIT_STRING;
	if (is_int && n && v[0] == '-') {
		e.flags |= SQL_EF_NEG;
		v++;
		n--;
	}
	digits = 0;
	while (digits < n && v[digits] >= '0' && v[digits] <= '9')
		digits++;
	if (is_int && n && digits == n && n <= 20) {
		e.op = SQL_LIT_INT;
	} else if (e.flags & SQL_EF_NEG) {
		e.flags = 0;
		v--;
		n++;
	}
	e.text = (struct sql_str){ v, n };
	return put_expr(pl, b, &e);
}

/* The text of b into the arena; NULL after plan_fail(). */
static const char *finish(struct planner *pl, struct sql_buf *b, size_t *len)
{
	const char *s = NULL;

	if (!b->oom)
		s = sql_arena_dup(pl->a, b->buf ? b->buf : "", b->len);
	*len = b->len;
	sql_buf_free(b);
	if (!s)
		plan_fail(pl, "myring: out of memory");
	return s;
}

/* ---- steps --------------------------------------------------------------- */

/* This plan is step `step` (absolute): parts on the shards of mask, each
 * sent text; the statement is planned again after it. */
static int emit(struct planner *pl, unsigned step, uint64_t mask,
		struct sql_buf *b, uint8_t collect, bool pooled)
{
	struct shard_plan *p = pl->out;
	const char *text;
	size_t len;

	text = finish(pl, b, &len);
	if (!text)
		return -1;
	p->kind = PLAN_MULTI;
	p->nparts = 0;
	for (uint64_t m = mask; m; m &= m - 1) {
		struct plan_part *pt = &p->parts[p->nparts++];

		pt->shard = (unsigned)__builtin_ctzll(m);
		pt->sql = text;
		pt->len = len;
	}
	p->step = step;
	p->more = true;
	p->collect = collect;
	p->pooled = pooled;
	p->result = collect ? PLAN_RESULT_ROWS : PLAN_RESULT_OK;
	p->merge = NULL;
	if (!pl->ctx->step && pl->st) {
		/* The next steps plan the statement with its values (and the
		 * keys it was given) written in. */
		p->replan = plan_print(pl, pl->st, &p->replan_len);
		if (!p->replan)
			return -1;
	}
	return 1;
}

/* The n-th lookup of the keyspace, counting every table's. */
static const struct shard_lookup *nth_lookup(const struct keyspace *ks,
					     unsigned n,
					     const struct shard_table **t)
{
	for (unsigned i = 0; i < ks->ntables; i++) {
		if (n < ks->tables[i].nlookups) {
			*t = &ks->tables[i];
			return &ks->tables[i].lookups[n];
		}
		n -= ks->tables[i].nlookups;
	}
	return NULL;
}

static void put_string_type(struct sql_buf *b, uint16_t collation)
{
	const char *c = coll_name(collation);

	if (!c || !strcmp(c, "binary")) {
		sql_buf_puts(b, "VARBINARY(255)");
		return;
	}
	sql_buf_puts(b, "VARCHAR(255) CHARACTER SET ");
	sql_buf_puts(b, !strncmp(c, "latin1", 6) ? "latin1" :
			!strncmp(c, "utf8mb3", 7) ? "utf8mb3" : "utf8mb4");
	sql_buf_puts(b, " COLLATE ");
	sql_buf_puts(b, c);
}

/* The lookup tables' set-up, once per worker: CREATE DATABASE on their
 * shards, then each lookup's CREATE TABLE.  1 while a step of it is
 * due, 0 once done. */
static int setup(struct planner *pl)
{
	const struct keyspace *ks = pl->ks;
	const struct shard_table *t;
	const struct shard_lookup *l;
	struct sql_buf b = { 0 };
	uint64_t mask = 0;

	if (pl->ctx->lookups_ready || pl->explaining || pl->ctx->step >= base(pl))
		return 0;
	if (!pl->ctx->step) {
		for (unsigned i = 0; i < lookups_total(ks); i++)
			if ((l = nth_lookup(ks, i, &t)))
				mask |= 1ull << l->shard;
		sql_buf_puts(&b, "CREATE DATABASE IF NOT EXISTS `myring`");
		return emit(pl, 0, mask, &b, PLAN_COLLECT_NONE, true);
	}
	l = nth_lookup(ks, pl->ctx->step - 1, &t);
	if (!l)
		return plan_fail(pl, "myring: no lookup %u", pl->ctx->step - 1);
	sql_buf_puts(&b, "CREATE TABLE IF NOT EXISTS ");
	put_table(&b, l);
	sql_buf_puts(&b, " (`value` ");
	if (l->type == SHARD_KEY_INT)
		sql_buf_puts(&b, "BIGINT");
	else
		put_string_type(&b, COLL_UTF8MB4_GENERAL_CI);
	sql_buf_puts(&b, " NOT NULL, `keyid` ");
	if (t->key_type == SHARD_KEY_INT)
		sql_buf_puts(&b, "BIGINT");
	else
		put_string_type(&b, t->collation);
	sql_buf_puts(&b, l->unique ? " NOT NULL, PRIMARY KEY (`value`), " :
			 " NOT NULL, PRIMARY KEY (`value`, `keyid`), ");
	sql_buf_puts(&b, "KEY (`keyid`)) ENGINE=InnoDB");
	return emit(pl, pl->ctx->step, 1ull << l->shard, &b, PLAN_COLLECT_NONE,
		    true);
}

/* ---- route: the keys of a lookup condition ------------------------------ */

/* A value a lookup can find: a literal (not NULL), or a bound ?. */
static bool is_value(const struct planner *pl, const struct sql_expr *e)
{
	if (e->kind == SQL_E_PARAM)
		return pl->ctx->params && e->param < pl->ctx->nparams &&
		       pl->ctx->params[e->param].known;
	if (e->kind != SQL_E_LITERAL)
		return false;
	return e->op == SQL_LIT_INT || e->op == SQL_LIT_DECIMAL ||
	       e->op == SQL_LIT_FLOAT || e->op == SQL_LIT_STRING;
}

static bool is_null(const struct sql_expr *e)
{
	return e->kind == SQL_E_LITERAL && e->op == SQL_LIT_NULL;
}

int lookup_column(struct route *r, int ti, const struct sql_expr *col)
{
	if (ti < 0 || col->kind != SQL_E_COLUMN ||
	    r->t[ti].kind != TABLE_SHARDED || !r->t[ti].t->nlookups)
		return -1;
	return shard_table_lookup(r->t[ti].t, col->column.ptr,
				  col->column.len);
}

/* The shards of the keys found; a key that places nothing makes it every
 * shard; no key: the lookup's own shard (which has no such row either). */
static uint64_t found_mask(struct planner *pl, const struct shard_table *t,
			   const struct shard_lookup *l)
{
	const struct plan_found *f = pl->ctx->keys_found;
	uint64_t m = 0;

	for (unsigned i = 0; i < f->nrows; i++) {
		const char *v = f->cells[i * f->ncols];
		int sh;

		if (!v)
			continue;
		sh = plan_key_shard(pl, t, v, f->lens[i * f->ncols],
				    t->key_type == SHARD_KEY_STRING);
		if (sh < 0)
			return ~0ull;
		m |= 1ull << sh;
	}
	return m ? m : 1ull << l->shard;
}

void lookup_conjunct(struct planner *pl, struct route *r, int ti,
		     unsigned lookup, struct sql_expr *values, bool list)
{
	const struct shard_table *t = r->t[ti].t;

	if (r->lk_set)
		return;
	for (struct sql_expr *v = values; v; v = list ? v->next : NULL)
		if (!is_value(pl, v))
			return;
	r->lk_set = true;
	r->lk = (struct lk_cond){ ti, lookup, values, list };
	if (pl->ctx->keys_found)
		r->t[ti].mask &= found_mask(pl, t, &t->lookups[lookup]);
}

int lookup_route(struct planner *pl, struct route *r, uint64_t mask)
{
	const struct shard_lookup *l;
	struct sql_buf b = { 0 };
	int rc;

	if (!r->lk_set || __builtin_popcountll(mask) <= 1 ||
	    pl->ctx->keys_found || !due(pl, ST_ROUTE))
		return 0;
	rc = setup(pl);
	if (rc)
		return rc;
	l = &r->t[r->lk.t].t->lookups[r->lk.lookup];
	sql_buf_puts(&b, "SELECT `keyid` FROM ");
	put_table(&b, l);
	sql_buf_puts(&b, " WHERE `value` IN (");
	for (struct sql_expr *v = r->lk.values; v;
	     v = r->lk.list ? v->next : NULL) {
		if (v != r->lk.values)
			sql_buf_puts(&b, ", ");
		if (put_expr(pl, &b, v)) {
			sql_buf_free(&b);
			return -1;
		}
	}
	sql_buf_putc(&b, ')');
	return emit(pl, base(pl) + ST_ROUTE, 1ull << l->shard, &b,
		    PLAN_COLLECT_KEYS, false);
}

/* ---- writing lookup rows ------------------------------------------------- */

/* INSERT INTO lookup (value, keyid) VALUES, opened. */
static void insert_head(struct sql_buf *b, const struct shard_lookup *l)
{
	sql_buf_puts(b, "INSERT INTO ");
	put_table(b, l);
	sql_buf_puts(b, " (`value`, `keyid`) VALUES ");
}

/* Closes it: a value a non-unique lookup has for this key already is
 * kept (several rows may share both). */
static void insert_tail(struct sql_buf *b, const struct shard_lookup *l)
{
	if (!l->unique)
		sql_buf_puts(b, " ON DUPLICATE KEY UPDATE `keyid` = `keyid`");
}

/* The value of column `name` in an INSERT's row (VALUES) or SET, or
 * NULL when the statement does not give it. */
static struct sql_expr *insert_value(const struct sql_insert *in,
				     const struct sql_expr *row,
				     const char *name)
{
	if (in->set) {
		for (const struct sql_assign *a = in->set; a; a = a->next)
			if (plan_name_eq(a->column->column, name))
				return a->value;
		return NULL;
	}
	{
		struct sql_expr *v = row->args;

		for (const struct sql_name *n = in->columns; n && v;
		     n = n->next, v = v->next)
			if (plan_name_eq(n->name, name))
				return v;
	}
	return NULL;
}

int lookup_insert(struct planner *pl, struct sql_insert *in,
		  const struct shard_table *t)
{
	struct sql_expr set_row = { 0 };
	const struct sql_expr *rows = in->set ? &set_row : in->rows;
	int rc;

	if (!t->nlookups)
		return 0;
	if (in->flags & (SQL_INS_REPLACE | SQL_INS_IGNORE) || in->update)
		return plan_fail(pl, "myring: REPLACE, INSERT IGNORE and INSERT "
				 "... ON DUPLICATE KEY UPDATE into table %s, "
				 "which has lookups, are not supported (its "
				 "lookup rows could not follow what the server "
				 "does)", t->name);
	for (unsigned i = 0; i < t->nlookups; i++) {
		const struct shard_lookup *l = &t->lookups[i];
		struct sql_buf b = { 0 };
		unsigned n = 0;

		for (const struct sql_expr *row = rows; row; row = row->next) {
			struct sql_expr *v = insert_value(in, row, l->column);
			struct sql_expr *k = insert_value(in, row, t->key);

			if (!v || is_null(v))
				continue;
			if (!is_value(pl, v) || !k || !is_value(pl, k)) {
				sql_buf_free(&b);
				return plan_fail(pl, "myring: INSERT into table "
						 "%s needs literal values of its "
						 "lookup column %s (and of its "
						 "key %s)", t->name, l->column,
						 t->key);
			}
			if (!due(pl, ST_INSERT + i))
				continue;
			if (!n++) {
				rc = setup(pl);
				if (rc) {
					sql_buf_free(&b);
					return rc;
				}
				insert_head(&b, l);
			} else {
				sql_buf_puts(&b, ", ");
			}
			sql_buf_putc(&b, '(');
			if (put_expr(pl, &b, v))
				goto fail;
			sql_buf_puts(&b, ", ");
			if (put_expr(pl, &b, k))
				goto fail;
			sql_buf_putc(&b, ')');
		}
		if (!n)
			continue;
		insert_tail(&b, l);
		return emit(pl, base(pl) + ST_INSERT + i, 1ull << l->shard, &b,
			    PLAN_COLLECT_NONE, false);
fail:
		sql_buf_free(&b);
		return -1;
	}
	return 0;
}

/* SELECT key, columns FROM table WHERE ... FOR UPDATE: the rows a write
 * changes, locked until it commits, with their old values. */
static int read_rows(struct planner *pl, const struct shard_table *t,
		     const struct sql_from *table, const unsigned *idx,
		     unsigned n, const struct sql_expr *where, uint64_t mask)
{
	struct sql_buf b = { 0 };
	int rc = setup(pl);

	if (rc)
		return rc;
	sql_buf_puts(&b, "SELECT ");
	put_name(&b, t->key, strlen(t->key));
	for (unsigned i = 0; i < n; i++) {
		const char *c = t->lookups[idx[i]].column;

		sql_buf_puts(&b, ", ");
		put_name(&b, c, strlen(c));
	}
	sql_buf_puts(&b, " FROM ");
	if (table->schema.len) {
		put_name(&b, table->schema.ptr, table->schema.len);
		sql_buf_putc(&b, '.');
	}
	put_name(&b, table->name.ptr, table->name.len);
	if (table->alias.len) {
		sql_buf_puts(&b, " AS ");
		put_name(&b, table->alias.ptr, table->alias.len);
	}
	if (where) {
		struct sql_print_opts po = { .rd = &pl->rd };
		int r;

		sql_buf_puts(&b, " WHERE ");
		r = sql_print_expr(&b, where, &po);
		if (r != SQL_PRINT_OK) {
			sql_buf_free(&b);
			return plan_fail(pl, "myring: the rows this statement "
					 "changes cannot be read exactly for "
					 "their lookup rows");
		}
	}
	sql_buf_puts(&b, " FOR UPDATE");
	return emit(pl, base(pl) + ST_READ, mask, &b, PLAN_COLLECT_ROWS, false);
}

/* The old rows of lookup column c (of rows_found) go: a step. */
static int delete_old(struct planner *pl, const struct shard_table *t,
		      unsigned lk, unsigned c)
{
	const struct plan_found *f = pl->ctx->rows_found;
	const struct shard_lookup *l = &t->lookups[lk];
	struct sql_buf b = { 0 };
	unsigned n = 0;

	for (unsigned i = 0; i < f->nrows; i++) {
		const char *const *row = f->cells + (size_t)i * f->ncols;
		const size_t *len = f->lens + (size_t)i * f->ncols;

		if (!row[0] || !row[c])
			continue;
		if (!n++) {
			sql_buf_puts(&b, "DELETE FROM ");
			put_table(&b, l);
			sql_buf_puts(&b, " WHERE (`value`, `keyid`) IN (");
		} else {
			sql_buf_puts(&b, ", ");
		}
		sql_buf_putc(&b, '(');
		if (put_cell(pl, &b, row[c], len[c], l->type == SHARD_KEY_INT))
			goto fail;
		sql_buf_puts(&b, ", ");
		if (put_cell(pl, &b, row[0], len[0],
			     t->key_type == SHARD_KEY_INT))
			goto fail;
		sql_buf_putc(&b, ')');
	}
	if (!n)
		return 0;
	sql_buf_putc(&b, ')');
	return emit(pl, base(pl) + ST_DELETE + lk, 1ull << l->shard, &b,
		    PLAN_COLLECT_NONE, false);
fail:
	sql_buf_free(&b);
	return -1;
}

/* The new rows of lookup lk: value v with each key of rows_found. */
static int insert_new(struct planner *pl, const struct shard_table *t,
		      unsigned lk, const struct sql_expr *v)
{
	const struct plan_found *f = pl->ctx->rows_found;
	const struct shard_lookup *l = &t->lookups[lk];
	struct sql_buf b = { 0 };
	unsigned n = 0;

	for (unsigned i = 0; i < f->nrows; i++) {
		const char *k = f->cells[(size_t)i * f->ncols];

		if (!k)
			continue;
		if (!n++)
			insert_head(&b, l);
		else
			sql_buf_puts(&b, ", ");
		sql_buf_putc(&b, '(');
		if (put_expr(pl, &b, v))
			goto fail;
		sql_buf_puts(&b, ", ");
		if (put_cell(pl, &b, k, f->lens[(size_t)i * f->ncols],
			     t->key_type == SHARD_KEY_INT))
			goto fail;
		sql_buf_putc(&b, ')');
	}
	if (!n)
		return 0;
	insert_tail(&b, l);
	return emit(pl, base(pl) + ST_INSERT + lk, 1ull << l->shard, &b,
		    PLAN_COLLECT_NONE, false);
fail:
	sql_buf_free(&b);
	return -1;
}

int lookup_write(struct planner *pl, struct route *r, const struct tref *t,
		 const struct sql_from *table, const struct sql_assign *set,
		 const struct sql_expr *where, bool ordered, bool ignore,
		 uint64_t mask)
{
	const struct shard_table *st = t->t;
	const struct sql_expr *nv[SHARD_LOOKUPS_MAX] = { 0 };
	unsigned idx[SHARD_LOOKUPS_MAX], n = 0;
	int rc;

	if (t->kind != TABLE_SHARDED || !st->nlookups)
		return 0;
	/* DELETE: the unique lookups' rows go (a non-unique lookup keeps
	 * rows of values no row has any more: they cost a shard visit,
	 * never a wrong answer).  UPDATE: those of the columns it sets. */
	for (unsigned i = 0; i < st->nlookups; i++) {
		if (!set) {
			if (st->lookups[i].unique)
				idx[n++] = i;
			continue;
		}
		for (const struct sql_assign *a = set; a; a = a->next) {
			if (lookup_column(r, (int)(t - r->t), a->column) !=
			    (int)i || (a->column->table.len &&
				       !plan_str_eq(a->column->table, t->ref)))
				continue;
			if (!is_value(pl, a->value) && !is_null(a->value))
				return plan_fail(pl, "myring: an UPDATE of "
						 "lookup column %s of table %s "
						 "needs a literal value",
						 st->lookups[i].column,
						 st->name);
			nv[n] = a->value;
			idx[n++] = i;
		}
	}
	if (!n)
		return 0;
	if (ordered || ignore)
		return plan_fail(pl, "myring: %s with %s on table %s, which has "
				 "lookups, is not supported", set ? "UPDATE" :
				 "DELETE", ordered ? "ORDER BY or LIMIT" :
				 "IGNORE", st->name);
	if (table->kind != SQL_FROM_TABLE)
		return plan_fail(pl, "myring: this write on table %s, which "
				 "has lookups, is not supported", st->name);
	if (due(pl, ST_READ))
		return read_rows(pl, st, table, idx, n, where, mask);
	if (!pl->ctx->rows_found || pl->ctx->rows_found->ncols < 1 + n)
		return plan_fail(pl, "myring: the rows to change were not read");
	for (unsigned i = 0; i < n; i++) {
		if (!st->lookups[idx[i]].unique ||
		    !due(pl, ST_DELETE + idx[i]))
			continue;
		rc = delete_old(pl, st, idx[i], 1 + i);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; set && i < n; i++) {
		if (is_null(nv[i]) || !due(pl, ST_INSERT + idx[i]))
			continue;
		rc = insert_new(pl, st, idx[i], nv[i]);
		if (rc)
			return rc;
	}
	return 0;
}

const char *lookup_step_what(const struct shard_plan *p)
{
	if (p->pooled)
		return "lookup tables made if missing (once per worker), then "
		       "the statement planned again";
	switch (p->collect) {
	case PLAN_COLLECT_KEYS:
		return "lookup: the keys found name the shards the statement "
		       "goes to next (none found: the lookup's shard alone)";
	case PLAN_COLLECT_ROWS:
		return "the rows it changes read (FOR UPDATE) for their lookup "
		       "rows, then those moved and the statement run, in one "
		       "distributed transaction";
	default:
		return "lookup rows written, then the statement, in one "
		       "distributed transaction";
	}
}
