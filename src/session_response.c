/*
 * session_response.c - the server's side of the command phase: response
 * received ... response complete, for the command at the head of the
 * session's queue.
 *
 * Server bytes are forwarded to the client from the buffer they arrived in
 * while the tracker walks their headers to find where each response ends.
 * A pooled session (auth: proxy) cuts the stream in four places, packet
 * by packet (a packet's first bytes at a buffer's end are held until the
 * packet says which):
 *
 *   an OK that says the session changed   copied whole, read, rewritten
 *                                         for the client (CAP_TRACK)
 *   a PREPARE_OK                          its statement id replaced by
 *                                         myring's, in place
 *   the response to a request of          dropped (CAP_DROP), but for an
 *   myring's own                          ERR, kept for the command it
 *                                         was made for (CAP_KEEP)
 *   the ERR a command gets because such   replaced by the request's own
 *   a request failed                      error (CAP_REPLACE)
 */
#include "session.h"

#include "emitter.h"
#include "log.h"
#include "mysql_proto.h"
#include "splice.h"

#include <stdlib.h>
#include <string.h>

enum capture {
	CAP_TRACK = 1,
	CAP_DROP,
	CAP_KEEP,
	CAP_REPLACE,
};

static void close_when_flushed(struct session *s)
{
	if (s->c.w->draining && session_idle(s))
		session_close_after_flush(s, "proxy shutting down");
}

/* The head is a request of myring's own that ended: what it says is the
 * connection's business (and the next command's, if it failed). */
static void internal_done(struct session *s, struct pending *p)
{
	struct bconn *b = s->be;

	if (p->cmd == COM_STMT_PREPARE && !p->reply) {
		/* A failed PREPARE leaves its ERR for the command after it. */
		if (b->kept) {
			p->reply = b->kept;
			p->reply_len = b->kept_len;
			b->kept = NULL;
		}
		stmt_reprepared(s, p);
	}
}

