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
#include "session_shard.h"

#include "digest.h"
#include "emitter.h"
#include "hooks.h"
#include "log.h"
#include "mysql_proto.h"
#include "mysql_srv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static bool command_wants_text(uint8_t cmd)
{
	return cmd == COM_QUERY || cmd == COM_STMT_PREPARE ||
	       cmd == COM_INIT_DB || cmd == COM_FIELD_LIST ||
	       cmd == COM_CHANGE_USER;
}

/* Commands that name a prepared statement by its id. */
static bool names_statement(uint8_t cmd)
{
	return cmd == COM_STMT_EXECUTE || cmd == COM_STMT_SEND_LONG_DATA ||
	       cmd == COM_STMT_RESET || cmd == COM_STMT_FETCH ||
	       cmd == COM_STMT_CLOSE;
}

/* Whether the proxy must see the command whole: a hook reads its text,
 * or a pooled session rewrites it (statement ids). */
static bool command_seen_whole(const struct session *s, uint8_t cmd)
{
	return ((hooks_want_text || s->pool) && command_wants_text(cmd)) ||
	       (names_statement(cmd) && stmt_mapped(s));
}

/*
 * A statement command of a pooled session whose ids are myring's: its id
 * is the connection's server id once it goes out.  Without a connection
 * ready, a copy waits in its place among the parked commands.  Returns
 * the disposition of the command's bytes as received.
 */
static enum disp statement_command(struct session *s, struct emitter *e,
				   struct pending *p, uint8_t *payload,
				   size_t len)
{
	struct myring_reply reply = {0};
	uint8_t *out;
	size_t out_len;
	uint32_t id = 0;

	if (payload[0] == COM_STMT_CLOSE) {
		stmt_cmd_get_id(payload, len, &id);
		if (s->hold || !s->be)
			session_park_stmt(s, 0, id);
		else
			stmt_forget(s, id);
		return DISP_DROP;
	}
	if (s->hold || !s->be) {
		p->stmt_cmd = malloc(len);
		if (!p->stmt_cmd) {
			session_close(s, "out of memory");
			return DISP_DROP;
		}
		memcpy(p->stmt_cmd, payload, len);
		p->stmt_cmd_len = (uint32_t)len;
		session_park_stmt(s, p->serial, 0);
		return DISP_DROP;
	}
	switch (stmt_resolve(s, p, payload, len, &reply, &out, &out_len)) {
	case STMT_FORWARD:
		return DISP_FORWARD;
	case STMT_REPLACE:
		em_flush(e);
		session_to_backend(s, out, (uint32_t)out_len, -1, out);
		return DISP_DROP;
	case STMT_DROP:
		p->local = true;
		return DISP_DROP;
	case STMT_LOCAL:
	case STMT_OK:
		command_answer_locally(s, p, &reply);
		return DISP_DROP;
	case STMT_FAIL:
		session_close(s, "out of memory");
		break;
	}
	return DISP_DROP;
}

/*
 * A whole command is here: payload points at its bytes (command byte
 * first) if the proxy needs them, else NULL (only the command byte, from
 * the peek, is known).  Decides its fate and records it as pending.
 * Returns the disposition of the original bytes.
 */
static enum disp command_received(struct session *s, struct emitter *e,
				  uint8_t cmd, uint8_t *payload, size_t len)
{
	enum mysql_resp_kind kind = mysql_response_kind(cmd);
	struct myring_reply reply = {0};
	enum myring_verdict verdict = MYRING_FORWARD;
	enum disp disp = DISP_FORWARD;
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
	if (s->client_z)
		p->zseq = (uint8_t)(xprt_rx_frame_seq(&s->c) + 1);

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
			verdict = pooled_command(s, p, &c, payload, len, &reply,
						 verdict);
	}
	if (p->fanout || p->xa) {
		/* Several shards answer it; myring streams the merged answer
		 * once the commands before it have theirs. */
		free(reply.rewrite);
		free(reply.answer);
		if (was_idle)
			inject_local_heads(s);
		return DISP_DROP;
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
	    (!reply.rewrite || (cmd != COM_QUERY && cmd != COM_STMT_PREPARE &&
				cmd != COM_PROCESS_KILL))) {
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
		/* Pooled KILL: COM_PROCESS_KILL becomes KILL QUERY, both
		 * answered with one OK or ERR. */
		uint8_t wire = cmd == COM_PROCESS_KILL ? COM_QUERY : cmd;
		uint8_t *pkts = frame_command(&wire, 1, reply.rewrite,
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
		if (payload && names_statement(cmd) && stmt_mapped(s)) {
			disp = statement_command(s, e, p, payload, len);
			if (session_done(s))
				return DISP_DROP;
			if (p->local && kind != RESP_NONE)
				return DISP_DROP; /* answered by myring */
		}
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
	return verdict == MYRING_FORWARD ? disp : DISP_DROP;
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
	if (s->backend_z && s->be) {
		/* A command's frames to a compressing server start at 0. */
		em_flush(e);
		xprt_frame_seq(&s->be->c, 0);
		s->bflight_due = false;
	}
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
	} else if (command_seen_whole(s, cmd)) {
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

/*
 * Compressed legs number their frames per exchange (mysql_compress.h).
 * The bytes about to be read continue a command already received (a
 * large one, a LOCAL INFILE's contents, a COM_CHANGE_USER's auth data):
 * its response's frames follow the frame these bytes came in.  And what
 * continues an exchange with a compressing server follows its last frame.
 */
static void compressed_flights(struct session *s)
{
	bool relay = s->client_mode != CM_COMMAND;

	/* Mid-payload, or after a 16 MiB packet: the bytes are the
	 * command's whose entry is last (an assembled one gets its entry,
	 * and its number, once whole). */
	if (s->client_z && s->pend_count && !s->discarding &&
	    (relay || ((s->fr.payload_left || s->fr.continued) &&
		       s->disp != DISP_ASSEMBLE))) {
		struct pending *p = pend_at(s, relay ? 0 : s->pend_count - 1);
		p->zseq = (uint8_t)(xprt_rx_frame_seq(&s->c) + 1);
	}
	if (s->backend_z && s->bflight_due && relay && s->be) {
		xprt_frame_seq(&s->be->c, s->bflight_seq);
		s->bflight_due = false;
	}
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
	if (s->client_z || s->backend_z)
		compressed_flights(s);
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

