/* Connection phase and text protocol through the shared proxy. */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Test(session, native_password_login_and_identity)
{
	MYSQL *m = proxy_connect();
	char *u = query_value(m, "SELECT CURRENT_USER()");
	cr_assert_str_eq(u, "myring@127.0.0.1");
	char *db = query_value(m, "SELECT DATABASE()");
	cr_assert_str_eq(db, "myring_test");
	free(u);
	free(db);
	mysql_close(m);
}

Test(session, ed25519_login)
{
	const char *have = getenv("MARIADB_HAVE_ED25519");
	if (!have || *have != '1')
		cr_skip_test("MariaDB has no ed25519 plugin here");
	char err[256];
	MYSQL *m = proxy_connect_as("myring_ed", "ed-pw", "myring_test", 0, err,
				    sizeof(err));
	cr_assert_not_null(m, "ed25519 login through myring: %s", err);
	char *u = query_value(m, "SELECT CURRENT_USER()");
	cr_assert_str_eq(u, "myring_ed@127.0.0.1");
	free(u);
	mysql_close(m);
	m = proxy_connect_as("myring_ed", "wrong", "myring_test", 0, err, sizeof(err));
	cr_assert_null(m);
	cr_assert(strncmp(err, "1045", 4) == 0, "got %s", err);
}

Test(session, wrong_password_gives_1045)
{
	char err[256];
	MYSQL *m = proxy_connect_as("myring", "not-the-password", "myring_test", 0,
				    err, sizeof(err));
	cr_assert_null(m);
	cr_assert(strncmp(err, "1045 ", 5) == 0, "expected 1045, got %s", err);
	cr_assert(strstr(err, "Access denied"), "server's message: %s", err);
}

Test(session, unknown_database_gives_1049)
{
	char err[256];
	MYSQL *m = proxy_connect_as("myring", "myring-pw", "no_such_db_xyz", 0,
				    err, sizeof(err));
	cr_assert_null(m);
	cr_assert(strncmp(err, "1049 ", 5) == 0, "expected 1049, got %s", err);
}

