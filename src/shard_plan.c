/*
 * shard_plan.c - which shards a statement goes to (shard_plan.h).
 *
 * The statement is parsed once; every table it names is looked up in
 * the keyspace, scope by scope (the query, each subquery, each derived
 * table).  Within a scope, shard-key equalities between sharded tables
 * of one function make them one class (their rows are co-located), and
 * the WHERE's conjuncts `key = literal` and `key IN (literals)` narrow a
 * class to the shards that own those values.  The statement goes to
 * the shards every class and every unsharded table agree on; where they
 * do not agree, the query would need rows of one shard joined with rows
 * of another, which myring refuses by name rather than answer wrongly.
 * A statement on one shard is sent as the client wrote it; one on
 * several is printed from the tree, per shard (an IN-list keeps only the
 * shard's own keys), and a SELECT's merge is planned by
 * shard_plan_select.c.
 */
#include "shard_plan_int.h"

#include "collation.h"
#include "sql_parse.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ER_NOT_SUPPORTED_YET 1235
#define ER_UNKNOWN_ERROR     1105
#define ER_PARSE_ERROR       1064


/* ---- small helpers ------------------------------------------------------- */

static int plan_vfail(struct planner *pl, uint16_t code, const char *state,
		      const char *fmt, va_list ap)
{
	struct shard_plan *p = pl->out;

	if (pl->failed)
		return -1;
	pl->failed = true;
	p->kind = PLAN_ERROR;
	p->nparts = 0;
	p->err_code = code;
	snprintf(p->sqlstate, sizeof(p->sqlstate), "%s", state);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	return -1;
}

int plan_fail(struct planner *pl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	plan_vfail(pl, ER_NOT_SUPPORTED_YET, "42000", fmt, ap);
	va_end(ap);
	return -1;
}

int plan_fail_code(struct planner *pl, uint16_t code, const char *state,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	plan_vfail(pl, code, state, fmt, ap);
	va_end(ap);
	return -1;
}

static int plan_nomem(struct planner *pl)
{
	return plan_fail_code(pl, ER_UNKNOWN_ERROR, "HY000",
			      "myring: out of memory planning the statement");
}

bool plan_name_eq(struct sql_str a, const char *b)
{
	return strlen(b) == a.len && !strncasecmp(a.ptr, b, a.len);
}

bool plan_str_eq(struct sql_str a, struct sql_str b)
{
	return a.len == b.len && !strncasecmp(a.ptr, b.ptr, a.len);
}

static const char *buf_to_arena(struct planner *pl, struct sql_buf *b,
				size_t *len)
{
	char *s = NULL;

	if (!b->oom)
		s = sql_arena_alloc(pl->a, b->len + 1);
	if (s) {
		memcpy(s, b->buf, b->len);
		s[b->len] = '\0';
		if (len)
			*len = b->len;
	} else {
		plan_nomem(pl);
	}
	sql_buf_free(b);
	return s;
}

const char *plan_print(struct planner *pl, const struct sql_statement *st,
		       size_t *len)
{
	struct sql_print_opts po = { .rd = &pl->rd, .sql = pl->sql,
				     .flags = SQL_PRINT_KEEP_NAMES };
	struct sql_buf b = { 0 };
	int r = sql_print(&b, st, &po);

	if (r < 0 || r == SQL_PRINT_INEXACT) {
		sql_buf_free(&b);
		if (r == SQL_PRINT_NOMEM)
			return plan_nomem(pl), NULL;
		plan_fail(pl, "myring: this statement cannot be rewritten "
			      "exactly for the shards (a name or literal "
			      "that reads differently in this character set)");
		return NULL;
	}
	return buf_to_arena(pl, &b, len);
}

const char *plan_expr_text(struct planner *pl, const struct sql_expr *e)
{
	struct sql_buf b = { 0 };

	if (sql_print_expr(&b, e, NULL) < 0) {
		sql_buf_free(&b);
		plan_nomem(pl);
		return NULL;
	}
	return buf_to_arena(pl, &b, NULL);
}

static uint64_t all_shards(const struct keyspace *ks)
{
	return ks->nshards >= 64 ? ~0ull : (1ull << ks->nshards) - 1;
}

static unsigned lowest(uint64_t m)
{
	return (unsigned)__builtin_ctzll(m);
}

static void part(struct shard_plan *p, unsigned shard, const char *sql,
		 size_t len)
{
	p->parts[p->nparts].shard = shard;
	p->parts[p->nparts].sql = sql;
	p->parts[p->nparts].len = len;
	p->nparts++;
}

/* ---- tables and scopes (struct route: shard_plan_int.h) ------------------ */

/* Room for one more of n elements of size in *arr (capacity *cap). */
static int grow(struct planner *pl, void **arr, unsigned *cap, unsigned n,
		size_t size)
{
	unsigned ncap = *cap ? *cap * 2 : 4;
	void *p;

	if (n < *cap)
		return 0;
	p = sql_arena_alloc(pl->a, ncap * size);
	if (!p)
		return plan_nomem(pl);
	if (n)
		memcpy(p, *arr, n * size);
	*arr = p;
	*cap = ncap;
	return 0;
}

static bool is_keyspace_schema(struct planner *pl, struct sql_str schema)
{
	if (!schema.len)
		return pl->ctx->schema && pl->ctx->schema_len &&
		       pl->ctx->schema_len == strlen(pl->ks->schema) &&
		       !strncasecmp(pl->ctx->schema, pl->ks->schema,
				    pl->ctx->schema_len);
	return plan_name_eq(schema, pl->ks->schema);
}

/* The WITH query a table name names, innermost first; NULL for none.
 * *recursive: its WITH is RECURSIVE. */
static const struct sql_cte *cte_named(struct route *r, struct sql_str schema,
				       struct sql_str name, bool *recursive)
{
	if (schema.len)
		return NULL;
	for (unsigned i = r->nctes; i-- > 0;)
		for (struct sql_cte *c = r->ctes[i]; c; c = c->next)
			if (plan_str_eq(c->name, name)) {
				*recursive = r->ctes_recursive[i];
				return c;
			}
	return NULL;
}

static int push_derived(struct planner *pl, struct route *r,
			const struct sql_from *f, const struct sql_query *q,
			struct sql_str alias, const struct sql_name *columns,
			unsigned outer, unsigned first);

static struct tref *add_tref(struct planner *pl, struct route *r,
			     unsigned scope)
{
	struct tref *t;

	if (r->nt == MAX_TREFS) {
		plan_fail(pl, "myring: more than %d tables in one statement",
			  MAX_TREFS);
		return NULL;
	}
	if (grow(pl, (void **)&r->t, &r->cap_t, r->nt, sizeof(*r->t)))
		return NULL;
	t = &r->t[r->nt];
	memset(t, 0, sizeof(*t));
	t->scope = scope;
	t->parent = r->nt++;
	t->mask = all_shards(pl->ks);
	return t;
}

/* A table of the statement: its keyspace entry, or none. */
static int add_table(struct planner *pl, struct route *r, unsigned scope,
		     const struct sql_from *f, struct sql_str schema,
		     struct sql_str name, struct sql_str alias)
{
	const struct keyspace *ks = pl->ks;
	const struct sql_cte *cte;
	bool recursive = false;
	struct tref *t;

	if ((cte = cte_named(r, schema, name, &recursive))) {
		for (unsigned j = 0; j < r->nsc; j++)
			if (r->sc[j].q == cte->query)
				r->sc[j].used = true;
		/* a WITH query: its rows, where it can be answered per
		 * shard (not a recursive one) */
		return recursive ? 0 : push_derived(pl, r, f, cte->query,
						    alias.len ? alias : name,
						    cte->columns, scope, 0);
	}
	if (!is_keyspace_schema(pl, schema))
		return 0;
	t = add_tref(pl, r, scope);
	if (!t)
		return -1;
	r->keyspace = true;
	t->from = f;
	t->name = name;
	t->ref = alias.len ? alias : name;
	t->t = keyspace_table(ks, name.ptr, name.len);
	if (t->t) {
		t->kind = t->t->kind;
		t->shard = t->t->shard;
		if (t->kind == TABLE_UNSHARDED && t->shard >= ks->nshards)
			return plan_fail(pl, "myring: table %.*s lives on a "
					     "shard the keyspace lacks",
					 (int)name.len, name.ptr);
	} else if (ks->default_shard >= 0 &&
		   (unsigned)ks->default_shard < ks->nshards) {
		t->kind = TABLE_UNSHARDED;
		t->shard = (unsigned)ks->default_shard;
	} else {
		return plan_fail(pl, "myring: table %.*s is not in the "
				     "keyspace's map",
				 (int)name.len, name.ptr);
	}
	return 0;
}

static unsigned find(struct route *r, unsigned i)
{
	while (r->t[i].parent != i)
		i = r->t[i].parent = r->t[r->t[i].parent].parent;
	return i;
}

