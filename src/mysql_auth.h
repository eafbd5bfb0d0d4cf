/*
 * mysql_auth.h - authentication, both ways: myring as the server a client
 * logs in to, and myring as a client logging in to a backend.
 *
 * Three plugins:
 *   mysql_native_password   SHA1 scramble (MySQL and MariaDB)
 *   client_ed25519          MariaDB's ed25519 signature of a 32-byte nonce
 *   caching_sha2_password   MySQL 8's SHA256 scramble, with a full path
 *                           that sends the password RSA-encrypted
 * their secrets in the text forms the servers store (mysql.user,
 * SHOW CREATE USER), and the packets that carry them (auth switch, auth
 * more data, HandshakeResponse41, COM_CHANGE_USER).  The exchanges that
 * use them, packet by packet, are in mysql_auth_exchange.h.
 *
 * Pure: no I/O.  Randomness (nonces, RSA padding) comes from OpenSSL.
 * Comparisons of secrets are constant time (CRYPTO_memcmp).
 *
 * What a proxy can do with what it learns (the "ProxySQL trick"): a
 * client's mysql_native_password answer to OUR scramble reveals
 * SHA1(password) ("stage1") to anyone who knows SHA1(SHA1(password)), and
 * stage1 is all it takes to answer ANOTHER scramble: myring can log in to
 * a backend as the client without ever knowing the password.  The same
 * holds for caching_sha2_password's fast path with SHA256(password).
 * ed25519 reveals nothing: logging in to a backend as an ed25519 user
 * needs the plaintext password.
 */
#ifndef MYRING_MYSQL_AUTH_H
#define MYRING_MYSQL_AUTH_H

#include "mysql_proto.h"
#include "mysql_srv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_SCRAMBLE_LEN    20   /* native and caching_sha2 nonce */
#define AUTH_ED25519_NONCE   32   /* MariaDB's ed25519 nonce */
#define AUTH_ED25519_SIG     64
#define AUTH_ED25519_KEY_LEN 43   /* base64 of 32 bytes, no '=' */
#define AUTH_NATIVE_HASH_LEN 41   /* '*' + 40 hex digits */
#define AUTH_SHA2_LEN        32
#define AUTH_PASSWORD_MAX    256  /* MySQL's limit for caching_sha2 */
#define AUTH_NAME_MAX        384  /* 128 characters of utf8mb3 */

enum auth_plugin {
	AUTH_PLUGIN_UNKNOWN = 0,
	AUTH_NATIVE,           /* mysql_native_password */
	AUTH_ED25519,          /* client_ed25519 (server plugin "ed25519") */
	AUTH_CACHING_SHA2,     /* caching_sha2_password */
};

/* The name a client plugin has on the wire. */
const char *auth_plugin_name(enum auth_plugin p);
/* Wire names, plus "ed25519" (the name in CREATE USER ... VIA ed25519). */
enum auth_plugin auth_plugin_from_name(const char *name, size_t len);

/* ---- mysql_native_password ------------------------------------------- */

/* SHA1(password): "stage1", what a client's answer reveals. */
void auth_native_stage1_of(const char *password, size_t len,
			   uint8_t stage1[20]);
/* SHA1(stage1): "stage2", what a server stores. */
void auth_native_stage2_of(const uint8_t stage1[20], uint8_t stage2[20]);
/* stage2 of a NUL-terminated password. */
void auth_native_stage2(const char *password, uint8_t stage2[20]);
/*
 * Server side: a client's answer is SHA1(pw) XOR SHA1(scramble || stage2).
 * Recovers stage1 from it and checks SHA1(stage1) == stage2.  Returns 0
 * and fills stage1_out (may be NULL) on a match, -1 otherwise (also for an
 * answer that is not 20 bytes).  Constant time.
 */
int auth_native_stage1(const uint8_t scramble[20], const uint8_t *resp,
		       size_t len, const uint8_t stage2[20],
		       uint8_t stage1_out[20]);
/* The same as a yes/no; an empty password matches only an empty answer. */
bool auth_native_verify(const uint8_t scramble[20], const uint8_t *resp,
			size_t resp_len, const uint8_t stage2[20],
			bool empty_password);