Test(session, connect_attributes_and_select_db)
{
	MYSQL *m = mysql_init(NULL);
	mysql_optionsv(m, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", "myring-itest");
	mysql_optionsv(m, MYSQL_OPT_CONNECT_ATTR_ADD, "long_attr",
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	cr_assert_not_null(mysql_real_connect(m, "127.0.0.1", "myring", "myring-pw",
					      NULL, (unsigned)env_int("MYRING_PORT"),
					      NULL, 0), "%s", mysql_error(m));
	char *db = query_value(m, "SELECT IFNULL(DATABASE(), 'none')");
	cr_assert_str_eq(db, "none");
	free(db);
	cr_assert_eq(mysql_select_db(m, "myring_test"), 0, "%s", mysql_error(m));
	db = query_value(m, "SELECT DATABASE()");
	cr_assert_str_eq(db, "myring_test");
	free(db);
	cr_assert_neq(mysql_select_db(m, "no_such_db_xyz"), 0);
	cr_assert_eq(mysql_errno(m), 1049);
	mysql_close(m);
}

Test(session, text_queries_of_many_types)
{
	MYSQL *m = proxy_connect();
	MYSQL_RES *r;
	MYSQL_ROW row;
	unsigned long *len;

	cr_assert_eq(mysql_query(m,
		"SELECT 42, -7, 18446744073709551615, 3.25, 1.5e300, "
		"'it''s \\\\ \"q\"', X'00FF00', NULL, DATE'2026-11-24', "
		"TIME'-12:34:56.5', TIMESTAMP'2026-11-24 01:02:03.123456', "
		"JSON_OBJECT('k', 'v'), CAST('ünïcødé ✓' AS CHAR CHARACTER SET utf8mb4), "
		"REPEAT('b', 300)"), 0, "%s", mysql_error(m));
	r = mysql_store_result(m);
	cr_assert_not_null(r);
	cr_assert_eq(mysql_num_fields(r), 14);
	row = mysql_fetch_row(r);
	len = mysql_fetch_lengths(r);
	cr_assert_str_eq(row[0], "42");
	cr_assert_str_eq(row[1], "-7");
	cr_assert_str_eq(row[2], "18446744073709551615");
	cr_assert_str_eq(row[3], "3.25");
	cr_assert_str_eq(row[5], "it's \\ \"q\"");
	cr_assert_eq(len[6], 3);
	cr_assert_eq(memcmp(row[6], "\0\xff\0", 3), 0);
	cr_assert_null(row[7]);
	cr_assert_str_eq(row[8], "2026-11-24");
	cr_assert_str_eq(row[9], "-12:34:56.5");
	cr_assert_str_eq(row[10], "2026-11-24 01:02:03.123456");
	cr_assert_str_eq(row[11], "{\"k\": \"v\"}");
	cr_assert_str_eq(row[12], "ünïcødé ✓");
	cr_assert_eq(len[13], 300);
	cr_assert_null(mysql_fetch_row(r));
	mysql_free_result(r);
	mysql_close(m);
}

Test(session, dml_affected_rows_insert_id_and_errors)
{
	MYSQL *m = proxy_connect();
	query_ok(m, "DROP TABLE IF EXISTS it_dml");
	query_ok(m, "CREATE TABLE it_dml (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
	query_ok(m, "INSERT INTO it_dml (v) VALUES (1), (2), (3)");
	cr_assert_eq(mysql_affected_rows(m), 3);
	query_ok(m, "INSERT INTO it_dml (v) VALUES (9)");
	cr_assert_eq(mysql_insert_id(m), 4);
	query_ok(m, "UPDATE it_dml SET v = v + 10 WHERE v < 3");
	cr_assert_eq(mysql_affected_rows(m), 2);
	cr_assert_neq(mysql_query(m, "SELEC broken"), 0);
	cr_assert_eq(mysql_errno(m), 1064);
	cr_assert_neq(mysql_query(m, "SELECT * FROM it_missing_table"), 0);
	cr_assert_eq(mysql_errno(m), 1146);
	char *sum = query_value(m, "SELECT SUM(v) FROM it_dml");
	cr_assert_str_eq(sum, "35", "session continues after errors");
	free(sum);
	query_ok(m, "DROP TABLE it_dml");
	mysql_close(m);
}

Test(session, transactions)
{
	MYSQL *m = proxy_connect();
	query_ok(m, "DROP TABLE IF EXISTS it_tx");
	query_ok(m, "CREATE TABLE it_tx (id INT PRIMARY KEY) ENGINE=InnoDB");
	query_ok(m, "BEGIN");
	query_ok(m, "INSERT INTO it_tx VALUES (1), (2)");
	query_ok(m, "ROLLBACK");
	char *n = query_value(m, "SELECT COUNT(*) FROM it_tx");
	cr_assert_str_eq(n, "0");
	free(n);
	cr_assert_eq(mysql_autocommit(m, 0), 0);
	query_ok(m, "INSERT INTO it_tx VALUES (3)");
	char *in_trans = query_value(m, "SELECT @@in_transaction");
	cr_assert_str_eq(in_trans, "1");
	free(in_trans);
	cr_assert_eq(mysql_commit(m), 0);
	cr_assert_eq(mysql_autocommit(m, 1), 0);
	MYSQL *other = direct_connect();
	n = query_value(other, "SELECT COUNT(*) FROM it_tx");
	cr_assert_str_eq(n, "1", "commit is visible to other sessions");
	free(n);
	mysql_close(other);
	query_ok(m, "DROP TABLE it_tx");
	mysql_close(m);
}

Test(session, change_user_reset_ping_statistics)
{
	MYSQL *m = proxy_connect();
	char *v;

	query_ok(m, "SET @marker = 'kept'");
	cr_assert_eq(mysql_change_user(m, "myring_other", "other-pw", "myring_test"),
		     0, "%s", mysql_error(m));
	v = query_value(m, "SELECT CURRENT_USER()");
	cr_assert_str_eq(v, "myring_other@127.0.0.1");
	free(v);
	v = query_value(m, "SELECT IFNULL(@marker, 'cleared')");
	cr_assert_str_eq(v, "cleared", "change user resets the session");
	free(v);
	cr_assert_eq(mysql_change_user(m, "myring", "myring-pw", "mysql"), 0,
		     "%s", mysql_error(m));
	v = query_value(m, "SELECT DATABASE()");
	cr_assert_str_eq(v, "mysql");
	free(v);

	query_ok(m, "SET @x = 5");
	cr_assert_eq(mysql_reset_connection(m), 0, "%s", mysql_error(m));
	v = query_value(m, "SELECT IFNULL(@x, 'reset')");
	cr_assert_str_eq(v, "reset");
	free(v);

	cr_assert_eq(mysql_ping(m), 0);
	const char *stat = mysql_stat(m);
	cr_assert_not_null(stat);
	cr_assert(strstr(stat, "Uptime"), "COM_STATISTICS text: %s", stat);

	cr_assert_neq(mysql_change_user(m, "myring", "bad-pw", NULL), 0);
	cr_assert_eq(mysql_errno(m), 1045);
	mysql_close(m);
}

Test(session, deny_rule_rejects_and_session_continues)
{
	MYSQL *m = proxy_connect();
	cr_assert_neq(mysql_query(m, "SELECT 'myring_denied_abc'"), 0);
	cr_assert_eq(mysql_errno(m), 1105);
	cr_assert(strstr(mysql_error(m), "myring"), "%s", mysql_error(m));
	cr_assert(strstr(mysql_error(m), "denied"), "%s", mysql_error(m));
	char *v = query_value(m, "SELECT 'fine'");
	cr_assert_str_eq(v, "fine");
	free(v);
	/* a denied prepared statement */
	MYSQL_STMT *st = mysql_stmt_init(m);
	cr_assert_neq(mysql_stmt_prepare(st, "SELECT 'myring_denied_xyz'", -1), 0);
	cr_assert_eq(mysql_stmt_errno(st), 1105);
	mysql_stmt_close(st);
	v = query_value(m, "SELECT 'still fine'");
	cr_assert_str_eq(v, "still fine");
	free(v);
	mysql_close(m);
}

/* Finds the log line containing marker (waits up to 3 s). */
static char *find_log_line(const char *marker)
{
	const char *path = env_or_fail("MYRING_QUERY_LOG");
	for (int i = 0; i < 60; i++) {
		FILE *f = fopen(path, "r");
		char *line = NULL;
		size_t cap = 0;
		if (f) {
			while (getline(&line, &cap, f) > 0) {
				if (strstr(line, marker)) {
					fclose(f);
					return line;
				}
			}
			fclose(f);
			free(line);
		}
		usleep(50000);
	}
	return NULL;
}

static void split_fields(char *line, char **fields, int n)
{
	line[strcspn(line, "\n")] = 0;
	for (int i = 0; i < n; i++) {
		fields[i] = line;
		char *tab = line ? strchr(line, '\t') : NULL;
		if (tab) {
			*tab = 0;
			line = tab + 1;
		} else {
			line = NULL;
		}
	}
}

Test(session, query_log_lines)
{
	MYSQL *m = proxy_connect();
	char marker[64], sql[256];
	char *f[8];

	snprintf(marker, sizeof(marker), "qlog_%d_%ld", getpid(), (long)now_ms());
	snprintf(sql, sizeof(sql), "SELECT '%s', 'tab\there', 'nl\nthere'", marker);
	query_ok(m, sql);
	char *line = find_log_line(marker);
	cr_assert_not_null(line, "no log line for %s", marker);
	split_fields(line, f, 8);
	cr_assert_eq(strlen(f[0]), 27, "timestamp %s", f[0]);
	cr_assert_eq(f[0][26], 'Z');
	cr_assert(!strncmp(f[1], "127.0.0.1:", 10), "client %s", f[1]);
	cr_assert_str_eq(f[2], "myring");
	cr_assert_str_eq(f[3], "myring_test");
	cr_assert_str_eq(f[4], "Query");
	cr_assert(strstr(f[5], "tab\\there"), "escaped tab: %s", f[5]);
	cr_assert(strstr(f[5], "nl\\nthere"), "escaped newline: %s", f[5]);
	char *end;
	strtoull(f[6], &end, 10);
	cr_assert(*f[6] && !*end, "duration %s", f[6]);
	cr_assert_str_eq(f[7], "rows=1");
	free(line);

	snprintf(sql, sizeof(sql), "SELEC %s", marker);
	cr_assert_neq(mysql_query(m, sql), 0);
	snprintf(sql, sizeof(sql), "SELEC %s", marker);
	line = find_log_line(sql);
	cr_assert_not_null(line);
	split_fields(line, f, 8);
	cr_assert_str_eq(f[7], "err=1064");
	free(line);

	query_ok(m, "DROP TABLE IF EXISTS it_qlog");
	query_ok(m, "CREATE TABLE it_qlog (a INT)");
	snprintf(sql, sizeof(sql), "INSERT INTO it_qlog VALUES (1),(2),(3) /* %s */", marker);
	query_ok(m, sql);
	line = find_log_line(sql);
	cr_assert_not_null(line);
	split_fields(line, f, 8);
	cr_assert_str_eq(f[7], "affected=3");
	free(line);

	cr_assert_eq(mysql_select_db(m, "mysql"), 0);
	snprintf(sql, sizeof(sql), "SELECT '%s_after_use'", marker);
	query_ok(m, sql);
	snprintf(sql, sizeof(sql), "%s_after_use", marker);
	line = find_log_line(sql);
	cr_assert_not_null(line);
	split_fields(line, f, 8);
	cr_assert_str_eq(f[3], "mysql", "schema follows COM_INIT_DB");
	free(line);
	query_ok(m, "DROP TABLE myring_test.it_qlog");
	mysql_close(m);
}

Test(session, mariadb_cli_through_the_proxy)
{
	char cmd[512], out[256] = {0};
	snprintf(cmd, sizeof(cmd),
		 "mariadb -h127.0.0.1 -P%d -umyring -pmyring-pw myring_test -B -N "
		 "-e \"SELECT 6*7; SELECT CONCAT('a','b')\" 2>&1",
		 env_int("MYRING_PORT"));
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	int rc = pclose(p);
	out[n] = 0;
	cr_assert_eq(rc, 0, "mariadb CLI failed: %s", out);
	cr_assert_str_eq(out, "42\nab\n");
}

/* The shared proxy runs with --rewrite '#myring_rewrite_me#rewritten#' and
 * --rewrite "#^SELECT 'myring_shrink[^']*'#SELECT 'shrunk'#". */
Test(session, rewrite_rule_changes_the_query)
{
	MYSQL *m = proxy_connect();
	char *v = query_value(m, "SELECT 'myring_rewrite_me'");
	cr_assert_str_eq(v, "rewritten");
	free(v);
	/* the same through a prepared statement */
	MYSQL_STMT *st = mysql_stmt_init(m);
	cr_assert_eq(mysql_stmt_prepare(st, "SELECT 'myring_rewrite_me', ?", -1), 0,
		     "%s", mysql_stmt_error(st));
	mysql_stmt_close(st);
	v = query_value(m, "SELECT 'untouched'");
	cr_assert_str_eq(v, "untouched");
	free(v);
	mysql_close(m);
}

Test(session, rewrite_of_a_multi_packet_query_renumbers_the_response)
{
	/* 20 MiB query: two packets (seq 0, 1) from the client; the rewrite is
	 * one packet (seq 0), so the server answers from seq 1 while the client
	 * expects 2: the proxy must renumber every response packet. */
	MYSQL *m = proxy_connect();
	size_t lit = 20u << 20;
	char *q = malloc(lit + 64);
	int n = sprintf(q, "SELECT 'myring_shrink");
	memset(q + n, 'w', lit);
	n += (int)lit;
	n += sprintf(q + n, "'");
	cr_assert_eq(mysql_real_query(m, q, (unsigned long)n), 0, "%s", mysql_error(m));
	MYSQL_RES *r = mysql_store_result(m);
	cr_assert_not_null(r, "%s", mysql_error(m));
	MYSQL_ROW row = mysql_fetch_row(r);
	cr_assert_str_eq(row[0], "shrunk");
	mysql_free_result(r);
	free(q);
	char *v = query_value(m, "SELECT 'in step after the rewrite'");
	cr_assert_str_eq(v, "in step after the rewrite");
	free(v);
	mysql_close(m);
}