/* Same function over keys of the same values: equal keys, same shard. */
static bool colocated(const struct shard_table *a, const struct shard_table *b)
{
	if (a->fn != b->fn || a->key_type != b->key_type)
		return false;
	if (a->key_type == SHARD_KEY_STRING && a->collation != b->collation)
		return false;
	if (a->fn == SHARD_FN_RANGE)
		return a->nbounds == b->nbounds &&
		       (a->bounds == b->bounds ||
			!memcmp(a->bounds, b->bounds,
				a->nbounds * sizeof(*a->bounds)));
	return true;
}

/* The table a column names, searched from scope s outwards for a
 * qualified name; an unqualified one is the one sharded table of s whose
 * key it names (any other table with such a column would make the name
 * ambiguous, a server error).  -1: none of the keyspace's. */
static int resolve(struct planner *pl, struct route *r, unsigned s,
		   const struct sql_expr *e)
{
	int found = -1;

	if (e->kind != SQL_E_COLUMN)
		return -1;
	if (e->schema.len && !plan_name_eq(e->schema, pl->ks->schema))
		return -1;
	if (!e->table.len) {
		for (unsigned i = 0; i < r->nt; i++)
			if (r->t[i].scope == s && r->t[i].kind == TABLE_SHARDED &&
			    plan_name_eq(e->column, r->t[i].t->key)) {
				if (found >= 0)
					return -1;
				found = (int)i;
			}
		return found;
	}
	for (int sc = (int)s; sc >= 0; sc = r->sc[sc].outer)
		for (unsigned i = 0; i < r->nt; i++)
			if (r->t[i].scope == (unsigned)sc &&
			    plan_str_eq(r->t[i].ref, e->table))
				return (int)i;
	return -1;
}

static bool is_key(struct route *r, int ti, const struct sql_expr *e)
{
	return ti >= 0 && r->t[ti].kind == TABLE_SHARDED &&
	       plan_name_eq(e->column, r->t[ti].t->key);
}

enum key_charset { KEY_UTF8, KEY_LATIN1, KEY_OTHER };

static enum key_charset client_charset(const struct plan_ctx *c)
{
	return c->utf8 ? KEY_UTF8 : c->latin1 ? KEY_LATIN1 : KEY_OTHER;
}

/* A string literal's bytes are in the client's character set unless an
 * introducer (_latin1'..') or N'..' (utf8) names theirs. */
static enum key_charset literal_charset(const struct plan_ctx *c,
					const struct sql_expr *e)
{
	static const char *const utf8[] = {"utf8mb4", "utf8mb3", "utf8"};

	if (e->flags & SQL_EF_NATIONAL)
		return KEY_UTF8;
	if (!e->charset.len)
		return client_charset(c);
	for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
		if (plan_name_eq(e->charset, utf8[i]))
			return KEY_UTF8;
	return plan_name_eq(e->charset, "latin1") ? KEY_LATIN1 : KEY_OTHER;
}

/*
 * The shard of a string key whose bytes are in character set cs.  The
 * map hashes UTF-8 (the server converts the literal to the column's
 * character set before it compares), so latin1 is converted as the
 * server converts it; ASCII reads alike in every character set; other
 * bytes in other character sets are not placed (-1: scatter).
 */
static int string_shard(struct planner *pl, const struct shard_table *t,
			const char *p, size_t n, enum key_charset cs)
{
	bool ascii = true;
	char *utf8;

	for (size_t i = 0; i < n && ascii; i++)
		ascii = (unsigned char)p[i] < 0x80;
	if (cs == KEY_UTF8 || ascii)
		return shard_for_value(pl->ks, t, p, n, true);
	if (cs != KEY_LATIN1 || n > SIZE_MAX / 3 ||
	    !(utf8 = sql_arena_alloc(pl->a, 3 * n)))
		return -1;
	n = coll_latin1_to_utf8((const uint8_t *)p, n, utf8);
	return shard_for_value(pl->ks, t, utf8, n, true);
}

int plan_key_shard(struct planner *pl, const struct shard_table *t,
		   const char *v, size_t len, bool is_string)
{
	if (is_string)
		return string_shard(pl, t, v, len, client_charset(pl->ctx));
	return shard_for_value(pl->ks, t, v, len, false);
}

/* A literal's value as shard_for_value reads it. */
static int literal_shard(struct planner *pl, const struct shard_table *t,
			 const struct sql_expr *e)
{
	char buf[128];
	size_t n;

	if (e->kind == SQL_E_PARAM) {
		const struct plan_param *pp = pl->ctx->params;

		if (!pp || e->param >= pl->ctx->nparams || !pp[e->param].known)
			return -1;
		pp += e->param;
		if (pp->is_string)
			return string_shard(pl, t, pp->text, pp->len,
					    client_charset(pl->ctx));
		return shard_for_value(pl->ks, t, pp->text, pp->len, false);
	}
	if (e->kind != SQL_E_LITERAL)
		return -1;
	switch (e->op) {
	case SQL_LIT_INT:
	case SQL_LIT_DECIMAL:
	case SQL_LIT_FLOAT:
		if (e->text.len + 2 > sizeof(buf))
			return -1;
		n = 0;
		if (e->flags & SQL_EF_NEG)
			buf[n++] = '-';
		memcpy(buf + n, e->text.ptr, e->text.len);
		n += e->text.len;
		return shard_for_value(pl->ks, t, buf, n, false);
	case SQL_LIT_STRING:
		return string_shard(pl, t, e->text.ptr, e->text.len,
				    literal_charset(pl->ctx, e));
	default:
		return -1;
	}
}

static int walk_query(struct planner *pl, struct route *r,
		      struct sql_query *q, int outer, uint8_t role);

/* Subqueries anywhere in e are scopes of their own inside s. */
static int walk_expr(struct planner *pl, struct route *r,
		     struct sql_expr *e, unsigned s)
{
	for (; e; e = e->next) {
		if (e->query && walk_query(pl, r, e->query, (int)s, SCOPE_SUB))
			return -1;
		if (walk_expr(pl, r, e->left, s) ||
		    walk_expr(pl, r, e->right, s) ||
		    walk_expr(pl, r, e->args, s))
			return -1;
		if (e->kind == SQL_E_FUNC) {
			for (struct sql_order *o = e->forder; o; o = o->next)
				if (walk_expr(pl, r, o->expr, s))
					return -1;
		}
	}
	return 0;
}

/* One expression only (not its list successors). */
static int walk_one(struct planner *pl, struct route *r, struct sql_expr *e,
		    unsigned s)
{
	struct sql_expr *next;
	int rc;

	if (!e)
		return 0;
	next = e->next;
	e->next = NULL;
	rc = walk_expr(pl, r, e, s);
	e->next = next;
	return rc;
}

static int walk_order(struct planner *pl, struct route *r,
		      struct sql_order *o, unsigned s)
{
	for (; o; o = o->next)
		if (walk_one(pl, r, o->expr, s))
			return -1;
	return 0;
}

static bool sharded_between(const struct route *r, unsigned from,
			    unsigned to)
{
	for (unsigned i = from; i < to; i++)
		if (r->t[i].kind == TABLE_SHARDED)
			return true;
	return false;
}

/*
 * An outer join whose kept side has no sharded table (a broadcast table,
 * a derived row) while the other side does: every shard would return the
 * kept rows its own shard does not match, so across shards they would
 * come back once per shard.  Noted; settle() refuses it when the
 * statement spans shards.  The tables of the left side are the trefs
 * [before, mid), of the right side [mid, r->nt).
 */
static void outer_join_kept(struct route *r, const struct sql_from *f,
			    unsigned before, unsigned mid)
{
	bool left = sharded_between(r, before, mid);
	bool right = sharded_between(r, mid, r->nt);
	unsigned kept_from;

	if (f->join == SQL_JOIN_LEFT && !left && right)
		kept_from = before;
	else if (f->join == SQL_JOIN_RIGHT && left && !right)
		kept_from = mid;
	else
		return;
	r->outer_kept = kept_from < r->nt ? r->t[kept_from].name :
			(struct sql_str){"a derived table", 15};
}

static int walk_from(struct planner *pl, struct route *r, struct sql_from *f,
		     unsigned s)
{
	for (; f; f = f->next) {
		switch (f->kind) {
		case SQL_FROM_TABLE:
			if (add_table(pl, r, s, f, f->schema, f->name,
				      f->alias))
				return -1;
			break;
		case SQL_FROM_DERIVED: {
			unsigned first = r->nsc;

			if (walk_query(pl, r, f->query, (int)s, SCOPE_DERIVED) ||
			    push_derived(pl, r, f, f->query, f->alias,
					 f->columns, s, first))
				return -1;
			break;
		}
		case SQL_FROM_JOIN: {
			unsigned before = r->nt, mid;

			if (walk_from(pl, r, f->left, s))
				return -1;
			mid = r->nt;
			if (walk_from(pl, r, f->right, s))
				return -1;
			outer_join_kept(r, f, before, mid);
			break;
		}
		case SQL_FROM_NEST:
			if (walk_from(pl, r, f->list, s))
				return -1;
			break;
		}
	}
	return 0;
}

