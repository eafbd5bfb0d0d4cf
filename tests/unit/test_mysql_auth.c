/*
 * Authentication (mysql_auth.c): the three plugins' primitives against
 * real vectors, the packets, and both state machines against each other.
 *
 * Real vectors were captured from MariaDB 10.11.19 and its mariadb CLI
 * (libmariadb 3.3.20, OpenSSL build): a throwaway server greeted the CLI
 * with the scramble "ABCDEFGHIJKLMNOPQRST", switched it to client_ed25519
 * with a fixed 32-byte nonce or to caching_sha2_password (fast answer,
 * 0x01 0x04, key request answered with the public half of test_rsa_key,
 * and the CLI's RSA-encrypted password, run with --skip-ssl), and the
 * stored hashes and keys are what the server's mysql.user shows for
 * CREATE USER ... USING PASSWORD('...').
 */
#include <criterion/criterion.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_auth_exchange.h"

static const uint8_t SCRAMBLE[20] = "ABCDEFGHIJKLMNOPQRST";

/* HandshakeResponse41 of the mariadb CLI, user myring_ed, password
 * "ed-pw", answering SCRAMBLE with mysql_native_password. */
static const uint8_t hs_native_ed_pw[212] = {
	0x85, 0xa2, 0xbf, 0x00, 0x00, 0x00, 0x10, 0x00, 0x21, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6d, 0x79, 0x72, 0x69,
	0x6e, 0x67, 0x5f, 0x65, 0x64, 0x00, 0x14, 0xb4, 0xc3, 0x74, 0x15, 0x92,
	0xed, 0x36, 0x5c, 0xa2, 0x0f, 0xbc, 0xa2, 0x84, 0x45, 0xeb, 0x82, 0xa5,
	0xeb, 0x16, 0x04, 0x6d, 0x79, 0x73, 0x71, 0x6c, 0x5f, 0x6e, 0x61, 0x74,
	0x69, 0x76, 0x65, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64,
	0x00, 0x7e, 0x03, 0x5f, 0x6f, 0x73, 0x05, 0x4c, 0x69, 0x6e, 0x75, 0x78,
	0x0c, 0x5f, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x5f, 0x6e, 0x61, 0x6d,
	0x65, 0x0a, 0x6c, 0x69, 0x62, 0x6d, 0x61, 0x72, 0x69, 0x61, 0x64, 0x62,
	0x04, 0x5f, 0x70, 0x69, 0x64, 0x04, 0x39, 0x35, 0x35, 0x37, 0x0f, 0x5f,
	0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x5f, 0x76, 0x65, 0x72, 0x73, 0x69,
	0x6f, 0x6e, 0x06, 0x33, 0x2e, 0x33, 0x2e, 0x32, 0x30, 0x09, 0x5f, 0x70,
	0x6c, 0x61, 0x74, 0x66, 0x6f, 0x72, 0x6d, 0x06, 0x78, 0x38, 0x36, 0x5f,
	0x36, 0x34, 0x0c, 0x70, 0x72, 0x6f, 0x67, 0x72, 0x61, 0x6d, 0x5f, 0x6e,
	0x61, 0x6d, 0x65, 0x05, 0x6d, 0x79, 0x73, 0x71, 0x6c, 0x0c, 0x5f, 0x73,
	0x65, 0x72, 0x76, 0x65, 0x72, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x09, 0x31,
	0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31,
};

/* The client_ed25519 nonce the capture server sent, and the CLI's
 * signatures of it for: myring_ed "ed-pw", cap_e1 "", cap_e2 (32
 * characters), cap_e3 (a long UTF-8 phrase, below). */
static const uint8_t ed_nonce[32] = {
	0x03, 0x0a, 0x11, 0x18, 0x1f, 0x26, 0x2d, 0x34, 0x3b, 0x42, 0x49, 0x50,
	0x57, 0x5e, 0x65, 0x6c, 0x73, 0x7a, 0x81, 0x88, 0x8f, 0x96, 0x9d, 0xa4,
	0xab, 0xb2, 0xb9, 0xc0, 0xc7, 0xce, 0xd5, 0xdc,
};
static const uint8_t sig_ed[64] = {
	0xf0, 0xb6, 0x54, 0x61, 0x21, 0xc7, 0xe2, 0xa2, 0xe5, 0xc6, 0x06, 0x45,
	0x96, 0x22, 0x0a, 0xf6, 0x52, 0xb0, 0x1e, 0x47, 0xfb, 0xae, 0x83, 0x12,
	0x9e, 0x68, 0x78, 0xeb, 0xde, 0x60, 0x2e, 0xba, 0xab, 0x23, 0x96, 0x78,
	0x16, 0x5a, 0xd9, 0xcc, 0x7f, 0xa6, 0x34, 0xfd, 0xa1, 0x45, 0x34, 0xa4,
	0x3e, 0x27, 0x8b, 0x31, 0xc1, 0xd6, 0xc8, 0xfa, 0xdb, 0x31, 0x3b, 0x82,
	0x4c, 0xd7, 0x04, 0x08,
};
static const uint8_t sig_e1[64] = {
	0x23, 0x76, 0x9d, 0xd8, 0xe9, 0x33, 0xf5, 0x0f, 0x3b, 0x2a, 0x5e, 0x49,
	0xfd, 0x79, 0x8e, 0x90, 0x38, 0x86, 0x53, 0x6e, 0xd8, 0x58, 0x13, 0x11,
	0x29, 0x73, 0x7e, 0x49, 0x84, 0x88, 0x01, 0x2b, 0xbe, 0x0a, 0x25, 0x5e,
	0x0a, 0xa3, 0x89, 0x96, 0x77, 0xe1, 0x10, 0x92, 0xd9, 0xf9, 0x51, 0xfd,
	0x30, 0x10, 0x6e, 0x71, 0x55, 0x2a, 0xb4, 0x69, 0xa8, 0x0a, 0xb3, 0x6d,
	0xcf, 0x3b, 0x7a, 0x04,
};
static const uint8_t sig_e2[64] = {
	0x97, 0x1d, 0xf1, 0x4d, 0xf8, 0x9d, 0x1a, 0x9b, 0xcb, 0xe3, 0xe2, 0x49,
	0x64, 0x65, 0x99, 0x50, 0xb1, 0xab, 0x59, 0x86, 0x21, 0xc7, 0x0f, 0xcf,
	0x0a, 0xd7, 0xcf, 0xf4, 0xda, 0x7d, 0xcf, 0xf9, 0x8e, 0x45, 0xad, 0xe4,
	0x11, 0x8d, 0x19, 0xa5, 0xb0, 0x9a, 0xe9, 0xe9, 0x5b, 0xbb, 0x67, 0x40,
	0x67, 0x86, 0x06, 0x97, 0xa0, 0xb7, 0x51, 0x06, 0x70, 0x43, 0x32, 0x58,
	0x58, 0x40, 0xcd, 0x0b,
};
static const uint8_t sig_e3[64] = {
	0xf5, 0xc7, 0xbc, 0x1d, 0x00, 0xea, 0xfc, 0x82, 0xb2, 0xed, 0xb2, 0xb2,
	0xe9, 0xc0, 0x27, 0x23, 0xc8, 0xb3, 0x52, 0xe1, 0xf8, 0x15, 0x65, 0xa0,
	0xd8, 0x04, 0xc1, 0x91, 0xa3, 0xf5, 0x3e, 0x7b, 0x6b, 0xbf, 0xf1, 0x99,
	0xcf, 0x12, 0x17, 0x21, 0x7f, 0xf0, 0xd4, 0x60, 0x43, 0x84, 0x85, 0xd2,
	0xb0, 0x06, 0x38, 0x8c, 0x30, 0x04, 0x65, 0xfb, 0x11, 0x52, 0x1d, 0x40,
	0xce, 0x9a, 0x98, 0x01,
};

static const char PW_E2[] = "0123456789abcdef0123456789ABCDEF";
static const char PW_E3[] = "a much longer pass phrase, more than sixty-four "
			    "bytes long, with \xc3\xbcmlauts";
/* mysql.global_priv's authentication_string for each. */
static const char KEY_ED[] = "24FjORYwAV6wiJLDpFI0doShISjOdPNUg1WR7eRAgqA";
static const char KEY_E2[] = "8oHfN5iJFMxrXivbHZLqkjfj9x57hxLOZYi73VscRbo";
static const char KEY_E3[] = "z5VSpJ8GMTdi+exbDvo+4lzSmJlw6V25PNSrWGg8kDU";

/* caching_sha2_password, password "myring-pw", nonce SCRAMBLE: the CLI's
 * fast-auth answer and its RSA-OAEP encrypted password under
 * test_rsa_key. */
