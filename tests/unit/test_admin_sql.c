/*
 * The admin SQL subset: every statement form, the expression grammar and
 * its bounds, every error path of the parser; and the engine (select
 * list, WHERE, ORDER BY, aggregates, LIMIT, system variables) read back
 * from the result-set packets it writes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_engine.h"
#include "admin_sql.h"

static struct admin_stmt st;
static char err[512];

static int parse(const char *sql)
{
	return admin_parse(sql, strlen(sql), &st, err, sizeof(err));
}

static const char *item_name(unsigned i)
{
	return admin_text(&st, st.items[i].name);
}

/* ---- statements --------------------------------------------------------- */

Test(admin_sql, statements)
{
	static const struct {
		const char *sql;
		enum admin_kind kind;
		int show;
	} ok[] = {
		{"SHOW STATS", ADMIN_SHOW, SHOW_STATS},
		{"show stats;", ADMIN_SHOW, SHOW_STATS},
		{"  SHOW /* c */ STATUS  ", ADMIN_SHOW, SHOW_STATS},
		{"SHOW GLOBAL STATUS LIKE 'conn%'", ADMIN_SHOW, SHOW_STATS},
		{"SHOW CONFIG", ADMIN_SHOW, SHOW_CONFIG},
		{"show tables", ADMIN_SHOW, SHOW_TABLES},
		{"SHOW TABLES FROM stats", ADMIN_SHOW, SHOW_TABLES},
		{"SHOW FULL TABLES IN information_schema LIKE 'T%'", ADMIN_SHOW,
		 SHOW_TABLES},
		{"SHOW TABLE STATUS FROM stats WHERE Name = 'rules'", ADMIN_SHOW,
		 SHOW_TABLE_STATUS},
		{"show databases", ADMIN_SHOW, SHOW_DATABASES},
		{"SHOW SCHEMAS LIKE 's%'", ADMIN_SHOW, SHOW_DATABASES},
		{"SHOW VARIABLES", ADMIN_SHOW, SHOW_VARIABLES},
		{"SHOW SESSION VARIABLES LIKE 'lower_case_%'", ADMIN_SHOW,
		 SHOW_VARIABLES},
		{"SHOW GLOBAL VARIABLES WHERE Variable_name = 'version'", ADMIN_SHOW,
		 SHOW_VARIABLES},
		{"SHOW COLUMNS FROM digests", ADMIN_SHOW, SHOW_COLUMNS},
		{"SHOW FULL FIELDS IN `rules` FROM stats LIKE 'n%'", ADMIN_SHOW,
		 SHOW_COLUMNS},
		{"DESCRIBE stats.workers", ADMIN_SHOW, SHOW_COLUMNS},
		{"desc workers 'b%'", ADMIN_SHOW, SHOW_COLUMNS},
		{"SHOW INDEX FROM stats.digests", ADMIN_SHOW, SHOW_INDEX},
		{"SHOW KEYS IN digests", ADMIN_SHOW, SHOW_INDEX},
		{"SHOW CREATE TABLE stats.rules", ADMIN_SHOW, SHOW_CREATE_TABLE},
		{"SHOW PROCESSLIST", ADMIN_SHOW, SHOW_PROCESSLIST},
		{"SHOW FULL PROCESSLIST;", ADMIN_SHOW, SHOW_PROCESSLIST},
		{"show shards", ADMIN_SHOW, SHOW_SHARDS},
		{"SHOW WARNINGS LIMIT 10", ADMIN_SHOW, SHOW_WARNINGS},
		{"SHOW ERRORS", ADMIN_SHOW, SHOW_WARNINGS},
		{"SHOW CHARACTER SET LIKE 'utf8%'", ADMIN_SHOW, SHOW_CHARSET},
		{"SHOW CHARSET", ADMIN_SHOW, SHOW_CHARSET},
		{"SHOW COLLATION WHERE Charset = 'utf8mb4'", ADMIN_SHOW,
		 SHOW_COLLATION},
		{"SHOW STORAGE ENGINES", ADMIN_SHOW, SHOW_ENGINES},
		{"SHOW ENGINES", ADMIN_SHOW, SHOW_ENGINES},
		{"RELOAD CONFIG", ADMIN_RELOAD_CONFIG, -1},
		{"reset stats ;", ADMIN_RESET_STATS, -1},
		{"USE information_schema", ADMIN_USE, -1},
		{"select @@version_comment limit 1", ADMIN_SELECT, -1},
		{"SELECT DATABASE()", ADMIN_SELECT, -1},
		{"SELECT 1", ADMIN_SELECT, -1},
		{"SELECT 1 FROM DUAL", ADMIN_SELECT, -1},
		{"SET NAMES utf8mb4", ADMIN_NOOP, -1},
		{"SET autocommit=1, sql_mode = concat(@@sql_mode, 'x')", ADMIN_NOOP, -1},
		{"BEGIN", ADMIN_NOOP, -1}, {"commit", ADMIN_NOOP, -1},
		{"ROLLBACK", ADMIN_NOOP, -1},
		{"START TRANSACTION", ADMIN_NOOP, -1},
		{"SELECT * FROM stats.digests", ADMIN_SELECT, -1},
		{"select count, fingerprint from digests", ADMIN_SELECT, -1},
		{"-- hi\nSELECT * FROM `stats`.`rules` # x", ADMIN_SELECT, -1},
		{"/* mysql-connector-java-8.0.33 */SELECT @@session.auto_increment_"
		 "increment AS auto_increment_increment", ADMIN_SELECT, -1},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(parse(ok[i].sql), 0, "'%s': %s", ok[i].sql, err);
		cr_assert_eq(st.kind, ok[i].kind, "'%s'", ok[i].sql);
		if (ok[i].show >= 0)
			cr_assert_eq((int)st.show, ok[i].show, "'%s'", ok[i].sql);
	}
}

