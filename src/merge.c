#include "merge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE  (64u << 10)
#define MAX_SPARE   8u
/* Top-N keeps offset + limit rows in slots of their own; above this many
 * the sort keeps every row instead (the budget still bounds it). */
#define MAX_TOPN    65536u

/* ---- memory: accounted buffers and row queues ---------------------------- */

/* A growable buffer whose bytes count against the merge's budget. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

/* Rows stored one after the other as [u32 length][payload] in chunks
 * that never move: pointers to a queued row stay valid until it is
 * popped. */
struct chunk {
	struct chunk *next;
	size_t cap, head, tail;
	uint8_t data[];
};

struct rowq {
	struct chunk *first, *last;
	size_t bytes;            /* payload bytes queued */
	size_t n;                /* rows queued */
};

struct stream {
	struct rowq q;
	bool ended;
	bool in_heap;
	struct myv *keys;        /* nkeys values of the front row */
};

/* A row waiting in the sort stage. */
struct sorted {
	const uint8_t *p;
	size_t len;
	uint64_t seq;            /* arrival: ties keep it */
	struct myv *keys;        /* nsort values */
	size_t slot;             /* keys - sortkeys, while those move */
	struct buf own;          /* top-N: the slot's copy */
};

struct acc {
	uint64_t count;
	bool has;                /* a non-NULL value seen */
	double d;
	struct mdec dec;
	struct buf best;         /* MIN/MAX: the best cell so far */
	struct myv bestv;
};

struct merge {
	struct merge_spec s;
	char err[512];
	bool failed, done;
	size_t mem;

	/* how keys compare: NULL entries compare bytes / non-strings */
	const struct coll **key_coll;   /* nkeys */
	struct coll *key_colls;
	const struct coll **col_coll;   /* nout: MIN/MAX */
	struct coll *col_colls;
	const struct coll **sort_coll;  /* nsort */
	struct coll *sort_colls;

	/* the shards */
	struct stream *streams;
	unsigned *heap, nheap;
	unsigned waiting;        /* not ended, nothing queued */
	unsigned live;           /* not ended */
	struct chunk *spare;
	unsigned nspare;

	/* scratch */
	struct rs_cell *cells;          /* ncols */
	struct myv *rowkeys;            /* nkeys */
	struct myv *vals;               /* nmid */
	struct myv *fvals;              /* nfinal */
	struct rs_cell *fcells;         /* nfin */
	uint8_t *encbuf;                /* nfin * MYV_ENCODE_MAX */
	struct buf out;                 /* the row being built */
	struct rs_cell *sortcells;      /* nfin */

	/* merged and final columns */
	unsigned nmid;
	struct merge_col *mid;
	struct rs_coldef *mid_defs;
	unsigned nfin;
	const struct rs_coldef *fin_defs;
	bool passthrough;        /* rows go out exactly as they came */
	bool cells_direct;       /* cells go out unchanged (columns left
	                          * out, none converted) */

	/* the group being aggregated */
	bool group_open;
	struct buf first;
	struct rs_cell *fcells_in;      /* ncols, into first */
	struct myv *gkeys;              /* nkeys, decoded from first */
	struct buf prev;
	struct rs_cell *pcells;         /* ncols, into prev */
	struct myv *pkeys;              /* nkeys, decoded from prev */
	bool have_prev;
	bool has_distinct;
	struct acc *accs;               /* nmid */

	/* sort stage */
	struct rowq sortq;              /* full sort: the rows */
	struct sorted *sorted;
	size_t nsorted, capsorted;
	struct myv *sortkeys;           /* capsorted * nsort */
	uint64_t seq;
	bool topn;
	size_t topn_k;

	/* limit stage */
	uint64_t skipped, emitted;
};

static int fail(struct merge *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct merge *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->failed) {
		va_start(ap, fmt);
		vsnprintf(m->err, sizeof(m->err), fmt, ap);
		va_end(ap);
	}
	m->failed = true;
	return MERGE_ERROR;
}

static int over_budget(struct merge *m)
{
	return fail(m, "myring: merging this query's shard results needs "
		       "more than its memory budget of %zu bytes",
		    m->s.budget);
}

/* Counts n more bytes; -1 (and the failure) above the budget. */
static int charge(struct merge *m, size_t n)
{
	if (n > m->s.budget - m->mem)
		return over_budget(m);
	m->mem += n;
	return 0;
}

static void refund(struct merge *m, size_t n)
{
	m->mem -= n;
}

static int buf_reserve(struct merge *m, struct buf *b, size_t n)
{
	size_t ncap;
	uint8_t *p;

	if (n <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < n)
		ncap = ncap > SIZE_MAX / 2 ? n : ncap * 2;
	if (charge(m, ncap - b->cap))
		return -1;
	p = realloc(b->p, ncap);
	if (!p) {
		refund(m, ncap - b->cap);
		return fail(m, "myring: out of memory merging shard results");
	}
	b->p = p;
	b->cap = ncap;
	return 0;
}

static int buf_set(struct merge *m, struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(m, b, n ? n : 1))
		return -1;
	if (n)
		memcpy(b->p, p, n);
	b->len = n;
	return 0;
}

static struct chunk *chunk_get(struct merge *m, size_t need)
{
	struct chunk *c;
	size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;

	if (cap == CHUNK_SIZE && m->spare) {
		c = m->spare;
		m->spare = c->next;
		m->nspare--;
	} else {
		if (charge(m, sizeof(*c) + cap))
			return NULL;
		c = malloc(sizeof(*c) + cap);
		if (!c) {
			refund(m, sizeof(*c) + cap);
			fail(m, "myring: out of memory merging shard results");
			return NULL;
		}
		c->cap = cap;
	}
	c->next = NULL;
	c->head = c->tail = 0;
	return c;
}

