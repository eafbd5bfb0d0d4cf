/*
 * session.c - a session's I/O plumbing: accept, backend connect, receive,
 * send, backpressure, and teardown.  What the bytes mean is decided in
 * session_handshake.c and session_command.c.
 */
#include "session.h"

#include "log.h"
#include "mysql_proto.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A send in flight this long, while the buffer pool is low, is stalled. */
#define STALL_US 50000u

/* How long a session may take to flush its last packet (an ERR) to a
 * client before it is cut. */
#define FLUSH_CLOSE_US 5000000u

/* Backpressure: stop receiving from a side while more than this many
 * bytes wait to be sent to the other; resume below half of it. */
static uint64_t high_water(const struct session *s)
{
	return (uint64_t)s->w->bufs.size * 8;
}

static void submit_cancel_fd(struct session *s, int fd)
{
	struct io_uring_sqe *sqe = uring_sqe(&s->w->ring);

	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, udata_pack(s->slot, s->gen, 0, OP_CANCEL));
	s->inflight++;
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

void session_accepted(struct worker *w, int fd)
{
	const struct proxy *px = w->px;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct session *s;
	uint32_t slot;
	int one = 1;

	w->stats.accepted++;
	if (w->free_slot == UINT32_MAX || !(s = calloc(1, sizeof(*s)))) {
		uint8_t pkt[128];
		size_t n = mysql_build_err(pkt, sizeof(pkt), 0, 1040, "08004",
					   "myring: too many connections");
		/* A fresh socket's send buffer is empty: this cannot block. */
		if (write(fd, pkt, n) < 0)
			LOGD("too many connections: %s", strerror(errno));
		LOGW("connection refused: %u connections on this worker",
		     w->nsessions);
		close(fd);
		return;
	}
	slot = w->free_slot;
	w->free_slot = w->slots[slot].next_free;
	w->slots[slot].s = s;
	w->nsessions++;
	s->w = w;
	s->slot = slot;
	s->gen = w->slots[slot].gen;
	s->fd[SIDE_CLIENT] = fd;
	s->fd[SIDE_BACKEND] = -1;
	s->phase = PH_CONNECTING;
	s->deadline_us = w->now_us + (uint64_t)px->cfg.connect_timeout_ms * 1000u;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
	} else
		snprintf(s->client_addr, sizeof(s->client_addr), "unknown");
	s->info.client = s->client_addr;
	s->info.client_family = s->client_family;
	s->info.client_ip = s->client_ip;
	s->info.user = "";
	s->info.schema = "";
	s->info.id = (uint64_t)w->id << 48 | ++w->next_session_id;
	s->info.worker = w->id;

	int bfd = socket(px->backend.ss.ss_family,
			 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (bfd < 0) {
		session_fail(s, 0, ER_BACKEND_UNREACHABLE, "HY000", strerror(errno));
		return;
	}
	setsockopt(bfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->fd[SIDE_BACKEND] = bfd;

	/* connect and its linked timeout must be in one submission. */
	if (io_uring_sq_space_left(&w->ring) < 2)
		io_uring_submit(&w->ring);
	struct io_uring_sqe *sqe = uring_sqe(&w->ring);
	io_uring_prep_connect(sqe, bfd, (const struct sockaddr *)&px->backend.ss,
			      px->backend.len);
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, udata_pack(s->slot, s->gen, SIDE_BACKEND,
						OP_CONNECT));
	sqe = uring_sqe(&w->ring);
	io_uring_prep_link_timeout(sqe, &w->connect_ts, 0);
	io_uring_sqe_set_data64(sqe, udata_pack(s->slot, s->gen, SIDE_BACKEND,
						OP_CONNECT_TIMEOUT));
	s->inflight += 2;
	/* Watch the client from the start: a client that leaves while the
	 * backend connects is noticed, and one that speaks first is an error. */
	session_arm_recv(s, SIDE_CLIENT);
}

/*
 * The backend could not be reached, or gave no greeting: the client, still
 * waiting for the server's first packet, gets ERR 1429 naming the backend
 * as that packet.
 */
static void backend_unreachable(struct session *s, const char *why)
{
	s->w->stats.backend_connect_failed++;
	s->w->backend_down = true;
	LOGW("%s: cannot connect to backend %s: %s", s->client_addr,
	     s->w->px->backend.text, why);
	session_send_err(s, 0, ER_BACKEND_UNREACHABLE, "HY000",
			 "myring: cannot connect to backend %s: %s",
			 s->w->px->backend.text, why);
}

