/*
 * The merge operators.  First against the server: partial results of
 * three "shards" of a table (id % 3), captured from MariaDB 10.11 with
 * the answer the server gives over all rows (merge_fixtures.h), merged in
 * every feeding order, text and binary, must be that answer byte for byte.
 * Then each operator by hand: streaming, NULL order, limits, budgets,
 * huge counts, exact decimals, projection, sorting, errors.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "merge_fixtures.h"
#include "merge_types.h"

#define CAPS (CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF)

/* ---- helpers -------------------------------------------------------------- */

struct pkt {
	uint8_t *p;
	size_t len;
};

struct sink {
	struct pkt rows[4096];
	size_t n;
	bool refuse;
};

static int collect(void *ctx, const uint8_t *p, size_t len)
{
	struct sink *s = ctx;

	if (s->refuse)
		return -1;
	cr_assert_lt(s->n, 4096);
	s->rows[s->n].p = malloc(len ? len : 1);
	memcpy(s->rows[s->n].p, p, len);
	s->rows[s->n].len = len;
	s->n++;
	return 0;
}

static void sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rows[i].p);
	s->n = 0;
}

static size_t load(const char *const *hex, struct pkt *out)
{
	size_t n = 0;

	for (; hex[n]; n++) {
		size_t len = strlen(hex[n]) / 2;

		out[n].p = malloc(len + 1);
		out[n].len = len;
		for (size_t i = 0; i < len; i++) {
			unsigned v;

			sscanf(hex[n] + 2 * i, "%2x", &v);
			out[n].p[i] = (uint8_t)v;
		}
	}
	return n;
}

/* A captured result: its columns and rows. */
struct result {
	struct pkt pk[128];
	size_t npk;
	struct rs_coldef cols[32];
	unsigned ncols;
	struct pkt *rows;
	size_t nrows;
};

static void result_load(const char *const *hex, struct result *r)
{
	uint64_t n;

	r->npk = load(hex, r->pk);
	cr_assert_eq(rs_parse_column_count(r->pk[0].p, r->pk[0].len, &n), 0);
	r->ncols = (unsigned)n;
	for (unsigned i = 0; i < r->ncols; i++)
		cr_assert_eq(rs_parse_coldef(r->pk[1 + i].p, r->pk[1 + i].len,
					     CAPS, &r->cols[i]), 0);
	r->rows = &r->pk[1 + r->ncols];
	r->nrows = r->npk - 2 - r->ncols;
}

static void result_free(struct result *r)
{
	for (size_t i = 0; i < r->npk; i++)
		free(r->pk[i].p);
}

/* A text row from strings (NULL = SQL NULL). */
static struct pkt text_row(unsigned n, const char *const *vals)
{
	struct rs_cell cells[16];
	struct pkt p;

	for (unsigned i = 0; i < n; i++)
		cells[i] = (struct rs_cell){(const uint8_t *)vals[i],
					    vals[i] ? (uint32_t)strlen(vals[i]) : 0,
					    vals[i] == NULL};
	p.len = rs_text_row_size(cells, n);
	p.p = malloc(p.len);
	rs_build_text_row(p.p, cells, n);
	return p;
}

static int feed(struct merge *m, unsigned s, unsigned n, ...)
{
	const char *vals[16];
	va_list ap;
	struct pkt p;
	int r;

	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		vals[i] = va_arg(ap, const char *);
	va_end(ap);
	p = text_row(n, vals);
	r = merge_row(m, s, p.p, p.len);
	free(p.p);
	return r;
}

/* Cell i of an emitted text row, as a string ("NULL" for NULL). */
static const char *cell(const struct sink *s, size_t row, unsigned ncols,
			unsigned i)
{
	static char buf[8][256];
	static int k;
	struct rs_cell cells[16];
	char *b = buf[k++ % 8];

	cr_assert_lt(row, s->n, "row %zu of %zu", row, s->n);
	cr_assert_eq(rs_parse_text_row(s->rows[row].p, s->rows[row].len, ncols,
				       cells), 0);
	if (cells[i].null)
		return "NULL";
	snprintf(b, 256, "%.*s", (int)cells[i].len, cells[i].p);
	return b;
}

static struct rs_coldef col(const char *name, uint8_t type, uint16_t charset,
			    uint8_t decimals)
{
	return (struct rs_coldef){
		.catalog = {"def", 3}, .name = {name, strlen(name)},
		.charset = charset, .type = type, .decimals = decimals,
		.length = 20,
	};
}

#define INTCOL(n)  col(n, RS_TYPE_LONGLONG, 63, 0)
#define STRCOL(n)  col(n, RS_TYPE_VAR_STRING, COLL_UTF8MB4_GENERAL_CI, 0)
#define DECCOL(n, d) col(n, RS_TYPE_NEWDECIMAL, 63, d)

/* ---- against the server ------------------------------------------------- */

enum order { BY_SHARD, REVERSE, ROUND_ROBIN, RANDOM, ORDERS };

/* Feeds three captured shard results in the given order; returns the
 * last merge result. */
static int feed_shards(struct merge *m, struct result *sh, enum order order,
		       unsigned seed)
{
	size_t next[3] = {0, 0, 0};
	bool ended[3] = {false, false, false};
	int r = MERGE_OK;
	unsigned left = 3, turn = 0;

	while (left) {
		unsigned s;

		switch (order) {
		case BY_SHARD:
			s = 3 - left;
			break;
		case REVERSE:
			s = left - 1;
			break;
		case ROUND_ROBIN:
			do
				s = turn++ % 3;
			while (ended[s]);
			break;
		default:
			seed = seed * 1103515245 + 12345;
			s = (seed >> 16) % 3;
			while (ended[s])
				s = (s + 1) % 3;
			break;
		}
		if (next[s] < sh[s].nrows) {
			r = merge_row(m, s, sh[s].rows[next[s]].p,
				      sh[s].rows[next[s]].len);
			next[s]++;
		} else {
			r = merge_end(m, s);
			ended[s] = true;
			left--;
		}
		cr_assert_neq(r, MERGE_ERROR, "%s", merge_error(m));
	}
	return r;
}

typedef void (*spec_fn)(struct merge_spec *s, struct merge_col *out,
			struct merge_key *keys, const struct result *whole,
			const struct result *shard);

