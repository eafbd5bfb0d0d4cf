#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int net_resolve(const struct hostport *hp, struct netaddr *out, char *err,
		size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_ADDRCONFIG,
	}, *res;
	int rc = getaddrinfo(hp->host, hp->port, &hints, &res);

	if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides ::1 on hosts with only loopback IPv6. */
		hints.ai_flags = 0;
		rc = getaddrinfo(hp->host, hp->port, &hints, &res);
	}
	if (rc) {
		snprintf(err, errlen, "cannot resolve '%s': %s", hp->host,
			 gai_strerror(rc));
		return -1;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	if (strchr(hp->host, ':'))
		snprintf(out->text, sizeof(out->text), "[%s]:%s", hp->host, hp->port);
	else
		snprintf(out->text, sizeof(out->text), "%s:%s", hp->host, hp->port);
	freeaddrinfo(res);
	return 0;
}

int net_listen(const struct netaddr *addr, int backlog)
{
	int one = 1;
	int fd = socket(addr->ss.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&addr->ss, addr->len) ||
	    listen(fd, backlog)) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

void net_format(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, outlen, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, outlen, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(out, outlen, "unknown");
	}
}
