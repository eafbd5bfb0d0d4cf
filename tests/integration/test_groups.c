/*
 * Backend groups against a real replica set (scripts/replicas.sh: a
 * primary, server_id 1, and two GTID replicas, 2 and 3): where reads and
 * writes go (seen by each server's whoami row and, for writes, by
 * @@server_id where they ran), causal reads, the health checker
 * following a stopped SQL thread, a killed replica, a killed primary and
 * a promotion.
 *
 * Runs only where MYRING_REPLICAS_DIR names the set's directory (the
 * `groups` step of scripts/test.sh, one test at a time: tests kill and
 * promote servers).  Every test first makes sure the set runs as built
 * (`replicas.sh start` rebuilds it when a test before left it otherwise),
 * so no test depends on another's order or success.
 */
#include <criterion/criterion.h>
#include <errmsg.h>
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define ADMIN_PW "groups-admin-pw"
#define INTERVAL_MS 200
/* Which server answers (replicas.sh's whoami table, one per server): not
 * @@server_id, which myring sends to the primary (server state). */
#define WHO "SELECT server_id FROM whoami"

struct rs {
	int port[3];               /* primary, replica1, replica2 */
	pid_t pid[3];
};

struct env {
	struct rs rs;
	struct proxy_proc p;
	int admin_port;
	char config[128];
};

static const char *rs_dir(void)
{
	const char *d = getenv("MYRING_REPLICAS_DIR");

	if (!d || !*d)
		cr_skip_test("MYRING_REPLICAS_DIR is not set (the `groups` "
			     "step of scripts/test.sh sets it)");
	return d;
}

/* The set, as built (rebuilt if a test before changed it). */
static void rs_up(struct rs *rs)
{
	const char *dir = rs_dir();
	static const char *const names[3] = {"PRIMARY", "REPLICA1", "REPLICA2"};
	char cmd[1024], file[512], key[64];
	int rc;

	snprintf(cmd, sizeof(cmd), "bash scripts/replicas.sh start '%s' "
		 ">>'%s/tests.log' 2>&1", dir, dir);
	rc = system(cmd);
	cr_assert_eq(rc, 0, "scripts/replicas.sh start %s failed (see %s/"
		     "tests.log)", dir, dir);
	snprintf(file, sizeof(file), "%s/env", dir);
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "REPL_%s_PORT", names[i]);
		rs->port[i] = (int)env_file_long(file, key);
		snprintf(key, sizeof(key), "REPL_%s_PID", names[i]);
		rs->pid[i] = (pid_t)env_file_long(file, key);
	}
}

/* A connection straight to server i of the set. */
static MYSQL *direct(const struct env *e, int i)
{
	char err[512];
	MYSQL *m = connect_port(e->rs.port[i], "myring", "myring-pw",
				"myring_test", 0, err, sizeof(err));

	cr_assert(m, "connect to server %d (port %d): %s", i, e->rs.port[i],
		  err);
	return m;
}

static MYSQL *client(const struct env *e)
{
	char err[512];
	MYSQL *m = connect_port(e->p.port, "myring", "myring-pw", "myring_test",
				0, err, sizeof(err));

	cr_assert(m, "connect through myring: %s\n%s", err,
		  proxy_log_tail(&e->p));
	return m;
}

static MYSQL *admin(const struct env *e)
{
	char err[512];
	MYSQL *m = connect_port(e->admin_port, "admin", ADMIN_PW, "stats", 0,
				err, sizeof(err));

	cr_assert(m, "connect to the admin port: %s", err);
	return m;
}

/* The status ("online", ...) and role of server i in stats.backends. */
static void backend_of(const struct env *e, int i, char *status, size_t slen,
		       char *role, size_t rlen)
{
	MYSQL *a = admin(e);
	MYSQL_RES *res;
	MYSQL_ROW row;
	char want[64];

	snprintf(want, sizeof(want), "127.0.0.1:%d", e->rs.port[i]);
	status[0] = role[0] = '\0';
	cr_assert_eq(mysql_query(a, "SELECT server, status, role FROM backends"),
		     0, "%s", mysql_error(a));
	res = mysql_store_result(a);
	cr_assert(res);
	while ((row = mysql_fetch_row(res)))
		if (row[0] && !strcmp(row[0], want)) {
			snprintf(status, slen, "%s", row[1] ? row[1] : "");
			snprintf(role, rlen, "%s", row[2] ? row[2] : "");
		}
	mysql_free_result(res);
	mysql_close(a);
}

/* Waits until server i has this status (and role, unless NULL). */
static bool wait_backend(const struct env *e, int i, const char *status,
			 const char *role, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	char st[32], ro[32];

	do {
		backend_of(e, i, st, sizeof(st), ro, sizeof(ro));
		if (!strcmp(st, status) && (!role || !strcmp(ro, role)))
			return true;
		usleep(50000);
	} while (now_ms() < end);
	return false;
}

static void expect_backend(const struct env *e, int i, const char *status,
			   const char *role, int timeout_ms)
{
	char st[32], ro[32];

	if (wait_backend(e, i, status, role, timeout_ms))
		return;
	backend_of(e, i, st, sizeof(st), ro, sizeof(ro));
	cr_assert_fail("server %d (port %d): %s %s after %d ms, expected %s "
		       "%s\n%s", i, e->rs.port[i], ro, st, timeout_ms,
		       role ? role : "", status, proxy_log_tail(&e->p));
}

/* The config file of e's myring: the admin and monitor credentials, then
 * yaml. */
static void write_config(const struct env *e, const char *yaml)
{
	FILE *f = fopen(e->config, "w");

	cr_assert(f, "cannot write %s: %s", e->config, strerror(errno));
	fprintf(f, "admin-user: admin\nadmin-password: %s\n"
		"monitor-user: myring_monitor\nmonitor-password: monitor-pw\n%s",
		ADMIN_PW, yaml ? yaml : "");
	fclose(f);
}

