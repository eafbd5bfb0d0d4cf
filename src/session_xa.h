/*
 * session_xa.h - a keyspace session's transaction that spans shards
 * (docs/transactions.md).
 *
 * A transaction begins as an ordinary one on its first shard (the
 * decision shard, the session's linked connection).  A statement inside
 * it for another shard makes that shard a participant: myring borrows a
 * connection of that shard's pool, keeps it for the transaction, sends
 * XA START there and then the statement; the shard's answer is relayed
 * to the client.  COMMIT runs the two-phase commit of xa_coord.h:
 * XA PREPARE everywhere, the decision record inserted and committed on
 * the decision shard with its own data, XA COMMIT everywhere.
 *
 * Each such statement, COMMIT and ROLLBACK is a pending entry answered by
 * myring (p->local, p->xa), run when it reaches the head of the queue;
 * what the client pipelines behind it waits (HOLD_FANOUT), as behind a
 * fanout.
 */
#ifndef MYRING_SESSION_XA_H
#define MYRING_SESSION_XA_H

#include "hooks.h"
#include "pool.h"
#include "xa_coord.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;
struct pending;
struct sql_class;

/* A statement (sql, len: the shard's text) for shard `shard` while the
 * session's transaction is open on decision_shard: it joins the
 * transaction as an XA branch.  Returns the verdict (p->xa set, or a
 * refusal in reply). */
enum myring_verdict session_xa_route(struct session *s, struct pending *p,
				     unsigned shard, const char *sql,
				     size_t len, int decision_shard,
				     struct myring_reply *reply,
				     enum myring_verdict verdict);

/* A statement (cls) of a session whose transaction spans shards: COMMIT
 * and ROLLBACK become the coordinator's (p->xa); what would end the
 * transaction implicitly is refused.  0 with *verdict set, -1 when the
 * statement is not one of these (it is planned as usual). */
int session_xa_statement(struct session *s, struct pending *p,
			 const struct sql_class *cls, const char *sql,
			 size_t len, struct myring_reply *reply,
			 enum myring_verdict *verdict);

/* Whether the session's transaction spans shards (or will, once the
 * statements queued for it run). */
bool session_xa_open(const struct session *s);

/* p (p->xa) is at the head of the queue: it runs. */
void session_xa_start(struct session *s, struct pending *p);
/* p completes or is dropped: what it carried is freed. */
void session_xa_op_free(struct pending *p);
/* p's entry was copied from `from` to `to` (the queue grew or shifted):
 * the transaction running it follows. */
void session_xa_moved(const struct pending *from, struct pending *to);
/* Whether the entry p (p->xa) has sent the client any of its answer. */
bool session_xa_sent_any(const struct pending *p);
/* A response on the decision shard's connection ended: a transaction
 * the server ended there (a deadlock, an implicit commit) ends its
 * branches too (rolled back). */
void session_xa_response(struct session *s);
/* The session goes away: its branches are rolled back (their
 * connections closed) unless a commit is under way, which finishes on
 * its own (then the decision shard's connection is the commit's). */
void session_xa_release(struct session *s);

/* ---- statements over several shards inside the transaction ----------- */

struct bconn;
struct pool;
struct pool_waiter;
struct xa_txn;
struct pkt_buf;

/* A fanout's part borrows its shard's connection of the transaction. */
struct xa_lease {
	struct xa_txn *t;
	struct pool *pool;         /* the connection's, for its counters */
	unsigned server;
};

/* A fanout (session_shard.c) planned inside the session's transaction,
 * which holds decision_shard: the transaction spans shards from now on.
 * 0, or -1 when out of memory. */
int session_xa_fanout(struct session *s, unsigned decision_shard);
/* The connection the fanout's part for shard runs on, in transaction t
 * (the session's s->xa, or an implicit one): the session's own for the
 * decision shard (BORROW_NOW, *b), the shard's branch for another (for
 * an implicit transaction's decision shard, its own connection with its
 * transaction begun), joined first when new and brought to the
 * session's state (BORROW_WAIT: wt->cont gets it, maybe at once);
 * BORROW_FAILED with err and msg.  *lease says where it goes back. */
enum pool_borrow session_xa_lend(struct xa_txn *t, unsigned shard,
				 struct pool_waiter *wt, struct xa_lease *lease,
				 struct bconn **b, uint16_t *err, char *msg,
				 size_t msglen);
/* The part's answer is over: b goes back to the transaction; lost: it
 * failed or was cut, and the transaction can only roll back. */
void session_xa_give_back(struct xa_lease *lease, unsigned shard,
			  struct bconn *b, bool lost);
/* Every part of the fanout entry p gave its connection back: true when
 * one was lost, then the transaction is rolled back everywhere and p
 * completes once it is (as after a statement that lost its shard);
 * false: the fanout completes p itself. */
bool session_xa_fanout_end(struct session *s, struct pending *p);

/* An autocommit statement over several shards that writes runs as a
 * transaction of its own, committed as a distributed one, so that a
 * shard that fails its part leaves no other changed: its decision shard
 * is decision_shard.  NULL when out of memory.  Its parts borrow their
 * connections with session_xa_lend. */
struct xa_txn *session_xa_implicit(struct session *s, unsigned decision_shard);
/* The session of the implicit transaction t went away: t is rolled back
 * once its statement's parts are back (session_xa_implicit_end). */
void session_xa_implicit_orphan(struct xa_txn *t);
/* Every part of the statement gave its connection back: t commits
 * (commit) or rolls back, and entry p completes with answer (the
 * statement's own, taken over) once it has committed, or once it has
 * rolled back after the statement's own error (commit false); a commit
 * that fails answers ERR 1402 or 1927 instead, as COMMIT does.  p and
 * answer NULL: nobody waits (rolled back). */
void session_xa_implicit_end(struct xa_txn *t, struct pending *p,
			     struct pkt_buf *answer, bool commit);

/* The statement that began the session's transaction ran over several
 * shards as implicit transaction t (its first part's shard the decision
 * shard, session_xa_implicit) and ended well: t stays open as the
 * session's transaction, its decision shard's connection the session's.
 * false when it cannot (a connection of it was lost): the caller rolls
 * t back (session_xa_implicit_end). */
bool session_xa_begun(struct xa_txn *t);

/* ---- recovery (xa_recover.c) ----------------------------------------- */

struct worker;
/* This process's instance id (16 hex digits, random per start). */
const char *xa_instance(void);
/* Worker 0's tick: the periodic recovery of in-doubt branches. */
void xa_recover_tick(struct worker *w);


/* An in-doubt transaction, as recovery last saw it (stats.transactions). */
struct xa_indoubt {
	char gtrid[XA_GTRID_MAX + 1];
	char participants[200];    /* the shards where a branch is prepared */
	const char *state;         /* "in doubt", "committing", ... */
	unsigned decision_shard;
	uint64_t age_ms;           /* since recovery first saw it */
};
/* A copy of what recovery saw last (any thread): up to max, the number. */
unsigned xa_indoubt_copy(struct xa_indoubt *out, unsigned max);
/* The admin port's XA COMMIT / XA ROLLBACK 'gtrid': the next sweep
 * resolves it without waiting (if no decision is recorded yet).  0, or
 * -1 if gtrid is not myring's or too many wait. */
int xa_resolve(const char *gtrid, bool commit);

#endif
