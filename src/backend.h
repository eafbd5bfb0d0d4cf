/*
 * backend.h - connections to a server that myring opens, logs into and
 * talks to itself (auth: proxy); a pool (pool.h) lends them to sessions.
 *
 * Life of a backend connection (enum bstate):
 *
 *   CONNECTING --connected--> GREETING --greeting--> LOGIN --OK--> SETUP
 *        |                       |                    |              |
 *        +----- failure ---------+--------------------+--------------+--> failed
 *                                                                    | done
 *                                                                    v
 *     +----------------------------------------------------------> IDLE (pool)
 *     |                                                           |  ^
 *     | done                                               borrow |  | return
 *     |                                                           v  |
 *   REQUESTS (myring's own: state replay, reset, prepare) <---> LINKED
 *
 * While myring talks to the server itself (everything but LINKED) the
 * conn's ops are backend.c's: the server's packets are assembled and read
 * here, and nothing is forwarded.  While LINKED, the ops are the session's
 * and the server's bytes go to its client without a copy.
 */
#ifndef MYRING_BACKEND_H
#define MYRING_BACKEND_H

#include "conn.h"
#include "groups.h"
#include "mysql_auth_exchange.h"
#include "mysql_framer.h"
#include "mysql_state.h"
#include "mysql_tracker.h"
#include "net.h"
#include "stmt_cache.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct backend_server;
struct bconn;
struct session;

enum bstate {
	BS_CONNECTING,
	BS_GREETING,
	BS_LOGIN,
	BS_SETUP,
	BS_IDLE,
	BS_REQUESTS,
	BS_LINKED,
	BS_CLOSING,        /* its owner closed it */
};

/* Who owns backend connections (the pool) hears from backend.c here. */
struct bconn_owner_ops {
	/* Logged in and set up: ready to lend. */
	void (*ready)(struct bconn *b);
	/* Connecting, logging in or setting up failed (why: for the log and
	 * the clients waiting). */
	void (*failed)(struct bconn *b, const char *why);
	/* The conn is released: forget b (it is freed after this). */
	void (*gone)(struct bconn *b);
	/* The server closed the connection, or sent something unasked,
	 * while the connection was idle in the pool; it is closing. */
	void (*lost)(struct bconn *b);
};

/* How myring logs in to a server. */
struct bconn_login {
	const char *user;
	/* What myring knows of the password (mysql_auth.h): the plaintext
	 * when configured, or SHA1(password) learned from a client's login,
	 * which is all mysql_native_password needs. */
	const struct auth_secret *secret;
	uint8_t charset;           /* collation id for the handshake */
	/* Capabilities besides myring's own that its clients must share
	 * with the server (they change the layout of responses). */
	uint64_t caps;
};

/* The requests myring sends on its own behalf are continued here: err is
 * 0, or the error code of the first one that failed (msg its message,
 * b->req_state its SQLSTATE).
 * The connection is in BS_REQUESTS until this is called. */
typedef void bconn_done_fn(struct bconn *b, uint16_t err, const char *msg);

#define BCONN_MAX_REQS 8
/* Server statements cached per connection: a pool of 64 connections
 * keeps at most 8192 open, half of MariaDB's default
 * max_prepared_stmt_count. */
#define BCONN_STMT_CACHE 128

/* A connection to a server. */
struct bconn {
	struct conn c;
	struct session *link;      /* the session it serves, or NULL */
	void *pool;                /* its owner (pool.c), or NULL */
	const struct bconn_owner_ops *owner;
	struct bconn *next;        /* in its owner's lists */
	uint8_t state;             /* enum bstate */
	bool dirty;                /* holds state no borrower may inherit */
	bool failed;               /* closing after a failure (reported once) */
	struct mysql_framer fr;    /* frames the server's bytes */
	struct mysql_tracker trk;  /* the response in progress */
	bool resp_started;         /* a packet of that response came */
	/* Local replies to inject into the client stream after the current
	 * response packet ends (pipelined, rejected commands). */
	bool inject_pending;
	uint64_t inject_skip;      /* bytes of the server stream before it */
	/* The rest of the packet's body is to go to the client by splice
	 * (splice.h) once the receive has stopped and the client's queue is
	 * sent.  The framer says how long it is: nothing else reads the
	 * backend meanwhile. */
	bool splice_pending;
	/* Requests in flight on myring's own behalf, in order. */
	uint8_t nreq, req_head;
	uint8_t req_kind[BCONN_MAX_REQS];
	uint16_t req_err;          /* first error among them */
	char req_state[6];         /* its SQLSTATE */
	char req_msg[200];
	bconn_done_fn *req_done;
	/* Every packet of the response to the last request queued goes here
	 * too (a shard's answer to a fanout: session_shard.c).  It must not
	 * close or free the connection. */
	void (*sink)(void *ctx, const uint8_t *pkt, uint32_t len);
	void *sink_ctx;
	/* Whole packets of myring's own exchanges are assembled here. */
	uint8_t *asm_buf;
	uint32_t asm_len, asm_cap;
	const struct bconn_login *login;
	const struct backend_server *srv; /* lives as long as myring */
	const struct netaddr *addr; /* srv's */
	struct auth_client *auth;  /* during the login only */
	uint64_t caps;             /* negotiated with the server */
	uint16_t status;           /* server status of the last response */
	uint32_t thread_id;        /* the server's connection id */
	char version[64];          /* the server's version string */
	/* Its session as far as myring knows: what a borrower's session is
	 * replayed over (mysql_state.h). */
	struct mysql_sess_state st;
	/* An OK packet being copied whole (its session-state entries),
	 * cap_left bytes of it still to come. */
	uint8_t *cap;
	uint32_t cap_len, cap_left;
	/* The first bytes of a packet at a buffer's end, held until the
	 * packet says whether it must be copied. */
	uint8_t held[4 + MYSQL_PEEK];
	uint8_t held_len;
	uint8_t cap_mode;          /* what the copied packet is for */
	uint8_t *kept;             /* the ERR of a request of myring's own */
	uint32_t kept_len;
	/* Statements prepared on this connection (pooled sessions). */
	struct stmt_cache stc;
	uint64_t created_us, idle_since_us, used_us;
	uint64_t deadline_us;      /* connect + login must finish by then */
};