/* Client side: the 20-byte answer to scramble, from stage1. */
void auth_native_answer(const uint8_t scramble[20], const uint8_t stage1[20],
			uint8_t out[20]);
/* "*" + 40 hex digits (either case), as in mysql.user and PASSWORD().
 * Returns 0, or -1 if s is anything else. */
int auth_native_hash_parse(const char *s, size_t len, uint8_t stage2[20]);
/* Writes "*" + 40 upper-case hex digits + NUL. */
void auth_native_hash_format(const uint8_t stage2[20], char out[42]);

/* ---- ed25519 (MariaDB) ------------------------------------------------- */

/*
 * MariaDB's client signs the server's 32-byte nonce with an Ed25519 key
 * whose secret scalar is derived from SHA-512(password) where standard
 * Ed25519 uses SHA-512(32-byte seed).  The signature itself is standard,
 * so verification is OpenSSL's.  Signing needs the expanded key, which
 * OpenSSL's Ed25519 API does not take; auth_ed25519_sign() builds the
 * signature from OpenSSL pieces instead (see mysql_auth.c).
 */

/* The stored form: base64 of the 32-byte public key, 43 characters
 * (a 44th '=' is accepted).  Returns 0 or -1. */
int auth_ed25519_key_parse(const char *s, size_t len, uint8_t pub[32]);
void auth_ed25519_key_format(const uint8_t pub[32], char out[44]);
/* True if sig is a valid 64-byte signature of msg under pub. */
bool auth_ed25519_verify(const uint8_t pub[32], const uint8_t *msg,
			 size_t msg_len, const uint8_t *sig, size_t sig_len);
/* The public key MariaDB stores for password.  Returns 0 or -1. */
int auth_ed25519_key_of_password(const char *password, size_t len,
				 uint8_t pub[32]);
/* A signature of msg that MariaDB accepts from a client knowing password
 * (randomised: not byte-equal to the client library's).  Returns 0 or -1. */
int auth_ed25519_sign(const char *password, size_t len, const uint8_t *msg,
		      size_t msg_len, uint8_t sig[64]);

/* ---- caching_sha2_password (MySQL 8) ------------------------------------- */

/* SHA256(password): what a client's fast-auth answer reveals. */
void auth_sha2_stage1_of(const char *password, size_t len, uint8_t stage1[32]);
/* SHA256(stage1): what a server's cache holds for fast authentication. */
void auth_sha2_digest_of(const uint8_t stage1[32], uint8_t digest[32]);
/* Client side: XOR(SHA256(pw), SHA256(SHA256(SHA256(pw)) || nonce)). */
void auth_sha2_answer(const uint8_t nonce[20], const uint8_t stage1[32],
		      uint8_t out[32]);
/* Server side fast path: recovers stage1 from a 32-byte answer and checks
 * it against the cached digest.  0 on a match (stage1_out may be NULL),
 * -1 otherwise.  Constant time. */
int auth_sha2_fast_stage1(const uint8_t nonce[20], const uint8_t *resp,
			  size_t len, const uint8_t digest[32],
			  uint8_t stage1_out[32]);

/*
 * The stored form "$A$" + 3 hex digits (rounds / 1000) + "$" + 20 bytes of
 * salt + 43 characters of SHA-crypt (Drepper's sha256crypt, 5000 rounds by
 * default) as in mysql.user.authentication_string; SHOW CREATE USER prints
 * it as 0x + hex when the salt is not printable, which is accepted too.
 */
struct auth_sha2_crypt {
	uint32_t rounds;
	uint8_t salt[20];
	char hash[43];
};
int auth_sha2_crypt_parse(const char *s, size_t len, struct auth_sha2_crypt *c);
/* Writes the 70-byte stored form (not NUL-terminated). */
void auth_sha2_crypt_format(const struct auth_sha2_crypt *c, char out[70]);
bool auth_sha2_crypt_verify(const struct auth_sha2_crypt *c,
			    const char *password, size_t len);
/* The stored form for password with the given salt and rounds (1000 to
 * 4095000, a multiple of 1000).  Returns 0 or -1. */