Test(admin_sql, show_names_and_filters)
{
	cr_assert_eq(parse("SHOW FULL TABLES FROM information_schema"), 0);
	cr_assert(st.full);
	cr_assert_str_eq(admin_text(&st, st.db), "information_schema");
	cr_assert_eq(st.where, -1);
	cr_assert_eq(parse("SHOW FULL COLUMNS FROM stats.rules LIKE 'n%'"), 0);
	cr_assert_str_eq(admin_text(&st, st.db), "stats");
	cr_assert_str_eq(admin_text(&st, st.table), "rules");
	/* LIKE on the first column */
	const struct admin_expr *w = &st.nodes[st.where];
	cr_assert_eq(w->op, AX_LIKE);
	cr_assert_eq(st.nodes[w->a].op, AX_COLUMN_AT);
	cr_assert_eq(st.nodes[w->a].i, 0);
	cr_assert_str_eq(admin_text(&st, st.nodes[w->b].name), "n%");
	cr_assert_eq(parse("SHOW COLUMNS IN digests IN information_schema"), 0);
	cr_assert_str_eq(admin_text(&st, st.db), "information_schema");
	cr_assert_eq(parse("DESCRIBE `stats`.`digests` fingerprint"), 0);
	cr_assert_str_eq(admin_text(&st, st.table), "digests");
	cr_assert_str_eq(admin_text(&st, st.nodes[st.nodes[st.where].b].name),
			 "fingerprint");
	cr_assert_eq(parse("SHOW VARIABLES WHERE Variable_name IN ('a', 'b')"), 0);
	cr_assert_eq(st.nodes[st.where].op, AX_IN);
	cr_assert_eq(parse("USE `stats`"), 0);
	cr_assert_str_eq(admin_text(&st, st.db), "stats");
}

Test(admin_sql, select_clauses)
{
	cr_assert_eq(parse("SELECT a, b FROM stats.digests WHERE count >= -5 "
			   "ORDER BY sum_time_us DESC, b, 2 ASC LIMIT 10 OFFSET 3"),
		     0, "%s", err);
	cr_assert_str_eq(admin_text(&st, st.db), "stats");
	cr_assert_str_eq(admin_text(&st, st.table), "digests");
	cr_assert_eq(st.nitems, 2);
	cr_assert_str_eq(item_name(1), "b");
	const struct admin_expr *w = &st.nodes[st.where];
	cr_assert_eq(w->op, AX_GE);
	cr_assert_str_eq(admin_text(&st, st.nodes[w->a].name), "count");
	cr_assert_eq(st.nodes[w->b].op, AX_INT);
	cr_assert_eq(st.nodes[w->b].i, -5, "the literal is folded");
	cr_assert_eq(st.norder, 3);
	cr_assert(st.order[0].desc);
	cr_assert(!st.order[1].desc);
	cr_assert(!st.order[2].desc);
	cr_assert_eq(st.nodes[st.order[2].expr].op, AX_INT);
	cr_assert(st.has_limit);
	cr_assert_eq(st.limit, 10);
	cr_assert_eq(st.offset, 3);
	cr_assert_eq(parse("select * from rules where name like 'no-%' limit 5, 2"), 0);
	cr_assert_eq(st.nitems, 1);
	cr_assert_eq(st.items[0].expr, -1, "*");
	cr_assert_eq(st.nodes[st.where].op, AX_LIKE);
	cr_assert_eq(st.offset, 5);
	cr_assert_eq(st.limit, 2);
	cr_assert_eq(parse("SELECT t.*, `s`.`t`.* FROM stats.digests AS t"), 0);
	cr_assert_str_eq(admin_text(&st, st.items[0].qual), "t");
	cr_assert_str_eq(admin_text(&st, st.items[1].qdb), "s");
	cr_assert_str_eq(admin_text(&st, st.items[1].qual), "t");
	cr_assert_str_eq(admin_text(&st, st.alias), "t");
	cr_assert_eq(parse("SELECT d.count FROM digests d"), 0);
	cr_assert_str_eq(admin_text(&st, st.alias), "d");
	cr_assert_str_eq(admin_text(&st, st.nodes[st.items[0].expr].qual), "d");
	cr_assert_eq(parse("SELECT stats.digests.count FROM stats.digests"), 0);
	cr_assert_str_eq(admin_text(&st, st.nodes[st.items[0].expr].qdb), "stats");
}

/* Items are named by alias, column name, string value, else as written. */
Test(admin_sql, item_names_and_aliases)
{
	cr_assert_eq(parse("SELECT count AS c, `count` d, 1+1, 'lit', @@version "
			   "v2, NOW(), -5, USER() 'who', 'a' 'b', COUNT(*), "
			   "`x y` FROM t"), 0, "%s", err);
	static const char *const want[] = {"c", "d", "1+1", "lit", "v2",
					   "NOW()", "-5", "who", "ab", "COUNT(*)",
					   "x y"};
	cr_assert_eq(st.nitems, 11);
	for (unsigned i = 0; i < 11; i++)
		cr_assert_str_eq(item_name(i), want[i], "item %u", i);
	cr_assert(st.has_agg);
	cr_assert_eq(parse("SELECT 1 AS `from`, 2 AS 'where'"), 0, "%s", err);
	cr_assert_str_eq(item_name(0), "from");
	cr_assert_str_eq(item_name(1), "where");
	/* A reserved word after an item is not an alias. */
	cr_assert_eq(parse("SELECT 1 FROM DUAL"), 0);
	cr_assert_str_eq(item_name(0), "1");
}

/* The shape of an expression, as a string: (op a b) */
static void shape(int16_t n, char *out, size_t cap)
{
	static const char *const ops[] = {
		[AX_NULL] = "NULL", [AX_INT] = "int", [AX_DOUBLE] = "dbl",
		[AX_STRING] = "str", [AX_COLUMN] = "col", [AX_COLUMN_AT] = "at",
		[AX_VAR] = "var", [AX_FUNC] = "fn", [AX_AGG] = "agg",
		[AX_NEG] = "neg", [AX_NOT] = "not", [AX_ADD] = "+",
		[AX_SUB] = "-", [AX_MUL] = "*", [AX_DIV] = "/",
		[AX_INTDIV] = "div", [AX_MOD] = "%", [AX_EQ] = "=",
		[AX_NSEQ] = "<=>", [AX_NE] = "!=", [AX_LT] = "<", [AX_LE] = "<=",
		[AX_GT] = ">", [AX_GE] = ">=", [AX_AND] = "and", [AX_OR] = "or",
		[AX_XOR] = "xor", [AX_LIKE] = "like", [AX_IN] = "in",
		[AX_BETWEEN] = "between", [AX_ISNULL] = "isnull",
	};
	const struct admin_expr *x = &st.nodes[n];
	char a[256] = "", b[256] = "", c[256] = "";

	if (x->op == AX_COLUMN || x->op == AX_VAR) {
		snprintf(out, cap, "%s", admin_text(&st, x->name));
		return;
	}
	if (x->op == AX_INT) {
		snprintf(out, cap, "%lld", (long long)x->i);
		return;
	}
	if (x->a >= 0)
		shape(x->a, a, sizeof(a));
	if (x->b >= 0)
		shape(x->b, b, sizeof(b));
	if (x->c >= 0)
		shape(x->c, c, sizeof(c));
	snprintf(out, cap, "(%s%s%s%s%s%s%s%s)", x->negated ? "!" : "",
		 ops[x->op], a[0] ? " " : "", a, b[0] ? " " : "", b,
		 c[0] ? " " : "", c);
}

