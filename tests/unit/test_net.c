#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "startup.h"

static struct sockaddr_storage v4(const char *ip, int port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &in->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *ip, int port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, ip, &in6->sin6_addr);
	return ss;
}

Test(net, addresses_overlap_as_the_kernel_binds_them)
{
	struct sockaddr_storage a = v4("127.0.0.1", 6033), b;

	b = v4("127.0.0.1", 6033);
	cr_assert(net_addr_overlap(&a, &b));
	b = v4("127.0.0.1", 6034);
	cr_assert_not(net_addr_overlap(&a, &b), "another port");
	b = v4("127.0.0.2", 6033);
	cr_assert_not(net_addr_overlap(&a, &b), "another address");
	b = v4("0.0.0.0", 6033);
	cr_assert(net_addr_overlap(&a, &b), "the wildcard takes every address");
	cr_assert(net_addr_overlap(&b, &a));
	b = v6("::", 6033);
	cr_assert(net_addr_overlap(&a, &b), "so does the IPv6 wildcard");
	b = v6("::ffff:127.0.0.1", 6033);
	cr_assert(net_addr_overlap(&a, &b), "an IPv4-mapped address is the same");
	b = v6("::1", 6033);
	cr_assert_not(net_addr_overlap(&a, &b));
}

static int listener(struct netaddr *na, bool reuseport)
{
	int fd = net_listen(na, 8, reuseport);
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	cr_assert_geq(fd, 0, "listen: %s", strerror(-fd));
	getsockname(fd, (struct sockaddr *)&a, &len);
	memcpy(&na->ss, &a, len);
	na->len = len;
	return fd;
}

Test(net, foreign_listeners_are_found_in_the_kernel_table)
{
	struct netaddr na = {.ss = v4("127.0.0.1", 0), .len = sizeof(struct sockaddr_in)};
	int theirs = listener(&na, true), ours[2];

	/* The port is now taken: a bind without SO_REUSEPORT says so. */
	cr_assert_eq(net_probe_free(&na), -EADDRINUSE);
	/* A socket with SO_REUSEPORT can still join it: the table shows the
	 * stranger. */
	ours[0] = net_listen(&na, 8, true);
	ours[1] = net_listen(&na, 8, true);
	cr_assert_geq(ours[0], 0);
	cr_assert_eq(net_foreign_listeners(&na, ours, 2), 1);
	close(theirs);
	cr_assert_eq(net_foreign_listeners(&na, ours, 2), 0, "only ours are left");
	struct netaddr any = na;
	((struct sockaddr_in *)&any.ss)->sin_addr.s_addr = htonl(INADDR_ANY);
	cr_assert_eq(net_foreign_listeners(&any, ours, 1), 1,
		     "the wildcard overlaps the other one of ours");
	close(ours[0]);
	close(ours[1]);
	cr_assert_eq(net_probe_free(&na), 0, "free again");
}

Test(net, cpu_lists_are_formatted_as_ranges)
{
	char out[64];

	startup_format_cpus((int[]){0, 1, 2, 3, 6}, 5, out, sizeof(out));
	cr_assert_str_eq(out, "0-3,6");
	startup_format_cpus((int[]){5}, 1, out, sizeof(out));
	cr_assert_str_eq(out, "5");
	startup_format_cpus((int[]){3, 1, 2}, 3, out, sizeof(out));
	cr_assert_str_eq(out, "3,1-2");
}
