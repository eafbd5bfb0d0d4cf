/*
 * Distributed transactions (docs/transactions.md) against the four shards
 * of scripts/shards.sh: statements over several shards inside them and
 * outside of them (atomic too); then crashes (docs/transactions.md,
 * "Crash points"): a shard or
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
	MYSQL *m = open_timeout(shard_rig_port(i), 10);

	cr_assert(m, "connect to shard %d", i);
	return m;
}

static long on_shard_value(int i, const char *sql)
{
	MYSQL *m = on_shard(i);
	long v = query_long(m, sql);

	mysql_close(m);
	return v;
}

/* Prepared XA branches on shard i, -1 when it does not answer. */
static long prepared(int i)
{
	MYSQL *m = open_timeout(shard_rig_port(i), 5);
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
	pid = (pid_t)shard_rig_env(key);
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
 * myring over the rig's keyspace (the rig's own config), with an admin
 * port, recovering every recovery_ms with a grace of grace_ms.  fault:
 * its MYRING_XA_FAULT, or NULL (then the environment is not touched: the
 * bank's tellers run meanwhile, and setenv is not safe beside threads).
 */
static void ring_start_with(struct ring *r, const char *fault,
			    unsigned recovery_ms, unsigned grace_ms,
			    const char *more_config);

static void ring_start(struct ring *r, const char *fault, unsigned recovery_ms,
		       unsigned grace_ms)
{
	ring_start_with(r, fault, recovery_ms, grace_ms, "");
}

/* The same, with more_config (YAML lines) in its config. */
static void ring_start_with(struct ring *r, const char *fault,
			    unsigned recovery_ms, unsigned grace_ms,
			    const char *more_config)
{
	static int seq;
	char src[512], admin[64];
	FILE *in, *out;
	int ch;

	snprintf(src, sizeof(src), "%s/myring.yaml", shard_rig_dir());
	snprintf(r->config, sizeof(r->config), "/tmp/myring-itest-xa-%d-%d"
		 ".yaml", getpid(), ++seq);
	in = fopen(src, "r");
	out = fopen(r->config, "w");
	cr_assert(in && out, "%s -> %s", src, r->config);
	fprintf(out, "admin-user: admin\nadmin-password: %s\n"
		"xa-recovery-interval-ms: %u\nxa-grace-ms: %u\n%s", ADMIN_PW,
		recovery_ms, grace_ms, more_config);
	while ((ch = fgetc(in)) != EOF)
		fputc(ch, out);
	fclose(in);
	fclose(out);
	r->admin_port = free_port();
	snprintf(admin, sizeof(admin), "127.0.0.1:%d", r->admin_port);
	const char *args[] = {"--config", r->config, "--log-level", "info",
			      "--admin", admin, NULL};
	if (fault)
		setenv("MYRING_XA_FAULT", fault, 1);
	proxy_start(&r->p, 0, args);
	if (fault)
		unsetenv("MYRING_XA_FAULT");
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

/* A number the admin port answers sql with. */
static long admin_value(const struct ring *r, const char *sql)
{
	char err[512];
	MYSQL *a = connect_port(r->admin_port, "admin", ADMIN_PW, NULL, 0, err,
				sizeof(err));
	long v;

	cr_assert(a, "admin port: %s", err);
	v = query_long(a, sql);
	mysql_close(a);
	return v;
}

static long ring_counter(const struct ring *r, const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT Value FROM stats.stats WHERE "
		 "Variable_name = '%s'", name);
	return admin_value(r, sql);
}

/* Transactions stats.transactions shows in state. */
static long shown(const struct ring *r, const char *state)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM stats.transactions "
		 "WHERE state = '%s'", state);
	return admin_value(r, sql);
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
		seen = query_long(m, "SELECT COUNT(*) FROM information_schema."
			     "PROCESSLIST WHERE INFO LIKE 'DO SLEEP%'") > 0;
		if (!seen)
			usleep(20000);
	}
	mysql_close(m);
	return seen;
}

/* ---- a commit interrupted by a crash --------------------------------- */

/* A transfer of 10 from account a (on sa, the decision shard) to b (on
 * sb), both opened with 100, its COMMIT sent and not yet answered. */
struct transfer {
	MYSQL *c;
	long a, b;
	int sa, sb;
};

static void transfer_begin(const struct ring *r, struct transfer *x)
{
	char q[200];

	clear_accounts();
	x->c = ring_client(r);
	x->a = ACCOUNT0 + 1;
	x->sa = shard_of(x->c, x->a);
	for (x->b = x->a + 1; (x->sb = shard_of(x->c, x->b)) == x->sa; x->b++)
		;
	open_account(x->c, x->a, 100);
	open_account(x->c, x->b, 100);
	query_ok(x->c, "BEGIN");
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance - 10 "
		 "WHERE id = %ld", x->a);
	query_ok(x->c, q);
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance + 10 "
		 "WHERE id = %ld", x->b);
	query_ok(x->c, q);
	cr_assert_eq(mysql_send_query(x->c, "COMMIT", 6), 0);
}

/* The COMMIT's answer must be want_errno (0: OK). */
static void transfer_answer(struct transfer *x, unsigned want_errno)
{
	int got = mysql_read_query_result(x->c) ? (int)mysql_errno(x->c) : 0;

	cr_expect_eq(got, (int)want_errno, "COMMIT answered %d (%s), want %u",
		     got, got ? mysql_error(x->c) : "OK", want_errno);
	mysql_close(x->c);
	x->c = NULL;
}

/* Once recovery is done (within 20 s): applied on both sides or neither,
 * nothing prepared anywhere. */
static void transfer_settled(const struct transfer *x, const struct ring *r,
			     bool committed)
{
	cr_assert(settled(20000), "branches still prepared\n%s",
		  proxy_log_tail(&r->p));
	cr_expect_eq(balance_on(x->sa, x->a), committed ? 90 : 100);
	cr_expect_eq(balance_on(x->sb, x->b), committed ? 110 : 100);
	clear_accounts();
}

enum victim { DECISION_SHARD, PARTICIPANT, MYRING };

/*
 * A transfer whose COMMIT is held at fault; victim is SIGKILLed there,
 * then restarted (a new myring for MYRING).  The client's answer must be
 * want_errno, the transfer applied (committed) or not once recovery is
 * done, and recovery must have resolved at least `recovered` branches
 * (0: the coordinator finished it).
 */