/*
 * myring on the set: flags (--primary, --replica x 2, --check-interval)
 * unless yaml names the groups itself; yaml goes into the config file
 * after the admin and monitor credentials.
 */
static void start(struct env *e, const char *yaml, const char *const *more)
{
	static int seq;
	char admin_addr[64], prim[64], rep1[64], rep2[64], iv[16];
	const char *args[40];
	int n = 0;

	rs_up(&e->rs);
	snprintf(e->config, sizeof(e->config),
		 "/tmp/myring-itest-groups-%d-%d.yaml", getpid(), ++seq);
	write_config(e, yaml);
	e->admin_port = free_port();
	snprintf(admin_addr, sizeof(admin_addr), "127.0.0.1:%d", e->admin_port);
	snprintf(prim, sizeof(prim), "127.0.0.1:%d", e->rs.port[0]);
	snprintf(rep1, sizeof(rep1), "127.0.0.1:%d", e->rs.port[1]);
	snprintf(rep2, sizeof(rep2), "127.0.0.1:%d", e->rs.port[2]);
	snprintf(iv, sizeof(iv), "%d", INTERVAL_MS);
	args[n++] = "--config";
	args[n++] = e->config;
	args[n++] = "--admin";
	args[n++] = admin_addr;
	args[n++] = "--auth";
	args[n++] = "proxy";
	args[n++] = "--user";
	args[n++] = "myring:myring-pw";
	args[n++] = "--log-level";
	args[n++] = "info";
	if (!yaml || !strstr(yaml, "groups:")) {
		args[n++] = "--primary";
		args[n++] = prim;
		args[n++] = "--replica";
		args[n++] = rep1;
		args[n++] = "--replica";
		args[n++] = rep2;
		args[n++] = "--check-interval";
		args[n++] = iv;
	}
	for (; more && *more && n < 38; more++)
		args[n++] = *more;
	args[n] = NULL;
	proxy_start(&e->p, 0, args);
}

/* Every server of the flags' group checked and online. */
static void all_online(const struct env *e)
{
	expect_backend(e, 0, "online", "primary", 5000);
	expect_backend(e, 1, "online", "replica", 5000);
	expect_backend(e, 2, "online", "replica", 5000);
}

static void stop(struct env *e)
{
	cr_expect_eq(proxy_stop(&e->p, 20000), 0, "myring exit status\n%s",
		     proxy_log_tail(&e->p));
	unlink(e->config);
}

