/*
 * session_handshake.c - the connection phase: greeting_received ->
 * greeting_sent -> handshake_received -> (auth relayed by
 * session_command.c until the server's OK).
 *
 * These two packets are the only ones the proxy must see whole and
 * rewrite, so they are copied (once per connection) into the session's
 * assembly buffer, parsed there and sent from there.
 */
#include "session.h"

#include "log.h"
#include "mysql_proto.h"
#include "tls.h"

#include <stdlib.h>
#include <string.h>

/* Hands the assembled packet to a send queue without copying it. */
static void send_assembled(struct session *s, bool to_backend)
{
	uint8_t *p = s->asm_buf;
	uint32_t len = s->asm_len;

	s->asm_buf = NULL;
	s->asm_len = s->asm_cap = 0;
	if (to_backend)
		session_to_backend(s, p, len, -1, p);
	else
		session_to_client(s, p, len, -1, p);
}

static void greeting_received(struct session *s)
{
	uint8_t *payload = s->asm_buf + MYSQL_HDR_LEN;
	uint32_t len = s->asm_len - MYSQL_HDR_LEN;
	struct mysql_greeting g;

	if (len && payload[0] == 0xFF) {
		/* e.g. "Too many connections" or "Host is blocked": the client
		 * gets the server's own error as its first packet. */
		struct mysql_err e;
		if (mysql_parse_err(payload, len, &e) == 0) {
			LOGW("%s: backend refused the connection: %u %.*s",
			     s->client_addr, e.code, (int)e.message.len,
			     e.message.ptr);
			stats_count_err(&s->c.w->stats, e.code);
		}
		send_assembled(s, false);
		session_finish(s);
		return;
	}
	if (mysql_parse_greeting(payload, len, &g) || g.protocol != 10) {
		session_fail(s, 0, 2027, "HY000",
			     "malformed greeting from the backend");
		return;
	}
	/* TLS and compression towards the client are myring's to offer,
	 * whatever the server has. */
	s->backend_offers_tls = (g.caps & CLIENT_SSL) != 0;
	s->server_caps = g.caps & ~MYSQL_CAPS_PROXY_MASK;
	if (tls_server_ctx(s->c.w))
		s->server_caps |= CLIENT_SSL;
	if (s->c.w->px->cfg.compression)
		s->server_caps |= CLIENT_COMPRESS;
	s->backend_z = s->c.w->px->cfg.backend_compression &&
		       (g.caps & CLIENT_COMPRESS);
	s->be->thread_id = g.connection_id;
	mysql_greeting_set_caps(payload, &g, s->server_caps);
	LOGD("%s: backend greeting: %.*s, connection id %u", s->client_addr,
	     (int)g.server_version.len, g.server_version.ptr, g.connection_id);
	send_assembled(s, false);
	s->phase = PH_HANDSHAKE;
}

void handshake_backend_data(struct session *s, uint8_t *buf, uint32_t n)
{
	int rc;

	if (s->phase != PH_GREETING) {
		session_fail(s, 0, 2027, "HY000",
			     "backend sent data before the client's handshake");
		return;
	}
	rc = session_asm_packet(s, buf, n);
	if (rc < 0)
		session_fail(s, 0, 2027, "HY000",
			     "malformed greeting from the backend");
	else if (rc > 0)
		greeting_received(s);
}

/*
 * Whether the backend leg gets TLS, by --backend-tls and what the server
 * offered: 1 yes, 0 no, -1 refused (the client has its ERR).
 */
static int backend_wants_tls(struct session *s)
{
	const struct config *cfg = &s->c.w->px->cfg;

	if (cfg->backend_tls == BTLS_OFF || !tls_client_ctx(s->c.w))
		return 0;
	if (s->backend_offers_tls)
		return 1;
	if (cfg->backend_tls == BTLS_PREFERRED)
		return 0;
	session_send_err(s, (uint8_t)(s->hr_seq + 1), ER_BACKEND_UNREACHABLE,
			 "HY000", "myring: backend %s does not offer TLS, which "
			 "--backend-tls requires", s->c.w->px->backend.text);
	return -1;
}

/*
 * The backend leg turns to TLS: an SSLRequest made of the first 32 bytes
 * of the client's handshake response (a server takes the capabilities and
 * character set from the SSLRequest and does not read them again), then
 * the handshake; the response itself waits in the queue until it is done.
 */
static int backend_start_tls(struct session *s, const uint8_t *payload,
			     const struct mysql_handshake_response *r,
			     uint64_t caps)
{
	const struct config *cfg = &s->c.w->px->cfg;
	uint8_t req[MYSQL_HDR_LEN + 32];
	struct mysql_handshake_response copy = *r;

	memcpy(req + MYSQL_HDR_LEN, payload, 32);
	mysql_put_header(req, 32, 1);
	copy.ext_caps_off = r->ext_caps_off == 28 ? 28 : 0;
	mysql_handshake_response_set_caps(req + MYSQL_HDR_LEN, &copy, caps);
	if (session_to_backend_copy(s, req, sizeof(req)))
		return -1;
	if (xprt_tls_connect(&s->be->c, tls_client_ctx(s->c.w),
			     s->c.w->px->backend.host,
			     cfg->backend_tls == BTLS_VERIFY_IDENTITY)) {
		session_fail(s, (uint8_t)(s->hr_seq + 1), ER_BACKEND_UNREACHABLE,
			     "HY000", "cannot start TLS with the backend");
		return -1;
	}
	s->backend_tls = true;
	return 0;
}