int auth_sha2_crypt_make(const char *password, size_t len,
			 const uint8_t salt[20], uint32_t rounds,
			 struct auth_sha2_crypt *c);
/* SHA-crypt itself (salt of any length up to 64 bytes; rounds 1000 to
 * 999999999): the 43 characters after the last '$'. */
int auth_sha256_crypt(const char *password, size_t len, const uint8_t *salt,
		      size_t salt_len, uint32_t rounds, char out[43]);

/* The server's RSA key pair for full authentication without TLS.  Made
 * once at start; the public half is sent to clients as PEM. */
struct auth_rsa;
struct auth_rsa *auth_rsa_generate(unsigned bits);
/* A private key in PEM (PKCS#8 or PKCS#1). */
struct auth_rsa *auth_rsa_from_pem(const char *pem, size_t len);
void auth_rsa_free(struct auth_rsa *k);
/* "-----BEGIN PUBLIC KEY-----..." as a server sends it (NUL-terminated). */
const char *auth_rsa_public_pem(const struct auth_rsa *k, size_t *len);
/* Bytes of a ciphertext (256 for 2048 bits). */
size_t auth_rsa_size(const struct auth_rsa *k);
/*
 * Server side: RSA-OAEP (SHA-1) decryption of the client's packet, XOR
 * with the nonce (repeated), and the trailing NUL removed.  Writes the
 * password NUL-terminated into pw (AUTH_PASSWORD_MAX + 1 bytes) and
 * returns its length, or -1.
 */
int auth_sha2_rsa_decrypt(const struct auth_rsa *k, const uint8_t nonce[20],
			  const uint8_t *in, size_t len, char *pw);
/* Client side: the packet for password under the server's PEM public key.
 * Returns the ciphertext length (at most cap), or -1. */
int auth_sha2_rsa_encrypt(const char *pem, size_t pem_len,
			  const uint8_t nonce[20], const char *password,
			  size_t len, uint8_t *out, size_t cap);

/* ---- what is known of a password ------------------------------------------ */

/*
 * What myring knows of a user's password, for logging in to a backend as
 * that user: the plaintext (configured, or received through
 * caching_sha2's full path), or only what a client's answer revealed.
 */
#define AUTH_KNOW_PLAIN  0x1u  /* plain, plain_len (may be empty) */
#define AUTH_KNOW_NATIVE 0x2u  /* native_stage1 = SHA1(pw) */
#define AUTH_KNOW_SHA2   0x4u  /* sha2_stage1 = SHA256(pw) */
struct auth_secret {
	unsigned know;
	uint8_t native_stage1[20];
	uint8_t sha2_stage1[32];
	size_t plain_len;
	char plain[AUTH_PASSWORD_MAX + 1];
};

/* Everything from a plaintext password.  -1 if longer than
 * AUTH_PASSWORD_MAX. */
int auth_secret_set_password(struct auth_secret *s, const char *pw, size_t len);
/* Wipes it. */
void auth_secret_clear(struct auth_secret *s);

/*
 * A user myring authenticates: the plugin it demands and whatever
 * verifiers it has.  Fill it with auth_user_set_password() (a plaintext
 * password: every verifier) or auth_user_set_stored() (the text a server
 * stores for that plugin).
 */
#define AUTH_USER_EMPTY       0x01u  /* the account has no password */
#define AUTH_USER_NATIVE      0x02u  /* native_stage2 */
#define AUTH_USER_ED25519     0x04u  /* ed25519_pub */
#define AUTH_USER_SHA2_DIGEST 0x08u  /* sha2_digest (fast auth) */
#define AUTH_USER_SHA2_CRYPT  0x10u  /* sha2_crypt (full auth) */
#define AUTH_USER_PLAIN       0x20u  /* secret holds the plaintext */
struct auth_user {
	char name[AUTH_NAME_MAX + 1];
	enum auth_plugin plugin;
	unsigned have;
	uint8_t native_stage2[20];
	uint8_t ed25519_pub[32];
	uint8_t sha2_digest[32];
	struct auth_sha2_crypt sha2_crypt;
	struct auth_secret secret;
	/*
	 * myring's own backend login for this user's sessions when the config
	 * names one (auth_user_set_backend): backend_user with backend_secret.
	 * Otherwise it logs in as the user, with secret or with what a
	 * client's login reveals of the password.
	 */
	bool backend_explicit;
	char backend_user[AUTH_NAME_MAX + 1];
	struct auth_secret backend_secret;
};

