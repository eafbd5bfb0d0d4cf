/*
 * myring in front of a keyspace over the four shards of scripts/shards.sh:
 * what the differential test (tests/difftest.c) does not look at.  Where
 * a row is stored (seen on each shard directly), transactions that stay on
 * one shard and the ones that would need a second, schema changes on every
 * shard, prepared statements, a shard that is down, a client that leaves in
 * the middle of a cross-shard answer and one that reads it slowly.
 *
 * Runs only where MYRING_SHARDS_DIR names the rig's directory (the
 * `shards` step of scripts/test.sh).  Rows use ids from 1000000 on, which
 * the differential test's data never has, and each test removes its own.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <errno.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define NSHARDS 4
#define ADMIN_PW "shards-admin-pw"

struct env {
	int shard_port[NSHARDS];
	struct proxy_proc p;
	int admin_port;
	char config[160];
};

/* More settings for the next start() (YAML lines), or NULL. */
static const char *extra_config;

/*
 * myring over the rig, with the keyspace of scripts/shards.sh; shard
 * dead_shard (0..3, or -1) is named by an address nothing listens on.
 */
static void start(struct env *e, int dead_shard)
{
	static int seq;
	char text[4096];
	size_t n = 0;
	FILE *f;

	for (int i = 0; i < NSHARDS; i++)
		e->shard_port[i] = shard_rig_port(i);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "admin-user: admin\nadmin-password: %s\n"
			      "auth: proxy\nusers:\n  - name: myring\n"
			      "    password: myring-pw\n%sgroups:\n", ADMIN_PW,
			      extra_config ? extra_config : "");
	for (int i = 0; i < NSHARDS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  - name: g%d\n    servers: "
				      "[127.0.0.1:%d]\n", i,
				      i == dead_shard ? free_port() :
				      e->shard_port[i]);
	snprintf(text + n, sizeof(text) - n,
		 "keyspace:\n  schema: shop\n  shards: [g0, g1, g2, g3]\n"
		 "  tables:\n    - name: customers\n      key: id\n"
		 "      function: hash\n    - name: orders\n"
		 "      key: customer_id\n      function: hash\n"
		 "    - name: countries\n      type: broadcast\n"
		 "    - name: tags\n      key: name\n      key-type: string\n"
		 "      function: hash\n");
	snprintf(e->config, sizeof(e->config), "/tmp/myring-itest-shards-%d-%d"
		 ".yaml", getpid(), ++seq);
	f = fopen(e->config, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
	char admin[64];
	e->admin_port = free_port();
	snprintf(admin, sizeof(admin), "127.0.0.1:%d", e->admin_port);
	const char *args[] = {"--config", e->config, "--log-level", "info",
			      "--admin", admin, NULL};
	proxy_start(&e->p, 0, args);
}

static void stop(struct env *e)
{
	cr_expect_eq(proxy_stop(&e->p, 20000), 0, "myring's exit status\n%s",
		     proxy_log_tail(&e->p));
	unlink(e->config);
}

static MYSQL *client(const struct env *e)
{
	char err[512];
	MYSQL *m = connect_port(e->p.port, "myring", "myring-pw", "shop", 0,
				err, sizeof(err));

	cr_assert(m, "connect through myring: %s\n%s", err,
		  proxy_log_tail(&e->p));
	return m;
}

static MYSQL *shard(const struct env *e, int i)
{
	char err[512];
	MYSQL *m = connect_port(e->shard_port[i], "myring", "myring-pw",
				"shop", 0, err, sizeof(err));

	cr_assert(m, "connect to shard %d: %s", i, err);
	return m;
}

static long num(MYSQL *m, const char *sql);

/* A counter of SHOW STATUS on the admin port. */
static long counter(const struct env *e, const char *name)
{
	char err[512], sql[128];
	MYSQL *a = connect_port(e->admin_port, "admin", ADMIN_PW, NULL, 0, err,
				sizeof(err));
	long v;

	cr_assert(a, "admin port: %s", err);
	snprintf(sql, sizeof(sql), "SELECT Value FROM stats.stats WHERE "
		 "Variable_name = '%s'", name);
	v = num(a, sql);
	mysql_close(a);
	return v;
}

static long num(MYSQL *m, const char *sql)
{
	return query_long(m, sql);
}

/* The shard (0..3) holding customer id, seen on the shards themselves; -1
 * when none does; fails when more than one does. */
static int where_is(const struct env *e, long id)
{
	char sql[128];
	int at = -1;

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM customers WHERE id = "
		 "%ld", id);
	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = shard(e, i);
		if (num(m, sql)) {
			cr_assert_eq(at, -1, "customer %ld is on shards %d and "
				     "%d", id, at, i);
			at = i;
		}
		mysql_close(m);
	}
	return at;
}

static void cleanup(const struct env *e)
{
	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = shard(e, i);
		query_ok(m, "DELETE FROM customers WHERE id >= 1000000");
		query_ok(m, "DELETE FROM orders WHERE customer_id >= 1000000");
		query_ok(m, "DROP TABLE IF EXISTS ddl_probe");
		mysql_close(m);
	}
}