static long num(MYSQL *m, const char *sql)
{
	char *v = query_value(m, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* Runs sql on server i directly. */
static void on_server(const struct env *e, int i, const char *sql)
{
	MYSQL *m = direct(e, i);

	cr_assert_eq(mysql_query(m, sql), 0, "server %d: %s: %s", i, sql,
		     mysql_error(m));
	mysql_close(m);
}

/* Until what the primary wrote so far is on both replicas. */
static void replicas_caught_up(const struct env *e)
{
	MYSQL *p = direct(e, 0);
	char *pos = query_value(p, "SELECT @@gtid_binlog_pos");
	char sql[512];

	mysql_close(p);
	cr_assert(pos);
	snprintf(sql, sizeof(sql), "SELECT MASTER_GTID_WAIT('%s', 10)", pos);
	for (int i = 1; i < 3; i++) {
		MYSQL *r = direct(e, i);
		cr_assert_eq(num(r, sql), 0, "server %d did not apply %s", i, pos);
		mysql_close(r);
	}
	free(pos);
}

/* The server ids n autocommit reads through myring ran on. */
static void count_reads(MYSQL *c, const char *sql, int n, int counts[4])
{
	memset(counts, 0, 4 * sizeof(*counts));
	for (int i = 0; i < n; i++) {
		long id = num(c, sql);
		cr_assert(id >= 1 && id <= 3, "%s: server id %ld", sql, id);
		counts[id]++;
	}
}

Test(groups, reads_spread_over_both_replicas_never_the_primary, .timeout = 90)
{
	struct env e;
	MYSQL *c;
	int n[4];

	start(&e, NULL, NULL);
	all_online(&e);
	c = client(&e);
	count_reads(c, WHO, 60, n);
	cr_expect_gt(n[2], 5, "replica 2 served %d of 60 reads", n[2]);
	cr_expect_gt(n[3], 5, "replica 3 served %d of 60 reads", n[3]);
	cr_expect_eq(n[1], 0, "the primary served %d reads", n[1]);
	/* A prepared read is a read: its executions spread too. */
	{
		MYSQL_STMT *st = mysql_stmt_init(c);
		int seen[4] = {0};

		cr_assert_eq(mysql_stmt_prepare(st, WHO, strlen(WHO)), 0, "%s",
			     mysql_stmt_error(st));
		for (int i = 0; i < 30; i++) {
			MYSQL_BIND b;
			long id = 0;

			memset(&b, 0, sizeof(b));
			b.buffer_type = MYSQL_TYPE_LONG;
			b.buffer = &id;
			cr_assert_eq(mysql_stmt_execute(st), 0, "%s",
				     mysql_stmt_error(st));
			cr_assert_eq(mysql_stmt_bind_result(st, &b), 0);
			cr_assert_eq(mysql_stmt_fetch(st), 0);
			cr_assert(id >= 1 && id <= 3, "%ld", id);
			seen[id]++;
			mysql_stmt_free_result(st);
		}
		cr_expect(seen[2] && seen[3] && !seen[1], "prepared reads: %d %d "
			  "%d", seen[1], seen[2], seen[3]);
		mysql_stmt_close(st);
	}
	/* A read from several connections at once spreads too. */
	{
		MYSQL *more[4];
		int seen[4] = {0};

		for (int k = 0; k < 4; k++)
			more[k] = client(&e);
		for (int round = 0; round < 10; round++)
			for (int k = 0; k < 4; k++)
				seen[num(more[k], WHO)]++;
		cr_expect(seen[2] && seen[3] && !seen[1], "%d %d %d", seen[1],
			  seen[2], seen[3]);
		for (int k = 0; k < 4; k++)
			mysql_close(more[k]);
	}
	mysql_close(c);
	stop(&e);
}

Test(groups, writes_transactions_and_locking_reads_on_the_primary,
     .timeout = 90)
{
	struct env e;
	MYSQL *c, *p;
	int n[4];

	start(&e, NULL, NULL);
	all_online(&e);
	c = client(&e);
	query_ok(c, "CREATE OR REPLACE TABLE g_writes (id INT AUTO_INCREMENT "
		 "PRIMARY KEY, sid INT)");
	/* Each INSERT records the server that ran it. */
	for (int i = 0; i < 20; i++)
		query_ok(c, "INSERT INTO g_writes (sid) VALUES (@@server_id)");
	p = direct(&e, 0);
	cr_expect_eq(num(p, "SELECT COUNT(*) FROM g_writes WHERE sid = 1"), 20);
	cr_expect_eq(num(p, "SELECT COUNT(*) FROM g_writes"), 20);
	mysql_close(p);

	query_ok(c, "BEGIN");
	count_reads(c, WHO, 20, n);
	cr_expect_eq(n[1], 20, "in a transaction: %d of 20 on the primary", n[1]);
	query_ok(c, "COMMIT");
	query_ok(c, "START TRANSACTION READ ONLY");
	count_reads(c, WHO, 10, n);
	cr_expect_eq(n[1], 10, "read-only transaction: %d of 10", n[1]);
	query_ok(c, "COMMIT");
	query_ok(c, "SET autocommit = 0");
	count_reads(c, WHO, 10, n);
	cr_expect_eq(n[1], 10, "autocommit off: %d of 10 on the primary", n[1]);
	query_ok(c, "COMMIT");
	query_ok(c, "SET autocommit = 1");

	count_reads(c, "SELECT server_id FROM whoami FOR UPDATE",
		    20, n);
	cr_expect_eq(n[1], 20, "FOR UPDATE: %d of 20 on the primary", n[1]);
	count_reads(c, "SELECT server_id FROM whoami LOCK IN SHARE MODE", 20, n);
	cr_expect_eq(n[1], 20, "LOCK IN SHARE MODE: %d of 20", n[1]);
	/* Reads of what differs from server to server go to the primary. */
	count_reads(c, "SELECT @@server_id", 10, n);
	cr_expect_eq(n[1], 10, "SELECT @@server_id: %d of 10 on the primary",
		     n[1]);
	/* And autocommit reads still split (the split is on). */
	count_reads(c, WHO, 20, n);
	cr_expect_eq(n[1], 0, "plain reads on the primary: %d", n[1]);
	query_ok(c, "DROP TABLE g_writes");
	mysql_close(c);
	stop(&e);
}

/* Both replicas apply what they receive only after delay_s seconds
 * (0: as usual again). */
static void delay_replicas(const struct env *e, int delay_s)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY "
		 "= %d; START SLAVE", delay_s);
	for (int i = 1; i < 3; i++) {
		char err[512];
		MYSQL *m = connect_port(e->rs.port[i], "myring", "myring-pw",
					"myring_test", CLIENT_MULTI_STATEMENTS,
					err, sizeof(err));
		cr_assert(m, "%s", err);
		cr_assert_eq(mysql_query(m, sql), 0, "%s", mysql_error(m));
		do {
			MYSQL_RES *r = mysql_store_result(m);
			if (r)
				mysql_free_result(r);
		} while (mysql_next_result(m) == 0);
		mysql_close(m);
	}
}

static const char causal_yaml[] =
	"groups:\n"
	"  - name: app\n"
	"    check-interval: 200\n"
	"    causal-reads: session\n"
	"    causal-timeout: %d\n"
	"    servers: ['127.0.0.1:%d', '127.0.0.1:%d', '127.0.0.1:%d']\n";

/* A row inserted through myring, and whether each replica has it. */
static void insert_and_miss(const struct env *e, MYSQL *c, int id)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "INSERT INTO g_causal VALUES (%d)", id);
	query_ok(c, sql);
	/* The replicas do not have it yet: a read there without waiting
	 * would miss it. */
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM g_causal WHERE id = %d",
		 id);
	for (int i = 1; i < 3; i++) {
		MYSQL *r = direct(e, i);
		cr_assert_eq(num(r, sql), 0, "replica %d already has row %d: the "
			     "delay did not work", i, id);
		mysql_close(r);
	}
}

static void causal_start(struct env *e, int timeout_ms, int delay_s)
{
	char yaml[512];
	MYSQL *p;

	rs_up(&e->rs);
	snprintf(yaml, sizeof(yaml), causal_yaml, timeout_ms, e->rs.port[0],
		 e->rs.port[1], e->rs.port[2]);
	start(e, yaml, NULL);
	p = direct(e, 0);
	query_ok(p, "CREATE OR REPLACE TABLE g_causal (id INT PRIMARY KEY)");
	mysql_close(p);
	replicas_caught_up(e);
	delay_replicas(e, delay_s);
	/* STOP SLAVE may have been seen: back online first. */
	all_online(e);
}

static void causal_end(struct env *e)
{
	delay_replicas(e, 0);
	on_server(e, 0, "DROP TABLE IF EXISTS g_causal");
	stop(e);
}

