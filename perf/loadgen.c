/*
 * loadgen - the two workloads sysbench has no script for, against any
 * MySQL endpoint (MariaDB Connector/C):
 *
 *   loadgen big   PORT SECONDS THREADS   queries returning 1..16 MiB (cycling);
 *                                        prints "bytes=N queries=N seconds=S"
 *   loadgen churn PORT SECONDS THREADS   connect, SELECT 1, disconnect;
 *                                        prints "conns=N seconds=S"
 *   loadgen idle  PORT N SECONDS ACTIVE  open N connections, hold them idle
 *                                        (ACTIVE=0) or querying (ACTIVE=1) for
 *                                        SECONDS, printing "ready" once all are up
 *   loadgen driver PORT SECONDS THREADS  what JDBC and PHP drivers send (session
 *                                        SETs, USE, server-side prepared
 *                                        statements) on sysbench's tables;
 *                                        prints "commands=N errors=N starved=N
 *                                        seconds=S" (starved: clients none of
 *                                        whose requests fully succeeded within
 *                                        SECONDS)
 *
 * driver reads the sysbench table size from LOADGEN_ROWS (default 10000).
 *
 * Latencies (per query, command or connection) are written as microseconds, one
 * per line, to the file named by LOADGEN_LAT if set.  LOADGEN_TLS_CA=FILE
 * connects with TLS (the server's certificate checked against FILE),
 * LOADGEN_COMPRESS=1 with protocol compression (perf/tls.sh).
 */
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int port, seconds, nthreads;
static volatile int stop;
static FILE *lat;
static pthread_mutex_t lat_lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static MYSQL *conn(void)
{
	MYSQL *m = mysql_init(NULL);
	unsigned long maxp = 1ul << 30;
	mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
	const char *ca = getenv("LOADGEN_TLS_CA");
	if (ca && *ca) {
		my_bool verify = 1;
		mysql_optionsv(m, MYSQL_OPT_SSL_CA, ca);
		mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
	}
	const char *z = getenv("LOADGEN_COMPRESS");
	if (z && *z == '1')
		mysql_optionsv(m, MYSQL_OPT_COMPRESS, NULL);
	static int failures;  /* printed: the first few (driver retries) */
	if (!mysql_real_connect(m, "127.0.0.1", "myring", "myring-pw",
				"myring_test", (unsigned)port, NULL, 0)) {
		if (__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED) <= 3)
			fprintf(stderr, "connect: %s\n", mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

static void record(double us)
{
	if (!lat)
		return;
	pthread_mutex_lock(&lat_lock);
	fprintf(lat, "%.0f\n", us);
	pthread_mutex_unlock(&lat_lock);
}

struct stats {
	unsigned long long bytes, queries, conns, commands, errors;
	unsigned long long requests; /* driver: requests that succeeded */
	unsigned long long starved;  /* driver: clients that completed no
	                              * request (1 or 0 per thread) */
	int idx;
};

static void *big(void *arg)
{
	struct stats *st = arg;
	MYSQL *m = conn();
	int mib = 1 + st->idx % 16;
	if (!m)
		return NULL;
	while (!stop) {
		char q[128];
		/* rows of 64 KiB: mib MiB per query */
		snprintf(q, sizeof(q), "SELECT REPEAT('x', 65536) FROM seq_1_to_%d",
			 mib * 16);
		double t0 = now();
		if (mysql_query(m, q)) {
			fprintf(stderr, "%s\n", mysql_error(m));
			break;
		}
		MYSQL_RES *r = mysql_use_result(m);
		MYSQL_ROW row;
		while ((row = mysql_fetch_row(r)))
			st->bytes += mysql_fetch_lengths(r)[0];
		mysql_free_result(r);
		record((now() - t0) * 1e6);
		st->queries++;
		mib = mib % 16 + 1;
	}
	mysql_close(m);
	return NULL;
}

static void *churn(void *arg)
{
	struct stats *st = arg;
	while (!stop) {
		double t0 = now();
		MYSQL *m = conn();
		if (!m)
			break;
		if (mysql_query(m, "SELECT 1") == 0)
			mysql_free_result(mysql_store_result(m));
		mysql_close(m);
		record((now() - t0) * 1e6);
		st->conns++;
	}
	return NULL;
}

/* One command of the driver workload: timed, counted, and on error
 * (errno, msg) counted as such; the workload goes on (a pool out of
 * connections answers ERR 1040 after its wait).  Returns -1 if the
 * connection is gone and must be reopened. */
static int counted(struct stats *st, unsigned errno_, const char *msg, double t0)
{
	st->commands++;
	if (!errno_) {
		record((now() - t0) * 1e6);
		return 0;
	}
	static int printed;
	st->errors++;
	if (__atomic_add_fetch(&printed, 1, __ATOMIC_RELAXED) <= 3)
		fprintf(stderr, "driver: %u %s\n", errno_, msg);
	return errno_ >= 2000 ? -1 : 0;  /* client errors: connection lost */
}

static int text(struct stats *st, MYSQL *m, const char *q)
{
	double t0 = now();
	if (!mysql_query(m, q)) {
		MYSQL_RES *r = mysql_store_result(m);
		if (r)
			mysql_free_result(r);
	}
	return counted(st, mysql_errno(m), mysql_error(m), t0);
}

/* The statements of a driver's connection set-up and of each request: a
 * pooled JDBC connection is reset with SET autocommit (Connector/J also
 * reads session variables and sets the character set once), a PHP request
 * opens with SET NAMES and the application's sql_mode, and both select a
 * schema and run server-side prepared statements (Connector/J with
 * useServerPrepStmts, mysqli_prepare). */
static const char *const driver_setup[] = {
	"SELECT @@session.auto_increment_increment AS auto_increment_increment, "
	"@@character_set_client AS character_set_client, "
	"@@character_set_connection AS character_set_connection, "
	"@@max_allowed_packet AS max_allowed_packet, @@sql_mode AS sql_mode, "
	"@@time_zone AS time_zone, @@tx_isolation AS transaction_isolation",
	"SET character_set_results = NULL",
};
static const char *const driver_request[] = {
	"SET autocommit=1",
	"SET NAMES utf8mb4",
	"SET sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
	"NO_ENGINE_SUBSTITUTION'",
	"USE myring_test",
};

/* One request's prepared statement: prepare, execute `times` times with
 * random ids, close.  -1 if the connection is gone. */
static int prepared(struct stats *st, MYSQL *m, unsigned *seed, int rows,
		    int times)
{
	char q[80];
	snprintf(q, sizeof(q), "SELECT c FROM sbtest%d WHERE id = ?",
		 1 + (int)(rand_r(seed) % 4));
	MYSQL_STMT *stmt = mysql_stmt_init(m);
	double t0 = now();
	mysql_stmt_prepare(stmt, q, strlen(q));
	int gone = counted(st, mysql_stmt_errno(stmt), mysql_stmt_error(stmt), t0);
	if (mysql_stmt_errno(stmt)) {
		mysql_stmt_close(stmt);
		return gone;
	}
	int id;
	MYSQL_BIND in = {0};
	in.buffer_type = MYSQL_TYPE_LONG;
	in.buffer = &id;
	mysql_stmt_bind_param(stmt, &in);
	for (int i = 0; !gone && i < times; i++) {
		id = 1 + (int)(rand_r(seed) % (unsigned)rows);
		t0 = now();
		if (!mysql_stmt_execute(stmt))
			mysql_stmt_store_result(stmt);
		gone = counted(st, mysql_stmt_errno(stmt), mysql_stmt_error(stmt), t0);
		mysql_stmt_free_result(stmt);
	}
	mysql_stmt_close(stmt);  /* COM_STMT_CLOSE: no answer, not counted */
	return gone;
}

static void *driver(void *arg)
{
	struct stats *st = arg;
	const char *r = getenv("LOADGEN_ROWS");
	int rows = r ? atoi(r) : 10000;
	unsigned seed = (unsigned)st->idx * 2654435761u + 1;
	MYSQL *m = NULL;

	while (!stop) {
		if (!m) {
			m = conn();
			if (!m) {
				st->errors++;
				usleep(100000);
				continue;
			}
			for (size_t i = 0; m && i < sizeof(driver_setup) /
			     sizeof(driver_setup[0]); i++)
				if (text(st, m, driver_setup[i]) < 0) {
					mysql_close(m);
					m = NULL;
				}
			continue;
		}
		int gone = 0;
		unsigned long long errors = st->errors;
		for (size_t i = 0; !gone && i < sizeof(driver_request) /
		     sizeof(driver_request[0]); i++)
			gone = text(st, m, driver_request[i]) < 0;
		if (!gone)
			gone = prepared(st, m, &seed, rows, 5) < 0;
		if (!gone) {
			char q[80];
			snprintf(q, sizeof(q), "SELECT c FROM sbtest%d WHERE id = %d",
				 1 + (int)(rand_r(&seed) % 4),
				 1 + (int)(rand_r(&seed) % (unsigned)rows));
			gone = text(st, m, q) < 0;
		}
		/* Every command of it succeeded, within the run (a client
		 * served only once the others stopped was not served). */
		if (!gone && st->errors == errors && !stop)
			st->requests++;
		if (gone) {
			mysql_close(m);
			m = NULL;
		}
	}
	if (m)
		mysql_close(m);
	return NULL;
}

static int run(void *(*fn)(void *), const char *what)
{
	pthread_t th[256];
	struct stats st[256];
	memset(st, 0, sizeof(st));
	double t0 = now();
	for (int i = 0; i < nthreads; i++) {
		st[i].idx = i;
		pthread_create(&th[i], NULL, fn, &st[i]);
	}
	sleep((unsigned)seconds);
	stop = 1;
	struct stats total = {0};
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		total.bytes += st[i].bytes;
		total.queries += st[i].queries;
		total.conns += st[i].conns;
		total.commands += st[i].commands;
		total.errors += st[i].errors;
		total.starved += !st[i].requests;
	}
	double secs = now() - t0;
	if (!strcmp(what, "big"))
		printf("bytes=%llu queries=%llu seconds=%.3f\n", total.bytes,
		       total.queries, secs);
	else if (!strcmp(what, "driver"))
		printf("commands=%llu errors=%llu starved=%llu seconds=%.3f\n",
		       total.commands, total.errors, total.starved, secs);
	else
		printf("conns=%llu seconds=%.3f\n", total.conns, secs);
	return 0;
}

static int idle(int n, int secs, int active)
{
	MYSQL **ms = calloc((size_t)n, sizeof(*ms));
	for (int i = 0; i < n; i++) {
		ms[i] = conn();
		if (!ms[i]) {
			fprintf(stderr, "connection %d failed\n", i);
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	double end = now() + secs;
	while (now() < end) {
		if (active) {
			for (int i = 0; i < n; i++)
				mysql_send_query(ms[i], "SELECT 1", 8);
			for (int i = 0; i < n; i++) {
				mysql_read_query_result(ms[i]);
				mysql_free_result(mysql_store_result(ms[i]));
			}
		} else {
			usleep(100000);
		}
	}
	printf("done\n");
	fflush(stdout);
	for (int i = 0; i < n; i++)
		mysql_close(ms[i]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: loadgen big|churn|driver PORT SECONDS "
			"THREADS | idle PORT N SECONDS ACTIVE\n");
		return 2;
	}
	port = atoi(argv[2]);
	if (getenv("LOADGEN_LAT"))
		lat = fopen(getenv("LOADGEN_LAT"), "w");
	mysql_library_init(0, NULL, NULL);
	if (!strcmp(argv[1], "idle"))
		return idle(atoi(argv[3]), atoi(argv[4]), argc > 5 ? atoi(argv[5]) : 0);
	seconds = atoi(argv[3]);
	nthreads = atoi(argv[4]);
	if (nthreads < 1 || nthreads > 256)
		return 2;
	void *(*fn)(void *) = !strcmp(argv[1], "big") ? big :
			      !strcmp(argv[1], "driver") ? driver : churn;
	int rc = run(fn, argv[1]);
	if (lat)
		fclose(lat);
	return rc;
}
