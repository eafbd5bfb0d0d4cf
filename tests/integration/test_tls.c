/*
 * TLS on both legs and protocol compression, through myring instances of
 * the tests' own (the test CA is scripts/test-certs.sh's, made by
 * scripts/mariadb.sh in MARIADB_CERTS; the test MariaDB speaks TLS with
 * its server certificate).  The whole query corpus over TLS and
 * compression is the suite's "tls" run (scripts/test.sh); these tests
 * check what only TLS has: verification, client certificates,
 * --require-tls, hostile handshakes, certificate reload, and the login
 * exchanges that differ with TLS.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The suite runs once per proxy build; these tests start their own, so
 * the pooled and TLS runs (same binaries) skip them. */
static void only_once(void)
{
	const char *run = getenv("MYRING_RUN");
	if (run && (!strcmp(run, "pooled") || !strcmp(run, "tls")))
		cr_skip_test("runs in the normal and sanitizer runs");
}

static const char *cert(const char *name)
{
	static __thread char path[8][512];
	static __thread int next;
	char *p = path[next++ % 8];
	snprintf(p, 512, "%s/%s", env_or_fail("MARIADB_CERTS"), name);
	return p;
}

struct copts {
	const char *ca;          /* verify the server against it */
	const char *cert, *key;  /* client certificate */
	bool compress;
	bool no_tls;             /* refuse TLS (ssl-mode=DISABLED) */
	const char *user, *pw;
};

