#include "mysql_auth.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- plugin names ---------------------------------------------------- */

static const char NATIVE_NAME[] = "mysql_native_password";
static const char ED25519_NAME[] = "client_ed25519";
static const char SHA2_NAME[] = "caching_sha2_password";

const char *auth_plugin_name(enum auth_plugin p)
{
	switch (p) {
	case AUTH_NATIVE:
		return NATIVE_NAME;
	case AUTH_ED25519:
		return ED25519_NAME;
	case AUTH_CACHING_SHA2:
		return SHA2_NAME;
	default:
		return "";
	}
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

enum auth_plugin auth_plugin_from_name(const char *name, size_t len)
{
	if (name_is(name, len, NATIVE_NAME))
		return AUTH_NATIVE;
	if (name_is(name, len, ED25519_NAME) || name_is(name, len, "ed25519"))
		return AUTH_ED25519;
	if (name_is(name, len, SHA2_NAME))
		return AUTH_CACHING_SHA2;
	return AUTH_PLUGIN_UNKNOWN;
}

/* ---- helpers ------------------------------------------------------------ */

static void xor_bytes(uint8_t *out, const uint8_t *a, const uint8_t *b,
		      size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = a[i] ^ b[i];
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode(const char *s, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return len % 2 ? -1 : 0;
}

/* One-shot digest of two parts; EVP because the low-level SHA256_Init
 * family is deprecated in OpenSSL 3. */
static void digest2(const EVP_MD *md, const void *a, size_t alen,
		    const void *b, size_t blen, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned n;

	if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL) ||
	    !EVP_DigestUpdate(ctx, a, alen) ||
	    (blen && !EVP_DigestUpdate(ctx, b, blen)) ||
	    !EVP_DigestFinal_ex(ctx, out, &n))
		/* Only allocation can fail here: a digest that matches
		 * nothing makes every check fail closed. */
		memset(out, 0, (size_t)EVP_MD_get_size(md));
	EVP_MD_CTX_free(ctx);
}

/* ---- mysql_native_password --------------------------------------------- */

void auth_native_stage1_of(const char *password, size_t len,
			   uint8_t stage1[20])
{
	SHA1((const unsigned char *)password, len, stage1);
}

void auth_native_stage2_of(const uint8_t stage1[20], uint8_t stage2[20])
{
	SHA1(stage1, 20, stage2);
}

void auth_native_stage2(const char *password, uint8_t stage2[20])
{
	uint8_t stage1[20];

	auth_native_stage1_of(password, strlen(password), stage1);
	auth_native_stage2_of(stage1, stage2);
	OPENSSL_cleanse(stage1, sizeof(stage1));
}

/* SHA1(scramble || stage2): the mask over stage1 in a client's answer. */
static void native_mask(const uint8_t scramble[20], const uint8_t stage2[20],
			uint8_t mask[20])
{
	uint8_t salted[40];

	memcpy(salted, scramble, 20);
	memcpy(salted + 20, stage2, 20);
	SHA1(salted, sizeof(salted), mask);
}

int auth_native_stage1(const uint8_t scramble[20], const uint8_t *resp,
		       size_t len, const uint8_t stage2[20],
		       uint8_t stage1_out[20])
{
	uint8_t mask[20], stage1[20], check[20];
	int ok;

	if (len != 20)
		return -1;
	native_mask(scramble, stage2, mask);
	xor_bytes(stage1, resp, mask, 20);
	SHA1(stage1, 20, check);
	ok = CRYPTO_memcmp(check, stage2, 20) == 0;
	if (ok && stage1_out)
		memcpy(stage1_out, stage1, 20);
	OPENSSL_cleanse(stage1, sizeof(stage1));
	return ok ? 0 : -1;
}

bool auth_native_verify(const uint8_t scramble[20], const uint8_t *resp,
			size_t resp_len, const uint8_t stage2[20],
			bool empty_password)
{
	if (empty_password)
		return resp_len == 0;
	return auth_native_stage1(scramble, resp, resp_len, stage2, NULL) == 0;
}

void auth_native_answer(const uint8_t scramble[20], const uint8_t stage1[20],
			uint8_t out[20])
{
	uint8_t stage2[20], mask[20];

	auth_native_stage2_of(stage1, stage2);
	native_mask(scramble, stage2, mask);
	xor_bytes(out, stage1, mask, 20);
}