static const uint8_t sha2_fast_myring_pw[32] = {
	0x13, 0x98, 0x66, 0x55, 0xb8, 0xa9, 0x6a, 0x55, 0xf4, 0x52, 0xaa, 0xb8,
	0x68, 0x4c, 0x31, 0xea, 0xe7, 0xc5, 0xd0, 0x20, 0xb4, 0x35, 0xb6, 0x73,
	0x56, 0xda, 0x30, 0x34, 0x46, 0x34, 0x49, 0x28,
};
static const uint8_t sha2_rsa_myring_pw[256] = {
	0x9a, 0x30, 0xc7, 0xef, 0xf1, 0xb5, 0xd7, 0x4d, 0xbb, 0x91, 0x2f, 0xbc,
	0x36, 0xd3, 0x61, 0x53, 0x8c, 0xbd, 0x7f, 0xc5, 0xf2, 0x5d, 0xff, 0x46,
	0xcf, 0x5c, 0x21, 0x1f, 0x70, 0x05, 0xd4, 0xfe, 0x9b, 0xd0, 0xa0, 0xac,
	0x95, 0x53, 0x39, 0x2f, 0xa4, 0xf1, 0x4f, 0xeb, 0x61, 0x4e, 0x37, 0x38,
	0x1a, 0xfc, 0x7b, 0xd9, 0x73, 0xf8, 0xc3, 0x2c, 0x2c, 0x24, 0xf1, 0x90,
	0x1f, 0x87, 0xdf, 0x32, 0x52, 0x03, 0x46, 0x2e, 0xe2, 0x2e, 0x00, 0xbf,
	0x18, 0xd7, 0x05, 0x59, 0x8a, 0x21, 0xa6, 0xa8, 0xd7, 0x5d, 0xad, 0x80,
	0x10, 0x47, 0xb5, 0xfc, 0x30, 0x8a, 0xa1, 0x08, 0xba, 0x30, 0xc0, 0x21,
	0xe9, 0x5a, 0xda, 0x62, 0x5e, 0xce, 0xf6, 0xde, 0x1a, 0xd3, 0xcb, 0xd3,
	0x0b, 0xd8, 0x27, 0x61, 0x4a, 0x93, 0xe8, 0x73, 0x90, 0xe1, 0x63, 0xb1,
	0xd3, 0xb0, 0x69, 0xc5, 0x53, 0x98, 0xe0, 0x6c, 0xac, 0x7f, 0x15, 0xbf,
	0xb8, 0x28, 0x70, 0x14, 0xf6, 0xf4, 0x8b, 0x7b, 0x0a, 0x68, 0x08, 0x1e,
	0x2c, 0x1b, 0xed, 0x75, 0x7d, 0xad, 0xd8, 0x28, 0x56, 0xae, 0xc9, 0xb3,
	0xe6, 0x3a, 0x39, 0xd1, 0x51, 0x88, 0xf2, 0x09, 0x09, 0x8e, 0xbc, 0x39,
	0x01, 0x32, 0x9f, 0xf7, 0xa5, 0x37, 0x01, 0x20, 0x81, 0xc7, 0xf2, 0x86,
	0x0b, 0x4f, 0x2f, 0xdf, 0x95, 0xc7, 0x38, 0x74, 0x34, 0x46, 0x8b, 0x11,
	0x66, 0xd7, 0xd8, 0xa2, 0x6e, 0xa8, 0x39, 0x40, 0xda, 0x9b, 0x94, 0xa3,
	0xfe, 0xad, 0x2b, 0x76, 0xbc, 0x91, 0xaf, 0xac, 0x15, 0x84, 0xc4, 0xd0,
	0x68, 0xdd, 0x9f, 0x1a, 0xf0, 0xe3, 0xcf, 0x05, 0x5d, 0x90, 0xa0, 0x60,
	0x8f, 0xcd, 0x1c, 0x85, 0xdd, 0xad, 0x96, 0xda, 0x5e, 0xc3, 0xbd, 0xe8,
	0x89, 0x03, 0x6a, 0x11, 0x84, 0x2e, 0x75, 0xac, 0x9d, 0xf4, 0x0c, 0xab,
	0x41, 0xc2, 0x5b, 0x92,
};

/* A 2048-bit key made for these tests only. */
static const char test_rsa_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDKfZniszrpEV42\n"
	"vJvEtas1R6Jp8pAUei9H5fh1tsaYILDDrXC5fv7tFQo1HlIFVG5CoZljmTOUqym2\n"
	"kPAdY24UFcif15UCZL6Qkom8tLwQ6HUjEcHt5x0DSkNnXZhXQ//uv5n8WuZbwKpV\n"
	"pWdluZb/QP/nBP16KUZMEyDbFFQxFWcOG25jNUVseky/LZZvarbpiugwjRZeIfYi\n"
	"oIHSJzN65FrrF9+xuF8p2uOlpUT38QPwBEa0cGg9VBQy7zstVc0U3hAIHWF9SzWW\n"
	"sBKuTNHpfYOb0aHNuYXBROxzDSdzdld5sK3Y8J7YTBg0u85OMMgE4+1OQsPJyq4w\n"
	"Fc29kOZHAgMBAAECggEAAPp5DeFefYB5+2W56EoVw7IkP215SMALuRs2siA/TBOM\n"
	"XHBaxRVaAfyXX15VeHUfUJnF9fc9ipBb0+gAtlj5T9uIa/f3Xlrs7iHnIc71wax9\n"
	"3xIs5Qti1oCQsXqAS/D7gZnSEqgVyN0LdafQ8hWNfI+XLPSXN586GbqrQ/kQgb7d\n"
	"3KFGcYoBliXgRLF+woO6c0AzQni8/Q2Ch6Ny77zavJou3i+2ZQJoLyOs3OgZY/fm\n"
	"aoAW9C1TpxAb5Estp1zmEKTrPsiVGRbUiX4aI7pm1fntiQXP6chapw3d8xk/Mc43\n"
	"o4PgjnjOrD6IYrlCCRbNnEIDoEwQpOmXSgt58YQssQKBgQDmm9OtvcF9BSE/b22y\n"
	"w4q4shED/4YXNlyF1/BhLW8/EmGmlVbAc+/LAmGDLVZ/GUa5mgoNUR9OuQpHxHuY\n"
	"TpH3p3FxGwj29p833i43uu6OT+r/pd8htuS+T17krC5DSlRuI6DazRlT1qEWnGHt\n"
	"rUzZ0UOjCGqorDDBHGq6CO+IowKBgQDgyTWjbH/OvxeAuZMPUXnkGDr1+Pp/mAIj\n"
	"Xy9kq1rfSh/3Z5wBBAHR9gEwknov/OF9wEe8IvSJ13qcI8A1kLW+n0o3sFFptrI4\n"
	"vnU3yW6D989FwJSBfqHEJpCaqvTAR0AAuiiO20+hd0ME5BeDHCuVftflPO6FCXhZ\n"
	"KSVtcj6SDQKBgGnxVMIQ1v80iB24d1EU/Hn1dFO95EBtvPvQRKKgWOdE7o+1M/Ge\n"
	"UZ+WLG4zOfWSCyfhWJTdm+ByqgJmhdFm5zA7QKaRoQC0NFlaPSllO4sts+xWq7e1\n"
	"akjz9chgQbCwSTGANLnQV75ocAEPPv4OC6xVsxkHGNj8ojlVcMKesEy5AoGAdgwU\n"
	"2CMVp4yhGh/axBOksI2tARnk63b3wH2vVO3MRjEWQoYt3jatggbwLwLtmh/yh2ig\n"
	"A4RT6cO4hyEbQsYhO99JSZ+V0a95PuV+h3KIUFOmjVoKY0sORwV9sUwQRp3kVb1t\n"
	"qUAxPHl2P65NTrRPiy3W0XNDS6hihGhgWG7Dv00CgYBioHwkoboDqy+SfGjHu894\n"
	"tHC4GOxViyzxfDz9yVEEHN2sXN0h1MFoH7GPfzsXHDbWAen+4Kf8HVgYuBzx+lYC\n"
	"+XMatyn2Lm5gT1M6OiSMhPTq0jZ1jzT55WiCq/h6VTJ/KOELe0tdfjr7NnFnWILl\n"
	"EbOKOlziCPre/ty506SBHg==\n"
	"-----END PRIVATE KEY-----\n";

static void hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* ---- mysql_native_password ---------------------------------------------- */

/* What a client computes: SHA1(pw) XOR SHA1(scramble || SHA1(SHA1(pw))). */
static void client_proof(const char *pw, const uint8_t scramble[20], uint8_t out[20])
{
	uint8_t s1[20], s2[20], buf[40], mask[20];

	SHA1((const unsigned char *)pw, strlen(pw), s1);
	SHA1(s1, 20, s2);
	memcpy(buf, scramble, 20);
	memcpy(buf + 20, s2, 20);
	SHA1(buf, 40, mask);
	for (int i = 0; i < 20; i++)
		out[i] = s1[i] ^ mask[i];
}

Test(auth, native_password)
{
	const uint8_t scramble[20] = "abcdefghijklmnopqrst";
	uint8_t stage2[20], proof[20];

	auth_native_stage2("secret", stage2);
	client_proof("secret", scramble, proof);
	cr_assert(auth_native_verify(scramble, proof, 20, stage2, false));
	client_proof("Secret", scramble, proof);
	cr_assert(!auth_native_verify(scramble, proof, 20, stage2, false));
	client_proof("secret", scramble, proof);
	cr_assert(!auth_native_verify(scramble, proof, 19, stage2, false), "truncated");
	cr_assert(!auth_native_verify(scramble, proof, 0, stage2, false), "empty");
	uint8_t other[20] = "tsrqponmlkjihgfedcba";
	cr_assert(!auth_native_verify(other, proof, 20, stage2, false), "replayed");
	/* An empty password accepts only an empty response. */
	auth_native_stage2("", stage2);
	cr_assert(auth_native_verify(scramble, NULL, 0, stage2, true));
	cr_assert(!auth_native_verify(scramble, proof, 20, stage2, true));
	/* Known vector: stage2 of "secret" is MySQL's stored hash
	 * *14E65567ABDB5135D0CFD9A70B3032C179A49EE7. */
	static const uint8_t known[20] = {0x14, 0xE6, 0x55, 0x67, 0xAB, 0xDB, 0x51,
					  0x35, 0xD0, 0xCF, 0xD9, 0xA7, 0x0B, 0x30,
					  0x32, 0xC1, 0x79, 0xA4, 0x9E, 0xE7};
	auth_native_stage2("secret", stage2);
	cr_assert_eq(memcmp(stage2, known, 20), 0);
}