static void chunk_put(struct merge *m, struct chunk *c)
{
	if (c->cap == CHUNK_SIZE && m->nspare < MAX_SPARE) {
		c->next = m->spare;
		m->spare = c;
		m->nspare++;
		return;
	}
	refund(m, sizeof(*c) + c->cap);
	free(c);
}

/* Appends a row; returns where its payload now lives, or NULL. */
static const uint8_t *rowq_push(struct merge *m, struct rowq *q,
				const uint8_t *p, size_t len)
{
	struct chunk *c = q->last;
	uint32_t l32 = (uint32_t)len;
	uint8_t *dst;

	if (len > UINT32_MAX) {
		fail(m, "myring: a shard row is too large to merge");
		return NULL;
	}
	if (!c || c->cap - c->tail < 4 + len) {
		c = chunk_get(m, 4 + len);
		if (!c)
			return NULL;
		if (q->last)
			q->last->next = c;
		else
			q->first = c;
		q->last = c;
	}
	dst = c->data + c->tail;
	memcpy(dst, &l32, 4);
	if (len)
		memcpy(dst + 4, p, len);
	c->tail += 4 + len;
	q->bytes += len;
	q->n++;
	return dst + 4;
}

static const uint8_t *rowq_front(const struct rowq *q, size_t *len)
{
	const struct chunk *c = q->first;
	uint32_t l32;

	memcpy(&l32, c->data + c->head, 4);
	*len = l32;
	return c->data + c->head + 4;
}

static void rowq_pop(struct merge *m, struct rowq *q)
{
	struct chunk *c = q->first;
	uint32_t l32;

	memcpy(&l32, c->data + c->head, 4);
	c->head += 4 + (size_t)l32;
	q->bytes -= l32;
	q->n--;
	if (c->head < c->tail)
		return;
	if (c == q->last) {
		/* Empty: the last chunk is reused from its start, unless it
		 * was a one-off for a large row. */
		if (c->cap == CHUNK_SIZE) {
			c->head = c->tail = 0;
			return;
		}
		q->last = NULL;
	}
	q->first = c->next;
	chunk_put(m, c);
}

static void rowq_free(struct merge *m, struct rowq *q)
{
	struct chunk *c = q->first;

	while (c) {
		struct chunk *next = c->next;

		refund(m, sizeof(*c) + c->cap);
		free(c);
		c = next;
	}
	memset(q, 0, sizeof(*q));
}

/* ---- rows and keys ----------------------------------------------------- */

static int parse_row(struct merge *m, const uint8_t *p, size_t len,
		     enum rs_proto proto, unsigned ncols,
		     const struct rs_coldef *cols, struct rs_cell *cells)
{
	int r = proto == RS_TEXT ? rs_parse_text_row(p, len, ncols, cells)
				 : rs_parse_binary_row(p, len, ncols, cols, cells);

	if (r)
		return fail(m, "myring: malformed %s row from a shard",
			    proto == RS_TEXT ? "text" : "binary");
	return 0;
}

static int decode(struct merge *m, const struct rs_cell *cell,
		  const struct rs_coldef *cd, enum rs_proto proto,
		  struct myv *v)
{
	if (myv_decode(cell, cd, proto, v))
		return fail(m, "myring: a shard sent a value that is not a "
			       "valid %s for column `%.*s`",
			    rs_type_name(cd->type), (int)cd->name.len,
			    cd->name.ptr);
	return 0;
}

/* Decodes the input columns keys[from..to) of a parsed row. */
static int decode_keys(struct merge *m, const struct rs_cell *cells,
		       unsigned from, unsigned to, struct myv *out)
{
	for (unsigned k = from; k < to; k++) {
		unsigned col = m->s.keys[k].col;

		if (decode(m, &cells[col], &m->s.cols[col], m->s.in_proto,
			   &out[k]))
			return -1;
	}
	return 0;
}

static int cmp_keys(const struct merge_key *keys, const struct coll **colls,
		    const struct myv *a, const struct myv *b, unsigned from,
		    unsigned to)
{
	for (unsigned k = from; k < to; k++) {
		int c = myv_cmp(&a[k], &b[k], colls[k]);

		if (c)
			return keys[k].desc ? -c : c;
	}
	return 0;
}

/* ---- stage 5: OFFSET / LIMIT ------------------------------------------- */

static int to_limit(struct merge *m, const uint8_t *p, size_t len)
{
	if (m->done)
		return 0;
	if (m->skipped < m->s.offset) {
		m->skipped++;
		return 0;
	}
	if (m->s.emit(m->s.emit_ctx, p, len))
		return fail(m, "myring: the merged result could not be sent");
	if (++m->emitted >= m->s.limit)
		m->done = true;
	return 0;
}

/* ---- stage 4: sort --------------------------------------------------------- */

static int sort_cmp_entries(const struct merge *m, const struct sorted *a,
			    const struct sorted *b)
{
	int c = cmp_keys(m->s.sort, m->sort_coll, a->keys, b->keys, 0,
			 m->s.nsort);

	if (c)
		return c;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int sort_qsort_cmp(const void *x, const void *y, void *ctx)
{
	return sort_cmp_entries(ctx, x, y);
}

static int sort_decode(struct merge *m, struct sorted *e)
{
	if (parse_row(m, e->p, e->len, m->s.out_proto, m->nfin, m->fin_defs,
		      m->sortcells))
		return -1;
	for (unsigned k = 0; k < m->s.nsort; k++) {
		unsigned col = m->s.sort[k].col;

		if (decode(m, &m->sortcells[col], &m->fin_defs[col],
			   m->s.out_proto, &e->keys[k]))
			return -1;
	}
	return 0;
}

/* Top-N: a max-heap of the best rows, the worst at the root. */
static void topn_sift_down(struct merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;

		if (l < m->nsorted &&
		    sort_cmp_entries(m, &m->sorted[l], &m->sorted[w]) > 0)
			w = l;
		if (r < m->nsorted &&
		    sort_cmp_entries(m, &m->sorted[r], &m->sorted[w]) > 0)
			w = r;
		if (w == i)
			return;
		struct sorted t = m->sorted[i];

		m->sorted[i] = m->sorted[w];
		m->sorted[w] = t;
		i = w;
	}
}

