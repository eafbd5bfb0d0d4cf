/*
 * checker.c - the health checker (see checker.h).
 *
 * One connection per server, in one of these states:
 *
 *   IDLE --check due--> CONNECTING --connected--> GREETING --greeting-->
 *     ^                                             LOGIN --OK--> QUERYING
 *     |                                                              |
 *     |   failure, timeout, the server closed it        both answers |
 *     +--- CLOSING <------------------ any state ---                 v
 *          (waits for its operations)              READY <--check due
 *                                                    (QUERYING again)
 *
 * A check is "running" from its start until both answers are in, or
 * until it fails; its deadline is the start plus the interval (the
 * connect phase's, the start plus connect-timeout when shorter).  The
 * receive is armed whenever the connection is open, so a server that
 * closes an idle connection is noticed at once; sends go one at a time
 * from `out`, and what is queued meanwhile waits in `pend`.
 *
 * Who the checks log in as: monitor-user / monitor-password when set;
 * else the first configured user whose password myring knows in
 * plaintext (its backend login when it has one).  Without either, no
 * connection is opened at all (an unanswered handshake would count
 * against the server's max_connect_errors for this host): every check
 * fails at once, saying so.
 */
#include "checker.h"

#include "health.h"
#include "log.h"
#include "mysql_auth_exchange.h"
#include "mysql_proto.h"
#include "mysql_rows.h"
#include "worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHECK_IN_MAX (1u << 20)    /* a larger answer fails the check */

#define CHECK_CAPS                                                             \
	(CLIENT_MYSQL | CLIENT_LONG_FLAG | CLIENT_PROTOCOL_41 |                    \
	 CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS |   \
	 CLIENT_PLUGIN_AUTH | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |              \
	 CLIENT_CONNECT_ATTRS)

static const char q_vars[] = "SELECT @@read_only, @@server_id, "
			     "@@gtid_binlog_pos, @@gtid_slave_pos";
static const char q_slaves[] = "SHOW ALL SLAVES STATUS";

enum ckop { CK_CONNECT = 1, CK_RECV, CK_SEND, CK_CANCEL };

enum cstate {
	CS_IDLE, CS_CONNECTING, CS_GREETING, CS_LOGIN, CS_QUERYING, CS_READY,
	CS_CLOSING,
};

/* What one round of queries found. */
struct found {
	bool have_vars;
	enum server_role role;
	char read_only[16];
	uint32_t server_id;
	char binlog_pos[GTID_POS_MAX];
	char slave_pos[GTID_POS_MAX];
	unsigned nslaves;          /* rows of SHOW ALL SLAVES STATUS */
	bool io_running, sql_running;   /* in every row */
	int64_t lag_ms;            /* the largest; -1 unknown */
	char repl_error[200];      /* the first replication problem */
};

struct check {
	unsigned idx;
	struct backend_server *srv;
	const struct backend_group *g;
	int fd;
	uint16_t gen;
	uint8_t state;             /* enum cstate */
	uint8_t role;              /* last published */
	unsigned inflight;
	bool recv_armed, send_armed;
	uint8_t *in;
	size_t in_len, in_cap;
	struct pkt_buf out, pend;
	size_t out_off;
	struct auth_client *auth;
	struct rows_reader rr;
	struct rows_cell cells[ROWS_MAX_COLS];
	unsigned answers;          /* of the round in progress */
	struct found f;
	bool running;              /* a check is in progress */
	uint64_t started_us, deadline_us, next_us;
	char err[320];             /* why the running check failed */
	struct health_state hs;
};

static struct {
	struct proxy *px;
	struct io_uring *ring;
	uint8_t op;
	struct check *checks;
	unsigned n;                /* slots in use: servers 0..n-1 */
	bool started;
	bool have_login;
	char user[AUTH_NAME_MAX + 1];
	struct auth_secret secret;
	uint8_t attrs[96];
	size_t attrs_len;
} ck;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t interval_ms(const struct check *c)
{
	return c->g->check_interval_ms ? c->g->check_interval_ms :
	       CHECK_INTERVAL_DEFAULT_MS;
}