static const char *where_shape(const char *cond)
{
	static char out[512];
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT * FROM t WHERE %s", cond);
	cr_assert_eq(parse(sql), 0, "'%s': %s", sql, err);
	shape(st.where, out, sizeof(out));
	return out;
}

Test(admin_sql, precedence)
{
	static const struct { const char *in, *out; } cases[] = {
		{"a = 1 AND b = 2 OR c = 3", "(or (and (= a 1) (= b 2)) (= c 3))"},
		{"a = 1 OR b = 2 AND c = 3", "(or (= a 1) (and (= b 2) (= c 3)))"},
		{"(a = 1 OR b = 2) AND c = 3", "(and (or (= a 1) (= b 2)) (= c 3))"},
		{"NOT a = 1 AND b", "(and (not (= a 1)) b)"},
		{"NOT NOT a", "(not (not a))"},
		{"a || b && c", "(or a (and b c))"},
		{"a XOR b OR c", "(or (xor a b) c)"},
		{"a + 2 * 3 - 4 > 5", "(> (- (+ a (* 2 3)) 4) 5)"},
		{"a DIV 2 MOD 3 % 4 / 5", "(/ (% (% (div a 2) 3) 4) 5)"},
		{"- a", "(neg a)"},
		{"!a = 0", "(= (not a) 0)"},
		{"a NOT LIKE 'x%'", "(!like a (str))"},
		{"a IN (1, 2, 3)", "(in a 1)"},
		{"a NOT IN (1)", "(!in a 1)"},
		{"a BETWEEN 1 AND 2 AND b", "(and (between a 1 2) b)"},
		{"a NOT BETWEEN 1 + 1 AND 3", "(!between a (+ 1 1) 3)"},
		{"a IS NULL OR b IS NOT NULL", "(or (isnull a) (!isnull b))"},
		{"a <=> NULL", "(<=> a (NULL))"},
		{"@@session.autocommit = 1", "(= autocommit 1)"},
		{"a <> 1 AND a != 2", "(and (!= a 1) (!= a 2))"},
		{"t.a = 1", "(= a 1)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_str_eq(where_shape(cases[i].in), cases[i].out, "'%s'",
				 cases[i].in);
	/* IN lists chain through next */
	cr_assert_eq(parse("SELECT 1 IN (1, 2, 3)"), 0);
	const struct admin_expr *in = &st.nodes[st.items[0].expr];
	int n = 0;
	for (int16_t e = in->b; e >= 0; e = st.nodes[e].next)
		n++;
	cr_assert_eq(n, 3);
}

Test(admin_sql, strings_and_numbers)
{
	cr_assert_eq(parse("SELECT 'it''s', \"q\\\"x\", 'a\\nb', 'c\\%d\\_', "
			   "`we``ird`, 1.5, 1e3, 18446744073709551616, "
			   "9223372036854775807, 2.5e-1, 1E+2"), 0, "%s", err);
	cr_assert_eq(st.nodes[st.items[9].expr].d, 0.25);
	cr_assert_eq(st.nodes[st.items[10].expr].d, 100.0);
	cr_assert_str_eq(admin_text(&st, st.nodes[st.items[0].expr].name), "it's");
	cr_assert_str_eq(admin_text(&st, st.nodes[st.items[1].expr].name), "q\"x");
	cr_assert_str_eq(admin_text(&st, st.nodes[st.items[2].expr].name), "a\nb");
	cr_assert_str_eq(admin_text(&st, st.nodes[st.items[3].expr].name),
			 "c\\%d\\_", "LIKE escapes keep their backslash");
	cr_assert_str_eq(admin_text(&st, st.nodes[st.items[4].expr].name), "we`ird");
	cr_assert_eq(st.nodes[st.items[5].expr].op, AX_DOUBLE);
	cr_assert_eq(st.nodes[st.items[6].expr].d, 1000.0);
	cr_assert_eq(st.nodes[st.items[7].expr].op, AX_DOUBLE, "past BIGINT");
	cr_assert_eq(st.nodes[st.items[8].expr].op, AX_INT);
	cr_assert_eq(st.nodes[st.items[8].expr].i, INT64_MAX);
}

Test(admin_sql, errors_say_what_is_wrong)
{
	static const struct { const char *sql; const char *says; } bad[] = {
		{"DELETE FROM stats.digests", "SHOW STATS"},
		{"DROP TABLE x", "supported"},
		{"", "supported"},
		{"SHOW NONSENSE", "SHOW: expected"},
		{"SHOW PLUGINS", "SHOW: expected"},
		{"SHOW CHARACTER", "SHOW CHARACTER: expected SET"},
		{"SHOW STATS extra", "end of the statement"},
		{"SHOW FULL STATS", "SHOW FULL: expected"},
		{"SHOW GLOBAL TABLES", "SHOW GLOBAL/SESSION"},
		{"SHOW VARIABLES LIKE x", "quoted pattern"},
		{"SHOW COLUMNS digests", "expected FROM"},
		{"SHOW COLUMNS FROM", "expected a table name"},
		{"SHOW TABLE", "SHOW TABLE: expected STATUS"},
		{"SHOW CREATE DATABASE stats", "SHOW CREATE: expected TABLE"},
		{"SHOW PROCESSLIST LIKE 'x'", "end of the statement"},
		{"DESCRIBE", "expected a table name"},
		{"USE", "expected a database"},
		{"USE a b", "end of the statement"},
		{"RELOAD", "RELOAD: expected CONFIG"},
		{"RESET EVERYTHING", "RESET: expected STATS"},
		{"SELECT FROM stats.digests", "expected an expression, got 'FROM'"},
		{"SELECT a b c FROM t", "expected the end"},
		{"SELECT a FROM", "expected a table"},
		{"SELECT a FROM stats.", "after the database"},
		{"SELECT a FROM t WHERE", "expected an expression"},
		{"SELECT a FROM t WHERE a =", "expected an expression"},
		{"SELECT a FROM t WHERE a NOT 1", "expected the end"},
		{"SELECT a FROM t WHERE a IS 1", "IS: expected NULL"},
		{"SELECT a FROM t WHERE a IS NOT 1", "IS NOT: expected NULL"},
		{"SELECT a FROM t WHERE a IN 1", "IN: expected '('"},
		{"SELECT a FROM t WHERE a IN (1", "IN: expected ',' or ')'"},
		{"SELECT a FROM t WHERE a IN (SELECT 1)", "subqueries"},
		{"SELECT a FROM t WHERE a BETWEEN 1", "BETWEEN: expected AND"},
		{"SELECT a FROM t WHERE (a = 1", "expected ')'"},
		{"SELECT a FROM t ORDER a", "ORDER: expected BY"},
		{"SELECT a FROM t ORDER BY", "expected an expression"},
		{"SELECT a FROM t LIMIT x", "LIMIT: expected a number"},
		{"SELECT a FROM t LIMIT 1,", "row count"},
		{"SELECT a FROM t LIMIT 1 OFFSET", "OFFSET: expected"},
		{"SELECT a FROM t LIMIT 1.5", "LIMIT: expected a number"},
		{"SELECT a FROM t trailing junk", "end of the statement"},
		{"SELECT a FROM t, u", "joins are not supported"},
		{"SELECT a FROM t JOIN u", "joins are not supported"},
		{"SELECT a FROM t GROUP BY a", "GROUP BY"},
		{"SELECT DISTINCT a FROM t", "DISTINCT"},
		{"SELECT 'unterminated FROM t", "unterminated"},
		{"SELECT `unterminated", "unterminated"},
		{"SELECT 'trailing backslash\\", "unterminated"},
		{"SELECT", "expected an expression"},
		{"SELECT CONCAT('a', 'b')", "function CONCAT() is not supported"},
		{"SELECT NOW(6)", "NOW() takes no arguments"},
		{"SELECT COUNT(DISTINCT a) FROM t", "DISTINCT"},
		{"SELECT SUM(COUNT(*)) FROM t", "inside another aggregate"},
		{"SELECT a FROM t WHERE COUNT(*) > 1", "only supported in the select"},
		{"SELECT a FROM t ORDER BY MAX(a)", "only supported in the select"},
		{"SELECT @x", "user variables"},
		{"SELECT @@", "variable name"},
		{"SELECT 0x1F", "not a number"},
		{"SELECT 1abc", "not a number"},
		{"SELECT 1 AS", "AS: expected an alias"},
		{"SELECT 1 AS from", "AS: expected an alias"},
		{"SELECT CASE WHEN 1 THEN 2 END", "expected an expression, got 'CASE'"},
		{"SELECT ?", "expected an expression"},
		{"SELECT 1 +", "expected an expression, got the end"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i].sql), -1, "'%s' parsed", bad[i].sql);
		cr_assert(strstr(err, bad[i].says), "'%s': '%s' lacks '%s'", bad[i].sql,
			  err, bad[i].says);
		cr_assert(!strncmp(err, "myring admin: ", 14), "%s", err);
	}
}