static void differential(const char *const *whole_hex,
			 const char *const *const *shard_hex, bool binary,
			 spec_fn build)
{
	for (int order = 0; order < ORDERS; order++) {
		struct result whole, sh[3];
		struct merge_spec spec = {0};
		struct merge_col out[16];
		struct merge_key keys[8];
		struct sink sink = {0};
		char err[256];
		struct merge *m;

		result_load(whole_hex, &whole);
		for (int k = 0; k < 3; k++)
			result_load(shard_hex[k], &sh[k]);
		spec.nstreams = 3;
		spec.in_proto = spec.out_proto = binary ? RS_BINARY : RS_TEXT;
		spec.ncols = sh[0].ncols;
		spec.cols = sh[0].cols;
		spec.limit = MERGE_NO_LIMIT;
		spec.emit = collect;
		spec.emit_ctx = &sink;
		build(&spec, out, keys, &whole, &sh[0]);
		m = merge_new(&spec, err, sizeof(err));
		cr_assert_not_null(m, "%s", err);
		cr_assert_eq(feed_shards(m, sh, (enum order)order, 7u + order),
			     MERGE_DONE);
		cr_assert_eq(sink.n, whole.nrows, "order %d: %zu rows, server %zu",
			     order, sink.n, whole.nrows);
		for (size_t i = 0; i < whole.nrows; i++) {
			cr_assert_eq(sink.rows[i].len, whole.rows[i].len,
				     "order %d row %zu", order, i);
			cr_assert_eq(memcmp(sink.rows[i].p, whole.rows[i].p,
					    whole.rows[i].len), 0,
				     "order %d row %zu differs from the server's",
				     order, i);
		}
		/* The header says what the server said. */
		unsigned n;
		const struct rs_coldef *defs = merge_columns(m, &n);

		cr_assert_eq(n, whole.ncols);
		for (unsigned i = 0; i < n; i++) {
			uint8_t a[512], b[512];
			size_t la = rs_build_coldef(a, &defs[i], CAPS);
			size_t lb = rs_build_coldef(b, &whole.cols[i], CAPS);

			cr_assert(la == lb && !memcmp(a, b, la), "column %u", i);
		}
		merge_free(m);
		sink_free(&sink);
		result_free(&whole);
		for (int k = 0; k < 3; k++)
			result_free(&sh[k]);
	}
}

static struct merge_col agg(enum merge_agg a, unsigned c, unsigned c2,
			    const struct rs_coldef *def)
{
	return (struct merge_col){.agg = a, .col = c, .col2 = c2, .def = *def,
				  .collation = COLL_UTF8MB4_UNICODE_CI};
}

/* SELECT COUNT(*), COUNT(i), SUM(i), SUM(d), AVG(i), AVG(d), MIN(s),
 * MAX(s), MIN(d), MAX(i): shards send SUM and COUNT for each AVG. */
static void scalar_spec(struct merge_spec *s, struct merge_col *out,
			struct merge_key *keys, const struct result *w,
			const struct result *sh)
{
	out[0] = agg(MERGE_COUNT, 0, 0, &w->cols[0]);
	out[1] = agg(MERGE_COUNT, 1, 0, &w->cols[1]);
	out[2] = agg(MERGE_SUM, 2, 0, &w->cols[2]);
	out[3] = agg(MERGE_SUM, 3, 0, &w->cols[3]);
	out[4] = agg(MERGE_AVG, 4, 5, &w->cols[4]);
	out[5] = agg(MERGE_AVG, 6, 7, &w->cols[5]);
	out[6] = agg(MERGE_MIN, 8, 0, &w->cols[6]);
	out[7] = agg(MERGE_MAX, 9, 0, &w->cols[7]);
	out[8] = agg(MERGE_MIN, 10, 0, &w->cols[8]);
	out[9] = agg(MERGE_MAX, 11, 0, &w->cols[9]);
	s->aggregate = true;
	s->nout = 10;
	s->out = out;
	/* The merged columns are the shards' own where they computed the
	 * same aggregate. */
	for (int i = 0; i < 4; i++)
		cr_assert_eq(sh->cols[i].length, w->cols[i].length);
}

/* SELECT g, COUNT(*), SUM(d), AVG(d), MAX(s) ... GROUP BY g */
static void group_spec(struct merge_spec *s, struct merge_col *out,
		       struct merge_key *keys, const struct result *w,
		       const struct result *sh)
{
	keys[0] = (struct merge_key){.col = 0};
	out[0] = agg(MERGE_COL, 0, 0, &w->cols[0]);
	out[1] = agg(MERGE_COUNT, 1, 0, &w->cols[1]);
	out[2] = agg(MERGE_SUM, 2, 0, &w->cols[2]);
	out[3] = agg(MERGE_AVG, 3, 4, &w->cols[3]);
	out[4] = agg(MERGE_MAX, 5, 0, &w->cols[4]);
	s->nkeys = 1;
	s->keys = keys;
	s->aggregate = true;
	s->ngroup = 1;
	s->nout = 5;
	s->out = out;
}

/* SELECT id, s ... ORDER BY s, id LIMIT 25 OFFSET 3 (shards: LIMIT 28) */
static void order_spec(struct merge_spec *s, struct merge_col *out,
		       struct merge_key *keys, const struct result *w,
		       const struct result *sh)
{
	keys[0] = (struct merge_key){.col = 1,
				     .collation = COLL_UTF8MB4_UNICODE_CI};
	keys[1] = (struct merge_key){.col = 0};
	s->nkeys = 2;
	s->keys = keys;
	s->offset = 3;
	s->limit = 25;
}

/* SELECT id, s, d ... ORDER BY s DESC, d, id */
static void order_all_spec(struct merge_spec *s, struct merge_col *out,
			   struct merge_key *keys, const struct result *w,
			   const struct result *sh)
{
	keys[0] = (struct merge_key){.col = 1, .desc = true,
				     .collation = COLL_UTF8MB4_UNICODE_CI};
	keys[1] = (struct merge_key){.col = 2};
	keys[2] = (struct merge_key){.col = 0};
	s->nkeys = 3;
	s->keys = keys;
}

/* SELECT g, COUNT(DISTINCT s), COUNT(*) ... GROUP BY g: shards send
 * GROUP BY g, s. */
static void distinct_spec(struct merge_spec *s, struct merge_col *out,
			  struct merge_key *keys, const struct result *w,
			  const struct result *sh)
{
	keys[0] = (struct merge_key){.col = 0};
	keys[1] = (struct merge_key){.col = 1,
				     .collation = COLL_UTF8MB4_UNICODE_CI};
	out[0] = agg(MERGE_COL, 0, 0, &w->cols[0]);
	out[1] = agg(MERGE_COUNT_DISTINCT, 1, 0, &w->cols[1]);
	out[2] = agg(MERGE_COUNT, 2, 0, &w->cols[2]);
	s->nkeys = 2;
	s->keys = keys;
	s->aggregate = true;
	s->ngroup = 1;
	s->nout = 3;
	s->out = out;
}

/* No rows anywhere: COUNT 0, NULLs. */
static void empty_spec(struct merge_spec *s, struct merge_col *out,
		       struct merge_key *keys, const struct result *w,
		       const struct result *sh)
{
	out[0] = agg(MERGE_COUNT, 0, 0, &w->cols[0]);
	out[1] = agg(MERGE_SUM, 1, 0, &w->cols[1]);
	out[2] = agg(MERGE_AVG, 2, 3, &w->cols[2]);
	out[3] = agg(MERGE_MIN, 4, 0, &w->cols[3]);
	s->aggregate = true;
	s->nout = 4;
	s->out = out;
}

