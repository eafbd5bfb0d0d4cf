/*
 * Pooling (--auth proxy): myring checks clients itself and lends a few
 * backend connections of its own to many clients, per transaction, and
 * every client still sees exactly its own session.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL_USER "pooltest"
#define POOL_PW "pool-pw"

/* An account for one test (tests run side by side), so that its server
 * connections can be counted apart from everyone else's. */
static void ensure_pool_user(const char *user)
{
	MYSQL *d = direct_connect();
	char sql[256];

	snprintf(sql, sizeof(sql), "CREATE USER IF NOT EXISTS '%s'@'127.0.0.1' "
		 "IDENTIFIED BY '" POOL_PW "'", user);
	query_ok(d, sql);
	snprintf(sql, sizeof(sql), "GRANT ALL ON myring_test.* TO '%s'@'127.0.0.1'",
		 user);
	query_ok(d, sql);
	query_ok(d, "CREATE DATABASE IF NOT EXISTS myring_pool2");
	snprintf(sql, sizeof(sql), "GRANT ALL ON myring_pool2.* TO '%s'@'127.0.0.1'",
		 user);
	query_ok(d, sql);
	mysql_close(d);
}

struct pooled {
	struct proxy_proc p;
	char user[32];
};

static void pooled_start_as(struct pooled *px, const char *user,
			    const char *size, const char *wait_ms,
			    const char *mode)
{
	char spec[64];
	/* One worker: the pool is the worker's, and some tests need two
	 * sessions to share one. */
	const char *args[] = {"--auth", "proxy", "--user", spec, "--user",
			      "myring:myring-pw", "--pool-size", size,
			      "--pool-wait-ms", wait_ms, "--pool", mode,
			      "--threads", "1", NULL};

	snprintf(px->user, sizeof(px->user), "%s", user);
	snprintf(spec, sizeof(spec), "%s:" POOL_PW, user);
	ensure_pool_user(user);
	proxy_start(&px->p, env_int("MARIADB_PORT"), args);
}

static void pooled_start(struct pooled *px, const char *size,
			 const char *wait_ms, const char *mode)
{
	pooled_start_as(px, POOL_USER, size, wait_ms, mode);
}

static MYSQL *pooled_client(struct pooled *px, char *err, size_t errlen)
{
	return connect_port(px->p.port, px->user, POOL_PW, "myring_test", 0,
			    err, errlen);
}

/* The server connections myring has open as this user. */
static int server_conns(MYSQL *direct, const char *user)
{
	char sql[256], *v;
	int n;

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM "
		 "information_schema.PROCESSLIST WHERE USER = '%s'", user);
	v = query_value(direct, sql);
	n = v ? atoi(v) : -1;
	free(v);
	return n;
}

static char *value_of(MYSQL *m, const char *sql, char *err, size_t errlen)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	char *v = NULL;

	if (mysql_query(m, sql)) {
		snprintf(err, errlen, "%s: %u %s", sql, mysql_errno(m),
			 mysql_error(m));
		return NULL;
	}
	r = mysql_store_result(m);
	if (!r)
		return strdup("");
	row = mysql_fetch_row(r);
	v = strdup(row && row[0] ? row[0] : "NULL");
	mysql_free_result(r);
	return v;
}

/* ---- many clients, few connections, every session its own -------------- */

struct client_arg {
	struct pooled *px;
	int id;
	int ok;
	char err[512];
};

#define CHECK(cond, ...) do { if (!(cond)) { \
	snprintf(a->err, sizeof(a->err), __VA_ARGS__); goto out; } } while (0)

static bool expect(MYSQL *m, const char *sql, const char *want, char *err,
		   size_t errlen)
{
	char *v = value_of(m, sql, err, errlen);
	bool ok = v && !strcmp(v, want);

	if (v && !ok)
		snprintf(err, errlen, "%s gave '%s', expected '%s'", sql, v, want);
	free(v);
	return ok;
}

