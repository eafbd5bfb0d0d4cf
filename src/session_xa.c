/*
 * session_xa.c - runs a keyspace session's transaction over several shards
 * (session_xa.h): the branches' connections, the statements relayed from
 * them, and the actions of the commit coordinator (xa_coord.h) performed
 * as chains of bconn requests, one continuation per completion.
 *
 * Whose is what:
 *
 *   struct xa_txn     the session's (s->xa) while it lives; a session
 *                     that goes away in the middle of a commit leaves it
 *                     to finish alone (t->s NULL), with the decision
 *                     shard's connection if a step of the commit runs on
 *                     it (t->local)
 *   struct xa_part    one branch: a connection of its shard's pool, held
 *                     until the transaction ends.  Between statements its
 *                     receive is paused (PAUSE_IDLE): a server that goes
 *                     away is noticed by the next request, which fails
 *   struct xa_op      what a pending entry asks (p->xa): a statement for a
 *                     branch, COMMIT or ROLLBACK
 *
 * Every connection of the transaction carries its owner in b->sink_ctx
 * (the part, or the txn for the decision shard) while myring's requests
 * run on it; b->sink is set only while a statement's answer is relayed.
 */
#include "session.h"
#include "session_xa.h"

#include "log.h"
#include "mysql_proto.h"
#include "mysql_srv.h"
#include "shard_map.h"
#include "sql_classify.h"
#include "xa_coord.h"
#include "xa_fault.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Relayed answers go to the client's queue in chunks of about this. */
#define XA_CHUNK (64u << 10)

/* MariaDB's "the transaction branch was rolled back" (XA_RBROLLBACK). */
#define ER_XA_RBROLLBACK 1402

/* XOP_WAIT: an autocommit statement over several shards waits for its
 * implicit transaction's end (session_xa_implicit_end). */
enum xa_op_kind { XOP_STMT, XOP_COMMIT, XOP_ROLLBACK, XOP_WAIT };

struct xa_txn;

struct xa_op {
	uint8_t kind;
	unsigned shard;            /* XOP_STMT */
	char *sql;
	size_t len;
	struct xa_txn *t;          /* while it runs */
};

struct xa_part {
	struct xa_txn *t;
	unsigned idx;              /* in the coordinator */
	unsigned shard;
	unsigned server;
	struct pool *pool;
	struct pool_waiter wait;
	struct bconn *b;           /* NULL until lent, or once let go */
	bool started;              /* XA START (BEGIN: local) succeeded */
	/* The decision shard's transaction of an implicit one, not a branch:
	 * once ready its connection is the transaction's (t->local). */
	bool local;
	bool busy;                 /* requests of myring's run on it, or a
	                            * fanout's part has it */
	/* A fanout's part waiting for this branch to be ready, or NULL. */
	struct pool_waiter *lend;
	uint8_t step;              /* enum xa_do of the requests */
};

struct xa_txn {
	struct session *s;         /* NULL once the session went away */
	struct worker *w;
	struct pending *p;         /* the entry running, or NULL */
	char gtrid[XA_GTRID_MAX + 1];
	unsigned decision_shard;
	struct xa_coord coord;
	struct xa_part *parts[XA_PARTS_MAX];
	/* The decision shard's connection once the session left it to the
	 * commit (otherwise it is s->be), and its pool. */
	struct bconn *local;
	struct pool *local_pool;
	bool local_busy;
	uint8_t local_what;        /* enum xa_do: what runs on it */
	uint64_t local_sent_us;
	unsigned busy;             /* connections with requests running */
	bool client_rollback;      /* the entry is the client's ROLLBACK */
	bool doomed;               /* a statement's error ended it */
	bool lent_lost;            /* a connection lent to a fanout went */
	/* An autocommit statement over several shards made atomic
	 * (session_xa_implicit): not the session's s->xa; its decision
	 * shard's connection is t->local, joined through lpart; the
	 * statement's answer waits in held for the outcome. */
	bool implicit;
	struct xa_part *lpart;
	struct pkt_buf held;
	bool freed;
	unsigned depth;            /* perform() calls under way */
	struct pkt_buf out;        /* the entry's answer as it grows */
	bool flight;
	uint16_t err;              /* the first failure, for the client */
	char err_msg[256];
	uint64_t start_us;
	/* The coordinator's state when last seen, and since when (a
	 * monotonic clock): the phases' times (worker stats). */
	uint8_t phase;
	uint64_t phase_since_us;
};

static uint64_t xa_counter;  /* per process; each worker adds its id */

static uint64_t mono_us(void);

static const struct keyspace *keyspace_of(const struct session *s)
{
	return s->c.w->px->cfg.keyspace;
}

static void perform(struct xa_txn *t, const struct xa_action *acts,
		    unsigned n);

/* ---- the transaction ------------------------------------------------- */

static struct xa_txn *txn_new(struct session *s, unsigned decision_shard)
{
	struct xa_txn *t = calloc(1, sizeof(*t));
	uint64_t number;

	if (!t)
		return NULL;
	number = (__atomic_add_fetch(&xa_counter, 1, __ATOMIC_RELAXED) << 8) |
		 (s->c.w->id & 0xff);
	if (xa_gtrid_make(t->gtrid, sizeof(t->gtrid), xa_instance(),
			  decision_shard, number)) {
		free(t);
		return NULL;
	}
	t->s = s;
	t->w = s->c.w;
	t->decision_shard = decision_shard;
	t->start_us = s->c.w->now_us;
	xa_coord_init(&t->coord, 0);
	pkt_buf_init(&t->out);
	pkt_buf_init(&t->held);
	s->c.w->stats.xa_transactions++;
	return t;
}

static void part_let_go(struct xa_part *pt, bool clean);

static void txn_free(struct xa_txn *t)
{
	for (unsigned i = 0; i < t->coord.nparts; i++)
		free(t->parts[i]);
	if (t->lpart)
		part_let_go(t->lpart, false);
	free(t->lpart);
	pkt_buf_free(&t->out);
	pkt_buf_free(&t->held);
	free(t);
}

