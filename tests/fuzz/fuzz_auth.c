/*
 * libFuzzer target for authentication (mysql_auth.c): both state machines
 * fed attacker-chosen packets, and the parsers of stored secrets and auth
 * packets.  Input: one mode byte, then chunks of [1-byte length][bytes].
 *   mode & 3 == 0  server side: chunk 1 is a HandshakeResponse41 (or a
 *                  COM_CHANGE_USER when mode & 4), the rest the client's
 *                  next packets; mode >> 3 picks the account and whether
 *                  the transport counts as secure
 *   mode & 3 == 1  client side: chunk 1 is a backend greeting, the rest
 *                  the backend's packets; mode >> 3 picks what myring knows
 *   otherwise      every chunk through every text and packet parser
 * Anything malformed must end in FAILED or an error, never a crash, an
 * over-read or a leak.
 */
#include "mysql_auth_exchange.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct auth_rsa *rsa;
static struct auth_user users[5];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t salt[20] = "fuzzfuzzfuzzfuzzfuzz";
	struct auth_sha2_crypt c;
	char stored[70];

	rsa = auth_rsa_generate(1024);
	auth_user_init(&users[0], "n", AUTH_NATIVE);
	auth_user_set_stored(&users[0], "*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D", 41);
	auth_user_init(&users[1], "e", AUTH_ED25519);
	auth_user_set_stored(&users[1], "24FjORYwAV6wiJLDpFI0doShISjOdPNUg1WR7eRAgqA", 43);
	auth_user_init(&users[2], "s", AUTH_CACHING_SHA2);
	auth_sha2_crypt_make("pw", 2, salt, 1000, &c);
	auth_sha2_crypt_format(&c, stored);
	auth_user_set_stored(&users[2], stored, 70);
	auth_user_init(&users[3], "p", AUTH_CACHING_SHA2);
	auth_user_set_password(&users[3], "pw", 2);
	auth_user_init(&users[4], "o", AUTH_NATIVE);
	auth_user_set_stored(&users[4], "", 0);
	return 0;
}

struct chunks {
	const uint8_t *p;
	size_t left;
};

static int next_chunk(struct chunks *c, const uint8_t **out, size_t *len)
{
	size_t n;

	if (!c->left)
		return 0;
	n = c->p[0];
	c->p++;
	c->left--;
	if (n > c->left)
		n = c->left;
	*out = c->p;
	*len = n;
	c->p += n;
	c->left -= n;
	return 1;
}

static uint8_t *dup(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (n)
		memcpy(d, p, n);
	return d;
}

static void server_side(uint8_t mode, struct chunks *c)
{
	static const uint8_t scramble[20] = "01234567890123456789";
	struct mysql_handshake_response r;
	struct mysql_change_user cu;
	const struct auth_user *u = &users[(mode >> 3) % 6 < 5 ? (mode >> 3) % 6 : 0];
	struct auth_server as;
	struct pkt_buf out;
	enum auth_result res = AUTH_FAILED;
	const uint8_t *p;
	uint8_t *d;
	size_t len;

	if ((mode >> 3) % 6 == 5)
		u = NULL;
	if (!next_chunk(c, &p, &len))
		return;
	pkt_buf_init(&out);
	auth_server_init(&as, scramble, "fuzz", (mode & 0x80) ? NULL : rsa,
			 (mode & 0x40) != 0);
	d = dup(p, len);
	if (mode & 4) {
		if (!mysql_parse_change_user(d, len, SRV_CAPS, &cu))
			res = auth_server_change_user(&as, &cu, u, NULL, &out);
	} else if (!mysql_parse_handshake_response(d, len, SRV_CAPS, &r) &&
		   !r.ssl_request) {
		res = auth_server_handshake(&as, &r, u, NULL, &out);
	}
	free(d);
	while (res == AUTH_CONTINUE && next_chunk(c, &p, &len)) {
		/* Copies of exactly len bytes, so ASan sees any over-read. */
		d = dup(p, len);
		res = auth_server_packet(&as, d, len, &out);
		free(d);
	}
	auth_server_clear(&as);
	pkt_buf_free(&out);
}

static void client_side(uint8_t mode, struct chunks *c)
{
	struct auth_secret s;
	struct auth_client ac;
	struct pkt_buf out;
	enum auth_result res;
	const uint8_t *p;
	uint8_t *d;
	size_t len;
	struct auth_client_params cp = {
		.user = "u", .schema = (mode & 8) ? "db" : NULL, .secret = &s,
		.caps = ~0ull, .max_packet = 1 << 24, .charset = 45,
		.secure_transport = (mode & 0x10) != 0,
	};

	auth_secret_set_password(&s, "pw", (mode & 0x20) ? 0 : 2);
	if (mode & 0x40)
		s.know = AUTH_KNOW_NATIVE | AUTH_KNOW_SHA2;
	if (!next_chunk(c, &p, &len))
		return;
	pkt_buf_init(&out);
	d = dup(p, len);
	res = auth_client_handshake(&ac, d, len, &cp, &out);
	free(d);
	while (next_chunk(c, &p, &len)) {
		d = dup(p, len);
		if (res == AUTH_DONE && (mode & 0x80))
			res = auth_client_change_user(&ac, &cp, &out);
		res = auth_client_packet(&ac, d, len, &out);
		free(d);
	}
	pkt_buf_free(&out);
	auth_secret_clear(&s);
}

static void parsers(struct chunks *c)
{
	const uint8_t *p, *data;
	struct auth_sha2_crypt sc;
	struct mysql_str name;
	uint8_t key[32], stage2[20];
	size_t len, dlen;
	uint8_t *d;

	while (next_chunk(c, &p, &len)) {
		d = dup(p, len);
		auth_native_hash_parse((const char *)d, len, stage2);
		auth_ed25519_key_parse((const char *)d, len, key);
		auth_sha2_crypt_parse((const char *)d, len, &sc);
		auth_parse_switch(d, len, &name, &data, &dlen);
		auth_plugin_from_name((const char *)d, len);
		if (len == 64)
			auth_ed25519_verify(key, d, 32, d, len);
		free(d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chunks c = {data + 1, size ? size - 1 : 0};

	if (!size)
		return 0;
	switch (data[0] & 3) {
	case 0:
		server_side(data[0], &c);
		break;
	case 1:
		client_side(data[0], &c);
		break;
	default:
		parsers(&c);
		break;
	}
	return 0;
}
