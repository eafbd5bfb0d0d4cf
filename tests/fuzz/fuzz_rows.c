/*
 * libFuzzer target for the result-set codec and the merge.  The input is
 *
 *   byte 0      bit 0: binary protocol, bit 1: CLIENT_DEPRECATE_EOF,
 *               bit 2: MARIADB_CLIENT_EXTENDED_METADATA
 *   byte 1      number of columns - 1 (mod 16)
 *   2 bytes per column: a type (index into types[]) and flags
 *               (bit 0 UNSIGNED, bits 2..4 decimals, 7 = 31)
 *   the rest    one packet payload
 *
 * The payload goes to every decoder.  What decodes must re-encode to bytes
 * that decode to the same thing and encode to the same bytes again (a
 * fixed point); every value must survive text -> binary -> value; and the
 * rows, split over two shards, go through a k-way merge and an aggregate
 * merge.  Any disagreement aborts.  Seeds: tests/fuzz/seeds_rows (fix_*:
 * packets of MariaDB 10.11, from tests/unit/merge_fixtures.h; crash_*:
 * inputs that once broke an invariant, kept so they never do again).
 */
#include "merge.h"
#include "mysql_value.h"
#include "rs_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_at(bool ok, int line)
{
	if (!ok) {
		fprintf(stderr, "fuzz_rows.c:%d: invariant broken\n", line);
		abort();
	}
}
#define check(ok) check_at((ok), __LINE__)

static const uint8_t types[] = {
	RS_TYPE_TINY, RS_TYPE_SHORT, RS_TYPE_LONG, RS_TYPE_INT24,
	RS_TYPE_LONGLONG, RS_TYPE_YEAR, RS_TYPE_FLOAT, RS_TYPE_DOUBLE,
	RS_TYPE_NEWDECIMAL, RS_TYPE_DATE, RS_TYPE_DATETIME,
	RS_TYPE_TIMESTAMP, RS_TYPE_TIME, RS_TYPE_VAR_STRING, RS_TYPE_STRING,
	RS_TYPE_BLOB, RS_TYPE_BIT, RS_TYPE_JSON, RS_TYPE_GEOMETRY,
	RS_TYPE_NULL, RS_TYPE_ENUM,
};

#define MAXCOLS 16

static bool same_coldef(const struct rs_coldef *a, const struct rs_coldef *b)
{
	return a->charset == b->charset && a->length == b->length &&
	       a->type == b->type && a->flags == b->flags &&
	       a->decimals == b->decimals && a->name.len == b->name.len &&
	       !memcmp(a->name.ptr, b->name.ptr, a->name.len) &&
	       a->ext.len == b->ext.len;
}

static void coldefs(const uint8_t *p, size_t n, uint64_t caps)
{
	struct rs_coldef cd, again;
	uint8_t *buf, *buf2;
	size_t len, len2;

	if (rs_parse_coldef(p, n, caps, &cd))
		return;
	len = rs_coldef_size(&cd, caps);
	buf = malloc(len);
	check(rs_build_coldef(buf, &cd, caps) == len);
	check(rs_parse_coldef(buf, len, caps, &again) == 0);
	check(same_coldef(&cd, &again));
	buf2 = malloc(len);
	len2 = rs_build_coldef(buf2, &again, caps);
	check(len2 == len && !memcmp(buf, buf2, len));
	free(buf);
	free(buf2);
}

static bool same_cells(const struct rs_cell *a, const struct rs_cell *b,
		       unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i].null != b[i].null || a[i].len != b[i].len ||
		    (a[i].len && memcmp(a[i].p, b[i].p, a[i].len)))
			return false;
	return true;
}

/* Decodes, rebuilds, decodes again. */
static bool row_fixed_point(const uint8_t *p, size_t n, enum rs_proto proto,
			    unsigned ncols, const struct rs_coldef *cols,
			    struct rs_cell *cells)
{
	struct rs_cell again[MAXCOLS];
	uint8_t *buf, *buf2;
	size_t len;
	int r = proto == RS_TEXT ? rs_parse_text_row(p, n, ncols, cells)
				 : rs_parse_binary_row(p, n, ncols, cols, cells);

	if (r)
		return false;
	len = proto == RS_TEXT ? rs_text_row_size(cells, ncols)
			       : rs_binary_row_size(cells, ncols, cols);
	check(len <= n);
	buf = malloc(len + 1);
	buf2 = malloc(len + 1);
	check((proto == RS_TEXT ? rs_build_text_row(buf, cells, ncols)
				: rs_build_binary_row(buf, cells, ncols, cols)) ==
	      len);
	check((proto == RS_TEXT ? rs_parse_text_row(buf, len, ncols, again)
				: rs_parse_binary_row(buf, len, ncols, cols,
						      again)) == 0);
	check(same_cells(cells, again, ncols));
	check((proto == RS_TEXT ? rs_build_text_row(buf2, again, ncols)
				: rs_build_binary_row(buf2, again, ncols, cols)) ==
	      len);
	check(!memcmp(buf, buf2, len));
	free(buf);
	free(buf2);
	return true;
}

