/*
 * Sequences over the four shards of scripts/shards.sh (docs/sharding.md,
 * "Sequences"): customers' ids left to myring come from sequence rows in
 * myring.sequences on shard g1.  Many clients insert at once through
 * myring's two workers, myring restarts, and then: no key was handed out
 * twice, each client's keys ascend, keys after the restart are above
 * every key before it, each row is on the shard its key names, and
 * mysql_insert_id() / LAST_INSERT_ID() are the statement's first key.
 *
 * Runs only where MYRING_SHARDS_DIR names the rig's directory.  Rows use
 * ids from 7000000 on (the other tests' and the differential test's data
 * never do), under a sequence name of this run's own.
 */
#include <criterion/criterion.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NSHARDS 4
#define SEQ_START 7000000
#define CLIENTS 6
#define ROUNDS 25

struct seq_env {
	int shard_port[NSHARDS];
	struct proxy_proc p;
	char config[160];
	char seq[32];
};

static void seq_config(struct seq_env *e)
{
	FILE *f;

	snprintf(e->seq, sizeof(e->seq), "itest_%d", getpid());
	snprintf(e->config, sizeof(e->config), "/tmp/myring-itest-seq-%d.yaml",
		 getpid());
	f = fopen(e->config, "w");
	cr_assert(f);
	shard_rig_config_head(f, e->shard_port);
	/* Small blocks, so that the clients share many fetches. */
	fprintf(f, "keyspace:\n  schema: shop\n  shards: [g0, g1, g2, g3]\n"
		"  sequences:\n    - name: %s\n      shard: g1\n"
		"      block: 7\n      start: %d\n"
		"  tables:\n    - name: customers\n      key: id\n"
		"      sequence: %s\n    - name: orders\n"
		"      key: customer_id\n", e->seq, SEQ_START, e->seq);
	fclose(f);
}

static void seq_start(struct seq_env *e)
{
	const char *args[] = {"--config", e->config, "--log-level", "info",
			      NULL};

	proxy_start(&e->p, 0, args);
}

static long long value_ll(MYSQL *m, const char *sql)
{
	char *v = query_value(m, sql);
	long long n;

	cr_assert(v, "%s: %s", sql, mysql_error(m));
	n = atoll(v);
	free(v);
	return n;
}

static void seq_cleanup(const struct seq_env *e)
{
	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = shard_rig_connect(e->shard_port[i], "shop");

		query_ok(m, "DELETE FROM customers WHERE id >= 7000000");
		mysql_close(m);
	}
}

/* One client's inserts (a child process): single rows without the key,
 * with NULL, multi-row, INSERT ... SET; each statement's first key from
 * mysql_insert_id() and LAST_INSERT_ID(), ascending.  Exit status 0, or
 * the failed check's number. */
static int one_client(int port, int c)
{
	MYSQL *m = mysql_init(NULL);
	char sql[256];
	long long last = 0;

	if (!mysql_real_connect(m, "127.0.0.1", "myring", "myring-pw", "shop",
				(unsigned)port, NULL, 0))
		return 10;
	for (int r = 0; r < ROUNDS; r++) {
		long long id, lid;
		char *v;

		switch (r % 3) {
		case 0:
			snprintf(sql, sizeof(sql), "INSERT INTO customers "
				 "(name) VALUES ('c%d-%d-0')", c, r);
			break;
		case 1:
			snprintf(sql, sizeof(sql), "INSERT INTO customers "
				 "(id, name) VALUES (NULL, 'c%d-%d-0'), "
				 "(NULL, 'c%d-%d-1'), (0, 'c%d-%d-2')", c, r,
				 c, r, c, r);
			break;
		default:
			snprintf(sql, sizeof(sql), "INSERT INTO customers SET "
				 "name = 'c%d-%d-0'", c, r);
			break;
		}
		if (mysql_query(m, sql)) {
			fprintf(stderr, "client %d: %s: %s\n", c, sql,
				mysql_error(m));
			return 11;
		}
		if (mysql_affected_rows(m) != (r % 3 == 1 ? 3u : 1u))
			return 12;
		id = (long long)mysql_insert_id(m);
		if (id < SEQ_START || id <= last) {
			fprintf(stderr, "client %d: key %lld after %lld\n", c,
				id, last);
			return 13;
		}
		last = id + (r % 3 == 1 ? 2 : 0);
		if (mysql_query(m, "SELECT LAST_INSERT_ID()"))
			return 14;
		MYSQL_RES *res = mysql_store_result(m);
		MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
		lid = row && row[0] ? atoll(row[0]) : -1;
		if (res)
			mysql_free_result(res);
		if (lid != id) {
			fprintf(stderr, "client %d: LAST_INSERT_ID() %lld, "
				"insert id %lld\n", c, lid, id);
			return 15;
		}
		/* the statement's first row has its first key */
		snprintf(sql, sizeof(sql), "SELECT name FROM customers WHERE "
			 "id = %lld", id);
		v = query_value(m, sql);
		snprintf(sql, sizeof(sql), "c%d-%d-0", c, r);
		if (!v || strcmp(v, sql)) {
			fprintf(stderr, "client %d: key %lld is row %s\n", c,
				id, v ? v : "(none)");
			return 16;
		}
		free(v);
	}
	mysql_close(m);
	return 0;
}

