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
 *
 * Latencies (per query or per connection) are written as microseconds, one
 * per line, to the file named by LOADGEN_LAT if set.
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
	if (!mysql_real_connect(m, "127.0.0.1", "myring", "myring-pw",
				"myring_test", (unsigned)port, NULL, 0)) {
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
	unsigned long long bytes, queries, conns;
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
	}
	double secs = now() - t0;
	if (!strcmp(what, "big"))
		printf("bytes=%llu queries=%llu seconds=%.3f\n", total.bytes,
		       total.queries, secs);
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
		fprintf(stderr, "usage: loadgen big|churn PORT SECONDS THREADS | "
			"idle PORT N SECONDS ACTIVE\n");
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
	int rc = run(!strcmp(argv[1], "big") ? big : churn, argv[1]);
	if (lat)
		fclose(lat);
	return rc;
}
