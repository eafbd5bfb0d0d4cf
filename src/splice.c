/*
 * splice.c - socket -> pipe -> socket for long runs of bytes (splice.h).
 */
#include "splice.h"

#include "conn.h"
#include "log.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

/* A pipe of 1 MiB (the default pipe-max-size) takes a row of that size in
 * one go; a smaller one still works, in more turns. */
#define PIPE_WANT (1u << 20)

struct splice {
	struct conn *dst;
	void (*done)(struct conn *src, int err);
	int rd, wr;                /* the pipe */
	uint32_t cap;              /* its size */
	uint32_t to_read;          /* still in src's socket */
	uint32_t in_pipe;          /* read, not yet written */
	uint8_t polls;             /* in flight: 0..2 */
	bool poll_in, poll_out;
	bool over;                 /* done or given up: polls drain */
};

static int pipe_take(struct worker *w, int *rd, int *wr, uint32_t *cap)
{
	int fds[2], sz;

	if (w->npipes) {
		w->npipes--;
		*rd = w->pipes[w->npipes].rd;
		*wr = w->pipes[w->npipes].wr;
		*cap = w->pipes[w->npipes].cap;
		return 0;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC))
		return -1;
	sz = fcntl(fds[1], F_SETPIPE_SZ, (int)PIPE_WANT);
	if (sz < 0)
		sz = fcntl(fds[1], F_GETPIPE_SZ);
	*rd = fds[0];
	*wr = fds[1];
	*cap = sz > 0 ? (uint32_t)sz : 65536;
	return 0;
}

/* An empty pipe goes back to the worker; one with bytes left in it (a
 * pump that failed) is closed. */
static void pipe_give(struct worker *w, struct splice *sp)
{
	if (!sp->in_pipe && w->npipes < WORKER_SPARE_PIPES) {
		w->pipes[w->npipes].rd = sp->rd;
		w->pipes[w->npipes].wr = sp->wr;
		w->pipes[w->npipes].cap = sp->cap;
		w->npipes++;
		return;
	}
	close(sp->rd);
	close(sp->wr);
}

static void poll_arm(struct conn *src, int fd, unsigned events, uint8_t side)
{
	struct io_uring_sqe *sqe = uring_sqe(&src->w->ring);

	io_uring_prep_poll_add(sqe, fd, events);
	io_uring_sqe_set_data64(sqe, udata_pack(src->slot, src->gen, side,
						 OP_SPLICE));
	src->inflight++;
	src->splice->polls++;
}

/* The pump is over: its pipe goes once no poll can still fire. */
static void finish(struct conn *src)
{
	struct splice *sp = src->splice;

	sp->over = true;
	if (sp->polls)
		return;
	pipe_give(src->w, sp);
	src->splice = NULL;
	free(sp);
}

static void end(struct conn *src, int err)
{
	struct splice *sp = src->splice;
	void (*done)(struct conn *, int) = sp->done;

	finish(src);
	done(src, err);
}

static void pump(struct conn *src)
{
	struct splice *sp = src->splice;
	struct worker *w = src->w;
	struct conn *dst = sp->dst;

	for (;;) {
		bool moved = false;
		ssize_t n;

		if (src->closing || dst->closing) {
			/* The owner is tearing down: nothing more to move. */
			finish(src);
			return;
		}
		if (sp->to_read && sp->in_pipe < sp->cap && !sp->poll_in) {
			uint32_t want = sp->cap - sp->in_pipe;
			if (want > sp->to_read)
				want = sp->to_read;
			n = splice(src->fd, NULL, sp->wr, NULL, want,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				sp->to_read -= (uint32_t)n;
				sp->in_pipe += (uint32_t)n;
				w->stats.bytes_from[src->ops->peer] += (uint64_t)n;
				moved = true;
			} else if (n == 0) {
				end(src, -ECONNRESET);
				return;
			} else if (errno != EAGAIN) {
				end(src, -errno);
				return;
			} else if (!sp->in_pipe) {
				/* Empty pipe: the socket has nothing yet. */
				sp->poll_in = true;
				poll_arm(src, src->fd, POLLIN, 0);
			}
			/* Else the pipe is full by its slots: the writer
			 * makes room, then this is tried again. */
		}
		if (sp->in_pipe && !sp->poll_out) {
			n = splice(sp->rd, NULL, dst->fd, NULL, sp->in_pipe,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				sp->in_pipe -= (uint32_t)n;
				w->stats.bytes_to[dst->ops->peer] += (uint64_t)n;
				moved = true;
			} else if (n < 0 && errno != EAGAIN) {
				end(src, -errno);
				return;
			} else if (n < 0) {
				sp->poll_out = true;
				poll_arm(src, dst->fd, POLLOUT, 1);
			}
		}
		if (!sp->to_read && !sp->in_pipe) {
			end(src, 0);
			return;
		}
		if (!moved)
			return;
	}
}

int splice_start(struct conn *src, struct conn *dst, uint32_t len,
		 void (*done)(struct conn *src, int err))
{
	struct splice *sp = calloc(1, sizeof(*sp));
	int fl;

	if (!sp)
		return -1;
	if (pipe_take(src->w, &sp->rd, &sp->wr, &sp->cap)) {
		free(sp);
		return -1;
	}
	/* Accepted sockets block; a splice into one must not. */
	fl = fcntl(dst->fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(dst->fd, F_SETFL, fl | O_NONBLOCK);
	sp->dst = dst;
	sp->done = done;
	sp->to_read = len;
	src->splice = sp;
	pump(src);
	return 0;
}

void splice_on_poll(struct conn *src, uint8_t side, int res)
{
	struct splice *sp = src->splice;

	src->inflight--;
	if (!sp)
		return;
	sp->polls--;
	if (side == 0)
		sp->poll_in = false;
	else
		sp->poll_out = false;
	if (sp->over) {
		finish(src);
		return;
	}
	if (res < 0 && res != -ECANCELED) {
		end(src, res);
		return;
	}
	/* Ready, or an error or hang-up the next splice call will name
	 * (a cancelled poll means a conn is closing: pump sees it). */
	pump(src);
}

void splice_release(struct conn *src)
{
	struct splice *sp = src->splice;

	if (!sp)
		return;
	close(sp->rd);
	close(sp->wr);
	src->splice = NULL;
	free(sp);
}

void splice_worker_free(struct worker *w)
{
	while (w->npipes) {
		w->npipes--;
		close(w->pipes[w->npipes].rd);
		close(w->pipes[w->npipes].wr);
	}
}