static int walk_on(struct planner *pl, struct route *r, struct sql_from *f,
		   unsigned s);

/* col = value (one) or col IN (list) in the top query, where col is a
 * lookup column of one of its sharded tables (named, or the only one
 * with such a lookup): the lookup's condition (shard_plan_lookup.c). */
static void lookup_eq(struct planner *pl, struct route *r,
		      const struct sql_expr *col, struct sql_expr *one,
		      struct sql_expr *list)
{
	int found = -1, lk = -1;

	if (col->kind != SQL_E_COLUMN ||
	    (col->schema.len && !plan_name_eq(col->schema, pl->ks->schema)))
		return;
	for (unsigned i = 0; i < r->nt; i++) {
		int l;

		if (r->t[i].scope != 0 || r->t[i].pushed ||
		    (col->table.len && !plan_str_eq(r->t[i].ref, col->table)))
			continue;
		l = lookup_column(r, (int)i, col);
		if (l < 0)
			continue;
		if (found >= 0)
			return;         /* ambiguous */
		found = (int)i;
		lk = l;
	}
	if (found >= 0)
		lookup_conjunct(pl, r, found, (unsigned)lk, one ? one : list,
				!one);
}

/* A conjunct of scope s: key = key makes a class, key = literal and
 * key IN (literals) narrow one (values: from WHERE only; ON of an outer
 * join does not filter the other side). */
static void conjunct(struct planner *pl, struct route *r, struct sql_expr *c,
		     unsigned s, bool values)
{
	if (c->kind == SQL_E_LOGIC && c->op == SQL_OP_AND) {
		for (struct sql_expr *x = c->args; x; x = x->next)
			conjunct(pl, r, x, s, values);
		return;
	}
	if (c->kind == SQL_E_BINARY && (c->op == SQL_OP_EQ)) {
		int a = resolve(pl, r, s, c->left);
		int b = resolve(pl, r, s, c->right);

		if (is_key(r, a, c->left) && is_key(r, b, c->right) &&
		    colocated(r->t[a].t, r->t[b].t)) {
			if (r->t[a].scope == r->t[b].scope) {
				r->t[find(r, (unsigned)a)].parent =
					find(r, (unsigned)b);
			} else if (r->t[a].scope == s) {
				r->t[a].correlated = true;
			} else if (r->t[b].scope == s) {
				r->t[b].correlated = true;
			}
			return;
		}
		if (!values)
			return;
		if (is_key(r, a, c->left) && r->t[a].scope == s) {
			int sh = literal_shard(pl, r->t[a].t, c->right);

			if (sh >= 0)
				r->t[a].mask &= 1ull << sh;
		} else if (is_key(r, b, c->right) && r->t[b].scope == s) {
			int sh = literal_shard(pl, r->t[b].t, c->left);

			if (sh >= 0)
				r->t[b].mask &= 1ull << sh;
		} else if (s == 0) {
			lookup_eq(pl, r, c->left, c->right, NULL);
			lookup_eq(pl, r, c->right, c->left, NULL);
		}
		return;
	}
	if (values && c->kind == SQL_E_IN && !(c->flags & SQL_EF_NOT) &&
	    c->query) {
		int a = resolve(pl, r, s, c->left);

		if (is_key(r, a, c->left) && r->t[a].scope == s &&
		    r->nsemis < sizeof(r->semis) / sizeof(*r->semis))
			r->semis[r->nsemis++] = (struct semi){ (unsigned)a,
							       c->query };
		return;
	}
	if (values && c->kind == SQL_E_IN && !(c->flags & SQL_EF_NOT) &&
	    !c->query && c->args) {
		int a = resolve(pl, r, s, c->left);
		uint64_t m = 0;

		if (!is_key(r, a, c->left) || r->t[a].scope != s) {
			if (s == 0)
				lookup_eq(pl, r, c->left, NULL, c->args);
			return;
		}
		for (struct sql_expr *x = c->args; x; x = x->next) {
			int sh = literal_shard(pl, r->t[a].t, x);

			if (sh < 0)
				return;
			m |= 1ull << sh;
		}
		r->t[a].mask &= m;
		if (__builtin_popcountll(m) > 1 && r->ncuts < MAX_CUTS)
			r->cuts[r->ncuts++] = (struct cut){ c, c->args,
							    r->t[a].t };
	}
}

/* Whether table reference t is named inside join operand f. */
static bool inside(const struct sql_from *f, const struct sql_from *t)
{
	for (; f; f = f->next) {
		if (f == t)
			return true;
		if ((f->kind == SQL_FROM_JOIN &&
		     (inside(f->left, t) || inside(f->right, t))) ||
		    (f->kind == SQL_FROM_NEST && inside(f->list, t)))
			return true;
	}
	return false;
}

static bool inside_one(const struct sql_from *f, const struct sql_from *t)
{
	const struct sql_from *next = f->next;
	bool in;

	((struct sql_from *)f)->next = NULL;
	in = inside(f, t);
	((struct sql_from *)f)->next = (struct sql_from *)next;
	return in;
}

/* a JOIN b USING (k): the sharded tables keyed by k on either side, of one
 * function, are co-located. */
static void join_using(struct route *r, const struct sql_from *j,
		       struct sql_str col)
{
	int left = -1;

	for (unsigned i = 0; i < r->nt; i++) {
		const struct tref *t = &r->t[i];

		if (t->kind != TABLE_SHARDED || !t->from ||
		    !plan_name_eq(col, t->t->key))
			continue;
		if (inside_one(j->left, t->from))
			left = (int)i;
	}
	if (left < 0)
		return;
	for (unsigned i = 0; i < r->nt; i++) {
		const struct tref *t = &r->t[i];

		if (t->kind == TABLE_SHARDED && t->from &&
		    plan_name_eq(col, t->t->key) &&
		    inside_one(j->right, t->from) &&
		    colocated(t->t, r->t[left].t))
			r->t[find(r, i)].parent = find(r, (unsigned)left);
	}
}

static int walk_on(struct planner *pl, struct route *r, struct sql_from *f,
		   unsigned s)
{
	for (; f; f = f->next) {
		if (f->kind == SQL_FROM_JOIN) {
			if (walk_on(pl, r, f->left, s) ||
			    walk_on(pl, r, f->right, s))
				return -1;
			if (f->on) {
				conjunct(pl, r, f->on, s, false);
				if (walk_one(pl, r, f->on, s))
					return -1;
			}
			for (struct sql_name *n = f->using_cols; n;
			     n = n->next)
				join_using(r, f, n->name);
		} else if (f->kind == SQL_FROM_NEST) {
			if (walk_on(pl, r, f->list, s))
				return -1;
		}
	}
	return 0;
}

static int new_scope(struct planner *pl, struct route *r, int outer,
		     uint8_t role)
{
	if (r->nsc == MAX_SCOPES)
		return plan_fail(pl, "myring: more than %d subqueries in one "
				     "statement", MAX_SCOPES);
	if (grow(pl, (void **)&r->sc, &r->cap_sc, r->nsc, sizeof(*r->sc)))
		return -1;
	r->sc[r->nsc] = (struct scope){ .outer = outer, .role = role };
	return (int)r->nsc++;
}

/*
 * a.key IN (SELECT b.key FROM b ...) with a and b co-located: the rows of
 * b that can match an a row are on its shard, so each shard answers the
 * semi-join for its own rows, like a correlated EXISTS.  Only for a plain
 * subquery (no GROUP BY, HAVING or LIMIT of its own).
 */
static void semi_joins(struct planner *pl, struct route *r, unsigned s)
{
	for (unsigned i = 0; i < r->nsemis; i++) {
		const struct semi *sj = &r->semis[i];
		const struct sql_query *q = sj->q;
		int b = -1;

		if (r->t[sj->t].scope != s || q->kind != SQL_Q_SELECT ||
		    !q->items || q->items->next || q->group || q->having ||
		    q->limit || q->with)
			continue;
		for (unsigned j = 0; j < r->nsc; j++)
			if (r->sc[j].q == q)
				b = resolve(pl, r, j, q->items->expr);
		if (b >= 0 && r->sc[r->t[b].scope].q == q &&
		    is_key(r, b, q->items->expr) &&
		    colocated(r->t[b].t, r->t[sj->t].t))
			r->t[b].correlated = true;
	}
}

static int walk_select(struct planner *pl, struct route *r,
		       struct sql_query *q, unsigned s)
{
	if (walk_from(pl, r, q->from, s) || walk_on(pl, r, q->from, s))
		return -1;
	if (q->where)
		conjunct(pl, r, q->where, s, true);
	for (struct sql_item *it = q->items; it; it = it->next)
		if (walk_one(pl, r, it->expr, s))
			return -1;
	if (walk_one(pl, r, q->where, s))
		return -1;
	semi_joins(pl, r, s);
	if (walk_order(pl, r, q->group, s) || walk_one(pl, r, q->having, s))
		return -1;
	return 0;
}

