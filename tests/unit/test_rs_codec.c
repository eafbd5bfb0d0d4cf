/*
 * Result-set codec and value model on packets captured from MariaDB 10.11
 * (merge_fixtures.h): a table with a column of every type, rows with
 * values, NULLs and extremes, in the text and binary protocols, with and
 * without CLIENT_DEPRECATE_EOF.  Every packet decodes and re-encodes to the
 * server's bytes; the text and binary forms of each value decode to the
 * same value, and each converts into the other protocol's exact bytes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge_fixtures.h"
#include "mysql_value.h"
#include "rs_codec.h"

#define CAPS_EOF (CLIENT_PROTOCOL_41)
#define CAPS_OK  (CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF)
#define NCOLS    FIX_TYPES_NCOLS

struct pkt {
	uint8_t *p;
	size_t len;
};

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static size_t load(const char *const *hex, struct pkt *out)
{
	size_t n = 0;

	for (; hex[n]; n++) {
		out[n].p = malloc(strlen(hex[n]) / 2 + 1);
		out[n].len = unhex(hex[n], out[n].p);
	}
	return n;
}

static void unload(struct pkt *pk, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(pk[i].p);
}

/* A parsed capture: definitions and the three rows' cells. */
struct capture {
	struct pkt pk[80];
	size_t npk;
	struct rs_coldef cols[NCOLS];
	struct rs_cell cells[3][NCOLS];
	uint16_t status;
};

static void parse_capture(const char *const *hex, uint64_t caps,
			  enum rs_proto proto, struct capture *c)
{
	uint64_t count;
	size_t i = 0;
	uint16_t warnings;

	c->npk = load(hex, c->pk);
	cr_assert_eq(rs_parse_column_count(c->pk[0].p, c->pk[0].len, &count), 0);
	cr_assert_eq(count, NCOLS);
	for (i = 1; i <= NCOLS; i++) {
		uint8_t buf[512];
		struct rs_coldef *cd = &c->cols[i - 1];

		cr_assert_eq(rs_parse_coldef(c->pk[i].p, c->pk[i].len, caps, cd), 0);
		cr_assert_eq(rs_coldef_size(cd, caps), c->pk[i].len);
		cr_assert_eq(rs_build_coldef(buf, cd, caps), c->pk[i].len);
		cr_assert_eq(memcmp(buf, c->pk[i].p, c->pk[i].len), 0,
			     "column %zu rebuilt", i);
	}
	if (!(caps & CLIENT_DEPRECATE_EOF)) {
		cr_assert_eq(rs_row_pkt_kind(c->pk[i].p, c->pk[i].len, caps),
			     RS_PKT_END);
		i++;
	}
	for (int r = 0; r < 3; r++, i++) {
		uint8_t buf[4096];
		size_t n;

		cr_assert_eq(rs_row_pkt_kind(c->pk[i].p, c->pk[i].len, caps),
			     RS_PKT_ROW);
		if (proto == RS_TEXT) {
			cr_assert_eq(rs_parse_text_row(c->pk[i].p, c->pk[i].len,
						       NCOLS, c->cells[r]), 0);
			n = rs_build_text_row(buf, c->cells[r], NCOLS);
			cr_assert_eq(n, rs_text_row_size(c->cells[r], NCOLS));
		} else {
			cr_assert_eq(rs_parse_binary_row(c->pk[i].p, c->pk[i].len,
							 NCOLS, c->cols,
							 c->cells[r]), 0);
			n = rs_build_binary_row(buf, c->cells[r], NCOLS, c->cols);
			cr_assert_eq(n, rs_binary_row_size(c->cells[r], NCOLS,
							   c->cols));
		}
		cr_assert_eq(n, c->pk[i].len, "row %d rebuilt", r);
		cr_assert_eq(memcmp(buf, c->pk[i].p, n), 0, "row %d rebuilt", r);
	}
	cr_assert_eq(rs_row_pkt_kind(c->pk[i].p, c->pk[i].len, caps), RS_PKT_END);
	cr_assert_eq(rs_parse_end(c->pk[i].p, c->pk[i].len, caps, &c->status,
				  &warnings), 0);
	{
		uint8_t end[RS_END_MAX];
		size_t n = rs_build_end(end, caps, c->status, warnings);

		cr_assert_eq(n, c->pk[i].len);
		cr_assert_eq(memcmp(end, c->pk[i].p, n), 0, "terminator rebuilt");
	}
	cr_assert_eq(i + 1, c->npk);
}

