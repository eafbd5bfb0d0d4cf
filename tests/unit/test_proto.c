/*
 * The pure codec: integers, greeting, handshake response, change user,
 * OK/ERR/EOF, builders.  The greeting and handshake response are bytes
 * captured from MariaDB 10.11.19 (Debian 12) and its libmariadb 3.3 client.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "mysql_proto.h"

/* Greeting payload of mariadbd 10.11.19: connection id 11, caps low 0xF7FE,
 * high 0x81FF, MariaDB ext 0x1D, charset 8, status AUTOCOMMIT. */
static const uint8_t greeting_mariadb[100] = {
	0x0a, 0x35, 0x2e, 0x35, 0x2e, 0x35, 0x2d, 0x31, 0x30, 0x2e, 0x31, 0x31,
	0x2e, 0x31, 0x39, 0x2d, 0x4d, 0x61, 0x72, 0x69, 0x61, 0x44, 0x42, 0x2d,
	0x30, 0x2b, 0x64, 0x65, 0x62, 0x31, 0x32, 0x75, 0x31, 0x00, 0x0b, 0x00,
	0x00, 0x00, 0x43, 0x41, 0x5a, 0x23, 0x3b, 0x42, 0x76, 0x4f, 0x00, 0xfe,
	0xf7, 0x08, 0x02, 0x00, 0xff, 0x81, 0x15, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x1d, 0x00, 0x00, 0x00, 0x65, 0x2f, 0x5a, 0x59, 0x2e, 0x78, 0x37,
	0x45, 0x35, 0x77, 0x79, 0x7b, 0x00, 0x6d, 0x79, 0x73, 0x71, 0x6c, 0x5f,
	0x6e, 0x61, 0x74, 0x69, 0x76, 0x65, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77,
	0x6f, 0x72, 0x64, 0x00,
};

/* HandshakeResponse41 of the mariadb CLI (libmariadb 3.3.20): user "e",
 * 20-byte lenenc auth response, schema "db1", plugin
 * mysql_native_password, 127 bytes of connect attributes, ext caps 0x1D. */
static const uint8_t hs_resp_ed25519[209] = {
	0x8c, 0xa2, 0xbf, 0x00, 0x00, 0x00, 0x10, 0x00, 0x21, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x65, 0x00, 0x14, 0x60,
	0x52, 0xf8, 0xb0, 0xc1, 0xaa, 0xfa, 0xbd, 0x07, 0x7d, 0x73, 0xdf, 0x65,
	0xfa, 0xc1, 0x15, 0x37, 0x46, 0xa4, 0x3b, 0x64, 0x62, 0x31, 0x00, 0x6d,
	0x79, 0x73, 0x71, 0x6c, 0x5f, 0x6e, 0x61, 0x74, 0x69, 0x76, 0x65, 0x5f,
	0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x00, 0x7f, 0x03, 0x5f,
	0x6f, 0x73, 0x05, 0x4c, 0x69, 0x6e, 0x75, 0x78, 0x0c, 0x5f, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x6c, 0x69,
	0x62, 0x6d, 0x61, 0x72, 0x69, 0x61, 0x64, 0x62, 0x04, 0x5f, 0x70, 0x69,
	0x64, 0x05, 0x32, 0x32, 0x30, 0x30, 0x32, 0x0f, 0x5f, 0x63, 0x6c, 0x69,
	0x65, 0x6e, 0x74, 0x5f, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x06,
	0x33, 0x2e, 0x33, 0x2e, 0x32, 0x30, 0x09, 0x5f, 0x70, 0x6c, 0x61, 0x74,
	0x66, 0x6f, 0x72, 0x6d, 0x06, 0x78, 0x38, 0x36, 0x5f, 0x36, 0x34, 0x0c,
	0x70, 0x72, 0x6f, 0x67, 0x72, 0x61, 0x6d, 0x5f, 0x6e, 0x61, 0x6d, 0x65,
	0x05, 0x6d, 0x79, 0x73, 0x71, 0x6c, 0x0c, 0x5f, 0x73, 0x65, 0x72, 0x76,
	0x65, 0x72, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x09, 0x31, 0x32, 0x37, 0x2e,
	0x30, 0x2e, 0x30, 0x2e, 0x31,
};

#define MDB_CAPS (0xF7FEull | 0x81FFull << 16 | 0x1Dull << 32)