/* SELECT COUNT(*), MIN(id), MAX(id), SUM(b) ... GROUP BY s ORDER BY s
 * over utf8mb4_general_ci: shards send s too, a grouping key that is not
 * a result column; 'Apple' on one shard and 'APPLE' on another, '' and
 * ' ', and all emoji are one group each. */
static void ci_group_spec(struct merge_spec *s, struct merge_col *out,
			  struct merge_key *keys, const struct result *w,
			  const struct result *sh)
{
	keys[0] = (struct merge_key){.col = 0,
				     .collation = COLL_UTF8MB4_GENERAL_CI};
	out[0] = agg(MERGE_COUNT, 1, 0, &w->cols[0]);
	out[1] = agg(MERGE_MIN, 2, 0, &w->cols[1]);
	out[2] = agg(MERGE_MAX, 3, 0, &w->cols[2]);
	out[3] = agg(MERGE_SUM, 4, 0, &w->cols[3]);
	s->nkeys = 1;
	s->keys = keys;
	s->aggregate = true;
	s->ngroup = 1;
	s->nout = 4;
	s->out = out;
}

/* SELECT id, s ... ORDER BY s, id LIMIT 20 OFFSET 47 (shards: LIMIT 67):
 * the rows where utf8mb4_general_ci and utf8mb4_unicode_ci order apart
 * (ß, ﬁ). */
static void ci_order_spec(struct merge_spec *s, struct merge_col *out,
			  struct merge_key *keys, const struct result *w,
			  const struct result *sh)
{
	keys[0] = (struct merge_key){.col = 1,
				     .collation = COLL_UTF8MB4_GENERAL_CI};
	keys[1] = (struct merge_key){.col = 0};
	s->nkeys = 2;
	s->keys = keys;
	s->offset = 47;
	s->limit = 20;
}

/* SELECT s, id ... ORDER BY s DESC, id DESC LIMIT 40 OFFSET 55 (shards:
 * LIMIT 95, more than any shard has): NULLs last, a short last page. */
static void ci_order_desc_spec(struct merge_spec *s, struct merge_col *out,
			       struct merge_key *keys, const struct result *w,
			       const struct result *sh)
{
	keys[0] = (struct merge_key){.col = 0, .desc = true,
				     .collation = COLL_UTF8MB4_GENERAL_CI};
	keys[1] = (struct merge_key){.col = 1, .desc = true};
	s->nkeys = 2;
	s->keys = keys;
	s->offset = 55;
	s->limit = 40;
}

/* SELECT COUNT(DISTINCT s), COUNT(*): shards send GROUP BY s; a value
 * spelled differently on two shards counts once, NULL not at all. */
static void ci_distinct_spec(struct merge_spec *s, struct merge_col *out,
			     struct merge_key *keys, const struct result *w,
			     const struct result *sh)
{
	keys[0] = (struct merge_key){.col = 0,
				     .collation = COLL_UTF8MB4_GENERAL_CI};
	out[0] = agg(MERGE_COUNT_DISTINCT, 0, 0, &w->cols[0]);
	out[1] = agg(MERGE_COUNT, 1, 0, &w->cols[1]);
	s->nkeys = 1;
	s->keys = keys;
	s->aggregate = true;
	s->nout = 2;
	s->out = out;
}

/* SELECT COUNT(*), SUM(b), SUM(u), AVG(b), AVG(u), MIN(b), MAX(u) over
 * BIGINTs near their limits: partial sums beyond BIGINT, an unsigned
 * total beyond BIGINT UNSIGNED, AVG's 4 extra decimals. */
static void big_spec(struct merge_spec *s, struct merge_col *out,
		     struct merge_key *keys, const struct result *w,
		     const struct result *sh)
{
	out[0] = agg(MERGE_COUNT, 0, 0, &w->cols[0]);
	out[1] = agg(MERGE_SUM, 1, 0, &w->cols[1]);
	out[2] = agg(MERGE_SUM, 2, 0, &w->cols[2]);
	out[3] = agg(MERGE_AVG, 3, 4, &w->cols[3]);
	out[4] = agg(MERGE_AVG, 5, 6, &w->cols[4]);
	out[5] = agg(MERGE_MIN, 7, 0, &w->cols[5]);
	out[6] = agg(MERGE_MAX, 8, 0, &w->cols[6]);
	s->aggregate = true;
	s->nout = 7;
	s->out = out;
}

#define SHARDS(name) ((const char *const *const[]){name##_SHARD0, name##_SHARD1, name##_SHARD2})

Test(merge, scalar_aggregates_match_the_server)
{
	differential(FIX_SCALAR_WHOLE, SHARDS(FIX_SCALAR), false, scalar_spec);
	differential(FIX_SCALAR_BIN_WHOLE, SHARDS(FIX_SCALAR_BIN), true,
		     scalar_spec);
}

Test(merge, group_by_matches_the_server)
{
	differential(FIX_GROUP_WHOLE, SHARDS(FIX_GROUP), false, group_spec);
	differential(FIX_GROUP_BIN_WHOLE, SHARDS(FIX_GROUP_BIN), true,
		     group_spec);
}

Test(merge, order_by_limit_offset_matches_the_server)
{
	differential(FIX_ORDER_WHOLE, SHARDS(FIX_ORDER), false, order_spec);
	differential(FIX_ORDER_BIN_WHOLE, SHARDS(FIX_ORDER_BIN), true,
		     order_spec);
	differential(FIX_ORDER_ALL_WHOLE, SHARDS(FIX_ORDER_ALL), false,
		     order_all_spec);
	differential(FIX_ORDER_ALL_BIN_WHOLE, SHARDS(FIX_ORDER_ALL_BIN), true,
		     order_all_spec);
}

Test(merge, count_distinct_matches_the_server)
{
	differential(FIX_DISTINCT_WHOLE, SHARDS(FIX_DISTINCT), false,
		     distinct_spec);
	differential(FIX_DISTINCT_BIN_WHOLE, SHARDS(FIX_DISTINCT_BIN), true,
		     distinct_spec);
}

Test(merge, empty_input_matches_the_server)
{
	differential(FIX_EMPTY_WHOLE, SHARDS(FIX_EMPTY), false, empty_spec);
	differential(FIX_EMPTY_BIN_WHOLE, SHARDS(FIX_EMPTY_BIN), true,
		     empty_spec);
}

Test(merge, general_ci_group_by_matches_the_server)
{
	differential(FIX_CI_GROUP_WHOLE, SHARDS(FIX_CI_GROUP), false,
		     ci_group_spec);
	differential(FIX_CI_GROUP_BIN_WHOLE, SHARDS(FIX_CI_GROUP_BIN), true,
		     ci_group_spec);
}

