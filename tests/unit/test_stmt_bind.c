/*
 * stmt_bind.c (an execution's values as literals) and what the parser and
 * printer make of them: the text each shard is sent for an execution over
 * several shards, under each sql_mode and character set.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/mysql_proto.h"
#include "../../src/rs_codec.h"
#include "../../src/sql_parse.h"
#include "../../src/sql_print.h"
#include "../../src/stmt_bind.h"

/* An EXECUTE builder: types and values appended one by one. */
struct exec_pkt {
	uint8_t p[512];
	size_t len;
	unsigned n, nparams;
	uint8_t types[64];
	uint8_t vals[400];
	size_t vlen;
	uint8_t nulls[8];
};

static void put(struct exec_pkt *e, uint8_t type, bool uns, const void *v,
		size_t n)
{
	e->types[2 * e->n] = type;
	e->types[2 * e->n + 1] = uns ? 0x80 : 0;
	if (v) {
		memcpy(e->vals + e->vlen, v, n);
		e->vlen += n;
	} else {
		e->nulls[e->n / 8] |= (uint8_t)(1u << (e->n % 8));
	}
	e->n++;
}

static void put_str(struct exec_pkt *e, uint8_t type, const char *s, size_t n)
{
	uint8_t v[128];

	v[0] = (uint8_t)n;
	memcpy(v + 1, s, n);
	put(e, type, false, v, n + 1);
}

/* The packet, parsed. */
static void finish(struct exec_pkt *e, struct stmt_execute *ex)
{
	size_t nb = (e->n + 7) / 8;

	e->len = 0;
	e->p[e->len++] = COM_STMT_EXECUTE;
	memset(e->p + e->len, 0, 9);       /* id, flags, iterations */
	e->p[e->len + 5] = 1;
	e->len += 9;
	memcpy(e->p + e->len, e->nulls, nb);
	e->len += nb;
	e->p[e->len++] = 1;
	memcpy(e->p + e->len, e->types, 2 * e->n);
	e->len += 2 * e->n;
	memcpy(e->p + e->len, e->vals, e->vlen);
	e->len += e->vlen;
	e->nparams = e->n;
	cr_assert_eq(stmt_execute_parse(e->p, e->len, (uint16_t)e->n, ex), 0);
}

static void expect(const struct sql_bind *b, uint8_t lit, bool neg,
		   const char *text, const char *charset)
{
	cr_assert_eq(b->lit, lit, "lit %u, want %u (%s)", b->lit, lit, text);
	cr_assert_eq((b->flags & SQL_EF_NEG) != 0, neg, "%s: sign", text);
	cr_assert_eq(b->text.len, strlen(text), "%.*s, want %s",
		     (int)b->text.len, b->text.ptr, text);
	cr_assert_eq(memcmp(b->text.ptr, text, b->text.len), 0, "%.*s, want %s",
		     (int)b->text.len, b->text.ptr, text);
	cr_assert_eq(b->charset.len, charset ? strlen(charset) : 0, "%s", text);
}

