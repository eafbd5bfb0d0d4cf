/*
 * The admin port's SQL through Connector/C and the mariadb CLI: the
 * expression evaluator (what connectors and GUIs send on connect), WHERE
 * with AND/OR/IN, aggregates, aliases and ORDER BY on several keys, the
 * SHOW statements, information_schema, SHOW PROCESSLIST, and the CLI's
 * `status` command.  Each test starts a myring of its own with --admin.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define ADMIN_PW "adm1n-pw"

struct env {
	struct proxy_proc p;
	char config[128];
	int admin_port;
};

/* myring with admin credentials, digests on and the given rules (YAML
 * list items indented by two spaces, or NULL). */
static void start(struct env *e, const char *rules)
{
	static int seq;
	char admin[64];
	FILE *f;

	snprintf(e->config, sizeof(e->config), "/tmp/myring-itest-admin-%d-%d.yaml",
		 getpid(), ++seq);
	f = fopen(e->config, "w");
	cr_assert(f, "cannot write %s: %s", e->config, strerror(errno));
	fprintf(f, "admin-user: admin\nadmin-password: %s\ndigests: on\n%s%s",
		ADMIN_PW, rules ? "rules:\n" : "", rules ? rules : "");
	fclose(f);
	e->admin_port = free_port();
	snprintf(admin, sizeof(admin), "127.0.0.1:%d", e->admin_port);
	const char *args[] = {"--config", e->config, "--admin", admin, NULL};
	proxy_start(&e->p, env_int("MARIADB_PORT"), args);
}

static void stop(struct env *e)
{
	int rc = proxy_stop(&e->p, 20000);

	cr_expect_eq(rc, 0, "myring exit status %d (-1: still running 20 s "
		     "after SIGTERM); %s ends with:\n%s", rc, e->p.log,
		     proxy_log_tail(&e->p));
	unlink(e->config);
}

static MYSQL *admin_db(struct env *e, const char *db)
{
	char err[512];
	MYSQL *m = connect_port(e->admin_port, "admin", ADMIN_PW, db, 0, err,
				sizeof(err));
	cr_assert(m, "connect to the admin port: %s", err);
	return m;
}

static MYSQL *admin(struct env *e)
{
	return admin_db(e, NULL);
}

static MYSQL *client(struct env *e)
{
	char err[512];
	MYSQL *m = connect_port(e->p.port, "myring", "myring-pw", "myring_test",
				0, err, sizeof(err));
	cr_assert(m, "connect through myring: %s", err);
	return m;
}

/* A whole result as text: the column names, then each row, fields
 * separated by tabs, lines ended by newlines, NULL as "NULL". */
static char out[65536];

static const char *q(MYSQL *m, const char *sql)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	size_t n = 0;
	unsigned nf;

	cr_assert_eq(mysql_query(m, sql), 0, "%s: %u %s", sql, mysql_errno(m),
		     mysql_error(m));
	r = mysql_store_result(m);
	cr_assert(r, "%s: no result set", sql);
	nf = mysql_num_fields(r);
	MYSQL_FIELD *f = mysql_fetch_fields(r);
	for (unsigned i = 0; i < nf; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? "\t" : "",
				      f[i].name);
	n += (size_t)snprintf(out + n, sizeof(out) - n, "\n");
	while ((row = mysql_fetch_row(r))) {
		for (unsigned i = 0; i < nf; i++)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
					      i ? "\t" : "", row[i] ? row[i] : "NULL");
		n += (size_t)snprintf(out + n, sizeof(out) - n, "\n");
	}
	mysql_free_result(r);
	return out;
}

/* The rows only (without the header line). */
static const char *rows(MYSQL *m, const char *sql)
{
	const char *s = strchr(q(m, sql), '\n');
	return s + 1;
}

static void expect_error(MYSQL *m, const char *sql, unsigned code,
			 const char *says)
{
	cr_assert_neq(mysql_query(m, sql), 0, "%s succeeded", sql);
	cr_assert_eq(mysql_errno(m), code, "%s: %u %s", sql, mysql_errno(m),
		     mysql_error(m));
	cr_assert(!strncmp(mysql_error(m), "myring admin: ", 14), "%s: %s", sql,
		  mysql_error(m));
	cr_assert(strstr(mysql_error(m), says), "%s: '%s' lacks '%s'", sql,
		  mysql_error(m), says);
	/* The connection goes on. */
	cr_assert_str_eq(rows(m, "SELECT 1"), "1\n");
}

