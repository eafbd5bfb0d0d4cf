/*
 * Backends reached over their Unix socket (--backend unix:/PATH): the
 * cheaper leg when the server runs on the proxy's host.  The server tells
 * the two transports apart in its process list (a TCP client shows as
 * "127.0.0.1:port", a socket client as "localhost"), which is how these
 * tests know which one myring used.
 */
#include <criterion/criterion.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const char *socket_backend(char *out, size_t outlen)
{
	snprintf(out, outlen, "unix:%s", env_or_fail("MARIADB_SOCKET"));
	return out;
}

/* The host the server sees for the connection this query runs on.  The
 * row is found by the query's own text, not CONNECTION_ID(): pooled
 * sessions see an id of myring's, not the server connection's. */
static char *server_side_host(MYSQL *m)
{
	return query_value(m, "SELECT host FROM information_schema.processlist "
			      "WHERE info LIKE '%unix-test-marker%' LIMIT 1");
}

Test(unix_backend, relays_text_prepared_and_large_results_over_the_socket,
     .timeout = 60)
{
	struct proxy_proc p;
	char backend[160], err[512];
	const char *args[] = {"--backend", socket_backend(backend, sizeof(backend)),
			      NULL};

	proxy_start(&p, 0, args);
	MYSQL *m = connect_port(p.port, "myring", "myring-pw", "myring_test", 0,
				err, sizeof(err));
	cr_assert_not_null(m, "%s / %s", err, proxy_log_tail(&p));
	char *host = server_side_host(m);
	cr_assert_str_eq(host, "localhost", "the server saw a TCP client: %s", host);
	free(host);
	cr_assert_eq(query_long(m, "SELECT 6 * 7"), 42);

	/* A result larger than the receive buffers, byte for byte. */
	cr_assert_eq(query_long(m, "SELECT LENGTH(REPEAT('ab', 1 << 20))"), 2 << 20);
	cr_assert_eq(mysql_query(m, "SELECT MD5(REPEAT('ab', 1 << 20)), "
				 "REPEAT('ab', 1 << 20)"), 0, "%s", mysql_error(m));
	MYSQL_RES *r = mysql_store_result(m);
	MYSQL_ROW row = mysql_fetch_row(r);
	unsigned long *len = mysql_fetch_lengths(r);
	cr_assert_eq(len[1], 2ul << 20);
	for (unsigned long i = 0; i < len[1]; i++)
		if (row[1][i] != (i % 2 ? 'b' : 'a'))
			cr_assert_fail("byte %lu differs", i);
	mysql_free_result(r);

	/* The binary protocol. */
	MYSQL_STMT *st = mysql_stmt_init(m);
	const char *sql = "SELECT ? + 1";
	cr_assert_eq(mysql_stmt_prepare(st, sql, strlen(sql)), 0, "%s",
		     mysql_stmt_error(st));
	long long in = 41, out = 0;
	MYSQL_BIND b = {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = &in};
	MYSQL_BIND o = {.buffer_type = MYSQL_TYPE_LONGLONG, .buffer = &out};
	cr_assert_eq(mysql_stmt_bind_param(st, &b), 0);
	cr_assert_eq(mysql_stmt_execute(st), 0, "%s", mysql_stmt_error(st));
	cr_assert_eq(mysql_stmt_bind_result(st, &o), 0);
	cr_assert_eq(mysql_stmt_fetch(st), 0);
	cr_assert_eq(out, 42);
	mysql_stmt_close(st);
	mysql_close(m);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}

Test(unix_backend, pooled_connections_use_the_socket, .timeout = 60)
{
	struct proxy_proc p;
	char backend[160], err[512];
	const char *args[] = {"--backend", socket_backend(backend, sizeof(backend)),
			      "--auth", "proxy", "--user", "myring:myring-pw",
			      "--pool", "transaction", "--threads", "1", NULL};

	proxy_start(&p, 0, args);
	for (int i = 0; i < 3; i++) {
		MYSQL *m = connect_port(p.port, "myring", "myring-pw",
					"myring_test", 0, err, sizeof(err));
		cr_assert_not_null(m, "%s / %s", err, proxy_log_tail(&p));
		char *host = server_side_host(m);
		cr_assert_str_eq(host, "localhost", "pooled connection over TCP: %s",
				 host);
		free(host);
		cr_assert_eq(query_long(m, "SELECT 1 + 1"), 2);
		mysql_close(m);
	}
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}

