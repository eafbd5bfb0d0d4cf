/*
 * checker.h - the health checker: one connection of its own to every
 * server (auth: proxy), on the control thread's ring, never on a worker.
 *
 * At its group's interval (check_interval_ms, 1000 when 0) each server
 * gets one check: connect and log in when there is no connection yet
 * (as monitor-user, see checker.c), then two queries sent back to back,
 *
 *   SELECT @@read_only, @@server_id, @@gtid_binlog_pos, @@gtid_slave_pos
 *   SHOW ALL SLAVES STATUS
 *
 * whose answers give the server's role (read_only = 0: primary), its
 * replication threads and lag (Seconds_Behind_Master; NULL or a stopped
 * thread: unknown) and GTID position.  A check fails when the connection,
 * the login or a query fails, or when it has not finished within the
 * interval (the connect phase, until the greeting, within
 * connect-timeout if that is shorter); a failed connection is closed and
 * opened again at the next interval.  What a check finds is published in
 * the server's struct server_check (groups.h), its health moved by
 * health_next() (health.h), and each change of role or health logged as
 * one line saying why.
 *
 * Servers a reload adds (groups_reload_apply) are checked from the next
 * tick on; a server a reload removed is not checked while it drains.
 *
 * The ring belongs to its caller (ctl.c, or a test program): the checker
 * only submits to it and is handed the completions whose user_data's low
 * byte is the op it was given:
 *
 *   63          32 31        16 15        8 7         0
 *  +--------------+------------+-----------+-----------+
 *  | server index | generation | operation |    op     |
 *  +--------------+------------+-----------+-----------+
 *
 * Everything runs on the ring owner's thread.
 */
#ifndef MYRING_CHECKER_H
#define MYRING_CHECKER_H

#include "uring.h"

#include <stdbool.h>
#include <stdint.h>

#define CHECK_INTERVAL_DEFAULT_MS 1000

struct proxy;

/* Whether px's servers are checked: with auth: proxy only (myring's own
 * backend connections; in pass-through every client has the server to
 * itself and nothing is routed), and only where there is a choice to make
 * or to show: --primary with --replica, or the file's groups.  --backend's
 * one server is used whatever a check would say: it gets no connection of
 * the checker's (which would count against its user's connections). */
bool checker_wanted(const struct proxy *px);

/* Prepares a check of every server of px, submitted on ring with op in
 * the low byte of user_data; the first checks start at the next tick.
 * 0, or -1 when out of memory. */
int checker_init(struct proxy *px, struct io_uring *ring, uint8_t op);

/* Starts the checks that are due and fails those past their time: call
 * it every few tens of milliseconds. */
void checker_tick(void);

/* A completion of the checker's (user_data's low byte is its op). */
void checker_complete(uint64_t user_data, int res);

/* Closes the connections and frees everything; call it once the ring
 * is gone (and its operations with it).  Safe to call twice. */
void checker_stop(void);

#endif