/* ---- expressions ---------------------------------------------------------- */

Test(admin, expressions_are_evaluated_never_echoed)
{
	struct env e;
	char want[512];

	start(&e, NULL);
	MYSQL *a = admin(&e);

	/* NOW() is the time, in UTC, not the text "NOW()". */
	struct tm tm = {0};
	const char *v = rows(a, "SELECT NOW()");
	cr_assert_eq(sscanf(v, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
			    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec), 6,
		     "%s", v);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	long skew = (long)(timegm(&tm) - time(NULL));
	cr_assert(skew >= -10 && skew <= 10, "NOW() is %s (%ld s off)", v, skew);
	cr_assert_str_eq(q(a, "SELECT 1+1"), "1+1\n2\n");
	/* Every selected item is its own column. */
	cr_assert_str_eq(q(a, "SELECT USER(), DATABASE()"),
			 "USER()\tDATABASE()\nadmin@127.0.0.1\tstats\n");
	cr_assert_str_eq(q(a, "SELECT CURRENT_USER() AS u, CURRENT_USER"),
			 "u\tCURRENT_USER\nadmin@127.0.0.1\tadmin@127.0.0.1\n");
	/* @@version is the greeting's. */
	snprintf(want, sizeof(want), "@@version\tVERSION()\n%s\t%s\n",
		 mysql_get_server_info(a), mysql_get_server_info(a));
	cr_assert_str_eq(q(a, "SELECT @@version, VERSION()"), want);
	cr_assert(strstr(mysql_get_server_info(a), "myring"));
	cr_assert_str_eq(q(a, "SELECT @@version_comment LIMIT 1"),
			 "@@version_comment\nmyring admin\n");
	snprintf(want, sizeof(want), "@@max_allowed_packet\t@@session.autocommit\t"
		 "id\n1048576\t1\t%lu\n", mysql_thread_id(a));
	cr_assert_str_eq(q(a, "SELECT @@max_allowed_packet, @@session.autocommit, "
			   "CONNECTION_ID() AS id"), want);
	cr_assert_str_eq(rows(a, "SELECT VERSION() = @@version, CURRENT_TIMESTAMP = "
			      "NOW(), 'a' 'b', 7 DIV 2, 1/4, -3 % 2, 2 > 1 AND "
			      "NOT 0, 1 IN (2, 3), NULL IS NULL"),
			 "1\t1\tab\t3\t0.25\t-1\t1\t0\t1\n");
	/* Connector/J's first query, aliases and all. */
	cr_assert_str_eq(q(a, "/* mysql-connector-java-8.0.33 */SELECT "
			   "@@session.auto_increment_increment AS "
			   "auto_increment_increment, @@character_set_client AS "
			   "character_set_client, @@lower_case_table_names AS "
			   "lower_case_table_names, @@transaction_isolation AS "
			   "transaction_isolation, @@sql_mode AS sql_mode"),
			 "auto_increment_increment\tcharacter_set_client\t"
			 "lower_case_table_names\ttransaction_isolation\tsql_mode\n"
			 "1\tutf8mb4\t1\tREPEATABLE-READ\t\n");

	/* What cannot be evaluated is an error, never echoed. */
	expect_error(a, "SELECT CONCAT('a', 'b')", 1064, "CONCAT");
	expect_error(a, "SELECT 1 +", 1064, "expected an expression");
	expect_error(a, "SELECT CASE WHEN 1 THEN 2 END", 1064, "CASE");
	expect_error(a, "SELECT @@no_such_variable", 1193, "no_such_variable");
	expect_error(a, "SELECT no_such_column", 1054, "no_such_column");
	cr_assert_str_eq(mysql_sqlstate(a), "00000");
	cr_assert_neq(mysql_query(a, "SELECT no_such_column"), 0);
	cr_assert_str_eq(mysql_sqlstate(a), "42S22");
	expect_error(a, "SELECT 9223372036854775807 + 1", 1690, "out of range");
	expect_error(a, "SELECT @x", 1064, "user variables");
	mysql_close(a);
	stop(&e);
}

