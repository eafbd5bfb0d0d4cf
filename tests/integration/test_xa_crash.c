/*
 * Distributed transactions through crashes (docs/transactions.md, "Crash
 * points"), against the four shards of scripts/shards.sh: a shard or
 * myring SIGKILLed at each step of a commit (held there by the test hook
 * MYRING_XA_FAULT, docs/testing.md), restarted, and what recovery makes of
 * it; then the bank: concurrent transfers between accounts on different
 * shards while myring and a shard are killed and restarted, with one
 * myring and with two sharing the shards (one killed for good).
 *
 * Suite `shards`: runs in the `shards` step of scripts/test.sh, where
 * MYRING_SHARDS_DIR names the rig.  A test that kills a shard restarts it
 * (scripts/shards.sh restart) in its .fini too, so a failed test leaves
 * the rig whole.  Accounts are customers from 2000000 on, transfers are
 * logged as orders from 3000000 on (co-located with their account); each
 * test removes its own.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NSHARDS 4
#define ADMIN_PW "xa-admin-pw"
#define ACCOUNT0 2000000L
#define TRANSFER0 3000000L

/* ---- the rig --------------------------------------------------------- */

static const char *rig(void)
{
	const char *d = getenv("MYRING_SHARDS_DIR");

	if (!d || !*d)
		cr_skip_test("MYRING_SHARDS_DIR is not set (the `shards` step "
			     "of scripts/test.sh sets it)");
	return d;
}

static long rig_env(const char *key)
{
	char file[512];

	snprintf(file, sizeof(file), "%s/env", rig());
	return env_file_long(file, key);
}

static int shard_port(int i)
{
	char key[32];

	snprintf(key, sizeof(key), "SHARD%d_PORT", i);
	return (int)rig_env(key);
}

static MYSQL *open_timeout(int port, unsigned timeout_s)
{
	MYSQL *m = mysql_init(NULL);

	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
	mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout_s);
	if (!mysql_real_connect(m, "127.0.0.1", "myring", "myring-pw", "shop",
				(unsigned)port, NULL, 0)) {
		mysql_close(m);
		return NULL;
	}
	return m;
}

static MYSQL *on_shard(int i)
{
	MYSQL *m = open_timeout(shard_port(i), 10);

	cr_assert(m, "connect to shard %d", i);
	return m;
}

static long value(MYSQL *m, const char *sql)
{
	char *v = query_value(m, sql);
	long n;

	cr_assert(v, "%s: no value", sql);
	n = strtol(v, NULL, 10);
	free(v);
	return n;
}

static long on_shard_value(int i, const char *sql)
{
	MYSQL *m = on_shard(i);
	long v = value(m, sql);

	mysql_close(m);
	return v;
}

/* Prepared XA branches on shard i, -1 when it does not answer. */
static long prepared(int i)
{
	MYSQL *m = open_timeout(shard_port(i), 5);
	MYSQL_RES *r;
	long n = -1;

	if (!m)
		return -1;
	if (mysql_query(m, "XA RECOVER") == 0) {
		r = mysql_store_result(m);
		n = r ? (long)mysql_num_rows(r) : 0;
		mysql_free_result(r);
	}
	mysql_close(m);
	return n;
}

static long prepared_total(void)
{
	long n = 0;

	for (int i = 0; i < NSHARDS; i++)
		n += prepared(i) ? 1 : 0;
	return n;
}

/* Waits up to ms for no shard to hold a prepared branch. */
static bool settled(unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end) {
		if (prepared_total() == 0)
			return true;
		usleep(100000);
	}
	return prepared_total() == 0;
}

static bool alive(pid_t pid)
{
	char path[64], st[256];
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	p = fgets(st, sizeof(st), f);
	fclose(f);
	p = p ? strrchr(st, ')') : NULL;
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* SIGKILL to shard i's server (its pid from the rig's env file); returns
 * once it is gone. */
static void kill_shard(int i)
{
	char key[32];
	pid_t pid;

	snprintf(key, sizeof(key), "SHARD%d_PID", i);
	pid = (pid_t)rig_env(key);
	cr_assert_eq(kill(pid, SIGKILL), 0, "kill shard %d (pid %d): %s", i,
		     (int)pid, strerror(errno));
	for (int tries = 0; tries < 100 && alive(pid); tries++)
		usleep(50000);
	cr_assert(!alive(pid), "shard %d survived SIGKILL", i);
}

/* Every shard of the rig that does not run is started again on its port
 * (scripts/shards.sh restart); also the .fini of tests that kill one. */