/* The shard EXPLAIN SHARDS names for sql (g0..g3 -> 0..3), one part. */
static int explained_shard(MYSQL *c, const char *sql)
{
	char q[512];
	MYSQL_RES *r;
	MYSQL_ROW row;
	int at;

	snprintf(q, sizeof(q), "EXPLAIN SHARDS %s", sql);
	cr_assert_eq(mysql_query(c, q), 0, "%s: %s", q, mysql_error(c));
	r = mysql_store_result(c);
	cr_assert(r);
	cr_assert_eq(mysql_num_rows(r), 1, "%s: %llu parts", q,
		     (unsigned long long)mysql_num_rows(r));
	row = mysql_fetch_row(r);
	cr_assert(row[0] && row[0][0] == 'g', "shard column: %s",
		  row[0] ? row[0] : "NULL");
	at = atoi(row[0] + 1);
	mysql_free_result(r);
	return at;
}

Test(shards, each_row_is_stored_on_the_one_shard_its_key_names,
     .timeout = 120)
{
	struct env e;
	char sql[256];
	int seen[NSHARDS] = {0};

	start(&e, -1);
	cleanup(&e);
	MYSQL *c = client(&e);
	/* One multi-row INSERT over every shard, then single rows. */
	query_ok(c, "INSERT INTO customers (id, name, balance) VALUES "
		 "(1000001, 'a', 1.50), (1000002, 'b', 2.25), "
		 "(1000003, 'c', 3.00), (1000004, 'd', 4.75), "
		 "(1000005, 'e', 5.00), (1000006, 'f', 6.10)");
	cr_assert_eq(mysql_affected_rows(c), 6);
	for (long id = 1000007; id <= 1000024; id++) {
		snprintf(sql, sizeof(sql), "INSERT INTO customers (id, name, "
			 "balance) VALUES (%ld, 'x', %ld.25)", id, id % 100);
		query_ok(c, sql);
	}
	for (long id = 1000001; id <= 1000024; id++) {
		int at = where_is(&e, id);
		snprintf(sql, sizeof(sql), "SELECT * FROM customers WHERE id = "
			 "%ld", id);
		cr_assert_neq(at, -1, "customer %ld is on no shard", id);
		cr_assert_eq(explained_shard(c, sql), at, "customer %ld is on "
			     "shard %d, EXPLAIN SHARDS says otherwise", id, at);
		snprintf(sql, sizeof(sql), "SELECT id FROM customers WHERE id "
			 "= %ld", id);
		cr_assert_eq(num(c, sql), id);
		seen[at]++;
	}
	for (int i = 0; i < NSHARDS; i++)
		cr_expect_gt(seen[i], 0, "24 keys, none on shard %d", i);
	/* Across shards: the rows as one server would count them. */
	cr_assert_eq(num(c, "SELECT COUNT(*) FROM customers WHERE id >= "
			 "1000000"), 24);
	cr_assert_eq(num(c, "SELECT MAX(id) FROM customers WHERE id >= "
			 "1000000"), 1000024);
	char *sum = query_value(c, "SELECT SUM(balance) FROM customers WHERE "
				"id BETWEEN 1000001 AND 1000006");
	cr_assert_str_eq(sum, "22.60");
	free(sum);
	/* An UPDATE without the key touches every shard; the OK adds up. */
	query_ok(c, "UPDATE customers SET region = 'upd' WHERE id >= 1000000");
	cr_assert_eq(mysql_affected_rows(c), 24);
	/* What ran where, counted: the 18 single-row INSERTs and 24 point
	 * SELECTs on one shard each (the EXPLAINs are answered by myring);
	 * 3 aggregates and the UPDATE on every shard, and the multi-row
	 * INSERT on as many shards as its keys need. */
	long single = counter(&e, "shard_single");
	long fanouts = counter(&e, "shard_fanouts");
	cr_assert_eq(single + fanouts, 18 + 24 + 5, "%ld + %ld", single,
		     fanouts);
	cr_assert_geq(fanouts, 4);
	cr_assert_eq(counter(&e, "shard_refused"), 0);
	mysql_close(c);
	cleanup(&e);
	stop(&e);
}

/* Two customer ids on different shards (a from `from` on). */
static void two_shards(MYSQL *c, long from, long *a, int *sa, long *b,
		       int *sb)
{
	char sql[256];

	*a = from;
	snprintf(sql, sizeof(sql), "SELECT * FROM customers WHERE id = %ld",
		 *a);
	*sa = explained_shard(c, sql);
	for (*b = *a + 1;; (*b)++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM customers WHERE id "
			 "= %ld", *b);
		*sb = explained_shard(c, sql);
		if (*sb != *sa)
			break;
	}
}

static void insert_customer(MYSQL *c, long id, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO customers (id, name, balance) "
		 "VALUES (%ld, '%s', 100)", id, name);
	query_ok(c, sql);
}

/* Prepared XA branches on shard i (XA RECOVER's rows). */
static long prepared_on(const struct env *e, int i)
{
	MYSQL *m = shard(e, i);
	MYSQL_RES *r;
	long n;

	cr_assert_eq(mysql_query(m, "XA RECOVER"), 0, "%s", mysql_error(m));
	r = mysql_store_result(m);
	n = r ? (long)mysql_num_rows(r) : 0;
	mysql_free_result(r);
	mysql_close(m);
	return n;
}

static long prepared_anywhere(const struct env *e)
{
	long n = 0;

	for (int i = 0; i < NSHARDS; i++)
		n += prepared_on(e, i);
	return n;
}

