/*
 * libFuzzer target for the SQL parser and printer (sql_parse.c,
 * sql_print.c).  The first byte picks a reading (escapes, character set,
 * server) and the parse flags; the rest is the text.  Checked:
 *  - nothing is read outside the text (ASan), the parse ends (libFuzzer's
 *    timeout) and returns a tree or an error with a position inside the
 *    text and a name for what it expected;
 *  - a tree prints, under the same reading (but for names that are no
 *    valid names in it: INEXACT), to text that parses again to the same
 *    tree (the S-expression dumps are equal; unless the tree nests over
 *    half the limit, as parentheses printing adds may make it too deep),
 *    and printing that gives the same text: print . parse is a fixed
 *    point;
 *  - printing without a reading gives text that parses to the same tree
 *    under every sql_mode, unless the result says INEXACT (SHOW and
 *    other statements print as written: not these);
 *  - a small arena fails cleanly (NOMEM), never half-way.
 * Built by tests/fuzz/build.sh with ASan and UBSan; any failure aborts.
 * Seeds: tests/fuzz/seeds_parse/.
 */
#include "sql_parse.h"
#include "sql_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *sql, size_t len,
		 const struct sql_buf *a, const struct sql_buf *b)
{
	fprintf(stderr, "fuzz_parse: %s\n  input: [%.*s]\n", what,
		(int)(len > 400 ? 400 : len), sql);
	if (a)
		fprintf(stderr, "  first:  [%.*s]\n", (int)a->len, a->buf);
	if (b)
		fprintf(stderr, "  second: [%.*s]\n", (int)b->len, b->buf);
	abort();
}

static bool as_written(const struct sql_statement *st)
{
	while (st->kind == SQL_ST_EXPLAIN)
		st = st->explained;
	return st->kind == SQL_ST_SHOW || st->kind == SQL_ST_OTHER;
}

static bool same(const struct sql_buf *a, const struct sql_buf *b)
{
	return a->len == b->len && !memcmp(a->buf, b->buf, a->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t escapes[] = { SQL_ESC_ALL, SQL_ESC_SINGLE,
					   SQL_ESC_NONE, SQL_ESC_ALL };
	static const uint8_t charsets[] = { SQL_CS_BYTE, SQL_CS_GBK,
					    SQL_CS_BYTE, SQL_CS_SJIS };
	struct sql_reading rd;
	struct sql_parse_opts opts;
	struct sql_print_opts popts;
	struct sql_arena arena;
	struct sql_tree t1, t2;
	struct sql_buf d1 = { 0 }, d2 = { 0 }, p1 = { 0 }, p2 = { 0 };
	struct sql_buf any = { 0 };
	const char *sql;
	size_t len;
	unsigned flags;
	int rc;

	if (size < 1)
		return 0;
	rd = (struct sql_reading){ escapes[data[0] & 3],
				   charsets[(data[0] >> 2) & 3],
				   (data[0] >> 4) & 1 ? SQL_SERVER_MARIADB :
				   SQL_SERVER_ANY, 101106 };
	flags = (data[0] >> 5) & 7;
	opts = (struct sql_parse_opts){ .rd = &rd, .flags = flags };
	popts = (struct sql_print_opts){ &rd, NULL, 0 };
	sql = (const char *)data + 1;
	len = size - 1;

	sql_arena_init(&arena, 0);
	rc = sql_parse(&arena, sql, len, &opts, &t1);
	if (rc) {
		if (t1.stmt || t1.err.code != rc || !t1.err.what ||
		    t1.err.pos > len || t1.err.near.len > 40 ||
		    (t1.err.near.len && t1.err.near.ptr != sql + t1.err.pos))
			fail("bad error", sql, len, NULL, NULL);
		goto out;
	}
	if (!t1.stmt || t1.end > len || t1.stmt->end > len)
		fail("no tree, or an end outside the text", sql, len, NULL,
		     NULL);
	sql_dump(&d1, t1.stmt);
	rc = sql_print(&p1, t1.stmt, &popts);
	if (rc == SQL_PRINT_INEXACT)    /* a name no server takes */
		goto out;
	if (rc != SQL_PRINT_OK)
		fail("print failed", sql, len, NULL, NULL);
	/* the printed text is one statement: no MULTI needed */
	opts.flags &= ~(unsigned)SQL_PARSE_MULTI;
	if (sql_parse(&arena, p1.buf, p1.len, &opts, &t2)) {
		struct sql_parse_opts half = opts;
		char msg[256];

		/* printing may nest up to twice as deep (parentheses) */
		half.flags = flags;
		half.max_depth = SQL_PARSE_MAX_DEPTH / 2;
		if (t2.err.code == SQL_PARSE_TOO_DEEP &&
		    sql_parse(&arena, sql, len, &half, &t2) ==
		    SQL_PARSE_TOO_DEEP)
			goto out;
		sql_parse_strerror(&t2.err, msg, sizeof(msg));
		fail(msg, sql, len, &p1, NULL);
	}
	sql_dump(&d2, t2.stmt);
	if (!same(&d1, &d2))
		fail("the printed text parses to another tree", sql, len, &d1,
		     &d2);
	sql_print(&p2, t2.stmt, &popts);
	if (!same(&p1, &p2))
		fail("printing is not a fixed point", sql, len, &p1, &p2);
	/* without a reading: unless INEXACT, the text means the same under
	 * every sql_mode (but SHOW and others, which print as written) */
	if (sql_print(&any, t1.stmt, NULL) == SQL_PRINT_OK &&
	    !as_written(t1.stmt)) {
		static const uint8_t modes[] = { SQL_ESC_ALL, SQL_ESC_SINGLE,
						 SQL_ESC_NONE };

		for (size_t m = 0; m < sizeof(modes); m++) {
			struct sql_reading other = rd;

			other.escapes = modes[m];
			opts.rd = &other;
			if (sql_parse(&arena, any.buf, any.len, &opts, &t2))
				fail("the text for any reading fails", sql, len,
				     &any, NULL);
			sql_buf_free(&d2);
			sql_dump(&d2, t2.stmt);
			if (!same(&d1, &d2))
				fail("the text for any reading differs", sql,
				     len, &d1, &d2);
		}
		opts.rd = &rd;
	}

	/* a small arena: out of memory, or the same tree */
	opts.flags = flags;
	sql_arena_free(&arena);
	sql_arena_init(&arena, 2048);
	if (!sql_parse(&arena, sql, len, &opts, &t2)) {
		sql_buf_free(&d2);
		sql_dump(&d2, t2.stmt);
		if (!same(&d1, &d2))
			fail("a small arena changed the tree", sql, len, &d1,
			     &d2);
	} else if (t2.err.code != SQL_PARSE_NOMEM) {
		fail("a small arena gave another error", sql, len, NULL, NULL);
	}
out:
	sql_arena_free(&arena);
	sql_buf_free(&d1);
	sql_buf_free(&d2);
	sql_buf_free(&p1);
	sql_buf_free(&p2);
	sql_buf_free(&any);
	return 0;
}
