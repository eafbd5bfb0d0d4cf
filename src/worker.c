#include "worker.h"

#include "log.h"
#include "ctl.h"
#include "session.h"

#include <errno.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 100
/* After the drain timeout, how long a final ERR may take to reach a client. */
#define DRAIN_FLUSH_US 500000u
#define SQ_ENTRIES 1024
#define CQ_ENTRIES 32768

static uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void worker_free_slot(struct worker *w, uint32_t slot)
{
	struct slot *sl = &w->slots[slot];

	sl->s = NULL;
	sl->gen++;
	sl->next_free = w->free_slot;
	w->free_slot = slot;
	w->nsessions--;
}

void worker_mark_dirty(struct worker *w, struct session *s, int side)
{
	if (s->dirty[side])
		return;
	if (w->ndirty == w->dirty_cap) {
		uint32_t ncap = w->dirty_cap ? w->dirty_cap * 2 : 256;
		struct dirty *nd = realloc(w->dirty, ncap * sizeof(*nd));
		if (!nd) {
			/* No room to defer: send now, unbatched. */
			session_flush(s, side);
			return;
		}
		w->dirty = nd;
		w->dirty_cap = ncap;
	}
	s->dirty[side] = true;
	w->dirty[w->ndirty++] = (struct dirty){s->slot, s->gen, (uint8_t)side};
}

/* Frees a session once its teardown has no completion left to wait for. */
static void settle(struct session *s)
{
	if (s->closing && s->inflight == 0)
		session_free(s);
}

static struct session *slot_session(struct worker *w, uint32_t slot,
				    uint16_t gen)
{
	if (slot >= w->nslots || w->slots[slot].gen != gen)
		return NULL;
	return w->slots[slot].s;
}

static void arm_accept(struct worker *w)
{
	struct io_uring_sqe *sqe;

	if (w->accept_armed || w->draining || w->listen_fd < 0)
		return;
	sqe = uring_sqe(&w->ring);
	io_uring_prep_multishot_accept(sqe, w->listen_fd, NULL, NULL,
				       SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, udata_pack(0, 0, 0, OP_ACCEPT));
	w->accept_armed = true;
}

static void arm_tick(struct worker *w)
{
	struct io_uring_sqe *sqe = uring_sqe(&w->ring);

	io_uring_prep_timeout(sqe, &w->tick_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, udata_pack(0, 0, 0, OP_TICK));
}

static void on_accept(struct worker *w, struct io_uring_cqe *cqe)
{
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		w->accept_armed = false;
		if (cqe->res < 0 && cqe->res != -ECANCELED && !w->draining)
			LOGW("accept: %s", strerror(-cqe->res));
		arm_accept(w);
	}
	if (cqe->res < 0)
		return;
	if (w->draining) {
		close(cqe->res);
		return;
	}
	session_accepted(w, cqe->res);
}

static void start_drain(struct worker *w)
{
	w->draining = true;
	w->drain_deadline_us = w->now_us +
			       (uint64_t)w->px->cfg.drain_timeout_ms * 1000u;
	/* Closing the listener refuses new connections at once; the armed
	 * multishot accept then completes with an error. */
	if (w->listen_fd >= 0) {
		shutdown(w->listen_fd, SHUT_RDWR);
		close(w->listen_fd);
		w->listen_fd = -1;
	}
	LOGI("draining %u connection(s)", w->nsessions);
}

/* Idle sessions are closed one tick after the listener: a command the
 * kernel had already received when the drain began may still wait in a
 * completion not yet posted (deferred task work runs on the next
 * io_uring_enter), and closing its session now would drop it unanswered.
 * By the next tick it has been seen and the session is busy. */
static void close_idle_sessions(struct worker *w)
{
	w->idle_swept = true;
	for (uint32_t i = 0; i < w->nslots; i++) {
		struct session *s = w->slots[i].s;
		if (s) {
			session_drain(s);
			settle(s);
		}
	}
}

