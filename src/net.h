/*
 * net.h - socket set-up done once, outside the hot path: name resolution
 * (main thread, before workers start), listeners, address formatting.
 */
#ifndef MYRING_NET_H
#define MYRING_NET_H

#include "cli.h"

#include <sys/socket.h>

struct netaddr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[300];            /* "host:port" as the user wrote it */
};

/* Resolves hp (getaddrinfo; may block: call before workers start).
 * Returns 0, or -1 with err filled. */
int net_resolve(const struct hostport *hp, struct netaddr *out, char *err,
		size_t errlen);

/* A non-blocking SO_REUSEPORT listener, or -errno. */
int net_listen(const struct netaddr *addr, int backlog);

/* "1.2.3.4:5" / "[::1]:5" for a socket address. */
void net_format(const struct sockaddr *sa, char *out, size_t outlen);

#endif
