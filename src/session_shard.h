/*
 * session_shard.h - a pooled session in front of a keyspace (shard_map.h):
 * each COM_QUERY is planned (shard_plan.h) and then
 *
 *   one shard ...... routed like any command, to that shard's group, and
 *                    forwarded without a copy (the fast path stays fast)
 *   several ........ a fanout: one borrowed connection per shard, each sent
 *                    its text; their rows merged (merge.h) or their OKs
 *                    summed into the one answer the client gets
 *   refused ........ an ERR naming what myring cannot answer exactly
 *
 * A fanout is a pending command of the session's that myring answers
 * itself (p->local), streaming its answer once it is at the head of the
 * session's queue; commands the client pipelines behind it are parked
 * (HOLD_FANOUT) until it ends.  The shards' connections are not linked to
 * the session: backend.c reads their packets and hands each to the
 * fanout (bconn's sink), so a session can hold many at once.  A session
 * that goes away leaves its fanout orphaned; the shards' answers are then
 * read to their end and their connections go back to their pools.
 */
#ifndef MYRING_SESSION_SHARD_H
#define MYRING_SESSION_SHARD_H

#include "hooks.h"

#include <stdbool.h>
#include <stddef.h>

struct bconn;
struct session;
struct sql_class;
struct pending;
struct fanout;

/* A COM_QUERY of a session in front of a keyspace.  Returns the verdict:
 * MYRING_REJECT / MYRING_ANSWER with reply filled (refused, EXPLAIN
 * SHARDS), or verdict unchanged with p->route naming the one shard's
 * group, or with p->fanout set (the caller starts it). */
enum myring_verdict shard_query(struct session *s, struct pending *p,
				const struct sql_class *cls,
				const char *sql, size_t len,
				struct myring_reply *reply,
				enum myring_verdict verdict);

/* The session's connection was just borrowed for a transaction's first
 * statement: the BEGIN the client sent earlier goes ahead of it.  0, or
 * -1 when it cannot be queued. */
int shard_begin_request(struct session *s, struct bconn *b);

/* A COM_STMT_PREPARE of such a session: a statement that touches the
 * keyspace's tables is prepared on any shard (they share the schema);
 * what cannot be planned is refused now rather than at execution. */
enum myring_verdict shard_prepare(struct session *s, const char *sql,
				  size_t len, struct myring_reply *reply,
				  enum myring_verdict verdict);

/* A COM_STMT_EXECUTE of statement sc: planned with the parameters it
 * binds; one shard's goes there (p->route), one that needs several is a
 * fanout (p->fanout) of the statement with its values written in, whose
 * merged rows the client gets in the binary protocol. */
struct stmt_client;
enum myring_verdict shard_execute(struct session *s, struct pending *p,
				  struct stmt_client *sc,
				  const uint8_t *payload, size_t len,
				  struct myring_reply *reply,
				  enum myring_verdict verdict);

/* The fanout at the head of the queue starts (borrows, sends). */
void shard_fanout_start(struct session *s, struct pending *p);
/* The client's queue went down: shards held back for it may be read. */
void shard_fanout_sent(struct session *s);
/* The session is going away, or p is completed unanswered: the fanout
 * finishes on its own and frees itself. */
void shard_fanout_orphan(struct pending *p);
/* Whether the fanout of p has sent the client any of its answer. */
bool shard_fanout_sent_any(const struct pending *p);
/* The fanout of p ends its answer now with ERR code (msg), in place of
 * the packet due; its parts end as they can.  false if it cannot: its
 * answer is whole, or waits for the end of its transaction. */
bool shard_fanout_fail(struct pending *p, uint16_t code, const char *msg);

/* p's entry moved (the queue grew): its fanout follows it. */
void shard_fanout_moved(struct pending *p);

#endif