/* Whether scope s is scope j or inside it. */
static bool in_scope(const struct route *r, int s, unsigned j)
{
	for (; s >= 0; s = r->sc[s].outer)
		if ((unsigned)s == j)
			return true;
	return false;
}

/* A WITH query its statement never names is not run: its tables place
 * nothing. */
static void drop_unused_ctes(struct route *r, const struct sql_cte *with)
{
	for (const struct sql_cte *c = with; c; c = c->next)
		for (unsigned j = 0; j < r->nsc; j++) {
			if (r->sc[j].q != c->query || r->sc[j].used)
				continue;
			for (unsigned i = 0; i < r->nt; i++)
				if (in_scope(r, (int)r->t[i].scope, j))
					r->t[i].pushed = true;
		}
}

static int walk_query(struct planner *pl, struct route *r,
		      struct sql_query *q, int outer, uint8_t role)
{
	unsigned nctes = r->nctes;
	int s, rc = 0;

	if (!q)
		return 0;
	if (q->with) {
		if (r->nctes == 32)
			return plan_fail(pl, "myring: too many WITH clauses");
		r->ctes_recursive[r->nctes] = q->recursive;
		r->ctes[r->nctes++] = q->with;
		for (struct sql_cte *c = q->with; c; c = c->next)
			if (walk_query(pl, r, c->query, outer, SCOPE_DERIVED))
				return -1;
	}
	switch (q->kind) {
	case SQL_Q_SELECT:
		s = new_scope(pl, r, outer, role);
		if (s >= 0)
			r->sc[s].q = q;
		if (s < 0 || walk_select(pl, r, q, (unsigned)s) ||
		    walk_order(pl, r, q->order, (unsigned)s))
			rc = -1;
		break;
	case SQL_Q_PAREN:
		rc = walk_query(pl, r, q->left, outer, role);
		break;
	default:
		if (outer < 0 && role == SCOPE_TOP)
			r->top_setop = true;
		if (walk_query(pl, r, q->left, outer, role) ||
		    walk_query(pl, r, q->right, outer, role))
			rc = -1;
		break;
	}
	if (!rc && q->with)
		drop_unused_ctes(r, q->with);
	/* a WITH's names are its query's only */
	r->nctes = nctes;
	return rc;
}

/* ---- derived tables answered per shard ----------------------------------- */

static bool uses_aggregate(const struct sql_expr *e)
{
	for (; e; e = e->next) {
		if (plan_agg_kind(e) != -1)
			return true;
		if (e->kind == SQL_E_SUBQUERY || e->kind == SQL_E_EXISTS)
			continue;
		if (uses_aggregate(e->left) || uses_aggregate(e->right) ||
		    uses_aggregate(e->args))
			return true;
	}
	return false;
}

bool plan_uses_aggregate(const struct sql_expr *e)
{
	return uses_aggregate(e);
}

/* The select item a GROUP BY or ORDER BY position names, else e. */
static const struct sql_expr *item_at(const struct sql_query *q,
				      const struct sql_expr *e)
{
	unsigned long n;

	if (e->kind != SQL_E_LITERAL || e->op != SQL_LIT_INT ||
	    (e->flags & SQL_EF_NEG) || e->text.len > 5)
		return e;
	n = 0;
	for (size_t k = 0; k < e->text.len; k++)        /* not NUL-ended */
		n = n * 10 + (unsigned long)(e->text.ptr[k] - '0');
	for (const struct sql_item *it = q->items; it; it = it->next)
		if (--n == 0)
			return it->expr;
	return e;
}

/* Whether e is the shard key of a sharded table of scope s. */
static bool key_of_scope(struct planner *pl, struct route *r, unsigned s,
			 const struct sql_expr *e)
{
	int ti = resolve(pl, r, s, e);

	return is_key(r, ti, e) && r->t[ti].scope == s;
}

const char *route_rows_apart(struct planner *pl, struct route *r, unsigned s,
			     const struct sql_query *q, bool distinct_ok)
{
	bool agg = uses_aggregate(q->having), on_key = false;

	if (q->kind != SQL_Q_SELECT)
		return "not one SELECT";
	if (q->limit || q->offset)
		return "its own LIMIT";
	if (q->options & SQL_SEL_CALC_FOUND_ROWS)
		return "SQL_CALC_FOUND_ROWS";
	for (const struct sql_item *it = q->items; it; it = it->next)
		agg |= uses_aggregate(it->expr);
	for (const struct sql_order *o = q->order; o; o = o->next)
		agg |= uses_aggregate(o->expr);
	for (const struct sql_order *g = q->group; g; g = g->next)
		on_key |= key_of_scope(pl, r, s, item_at(q, g->expr));
	if (q->group && !on_key)
		return "GROUP BY not on the shard key";
	if (agg && !on_key)
		return "aggregates without GROUP BY on the shard key";
	if ((q->options & SQL_SEL_DISTINCT) && !distinct_ok) {
		bool key = false;

		for (const struct sql_item *it = q->items; it; it = it->next)
			key |= key_of_scope(pl, r, s, it->expr);
		if (!key)
			return "DISTINCT without the shard key";
	}
	return NULL;
}

/*
 * The name under which derived query q (of scope s) shows the shard key
 * of class cls: an item that is the key column, renamed by the column
 * list if there is one; `*` of one table.  Empty: none.
 */
static void exposed_key(struct planner *pl, struct route *r, unsigned s,
			unsigned cls, const struct sql_query *q,
			const struct sql_name *columns, char *key, size_t cap)
{
	const struct sql_name *c = columns;
	unsigned nt = 0;

	key[0] = '\0';
	for (unsigned i = 0; i < r->nt; i++)
		nt += r->t[i].scope == s;
	for (const struct sql_item *it = q->items; it; it = it->next) {
		const struct sql_expr *e = it->expr;
		struct sql_str name = it->alias.len ? it->alias : e->column;
		int ti = resolve(pl, r, s, e);

		if (c)
			name = c->name;
		if (e->kind == SQL_E_STAR && !e->table.len && !columns &&
		    nt == 1 && r->t[cls].scope == s &&
		    r->t[cls].kind == TABLE_SHARDED) {
			snprintf(key, cap, "%s", r->t[cls].t->key);
			return;
		}
		if (is_key(r, ti, e) && r->t[ti].scope == s &&
		    find(r, (unsigned)ti) == cls && name.len < cap) {
			memcpy(key, name.ptr, name.len);
			key[name.len] = '\0';
			return;
		}
		if (c)
			c = c->next;
	}
}

/*
 * A derived table or WITH query q (walked; its SELECT's scope is found
 * from scope `first` on) named in scope `outer` as `alias`.  When its
 * sharded tables are one class and each shard answers q for its own rows
 * alone (route_rows_apart), the derived table is itself a sharded table
 * of the outer query, spread like its class: a tref in `outer` stands
 * for it (keyed by the column that shows the class's key, if one does,
 * so that `d.key = 5` narrows and `d.key = c.id` co-locates), and its
 * own tables are settled through it.  Anything else stays for settle(),
 * which refuses it across shards with the reason kept in the scope.
 */
static int push_derived(struct planner *pl, struct route *r,
			const struct sql_from *f, const struct sql_query *q,
			struct sql_str alias, const struct sql_name *columns,
			unsigned outer, unsigned first)
{
	struct shard_table *vt;
	struct tref *t;
	unsigned cls = ~0u;
	uint64_t cm = all_shards(pl->ks);
	int s = -1;
	const char *why;

	for (unsigned j = first; j < r->nsc; j++)
		if (r->sc[j].q == q && r->sc[j].role == SCOPE_DERIVED)
			s = (int)j;
	if (s < 0)
		return 0;       /* a UNION or parentheses: settle() decides */
	for (unsigned i = 0; i < r->nt; i++) {
		const struct tref *u = &r->t[i];

		if (u->scope != (unsigned)s)
			continue;
		if (u->kind == TABLE_UNSHARDED) {
			r->sc[s].why = "a table of one shard joined";
			return 0;
		}
		if (u->kind != TABLE_SHARDED)
			continue;
		if (cls == ~0u)
			cls = find(r, i);
		else if (find(r, i) != cls)
			return 0;
		cm &= u->mask;
	}
	if (cls == ~0u)
		return 0;
	why = route_rows_apart(pl, r, (unsigned)s, q, false);
	if (why) {
		r->sc[s].why = why;
		if (!cm)
			/* Key values on different shards: no row of the
			 * class on any shard, so the derived table reads
			 * alike everywhere, like a broadcast table. */
			for (unsigned i = 0; i < r->nt; i++)
				if (r->t[i].scope == (unsigned)s &&
				    r->t[i].kind == TABLE_SHARDED)
					r->t[i].kind = TABLE_BROADCAST;
		return 0;
	}
	vt = sql_arena_alloc(pl->a, sizeof(*vt));
	if (!vt)
		return plan_nomem(pl);
	*vt = *r->t[cls].t;
	snprintf(vt->name, sizeof(vt->name), "%.*s", (int)alias.len,
		 alias.ptr);
	exposed_key(pl, r, (unsigned)s, cls, q, columns, vt->key,
		    sizeof(vt->key));
	for (unsigned i = 0; i < r->nt; i++)
		if (r->t[i].scope == (unsigned)s &&
		    r->t[i].kind == TABLE_SHARDED)
			r->t[i].pushed = true;
	if (!(t = add_tref(pl, r, outer)))
		return -1;
	t->kind = TABLE_SHARDED;
	t->t = vt;
	t->name = alias;
	t->ref = alias;
	t->mask = cm;
	t->from = f;
	return 0;
}