static void topn_sift_up(struct merge *m, size_t i)
{
	while (i) {
		size_t parent = (i - 1) / 2;

		if (sort_cmp_entries(m, &m->sorted[i], &m->sorted[parent]) <= 0)
			return;
		struct sorted t = m->sorted[i];

		m->sorted[i] = m->sorted[parent];
		m->sorted[parent] = t;
		i = parent;
	}
}

static int sort_grow(struct merge *m)
{
	size_t ncap = m->capsorted ? m->capsorted * 2 : 64;
	size_t nsort = m->s.nsort;
	struct sorted *ns;
	struct myv *nk;

	if (charge(m, (ncap - m->capsorted) *
			      (sizeof(*ns) + nsort * sizeof(*nk))))
		return -1;
	ns = realloc(m->sorted, ncap * sizeof(*ns));
	if (ns)
		m->sorted = ns;
	/* Where each entry's keys are, before they move: a top-N heap has
	 * swapped entries, so entry i's keys need not be slot i. */
	for (size_t i = 0; ns && i < m->nsorted; i++)
		m->sorted[i].slot = (size_t)(m->sorted[i].keys - m->sortkeys);
	nk = ns ? realloc(m->sortkeys, ncap * nsort * sizeof(*nk)) : NULL;
	if (!ns || !nk)
		return fail(m, "myring: out of memory merging shard results");
	m->sortkeys = nk;
	/* The keys moved: every entry points at its own again. */
	for (size_t i = 0; i < m->nsorted; i++)
		m->sorted[i].keys = nk + m->sorted[i].slot;
	memset(m->sorted + m->capsorted, 0,
	       (ncap - m->capsorted) * sizeof(*ns));
	m->capsorted = ncap;
	return 0;
}

static int sort_add(struct merge *m, const uint8_t *p, size_t len)
{
	size_t nsort = m->s.nsort;
	struct sorted *e;

	/* One spare entry past the last: where a candidate's keys go. */
	if (m->nsorted + 1 >= m->capsorted && sort_grow(m))
		return -1;
	if (m->topn && m->nsorted == m->topn_k) {
		/* Full: the row replaces the worst one if it is better. */
		struct sorted cand = {.p = p, .len = len, .seq = m->seq++,
				      .keys = m->sortkeys + m->nsorted * nsort};
		struct sorted *root = &m->sorted[0];

		if (!m->topn_k)
			return 0;
		if (sort_decode(m, &cand))
			return -1;
		if (sort_cmp_entries(m, &cand, root) >= 0)
			return 0;
		if (buf_set(m, &root->own, p, len))
			return -1;
		root->p = root->own.p;
		root->len = len;
		root->seq = cand.seq;
		if (sort_decode(m, root))
			return -1;
		topn_sift_down(m, 0);
		return 0;
	}
	e = &m->sorted[m->nsorted];
	e->keys = m->sortkeys + m->nsorted * nsort;
	e->seq = m->seq++;
	e->len = len;
	if (m->topn) {
		if (buf_set(m, &e->own, p, len))
			return -1;
		e->p = e->own.p;
	} else {
		e->p = rowq_push(m, &m->sortq, p, len);
		if (!e->p)
			return -1;
	}
	if (sort_decode(m, e))
		return -1;
	m->nsorted++;
	if (m->topn)
		topn_sift_up(m, m->nsorted - 1);
	return 0;
}

static int sort_flush(struct merge *m)
{
	if (m->nsorted > 1)
		qsort_r(m->sorted, m->nsorted, sizeof(m->sorted[0]),
			sort_qsort_cmp, m);
	for (size_t i = 0; i < m->nsorted && !m->done; i++)
		if (to_limit(m, m->sorted[i].p, m->sorted[i].len))
			return -1;
	return 0;
}

static int to_sort_or_limit(struct merge *m, const uint8_t *p, size_t len)
{
	return m->s.nsort ? sort_add(m, p, len) : to_limit(m, p, len);
}

/* ---- stage 3: projection and the final row ------------------------------- */

static int build_out(struct merge *m, const struct rs_cell *cells, unsigned n,
		     const struct rs_coldef *defs)
{
	size_t need = m->s.out_proto == RS_TEXT
			      ? rs_text_row_size(cells, n)
			      : rs_binary_row_size(cells, n, defs);

	if (buf_reserve(m, &m->out, need))
		return -1;
	m->out.len = m->s.out_proto == RS_TEXT
			     ? rs_build_text_row(m->out.p, cells, n)
			     : rs_build_binary_row(m->out.p, cells, n, defs);
	return 0;
}

/* The merged row, as values, becomes a final row. */
static int finish_values(struct merge *m, const struct myv *vals)
{
	const struct myv *fin = vals;

	if (m->s.project) {
		char err[256] = "myring: the query's expressions failed";
		int r = m->s.project(m->s.project_ctx, vals, m->nmid, m->fvals,
				     m->s.nfinal, err, sizeof(err));

		if (r < 0)
			return fail(m, "%s", err);
		if (r == 0)
			return 0;
		fin = m->fvals;
	}
	for (unsigned i = 0; i < m->nfin; i++)
		if (myv_encode(&fin[i], &m->fin_defs[i], m->s.out_proto,
			       m->encbuf + (size_t)i * MYV_ENCODE_MAX,
			       &m->fcells[i]))
			return fail(m, "myring: a merged value does not fit "
				       "column `%.*s` (%s)",
				    (int)m->fin_defs[i].name.len,
				    m->fin_defs[i].name.ptr,
				    rs_type_name(m->fin_defs[i].type));
	if (build_out(m, m->fcells, m->nfin, m->fin_defs))
		return -1;
	return to_sort_or_limit(m, m->out.p, m->out.len);
}

