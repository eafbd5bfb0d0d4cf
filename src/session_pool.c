/*
 * session_pool.c - a proxy-auth session's pooled backend connections:
 * borrowing one when a command needs it, giving it back when nothing
 * holds it any more.
 *
 *   idle (no backend) --command--> borrow --now--> linked, command sent
 *                                     |
 *                                     +--wait--> bytes parked ... lent -->
 *                                     |          linked, parked bytes sent
 *                                     +--none--> the command gets ERR
 *
 *   response complete --> nothing holds it (no transaction, no pin, no
 *   command in flight, transaction or statement mode) --> given back
 *
 * Exactness comes first: the server reports every change to a session's
 * state (CLIENT_SESSION_TRACK on myring's connections), and a session
 * whose state changed keeps its connection (pinned) until it ends, when
 * the connection is reset before anyone else gets it.
 */
#include "session.h"
#include "session_shard.h"
#include "session_xa.h"

#include "health.h"
#include "log.h"
#include "mysql_proto.h"
#include "sql_hint.h"
#include "sql_rewrite.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int route_session(struct session *s, struct pending *p, bool read,
			 int exclude, uint16_t *err, char *msg, size_t msglen);
static int causal_request(struct session *s, struct bconn *b);

/* No connection for the session: its login or its waiting commands get
 * err (with sqlstate) from the proxy. */
static void no_backend(struct session *s, uint16_t err, const char *sqlstate,
		       const char *msg)
{
	LOGW("%s: no backend connection: %s", s->client_addr, msg);
	if (s->phase == PH_LOGIN_SYNC) {
		login_failed(s, err, sqlstate, msg);
		return;
	}
	command_fail_head_locally(s, err, msg);
}

/* The session's commands may go to its connection now. */
static void ready(struct session *s)
{
	session_release(s, HOLD_SYNC);
	if (s->phase == PH_LOGIN_SYNC) {
		login_done(s);
		pooled_maybe_return(s);
		return;
	}
	command_start_tracking(s);
}


/* The replica did not apply what the read must see in time: the read
 * goes to the primary (the replica's connection, in whatever state the
 * requests behind the wait left it, is closed). */
static bool causal_fallback(struct session *s, struct bconn *b)
{
	struct pending *p = s->pend_count ? pend_at(s, 0) : NULL;
	uint16_t err = 0;
	char msg[200];

	s->causal_sent = false;
	if (!p || s->phase != PH_COMMAND)
		return false;
	s->c.w->stats.causal_fallbacks++;
	LOGD("%s: %s had not applied %s within %u ms: the read goes to the "
	     "primary", s->client_addr, b->c.w->px->servers[s->pool_key.server].
	     addr.text, s->causal_gtid, s->causal_timeout_ms);
	session_unlink(s);
	pool_drop(s->pool, b);
	/* HOLD_SYNC stays: the command is parked until the primary's
	 * connection is the session's. */
	if (route_session(s, p, false, -1, &err, msg, sizeof(msg)) ||
	    !pooled_backend(s, &err, msg, sizeof(msg))) {
		session_release(s, HOLD_SYNC);
		command_fail_head_locally(s, err ? err : ER_BACKEND_UNREACHABLE,
					  msg);
		return true;
	}
	p->server = (int16_t)s->pool_key.server;
	p->route_why = "read, causal wait timed out";
	return true;
}

static void synced(struct bconn *b, uint16_t err, const char *msg)
{
	struct session *s = b->link;

	if (!s)
		return;
	session_link(s, b);
	if (err && s->causal_sent && err == 1242 && causal_fallback(s, b))
		return;
	s->causal_sent = false;
	if (err) {
		/* The connection's state is unknown now: it is closed.  The
		 * client hears the server's own error (e.g. its schema was
		 * dropped), as a direct session would on its next statement. */
		session_unlink(s);
		pool_drop(s->pool, b);
		session_release(s, HOLD_SYNC);
		if (s->phase == PH_LOGIN_SYNC)
			login_failed(s, err, b->req_state, msg);
		else
			command_fail_head_locally(s, err, msg);
		return;
	}
	mysql_state_copy(&b->st, &s->st);
	ready(s);
}

