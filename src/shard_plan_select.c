/*
 * shard_plan_select.c - a SELECT that spans shards: what each shard is
 * asked and how myring merges the answers (merge.h's contract, stage by
 * stage).  The shards' select list starts with the client's items as
 * written (so every column keeps the name and the type one server would
 * give it: AVG(x), COUNT(DISTINCT x) and expressions over aggregates are
 * computed by the shards too, for their column definitions), followed by
 * hidden columns: the partials myring merges (SUM and COUNT for an AVG),
 * ORDER BY expressions not in the list, DISTINCT arguments.
 */
#include "shard_plan_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 512

struct sel {
	struct planner *pl;
	struct sql_query *q;
	struct plan_merge *m;
	struct sql_item *items[MAX_ITEMS];      /* the shards' items */
	unsigned nitems, norig;
	int star_at;                    /* first `*` item, or -1 */
	/* merged columns by their text (aggregates, columns) */
	const char *mid_text[MAX_ITEMS];
	struct pm_col mid[MAX_ITEMS];
	unsigned nmid;
	struct pm_ref refs[MAX_ITEMS];
	unsigned nrefs;
	struct sql_expr *distinct_args;  /* of the DISTINCT aggregates */
	const char *distinct_text;
};

static bool is_agg_name(struct sql_str n, const char *name)
{
	return plan_name_eq(n, name);
}

/* MERGE_* for an aggregate function node, -1 for none, -2 for one myring
 * cannot merge. */
static int agg_kind(const struct sql_expr *e)
{
	static const char *const unmergeable[] = {
		"GROUP_CONCAT", "STD", "STDDEV", "STDDEV_POP", "STDDEV_SAMP",
		"VARIANCE", "VAR_POP", "VAR_SAMP", "BIT_AND", "BIT_OR",
		"BIT_XOR", "JSON_ARRAYAGG", "JSON_OBJECTAGG",
	};
	bool d;

	if (e->kind != SQL_E_FUNC || e->fschema.len)
		return -1;
	d = e->flags & SQL_EF_DISTINCT;
	if (is_agg_name(e->fname, "COUNT"))
		return d ? MERGE_COUNT_DISTINCT : MERGE_COUNT;
	if (is_agg_name(e->fname, "SUM"))
		return d ? MERGE_SUM_DISTINCT : MERGE_SUM;
	if (is_agg_name(e->fname, "AVG"))
		return d ? MERGE_AVG_DISTINCT : MERGE_AVG;
	if (is_agg_name(e->fname, "MIN"))
		return MERGE_MIN;
	if (is_agg_name(e->fname, "MAX"))
		return MERGE_MAX;
	for (size_t i = 0; i < sizeof(unmergeable) / sizeof(*unmergeable); i++)
		if (is_agg_name(e->fname, unmergeable[i]))
			return -2;
	return -1;
}

/* Whether e holds an aggregate of its own query (not a subquery's); a
 * refusal for ones that cannot be merged.  1, 0, or -1 after plan_fail. */
static int has_agg(struct planner *pl, const struct sql_expr *e)
{
	int found = 0;

	for (; e; e = e->next) {
		int k = agg_kind(e), r;

		if (k == -2)
			return plan_fail(pl, "myring: %.*s across shards is not "
					     "supported yet", (int)e->fname.len,
					 e->fname.ptr);
		if (k >= 0)
			found = 1;
		if (e->kind == SQL_E_SUBQUERY || e->kind == SQL_E_EXISTS)
			continue;
		if ((r = has_agg(pl, e->left)) < 0 ||
		    (r |= has_agg(pl, e->right)) < 0)
			return -1;
		found |= r;
		if (k < 0) {
			if ((r = has_agg(pl, e->args)) < 0)
				return -1;
			found |= r;
		}
	}
	return found;
}

static int has_agg_one(struct planner *pl, struct sql_expr *e)
{
	struct sql_expr *next;
	int r;

	if (!e)
		return 0;
	next = e->next;
	e->next = NULL;
	r = has_agg(pl, e);
	e->next = next;
	return r;
}

