/*
 * bufring.h - one provided-buffer ring per worker.
 *
 * The kernel picks a free buffer for each multishot recv completion, so an
 * idle connection holds no memory.  A buffer is referenced by the chunks
 * queued for sending that point into it; it returns to the ring when the
 * last such send completes (or at once if nothing points into it).
 * Returns are batched: bufring_put() writes the ring entry, and
 * bufring_commit() publishes all of a loop turn's entries with one store.
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
};

int bufring_init(struct bufring *b, struct io_uring *ring, uint16_t bgid,
		 uint32_t nbufs, uint32_t size);
void bufring_destroy(struct bufring *b, struct io_uring *ring);

static inline uint8_t *bufring_addr(const struct bufring *b, uint16_t bid)
{
	return b->base + (size_t)bid * b->size;
}

/* Hands a buffer back to the kernel (visible after bufring_commit). */
static inline void bufring_put(struct bufring *b, uint16_t bid)
{
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