static void restart_shards(void)
{
	char cmd[700];
	const char *d = getenv("MYRING_SHARDS_DIR");

	if (!d || !*d)
		return;
	snprintf(cmd, sizeof(cmd), "bash scripts/shards.sh restart '%s' "
		 "shard0 shard1 shard2 shard3", d);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

/* ---- myring ---------------------------------------------------------- */

struct ring {
	struct proxy_proc p;
	int admin_port;
	char config[160];
};

/*
 * myring over the rig's keyspace, recovering every recovery_ms with a
 * grace of grace_ms; fault: MYRING_XA_FAULT for this instance, or NULL.
 */
static void ring_start(struct ring *r, const char *fault, unsigned recovery_ms,
		       unsigned grace_ms)
{
	static int seq;
	char src[512], admin[64], num[2][32];
	FILE *in, *out;
	int ch;

	snprintf(src, sizeof(src), "%s/myring.yaml", rig());
	snprintf(r->config, sizeof(r->config), "/tmp/myring-itest-xa-%d-%d"
		 ".yaml", getpid(), ++seq);
	in = fopen(src, "r");
	out = fopen(r->config, "w");
	cr_assert(in && out, "%s -> %s", src, r->config);
	fprintf(out, "admin-user: admin\nadmin-password: %s\n", ADMIN_PW);
	while ((ch = fgetc(in)) != EOF)
		fputc(ch, out);
	fclose(in);
	fclose(out);
	r->admin_port = free_port();
	snprintf(admin, sizeof(admin), "127.0.0.1:%d", r->admin_port);
	snprintf(num[0], sizeof(num[0]), "%u", recovery_ms);
	snprintf(num[1], sizeof(num[1]), "%u", grace_ms);
	/* The instance inherits them at its fork. */
	setenv("MYRING_XA_RECOVERY_MS", num[0], 1);
	setenv("MYRING_XA_GRACE_MS", num[1], 1);
	if (fault)
		setenv("MYRING_XA_FAULT", fault, 1);
	const char *args[] = {"--config", r->config, "--log-level", "info",
			      "--admin", admin, NULL};
	proxy_start(&r->p, 0, args);
	unsetenv("MYRING_XA_FAULT");
	unsetenv("MYRING_XA_RECOVERY_MS");
	unsetenv("MYRING_XA_GRACE_MS");
}

static void ring_stop(struct ring *r)
{
	cr_expect_eq(proxy_stop(&r->p, 20000), 0, "myring's exit status\n%s",
		     proxy_log_tail(&r->p));
	unlink(r->config);
}

static void ring_kill(struct ring *r)
{
	int st;

	kill(r->p.pid, SIGKILL);
	waitpid(r->p.pid, &st, 0);
	unlink(r->config);
}

static MYSQL *ring_client(const struct ring *r)
{
	MYSQL *m = open_timeout(r->p.port, 30);

	cr_assert(m, "connect through myring\n%s", proxy_log_tail(&r->p));
	return m;
}

static long ring_counter(const struct ring *r, const char *name)
{
	char err[512], sql[128];
	MYSQL *a = connect_port(r->admin_port, "admin", ADMIN_PW, NULL, 0, err,
				sizeof(err));
	long v;

	cr_assert(a, "admin port: %s", err);
	snprintf(sql, sizeof(sql), "SELECT Value FROM stats.stats WHERE "
		 "Variable_name = '%s'", name);
	v = value(a, sql);
	mysql_close(a);
	return v;
}

/* ---- accounts -------------------------------------------------------- */

/* The shard (0..3) of customer id, from the keyspace's own answer. */
static int shard_of(MYSQL *c, long id)
{
	char q[160];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int at;

	snprintf(q, sizeof(q), "EXPLAIN SHARDS SELECT * FROM customers WHERE "
		 "id = %ld", id);
	cr_assert_eq(mysql_query(c, q), 0, "%s: %s", q, mysql_error(c));
	res = mysql_store_result(c);
	cr_assert(res);
	row = mysql_fetch_row(res);
	cr_assert(row && row[0] && row[0][0] == 'g');
	at = atoi(row[0] + 1);
	mysql_free_result(res);
	return at;
}

static void clear_accounts(void)
{
	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = on_shard(i);
		char q[160];
		snprintf(q, sizeof(q), "DELETE FROM customers WHERE id >= %ld "
			 "AND id < %ld", ACCOUNT0, ACCOUNT0 + 100000);
		query_ok(m, q);
		snprintf(q, sizeof(q), "DELETE FROM orders WHERE id >= %ld",
			 TRANSFER0);
		query_ok(m, q);
		mysql_close(m);
	}
}

static void open_account(MYSQL *c, long id, long balance)
{
	char q[200];

	snprintf(q, sizeof(q), "INSERT INTO customers (id, name, balance) "
		 "VALUES (%ld, 'account', %ld)", id, balance);
	query_ok(c, q);
}

/* The balance of account id, read on its shard directly. */
static long balance_on(int shard, long id)
{
	char q[160];

	snprintf(q, sizeof(q), "SELECT balance FROM customers WHERE id = %ld",
		 id);
	return on_shard_value(shard, q);
}

/* Waits up to ms for the fault's pause (a DO SLEEP of myring's) to run
 * on shard. */
static bool paused_on(int shard, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	MYSQL *m = on_shard(shard);
	bool seen = false;

	while (!seen && now_ms() < end) {
		seen = value(m, "SELECT COUNT(*) FROM information_schema."
			     "PROCESSLIST WHERE INFO LIKE 'DO SLEEP%'") > 0;
		if (!seen)
			usleep(20000);
	}
	mysql_close(m);
	return seen;
}

