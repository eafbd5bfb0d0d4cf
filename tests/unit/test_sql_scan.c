/*
 * The statement splitter and comment stripper (sql_scan.c): quotes and
 * escapes, every kind of comment, executable comments with and without
 * versions, empty statements, unterminated text, and the other readings
 * (sql_mode, multi-byte character sets, server versions) that make sure
 * every statement a server could run is seen.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_scan.h"

/* The statements joined by " | ": the primary reading's only (all false)
 * or every reading's. */
static char *join(const struct sql_split *sp, bool all)
{
	static char out[4096];
	size_t o = 0;
	unsigned n = all ? sp->n : sp->nprimary;

	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		const struct sql_stmt *st = &sp->stmts[i];
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s",
				      i ? " | " : "", (int)st->len, st->text);
	}
	return out;
}

static const char *primary(const char *sql)
{
	static struct sql_split sp;
	int rc;

	sql_split_free(&sp);
	rc = sql_split(&sp, sql, strlen(sql));
	cr_assert_eq(rc, SQL_SPLIT_OK, "split of [%s]: %d", sql, rc);
	return join(&sp, false);
}

static const char *every(const char *sql)
{
	static struct sql_split sp;
	int rc;

	sql_split_free(&sp);
	rc = sql_split(&sp, sql, strlen(sql));
	cr_assert_eq(rc, SQL_SPLIT_OK, "split of [%s]: %d", sql, rc);
	return join(&sp, true);
}

#define expect(fn, sql, want) do { \
	const char *got_ = fn(sql); \
	cr_expect_str_eq(got_, want, "%s of [%s]: [%s], want [%s]", #fn, sql, \
			 got_, want); \
} while (0)

Test(sql_scan, plain_statements_are_trimmed_and_split_on_top_level_semicolons)
{
	expect(primary, "SELECT 1", "SELECT 1");
	expect(primary, "  SELECT 1 ;  ", "SELECT 1");
	expect(primary, "SELECT 1; DROP TABLE t", "SELECT 1 | DROP TABLE t");
	expect(primary, "select 1;drop table t", "select 1 | drop table t");
	expect(primary, "SELECT 1;;  ;\n;SELECT 2;", "SELECT 1 | SELECT 2");
	expect(primary, "", "");
	expect(primary, " ; ; ", "");
	expect(primary, "\t\r\nSELECT\t1\n", "SELECT\t1");
}

Test(sql_scan, quotes_and_escapes_keep_their_text)
{
	expect(primary, "SELECT '/* not a comment */'",
	       "SELECT '/* not a comment */'");
	expect(primary, "SELECT 'a;b', \"c;d\", `e;f`",
	       "SELECT 'a;b', \"c;d\", `e;f`");
	expect(primary, "SELECT '# x', '-- y', \"/*+ z */\"",
	       "SELECT '# x', '-- y', \"/*+ z */\"");
	/* Escaped and doubled quotes do not end a string. */
	expect(primary, "SELECT 'it\\'s; x', 'it''s; y'; SELECT 2",
	       "SELECT 'it\\'s; x', 'it''s; y' | SELECT 2");
	expect(primary, "SELECT \"a\\\";b\"; SELECT 2",
	       "SELECT \"a\\\";b\" | SELECT 2");
	/* No backslash escapes in `names`; doubled back quotes. */
	expect(primary, "SELECT `a\\`; SELECT 2", "SELECT `a\\` | SELECT 2");
	expect(primary, "SELECT `a``;b`; SELECT 2", "SELECT `a``;b` | SELECT 2");
	/* Strings hold comment markers, comments hold quotes. */
	expect(primary, "SELECT 1 /* it's */; SELECT 2", "SELECT 1 | SELECT 2");
	expect(primary, "SELECT 1 # it's\n; SELECT 2", "SELECT 1 | SELECT 2");
}

Test(sql_scan, comments_become_one_space)
{
	expect(primary, "/* hi */ DROP TABLE t", "DROP TABLE t");
	expect(primary, "/* hi */DROP/**/TABLE/*x*/t", "DROP TABLE t");
	expect(primary, "DROP -- why\nTABLE t", "DROP  TABLE t");
	expect(primary, "DROP # why\nTABLE t", "DROP  TABLE t");
	expect(primary, "# a\n-- b\n/* c */ DROP TABLE t -- d", "DROP TABLE t");
	/* Optimizer hints are comments to a rule. */
	expect(primary, "/*+ x */ DROP TABLE t", "DROP TABLE t");
	expect(primary, "SELECT /*+ MAX_EXECUTION_TIME(1) */ 1",
	       "SELECT   1");
	/* "--" is a comment only before white space, a control byte or
	 * the end. */
	expect(primary, "SELECT 1--1", "SELECT 1--1");
	expect(primary, "SELECT 1--\t1", "SELECT 1");
	expect(primary, "SELECT 1 --", "SELECT 1");
	expect(primary, "SELECT 1--x; DROP TABLE t", "SELECT 1--x | DROP TABLE t");
	/* Comments do not nest: the first "*" "/" closes. */
	expect(primary, "SELECT /* a /* b */ 1 */ 2", "SELECT   1 */ 2");
	/* ';' inside comments does not split. */
	expect(primary, "SELECT 1 /* ; DROP TABLE t */", "SELECT 1");
	expect(primary, "SELECT 1 -- ; DROP TABLE t\n", "SELECT 1");
}