Test(merge, general_ci_order_by_limit_offset_matches_the_server)
{
	differential(FIX_CI_ORDER_WHOLE, SHARDS(FIX_CI_ORDER), false,
		     ci_order_spec);
	differential(FIX_CI_ORDER_BIN_WHOLE, SHARDS(FIX_CI_ORDER_BIN), true,
		     ci_order_spec);
	differential(FIX_CI_ORDER_DESC_WHOLE, SHARDS(FIX_CI_ORDER_DESC), false,
		     ci_order_desc_spec);
	differential(FIX_CI_ORDER_DESC_BIN_WHOLE,
		     SHARDS(FIX_CI_ORDER_DESC_BIN), true, ci_order_desc_spec);
}

Test(merge, general_ci_count_distinct_matches_the_server)
{
	differential(FIX_CI_DISTINCT_WHOLE, SHARDS(FIX_CI_DISTINCT), false,
		     ci_distinct_spec);
	differential(FIX_CI_DISTINCT_BIN_WHOLE, SHARDS(FIX_CI_DISTINCT_BIN),
		     true, ci_distinct_spec);
}

Test(merge, bigint_sums_beyond_bigint_match_the_server)
{
	differential(FIX_BIG_WHOLE, SHARDS(FIX_BIG), false, big_spec);
	differential(FIX_BIG_BIN_WHOLE, SHARDS(FIX_BIG_BIN), true, big_spec);
}

/* ---- by hand ------------------------------------------------------------- */

struct fixture {
	struct merge_spec spec;
	struct rs_coldef cols[8];
	struct merge_key keys[4];
	struct merge_col out[8];
	struct sink sink;
	struct merge *m;
	char err[512];
};

static void setup(struct fixture *f, unsigned nstreams, unsigned ncols)
{
	memset(&f->spec, 0, sizeof(f->spec));
	f->spec.nstreams = nstreams;
	f->spec.ncols = ncols;
	f->spec.cols = f->cols;
	f->spec.limit = MERGE_NO_LIMIT;
	f->spec.emit = collect;
	f->spec.emit_ctx = &f->sink;
	f->sink.n = 0;
	f->sink.refuse = false;
}

static void start(struct fixture *f)
{
	f->m = merge_new(&f->spec, f->err, sizeof(f->err));
	cr_assert_not_null(f->m, "%s", f->err);
}

static void stop(struct fixture *f)
{
	merge_free(f->m);
	sink_free(&f->sink);
}

Test(merge, concatenation_streams_rows_unchanged)
{
	static struct fixture f;

	setup(&f, 3, 2);
	f.cols[0] = INTCOL("a");
	f.cols[1] = STRCOL("b");
	start(&f);
	cr_assert_eq(feed(f.m, 2, 2, "1", "x"), MERGE_OK);
	cr_assert_eq(f.sink.n, 1, "out at once");
	cr_assert_eq(feed(f.m, 0, 2, "2", NULL), MERGE_OK);
	cr_assert_eq(merge_end(f.m, 0), MERGE_OK);
	cr_assert_eq(merge_end(f.m, 2), MERGE_OK);
	cr_assert_eq(feed(f.m, 1, 2, "3", ""), MERGE_OK);
	cr_assert_eq(merge_end(f.m, 1), MERGE_DONE);
	cr_assert_eq(f.sink.n, 3);
	cr_assert_str_eq(cell(&f.sink, 0, 2, 1), "x");
	cr_assert_str_eq(cell(&f.sink, 1, 2, 1), "NULL");
	cr_assert_str_eq(cell(&f.sink, 2, 2, 0), "3");
	cr_assert_eq(merge_backlog(f.m, 1), 0, "nothing is queued");
	stop(&f);
}

/* A row comes out only when every shard still running has one queued. */
Test(merge, k_way_merge_waits_only_for_empty_shards)
{
	static struct fixture f;

	setup(&f, 3, 1);
	f.cols[0] = INTCOL("a");
	f.keys[0] = (struct merge_key){.col = 0};
	f.spec.nkeys = 1;
	f.spec.keys = f.keys;
	start(&f);
	feed(f.m, 0, 1, "1");
	feed(f.m, 0, 1, "4");
	feed(f.m, 0, 1, "7");
	feed(f.m, 1, 1, "2");
	feed(f.m, 1, 1, "5");
	cr_assert_eq(f.sink.n, 0, "shard 2 may still send 0");
	cr_assert_gt(merge_backlog(f.m, 0), 0);
	cr_assert_eq(merge_end(f.m, 2), MERGE_OK);
	/* 1 2 4 5 are certain; 7 waits for shard 1's next row. */
	cr_assert_eq(f.sink.n, 4);
	cr_assert_str_eq(cell(&f.sink, 3, 1, 0), "5");
	feed(f.m, 1, 1, "6");
	cr_assert_eq(f.sink.n, 5);
	cr_assert_eq(merge_end(f.m, 1), MERGE_OK);
	cr_assert_eq(merge_end(f.m, 0), MERGE_DONE);
	cr_assert_eq(f.sink.n, 6);
	const char *want[] = {"1", "2", "4", "5", "6", "7"};

	for (int i = 0; i < 6; i++)
		cr_assert_str_eq(cell(&f.sink, (size_t)i, 1, 0), want[i]);
	cr_assert_eq(merge_backlog(f.m, 0), 0);
	stop(&f);
}

Test(merge, nulls_first_ascending_last_descending_and_mixed_keys)
{
	static struct fixture f;

	for (int desc = 0; desc < 2; desc++) {
		setup(&f, 2, 2);
		f.cols[0] = INTCOL("a");
		f.cols[1] = STRCOL("b");
		f.keys[0] = (struct merge_key){.col = 0, .desc = desc};
		f.keys[1] = (struct merge_key){.col = 1, .desc = !desc,
					       .collation = COLL_UTF8MB4_GENERAL_CI};
		f.spec.nkeys = 2;
		f.spec.keys = f.keys;
		start(&f);
		if (!desc) {
			feed(f.m, 0, 2, NULL, "b");
			feed(f.m, 0, 2, "1", "B");
			feed(f.m, 0, 2, "1", "a");
			feed(f.m, 1, 2, NULL, "A");
			feed(f.m, 1, 2, "1", "b");
			feed(f.m, 1, 2, "2", NULL);
		} else {
			feed(f.m, 0, 2, "2", NULL);
			feed(f.m, 0, 2, "1", "a");
			feed(f.m, 0, 2, "1", "B");
			feed(f.m, 1, 2, "1", "A");
			feed(f.m, 1, 2, "1", "b");
			feed(f.m, 1, 2, NULL, "c");
		}
		merge_end(f.m, 0);
		cr_assert_eq(merge_end(f.m, 1), MERGE_DONE);
		cr_assert_eq(f.sink.n, 6);
		if (!desc) {
			/* NULL first; 'B' = 'b' under general_ci, DESC: equal
			 * keys keep shard order. */
			cr_assert_str_eq(cell(&f.sink, 0, 2, 0), "NULL");
			cr_assert_str_eq(cell(&f.sink, 0, 2, 1), "b");
			cr_assert_str_eq(cell(&f.sink, 1, 2, 1), "A");
			cr_assert_str_eq(cell(&f.sink, 2, 2, 1), "B");
			cr_assert_str_eq(cell(&f.sink, 3, 2, 1), "b");
			cr_assert_str_eq(cell(&f.sink, 4, 2, 1), "a");
			cr_assert_str_eq(cell(&f.sink, 5, 2, 0), "2");
		} else {
			cr_assert_str_eq(cell(&f.sink, 0, 2, 0), "2");
			cr_assert_str_eq(cell(&f.sink, 1, 2, 1), "a");
			cr_assert_str_eq(cell(&f.sink, 2, 2, 1), "A");
			cr_assert_str_eq(cell(&f.sink, 5, 2, 0), "NULL");
		}
		stop(&f);
	}
}

