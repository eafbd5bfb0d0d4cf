/*
 * Long packet bodies moved by splice (--splice-min): a 64 MiB BLOB row
 * arrives byte for byte, counted as spliced; below the threshold nothing
 * is spliced; a client that vanishes mid-row harms nobody else.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOB_LEN (64u << 20)

struct splice_proxy {
	struct proxy_proc p;
	int metrics_port;
};

static void start(struct splice_proxy *sp, const char *splice_min)
{
	static char metrics[64];
	const char *args[] = {"--metrics", metrics, "--splice-min", splice_min,
			      NULL};

	sp->metrics_port = free_port();
	snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", sp->metrics_port);
	proxy_start(&sp->p, env_int("MARIADB_PORT"), args);
}

static double counter(const struct splice_proxy *sp, const char *series)
{
	char *body = http_get(sp->metrics_port, "/metrics");
	double v = metric(body, series);

	free(body);
	return v;
}

static MYSQL *connect_big(int port)
{
	char err[256];
	MYSQL *m = connect_port(port, "myring", "myring-pw", "myring_test", 0,
				err, sizeof(err));
	unsigned long max = 1ul << 30;

	cr_assert_not_null(m, "%s", err);
	mysql_options(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &max);
	return m;
}

/* Bytes no period of which a misplaced chunk could hide in. */
static unsigned char *make_blob(void)
{
	unsigned char *b = malloc(BLOB_LEN);

	cr_assert_not_null(b);
	for (size_t i = 0; i < BLOB_LEN; i++)
		b[i] = (unsigned char)((i * 2654435761u) >> 13 ^ i >> 20);
	return b;
}

/* Stores the blob as row 1 of table (each test its own: they run in
 * parallel), straight into the server. */
static void store_blob(const char *table, const unsigned char *blob)
{
	char q[160];
	MYSQL *m = direct_connect();
	unsigned long max = 1ul << 30, len = BLOB_LEN;
	MYSQL_STMT *st;
	MYSQL_BIND b = {.buffer_type = MYSQL_TYPE_LONG_BLOB,
			.buffer = (void *)blob, .buffer_length = BLOB_LEN,
			.length = &len};

	mysql_options(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &max);
	snprintf(q, sizeof(q), "DROP TABLE IF EXISTS %s", table);
	query_ok(m, q);
	snprintf(q, sizeof(q), "CREATE TABLE %s (id INT PRIMARY KEY, "
		 "b LONGBLOB, tail VARCHAR(16))", table);
	query_ok(m, q);
	st = mysql_stmt_init(m);
	snprintf(q, sizeof(q), "INSERT INTO %s VALUES (1, ?, 'after the blob')",
		 table);
	cr_assert_eq(mysql_stmt_prepare(st, q, -1), 0, "%s",
		     mysql_stmt_error(st));
	cr_assert_eq(mysql_stmt_bind_param(st, &b), 0);
	cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
	mysql_stmt_close(st);
	mysql_close(m);
}

/* Reads the row through port and compares every byte. */
static void check_row(int port, const char *table,
		      const unsigned char *blob)
{
	MYSQL *m = connect_big(port);
	MYSQL_RES *r;
	MYSQL_ROW row;
	unsigned long *len;
	char q[128];

	snprintf(q, sizeof(q), "SELECT id, b, tail FROM %s", table);
	cr_assert_eq(mysql_query(m, q), 0, "%s", mysql_error(m));
	r = mysql_store_result(m);
	cr_assert_not_null(r, "%s", mysql_error(m));
	row = mysql_fetch_row(r);
	cr_assert_not_null(row);
	len = mysql_fetch_lengths(r);
	cr_assert_eq(len[1], BLOB_LEN);
	cr_assert_eq(memcmp(row[1], blob, BLOB_LEN), 0, "the BLOB's bytes differ");
	cr_assert_str_eq(row[2], "after the blob");
	mysql_free_result(r);
	/* The stream is in step afterwards. */
	cr_assert_str_eq(query_value(m, "SELECT 'next'"), "next");
	mysql_close(m);
}

Test(splice, blob_of_64_mib_arrives_byte_for_byte_by_splice, .timeout = 180)
{
	struct splice_proxy sp;
	unsigned char *blob = make_blob();

	store_blob("it_splice1", blob);
	start(&sp, "256K");
	check_row(sp.p.port, "it_splice1", blob);
	/* Four 16 MiB packets and a last one: each body goes by splice,
	 * but for what the receive took before it stopped (a few MiB: the
	 * buffers the kernel had filled by then are relayed as usual). */
	cr_assert_geq(counter(&sp, "myring_splices_total"), 4, "%s",
		      proxy_log_tail(&sp.p));
	cr_assert_geq(counter(&sp, "myring_spliced_bytes_total"),
		      (double)BLOB_LEN / 2, "%.0f of %u bytes spliced",
		      counter(&sp, "myring_spliced_bytes_total"), BLOB_LEN);
	check_row(sp.p.port, "it_splice1", blob);
	cr_assert_eq(proxy_stop(&sp.p, 10000), 0);
	free(blob);
}

Test(splice, off_or_below_the_threshold_nothing_is_spliced, .timeout = 180)
{
	struct splice_proxy sp;
	unsigned char *blob = make_blob();

	store_blob("it_splice2", blob);
	start(&sp, "0");
	check_row(sp.p.port, "it_splice2", blob);
	cr_assert_eq(counter(&sp, "myring_splices_total"), 0);
	cr_assert_eq(proxy_stop(&sp.p, 10000), 0);
	free(blob);
}

/* A client reads a little of the row and vanishes: myring closes that
 * session (and its server connection) and serves the next client whole. */
Test(splice, a_client_gone_mid_row_harms_nobody, .timeout = 180)
{
	struct splice_proxy sp;
	unsigned char *blob = make_blob();
	pid_t child;
	int status;

	store_blob("it_splice3", blob);
	start(&sp, "256K");
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		/* A raw client would do; Connector/C reading with a tiny
		 * receive buffer and exiting mid-row does the same. */
		MYSQL *m = connect_big(sp.p.port);
		if (mysql_send_query(m, "SELECT id, b, tail FROM it_splice3",
				     strlen("SELECT id, b, tail FROM it_splice3")))
			_exit(2);
		usleep(300000);
		_exit(0);   /* the socket closes with the row unread */
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check_row(sp.p.port, "it_splice3", blob);
	cr_assert_eq(proxy_stop(&sp.p, 10000), 0, "%s", proxy_log_tail(&sp.p));
	free(blob);
}