int auth_native_hash_parse(const char *s, size_t len, uint8_t stage2[20])
{
	if (len != AUTH_NATIVE_HASH_LEN || s[0] != '*')
		return -1;
	return hex_decode(s + 1, 40, stage2);
}

void auth_native_hash_format(const uint8_t stage2[20], char out[42])
{
	static const char hex[] = "0123456789ABCDEF";

	out[0] = '*';
	for (int i = 0; i < 20; i++) {
		out[1 + 2 * i] = hex[stage2[i] >> 4];
		out[2 + 2 * i] = hex[stage2[i] & 15];
	}
	out[41] = '\0';
}

/* ---- ed25519 ------------------------------------------------------------ */

static const char B64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	const char *p = c ? strchr(B64, c) : NULL;
	return p ? (int)(p - B64) : -1;
}

int auth_ed25519_key_parse(const char *s, size_t len, uint8_t pub[32])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	if (len == AUTH_ED25519_KEY_LEN + 1 && s[AUTH_ED25519_KEY_LEN] == '=')
		len--;
	if (len != AUTH_ED25519_KEY_LEN)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			pub[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* 43 characters carry 258 bits: the 2 left over must be zero, or
	 * two texts would name one key. */
	return (acc & ((1u << bits) - 1)) ? -1 : 0;
}

void auth_ed25519_key_format(const uint8_t pub[32], char out[44])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (int i = 0; i < 32; i++) {
		acc = acc << 8 | pub[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = B64[(acc >> bits) & 63];
		}
	}
	out[n++] = B64[(acc << (6 - bits)) & 63];
	out[n] = '\0';
}

bool auth_ed25519_verify(const uint8_t pub[32], const uint8_t *msg,
			 size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *key;
	EVP_MD_CTX *ctx;
	bool ok = false;

	if (sig_len != AUTH_ED25519_SIG)
		return false;
	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	ctx = EVP_MD_CTX_new();
	if (key && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
	if (!ok)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

/*
 * Signing with MariaDB's key, from OpenSSL pieces and no curve arithmetic
 * of our own.  An Ed25519 signature of M under secret scalar a (public
 * A = aB) is R || S with R = rB for a secret nonce r, k = SHA512(R||A||M)
 * mod L and S = r + k*a mod L.  MariaDB's a is SHA512(password)[0..32],
 * clamped; standard Ed25519 would hash a 32-byte seed instead, so OpenSSL
 * cannot sign with it directly.  We need two points:
 *
 * - R with a known r: sign anything with OpenSSL under a random seed s.
 *   OpenSSL's R is rB with r = SHA512(SHA512(s)[32..64] || msg) mod L,
 *   which we can compute too.  Its own S is thrown away, so r is used
 *   once and never revealed: a uniformly random nonce, as Ed25519 wants.
 * - A = aB: X25519 of the (already clamped) a gives the Montgomery u of
 *   aB; the Edwards y is (u - 1) / (u + 1) mod p.  The sign of x is lost,
 *   so both encodings are tried: only the right one verifies (a signature
 *   made for -A checks S*B = R + k*(-A) against S*B = R + k*A).
 *
 * The result verifies under MariaDB's stored key, with a random rather
 * than deterministic nonce (verifiers cannot tell).
 */
static const char ED_P_HEX[] =
	"7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFED";
static const char ED_L_HEX[] =
	"1000000000000000000000000000000014DEF9DEA2F79CD65812631A5CF5D3ED";

static int ed_hash_mod_l(const uint8_t *a, size_t alen, const uint8_t *b,
			 size_t blen, const uint8_t *c, size_t clen,
			 const BIGNUM *l, BIGNUM *out, BN_CTX *bn)
{
	uint8_t h[64];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned n;
	int rc = -1;

	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) &&
	    EVP_DigestUpdate(ctx, a, alen) && EVP_DigestUpdate(ctx, b, blen) &&
	    (!clen || EVP_DigestUpdate(ctx, c, clen)) &&
	    EVP_DigestFinal_ex(ctx, h, &n) && BN_lebin2bn(h, 64, out) &&
	    BN_nnmod(out, out, l, bn))
		rc = 0;
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(h, sizeof(h));
	return rc;
}

