/*
 * Sockets the proxy closes reach their peers as closed.  The workers'
 * registered file tables (src/fixed_files.h) hold a reference to every
 * socket, so a close(2) alone would leave it open: these tests fail if a
 * conn's table entry is not cleared when it is released.  Each runs a
 * proxy of its own, so no other test's connection takes the freed slot
 * (installing a new socket there would close the old one and hide a leak).
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Whether MariaDB still has a session with this id. */
static bool server_has_session(MYSQL *admin, long id)
{
	char q[128];

	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM information_schema."
		 "PROCESSLIST WHERE ID = %ld", id);
	return query_long(admin, q) != 0;
}

Test(closing, a_client_that_vanishes_takes_its_backend_connection_with_it,
     .timeout = 60)
{
	struct proxy_proc p;
	char err[256];

	proxy_start(&p, env_int("MARIADB_PORT"), NULL);
	MYSQL *admin = direct_connect();
	for (int round = 0; round < 3; round++) {
		MYSQL *m = connect_port(p.port, "myring", "myring-pw",
					"myring_test", 0, err, sizeof(err));
		cr_assert_not_null(m, "connect: %s", err);
		long id = query_long(m, "SELECT CONNECTION_ID()");
		cr_assert(server_has_session(admin, id));
		/* No COM_QUIT: the proxy sees the client's socket end and
		 * must close the backend's, which MariaDB then sees end. */
		shutdown(mysql_get_socket(m), SHUT_RDWR);
		bool gone = false;
		for (uint64_t until = now_ms() + 10000; !gone && now_ms() < until;
		     usleep(20000))
			gone = !server_has_session(admin, id);
		cr_assert(gone, "round %d: backend session %ld outlived its "
			  "client\n%s", round, id, proxy_log_tail(&p));
		mysql_close(m);
	}
	mysql_close(admin);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "clean exit after SIGTERM\n%s",
		     proxy_log_tail(&p));
}

Test(closing, a_backend_connection_that_ends_ends_its_client_connection,
     .timeout = 60)
{
	struct proxy_proc p;
	char err[256], q[64];

	proxy_start(&p, env_int("MARIADB_PORT"), NULL);
	MYSQL *admin = direct_connect();
	MYSQL *m = connect_port(p.port, "myring", "myring-pw", "myring_test", 0,
				err, sizeof(err));
	cr_assert_not_null(m, "connect: %s", err);
	long id = query_long(m, "SELECT CONNECTION_ID()");
	snprintf(q, sizeof(q), "KILL %ld", id);
	query_ok(admin, q);
	/* The proxy closes the client's socket when the backend's ends: the
	 * client reads its end (after any ERR the proxy sent first). */
	int fd = mysql_get_socket(m);
	bool eof = false;
	char buf[4096];
	for (uint64_t until = now_ms() + 10000; !eof && now_ms() < until;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) == 1)
			eof = recv(fd, buf, sizeof(buf), 0) <= 0;
	}
	cr_assert(eof, "the client's socket stayed open after its backend "
		  "connection was killed\n%s", proxy_log_tail(&p));
	mysql_close(m);
	mysql_close(admin);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "clean exit after SIGTERM\n%s",
		     proxy_log_tail(&p));
}