/* A text value survives the binary protocol. */
static void values(const struct rs_cell *cells, unsigned ncols,
		   const struct rs_coldef *cols, enum rs_proto proto)
{
	for (unsigned i = 0; i < ncols; i++) {
		struct myv v, back;
		struct rs_cell c;
		uint8_t buf[MYV_ENCODE_MAX];

		if (myv_decode(&cells[i], &cols[i], proto, &v))
			continue;
		check(myv_cmp(&v, &v, NULL) == 0);
		v.raw = NULL;
		if (myv_encode(&v, &cols[i], RS_BINARY, buf, &c))
			continue;
		check(c.len <= MYV_ENCODE_MAX || v.kind == MYV_STR);
		check(myv_decode(&c, &cols[i], RS_BINARY, &back) == 0);
		/* A DECIMAL is written with its column's decimals. */
		if (v.kind != MYV_DEC || v.v.dec.scale <= cols[i].decimals)
			check(myv_cmp(&v, &back, NULL) == 0);
		/* And text can always be written. */
		if (myv_encode(&v, &cols[i], RS_TEXT, buf, &c) == 0)
			check(c.null || c.len <= MYV_ENCODE_MAX || v.kind == MYV_STR);
	}
}

static int discard(void *ctx, const uint8_t *p, size_t len)
{
	(*(size_t *)ctx)++;
	(void)p;
	(void)len;
	return 0;
}

/* The payload as a row of each of two shards, merged two ways. */
static void merges(const uint8_t *p, size_t n, enum rs_proto proto,
		   unsigned ncols, const struct rs_coldef *cols)
{
	struct merge_key keys[2] = {{.col = 0, .collation = 45},
				    {.col = ncols - 1, .desc = true,
				     .collation = 224}};
	struct merge_col out[4];
	struct merge_spec spec = {
		.nstreams = 2, .in_proto = proto, .out_proto = RS_TEXT,
		.ncols = ncols, .cols = cols, .nkeys = 2, .keys = keys,
		.limit = MERGE_NO_LIMIT, .emit = discard, .budget = 1 << 20,
	};
	size_t emitted = 0;
	char err[256];
	struct merge *m;

	spec.emit_ctx = &emitted;
	m = merge_new(&spec, err, sizeof(err));
	if (m) {
		merge_row(m, 0, p, n);
		merge_row(m, 1, p, n);
		merge_row(m, 1, p, n);
		merge_end(m, 1);
		merge_end(m, 0);
		merge_free(m);
	}
	/* GROUP BY the first column with every aggregate of the last. */
	out[0] = (struct merge_col){.agg = MERGE_COL, .col = 0, .def = cols[0]};
	out[1] = (struct merge_col){.agg = MERGE_SUM, .col = ncols - 1,
				    .def = cols[ncols - 1]};
	out[2] = (struct merge_col){.agg = MERGE_MAX, .col = ncols - 1,
				    .collation = 46, .def = cols[ncols - 1]};
	out[3] = (struct merge_col){.agg = MERGE_AVG, .col = ncols - 1,
				    .col2 = 0, .def = cols[ncols - 1]};
	spec.aggregate = true;
	spec.ngroup = 1;
	spec.nout = 4;
	spec.out = out;
	spec.out_proto = proto;
	m = merge_new(&spec, err, sizeof(err));
	if (m) {
		merge_row(m, 1, p, n);
		merge_row(m, 0, p, n);
		merge_end(m, 0);
		merge_end(m, 1);
		merge_free(m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_coldef cols[MAXCOLS];
	struct rs_cell cells[MAXCOLS];
	unsigned ncols;
	uint64_t caps = CLIENT_PROTOCOL_41;
	enum rs_proto proto;
	const uint8_t *p;
	size_t n;
	uint16_t status, warnings;
	uint64_t count;

	if (size < 2)
		return 0;
	proto = data[0] & 1 ? RS_BINARY : RS_TEXT;
	if (data[0] & 2)
		caps |= CLIENT_DEPRECATE_EOF;
	if (data[0] & 4)
		caps |= MARIADB_CLIENT_EXTENDED_METADATA;
	ncols = data[1] % MAXCOLS + 1;
	if (size < 2 + 2 * (size_t)ncols)
		return 0;
	memset(cols, 0, sizeof(cols));
	for (unsigned i = 0; i < ncols; i++) {
		uint8_t t = data[2 + 2 * i], f = data[3 + 2 * i];
		unsigned dec = (f >> 2) & 7;

		cols[i].type = types[t % sizeof(types)];
		cols[i].flags = f & 1 ? RS_UNSIGNED_FLAG : 0;
		cols[i].decimals = (uint8_t)(dec == 7 ? 31 : dec);
		cols[i].charset = f & 2 ? 63 : 45;
		cols[i].length = 20;
		cols[i].name = (struct mysql_str){"c", 1};
	}
	p = data + 2 + 2 * ncols;
	n = size - 2 - 2 * ncols;

	coldefs(p, n, caps);
	(void)rs_parse_column_count(p, n, &count);
	if (rs_parse_end(p, n, caps, &status, &warnings) == 0)
		check(rs_row_pkt_kind(p, n, caps) == RS_PKT_END);
	if (row_fixed_point(p, n, RS_TEXT, ncols, cols, cells))
		values(cells, ncols, cols, RS_TEXT);
	if (row_fixed_point(p, n, RS_BINARY, ncols, cols, cells))
		values(cells, ncols, cols, RS_BINARY);
	merges(p, n, proto, ncols, cols);
	return 0;
}
