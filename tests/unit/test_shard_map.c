#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collation.h"
#include "shard_map.h"

/* ---- the hash functions (docs/sharding.md lists these values) ---------- */

/* Computed by an independent implementation of the formulas in
 * docs/sharding.md (Python), not by this code. */
Test(shard_hash, int_known_values)
{
	static const struct { int64_t v; uint64_t h; } known[] = {
		{0, 0x0000000000000000ull},
		{1, 0xb456bcfc34c2cb2cull},
		{2, 0x3abf2a20650683e7ull},
		{42, 0x810879608e4259ccull},
		{-1, 0x64b5720b4b825f21ull},
		{INT64_MAX, 0xabb93df0a930edeaull},
		{INT64_MIN, 0x8f780810af31a493ull},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		cr_expect_eq(shard_hash_int(known[i].v), known[i].h,
			     "hash(%lld) = 0x%016llx", (long long)known[i].v,
			     (unsigned long long)shard_hash_int(known[i].v));
}

Test(shard_hash, str_known_values)
{
	cr_expect_eq(shard_hash_str(COLL_UTF8MB4_GENERAL_CI, "abc", 3),
		     0x1a9ece1c83d1a6a3ull);
	cr_expect_eq(shard_hash_str(COLL_UTF8MB4_GENERAL_CI, "", 0),
		     0xefd01f60ba992926ull);
	cr_expect_eq(shard_hash_str(COLL_BINARY, "abc", 3),
		     0x4e3593c5dcee72f4ull);
	cr_expect_eq(shard_hash_str(COLL_UTF8MB4_BIN, "abc", 3),
		     0x4e3593c5dcee72f4ull);
}

/* Consecutive keys spread: over 4 equal parts, 40000 consecutive keys
 * land within 3% of a quarter each. */
Test(shard_hash, consecutive_keys_spread)
{
	unsigned count[4] = {0};

	for (int64_t v = 1; v <= 40000; v++)
		count[shard_hash_int(v) >> 62]++;
	for (int i = 0; i < 4; i++)
		cr_expect(count[i] > 9700 && count[i] < 10300, "part %d: %u", i,
			  count[i]);
}

static bool same(uint16_t coll, const char *a, const char *b)
{
	uint64_t ha, hb;

	cr_assert_eq(shard_hash_str_exact(coll, a, strlen(a), &ha), 0, "%s", a);
	cr_assert_eq(shard_hash_str_exact(coll, b, strlen(b), &hb), 0, "%s", b);
	return ha == hb;
}

/* Values the collation calls equal hash equally, and only those. */
Test(shard_hash, str_follows_the_collation)
{
	cr_expect(same(COLL_UTF8MB4_GENERAL_CI, "abc", "ABC"));
	cr_expect(same(COLL_UTF8MB4_GENERAL_CI, "abc", "abc   "));
	cr_expect(same(COLL_UTF8MB4_GENERAL_CI, "Mueller", "MUELLER  "));
	cr_expect(same(COLL_UTF8MB4_GENERAL_CI, "\xc3\x84pfel", "apfel"));
	cr_expect(!same(COLL_UTF8MB4_GENERAL_CI, "abc", "abc\t"));
	cr_expect(!same(COLL_UTF8MB4_GENERAL_CI, "abc", "abd"));
	cr_expect(!same(COLL_UTF8MB4_GENERAL_CI, "a b", "ab"));
	/* Inner spaces stay: only trailing ones are padding. */
	cr_expect(!same(COLL_UTF8MB4_GENERAL_CI, "a  b", "a b"));
	cr_expect(same(COLL_UTF8MB4_UNICODE_CI, "stra\xc3\x9f" "e", "STRASSE"));
	cr_expect(!same(COLL_UTF8MB4_GENERAL_CI, "stra\xc3\x9f" "e", "STRASSE"));
	cr_expect(!same(COLL_UTF8MB4_BIN, "abc", "ABC"));
	cr_expect(same(COLL_UTF8MB4_BIN, "abc", "abc "));
	cr_expect(!same(COLL_UTF8MB4_GENERAL_NOPAD_CI, "abc", "abc "));
	cr_expect(same(COLL_UTF8MB4_GENERAL_NOPAD_CI, "abc", "ABC"));
	cr_expect(!same(COLL_BINARY, "abc", "abc "));
	cr_expect(same(COLL_LATIN1_SWEDISH_CI, "\xc3\xa9t\xc3\xa9", "ETE"));
}

Test(shard_hash, str_exact_refuses_what_it_cannot_hash)
{
	uint64_t h;

	/* Not UTF-8. */
	cr_expect_eq(shard_hash_str_exact(COLL_UTF8MB4_GENERAL_CI, "a\xff", 2,
					  &h), -1);
	/* A character latin1 cannot hold. */
	cr_expect_eq(shard_hash_str_exact(COLL_LATIN1_SWEDISH_CI,
					  "\xe2\x82\xac", 3, &h), 0,
		     "the euro sign is cp1252 0x80");
	cr_expect_eq(shard_hash_str_exact(COLL_LATIN1_SWEDISH_CI,
					  "\xe2\x86\x92", 3, &h), -1);
	/* A collation shard_map does not know (big5_chinese_ci). */
	cr_expect_eq(shard_hash_str_exact(1, "abc", 3, &h), -1);
	/* shard_hash_str still answers, deterministically. */
	cr_expect_eq(shard_hash_str(1, "abc", 3), shard_hash_str(1, "abc", 3));
}

/* ---- the map --------------------------------------------------------------- */

static struct keyspace *new_ks(unsigned nshards)
{
	struct keyspace *ks = calloc(1, sizeof(*ks));

	cr_assert(ks);
	snprintf(ks->schema, sizeof(ks->schema), "shop");
	ks->nshards = nshards;
	ks->default_shard = -1;
	for (unsigned i = 0; i < nshards; i++) {
		snprintf(ks->shards[i].name, sizeof(ks->shards[i].name), "s%u", i);
		snprintf(ks->shards[i].group, sizeof(ks->shards[i].group), "g%u",
			 i);
		ks->shards[i].group_index = -1;
	}
	keyspace_default_ranges(ks);
	return ks;
}

static void drop_ks(struct keyspace *ks)
{
	keyspace_free(ks);
	free(ks);
}

static struct shard_table *add_table(struct keyspace *ks, const char *name)
{
	struct shard_table *t;

	ks->tables = realloc(ks->tables, (ks->ntables + 1) * sizeof(*t));
	cr_assert(ks->tables);
	t = &ks->tables[ks->ntables++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->kind = TABLE_SHARDED;
	snprintf(t->key, sizeof(t->key), "id");
	t->fn = SHARD_FN_HASH;
	t->key_type = SHARD_KEY_INT;
	t->collation = COLL_UTF8MB4_GENERAL_CI;
	return t;
}

/* Every n: the parts start at 0, follow each other, end at 2^64 - 1
 * and differ in size by at most one. */
Test(shard_map, equal_split_covers_the_space)
{
	char err[256];

	for (unsigned n = 1; n <= SHARDS_MAX; n++) {
		struct keyspace *ks = new_ks(n);
		uint64_t min = UINT64_MAX, max = 0;

		cr_assert_eq(ks->shards[0].hash_lo, 0);
		cr_assert_eq(ks->shards[n - 1].hash_hi, UINT64_MAX);
		for (unsigned i = 0; i < n; i++) {
			const struct shard *s = &ks->shards[i];
			uint64_t size = s->hash_hi - s->hash_lo;

			if (i)
				cr_assert_eq(s->hash_lo,
					     ks->shards[i - 1].hash_hi + 1);
			min = size < min ? size : min;
			max = size > max ? size : max;
			cr_assert_eq(shard_of_hash(ks, s->hash_lo), i);
			cr_assert_eq(shard_of_hash(ks, s->hash_hi), i);
		}
		cr_assert(max - min <= 1, "n=%u", n);
		cr_assert_eq(keyspace_check(ks, err, sizeof(err)), 0, "n=%u: %s",
			     n, err);
		drop_ks(ks);
	}
}

Test(shard_map, known_splits)
{
	struct keyspace *ks = new_ks(3);

	cr_expect_eq(ks->shards[0].hash_hi, 0x5555555555555554ull);
	cr_expect_eq(ks->shards[1].hash_lo, 0x5555555555555555ull);
	cr_expect_eq(ks->shards[1].hash_hi, 0xaaaaaaaaaaaaaaa9ull);
	cr_expect_eq(ks->shards[2].hash_lo, 0xaaaaaaaaaaaaaaaaull);
	drop_ks(ks);
	ks = new_ks(4);
	cr_expect_eq(ks->shards[1].hash_lo, 0x4000000000000000ull);
	cr_expect_eq(ks->shards[3].hash_lo, 0xc000000000000000ull);
	/* 42 hashes to 0x8108...: the third quarter. */
	cr_expect_eq(shard_of_hash(ks, shard_hash_int(42)), 2);
	drop_ks(ks);
}

Test(shard_map, table_lookup_is_caseless)
{
	struct keyspace *ks = new_ks(2);

	add_table(ks, "customers");
	add_table(ks, "orders");
	cr_expect_eq(keyspace_table(ks, "ORDERS", 6), &ks->tables[1]);
	cr_expect_eq(keyspace_table(ks, "Customers", 9), &ks->tables[0]);
	cr_expect_eq(keyspace_table(ks, "orders_x", 6), &ks->tables[1],
		     "the length counts, not the NUL");
	cr_expect_null(keyspace_table(ks, "order", 5));
	cr_expect_null(keyspace_table(ks, "ordersx", 7));
	cr_expect_null(keyspace_table(ks, "", 0));
	drop_ks(ks);
}

/* ---- key values ------------------------------------------------------------- */

struct int_case {
	const char *text;
	bool is_string;
	int rc;
	int64_t v;
};

Test(shard_map, key_int_literals)
{
	static const struct int_case cases[] = {
		{"42", false, 0, 42},
		{"-42", false, 0, -42},
		{"+42", false, 0, 42},
		{"042", false, 0, 42},
		{"42.0", false, 0, 42},
		{"42.", false, 0, 42},
		{"42.000000000000000000000000000000", false, 0, 42},
		{"4.2e1", false, 0, 42},
		{"420e-1", false, 0, 42},
		{"0", false, 0, 0},
		{"-0", false, 0, 0},
		{"0.0", false, 0, 0},
		{".0", false, 0, 0},
		{"0e999", false, 0, 0},
		{"9223372036854775807", false, 0, INT64_MAX},
		{"-9223372036854775808", false, 0, INT64_MIN},
		{"9223372036854775807.0", false, 0, INT64_MAX},
		{"9223372036854775808", false, -1, 0},
		{"-9223372036854775809", false, -1, 0},
		{"18446744073709551615", false, -1, 0},
		{"1.5", false, -1, 0},
		{"42.01", false, -1, 0},
		{".5", false, -1, 0},
		{"1e-1", false, -1, 0},
		/* A double: beyond 2^53 another integer may compare equal. */
		{"9007199254740991e0", false, 0, 9007199254740991},
		{"9007199254740992e0", false, -1, 0},
		{"1e300", false, -1, 0},
		{"", false, -1, 0},
		{".", false, -1, 0},
		{"-", false, -1, 0},
		{"0x2A", false, -1, 0},
		{"42abc", false, -1, 0},
		{" 42", false, -1, 0},
		{"4 2", false, -1, 0},
		{"1e", false, -1, 0},
		{"1e+", false, -1, 0},
		{"++42", false, -1, 0},
		{"NULL", false, -1, 0},
		/* Strings: compared as doubles. */
		{"42", true, 0, 42},
		{" 42", true, 0, 42},
		{"42 ", true, 0, 42},
		{"+42", true, 0, 42},
		{"42.0", true, 0, 42},
		{"4.2e1", true, 0, 42},
		{"9007199254740991", true, 0, 9007199254740991},
		{"9007199254740992", true, -1, 0},
		{"-9007199254740991", true, 0, -9007199254740991},
		{"1.5", true, -1, 0},
		{"abc", true, -1, 0},
		{"", true, -1, 0},
		{"42abc", true, -1, 0},
		{"\t42", true, -1, 0},
		{"0x2A", true, -1, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct int_case *c = &cases[i];
		int64_t v = -777;
		int rc = shard_key_int(c->text, strlen(c->text), c->is_string,
				       &v);

		cr_expect_eq(rc, c->rc, "%s'%s': rc %d", c->is_string ? "string " :
			     "", c->text, rc);
		if (!rc && !c->rc)
			cr_expect_eq(v, c->v, "'%s': %lld", c->text, (long long)v);
	}
}

Test(shard_map, value_to_shard)
{
	struct keyspace *ks = new_ks(4);
	struct shard_table *t = add_table(ks, "customers");
	int want = (int)shard_of_hash(ks, shard_hash_int(42));

	cr_expect_eq(shard_for_value(ks, t, "42", 2, false), want);
	cr_expect_eq(shard_for_value(ks, t, "42", 2, true), want);
	cr_expect_eq(shard_for_value(ks, t, "42.0", 4, false), want);
	cr_expect_eq(shard_for_value(ks, t, "+42", 3, true), want);
	cr_expect_eq(shard_for_value(ks, t, " 42", 3, true), want);
	cr_expect_eq(shard_for_value(ks, t, "1.5", 3, false), -1);
	cr_expect_eq(shard_for_value(ks, t, "abc", 3, true), -1);
	cr_expect_eq(shard_for_value(ks, NULL, "42", 2, false), -1);
	/* Keys 1..100 do not all land on one shard. */
	{
		unsigned seen = 0;

		for (int v = 1; v <= 100; v++) {
			char buf[8];
			int s = shard_for_value(ks, t, buf,
					(size_t)snprintf(buf, sizeof(buf), "%d", v),
					false);

			cr_assert(s >= 0 && s < 4);
			seen |= 1u << s;
		}
		cr_expect_eq(seen, 0xF);
	}
	drop_ks(ks);
}

Test(shard_map, value_to_shard_by_range)
{
	struct keyspace *ks = new_ks(4);
	struct shard_table *t = add_table(ks, "events");
	static const struct { const char *v; int shard; } cases[] = {
		{"-9223372036854775808", 0}, {"-5", 0}, {"999", 0},
		{"1000", 1}, {"1999", 1}, {"2000", 2}, {"2999.0", 2},
		{"3000", 3}, {"9223372036854775807", 3}, {"1000.5", -1},
	};

	t->fn = SHARD_FN_RANGE;
	t->bounds = malloc(3 * sizeof(*t->bounds));
	t->bounds[0] = 1000;
	t->bounds[1] = 2000;
	t->bounds[2] = 3000;
	t->nbounds = 3;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(shard_for_value(ks, t, cases[i].v,
					     strlen(cases[i].v), false),
			     cases[i].shard, "%s", cases[i].v);
	drop_ks(ks);
}

Test(shard_map, value_to_shard_by_string)
{
	struct keyspace *ks = new_ks(8);
	struct shard_table *t = add_table(ks, "users");
	int s;

	t->key_type = SHARD_KEY_STRING;
	s = shard_for_value(ks, t, "alice", 5, true);
	cr_expect_eq(s, (int)shard_of_hash(ks, shard_hash_str(
					  COLL_UTF8MB4_GENERAL_CI, "alice", 5)));
	cr_expect_eq(shard_for_value(ks, t, "ALICE  ", 7, true), s);
	/* A number compared with a string column matches '42', '042', ... */
	cr_expect_eq(shard_for_value(ks, t, "42", 2, false), -1);
	cr_expect_eq(shard_for_value(ks, t, "\xff", 1, true), -1);
	drop_ks(ks);
}

Test(shard_map, unsharded_and_broadcast)
{
	struct keyspace *ks = new_ks(3);
	struct shard_table *t = add_table(ks, "settings");
	struct shard_table *b;

	t->kind = TABLE_UNSHARDED;
	t->shard = 2;
	b = add_table(ks, "countries");
	b->kind = TABLE_BROADCAST;
	cr_expect_eq(shard_for_value(ks, &ks->tables[0], "1", 1, false), 2);
	cr_expect_eq(shard_for_value(ks, b, "1", 1, false), -1);
	drop_ks(ks);
}

/* ---- checks ------------------------------------------------------------------ */

static void expect_bad(struct keyspace *ks, const char *needle)
{
	char err[300] = "";

	cr_expect_eq(keyspace_check(ks, err, sizeof(err)), -1, "accepted (%s)",
		     needle);
	cr_expect(strstr(err, needle), "'%s' not in: %s", needle, err);
	drop_ks(ks);
}

Test(shard_map, check_refuses)
{
	struct keyspace *ks;
	struct shard_table *t;

	ks = new_ks(2);
	ks->shards[1].hash_lo--;
	expect_bad(ks, "shards 's0' and 's1' overlap at 0x7fffffffffffffff");
	ks = new_ks(2);
	ks->shards[1].hash_lo++;
	expect_bad(ks, "no shard covers 0x8000000000000000-0x8000000000000000");
	ks = new_ks(2);
	ks->shards[1].hash_hi--;
	expect_bad(ks, "no shard covers 0xffffffffffffffff");
	ks = new_ks(2);
	ks->shards[0].hash_lo = 5;
	expect_bad(ks, "no shard covers 0x0000000000000000-0x0000000000000004");
	ks = new_ks(2);
	ks->shards[0].hash_hi = UINT64_MAX;
	expect_bad(ks, "overlap");
	ks = new_ks(2);
	snprintf(ks->shards[1].name, sizeof(ks->shards[1].name), "S0");
	expect_bad(ks, "defined twice");
	ks = new_ks(2);
	ks->schema[0] = '\0';
	expect_bad(ks, "schema");
	ks = new_ks(2);
	ks->default_shard = 2;
	expect_bad(ks, "default-shard");
	ks = new_ks(2);
	add_table(ks, "a");
	add_table(ks, "A");
	expect_bad(ks, "table 'A': listed twice");
	ks = new_ks(3);
	t = add_table(ks, "e");
	t->fn = SHARD_FN_RANGE;
	t->bounds = malloc(2 * sizeof(*t->bounds));
	t->bounds[0] = 5;
	t->bounds[1] = 5;
	t->nbounds = 2;
	expect_bad(ks, "not ascending");
	ks = new_ks(3);
	t = add_table(ks, "e");
	t->fn = SHARD_FN_RANGE;
	expect_bad(ks, "expected 2 ascending boundaries");
	ks = new_ks(3);
	t = add_table(ks, "e");
	t->fn = SHARD_FN_RANGE;
	t->key_type = SHARD_KEY_STRING;
	expect_bad(ks, "range needs key-type: int");
	ks = new_ks(3);
	t = add_table(ks, "e");
	t->key_type = SHARD_KEY_STRING;
	t->collation = 1;
	expect_bad(ks, "cannot be hashed");
	ks = new_ks(3);
	t = add_table(ks, "e");
	t->kind = TABLE_UNSHARDED;
	t->shard = 3;
	expect_bad(ks, "no shard 3");
	ks = new_ks(3);
	t = add_table(ks, "e");
	snprintf(t->sequence, sizeof(t->sequence), "seq");
	expect_bad(ks, "unknown sequence 'seq'");
	ks = new_ks(3);
	ks->nsequences = 1;
	ks->sequences[0] = (struct shard_sequence){ .name = "seq", .shard = 1,
						    .block = 100, .start = 1 };
	t = add_table(ks, "e");
	snprintf(t->sequence, sizeof(t->sequence), "SEQ");
	cr_assert_eq(keyspace_check(ks, (char[300]){0}, 300), 0);
	t->key_type = SHARD_KEY_STRING;
	expect_bad(ks, "sequence: needs key-type: int");
	ks = new_ks(3);
	ks->nsequences = 1;
	ks->sequences[0] = (struct shard_sequence){ .name = "seq", .shard = 3,
						    .block = 100, .start = 1 };
	expect_bad(ks, "sequence 'seq': shard: no shard 3");
	ks = new_ks(3);
	ks->nsequences = 1;
	ks->sequences[0] = (struct shard_sequence){ .name = "seq", .block = 0,
						    .start = 1 };
	expect_bad(ks, "block: expected 1..");
	ks = new_ks(3);
	t = add_table(ks, "e");
	t->key[0] = '\0';
	expect_bad(ks, "key: required");
}

Test(shard_map, equal)
{
	struct keyspace *a = new_ks(3), *b = new_ks(3);

	add_table(a, "t");
	add_table(b, "t");
	b->shards[1].group_index = 7;
	b->tables[0].line = 99;
	cr_expect(keyspace_equal(a, b));
	cr_expect(keyspace_equal(NULL, NULL));
	cr_expect(!keyspace_equal(a, NULL));
	b->tables[0].key_type = SHARD_KEY_STRING;
	cr_expect(!keyspace_equal(a, b));
	b->tables[0].key_type = SHARD_KEY_INT;
	snprintf(b->shards[2].group, sizeof(b->shards[2].group), "other");
	cr_expect(!keyspace_equal(a, b));
	drop_ks(a);
	drop_ks(b);
}