/* Appends a hidden item for e; its column index. */
static int add_hidden(struct sel *s, struct sql_expr *e)
{
	struct sql_item *it;
	char name[32];
	int n;

	if (s->nitems == MAX_ITEMS)
		return plan_fail(s->pl, "myring: more than %d columns in a "
					"query across shards", MAX_ITEMS);
	it = sql_arena_alloc(s->pl->a, sizeof(*it));
	n = snprintf(name, sizeof(name), "myring_h%u", s->m->nhidden);
	if (!it || !(it->alias.ptr = sql_arena_dup(s->pl->a, name, (size_t)n)))
		return plan_fail(s->pl, "myring: out of memory");
	it->alias.len = (size_t)n;
	it->expr = e;
	s->items[s->nitems] = it;
	s->m->nhidden++;
	return (int)s->nitems++;
}

/* The shard column e is, by position, alias or text; -1 if none. */
static int item_of(struct sel *s, const struct sql_expr *e)
{
	const char *t;
	int found = -1;

	if (e->kind == SQL_E_LITERAL && e->op == SQL_LIT_INT &&
	    !(e->flags & SQL_EF_NEG)) {
		/* The digits as written: the text is not NUL-terminated
		 * (it points into the statement). */
		unsigned long n = 0;

		for (size_t k = 0; k < e->text.len && k < 6; k++)
			n = n * 10 + (unsigned long)(e->text.ptr[k] - '0');
		if (e->text.len < 6 && n >= 1 && n <= s->norig &&
		    (s->star_at < 0 || (int)n - 1 < s->star_at))
			return (int)n - 1;
		return -1;
	}
	if (e->kind == SQL_E_COLUMN && !e->table.len) {
		for (unsigned i = 0; i < s->norig; i++)
			if (s->items[i]->alias.len &&
			    plan_str_eq(s->items[i]->alias, e->column))
				return s->star_at >= 0 &&
				       (int)i > s->star_at ? -1 : (int)i;
	}
	t = plan_expr_text(s->pl, e);
	if (!t)
		return -1;
	for (unsigned i = 0; i < s->nitems; i++) {
		const char *u;

		if (s->star_at >= 0 && (int)i >= s->star_at && i < s->norig)
			continue;
		if (s->items[i]->expr->kind == SQL_E_STAR)
			continue;
		u = plan_expr_text(s->pl, s->items[i]->expr);
		if (u && !strcmp(t, u))
			return (int)i;
		if (e->kind == SQL_E_COLUMN && !e->table.len &&
		    s->items[i]->expr->kind == SQL_E_COLUMN &&
		    !s->items[i]->alias.len &&
		    plan_str_eq(s->items[i]->expr->column, e->column)) {
			if (found >= 0)
				return -1;
			found = (int)i;
		}
	}
	return found;
}

/* Whether ORDER BY expression a names GROUP BY expression b: the same
 * select item, or the same text. */
static bool same_expr(struct sel *s, const struct sql_expr *a,
		      const struct sql_expr *b)
{
	int i = item_of(s, a), j = item_of(s, b);
	const char *t, *u;

	if (i >= 0 || j >= 0)
		return i == j;
	t = plan_expr_text(s->pl, a);
	u = plan_expr_text(s->pl, b);
	return t && u && !strcmp(t, u);
}

static int item_or_hidden(struct sel *s, struct sql_expr *e)
{
	int i = item_of(s, e);

	if (s->pl->failed)
		return -1;
	return i >= 0 ? i : add_hidden(s, e);
}

static struct sql_expr *call(struct sel *s, const char *fname,
			     struct sql_expr *arg)
{
	struct sql_expr *f = sql_arena_alloc(s->pl->a, sizeof(*f));
	struct sql_expr *a = sql_arena_alloc(s->pl->a, sizeof(*a));

	if (!f || !a)
		return NULL;
	*a = *arg;
	a->next = NULL;
	f->kind = SQL_E_FUNC;
	f->fname = (struct sql_str){ fname, strlen(fname) };
	f->args = a;
	return f;
}

