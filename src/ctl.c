/*
 * ctl.c - the control thread (see ctl.h): one io_uring serving the admin
 * and metrics listeners and their few connections, and the requests it
 * sends to the workers.
 *
 * Connections are request/response: input is read, whole requests are
 * answered into an output buffer, and no more input is taken while that
 * buffer is being sent or while a request waits for the workers.  At most
 * one worker request is in flight; admin connections that need one wait
 * their turn.
 */
#include "ctl.h"

#include "admin.h"
#include "checker.h"
#include "intercept.h"
#include "log.h"
#include "metrics.h"
#include "mysql_proto.h"
#include "reload.h"
#include "session.h"
#include "uring.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CTL_CONNS 64
#define CTL_TICK_MS 20
#define ADMIN_IN_MAX ADMIN_MAX_PACKET
#define HTTP_IN_MAX (16u << 10)

enum cop {
	CO_NONE, CO_ACCEPT_ADMIN, CO_ACCEPT_METRICS, CO_RECV, CO_SEND,
	CO_CANCEL, CO_TICK, CO_WORKERS_DONE, CO_MSG,
	CO_CHECK,          /* the health checker's (checker.h) */
};

enum ckind { CK_ADMIN, CK_HTTP };

struct cconn {
	bool used;
	bool closing;
	bool close_after_send;
	uint8_t kind;
	uint16_t gen;
	int fd;
	unsigned inflight;
	bool recv_armed, send_armed;
	enum admin_wait wait;      /* waiting for the workers / a reload */
	bool queued;               /* in line for the worker request slot */
	uint8_t *in;
	size_t in_len, in_cap;
	struct pkt_buf out;
	size_t out_off;
	struct admin_conn *admin;
	char peer[64];
	char reload_msg[640];      /* RELOAD CONFIG's answer */
};

static struct {
	struct proxy *px;
	struct io_uring ring;
	int admin_fd, metrics_fd;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	struct cconn conns[CTL_CONNS];
	struct __kernel_timespec tick_ts;
	uint32_t next_id;
	uint64_t start_s;
	/* The worker request in flight, and whose it is. */
	struct ctl_req *req;
	uint64_t req_seq;
	int req_conn;
	uint16_t req_gen;
	/* Connections waiting for a reload to settle. */
	bool reload_waiters;
} ctl = {.admin_fd = -1, .metrics_fd = -1};

/* ---- worker side ---------------------------------------------------- */

/* The worker's live sessions, copied for SHOW PROCESSLIST. */
static int sessions_snapshot(struct worker *w, struct ctl_result *r)
{
	static const char *const waiting[] = {
		[PH_CONNECTING] = "connecting to the backend",
		[PH_GREETING] = "waiting for the backend's greeting",
		[PH_HANDSHAKE] = "waiting for the client's handshake",
		[PH_AUTH] = "authenticating",
		[PH_LOGIN] = "waiting for the client's handshake",
		[PH_LOGIN_SWITCH] = "authenticating",
		[PH_LOGIN_SYNC] = "checking the schema on a backend",
	};

	r->sessions = calloc(w->nsessions ? w->nsessions : 1,
			     sizeof(*r->sessions));
	if (!r->sessions)
		return -1;
	for (uint32_t i = 0; i < w->nslots && r->nsessions < w->nsessions; i++) {
		struct conn *c = w->slots[i].c;
		const struct session *s = c ? session_of(c) : NULL;
		struct ctl_session *cs;

		if (!s || s->closing)
			continue;
		cs = &r->sessions[r->nsessions++];
		cs->id = s->info.id;
		cs->worker = w->id;
		cs->connection_id = s->pool ? s->conn_id :
				    s->be ? s->be->thread_id : 0;
		cs->backend_thread = s->be ? s->be->thread_id : 0;
		cs->pins = s->pins;
		cs->pooled = s->pool != NULL;
		cs->in_trans = s->in_trans;
		snprintf(cs->user, sizeof(cs->user), "%s", s->info.user);
		snprintf(cs->schema, sizeof(cs->schema), "%s", s->info.schema);
		snprintf(cs->client, sizeof(cs->client), "%s", s->client_addr);
		if (s->phase < PH_COMMAND) {
			cs->command = "Connect";
			cs->state = waiting[s->phase];
		} else if (s->pend_count) {
			const struct pending *p = &s->pend[s->pend_head &
							   (s->pend_cap - 1)];
			cs->command = mysql_command_name(p->cmd);
			cs->state = s->hold & HOLD_BORROW ?
				    "waiting for a backend connection" :
				    s->be && s->be->resp_started ?
				    "sending the response" :
				    "waiting for the backend";
			cs->busy_us = w->now_us - p->start_us;
		} else {
			cs->command = "Sleep";
			cs->state = "";
		}
	}
	return 0;
}