Test(merge, limit_ends_the_merge_early)
{
	static struct fixture f;

	setup(&f, 2, 1);
	f.cols[0] = INTCOL("a");
	f.keys[0] = (struct merge_key){.col = 0};
	f.spec.nkeys = 1;
	f.spec.keys = f.keys;
	f.spec.offset = 1;
	f.spec.limit = 2;
	start(&f);
	feed(f.m, 0, 1, "1");
	feed(f.m, 0, 1, "3");
	feed(f.m, 1, 1, "2");
	cr_assert_eq(feed(f.m, 1, 1, "4"), MERGE_DONE, "2 and 3 are out");
	cr_assert_eq(f.sink.n, 2);
	cr_assert_str_eq(cell(&f.sink, 0, 1, 0), "2");
	cr_assert_str_eq(cell(&f.sink, 1, 1, 0), "3");
	cr_assert_eq(feed(f.m, 0, 1, "5"), MERGE_DONE, "ignored");
	cr_assert_eq(f.sink.n, 2);
	stop(&f);
	/* LIMIT 0: done before any row. */
	setup(&f, 2, 1);
	f.cols[0] = INTCOL("a");
	f.spec.limit = 0;
	start(&f);
	cr_assert_eq(feed(f.m, 0, 1, "1"), MERGE_DONE);
	cr_assert_eq(f.sink.n, 0);
	stop(&f);
}

/* A shard that never answers while another streams: the merge advises
 * pausing the busy one, and fails cleanly when its budget is exceeded. */
Test(merge, memory_budget_and_pause_advice)
{
	static struct fixture f;
	char big[1000];
	int r = MERGE_OK, rows = 0;
	bool paused = false;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setup(&f, 2, 1);
	f.cols[0] = STRCOL("s");
	f.keys[0] = (struct merge_key){.col = 0,
				       .collation = COLL_UTF8MB4_BIN};
	f.spec.nkeys = 1;
	f.spec.keys = f.keys;
	f.spec.budget = 256 << 10;
	f.spec.pause_bytes = 64 << 10;
	start(&f);
	while (r == MERGE_OK && rows < 10000) {
		r = feed(f.m, 0, 1, big);
		rows++;
		if (merge_should_pause(f.m, 0) && !paused) {
			paused = true;
			cr_assert_lt(rows, 100, "pause advised early");
		}
	}
	cr_assert(paused);
	cr_assert_eq(r, MERGE_ERROR);
	cr_assert(strstr(merge_error(f.m), "memory budget of 262144 bytes"),
		  "%s", merge_error(f.m));
	cr_assert_leq(merge_memory(f.m), 256 << 10);
	cr_assert_eq(feed(f.m, 1, 1, "a"), MERGE_ERROR, "stays failed");
	stop(&f);
}

Test(merge, huge_counts_are_exact_and_overflow_is_an_error)
{
	static struct fixture f;

	setup(&f, 3, 1);
	f.cols[0] = INTCOL("COUNT(*)");
	f.out[0] = (struct merge_col){.agg = MERGE_COUNT, .col = 0,
				      .def = f.cols[0]};
	f.spec.aggregate = true;
	f.spec.nout = 1;
	f.spec.out = f.out;
	start(&f);
	for (unsigned s = 0; s < 3; s++) {
		feed(f.m, s, 1, "3000000000000000000");
		merge_end(f.m, s);
	}
	cr_assert_eq(f.sink.n, 1);
	cr_assert_str_eq(cell(&f.sink, 0, 1, 0), "9000000000000000000");
	stop(&f);
	setup(&f, 3, 1);
	f.cols[0] = INTCOL("COUNT(*)");
	f.spec.aggregate = true;
	f.spec.nout = 1;
	f.spec.out = f.out;
	start(&f);
	/* COUNT is a signed BIGINT: 2^63 rows do not exist in one server
	 * either. */
	feed(f.m, 0, 1, "9223372036854775806");
	cr_assert_eq(feed(f.m, 1, 1, "1"), MERGE_OK);
	cr_assert_eq(feed(f.m, 2, 1, "1"), MERGE_ERROR);
	cr_assert(strstr(merge_error(f.m), "COUNT overflows"));
	stop(&f);
}

/* 1000 shards each with the largest DECIMAL(65,30) SUM: exact. */
Test(merge, decimal_sums_and_averages_are_exact)
{
	static struct fixture f;
	const char *big =
		"99999999999999999999999999999999999.999999999999999999999999999999";
	struct rs_coldef avg;

	setup(&f, 1000, 2);
	f.cols[0] = DECCOL("SUM(x)", 30);
	f.cols[0].length = 67;
	f.cols[1] = INTCOL("COUNT(x)");
	cr_assert_eq(merge_type_of(MERGE_AVG,
				   &(struct rs_coldef){.type = RS_TYPE_NEWDECIMAL,
						       .length = 67,
						       .decimals = 30},
				   &avg), 0);
	cr_assert_eq(avg.decimals, 34);
	f.out[0] = (struct merge_col){.agg = MERGE_SUM, .col = 0,
				      .def = f.cols[0]};
	f.out[1] = (struct merge_col){.agg = MERGE_AVG, .col = 0, .col2 = 1,
				      .def = avg};
	f.spec.aggregate = true;
	f.spec.nout = 2;
	f.spec.out = f.out;
	start(&f);
	for (unsigned s = 0; s < 1000; s++) {
		feed(f.m, s, 2, big, "3");
		merge_end(f.m, s);
	}
	cr_assert_eq(f.sink.n, 1);
	cr_assert_str_eq(cell(&f.sink, 0, 2, 0),
			 "99999999999999999999999999999999999999.999999999999999999999999999000");
	/* 1000 * big / 3000 = big / 3 */
	cr_assert_str_eq(cell(&f.sink, 0, 2, 1),
			 "33333333333333333333333333333333333.3333333333333333333333333333330000");
	stop(&f);
}