Test(shards, a_transaction_over_two_shards_commits_on_both,
     .timeout = 120)
{
	struct env e;
	long a, b;
	int sa, sb;
	char sql[256];

	start(&e, -1);
	cleanup(&e);
	MYSQL *c = client(&e);
	two_shards(c, 1000101, &a, &sa, &b, &sb);
	/* BEGIN and COMMIT with nothing between: nothing on any shard. */
	query_ok(c, "BEGIN");
	query_ok(c, "COMMIT");
	/* One shard, rolled back: the row never lands. */
	query_ok(c, "START TRANSACTION");
	insert_customer(c, a, "rolled back");
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM customers WHERE id = "
		 "%ld", a);
	cr_assert_eq(num(c, sql), 1, "the transaction reads its own write");
	cr_assert_eq(where_is(&e, a), -1, "not committed yet");
	query_ok(c, "ROLLBACK");
	cr_assert_eq(where_is(&e, a), -1);
	/* A second shard joins: both commit. */
	query_ok(c, "BEGIN");
	insert_customer(c, a, "first");
	insert_customer(c, b, "second");
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM customers WHERE id = "
		 "%ld", b);
	cr_assert_eq(num(c, sql), 1, "the second shard's branch reads its "
		     "own write");
	cr_assert_eq(where_is(&e, b), -1, "not committed yet");
	/* A read over every shard runs on the transaction's branches. */
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM customers WHERE id "
		 "IN (%ld, %ld)", a, b);
	cr_assert_eq(num(c, sql), 2, "a read over every shard inside the "
		     "transaction sees its writes");
	snprintf(sql, sizeof(sql), "UPDATE customers SET balance = balance - 10"
		 " WHERE id = %ld", a);
	query_ok(c, sql);
	snprintf(sql, sizeof(sql), "UPDATE customers SET balance = balance + 10"
		 " WHERE id = %ld", b);
	query_ok(c, sql);
	query_ok(c, "COMMIT");
	cr_assert_eq(where_is(&e, a), sa);
	cr_assert_eq(where_is(&e, b), sb);
	snprintf(sql, sizeof(sql), "SELECT balance FROM customers WHERE id = "
		 "%ld", b);
	MYSQL *m = shard(&e, sb);
	cr_assert_eq(num(m, sql), 110);
	mysql_close(m);
	cr_assert_eq(counter(&e, "xa_committed"), 1);
	cr_assert_eq(prepared_anywhere(&e), 0);
	/* Over two shards, rolled back: nothing anywhere. */
	long a2, b2;
	int sa2, sb2;
	two_shards(c, 1001101, &a2, &sa2, &b2, &sb2);
	query_ok(c, "BEGIN");
	insert_customer(c, a2, "x");
	insert_customer(c, b2, "y");
	snprintf(sql, sizeof(sql), "DELETE FROM customers WHERE id = %ld", b);
	query_ok(c, sql);
	query_ok(c, "ROLLBACK");
	cr_assert_eq(where_is(&e, b), sb, "the DELETE was rolled back");
	cr_assert_eq(where_is(&e, a2), -1);
	cr_assert_eq(where_is(&e, b2), -1);
	/* A statement error inside it does not end it (as in MySQL). */
	query_ok(c, "BEGIN");
	insert_customer(c, a2, "x");
	insert_customer(c, b2, "y");
	snprintf(sql, sizeof(sql), "INSERT INTO customers (id, name) VALUES "
		 "(%ld, 'dup')", b2);
	cr_assert_neq(mysql_query(c, sql), 0);
	cr_assert_eq(mysql_errno(c), 1062, "%s", mysql_error(c));
	query_ok(c, "COMMIT");
	cr_assert_eq(where_is(&e, a2), sa2);
	cr_assert_eq(where_is(&e, b2), sb2);
	/* A client that leaves mid-transaction leaves nothing. */
	long a3, b3;
	int sa3, sb3;
	two_shards(c, 1002101, &a3, &sa3, &b3, &sb3);
	query_ok(c, "BEGIN");
	insert_customer(c, a3, "x");
	insert_customer(c, b3, "y");
	mysql_close(c);
	usleep(300000);
	cr_assert_eq(where_is(&e, a3), -1);
	cr_assert_eq(where_is(&e, b3), -1);
	cr_assert_eq(prepared_anywhere(&e), 0);
	cr_assert_eq(counter(&e, "xa_transactions"), 4);
	/* The session's connections are usable afterwards. */
	c = client(&e);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM customers WHERE id IN "
		 "(%ld, %ld)", a, b);
	cr_assert_eq(num(c, sql), 2);
	mysql_close(c);
	cleanup(&e);
	stop(&e);
}

Test(shards, schema_changes_reach_every_shard, .timeout = 120)
{
	struct env e;

	start(&e, -1);
	cleanup(&e);
	MYSQL *c = client(&e);
	query_ok(c, "CREATE TABLE ddl_probe (id INT PRIMARY KEY)");
	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = shard(&e, i);
		cr_assert_eq(num(m, "SELECT COUNT(*) FROM information_schema."
				 "tables WHERE table_schema = 'shop' AND "
				 "table_name = 'ddl_probe'"), 1,
			     "shard %d has no ddl_probe", i);
		mysql_close(m);
	}
	/* The server's own refusal comes back (here: from every shard). */
	cr_assert_neq(mysql_query(c, "CREATE TABLE ddl_probe (id INT)"), 0);
	cr_assert_eq(mysql_errno(c), 1050, "%u %s", mysql_errno(c),
		     mysql_error(c));
	query_ok(c, "DROP TABLE ddl_probe");
	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = shard(&e, i);
		cr_assert_eq(num(m, "SELECT COUNT(*) FROM information_schema."
				 "tables WHERE table_schema = 'shop' AND "
				 "table_name = 'ddl_probe'"), 0);
		mysql_close(m);
	}
	mysql_close(c);
	stop(&e);
}