/* A part's connection is let go: back to its pool when it is clean (the
 * branch is over and every request answered), closed otherwise, which
 * rolls back a branch that is not prepared and leaves a prepared one to
 * recovery. */
static void part_let_go(struct xa_part *pt, bool clean)
{
	struct bconn *b = pt->b;

	if (pt->wait.queued)
		pool_cancel(pt->pool, &pt->wait);
	if (!b)
		return;
	pt->b = NULL;
	b->sink = NULL;
	b->sink_ctx = NULL;
	conn_resume(&b->c, PAUSE_IDLE);
	if (clean && !b->failed && !b->c.closing &&
	    !(b->status & SERVER_STATUS_IN_TRANS))
		pool_return(pt->pool, b);
	else
		pool_drop(pt->pool, b);
}

/* Nothing of the transaction runs any more and nobody needs it. */
static void maybe_free(struct xa_txn *t)
{
	if (t->s || t->busy || t->depth || t->freed)
		return;
	t->freed = true;
	if (t->local) {
		struct bconn *b = t->local;
		t->local = NULL;
		b->sink_ctx = NULL;
		/* An open transaction on it is rolled back by the reset. */
		b->dirty = true;
		if (b->failed || b->c.closing || t->coord.outcome == XA_UNKNOWN)
			pool_drop(t->local_pool, b);
		else
			pool_return(t->local_pool, b);
	}
	for (unsigned i = 0; i < t->coord.nparts; i++)
		part_let_go(t->parts[i], t->coord.state == XA_DONE &&
			    t->coord.outcome != XA_UNKNOWN);
	txn_free(t);
}

/* ---- the client's answer --------------------------------------------- */

static void flush_out(struct xa_txn *t)
{
	if (t->p)
		session_answer_flush(t->s, &t->out, &t->flight, t->p->serial,
				     t->p->zseq);
}

/* The running entry's answer is whole: it completes, and what the client
 * pipelined behind it goes on. */
static void entry_done(struct xa_txn *t)
{
	struct session *s = t->s;
	struct pending *p = t->p;

	if (!p)
		return;
	flush_out(t);
	t->p = NULL;
	t->flight = false;
	session_xa_op_free(p);
	if (!s)
		return;
	if (s->fanouts && !--s->fanouts)
		session_release(s, HOLD_FANOUT);
	if (!session_done(s)) {
		inject_local_heads(s);
		pooled_maybe_return(s);
	}
}

static void answer_err(struct xa_txn *t, uint16_t code, const char *state,
		       const char *msg)
{
	if (!t->p)
		return;
	t->p->local_err = code;
	srv_err(&t->out, code, state, msg);
}

static void answer_ok(struct xa_txn *t)
{
	uint8_t pkt[32];
	size_t n = mysql_build_ok(pkt, 0, 0, 0, SERVER_STATUS_AUTOCOMMIT, 0);

	pkt_buf_packet(&t->out, pkt + MYSQL_HDR_LEN, n - MYSQL_HDR_LEN);
}