static uint64_t udata(const struct check *c, enum ckop op)
{
	return (uint64_t)c->idx << 32 | (uint64_t)c->gen << 16 |
	       (uint64_t)op << 8 | ck.op;
}

/* ---- publishing -------------------------------------------------------- */

/* The strings under the sequence count: odd while they are written. */
static void publish_strings(struct server_check *sc, const char *err,
			    const char *gtid)
{
	uint32_t s = atomic_load_explicit(&sc->seq, memory_order_relaxed);

	atomic_store_explicit(&sc->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	snprintf(sc->last_error, sizeof(sc->last_error), "%s", err);
	if (gtid)
		snprintf(sc->gtid_pos, sizeof(sc->gtid_pos), "%s", gtid);
	atomic_store_explicit(&sc->seq, s + 2, memory_order_release);
}

/* Lag and replication threads from the rows of SHOW ALL SLAVES STATUS
 * (gathered in take_slave_row): no row means no replication. */
static void settle_lag(struct found *f)
{
	if (f->nslaves == 0) {
		f->io_running = f->sql_running = false;
		f->lag_ms = f->role == ROLE_PRIMARY ? 0 : -1;
		if (f->role != ROLE_PRIMARY)
			snprintf(f->repl_error, sizeof(f->repl_error),
				 "replication: none configured (SHOW ALL "
				 "SLAVES STATUS is empty)");
	}
}

static void relaxed_store8(_Atomic uint8_t *p, unsigned v)
{
	atomic_store_explicit(p, (uint8_t)v, memory_order_relaxed);
}

/* Whether another server of c's group is a primary whose last check
 * passed. */
static bool primary_passing(const struct check *c)
{
	for (unsigned i = 0; i < ck.n; i++) {
		const struct check *o = &ck.checks[i];

		if (o != c && o->g == c->g && o->role == ROLE_PRIMARY &&
		    o->hs.fails == 0 &&
		    atomic_load_explicit(&o->srv->check.health,
					 memory_order_relaxed) == HEALTH_ONLINE)
			return true;
	}
	return false;
}

/* The running check ends: publish what it found and move the health. */
static void finish(struct check *c, bool ok)
{
	struct server_check *sc = &c->srv->check;
	const char *addr = c->srv->addr.text, *group = c->g->name;
	struct health_policy pol = {
		.fail_checks = c->g->fail_checks,
		.ok_checks = c->g->ok_checks,
		.max_lag_ms = c->g->max_lag_ms,
	};
	struct health_check hc = {.ok = ok};
	uint64_t dur = now_us() - c->started_us;
	uint8_t old;
	enum server_health nh;
	char why[200];

	c->running = false;
	if (ok) {
		settle_lag(&c->f);
		hc.role = c->f.role;
		hc.lag_ms = c->f.lag_ms;
		hc.not_applying = c->f.role == ROLE_REPLICA &&
				  (c->f.nslaves == 0 || !c->f.sql_running);
		/* Receiving nothing (the IO thread reconnecting) while the
		 * primary is down: what the replica applied is the newest
		 * there is, and reads go on there.  While the primary still
		 * passes, an idle IO thread means a growing unknown lag. */
		if (hc.lag_ms < 0 && !hc.not_applying && !c->f.io_running &&
		    !primary_passing(c))
			hc.lag_ms = 0;
		if (c->f.role != c->role) {
			LOGI("health check: server %s (group %s): role %s -> %s "
			     "(read_only=%s)", addr, group, role_name(c->role),
			     role_name(c->f.role), c->f.read_only);
			c->role = (uint8_t)c->f.role;
		}
		relaxed_store8(&sc->role, c->f.role);
		relaxed_store8(&sc->io_running, c->f.io_running);
		relaxed_store8(&sc->sql_running, c->f.sql_running);
		atomic_store_explicit(&sc->lag_ms, c->f.lag_ms,
				      memory_order_relaxed);
		atomic_store_explicit(&sc->server_id, c->f.server_id,
				      memory_order_relaxed);
		publish_strings(sc, c->f.repl_error, c->f.role == ROLE_PRIMARY ?
				c->f.binlog_pos : c->f.slave_pos);
	} else {
		LOGD("health check: server %s (group %s): failed: %s", addr,
		     group, c->err);
		publish_strings(sc, c->err, NULL);
	}
	atomic_store_explicit(&sc->check_us, dur, memory_order_relaxed);
	atomic_fetch_add_explicit(&sc->checks, 1, memory_order_relaxed);
	if (!ok)
		atomic_fetch_add_explicit(&sc->failures, 1,
					  memory_order_relaxed);

	/* What is published wins over what we remember (the two only
	 * differ if someone else wrote it). */
	old = atomic_load_explicit(&sc->health, memory_order_relaxed);
	c->hs.health = old;
	nh = health_next(&c->hs, &hc, &pol, why, sizeof(why));
	if (nh == old ||
	    !atomic_compare_exchange_strong(&sc->health, &old, (uint8_t)nh)) {
		c->hs.health = old;
		return;
	}
	atomic_store_explicit(&sc->since_s, (uint64_t)time(NULL),
			      memory_order_relaxed);
	if (ok && c->f.repl_error[0] && nh == HEALTH_LAGGING)
		LOGI("health check: server %s (group %s): %s -> %s: %s; %s",
		     addr, group, health_name(old), health_name(nh), why,
		     c->f.repl_error);
	else
		LOGI("health check: server %s (group %s): %s -> %s: %s%s%s",
		     addr, group, health_name(old), health_name(nh), why,
		     ok ? "" : "; last: ", ok ? "" : c->err);
}

/* ---- the connection ------------------------------------------------------ */

static void release(struct check *c)
{
	if (c->state != CS_CLOSING || c->inflight)
		return;
	close(c->fd);
	c->fd = -1;
	c->gen++;
	c->state = CS_IDLE;
	c->recv_armed = c->send_armed = false;
	c->in_len = 0;
	pkt_buf_reset(&c->out);
	pkt_buf_reset(&c->pend);
	c->out_off = 0;
	if (c->auth) {
		explicit_bzero(c->auth, sizeof(*c->auth));
		free(c->auth);
		c->auth = NULL;
	}
}

static void close_conn(struct check *c)
{
	if (c->state == CS_IDLE || c->state == CS_CLOSING)
		return;
	c->state = CS_CLOSING;
	if (c->inflight) {
		struct io_uring_sqe *sqe = uring_sqe(ck.ring);
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, udata(c, CK_CANCEL));
		c->inflight++;
	}
	release(c);
}

