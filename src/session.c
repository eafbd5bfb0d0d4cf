/*
 * session.c - a session's plumbing: accept, the backend connection it is
 * linked to, where bytes are queued, backpressure between the two, and
 * teardown.  What the bytes mean is decided in session_handshake.c and
 * session_command.c; the sockets themselves are conn.c's.
 */
#include "session.h"
#include "session_shard.h"

#include "log.h"
#include "mysql_auth_exchange.h"
#include "mysql_proto.h"
#include "tls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long a session may take to flush its last packet (an ERR) to a
 * client before it is cut. */
#define FLUSH_CLOSE_US 5000000u

static const struct conn_ops client_ops;
static const struct conn_ops backend_ops;

struct session *session_of(struct conn *c)
{
	return c->ops == &client_ops ? c->owner : NULL;
}

void session_set_str(char **dst, const char *src, size_t len)
{
	char *p = malloc(len + 1);

	if (!p)
		return; /* keeps the old value: only diagnostics use it */
	memcpy(p, src, len);
	p[len] = '\0';
	free(*dst);
	*dst = p;
}

int session_asm_append(struct session *s, const void *p, size_t n,
		       uint64_t limit)
{
	uint64_t need = s->asm_len + (uint64_t)n;

	if (need > limit)
		return -1;
	if (need > s->asm_cap) {
		uint64_t cap = s->asm_cap ? s->asm_cap : 256;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		nb = realloc(s->asm_buf, cap);
		if (!nb)
			return -1;
		s->asm_buf = nb;
		s->asm_cap = (uint32_t)cap;
	}
	memcpy(s->asm_buf + s->asm_len, p, n);
	s->asm_len = (uint32_t)need;
	return 0;
}

/* Greetings and handshake responses are small; anything larger than this
 * is not a MySQL client or server. */
#define HANDSHAKE_MAX (1u << 20)

int session_asm_packet(struct session *s, const uint8_t *buf, uint32_t n)
{
	uint32_t need;

	if (session_asm_append(s, buf, n, HANDSHAKE_MAX + MYSQL_HDR_LEN))
		return -1;
	if (s->asm_len < MYSQL_HDR_LEN)
		return 0;
	need = MYSQL_HDR_LEN + mysql_get_u24(s->asm_buf);
	if (need > HANDSHAKE_MAX)
		return -1;
	if (s->asm_len < need)
		return 0;
	return s->asm_len == need ? 1 : -1;
}

int session_asm_take(struct session *s, const uint8_t *buf, uint32_t n,
		     uint32_t *used)
{
	uint32_t off = 0, need, take;

	*used = 0;
	if (s->asm_len < MYSQL_HDR_LEN) {
		take = MYSQL_HDR_LEN - s->asm_len;
		if (take > n)
			take = n;
		if (session_asm_append(s, buf, take, HANDSHAKE_MAX + MYSQL_HDR_LEN))
			return -1;
		off = take;
		if (s->asm_len < MYSQL_HDR_LEN) {
			*used = off;
			return 0;
		}
	}
	need = MYSQL_HDR_LEN + mysql_get_u24(s->asm_buf);
	if (need > HANDSHAKE_MAX)
		return -1;
	take = need - s->asm_len;
	if (take > n - off)
		take = n - off;
	if (session_asm_append(s, buf + off, take, HANDSHAKE_MAX + MYSQL_HDR_LEN))
		return -1;
	*used = off + take;
	return s->asm_len == need ? 1 : 0;
}

bool session_start_client_tls(struct session *s, const uint8_t *rest,
			      uint32_t rest_len)
{
	SSL_CTX *ctx = tls_server_ctx(s->c.w);

	free(s->asm_buf);
	s->asm_buf = NULL;
	s->asm_len = s->asm_cap = 0;
	if (s->client_tls || !ctx)
		return false;
	if (xprt_tls_accept(&s->c, ctx, rest, rest_len)) {
		session_close(s, "cannot start TLS");
		return true;
	}
	s->client_tls = true;
	return true;
}