void session_on_connect(struct session *s, int res)
{
	if (s->closing)
		return;
	if (res < 0) {
		char why[160];
		if (res == -ECANCELED)
			snprintf(why, sizeof(why), "timed out after %u ms",
				 s->w->px->cfg.connect_timeout_ms);
		else
			snprintf(why, sizeof(why), "%s", strerror(-res));
		backend_unreachable(s, why);
		return;
	}
	s->w->stats.backend_connects++;
	s->w->backend_down = false;
	/* The connect timeout also bounds the wait for the greeting (its
	 * deadline was set when the connect began): a server that accepts
	 * and never speaks must not hang the client. */
	s->phase = PH_GREETING;
	session_arm_recv(s, SIDE_BACKEND);
}

void session_arm_recv(struct session *s, int side)
{
	struct io_uring_sqe *sqe;

	if (s->closing || s->recv_state[side] != RS_IDLE ||
	    s->recv_paused[side] || s->fd[side] < 0)
		return;
	sqe = uring_sqe(&s->w->ring);
	io_uring_prep_recv_multishot(sqe, s->fd[side], NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = s->w->bufs.bgid;
	io_uring_sqe_set_data64(sqe, udata_pack(s->slot, s->gen, (uint8_t)side,
						OP_RECV));
	s->recv_state[side] = RS_ARMED;
	s->inflight++;
}

static void pause_recv(struct session *s, int side)
{
	struct io_uring_sqe *sqe;

	s->recv_paused[side] = true;
	if (s->recv_state[side] != RS_ARMED)
		return;
	/* A multishot recv cannot be paused, only cancelled. */
	sqe = uring_sqe(&s->w->ring);
	io_uring_prep_cancel64(sqe, udata_pack(s->slot, s->gen, (uint8_t)side,
					       OP_RECV), 0);
	io_uring_sqe_set_data64(sqe, udata_pack(s->slot, s->gen, (uint8_t)side,
						OP_CANCEL));
	s->inflight++;
	s->recv_state[side] = RS_CANCELING;
}

static void resume_recv(struct session *s, int side)
{
	s->recv_paused[side] = false;
	if (s->recv_state[side] == RS_IDLE)
		session_arm_recv(s, side);
}

int session_queue(struct session *s, int side, uint8_t *ptr, uint32_t len,
		  int32_t bid, void *owned)
{
	struct outq *q = &s->out[side];
	struct bufring *br = &s->w->bufs;

	/* When the pool runs low, bytes for a socket whose send is still in
	 * flight (a slow reader) are copied out instead of pinning a receive
	 * buffer, so a few stalled clients cannot starve the whole worker. */
	if (bid >= 0 && q->in_flight && bufring_low(br))
		return session_queue_copy(s, side, ptr, len);
	/* Bytes held back by a delay rule must not pin receive buffers for
	 * the length of the delay. */
	if (bid >= 0 && side == SIDE_BACKEND && s->corked)
		return session_queue_copy(s, side, ptr, len);

	if (outq_push(q, br, ptr, len, bid, owned)) {
		session_close(s, "out of memory");
		return -1;
	}
	worker_mark_dirty(s->w, s, side);
	if (q->bytes > high_water(s) && !s->recv_paused[OTHER_SIDE(side)])
		pause_recv(s, OTHER_SIDE(side));
	return 0;
}

int session_queue_copy(struct session *s, int side, const void *p, size_t len)
{
	uint8_t *copy = malloc(len);

	if (!copy) {
		session_close(s, "out of memory");
		return -1;
	}
	memcpy(copy, p, len);
	return session_queue(s, side, copy, (uint32_t)len, -1, copy);
}

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
	if (session_queue_copy(s, SIDE_CLIENT, pkt, n))
		return;
	stats_count_err(&s->w->stats, code);
	session_finish(s);
}

void session_queue_err(struct session *s, uint8_t seq, uint16_t code,
		       const char *sqlstate, const char *msg)
{
	uint8_t pkt[600];
	size_t n = mysql_build_err(pkt, sizeof(pkt), seq, code, sqlstate, msg);

	session_queue_copy(s, SIDE_CLIENT, pkt, n);
}

static void close_after_flush_within(struct session *s, const char *why,
				     uint64_t flush_us)
{
	s->flush_close = true;
	s->flush_close_why = why;
	s->deadline_us = s->w->now_us + flush_us;
	if (outq_idle(&s->out[SIDE_CLIENT]))
		session_close(s, why);
}