/* The worker's pools, copied for stats.pools and stats.backends. */
static int pools_snapshot(struct worker *w, struct ctl_result *r)
{
	if (!w->npools)
		return 0;
	r->pools = calloc(w->npools, sizeof(*r->pools));
	if (!r->pools)
		return -1;
	for (unsigned i = 0; i < w->npools; i++) {
		const struct pool *p = w->pools[i];
		struct ctl_pool *cp = &r->pools[r->npools++];

		cp->worker = w->id;
		cp->server_idx = p->key.server;
		snprintf(cp->user, sizeof(cp->user), "%.95s", p->user);
		snprintf(cp->server, sizeof(cp->server), "%.79s",
			 p->srv->addr.text);
		cp->max_conns = p->srv->max_conns;
		cp->server_open = atomic_load_explicit(&p->srv->open,
						       memory_order_relaxed);
		cp->charset = p->key.charset;
		cp->idle = p->nidle;
		cp->in_use = p->nlent;
		cp->opening = p->nopening;
		cp->resetting = p->nresetting;
		cp->waiting = p->nwaiters;
		cp->backoff_ms = w->now_us < p->backoff_until_us ?
				 (p->backoff_until_us - w->now_us) / 1000 : 0;
		cp->connect_max_us = p->connect_max_us;
		cp->stats = p->stats;
		snprintf(cp->last_error, sizeof(cp->last_error), "%s",
			 p->last_error);
	}
	return 0;
}

void ctl_worker_poll(struct worker *w)
{
	struct ctl_req *req = atomic_exchange(&w->ctl, NULL);
	int fd;
	uint64_t data;

	if (!req)
		return;
	switch (req->kind) {
	case CTL_SNAPSHOT: {
		struct ctl_result *r = &req->res[w->id];
		r->rc = intercept_snapshot(w->id, &r->rows, &r->live,
					   &r->evictions);
		break;
	}
	case CTL_RESET:
		intercept_reset(w->id);
		break;
	case CTL_LIVE:
		req->res[w->id].rc = sessions_snapshot(w, &req->res[w->id]) ||
				     pools_snapshot(w, &req->res[w->id]);
		break;
	}
	/* Read before the count drops: the request may be freed after. */
	fd = req->notify_fd;
	data = req->notify_data;
	if (atomic_fetch_sub(&req->remaining, 1) == 1 && fd >= 0) {
		struct io_uring_sqe *sqe = uring_sqe(&w->ring);
		io_uring_prep_msg_ring(sqe, fd, 0, data, 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, udata_pack(0, 0, 0, OP_CTL));
	}
}

/* ---- control thread -------------------------------------------------- */

static uint64_t cdata(int slot, uint16_t gen, enum cop op)
{
	return (uint64_t)(uint32_t)slot << 32 | (uint64_t)gen << 16 | op;
}

static void arm_accept(int fd, enum cop op)
{
	struct io_uring_sqe *sqe = uring_sqe(&ctl.ring);

	io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, cdata(0, 0, op));
}

static void arm_tick(void)
{
	struct io_uring_sqe *sqe = uring_sqe(&ctl.ring);

	io_uring_prep_timeout(sqe, &ctl.tick_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, cdata(0, 0, CO_TICK));
}

static int cconn_slot(struct cconn *c)
{
	return (int)(c - ctl.conns);
}