static void note_err(struct xa_txn *t, uint16_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_err(struct xa_txn *t, uint16_t code, const char *fmt, ...)
{
	va_list ap;

	if (t->err)
		return;
	t->err = code;
	va_start(ap, fmt);
	vsnprintf(t->err_msg, sizeof(t->err_msg), fmt, ap);
	va_end(ap);
}

static const char *shard_name(const struct xa_txn *t, unsigned shard)
{
	return t->w->px->cfg.keyspace->shards[shard].name;
}

/* The test hook (xa_fault.h): a pause queued ahead of the step that
 * follows point, on that step's connection.  0 when there is none. */
static int fault_pause(struct xa_txn *t, struct bconn *b,
		       enum xa_fault_point point)
{
	unsigned ms = xa_fault_pause_ms(point);
	char q[64];
	int n;

	if (!ms)
		return 0;
	LOGI("xa fault: %s pauses %u ms (MYRING_XA_FAULT)", t->gtrid, ms);
	n = snprintf(q, sizeof(q), "%cDO SLEEP(%u.%03u)", COM_QUERY,
		     ms / 1000, ms % 1000);
	return bconn_request(b, q, (size_t)n, RESP_RESULT);
}

/* The coordinator's last action: the outcome is known (or known to be
 * recovery's).  The transaction is over for the session. */
static void finished(struct xa_txn *t, enum xa_outcome outcome)
{
	struct session *s = t->s;
	char msg[600];

	if (outcome == XA_COMMITTED)
		t->w->stats.xa_committed++;
	else if (outcome == XA_ROLLED_BACK)
		t->w->stats.xa_rolled_back++;
	else
		t->w->stats.xa_unknown++;
	if (t->p && !t->doomed) {
		if (t->implicit && (t->client_rollback ||
				    outcome == XA_COMMITTED)) {
			/* The statement's own answer (its OK, or its error
			 * that rolled it back). */
			pkt_buf_free(&t->out);
			t->out = t->held;
			pkt_buf_init(&t->held);
		} else if (t->client_rollback || outcome == XA_COMMITTED) {
			answer_ok(t);
		} else if (outcome == XA_ROLLED_BACK) {
			snprintf(msg, sizeof(msg), "myring: the distributed "
				 "transaction was rolled back: %s",
				 t->err_msg[0] ? t->err_msg : "a shard failed");
			answer_err(t, ER_XA_RBROLLBACK, "XA100", msg);
		} else {
			snprintf(msg, sizeof(msg), "myring: the outcome of the "
				 "distributed transaction %s is not known yet: "
				 "%s; recovery completes it on every shard "
				 "(see stats.transactions)", t->gtrid,
				 t->err_msg[0] ? t->err_msg : "the decision "
				 "shard did not answer");
			answer_err(t, ER_BACKEND_LOST, "08S01", msg);
		}
	}
	if (s) {
		if (s->xa == t) {
			s->xa = NULL;
			s->in_trans = false;
			/* Its end was myring's COMMIT or ROLLBACK: the session
			 * did not see the server say so, and must, to let its
			 * connection go. */
			mysql_state_trx_ended(&s->st);
		}
		entry_done(t);
		t->s = NULL;
	}
	maybe_free(t);
}

/* ---- the decision shard ---------------------------------------------- */

static struct bconn *local_conn(struct xa_txn *t)
{
	if (t->local)
		return t->local;
	if (!t->implicit && t->s && t->s->be && !t->s->be->failed &&
	    !t->s->be->c.closing)
		return t->s->be;
	return NULL;
}

static enum xa_result result_of(struct bconn *b, uint16_t err)
{
	if (b->failed || b->c.closing)
		return XA_LOST;
	if (err == 1062)
		return XA_DUPLICATE;
	return err ? XA_FAILED : XA_OK;
}

static void local_done(struct bconn *b, uint16_t err, const char *msg)
{
	struct xa_txn *t = b->sink_ctx;
	struct session *s = t->s;
	struct xa_action acts[XA_PARTS_MAX + 2];
	enum xa_result r = result_of(b, err);
	enum xa_do what = (enum xa_do)t->local_what;
	unsigned n;

	b->sink_ctx = NULL;
	t->local_busy = false;
	t->busy--;
	if (what == XA_DO_RECORD)
		/* It runs beside the branches' prepares: its own time. */
		t->w->stats.xa_record_us += mono_us() - t->local_sent_us;
	if (s && s->be == b) {
		session_link(s, b);
		if (r == XA_LOST) {
			session_unlink(s);
			pool_drop(s->pool, b);
		}
	} else if (t->local == b && r == XA_LOST) {
		t->local = NULL;
		pool_drop(t->local_pool, b);
	}
	if (r != XA_OK && what != XA_DO_ROLLBACK_LOCAL)
		note_err(t, err, "%s on the decision shard %s: %s",
			 xa_do_name(what), shard_name(t, t->decision_shard),
			 r == XA_DUPLICATE ? "recovery rolled the transaction "
			 "back first" : r == XA_LOST ? "its connection was "
			 "lost" : msg);
	n = xa_coord_result(&t->coord, what, 0, r, acts);
	perform(t, acts, n);
}

static void local_step(struct xa_txn *t, enum xa_do what)
{
	struct xa_action acts[XA_PARTS_MAX + 2];
	struct bconn *b = local_conn(t);
	char sql[600];
	int n = 0;

	switch (what) {
	case XA_DO_RECORD: {
		char parts[XA_PARTS_MAX * 4] = "";
		size_t off = 0;
		for (unsigned i = 0; i < t->coord.nparts; i++)
			off += (size_t)snprintf(parts + off, sizeof(parts) - off,
						"%s%u", i ? "," : "",
						t->parts[i]->shard);
		n = snprintf(sql, sizeof(sql), "%cINSERT INTO "
			     "myring.xa_decisions (gtrid, decision, "
			     "participants) VALUES ('%s', 'commit', '%s')",
			     COM_QUERY, t->gtrid, parts);
		break;
	}
	case XA_DO_COMMIT_LOCAL:
		n = snprintf(sql, sizeof(sql), "%cCOMMIT", COM_QUERY);
		break;
	default:
		n = snprintf(sql, sizeof(sql), "%cROLLBACK", COM_QUERY);
		break;
	}
	if (!b || fault_pause(t, b, what == XA_DO_RECORD ?
			      XA_FAULT_AFTER_PREPARE : what ==
			      XA_DO_COMMIT_LOCAL ? XA_FAULT_AFTER_RECORD :
			      XA_FAULT_NONE) ||
	    bconn_request(b, sql, (size_t)n, RESP_RESULT)) {
		if (what != XA_DO_ROLLBACK_LOCAL)
			note_err(t, ER_BACKEND_LOST, "the decision shard %s "
				 "has no connection",
				 shard_name(t, t->decision_shard));
		n = (int)xa_coord_result(&t->coord, what, 0, XA_LOST, acts);
		perform(t, acts, (unsigned)n);
		return;
	}
	t->local_busy = true;
	t->local_what = (uint8_t)what;
	t->local_sent_us = mono_us();
	t->busy++;
	b->sink_ctx = t;
	bconn_run(b, local_done);
}

/* ---- the branches ---------------------------------------------------- */

static void branch_done(struct bconn *b, uint16_t err, const char *msg)
{
	struct xa_part *pt = b->sink_ctx;
	struct xa_txn *t = pt->t;
	struct xa_action acts[XA_PARTS_MAX + 2];
	enum xa_result r = result_of(b, err);
	enum xa_do what = (enum xa_do)pt->step;
	unsigned n;

	pt->busy = false;
	t->busy--;
	if (r == XA_LOST) {
		pt->b = NULL;
		b->sink_ctx = NULL;
		pool_drop(pt->pool, b);
	} else {
		conn_pause(&b->c, PAUSE_IDLE);
		if (r != XA_OK && what == XA_DO_ROLLBACK_BRANCH)
			/* Whatever state its branch is in, closing ends it
			 * (a prepared one is recovery's: no record). */
			part_let_go(pt, false);
	}
	if (r != XA_OK && what == XA_DO_PREPARE)
		note_err(t, err, "XA PREPARE on shard %s: %s",
			 shard_name(t, pt->shard), r == XA_LOST ?
			 "its connection was lost" : msg);
	n = xa_coord_result(&t->coord, what, pt->idx, r, acts);
	perform(t, acts, n);
}

static void branch_step(struct xa_txn *t, struct xa_part *pt, enum xa_do what)
{
	struct xa_action acts[XA_PARTS_MAX + 2];
	char q[2][200];
	int len[2], nq = 0;
	/* A connection being closed (the drain cut it) runs nothing more. */
	bool ok = pt->b && !pt->b->failed && !pt->b->c.closing;

	switch (what) {
	case XA_DO_PREPARE:
		len[nq] = xa_sql(q[nq] + 1, sizeof(q[0]) - 1, "END", t->gtrid,
				 pt->shard);
		nq++;
		len[nq] = xa_sql(q[nq] + 1, sizeof(q[0]) - 1, "PREPARE",
				 t->gtrid, pt->shard);
		nq++;
		break;
	case XA_DO_COMMIT_BRANCH:
		len[nq] = xa_sql(q[nq] + 1, sizeof(q[0]) - 1, "COMMIT",
				 t->gtrid, pt->shard);
		nq++;
		break;
	default:
		if (t->coord.branch[pt->idx] == BR_ACTIVE) {
			len[nq] = xa_sql(q[nq] + 1, sizeof(q[0]) - 1, "END",
					 t->gtrid, pt->shard);
			nq++;
		}
		len[nq] = xa_sql(q[nq] + 1, sizeof(q[0]) - 1, "ROLLBACK",
				 t->gtrid, pt->shard);
		nq++;
		break;
	}
	if (!pt->started && what == XA_DO_ROLLBACK_BRANCH) {
		/* Never started: nothing to roll back. */
		part_let_go(pt, true);
		nq = (int)xa_coord_result(&t->coord, what, pt->idx, XA_OK,
					  acts);
		perform(t, acts, (unsigned)nq);
		return;
	}
	if (ok && what == XA_DO_COMMIT_BRANCH &&
	    fault_pause(t, pt->b, XA_FAULT_AFTER_DECISION))
		ok = false;
	for (int i = 0; ok && i < nq; i++) {
		q[i][0] = COM_QUERY;
		ok = len[i] > 0 && !bconn_request(pt->b, q[i],
						  (size_t)len[i] + 1,
						  RESP_RESULT);
	}
	if (!ok) {
		if (pt->b)
			part_let_go(pt, false);
		nq = (int)xa_coord_result(&t->coord, what, pt->idx, XA_LOST,
					  acts);
		perform(t, acts, (unsigned)nq);
		return;
	}
	pt->step = (uint8_t)what;
	pt->busy = true;
	t->busy++;
	pt->b->sink_ctx = pt;
	conn_resume(&pt->b->c, PAUSE_IDLE);
	bconn_run(pt->b, branch_done);
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* Adds the time of the phase that just ended to its counter. */
static void phase_note(struct xa_txn *t)
{
	struct worker_stats *st = &t->w->stats;
	uint64_t now;

	if (t->coord.state == t->phase)
		return;
	now = mono_us();
	if (t->phase_since_us) {
		uint64_t d = now - t->phase_since_us;
		switch (t->phase) {
		case XA_PREPARING:
			st->xa_prepare_us += d;
			break;
		case XA_DECIDING:
			st->xa_decide_us += d;
			break;
		case XA_COMMITTING:
			st->xa_finish_us += d;
			break;
		}
	}
	t->phase = (uint8_t)t->coord.state;
	t->phase_since_us = now;
}

/* The actions, in order; a result that comes at once (a connection
 * that is gone) continues from inside, so the transaction is freed only
 * once the outermost call is done with it. */
static void perform(struct xa_txn *t, const struct xa_action *acts,
		    unsigned n)
{
	phase_note(t);
	t->depth++;
	for (unsigned i = 0; i < n; i++) {
		const struct xa_action *a = &acts[i];
		struct xa_part *pt = t->parts[a->part];

		switch (a->what) {
		case XA_DO_RECORD:
		case XA_DO_COMMIT_LOCAL:
		case XA_DO_ROLLBACK_LOCAL:
			local_step(t, (enum xa_do)a->what);
			break;
		case XA_DO_ABANDON:
			part_let_go(pt, false);
			break;
		case XA_DO_REPLY:
			finished(t, (enum xa_outcome)a->outcome);
			break;
		default:
			branch_step(t, pt, (enum xa_do)a->what);
			break;
		}
	}
	t->depth--;
	maybe_free(t);
}

/* ---- statements on a branch ------------------------------------------ */

/* A packet of a branch's answer to the client's statement (the sink). */
static void relay_packet(void *ctx, const uint8_t *pkt, uint32_t len)
{
	struct xa_part *pt = ctx;
	struct xa_txn *t = pt->t;

	if (!t->p)
		return;
	pkt_buf_packet(&t->out, pkt, len);
	if (t->out.len >= XA_CHUNK)
		flush_out(t);
}

/* Errors after which the server has rolled the branch back: the whole
 * transaction goes, as a deadlock ends a MySQL transaction. */
static bool rolls_back(uint16_t err)
{
	return err == 1213 || err == 1614 || err == 1613 || err == 1402 ||
	       err == 1400 || err == 1399;
}

/* The transaction ends because of a statement's error: everything is
 * rolled back; the client's answer is that error (already relayed). */
static void doom(struct xa_txn *t)
{
	struct xa_action acts[XA_PARTS_MAX + 2];

	t->doomed = true;
	t->w->stats.xa_doomed++;
	perform(t, acts, xa_coord_rollback(&t->coord, acts));
}

static void stmt_done(struct bconn *b, uint16_t err, const char *msg)
{
	struct xa_part *pt = b->sink_ctx;
	struct xa_txn *t = pt->t;
	bool lost = b->failed || b->c.closing;

	(void)msg;
	b->sink = NULL;
	pt->busy = false;
	t->busy--;
	if (lost) {
		b->sink_ctx = NULL;
		pt->b = NULL;
		pool_drop(pt->pool, b);
		t->coord.branch[pt->idx] = BR_LOST;
		answer_err(t, ER_BACKEND_LOST, "08S01", "myring: the connection "
			   "to a shard of the transaction was lost; the "
			   "transaction was rolled back");
	} else {
		conn_pause(&b->c, PAUSE_IDLE);
		if (t->p)
			t->p->local_err = err;
	}
	if (!t->s) {
		maybe_free(t);
		return;
	}
	if (lost || rolls_back(err)) {
		doom(t);
		return;
	}
	entry_done(t);
}

/* The branch's connection is in the session's state and its branch
 * started: the statement goes. */
static void send_stmt(struct xa_part *pt)
{
	struct xa_txn *t = pt->t;
	struct xa_op *op = t->p->xa;
	struct bconn *b = pt->b;
	uint8_t *q = malloc(1 + op->len);

	if (!q || (q[0] = COM_QUERY, memcpy(q + 1, op->sql, op->len),
		   bconn_request(b, q, 1 + op->len, RESP_RESULT))) {
		free(q);
		answer_err(t, 1105, "HY000", "myring: cannot send a statement "
			   "to a shard of the transaction");
		entry_done(t);
		return;
	}
	free(q);
	b->sink = relay_packet;
	b->sink_ctx = pt;
	pt->busy = true;
	t->busy++;
	t->s->c.w->routed[pt->server]++;
	pool_count_command(pt->pool, true);
	conn_resume(&b->c, PAUSE_IDLE);
	bconn_run(b, stmt_done);
}

/* A branch that could not join leaves the transaction; one that had
 * started took its work with its connection: the transaction can only
 * roll back now. */
static void unjoin(struct xa_txn *t, struct xa_part *pt)
{
	unsigned last = t->coord.nparts - 1;

	part_let_go(pt, false);
	if (pt->local) {
		t->lpart = NULL;
		free(pt);
		return;
	}
	if (pt->started) {
		t->coord.branch[pt->idx] = BR_LOST;
		return;
	}
	xa_coord_leave(&t->coord, pt->idx);
	t->parts[pt->idx] = t->parts[last];
	t->parts[pt->idx]->idx = pt->idx;
	t->parts[last] = NULL;
	free(pt);
}

/* The branch's connection is in the session's state, its branch
 * started: the statement goes, or the fanout's part that asked for it
 * (session_xa_lend) gets it. */
static void part_ready(struct xa_part *pt)
{
	struct pool_waiter *wt = pt->lend;
	struct xa_txn *t = pt->t;
	struct bconn *b;

	if (!wt) {
		send_stmt(pt);
		return;
	}
	pt->lend = NULL;
	pt->busy = true;
	b = pt->b;
	b->sink_ctx = NULL;
	conn_resume(&b->c, PAUSE_IDLE);
	if (pt->local) {
		/* Its transaction is open: the connection is the
		 * transaction's, for the statement and then the commit. */
		pt->b = NULL;
		pt->busy = false;
		t->local = b;
		t->local_pool = pt->pool;
		t->local_busy = true;
	}
	wt->cont(wt, b, 0, NULL);
}

/* The branch could not be made ready: the client's statement fails with
 * err, or the fanout's part gets no connection. */
static void part_failed(struct xa_part *pt, uint16_t err, const char *state,
			const char *msg)
{
	struct xa_txn *t = pt->t;
	struct pool_waiter *wt = pt->lend;

	if (!wt) {
		answer_err(t, err, state, msg);
		unjoin(t, pt);
		entry_done(t);
		return;
	}
	pt->lend = NULL;
	pt->busy = false;
	unjoin(t, pt);
	t->depth++;
	wt->cont(wt, NULL, err, msg);
	t->busy--;
	t->depth--;
	maybe_free(t);
}

/* Whether the part's work went with the session (a statement's; a
 * fanout's part still waits for its answer). */
static bool part_orphaned(struct xa_part *pt)
{
	struct xa_txn *t = pt->t;

	if (pt->lend || (t->s && t->p))
		return false;
	unjoin(t, pt);
	maybe_free(t);
	return true;
}

static void synced(struct bconn *b, uint16_t err, const char *msg)
{
	struct xa_part *pt = b->sink_ctx;
	struct xa_txn *t = pt->t;
	char m[400];

	pt->busy = false;
	t->busy--;
	if (part_orphaned(pt))
		return;
	if (err || b->failed || b->c.closing || !t->s) {
		snprintf(m, sizeof(m), "myring: shard %s cannot join the "
			 "transaction: %s", shard_name(t, pt->shard),
			 t->s ? msg : "the session went away");
		part_failed(pt, err ? err : ER_BACKEND_LOST, err ?
			    b->req_state : "08S01", m);
		return;
	}
	pt->started = true;
	mysql_state_copy(&b->st, &t->s->st);
	part_ready(pt);
}

/* Brings b to the session's state (and starts the branch when it is
 * new), then the part is ready. */
static void run_stmt(struct xa_part *pt)
{
	struct xa_txn *t = pt->t;
	struct session *s = t->s;
	struct bconn *b = pt->b;
	struct mysql_replay rp;
	size_t cap = s ? mysql_state_replay_bound(&s->st, &b->st) : 0;
	uint8_t *buf = s ? malloc(cap ? cap : 1) : NULL;
	char q[200];
	int rc = buf ? mysql_state_diff_sql(&s->st, &b->st, &rp, buf, cap) :
		       MYSQL_REPLAY_NOSPACE;
	int len;

	for (unsigned i = 0; rc == MYSQL_REPLAY_OK && i < rp.n; i++)
		if (bconn_request(b, rp.cmd[i].payload, rp.cmd[i].len,
				  rp.cmd[i].payload[0] == COM_QUERY ?
				  RESP_RESULT : RESP_SINGLE))
			rc = MYSQL_REPLAY_NOSPACE;
	free(buf);
	if (rc == MYSQL_REPLAY_OK && !pt->started) {
		len = pt->local ? snprintf(q + 1, sizeof(q) - 1,
					   "START TRANSACTION") :
		      xa_sql(q + 1, sizeof(q) - 1, "START", t->gtrid,
			     pt->shard);
		q[0] = COM_QUERY;
		if (len < 0 || bconn_request(b, q, (size_t)len + 1,
					     RESP_RESULT))
			rc = MYSQL_REPLAY_NOSPACE;
	}
	if (rc != MYSQL_REPLAY_OK) {
		part_failed(pt, 1105, "HY000", s ? "myring: cannot bring a "
			    "shard's connection to this session's state" :
			    "myring: the session went away");
		return;
	}
	if (!b->nreq) {
		part_ready(pt);
		return;
	}
	b->sink_ctx = pt;
	pt->busy = true;
	t->busy++;
	conn_resume(&b->c, PAUSE_IDLE);
	bconn_run(b, synced);
}

static void part_lent(struct pool_waiter *wt, struct bconn *b, uint16_t err,
		      const char *msg)
{
	struct xa_part *pt = (struct xa_part *)((char *)wt -
		offsetof(struct xa_part, wait));
	struct xa_txn *t = pt->t;
	char m[400];

	if (!b) {
		snprintf(m, sizeof(m), "myring: shard %s: %s",
			 shard_name(t, pt->shard), msg);
		part_failed(pt, err ? err : ER_BACKEND_UNREACHABLE, "HY000", m);
		return;
	}
	pt->b = b;
	if (!part_orphaned(pt))
		run_stmt(pt);
}

static struct xa_part *part_of(struct xa_txn *t, unsigned shard)
{
	for (unsigned i = 0; i < t->coord.nparts; i++)
		if (t->parts[i]->shard == shard)
			return t->parts[i];
	return NULL;
}

/* Shard `shard` joins the transaction as a new branch (local: as the
 * decision shard of an implicit one): its server chosen, its pool found
 * (its connection is asked for by part_connect).  NULL, with err and
 * msg, when it cannot. */
static struct xa_part *part_join(struct xa_txn *t, unsigned shard,
				 bool local, uint16_t *err, char *msg,
				 size_t msglen)
{
	struct session *s = t->s;
	const struct keyspace *ks = keyspace_of(s);
	struct pool_key key = s->pool_key;
	struct xa_part *pt = NULL;
	const char *why;
	char m[300];
	int idx;

	*err = 0;
	idx = local ? 0 : xa_coord_join(&t->coord);
	pt = idx < 0 ? NULL : calloc(1, sizeof(*pt));
	if (!pt) {
		if (idx >= 0 && !local)
			t->coord.nparts--;
		*err = 1105;
		snprintf(msg, msglen, "myring: %s", idx < 0 ? "too many shards "
			 "in one transaction" : "out of memory");
		return NULL;
	}
	if (local)
		t->lpart = pt;
	else
		t->parts[idx] = pt;
	pt->local = local;
	pt->t = t;
	pt->idx = (unsigned)idx;
	pt->shard = shard;
	pt->wait.cont = part_lent;
	if (route_choose(s, ks->shards[shard].group, false, -1, &pt->server,
			 &why, err, m, sizeof(m)) ||
	    (key.server = pt->server, !(pt->pool = pool_for(s->c.w, &key)))) {
		snprintf(msg, msglen, "myring: shard %s: %s",
			 ks->shards[shard].name, pt->pool || *err ? m :
			 "out of memory");
		if (!*err)
			*err = 1105;
		unjoin(t, pt);
		return NULL;
	}
	return pt;
}

/* Asks the new branch's pool for its connection (part_lent). */
static void part_connect(struct xa_part *pt)
{
	struct session *s = pt->t->s;
	struct bconn *b = NULL;
	uint16_t err = 0;
	char msg[300];
	enum pool_borrow r;

	r = pool_borrow(pt->pool, &pt->wait, s->st.has_schema ? s->st.schema :
			NULL, &b, &err, msg, sizeof(msg));
	pool_borrowed(&pt->wait, r, b, err, msg);
}

/* The branch of shard `shard`: found, or joined and its connection
 * asked for (the client answered when it cannot be). */
static void stmt_start(struct xa_txn *t, unsigned shard)
{
	struct xa_part *pt = part_of(t, shard);
	uint16_t err;
	char msg[400];

	if (pt) {
		if (!pt->b) {
			answer_err(t, ER_BACKEND_LOST, "08S01", "myring: the "
				   "connection to this shard of the "
				   "transaction was lost");
			entry_done(t);
			return;
		}
		run_stmt(pt);
		return;
	}
	pt = part_join(t, shard, false, &err, msg, sizeof(msg));
	if (!pt) {
		answer_err(t, err, "HY000", msg);
		entry_done(t);
		return;
	}
	part_connect(pt);
}

/* ---- fanouts inside the transaction ---------------------------------- */

int session_xa_fanout(struct session *s, unsigned decision_shard)
{
	if (!s->xa)
		s->xa = txn_new(s, decision_shard);
	return s->xa ? 0 : -1;
}

enum pool_borrow session_xa_lend(struct xa_txn *t, unsigned shard,
				 struct pool_waiter *wt, struct xa_lease *lease,
				 struct bconn **b, uint16_t *err, char *msg,
				 size_t msglen)
{
	struct session *s = t ? t->s : NULL;
	struct xa_part *pt;

	if (!s || t->coord.state != XA_ACTIVE) {
		*err = ER_XA_RBROLLBACK;
		snprintf(msg, msglen, "the distributed transaction was rolled "
			 "back before this statement ran");
		return BORROW_FAILED;
	}
	lease->t = t;
	if (shard == t->decision_shard && !t->implicit) {
		/* The session's own connection, holding the transaction. */
		struct bconn *be = s->be;
		if (!be || be->failed || be->c.closing || t->local_busy) {
			*err = ER_BACKEND_LOST;
			snprintf(msg, msglen, "the connection to the "
				 "transaction's first shard was lost");
			return BORROW_FAILED;
		}
		t->local_busy = true;
		t->busy++;
		lease->pool = s->pool;
		lease->server = s->pool_key.server;
		*b = be;
		return BORROW_NOW;
	}
	if (shard == t->decision_shard && t->local && t->lpart) {
		/* An implicit transaction's decision shard again (a
		 * statement in steps, session_shard.c): its connection,
		 * which holds the transaction since the first time. */
		if (t->local_busy || t->local->failed || t->local->c.closing) {
			*err = ER_BACKEND_LOST;
			snprintf(msg, msglen, "the connection to shard %s of "
				 "the transaction was lost",
				 shard_name(t, shard));
			return BORROW_FAILED;
		}
		t->local_busy = true;
		t->busy++;
		lease->pool = t->local_pool;
		lease->server = t->lpart->server;
		*b = t->local;
		return BORROW_NOW;
	}
	pt = shard == t->decision_shard ? t->lpart : part_of(t, shard);
	if (pt && (!pt->b || pt->busy)) {
		*err = ER_BACKEND_LOST;
		snprintf(msg, msglen, "the connection to shard %s of the "
			 "transaction was lost", shard_name(t, shard));
		return BORROW_FAILED;
	}
	if (!pt && !(pt = part_join(t, shard, shard == t->decision_shard, err,
				    msg, msglen)))
		return BORROW_FAILED;
	lease->pool = pt->pool;
	lease->server = pt->server;
	pt->lend = wt;
	t->busy++;
	if (pt->b)
		run_stmt(pt);          /* brought to the session's state */
	else
		part_connect(pt);
	return BORROW_WAIT;
}

void session_xa_give_back(struct xa_lease *lease, unsigned shard,
			  struct bconn *b, bool lost)
{
	struct xa_txn *t = lease->t;
	struct session *s = t->s;
	struct xa_part *pt;

	b->sink = NULL;
	b->sink_ctx = NULL;
	t->busy--;
	if (shard == t->decision_shard) {
		t->local_busy = false;
		if (s && s->be == b) {
			session_link(s, b);
			if (lost) {
				session_unlink(s);
				pool_drop(s->pool, b);
			}
		} else if (t->local == b && lost) {
			t->local = NULL;
			pool_drop(t->local_pool, b);
		}
	} else if ((pt = part_of(t, shard))) {
		pt->busy = false;
		if (lost) {
			pt->b = NULL;
			pool_drop(pt->pool, b);
			t->coord.branch[pt->idx] = BR_LOST;
		} else {
			conn_pause(&b->c, PAUSE_IDLE);
		}
	}
	if (lost)
		t->lent_lost = true;
	maybe_free(t);
}

bool session_xa_fanout_end(struct session *s, struct pending *p)
{
	struct xa_txn *t = s->xa;

	if (!t || !t->lent_lost || t->coord.state != XA_ACTIVE)
		return false;
	/* A shard's connection went in the middle: the transaction ends as
	 * after a statement that lost one; the entry completes once it is
	 * rolled back (the client has the fanout's error already). */
	t->lent_lost = false;
	t->p = p;
	pkt_buf_reset(&t->out);
	doom(t);
	return true;
}

/* ---- autocommit statements over several shards ----------------------- */

struct xa_txn *session_xa_implicit(struct session *s, unsigned decision_shard)
{
	struct xa_txn *t = txn_new(s, decision_shard);

	/* The statement holds it until session_xa_implicit_end, whatever
	 * becomes of the session meanwhile. */
	if (t) {
		t->implicit = true;
		t->busy++;
	}
	return t;
}

void session_xa_implicit_orphan(struct xa_txn *t)
{
	t->s = NULL;
}

void session_xa_implicit_end(struct xa_txn *t, struct pending *p,
			     struct pkt_buf *answer, bool commit)
{
	struct xa_action acts[XA_PARTS_MAX + 2];

	if (t->s && p && answer) {
		/* The entry says whose it is now: dropped (the session goes),
		 * it lets the transaction finish alone. */
		if (!p->xa && (p->xa = calloc(1, sizeof(*p->xa)))) {
			p->xa->kind = XOP_WAIT;
			p->xa->t = t;
		}
		t->p = p;
		pkt_buf_free(&t->held);
		t->held = *answer;
		pkt_buf_init(answer);
		pkt_buf_reset(&t->out);
		t->out.seq = p->reply_seq;
		t->flight = false;
	} else {
		t->s = NULL;
		commit = false;
	}
	t->err = 0;
	t->err_msg[0] = '\0';
	t->client_rollback = !commit;
	t->busy--;
	perform(t, acts, commit ? xa_coord_commit(&t->coord, acts) :
		xa_coord_rollback(&t->coord, acts));
}

bool session_xa_begun(struct xa_txn *t)
{
	struct session *s = t->s;
	struct bconn *b = t->local;

	if (!s || s->xa || s->be || !b || !t->lpart || t->lent_lost ||
	    t->local_busy || t->coord.state != XA_ACTIVE || b->failed ||
	    b->c.closing)
		return false;
	for (unsigned i = 0; i < t->coord.nparts; i++)
		if (t->coord.branch[i] == BR_LOST)
			return false;
	/* The decision shard's transaction is the session's connection's,
	 * as after a BEGIN sent ahead of a one-shard statement. */
	t->local = NULL;
	t->implicit = false;
	t->busy--;
	s->pool_key.server = t->lpart->server;
	s->pool = t->local_pool;
	session_link(s, b);
	s->in_trans = true;
	free(s->shard_begin);
	s->shard_begin = NULL;
	s->xa = t;
	return true;
}

/* ---- the session's side ---------------------------------------------- */

bool session_xa_open(const struct session *s)
{
	return s->xa != NULL;
}

static struct xa_op *op_new(struct session *s, struct pending *p,
			    enum xa_op_kind kind)
{
	struct xa_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->kind = (uint8_t)kind;
	p->xa = op;
	p->local = true;
	/* What the client pipelines behind it waits for its end. */
	s->fanouts++;
	session_hold(s, HOLD_FANOUT);
	return op;
}

static enum myring_verdict refuse(struct myring_reply *reply, uint16_t code,
				  const char *msg)
{
	reply->err_code = code;
	snprintf(reply->sqlstate, sizeof(reply->sqlstate), "%s",
		 code == 1105 ? "HY000" : "42000");
	snprintf(reply->message, sizeof(reply->message), "%s", msg);
	return MYRING_REJECT;
}

enum myring_verdict session_xa_route(struct session *s, struct pending *p,
				     unsigned shard, const char *sql,
				     size_t len, int decision_shard,
				     struct myring_reply *reply,
				     enum myring_verdict verdict)
{
	struct xa_op *op;

	/* Executions for another shard run as text, in the binary
	 * protocol (session_shard.c, one_on_branch): nothing else of the
	 * kind comes here. */
	if (p->cmd != COM_QUERY)
		return refuse(reply, 1235, "myring: inside a transaction, "
			      "this command cannot run on another shard than "
			      "the transaction's first");
	if (!s->xa) {
		if (decision_shard < 0)
			return refuse(reply, 1235, "myring: this session's "
				      "transaction has no shard yet");
		s->xa = txn_new(s, (unsigned)decision_shard);
		if (!s->xa)
			return refuse(reply, 1105, "myring: out of memory");
	}
	op = op_new(s, p, XOP_STMT);
	if (op) {
		op->sql = malloc(len ? len : 1);
		if (op->sql)
			memcpy(op->sql, sql, len);
	}
	if (!op || !op->sql) {
		session_xa_op_free(p);
		return refuse(reply, 1105, "myring: out of memory");
	}
	op->shard = shard;
	op->len = len;
	p->route_why = "distributed transaction";
	return verdict;
}

/* The first keyword of sql (comments and spaces skipped). */
static bool first_word_is(const char *sql, size_t len, const char *word)
{
	size_t i = 0, n = strlen(word);

	while (i < len) {
		if (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' ||
		    sql[i] == '\r' || sql[i] == '(') {
			i++;
		} else if (i + 1 < len && sql[i] == '/' && sql[i + 1] == '*') {
			const char *e = NULL;
			for (size_t k = i + 2; k + 1 < len; k++)
				if (sql[k] == '*' && sql[k + 1] == '/') {
					e = sql + k + 2;
					break;
				}
			if (!e)
				return false;
			i = (size_t)(e - sql);
		} else {
			break;
		}
	}
	return len - i >= n && !strncasecmp(sql + i, word, n) &&
	       (len - i == n || !((sql[i + n] | 0x20) >= 'a' &&
				  (sql[i + n] | 0x20) <= 'z'));
}

int session_xa_statement(struct session *s, struct pending *p,
			 const struct sql_class *cls, const char *sql,
			 size_t len, struct myring_reply *reply,
			 enum myring_verdict *verdict)
{
	uint64_t fl = cls->flags;
	struct xa_op *op;

	if (!s->xa)
		return -1;
	if ((fl & SQLC_TXN_END) && !(fl & SQLC_TXN_BEGIN) &&
	    !(fl & SQLC_RELEASE) && !(fl & SQLC_XA) && cls->nstmts == 1) {
		bool rollback = first_word_is(sql, len, "ROLLBACK");
		if (!rollback && !first_word_is(sql, len, "COMMIT"))
			return -1;
		op = op_new(s, p, rollback ? XOP_ROLLBACK : XOP_COMMIT);
		if (!op) {
			*verdict = refuse(reply, 1105, "myring: out of memory");
			return 0;
		}
		p->route_why = "distributed transaction";
		return 0;
	}
	if (fl & (SQLC_TXN_BEGIN | SQLC_TXN_END | SQLC_AUTOCOMMIT_ON |
		  SQLC_XA | SQLC_SAVEPOINT | SQLC_DDL | SQLC_RELEASE)) {
		*verdict = refuse(reply, 1235, "myring: inside a transaction "
				  "that spans shards, only plain COMMIT and "
				  "ROLLBACK end it: statements that end it "
				  "implicitly (BEGIN, DDL, SET autocommit=1, "
				  "... AND CHAIN / RELEASE), savepoints and XA "
				  "statements are refused (docs/transactions.md)");
		s->c.w->stats.shard_refused++;
		return 0;
	}
	return -1;
}

void session_xa_start(struct session *s, struct pending *p)
{
	struct xa_op *op = p->xa;
	struct xa_txn *t = s->xa;
	struct xa_action acts[XA_PARTS_MAX + 2];

	if (op->t)
		return;         /* running */
	if (!t) {
		/* The transaction ended before this entry's turn (the
		 * server rolled it back): a COMMIT or ROLLBACK ends
		 * nothing; a statement is not run outside of it. */
		struct xa_txn tmp = {.s = s, .p = p, .w = s->c.w};
		pkt_buf_init(&tmp.out);
		tmp.out.seq = p->reply_seq;
		op->t = &tmp;
		if (op->kind == XOP_STMT)
			answer_err(&tmp, ER_XA_RBROLLBACK, "XA100", "myring: "
				   "the distributed transaction was rolled "
				   "back before this statement ran");
		else
			answer_ok(&tmp);
		entry_done(&tmp);
		pkt_buf_free(&tmp.out);
		return;
	}
	op->t = t;
	t->p = p;
	t->flight = false;
	pkt_buf_reset(&t->out);
	t->out.seq = p->reply_seq;
	t->err = 0;
	t->err_msg[0] = '\0';
	switch (op->kind) {
	case XOP_STMT:
		stmt_start(t, op->shard);
		break;
	case XOP_COMMIT:
		t->client_rollback = false;
		perform(t, acts, xa_coord_commit(&t->coord, acts));
		break;
	default:
		t->client_rollback = true;
		perform(t, acts, xa_coord_rollback(&t->coord, acts));
		break;
	}
}

bool session_xa_sent_any(const struct pending *p)
{
	const struct xa_op *op = p->xa;

	return op && op->t && op->t->p == p && op->t->flight;
}

void session_xa_moved(const struct pending *from, struct pending *to)
{
	struct xa_op *op = to->xa;

	if (op && op->t && op->t->p == from)
		op->t->p = to;
}

void session_xa_op_free(struct pending *p)
{
	struct xa_op *op = p->xa;

	if (!op)
		return;
	if (op->t && op->t->p == p) {
		op->t->p = NULL;
		/* The autocommit statement's transaction finishes alone: its
		 * session goes, or has been answered already. */
		if (op->kind == XOP_WAIT)
			op->t->s = NULL;
	}
	p->xa = NULL;
	free(op->sql);
	free(op);
}

void session_xa_response(struct session *s)
{
	struct xa_txn *t = s->xa;

	if (!t || s->in_trans || t->p || t->coord.state != XA_ACTIVE)
		return;
	/* The decision shard's transaction ended without a COMMIT or
	 * ROLLBACK of the client's (a deadlock, or the server's own
	 * rollback): the branches end with it. */
	LOGD("%s: the transaction on the decision shard ended; its %u "
	     "branches are rolled back", s->client_addr, t->coord.nparts);
	t->w->stats.xa_doomed++;
	s->xa = NULL;
	t->s = NULL;
	maybe_free(t);
}

void session_xa_release(struct session *s)
{
	struct xa_txn *t = s->xa;

	if (!t)
		return;
	s->xa = NULL;
	if (t->p) {
		session_xa_op_free(t->p);
		t->p = NULL;
	}
	if (t->local_busy && s->be) {
		/* A step of the commit runs on the decision shard's
		 * connection: it is the commit's now. */
		t->local = s->be;
		t->local_pool = s->pool;
		session_unlink(s);
	}
	t->s = NULL;
	maybe_free(t);
}