/* R and r: an OpenSSL signature of msg under a random seed. */
static int ed_nonce(const uint8_t *msg, size_t msg_len, const BIGNUM *l,
		    uint8_t R[32], BIGNUM *r, BN_CTX *bn)
{
	uint8_t seed[32], az[64], sig[64];
	size_t sig_len = sizeof(sig);
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *ctx = NULL;
	int rc = -1;

	if (RAND_bytes(seed, sizeof(seed)) != 1)
		goto out;
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	ctx = EVP_MD_CTX_new();
	if (!key || !ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, msg, msg_len) != 1)
		goto out;
	SHA512(seed, sizeof(seed), az);
	if (ed_hash_mod_l(az + 32, 32, msg, msg_len, NULL, 0, l, r, bn))
		goto out;
	memcpy(R, sig, 32);
	rc = 0;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(az, sizeof(az));
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return rc;
}

/* The Edwards y of aB, little-endian, sign bit clear. */
static int ed_public_y(const uint8_t a[32], uint8_t y_out[32], BN_CTX *bn)
{
	uint8_t u_le[32];
	size_t n = sizeof(u_le);
	EVP_PKEY *x = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, a, 32);
	BIGNUM *p = NULL, *u, *num, *den;
	int rc = -1;

	BN_CTX_start(bn);
	u = BN_CTX_get(bn);
	num = BN_CTX_get(bn);
	den = BN_CTX_get(bn);
	if (!x || !den || EVP_PKEY_get_raw_public_key(x, u_le, &n) != 1 ||
	    !BN_hex2bn(&p, ED_P_HEX) || !BN_lebin2bn(u_le, 32, u) ||
	    !BN_copy(num, u) || !BN_sub_word(num, 1) || !BN_nnmod(num, num, p, bn) ||
	    !BN_copy(den, u) || !BN_add_word(den, 1) ||
	    !BN_mod_inverse(den, den, p, bn) ||
	    !BN_mod_mul(num, num, den, p, bn) || BN_bn2lebinpad(num, y_out, 32) != 32)
		goto out;
	rc = 0;
out:
	BN_CTX_end(bn);
	BN_free(p);
	EVP_PKEY_free(x);
	return rc;
}

static int ed_sign(const char *password, size_t len, const uint8_t *msg,
		   size_t msg_len, uint8_t sig[64], uint8_t pub_out[32])
{
	uint8_t az[64], R[32], A[32];
	BN_CTX *bn = BN_CTX_new();
	BIGNUM *l = NULL, *r, *a, *k, *s;
	int rc = -1;

	if (!bn)
		return -1;
	BN_CTX_start(bn);
	r = BN_CTX_get(bn);
	a = BN_CTX_get(bn);
	k = BN_CTX_get(bn);
	s = BN_CTX_get(bn);
	SHA512((const unsigned char *)password, len, az);
	az[0] &= 248;
	az[31] &= 63;
	az[31] |= 64;
	if (!s || !BN_hex2bn(&l, ED_L_HEX) || !BN_lebin2bn(az, 32, a) ||
	    ed_nonce(msg, msg_len, l, R, r, bn) || ed_public_y(az, A, bn))
		goto out;
	for (int sign = 0; sign < 2 && rc; sign++) {
		A[31] = (uint8_t)((A[31] & 0x7F) | sign << 7);
		if (ed_hash_mod_l(R, 32, A, 32, msg, msg_len, l, k, bn) ||
		    !BN_mod_mul(s, k, a, l, bn) || !BN_mod_add(s, s, r, l, bn))
			goto out;
		memcpy(sig, R, 32);
		if (BN_bn2lebinpad(s, sig + 32, 32) != 32)
			goto out;
		if (auth_ed25519_verify(A, msg, msg_len, sig, 64))
			rc = 0;
	}
	if (!rc && pub_out)
		memcpy(pub_out, A, 32);
out:
	OPENSSL_cleanse(az, sizeof(az));
	BN_clear(a);
	BN_clear(r);
	BN_CTX_end(bn);
	BN_CTX_free(bn);
	BN_free(l);
	return rc;
}

int auth_ed25519_sign(const char *password, size_t len, const uint8_t *msg,
		      size_t msg_len, uint8_t sig[64])
{
	return ed_sign(password, len, msg, msg_len, sig, NULL);
}