/* The running check failed: why, then the connection is closed (its
 * stream may be anywhere in a response). */
static void fail(struct check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->running) {
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof(c->err), fmt, ap);
		va_end(ap);
		finish(c, false);
	}
	close_conn(c);
}

static void arm_recv(struct check *c)
{
	struct io_uring_sqe *sqe;

	if (c->recv_armed || c->state == CS_IDLE || c->state == CS_CLOSING)
		return;
	if (c->in_cap - c->in_len < 4096 && c->in_cap < CHECK_IN_MAX) {
		size_t ncap = c->in_cap ? c->in_cap * 2 : 16384;
		uint8_t *p = realloc(c->in, ncap);

		if (!p) {
			fail(c, "out of memory");
			return;
		}
		/* Zeroed: the kernel fills it through the ring, which memcheck
		 * cannot see. */
		memset(p + c->in_len, 0, ncap - c->in_len);
		c->in = p;
		c->in_cap = ncap;
	}
	if (c->in_len == c->in_cap) {
		fail(c, "an answer larger than %u bytes", CHECK_IN_MAX);
		return;
	}
	sqe = uring_sqe(ck.ring);
	io_uring_prep_recv(sqe, c->fd, c->in + c->in_len, c->in_cap - c->in_len,
			   0);
	io_uring_sqe_set_data64(sqe, udata(c, CK_RECV));
	c->recv_armed = true;
	c->inflight++;
}