/* What every class of sharded tables and every unsharded table agree on:
 * r->mask, or a refusal. */
static int settle(struct planner *pl, struct route *r)
{
	uint64_t all = all_shards(pl->ks), m = all;
	uint64_t cmask[MAX_TREFS];
	bool corr[MAX_TREFS], is_class[MAX_TREFS];
	unsigned nclasses[MAX_SCOPES] = { 0 };
	const char *name1[MAX_SCOPES] = { 0 }, *name2[MAX_SCOPES] = { 0 };
	bool empty_top = false;

	for (unsigned i = 0; i < r->nt; i++) {
		cmask[i] = all;
		corr[i] = false;
		is_class[i] = false;
	}
	for (unsigned i = 0; i < r->nt; i++) {
		struct tref *t = &r->t[i];
		unsigned c = find(r, i);

		if (t->pushed)
			continue;
		if (t->kind == TABLE_UNSHARDED)
			m &= 1ull << t->shard;
		if (t->kind != TABLE_SHARDED)
			continue;
		cmask[c] &= t->mask;
		corr[c] |= t->correlated;
		if (!is_class[c]) {
			is_class[c] = true;
			if (!name1[t->scope])
				name1[t->scope] = t->t->name;
			else if (!name2[t->scope])
				name2[t->scope] = t->t->name;
		}
	}
	for (unsigned i = 0; i < r->nt; i++) {
		if (!is_class[i] || corr[i])
			continue;
		if (!cmask[i]) {
			/*
			 * WHERE names two shard key values on different
			 * shards (id = 1 AND id = 2): no row passes, on any
			 * shard, so the class's scope has no rows wherever
			 * it runs.  A top query without rows answers the
			 * same on every shard: one is asked.
			 */
			if (r->sc[r->t[i].scope].role == SCOPE_TOP &&
			    !r->top_setop)
				empty_top = true;
			is_class[i] = false;
			continue;
		}
		nclasses[r->t[i].scope]++;
		m &= cmask[i];
	}
	if (!m)
		return plan_fail(pl, "myring: this statement needs rows of "
				     "tables on different shards (a join or "
				     "subquery across shards)");
	for (unsigned i = 0; i < r->nt; i++) {
		const struct tref *t = &r->t[i];
		const struct scope *sc = &r->sc[t->scope];

		if (!is_class[i] || corr[i])
			continue;
		if (cmask[i] == m && (__builtin_popcountll(m) == 1 ||
				      (sc->role == SCOPE_TOP &&
				       nclasses[t->scope] == 1)))
			continue;
		if (nclasses[t->scope] > 1)
			return plan_fail(pl, "myring: a join of sharded tables "
					     "not on their shard keys (%s and "
					     "%s) across shards is not "
					     "supported",
					 name1[t->scope],
					 name2[t->scope] ? name2[t->scope] :
					 name1[t->scope]);
		if (sc->role == SCOPE_TOP && r->top_setop)
			return plan_fail(pl, "myring: UNION, EXCEPT or INTERSECT "
					     "over sharded tables across shards "
					     "is not supported yet (only on one "
					     "shard)");
		if (sc->role == SCOPE_SUB)
			return plan_fail(pl, "myring: a subquery over sharded "
					     "table %s across shards is not "
					     "supported (name one shard key "
					     "value, or correlate it on the "
					     "shard key)", t->t->name);
		if (sc->role == SCOPE_DERIVED)
			return plan_fail(pl, "myring: a derived table or WITH "
					     "query over sharded table %s across "
					     "shards is not supported (%s)",
					 t->t->name, sc->why ? sc->why :
					 "only a SELECT whose rows each shard "
					 "answers alone is");
		return plan_fail(pl, "myring: sharded table %s joined with a "
				     "table on another shard is not supported",
				 t->t->name);
	}
	if (empty_top) {
		const struct plan_ctx *c = pl->ctx;

		/* nothing else places it: any shard answers alike */
		r->empty_anywhere = m == all;

		/* in a transaction, the shard it is on if it can */
		if (c->in_trans && c->trans_shard >= 0 &&
		    c->trans_shard < 64 && (m >> c->trans_shard & 1))
			m = 1ull << c->trans_shard;
		else
			m = 1ull << lowest(m);
	}
	if (__builtin_popcountll(m) > 1 && r->top_setop)
		return plan_fail(pl, "myring: UNION, EXCEPT or INTERSECT over "
				     "sharded tables across shards is not "
				     "supported yet (only on one shard)");
	if (__builtin_popcountll(m) > 1 && r->outer_kept.len)
		return plan_fail(pl, "myring: an outer join that keeps the rows "
				     "of %.*s, which is not sharded, against a "
				     "sharded table is not supported across "
				     "shards (each shard would return the rows "
				     "it does not match)",
				 (int)r->outer_kept.len, r->outer_kept.ptr);
	r->mask = m;
	return 0;
}

static bool has_sharded(const struct route *r)
{
	for (unsigned i = 0; i < r->nt; i++)
		if (r->t[i].kind == TABLE_SHARDED && !r->t[i].pushed)
			return true;
	return false;
}

/* The route's shards when every table is broadcast: any one, the first. */
static uint64_t route_mask(const struct route *r)
{
	if (!has_sharded(r) && r->mask && __builtin_popcountll(r->mask) > 1)
		return r->mask & -r->mask;
	return r->mask;
}

/* ---- texts per shard ----------------------------------------------------- */

/* Cuts each IN-list to shard sh's keys (copies in the arena). */
static int cut_for(struct planner *pl, struct route *r, unsigned sh)
{
	for (unsigned i = 0; i < r->ncuts; i++) {
		struct sql_expr *head = NULL, **tail = &head;

		for (struct sql_expr *x = r->cuts[i].all; x; x = x->next) {
			struct sql_expr *c;

			if (literal_shard(pl, r->cuts[i].t, x) != (int)sh)
				continue;
			c = sql_arena_alloc(pl->a, sizeof(*c));
			if (!c)
				return plan_nomem(pl);
			*c = *x;
			c->next = NULL;
			*tail = c;
			tail = &c->next;
		}
		r->cuts[i].in->args = head ? head : r->cuts[i].all;
	}
	return 0;
}

static void uncut(struct route *r)
{
	for (unsigned i = 0; i < r->ncuts; i++)
		r->cuts[i].in->args = r->cuts[i].all;
}

/* One text per shard of mask. */
static int print_parts(struct planner *pl, struct route *r,
		       const struct sql_statement *st, uint64_t mask)
{
	struct shard_plan *p = pl->out;
	const char *shared = NULL;
	size_t shared_len = 0;

	p->kind = PLAN_MULTI;
	p->nparts = 0;
	for (uint64_t m = mask; m; m &= m - 1) {
		unsigned sh = lowest(m);
		const char *s;
		size_t len;

		if (r && r->ncuts) {
			if (cut_for(pl, r, sh))
				return -1;
			s = plan_print(pl, st, &len);
			uncut(r);
		} else if (shared) {
			s = shared;
			len = shared_len;
		} else {
			s = shared = plan_print(pl, st, &len);
			shared_len = len;
		}
		if (!s)
			return -1;
		part(p, sh, s, len);
	}
	return 0;
}

static void plan_one(struct planner *pl, unsigned shard)
{
	struct shard_plan *p = pl->out;

	p->kind = PLAN_ONE;
	p->nparts = 0;
	part(p, shard, pl->sql, pl->len);
}

/* ---- routes for the UNION planner (shard_plan_union.c) ------------------- */

int route_walk(struct planner *pl, struct route *r, struct sql_query *q)
{
	return walk_query(pl, r, q, -1, SCOPE_TOP);
}

int route_settle(struct planner *pl, struct route *r)
{
	return settle(pl, r);
}

uint64_t route_shards(const struct route *r)
{
	return route_mask(r);
}

bool route_any_shard(const struct route *r)
{
	for (unsigned i = 0; i < r->nt; i++)
		if (r->t[i].kind == TABLE_UNSHARDED && !r->t[i].pushed)
			return false;
	return !has_sharded(r) || r->empty_anywhere;
}

int route_cut(struct planner *pl, struct route *r, unsigned shard)
{
	return cut_for(pl, r, shard);
}

void route_uncut(struct route *r)
{
	uncut(r);
}

void plan_on_shard(struct planner *pl, unsigned shard)
{
	plan_one(pl, shard);
}

