/*
 * Users from the config file (auth: proxy, users:): a user given only by
 * the hash the server stores logs in through myring, and myring logs in
 * to the server with what that login revealed; a user with a backend
 * login of its own is that other account on the server; an ed25519 user
 * given by its stored key logs in with the backend password the config
 * adds, and without one the config is refused before anything starts.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct users_proxy {
	struct proxy_proc p;
	char path[64];
};

/* A server account of this suite's own (tests run side by side). */
static void server_user(MYSQL *d, const char *user, const char *how)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "CREATE OR REPLACE USER '%s'@'127.0.0.1' %s",
		 user, how);
	query_ok(d, sql);
	snprintf(sql, sizeof(sql), "GRANT ALL ON myring_test.* TO "
		 "'%s'@'127.0.0.1'", user);
	query_ok(d, sql);
}

/* What the server stores for user, as docs/config.md says to get it. */
static char *stored_of(MYSQL *d, const char *user)
{
	char sql[256], *v;

	snprintf(sql, sizeof(sql), "SELECT authentication_string FROM mysql.user "
		 "WHERE user = '%s' AND host = '127.0.0.1'", user);
	v = query_value(d, sql);
	cr_assert_not_null(v, "no mysql.user row for %s", user);
	return v;
}

static void write_config(char path[64], const char *yaml)
{
	int fd;

	snprintf(path, 64, "/tmp/myring-users-XXXXXX.yaml");
	fd = mkstemps(path, 5);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
}

/* myring with the users of yaml (which says auth: proxy itself). */
static void users_start(struct users_proxy *up, const char *yaml)
{
	const char *args[] = {"--config", up->path, "--threads", "1", NULL};

	write_config(up->path, yaml);
	proxy_start(&up->p, env_int("MARIADB_PORT"), args);
}

static void users_stop(struct users_proxy *up)
{
	proxy_stop(&up->p, 10000);
	unlink(up->path);
}

static MYSQL *login(const struct users_proxy *up, const char *user,
		    const char *pw, char *err, size_t errlen)
{
	return connect_port(up->p.port, user, pw, "myring_test", 0, err, errlen);
}

/* The refusal the server itself gives (user, pw) on a direct login. */
static void direct_refusal(const char *user, const char *pw, char *err,
			   size_t errlen)
{
	MYSQL *m = connect_port(env_int("MARIADB_PORT"), user, pw,
				"myring_test", 0, err, errlen);

	cr_assert_null(m, "the server let %s in with a wrong password", user);
}

static int server_conns(MYSQL *d, const char *user)
{
	char sql[256], *v;
	int n;

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM "
		 "information_schema.PROCESSLIST WHERE USER = '%s'", user);
	v = query_value(d, sql);
	n = v ? atoi(v) : -1;
	free(v);
	return n;
}

static void expect_value(MYSQL *m, const char *sql, const char *want)
{
	char *v = query_value(m, sql);

	cr_assert_not_null(v, "%s: no value", sql);
	cr_assert_str_eq(v, want, "%s", sql);
	free(v);
}

/* mysql_native_password with only the server's hash: myring checks the
 * client against the hash, and the client's answer gives myring what it
 * needs to log in to the server as that user. */
Test(users, a_native_user_given_by_its_stored_hash_logs_in, .timeout = 60)
{
	struct users_proxy up;
	MYSQL *d = direct_connect(), *a, *b;
	char yaml[512], err[256], want[256], *stored, *computed;

	server_user(d, "myring_u_hash", "IDENTIFIED BY 'hash-pw'");
	stored = stored_of(d, "myring_u_hash");
	computed = query_value(d, "SELECT PASSWORD('hash-pw')");
	cr_assert_str_eq(stored, computed);
	cr_assert_eq(stored[0], '*');
	snprintf(yaml, sizeof(yaml), "auth: proxy\nusers:\n"
		 "  - name: myring_u_hash\n    stored: '%s'\n", stored);
	users_start(&up, yaml);

	/* A wrong password gets the server's own answer, word for word. */
	cr_assert_null(login(&up, "myring_u_hash", "wrong", err, sizeof(err)));
	direct_refusal("myring_u_hash", "wrong", want, sizeof(want));
	cr_assert_str_eq(err, want);
	cr_assert(!strncmp(err, "1045 ", 5), "%s", err);
	/* myring knows only the hash: it has not logged in as the user.  (The
	 * direct refusal above may linger a moment in the processlist.) */
	for (int i = 0; i < 40 && server_conns(d, "myring_u_hash"); i++)
		usleep(50 * 1000);
	cr_assert_eq(server_conns(d, "myring_u_hash"), 0);

	a = login(&up, "myring_u_hash", "hash-pw", err, sizeof(err));
	cr_assert_not_null(a, "%s\n%s", err, proxy_log_tail(&up.p));
	expect_value(a, "SELECT CURRENT_USER()", "myring_u_hash@127.0.0.1");
	expect_value(a, "SELECT DATABASE()", "myring_test");
	query_ok(a, "CREATE TEMPORARY TABLE users_t (v INT)");
	query_ok(a, "INSERT INTO users_t VALUES (20), (22)");
	expect_value(a, "SELECT SUM(v) FROM users_t", "42");
	cr_assert_geq(server_conns(d, "myring_u_hash"), 1);

	/* Another client of the same user, and a wrong password still
	 * refused after a right one. */
	b = login(&up, "myring_u_hash", "hash-pw", err, sizeof(err));
	cr_assert_not_null(b, "%s", err);
	expect_value(b, "SELECT CURRENT_USER()", "myring_u_hash@127.0.0.1");
	cr_assert_null(login(&up, "myring_u_hash", "hash-pW", err, sizeof(err)));
	cr_assert(!strncmp(err, "1045 ", 5), "%s", err);
	expect_value(a, "SELECT SUM(v) FROM users_t", "42");

	mysql_close(b);
	mysql_close(a);
	free(stored);
	free(computed);
	users_stop(&up);
	mysql_close(d);
}