/* name and plugin; no verifier yet.  -1 if the name is too long. */
int auth_user_init(struct auth_user *u, const char *name,
		   enum auth_plugin plugin);
/* Every verifier from a plaintext password ("" = no password).  -1 if
 * the password is too long or a key cannot be derived. */
int auth_user_set_password(struct auth_user *u, const char *pw, size_t len);
/* The stored text for u->plugin: "*HEX" (native), base64 key (ed25519),
 * "$A$005$..." (caching_sha2); "" means no password.  -1 if malformed. */
int auth_user_set_stored(struct auth_user *u, const char *s, size_t len);
/* The login myring uses for its own backend connections of this user:
 * user (NULL: the user's own name) with the plaintext pw ("" = none).
 * -1 if either is too long. */
int auth_user_set_backend(struct auth_user *u, const char *user,
			  const char *pw, size_t len);

/* ---- packets -------------------------------------------------------------- */

/* AuthSwitchRequest: 0xFE, plugin name, NUL, data; native and
 * caching_sha2 data (the 20-byte scramble) is followed by a NUL as
 * servers send it. */
void auth_build_switch(struct pkt_buf *pb, enum auth_plugin p,
		       const uint8_t *data, size_t len);
/* AuthMoreData: 0x01 + data (0x03 fast auth success, 0x04 perform full
 * authentication, or the PEM public key). */
void auth_build_more_data(struct pkt_buf *pb, const void *data, size_t len);
#define AUTH_SHA2_FAST_OK    0x03
#define AUTH_SHA2_FULL_AUTH  0x04
#define AUTH_SHA2_REQUEST_KEY 0x02

/* An AuthSwitchRequest payload: plugin name and the data after its NUL
 * (with any trailing NUL).  0, or -1 if p is not one. */
int auth_parse_switch(const uint8_t *p, size_t len, struct mysql_str *plugin,
		      const uint8_t **data, size_t *data_len);

/* HandshakeResponse41 (client side).  caps are sent as given; bits 32..63
 * (MariaDB's extended capabilities) go into the filler when CLIENT_MYSQL
 * is clear.  The auth response is length-encoded, 1-byte-length or
 * NUL-terminated by caps, as servers read it. */
struct auth_handshake {
	uint64_t caps;
	uint32_t max_packet;
	uint8_t charset;
	const char *user;
	const uint8_t *auth;
	size_t auth_len;
	const char *schema;        /* NULL or "": none */
	const char *plugin;        /* with CLIENT_PLUGIN_AUTH */
	const uint8_t *attrs;      /* key/value block, without its length */
	size_t attrs_len;          /* with CLIENT_CONNECT_ATTRS */
};
void auth_build_handshake_response(struct pkt_buf *pb,
				   const struct auth_handshake *h);

/* COM_CHANGE_USER payload (0x11 ...), as mysql_parse_change_user() reads
 * it with the same caps: the auth response has a 1-byte length (at most
 * 255 bytes) under CLIENT_SECURE_CONNECTION.  Returns 0, or -1 if it is
 * longer. */
struct auth_change_user {
	uint64_t caps;
	const char *user;
	const uint8_t *auth;
	size_t auth_len;
	const char *schema;
	uint16_t charset;
	const char *plugin;
	const uint8_t *attrs;
	size_t attrs_len;
};
int auth_build_change_user(struct pkt_buf *pb, const struct auth_change_user *cu);

/* Appends one connect attribute (lenenc key, lenenc value) to a block at
 * out + *len.  Returns 0, or -1 if it does not fit in cap. */
int auth_attr_put(uint8_t *out, size_t cap, size_t *len, const char *key,
		  const char *value);

#endif