/* A write to a broadcast table goes to every shard, the same text, and
 * runs there as one distributed transaction (session_shard.c) so that the
 * copies stay the same.  Only when it reads nothing but broadcast tables:
 * with a sharded table in it, each shard would write something else. */
static int broadcast_write(struct planner *pl, const struct route *r,
			   const char *name)
{
	struct shard_plan *p = pl->out;

	for (unsigned i = 0; i < r->nt; i++)
		if (r->t[i].kind != TABLE_BROADCAST)
			return plan_fail(pl, "myring: a write to broadcast "
					 "table %s that reads other tables is "
					 "not supported (each shard would write "
					 "something else)", name);
	if (pl->ks->nshards == 1) {
		plan_one(pl, 0);
		return 0;
	}
	p->kind = PLAN_MULTI;
	p->result = PLAN_RESULT_OK;
	p->writes = true;
	p->copies = true;
	p->nparts = 0;
	for (unsigned i = 0; i < pl->ks->nshards; i++)
		part(p, i, pl->sql, pl->len);
	return 0;
}

/* ---- SELECT -------------------------------------------------------------- */

static int plan_select(struct planner *pl, struct sql_statement *st)
{
	struct route *r = sql_arena_alloc(pl->a, sizeof(*r));
	uint64_t m;
	int rc;

	if (!r)
		return plan_nomem(pl);
	pl->out->select = true;
	if (st->query->kind == SQL_Q_UNION && !st->query->with) {
		if (pl->ctx->float_cols)
			return plan_fail(pl, "myring: the FLOAT columns of a "
					     "UNION cannot be sent exactly by "
					     "an execution over several shards: "
					     "select CAST(... AS DOUBLE), or "
					     "send the statement as text");
		return plan_union(pl, st);
	}
	if (walk_query(pl, r, st->query, -1, SCOPE_TOP))
		return -1;
	if (!r->keyspace) {
		pl->out->kind = PLAN_PASS;
		return 0;
	}
	if (settle(pl, r))
		return -1;
	m = route_mask(r);
	rc = lookup_route(pl, r, m);
	if (rc)
		return rc < 0 ? -1 : 0;
	/* A statement's last step runs as a fanout, which merges. */
	if (__builtin_popcountll(m) == 1 && !pl->ctx->step) {
		plan_one(pl, lowest(m));
		return 0;
	}
	if (plan_select_merge(pl, st->query))
		return -1;
	if (pl->ctx->float_cols && plan_float_items(pl, st->query))
		return -1;
	pl->out->result = PLAN_RESULT_ROWS;
	return print_parts(pl, r, st, m);
}

/* ---- INSERT -------------------------------------------------------------- */

static const struct sql_assign *key_assign(const struct sql_assign *a,
					   const struct shard_table *t)
{
	for (; a; a = a->next)
		if (plan_name_eq(a->column->column, t->key))
			return a;
	return NULL;
}

/*
 * Subqueries in the values of an INSERT (its rows, SET, ON DUPLICATE KEY
 * UPDATE).  All the values share one scope, made on the first call (*s <
 * 0): a scope stands for a query, and the rows are not queries, so
 * mysqldump's extended INSERTs of thousands of rows take one.
 */
static int route_subqueries(struct planner *pl, struct route *r,
			    struct sql_expr *e, int *s)
{
	if (*s < 0 && (*s = new_scope(pl, r, -1, SCOPE_SUB)) < 0)
		return -1;
	return walk_expr(pl, r, e, (unsigned)*s);
}

static int plan_insert(struct planner *pl, struct sql_statement *st)
{
	struct sql_insert *in = st->insert;
	struct shard_plan *p = pl->out;
	const struct shard_table *t;
	struct route *r = sql_arena_alloc(pl->a, sizeof(*r));
	struct tref *target;
	unsigned key_idx = 0, nrows = 0;
	uint64_t mask = 0;
	int *row_shard, values_scope = -1, keyed, keyed_lk;

	if (!r)
		return plan_nomem(pl);
	p->writes = true;
	if (add_table(pl, r, 0, NULL, in->schema, in->table,
		      (struct sql_str){ 0 }))
		return -1;
	if (new_scope(pl, r, -1, SCOPE_TOP) < 0)
		return -1;
	/* what the values read: INSERT ... SELECT, subqueries in VALUES */
	if (walk_query(pl, r, in->query, -1, SCOPE_SUB))
		return -1;
	for (struct sql_expr *row = in->rows; row; row = row->next)
		if (route_subqueries(pl, r, row->args, &values_scope))
			return -1;
	for (struct sql_assign *a = in->set; a; a = a->next)
		if (route_subqueries(pl, r, a->value, &values_scope))
			return -1;
	for (struct sql_assign *a = in->update; a; a = a->next)
		if (route_subqueries(pl, r, a->value, &values_scope))
			return -1;
	if (!r->keyspace) {
		p->kind = PLAN_PASS;
		return 0;
	}
	if (!r->nt || r->t[0].scope != 0 || r->t[0].name.ptr != in->table.ptr)
		/* The target is outside the keyspace (it would pass to the
		 * first shard) but what it reads is in it. */
		return plan_fail(pl, "myring: INSERT into a table outside the "
				     "keyspace that reads keyspace tables is "
				     "not supported");
	target = &r->t[0];
	if (target->kind == TABLE_BROADCAST)
		return broadcast_write(pl, r, target->t->name);
	if (target->kind == TABLE_UNSHARDED) {
		if (settle(pl, r))
			return -1;
		if (!(r->mask & (1ull << target->shard)))
			return plan_fail(pl, "myring: INSERT ... SELECT across "
					     "shards is not supported");
		plan_one(pl, target->shard);
		return 0;
	}
	t = target->t;
	if (in->query)
		return plan_fail(pl, "myring: INSERT ... SELECT into sharded "
				     "table %s is not supported yet", t->name);
	if (key_assign(in->update, t))
		return plan_fail(pl, "myring: ON DUPLICATE KEY UPDATE of "
				     "sharded table %s changes the shard key %s "
				     "(it would move the row to another shard)",
				 t->name, t->key);
	for (unsigned i = 1; i < r->nt; i++)
		if (r->t[i].kind == TABLE_SHARDED ||
		    r->t[i].kind == TABLE_UNSHARDED)
			return plan_fail(pl, "myring: INSERT into sharded table "
					     "%s with a subquery over keyspace "
					     "tables is not supported", t->name);
	keyed = plan_insert_keys(pl, in, t);
	if (keyed < 0 || keyed == 2)
		return keyed < 0 ? -1 : 0;
	/* Its lookup rows first (steps of their own). */
	keyed_lk = lookup_insert(pl, in, t);
	if (keyed_lk)
		return keyed_lk < 0 ? -1 : 0;
	if (in->set) {
		const struct sql_assign *ka = key_assign(in->set, t);
		int sh = ka ? literal_shard(pl, t, ka->value) : -1;

		if (!ka)
			return plan_fail(pl, "myring: INSERT into sharded "
					     "table %s needs its key column %s",
					 t->name, t->key);
		if (sh < 0)
			return plan_fail(pl, "myring: INSERT into sharded "
					     "table %s needs a literal value of "
					     "its key column %s that maps to a "
					     "shard", t->name, t->key);
		if (keyed)
			return plan_insert_one_keyed(pl, st, (unsigned)sh);
		plan_one(pl, (unsigned)sh);
		return 0;
	}
	{
		bool found = false;

		for (struct sql_name *n = in->columns; n; n = n->next) {
			if (plan_name_eq(n->name, t->key)) {
				found = true;
				break;
			}
			key_idx++;
		}
		if (!found)
			return plan_fail(pl, "myring: INSERT into sharded "
					     "table %s needs its key column %s",
					 t->name, t->key);
	}
	nrows = sql_expr_count(in->rows);
	row_shard = sql_arena_alloc(pl->a, (nrows + 1) * sizeof(*row_shard));
	if (!row_shard)
		return plan_nomem(pl);
	nrows = 0;
	for (struct sql_expr *row = in->rows; row; row = row->next) {
		struct sql_expr *v = row->args;
		int sh;

		for (unsigned i = 0; v && i < key_idx; i++)
			v = v->next;
		sh = v ? literal_shard(pl, t, v) : -1;
		if (sh < 0)
			return plan_fail(pl, "myring: INSERT into sharded "
					     "table %s needs a literal value of "
					     "its key column %s that maps to a "
					     "shard in every row",
					 t->name, t->key);
		row_shard[nrows++] = sh;
		mask |= 1ull << sh;
	}
	if (!mask)
		return plan_fail(pl, "myring: INSERT without rows");
	if (__builtin_popcountll(mask) == 1) {
		if (keyed)
			return plan_insert_one_keyed(pl, st, lowest(mask));
		plan_one(pl, lowest(mask));
		return 0;
	}
	/* One INSERT per shard with that shard's rows. */
	p->kind = PLAN_MULTI;
	p->result = PLAN_RESULT_OK;
	p->nparts = 0;
	{
		struct sql_expr *all = in->rows;

		for (uint64_t m = mask; m; m &= m - 1) {
			unsigned sh = lowest(m), i = 0;
			struct sql_expr *head = NULL, **tail = &head;
			const char *s;
			size_t len;

			for (struct sql_expr *row = all; row;
			     row = row->next, i++) {
				struct sql_expr *c;

				if (row_shard[i] != (int)sh)
					continue;
				c = sql_arena_alloc(pl->a, sizeof(*c));
				if (!c)
					return plan_nomem(pl);
				*c = *row;
				c->next = NULL;
				*tail = c;
				tail = &c->next;
			}
			in->rows = head;
			s = plan_print(pl, st, &len);
			in->rows = all;
			if (!s)
				return -1;
			part(p, sh, s, len);
		}
	}
	return 0;
}

