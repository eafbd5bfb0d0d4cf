/*
 * What the admin port and /metrics say about backend connections:
 * stats.backends, stats.pools, stats.sessions, stats.pins, SHOW CONFIG
 * and the matching Prometheus series, checked against what the clients
 * and the server themselves see.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ADMIN_PW "adm1n-pw"
#define PA_USER "pooladmin"
#define PA_PW "pool-admin-pw"

struct env {
	struct proxy_proc p;
	char config[128];
	int admin_port, metrics_port;
};

static void ensure_user(void)
{
	MYSQL *d = direct_connect();

	query_ok(d, "CREATE USER IF NOT EXISTS '" PA_USER "'@'127.0.0.1' "
		 "IDENTIFIED BY '" PA_PW "'");
	query_ok(d, "GRANT ALL ON myring_test.* TO '" PA_USER "'@'127.0.0.1'");
	mysql_close(d);
}

/* pooled: --auth proxy, one worker, at most 4 server connections. */
static void start(struct env *e, bool pooled)
{
	static int seq;
	char admin[64], metrics[64];
	FILE *f;

	snprintf(e->config, sizeof(e->config),
		 "/tmp/myring-itest-pooladmin-%d-%d.yaml", getpid(), ++seq);
	f = fopen(e->config, "w");
	cr_assert(f, "cannot write %s: %s", e->config, strerror(errno));
	fprintf(f, "admin-user: admin\nadmin-password: %s\n", ADMIN_PW);
	fclose(f);
	e->admin_port = free_port();
	e->metrics_port = free_port();
	snprintf(admin, sizeof(admin), "127.0.0.1:%d", e->admin_port);
	snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", e->metrics_port);
	if (pooled) {
		const char *args[] = {"--config", e->config, "--admin", admin,
				      "--metrics", metrics, "--auth", "proxy",
				      "--user", PA_USER ":" PA_PW, "--user",
				      "myring:myring-pw", "--pool-size",
				      "4", "--threads", "1", NULL};
		ensure_user();
		proxy_start(&e->p, env_int("MARIADB_PORT"), args);
	} else {
		const char *args[] = {"--config", e->config, "--admin", admin,
				      "--metrics", metrics, "--threads", "1",
				      NULL};
		proxy_start(&e->p, env_int("MARIADB_PORT"), args);
	}
}

static void stop(struct env *e)
{
	int rc = proxy_stop(&e->p, 20000);

	cr_expect_eq(rc, 0, "myring exit status %d (-1: still running 20 s "
		     "after SIGTERM); %s ends with:\n%s", rc, e->p.log,
		     proxy_log_tail(&e->p));
	unlink(e->config);
}

static MYSQL *admin(struct env *e)
{
	char err[512];
	MYSQL *m = connect_port(e->admin_port, "admin", ADMIN_PW, "stats", 0,
				err, sizeof(err));

	cr_assert(m, "connect to the admin port: %s", err);
	return m;
}

static MYSQL *client(struct env *e, bool pooled)
{
	char err[512];
	MYSQL *m = pooled ?
		   connect_port(e->p.port, PA_USER, PA_PW, "myring_test", 0, err,
				sizeof(err)) :
		   connect_port(e->p.port, "myring", "myring-pw", "myring_test",
				0, err, sizeof(err));

	cr_assert(m, "connect through myring: %s", err);
	return m;
}

/* The first column of the first row as a number; -1 for NULL or none. */
static long long num(MYSQL *m, const char *sql)
{
	char *v = query_value(m, sql);
	long long n = v ? atoll(v) : -1;

	if (v && !strcmp(v, "NULL"))
		n = -1;
	free(v);
	return n;
}

static char *text(MYSQL *m, const char *sql)
{
	char *v = query_value(m, sql);

	cr_assert(v, "%s: no row", sql);
	return v;
}

/* The first row's cells, '|'-joined ("NULL" for NULL): "" if none. */
static char *row(MYSQL *m, const char *sql)
{
	static char buf[2048];
	MYSQL_RES *r;
	MYSQL_ROW rw;
	size_t n = 0;

	cr_assert_eq(mysql_query(m, sql), 0, "%s: %s", sql, mysql_error(m));
	r = mysql_store_result(m);
	cr_assert(r, "%s: no result set", sql);
	buf[0] = '\0';
	if ((rw = mysql_fetch_row(r)))
		for (unsigned i = 0; i < mysql_num_fields(r); i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
					      i ? "|" : "", rw[i] ? rw[i] : "NULL");
	mysql_free_result(r);
	return buf;
}

