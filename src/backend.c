/*
 * backend.c - myring's own connections to a server: connect, greeting,
 * login, set-up, and the requests myring sends on its own behalf (state
 * replay, resets), whose responses are read here and never forwarded.
 * See backend.h for the life of a connection.
 */
#include "backend.h"

#include "backend_tls.h"
#include "log.h"
#include "mysql_proto.h"
#include "tls.h"
#include "worker.h"

#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The error a request of myring's own ends with when its connection
 * fails (MariaDB's ER_CONNECTION_KILLED, 08S01). */
#define ER_CONNECTION_LOST 1927

/* myring's own exchanges are small: OK, ERR, a greeting. */
#define BCONN_ASM_MAX (1u << 20)
#define BCONN_ASM_ROWS_MAX (MYSQL_MAX_PAYLOAD + (1u << 20))

/*
 * What myring asks of a server it logs into itself.  CLIENT_SESSION_TRACK
 * makes every OK say what changed in the session, which is how myring
 * knows a client's session state exactly; the rest is what every client
 * of the pool shares (a pool's key adds the capabilities that change a
 * response's layout, see pool.c).
 */
#define BCONN_CAPS                                                             \
	(CLIENT_MYSQL | CLIENT_LONG_FLAG | CLIENT_PROTOCOL_41 |                    \
	 CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS |   \
	 CLIENT_PS_MULTI_RESULTS | CLIENT_PLUGIN_AUTH |                            \
	 CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_SESSION_TRACK)

/* Run once after login: the session trackers that make OK packets carry
 * the session's state changes. */
static const char setup_sql[] = MYSQL_STATE_TRACKING_SQL;

static const struct conn_ops bconn_ops;

static void fail(struct bconn *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct bconn *b, const char *fmt, ...)
{
	char why[300];
	va_list ap;

	if (b->failed)
		return;
	b->failed = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	conn_close(&b->c);
	/* Requests run for someone (a session's replay, the pool's reset):
	 * they hear it; otherwise the owner, whose connect or login it was. */
	if (b->state == BS_REQUESTS && b->req_done) {
		bconn_done_fn *done = b->req_done;
		b->req_done = NULL;
		b->nreq = 0;
		memcpy(b->req_state, "08S01", 6);
		done(b, ER_CONNECTION_LOST, why);
		return;
	}
	b->owner->failed(b, why);
}

void bconn_free(struct conn *c)
{
	struct bconn *b = c->owner;

	conn_release(c);
	b->owner->gone(b);
	if (b->auth) {
		explicit_bzero(b->auth, sizeof(*b->auth));
		free(b->auth);
	}
	mysql_state_free(&b->st);
	stmt_cache_free(&b->stc);
	free(b->kept);
	free(b->cap);
	free(b->asm_buf);
	free(b);
}

void bconn_abort(struct bconn *b, const char *why)
{
	fail(b, "%s", why);
}

void bconn_close(struct bconn *b)
{
	b->state = BS_CLOSING;
	conn_close(&b->c);
}

void bconn_state_fresh(struct bconn *b)
{
	char schema[MYSQL_STATE_MAX_SCHEMA + 1];
	size_t len = b->st.has_schema ? b->st.schema_len : 0;

	memcpy(schema, b->st.schema, len);
	mysql_state_free(&b->st);
	mysql_state_init(&b->st);
	mysql_state_seed_charset(&b->st, b->login->charset);
	b->st.multi_statements = (b->login->caps & CLIENT_MULTI_STATEMENTS) != 0;
	if (len)
		mysql_state_set_schema(&b->st, schema, len);
}

int bconn_setup_request(struct bconn *b)
{
	uint8_t q[sizeof(setup_sql)];

	q[0] = COM_QUERY;
	memcpy(q + 1, setup_sql, sizeof(setup_sql) - 1);
	return bconn_request(b, q, sizeof(q), RESP_RESULT);
}

void bconn_take_back(struct bconn *b)
{
	b->c.ops = &bconn_ops;
	b->link = NULL;
	b->c.partner = NULL;
	conn_resume(&b->c, PAUSE_BACKPRESSURE | PAUSE_OWNER);
}

struct bconn *bconn_open(struct worker *w, const struct backend_server *srv,
			 const struct bconn_login *login,
			 const struct bconn_owner_ops *owner, void *pool)
{
	const struct netaddr *addr = &srv->addr;
	struct bconn *b = calloc(1, sizeof(*b));
	int fd;

	if (!b)
		return NULL;
	fd = net_connect_socket(addr, true);
	if (fd < 0) {
		free(b);
		return NULL;
	}
	if (conn_open(w, &b->c, fd, &bconn_ops, b)) {
		close(fd);
		free(b);
		return NULL;
	}
	b->owner = owner;
	b->pool = pool;
	b->login = login;
	b->srv = srv;
	b->addr = addr;
	mysql_state_init(&b->st);
	bconn_state_fresh(b);
	if (stmt_cache_init(&b->stc, BCONN_STMT_CACHE)) {
		conn_release(&b->c);
		free(b);
		return NULL;
	}
	b->state = BS_CONNECTING;
	b->created_us = w->now_us;
	b->deadline_us = w->now_us +
			 (uint64_t)w->px->cfg.connect_timeout_ms * 1000u;
	conn_connect(&b->c, (const struct sockaddr *)&addr->ss, addr->len,
		     &w->connect_ts);
	return b;
}

struct bconn *bconn_of(struct conn *c)
{
	return c->ops == &bconn_ops ? c->owner : NULL;
}

void bconn_tick(struct bconn *b)
{
	if (b->state < BS_IDLE && !b->c.closing &&
	    b->c.w->now_us >= b->deadline_us)
		fail(b, b->state == BS_CONNECTING ? "connect timed out" :
		     b->state == BS_GREETING ? "no greeting in time" :
		     "login took too long");
}

static void on_connect(struct conn *c, int res)
{
	struct bconn *b = c->owner;

	if (res < 0) {
		fail(b, "%s", res == -ECANCELED ? "connect timed out" :
		     strerror(-res));
		return;
	}
	c->w->stats.backend_connects++;
	b->state = BS_GREETING;
	conn_arm_recv(c);
}

/* ---- packets myring writes ------------------------------------------ */

static int send_packet(struct bconn *b, uint8_t seq, const void *payload,
		       size_t len)
{
	uint8_t *pkt = malloc(MYSQL_HDR_LEN + len);

	if (!pkt || len >= MYSQL_MAX_PAYLOAD) {
		free(pkt);
		fail(b, "out of memory");
		return -1;
	}
	mysql_put_header(pkt, (uint32_t)len, seq);
	memcpy(pkt + MYSQL_HDR_LEN, payload, len);
	return conn_queue(&b->c, pkt, (uint32_t)(MYSQL_HDR_LEN + len), -1, pkt);
}

/* Sends what the login exchange wrote (sequence ids included). */
static int send_packets(struct bconn *b, struct pkt_buf *pb)
{
	if (pb->oom) {
		pkt_buf_free(pb);
		fail(b, "out of memory");
		return -1;
	}
	if (!pb->len) {
		pkt_buf_free(pb);
		return 0;
	}
	return conn_queue(&b->c, pb->data, (uint32_t)pb->len, -1, pb->data);
}

/* ---- myring's own requests ------------------------------------------ */

int bconn_request(struct bconn *b, const void *payload, size_t len,
		  enum mysql_resp_kind kind)
{
	if (b->nreq == BCONN_MAX_REQS)
		return -1;
	if (send_packet(b, 0, payload, len))
		return -1;
	b->req_kind[(b->req_head + b->nreq++) % BCONN_MAX_REQS] = (uint8_t)kind;
	return 0;
}

static void start_request(struct bconn *b)
{
	mysql_tracker_start(&b->trk,
			    (enum mysql_resp_kind)b->req_kind[b->req_head],
			    (b->caps & CLIENT_DEPRECATE_EOF) != 0);
}

void bconn_run(struct bconn *b, bconn_done_fn *done)
{
	b->req_done = done;
	b->req_err = 0;
	b->req_msg[0] = '\0';
	memcpy(b->req_state, "00000", 6);
	if (b->state != BS_SETUP)
		b->state = BS_REQUESTS;
	b->c.ops = &bconn_ops;
	if (b->nreq == 0) {
		done(b, 0, NULL);
		return;
	}
	start_request(b);
	conn_arm_recv(&b->c);
}

static void setup_done(struct bconn *b, uint16_t err, const char *msg)
{
	if (err) {
		fail(b, "setting up the session trackers: %u %s", err, msg);
		return;
	}
	b->owner->ready(b);
}

/* One whole response packet of a request of myring's own. */
static void request_packet(struct bconn *b, const uint8_t *pkt, uint32_t len)
{
	struct mysql_frame f = {
		.len = len,
		.seq = 0,
		.start_in_buf = true,
		.whole = true,
		.peek = pkt,
		.peek_len = len < MYSQL_PEEK ? len : MYSQL_PEEK,
	};

	if (b->nreq == 0) {
		fail(b, "the server sent a packet nobody asked for");
		return;
	}
	if (b->sink && b->nreq == 1)
		b->sink(b->sink_ctx, pkt, len);
	switch (mysql_tracker_feed(&b->trk, &f)) {
	case TRACK_MORE:
		return;
	case TRACK_DONE:
		break;
	default:
		fail(b, "cannot follow the response to myring's own request");
		return;
	}
	b->status = b->trk.status;
	if (b->trk.err_code && !b->req_err) {
		struct mysql_err e;
		b->req_err = b->trk.err_code;
		memcpy(b->req_state, "HY000", 6);
		if (mysql_parse_err(pkt, len, &e) == 0) {
			snprintf(b->req_msg, sizeof(b->req_msg), "%.*s",
				 (int)e.message.len, e.message.ptr);
			memcpy(b->req_state, e.sqlstate, 6);
		}
	}
	b->req_head = (uint8_t)((b->req_head + 1) % BCONN_MAX_REQS);
	if (--b->nreq) {
		start_request(b);
		return;
	}
	bconn_done_fn *done = b->req_done;
	b->req_done = NULL;
	done(b, b->req_err, b->req_msg);
}

/* ---- connection phase ------------------------------------------------ */

static void login_result(struct bconn *b, enum auth_result r,
			 struct pkt_buf *pb)
{
	struct auth_client *ac = b->auth;

	if (send_packets(b, pb))
		return;
	switch (r) {
	case AUTH_CONTINUE:
		b->state = BS_LOGIN;
		return;
	case AUTH_DONE:
		b->caps = ac->caps;
		explicit_bzero(ac, sizeof(*ac));
		free(ac);
		b->auth = NULL;
		b->state = BS_SETUP;
		if (bconn_setup_request(b) == 0)
			bconn_run(b, setup_done);
		return;
	case AUTH_FAILED:
		fail(b, "login as '%s' refused: %u %s", b->login->user,
		     ac->err_code, ac->err_msg);
		return;
	}
}

static void greeting(struct bconn *b, const uint8_t *p, uint32_t len)
{
	const struct bconn_login *l = b->login;
	struct auth_client_params params = {
		.user = l->user,
		.secret = l->secret,
		.caps = BCONN_CAPS | l->caps,
		.max_packet = 1u << 30,
		.charset = l->charset,
	};
	/* The server's settings as they are now: a reload may have changed
	 * them since the connect. */
	unsigned slot = atomic_load_explicit(&b->srv->tls_slot,
					     memory_order_acquire);
	uint8_t mode;
	SSL_CTX *ctx = tls_backend_ctx(b->c.w, slot, &mode);
	struct mysql_greeting g;
	struct pkt_buf pb;
	bool tls = false;

	if (len && p[0] == 0xFF) {
		struct mysql_err e;
		if (mysql_parse_err(p, len, &e) == 0)
			fail(b, "the server refused the connection: %u %.*s",
			     e.code, (int)e.message.len, e.message.ptr);
		else
			fail(b, "the server refused the connection");
		return;
	}
	if (mysql_parse_greeting(p, len, &g) || g.protocol != 10) {
		fail(b, "malformed greeting");
		return;
	}
	b->thread_id = g.connection_id;
	snprintf(b->version, sizeof(b->version), "%.*s",
		 (int)g.server_version.len, g.server_version.ptr);
	if (mode != BTLS_OFF) {
		tls = (g.caps & CLIENT_SSL) != 0;
		if (!tls && mode != BTLS_PREFERRED) {
			fail(b, "the server does not offer TLS, which its TLS "
			     "mode %s requires", btls_mode_name(mode));
			return;
		}
		if (tls && !ctx) {
			fail(b, "no TLS context for this server");
			return;
		}
	}
	if (tls) {
		params.caps |= CLIENT_SSL;
		params.first_seq = 2;
		params.secure_transport = true;
	}
	b->auth = calloc(1, sizeof(*b->auth));
	if (!b->auth) {
		fail(b, "out of memory");
		return;
	}
	pkt_buf_init(&pb);
	enum auth_result r = auth_client_handshake(b->auth, p, len, &params, &pb);
	if (tls && r == AUTH_CONTINUE && !pb.oom && pb.len >= MYSQL_HDR_LEN + 32) {
		/* The SSLRequest is the handshake response's first 32 bytes
		 * (capabilities, character set: what a server keeps from
		 * it); the response itself follows inside TLS. */
		if (send_packet(b, 1, pb.data + MYSQL_HDR_LEN, 32)) {
			pkt_buf_free(&pb);
			return;
		}
		/* Each server of a group is checked for its own name. */
		if (xprt_tls_connect(&b->c, ctx, b->addr->host,
				     mode == BTLS_VERIFY_IDENTITY)) {
			pkt_buf_free(&pb);
			fail(b, "cannot start TLS");
			return;
		}
	}
	login_result(b, r, &pb);
}

static void login_packet(struct bconn *b, const uint8_t *p, uint32_t len)
{
	struct pkt_buf pb;

	pkt_buf_init(&pb);
	login_result(b, auth_client_packet(b->auth, p, len, &pb), &pb);
}

/* One whole packet of myring's own exchange with the server. */
static void own_packet(struct bconn *b, const uint8_t *p, uint32_t len)
{
	switch (b->state) {
	case BS_GREETING:
		greeting(b, p, len);
		break;
	case BS_LOGIN:
		login_packet(b, p, len);
		break;
	case BS_SETUP:
	case BS_REQUESTS:
		request_packet(b, p, len);
		break;
	case BS_IDLE:
		/* e.g. the ERR a server sends to a connection it kills */
		conn_close(&b->c);
		b->owner->lost(b);
		break;
	default:
		fail(b, "unexpected data in state %u", b->state);
		break;
	}
}

static void on_data(struct conn *c, uint8_t *buf, uint32_t n, int32_t bid)
{
	struct bconn *b = c->owner;
	uint32_t off = 0;

	/* A shard's rows for a fanout may be as long as rows are. */
	if (b->asm_len + (uint64_t)n > (b->sink ? BCONN_ASM_ROWS_MAX :
					       BCONN_ASM_MAX)) {
		fail(b, "the server sent more than myring asked for");
		return;
	}
	if (b->asm_len + n > b->asm_cap) {
		uint32_t cap = b->asm_cap ? b->asm_cap : 1024;
		uint8_t *nb;
		while (cap < b->asm_len + n)
			cap *= 2;
		nb = realloc(b->asm_buf, cap);
		if (!nb) {
			fail(b, "out of memory");
			return;
		}
		b->asm_buf = nb;
		b->asm_cap = cap;
	}
	memcpy(b->asm_buf + b->asm_len, buf, n);
	b->asm_len += n;
	/* Whole packets only; one of them may hand the conn to a session
	 * (state LINKED): the rest of the bytes then are not ours. */
	while (!c->closing && c->ops == &bconn_ops &&
	       b->asm_len - off >= MYSQL_HDR_LEN) {
		uint32_t plen = mysql_get_u24(b->asm_buf + off);
		if (plen >= MYSQL_MAX_PAYLOAD) {
			fail(b, "a 16 MiB packet in myring's own exchange");
			return;
		}
		if (b->asm_len - off < MYSQL_HDR_LEN + plen)
			break;
		own_packet(b, b->asm_buf + off + MYSQL_HDR_LEN, plen);
		off += MYSQL_HDR_LEN + plen;
	}
	if (c->closing)
		return;
	if (off < b->asm_len && c->ops != &bconn_ops) {
		fail(b, "the server answered before it was asked");
		return;
	}
	memmove(b->asm_buf, b->asm_buf + off, b->asm_len - off);
	b->asm_len -= off;
}

static void on_eof(struct conn *c, int err)
{
	struct bconn *b = c->owner;

	if (b->state == BS_IDLE) {
		conn_close(c);
		b->owner->lost(b);
		return;
	}
	fail(b, "the server %s the connection", err ? "reset" : "closed");
}

static void on_send_error(struct conn *c, int err)
{
	struct bconn *b = c->owner;

	fail(b, "send: %s", strerror(-err));
}

static void on_secure(struct conn *c, int err, const char *why)
{
	struct bconn *b = c->owner;

	if (err) {
		c->w->stats.tls_failures++;
		fail(b, "%s", why);
		return;
	}
	c->w->stats.tls_handshakes++;
}

static const struct conn_ops bconn_ops = {
	.role = "backend",
	.peer = PEER_BACKEND,
	.on_data = on_data,
	.on_eof = on_eof,
	.on_send_error = on_send_error,
	.on_connect = on_connect,
	.on_free = bconn_free,
	.on_secure = on_secure,
};

/* ---- start-up probe ------------------------------------------------- */

int backend_probe(const struct netaddr *addr, unsigned timeout_ms,
		  struct backend_profile *out, char *err, size_t errlen)
{
	int fd = net_connect_socket(addr, false);
	uint8_t buf[1024];
	size_t have = 0;
	struct mysql_greeting g;
	struct pollfd pfd;
	int rc = -1;

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(-fd));
		return -1;
	}
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len)) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	while (have < MYSQL_HDR_LEN ||
	       have < MYSQL_HDR_LEN + mysql_get_u24(buf)) {
		ssize_t r;
		if (poll(&pfd, 1, (int)timeout_ms) <= 0) {
			snprintf(err, errlen, "no greeting within %u ms",
				 timeout_ms);
			goto out;
		}
		r = read(fd, buf + have, sizeof(buf) - have);
		if (r <= 0) {
			snprintf(err, errlen, "closed before its greeting");
			goto out;
		}
		have += (size_t)r;
		if (have == sizeof(buf))
			break;
	}
	if (have < MYSQL_HDR_LEN + mysql_get_u24(buf) ||
	    mysql_parse_greeting(buf + MYSQL_HDR_LEN, mysql_get_u24(buf), &g) ||
	    g.protocol != 10) {
		snprintf(err, errlen, "no MySQL greeting");
		goto out;
	}
	snprintf(out->version, sizeof(out->version), "%.*s",
		 (int)g.server_version.len, g.server_version.ptr);
	out->caps = g.caps;
	out->charset = g.charset;
	rc = 0;
out:
	close(fd);
	return rc;
}