static int new_mid(struct sel *s, const char *text, struct pm_col c)
{
	if (s->nmid == MAX_ITEMS)
		return plan_fail(s->pl, "myring: too many columns to merge");
	s->mid_text[s->nmid] = text;
	s->mid[s->nmid] = c;
	return (int)s->nmid++;
}

static bool same_args(struct sel *s, struct sql_expr *args)
{
	struct sql_buf b = { 0 };
	bool same;

	for (struct sql_expr *x = args; x; x = x->next) {
		struct sql_expr *n = x->next;

		x->next = NULL;
		sql_print_expr(&b, x, NULL);
		x->next = n;
		sql_buf_putc(&b, ',');
	}
	if (b.oom) {
		sql_buf_free(&b);
		return false;
	}
	sql_buf_putc(&b, '\0');
	if (!s->distinct_text) {
		s->distinct_text = sql_arena_dup(s->pl->a, b.buf, b.len);
		s->distinct_args = args;
		same = s->distinct_text != NULL;
	} else {
		same = !strcmp(s->distinct_text, b.buf);
	}
	sql_buf_free(&b);
	return same;
}

/*
 * The merged column for aggregate e, typed by shard column `typed` (-1:
 * add e itself as a hidden, typed column).  Partials it needs are added.
 */
static int mid_of_agg(struct sel *s, struct sql_expr *e, int typed)
{
	const char *t = plan_expr_text(s->pl, e);
	int k = agg_kind(e), c;
	struct pm_col pc = { .agg = (uint8_t)k };

	if (!t)
		return -1;
	if (!e->args || (k != MERGE_COUNT_DISTINCT && e->args->next))
		return plan_fail(s->pl, "myring: %.60s: an aggregate with "
					"other than one argument across shards "
					"is not supported", t);
	for (unsigned i = 0; i < s->nmid; i++)
		if (s->mid_text[i] && !strcmp(s->mid_text[i], t))
			return (int)i;
	if (typed < 0 && (typed = add_hidden(s, e)) < 0)
		return -1;
	pc.typed = (unsigned)typed;
	switch (k) {
	case MERGE_COUNT:
	case MERGE_SUM:
	case MERGE_MIN:
	case MERGE_MAX:
		pc.col = (unsigned)typed;
		break;
	case MERGE_AVG: {
		struct sql_expr *sum = call(s, "SUM", e->args);
		struct sql_expr *cnt = call(s, "COUNT", e->args);

		if (!sum || !cnt)
			return plan_fail(s->pl, "myring: out of memory");
		if ((c = add_hidden(s, sum)) < 0)
			return -1;
		pc.col = (unsigned)c;
		if ((c = add_hidden(s, cnt)) < 0)
			return -1;
		pc.col2 = (unsigned)c;
		break;
	}
	default:        /* the DISTINCT forms */
		if (!same_args(s, e->args))
			return plan_fail(s->pl, "myring: aggregates over "
						"different DISTINCT arguments "
						"across shards are not supported");
		/* col: the argument's column, set once the keys are known */
		pc.col = PM_HIDDEN - 1;
		break;
	}
	return new_mid(s, t, pc);
}

/* A column read by a HAVING or select expression: a merged column of the
 * group's first row. */
static int mid_of_column(struct sel *s, struct sql_expr *e)
{
	const char *t = plan_expr_text(s->pl, e);
	int c;

	if (!t)
		return -1;
	for (unsigned i = 0; i < s->nmid; i++)
		if (s->mid_text[i] && !strcmp(s->mid_text[i], t))
			return (int)i;
	if ((c = item_or_hidden(s, e)) < 0)
		return -1;
	return new_mid(s, t, (struct pm_col){ .agg = MERGE_COL,
					      .col = (unsigned)c,
					      .typed = (unsigned)c });
}

static int add_ref(struct sel *s, const struct sql_expr *e, int mid)
{
	if (mid < 0)
		return -1;
	if (s->nrefs == MAX_ITEMS)
		return plan_fail(s->pl, "myring: expression too large to "
					"merge across shards");
	s->refs[s->nrefs++] = (struct pm_ref){ e, (unsigned)mid };
	return 0;
}

