/* Server-side prepared statements through the proxy. */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(stmt, all_common_types_round_trip)
{
	MYSQL *m = proxy_connect();
	query_ok(m, "DROP TABLE IF EXISTS it_types");
	query_ok(m, "CREATE TABLE it_types (id INT PRIMARY KEY, ti TINYINT, "
		    "usi SMALLINT UNSIGNED, bi BIGINT, ubi BIGINT UNSIGNED, "
		    "f FLOAT, d DOUBLE, dec_ DECIMAL(20,6), dt DATE, "
		    "dtm DATETIME(6), tm TIME, ts TIMESTAMP(3) NULL, "
		    "vc VARCHAR(100), bl BLOB, n INT NULL) CHARSET utf8mb4");
	MYSQL_STMT *st = mysql_stmt_init(m);
	cr_assert_eq(mysql_stmt_prepare(st, "INSERT INTO it_types VALUES "
					"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1), 0,
		     "%s", mysql_stmt_error(st));
	cr_assert_eq(mysql_stmt_param_count(st), 15);

	for (int row = 1; row <= 3; row++) {
		int id = row;
		signed char ti = (signed char)(-row);
		unsigned short usi = (unsigned short)(60000 + row);
		long long bi = -9000000000000000000LL + row;
		unsigned long long ubi = 18000000000000000000ULL + (unsigned)row;
		float f = 1.5f * (float)row;
		double d = 2.25e100 * row;
		char dec[32];
		unsigned long decl = (unsigned long)snprintf(dec, sizeof(dec), "%d.123456", row * 1000);
		MYSQL_TIME dt = {.year = 2026, .month = 11, .day = (unsigned)row, .time_type = MYSQL_TIMESTAMP_DATE};
		MYSQL_TIME dtm = {.year = 2026, .month = 11, .day = 24, .hour = 1, .minute = 2,
				  .second = 3, .second_part = 456789, .time_type = MYSQL_TIMESTAMP_DATETIME};
		MYSQL_TIME tm = {.hour = 10, .minute = 20, .second = row, .time_type = MYSQL_TIMESTAMP_TIME};
		MYSQL_TIME ts = {.year = 2020, .month = 2, .day = 29, .hour = 12, .time_type = MYSQL_TIMESTAMP_DATETIME};
		char vc[64];
		unsigned long vcl = (unsigned long)snprintf(vc, sizeof(vc), "row %d ✓", row);
		unsigned char bl[256];
		unsigned long bll = sizeof(bl);
		for (int i = 0; i < 256; i++)
			bl[i] = (unsigned char)(i ^ row);
		my_bool null = 1;
		MYSQL_BIND b[15];
		memset(b, 0, sizeof(b));
		b[0].buffer_type = MYSQL_TYPE_LONG; b[0].buffer = &id;
		b[1].buffer_type = MYSQL_TYPE_TINY; b[1].buffer = &ti;
		b[2].buffer_type = MYSQL_TYPE_SHORT; b[2].buffer = &usi; b[2].is_unsigned = 1;
		b[3].buffer_type = MYSQL_TYPE_LONGLONG; b[3].buffer = &bi;
		b[4].buffer_type = MYSQL_TYPE_LONGLONG; b[4].buffer = &ubi; b[4].is_unsigned = 1;
		b[5].buffer_type = MYSQL_TYPE_FLOAT; b[5].buffer = &f;
		b[6].buffer_type = MYSQL_TYPE_DOUBLE; b[6].buffer = &d;
		b[7].buffer_type = MYSQL_TYPE_NEWDECIMAL; b[7].buffer = dec; b[7].length = &decl;
		b[8].buffer_type = MYSQL_TYPE_DATE; b[8].buffer = &dt;
		b[9].buffer_type = MYSQL_TYPE_DATETIME; b[9].buffer = &dtm;
		b[10].buffer_type = MYSQL_TYPE_TIME; b[10].buffer = &tm;
		b[11].buffer_type = MYSQL_TYPE_TIMESTAMP; b[11].buffer = &ts;
		b[12].buffer_type = MYSQL_TYPE_STRING; b[12].buffer = vc; b[12].length = &vcl;
		b[13].buffer_type = MYSQL_TYPE_BLOB; b[13].buffer = bl; b[13].length = &bll;
		b[14].buffer_type = MYSQL_TYPE_LONG; b[14].is_null = &null;
		cr_assert_eq(mysql_stmt_bind_param(st, b), 0);
		cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
		cr_assert_eq(mysql_stmt_affected_rows(st), 1);
	}
	mysql_stmt_close(st);

	/* read back through the binary protocol */
	st = mysql_stmt_init(m);
	cr_assert_eq(mysql_stmt_prepare(st, "SELECT id, ti, usi, bi, ubi, f, d, dec_, "
					"dt, dtm, tm, vc, bl, n FROM it_types WHERE id >= ? "
					"ORDER BY id", -1), 0, "%s", mysql_stmt_error(st));
	int from = 2;
	MYSQL_BIND pb = {.buffer_type = MYSQL_TYPE_LONG, .buffer = &from};
	cr_assert_eq(mysql_stmt_bind_param(st, &pb), 0);
	cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
	int id; signed char ti; unsigned short usi; long long bi; unsigned long long ubi;
	float f; double d; char dec[32], vc[64]; unsigned char bl[300];
	unsigned long decl, vcl, bll; MYSQL_TIME dt, dtm, tm; my_bool nnull; int nval;
	MYSQL_BIND r[14];
	memset(r, 0, sizeof(r));
	r[0].buffer_type = MYSQL_TYPE_LONG; r[0].buffer = &id;
	r[1].buffer_type = MYSQL_TYPE_TINY; r[1].buffer = &ti;
	r[2].buffer_type = MYSQL_TYPE_SHORT; r[2].buffer = &usi; r[2].is_unsigned = 1;
	r[3].buffer_type = MYSQL_TYPE_LONGLONG; r[3].buffer = &bi;
	r[4].buffer_type = MYSQL_TYPE_LONGLONG; r[4].buffer = &ubi; r[4].is_unsigned = 1;
	r[5].buffer_type = MYSQL_TYPE_FLOAT; r[5].buffer = &f;
	r[6].buffer_type = MYSQL_TYPE_DOUBLE; r[6].buffer = &d;
	r[7].buffer_type = MYSQL_TYPE_STRING; r[7].buffer = dec; r[7].buffer_length = sizeof(dec); r[7].length = &decl;
	r[8].buffer_type = MYSQL_TYPE_DATE; r[8].buffer = &dt;
	r[9].buffer_type = MYSQL_TYPE_DATETIME; r[9].buffer = &dtm;
	r[10].buffer_type = MYSQL_TYPE_TIME; r[10].buffer = &tm;
	r[11].buffer_type = MYSQL_TYPE_STRING; r[11].buffer = vc; r[11].buffer_length = sizeof(vc); r[11].length = &vcl;
	r[12].buffer_type = MYSQL_TYPE_BLOB; r[12].buffer = bl; r[12].buffer_length = sizeof(bl); r[12].length = &bll;
	r[13].buffer_type = MYSQL_TYPE_LONG; r[13].buffer = &nval; r[13].is_null = &nnull;
	cr_assert_eq(mysql_stmt_bind_result(st, r), 0);
	cr_assert_eq(mysql_stmt_store_result(st), 0);
	cr_assert_eq(mysql_stmt_num_rows(st), 2);
	for (int row = 2; row <= 3; row++) {
		cr_assert_eq(mysql_stmt_fetch(st), 0, "%s", mysql_stmt_error(st));
		cr_assert_eq(id, row);
		cr_assert_eq(ti, -row);
		cr_assert_eq(usi, 60000 + row);
		cr_assert_eq(bi, -9000000000000000000LL + row);
		cr_assert_eq(ubi, 18000000000000000000ULL + (unsigned)row);
		cr_assert_float_eq(f, 1.5f * (float)row, 1e-6);
		cr_assert_float_eq(d, 2.25e100 * row, 1e90);
		char want[32];
		snprintf(want, sizeof(want), "%d.123456", row * 1000);
		cr_assert_eq(decl, strlen(want));
		cr_assert_eq(memcmp(dec, want, decl), 0);
		cr_assert_eq(dt.day, (unsigned)row);
		cr_assert_eq(dtm.second_part, 456789);
		cr_assert_eq(tm.second, (unsigned)row);
		cr_assert_eq(bll, 256);
		for (int i = 0; i < 256; i++)
			cr_assert_eq(bl[i], (unsigned char)(i ^ row));
		cr_assert(nnull);
		snprintf(want, sizeof(want), "row %d ✓", row);
		cr_assert_eq(vcl, strlen(want));
	}
	cr_assert_eq(mysql_stmt_fetch(st), MYSQL_NO_DATA);
	/* re-execute the same statement */
	from = 3;
	cr_assert_eq(mysql_stmt_execute(st), 0);
	cr_assert_eq(mysql_stmt_store_result(st), 0);
	cr_assert_eq(mysql_stmt_num_rows(st), 1);
	mysql_stmt_free_result(st);
	cr_assert_eq(mysql_stmt_reset(st), 0);
	mysql_stmt_close(st);
	char *v = query_value(m, "SELECT COUNT(*) FROM it_types");
	cr_assert_str_eq(v, "3", "text query after COM_STMT_CLOSE");
	free(v);
	query_ok(m, "DROP TABLE it_types");
	mysql_close(m);
}

Test(stmt, send_long_data)
{
	MYSQL *m = proxy_connect();
	query_ok(m, "DROP TABLE IF EXISTS it_long");
	query_ok(m, "CREATE TABLE it_long (id INT, b LONGBLOB)");
	MYSQL_STMT *st = mysql_stmt_init(m);
	cr_assert_eq(mysql_stmt_prepare(st, "INSERT INTO it_long VALUES (?, ?)", -1), 0);
	int id = 1;
	MYSQL_BIND b[2];
	memset(b, 0, sizeof(b));
	b[0].buffer_type = MYSQL_TYPE_LONG; b[0].buffer = &id;
	b[1].buffer_type = MYSQL_TYPE_LONG_BLOB;
	cr_assert_eq(mysql_stmt_bind_param(st, b), 0);
	static char chunk[100000];
	for (int i = 0; i < 5; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		cr_assert_eq(mysql_stmt_send_long_data(st, 1, chunk, sizeof(chunk)), 0,
			     "%s", mysql_stmt_error(st));
	}
	cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
	mysql_stmt_close(st);
	char *v = query_value(m, "SELECT CONCAT(LENGTH(b), ':', MD5(b) = MD5(CONCAT("
			      "REPEAT('a',100000),REPEAT('b',100000),REPEAT('c',100000),"
			      "REPEAT('d',100000),REPEAT('e',100000)))) FROM it_long");
	cr_assert_str_eq(v, "500000:1");
	free(v);
	query_ok(m, "DROP TABLE it_long");
	mysql_close(m);
}

Test(stmt, cursor_fetch_many_rows)
{
	MYSQL *m = proxy_connect();
	MYSQL_STMT *st = mysql_stmt_init(m);
	unsigned long type = CURSOR_TYPE_READ_ONLY, prefetch = 13;
	mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE, &type);
	mysql_stmt_attr_set(st, STMT_ATTR_PREFETCH_ROWS, &prefetch);
	cr_assert_eq(mysql_stmt_prepare(st, "SELECT seq, CONCAT('r', seq) FROM "
					"seq_1_to_5000", -1), 0, "%s", mysql_stmt_error(st));
	cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
	long long seq; char s[32]; unsigned long sl;
	MYSQL_BIND r[2];
	memset(r, 0, sizeof(r));
	r[0].buffer_type = MYSQL_TYPE_LONGLONG; r[0].buffer = &seq;
	r[1].buffer_type = MYSQL_TYPE_STRING; r[1].buffer = s; r[1].buffer_length = sizeof(s); r[1].length = &sl;
	cr_assert_eq(mysql_stmt_bind_result(st, r), 0);
	long long n = 0, sum = 0;
	int rc;
	while ((rc = mysql_stmt_fetch(st)) == 0) {
		n++;
		sum += seq;
	}
	cr_assert_eq(rc, MYSQL_NO_DATA, "%s", mysql_stmt_error(st));
	cr_assert_eq(n, 5000);
	cr_assert_eq(sum, 5000LL * 5001 / 2);
	mysql_stmt_close(st);
	char *v = query_value(m, "SELECT 'after cursor'");
	cr_assert_str_eq(v, "after cursor");
	free(v);
	mysql_close(m);
}