Test(stmt_bind, every_type_as_the_literal_the_server_reads_alike)
{
	static struct exec_pkt e;
	struct stmt_execute ex;
	struct sql_arena a;
	const struct sql_bind *b;
	uint8_t v[16];
	int8_t tiny = -5;
	uint64_t big = 0x8000000000000000ull;   /* INT64_MIN */
	double d = 0.1, nd = -2.5e-300;
	float f = 0.3f;

	memset(&e, 0, sizeof(e));
	put(&e, RS_TYPE_TINY, false, &tiny, 1);
	mysql_put_u16(v, 65535);
	put(&e, RS_TYPE_SHORT, true, v, 2);
	put(&e, RS_TYPE_LONGLONG, false, &big, 8);
	put(&e, RS_TYPE_DOUBLE, false, &d, 8);
	put(&e, RS_TYPE_FLOAT, false, &f, 4);
	put(&e, RS_TYPE_DOUBLE, false, &nd, 8);
	put_str(&e, RS_TYPE_NEWDECIMAL, "-12.50", 6);
	put_str(&e, RS_TYPE_NEWDECIMAL, "+7", 2);
	/* DATE 2024-02-29 */
	uint8_t date[] = {4, 0xe8, 0x07, 2, 29};
	put(&e, RS_TYPE_DATE, false, date, sizeof(date));
	/* DATETIME 2023-05-01 12:00:07.000500 */
	uint8_t dtm[] = {11, 0xe7, 0x07, 5, 1, 12, 0, 7, 0xf4, 0x01, 0, 0};
	put(&e, RS_TYPE_DATETIME, false, dtm, sizeof(dtm));
	/* TIME -(1 day 10:20:30) */
	uint8_t tm[] = {8, 1, 1, 0, 0, 0, 10, 20, 30};
	put(&e, RS_TYPE_TIME, false, tm, sizeof(tm));
	put_str(&e, RS_TYPE_BLOB, "\0\\'", 3);
	put_str(&e, RS_TYPE_VAR_STRING, "it's", 4);
	put(&e, RS_TYPE_LONG, false, NULL, 0);
	/* DATETIME with no bytes: the zero date */
	uint8_t zero[] = {0};
	put(&e, RS_TYPE_TIMESTAMP, false, zero, 1);
	finish(&e, &ex);

	sql_arena_init(&a, 0);
	cr_assert_eq(stmt_bind_values(e.p, e.len, (uint16_t)e.n, &ex,
				      e.p + ex.types_off, &a, &b), 0);
	expect(&b[0], SQL_LIT_INT, true, "5", NULL);
	expect(&b[1], SQL_LIT_INT, false, "65535", NULL);
	expect(&b[2], SQL_LIT_INT, true, "9223372036854775808", NULL);
	expect(&b[3], SQL_LIT_FLOAT, false, "0.10000000000000001e0", NULL);
	/* a FLOAT is widened to the double it is, as the server does */
	expect(&b[4], SQL_LIT_FLOAT, false, "0.30000001192092896e0", NULL);
	expect(&b[5], SQL_LIT_FLOAT, true, "2.5e-300", NULL);
	expect(&b[6], SQL_LIT_DECIMAL, true, "12.50", NULL);
	expect(&b[7], SQL_LIT_DECIMAL, false, "7.", NULL);
	expect(&b[8], SQL_LIT_DATE, false, "2024-02-29", NULL);
	expect(&b[9], SQL_LIT_TIMESTAMP, false, "2023-05-01 12:00:07.000500",
	       NULL);
	expect(&b[10], SQL_LIT_TIME, false, "-34:20:30", NULL);
	cr_assert_eq(b[11].lit, SQL_LIT_STRING);
	cr_assert_eq(b[11].text.len, 3);
	cr_assert_eq(memcmp(b[11].text.ptr, "\0\\'", 3), 0);
	cr_assert_eq(b[11].charset.len, 6, "_binary");
	expect(&b[12], SQL_LIT_STRING, false, "it's", NULL);
	expect(&b[13], SQL_LIT_NULL, false, "NULL", NULL);
	expect(&b[14], SQL_LIT_TIMESTAMP, false, "0000-00-00 00:00:00", NULL);
	sql_arena_free(&a);
}

Test(stmt_bind, values_without_a_literal_of_the_same_meaning)
{
	static struct exec_pkt e;
	struct stmt_execute ex;
	struct sql_arena a;
	const struct sql_bind *b;
	double inf = 1.0 / 0.0;
	uint8_t month13[] = {4, 0xe8, 0x07, 13, 1};
	uint8_t t900[] = {8, 0, 37, 0, 0, 0, 12, 0, 0};     /* 900 hours */

	memset(&e, 0, sizeof(e));
	put(&e, RS_TYPE_DOUBLE, false, &inf, 8);
	put_str(&e, RS_TYPE_NEWDECIMAL, "1e5", 3);
	put(&e, RS_TYPE_DATE, false, month13, sizeof(month13));
	put(&e, RS_TYPE_TIME, false, t900, sizeof(t900));
	put_str(&e, RS_TYPE_STRING, "ok", 2);
	finish(&e, &ex);
	sql_arena_init(&a, 0);
	cr_assert_eq(stmt_bind_values(e.p, e.len, (uint16_t)e.n, &ex,
				      e.p + ex.types_off, &a, &b), 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(b[i].lit, 0, "value %d", i);
	expect(&b[4], SQL_LIT_STRING, false, "ok", NULL);
	/* a truncated packet is malformed */
	cr_assert_eq(stmt_bind_values(e.p, e.len - 1, (uint16_t)e.n, &ex,
				      e.p + ex.types_off, &a, &b), -1);
	/* INT24 and YEAR: the server reads them as strings; not read */
	memset(&e, 0, sizeof(e));
	put(&e, RS_TYPE_YEAR, false, "\xe8\x07", 2);
	finish(&e, &ex);
	cr_assert_eq(stmt_bind_values(e.p, e.len, (uint16_t)e.n, &ex,
				      e.p + ex.types_off, &a, &b), -1);
	sql_arena_free(&a);
}

/* sql parsed with binds and printed for reading rd. */
static void printed_n(const char *sql, const struct sql_bind *bind,
		      unsigned n, const struct sql_reading *rd, const char *want,
		      size_t want_len, unsigned kept)
{
	struct sql_arena a;
	struct sql_tree t;
	struct sql_parse_opts po = { .rd = rd, .bind = bind, .nbind = n };
	struct sql_print_opts pr = { .rd = rd, .sql = sql,
				     .flags = SQL_PRINT_KEEP_NAMES };
	struct sql_buf b = { 0 };

	sql_arena_init(&a, 0);
	cr_assert_eq(sql_parse(&a, sql, strlen(sql), &po, &t), SQL_PARSE_OK,
		     "%s", sql);
	cr_assert_eq(t.nparams, n);
	cr_assert_eq(t.nkept, kept, "%s: %u kept", sql, t.nkept);
	cr_assert_eq(sql_print(&b, t.stmt, &pr), SQL_PRINT_OK, "%s", sql);
	cr_assert_eq(b.len, want_len, "%.*s\nwant %s", (int)b.len, b.buf,
		     want);
	cr_assert_eq(memcmp(b.buf, want, b.len), 0, "%.*s\nwant %s",
		     (int)b.len, b.buf, want);
	sql_buf_free(&b);
	sql_arena_free(&a);
}

/* want: a string literal (it may hold NUL bytes) */
#define printed(sql, bind, n, rd, want, kept) \
	printed_n(sql, bind, n, rd, want, sizeof(want) - 1, kept)

#define STR(s) { SQL_LIT_STRING, 0, { s, sizeof(s) - 1 }, { 0 } }
#define INT(s, neg) { SQL_LIT_INT, (neg) ? SQL_EF_NEG : 0, \
		      { s, sizeof(s) - 1 }, { 0 } }

