/*
 * What the admin port and /metrics say about backend connections:
 * stats.backends, stats.pools, stats.sessions, stats.pins, SHOW CONFIG
 * and the matching Prometheus series, checked against what the clients
 * and the server themselves see.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
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
				      "--user", PA_USER ":" PA_PW, "--pool-size",
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
	cr_expect_eq(proxy_stop(&e->p, 20000), 0, "myring exit status (log %s)",
		     e->p.log);
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
		if (!strcmp(rw[0], setting))
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