static bool str_is(struct mysql_str s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* ---- lenenc ------------------------------------------------------------ */

Test(proto, lenenc_every_size_round_trips)
{
	static const struct {
		uint64_t v;
		size_t size;
		uint8_t first;
	} cases[] = {
		{0, 1, 0x00}, {1, 1, 0x01}, {250, 1, 0xFA}, {251, 3, 0xFC},
		{0xFFFF, 3, 0xFC}, {0x10000, 4, 0xFD}, {0xFFFFFF, 4, 0xFD},
		{0x1000000, 9, 0xFE}, {0x123456789ABCDEFull, 9, 0xFE},
		{UINT64_MAX, 9, 0xFE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[12];
		uint64_t v = 0;

		memset(b, 0xAA, sizeof(b));
		uint8_t *end = mysql_put_lenenc(b, cases[i].v);
		cr_assert_eq((size_t)(end - b), cases[i].size, "case %zu", i);
		cr_assert_eq(mysql_lenenc_size(cases[i].v), cases[i].size);
		cr_assert_eq(b[0], cases[i].first, "case %zu", i);
		cr_assert_eq(b[cases[i].size], 0xAA, "wrote past the end");
		/* extra bytes after it are not consumed */
		cr_assert_eq(mysql_get_lenenc(b, sizeof(b), &v), (int)cases[i].size);
		cr_assert_eq(v, cases[i].v, "case %zu", i);
		for (size_t cut = 0; cut < cases[i].size; cut++)
			cr_assert_eq(mysql_get_lenenc(b, cut, &v), -1,
				     "case %zu cut at %zu", i, cut);
	}
}

Test(proto, lenenc_known_encodings_and_markers)
{
	const uint8_t fc[] = {0xFC, 0xFB, 0x00};
	const uint8_t fd[] = {0xFD, 0x01, 0x02, 0x03};
	const uint8_t fe[] = {0xFE, 1, 2, 3, 4, 5, 6, 7, 8};
	const uint8_t null_marker = 0xFB, err_marker = 0xFF;
	uint64_t v;

	cr_assert_eq(mysql_get_lenenc(fc, 3, &v), 3);
	cr_assert_eq(v, 251);
	cr_assert_eq(mysql_get_lenenc(fd, 4, &v), 4);
	cr_assert_eq(v, 0x030201);
	cr_assert_eq(mysql_get_lenenc(fe, 9, &v), 9);
	cr_assert_eq(v, 0x0807060504030201ull);
	cr_assert_eq(mysql_get_lenenc(&null_marker, 1, &v), -1);
	cr_assert_eq(mysql_get_lenenc(&err_marker, 1, &v), -1);
	cr_assert_eq(mysql_get_lenenc(NULL, 0, &v), -1);
}

/* ---- greeting ---------------------------------------------------------- */

Test(proto, greeting_from_mariadb)
{
	struct mysql_greeting g;

	cr_assert_eq(mysql_parse_greeting(greeting_mariadb,
					  sizeof(greeting_mariadb), &g), 0);
	cr_assert_eq(g.protocol, 10);
	cr_assert(str_is(g.server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1"));
	cr_assert_eq(g.connection_id, 11);
	cr_assert_eq(g.caps, MDB_CAPS, "caps %#llx", (unsigned long long)g.caps);
	cr_assert_not(g.caps & CLIENT_MYSQL);
	cr_assert_not(g.caps & CLIENT_SSL, "this server has no TLS set up");
	cr_assert(g.caps & CLIENT_COMPRESS);
	cr_assert(g.caps & CLIENT_DEPRECATE_EOF);
	cr_assert(g.caps & MARIADB_CLIENT_CACHE_METADATA);
	cr_assert_eq(g.charset, 8);
	cr_assert_eq(g.status, SERVER_STATUS_AUTOCOMMIT);
	cr_assert_eq(memcmp(g.scramble1, "CAZ#;BvO", 8), 0);
	cr_assert_eq(g.scramble2_len, 12);
	cr_assert_eq(memcmp(g.scramble2, "e/ZY.x7E5wy{", 12), 0);
	cr_assert(str_is(g.auth_plugin, "mysql_native_password"));
	cr_assert_eq(g.caps_lo_off, 47);
	cr_assert_eq(g.caps_hi_off, 52);
	cr_assert_eq(g.ext_caps_off, 61);
}

Test(proto, greeting_caps_rewrite_keeps_everything_else)
{
	uint8_t p[sizeof(greeting_mariadb)];
	struct mysql_greeting g, g2;

	memcpy(p, greeting_mariadb, sizeof(p));
	cr_assert_eq(mysql_parse_greeting(p, sizeof(p), &g), 0);
	uint64_t masked = g.caps & ~MYSQL_CAPS_PROXY_MASK;
	mysql_greeting_set_caps(p, &g, masked);
	cr_assert_eq(mysql_parse_greeting(p, sizeof(p), &g2), 0);
	cr_assert_eq(g2.caps, masked);
	cr_assert_not(g2.caps & (CLIENT_SSL | CLIENT_COMPRESS |
				 MARIADB_CLIENT_CACHE_METADATA |
				 MARIADB_CLIENT_PROGRESS));
	cr_assert(g2.caps & MARIADB_CLIENT_STMT_BULK_OPERATIONS);
	cr_assert(g2.caps & CLIENT_PLUGIN_AUTH);
	/* low caps 0xF7FE lose SSL (0x0800) and COMPRESS (0x0020) */
	cr_assert_eq(mysql_get_u16(p + 47), 0xF7FE & ~0x0820);
	cr_assert_eq(mysql_get_u32(p + 61), 0x1D & ~(0x01 | 0x10));
	for (size_t i = 0; i < sizeof(p); i++) {
		bool cap_byte = (i >= 47 && i < 49) || (i >= 52 && i < 54) ||
				(i >= 61 && i < 65);
		if (!cap_byte)
			cr_assert_eq(p[i], greeting_mariadb[i], "byte %zu changed", i);
	}
	cr_assert(str_is(g2.auth_plugin, "mysql_native_password"));
}

Test(proto, greeting_truncated_at_every_length)
{
	struct mysql_greeting g;

	for (size_t len = 0; len <= sizeof(greeting_mariadb); len++) {
		uint8_t p[sizeof(greeting_mariadb)];
		memcpy(p, greeting_mariadb, len); /* ASan sees reads past len */
		int rc = mysql_parse_greeting(p, len, &g);
		/* 49: a pre-4.1 server stops after the low caps; from 78 on only
		 * the plugin name (which may lack its NUL) is cut. */
		int want = (len == 49 || len >= 78) ? 0 : -1;
		cr_assert_eq(rc, want, "len %zu", len);
		if (len == 49) {
			cr_assert_eq(g.caps, 0xF7FE);
			cr_assert_eq(g.caps_hi_off, 0);
			cr_assert_eq(g.ext_caps_off, 0);
		}
		if (len >= 78 && len < sizeof(greeting_mariadb))
			cr_assert_eq(g.auth_plugin.len, len - 78);
	}
}

Test(proto, greeting_err_is_not_a_greeting)
{
	const uint8_t err[] = {0xFF, 0x10, 0x04, 'T', 'o', 'o', ' ', 'm', 'a',
			       'n', 'y', 0};
	struct mysql_greeting g;

	cr_assert_eq(mysql_parse_greeting(err, sizeof(err), &g), -1);
}

/* A MySQL 8 greeting: CLIENT_MYSQL set, so the reserved bytes are filler. */
static size_t mysql8_greeting(uint8_t *p)
{
	size_t n = 0;
	const char *ver = "8.0.36";

	p[n++] = 10;
	memcpy(p + n, ver, strlen(ver) + 1);
	n += strlen(ver) + 1;
	mysql_put_u32(p + n, 77); n += 4;
	memcpy(p + n, "ABCDEFGH", 8); n += 8;
	p[n++] = 0;
	mysql_put_u16(p + n, 0xFFFF); n += 2;
	p[n++] = 255;
	mysql_put_u16(p + n, SERVER_STATUS_AUTOCOMMIT); n += 2;
	mysql_put_u16(p + n, 0xDFFF); n += 2;
	p[n++] = 21;
	memset(p + n, 0, 10); n += 10;
	memcpy(p + n, "IJKLMNOPQRST", 13); n += 13;
	memcpy(p + n, "caching_sha2_password", 22); n += 22;
	return n;
}

Test(proto, greeting_from_mysql8)
{
	uint8_t p[128], before[128];
	size_t n = mysql8_greeting(p);
	struct mysql_greeting g;

	cr_assert_eq(mysql_parse_greeting(p, n, &g), 0);
	cr_assert(str_is(g.server_version, "8.0.36"));
	cr_assert_eq(g.connection_id, 77);
	cr_assert_eq(g.caps, 0xDFFFFFFFull);
	cr_assert_eq(g.ext_caps_off, 0, "MySQL: no MariaDB ext caps");
	cr_assert_eq(g.charset, 255);
	cr_assert_eq(g.scramble2_len, 12);
	cr_assert(str_is(g.auth_plugin, "caching_sha2_password"));

	memcpy(before, p, n);
	mysql_greeting_set_caps(p, &g, g.caps & ~MYSQL_CAPS_PROXY_MASK);
	cr_assert_eq(mysql_parse_greeting(p, n, &g), 0);
	cr_assert_not(g.caps & (CLIENT_SSL | CLIENT_QUERY_ATTRIBUTES |
				CLIENT_ZSTD_COMPRESSION_ALGORITHM));
	cr_assert(g.caps & CLIENT_MYSQL);
	cr_assert_eq(memcmp(p + 55, before + 55, n - 55), 0,
		     "reserved bytes and what follows untouched");
}

/* ---- handshake response ------------------------------------------------ */

Test(proto, handshake_response_from_libmariadb)
{
	struct mysql_handshake_response r;
	const uint64_t client = 0x00BFA28Cull | 0x1Dull << 32;

	cr_assert_eq(mysql_parse_handshake_response(hs_resp_ed25519,
						    sizeof(hs_resp_ed25519),
						    MDB_CAPS, &r), 0);
	cr_assert_eq(r.caps, client, "caps %#llx", (unsigned long long)r.caps);
	cr_assert_eq(r.max_packet, 0x100000);
	cr_assert_eq(r.charset, 0x21);
	cr_assert_not(r.ssl_request);
	cr_assert(str_is(r.user, "e"));
	cr_assert_eq(r.auth.len, 20);
	cr_assert_eq((const uint8_t *)r.auth.ptr, hs_resp_ed25519 + 35);
	cr_assert(str_is(r.schema, "db1"));
	cr_assert(str_is(r.plugin, "mysql_native_password"));
	cr_assert_eq(r.attrs.len, 127);
	cr_assert_eq(r.ext_caps_off, 28);

	static const char *const want[][2] = {
		{"_os", "Linux"}, {"_client_name", "libmariadb"},
		{"_pid", "22002"}, {"_client_version", "3.3.20"},
		{"_platform", "x86_64"}, {"program_name", "mysql"},
		{"_server_host", "127.0.0.1"},
	};
	size_t pos = 0, i = 0;
	struct mysql_str k, v;
	int rc;
	while ((rc = mysql_attrs_next(r.attrs, &pos, &k, &v)) == 1) {
		cr_assert_lt(i, 7);
		cr_assert(str_is(k, want[i][0]), "key %zu", i);
		cr_assert(str_is(v, want[i][1]), "value %zu", i);
		i++;
	}
	cr_assert_eq(rc, 0);
	cr_assert_eq(i, 7);
	cr_assert_eq(pos, 127);
}

Test(proto, handshake_response_truncated_at_every_length)
{
	struct mysql_handshake_response r;
	const size_t n = sizeof(hs_resp_ed25519);

	for (size_t len = 0; len <= n; len++) {
		uint8_t p[sizeof(hs_resp_ed25519)];
		memcpy(p, hs_resp_ed25519, len);
		int rc = mysql_parse_handshake_response(p, len, MDB_CAPS, &r);
		/* Mandatory: 32 fixed bytes (no CLIENT_SSL: not an SSLRequest),
		 * user (32..33), auth (34..54).  The trailing schema (55..58)
		 * and plugin (59..80) may be cut; a cut attribute block (81..)
		 * is malformed. */
		int want = (len >= 55 && len <= 81) || len == n ? 0 : -1;
		cr_assert_eq(rc, want, "len %zu", len);
	}
}

Test(proto, handshake_response_caps_rewrite)
{
	uint8_t p[sizeof(hs_resp_ed25519)];
	struct mysql_handshake_response r, r2;

	memcpy(p, hs_resp_ed25519, sizeof(p));
	cr_assert_eq(mysql_parse_handshake_response(p, sizeof(p), MDB_CAPS, &r), 0);
	uint64_t caps = (r.caps | CLIENT_SSL) & ~MYSQL_CAPS_PROXY_MASK;
	mysql_handshake_response_set_caps(p, &r, caps);
	cr_assert_eq(mysql_parse_handshake_response(p, sizeof(p), MDB_CAPS, &r2), 0);
	cr_assert_eq(r2.caps, r.caps & ~MYSQL_CAPS_PROXY_MASK);
	cr_assert_not(r2.caps & (MARIADB_CLIENT_PROGRESS | MARIADB_CLIENT_CACHE_METADATA));
	cr_assert(r2.caps & MARIADB_CLIENT_STMT_BULK_OPERATIONS);
	cr_assert_eq(mysql_get_u32(p + 28), 0x1D & ~(0x01 | 0x10));
	for (size_t i = 4; i < sizeof(p); i++)
		if (i < 28 || i >= 32)
			cr_assert_eq(p[i], hs_resp_ed25519[i], "byte %zu changed", i);
}

/* Builds a HandshakeResponse41 the way a client with `caps` does. */
static size_t handshake_response(uint8_t *p, uint64_t caps, const char *user,
				 const uint8_t *auth, size_t alen,
				 const char *db, const char *plugin,
				 const uint8_t *attrs, size_t attrs_len)
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
	} else if (caps & CLIENT_SECURE_CONNECTION) {
		p[n++] = (uint8_t)alen;
	}
	if (alen)
		memcpy(p + n, auth, alen);
	n += alen;
	if (!(caps & (CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
		      CLIENT_SECURE_CONNECTION)))
		p[n++] = 0; /* pre-4.1 auth: a NUL-terminated string */
	if (db) {
		memcpy(p + n, db, strlen(db) + 1);
		n += strlen(db) + 1;
	}
	if (plugin) {
		memcpy(p + n, plugin, strlen(plugin) + 1);
		n += strlen(plugin) + 1;
	}
	if (attrs) {
		n = (size_t)(mysql_put_lenenc(p + n, attrs_len) - p);
		memcpy(p + n, attrs, attrs_len);
		n += attrs_len;
	}
	return n;
}

#define BASE_CAPS (CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION)

Test(proto, handshake_response_without_db_and_plugin)
{
	uint8_t p[512];
	const uint8_t auth[20] = {1, 2, 3};
	struct mysql_handshake_response r;
	size_t n = handshake_response(p, BASE_CAPS, "bob", auth, 20, NULL, NULL,
				      NULL, 0);

	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), 0);
	cr_assert(str_is(r.user, "bob"));
	cr_assert_eq(r.auth.len, 20);
	cr_assert_eq(r.auth.ptr[2], 3);
	cr_assert_eq(r.schema.len, 0);
	cr_assert_eq(r.plugin.len, 0);
	cr_assert_eq(r.attrs.len, 0);
	cr_assert_eq(r.ext_caps_off, 28, "a MariaDB client: CLIENT_MYSQL clear");
}