/* ---- WHERE, aggregates, aliases, ORDER BY ------------------------------ */

Test(admin, where_with_and_or_in_count_aliases_and_order_by)
{
	struct env e;

	start(&e, "  - name: r-one\n    match: adm_one\n"
		  "  - name: r-two\n    match: adm_two\n"
		  "  - name: r-three\n    match: adm_three\n");
	MYSQL *m = client(&e);
	static const char *const sqls[] = {
		"SELECT 'adm_one'", "SELECT 'adm_two'", "SELECT 'adm_two'",
		"SELECT 'adm_three'", "SELECT 'adm_three'", "SELECT 'adm_none'",
	};
	for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++)
		free(query_value(m, sqls[i]));
	MYSQL *a = admin(&e);

	cr_assert_str_eq(q(a, "SELECT COUNT(*) AS n, SUM(hits), MAX(hits) "
			   "FROM stats.rules"),
			 "n\tSUM(hits)\tMAX(hits)\n3\t5\t2\n");
	cr_assert_str_eq(q(a, "SELECT name AS n, hits h FROM stats.rules WHERE "
			   "hits >= 2 AND (name = 'r-two' OR name = 'r-three') "
			   "ORDER BY h DESC, n ASC"),
			 "n\th\nr-three\t2\nr-two\t2\n");
	cr_assert_str_eq(rows(a, "SELECT name FROM stats.rules WHERE name IN "
			      "('r-one', 'r-three') ORDER BY name DESC"),
			 "r-three\nr-one\n");
	cr_assert_str_eq(rows(a, "SELECT rule, name FROM stats.rules WHERE NOT "
			      "hits = 1 ORDER BY hits DESC, rule DESC LIMIT 1"),
			 "3\tr-three\n");
	cr_assert_str_eq(rows(a, "SELECT r.name FROM stats.rules r WHERE r.hits "
			      "BETWEEN 1 AND 1 OR r.name LIKE '%two'"),
			 "r-one\nr-two\n");
	cr_assert_str_eq(rows(a, "SELECT COUNT(*) FROM stats.rules WHERE hits > 5"),
			 "0\n");
	/* docs/admin.md's example: two conditions on the digests. */
	cr_assert_str_eq(q(a, "SELECT fingerprint, count FROM stats.digests "
			   "WHERE user = 'myring' AND schema = 'myring_test'"),
			 "fingerprint\tcount\nSELECT ?\t6\n");
	cr_assert_str_eq(rows(a, "SELECT COUNT(*), SUM(count) FROM stats.digests "
			      "WHERE user = 'myring' OR user = 'nobody'"),
			 "1\t6\n");
	expect_error(a, "SELECT COUNT(*), name FROM stats.rules", 1140, "'name'");
	expect_error(a, "SELECT name FROM stats.rules ORDER BY 3", 1054,
		     "order clause");
	expect_error(a, "SELECT nope FROM stats.rules", 1054, "hits");
	mysql_close(a);
	mysql_close(m);
	stop(&e);
}

/* ---- SHOW ------------------------------------------------------------------- */

/* The column names of a result, comma-separated. */
static const char *fields(MYSQL *m, const char *sql)
{
	static char names[4096];
	const char *s = q(m, sql);
	size_t n = strcspn(s, "\n");

	snprintf(names, sizeof(names), "%.*s", (int)n, s);
	for (char *p = names; *p; p++)
		if (*p == '\t')
			*p = ',';
	return names;
}

