/*
 * Lookup tables over the four shards of scripts/shards.sh
 * (docs/sharding.md, "Lookup tables"): table accounts is sharded by id,
 * with a unique lookup on email (myring.lookup_accounts_email on g1) and
 * a non-unique one on city (on g0).  Rows land on their key's shard;
 * their lookup rows are written, moved and removed with them, in the
 * same distributed transaction (a write that fails leaves none, a
 * rollback takes them back); a duplicate unique value is refused; a
 * statement by email goes to the lookup's shard, then to the shard of
 * the key it found alone (shown by pointing the lookup elsewhere).
 *
 * Runs only where MYRING_SHARDS_DIR names the rig's directory.  The
 * table is this test's own, made on every shard.
 */
#include <criterion/criterion.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NSHARDS 4

struct lk_env {
	int shard_port[NSHARDS];
	struct proxy_proc p;
	char config[160];
	MYSQL *sh[NSHARDS];
	MYSQL *c;
	long k[NSHARDS];        /* a key on each shard */
};

static long key_on(struct lk_env *e, int sh);

static void lk_start(struct lk_env *e)
{
	const char *args[] = {"--config", e->config, "--log-level", "info",
			      NULL};
	FILE *f;

	snprintf(e->config, sizeof(e->config), "/tmp/myring-itest-lk-%d.yaml",
		 getpid());
	f = fopen(e->config, "w");
	cr_assert(f);
	shard_rig_config_head(f, e->shard_port);
	fprintf(f, "keyspace:\n  schema: shop\n  shards: [g0, g1, g2, g3]\n"
		"  tables:\n    - name: customers\n      key: id\n"
		"    - name: orders\n      key: customer_id\n"
		"    - name: accounts\n      key: id\n      lookup:\n"
		"        - column: email\n          unique: true\n"
		"          shard: g1\n        - column: city\n");
	fclose(f);
	for (int i = 0; i < NSHARDS; i++) {
		e->sh[i] = shard_rig_connect(e->shard_port[i], "shop");
		query_ok(e->sh[i], "DROP TABLE IF EXISTS accounts");
		query_ok(e->sh[i], "CREATE TABLE accounts (id BIGINT PRIMARY "
			 "KEY, email VARCHAR(60), city VARCHAR(20), name "
			 "VARCHAR(20), UNIQUE KEY (email))");
		/* myring makes them when they are missing. */
		query_ok(e->sh[i], "DROP TABLE IF EXISTS "
			 "myring.lookup_accounts_email");
		query_ok(e->sh[i], "DROP TABLE IF EXISTS "
			 "myring.lookup_accounts_city");
	}
	proxy_start(&e->p, 0, args);
	e->c = shard_rig_connect(e->p.port, "shop");
	/* Recovery's first sweep makes the decision tables the writes'
	 * distributed transactions record in. */
	for (int i = 0; i < NSHARDS; i++)
		for (int tries = 0; tries < 100; tries++) {
			bool made = mysql_query(e->sh[i], "SELECT 1 FROM "
						"myring.xa_decisions LIMIT 1") == 0;

			if (made) {
				mysql_free_result(mysql_store_result(e->sh[i]));
				break;
			}
			usleep(100000);
		}
	for (int i = 0; i < NSHARDS; i++)
		e->k[i] = key_on(e, i);
}

static void lk_stop(struct lk_env *e)
{
	mysql_close(e->c);
	for (int i = 0; i < NSHARDS; i++) {
		query_ok(e->sh[i], "DROP TABLE IF EXISTS accounts");
		mysql_close(e->sh[i]);
	}
	cr_expect_eq(proxy_stop(&e->p, 20000), 0, "%s", proxy_log_tail(&e->p));
	unlink(e->config);
}

/* The shard myring places key k on (EXPLAIN SHARDS). */
static int shard_of(struct lk_env *e, long k)
{
	char q[160], *v;
	int sh;

	snprintf(q, sizeof(q), "EXPLAIN SHARDS SELECT * FROM accounts WHERE "
		 "id = %ld", k);
	v = query_value(e->c, q);
	cr_assert(v && v[0] == 'g', "%s", v ? v : mysql_error(e->c));
	sh = atoi(v + 1);
	free(v);
	return sh;
}

/* A key on shard sh. */
static long key_on(struct lk_env *e, int sh)
{
	for (long k = 9100000; k < 9100400; k++)
		if (shard_of(e, k) == sh)
			return k;
	cr_assert_fail("no key on g%d", sh);
	return 0;
}

