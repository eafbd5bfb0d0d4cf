/*
 * session_stmt.c - prepared statements of pooled sessions (auth: proxy).
 *
 * A client's prepared statement outlives the backend connection it was
 * prepared on, so the client is given statement ids of myring's own
 * (stmt_clients, per session) and each backend connection caches the
 * server's ids by statement key (stmt_cache: text, schema, parse context):
 *
 *   COM_STMT_PREPARE   forwarded; the PREPARE_OK's id is registered on
 *                      both sides and replaced by myring's id
 *   COM_STMT_EXECUTE,  the id is replaced by the connection's server id;
 *   _SEND_LONG_DATA,   if the connection never prepared the statement, a
 *   _RESET, _FETCH     PREPARE of myring's own goes first and the command
 *                      names "the statement last prepared" (MariaDB's id
 *                      0xFFFFFFFF), so nothing waits for a round trip;
 *                      the parameter types are added when the server
 *                      statement never got this client's
 *   COM_STMT_CLOSE     forgets myring's id (the connection's statement
 *                      stays cached for others, the cache closes the
 *                      least recently used one when full)
 *
 * A PREPARE of myring's own that fails leaves no "last prepared" statement
 * (checked on MariaDB 10.11), so the command after it fails safely; the
 * client is told the PREPARE's own error instead of that one.  Servers
 * without the 0xFFFFFFFF id (MySQL) keep a preparing session on its
 * connection instead (a pin), with ids passed through as they are.
 */
#include "session.h"

#include "log.h"
#include "mysql_proto.h"
#include "stmt_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A session's statements and their text (the connections' caches are
 * BCONN_STMT_CACHE). */
#define STMT_SESSION_MAX 4096
#define STMT_SESSION_BYTES (8u << 20)

bool stmt_mapped(const struct session *s)
{
	return s->pool && s->c.w->px->backend_mariadb && !s->stmt_raw;
}

void stmt_session_init(struct session *s)
{
	stmt_clients_init(&s->stmts, STMT_SESSION_MAX, STMT_SESSION_BYTES);
}

void stmt_session_free(struct session *s)
{
	stmt_clients_free(&s->stmts);
}

/* What changes how the server parses a text besides the text and the
 * schema: the statement key includes it. */
static uint64_t key_of(const struct session *s, const char *sql, size_t len)
{
	const struct mysql_state_var *mode =
		mysql_state_get_var(&s->st, "sql_mode");
	const struct mysql_state_var *cs =
		mysql_state_get_var(&s->st, "character_set_client");
	char ctx[1024];
	int n = snprintf(ctx, sizeof(ctx), "%s|%s",
			 mode && mode->value ? mode->value : "",
			 cs && cs->value ? cs->value : "");

	if (n < 0 || (size_t)n >= sizeof(ctx))
		n = 0;
	return stmt_key(&s->c.w->px->stmt_secret, sql, len,
			s->st.has_schema ? s->st.schema : "", s->st.schema_len,
			ctx, (size_t)n);
}

/* A statement the server closes nowhere else: COM_STMT_CLOSE has no
 * answer, so it can follow whatever is queued on the connection. */
static void close_on_server(struct bconn *b, uint32_t server_id)
{
	uint8_t pkt[MYSQL_HDR_LEN + 5];

	mysql_put_header(pkt, 5, 0);
	pkt[MYSQL_HDR_LEN] = COM_STMT_CLOSE;
	mysql_put_u32(pkt + MYSQL_HDR_LEN + 1, server_id);
	conn_queue_copy(&b->c, pkt, sizeof(pkt));
}

static void cache_put(struct bconn *b, uint64_t key, uint32_t server_id,
		      uint16_t params, uint16_t columns)
{
	uint32_t evicted;

	switch (stmt_cache_put(&b->stc, key, server_id, params, columns,
			       &evicted)) {
	case 1:
		close_on_server(b, evicted);
		break;
	case -1:
		/* Full of statements pinned by open cursors: this one is
		 * not kept, so nothing leaks on the server. */
		close_on_server(b, server_id);
		break;
	default:
		break;
	}
}