static void flush(struct check *c)
{
	struct io_uring_sqe *sqe;

	if (c->send_armed || c->state == CS_IDLE || c->state == CS_CLOSING)
		return;
	if (c->out_off >= c->out.len) {
		struct pkt_buf t = c->out;

		/* Sent: what waited goes next (the buffers swap, so neither
		 * is reallocated under a send in flight). */
		pkt_buf_reset(&t);
		c->out = c->pend;
		c->pend = t;
		c->out_off = 0;
		if (!c->out.len)
			return;
	}
	sqe = uring_sqe(ck.ring);
	io_uring_prep_send(sqe, c->fd, c->out.data + c->out_off,
			   c->out.len - c->out_off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, udata(c, CK_SEND));
	c->send_armed = true;
	c->inflight++;
}

/* Queues the packets built in pb (and frees it). */
static void queue(struct check *c, struct pkt_buf *pb)
{
	struct pkt_buf *dst = c->send_armed ? &c->pend : &c->out;

	if (pb->oom) {
		pkt_buf_free(pb);
		fail(c, "out of memory");
		return;
	}
	if (!c->send_armed && c->out_off >= c->out.len) {
		pkt_buf_reset(&c->out);
		c->out_off = 0;
	}
	pkt_buf_append_raw(dst, pb->data, pb->len);
	pkt_buf_free(pb);
	if (dst->oom) {
		fail(c, "out of memory");
		return;
	}
	flush(c);
}

static void send_queries(struct check *c)
{
	struct pkt_buf pb;

	pkt_buf_init(&pb);
	c->state = CS_QUERYING;
	c->answers = 0;
	memset(&c->f, 0, sizeof(c->f));
	rows_init(&c->rr, false);
	pkt_buf_packet2(&pb, "\x03", 1, q_vars, sizeof(q_vars) - 1);
	pb.seq = 0;
	pkt_buf_packet2(&pb, "\x03", 1, q_slaves, sizeof(q_slaves) - 1);
	queue(c, &pb);
}

static void open_conn(struct check *c)
{
	const struct netaddr *a = &c->srv->addr;
	struct io_uring_sqe *sqe;

	/* The two queries leave in one send; answers come back as written. */
	c->fd = net_connect_socket(a, true);
	if (c->fd < 0) {
		int e = -c->fd;
		c->fd = -1;
		fail(c, "socket: %s", strerror(e));
		return;
	}
	c->state = CS_CONNECTING;
	sqe = uring_sqe(ck.ring);
	io_uring_prep_connect(sqe, c->fd, (const struct sockaddr *)&a->ss, a->len);
	io_uring_sqe_set_data64(sqe, udata(c, CK_CONNECT));
	c->inflight++;
}

/* ---- the exchange -------------------------------------------------------- */

static void login_result(struct check *c, enum auth_result r,
			 struct pkt_buf *pb)
{
	struct auth_client *ac = c->auth;

	switch (r) {
	case AUTH_CONTINUE:
		queue(c, pb);
		return;
	case AUTH_DONE:
		explicit_bzero(ac, sizeof(*ac));
		free(ac);
		c->auth = NULL;
		queue(c, pb);
		if (c->state == CS_LOGIN)
			send_queries(c);
		return;
	case AUTH_FAILED:
		pkt_buf_free(pb);
		fail(c, "login as '%s' refused: %u %s", ck.user, ac->err_code,
		     ac->err_msg);
		return;
	}
}

