/* The pure codec: integers, greeting, handshake response, OK/ERR/EOF. */
#include <criterion/criterion.h>
#include <string.h>

#include "mysql_proto.h"

Test(proto, lenenc_round_trip_and_truncation)
{
	uint64_t vals[] = {0, 1, 250, 251, 252, 65535, 65536, 0xFFFFFF,
			   0x1000000, 0xFFFFFFFFFFull, UINT64_MAX};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t b[9];
		uint64_t v;
		uint8_t *end = mysql_put_lenenc(b, vals[i]);
		size_t n = (size_t)(end - b);
		cr_assert_eq(n, mysql_lenenc_size(vals[i]));
		cr_assert_eq(mysql_get_lenenc(b, n, &v), (int)n);
		cr_assert_eq(v, vals[i]);
		for (size_t cut = 0; cut < n; cut++)
			cr_assert_eq(mysql_get_lenenc(b, cut, &v), -1,
				     "value %zu cut at %zu", i, cut);
	}
	uint64_t v;
	uint8_t null_marker = 0xFB, err_marker = 0xFF;
	cr_assert_eq(mysql_get_lenenc(&null_marker, 1, &v), -1);
	cr_assert_eq(mysql_get_lenenc(&err_marker, 1, &v), -1);
}

/* A MariaDB 10.11 greeting as sent by mariadbd (captured layout). */
static size_t mariadb_greeting(uint8_t *p)
{
	size_t n = 0;
	p[n++] = 10;
	const char *ver = "5.5.5-10.11.19-MariaDB-0+deb12u1";
	memcpy(p + n, ver, strlen(ver) + 1);
	n += strlen(ver) + 1;
	mysql_put_u32(p + n, 42); n += 4;
	memcpy(p + n, "abcdefgh", 8); n += 8;
	p[n++] = 0;
	/* low caps: everything incl. SSL, COMPRESS, but not CLIENT_MYSQL */
	mysql_put_u16(p + n, 0xFFFE); n += 2;
	p[n++] = 45;
	mysql_put_u16(p + n, SERVER_STATUS_AUTOCOMMIT); n += 2;
	mysql_put_u16(p + n, 0x81FF); n += 2;    /* high caps */
	p[n++] = 21;                             /* auth data length */
	memset(p + n, 0, 6); n += 6;
	mysql_put_u32(p + n, 0x1D); n += 4;      /* ext: PROGRESS|BULK|EXT_META|CACHE */
	memcpy(p + n, "ijklmnopqrst", 12); n += 12;
	p[n++] = 0;
	memcpy(p + n, "mysql_native_password", 22); n += 22;
	return n;
}

Test(proto, greeting_parse_and_caps_rewrite)
{
	uint8_t p[256];
	size_t n = mariadb_greeting(p);
	struct mysql_greeting g;

	cr_assert_eq(mysql_parse_greeting(p, n, &g), 0);
	cr_assert_eq(g.protocol, 10);
	cr_assert_eq(g.server_version.len, strlen("5.5.5-10.11.19-MariaDB-0+deb12u1"));
	cr_assert_eq(g.connection_id, 42);
	cr_assert(g.caps & CLIENT_SSL);
	cr_assert(g.caps & CLIENT_PLUGIN_AUTH);
	cr_assert(g.caps & MARIADB_CLIENT_CACHE_METADATA);
	cr_assert_not(g.caps & CLIENT_MYSQL);
	cr_assert_eq(g.scramble2_len, 12);
	cr_assert_eq(memcmp(g.scramble2, "ijklmnopqrst", 12), 0);
	cr_assert_eq(g.auth_plugin.len, strlen("mysql_native_password"));

	uint64_t masked = g.caps & ~MYSQL_CAPS_PROXY_MASK;
	uint8_t before[256];
	memcpy(before, p, n);
	mysql_greeting_set_caps(p, &g, masked);
	struct mysql_greeting g2;
	cr_assert_eq(mysql_parse_greeting(p, n, &g2), 0);
	cr_assert_eq(g2.caps, masked);
	cr_assert_not(g2.caps & (CLIENT_SSL | CLIENT_COMPRESS |
				 MARIADB_CLIENT_CACHE_METADATA |
				 MARIADB_CLIENT_PROGRESS));
	cr_assert(g2.caps & MARIADB_CLIENT_STMT_BULK_OPERATIONS);
	/* only capability bytes changed */
	for (size_t i = 0; i < n; i++) {
		bool cap_byte = (i >= g.caps_lo_off && i < g.caps_lo_off + 2) ||
				(i >= g.caps_hi_off && i < g.caps_hi_off + 2) ||
				(i >= g.ext_caps_off && i < g.ext_caps_off + 4);
		if (!cap_byte)
			cr_assert_eq(p[i], before[i], "byte %zu changed", i);
	}
}

