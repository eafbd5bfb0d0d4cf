/*
 * session_pend.c - the commands a session owes answers to, in order: each
 * is answered by the server (its response followed by the tracker), by
 * the proxy (a rule's reply, injected after the response before it), or
 * by nobody (COM_QUIT, COM_STMT_CLOSE).  Pooled sessions add requests of
 * myring's own (a PREPARE before the EXECUTE that needs it) whose
 * responses the client never sees.
 */
#include "session.h"
#include "session_shard.h"
#include "session_xa.h"

#include "hooks.h"
#include "log.h"
#include "mysql_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Commands a client may pipeline before the first response returns. */
#define PIPELINE_MAX 1024

struct pending *pend_at(struct session *s, uint32_t i)
{
	return &s->pend[(s->pend_head + i) & (s->pend_cap - 1)];
}

/* An entry was copied from `from` to `to`: what points at it follows. */
static void pend_moved(const struct pending *from, struct pending *to)
{
	shard_fanout_moved(to);
	session_xa_moved(from, to);
}

struct pending *pend_push(struct session *s)
{
	if (s->pend_count == s->pend_cap) {
		uint32_t ncap = s->pend_cap ? s->pend_cap * 2 : 4;
		struct pending *np;
		if (ncap > PIPELINE_MAX)
			return NULL;
		np = malloc(ncap * sizeof(*np));
		if (!np)
			return NULL;
		for (uint32_t i = 0; i < s->pend_count; i++) {
			np[i] = *pend_at(s, i);
			pend_moved(pend_at(s, i), &np[i]);
		}
		free(s->pend);
		s->pend = np;
		s->pend_cap = ncap;
		s->pend_head = 0;
	}
	struct pending *p = pend_at(s, s->pend_count++);
	memset(p, 0, sizeof(*p));
	p->serial = ++s->pend_serial;
	p->server = -1;
	return p;
}

/* The index of p in the queue. */
static uint32_t pend_index(struct session *s, const struct pending *p)
{
	uint32_t slot = (uint32_t)(p - s->pend);

	return (slot - s->pend_head) & (s->pend_cap - 1);
}

struct pending *pend_insert_before(struct session *s, struct pending *p)
{
	uint32_t serial = p->serial, at;
	struct pending *q;

	if (!pend_push(s))
		return NULL;
	/* pend_push may have moved the queue: find p again by its serial. */
	for (at = 0; at < s->pend_count - 1; at++)
		if (pend_at(s, at)->serial == serial)
			break;
	/* From the end, so an entry's pointers are moved before the entry
	 * below it lands on its old place. */
	for (uint32_t i = s->pend_count - 1; i > at; i--) {
		*pend_at(s, i) = *pend_at(s, i - 1);
		pend_moved(pend_at(s, i - 1), pend_at(s, i));
	}
	q = pend_at(s, at);
	memset(q, 0, sizeof(*q));
	q->serial = ++s->pend_serial;
	return q;
}

void pend_remove(struct session *s, struct pending *p)
{
	for (uint32_t i = pend_index(s, p); i + 1 < s->pend_count; i++)
		*pend_at(s, i) = *pend_at(s, i + 1);
	s->pend_count--;
}

struct pending *pend_next_of(struct session *s, const struct pending *p)
{
	uint32_t i = pend_index(s, p);

	return i + 1 < s->pend_count ? pend_at(s, i + 1) : NULL;
}

struct pending *pend_by_serial(struct session *s, uint32_t serial)
{
	for (uint32_t i = 0; i < s->pend_count; i++)
		if (pend_at(s, i)->serial == serial)
			return pend_at(s, i);
	return NULL;
}

/* The head's response is the next thing the backend sends: follow it.
 * Not before the session has a backend of its own (a pooled one may be
 * on its way, or busy with myring's own requests). */
void start_tracking_head(struct session *s)
{
	struct pending *p = pend_at(s, 0);

	if (!s->be || (s->hold & (HOLD_BORROW | HOLD_SYNC)))
		return;
	mysql_tracker_start(&s->be->trk, (enum mysql_resp_kind)p->kind,
			    s->deprecate_eof);
	s->be->fr.seq_delta = p->seq_delta;
	s->be->resp_started = false;
}

static void report_result(struct session *s, struct pending *p,
			  const struct myring_result *r)
{
	if (p->hooked)
		hooks_on_result(s->c.w, &s->info, r, p->cookies);
}