int auth_ed25519_key_of_password(const char *password, size_t len,
				 uint8_t pub[32])
{
	static const uint8_t msg[] = "myring";
	uint8_t sig[64];

	return ed_sign(password, len, msg, sizeof(msg) - 1, sig, pub);
}

/* ---- caching_sha2_password --------------------------------------------- */

void auth_sha2_stage1_of(const char *password, size_t len, uint8_t stage1[32])
{
	SHA256((const unsigned char *)password, len, stage1);
}

void auth_sha2_digest_of(const uint8_t stage1[32], uint8_t digest[32])
{
	SHA256(stage1, 32, digest);
}

/* SHA256(digest || nonce): the mask over stage1.  MySQL's order (see
 * generate_sha2_scramble / Validate_scramble): the digest first. */
static void sha2_mask(const uint8_t nonce[20], const uint8_t digest[32],
		      uint8_t mask[32])
{
	digest2(EVP_sha256(), digest, 32, nonce, 20, mask);
}

void auth_sha2_answer(const uint8_t nonce[20], const uint8_t stage1[32],
		      uint8_t out[32])
{
	uint8_t digest[32], mask[32];

	auth_sha2_digest_of(stage1, digest);
	sha2_mask(nonce, digest, mask);
	xor_bytes(out, stage1, mask, 32);
}

int auth_sha2_fast_stage1(const uint8_t nonce[20], const uint8_t *resp,
			  size_t len, const uint8_t digest[32],
			  uint8_t stage1_out[32])
{
	uint8_t mask[32], stage1[32], check[32];
	int ok;

	if (len != 32)
		return -1;
	sha2_mask(nonce, digest, mask);
	xor_bytes(stage1, resp, mask, 32);
	auth_sha2_digest_of(stage1, check);
	ok = CRYPTO_memcmp(check, digest, 32) == 0;
	if (ok && stage1_out)
		memcpy(stage1_out, stage1, 32);
	OPENSSL_cleanse(stage1, sizeof(stage1));
	return ok ? 0 : -1;
}

/* Drepper's SHA-crypt ("Unix crypt using SHA-256 and SHA-512", steps
 * numbered as there), which MySQL runs with a 20-byte salt. */
static const char CRYPT64[] =
	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void repeat_fill(uint8_t *out, size_t len, const uint8_t d[32])
{
	for (size_t i = 0; i < len; i++)
		out[i] = d[i % 32];
}

int auth_sha256_crypt(const char *password, size_t len, const uint8_t *salt,
		      size_t salt_len, uint32_t rounds, char out[43])
{
	static const uint8_t order[10][3] = {
		{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29},
	};
	const uint8_t *pw = (const uint8_t *)password;
	uint8_t A[32], B[32], DP[32], DS[32], P[AUTH_PASSWORD_MAX], S[64];
	EVP_MD_CTX *ctx;
	unsigned n;
	size_t i;
	int rc = -1;

	if (len > AUTH_PASSWORD_MAX || salt_len > sizeof(S) || rounds < 1000 ||
	    rounds > 999999999)
		return -1;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -1;
#define H_INIT() EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
#define H_ADD(p, l) EVP_DigestUpdate(ctx, (p), (l))
#define H_END(d) EVP_DigestFinal_ex(ctx, (d), &n)
	/* 4-8: B = H(pw || salt || pw) */
	if (!H_INIT() || !H_ADD(pw, len) || !H_ADD(salt, salt_len) ||
	    !H_ADD(pw, len) || !H_END(B))
		goto out;
	/* 1-3, 9-12: A */
	if (!H_INIT() || !H_ADD(pw, len) || !H_ADD(salt, salt_len))
		goto out;
	for (i = len; i > 32; i -= 32)
		if (!H_ADD(B, 32))
			goto out;
	if (!H_ADD(B, i))
		goto out;
	for (i = len; i > 0; i >>= 1)
		if (!((i & 1) ? H_ADD(B, 32) : H_ADD(pw, len)))
			goto out;
	if (!H_END(A))
		goto out;
	/* 13-16: P, from H(pw repeated len times) */
	if (!H_INIT())
		goto out;
	for (i = 0; i < len; i++)
		if (!H_ADD(pw, len))
			goto out;
	if (!H_END(DP))
		goto out;
	repeat_fill(P, len, DP);
	/* 17-20: S, from H(salt repeated 16 + A[0] times) */
	if (!H_INIT())
		goto out;
	for (i = 0; i < 16u + A[0]; i++)
		if (!H_ADD(salt, salt_len))
			goto out;
	if (!H_END(DS))
		goto out;
	repeat_fill(S, salt_len, DS);
	/* 21: the rounds; C starts as A. */
	for (uint32_t r = 0; r < rounds; r++) {
		const uint8_t *c = r == 0 ? A : DP;
		if (!H_INIT() || !((r & 1) ? H_ADD(P, len) : H_ADD(c, 32)) ||
		    (r % 3 && !H_ADD(S, salt_len)) ||
		    (r % 7 && !H_ADD(P, len)) ||
		    !((r & 1) ? H_ADD(c, 32) : H_ADD(P, len)) || !H_END(DP))
			goto out;
	}
#undef H_INIT
#undef H_ADD
#undef H_END
	/* 22: 24 bits at a time, least significant 6 bits first. */
	n = 0;
	for (i = 0; i < 10; i++) {
		uint32_t w = (uint32_t)DP[order[i][0]] << 16 |
			     (uint32_t)DP[order[i][1]] << 8 | DP[order[i][2]];
		for (int j = 0; j < 4; j++, w >>= 6)
			out[n++] = CRYPT64[w & 63];
	}
	{
		uint32_t w = (uint32_t)DP[31] << 8 | DP[30];
		for (int j = 0; j < 3; j++, w >>= 6)
			out[n++] = CRYPT64[w & 63];
	}
	rc = 0;
out:
	OPENSSL_cleanse(P, sizeof(P));
	OPENSSL_cleanse(DP, sizeof(DP));
	OPENSSL_cleanse(A, sizeof(A));
	OPENSSL_cleanse(B, sizeof(B));
	EVP_MD_CTX_free(ctx);
	return rc;
}

