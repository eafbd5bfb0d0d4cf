/*
 * splice.h - moving a long run of bytes from one socket to another through
 * a pipe, without copying them into the worker's buffers.
 *
 * For the body of a BLOB-sized row: once the framer has passed a packet's
 * header and knows how many payload bytes follow, those bytes need no
 * look and no rewrite, only delivery.  Copying them through receive
 * buffers costs two copies and a send per 32 KiB; splice(2) moves page
 * references socket -> pipe -> socket.  It pays only for long runs
 * (perf/RESULTS.md, block splicecost: 1.55x the CPU of copying at 64 KiB
 * rows, 0.66x at 256 KiB, 0.43x from 1 MiB), so the caller enters it only
 * past a threshold (--splice-min).
 *
 * The splice calls themselves are non-blocking and made by the worker:
 * IORING_OP_SPLICE would run in io-wq threads (a thread hop per call),
 * so the ring only waits for readiness (one-shot polls) and each
 * completion continues the pump:
 *
 *   start -> pump: socket -> pipe while the pipe has room,
 *                  pipe -> socket while it holds bytes
 *         -> nothing moves: poll the side that would block
 *            (the source only when the pipe is empty, else the pipe is
 *            what is full)
 *         -> the poll fires -> pump ... -> all moved: done(src, 0)
 *
 * Preconditions: both conns raw (no TLS/compression), nothing queued on
 * dst (bytes already queued go first), src's receive stopped
 * (PAUSE_SPLICE) so no other reader takes the bytes.  The polls count in
 * src's inflight: src is not freed under them; when either conn closes,
 * the pump stops and done is not called (the owner is closing anyway).
 */
#ifndef MYRING_SPLICE_H
#define MYRING_SPLICE_H

#include <stdint.h>

struct conn;
struct worker;

/* Moves len bytes from src's socket to dst's.  done(src, err) follows:
 * err 0 once all moved, else -errno (0 bytes from src: -ECONNRESET).
 * -1 when it cannot start (no pipe): nothing moved, the caller relays as
 * usual. */
int splice_start(struct conn *src, struct conn *dst, uint32_t len,
		 void (*done)(struct conn *src, int err));

/* A poll of the pump completed (worker.c dispatches OP_SPLICE). */
void splice_on_poll(struct conn *src, uint8_t side, int res);

/* The conn is being released: its pump, if any, goes. */
void splice_release(struct conn *src);

/* The worker's spare pipes. */
void splice_worker_free(struct worker *w);

#endif