/*
 * An expression myring evaluates on merged rows (HAVING, a select item
 * over aggregates): every aggregate and column in it becomes a merged
 * column, and only what the evaluator computes exactly is accepted.
 * having: item aliases may be named.
 */
static int prepare_expr(struct sel *s, struct sql_expr *e, bool having)
{
	for (; e; e = e->next) {
		switch (e->kind) {
		case SQL_E_FUNC:
			if (agg_kind(e) < 0)
				goto refuse;
			if (add_ref(s, e, mid_of_agg(s, e, -1)))
				return -1;
			continue;
		case SQL_E_COLUMN:
			if (having && !e->table.len) {
				int i = -1;

				for (unsigned k = 0; k < s->norig; k++)
					if (s->items[k]->alias.len &&
					    plan_str_eq(s->items[k]->alias,
							e->column))
						i = (int)k;
				if (i >= 0) {
					/* the item's value (PM_HIDDEN + i) */
					if (add_ref(s, e, PM_HIDDEN + i))
						return -1;
					continue;
				}
			}
			if (add_ref(s, e, mid_of_column(s, e)))
				return -1;
			continue;
		case SQL_E_LITERAL:
			if (e->op == SQL_LIT_FLOAT || e->op == SQL_LIT_HEX ||
			    e->op == SQL_LIT_BIT || e->op >= SQL_LIT_DATE)
				goto refuse;
			continue;
		case SQL_E_UNARY:
			if (e->op != SQL_OP_NEG && e->op != SQL_OP_PLUS &&
			    e->op != SQL_OP_NOT)
				goto refuse;
			break;
		case SQL_E_BINARY:
			if ((e->op < SQL_OP_ADD || e->op > SQL_OP_MOD) &&
			    (e->op < SQL_OP_EQ || e->op > SQL_OP_GE))
				goto refuse;
			break;
		case SQL_E_IN:
			if (e->query)   /* IN (subquery) */
				goto refuse;
			break;
		case SQL_E_LOGIC:
		case SQL_E_IS:
		case SQL_E_BETWEEN:
			break;
		default:
			goto refuse;
		}
		if (prepare_expr(s, e->left, having) ||
		    prepare_expr(s, e->right, having) ||
		    prepare_expr(s, e->args, having))
			return -1;
		continue;
refuse:
		{
			struct sql_expr *n = e->next;
			const char *t;

			e->next = NULL;
			t = plan_expr_text(s->pl, e);
			e->next = n;
			return plan_fail(s->pl, "myring: %s %.60s over "
						"aggregates across shards is "
						"not supported yet",
					 having ? "HAVING with" :
					 "the expression", t ? t : "");
		}
	}
	return 0;
}

static int prepare_one(struct sel *s, struct sql_expr *e, bool having)
{
	struct sql_expr *n = e->next;
	int r;

	e->next = NULL;
	r = prepare_expr(s, e, having);
	e->next = n;
	return r;
}

static struct sql_expr *int_literal(struct planner *pl, uint64_t v)
{
	struct sql_expr *e = sql_arena_alloc(pl->a, sizeof(*e));
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);

	if (!e || !(e->text.ptr = sql_arena_dup(pl->a, buf, (size_t)n)))
		return NULL;
	e->kind = SQL_E_LITERAL;
	e->op = SQL_LIT_INT;
	e->text.len = (size_t)n;
	return e;
}

static int limit_value(struct planner *pl, const struct sql_expr *e,
		       uint64_t *v)
{
	char buf[24];

	if (!e) {
		*v = 0;
		return 0;
	}
	if (e->kind != SQL_E_LITERAL || e->op != SQL_LIT_INT ||
	    (e->flags & SQL_EF_NEG) || e->text.len >= sizeof(buf) - 1)
		return plan_fail(pl, "myring: LIMIT other than numbers across "
				     "shards is not supported");
	memcpy(buf, e->text.ptr, e->text.len);
	buf[e->text.len] = '\0';
	*v = strtoull(buf, NULL, 10);
	return 0;
}