/* b is the session's now: brought to the session's state first if it
 * differs (schema, character sets, variables, user variables, ...). */
static void attach(struct session *s, struct bconn *b)
{
	struct mysql_replay rp;
	size_t cap = mysql_state_replay_bound(&s->st, &b->st);
	uint8_t *buf = malloc(cap ? cap : 1);
	int rc;

	session_link(s, b);
	rc = buf ? mysql_state_diff_sql(&s->st, &b->st, &rp, buf, cap) :
		   MYSQL_REPLAY_NOSPACE;
	s->causal_sent = false;
	if (s->causal_wait) {
		s->causal_wait = false;
		s->causal_sent = causal_request(s, b) == 0;
	}
	if (rc == MYSQL_REPLAY_OK && rp.n == 0 && !s->causal_sent &&
	    !s->shard_begin) {
		free(buf);
		ready(s);
		return;
	}
	if (rc == MYSQL_REPLAY_OK) {
		for (unsigned i = 0; i < rp.n && rc == MYSQL_REPLAY_OK; i++)
			if (bconn_request(b, rp.cmd[i].payload, rp.cmd[i].len,
					  rp.cmd[i].payload[0] == COM_QUERY ?
					  RESP_RESULT : RESP_SINGLE))
				rc = MYSQL_REPLAY_NOSPACE;
	}
	if (rc == MYSQL_REPLAY_OK && s->shard_begin &&
	    shard_begin_request(s, b))
		rc = MYSQL_REPLAY_NOSPACE;
	free(buf);
	if (rc != MYSQL_REPLAY_OK) {
		session_unlink(s);
		pool_drop(s->pool, b);
		no_backend(s, 1105, "HY000", "cannot bring a pooled connection "
			   "to this session's state");
		return;
	}
	session_hold(s, HOLD_SYNC);
	bconn_run(b, synced);
}


/* A read that goes to a replica of a group with causal reads waits
 * there for the GTID it must see: the session's last commit (session),
 * or the newest any session made through myring (global). */
static void causal_prepare(struct session *s, const struct pending *p,
			   bool read, unsigned server)
{
	const struct proxy *px = s->c.w->px;
	const struct backend_server *sv = &px->servers[server];
	const struct backend_group *g = &px->groups[sv->group];
	uint8_t mode = g->causal;

	/* A hint decides over the group (sql_hint.h). */
	if (p->hints & SQL_HINT_NO_CAUSAL)
		mode = CAUSAL_OFF;
	else if (p->hints & SQL_HINT_CAUSAL && mode == CAUSAL_OFF)
		mode = CAUSAL_SESSION;
	s->causal_wait = false;
	if (!read || mode == CAUSAL_OFF ||
	    atomic_load_explicit(&sv->check.role, memory_order_relaxed) !=
	    ROLE_REPLICA)
		return;
	if (mode == CAUSAL_SESSION)
		snprintf(s->causal_gtid, sizeof(s->causal_gtid), "%s",
			 s->st.last_gtid);
	else
		group_causal_gtid(g, s->causal_gtid, sizeof(s->causal_gtid));
	s->causal_timeout_ms = g->causal_timeout_ms;
	s->causal_wait = s->causal_gtid[0] != '\0';
}

/* The wait a causal read sends first: it fails (ERR 1242) when the
 * replica has not applied the GTID within the timeout, so that the read
 * goes to the primary instead.  -1 if the GTID is not one. */
