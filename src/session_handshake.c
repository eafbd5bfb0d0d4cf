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
	s->server_caps = g.caps & ~MYSQL_CAPS_PROXY_MASK;
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

static void handshake_received(struct session *s)
{
	uint8_t *payload = s->asm_buf + MYSQL_HDR_LEN;
	uint32_t len = s->asm_len - MYSQL_HDR_LEN;
	uint8_t seq = s->asm_buf[3];
	struct mysql_handshake_response r;

	if (mysql_parse_handshake_response(payload, len, s->server_caps, &r)) {
		session_fail(s, (uint8_t)(seq + 1), 1043, "08S01",
			     "bad handshake: malformed handshake response");
		return;
	}
	if (r.ssl_request) {
		/* The greeting did not offer TLS; this client insists. */
		session_fail(s, (uint8_t)(seq + 1), 1043, "08S01",
			     "TLS is not supported yet; connect with TLS "
			     "disabled (e.g. --ssl=0 / ssl-mode=DISABLED)");
		return;
	}
	if (!(r.caps & CLIENT_PROTOCOL_41)) {
		session_fail(s, (uint8_t)(seq + 1), 1043, "08S01",
			     "bad handshake: protocol 4.1 clients only");
		return;
	}
	s->caps = r.caps & s->server_caps;
	s->deprecate_eof = s->caps & CLIENT_DEPRECATE_EOF;
	s->info.deprecate_eof = s->deprecate_eof;
	s->info.extended_metadata =
		(s->caps & MARIADB_CLIENT_EXTENDED_METADATA) != 0;
	mysql_handshake_response_set_caps(payload, &r,
					  r.caps & ~MYSQL_CAPS_PROXY_MASK);
	session_set_str(&s->user, r.user.ptr, r.user.len);
	if (r.schema.len)
		session_set_str(&s->schema, r.schema.ptr, r.schema.len);
	if (s->user)
		s->info.user = s->user;
	if (s->schema)
		s->info.schema = s->schema;
	LOGD("%s: user '%s' schema '%s' plugin '%.*s'", s->client_addr,
	     s->info.user, s->info.schema, (int)r.plugin.len, r.plugin.ptr);
	send_assembled(s, true);
	/* The auth exchange that follows is relayed packet by packet; the
	 * framers start at the packet boundary after the two handshake
	 * packets, with the next sequence ids. */
	s->phase = PH_AUTH;
	mysql_tracker_start(&s->be->trk, RESP_AUTH, s->deprecate_eof);
}

void handshake_client_data(struct session *s, uint8_t *buf, uint32_t n)
{
	int rc;

	if (s->phase != PH_HANDSHAKE) {
		session_fail(s, 0, 1158, "08S01",
			     "client spoke before the server greeting");
		return;
	}
	rc = session_asm_packet(s, buf, n);
	if (rc < 0)
		session_fail(s, 2, 1043, "08S01",
			     "bad handshake: malformed handshake response");
	else if (rc > 0)
		handshake_received(s);
}