static MYSQL *tconnect(int port, const struct copts *o, char *err,
		       size_t errlen)
{
	MYSQL *m = mysql_init(NULL);
	unsigned int timeout = 30;
	my_bool yes = 1;

	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &yes);
	if (o->ca) {
		mysql_optionsv(m, MYSQL_OPT_SSL_CA, o->ca);
		mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
	}
	if (o->cert) {
		mysql_optionsv(m, MYSQL_OPT_SSL_CERT, o->cert);
		mysql_optionsv(m, MYSQL_OPT_SSL_KEY, o->key);
	}
	if (o->compress)
		mysql_optionsv(m, MYSQL_OPT_COMPRESS, NULL);
	if (!mysql_real_connect(m, "127.0.0.1", o->user ? o->user : "myring",
				o->pw ? o->pw : "myring-pw", "myring_test",
				(unsigned)port, NULL, CLIENT_MULTI_STATEMENTS)) {
		snprintf(err, errlen, "%u %s", mysql_errno(m), mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* The server's view of its own leg: "" when it is plaintext. */
static char *backend_tls_version(MYSQL *m)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	char *v = NULL;

	cr_assert_eq(mysql_query(m, "SHOW SESSION STATUS LIKE 'Ssl_version'"), 0,
		     "%s", mysql_error(m));
	r = mysql_store_result(m);
	row = mysql_fetch_row(r);
	v = strdup(row && row[1] ? row[1] : "");
	mysql_free_result(r);
	return v;
}

static void start_tls_proxy(struct proxy_proc *p, const char *const *extra)
{
	const char *args[24] = {
		"--tls-cert", cert("server.pem"), "--tls-key", cert("server-key.pem"),
	};
	int n = 4;
	for (; extra && *extra && n < 23; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	proxy_start(p, env_int("MARIADB_PORT"), args);
}

Test(tls, client_leg_verified_against_the_test_ca)
{
	only_once();
	struct proxy_proc p;
	char err[300];
	start_tls_proxy(&p, NULL);
	struct copts o = {.ca = cert("ca.pem")};
	MYSQL *m = tconnect(p.port, &o, err, sizeof(err));
	cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
	cr_assert_not_null(mysql_get_ssl_cipher(m), "the client leg is not TLS");
	char *v = query_value(m, "SELECT CONCAT('over ', 'tls')");
	cr_assert_str_eq(v, "over tls");
	free(v);
	/* The backend leg stays plaintext (no --backend-tls). */
	v = backend_tls_version(m);
	cr_assert_str_eq(v, "");
	free(v);
	mysql_close(m);

	/* A CA that did not sign myring's certificate refuses it. */
	o.ca = cert("other-ca.pem");
	cr_assert_null(tconnect(p.port, &o, err, sizeof(err)));
	/* And plaintext still works without --require-tls. */
	struct copts plain = {0};
	m = tconnect(p.port, &plain, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	cr_assert_null(mysql_get_ssl_cipher(m));
	mysql_close(m);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}

Test(tls, client_certificates_required_and_checked)
{
	only_once();
	struct proxy_proc p;
	char err[300];
	const char *extra[] = {"--tls-ca", cert("ca.pem"), "--tls-client-cert",
			       "required", NULL};
	start_tls_proxy(&p, extra);
	struct copts none = {.ca = cert("ca.pem")};
	cr_assert_null(tconnect(p.port, &none, err, sizeof(err)),
		       "a client without a certificate got in");
	struct copts foreign = {.ca = cert("ca.pem"), .cert = cert("other.pem"),
				.key = cert("other-key.pem")};
	cr_assert_null(tconnect(p.port, &foreign, err, sizeof(err)),
		       "a certificate from another CA got in");
	struct copts good = {.ca = cert("ca.pem"), .cert = cert("client.pem"),
			     .key = cert("client-key.pem")};
	MYSQL *m = tconnect(p.port, &good, err, sizeof(err));
	cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
	char *v = query_value(m, "SELECT 'with a client certificate'");
	cr_assert_str_eq(v, "with a client certificate");
	free(v);
	mysql_close(m);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}

Test(tls, require_tls_refuses_plaintext_logins)
{
	only_once();
	const char *modes[][8] = {
		{"--require-tls", NULL},
		{"--require-tls", "--auth", "proxy", "--user", "myring:myring-pw",
		 NULL},
	};
	for (int i = 0; i < 2; i++) {
		struct proxy_proc p;
		char err[300];
		start_tls_proxy(&p, modes[i]);
		struct copts plain = {0};
		MYSQL *m = tconnect(p.port, &plain, err, sizeof(err));
		cr_assert_null(m, "a plaintext login got in (%s)", modes[i][1] ?
			       "auth proxy" : "pass-through");
		cr_assert(strstr(err, "3159") && strstr(err, "insecure transport"),
			  "%s", err);
		struct copts tls = {.ca = cert("ca.pem")};
		m = tconnect(p.port, &tls, err, sizeof(err));
		cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
		mysql_close(m);
		cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
	}
}

Test(tls, backend_leg_verify_ca_and_identity)
{
	only_once();
	const char *const pools[][6] = {
		{NULL},
		{"--auth", "proxy", "--user", "myring:myring-pw", NULL},
	};
	for (int i = 0; i < 2; i++) {
		for (int mode = 0; mode < 2; mode++) {
			struct proxy_proc p;
			char err[300];
			const char *extra[12] = {
				"--backend-tls",
				mode ? "verify-identity" : "verify-ca",
				"--backend-tls-ca", cert("ca.pem"),
			};
			int n = 4;
			for (int k = 0; pools[i][k]; k++)
				extra[n++] = pools[i][k];
			extra[n] = NULL;
			start_tls_proxy(&p, extra);
			struct copts o = {.ca = cert("ca.pem"), .compress = true};
			MYSQL *m = tconnect(p.port, &o, err, sizeof(err));
			cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
			char *v = backend_tls_version(m);
			cr_assert(!strncmp(v, "TLSv1", 5),
				  "the backend leg is not TLS: '%s'", v);
			free(v);
			mysql_close(m);
			cr_assert_eq(proxy_stop(&p, 20000), 0, "%s",
				     proxy_log_tail(&p));
		}
		/* A CA that did not sign the server's certificate. */
		struct proxy_proc p;
		char err[300];
		const char *extra[10] = {"--backend-tls", "verify-ca",
					 "--backend-tls-ca", cert("other-ca.pem")};
		int n = 4;
		for (int k = 0; pools[i][k]; k++)
			extra[n++] = pools[i][k];
		extra[n] = NULL;
		start_tls_proxy(&p, extra);
		struct copts o = {0};
		cr_assert_null(tconnect(p.port, &o, err, sizeof(err)));
		cr_assert(strstr(err, "1429") &&
			  strstr(err, "certificate verify failed"), "%s", err);
		cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
	}
}

/*
 * Pooled connections go to every server of a group, and verify-identity
 * checks each server's certificate for that server's own name.  The test
 * MariaDB's certificate names localhost and 127.0.0.1: a primary reached
 * as [::ffff:127.0.0.1] (the same listener, through an IPv4-mapped IPv6
 * address) is not what it was issued to and must be refused, while
 * localhost passes.  Before each server's name was used, a proxy without
 * --backend checked no name at all and both got in.
 */
Test(tls, backend_identity_checked_for_each_server_of_a_group)
{
	only_once();
	const char *const names[] = {"localhost", "[::ffff:127.0.0.1]"};
	for (int i = 0; i < 2; i++) {
		struct proxy_proc p;
		char err[300], primary[300];
		snprintf(primary, sizeof(primary), "%s:%d", names[i],
			 env_int("MARIADB_PORT"));
		const char *args[] = {
			"--auth", "proxy", "--user", "myring:myring-pw",
			"--primary", primary, "--backend-tls", "verify-identity",
			"--backend-tls-ca", cert("ca.pem"), NULL,
		};
		proxy_start(&p, 0, args);
		struct copts o = {0};
		MYSQL *m = tconnect(p.port, &o, err, sizeof(err));
		if (i == 0) {
			cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
			char *v = backend_tls_version(m);
			cr_assert(!strncmp(v, "TLSv1", 5),
				  "the backend leg is not TLS: '%s'", v);
			free(v);
			mysql_close(m);
		} else {
			cr_assert_null(m, "a server reached by a name its "
				       "certificate does not carry was accepted");
			cr_assert(strstr(err, "1429") &&
				  strstr(err, "certificate verify failed"),
				  "%s\n%s", err, proxy_log_tail(&p));
		}
		cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
	}
}

/* ---- hostile handshakes ----------------------------------------------- */

static int raw_connect(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {5, 0};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads the greeting, sends an SSLRequest. */
static void start_ssl_request(int fd)
{
	uint8_t buf[4096], req[36] = {32, 0, 0, 1};
	uint32_t caps = 0x800 | 0x200 | 0x8000 | 0x80000; /* SSL, 41, secure */

	cr_assert_gt(recv(fd, buf, sizeof(buf), 0), 4);
	memcpy(req + 4, &caps, 4);
	req[12] = 45;
	cr_assert_eq(send(fd, req, sizeof(req), MSG_NOSIGNAL), 36);
}

/* True if the peer closes within 5 s (EOF or reset). */
static bool closed_soon(int fd)
{
	uint8_t buf[1024];
	for (int i = 0; i < 100; i++) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return true;
		if (r < 0)
			return false;
	}
	return false;
}

Test(tls, garbage_instead_of_a_client_hello, .timeout = 60)
{
	only_once();
	struct proxy_proc p;
	char err[300];
	start_tls_proxy(&p, NULL);
	for (int i = 0; i < 20; i++) {
		int fd = raw_connect(p.port);
		uint8_t junk[300];
		start_ssl_request(fd);
		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (uint8_t)(k * 37 + (size_t)i);
		send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
		cr_assert(closed_soon(fd), "myring kept a connection that sent "
			  "garbage for a ClientHello");
		close(fd);
	}
	/* The worker is unaffected. */
	struct copts o = {.ca = cert("ca.pem")};
	MYSQL *m = tconnect(p.port, &o, err, sizeof(err));
	cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
	mysql_close(m);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
	cr_assert(strstr(proxy_log_tail(&p), "TLS handshake"), "%s",
		  proxy_log_tail(&p));
}

Test(tls, client_vanishing_mid_handshake, .timeout = 60)
{
	only_once();
	struct proxy_proc p;
	char err[300];
	start_tls_proxy(&p, NULL);
	for (int i = 0; i < 50; i++) {
		int fd = raw_connect(p.port);
		/* A TLS record header promising a ClientHello, and a piece of
		 * it; then the client is gone. */
		static const uint8_t part[] = {0x16, 0x03, 0x01, 0x02, 0x00,
					       0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
		start_ssl_request(fd);
		send(fd, part, (size_t)(i % (int)sizeof(part)) + 1, MSG_NOSIGNAL);
		close(fd);
	}
	/* Still serving; the sanitizer build checks at exit that nothing
	 * the vanished handshakes held is left. */
	struct copts o = {.ca = cert("ca.pem"), .compress = true};
	MYSQL *m = tconnect(p.port, &o, err, sizeof(err));
	cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
	char *v = query_value(m, "SELECT COUNT(*) FROM seq_1_to_1000");
	cr_assert_str_eq(v, "1000");
	free(v);
	mysql_close(m);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}

/* ---- reload ----------------------------------------------------------- */

static void write_config(const char *path, int port, const char *crt,
			 const char *key, const char *more)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "backend: 127.0.0.1:%d\ntls-cert: %s\ntls-key: %s\n%s", port,
		crt, key, more);
	fclose(f);
}

Test(tls, sighup_reloads_the_certificate_without_dropping_connections,
     .timeout = 60)
{
	only_once();
	struct proxy_proc p;
	char err[300], conf[128];
	snprintf(conf, sizeof(conf), "/tmp/myring-itest-tls-%d.yaml", getpid());
	write_config(conf, env_int("MARIADB_PORT"), cert("server.pem"),
		     cert("server-key.pem"), "");
	const char *args[] = {"--config", conf, NULL};
	proxy_start(&p, env_int("MARIADB_PORT"), args);
	struct copts ours = {.ca = cert("ca.pem")};
	struct copts theirs = {.ca = cert("other-ca.pem")};
	MYSQL *old = tconnect(p.port, &ours, err, sizeof(err));
	cr_assert_not_null(old, "%s\n%s", err, proxy_log_tail(&p));
	cr_assert_null(tconnect(p.port, &theirs, err, sizeof(err)));

	write_config(conf, env_int("MARIADB_PORT"), cert("other.pem"),
		     cert("other-key.pem"), "");
	kill(p.pid, SIGHUP);
	MYSQL *m = NULL;
	for (int i = 0; i < 50 && !m; i++) {
		usleep(100000);
		m = tconnect(p.port, &theirs, err, sizeof(err));
	}
	cr_assert_not_null(m, "the new certificate is not served: %s\n%s", err,
			   proxy_log_tail(&p));
	mysql_close(m);
	cr_assert_null(tconnect(p.port, &ours, err, sizeof(err)),
		       "the old certificate is still served");
	/* The connection made before the reload goes on. */
	char *v = query_value(old, "SELECT 'still here'");
	cr_assert_str_eq(v, "still here");
	free(v);
	mysql_close(old);

	/* A broken certificate file changes nothing. */
	write_config(conf, env_int("MARIADB_PORT"), "/nonexistent.pem",
		     cert("other-key.pem"), "");
	kill(p.pid, SIGHUP);
	usleep(300000);
	m = tconnect(p.port, &theirs, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	mysql_close(m);
	cr_assert(strstr(proxy_log_tail(&p), "reload rejected"), "%s",
		  proxy_log_tail(&p));

	/* Sessions read require-tls and compression from the configuration
	 * they started with: a reload names them as needing a restart, and
	 * the running values stay (plaintext logins still get in). */
	write_config(conf, env_int("MARIADB_PORT"), cert("other.pem"),
		     cert("other-key.pem"), "require-tls: on\ncompression: off\n");
	kill(p.pid, SIGHUP);
	bool named = false;
	for (int i = 0; i < 50 && !named; i++) {
		usleep(100000);
		named = strstr(proxy_log_tail(&p), "require-tls, compression "
			       "settings") != NULL;
	}
	cr_assert(named, "the reload did not name require-tls and compression "
		  "as needing a restart:\n%s", proxy_log_tail(&p));
	struct copts plain = {0};
	m = tconnect(p.port, &plain, err, sizeof(err));
	cr_assert_not_null(m, "require-tls took effect without a restart: %s",
			   err);
	mysql_close(m);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
	unlink(conf);
}

/* ---- logins ----------------------------------------------------------- */

Test(tls, ed25519_user_over_tls_on_both_legs)
{
	only_once();
	if (env_int("MARIADB_HAVE_ED25519") != 1)
		cr_skip_test("the test MariaDB has no ed25519 plugin");
	struct proxy_proc p;
	char err[300];
	const char *extra[] = {"--backend-tls", "verify-ca", "--backend-tls-ca",
			       cert("ca.pem"), NULL};
	start_tls_proxy(&p, extra);
	struct copts o = {.ca = cert("ca.pem"), .user = "myring_ed",
			  .pw = "ed-pw"};
	MYSQL *m = tconnect(p.port, &o, err, sizeof(err));
	cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
	char *v = query_value(m, "SELECT CURRENT_USER()");
	cr_assert_str_eq(v, "myring_ed@127.0.0.1");
	free(v);
	mysql_close(m);
	/* A plaintext client in front of a TLS backend leg: the login is
	 * renumbered across the legs. */
	o = (struct copts){.user = "myring_ed", .pw = "ed-pw", .compress = true};
	m = tconnect(p.port, &o, err, sizeof(err));
	cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
	mysql_close(m);
	o.pw = "wrong";
	cr_assert_null(tconnect(p.port, &o, err, sizeof(err)));
	cr_assert(strstr(err, "1045"), "%s", err);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}

/*
 * caching_sha2_password (MySQL 8's default) against a scripted server:
 * MariaDB has no server side for it.  The server asks for full
 * authentication (0x01 0x04); a client on a TLS leg would answer with its
 * password in clear, which myring must not relay over a plaintext leg.
 */
struct sha2_fake {
	int listen_fd;
	int port;
	int after;             /* bytes the server got after asking */
};

static void put3(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16);
}

/* Serves one connection; false if it left before its handshake response
 * (proxy_start's probe makes myring connect once for nothing). */
static bool sha2_serve(struct sha2_fake *f, int fd)
{
	uint8_t g[160], *q = g, pkt[4 + 160], buf[4096];
	uint32_t caps = 0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000 |
			0x100000 | 0x200000;
	struct timeval tv = {5, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*q++ = 10;
	memcpy(q, "8.0.40-fake", 12), q += 12;
	memset(q, 0, 4), q += 4;
	memcpy(q, "abcdefgh", 8), q += 8;
	*q++ = 0;
	*q++ = (uint8_t)caps, *q++ = (uint8_t)(caps >> 8);
	*q++ = 255;
	*q++ = 2, *q++ = 0;
	*q++ = (uint8_t)(caps >> 16), *q++ = (uint8_t)(caps >> 24);
	*q++ = 21;
	memset(q, 0, 10), q += 10;
	memcpy(q, "ijklmnopqrst", 13), q += 13;
	memcpy(q, "caching_sha2_password", 22), q += 22;
	put3(pkt, (uint32_t)(q - g));
	pkt[3] = 0;
	memcpy(pkt + 4, g, (size_t)(q - g));
	send(fd, pkt, 4 + (size_t)(q - g), MSG_NOSIGNAL);
	/* The handshake response, then "perform full authentication". */
	ssize_t r = recv(fd, buf, sizeof(buf), 0);
	if (r <= 4) {
		close(fd);
		return false;
	}
	static const uint8_t full[] = {2, 0, 0, 2, 0x01, 0x04};
	send(fd, full, sizeof(full), MSG_NOSIGNAL);
	int got = 0;
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		got += (int)r;
	f->after = got;
	close(fd);
	return true;
}

static void *sha2_server(void *arg)
{
	struct sha2_fake *f = arg;

	f->after = -1;
	for (int i = 0; i < 5; i++) {
		int fd = accept(f->listen_fd, NULL, NULL);
		if (fd < 0 || sha2_serve(f, fd))
			break;
	}
	return NULL;
}

Test(tls, caching_sha2_full_auth_never_crosses_a_plaintext_leg)
{
	only_once();
	struct sha2_fake f = {0};
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	pthread_t t;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(f.listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(f.listen_fd, 4), 0);
	getsockname(f.listen_fd, (struct sockaddr *)&a, &alen);
	f.port = ntohs(a.sin_port);
	pthread_create(&t, NULL, sha2_server, &f);

	struct proxy_proc p;
	char err[300];
	const char *args[] = {"--tls-cert", cert("server.pem"), "--tls-key",
			      cert("server-key.pem"), NULL};
	proxy_start(&p, f.port, args);
	struct copts o = {.ca = cert("ca.pem"), .pw = "a-secret-password"};
	MYSQL *m = tconnect(p.port, &o, err, sizeof(err));
	cr_assert_null(m, "the login went through");
	cr_assert(strstr(err, "1045") && strstr(err, "in clear"), "%s", err);
	pthread_join(t, NULL);
	close(f.listen_fd);
	cr_assert_eq(f.after, 0, "the server received %d byte(s) after asking "
		     "for the password", f.after);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
}

/* ---- compression ------------------------------------------------------ */

Test(tls, compressed_legs_in_every_combination, .timeout = 120)
{
	only_once();
	const char *const legs[][8] = {
		{"--backend-compression", "off", NULL},
		{"--backend-compression", "on", NULL},
		{"--auth", "proxy", "--user", "myring:myring-pw", NULL},
	};
	char path[128];
	snprintf(path, sizeof(path), "/tmp/myring-itest-infile-%d.tsv", getpid());
	FILE *fp = fopen(path, "w");
	for (int i = 1; i <= 50000; i++)
		fprintf(fp, "%d\tline %d of a file sent with LOAD DATA LOCAL\n", i, i);
	fclose(fp);
	for (int i = 0; i < 3; i++) {
		for (int client = 0; client < 2; client++) {
			struct proxy_proc p;
			char err[300], q[300];
			start_tls_proxy(&p, legs[i]);
			struct copts o = {.compress = client == 1,
					  .ca = client ? cert("ca.pem") : NULL};
			MYSQL *m = tconnect(p.port, &o, err, sizeof(err));
			cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&p));
			query_ok(m, "DROP TABLE IF EXISTS it_zinfile");
			query_ok(m, "CREATE TABLE it_zinfile (a INT, b TEXT)");
			snprintf(q, sizeof(q), "LOAD DATA LOCAL INFILE '%s' INTO "
				 "TABLE it_zinfile", path);
			query_ok(m, q);
			char *v = query_value(m, "SELECT CONCAT(COUNT(*), ' ', "
					      "SUM(a)) FROM it_zinfile");
			cr_assert_str_eq(v, "50000 1250025000", "legs %d client %d",
					 i, client);
			free(v);
			/* Several results in one response, then one of 8 MiB. */
			v = query_value(m, "SELECT MD5(GROUP_CONCAT(b ORDER BY a "
					"SEPARATOR '')) FROM it_zinfile WHERE a < 2000");
			cr_assert_not_null(v);
			free(v);
			query_ok(m, "SELECT 1; SELECT 2; SELECT REPEAT('z', 8388608)");
			mysql_close(m);
			cr_assert_eq(proxy_stop(&p, 20000), 0, "%s",
				     proxy_log_tail(&p));
		}
	}
	unlink(path);
}
