/*
 * The admin SQL subset: every statement form and error path, and the
 * table engine (projection, WHERE, ORDER BY, LIMIT/OFFSET) read back from
 * the result-set packets it writes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_sql.h"

static struct admin_stmt st;
static char err[512];

static int parse(const char *sql)
{
	return admin_parse(sql, strlen(sql), &st, err, sizeof(err));
}

Test(admin_sql, statements)
{
	static const struct { const char *sql; enum admin_kind kind; } ok[] = {
		{"SHOW STATS", ADMIN_SHOW_STATS}, {"show stats;", ADMIN_SHOW_STATS},
		{"  SHOW /* c */ STATUS  ", ADMIN_SHOW_STATS},
		{"SHOW CONFIG", ADMIN_SHOW_CONFIG}, {"show tables", ADMIN_SHOW_TABLES},
		{"SHOW TABLES FROM stats", ADMIN_SHOW_TABLES},
		{"show databases", ADMIN_SHOW_DATABASES}, {"SHOW SCHEMAS", ADMIN_SHOW_DATABASES},
		{"RELOAD CONFIG", ADMIN_RELOAD_CONFIG}, {"reset stats ;", ADMIN_RESET_STATS},
		{"select @@version_comment limit 1", ADMIN_SELECT_EXPR},
		{"SELECT DATABASE()", ADMIN_SELECT_EXPR}, {"SELECT 1", ADMIN_SELECT_EXPR},
		{"SET NAMES utf8mb4", ADMIN_NOOP}, {"USE stats", ADMIN_NOOP},
		{"BEGIN", ADMIN_NOOP}, {"commit", ADMIN_NOOP}, {"START TRANSACTION", ADMIN_NOOP},
		{"SELECT * FROM stats.digests", ADMIN_SELECT},
		{"select count, fingerprint from digests", ADMIN_SELECT},
		{"-- hi\nSELECT * FROM `stats`.`rules` # x", ADMIN_SELECT},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(parse(ok[i].sql), 0, "'%s': %s", ok[i].sql, err);
		cr_assert_eq(st.kind, ok[i].kind, "'%s'", ok[i].sql);
	}
	parse("select @@version_comment limit 1");
	cr_assert_str_eq(st.expr, "@@version_comment");
	parse("SELECT DATABASE()");
	cr_assert_str_eq(st.expr, "DATABASE()");
}

Test(admin_sql, select_clauses)
{
	cr_assert_eq(parse("SELECT a, b FROM stats.digests WHERE count >= -5 "
			   "ORDER BY sum_time_us DESC LIMIT 10 OFFSET 3"), 0, "%s", err);
	cr_assert_str_eq(st.table, "digests");
	cr_assert_eq(st.ncols, 2);
	cr_assert_str_eq(st.cols[1], "b");
	cr_assert(st.has_where);
	cr_assert_str_eq(st.where_col, "count");
	cr_assert_eq(st.where_op, AOP_GE);
	cr_assert_str_eq(st.where_val, "-5");
	cr_assert(!st.where_is_string);
	cr_assert(st.has_order && st.desc);
	cr_assert_str_eq(st.order_col, "sum_time_us");
	cr_assert(st.has_limit);
	cr_assert_eq(st.limit, 10);
	cr_assert_eq(st.offset, 3);
	cr_assert_eq(parse("select * from rules where name like 'no-%' limit 5, 2"), 0);
	cr_assert(st.star);
	cr_assert_eq(st.where_op, AOP_LIKE);
	cr_assert(st.where_is_string);
	cr_assert_str_eq(st.where_val, "no-%");
	cr_assert_eq(st.offset, 5);
	cr_assert_eq(st.limit, 2);
	cr_assert_eq(parse("SELECT * FROM t WHERE a <> 'x' ORDER BY a ASC"), 0);
	cr_assert_eq(st.where_op, AOP_NE);
	cr_assert(!st.desc);
}