/* The shards' ORDER BY (and GROUP BY) as positions of their columns. */
static struct sql_order *positions(struct sel *s, const struct pm_key *k,
				   unsigned n, bool dirs)
{
	struct sql_order *head = NULL, **tail = &head;

	for (unsigned i = 0; i < n; i++) {
		struct sql_order *o = sql_arena_alloc(s->pl->a, sizeof(*o));

		if (!o || !(o->expr = int_literal(s->pl, k[i].col + 1)))
			return NULL;
		o->desc = dirs && k[i].desc;
		*tail = o;
		tail = &o->next;
	}
	return head;
}

static void describe(struct plan_merge *m)
{
	char *w = m->what;
	size_t cap = sizeof(m->what), n = 0;
	bool any = false;

#define PUT(...) do { \
		if (n < cap) \
			n += (size_t)snprintf(w + n, cap - n, __VA_ARGS__); \
	} while (0)
	if (m->aggregate && m->ngroup)
		PUT("GROUP BY merged on %u key%s", m->ngroup,
		    m->ngroup > 1 ? "s" : "");
	else if (m->aggregate)
		PUT("aggregates merged");
	else if (m->nkeys && !m->aggregate)
		PUT("k-way merge on %u key%s", m->nkeys,
		    m->nkeys > 1 ? "s" : "");
	else if (!m->aggregate)
		PUT("rows concatenated");
	any = true;
	if (m->aggregate && m->nkeys > m->ngroup)
		PUT("%s%u DISTINCT argument%s", any ? ", " : "",
		    m->nkeys - m->ngroup, m->nkeys - m->ngroup > 1 ? "s" : "");
	for (unsigned i = 0; i < m->nmid; i++)
		if (m->mid[i].agg == MERGE_AVG) {
			PUT(", AVG from SUM and COUNT");
			break;
		}
	if (m->having)
		PUT(", HAVING after the merge");
	if (m->nfinal)
		PUT(", projected");
	if (m->nsort)
		PUT(", sorted on %u column%s after the merge", m->nsort,
		    m->nsort > 1 ? "s" : "");
	if (m->offset)
		PUT(", OFFSET %llu", (unsigned long long)m->offset);
	if (m->limit != MERGE_NO_LIMIT)
		PUT(", LIMIT %llu%s", (unsigned long long)m->limit,
		    m->shard_limit ? " (shards: LIMIT offset+limit)" : "");
#undef PUT
}

static int finish(struct sel *s)
{
	struct planner *pl = s->pl;
	struct plan_merge *m = s->m;
	struct sql_item **link = &s->q->items;

	for (unsigned i = 0; i < s->nitems; i++) {
		*link = s->items[i];
		link = &s->items[i]->next;
	}
	*link = NULL;
	m->nshard_cols = m->star ? 0 : s->nitems;
	if (s->nmid) {
		m->mid = sql_arena_alloc(pl->a, s->nmid * sizeof(*m->mid));
		if (!m->mid)
			return plan_fail(pl, "myring: out of memory");
		memcpy(m->mid, s->mid, s->nmid * sizeof(*m->mid));
		m->nmid = s->nmid;
	}
	if (s->nrefs) {
		m->refs = sql_arena_alloc(pl->a, s->nrefs * sizeof(*m->refs));
		if (!m->refs)
			return plan_fail(pl, "myring: out of memory");
		memcpy(m->refs, s->refs, s->nrefs * sizeof(*m->refs));
		m->nrefs = s->nrefs;
	}
	describe(m);
	return 0;
}

/* ORDER BY on columns of the client's rows, after the merge. */
static int sort_stage(struct sel *s)
{
	struct plan_merge *m = s->m;
	unsigned n = 0;

	for (struct sql_order *o = s->q->order; o; o = o->next)
		n++;
	m->sort = sql_arena_alloc(s->pl->a, n * sizeof(*m->sort) + 1);
	if (!m->sort)
		return plan_fail(s->pl, "myring: out of memory");
	for (struct sql_order *o = s->q->order; o; o = o->next) {
		int i = item_of(s, o->expr);

		if (i < 0 || (unsigned)i >= s->norig) {
			const char *t = plan_expr_text(s->pl, o->expr);

			return plan_fail(s->pl, "myring: ORDER BY %.60s (not "
						"a column of the select list) "
						"after GROUP BY or aggregates "
						"across shards is not "
						"supported yet", t ? t : "");
		}
		m->sort[m->nsort++] = (struct pm_key){ (unsigned)i, o->desc };
	}
	return 0;
}