/* The CLI's real answer: the stored hash recovers SHA1(password) from it,
 * and that stage1 answers any other scramble exactly as the client
 * would (the proxy logs in to a backend as the client). */
Test(auth, native_stage1_from_a_real_answer)
{
	struct mysql_handshake_response r;
	uint8_t stage2[20], stage1[20], want[20], other[20], ans[20], proof[20];

	/* MariaDB: SELECT PASSWORD('ed-pw'). */
	cr_assert_eq(auth_native_hash_parse("*7B9D3ED22C34C5708FDDBC5A0381B068004FAF12",
					    41, stage2), 0);
	cr_assert_eq(mysql_parse_handshake_response(hs_native_ed_pw,
						    sizeof(hs_native_ed_pw),
						    SRV_CAPS, &r), 0);
	cr_assert_eq(r.auth.len, 20);
	cr_assert_eq(auth_native_stage1(SCRAMBLE, (const uint8_t *)r.auth.ptr,
					r.auth.len, stage2, stage1), 0);
	SHA1((const unsigned char *)"ed-pw", 5, want);
	cr_assert_eq(memcmp(stage1, want, 20), 0);
	auth_native_answer(SCRAMBLE, stage1, ans);
	cr_assert_eq(memcmp(ans, r.auth.ptr, 20), 0, "reproduces the client");
	memcpy(other, "a backend's scramble", 20);
	auth_native_answer(other, stage1, ans);
	client_proof("ed-pw", other, proof);
	cr_assert_eq(memcmp(ans, proof, 20), 0);
	/* Any other stored hash, scramble or answer: no stage1. */
	memset(stage1, 0xAA, 20);
	stage2[19] ^= 1;
	cr_assert_eq(auth_native_stage1(SCRAMBLE, (const uint8_t *)r.auth.ptr,
					20, stage2, stage1), -1);
	stage2[19] ^= 1;
	cr_assert_eq(auth_native_stage1(other, (const uint8_t *)r.auth.ptr, 20,
					stage2, stage1), -1);
	for (size_t i = 0; i < 20; i++) {
		uint8_t bad[20];
		memcpy(bad, r.auth.ptr, 20);
		bad[i] ^= 0x80;
		cr_assert_eq(auth_native_stage1(SCRAMBLE, bad, 20, stage2, NULL), -1);
	}
	cr_assert_eq(auth_native_stage1(SCRAMBLE, (const uint8_t *)r.auth.ptr,
					21, stage2, NULL), -1);
	cr_assert_eq(stage1[0], 0xAA, "untouched on failure");
}

Test(auth, native_hash_text)
{
	uint8_t stage2[20], want[20];
	char text[42];

	/* MariaDB: SELECT PASSWORD('myring-pw'). */
	auth_native_stage2("myring-pw", want);
	cr_assert_eq(auth_native_hash_parse("*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D",
					    41, stage2), 0);
	cr_assert_eq(memcmp(stage2, want, 20), 0);
	auth_native_hash_format(stage2, text);
	cr_assert_str_eq(text, "*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D");
	cr_assert_eq(auth_native_hash_parse("*377c8e052bd9348be700a1d30defebab3ac67a0d",
					    41, stage2), 0, "lower case");
	cr_assert_eq(memcmp(stage2, want, 20), 0);
	cr_assert_eq(auth_native_hash_parse("377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D",
					    40, stage2), -1, "no star");
	cr_assert_eq(auth_native_hash_parse("*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0",
					    40, stage2), -1, "short");
	cr_assert_eq(auth_native_hash_parse("*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D0",
					    42, stage2), -1, "long");
	cr_assert_eq(auth_native_hash_parse("*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0G",
					    41, stage2), -1, "not hex");
	cr_assert_eq(auth_native_hash_parse("", 0, stage2), -1);
}

/* ---- ed25519 -------------------------------------------------------------- */

Test(auth, ed25519_key_text)
{
	uint8_t pub[32];
	char text[44];

	cr_assert_eq(auth_ed25519_key_parse(KEY_ED, 43, pub), 0);
	auth_ed25519_key_format(pub, text);
	cr_assert_str_eq(text, KEY_ED);
	cr_assert_eq(auth_ed25519_key_parse("24FjORYwAV6wiJLDpFI0doShISjOdPNUg1WR7eRAgqA=",
					    44, pub), 0, "padded");
	cr_assert_eq(auth_ed25519_key_parse(KEY_ED, 42, pub), -1, "short");
	cr_assert_eq(auth_ed25519_key_parse("24FjORYwAV6wiJLDpFI0doShISjOdPNUg1WR7eRAgqAA",
					    44, pub), -1, "long");
	cr_assert_eq(auth_ed25519_key_parse("24FjORYwAV6wiJLDpFI0doShISjOdPNUg1WR7eRAgq!",
					    43, pub), -1, "not base64");
	/* 'B' sets one of the two bits past the 32nd byte. */
	cr_assert_eq(auth_ed25519_key_parse("24FjORYwAV6wiJLDpFI0doShISjOdPNUg1WR7eRAgqB",
					    43, pub), -1, "trailing bits");
	cr_assert_eq(auth_ed25519_key_parse("24FjORYwAV6wiJLDpFI0doShISjOdPNUg1WR7eRAg\0A",
					    43, pub), -1, "NUL");
}

/* MariaDB's signing derives the scalar from SHA-512(password), but the
 * signature is standard Ed25519: OpenSSL verifies the real ones. */
Test(auth, ed25519_verifies_real_signatures)
{
	static const struct {
		const char *key;
		const uint8_t *sig;
	} v[] = {{KEY_ED, sig_ed}, {KEY_E2, sig_e2}, {KEY_E3, sig_e3}};
	uint8_t pub[32], bad[64], other[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(auth_ed25519_key_parse(v[i].key, 43, pub), 0);
		cr_assert(auth_ed25519_verify(pub, ed_nonce, 32, v[i].sig, 64), "%zu", i);
		for (int b = 0; b < 64; b += 7) {
			memcpy(bad, v[i].sig, 64);
			bad[b] ^= 0x01;
			cr_assert(!auth_ed25519_verify(pub, ed_nonce, 32, bad, 64),
				  "%zu: byte %d", i, b);
		}
		memcpy(other, ed_nonce, 32);
		other[31] ^= 1;
		cr_assert(!auth_ed25519_verify(pub, other, 32, v[i].sig, 64));
		cr_assert(!auth_ed25519_verify(pub, ed_nonce, 32, v[i].sig, 63));
	}
	cr_assert_eq(auth_ed25519_key_parse(KEY_E2, 43, pub), 0);
	cr_assert(!auth_ed25519_verify(pub, ed_nonce, 32, sig_ed, 64), "other key");
}

/* The public key of a password, computed without curve arithmetic of our
 * own, is the one MariaDB stores; for "" MariaDB stores nothing, but its
 * client still signs, and the derived key verifies that signature. */
Test(auth, ed25519_key_of_password_matches_mariadb)
{
	static const struct {
		const char *pw, *key;
	} v[] = {{"ed-pw", KEY_ED}, {PW_E2, KEY_E2}, {PW_E3, KEY_E3}};
	uint8_t pub[32];
	char text[44];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(auth_ed25519_key_of_password(v[i].pw, strlen(v[i].pw),
							  pub), 0);
		auth_ed25519_key_format(pub, text);
		cr_assert_str_eq(text, v[i].key);
	}
	cr_assert_eq(auth_ed25519_key_of_password("", 0, pub), 0);
	cr_assert(auth_ed25519_verify(pub, ed_nonce, 32, sig_e1, 64));
}

/* Our signature from the plaintext verifies under the stored key (what
 * MariaDB checks); nonces are random, so two differ and both verify. */
Test(auth, ed25519_sign_from_password)
{
	uint8_t pub[32], s1[64], s2[64];

	cr_assert_eq(auth_ed25519_key_parse(KEY_E3, 43, pub), 0);
	cr_assert_eq(auth_ed25519_sign(PW_E3, strlen(PW_E3), ed_nonce, 32, s1), 0);
	cr_assert_eq(auth_ed25519_sign(PW_E3, strlen(PW_E3), ed_nonce, 32, s2), 0);
	cr_assert(auth_ed25519_verify(pub, ed_nonce, 32, s1, 64));
	cr_assert(auth_ed25519_verify(pub, ed_nonce, 32, s2, 64));
	cr_assert_neq(memcmp(s1, s2, 64), 0);
	cr_assert_eq(auth_ed25519_sign("ed-pw", 5, ed_nonce, 32, s1), 0);
	cr_assert(!auth_ed25519_verify(pub, ed_nonce, 32, s1, 64), "other password");
}

/* ---- caching_sha2_password ------------------------------------------------ */