Test(sql_scan, executable_comments_are_code)
{
	expect(primary, "/*!DROP*/ TABLE t", "DROP  TABLE t");
	expect(primary, "/*!50001 DROP TABLE t */", "DROP TABLE t");
	expect(primary, "/*M!100100 DROP TABLE t */", "DROP TABLE t");
	expect(primary, "/*M! DROP TABLE t */", "DROP TABLE t");
	expect(primary, "SELECT 1 /*!; DROP TABLE t */", "SELECT 1 | DROP TABLE t");
	/* Fewer than 5 digits are no version: they are code. */
	expect(primary, "/*!1 */ SELECT 5", "1   SELECT 5");
	/* A sixth digit is part of the version, a seventh is code. */
	expect(primary, "/*!1234567 x */", "7 x");
	/* A plain comment inside: skipped; its "*" "/" does not close the
	 * executable comment. */
	expect(primary, "/*! DROP /* c */ TABLE t */", "DROP   TABLE t");
	/* Quotes inside executable comments are code too. */
	expect(primary, "/*! SELECT '*/ ; x' */", "SELECT '*/ ; x'");
	/* "*" "/" outside an executable comment is not a marker. */
	expect(primary, "SELECT 2 */ 1", "SELECT 2 */ 1");
	/* Unterminated: code to the end. */
	expect(primary, "/*!50001 DROP TABLE t", "DROP TABLE t");
}

Test(sql_scan, unterminated_text_runs_to_the_end)
{
	expect(primary, "SELECT 1 /* ; DROP TABLE t", "SELECT 1");
	expect(primary, "SELECT 'a; DROP TABLE t", "SELECT 'a; DROP TABLE t");
	expect(primary, "SELECT \"a; DROP", "SELECT \"a; DROP");
	expect(primary, "SELECT `a; DROP", "SELECT `a; DROP");
	expect(primary, "SELECT 'a\\", "SELECT 'a\\");
	expect(primary, "SELECT 1 # ; DROP", "SELECT 1");
	expect(primary, "/", "/");
	expect(primary, "/*", "");
	expect(primary, "/*!", "");
	expect(primary, "'", "'");
}

Test(sql_scan, raw_spans_point_between_the_separators)
{
	struct sql_split sp;
	const char *sql = "SELECT 1; /* c */ UPDATE t SET a = 1 ;;";

	sql_split_init(&sp);
	cr_assert_eq(sql_split(&sp, sql, strlen(sql)), SQL_SPLIT_OK);
	cr_assert_eq(sp.nprimary, 2);
	cr_assert(sp.multi);
	cr_assert(sp.stripped);
	cr_assert_eq(sp.stmts[0].raw_start, 0);
	cr_assert_eq(sp.stmts[0].raw_end, 8);
	cr_assert_eq(sp.stmts[1].raw_start, 9);
	cr_assert_eq(sp.stmts[1].raw_end, strlen(sql) - 2);
	sql_split_free(&sp);
}

Test(sql_scan, nothing_is_copied_without_a_comment)
{
	struct sql_split sp;
	const char *sql = "SELECT 'a;b' FROM t WHERE x = \"c\"; SELECT 2";

	sql_split_init(&sp);
	cr_assert_eq(sql_split(&sp, sql, strlen(sql)), SQL_SPLIT_OK);
	cr_assert_not(sp.stripped);
	cr_assert_eq(sp.readings, 1);
	cr_assert_eq(sp.n, 2);
	cr_assert_eq(sp.stmts[0].text, sql);
	cr_assert_eq(sp.stmts[1].text, sql + 35);
	cr_assert(sp.multi);
	sql_split_free(&sp);
}

/*
 * Readings.  Each of these was checked against MariaDB 10.11 through
 * Connector/C with CLIENT_MULTI_STATEMENTS: the server ran the second
 * statement.
 */