static unsigned col_index(const struct capture *c, const char *name)
{
	for (unsigned i = 0; i < NCOLS; i++)
		if (c->cols[i].name.len == strlen(name) &&
		    !memcmp(c->cols[i].name.ptr, name, strlen(name)))
			return i;
	cr_assert_fail("no column %s", name);
	return 0;
}

Test(rs_codec, every_type_every_framing_round_trips)
{
	static struct capture c;

	parse_capture(FIX_TYPES_TEXT, CAPS_OK, RS_TEXT, &c);
	unload(c.pk, c.npk);
	parse_capture(FIX_TYPES_TEXT_EOF, CAPS_EOF, RS_TEXT, &c);
	unload(c.pk, c.npk);
	parse_capture(FIX_TYPES_BINARY, CAPS_OK, RS_BINARY, &c);
	unload(c.pk, c.npk);
	parse_capture(FIX_TYPES_BINARY_EOF, CAPS_EOF, RS_BINARY, &c);
	unload(c.pk, c.npk);
}

/* The same rows in both protocols are the same values; each value encodes
 * into the other protocol exactly as the server sent it there. */
Test(rs_codec, text_and_binary_agree_and_convert)
{
	static struct capture t, b;

	parse_capture(FIX_TYPES_TEXT, CAPS_OK, RS_TEXT, &t);
	parse_capture(FIX_TYPES_BINARY, CAPS_OK, RS_BINARY, &b);
	for (int r = 0; r < 3; r++) {
		for (unsigned i = 0; i < NCOLS; i++) {
			const struct rs_coldef *cd = &t.cols[i];
			struct myv tv, bv;
			struct rs_cell cell;
			uint8_t buf[MYV_ENCODE_MAX];

			cr_assert_eq(cd->type, b.cols[i].type);
			cr_assert_eq(myv_decode(&t.cells[r][i], cd, RS_TEXT, &tv), 0,
				     "row %d col %.*s text", r, (int)cd->name.len,
				     cd->name.ptr);
			cr_assert_eq(myv_decode(&b.cells[r][i], cd, RS_BINARY, &bv),
				     0, "row %d col %.*s binary", r,
				     (int)cd->name.len, cd->name.ptr);
			/* FLOAT(m,d) and DOUBLE(m,d) print rounded to d
			 * places: their text is not the stored value (the
			 * server stores DOUBLE(10,3) -0.001 as
			 * -0.0010000000000000009).  Binary to text is
			 * still exact. */
			bool rounded = (cd->type == RS_TYPE_FLOAT ||
					cd->type == RS_TYPE_DOUBLE) &&
				       cd->decimals < RS_NOT_FIXED_DEC;

			cr_assert(rounded || !myv_cmp(&tv, &bv, NULL),
				  "row %d col %.*s: text and binary differ", r,
				  (int)cd->name.len, cd->name.ptr);
			/* Text to binary. */
			if (rounded)
				tv = bv;
			tv.raw = NULL;
			cr_assert_eq(myv_encode(&tv, cd, RS_BINARY, buf, &cell), 0);
			cr_assert_eq(cell.null, b.cells[r][i].null);
			cr_assert_eq(cell.len, b.cells[r][i].len,
				     "row %d col %.*s to binary", r,
				     (int)cd->name.len, cd->name.ptr);
			cr_assert(!cell.len ||
				  !memcmp(cell.p, b.cells[r][i].p, cell.len),
				  "row %d col %.*s to binary", r,
				  (int)cd->name.len, cd->name.ptr);
			/* Binary to text. */
			bv.raw = NULL;
			cr_assert_eq(myv_encode(&bv, cd, RS_TEXT, buf, &cell), 0);
			cr_assert_eq(cell.null, t.cells[r][i].null);
			cr_assert_eq(cell.len, t.cells[r][i].len,
				     "row %d col %.*s to text: '%.*s' != '%.*s'", r,
				     (int)cd->name.len, cd->name.ptr, (int)cell.len,
				     cell.p, (int)t.cells[r][i].len,
				     t.cells[r][i].p);
			cr_assert(!cell.len ||
				  !memcmp(cell.p, t.cells[r][i].p, cell.len),
				  "row %d col %.*s to text: '%.*s'", r,
				  (int)cd->name.len, cd->name.ptr, (int)cell.len,
				  cell.p);
		}
	}
	unload(t.pk, t.npk);
	unload(b.pk, b.npk);
}

