/*
 * conn.h - one socket in one role: the io layer under sessions and backend
 * connections.  It knows nothing of MySQL.
 *
 * A conn owns its descriptor, a multishot receive into the worker's
 * provided-buffer ring, and the queue of bytes waiting to be sent on it
 * (outq, one send in flight at a time).  What the bytes mean is its
 * owner's business, reached through a small table of operations
 * (struct conn_ops) the way twemproxy's conn carries its handlers: the
 * worker's completion loop calls them, and linking a session to a backend
 * connection swaps the handler the backend's data goes to.
 *
 * Life:
 *
 *   conn_open -> [conn_connect] -> recv armed <-> paused (reasons) ...
 *     -> conn_close: cancel what is in flight -> closing
 *     -> the last completion arrives (inflight == 0) -> ops->on_free
 *
 * Invariants:
 *  - inflight counts submitted operations whose final completion has not
 *    arrived; on_free is called (once) only when closing && inflight == 0,
 *    so no completion ever refers to freed memory.
 *  - the receive is armed only while paused == 0 and not closing;
 *    `partner`, whose receive fills this conn's queue, is paused while
 *    the queue is above the high-water mark.
 *  - a receive buffer referenced by any queued chunk is not returned to
 *    the kernel (bufring refcounts).
 */
#ifndef MYRING_CONN_H
#define MYRING_CONN_H

#include "outq.h"
#include "uring.h"
#include "xprt.h"

#include <stdbool.h>
#include <stdint.h>

struct worker;
struct conn;

enum recv_state {
	RS_IDLE,           /* nothing armed */
	RS_ARMED,          /* multishot recv in flight */
	RS_CANCELING,      /* cancel submitted, final completion pending */
	RS_NOBUFS,         /* stopped by -ENOBUFS, on the worker's wait list */
};

/* Why a conn does not receive; the receive runs when none holds. */
enum conn_pause {
	PAUSE_BACKPRESSURE = 0x1,  /* the conn it feeds has too much queued */
	PAUSE_OWNER = 0x2,         /* the owner stopped listening (finishing) */
	PAUSE_IDLE = 0x4,          /* the owner does not want input now */
	PAUSE_XPRT = 0x8,          /* TLS/compression wait for buffers of the
	                            * worker's own (xprt.h) */
	PAUSE_SPLICE = 0x10,       /* the socket's bytes go by splice (splice.h) */
};

/* Which peer a conn talks to: the byte counters are kept per peer. */
enum conn_peer { PEER_CLIENT = 0, PEER_BACKEND = 1 };

struct conn_ops {
	const char *role;    /* "client", "backend": log lines */
	uint8_t peer;        /* enum conn_peer */
	/* Bytes arrived in receive buffer bid (n > 0). */
	void (*on_data)(struct conn *c, uint8_t *buf, uint32_t n, int32_t bid);
	/* The peer closed (err 0) or the receive failed (-errno). */
	void (*on_eof)(struct conn *c, int err);
	/* A send failed (-errno); the conn is already closing. */
	void (*on_send_error)(struct conn *c, int err);
	/* A send completed: the queue shrank (may be NULL). */
	void (*on_sent)(struct conn *c);
	/* conn_connect finished: 0 or -errno (-ECANCELED: timed out). */
	void (*on_connect)(struct conn *c, int res);
	/* A timer of the owner fired (conn_timer). */
	void (*on_timer)(struct conn *c);
	/* Whether queued bytes should wait for more before a send (may be
	 * NULL): see hold_for_packet_tail in session.c. */
	bool (*should_hold)(const struct conn *c);
	/* Closing and nothing in flight: the owner may free it now. */
	void (*on_free)(struct conn *c);
	/* The receive stopped (its last completion is in) while paused
	 * (may be NULL). */
	void (*on_recv_stopped)(struct conn *c);
	/* The TLS handshake completed (err 0) or failed (err -1, why says
	 * how; the conn is closing).  Only for conns that start TLS. */
	void (*on_secure)(struct conn *c, int err, const char *why);
};