static void cconn_recv(struct cconn *c)
{
	struct io_uring_sqe *sqe;

	if (c->recv_armed || c->closing)
		return;
	if (c->in_cap - c->in_len < 4096) {
		size_t max = c->kind == CK_ADMIN ? ADMIN_IN_MAX + 4096 :
			     HTTP_IN_MAX;
		size_t ncap = c->in_cap ? c->in_cap * 2 : 8192;
		uint8_t *p;
		if (ncap > max)
			ncap = max;
		if (ncap <= c->in_len) {
			c->closing = true;
			return;
		}
		p = realloc(c->in, ncap);
		if (!p) {
			c->closing = true;
			return;
		}
		/* Zeroed: the kernel fills it through the ring, which memcheck
		 * cannot see, so it must not look uninitialised. */
		memset(p + c->in_len, 0, ncap - c->in_len);
		c->in = p;
		c->in_cap = ncap;
	}
	sqe = uring_sqe(&ctl.ring);
	io_uring_prep_recv(sqe, c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	io_uring_sqe_set_data64(sqe, cdata(cconn_slot(c), c->gen, CO_RECV));
	c->recv_armed = true;
	c->inflight++;
}

static void cconn_send(struct cconn *c)
{
	struct io_uring_sqe *sqe;

	if (c->send_armed || c->closing || c->out_off >= c->out.len)
		return;
	sqe = uring_sqe(&ctl.ring);
	io_uring_prep_send(sqe, c->fd, c->out.data + c->out_off,
			   c->out.len - c->out_off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, cdata(cconn_slot(c), c->gen, CO_SEND));
	c->send_armed = true;
	c->inflight++;
}

static void cconn_free(struct cconn *c)
{
	if (c->admin)
		admin_free(c->admin);
	close(c->fd);
	free(c->in);
	pkt_buf_free(&c->out);
	c->used = false;
	c->gen++;
}

static void cconn_close(struct cconn *c)
{
	if (!c->closing) {
		c->closing = true;
		if (c->inflight) {
			struct io_uring_sqe *sqe = uring_sqe(&ctl.ring);
			io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data64(sqe, cdata(cconn_slot(c), c->gen,
							   CO_CANCEL));
			c->inflight++;
		}
	}
	if (c->inflight == 0)
		cconn_free(c);
}

static void on_accept(int fd, enum ckind kind)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct cconn *c = NULL;

	for (int i = 0; i < CTL_CONNS; i++) {
		if (!ctl.conns[i].used) {
			c = &ctl.conns[i];
			break;
		}
	}
	if (!c) {
		LOGW("admin/metrics: more than %d connections; refusing one",
		     CTL_CONNS);
		close(fd);
		return;
	}
	uint16_t gen = c->gen;
	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->used = true;
	c->kind = (uint8_t)kind;
	c->fd = fd;
	pkt_buf_init(&c->out);
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		net_format((struct sockaddr *)&peer, c->peer, sizeof(c->peer));
	else
		snprintf(c->peer, sizeof(c->peer), "unknown");
	if (kind == CK_ADMIN) {
		c->admin = admin_open(ctl.px, ++ctl.next_id, c->peer, ctl.start_s,
				      &c->out);
		if (!c->admin) {
			cconn_close(c);
			return;
		}
		cconn_send(c);
	}
	cconn_recv(c);
}

/* ---- worker requests -------------------------------------------------- */

static void start_request(struct cconn *c, enum ctl_kind kind)
{
	unsigned n = ctl.px->nworkers;
	struct ctl_req *req = calloc(1, sizeof(*req));

	if (req)
		req->res = calloc(n, sizeof(*req->res));
	if (!req || !req->res) {
		free(req);
		admin_resume(c->admin, NULL, 0, "out of memory", -1, &c->out);
		c->wait = AW_NONE;
		cconn_send(c);
		return;
	}
	req->kind = kind;
	atomic_init(&req->remaining, n);
	req->notify_fd = ctl.ring.ring_fd;
	req->notify_data = cdata(0, (uint16_t)++ctl.req_seq, CO_WORKERS_DONE);
	ctl.req = req;
	ctl.req_conn = cconn_slot(c);
	ctl.req_gen = c->gen;
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &ctl.px->workers[i];
		struct io_uring_sqe *sqe;

		atomic_store(&w->ctl, req);
		/* Wake the worker now rather than at its next tick. */
		sqe = uring_sqe(&ctl.ring);
		io_uring_prep_msg_ring(sqe, w->ring.ring_fd, 0,
				       udata_pack(0, 0, 0, OP_CTL), 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, cdata(0, 0, CO_MSG));
	}
}

static void free_request(struct ctl_req *req)
{
	for (unsigned i = 0; i < ctl.px->nworkers; i++) {
		dstat_rows_free(&req->res[i].rows);
		free(req->res[i].sessions);
		free(req->res[i].pools);
	}
	free(req->res);
	free(req);
}

static void process_input(struct cconn *c);

static void next_request(void)
{
	for (int i = 0; i < CTL_CONNS && !ctl.req; i++) {
		struct cconn *c = &ctl.conns[i];
		if (c->used && c->queued && !c->closing) {
			c->queued = false;
			start_request(c, c->wait == AW_RESET ? CTL_RESET :
				      c->wait == AW_LIVE ? CTL_LIVE :
				      CTL_SNAPSHOT);
		}
	}
}