void session_close_after_flush(struct session *s, const char *why)
{
	close_after_flush_within(s, why, FLUSH_CLOSE_US);
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
	for (int side = 0; side < 2; side++)
		pause_recv(s, side);
	/* Called again on every tick of an expired drain: a close already
	 * under way keeps its earlier deadline. */
	if (!s->flush_close || s->deadline_us > s->w->now_us + flush_us)
		close_after_flush_within(s, why, flush_us);
}

void session_finish(struct session *s)
{
	/* Stop listening to both sides; keep the client's queue until it is
	 * sent, then close. */
	for (int side = 0; side < 2; side++)
		pause_recv(s, side);
	session_close_after_flush(s, "finished");
}

void session_fail(struct session *s, uint8_t seq, uint16_t code,
		  const char *sqlstate, const char *why)
{
	LOGW("%s: %s", s->client_addr, why);
	s->w->stats.protocol_errors++;
	session_send_err(s, seq, code, sqlstate, "myring: %s", why);
}

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
static bool hold_for_packet_tail(const struct session *s, const struct outq *q)
{
	const struct bufring *br = &s->w->bufs;

	return s->phase == PH_COMMAND && !s->flush_close &&
	       s->recv_state[SIDE_BACKEND] == RS_ARMED &&
	       !mysql_framer_at_boundary(&s->fr[SIDE_BACKEND]) &&
	       q->bytes < 2 * (uint64_t)br->size &&
	       !bufring_low(br);
}

void session_flush(struct session *s, int side)
{
	struct outq *q = &s->out[side];
	struct io_uring_sqe *sqe;
	unsigned n;

	if (s->closing || s->fd[side] < 0 ||
	    (side == SIDE_BACKEND && s->corked))
		return;
	if (side == SIDE_CLIENT && !q->in_flight && hold_for_packet_tail(s, q))
		return;
	n = outq_prepare(q);
	if (n == 0)
		return;
	sqe = uring_sqe(&s->w->ring);
	/* MSG_WAITALL makes the kernel retry short sends itself; a short
	 * completion is still handled (outq_sent keeps the offset). */
	if (n == 1)
		io_uring_prep_send(sqe, s->fd[side], q->iov[0].iov_base,
				   q->iov[0].iov_len, MSG_NOSIGNAL | MSG_WAITALL);
	else
		io_uring_prep_sendmsg(sqe, s->fd[side], &q->msg,
				      MSG_NOSIGNAL | MSG_WAITALL);
	io_uring_sqe_set_data64(sqe, udata_pack(s->slot, s->gen, (uint8_t)side,
						OP_SEND));
	s->inflight++;
	q->send_start_us = s->w->now_us;
}

/*
 * A send that has not completed for STALL_US to a peer that does not read
 * keeps the receive buffers it covers out of the pool for as long as the
 * peer likes; a few such peers could empty the pool and stall every other
 * connection of the worker.  When the pool runs low (the worker's tick),
 * such sends are cancelled; session_on_send then moves their bytes to heap
 * memory and sends them again from there.
 */
void session_evict_stalled(struct session *s)
{
	for (int side = 0; side < 2; side++) {
		struct outq *q = &s->out[side];
		struct io_uring_sqe *sqe;

		if (s->closing || !q->in_flight || q->evicting ||
		    s->w->now_us - q->send_start_us < STALL_US ||
		    !outq_pins_buffers(q))
			continue;
		sqe = uring_sqe(&s->w->ring);
		io_uring_prep_cancel64(sqe, udata_pack(s->slot, s->gen,
						       (uint8_t)side, OP_SEND), 0);
		io_uring_sqe_set_data64(sqe, udata_pack(s->slot, s->gen,
							(uint8_t)side, OP_CANCEL));
		s->inflight++;
		q->evicting = true;
	}
}