Test(sql_scan, no_backslash_escapes_and_ansi_quotes_are_read_too)
{
	/* SET sql_mode='NO_BACKSLASH_ESCAPES'; SELECT 'a\'; DROP ...; -- ' */
	expect(primary, "SELECT 'a\\'; DROP TABLE t; -- '",
	       "SELECT 'a\\'; DROP TABLE t; -- '");
	expect(every, "SELECT 'a\\'; DROP TABLE t; -- '",
	       "SELECT 'a\\'; DROP TABLE t; -- ' | SELECT 'a\\' | DROP TABLE t");
	/* ANSI_QUOTES: "..." is a name, where '\' is ordinary. */
	expect(every, "SELECT 1 AS \"a\\\"; DROP TABLE t; -- \"",
	       "SELECT 1 AS \"a\\\"; DROP TABLE t; -- \" | SELECT 1 AS \"a\\\" | "
	       "DROP TABLE t");
	/* A backslash only in a name changes nothing: one reading. */
	struct sql_split sp;
	sql_split_init(&sp);
	cr_assert_eq(sql_split(&sp, "SELECT `a\\b`", 12), SQL_SPLIT_OK);
	cr_assert_eq(sp.readings, 1);
	sql_split_free(&sp);
}

Test(sql_scan, multibyte_charsets_are_read_too)
{
	/* gbk: 0xBF 0x60 is one character, so no name opens there. */
	expect(every, "SELECT 1 AS \xbf`; DROP TABLE t; -- `",
	       "SELECT 1 AS \xbf`; DROP TABLE t; -- ` | SELECT 1 AS \xbf` | "
	       "DROP TABLE t");
	/* gbk: 0xBF 0x5C is one character, so it escapes nothing. */
	expect(every, "SELECT '\xbf\\'; DROP TABLE t; -- '",
	       "SELECT '\xbf\\'; DROP TABLE t; -- ' | SELECT '\xbf\\' | "
	       "DROP TABLE t");
	/* sjis: 0x81 leads, 0xA1 is a character of its own; big5 and gbk
	 * pair 0xA1 0x60. */
	struct sql_split sp;
	struct sql_reading sjis = { SQL_ESC_ALL, SQL_CS_SJIS, SQL_SERVER_ANY, 0 };
	struct sql_reading big5 = { SQL_ESC_ALL, SQL_CS_BIG5, SQL_SERVER_ANY, 0 };
	const char *a1 = "SELECT 1 AS \xa1`; DROP TABLE t; -- `";
	sql_split_init(&sp);
	cr_assert_eq(sql_split_reading(&sp, a1, strlen(a1), &sjis), 0);
	cr_assert_eq(sp.n, 1);
	cr_assert_eq(sql_split_reading(&sp, a1, strlen(a1), &big5), 0);
	cr_assert_eq(sp.n, 2);
	/* Plain ASCII and UTF-8 text has one reading. */
	const char *utf8 = "SELECT 'h\xc3\xa9llo', `na\xc3\xafve` FROM t";
	cr_assert_eq(sql_split(&sp, utf8, strlen(utf8)), 0);
	cr_assert_eq(sp.readings, 1);
	sql_split_free(&sp);
}

Test(sql_scan, version_conditional_comments_are_read_both_ways)
{
	/* MariaDB skips "/ *!" comments of versions 50700..99999, so the
	 * DROP is the whole statement there. */
	expect(primary, "/*!50700 SELECT 1, */ DROP TABLE t",
	       "SELECT 1,   DROP TABLE t");
	expect(every, "/*!50700 SELECT 1, */ DROP TABLE t",
	       "SELECT 1,   DROP TABLE t | DROP TABLE t");
	/* A server older than the comment skips it. */
	expect(every, "/*M!999999 SELECT 1, */ DROP TABLE t",
	       "SELECT 1,   DROP TABLE t | DROP TABLE t");
	/* Mixed versions: MariaDB 10.x skips the first and runs the
	 * second; neither all-code nor all-comment shows the DROP alone.
	 * (MySQL reads "/ *!100000" as version 10000 and a "0": it runs
	 * both, like the primary reading.) */
	expect(every, "/*!50700 SELECT 1, */ /*!100000 DROP TABLE t */",
	       "SELECT 1,     DROP TABLE t | DROP TABLE t");
	/* A skipped comment may hold one plain comment. */
	expect(every, "/*!99999 x /* y */ z */ DROP TABLE t",
	       "x   z   DROP TABLE t | DROP TABLE t");
	/* MySQL reads "/ *M!" as a plain comment, which the first "* /"
	 * ends; MariaDB skips it with one comment nested inside, or runs it.
	 * Only MySQL runs this DROP. */
	expect(every, "SELECT 1 /*M!999999 ' /* x */ ; DROP TABLE t; -- ' */",
	       "SELECT 1   ' /* x */ ; DROP TABLE t; -- ' | SELECT 1 | "
	       "DROP TABLE t");
	/* A comment that only one reading sees is read every way too: the
	 * string hides the second comment unless the first is skipped. */
	expect(every, "/*!50700 ' */ /*!100000 DROP TABLE t */ '",
	       "' */ /*!100000 DROP TABLE t */ ' | ' | DROP TABLE t   '");
}