static void request_done(void)
{
	struct ctl_req *req = ctl.req;
	struct cconn *c = &ctl.conns[ctl.req_conn];

	if (!req || atomic_load(&req->remaining))
		return;
	ctl.req = NULL;
	if (c->used && c->gen == ctl.req_gen && !c->closing) {
		admin_resume(c->admin, req->res, ctl.px->nworkers, NULL, 0,
			     &c->out);
		c->wait = AW_NONE;
		cconn_send(c);
		if (c->out_off >= c->out.len)
			process_input(c);
	}
	free_request(req);
	next_request();
}

/* ---- HTTP ------------------------------------------------------------- */

/* A reply to HEAD has the headers a GET would get, Content-Length
 * included, and no body (RFC 9110 9.3.2). */
static void http_reply(struct cconn *c, bool head_only, const char *status,
		       const char *extra_headers, const char *type,
		       const char *body, size_t len)
{
	char head[320];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\n%sContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, extra_headers ? extra_headers : "", type, len);

	pkt_buf_append_raw(&c->out, head, (size_t)n);
	if (!head_only)
		pkt_buf_append_raw(&c->out, body, len);
	c->close_after_send = true;
	cconn_send(c);
}

static void http_text(struct cconn *c, bool head_only, const char *status,
		      const char *extra_headers, const char *text)
{
	http_reply(c, head_only, status, extra_headers, "text/plain", text,
		   strlen(text));
}

static void http_input(struct cconn *c)
{
	char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	char method[8], target[256];
	size_t path_len;
	bool head;

	if (!end) {
		if (c->in_len >= HTTP_IN_MAX - 1)
			http_text(c, false, "431 Request Header Fields Too Large",
				  NULL, "request too large\n");
		return;
	}
	*end = '\0';
	if (sscanf((char *)c->in, "%7s %255s", method, target) != 2) {
		http_text(c, false, "400 Bad Request", NULL, "bad request\n");
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		http_text(c, false, "405 Method Not Allowed",
			  "Allow: GET, HEAD\r\n", "only GET and HEAD\n");
		return;
	}
	/* The query string (/metrics?name[]=...) is accepted and ignored. */
	path_len = strcspn(target, "?");
	if (path_len == 8 && !strncmp(target, "/metrics", 8)) {
		struct strbuf sb = {0};
		/* Rendered for HEAD too: its Content-Length is the body's. */
		metrics_render(ctl.px, ctl.start_s, &sb);
		if (sb.oom)
			http_text(c, head, "500 Internal Server Error", NULL,
				  "out of memory\n");
		else
			http_reply(c, head, "200 OK", NULL,
				   "text/plain; version=0.0.4; charset=utf-8",
				   sb.data, sb.len);
		sb_free(&sb);
		return;
	}
	if (path_len == 1 && target[0] == '/') {
		http_text(c, head, "200 OK", NULL, "myring: metrics at /metrics\n");
		return;
	}
	http_text(c, head, "404 Not Found", NULL, "not found; try /metrics\n");
}

/* ---- admin ------------------------------------------------------------ */

