/*
 * shard_plan_merge.c - a scatter SELECT's merge_spec once the shards'
 * column definitions are known, the projection callback that computes
 * HAVING and expressions over aggregates on merged rows, and the plan in
 * words (EXPLAIN SHARDS, the log).
 *
 * The evaluator computes only what it computes exactly as the server
 * would: integer and DECIMAL addition and subtraction, integer
 * multiplication, `/`, DIV and MOD (in double with a DOUBLE operand),
 * comparisons of numbers and of temporal values ([NOT] BETWEEN, [NOT] IN
 * a list), AND / OR / XOR / NOT and IS [NOT] NULL / TRUE / FALSE, with
 * SQL's NULLs.  The
 * planner refuses other forms; a value the evaluator meets that it cannot
 * handle (a string compared, a product of decimals) fails the query with
 * a message, never a guess.
 */
#include "shard_plan_int.h"
#include "mysql_decimal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run {
	const struct plan_merge *m;
	const struct myv *in;
	unsigned nin;
	char *err;
	size_t errlen;
	int depth;
};

static int ev_fail(struct run *r, const char *what)
{
	snprintf(r->err, r->errlen, "myring: %s in an expression over "
		 "aggregates across shards is not supported", what);
	return -1;
}

static int eval(struct run *r, const struct sql_expr *e, struct myv *v);

static void set_int(struct myv *v, int64_t i)
{
	memset(v, 0, sizeof(*v));
	v->kind = MYV_INT;
	v->type = RS_TYPE_LONGLONG;
	v->v.i = i;
}

/* 1 true, 0 false, -1 NULL; -2 error. */
static int truth(struct run *r, const struct myv *v)
{
	switch (v->kind) {
	case MYV_NULL:
		return -1;
	case MYV_INT:
		return v->v.i != 0;
	case MYV_UINT:
		return v->v.u != 0;
	case MYV_DEC:
		return !mdec_is_zero(&v->v.dec);
	case MYV_DOUBLE:
		return v->v.d != 0;
	case MYV_TIME:
		return v->v.t != 0;
	default:
		ev_fail(r, "a string used as a truth value");
		return -2;
	}
}

static void set_truth(struct myv *v, int t)
{
	if (t < 0) {
		memset(v, 0, sizeof(*v));
		myv_null(v);
	} else {
		set_int(v, t);
	}
}

static bool is_num(const struct myv *v)
{
	return v->kind == MYV_INT || v->kind == MYV_UINT ||
	       v->kind == MYV_DEC || v->kind == MYV_DOUBLE;
}

static int literal(struct run *r, const struct sql_expr *e, struct myv *v)
{
	char buf[80];
	bool neg = e->flags & SQL_EF_NEG;

	memset(v, 0, sizeof(*v));
	switch (e->op) {
	case SQL_LIT_NULL:
		myv_null(v);
		return 0;
	case SQL_LIT_TRUE:
	case SQL_LIT_FALSE:
		set_int(v, e->op == SQL_LIT_TRUE);
		return 0;
	case SQL_LIT_STRING:
		v->kind = MYV_STR;
		v->type = RS_TYPE_VAR_STRING;
		v->v.s.p = (const uint8_t *)e->text.ptr;
		v->v.s.len = (uint32_t)e->text.len;
		return 0;
	case SQL_LIT_INT:
	case SQL_LIT_DECIMAL:
		if (e->text.len + 2 > sizeof(buf))
			return ev_fail(r, "a long number");
		snprintf(buf, sizeof(buf), "%s%.*s", neg ? "-" : "",
			 (int)e->text.len, e->text.ptr);
		v->kind = MYV_DEC;
		v->type = RS_TYPE_NEWDECIMAL;
		if (mdec_parse(buf, strlen(buf), &v->v.dec))
			return ev_fail(r, "a number");
		if (e->op == SQL_LIT_INT && v->v.dec.n <= 2) {
			char *end;
			long long i;

			errno = 0;
			i = strtoll(buf, &end, 10);
			if (!errno && !*end)
				set_int(v, i);
		}
		return 0;
	default:
		return ev_fail(r, "this literal");
	}
}