static int causal_request(struct session *s, struct bconn *b)
{
	char sql[200];
	uint32_t d, sv;
	uint64_t n;
	int len;

	if (!gtid_parse(s->causal_gtid, &d, &sv, &n))
		return -1;
	len = snprintf(sql, sizeof(sql), "\x03SELECT IF(MASTER_GTID_WAIT("
		       "'%u-%u-%llu', %u.%03u) = 0, 0, (SELECT 1 UNION "
		       "SELECT 2))", d, sv, (unsigned long long)n,
		       s->causal_timeout_ms / 1000, s->causal_timeout_ms % 1000);
	s->c.w->stats.causal_waits++;
	return bconn_request(b, sql, (size_t)len, RESP_RESULT);
}

/* The head is a read whose server could not be reached: if another
 * server of the group can take it, the session's pool is that one's. */
static bool reroute_read(struct session *s, struct pending *p)
{
	uint16_t err;
	char msg[200];
	int failed = (int)s->pool_key.server;

	if (s->phase != PH_COMMAND || !p || p->retried || !p->route_why ||
	    strncmp(p->route_why, "read", 4))
		return false;
	p->retried = true;
	if (route_session(s, p, true, failed, &err, msg, sizeof(msg)))
		return false;
	if ((int)s->pool_key.server == failed)
		return false;
	LOGW("%s: %s cannot be reached; the read goes to %s", s->client_addr,
	     s->c.w->px->servers[failed].addr.text,
	     s->c.w->px->servers[s->pool_key.server].addr.text);
	p->server = (int16_t)s->pool_key.server;
	p->route_why = "read, rerouted";
	return true;
}

/* msg, saying which group and server when the session's group has
 * several: "the group's primary cannot be reached" is what a client of
 * a group must learn, not only an address. */
static const char *in_group(const struct session *s, const char *msg,
			    char *buf, size_t cap)
{
	const struct proxy *px = s->c.w->px;
	const struct backend_server *sv = &px->servers[s->pool_key.server];
	const struct backend_group *g = &px->groups[sv->group];

	if (s->phase != PH_COMMAND || g->nservers < 2)
		return msg;
	snprintf(buf, cap, "group '%s': %s %s: %s", g->name,
		 role_name((enum server_role)atomic_load_explicit(
			 &sv->check.role, memory_order_relaxed)),
		 sv->addr.text, msg);
	return buf;
}

/* The login's schema check could not reach its server (a primary that
 * died before its checks said so): once, another server that a read
 * could go to checks it. */
static bool reroute_login(struct session *s)
{
	unsigned failed = s->pool_key.server, sv;
	const char *why;
	uint16_t e;
	char m[200];
	struct pool *pool;

	if (s->phase != PH_LOGIN_SYNC || s->login_rerouted)
		return false;
	s->login_rerouted = true;
	if (route_choose(s, NULL, true, (int)failed, &sv, &why, &e, m,
			 sizeof(m)) || sv == failed)
		return false;
	s->pool_key.server = sv;
	pool = pool_for(s->c.w, &s->pool_key);
	if (!pool) {
		s->pool_key.server = failed;
		return false;
	}
	LOGW("%s: %s cannot be reached; the login's schema is checked on %s",
	     s->client_addr, s->c.w->px->servers[failed].addr.text,
	     s->c.w->px->servers[sv].addr.text);
	s->pool = pool;
	return true;
}

static void lent(struct pool_waiter *wt, struct bconn *b, uint16_t err,
		 const char *msg)
{
	struct session *s = (struct session *)((char *)wt -
					       offsetof(struct session, wait));

	session_release(s, HOLD_BORROW);
	if (!b && reroute_login(s)) {
		uint16_t e = 0;
		char m[200];
		if (!pooled_backend(s, &e, m, sizeof(m)))
			no_backend(s, e, "HY000", m);
		return;
	}
	if (!b && reroute_read(s, s->pend_count ? pend_at(s, 0) : NULL)) {
		/* Nothing was sent: another server may serve the read. */
		uint16_t e = 0;
		char m[200];
		if (!pooled_backend(s, &e, m, sizeof(m)))
			no_backend(s, e, "HY000", m);
		return;
	}
	if (!b) {
		char m[512];

		no_backend(s, err, err == 1040 ? "08004" : "HY000",
			   in_group(s, msg, m, sizeof(m)));
		return;
	}
	attach(s, b);
}