static void admin_input(struct cconn *c)
{
	size_t off = 0;

	while (!c->closing && c->wait == AW_NONE && c->out_off >= c->out.len) {
		uint32_t plen;
		enum admin_wait wait = AW_NONE;

		if (c->in_len - off < MYSQL_HDR_LEN)
			break;
		plen = mysql_get_u24(c->in + off);
		if (plen >= MYSQL_MAX_PAYLOAD || plen > ADMIN_IN_MAX) {
			pkt_buf_reset(&c->out);
			c->out.seq = (uint8_t)(c->in[off + 3] + 1);
			srv_err(&c->out, 1153, "08S01",
				"myring admin: packet too large");
			c->close_after_send = true;
			break;
		}
		if (c->in_len - off < MYSQL_HDR_LEN + plen)
			break;
		if (c->out_off >= c->out.len) {
			pkt_buf_reset(&c->out);
			c->out_off = 0;
		}
		if (admin_packet(c->admin, c->in + off, MYSQL_HDR_LEN + plen,
				 &c->out, &wait))
			c->close_after_send = true;
		off += MYSQL_HDR_LEN + plen;
		c->wait = wait;
		if (wait == AW_SNAPSHOT || wait == AW_RESET ||
		    wait == AW_LIVE) {
			c->queued = true;
			next_request();
		} else if (wait == AW_RELOAD) {
			char msg[600];
			int rc = reload_run(msg, sizeof(msg));
			/* The answer says what the log says: which file, how many
			 * rules, what waits for a restart; or why it was refused. */
			snprintf(c->reload_msg, sizeof(c->reload_msg), "myring: %s",
				 msg);
			if (rc) {
				LOGE("admin %s: RELOAD CONFIG: %s", c->peer, msg);
				admin_resume(c->admin, NULL, 0, c->reload_msg, rc,
					     &c->out);
				c->wait = AW_NONE;
			} else {
				LOGI("admin %s: RELOAD CONFIG: %s", c->peer, msg);
				ctl.reload_waiters = true;
			}
		}
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	cconn_send(c);
	if (c->close_after_send && c->out_off >= c->out.len)
		cconn_close(c);
}

static void process_input(struct cconn *c)
{
	if (c->kind == CK_ADMIN)
		admin_input(c);
	else if (c->out.len == 0)
		http_input(c);
	if (c->used && !c->closing && !c->close_after_send && c->wait == AW_NONE)
		cconn_recv(c);
}

/* Reloads answer once every worker has adopted the new rules. */
static void settle_reloads(void)
{
	if (!ctl.reload_waiters || !reload_settled())
		return;
	ctl.reload_waiters = false;
	for (int i = 0; i < CTL_CONNS; i++) {
		struct cconn *c = &ctl.conns[i];
		if (c->used && !c->closing && c->wait == AW_RELOAD) {
			admin_resume(c->admin, NULL, 0, c->reload_msg, 0, &c->out);
			c->wait = AW_NONE;
			cconn_send(c);
		}
	}
}

static void on_recv(struct cconn *c, int res)
{
	c->recv_armed = false;
	if (c->closing)
		return;
	if (res <= 0) {
		cconn_close(c);
		return;
	}
	c->in_len += (size_t)res;
	process_input(c);
}

static void on_send(struct cconn *c, int res)
{
	c->send_armed = false;
	if (c->closing)
		return;
	if (res < 0) {
		cconn_close(c);
		return;
	}
	c->out_off += (size_t)res;
	if (c->out_off < c->out.len) {
		cconn_send(c);
		return;
	}
	if (c->close_after_send) {
		cconn_close(c);
		return;
	}
	pkt_buf_reset(&c->out);
	c->out_off = 0;
	process_input(c);
}

static void dispatch(struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	enum cop op = (enum cop)(ud & 0xFF);
	int slot = (int)(ud >> 32);
	uint16_t gen = (uint16_t)(ud >> 16);
	struct cconn *c;

	switch (op) {
	case CO_ACCEPT_ADMIN:
	case CO_ACCEPT_METRICS:
		if (cqe->res >= 0)
			on_accept(cqe->res, op == CO_ACCEPT_ADMIN ? CK_ADMIN : CK_HTTP);
		if (!(cqe->flags & IORING_CQE_F_MORE) && !atomic_load(&ctl.stop))
			arm_accept(op == CO_ACCEPT_ADMIN ? ctl.admin_fd :
				   ctl.metrics_fd, op);
		return;
	case CO_TICK:
		if (ctl.req)
			request_done();
		settle_reloads();
		checker_tick();
		if (!atomic_load(&ctl.stop))
			arm_tick();
		return;
	case CO_WORKERS_DONE:
		if (gen == (uint16_t)ctl.req_seq)
			request_done();
		return;
	case CO_MSG:
		if (cqe->res < 0)
			LOGD("control message to a worker: %s", strerror(-cqe->res));
		return;
	case CO_CHECK:
		checker_complete(ud, cqe->res);
		return;
	default:
		break;
	}
	if (slot < 0 || slot >= CTL_CONNS)
		return;
	c = &ctl.conns[slot];
	if (!c->used || c->gen != gen)
		return;
	c->inflight--;
	switch (op) {
	case CO_RECV:
		on_recv(c, cqe->res);
		break;
	case CO_SEND:
		on_send(c, cqe->res);
		break;
	default:
		break;
	}
	if (c->used && c->closing && c->inflight == 0)
		cconn_free(c);
}

static void *ctl_main(void *arg)
{
	log_worker = -2;
	if (ctl.admin_fd >= 0)
		arm_accept(ctl.admin_fd, CO_ACCEPT_ADMIN);
	if (ctl.metrics_fd >= 0)
		arm_accept(ctl.metrics_fd, CO_ACCEPT_METRICS);
	arm_tick();
	while (!atomic_load(&ctl.stop)) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		int rc = io_uring_submit(&ctl.ring);

		if (rc < 0 && rc != -EINTR && rc != -EBUSY) {
			LOGE("control thread: io_uring_submit: %s", strerror(-rc));
			break;
		}
		/* Wait in poll(2) on the ring rather than in io_uring_enter:
		 * valgrind does not treat a waiting io_uring_enter as blocking
		 * and would let this idle thread starve the workers under
		 * memcheck.  The control plane can afford the extra call. */
		if (!io_uring_cq_ready(&ctl.ring)) {
			struct pollfd pfd = {.fd = ctl.ring.ring_fd, .events = POLLIN};
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
				LOGE("control thread: poll: %s", strerror(errno));
				break;
			}
		}
		io_uring_for_each_cqe(&ctl.ring, head, cqe) {
			dispatch(cqe);
			n++;
		}
		io_uring_cq_advance(&ctl.ring, n);
	}
	return NULL;
}