static int plan_plain(struct sel *s)
{
	struct plan_merge *m = s->m;
	unsigned n = 0;

	if (s->q->having)
		return plan_fail(s->pl, "myring: HAVING without GROUP BY or "
					"aggregates across shards is not "
					"supported");
	for (struct sql_order *o = s->q->order; o; o = o->next)
		n++;
	m->keys = sql_arena_alloc(s->pl->a, (n + 1) * sizeof(*m->keys));
	if (!m->keys)
		return plan_fail(s->pl, "myring: out of memory");
	for (struct sql_order *o = s->q->order; o; o = o->next) {
		int i;

		if (o->expr->kind == SQL_E_LITERAL && m->star)
			return plan_fail(s->pl, "myring: ORDER BY a position "
						"with * in the select list "
						"across shards is not supported "
						"(name the column)");
		i = item_or_hidden(s, o->expr);

		if (i < 0)
			return -1;
		if (i >= (int)s->norig)
			i = PM_HIDDEN + (i - (int)s->norig);
		m->keys[m->nkeys++] = (struct pm_key){ (unsigned)i, o->desc };
	}
	/* Every merged row comes out in the shards' order: o + n rows of
	 * each shard suffice. */
	m->shard_limit = true;
	return 0;
}

/* SELECT DISTINCT without aggregates: GROUP BY every column. */
static int plan_distinct(struct sel *s)
{
	struct plan_merge *m = s->m;
	bool used[MAX_ITEMS] = { false };

	if (s->q->having)
		return plan_fail(s->pl, "myring: HAVING without GROUP BY or "
					"aggregates across shards is not "
					"supported");
	m->aggregate = true;
	if (m->star)
		/* The merge finds duplicates in streams sorted on every
		 * column, and the shards cannot be asked to sort on columns
		 * nobody named. */
		return plan_fail(s->pl, "myring: SELECT DISTINCT * across "
					"shards is not supported (name the "
					"columns)");
	m->keys = sql_arena_alloc(s->pl->a, s->norig * sizeof(*m->keys));
	if (!m->keys)
		return plan_fail(s->pl, "myring: out of memory");
	for (struct sql_order *o = s->q->order; o; o = o->next) {
		int i = item_of(s, o->expr);

		if (i < 0 || (unsigned)i >= s->norig) {
			const char *t = plan_expr_text(s->pl, o->expr);

			return plan_fail(s->pl, "myring: SELECT DISTINCT ... "
						"ORDER BY %.60s (not in the "
						"select list) across shards is "
						"not supported", t ? t : "");
		}
		if (used[i])
			continue;
		used[i] = true;
		m->keys[m->nkeys++] = (struct pm_key){ (unsigned)i, o->desc };
	}
	for (unsigned i = 0; i < s->norig; i++)
		if (!used[i])
			m->keys[m->nkeys++] = (struct pm_key){ i, false };
	m->ngroup = m->nkeys;
	for (unsigned i = 0; i < s->norig; i++)
		if (new_mid(s, NULL, (struct pm_col){ .agg = MERGE_COL,
						      .col = i,
						      .typed = i }) < 0)
			return -1;
	s->q->order = positions(s, m->keys, m->nkeys, true);
	if (!s->q->order)
		return plan_fail(s->pl, "myring: out of memory");
	m->shard_limit = true;
	return 0;
}

