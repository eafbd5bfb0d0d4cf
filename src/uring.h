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

#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Constants newer than liburing 2.3's bundled UAPI header. */
#define PX_RECVSEND_BUNDLE       (1U << 4)   /* 6.10 */
#define PX_FEAT_RECVSEND_BUNDLE  (1U << 14)
#define PX_TIMEOUT_MULTISHOT     (1U << 6)   /* 6.4 */
#define PX_FEAT_MIN_TIMEOUT      (1U << 15)  /* 6.12 */

enum op {
	OP_NONE,
	OP_ACCEPT,          /* multishot accept on the worker's listener */
	OP_TICK,            /* periodic timer */
	OP_CONNECT,         /* backend connect */
	OP_CONNECT_TIMEOUT, /* linked timeout of OP_CONNECT */
	OP_RECV,            /* multishot recv into the buffer ring */
	OP_SEND,            /* send/sendmsg of queued chunks */
	OP_CANCEL,          /* cancellation of a session's operations */
	OP_DELAY,           /* a delay rule's timer */
	OP_CTL,             /* control message (MSG_RING) from the control thread */
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

/* io_uring_getevents_arg as of 6.12: liburing 2.3 names min_wait_usec
 * "pad". */
struct px_getevents_arg {
	uint64_t sigmask;
	uint32_t sigmask_sz;
	uint32_t min_wait_usec;
	uint64_t ts;
};

/*
 * Sleeps until wait_nr completions are ready, but once min_wait_us has
 * passed returns as soon as there is at least one (IORING_FEAT_MIN_TIMEOUT,
 * 6.12; liburing 2.3 has no call for it).  ts bounds the whole wait and
 * must be longer than min_wait_us, or the kernel ends the wait at
 * min_wait_us even with nothing to return.  Submits nothing.
 */
static inline int uring_wait_batch(struct io_uring *ring, bool registered,
				   unsigned wait_nr, unsigned min_wait_us,
				   const struct __kernel_timespec *ts)
{
	struct px_getevents_arg arg = {
		.sigmask_sz = _NSIG / 8,
		.min_wait_usec = min_wait_us,
		.ts = (uint64_t)(uintptr_t)ts,
	};
	unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
	int fd = ring->ring_fd;
	long rc;

	if (registered) {
		flags |= IORING_ENTER_REGISTERED_RING;
		fd = ring->enter_ring_fd;
	}
	rc = syscall(__NR_io_uring_enter, fd, 0, wait_nr, flags, &arg,
		     sizeof(arg));
	return rc < 0 ? -errno : (int)rc;
}

#endif