int auth_sha2_crypt_parse(const char *s, size_t len, struct auth_sha2_crypt *c)
{
	char raw[70];
	uint32_t count = 0;

	if (len == 2 + 2 * sizeof(raw) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (hex_decode(s + 2, 2 * sizeof(raw), (uint8_t *)raw))
			return -1;
		s = raw;
		len = sizeof(raw);
	}
	if (len != 70 || memcmp(s, "$A$", 3) || s[6] != '$')
		return -1;
	/* Rounds / 1000 in hex (MySQL 8.0 wrote "005" in decimal, the same
	 * digits for the default). */
	for (int i = 3; i < 6; i++) {
		int v = hex_value(s[i]);
		if (v < 0)
			return -1;
		count = count << 4 | (uint32_t)v;
	}
	if (!count)
		return -1;
	c->rounds = count * 1000;
	memcpy(c->salt, s + 7, 20);
	for (int i = 0; i < 20; i++)
		/* MySQL's salts are 7-bit without NUL and '$'. */
		if (!c->salt[i] || c->salt[i] == '$' || c->salt[i] > 0x7F)
			return -1;
	memcpy(c->hash, s + 27, 43);
	for (int i = 0; i < 43; i++)
		if (!strchr(CRYPT64, c->hash[i]) || !c->hash[i])
			return -1;
	return 0;
}

void auth_sha2_crypt_format(const struct auth_sha2_crypt *c, char out[70])
{
	char head[8];

	snprintf(head, sizeof(head), "$A$%03X$", (c->rounds / 1000) & 0xFFF);
	memcpy(out, head, 7);
	memcpy(out + 7, c->salt, 20);
	memcpy(out + 27, c->hash, 43);
}

int auth_sha2_crypt_make(const char *password, size_t len,
			 const uint8_t salt[20], uint32_t rounds,
			 struct auth_sha2_crypt *c)
{
	if (rounds < 1000 || rounds > 0xFFF * 1000 || rounds % 1000)
		return -1;
	c->rounds = rounds;
	memcpy(c->salt, salt, 20);
	return auth_sha256_crypt(password, len, salt, 20, rounds, c->hash);
}

bool auth_sha2_crypt_verify(const struct auth_sha2_crypt *c,
			    const char *password, size_t len)
{
	char hash[43];

	if (auth_sha256_crypt(password, len, c->salt, 20, c->rounds, hash))
		return false;
	return CRYPTO_memcmp(hash, c->hash, 43) == 0;
}