/* SHOW CONFIG's value of setting. */
static const char *config_value(MYSQL *m, const char *setting)
{
	static char val[256];
	MYSQL_RES *r;
	MYSQL_ROW rw;

	val[0] = '\0';
	cr_assert_eq(mysql_query(m, "SHOW CONFIG"), 0, "%s", mysql_error(m));
	r = mysql_store_result(m);
	while ((rw = mysql_fetch_row(r)))
		if (!val[0] && !strcmp(rw[0], setting))
			snprintf(val, sizeof(val), "%s", rw[1]);
	mysql_free_result(r);
	return val;
}

static double scrape(struct env *e, const char *series)
{
	char *body = http_get(e->metrics_port, "/metrics");
	double v;

	cr_assert(body, "GET /metrics");
	v = metric(body, series);
	free(body);
	return v;
}

/* Gauges are published on the workers' tick (100 ms): wait for want. */
static double scrape_until(struct env *e, const char *series, double want)
{
	double v = -1;

	for (int i = 0; i < 50; i++) {
		v = scrape(e, series);
		if (v == want)
			break;
		usleep(50 * 1000);
	}
	return v;
}

Test(pool_admin, tables_and_series_say_what_the_clients_and_server_see,
     .timeout = 90)
{
	struct env e;
	char sql[256], *v;
	long long commands0, pinned0;

	start(&e, true);
	MYSQL *a = admin(&e);
	MYSQL *d = direct_connect();
	MYSQL *pinned = client(&e, true);
	MYSQL *free_client = client(&e, true);
	unsigned long pinned_id = mysql_thread_id(pinned);
	unsigned long free_id = mysql_thread_id(free_client);

	/* SHOW CONFIG names the pool settings in force. */
	cr_assert_str_eq(config_value(a, "pool-size"), "4");
	cr_assert_str_eq(config_value(a, "auth"), "proxy");
	cr_assert_str_eq(config_value(a, "pool"), "transaction");
	cr_assert_str_eq(config_value(a, "user"), PA_USER
			 " (mysql_native_password)");

	query_ok(free_client, "SELECT 1");
	commands0 = (long long)scrape(&e, "myring_pool_commands_total");
	pinned0 = (long long)scrape(&e, "myring_pool_pinned_commands_total");
	cr_assert_geq(commands0, 1);

	/* COM_SET_OPTION changes what the server's connection does with
	 * later commands, which no replay can carry: a pin. */
	cr_assert_eq(mysql_set_server_option(pinned,
					     MYSQL_OPTION_MULTI_STATEMENTS_ON), 0,
		     "%s", mysql_error(pinned));
	query_ok(pinned, "SELECT 2");
	query_ok(pinned, "SELECT 3");

	/* stats.sessions: the id each client was given, its connection now
	 * and why it keeps it. */
	snprintf(sql, sizeof(sql), "SELECT pinned FROM sessions WHERE "
		 "connection_id = %lu", pinned_id);
	v = text(a, sql);
	cr_assert_str_eq(v, "state");
	free(v);
	snprintf(sql, sizeof(sql), "SELECT backend_connection FROM sessions "
		 "WHERE connection_id = %lu", pinned_id);
	long long thread = num(a, sql);
	cr_assert_gt(thread, 0);
	snprintf(sql, sizeof(sql), "SELECT USER FROM information_schema."
		 "PROCESSLIST WHERE ID = %lld", thread);
	v = text(d, sql);
	cr_assert_str_eq(v, PA_USER, "the server's connection %lld is %s's",
			 thread, v);
	free(v);
	snprintf(sql, sizeof(sql), "SELECT pinned, backend_connection, auth "
		 "FROM sessions WHERE connection_id = %lu", free_id);
	v = row(a, sql);
	cr_assert_str_eq(v, "|NULL|proxy", "an idle unpinned session holds "
			 "nothing: %s", v);

	/* stats.pins and its series: one session pinned for "state" now. */
	cr_assert_eq(num(a, "SELECT current FROM pins WHERE reason = 'state'"), 1);
	cr_assert_geq(num(a, "SELECT count FROM pins WHERE reason = 'state'"), 1);
	cr_assert_eq(num(a, "SELECT SUM(current) FROM pins"), 1);
	cr_assert_eq(scrape(&e, "myring_pinned_sessions{reason=\"state\"}"), 1);
	cr_assert_geq(scrape(&e, "myring_pins_total{reason=\"state\"}"), 1);
	/* The two commands after the pin ran pinned. */
	cr_assert_geq((long long)scrape(&e, "myring_pool_pinned_commands_total") -
		      pinned0, 2);
	cr_assert_geq((long long)scrape(&e, "myring_pool_commands_total") -
		      commands0, 3);

	/* stats.pools and stats.backends agree with each other and with the
	 * server's count of myring's connections. */
	cr_assert_eq(num(a, "SELECT COUNT(*) FROM pools"), 1);
	cr_assert_eq(num(a, "SELECT in_use FROM pools WHERE user = '" PA_USER
			 "'"), 1);
	cr_assert_geq(num(a, "SELECT borrows FROM pools"), 2);
	cr_assert_eq(num(a, "SELECT max_connections FROM backends"), 4);
	long long open = num(a, "SELECT open FROM backends");
	cr_assert_eq(num(a, "SELECT in_use FROM backends"), 1);
	cr_assert_eq(num(a, "SELECT in_use FROM backends") +
		     num(a, "SELECT idle FROM backends") +
		     num(a, "SELECT connecting FROM backends") +
		     num(a, "SELECT resetting FROM backends"), open);
	cr_assert_eq(num(d, "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
			 "WHERE USER = '" PA_USER "'"), open);
	cr_assert_geq(num(a, "SELECT connects FROM backends"), 1);
	cr_assert_eq(num(a, "SELECT connect_errors FROM backends"), 0);
	cr_assert_gt(num(a, "SELECT connect_avg_us FROM backends"), 0);
	cr_assert_eq(scrape_until(&e, "myring_pool_connections{state=\"in_use\"}",
				  1), 1);
	cr_assert_geq(scrape(&e, "myring_pool_connect_duration_seconds_count"), 1);

	/* The pinned client leaves: its pin is gone from the gauges. */
	mysql_close(pinned);
	for (int i = 0; i < 50 && num(a, "SELECT SUM(current) FROM pins"); i++)
		usleep(50 * 1000);
	cr_assert_eq(num(a, "SELECT SUM(current) FROM pins"), 0);
	cr_assert_eq(scrape(&e, "myring_pinned_sessions{reason=\"state\"}"), 0);
	cr_assert_eq(scrape_until(&e, "myring_pool_connections{state=\"in_use\"}",
				  0), 0);

	mysql_close(free_client);
	mysql_close(d);
	mysql_close(a);
	stop(&e);
}

