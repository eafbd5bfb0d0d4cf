/*
 * session_login.c - myring greets and checks the client itself (auth:
 * proxy): login_greet -> handshake received -> [auth switch] -> password
 * checked -> [requested schema checked on a backend] -> OK.
 *
 * The greeting shows the backend server's version and capabilities
 * (learned at start-up), less what the pooled path does not support, so a
 * client sees the server it would see directly.  A wrong password gets
 * the server's own answer, ERR 1045, and the connection closes.
 */
#include "session.h"

#include "log.h"
#include "mysql_proto.h"
#include "mysql_auth_exchange.h"
#include "mysql_srv.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What a client of the pooled path may use: the protocol features whose
 * packets myring follows, less those that hide packet boundaries (TLS,
 * compression) or need per-statement state myring does not carry yet.
 */
#define PROXY_CAPS                                                             \
	(CLIENT_MYSQL | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG |                     \
	 CLIENT_CONNECT_WITH_DB | CLIENT_LOCAL_FILES | CLIENT_IGNORE_SPACE |       \
	 CLIENT_PROTOCOL_41 | CLIENT_INTERACTIVE | CLIENT_IGNORE_SIGPIPE |         \
	 CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION |                          \
	 CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS | \
	 CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS |                               \
	 CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_SESSION_TRACK |            \
	 CLIENT_DEPRECATE_EOF | MARIADB_CLIENT_EXTENDED_METADATA)

/* Capabilities that change how the server answers: clients that differ
 * in them cannot share a backend connection (the pool's key). */
#define POOL_KEY_CAPS                                                          \
	(CLIENT_FOUND_ROWS | CLIENT_LOCAL_FILES | CLIENT_IGNORE_SPACE |            \
	 CLIENT_INTERACTIVE | CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS |     \
	 CLIENT_PS_MULTI_RESULTS | CLIENT_DEPRECATE_EOF |                          \
	 MARIADB_CLIENT_EXTENDED_METADATA)

/* TLS and compression are myring's own to offer, whatever the server
 * does. */
static uint64_t offered_caps(struct session *s)
{
	const struct proxy *px = s->c.w->px;
	uint64_t caps = px->profile.caps & PROXY_CAPS;

	if (tls_server_ctx(s->c.w))
		caps |= CLIENT_SSL;
	if (px->cfg.compression)
		caps |= CLIENT_COMPRESS;
	return caps;
}

static void send_packets(struct session *s, struct pkt_buf *pb)
{
	if (pb->oom) {
		pkt_buf_free(pb);
		session_close(s, "out of memory");
		return;
	}
	session_to_client(s, pb->data, (uint32_t)pb->len, -1, pb->data);
}

void login_greet(struct session *s)
{
	const struct proxy *px = s->c.w->px;
	struct pkt_buf pb;

	srv_scramble(s->scramble);
	pkt_buf_init(&pb);
	s->server_caps = offered_caps(s);
	srv_build_greeting(&pb, s->conn_id, s->scramble, px->profile.version,
			   s->server_caps);
	send_packets(s, &pb);
}

static void login_err(struct session *s, uint16_t code, const char *sqlstate,
		      const char *msg)
{
	struct pkt_buf pb;

	pkt_buf_init(&pb);
	pb.seq = s->login_seq;
	srv_err(&pb, code, sqlstate, msg);
	stats_count_err(&s->c.w->stats, code);
	send_packets(s, &pb);
	session_finish(s);
}

