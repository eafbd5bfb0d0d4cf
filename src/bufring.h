/*
 * bufring.h - one provided-buffer ring per worker.
 *
 * The kernel picks a free buffer for each multishot recv completion, so an
 * idle connection holds no memory.  A buffer is referenced by the chunks
 * queued for sending that point into it; it returns to the ring when the
 * last such send completes (or at once if nothing points into it).
 * Returns are batched: bufring_put() writes the ring entry, and
 * bufring_commit() publishes all of a loop turn's entries with one store.
 *
 * Buffers of the worker's own (bid >= nbufs, as many as the kernel's) hold
 * bytes the worker produces from what it received: TLS plaintext and
 * decompressed protocol bytes (xprt.c).  They are referenced and released
 * exactly like the kernel's, so the session code forwards them without a
 * copy and never knows the difference; a released one goes to a free list
 * instead of the kernel.  Their memory is mapped once and touched only
 * when used.
 */
#ifndef MYRING_BUFRING_H
#define MYRING_BUFRING_H

#include "uring.h"

#include <stdbool.h>
#include <stdint.h>

struct bufring {
	struct io_uring_buf_ring *br;
	uint8_t *base;
	uint32_t nbufs;
	uint32_t size;
	uint32_t mask;
	uint32_t free;           /* buffers the kernel can use */
	uint32_t staged;         /* put but not yet committed */
	uint16_t bgid;
	uint16_t *refs;          /* per buffer: chunks pointing into it */
	uint8_t *ubase;          /* the worker's own buffers */
	uint16_t *ufree;         /* their free list (bids), a stack */
	uint32_t nufree;
};

int bufring_init(struct bufring *b, struct io_uring *ring, uint16_t bgid,
		 uint32_t nbufs, uint32_t size);
void bufring_destroy(struct bufring *b, struct io_uring *ring);

/* A kernel buffer's address (bid < nbufs). */
static inline uint8_t *bufring_addr(const struct bufring *b, uint16_t bid)
{
	return b->base + (size_t)bid * b->size;
}

/* One of the worker's own buffers (its bid is >= nbufs), or -1 when all
 * are in use.  Its reference count is 0: the caller puts it back if it
 * ends up referenced by nothing. */
static inline int32_t bufring_user_get(struct bufring *b)
{
	if (!b->nufree)
		return -1;
	return b->ufree[--b->nufree];
}

static inline uint8_t *bufring_user_addr(const struct bufring *b, uint16_t bid)
{
	return b->ubase + (size_t)(bid - b->nbufs) * b->size;
}

/* Hands a buffer back to the kernel (visible after bufring_commit), or to
 * the free list if it is one of the worker's own. */
static inline void bufring_put(struct bufring *b, uint16_t bid)
{
	if (bid >= b->nbufs) {
		b->ufree[b->nufree++] = bid;
		return;
	}
	io_uring_buf_ring_add(b->br, bufring_addr(b, bid), b->size, bid,
			      (int)b->mask, (int)b->staged);
	b->staged++;
}

static inline void bufring_commit(struct bufring *b)
{
	if (b->staged) {
		io_uring_buf_ring_advance(b->br, (int)b->staged);
		b->free += b->staged;
		b->staged = 0;
	}
}

/* The kernel used buffer bid for a completion. */
static inline void bufring_taken(struct bufring *b, uint16_t bid)
{
	b->free--;
	b->refs[bid] = 0;
}

/*
 * Below a quarter of the pool free: the worker stops letting slow sockets
 * pin buffers (stalled sends are evicted, held bytes are sent, new bytes
 * for a busy socket are copied), and receives starved by -ENOBUFS are not
 * re-armed until it is back above, so they do not thrash.
 */
static inline bool bufring_low(const struct bufring *b)
{
	return b->free < b->nbufs / 4;
}

static inline void bufring_ref(struct bufring *b, uint16_t bid)
{
	b->refs[bid]++;
}

static inline void bufring_unref(struct bufring *b, uint16_t bid)
{
	if (--b->refs[bid] == 0)
		bufring_put(b, bid);
}

#endif