/* ---- UPDATE, DELETE ------------------------------------------------------ */

/* The keyspace table a SET column names in scope 0, or NULL. */
static const struct tref *assigned_table(struct planner *pl, struct route *r,
					 const struct sql_expr *col)
{
	unsigned n = 0;
	const struct tref *only = NULL;

	if (col->table.len) {
		int i = resolve(pl, r, 0, col);

		return i >= 0 ? &r->t[i] : NULL;
	}
	for (unsigned i = 0; i < r->nt; i++)
		if (r->t[i].scope == 0) {
			n++;
			only = &r->t[i];
		}
	return n == 1 ? only : NULL;
}

/* An UPDATE or DELETE that changes rows of a table with lookups moves
 * their lookup rows first (shard_plan_lookup.c): one table only. */
static int plan_write_lookups(struct planner *pl, struct route *r,
			      const struct sql_from *tables,
			      const struct sql_assign *set,
			      const struct sql_expr *where, bool ordered,
			      bool multi, bool ignore, uint64_t mask)
{
	for (unsigned i = 0; i < r->nt; i++) {
		const struct tref *t = &r->t[i];
		bool changed = !set;

		if (t->scope != 0 || t->kind != TABLE_SHARDED ||
		    !t->t->nlookups)
			continue;
		for (const struct sql_assign *a = set; a; a = a->next)
			if (lookup_column(r, (int)i, a->column) >= 0)
				changed = true;
		if (!changed)
			continue;
		if (multi)
			return plan_fail(pl, "myring: a multi-table %s of table "
					 "%s, which has lookups, is not "
					 "supported", set ? "UPDATE" : "DELETE",
					 t->t->name);
		return lookup_write(pl, r, t, tables, set, where, ordered,
				    ignore, mask);
	}
	return 0;
}

static int plan_write(struct planner *pl, struct sql_statement *st,
		      struct sql_from *tables, struct sql_from *targets,
		      struct sql_assign *set, struct sql_expr *where,
		      struct sql_order *order, struct sql_expr *limit,
		      bool multi, bool ignore, const char *what)
{
	struct shard_plan *p = pl->out;
	struct route *r = sql_arena_alloc(pl->a, sizeof(*r));
	uint64_t m;
	int s, rc;

	if (!r)
		return plan_nomem(pl);
	p->writes = true;
	s = new_scope(pl, r, -1, SCOPE_TOP);
	if (s < 0 || walk_from(pl, r, tables, 0) || walk_on(pl, r, tables, 0))
		return -1;
	if (where)
		conjunct(pl, r, where, 0, true);
	if (walk_one(pl, r, where, 0) || walk_order(pl, r, order, 0))
		return -1;
	for (struct sql_assign *a = set; a; a = a->next)
		if (walk_one(pl, r, a->value, 0))
			return -1;
	if (!r->keyspace) {
		p->kind = PLAN_PASS;
		return 0;
	}
	/* What is written: SET's tables, DELETE's targets. */
	for (struct sql_assign *a = set; a; a = a->next) {
		const struct tref *t = assigned_table(pl, r, a->column);

		if (t && t->kind == TABLE_SHARDED &&
		    plan_name_eq(a->column->column, t->t->key))
			return plan_fail(pl, "myring: this UPDATE changes the "
					     "shard key %s of table %s, which "
					     "would move the row to another "
					     "shard (not supported)",
					 t->t->key, t->t->name);
		if (!t) {
			for (unsigned i = 0; i < r->nt; i++)
				if (r->t[i].scope == 0 &&
				    r->t[i].kind == TABLE_BROADCAST)
					return broadcast_write(pl, r,
							r->t[i].t->name);
		} else if (t->kind == TABLE_BROADCAST) {
			return broadcast_write(pl, r, t->t->name);
		}
	}
	if (!set) {
		for (unsigned i = 0; i < r->nt; i++) {
			const struct tref *t = &r->t[i];
			bool target = !targets;

			if (t->scope != 0 || t->kind != TABLE_BROADCAST)
				continue;
			for (struct sql_from *f = targets; f; f = f->next)
				if (plan_str_eq(f->name, t->ref) ||
				    plan_str_eq(f->name, t->name))
					target = true;
			if (target)
				return broadcast_write(pl, r, t->t->name);
		}
	}
	if (settle(pl, r))
		return -1;
	m = route_mask(r);
	rc = lookup_route(pl, r, m);
	if (rc)
		return rc < 0 ? -1 : 0;
	rc = plan_write_lookups(pl, r, tables, set, where, order || limit,
				multi, ignore, m);
	if (rc)
		return rc < 0 ? -1 : 0;
	if (__builtin_popcountll(m) > 1) {
		if (multi)
			return plan_fail(pl, "myring: a multi-table %s across "
					     "shards is not supported (name one "
					     "shard key value)", what);
		if (order || limit)
			return plan_fail(pl, "myring: %s with ORDER BY or LIMIT "
					     "across shards is not supported",
					 what);
	}
	if (__builtin_popcountll(m) == 1) {
		plan_one(pl, lowest(m));
		return 0;
	}
	p->result = PLAN_RESULT_OK;
	return print_parts(pl, r, st, m);
}

/* ---- the statement ------------------------------------------------------- */

static int plan_statement(struct planner *pl, struct sql_statement *st);

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$' ||
	       (unsigned char)c >= 0x80;
}

/* Whether a statement the planner cannot read may touch the keyspace:
 * the session is in its schema, or the text names it. */
static bool mentions_keyspace(struct planner *pl)
{
	const char *k = pl->ks->schema;
	size_t n = strlen(k);
	struct sql_str none = { 0 };

	if (is_keyspace_schema(pl, none))
		return true;
	if (!n)
		return false;
	for (size_t i = 0; i + n <= pl->len; i++)
		if (!strncasecmp(pl->sql + i, k, n) &&
		    (!i || !is_word(pl->sql[i - 1])) &&
		    (i + n == pl->len || !is_word(pl->sql[i + n])))
			return true;
	return false;
}