Test(stmt_bind, values_are_written_for_the_sessions_reading)
{
	static const struct sql_reading dflt = { SQL_ESC_ALL, SQL_CS_BYTE,
						 SQL_SERVER_ANY, 0 };
	static const struct sql_reading nbe = { SQL_ESC_NONE, SQL_CS_BYTE,
						SQL_SERVER_ANY, 0 };
	static const struct sql_reading gbk = { SQL_ESC_ALL, SQL_CS_GBK,
						SQL_SERVER_ANY, 0 };
	const struct sql_bind v[] = {
		STR("a'b\\c\n"), INT("5", true),
		{ SQL_LIT_STRING, 0, { "\x00\x5c", 2 }, { "binary", 6 } },
	};
	const struct sql_bind g[] = { STR("\x95\x5c"), STR("\x95\x5c") };
	const char *sql = "SELECT a FROM t WHERE s = ? AND n > ? AND b = ?";

	printed(sql, v, 3, &dflt, "SELECT a FROM t WHERE s = 'a''b\\\\c\\n' "
		"AND n > -5 AND b = _binary'\\0\\\\'", 0);
	/* NO_BACKSLASH_ESCAPES: a backslash and a newline are themselves */
	printed(sql, v, 3, &nbe, "SELECT a FROM t WHERE s = 'a''b\\c\n' AND "
		"n > -5 AND b = _binary'\0\\'", 0);
	/* gbk: 0x95 0x5c is one character, its '\' not an escape */
	printed("SELECT ? FROM t WHERE s = ?", g, 2, &gbk,
		"SELECT '\x95\x5c' AS `?` FROM t WHERE s = '\x95\x5c'", 0);
}

Test(stmt_bind, markers_a_value_would_change_stay_markers)
{
	const struct sql_bind one[] = { INT("1", false), INT("2", false),
					INT("3", false), INT("4", false) };
	const struct sql_bind str[] = { STR("1"), STR("2") };

	/* ORDER BY 1 is the first column; ORDER BY ? a constant */
	printed("SELECT a, b FROM t GROUP BY ? ORDER BY ? + 0, ? LIMIT ?", one,
		4, NULL, "SELECT a, b FROM t GROUP BY ? ORDER BY ? + 0, ? "
		"LIMIT 4", 3);
	printed("SELECT a, b FROM t GROUP BY a + ? ORDER BY b - ? LIMIT ?",
		one, 3, NULL, "SELECT a, b FROM t GROUP BY a + 1 ORDER BY b - 2 "
		"LIMIT 3", 0);
	/* LIMIT takes integers only */
	printed("SELECT a FROM t WHERE a = ? LIMIT ?", str, 2, NULL,
		"SELECT a FROM t WHERE a = '1' LIMIT ?", 1);
}

/* An execution's values outlive the arena they were read into. */
Test(stmt_bind, copied_into_another_arena)
{
	struct sql_arena a, b;
	struct exec_pkt e = { 0 };
	struct stmt_execute ex;
	const struct sql_bind *v, *c;
	int64_t i = -42;

	put(&e, RS_TYPE_LONGLONG, false, &i, 8);
	put_str(&e, RS_TYPE_BLOB, "x'y", 3);
	put(&e, RS_TYPE_NULL, false, NULL, 0);
	finish(&e, &ex);
	sql_arena_init(&a, 0);
	sql_arena_init(&b, 0);
	cr_assert_eq(stmt_bind_values(e.p, e.len, (uint16_t)e.nparams, &ex,
				      e.types, &a, &v), 0);
	c = stmt_bind_copy(&b, v, e.nparams);
	cr_assert_not_null(c);
	sql_arena_free(&a);
	expect(&c[0], SQL_LIT_INT, true, "42", NULL);
	expect(&c[1], SQL_LIT_STRING, false, "x'y", "binary");
	expect(&c[2], SQL_LIT_NULL, false, "NULL", NULL);
	sql_arena_free(&b);
}
