/* Large data: results, queries and BLOBs past the 16 MiB packet size. */
#include "harness.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* FNV-1a over the bytes, in the order they arrive. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* nrows rows of 16 KiB each, contents derived from the row number, so the
 * client can recompute every byte it should receive.  Returns "" when all
 * arrived intact, else what went wrong. */
static const char *checked_rows(MYSQL *m, long nrows)
{
	char q[128];
	snprintf(q, sizeof(q), "SELECT seq, REPEAT(LPAD(HEX(seq), 8, '0'), 2048) "
		 "FROM seq_1_to_%ld", nrows);
	if (mysql_query(m, q))
		return mysql_error(m);
	MYSQL_RES *r = mysql_use_result(m);
	MYSQL_ROW row;
	uint64_t got = 14695981039346656037ull, want = got, bytes = 0;
	long n = 0;
	char unit[17];
	while ((row = mysql_fetch_row(r))) {
		unsigned long *len = mysql_fetch_lengths(r);
		n++;
		got = fnv(got, row[1], len[1]);
		bytes += len[1];
		snprintf(unit, sizeof(unit), "%08lX", (unsigned long)n & 0xFFFFFFFFul);
		for (int i = 0; i < 2048; i++)
			want = fnv(want, unit, 8);
	}
	bool failed = mysql_errno(m) != 0;
	mysql_free_result(r);
	if (failed)
		return mysql_error(m);
	if (n != nrows || bytes != (uint64_t)nrows * 16384)
		return "rows or bytes missing";
	if (got != want)
		return "result bytes differ from what the server sent";
	return "";
}

Test(large, result_set_of_64_mib_checked_by_checksum, .timeout = 120)
{
	MYSQL *m = proxy_connect();
	cr_assert_str_eq(checked_rows(m, 4096), "");
	mysql_close(m);
}

struct starved {
	int port;
	const char *result;
};

static void *checked_results(void *arg)
{
	struct starved *st = arg;
	char err[256];
	MYSQL *m = connect_port(st->port, "myring", "myring-pw", "myring_test", 0,
				err, sizeof(err));
	st->result = m ? "" : "cannot connect";
	for (int i = 0; m && i < 3 && !*st->result; i++) {
		st->result = checked_rows(m, 256);
		if (!*st->result && mysql_query(m, "SELECT 1"))
			st->result = "small query failed";
		if (!*st->result)
			mysql_free_result(mysql_store_result(m));
	}
	if (m)
		mysql_close(m);
	return NULL;
}

/*
 * A pool far too small for the load: 16 buffers of 1 KiB on one worker,
 * one client that does not read its 16 MiB result, and four clients
 * streaming 4 MiB results.  Receives must stop and resume (ENOBUFS,
 * backpressure, copy-out for slow readers), and every byte must still
 * arrive, in order, for everyone, including the stalled client at the end.
 */