Test(admin_sql, errors_say_what_is_wrong)
{
	static const struct { const char *sql; const char *says; } bad[] = {
		{"DELETE FROM stats.digests", "SHOW STATS"},
		{"DROP TABLE x", "supported"},
		{"", "supported"},
		{"SHOW NONSENSE", "SHOW: expected"},
		{"SHOW STATS extra", "end of the statement"},
		{"RELOAD", "RELOAD: expected CONFIG"},
		{"RESET EVERYTHING", "RESET: expected STATS"},
		{"SELECT FROM stats.digests", "expected a column"},
		{"SELECT a b FROM t", "expected FROM"},
		{"SELECT a FROM", "expected a table"},
		{"SELECT a FROM other.t", "unknown database"},
		{"SELECT a FROM stats.", "after 'stats.'"},
		{"SELECT a FROM t WHERE", "WHERE: expected a column"},
		{"SELECT a FROM t WHERE a", "WHERE: expected ="},
		{"SELECT a FROM t WHERE a = ", "number or a quoted"},
		{"SELECT a FROM t WHERE a = b", "number or a quoted"},
		{"SELECT a FROM t WHERE a = -'x'", "number after '-'"},
		{"SELECT a FROM t ORDER a", "ORDER: expected BY"},
		{"SELECT a FROM t ORDER BY", "ORDER BY: expected a column"},
		{"SELECT a FROM t LIMIT x", "LIMIT: expected a number"},
		{"SELECT a FROM t LIMIT 1,", "row count"},
		{"SELECT a FROM t LIMIT 1 OFFSET", "OFFSET: expected"},
		{"SELECT a FROM t LIMIT 1.5", "LIMIT: expected a number"},
		{"SELECT a FROM t trailing", "end of the statement"},
		{"SELECT 'unterminated FROM t", "unterminated"},
		{"SELECT", "expected an expression"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i].sql), -1, "'%s' parsed", bad[i].sql);
		cr_assert(strstr(err, bad[i].says), "'%s': '%s' lacks '%s'", bad[i].sql,
			  err, bad[i].says);
	}
}

Test(admin_sql, like)
{
	cr_assert(admin_like("SELECT ?", 8, "select%"));
	cr_assert(admin_like("abc", 3, "a_c"));
	cr_assert(admin_like("abc", 3, "%"));
	cr_assert(admin_like("", 0, "%"));
	cr_assert(!admin_like("abc", 3, "ab"));
	cr_assert(admin_like("xxabyyab", 8, "%ab"));
	cr_assert(admin_like("a%b", 3, "a%b"));
	cr_assert(!admin_like("abd", 3, "%c%"));
}

/* ---- the engine, read back -------------------------------------------- */

static const char *const names[] = {"name", "count", "avg"};
static const enum admin_col_type types[] = {ADMIN_COL_TEXT, ADMIN_COL_UINT,
					    ADMIN_COL_DOUBLE};
static struct admin_value cells[5 * 3];
static const char *const row_names[] = {"bravo", "alpha", "delta", "charlie", "echo"};
static const uint64_t row_counts[] = {20, 30, 10, 30, 5};

static struct admin_table table(void)
{
	for (int r = 0; r < 5; r++) {
		admin_value_set_text(&cells[r * 3], row_names[r], strlen(row_names[r]));
		admin_value_set_uint(&cells[r * 3 + 1], row_counts[r]);
		if (r == 4)
			admin_value_set_null(&cells[r * 3 + 2]);
		else
			admin_value_set_double(&cells[r * 3 + 2], r * 1.5);
	}
	return (struct admin_table){names, types, 3, cells, 5};
}

/* Result set (EOF style) -> rows of cells as strings ("NULL" for NULL). */
static int read_rows(const struct pkt_buf *pb, unsigned *ncols, char out[][3][32])
{
	size_t off = 0;
	unsigned pkt = 0, rows = 0;
	bool in_rows = false;

	while (off < pb->len) {
		size_t n = mysql_get_u24(pb->data + off);
		const uint8_t *p = pb->data + off + 4;
		if (pkt == 0) {
			*ncols = p[0];
		} else if (p[0] == 0xFE && n < 9) {
			if (in_rows)
				break;
			in_rows = true;
		} else if (in_rows) {
			size_t q = 0;
			for (unsigned c = 0; c < *ncols; c++) {
				if (p[q] == 0xFB) {
					strcpy(out[rows][c], "NULL");
					q++;
				} else {
					size_t l = p[q++];
					snprintf(out[rows][c], 32, "%.*s", (int)l, (const char *)p + q);
					q += l;
				}
			}
			rows++;
		}
		off += 4 + n;
		pkt++;
	}
	return (int)rows;
}

static int run(const char *sql, unsigned *ncols, char out[][3][32])
{
	struct admin_table t = table();
	struct pkt_buf pb;
	uint16_t code;
	int n;

	cr_assert_eq(parse(sql), 0, "%s", err);
	pkt_buf_init(&pb);
	cr_assert_eq(admin_select(&t, &st, &pb, CLIENT_PROTOCOL_41, err, sizeof(err),
				  &code), 0, "%s", err);
	n = read_rows(&pb, ncols, out);
	pkt_buf_free(&pb);
	return n;
}