/* backend-user / backend-password: the client logs in to myring as
 * itself (an account the server does not have), and the server sees the
 * backend account.  The client's user is given by its hash, so that what
 * its login reveals could be mistaken for the backend's secret. */
Test(users, a_backend_login_of_its_own, .timeout = 60)
{
	struct users_proxy up;
	MYSQL *d = direct_connect(), *m;
	char yaml[512], err[256], *front;

	server_user(d, "myring_u_rw", "IDENTIFIED BY 'rw-pw'");
	query_ok(d, "DROP USER IF EXISTS 'myring_u_front'@'127.0.0.1'");
	front = query_value(d, "SELECT PASSWORD('front-pw')");
	snprintf(yaml, sizeof(yaml), "auth: proxy\nusers:\n"
		 "  - name: myring_u_front\n"
		 "    stored: '%s'\n"
		 "    backend-user: myring_u_rw\n"
		 "    backend-password: rw-pw\n", front);
	free(front);
	users_start(&up, yaml);

	m = login(&up, "myring_u_front", "front-pw", err, sizeof(err));
	cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&up.p));
	expect_value(m, "SELECT CURRENT_USER()", "myring_u_rw@127.0.0.1");
	expect_value(m, "SELECT SUBSTRING_INDEX(USER(), '@', 1)", "myring_u_rw");
	cr_assert_geq(server_conns(d, "myring_u_rw"), 1);
	cr_assert_eq(server_conns(d, "myring_u_front"), 0);
	mysql_close(m);

	/* myring checks the client's own password, not the backend's. */
	cr_assert_null(login(&up, "myring_u_front", "rw-pw", err, sizeof(err)));
	cr_assert_str_eq(err, "1045 Access denied for user "
			 "'myring_u_front'@'127.0.0.1' (using password: YES)");
	/* The backend account is no user of myring's. */
	cr_assert_null(login(&up, "myring_u_rw", "rw-pw", err, sizeof(err)));
	cr_assert(!strncmp(err, "1045 ", 5), "%s", err);

	users_stop(&up);
	mysql_close(d);
}

static bool have_ed25519(void)
{
	const char *have = getenv("MARIADB_HAVE_ED25519");

	return have && *have == '1';
}

/* ed25519 by the key the server stores: myring checks the client's
 * signature against it, and logs in to the server with the backend
 * password the config gives (an ed25519 login reveals nothing). */
Test(users, ed25519_given_by_its_stored_key, .timeout = 60)
{
	struct users_proxy up;
	MYSQL *d, *m;
	char yaml[512], err[256], want[256], *stored;

	if (!have_ed25519())
		cr_skip_test("MariaDB has no ed25519 plugin here");
	d = direct_connect();
	server_user(d, "myring_u_ed", "IDENTIFIED VIA ed25519 USING "
		    "PASSWORD('ed-pw-2')");
	stored = stored_of(d, "myring_u_ed");
	cr_assert_eq(strlen(stored), 43, "%s", stored);
	snprintf(yaml, sizeof(yaml), "auth: proxy\nusers:\n"
		 "  - name: myring_u_ed\n    plugin: ed25519\n"
		 "    stored: '%s'\n    backend-password: ed-pw-2\n", stored);
	users_start(&up, yaml);

	m = login(&up, "myring_u_ed", "ed-pw-2", err, sizeof(err));
	cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&up.p));
	expect_value(m, "SELECT CURRENT_USER()", "myring_u_ed@127.0.0.1");
	expect_value(m, "SELECT 6 * 7", "42");
	mysql_close(m);

	cr_assert_null(login(&up, "myring_u_ed", "ed-pw-3", err, sizeof(err)));
	direct_refusal("myring_u_ed", "ed-pw-3", want, sizeof(want));
	cr_assert_str_eq(err, want);

	free(stored);
	users_stop(&up);
	mysql_close(d);
}

/* caching_sha2_password by its stored hash, against a MariaDB account
 * with a native password: the client's full authentication (the
 * password, RSA-encrypted to myring) gives myring the plaintext, which
 * is what its native login to the server needs. */