static void greeting(struct check *c, const uint8_t *p, uint32_t len)
{
	struct auth_client_params params = {
		.user = ck.user,
		.secret = &ck.secret,
		.caps = CHECK_CAPS,
		.max_packet = 1u << 24,
		.charset = 45,             /* utf8mb4_general_ci */
		.attrs = ck.attrs,
		.attrs_len = ck.attrs_len,
	};
	struct mysql_greeting g;
	struct pkt_buf pb;

	if (len && p[0] == 0xFF) {
		struct mysql_err e;
		if (mysql_parse_err(p, len, &e) == 0)
			fail(c, "the server refused the connection: %u %.*s",
			     e.code, (int)e.message.len, e.message.ptr);
		else
			fail(c, "the server refused the connection");
		return;
	}
	if (mysql_parse_greeting(p, len, &g) || g.protocol != 10) {
		fail(c, "malformed greeting");
		return;
	}
	c->auth = calloc(1, sizeof(*c->auth));
	if (!c->auth) {
		fail(c, "out of memory");
		return;
	}
	/* Connected: the rest of the check has until the interval ends. */
	c->deadline_us = c->started_us + (uint64_t)interval_ms(c) * 1000u;
	c->state = CS_LOGIN;
	pkt_buf_init(&pb);
	login_result(c, auth_client_handshake(c->auth, p, len, &params, &pb),
		     &pb);
}

static void copy_cell(char *dst, size_t cap, const struct rows_cell *cell)
{
	snprintf(dst, cap, "%.*s", cell->null ? 0 : (int)cell->len, cell->ptr);
}

static void take_vars_row(struct check *c)
{
	const struct rows_cell *v = c->cells;
	uint64_t id;

	if (c->rr.ncols != 4)
		return;
	copy_cell(c->f.read_only, sizeof(c->f.read_only), &v[0]);
	/* 0/1; OFF/ON/NO_LOCK... where read_only is an enum (MariaDB 11). */
	c->f.role = rows_cell_is(&v[0], "0") || rows_cell_is(&v[0], "OFF") ?
		    ROLE_PRIMARY : ROLE_REPLICA;
	c->f.server_id = rows_cell_u64(&v[1], &id) == 0 ? (uint32_t)id : 0;
	copy_cell(c->f.binlog_pos, sizeof(c->f.binlog_pos), &v[2]);
	copy_cell(c->f.slave_pos, sizeof(c->f.slave_pos), &v[3]);
	c->f.have_vars = true;
}

static const struct rows_cell *cell_named(struct check *c, const char *name)
{
	int i = rows_column(&c->rr, name);

	return i < 0 ? NULL : &c->cells[i];
}

/* One replication connection (multi-source: one row each).  The server's
 * lag is the worst of them; any thread stopped makes it unknown. */
static void take_slave_row(struct check *c)
{
	const struct rows_cell *io = cell_named(c, "Slave_IO_Running");
	const struct rows_cell *sql = cell_named(c, "Slave_SQL_Running");
	const struct rows_cell *sbm = cell_named(c, "Seconds_Behind_Master");
	const struct rows_cell *io_err = cell_named(c, "Last_IO_Error");
	const struct rows_cell *sql_err = cell_named(c, "Last_SQL_Error");
	const struct rows_cell *name = cell_named(c, "Connection_name");
	struct found *f = &c->f;
	bool io_ok = io && rows_cell_is(io, "Yes");
	bool sql_ok = sql && rows_cell_is(sql, "Yes");
	uint64_t secs;

	if (f->nslaves++ == 0) {
		f->io_running = f->sql_running = true;
		f->lag_ms = 0;
	}
	f->io_running &= io_ok;
	f->sql_running &= sql_ok;
	if (!io_ok || !sql_ok || !sbm || rows_cell_u64(sbm, &secs)) {
		f->lag_ms = -1;
	} else if (f->lag_ms >= 0 && (int64_t)(secs * 1000) > f->lag_ms) {
		f->lag_ms = (int64_t)(secs * 1000);
	}
	if (f->repl_error[0] || (io_ok && sql_ok && f->lag_ms >= 0))
		return;
	{
		const struct rows_cell *which = !sql_ok ? sql : !io_ok ? io : sbm;
		const struct rows_cell *msg = !sql_ok ? sql_err :
					      !io_ok ? io_err : NULL;
		const char *what = !sql_ok ? "Slave_SQL_Running" :
				   !io_ok ? "Slave_IO_Running" :
				   "Seconds_Behind_Master";
		int nlen = name && !name->null ? (int)name->len : 0;

		snprintf(f->repl_error, sizeof(f->repl_error),
			 "replication%s%.*s%s: %s=%.*s%s%.*s",
			 nlen ? " '" : "", nlen, nlen ? name->ptr : "",
			 nlen ? "'" : "", what,
			 which && !which->null ? (int)which->len : 4,
			 which && !which->null ? which->ptr : "NULL",
			 msg && !msg->null && msg->len ? ": " : "",
			 msg && !msg->null ? (int)msg->len : 0,
			 msg && !msg->null ? msg->ptr : "");
	}
}