struct conn {
	struct worker *w;
	const struct conn_ops *ops;
	void *owner;
	/* The conn at the other end of a link (a client's and its backend's):
	 * its receive fills our queue and ours fills its, so it is paused
	 * while our queue is too full. */
	struct conn *partner;
	struct conn *next_waiter;  /* on the worker's buffer wait list */
	struct conn *next_xwaiter; /* on its list for the worker's own buffers */
	/* TLS and/or compression between the socket and the owner, or NULL:
	 * raw, bytes go straight through (xprt.h). */
	struct xprt *x;
	struct splice *splice;     /* a pump moving bytes from this socket */
	uint32_t slot;
	uint16_t gen;
	uint16_t inflight;
	int fd;
	uint8_t recv_state;
	uint8_t paused;            /* enum conn_pause bits */
	bool closing;
	bool freed;                /* on_free was called */
	bool dirty;                /* on the worker's dirty list */
	bool timer_armed;
	bool xwaiting;             /* on the list for the worker's own buffers */
	bool fixed;                /* fd is in the worker's file table at
	                            * slot (fixed_files.h) */
	struct outq out;
	struct outq *sending;      /* the queue the send in flight is from */
	struct __kernel_timespec timer_ts;
};

/* Takes a slot in the worker's table for fd (which may be -1 until a
 * socket exists).  -1 when the table is full. */
int conn_open(struct worker *w, struct conn *c, int fd,
	      const struct conn_ops *ops, void *owner);

/* Connects c->fd to addr with a linked timeout of timeout_ts. */
void conn_connect(struct conn *c, const struct sockaddr *addr, unsigned len,
		  struct __kernel_timespec *timeout_ts);

void conn_arm_recv(struct conn *c);
void conn_pause(struct conn *c, unsigned reason);
void conn_resume(struct conn *c, unsigned reason);

/* Queues bytes for sending: a range of receive buffer bid (no copy), or
 * heap memory the conn then owns (owned, freed once sent).  Pauses the
 * partner above the high-water mark.  -1 when out of memory (the conn is
 * closing then). */
int conn_queue(struct conn *c, uint8_t *ptr, uint32_t len, int32_t bid,
	       void *owned);
int conn_queue_copy(struct conn *c, const void *p, size_t len);
/* conn_queue below TLS and compression (xprt.c): into c->out. */
int conn_queue_out(struct conn *c, uint8_t *ptr, uint32_t len, int32_t bid,
		   void *owned);
/* The queue shrank: resume the partner if backpressure paused it. */
void conn_check_partner(struct conn *c);

/* Sends what is queued (the worker calls it at the end of a turn for
 * conns marked dirty). */
void conn_flush(struct conn *c);

/* Arms a one-shot timer (owner's on_timer); re-arming replaces nothing:
 * one timer at a time. */
void conn_timer(struct conn *c, uint64_t us);

/* Cancels sends that have been stuck for too long while they pin receive
 * buffers, so a peer that does not read cannot starve the pool. */
void conn_evict_stalled(struct conn *c);

/* Starts teardown: cancels what is in flight; on_free follows once the
 * last completion is in (at the earliest at the end of the worker's turn,
 * so the caller may go on using the conn and its owner). */
void conn_close(struct conn *c);

/* Releases queued bytes, closes the descriptor, frees the slot.  Called by
 * the owner from on_free, once; a conn that never got a slot (conn_open
 * failed) has nothing to release. */
void conn_release(struct conn *c);

/* Bytes queued and not yet sent. */
static inline uint64_t conn_queued(const struct conn *c)
{
	return c->out.bytes;
}

/* Everything queued has been sent (through TLS and compression too). */
static inline bool conn_sent_all(const struct conn *c)
{
	return outq_idle(&c->out) && (!c->x || xprt_idle(c));
}

/* Completion handlers (worker.c dispatches by op). */
void conn_on_recv(struct conn *c, int res, unsigned flags);
void conn_on_send(struct conn *c, int res);
void conn_on_connect(struct conn *c, int res);
void conn_on_cancel(struct conn *c);
void conn_on_timer(struct conn *c);
/* Re-arms a receive stopped for lack of buffers. */
void conn_buffers_back(struct conn *c);
/* The worker's own buffers are back (xprt.h). */
void conn_xbuffers_back(struct conn *c);
/* Calls on_free once the conn is closing and idle. */
void conn_settle(struct conn *c);

#endif