static int plan_aggregate(struct sel *s)
{
	struct planner *pl = s->pl;
	struct plan_merge *m = s->m;
	struct sql_query *q = s->q;
	unsigned ngroup = 0, nd = 0;
	bool project = false, ordered_by_groups = true;
	struct pm_final *final;

	if (m->star)
		return plan_fail(pl, "myring: SELECT * with GROUP BY or "
				     "aggregates across shards is not "
				     "supported");
	if (q->options & SQL_SEL_DISTINCT)
		return plan_fail(pl, "myring: SELECT DISTINCT with GROUP BY or "
				     "aggregates across shards is not "
				     "supported yet");
	m->aggregate = true;
	final = sql_arena_alloc(pl->a, s->norig * sizeof(*final));
	if (!final)
		return plan_fail(pl, "myring: out of memory");
	/* The client's columns. */
	for (unsigned i = 0; i < s->norig; i++) {
		struct sql_expr *e = s->items[i]->expr;
		int k = agg_kind(e), r, mid;

		final[i].typed = i;
		if (k >= 0) {
			mid = mid_of_agg(s, e, (int)i);
		} else if ((r = has_agg_one(pl, e)) < 0) {
			return -1;
		} else if (r) {
			final[i].mid = -1;
			final[i].expr = e;
			project = true;
			if (prepare_one(s, e, false))
				return -1;
			continue;
		} else {
			const char *t = plan_expr_text(pl, e);

			if (!t)
				return -1;
			mid = new_mid(s, t, (struct pm_col){
				.agg = MERGE_COL, .col = i, .typed = i });
		}
		if (mid < 0)
			return -1;
		final[i].mid = mid;
		if ((unsigned)mid != i)
			project = true;
	}
	if (q->having) {
		if (prepare_one(s, q->having, true))
			return -1;
		m->having = q->having;
		q->having = NULL;
		project = true;
	}
	/* Groups, then the DISTINCT arguments: the shards' sort keys. */
	for (struct sql_order *o = q->group; o; o = o->next)
		ngroup++;
	for (struct sql_expr *x = s->distinct_args; x; x = x->next)
		nd++;
	m->keys = sql_arena_alloc(pl->a, (ngroup + nd + 1) * sizeof(*m->keys));
	if (!m->keys)
		return plan_fail(pl, "myring: out of memory");
	/* ORDER BY group columns: the groups' own order. */
	for (struct sql_order *o = q->order; o; o = o->next) {
		bool is_group = false;

		for (struct sql_order *g = q->group; g; g = g->next)
			if (same_expr(s, o->expr, g->expr))
				is_group = true;
		if (pl->failed)
			return -1;
		if (!is_group) {
			ordered_by_groups = false;
			break;
		}
	}
	if (!ngroup && q->order) {
		/* one row: nothing to sort */
		q->order = NULL;
	} else if (ordered_by_groups) {
		for (struct sql_order *o = q->order; o; o = o->next) {
			int i = item_or_hidden(s, o->expr);
			bool dup = false;

			if (i < 0)
				return -1;

			for (unsigned k = 0; k < m->nkeys; k++)
				dup |= m->keys[k].col == (unsigned)i;
			if (!dup)
				m->keys[m->nkeys++] = (struct pm_key){
					(unsigned)i, o->desc };
		}
	} else if (sort_stage(s)) {
		return -1;
	}
	for (struct sql_order *g = q->group; g; g = g->next) {
		int i = item_or_hidden(s, g->expr);
		bool dup = false;

		if (i < 0)
			return -1;
		for (unsigned k = 0; k < m->nkeys; k++)
			dup |= m->keys[k].col == (unsigned)i;
		if (!dup)
			m->keys[m->nkeys++] = (struct pm_key){ (unsigned)i,
							       g->desc };
	}
	m->ngroup = m->nkeys;
	for (struct sql_expr *x = s->distinct_args; x; x = x->next) {
		struct sql_expr *c = sql_arena_alloc(pl->a, sizeof(*c));
		int i;

		if (!c)
			return plan_fail(pl, "myring: out of memory");
		*c = *x;
		c->next = NULL;
		if ((i = item_or_hidden(s, c)) < 0)
			return -1;
		m->keys[m->nkeys++] = (struct pm_key){ (unsigned)i, false };
	}
	for (unsigned i = 0; i < s->nmid; i++)
		if (s->mid[i].agg == MERGE_SUM_DISTINCT ||
		    s->mid[i].agg == MERGE_AVG_DISTINCT ||
		    s->mid[i].agg == MERGE_COUNT_DISTINCT)
			s->mid[i].col = m->keys[m->ngroup].col;
	if (m->nkeys) {
		q->group = positions(s, m->keys, m->nkeys, false);
		q->order = positions(s, m->keys, m->nkeys, true);
		if (!q->group || !q->order)
			return plan_fail(pl, "myring: out of memory");
	} else {
		q->order = NULL;
	}
	if (s->nmid != s->norig)
		project = true;
	if (project) {
		m->final = final;
		m->nfinal = s->norig;
	}
	/* LIMIT o+n on the shards is exact when every merged group comes
	 * out in the shards' order (merge.h). */
	m->shard_limit = ngroup && !m->having && !m->nsort && !nd;
	return 0;
}

