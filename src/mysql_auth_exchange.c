/*
 * mysql_auth_exchange.c - the login exchanges over whole packets: myring
 * as the server a client logs in to, and as a client of a backend.  The
 * cryptography and the packets are in mysql_auth.c.
 */
#include "mysql_auth_exchange.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* ---- server state machine ------------------------------------------------- */

/*
 * AS_IDLE --begin--> answer checked at once --> DONE | FAILED
 *              \--> AS_ANSWER (switch sent) --packet--> DONE | FAILED
 *                     caching_sha2 and the fast path did not match:
 *                     --> AS_SHA2_FULL (0x04 sent) --0x02--> AS_SHA2_RSA
 *                         (PEM sent) --ciphertext--> DONE | FAILED
 *                     AS_SHA2_FULL --ciphertext or (secure) password--> ...
 */
enum { AS_IDLE, AS_ANSWER, AS_SHA2_FULL, AS_SHA2_RSA, AS_DONE };

void auth_server_init(struct auth_server *as, const uint8_t scramble[20],
		      const char *host, const struct auth_rsa *rsa,
		      bool secure_transport)
{
	OPENSSL_cleanse(as, sizeof(*as));
	memcpy(as->scramble, scramble, 20);
	snprintf(as->host, sizeof(as->host), "%s", host ? host : "");
	as->rsa = rsa;
	as->secure_transport = secure_transport;
	as->client_plugin_auth = true;
}

void auth_server_clear(struct auth_server *as)
{
	auth_secret_clear(&as->secret);
	OPENSSL_cleanse(as->sha2_digest, sizeof(as->sha2_digest));
	OPENSSL_cleanse(as->nonce, sizeof(as->nonce));
}

static enum auth_result server_refuse(struct auth_server *as,
				     struct pkt_buf *out, uint16_t code,
				     const char *sqlstate, const char *msg)
{
	as->state = AS_DONE;
	auth_secret_clear(&as->secret);
	as->sha2_cache_fill = false;
	as->err_code = code;
	snprintf(as->err_msg, sizeof(as->err_msg), "%s", msg);
	out->seq = as->seq;
	srv_err(out, code, sqlstate, msg);
	as->seq = out->seq;
	return AUTH_FAILED;
}

static enum auth_result server_fail(struct auth_server *as, struct pkt_buf *out)
{
	char msg[sizeof(as->err_msg)];

	/* MariaDB's and MySQL's words (ER_ACCESS_DENIED_ERROR, 28000). */
	snprintf(msg, sizeof(msg),
		 "Access denied for user '%s'@'%s' (using password: %s)",
		 as->user_name, as->host, as->password_used ? "YES" : "NO");
	return server_refuse(as, out, 1045, "28000", msg);
}

static enum auth_result server_ok(struct auth_server *as)
{
	as->state = AS_DONE;
	/* A configured plaintext is more than any answer reveals. */
	if (as->user->have & AUTH_USER_PLAIN)
		as->secret = as->user->secret;
	return AUTH_DONE;
}

/* Sends one packet; the client's answer takes the next sequence id. */
static void server_send_more(struct auth_server *as, struct pkt_buf *out,
			     const void *data, size_t len)
{
	out->seq = as->seq;
	auth_build_more_data(out, data, len);
	as->seq = out->seq;
}

/* A plaintext password against whatever verifier the account has. */
static bool server_check_plain(const struct auth_user *u, const char *pw,
			       size_t len)
{
	uint8_t a[32], b[32];

	if (u->have & AUTH_USER_PLAIN) {
		/* Hashes of both: constant time whatever the lengths. */
		auth_sha2_stage1_of(pw, len, a);
		auth_sha2_stage1_of(u->secret.plain, u->secret.plain_len, b);
		return CRYPTO_memcmp(a, b, 32) == 0;
	}
	if (u->have & AUTH_USER_SHA2_CRYPT)
		return auth_sha2_crypt_verify(&u->sha2_crypt, pw, len);
	if (u->have & AUTH_USER_SHA2_DIGEST) {
		auth_sha2_stage1_of(pw, len, a);
		auth_sha2_digest_of(a, b);
		OPENSSL_cleanse(a, sizeof(a));
		return CRYPTO_memcmp(b, u->sha2_digest, 32) == 0;
	}
	if (u->have & AUTH_USER_NATIVE) {
		auth_native_stage1_of(pw, len, a);
		auth_native_stage2_of(a, b);
		OPENSSL_cleanse(a, sizeof(a));
		return CRYPTO_memcmp(b, u->native_stage2, 20) == 0;
	}
	return false;
}