Test(auth, sha2_fast_answer_real_and_known_vectors)
{
	uint8_t stage1[32], digest[32], ans[32], got[32];
	/* go-sql-driver/mysql's auth_test.go vector. */
	static const uint8_t go_nonce[20] = {10, 47, 74, 111, 75, 73, 34, 48, 88, 76,
					     114, 74, 37, 13, 3, 80, 82, 2, 23, 21};
	uint8_t go_want[32];

	auth_sha2_stage1_of("myring-pw", 9, stage1);
	auth_sha2_answer(SCRAMBLE, stage1, ans);
	cr_assert_eq(memcmp(ans, sha2_fast_myring_pw, 32), 0, "the CLI's answer");
	auth_sha2_stage1_of("secret", 6, stage1);
	auth_sha2_answer(go_nonce, stage1, ans);
	hex("f490e76f66d9d86665ce54d98c78d0acfe2fb0b08b423da807144873d30b312c",
	    go_want, 32);
	cr_assert_eq(memcmp(ans, go_want, 32), 0);

	/* Server side: the cached digest recovers SHA256(pw). */
	auth_sha2_stage1_of("myring-pw", 9, stage1);
	auth_sha2_digest_of(stage1, digest);
	cr_assert_eq(auth_sha2_fast_stage1(SCRAMBLE, sha2_fast_myring_pw, 32,
					   digest, got), 0);
	cr_assert_eq(memcmp(got, stage1, 32), 0);
	cr_assert_eq(auth_sha2_fast_stage1(SCRAMBLE, sha2_fast_myring_pw, 31,
					   digest, NULL), -1);
	cr_assert_eq(auth_sha2_fast_stage1(go_nonce, sha2_fast_myring_pw, 32,
					   digest, NULL), -1);
	digest[0] ^= 1;
	cr_assert_eq(auth_sha2_fast_stage1(SCRAMBLE, sha2_fast_myring_pw, 32,
					   digest, NULL), -1);
}

/* The CLI's encrypted password decrypts with the key it was given. */
Test(auth, sha2_rsa_real_ciphertext)
{
	struct auth_rsa *k = auth_rsa_from_pem(test_rsa_key, sizeof(test_rsa_key) - 1);
	char pw[AUTH_PASSWORD_MAX + 1];
	uint8_t bad[256];
	size_t pem_len;

	cr_assert_not_null(k);
	cr_assert_eq(auth_rsa_size(k), 256);
	cr_assert_eq(strncmp(auth_rsa_public_pem(k, &pem_len),
			     "-----BEGIN PUBLIC KEY-----\n", 27), 0);
	cr_assert_eq(pem_len, 451);
	cr_assert_eq(auth_sha2_rsa_decrypt(k, SCRAMBLE, sha2_rsa_myring_pw, 256, pw), 9);
	cr_assert_str_eq(pw, "myring-pw");
	/* Another nonce leaves no NUL at the end. */
	cr_assert_eq(auth_sha2_rsa_decrypt(k, (const uint8_t *)"TSRQPONMLKJIHGFEDCBA",
					   sha2_rsa_myring_pw, 256, pw), -1);
	memcpy(bad, sha2_rsa_myring_pw, 256);
	bad[100] ^= 1;
	cr_assert_eq(auth_sha2_rsa_decrypt(k, SCRAMBLE, bad, 256, pw), -1);
	cr_assert_eq(auth_sha2_rsa_decrypt(k, SCRAMBLE, sha2_rsa_myring_pw, 255, pw), -1);
	auth_rsa_free(k);
	cr_assert_null(auth_rsa_from_pem("-----BEGIN PRIVATE KEY-----\n", 28));
}

Test(auth, sha2_rsa_round_trip_with_a_new_key)
{
	struct auth_rsa *k = auth_rsa_generate(2048);
	char pw[AUTH_PASSWORD_MAX + 1], longpw[AUTH_PASSWORD_MAX + 2];
	uint8_t c1[512], c2[512];
	size_t pem_len;
	const char *pem;
	int n1, n2;

	cr_assert_not_null(k);
	pem = auth_rsa_public_pem(k, &pem_len);
	cr_assert_eq(strlen(pem), pem_len);
	n1 = auth_sha2_rsa_encrypt(pem, pem_len, SCRAMBLE, "s3cr\xc3\xa9t", 7, c1, sizeof(c1));
	n2 = auth_sha2_rsa_encrypt(pem, pem_len, SCRAMBLE, "s3cr\xc3\xa9t", 7, c2, sizeof(c2));
	cr_assert_eq(n1, 256);
	cr_assert_eq(n2, 256);
	cr_assert_neq(memcmp(c1, c2, 256), 0, "OAEP is randomised");
	cr_assert_eq(auth_sha2_rsa_decrypt(k, SCRAMBLE, c1, 256, pw), 7);
	cr_assert_str_eq(pw, "s3cr\xc3\xa9t");
	/* The longest password MySQL takes, and one byte more. */
	memset(longpw, 'x', sizeof(longpw));
	cr_assert_eq(auth_sha2_rsa_encrypt(pem, pem_len, SCRAMBLE, longpw,
					   AUTH_PASSWORD_MAX, c1, sizeof(c1)), -1,
		     "OAEP-SHA1 holds at most 214 bytes in 2048 bits");
	cr_assert_eq(auth_sha2_rsa_encrypt(pem, pem_len, SCRAMBLE, longpw, 213,
					   c1, sizeof(c1)), 256);
	cr_assert_eq(auth_sha2_rsa_decrypt(k, SCRAMBLE, c1, 256, pw), 213);
	cr_assert_eq(auth_sha2_rsa_encrypt(pem, pem_len, SCRAMBLE, "a\0b", 3, c1,
					   sizeof(c1)), -1, "NUL in password");
	cr_assert_eq(auth_sha2_rsa_encrypt(pem, pem_len, SCRAMBLE, "a", 1, c1, 255),
		     -1, "no room");
	cr_assert_eq(auth_sha2_rsa_encrypt(pem, 20, SCRAMBLE, "a", 1, c1, 512),
		     -1, "not a key");
	auth_rsa_free(k);
}