void stmt_on_prepare(struct session *s, struct pending *p, const char *sql,
		     size_t len)
{
	size_t schema_len = s->st.has_schema ? s->st.schema_len : 0;

	if (!stmt_mapped(s))
		return;
	p->prep_sql = malloc(len + 1 + schema_len + 1);
	if (!p->prep_sql)
		return;
	memcpy(p->prep_sql, sql, len);
	p->prep_sql[len] = '\0';
	memcpy(p->prep_sql + len + 1, s->st.schema, schema_len);
	p->prep_sql_len = (uint32_t)len;
	p->prep_key = key_of(s, sql, len);
}

/* Writes v at offset off of a packet whose first `held` bytes are in head
 * and the rest start at tail (a packet cut by a buffer boundary). */
static void packet_put_u32(uint8_t *head, size_t held, uint8_t *tail,
			   size_t off, uint32_t v)
{
	for (size_t i = 0; i < 4; i++, off++, v >>= 8) {
		if (off < held)
			head[off] = (uint8_t)v;
		else
			tail[off - held] = (uint8_t)v;
	}
}

void stmt_prepare_ok(struct session *s, struct pending *p,
		     const struct mysql_frame *f, uint8_t *held,
		     size_t held_len, uint8_t *tail)
{
	struct bconn *b = s->be;
	struct stmt_prepare_ok ok;
	struct stmt_client *sc;

	if (!p->prep_sql || stmt_prepare_ok_parse(f->peek, f->peek_len, &ok))
		return;
	cache_put(b, p->prep_key, ok.id, ok.num_params, ok.num_columns);
	sc = stmt_client_add(&s->stmts, p->prep_key, p->prep_sql,
			     p->prep_sql_len, p->prep_sql + p->prep_sql_len + 1,
			     s->st.has_schema ? s->st.schema_len : 0,
			     ok.num_params, ok.num_columns);
	if (sc && p->prep_read_only)
		sc->flags |= STMT_CLIENT_READ_ONLY;
	if (!sc) {
		/* Over the session's limits: from now on its statements keep
		 * the server's ids, and the session its connection. */
		LOGW("%s: more prepared statements than myring maps; the "
		     "session keeps its backend connection", s->client_addr);
		s->stmt_raw = true;
		session_pin(s, PIN_PREPARED);
		stmt_cache_remove(&b->stc, p->prep_key, &ok.id);
		return;
	}
	/* The id is at payload offset 1, packet offset 5. */
	packet_put_u32(held, held_len, tail, MYSQL_HDR_LEN + 1, sc->id);
}

/* The server answered a PREPARE of myring's own (an internal entry). */
void stmt_reprepared(struct session *s, struct pending *p)
{
	struct bconn *b = s->be;
	const struct mysql_tracker *t = &b->trk;
	struct pending *next;

	if (!t->err_code) {
		struct stmt_backend *sb;
		cache_put(b, p->prep_key, t->stmt_id, t->prep_params,
			  t->prep_columns);
		/* The command after it carried the client's types. */
		sb = stmt_cache_get(&b->stc, p->prep_key);
		if (sb && p->types_hash) {
			sb->types_sent = true;
			sb->types_hash = p->types_hash;
		}
		return;
	}
	/* The statement cannot be prepared here any more (a table was
	 * dropped...): the command after it, which failed as "unknown
	 * statement", gets this error instead. */
	next = pend_next_of(s, p);
	if (next && p->reply) {
		next->internal = true;
		next->reply = p->reply;
		next->reply_len = p->reply_len;
		next->local_err = t->err_code;
		p->reply = NULL;
	}
}

/* A statement command's payload for the server: its id (and the types
 * it lacks) set, appended to pb as packets from sequence id 0 (a payload
 * of 16 MiB or more is split, as the protocol frames it). */
static bool rebuild(struct pkt_buf *pb, const struct stmt_client *sc,
		    const uint8_t *payload, size_t len, uint32_t server_id,
		    bool add_types)
{
	size_t cap = len + (add_types ? 2u * sc->num_params : 0);
	uint8_t *body = malloc(cap ? cap : 1);
	long n = (long)len;

	if (!body)
		return false;
	if (add_types) {
		n = stmt_execute_add_types(payload, len, sc->num_params,
					   sc->types, body, cap);
		if (n < 0) {
			free(body);
			return false;
		}
	} else {
		memcpy(body, payload, len);
	}
	stmt_cmd_set_id(body, (size_t)n, server_id);
	pb->seq = 0;
	pkt_buf_packet(pb, body, (size_t)n);
	free(body);
	return !pb->oom;
}