bool pooled_backend(struct session *s, uint16_t *err, char *msg,
		    size_t msglen)
{
	struct bconn *b;

	if (s->be || (s->hold & HOLD_BORROW))
		return true;
	s->wait.cont = lent;
	switch (pool_borrow(s->pool, &s->wait,
			    s->st.has_schema ? s->st.schema : NULL, &b, err, msg,
			    msglen)) {
	case BORROW_NOW:
		attach(s, b);
		return true;
	case BORROW_WAIT:
		/* The command's bytes park until the connection comes. */
		session_hold(s, HOLD_BORROW);
		return true;
	case BORROW_FAILED:
		break;
	}
	return false;
}

/* Whether the session may give its connection back now. */
static bool may_return(const struct session *s)
{
	const struct bconn *b = s->be;

	if (s->c.w->px->cfg.pool_mode == POOL_SESSION || s->pins ||
	    s->pend_count || s->client_mode != CM_COMMAND || s->hold ||
	    b->cap_left || b->held_len)
		return false;
	/* Transaction mode keeps it to the end of a transaction (and of a
	 * LOCK TABLES, and while a SET TRANSACTION waits for the next). */
	return !s->in_trans && mysql_state_trx_idle(&s->st);
}

void pooled_maybe_return(struct session *s)
{
	struct bconn *b = s->be;

	if (!b || !s->pool || session_done(s) || !may_return(s))
		return;
	if (s->dir && !sdir_release(s->dir, b->thread_id)) {
		/* A KILL QUERY for it is on its way: nobody else may get
		 * it before that lands.  The tick tries again. */
		s->release_deferred = true;
		return;
	}
	session_unlink(s);
	pool_return(s->pool, b);
}

void pooled_release(struct session *s)
{
	struct bconn *b;

	/* Branches of a transaction over shards end first; a commit under
	 * way may take the connection with it. */
	session_xa_release(s);
	b = s->be;
	if (s->wait.queued)
		pool_cancel(s->pool, &s->wait);
	if (!b)
		return;
	session_unlink(s);
	if (s->pend_count || b->failed || b->c.closing ||
	    !mysql_framer_at_boundary(&b->fr) ||
	    (s->dir && !sdir_release(s->dir, b->thread_id))) {
		/* Cut in the middle of a response: its tail would reach the
		 * next borrower. */
		pool_drop(s->pool, b);
		return;
	}
	/* What the session leaves behind (variables, temporary tables, an
	 * open transaction) is reset before the next borrower. */
	if (s->pins || s->in_trans)
		b->dirty = true;
	pool_return(s->pool, b);
}

void session_reply_ok(struct myring_reply *reply, uint16_t status)
{
	uint8_t pkt[32];
	size_t n = mysql_build_ok(pkt, 1, 0, 0, status, 0);

	reply->answer = malloc(n);
	if (reply->answer) {
		memcpy(reply->answer, pkt, n);
		reply->answer_len = n;
	}
}

/* An error worded as the server words it (no "myring: "). */
__attribute__((format(printf, 4, 5)))
static enum myring_verdict server_error(struct myring_reply *reply,
					uint16_t code, const char *state,
					const char *fmt, ...)
{
	va_list ap;

	reply->err_code = code;
	memcpy(reply->sqlstate, state, 6);
	va_start(ap, fmt);
	vsnprintf(reply->message, sizeof(reply->message), fmt, ap);
	va_end(ap);
	return MYRING_REJECT;
}

static enum myring_verdict reject(struct myring_reply *reply, uint16_t code,
				  const char *fmt, const char *arg)
{
	reply->err_code = code;
	memcpy(reply->sqlstate, code == 1040 ? "08004" : "HY000", 6);
	snprintf(reply->message, sizeof(reply->message), fmt, arg);
	return MYRING_REJECT;
}