Test(large, starved_buffer_pool_loses_nothing, .timeout = 240)
{
	struct proxy_proc p;
	char metrics[32];
	int metrics_port = free_port();
	snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", metrics_port);
	const char *args[] = {"--threads", "1", "--buffers", "16",
			      "--buffer-size", "1K", "--metrics", metrics, NULL};
	proxy_start(&p, env_int("MARIADB_PORT"), args);
	char err[256];
	MYSQL *stalled = connect_port(p.port, "myring", "myring-pw", "myring_test",
				      0, err, sizeof(err));
	cr_assert_not_null(stalled, "%s", err);
	const char *big = "SELECT seq, REPEAT(LPAD(HEX(seq), 8, '0'), 2048) "
			  "FROM seq_1_to_1024";
	cr_assert_eq(mysql_send_query(stalled, big, (unsigned long)strlen(big)), 0);

	enum { CLIENTS = 4 };
	pthread_t t[CLIENTS];
	struct starved st[CLIENTS];
	for (int i = 0; i < CLIENTS; i++) {
		st[i] = (struct starved){.port = p.port};
		pthread_create(&t[i], NULL, checked_results, &st[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(t[i], NULL);
		cr_assert_str_eq(st[i].result, "", "client %d", i);
	}

	/* The stalled client's send had to give its buffers back. */
	char *body = http_get(metrics_port, "/metrics");
	cr_assert_geq(metric(body, "myring_send_evictions_total"), 1, "%s", body);
	free(body);

	/* The stalled client reads now: its whole result is still there. */
	cr_assert_eq(mysql_read_query_result(stalled), 0, "%s", mysql_error(stalled));
	MYSQL_RES *r = mysql_use_result(stalled);
	long n = 0;
	while (mysql_fetch_row(r))
		n++;
	cr_assert_eq(mysql_errno(stalled), 0, "%s", mysql_error(stalled));
	mysql_free_result(r);
	cr_assert_eq(n, 1024);
	cr_assert_str_eq(checked_rows(stalled, 64), "");
	mysql_close(stalled);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "clean exit after SIGTERM\n%s",
		     proxy_log_tail(&p));
}

Test(large, single_row_larger_than_16_mib)
{
	MYSQL *m = proxy_connect();
	cr_assert_eq(mysql_query(m, "SELECT REPEAT('z', 20000000), MD5(REPEAT('z', 20000000))"),
		     0, "%s", mysql_error(m));
	MYSQL_RES *r = mysql_store_result(m);
	cr_assert_not_null(r, "%s", mysql_error(m));
	MYSQL_ROW row = mysql_fetch_row(r);
	unsigned long *len = mysql_fetch_lengths(r);
	cr_assert_eq(len[0], 20000000);
	for (unsigned long i = 0; i < len[0]; i += 4096)
		cr_assert_eq(row[0][i], 'z');
	mysql_free_result(r);
	char *v = query_value(m, "SELECT 'after the big row'");
	cr_assert_str_eq(v, "after the big row");
	free(v);
	mysql_close(m);
}

Test(large, query_of_20_mib)
{
	MYSQL *m = proxy_connect();
	size_t lit = 20u << 20;
	char *q = malloc(lit + 64);
	int n = sprintf(q, "SELECT LENGTH('");
	memset(q + n, 'q', lit);
	n += (int)lit;
	n += sprintf(q + n, "'), 'end'");
	cr_assert_eq(mysql_real_query(m, q, (unsigned long)n), 0, "%s", mysql_error(m));
	MYSQL_RES *r = mysql_store_result(m);
	MYSQL_ROW row = mysql_fetch_row(r);
	cr_assert_str_eq(row[0], "20971520");
	cr_assert_str_eq(row[1], "end");
	mysql_free_result(r);
	free(q);
	mysql_close(m);
}

Test(large, blob_of_20_mib_insert_and_select, .timeout = 120)
{
	MYSQL *m = proxy_connect();
	size_t len = 20u << 20;
	unsigned char *blob = malloc(len);
	for (size_t i = 0; i < len; i++)
		blob[i] = (unsigned char)((i * 2654435761u) >> 13);
	query_ok(m, "DROP TABLE IF EXISTS it_blob");
	query_ok(m, "CREATE TABLE it_blob (id INT PRIMARY KEY, b LONGBLOB)");

	/* via a prepared statement */
	MYSQL_STMT *st = mysql_stmt_init(m);
	cr_assert_eq(mysql_stmt_prepare(st, "INSERT INTO it_blob VALUES (1, ?)", -1), 0);
	unsigned long blen = (unsigned long)len;
	MYSQL_BIND b = {.buffer_type = MYSQL_TYPE_LONG_BLOB, .buffer = blob,
			.buffer_length = blen, .length = &blen};
	cr_assert_eq(mysql_stmt_bind_param(st, &b), 0);
	cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
	mysql_stmt_close(st);

	/* via a text query with the blob escaped into it */
	char *q = malloc(len * 2 + 64);
	int n = sprintf(q, "INSERT INTO it_blob VALUES (2, '");
	n += (int)mysql_real_escape_string(m, q + n, (const char *)blob, (unsigned long)len);
	n += sprintf(q + n, "')");
	cr_assert_eq(mysql_real_query(m, q, (unsigned long)n), 0, "%s", mysql_error(m));
	free(q);

	cr_assert_eq(mysql_query(m, "SELECT id, b FROM it_blob ORDER BY id"), 0);
	MYSQL_RES *r = mysql_store_result(m);
	cr_assert_not_null(r, "%s", mysql_error(m));
	for (int id = 1; id <= 2; id++) {
		MYSQL_ROW row = mysql_fetch_row(r);
		unsigned long *l = mysql_fetch_lengths(r);
		cr_assert_not_null(row);
		cr_assert_eq(l[1], len, "row %d", id);
		cr_assert_eq(memcmp(row[1], blob, len), 0, "row %d bytes differ", id);
	}
	mysql_free_result(r);
	query_ok(m, "DROP TABLE it_blob");
	free(blob);
	mysql_close(m);
}

Test(large, load_data_local_infile)
{
	MYSQL *m = proxy_connect();
	char path[] = "/tmp/myring-infile-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	long sum = 0;
	for (int i = 1; i <= 50000; i++) {
		fprintf(f, "%d,name-%d\n", i, i);
		sum += i;
	}
	fclose(f);
	query_ok(m, "DROP TABLE IF EXISTS it_infile");
	query_ok(m, "CREATE TABLE it_infile (id INT, name VARCHAR(40))");
	char q[256];
	snprintf(q, sizeof(q), "LOAD DATA LOCAL INFILE '%s' INTO TABLE it_infile "
		 "FIELDS TERMINATED BY ','", path);
	cr_assert_eq(mysql_query(m, q), 0, "%s", mysql_error(m));
	cr_assert_eq(mysql_affected_rows(m), 50000);
	char *v = query_value(m, "SELECT CONCAT(COUNT(*), ':', SUM(id), ':', "
			      "MAX(name = CONCAT('name-', id))) FROM it_infile");
	char want[64];
	snprintf(want, sizeof(want), "50000:%ld:1", sum);
	cr_assert_str_eq(v, want);
	free(v);
	unlink(path);
	/* a file that does not exist: an error, and the session goes on */
	cr_assert_neq(mysql_query(m, "LOAD DATA LOCAL INFILE '/nonexistent/myring' "
				  "INTO TABLE it_infile"), 0);
	v = query_value(m, "SELECT COUNT(*) FROM it_infile");
	cr_assert_str_eq(v, "50000");
	free(v);
	query_ok(m, "DROP TABLE it_infile");
	mysql_close(m);
}
