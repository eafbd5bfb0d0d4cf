/*
 * conn.c - a socket's I/O on the worker's ring: receive, send,
 * backpressure, stalled sends, timers and teardown (see conn.h).
 */
#include "conn.h"

#include "fixed_files.h"
#include "log.h"
#include "splice.h"
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A send in flight this long, while the buffer pool is low, is stalled. */
#define STALL_US 50000u

/* Backpressure: stop receiving from the partner while more than this many
 * bytes wait to be sent here; resume below half of it. */
static uint64_t high_water(const struct conn *c)
{
	return (uint64_t)c->w->bufs.size * 8;
}

static uint64_t udata(const struct conn *c, enum op op)
{
	return udata_pack(c->slot, c->gen, 0, op);
}

int conn_open(struct worker *w, struct conn *c, int fd,
	      const struct conn_ops *ops, void *owner)
{
	int32_t slot;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->ops = ops;
	c->owner = owner;
	slot = worker_take_slot(w, c);
	if (slot < 0)
		return -1;
	c->w = w;
	c->slot = (uint32_t)slot;
	c->gen = w->slots[slot].gen;
	fixed_file_install(c);
	return 0;
}

void conn_connect(struct conn *c, const struct sockaddr *addr, unsigned len,
		  struct __kernel_timespec *timeout_ts)
{
	struct io_uring *ring = &c->w->ring;
	struct io_uring_sqe *sqe;

	/* connect and its linked timeout must be in one submission. */
	if (io_uring_sq_space_left(ring) < 2)
		io_uring_submit(ring);
	sqe = uring_sqe(ring);
	io_uring_prep_connect(sqe, c->fd, addr, len);
	fixed_file_use(c, sqe);
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, udata(c, OP_CONNECT));
	sqe = uring_sqe(ring);
	io_uring_prep_link_timeout(sqe, timeout_ts, 0);
	io_uring_sqe_set_data64(sqe, udata(c, OP_CONNECT_TIMEOUT));
	c->inflight += 2;
}

void conn_arm_recv(struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->closing || c->recv_state != RS_IDLE || c->paused || c->fd < 0)
		return;
	sqe = uring_sqe(&c->w->ring);
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	fixed_file_use(c, sqe);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = c->w->bufs.bgid;
	io_uring_sqe_set_data64(sqe, udata(c, OP_RECV));
	c->recv_state = RS_ARMED;
	c->inflight++;
}

static void submit_cancel(struct conn *c, uint64_t target)
{
	struct io_uring_sqe *sqe = uring_sqe(&c->w->ring);

	io_uring_prep_cancel64(sqe, target, 0);
	io_uring_sqe_set_data64(sqe, udata(c, OP_CANCEL));
	c->inflight++;
}

void conn_pause(struct conn *c, unsigned reason)
{
	c->paused |= (uint8_t)reason;
	if (c->recv_state != RS_ARMED)
		return;
	/* A multishot recv cannot be paused, only cancelled. */
	submit_cancel(c, udata(c, OP_RECV));
	c->recv_state = RS_CANCELING;
}

void conn_resume(struct conn *c, unsigned reason)
{
	c->paused &= (uint8_t)~reason;
	if (!c->paused && c->recv_state == RS_IDLE)
		conn_arm_recv(c);
}

int conn_queue(struct conn *c, uint8_t *ptr, uint32_t len, int32_t bid,
	       void *owned)
{
	if (c->x)
		return xprt_queue(c, ptr, len, bid, owned);
	return conn_queue_out(c, ptr, len, bid, owned);
}

/* Whether a send is in flight on the socket (for TLS: of ciphertext). */
static bool send_busy(struct conn *c)
{
	return c->out.in_flight || (c->x && xprt_wire(c)->in_flight);
}

int conn_queue_out(struct conn *c, uint8_t *ptr, uint32_t len, int32_t bid,
		   void *owned)
{
	struct outq *q = &c->out;
	struct bufring *br = &c->w->bufs;

	/* When the pool runs low, bytes for a socket whose send is still in
	 * flight (a slow reader) are copied out instead of pinning a receive
	 * buffer, so a few stalled peers cannot starve the whole worker. */
	if (bid >= 0 && bufring_low(br) && send_busy(c))
		return conn_queue_copy(c, ptr, len);
	if (outq_push(q, br, ptr, len, bid, owned)) {
		LOGW("%s connection: out of memory", c->ops->role);
		conn_close(c);
		return -1;
	}
	worker_mark_dirty(c->w, c);
	if (c->partner && q->bytes > high_water(c) &&
	    !(c->partner->paused & PAUSE_BACKPRESSURE))
		conn_pause(c->partner, PAUSE_BACKPRESSURE);
	return 0;
}