/*
 * KILL [CONNECTION | QUERY] id, COM_PROCESS_KILL: the id is a client's
 * (session_dir.h), which myring translates.  A connection is killed by
 * its own worker (at its next tick: the client gets ERR 1927 if a command
 * was running, else its connection closes); the statement running on its
 * server connection, if any, by KILL QUERY with the server's id, sent on
 * this session's connection while the target's is held (see
 * sdir_hold).  A session may kill only sessions of its own user: one
 * user's clients cannot tell whether another's share their server
 * connections.
 */
static enum myring_verdict pooled_kill(struct session *s, struct pending *p,
				       uint32_t target, bool query_only,
				       struct myring_reply *reply)
{
	const struct proxy *px = s->c.w->px;
	unsigned wk = sdir_worker_of(target);
	struct sdir_entry *e = wk < px->nworkers ?
			       sdir_find(&px->workers[wk].dir, target) : NULL;
	uint32_t backend;

	if (!e)
		return server_error(reply, 1094, "HY000",
				    "Unknown thread id: %u", target);
	if (e != s->dir && atomic_load(&e->user) != s->user_idx + 1)
		return server_error(reply, 1095, "HY000",
				    "You are not owner of thread %u", target);
	if (e == s->dir && query_only)
		/* What runs is this very statement, as on a server. */
		return server_error(reply, 1317, "70100",
				    "Query execution was interrupted");
	if (!query_only)
		atomic_store(&e->kill, 1);
	if (e == s->dir)
		return server_error(reply, ER_CONNECTION_KILLED, "70100",
				    "Connection was killed");
	if (!sdir_hold(e, s->conn_id, &backend) || !backend) {
		/* Nothing runs on a server for it, or another KILL QUERY
		 * is on its way: nothing to interrupt here. */
		session_reply_ok(reply, SERVER_STATUS_AUTOCOMMIT);
		return MYRING_ANSWER;
	}
	reply->rewrite = malloc(32);
	if (!reply->rewrite) {
		sdir_unhold(e, s->conn_id);
		return server_error(reply, 1105, "HY000",
				    "myring: out of memory");
	}
	reply->rewrite_len = (size_t)snprintf(reply->rewrite, 32,
					      "KILL QUERY %u", backend);
	p->kill_hold = e;
	return MYRING_REWRITE;
}

/* The pool of the server this command goes to (session_route.c), for
 * a session that holds no connection now.  0, or -1 with err. */