static void gap(int id, int step)
{
	usleep((useconds_t)((id * 7 + step * 13) % 40) * 1000);
}

static void *isolated_client(void *p)
{
	struct client_arg *a = p;
	char sql[256], want[128], e[256], why[300];
	MYSQL *m = pooled_client(a->px, e, sizeof(e));
	MYSQL_STMT *st = NULL;

	CHECK(m, "connect: %s", e);
	/* Session variables, a user variable, a schema of its own choice. */
	snprintf(sql, sizeof(sql), "SET @@session.wait_timeout = %d, "
		 "sql_mode = '%s', @mine = %d", 1000 + a->id,
		 a->id % 2 ? "ANSI_QUOTES" : "NO_ENGINE_SUBSTITUTION", a->id);
	CHECK(!mysql_query(m, sql), "%.200s: %.200s", sql, mysql_error(m));
	gap(a->id, 1);
	snprintf(want, sizeof(want), "%d", 1000 + a->id);
	CHECK(expect(m, "SELECT @@session.wait_timeout", want, why,
		     sizeof(why)), "%s", why);
	CHECK(expect(m, "SELECT @@sql_mode", a->id % 2 ? "ANSI_QUOTES" :
		     "NO_ENGINE_SUBSTITUTION", why, sizeof(why)), "%s", why);
	snprintf(want, sizeof(want), "%d", a->id);
	CHECK(expect(m, "SELECT @mine", want, why, sizeof(why)), "%s", why);
	gap(a->id, 2);
	CHECK(!mysql_query(m, a->id % 3 ? "USE myring_test" : "USE myring_pool2"),
	      "USE: %s", mysql_error(m));
	CHECK(expect(m, "SELECT DATABASE()", a->id % 3 ? "myring_test" :
		     "myring_pool2",
		     why, sizeof(why)), "%s", why);
	CHECK(!mysql_query(m, "USE myring_test"), "USE: %s", mysql_error(m));
	/* A binary prepared statement, used after gaps (other clients have
	 * had its connection meanwhile). */
	st = mysql_stmt_init(m);
	CHECK(!mysql_stmt_prepare(st, "SELECT ? + 1000000", 18), "prepare: %s",
	      mysql_stmt_error(st));
	for (int round = 0; round < 3; round++) {
		MYSQL_BIND in = {0}, out = {0};
		long long x = a->id * 10 + round, y = 0;
		in.buffer_type = MYSQL_TYPE_LONGLONG;
		in.buffer = &x;
		out.buffer_type = MYSQL_TYPE_LONGLONG;
		out.buffer = &y;
		gap(a->id, 3 + round);
		CHECK(!mysql_stmt_bind_param(st, &in) && !mysql_stmt_execute(st) &&
		      !mysql_stmt_bind_result(st, &out) && !mysql_stmt_fetch(st),
		      "execute round %d: %s", round, mysql_stmt_error(st));
		CHECK(y == x + 1000000, "execute gave %lld for %lld", y, x);
		mysql_stmt_free_result(st);
	}
	/* A transaction that is rolled back leaves nothing behind. */
	snprintf(sql, sizeof(sql), "INSERT INTO pool_t VALUES (%d, 'rolled back')",
		 a->id + 100000);
	CHECK(!mysql_query(m, "BEGIN") && !mysql_query(m, sql), "txn: %s",
	      mysql_error(m));
	gap(a->id, 7);
	CHECK(!mysql_query(m, "ROLLBACK"), "rollback: %s", mysql_error(m));
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM pool_t WHERE id = %d",
		 a->id + 100000);
	CHECK(expect(m, sql, "0", why, sizeof(why)), "%s", why);
	/* A committed insert: LAST_INSERT_ID() is this session's. */
	CHECK(!mysql_query(m, "INSERT INTO pool_auto (who) VALUES ('x')"),
	      "insert: %s", mysql_error(m));
	{
		unsigned long long mine = mysql_insert_id(m);
		gap(a->id, 8);
		snprintf(want, sizeof(want), "%llu", mine);
		CHECK(expect(m, "SELECT LAST_INSERT_ID()", want, why,
			     sizeof(why)), "%s", why);
	}
	/* A temporary table keeps the session on its connection. */
	snprintf(sql, sizeof(sql), "CREATE TEMPORARY TABLE tmp_mine (v INT)");
	CHECK(!mysql_query(m, sql), "%.200s: %.200s", sql, mysql_error(m));
	snprintf(sql, sizeof(sql), "INSERT INTO tmp_mine VALUES (%d)", a->id);
	CHECK(!mysql_query(m, sql), "%.200s: %.200s", sql, mysql_error(m));
	gap(a->id, 9);
	snprintf(want, sizeof(want), "%d", a->id);
	CHECK(expect(m, "SELECT v FROM tmp_mine", want, why, sizeof(why)), "%s", why);
	/* A named lock is held on the session's connection until released. */
	snprintf(sql, sizeof(sql), "SELECT GET_LOCK('pool-lk-%d', 10)", a->id);
	CHECK(expect(m, sql, "1", why, sizeof(why)), "%s", why);
	gap(a->id, 10);
	snprintf(sql, sizeof(sql), "SELECT RELEASE_LOCK('pool-lk-%d')", a->id);
	CHECK(expect(m, sql, "1", why, sizeof(why)), "%s", why);
	/* FOUND_ROWS() reads the SQL_CALC_FOUND_ROWS before it. */
	snprintf(sql, sizeof(sql), "SELECT SQL_CALC_FOUND_ROWS seq FROM "
		 "seq_1_to_%d LIMIT 1", a->id % 5 + 2);
	CHECK(!mysql_query(m, sql), "%.200s: %.200s", sql, mysql_error(m));
	mysql_free_result(mysql_store_result(m));
	gap(a->id, 11);
	snprintf(want, sizeof(want), "%d", a->id % 5 + 2);
	CHECK(expect(m, "SELECT FOUND_ROWS()", want, why, sizeof(why)), "%s", why);
	/* CONNECTION_ID() is the id the client was given. */
	snprintf(want, sizeof(want), "%lu", mysql_thread_id(m));
	CHECK(expect(m, "SELECT CONNECTION_ID()", want, why, sizeof(why)), "%s",
	      why);
	/* Everything set at the start is still this session's. */
	snprintf(want, sizeof(want), "%d", 1000 + a->id);
	CHECK(expect(m, "SELECT @@session.wait_timeout", want, why,
		     sizeof(why)), "%s", why);
	snprintf(want, sizeof(want), "%d", a->id);
	CHECK(expect(m, "SELECT @mine", want, why, sizeof(why)), "%s", why);
	a->ok = 1;