void session_on_send(struct session *s, int side, int res)
{
	struct outq *q = &s->out[side];
	bool evicted = false;

	s->inflight--;
	/* Before the closing check: these bytes left, closing or not. */
	if (res > 0)
		s->w->stats.bytes_to[side] += (uint64_t)res;
	if (s->closing)
		return;
	if (q->evicting) {
		q->evicting = false;
		/* A cancelled send reports what it wrote before, if anything. */
		if (res == -ECANCELED)
			res = 0;
		evicted = res >= 0;
	}
	if (res < 0) {
		q->in_flight = 0;
		if (res != -EPIPE && res != -ECONNRESET)
			LOGW("%s: send to %s: %s", s->client_addr,
			     side == SIDE_CLIENT ? "client" : "backend",
			     strerror(-res));
		session_close(s, side == SIDE_CLIENT ? "client gone" :
			      "backend gone");
		return;
	}
	outq_sent(q, &s->w->bufs, (uint32_t)res);
	if (evicted) {
		if (outq_copy_out(q, &s->w->bufs)) {
			session_close(s, "out of memory");
			return;
		}
		s->w->stats.send_evictions++;
	}
	if (q->count)
		worker_mark_dirty(s->w, s, side);
	if (s->recv_paused[OTHER_SIDE(side)] && !s->flush_close &&
	    q->bytes <= high_water(s) / 2)
		resume_recv(s, OTHER_SIDE(side));
	if (s->flush_close && outq_idle(&s->out[SIDE_CLIENT]))
		session_close(s, s->flush_close_why);
}

static void arm_delay(struct session *s)
{
	struct io_uring_sqe *sqe = uring_sqe(&s->w->ring);
	uint64_t left = s->delay_until_us - s->w->now_us;

	s->delay_ts.tv_sec = (long long)(left / 1000000u);
	s->delay_ts.tv_nsec = (long long)(left % 1000000u) * 1000;
	io_uring_prep_timeout(sqe, &s->delay_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, udata_pack(s->slot, s->gen, 0, OP_DELAY));
	s->delay_armed = true;
	s->inflight++;
}

/*
 * Holds everything queued for the backend from now on until the delay has
 * passed: the delayed command and whatever is pipelined behind it, which
 * must not overtake it.
 */
void session_delay(struct session *s, uint32_t ms)
{
	uint64_t until = s->w->now_us + (uint64_t)ms * 1000u;

	if (until > s->delay_until_us)
		s->delay_until_us = until;
	s->corked = true;
	if (!s->delay_armed)
		arm_delay(s);
}

void session_on_delay(struct session *s, int res)
{
	s->inflight--;
	s->delay_armed = false;
	if (s->closing)
		return;
	if (s->w->now_us < s->delay_until_us) {
		arm_delay(s);
		return;
	}
	s->corked = false;
	if (s->out[SIDE_BACKEND].count)
		worker_mark_dirty(s->w, s, SIDE_BACKEND);
}

void session_on_cancel(struct session *s, int res)
{
	s->inflight--;
}