static int to_dec(struct run *r, const struct myv *v, struct mdec *d)
{
	if (myv_to_dec(v, d))
		return ev_fail(r, "arithmetic on this type");
	return 0;
}

static int set_dec_int(struct run *r, const struct mdec *d, struct myv *v)
{
	char buf[MDEC_TEXT_MAX + 1];
	size_t n = mdec_format(d, buf);
	char *end;
	long long i;

	buf[n] = '\0';
	errno = 0;
	i = strtoll(buf, &end, 10);
	if (errno || *end)
		return ev_fail(r, "a DIV beyond BIGINT");
	set_int(v, i);
	return 0;
}

/*
 * `/`, DIV and MOD of exact numbers (a DOUBLE operand took the double
 * path).  As the server: x / y is a DECIMAL at x's scale plus
 * div_precision_increment (taken as its default, 4), even for integers,
 * rounded half away from zero; DIV cuts toward zero to a BIGINT; MOD
 * keeps x's sign, an integer for integers, else a DECIMAL at the larger
 * scale.  A zero divisor gives NULL (the server adds a warning, which a
 * merged answer does not carry).
 */
static int divide(struct run *r, uint8_t op, const struct myv *a,
		  const struct myv *b, struct myv *v)
{
	struct mdec x, y, q;

	if (to_dec(r, a, &x) || to_dec(r, b, &y))
		return -1;
	memset(v, 0, sizeof(*v));
	if (mdec_is_zero(&y)) {
		myv_null(v);
		return 0;
	}
	if (op == SQL_OP_MOD && a->kind != MYV_DEC && b->kind != MYV_DEC) {
		/* integers: C's % keeps the dividend's sign, as MOD does;
		 * 128 bits for INT64_MIN % -1 and unsigned operands */
		__int128 i = a->kind == MYV_INT ? a->v.i : (__int128)a->v.u;
		__int128 j = b->kind == MYV_INT ? b->v.i : (__int128)b->v.u;
		__int128 m = i % j;

		if (m < INT64_MIN || m > INT64_MAX) {
			v->kind = MYV_UINT;
			v->type = RS_TYPE_LONGLONG;
			v->v.u = (uint64_t)m;
		} else {
			set_int(v, (int64_t)m);
		}
		return 0;
	}
	if (op == SQL_OP_MOD) {
		if (mdec_mod(&x, &y, &q))
			return ev_fail(r, "a decimal beyond 99 digits");
	} else if (op == SQL_OP_INTDIV) {
		if (mdec_div(&x, &y, 0, true, &q))
			return ev_fail(r, "a decimal beyond 99 digits");
		if ((a->kind == MYV_UINT || b->kind == MYV_UINT) && q.neg)
			return ev_fail(r, "a negative DIV of an unsigned value");
		return set_dec_int(r, &q, v);
	} else {
		unsigned scale = x.scale + 4u;

		if (scale > MDEC_MAX_SCALE)
			scale = MDEC_MAX_SCALE;
		if (mdec_div(&x, &y, scale, false, &q))
			return ev_fail(r, "a decimal beyond 99 digits");
	}
	v->kind = MYV_DEC;
	v->type = RS_TYPE_NEWDECIMAL;
	v->v.dec = q;
	return 0;
}