void conn_check_partner(struct conn *c)
{
	if (c->partner && (c->partner->paused & PAUSE_BACKPRESSURE) &&
	    c->out.bytes <= high_water(c) / 2)
		conn_resume(c->partner, PAUSE_BACKPRESSURE);
}

int conn_queue_copy(struct conn *c, const void *p, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy) {
		LOGW("%s connection: out of memory", c->ops->role);
		conn_close(c);
		return -1;
	}
	memcpy(copy, p, len);
	return conn_queue(c, copy, (uint32_t)len, -1, copy);
}

void conn_flush(struct conn *c)
{
	struct outq *q = c->x ? xprt_wire(c) : &c->out;
	struct io_uring_sqe *sqe;
	unsigned n;

	if (c->closing || c->fd < 0)
		return;
	if (!q->in_flight && c->ops->should_hold && c->ops->should_hold(c))
		return;
	if (c->x) {
		/* What was sent before TLS started finishes first: one send
		 * in flight per socket keeps the bytes in order. */
		if (c->out.in_flight)
			return;
		q = xprt_flush(c);
	}
	if (c->closing)
		return;
	n = outq_prepare(q);
	if (n == 0)
		return;
	sqe = uring_sqe(&c->w->ring);
	/* MSG_WAITALL makes the kernel retry short sends itself; a short
	 * completion is still handled (outq_sent keeps the offset). */
	if (n == 1)
		io_uring_prep_send(sqe, c->fd, q->iov[0].iov_base,
				   q->iov[0].iov_len, MSG_NOSIGNAL | MSG_WAITALL);
	else
		io_uring_prep_sendmsg(sqe, c->fd, &q->msg,
				      MSG_NOSIGNAL | MSG_WAITALL);
	fixed_file_use(c, sqe);
	io_uring_sqe_set_data64(sqe, udata(c, OP_SEND));
	c->inflight++;
	c->sending = q;
	q->send_start_us = c->w->now_us;
}

void conn_timer(struct conn *c, uint64_t us)
{
	struct io_uring_sqe *sqe;

	if (c->timer_armed || c->closing)
		return;
	sqe = uring_sqe(&c->w->ring);
	c->timer_ts.tv_sec = (long long)(us / 1000000u);
	c->timer_ts.tv_nsec = (long long)(us % 1000000u) * 1000;
	io_uring_prep_timeout(sqe, &c->timer_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, udata(c, OP_TIMER));
	c->timer_armed = true;
	c->inflight++;
}

/*
 * A send that has not completed for STALL_US to a peer that does not read
 * keeps the receive buffers it covers out of the pool for as long as the
 * peer likes; a few such peers could empty the pool and stall every other
 * connection of the worker.  When the pool runs low (the worker's tick),
 * such sends are cancelled; conn_on_send then moves their bytes to heap
 * memory and sends them again from there.
 */
void conn_evict_stalled(struct conn *c)
{
	struct outq *q = &c->out;

	if (c->x && xprt_wire(c) != q) {
		/* TLS: the plaintext waits in c->out while the ciphertext
		 * before it is stuck; no send reads it, so it moves to heap
		 * memory at once. */
		struct outq *wq = xprt_wire(c);
		if (c->closing || !wq->in_flight ||
		    c->w->now_us - wq->send_start_us < STALL_US ||
		    !outq_pins_buffers(q))
			return;
		if (outq_copy_out(q, &c->w->bufs)) {
			LOGW("%s connection: out of memory", c->ops->role);
			conn_close(c);
			return;
		}
		c->w->stats.send_evictions++;
		return;
	}
	if (c->closing || !q->in_flight || q->evicting ||
	    c->w->now_us - q->send_start_us < STALL_US ||
	    !outq_pins_buffers(q))
		return;
	submit_cancel(c, udata(c, OP_SEND));
	q->evicting = true;
}

void conn_on_send(struct conn *c, int res)
{
	struct outq *q = c->sending ? c->sending : &c->out;
	bool evicted = false;

	c->inflight--;
	/* Before the closing check: these bytes left, closing or not. */
	if (res > 0)
		c->w->stats.bytes_to[c->ops->peer] += (uint64_t)res;
	if (c->closing)
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
		conn_close(c);
		c->ops->on_send_error(c, res);
		return;
	}
	outq_sent(q, &c->w->bufs, (uint32_t)res);
	if (evicted) {
		if (outq_copy_out(q, &c->w->bufs)) {
			LOGW("%s connection: out of memory", c->ops->role);
			conn_close(c);
			return;
		}
		c->w->stats.send_evictions++;
	}
	if (c->x)
		xprt_sent(c);
	if (q->count || c->out.count)
		worker_mark_dirty(c->w, c);
	conn_check_partner(c);
	if (c->ops->on_sent)
		c->ops->on_sent(c);
}