/* Drepper's SHA-crypt test vectors (salts cut to 16 as "$5$" does). */
Test(auth, sha256_crypt_vectors)
{
	static const struct {
		const char *salt, *pw;
		uint32_t rounds;
		const char *hash;
	} v[] = {
		{"saltstring", "Hello world!", 5000,
		 "5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{"saltstringsaltst", "Hello world!", 10000,
		 "3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
		{"toolongsaltstrin", "This is just a test", 5000,
		 "Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5"},
		{"anotherlongsalts",
		 "a very much longer text to encrypt.  This one even stretches "
		 "over morethan one line.", 1400,
		 "Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1"},
		{"short", "we have a short salt string but not a short password",
		 77777, "JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/"},
		{"roundstoolow", "the minimum number is still observed", 1000,
		 "yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},
	};
	char out[44];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(auth_sha256_crypt(v[i].pw, strlen(v[i].pw),
					       (const uint8_t *)v[i].salt,
					       strlen(v[i].salt), v[i].rounds, out), 0);
		out[43] = '\0';
		cr_assert_str_eq(out, v[i].hash, "vector %zu", i);
	}
	cr_assert_eq(auth_sha256_crypt("x", 1, (const uint8_t *)"s", 1, 999, out), -1);
}

static bool crypt_eq(const struct auth_sha2_crypt *a, const struct auth_sha2_crypt *b)
{
	return a->rounds == b->rounds && !memcmp(a->salt, b->salt, 20) &&
	       !memcmp(a->hash, b->hash, 43);
}

Test(auth, sha2_stored_text)
{
	static const uint8_t salt[20] = "0123456789abcdefghij";
	struct auth_sha2_crypt c, d;
	char text[70], hexform[143];

	cr_assert_eq(auth_sha2_crypt_make("myring-pw", 9, salt, 5000, &c), 0);
	auth_sha2_crypt_format(&c, text);
	cr_assert_eq(memcmp(text, "$A$005$0123456789abcdefghij", 27), 0);
	cr_assert_eq(auth_sha2_crypt_parse(text, 70, &d), 0);
	cr_assert_eq(d.rounds, 5000);
	cr_assert(crypt_eq(&c, &d));
	cr_assert(auth_sha2_crypt_verify(&d, "myring-pw", 9));
	cr_assert(!auth_sha2_crypt_verify(&d, "myring-pW", 9));
	cr_assert(!auth_sha2_crypt_verify(&d, "myring-pw", 8));
	/* The stored hash is SHA-crypt with the 20-byte salt. */
	char direct[43];
	cr_assert_eq(auth_sha256_crypt("myring-pw", 9, salt, 20, 5000, direct), 0);
	cr_assert_eq(memcmp(direct, c.hash, 43), 0);
	/* SHOW CREATE USER's 0x form. */
	strcpy(hexform, "0x");
	for (int i = 0; i < 70; i++)
		sprintf(hexform + 2 + 2 * i, "%02X", (uint8_t)text[i]);
	cr_assert_eq(auth_sha2_crypt_parse(hexform, 142, &d), 0);
	cr_assert(crypt_eq(&c, &d));
	/* Rounds in hex: 00A = 10000. */
	text[5] = 'A';
	cr_assert_eq(auth_sha2_crypt_parse(text, 70, &d), 0);
	cr_assert_eq(d.rounds, 10000);
	text[5] = '0';
	cr_assert_eq(auth_sha2_crypt_parse(text, 70, &d), -1, "zero rounds");
	text[5] = '5';
	cr_assert_eq(auth_sha2_crypt_parse(text, 69, &d), -1, "short");
	text[1] = 'B';
	cr_assert_eq(auth_sha2_crypt_parse(text, 70, &d), -1, "PBKDF2 ($B$)");
	text[1] = 'A';
	text[10] = '$';
	cr_assert_eq(auth_sha2_crypt_parse(text, 70, &d), -1, "'$' in salt");
	text[10] = '3';
	text[69] = '!';
	cr_assert_eq(auth_sha2_crypt_parse(text, 70, &d), -1, "hash alphabet");
	cr_assert_eq(auth_sha2_crypt_make("x", 1, salt, 5500, &c), -1);
}

/* ---- packets -------------------------------------------------------------- */

/* Payload of the single packet in pb, checking its header. */
static const uint8_t *only_packet(const struct pkt_buf *pb, uint8_t seq,
				  size_t *len)
{
	cr_assert(!pb->oom);
	cr_assert_geq(pb->len, 4);
	*len = mysql_get_u24(pb->data);
	cr_assert_eq(pb->len, *len + 4, "one packet");
	cr_assert_eq(pb->data[3], seq, "sequence id %u, want %u", pb->data[3], seq);
	return pb->data + 4;
}

Test(auth, switch_and_more_data_packets)
{
	struct pkt_buf pb;
	struct mysql_str name;
	const uint8_t *p, *data;
	size_t len, dlen;
	uint8_t nonce[32];

	pkt_buf_init(&pb);
	pb.seq = 2;
	auth_build_switch(&pb, AUTH_NATIVE, SCRAMBLE, 20);
	p = only_packet(&pb, 2, &len);
	cr_assert_eq(len, 1 + 22 + 20 + 1);
	cr_assert_eq(memcmp(p, "\xfemysql_native_password\0ABCDEFGHIJKLMNOPQRST\0", len), 0);
	cr_assert_eq(auth_parse_switch(p, len, &name, &data, &dlen), 0);
	cr_assert_eq(auth_plugin_from_name(name.ptr, name.len), AUTH_NATIVE);
	cr_assert_eq(dlen, 21);

	pkt_buf_reset(&pb);
	memset(nonce, 0x5A, 32);
	auth_build_switch(&pb, AUTH_ED25519, nonce, 32);
	p = only_packet(&pb, 0, &len);
	cr_assert_eq(len, 1 + 15 + 32, "no NUL after the ed25519 nonce");
	cr_assert_eq(auth_parse_switch(p, len, &name, &data, &dlen), 0);
	cr_assert_eq(auth_plugin_from_name(name.ptr, name.len), AUTH_ED25519);
	cr_assert_eq(dlen, 32);
	cr_assert_eq(memcmp(data, nonce, 32), 0);

	pkt_buf_reset(&pb);
	auth_build_switch(&pb, AUTH_CACHING_SHA2, SCRAMBLE, 20);
	p = only_packet(&pb, 0, &len);
	cr_assert_eq(memcmp(p, "\xfe" "caching_sha2_password\0ABCDEFGHIJKLMNOPQRST\0", len), 0);

	pkt_buf_reset(&pb);
	auth_build_more_data(&pb, "\x04", 1);
	p = only_packet(&pb, 0, &len);
	cr_assert_eq(len, 2);
	cr_assert_eq(memcmp(p, "\x01\x04", 2), 0);
	pkt_buf_free(&pb);

	cr_assert_eq(auth_parse_switch((const uint8_t *)"\xfe" "abc", 4, &name, &data, &dlen),
		     -1, "no NUL");
	cr_assert_eq(auth_parse_switch((const uint8_t *)"\xfe", 1, &name, &data, &dlen), -1);
	cr_assert_eq(auth_parse_switch((const uint8_t *)"\x01" "a\0", 3, &name, &data, &dlen), -1);
	cr_assert_eq(auth_plugin_from_name("ed25519", 7), AUTH_ED25519);
	cr_assert_eq(auth_plugin_from_name("mysql_native_passwor", 20), AUTH_PLUGIN_UNKNOWN);
}

/* What we build, our parser (and so the server's layout) reads back. */
Test(auth, handshake_response_builds_what_servers_parse)
{
	static const uint64_t mariadb = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION |
		CLIENT_PLUGIN_AUTH | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
		CLIENT_CONNECT_WITH_DB | CLIENT_CONNECT_ATTRS | CLIENT_TRANSACTIONS |
		MARIADB_CLIENT_EXTENDED_METADATA | MARIADB_CLIENT_STMT_BULK_OPERATIONS;
	uint8_t attrs[64], answer[300];
	size_t attrs_len = 0, len;
	struct mysql_handshake_response r;
	struct mysql_str k, v;
	struct pkt_buf pb;
	const uint8_t *p;
	size_t pos = 0;

	cr_assert_eq(auth_attr_put(attrs, sizeof(attrs), &attrs_len, "_client_name", "myring"), 0);
	cr_assert_eq(auth_attr_put(attrs, sizeof(attrs), &attrs_len, "_pid", "42"), 0);
	cr_assert_eq(auth_attr_put(attrs, 30, &attrs_len, "x", "y"), -1, "full");
	memset(answer, 7, sizeof(answer));
	struct auth_handshake h = {
		.caps = mariadb, .max_packet = 1 << 24, .charset = 45,
		.user = "bob", .auth = answer, .auth_len = 20, .schema = "db1",
		.plugin = "mysql_native_password", .attrs = attrs,
		.attrs_len = attrs_len,
	};
	pkt_buf_init(&pb);
	pb.seq = 1;
	auth_build_handshake_response(&pb, &h);
	p = only_packet(&pb, 1, &len);
	cr_assert_eq(mysql_get_u32(p + 28), (uint32_t)(mariadb >> 32), "ext caps");
	cr_assert_eq(mysql_parse_handshake_response(p, len, mariadb, &r), 0);
	cr_assert_eq(r.caps, mariadb);
	cr_assert_eq(r.max_packet, 1u << 24);
	cr_assert_eq(r.charset, 45);
	cr_assert_eq(r.user.len, 3);
	cr_assert_eq(memcmp(r.user.ptr, "bob", 3), 0);
	cr_assert_eq(r.auth.len, 20);
	cr_assert_eq(memcmp(r.auth.ptr, answer, 20), 0);
	cr_assert_eq(r.schema.len, 3);
	cr_assert_eq(r.plugin.len, 21);
	cr_assert_eq(r.attrs.len, attrs_len);
	cr_assert_eq(mysql_attrs_next(r.attrs, &pos, &k, &v), 1);
	cr_assert_eq(v.len, 6);
	cr_assert_eq(mysql_attrs_next(r.attrs, &pos, &k, &v), 1);
	cr_assert_eq(memcmp(v.ptr, "42", 2), 0);
	cr_assert_eq(mysql_attrs_next(r.attrs, &pos, &k, &v), 0);

	/* Against a MySQL server: CLIENT_MYSQL set, filler stays zero; a
	 * 1-byte auth length without LENENC; no schema without its flag. */
	h.caps = CLIENT_MYSQL | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION |
		 CLIENT_PLUGIN_AUTH;
	h.auth_len = 32;
	pkt_buf_reset(&pb);
	auth_build_handshake_response(&pb, &h);
	p = only_packet(&pb, 0, &len);
	cr_assert_eq(mysql_get_u32(p + 28), 0);
	cr_assert_eq(mysql_parse_handshake_response(p, len, h.caps, &r), 0);
	cr_assert_eq(r.auth.len, 32);
	cr_assert_eq(r.schema.len, 0);
	cr_assert_eq(r.plugin.len, 21);
	cr_assert_eq(len, 32 + 4 + 1 + 32 + 22);
	pkt_buf_free(&pb);
}

Test(auth, change_user_builds_what_servers_parse)
{
	uint64_t caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION |
			CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS;
	uint8_t answer[256], attrs[16];
	size_t attrs_len = 0, len;
	struct mysql_change_user cu;
	struct pkt_buf pb;
	const uint8_t *p;

	memset(answer, 9, sizeof(answer));
	cr_assert_eq(auth_attr_put(attrs, sizeof(attrs), &attrs_len, "a", "b"), 0);
	struct auth_change_user c = {
		.caps = caps, .user = "alice", .auth = answer, .auth_len = 20,
		.schema = "s", .charset = 224, .plugin = "caching_sha2_password",
		.attrs = attrs, .attrs_len = attrs_len,
	};
	pkt_buf_init(&pb);
	cr_assert_eq(auth_build_change_user(&pb, &c), 0);
	p = only_packet(&pb, 0, &len);
	cr_assert_eq(mysql_parse_change_user(p, len, caps, &cu), 0);
	cr_assert_eq(cu.user.len, 5);
	cr_assert_eq(cu.auth.len, 20);
	cr_assert_eq(cu.schema.len, 1);
	cr_assert_eq(cu.charset, 224);
	cr_assert_eq(cu.plugin.len, 21);
	cr_assert_eq(cu.attrs.len, attrs_len);
	c.auth_len = 256;
	cr_assert_eq(auth_build_change_user(&pb, &c), -1, "1-byte length");
	c.auth_len = 255;
	c.schema = NULL;
	pkt_buf_reset(&pb);
	cr_assert_eq(auth_build_change_user(&pb, &c), 0);
	p = only_packet(&pb, 0, &len);
	cr_assert_eq(mysql_parse_change_user(p, len, caps, &cu), 0);
	cr_assert_eq(cu.auth.len, 255);
	cr_assert_eq(cu.schema.len, 0);
	pkt_buf_free(&pb);
}

/* ---- state machines --------------------------------------------------------- */

#define BACKEND_CAPS (CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | \
		      CLIENT_PLUGIN_AUTH | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | \
		      CLIENT_CONNECT_WITH_DB | CLIENT_CONNECT_ATTRS | \
		      CLIENT_TRANSACTIONS | CLIENT_DEPRECATE_EOF)

/*
 * A client (auth_client) logs in to a server (auth_server) packet by
 * packet; returns the server's verdict.  greeting_plugin is what the
 * greeting offers.  *rounds counts packets the client sent.
 */
