/*
 * ctl.h - the control thread: the admin port (MySQL protocol), the
 * Prometheus endpoint, and requests to the workers.
 *
 * It has its own io_uring and never touches a worker's data directly
 * except for counters that only grow (read with relaxed loads).  Anything
 * else (a copy of a worker's digest table, a reset) is a request: the
 * control thread puts it in the worker's mailbox and wakes the worker's
 * ring with IORING_OP_MSG_RING; the worker does it on its own thread
 * between completions and wakes the control ring the same way when the
 * last worker is done.  A worker never waits for the control thread.
 */
#ifndef MYRING_CTL_H
#define MYRING_CTL_H

#include "digest_stats.h"
#include "worker.h"

#include <stdatomic.h>

enum ctl_kind { CTL_SNAPSHOT, CTL_RESET, CTL_SESSIONS };

/* One client session as its worker saw it (CTL_SESSIONS), for the admin
 * port's SHOW PROCESSLIST.  The strings are copies; command and state
 * point to constants. */
struct ctl_session {
	uint64_t id;
	uint64_t busy_us;          /* how long the command in progress has run */
	const char *command;       /* "Query", ..., "Sleep", "Connect" */
	const char *state;
	char user[96];
	char schema[72];
	char client[64];
};

struct ctl_result {
	struct dstat_rows rows;
	struct ctl_session *sessions;
	size_t nsessions;
	uint64_t live, evictions;
	int rc;
};

struct ctl_req {
	enum ctl_kind kind;
	atomic_uint remaining;     /* workers still to answer */
	int notify_fd;             /* ring to wake when remaining hits 0 */
	uint64_t notify_data;
	struct ctl_result *res;    /* [nworkers] */
};

/* Worker side: runs the request in the mailbox, if any. */
void ctl_worker_poll(struct worker *w);

/* Binds the admin and metrics ports (before the workers start, so both
 * accept connections as soon as the proxy does), then starts the thread
 * once the workers run.  Nothing happens without --admin / --metrics. */
int ctl_listen(struct proxy *px, const struct netaddr *admin,
	       const struct netaddr *metrics, char *err, size_t errlen);
int ctl_start(char *err, size_t errlen);
void ctl_stop(void);

#endif