void session_client_flight(struct session *s, uint32_t serial, uint8_t zseq)
{
	if (!s->client_z ||
	    (s->zflight_serial == serial && s->zflight_seq == zseq))
		return;
	s->zflight_serial = serial;
	s->zflight_seq = zseq;
	xprt_frame_seq(&s->c, zseq);
}

void session_client_flight_head(struct session *s)
{
	struct pending *p;

	if (!s->client_z || !s->pend_count)
		return;
	p = pend_at(s, 0);
	if (!p->local)
		session_client_flight(s, p->serial, p->zseq);
}

bool session_answer_flush(struct session *s, struct pkt_buf *out,
			  bool *flight, uint32_t serial, uint8_t zseq)
{
	uint8_t seq = out->seq;
	bool sent = false;

	if (!out->len)
		return false;
	if (out->oom) {
		pkt_buf_free(out);
		if (s)
			session_close(s, "out of memory");
	} else if (s && !session_done(s)) {
		if (!*flight) {
			*flight = true;
			session_client_flight(s, serial, zseq);
		}
		/* The queue owns the bytes now; out starts a new buffer. */
		session_to_client(s, out->data, (uint32_t)out->len, -1,
				  out->data);
		pkt_buf_init(out);
		sent = true;
	} else {
		pkt_buf_reset(out);
	}
	out->seq = seq;
	return sent;
}

void session_login_done_compress(struct session *s)
{
	const struct config *cfg = &s->c.w->px->cfg;

	if (s->client_z && xprt_compress_start(&s->c, cfg->compression_level))
		session_close(s, "out of memory");
	if (s->backend_z && s->be &&
	    xprt_compress_start(&s->be->c, cfg->compression_level))
		session_close(s, "out of memory");
}

/* ---- linking a session and a backend connection --------------------- */

static const struct conn_ops pooled_backend_ops;

static void link_backend(struct session *s, struct bconn *b)
{
	s->be = b;
	b->link = s;
	/* Each side's queue is filled by the other's receive. */
	s->c.partner = &b->c;
	b->c.partner = &s->c;
}

void session_link(struct session *s, struct bconn *b)
{
	link_backend(s, b);
	if (s->dir)
		sdir_set_backend(s->dir, b->thread_id);
	/* From here the server's bytes are the session's: a fresh framer,
	 * since myring's own exchange read whole packets its own way. */
	b->c.ops = &pooled_backend_ops;
	mysql_framer_init(&b->fr);
	b->resp_started = false;
	b->inject_pending = false;
	conn_resume(&b->c, PAUSE_IDLE);
	conn_arm_recv(&b->c);
}

void session_unlink(struct session *s)
{
	struct bconn *b = s->be;

	if (!b)
		return;
	/* The connection's session is now what the client's session became
	 * on it: the next borrower's replay starts from there. */
	if (s->state_moved) {
		mysql_state_copy(&b->st, &s->st);
		s->state_moved = false;
	}
	if (s->dir)
		sdir_set_backend(s->dir, 0);
	if (b->splice_pending && !b->c.splice) {
		/* A splice that never started leaves no pause behind. */
		b->splice_pending = false;
		conn_resume(&b->c, PAUSE_SPLICE);
	}
	s->be = NULL;
	b->link = NULL;
	s->c.partner = NULL;
	b->c.partner = NULL;
	/* A pause for backpressure came from the other's queue, which no
	 * longer matters to either. */
	conn_resume(&s->c, PAUSE_BACKPRESSURE);
}

/* ---- teardown ------------------------------------------------------- */

static void parked_free(struct session *s)
{
	while (s->parked) {
		struct parked *p = s->parked;
		s->parked = p->next;
		free(p);
	}
	s->parked_tail = &s->parked;
}