void conn_on_connect(struct conn *c, int res)
{
	c->inflight--;
	if (c->closing)
		return;
	c->ops->on_connect(c, res);
}

void conn_on_cancel(struct conn *c)
{
	c->inflight--;
}

void conn_on_timer(struct conn *c)
{
	c->inflight--;
	c->timer_armed = false;
	if (c->closing)
		return;
	c->ops->on_timer(c);
}

void conn_buffers_back(struct conn *c)
{
	if (c->recv_state == RS_NOBUFS) {
		c->recv_state = RS_IDLE;
		conn_arm_recv(c);
	}
}

void conn_xbuffers_back(struct conn *c)
{
	if (!c->closing && c->x)
		xprt_buffers_back(c);
}

void conn_on_recv(struct conn *c, int res, unsigned flags)
{
	struct worker *w = c->w;
	struct bufring *br = &w->bufs;
	bool more = flags & IORING_CQE_F_MORE;

	if (!more) {
		c->inflight--;
		c->recv_state = RS_IDLE;
	}
	if (!more && c->paused && !c->closing && c->ops->on_recv_stopped)
		c->ops->on_recv_stopped(c);
	if (res > 0) {
		uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
		bufring_taken(br, bid);
		/* Counted even when dropped unread (closing): the byte
		 * counters say what crossed each socket. */
		w->stats.bytes_from[c->ops->peer] += (uint64_t)res;
		if (c->closing)
			;
		else if (c->x)
			xprt_on_data(c, bufring_addr(br, bid), (uint32_t)res,
				     bid);
		else
			c->ops->on_data(c, bufring_addr(br, bid), (uint32_t)res,
					bid);
		if (br->refs[bid] == 0)
			bufring_put(br, bid);
		if (!more)
			conn_arm_recv(c);
		return;
	}
	if (c->closing)
		return;
	if (res == 0) {
		c->ops->on_eof(c, 0);
	} else if (res == -ENOBUFS) {
		/* The worker's pool is empty: wait until buffers come back.
		 * Bytes the partner holds for a packet's tail (should_hold)
		 * go now: they pin buffers, and the tail cannot come. */
		c->recv_state = RS_NOBUFS;
		worker_wait_buffers(w, c);
		if (c->partner && c->partner->out.count)
			worker_mark_dirty(w, c->partner);
	} else if (res == -ECANCELED) {
		if (!c->paused)
			conn_arm_recv(c);
	} else {
		c->ops->on_eof(c, res);
	}
}

void conn_close(struct conn *c)
{
	if (c->closing || !c->w)
		return;
	c->closing = true;
	/* Freed at the end of the worker's turn if nothing is in flight:
	 * never under the feet of the code that closed it. */
	worker_defer_settle(c->w, c);
	if (c->fd >= 0 && (c->inflight || c->recv_state == RS_ARMED)) {
		struct io_uring_sqe *sqe = uring_sqe(&c->w->ring);
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, udata(c, OP_CANCEL));
		c->inflight++;
	}
	if (c->splice) {
		/* The pump's poll may be on the other conn's socket. */
		submit_cancel(c, udata_pack(c->slot, c->gen, 1, OP_SPLICE));
	}
	if (c->timer_armed) {
		struct io_uring_sqe *sqe = uring_sqe(&c->w->ring);
		io_uring_prep_timeout_remove(sqe, udata(c, OP_TIMER), 0);
		io_uring_sqe_set_data64(sqe, udata(c, OP_CANCEL));
		c->inflight++;
	}
	/* A conn waiting for buffers has nothing in flight to cancel. */
	if (c->recv_state == RS_NOBUFS)
		worker_unwait_buffers(c->w, c);
	if (c->xwaiting)
		worker_unwait_xbuffers(c->w, c);
}

void conn_settle(struct conn *c)
{
	if (c->closing && c->inflight == 0 && !c->freed) {
		c->freed = true;
		c->ops->on_free(c);
	}
}

void conn_release(struct conn *c)
{
	if (!c->w)
		return;
	fixed_file_remove(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->x)
		xprt_free(c);
	splice_release(c);
	outq_reset(&c->out, &c->w->bufs);
	worker_free_slot(c->w, c->slot);
}