/* pb's packets, handed over as one malloc'd block; NULL on failure. */
static uint8_t *take_packets(struct pkt_buf *pb, bool ok, size_t *out_len)
{
	if (!ok || pb->oom) {
		pkt_buf_free(pb);
		return NULL;
	}
	*out_len = pb->len;
	return pb->data;
}

/* A local ERR as the server words an unknown statement. */
static void unknown_stmt(struct myring_reply *reply, uint32_t id, uint8_t cmd)
{
	reply->err_code = 1243;
	memcpy(reply->sqlstate, "HY000", 6);
	snprintf(reply->message, sizeof(reply->message),
		 "Unknown prepared statement handler (%u) given to %s", id,
		 cmd == COM_STMT_FETCH ? "mysqld_stmt_fetch" :
		 cmd == COM_STMT_RESET ? "mysqld_stmt_reset" :
		 "mysqld_stmt_execute");
}

/* The cursor and long-data pins follow the statements that need them: a
 * cursor stays open until its statement is executed again, reset or
 * closed; long data waits for the statement's next EXECUTE (or a
 * reset). */
static void stmt_repin(struct session *s)
{
	uint32_t any = 0;

	if (!(s->pins & (PIN_CURSOR | PIN_LONG_DATA)))
		return;
	for (uint32_t i = 0; i < s->stmts.cap; i++)
		if (s->stmts.slots[i].id)
			any |= s->stmts.slots[i].flags;
	if (!(any & STMT_CLIENT_CURSOR))
		session_unpin(s, PIN_CURSOR);
	if (!(any & STMT_CLIENT_LONG_DATA))
		session_unpin(s, PIN_LONG_DATA);
}

void stmt_forget(struct session *s, uint32_t id)
{
	stmt_client_remove(&s->stmts, id);
	stmt_repin(s);
}