static void crash_commit(const char *fault, enum victim victim,
			 unsigned want_errno, bool committed, long recovered)
{
	struct ring r, again, *survivor = &r;
	struct transfer x;
	bool after_decision = strstr(fault, "after-decision") != NULL;

	/* The grace outlasts the pause: this instance's recovery must not
	 * take its own live transaction for an orphan. */
	ring_start(&r, fault, 200, 6000);
	transfer_begin(&r, &x);
	/* At the fault: the participant's branch is prepared (and, after
	 * the decision, the decision shard's side committed); the pause
	 * runs on the connection of the next step. */
	cr_assert(paused_on(after_decision ? x.sb : x.sa, 5000), "no pause\n%s",
		  proxy_log_tail(&r.p));
	/* The record's INSERT runs beside the prepares: they end while it
	 * is held. */
	for (int tries = 0; tries < 100 && prepared(x.sb) <= 0; tries++)
		usleep(20000);
	cr_assert_gt(prepared(x.sb), 0, "no branch prepared on shard %d", x.sb);
	if (after_decision)
		cr_assert_eq(balance_on(x.sa, x.a), 90);
	if (victim == MYRING)
		ring_kill(&r);
	else
		kill_shard(victim == DECISION_SHARD ? x.sa : x.sb);
	transfer_answer(&x, want_errno);
	if (victim == MYRING) {
		/* Another instance (a new instance id) finishes it. */
		ring_start(&again, NULL, 200, 1000);
		survivor = &again;
	} else {
		restart_shards();
	}
	transfer_settled(&x, survivor, committed);
	cr_expect_geq(ring_counter(survivor, "xa_recovered"), recovered,
		      "recovery resolved the branch");
	ring_stop(survivor);
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

/* ---- two instances sharing the shards -------------------------------- */

Test(shards, xa_a_survivor_commits_what_a_dead_instance_decided,
     .timeout = 120)
{
	struct ring dead, survivor;
	struct transfer x;

	ring_start(&dead, "after-decision:pause=3000", 200, 6000);
	ring_start(&survivor, NULL, 200, 1000);
	transfer_begin(&dead, &x);
	cr_assert(paused_on(x.sb, 5000), "no pause\n%s",
		  proxy_log_tail(&dead.p));
	ring_kill(&dead);
	transfer_answer(&x, 2013);
	/* The record says commit: the survivor commits the other
	 * instance's branch. */
	transfer_settled(&x, &survivor, true);
	cr_expect_geq(ring_counter(&survivor, "xa_recovered"), 1);
	ring_stop(&survivor);
}

Test(shards, xa_a_survivor_rolls_back_an_undecided_one_after_the_grace,
     .timeout = 120)
{
	struct ring dead, survivor;
	struct transfer x;

	ring_start(&dead, "after-prepare:pause=3000", 200, 6000);
	ring_start(&survivor, NULL, 200, 3000);
	transfer_begin(&dead, &x);
	cr_assert(paused_on(x.sa, 5000), "no pause\n%s",
		  proxy_log_tail(&dead.p));
	ring_kill(&dead);
	transfer_answer(&x, 2013);
	/* Within its grace (3 s) the survivor only shows it in doubt. */
	uint64_t killed = now_ms();
	bool in_doubt = false;
	while (!in_doubt && now_ms() < killed + 1500) {
		in_doubt = shown(&survivor, "in doubt") > 0;
		usleep(100000);
	}
	cr_expect(in_doubt, "not shown in doubt within 1.5 s");
	cr_expect_gt(prepared(x.sb), 0, "resolved within the grace");
	cr_expect_eq(ring_counter(&survivor, "xa_recovered"), 0);
	/* Then: a tombstone, the branch rolled back. */
	transfer_settled(&x, &survivor, false);
	cr_expect_geq(ring_counter(&survivor, "xa_recovered"), 1);
	ring_stop(&survivor);
}

Test(shards, xa_recovery_and_a_live_coordinator_agree_through_the_record,
     .timeout = 120)
{
	struct ring slow, other;
	struct transfer x;

	/* The coordinator stays 3 s between its prepare and its record;
	 * the other instance's grace (1 s) runs out before: its tombstone
	 * takes the key first, and the coordinator, finding it, rolls
	 * everything back. */
	ring_start(&slow, "after-prepare:pause=3000", 200, 60000);
	ring_start(&other, NULL, 200, 1000);
	transfer_begin(&slow, &x);
	transfer_answer(&x, 1402);
	transfer_settled(&x, &other, false);
	ring_stop(&slow);
	ring_stop(&other);
}

/* ---- the bank -------------------------------------------------------- */

#define ACCOUNTS 24
#define CLIENTS 4
#define START_BALANCE 1000
#define TRANSFERS_MAX 100000

enum fate {
	F_NONE,        /* never tried */
	F_ABORTED,     /* failed before its COMMIT, or COMMIT said 1402 */
	F_ACKED,       /* COMMIT answered OK */
	F_UNKNOWN,     /* COMMIT's answer lost (or 1927): either way */
};

struct bank {
	/* The port each client uses (client i: instance i % ninst). */
	_Atomic int port[2];
	unsigned ninst;
	atomic_bool stop;
	atomic_long next;
	long id[ACCOUNTS];
	int shard[ACCOUNTS];
	uint8_t fate[TRANSFERS_MAX];
	atomic_long acked, aborted, unknown;
	/* A COMMIT's error that docs/transactions.md does not name. */
	atomic_uint odd_errno;
};

struct teller {
	struct bank *bk;
	unsigned idx;
	unsigned seed;
};

static bool run(MYSQL *c, const char *sql)
{
	if (mysql_query(c, sql))
		return false;
	mysql_free_result(mysql_store_result(c));
	return true;
}

/* One transfer over c: the lower account id first on both sides, so
 * transfers never wait for each other in a cycle (no deadlock that no
 * single server can see).  Each side logs its half as an order.
 * Returns false when the connection is no good any more. */
static bool one_transfer(struct bank *bk, MYSQL *c, unsigned *seed)
{
	unsigned i = (unsigned)rand_r(seed) % ACCOUNTS, j;
	long t = atomic_fetch_add(&bk->next, 1), x = 1 + rand_r(seed) % 20;
	long lo, hi, dlo, dhi;
	char q[4][200];
	unsigned e;

	if (t >= TRANSFERS_MAX)
		return false;
	do
		j = (unsigned)rand_r(seed) % ACCOUNTS;
	while (bk->shard[j] == bk->shard[i]);
	lo = bk->id[i] < bk->id[j] ? bk->id[i] : bk->id[j];
	hi = lo == bk->id[i] ? bk->id[j] : bk->id[i];
	dlo = lo == bk->id[i] ? -x : x;   /* from i to j */
	dhi = -dlo;
	snprintf(q[0], sizeof(q[0]), "UPDATE customers SET balance = balance "
		 "+ %ld WHERE id = %ld", dlo, lo);
	snprintf(q[1], sizeof(q[1]), "INSERT INTO orders (id, customer_id, "
		 "amount, status) VALUES (%ld, %ld, %ld, 'transfer')",
		 TRANSFER0 + 2 * t, lo, dlo);
	snprintf(q[2], sizeof(q[2]), "UPDATE customers SET balance = balance "
		 "+ %ld WHERE id = %ld", dhi, hi);
	snprintf(q[3], sizeof(q[3]), "INSERT INTO orders (id, customer_id, "
		 "amount, status) VALUES (%ld, %ld, %ld, 'transfer')",
		 TRANSFER0 + 2 * t + 1, hi, dhi);
	bk->fate[t] = F_ABORTED;
	if (!run(c, "BEGIN"))
		goto aborted;
	for (unsigned k = 0; k < 4; k++)
		if (!run(c, q[k]))
			goto aborted;
	if (run(c, "COMMIT")) {
		bk->fate[t] = F_ACKED;
		atomic_fetch_add(&bk->acked, 1);
		return true;
	}
	e = mysql_errno(c);
	if (e == 1402) {
		atomic_fetch_add(&bk->aborted, 1);
		return true;
	}
	bk->fate[t] = F_UNKNOWN;
	atomic_fetch_add(&bk->unknown, 1);
	if (e != 1927 && e != 2013 && e != 2006)
		atomic_store(&bk->odd_errno, e);
	return false;
aborted:
	atomic_fetch_add(&bk->aborted, 1);
	e = mysql_errno(c);
	/* Whatever the failure, nothing of it may stay. */
	return e < 2000 && run(c, "ROLLBACK");
}

static void *teller(void *arg)
{
	struct teller *tl = arg;
	struct bank *bk = tl->bk;

	while (!atomic_load(&bk->stop)) {
		int port = atomic_load(&bk->port[tl->idx % bk->ninst]);
		MYSQL *c = open_timeout(port, 20);

		if (!c) {
			usleep(50000);
			continue;
		}
		/* A branch left prepared by a killed myring holds its rows
		 * until recovery: wait for it, a little. */
		run(c, "SET SESSION innodb_lock_wait_timeout = 10");
		while (!atomic_load(&bk->stop) && one_transfer(bk, c, &tl->seed))
			;
		mysql_close(c);
	}
	return NULL;
}

/* Sleeps ms, the tellers working. */
static void pause_ms(unsigned ms)
{
	usleep(ms * 1000u);
}

/*
 * The bank: ACCOUNTS accounts over the four shards, CLIENTS tellers
 * moving money between accounts on different shards through ninst
 * instances of myring.  One instance: it is SIGKILLed and restarted three
 * times.  Two: the first is SIGKILLed for good (its tellers go to the
 * other).  Either way a shard is SIGKILLed and restarted once.  Then:
 * the sum over all shards is what it was; each account's balance is its
 * start plus its logged halves; every transfer is logged on both sides
 * or on neither, on both when its COMMIT was acknowledged, on neither
 * when it failed before; nothing is left prepared.
 */
static void bank(unsigned ninst)
{
	static struct bank bk;
	struct ring r[2];
	struct teller tl[CLIENTS];
	pthread_t th[CLIENTS];
	char q[200];
	long total = 0, logged;
	unsigned kills = 0;

	memset(&bk, 0, sizeof(bk));
	bk.ninst = ninst;
	for (unsigned k = 0; k < ninst; k++) {
		/* The one killed for good is slow to commit after its
		 * decisions: its tellers are most likely there when it dies,
		 * and the survivor must commit what it decided. */
		ring_start(&r[k], ninst > 1 && k == 0 ?
			   "after-decision:pause=300" : NULL, 300, 1000);
		atomic_store(&bk.port[k], r[k].p.port);
	}
	clear_accounts();
	MYSQL *c = ring_client(&r[0]);
	for (unsigned i = 0; i < ACCOUNTS; i++) {
		bk.id[i] = ACCOUNT0 + 100 + i;
		bk.shard[i] = shard_of(c, bk.id[i]);
		open_account(c, bk.id[i], START_BALANCE);
	}
	mysql_close(c);
	for (unsigned i = 0; i < CLIENTS; i++) {
		tl[i] = (struct teller){&bk, i, 7919u * (i + 1)};
		cr_assert_eq(pthread_create(&th[i], NULL, teller, &tl[i]), 0);
	}
	srand((unsigned)getpid());
	for (unsigned round = 0; round < 4; round++) {
		pause_ms(2000 + (unsigned)(rand() % 1500));
		if (round == 1) {
			int victim = rand() % NSHARDS;
			kill_shard(victim);
			pause_ms(1000);
			restart_shards();
		} else if (ninst == 1) {
			ring_kill(&r[0]);
			ring_start(&r[0], NULL, 300, 1000);
			atomic_store(&bk.port[0], r[0].p.port);
			kills++;
		} else if (round == 0) {
			/* For good: its tellers go to the survivor. */
			ring_kill(&r[0]);
			r[0] = r[1];
			atomic_store(&bk.port[0], r[1].p.port);
			kills++;
		}
	}
	pause_ms(1500);
	atomic_store(&bk.stop, true);
	for (unsigned i = 0; i < CLIENTS; i++)
		pthread_join(th[i], NULL);
	cr_log_info("bank (%u instance%s, %u myring kills): %ld transfers, "
		    "%ld acknowledged, %ld aborted, %ld in doubt", ninst,
		    ninst > 1 ? "s" : "", kills, atomic_load(&bk.next),
		    atomic_load(&bk.acked), atomic_load(&bk.aborted),
		    atomic_load(&bk.unknown));
	cr_assert(settled(30000), "branches still prepared\n%s",
		  proxy_log_tail(&r[0].p));
	cr_expect_eq(atomic_load(&bk.odd_errno), 0, "a COMMIT failed with "
		     "error %u", atomic_load(&bk.odd_errno));
	if (ninst > 1)
		cr_expect_geq(atomic_load(&bk.unknown), 1, "the instance "
			      "killed for good had no commit under way");
	cr_assert_geq(atomic_load(&bk.acked), 20, "too few transfers went "
		      "through to test anything\n%s", proxy_log_tail(&r[0].p));
	/* Per account: its balance is its start plus its logged halves. */
	for (unsigned i = 0; i < ACCOUNTS; i++) {
		long bal = balance_on(bk.shard[i], bk.id[i]);
		snprintf(q, sizeof(q), "SELECT COALESCE(SUM(amount), 0) FROM "
			 "orders WHERE customer_id = %ld AND id >= %ld",
			 bk.id[i], TRANSFER0);
		logged = on_shard_value(bk.shard[i], q);
		cr_expect_eq(bal, START_BALANCE + logged, "account %ld: %ld, "
			     "logged %+ld", bk.id[i], bal, logged);
		total += bal;
	}
	cr_expect_eq(total, (long)ACCOUNTS * START_BALANCE, "money was made "
		     "or lost: %ld", total);
	/* Per transfer: both halves or neither, as its fate says. */
	static uint8_t halves[TRANSFERS_MAX];
	memset(halves, 0, sizeof(halves));
	for (int s = 0; s < NSHARDS; s++) {
		MYSQL *m = on_shard(s);
		MYSQL_RES *res;
		MYSQL_ROW row;
		snprintf(q, sizeof(q), "SELECT id FROM orders WHERE id >= %ld",
			 TRANSFER0);
		cr_assert_eq(mysql_query(m, q), 0, "%s", mysql_error(m));
		res = mysql_store_result(m);
		while ((row = mysql_fetch_row(res)))
			halves[(strtol(row[0], NULL, 10) - TRANSFER0) / 2]++;
		mysql_free_result(res);
		mysql_close(m);
	}
	long n = atomic_load(&bk.next);
	for (long t = 0; t < n && t < TRANSFERS_MAX; t++) {
		cr_expect(halves[t] == 0 || halves[t] == 2, "transfer %ld: %u "
			  "half logged", t, halves[t]);
		if (bk.fate[t] == F_ACKED)
			cr_expect_eq(halves[t], 2, "transfer %ld acknowledged, "
				     "not applied", t);
		if (bk.fate[t] == F_ABORTED)
			cr_expect_eq(halves[t], 0, "transfer %ld failed, "
				     "applied", t);
	}
	clear_accounts();
	ring_stop(&r[0]);
}

Test(shards, xa_bank_survives_myring_and_shard_kills, .timeout = 180,
     .fini = restart_shards)
{
	bank(1);
}

Test(shards, xa_bank_two_instances_one_killed_for_good, .timeout = 180,
     .fini = restart_shards)
{
	bank(2);
}

/* ---- statements over several shards ---------------------------------- */

#define SPREAD 8

/* The sum of the balances of accounts from..from+n-1, on the shards
 * themselves (what is committed). */
static long committed_sum(long from, unsigned n)
{
	char q[200];
	long sum = 0;

	snprintf(q, sizeof(q), "SELECT COALESCE(SUM(balance), 0) FROM customers "
		 "WHERE id >= %ld AND id < %ld", from, from + (long)n);
	for (int i = 0; i < NSHARDS; i++)
		sum += on_shard_value(i, q);
	return sum;
}

/* SPREAD accounts with 100 each, on every shard. */
static void spread_accounts(MYSQL *c, long from)
{
	bool on[NSHARDS] = {false};

	for (unsigned i = 0; i < SPREAD; i++) {
		on[shard_of(c, from + i)] = true;
		open_account(c, from + i, 100);
	}
	for (int i = 0; i < NSHARDS; i++)
		cr_assert(on[i], "no account on shard %d: pick others", i);
}

static void query_affects(MYSQL *c, const char *sql, unsigned long long n)
{
	query_ok(c, sql);
	cr_assert_eq(mysql_affected_rows(c), n, "%s: %llu rows", sql,
		     (unsigned long long)mysql_affected_rows(c));
}

/* myring (recovery every 200 ms, a grace of 6 s, more_config in its
 * config) and a client of it, with SPREAD accounts of 100 from a0 on
 * every shard; sum_sql (len): the query of their sum. */
static MYSQL *spread_ring(struct ring *r, const char *more_config, long a0,
			  char *sum_sql, size_t len)
{
	MYSQL *c;

	ring_start_with(r, NULL, 200, 6000, more_config);
	clear_accounts();
	c = ring_client(r);
	spread_accounts(c, a0);
	snprintf(sum_sql, len, "SELECT SUM(balance) FROM customers WHERE id "
		 ">= %ld AND id < %ld", a0, a0 + SPREAD);
	return c;
}

Test(shards, xa_statements_over_every_shard_run_inside_the_transaction,
     .timeout = 120)
{
	struct ring r;
	long a0 = ACCOUNT0 + 200;
	char q[400], sum_sql[200];
	MYSQL *c = spread_ring(&r, "", a0, sum_sql, sizeof(sum_sql));

	/* A scatter UPDATE and a scatter SELECT that reads its writes,
	 * committed. */
	query_ok(c, "BEGIN");
	snprintf(q, sizeof(q), "SELECT balance FROM customers WHERE id = %ld",
		 a0);
	cr_assert_eq(query_long(c, q), 100);
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance + 5 "
		 "WHERE id >= %ld AND id < %ld", a0, a0 + SPREAD);
	query_affects(c, q, SPREAD);
	cr_assert_eq(query_long(c, sum_sql), 100 * SPREAD + 5 * SPREAD,
		     "the scatter read sees the transaction's writes");
	cr_assert_eq(committed_sum(a0, SPREAD), 100 * SPREAD);
	query_ok(c, "COMMIT");
	cr_assert_eq(committed_sum(a0, SPREAD), 105 * SPREAD);
	cr_assert_eq(prepared_total(), 0);
	/* A single-shard write, a multi-row INSERT split over the shards,
	 * a scatter DELETE, a scatter read: rolled back, nothing stays. */
	query_ok(c, "START TRANSACTION");
	snprintf(q, sizeof(q), "UPDATE customers SET balance = 0 WHERE id = "
		 "%ld", a0 + 1);
	query_affects(c, q, 1);
	snprintf(q, sizeof(q), "INSERT INTO customers (id, name, balance) "
		 "VALUES (%ld, 'n', 1), (%ld, 'n', 1), (%ld, 'n', 1), "
		 "(%ld, 'n', 1)", a0 + 1000, a0 + 1001, a0 + 1002, a0 + 1003);
	query_affects(c, q, 4);
	snprintf(q, sizeof(q), "DELETE FROM customers WHERE id >= %ld AND "
		 "id < %ld AND balance > 100", a0, a0 + SPREAD);
	query_affects(c, q, SPREAD - 1);
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM customers WHERE id >= "
		 "%ld AND id < %ld", a0, a0 + 2000);
	cr_assert_eq(query_long(c, q), 1 + 4);
	/* Still refused inside it: schema changes. */
	cr_assert_neq(mysql_query(c, "CREATE TABLE xa_ddl_probe (i INT)"), 0);
	cr_assert_eq(mysql_errno(c), 1235, "%s", mysql_error(c));
	query_ok(c, "ROLLBACK");
	cr_assert_eq(committed_sum(a0, SPREAD), 105 * SPREAD);
	cr_assert_eq(committed_sum(a0 + 1000, 4), 0);
	cr_assert_eq(prepared_total(), 0);
	/* The same, committed: every shard has its part. */
	query_ok(c, "BEGIN");
	snprintf(q, sizeof(q), "SELECT balance FROM customers WHERE id = %ld",
		 a0 + 2);
	cr_assert_eq(query_long(c, q), 105);
	snprintf(q, sizeof(q), "INSERT INTO customers (id, name, balance) "
		 "VALUES (%ld, 'n', 1), (%ld, 'n', 1), (%ld, 'n', 1), "
		 "(%ld, 'n', 1)", a0 + 1000, a0 + 1001, a0 + 1002, a0 + 1003);
	query_affects(c, q, 4);
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance - 5 "
		 "WHERE id >= %ld AND id < %ld", a0, a0 + SPREAD);
	query_affects(c, q, SPREAD);
	query_ok(c, "COMMIT");
	cr_assert_eq(committed_sum(a0, SPREAD), 100 * SPREAD);
	cr_assert_eq(committed_sum(a0 + 1000, 4), 4);
	cr_assert_eq(prepared_total(), 0);
	cr_assert_geq(ring_counter(&r, "xa_committed"), 2);
	mysql_close(c);
	clear_accounts();
	ring_stop(&r);
}

