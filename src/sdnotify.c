#include "sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int sdnotify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t salen;
	size_t plen;
	int fd, rc = 0;

	if (!path || !*path)
		return 0;
	plen = strlen(path);
	/* An absolute path, or '@' for a name in Linux's abstract namespace.
	 * The vsock addresses of systemd 254+ (a manager outside a VM) are
	 * not supported. */
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;
	if (plen >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	/* An abstract name is exactly its bytes: no terminating NUL counted. */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* MSG_DONTWAIT: the control thread reloads too (RELOAD CONFIG), and
	 * its ring must not wait on a manager's full receive queue. */
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT,
		   (struct sockaddr *)&sa, salen) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int sdnotifyf(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sdnotify(msg);
}

int sdnotify_reloading(const char *status)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return sdnotifyf("RELOADING=1\nMONOTONIC_USEC=%llu%s%s",
			 (unsigned long long)now.tv_sec * 1000000ull +
				 (unsigned long long)now.tv_nsec / 1000,
			 status ? "\nSTATUS=" : "", status ? status : "");
}