/* Both conns are released: nothing can refer to the session now. */
static void session_free(struct session *s)
{
	struct worker *w = s->c.w;

	command_abort_all(s);
	parked_free(s);
	if (s->auth) {
		auth_server_clear(s->auth);
		free(s->auth);
	}
	session_set_pins(s, 0);
	if (s->dir)
		sdir_remove(s->dir);
	effects_free(s);
	mysql_state_free(&s->st);
	stmt_session_free(s);
	free(s->asm_buf);
	free(s->pend);
	free(s->user);
	free(s->shard_begin);
	free(s->schema);
	w->stats.closed++;
	w->nsessions--;
	free(s);
}

static void session_client_freed(struct conn *c)
{
	struct session *s = c->owner;

	conn_release(c);
	if (!s->be)
		session_free(s);
}

static void backend_freed(struct conn *c)
{
	struct bconn *b = c->owner;
	struct session *s = b->link;

	conn_release(c);
	if (s) {
		s->be = NULL;
		s->c.partner = NULL;
		if (s->c.freed)
			session_free(s);
	}
	free(b);
}

void session_close(struct session *s, const char *why)
{
	if (s->closing)
		return;
	s->closing = true;
	LOGD("%s: closing: %s", s->client_addr, why);
	conn_close(&s->c);
	if (s->pool) {
		/* A pooled connection goes back, or is closed if cut short. */
		pooled_release(s);
		return;
	}
	/* The backend connection was the client's own for life: it goes
	 * with it. */
	if (s->be)
		conn_close(&s->be->c);
}

/* ---- where bytes go ------------------------------------------------- */

int session_to_client(struct session *s, uint8_t *ptr, uint32_t len,
		      int32_t bid, void *owned)
{
	return conn_queue(&s->c, ptr, len, bid, owned);
}

int session_to_client_copy(struct session *s, const void *p, size_t len)
{
	return conn_queue_copy(&s->c, p, len);
}

static struct parked *park_block(struct session *s, size_t len)
{
	struct parked *pk = calloc(1, sizeof(*pk) + len);

	if (!pk) {
		session_close(s, "out of memory");
		return NULL;
	}
	pk->len = (uint32_t)len;
	*s->parked_tail = pk;
	s->parked_tail = &pk->next;
	return pk;
}

static int park(struct session *s, const void *p, size_t len)
{
	struct parked *pk = park_block(s, len);

	if (!pk)
		return -1;
	memcpy(pk->data, p, len);
	return 0;
}

int session_park_stmt(struct session *s, uint32_t serial, uint32_t stmt_id)
{
	struct parked *pk = park_block(s, 0);

	if (!pk)
		return -1;
	pk->serial = serial;
	pk->stmt_id = stmt_id;
	return 0;
}

int session_to_backend(struct session *s, uint8_t *ptr, uint32_t len,
		       int32_t bid, void *owned)
{
	if (s->hold) {
		/* Held bytes must not pin receive buffers for the length of
		 * the hold: they are copied. */
		int rc = park(s, ptr, len);
		free(owned);
		return rc;
	}
	if (!s->be) {
		/* A pooled session without a connection sends nothing: its
		 * commands borrow one first (or are held). */
		free(owned);
		return -1;
	}
	return conn_queue(&s->be->c, ptr, len, bid, owned);
}

int session_to_backend_copy(struct session *s, const void *p, size_t len)
{
	uint8_t *copy;

	if (s->hold)
		return park(s, p, len);
	copy = malloc(len ? len : 1);
	if (!copy) {
		session_close(s, "out of memory");
		return -1;
	}
	memcpy(copy, p, len);
	return session_to_backend(s, copy, (uint32_t)len, -1, copy);
}

void session_drop_parked(struct session *s)
{
	parked_free(s);
}

void session_hold(struct session *s, unsigned reason)
{
	s->hold |= (uint8_t)reason;
}

void session_release(struct session *s, unsigned reason)
{
	s->hold &= (uint8_t)~reason;
	if (s->hold || !s->be)
		return;
	/* The parked blocks become the backend queue's own chunks, in
	 * order; a statement command is resolved on the connection there. */
	while (s->parked && !s->closing) {
		struct parked *p = s->parked;
		s->parked = p->next;
		if (!p->len) {
			stmt_release_parked(s, p);
			free(p);
			continue;
		}
		if (conn_queue(&s->be->c, p->data, p->len, -1, p))
			break;
	}
	parked_free(s);
}