Test(shards, xa_a_shard_lost_under_a_statement_over_shards_rolls_back_all,
     .timeout = 120, .fini = restart_shards)
{
	struct ring r;
	long a0 = ACCOUNT0 + 200;
	int sa, victim;
	char q[400];

	ring_start(&r, NULL, 200, 1000);
	clear_accounts();
	MYSQL *c = ring_client(&r);
	spread_accounts(c, a0);
	sa = shard_of(c, a0);
	victim = (sa + 1) % NSHARDS;
	query_ok(c, "BEGIN");
	snprintf(q, sizeof(q), "UPDATE customers SET balance = 0 WHERE id = "
		 "%ld", a0);
	query_affects(c, q, 1);
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance + 5 "
		 "WHERE id >= %ld AND id < %ld", a0, a0 + SPREAD);
	query_affects(c, q, SPREAD);
	kill_shard(victim);
	snprintf(q, sizeof(q), "SELECT SUM(balance) FROM customers WHERE id "
		 ">= %ld AND id < %ld", a0, a0 + SPREAD);
	/* The error comes in place of the result, or of a row once another
	 * shard's header went out. */
	MYSQL_RES *res = mysql_query(c, q) ? NULL : mysql_store_result(c);
	cr_assert(!res, "a read over a lost branch (shard %d; the decision "
		  "shard is %d)", victim, sa);
	cr_expect_eq(mysql_errno(c), 1927, "%u %s", mysql_errno(c),
		     mysql_error(c));
	restart_shards();
	/* The transaction is over: nothing of it anywhere, the session
	 * goes on outside of it. */
	cr_assert(settled(10000));
	cr_assert_eq(committed_sum(a0, SPREAD), 100 * SPREAD);
	cr_assert_eq(query_long(c, q), 100 * SPREAD);
	cr_expect_geq(ring_counter(&r, "xa_doomed"), 1);
	mysql_close(c);
	clear_accounts();
	ring_stop(&r);
}