/* ---- stage 2: aggregation ------------------------------------------------- */

static bool is_double_type(uint8_t t)
{
	return t == RS_TYPE_FLOAT || t == RS_TYPE_DOUBLE;
}

static void acc_reset(struct merge *m)
{
	for (unsigned i = 0; i < m->nmid; i++) {
		struct acc *a = &m->accs[i];

		a->count = 0;
		a->has = false;
		a->d = 0;
		mdec_zero(&a->dec, 0);
		a->bestv.kind = MYV_NULL;
	}
}

static int add_count(struct merge *m, struct acc *a, const struct myv *v)
{
	uint64_t n;

	switch (v->kind) {
	case MYV_NULL:
		return 0;
	case MYV_UINT:
		n = v->v.u;
		break;
	case MYV_INT:
		if (v->v.i < 0)
			return fail(m, "myring: a shard sent a negative count");
		n = (uint64_t)v->v.i;
		break;
	default:
		return fail(m, "myring: a shard sent a count that is not an "
			       "integer");
	}
	/* COUNT is a signed BIGINT, in the server as here. */
	if (n > (uint64_t)INT64_MAX - a->count)
		return fail(m, "myring: a merged COUNT overflows BIGINT");
	a->count += n;
	return 0;
}

static int add_sum(struct merge *m, struct acc *a, const struct myv *v,
		   uint8_t in_type)
{
	struct mdec d;

	if (v->kind == MYV_NULL)
		return 0;
	a->has = true;
	if (is_double_type(in_type)) {
		double x;

		if (myv_to_double(v, &x))
			return fail(m, "myring: a shard sent a SUM that is not "
				       "a number");
		a->d += x;
		return 0;
	}
	if (myv_to_dec(v, &d))
		return fail(m, "myring: a shard sent a SUM that is not a "
			       "number");
	if (mdec_add(&a->dec, &d))
		return fail(m, "myring: a merged DECIMAL SUM exceeds %u digits",
			    MDEC_DIGITS);
	return 0;
}

static int add_minmax(struct merge *m, unsigned i, const struct rs_cell *cell)
{
	const struct merge_col *mc = &m->mid[i];
	struct acc *a = &m->accs[i];
	const struct rs_coldef *cd = &m->s.cols[mc->col];
	struct myv v;
	int c;

	if (decode(m, cell, cd, m->s.in_proto, &v))
		return -1;
	if (v.kind == MYV_NULL)
		return 0;
	if (a->has) {
		c = myv_cmp(&v, &a->bestv, m->col_coll[i]);
		if (mc->agg == MERGE_MIN ? c >= 0 : c <= 0)
			return 0;
	}
	if (buf_set(m, &a->best, cell->p, cell->len))
		return -1;
	struct rs_cell copy = {a->best.p, cell->len, false};

	a->has = true;
	return decode(m, &copy, cd, m->s.in_proto, &a->bestv);
}

/* Starts a group with the row in m->cells: a copy of it keeps the
 * group's keys and first values. */
static int group_start(struct merge *m, const uint8_t *p, size_t len)
{
	if (buf_set(m, &m->first, p, len) ||
	    parse_row(m, m->first.p, len, m->s.in_proto, m->s.ncols, m->s.cols,
		      m->fcells_in) ||
	    decode_keys(m, m->fcells_in, 0, m->s.ngroup, m->gkeys))
		return -1;
	m->group_open = true;
	m->have_prev = false;
	acc_reset(m);
	return 0;
}

static int group_finish(struct merge *m)
{
	for (unsigned i = 0; i < m->nmid; i++) {
		const struct merge_col *mc = &m->mid[i];
		const struct acc *a = &m->accs[i];
		struct myv *v = &m->vals[i];

		v->raw = NULL;
		v->type = mc->def.type;
		switch (mc->agg) {
		case MERGE_COL:
			if (!m->group_open) {
				myv_null(v);
				break;
			}
			if (decode(m, &m->fcells_in[mc->col], &m->s.cols[mc->col],
				   m->s.in_proto, v))
				return -1;
			break;
		case MERGE_COUNT:
		case MERGE_COUNT_DISTINCT:
			v->kind = MYV_UINT;
			v->v.u = a->count;
			break;
		case MERGE_SUM:
		case MERGE_SUM_DISTINCT:
			if (!a->has) {
				myv_null(v);
			} else if (is_double_type(m->s.cols[mc->col].type)) {
				v->kind = MYV_DOUBLE;
				v->v.d = a->d;
			} else {
				v->kind = MYV_DEC;
				v->v.dec = a->dec;
			}
			break;
		case MERGE_MIN:
		case MERGE_MAX:
			*v = a->bestv;
			if (!a->has)
				myv_null(v);
			break;
		case MERGE_AVG:
		case MERGE_AVG_DISTINCT:
			if (!a->count) {
				myv_null(v);
			} else if (is_double_type(m->s.cols[mc->col].type)) {
				v->kind = MYV_DOUBLE;
				v->v.d = a->d / (double)a->count;
			} else {
				unsigned scale = mc->def.decimals;

				if (scale > MDEC_MAX_SCALE)
					scale = MDEC_MAX_SCALE;
				v->kind = MYV_DEC;
				if (mdec_div_u64(&a->dec, a->count, scale,
						 &v->v.dec))
					return fail(m, "myring: a merged AVG "
						       "overflows");
			}
			break;
		}
	}
	m->group_open = false;
	return finish_values(m, m->vals);
}