/* caching_sha2 full authentication: the password itself. */
static enum auth_result server_sha2_full(struct auth_server *as, const char *pw,
					 size_t len, struct pkt_buf *out)
{
	uint8_t digest[32];

	if (!len || !server_check_plain(as->user, pw, len))
		return server_fail(as, out);
	if (auth_secret_set_password(&as->secret, pw, len))
		return server_fail(as, out);
	/* What the next fast authentication needs, as MySQL caches it. */
	auth_sha2_digest_of(as->secret.sha2_stage1, digest);
	if (!as->sha2_known || CRYPTO_memcmp(digest, as->sha2_digest, 32)) {
		memcpy(as->sha2_digest, digest, 32);
		as->sha2_cache_fill = true;
	}
	return server_ok(as);
}

static enum auth_result server_answer(struct auth_server *as,
				      const uint8_t *resp, size_t len,
				      struct pkt_buf *out)
{
	const struct auth_user *u = as->user;
	uint8_t code;

	as->password_used = len > 0;
	switch (as->plugin) {
	case AUTH_NATIVE:
		if (u->have & AUTH_USER_EMPTY)
			return len == 0 ? server_ok(as) : server_fail(as, out);
		if (!(u->have & AUTH_USER_NATIVE) ||
		    auth_native_stage1(as->nonce, resp, len, u->native_stage2,
				       as->secret.native_stage1))
			return server_fail(as, out);
		as->secret.know |= AUTH_KNOW_NATIVE;
		return server_ok(as);
	case AUTH_ED25519:
		/* MariaDB's ed25519 reports a password used, always. */
		as->password_used = true;
		if (!(u->have & AUTH_USER_ED25519) ||
		    !auth_ed25519_verify(u->ed25519_pub, as->nonce, as->nonce_len,
					 resp, len))
			return server_fail(as, out);
		return server_ok(as);
	case AUTH_CACHING_SHA2:
		/* An empty password is sent as nothing (or one NUL). */
		if (len == 0 || (len == 1 && resp[0] == 0)) {
			as->password_used = false;
			return (u->have & AUTH_USER_EMPTY) ? server_ok(as)
							   : server_fail(as, out);
		}
		if ((u->have & AUTH_USER_EMPTY) || len != 32)
			return server_fail(as, out);
		if (as->sha2_known &&
		    auth_sha2_fast_stage1(as->nonce, resp, len, as->sha2_digest,
					  as->secret.sha2_stage1) == 0) {
			as->secret.know |= AUTH_KNOW_SHA2;
			code = AUTH_SHA2_FAST_OK;
			server_send_more(as, out, &code, 1);
			return server_ok(as);
		}
		/* Not cached, or not matching (MySQL asks for the password
		 * in both cases: the cache may be stale). */
		code = AUTH_SHA2_FULL_AUTH;
		server_send_more(as, out, &code, 1);
		as->state = AS_SHA2_FULL;
		return AUTH_CONTINUE;
	default:
		return server_fail(as, out);
	}
}

enum auth_result auth_server_begin(struct auth_server *as,
				   const struct auth_user *u,
				   const uint8_t *sha2_cached,
				   struct mysql_str user_name,
				   struct mysql_str plugin,
				   struct mysql_str auth, uint8_t seq,
				   struct pkt_buf *out)
{
	/* No plugin name: a client answering the greeting's plugin. */
	enum auth_plugin client = plugin.len
		? auth_plugin_from_name(plugin.ptr, plugin.len) : AUTH_NATIVE;
	size_t n = user_name.len < AUTH_NAME_MAX ? user_name.len : AUTH_NAME_MAX;