Test(pool_admin, passthrough_sessions_show_the_servers_own_ids, .timeout = 60)
{
	struct env e;
	char sql[256];
	const char *v;

	start(&e, false);
	MYSQL *a = admin(&e);
	MYSQL *c = client(&e, false);
	unsigned long id = mysql_thread_id(c);
	char *server_id = query_value(c, "SELECT CONNECTION_ID()");

	/* Pass-through: the client was given the server's own greeting. */
	cr_assert_eq((unsigned long)atol(server_id), id);
	free(server_id);
	snprintf(sql, sizeof(sql), "SELECT backend_connection, auth, pinned "
		 "FROM sessions WHERE connection_id = %lu", id);
	v = row(a, sql);
	char want[64];
	snprintf(want, sizeof(want), "%lu|passthrough|", id);
	cr_assert_str_eq(v, want);
	cr_assert_str_eq(row(a, "SELECT auth, in_use FROM backends"),
			 "passthrough|1");
	cr_assert_eq(num(a, "SELECT COUNT(*) FROM pools"), 0);
	/* No pool series without pools. */
	cr_assert_eq(scrape(&e, "myring_pool_waiting_clients"), -1);
	mysql_close(c);
	mysql_close(a);
	stop(&e);
}

/* ---- pins: taken by what lives on the connection, released with it ------ */

/* The client's pins as stats.sessions shows them ("" when none). */
static char *pins_of(MYSQL *a, MYSQL *c)
{
	static char pins[256];
	char sql[128];
	char *v;

	snprintf(sql, sizeof(sql), "SELECT pinned FROM sessions WHERE "
		 "connection_id = %lu", mysql_thread_id(c));
	v = text(a, sql);
	snprintf(pins, sizeof(pins), "%s", v);
	free(v);
	return pins;
}