Test(stmt, prepare_errors_and_many_statements)
{
	MYSQL *m = proxy_connect();
	MYSQL_STMT *bad = mysql_stmt_init(m);
	cr_assert_neq(mysql_stmt_prepare(bad, "SELEKT ?", -1), 0);
	cr_assert_eq(mysql_stmt_errno(bad), 1064);
	mysql_stmt_close(bad);
	MYSQL_STMT *sts[50];
	for (int i = 0; i < 50; i++) {
		char q[64];
		sts[i] = mysql_stmt_init(m);
		snprintf(q, sizeof(q), "SELECT ? + %d", i);
		cr_assert_eq(mysql_stmt_prepare(sts[i], q, -1), 0);
	}
	for (int i = 0; i < 50; i++) {
		long long in = 1000, out = 0;
		MYSQL_BIND p = {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = &in};
		MYSQL_BIND r = {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = &out};
		cr_assert_eq(mysql_stmt_bind_param(sts[i], &p), 0);
		cr_assert_eq(mysql_stmt_execute(sts[i]), 0, "%s", mysql_stmt_error(sts[i]));
		cr_assert_eq(mysql_stmt_bind_result(sts[i], &r), 0);
		cr_assert_eq(mysql_stmt_fetch(sts[i]), 0);
		cr_assert_eq(out, 1000 + i);
		mysql_stmt_free_result(sts[i]);
	}
	for (int i = 0; i < 50; i++)
		mysql_stmt_close(sts[i]);
	mysql_close(m);
}