static enum auth_result run_login(struct auth_server *as, struct auth_client *ac,
				  const struct auth_user *u, const uint8_t *cached,
				  const struct auth_secret *secret, const char *user,
				  bool secure, int *rounds)
{
	struct pkt_buf greet, c2s, s2c;
	struct mysql_handshake_response r;
	enum auth_result sr, cr;
	const uint8_t *p;
	size_t len;
	int n = 1;
	struct auth_client_params cp = {
		.user = user, .schema = "db", .secret = secret,
		.caps = BACKEND_CAPS, .max_packet = 1 << 24, .charset = 45,
		.secure_transport = secure,
	};

	pkt_buf_init(&greet);
	pkt_buf_init(&c2s);
	pkt_buf_init(&s2c);
	srv_build_greeting(&greet, 1, as->scramble, "8.0.99", SRV_CAPS);
	cr = auth_client_handshake(ac, greet.data + 4, greet.len - 4, &cp, &c2s);
	cr_assert_eq(cr, AUTH_CONTINUE, "%s", ac->err_msg);
	p = only_packet(&c2s, 1, &len);
	cr_assert_eq(mysql_parse_handshake_response(p, len, SRV_CAPS, &r), 0);
	sr = auth_server_handshake(as, &r, u, cached, &s2c);
	for (;;) {
		if (sr != AUTH_CONTINUE)
			break;
		/* Server packets to the client, one at a time. */
		size_t off = 0;
		pkt_buf_reset(&c2s);
		cr_assert_gt(s2c.len, 0);
		while (off < s2c.len) {
			size_t plen = mysql_get_u24(s2c.data + off);
			cr_assert_eq(s2c.data[off + 3], ac->seq, "client expects %u", ac->seq);
			cr = auth_client_packet(ac, s2c.data + off + 4, plen, &c2s);
			cr_assert_eq(cr, AUTH_CONTINUE, "%s", ac->err_msg);
			off += 4 + plen;
		}
		pkt_buf_reset(&s2c);
		p = only_packet(&c2s, as->seq, &len);
		n++;
		sr = auth_server_packet(as, p, len, &s2c);
	}
	if (sr == AUTH_DONE) {
		/* Fast auth success (0x01 0x03) comes before our OK. */
		size_t off = 0;
		while (off < s2c.len) {
			size_t plen = mysql_get_u24(s2c.data + off);
			cr_assert_eq(auth_client_packet(ac, s2c.data + off + 4, plen, &c2s),
				     AUTH_CONTINUE);
			off += 4 + plen;
		}
		uint8_t ok[32];
		size_t oklen = mysql_build_ok(ok, as->seq, 0, 0, 2, 0);
		cr_assert_eq(ok[3], ac->seq);
		cr_assert_eq(auth_client_packet(ac, ok + 4, oklen - 4, &c2s), AUTH_DONE);
	}
	if (sr == AUTH_FAILED) {
		p = only_packet(&s2c, s2c.data[3], &len);
		cr_assert_eq(p[0], 0xFF);
		cr_assert_eq(auth_client_packet(ac, p, len, &c2s), AUTH_FAILED);
		cr_assert_eq(ac->err_code, 1045);
		cr_assert_str_eq(ac->err_msg, as->err_msg);
	}
	if (rounds)
		*rounds = n;
	pkt_buf_free(&greet);
	pkt_buf_free(&c2s);
	pkt_buf_free(&s2c);
	return sr;
}

static void user_stored(struct auth_user *u, const char *name,
			enum auth_plugin plugin, const char *stored)
{
	cr_assert_eq(auth_user_init(u, name, plugin), 0);
	cr_assert_eq(auth_user_set_stored(u, stored, strlen(stored)), 0);
}

static void secret_pw(struct auth_secret *s, const char *pw)
{
	cr_assert_eq(auth_secret_set_password(s, pw, strlen(pw)), 0);
}

/* The ProxySQL trick end to end: a client logs in to myring with its
 * password; myring, knowing only the stored hash, learns stage1 and logs
 * in to a backend as that client with it. */
Test(auth, native_login_then_backend_login_with_what_was_learned)
{
	struct auth_server front, back;
	struct auth_client client, myring;
	struct auth_user u;
	struct auth_secret pw;
	uint8_t s1[20], s2[20];
	int rounds;

	user_stored(&u, "myring", AUTH_NATIVE, "*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D");
	secret_pw(&pw, "myring-pw");
	auth_native_stage1_of("myring-pw", 9, s1);
	srv_scramble(s2);
	auth_server_init(&front, s2, "10.0.0.1", NULL, false);
	cr_assert_eq(run_login(&front, &client, &u, NULL, &pw, "myring", false, &rounds),
		     AUTH_DONE);
	cr_assert_eq(rounds, 1, "answered in the handshake response");
	cr_assert_eq(front.secret.know, AUTH_KNOW_NATIVE);
	cr_assert_eq(memcmp(front.secret.native_stage1, s1, 20), 0);

	srv_scramble(s2);
	auth_server_init(&back, s2, "127.0.0.1", NULL, false);
	cr_assert_eq(run_login(&back, &myring, &u, NULL, &front.secret, "myring", false,
			       NULL), AUTH_DONE);
	/* Without the password, ed25519 and caching_sha2 are out of reach:
	 * a backend that switches to ed25519 gets a clear failure. */
	struct auth_user ed;
	struct auth_server eds;
	struct auth_client edc;
	struct pkt_buf greet, out, s2c;
	struct mysql_handshake_response r;
	const uint8_t *p;
	size_t len;
	struct auth_client_params cp = {.user = "myring_ed", .secret = &front.secret,
					.caps = BACKEND_CAPS};
	user_stored(&ed, "myring_ed", AUTH_ED25519, KEY_ED);
	auth_server_init(&eds, s2, "127.0.0.1", NULL, false);
	pkt_buf_init(&greet);
	pkt_buf_init(&out);
	pkt_buf_init(&s2c);
	srv_build_greeting(&greet, 1, s2, "5.5.5-10.11", SRV_CAPS);
	cr_assert_eq(auth_client_handshake(&edc, greet.data + 4, greet.len - 4, &cp, &out),
		     AUTH_CONTINUE);
	p = only_packet(&out, 1, &len);
	cr_assert_eq(mysql_parse_handshake_response(p, len, SRV_CAPS, &r), 0);
	cr_assert_eq(r.schema.len, 0, "no schema asked for");
	cr_assert_eq(auth_server_handshake(&eds, &r, &ed, NULL, &s2c), AUTH_CONTINUE);
	p = only_packet(&s2c, 2, &len);
	pkt_buf_reset(&out);
	cr_assert_eq(auth_client_packet(&edc, p, len, &out), AUTH_FAILED);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(edc.err_code, 1045);
	cr_assert(strstr(edc.err_msg, "client_ed25519 needs a password myring does not know"),
		  "%s", edc.err_msg);
	pkt_buf_free(&greet);
	pkt_buf_free(&out);
	pkt_buf_free(&s2c);
}

Test(auth, native_refusals_are_worded_as_mariadb_words_them)
{
	struct auth_server as;
	struct auth_client ac;
	struct auth_user u;
	struct auth_secret pw;

	user_stored(&u, "bob", AUTH_NATIVE, "*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D");
	secret_pw(&pw, "wrong");
	auth_server_init(&as, SCRAMBLE, "10.0.0.1", NULL, false);
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "bob", false, NULL), AUTH_FAILED);
	cr_assert_eq(as.err_code, 1045);
	cr_assert_str_eq(as.err_msg,
			 "Access denied for user 'bob'@'10.0.0.1' (using password: YES)");
	cr_assert_eq(as.secret.know, 0, "nothing learned");
	secret_pw(&pw, "");
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "bob", false, NULL), AUTH_FAILED);
	cr_assert_str_eq(as.err_msg,
			 "Access denied for user 'bob'@'10.0.0.1' (using password: NO)");
	/* Unknown user. */
	secret_pw(&pw, "myring-pw");
	cr_assert_eq(run_login(&as, &ac, NULL, NULL, &pw, "nobody", false, NULL),
		     AUTH_FAILED);
	cr_assert_str_eq(as.err_msg,
			 "Access denied for user 'nobody'@'10.0.0.1' (using password: YES)");
	/* An account without a password takes only an empty answer. */
	user_stored(&u, "open", AUTH_NATIVE, "");
	secret_pw(&pw, "");
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "open", false, NULL), AUTH_DONE);
	secret_pw(&pw, "x");
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "open", false, NULL), AUTH_FAILED);
}

/* The ERR packet itself: code, SQLSTATE, the sequence id the client
 * expects, also after a switch. */
Test(auth, refusal_packet_after_a_switch)
{
	struct auth_server as;
	struct auth_user u;
	struct pkt_buf out;
	struct mysql_err e;
	const uint8_t *p;
	size_t len;
	struct mysql_str name = {"eve", 3}, plugin = {"caching_sha2_password", 21},
			 auth = {"01234567890123456789012345678901", 32};

	user_stored(&u, "eve", AUTH_NATIVE, "*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D");
	auth_server_init(&as, SCRAMBLE, "h", NULL, false);
	pkt_buf_init(&out);
	cr_assert_eq(auth_server_begin(&as, &u, NULL, name, plugin, auth, 2, &out),
		     AUTH_CONTINUE);
	p = only_packet(&out, 2, &len);
	cr_assert_eq(memcmp(p, "\xfemysql_native_password\0ABCDEFGHIJKLMNOPQRST\0", len), 0);
	pkt_buf_reset(&out);
	cr_assert_eq(auth_server_packet(&as, (const uint8_t *)"short", 5, &out), AUTH_FAILED);
	p = only_packet(&out, 4, &len);
	cr_assert_eq(mysql_parse_err(p, len, &e), 0);
	cr_assert_eq(e.code, 1045);
	cr_assert_str_eq(e.sqlstate, "28000");
	cr_assert_eq(e.message.len, strlen(as.err_msg));
	/* A packet too many is refused, not crashed on. */
	pkt_buf_reset(&out);
	cr_assert_eq(auth_server_packet(&as, (const uint8_t *)"x", 1, &out), AUTH_FAILED);
	pkt_buf_free(&out);
}

