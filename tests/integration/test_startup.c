/*
 * Start-up and the connection phase as a new user meets them: exit
 * statuses and messages, ports that another process holds, --check-config
 * agreeing with a start, and a backend that accepts but never greets.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RUN_MS 20000

static int run(char *out, size_t outlen, const char *const *args)
{
	return myring_run(args, out, outlen, RUN_MS);
}

/* A listening socket on a free loopback port, as another program would
 * hold it; reuseport: with SO_REUSEPORT, which lets a careless second
 * process join it. */
static int hold_port(int *port, bool reuseport)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 16), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

static char *addr(char *buf, int port)
{
	sprintf(buf, "127.0.0.1:%d", port);
	return buf;
}

Test(startup, short_help_and_version_flags)
{
	char out[16384];

	cr_assert_eq(run(out, sizeof(out), (const char *[]){"-h", NULL}), 0, "%s", out);
	cr_assert(strstr(out, "Usage: myring"), "%s", out);
	cr_assert(strstr(out, "--config FILE"), "--help explains the config file");
	cr_assert(strstr(out, "Exit status"), "--help gives the exit statuses");
	cr_assert_eq(run(out, sizeof(out), (const char *[]){"-V", NULL}), 0, "%s", out);
	cr_assert_eq(strncmp(out, "myring ", 7), 0, "%s", out);
}

Test(startup, bad_cpus_are_a_config_error_naming_the_cpu)
{
	char out[16384], b[32];
	const char *nonexistent[] = {"--listen", "127.0.0.1:1", "--backend",
				     addr(b, env_int("MARIADB_PORT")),
				     "--cpus", "99", NULL};
	const char *repeated[] = {"--listen", "127.0.0.1:1", "--backend", b,
				  "--cpus", "0,0", NULL};

	cr_assert_eq(run(out, sizeof(out), nonexistent), 2, "%s", out);
	cr_assert(strstr(out, "myring: --cpus: CPU 99 does not exist"), "%s", out);
	cr_assert_eq(run(out, sizeof(out), repeated), 2, "%s", out);
	cr_assert(strstr(out, "myring: --cpus: CPU 0 is listed twice"), "%s", out);
}

Test(startup, addresses_of_one_config_must_not_collide)
{
	char out[16384], l[32], b[32];
	int port = free_port();
	const char *admin_on_listen[] = {"--listen", addr(l, port), "--backend",
					 addr(b, env_int("MARIADB_PORT")),
					 "--admin", l, NULL};
	const char *metrics_on_wildcard[] = {"--listen", "0.0.0.0:1", "--backend",
					     b, "--metrics", "127.0.0.1:1", NULL};

	cr_assert_eq(run(out, sizeof(out), admin_on_listen), 2, "%s", out);
	cr_assert(strstr(out, "myring: --admin") && strstr(out, "share a port"),
		  "%s", out);
	cr_assert_eq(run(out, sizeof(out), metrics_on_wildcard), 2, "%s", out);
	cr_assert(strstr(out, "share a port"), "%s", out);
}

Test(startup, a_port_another_process_listens_on_is_refused)
{
	char out[16384], l[32], b[32];
	int port;
	int fd = hold_port(&port, true);
	const char *args[] = {"--listen", addr(l, port), "--backend",
			      addr(b, env_int("MARIADB_PORT")), NULL};

	/* With SO_REUSEPORT on both sides the kernel would let myring join
	 * and split the connections of that port with the other program. */
	cr_assert_eq(run(out, sizeof(out), args), 3, "%s", out);
	cr_assert(strstr(out, "myring: --listen") &&
		  strstr(out, "another process listens"), "%s", out);
	close(fd);
}

struct login_arg {
	int port;
	const char *user, *pw;
	int ok;
	char err[256];
};

static void *login_and_query(void *p)
{
	struct login_arg *a = p;
	MYSQL *m = connect_port(a->port, a->user, a->pw, NULL, 0, a->err,
				sizeof(a->err));

	if (m) {
		a->ok = mysql_query(m, "SELECT 1") == 0;
		if (!a->ok)
			snprintf(a->err, sizeof(a->err), "%s", mysql_error(m));
		mysql_close(m);
	}
	return NULL;
}

