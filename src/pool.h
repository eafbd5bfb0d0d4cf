/*
 * pool.h - a worker's backend connections to one server for one login,
 * lent to sessions and taken back (auth: proxy).
 *
 * A pool belongs to one worker and is touched by that worker's thread
 * only: borrowing and returning take no lock.  The one thing shared
 * between workers is the server's connection count, so that --pool-size
 * is a hard cap over all of them: a connection is counted (one atomic
 * add) before it is opened and uncounted when it is gone.  A worker whose
 * sessions wait because the cap is reached asks the others, through the
 * server's `wanted` count, to close an idle connection of theirs.
 *
 * Borrowing: an idle connection (most recently used first, so a session
 * usually gets back the one it had, state and all) or, below the cap, a
 * new one; otherwise the session waits in line, first come first served,
 * until a connection comes back or --pool-wait-ms passes.
 */
#ifndef MYRING_POOL_H
#define MYRING_POOL_H

#include "backend.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct worker;
struct pool_waiter;

/* A borrow's continuation: b is the connection (linked to nobody yet), or
 * NULL with err/msg saying why none came (wait timeout, server down). */
typedef void pool_cont_fn(struct pool_waiter *wt, struct bconn *b,
			  uint16_t err, const char *msg);

struct pool_waiter {
	struct pool_waiter *next;
	pool_cont_fn *cont;
	uint64_t deadline_us;
	bool queued;
	bool no_schema;              /* only a connection without a schema */
};

/* What makes two sessions' connections interchangeable. */
struct pool_key {
	unsigned server;             /* index in the proxy's servers */
	unsigned user;               /* index in the configured users */
	uint64_t caps;               /* client capabilities that matter */
	uint8_t charset;             /* the client's handshake collation */
};

/* What a pool did, counted per pool (stats.pools) and per worker
 * (struct worker_stats: SHOW STATS, /metrics).  Only grows. */
struct pool_stats {
	uint64_t connects;           /* connections opened and set up */
	uint64_t connect_us;         /* their connect + login + setup time */
	uint64_t connect_errors;
	uint64_t borrows;            /* sessions given a connection */
	uint64_t waits;              /* borrows that had to wait */
	uint64_t wait_timeouts;
	uint64_t resets;             /* connections reset before reuse */
	uint64_t closed_idle;        /* closed by the idle timeout / max age */
	uint64_t lost_idle;          /* died while idle */
	uint64_t commands;           /* pooled sessions' commands to a server */
	uint64_t pinned_commands;    /* ... sent while the session was pinned */
};

/* A worker's connections by state now, over its pools: published every
 * tick for /metrics (the pools themselves are the worker's alone). */
struct pool_gauges {
	uint64_t idle, in_use, opening, resetting, waiting;
};

struct pool {
	struct worker *w;
	struct backend_server *srv;
	struct pool_key key;
	struct bconn_login login;
	char user[AUTH_NAME_MAX + 1];
	/* What myring knows of the user's password for its own logins: the
	 * configured plaintext, or what a client's login revealed. */
	struct auth_secret secret;
	struct bconn *idle;          /* most recently returned first */
	unsigned nidle, nlent, nopening, nresetting;
	struct pool_waiter *waiters, **waiters_tail;
	unsigned nwaiters;
	uint64_t backoff_until_us;
	uint32_t backoff_ms;
	bool shut;                   /* draining: nothing is kept or opened */
	char last_error[320];
	uint64_t connect_max_us;     /* the slowest connect + login + setup */
	struct pool_stats stats;
};

/* The worker's pool for key, created empty on first use (no connection
 * is opened until one is asked for, or --pool-min-idle wants some).
 * NULL when out of memory. */
struct pool *pool_for(struct worker *w, const struct pool_key *key);

enum pool_borrow { BORROW_NOW, BORROW_WAIT, BORROW_FAILED };

/* BORROW_NOW: *out is a connection (state LINKED, linked to nobody yet).
 * BORROW_WAIT: wt is in line; wt->cont gets one later, or an error.
 * BORROW_FAILED: none can come (the server is down and backing off):
 * *err and msg (msglen bytes) say why.  An idle connection already in
 * schema is preferred; a session without a schema only gets connections
 * without one (no command unselects a schema). */
enum pool_borrow pool_borrow(struct pool *p, struct pool_waiter *wt,
			     const char *schema, struct bconn **out,
			     uint16_t *err, char *msg, size_t msglen);
/* What pool_borrow (or a lender like it) answered, given to wt->cont as
 * if it had waited: the connection now, or the failure; nothing while in
 * line. */
void pool_borrowed(struct pool_waiter *wt, enum pool_borrow r,
		   struct bconn *b, uint16_t err, const char *msg);
/* Takes a waiter out of line (its session went away). */
void pool_cancel(struct pool *p, struct pool_waiter *wt);
/* A session is done with b (unlinked): reset it if b->dirty, then lend
 * it again or keep it idle. */
void pool_return(struct pool *p, struct bconn *b);
/* A session gives up b, broken or in an unknown state: it is closed. */
void pool_drop(struct pool *p, struct bconn *b);

/* A client logged in as the pool's user: what its answer revealed of
 * the password lets myring log in as that user too (kept if the pool
 * knows more already, e.g. the plaintext). */
void pool_learn_secret(struct pool *p, const struct auth_secret *secret);

/* Timeouts, idle and age limits, minimum idle, the cap's wanted count:
 * every worker tick. */
void pool_tick(struct pool *p);
/* A pooled session sends a command to the server (pinned: on a
 * connection it keeps for a pin, not one borrowed for the command). */
void pool_count_command(struct pool *p, bool pinned);
/* The worker's pool_now gauges from its pools: every worker tick. */
void pool_publish(struct worker *w);
/* The worker drains: idle and opening connections close now, lent ones
 * when they come back. */
void pool_shutdown(struct pool *p);
/* Connections of this pool still open (idle, lent, opening). */
unsigned pool_open(const struct pool *p);

#endif