static void login_ok(struct session *s)
{
	struct pkt_buf pb;

	pkt_buf_init(&pb);
	pb.seq = s->login_seq;
	srv_ok(&pb, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
	send_packets(s, &pb);
	s->phase = PH_COMMAND;
	/* The OK was the last plain packet. */
	session_login_done_compress(s);
	LOGD("%s: '%s' logged in (schema '%s')", s->client_addr, s->info.user,
	     s->info.schema);
}

/* The client as the server names it in 1045: its address, no port. */
static void client_host(const struct session *s, char *out, size_t outlen)
{
	const char *colon;

	snprintf(out, outlen, "%s", s->client_addr);
	if (out[0] == '[') {
		char *close = strchr(out, ']');
		if (close) {
			memmove(out, out + 1, (size_t)(close - out - 1));
			out[close - out - 1] = '\0';
		}
		return;
	}
	colon = strrchr(out, ':');
	if (colon)
		out[colon - out] = '\0';
}

static const struct auth_user *find_user(struct session *s, const char *name,
					 size_t len)
{
	const struct config *cfg = &s->c.w->px->cfg;

	for (unsigned i = 0; i < cfg->nusers; i++)
		if (strlen(cfg->users[i].name) == len &&
		    !memcmp(cfg->users[i].name, name, len)) {
			s->user_idx = i;
			return &cfg->users[i];
		}
	return NULL;
}

static void authenticated(struct session *s);

/* What the exchange asked for: send it, and go on, finish or refuse. */
static void exchange_result(struct session *s, enum auth_result r,
			    struct pkt_buf *pb)
{
	struct auth_server *as = s->auth;

	switch (r) {
	case AUTH_CONTINUE:
		send_packets(s, pb);
		s->phase = PH_LOGIN_SWITCH;
		return;
	case AUTH_FAILED:
		LOGW("%s: %s", s->client_addr, as->err_msg);
		stats_count_err(&s->c.w->stats, as->err_code);
		send_packets(s, pb);
		session_finish(s);
		return;
	case AUTH_DONE:
		send_packets(s, pb);
		s->login_seq = as->seq;
		authenticated(s);
		return;
	}
}

/* The password is right: the session gets its pool, and a schema it asked
 * for is checked on a backend before the client is told OK. */
static void authenticated(struct session *s)
{
	struct pool_key key = {
		.user = s->user_idx,
		.caps = s->caps & POOL_KEY_CAPS,
		.charset = s->charset,
	};
	uint16_t err;
	char msg[300];

	/* The login's schema is checked on the primary, or where a read
	 * would go while the group has no primary online: clients still
	 * log in (and read) then. */
	{
		const char *why;
		unsigned sv;
		uint16_t e;
		char m[200];

		s->pool_key = key;
		if (route_choose(s, NULL, false, -1, &sv, &why, &e, m,
				 sizeof(m)) &&
		    route_choose(s, NULL, true, -1, &sv, &why, &e, m,
				 sizeof(m)))
			sv = s->c.w->px->groups[s->group].servers[0];
		s->pool_key.server = sv;
	}
	s->pool = pool_for(s->c.w, &s->pool_key);
	if (s->dir)
		atomic_store_explicit(&s->dir->user, s->user_idx + 1,
				      memory_order_relaxed);
	if (!s->pool) {
		login_err(s, 1040, "08004", "myring: out of memory");
		return;
	}
	/* What the client's answer revealed lets myring log in to the
	 * backend as this user (mysql_native_password's SHA1(password)),
	 * unless the config names another login for it. */
	if (!s->c.w->px->cfg.users[s->user_idx].backend_explicit)
		pool_learn_secret(s->pool, &s->auth->secret);
	auth_server_clear(s->auth);
	free(s->auth);
	s->auth = NULL;
	if (!s->schema) {
		login_ok(s);
		return;
	}
	/* Like the server, refuse a schema that does not exist or that the
	 * user may not use: ask a backend, as the user (session_pool.c,
	 * which ends in login_done or login_failed). */
	s->phase = PH_LOGIN_SYNC;
	if (!pooled_backend(s, &err, msg, sizeof(msg)))
		login_failed(s, err, "HY000", msg);
}

void login_done(struct session *s)
{
	login_ok(s);
}

void login_failed(struct session *s, uint16_t code, const char *sqlstate,
		  const char *msg)
{
	char text[300];

	/* The server's own refusals (1049 unknown database, 1044 access
	 * denied to it) are passed on as they are; the proxy's are marked. */
	if (code == 1040 || code == 1429 || code == 1927)
		snprintf(text, sizeof(text), "myring: %s", msg);
	else
		snprintf(text, sizeof(text), "%s", msg);
	login_err(s, code, sqlstate, text);
}

static void handshake_response(struct session *s, const uint8_t *payload,
			       uint32_t len, uint8_t seq, const uint8_t *rest,
			       uint32_t rest_len)
{
	const struct proxy *px = s->c.w->px;
	struct mysql_handshake_response r;
	struct pkt_buf pb;
	char host[64];

	s->login_seq = (uint8_t)(seq + 1);
	if (mysql_parse_handshake_response(payload, len, s->server_caps, &r)) {
		login_err(s, 1043, "08S01", "Bad handshake");
		return;
	}
	if (r.ssl_request) {
		if (!session_start_client_tls(s, rest, rest_len))
			login_err(s, 1043, "08S01", s->client_tls ?
				  "Bad handshake" : "myring: TLS is not enabled "
				  "on this proxy (--tls-cert); connect with TLS "
				  "disabled (e.g. --ssl=0 / ssl-mode=DISABLED)");
		return;
	}
	if (rest_len) {
		login_err(s, 1043, "08S01", "Bad handshake");
		return;
	}
	if (!s->client_tls && px->cfg.require_tls) {
		LOGW("%s: plaintext login refused (--require-tls)",
		     s->client_addr);
		login_err(s, ER_SECURE_TRANSPORT_REQUIRED, "HY000",
			  "Connections using insecure transport are prohibited "
			  "while --require_secure_transport=ON.");
		return;
	}
	if (!(r.caps & CLIENT_PROTOCOL_41)) {
		login_err(s, 1043, "08S01", "myring: protocol 4.1 clients only");
		return;
	}
	s->caps = r.caps & s->server_caps;
	s->client_z = (s->caps & CLIENT_COMPRESS) != 0;
	s->charset = r.charset;
	/* The session starts as a fresh server session would: the
	 * handshake's character set, its schema (once checked), the
	 * multi-statements option as negotiated. */
	mysql_state_seed_charset(&s->st, r.charset);
	s->st.multi_statements = (s->caps & CLIENT_MULTI_STATEMENTS) != 0;
	if (r.schema.len && mysql_state_set_schema(&s->st, r.schema.ptr,
						   r.schema.len)) {
		login_err(s, 1102, "42000", "Incorrect database name");
		return;
	}
	s->deprecate_eof = s->caps & CLIENT_DEPRECATE_EOF;
	s->info.deprecate_eof = s->deprecate_eof;
	s->info.extended_metadata =
		(s->caps & MARIADB_CLIENT_EXTENDED_METADATA) != 0;
	session_set_str(&s->user, r.user.ptr, r.user.len);
	if (s->user)
		s->info.user = s->user;
	if (r.schema.len) {
		session_set_str(&s->schema, r.schema.ptr, r.schema.len);
		if (s->schema)
			s->info.schema = s->schema;
	}
	s->auth = calloc(1, sizeof(*s->auth));
	if (!s->auth) {
		login_err(s, 1040, "08004", "myring: out of memory");
		return;
	}
	client_host(s, host, sizeof(host));
	/* Over TLS, caching_sha2_password's full authentication takes the
	 * password in clear, as a server does. */
	auth_server_init(s->auth, s->scramble, host, px->rsa, s->client_tls);
	pkt_buf_init(&pb);
	exchange_result(s, auth_server_handshake_at(s->auth, &r,
						    find_user(s, r.user.ptr,
							      r.user.len),
						    NULL, seq, &pb), &pb);
}

/*
 * COM_CHANGE_USER (payload: its whole packet's payload): the session logs
 * in again as another user, through the same exchange as a login (the
 * greeting's scramble answered).  What the old identity had goes: its
 * connection is reset before anyone else gets it, the session's state
 * starts afresh, and it borrows from the new user's pool.
 */
void login_change_user(struct session *s, const uint8_t *payload, size_t len)
{
	const struct proxy *px = s->c.w->px;
	struct mysql_change_user cu;
	struct pkt_buf pb;
	char host[64];

	if (mysql_parse_change_user(payload, len, s->caps, &cu)) {
		session_fail(s, 1, 1047, "08S01", "malformed COM_CHANGE_USER");
		return;
	}
	if (s->be) {
		struct bconn *b = s->be;
		b->dirty = true;
		session_unlink(s);
		pool_return(s->pool, b);
	}
	s->pool = NULL;
	if (cu.charset)
		s->charset = (uint8_t)cu.charset;
	session_set_str(&s->user, cu.user.ptr, cu.user.len);
	s->info.user = s->user ? s->user : "";
	free(s->schema);
	s->schema = NULL;
	s->info.schema = "";
	if (cu.schema.len) {
		session_set_str(&s->schema, cu.schema.ptr, cu.schema.len);
		if (s->schema)
			s->info.schema = s->schema;
	}
	session_state_fresh(s);
	if (mysql_state_set_schema(&s->st, cu.schema.ptr, cu.schema.len)) {
		s->login_seq = 1;
		login_err(s, 1102, "42000", "Incorrect database name");
		return;
	}
	s->auth = calloc(1, sizeof(*s->auth));
	if (!s->auth) {
		session_close(s, "out of memory");
		return;
	}
	client_host(s, host, sizeof(host));
	auth_server_init(s->auth, s->scramble, host, px->rsa, s->client_tls);
	s->phase = PH_LOGIN_SWITCH;
	pkt_buf_init(&pb);
	exchange_result(s, auth_server_change_user(s->auth, &cu,
						   find_user(s, cu.user.ptr,
							     cu.user.len),
						   NULL, &pb), &pb);
}

void login_client_data(struct session *s, uint8_t *buf, uint32_t n)
{
	uint32_t used;
	int rc;
	uint8_t seq;

	if (s->phase == PH_LOGIN_SYNC) {
		session_fail(s, (uint8_t)(s->login_seq + 1), 1158, "08S01",
			     "client spoke before the server's answer to its "
			     "login");
		return;
	}
	rc = session_asm_take(s, buf, n, &used);
	if (rc < 0) {
		session_fail(s, 2, 1043, "08S01",
			     "bad handshake: malformed packet");
		return;
	}
	if (rc == 0)
		return;
	seq = s->asm_buf[3];
	if (s->phase == PH_LOGIN) {
		handshake_response(s, s->asm_buf + MYSQL_HDR_LEN,
				   s->asm_len - MYSQL_HDR_LEN, seq, buf + used,
				   n - used);
	} else if (used < n) {
		session_fail(s, (uint8_t)(seq + 1), 1043, "08S01",
			     "bad handshake: bytes after an auth packet");
	} else {
		struct pkt_buf pb;
		pkt_buf_init(&pb);
		exchange_result(s, auth_server_packet(s->auth,
						      s->asm_buf + MYSQL_HDR_LEN,
						      s->asm_len - MYSQL_HDR_LEN,
						      &pb), &pb);
	}
	free(s->asm_buf);
	s->asm_buf = NULL;
	s->asm_len = s->asm_cap = 0;
}