Test(proto, handshake_response_db_without_plugin_and_empty_auth)
{
	uint8_t p[512];
	struct mysql_handshake_response r;
	uint64_t caps = BASE_CAPS | CLIENT_CONNECT_WITH_DB;
	size_t n = handshake_response(p, caps, "root", NULL, 0, "shop", NULL,
				      NULL, 0);

	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), 0);
	cr_assert_eq(r.auth.len, 0);
	cr_assert(str_is(r.schema, "shop"));
	cr_assert_eq(r.plugin.len, 0);
}

Test(proto, handshake_response_lenenc_auth_longer_than_250)
{
	uint8_t p[1024], auth[300];
	const uint8_t kv[] = {1, 'k', 0};
	struct mysql_handshake_response r;
	uint64_t caps = BASE_CAPS | CLIENT_PLUGIN_AUTH |
			CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_CONNECT_ATTRS;

	for (size_t i = 0; i < sizeof(auth); i++)
		auth[i] = (uint8_t)i;
	size_t n = handshake_response(p, caps, "u", auth, sizeof(auth),
				      NULL, "sha256_password", kv, sizeof(kv));
	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), 0);
	cr_assert_eq(r.auth.len, 300);
	cr_assert_eq(memcmp(r.auth.ptr, auth, 300), 0);
	cr_assert(str_is(r.plugin, "sha256_password"));
	size_t pos = 0;
	struct mysql_str k, v;
	cr_assert_eq(mysql_attrs_next(r.attrs, &pos, &k, &v), 1);
	cr_assert(str_is(k, "k"));
	cr_assert_eq(v.len, 0, "an empty value is fine");
	cr_assert_eq(mysql_attrs_next(r.attrs, &pos, &k, &v), 0);
}