/* ---- RSA ------------------------------------------------------------------ */

struct auth_rsa {
	EVP_PKEY *key;
	char *pem;
	size_t pem_len;
};

static struct auth_rsa *rsa_wrap(EVP_PKEY *key)
{
	struct auth_rsa *k = calloc(1, sizeof(*k));
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	if (!k || !bio || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
	    PEM_write_bio_PUBKEY(bio, key) != 1)
		goto fail;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || !(k->pem = malloc((size_t)n + 1)))
		goto fail;
	memcpy(k->pem, data, (size_t)n);
	k->pem[n] = '\0';
	k->pem_len = (size_t)n;
	k->key = key;
	BIO_free(bio);
	return k;
fail:
	BIO_free(bio);
	free(k);
	EVP_PKEY_free(key);
	return NULL;
}

struct auth_rsa *auth_rsa_generate(unsigned bits)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	return key ? rsa_wrap(key) : NULL;
}

struct auth_rsa *auth_rsa_from_pem(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	if (!key)
		ERR_clear_error();
	return key ? rsa_wrap(key) : NULL;
}

void auth_rsa_free(struct auth_rsa *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->key);
	free(k->pem);
	free(k);
}

const char *auth_rsa_public_pem(const struct auth_rsa *k, size_t *len)
{
	*len = k->pem_len;
	return k->pem;
}

size_t auth_rsa_size(const struct auth_rsa *k)
{
	return (size_t)EVP_PKEY_get_size(k->key);
}

/* MySQL's password packet: the password and its NUL, each byte XORed with
 * the nonce repeated. */
static void xor_nonce(uint8_t *buf, size_t len, const uint8_t nonce[20])
{
	for (size_t i = 0; i < len; i++)
		buf[i] ^= nonce[i % 20];
}

int auth_sha2_rsa_decrypt(const struct auth_rsa *k, const uint8_t nonce[20],
			  const uint8_t *in, size_t len, char *pw)
{
	uint8_t plain[1024];
	size_t n = sizeof(plain);
	EVP_PKEY_CTX *ctx;
	int rc = -1;

	if (len != auth_rsa_size(k) || len > sizeof(plain))
		return -1;
	ctx = EVP_PKEY_CTX_new(k->key, NULL);
	if (!ctx || EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_decrypt(ctx, plain, &n, in, len) != 1)
		goto out;
	xor_nonce(plain, n, nonce);
	/* Exactly one NUL, at the end: the password cannot hold one. */
	if (n == 0 || n - 1 > AUTH_PASSWORD_MAX || plain[n - 1] ||
	    memchr(plain, 0, n - 1))
		goto out;
	memcpy(pw, plain, n);
	rc = (int)(n - 1);
out:
	/* A bad ciphertext is the client's fault: leave no error queued
	 * for whatever uses OpenSSL next on this thread. */
	if (rc < 0)
		ERR_clear_error();
	OPENSSL_cleanse(plain, sizeof(plain));
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int auth_sha2_rsa_encrypt(const char *pem, size_t pem_len,
			  const uint8_t nonce[20], const char *password,
			  size_t len, uint8_t *out, size_t cap)
{
	uint8_t plain[AUTH_PASSWORD_MAX + 1];
	BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
	EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = cap;
	int rc = -1;

	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
	    len > AUTH_PASSWORD_MAX || memchr(password, 0, len))
		goto out;
	memcpy(plain, password, len);
	plain[len] = 0;
	xor_nonce(plain, len + 1, nonce);
	ctx = EVP_PKEY_CTX_new(key, NULL);
	if (!ctx || EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    (size_t)EVP_PKEY_get_size(key) > cap ||
	    EVP_PKEY_encrypt(ctx, out, &n, plain, len + 1) != 1)
		goto out;
	rc = (int)n;
out:
	if (rc < 0)
		ERR_clear_error();
	OPENSSL_cleanse(plain, sizeof(plain));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return rc;
}

/* ---- secrets and users ---------------------------------------------------- */

int auth_secret_set_password(struct auth_secret *s, const char *pw, size_t len)
{
	auth_secret_clear(s);
	if (len > AUTH_PASSWORD_MAX)
		return -1;
	memcpy(s->plain, pw, len);
	s->plain[len] = '\0';
	s->plain_len = len;
	auth_native_stage1_of(pw, len, s->native_stage1);
	auth_sha2_stage1_of(pw, len, s->sha2_stage1);
	s->know = AUTH_KNOW_PLAIN | AUTH_KNOW_NATIVE | AUTH_KNOW_SHA2;
	return 0;
}

