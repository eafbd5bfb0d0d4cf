/*
 * Query rules, digest statistics, the admin port, /metrics and reload,
 * each against a myring of the test's own started with a config file,
 * in front of the private MariaDB, through Connector/C, the mariadb CLI
 * and a raw HTTP client.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define ADMIN_PW "s3cret-admin"

struct env {
	struct proxy_proc p;
	char config[128];
	int admin_port, metrics_port;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

/* Starts myring with a config: the admin credentials and `rules` (YAML
 * text of the rules list, indented by two spaces), plus extra lines. */
static void start(struct env *e, const char *rules, const char *extra)
{
	char text[16384], admin[64], metrics[64];
	static int seq;

	snprintf(e->config, sizeof(e->config), "/tmp/myring-itest-%d-%d.yaml",
		 getpid(), ++seq);
	snprintf(text, sizeof(text),
		 "admin-user: admin\nadmin-password: %s\ndigests: on\n%s\n"
		 "rules:\n%s", ADMIN_PW, extra ? extra : "", rules ? rules : "");
	write_file(e->config, text);
	e->admin_port = free_port();
	e->metrics_port = free_port();
	snprintf(admin, sizeof(admin), "127.0.0.1:%d", e->admin_port);
	snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", e->metrics_port);
	const char *args[] = {"--config", e->config, "--admin", admin,
			      "--metrics", metrics, NULL};
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

static MYSQL *client(struct env *e)
{
	char err[512];
	MYSQL *m = connect_port(e->p.port, "myring", "myring-pw", "myring_test",
				0, err, sizeof(err));
	cr_assert(m, "connect through myring: %s (myring's log: %s)", err,
		  proxy_log_tail(&e->p));
	return m;
}

static MYSQL *admin(struct env *e)
{
	char err[512];
	MYSQL *m = connect_port(e->admin_port, "admin", ADMIN_PW, NULL, 0, err,
				sizeof(err));
	cr_assert(m, "connect to the admin port: %s", err);
	return m;
}

/* First column of the first row of an admin query, or NULL. */
static char *admin_value(MYSQL *a, const char *sql)
{
	return query_value(a, sql);
}

static uint64_t admin_u64(MYSQL *a, const char *sql)
{
	char *v = admin_value(a, sql);
	cr_assert(v, "no row for %s", sql);
	uint64_t n = strtoull(v, NULL, 10);
	free(v);
	return n;
}

/* ---- rules ------------------------------------------------------------ */

Test(rules, reject_rewrite_and_answer_as_configured)
{
	struct env e;
	start(&e,
	      "  - name: no-drop\n"
	      "    match: '^\\s*DROP\\s+TABLE'\n"
	      "    action: reject\n"
	      "    error-code: 1142\n"
	      "    sqlstate: '42000'\n"
	      "    error-message: DROP TABLE is not allowed through myring\n"
	      "  - name: fix-limit\n"
	      "    match: \"^SELECT 'limit-me-(\\\\d+)'\"\n"
	      "    action: rewrite\n"
	      "    replace: \"SELECT 'rewritten-$1'\"\n"
	      "  - name: canned\n"
	      "    match: '^SELECT @@myring_canned'\n"
	      "    action: answer\n"
	      "    columns: [a, b]\n"
	      "    rows: [[one, '1'], [two, ~]]\n"
	      "  - name: fake-ok\n"
	      "    match: '^DO myring_noop'\n"
	      "    action: answer\n"
	      "    affected-rows: 7\n",
	      NULL);
	MYSQL *m = client(&e);

	cr_assert_neq(mysql_query(m, "drop TABLE nothing_here"), 0);
	cr_assert_eq(mysql_errno(m), 1142, "errno %u: %s", mysql_errno(m),
		     mysql_error(m));
	cr_assert_str_eq(mysql_sqlstate(m), "42000");
	cr_assert(strstr(mysql_error(m), "not allowed through myring"));
	cr_assert(!strncmp(mysql_error(m), "myring: ", 8), "a rule's own message is marked as myring's: %s", mysql_error(m));
	/* The session carries on. */
	char *v = query_value(m, "SELECT 'limit-me-42'");
	cr_assert_str_eq(v, "rewritten-42");
	free(v);

	cr_assert_eq(mysql_query(m, "SELECT @@myring_canned"), 0, "%s",
		     mysql_error(m));
	MYSQL_RES *r = mysql_store_result(m);
	cr_assert(r);
	cr_assert_eq(mysql_num_fields(r), 2);
	cr_assert_eq(mysql_num_rows(r), 2);
	MYSQL_FIELD *f = mysql_fetch_fields(r);
	cr_assert_str_eq(f[0].name, "a");
	cr_assert_str_eq(f[1].name, "b");
	MYSQL_ROW row = mysql_fetch_row(r);
	cr_assert_str_eq(row[0], "one");
	cr_assert_str_eq(row[1], "1");
	row = mysql_fetch_row(r);
	cr_assert_str_eq(row[0], "two");
	cr_assert_null(row[1]);
	mysql_free_result(r);

	cr_assert_eq(mysql_query(m, "DO myring_noop"), 0, "%s", mysql_error(m));
	cr_assert_eq(mysql_affected_rows(m), 7);
	/* Untouched queries still reach the server. */
	v = query_value(m, "SELECT 40 + 2");
	cr_assert_str_eq(v, "42");
	free(v);

	MYSQL *a = admin(&e);
	cr_assert_eq(admin_u64(a, "SELECT hits FROM stats.rules WHERE name = 'no-drop'"), 1);
	cr_assert_eq(admin_u64(a, "SELECT hits FROM stats.rules WHERE name = 'fix-limit'"), 1);
	cr_assert_eq(admin_u64(a, "SELECT hits FROM stats.rules WHERE name = 'canned'"), 1);
	mysql_close(a);
	mysql_close(m);
	stop(&e);
}

Test(rules, conditions_on_user_schema_client_command_and_continue)
{
	struct env e;
	start(&e,
	      "  - name: other-user-only\n"
	      "    user: myring_other\n"
	      "    match: myring_cond\n"
	      "    action: reject\n"
	      "    error-message: other user blocked\n"
	      "  - name: wrong-net\n"
	      "    client: 10.0.0.0/8\n"
	      "    match: myring_cond\n"
	      "    action: reject\n"
	      "  - name: in-schema\n"
	      "    schema: myring_test\n"
	      "    command: Init_db\n"
	      "    action: none\n"
	      "    continue: true\n"
	      "  - name: mark\n"
	      "    match: myring_cond\n"
	      "    continue: true\n"
	      "  - name: chain-1\n"
	      "    match: \"'chain-a'\"\n"
	      "    action: rewrite\n"
	      "    replace: \"'chain-b'\"\n"
	      "    continue: true\n"
	      "  - name: chain-2\n"
	      "    match: \"'chain-b'\"\n"
	      "    action: rewrite\n"
	      "    replace: \"'chain-c'\"\n",
	      NULL);
	MYSQL *m = client(&e);
	char err[512];

	/* Rule 1 is for another user, rule 2 for another network. */
	char *v = query_value(m, "SELECT 'myring_cond'");
	cr_assert_str_eq(v, "myring_cond");
	free(v);
	MYSQL *o = connect_port(e.p.port, "myring_other", "other-pw",
				"myring_test", 0, err, sizeof(err));
	cr_assert(o, "%s", err);
	cr_assert_neq(mysql_query(o, "SELECT 'myring_cond'"), 0);
	cr_assert_str_eq(mysql_error(o), "myring: other user blocked");
	mysql_close(o);
	/* A rewrite with continue: later rules see the new text. */
	v = query_value(m, "SELECT 'chain-a'");
	cr_assert_str_eq(v, "chain-c");
	free(v);
	cr_assert_eq(mysql_select_db(m, "myring_test"), 0);

	MYSQL *a = admin(&e);
	cr_assert_eq(admin_u64(a, "SELECT hits FROM stats.rules WHERE name = 'wrong-net'"), 0);
	cr_assert_eq(admin_u64(a, "SELECT hits FROM stats.rules WHERE name = 'other-user-only'"), 1);
	/* The other user's query stopped at the reject: 'mark' saw one. */
	cr_assert_eq(admin_u64(a, "SELECT hits FROM stats.rules WHERE name = 'mark'"), 1);
	cr_assert_eq(admin_u64(a, "SELECT hits FROM stats.rules WHERE name = 'in-schema'"), 1);
	cr_assert_eq(admin_u64(a, "SELECT hits FROM stats.rules WHERE name = 'chain-2'"), 1);
	mysql_close(a);
	mysql_close(m);
	stop(&e);
}

Test(rules, delay_holds_the_query_and_keeps_order)
{
	struct env e;
	start(&e,
	      "  - name: slow-down\n"
	      "    match: myring_delay_me\n"
	      "    delay-ms: 1000\n", NULL);
	MYSQL *m = client(&e);
	uint64_t t0 = now_ms();
	char *v = query_value(m, "SELECT 'myring_delay_me'");
	uint64_t took = now_ms() - t0;
	cr_assert_str_eq(v, "myring_delay_me");
	free(v);
	cr_assert_geq(took, 990, "delayed query took %llu ms", (unsigned long long)took);
	t0 = now_ms();
	v = query_value(m, "SELECT 'not delayed'");
	free(v);
	/* Bounded by the delay, not by a guess at the machine's speed: a
	 * slow CI host must not fail this, a delayed query must. */
	took = now_ms() - t0;
	cr_assert_lt(took, 1000, "an unmatched query was delayed (%llu ms)",
		     (unsigned long long)took);
	mysql_close(m);
	stop(&e);
}

Test(rules, log_action_writes_only_marked_commands)
{
	struct env e;
	char extra[256], logpath[128];

	snprintf(logpath, sizeof(logpath), "/tmp/myring-itest-log-%d.log", getpid());
	unlink(logpath);
	snprintf(extra, sizeof(extra), "log-queries: %s\nlog-queries-mode: rules\n",
		 logpath);
	start(&e, "  - name: log-deletes\n"
		  "    match: '^DELETE'\n"
		  "    log: true\n", extra);
	MYSQL *m = client(&e);
	query_ok(m, "CREATE TABLE IF NOT EXISTS rules_log (a INT)");
	query_ok(m, "DELETE FROM rules_log WHERE a = 12345");
	free(query_value(m, "SELECT 'not logged'"));
	mysql_close(m);
	stop(&e);
	FILE *f = fopen(logpath, "r");
	cr_assert(f);
	char line[4096];
	int lines = 0, deletes = 0;
	while (fgets(line, sizeof(line), f)) {
		lines++;
		deletes += strstr(line, "DELETE FROM rules_log") != NULL;
	}
	fclose(f);
	unlink(logpath);
	cr_assert_eq(deletes, 1);
	cr_assert_eq(lines, 1, "only the marked command is logged");
}

/* ---- what rules see: statements, comments, readings ----------------- */

static MYSQL *client_multi(int port)
{
	char err[512];
	MYSQL *m = connect_port(port, "myring", "myring-pw", "myring_test",
				CLIENT_MULTI_STATEMENTS, err, sizeof(err));
	cr_assert(m, "connect through myring: %s", err);
	return m;
}

/* sql is refused whole with the --deny error: one ERR, nothing after. */
static void expect_denied(MYSQL *m, const char *sql)
{
	if (!mysql_query(m, sql)) {
		cr_expect_fail("not denied: %s", sql);
		/* Keep the session usable for the next case. */
		do
			mysql_free_result(mysql_store_result(m));
		while (mysql_next_result(m) == 0);
		return;
	}
	cr_expect_eq(mysql_errno(m), 1105, "%s: %u %s", sql, mysql_errno(m),
		     mysql_error(m));
	cr_expect(strstr(mysql_error(m), "denied by rule 1"), "%s: %s", sql,
		  mysql_error(m));
	cr_expect_not(mysql_more_results(m), "%s: a result after the ERR", sql);
}

/* The first column of every result of a multi-statement query, "a|b|c". */
static char *all_values(MYSQL *m, const char *sql)
{
	static char out[512];
	size_t o = 0;

	out[0] = '\0';
	cr_assert_eq(mysql_query(m, sql), 0, "%s: %s", sql, mysql_error(m));
	do {
		MYSQL_RES *r = mysql_store_result(m);
		MYSQL_ROW row;

		if (!r)
			continue;
		row = mysql_fetch_row(r);
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", o ? "|" : "",
				      row && row[0] ? row[0] : "NULL");
		mysql_free_result(r);
	} while (mysql_next_result(m) == 0);
	cr_assert_eq(mysql_errno(m), 0, "%s: %s", sql, mysql_error(m));
	return out;
}