/* The head's response ended (or the session is going away). */
void complete_head(struct session *s, bool aborted)
{
	struct pending *p = pend_at(s, 0);
	struct myring_result r = {
		.duration_us = s->c.w->now_us - p->start_us,
		.aborted = aborted,
		.rejected = p->rejected,
	};

	if (p->internal && !p->client) {
		/* myring's own: nothing for hooks or statistics. */
		effects_discard(p);
		free(p->retry);
		free(p->reply);
		free(p->prep_sql);
		free(p->stmt_cmd);
		s->pend_head = (s->pend_head + 1) & (s->pend_cap - 1);
		s->pend_count--;
		return;
	}
	if (p->internal) {
		/* A command answered with the error of the request made for
		 * it (its own response was replaced). */
		p->local = true;
		p->rejected = true;
		r.rejected = true;
	}
	if (p->local) {
		r.err_code = p->local_err;
		r.no_response = !p->rejected && !p->answered;
		r.answered = p->answered;
		r.result_set = p->local_result_set;
		r.rows = p->local_rows;
		r.affected_rows = p->local_affected;
	} else if (!aborted) {
		/* An aborted command's outcome is unknown: the tracker may
		 * hold another command's, or be gone with its backend. */
		const struct mysql_tracker *t = &s->be->trk;
		r.rows = t->rows;
		r.affected_rows = t->affected_rows;
		r.err_code = t->err_code;
		r.result_set = t->result_sets > 0;
		if (p->cmd == COM_STMT_PREPARE && !t->err_code)
			r.stmt_id = t->stmt_id;
		if (!r.err_code) {
			if (p->new_user) {
				free(s->user);
				s->user = p->new_user;
				p->new_user = NULL;
				s->info.user = s->user;
			}
			if (p->new_schema) {
				free(s->schema);
				s->schema = p->new_schema;
				p->new_schema = NULL;
				s->info.schema = s->schema;
			}
		}
	}
	if (!aborted) {
		struct worker_stats *st = &s->c.w->stats;
		st->errors += r.err_code != 0;
		if (r.err_code)
			stats_count_err(st, r.err_code);
		st->rows_sent += r.rows;
		if (!r.no_response) {
			hist_record(&st->latency, r.duration_us);
			st->latency_sum_us += r.duration_us;
		}
	}
	if (p->server >= 0) {
		r.server = s->c.w->px->servers[p->server].addr.text;
		r.route = p->route_why;
	}
	report_result(s, p, &r);
	/* A fanout cut short (the session goes away) ends on its own. */
	shard_fanout_orphan(p);
	session_xa_op_free(p);
	if (p->kill_hold)
		/* The KILL QUERY it was is over: the target's connection may
		 * go back to the pool. */
		sdir_unhold(p->kill_hold, s->conn_id);
	effects_discard(p);
	free(p->retry);
	free(p->reply);
	free(p->prep_sql);
	free(p->stmt_cmd);
	free(p->new_schema);
	free(p->new_user);
	s->pend_head = (s->pend_head + 1) & (s->pend_cap - 1);
	s->pend_count--;
}

/*
 * A client reads an ERR in place of any packet of a response (a row or a
 * definition never starts with 0xFF), so between packets the command can
 * still be ended properly.  Not inside a packet, not while the client is
 * itself inside a packet, and not with pipelined commands behind it (their
 * responses would be owed too): then the connection just closes.
 */
/*
 * The command in flight is myring's to answer (a statement over several
 * shards, a step of a distributed transaction) and has sent the client
 * nothing yet: it gets the ERR, and what runs for it goes on without it
 * (a fanout's parts end as they can, a commit's branches are left as
 * they are: prepared or not, recovery resolves them).
 */
static bool fail_local_head(struct session *s, uint16_t code,
			    const char *msg)
{
	struct pending *p = pend_at(s, 0);

	if (p->fanout && shard_fanout_fail(p, code, msg))
		return true;
	if ((!p->fanout && !p->xa) || shard_fanout_sent_any(p) ||
	    session_xa_sent_any(p))
		return false;
	session_client_flight(s, p->serial, p->zseq);
	session_queue_err(s, p->reply_seq, code, "08S01", msg);
	p->local_err = code;
	complete_head(s, false);
	return true;
}