Test(groups, causal_reads_see_the_sessions_own_write_on_a_replica,
     .timeout = 90)
{
	struct env e;
	MYSQL *c;
	uint64_t t0;

	causal_start(&e, 10000, 2);
	c = client(&e);
	for (int id = 1; id <= 2; id++) {
		MYSQL_RES *res;
		MYSQL_ROW row;

		insert_and_miss(&e, c, id);
		t0 = now_ms();
		{
			char sql[128];
			snprintf(sql, sizeof(sql), "SELECT COUNT(*), (SELECT server_id "
				 "FROM whoami) FROM g_causal WHERE id = %d", id);
			cr_assert_eq(mysql_query(c, sql), 0, "%s", mysql_error(c));
		}
		res = mysql_store_result(c);
		cr_assert(res);
		row = mysql_fetch_row(res);
		cr_assert(row && row[0] && row[1]);
		cr_expect_str_eq(row[0], "1", "read %d after the write missed it "
				 "(on server %s)", id, row[1]);
		cr_expect(!strcmp(row[1], "2") || !strcmp(row[1], "3"),
			  "read %d ran on server %s, not a replica", id, row[1]);
		mysql_free_result(res);
		/* It waited for the replica (about the delay), no longer. */
		cr_expect_geq(now_ms() - t0, 500, "the read did not wait");
		cr_expect_lt(now_ms() - t0, 8000);
	}
	/* Another session has not written: it does not wait. */
	{
		MYSQL *other = client(&e);
		t0 = now_ms();
		/* Each replica is where its delay has it: the two reads
		 * may land on replicas at different points. */
		for (int k = 0; k < 2; k++) {
			long rows = num(other, "SELECT COUNT(*) FROM g_causal");
			cr_expect(rows >= 0 && rows <= 2, "%ld rows", rows);
		}
		cr_expect_lt(now_ms() - t0, 1000, "a session without writes waited");
		mysql_close(other);
	}
	mysql_close(c);
	causal_end(&e);
}

Test(groups, causal_read_goes_to_the_primary_when_the_wait_times_out,
     .timeout = 90)
{
	struct env e;
	MYSQL *c;
	MYSQL_RES *res;
	MYSQL_ROW row;
	uint64_t t0;

	causal_start(&e, 300, 5);
	c = client(&e);
	insert_and_miss(&e, c, 7);
	t0 = now_ms();
	cr_assert_eq(mysql_query(c, "SELECT COUNT(*), (SELECT server_id FROM "
				 "whoami) FROM g_causal WHERE id = 7"), 0, "%s", mysql_error(c));
	res = mysql_store_result(c);
	row = mysql_fetch_row(res);
	cr_assert(row && row[0] && row[1]);
	cr_expect_str_eq(row[0], "1", "the read missed the write (server %s)",
			 row[1]);
	cr_expect_str_eq(row[1], "1", "the read ran on server %s, not the "
			 "primary", row[1]);
	mysql_free_result(res);
	cr_expect_geq(now_ms() - t0, 250, "no wait before the fallback");
	cr_expect_lt(now_ms() - t0, 3000, "the fallback took too long");
	/* The session goes on (the next read too). */
	cr_expect_eq(num(c, "SELECT COUNT(*) FROM g_causal WHERE id = 7"), 1);
	mysql_close(c);
	causal_end(&e);
}

Test(groups, a_replica_whose_sql_thread_stops_leaves_rotation_and_returns,
     .timeout = 90)
{
	struct env e;
	MYSQL *c;
	int n[4];

	start(&e, NULL, NULL);
	all_online(&e);
	c = client(&e);
	on_server(&e, 1, "STOP SLAVE SQL_THREAD");
	expect_backend(&e, 1, "lagging", "replica", 3 * INTERVAL_MS + 1000);
	count_reads(c, WHO, 30, n);
	cr_expect_eq(n[2], 0, "the stopped replica served %d reads", n[2]);
	cr_expect_eq(n[3], 30, "the other replica served %d of 30", n[3]);
	{
		MYSQL *a = admin(&e);
		char sql[256];
		char *why;

		snprintf(sql, sizeof(sql), "SELECT check_error FROM backends "
			 "WHERE server = '127.0.0.1:%d'", e.rs.port[1]);
		why = query_value(a, sql);
		cr_expect(why && strstr(why, "Slave_SQL_Running=No"), "%s",
			  why ? why : "(null)");
		free(why);
		mysql_close(a);
	}
	on_server(&e, 1, "START SLAVE SQL_THREAD");
	expect_backend(&e, 1, "online", "replica", 5 * INTERVAL_MS + 1000);
	count_reads(c, WHO, 30, n);
	cr_expect_gt(n[2], 0, "the replica did not come back into rotation");
	mysql_close(c);
	stop(&e);
}

/* The checks made of server i so far (stats.backends). */
static long checks_of(const struct env *e, int i)
{
	MYSQL *a = admin(e);
	char sql[256];
	long n;

	snprintf(sql, sizeof(sql), "SELECT checks FROM backends WHERE server = "
		 "'127.0.0.1:%d'", e->rs.port[i]);
	n = num(a, sql);
	mysql_close(a);
	return n;
}

