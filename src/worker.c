#include "worker.h"

#include "log.h"
#include "ctl.h"
#include "fixed_files.h"
#include "pool.h"
#include "session.h"
#include "session_xa.h"
#include "shard_seq.h"
#include "splice.h"
#include "tls.h"
#include "xprt.h"

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

int32_t worker_take_slot(struct worker *w, struct conn *c)
{
	uint32_t slot = w->free_slot;

	if (slot == UINT32_MAX)
		return -1;
	w->free_slot = w->slots[slot].next_free;
	w->slots[slot].c = c;
	w->nconns++;
	return (int32_t)slot;
}

void worker_free_slot(struct worker *w, uint32_t slot)
{
	struct slot *sl = &w->slots[slot];

	sl->c = NULL;
	sl->gen++;
	sl->next_free = w->free_slot;
	w->free_slot = slot;
	w->nconns--;
}

static struct conn *slot_conn(struct worker *w, uint32_t slot, uint16_t gen)
{
	if (slot >= w->nslots || w->slots[slot].gen != gen)
		return NULL;
	return w->slots[slot].c;
}

/* A growable list of (slot, generation) references: conns to flush or to
 * settle at the end of a turn.  An entry whose conn was freed meanwhile is
 * recognised by its generation and skipped. */
static bool ref_push(struct conn_refs *l, const struct conn *c)
{
	if (l->n == l->cap) {
		uint32_t ncap = l->cap ? l->cap * 2 : 256;
		struct conn_ref *nr = realloc(l->v, ncap * sizeof(*nr));
		if (!nr)
			return false;
		l->v = nr;
		l->cap = ncap;
	}
	l->v[l->n++] = (struct conn_ref){c->slot, c->gen};
	return true;
}

void worker_mark_dirty(struct worker *w, struct conn *c)
{
	if (c->dirty)
		return;
	if (!ref_push(&w->dirty, c)) {
		/* No room to defer: send now, unbatched. */
		conn_flush(c);
		return;
	}
	c->dirty = true;
}

void worker_defer_settle(struct worker *w, struct conn *c)
{
	if (!ref_push(&w->settle, c))
		LOGE("out of memory: a closing connection is released late");
}

void worker_wait_buffers(struct worker *w, struct conn *c)
{
	if (!c->next_waiter && w->buf_waiters != c) {
		c->next_waiter = w->buf_waiters;
		w->buf_waiters = c;
	}
}

void worker_unwait_buffers(struct worker *w, struct conn *c)
{
	struct conn **pp = &w->buf_waiters;

	while (*pp && *pp != c)
		pp = &(*pp)->next_waiter;
	if (*pp)
		*pp = c->next_waiter;
	c->next_waiter = NULL;
}

void worker_wait_xbuffers(struct worker *w, struct conn *c)
{
	if (c->xwaiting)
		return;
	c->xwaiting = true;
	c->next_xwaiter = w->xbuf_waiters;
	w->xbuf_waiters = c;
}

void worker_unwait_xbuffers(struct worker *w, struct conn *c)
{
	struct conn **pp = &w->xbuf_waiters;

	while (*pp && *pp != c)
		pp = &(*pp)->next_xwaiter;
	if (*pp)
		*pp = c->next_xwaiter;
	c->next_xwaiter = NULL;
	c->xwaiting = false;
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
	/* Idle backend connections close now; lent ones with their
	 * sessions. */
	for (unsigned i = 0; i < w->npools; i++)
		pool_shutdown(w->pools[i]);
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
		struct conn *c = w->slots[i].c;
		struct session *s = c ? session_of(c) : NULL;
		if (s)
			session_drain(s);
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
			struct conn *c = w->slots[i].c;
			struct session *s = c ? session_of(c) : NULL;
			struct bconn *b = c && !s ? bconn_of(c) : NULL;
			/* Requests nobody's session waits for (a shard's
			 * answer to a client that left), and connects and
			 * logins that have not ended (a server that does not
			 * answer), end too. */
			if (b && (b->state == BS_REQUESTS ||
				  b->state < BS_IDLE))
				bconn_abort(b, "proxy shutting down");
			if (!s)
				continue;
			if (drain == 2)
				session_close(s, "second signal");
			else
				session_abort(s, ER_PROXY_SHUTDOWN,
					      "proxy shutting down (drain "
					      "timeout reached)",
					      DRAIN_FLUSH_US);
		}
	}
	for (unsigned h = 0; h < nhooks; h++)
		if (hooks[h]->on_tick)
			hooks[h]->on_tick(w->hook_state[h], w->now_us);
	/* In-doubt transactions over shards (worker 0's). */
	xa_recover_tick(w);
	/* Only sessions with a deadline (a greeting, a final packet, a
	 * refused command) need the timer; when the pool is low, stalled
	 * sends give their buffers back. */
	bool pool_low = bufring_low(&w->bufs);
	for (uint32_t i = 0; i < w->nslots; i++) {
		struct conn *c = w->slots[i].c;
		struct session *s;
		struct bconn *b;
		if (!c)
			continue;
		if (pool_low)
			conn_evict_stalled(c);
		s = session_of(c);
		if (s && session_has_deadline(s))
			session_tick(s);
		else if (!s && (b = bconn_of(c)))
			bconn_tick(b);
	}
	for (unsigned i = 0; i < w->npools; i++)
		pool_tick(w->pools[i]);
	pool_publish(w);
	tls_worker_sync(w);
	arm_tick(w);
}