/* Every one of n logins (with the right credentials) reaches this proxy. */
static void all_logins_succeed(int port, const char *user, const char *pw,
			       int n)
{
	pthread_t th[20];
	struct login_arg a[20];

	for (int i = 0; i < n; i++) {
		a[i] = (struct login_arg){.port = port, .user = user, .pw = pw};
		pthread_create(&th[i], NULL, login_and_query, &a[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		cr_assert(a[i].ok, "login %d as %s on port %d: %s", i, user,
			  port, a[i].err);
	}
}

Test(startup, a_second_instance_cannot_take_the_first_ones_ports, .timeout = 120)
{
	struct proxy_proc p;
	char out[16384], admin[32], metrics[32], l[32], b[32], conf[64];
	int admin_port = free_port(), metrics_port;

	do
		metrics_port = free_port();
	while (metrics_port == admin_port);
	snprintf(conf, sizeof(conf), "/tmp/myring-startup-%d.yaml", admin_port);
	FILE *f = fopen(conf, "w");
	fprintf(f, "admin-user: admin\nadmin-password: startup-pw\n");
	fclose(f);
	const char *args[] = {"--config", conf, "--admin", addr(admin, admin_port),
			      "--metrics", addr(metrics, metrics_port), NULL};
	proxy_start(&p, env_int("MARIADB_PORT"), args);
	addr(b, env_int("MARIADB_PORT"));

	/* The issue as reported: a second start with --metrics on the first's
	 * proxy port and --admin on its admin port. */
	const char *metrics_on_proxy[] = {"--listen", addr(l, free_port()),
					  "--backend", b, "--metrics",
					  addr(metrics, p.port), NULL};
	cr_assert_eq(run(out, sizeof(out), metrics_on_proxy), 3, "%s", out);
	cr_assert(strstr(out, "myring: --metrics"), "%s", out);
	const char *admin_on_admin[] = {"--listen", addr(l, free_port()),
					"--backend", b, "--admin",
					addr(admin, admin_port), NULL};
	cr_assert_eq(run(out, sizeof(out), admin_on_admin), 3, "%s", out);
	cr_assert(strstr(out, "myring: --admin"), "%s", out);
	const char *listen_on_proxy[] = {"--listen", addr(l, p.port), "--backend",
					 b, NULL};
	cr_assert_eq(run(out, sizeof(out), listen_on_proxy), 3, "%s", out);
	cr_assert(strstr(out, "myring: --listen"), "%s", out);

	/* And nothing of the first one's traffic went astray. */
	all_logins_succeed(p.port, "myring", "myring-pw", 20);
	all_logins_succeed(admin_port, "admin", "startup-pw", 20);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
	unlink(conf);
}

Test(startup, check_config_fails_where_a_start_would)
{
	char out[16384], b[32];
	const char *example = "docs/examples/myring.yaml";
	const char *bare[] = {"--check-config", example, NULL};
	const char *unresolvable[] = {"--check-config", example, "--listen",
				      "127.0.0.1:1", "--backend",
				      "db1.invalid:3306", NULL};
	const char *bad_cpu[] = {"--check-config", example, "--listen",
				 "127.0.0.1:1", "--backend",
				 addr(b, env_int("MARIADB_PORT")), "--cpus", "99",
				 NULL};
	const char *good[] = {"--check-config", example, "--listen",
			      "127.0.0.1:1", "--backend", b, NULL};

	cr_assert_eq(access(example, R_OK), 0, "run from the repository root");
	/* The example itself names listen and backend, so it checks OK on
	 * its own and also starts on its own. */
	cr_assert_eq(run(out, sizeof(out), bare), 0, "%s", out);
	cr_assert_eq(run(out, sizeof(out), unresolvable), 2, "%s", out);
	cr_assert(strstr(out, "myring: --backend: cannot resolve 'db1.invalid'"),
		  "%s", out);
	cr_assert_eq(run(out, sizeof(out), bad_cpu), 2, "%s", out);
	cr_assert(strstr(out, "CPU 99 does not exist"), "%s", out);
	cr_assert_eq(run(out, sizeof(out), good), 0, "%s", out);
	cr_assert(strstr(out, ": OK ("), "%s", out);
	cr_assert(strstr(out, "left to start-up"), "says what it did not check: %s",
		  out);
}

/* A keyspace is validated by --check-config as by a start: a shard that
 * names no group, or a keyspace without --auth proxy, fails it. */
Test(startup, check_config_validates_the_keyspace)
{
	char out[16384], conf[128];
	const char *check[] = {"--check-config", conf, "--listen",
			       "127.0.0.1:1", NULL};
	const char *passthrough[] = {"--check-config", conf, "--listen",
				     "127.0.0.1:1", "--auth", "passthrough",
				     NULL};
	static const char groups[] =
		"auth: proxy\n"
		"user: myring:myring-pw\n"
		"groups:\n"
		"  - name: g0\n"
		"    servers: ['127.0.0.1:3306']\n"
		"  - name: g1\n"
		"    servers: ['127.0.0.1:3307']\n"
		"keyspace:\n"
		"  schema: shop\n";
	FILE *f;

	snprintf(conf, sizeof(conf), "/tmp/myring-itest-ks-%d.yaml", getpid());
	f = fopen(conf, "w");
	cr_assert(f);
	fprintf(f, "%s  shards: [g0, g2]\n", groups);
	fclose(f);
	cr_assert_eq(run(out, sizeof(out), check), 2, "%s", out);
	cr_assert(strstr(out, ":10: keyspace: shard 'g2': group: unknown "
			 "backend group 'g2' (did you mean 'g0'?)"), "%s", out);

	f = fopen(conf, "w");
	cr_assert(f);
	fprintf(f, "%s  shards: [g0, g1]\n  tables:\n"
		"    - name: orders\n      key: id\n", groups);
	fclose(f);
	cr_assert_eq(run(out, sizeof(out), check), 0, "%s", out);
	cr_assert(strstr(out, ": OK ("), "%s", out);
	cr_assert(strstr(out, "keyspace shop: 2 shard(s), 1 table(s)"), "%s",
		  out);
	cr_assert_eq(run(out, sizeof(out), passthrough), 2, "%s", out);
	cr_assert(strstr(out, "the keyspace needs --auth proxy"), "%s", out);
	unlink(conf);
}

Test(startup, a_backend_that_never_greets_gets_1429_in_time, .timeout = 60)
{
	struct proxy_proc p;
	char err[512], want[64];
	int port;
	/* The kernel completes the TCP handshake from the backlog: connects
	 * succeed, and not one byte ever comes. */
	int fd = hold_port(&port, false);
	const char *args[] = {"--connect-timeout", "700", NULL};

	proxy_start(&p, port, args);
	uint64_t t0 = now_ms();
	MYSQL *m = connect_port(p.port, "myring", "myring-pw", NULL, 0, err,
				sizeof(err));
	uint64_t took = now_ms() - t0;
	cr_assert_null(m);
	cr_assert(strstr(err, "1429") && strstr(err, "no greeting within 700 ms"),
		  "got: %s", err);
	cr_assert(strstr(err, addr(want, port)), "names the backend: %s", err);
	cr_assert_lt(took, 10000, "the client was answered (%llu ms), not left "
		     "to its own timeout", (unsigned long long)took);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
	cr_assert(strstr(proxy_log_tail(&p), "no greeting within 700 ms"),
		  "logged: %s", proxy_log_tail(&p));
	close(fd);
}

static void *reset_every_connection(void *arg)
{
	int lfd = *(int *)arg;
	struct linger lg = {1, 0};

	for (;;) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		/* Linger 0: close sends a reset, not a FIN. */
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c);
	}
}

Test(startup, a_reset_before_the_greeting_is_reported_as_such, .timeout = 60)
{
	struct proxy_proc p;
	pthread_t th;
	char err[512];
	int port;
	int fd = hold_port(&port, false);

	pthread_create(&th, NULL, reset_every_connection, &fd);
	proxy_start(&p, port, NULL);
	MYSQL *m = connect_port(p.port, "myring", "myring-pw", NULL, 0, err,
				sizeof(err));
	cr_assert_null(m);
	cr_assert(strstr(err, "1429") && strstr(err, "before its greeting"),
		  "got: %s", err);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
	const char *log = proxy_log_tail(&p);
	cr_assert(strstr(log, "before its greeting"), "logged: %s", log);
	cr_assert_null(strstr(log, "during the command"), "not as a command: %s",
		       log);
	shutdown(fd, SHUT_RDWR);
	close(fd);
	pthread_join(th, NULL);
}