Test(groups, a_hung_replica_fails_its_checks_without_holding_up_the_others,
     .timeout = 90)
{
	struct env e;
	MYSQL *c;
	int n[4];
	long before;
	bool shunned, back;

	start(&e, NULL, NULL);
	all_online(&e);
	c = client(&e);
	/* Stopped, it accepts connections (the kernel does) but answers
	 * nothing: only a check's deadline can fail it. */
	cr_assert_eq(kill(e.rs.pid[2], SIGSTOP), 0);
	before = checks_of(&e, 1);
	shunned = wait_backend(&e, 2, "shunned", NULL, 3 * INTERVAL_MS + 2000);
	/* The other servers were checked all along, at their interval. */
	cr_expect_geq(checks_of(&e, 1) - before, 3, "replica 1 was checked %ld "
		      "times while replica 2 hung", checks_of(&e, 1) - before);
	if (shunned)
		count_reads(c, WHO, 20, n);
	{
		MYSQL *a = admin(&e);
		char sql[256], *why;

		/* Read while it still hangs: the next passing check clears it. */
		snprintf(sql, sizeof(sql), "SELECT check_error FROM backends "
			 "WHERE server = '127.0.0.1:%d'", e.rs.port[2]);
		why = query_value(a, sql);
		cr_expect(why && strstr(why, "timed out after"), "check_error: %s",
			  why ? why : "(null)");
		free(why);
		mysql_close(a);
	}
	kill(e.rs.pid[2], SIGCONT);
	cr_expect(shunned, "the hung replica was not shunned\n%s",
		  proxy_log_tail(&e.p));
	if (shunned)
		cr_expect_eq(n[2], 20, "reads while replica 3 hung: %d %d %d",
			     n[1], n[2], n[3]);
	back = wait_backend(&e, 2, "online", "replica", 3 * INTERVAL_MS + 3000);
	cr_expect(back, "the replica did not come back after SIGCONT");
	mysql_close(c);
	stop(&e);
}

struct load {
	const struct env *e;
	atomic_bool stop;
	atomic_long ok, failed;
	char last_error[256];
	pthread_mutex_t lock;
};

static void *reader(void *arg)
{
	struct load *l = arg;
	char err[512];
	MYSQL *m;

	mysql_thread_init();
	m = connect_port(l->e->p.port, "myring", "myring-pw", "myring_test", 0,
			 err, sizeof(err));
	if (!m) {
		atomic_fetch_add(&l->failed, 1);
		goto out;
	}
	while (!atomic_load(&l->stop)) {
		MYSQL_RES *r;

		if (mysql_query(m, "SELECT server_id, SLEEP(0.005) FROM whoami") ||
		    !(r = mysql_store_result(m))) {
			pthread_mutex_lock(&l->lock);
			snprintf(l->last_error, sizeof(l->last_error), "%u %s",
				 mysql_errno(m), mysql_error(m));
			pthread_mutex_unlock(&l->lock);
			atomic_fetch_add(&l->failed, 1);
			/* A closed connection would fail every query after. */
			mysql_close(m);
			m = connect_port(l->e->p.port, "myring", "myring-pw",
					 "myring_test", 0, err, sizeof(err));
			if (!m)
				goto out;
			continue;
		}
		mysql_free_result(r);
		atomic_fetch_add(&l->ok, 1);
	}
	mysql_close(m);
out:
	mysql_thread_end();
	return NULL;
}

Test(groups, a_replica_killed_under_read_load_costs_no_query, .timeout = 90)
{
	struct env e;
	struct load l = {.e = &e};
	pthread_t t[6];
	long before;

	start(&e, NULL, NULL);
	all_online(&e);
	pthread_mutex_init(&l.lock, NULL);
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, reader, &l);
	usleep(800000);
	before = atomic_load(&l.ok);
	cr_assert_eq(kill(e.rs.pid[2], SIGKILL), 0, "kill %d: %s", e.rs.pid[2],
		     strerror(errno));
	usleep(2500000);
	atomic_store(&l.stop, true);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	cr_expect_eq(atomic_load(&l.failed), 0, "%ld of %ld reads failed, the "
		     "last: %s\n%s", atomic_load(&l.failed),
		     atomic_load(&l.ok) + atomic_load(&l.failed), l.last_error,
		     proxy_log_tail(&e.p));
	cr_expect_gt(before, 20, "the load did not run before the kill");
	cr_expect_gt(atomic_load(&l.ok) - before, 100, "the load did not go "
		     "on after the kill");
	expect_backend(&e, 2, "shunned", NULL, 5000);
	{
		MYSQL *c = client(&e);
		int n[4];

		count_reads(c, WHO, 20, n);
		cr_expect_eq(n[2], 20, "reads after the kill: %d %d %d", n[1],
			     n[2], n[3]);
		mysql_close(c);
	}
	stop(&e);
	/* The next test's start rebuilds the set. */
}

Test(groups, a_killed_primary_fails_writes_fast_and_reads_go_on,
     .timeout = 90)
{
	struct env e;
	const char *more[] = {"--pool-wait-ms", "5000", NULL};
	MYSQL *c;
	uint64_t end, slowest = 0;
	int writes = 0, reads = 0;
	char last[512] = "";

	start(&e, NULL, more);
	all_online(&e);
	c = client(&e);
	query_ok(c, "CREATE OR REPLACE TABLE g_pk (id INT AUTO_INCREMENT "
		 "PRIMARY KEY)");
	query_ok(c, "INSERT INTO g_pk VALUES ()");
	replicas_caught_up(&e);
	cr_assert_eq(kill(e.rs.pid[0], SIGKILL), 0);
	end = now_ms() + 3000;
	while (now_ms() < end) {
		uint64_t t0 = now_ms();
		long id;

		if (mysql_query(c, "INSERT INTO g_pk VALUES ()") == 0) {
			cr_assert_fail("a write succeeded with the primary dead");
		}
		snprintf(last, sizeof(last), "%u %s", mysql_errno(c),
			 mysql_error(c));
		if (now_ms() - t0 > slowest)
			slowest = now_ms() - t0;
		writes++;
		/* A write on a connection the kill cut gets ERR 1927 and the
		 * client connection ends (its outcome is unknown). */
		if (mysql_errno(c) == 1927 || mysql_errno(c) == CR_SERVER_LOST ||
		    mysql_errno(c) == CR_SERVER_GONE_ERROR) {
			mysql_close(c);
			c = client(&e);
		}
		id = num(c, WHO);
		cr_expect(id == 2 || id == 3, "a read went to server %ld", id);
		reads++;
		usleep(50000);
	}
	cr_expect_lt(slowest, 1000, "a write took %llu ms to fail (pool wait "
		     "5000 ms); last: %s", (unsigned long long)slowest, last);
	cr_expect(strstr(last, "group 'default'"), "the error does not name "
		  "the group: %s", last);
	cr_expect_gt(writes, 10);
	expect_backend(&e, 0, "shunned", NULL, 3000);
	/* Reads go on, and see what the primary had written. */
	cr_expect_eq(num(c, "SELECT COUNT(*) FROM g_pk"), 1);
	mysql_close(c);
	/* New clients log in (their schema checked on a replica) and read. */
	c = client(&e);
	{
		long id = num(c, WHO);
		cr_expect(id == 2 || id == 3, "a new client read on server %ld", id);
	}
	mysql_close(c);
	stop(&e);
}

