/*
 * Collations against the server: for each collation, every pair of the
 * fixture strings must compare as MariaDB 10.11 ordered them (its
 * DENSE_RANK over ORDER BY, captured in merge_fixtures.h), in the bytes a
 * utf8mb4 connection receives and, for latin1 collations, also as latin1
 * bytes.  Then what coll_resolve() refuses.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "collation.h"
#include "merge_fixtures.h"

#define NSTR (sizeof(FIX_COLL_STRINGS) / sizeof(FIX_COLL_STRINGS[0]))

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* UTF-8 to latin1 (MariaDB's cp1252) for strings latin1 can hold. */
static size_t to_latin1(const char *s, uint8_t *out)
{
	size_t n = 0;
	const uint8_t *p = (const uint8_t *)s;

	while (*p) {
		uint32_t cp;

		if (*p < 0x80) {
			cp = *p++;
		} else if ((*p & 0xE0) == 0xC0) {
			cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
			p += 2;
		} else {
			cp = (uint32_t)(p[0] & 0x0F) << 12 |
			     (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
			p += 3;
		}
		int b = -1;

		for (int i = 0; i < 256; i++)
			if (coll_latin1_unicode[i] == cp)
				b = i;
		cr_assert_geq(b, 0, "not latin1: %s", s);
		out[n++] = (uint8_t)b;
	}
	return n;
}

static void check_order(const struct fix_coll *fc, uint16_t wire, bool latin1)
{
	struct coll c;
	char err[256];
	unsigned checked = 0;

	cr_assert_eq(coll_resolve((uint16_t)fc->id, wire, "ORDER BY", &c, err,
				  sizeof(err)),
		     0, "%s: %s", fc->name, err);
	for (size_t i = 0; i < NSTR; i++) {
		for (size_t j = 0; j < NSTR; j++) {
			uint8_t a[64], b[64];
			size_t al, bl;

			if (fc->rank[i] < 0 || fc->rank[j] < 0)
				continue;
			if (latin1) {
				al = to_latin1(FIX_COLL_STRINGS[i], a);
				bl = to_latin1(FIX_COLL_STRINGS[j], b);
			} else {
				al = strlen(FIX_COLL_STRINGS[i]);
				bl = strlen(FIX_COLL_STRINGS[j]);
				memcpy(a, FIX_COLL_STRINGS[i], al);
				memcpy(b, FIX_COLL_STRINGS[j], bl);
			}
			int got = sign(coll_cmp(&c, a, al, b, bl));
			int want = sign(fc->rank[i] - fc->rank[j]);

			cr_assert_eq(got, want,
				     "%s (wire %u): '%s' vs '%s': got %d, server %d",
				     fc->name, wire, FIX_COLL_STRINGS[i],
				     FIX_COLL_STRINGS[j], got, want);
			checked++;
		}
	}
	cr_assert_gt(checked, 1000, "%s: too few strings", fc->name);
}

Test(collation, orders_like_the_server_over_utf8mb4)
{
	for (size_t k = 0; k < sizeof(FIX_COLLS) / sizeof(FIX_COLLS[0]); k++)
		check_order(&FIX_COLLS[k], COLL_UTF8MB4_GENERAL_CI, false);
}

Test(collation, latin1_collations_over_latin1_bytes)
{
	for (size_t k = 0; k < sizeof(FIX_COLLS) / sizeof(FIX_COLLS[0]); k++)
		if (!strncmp(FIX_COLLS[k].name, "latin1_", 7))
			check_order(&FIX_COLLS[k], COLL_LATIN1_SWEDISH_CI, true);
}

/* Binary column definitions (character_set_results NULL): the bytes are
 * the column's own. */
Test(collation, binary_wire_means_the_collations_own_charset)
{
	for (size_t k = 0; k < sizeof(FIX_COLLS) / sizeof(FIX_COLLS[0]); k++) {
		const struct fix_coll *fc = &FIX_COLLS[k];

		if (!strncmp(fc->name, "utf8mb4_", 8))
			check_order(fc, 63, false);
		else if (!strncmp(fc->name, "latin1_", 7))
			check_order(fc, 63, true);
	}
}

Test(collation, pad_space_and_no_pad)
{
	struct coll pad, nopad;
	char err[256];

	cr_assert_eq(coll_resolve(COLL_UTF8MB4_GENERAL_CI, COLL_UTF8MB4_GENERAL_CI,
				  "ORDER BY", &pad, err, sizeof(err)), 0);
	cr_assert_eq(coll_resolve(COLL_UTF8MB4_GENERAL_NOPAD_CI,
				  COLL_UTF8MB4_GENERAL_CI, "ORDER BY", &nopad, err,
				  sizeof(err)), 0);
	cr_assert_eq(coll_cmp(&pad, (const uint8_t *)"a", 1,
			      (const uint8_t *)"A  ", 3), 0);
	cr_assert_lt(coll_cmp(&nopad, (const uint8_t *)"a", 1,
			      (const uint8_t *)"A  ", 3), 0);
	/* A tab sorts below the padding space. */
	cr_assert_gt(coll_cmp(&pad, (const uint8_t *)"a", 1,
			      (const uint8_t *)"a\t", 2), 0);
	/* Bytes that are not UTF-8 weigh above every character. */
	cr_assert_gt(coll_cmp(&pad, (const uint8_t *)"\xff", 1,
			      (const uint8_t *)"\xef\xbf\xbf", 3), 0);
	cr_assert_gt(coll_cmp(&pad, (const uint8_t *)"a\x80", 2,
			      (const uint8_t *)"a", 1), 0);
}

Test(collation, refusals_name_the_collation)
{
	struct coll c;
	char err[256];

	/* utf8mb4_unicode_520_ci (246): not implemented. */
	cr_assert_eq(coll_resolve(246, COLL_UTF8MB4_GENERAL_CI, "ORDER BY", &c,
				  err, sizeof(err)), -1);
	cr_assert_str_eq(err, "myring: collation utf8mb4_unicode_520_ci not "
			      "supported for cross-shard ORDER BY");
	cr_assert_eq(coll_resolve(4000, COLL_UTF8MB4_GENERAL_CI, "GROUP BY", &c,
				  err, sizeof(err)), -1);
	cr_assert_str_eq(err, "myring: collation id 4000 not supported for "
			      "cross-shard GROUP BY");
	/* A utf8mb4 column that reached a latin1 client lost characters. */
	cr_assert_eq(coll_resolve(COLL_UTF8MB4_UNICODE_CI, COLL_LATIN1_SWEDISH_CI,
				  "ORDER BY", &c, err, sizeof(err)), -1);
	cr_assert(strstr(err, "character set latin1_swedish_ci"), "%s", err);
	/* A client whose results are in another character set. */
	cr_assert_eq(coll_resolve(COLL_UTF8MB4_BIN, 95 /* cp932 */, "ORDER BY",
				  &c, err, sizeof(err)), -1);
	/* latin1 data is fine in utf8mb3 and utf8mb4 results. */
	cr_assert_eq(coll_resolve(COLL_LATIN1_SWEDISH_CI, COLL_UTF8MB3_GENERAL_CI,
				  "ORDER BY", &c, err, sizeof(err)), 0);
	cr_assert_str_eq(coll_name(COLL_UTF8MB4_UNICODE_CI), "utf8mb4_unicode_ci");
	cr_assert_eq(coll_mbmaxlen(COLL_UTF8MB3_GENERAL_CI), 3);
	cr_assert_eq(coll_mbmaxlen(COLL_BINARY), 1);
}