static char *arena_strdup(struct planner *pl, const char *s, size_t n)
{
	char *d = sql_arena_alloc(pl->a, n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* EXPLAIN SHARDS: the plan as rows (shard, query, merge). */
static int plan_explain_shards(struct planner *pl, struct sql_statement *st)
{
	static const char *cols[] = { "shard", "query", "merge" };
	struct shard_plan *p = pl->out;
	struct shard_plan *inner = sql_arena_alloc(pl->a, sizeof(*inner));
	struct planner sub;
	const char **cells;
	const char *merge;
	unsigned n;

	if (!inner)
		return plan_nomem(pl);
	sub = *pl;
	sub.out = inner;
	sub.explaining = true;
	/* The explained statement's own text. */
	sub.sql = pl->sql;
	if (plan_statement(&sub, st->explained))
		goto failed;
	if (inner->kind == PLAN_ONE) {
		/* The client's text is EXPLAIN SHARDS ...: what the shard
		 * would be sent is the statement itself. */
		inner->parts[0].sql = arena_strdup(pl, pl->sql +
						   st->explained->pos,
						   st->explained->end -
						   st->explained->pos);
		inner->parts[0].len = st->explained->end - st->explained->pos;
		if (!inner->parts[0].sql)
			return plan_nomem(pl);
	}
	if (inner->kind == PLAN_ANSWER)
		return plan_fail(pl, "myring: EXPLAIN SHARDS of EXPLAIN");
	merge = inner->more ? lookup_step_what(inner) : plan_merge_what(inner);
	n = inner->kind == PLAN_PASS ? 1 : inner->nparts;
	cells = sql_arena_alloc(pl->a, 3 * n * sizeof(*cells));
	if (!cells)
		return plan_nomem(pl);
	if (inner->kind == PLAN_PASS) {
		cells[0] = pl->ks->nshards ? pl->ks->shards[0].name : NULL;
		cells[1] = arena_strdup(pl, pl->sql + st->explained->pos,
					st->explained->end -
					st->explained->pos);
		cells[2] = merge;
	} else {
		for (unsigned i = 0; i < n; i++) {
			cells[3 * i] = pl->ks->shards[inner->parts[i].shard].name;
			cells[3 * i + 1] = arena_strdup(pl, inner->parts[i].sql,
							inner->parts[i].len);
			cells[3 * i + 2] = merge;
		}
	}
	for (unsigned i = 0; i < 3 * n; i++)
		if (!cells[i] && (i % 3) != 0)
			return plan_nomem(pl);
	memset(p, 0, sizeof(*p));
	p->kind = PLAN_ANSWER;
	p->ncols = 3;
	p->nrows = n;
	p->cols = cols;
	p->cells = cells;
	return 0;
failed:
	*p = *inner;
	pl->failed = true;
	return -1;
}

/* Statements the planner does not read that may read or change tables
 * (the executor sends a schema change alone to every shard itself). */
static bool touches_tables(struct sql_str word)
{
	static const char *const words[] = {
		"CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "LOAD",
		"CALL", "LOCK", "HANDLER", "ANALYZE", "OPTIMIZE", "REPAIR",
		"CHECK", "CHECKSUM", "DO", "PREPARE", "EXECUTE", "IMPORT",
		"TABLE", "VALUES", "WITH", "SELECT", "INSERT", "UPDATE",
		"DELETE", "REPLACE", "BACKUP", "CACHE",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (plan_name_eq(word, words[i]))
			return true;
	return false;
}

static int plan_statement(struct planner *pl, struct sql_statement *st)
{
	struct shard_plan *p = pl->out;

	pl->st = st;
	switch (st->kind) {
	case SQL_ST_SELECT:
		return plan_select(pl, st);
	case SQL_ST_INSERT:
		return plan_insert(pl, st);
	case SQL_ST_UPDATE:
		return plan_write(pl, st, st->update->tables, NULL,
				  st->update->set, st->update->where,
				  st->update->order, st->update->limit,
				  st->update->multi,
				  st->update->flags & SQL_DML_IGNORE, "UPDATE");
	case SQL_ST_DELETE:
		return plan_write(pl, st, st->del->tables,
				  st->del->form == SQL_DELETE_SINGLE ?
				  NULL : st->del->targets, NULL,
				  st->del->where, st->del->order,
				  st->del->limit,
				  st->del->form != SQL_DELETE_SINGLE,
				  st->del->flags & SQL_DML_IGNORE, "DELETE");
	case SQL_ST_EXPLAIN:
		if (st->shards)
			return plan_explain_shards(pl, st);
		pl->explaining = true;
		if (plan_statement(pl, st->explained))
			return -1;
		p->writes = false;
		if (p->kind == PLAN_MULTI) {
			/* EXPLAIN shows the plan of the first shard. */
			unsigned sh = p->parts[0].shard;

			p->merge = NULL;
			plan_one(pl, sh);
		} else if (p->kind == PLAN_ONE) {
			plan_one(pl, p->parts[0].shard);
		} else if (p->kind == PLAN_ANSWER) {
			return plan_fail(pl, "myring: EXPLAIN of EXPLAIN "
					     "SHARDS");
		}
		return 0;
	case SQL_ST_SET: {
		struct route *r = sql_arena_alloc(pl->a, sizeof(*r));
		int values_scope = -1;

		if (!r)
			return plan_nomem(pl);
		for (struct sql_set_item *it = st->set; it; it = it->next)
			if (route_subqueries(pl, r, it->value, &values_scope))
				return -1;
		if (r->keyspace)
			return plan_fail(pl, "myring: SET with a subquery over "
					     "keyspace tables is not supported");
		p->kind = PLAN_PASS;
		return 0;
	}
	case SQL_ST_OTHER:
		if (touches_tables(st->word) && mentions_keyspace(pl))
			return plan_fail(pl, "myring: %.*s statements in a "
					     "sharded keyspace are not supported "
					     "(run them on each shard's server)",
					 (int)(st->word.len > 40 ? 40 :
					       st->word.len), st->word.ptr);
		p->kind = PLAN_PASS;
		return 0;
	default:        /* USE, SHOW, BEGIN, COMMIT, SAVEPOINT ... */
		p->kind = PLAN_PASS;
		return 0;
	}
}

/* How the session reads its statements (plan_ctx.sql_mode). */
static void reading_of(const struct plan_ctx *c, struct sql_reading *rd,
		       unsigned *flags)
{
	memset(rd, 0, sizeof(*rd));
	if (c->rd)
		*rd = *c->rd;
	else if (c->sql_mode & PLAN_MODE_NO_BACKSLASH_ESCAPES)
		rd->escapes = SQL_ESC_NONE;
	else if (c->sql_mode & PLAN_MODE_ANSI_QUOTES)
		rd->escapes = SQL_ESC_SINGLE;
	*flags = 0;
	if (c->sql_mode & PLAN_MODE_PIPES_AS_CONCAT)
		*flags |= SQL_PARSE_PIPES_AS_CONCAT;
	if (c->sql_mode & PLAN_MODE_HIGH_NOT_PRECEDENCE)
		*flags |= SQL_PARSE_HIGH_NOT_PRECEDENCE;
}

/* More than one statement in the text: allowed when none of them touches
 * the keyspace (then PASS). */
static int plan_several(struct planner *pl, const struct sql_parse_opts *po)
{
	size_t off = 0;
	struct shard_plan one;

	while (off < pl->len) {
		struct sql_parse_opts o = *po;
		struct sql_tree tree;
		struct planner sub = *pl;
		size_t i;

		for (i = off; i < pl->len && strchr(" \t\r\n;", pl->sql[i]); i++)
			;
		if (i == pl->len)
			break;
		o.flags |= SQL_PARSE_MULTI;
		if (sql_parse(pl->a, pl->sql + off, pl->len - off, &o, &tree)) {
			if (!mentions_keyspace(pl))
				break;
			return plan_fail(pl, "myring: a statement of a "
					     "multi-statement query could not "
					     "be parsed for sharding");
		}
		memset(&one, 0, sizeof(one));
		sub.sql = pl->sql + off;
		sub.len = tree.end;
		sub.out = &one;
		plan_statement(&sub, tree.stmt);
		if (one.kind != PLAN_PASS)
			return plan_fail(pl, "myring: several statements in "
					     "one query touching the keyspace "
					     "are not supported (send them one "
					     "at a time)");
		if (!tree.end)
			break;
		off += tree.end;
	}
	pl->out->kind = PLAN_PASS;
	return 0;
}

int shard_plan(struct sql_arena *a, const struct plan_ctx *ctx,
	       const char *sql, size_t len, struct shard_plan *out)
{
	struct planner pl = { .a = a, .ctx = ctx, .ks = ctx->ks, .sql = sql,
			      .len = len, .out = out };
	struct sql_parse_opts po = { .rd = &pl.rd, .bind = ctx->bind,
				     .nbind = ctx->nbind };
	struct sql_tree tree;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!sql)
		pl.sql = sql = "", pl.len = len = 0;
	reading_of(ctx, &pl.rd, &po.flags);
	if (!ctx->ks || !ctx->ks->nshards) {
		out->kind = PLAN_PASS;
		return 0;
	}
	rc = sql_parse(a, sql, len, &po, &tree);
	if (rc == SQL_PARSE_SYNTAX && tree.err.what &&
	    !strcmp(tree.err.what, "one statement")) {
		plan_several(&pl, &po);
		return 0;
	}
	if (rc != SQL_PARSE_OK) {
		char msg[200];

		if (rc == SQL_PARSE_NOMEM) {
			plan_nomem(&pl);
			return 0;
		}
		if (!mentions_keyspace(&pl)) {
			out->kind = PLAN_PASS;
			return 0;
		}
		sql_parse_strerror(&tree.err, msg, sizeof(msg));
		if (rc == SQL_PARSE_UNSUPPORTED)
			plan_fail(&pl, "myring: %s", msg);
		else
			plan_fail_code(&pl, ER_PARSE_ERROR, "42000",
				       "myring: the statement could not be "
				       "parsed for sharding: %s", msg);
		return 0;
	}
	plan_statement(&pl, tree.stmt);
	if (!pl.failed && out->kind == PLAN_ONE && !out->nparts)
		plan_fail(&pl, "myring: no shard for the statement");
	if (!pl.failed && ctx->bind && ctx->one_as_text && !tree.nkept &&
	    out->kind == PLAN_ONE && !out->rewritten) {
		size_t n;
		const char *text = plan_print(&pl, tree.stmt, &n);
		if (text) {
			out->parts[0].sql = text;
			out->parts[0].len = n;
			out->one_bound = true;
		}
	}
	/* A marker the values could not replace would reach the shards as
	 * a ? (ORDER BY ?, LIMIT ? bound to other than an integer). */
	if (!pl.failed && ctx->bind && tree.nkept && out->kind == PLAN_MULTI)
		plan_fail(&pl, "myring: this execution of a prepared "
			      "statement needs several shards, and a ? of it "
			      "cannot be sent as its value (ORDER BY ?, or "
			      "LIMIT ? not bound to an integer)");
	return 0;
}