Test(groups, a_promoted_replica_takes_the_writes_within_a_few_checks,
     .timeout = 90)
{
	struct env e;
	MYSQL *c;
	uint64_t t0, took = 0;
	char sql[512];
	int n[4];

	start(&e, NULL, NULL);
	all_online(&e);
	c = client(&e);
	query_ok(c, "CREATE OR REPLACE TABLE g_promo (id INT AUTO_INCREMENT "
		 "PRIMARY KEY, sid INT)");
	replicas_caught_up(&e);
	/* The primary dies; a failover tool would do what follows. */
	cr_assert_eq(kill(e.rs.pid[0], SIGKILL), 0);
	on_server(&e, 1, "STOP SLAVE");
	on_server(&e, 1, "RESET SLAVE ALL");
	on_server(&e, 1, "SET GLOBAL read_only = 0");
	on_server(&e, 2, "STOP SLAVE");
	snprintf(sql, sizeof(sql), "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', "
		 "MASTER_PORT = %d, MASTER_USER = 'repl', MASTER_PASSWORD = "
		 "'repl-pw', MASTER_USE_GTID = slave_pos", e.rs.port[1]);
	on_server(&e, 2, sql);
	on_server(&e, 2, "START SLAVE");
	t0 = now_ms();
	while (now_ms() - t0 < 10000) {
		if (mysql_query(c, "INSERT INTO g_promo (sid) VALUES "
				"(@@server_id)") == 0) {
			took = now_ms() - t0;
			break;
		}
		if (mysql_errno(c) == 1927 || mysql_errno(c) == CR_SERVER_LOST ||
		    mysql_errno(c) == CR_SERVER_GONE_ERROR) {
			mysql_close(c);
			c = client(&e);
		}
		usleep(20000);
	}
	cr_assert_gt(took, 0, "no write succeeded within 10 s of the "
		     "promotion\n%s", proxy_log_tail(&e.p));
	/* Within a few check intervals (the old primary must be shunned:
	 * fail-checks, 3 intervals). */
	cr_expect_lt(took, 8 * INTERVAL_MS + 500, "writes resumed %llu ms after "
		     "the promotion", (unsigned long long)took);
	expect_backend(&e, 1, "online", "primary", 2000);
	{
		MYSQL *r1 = direct(&e, 1);
		cr_expect_eq(num(r1, "SELECT COUNT(*) FROM g_promo WHERE sid = 2"),
			     1, "the write did not run on the promoted server");
		mysql_close(r1);
	}
	/* Reads: the remaining replica, which follows the new primary. */
	count_reads(c, WHO, 20, n);
	cr_expect_eq(n[3], 20, "reads after the promotion: %d %d %d", n[1],
		     n[2], n[3]);
	{
		MYSQL *r2 = direct(&e, 2);
		long rows = 0;
		for (int i = 0; i < 50 && rows != 1; i++) {
			rows = num(r2, "SELECT COUNT(*) FROM g_promo");
			usleep(100000);
		}
		cr_expect_eq(rows, 1, "the other replica does not follow the "
			     "new primary");
		mysql_close(r2);
	}
	mysql_close(c);
	stop(&e);
}

Test(groups, a_primary_that_turns_read_only_is_a_replica_and_its_peer_takes_over,
     .timeout = 90)
{
	struct env e;
	MYSQL *c;
	uint64_t t0;
	bool wrote = false;

	start(&e, NULL, NULL);
	all_online(&e);
	c = client(&e);
	query_ok(c, "CREATE OR REPLACE TABLE g_switch (sid INT)");
	replicas_caught_up(&e);
	/* A switchover: the old primary goes read-only, replica 1 writable. */
	on_server(&e, 0, "SET GLOBAL read_only = 1");
	on_server(&e, 1, "STOP SLAVE");
	on_server(&e, 1, "RESET SLAVE ALL");
	on_server(&e, 1, "SET GLOBAL read_only = 0");
	expect_backend(&e, 0, "lagging", "replica", 5 * INTERVAL_MS + 1000);
	expect_backend(&e, 1, "online", "primary", 5 * INTERVAL_MS + 1000);
	t0 = now_ms();
	while (now_ms() - t0 < 5000) {
		if (mysql_query(c, "INSERT INTO g_switch VALUES (@@server_id)") == 0) {
			wrote = true;
			break;
		}
		usleep(20000);
	}
	cr_assert(wrote, "no write after the switchover: %s\n%s", mysql_error(c),
		  proxy_log_tail(&e.p));
	cr_expect_eq(num(c, "SELECT sid FROM g_switch FOR UPDATE"), 2,
		     "the write did not go to the new primary");
	mysql_close(c);
	stop(&e);
	/* The set is not as built: the next start rebuilds it. */
}