static int arith(struct run *r, uint8_t op, const struct myv *a,
		 const struct myv *b, struct myv *v)
{
	memset(v, 0, sizeof(*v));
	if (a->kind == MYV_NULL || b->kind == MYV_NULL) {
		myv_null(v);
		return 0;
	}
	if (!is_num(a) || !is_num(b))
		return ev_fail(r, "arithmetic on a non-number");
	if (a->kind == MYV_DOUBLE || b->kind == MYV_DOUBLE) {
		double x, y;

		myv_to_double(a, &x);
		myv_to_double(b, &y);
		v->kind = MYV_DOUBLE;
		v->type = RS_TYPE_DOUBLE;
		if (op == SQL_OP_DIV || op == SQL_OP_MOD) {
			if (y == 0) {   /* the server: NULL and a warning */
				myv_null(v);
				return 0;
			}
			v->v.d = op == SQL_OP_DIV ? x / y : fmod(x, y);
			return 0;
		}
		if (op == SQL_OP_INTDIV)
			return ev_fail(r, "DIV of a floating-point number");
		v->v.d = op == SQL_OP_ADD ? x + y : op == SQL_OP_SUB ? x - y :
			 x * y;
		return 0;
	}
	if (op == SQL_OP_DIV || op == SQL_OP_INTDIV || op == SQL_OP_MOD)
		return divide(r, op, a, b, v);
	if ((a->kind == MYV_INT || a->kind == MYV_UINT) &&
	    (b->kind == MYV_INT || b->kind == MYV_UINT)) {
		__int128 x = a->kind == MYV_INT ? a->v.i : (__int128)a->v.u;
		__int128 y = b->kind == MYV_INT ? b->v.i : (__int128)b->v.u;
		__int128 z = op == SQL_OP_ADD ? x + y : op == SQL_OP_SUB ?
			     x - y : x * y;

		if (op == SQL_OP_MUL && x && (z / x != y ||
					      z > (__int128)UINT64_MAX))
			return ev_fail(r, "an integer product beyond BIGINT");
		if (z >= INT64_MIN && z <= INT64_MAX) {
			set_int(v, (int64_t)z);
		} else if (z > 0 && z <= (__int128)UINT64_MAX) {
			v->kind = MYV_UINT;
			v->type = RS_TYPE_LONGLONG;
			v->v.u = (uint64_t)z;
		} else {
			return ev_fail(r, "an integer beyond BIGINT");
		}
		return 0;
	}
	if (op == SQL_OP_MUL)
		return ev_fail(r, "multiplying decimals");
	{
		struct mdec x, y;

		if (to_dec(r, a, &x) || to_dec(r, b, &y))
			return -1;
		if (op == SQL_OP_SUB && !mdec_is_zero(&y))
			y.neg = !y.neg;
		if (mdec_add(&x, &y))
			return ev_fail(r, "a decimal beyond 99 digits");
		v->kind = MYV_DEC;
		v->type = RS_TYPE_NEWDECIMAL;
		v->v.dec = x;
	}
	return 0;
}

static int compare(struct run *r, uint8_t op, const struct myv *a,
		   const struct myv *b, struct myv *v)
{
	int c;

	if (op == SQL_OP_NULLEQ && (a->kind == MYV_NULL ||
				    b->kind == MYV_NULL)) {
		set_int(v, a->kind == b->kind);
		return 0;
	}
	if (a->kind == MYV_NULL || b->kind == MYV_NULL) {
		set_truth(v, -1);
		return 0;
	}
	if (!(is_num(a) && is_num(b)) &&
	    !(a->kind == MYV_TIME && b->kind == MYV_TIME && a->type == b->type))
		return ev_fail(r, "comparing strings or values of different "
			       "types");
	c = myv_cmp(a, b, NULL);
	switch (op) {
	case SQL_OP_EQ:
	case SQL_OP_NULLEQ:
		c = c == 0;
		break;
	case SQL_OP_NE:
		c = c != 0;
		break;
	case SQL_OP_LT:
		c = c < 0;
		break;
	case SQL_OP_LE:
		c = c <= 0;
		break;
	case SQL_OP_GT:
		c = c > 0;
		break;
	default:
		c = c >= 0;
		break;
	}
	set_int(v, c);
	return 0;
}