void session_buffers_back(struct session *s)
{
	for (int side = 0; side < 2; side++) {
		if (s->recv_state[side] == RS_NOBUFS) {
			s->recv_state[side] = RS_IDLE;
			session_arm_recv(s, side);
		}
	}
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

/* The backend closed (reset is true: reset) the connection. */
static void backend_lost(struct session *s, bool reset)
{
	char why[120];

	if (s->phase <= PH_GREETING) {
		backend_unreachable(s, reset ? "it reset the connection before "
				    "its greeting" : "it closed the connection "
				    "before its greeting");
		return;
	}
	snprintf(why, sizeof(why), "the backend %s the connection %s",
		 reset ? "reset" : "closed", backend_lost_when(s));
	/* Deliver what it sent (e.g. the ERR of a failed login, or of a
	 * KILL) before closing the client. */
	session_abort(s, ER_BACKEND_LOST, why, FLUSH_CLOSE_US);
}

static void on_eof(struct session *s, int side)
{
	if (side == SIDE_CLIENT) {
		/* The client left (after COM_QUIT or not): nothing of the backend's
		 * answer can reach it any more. */
		session_close(s, s->quit ? "client quit" : "client closed");
		return;
	}
	backend_lost(s, false);
}

static void on_data(struct session *s, int side, uint8_t *buf, uint32_t n,
		    int32_t bid)
{
	switch (s->phase) {
	case PH_CONNECTING:
		session_fail(s, 0, 1158, "08S01",
			     "client spoke before the server greeting");
		break;
	case PH_GREETING:
	case PH_HANDSHAKE:
		if (side == SIDE_BACKEND)
			handshake_backend_data(s, buf, n);
		else
			handshake_client_data(s, buf, n);
		break;
	default:
		if (side == SIDE_BACKEND)
			command_backend_data(s, buf, n, bid);
		else
			command_client_data(s, buf, n, bid);
		break;
	}
}

void session_on_recv(struct session *s, int side, int res, unsigned flags)
{
	struct bufring *br = &s->w->bufs;
	bool more = flags & IORING_CQE_F_MORE;

	if (!more) {
		s->inflight--;
		s->recv_state[side] = RS_IDLE;
	}
	if (res > 0) {
		uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
		bufring_taken(br, bid);
		/* Counted even when dropped unread (the session is closing):
		 * the byte counters say what crossed each socket. */
		s->w->stats.bytes_from[side] += (uint64_t)res;
		if (!s->closing && !(s->flush_close))
			on_data(s, side, bufring_addr(br, bid), (uint32_t)res, bid);
		if (br->refs[bid] == 0)
			bufring_put(br, bid);
		if (!more)
			session_arm_recv(s, side);
		return;
	}
	if (s->closing)
		return;
	if (res == 0) {
		on_eof(s, side);
	} else if (res == -ENOBUFS) {
		/* The worker's pool is empty: wait until buffers come back.
		 * Bytes held for a packet's tail go now: they pin buffers. */
		s->recv_state[side] = RS_NOBUFS;
		if (s->out[OTHER_SIDE(side)].count)
			worker_mark_dirty(s->w, s, OTHER_SIDE(side));
		if (!s->next_waiter && s->w->buf_waiters != s) {
			s->next_waiter = s->w->buf_waiters;
			s->w->buf_waiters = s;
		}
	} else if (res == -ECANCELED) {
		if (!s->recv_paused[side])
			session_arm_recv(s, side);
	} else {
		if (res != -ECONNRESET)
			LOGW("%s: recv from %s: %s", s->client_addr,
			     side == SIDE_CLIENT ? "client" : "backend",
			     strerror(-res));
		if (side == SIDE_CLIENT)
			session_close(s, "client reset");
		else
			backend_lost(s, true);
	}
}

bool session_idle(const struct session *s)
{
	return s->phase == PH_COMMAND && s->pend_count == 0 &&
	       s->client_mode == CM_COMMAND && s->disp != DISP_ASSEMBLE &&
	       mysql_framer_at_boundary(&s->fr[SIDE_CLIENT]) &&
	       !s->fr[SIDE_CLIENT].continued;
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
	return s->flush_close || s->discarding || s->phase == PH_GREETING;
}

void session_tick(struct session *s)
{
	if (s->closing || s->w->now_us < s->deadline_us)
		return;
	if (s->flush_close)
		session_close(s, "client did not read its final packet");
	else if (s->discarding)
		session_close(s, "client went silent inside its oversized "
			      "command");
	else if (s->phase == PH_GREETING) {
		char why[80];
		snprintf(why, sizeof(why), "no greeting within %u ms",
			 s->w->px->cfg.connect_timeout_ms);
		backend_unreachable(s, why);
	}
}

void session_close(struct session *s, const char *why)
{
	if (s->closing)
		return;
	s->closing = true;
	LOGD("%s: closing: %s", s->client_addr, why);
	for (int side = 0; side < 2; side++) {
		bool busy = s->recv_state[side] == RS_ARMED ||
			    s->recv_state[side] == RS_CANCELING ||
			    s->out[side].in_flight;
		if (side == SIDE_BACKEND && s->phase == PH_CONNECTING)
			busy = true;
		if (s->fd[side] >= 0 && busy)
			submit_cancel_fd(s, s->fd[side]);
	}
	if (s->delay_armed) {
		struct io_uring_sqe *sqe = uring_sqe(&s->w->ring);
		io_uring_prep_timeout_remove(sqe, udata_pack(s->slot, s->gen, 0,
							     OP_DELAY), 0);
		io_uring_sqe_set_data64(sqe, udata_pack(s->slot, s->gen, 0,
							OP_CANCEL));
		s->inflight++;
	}
	/* A session waiting for buffers has nothing in flight to cancel. */
	if (s->recv_state[0] == RS_NOBUFS || s->recv_state[1] == RS_NOBUFS) {
		struct session **pp = &s->w->buf_waiters;
		while (*pp && *pp != s)
			pp = &(*pp)->next_waiter;
		if (*pp)
			*pp = s->next_waiter;
	}
}

void session_free(struct session *s)
{
	struct worker *w = s->w;

	command_abort_all(s);
	for (int side = 0; side < 2; side++) {
		if (s->fd[side] >= 0)
			close(s->fd[side]);
		outq_reset(&s->out[side], &w->bufs);
	}
	free(s->asm_buf);
	free(s->pend);
	free(s->user);
	free(s->schema);
	w->stats.closed++;
	worker_free_slot(w, s->slot);
	free(s);
}