static void step(MYSQL *c, const char *sql, MYSQL *a, const char *pinned)
{
	query_ok(c, sql);
	cr_assert_str_eq(pins_of(a, c), pinned, "after %s", sql);
}

static void value_is(MYSQL *c, const char *sql, const char *want)
{
	char *v = query_value(c, sql);

	cr_assert(v, "%s: no value", sql);
	cr_assert_str_eq(v, want, "%s", sql);
	free(v);
}

Test(pool_pins, each_pin_lasts_as_long_as_its_state, .timeout = 90)
{
	struct env e;

	start(&e, true);
	MYSQL *a = admin(&e);
	MYSQL *c = client(&e, true);

	step(c, "SELECT 1", a, "");
	/* Temporary tables: pinned while any exists (renamed too). */
	step(c, "CREATE TEMPORARY TABLE pp_t1 (v INT)", a, "temporary_table");
	step(c, "CREATE TEMPORARY TABLE myring_test.pp_t2 (v INT)", a,
	     "temporary_table");
	step(c, "DROP TEMPORARY TABLE pp_t1", a, "temporary_table");
	step(c, "ALTER TABLE pp_t2 RENAME TO pp_t3", a, "temporary_table");
	step(c, "DROP TABLE pp_t3", a, "");
	/* Named locks: each GET_LOCK until its RELEASE_LOCK. */
	step(c, "SELECT GET_LOCK('pp-a', 0), GET_LOCK('pp-b', 0)", a,
	     "named_lock");
	value_is(c, "SELECT RELEASE_LOCK('pp-a')", "1");
	cr_assert_str_eq(pins_of(a, c), "named_lock");
	value_is(c, "SELECT RELEASE_LOCK('pp-b')", "1");
	cr_assert_str_eq(pins_of(a, c), "");
	step(c, "DO GET_LOCK('pp-c', 0)", a, "named_lock");
	step(c, "DO RELEASE_ALL_LOCKS()", a, "");
	/* LOCK TABLES, HANDLER, PREPARE. */
	query_ok(c, "CREATE TABLE IF NOT EXISTS pp_base (v INT)");
	step(c, "LOCK TABLES pp_base READ", a, "table_lock");
	step(c, "UNLOCK TABLES", a, "");
	step(c, "HANDLER pp_base OPEN AS h1", a, "handler");
	step(c, "HANDLER h1 CLOSE", a, "");
	step(c, "PREPARE pp_s FROM 'SELECT 1'", a, "sql_prepare");
	step(c, "DEALLOCATE PREPARE PP_S", a, "");
	/* SQL_CALC_FOUND_ROWS: the next statement reads it on the same
	 * connection, then the session moves freely again. */
	step(c, "SELECT SQL_CALC_FOUND_ROWS seq FROM seq_1_to_7 LIMIT 2", a,
	     "found_rows");
	value_is(c, "SELECT FOUND_ROWS()", "7");
	cr_assert_str_eq(pins_of(a, c), "");
	/* A cursor until its statement is reset; long data until the
	 * execute that takes it. */
	{
		MYSQL_STMT *st = mysql_stmt_init(c);
		unsigned long cursor = CURSOR_TYPE_READ_ONLY;
		MYSQL_BIND in = {0};
		char buf[8] = "x";
		unsigned long buf_len = 1;

		const char *q = "SELECT seq FROM seq_1_to_5 WHERE seq > LENGTH(?)";
		cr_assert_eq(mysql_stmt_prepare(st, q, strlen(q)), 0,
			     "%s", mysql_stmt_error(st));
		in.buffer_type = MYSQL_TYPE_STRING;
		in.buffer = buf;
		in.buffer_length = sizeof(buf);
		in.length = &buf_len;
		cr_assert_eq(mysql_stmt_bind_param(st, &in), 0);
		cr_assert_eq(mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE,
						 &cursor), 0);
		cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
		cr_assert_str_eq(pins_of(a, c), "cursor");
		cr_assert_eq(mysql_stmt_reset(st), 0, "%s", mysql_stmt_error(st));
		cr_assert_str_eq(pins_of(a, c), "");
		cursor = CURSOR_TYPE_NO_CURSOR;
		cr_assert_eq(mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE,
						 &cursor), 0);
		cr_assert_eq(mysql_stmt_send_long_data(st, 0, "abc", 3), 0,
			     "%s", mysql_stmt_error(st));
		cr_assert_str_eq(pins_of(a, c), "long_data");
		cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
		cr_assert_eq(mysql_stmt_store_result(st), 0);
		cr_assert_eq(mysql_stmt_num_rows(st), 2);
		cr_assert_str_eq(pins_of(a, c), "");
		mysql_stmt_close(st);
	}
	/* A literal user variable is carried; a computed one pins. */
	step(c, "SET @pp_lit = 'x''y', @pp_num = -12.5e3", a, "");
	step(c, "SELECT @pp_rand := RAND()", a, "user_variable");
	/* Only a reset ends that one. */
	cr_assert_eq(mysql_reset_connection(c), 0, "%s", mysql_error(c));
	cr_assert_str_eq(pins_of(a, c), "");
	value_is(c, "SELECT @pp_lit IS NULL", "1");
	mysql_close(c);
	mysql_close(a);
	stop(&e);
}