/* Hostile input ends in an error, not a deep stack or an overflow. */
Test(admin_sql, bounds)
{
	static char sql[300000];
	size_t n;

	n = (size_t)sprintf(sql, "SELECT ");
	for (int i = 0; i < 100000; i++)
		sql[n++] = '(';
	sql[n] = '\0';
	cr_assert_eq(parse(sql), -1);
	cr_assert(strstr(err, "nested too deeply"), "%s", err);
	n = (size_t)sprintf(sql, "SELECT ");
	for (int i = 0; i < 60000; i++)
		n += (size_t)sprintf(sql + n, "NOT ");
	sprintf(sql + n, "1");
	cr_assert_eq(parse(sql), -1);
	cr_assert(strstr(err, "too many NOTs"), "%s", err);
	n = (size_t)sprintf(sql, "SELECT ");
	for (int i = 0; i < 100000; i++)
		sql[n++] = i % 2 ? '-' : '!';
	sprintf(sql + n, "1");
	cr_assert_eq(parse(sql), -1);
	cr_assert(strstr(err, "too many unary"), "%s", err);
	n = (size_t)sprintf(sql, "SELECT 1");
	for (int i = 0; i < 1000; i++)
		n += (size_t)sprintf(sql + n, "+1");
	cr_assert_eq(parse(sql), -1);
	cr_assert(strstr(err, "too complex"), "%s", err);
	n = (size_t)sprintf(sql, "SELECT '");
	for (int i = 0; i < 5000; i++)
		sql[n++] = 'x';
	sprintf(sql + n, "'");
	cr_assert_eq(parse(sql), -1);
	cr_assert(strstr(err, "too long"), "%s", err);
	n = (size_t)sprintf(sql, "SELECT 1");
	for (int i = 0; i < 70; i++)
		n += (size_t)sprintf(sql + n, ", 1");
	cr_assert_eq(parse(sql), -1);
	cr_assert(strstr(err, "more than 64 columns"), "%s", err);
	n = (size_t)sprintf(sql, "SELECT 1 ORDER BY 1");
	for (int i = 0; i < 20; i++)
		n += (size_t)sprintf(sql + n, ", 1");
	cr_assert_eq(parse(sql), -1);
	cr_assert(strstr(err, "more than 16 keys"), "%s", err);
	/* ... and what fits, fits. */
	n = (size_t)sprintf(sql, "SELECT ");
	for (int i = 0; i < 31; i++)
		sql[n++] = '(';
	sql[n++] = '1';
	for (int i = 0; i < 31; i++)
		sql[n++] = ')';
	sql[n] = '\0';
	cr_assert_eq(parse(sql), 0, "%s", err);
	/* The parser reads exactly len bytes: no terminator needed. */
	char *exact = malloc(8);
	memcpy(exact, "SELECT 1", 8);
	cr_assert_eq(admin_parse(exact, 8, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(admin_parse(exact, 7, &st, err, sizeof(err)), -1,
		     "'SELECT ' alone is incomplete");
	free(exact);
}

Test(admin_sql, like)
{
#define L(s, p) admin_like(s, strlen(s), p, strlen(p))
	cr_assert(L("SELECT ?", "select%"));
	cr_assert(L("abc", "a_c"));
	cr_assert(L("abc", "%"));
	cr_assert(L("", "%"));
	cr_assert(!L("abc", "ab"));
	cr_assert(L("xxabyyab", "%ab"));
	cr_assert(L("a%b", "a%b"));
	cr_assert(!L("abd", "%c%"));
	cr_assert(L("digest_entries", "digest\\_%"));
	cr_assert(!L("digestXentries", "digest\\_%"), "\\_ is a literal _");
	cr_assert(L("100%", "100\\%"));
	cr_assert(!L("1000", "100\\%"));
	cr_assert(L("a\\b", "a\\\\b"));
	cr_assert(!L("", "_"));
#undef L
}

/* ---- the engine, read back -------------------------------------------- */

#define MAXC 24
#define MAXR 64

struct rs {
	unsigned ncols, nrows;
	char names[MAXC][64];
	uint8_t types[MAXC];
	char cells[MAXR][MAXC][64];
};

static size_t lenenc(const uint8_t *p, size_t *q)
{
	size_t v = p[*q];
	(*q)++;
	if (v == 0xFC) {
		v = p[*q] | (size_t)p[*q + 1] << 8;
		*q += 2;
	}
	return v;
}

/* Result set (EOF style, no extended metadata) -> names, types, cells
 * as strings ("NULL" for NULL). */
static void read_rs(const struct pkt_buf *pb, struct rs *r)
{
	size_t off = 0;
	unsigned pkt = 0;
	bool in_rows = false;

	memset(r, 0, sizeof(*r));
	while (off < pb->len) {
		size_t n = mysql_get_u24(pb->data + off), q = 0;
		const uint8_t *p = pb->data + off + 4;
		if (pkt == 0) {
			r->ncols = p[0];
		} else if (p[0] == 0xFE && n < 9) {
			if (in_rows)
				break;
			in_rows = true;
		} else if (!in_rows) {
			unsigned c = pkt - 1;
			for (int f = 0; f < 4; f++)   /* catalog .. org_table */
				q += lenenc(p, &q);
			size_t l = lenenc(p, &q);
			snprintf(r->names[c], 64, "%.*s", (int)l, (const char *)p + q);
			q += l;
			q += lenenc(p, &q);          /* org_name */
			r->types[c] = p[q + 7];
		} else {
			for (unsigned c = 0; c < r->ncols; c++) {
				if (p[q] == 0xFB) {
					strcpy(r->cells[r->nrows][c], "NULL");
					q++;
				} else {
					size_t l = lenenc(p, &q);
					snprintf(r->cells[r->nrows][c], 64, "%.*s",
						 (int)l, (const char *)p + q);
					q += l;
				}
			}
			r->nrows++;
		}
		off += 4 + n;
		pkt++;
	}
}

static const char *const names[] = {"name", "count", "avg", "delta"};
static const enum admin_col_type types[] = {ADMIN_COL_TEXT, ADMIN_COL_UINT,
					    ADMIN_COL_DOUBLE, ADMIN_COL_INT};
static struct admin_value cells[5 * 4];
static const char *const row_names[] = {"bravo", "alpha", "delta", "charlie", "echo"};
static const uint64_t row_counts[] = {20, 30, 10, 30, 5};
static const int64_t row_deltas[] = {-1, 2, 3, 2, 1};

static struct admin_table table(void)
{
	for (int r = 0; r < 5; r++) {
		admin_value_set_text(&cells[r * 4], row_names[r], strlen(row_names[r]));
		admin_value_set_uint(&cells[r * 4 + 1], row_counts[r]);
		if (r == 4)
			admin_value_set_null(&cells[r * 4 + 2]);
		else
			admin_value_set_double(&cells[r * 4 + 2], r * 1.5);
		admin_value_set_int(&cells[r * 4 + 3], row_deltas[r]);
	}
	return (struct admin_table){"t", names, types, 4, cells, 5};
}

static const struct admin_ctx ctx = {
	.user = "admin", .host = "10.0.0.7", .db = "stats",
	.version = "8.0.99-myring-test-admin", .conn_id = 42,
	.now = 86400 * 365 + 3723,   /* 1971-01-01 01:02:03 UTC */
	.max_packet = 1048576, .port = 6032,
};

static struct admin_err aerr;
static struct rs res;

/* Runs sql over the test table (or none): 0, or the error code. */
static int run_on(const struct admin_table *t, const char *sql)
{
	struct pkt_buf pb;
	int rc;

	cr_assert_eq(parse(sql), 0, "'%s': %s", sql, err);
	pkt_buf_init(&pb);
	rc = admin_select(t, &st, &ctx, &pb, CLIENT_PROTOCOL_41, &aerr);
	if (rc) {
		cr_assert_eq(pb.len, 0, "nothing written on error");
		cr_assert(!strncmp(aerr.msg, "myring admin: ", 14), "%s", aerr.msg);
		pkt_buf_free(&pb);
		return aerr.code;
	}
	read_rs(&pb, &res);
	pkt_buf_free(&pb);
	return 0;
}

static int run(const char *sql)
{
	struct admin_table t = table();
	return run_on(&t, sql);
}

/* The first column of every row, joined with ','. */
static const char *col0(void)
{
	static char out[512];

	out[0] = '\0';
	for (unsigned r = 0; r < res.nrows; r++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
			 r ? "," : "", res.cells[r][0]);
	return out;
}

Test(admin_engine, project_filter_order_limit)
{
	cr_assert_eq(run("SELECT name FROM t ORDER BY count DESC"), 0);
	cr_assert_eq(res.ncols, 1);
	cr_assert_str_eq(col0(), "alpha,charlie,bravo,delta,echo",
			 "ties keep table order");
	cr_assert_eq(run("SELECT name, avg FROM t ORDER BY avg"), 0);
	cr_assert_str_eq(res.cells[0][1], "NULL", "NULL sorts first ascending");
	cr_assert_str_eq(res.cells[4][1], "4.5");
	cr_assert_eq(run("SELECT * FROM t ORDER BY name LIMIT 2 OFFSET 1"), 0);
	cr_assert_eq(res.ncols, 4);
	cr_assert_str_eq(col0(), "bravo,charlie");
	cr_assert_str_eq(res.cells[0][1], "20");
	cr_assert_str_eq(res.cells[0][3], "-1");
	cr_assert_eq(run("SELECT name FROM t LIMIT 0"), 0);
	cr_assert_eq(res.nrows, 0);
	cr_assert_eq(run("SELECT name FROM t LIMIT 10, 5"), 0);
	cr_assert_eq(res.nrows, 0);
	static const struct { const char *where, *names; } w[] = {
		{"count = 30", "alpha,charlie"},
		{"count > 10", "bravo,alpha,charlie"},
		{"count <= 10", "delta,echo"},
		{"count != 30", "bravo,delta,echo"},
		{"name = 'ALPHA'", "alpha"},
		{"name = 'alpha   '", "alpha"},
		{"name LIKE '%a'", "alpha,delta"},
		{"name < 'c'", "bravo,alpha"},
		{"avg >= 3", "delta,charlie"},
		{"count LIKE '3%'", "alpha,charlie"},
		{"delta < 0", "bravo"},
		{"count = 30 AND name LIKE 'c%'", "charlie"},
		{"count = 30 OR delta = 3", "alpha,delta,charlie"},
		{"NOT (count = 30 OR delta = 3)", "bravo,echo"},
		{"count IN (5, 10, '20')", "bravo,delta,echo"},
		{"name NOT IN ('alpha', 'echo')", "bravo,delta,charlie"},
		{"count NOT IN (30, NULL)", ""},
		{"count BETWEEN 10 AND 20", "bravo,delta"},
		{"count NOT BETWEEN 10 AND 20", "alpha,charlie,echo"},
		{"avg IS NULL", "echo"},
		{"avg IS NOT NULL AND delta = 2", "alpha,charlie"},
		{"avg > 1 XOR delta = 2", "delta"},
		{"avg <=> NULL", "echo"},
		{"count * 2 + delta = 62", "alpha,charlie"},
		{"count / 4 = 2.5", "delta"},
		{"count % 7 = 2 OR count MOD 7 = 3", "alpha,delta,charlie"},
		{"count DIV 7 = 2", "bravo"},
		{"-delta = 1", "bravo"},
		{"1", "bravo,alpha,delta,charlie,echo"},
		{"NULL", ""},
		{"t.count = 5", "echo"},
		{"name", ""},
		{"'1'", "bravo,alpha,delta,charlie,echo"},
	};
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		char sql[256];
		snprintf(sql, sizeof(sql), "SELECT name FROM t WHERE %s", w[i].where);
		cr_assert_eq(run(sql), 0, "%s: %s", sql, aerr.msg);
		cr_assert_str_eq(col0(), w[i].names, "%s", sql);
	}
}

Test(admin_engine, order_by_several_keys_aliases_positions)
{
	cr_assert_eq(run("SELECT name, count FROM t ORDER BY count DESC, name DESC"), 0);
	cr_assert_str_eq(col0(), "charlie,alpha,bravo,delta,echo");
	cr_assert_eq(run("SELECT name, count FROM t ORDER BY count, name DESC"), 0);
	cr_assert_str_eq(col0(), "echo,delta,bravo,charlie,alpha");
	cr_assert_eq(run("SELECT name, delta AS d FROM t ORDER BY d DESC, 1"), 0);
	cr_assert_str_eq(col0(), "delta,alpha,charlie,echo,bravo");
	cr_assert_eq(run("SELECT name n, count c FROM t ORDER BY 2 ASC, n"), 0);
	cr_assert_str_eq(col0(), "echo,delta,bravo,alpha,charlie");
	cr_assert_str_eq(res.names[0], "n");
	cr_assert_str_eq(res.names[1], "c");
	cr_assert_eq(run("SELECT * FROM t ORDER BY 4 DESC, 2 DESC"), 0);
	cr_assert_str_eq(col0(), "delta,alpha,charlie,echo,bravo");
	cr_assert_eq(run("SELECT name FROM t ORDER BY count * -1 + delta"), 0);
	cr_assert_str_eq(col0(), "alpha,charlie,bravo,delta,echo");
	cr_assert_eq(run("SELECT name FROM t ORDER BY t.count, `name` DESC"), 0);
	cr_assert_str_eq(col0(), "echo,delta,bravo,charlie,alpha");
	cr_assert_eq(run("SELECT name FROM t ORDER BY 2"), 1054);
	cr_assert(strstr(aerr.msg, "'2' in 'order clause'"), "%s", aerr.msg);
	cr_assert_eq(run("SELECT name FROM t ORDER BY nope"), 1054);
}

Test(admin_engine, aggregates)
{
	cr_assert_eq(run("SELECT COUNT(*), COUNT(avg), SUM(count), AVG(count), "
			 "MIN(name), MAX(name), MIN(avg), MAX(delta), SUM(avg) "
			 "FROM t"), 0, "%s", aerr.msg);
	cr_assert_eq(res.nrows, 1);
	static const char *const want[] = {"5", "4", "95", "19", "alpha", "echo",
					   "0", "3", "9"};
	for (unsigned i = 0; i < 9; i++)
		cr_assert_str_eq(res.cells[0][i], want[i], "column %u (%s)", i,
				 res.names[i]);
	cr_assert_str_eq(res.names[0], "COUNT(*)");
	cr_assert_eq(run("SELECT COUNT(*) AS n, SUM(count) / COUNT(*) avg_count, "
			 "MAX(count) - MIN(count) FROM t WHERE name <> 'echo'"), 0);
	cr_assert_str_eq(res.cells[0][0], "4");
	cr_assert_str_eq(res.cells[0][1], "22.5");
	cr_assert_str_eq(res.cells[0][2], "20");
	cr_assert_eq(run("SELECT COUNT(*), SUM(count), MAX(name), AVG(delta) FROM t "
			 "WHERE count > 100"), 0);
	cr_assert_str_eq(res.cells[0][0], "0");
	cr_assert_str_eq(res.cells[0][1], "NULL");
	cr_assert_str_eq(res.cells[0][2], "NULL");
	cr_assert_str_eq(res.cells[0][3], "NULL");
	cr_assert_eq(run("SELECT COUNT(*) FROM t LIMIT 0"), 0);
	cr_assert_eq(res.nrows, 0);
	cr_assert_eq(run_on(NULL, "SELECT COUNT(*)"), 0);
	cr_assert_str_eq(res.cells[0][0], "1", "one row without FROM");
	cr_assert_eq(run("SELECT COUNT(*), name FROM t"), 1140);
	cr_assert(strstr(aerr.msg, "'name'"), "%s", aerr.msg);
	cr_assert_eq(run("SELECT *, COUNT(*) FROM t"), 1140);
	cr_assert_eq(run("SELECT COUNT(*) FROM t ORDER BY nope"), 1054);
	cr_assert_eq(run("SELECT COUNT(*) + 1, 'x' FROM t"), 0, "constants are fine");
	cr_assert_str_eq(res.cells[0][0], "6");
}

/* What clients send on connect, and expressions without a table. */
Test(admin_engine, expressions_without_table)
{
	cr_assert_eq(run_on(NULL, "SELECT USER(), DATABASE()"), 0);
	cr_assert_eq(res.ncols, 2, "one column per item");
	cr_assert_str_eq(res.names[0], "USER()");
	cr_assert_str_eq(res.names[1], "DATABASE()");
	cr_assert_str_eq(res.cells[0][0], "admin@10.0.0.7");
	cr_assert_str_eq(res.cells[0][1], "stats");
	cr_assert_eq(run_on(NULL, "select @@version_comment limit 1"), 0);
	cr_assert_str_eq(res.names[0], "@@version_comment");
	cr_assert_str_eq(res.cells[0][0], "myring admin");
	cr_assert_eq(run_on(NULL, "SELECT @@version, VERSION(), @@max_allowed_packet, "
			    "@@session.autocommit, @@GLOBAL.port, CONNECTION_ID(), "
			    "CURRENT_USER, CURRENT_USER(), SCHEMA()"), 0, "%s", aerr.msg);
	cr_assert_str_eq(res.cells[0][0], "8.0.99-myring-test-admin");
	cr_assert_str_eq(res.cells[0][1], "8.0.99-myring-test-admin");
	cr_assert_str_eq(res.cells[0][2], "1048576");
	cr_assert_str_eq(res.cells[0][3], "1");
	cr_assert_str_eq(res.cells[0][4], "6032");
	cr_assert_str_eq(res.cells[0][5], "42");
	cr_assert_str_eq(res.cells[0][6], "admin@10.0.0.7");
	cr_assert_str_eq(res.cells[0][7], "admin@10.0.0.7");
	cr_assert_str_eq(res.cells[0][8], "stats");
	cr_assert_eq(run_on(NULL, "SELECT NOW(), CURRENT_TIMESTAMP, "
			    "CURRENT_TIMESTAMP(), CURDATE(), CURTIME(), "
			    "UNIX_TIMESTAMP(), UTC_TIMESTAMP"), 0, "%s", aerr.msg);
	cr_assert_str_eq(res.cells[0][0], "1971-01-01 01:02:03");
	cr_assert_str_eq(res.cells[0][1], "1971-01-01 01:02:03");
	cr_assert_str_eq(res.cells[0][2], "1971-01-01 01:02:03");
	cr_assert_str_eq(res.cells[0][3], "1971-01-01");
	cr_assert_str_eq(res.cells[0][4], "01:02:03");
	cr_assert_str_eq(res.cells[0][5], "31539723");
	cr_assert_str_eq(res.cells[0][6], "1971-01-01 01:02:03");
	cr_assert_eq(run_on(NULL, "SELECT 1+1, 7 / 2, 7 DIV 2, -7 DIV 2, 7 % 3, "
			    "-7 % 3, 2 * 3.5, 1 - 5, 1 / 0, 5 MOD 0, 1.5 + '2', "
			    "'abc' = 'ABC', 3 > 2 AND 2 > 1, 0 OR NULL, 1 OR NULL, "
			    "NULL AND 0, NOT 0, !1, 10 DIV 2.5, 7.5 % 2, "
			    "1 IN (0, NULL), 1 IN (1, NULL), NULL + 1, "
			    "-9223372036854775807 - 1"), 0, "%s", aerr.msg);
	static const char *const want[] = {
		"2", "3.5", "3", "-3", "1", "-1", "7", "-4", "NULL", "NULL", "3.5",
		"1", "1", "NULL", "1", "0", "1", "0", "4", "1.5", "NULL", "1",
		"NULL", "-9223372036854775808",
	};
	cr_assert_eq(res.ncols, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < res.ncols; i++)
		cr_assert_str_eq(res.cells[0][i], want[i], "%s", res.names[i]);
	cr_assert_eq(run_on(NULL, "SELECT 'a', \"b\", 3 c, NULL, TRUE, FALSE, .5"), 0);
	cr_assert_str_eq(res.names[2], "c");
	cr_assert_str_eq(res.cells[0][3], "NULL");
	cr_assert_str_eq(res.cells[0][4], "1");
	cr_assert_str_eq(res.cells[0][6], "0.5");
	cr_assert_eq(run_on(NULL, "SELECT 1 WHERE 0"), 0);
	cr_assert_eq(res.nrows, 0);
	cr_assert_eq(run_on(NULL, "SELECT 1 FROM DUAL WHERE 1 = 1"), 0);
	cr_assert_eq(res.nrows, 1);
}

/* Column definitions carry the type of what the rows hold. */
Test(admin_engine, column_types)
{
	enum { LONGLONG = 0x08, DOUBLE = 0x05, VAR_STRING = 0xFD };

	cr_assert_eq(run_on(NULL, "SELECT 1, 1.5, 'x', 1 + 1, 1 / 1, 1 + 1.5, "
			    "'2' + 1, @@port, @@version, NOW(), 1 = 1, NULL, "
			    "CONNECTION_ID(), -1"), 0);
	static const uint8_t want[] = {LONGLONG, DOUBLE, VAR_STRING, LONGLONG,
				       DOUBLE, DOUBLE, DOUBLE, LONGLONG,
				       VAR_STRING, VAR_STRING, LONGLONG,
				       VAR_STRING, LONGLONG, LONGLONG};
	for (unsigned i = 0; i < sizeof(want); i++)
		cr_assert_eq(res.types[i], want[i], "%s: 0x%x", res.names[i],
			     res.types[i]);
	cr_assert_eq(run("SELECT count, delta, avg, name, count * 2 FROM t LIMIT 1"), 0);
	static const uint8_t want2[] = {LONGLONG, LONGLONG, DOUBLE, VAR_STRING,
					LONGLONG};
	for (unsigned i = 0; i < sizeof(want2); i++)
		cr_assert_eq(res.types[i], want2[i], "%s", res.names[i]);
}

Test(admin_engine, errors_are_clean)
{
	static const struct { const char *sql; int code; const char *says; } bad[] = {
		{"SELECT nope FROM t", 1054, "'nope' in 'field list'; columns: "
		 "name, count, avg, delta"},
		{"SELECT * FROM t WHERE nope = 1", 1054, "'where clause'"},
		{"SELECT * FROM t ORDER BY nope", 1054, "'order clause'"},
		{"SELECT u.name FROM t", 1054, "'u.name'"},
		{"SELECT x.name FROM t AS y", 1054, "'x.name'"},
		{"SELECT other.t.name FROM t", 1054, "'t.name'"},
		{"SELECT u.* FROM t", 1051, "Unknown table 'u'"},
		{"SELECT nope", 1054, "'nope'"},
		{"SELECT @@nope", 1193, "Unknown system variable 'nope'"},
		{"SELECT 1 FROM t WHERE @@nope", 1193, "'nope'"},
		{"SELECT 9223372036854775807 + 1", 1690, "out of range"},
		{"SELECT -9223372036854775807 - 2", 1690, "out of range"},
		{"SELECT 4294967296 * 4294967296", 1690, "out of range"},
		{"SELECT -(-9223372036854775807 - 1)", 1690, "out of range"},
		{"SELECT 1e300 DIV 1", 1690, "out of range"},
		{"SELECT @@sql_select_limit + 0", 1690, "out of range"},
		{"SELECT SUM(count * 4611686018427387904) FROM t", 1690, "range"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(run(bad[i].sql), bad[i].code, "%s: %u %s", bad[i].sql,
			     aerr.code, aerr.msg);
		cr_assert(strstr(aerr.msg, bad[i].says), "%s: %s", bad[i].sql,
			  aerr.msg);
		cr_assert_eq(strlen(aerr.state), 5);
	}
	cr_assert_eq(run_on(NULL, "SELECT *"), 1096);
	cr_assert(strstr(aerr.msg, "No tables used"), "%s", aerr.msg);
	cr_assert_str_eq((run("SELECT nope FROM t"), aerr.state), "42S22");
	cr_assert_str_eq((run("SELECT 9223372036854775807 + 1"), aerr.state), "22003");

	/* An error found after rows were written takes them back. */
	struct admin_table t = table();
	struct pkt_buf pb;
	pkt_buf_init(&pb);
	pkt_buf_append_raw(&pb, "keep", 4);
	pb.seq = 7;
	cr_assert_eq(parse("SELECT delta * 4611686018427387904 FROM t"), 0);
	cr_assert_eq(admin_select(&t, &st, &ctx, &pb, 0, &aerr), -1);
	cr_assert_eq(aerr.code, 1690);
	cr_assert_eq(pb.len, 4, "rows before the overflow were written");
	cr_assert_eq(pb.seq, 7);
	pkt_buf_free(&pb);
}

/* SHOW filters (no select list): every column, WHERE / LIKE applied. */
Test(admin_engine, show_filters_and_whole_tables)
{
	struct admin_table t = table();
	struct pkt_buf pb;

	cr_assert_eq(run("SHOW VARIABLES LIKE '%a%'"), 0, "%s", aerr.msg);
	cr_assert_eq(res.ncols, 4);
	cr_assert_str_eq(col0(), "bravo,alpha,delta,charlie");
	cr_assert_eq(run("SHOW TABLES WHERE count = 30 OR name = 'echo'"), 0);
	cr_assert_str_eq(col0(), "alpha,charlie,echo");
	cr_assert_eq(run("DESCRIBE t 'c%'"), 0);
	cr_assert_str_eq(col0(), "charlie");
	/* NULL statement: the whole table. */
	pkt_buf_init(&pb);
	cr_assert_eq(admin_select(&t, NULL, &ctx, &pb, 0, &aerr), 0);
	read_rs(&pb, &res);
	cr_assert_eq(res.nrows, 5);
	cr_assert_eq(res.ncols, 4);
	pkt_buf_free(&pb);
}

Test(admin_engine, variables)
{
	char buf[64], prev[64] = "";

	cr_assert_gt(admin_nvariables(), 30);
	for (unsigned i = 0; i < admin_nvariables(); i++) {
		const char *name = admin_variable(&ctx, i, buf, sizeof(buf));
		cr_assert_lt(strcmp(prev, name), 0, "sorted: %s after %s", name, prev);
		snprintf(prev, sizeof(prev), "%s", name);
		if (!strcmp(name, "autocommit"))
			cr_assert_str_eq(buf, "ON");
		if (!strcmp(name, "version"))
			cr_assert_str_eq(buf, ctx.version);
		if (!strcmp(name, "max_allowed_packet"))
			cr_assert_str_eq(buf, "1048576");
	}
	/* Everything Connector/J asks for on connect is there. */
	cr_assert_eq(run_on(NULL, "SELECT @@session.auto_increment_increment AS "
			    "auto_increment_increment, @@character_set_client, "
			    "@@character_set_connection, @@character_set_results, "
			    "@@character_set_server, @@collation_server, "
			    "@@collation_connection, @@init_connect, "
			    "@@interactive_timeout, @@license, "
			    "@@lower_case_table_names, @@max_allowed_packet, "
			    "@@net_write_timeout, @@performance_schema, "
			    "@@query_cache_size, @@query_cache_type, @@sql_mode, "
			    "@@system_time_zone, @@time_zone, "
			    "@@transaction_isolation, @@tx_isolation, "
			    "@@wait_timeout, @@character_set_database"), 0, "%s",
		     aerr.msg);
	cr_assert_str_eq(res.names[0], "auto_increment_increment");
	cr_assert_str_eq(res.cells[0][1], "utf8mb4");
}

Test(admin_engine, sorts_a_large_table_quickly, .timeout = 10)
{
	enum { N = 100000 };
	struct admin_value *big = calloc(N * 4, sizeof(*big));
	struct pkt_buf pb;

	for (int r = 0; r < N; r++) {
		admin_value_set_text(&big[r * 4], "x", 1);
		admin_value_set_uint(&big[r * 4 + 1], (uint64_t)((r * 7919) % N));
		admin_value_set_double(&big[r * 4 + 2], 0);
		admin_value_set_int(&big[r * 4 + 3], r % 3);
	}
	struct admin_table t = {"t", names, types, 4, big, N};
	cr_assert_eq(parse("SELECT count FROM t WHERE name = 'x' AND delta IN (0, 1, 2) "
			   "ORDER BY delta DESC, count DESC LIMIT 3"), 0);
	pkt_buf_init(&pb);
	cr_assert_eq(admin_select(&t, &st, &ctx, &pb, 0, &aerr), 0);
	read_rs(&pb, &res);
	cr_assert_eq(res.nrows, 3);
	/* delta 2: rows r = 2 mod 3; the largest count among them */
	uint64_t best = 0;
	for (int r = 2; r < N; r += 3)
		if ((uint64_t)((r * 7919) % N) > best)
			best = (uint64_t)((r * 7919) % N);
	char want[32];
	snprintf(want, sizeof(want), "%llu", (unsigned long long)best);
	cr_assert_str_eq(res.cells[0][0], want);
	pkt_buf_free(&pb);
	free(big);
}