enum stmt_action stmt_resolve(struct session *s, struct pending *p,
			      uint8_t *payload, size_t len,
			      struct myring_reply *reply, uint8_t **out,
			      size_t *out_len)
{
	struct bconn *b = s->be;
	uint8_t cmd = payload[0];
	uint32_t id;
	struct stmt_client *sc;
	struct stmt_backend *sb;
	struct stmt_execute ex;
	bool bound = false, add_types = false;

	*out = NULL;
	if (stmt_cmd_get_id(payload, len, &id))
		return STMT_FORWARD;   /* the server will say it is malformed */
	if (id == STMT_ID_LAST)
		return STMT_FORWARD;   /* a PREPARE just before, on b */
	sc = stmt_client_get(&s->stmts, id);
	if (!sc) {
		if (cmd == COM_STMT_SEND_LONG_DATA)
			return STMT_DROP;   /* no answer is due */
		unknown_stmt(reply, id, cmd);
		return STMT_LOCAL;
	}
	if (cmd == COM_STMT_EXECUTE &&
	    stmt_execute_parse(payload, len, sc->num_params, &ex) == 0) {
		bound = ex.new_params_bound;
		if (bound)
			stmt_client_set_types(&s->stmts, sc, payload + ex.types_off,
					      &s->c.w->px->stmt_secret);
		/* The execute consumes the long data and closes the
		 * statement's last cursor. */
		sc->flags &= ~(STMT_CLIENT_LONG_DATA | STMT_CLIENT_CURSOR);
		if (ex.flags) {
			sc->flags |= STMT_CLIENT_CURSOR;
			session_pin(s, PIN_CURSOR);
		}
		stmt_repin(s);
	}
	if (cmd == COM_STMT_RESET) {
		sc->flags &= ~(STMT_CLIENT_LONG_DATA | STMT_CLIENT_CURSOR);
		stmt_repin(s);
	}
	if (cmd == COM_STMT_SEND_LONG_DATA) {
		sc->flags |= STMT_CLIENT_LONG_DATA;
		session_pin(s, PIN_LONG_DATA);
	}
	sb = stmt_cache_get(&b->stc, sc->key);
	if (sb) {
		add_types = cmd == COM_STMT_EXECUTE && !bound &&
			    stmt_needs_types(sc, sb);
		if (cmd == COM_STMT_EXECUTE && (bound || add_types)) {
			sb->types_sent = true;
			sb->types_hash = sc->types_hash;
		}
		if (!add_types) {
			stmt_cmd_set_id(payload, len, sb->server_id);
			return STMT_FORWARD;
		}
		{
			struct pkt_buf pb;
			pkt_buf_init(&pb);
			*out = take_packets(&pb, rebuild(&pb, sc, payload, len,
							 sb->server_id, true),
					    out_len);
		}
		return *out ? STMT_REPLACE : STMT_FAIL;
	}
	if (cmd == COM_STMT_RESET) {
		/* Never prepared here, nothing to reset: what the server
		 * would answer. */
		reply->err_code = 0;
		return STMT_OK;
	}
	/* Prepare it here first, in the same round trip. */
	{
		struct pending *prep = pend_insert_before(s, p);
		static const uint8_t prepare = COM_STMT_PREPARE;
		struct pkt_buf pb;
		bool ok;

		if (!prep)
			return STMT_FAIL;
		prep->cmd = COM_STMT_PREPARE;
		prep->kind = RESP_PREPARE;
		prep->internal = true;
		prep->prep_key = sc->key;
		/* The error a failed PREPARE leaves for the command after it. */
		prep->reply_seq = p->reply_seq;
		add_types = cmd == COM_STMT_EXECUTE && !bound &&
			    sc->num_params && (sc->flags & STMT_CLIENT_TYPES);
		if (cmd == COM_STMT_EXECUTE && (bound || add_types))
			prep->types_hash = sc->types_hash;
		pkt_buf_init(&pb);
		pkt_buf_packet2(&pb, &prepare, 1, sc->sql, sc->sql_len);
		ok = rebuild(&pb, sc, payload, len, STMT_ID_LAST, add_types);
		*out = take_packets(&pb, ok, out_len);
		if (!*out) {
			pend_remove(s, prep);
			return STMT_FAIL;
		}
		s->stmt_reprepares++;
		return STMT_REPLACE;
	}
}

void stmt_release_parked(struct session *s, const struct parked *pk)
{
	struct pending *p;
	struct myring_reply reply = {0};
	uint8_t *out = NULL, *cmd;
	size_t out_len = 0;
	uint32_t len;

	if (!pk->serial) {
		/* COM_STMT_CLOSE, in its place among the commands. */
		stmt_forget(s, pk->stmt_id);
		return;
	}
	p = pend_by_serial(s, pk->serial);
	if (!p || !p->stmt_cmd)
		return;
	/* The copy is this function's now: p may complete below. */
	cmd = p->stmt_cmd;
	len = p->stmt_cmd_len;
	p->stmt_cmd = NULL;
	switch (stmt_resolve(s, p, cmd, len, &reply, &out, &out_len)) {
	case STMT_FORWARD: {
		/* The resolved command, framed again (split at 16 MiB). */
		struct pkt_buf pb;
		uint8_t *pkts;

		pkt_buf_init(&pb);
		pkt_buf_packet(&pb, cmd, len);
		pkts = take_packets(&pb, true, &out_len);
		if (!pkts) {
			session_close(s, "out of memory");
			break;
		}
		conn_queue(&s->be->c, pkts, (uint32_t)out_len, -1, pkts);
		break;
	}
	case STMT_REPLACE:
		conn_queue(&s->be->c, out, (uint32_t)out_len, -1, out);
		break;
	case STMT_DROP:
		break;
	case STMT_LOCAL:
	case STMT_OK:
		/* Answered by myring after all: the entry waits for its
		 * turn as a local reply. */
		command_answer_locally(s, p, &reply);
		break;
	case STMT_FAIL:
		session_close(s, "out of memory");
		break;
	}
	free(cmd);
}