static void dispatch(struct worker *w, struct io_uring_cqe *cqe)
{
	struct udata ud = udata_unpack(io_uring_cqe_get_data64(cqe));
	struct conn *c;

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
	case OP_FILES:
		if (ud.side) {
			/* A removal: its conn is gone. */
			fixed_file_on_remove(cqe->res);
			return;
		}
		break;
	default:
		break;
	}
	c = slot_conn(w, ud.slot, ud.gen);
	if (!c) {
		/* A conn is freed only after its last completion, so this is
		 * a bug; still return the buffer or the pool would shrink. */
		LOGE("completion for a freed connection (op %u slot %u)", ud.op,
		     ud.slot);
		if (cqe->flags & IORING_CQE_F_BUFFER)
			bufring_put(&w->bufs,
				    (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
		return;
	}
	switch (ud.op) {
	case OP_CONNECT:
		conn_on_connect(c, cqe->res);
		break;
	case OP_CONNECT_TIMEOUT:
	case OP_CANCEL:
		conn_on_cancel(c);
		break;
	case OP_RECV:
		conn_on_recv(c, cqe->res, cqe->flags);
		break;
	case OP_SEND:
		conn_on_send(c, cqe->res);
		break;
	case OP_TIMER:
		conn_on_timer(c);
		break;
	case OP_SPLICE:
		splice_on_poll(c, ud.side, cqe->res);
		break;
	case OP_FILES:
		fixed_file_on_install(c, cqe->res);
		break;
	default:
		LOGE("unknown completion op %u", ud.op);
		return;
	}
	conn_settle(c);
}

static void flush_dirty(struct worker *w)
{
	/* Flushing can close a conn (send error) but never adds entries. */
	for (uint32_t i = 0; i < w->dirty.n; i++) {
		struct conn_ref d = w->dirty.v[i];
		struct conn *c = slot_conn(w, d.slot, d.gen);
		if (!c)
			continue;
		c->dirty = false;
		conn_flush(c);
	}
	w->dirty.n = 0;
}

/* Conns closed during the turn with nothing in flight are freed here. */
static void settle_closed(struct worker *w)
{
	for (uint32_t i = 0; i < w->settle.n; i++) {
		struct conn_ref d = w->settle.v[i];
		struct conn *c = slot_conn(w, d.slot, d.gen);
		if (c)
			conn_settle(c);
	}
	w->settle.n = 0;
}

/* Conns whose TLS or decompression stopped for lack of the worker's own
 * buffers go on once a quarter of them is free again. */
static void wake_xbuffer_waiters(struct worker *w)
{
	struct conn *list = w->xbuf_waiters;

	if (!list || w->bufs.nufree < w->bufs.nbufs / 4)
		return;
	w->xbuf_waiters = NULL;
	while (list) {
		struct conn *c = list;
		list = c->next_xwaiter;
		c->next_xwaiter = NULL;
		c->xwaiting = false;
		conn_xbuffers_back(c);
	}
}

static void wake_buffer_waiters(struct worker *w)
{
	struct conn *list = w->buf_waiters;

	/* Hysteresis: re-arm only when a quarter of the pool is back, so a
	 * starved worker does not thrash between ENOBUFS and re-arming. */
	if (!list || bufring_low(&w->bufs))
		return;
	w->buf_waiters = NULL;
	while (list) {
		struct conn *c = list;
		list = c->next_waiter;
		c->next_waiter = NULL;
		conn_buffers_back(c);
	}
}

/*
 * The conns of a batch of completions are touched one after the other,
 * and under load each is cold: a turn at 128 clients carries ~60
 * completions for as many conns, and the first load of each was the
 * hottest instruction of the loop (perf annotate: conn_on_recv's first
 * read of its conn).  Asking for all of them up front lets the misses
 * overlap instead of coming one per completion.  Small batches (a few
 * clients: ~4 per turn) gain nothing and would pay for the extra pass
 * (perf/RESULTS.md, block `ab prefetch`).
 */
enum { PREFETCH_MIN_BATCH = 16 };

static void prefetch_conns(struct worker *w)
{
	struct io_uring_cqe *cqe;
	unsigned head;

	if (io_uring_cq_ready(&w->ring) < PREFETCH_MIN_BATCH)
		return;
	io_uring_for_each_cqe(&w->ring, head, cqe) {
		struct udata ud = udata_unpack(io_uring_cqe_get_data64(cqe));
		struct conn *c = slot_conn(w, ud.slot, ud.gen);

		if (c)
			__builtin_prefetch(c);
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
		prefetch_conns(w);
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			dispatch(w, cqe);
			n++;
		}
		io_uring_cq_advance(&w->ring, n);
		w->stats.loop_turns++;
		w->stats.completions += n;
		flush_dirty(w);
		settle_closed(w);
		bufring_commit(&w->bufs);
		wake_buffer_waiters(w);
		if (w->xbuf_waiters)
			wake_xbuffer_waiters(w);
		/* Sessions first; the pools' connections close after them. */
		if (w->draining && w->nsessions == 0 && w->nconns == 0)
			break;
	}
}

