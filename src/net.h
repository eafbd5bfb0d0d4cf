/*
 * net.h - socket set-up done once, outside the hot path: name resolution
 * (main thread, before workers start), listeners, address formatting.
 */
#ifndef MYRING_NET_H
#define MYRING_NET_H

#include "cli.h"

#include <stdbool.h>
#include <sys/socket.h>

struct netaddr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[300];            /* "host:port" or "unix:/path", as the user
	                            * wrote it */
	char host[256];            /* the host alone (no brackets): the name
	                            * TLS checks a server's certificate for
	                            * ("localhost" for a Unix socket) */
};

/* Resolves hp (getaddrinfo; may block: call before workers start).
 * Returns 0, or -1 with err filled. */
int net_resolve(const struct hostport *hp, struct netaddr *out, char *err,
		size_t errlen);

/* A non-blocking listener, or -errno.  Only the workers' listeners share
 * their port (reuseport), and only among themselves: an admin or metrics
 * port bound without it can never be joined by another process.  A
 * backlog of 0 binds without listening. */
int net_listen(const struct netaddr *addr, int backlog, bool reuseport);

/* A socket to connect to addr (TCP with TCP_NODELAY, or a Unix socket),
 * or -errno. */
int net_connect_socket(const struct netaddr *addr, bool nonblocking);

/* 0 if addr can be bound by a socket without SO_REUSEPORT (nobody listens
 * there), else -errno (-EADDRINUSE). */
int net_probe_free(const struct netaddr *addr);

/* Whether two listening addresses would take each other's connections:
 * the same port and the same address, or either is the wildcard. */
bool net_addr_overlap(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b);

/* How many listening TCP sockets that overlap addr belong to someone else
 * than fds[0..nfds) (matched by inode in /proc/net/tcp{,6}), or -1 if
 * those files cannot be read. */
int net_foreign_listeners(const struct netaddr *addr, const int *fds,
			  unsigned nfds);

/* "1.2.3.4:5" / "[::1]:5" / "unix:/path" for a socket address. */
void net_format(const struct sockaddr *sa, char *out, size_t outlen);

#endif