static int logic(struct run *r, const struct sql_expr *e, struct myv *v)
{
	int acc = e->op == SQL_OP_AND ? 1 : 0;

	for (const struct sql_expr *x = e->args; x; x = x->next) {
		struct myv a;
		int t;

		if (eval(r, x, &a))
			return -1;
		if ((t = truth(r, &a)) == -2)
			return -1;
		if (e->op == SQL_OP_AND) {
			if (t == 0) {
				acc = 0;
				break;
			}
			if (t < 0)
				acc = -1;
		} else if (e->op == SQL_OP_OR) {
			if (t == 1) {
				acc = 1;
				break;
			}
			if (t < 0)
				acc = -1;
		} else {        /* XOR */
			if (t < 0 || acc < 0)
				acc = -1;
			else
				acc ^= t;
		}
	}
	set_truth(v, acc);
	return 0;
}

/* x [NOT] BETWEEN lo AND hi: x >= lo AND x <= hi, with AND's NULLs (as
 * the server: 5 BETWEEN NULL AND 3 is false, 1 BETWEEN NULL AND 3 NULL). */
static int between(struct run *r, const struct sql_expr *e, struct myv *v)
{
	struct myv x, lo, hi, ge, le;
	int t1, t2, t;

	if (eval(r, e->left, &x) || eval(r, e->args, &lo) ||
	    eval(r, e->args->next, &hi) ||
	    compare(r, SQL_OP_GE, &x, &lo, &ge) ||
	    compare(r, SQL_OP_LE, &x, &hi, &le))
		return -1;
	t1 = truth(r, &ge);
	t2 = truth(r, &le);
	t = !t1 || !t2 ? 0 : t1 < 0 || t2 < 0 ? -1 : 1;
	if (e->flags & SQL_EF_NOT)
		t = t < 0 ? -1 : !t;
	set_truth(v, t);
	return 0;
}

/* x [NOT] IN (list): true on an equal item; else NULL when x or an item
 * is NULL; else false. */
static int in_list(struct run *r, const struct sql_expr *e, struct myv *v)
{
	struct myv x, y, eq;
	int t = 0;

	if (eval(r, e->left, &x))
		return -1;
	for (const struct sql_expr *i = e->args; i && t != 1; i = i->next) {
		int u;

		if (eval(r, i, &y) || compare(r, SQL_OP_EQ, &x, &y, &eq))
			return -1;
		u = truth(r, &eq);
		if (u == 1 || u < 0)
			t = u;
	}
	if (e->flags & SQL_EF_NOT)
		t = t < 0 ? -1 : !t;
	set_truth(v, t);
	return 0;
}

static int eval(struct run *r, const struct sql_expr *e, struct myv *v)
{
	struct myv a, b;
	int t;

	if (++r->depth > 200) {
		r->depth--;
		return ev_fail(r, "nesting this deep");
	}
	for (unsigned i = 0; i < r->m->nrefs; i++) {
		const struct pm_ref *ref = &r->m->refs[i];

		if (ref->e != e)
			continue;
		if (ref->mid >= PM_HIDDEN) {    /* an item named by alias */
			const struct pm_final *f =
				&r->m->final[ref->mid - PM_HIDDEN];

			if (f->mid >= 0)
				*v = r->in[f->mid];
			else if (eval(r, f->expr, v))
				return r->depth--, -1;
		} else {
			*v = r->in[ref->mid];
		}
		r->depth--;
		return 0;
	}
	switch (e->kind) {
	case SQL_E_LITERAL:
		t = literal(r, e, v);
		break;
	case SQL_E_UNARY:
		if ((t = eval(r, e->left, &a)))
			break;
		if (e->op == SQL_OP_NOT) {
			if ((t = truth(r, &a)) == -2)
				break;
			set_truth(v, t < 0 ? -1 : !t);
			t = 0;
		} else if (e->op == SQL_OP_PLUS) {
			*v = a;
		} else {
			set_int(&b, 0);
			t = arith(r, SQL_OP_SUB, &b, &a, v);
		}
		break;
	case SQL_E_BINARY:
		if ((t = eval(r, e->left, &a)) || (t = eval(r, e->right, &b)))
			break;
		if (e->op >= SQL_OP_ADD && e->op <= SQL_OP_MOD)
			t = arith(r, e->op, &a, &b, v);
		else
			t = compare(r, e->op, &a, &b, v);
		break;
	case SQL_E_LOGIC:
		t = logic(r, e, v);
		break;
	case SQL_E_BETWEEN:
		t = between(r, e, v);
		break;
	case SQL_E_IN:
		t = in_list(r, e, v);
		break;
	case SQL_E_IS:
		if ((t = eval(r, e->left, &a)))
			break;
		if (e->op == SQL_OP_IS_NULL || e->op == SQL_OP_IS_UNKNOWN) {
			t = a.kind == MYV_NULL;
		} else {
			int x = truth(r, &a);

			if (x == -2) {
				t = -1;
				break;
			}
			t = e->op == SQL_OP_IS_TRUE ? x == 1 : x == 0;
		}
		if (e->flags & SQL_EF_NOT)
			t = !t;
		set_int(v, t);
		t = 0;
		break;
	default:
		t = ev_fail(r, "this expression");
		break;
	}
	r->depth--;
	return t ? -1 : 0;
}