/* What an io_uring set-up error usually means, for the start-up line. */
static const char *ring_hint(int rc)
{
	switch (rc) {
	case -ENOMEM:
		/* Without CAP_IPC_LOCK, recent kernels charge the rings to
		 * RLIMIT_MEMLOCK: about 0.5 MiB per worker here. */
		return " (the locked-memory limit is too low: raise ulimit -l, "
		       "or LimitMEMLOCK= under systemd)";
	case -EPERM:
		return " (io_uring disabled by sysctl kernel.io_uring_disabled "
		       "or by a seccomp filter)";
	default:
		return " (kernel 6.1 or later is needed)";
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
			 "io_uring_queue_init: %s%s", strerror(-rc),
			 ring_hint(rc));
		return rc;
	}
	io_uring_register_ring_fd(&w->ring);
	rc = bufring_init(&w->bufs, &w->ring, 0, cfg->buffers, cfg->buffer_size);
	if (rc) {
		snprintf(w->start_msg, sizeof(w->start_msg),
			 "cannot register %u receive buffers of %u bytes: %s%s",
			 cfg->buffers, cfg->buffer_size, strerror(-rc),
			 rc == -ENOMEM ? ring_hint(rc) : "");
		return rc;
	}
	if (w->px->nservers) {
		w->routed = calloc(SERVERS_MAX, sizeof(*w->routed));
		if (!w->routed) {
			snprintf(w->start_msg, sizeof(w->start_msg),
				 "out of memory");
			return -ENOMEM;
		}
	}
	/* A session takes a slot for its client and one for its backend. */
	w->nslots = cfg->max_conns * 2 + 64;
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	if (!w->slots) {
		snprintf(w->start_msg, sizeof(w->start_msg), "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < w->nslots; i++)
		w->slots[i].next_free = i + 1 < w->nslots ? i + 1 : UINT32_MAX;
	w->free_slot = 0;
	fixed_files_init(w);
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
	xprt_worker_free(w);
	splice_worker_free(w);
	tls_worker_release(w);
	if (w->ring.ring_fd > 0)
		io_uring_queue_exit(&w->ring);
	for (unsigned i = 0; i < w->npools; i++)
		free(w->pools[i]);
	free(w->pools);
	free(w->slots);
	free(w->dirty.v);
	free(w->settle.v);
	free(w->digest_buf);
	effects_scratch_free(&w->effects);
	sql_arena_free(&w->plan_arena);
	shard_seq_free(w);
	/* w->routed stays: the control thread may read it until it stops
	 * (main.c frees it). */
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