Test(rs_codec, extremes_decode_to_their_values)
{
	static struct capture t;
	struct myv v, w;
	struct myv_tm tm;

	parse_capture(FIX_TYPES_TEXT, CAPS_OK, RS_TEXT, &t);
	cr_assert_eq(myv_decode(&t.cells[2][col_index(&t, "bi")],
				&t.cols[col_index(&t, "bi")], RS_TEXT, &v), 0);
	cr_assert_eq(v.kind, MYV_INT);
	cr_assert_eq(v.v.i, INT64_MIN);
	cr_assert_eq(myv_decode(&t.cells[2][col_index(&t, "biu")],
				&t.cols[col_index(&t, "biu")], RS_TEXT, &v), 0);
	cr_assert_eq(v.kind, MYV_UINT);
	cr_assert_eq(v.v.u, UINT64_MAX);
	/* TIME '-838:59:59' sorts below TIME '12:34:56'. */
	unsigned tmc = col_index(&t, "tm");

	cr_assert_eq(myv_decode(&t.cells[2][tmc], &t.cols[tmc], RS_TEXT, &v), 0);
	cr_assert_eq(myv_decode(&t.cells[0][tmc], &t.cols[tmc], RS_TEXT, &w), 0);
	cr_assert_lt(myv_cmp(&v, &w, NULL), 0);
	myv_time_unpack(v.v.t, RS_TYPE_TIME, &tm);
	cr_assert(tm.neg);
	cr_assert_eq(tm.hour, 838);
	/* The zero date sorts first, 9999-12-31 23:59:59.999999 last. */
	unsigned dtc = col_index(&t, "dtt"), d6 = col_index(&t, "dtt6");

	cr_assert_eq(myv_decode(&t.cells[2][dtc], &t.cols[dtc], RS_TEXT, &v), 0);
	cr_assert_eq(v.v.t, 0);
	cr_assert_eq(myv_decode(&t.cells[2][d6], &t.cols[d6], RS_TEXT, &v), 0);
	myv_time_unpack(v.v.t, RS_TYPE_DATETIME, &tm);
	cr_assert_eq(tm.year, 9999);
	cr_assert_eq(tm.usec, 999999);
	/* NULL row: every column is NULL except the id and the NOT NULL one. */
	for (unsigned i = 0; i < NCOLS; i++)
		cr_assert_eq(t.cells[1][i].null,
			     i != col_index(&t, "id") && i != col_index(&t, "nn"));
	unload(t.pk, t.npk);
}