/* Whether the row in m->cells starts a new tuple of DISTINCT arguments in
 * the group; keeps it as the previous one. */
static int distinct_step(struct merge *m, const uint8_t *p, size_t len,
			 bool *is_new, bool *has_null)
{
	unsigned from = m->s.ngroup, to = m->s.nkeys;

	if (decode_keys(m, m->cells, from, to, m->rowkeys))
		return -1;
	*is_new = !m->have_prev ||
		  cmp_keys(m->s.keys, m->key_coll, m->rowkeys, m->pkeys, from,
			   to) != 0;
	*has_null = false;
	for (unsigned k = from; k < to; k++)
		if (m->rowkeys[k].kind == MYV_NULL)
			*has_null = true;
	if (!*is_new)
		return 0;
	if (buf_set(m, &m->prev, p, len) ||
	    parse_row(m, m->prev.p, len, m->s.in_proto, m->s.ncols, m->s.cols,
		      m->pcells) ||
	    decode_keys(m, m->pcells, from, to, m->pkeys))
		return -1;
	m->have_prev = true;
	return 0;
}

static int aggregate_row(struct merge *m, const uint8_t *p, size_t len)
{
	bool is_new = false, has_null = false;

	if (parse_row(m, p, len, m->s.in_proto, m->s.ncols, m->s.cols,
		      m->cells) ||
	    decode_keys(m, m->cells, 0, m->s.ngroup, m->rowkeys))
		return -1;
	if (m->group_open &&
	    cmp_keys(m->s.keys, m->key_coll, m->rowkeys, m->gkeys, 0,
		     m->s.ngroup) != 0) {
		if (group_finish(m))
			return -1;
		if (m->done)
			return 0;
	}
	if (!m->group_open && group_start(m, p, len))
		return -1;
	if (m->has_distinct && distinct_step(m, p, len, &is_new, &has_null))
		return -1;
	for (unsigned i = 0; i < m->nmid; i++) {
		const struct merge_col *mc = &m->mid[i];
		struct acc *a = &m->accs[i];
		const struct rs_coldef *cd = &m->s.cols[mc->col];
		struct myv v;

		switch (mc->agg) {
		case MERGE_COL:
			break;
		case MERGE_MIN:
		case MERGE_MAX:
			if (add_minmax(m, i, &m->cells[mc->col]))
				return -1;
			break;
		case MERGE_COUNT:
			if (decode(m, &m->cells[mc->col], cd, m->s.in_proto, &v) ||
			    add_count(m, a, &v))
				return -1;
			break;
		case MERGE_SUM:
			if (decode(m, &m->cells[mc->col], cd, m->s.in_proto, &v) ||
			    add_sum(m, a, &v, cd->type))
				return -1;
			break;
		case MERGE_AVG:
			if (decode(m, &m->cells[mc->col], cd, m->s.in_proto, &v) ||
			    add_sum(m, a, &v, cd->type) ||
			    decode(m, &m->cells[mc->col2], &m->s.cols[mc->col2],
				   m->s.in_proto, &v) ||
			    add_count(m, a, &v))
				return -1;
			break;
		case MERGE_COUNT_DISTINCT:
			if (is_new && !has_null)
				a->count++;
			break;
		case MERGE_SUM_DISTINCT:
		case MERGE_AVG_DISTINCT:
			if (!is_new)
				break;
			if (decode(m, &m->cells[mc->col], cd, m->s.in_proto, &v) ||
			    add_sum(m, a, &v, cd->type))
				return -1;
			if (v.kind != MYV_NULL)
				a->count++;
			break;
		}
	}
	return 0;
}

/* ---- stage 2 without aggregation: the merged row is a projection -------- */

static int project_row(struct merge *m, const uint8_t *p, size_t len)
{
	if (m->passthrough)
		return to_sort_or_limit(m, p, len);
	if (parse_row(m, p, len, m->s.in_proto, m->s.ncols, m->s.cols,
		      m->cells))
		return -1;
	/* Same protocol, same types, no callback: cells move unchanged. */
	if (m->cells_direct) {
		for (unsigned i = 0; i < m->nmid; i++)
			m->fcells[i] = m->cells[m->mid[i].col];
		if (build_out(m, m->fcells, m->nmid, m->mid_defs))
			return -1;
		return to_sort_or_limit(m, m->out.p, m->out.len);
	}
	for (unsigned i = 0; i < m->nmid; i++) {
		unsigned col = m->mid[i].col;

		if (decode(m, &m->cells[col], &m->s.cols[col], m->s.in_proto,
			   &m->vals[i]))
			return -1;
	}
	return finish_values(m, m->vals);
}

static int consume(struct merge *m, const uint8_t *p, size_t len)
{
	return m->s.aggregate ? aggregate_row(m, p, len)
			      : project_row(m, p, len);
}

/* ---- stage 1: the k-way merge ------------------------------------------- */

static int stream_cmp(const struct merge *m, unsigned a, unsigned b)
{
	int c = cmp_keys(m->s.keys, m->key_coll, m->streams[a].keys,
			 m->streams[b].keys, 0, m->s.nkeys);

	return c ? c : (a > b) - (a < b);
}

static void heap_push(struct merge *m, unsigned s)
{
	unsigned i = m->nheap++;

	m->heap[i] = s;
	while (i) {
		unsigned parent = (i - 1) / 2;

		if (stream_cmp(m, m->heap[i], m->heap[parent]) >= 0)
			break;
		unsigned t = m->heap[i];

		m->heap[i] = m->heap[parent];
		m->heap[parent] = t;
		i = parent;
	}
}