static void clients(const struct seq_env *e)
{
	pid_t pids[CLIENTS];

	fflush(NULL);
	for (int c = 0; c < CLIENTS; c++) {
		pids[c] = fork();
		cr_assert_geq(pids[c], 0);
		if (pids[c] == 0)
			_exit(one_client(e->p.port, c));
	}
	for (int c = 0; c < CLIENTS; c++) {
		int st = 0;

		cr_assert_eq(waitpid(pids[c], &st, 0), pids[c]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			  "client %d failed with %d\n%s", c, WEXITSTATUS(st),
			  proxy_log_tail(&e->p));
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Every row's key, from the shards themselves, sorted; each row on the
 * shard EXPLAIN SHARDS names for its key. */
static size_t all_keys(const struct seq_env *e, long long *keys, size_t cap)
{
	MYSQL *c = shard_rig_connect(e->p.port, "shop");
	size_t n = 0;

	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = shard_rig_connect(e->shard_port[i], "shop");
		MYSQL_RES *r;
		MYSQL_ROW row;

		cr_assert_eq(mysql_query(m, "SELECT id FROM customers WHERE "
					 "id >= 7000000"), 0);
		r = mysql_store_result(m);
		while ((row = mysql_fetch_row(r))) {
			char q[160], *sh;

			cr_assert_lt(n, cap);
			keys[n++] = atoll(row[0]);
			snprintf(q, sizeof(q), "EXPLAIN SHARDS SELECT * FROM "
				 "customers WHERE id = %s", row[0]);
			sh = query_value(c, q);
			cr_assert(sh && sh[0] == 'g' && atoi(sh + 1) == i,
				  "key %s is on shard g%d, myring places it on "
				  "%s", row[0], i, sh ? sh : "?");
			free(sh);
		}
		mysql_free_result(r);
		mysql_close(m);
	}
	mysql_close(c);
	qsort(keys, n, sizeof(*keys), cmp_ll);
	for (size_t i = 1; i < n; i++)
		cr_assert_neq(keys[i], keys[i - 1], "key %lld handed out twice",
			      keys[i]);
	return n;
}

Test(shards, sequence_keys_are_unique_placed_and_survive_a_restart,
     .timeout = 240)
{
	static long long keys[4 * CLIENTS * ROUNDS * 3];
	struct seq_env e;
	long long before_max;
	size_t n, rows = 0;
	MYSQL *s1;

	seq_config(&e);
	seq_cleanup(&e);
	/* The first fetch makes myring.sequences if it is missing. */
	s1 = shard_rig_connect(e.shard_port[1], NULL);
	query_ok(s1, "DROP TABLE IF EXISTS myring.sequences");
	seq_start(&e);
	clients(&e);
	for (int r = 0; r < ROUNDS; r++)
		rows += r % 3 == 1 ? 3 : 1;
	n = all_keys(&e, keys, sizeof(keys) / sizeof(*keys));
	cr_assert_eq(n, rows * CLIENTS, "%zu rows, want %zu", n,
		     rows * CLIENTS);
	before_max = keys[n - 1];
	cr_assert_geq(keys[0], SEQ_START);
	/* The row says how far blocks were handed out. */
	{
		char q[160];

		snprintf(q, sizeof(q), "SELECT next_id FROM myring.sequences "
			 "WHERE name = '%s'", e.seq);
		cr_assert_gt(value_ll(s1, q), before_max);
	}
	/* A restart: what the workers held is a gap, never handed out
	 * again; every new key is above every old one. */
	cr_assert_eq(proxy_stop(&e.p, 20000), 0, "%s", proxy_log_tail(&e.p));
	seq_start(&e);
	clients(&e);
	n = all_keys(&e, keys, sizeof(keys) / sizeof(*keys));
	cr_assert_eq(n, 2 * rows * CLIENTS);
	{
		size_t above = 0;

		for (size_t i = 0; i < n; i++)
			above += keys[i] > before_max;
		cr_assert_eq(above, rows * CLIENTS, "keys after the restart "
			     "above the ones before it");
	}
	/* In a transaction the INSERT goes on the transaction's connection:
	 * with keys at hand it runs there (a worker without them says try
	 * again, and fetches). */
	{
		MYSQL *c = shard_rig_connect(e.p.port, "shop");
		int tries = 0;
		long long id;

		query_ok(c, "BEGIN");
		while (mysql_query(c, "INSERT INTO customers (name) VALUES "
				   "('in-trans')")) {
			cr_assert_eq(mysql_errno(c), 1235, "%s", mysql_error(c));
			cr_assert(strstr(mysql_error(c), "try again"), "%s",
				  mysql_error(c));
			cr_assert_lt(++tries, 100);
			usleep(20000);
		}
		id = (long long)mysql_insert_id(c);
		cr_assert_gt(id, before_max);
		query_ok(c, "ROLLBACK");
		mysql_close(c);
	}
	mysql_close(s1);
	seq_cleanup(&e);
	cr_expect_eq(proxy_stop(&e.p, 20000), 0, "%s", proxy_log_tail(&e.p));
	unlink(e.config);
}

/* ---- prepared INSERTs ---------------------------------------------------- */

/* The customer whose name is name: its key, or -1. */
static long long key_of(MYSQL *m, const char *name)
{
	char q[160], *v;
	long long id;

	snprintf(q, sizeof(q), "SELECT id FROM customers WHERE name = '%s'",
		 name);
	v = query_value(m, q);
	id = v ? atoll(v) : -1;
	free(v);
	return id;
}

/* Executes st with the strings names[0 .. n) bound to its first n ?
 * markers and, when key_null is 0 or 1, the key bound as 0 or NULL after
 * them: the execution's insert id, checked against LAST_INSERT_ID(). */
static long long exec_insert(MYSQL *m, MYSQL_STMT *st, char names[][32],
			     unsigned n, int key_null)
{
	MYSQL_BIND b[4];
	unsigned long lens[4];
	long long zero = 0, id, lid;
	my_bool is_null = 1;

	memset(b, 0, sizeof(b));
	for (unsigned i = 0; i < n; i++) {
		lens[i] = strlen(names[i]);
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = names[i];
		b[i].length = &lens[i];
	}
	if (key_null >= 0) {
		b[n].buffer_type = MYSQL_TYPE_LONGLONG;
		b[n].buffer = &zero;
		if (key_null)
			b[n].is_null = &is_null;
	}
	cr_assert_eq(mysql_stmt_bind_param(st, b), 0, "%s",
		     mysql_stmt_error(st));
	cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
	cr_assert_eq(mysql_stmt_affected_rows(st), n ? n : 1, "%u rows: %llu",
		     n, (unsigned long long)mysql_stmt_affected_rows(st));
	id = (long long)mysql_stmt_insert_id(st);
	lid = value_ll(m, "SELECT LAST_INSERT_ID()");
	cr_assert_eq(lid, id, "LAST_INSERT_ID() %lld, insert id %lld (%u "
		     "names, key %d)", lid, id, n, key_null);
	return id;
}

static MYSQL_STMT *prepare(MYSQL *m, const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(m);

	cr_assert(st);
	cr_assert_eq(mysql_stmt_prepare(st, sql, strlen(sql)), 0, "%s: %s",
		     sql, mysql_stmt_error(st));
	return st;
}

/*
 * Prepared INSERTs that leave the key to the sequence, each executed many
 * times: the key left out (one row and three), bound as NULL, bound as 0,
 * and a statement without markers.  Each execution's rows get new keys in
 * row order, its insert id and LAST_INSERT_ID() are the first of them,
 * and every row sits on the shard its key names.
 */
Test(shards, prepared_inserts_take_sequence_keys, .timeout = 240)
{
	enum { ROUNDS_PS = 12 };
	static long long keys[8 * ROUNDS_PS + 8];
	struct seq_env e;
	MYSQL *c;
	MYSQL_STMT *one, *three, *null_key, *zero_key, *plain;
	long long last = 0;
	size_t n, rows = 0;

	seq_config(&e);
	seq_cleanup(&e);
	seq_start(&e);
	c = shard_rig_connect(e.p.port, "shop");
	one = prepare(c, "INSERT INTO customers (name) VALUES (?)");
	three = prepare(c, "INSERT INTO customers (name, region) VALUES "
			   "(?, 'ps'), (?, 'ps'), (?, 'ps')");
	null_key = prepare(c, "INSERT INTO customers (name, id) VALUES (?, ?)");
	zero_key = prepare(c, "INSERT INTO customers (id, name) VALUES "
			      "(?, 'ps-zero')");
	plain = prepare(c, "INSERT INTO customers (name) VALUES ('ps-plain')");
	for (int r = 0; r < ROUNDS_PS; r++) {
		char names[3][32];
		long long id;

		snprintf(names[0], sizeof(names[0]), "ps1-%d", r);
		id = exec_insert(c, one, names, 1, -1);
		cr_assert_gt(id, last);
		cr_assert_geq(id, SEQ_START);
		cr_assert_eq(key_of(c, names[0]), id);
		last = id;

		for (int i = 0; i < 3; i++)
			snprintf(names[i], sizeof(names[i]), "ps3-%d-%d", r, i);
		id = exec_insert(c, three, names, 3, -1);
		cr_assert_gt(id, last);
		cr_assert_eq(key_of(c, names[0]), id, "first row, first key");
		cr_assert_gt(key_of(c, names[1]), id);
		cr_assert_gt(key_of(c, names[2]), key_of(c, names[1]));
		last = key_of(c, names[2]);

		snprintf(names[0], sizeof(names[0]), "psn-%d", r);
		id = exec_insert(c, null_key, names, 1, 1);
		cr_assert_gt(id, last);
		cr_assert_eq(key_of(c, names[0]), id);
		last = id;

		id = exec_insert(c, zero_key, names, 0, 0);
		cr_assert_gt(id, last);
		last = id;

		cr_assert_eq(mysql_stmt_execute(plain), 0, "%s",
			     mysql_stmt_error(plain));
		cr_assert_gt((long long)mysql_stmt_insert_id(plain), last);
		last = (long long)mysql_stmt_insert_id(plain);
		rows += 7;
	}
	/* The key bound as a value is a key like a written one. */
	{
		char names[1][32] = { "ps-bound" };
		MYSQL_BIND b[2];
		unsigned long len = strlen(names[0]);
		long long k = 9000000000000LL;   /* above any key handed out */

		memset(b, 0, sizeof(b));
		b[0].buffer_type = MYSQL_TYPE_STRING;
		b[0].buffer = names[0];
		b[0].length = &len;
		b[1].buffer_type = MYSQL_TYPE_LONGLONG;
		b[1].buffer = &k;
		cr_assert_eq(mysql_stmt_bind_param(null_key, b), 0);
		cr_assert_eq(mysql_stmt_execute(null_key), 0, "%s",
			     mysql_stmt_error(null_key));
		cr_assert_eq(key_of(c, "ps-bound"), k);
		cr_assert_eq(mysql_stmt_insert_id(null_key), 0);
		rows++;
	}
	/* In a transaction that is on a shard: the execution runs on the
	 * transaction's connections (keys at hand; a worker without them
	 * says try again), and goes with its rollback. */
	{
		char names[1][32] = { "ps-in-trans" };
		int tries = 0;
		MYSQL_BIND b[1];
		unsigned long len = strlen(names[0]);

		memset(b, 0, sizeof(b));
		b[0].buffer_type = MYSQL_TYPE_STRING;
		b[0].buffer = names[0];
		b[0].length = &len;
		cr_assert_eq(mysql_stmt_bind_param(one, b), 0);
		query_ok(c, "BEGIN");
		cr_assert_eq(value_ll(c, "SELECT COUNT(*) FROM customers WHERE "
				      "id = 7000000"), 1);
		while (mysql_stmt_execute(one)) {
			cr_assert_eq(mysql_stmt_errno(one), 1235, "%s",
				     mysql_stmt_error(one));
			cr_assert(strstr(mysql_stmt_error(one), "try again"),
				  "%s", mysql_stmt_error(one));
			cr_assert_lt(++tries, 100);
			usleep(20000);
		}
		cr_assert_gt((long long)mysql_stmt_insert_id(one), last);
		cr_assert_eq(key_of(c, "ps-in-trans"),
			     (long long)mysql_stmt_insert_id(one));
		query_ok(c, "ROLLBACK");
		cr_assert_eq(key_of(c, "ps-in-trans"), -1);
	}
	mysql_stmt_close(one);
	mysql_stmt_close(three);
	mysql_stmt_close(null_key);
	mysql_stmt_close(zero_key);
	mysql_stmt_close(plain);
	mysql_close(c);
	n = all_keys(&e, keys, sizeof(keys) / sizeof(*keys));
	cr_assert_eq(n, rows, "%zu rows, want %zu", n, rows);
	seq_cleanup(&e);
	cr_expect_eq(proxy_stop(&e.p, 20000), 0, "%s", proxy_log_tail(&e.p));
	unlink(e.config);
}