Test(proto, handshake_response_nul_terminated_auth_of_old_clients)
{
	uint8_t p[512];
	struct mysql_handshake_response r;
	uint64_t caps = CLIENT_PROTOCOL_41 | CLIENT_CONNECT_WITH_DB;
	size_t n = handshake_response(p, caps, "old", (const uint8_t *)"scr",
				      3, "db", NULL, NULL, 0);

	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), 0);
	cr_assert(str_is(r.auth, "scr"));
	cr_assert(str_is(r.schema, "db"));
}

Test(proto, handshake_response_layout_follows_the_intersection)
{
	/* The client claims CONNECT_WITH_DB but the greeting lacked it: the
	 * server reads no schema, so the next string is the plugin. */
	uint8_t p[512];
	const uint8_t auth[20] = {0};
	struct mysql_handshake_response r;
	uint64_t caps = BASE_CAPS | CLIENT_CONNECT_WITH_DB | CLIENT_PLUGIN_AUTH;
	size_t n = handshake_response(p, caps, "u", auth, 20, NULL,
				      "client_ed25519", NULL, 0);

	cr_assert_eq(mysql_parse_handshake_response(
			     p, n, MDB_CAPS & ~CLIENT_CONNECT_WITH_DB, &r), 0);
	cr_assert_eq(r.caps & CLIENT_CONNECT_WITH_DB, CLIENT_CONNECT_WITH_DB,
		     "caps are reported as sent");
	cr_assert_eq(r.schema.len, 0);
	cr_assert(str_is(r.plugin, "client_ed25519"));
}