/* Shard i refuses any row renamed 'xa-refuse' (a trigger there only),
 * or no longer (on false). */
static void refusing(int i, bool on)
{
	MYSQL *m = on_shard(i);

	query_ok(m, "DROP TRIGGER IF EXISTS xa_refuse");
	if (on)
		query_ok(m, "CREATE TRIGGER xa_refuse BEFORE UPDATE ON "
			 "customers FOR EACH ROW IF NEW.name = 'xa-refuse' "
			 "THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = "
			 "'refused by the test'; END IF");
	mysql_close(m);
}

static void no_refusals(void)
{
	if (!getenv("MYRING_SHARDS_DIR"))
		return;
	for (int i = 0; i < NSHARDS; i++)
		refusing(i, false);
}

Test(shards, xa_autocommit_writes_over_shards_are_atomic, .timeout = 120,
     .fini = no_refusals)
{
	struct ring r;
	long a0 = ACCOUNT0 + 300;
	char q[400];
	char sum_sql[200];
	MYSQL *c = spread_ring(&r, "", a0, sum_sql, sizeof(sum_sql));

	long committed = ring_counter(&r, "xa_committed");
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance + 1 "
		 "WHERE id >= %ld AND id < %ld", a0, a0 + SPREAD);
	query_affects(c, q, SPREAD);
	cr_assert_eq(committed_sum(a0, SPREAD), 101 * SPREAD);
	cr_assert_eq(ring_counter(&r, "xa_committed"), committed + 1,
		     "committed as a distributed transaction");
	/* One shard refuses its part (the first, the decision shard, and
	 * then the last): no shard keeps its part. */
	for (int k = 0; k < NSHARDS; k += NSHARDS - 1) {
		refusing(k, true);
		snprintf(q, sizeof(q), "UPDATE customers SET name = 'xa-refuse'"
			 ", balance = balance + 1000 WHERE id >= %ld AND id < "
			 "%ld", a0, a0 + SPREAD);
		cr_assert_neq(mysql_query(c, q), 0, "shard %d refused", k);
		cr_assert_eq(mysql_errno(c), 1644, "%u %s", mysql_errno(c),
			     mysql_error(c));
		cr_assert_eq(committed_sum(a0, SPREAD), 101 * SPREAD,
			     "shard %d refused, the others kept theirs", k);
		refusing(k, false);
	}
	/* A multi-row INSERT split over the shards with a duplicate on one:
	 * no row lands anywhere. */
	snprintf(q, sizeof(q), "INSERT INTO customers (id, name, balance) "
		 "VALUES (%ld, 'n', 1), (%ld, 'n', 1), (%ld, 'n', 1), "
		 "(%ld, 'n', 1), (%ld, 'dup', 1)", a0 + 1000, a0 + 1001,
		 a0 + 1002, a0 + 1003, a0 + 5);
	cr_assert_neq(mysql_query(c, q), 0);
	cr_assert_eq(mysql_errno(c), 1062, "%u %s", mysql_errno(c),
		     mysql_error(c));
	cr_assert_eq(committed_sum(a0 + 1000, 4), 0, "rows of the failed "
		     "INSERT stayed");
	/* The same without the duplicate, and a scatter DELETE. */
	snprintf(q, sizeof(q), "INSERT INTO customers (id, name, balance) "
		 "VALUES (%ld, 'n', 1), (%ld, 'n', 1), (%ld, 'n', 1), "
		 "(%ld, 'n', 1)", a0 + 1000, a0 + 1001, a0 + 1002, a0 + 1003);
	query_affects(c, q, 4);
	cr_assert_eq(committed_sum(a0 + 1000, 4), 4);
	snprintf(q, sizeof(q), "DELETE FROM customers WHERE id >= %ld AND "
		 "id < %ld", a0 + 1000, a0 + 1004);
	query_affects(c, q, 4);
	cr_assert_eq(committed_sum(a0 + 1000, 4), 0);
	/* With autocommit off it begins a transaction that stays open
	 * (xa_a_transaction_begins_with_a_statement_over_shards). */
	query_ok(c, "SET autocommit = 0");
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance + 1 "
		 "WHERE id >= %ld AND id < %ld", a0, a0 + SPREAD);
	query_affects(c, q, SPREAD);
	cr_assert_eq(committed_sum(a0, SPREAD), 101 * SPREAD);
	query_ok(c, "ROLLBACK");
	query_ok(c, "SET autocommit = 1");
	cr_assert_eq(committed_sum(a0, SPREAD), 101 * SPREAD);
	cr_assert_eq(prepared_total(), 0);
	mysql_close(c);
	clear_accounts();
	ring_stop(&r);
}