/*
 * Holds everything bound for the backend from now on until the delay has
 * passed: the delayed command and whatever is pipelined behind it, which
 * must not overtake it.
 */
void session_delay(struct session *s, uint32_t ms)
{
	uint64_t now = s->c.w->now_us;
	uint64_t until = now + (uint64_t)ms * 1000u;

	if (until > s->delay_until_us)
		s->delay_until_us = until;
	session_hold(s, HOLD_DELAY);
	conn_timer(&s->c, s->delay_until_us - now);
}

static void client_on_timer(struct conn *c)
{
	struct session *s = c->owner;
	uint64_t now = c->w->now_us;

	if (s->closing)
		return;
	if (now < s->delay_until_us) {
		conn_timer(c, s->delay_until_us - now);
		return;
	}
	session_release(s, HOLD_DELAY);
}

/* ---- errors and endings --------------------------------------------- */

void session_send_err(struct session *s, uint8_t seq, uint16_t code,
		      const char *sqlstate, const char *fmt, ...)
{
	char msg[512];
	uint8_t pkt[600];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = mysql_build_err(pkt, sizeof(pkt), seq, code, sqlstate, msg);
	if (session_to_client_copy(s, pkt, n))
		return;
	stats_count_err(&s->c.w->stats, code);
	session_finish(s);
}

void session_queue_err(struct session *s, uint8_t seq, uint16_t code,
		       const char *sqlstate, const char *msg)
{
	uint8_t pkt[600];
	size_t n = mysql_build_err(pkt, sizeof(pkt), seq, code, sqlstate, msg);

	session_to_client_copy(s, pkt, n);
}

static void close_after_flush_within(struct session *s, const char *why,
				     uint64_t flush_us)
{
	s->flush_close = true;
	s->flush_close_why = why;
	s->deadline_us = s->c.w->now_us + flush_us;
	if (conn_sent_all(&s->c))
		session_close(s, why);
}

void session_close_after_flush(struct session *s, const char *why)
{
	close_after_flush_within(s, why, FLUSH_CLOSE_US);
}

/* Stop listening to both sides; what is queued for the client still goes. */
static void stop_receiving(struct session *s)
{
	conn_pause(&s->c, PAUSE_OWNER);
	if (s->be)
		conn_pause(&s->be->c, PAUSE_OWNER);
}

void session_abort(struct session *s, uint16_t code, const char *why,
		   uint64_t flush_us)
{
	char msg[200];

	if (s->closing)
		return;
	if (s->pend_count && !s->quit && !s->flush_close) {
		snprintf(msg, sizeof(msg), "myring: %s", why);
		if (command_fail_in_flight(s, code, msg))
			LOGW("%s: %s: the command in flight gets ERR %u",
			     s->client_addr, why, code);
		else
			LOGW("%s: %s in the middle of a response: closing",
			     s->client_addr, why);
	}
	stop_receiving(s);
	/* Called again on every tick of an expired drain: a close already
	 * under way keeps its earlier deadline. */
	if (!s->flush_close ||
	    s->deadline_us > s->c.w->now_us + flush_us)
		close_after_flush_within(s, why, flush_us);
}

void session_finish(struct session *s)
{
	stop_receiving(s);
	session_close_after_flush(s, "finished");
}

void session_fail(struct session *s, uint8_t seq, uint16_t code,
		  const char *sqlstate, const char *why)
{
	LOGW("%s: %s", s->client_addr, why);
	s->c.w->stats.protocol_errors++;
	session_send_err(s, seq, code, sqlstate, "myring: %s", why);
}

/* ---- the backend connection ----------------------------------------- */