static long count_on(MYSQL *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static long count_on(MYSQL *m, const char *fmt, ...)
{
	char q[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	return query_long(m, q);
}

/* Rows of accounts with id k on each shard: exactly one, on shard sh
 * (-1: none anywhere). */
static void expect_row_on(struct lk_env *e, long k, int sh)
{
	for (int i = 0; i < NSHARDS; i++)
		cr_assert_eq(count_on(e->sh[i], "SELECT COUNT(*) FROM accounts "
				      "WHERE id = %ld", k), i == sh ? 1 : 0,
			     "row %ld on g%d (want g%d)", k, i, sh);
}

static long email_rows(struct lk_env *e, const char *email, long k)
{
	return count_on(e->sh[1], "SELECT COUNT(*) FROM "
			"myring.lookup_accounts_email WHERE value = '%s' AND "
			"keyid = %ld", email, k);
}

static void exec_fail(MYSQL *m, const char *sql, unsigned code)
{
	cr_assert_neq(mysql_query(m, sql), 0, "accepted: %s", sql);
	cr_assert_eq(mysql_errno(m), code, "%s: %u %s", sql, mysql_errno(m),
		     mysql_error(m));
}

/* The name of the row whose email is email, through myring (NULL: none). */
static char *name_by_email(struct lk_env *e, const char *email)
{
	char q[200];

	snprintf(q, sizeof(q), "SELECT name FROM accounts WHERE email = '%s'",
		 email);
	return query_value(e->c, q);
}

Test(shards, lookup_rows_follow_the_rows_atomically, .timeout = 180)
{
	struct lk_env e;
	long k0, k2, k3;
	char q[300], *v;

	lk_start(&e);
	k0 = e.k[0];
	k2 = e.k[2];
	k3 = e.k[3];

	/* INSERT: rows on their shards, lookup rows on g1 (and g0). */
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, city, name) "
		 "VALUES (%ld, 'a@x', 'Oslo', 'A'), (%ld, 'b@x', 'Oslo', 'B'), "
		 "(%ld, 'c@x', NULL, 'C')", k0, k2, k3);
	query_ok(e.c, q);
	cr_assert_eq(mysql_affected_rows(e.c), 3, "the rows, not the lookups'");
	expect_row_on(&e, k0, 0);
	expect_row_on(&e, k2, 2);
	expect_row_on(&e, k3, 3);
	cr_assert_eq(email_rows(&e, "a@x", k0), 1);
	cr_assert_eq(email_rows(&e, "b@x", k2), 1);
	cr_assert_eq(email_rows(&e, "c@x", k3), 1);
	cr_assert_eq(count_on(e.sh[0], "SELECT COUNT(*) FROM "
			      "myring.lookup_accounts_city WHERE value = "
			      "'Oslo'"), 2);

	/* Reads by the lookup column. */
	v = name_by_email(&e, "b@x");
	cr_assert(v && !strcmp(v, "B"), "%s", v ? v : mysql_error(e.c));
	free(v);
	cr_assert_null(name_by_email(&e, "nobody@x"));
	cr_assert_eq(query_long(e.c, "SELECT COUNT(*) FROM accounts WHERE "
				"city = 'Oslo'"), 2);
	cr_assert_eq(query_long(e.c, "SELECT COUNT(*) FROM accounts WHERE "
				"email IN ('a@x', 'c@x', 'z@x')"), 2);
	v = query_value(e.c, "EXPLAIN SHARDS SELECT name FROM accounts WHERE "
			"email = 'b@x'");
	cr_assert(v && !strcmp(v, "g1"), "the lookup's shard first: %s", v);
	free(v);

	/* The statement goes where the lookup says, alone: pointed at a key
	 * on another shard, the row is not found. */
	snprintf(q, sizeof(q), "UPDATE myring.lookup_accounts_email SET keyid "
		 "= %ld WHERE value = 'b@x'", k3);
	query_ok(e.sh[1], q);
	cr_assert_null(name_by_email(&e, "b@x"), "went to g3 only");
	snprintf(q, sizeof(q), "UPDATE myring.lookup_accounts_email SET keyid "
		 "= %ld WHERE value = 'b@x'", k2);
	query_ok(e.sh[1], q);

	/* A unique value twice: the server's duplicate-key error, and the
	 * row is not written either. */
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, name) VALUES "
		 "(%ld, 'a@x', 'dup')", k0 + 1000);
	exec_fail(e.c, q, ER_DUP_ENTRY);
	for (int i = 0; i < NSHARDS; i++)
		cr_assert_eq(count_on(e.sh[i], "SELECT COUNT(*) FROM accounts "
				      "WHERE id = %ld", k0 + 1000), 0);

	/* The row's write fails (its id exists): its new lookup row is
	 * rolled back with it. */
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, name) VALUES "
		 "(%ld, 'new@x', 'again')", k2);
	exec_fail(e.c, q, ER_DUP_ENTRY);
	cr_assert_eq(email_rows(&e, "new@x", k2), 0, "no lookup row remains");
	cr_assert_null(name_by_email(&e, "new@x"));

	/* UPDATE of the lookup column moves its lookup row. */
	snprintf(q, sizeof(q), "UPDATE accounts SET email = 'b2@x' WHERE id = "
		 "%ld", k2);
	query_ok(e.c, q);
	cr_assert_eq(mysql_affected_rows(e.c), 1);
	cr_assert_eq(email_rows(&e, "b@x", k2), 0);
	cr_assert_eq(email_rows(&e, "b2@x", k2), 1);
	v = name_by_email(&e, "b2@x");
	cr_assert(v && !strcmp(v, "B"));
	free(v);
	cr_assert_null(name_by_email(&e, "b@x"));

	/* ... by the lookup column itself too; the moved value is free. */
	query_ok(e.c, "UPDATE accounts SET email = 'b@x' WHERE email = 'b2@x'");
	cr_assert_eq(email_rows(&e, "b@x", k2), 1);
	cr_assert_eq(email_rows(&e, "b2@x", k2), 0);

	/* An UPDATE to a value another row has (on another shard: the
	 * lookup's unique key refuses it) moves nothing. */
	snprintf(q, sizeof(q), "UPDATE accounts SET email = 'c@x' WHERE id = "
		 "%ld", k2);
	exec_fail(e.c, q, ER_DUP_ENTRY);
	cr_assert_eq(email_rows(&e, "b@x", k2), 1);
	cr_assert_eq(email_rows(&e, "c@x", k3), 1);

	/* DELETE by the lookup column: the row and its lookup row go. */
	query_ok(e.c, "DELETE FROM accounts WHERE email = 'c@x'");
	cr_assert_eq(mysql_affected_rows(e.c), 1);
	expect_row_on(&e, k3, -1);
	cr_assert_eq(email_rows(&e, "c@x", k3), 0);
	/* ... and by key. */
	snprintf(q, sizeof(q), "DELETE FROM accounts WHERE id = %ld", k0);
	query_ok(e.c, q);
	cr_assert_eq(email_rows(&e, "a@x", k0), 0);
	/* The value is free again. */
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, name) VALUES "
		 "(%ld, 'a@x', 'A2')", k3);
	query_ok(e.c, q);
	cr_assert_eq(email_rows(&e, "a@x", k3), 1);
	lk_stop(&e);
}