struct alter_run {
	MYSQL *c;
	const char *sql;
	volatile bool done;
	unsigned err;
};

static void *alter_thread(void *arg)
{
	struct alter_run *a = arg;

	a->err = mysql_query(a->c, a->sql) ? mysql_errno(a->c) : 0;
	a->done = true;
	return NULL;
}

/*
 * A schema change one shard refuses at once while another is still
 * running it: the client's error comes when every shard has answered,
 * so that what it sends next finds the change made where it could be
 * (before, the first error was answered at once: the next statement
 * could overtake the other shards' work, and did, now and then, in
 * schema_changes_reach_every_shard).
 */
Test(shards, a_write_error_is_answered_after_every_shard_ended,
     .timeout = 120)
{
	struct env e;
	struct alter_run a = {0};
	pthread_t th;

	start(&e, -1);
	cleanup(&e);
	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = shard(&e, i);
		query_ok(m, "DROP TABLE IF EXISTS ddl_probe");
		if (i)
			query_ok(m, "CREATE TABLE ddl_probe (id INT PRIMARY KEY)");
		mysql_close(m);
	}
	/* Shard 2's ALTER waits for this transaction's metadata lock. */
	MYSQL *holder = shard(&e, 2);
	query_ok(holder, "BEGIN");
	free(query_value(holder, "SELECT COUNT(*) FROM ddl_probe"));
	a.c = client(&e);
	a.sql = "ALTER TABLE ddl_probe ADD COLUMN x INT";
	pthread_create(&th, NULL, alter_thread, &a);
	usleep(1500 * 1000);
	bool early = a.done;
	query_ok(holder, "COMMIT");
	pthread_join(th, NULL);
	cr_assert(!early, "the error (%u) came while shard 2 still ran the "
		  "ALTER", a.err);
	cr_assert_eq(a.err, 1146, "shard 0 has no such table: %u", a.err);
	MYSQL *m = shard(&e, 2);
	cr_assert_eq(num(m, "SELECT COUNT(*) FROM information_schema.columns "
			 "WHERE table_schema = 'shop' AND table_name = "
			 "'ddl_probe' AND column_name = 'x'"), 1,
		     "shard 2 had not finished when the client was answered");
	mysql_close(m);
	mysql_close(holder);
	mysql_close(a.c);
	cleanup(&e);
	stop(&e);
}

/* Executes st with one integer parameter (and a string one if name). */
static int exec_id(MYSQL_STMT *st, long long id, const char *name)
{
	MYSQL_BIND b[2];
	unsigned long nlen = name ? strlen(name) : 0;

	memset(b, 0, sizeof(b));
	b[0].buffer_type = MYSQL_TYPE_LONGLONG;
	b[0].buffer = &id;
	b[1].buffer_type = MYSQL_TYPE_STRING;
	b[1].buffer = (void *)name;
	b[1].buffer_length = nlen;
	b[1].length = &nlen;
	if (mysql_stmt_bind_param(st, b))
		return -1;
	return mysql_stmt_execute(st);
}

static MYSQL_STMT *prepare(MYSQL *c, const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(c);

	cr_assert_eq(mysql_stmt_prepare(st, sql, strlen(sql)), 0, "%s: %s",
		     sql, mysql_stmt_error(st));
	return st;
}