Test(users, caching_sha2_given_by_its_stored_hash, .timeout = 60)
{
	/* auth_sha2_crypt_make("sha2-pw-1", salt "myringUsersTestSalt1",
	 * 5000 rounds), as MySQL 8 stores it. */
	static const char stored[] = "$A$005$myringUsersTestSalt1"
		"XVhIbQA9hiIqcirjKrV9MHi7Rlf2mWqhn9XMXmTQKv9";
	struct users_proxy up;
	MYSQL *d = direct_connect(), *m;
	char yaml[512], err[256];

	server_user(d, "myring_u_sha2", "IDENTIFIED BY 'sha2-pw-1'");
	snprintf(yaml, sizeof(yaml), "auth: proxy\nusers:\n"
		 "  - name: myring_u_sha2\n    plugin: caching_sha2_password\n"
		 "    stored: '%s'\n", stored);
	users_start(&up, yaml);

	m = login(&up, "myring_u_sha2", "sha2-pw-1", err, sizeof(err));
	cr_assert_not_null(m, "%s\n%s", err, proxy_log_tail(&up.p));
	expect_value(m, "SELECT CURRENT_USER()", "myring_u_sha2@127.0.0.1");
	mysql_close(m);
	cr_assert_null(login(&up, "myring_u_sha2", "sha2-pw-2", err,
			     sizeof(err)));
	cr_assert_str_eq(err, "1045 Access denied for user "
			 "'myring_u_sha2'@'127.0.0.1' (using password: YES)");

	users_stop(&up);
	mysql_close(d);
}

/* Without a backend password an ed25519 user given by its key could
 * never be logged in to the server: the start refuses the file, naming
 * the line and what to add. */
Test(users, ed25519_by_key_alone_is_refused_at_start, .timeout = 60)
{
	char path[64], out[2048], backend[64], needle[256];
	const char *check[] = {"--check-config", path, "--listen",
			       "127.0.0.1:1", "--backend", backend, NULL};
	const char *start[] = {"--config", path, "--listen", "127.0.0.1:1",
			       "--backend", backend, NULL};

	snprintf(backend, sizeof(backend), "127.0.0.1:%d",
		 env_int("MARIADB_PORT"));
	write_config(path, "auth: proxy\nusers:\n"
		     "  - name: myring_u_ed_alone\n"
		     "    plugin: ed25519\n"
		     "    stored: 8oHfN5iJFMxrXivbHZLqkjfj9x57hxLOZYi73VscRbo\n");
	snprintf(needle, sizeof(needle), "%s:5: user 'myring_u_ed_alone': "
		 "stored: with plugin ed25519 myring cannot log in", path);
	cr_assert_eq(myring_run(check, out, sizeof(out), 20000), 2, "%s", out);
	cr_assert(strstr(out, needle), "%s", out);
	cr_assert(strstr(out, "add backend-password:"), "%s", out);
	cr_assert_eq(myring_run(start, out, sizeof(out), 20000), 2, "%s", out);
	cr_assert(strstr(out, needle), "%s", out);
	unlink(path);
}

/* Users are restart-only: RELOAD CONFIG with a changed list says so and
 * keeps the users in force. */
Test(users, reload_names_users_as_restart_only, .timeout = 60)
{
	static const char head[] = "auth: proxy\nadmin-user: admin\n"
				   "admin-password: users-admin-pw\nusers:\n"
				   "  - name: myring_u_reload\n";
	struct users_proxy up;
	MYSQL *d = direct_connect(), *m, *a;
	char yaml[512], err[256], admin[64];
	int admin_port = free_port();
	const char *args[] = {"--config", up.path, "--threads", "1", "--admin",
			      admin, NULL};
	FILE *f;

	server_user(d, "myring_u_reload", "IDENTIFIED BY 'reload-pw-1'");
	snprintf(admin, sizeof(admin), "127.0.0.1:%d", admin_port);
	snprintf(yaml, sizeof(yaml), "%s    password: reload-pw-1\n", head);
	write_config(up.path, yaml);
	proxy_start(&up.p, env_int("MARIADB_PORT"), args);

	/* The pool settings are restart-only too. */
	snprintf(yaml, sizeof(yaml), "pool-size: 9\n%s    password: reload-pw-2\n",
		 head);
	f = fopen(up.path, "w");
	cr_assert_not_null(f);
	fputs(yaml, f);
	fclose(f);
	a = connect_port(admin_port, "admin", "users-admin-pw", NULL, 0, err,
			 sizeof(err));
	cr_assert_not_null(a, "admin: %s", err);
	cr_assert_eq(mysql_query(a, "RELOAD CONFIG"), 0, "%s", mysql_error(a));
	cr_assert(mysql_info(a) && strstr(mysql_info(a),
		  "needs a restart to take effect: users, pool settings"),
		  "RELOAD CONFIG's info: %s",
		  mysql_info(a) ? mysql_info(a) : "(none)");
	mysql_close(a);

	m = login(&up, "myring_u_reload", "reload-pw-1", err, sizeof(err));
	cr_assert_not_null(m, "the users in force stay: %s", err);
	mysql_close(m);
	cr_assert_null(login(&up, "myring_u_reload", "reload-pw-2", err,
			     sizeof(err)));

	users_stop(&up);
	mysql_close(d);
}