Test(admin, show_variables_tables_columns_and_more)
{
	struct env e;
	char want[512], sel[4096];

	start(&e, NULL);
	MYSQL *a = admin(&e);
	cr_assert_str_eq(q(a, "SHOW VARIABLES LIKE 'max_allowed%'"),
			 "Variable_name\tValue\nmax_allowed_packet\t1048576\n");
	snprintf(want, sizeof(want), "version\t%s\nversion_comment\tmyring admin\n",
		 mysql_get_server_info(a));
	cr_assert_str_eq(rows(a, "SHOW SESSION VARIABLES WHERE Variable_name = "
			      "'version' OR Variable_name = 'version_comment'"),
			 want);
	cr_assert_str_eq(rows(a, "SHOW GLOBAL VARIABLES LIKE 'autocommit'"),
			 "autocommit\tON\n");
	cr_assert_str_eq(rows(a, "SHOW VARIABLES LIKE 'no_such_%'"), "");
	cr_assert_str_eq(q(a, "SHOW DATABASES"),
			 "Database\ninformation_schema\nstats\n");
	cr_assert_str_eq(q(a, "SHOW FULL TABLES FROM stats"),
			 "Tables_in_stats\tTable_type\nbackends\tBASE TABLE\n"
			 "digests\tBASE TABLE\npins\tBASE TABLE\npools\tBASE TABLE\n"
			 "rules\tBASE TABLE\nsessions\tBASE TABLE\n"
			 "shard_tables\tBASE TABLE\nshards\tBASE TABLE\n"
			 "stats\tBASE TABLE\ntransactions\tBASE TABLE\n"
			 "workers\tBASE TABLE\n");
	cr_assert_str_eq(q(a, "SHOW TABLES FROM information_schema LIKE '%S'"),
			 "Tables_in_information_schema\nCOLUMNS\nTABLES\n");
	cr_assert_str_eq(q(a, "SHOW COLUMNS FROM stats.rules LIKE 'n%'"),
			 "Field\tType\tNull\tKey\tDefault\tExtra\n"
			 "name\ttext\tYES\t\tNULL\t\n");
	cr_assert_str_eq(q(a, "SHOW FULL COLUMNS FROM workers WHERE Field = 'cpu'"),
			 "Field\tType\tCollation\tNull\tKey\tDefault\tExtra\t"
			 "Privileges\tComment\ncpu\tbigint(20)\tNULL\tYES\t\t"
			 "NULL\t\tselect\t\n");
	/* DESCRIBE lists exactly the columns SELECT * returns. */
	static const char *const tables[] = {
		"backends", "digests", "pins", "pools", "rules", "sessions",
		"shard_tables", "shards", "stats", "transactions", "workers",
	};
	for (int i = 0; i < 11; i++) {
		char sql[128], described[4096] = "";
		snprintf(sql, sizeof(sql), "SELECT * FROM stats.%s LIMIT 0", tables[i]);
		snprintf(sel, sizeof(sel), "%s", fields(a, sql));
		snprintf(sql, sizeof(sql), "%s stats.%s", i % 2 ? "DESC" : "DESCRIBE",
			 tables[i]);
		const char *r = rows(a, sql);
		while (*r) {
			size_t n = strcspn(r, "\t");
			snprintf(described + strlen(described),
				 sizeof(described) - strlen(described), "%s%.*s",
				 described[0] ? "," : "", (int)n, r);
			r = strchr(r, '\n') + 1;
		}
		cr_assert_str_eq(described, sel, "%s", tables[i]);
	}
	cr_assert_str_eq(q(a, "SHOW STATUS LIKE 'workers'"),
			 "Variable_name\tValue\nworkers\t2\n");
	cr_assert_str_eq(q(a, "SHOW WARNINGS"), "Level\tCode\tMessage\n");
	cr_assert_str_eq(rows(a, "SHOW INDEX FROM stats.digests"), "");
	cr_assert(strstr(rows(a, "SHOW CREATE TABLE stats.workers"),
			 "`cpu` bigint(20),"), "%s", out);
	cr_assert(!strncmp(rows(a, "SHOW TABLE STATUS WHERE Name = 'rules'"),
			   "rules\tMYRING\t", 13), "%s", out);
	expect_error(a, "SHOW COLUMNS FROM stats.nope", 1146, "stats.nope");
	expect_error(a, "SHOW TABLES FROM mysql", 1049, "mysql");
	/* What Connector/J 5.1, Connector/NET and DBeaver ask on connect. */
	cr_assert_str_eq(q(a, "SHOW COLLATION WHERE Charset = 'utf8mb4'"),
			 "Collation\tCharset\tId\tDefault\tCompiled\tSortlen\t"
			 "Pad_attribute\nutf8mb4_general_ci\tutf8mb4\t45\tYes\t"
			 "Yes\t1\tPAD SPACE\n");
	cr_assert_str_eq(rows(a, "SHOW CHARACTER SET LIKE 'utf8%'"),
			 "utf8mb4\tUTF-8 Unicode\tutf8mb4_general_ci\t4\n");
	cr_assert_str_eq(fields(a, "SHOW ENGINES"),
			 "Engine,Support,Comment,Transactions,XA,Savepoints");
	expect_error(a, "SHOW PLUGINS", 1064, "SHOW: expected");
	mysql_close(a);
	stop(&e);
}