/*
 * The README's guard, --deny '^\s*DROP\s', against everything that used to
 * get a DROP past it, through a client with CLIENT_MULTI_STATEMENTS: each
 * command is refused whole and nothing of it runs (the INSERTs in front
 * of the DROPs, the SET that changes how the rest reads, the DROP).
 * Every one of these commands drops the table when sent to MariaDB 10.11
 * directly.
 */
Test(rules, deny_sees_every_statement_and_refuses_the_whole_command,
     .timeout = 60)
{
	const char *args[] = {"--deny", "^\\s*DROP\\s", NULL};
	static const char *const bypasses[] = {
		"INSERT INTO rules_guard VALUES (1); DROP TABLE rules_guard",
		"INSERT INTO rules_guard VALUES (2);drop table rules_guard;",
		"select 1;drop table rules_guard",
		"/* hi */ DROP TABLE rules_guard",
		"-- hi\nDROP TABLE rules_guard",
		"drop table rules_guard",
		"/*!DROP*/ TABLE rules_guard",
		"/*M!100100 DROP TABLE rules_guard */",
		/* MariaDB skips a "/ *!" comment of a MySQL 5.7+ version. */
		"/*!50700 SELECT 1, */ DROP TABLE rules_guard",
		/* The SET changes how the rest of the command reads. */
		"SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'; "
		"INSERT INTO rules_guard VALUES (3); "
		"SELECT 'a\\'; DROP TABLE rules_guard; -- '",
		"SET SESSION sql_mode = 'ANSI_QUOTES'; "
		"SELECT 1 AS \"a\\\"; DROP TABLE rules_guard; -- \"",
		"SET NAMES gbk; INSERT INTO rules_guard VALUES (4); "
		"SELECT 1 AS \xbf`; DROP TABLE rules_guard; -- `",
	};
	struct proxy_proc p;
	MYSQL *d = direct_connect();

	query_ok(d, "DROP TABLE IF EXISTS rules_guard");
	query_ok(d, "CREATE TABLE rules_guard (a INT)");
	proxy_start(&p, env_int("MARIADB_PORT"), args);
	MYSQL *m = client_multi(p.port);

	for (size_t i = 0; i < sizeof(bypasses) / sizeof(bypasses[0]); i++) {
		/* (Only a bypass would have dropped it.) */
		query_ok(d, "CREATE TABLE IF NOT EXISTS rules_guard (a INT)");
		expect_denied(m, bypasses[i]);
	}
	/* A prepared statement's text too. */
	MYSQL_STMT *st = mysql_stmt_init(m);
	cr_expect_neq(mysql_stmt_prepare(st, "/* x */ DROP TABLE rules_guard", -1), 0);
	cr_expect_eq(mysql_stmt_errno(st), 1105, "%s", mysql_stmt_error(st));
	mysql_stmt_close(st);

	/* Nothing ran: the table is there and empty, the session's settings
	 * are as they were. */
	char *v = query_value(d, "SELECT COUNT(*) FROM rules_guard");
	cr_expect_str_eq(v, "0", "rows inserted by refused commands");
	free(v);
	cr_assert_str_eq(all_values(m, "SELECT @@SESSION.sql_mode LIKE '%NO_BACKSLASH%', "
				    "@@SESSION.sql_mode LIKE '%ANSI_QUOTES%'; "
				    "SELECT @@character_set_client = 'gbk'"), "0|0");

	/* What only looks like a DROP runs, all of it. */
	cr_assert_str_eq(all_values(m, "INSERT INTO rules_guard VALUES (5); "
				    "SELECT 'DROP TABLE x' /* ; DROP TABLE rules_guard */;"
				    "SELECT 1 -- ; DROP TABLE rules_guard\n"),
			 "DROP TABLE x|1");
	v = query_value(d, "SELECT COUNT(*) FROM rules_guard");
	cr_assert_str_eq(v, "1");
	free(v);
	mysql_close(m);
	cr_expect_eq(proxy_stop(&p, 20000), 0, "myring exit status; %s ends "
		     "with:\n%s", p.log, proxy_log_tail(&p));
	query_ok(d, "DROP TABLE rules_guard");
	mysql_close(d);
}