Test(rs_codec, truncated_and_corrupt_rows_are_refused)
{
	static struct capture t, b;

	parse_capture(FIX_TYPES_TEXT, CAPS_OK, RS_TEXT, &t);
	parse_capture(FIX_TYPES_BINARY, CAPS_OK, RS_BINARY, &b);
	for (int r = 0; r < 3; r++) {
		const struct pkt *tp = &t.pk[1 + NCOLS + r];
		const struct pkt *bp = &b.pk[1 + NCOLS + r];
		struct rs_cell cells[NCOLS];

		for (size_t n = 0; n < tp->len; n++)
			cr_assert_eq(rs_parse_text_row(tp->p, n, NCOLS, cells), -1);
		for (size_t n = 0; n < bp->len; n++)
			cr_assert_eq(rs_parse_binary_row(bp->p, n, NCOLS, b.cols,
							 cells), -1);
		/* One byte too many. */
		uint8_t more[4096];

		memcpy(more, tp->p, tp->len);
		more[tp->len] = 0;
		cr_assert_eq(rs_parse_text_row(more, tp->len + 1, NCOLS, cells), -1);
		/* The reserved bitmap bits. */
		memcpy(more, bp->p, bp->len);
		more[1] |= 1;
		cr_assert_eq(rs_parse_binary_row(more, bp->len, NCOLS, b.cols,
						 cells), -1);
	}
	/* A DATE of 5 bytes is no DATE. */
	struct rs_coldef cd = {.type = RS_TYPE_DATE};
	const uint8_t bad[] = {0x00, 0x00, 0x05, 1, 2, 3, 4, 5};
	struct rs_cell cell;

	cr_assert_eq(rs_parse_binary_row(bad, sizeof(bad), 1, &cd, &cell), -1);
	unload(t.pk, t.npk);
	unload(b.pk, b.npk);
}

Test(rs_codec, extended_metadata_and_builders)
{
	/* A column definition with MariaDB's extended metadata. */
	struct rs_coldef cd = {
		.catalog = {"def", 3}, .name = {"j", 1}, .ext = {"\x00\x04json", 6},
		.charset = 45, .length = 100, .type = RS_TYPE_BLOB,
		.flags = RS_BLOB_FLAG, .decimals = 0,
	}, back;
	uint64_t caps = CAPS_OK | MARIADB_CLIENT_EXTENDED_METADATA;
	uint8_t buf[256], eof[RS_END_MAX];
	uint16_t st, w;

	size_t n = rs_build_coldef(buf, &cd, caps);

	cr_assert_eq(n, rs_coldef_size(&cd, caps));
	cr_assert_eq(rs_parse_coldef(buf, n, caps, &back), 0);
	cr_assert_eq(back.ext.len, 6);
	cr_assert_eq(memcmp(back.ext.ptr, "\x00\x04json", 6), 0);
	cr_assert_eq(back.type, RS_TYPE_BLOB);
	/* Without the capability, the same bytes do not parse as one. */
	cr_assert_neq(rs_parse_coldef(buf, n, CAPS_OK, &back) == 0 &&
			      back.type == RS_TYPE_BLOB && back.length == 100,
		      true);
	n = rs_build_end(eof, CAPS_EOF, SERVER_MORE_RESULTS_EXISTS, 3);
	cr_assert_eq(n, 5);
	cr_assert_eq(rs_parse_end(eof, n, CAPS_EOF, &st, &w), 0);
	cr_assert_eq(st, SERVER_MORE_RESULTS_EXISTS);
	cr_assert_eq(w, 3);
	n = rs_build_end(eof, CAPS_OK, SERVER_STATUS_AUTOCOMMIT, 1);
	cr_assert_eq(n, 7);
	cr_assert_eq(rs_parse_end(eof, n, CAPS_OK, &st, &w), 0);
	cr_assert_eq(st, SERVER_STATUS_AUTOCOMMIT);
	cr_assert_eq(w, 1);
	/* A column count of 0 or 0xFE is no column count. */
	cr_assert_eq(rs_parse_column_count((const uint8_t *)"\x00", 1,
					   &(uint64_t){0}), -1);
	/* A text row whose first value is 16 MiB starts with 0xFE and is a
	 * row, not a terminator. */
	cr_assert_eq(rs_row_pkt_kind((const uint8_t *)"\xfe", MYSQL_MAX_PAYLOAD,
				     CAPS_OK), RS_PKT_ROW);
	cr_assert_eq(rs_row_pkt_kind((const uint8_t *)"\xff", 1, CAPS_OK),
		     RS_PKT_ERR);
}