Test(groups, a_rules_route_is_obeyed, .timeout = 90)
{
	struct env e;
	char yaml[1024];
	MYSQL *c;
	int n[4];

	rs_up(&e.rs);
	snprintf(yaml, sizeof(yaml),
		 "groups:\n"
		 "  - name: app\n"
		 "    check-interval: 200\n"
		 "    servers: ['127.0.0.1:%d', '127.0.0.1:%d']\n"
		 "  - name: reports\n"
		 "    check-interval: 200\n"
		 "    servers: ['127.0.0.1:%d']\n"
		 "rules:\n"
		 "  - match: 'report_marker'\n"
		 "    route: reports\n"
		 "    continue: true\n",
		 e.rs.port[0], e.rs.port[1], e.rs.port[2]);
	start(&e, yaml, NULL);
	all_online(&e);
	c = client(&e);
	count_reads(c, "SELECT server_id, 'report_marker' FROM whoami", 20, n);
	cr_expect_eq(n[3], 20, "routed reads: %d %d %d", n[1], n[2], n[3]);
	count_reads(c, WHO, 20, n);
	cr_expect_eq(n[2], 20, "the app group's reads: %d %d %d", n[1], n[2],
		     n[3]);
	count_reads(c, "SELECT server_id FROM whoami FOR UPDATE", 10, n);
	cr_expect_eq(n[1], 10, "the app group's primary: %d %d %d", n[1], n[2],
		     n[3]);
	mysql_close(c);
	stop(&e);
}

/* Rewrites the running myring's config file with a group of the given
 * servers (indexes into the set) and reloads it through the admin port. */
static void reload_group(struct env *e, const int *servers, int n)
{
	char yaml[512], list[256] = "";
	size_t len = 0;
	MYSQL *a;

	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
					"%s'127.0.0.1:%d'", i ? ", " : "",
					e->rs.port[servers[i]]);
	snprintf(yaml, sizeof(yaml),
		 "groups:\n"
		 "  - name: app\n"
		 "    check-interval: 200\n"
		 "    servers: [%s]\n", list);
	write_config(e, yaml);
	a = admin(e);
	cr_assert_eq(mysql_query(a, "RELOAD CONFIG"), 0, "%s", mysql_error(a));
	mysql_close(a);
}

Test(groups, reload_adds_a_server_and_drains_one_without_dropping_clients,
     .timeout = 120)
{
	struct env e;
	char yaml[512];
	const int second[] = {0, 2}, all[] = {0, 1, 2};
	MYSQL *c;
	int n[4];

	rs_up(&e.rs);
	snprintf(yaml, sizeof(yaml),
		 "groups:\n"
		 "  - name: app\n"
		 "    check-interval: 200\n"
		 "    servers: ['127.0.0.1:%d', '127.0.0.1:%d']\n",
		 e.rs.port[0], e.rs.port[1]);
	start(&e, yaml, NULL);
	expect_backend(&e, 0, "online", "primary", 5000);
	expect_backend(&e, 1, "online", "replica", 5000);
	/* A client connected before any reload keeps its connection. */
	c = client(&e);
	count_reads(c, WHO, 20, n);
	cr_expect_eq(n[2], 20, "before: %d %d %d", n[1], n[2], n[3]);

	/* replica2 in, replica1 out: replica1 drains, replica2 is used once
	 * its first check passes, and the client never notices. */
	reload_group(&e, second, 2);
	expect_backend(&e, 1, "draining", NULL, 2000);
	expect_backend(&e, 2, "online", "replica", 5000);
	count_reads(c, WHO, 20, n);
	cr_expect_eq(n[3], 20, "after the reload: %d %d %d", n[1], n[2], n[3]);
	cr_expect_eq(n[2], 0, "a draining server got reads");
	query_ok(c, "CREATE OR REPLACE TABLE g_reload (id INT)");
	query_ok(c, "INSERT INTO g_reload VALUES (1)");
	cr_expect_eq(num(c, "SELECT @@server_id FROM g_reload"), 1,
		     "writes stay on the primary");
	query_ok(c, "DROP TABLE g_reload");

	/* Named again: back in the rotation, reads spread over both. */
	reload_group(&e, all, 3);
	expect_backend(&e, 1, "online", "replica", 5000);
	count_reads(c, WHO, 40, n);
	cr_expect(n[2] > 0 && n[3] > 0, "both replicas again: %d %d %d", n[1],
		  n[2], n[3]);
	cr_expect_eq(n[1], 0);
	mysql_close(c);
	stop(&e);
}

Test(groups, comment_hints_choose_the_primary_or_a_causal_wait,
     .timeout = 90)
{
	struct env e;
	MYSQL *c;
	int n[4];

	start(&e, NULL, NULL);
	all_online(&e);
	c = client(&e);
	count_reads(c, "SELECT /* myring: primary */ server_id FROM whoami", 10,
		    n);
	cr_expect_eq(n[1], 10, "primary hint: %d %d %d", n[1], n[2], n[3]);
	count_reads(c, "SELECT server_id FROM whoami -- myring: primary", 10, n);
	cr_expect_eq(n[1], 10, "primary hint (line comment): %d %d %d", n[1],
		     n[2], n[3]);
	count_reads(c, "SELECT server_id, '/* myring: primary */' FROM whoami",
		    10, n);
	cr_expect_eq(n[1], 0, "a hint in a string is text: %d %d %d", n[1],
		     n[2], n[3]);
	/* causal on a group without causal reads: the read waits on the
	 * replica for the session's write (MASTER_GTID_WAIT counted). */
	query_ok(c, "CREATE OR REPLACE TABLE g_hint (id INT PRIMARY KEY)");
	query_ok(c, "INSERT INTO g_hint VALUES (1)");
	cr_expect_eq(num(c, "SELECT /* myring: causal */ COUNT(*) FROM g_hint"),
		     1, "the causal read saw the session's own write");
	{
		MYSQL *a = admin(&e);
		cr_expect_geq(num(a, "SELECT Value FROM stats WHERE "
				  "Variable_name = 'causal_waits'"), 1);
		mysql_close(a);
	}
	query_ok(c, "DROP TABLE g_hint");
	mysql_close(c);
	stop(&e);
}