/* ---- information_schema ------------------------------------------------------ */

Test(admin, information_schema_describes_every_table)
{
	struct env e;
	char err[512];

	start(&e, NULL);
	MYSQL *a = admin(&e);
	cr_assert_str_eq(rows(a, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
			      "ORDER BY SCHEMA_NAME"), "information_schema\nstats\n");
	cr_assert_str_eq(rows(a, "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM "
			      "information_schema.SCHEMATA WHERE SCHEMA_NAME = "
			      "'stats'"), "stats\tutf8mb4\n");
	cr_assert_str_eq(rows(a, "SELECT TABLE_NAME, TABLE_TYPE FROM "
			      "information_schema.TABLES WHERE TABLE_SCHEMA = "
			      "'stats' ORDER BY TABLE_NAME"),
			 "backends\tBASE TABLE\ndigests\tBASE TABLE\n"
			 "pins\tBASE TABLE\npools\tBASE TABLE\n"
			 "rules\tBASE TABLE\nsessions\tBASE TABLE\n"
			 "shard_tables\tBASE TABLE\nshards\tBASE TABLE\n"
			 "stats\tBASE TABLE\ntransactions\tBASE TABLE\n"
			 "workers\tBASE TABLE\n");
	cr_assert_str_eq(rows(a, "SELECT COUNT(*) FROM information_schema.TABLES "
			      "WHERE TABLE_SCHEMA IN ('stats', 'information_schema')"),
			 "15\n");
	/* The catalog matches what the tables return. */
	static const char *const tables[] = {
		"stats.backends", "stats.digests", "stats.pins", "stats.pools",
		"stats.rules", "stats.sessions", "stats.shard_tables",
		"stats.shards", "stats.stats", "stats.transactions",
		"stats.workers", "information_schema.SCHEMATA",
		"information_schema.TABLES", "information_schema.COLUMNS",
		"information_schema.PROCESSLIST",
	};
	for (int i = 0; i < 15; i++) {
		char sql[512], sel[4096], cols[4096] = "";
		const char *dot = strchr(tables[i], '.');
		snprintf(sql, sizeof(sql), "SELECT * FROM %s LIMIT 0", tables[i]);
		snprintf(sel, sizeof(sel), "%s", fields(a, sql));
		snprintf(sql, sizeof(sql), "SELECT COLUMN_NAME FROM "
			 "information_schema.COLUMNS WHERE TABLE_SCHEMA = '%.*s' "
			 "AND TABLE_NAME = '%s' ORDER BY ORDINAL_POSITION",
			 (int)(dot - tables[i]), tables[i], dot + 1);
		for (const char *r = rows(a, sql); *r; r = strchr(r, '\n') + 1)
			snprintf(cols + strlen(cols), sizeof(cols) - strlen(cols),
				 "%s%.*s", cols[0] ? "," : "", (int)strcspn(r, "\n"), r);
		cr_assert_str_eq(cols, sel, "%s", tables[i]);
	}
	cr_assert_str_eq(rows(a, "SELECT DATA_TYPE, COLUMN_TYPE, IS_NULLABLE FROM "
			      "information_schema.COLUMNS WHERE TABLE_NAME = "
			      "'digests' AND COLUMN_NAME IN ('count', 'fingerprint') "
			      "ORDER BY ORDINAL_POSITION DESC"),
			 "bigint\tbigint(20) unsigned\tYES\ntext\ttext\tYES\n");

	/* USE and COM_INIT_DB move between the two databases. */
	cr_assert_eq(mysql_select_db(a, "information_schema"), 0, "%s",
		     mysql_error(a));
	cr_assert_str_eq(rows(a, "SELECT DATABASE()"), "information_schema\n");
	cr_assert_str_eq(rows(a, "SHOW TABLES"),
			 "COLUMNS\nPROCESSLIST\nSCHEMATA\nTABLES\n");
	cr_assert_str_eq(rows(a, "SELECT COUNT(*) FROM SCHEMATA"), "2\n");
	expect_error(a, "SELECT * FROM digests", 1146, "information_schema.digests");
	cr_assert_neq(mysql_select_db(a, "mysql"), 0);
	cr_assert_eq(mysql_errno(a), 1049);
	cr_assert_str_eq(rows(a, "SELECT DATABASE()"), "information_schema\n");
	cr_assert_eq(mysql_query(a, "USE stats"), 0, "%s", mysql_error(a));
	cr_assert_str_eq(rows(a, "SELECT DATABASE()"), "stats\n");
	expect_error(a, "USE nope", 1049, "nope");
	mysql_close(a);

	/* A database named at connect. */
	a = admin_db(&e, "information_schema");
	cr_assert_str_eq(rows(a, "SELECT DATABASE()"), "information_schema\n");
	mysql_close(a);
	cr_assert_null(connect_port(e.admin_port, "admin", ADMIN_PW, "nope", 0, err,
				    sizeof(err)));
	cr_assert(strstr(err, "1049"), "%s", err);
	stop(&e);
}

