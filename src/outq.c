#include "outq.h"

#include <stdlib.h>
#include <string.h>

static void chunk_release(struct chunk *c, struct bufring *br)
{
	if (c->bid >= 0)
		bufring_unref(br, (uint16_t)c->bid);
	free(c->owned);
}

static int outq_grow(struct outq *q)
{
	uint32_t ncap = q->cap ? q->cap * 2 : 8;
	struct chunk *nq = malloc(ncap * sizeof(*nq));

	if (!nq)
		return -1;
	for (uint32_t i = 0; i < q->count; i++)
		nq[i] = q->q[(q->head + i) & (q->cap - 1)];
	free(q->q);
	q->q = nq;
	q->head = 0;
	q->cap = ncap;
	return 0;
}

int outq_push(struct outq *q, struct bufring *br, uint8_t *ptr, uint32_t len,
	      int32_t bid, void *owned)
{
	if (len == 0) {
		free(owned);
		return 0;
	}
	/* Bytes that continue the last chunk in the same buffer extend it:
	 * fewer iovecs.  This is safe even while that chunk is being sent,
	 * since outq_sent() accounts by bytes, not by chunks. */
	if (q->count && bid >= 0 && !owned) {
		struct chunk *last = &q->q[(q->head + q->count - 1) & (q->cap - 1)];
		if (last->bid == bid && last->ptr + last->len == ptr) {
			last->len += len;
			q->bytes += len;
			return 0;
		}
	}
	if (q->count == q->cap && outq_grow(q)) {
		free(owned);
		return -1;
	}
	q->q[(q->head + q->count) & (q->cap - 1)] = (struct chunk){
		.ptr = ptr, .len = len, .bid = bid, .owned = owned,
	};
	q->count++;
	q->bytes += len;
	if (bid >= 0)
		bufring_ref(br, (uint16_t)bid);
	return 0;
}

unsigned outq_prepare(struct outq *q)
{
	unsigned n = 0;

	if (q->in_flight || q->count == 0)
		return 0;
	while (n < q->count && n < OUTQ_IOV) {
		struct chunk *c = &q->q[(q->head + n) & (q->cap - 1)];
		uint32_t off = n == 0 ? q->sent_off : 0;
		q->iov[n].iov_base = c->ptr + off;
		q->iov[n].iov_len = c->len - off;
		n++;
	}
	q->in_flight = n;
	memset(&q->msg, 0, sizeof(q->msg));
	q->msg.msg_iov = q->iov;
	q->msg.msg_iovlen = n;
	return n;
}

void outq_sent(struct outq *q, struct bufring *br, uint32_t n)
{
	q->bytes -= n;
	while (n && q->count) {
		struct chunk *c = &q->q[q->head];
		uint32_t left = c->len - q->sent_off;
		if (n < left) {
			q->sent_off += n;
			break;
		}
		n -= left;
		q->sent_off = 0;
		chunk_release(c, br);
		q->head = (q->head + 1) & (q->cap - 1);
		q->count--;
	}
	q->in_flight = 0;
}

int outq_copy_out(struct outq *q, struct bufring *br)
{
	for (uint32_t i = 0; i < q->count; i++) {
		struct chunk *c = &q->q[(q->head + i) & (q->cap - 1)];
		uint8_t *copy;

		if (c->bid < 0)
			continue;
		copy = malloc(c->len);
		if (!copy)
			return -1;
		memcpy(copy, c->ptr, c->len);
		bufring_unref(br, (uint16_t)c->bid);
		c->ptr = copy;
		c->owned = copy;
		c->bid = -1;
	}
	return 0;
}

bool outq_pins_buffers(const struct outq *q)
{
	for (uint32_t i = 0; i < q->count; i++)
		if (q->q[(q->head + i) & (q->cap - 1)].bid >= 0)
			return true;
	return false;
}

void outq_reset(struct outq *q, struct bufring *br)
{
	while (q->count) {
		chunk_release(&q->q[q->head], br);
		q->head = (q->head + 1) & (q->cap - 1);
		q->count--;
	}
	free(q->q);
	memset(q, 0, sizeof(*q));
}

int outq_move(struct outq *dst, struct outq *src)
{
	uint32_t keep = src->in_flight;

	while (src->count > keep) {
		struct chunk *c = &src->q[(src->head + keep) & (src->cap - 1)];
		struct chunk moved = *c;

		if (keep == 0 && src->sent_off) {
			/* A short send's rest: only that part moves. */
			moved.ptr += src->sent_off;
			moved.len -= src->sent_off;
			src->bytes -= src->sent_off;
			src->sent_off = 0;
		}
		if (dst->count == dst->cap && outq_grow(dst))
			return -1;
		dst->q[(dst->head + dst->count) & (dst->cap - 1)] = moved;
		dst->count++;
		dst->bytes += moved.len;
		src->bytes -= moved.len;
		/* The chunk after the kept ones moves: shift those up. */
		for (uint32_t i = keep; i + 1 < src->count; i++)
			src->q[(src->head + i) & (src->cap - 1)] =
				src->q[(src->head + i + 1) & (src->cap - 1)];
		src->count--;
	}
	return 0;
}