static void close_listeners(void)
{
	if (ctl.admin_fd >= 0)
		close(ctl.admin_fd);
	if (ctl.metrics_fd >= 0)
		close(ctl.metrics_fd);
	ctl.admin_fd = ctl.metrics_fd = -1;
}

static int listen_on(const struct netaddr *addr, const char *what, char *err,
		     size_t errlen)
{
	/* Without SO_REUSEPORT: no other process can join this port. */
	int fd = net_listen(addr, 64, false);

	if (fd < 0) {
		snprintf(err, errlen, "--%s %s: %s%s", what, addr->text,
			 strerror(-fd), fd == -EADDRINUSE ?
			 " (another process listens on this port)" : "");
		return -1;
	}
	LOGI("%s listening on %s", what, addr->text);
	return fd;
}

int ctl_listen(struct proxy *px, const struct netaddr *admin,
	       const struct netaddr *metrics, char *err, size_t errlen)
{
	ctl.px = px;
	ctl.start_s = (uint64_t)time(NULL);
	if (admin) {
		ctl.admin_fd = listen_on(admin, "admin", err, errlen);
		if (ctl.admin_fd < 0)
			return -1;
	}
	if (metrics) {
		ctl.metrics_fd = listen_on(metrics, "metrics", err, errlen);
		if (ctl.metrics_fd < 0) {
			if (ctl.admin_fd >= 0)
				close(ctl.admin_fd);
			ctl.admin_fd = -1;
			return -1;
		}
	}
	return 0;
}

int ctl_start(char *err, size_t errlen)
{
	int rc;

	if (ctl.admin_fd < 0 && ctl.metrics_fd < 0 && !checker_wanted(ctl.px))
		return 0;
	ctl.tick_ts.tv_nsec = CTL_TICK_MS * 1000000L;
	rc = io_uring_queue_init(256, &ctl.ring, 0);
	if (rc) {
		snprintf(err, errlen, "control thread: io_uring_queue_init: %s",
			 strerror(-rc));
		goto fail;
	}
	if (checker_wanted(ctl.px) &&
	    checker_init(ctl.px, &ctl.ring, CO_CHECK)) {
		snprintf(err, errlen, "health checker: out of memory");
		io_uring_queue_exit(&ctl.ring);
		goto fail;
	}
	rc = pthread_create(&ctl.thread, NULL, ctl_main, NULL);
	if (rc) {
		snprintf(err, errlen, "control thread: %s", strerror(rc));
		io_uring_queue_exit(&ctl.ring);
		goto fail;
	}
	ctl.running = true;
	return 0;
fail:
	checker_stop();
	close_listeners();
	return -1;
}

void ctl_stop(void)
{
	if (!ctl.running) {
		close_listeners();
		return;
	}
	atomic_store(&ctl.stop, true);
	pthread_join(ctl.thread, NULL);
	ctl.running = false;
	/* A request the workers are still answering must outlive them
	 * reading it; they answer within a tick. */
	if (ctl.req) {
		for (int i = 0; i < 200 && atomic_load(&ctl.req->remaining); i++)
			usleep(10000);
		if (!atomic_load(&ctl.req->remaining))
			free_request(ctl.req);
		ctl.req = NULL;
	}
	for (int i = 0; i < CTL_CONNS; i++)
		if (ctl.conns[i].used)
			cconn_free(&ctl.conns[i]);
	io_uring_queue_exit(&ctl.ring);
	/* After the ring: its receives wrote into the checker's buffers. */
	checker_stop();
	close_listeners();
}