/* ed25519: always a switch with a fresh 32-byte nonce; the real client's
 * signature of the captured nonce passes the state machine, ours from the
 * plaintext too, and a wrong one fails with "using password: YES" even
 * when empty, as MariaDB says. */
Test(auth, ed25519_login)
{
	struct auth_server as;
	struct auth_client ac;
	struct auth_user u, derived;
	struct auth_secret pw;
	struct pkt_buf out;
	const uint8_t *p, *data;
	struct mysql_str name, plugin = {"client_ed25519", 14}, none = {"", 0};
	size_t len, dlen;

	user_stored(&u, "myring_ed", AUTH_ED25519, KEY_ED);
	auth_server_init(&as, SCRAMBLE, "127.0.0.1", NULL, false);
	pkt_buf_init(&out);
	name.ptr = "myring_ed";
	name.len = 9;
	cr_assert_eq(auth_server_begin(&as, &u, NULL, name, plugin, none, 2, &out),
		     AUTH_CONTINUE);
	p = only_packet(&out, 2, &len);
	cr_assert_eq(auth_parse_switch(p, len, &plugin, &data, &dlen), 0);
	cr_assert_eq(dlen, 32);
	cr_assert_eq(memcmp(data, as.nonce, 32), 0);
	cr_assert_neq(memcmp(data, ed_nonce, 32), 0);
	/* Replace the random nonce by the captured one. */
	memcpy(as.nonce, ed_nonce, 32);
	pkt_buf_reset(&out);
	cr_assert_eq(auth_server_packet(&as, sig_ed, 64, &out), AUTH_DONE);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(as.seq, 4);
	cr_assert_eq(as.secret.know, 0, "a signature reveals nothing");

	secret_pw(&pw, "ed-pw");
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "myring_ed", false, NULL),
		     AUTH_DONE);
	secret_pw(&pw, "ed-pW");
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "myring_ed", false, NULL),
		     AUTH_FAILED);
	secret_pw(&pw, "");
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "myring_ed", false, NULL),
		     AUTH_FAILED);
	cr_assert(strstr(as.err_msg, "(using password: YES)"));
	/* A user configured with the plaintext: the derived key works, and
	 * the plaintext is handed on for the backend. */
	cr_assert_eq(auth_user_init(&derived, "myring_ed", AUTH_ED25519), 0);
	cr_assert_eq(auth_user_set_password(&derived, "ed-pw", 5), 0);
	cr_assert_eq(memcmp(derived.ed25519_pub, u.ed25519_pub, 32), 0);
	secret_pw(&pw, "ed-pw");
	cr_assert_eq(run_login(&as, &ac, &derived, NULL, &pw, "myring_ed", false, NULL),
		     AUTH_DONE);
	cr_assert(as.secret.know & AUTH_KNOW_PLAIN);
	cr_assert_str_eq(as.secret.plain, "ed-pw");
	pkt_buf_free(&out);
}

/* caching_sha2 with the stored "$A$005$" hash only: the first login takes
 * the full path over RSA and fills the cache; the second is fast. */
Test(auth, sha2_full_then_fast)
{
	static const uint8_t salt[20] = "saltsaltsaltsaltsalt";
	struct auth_rsa *k = auth_rsa_from_pem(test_rsa_key, sizeof(test_rsa_key) - 1);
	struct auth_server as;
	struct auth_client ac;
	struct auth_sha2_crypt c;
	struct auth_user u;
	struct auth_secret pw;
	uint8_t cache[32], want[32];
	char stored[70];
	int rounds;

	cr_assert_not_null(k);
	cr_assert_eq(auth_sha2_crypt_make("myring-pw", 9, salt, 5000, &c), 0);
	auth_sha2_crypt_format(&c, stored);
	cr_assert_eq(auth_user_init(&u, "myring", AUTH_CACHING_SHA2), 0);
	cr_assert_eq(auth_user_set_stored(&u, stored, 70), 0);
	secret_pw(&pw, "myring-pw");
	auth_server_init(&as, SCRAMBLE, "127.0.0.1", k, false);
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "myring", false, &rounds),
		     AUTH_DONE);
	/* switch answer, 0x02 key request, ciphertext. */
	cr_assert_eq(rounds, 4);
	cr_assert(as.sha2_cache_fill);
	auth_sha2_stage1_of("myring-pw", 9, want);
	auth_sha2_digest_of(want, want);
	cr_assert_eq(memcmp(as.sha2_digest, want, 32), 0);
	cr_assert_eq(as.secret.know, AUTH_KNOW_PLAIN | AUTH_KNOW_NATIVE | AUTH_KNOW_SHA2);
	cr_assert_str_eq(as.secret.plain, "myring-pw");
	memcpy(cache, as.sha2_digest, 32);

	cr_assert_eq(run_login(&as, &ac, &u, cache, &pw, "myring", false, &rounds),
		     AUTH_DONE);
	cr_assert_eq(rounds, 2, "fast: switch answer only");
	cr_assert(!as.sha2_cache_fill);
	cr_assert_eq(as.secret.know, AUTH_KNOW_SHA2, "fast auth reveals SHA256(pw)");

	/* Wrong password: full path again, refused. */
	secret_pw(&pw, "myring-pW");
	cr_assert_eq(run_login(&as, &ac, &u, cache, &pw, "myring", false, NULL),
		     AUTH_FAILED);
	cr_assert(!as.sha2_cache_fill);
	/* Over a secure transport the password comes in clear. */
	secret_pw(&pw, "myring-pw");
	auth_server_init(&as, SCRAMBLE, "localhost", NULL, true);
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "myring", true, &rounds),
		     AUTH_DONE);
	cr_assert_eq(rounds, 3);
	/* Without RSA keys and TLS, full authentication is impossible. */
	auth_server_init(&as, SCRAMBLE, "h", NULL, false);
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "myring", false, NULL),
		     AUTH_FAILED);
	/* A client that knows only SHA256(pw) passes the fast path, and
	 * fails clearly where the password is needed. */
	struct auth_secret learned = {0};
	learned.know = AUTH_KNOW_SHA2;
	auth_sha2_stage1_of("myring-pw", 9, learned.sha2_stage1);
	auth_server_init(&as, SCRAMBLE, "h", k, false);
	cr_assert_eq(run_login(&as, &ac, &u, cache, &learned, "myring", false, NULL),
		     AUTH_DONE);
	auth_rsa_free(k);
}

/* The real client's packets through the server state machine. */
Test(auth, sha2_real_client_exchange)
{
	struct auth_rsa *k = auth_rsa_from_pem(test_rsa_key, sizeof(test_rsa_key) - 1);
	struct auth_server as;
	struct auth_user u;
	struct pkt_buf out;
	const uint8_t *p;
	size_t len, pem_len;
	const char *pem;
	struct mysql_str name = {"myring", 6}, plugin = {"mysql_native_password", 21},
			 auth = {"01234567890123456789", 20};

	cr_assert_eq(auth_user_init(&u, "myring", AUTH_CACHING_SHA2), 0);
	cr_assert_eq(auth_user_set_password(&u, "myring-pw", 9), 0);
	auth_server_init(&as, SCRAMBLE, "127.0.0.1", k, false);
	pkt_buf_init(&out);
	cr_assert_eq(auth_server_begin(&as, &u, NULL, name, plugin, auth, 2, &out),
		     AUTH_CONTINUE);
	p = only_packet(&out, 2, &len);
	cr_assert_eq(memcmp(p, "\xfe" "caching_sha2_password\0ABCDEFGHIJKLMNOPQRST\0", len), 0);
	/* The digest is known (configured plaintext): fast auth succeeds
	 * with 0x01 0x03 and our OK follows as sequence id 5. */
	pkt_buf_reset(&out);
	cr_assert_eq(auth_server_packet(&as, sha2_fast_myring_pw, 32, &out), AUTH_DONE);
	p = only_packet(&out, 4, &len);
	cr_assert_eq(len, 2);
	cr_assert_eq(memcmp(p, "\x01\x03", 2), 0);
	cr_assert_eq(as.seq, 5);

	/* From the stored hash only: full authentication with the key. */
	struct auth_sha2_crypt c;
	char stored[70];
	cr_assert_eq(auth_sha2_crypt_make("myring-pw", 9, SCRAMBLE, 5000, &c), 0);
	auth_sha2_crypt_format(&c, stored);
	cr_assert_eq(auth_user_set_stored(&u, stored, 70), 0);
	pkt_buf_reset(&out);
	cr_assert_eq(auth_server_begin(&as, &u, NULL, name, plugin, auth, 2, &out),
		     AUTH_CONTINUE);
	pkt_buf_reset(&out);
	cr_assert_eq(auth_server_packet(&as, sha2_fast_myring_pw, 32, &out), AUTH_CONTINUE);
	p = only_packet(&out, 4, &len);
	cr_assert_eq(memcmp(p, "\x01\x04", 2), 0);
	pkt_buf_reset(&out);
	cr_assert_eq(auth_server_packet(&as, (const uint8_t *)"\x02", 1, &out), AUTH_CONTINUE);
	p = only_packet(&out, 6, &len);
	pem = auth_rsa_public_pem(k, &pem_len);
	cr_assert_eq(len, 1 + pem_len);
	cr_assert_eq(p[0], 0x01);
	cr_assert_eq(memcmp(p + 1, pem, pem_len), 0);
	pkt_buf_reset(&out);
	cr_assert_eq(auth_server_packet(&as, sha2_rsa_myring_pw, 256, &out), AUTH_DONE);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(as.seq, 8);
	cr_assert_str_eq(as.secret.plain, "myring-pw");
	cr_assert(as.sha2_cache_fill);
	pkt_buf_free(&out);
	auth_rsa_free(k);
}