bool command_fail_in_flight(struct session *s, uint16_t code,
			    const char *msg)
{
	const struct mysql_framer *from_server;
	const struct mysql_framer *from_client = &s->fr;
	uint8_t seq;

	if (s->phase == PH_COMMAND && s->client_mode == CM_COMMAND &&
	    s->pend_count == 1 && pend_at(s, 0)->local &&
	    mysql_framer_at_boundary(from_client) && !from_client->continued)
		return fail_local_head(s, code, msg);
	if (!s->be)
		return false;
	from_server = &s->be->fr;
	if (s->phase != PH_COMMAND || s->client_mode != CM_COMMAND ||
	    s->pend_count != 1 || pend_at(s, 0)->local ||
	    !mysql_framer_at_boundary(from_server) || from_server->continued ||
	    !mysql_framer_at_boundary(from_client) || from_client->continued)
		return false;
	/* The client expects the packet after the last one it was sent, or
	 * the first of the response, in its own numbering. */
	seq = s->be->resp_started ?
	      (uint8_t)(mysql_framer_last_seq(from_server) +
			from_server->seq_delta + 1) :
	      (uint8_t)(s->cmd_last_seq + 1);
	session_queue_err(s, seq, code, "08S01", msg);
	s->be->trk.err_code = code;
	complete_head(s, false);
	return true;
}

void command_abort_all(struct session *s)
{
	while (s->pend_count)
		complete_head(s, true);
}

/* Sends the replies of local (rejected) commands now at the head, then
 * starts tracking the next forwarded command. */
void inject_local_heads(struct session *s)
{
	while (s->pend_count && pend_at(s, 0)->local) {
		struct pending *p = pend_at(s, 0);
		if (p->fanout) {
			/* Answered as the shards answer; what follows it
			 * goes on once it has ended (and calls this again). */
			shard_fanout_start(s, p);
			return;
		}
		if (p->xa) {
			/* The same, for a transaction over shards. */
			session_xa_start(s, p);
			return;
		}
		uint8_t *reply = p->reply;
		uint32_t reply_len = p->reply_len;
		uint32_t serial = p->serial;
		uint8_t zseq = p->zseq;
		p->reply = NULL;
		complete_head(s, false);
		if (reply) {
			session_client_flight(s, serial, zseq);
			session_to_client(s, reply, reply_len, -1, reply);
		}
	}
	if (s->pend_count) {
		start_tracking_head(s);
		session_client_flight_head(s);
	} else if (s->be) {
		s->be->fr.seq_delta = 0;
	}
}

void command_answer_locally(struct session *s, struct pending *p,
			    const struct myring_reply *reply)
{
	uint8_t pkt[600];
	size_t n;

	if (reply->err_code) {
		n = mysql_build_err(pkt, sizeof(pkt), p->reply_seq,
				    reply->err_code,
				    reply->sqlstate[0] ? reply->sqlstate : "HY000",
				    reply->message);
		p->rejected = true;
		p->local_err = reply->err_code;
	} else {
		n = mysql_build_ok(pkt, p->reply_seq, 0, 0,
				   SERVER_STATUS_AUTOCOMMIT, 0);
		p->answered = true;
	}
	p->local = true;
	p->reply = malloc(n);
	if (p->reply) {
		memcpy(p->reply, pkt, n);
		p->reply_len = (uint32_t)n;
	}
	if (p == pend_at(s, 0))
		inject_local_heads(s);
}

void command_start_tracking(struct session *s)
{
	if (s->pend_count) {
		if (pend_at(s, 0)->local)
			inject_local_heads(s);
		else
			start_tracking_head(s);
	}
}

/*
 * No backend connection came for the commands waiting for one: each gets
 * err as a reply of the proxy's own, in order, and what was parked for
 * the backend is dropped (nothing of it was sent).
 */
void command_fail_head_locally(struct session *s, uint16_t code,
			       const char *msg)
{
	char text[300];

	snprintf(text, sizeof(text), "myring: %s", msg);
	session_drop_parked(s);
	for (uint32_t i = 0; i < s->pend_count; i++) {
		struct pending *p = pend_at(s, i);
		uint8_t pkt[400];
		size_t n;

		if (p->local)
			continue;
		n = mysql_build_err(pkt, sizeof(pkt), p->reply_seq, code,
				    code == 1040 ? "08004" : "HY000", text);
		p->local = true;
		p->rejected = true;
		p->local_err = code;
		p->reply = malloc(n);
		if (p->reply) {
			memcpy(p->reply, pkt, n);
			p->reply_len = (uint32_t)n;
		}
	}
	inject_local_heads(s);
}