/* Two sessions, one server connection: what one carries must arrive on
 * the connection the other used meanwhile. */
Test(pool_pins, literal_user_variables_follow_the_session, .timeout = 60)
{
	struct env e;
	char sql[128];

	start(&e, true);
	MYSQL *a = admin(&e);
	MYSQL *c1 = client(&e, true);
	MYSQL *c2 = client(&e, true);

	query_ok(c1, "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci");
	query_ok(c1, "SET @pp_s = 'Grüße', @pp_n = 42, @pp_x = X'00ff', "
		     "@pp_null = NULL");
	query_ok(c2, "SET @pp_s = 'other'");
	cr_assert_str_eq(pins_of(a, c1), "");
	cr_assert_str_eq(pins_of(a, c2), "");
	value_is(c1, "SELECT CONCAT(@pp_s, '|', @pp_n, '|', HEX(@pp_x), '|', "
		     "@pp_null IS NULL, '|', COLLATION(@pp_s))",
		 "Grüße|42|00FF|1|utf8mb4_unicode_ci");
	value_is(c1, "SELECT @@collation_connection", "utf8mb4_unicode_ci");
	value_is(c2, "SELECT @pp_s", "other");
	/* CONNECTION_ID() is the id each client was given, whichever server
	 * connection it runs on, and keeps the column's name. */
	snprintf(sql, sizeof(sql), "%lu", mysql_thread_id(c1));
	value_is(c1, "SELECT CONNECTION_ID()", sql);
	cr_assert_eq(mysql_query(c1, "SELECT CONNECTION_ID()"), 0);
	{
		MYSQL_RES *r = mysql_store_result(c1);
		cr_assert(r);
		cr_assert_str_eq(mysql_fetch_fields(r)[0].name, "CONNECTION_ID()");
		mysql_free_result(r);
	}
	snprintf(sql, sizeof(sql), "%lu", mysql_thread_id(c2));
	value_is(c2, "SELECT connection_id()", sql);
	value_is(c2, "SELECT 'connection_id()'", "connection_id()");
	mysql_close(c1);
	mysql_close(c2);
	mysql_close(a);
	stop(&e);
}

struct sleeper {
	MYSQL *m;
	unsigned err;
	char value[32];
	uint64_t ms;
};

static void *sleep_query(void *p)
{
	struct sleeper *sl = p;
	uint64_t t0 = now_ms();

	if (mysql_query(sl->m, "SELECT SLEEP(30)")) {
		sl->err = mysql_errno(sl->m);
	} else {
		/* Killed after the column definitions: the ERR comes in
		 * place of the row. */
		MYSQL_RES *r = mysql_store_result(sl->m);
		MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
		if (!r)
			sl->err = mysql_errno(sl->m);
		snprintf(sl->value, sizeof(sl->value), "%s",
			 row && row[0] ? row[0] : "?");
		if (r)
			mysql_free_result(r);
	}
	sl->ms = now_ms() - t0;
	return NULL;
}

/* The sleeper's query runs on a server connection: wait until the
 * admin port shows it holding one. */
static void wait_running(MYSQL *a, MYSQL *c)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM sessions WHERE "
		 "connection_id = %lu AND backend_connection IS NOT NULL AND "
		 "command = 'Query'", mysql_thread_id(c));
	for (int i = 0; i < 100 && num(a, sql) != 1; i++)
		usleep(50 * 1000);
	cr_assert_eq(num(a, sql), 1, "the sleeper never ran");
	usleep(200 * 1000);
}