Test(proto, handshake_response_ext_caps_only_without_client_mysql)
{
	uint8_t p[512];
	const uint8_t auth[20] = {0};
	struct mysql_handshake_response r;
	uint64_t caps = CLIENT_MYSQL | BASE_CAPS;

	/* A MySQL client leaves the filler zero; put junk there to be sure
	 * it is not read as capabilities. */
	size_t n = handshake_response(p, caps | 0xFFull << 32, "x", auth, 20,
				      NULL, NULL, NULL, 0);
	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), 0);
	cr_assert_eq(r.caps, caps);
	cr_assert_eq(r.ext_caps_off, 0);

	/* A MariaDB client (bit clear) against a MySQL server: filler too. */
	n = handshake_response(p, BASE_CAPS | 0x04ull << 32, "x", auth, 20,
			       NULL, NULL, NULL, 0);
	cr_assert_eq(mysql_parse_handshake_response(p, n, 0xFFFFFFFFull, &r), 0);
	cr_assert_eq(r.caps, BASE_CAPS);
	cr_assert_eq(r.ext_caps_off, 0);
	/* ... and against MariaDB the ext bits are read */
	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), 0);
	cr_assert_eq(r.caps, BASE_CAPS | MARIADB_CLIENT_STMT_BULK_OPERATIONS);
	/* set_caps leaves the filler of a MySQL-style response alone */
	n = handshake_response(p, caps, "x", auth, 20, NULL, NULL, NULL, 0);
	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), 0);
	mysql_handshake_response_set_caps(p, &r, ~0ull);
	cr_assert_eq(mysql_get_u32(p), 0xFFFFFFFF);
	cr_assert_eq(mysql_get_u32(p + 28), 0);
}

Test(proto, ssl_request)
{
	uint8_t ssl[32] = {0};
	struct mysql_handshake_response r;

	mysql_put_u32(ssl, (uint32_t)(BASE_CAPS | CLIENT_SSL));
	mysql_put_u32(ssl + 4, 0x1000000);
	ssl[8] = 33;
	mysql_put_u32(ssl + 28, 0x04);
	cr_assert_eq(mysql_parse_handshake_response(ssl, 32, MDB_CAPS, &r), 0);
	cr_assert(r.ssl_request);
	cr_assert_eq(r.caps, BASE_CAPS | CLIENT_SSL | MARIADB_CLIENT_STMT_BULK_OPERATIONS);
	cr_assert_eq(r.charset, 33);
	cr_assert_eq(r.user.len, 0);
	/* 32 bytes without CLIENT_SSL: a response cut before the user */
	mysql_put_u32(ssl, (uint32_t)BASE_CAPS);
	cr_assert_eq(mysql_parse_handshake_response(ssl, 32, MDB_CAPS, &r), -1);
	mysql_put_u32(ssl, (uint32_t)(BASE_CAPS | CLIENT_SSL));
	cr_assert_eq(mysql_parse_handshake_response(ssl, 31, MDB_CAPS, &r), -1);
}