Test(proto, greeting_truncated_at_every_length)
{
	uint8_t p[256];
	size_t n = mariadb_greeting(p);
	struct mysql_greeting g;

	for (size_t len = 0; len < n; len++) {
		/* must not crash; a greeting cut inside a mandatory field fails */
		int rc = mysql_parse_greeting(p, len, &g);
		if (len < 1 + 33 + 4 + 8 + 1 + 2)
			cr_assert_eq(rc, -1, "len %zu", len);
	}
	uint8_t err[] = {0xFF, 0x10, 0x04, 'T', 'o', 'o'};
	cr_assert_eq(mysql_parse_greeting(err, sizeof(err), &g), -1);
}

static size_t handshake_response(uint8_t *p, uint64_t caps, const char *user,
				 const uint8_t *auth, size_t alen,
				 const char *db, const char *plugin,
				 bool attrs)
{
	size_t n = 0;
	mysql_put_u32(p, (uint32_t)caps); n += 4;
	mysql_put_u32(p + n, 1u << 24); n += 4;
	p[n++] = 45;
	memset(p + n, 0, 19); n += 19;
	mysql_put_u32(p + n, (uint32_t)(caps >> 32)); n += 4;
	memcpy(p + n, user, strlen(user) + 1); n += strlen(user) + 1;
	if (caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		n = (size_t)(mysql_put_lenenc(p + n, alen) - p);
	} else {
		p[n++] = (uint8_t)alen;
	}
	memcpy(p + n, auth, alen); n += alen;
	if (db) {
		memcpy(p + n, db, strlen(db) + 1);
		n += strlen(db) + 1;
	}
	if (plugin) {
		memcpy(p + n, plugin, strlen(plugin) + 1);
		n += strlen(plugin) + 1;
	}
	if (attrs) {
		const uint8_t kv[] = {4, '_', 'o', 's', 0, 5, 'L', 'i', 'n', 'u', 'x',
				      3, 'p', 'i', 'd', 2, '4', '2'};
		p[n++] = sizeof(kv);
		memcpy(p + n, kv, sizeof(kv));
		n += sizeof(kv);
	}
	return n;
}

