/*
 * mysql_auth_exchange.h - login exchanges over whole packets, both ways:
 * struct auth_server runs what a server does when a client logs in to
 * myring (or sends COM_CHANGE_USER), struct auth_client what a client
 * does when myring logs in to a backend.  Pure: packets in, packets out
 * (into a struct pkt_buf, with their sequence ids); the caller does the
 * I/O, looks users up and keeps the caching_sha2 cache.
 */
#ifndef MYRING_MYSQL_AUTH_EXCHANGE_H
#define MYRING_MYSQL_AUTH_EXCHANGE_H

#include "mysql_auth.h"

/* ---- state machines ------------------------------------------------------- */

enum auth_result {
	AUTH_CONTINUE,  /* send what was appended to out; feed the next packet */
	AUTH_DONE,      /* authenticated: send out, then (server side) an OK
			 * with sequence id ->seq */
	AUTH_FAILED,    /* out holds the ERR to send (server side), or the
			 * server's ERR / our reason is in ->err_* */
};

/*
 * Server side, one exchange per login or COM_CHANGE_USER:
 *
 *   greeting (srv_build_greeting, offers mysql_native_password)
 *   auth_server_init()          scramble of the greeting, peer host
 *   client's HandshakeResponse41 -> look the user up ->
 *   auth_server_handshake()     -> CONTINUE (auth switch sent) | DONE | FAILED
 *   each next client packet ->
 *   auth_server_packet()        -> CONTINUE | DONE | FAILED
 *
 * Paths: the client answered with the user's plugin -> checked at once;
 * otherwise AuthSwitchRequest to the user's plugin (ed25519 always, with
 * a fresh 32-byte nonce).  caching_sha2: fast auth against the digest
 * (0x01 0x03 then OK), else 0x01 0x04 and full auth: the password in
 * clear over a secure transport (TLS, Unix socket), else the client asks
 * for the public key (0x02, answered with 0x01 + PEM) and sends it
 * RSA-encrypted.  Failures are ERR 1045 (28000) "Access denied for user
 * 'u'@'host' (using password: YES|NO)" exactly as MariaDB words it.
 *
 * After DONE, ->secret holds what was learned of the password (for
 * logging in to a backend as this user) and, if ->sha2_cache_fill, the
 * caller may cache ->sha2_digest for this user's next fast auth.
 */
struct auth_server {
	/* from auth_server_init */
	uint8_t scramble[20];
	char host[64];
	const struct auth_rsa *rsa;    /* NULL: no RSA full auth */
	bool secure_transport;
	bool client_plugin_auth;       /* the client follows auth switches */

	/* the exchange */
	const struct auth_user *user;  /* NULL: unknown user */
	enum auth_plugin plugin;       /* the plugin being run */
	int state;
	uint8_t nonce[32];
	size_t nonce_len;
	uint8_t seq;                   /* of the next packet myring sends */
	bool password_used;
	bool sha2_known;               /* sha2_digest holds the user's */
	char user_name[AUTH_NAME_MAX + 1];

	/* results */
	struct auth_secret secret;
	bool sha2_cache_fill;
	uint8_t sha2_digest[32];
	uint16_t err_code;
	char err_msg[512];
};

void auth_server_init(struct auth_server *as, const uint8_t scramble[20],
		      const char *host, const struct auth_rsa *rsa,
		      bool secure_transport);
/* The client's parsed HandshakeResponse41 (sequence id 1).  u is the
 * account named r->user (NULL if none), and must stay valid until the
 * exchange ends; sha2_cached is the digest cached for it by an earlier
 * full authentication, or NULL.  A client without CLIENT_PLUGIN_AUTH
 * that would need a switch gets ERR 1251 (08004), as from MariaDB. */
enum auth_result auth_server_handshake(struct auth_server *as,
				       const struct mysql_handshake_response *r,
				       const struct auth_user *u,
				       const uint8_t *sha2_cached,
				       struct pkt_buf *out);
/* The same for a response with sequence id seq (2 after an SSLRequest). */
enum auth_result auth_server_handshake_at(struct auth_server *as,
					  const struct mysql_handshake_response *r,
					  const struct auth_user *u,
					  const uint8_t *sha2_cached,
					  uint8_t seq, struct pkt_buf *out);
/* A parsed COM_CHANGE_USER (sequence id 0), answered with the scramble of
 * auth_server_init() as servers do. */
enum auth_result auth_server_change_user(struct auth_server *as,
					 const struct mysql_change_user *cu,
					 const struct auth_user *u,
					 const uint8_t *sha2_cached,
					 struct pkt_buf *out);
/* The generic form of both: seq is the sequence id of myring's answer. */
enum auth_result auth_server_begin(struct auth_server *as,
				   const struct auth_user *u,
				   const uint8_t *sha2_cached,
				   struct mysql_str user_name,
				   struct mysql_str plugin,
				   struct mysql_str auth, uint8_t seq,
				   struct pkt_buf *out);
/* The client's next packet (payload only). */
enum auth_result auth_server_packet(struct auth_server *as,
				    const uint8_t *payload, size_t len,
				    struct pkt_buf *out);
/* Wipes what was learned. */
void auth_server_clear(struct auth_server *as);

/*
 * Client side: myring logging in to a backend as a user whose secret it
 * knows (auth_secret).  From the backend's greeting:
 *
 *   auth_client_handshake()  -> CONTINUE (HandshakeResponse41 in out)
 *   each backend packet ->
 *   auth_client_packet()     -> CONTINUE | DONE (OK) | FAILED
 *
 * and on an authenticated connection auth_client_change_user() switches
 * it to another user (COM_CHANGE_USER, then auth_client_packet() as
 * above).  Handles auth switches to any of the three plugins, and
 * caching_sha2's fast path (0x01 0x03), and full path (0x01 0x04): the
 * password in clear over a secure transport, else the public key is
 * requested and the password sent RSA-encrypted.  What a plugin needs
 * and the secret lacks (ed25519 or caching_sha2 full auth without the
 * plaintext) fails with a message saying so.
 */
struct auth_client_params {
	const char *user;
	const char *schema;            /* NULL or "": none */
	const struct auth_secret *secret;  /* must outlive the exchange */
	uint64_t caps;                 /* wanted; sent: caps & the greeting's */
	uint32_t max_packet;
	uint8_t charset;
	const uint8_t *attrs;          /* connect attributes block */
	size_t attrs_len;
	bool secure_transport;
	/* Sequence id of the HandshakeResponse41: 1, or 2 after an
	 * SSLRequest (0 means 1). */
	uint8_t first_seq;
};

struct auth_client {
	const struct auth_secret *secret;
	bool secure_transport;
	uint64_t caps;                 /* negotiated */
	uint64_t server_caps;
	enum auth_plugin plugin;
	int state;
	uint8_t scramble[20];          /* the greeting's (COM_CHANGE_USER) */
	uint8_t nonce[32];             /* of the plugin being run */
	size_t nonce_len;
	uint8_t seq;                   /* of the next packet myring sends */
	char user[AUTH_NAME_MAX + 1];
	uint16_t err_code;             /* of the server's ERR, or ours */
	char err_sqlstate[6];
	char err_msg[512];
};

enum auth_result auth_client_handshake(struct auth_client *ac,
				       const uint8_t *greeting, size_t len,
				       const struct auth_client_params *p,
				       struct pkt_buf *out);
enum auth_result auth_client_change_user(struct auth_client *ac,
					 const struct auth_client_params *p,
					 struct pkt_buf *out);
enum auth_result auth_client_packet(struct auth_client *ac,
				    const uint8_t *payload, size_t len,
				    struct pkt_buf *out);

#endif