Test(shards, prepared_statements_go_to_the_shard_their_parameters_name,
     .timeout = 120)
{
	struct env e;
	char sql[160], want[32], got[64];
	unsigned long glen;
	MYSQL_BIND out;

	start(&e, -1);
	cleanup(&e);
	MYSQL *c = client(&e);
	MYSQL_STMT *ins = prepare(c, "INSERT INTO customers (id, name) VALUES "
				  "(?, ?)");
	for (long long id = 1000401; id <= 1000412; id++) {
		snprintf(want, sizeof(want), "p%lld", id);
		cr_assert_eq(exec_id(ins, id, want), 0, "%s",
			     mysql_stmt_error(ins));
		snprintf(sql, sizeof(sql), "SELECT * FROM customers WHERE id = "
			 "%lld", id);
		cr_assert_eq(where_is(&e, id), explained_shard(c, sql),
			     "customer %lld", id);
	}
	mysql_stmt_close(ins);
	long before = counter(&e, "shard_single");
	MYSQL_STMT *sel = prepare(c, "SELECT name FROM customers WHERE id = ?");
	for (long long id = 1000401; id <= 1000412; id++) {
		cr_assert_eq(exec_id(sel, id, NULL), 0, "%s",
			     mysql_stmt_error(sel));
		memset(&out, 0, sizeof(out));
		out.buffer_type = MYSQL_TYPE_STRING;
		out.buffer = got;
		out.buffer_length = sizeof(got);
		out.length = &glen;
		cr_assert_eq(mysql_stmt_bind_result(sel, &out), 0);
		cr_assert_eq(mysql_stmt_fetch(sel), 0, "%s",
			     mysql_stmt_error(sel));
		snprintf(want, sizeof(want), "p%lld", id);
		cr_assert_eq(glen, strlen(want));
		cr_assert_eq(memcmp(got, want, glen), 0, "customer %lld", id);
		cr_assert_eq(mysql_stmt_fetch(sel), MYSQL_NO_DATA);
		mysql_stmt_free_result(sel);
	}
	mysql_stmt_close(sel);
	cr_assert_eq(counter(&e, "shard_single") - before, 12,
		     "each execution on one shard");
	/* An execution that needs every shard is merged (the values of
	 * every type: test_shards_exec.c). */
	long long count = 0;
	MYSQL_STMT *all = prepare(c, "SELECT COUNT(*) FROM customers WHERE "
				  "id > ?");
	cr_assert_eq(exec_id(all, 1000400, NULL), 0, "%s",
		     mysql_stmt_error(all));
	memset(&out, 0, sizeof(out));
	out.buffer_type = MYSQL_TYPE_LONGLONG;
	out.buffer = &count;
	cr_assert_eq(mysql_stmt_bind_result(all, &out), 0);
	cr_assert_eq(mysql_stmt_fetch(all), 0, "%s", mysql_stmt_error(all));
	cr_assert_eq(mysql_stmt_fetch(all), MYSQL_NO_DATA);
	mysql_stmt_close(all);
	cr_assert_eq(count, 12);
	cr_assert_eq(count, num(c, "SELECT COUNT(*) FROM customers WHERE id > "
				"1000400"));
	/* What touches no table is prepared and run as usual. */
	MYSQL_STMT *st = prepare(c, "SELECT 1 + ?");
	cr_assert_eq(exec_id(st, 41, NULL), 0, "%s", mysql_stmt_error(st));
	mysql_stmt_close(st);
	cr_assert_eq(num(c, "SELECT 41 + 1"), 42);
	mysql_close(c);
	cleanup(&e);
	stop(&e);
}

Test(shards, a_shard_that_is_down_fails_only_what_needs_it, .timeout = 120)
{
	struct env e;
	char sql[256];
	long on_live = -1;

	start(&e, 3);
	MYSQL *c = client(&e);
	/* Every shard is needed: a clear error naming the one missing. */
	cr_assert_neq(mysql_query(c, "SELECT COUNT(*) FROM customers"), 0);
	cr_assert(strstr(mysql_error(c), "g3") || strstr(mysql_error(c),
		  "connect"), "%u %s", mysql_errno(c), mysql_error(c));
	/* A key on a live shard still works, on the same session. */
	for (long id = 1000201; on_live < 0; id++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM customers WHERE id "
			 "= %ld", id);
		if (explained_shard(c, sql) != 3)
			on_live = id;
	}
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM customers WHERE id = "
		 "%ld", on_live);
	cr_assert_eq(num(c, sql), 0);
	mysql_close(c);
	stop(&e);
}

/* Rows enough for an answer of several MiB: 400 customers, and a query
 * that makes each row 60 kB. */
static void many_rows(const struct env *e)
{
	char sql[16000];
	MYSQL *c = client(e);

	for (int b = 0; b < 4; b++) {
		size_t n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO "
					    "customers (id, name) VALUES ");
		for (int i = b * 100; i < b * 100 + 100; i++)
			n += (size_t)snprintf(sql + n, sizeof(sql) - n,
					      "%s(%d, 'r%d')", i % 100 ? ", " :
					      "", 1000300 + i, i);
		query_ok(c, sql);
	}
	mysql_close(c);
}

#define BIG "SELECT id, REPEAT(name, 15000) FROM customers WHERE id >= " \
	    "1000000 ORDER BY id"

Test(shards, a_client_that_leaves_mid_answer_costs_nothing_else,
     .timeout = 120)
{
	struct env e;

	start(&e, -1);
	cleanup(&e);
	many_rows(&e);
	for (int round = 0; round < 5; round++) {
		MYSQL *c = client(&e);
		cr_assert_eq(mysql_send_query(c, BIG, strlen(BIG)), 0);
		usleep(20000);
		/* Gone without reading: the shards' answers are read to
		 * their end and their connections go back. */
		shutdown(mysql_get_socket(c), SHUT_RDWR);
		mysql_close(c);
	}
	MYSQL *c = client(&e);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(num(c, "SELECT COUNT(*) FROM customers WHERE id "
				 ">= 1000000"), 400);
	/* And the whole answer, in order. */
	cr_assert_eq(mysql_query(c, BIG), 0, "%s", mysql_error(c));
	MYSQL_RES *r = mysql_use_result(c);
	MYSQL_ROW row;
	long last = 0, rows = 0;
	while ((row = mysql_fetch_row(r))) {
		long id = strtol(row[0], NULL, 10);
		cr_assert_gt(id, last);
		last = id;
		rows++;
	}
	cr_assert_eq(mysql_errno(c), 0, "%s", mysql_error(c));
	cr_assert_eq(rows, 400);
	mysql_free_result(r);
	mysql_close(c);
	cleanup(&e);
	stop(&e);
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* Shard queries of the big answer still running on the shards. */
static int big_running(const struct env *e)
{
	int n = 0;

	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = shard(e, i);
		n += (int)num(m, "SELECT COUNT(*) FROM information_schema."
			      "processlist WHERE command = 'Query' AND info "
			      "LIKE 'SELECT id, REPEAT(name, 50000)%'");
		mysql_close(m);
	}
	return n;
}

