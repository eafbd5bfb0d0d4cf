/*
 * session_command.c - the command phase: command_received -> (hooks) ->
 * command_forwarded -> response_received ... response complete.
 *
 * Client bytes are laid out as chunks of the receive buffer they arrived
 * in (zero copy) by an emitter that only cuts the buffer where a command
 * is dropped, replaced or must be copied whole for a hook.  Server bytes
 * are forwarded as they come while the tracker walks their headers to
 * find where each response ends.
 */
#include "session.h"

#include "digest.h"
#include "hooks.h"
#include "log.h"
#include "mysql_proto.h"
#include "mysql_srv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Commands a client may pipeline before the first response returns. */
#define PIPELINE_MAX 1024

/* ---- emitter -------------------------------------------------------- */

struct emitter {
	struct session *s;
	bool to_backend;         /* the bytes go to the backend, else the client */
	uint8_t *buf;
	int32_t bid;
	size_t from;             /* start of the bytes not yet queued */
	size_t cursor;           /* bytes before this are decided */
};

static void em_flush(struct emitter *e)
{
	if (e->cursor > e->from)
		(e->to_backend ? session_to_backend : session_to_client)(
			e->s, e->buf + e->from, (uint32_t)(e->cursor - e->from),
			e->bid, NULL);
	e->from = e->cursor;
}

static void em_forward(struct emitter *e, size_t to)
{
	e->cursor = to;
}

static void em_drop(struct emitter *e, size_t to)
{
	em_flush(e);
	e->from = e->cursor = to;
}

/* ---- assembly of a client command that spans buffers ---------------- */

static int asm_append(struct session *s, const uint8_t *p, size_t n)
{
	return session_asm_append(s, p, n, UINT32_MAX);
}

static void asm_reset(struct session *s)
{
	free(s->asm_buf);
	s->asm_buf = NULL;
	s->asm_len = s->asm_cap = s->asm_need = 0;
}

/*
 * Frames head || body as one command, sequence ids from 0.  Returns a
 * malloc'd block the caller queues (and owns), or NULL when out of memory.
 */
static uint8_t *frame_command(const void *head, size_t hlen, const void *body,
			      size_t blen, size_t *out_len, uint8_t *last_seq)
{
	struct pkt_buf pb;

	pkt_buf_init(&pb);
	pkt_buf_packet2(&pb, head, hlen, body, blen);
	if (pb.oom) {
		pkt_buf_free(&pb);
		return NULL;
	}
	*out_len = pb.len;
	*last_seq = (uint8_t)(pb.seq - 1);
	return pb.data;
}

/* ---- pending commands ----------------------------------------------- */

static struct pending *pend_at(struct session *s, uint32_t i)
{
	return &s->pend[(s->pend_head + i) & (s->pend_cap - 1)];
}

static struct pending *pend_push(struct session *s)
{
	if (s->pend_count == s->pend_cap) {
		uint32_t ncap = s->pend_cap ? s->pend_cap * 2 : 4;
		struct pending *np;
		if (ncap > PIPELINE_MAX)
			return NULL;
		np = malloc(ncap * sizeof(*np));
		if (!np)
			return NULL;
		for (uint32_t i = 0; i < s->pend_count; i++)
			np[i] = *pend_at(s, i);
		free(s->pend);
		s->pend = np;
		s->pend_cap = ncap;
		s->pend_head = 0;
	}
	struct pending *p = pend_at(s, s->pend_count++);
	memset(p, 0, sizeof(*p));
	return p;
}

/* The head's response is the next thing the backend sends: follow it.
 * Not before the session has a backend of its own (a pooled one may be
 * on its way, or busy with myring's own requests). */