/* Every row of sql's result, cells tab-separated, NULL as "NULL", each
 * row ending in a newline (malloc'd). */
static char *all_rows(MYSQL *m, const char *sql)
{
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	MYSQL_RES *res;
	MYSQL_ROW row;

	cr_assert(out);
	out[0] = '\0';
	cr_assert_eq(mysql_query(m, sql), 0, "%s: %s", sql, mysql_error(m));
	res = mysql_store_result(m);
	cr_assert(res, "%s: no result", sql);
	while ((row = mysql_fetch_row(res)))
		for (unsigned i = 0; i < mysql_num_fields(res); i++)
			len += (size_t)snprintf(out + len, cap - len, "%s%s",
						row[i] ? row[i] : "NULL",
						i + 1 < mysql_num_fields(res) ?
						"\t" : "\n");
	mysql_free_result(res);
	cr_assert_lt(len, cap, "result too long");
	return out;
}

static void keyspace_yaml(const struct env *e, char *yaml, size_t cap,
			  const char *tables)
{
	snprintf(yaml, cap,
		 "groups:\n"
		 "  - name: g0\n"
		 "    check-interval: 200\n"
		 "    servers: ['127.0.0.1:%d']\n"
		 "  - name: g1\n"
		 "    check-interval: 200\n"
		 "    servers: ['127.0.0.1:%d', '127.0.0.1:%d']\n"
		 "keyspace:\n"
		 "  schema: myring_test\n"
		 "  shards:\n"
		 "    - name: s0\n"
		 "      group: g0\n"
		 "    - g1\n"
		 "  tables:\n%s",
		 e->rs.port[0], e->rs.port[1], e->rs.port[2], tables);
}

/* SHOW SHARDS and stats.shards show each shard's part of the hash space
 * and its group's primary (g1 has only replicas); stats.shard_tables the
 * tables and their lookups; a reload may not change the map. */
Test(groups, show_shards_and_a_keyspace_that_needs_a_restart_to_change,
     .timeout = 90)
{
	static const char tables[] =
		"    - name: customers\n"
		"      key: id\n"
		"    - name: users\n"
		"      key: login\n"
		"      key-type: string\n"
		"      collation: utf8mb4_bin\n"
		"    - name: events\n"
		"      key: ts\n"
		"      function: range\n"
		"      bounds: [1000]\n"
		"      lookup:\n"
		"        - column: code\n"
		"          shard: g1\n"
		"    - name: countries\n"
		"      type: broadcast\n"
		"    - name: settings\n"
		"      type: unsharded\n"
		"      shard: g1\n";
	struct env e;
	char yaml[2048], want[512];
	char *got;
	MYSQL *a;

	rs_up(&e.rs);
	keyspace_yaml(&e, yaml, sizeof(yaml), tables);
	start(&e, yaml, NULL);
	all_online(&e);
	a = admin(&e);
	snprintf(want, sizeof(want),
		 "s0\tg0\t0x0000000000000000\t0x7fffffffffffffff\t1\t"
		 "127.0.0.1:%d\tonline\n"
		 "g1\tg1\t0x8000000000000000\t0xffffffffffffffff\t2\tNULL\t"
		 "no primary\n", e.rs.port[0]);
	got = all_rows(a, "SHOW SHARDS");
	cr_expect_str_eq(got, want);
	free(got);
	got = all_rows(a, "SELECT * FROM stats.shards ORDER BY hash_lo");
	cr_expect_str_eq(got, want);
	free(got);
	got = all_rows(a, "SELECT shard, servers FROM shards WHERE hash_lo > "
		       "'0x1'");
	cr_expect_str_eq(got, "g1\t2\n");
	free(got);
	got = all_rows(a, "SELECT * FROM stats.shard_tables");
	cr_expect_str_eq(got,
			 "customers\tsharded\tid\thash\tint\tNULL\tNULL\tNULL\t"
			 "19\tNULL\tNULL\tNULL\tNULL\n"
			 "users\tsharded\tlogin\thash\tstring\tutf8mb4_bin\tNULL\t"
			 "NULL\t21\tNULL\tNULL\tNULL\tNULL\n"
			 "events\tsharded\tts\trange\tint\tNULL\tNULL\t1000\t25\t"
			 "NULL\tNULL\tNULL\tcode myring.lookup_events_code@g1\n"
			 "countries\tbroadcast\tNULL\tNULL\tNULL\tNULL\tNULL\t"
			 "NULL\t32\tNULL\tNULL\tNULL\tNULL\n"
			 "settings\tunsharded\tNULL\tNULL\tNULL\tNULL\tg1\tNULL\t"
			 "34\tNULL\tNULL\tNULL\tNULL\n");
	free(got);

	/* The same map moved down a line by a comment: accepted. */
	{
		char moved[2100];

		snprintf(moved, sizeof(moved), "# a comment\n%s", yaml);
		write_config(&e, moved);
	}
	cr_expect_eq(mysql_query(a, "RELOAD CONFIG"), 0, "%s", mysql_error(a));
	/* Another function for a table: refused, the old map stays. */
	keyspace_yaml(&e, yaml, sizeof(yaml),
		      "    - name: customers\n      key: id\n"
		      "      key-type: string\n");
	write_config(&e, yaml);
	cr_expect_neq(mysql_query(a, "RELOAD CONFIG"), 0);
	cr_expect(strstr(mysql_error(a), "keyspace changes need a restart"),
		  "%s", mysql_error(a));
	got = all_rows(a, "SELECT key_type FROM shard_tables WHERE table_name "
		       "= 'customers'");
	cr_expect_str_eq(got, "int\n");
	free(got);
	mysql_close(a);
	stop(&e);
}