static void on_tick(struct worker *w)
{
	/* A control request whose wake-up message was lost is still seen. */
	ctl_worker_poll(w);
	int drain = atomic_load_explicit(&w->px->drain, memory_order_relaxed);

	if (w->draining && !w->idle_swept)
		close_idle_sessions(w);
	if (drain && !w->draining)
		start_drain(w);
	if (w->draining && (drain == 2 || w->now_us >= w->drain_deadline_us)) {
		/* A command still running is ended with an ERR where the
		 * protocol allows one, which gets a moment to go out; a second
		 * signal cuts at once. */
		for (uint32_t i = 0; i < w->nslots; i++) {
			struct session *s = w->slots[i].s;
			if (!s)
				continue;
			if (drain == 2)
				session_close(s, "second signal");
			else
				session_abort(s, ER_PROXY_SHUTDOWN,
					      "proxy shutting down (drain "
					      "timeout reached)",
					      DRAIN_FLUSH_US);
			settle(s);
		}
	}
	for (unsigned h = 0; h < nhooks; h++)
		if (hooks[h]->on_tick)
			hooks[h]->on_tick(w->hook_state[h], w->now_us);
	/* Only sessions with a deadline (a greeting, a final packet, a
	 * refused command) need the timer; when the pool is low, stalled
	 * sends give their buffers back. */
	bool pool_low = bufring_low(&w->bufs);
	for (uint32_t i = 0; i < w->nslots; i++) {
		struct session *s = w->slots[i].s;
		if (!s)
			continue;
		if (pool_low)
			session_evict_stalled(s);
		if (session_has_deadline(s)) {
			session_tick(s);
			settle(s);
		}
	}
	arm_tick(w);
}

static void dispatch(struct worker *w, struct io_uring_cqe *cqe)
{
	struct udata ud = udata_unpack(io_uring_cqe_get_data64(cqe));
	struct session *s;

	switch (ud.op) {
	case OP_ACCEPT:
		on_accept(w, cqe);
		return;
	case OP_TICK:
		on_tick(w);
		return;
	case OP_CTL:
		ctl_worker_poll(w);
		return;
	default:
		break;
	}
	s = slot_session(w, ud.slot, ud.gen);
	if (!s) {
		/* A session is freed only after its last completion, so this is
		 * a bug; still return the buffer or the pool would shrink. */
		LOGE("completion for a freed session (op %u slot %u)", ud.op,
		     ud.slot);
		if (cqe->flags & IORING_CQE_F_BUFFER)
			bufring_put(&w->bufs,
				    (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
		return;
	}
	switch (ud.op) {
	case OP_CONNECT:
		s->inflight--;
		session_on_connect(s, cqe->res);
		break;
	case OP_CONNECT_TIMEOUT:
		s->inflight--;
		break;
	case OP_RECV:
		session_on_recv(s, ud.side, cqe->res, cqe->flags);
		break;
	case OP_SEND:
		session_on_send(s, ud.side, cqe->res);
		break;
	case OP_CANCEL:
		session_on_cancel(s, cqe->res);
		break;
	case OP_DELAY:
		session_on_delay(s, cqe->res);
		break;
	default:
		LOGE("unknown completion op %u", ud.op);
		return;
	}
	settle(s);
}

static void flush_dirty(struct worker *w)
{
	/* Flushing can close a session (send error) but never adds entries. */
	for (uint32_t i = 0; i < w->ndirty; i++) {
		struct dirty d = w->dirty[i];
		struct session *s = slot_session(w, d.slot, d.gen);
		if (!s)
			continue;
		s->dirty[d.side] = false;
		session_flush(s, d.side);
		settle(s);
	}
	w->ndirty = 0;
}

static void wake_buffer_waiters(struct worker *w)
{
	struct session *list = w->buf_waiters;

	/* Hysteresis: re-arm only when a quarter of the pool is back, so a
	 * starved worker does not thrash between ENOBUFS and re-arming. */
	if (!list || bufring_low(&w->bufs))
		return;
	w->buf_waiters = NULL;
	while (list) {
		struct session *s = list;
		list = s->next_waiter;
		s->next_waiter = NULL;
		session_buffers_back(s);
	}
}

static void loop(struct worker *w)
{
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		int rc;

		rc = io_uring_submit_and_wait(&w->ring, 1);
		if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EBUSY) {
			LOGE("io_uring_submit_and_wait: %s", strerror(-rc));
			break;
		}
		w->now_us = monotonic_us();
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			dispatch(w, cqe);
			n++;
		}
		io_uring_cq_advance(&w->ring, n);
		w->stats.loop_turns++;
		w->stats.completions += n;
		flush_dirty(w);
		bufring_commit(&w->bufs);
		wake_buffer_waiters(w);
		if (w->draining && w->nsessions == 0)
			break;
	}
}