Test(merge, double_sums_add_the_shards_doubles)
{
	static struct fixture f;

	setup(&f, 2, 1);
	f.cols[0] = col("SUM(x)", RS_TYPE_DOUBLE, 63, RS_NOT_FIXED_DEC);
	f.out[0] = (struct merge_col){.agg = MERGE_SUM, .col = 0,
				      .def = f.cols[0]};
	f.spec.aggregate = true;
	f.spec.nout = 1;
	f.spec.out = f.out;
	start(&f);
	feed(f.m, 0, 1, "0.1");
	feed(f.m, 1, 1, "0.2");
	merge_end(f.m, 0);
	merge_end(f.m, 1);
	cr_assert_str_eq(cell(&f.sink, 0, 1, 0), "0.30000000000000004");
	stop(&f);
}

/* HAVING COUNT(*) > 1 and SUM(x) * 2: the planner's callback. */
static int having(void *ctx, const struct myv *in, unsigned nin,
		  struct myv *out, unsigned nout, char *err, size_t errlen)
{
	struct mdec two;

	(void)ctx;
	cr_assert_eq(nin, 3);
	cr_assert_eq(nout, 2);
	if (in[1].kind != MYV_UINT || in[1].v.u <= 1)
		return 0;
	if (in[0].kind == MYV_STR && in[0].v.s.len == 4 &&
	    !memcmp(in[0].v.s.p, "fail", 4)) {
		snprintf(err, errlen, "myring: division by zero in HAVING");
		return -1;
	}
	out[0] = in[0];
	out[1] = in[2];
	out[1].raw = NULL;
	mdec_from_i64(&two, 0);
	cr_assert_eq(mdec_add(&two, &in[2].v.dec), 0);
	cr_assert_eq(mdec_add(&two, &in[2].v.dec), 0);
	out[1].v.dec = two;
	return 1;
}

static void group_fixture(struct fixture *f, merge_project_fn project)
{
	static struct rs_coldef final[2];

	setup(f, 2, 3);
	f->cols[0] = STRCOL("g");
	f->cols[1] = INTCOL("COUNT(*)");
	f->cols[2] = DECCOL("SUM(x)", 1);
	f->keys[0] = (struct merge_key){.col = 0,
					.collation = COLL_UTF8MB4_GENERAL_CI};
	f->out[0] = (struct merge_col){.agg = MERGE_COL, .col = 0,
				       .def = f->cols[0]};
	f->out[1] = (struct merge_col){.agg = MERGE_COUNT, .col = 1,
				       .def = f->cols[1]};
	f->out[2] = (struct merge_col){.agg = MERGE_SUM, .col = 2,
				       .def = f->cols[2]};
	f->spec.nkeys = 1;
	f->spec.keys = f->keys;
	f->spec.aggregate = true;
	f->spec.ngroup = 1;
	f->spec.nout = 3;
	f->spec.out = f->out;
	if (project) {
		final[0] = f->cols[0];
		final[1] = DECCOL("2*SUM(x)", 1);
		f->spec.project = project;
		f->spec.nfinal = 2;
		f->spec.final = final;
	}
}

static void feed_groups(struct fixture *f)
{
	/* Shard 0: a(1, 1.5), b(2, 2.0), d(1, 0.1); shard 1: A(1, 1.0),
	 * c(1, NULL), d(2, 0.2).  'a' and 'A' are one group. */
	feed(f->m, 0, 3, "a", "1", "1.5");
	feed(f->m, 1, 3, "A", "1", "1.0");
	feed(f->m, 0, 3, "b", "2", "2.0");
	feed(f->m, 1, 3, "c", "1", NULL);
	feed(f->m, 0, 3, "d", "1", "0.1");
	feed(f->m, 1, 3, "d", "2", "0.2");
	merge_end(f->m, 0);
	merge_end(f->m, 1);
}

Test(merge, group_by_combines_partials_group_by_group)
{
	static struct fixture f;

	group_fixture(&f, NULL);
	start(&f);
	feed(f.m, 0, 3, "a", "1", "1.5");
	feed(f.m, 1, 3, "A", "1", "1.0");
	feed(f.m, 0, 3, "b", "2", "2.0");
	cr_assert_eq(f.sink.n, 0, "shard 1 may still send another 'a'");
	feed(f.m, 1, 3, "c", "1", NULL);
	cr_assert_eq(f.sink.n, 1, "'a' is complete; shard 0 may send a 'b'");
	feed(f.m, 0, 3, "d", "1", "0.1");
	cr_assert_eq(f.sink.n, 2, "'b' is complete");
	feed(f.m, 1, 3, "d", "2", "0.2");
	merge_end(f.m, 0);
	cr_assert_eq(merge_end(f.m, 1), MERGE_DONE);
	cr_assert_eq(f.sink.n, 4);
	cr_assert_str_eq(cell(&f.sink, 0, 3, 0), "a");
	cr_assert_str_eq(cell(&f.sink, 0, 3, 1), "2");
	cr_assert_str_eq(cell(&f.sink, 0, 3, 2), "2.5");
	cr_assert_str_eq(cell(&f.sink, 2, 3, 0), "c");
	cr_assert_str_eq(cell(&f.sink, 2, 3, 2), "NULL");
	cr_assert_str_eq(cell(&f.sink, 3, 3, 1), "3");
	cr_assert_str_eq(cell(&f.sink, 3, 3, 2), "0.3");
	stop(&f);
}

Test(merge, projection_filters_and_computes)
{
	static struct fixture f;

	group_fixture(&f, having);
	start(&f);
	feed_groups(&f);
	cr_assert_eq(f.sink.n, 3, "c has COUNT 1");
	cr_assert_str_eq(cell(&f.sink, 0, 2, 0), "a");
	cr_assert_str_eq(cell(&f.sink, 0, 2, 1), "5.0");
	cr_assert_str_eq(cell(&f.sink, 1, 2, 1), "4.0");
	cr_assert_str_eq(cell(&f.sink, 2, 2, 1), "0.6");
	stop(&f);
	/* The callback's error is the query's. */
	group_fixture(&f, having);
	start(&f);
	feed(f.m, 0, 3, "fail", "5", "1.0");
	merge_end(f.m, 0);
	cr_assert_eq(merge_end(f.m, 1), MERGE_ERROR);
	cr_assert_str_eq(merge_error(f.m), "myring: division by zero in HAVING");
	stop(&f);
}

/* ORDER BY COUNT(*) DESC after GROUP BY: buffered, with and without a
 * LIMIT (top-N); equal counts keep group order. */