Test(proto, handshake_response_malformed)
{
	uint8_t p[512];
	const uint8_t auth[20] = {0};
	struct mysql_handshake_response r;
	size_t n = handshake_response(p, BASE_CAPS, "bob", auth, 20, NULL, NULL,
				      NULL, 0);

	p[32 + 4] = 21; /* auth length one past the end */
	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), -1);
	p[32 + 4] = 20;
	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), 0);
	memset(p + 32, 'u', 64); /* user without NUL */
	cr_assert_eq(mysql_parse_handshake_response(p, 32 + 64, MDB_CAPS, &r), -1);

	/* lenenc auth with a NULL marker */
	uint64_t caps = BASE_CAPS | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
	n = handshake_response(p, caps, "bob", auth, 20, NULL, NULL, NULL, 0);
	p[36] = 0xFB;
	cr_assert_eq(mysql_parse_handshake_response(p, n, MDB_CAPS, &r), -1);
}

/* ---- connect attributes ------------------------------------------------ */

Test(proto, attrs_iterator_rejects_malformed_blocks)
{
	struct mysql_str k, v;
	size_t pos;
	const uint8_t value_past_end[] = {1, 'a', 5, 'x'};
	const uint8_t key_only[] = {1, 'a'};
	const uint8_t good_then_bad[] = {1, 'a', 1, 'b', 0xFB};
	struct mysql_str a = {(const char *)value_past_end, sizeof(value_past_end)};

	pos = 0;
	cr_assert_eq(mysql_attrs_next(a, &pos, &k, &v), -1);
	a = (struct mysql_str){(const char *)key_only, sizeof(key_only)};
	pos = 0;
	cr_assert_eq(mysql_attrs_next(a, &pos, &k, &v), -1);
	a = (struct mysql_str){(const char *)good_then_bad, sizeof(good_then_bad)};
	pos = 0;
	cr_assert_eq(mysql_attrs_next(a, &pos, &k, &v), 1);
	cr_assert(str_is(k, "a"));
	cr_assert(str_is(v, "b"));
	cr_assert_eq(mysql_attrs_next(a, &pos, &k, &v), -1);
	a = (struct mysql_str){NULL, 0};
	pos = 0;
	cr_assert_eq(mysql_attrs_next(a, &pos, &k, &v), 0);
}

/* ---- COM_CHANGE_USER --------------------------------------------------- */

static size_t change_user(uint8_t *p, bool secure, bool with_tail)
{
	size_t n = 0;

	p[n++] = COM_CHANGE_USER;
	memcpy(p + n, "carol", 6); n += 6;
	if (secure) {
		p[n++] = 3;
		memcpy(p + n, "\x01\x00\x03", 3); n += 3;
	} else {
		memcpy(p + n, "pw", 3); n += 3;
	}
	memcpy(p + n, "db2", 4); n += 4;
	if (!with_tail)
		return n;
	mysql_put_u16(p + n, 224); n += 2;
	memcpy(p + n, "client_ed25519", 15); n += 15;
	const uint8_t attrs[] = {10, 3, '_', 'o', 's', 5, 'L', 'i', 'n', 'u', 'x'};
	memcpy(p + n, attrs, sizeof(attrs)); n += sizeof(attrs);
	return n;
}

Test(proto, change_user_full)
{
	uint8_t p[128];
	size_t n = change_user(p, true, true);
	struct mysql_change_user cu;

	cr_assert_eq(n, 43);
	uint64_t caps = CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH |
			CLIENT_CONNECT_ATTRS;

	cr_assert_eq(mysql_parse_change_user(p, n, caps, &cu), 0);
	cr_assert(str_is(cu.user, "carol"));
	cr_assert_eq(cu.auth.len, 3);
	cr_assert_eq(cu.auth.ptr[1], 0, "auth bytes may hold a NUL");
	cr_assert(str_is(cu.schema, "db2"));
	cr_assert_eq(cu.charset, 224);
	cr_assert(str_is(cu.plugin, "client_ed25519"));
	cr_assert_eq(cu.attrs.len, 10);
	size_t pos = 0;
	struct mysql_str k, v;
	cr_assert_eq(mysql_attrs_next(cu.attrs, &pos, &k, &v), 1);
	cr_assert(str_is(v, "Linux"));

	/* Truncated everywhere: the schema (from 11) must begin, the rest
	 * is optional, but a cut attribute block (32..42) is malformed. */
	for (size_t len = 0; len <= n; len++) {
		uint8_t q[128];
		memcpy(q, p, len);
		int rc = mysql_parse_change_user(q, len, caps, &cu);
		int want = (len >= 12 && len <= 32) || len == n ? 0 : -1;
		cr_assert_eq(rc, want, "len %zu", len);
	}
}

Test(proto, change_user_old_layout_and_errors)
{
	uint8_t p[128];
	size_t n = change_user(p, false, false);
	struct mysql_change_user cu;

	cr_assert_eq(mysql_parse_change_user(p, n, 0, &cu), 0);
	cr_assert(str_is(cu.auth, "pw"));
	cr_assert(str_is(cu.schema, "db2"));
	cr_assert_eq(cu.charset, 0);
	cr_assert_eq(cu.plugin.len, 0);
	p[0] = COM_QUERY;
	cr_assert_eq(mysql_parse_change_user(p, n, 0, &cu), -1);
	/* secure layout, auth length past the end */
	n = change_user(p, true, false);
	p[7] = 200;
	cr_assert_eq(mysql_parse_change_user(p, n, CLIENT_SECURE_CONNECTION, &cu), -1);
}