static void heap_fix_root(struct merge *m)
{
	unsigned i = 0;

	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, w = i;

		if (l < m->nheap && stream_cmp(m, m->heap[l], m->heap[w]) < 0)
			w = l;
		if (r < m->nheap && stream_cmp(m, m->heap[r], m->heap[w]) < 0)
			w = r;
		if (w == i)
			return;
		unsigned t = m->heap[i];

		m->heap[i] = m->heap[w];
		m->heap[w] = t;
		i = w;
	}
}

/* Decodes the keys of stream s's front row. */
static int stream_head(struct merge *m, unsigned s)
{
	struct stream *st = &m->streams[s];
	size_t len;
	const uint8_t *p = rowq_front(&st->q, &len);

	if (parse_row(m, p, len, m->s.in_proto, m->s.ncols, m->s.cols,
		      m->cells))
		return -1;
	return decode_keys(m, m->cells, 0, m->s.nkeys, st->keys);
}

/* Emits rows while every live stream has one queued. */
static int drain(struct merge *m)
{
	while (!m->waiting && m->nheap && !m->done) {
		unsigned s = m->heap[0];
		struct stream *st = &m->streams[s];
		size_t len;
		const uint8_t *p = rowq_front(&st->q, &len);

		if (consume(m, p, len))
			return -1;
		rowq_pop(m, &st->q);
		if (st->q.n) {
			if (stream_head(m, s))
				return -1;
			heap_fix_root(m);
			continue;
		}
		/* Out of the heap: the last entry takes the root. */
		st->in_heap = false;
		m->heap[0] = m->heap[--m->nheap];
		if (m->nheap)
			heap_fix_root(m);
		if (!st->ended)
			m->waiting++;
	}
	return 0;
}

/* Every stream ended: what is still buffered comes out. */
static int finish(struct merge *m)
{
	if (m->s.aggregate && !m->done &&
	    (m->group_open || m->s.ngroup == 0) && group_finish(m))
		return -1;
	if (m->s.nsort && !m->done && sort_flush(m))
		return -1;
	m->done = true;
	return 0;
}

static int result(struct merge *m)
{
	if (m->failed)
		return MERGE_ERROR;
	return m->done ? MERGE_DONE : MERGE_OK;
}

int merge_row(struct merge *m, unsigned stream, const uint8_t *payload,
	      size_t len)
{
	struct stream *st;

	if (m->failed || m->done)
		return result(m);
	if (stream >= m->s.nstreams || m->streams[stream].ended)
		return fail(m, "myring: a row for a shard stream that ended");
	st = &m->streams[stream];
	if (!m->s.nkeys) {
		consume(m, payload, len);
		return result(m);
	}
	if (!rowq_push(m, &st->q, payload, len))
		return MERGE_ERROR;
	if (!st->in_heap) {
		if (stream_head(m, stream))
			return MERGE_ERROR;
		st->in_heap = true;
		heap_push(m, stream);
		m->waiting--;
		drain(m);
	}
	return result(m);
}

int merge_end(struct merge *m, unsigned stream)
{
	struct stream *st;

	if (m->failed || m->done)
		return result(m);
	if (stream >= m->s.nstreams || m->streams[stream].ended)
		return fail(m, "myring: a shard stream ended twice");
	st = &m->streams[stream];
	st->ended = true;
	m->live--;
	if (m->s.nkeys) {
		if (!st->in_heap)
			m->waiting--;
		if (drain(m))
			return MERGE_ERROR;
	}
	if (!m->live && !m->failed && !m->done)
		finish(m);
	return result(m);
}

/* ---- set-up --------------------------------------------------------------- */

static bool is_string_value_type(uint8_t t)
{
	switch (t) {
	case RS_TYPE_VARCHAR:
	case RS_TYPE_VAR_STRING:
	case RS_TYPE_STRING:
	case RS_TYPE_ENUM:
	case RS_TYPE_SET:
	case RS_TYPE_TINY_BLOB:
	case RS_TYPE_MEDIUM_BLOB:
	case RS_TYPE_LONG_BLOB:
	case RS_TYPE_BLOB:
	case RS_TYPE_JSON:
		return true;
	default:
		return false;
	}
}

/* How column cd compares for `use`: *out NULL for non-strings and binary
 * strings.  0 on success, -1 with the message in m->err. */
static int resolve_coll(struct merge *m, const struct rs_coldef *cd,
			uint16_t collation, const char *use,
			struct coll *storage, const struct coll **out)
{
	char err[256];
	uint16_t id = collation == MERGE_COLL_FROM_DEF ? cd->charset : collation;

	*out = NULL;
	if (!is_string_value_type(cd->type))
		return 0;
	if (cd->flags & (RS_ENUM_FLAG | RS_SET_FLAG) && strcmp(use, "MIN/MAX"))
		return fail(m, "myring: %s on ENUM/SET column `%.*s` cannot be "
			       "merged across shards (the server orders it by "
			       "member number)",
			    use, (int)cd->name.len, cd->name.ptr);
	if (cd->charset == RS_CHARSET_BINARY && !collation)
		return 0;
	if (!collation)
		return fail(m, "myring: the collation of `%.*s` is needed to "
			       "merge its %s across shards",
			    (int)cd->name.len, cd->name.ptr, use);
	if (coll_resolve(id, cd->charset, use, storage, err, sizeof(err)))
		return fail(m, "%s", err);
	if (storage->kind != COLL_KIND_BINARY)
		*out = storage;
	return 0;
}

static void *zalloc(struct merge *m, size_t n, size_t size)
{
	void *p;

	if (!n)
		n = 1;
	if (charge(m, n * size))
		return NULL;
	p = calloc(n, size);
	if (!p) {
		refund(m, n * size);
		fail(m, "myring: out of memory merging shard results");
	}
	return p;
}