/* Copies of broadcast row code on the shards whose name is name. */
static long copies(const char *code, const char *name)
{
	char q[200];
	long n = 0;

	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM countries WHERE code = "
		 "'%s' AND name = '%s'", code, name);
	for (int i = 0; i < NSHARDS; i++)
		n += on_shard_value(i, q);
	return n;
}

static void drop_test_countries(void)
{
	if (!getenv("MYRING_SHARDS_DIR"))
		return;
	for (int i = 0; i < NSHARDS; i++) {
		MYSQL *m = on_shard(i);
		query_ok(m, "DROP TRIGGER IF EXISTS xa_refuse_country");
		query_ok(m, "DELETE FROM countries WHERE code = 'zz'");
		mysql_close(m);
	}
}

Test(shards, xa_writes_to_a_broadcast_table_reach_every_copy_or_none,
     .timeout = 120, .fini = drop_test_countries)
{
	struct ring r;
	char q[300];

	drop_test_countries();
	ring_start(&r, NULL, 200, 6000);
	MYSQL *c = ring_client(&r);
	query_affects(c, "INSERT INTO countries (code, name) VALUES ('zz', "
		      "'Zedland')", 1);
	cr_assert_eq(copies("zz", "Zedland"), NSHARDS);
	query_affects(c, "UPDATE countries SET name = 'Zed' WHERE code = 'zz'",
		      1);
	cr_assert_eq(copies("zz", "Zed"), NSHARDS);
	/* One shard refuses: no copy changes. */
	MYSQL *m = on_shard(2);
	query_ok(m, "CREATE TRIGGER xa_refuse_country BEFORE UPDATE ON "
		 "countries FOR EACH ROW IF NEW.name = 'refused' THEN SIGNAL "
		 "SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; "
		 "END IF");
	mysql_close(m);
	cr_assert_neq(mysql_query(c, "UPDATE countries SET name = 'refused' "
				  "WHERE code = 'zz'"), 0);
	cr_assert_eq(mysql_errno(c), 1644, "%s", mysql_error(c));
	cr_assert_eq(copies("zz", "Zed"), NSHARDS, "a copy changed");
	/* Inside a transaction, with a sharded write: rolled back, then
	 * committed. */
	long a = ACCOUNT0 + 400;
	clear_accounts();
	open_account(c, a, 100);
	for (int commit = 0; commit < 2; commit++) {
		query_ok(c, "BEGIN");
		snprintf(q, sizeof(q), "UPDATE customers SET balance = 1 WHERE "
			 "id = %ld", a);
		query_affects(c, q, 1);
		query_affects(c, "UPDATE countries SET name = 'Zee' WHERE code "
			      "= 'zz'", 1);
		query_ok(c, commit ? "COMMIT" : "ROLLBACK");
		cr_assert_eq(copies("zz", "Zee"), commit ? NSHARDS : 0);
		cr_assert_eq(balance_on(shard_of(c, a), a), commit ? 1 : 100);
	}
	query_affects(c, "DELETE FROM countries WHERE code = 'zz'", 1);
	cr_assert_eq(copies("zz", "Zee"), 0);
	cr_assert_eq(prepared_total(), 0);
	mysql_close(c);
	clear_accounts();
	ring_stop(&r);
}