/* ---- OK / ERR / EOF ---------------------------------------------------- */

Test(proto, ok_from_mariadb_with_session_state)
{
	/* The OK after login to "db1": SESSION_STATE_CHANGED | AUTOCOMMIT,
	 * then an empty info string and the schema change. */
	const uint8_t ok_pkt[] = {0x00, 0x00, 0x00, 0x02, 0x40, 0x00, 0x00, 0x00,
				  0x06, 0x01, 0x04, 0x03, 'd', 'b', '1'};
	struct mysql_ok ok;

	cr_assert_eq(mysql_parse_ok(ok_pkt, sizeof(ok_pkt), &ok), 0);
	cr_assert_eq(ok.status, SERVER_SESSION_STATE_CHANGED | SERVER_STATUS_AUTOCOMMIT);
	cr_assert_eq(ok.affected_rows, 0);
	cr_assert_eq(ok.warnings, 0);
}

Test(proto, ok_round_trip_and_truncation)
{
	uint8_t b[64];
	struct mysql_ok ok;
	size_t n = mysql_build_ok(b, 1, 300, 70000, SERVER_STATUS_IN_TRANS, 2);

	/* 0x00, 3-byte 300, 4-byte 70000, status, warnings */
	cr_assert_eq(n, 4 + 1 + 3 + 4 + 2 + 2);
	cr_assert_eq(mysql_get_u24(b), n - 4);
	cr_assert_eq(b[3], 1);
	cr_assert_eq(b[4], 0x00);
	cr_assert_eq(mysql_parse_ok(b + 4, n - 4, &ok), 0);
	cr_assert_eq(ok.affected_rows, 300);
	cr_assert_eq(ok.last_insert_id, 70000);
	cr_assert_eq(ok.status, SERVER_STATUS_IN_TRANS);
	cr_assert_eq(ok.warnings, 2);
	/* without warnings it still parses (status is the last mandatory) */
	for (size_t len = 0; len < n - 4; len++)
		cr_assert_eq(mysql_parse_ok(b + 4, len, &ok),
			     len >= n - 4 - 2 ? 0 : -1, "len %zu", len);

	n = mysql_build_ok(b, 255, UINT64_MAX, 1ull << 40, 0xFFFF, 0xFFFF);
	cr_assert_eq(n, 27, "the documented maximum");
	cr_assert_eq(mysql_parse_ok(b + 4, n - 4, &ok), 0);
	cr_assert_eq(ok.affected_rows, UINT64_MAX);
	cr_assert_eq(ok.last_insert_id, 1ull << 40);
	cr_assert_eq(ok.status, 0xFFFF);
	cr_assert_eq(b[3], 255);

	/* 0xFE-led OK (DEPRECATE_EOF terminator) and a pre-4.1 lone 0xFE */
	const uint8_t fe_ok[] = {0xFE, 0, 0, 0x22, 0, 0, 0};
	cr_assert_eq(mysql_parse_ok(fe_ok, sizeof(fe_ok), &ok), 0);
	cr_assert_eq(ok.status, 0x22);
	cr_assert_eq(mysql_parse_ok(fe_ok, 1, &ok), 0);
	cr_assert_eq(ok.status, 0);
	const uint8_t lone_zero = 0x00, not_ok[] = {0x01, 0, 0, 2, 0, 0, 0};
	cr_assert_eq(mysql_parse_ok(&lone_zero, 1, &ok), -1);
	cr_assert_eq(mysql_parse_ok(not_ok, sizeof(not_ok), &ok), -1);
}

Test(proto, err_from_mariadb)
{
	const char msg[] = "Access denied for user 'e'@'localhost' (using password: YES)";
	uint8_t p[128] = {0xFF, 0x15, 0x04, '#', '2', '8', '0', '0', '0'};
	struct mysql_err e;

	memcpy(p + 9, msg, sizeof(msg) - 1);
	cr_assert_eq(mysql_parse_err(p, 9 + sizeof(msg) - 1, &e), 0);
	cr_assert_eq(e.code, 1045);
	cr_assert_str_eq(e.sqlstate, "28000");
	cr_assert(str_is(e.message, msg));

	/* pre-4.1 layout: no SQLSTATE marker */
	const uint8_t old[] = {0xFF, 0x10, 0x04, 'T', 'o', 'o', ' ', 'm'};
	cr_assert_eq(mysql_parse_err(old, sizeof(old), &e), 0);
	cr_assert_eq(e.code, 1040);
	cr_assert_str_eq(e.sqlstate, "HY000");
	cr_assert(str_is(e.message, "Too m"));
	/* '#' but too short for a SQLSTATE: a message */
	const uint8_t hash[] = {0xFF, 1, 0, '#', 'a'};
	cr_assert_eq(mysql_parse_err(hash, sizeof(hash), &e), 0);
	cr_assert_str_eq(e.sqlstate, "HY000");
	cr_assert(str_is(e.message, "#a"));
	for (size_t len = 0; len < 3; len++)
		cr_assert_eq(mysql_parse_err(p, len, &e), -1);
	cr_assert_eq(mysql_parse_err(p, 3, &e), 0);
	cr_assert_eq(e.message.len, 0);
	p[0] = 0x00;
	cr_assert_eq(mysql_parse_err(p, 20, &e), -1);
}