out:
	if (st)
		mysql_stmt_close(st);
	if (m)
		mysql_close(m);
	return NULL;
}

struct watch {
	const char *user;
	volatile bool stop;
	int max;
};

static void *watch_server(void *p)
{
	struct watch *w = p;
	MYSQL *d = direct_connect();

	while (!w->stop) {
		int n = server_conns(d, w->user);
		if (n > w->max)
			w->max = n;
		usleep(20000);
	}
	mysql_close(d);
	return NULL;
}

Test(pool, two_hundred_clients_over_twenty_connections_each_see_their_own,
     .timeout = 300)
{
	enum { CLIENTS = 200 };
	struct pooled px;
	pthread_t th[CLIENTS], wt;
	struct client_arg *a = calloc(CLIENTS, sizeof(*a));
	struct watch w = {.user = "pool200"};
	MYSQL *d = direct_connect();
	int failed = 0;

	query_ok(d, "CREATE TABLE IF NOT EXISTS pool_t (id INT PRIMARY KEY, v TEXT)");
	query_ok(d, "CREATE TABLE IF NOT EXISTS pool_auto (id INT AUTO_INCREMENT "
		    "PRIMARY KEY, who TEXT)");
	pooled_start_as(&px, "pool200", "20", "60000", "transaction");
	pthread_create(&wt, NULL, watch_server, &w);
	for (int i = 0; i < CLIENTS; i++) {
		a[i] = (struct client_arg){.px = &px, .id = i};
		pthread_create(&th[i], NULL, isolated_client, &a[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(th[i], NULL);
		if (!a[i].ok && failed++ < 5)
			cr_log_error("client %d: %s", i, a[i].err);
	}
	w.stop = true;
	pthread_join(wt, NULL);
	cr_assert_eq(failed, 0, "%d of %d clients saw something not their own\n%s",
		     failed, CLIENTS, proxy_log_tail(&px.p));
	cr_assert_leq(w.max, 20, "the server saw %d connections of the pool", w.max);
	cr_assert_gt(w.max, 0);
	cr_assert_eq(proxy_stop(&px.p, 20000), 0, "%s", proxy_log_tail(&px.p));
	mysql_close(d);
	free(a);
}

/* ---- the pool's limits ---------------------------------------------------- */

Test(pool, an_exhausted_pool_makes_a_command_wait_then_fail_clearly,
     .timeout = 60)
{
	struct pooled px;
	char err[256];
	MYSQL *a, *b;

	/* The wait also covers opening a connection, which a loaded machine
	 * (ASan, tests side by side) can take a while to do: 2 s. */
	pooled_start(&px, "1", "2000", "transaction");
	a = pooled_client(&px, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	b = pooled_client(&px, err, sizeof(err));
	cr_assert_not_null(b, "%s", err);
	/* a holds the only connection: its transaction is open. */
	query_ok(a, "BEGIN");
	query_ok(a, "SELECT 1");
	uint64_t t0 = now_ms();
	cr_assert_neq(mysql_query(b, "SELECT 'b waits'"), 0);
	uint64_t took = now_ms() - t0;
	cr_assert_eq(mysql_errno(b), 1040, "%u %s", mysql_errno(b), mysql_error(b));
	cr_assert(strstr(mysql_error(b), "myring: no backend connection free "
			 "within 2000 ms"), "%s", mysql_error(b));
	cr_assert_geq(took, 1900, "it waited (%llu ms)", (unsigned long long)took);
	cr_assert_lt(took, 10000, "and not much longer (%llu ms)",
		     (unsigned long long)took);
	/* The session goes on: once a is done, b gets the connection. */
	query_ok(a, "COMMIT");
	char *v = query_value(b, "SELECT 'b got it'");
	cr_assert_str_eq(v, "b got it");
	free(v);
	mysql_close(a);
	mysql_close(b);
	cr_assert_eq(proxy_stop(&px.p, 20000), 0, "%s", proxy_log_tail(&px.p));
}

Test(pool, a_connection_killed_while_idle_is_never_lent, .timeout = 60)
{
	struct pooled px;
	char err[256];
	MYSQL *m, *d = direct_connect();

	pooled_start_as(&px, "poolkill", "4", "5000", "transaction");
	m = pooled_client(&px, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	free(query_value(m, "SELECT 1"));
	/* The connection is idle in the pool now: kill it on the server. */
	char *id = query_value(d, "SELECT ID FROM information_schema.PROCESSLIST "
			       "WHERE USER = 'poolkill' LIMIT 1");
	cr_assert_not_null(id);
	char kill[64];
	snprintf(kill, sizeof(kill), "KILL %s", id);
	query_ok(d, kill);
	free(id);
	usleep(200000);
	for (int i = 0; i < 20; i++) {
		char *v = query_value(m, "SELECT 'after the kill'");
		cr_assert_str_eq(v, "after the kill");
		free(v);
	}
	mysql_close(m);
	mysql_close(d);
	cr_assert_eq(proxy_stop(&px.p, 20000), 0, "%s", proxy_log_tail(&px.p));
}

/* ---- statements move between connections ------------------------------------ */

Test(pool, a_prepared_statement_follows_its_session_to_another_connection,
     .timeout = 60)
{
	struct pooled px;
	char err[256];
	MYSQL *a, *b;
	MYSQL_STMT *st;
	MYSQL_BIND in = {0}, out[2];
	long long x = 41, y = 0, where = 0, first = 0;

	pooled_start(&px, "2", "5000", "transaction");
	a = pooled_client(&px, err, sizeof(err));
	b = pooled_client(&px, err, sizeof(err));
	cr_assert(a && b, "%s", err);
	st = mysql_stmt_init(a);
	cr_assert_eq(mysql_stmt_prepare(st, "SELECT @@pseudo_thread_id, ? + 1", 32),
		     0, "%s", mysql_stmt_error(st));
	in.buffer_type = MYSQL_TYPE_LONGLONG;
	in.buffer = &x;
	memset(out, 0, sizeof(out));
	out[0].buffer_type = MYSQL_TYPE_LONGLONG;
	out[0].buffer = &where;
	out[1].buffer_type = MYSQL_TYPE_LONGLONG;
	out[1].buffer = &y;
	cr_assert_eq(mysql_stmt_bind_param(st, &in), 0);
	cr_assert_eq(mysql_stmt_bind_result(st, out), 0);
	for (int round = 0; round < 4; round++) {
		/* b takes the connection a used last, and keeps it. */
		if (round == 1)
			query_ok(b, "BEGIN"), query_ok(b, "SELECT 1");
		if (round == 3)
			query_ok(b, "COMMIT");
		x = 41 + round;
		cr_assert_eq(mysql_stmt_execute(st), 0, "round %d: %s", round,
			     mysql_stmt_error(st));
		cr_assert_eq(mysql_stmt_fetch(st), 0, "round %d: %s", round,
			     mysql_stmt_error(st));
		cr_assert_eq(y, x + 1, "round %d", round);
		if (round == 0)
			first = where;
		if (round == 1 || round == 2)
			cr_assert_neq(where, first, "round %d ran on another "
				      "server connection", round);
		mysql_stmt_free_result(st);
	}
	cr_assert_eq(mysql_stmt_close(st), 0);
	mysql_close(a);
	mysql_close(b);
	cr_assert_eq(proxy_stop(&px.p, 20000), 0, "%s", proxy_log_tail(&px.p));
}

/* ---- identity ------------------------------------------------------------- */

Test(pool, change_user_and_reset_under_proxy_auth, .timeout = 60)
{
	struct pooled px;
	char err[256];
	MYSQL *m;

	pooled_start(&px, "4", "5000", "transaction");
	cr_assert_null(connect_port(px.p.port, POOL_USER, "wrong", "myring_test",
				    0, err, sizeof(err)));
	cr_assert(!strncmp(err, "1045 Access denied for user '" POOL_USER "'@",
			   35), "%s", err);
	m = pooled_client(&px, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	query_ok(m, "SET @kept = 'before', sql_mode = 'ANSI_QUOTES'");
	cr_assert_eq(mysql_reset_connection(m), 0, "%s", mysql_error(m));
	char *v = query_value(m, "SELECT CONCAT(IFNULL(@kept, 'gone'), ' ', "
			      "@@sql_mode NOT LIKE '%ANSI_QUOTES%', ' ', DATABASE())");
	cr_assert_str_eq(v, "gone 1 myring_test");
	free(v);
	/* Another user, checked by myring, and the session that goes with it. */
	cr_assert_eq(mysql_change_user(m, "myring", "myring-pw", "mysql"), 0,
		     "%s", mysql_error(m));
	v = query_value(m, "SELECT CONCAT(CURRENT_USER(), ' ', DATABASE())");
	cr_assert(!strncmp(v, "myring@", 7) && strstr(v, " mysql"), "%s", v);
	free(v);
	cr_assert_neq(mysql_change_user(m, "myring", "wrong", NULL), 0);
	cr_assert_eq(mysql_errno(m), 1045, "%s", mysql_error(m));
	mysql_close(m);
	cr_assert_eq(proxy_stop(&px.p, 20000), 0, "%s", proxy_log_tail(&px.p));
}

/* ---- commands of 16 MiB and more on a connection that needed a replay ---- */

/* A statement command held back while the borrowed connection is brought
 * to the session's state is sent later from a copy, and a copy must be
 * framed again as the protocol frames it: split at 16 MiB, an exact
 * multiple ending with an empty packet.  The session's own connection is
 * taken by another client first, so the EXECUTE goes to one that needs a
 * replay (its sql_mode) and a PREPARE. */
Test(pool, big_statement_commands_survive_a_replay, .timeout = 240)
{
	static const size_t sizes[] = {
		16777197,      /* an EXECUTE payload of exactly 0xFFFFFF */
		16777198,      /* one byte over */
		20u << 20,
	};
	struct pooled px;
	char err[256];
	MYSQL *a, *c;

	pooled_start(&px, "4", "60000", "transaction");
	a = pooled_client(&px, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	c = pooled_client(&px, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	query_ok(a, "CREATE TABLE IF NOT EXISTS pool_big (id INT PRIMARY KEY, "
		    "b LONGBLOB)");
	query_ok(a, "DELETE FROM pool_big");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = sizes[k];
		unsigned char *blob = malloc(len);
		unsigned long blen = (unsigned long)len;
		MYSQL_BIND b = {.buffer_type = MYSQL_TYPE_LONG_BLOB, .buffer = blob,
				.buffer_length = blen, .length = &blen};
		MYSQL_STMT *st = mysql_stmt_init(a);
		char sql[96];
		MYSQL_RES *r;
		MYSQL_ROW row;

		for (size_t i = 0; i < len; i++)
			blob[i] = (unsigned char)((i * 2654435761u) >> 11);
		snprintf(sql, sizeof(sql), "SET SESSION sql_mode = '%s'",
			 k % 2 ? "NO_ENGINE_SUBSTITUTION" : "STRICT_TRANS_TABLES");
		query_ok(a, sql);
		snprintf(sql, sizeof(sql), "INSERT INTO pool_big VALUES (%zu, ?)", k);
		cr_assert_eq(mysql_stmt_prepare(st, sql, strlen(sql)), 0, "%s",
			     mysql_stmt_error(st));
		/* c takes the connection a just gave back, and keeps it. */
		query_ok(c, "BEGIN");
		query_ok(c, "SELECT 1");
		cr_assert_eq(mysql_stmt_bind_param(st, &b), 0);
		cr_assert_eq(mysql_stmt_execute(st), 0, "%zu bytes: %s", len,
			     mysql_stmt_error(st));
		mysql_stmt_close(st);
		query_ok(c, "COMMIT");
		snprintf(sql, sizeof(sql), "SELECT b FROM pool_big WHERE id = %zu", k);
		cr_assert_eq(mysql_query(a, sql), 0, "%s", mysql_error(a));
		r = mysql_store_result(a);
		cr_assert_not_null(r, "%s", mysql_error(a));
		row = mysql_fetch_row(r);
		cr_assert_not_null(row, "%zu bytes: no row", len);
		cr_assert_eq(mysql_fetch_lengths(r)[0], len, "%zu bytes", len);
		cr_assert_eq(memcmp(row[0], blob, len), 0, "%zu bytes differ", len);
		mysql_free_result(r);
		free(blob);
	}
	query_ok(a, "DROP TABLE pool_big");
	mysql_close(a);
	mysql_close(c);
	cr_assert_eq(proxy_stop(&px.p, 20000), 0, "%s", proxy_log_tail(&px.p));
}