Test(shards, xa_a_shard_that_cannot_join_leaves_the_rest_to_commit,
     .timeout = 120, .fini = restart_shards)
{
	struct ring r;
	long a = ACCOUNT0 + 500, b;
	int sa, sb;
	char q[300];

	ring_start(&r, NULL, 200, 1000);
	clear_accounts();
	MYSQL *c = ring_client(&r);
	sa = shard_of(c, a);
	for (b = a + 1; (sb = shard_of(c, b)) == sa; b++)
		;
	open_account(c, a, 100);
	open_account(c, b, 100);
	query_ok(c, "BEGIN");
	snprintf(q, sizeof(q), "UPDATE customers SET balance = 1 WHERE id = "
		 "%ld", a);
	query_affects(c, q, 1);
	kill_shard(sb);
	/* Its branch cannot start: the statement fails, the transaction
	 * goes on (as after any statement's error) and commits the rest. */
	snprintf(q, sizeof(q), "UPDATE customers SET balance = 1 WHERE id = "
		 "%ld", b);
	cr_assert_neq(mysql_query(c, q), 0);
	restart_shards();
	query_ok(c, "COMMIT");
	cr_assert_eq(balance_on(sa, a), 1);
	cr_assert_eq(balance_on(sb, b), 100);
	cr_assert_eq(prepared_total(), 0);
	mysql_close(c);
	clear_accounts();
	ring_stop(&r);
}

/* ---- transactions that begin over several shards --------------------- */

/* Begins a transaction: BEGIN, or autocommit off (then the statement
 * after it begins one, as on a server). */
static void begin_as(MYSQL *c, bool autocommit_off)
{
	query_ok(c, autocommit_off ? "SET autocommit = 0" : "BEGIN");
}

/* Ends it: COMMIT or ROLLBACK, and autocommit back on. */
static void end_as(MYSQL *c, bool autocommit_off, bool commit)
{
	query_ok(c, commit ? "COMMIT" : "ROLLBACK");
	if (autocommit_off)
		query_ok(c, "SET autocommit = 1");
}

/* Every account from..from+n-1 read through c (inside its transaction,
 * on each shard's branch) has balance want. */
static void each_reads(MYSQL *c, long from, unsigned n, long want)
{
	char q[160];

	for (unsigned i = 0; i < n; i++) {
		snprintf(q, sizeof(q), "SELECT balance FROM customers WHERE "
			 "id = %ld", from + (long)i);
		cr_assert_eq(query_long(c, q), want, "account %ld read "
			     "through the transaction", from + (long)i);
	}
}

Test(shards, xa_a_transaction_begins_with_a_statement_over_shards,
     .timeout = 180)
{
	struct ring r;
	long a0 = ACCOUNT0 + 300, in_a, in_b, bal = 100;
	char q[400], sum_sql[200];
	MYSQL *c = spread_ring(&r, "", a0, sum_sql, sizeof(sum_sql));

	for (int off = 0; off < 2; off++) {
		for (int commit = 0; commit < 2; commit++) {
			long committed = ring_counter(&r, "xa_committed");
			/* A scatter UPDATE first: every shard's part stays
			 * in the transaction, read back on every shard. */
			begin_as(c, off);
			snprintf(q, sizeof(q), "UPDATE customers SET balance = "
				 "balance + 1 WHERE id >= %ld AND id < %ld", a0,
				 a0 + SPREAD);
			query_affects(c, q, SPREAD);
			cr_assert_eq(committed_sum(a0, SPREAD), bal * SPREAD,
				     "not committed before COMMIT");
			each_reads(c, a0, SPREAD, bal + 1);
			cr_assert_eq(query_long(c, sum_sql),
				     (bal + 1) * SPREAD);
			/* A single-shard write after it, on one shard. */
			snprintf(q, sizeof(q), "UPDATE customers SET balance = "
				 "balance + 1 WHERE id = %ld", a0 + 3);
			query_affects(c, q, 1);
			end_as(c, off, commit);
			if (commit)
				bal++;
			cr_assert_eq(committed_sum(a0, SPREAD), bal * SPREAD +
				     (commit ? 1 : 0), "off %d commit %d", off,
				     commit);
			if (commit) {
				/* Undo the single-shard +1 (autocommit). */
				snprintf(q, sizeof(q), "UPDATE customers SET "
					 "balance = balance - 1 WHERE id = %ld",
					 a0 + 3);
				query_affects(c, q, 1);
				cr_assert_eq(ring_counter(&r, "xa_committed"),
					     committed + 1, "two-phase commit");
			}
			cr_assert_eq(prepared_total(), 0);
		}
	}
	/* IN over two shards, a multi-row INSERT split over the shards, a
	 * scatter SELECT first: committed, each on its shards. */
	in_a = a0;
	for (in_b = a0 + 1; shard_of(c, in_b) == shard_of(c, in_a); in_b++)
		;
	for (int off = 0; off < 2; off++) {
		begin_as(c, off);
		snprintf(q, sizeof(q), "UPDATE customers SET balance = balance "
			 "+ 10 WHERE id IN (%ld, %ld)", in_a, in_b);
		query_affects(c, q, 2);
		end_as(c, off, true);
		cr_assert_eq(balance_on(shard_of(c, in_a), in_a), bal + 10);
		cr_assert_eq(balance_on(shard_of(c, in_b), in_b), bal + 10);
		snprintf(q, sizeof(q), "UPDATE customers SET balance = %ld "
			 "WHERE id IN (%ld, %ld)", bal, in_a, in_b);
		query_ok(c, q);

		begin_as(c, off);
		snprintf(q, sizeof(q), "INSERT INTO customers (id, name, "
			 "balance) VALUES (%ld, 'n', 1), (%ld, 'n', 1), (%ld, "
			 "'n', 1), (%ld, 'n', 1)", a0 + 1000, a0 + 1001,
			 a0 + 1002, a0 + 1003);
		query_affects(c, q, 4);
		cr_assert_eq(committed_sum(a0 + 1000, 4), 0);
		end_as(c, off, off == 0);
		cr_assert_eq(committed_sum(a0 + 1000, 4), off == 0 ? 4 : 0);
		snprintf(q, sizeof(q), "DELETE FROM customers WHERE id >= %ld "
			 "AND id < %ld", a0 + 1000, a0 + 1004);
		query_ok(c, q);

		/* A read first, then writes on two shards that it saw. */
		begin_as(c, off);
		cr_assert_eq(query_long(c, sum_sql), bal * SPREAD);
		snprintf(q, sizeof(q), "UPDATE customers SET balance = balance "
			 "- 7 WHERE id = %ld", in_a);
		query_affects(c, q, 1);
		snprintf(q, sizeof(q), "UPDATE customers SET balance = balance "
			 "+ 7 WHERE id = %ld", in_b);
		query_affects(c, q, 1);
		cr_assert_eq(query_long(c, sum_sql), bal * SPREAD);
		end_as(c, off, true);
		cr_assert_eq(balance_on(shard_of(c, in_a), in_a), bal - 7);
		cr_assert_eq(balance_on(shard_of(c, in_b), in_b), bal + 7);
		snprintf(q, sizeof(q), "UPDATE customers SET balance = %ld "
			 "WHERE id IN (%ld, %ld)", bal, in_a, in_b);
		query_ok(c, q);
		cr_assert_eq(prepared_total(), 0);
	}
	mysql_close(c);
	clear_accounts();
	ring_stop(&r);
}

