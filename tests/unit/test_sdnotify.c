/* The sd_notify protocol as systemd reads it: one datagram per call on
 * the socket named by $NOTIFY_SOCKET (a path, or @name in the abstract
 * namespace). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"

/* A datagram socket standing in for the manager; its address goes to
 * $NOTIFY_SOCKET (abstract names as "@name"). */
static int manager(bool abstract, char *path, size_t pathlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {5, 0};
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	if (abstract) {
		snprintf(path, pathlen, "@myring-sdnotify-test-%d", getpid());
		memcpy(sa.sun_path, path, strlen(path));
		sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				  strlen(path));
	} else {
		snprintf(path, pathlen, "/tmp/myring-sdnotify-test-%d.sock",
			 getpid());
		unlink(path);
		memcpy(sa.sun_path, path, strlen(path) + 1);
		len = sizeof(sa);
	}
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, len), 0, "bind %s: %s",
		     path, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(setenv("NOTIFY_SOCKET", path, 1), 0);
	return fd;
}

/* One datagram, NUL-terminated in buf; its length. */
static ssize_t receive(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, 0);

	cr_assert_geq(n, 0, "no datagram: %s", strerror(errno));
	buf[n] = '\0';
	return n;
}

Test(sdnotify, nothing_to_do_without_a_manager)
{
	unsetenv("NOTIFY_SOCKET");
	cr_assert_eq(sdnotify("READY=1"), 0);
	cr_assert_eq(setenv("NOTIFY_SOCKET", "", 1), 0);
	cr_assert_eq(sdnotify("READY=1"), 0);
}

Test(sdnotify, path_socket_gets_the_state_verbatim)
{
	char path[108], buf[512];
	int fd = manager(false, path, sizeof(path));

	const char *state = "READY=1\nSTATUS=listening on 127.0.0.1:6033";

	cr_assert_eq(sdnotify(state), 0);
	cr_assert_eq(receive(fd, buf, sizeof(buf)), (ssize_t)strlen(state));
	cr_assert_str_eq(buf, state);
	/* One datagram per call: the manager reads each on its own. */
	cr_assert_eq(sdnotifyf("STATUS=%d rule(s)", 3), 0);
	cr_assert_eq(sdnotify("STOPPING=1"), 0);
	receive(fd, buf, sizeof(buf));
	cr_assert_str_eq(buf, "STATUS=3 rule(s)");
	receive(fd, buf, sizeof(buf));
	cr_assert_str_eq(buf, "STOPPING=1");
	close(fd);
	unlink(path);
}

Test(sdnotify, abstract_socket)
{
	char path[108], buf[512];
	int fd = manager(true, path, sizeof(path));

	cr_assert_eq(path[0], '@');
	cr_assert_eq(sdnotify("READY=1"), 0);
	receive(fd, buf, sizeof(buf));
	cr_assert_str_eq(buf, "READY=1");
	close(fd);
}

Test(sdnotify, reloading_carries_the_monotonic_time)
{
	char path[108], buf[512];
	struct timespec t0, t1;
	unsigned long long usec, lo, hi;
	int fd = manager(false, path, sizeof(path)), used = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(sdnotify_reloading("reloading /etc/myring/myring.yaml"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	receive(fd, buf, sizeof(buf));
	cr_assert_eq(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu\n%n", &usec,
			    &used), 1, "%s", buf);
	cr_assert_str_eq(buf + used, "STATUS=reloading /etc/myring/myring.yaml");
	lo = (unsigned long long)t0.tv_sec * 1000000 + t0.tv_nsec / 1000;
	hi = (unsigned long long)t1.tv_sec * 1000000 + t1.tv_nsec / 1000;
	cr_assert(usec >= lo && usec <= hi, "%llu not in [%llu, %llu]", usec, lo,
		  hi);
	cr_assert_eq(sdnotify_reloading(NULL), 0);
	receive(fd, buf, sizeof(buf));
	cr_assert_null(strstr(buf, "STATUS="), "%s", buf);
	close(fd);
	unlink(path);
}

Test(sdnotify, bad_addresses_are_errors_not_crashes)
{
	char longpath[200];

	cr_assert_eq(setenv("NOTIFY_SOCKET", "relative/notify", 1), 0);
	cr_assert_eq(sdnotify("READY=1"), -EAFNOSUPPORT);
	cr_assert_eq(setenv("NOTIFY_SOCKET", "vsock:2:1234", 1), 0);
	cr_assert_eq(sdnotify("READY=1"), -EAFNOSUPPORT);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	cr_assert_eq(setenv("NOTIFY_SOCKET", longpath, 1), 0);
	cr_assert_eq(sdnotify("READY=1"), -ENAMETOOLONG);
	/* Nobody listens there: the manager has gone; say so, do not wait. */
	cr_assert_eq(setenv("NOTIFY_SOCKET", "/nonexistent/myring/notify", 1), 0);
	cr_assert_eq(sdnotify("READY=1"), -ENOENT);
}