Test(unix_backend, a_missing_socket_is_an_error_naming_it, .timeout = 60)
{
	struct proxy_proc p;
	char backend[160], err[512];

	snprintf(backend, sizeof(backend), "unix:/tmp/myring-no-such-%d.sock",
		 (int)getpid());
	const char *args[] = {"--backend", backend, NULL};

	proxy_start(&p, 0, args);
	for (int i = 0; i < 2; i++) {
		MYSQL *m = connect_port(p.port, "myring", "myring-pw", NULL, 0,
					err, sizeof(err));
		cr_assert_null(m, "connected through a missing socket");
		cr_assert(strstr(err, backend + 5), "names the socket: %s", err);
	}
	/* The worker carries on: it still answers and stops cleanly. */
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}

Test(unix_backend, a_group_primary_is_checked_and_used_over_the_socket,
     .timeout = 60)
{
	struct proxy_proc p;
	char primary[160], err[512];
	const char *args[] = {"--primary", socket_backend(primary, sizeof(primary)),
			      "--auth", "proxy", "--user", "myring:myring-pw",
			      "--threads", "1", NULL};

	proxy_start(&p, 0, args);
	/* Writes wait for the health check to find the primary (read_only 0
	 * over the same socket). */
	MYSQL *m = NULL;
	for (int i = 0; i < 100 && !m; i++) {
		m = connect_port(p.port, "myring", "myring-pw", "myring_test", 0,
				 err, sizeof(err));
		if (m && mysql_query(m, "CREATE TABLE IF NOT EXISTS unix_t (i INT)")) {
			mysql_close(m);
			m = NULL;
			usleep(100 * 1000);
		}
	}
	cr_assert_not_null(m, "%s / %s", err, proxy_log_tail(&p));
	query_ok(m, "INSERT INTO unix_t VALUES (7)");
	cr_assert_geq(query_long(m, "SELECT COUNT(*) FROM unix_t WHERE i = 7"), 1);
	char *host = server_side_host(m);
	cr_assert_str_eq(host, "localhost", "the primary was reached over TCP: %s",
			 host);
	free(host);
	query_ok(m, "DROP TABLE unix_t");
	mysql_close(m);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}

/* TLS needs no TCP: the server offers it on its socket too, and a socket
 * backend's certificate is checked for "localhost". */
Test(unix_backend, tls_to_the_server_over_its_socket, .timeout = 60)
{
	struct proxy_proc p;
	char backend[160], ca[512], err[512];
	const char *args[] = {"--backend", socket_backend(backend, sizeof(backend)),
			      "--backend-tls", "verify-identity",
			      "--backend-tls-ca", ca, NULL};

	snprintf(ca, sizeof(ca), "%s/ca.pem", env_or_fail("MARIADB_CERTS"));
	proxy_start(&p, 0, args);
	MYSQL *m = connect_port(p.port, "myring", "myring-pw", "myring_test", 0,
				err, sizeof(err));
	cr_assert_not_null(m, "%s / %s", err, proxy_log_tail(&p));
	cr_assert_eq(mysql_query(m, "SHOW SESSION STATUS LIKE 'Ssl_cipher'"), 0,
		     "%s", mysql_error(m));
	MYSQL_RES *r = mysql_store_result(m);
	MYSQL_ROW row = mysql_fetch_row(r);
	cr_assert(row && row[1] && row[1][0], "the server leg is not encrypted");
	mysql_free_result(r);
	char *host = server_side_host(m);
	cr_assert_str_eq(host, "localhost", "TLS over TCP, not the socket: %s", host);
	free(host);
	mysql_close(m);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}
