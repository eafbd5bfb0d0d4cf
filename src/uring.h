/*
 * uring.h - the io layer's small vocabulary on top of liburing 2.3.
 *
 * user_data carries the continuation of every operation:
 *
 *   63            32 31         16 15       8 7        0
 *  +----------------+-------------+----------+---------+
 *  | session slot   | generation  |   side   | op tag  |
 *  +----------------+-------------+----------+---------+
 *
 * The op tag picks the function that continues the work; slot and
 * generation find the session and recognise a completion that arrives
 * after its session was freed and the slot reused (the generation no longer
 * matches).  ~0 is reserved by liburing for its internal timeouts.
 */
#ifndef MYRING_URING_H
#define MYRING_URING_H

#include <liburing.h>
#include <stdint.h>

/* Constants newer than liburing 2.3's bundled UAPI header. */
#define PX_RECVSEND_BUNDLE       (1U << 4)   /* 6.10 */
#define PX_FEAT_RECVSEND_BUNDLE  (1U << 14)
#define PX_TIMEOUT_MULTISHOT     (1U << 6)   /* 6.4 */

enum op {
	OP_NONE,
	OP_ACCEPT,          /* multishot accept on the worker's listener */
	OP_TICK,            /* periodic timer */
	OP_CONNECT,         /* backend connect */
	OP_CONNECT_TIMEOUT, /* linked timeout of OP_CONNECT */
	OP_RECV,            /* multishot recv into the buffer ring */
	OP_SEND,            /* send/sendmsg of queued chunks */
	OP_CANCEL,          /* cancellation of a conn's operations */
	OP_TIMER,           /* a conn owner's timer (a delay rule's) */
	OP_CTL,             /* control message (MSG_RING) from the control thread */
	OP_SPLICE,          /* readiness poll of a splice pump (splice.h);
	                     * side: 0 the source, 1 the destination */
	OP_FILES,           /* a registered file table update (fixed_files.h);
	                     * side: 0 install, 1 removal */
	OP__COUNT,
};

struct udata {
	uint32_t slot;
	uint16_t gen;
	uint8_t side;
	uint8_t op;
};

static inline uint64_t udata_pack(uint32_t slot, uint16_t gen, uint8_t side,
				  uint8_t op)
{
	return (uint64_t)slot << 32 | (uint64_t)gen << 16 |
	       (uint64_t)side << 8 | op;
}

static inline struct udata udata_unpack(uint64_t v)
{
	return (struct udata){
		.slot = (uint32_t)(v >> 32),
		.gen = (uint16_t)(v >> 16),
		.side = (uint8_t)(v >> 8),
		.op = (uint8_t)v,
	};
}

/* An SQE, submitting the queue first when it is full. Never NULL: the
 * ring is created with a CQ large enough that submission always makes
 * room. */
static inline struct io_uring_sqe *uring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	while (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

#endif