Test(shards, xa_a_first_statement_that_fails_leaves_the_transaction_open,
     .timeout = 120)
{
	struct ring r;
	long a0 = ACCOUNT0 + 700;
	char q[400];
	char sum_sql[200];
	MYSQL *c = spread_ring(&r, "", a0, sum_sql, sizeof(sum_sql));

	for (int off = 0; off < 2; off++) {
		/* A multi-row INSERT with a duplicate on one shard: none of
		 * its rows stays, and the transaction is still open: the
		 * write after it is rolled back with it. */
		begin_as(c, off);
		snprintf(q, sizeof(q), "INSERT INTO customers (id, name, "
			 "balance) VALUES (%ld, 'n', 1), (%ld, 'n', 1), (%ld, "
			 "'n', 1), (%ld, 'n', 1), (%ld, 'dup', 1)", a0 + 1000,
			 a0 + 1001, a0 + 1002, a0 + 1003, a0 + 5);
		cr_assert_neq(mysql_query(c, q), 0);
		cr_assert_eq(mysql_errno(c), 1062, "%u %s", mysql_errno(c),
			     mysql_error(c));
		snprintf(q, sizeof(q), "SELECT COUNT(*) FROM customers WHERE "
			 "id >= %ld AND id < %ld", a0 + 1000, a0 + 1004);
		cr_assert_eq(query_long(c, q), 0);
		snprintf(q, sizeof(q), "UPDATE customers SET balance = 0 "
			 "WHERE id >= %ld AND id < %ld", a0, a0 + SPREAD);
		query_affects(c, q, SPREAD);
		end_as(c, off, false);
		cr_assert_eq(committed_sum(a0, SPREAD), 100 * SPREAD,
			     "the transaction ended with the failed INSERT");
		cr_assert_eq(committed_sum(a0 + 1000, 4), 0);
		cr_assert_eq(prepared_total(), 0);
	}
	mysql_close(c);
	clear_accounts();
	ring_stop(&r);
}

Test(shards, xa_a_broadcast_write_can_begin_a_transaction, .timeout = 120,
     .fini = drop_test_countries)
{
	struct ring r;
	long a = ACCOUNT0 + 800;
	char q[300];

	drop_test_countries();
	ring_start(&r, NULL, 200, 6000);
	clear_accounts();
	MYSQL *c = ring_client(&r);
	open_account(c, a, 100);
	for (int commit = 0; commit < 2; commit++) {
		query_ok(c, "BEGIN");
		query_affects(c, "INSERT INTO countries (code, name) VALUES "
			      "('zz', 'Zedland')", 1);
		cr_assert_eq(copies("zz", "Zedland"), 0);
		snprintf(q, sizeof(q), "UPDATE customers SET balance = 1 WHERE "
			 "id = %ld", a);
		query_affects(c, q, 1);
		cr_assert_eq(query_long(c, "SELECT COUNT(*) FROM countries "
					"WHERE code = 'zz'"), 1);
		query_ok(c, commit ? "COMMIT" : "ROLLBACK");
		cr_assert_eq(copies("zz", "Zedland"), commit ? NSHARDS : 0);
		cr_assert_eq(balance_on(shard_of(c, a), a), commit ? 1 : 100);
	}
	cr_assert_eq(prepared_total(), 0);
	mysql_close(c);
	clear_accounts();
	ring_stop(&r);
}

/* ---- prepared statements inside the transaction ---------------------- */

static MYSQL_STMT *prepare(MYSQL *c, const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(c);

	cr_assert(st);
	cr_assert_eq(mysql_stmt_prepare(st, sql, strlen(sql)), 0, "%s: %s",
		     sql, mysql_stmt_error(st));
	return st;
}

/* Executes st with n integer parameters; its rows (binary protocol) are
 * fetched: the first column of the last row in *value (if any).
 * Returns the affected rows of a write, the rows of a read. */
static long long exec_longs(MYSQL_STMT *st, const long long *v, unsigned n,
			    long long *value)
{
	MYSQL_BIND in[4], out;
	long long rows = 0;
	double got = 0;        /* balance is a DECIMAL(12,2) */
	int rc;

	memset(in, 0, sizeof(in));
	for (unsigned i = 0; i < n; i++) {
		in[i].buffer_type = MYSQL_TYPE_LONGLONG;
		in[i].buffer = (void *)&v[i];
	}
	cr_assert_eq(mysql_stmt_bind_param(st, in), 0);
	cr_assert_eq(mysql_stmt_execute(st), 0, "execute: %u %s",
		     mysql_stmt_errno(st), mysql_stmt_error(st));
	if (!mysql_stmt_field_count(st))
		return (long long)mysql_stmt_affected_rows(st);
	memset(&out, 0, sizeof(out));
	out.buffer_type = MYSQL_TYPE_DOUBLE;
	out.buffer = &got;
	cr_assert_eq(mysql_stmt_bind_result(st, &out), 0);
	while ((rc = mysql_stmt_fetch(st)) == 0)
		rows++;
	cr_assert_eq(rc, MYSQL_NO_DATA, "fetch: %d %u %s", rc,
		     mysql_stmt_errno(st), mysql_stmt_error(st));
	mysql_stmt_free_result(st);
	if (value)
		*value = (long long)got;
	return rows;
}