	auth_server_clear(as);
	as->user = u;
	as->seq = seq;
	as->state = AS_IDLE;
	as->sha2_cache_fill = false;
	as->sha2_known = false;
	memcpy(as->user_name, user_name.ptr, n);
	as->user_name[n] = '\0';
	as->password_used = auth.len > 0;
	if (!u || u->plugin == AUTH_PLUGIN_UNKNOWN)
		return server_fail(as, out);
	if (u->have & AUTH_USER_SHA2_DIGEST) {
		memcpy(as->sha2_digest, u->sha2_digest, 32);
		as->sha2_known = true;
	} else if (sha2_cached) {
		memcpy(as->sha2_digest, sha2_cached, 32);
		as->sha2_known = true;
	}
	/* The client already answered the greeting's scramble with the
	 * plugin we want.  ed25519 needs its own 32-byte nonce. */
	if (client == u->plugin && client != AUTH_ED25519) {
		as->plugin = client;
		memcpy(as->nonce, as->scramble, 20);
		as->nonce_len = 20;
		return server_answer(as, (const uint8_t *)auth.ptr, auth.len, out);
	}
	/* A client without CLIENT_PLUGIN_AUTH cannot follow a switch. */
	if (!as->client_plugin_auth)
		return server_refuse(as, out, 1251, "08004",
				     "Client does not support authentication "
				     "protocol requested by server; consider "
				     "upgrading MariaDB client");
	as->plugin = u->plugin;
	if (u->plugin == AUTH_ED25519) {
		if (RAND_bytes(as->nonce, AUTH_ED25519_NONCE) != 1)
			return server_fail(as, out);
		as->nonce_len = AUTH_ED25519_NONCE;
	} else {
		/* MySQL switches with the scramble of the greeting. */
		memcpy(as->nonce, as->scramble, 20);
		as->nonce_len = 20;
	}
	out->seq = as->seq;
	auth_build_switch(out, as->plugin, as->nonce, as->nonce_len);
	as->seq = out->seq;
	as->state = AS_ANSWER;
	return AUTH_CONTINUE;
}

enum auth_result auth_server_handshake(struct auth_server *as,
				       const struct mysql_handshake_response *r,
				       const struct auth_user *u,
				       const uint8_t *sha2_cached,
				       struct pkt_buf *out)
{
	return auth_server_handshake_at(as, r, u, sha2_cached, 1, out);
}

enum auth_result auth_server_handshake_at(struct auth_server *as,
					  const struct mysql_handshake_response *r,
					  const struct auth_user *u,
					  const uint8_t *sha2_cached,
					  uint8_t seq, struct pkt_buf *out)
{
	as->client_plugin_auth = (r->caps & CLIENT_PLUGIN_AUTH) != 0;
	return auth_server_begin(as, u, sha2_cached, r->user, r->plugin,
				 r->auth, (uint8_t)(seq + 1), out);
}

enum auth_result auth_server_change_user(struct auth_server *as,
					 const struct mysql_change_user *cu,
					 const struct auth_user *u,
					 const uint8_t *sha2_cached,
					 struct pkt_buf *out)
{
	return auth_server_begin(as, u, sha2_cached, cu->user, cu->plugin,
				 cu->auth, 1, out);
}

enum auth_result auth_server_packet(struct auth_server *as,
				    const uint8_t *payload, size_t len,
				    struct pkt_buf *out)
{
	char pw[AUTH_PASSWORD_MAX + 1];
	enum auth_result res;
	size_t pem_len;
	const char *pem;
	int n;

	as->seq++;
	switch (as->state) {
	case AS_ANSWER:
		return server_answer(as, payload, len, out);
	case AS_SHA2_FULL:
		if (as->secure_transport) {
			/* TLS or a Unix socket: the password and a NUL. */
			if (!len || payload[len - 1] ||
			    memchr(payload, 0, len - 1) ||
			    len - 1 > AUTH_PASSWORD_MAX)
				return server_fail(as, out);
			return server_sha2_full(as, (const char *)payload,
						len - 1, out);
		}
		if (!as->rsa)
			return server_fail(as, out);
		if (len == 1 && payload[0] == AUTH_SHA2_REQUEST_KEY) {
			pem = auth_rsa_public_pem(as->rsa, &pem_len);
			server_send_more(as, out, pem, pem_len);
			as->state = AS_SHA2_RSA;
			return AUTH_CONTINUE;
		}
		/* A client that had the key already. */
		/* fall through */
	case AS_SHA2_RSA:
		if (!as->rsa)
			return server_fail(as, out);
		n = auth_sha2_rsa_decrypt(as->rsa, as->nonce, payload, len, pw);
		if (n < 0)
			return server_fail(as, out);
		res = server_sha2_full(as, pw, (size_t)n, out);
		OPENSSL_cleanse(pw, sizeof(pw));
		return res;
	default:
		/* Nothing was asked: the caller fed a packet too many. */
		return server_fail(as, out);
	}
}

/* ---- client state machine ------------------------------------------------- */