Test(shards, lookup_rows_commit_and_roll_back_with_the_transaction,
     .timeout = 180)
{
	struct lk_env e;
	long k0, k2, k3;
	char q[300], *v;

	lk_start(&e);
	k0 = e.k[0];
	k2 = e.k[2];
	k3 = e.k[3];
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, name) VALUES "
		 "(%ld, 't0@x', 'T0')", k0);
	query_ok(e.c, q);

	/* A transaction that begins on a shard by key, then inserts a row
	 * with a lookup: rolled back, neither is left. */
	query_ok(e.c, "BEGIN");
	snprintf(q, sizeof(q), "UPDATE accounts SET name = 'T0b' WHERE id = "
		 "%ld", k0);
	query_ok(e.c, q);
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, name) VALUES "
		 "(%ld, 't2@x', 'T2')", k2);
	query_ok(e.c, q);
	/* The transaction reads its own lookup row. */
	v = name_by_email(&e, "t2@x");
	cr_assert(v && !strcmp(v, "T2"), "%s", v ? v : mysql_error(e.c));
	free(v);
	query_ok(e.c, "ROLLBACK");
	expect_row_on(&e, k2, -1);
	cr_assert_eq(email_rows(&e, "t2@x", k2), 0);
	v = query_value(e.c, "SELECT name FROM accounts WHERE email = 't0@x'");
	cr_assert(v && !strcmp(v, "T0"), "%s", v ? v : "?");
	free(v);

	/* Committed: both are there. */
	query_ok(e.c, "BEGIN");
	snprintf(q, sizeof(q), "SELECT name FROM accounts WHERE id = %ld", k0);
	free(query_value(e.c, q));
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, name) VALUES "
		 "(%ld, 't3@x', 'T3')", k3);
	query_ok(e.c, q);
	query_ok(e.c, "COMMIT");
	expect_row_on(&e, k3, 3);
	cr_assert_eq(email_rows(&e, "t3@x", k3), 1);

	/* A transaction may begin with it: an INSERT with its lookup row,
	 * then a read by the lookup, rolled back. */
	query_ok(e.c, "BEGIN");
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, name) VALUES "
		 "(%ld, 't4@x', 'T4')", k2);
	query_ok(e.c, q);
	v = name_by_email(&e, "t4@x");
	cr_assert(v && !strcmp(v, "T4"), "%s", v ? v : mysql_error(e.c));
	free(v);
	query_ok(e.c, "ROLLBACK");
	expect_row_on(&e, k2, -1);
	cr_assert_eq(email_rows(&e, "t4@x", k2), 0);
	/* ... and commit. */
	query_ok(e.c, "BEGIN");
	v = name_by_email(&e, "t3@x");
	cr_assert(v && !strcmp(v, "T3"), "%s", v ? v : mysql_error(e.c));
	free(v);
	snprintf(q, sizeof(q), "UPDATE accounts SET email = 't5@x' WHERE "
		 "email = 't3@x'");
	query_ok(e.c, q);
	query_ok(e.c, "COMMIT");
	cr_assert_eq(email_rows(&e, "t5@x", k3), 1);
	cr_assert_eq(email_rows(&e, "t3@x", k3), 0);
	lk_stop(&e);
}