/*
 * The backend could not be reached, or gave no greeting: the client, still
 * waiting for the server's first packet, gets ERR 1429 naming the backend
 * as that packet.
 */
static void backend_unreachable(struct session *s, const char *why)
{
	struct worker *w = s->c.w;

	w->stats.backend_connect_failed++;
	w->backend_down = true;
	LOGW("%s: cannot connect to backend %s: %s", s->client_addr,
	     w->px->backend.text, why);
	session_send_err(s, 0, ER_BACKEND_UNREACHABLE, "HY000",
			 "myring: cannot connect to backend %s: %s",
			 w->px->backend.text, why);
}

static void backend_on_connect(struct conn *c, int res)
{
	struct bconn *b = c->owner;
	struct session *s = b->link;

	if (!s || s->closing)
		return;
	if (res < 0) {
		char why[160];
		if (res == -ECANCELED)
			snprintf(why, sizeof(why), "timed out after %u ms",
				 c->w->px->cfg.connect_timeout_ms);
		else
			snprintf(why, sizeof(why), "%s", strerror(-res));
		backend_unreachable(s, why);
		return;
	}
	c->w->stats.backend_connects++;
	c->w->backend_down = false;
	/* The connect timeout also bounds the wait for the greeting (its
	 * deadline was set when the connect began): a server that accepts
	 * and never speaks must not hang the client. */
	s->phase = PH_GREETING;
	conn_arm_recv(c);
}

/* Creates the session's backend connection and starts connecting it. */
static int backend_open(struct session *s)
{
	struct worker *w = s->c.w;
	const struct proxy *px = w->px;
	struct bconn *b = calloc(1, sizeof(*b));
	int fd;

	if (!b)
		return -ENOMEM;
	fd = net_connect_socket(&px->backend, true);
	if (fd < 0) {
		free(b);
		return fd;
	}
	if (conn_open(w, &b->c, fd, &backend_ops, b)) {
		close(fd);
		free(b);
		return -EMFILE;
	}
	link_backend(s, b);
	conn_connect(&b->c, (const struct sockaddr *)&px->backend.ss,
		     px->backend.len, &w->connect_ts);
	return 0;
}

/* Where in its life a session lost its backend, for the log line. */
static const char *backend_lost_when(const struct session *s)
{
	if (s->phase < PH_COMMAND)
		return "during the handshake";
	if (s->pend_count && !s->quit)
		return "during the command";
	return "between commands";
}

static void backend_on_eof(struct conn *c, int err)
{
	struct bconn *b = c->owner;
	struct session *s = b->link;
	char why[120];

	/* Whatever happens to the session, this connection is finished. */
	b->failed = true;
	if (!s || s->closing)
		return;
	if (err && err != -ECONNRESET)
		LOGW("%s: recv from backend: %s", s->client_addr, strerror(-err));
	if (s->phase <= PH_GREETING) {
		backend_unreachable(s, err ? "it reset the connection before "
				    "its greeting" : "it closed the connection "
				    "before its greeting");
		return;
	}
	snprintf(why, sizeof(why), "the backend %s the connection %s",
		 err ? "reset" : "closed", backend_lost_when(s));
	/* A read whose replica died before answering goes to another. */
	if (s->pool && pooled_retry_read(s, why))
		return;
	if (s->pool && !s->pend_count && !s->pins && !s->in_trans) {
		/* Nothing of the session was on it: the next command borrows
		 * another. */
		LOGI("%s: %s; the session goes on", s->client_addr, why);
		pooled_release(s);
		return;
	}
	/* Deliver what it sent (e.g. the ERR of a failed login, or of a
	 * KILL) before closing the client. */
	session_abort(s, ER_BACKEND_LOST, why, FLUSH_CLOSE_US);
}

static void backend_on_send_error(struct conn *c, int err)
{
	struct bconn *b = c->owner;
	struct session *s = b->link;

	b->failed = true;
	if (err != -EPIPE && err != -ECONNRESET)
		LOGW("%s: send to backend: %s", s ? s->client_addr : "-",
		     strerror(-err));
	if (s)
		session_close(s, "backend gone");
}