static void start_tracking_head(struct session *s)
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
static void complete_head(struct session *s, bool aborted)
{
	struct pending *p = pend_at(s, 0);
	struct myring_result r = {
		.duration_us = s->c.w->now_us - p->start_us,
		.aborted = aborted,
		.rejected = p->rejected,
	};

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
	report_result(s, p, &r);
	free(p->reply);
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
bool command_fail_in_flight(struct session *s, uint16_t code,
			    const char *msg)
{
	const struct mysql_framer *from_server = &s->be->fr;
	const struct mysql_framer *from_client = &s->fr;
	uint8_t seq;

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
static void inject_local_heads(struct session *s)
{
	while (s->pend_count && pend_at(s, 0)->local) {
		struct pending *p = pend_at(s, 0);
		uint8_t *reply = p->reply;
		uint32_t reply_len = p->reply_len;
		p->reply = NULL;
		complete_head(s, false);
		if (reply)
			session_to_client(s, reply, reply_len, -1, reply);
	}
	if (s->pend_count)
		start_tracking_head(s);
	else if (s->be)
		s->be->fr.seq_delta = 0;
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

/* ---- commands ------------------------------------------------------- */

/* `USE name` / `USE \`name\``: the schema the session moves to on OK. */
static bool parse_use(const uint8_t *t, size_t n, const uint8_t **name,
		      size_t *len)
{
	size_t i = 0, start;

	while (i < n && isspace(t[i]))
		i++;
	if (n - i < 4 || strncasecmp((const char *)t + i, "use", 3) ||
	    !isspace(t[i + 3]))
		return false;
	i += 3;
	while (i < n && isspace(t[i]))
		i++;
	if (i < n && t[i] == '`') {
		start = ++i;
		while (i < n && t[i] != '`')
			i++;
	} else {
		start = i;
		while (i < n && !isspace(t[i]) && t[i] != ';')
			i++;
	}
	if (i == start)
		return false;
	*name = t + start;
	*len = i - start;
	return true;
}

/* Fills the text hooks see, and what the session adopts if the command
 * succeeds (schema, user). */
static void describe_command(struct session *s, struct pending *p,
			     const uint8_t *payload, size_t len,
			     struct myring_command *c)
{
	const uint8_t *name;
	size_t nlen;

	switch (payload[0]) {
	case COM_QUERY:
		if (parse_use(payload + 1, len - 1, &name, &nlen))
			session_set_str(&p->new_schema, (const char *)name, nlen);
		/* fall through */
	case COM_STMT_PREPARE:
	case COM_INIT_DB:
		c->text = (const char *)payload + 1;
		c->text_len = len - 1;
		if (hooks_want_digest && payload[0] != COM_INIT_DB) {
			struct worker *w = s->c.w;
			c->digest = digest_normalize(c->text, c->text_len,
						     w->digest_buf, w->digest_cap,
						     &c->digest_text_len);
			c->digest_text = w->digest_buf;
		}
		if (payload[0] == COM_INIT_DB)
			session_set_str(&p->new_schema, c->text, c->text_len);
		break;
	case COM_FIELD_LIST: {
		const uint8_t *nul = memchr(payload + 1, 0, len - 1);
		c->text = (const char *)payload + 1;
		c->text_len = nul ? (size_t)(nul - payload - 1) : len - 1;
		break;
	}
	case COM_STMT_EXECUTE:
	case COM_STMT_FETCH:
	case COM_STMT_RESET:
	case COM_STMT_CLOSE:
	case COM_STMT_SEND_LONG_DATA:
		if (len >= 5)
			c->stmt_id = mysql_get_u32(payload + 1);
		break;
	case COM_CHANGE_USER: {
		struct mysql_change_user cu;
		if (!mysql_parse_change_user(payload, len, s->caps, &cu)) {
			session_set_str(&p->new_user, cu.user.ptr, cu.user.len);
			session_set_str(&p->new_schema, cu.schema.ptr,
					cu.schema.len);
		}
		break;
	}
	default:
		break;
	}
}

static void reject_reply(struct session *s, struct pending *p,
			 const struct myring_reply *reply, uint8_t seq)
{
	uint8_t pkt[600];
	size_t n = mysql_build_err(pkt, sizeof(pkt), seq,
				   reply->err_code ? reply->err_code : 1105,
				   reply->sqlstate[0] ? reply->sqlstate : "HY000",
				   reply->message);

	p->local = true;
	p->rejected = true;
	p->local_err = reply->err_code ? reply->err_code : 1105;
	p->reply = malloc(n);
	if (p->reply) {
		memcpy(p->reply, pkt, n);
		p->reply_len = (uint32_t)n;
	}
}

/* A hook's fixed answer: its packets are numbered from 1, as for a
 * one-packet command; a command of several packets shifts them.  What it
 * carries is read back from its packets, so that statistics and the query
 * log count the rows the client receives, as for a server's answer. */
static void answer_reply(struct session *s, struct pending *p,
			 struct myring_reply *reply, uint8_t last_seq)
{
	struct mysql_tracker t;

	p->local = true;
	p->answered = true;
	p->reply = reply->answer;
	p->reply_len = (uint32_t)reply->answer_len;
	reply->answer = NULL;
	if (mysql_tracker_run(&t, RESP_RESULT, s->deprecate_eof, p->reply,
			      p->reply_len) == 0) {
		p->local_err = t.err_code;
		p->local_result_set = t.result_sets > 0;
		p->local_rows = t.rows;
		p->local_affected = t.affected_rows;
	} else {
		LOGW("%s: a hook's answer is not one complete response",
		     s->client_addr);
	}
	if (last_seq)
		for (size_t off = 0; off + MYSQL_HDR_LEN <= p->reply_len;
		     off += MYSQL_HDR_LEN + mysql_get_u24(p->reply + off))
			p->reply[off + 3] = (uint8_t)(p->reply[off + 3] + last_seq);
}

/*
 * A whole command is here: payload points at its bytes (command byte
 * first) if the proxy needs them, else NULL (only the command byte, from
 * the peek, is known).  Decides its fate and records it as pending.
 * Returns the disposition of the original bytes.
 */
static enum disp command_received(struct session *s, struct emitter *e,
				  uint8_t cmd, const uint8_t *payload,
				  size_t len)
{
	enum mysql_resp_kind kind = mysql_response_kind(cmd);
	struct myring_reply reply = {0};
	enum myring_verdict verdict = MYRING_FORWARD;
	struct pending *p;
	bool was_idle = s->pend_count == 0;

	s->c.w->stats.commands[cmd]++;
	if (s->pool && cmd == COM_CHANGE_USER) {
		/* myring authenticates the new user itself, as at login. */
		if (!was_idle || !payload) {
			session_fail(s, 1, 1047, "08S01", "COM_CHANGE_USER "
				     "pipelined behind other commands");
			return DISP_DROP;
		}
		login_change_user(s, payload, len);
		return DISP_DROP;
	}
	p = pend_push(s);
	if (!p) {
		session_fail(s, 1, 1105, "HY000",
			     "too many pipelined commands");
		return DISP_DROP;
	}
	p->cmd = cmd;
	p->kind = (uint8_t)kind;
	p->start_us = s->c.w->now_us;
	p->reply_seq = (uint8_t)(s->cmd_last_seq + 1);

	if (nhooks || s->pool) {
		struct myring_command c = {
			.type = cmd,
			.name = mysql_command_name(cmd),
		};
		if (payload)
			describe_command(s, p, payload, len, &c);
		if (nhooks) {
			verdict = hooks_on_command(s->c.w, &s->info, &c, &reply,
						   p->cookies);
			p->hooked = hooks_want_result;
			p->route = reply.route;
		}
		if (s->pool && verdict != MYRING_REJECT &&
		    verdict != MYRING_ANSWER)
			verdict = pooled_command(s, p, &c, &reply, verdict);
	}
	if (s->pool && kind == RESP_NONE && verdict != MYRING_REJECT &&
	    (cmd == COM_QUIT || (!s->be && !s->hold))) {
		/* No answer is due, and no connection needs it: COM_QUIT
		 * (the pooled connection is the pool's, not the client's to
		 * close), or a statement closed on no connection at all. */
		if (cmd == COM_QUIT)
			s->quit = true;
		p->local = true;
		if (s->pend_count == 1)
			complete_head(s, false);
		free(reply.rewrite);
		free(reply.answer);
		return DISP_DROP;
	}

	if (kind == RESP_STREAM && verdict == MYRING_FORWARD) {
		verdict = MYRING_REJECT;
		reply.err_code = 1235;
		snprintf(reply.message, sizeof(reply.message),
			 "myring: %s is not supported (replication streams are "
			 "not proxied)", mysql_command_name(cmd));
	}
	if (verdict == MYRING_ANSWER && (!reply.answer || kind == RESP_NONE)) {
		free(reply.answer);
		reply.answer = NULL;
		verdict = MYRING_FORWARD;
	}
	if (verdict == MYRING_REWRITE &&
	    (!reply.rewrite || (cmd != COM_QUERY && cmd != COM_STMT_PREPARE))) {
		LOGW("%s: hook asked to rewrite a %s without text; forwarding",
		     s->client_addr, mysql_command_name(cmd));
		verdict = MYRING_FORWARD;
	}

	switch (verdict) {
	case MYRING_ANSWER:
		s->c.w->stats.answered++;
		answer_reply(s, p, &reply, s->cmd_last_seq);
		if (was_idle)
			inject_local_heads(s);
		free(reply.rewrite);
		return DISP_DROP;
	case MYRING_REJECT:
		s->c.w->stats.rejected++;
		if (kind == RESP_NONE) {
			/* The client expects no answer: drop it silently. */
			p->local = true;
			p->rejected = true;
			if (s->pend_count == 1)
				complete_head(s, false);
			free(reply.rewrite);
			return DISP_DROP;
		}
		reject_reply(s, p, &reply, (uint8_t)(s->cmd_last_seq + 1));
		if (was_idle)
			inject_local_heads(s);
		free(reply.rewrite);
		free(reply.answer);
		return DISP_DROP;
	case MYRING_REWRITE: {
		size_t plen;
		uint8_t last_seq;
		uint8_t *pkts = frame_command(&cmd, 1, reply.rewrite,
					      reply.rewrite_len, &plen, &last_seq);
		free(reply.rewrite);
		if (!pkts) {
			session_close(s, "out of memory");
			return DISP_DROP;
		}
		p->seq_delta = (uint8_t)(s->cmd_last_seq - last_seq);
		em_flush(e);
		session_to_backend(s, pkts, (uint32_t)plen, -1, pkts);
		break;
	}
	case MYRING_FORWARD:
		free(reply.rewrite);
		free(reply.answer);
		break;
	}
	if (reply.delay_ms) {
		/* Everything queued for the backend from here on waits,
		 * starting with this command's bytes. */
		s->c.w->stats.delayed++;
		em_flush(e);
		session_delay(s, reply.delay_ms);
	}
	if (kind == RESP_NONE) {
		/* No response will come: the command is complete once sent. */
		if (cmd == COM_QUIT)
			s->quit = true;
		/* A local entry without a reply: behind pipelined commands it
		 * completes in order, otherwise at once. */
		p->local = true;
		if (s->pend_count == 1)
			complete_head(s, false);
	} else if (was_idle) {
		start_tracking_head(s);
	}
	if (cmd == COM_CHANGE_USER)
		s->client_mode = CM_RELAY;
	return verdict == MYRING_FORWARD ? DISP_FORWARD : DISP_DROP;
}

static bool command_wants_text(uint8_t cmd)
{
	return cmd == COM_QUERY || cmd == COM_STMT_PREPARE ||
	       cmd == COM_INIT_DB || cmd == COM_FIELD_LIST ||
	       cmd == COM_CHANGE_USER;
}

/*
 * The command is larger than --max-packet.  The client is most likely
 * still sending it: closing now would reset the connection and lose the
 * ERR, so the rest of the command is read and dropped, then the session
 * ends.  The bound is on silence, not on the whole transfer: a slow but
 * steady client still gets its ERR, one that stops sending for
 * DISCARD_IDLE_US is closed, and so is one that sends more than
 * DISCARD_MAX_BYTES beyond the limit (the largest packet MySQL allows):
 * measured from the limit, not from zero, so that with --max-packet 1G the
 * client still gets its ERR.
 */
#define DISCARD_IDLE_US 5000000u
#define DISCARD_MAX_BYTES (1ull << 30)

static void oversized(struct session *s, uint8_t seq)
{
	char why[120], msg[140];

	snprintf(why, sizeof(why),
		 "packet of %llu bytes exceeds --max-packet (%u bytes)",
		 (unsigned long long)s->cmd_bytes, s->c.w->px->cfg.max_packet);
	LOGW("%s: %s", s->client_addr, why);
	/* A well-formed command the limit refuses, as a server would: a
	 * command error, not a protocol error. */
	s->c.w->stats.errors++;
	stats_count_err(&s->c.w->stats, 1153);
	snprintf(msg, sizeof(msg), "myring: %s", why);
	session_queue_err(s, (uint8_t)(seq + 1), 1153, "08S01", msg);
	s->disp = DISP_DROP;
	s->discarding = true;
	s->deadline_us = s->c.w->now_us + DISCARD_IDLE_US;
	/* Nothing more goes to the backend; its side is closed with the
	 * session. */
}

/* The first packet of a client command has been framed. */
static void command_begins(struct session *s, struct emitter *e,
			   const struct mysql_frame *f, uint8_t *buf,
			   size_t n, size_t fstart)
{
	uint8_t cmd;

	if (f->len == 0) {
		session_fail(s, (uint8_t)(f->seq + 1), 1047, "08S01",
			     "malformed packet: empty command");
		return;
	}
	if (f->seq != 0) {
		session_fail(s, (uint8_t)(f->seq + 1), 1156, "08S01",
			     "got packets out of order (a command must start "
			     "with sequence id 0)");
		return;
	}
	cmd = f->peek[0];
	s->cmd_bytes = f->len;
	s->cmd_last_seq = f->seq;
	if (s->cmd_bytes > s->c.w->px->cfg.max_packet) {
		s->c.w->stats.commands[cmd]++;
		oversized(s, f->seq);
		return;
	}
	if (f->start_in_buf && f->len < MYSQL_MAX_PAYLOAD &&
	    fstart + MYSQL_HDR_LEN + f->len <= n) {
		/* The whole command is in this buffer: decide in place. */
		s->disp = command_received(s, e, cmd,
					   nhooks || s->pool ?
					   buf + fstart + MYSQL_HDR_LEN : NULL,
					   f->len);
	} else if ((hooks_want_text || s->pool) && command_wants_text(cmd)) {
		/* Spans buffers and a hook needs it whole: copy it. */
		s->disp = DISP_ASSEMBLE;
		s->asm_need = MYSQL_HDR_LEN + f->len;
		s->asm_more = f->len == MYSQL_MAX_PAYLOAD;
	} else {
		s->disp = command_received(s, e, cmd, NULL, f->len);
	}
}

/* The assembled command is complete in asm_buf. */
static void assembled_command_received(struct session *s, struct emitter *e)
{
	uint8_t *buf = s->asm_buf;
	size_t len = s->asm_len;
	size_t plen = 0;
	bool single = len == MYSQL_HDR_LEN + mysql_get_u24(buf);
	enum disp d;

	/* Strip the headers of a multi-packet command: hooks see one text. */
	for (size_t off = 0; off < len;) {
		uint32_t l = mysql_get_u24(buf + off);
		memmove(buf + plen, buf + off + MYSQL_HDR_LEN, l);
		plen += l;
		off += MYSQL_HDR_LEN + l;
	}
	d = command_received(s, e, buf[0], buf, plen);
	if (session_done(s)) {
		asm_reset(s);
		return;
	}
	if (d == DISP_FORWARD) {
		uint8_t *pkts;
		size_t out_len;
		uint8_t last_seq;

		if (single) {
			/* Rebuild the one header that was stripped. */
			memmove(buf + MYSQL_HDR_LEN, buf, plen);
			mysql_put_header(buf, (uint32_t)plen, 0);
			s->asm_buf = NULL;
			session_to_backend(s, buf,
				      (uint32_t)(plen + MYSQL_HDR_LEN), -1, buf);
		} else {
			pkts = frame_command(NULL, 0, buf, plen, &out_len,
					     &last_seq);
			if (!pkts) {
				session_close(s, "out of memory");
				return;
			}
			session_to_backend(s, pkts, (uint32_t)out_len,
				      -1, pkts);
		}
	}
	asm_reset(s);
	s->disp = DISP_FORWARD;
}

/* Applies the disposition of the packet in progress to buf[cursor, to). */
static void apply_disp(struct session *s, struct emitter *e, size_t to)
{
	switch (s->disp) {
	case DISP_FORWARD:
		em_forward(e, to);
		break;
	case DISP_DROP:
		em_drop(e, to);
		break;
	case DISP_ASSEMBLE:
		em_flush(e);
		if (asm_append(s, e->buf + e->cursor, to - e->cursor)) {
			session_close(s, "out of memory");
			return;
		}
		e->from = e->cursor = to;
		if (s->asm_len == s->asm_need && !s->asm_more)
			assembled_command_received(s, e);
		break;
	}
}

/* The bytes of a frame that began in earlier buffers were held back
 * (copied) until its disposition was known. */
static void take_held(struct session *s)
{
	if (!s->held_len)
		return;
	switch (s->disp) {
	case DISP_FORWARD:
		session_to_backend_copy(s, s->held_hdr, s->held_len);
		break;
	case DISP_ASSEMBLE:
		if (asm_append(s, s->held_hdr, s->held_len))
			session_close(s, "out of memory");
		break;
	case DISP_DROP:
		break;
	}
	s->held_len = 0;
}

void command_client_data(struct session *s, uint8_t *buf, uint32_t n,
			 int32_t bid)
{
	struct mysql_framer *fr = &s->fr;
	struct emitter e = {s, true, buf, bid, 0, 0};
	struct mysql_frame f;
	size_t pos = 0;
	unsigned part, here;

	if (s->discarding)
		s->deadline_us = s->c.w->now_us + DISCARD_IDLE_US;
	while (mysql_framer_next(fr, buf, n, &pos, &f)) {
		size_t fstart = f.start_in_buf ? f.start : 0;

		apply_disp(s, &e, fstart);
		if (session_done(s))
			return;
		if (s->discarding && !f.continuation) {
			/* The refused command has been read to its end. */
			em_flush(&e);
			session_finish(s);
			return;
		}
		if (f.continuation) {
			s->cmd_bytes += f.len;
			s->cmd_last_seq = f.seq;
			if (s->disp == DISP_ASSEMBLE) {
				s->asm_need += MYSQL_HDR_LEN + f.len;
				s->asm_more = f.len == MYSQL_MAX_PAYLOAD;
			}
			if (s->phase == PH_COMMAND && s->client_mode == CM_COMMAND &&
			    !s->discarding &&
			    s->cmd_bytes > s->c.w->px->cfg.max_packet)
				oversized(s, f.seq);
			if (s->discarding &&
			    s->cmd_bytes - s->c.w->px->cfg.max_packet >
			    DISCARD_MAX_BYTES) {
				LOGW("%s: oversized command goes on for 1 GiB "
				     "past --max-packet", s->client_addr);
				session_close(s, "client kept sending an "
					      "oversized command");
				return;
			}
		} else if (s->phase == PH_AUTH || s->client_mode == CM_RELAY) {
			s->disp = DISP_FORWARD;
		} else if (s->client_mode == CM_INFILE) {
			s->disp = DISP_FORWARD;
			if (f.len == 0)
				s->client_mode = CM_COMMAND;
		} else {
			command_begins(s, &e, &f, buf, n, fstart);
			if (session_done(s))
				return;
		}
		if (!f.start_in_buf)
			take_held(s);
		if (s->closing)
			return;
	}
	/* The start of a packet whose frame is incomplete is held back until
	 * the next buffer says what the packet is. */
	part = mysql_framer_partial(fr);
	here = part - s->held_len;
	apply_disp(s, &e, n - here);
	if (session_done(s))
		return;
	memcpy(s->held_hdr + s->held_len, buf + n - here, here);
	s->held_len = (uint8_t)part;
	em_flush(&e);
	if (s->discarding && mysql_framer_at_boundary(fr) && !fr->continued)
		session_finish(s);
}

/* ---- responses ------------------------------------------------------ */

static void close_when_flushed(struct session *s)
{
	if (s->c.w->draining && session_idle(s)) {
		session_close_after_flush(s, "proxy shutting down");
	}
}

static void response_complete(struct session *s, struct emitter *e,
			      size_t pos, size_t n)
{
	uint64_t end = pos + s->be->fr.payload_left;

	if (s->pool)
		pooled_response_done(s, pend_at(s, 0));
	complete_head(s, false);
	if (s->client_mode == CM_RELAY)
		s->client_mode = CM_COMMAND;
	if (s->pend_count && pend_at(s, 0)->local) {
		/* Replies of rejected pipelined commands go right after this
		 * response's last byte, which may lie in a later buffer. */
		if (end <= n) {
			em_forward(e, end);
			em_flush(e);
			inject_local_heads(s);
		} else {
			s->be->inject_pending = true;
			s->be->inject_skip = end - n;
		}
	} else if (s->pend_count) {
		start_tracking_head(s);
	} else {
		s->be->fr.seq_delta = 0;
	}
}

/* ---- OK packets of a pooled response, copied whole --------------------- */

static int capture_append(struct bconn *b, const uint8_t *p, size_t n)
{
	uint8_t *nb = realloc(b->cap, b->cap_len + n);

	if (!nb)
		return -1;
	memcpy(nb + b->cap_len, p, n);
	b->cap = nb;
	b->cap_len += (uint32_t)n;
	return 0;
}

/* The copied OK is whole: the session learns what changed, the client
 * gets it with the entries it asked for. */
static void capture_done(struct session *s)
{
	struct bconn *b = s->be;
	uint8_t *pkt = b->cap;
	uint32_t len = b->cap_len;
	long plen = session_track_ok(s, pkt + MYSQL_HDR_LEN, len - MYSQL_HDR_LEN);

	b->cap = NULL;
	b->cap_len = 0;
	if (plen >= 0) {
		mysql_put_u24(pkt, (uint32_t)plen);
		len = MYSQL_HDR_LEN + (uint32_t)plen;
	}
	session_to_client(s, pkt, len, -1, pkt);
	if (!s->pend_count)
		s->give_back = true;
}

/*
 * Frame f (a pooled response's OK whose status says the session changed)
 * is copied instead of forwarded: what came before it goes out first, its
 * head may be held from the last buffer, its tail may come in the next
 * ones (cap_left).
 */
static void capture_begin(struct session *s, struct emitter *e,
			  const struct mysql_frame *f, size_t n)
{
	struct bconn *b = s->be;
	size_t start = f->start_in_buf ? f->start : 0;
	size_t total = MYSQL_HDR_LEN + (size_t)f->len, here;

	if (f->start_in_buf) {
		em_forward(e, start);
		em_flush(e);
	} else if (capture_append(b, b->held, b->held_len)) {
		session_close(s, "out of memory");
		return;
	}
	here = total - b->cap_len;
	if (here > n - start)
		here = n - start;
	b->held_len = 0;
	if (capture_append(b, e->buf + start, here)) {
		session_close(s, "out of memory");
		return;
	}
	e->from = e->cursor = start + here;
	b->cap_left = (uint32_t)(total - b->cap_len);
	if (!b->cap_left)
		capture_done(s);
}

/* The held head of a packet that needs no copy goes out before the rest. */
static void release_held(struct session *s)
{
	struct bconn *b = s->be;

	if (b->held_len) {
		session_to_client_copy(s, b->held, b->held_len);
		b->held_len = 0;
	}
}

void command_backend_data(struct session *s, uint8_t *buf, uint32_t n,
			  int32_t bid)
{
	struct bconn *b = s->be;
	struct mysql_framer *fr = &b->fr;
	struct emitter e = {s, false, buf, bid, 0, 0};
	struct mysql_frame f;
	size_t pos = 0, inject_off = SIZE_MAX;

	if (b->cap_left) {
		/* The tail of an OK being copied. */
		uint32_t take = b->cap_left < n ? b->cap_left : n;
		if (capture_append(b, buf, take)) {
			session_close(s, "out of memory");
			return;
		}
		b->cap_left -= take;
		e.from = e.cursor = take;
		if (!b->cap_left)
			capture_done(s);
	}
	if (s->be->inject_pending) {
		if (s->be->inject_skip <= n)
			inject_off = s->be->inject_skip;
		else
			s->be->inject_skip -= n;
	}
	while (mysql_framer_next(fr, buf, n, &pos, &f)) {
		enum mysql_track_result r;

		if (inject_off != SIZE_MAX && f.start_in_buf &&
		    f.start >= inject_off) {
			em_forward(&e, inject_off);
			em_flush(&e);
			s->be->inject_pending = false;
			inject_off = SIZE_MAX;
			inject_local_heads(s);
		}
		if (s->phase == PH_AUTH) {
			r = mysql_tracker_feed(&s->be->trk, &f);
			if (r == TRACK_DONE && s->be->trk.err_code == 0)
				s->phase = PH_COMMAND;
			else if (r == TRACK_DONE)   /* e.g. 1045, login refused */
				stats_count_err(&s->c.w->stats, s->be->trk.err_code);
			continue;
		}
		if (s->pend_count == 0) {
			/* Unsolicited (e.g. the ERR a server sends before it
			 * closes a killed connection): forward as is. */
			if (!f.start_in_buf)
				release_held(s);
			if (!f.continuation && f.peek_len >= 3 &&
			    f.peek[0] == 0xFF)
				stats_count_err(&s->c.w->stats,
						mysql_get_u16(f.peek + 1));
			continue;
		}
		s->be->resp_started = true;
		r = mysql_tracker_feed(&s->be->trk, &f);
		if (s->pool && s->be->trk.ok_state)
			capture_begin(s, &e, &f, n);
		else if (!f.start_in_buf)
			release_held(s);
		if (session_done(s))
			return;
		switch (r) {
		case TRACK_MORE:
			break;
		case TRACK_LOCAL_INFILE:
			s->client_mode = CM_INFILE;
			break;
		case TRACK_DONE:
			response_complete(s, &e, pos, n);
			break;
		case TRACK_BAD:
			LOGE("%s: cannot follow the server's response to %s "
			     "(packet 0x%02x, %u bytes): closing",
			     s->client_addr,
			     mysql_command_name(pend_at(s, 0)->cmd),
			     f.peek_len ? f.peek[0] : 0, f.len);
			s->c.w->stats.protocol_errors++;
			session_close(s, "response out of sync");
			return;
		}
		if (s->closing)
			return;
	}
	if (inject_off != SIZE_MAX && inject_off <= n) {
		em_forward(&e, inject_off);
		em_flush(&e);
		s->be->inject_pending = false;
		inject_local_heads(s);
	}
	if (s->pool && !b->cap_left) {
		/* The head of a packet at the end of the buffer waits until
		 * the packet says whether it is an OK to copy. */
		unsigned part = mysql_framer_partial(fr);
		unsigned here = part - b->held_len;
		if (part && e.cursor <= n - here) {
			em_forward(&e, n - here);
			em_flush(&e);
			memcpy(b->held + b->held_len, buf + n - here, here);
			b->held_len = (uint8_t)part;
			e.from = e.cursor = n;
		}
	}
	em_forward(&e, n);
	em_flush(&e);
	close_when_flushed(s);
	if (s->give_back) {
		/* Only now: the buffer's bytes are queued for the client and
		 * nothing reads the connection's framer any more. */
		s->give_back = false;
		pooled_maybe_return(s);
	}
}
