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

enum ctl_kind { CTL_SNAPSHOT, CTL_RESET, CTL_LIVE };

/* One client session as its worker saw it (CTL_LIVE), for the admin
 * port's SHOW PROCESSLIST and stats.sessions.  The strings are copies;
 * command and state point to constants. */
struct ctl_session {
	uint64_t id;
	uint32_t connection_id;    /* what CONNECTION_ID() tells the client */
	unsigned worker;
	uint32_t backend_thread;   /* the server's id of its connection, 0 */
	uint32_t pins;             /* enum pin_reason bits */
	bool pooled;               /* auth: proxy */
	bool in_trans;
	uint64_t busy_us;          /* how long the command in progress has run */
	const char *command;       /* "Query", ..., "Sleep", "Connect" */
	const char *state;
	char user[96];
	char schema[72];
	char client[64];
};

/* One pool of a worker (CTL_LIVE), for stats.pools and stats.backends. */
struct ctl_pool {
	unsigned worker;
	unsigned server_idx;       /* in the proxy's servers */
	char user[96];
	char server[80];
	uint32_t max_conns;        /* the server's cap, all workers */
	uint32_t server_open;      /* counted against it now, all workers */
	uint8_t charset;
	unsigned idle, in_use, opening, resetting, waiting;
	uint64_t backoff_ms;       /* left before connecting again */
	uint64_t connect_max_us;
	struct pool_stats stats;
	char last_error[320];
};

struct ctl_result {
	struct dstat_rows rows;
	struct ctl_session *sessions;
	size_t nsessions;
	struct ctl_pool *pools;
	size_t npools;
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