static void backend_on_recv_stopped(struct conn *c)
{
	struct bconn *b = c->owner;

	if (b->link && b->splice_pending)
		session_splice_try(b->link);
}

static void backend_on_data(struct conn *c, uint8_t *buf, uint32_t n,
			    int32_t bid)
{
	struct bconn *b = c->owner;
	struct session *s = b->link;

	if (!s || session_done(s))
		return;
	switch (s->phase) {
	case PH_GREETING:
	case PH_HANDSHAKE:
		handshake_backend_data(s, buf, n);
		break;
	case PH_CONNECTING:
		break;
	default:
		command_backend_data(s, buf, n, bid);
		break;
	}
}

/* The session's own backend connection finished its TLS handshake (the
 * handshake response queued behind it goes out now), or failed it. */
static void backend_on_secure(struct conn *c, int err, const char *why)
{
	struct bconn *b = c->owner;
	struct session *s = b->link;
	char desc[128];

	b->failed = err != 0;
	if (!s || s->closing)
		return;
	if (err) {
		c->w->stats.tls_failures++;
		LOGW("%s: backend %s: %s", s->client_addr,
		     c->w->px->backend.text, why);
		session_send_err(s, (uint8_t)(s->hr_seq + 1),
				 ER_BACKEND_UNREACHABLE, "HY000",
				 "myring: TLS with backend %s failed: %s",
				 c->w->px->backend.text, why);
		return;
	}
	c->w->stats.tls_handshakes++;
	if (log_enabled(LOG_DEBUG)) {
		xprt_tls_describe(c, desc, sizeof(desc));
		LOGD("%s: backend TLS: %s", s->client_addr, desc);
	}
}

static const struct conn_ops backend_ops = {
	.role = "backend",
	.peer = PEER_BACKEND,
	.on_data = backend_on_data,
	.on_eof = backend_on_eof,
	.on_send_error = backend_on_send_error,
	.on_connect = backend_on_connect,
	.on_free = backend_freed,
	.on_secure = backend_on_secure,
	.on_recv_stopped = backend_on_recv_stopped,
};

/* A pooled connection that closes while linked (it failed): the session
 * lets go of it, and backend.c frees it (the pool counts it gone). */
static void pooled_backend_freed(struct conn *c)
{
	struct bconn *b = c->owner;
	struct session *s = b->link;

	if (s) {
		session_unlink(s);
		pool_drop(s->pool, b);
	}
	bconn_free(c);
}

static const struct conn_ops pooled_backend_ops = {
	.role = "backend",
	.peer = PEER_BACKEND,
	.on_data = backend_on_data,
	.on_eof = backend_on_eof,
	.on_send_error = backend_on_send_error,
	.on_free = pooled_backend_freed,
	.on_secure = backend_on_secure,
	.on_recv_stopped = backend_on_recv_stopped,
};

/* ---- the client connection ------------------------------------------ */

/*
 * Should the bytes queued for the client wait for more?  Every send to a
 * client wakes it, and on loopback the sender pays for the receiver's TCP
 * input and wake-up, so a large result sent in receive-sized pieces costs
 * a wake-up per piece.  While the server's packet in progress is
 * unfinished the client can use none of it before the rest arrives, and
 * the rest is what the backend receive brings next, so the bytes wait
 * until two buffers' worth is queued.  A packet boundary, a stopped
 * backend receive or a low pool sends at once, so a result that trickles
 * row by row is never held back and held bytes never starve the pool.
 * Measured in perf/RESULTS.md, block `ab hold`: about 0.85x CPU per MB.
 */
static bool hold_for_packet_tail(const struct conn *c)
{
	const struct session *s = c->owner;
	const struct bufring *br = &c->w->bufs;

	return s->phase == PH_COMMAND && !s->flush_close && s->be &&
	       s->be->c.recv_state == RS_ARMED &&
	       !mysql_framer_at_boundary(&s->be->fr) &&
	       c->out.bytes < 2 * (uint64_t)br->size &&
	       !bufring_low(br);
}