Test(proto, handshake_response_full)
{
	uint8_t p[512];
	uint8_t auth[20];
	memset(auth, 0xAB, sizeof(auth));
	uint64_t caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION |
			CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_WITH_DB |
			CLIENT_CONNECT_ATTRS | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
			CLIENT_DEPRECATE_EOF | CLIENT_SSL |
			MARIADB_CLIENT_STMT_BULK_OPERATIONS | MARIADB_CLIENT_PROGRESS;
	size_t n = handshake_response(p, caps, "alice", auth, 20, "shop",
				      "mysql_native_password", true);
	struct mysql_handshake_response r;

	cr_assert_eq(mysql_parse_handshake_response(p, n, CLIENT_PROTOCOL_41, &r), 0);
	cr_assert_eq(r.caps, caps);
	cr_assert_not(r.ssl_request);
	cr_assert_eq(r.user.len, 5);
	cr_assert_eq(memcmp(r.user.ptr, "alice", 5), 0);
	cr_assert_eq(r.auth.len, 20);
	cr_assert_eq(r.schema.len, 4);
	cr_assert_eq(memcmp(r.plugin.ptr, "mysql_native_password", 21), 0);
	cr_assert_eq(r.ext_caps_off, 28);

	size_t pos = 0;
	struct mysql_str k, v;
	cr_assert_eq(mysql_attrs_next(r.attrs, &pos, &k, &v), 1);
	cr_assert_eq(k.len, 4);
	cr_assert_eq(memcmp(v.ptr, "Linux", 5), 0);
	cr_assert_eq(mysql_attrs_next(r.attrs, &pos, &k, &v), 1);
	cr_assert_eq(memcmp(k.ptr, "pid", 3), 0);
	cr_assert_eq(mysql_attrs_next(r.attrs, &pos, &k, &v), 0);

	mysql_handshake_response_set_caps(p, &r, caps & ~MYSQL_CAPS_PROXY_MASK);
	struct mysql_handshake_response r2;
	cr_assert_eq(mysql_parse_handshake_response(p, n, CLIENT_PROTOCOL_41, &r2), 0);
	cr_assert_not(r2.caps & (CLIENT_SSL | MARIADB_CLIENT_PROGRESS));
	cr_assert(r2.caps & MARIADB_CLIENT_STMT_BULK_OPERATIONS);
	cr_assert_eq(r2.user.len, 5, "rewrite keeps the layout");

	for (size_t len = 0; len < n; len++)
		mysql_parse_handshake_response(p, len, CLIENT_PROTOCOL_41, &r);
}

Test(proto, handshake_response_minimal_and_ssl_request)
{
	uint8_t p[512];
	uint8_t auth[20] = {1};
	uint64_t caps = CLIENT_MYSQL | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
	size_t n = handshake_response(p, caps, "bob", auth, 20, NULL, NULL, false);
	struct mysql_handshake_response r;

	cr_assert_eq(mysql_parse_handshake_response(p, n, caps, &r), 0);
	cr_assert_eq(r.schema.len, 0);
	cr_assert_eq(r.plugin.len, 0);
	cr_assert_eq(r.ext_caps_off, 0, "CLIENT_MYSQL set: no MariaDB ext caps");

	/* SSLRequest: the 32-byte prefix with CLIENT_SSL */
	uint8_t ssl[32] = {0};
	mysql_put_u32(ssl, (uint32_t)(CLIENT_PROTOCOL_41 | CLIENT_SSL));
	cr_assert_eq(mysql_parse_handshake_response(ssl, 32, 0, &r), 0);
	cr_assert(r.ssl_request);
	mysql_put_u32(ssl, (uint32_t)CLIENT_PROTOCOL_41);
	cr_assert_eq(mysql_parse_handshake_response(ssl, 32, 0, &r), -1);
	cr_assert_eq(mysql_parse_handshake_response(ssl, 31, 0, &r), -1);

	/* auth length pointing past the end */
	n = handshake_response(p, caps, "bob", auth, 20, NULL, NULL, false);
	p[32 + 4] = 200;
	cr_assert_eq(mysql_parse_handshake_response(p, n, caps, &r), -1);
	/* user without NUL */
	memset(p + 32, 'u', 64);
	cr_assert_eq(mysql_parse_handshake_response(p, 32 + 64, caps, &r), -1);
}

Test(proto, change_user)
{
	uint8_t p[128];
	size_t n = 0;
	p[n++] = COM_CHANGE_USER;
	memcpy(p + n, "carol", 6); n += 6;
	p[n++] = 3;
	memcpy(p + n, "\x01\x02\x03", 3); n += 3;
	memcpy(p + n, "db2", 4); n += 4;
	mysql_put_u16(p + n, 45); n += 2;
	memcpy(p + n, "client_ed25519", 15); n += 15;
	struct mysql_change_user cu;
	uint64_t caps = CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;

	cr_assert_eq(mysql_parse_change_user(p, n, caps, &cu), 0);
	cr_assert_eq(cu.user.len, 5);
	cr_assert_eq(cu.auth.len, 3);
	cr_assert_eq(memcmp(cu.schema.ptr, "db2", 3), 0);
	cr_assert_eq(cu.charset, 45);
	cr_assert_eq(memcmp(cu.plugin.ptr, "client_ed25519", 14), 0);
	for (size_t len = 0; len < n; len++)
		mysql_parse_change_user(p, len, caps, &cu);
	cr_assert_eq(mysql_parse_change_user(p, 3, caps, &cu), -1);
}