static int check_spec(struct merge *m)
{
	const struct merge_spec *s = &m->s;

	if (!s->nstreams || !s->ncols || !s->cols || !s->emit ||
	    s->ncols > 4096)
		return fail(m, "myring: merge: bad shard or column count");
	if (s->nkeys && !s->keys)
		return fail(m, "myring: merge: keys missing");
	for (unsigned k = 0; k < s->nkeys; k++)
		if (s->keys[k].col >= s->ncols)
			return fail(m, "myring: merge: key column out of range");
	if (s->ngroup > s->nkeys || (!s->aggregate && s->ngroup))
		return fail(m, "myring: merge: GROUP BY needs sorted shards");
	if (s->nout && !s->out)
		return fail(m, "myring: merge: columns missing");
	if (s->aggregate && !s->nout)
		return fail(m, "myring: merge: aggregation without columns");
	for (unsigned i = 0; i < s->nout; i++) {
		const struct merge_col *mc = &s->out[i];

		if (mc->col >= s->ncols ||
		    (mc->agg == MERGE_AVG && mc->col2 >= s->ncols))
			return fail(m, "myring: merge: column out of range");
		if (!s->aggregate && mc->agg != MERGE_COL)
			return fail(m, "myring: merge: aggregate without "
				       "aggregation");
		if (mc->agg == MERGE_COUNT_DISTINCT && s->nkeys == s->ngroup)
			return fail(m, "myring: merge: DISTINCT aggregate "
				       "without DISTINCT keys");
		/* SUM/AVG(DISTINCT x): the shards' rows are distinct in x. */
		if ((mc->agg == MERGE_SUM_DISTINCT ||
		     mc->agg == MERGE_AVG_DISTINCT) &&
		    (s->nkeys != s->ngroup + 1 ||
		     s->keys[s->ngroup].col != mc->col))
			return fail(m, "myring: merge: SUM/AVG(DISTINCT x) "
				       "needs x as the one DISTINCT key");
	}
	if (s->project && (!s->nfinal || !s->final))
		return fail(m, "myring: merge: projection without columns");
	if (s->nsort && !s->sort)
		return fail(m, "myring: merge: sort keys missing");
	return 0;
}

struct merge *merge_new(const struct merge_spec *spec, char *err,
			size_t errlen)
{
	struct merge *m = calloc(1, sizeof(*m));
	const struct merge_spec *s;

	if (!m) {
		snprintf(err, errlen, "myring: out of memory merging shard "
				      "results");
		return NULL;
	}
	m->s = *spec;
	s = &m->s;
	if (!s->budget)
		m->s.budget = MERGE_DEFAULT_BUDGET;
	if (!s->pause_bytes)
		m->s.pause_bytes = MERGE_DEFAULT_PAUSE_BYTES;
	if (check_spec(m))
		goto fail;

	/* The merged columns: given, or every input column as it is. */
	m->nmid = s->nout ? s->nout : s->ncols;
	m->mid = zalloc(m, m->nmid, sizeof(*m->mid));
	m->mid_defs = zalloc(m, m->nmid, sizeof(*m->mid_defs));
	if (!m->mid || !m->mid_defs)
		goto fail;
	for (unsigned i = 0; i < m->nmid; i++) {
		if (s->nout) {
			m->mid[i] = s->out[i];
		} else {
			m->mid[i].agg = MERGE_COL;
			m->mid[i].col = i;
			m->mid[i].def = s->cols[i];
		}
		m->mid_defs[i] = m->mid[i].def;
	}
	m->nfin = s->project ? s->nfinal : m->nmid;
	m->fin_defs = s->project ? s->final : m->mid_defs;
	m->passthrough = !s->aggregate && !s->project &&
			 s->in_proto == s->out_proto && m->nmid == s->ncols;
	m->cells_direct = !s->aggregate && !s->project &&
			  s->in_proto == s->out_proto;
	for (unsigned i = 0; i < m->nmid; i++) {
		if (m->mid[i].col != i)
			m->passthrough = false;
		if (m->mid[i].def.type != s->cols[m->mid[i].col].type) {
			m->passthrough = false;
			m->cells_direct = false;
		}
	}

	/* Collations, checked now: a query that cannot be merged fails
	 * before any shard is read. */
	m->key_coll = zalloc(m, s->nkeys, sizeof(*m->key_coll));
	m->key_colls = zalloc(m, s->nkeys, sizeof(*m->key_colls));
	m->col_coll = zalloc(m, m->nmid, sizeof(*m->col_coll));
	m->col_colls = zalloc(m, m->nmid, sizeof(*m->col_colls));
	m->sort_coll = zalloc(m, s->nsort, sizeof(*m->sort_coll));
	m->sort_colls = zalloc(m, s->nsort, sizeof(*m->sort_colls));
	if (!m->key_coll || !m->key_colls || !m->col_coll || !m->col_colls ||
	    !m->sort_coll || !m->sort_colls)
		goto fail;
	for (unsigned k = 0; k < s->nkeys; k++) {
		const char *use = !s->aggregate ? "ORDER BY"
				  : k < s->ngroup ? "GROUP BY"
						  : "DISTINCT";

		if (resolve_coll(m, &s->cols[s->keys[k].col],
				 s->keys[k].collation, use, &m->key_colls[k],
				 &m->key_coll[k]))
			goto fail;
	}
	for (unsigned i = 0; i < m->nmid; i++)
		if ((m->mid[i].agg == MERGE_MIN || m->mid[i].agg == MERGE_MAX) &&
		    resolve_coll(m, &s->cols[m->mid[i].col], m->mid[i].collation,
				 "MIN/MAX", &m->col_colls[i], &m->col_coll[i]))
			goto fail;
	for (unsigned k = 0; k < s->nsort; k++) {
		if (s->sort[k].col >= m->nfin) {
			fail(m, "myring: merge: sort column out of range");
			goto fail;
		}
		if (resolve_coll(m, &m->fin_defs[s->sort[k].col],
				 s->sort[k].collation, "ORDER BY",
				 &m->sort_colls[k], &m->sort_coll[k]))
			goto fail;
	}

	/* Streams and scratch space. */
	m->streams = zalloc(m, s->nstreams, sizeof(*m->streams));
	m->heap = zalloc(m, s->nstreams, sizeof(*m->heap));
	m->cells = zalloc(m, s->ncols, sizeof(*m->cells));
	m->rowkeys = zalloc(m, s->nkeys, sizeof(*m->rowkeys));
	m->vals = zalloc(m, m->nmid, sizeof(*m->vals));
	m->fvals = zalloc(m, s->nfinal, sizeof(*m->fvals));
	m->fcells = zalloc(m, m->nfin > m->nmid ? m->nfin : m->nmid,
			   sizeof(*m->fcells));
	m->sortcells = zalloc(m, m->nfin, sizeof(*m->sortcells));
	m->encbuf = zalloc(m, m->nfin, MYV_ENCODE_MAX);
	m->fcells_in = zalloc(m, s->ncols, sizeof(*m->fcells_in));
	m->pcells = zalloc(m, s->ncols, sizeof(*m->pcells));
	m->gkeys = zalloc(m, s->nkeys, sizeof(*m->gkeys));
	m->pkeys = zalloc(m, s->nkeys, sizeof(*m->pkeys));
	m->accs = zalloc(m, m->nmid, sizeof(*m->accs));
	if (!m->streams || !m->heap || !m->cells || !m->rowkeys || !m->vals ||
	    !m->fvals || !m->fcells || !m->sortcells || !m->encbuf ||
	    !m->fcells_in || !m->pcells || !m->gkeys || !m->pkeys || !m->accs)
		goto fail;
	for (unsigned i = 0; i < s->nstreams; i++) {
		m->streams[i].keys = zalloc(m, s->nkeys, sizeof(struct myv));
		if (!m->streams[i].keys)
			goto fail;
	}
	m->has_distinct = s->aggregate && s->nkeys > s->ngroup;
	m->waiting = s->nkeys ? s->nstreams : 0;
	m->live = s->nstreams;
	m->topn = s->nsort && s->limit != MERGE_NO_LIMIT &&
		  s->offset <= MAX_TOPN && s->limit <= MAX_TOPN - s->offset;
	m->topn_k = m->topn ? (size_t)(s->offset + s->limit) : 0;
	if (!s->limit)
		m->done = true;
	return m;
fail:
	snprintf(err, errlen, "%s", m->err);
	merge_free(m);
	return NULL;
}