Test(admin_sql, order_limit_where_project)
{
	char out[8][3][32];
	unsigned nc;

	cr_assert_eq(run("SELECT name FROM t ORDER BY count DESC", &nc, out), 5);
	cr_assert_eq(nc, 1);
	/* Ties keep table order: alpha (row 1) before charlie (row 3). */
	cr_assert_str_eq(out[0][0], "alpha");
	cr_assert_str_eq(out[1][0], "charlie");
	cr_assert_str_eq(out[2][0], "bravo");
	cr_assert_str_eq(out[4][0], "echo");
	cr_assert_eq(run("SELECT name, avg FROM t ORDER BY avg", &nc, out), 5);
	cr_assert_str_eq(out[0][1], "NULL", "NULL sorts first ascending");
	cr_assert_str_eq(out[1][0], "bravo");
	cr_assert_str_eq(out[4][1], "4.5");
	cr_assert_eq(run("SELECT * FROM t ORDER BY name LIMIT 2 OFFSET 1", &nc, out), 2);
	cr_assert_eq(nc, 3);
	cr_assert_str_eq(out[0][0], "bravo");
	cr_assert_str_eq(out[1][0], "charlie");
	cr_assert_str_eq(out[0][1], "20");
	cr_assert_eq(run("SELECT name FROM t LIMIT 0", &nc, out), 0);
	cr_assert_eq(run("SELECT name FROM t LIMIT 10, 5", &nc, out), 0);
	cr_assert_eq(run("SELECT name FROM t WHERE count = 30", &nc, out), 2);
	cr_assert_eq(run("SELECT name FROM t WHERE count > 10", &nc, out), 3);
	cr_assert_eq(run("SELECT name FROM t WHERE count <= 10", &nc, out), 2);
	cr_assert_eq(run("SELECT name FROM t WHERE count != 30", &nc, out), 3);
	cr_assert_eq(run("SELECT name FROM t WHERE name = 'ALPHA'", &nc, out), 1,
		     "text compares caselessly");
	cr_assert_eq(run("SELECT name FROM t WHERE name LIKE '%a'", &nc, out), 2);
	cr_assert_eq(run("SELECT name FROM t WHERE name < 'c'", &nc, out), 2);
	cr_assert_eq(run("SELECT name FROM t WHERE avg >= 3", &nc, out), 2,
		     "NULL never matches");
	cr_assert_eq(run("SELECT name FROM t WHERE count LIKE '3%'", &nc, out), 2);
}

Test(admin_sql, unknown_columns_are_1054)
{
	struct admin_table t = table();
	struct pkt_buf pb;
	uint16_t code;
	static const char *const sqls[] = {"SELECT nope FROM t",
					   "SELECT * FROM t WHERE nope = 1",
					   "SELECT * FROM t ORDER BY nope"};

	pkt_buf_init(&pb);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(parse(sqls[i]), 0);
		cr_assert_eq(admin_select(&t, &st, &pb, 0, err, sizeof(err), &code), -1);
		cr_assert_eq(code, 1054);
		cr_assert(strstr(err, "nope") && strstr(err, "name, count, avg"), "%s", err);
		cr_assert_eq(pb.len, 0, "nothing written");
	}
	/* NULL statement: the whole table. */
	cr_assert_eq(admin_select(&t, NULL, &pb, 0, err, sizeof(err), &code), 0);
	cr_assert_gt(pb.len, 0);
	pkt_buf_free(&pb);
}

Test(admin_sql, sorts_a_large_table_quickly, .timeout = 10)
{
	enum { N = 100000 };
	struct admin_value *big = calloc(N * 3, sizeof(*big));
	char out[8][3][32];
	struct pkt_buf pb;
	uint16_t code;

	for (int r = 0; r < N; r++) {
		admin_value_set_text(&big[r * 3], "x", 1);
		admin_value_set_uint(&big[r * 3 + 1], (uint64_t)((r * 7919) % N));
		admin_value_set_double(&big[r * 3 + 2], 0);
	}
	struct admin_table t = {names, types, 3, big, N};
	cr_assert_eq(parse("SELECT count FROM t ORDER BY count DESC LIMIT 3"), 0);
	pkt_buf_init(&pb);
	cr_assert_eq(admin_select(&t, &st, &pb, 0, err, sizeof(err), &code), 0);
	unsigned nc;
	cr_assert_eq(read_rows(&pb, &nc, out), 3);
	cr_assert_str_eq(out[0][0], "99999");
	cr_assert_str_eq(out[2][0], "99997");
	pkt_buf_free(&pb);
	free(big);
}