static void handshake_received(struct session *s, const uint8_t *rest,
			       uint32_t rest_len)
{
	const struct config *cfg = &s->c.w->px->cfg;
	uint8_t *payload = s->asm_buf + MYSQL_HDR_LEN;
	uint32_t len = s->asm_len - MYSQL_HDR_LEN;
	uint8_t seq = s->asm_buf[3];
	struct mysql_handshake_response r;
	uint64_t bcaps;
	uint8_t bseq;
	int tls;

	s->hr_seq = seq;
	if (mysql_parse_handshake_response(payload, len, s->server_caps, &r)) {
		session_fail(s, (uint8_t)(seq + 1), 1043, "08S01",
			     "bad handshake: malformed handshake response");
		return;
	}
	if (r.ssl_request) {
		if (!session_start_client_tls(s, rest, rest_len))
			session_fail(s, (uint8_t)(seq + 1), 1043, "08S01",
				     s->client_tls ? "bad handshake: a second "
				     "SSLRequest" : "TLS is not enabled on this "
				     "proxy (--tls-cert); connect with TLS "
				     "disabled (e.g. --ssl=0 / ssl-mode=DISABLED)");
		return;
	}
	if (rest_len) {
		session_fail(s, (uint8_t)(seq + 1), 1043, "08S01",
			     "bad handshake: bytes after the handshake response");
		return;
	}
	if (!s->client_tls && cfg->require_tls) {
		/* What a server answers under require_secure_transport. */
		LOGW("%s: plaintext login refused (--require-tls)",
		     s->client_addr);
		stats_count_err(&s->c.w->stats, ER_SECURE_TRANSPORT_REQUIRED);
		session_send_err(s, (uint8_t)(seq + 1),
				 ER_SECURE_TRANSPORT_REQUIRED, "HY000",
				 "Connections using insecure transport are "
				 "prohibited while --require_secure_transport=ON.");
		return;
	}
	if (!(r.caps & CLIENT_PROTOCOL_41)) {
		session_fail(s, (uint8_t)(seq + 1), 1043, "08S01",
			     "bad handshake: protocol 4.1 clients only");
		return;
	}
	tls = backend_wants_tls(s);
	if (tls < 0)
		return;
	s->caps = r.caps & s->server_caps;
	s->client_z = (s->caps & CLIENT_COMPRESS) != 0;
	s->deprecate_eof = s->caps & CLIENT_DEPRECATE_EOF;
	s->info.deprecate_eof = s->deprecate_eof;
	s->info.extended_metadata =
		(s->caps & MARIADB_CLIENT_EXTENDED_METADATA) != 0;
	/* The server sees its own leg: TLS and compression as myring and
	 * the server agree, whatever the client chose. */
	bcaps = r.caps & ~MYSQL_CAPS_PROXY_MASK;
	if (tls)
		bcaps |= CLIENT_SSL;
	if (s->backend_z)
		bcaps |= CLIENT_COMPRESS;
	if (tls && backend_start_tls(s, payload, &r, bcaps))
		return;
	mysql_handshake_response_set_caps(payload, &r, bcaps & ~CLIENT_SSL);
	session_set_str(&s->user, r.user.ptr, r.user.len);
	if (r.schema.len)
		session_set_str(&s->schema, r.schema.ptr, r.schema.len);
	if (s->user)
		s->info.user = s->user;
	if (s->schema)
		s->info.schema = s->schema;
	LOGD("%s: user '%s' schema '%s' plugin '%.*s'%s%s", s->client_addr,
	     s->info.user, s->info.schema, (int)r.plugin.len, r.plugin.ptr,
	     s->client_tls ? ", client TLS" : "",
	     s->backend_tls ? ", backend TLS" : "");
	/* The login exchange is renumbered where the legs differ: after an
	 * SSLRequest a leg's handshake response is packet 2, else 1. */
	bseq = s->backend_tls ? 2 : 1;
	s->asm_buf[3] = bseq;
	s->fr.seq_delta = (uint8_t)(bseq - seq);
	s->be->fr.seq_delta = (uint8_t)(seq - bseq);
	send_assembled(s, true);
	/* The auth exchange that follows is relayed packet by packet; the
	 * framers start at the packet boundary after the two handshake
	 * packets, with the next sequence ids. */
	s->phase = PH_AUTH;
	mysql_tracker_start(&s->be->trk, RESP_AUTH, s->deprecate_eof);
}

void handshake_client_data(struct session *s, uint8_t *buf, uint32_t n)
{
	uint32_t used;
	int rc;

	if (s->phase != PH_HANDSHAKE) {
		session_fail(s, 0, 1158, "08S01",
			     "client spoke before the server greeting");
		return;
	}
	rc = session_asm_take(s, buf, n, &used);
	if (rc < 0)
		session_fail(s, 2, 1043, "08S01",
			     "bad handshake: malformed handshake response");
	else if (rc > 0)
		handshake_received(s, buf + used, n - used);
}
