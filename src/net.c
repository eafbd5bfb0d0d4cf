#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A Unix socket needs no resolving; its path is checked by connect. */
static void unix_addr(const struct hostport *hp, struct netaddr *out)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
	size_t plen = strlen(hp->host);

	memset(out, 0, sizeof(*out));
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, hp->host, plen + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);
	/* What TLS to such a server checks its certificate for. */
	snprintf(out->host, sizeof(out->host), "localhost");
	snprintf(out->text, sizeof(out->text), "unix:%s", hp->host);
}

int net_resolve(const struct hostport *hp, struct netaddr *out, char *err,
		size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_ADDRCONFIG,
	}, *res;
	int rc;

	if (hostport_is_unix(hp)) {
		unix_addr(hp, out);
		return 0;
	}
	rc = getaddrinfo(hp->host, hp->port, &hints, &res);

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
	snprintf(out->host, sizeof(out->host), "%s", hp->host);
	cli_format_hostport(hp, out->text, sizeof(out->text));
	freeaddrinfo(res);
	return 0;
}

int net_listen(const struct netaddr *addr, int backlog, bool reuseport)
{
	int one = 1;
	int fd = socket(addr->ss.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* SO_REUSEADDR only lets a restart bind over connections in
	 * TIME_WAIT; on Linux it never shares a port with a live listener. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (reuseport &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&addr->ss, addr->len) ||
	    (backlog > 0 && listen(fd, backlog))) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int net_connect_socket(const struct netaddr *addr, bool nonblocking)
{
	int one = 1;
	int fd = socket(addr->ss.ss_family,
			SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0),
			0);

	if (fd < 0)
		return -errno;
	/* Requests and answers leave as written: a query's last bytes must
	 * not wait for an acknowledgement.  (Unix sockets never delay.) */
	if (addr->ss.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int net_probe_free(const struct netaddr *addr)
{
	int fd = net_listen(addr, 0, false);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static uint16_t addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

/* The address as 16 bytes (IPv4 mapped into IPv6) and whether it is the
 * wildcard, so that 0.0.0.0, :: and ::ffff:a.b.c.d compare as the
 * kernel's bind conflict check does. */
static bool addr_bytes(const struct sockaddr_storage *ss, uint8_t out[16])
{
	static const uint8_t any6[16];

	if (ss->ss_family == AF_INET) {
		const struct in_addr *a = &((const struct sockaddr_in *)ss)->sin_addr;
		memset(out, 0, 10);
		out[10] = out[11] = 0xFF;
		memcpy(out + 12, a, 4);
		return a->s_addr == htonl(INADDR_ANY);
	}
	memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	return !memcmp(out, any6, 16);
}

bool net_addr_overlap(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	uint8_t ab[16], bb[16];
	bool a_any, b_any;

	if (addr_port(a) != addr_port(b))
		return false;
	a_any = addr_bytes(a, ab);
	b_any = addr_bytes(b, bb);
	return a_any || b_any || !memcmp(ab, bb, 16);
}

/* One line of /proc/net/tcp or tcp6 into a socket address, state and
 * inode.  The address is printed as the raw 32-bit words in host order,
 * the port in host order. */
static bool parse_proc_tcp_line(const char *line, bool v6,
				struct sockaddr_storage *ss, unsigned *state,
				unsigned long *inode)
{
	char local[64];
	unsigned port;

	if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %lu",
		   local, &port, state, inode) != 4)
		return false;
	memset(ss, 0, sizeof(*ss));
	if (!v6) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		uint32_t w;
		if (strlen(local) != 8 || sscanf(local, "%8x", &w) != 1)
			return false;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		memcpy(&in->sin_addr, &w, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		if (strlen(local) != 32)
			return false;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		for (int i = 0; i < 4; i++) {
			char word[9];
			uint32_t w;
			memcpy(word, local + 8 * i, 8);
			word[8] = '\0';
			if (sscanf(word, "%8x", &w) != 1)
				return false;
			memcpy((uint8_t *)&in6->sin6_addr + 4 * i, &w, 4);
		}
	}
	return true;
}

int net_foreign_listeners(const struct netaddr *addr, const int *fds,
			  unsigned nfds)
{
	static const char *const files[2] = {"/proc/net/tcp", "/proc/net/tcp6"};
	unsigned long *ours = calloc(nfds ? nfds : 1, sizeof(*ours));
	unsigned nours = 0;
	int foreign = 0, readable = 0;

	if (!ours)
		return -1;
	for (unsigned i = 0; i < nfds; i++) {
		struct stat st;
		if (fds[i] >= 0 && fstat(fds[i], &st) == 0)
			ours[nours++] = (unsigned long)st.st_ino;
	}
	for (int f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "r");
		char line[512];

		if (!fp)
			continue;
		readable++;
		while (fgets(line, sizeof(line), fp)) {
			struct sockaddr_storage ss;
			unsigned state;
			unsigned long inode;
			bool mine = false;

			/* 0x0A is TCP_LISTEN. */
			if (!parse_proc_tcp_line(line, f == 1, &ss, &state,
						 &inode) || state != 0x0A ||
			    !net_addr_overlap(&ss, &addr->ss))
				continue;
			for (unsigned i = 0; i < nours; i++)
				mine |= ours[i] == inode;
			foreign += !mine;
		}
		fclose(fp);
	}
	free(ours);
	return readable ? foreign : -1;
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
	} else if (sa->sa_family == AF_UNIX) {
		snprintf(out, outlen, "unix:%s", ((const struct sockaddr_un *)
						  (const void *)sa)->sun_path);
	} else {
		snprintf(out, outlen, "unknown");
	}
}
