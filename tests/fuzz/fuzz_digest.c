/*
 * libFuzzer target for the SQL fingerprint normaliser.  The input is
 * normalised with a range of text capacities: the hash must not depend on
 * the capacity, the text must be NUL-terminated within it and be the full
 * fingerprint or its cut form (prefix + "..."), and nothing may be written
 * past it.  Then the fingerprint is normalised again and must come back
 * unchanged (idempotence), so fingerprints can be fed to anything that
 * normalises its input.  Built by tests/fuzz/build.sh with ASan and UBSan;
 * any failure aborts.  Seeds: tests/fuzz/seeds_digest/.
 */
#include "digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CANARY 0xA5

static void fail(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz_digest: %s\n  got:  [%s]\n  want: [%s]\n", what, a, b);
	abort();
}

/*
 * A fingerprint is at most about twice as long as its SQL (a space per
 * one-byte token) plus what collapsed lists add ("IN(1)" -> "IN (...)"), so
 * 3 * size + 64 always holds all of it.
 */
static char *full_digest(const char *sql, size_t size, uint64_t *hash, size_t *len)
{
	size_t cap = 3 * size + 64;
	char *text = malloc(cap);

	if (!text)
		abort();
	*hash = digest_normalize(sql, size, text, cap, len);
	if (*hash == 0)
		fail("hash is 0", text, "");
	if (*len >= cap - 1 || strnlen(text, cap) > *len || text[*len] != '\0')
		fail("full text not NUL-terminated or cut", text, "");
	return text;
}

static void check_cap(const char *sql, size_t size, size_t cap, const char *full,
		      size_t full_len, uint64_t hash)
{
	char *buf = malloc(cap + 8);
	size_t len = (size_t)-1, keep;

	if (!buf)
		abort();
	memset(buf, CANARY, cap + 8);
	if (digest_normalize(sql, size, cap ? buf : NULL, cap, &len) != hash)
		fail("hash depends on cap", buf, full);
	for (size_t i = cap; i < cap + 8; i++)
		if ((unsigned char)buf[i] != CANARY)
			fail("write past cap", "", full);
	if (cap == 0) {
		if (len != 0)
			fail("text_len not 0 for cap 0", "", full);
		free(buf);
		return;
	}
	if (len > cap - 1 || buf[len] != '\0')
		fail("text not NUL-terminated within cap", "", full);
	if (full_len <= cap - 1) {
		if (len != full_len || memcmp(buf, full, len))
			fail("text differs from the full fingerprint", buf, full);
	} else {
		keep = cap - 1 >= 3 ? cap - 1 - 3 : 0;
		if (len != cap - 1 || memcmp(buf, full, keep) ||
		    strspn(buf + keep, ".") != len - keep)
			fail("cut text is not prefix + \"...\"", buf, full);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 0, 1, 2, 3, 4, 5, 8, 17, 64, DIGEST_TEXT_MAX };
	const char *sql = (const char *)data;
	uint64_t hash, hash2;
	size_t len, len2;
	char *full, *again;

	full = full_digest(sql, size, &hash, &len);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		check_cap(sql, size, caps[i], full, len, hash);
	if (digest_normalize(sql, size, NULL, 0, NULL) != hash)
		fail("hash differs with NULL text", "", full);

	again = full_digest(full, len, &hash2, &len2);
	if (len2 != len || memcmp(again, full, len) || hash2 != hash)
		fail("not idempotent: digest(digest(q)) != digest(q)", again, full);
	free(again);
	free(full);
	return 0;
}