static void response_complete(struct session *s, struct emitter *e,
			      size_t pos, size_t n)
{
	uint64_t end = pos + s->be->fr.payload_left;
	struct pending *p = pend_at(s, 0);

	if (p->internal && !p->client)
		internal_done(s, p);
	else if (s->pool)
		pooled_response_done(s, p);
	complete_head(s, false);
	if (s->client_mode == CM_RELAY)
		s->client_mode = CM_COMMAND;
	if (s->pend_count && (pend_at(s, 0)->local || s->client_z)) {
		/* Replies of rejected pipelined commands go right after this
		 * response's last byte, which may lie in a later buffer; so
		 * does a compressed client's next flight of frames. */
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

/* ---- packets of a pooled response that are not forwarded as they came -- */

static int capture_append(struct bconn *b, const uint8_t *p, size_t n)
{
	uint8_t *nb;

	if (b->cap_mode == CAP_DROP || !n)
		return 0;
	nb = realloc(b->cap, b->cap_len + n);
	if (!nb)
		return -1;
	memcpy(nb + b->cap_len, p, n);
	b->cap = nb;
	b->cap_len += (uint32_t)n;
	return 0;
}

/* The captured packet is whole (or skipped to its end). */
static void capture_done(struct session *s)
{
	struct bconn *b = s->be;
	uint8_t *pkt = b->cap;
	uint32_t len = b->cap_len;
	long plen;

	b->cap = NULL;
	b->cap_len = 0;
	switch (b->cap_mode) {
	case CAP_TRACK:
		/* The session learns what changed; the client gets the OK
		 * with the entries it asked for. */
		plen = session_track_ok(s, pkt + MYSQL_HDR_LEN, len - MYSQL_HDR_LEN);
		if (plen >= 0) {
			mysql_put_u24(pkt, (uint32_t)plen);
			len = MYSQL_HDR_LEN + (uint32_t)plen;
		}
		session_to_client(s, pkt, len, -1, pkt);
		if (!s->pend_count)
			s->give_back = true;
		break;
	case CAP_KEEP:
		free(b->kept);
		b->kept = pkt;
		b->kept_len = len;
		break;
	case CAP_REPLACE: {
		/* The command's own error, numbered as its response. */
		struct pending *p = pend_at(s, 0);
		free(pkt);
		if (p->reply) {
			p->reply[3] = p->reply_seq;
			session_to_client(s, p->reply, p->reply_len, -1, p->reply);
			p->reply = NULL;
		}
		break;
	}
	default:
		free(pkt);
		break;
	}
	b->cap_mode = 0;
}

/*
 * Frame f is not forwarded as it came (mode): what came before it goes
 * out first, its head may be held from the last buffer, its tail may come
 * in the next ones (cap_left).
 */
static void capture_begin(struct session *s, struct emitter *e,
			  const struct mysql_frame *f, size_t n,
			  enum capture mode)
{
	struct bconn *b = s->be;
	size_t start = f->start_in_buf ? f->start : 0;
	size_t total = MYSQL_HDR_LEN + (size_t)f->len, done, here;

	b->cap_mode = (uint8_t)mode;
	if (f->start_in_buf) {
		em_forward(e, start);
		em_flush(e);
	} else if (capture_append(b, b->held, b->held_len)) {
		session_close(s, "out of memory");
		return;
	}
	done = b->held_len;
	b->held_len = 0;
	here = total - (f->start_in_buf ? 0 : done);
	if (here > n - start)
		here = n - start;
	if (capture_append(b, e->buf + start, here)) {
		session_close(s, "out of memory");
		return;
	}
	e->from = e->cursor = start + here;
	b->cap_left = (uint32_t)(total - (f->start_in_buf ? 0 : done) - here);
	if (!b->cap_left)
		capture_done(s);
}

/* The held head of a packet that is forwarded goes out before the rest. */
static void release_held(struct session *s)
{
	struct bconn *b = s->be;

	if (b->held_len) {
		session_to_client_copy(s, b->held, b->held_len);
		b->held_len = 0;
	}
}

/* What a pooled session does with frame f (fed to the tracker already). */
static void pooled_frame(struct session *s, struct emitter *e,
			 const struct mysql_frame *f, size_t n,
			 struct pending *head, bool first)
{
	struct bconn *b = s->be;
	bool err = f->peek_len && f->peek[0] == 0xFF && !f->continuation;

	if (head->internal)
		capture_begin(s, e, f, n, !err ? CAP_DROP :
			      head->client ? CAP_REPLACE : CAP_KEEP);
	else if (b->trk.ok_state)
		capture_begin(s, e, f, n, CAP_TRACK);
	else {
		if (first && head->cmd == COM_STMT_PREPARE &&
		    f->peek_len && f->peek[0] == 0x00 && stmt_mapped(s))
			stmt_prepare_ok(s, head, f, b->held,
					f->start_in_buf ? 0 : b->held_len,
					e->buf + (f->start_in_buf ? f->start : 0));
		if (!f->start_in_buf)
			release_held(s);
	}
}

/*
 * The server's OK ended a relayed login: the renumbering of the exchange
 * ends, and compression, if negotiated, takes over each leg after the OK
 * (the OK itself is plain).  Its last byte is where the client's leg
 * switches; it may lie in a later buffer.
 */
static void login_relayed(struct session *s, struct emitter *e, size_t pos,
			  size_t n)
{
	uint64_t end = pos + s->be->fr.payload_left;

	s->fr.seq_delta = 0;
	s->be->fr.seq_delta = 0;
	if (!s->client_z && !s->backend_z)
		return;
	if (end <= n) {
		em_forward(e, end);
		em_flush(e);
		session_login_done_compress(s);
	} else {
		s->zstart_pending = true;
		s->zstart_skip = (uint32_t)(end - n);
	}
}

/*
 * caching_sha2_password's full authentication (the server's 0x01 0x04)
 * makes a client on a TLS leg send its password in clear.  Relayed to a
 * server over a plaintext leg, it would cross the network readable: the
 * login is refused instead.  A client on a plaintext leg asks for the
 * server's RSA key (0x02), which a server over TLS does not expect: it
 * would read the request as the password and refuse it; that login is
 * refused here with a message that says why.  false: refused.
 */
static bool sha2_full_auth_allowed(struct session *s,
				   const struct mysql_frame *f)
{
	const char *why;

	if (f->continuation || f->len != 2 || f->peek_len < 2 ||
	    f->peek[0] != 0x01 || f->peek[1] != 0x04 ||
	    s->client_tls == s->backend_tls)
		return true;
	why = s->client_tls ?
	      "caching_sha2_password full authentication would send the "
	      "password in clear to the server over a plaintext backend leg; "
	      "use --backend-tls, or log in once directly so that the server "
	      "caches the password" :
	      "caching_sha2_password full authentication over a plaintext "
	      "client leg and a TLS backend leg is not supported; connect to "
	      "myring with TLS";
	LOGW("%s: login of '%s' refused: %s", s->client_addr, s->info.user, why);
	session_send_err(s, (uint8_t)(f->seq + s->be->fr.seq_delta), 1045,
			 "28000", "myring: %s", why);
	return false;
}

/* ---- long packet bodies by splice ----------------------------------- */

/* Whether the rest of the server's packet in progress can skip the
 * worker's buffers: it is long, nothing in between needs its bytes
 * (capture, injected replies, held heads), and both legs are raw sockets
 * (TLS and compression must see every byte). */
static bool splice_fits(const struct session *s, const struct bconn *b)
{
	uint32_t min = s->c.w->px->cfg.splice_min;

	return min && s->phase == PH_COMMAND && !s->closing &&
	       !s->flush_close && !s->c.x && !b->c.x && !b->cap_left &&
	       !b->inject_pending && !b->held_len && !s->zstart_pending &&
	       mysql_framer_skip_left(&b->fr) >= min;
}

static void spliced(struct conn *bc, int err)
{
	struct bconn *b = bc->owner;
	struct session *s = b->link;
	uint32_t len = mysql_framer_skip_left(&b->fr);

	b->splice_pending = false;
	if (!s || s->closing)
		return;
	if (err) {
		/* Mid-packet: no ERR can reach the client in one piece. */
		LOGW("%s: a %u-byte packet body relayed by splice: %s",
		     s->client_addr, len, strerror(-err));
		session_close(s, "splice failed");
		return;
	}
	mysql_framer_skipped(&b->fr, len);
	s->c.w->stats.splices++;
	s->c.w->stats.spliced_bytes += len;
	conn_resume(&b->c, PAUSE_SPLICE);
}

void session_splice_try(struct session *s)
{
	struct bconn *b = s->be;

	if (!b || !b->splice_pending || b->c.splice ||
	    b->c.recv_state != RS_IDLE || !conn_sent_all(&s->c))
		return;
	/* The receive stopped late: buffers it still delivered may have
	 * taken most of the body. */
	if (splice_fits(s, b)) {
		if (!splice_start(&b->c, &s->c, mysql_framer_skip_left(&b->fr),
				  spliced))
			return;
	}
	b->splice_pending = false;
	conn_resume(&b->c, PAUSE_SPLICE);
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
		/* The tail of a packet that is copied or skipped. */
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
	if (s->zstart_pending) {
		/* The rest of the login's OK, then compression. */
		if (s->zstart_skip <= n) {
			em_forward(&e, s->zstart_skip);
			em_flush(&e);
			s->zstart_pending = false;
			session_login_done_compress(s);
			if (session_done(s))
				return;
		} else {
			s->zstart_skip -= n;
		}
	}
	if (b->inject_pending) {
		if (b->inject_skip <= n)
			inject_off = b->inject_skip;
		else
			b->inject_skip -= n;
	} else if (s->client_z) {
		/* A compressed client numbers this response's frames from
		 * its own last one. */
		session_client_flight_head(s);
	}
	while (mysql_framer_next(fr, buf, n, &pos, &f)) {
		enum mysql_track_result r;
		struct pending *head;
		bool first;

		if (inject_off != SIZE_MAX && f.start_in_buf &&
		    f.start >= inject_off) {
			em_forward(&e, inject_off);
			em_flush(&e);
			b->inject_pending = false;
			inject_off = SIZE_MAX;
			inject_local_heads(s);
		}
		if (s->phase == PH_AUTH) {
			r = mysql_tracker_feed(&b->trk, &f);
			if (r == TRACK_DONE && b->trk.err_code == 0) {
				s->phase = PH_COMMAND;
				login_relayed(s, &e, pos, n);
				if (session_done(s))
					return;
			} else if (r == TRACK_DONE) { /* e.g. 1045, refused */
				stats_count_err(&s->c.w->stats, b->trk.err_code);
			} else if (r == TRACK_MORE && !sha2_full_auth_allowed(s, &f)) {
				return;
			}
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
		head = pend_at(s, 0);
		first = !b->resp_started;
		b->resp_started = true;
		r = mysql_tracker_feed(&b->trk, &f);
		if (s->pool) {
			pooled_frame(s, &e, &f, n, head, first);
			if (session_done(s))
				return;
		}
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
			     s->client_addr, mysql_command_name(head->cmd),
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
		b->inject_pending = false;
		inject_local_heads(s);
	}
	if (s->pool && !b->cap_left) {
		/* The head of a packet at the end of the buffer waits until
		 * the packet says whether it is forwarded as it came. */
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
	if (s->backend_z && s->client_mode != CM_COMMAND) {
		/* What the client sends next continues this exchange: its
		 * frames follow the server's last. */
		s->bflight_seq = (uint8_t)(xprt_rx_frame_seq(&b->c) + 1);
		s->bflight_due = true;
	}
	if (splice_fits(s, b)) {
		b->splice_pending = true;
		conn_pause(&b->c, PAUSE_SPLICE);
		session_splice_try(s);
	} else if (b->splice_pending && !b->c.splice) {
		/* What the receive delivered before it stopped took the body
		 * (or the response ended): nothing left to splice. */
		b->splice_pending = false;
		conn_resume(&b->c, PAUSE_SPLICE);
	}
	close_when_flushed(s);
	if (s->give_back) {
		/* Only now: the buffer's bytes are queued for the client and
		 * nothing reads the connection's framer any more. */
		s->give_back = false;
		pooled_maybe_return(s);
	}
}