Test(sql_scan, too_many_versions_give_up)
{
	struct sql_split sp;
	char sql[2048];
	size_t o = 0;

	for (unsigned v = 0; v <= SQL_MAX_CLASSES; v++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o,
				      "/*!%u x */ ", 50000 + v);
	sql_split_init(&sp);
	cr_assert_eq(sql_split(&sp, sql, o), SQL_SPLIT_AMBIGUOUS);
	cr_assert_eq(sp.n, 0);
	/* A few are fine, and the scratch is reused. */
	cr_assert_eq(sql_split(&sp, sql, 40), SQL_SPLIT_OK);
	cr_assert_gt(sp.n, 0);
	sql_split_free(&sp);
}

/* Readings keep only the statements no earlier reading has, so memory
 * grows with what differs; readings that differ all the way cost a copy
 * each, and past SQL_MAX_COPIES of them the split gives up. */
Test(sql_scan, readings_cost_only_what_differs)
{
	struct sql_split sp;
	size_t cap = 200000, o = 0;
	char *sql = malloc(cap);

	cr_assert(sql);
	o += (size_t)snprintf(sql + o, cap - o, "/*!50700 x */ SELECT 0");
	while (o < cap - 64)
		o += (size_t)snprintf(sql + o, cap - o, "; SELECT %zu", o);
	sql_split_init(&sp);
	cr_assert_eq(sql_split(&sp, sql, o), SQL_SPLIT_OK);
	cr_assert_eq(sp.readings, 2);
	cr_assert_eq(sp.n, sp.nprimary + 1, "only statement 0 differs");
	cr_assert_lt(sp.buf_len, o + 64, "one copy, not two: %zu", sp.buf_len);

	/* Eight versions, each reading a different text all the way. */
	o = 0;
	for (unsigned v = 1; v <= 8; v++)
		o += (size_t)snprintf(sql + o, cap - o, "/*!5000%u x */ ", v);
	memset(sql + o, 'a', cap - o);
	cr_assert_eq(sql_split(&sp, sql, cap), SQL_SPLIT_AMBIGUOUS);
	/* The same with a short tail fits. */
	cr_assert_eq(sql_split(&sp, sql, o + 1000), SQL_SPLIT_OK);
	cr_assert_gt(sp.n, 8);
	sql_split_shrink(&sp, 1024);
	cr_assert_null(sp.buf);
	cr_assert_eq(sql_split(&sp, "SELECT 1", 8), SQL_SPLIT_OK);
	sql_split_free(&sp);
	free(sql);
}

Test(sql_scan, lexical_facts)
{
	const unsigned char *s = (const unsigned char *)"/*!50001 x */";
	struct sql_opener o;

	sql_open_comment(s, s + 13, &o);
	cr_assert_eq(o.kind, SQL_OPEN_EXEC);
	cr_assert_eq(o.version, 50001);
	cr_assert_eq(o.digits, 5);
	cr_assert_eq(o.body, s + 8);
	s = (const unsigned char *)"/*M!100100x*/";
	sql_open_comment(s, s + 13, &o);
	cr_assert(o.mariadb);
	cr_assert_eq(o.version, 100100);
	cr_assert_eq(o.body, s + 10);
	s = (const unsigned char *)"/*!1234 */";
	sql_open_comment(s, s + 10, &o);
	cr_assert_eq(o.digits, 0);
	cr_assert_eq(o.body, s + 3);
	s = (const unsigned char *)"/*+ h */";
	sql_open_comment(s, s + 8, &o);
	cr_assert_eq(o.kind, SQL_OPEN_HINT);
	s = (const unsigned char *)"/* c */";
	sql_open_comment(s, s + 7, &o);
	cr_assert_eq(o.kind, SQL_OPEN_COMMENT);
	s = (const unsigned char *)"--";
	cr_assert(sql_is_dash_comment(s, s + 2));
	s = (const unsigned char *)"--1";
	cr_assert_not(sql_is_dash_comment(s, s + 3));
	s = (const unsigned char *)"'a''b\\'c' x";
	cr_assert_eq(sql_quoted_end(s, s + 11, true), s + 9);
	cr_assert_eq(sql_quoted_end(s, s + 11, false), s + 7);
}