static int project(void *ctx, const struct myv *in, unsigned nin,
		   struct myv *out, unsigned nout, char *err, size_t errlen)
{
	const struct plan_merge *m = ctx;
	struct run r = { .m = m, .in = in, .nin = nin, .err = err,
			 .errlen = errlen };

	if (m->having) {
		struct myv h;
		int t;

		if (eval(&r, m->having, &h))
			return -1;
		if ((t = truth(&r, &h)) == -2)
			return -1;
		if (t != 1)
			return 0;
	}
	for (unsigned i = 0; i < nout && i < m->nfinal; i++) {
		const struct pm_final *f = &m->final[i];

		if (f->mid >= 0) {
			out[i] = in[f->mid];
		} else {
			if (eval(&r, f->expr, &out[i]))
				return -1;
			out[i].raw = NULL;
		}
	}
	return 1;
}

/* ---- the spec ------------------------------------------------------------ */

static int col_at(const struct plan_merge *m, unsigned c, unsigned ncols,
		  unsigned *out)
{
	if (c >= PM_HIDDEN)
		c = ncols - m->nhidden + (c - PM_HIDDEN);
	if (c >= ncols)
		return -1;
	*out = c;
	return 0;
}

int shard_plan_merge_spec(const struct shard_plan *p, struct sql_arena *a,
			  const struct rs_coldef *cols, unsigned ncols,
			  enum rs_proto in, enum rs_proto out,
			  struct merge_spec *spec, char *err, size_t errlen)
{
	const struct plan_merge *m = p->merge;
	struct merge_key *keys = NULL, *sort = NULL;
	struct merge_col *mid = NULL;
	struct rs_coldef *fin = NULL;
	unsigned nkeys, nmid = 0;