/* Opens a connection to srv and logs in with login (which must outlive
 * it), with TLS as srv's settings say.  NULL when out of memory or
 * descriptors. */
struct bconn *bconn_open(struct worker *w, const struct backend_server *srv,
			 const struct bconn_login *login,
			 const struct bconn_owner_ops *owner, void *pool);

/* Queues one command of myring's own (payload: command byte first) whose
 * response is kind; -1 if BCONN_MAX_REQS are pending. */
int bconn_request(struct bconn *b, const void *payload, size_t len,
		  enum mysql_resp_kind kind);
/* What the connection's session is after a login or a
 * COM_RESET_CONNECTION: the handshake's character set, multi-statements
 * as negotiated, the schema it had (a reset keeps it). */
void bconn_state_fresh(struct bconn *b);

/* Queues the session-tracker set-up that follows a login or a reset. */
int bconn_setup_request(struct bconn *b);
/* Sends the queued requests; done continues once all have answered, or
 * once the connection failed (err 2013, msg why; it is closing then). */
void bconn_run(struct bconn *b, bconn_done_fn *done);

/* Gives the conn's events to the pool (backend.c's ops), e.g. after a
 * session returns it. */
void bconn_take_back(struct bconn *b);

/* The conn's on_free (whoever's ops it runs under then): tells the owner
 * and frees b. */
void bconn_free(struct conn *c);

/* Closes the connection (state CLOSING; the owner's gone follows). */
void bconn_close(struct bconn *b);
/* Fails the connection as if the server had gone: whoever its requests
 * run for hears it (2013, why), else its owner. */
void bconn_abort(struct bconn *b, const char *why);

/* The backend connection a conn belongs to while myring itself talks on
 * it (not while a session has it), or NULL. */
struct bconn *bconn_of(struct conn *c);

/* The greeting, login and setup are late: the tick calls this. */
void bconn_tick(struct bconn *b);

/* One server, shared by every worker's pools (read-only but for the
 * counters and what the health checker publishes, groups.h). */
struct backend_server {
	struct netaddr addr;
	/* A reload may change these two and draining (groups_reload). */
	_Atomic uint32_t max_conns;  /* --pool-size: over all workers */
	_Atomic uint32_t weight;     /* share of its group's reads */
	_Atomic uint8_t draining;    /* removed by a reload: no new work;
	                              * its connections close as they idle */
	unsigned group;              /* index of its group */
	/* Its TLS settings (backend_tls.h); a reload may change them.
	 * Stored (release) after tls.c published their context. */
	_Atomic uint16_t tls_slot;
	atomic_uint open;            /* connections counted, all workers */
	atomic_uint wanted;          /* idle connections others should close */
	atomic_uint_fast64_t connect_errors;
	struct server_check check;   /* written by the checker only */
};

/* A server's health as routing sees it: DRAINING once a reload removed
 * it, whatever its checks say. */
static inline uint8_t server_health(const struct backend_server *sv)
{
	if (atomic_load_explicit(&sv->draining, memory_order_relaxed))
		return HEALTH_DRAINING;
	return atomic_load_explicit(&sv->check.health, memory_order_relaxed);
}

/* The server's greeting, for what clients of myring are shown. */
struct backend_profile {
	char version[64];
	uint64_t caps;
	uint8_t charset;
};

/* Reads the greeting of the server at addr, blocking (start-up only):
 * 0, or -1 with err. */
int backend_probe(const struct netaddr *addr, unsigned timeout_ms,
		  struct backend_profile *out, char *err, size_t errlen);

#endif