void auth_secret_clear(struct auth_secret *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

int auth_user_init(struct auth_user *u, const char *name,
		   enum auth_plugin plugin)
{
	size_t n = strlen(name);

	OPENSSL_cleanse(u, sizeof(*u));
	if (n > AUTH_NAME_MAX)
		return -1;
	memcpy(u->name, name, n + 1);
	u->plugin = plugin;
	return 0;
}

int auth_user_set_password(struct auth_user *u, const char *pw, size_t len)
{
	u->have = 0;
	if (auth_secret_set_password(&u->secret, pw, len))
		return -1;
	u->have |= AUTH_USER_PLAIN;
	if (!len)
		u->have |= AUTH_USER_EMPTY;
	auth_native_stage2_of(u->secret.native_stage1, u->native_stage2);
	auth_sha2_digest_of(u->secret.sha2_stage1, u->sha2_digest);
	u->have |= AUTH_USER_NATIVE | AUTH_USER_SHA2_DIGEST;
	/* Deriving the ed25519 key costs a signature: only for its users. */
	if (u->plugin == AUTH_ED25519) {
		if (auth_ed25519_key_of_password(pw, len, u->ed25519_pub))
			return -1;
		u->have |= AUTH_USER_ED25519;
	}
	return 0;
}

int auth_user_set_stored(struct auth_user *u, const char *s, size_t len)
{
	auth_secret_clear(&u->secret);
	u->have = 0;
	if (len == 0) {
		u->have = AUTH_USER_EMPTY;
		return 0;
	}
	switch (u->plugin) {
	case AUTH_NATIVE:
		if (auth_native_hash_parse(s, len, u->native_stage2))
			return -1;
		u->have = AUTH_USER_NATIVE;
		return 0;
	case AUTH_ED25519:
		if (auth_ed25519_key_parse(s, len, u->ed25519_pub))
			return -1;
		u->have = AUTH_USER_ED25519;
		return 0;
	case AUTH_CACHING_SHA2:
		if (auth_sha2_crypt_parse(s, len, &u->sha2_crypt))
			return -1;
		u->have = AUTH_USER_SHA2_CRYPT;
		return 0;
	default:
		return -1;
	}
}

int auth_user_set_backend(struct auth_user *u, const char *user,
			  const char *pw, size_t len)
{
	const char *name = user ? user : u->name;
	size_t n = strlen(name);

	u->backend_explicit = false;
	if (n > AUTH_NAME_MAX ||
	    auth_secret_set_password(&u->backend_secret, pw, len))
		return -1;
	memmove(u->backend_user, name, n + 1);
	u->backend_explicit = true;
	return 0;
}

/* ---- packets -------------------------------------------------------------- */

/* A payload assembled on the stack or heap before framing. */
struct out {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void out_put(struct out *o, const void *src, size_t n)
{
	if (o->oom || !n)
		return;
	if (o->cap - o->len < n) {
		size_t ncap = o->cap ? o->cap * 2 : 256;
		uint8_t *np;
		while (ncap - o->len < n)
			ncap *= 2;
		np = realloc(o->p, ncap);
		if (!np) {
			o->oom = true;
			return;
		}
		o->p = np;
		o->cap = ncap;
	}
	memcpy(o->p + o->len, src, n);
	o->len += n;
}

static void out_u8(struct out *o, uint8_t v)
{
	out_put(o, &v, 1);
}

static void out_lenenc(struct out *o, uint64_t v)
{
	uint8_t b[9];
	out_put(o, b, (size_t)(mysql_put_lenenc(b, v) - b));
}

static void out_cstr(struct out *o, const char *s)
{
	if (s)
		out_put(o, s, strlen(s));
	out_u8(o, 0);
}

/* Frames the payload into pb (secrets may pass through: wiped). */
static void out_finish(struct out *o, struct pkt_buf *pb)
{
	if (o->oom)
		pb->oom = true;
	else
		pkt_buf_packet(pb, o->p, o->len);
	if (o->p)
		OPENSSL_cleanse(o->p, o->cap);
	free(o->p);
}

void auth_build_switch(struct pkt_buf *pb, enum auth_plugin p,
		       const uint8_t *data, size_t len)
{
	struct out o = {0};

	out_u8(&o, 0xFE);
	out_cstr(&o, auth_plugin_name(p));
	out_put(&o, data, len);
	if (p != AUTH_ED25519)
		out_u8(&o, 0);
	out_finish(&o, pb);
}

void auth_build_more_data(struct pkt_buf *pb, const void *data, size_t len)
{
	struct out o = {0};

	out_u8(&o, 0x01);
	out_put(&o, data, len);
	out_finish(&o, pb);
}

int auth_parse_switch(const uint8_t *p, size_t len, struct mysql_str *plugin,
		      const uint8_t **data, size_t *data_len)
{
	const uint8_t *nul;

	if (len < 2 || p[0] != 0xFE)
		return -1;
	nul = memchr(p + 1, 0, len - 1);
	if (!nul)
		return -1;
	plugin->ptr = (const char *)p + 1;
	plugin->len = (size_t)(nul - p - 1);
	*data = nul + 1;
	*data_len = len - (size_t)(nul + 1 - p);
	return 0;
}

void auth_build_handshake_response(struct pkt_buf *pb,
				   const struct auth_handshake *h)
{
	uint8_t head[32] = {0};
	struct out o = {0};

	mysql_put_u32(head, (uint32_t)h->caps);
	mysql_put_u32(head + 4, h->max_packet);
	head[8] = h->charset;
	if (!(h->caps & CLIENT_MYSQL))
		mysql_put_u32(head + 28, (uint32_t)(h->caps >> 32));
	out_put(&o, head, sizeof(head));
	out_cstr(&o, h->user);
	if (h->caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		out_lenenc(&o, h->auth_len);
		out_put(&o, h->auth, h->auth_len);
	} else if (h->caps & CLIENT_SECURE_CONNECTION) {
		size_t n = h->auth_len > 255 ? 255 : h->auth_len;
		out_u8(&o, (uint8_t)n);
		out_put(&o, h->auth, n);
	} else {
		out_put(&o, h->auth, h->auth_len);
		out_u8(&o, 0);
	}
	if (h->caps & CLIENT_CONNECT_WITH_DB)
		out_cstr(&o, h->schema);
	if (h->caps & CLIENT_PLUGIN_AUTH)
		out_cstr(&o, h->plugin);
	if (h->caps & CLIENT_CONNECT_ATTRS) {
		out_lenenc(&o, h->attrs_len);
		out_put(&o, h->attrs, h->attrs_len);
	}
	out_finish(&o, pb);
}

int auth_build_change_user(struct pkt_buf *pb, const struct auth_change_user *cu)
{
	struct out o = {0};
	uint8_t cs[2];

	if ((cu->caps & CLIENT_SECURE_CONNECTION) && cu->auth_len > 255)
		return -1;
	out_u8(&o, COM_CHANGE_USER);
	out_cstr(&o, cu->user);
	if (cu->caps & CLIENT_SECURE_CONNECTION) {
		out_u8(&o, (uint8_t)cu->auth_len);
		out_put(&o, cu->auth, cu->auth_len);
	} else {
		out_put(&o, cu->auth, cu->auth_len);
		out_u8(&o, 0);
	}
	out_cstr(&o, cu->schema);
	mysql_put_u16(cs, cu->charset);
	out_put(&o, cs, 2);
	if (cu->caps & CLIENT_PLUGIN_AUTH)
		out_cstr(&o, cu->plugin);
	if (cu->caps & CLIENT_CONNECT_ATTRS) {
		out_lenenc(&o, cu->attrs_len);
		out_put(&o, cu->attrs, cu->attrs_len);
	}
	out_finish(&o, pb);
	return 0;
}

int auth_attr_put(uint8_t *out, size_t cap, size_t *len, const char *key,
		  const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	size_t need = mysql_lenenc_size(kl) + kl + mysql_lenenc_size(vl) + vl;
	uint8_t *p;

	if (*len > cap || cap - *len < need)
		return -1;
	p = mysql_put_lenenc(out + *len, kl);
	memcpy(p, key, kl);
	p = mysql_put_lenenc(p + kl, vl);
	memcpy(p, value, vl);
	*len += need;
	return 0;
}