/*
 * AC_AUTH: an answer was sent; OK, ERR or an auth switch may follow.
 * AC_SHA2_FAST: a caching_sha2 answer was sent; also 0x01 0x03 (then OK)
 * or 0x01 0x04 (full authentication).  AC_SHA2_KEY: the public key was
 * requested.
 */
enum { AC_IDLE, AC_AUTH, AC_SHA2_FAST, AC_SHA2_KEY, AC_DONE };

static enum auth_result client_fail(struct auth_client *ac, uint16_t code,
				    const char *sqlstate, const char *fmt,
				    const char *arg)
{
	char why[256];

	ac->state = AC_DONE;
	ac->err_code = code;
	snprintf(ac->err_sqlstate, sizeof(ac->err_sqlstate), "%s", sqlstate);
	snprintf(why, sizeof(why), fmt, arg);
	snprintf(ac->err_msg, sizeof(ac->err_msg),
		 "myring cannot log in to the backend as '%.200s': %s", ac->user,
		 why);
	return AUTH_FAILED;
}

static enum auth_result client_malformed(struct auth_client *ac,
					 const char *what)
{
	return client_fail(ac, 2027, "HY000", "malformed %s from the backend",
			   what);
}

/* The answer to ac->nonce for plugin; -1 (with ac->err_*) if the secret
 * does not allow one. */
static int client_answer(struct auth_client *ac, enum auth_plugin plugin,
			 uint8_t buf[64], size_t *n)
{
	const struct auth_secret *s = ac->secret;
	bool empty = (s->know & AUTH_KNOW_PLAIN) && s->plain_len == 0;

	switch (plugin) {
	case AUTH_NATIVE:
		if (empty) {
			*n = 0;
			return 0;
		}
		if (!(s->know & AUTH_KNOW_NATIVE))
			break;
		auth_native_answer(ac->nonce, s->native_stage1, buf);
		*n = 20;
		return 0;
	case AUTH_CACHING_SHA2:
		if (empty) {
			*n = 0;
			return 0;
		}
		if (!(s->know & AUTH_KNOW_SHA2))
			break;
		auth_sha2_answer(ac->nonce, s->sha2_stage1, buf);
		*n = 32;
		return 0;
	case AUTH_ED25519:
		if (!(s->know & AUTH_KNOW_PLAIN))
			break;
		if (auth_ed25519_sign(s->plain, s->plain_len, ac->nonce,
				      ac->nonce_len, buf))
			break;
		*n = 64;
		return 0;
	default:
		break;
	}
	client_fail(ac, 1045, "28000",
		    "%s needs a password myring does not know (configure the "
		    "user's plaintext password)", auth_plugin_name(plugin));
	return -1;
}

/* Sends payload as myring's next packet. */
static void client_send(struct auth_client *ac, struct pkt_buf *out,
			const void *payload, size_t len)
{
	out->seq = ac->seq;
	pkt_buf_packet(out, payload, len);
	ac->seq = out->seq;
}

static void client_copy_user(struct auth_client *ac, const char *user)
{
	snprintf(ac->user, sizeof(ac->user), "%s", user ? user : "");
}

enum auth_result auth_client_handshake(struct auth_client *ac,
				       const uint8_t *greeting, size_t len,
				       const struct auth_client_params *p,
				       struct pkt_buf *out)
{
	struct mysql_greeting g;
	struct mysql_err e;
	struct auth_handshake h;
	enum auth_plugin plugin;
	uint8_t answer[64];
	size_t n = 0;