Test(auth, sha2_empty_password)
{
	struct auth_server as;
	struct auth_client ac;
	struct auth_user u;
	struct auth_secret pw;
	int rounds;

	cr_assert_eq(auth_user_init(&u, "open", AUTH_CACHING_SHA2), 0);
	cr_assert_eq(auth_user_set_stored(&u, "", 0), 0);
	secret_pw(&pw, "");
	auth_server_init(&as, SCRAMBLE, "h", NULL, false);
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "open", false, &rounds), AUTH_DONE);
	cr_assert_eq(rounds, 2);
	secret_pw(&pw, "x");
	cr_assert_eq(run_login(&as, &ac, &u, NULL, &pw, "open", false, NULL), AUTH_FAILED);
}

/* COM_CHANGE_USER on both sides: sequence ids from 0, the connection's
 * scramble, a switch when the plugins differ. */
Test(auth, change_user)
{
	struct auth_server as;
	struct auth_client ac;
	struct auth_user native, ed;
	struct auth_secret pw, edpw;
	struct pkt_buf out, s2c;
	struct mysql_change_user cu;
	const uint8_t *p;
	size_t len;

	user_stored(&native, "myring", AUTH_NATIVE, "*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D");
	user_stored(&ed, "myring_ed", AUTH_ED25519, KEY_ED);
	secret_pw(&pw, "myring-pw");
	secret_pw(&edpw, "ed-pw");
	auth_server_init(&as, SCRAMBLE, "h", NULL, false);
	cr_assert_eq(run_login(&as, &ac, &native, NULL, &pw, "myring", false, NULL),
		     AUTH_DONE);
	struct auth_client_params cp = {.user = "myring_ed", .schema = "db",
					.secret = &edpw, .charset = 45};
	pkt_buf_init(&out);
	pkt_buf_init(&s2c);
	cr_assert_eq(auth_client_change_user(&ac, &cp, &out), AUTH_CONTINUE);
	p = only_packet(&out, 0, &len);
	cr_assert_eq(mysql_parse_change_user(p, len, ac.caps, &cu), 0);
	cr_assert_eq(cu.user.len, 9);
	cr_assert_eq(cu.charset, 45);
	cr_assert_eq(auth_server_change_user(&as, &cu, &ed, NULL, &s2c), AUTH_CONTINUE);
	p = only_packet(&s2c, 1, &len);
	pkt_buf_reset(&out);
	cr_assert_eq(auth_client_packet(&ac, p, len, &out), AUTH_CONTINUE);
	p = only_packet(&out, 2, &len);
	cr_assert_eq(len, 64);
	pkt_buf_reset(&s2c);
	cr_assert_eq(auth_server_packet(&as, p, len, &s2c), AUTH_DONE);
	cr_assert_eq(as.seq, 3);

	/* Back to the native user: answered at once with the scramble. */
	cp.user = "myring";
	cp.secret = &pw;
	pkt_buf_reset(&out);
	pkt_buf_reset(&s2c);
	cr_assert_eq(auth_client_change_user(&ac, &cp, &out), AUTH_CONTINUE);
	p = only_packet(&out, 0, &len);
	cr_assert_eq(mysql_parse_change_user(p, len, ac.caps, &cu), 0);
	cr_assert_eq(auth_server_change_user(&as, &cu, &native, NULL, &s2c), AUTH_DONE);
	cr_assert_eq(as.seq, 1);
	cr_assert_eq(s2c.len, 0);
	pkt_buf_free(&out);
	pkt_buf_free(&s2c);
}

/* What the client side does with what a backend may send. */
Test(auth, client_side_refusals)
{
	struct auth_client ac;
	struct auth_secret pw;
	struct pkt_buf out, greet;
	static const uint8_t err_greeting[] = "\xff\x10\x04Too many connections";
	struct auth_client_params cp = {.user = "u", .secret = &pw, .caps = BACKEND_CAPS};

	secret_pw(&pw, "pw");
	pkt_buf_init(&out);
	pkt_buf_init(&greet);
	cr_assert_eq(auth_client_handshake(&ac, err_greeting, sizeof(err_greeting) - 1,
					   &cp, &out), AUTH_FAILED);
	cr_assert_eq(ac.err_code, 1040);
	cr_assert_str_eq(ac.err_msg, "Too many connections");
	cr_assert_eq(auth_client_handshake(&ac, (const uint8_t *)"\x0a" "8.0", 4, &cp, &out),
		     AUTH_FAILED);
	cr_assert_eq(ac.err_code, 2027);

	srv_build_greeting(&greet, 1, SCRAMBLE, "8.0.99", SRV_CAPS);
	cr_assert_eq(auth_client_handshake(&ac, greet.data + 4, greet.len - 4, &cp, &out),
		     AUTH_CONTINUE);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"\xfe" "dialog\0x", 9, &out),
		     AUTH_FAILED);
	cr_assert_eq(ac.err_code, 2059);
	cr_assert(strstr(ac.err_msg, "plugin 'dialog' is not supported"), "%s", ac.err_msg);

	cr_assert_eq(auth_client_handshake(&ac, greet.data + 4, greet.len - 4, &cp, &out),
		     AUTH_CONTINUE);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"\xfe" "client_ed25519\0abc", 18,
					&out), AUTH_FAILED, "short nonce");
	cr_assert_eq(ac.err_code, 2027);
	cr_assert_eq(auth_client_handshake(&ac, greet.data + 4, greet.len - 4, &cp, &out),
		     AUTH_CONTINUE);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"\x01\x04", 2, &out),
		     AUTH_FAILED, "0x04 outside caching_sha2");
	cr_assert_eq(auth_client_handshake(&ac, greet.data + 4, greet.len - 4, &cp, &out),
		     AUTH_CONTINUE);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"", 0, &out), AUTH_FAILED);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"\x00\x00\x00\x02\x00", 5, &out),
		     AUTH_FAILED, "nothing more expected");
	/* caching_sha2 full authentication needs the plaintext. */
	struct auth_secret learned = {0};
	learned.know = AUTH_KNOW_SHA2;
	cp.secret = &learned;
	cr_assert_eq(auth_client_handshake(&ac, greet.data + 4, greet.len - 4, &cp, &out),
		     AUTH_CONTINUE);
	pkt_buf_reset(&out);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"\xfe" "caching_sha2_password\0"
					"ABCDEFGHIJKLMNOPQRST", 43, &out), AUTH_CONTINUE);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"\x01\x04", 2, &out),
		     AUTH_FAILED);
	cr_assert(strstr(ac.err_msg, "needs the user's plaintext password"), "%s", ac.err_msg);
	/* A garbage public key. */
	cp.secret = &pw;
	cr_assert_eq(auth_client_handshake(&ac, greet.data + 4, greet.len - 4, &cp, &out),
		     AUTH_CONTINUE);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"\xfe" "caching_sha2_password\0"
					"ABCDEFGHIJKLMNOPQRST", 43, &out), AUTH_CONTINUE);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"\x01\x04", 2, &out),
		     AUTH_CONTINUE);
	cr_assert_eq(auth_client_packet(&ac, (const uint8_t *)"\x01-----BEGIN", 12, &out),
		     AUTH_FAILED);
	pkt_buf_free(&out);
	pkt_buf_free(&greet);
}

/* A pre-plugin client (no CLIENT_PLUGIN_AUTH) can answer native at once
 * but cannot follow a switch: MariaDB's ERR 1251. */
Test(auth, client_without_plugin_auth)
{
	static const uint64_t old = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
	struct auth_server as;
	struct auth_user native, ed;
	struct mysql_handshake_response r;
	struct pkt_buf pb, out;
	struct mysql_err e;
	uint8_t stage1[20], ans[20];
	const uint8_t *p;
	size_t len;

	user_stored(&native, "myring", AUTH_NATIVE, "*377C8E052BD9348BE700A1D30DEFEBAB3AC67A0D");
	user_stored(&ed, "myring", AUTH_ED25519, KEY_ED);
	auth_native_stage1_of("myring-pw", 9, stage1);
	auth_native_answer(SCRAMBLE, stage1, ans);
	struct auth_handshake h = {.caps = old, .user = "myring", .auth = ans, .auth_len = 20};
	pkt_buf_init(&pb);
	pkt_buf_init(&out);
	pb.seq = 1;
	auth_build_handshake_response(&pb, &h);
	p = only_packet(&pb, 1, &len);
	cr_assert_eq(mysql_parse_handshake_response(p, len, SRV_CAPS, &r), 0);
	cr_assert_eq(r.plugin.len, 0);
	auth_server_init(&as, SCRAMBLE, "h", NULL, false);
	cr_assert_eq(auth_server_handshake(&as, &r, &native, NULL, &out), AUTH_DONE);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(auth_server_handshake(&as, &r, &ed, NULL, &out), AUTH_FAILED);
	p = only_packet(&out, 2, &len);
	cr_assert_eq(mysql_parse_err(p, len, &e), 0);
	cr_assert_eq(e.code, 1251);
	cr_assert_str_eq(e.sqlstate, "08004");
	cr_assert_eq(as.err_code, 1251);
	pkt_buf_free(&pb);
	pkt_buf_free(&out);
}