Test(merge, sort_after_merge_full_and_top_n)
{
	static struct fixture f;
	static const struct merge_key by_count = {.col = 1, .desc = true};

	for (int topn = 0; topn < 2; topn++) {
		group_fixture(&f, NULL);
		f.spec.nsort = 1;
		f.spec.sort = &by_count;
		if (topn) {
			f.spec.offset = 1;
			f.spec.limit = 2;
		}
		start(&f);
		feed_groups(&f);
		if (!topn) {
			cr_assert_eq(f.sink.n, 4);
			cr_assert_str_eq(cell(&f.sink, 0, 3, 0), "d");
			cr_assert_str_eq(cell(&f.sink, 1, 3, 0), "a");
			cr_assert_str_eq(cell(&f.sink, 2, 3, 0), "b");
			cr_assert_str_eq(cell(&f.sink, 3, 3, 0), "c");
		} else {
			cr_assert_eq(f.sink.n, 2);
			cr_assert_str_eq(cell(&f.sink, 0, 3, 0), "a");
			cr_assert_str_eq(cell(&f.sink, 1, 3, 0), "b");
		}
		stop(&f);
	}
}

/* Hidden sort column left out; text from the shards, binary to the
 * client (a prepared statement answered from text queries). */
Test(merge, hidden_columns_and_text_to_binary)
{
	static struct fixture f;
	uint8_t want[64];
	size_t n;

	setup(&f, 2, 3);
	f.cols[0] = INTCOL("id");
	f.cols[1] = DECCOL("d", 2);
	f.cols[2] = STRCOL("hidden");
	f.keys[0] = (struct merge_key){.col = 2,
				       .collation = COLL_UTF8MB4_UNICODE_CI};
	f.out[0] = (struct merge_col){.col = 0, .def = f.cols[0]};
	f.out[1] = (struct merge_col){.col = 1, .def = f.cols[1]};
	f.spec.nkeys = 1;
	f.spec.keys = f.keys;
	f.spec.nout = 2;
	f.spec.out = f.out;
	f.spec.out_proto = RS_BINARY;
	start(&f);
	feed(f.m, 0, 3, "1", "1.50", "strasse");
	feed(f.m, 1, 3, "-2", NULL, "Straße");
	feed(f.m, 1, 3, "3", "0.01", "Strassf");
	merge_end(f.m, 0);
	merge_end(f.m, 1);
	cr_assert_eq(f.sink.n, 3);
	/* 'strasse' = 'Straße' in unicode_ci: shard order decides. */
	struct rs_cell cells[2] = {
		{(const uint8_t *)"\x01\0\0\0\0\0\0\0", 8, false},
		{(const uint8_t *)"1.50", 4, false},
	};

	n = rs_build_binary_row(want, cells, 2, f.cols);
	cr_assert_eq(f.sink.rows[0].len, n);
	cr_assert_eq(memcmp(f.sink.rows[0].p, want, n), 0);
	/* -2 as 8 bytes, NULL in the bitmap. */
	cr_assert_eq(f.sink.rows[1].p[1], 0x08, "bit 3: column 1 NULL");
	cr_assert_eq(f.sink.rows[1].p[2], 0xFE);
	cr_assert_eq(f.sink.rows[1].p[9], 0xFF);
	stop(&f);
}

Test(merge, all_shards_empty)
{
	static struct fixture f;

	setup(&f, 4, 1);
	f.cols[0] = INTCOL("a");
	f.keys[0] = (struct merge_key){.col = 0};
	f.spec.nkeys = 1;
	f.spec.keys = f.keys;
	start(&f);
	for (unsigned s = 0; s < 3; s++)
		cr_assert_eq(merge_end(f.m, s), MERGE_OK);
	cr_assert_eq(merge_end(f.m, 3), MERGE_DONE);
	cr_assert_eq(f.sink.n, 0);
	stop(&f);
}

Test(merge, refused_specs_name_the_problem)
{
	static struct fixture f;
	char err[512];

	setup(&f, 2, 1);
	f.cols[0] = STRCOL("name");
	f.keys[0] = (struct merge_key){.col = 0, .collation = 246};
	f.spec.nkeys = 1;
	f.spec.keys = f.keys;
	cr_assert_null(merge_new(&f.spec, err, sizeof(err)));
	cr_assert_str_eq(err, "myring: collation utf8mb4_unicode_520_ci not "
			      "supported for cross-shard ORDER BY");
	f.keys[0].collation = 0;
	cr_assert_null(merge_new(&f.spec, err, sizeof(err)));
	cr_assert(strstr(err, "collation of `name` is needed"), "%s", err);
	f.keys[0].collation = MERGE_COLL_FROM_DEF;
	f.cols[0].flags = RS_ENUM_FLAG;
	cr_assert_null(merge_new(&f.spec, err, sizeof(err)));
	cr_assert(strstr(err, "ENUM/SET"), "%s", err);
	/* A binary string needs no collation. */
	f.cols[0] = col("bin", RS_TYPE_BLOB, 63, 0);
	f.keys[0].collation = 0;
	f.m = merge_new(&f.spec, err, sizeof(err));
	cr_assert_not_null(f.m, "%s", err);
	stop(&f);
	/* DISTINCT aggregates need DISTINCT keys. */
	setup(&f, 2, 1);
	f.cols[0] = INTCOL("x");
	f.out[0] = (struct merge_col){.agg = MERGE_COUNT_DISTINCT, .col = 0,
				      .def = f.cols[0]};
	f.spec.aggregate = true;
	f.spec.nout = 1;
	f.spec.out = f.out;
	cr_assert_null(merge_new(&f.spec, err, sizeof(err)));
}

Test(merge, bad_input_fails_the_query)
{
	static struct fixture f;

	setup(&f, 2, 2);
	f.cols[0] = INTCOL("a");
	f.cols[1] = INTCOL("b");
	f.keys[0] = (struct merge_key){.col = 0};
	f.spec.nkeys = 1;
	f.spec.keys = f.keys;
	start(&f);
	cr_assert_eq(feed(f.m, 0, 1, "1"), MERGE_ERROR, "one column short");
	cr_assert(strstr(merge_error(f.m), "malformed text row"));
	stop(&f);
	start(&f);
	cr_assert_eq(feed(f.m, 0, 2, "x", "1"), MERGE_ERROR);
	cr_assert(strstr(merge_error(f.m), "not a valid LONGLONG for column `a`"),
		  "%s", merge_error(f.m));
	stop(&f);
	start(&f);
	merge_end(f.m, 0);
	cr_assert_eq(feed(f.m, 0, 2, "1", "1"), MERGE_ERROR, "after its end");
	stop(&f);
	/* The caller refusing output stops the merge. */
	setup(&f, 1, 1);
	f.cols[0] = INTCOL("a");
	start(&f);
	f.sink.refuse = true;
	cr_assert_eq(feed(f.m, 0, 1, "1"), MERGE_ERROR);
	stop(&f);
}