	OPENSSL_cleanse(ac, sizeof(*ac));
	ac->secret = p->secret;
	ac->secure_transport = p->secure_transport;
	client_copy_user(ac, p->user);
	if (len && greeting[0] == 0xFF) {
		if (mysql_parse_err(greeting, len, &e))
			return client_malformed(ac, "ERR");
		ac->state = AC_DONE;
		ac->err_code = e.code;
		memcpy(ac->err_sqlstate, e.sqlstate, sizeof(ac->err_sqlstate));
		snprintf(ac->err_msg, sizeof(ac->err_msg), "%.*s",
			 (int)e.message.len, e.message.ptr);
		return AUTH_FAILED;
	}
	if (mysql_parse_greeting(greeting, len, &g) || g.protocol != 10 ||
	    !g.scramble2 || g.scramble2_len < 12)
		return client_malformed(ac, "greeting");
	if (!(g.caps & CLIENT_PROTOCOL_41) || !(g.caps & CLIENT_SECURE_CONNECTION))
		return client_fail(ac, 1251, "08004", "%s",
				   "the backend does not speak protocol 4.1");
	memcpy(ac->scramble, g.scramble1, 8);
	memcpy(ac->scramble + 8, g.scramble2, 12);
	memcpy(ac->nonce, ac->scramble, 20);
	ac->nonce_len = 20;
	ac->server_caps = g.caps;
	/* A MariaDB server (CLIENT_MYSQL clear) reads extended capabilities
	 * from the filler: the intersection keeps that bit as the server
	 * has it. */
	ac->caps = p->caps & g.caps;
	if (!p->schema || !*p->schema)
		ac->caps &= ~CLIENT_CONNECT_WITH_DB;
	/* Answer the greeting's plugin when we can, else native: a server
	 * whose user wants another plugin switches us to it. */
	plugin = auth_plugin_from_name(g.auth_plugin.ptr, g.auth_plugin.len);
	if (plugin != AUTH_NATIVE && plugin != AUTH_CACHING_SHA2)
		plugin = AUTH_NATIVE;
	if (plugin == AUTH_CACHING_SHA2 &&
	    !(ac->secret->know & (AUTH_KNOW_SHA2 | AUTH_KNOW_PLAIN)))
		plugin = AUTH_NATIVE;
	ac->plugin = plugin;
	if (client_answer(ac, plugin, answer, &n)) {
		/* An empty answer: the server may still switch us to a
		 * plugin we can answer. */
		ac->err_code = 0;
		ac->err_sqlstate[0] = ac->err_msg[0] = '\0';
		n = 0;
	}
	memset(&h, 0, sizeof(h));
	h.caps = ac->caps;
	h.max_packet = p->max_packet;
	h.charset = p->charset;
	h.user = p->user;
	h.auth = answer;
	h.auth_len = n;
	h.schema = p->schema;
	h.plugin = auth_plugin_name(plugin);
	h.attrs = p->attrs;
	h.attrs_len = p->attrs_len;
	out->seq = p->first_seq ? p->first_seq : 1;
	auth_build_handshake_response(out, &h);
	ac->seq = out->seq;
	ac->state = plugin == AUTH_CACHING_SHA2 && n ? AC_SHA2_FAST : AC_AUTH;
	OPENSSL_cleanse(answer, sizeof(answer));
	return AUTH_CONTINUE;
}

enum auth_result auth_client_change_user(struct auth_client *ac,
					 const struct auth_client_params *p,
					 struct pkt_buf *out)
{
	struct auth_change_user cu;
	enum auth_plugin plugin;
	uint8_t answer[64];
	size_t n = 0;

	ac->secret = p->secret;
	ac->secure_transport = p->secure_transport;
	client_copy_user(ac, p->user);
	ac->err_code = 0;
	ac->err_msg[0] = '\0';
	/* Answered with the connection's scramble, as clients do; a server
	 * that wants a fresh one switches. */
	memcpy(ac->nonce, ac->scramble, 20);
	ac->nonce_len = 20;
	plugin = ac->plugin == AUTH_CACHING_SHA2 &&
		 (ac->secret->know & (AUTH_KNOW_SHA2 | AUTH_KNOW_PLAIN))
		 ? AUTH_CACHING_SHA2 : AUTH_NATIVE;
	ac->plugin = plugin;
	if (client_answer(ac, plugin, answer, &n))
		n = 0;
	memset(&cu, 0, sizeof(cu));
	cu.caps = ac->caps;
	cu.user = p->user;
	cu.auth = answer;
	cu.auth_len = n;
	cu.schema = p->schema;
	cu.charset = p->charset;
	cu.plugin = auth_plugin_name(plugin);
	cu.attrs = p->attrs;
	cu.attrs_len = p->attrs_len;
	out->seq = 0;
	if (auth_build_change_user(out, &cu))
		return client_fail(ac, 2027, "HY000", "%s", "answer too long");
	ac->seq = out->seq;
	ac->state = plugin == AUTH_CACHING_SHA2 && n ? AC_SHA2_FAST : AC_AUTH;
	OPENSSL_cleanse(answer, sizeof(answer));
	return AUTH_CONTINUE;
}