static int route_session(struct session *s, struct pending *p, bool read,
			 int exclude, uint16_t *err, char *msg, size_t msglen)
{
	struct pool *pool;
	unsigned server;
	const char *why;

	if (route_choose(s, p->route, read, exclude, &server, &why, err, msg,
			 msglen))
		return -1;
	p->route_why = p->hints & SQL_HINT_PRIMARY ? "primary (hint)" : why;
	causal_prepare(s, p, read, server);
	if (server == s->pool_key.server && s->pool)
		return 0;
	s->pool_key.server = server;
	pool = pool_for(s->c.w, &s->pool_key);
	if (!pool) {
		*err = 1105;
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	s->pool = pool;
	return 0;
}

static bool is_replica(const struct session *s)
{
	const struct backend_server *sv =
		&s->c.w->px->servers[s->pool_key.server];

	return atomic_load_explicit(&sv->check.role, memory_order_relaxed) ==
	       ROLE_REPLICA;
}

/* A read a replica runs is kept, framed as sent, until its response
 * starts (pooled_retry_read). */
static void keep_for_retry(struct session *s, struct pending *p,
			   const char *sql, size_t len)
{
	static const uint8_t query = COM_QUERY;
	struct pkt_buf pb;

	(void)s;
	pkt_buf_init(&pb);
	pkt_buf_packet2(&pb, &query, 1, sql, len);
	if (pb.oom) {
		pkt_buf_free(&pb);
		return;
	}
	p->retry = pb.data;
	p->retry_len = (uint32_t)pb.len;
}

bool pooled_retry_read(struct session *s, const char *why)
{
	struct bconn *b = s->be;
	struct pending *p;
	uint16_t err = 0;
	char msg[200];
	int failed;

	if (!s->pool || s->pend_count != 1 || !b || b->resp_started)
		return false;
	p = pend_at(s, 0);
	if (!p->retry || p->retried || p->local || p->internal)
		return false;
	failed = p->server;
	p->retried = true;
	LOGW("%s: %s during a read on %s; the read goes to another server",
	     s->client_addr, why, s->c.w->px->servers[failed].addr.text);
	session_unlink(s);
	pool_drop(s->pool, b);
	if (route_session(s, p, true, failed, &err, msg, sizeof(msg)) ||
	    !pooled_backend(s, &err, msg, sizeof(msg))) {
		command_fail_head_locally(s, err ? err : ER_BACKEND_LOST, msg);
		return true;
	}
	p->server = (int16_t)s->pool_key.server;
	p->route_why = "read, retried";
	/* Sent as soon as the connection is the session's: parked while it
	 * is being lent or brought to the session's state. */
	session_to_backend_copy(s, p->retry, p->retry_len);
	return true;
}

/* The text the server will get: a rule's rewrite, or the client's. */
static const char *sql_of(const struct myring_command *c,
			  const struct myring_reply *reply,
			  enum myring_verdict verdict)
{
	return verdict == MYRING_REWRITE ? reply->rewrite : c->text;
}

static size_t sql_len_of(const struct myring_command *c,
			 const struct myring_reply *reply,
			 enum myring_verdict verdict)
{
	return verdict == MYRING_REWRITE ? reply->rewrite_len : c->text_len;
}

/* CONNECTION_ID() is the client's id, not the borrowed connection's: the
 * text goes with the number in its place. */
static enum myring_verdict connection_id(struct session *s,
					 const struct myring_command *c,
					 struct myring_reply *reply,
					 enum myring_verdict verdict)
{
	const char *sql = sql_of(c, reply, verdict);
	size_t len = sql_len_of(c, reply, verdict), need;
	struct sql_reading rd;
	char with[16], *out;
	unsigned n;

	snprintf(with, sizeof(with), "%u", s->conn_id);
	effects_reading(s, &rd);
	need = sql_replace_call(sql, len, &rd, "CONNECTION_ID", with, NULL, 0,
				&n);
	if (!n)
		return verdict;
	out = malloc(need ? need : 1);
	if (!out)
		return reject(reply, 1105, "myring: %s", "out of memory");
	sql_replace_call(sql, len, &rd, "CONNECTION_ID", with, out, need, &n);
	free(reply->rewrite);
	reply->rewrite = out;
	reply->rewrite_len = need;
	return MYRING_REWRITE;
}

/* The KILL of a classified text: one statement, a literal id. */
static enum myring_verdict query_kill(struct session *s, struct pending *p,
				      const struct sql_class *cls,
				      struct myring_reply *reply)
{
	const struct sql_item *it = NULL;

	for (unsigned i = 0; i < cls->nitems; i++)
		if (cls->items[i].kind == SQLI_KILL)
			it = &cls->items[i];
	if (cls->nstmts > 1)
		return reject(reply, 1105, "myring: %s", "KILL must be sent "
			      "on its own with --auth proxy (myring translates "
			      "its id)");
	if (it && it->detail & (SQL_KILL_USER | SQL_KILL_QUERY_ID))
		return reject(reply, 1105, "myring: %s", "KILL USER and KILL "
			      "QUERY ID are not supported with --auth proxy "
			      "(they would reach server connections other "
			      "clients share)");
	if (!it || cls->flags & SQLC_INEXACT || !it->value.len ||
	    it->number > UINT32_MAX)
		return reject(reply, 1105, "myring: %s", "KILL needs a "
			      "connection id as a number with --auth proxy "
			      "(myring translates it)");
	if (reply->rewrite) {
		free(reply->rewrite);
		reply->rewrite = NULL;
	}
	return pooled_kill(s, p, (uint32_t)it->number,
			   it->detail & SQL_KILL_QUERY, reply);
}

/* A COM_QUERY: what it does to the connection (session_effects.h), the
 * statements statement mode refuses, KILL, CONNECTION_ID(). */
/* A statement's routing hints (sql_hint.h): only where there is a choice
 * of server to make. */
static unsigned query_hints(const struct session *s,
			    const struct myring_command *c,
			    const struct myring_reply *reply,
			    enum myring_verdict verdict)
{
	if (s->c.w->px->nservers < 2 || !c->text)
		return 0;
	return sql_hints(sql_of(c, reply, verdict),
			 sql_len_of(c, reply, verdict));
}

static enum myring_verdict pooled_query(struct session *s, struct pending *p,
					const struct myring_command *c,
					struct myring_reply *reply,
					enum myring_verdict verdict, bool *read)
{
	const struct sql_class *cls =
		effects_classify(s, p, sql_of(c, reply, verdict),
				 sql_len_of(c, reply, verdict), false);

	if (!cls)
		return verdict;
	p->hints = (uint8_t)query_hints(s, c, reply, verdict);
	*read = sql_class_read_only(cls) && !(p->hints & SQL_HINT_PRIMARY);
	if (s->c.w->px->cfg.pool_mode == POOL_STATEMENT &&
	    cls->flags & (SQLC_TXN_BEGIN | SQLC_AUTOCOMMIT_OFF | SQLC_XA |
			  SQLC_LOCK_TABLES))
		return reject(reply, 1105, "myring: %s",
			      "transactions are not allowed with --pool "
			      "statement (each statement may run on another "
			      "server connection)");
	if (cls->flags & SQLC_KILL)
		return query_kill(s, p, cls, reply);
	if (cls->flags & SQLC_CONNECTION_ID)
		return connection_id(s, c, reply, verdict);
	if (s->c.w->px->cfg.keyspace)
		return shard_query(s, p, cls, sql_of(c, reply, verdict),
				   sql_len_of(c, reply, verdict), reply,
				   verdict);
	return verdict;
}

enum myring_verdict pooled_command(struct session *s, struct pending *p,
				   const struct myring_command *c,
				   const uint8_t *payload, size_t len,
				   struct myring_reply *reply,
				   enum myring_verdict verdict)
{
	uint16_t err = 0;
	char msg[200];
	bool read = false;

	switch (c->type) {
	case COM_QUIT:
	case COM_STMT_CLOSE:
		/* No answer is due, and no connection needs them. */
		return verdict;
	case COM_RESET_CONNECTION:
		if (!s->be && !(s->hold & HOLD_BORROW)) {
			/* Nothing on a server to reset: the session's own
			 * state is all there is. */
			session_state_fresh(s);
			session_reply_ok(reply, SERVER_STATUS_AUTOCOMMIT);
			return MYRING_ANSWER;
		}
		p->resets = true;
		break;
	case COM_STMT_PREPARE: {
		const struct sql_class *cls = c->text ?
			effects_classify(s, p, sql_of(c, reply, verdict),
					 sql_len_of(c, reply, verdict), true) :
			NULL;
		if (cls && cls->flags & SQLC_CONNECTION_ID) {
			verdict = connection_id(s, c, reply, verdict);
			if (verdict == MYRING_REJECT)
				return verdict;
		}
		if (cls && s->c.w->px->cfg.keyspace) {
			verdict = shard_prepare(s, sql_of(c, reply, verdict),
						sql_len_of(c, reply, verdict),
						reply, verdict);
			if (verdict == MYRING_REJECT)
				return verdict;
		}
		/* Prepared where its executions will run. */
		read = p->prep_read_only = cls && sql_class_read_only(cls) &&
			!(query_hints(s, c, reply, verdict) & SQL_HINT_PRIMARY);
		if (stmt_mapped(s) && c->text)
			stmt_on_prepare(s, p, sql_of(c, reply, verdict),
					sql_len_of(c, reply, verdict));
		else
			/* The server's ids pass: the session keeps the
			 * connection they belong to. */
			session_pin(s, PIN_PREPARED);
		break;
	}
	case COM_SET_OPTION:
		session_pin(s, PIN_STATE);
		break;
	case COM_PROCESS_KILL:
		if (payload && len >= 5) {
			verdict = pooled_kill(s, p, mysql_get_u32(payload + 1),
					      false, reply);
			if (verdict != MYRING_REWRITE)
				return verdict;
		}
		break;
	case COM_STMT_EXECUTE:
		if (payload && len >= 5 && stmt_mapped(s)) {
			struct stmt_client *sc =
				stmt_client_get(&s->stmts,
						mysql_get_u32(payload + 1));
			read = sc && (sc->flags & STMT_CLIENT_READ_ONLY);
			if (sc && s->c.w->px->cfg.keyspace) {
				verdict = shard_execute(s, p, sc, payload, len,
							reply, verdict);
				if (verdict == MYRING_REJECT || p->fanout)
					return verdict;
			}
		}
		break;
	case COM_QUERY:
		if (c->text) {
			verdict = pooled_query(s, p, c, reply, verdict, &read);
			if (verdict == MYRING_REJECT || verdict == MYRING_ANSWER ||
			    p->fanout || p->xa)
				return verdict;
		}
		break;
	default:
		break;
	}
	if (!s->be && !(s->hold & HOLD_BORROW)) {
		if (route_session(s, p, read, -1, &err, msg, sizeof(msg)))
			return reject(reply, err, "myring: %s", msg);
		if (c->type == COM_QUERY && c->text && is_replica(s))
			keep_for_retry(s, p, sql_of(c, reply, verdict),
				       sql_len_of(c, reply, verdict));
	} else {
		/* It stays on the connection it holds. */
		p->route_why = s->in_trans ? "in transaction" :
			       s->pins ? "pinned" : "held";
	}
	if (!pooled_backend(s, &err, msg, sizeof(msg)) &&
	    (!reroute_read(s, p) ||
	     !pooled_backend(s, &err, msg, sizeof(msg)))) {
		char m[512];
		return reject(reply, err, "myring: %s",
			      in_group(s, msg, m, sizeof(m)));
	}
	p->server = (int16_t)s->pool_key.server;
	s->c.w->routed[s->pool_key.server]++;
	pool_count_command(s->pool, s->pins != 0);
	return verdict;
}

void pooled_response_done(struct session *s, struct pending *p)
{
	const struct mysql_tracker *t = &s->be->trk;

	if (t->has_status)
		s->in_trans = (t->status & SERVER_STATUS_IN_TRANS) != 0;
	session_xa_response(s);
	if (p->resets && !t->err_code) {
		/* The server reset the connection and its trackers with it:
		 * the pool sets it up again before anyone else uses it. */
		session_state_fresh(s);
		s->state_moved = false;
		s->be->dirty = true;
		s->give_back = true;
		return;
	}
	/* An EOF said the session changed but cannot say how (only OK
	 * packets carry the entries, which session_track_ok read). */
	if (t->state_in_eof)
		session_pin(s, PIN_STATE);
	if (s->in_trans && s->c.w->px->cfg.pool_mode == POOL_STATEMENT)
		session_pin(s, PIN_TRANSACTION);
	/* What LAST_INSERT_ID() now returns: the OK says it (session
	 * tracking reports it only with other changes). */
	if (t->insert_id && !(p->apply_opts & MYSQL_APPLY_NO_INSERT_ID) &&
	    s->st.last_insert_id != t->insert_id) {
		s->st.last_insert_id = t->insert_id;
		s->state_moved = true;
	}
	effects_apply(s, p, t->err_code);
	s->give_back = true;
}