#define HUGE "SELECT id, REPEAT(name, 50000) FROM customers WHERE id >= " \
	     "1000000 ORDER BY id"

Test(shards, a_slow_reader_holds_the_shards_back_not_myrings_memory,
     .timeout = 180)
{
	struct env e;
	long before, peak = 0, rows = 0;

	/* Under ASan, freed memory waits in a quarantine (256 MB by default)
	 * before it is reused: RSS would count every buffer the answer went
	 * through, not what myring holds at once. */
	if (under_asan()) {
		const char *o = getenv("ASAN_OPTIONS");
		char opts[512];

		snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=0",
			 o ? o : "", o && *o ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	start(&e, -1);
	cleanup(&e);
	many_rows(&e);
	MYSQL *c = client(&e);
	/* Warm: the first big answer sizes the allocator's pools. */
	cr_assert_eq(mysql_query(c, HUGE), 0, "%s", mysql_error(c));
	mysql_free_result(mysql_store_result(c));
	before = rss_kb(e.p.pid);
	/* 400 rows of about 200 kB (80 MB, more than the sockets between
	 * the shards, myring and the client hold): not read for 2 s, the
	 * shards must still be sending, held back by myring. */
	cr_assert_eq(mysql_send_query(c, HUGE, strlen(HUGE)), 0);
	sleep(2);
	cr_assert_gt(big_running(&e), 0, "every shard finished sending an "
		     "80 MB answer the client did not read: myring read it "
		     "all into its memory");
	cr_assert_eq(mysql_read_query_result(c), 0, "%s", mysql_error(c));
	MYSQL_RES *r = mysql_use_result(c);
	while (mysql_fetch_row(r)) {
		long now = rss_kb(e.p.pid);
		if (now > peak)
			peak = now;
		if (++rows % 50 == 0)
			usleep(100000);
	}
	cr_assert_eq(rows, 400, "%s", mysql_error(c));
	mysql_free_result(r);
	cr_expect_lt(peak - before, 24 * 1024, "myring grew by %ld kB while "
		     "a client read an 80 MB answer slowly", peak - before);
	cr_assert_eq(big_running(&e), 0);
	mysql_close(c);
	cleanup(&e);
	stop(&e);
}

/*
 * A latin1 client's string keys: the server converts the literal to the
 * column's utf8mb4 before it compares, so the row is stored and found
 * where the same name written in UTF-8 is.  Names spread over the shards
 * and each beyond ASCII (cp1252's own Œ and €, and latin1's ø, é).
 */
Test(shards, latin1_clients_string_keys_go_where_their_utf8_does,
     .timeout = 120)
{
	static const char *const latin1[] = {
		"Bj\xf8rn", "\x8cuvre", "caf\xe9", "\x80uro", "na\xefve",
		"Z\xfcrich", "Fran\xe7ois", "\xc5ngstr\xf6m",
	};
	static const char *const utf8[] = {
		"Bj\xc3\xb8rn", "\xc5\x92uvre", "caf\xc3\xa9", "\xe2\x82\xacuro",
		"na\xc3\xafve", "Z\xc3\xbcrich", "Fran\xc3\xa7ois",
		"\xc3\x85ngstr\xc3\xb6m",
	};
	enum { N = sizeof(latin1) / sizeof(latin1[0]) };
	struct env e;
	char sql[256], err[512];
	int used = 0;

	start(&e, -1);
	MYSQL *c = client(&e);
	query_ok(c, "DROP TABLE IF EXISTS tags");
	query_ok(c, "CREATE TABLE tags (name VARCHAR(40) PRIMARY KEY, n INT) "
		 "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
	MYSQL *l = mysql_init(NULL);
	unsigned int timeout = 60;
	mysql_optionsv(l, MYSQL_SET_CHARSET_NAME, "latin1");
	mysql_optionsv(l, MYSQL_OPT_READ_TIMEOUT, &timeout);
	cr_assert(mysql_real_connect(l, "127.0.0.1", "myring", "myring-pw",
				     "shop", (unsigned)e.p.port, NULL, 0),
		  "latin1 client: %s", mysql_error(l));
	for (int i = 0; i < N; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO tags (name, n) VALUES "
			 "('%s', %d)", latin1[i], i);
		query_ok(l, sql);
	}
	for (int i = 0; i < N; i++) {
		int want, at = -1;

		snprintf(sql, sizeof(sql), "SELECT n FROM tags WHERE name = "
			 "'%s'", utf8[i]);
		want = explained_shard(c, sql);
		used |= 1 << want;
		/* The latin1 spelling plans to the same shard... */
		snprintf(sql, sizeof(sql), "SELECT n FROM tags WHERE name = "
			 "'%s'", latin1[i]);
		cr_assert_eq(explained_shard(l, sql), want, "%s", utf8[i]);
		/* ...the row is stored there and nowhere else... */
		for (int k = 0; k < NSHARDS; k++) {
			MYSQL *m = shard(&e, k);
			char q[256];
			snprintf(q, sizeof(q), "SELECT COUNT(*) FROM tags WHERE "
				 "name = '%s'", utf8[i]);
			if (num(m, q)) {
				cr_assert_eq(at, -1, "%s on shards %d and %d",
					     utf8[i], at, k);
				at = k;
			}
			mysql_close(m);
		}
		cr_assert_eq(at, want, "%s stored on shard %d, planned for %d",
			     utf8[i], at, want);
		/* ...and both clients find it by its key. */
		snprintf(sql, sizeof(sql), "SELECT n FROM tags WHERE name = "
			 "'%s'", latin1[i]);
		cr_assert_eq(num(l, sql), i, "%s", utf8[i]);
		snprintf(sql, sizeof(sql), "SELECT n FROM tags WHERE name = "
			 "'%s'", utf8[i]);
		cr_assert_eq(num(c, sql), i, "%s", utf8[i]);
	}
	cr_assert_gt(__builtin_popcount(used), 1, "all names on one shard: "
		     "the test shows nothing");
	(void)err;
	query_ok(c, "DROP TABLE tags");
	mysql_close(l);
	mysql_close(c);
	stop(&e);
}

/* Leaves a prepared XA branch of myring's format on shard i, as a
 * coordinator that died after XA PREPARE would: inserting customer id.
 * The session ends; the branch survives it (MariaDB >= 10.5). */
static void leave_prepared(const struct env *e, int i, const char *gtrid,
			   long id)
{
	MYSQL *m = shard(e, i);
	char sql[256];

	snprintf(sql, sizeof(sql), "XA START '%s','%d',28025", gtrid, i);
	query_ok(m, sql);
	snprintf(sql, sizeof(sql), "INSERT INTO customers (id, name) VALUES "
		 "(%ld, 'in doubt')", id);
	query_ok(m, sql);
	snprintf(sql, sizeof(sql), "XA END '%s','%d',28025", gtrid, i);
	query_ok(m, sql);
	snprintf(sql, sizeof(sql), "XA PREPARE '%s','%d',28025", gtrid, i);
	query_ok(m, sql);
	mysql_close(m);
}

static long admin_num(const struct env *e, const char *sql)
{
	char err[512];
	MYSQL *a = connect_port(e->admin_port, "admin", ADMIN_PW, NULL, 0, err,
				sizeof(err));
	long v;

	cr_assert(a, "admin port: %s", err);
	v = num(a, sql);
	mysql_close(a);
	return v;
}

Test(shards, recovery_commits_recorded_and_rolls_back_unrecorded_branches,
     .timeout = 120)
{
	struct env e;
	const char *g_commit = "myring:00000000deadbeef:0:1";
	const char *g_rollback = "myring:00000000deadbeef:0:2";
	const char *g_manual = "myring:00000000deadbeef:0:3";
	char sql[256];

	/* Fast sweeps; a long grace, so that the unrecorded branch is first
	 * seen in doubt, then resolved by hand. */
	extra_config = "xa-recovery-interval-ms: 200\nxa-grace-ms: 600000\n";
	start(&e, -1);
	extra_config = NULL;
	cleanup(&e);
	/* The first sweep creates the decision table on every shard. */
	for (int tries = 0; tries < 100; tries++) {
		MYSQL *m = shard(&e, 0);
		bool made = mysql_query(m, "SELECT 1 FROM myring.xa_decisions "
					"LIMIT 1") == 0;
		if (made)
			mysql_free_result(mysql_store_result(m));
		mysql_close(m);
		if (made)
			break;
		usleep(100000);
	}
	MYSQL *d = shard(&e, 0);
	query_ok(d, "DELETE FROM myring.xa_decisions WHERE gtrid LIKE "
		 "'myring:00000000deadbeef:%'");
	/* Decided commit (the record on the decision shard 0), branch on 2. */
	snprintf(sql, sizeof(sql), "INSERT INTO myring.xa_decisions (gtrid, "
		 "decision) VALUES ('%s', 'commit')", g_commit);
	query_ok(d, sql);
	leave_prepared(&e, 2, g_commit, 1000901);
	/* Undecided: no record; one resolved by hand. */
	leave_prepared(&e, 1, g_rollback, 1000902);
	leave_prepared(&e, 3, g_manual, 1000903);
	for (int tries = 0; tries < 100 && prepared_on(&e, 2); tries++)
		usleep(100000);
	cr_assert_eq(prepared_on(&e, 2), 0, "the recorded branch committed");
	cr_assert_eq(where_is(&e, 1000901), 2);
	/* The undecided one waits for its grace, shown in doubt. */
	usleep(500000);
	cr_assert_eq(prepared_on(&e, 1), 1);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM stats.transactions "
		 "WHERE xid = '%s' AND state = 'in doubt' AND participants = "
		 "'g1'", g_rollback);
	cr_assert_eq(admin_num(&e, sql), 1);
	/* Resolved by hand: committed on its shard, recorded. */
	char err[512];
	MYSQL *a = connect_port(e.admin_port, "admin", ADMIN_PW, NULL, 0, err,
				sizeof(err));
	cr_assert(a, "%s", err);
	snprintf(sql, sizeof(sql), "XA COMMIT '%s'", g_manual);
	query_ok(a, sql);
	snprintf(sql, sizeof(sql), "XA ROLLBACK '%s'", g_rollback);
	query_ok(a, sql);
	cr_assert_neq(mysql_query(a, "XA COMMIT 'not-ours'"), 0);
	mysql_close(a);
	for (int tries = 0; tries < 100 && (prepared_on(&e, 3) ||
					    prepared_on(&e, 1)); tries++)
		usleep(100000);
	cr_assert_eq(prepared_on(&e, 3), 0);
	cr_assert_eq(prepared_on(&e, 1), 0);
	cr_assert_eq(where_is(&e, 1000903), 3, "committed by hand");
	cr_assert_eq(where_is(&e, 1000902), -1, "rolled back by hand");
	cr_assert_geq(counter(&e, "xa_recovered"), 3);
	/* Records no branch needs are deleted (the tombstone is kept). */
	for (int tries = 0; tries < 50; tries++) {
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM "
			 "myring.xa_decisions WHERE gtrid = '%s'", g_commit);
		if (!num(d, sql))
			break;
		usleep(100000);
	}
	cr_assert_eq(num(d, sql), 0);
	snprintf(sql, sizeof(sql), "SELECT decision FROM myring.xa_decisions "
		 "WHERE gtrid = '%s'", g_rollback);
	char *dec = query_value(d, sql);
	cr_assert(dec && !strcmp(dec, "rollback"), "%s", dec ? dec : "none");
	free(dec);
	query_ok(d, "DELETE FROM myring.xa_decisions WHERE gtrid LIKE "
		 "'myring:00000000deadbeef:%'");
	mysql_close(d);
	cr_assert_eq(prepared_anywhere(&e), 0);
	cleanup(&e);
	stop(&e);
}