static void answer_packet(struct check *c, const uint8_t *p, uint32_t len)
{
	const char *q = c->answers == 0 ? q_vars : q_slaves;

	switch (rows_feed(&c->rr, p, len, c->cells)) {
	case ROWS_MORE:
		return;
	case ROWS_ROW:
		if (c->answers == 0)
			take_vars_row(c);
		else
			take_slave_row(c);
		return;
	case ROWS_ERR:
		/* The other answer still comes: read it, keep the connection. */
		if (!c->err[0])
			snprintf(c->err, sizeof(c->err), "%s: %u %.200s", q,
				 c->rr.err_code, c->rr.err_msg);
		break;
	case ROWS_DONE:
		if (c->answers == 0 && !c->f.have_vars && !c->err[0])
			snprintf(c->err, sizeof(c->err), "%s: no row of 4 "
				 "columns", q);
		break;
	case ROWS_BAD:
		fail(c, "cannot read the answer to %s", q);
		return;
	}
	if (++c->answers < 2) {
		rows_init(&c->rr, false);
		return;
	}
	c->state = CS_READY;
	if (c->running)
		finish(c, c->err[0] == '\0');
}

/* One whole packet from the server. */
static void packet(struct check *c, const uint8_t *p, uint32_t len)
{
	struct pkt_buf pb;

	switch (c->state) {
	case CS_GREETING:
		greeting(c, p, len);
		break;
	case CS_LOGIN:
		pkt_buf_init(&pb);
		login_result(c, auth_client_packet(c->auth, p, len, &pb), &pb);
		break;
	case CS_QUERYING:
		answer_packet(c, p, len);
		break;
	default: {
		/* Between checks: the server kills the connection (ERR 1927
		 * at shutdown, say).  The next check opens another. */
		struct mysql_err e;
		if (mysql_parse_err(p, len, &e) == 0)
			LOGD("health check: server %s: %u %.*s", c->srv->addr.text,
			     e.code, (int)e.message.len, e.message.ptr);
		close_conn(c);
		break;
	}
	}
}

