/*
 * shard_seq.c - the keyspace's sequences on one worker (shard_seq.h).
 *
 * A fetch's life, on a connection borrowed from the sequence's shard's
 * pool (never a blocking call: each step is a continuation):
 *
 *   borrow ──> UPDATE ... LAST_INSERT_ID(next_id + n) ──OK, 1 row──> block
 *                 │                                                  │
 *                 ├─ no table (1146, 1049): CREATE DATABASE, CREATE   │ in a
 *                 │  TABLE, INSERT IGNORE the row, UPDATE again       │ transaction
 *                 └─ no row (0 rows): INSERT IGNORE, UPDATE again     v (autocommit
 *                                                                 COMMIT  off)
 *
 * then the connection goes back to its pool and the block to the cache;
 * the waiters are served in order, and a fetch starts again for those
 * the block was not enough for.
 */
#include "shard_seq.h"

#include "worker.h"

#include "log.h"
#include "mysql_proto.h"
#include "seq_block.h"
#include "shard_map.h"
#include "session.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum seq_step {
	STEP_UPDATE,            /* the UPDATE alone */
	STEP_ROW,               /* the row was missing: INSERT IGNORE + UPDATE */
	STEP_SETUP,             /* the table was: CREATE ... + INSERT + UPDATE */
	STEP_COMMIT,            /* autocommit was off: COMMIT the UPDATE */
};

struct seq_state {
	struct worker *w;
	unsigned idx;
	struct seq_block cache;
	struct seq_wait *waiters, **tail;
	uint64_t need;          /* keys the waiters want */
	bool fetching;
	uint8_t step;
	uint64_t asked;         /* keys the UPDATE in flight asks for */
	struct pool *pool;
	struct pool_waiter pw;
	struct bconn *b;        /* the connection of the fetch, or NULL */
	bool got;               /* the UPDATE's OK came */
	uint64_t got_id, got_rows;
};

struct shard_seqs {
	unsigned n;
	struct seq_state seq[];
};

static const struct shard_sequence *def_of(const struct seq_state *ss)
{
	return &ss->w->px->cfg.keyspace->sequences[ss->idx];
}

static struct seq_state *state_of(struct worker *w, unsigned seq)
{
	const struct keyspace *ks = w->px->cfg.keyspace;

	if (!ks || seq >= ks->nsequences)
		return NULL;
	if (!w->seqs) {
		w->seqs = calloc(1, sizeof(*w->seqs) +
				 ks->nsequences * sizeof(w->seqs->seq[0]));
		if (!w->seqs)
			return NULL;
		w->seqs->n = ks->nsequences;
		for (unsigned i = 0; i < ks->nsequences; i++) {
			struct seq_state *ss = &w->seqs->seq[i];

			ss->w = w;
			ss->idx = i;
			ss->tail = &ss->waiters;
		}
	}
	return &w->seqs->seq[seq];
}

static void fetch(struct seq_state *ss, struct session *s);

/* Serves the waiters in order while the cache has their keys; fetches
 * again (for the first one left, with its session) when it runs low. */
static void serve(struct seq_state *ss, uint16_t err, const char *msg)
{
	while (ss->waiters) {
		struct seq_wait *wt = ss->waiters;

		if (!err && seq_block_take(&ss->cache, wt->n, wt->keys))
			break;
		ss->waiters = wt->next;
		if (!ss->waiters)
			ss->tail = &ss->waiters;
		ss->need -= wt->n;
		wt->queued = false;
		if (!err)
			ss->w->stats.shard_seq_keys += wt->n;
		wt->cont(wt, err, msg);
	}
	if (ss->waiters && !ss->fetching) {
		fetch(ss, ss->waiters->s);
		/* Nothing to fetch into: the cache holds all the ranges it
		 * can, and they are not enough for the first waiter. */
		if (!ss->fetching && !err)
			serve(ss, 1235, "myring: this INSERT needs more keys of "
			      "the sequence than a worker holds at once (raise "
			      "its block:)");
	}
}

static void fetch_end(struct seq_state *ss, struct bconn *b, uint16_t err,
		      const char *msg)
{
	ss->b = NULL;
	if (b) {
		b->sink = NULL;
		b->sink_ctx = NULL;
		if (err || b->failed || b->c.closing)
			pool_drop(ss->pool, b);
		else
			pool_return(ss->pool, b);
	}
	ss->fetching = false;
	if (err) {
		LOGW("sequence %s: cannot take a block: %u %s", def_of(ss)->name,
		     err, msg);
		ss->w->stats.shard_seq_errors++;
	}
	serve(ss, err, msg);
}

