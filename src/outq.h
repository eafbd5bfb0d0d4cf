/*
 * outq.h - the ordered bytes waiting to be sent to one socket.
 *
 * A chunk is a byte range that is either inside a provided receive buffer
 * (forwarded without copying; the buffer is returned to the ring when the
 * last chunk in it is sent) or in heap memory the proxy produced (greeting
 * rewrites, ERR packets, rewritten queries).  At most one send is in
 * flight per socket, covering up to OUTQ_IOV chunks; a short send resumes
 * from the offset where the kernel stopped.
 */
#ifndef MYRING_OUTQ_H
#define MYRING_OUTQ_H

#include "bufring.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define OUTQ_IOV 32

struct chunk {
	uint8_t *ptr;
	uint32_t len;
	int32_t bid;             /* provided buffer to unref once sent, or -1 */
	void *owned;             /* heap block to free once sent, or NULL */
};

struct outq {
	struct chunk *q;         /* ring of cap entries (power of two) */
	uint32_t head;
	uint32_t count;
	uint32_t cap;
	uint32_t sent_off;       /* bytes of q[head] already sent */
	uint64_t bytes;          /* queued and not yet sent */
	uint32_t in_flight;      /* chunks covered by the send in flight; 0: idle */
	uint64_t send_start_us;  /* when the send in flight was submitted */
	bool evicting;           /* that send is being cancelled (see session.c) */
	struct msghdr msg;
	struct iovec iov[OUTQ_IOV];
};

/* Appends a chunk; takes a reference on bid, ownership of owned.
 * Returns 0 or -1 when out of memory (then owned is freed). */
int outq_push(struct outq *q, struct bufring *br, uint8_t *ptr, uint32_t len,
	      int32_t bid, void *owned);

/* Fills the iovec for the next send; returns the number of iovecs (0 if
 * nothing is queued or a send is already in flight). */
unsigned outq_prepare(struct outq *q);

/* A send of the prepared chunks completed with n bytes written. */
void outq_sent(struct outq *q, struct bufring *br, uint32_t n);

/* Moves the bytes of every chunk that points into a receive buffer to heap
 * memory and releases the buffers.  Not while a send is in flight (the
 * kernel may be reading them).  Returns 0, or -1 when out of memory. */
int outq_copy_out(struct outq *q, struct bufring *br);

/* Moves every chunk of src that no send in flight covers to the end of
 * dst, references and ownership with them (a transport starting under
 * what was queued before it).  0, or -1 when out of memory. */
int outq_move(struct outq *dst, struct outq *src);

/* Does any queued chunk hold a receive buffer? */
bool outq_pins_buffers(const struct outq *q);

/* Releases every chunk (connection teardown). */
void outq_reset(struct outq *q, struct bufring *br);

static inline bool outq_idle(const struct outq *q)
{
	return q->count == 0 && q->in_flight == 0;
}

#endif