/* ---- SHOW PROCESSLIST ------------------------------------------------------ */

#define SLEEP_MARKER "myring-admin-processlist"

/* A query that runs until the test kills it (no assertions: this is not
 * the test's thread). */
static void *sleeper(void *arg)
{
	MYSQL *m = arg;

	if (mysql_query(m, "SELECT SLEEP(60) /* " SLEEP_MARKER " */") == 0)
		mysql_free_result(mysql_store_result(m));
	return NULL;
}

/* Ends the sleeper's query on the server itself. */
static void kill_sleeper(void)
{
	MYSQL *d = direct_connect();
	char *id = query_value(d, "SELECT ID FROM information_schema.PROCESSLIST "
			       "WHERE INFO LIKE '%" SLEEP_MARKER "%' AND "
			       "ID <> CONNECTION_ID()");
	char sql[64];

	cr_assert(id, "the sleeper's query is not on the server");
	snprintf(sql, sizeof(sql), "KILL QUERY %s", id);
	query_ok(d, sql);
	free(id);
	mysql_close(d);
}

/* The row of id in a tab-separated result, or NULL. */
static const char *row_of(const char *text, unsigned long id, char *line,
			  size_t cap)
{
	char prefix[32];
	const char *s;

	snprintf(prefix, sizeof(prefix), "\n%lu\t", id);
	if (!(s = strstr(text, prefix)))
		return NULL;
	s++;
	snprintf(line, cap, "%.*s", (int)strcspn(s, "\n"), s);
	return line;
}