Test(stmt, multi_statements_and_multi_results)
{
	MYSQL *m = proxy_connect();
	query_ok(m, "DROP PROCEDURE IF EXISTS it_multi");
	query_ok(m, "CREATE PROCEDURE it_multi() BEGIN SELECT 1 AS a; "
		    "SELECT 2 AS b, 3 AS c UNION SELECT 4, 5; END");
	cr_assert_eq(mysql_query(m, "SELECT 10; DO 1; CALL it_multi(); "
				 "SELECT * FROM no_such_table_it; SELECT 99"), 0,
		     "%s", mysql_error(m));
	int sets = 0, oks = 0, rows = 0, status;
	do {
		MYSQL_RES *r = mysql_store_result(m);
		if (r) {
			sets++;
			rows += (int)mysql_num_rows(r);
			mysql_free_result(r);
		} else {
			cr_assert_eq(mysql_field_count(m), 0, "%s", mysql_error(m));
			oks++;
		}
	} while ((status = mysql_next_result(m)) == 0);
	cr_assert_gt(status, 0, "the missing table ends the batch with an error");
	cr_assert_eq(mysql_errno(m), 1146);
	/* SELECT 10, CALL's two result sets */
	cr_assert_eq(sets, 3);
	cr_assert_eq(rows, 1 + 1 + 2);
	cr_assert_geq(oks, 2, "DO and the CALL status");
	char *v = query_value(m, "SELECT 'next command'");
	cr_assert_str_eq(v, "next command");
	free(v);

	/* CALL through a prepared statement (PS multi-results) */
	MYSQL_STMT *st = mysql_stmt_init(m);
	cr_assert_eq(mysql_stmt_prepare(st, "CALL it_multi()", -1), 0);
	cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
	int psets = 0;
	do {
		if (mysql_stmt_field_count(st) > 0) {
			psets++;
			mysql_stmt_store_result(st);
			mysql_stmt_free_result(st);
		}
	} while (mysql_stmt_next_result(st) == 0);
	cr_assert_eq(psets, 2);
	mysql_stmt_close(st);
	query_ok(m, "DROP PROCEDURE it_multi");
	mysql_close(m);
}