	memset(spec, 0, sizeof(*spec));
	if (!m || p->kind != PLAN_MULTI) {
		snprintf(err, errlen, "myring: this plan merges no rows");
		return -1;
	}
	if ((m->star && ncols <= m->nhidden) ||
	    (!m->star && ncols != m->nshard_cols)) {
		snprintf(err, errlen, "myring: the shards answered with %u "
			 "columns, not the %u expected", ncols,
			 m->nshard_cols);
		return -1;
	}
	nkeys = m->nkeys;
	keys = sql_arena_alloc(a, (nkeys + 1) * sizeof(*keys));
	if (m->aggregate)
		nmid = m->nmid;
	else if (m->nhidden)
		nmid = ncols - m->nhidden;
	mid = sql_arena_alloc(a, (nmid + 1) * sizeof(*mid));
	sort = sql_arena_alloc(a, (m->nsort + 1) * sizeof(*sort));
	fin = sql_arena_alloc(a, (m->nfinal + 1) * sizeof(*fin));
	if (!keys || !mid || !sort || !fin) {
		snprintf(err, errlen, "myring: out of memory");
		return -1;
	}
	for (unsigned i = 0; i < nkeys; i++) {
		unsigned c = m->keys[i].col;

		if (col_at(m, c, ncols, &keys[i].col))
			goto range;
		keys[i].desc = m->keys[i].desc;
		keys[i].collation = MERGE_COLL_FROM_DEF;
	}
	for (unsigned i = 0; i < nmid; i++) {
		struct merge_col *mc = &mid[i];
		unsigned typed;

		if (!m->aggregate) {
			mc->agg = MERGE_COL;
			mc->col = i;
			mc->def = cols[i];
			continue;
		}
		mc->agg = (enum merge_agg)m->mid[i].agg;
		if (col_at(m, m->mid[i].col, ncols, &mc->col) ||
		    col_at(m, m->mid[i].typed, ncols, &typed) ||
		    (mc->agg == MERGE_AVG &&
		     col_at(m, m->mid[i].col2, ncols, &mc->col2)))
			goto range;
		mc->collation = MERGE_COLL_FROM_DEF;
		mc->def = cols[typed];
	}
	for (unsigned i = 0; i < m->nfinal; i++) {
		unsigned typed;

		if (col_at(m, m->final[i].typed, ncols, &typed))
			goto range;
		fin[i] = cols[typed];
	}
	for (unsigned i = 0; i < m->nsort; i++) {
		sort[i].col = m->sort[i].col;
		sort[i].desc = m->sort[i].desc;
		sort[i].collation = MERGE_COLL_FROM_DEF;
	}
	spec->nstreams = p->nparts;
	spec->in_proto = in;
	spec->out_proto = out;
	spec->ncols = ncols;
	spec->cols = cols;
	spec->nkeys = nkeys;
	spec->keys = keys;
	spec->aggregate = m->aggregate;
	spec->ngroup = m->ngroup;
	spec->nout = nmid;
	spec->out = mid;
	if (m->nfinal) {
		spec->project = project;
		spec->project_ctx = (void *)m;
		spec->nfinal = m->nfinal;
		spec->final = fin;
	}
	spec->nsort = m->nsort;
	spec->sort = sort;
	spec->offset = m->offset;
	spec->limit = m->limit;
	return 0;
range:
	snprintf(err, errlen, "myring: the shards' columns do not match the "
		 "plan");
	return -1;
}

/* ---- in words ------------------------------------------------------------ */

const char *plan_merge_what(const struct shard_plan *p)
{
	switch (p->kind) {
	case PLAN_PASS:
		return "none: no keyspace table (sent as without a keyspace)";
	case PLAN_ONE:
		return "none: one shard (sent as written)";
	case PLAN_MULTI:
		if (p->result == PLAN_RESULT_OK)
			return "affected rows summed";
		return p->merge ? p->merge->what : "rows concatenated";
	default:
		return "";
	}
}

void shard_plan_describe(const struct shard_plan *p,
			 const struct keyspace *ks, struct sql_buf *out)
{
	char line[64];

	switch (p->kind) {
	case PLAN_ERROR:
		sql_buf_puts(out, "error: ");
		sql_buf_puts(out, p->err);
		sql_buf_putc(out, '\n');
		return;
	case PLAN_ANSWER:
		sql_buf_puts(out, "answered by myring\n");
		return;
	case PLAN_PASS:
		sql_buf_puts(out, "pass: no keyspace table\n");
		return;
	default:
		break;
	}
	for (unsigned i = 0; i < p->nparts; i++) {
		const struct plan_part *pt = &p->parts[i];

		snprintf(line, sizeof(line), "shard %s: ",
			 ks && pt->shard < ks->nshards ?
			 ks->shards[pt->shard].name : "?");
		sql_buf_puts(out, line);
		sql_buf_put(out, pt->sql, pt->len);
		sql_buf_putc(out, '\n');
	}
	sql_buf_puts(out, "merge: ");
	sql_buf_puts(out, plan_merge_what(p));
	sql_buf_putc(out, '\n');
}
