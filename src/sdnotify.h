/*
 * sdnotify.h - tells systemd (or any service manager that speaks the
 * sd_notify protocol) how the service is doing: READY=1 once it listens,
 * RELOADING=1 ... READY=1 around a reload, STOPPING=1 when it drains.
 *
 * The protocol is small and stable (sd_notify(3), "Notification socket"
 * in systemd.io/NOTIFY): one datagram of newline-separated NAME=value
 * lines sent to the AF_UNIX socket named by $NOTIFY_SOCKET.  It is
 * written here rather than linked from libsystemd to keep myring's
 * dependencies to what the proxy itself needs.
 */
#ifndef MYRING_SDNOTIFY_H
#define MYRING_SDNOTIFY_H

/*
 * Sends state (e.g. "READY=1\nSTATUS=listening") to the manager.
 * Returns 0 when it was sent, and also when nobody asked for it
 * ($NOTIFY_SOCKET unset: not started by systemd, or Type= is not
 * notify); -errno when it could not be sent.  Never blocks: a manager
 * that does not read loses the message, the caller does not wait.
 */
int sdnotify(const char *state);

/* sdnotify() with printf formatting; the result is cut at 4 KiB. */
int sdnotifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * RELOADING=1 with the CLOCK_MONOTONIC time systemd 253+ expects beside
 * it (MONOTONIC_USEC=), and STATUS=status if status is not NULL.  The
 * reload ends with READY=1.
 */
int sdnotify_reloading(const char *status);

#endif