/* The UPDATE's OK (the last request's packets come here). */
static void update_packet(void *ctx, const uint8_t *pkt, uint32_t len)
{
	struct seq_state *ss = ctx;
	struct mysql_ok_ext ok;

	if (len && pkt[0] == 0x00 && ss->b &&
	    mysql_parse_ok_ext(pkt, len, ss->b->caps, &ok) == 0) {
		ss->got = true;
		ss->got_id = ok.ok.last_insert_id;
		ss->got_rows = ok.ok.affected_rows;
	}
}

static int query(struct bconn *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int query(struct bconn *b, const char *fmt, ...)
{
	char q[400];
	va_list ap;
	int n;

	q[0] = COM_QUERY;
	va_start(ap, fmt);
	n = vsnprintf(q + 1, sizeof(q) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(q) - 1)
		return -1;
	return bconn_request(b, q, 1 + (size_t)n, RESP_RESULT);
}

static void update_done(struct bconn *b, uint16_t err, const char *msg);

/* The requests of this step, then the UPDATE whose OK says the block. */
static void send_step(struct seq_state *ss, struct bconn *b)
{
	const struct shard_sequence *q = def_of(ss);
	int rc = 0;

	if (ss->step == STEP_SETUP)
		rc = query(b, "CREATE DATABASE IF NOT EXISTS myring") ||
		     query(b, "CREATE TABLE IF NOT EXISTS myring.sequences ("
			   "name VARCHAR(64) NOT NULL PRIMARY KEY, "
			   "next_id BIGINT UNSIGNED NOT NULL)");
	if (!rc && ss->step >= STEP_ROW)
		rc = query(b, "INSERT IGNORE INTO myring.sequences (name, "
			   "next_id) VALUES ('%s', %llu)", q->name,
			   (unsigned long long)q->start);
	if (!rc)
		rc = query(b, "UPDATE myring.sequences SET next_id = "
			   "LAST_INSERT_ID(next_id + %llu) WHERE name = '%s'",
			   (unsigned long long)ss->asked, q->name);
	if (rc) {
		fetch_end(ss, b, 1105, "myring: cannot queue the sequence's "
			  "statements");
		return;
	}
	ss->got = false;
	b->sink = update_packet;
	b->sink_ctx = ss;
	bconn_run(b, update_done);
}

static void got_block(struct seq_state *ss, struct bconn *b)
{
	uint64_t start, end;
	char msg[200];

	if (seq_block_from_ok(ss->got_id, ss->asked, &start, &end) ||
	    seq_block_add(&ss->cache, start, end)) {
		snprintf(msg, sizeof(msg), "myring: sequence %s: the server "
			 "answered next_id %llu for a block of %llu keys (keys "
			 "are 1 to 2^63-1, ascending)", def_of(ss)->name,
			 (unsigned long long)ss->got_id,
			 (unsigned long long)ss->asked);
		fetch_end(ss, b, 1105, msg);
		return;
	}
	ss->w->stats.shard_seq_blocks++;
	fetch_end(ss, b, 0, NULL);
}

static void commit_done(struct bconn *b, uint16_t err, const char *msg)
{
	struct seq_state *ss = b->sink_ctx;

	if (err) {
		fetch_end(ss, b, err, msg);
		return;
	}
	got_block(ss, b);
}

static void update_done(struct bconn *b, uint16_t err, const char *msg)
{
	struct seq_state *ss = b->sink_ctx;

	if (ss->got && ss->got_rows == 1) {
		if (b->status & SERVER_STATUS_IN_TRANS) {
			/* The connection has autocommit off: the block is
			 * the shard's only once committed. */
			ss->step = STEP_COMMIT;
			if (query(b, "COMMIT")) {
				fetch_end(ss, b, 1105, "myring: cannot queue "
					  "the sequence's COMMIT");
				return;
			}
			bconn_run(b, commit_done);
			return;
		}
		got_block(ss, b);
		return;
	}
	if (b->failed || b->c.closing) {
		fetch_end(ss, b, err ? err : ER_BACKEND_LOST, msg && *msg ? msg :
			  "myring: the sequence's connection failed");
		return;
	}
	if (!ss->got && (err == 1146 || err == 1049) && ss->step < STEP_SETUP) {
		ss->step = STEP_SETUP;          /* no table: make it */
		send_step(ss, b);
		return;
	}
	if (ss->got && !ss->got_rows && ss->step < STEP_ROW) {
		ss->step = STEP_ROW;            /* no row: add it */
		send_step(ss, b);
		return;
	}
	if (!err) {
		char m[200];

		snprintf(m, sizeof(m), "myring: sequence %s: its row in "
			 "myring.sequences could not be added", def_of(ss)->name);
		fetch_end(ss, b, 1105, m);
		return;
	}
	fetch_end(ss, b, err, msg);
}

static void lent(struct pool_waiter *pw, struct bconn *b, uint16_t err,
		 const char *msg)
{
	struct seq_state *ss = (struct seq_state *)((char *)pw -
		offsetof(struct seq_state, pw));

	if (!b) {
		char m[300];

		snprintf(m, sizeof(m), "myring: sequence %s: shard %s: %s",
			 def_of(ss)->name,
			 ss->w->px->cfg.keyspace->shards[def_of(ss)->shard].name,
			 msg ? msg : "no connection");
		fetch_end(ss, NULL, err ? err : ER_BACKEND_UNREACHABLE, m);
		return;
	}
	ss->b = b;
	ss->step = STEP_UPDATE;
	send_step(ss, b);
}

/* Starts a fetch for what the waiters need (and half a block more), on a
 * connection of s's login to the sequence's shard's primary. */
static void fetch(struct seq_state *ss, struct session *s)
{
	const struct keyspace *ks = ss->w->px->cfg.keyspace;
	const struct shard_sequence *q = def_of(ss);
	struct pool_key key = s->pool_key;
	struct bconn *b = NULL;
	const char *why;
	uint16_t err = 0;
	char msg[200];
	enum pool_borrow r;

	if (ss->fetching)
		return;
	ss->asked = seq_block_want(&ss->cache, q->block, ss->need);
	if (!ss->asked)
		return;
	ss->fetching = true;
	if (route_choose(s, ks->shards[q->shard].group, false, -1, &key.server,
			 &why, &err, msg, sizeof(msg))) {
		lent(&ss->pw, NULL, err, msg);
		return;
	}
	ss->pool = pool_for(ss->w, &key);
	if (!ss->pool) {
		fetch_end(ss, NULL, 1105, "myring: out of memory");
		return;
	}
	ss->pw.cont = lent;
	r = pool_borrow(ss->pool, &ss->pw, NULL, &b, &err, msg, sizeof(msg));
	pool_borrowed(&ss->pw, r, b, err, msg);
}

int shard_seq_take(struct session *s, unsigned seq, unsigned n,
		   int64_t *keys)
{
	struct seq_state *ss = state_of(s->c.w, seq);

	/* Waiters first: keys go out in the order they were asked for. */
	if (!ss || ss->waiters || seq_block_take(&ss->cache, n, keys))
		return -1;
	s->c.w->stats.shard_seq_keys += n;
	if (!ss->fetching)
		fetch(ss, s);
	return 0;
}

void shard_seq_prefetch(struct session *s, unsigned seq)
{
	struct seq_state *ss = state_of(s->c.w, seq);

	if (ss && !ss->fetching)
		fetch(ss, s);
}

void shard_seq_wait(struct session *s, unsigned seq, struct seq_wait *wt)
{
	struct seq_state *ss = state_of(s->c.w, seq);

	if (!ss) {
		wt->cont(wt, 1105, "myring: out of memory");
		return;
	}
	wt->next = NULL;
	wt->queued = true;
	*ss->tail = wt;
	ss->tail = &wt->next;
	ss->need += wt->n;
	if (ss->fetching)
		return;
	/* The cache may serve it already (waiters ahead of it gone). */
	serve(ss, 0, NULL);
	if (wt->queued && !ss->fetching)
		fetch(ss, s);
}

void shard_seq_cancel(struct worker *w, unsigned seq, struct seq_wait *wt)
{
	struct seq_state *ss = w->seqs && seq < w->seqs->n ?
			       &w->seqs->seq[seq] : NULL;

	if (!ss || !wt->queued)
		return;
	for (struct seq_wait **p = &ss->waiters; *p; p = &(*p)->next) {
		if (*p != wt)
			continue;
		*p = wt->next;
		if (ss->tail == &wt->next)
			ss->tail = p;
		ss->need -= wt->n;
		wt->queued = false;
		return;
	}
}

void shard_seq_free(struct worker *w)
{
	free(w->seqs);
	w->seqs = NULL;
}