/* Sends sql without reading its answer (the client pipelines). */
static void send_only(MYSQL *c, const char *sql)
{
	cr_assert_eq(mysql_send_query(c, sql, strlen(sql)), 0, "%s: %s", sql,
		     mysql_error(c));
}

/* The next pipelined answer's one value. */
static char *next_value(MYSQL *c, char *buf, size_t len)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	cr_assert_eq(mysql_read_query_result(c), 0, "%u %s", mysql_errno(c),
		     mysql_error(c));
	r = mysql_store_result(c);
	cr_assert(r, "%s", mysql_error(c));
	row = mysql_fetch_row(r);
	snprintf(buf, len, "%s", row && row[0] ? row[0] : "(none)");
	mysql_free_result(r);
	return buf;
}

/*
 * A statement over several shards with more statements pipelined behind
 * it than the session's queue held (it grows, and moves): the answers
 * come in order, and the fanout's entry is the one that moved (ASan sees
 * a write to the old one).
 */
Test(shards, many_statements_pipelined_behind_one_over_shards,
     .timeout = 120)
{
	struct env e;
	char sql[128], buf[64];
	MYSQL *c;

	start(&e, -1);
	cleanup(&e);
	c = client(&e);
	insert_customer(c, 1000600, "pp");
	for (int round = 0; round < 3; round++) {
		send_only(c, "SELECT COUNT(*) FROM customers WHERE id >= 1000000");
		for (int i = 0; i < 9; i++) {
			snprintf(sql, sizeof(sql), "SELECT %d", i);
			send_only(c, sql);
		}
		cr_assert_str_eq(next_value(c, buf, sizeof(buf)), "1");
		for (int i = 0; i < 9; i++) {
			snprintf(sql, sizeof(sql), "%d", i);
			cr_assert_str_eq(next_value(c, buf, sizeof(buf)), sql);
		}
	}
	mysql_close(c);
	cleanup(&e);
	stop(&e);
}