Test(proto, eof_parse)
{
	/* EOF from MariaDB inside CALL: MORE_RESULTS | AUTOCOMMIT */
	const uint8_t eof[] = {0xFE, 0x01, 0x00, 0x0A, 0x00, 0, 0, 0, 0};
	uint16_t st = 1, w = 1;

	cr_assert_eq(mysql_parse_eof(eof, 5, &st, &w), 0);
	cr_assert_eq(st, SERVER_MORE_RESULTS_EXISTS | SERVER_STATUS_AUTOCOMMIT);
	cr_assert_eq(w, 1);
	cr_assert_eq(mysql_parse_eof(eof, 1, &st, &w), 0, "pre-4.1 EOF");
	cr_assert_eq(st, 0);
	cr_assert_eq(w, 0);
	cr_assert_eq(mysql_parse_eof(eof, 8, &st, &w), 0);
	cr_assert_eq(mysql_parse_eof(eof, 9, &st, &w), -1, "too long for EOF");
	cr_assert_eq(mysql_parse_eof(eof, 0, &st, &w), -1);
	const uint8_t ok[] = {0x00, 0, 0, 2, 0};
	cr_assert_eq(mysql_parse_eof(ok, 5, &st, &w), -1);
}

Test(proto, build_err_round_trip_and_limits)
{
	uint8_t b[64];
	struct mysql_err e;
	size_t n = mysql_build_err(b, sizeof(b), 3, 1105, "HY000", "myring: nope");

	cr_assert_eq(n, 4 + 9 + 12);
	cr_assert_eq(mysql_get_u24(b), n - 4);
	cr_assert_eq(b[3], 3);
	cr_assert_eq(mysql_parse_err(b + 4, n - 4, &e), 0);
	cr_assert_eq(e.code, 1105);
	cr_assert_str_eq(e.sqlstate, "HY000");
	cr_assert(str_is(e.message, "myring: nope"));

	n = mysql_build_err(b, sizeof(b), 0, 1153, "08S01", "too big");
	cr_assert_eq(mysql_parse_err(b + 4, n - 4, &e), 0);
	cr_assert_str_eq(e.sqlstate, "08S01");
	/* a malformed SQLSTATE becomes HY000 */
	n = mysql_build_err(b, sizeof(b), 0, 1105, "bad", "x");
	cr_assert_eq(mysql_parse_err(b + 4, n - 4, &e), 0);
	cr_assert_str_eq(e.sqlstate, "HY000");
	n = mysql_build_err(b, sizeof(b), 0, 1105, NULL, NULL);
	cr_assert_eq(n, 13);
	cr_assert_eq(mysql_parse_err(b + 4, n - 4, &e), 0);
	cr_assert_eq(e.message.len, 0);

	/* a message longer than the buffer is cut, never overflows */
	char longmsg[200];
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[199] = 0;
	uint8_t big[80];
	memset(big, 0xEE, sizeof(big));
	n = mysql_build_err(big, 64, 0, 1040, "08004", longmsg);
	cr_assert_eq(n, 64);
	cr_assert_eq(mysql_get_u24(big), 60);
	cr_assert_eq(big[64], 0xEE, "nothing written past cap");
	cr_assert_eq(mysql_parse_err(big + 4, 60, &e), 0);
	cr_assert_eq(e.message.len, 51);
	cr_assert_eq(mysql_build_err(b, 12, 0, 1, "HY000", "x"), 0);
	cr_assert_eq(mysql_build_err(b, 13, 0, 1, "HY000", "x"), 13);
}

Test(proto, terminator_rule)
{
	cr_assert(mysql_is_terminator(0xFE, 5, false));
	cr_assert(mysql_is_terminator(0xFE, 1, false));
	cr_assert(mysql_is_terminator(0xFE, 8, false));
	cr_assert_not(mysql_is_terminator(0xFE, 9, false));
	cr_assert(mysql_is_terminator(0xFE, 9, true));
	cr_assert(mysql_is_terminator(0xFE, MYSQL_MAX_PAYLOAD - 1, true));
	cr_assert_not(mysql_is_terminator(0xFE, MYSQL_MAX_PAYLOAD, true));
	cr_assert_not(mysql_is_terminator(0x00, 5, true));
	cr_assert_not(mysql_is_terminator(0xFF, 5, false));
}

Test(proto, command_names)
{
	cr_assert_str_eq(mysql_command_name(COM_QUERY), "Query");
	cr_assert_str_eq(mysql_command_name(COM_SLEEP), "Sleep");
	cr_assert_str_eq(mysql_command_name(COM_STMT_EXECUTE), "Stmt_execute");
	cr_assert_str_eq(mysql_command_name(COM_RESET_CONNECTION), "Reset_connection");
	cr_assert_str_eq(mysql_command_name(COM_STMT_BULK_EXECUTE), "Stmt_bulk_execute");
	cr_assert_str_eq(mysql_command_name(0x20), "Unknown");
	cr_assert_str_eq(mysql_command_name(0xEE), "Unknown");
	for (int c = 0; c < 256; c++) {
		const char *name = mysql_command_name((uint8_t)c);
		cr_assert_not_null(name);
		cr_assert_gt(strlen(name), 0);
	}
}