/* AuthSwitchRequest: run the plugin the server names on its data. */
static enum auth_result client_switch(struct auth_client *ac, const uint8_t *p,
				      size_t len, struct pkt_buf *out)
{
	struct mysql_str name;
	const uint8_t *data;
	size_t data_len, n;
	enum auth_plugin plugin;
	uint8_t answer[64];
	char shown[65];

	if (auth_parse_switch(p, len, &name, &data, &data_len))
		return client_malformed(ac, "auth switch");
	plugin = auth_plugin_from_name(name.ptr, name.len);
	if (plugin == AUTH_PLUGIN_UNKNOWN) {
		snprintf(shown, sizeof(shown), "%.*s", (int)name.len, name.ptr);
		return client_fail(ac, 2059, "HY000",
				   "authentication plugin '%s' is not supported",
				   shown);
	}
	/* native and caching_sha2 send 20 bytes and a NUL; ed25519 32. */
	if (plugin == AUTH_ED25519 ? data_len != AUTH_ED25519_NONCE
				   : data_len < AUTH_SCRAMBLE_LEN)
		return client_malformed(ac, "auth switch");
	ac->plugin = plugin;
	ac->nonce_len = plugin == AUTH_ED25519 ? AUTH_ED25519_NONCE
					       : AUTH_SCRAMBLE_LEN;
	memcpy(ac->nonce, data, ac->nonce_len);
	if (client_answer(ac, plugin, answer, &n))
		return AUTH_FAILED;
	client_send(ac, out, answer, n);
	OPENSSL_cleanse(answer, sizeof(answer));
	ac->state = plugin == AUTH_CACHING_SHA2 && n ? AC_SHA2_FAST : AC_AUTH;
	return AUTH_CONTINUE;
}

/* AuthMoreData in caching_sha2's exchange. */
static enum auth_result client_more_data(struct auth_client *ac,
					 const uint8_t *p, size_t len,
					 struct pkt_buf *out)
{
	const struct auth_secret *s = ac->secret;
	uint8_t request = AUTH_SHA2_REQUEST_KEY, cipher[1024];
	int n;

	if (ac->state == AC_SHA2_FAST && len == 2 && p[1] == AUTH_SHA2_FAST_OK) {
		ac->state = AC_AUTH;         /* the OK follows */
		return AUTH_CONTINUE;
	}
	if (ac->state == AC_SHA2_FAST && len == 2 && p[1] == AUTH_SHA2_FULL_AUTH) {
		if (!(s->know & AUTH_KNOW_PLAIN))
			return client_fail(ac, 1045, "28000", "%s",
					   "caching_sha2_password full authentication "
					   "needs the user's plaintext password");
		if (ac->secure_transport) {
			client_send(ac, out, s->plain, s->plain_len + 1);
			ac->state = AC_AUTH;
		} else {
			client_send(ac, out, &request, 1);
			ac->state = AC_SHA2_KEY;
		}
		return AUTH_CONTINUE;
	}
	if (ac->state == AC_SHA2_KEY) {
		n = auth_sha2_rsa_encrypt((const char *)p + 1, len - 1, ac->nonce,
					  s->plain, s->plain_len, cipher,
					  sizeof(cipher));
		if (n < 0)
			return client_malformed(ac, "RSA public key");
		client_send(ac, out, cipher, (size_t)n);
		ac->state = AC_AUTH;
		return AUTH_CONTINUE;
	}
	return client_malformed(ac, "auth data");
}

enum auth_result auth_client_packet(struct auth_client *ac,
				    const uint8_t *payload, size_t len,
				    struct pkt_buf *out)
{
	struct mysql_err e;

	ac->seq++;
	if (ac->state == AC_DONE || ac->state == AC_IDLE)
		return client_malformed(ac, "packet (none was expected)");
	if (len == 0)
		return client_malformed(ac, "empty packet");
	switch (payload[0]) {
	case 0x00:
		/* Not after a key request: the server owes the key. */
		if (ac->state == AC_SHA2_KEY)
			return client_malformed(ac, "OK");
		ac->state = AC_DONE;
		return AUTH_DONE;
	case 0xFF:
		ac->state = AC_DONE;
		if (mysql_parse_err(payload, len, &e))
			return client_malformed(ac, "ERR");
		ac->err_code = e.code;
		memcpy(ac->err_sqlstate, e.sqlstate, sizeof(ac->err_sqlstate));
		snprintf(ac->err_msg, sizeof(ac->err_msg), "%.*s",
			 (int)e.message.len, e.message.ptr);
		return AUTH_FAILED;
	case 0xFE:
		if (ac->state == AC_SHA2_KEY)
			return client_malformed(ac, "auth switch");
		return client_switch(ac, payload, len, out);
	case 0x01:
		return client_more_data(ac, payload, len, out);
	default:
		return client_malformed(ac, "packet");
	}
}