int plan_select_merge(struct planner *pl, struct sql_query *q)
{
	struct sel *s;
	struct plan_merge *m;
	int r;

	while (q->kind == SQL_Q_PAREN && !q->order && !q->limit)
		q = q->left;
	if (q->kind != SQL_Q_SELECT)
		return plan_fail(pl, "myring: this form of query (UNION or "
				     "parentheses with their own ORDER BY or "
				     "LIMIT) across shards is not supported");
	if (q->options & SQL_SEL_CALC_FOUND_ROWS)
		return plan_fail(pl, "myring: SQL_CALC_FOUND_ROWS across shards "
				     "is not supported");
	/* ORDER BY NULL: no order (MySQL's way to skip GROUP BY's sort) */
	if (q->order && !q->order->next &&
	    q->order->expr->kind == SQL_E_LITERAL &&
	    q->order->expr->op == SQL_LIT_NULL)
		q->order = NULL;
	s = sql_arena_alloc(pl->a, sizeof(*s));
	m = sql_arena_alloc(pl->a, sizeof(*m));
	if (!s || !m)
		return plan_fail(pl, "myring: out of memory");
	s->pl = pl;
	s->q = q;
	s->m = m;
	s->star_at = -1;
	m->limit = MERGE_NO_LIMIT;
	for (struct sql_item *it = q->items; it; it = it->next) {
		if (s->nitems == MAX_ITEMS)
			return plan_fail(pl, "myring: more than %d columns in "
					     "a query across shards", MAX_ITEMS);
		if (it->expr->kind == SQL_E_STAR && s->star_at < 0)
			s->star_at = (int)s->nitems;
		s->items[s->nitems++] = it;
	}
	s->norig = s->nitems;
	m->star = s->star_at >= 0;
	r = 0;
	for (struct sql_item *it = q->items; it && r >= 0; it = it->next)
		r |= has_agg_one(pl, it->expr);
	if (r >= 0 && q->having)
		r |= has_agg_one(pl, q->having);
	for (struct sql_order *o = q->order; o && r >= 0; o = o->next)
		r |= has_agg_one(pl, o->expr);
	if (r < 0)
		return -1;
	if (r || q->group)
		r = plan_aggregate(s);
	else if (q->options & SQL_SEL_DISTINCT)
		r = plan_distinct(s);
	else
		r = plan_plain(s);
	if (r)
		return -1;
	if (q->limit) {
		uint64_t n, o;

		if (limit_value(pl, q->limit, &n) ||
		    limit_value(pl, q->offset, &o))
			return -1;
		m->limit = n;
		m->offset = o;
		q->offset = NULL;
		if (m->shard_limit && n + o >= n) {
			if (!(q->limit = int_literal(pl, n + o)))
				return plan_fail(pl, "myring: out of memory");
		} else {
			m->shard_limit = false;
			q->limit = NULL;
		}
	}
	m->shard_limit = m->shard_limit && q->limit;
	if (finish(s))
		return -1;
	pl->out->merge = m;
	return 0;
}

/* ---- for the other planners (shard_plan_int.h) --------------------------- */

int plan_agg_kind(const struct sql_expr *e)
{
	return agg_kind(e);
}

int plan_limit_value(struct planner *pl, const struct sql_expr *e,
		     uint64_t *v)
{
	return limit_value(pl, e, v);
}

struct sql_expr *plan_int_literal(struct planner *pl, uint64_t v)
{
	return int_literal(pl, v);
}

void plan_describe(struct plan_merge *m)
{
	describe(m);
}