Test(shards, xa_prepared_statements_join_the_transaction, .timeout = 120)
{
	struct ring r;
	long a0 = ACCOUNT0 + 300, a = a0, b;
	long long v, bal = 100, args[3];
	char q[300];
	char sum_sql[200];
	MYSQL *c = spread_ring(&r, "", a0, sum_sql, sizeof(sum_sql));

	for (b = a + 1; shard_of(c, b) == shard_of(c, a); b++)
		;
	MYSQL_STMT *upd = prepare(c, "UPDATE customers SET balance = balance "
				  "+ ? WHERE id = ?");
	MYSQL_STMT *sel = prepare(c, "SELECT balance FROM customers WHERE "
				  "id = ?");
	MYSQL_STMT *sum = prepare(c, "SELECT SUM(balance) FROM customers "
				  "WHERE id >= ? AND id < ?");
	MYSQL_STMT *all = prepare(c, "UPDATE customers SET balance = balance "
				  "+ ? WHERE id >= ? AND id < ?");
	for (int commit = 0; commit < 2; commit++) {
		query_ok(c, "BEGIN");
		/* The transaction begins on a's shard (text). */
		snprintf(q, sizeof(q), "UPDATE customers SET balance = balance "
			 "- 3 WHERE id = %ld", a);
		query_affects(c, q, 1);
		/* An execution for b's shard joins it as a branch. */
		args[0] = 10, args[1] = b;
		cr_assert_eq(exec_longs(upd, args, 2, NULL), 1);
		args[0] = b;
		cr_assert_eq(exec_longs(sel, args, 1, &v), 1);
		cr_assert_eq(v, bal + 10, "b read on its branch");
		args[0] = a;
		cr_assert_eq(exec_longs(sel, args, 1, &v), 1);
		cr_assert_eq(v, bal - 3, "a read on the decision shard");
		/* Over every shard: on the transaction's connections. */
		args[0] = a0, args[1] = a0 + SPREAD;
		cr_assert_eq(exec_longs(sum, args, 2, &v), 1);
		cr_assert_eq(v, bal * SPREAD + 7);
		args[0] = 1, args[1] = a0, args[2] = a0 + SPREAD;
		cr_assert_eq(exec_longs(all, args, 3, NULL), SPREAD);
		cr_assert_eq(committed_sum(a0, SPREAD), bal * SPREAD);
		query_ok(c, commit ? "COMMIT" : "ROLLBACK");
		cr_assert_eq(balance_on(shard_of(c, b), b), commit ? bal + 11 :
			     bal);
		cr_assert_eq(committed_sum(a0, SPREAD), commit ?
			     bal * SPREAD + 7 + SPREAD : bal * SPREAD);
		cr_assert_eq(prepared_total(), 0);
	}
	/* An execution over several shards begins a transaction. */
	bal = 100;
	snprintf(q, sizeof(q), "UPDATE customers SET balance = 100 WHERE "
		 "id >= %ld AND id < %ld", a0, a0 + SPREAD);
	query_ok(c, q);
	query_ok(c, "BEGIN");
	args[0] = 2, args[1] = a0, args[2] = a0 + SPREAD;
	cr_assert_eq(exec_longs(all, args, 3, NULL), SPREAD);
	args[0] = a0, args[1] = a0 + SPREAD;
	cr_assert_eq(exec_longs(sum, args, 2, &v), 1);
	cr_assert_eq(v, (bal + 2) * SPREAD);
	args[0] = b;
	cr_assert_eq(exec_longs(sel, args, 1, &v), 1);
	cr_assert_eq(v, bal + 2);
	cr_assert_eq(committed_sum(a0, SPREAD), bal * SPREAD);
	query_ok(c, "COMMIT");
	cr_assert_eq(committed_sum(a0, SPREAD), (bal + 2) * SPREAD);
	cr_assert_eq(prepared_total(), 0);
	mysql_stmt_close(upd);
	mysql_stmt_close(sel);
	mysql_stmt_close(sum);
	mysql_stmt_close(all);
	mysql_close(c);
	clear_accounts();
	ring_stop(&r);
}

/* ---- the drain ------------------------------------------------------- */

#define DRAIN_MS 1500

/* SIGSTOP (on false: SIGCONT) to shard i's server. */
static void stop_shard(int i, bool stop)
{
	char key[32];

	snprintf(key, sizeof(key), "SHARD%d_PID", i);
	cr_assert_eq(kill((pid_t)shard_rig_env(key), stop ? SIGSTOP : SIGCONT),
		     0);
}

static void continue_shards(void)
{
	if (!getenv("MYRING_SHARDS_DIR"))
		return;
	for (int i = 0; i < NSHARDS; i++)
		stop_shard(i, false);
}

/* SIGTERM to myring: it must exit 0 within the drain timeout and a
 * moment; returns how long it took (ms). */
static uint64_t drained(struct ring *r)
{
	uint64_t t0 = now_ms();
	int st = 0;
	pid_t got = 0;

	kill(r->p.pid, SIGTERM);
	while (now_ms() - t0 < DRAIN_MS + 8000 &&
	       (got = waitpid(r->p.pid, &st, WNOHANG)) == 0)
		usleep(20000);
	if (got != r->p.pid) {
		kill(r->p.pid, SIGKILL);
		waitpid(r->p.pid, &st, 0);
		cr_assert_fail("myring still ran %u ms after SIGTERM (drain "
			       "timeout %u ms)\n%s", (unsigned)(now_ms() - t0),
			       DRAIN_MS, proxy_log_tail(&r->p));
	}
	unlink(r->config);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d\n%s",
		  st, proxy_log_tail(&r->p));
	return now_ms() - t0;
}

Test(shards, xa_drain_ends_a_statement_over_a_stopped_shard, .timeout = 120,
     .fini = continue_shards)
{
	struct ring r;
	long a0 = ACCOUNT0 + 300;
	char q[300], yaml[64], sum_sql[200];
	uint64_t took;

	snprintf(yaml, sizeof(yaml), "drain-timeout: %u\n", DRAIN_MS);
	MYSQL *c = spread_ring(&r, yaml, a0, sum_sql, sizeof(sum_sql));

	/* A transaction with a scatter write, then a scatter read whose
	 * shard 2 never answers. */
	query_ok(c, "BEGIN");
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance + 1 "
		 "WHERE id = %ld", a0);
	query_affects(c, q, 1);
	snprintf(q, sizeof(q), "UPDATE customers SET balance = balance + 1 "
		 "WHERE id >= %ld AND id < %ld", a0, a0 + SPREAD);
	query_affects(c, q, SPREAD);
	stop_shard(2, true);
	cr_assert_eq(mysql_send_query(c, sum_sql, strlen(sum_sql)), 0);
	usleep(300000);
	took = drained(&r);
	cr_assert_lt(took, DRAIN_MS + 3000, "drained in %u ms",
		     (unsigned)took);
	/* The error comes in place of the result, or of a row once the
	 * other shards' header went out. */
	MYSQL_RES *res = mysql_read_query_result(c) ? NULL :
			 mysql_store_result(c);
	cr_assert(!res, "the read answered");
	cr_expect_eq(mysql_errno(c), 1053, "%u %s", mysql_errno(c),
		     mysql_error(c));
	mysql_close(c);
	stop_shard(2, false);
	/* Nothing of the transaction stays (recovery of a new instance
	 * has nothing prepared to find: the branches were active). */
	ring_start(&r, NULL, 200, 1000);
	cr_assert(settled(20000), "branches still prepared");
	cr_assert_eq(committed_sum(a0, SPREAD), 100 * SPREAD);
	clear_accounts();
	ring_stop(&r);
}

Test(shards, xa_drain_ends_a_commit_held_at_a_step, .timeout = 120)
{
	struct ring r, again;
	struct transfer x;
	char yaml[64];
	uint64_t took;

	snprintf(yaml, sizeof(yaml), "drain-timeout: %u\n", DRAIN_MS);
	/* The decision record waits 30 s behind the prepares. */
	ring_start_with(&r, "after-prepare:pause=30000", 200, 60000, yaml);
	transfer_begin(&r, &x);
	cr_assert(paused_on(x.sa, 5000), "no pause\n%s", proxy_log_tail(&r.p));
	for (int tries = 0; tries < 100 && prepared(x.sb) <= 0; tries++)
		usleep(20000);
	cr_assert_gt(prepared(x.sb), 0, "no branch prepared on shard %d", x.sb);
	took = drained(&r);
	cr_assert_lt(took, DRAIN_MS + 3000, "drained in %u ms",
		     (unsigned)took);
	/* The server would sleep on with the decision shard's locks: its
	 * session goes as a server's that notices its client left. */
	MYSQL *m = on_shard(x.sa);
	long id = query_long(m, "SELECT COALESCE(MAX(ID), 0) FROM "
			     "information_schema.PROCESSLIST WHERE INFO LIKE "
			     "'DO SLEEP%'");
	char kill_sql[64];
	snprintf(kill_sql, sizeof(kill_sql), "KILL %ld", id);
	if (id)
		query_ok(m, kill_sql);
	mysql_close(m);
	/* The client is told, and recovery (of another instance) rolls the
	 * undecided branch back. */
	transfer_answer(&x, 1053);
	ring_start(&again, NULL, 200, 1000);
	transfer_settled(&x, &again, false);
	ring_stop(&again);
}