Test(proto, ok_err_eof_parse)
{
	uint8_t b[64];
	size_t n = mysql_build_ok(b, 1, 300, 70000, SERVER_STATUS_IN_TRANS, 2);
	struct mysql_ok ok;

	cr_assert_eq(mysql_get_u24(b), n - 4);
	cr_assert_eq(b[3], 1);
	cr_assert_eq(mysql_parse_ok(b + 4, n - 4, &ok), 0);
	cr_assert_eq(ok.affected_rows, 300);
	cr_assert_eq(ok.last_insert_id, 70000);
	cr_assert_eq(ok.status, SERVER_STATUS_IN_TRANS);
	cr_assert_eq(ok.warnings, 2);
	for (size_t len = 1; len < n - 4 - 2; len++)
		cr_assert_eq(mysql_parse_ok(b + 4, len, &ok), len == 1 ? 0 : -1,
			     "len %zu", len);

	n = mysql_build_err(b, sizeof(b), 1, 1105, "HY000", "myring: nope");
	struct mysql_err e;
	cr_assert_eq(mysql_parse_err(b + 4, n - 4, &e), 0);
	cr_assert_eq(e.code, 1105);
	cr_assert_str_eq(e.sqlstate, "HY000");
	cr_assert_eq(e.message.len, 12);
	cr_assert_eq(memcmp(e.message.ptr, "myring: nope", 12), 0);

	/* a message longer than the buffer is cut, never overflows */
	char longmsg[200];
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[199] = 0;
	n = mysql_build_err(b, sizeof(b), 0, 1040, "08004", longmsg);
	cr_assert_eq(n, sizeof(b));
	cr_assert_eq(mysql_build_err(b, 12, 0, 1, "HY000", "x"), 0);

	/* ERR without SQLSTATE (pre-4.1 layout) */
	uint8_t old[] = {0xFF, 0x10, 0x04, 'T', 'o', 'o', ' ', 'm'};
	cr_assert_eq(mysql_parse_err(old, sizeof(old), &e), 0);
	cr_assert_eq(e.code, 1040);
	cr_assert_str_eq(e.sqlstate, "HY000");

	uint16_t st, w;
	uint8_t eof[5] = {0xFE, 1, 0, 0x08, 0};
	cr_assert_eq(mysql_parse_eof(eof, 5, &st, &w), 0);
	cr_assert_eq(st, SERVER_MORE_RESULTS_EXISTS);
	cr_assert_eq(w, 1);
	cr_assert_eq(mysql_parse_eof(eof, 9, &st, &w), -1, "too long for EOF");
}

Test(proto, terminator_rule)
{
	cr_assert(mysql_is_terminator(0xFE, 5, false));
	cr_assert_not(mysql_is_terminator(0xFE, 9, false));
	cr_assert(mysql_is_terminator(0xFE, 9, true));
	cr_assert(mysql_is_terminator(0xFE, MYSQL_MAX_PAYLOAD - 1, true));
	cr_assert_not(mysql_is_terminator(0xFE, MYSQL_MAX_PAYLOAD, true));
	cr_assert_not(mysql_is_terminator(0x00, 5, true));
}

Test(proto, command_names)
{
	cr_assert_str_eq(mysql_command_name(COM_QUERY), "Query");
	cr_assert_str_eq(mysql_command_name(COM_STMT_EXECUTE), "Stmt_execute");
	cr_assert_str_eq(mysql_command_name(COM_STMT_BULK_EXECUTE), "Stmt_bulk_execute");
	cr_assert_str_eq(mysql_command_name(0xEE), "Unknown");
	for (int c = 0; c < 256; c++)
		cr_assert_not_null(mysql_command_name((uint8_t)c));
}