Test(merge, header_and_end_for_both_framings)
{
	static struct fixture f;
	struct pkt_buf pb;

	setup(&f, 1, 2);
	f.cols[0] = INTCOL("a");
	f.cols[1] = STRCOL("b");
	start(&f);
	for (int eof = 0; eof < 2; eof++) {
		uint64_t caps = eof ? CLIENT_PROTOCOL_41 : CAPS;
		size_t pos = 0, npk = 0;
		struct rs_coldef cd;
		uint16_t st, w;

		pkt_buf_init(&pb);
		pb.seq = 1;
		merge_write_header(f.m, &pb, caps);
		merge_write_end(&pb, caps, SERVER_STATUS_AUTOCOMMIT, 2);
		cr_assert(!pb.oom);
		while (pos < pb.len) {
			uint32_t len = mysql_get_u24(pb.data + pos);
			const uint8_t *p = pb.data + pos + 4;

			cr_assert_eq(pb.data[pos + 3], 1 + npk, "sequence ids");
			if (npk == 1 || npk == 2)
				cr_assert_eq(rs_parse_coldef(p, len, caps, &cd), 0);
			pos += 4 + len;
			npk++;
			if (pos == pb.len)
				cr_assert_eq(rs_parse_end(p, len, caps, &st, &w), 0);
		}
		cr_assert_eq(npk, eof ? 5 : 4);
		cr_assert_eq(w, 2);
		pkt_buf_free(&pb);
	}
	stop(&f);
}

/* Top-N over more rows than its first allocation: the heap has swapped
 * entries by the time it grows, and each must keep its own keys (it
 * once got the keys of whichever entry had been at its place). */
Test(merge, top_n_keeps_each_rows_keys_when_it_grows)
{
	static struct fixture f;
	static const struct merge_key by_v = {.col = 0};
	char v[16];

	setup(&f, 1, 1);
	f.cols[0] = INTCOL("v");
	f.spec.nsort = 1;
	f.spec.sort = &by_v;
	f.spec.limit = 100;
	start(&f);
	/* 0..299 in an order that makes the heap swap: a permutation. */
	for (unsigned i = 0; i < 300; i++) {
		snprintf(v, sizeof(v), "%u", (i * 7919u) % 300u);
		feed(f.m, 0, 1, v);
	}
	merge_end(f.m, 0);
	cr_assert_eq(f.sink.n, 100);
	for (unsigned i = 0; i < 100; i++) {
		snprintf(v, sizeof(v), "%u", i);
		cr_assert_str_eq(cell(&f.sink, i, 1, 0), v, "row %u", i);
	}
	stop(&f);
}

/* An execution over several shards: the shards' text rows of every type
 * re-encoded as the binary protocol's values for the same columns. */
Test(merge, text_rows_of_every_type_to_binary)
{
	static struct fixture f;
	struct rs_coldef cols[10];
	struct rs_cell c[10];
	double d;
	uint64_t w;

	setup(&f, 2, 10);
	cols[0] = col("ti", RS_TYPE_TINY, 63, 0);
	cols[1] = col("si", RS_TYPE_SHORT, 63, 0);
	cols[1].flags = RS_UNSIGNED_FLAG;
	cols[2] = col("i", RS_TYPE_LONG, 63, 0);
	cols[3] = col("d", RS_TYPE_DOUBLE, 63, RS_NOT_FIXED_DEC);
	cols[4] = col("dt", RS_TYPE_DATE, 63, 0);
	cols[5] = col("dtm", RS_TYPE_DATETIME, 63, 6);
	cols[6] = col("tm", RS_TYPE_TIME, 63, 2);
	cols[7] = col("yr", RS_TYPE_YEAR, 63, 0);
	cols[8] = col("bl", RS_TYPE_BLOB, 63, 0);
	cols[9] = DECCOL("dc", 3);
	memcpy(f.cols, cols, sizeof(cols));
	f.spec.out_proto = RS_BINARY;
	start(&f);
	feed(f.m, 0, 10, "-128", "65535", "-2147483648", "0.1",
	     "2024-02-29", "2023-05-01 12:00:07.000500", "-34:20:30.25",
	     "2024", "a\\'\n", "-0.500");
	feed(f.m, 1, 10, NULL, NULL, NULL, "-1.5e-300", "0000-00-00",
	     "2023-05-01 00:00:00.000000", "00:00:00.00", NULL, "", NULL);
	merge_end(f.m, 0);
	merge_end(f.m, 1);
	cr_assert_eq(f.sink.n, 2);
	cr_assert_eq(rs_parse_binary_row(f.sink.rows[0].p, f.sink.rows[0].len,
					 10, cols, c), 0);
	cr_assert_eq(c[0].len, 1);
	cr_assert_eq(c[0].p[0], 0x80);
	cr_assert_eq(c[1].len, 2);
	cr_assert_eq(mysql_get_u16(c[1].p), 65535);
	cr_assert_eq(c[2].len, 4);
	cr_assert_eq(mysql_get_u32(c[2].p), 0x80000000u);
	cr_assert_eq(c[3].len, 8);
	w = mysql_get_u32(c[3].p) | (uint64_t)mysql_get_u32(c[3].p + 4) << 32;
	memcpy(&d, &w, 8);
	cr_assert_eq(d, 0.1, "the double itself");
	cr_assert_eq(c[4].len, 4);
	cr_assert_eq(memcmp(c[4].p, "\xe8\x07\x02\x1d", 4), 0);
	cr_assert_eq(c[5].len, 11);
	cr_assert_eq(memcmp(c[5].p, "\xe7\x07\x05\x01\x0c\x00\x07"
			    "\xf4\x01\x00\x00", 11), 0);
	/* TIME: negative, 1 day, 10:20:30, 250000 us */
	cr_assert_eq(c[6].len, 12);
	cr_assert_eq(memcmp(c[6].p, "\x01\x01\x00\x00\x00\x0a\x14\x1e"
			    "\x90\xd0\x03\x00", 12), 0);
	cr_assert_eq(c[7].len, 2);
	cr_assert_eq(mysql_get_u16(c[7].p), 2024);
	cr_assert_eq(c[8].len, 4);
	cr_assert_eq(memcmp(c[8].p, "a\\'\n", 4), 0);
	cr_assert_eq(c[9].len, 6);
	cr_assert_eq(memcmp(c[9].p, "-0.500", 6), 0);
	cr_assert_eq(rs_parse_binary_row(f.sink.rows[1].p, f.sink.rows[1].len,
					 10, cols, c), 0);
	for (int i = 0; i < 3; i++)
		cr_assert(c[i].null, "column %d NULL", i);
	w = mysql_get_u32(c[3].p) | (uint64_t)mysql_get_u32(c[3].p + 4) << 32;
	memcpy(&d, &w, 8);
	cr_assert_eq(d, -1.5e-300);
	/* zero parts: the shortest forms the server sends */
	cr_assert_eq(c[4].len, 0, "0000-00-00: no bytes");
	cr_assert_eq(c[5].len, 4, "midnight: the date only");
	cr_assert_eq(c[6].len, 0, "00:00:00: no bytes");
	cr_assert(c[7].null && c[9].null);
	cr_assert_eq(c[8].len, 0);
	stop(&f);
}