Test(shards, lookup_routes_prepared_statements, .timeout = 120)
{
	struct lk_env e;
	long k2;
	char q[300], name[32] = "";
	MYSQL_STMT *st;
	MYSQL_BIND in[1], out[1];
	const char *email = "p@x";
	unsigned long elen = 3, nlen = 0;

	lk_start(&e);
	k2 = e.k[2];
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, name) VALUES "
		 "(%ld, 'p@x', 'P')", k2);
	query_ok(e.c, q);
	st = mysql_stmt_init(e.c);
	cr_assert(st);
	snprintf(q, sizeof(q), "SELECT name FROM accounts WHERE email = ?");
	cr_assert_eq(mysql_stmt_prepare(st, q, strlen(q)), 0, "%s",
		     mysql_stmt_error(st));
	memset(in, 0, sizeof(in));
	in[0].buffer_type = MYSQL_TYPE_STRING;
	in[0].buffer = (void *)email;
	in[0].buffer_length = elen;
	in[0].length = &elen;
	cr_assert_eq(mysql_stmt_bind_param(st, in), 0);
	cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
	memset(out, 0, sizeof(out));
	out[0].buffer_type = MYSQL_TYPE_STRING;
	out[0].buffer = name;
	out[0].buffer_length = sizeof(name) - 1;
	out[0].length = &nlen;
	cr_assert_eq(mysql_stmt_bind_result(st, out), 0);
	cr_assert_eq(mysql_stmt_store_result(st), 0, "%s",
		     mysql_stmt_error(st));
	cr_assert_eq(mysql_stmt_num_rows(st), 1);
	cr_assert_eq(mysql_stmt_fetch(st), 0);
	name[nlen] = '\0';
	cr_assert_str_eq(name, "P");
	mysql_stmt_close(st);

	/* A prepared INSERT writes its lookup row. */
	st = mysql_stmt_init(e.c);
	snprintf(q, sizeof(q), "INSERT INTO accounts (id, email, name) VALUES "
		 "(?, 'q@x', 'Q')");
	cr_assert_eq(mysql_stmt_prepare(st, q, strlen(q)), 0, "%s",
		     mysql_stmt_error(st));
	{
		long long id = k2 + 1;
		MYSQL_BIND b[1];

		memset(b, 0, sizeof(b));
		b[0].buffer_type = MYSQL_TYPE_LONGLONG;
		b[0].buffer = &id;
		cr_assert_eq(mysql_stmt_bind_param(st, b), 0);
		cr_assert_eq(mysql_stmt_execute(st), 0, "%s",
			     mysql_stmt_error(st));
		cr_assert_eq(email_rows(&e, "q@x", id), 1);
	}
	mysql_stmt_close(st);
	lk_stop(&e);
}