static bool gone_within(MYSQL *m, int ms)
{
	for (int waited = 0; waited <= ms; waited += 100) {
		uint64_t t0 = now_ms();

		if (mysql_query(m, "SELECT 1")) {
			/* Closed, not a reply that never came (the client's
			 * read timeout would also end the query). */
			uint64_t took = now_ms() - t0;
			cr_expect_lt(took, 5000, "the killed session's query "
				     "failed only after %llu ms: %u %s",
				     (unsigned long long)took, mysql_errno(m),
				     mysql_error(m));
			return took < 5000;
		}
		mysql_free_result(mysql_store_result(m));
		usleep(100 * 1000);
	}
	return false;
}

Test(pool_pins, kill_takes_the_ids_clients_were_given, .timeout = 120)
{
	struct env e;
	struct sleeper sl = {0};
	pthread_t th;
	char sql[128], err[256];

	start(&e, true);
	MYSQL *a = admin(&e);
	MYSQL *victim = client(&e, true);
	MYSQL *killer = client(&e, true);

	/* KILL QUERY interrupts what the victim runs, wherever it runs. */
	sl.m = victim;
	pthread_create(&th, NULL, sleep_query, &sl);
	wait_running(a, victim);
	snprintf(sql, sizeof(sql), "KILL QUERY %lu", mysql_thread_id(victim));
	query_ok(killer, sql);
	pthread_join(th, NULL);
	cr_assert_lt(sl.ms, 20000, "SLEEP(30) ran %llu ms after KILL QUERY",
		     (unsigned long long)sl.ms);
	cr_assert(sl.err == 1317 || !strcmp(sl.value, "1"),
		  "interrupted SLEEP: err %u value %s", sl.err, sl.value);
	/* The victim's session goes on. */
	value_is(victim, "SELECT 5", "5");

	/* Ids that are not a client's, or not one's own user's. */
	cr_assert_neq(mysql_query(killer, "KILL 4000000000"), 0);
	cr_assert_eq(mysql_errno(killer), 1094, "%s", mysql_error(killer));
	cr_assert_neq(mysql_query(killer, "KILL USER myring"), 0);
	cr_assert_eq(mysql_errno(killer), 1105, "%s", mysql_error(killer));
	{
		MYSQL *other = connect_port(e.p.port, "myring", "myring-pw",
					    "myring_test", 0, err, sizeof(err));
		cr_assert(other, "%s", err);
		snprintf(sql, sizeof(sql), "KILL %lu", mysql_thread_id(victim));
		cr_assert_neq(mysql_query(other, sql), 0);
		cr_assert_eq(mysql_errno(other), 1095, "%s", mysql_error(other));
		mysql_close(other);
	}

	/* KILL CONNECTION (mysql_kill() too) ends the victim's session,
	 * running or idle. */
	memset(&sl, 0, sizeof(sl));
	sl.m = victim;
	pthread_create(&th, NULL, sleep_query, &sl);
	wait_running(a, victim);
	cr_assert_eq(mysql_kill(killer, mysql_thread_id(victim)), 0, "%s",
		     mysql_error(killer));
	pthread_join(th, NULL);
	cr_assert_lt(sl.ms, 20000);
	cr_assert(sl.err, "the killed session's query succeeded: %s", sl.value);
	/* Its worker closes it at its next tick, as a server closes a
	 * killed connection when the thread next looks. */
	cr_assert(gone_within(victim, 2000), "a killed session still answers");
	mysql_close(victim);

	victim = client(&e, true);
	snprintf(sql, sizeof(sql), "KILL CONNECTION %lu", mysql_thread_id(victim));
	query_ok(killer, sql);
	cr_assert(gone_within(victim, 2000),
		  "an idle killed session still answers");
	mysql_close(victim);

	/* Killing one's own query or connection answers as the server. */
	snprintf(sql, sizeof(sql), "KILL QUERY %lu", mysql_thread_id(killer));
	cr_assert_neq(mysql_query(killer, sql), 0);
	cr_assert_eq(mysql_errno(killer), 1317, "%s", mysql_error(killer));
	mysql_close(killer);
	mysql_close(a);
	stop(&e);
}