static void on_recv(struct check *c, int res)
{
	size_t off = 0;

	c->recv_armed = false;
	if (c->state == CS_CLOSING)
		return;
	if (res <= 0) {
		if (res == 0)
			fail(c, "the server closed the connection");
		else
			fail(c, "recv: %s", strerror(-res));
		return;
	}
	c->in_len += (size_t)res;
	while (c->in_len - off >= MYSQL_HDR_LEN) {
		uint32_t len = mysql_get_u24(c->in + off);

		if (len >= MYSQL_MAX_PAYLOAD) {
			fail(c, "a packet of 16 MiB or more");
			return;
		}
		if (c->in_len - off < MYSQL_HDR_LEN + len)
			break;
		packet(c, c->in + off + MYSQL_HDR_LEN, len);
		if (c->state == CS_CLOSING || c->state == CS_IDLE)
			return;
		off += MYSQL_HDR_LEN + len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	arm_recv(c);
}

static void on_send(struct check *c, int res)
{
	c->send_armed = false;
	if (c->state == CS_CLOSING)
		return;
	if (res < 0) {
		fail(c, "send: %s", strerror(-res));
		return;
	}
	c->out_off += (size_t)res;
	flush(c);
}

static void on_connect(struct check *c, int res)
{
	if (c->state == CS_CLOSING)
		return;
	if (res < 0) {
		fail(c, "connect: %s", strerror(-res));
		return;
	}
	c->state = CS_GREETING;
	arm_recv(c);
}

void checker_complete(uint64_t ud, int res)
{
	unsigned idx = (unsigned)(ud >> 32);
	uint16_t gen = (uint16_t)(ud >> 16);
	enum ckop op = (enum ckop)((ud >> 8) & 0xFF);
	struct check *c;

	if (idx >= ck.n)
		return;
	c = &ck.checks[idx];
	/* The generation moves on only once nothing is in flight: a
	 * completion of an older connection cannot arrive. */
	if (c->gen != gen || !c->inflight)
		return;
	c->inflight--;
	switch (op) {
	case CK_CONNECT:
		on_connect(c, res);
		break;
	case CK_RECV:
		on_recv(c, res);
		break;
	case CK_SEND:
		on_send(c, res);
		break;
	default:
		break;
	}
	release(c);
}

/* ---- checks ---------------------------------------------------------- */

static void start_check(struct check *c, uint64_t now)
{
	uint32_t iv = interval_ms(c);
	uint32_t connect_ms = ck.px->cfg.connect_timeout_ms;

	c->running = true;
	c->started_us = now;
	c->next_us = now + (uint64_t)iv * 1000u;
	c->err[0] = '\0';
	if (!ck.have_login) {
		snprintf(c->err, sizeof(c->err), "no monitor credentials: set "
			 "monitor-user and monitor-password");
		finish(c, false);
		return;
	}
	c->deadline_us = now + (uint64_t)iv * 1000u;
	if (c->state == CS_READY) {
		send_queries(c);
		return;
	}
	if (connect_ms && connect_ms < iv)
		c->deadline_us = now + (uint64_t)connect_ms * 1000u;
	open_conn(c);
}

static const char *phase(const struct check *c)
{
	switch (c->state) {
	case CS_CONNECTING: return "connecting";
	case CS_GREETING: return "waiting for the greeting";
	case CS_LOGIN: return "logging in";
	default: return "waiting for the answers";
	}
}

/* Slot i watches server i from now on (at start, or added by a reload:
 * groups_reload_apply publishes the server before the count). */
static void adopt(unsigned i, uint64_t now)
{
	struct check *c = &ck.checks[i];
	struct server_check *sc;

	c->idx = i;
	c->srv = &ck.px->servers[i];
	c->g = &ck.px->groups[c->srv->group];
	c->fd = -1;
	c->next_us = now;
	pkt_buf_init(&c->out);
	pkt_buf_init(&c->pend);
	sc = &c->srv->check;
	c->hs.health = atomic_load(&sc->health);
	c->role = atomic_load(&sc->role);
	if (!atomic_load(&sc->since_s))
		atomic_store(&sc->since_s, (uint64_t)time(NULL));
}

static void adopt_added(uint64_t now)
{
	unsigned n = atomic_load_explicit(&ck.px->nservers,
					  memory_order_acquire);

	for (; ck.n < n && ck.n < SERVERS_MAX; ck.n++) {
		adopt(ck.n, now);
		if (ck.started)
			LOGI("health checks: server %s (group %s) added",
			     ck.checks[ck.n].srv->addr.text,
			     ck.checks[ck.n].g->name);
	}
}

void checker_tick(void)
{
	uint64_t now = now_us();

	if (!ck.checks)            /* no checks here (checker_wanted) */
		return;
	adopt_added(now);
	for (unsigned i = 0; i < ck.n; i++) {
		struct check *c = &ck.checks[i];

		/* Removed by a reload: not checked while it drains (named
		 * again, it is checked again from its last health on). */
		if (atomic_load_explicit(&c->srv->draining,
					 memory_order_relaxed)) {
			c->running = false;
			close_conn(c);
			continue;
		}
		if (c->running && now >= c->deadline_us)
			fail(c, "timed out after %llu ms %s",
			     (unsigned long long)(now - c->started_us) / 1000,
			     phase(c));
		if (!c->running && now >= c->next_us && c->state != CS_CLOSING)
			start_check(c, now);
	}
}

/* ---- set-up -------------------------------------------------------------- */

/* Who the checks log in as (see the top of this file). */
static void choose_login(const struct config *cfg)
{
	if (cfg->monitor_user) {
		const char *pw = cfg->monitor_password ? cfg->monitor_password : "";

		snprintf(ck.user, sizeof(ck.user), "%s", cfg->monitor_user);
		ck.have_login = auth_secret_set_password(&ck.secret, pw,
							 strlen(pw)) == 0;
		return;
	}
	if (cfg->monitor_password)
		LOGW("health checks: monitor-password without monitor-user is "
		     "ignored");
	for (unsigned i = 0; i < cfg->nusers; i++) {
		const struct auth_user *u = &cfg->users[i];

		if (u->backend_explicit &&
		    (u->backend_secret.know & AUTH_KNOW_PLAIN)) {
			snprintf(ck.user, sizeof(ck.user), "%s",
				 u->backend_user[0] ? u->backend_user : u->name);
			ck.secret = u->backend_secret;
			ck.have_login = true;
			return;
		}
		if (!u->backend_explicit && (u->have & AUTH_USER_PLAIN)) {
			snprintf(ck.user, sizeof(ck.user), "%s", u->name);
			ck.secret = u->secret;
			ck.have_login = true;
			return;
		}
	}
}

bool checker_wanted(const struct proxy *px)
{
	return px->cfg.auth == AUTH_PROXY &&
	       (px->cfg.ngroups > 0 || px->nservers > 1);
}

int checker_init(struct proxy *px, struct io_uring *ring, uint8_t op)
{
	uint64_t now = now_us();

	checker_stop();
	ck.px = px;
	ck.ring = ring;
	ck.op = op;
	/* Room for every server a reload may add (groups.h). */
	ck.checks = calloc(SERVERS_MAX, sizeof(*ck.checks));
	if (!ck.checks)
		return -1;
	ck.n = 0;
	adopt_added(now);
	ck.started = true;
	choose_login(&px->cfg);
	/* Named in the server's connection attributes, for its DBAs. */
	ck.attrs_len = 0;
	auth_attr_put(ck.attrs, sizeof(ck.attrs), &ck.attrs_len, "_client_name",
		      "myring");
	auth_attr_put(ck.attrs, sizeof(ck.attrs), &ck.attrs_len, "program_name",
		      "myring health check");
	if (!ck.n)
		return 0;
	if (ck.have_login)
		LOGI("health checks: %u server(s), logging in as '%s'", ck.n,
		     ck.user);
	else
		LOGW("health checks: no monitor credentials: set monitor-user "
		     "and monitor-password (no configured user has a plaintext "
		     "password); every check fails");
	return 0;
}

void checker_stop(void)
{
	for (unsigned i = 0; i < ck.n; i++) {
		struct check *c = &ck.checks[i];

		if (c->fd >= 0)
			close(c->fd);
		free(c->in);
		pkt_buf_free(&c->out);
		pkt_buf_free(&c->pend);
		if (c->auth) {
			explicit_bzero(c->auth, sizeof(*c->auth));
			free(c->auth);
		}
	}
	free(ck.checks);
	ck.checks = NULL;
	ck.n = 0;
	ck.started = false;
	explicit_bzero(&ck.secret, sizeof(ck.secret));
	ck.have_login = false;
}