/* ---- a commit interrupted by a crash --------------------------------- */

enum victim { DECISION_SHARD, PARTICIPANT, MYRING };

/*
 * A transfer of 10 from an account on shard sa (the decision shard) to
 * one on sb, its COMMIT held at fault; victim is SIGKILLed there, then
 * restarted (a new myring for MYRING).  The client's answer must be
 * want_errno (0: OK), and once recovery is done the transfer must be
 * applied on both sides (committed) or on neither, no branch left
 * prepared anywhere, and recovery must have resolved at least `recovered`
 * branches (0: the coordinator finished it).
 */
static void crash_commit(const char *fault, enum victim victim,
			 unsigned want_errno, bool committed, long recovered)
{
	struct ring r, again;
	long a = ACCOUNT0 + 1, b;
	int sa, sb, got;
	char q[200];
	bool after_decision = strstr(fault, "after-decision") != NULL;

	/* The grace outlasts the pause: this instance's recovery must not
	 * take its own live transaction for an orphan. */
	ring_start(&r, fault, 200, 6000);
	clear_accounts();
	MYSQL *c = ring_client(&r);
	sa = shard_of(c, a);
	for (b = a + 1; (sb = shard_of(c, b)) == sa; b++)
		;
	open_account(c, a, 100);
	open_account(c, b, 100);
	query_ok(c, "BEGIN");
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance - 10 "
		 "WHERE id = %ld", a);
	query_ok(c, q);
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance + 10 "
		 "WHERE id = %ld", b);
	query_ok(c, q);
	cr_assert_eq(mysql_send_query(c, "COMMIT", 6), 0);
	/* At the fault: the participant's branch is prepared (and, after
	 * the decision, the decision shard's side committed); the pause
	 * runs on the connection of the next step. */
	cr_assert(paused_on(after_decision ? sb : sa, 5000), "no pause\n%s",
		  proxy_log_tail(&r.p));
	cr_assert_gt(prepared(sb), 0, "no branch prepared on shard %d", sb);
	if (after_decision)
		cr_assert_eq(balance_on(sa, a), 90);
	if (victim == MYRING)
		ring_kill(&r);
	else
		kill_shard(victim == DECISION_SHARD ? sa : sb);
	got = mysql_read_query_result(c) ? (int)mysql_errno(c) : 0;
	cr_expect_eq(got, (int)want_errno, "COMMIT answered %d (%s), want %u",
		     got, got ? mysql_error(c) : "OK", want_errno);
	mysql_close(c);
	if (victim == MYRING) {
		/* Another instance (a new instance id) finishes it. */
		ring_start(&again, NULL, 200, 1000);
	} else {
		restart_shards();
	}
	cr_assert(settled(20000), "branches still prepared\n%s",
		  proxy_log_tail(victim == MYRING ? &again.p : &r.p));
	cr_expect_eq(balance_on(sa, a), committed ? 90 : 100);
	cr_expect_eq(balance_on(sb, b), committed ? 110 : 100);
	cr_expect_geq(ring_counter(victim == MYRING ? &again : &r,
				   "xa_recovered"), recovered,
		      "recovery resolved the branch");
	clear_accounts();
	if (victim == MYRING)
		ring_stop(&again);
	else
		ring_stop(&r);
}

TestSuite(shards);

Test(shards, xa_participant_killed_after_prepare_commits_on_restart,
     .timeout = 120, .fini = restart_shards)
{
	/* The decision is taken without it; its prepared branch survives
	 * the crash and is committed once it is back. */
	crash_commit("after-prepare:pause=2000", PARTICIPANT, 0, true, 1);
}

Test(shards, xa_decision_shard_killed_before_the_record_rolls_back,
     .timeout = 120, .fini = restart_shards)
{
	crash_commit("after-prepare:pause=2000", DECISION_SHARD, 1402, false, 0);
}

Test(shards, xa_decision_shard_killed_at_its_commit_is_in_doubt_then_rolled_back,
     .timeout = 120, .fini = restart_shards)
{
	/* The record was never committed: recovery rolls back after the
	 * grace; the client was told the outcome is not known. */
	crash_commit("after-record:pause=2000", DECISION_SHARD, 1927, false, 1);
}

Test(shards, xa_participant_killed_after_the_decision_commits_on_restart,
     .timeout = 120, .fini = restart_shards)
{
	crash_commit("after-decision:pause=2000", PARTICIPANT, 0, true, 1);
}

Test(shards, xa_myring_killed_before_the_decision_is_rolled_back,
     .timeout = 120)
{
	crash_commit("after-prepare:pause=2000", MYRING, 2013, false, 1);
}

Test(shards, xa_myring_killed_after_the_decision_is_committed,
     .timeout = 120)
{
	crash_commit("after-decision:pause=2000", MYRING, 2013, true, 1);
}