/* A rewrite applies statement by statement; a fixed answer refuses a
 * multi-statement command rather than drop its other statements. */
Test(rules, rewrite_and_answer_with_several_statements)
{
	struct env e;
	start(&e,
	      "  - name: rw\n"
	      "    match: \"^SELECT 'rw-(\\\\d+)'$\"\n"
	      "    action: rewrite\n"
	      "    replace: \"SELECT 'done-$1'\"\n"
	      "  - name: canned\n"
	      "    match: '^DO myring_canned$'\n"
	      "    action: answer\n"
	      "    affected-rows: 3\n", NULL);
	MYSQL *m = client_multi(e.p.port);

	/* The comment becomes one space: "SELECT 'rw-2'". */
	cr_assert_str_eq(all_values(m, "SELECT 'rw-1'; SELECT 'x'; "
				    "SELECT/* c */'rw-2';"),
			 "done-1|x|done-2");
	cr_assert_eq(mysql_query(m, "DO myring_canned"), 0, "%s", mysql_error(m));
	cr_assert_eq(mysql_affected_rows(m), 3);
	cr_assert_neq(mysql_query(m, "DO myring_canned; SELECT 1"), 0);
	cr_assert_eq(mysql_errno(m), 1105);
	cr_assert(strstr(mysql_error(m), "rule 'canned' answers single statements"),
		  "%s", mysql_error(m));
	char *v = query_value(m, "SELECT 'still here'");
	cr_assert_str_eq(v, "still here");
	free(v);
	mysql_close(m);
	stop(&e);
}