static void client_on_sent(struct conn *c)
{
	struct session *s = c->owner;

	if (s->flush_close && conn_sent_all(c))
		session_close(s, s->flush_close_why);
	else if (s->be && s->be->splice_pending)
		session_splice_try(s);
	else
		shard_fanout_sent(s);
}

static void client_on_send_error(struct conn *c, int err)
{
	struct session *s = c->owner;

	if (err != -EPIPE && err != -ECONNRESET)
		LOGW("%s: send to client: %s", s->client_addr, strerror(-err));
	session_close(s, "client gone");
}

static void client_on_eof(struct conn *c, int err)
{
	struct session *s = c->owner;

	if (err && err != -ECONNRESET)
		LOGW("%s: recv from client: %s", s->client_addr, strerror(-err));
	/* The client left (after COM_QUIT or not): nothing of the backend's
	 * answer can reach it any more. */
	session_close(s, err ? "client reset" : s->quit ? "client quit" :
		      "client closed");
}

static void client_on_data(struct conn *c, uint8_t *buf, uint32_t n,
			   int32_t bid)
{
	struct session *s = c->owner;

	if (session_done(s))
		return;
	switch (s->phase) {
	case PH_CONNECTING:
		session_fail(s, 0, 1158, "08S01",
			     "client spoke before the server greeting");
		break;
	case PH_GREETING:
	case PH_HANDSHAKE:
		handshake_client_data(s, buf, n);
		break;
	case PH_LOGIN:
	case PH_LOGIN_SWITCH:
	case PH_LOGIN_SYNC:
		login_client_data(s, buf, n);
		break;
	default:
		command_client_data(s, buf, n, bid);
		break;
	}
}

static void client_on_secure(struct conn *c, int err, const char *why)
{
	struct session *s = c->owner;
	char desc[128];

	if (err) {
		c->w->stats.tls_failures++;
		LOGW("%s: %s", s->client_addr, why);
		session_close(s, "TLS handshake failed");
		return;
	}
	c->w->stats.tls_handshakes++;
	if (log_enabled(LOG_DEBUG)) {
		xprt_tls_describe(c, desc, sizeof(desc));
		LOGD("%s: client TLS: %s", s->client_addr, desc);
	}
}

static const struct conn_ops client_ops = {
	.role = "client",
	.peer = PEER_CLIENT,
	.on_data = client_on_data,
	.on_eof = client_on_eof,
	.on_send_error = client_on_send_error,
	.on_sent = client_on_sent,
	.on_timer = client_on_timer,
	.should_hold = hold_for_packet_tail,
	.on_free = session_client_freed,
	.on_secure = client_on_secure,
};

static void refuse(struct worker *w, int fd)
{
	uint8_t pkt[128];
	size_t n = mysql_build_err(pkt, sizeof(pkt), 0, 1040, "08004",
				   "myring: too many connections");

	/* A fresh socket's send buffer is empty: this cannot block. */
	if (write(fd, pkt, n) < 0)
		LOGD("too many connections: %s", strerror(errno));
	stats_count_err(&w->stats, 1040);
	LOGW("connection refused: %u connections on this worker",
	     w->nsessions);
	close(fd);
}

static void describe_peer(struct session *s, int fd)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0) {
		net_format((struct sockaddr *)&peer, s->client_addr,
			   sizeof(s->client_addr));
		s->client_family = peer.ss_family;
		if (peer.ss_family == AF_INET)
			memcpy(s->client_ip,
			       &((struct sockaddr_in *)&peer)->sin_addr, 4);
		else if (peer.ss_family == AF_INET6)
			memcpy(s->client_ip,
			       &((struct sockaddr_in6 *)&peer)->sin6_addr, 16);
	} else {
		snprintf(s->client_addr, sizeof(s->client_addr), "unknown");
	}
}