void merge_free(struct merge *m)
{
	if (!m)
		return;
	for (unsigned i = 0; m->streams && i < m->s.nstreams; i++) {
		rowq_free(m, &m->streams[i].q);
		free(m->streams[i].keys);
	}
	while (m->spare) {
		struct chunk *c = m->spare;

		m->spare = c->next;
		free(c);
	}
	rowq_free(m, &m->sortq);
	for (size_t i = 0; m->sorted && i < m->capsorted; i++)
		free(m->sorted[i].own.p);
	for (unsigned i = 0; m->accs && i < m->nmid; i++)
		free(m->accs[i].best.p);
	free(m->sorted);
	free(m->sortkeys);
	free(m->first.p);
	free(m->prev.p);
	free(m->out.p);
	free(m->mid);
	free(m->mid_defs);
	free(m->key_coll);
	free(m->key_colls);
	free(m->col_coll);
	free(m->col_colls);
	free(m->sort_coll);
	free(m->sort_colls);
	free(m->streams);
	free(m->heap);
	free(m->cells);
	free(m->rowkeys);
	free(m->vals);
	free(m->fvals);
	free(m->fcells);
	free(m->sortcells);
	free(m->encbuf);
	free(m->fcells_in);
	free(m->pcells);
	free(m->gkeys);
	free(m->pkeys);
	free(m->accs);
	free(m);
}

/* ---- queries ------------------------------------------------------------ */

size_t merge_backlog(const struct merge *m, unsigned stream)
{
	return stream < m->s.nstreams ? m->streams[stream].q.bytes : 0;
}

bool merge_should_pause(const struct merge *m, unsigned stream)
{
	return merge_backlog(m, stream) > m->s.pause_bytes;
}

size_t merge_memory(const struct merge *m)
{
	return m->mem;
}

const char *merge_error(const struct merge *m)
{
	return m->err;
}

const struct rs_coldef *merge_columns(const struct merge *m, unsigned *n)
{
	*n = m->nfin;
	return m->fin_defs;
}

void merge_write_header(const struct merge *m, struct pkt_buf *pb,
			uint64_t caps)
{
	uint8_t cnt[9];
	uint8_t *tmp;

	pkt_buf_packet(pb, cnt, (size_t)(mysql_put_lenenc(cnt, m->nfin) - cnt));
	for (unsigned i = 0; i < m->nfin; i++) {
		size_t n = rs_coldef_size(&m->fin_defs[i], caps);

		tmp = malloc(n);
		if (!tmp) {
			pb->oom = true;
			return;
		}
		rs_build_coldef(tmp, &m->fin_defs[i], caps);
		pkt_buf_packet(pb, tmp, n);
		free(tmp);
	}
	if (!(caps & CLIENT_DEPRECATE_EOF)) {
		uint8_t eof[5];

		pkt_buf_packet(pb, eof, rs_build_eof(eof, SERVER_STATUS_AUTOCOMMIT,
						     0));
	}
}

void merge_write_end(struct pkt_buf *pb, uint64_t caps, uint16_t status,
		     uint16_t warnings)
{
	uint8_t end[RS_END_MAX];

	pkt_buf_packet(pb, end, rs_build_end(end, caps, status, warnings));
}