/* ---- digests ---------------------------------------------------------- */

struct load {
	struct env *e;
	int n;
	int id;
	int failures;
	char last_error[256];
	volatile bool *stop;
};

static void *point_selects(void *arg)
{
	struct load *l = arg;
	MYSQL *m = client(l->e);
	char sql[128];

	for (int i = 0; i < l->n; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d + %d AS myring_digest_probe",
			 l->id, i);
		if (mysql_query(m, sql)) {
			l->failures++;
			continue;
		}
		mysql_free_result(mysql_store_result(m));
	}
	mysql_close(m);
	return NULL;
}

Test(digests, count_correctly_under_concurrent_load, .timeout = 120)
{
	struct env e;
	enum { THREADS = 8, PER = 250 };
	pthread_t t[THREADS];
	struct load l[THREADS];

	start(&e, NULL, NULL);
	for (int i = 0; i < THREADS; i++) {
		l[i] = (struct load){.e = &e, .n = PER, .id = i};
		pthread_create(&t[i], NULL, point_selects, &l[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(l[i].failures, 0);
	}
	MYSQL *a = admin(&e);
	cr_assert_eq(mysql_query(a, "SELECT fingerprint, count, errors, rows_sent, "
				 "p50_us, p99_us, max_time_us FROM stats.digests "
				 "WHERE fingerprint LIKE '%myring_digest_probe%'"), 0,
		     "%s", mysql_error(a));
	MYSQL_RES *r = mysql_store_result(a);
	cr_assert(r);
	cr_assert_eq(mysql_num_rows(r), 1, "one fingerprint for all literals");
	MYSQL_ROW row = mysql_fetch_row(r);
	cr_assert_str_eq(row[0], "SELECT ? + ? AS myring_digest_probe");
	cr_assert_eq(strtoull(row[1], NULL, 10), THREADS * PER);
	cr_assert_eq(strtoull(row[2], NULL, 10), 0);
	cr_assert_eq(strtoull(row[3], NULL, 10), THREADS * PER);
	cr_assert_leq(strtoull(row[4], NULL, 10), strtoull(row[5], NULL, 10));
	cr_assert_leq(strtoull(row[5], NULL, 10), strtoull(row[6], NULL, 10));
	mysql_free_result(r);

	/* Both workers served some of it (SO_REUSEPORT spreads connections). */
	cr_assert_eq(mysql_query(a, "SELECT worker, commands, loop_turns, "
				 "completions FROM stats.workers ORDER BY worker"),
		     0, "%s", mysql_error(a));
	r = mysql_store_result(a);
	cr_assert_eq(mysql_num_rows(r), 2);
	/* Every command is at least a receive and a send on each side, each
	 * one completion; a loop turn handles one or more. */
	uint64_t cmds = 0, turns = 0, comps = 0;
	while ((row = mysql_fetch_row(r))) {
		cmds += strtoull(row[1], NULL, 10);
		turns += strtoull(row[2], NULL, 10);
		comps += strtoull(row[3], NULL, 10);
	}
	cr_assert_geq(cmds, THREADS * PER);
	cr_assert_geq(comps, 4 * cmds, "completions %llu for %llu commands",
		      (unsigned long long)comps, (unsigned long long)cmds);
	cr_assert(turns > 0 && turns <= comps);
	mysql_free_result(r);

	/* ORDER BY and LIMIT. */
	cr_assert_eq(mysql_query(a, "SELECT fingerprint, count FROM stats.digests "
				 "ORDER BY count DESC LIMIT 1"), 0);
	r = mysql_store_result(a);
	row = mysql_fetch_row(r);
	cr_assert_str_eq(row[0], "SELECT ? + ? AS myring_digest_probe");
	mysql_free_result(r);

	/* Errors are counted per digest. */
	MYSQL *m = client(&e);
	cr_assert_neq(mysql_query(m, "SELECT * FROM no_such_table_xyz WHERE a = 1"), 0);
	cr_assert_neq(mysql_query(m, "SELECT * FROM no_such_table_xyz WHERE a = 2"), 0);
	mysql_close(m);
	cr_assert_eq(admin_u64(a, "SELECT errors FROM stats.digests WHERE "
			       "fingerprint = 'SELECT * FROM no_such_table_xyz WHERE a = ?'"), 2);

	/* Executions of a prepared statement count under its fingerprint. */
	m = client(&e);
	MYSQL_STMT *st = mysql_stmt_init(m);
	cr_assert_eq(mysql_stmt_prepare(st, "SELECT ? + 1 AS myring_ps_probe", -1), 0,
		     "%s", mysql_stmt_error(st));
	for (int i = 0; i < 10; i++) {
		MYSQL_BIND b = {0};
		int v = i;
		b.buffer_type = MYSQL_TYPE_LONG;
		b.buffer = &v;
		cr_assert_eq(mysql_stmt_bind_param(st, &b), 0);
		cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
		cr_assert_eq(mysql_stmt_store_result(st), 0);
		mysql_stmt_free_result(st);
	}
	mysql_stmt_close(st);
	mysql_close(m);
	cr_assert_eq(admin_u64(a, "SELECT count FROM stats.digests WHERE "
			       "fingerprint = 'SELECT ? + ? AS myring_ps_probe'"), 11,
		     "1 prepare + 10 executions");

	query_ok(a, "RESET STATS");
	cr_assert_eq(mysql_query(a, "SELECT count FROM stats.digests"), 0);
	r = mysql_store_result(a);
	cr_assert_eq(mysql_num_rows(r), 0, "RESET STATS empties the digests");
	mysql_free_result(r);
	mysql_close(a);
	stop(&e);
}

/* ---- admin ------------------------------------------------------------ */

Test(admin, wrong_password_is_1045_and_unknown_statements_list_what_works)
{
	struct env e;
	char err[512];

	start(&e, NULL, NULL);
	MYSQL *bad = connect_port(e.admin_port, "admin", "wrong", NULL, 0, err,
				  sizeof(err));
	cr_assert_null(bad);
	cr_assert(strstr(err, "1045") || strstr(err, "Access denied"), "%s", err);
	bad = connect_port(e.admin_port, "root", ADMIN_PW, NULL, 0, err,
			   sizeof(err));
	cr_assert_null(bad);

	MYSQL *a = admin(&e);
	cr_assert_neq(mysql_query(a, "DELETE FROM stats.digests"), 0);
	cr_assert(strstr(mysql_error(a), "SHOW STATS"), "%s", mysql_error(a));
	cr_assert_neq(mysql_query(a, "SELECT nope FROM stats.digests"), 0);
	cr_assert_eq(mysql_errno(a), 1054, "%u %s", mysql_errno(a), mysql_error(a));
	cr_assert_neq(mysql_query(a, "SELECT * FROM stats.nothing"), 0);
	cr_assert_eq(mysql_errno(a), 1146);
	/* SHOW STATS counts what went through. */
	MYSQL *m = client(&e);
	for (int i = 0; i < 5; i++)
		free(query_value(m, "SELECT 1"));
	mysql_close(m);
	cr_assert_eq(mysql_query(a, "SHOW STATS"), 0, "%s", mysql_error(a));
	MYSQL_RES *r = mysql_store_result(a);
	MYSQL_ROW row;
	uint64_t queries = 0;
	while ((row = mysql_fetch_row(r)))
		if (!strcmp(row[0], "queries"))
			queries = strtoull(row[1], NULL, 10);
	mysql_free_result(r);
	cr_assert_geq(queries, 5);
	cr_assert_eq(mysql_query(a, "SHOW CONFIG"), 0, "%s", mysql_error(a));
	mysql_free_result(mysql_store_result(a));
	mysql_close(a);
	stop(&e);
}

Test(admin, works_with_the_mariadb_cli)
{
	struct env e;
	char cmd[512], out[8192];

	start(&e, "  - name: cli-rule\n    match: cli_probe\n", NULL);
	snprintf(cmd, sizeof(cmd),
		 "mariadb -h127.0.0.1 -P%d -uadmin -p%s --batch -e "
		 "\"SHOW STATS; SELECT name, hits FROM stats.rules; "
		 "SELECT * FROM stats.workers; SHOW TABLES\" 2>&1",
		 e.admin_port, ADMIN_PW);
	FILE *f = popen(cmd, "r");
	cr_assert(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	int st = pclose(f);
	cr_assert_eq(st, 0, "mariadb CLI failed: %s", out);
	cr_assert(strstr(out, "connections_accepted"), "%s", out);
	cr_assert(strstr(out, "cli-rule\t0"), "%s", out);
	cr_assert(strstr(out, "digests"), "%s", out);
	/* Wrong password through the CLI too. */
	snprintf(cmd, sizeof(cmd), "mariadb -h127.0.0.1 -P%d -uadmin -pnope "
		 "-e 'SHOW STATS' 2>&1", e.admin_port);
	f = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	cr_assert_neq(pclose(f), 0);
	cr_assert(strstr(out, "1045"), "%s", out);
	stop(&e);
}

/* ---- metrics ---------------------------------------------------------- */

Test(metrics, parse_strictly_and_match_the_traffic, .timeout = 60)
{
	struct env e;
	start(&e, "  - name: metric-rule\n    match: metrics_probe\n    "
		  "action: reject\n", NULL);
	MYSQL *m = client(&e);
	for (int i = 0; i < 20; i++)
		free(query_value(m, "SELECT 'x'"));
	for (int i = 0; i < 3; i++)
		cr_assert_neq(mysql_query(m, "SELECT 'metrics_probe'"), 0);
	cr_assert_neq(mysql_query(m, "SELECT * FROM no_such_table_q"), 0);
	mysql_close(m);

	/* The proxy sees the close a moment after mysql_close returns. */
	char *resp = NULL, *body = NULL;
	for (uint64_t until = now_ms() + 10000;; usleep(50000)) {
		free(resp);
		resp = http_get(e.metrics_port, "/metrics");
		cr_assert(!strncmp(resp, "HTTP/1.1 200", 12), "%.200s", resp);
		body = strstr(resp, "\r\n\r\n");
		cr_assert(body);
		body += 4;
		if (metric(body, "myring_connections") == 0 || now_ms() > until)
			break;
	}
	/* A strict parser of the text format (tests/promcheck.py). */
	char path[128];
	snprintf(path, sizeof(path), "/tmp/myring-metrics-%d.txt", getpid());
	write_file(path, body);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/promcheck.py %s", path);
	cr_assert_eq(system(cmd), 0, "promcheck rejected the exposition");
	unlink(path);

	/* The shared harness's client runs a few set-up queries per connection
	 * (none here: plain mysql_real_connect), so counts are exact. */
	cr_assert_eq(metric(body, "myring_commands_total{command=\"Query\"}"), 24);
	cr_assert_eq(metric(body, "myring_rejected_total"), 3);
	cr_assert_eq(metric(body, "myring_rule_hits_total{rule=\"metric-rule\"}"), 3);
	/* Rejections are ERR packets too: 3 + 1 from the server. */
	cr_assert_eq(metric(body, "myring_command_errors_total"), 4);
	/* proxy_start's readiness probe, then the client. */
	cr_assert_eq(metric(body, "myring_connections_accepted_total"), 2);
	cr_assert_eq(metric(body, "myring_connections"), 0);
	cr_assert(strstr(body, "\nmyring_backend_up{backend=\"127.0.0.1:"));
	cr_assert_gt(metric(body, "myring_received_bytes_total{peer=\"client\"}"), 0);
	/* 20 forwarded queries + 1 error: 21 responses timed (rejections are
	 * answered by myring and timed too). */
	cr_assert_eq(metric(body, "myring_command_duration_seconds_count"), 24);
	free(resp);

	resp = http_get(e.metrics_port, "/nope");
	cr_assert(!strncmp(resp, "HTTP/1.1 404", 12));
	free(resp);
	stop(&e);
}

/* ---- reload ----------------------------------------------------------- */

static void *steady_load(void *arg)
{
	struct load *l = arg;
	MYSQL *m = client(l->e);

	while (!*l->stop) {
		if (mysql_query(m, "SELECT 'reload-load'")) {
			/* Only a rule rejection is an acceptable failure. */
			if (mysql_errno(m) != 1142) {
				l->failures++;
				snprintf(l->last_error, sizeof(l->last_error),
					 "%u %s", mysql_errno(m), mysql_error(m));
			}
			continue;
		}
		mysql_free_result(mysql_store_result(m));
		l->n++;
	}
	mysql_close(m);
	return NULL;
}

Test(reload, sighup_and_admin_reload_swap_rules_without_dropping_anything,
     .timeout = 120)
{
	struct env e;
	enum { THREADS = 4 };
	pthread_t t[THREADS];
	struct load l[THREADS];
	volatile bool halt = false;
	char text[4096];

	start(&e, "  - name: gate\n    match: reload_gate\n    action: reject\n"
		  "    error-code: 1142\n", NULL);
	MYSQL *m = client(&e);
	cr_assert_neq(mysql_query(m, "SELECT 'reload_gate'"), 0);
	for (int i = 0; i < THREADS; i++) {
		l[i] = (struct load){.e = &e, .stop = &halt};
		pthread_create(&t[i], NULL, steady_load, &l[i]);
	}
	usleep(300000);

	/* 1. SIGHUP with a new rule set: the gate opens. */
	snprintf(text, sizeof(text), "admin-user: admin\nadmin-password: %s\n"
		 "digests: on\nrules:\n  - name: other\n    match: reload_other\n"
		 "    action: reject\n", ADMIN_PW);
	write_file(e.config, text);
	kill(e.p.pid, SIGHUP);
	bool open = false;
	for (int i = 0; i < 50 && !open; i++) {
		usleep(50000);
		open = mysql_query(m, "SELECT 'reload_gate'") == 0;
		if (open)
			mysql_free_result(mysql_store_result(m));
	}
	if (!open) {
		/* The load threads use this frame: stop them before the
		 * assertion leaves it. */
		halt = true;
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
	}
	cr_assert(open, "the SIGHUP reload did not take effect: %u %s; "
		  "myring's log ends with:\n%s", mysql_errno(m), mysql_error(m),
		  proxy_log_tail(&e.p));

	/* 2. A bad file is rejected; the rules in force stay. */
	write_file(e.config, "rules:\n  - name: broken\n    match: '(unclosed'\n");
	MYSQL *a = admin(&e);
	cr_assert_neq(mysql_query(a, "RELOAD CONFIG"), 0);
	cr_assert(strstr(mysql_error(a), "old config stays"), "%s", mysql_error(a));
	cr_assert(!strncmp(mysql_error(a), "myring: ", 8), "%s", mysql_error(a));
	cr_assert_neq(mysql_query(m, "SELECT 'reload_other'"), 0,
		      "the old rules must stay in force");

	/* 3. RELOAD CONFIG answers once every worker uses the new rules. */
	snprintf(text, sizeof(text), "admin-user: admin\nadmin-password: %s\n"
		 "digests: on\nrules:\n  - name: gate2\n    match: reload_gate\n"
		 "    action: reject\n", ADMIN_PW);
	write_file(e.config, text);
	cr_assert_eq(mysql_query(a, "RELOAD CONFIG"), 0, "%s", mysql_error(a));
	cr_assert_neq(mysql_query(m, "SELECT 'reload_gate'"), 0);
	cr_assert_eq(mysql_query(m, "SELECT 'reload_other'"), 0);
	mysql_free_result(mysql_store_result(m));
	cr_assert_eq(mysql_query(a, "SELECT name FROM stats.rules"), 0);
	MYSQL_RES *r = mysql_store_result(a);
	cr_assert_eq(mysql_num_rows(r), 1);
	cr_assert_str_eq(mysql_fetch_row(r)[0], "gate2");
	mysql_free_result(r);

	/* 4. A setting only a restart applies: the OK says which.  The admin
	 * password is not one of them: new admin logins use the new one. */
	snprintf(text, sizeof(text), "admin-user: admin\nadmin-password: "
		 "changed-pw\ndigests: on\nmax-conns: 777\nrules:\n"
		 "  - name: gate2\n    match: reload_gate\n"
		 "    action: reject\n");
	write_file(e.config, text);
	cr_assert_eq(mysql_query(a, "RELOAD CONFIG"), 0, "%s", mysql_error(a));
	cr_assert(mysql_info(a) && strstr(mysql_info(a),
		  "needs a restart to take effect: max-conns") &&
		  !strstr(mysql_info(a), "admin"),
		  "RELOAD CONFIG's info: %s", mysql_info(a) ? mysql_info(a) : "(none)");
	char aerr[256];
	MYSQL *a2 = connect_port(e.admin_port, "admin", "changed-pw", NULL, 0,
				 aerr, sizeof(aerr));
	cr_assert_not_null(a2, "the new admin password: %s", aerr);
	mysql_close(a2);
	cr_assert_null(connect_port(e.admin_port, "admin", ADMIN_PW, NULL, 0,
				    aerr, sizeof(aerr)), "the old one is refused");

	halt = true;
	int total = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(l[i].failures, 0, "a query failed during reloads: "
			     "%s (myring's log: %s)", l[i].last_error,
			     proxy_log_tail(&e.p));
		total += l[i].n;
	}
	cr_assert_gt(total, 100);
	/* No connection was dropped: the same client still works. */
	free(query_value(m, "SELECT 1"));
	mysql_close(m);
	mysql_close(a);
	stop(&e);
}