void session_accepted(struct worker *w, int fd)
{
	const struct proxy *px = w->px;
	struct session *s;
	int one = 1, rc;

	w->stats.accepted++;
	if (w->nsessions >= px->cfg.max_conns ||
	    !(s = calloc(1, sizeof(*s)))) {
		refuse(w, fd);
		return;
	}
	if (conn_open(w, &s->c, fd, &client_ops, s)) {
		free(s);
		refuse(w, fd);
		return;
	}
	w->nsessions++;
	s->parked_tail = &s->parked;
	mysql_state_init(&s->st);
	stmt_session_init(s);
	s->phase = PH_CONNECTING;
	s->deadline_us = w->now_us + (uint64_t)px->cfg.connect_timeout_ms * 1000u;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	describe_peer(s, fd);
	s->info.client = s->client_addr;
	s->info.client_family = s->client_family;
	s->info.client_ip = s->client_ip;
	s->info.user = "";
	s->info.schema = "";
	s->info.id = (uint64_t)w->id << 48 | ++w->next_session_id;
	s->info.worker = w->id;
	/* New contexts from a reload apply to the connections accepted from
	 * now on. */
	tls_worker_sync(w);
	if (px->cfg.auth == AUTH_PROXY) {
		/* The id the client sees (greeting, CONNECTION_ID(), KILL):
		 * myring's own, unique in the process. */
		s->dir = sdir_add(&w->dir, w->id, &s->conn_id);
		if (!s->dir) {
			session_fail(s, 0, 1040, "08004", "too many connections");
			return;
		}
		s->phase = PH_LOGIN;
		login_greet(s);
		conn_arm_recv(&s->c);
		return;
	}
	rc = backend_open(s);
	if (rc) {
		session_fail(s, 0, ER_BACKEND_UNREACHABLE, "HY000",
			     strerror(-rc));
		return;
	}
	/* Watch the client from the start: a client that leaves while the
	 * backend connects is noticed, and one that speaks first is an error. */
	conn_arm_recv(&s->c);
}

bool session_idle(const struct session *s)
{
	return s->phase == PH_COMMAND && s->pend_count == 0 &&
	       s->client_mode == CM_COMMAND && s->disp != DISP_ASSEMBLE &&
	       mysql_framer_at_boundary(&s->fr) && !s->fr.continued;
}

void session_drain(struct session *s)
{
	/* Called on the drain's second tick (see close_idle_sessions):
	 * idle sessions go now, busy ones when their response ends
	 * (command_backend_data checks w->draining). */
	if (session_idle(s) || s->phase < PH_COMMAND)
		session_close(s, "proxy shutting down");
}

bool session_has_deadline(const struct session *s)
{
	return s->flush_close || s->discarding || s->phase == PH_GREETING ||
	       s->release_deferred ||
	       (s->dir && atomic_load_explicit(&s->dir->kill,
					       memory_order_relaxed));
}

void session_tick(struct session *s)
{
	struct worker *w = s->c.w;

	if (s->dir && !s->closing &&
	    atomic_load_explicit(&s->dir->kill, memory_order_relaxed)) {
		/* KILL CONNECTION from another session (session_pool.c). */
		atomic_store_explicit(&s->dir->kill, 0, memory_order_relaxed);
		session_abort(s, ER_CONNECTION_KILLED, "connection killed by KILL",
			      FLUSH_CLOSE_US);
		return;
	}
	if (s->release_deferred && !s->closing) {
		/* Another session's KILL QUERY held the connection. */
		s->release_deferred = false;
		pooled_maybe_return(s);
	}
	if (s->closing || w->now_us < s->deadline_us)
		return;
	if (s->flush_close)
		session_close(s, "client did not read its final packet");
	else if (s->discarding)
		session_close(s, "client went silent inside its oversized "
			      "command");
	else if (s->phase == PH_GREETING) {
		char why[80];
		snprintf(why, sizeof(why), "no greeting within %u ms",
			 w->px->cfg.connect_timeout_ms);
		backend_unreachable(s, why);
	}
}