Test(admin, processlist_lists_admin_connections_and_client_sessions,
     .timeout = 60)
{
	struct env e;
	char line[1024];
	pthread_t t;

	start(&e, NULL);
	MYSQL *a1 = admin(&e), *a2 = admin(&e);
	MYSQL *busy = client(&e), *idle = client(&e);
	pthread_create(&t, NULL, sleeper, busy);
	/* Wait until the worker has the query in flight. */
	for (uint64_t until = now_ms() + 10000;; usleep(20000)) {
		if (!strcmp(rows(a1, "SELECT COUNT(*) FROM information_schema."
				 "PROCESSLIST WHERE USER = 'myring' AND COMMAND "
				 "= 'Query'"), "1\n"))
			break;
		cr_assert_lt(now_ms(), until, "the SLEEP never showed up");
	}
	const char *all = q(a1, "SHOW PROCESSLIST");
	static const char header[] = "Id\tUser\tHost\tdb\tCommand\tTime\tState\t"
				     "Info\n";
	cr_assert(!strncmp(all, header, strlen(header)), "%s", all);
	cr_assert(row_of(all, mysql_thread_id(a1), line, sizeof(line)), "%s", all);
	cr_assert(strstr(line, "\tadmin\t127.0.0.1:") &&
		  strstr(line, "\tstats\tQuery\t") &&
		  strstr(line, "\tSHOW PROCESSLIST"), "%s", line);
	cr_assert(row_of(all, mysql_thread_id(a2), line, sizeof(line)), "%s", all);
	cr_assert(strstr(line, "\tSleep\t") && strstr(line, "\tNULL"), "%s", line);
	/* Two client sessions: one running, one idle; 2 + 2 rows in all. */
	int lines = 0, myring = 0;
	for (const char *s = all; (s = strchr(s, '\n')) && s[1]; s++) {
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(s + 1, "\n"),
			 s + 1);
		lines++;
		/* Client sessions' ids are above every admin connection's. */
		if (strstr(line, "\tmyring\t127.0.0.1:") &&
		    strstr(line, "\tmyring_test\t") &&
		    strtoull(line, NULL, 10) > 1ull << 48)
			myring++;
	}
	cr_assert_eq(lines, 4, "%s", all);
	cr_assert_eq(myring, 2, "%s", all);
	cr_assert(strstr(all, "\tmyring_test\tQuery\t"), "%s", all);
	cr_assert(strstr(all, "\tmyring_test\tSleep\tNULL\t"), "%s", all);
	cr_assert_str_eq(rows(a2, "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
			      "WHERE USER = 'admin' AND INFO LIKE 'SELECT COUNT%'"),
			 "1\n");
	cr_assert_str_eq(fields(a2, "SHOW FULL PROCESSLIST"),
			 "Id,User,Host,db,Command,Time,State,Info");
	kill_sleeper();
	pthread_join(t, NULL);
	mysql_close(busy);
	mysql_close(idle);
	mysql_close(a2);
	mysql_close(a1);
	stop(&e);
}

/* ---- the mariadb CLI ---------------------------------------------------------- */

static int run_cli(const char *cmd, char *buf, size_t cap)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	cr_assert(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	return pclose(f);
}

Test(admin, mariadb_cli_status_prints_sensible_values)
{
	struct env e;
	char cmd[512], text[16384], want[512];

	start(&e, NULL);
	MYSQL *a = admin(&e);
	const char *version = mysql_get_server_info(a);
	snprintf(cmd, sizeof(cmd), "mariadb -h127.0.0.1 -P%d -uadmin -p%s "
		 "-e status 2>&1", e.admin_port, ADMIN_PW);
	cr_assert_eq(run_cli(cmd, text, sizeof(text)), 0, "%s", text);
	static const char *const lines[] = {
		"\nCurrent database:\tstats\n",
		"\nCurrent user:\t\tadmin@127.0.0.1\n",
		"\nServer characterset:\tutf8mb4\n",
		"\nConn.  characterset:\tutf8mb4\n",
		"\nProtocol version:\t10\n",
		"\nUptime:\t\t\t",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_assert(strstr(text, lines[i]), "no '%s' in:\n%s", lines[i], text);
	snprintf(want, sizeof(want), "\nServer version:\t\t%s myring admin\n",
		 version);
	cr_assert(strstr(text, want), "no '%s' in:\n%s", want, text);
	cr_assert(!strstr(text, "DATABASE()") && !strstr(text, "<charset"),
		  "garbage in:\n%s", text);

	snprintf(cmd, sizeof(cmd), "mariadb -h127.0.0.1 -P%d -uadmin -p%s "
		 "-D information_schema --batch -e 'SELECT DATABASE(), NOW() "
		 "IS NOT NULL; SHOW TABLES' 2>&1", e.admin_port, ADMIN_PW);
	cr_assert_eq(run_cli(cmd, text, sizeof(text)), 0, "%s", text);
	cr_assert(!strncmp(text, "DATABASE()\tNOW() IS NOT NULL\n"
			   "information_schema\t1\n", 50), "%s", text);
	cr_assert(strstr(text, "\nPROCESSLIST\n"), "%s", text);
	mysql_close(a);
	stop(&e);
}