/*
 * The same inside a distributed transaction: the statement that makes a
 * second shard join (XA START, then the statement on the branch) and the
 * COMMIT (the two-phase commit's steps) each run with more statements
 * pipelined behind them than the queue held; the transaction follows its
 * entry as the queue moves (ASan sees a write to the old one) and both
 * shards commit.
 */
Test(shards, many_statements_pipelined_behind_distributed_steps,
     .timeout = 120)
{
	struct env e;
	char sql[160], buf[64];
	long a, b;
	int sa, sb;
	MYSQL *c;

	start(&e, -1);
	cleanup(&e);
	c = client(&e);
	two_shards(c, 1000700, &a, &sa, &b, &sb);
	query_ok(c, "BEGIN");
	insert_customer(c, a, "first");
	snprintf(sql, sizeof(sql), "INSERT INTO customers (id, name, balance) "
		 "VALUES (%ld, 'second', 100)", b);
	send_only(c, sql);
	for (int i = 0; i < 9; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d", i);
		send_only(c, sql);
	}
	cr_assert_eq(mysql_read_query_result(c), 0, "%s", mysql_error(c));
	for (int i = 0; i < 9; i++) {
		snprintf(sql, sizeof(sql), "%d", i);
		cr_assert_str_eq(next_value(c, buf, sizeof(buf)), sql);
	}
	send_only(c, "COMMIT");
	for (int i = 0; i < 9; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d", 10 + i);
		send_only(c, sql);
	}
	cr_assert_eq(mysql_read_query_result(c), 0, "%s", mysql_error(c));
	for (int i = 0; i < 9; i++) {
		snprintf(sql, sizeof(sql), "%d", 10 + i);
		cr_assert_str_eq(next_value(c, buf, sizeof(buf)), sql);
	}
	cr_assert_eq(where_is(&e, a), sa);
	cr_assert_eq(where_is(&e, b), sb);
	cr_assert_eq(prepared_anywhere(&e), 0);
	mysql_close(c);
	cleanup(&e);
	stop(&e);
}