static int setup(struct worker *w)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			 IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP |
			 IORING_SETUP_SUBMIT_ALL,
		.cq_entries = CQ_ENTRIES,
	};
	const struct config *cfg = &w->px->cfg;
	int rc;

	if (w->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (rc) {
			snprintf(w->start_msg, sizeof(w->start_msg),
				 "cannot pin worker %u to CPU %d: %s", w->id,
				 w->cpu, strerror(rc));
			return -rc;
		}
	}
	rc = io_uring_queue_init_params(SQ_ENTRIES, &w->ring, &p);
	if (rc) {
		snprintf(w->start_msg, sizeof(w->start_msg),
			 "io_uring_queue_init: %s (kernel 6.1 or later is needed)",
			 strerror(-rc));
		return rc;
	}
	io_uring_register_ring_fd(&w->ring);
	rc = bufring_init(&w->bufs, &w->ring, 0, cfg->buffers, cfg->buffer_size);
	if (rc) {
		snprintf(w->start_msg, sizeof(w->start_msg),
			 "cannot register %u receive buffers of %u bytes: %s",
			 cfg->buffers, cfg->buffer_size, strerror(-rc));
		return rc;
	}
	w->nslots = cfg->max_conns;
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	if (!w->slots) {
		snprintf(w->start_msg, sizeof(w->start_msg), "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < w->nslots; i++)
		w->slots[i].next_free = i + 1 < w->nslots ? i + 1 : UINT32_MAX;
	w->free_slot = 0;
	w->tick_ts.tv_nsec = TICK_MS * 1000000L;
	w->connect_ts.tv_sec = cfg->connect_timeout_ms / 1000;
	w->connect_ts.tv_nsec = (long long)(cfg->connect_timeout_ms % 1000) * 1000000;
	if (hooks_want_digest) {
		w->digest_cap = cfg->digest_text_max + 1;
		w->digest_buf = malloc(w->digest_cap);
		if (!w->digest_buf) {
			snprintf(w->start_msg, sizeof(w->start_msg), "out of memory");
			return -ENOMEM;
		}
	}
	for (unsigned h = 0; h < nhooks; h++)
		if (hooks[h]->worker_init)
			w->hook_state[h] = hooks[h]->worker_init(hooks[h]->arg, w->id);
	w->now_us = monotonic_us();
	arm_accept(w);
	arm_tick(w);
	return 0;
}

static void teardown(struct worker *w)
{
	for (unsigned h = 0; h < nhooks; h++)
		if (hooks[h]->worker_fini)
			hooks[h]->worker_fini(w->hook_state[h]);
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	bufring_destroy(&w->bufs, &w->ring);
	if (w->ring.ring_fd > 0)
		io_uring_queue_exit(&w->ring);
	free(w->slots);
	free(w->dirty);
	free(w->digest_buf);
}

struct start_ctx {
	struct worker *w;
	sem_t ready;
};

static void *worker_main(void *arg)
{
	struct start_ctx *ctx = arg;
	struct worker *w = ctx->w;

	log_worker = (int)w->id;
	w->start_error = setup(w);
	sem_post(&ctx->ready);          /* ctx is gone after this */
	if (!w->start_error)
		loop(w);
	teardown(w);
	return NULL;
}

int worker_start(struct worker *w)
{
	struct start_ctx ctx = {.w = w};
	int rc;

	sem_init(&ctx.ready, 0, 0);
	rc = pthread_create(&w->thread, NULL, worker_main, &ctx);
	if (rc) {
		snprintf(w->start_msg, sizeof(w->start_msg),
			 "pthread_create: %s", strerror(rc));
		sem_destroy(&ctx.ready);
		return -rc;
	}
	while (sem_wait(&ctx.ready) && errno == EINTR)
		;
	sem_destroy(&ctx.ready);
	return w->start_error;
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

uint64_t stats_sum(const struct proxy *px, size_t offset)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < px->nworkers; i++)
		total += stat_peek((const uint64_t *)((const char *)
						      &px->workers[i].stats + offset));
	return total;
}
