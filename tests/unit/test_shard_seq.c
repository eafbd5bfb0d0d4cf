/*
 * Sequences (docs/sharding.md, "Sequences"): the planner's rewrite of an
 * INSERT that leaves a sequenced table's key to myring (the key column
 * missing, NULL, DEFAULT or 0; multi-row, INSERT ... SET, ON DUPLICATE
 * KEY UPDATE; the keys placed and split per shard like written ones), and
 * a worker's block accounting (seq_block.h).
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "keyspace_fixture.h"
#include "seq_block.h"
#include "shard_plan.h"

static struct shard_table tables[] = {
	{ .name = "customers", .kind = TABLE_SHARDED, .key = "id",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT,
	  .sequence = "customer_ids" },
	{ .name = "orders", .kind = TABLE_SHARDED, .key = "customer_id",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT },
};

static struct keyspace ks;
static struct sql_arena arena;
static struct shard_plan plan;
static struct plan_ctx ctx;
static char text[4096];

/* The stand-in for a worker's blocks: keys from next on, or none. */
static int64_t next_key;
static bool keys_at_hand;
static unsigned takes, taken_seq;

static int take(void *arg, unsigned seq, unsigned n, int64_t *keys)
{
	(void)arg;
	if (!keys_at_hand)
		return -1;
	takes++;
	taken_seq = seq;
	for (unsigned i = 0; i < n; i++)
		keys[i] = next_key++;
	return 0;
}

static void setup(void)
{
	four_shards(&ks, tables, 2);
	ks.nsequences = 2;
	ks.sequences[0] = (struct shard_sequence){ .name = "other", .block = 10,
						   .start = 1 };
	ks.sequences[1] = (struct shard_sequence){ .name = "customer_ids",
						   .block = 10, .start = 1 };
	sql_arena_init(&arena, 0);
	plan_ctx_app(&ctx, &ks);
	ctx.take_keys = take;
	next_key = 1000;
	keys_at_hand = true;
	takes = 0;
}

static void teardown(void)
{
	sql_arena_free(&arena);
}

TestSuite(shard_seq, .init = setup, .fini = teardown);

static void plan_of(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sql_arena_reset(&arena);
	cr_assert_eq(shard_plan(&arena, &ctx, text, strlen(text), &plan), 0);
}

static int shard_of(long k)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%ld", k);

	return shard_for_value(&ks, &tables[0], buf, (size_t)n, false);
}

/* The first key from next_key on whose shard is (or is not) sh. */
static long first_key(bool on, int sh)
{
	long k = next_key;

	while ((shard_of(k) == sh) != on)
		k++;
	return k;
}

/* One shard: the statement rewritten with its key, the first key as
 * LAST_INSERT_ID(k) so that the shard's OK reports it. */
static void expect_one(const char *want)
{
	cr_assert_eq(plan.kind, PLAN_ONE, "%s: kind %d (%s)", text, plan.kind,
		     plan.err);
	cr_assert(plan.rewritten, "%s", text);
	cr_assert_eq(plan.nparts, 1);
	cr_assert_str_eq(plan.parts[0].sql, want);
}

Test(shard_seq, missing_key_column)
{
	plan_of("INSERT INTO customers (name) VALUES ('a')");
	expect_one("INSERT INTO customers (name, id) VALUES ('a', "
		   "LAST_INSERT_ID(1000))");
	cr_assert_eq(plan.parts[0].shard, (unsigned)shard_of(1000));
	cr_assert_eq(plan.insert_id, 1000);
	cr_assert_eq(takes, 1);
	cr_assert_eq(taken_seq, 1, "the table's sequence, by name");
}

Test(shard_seq, null_default_and_zero)
{
	plan_of("INSERT INTO customers (id, name) VALUES (NULL, 'a')");
	expect_one("INSERT INTO customers (id, name) VALUES "
		   "(LAST_INSERT_ID(1000), 'a')");
	plan_of("INSERT INTO customers (id, name) VALUES (DEFAULT, 'a')");
	expect_one("INSERT INTO customers (id, name) VALUES "
		   "(LAST_INSERT_ID(1001), 'a')");
	plan_of("INSERT INTO customers (id, name) VALUES (0, 'a')");
	expect_one("INSERT INTO customers (id, name) VALUES "
		   "(LAST_INSERT_ID(1002), 'a')");
	cr_assert_eq(plan.insert_id, 1002);
	/* NO_AUTO_VALUE_ON_ZERO: 0 is a key like any other */
	ctx.sql_mode = PLAN_MODE_NO_AUTO_VALUE_ON_ZERO;
	plan_of("INSERT INTO customers (id, name) VALUES (0, 'a')");
	cr_assert_eq(plan.kind, PLAN_ONE);
	cr_assert_not(plan.rewritten, "sent as written");
	cr_assert_eq(plan.insert_id, 0);
	cr_assert_eq(next_key, 1003, "no key taken");
}

Test(shard_seq, given_keys_untouched)
{
	plan_of("INSERT INTO customers (id, name) VALUES (5, 'a')");
	cr_assert_eq(plan.kind, PLAN_ONE);
	cr_assert_not(plan.rewritten);
	cr_assert_eq(plan.parts[0].sql, text, "the client's own text");
	cr_assert_eq(takes, 0);
	/* a table without a sequence still needs its key */
	plan_of("INSERT INTO orders (x) VALUES (1)");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	cr_assert(strstr(plan.err, "needs its key column customer_id"));
}

Test(shard_seq, multi_row_split_per_shard)
{
	char want[200];
	int sh0 = shard_of(1000);
	long other = first_key(false, sh0);

	/* rows 1 and 3 take keys 1000 and 1001 (in text order); row 2
	 * names a key on another shard than 1000's */
	plan_of("INSERT INTO customers (id, name) VALUES (NULL, 'a'), "
		"(%ld, 'b'), (0, 'c')", other);
	cr_assert_eq(takes, 1);
	cr_assert_eq(next_key, 1002, "one key per row that wants one");
	cr_assert_eq(plan.kind, PLAN_MULTI, "%s", plan.err);
	cr_assert_eq(plan.result, PLAN_RESULT_OK);
	cr_assert_eq(plan.insert_id, 1000, "the first generated key");
	for (unsigned i = 0; i < plan.nparts; i++) {
		const char *q = plan.parts[i].sql;

		cr_assert_null(strstr(q, "LAST_INSERT_ID"),
			       "fanouts set it themselves: %s", q);
		if (plan.parts[i].shard == (unsigned)sh0)
			cr_assert(strstr(q, "(1000, 'a')"), "%s", q);
		if (plan.parts[i].shard == (unsigned)shard_of(1001))
			cr_assert(strstr(q, "(1001, 'c')"), "%s", q);
		if (plan.parts[i].shard == (unsigned)shard_of(other)) {
			snprintf(want, sizeof(want), "(%ld, 'b')", other);
			cr_assert(strstr(q, want), "%s", q);
		}
	}
}

Test(shard_seq, multi_row_one_shard)
{
	long k;

	/* keys that land on one shard: the next key's shard's run */
	next_key = 1000;
	k = 1000;
	while (shard_of(k + 1) != shard_of(k))
		k++;
	next_key = k;
	plan_of("INSERT INTO customers (name) VALUES ('a'), ('b')");
	cr_assert_eq(plan.kind, PLAN_ONE, "%s", plan.err);
	snprintf(text, sizeof(text), "INSERT INTO customers (name, id) VALUES "
		 "('a', LAST_INSERT_ID(%ld)), ('b', %ld)", k, k + 1);
	cr_assert_str_eq(plan.parts[0].sql, text);
}

Test(shard_seq, insert_set_and_on_duplicate_key)
{
	plan_of("INSERT INTO customers SET name = 'a'");
	expect_one("INSERT INTO customers SET name = 'a', id = "
		   "LAST_INSERT_ID(1000)");
	plan_of("INSERT INTO customers SET id = NULL, name = 'a'");
	expect_one("INSERT INTO customers SET id = LAST_INSERT_ID(1001), "
		   "name = 'a'");
	plan_of("INSERT INTO customers (name, n) VALUES ('a', 1) ON DUPLICATE "
		"KEY UPDATE n = n + 1");
	expect_one("INSERT INTO customers (name, n, id) VALUES ('a', 1, "
		   "LAST_INSERT_ID(1002)) ON DUPLICATE KEY UPDATE n = n + 1");
	plan_of("REPLACE INTO customers (name) VALUES ('a')");
	cr_assert_eq(plan.kind, PLAN_ONE, "%s", plan.err);
	cr_assert(strstr(plan.parts[0].sql, "LAST_INSERT_ID(1003)"));
}

Test(shard_seq, keys_not_at_hand)
{
	keys_at_hand = false;
	plan_of("INSERT INTO customers (name) VALUES ('a'), ('b'), ('c')");
	cr_assert_eq(plan.kind, PLAN_KEYS, "%s", plan.err);
	cr_assert_eq(plan.need_seq, 1);
	cr_assert_eq(plan.need_keys, 3);
	/* planned again once they are there */
	keys_at_hand = true;
	plan_of("INSERT INTO customers (name) VALUES ('a'), ('b'), ('c')");
	cr_assert(plan.kind == PLAN_ONE || plan.kind == PLAN_MULTI);
	cr_assert_eq(plan.insert_id, 1000);
}

/* An execution planned by its parameters takes no keys: it asks for
 * them, and is planned again with its values written in (take_keys). */
Test(shard_seq, execution_by_params_asks_for_keys)
{
	struct plan_param pp[2] = {
		{ "a", 1, true, true },
		{ "0", 1, false, true },
	};

	ctx.take_keys = NULL;
	ctx.params = pp;
	ctx.nparams = 2;
	plan_of("INSERT INTO customers (name) VALUES (?), ('b')");
	cr_assert_eq(plan.kind, PLAN_KEYS, "%s", plan.err);
	cr_assert_eq(plan.need_keys, 2);
	/* a key bound as 0 (or what reads as 0) asks for one */
	plan_of("INSERT INTO customers (name, id) VALUES (?, ?)");
	cr_assert_eq(plan.kind, PLAN_KEYS, "%s", plan.err);
	cr_assert_eq(plan.need_keys, 1);
	pp[1].text = "-0";
	pp[1].len = 2;
	plan_of("INSERT INTO customers (name, id) VALUES (?, ?)");
	cr_assert_eq(plan.kind, PLAN_KEYS, "%s", plan.err);
	/* ... but not under NO_AUTO_VALUE_ON_ZERO, nor as a string, nor
	 * a key like 10 */
	ctx.sql_mode = PLAN_MODE_NO_AUTO_VALUE_ON_ZERO;
	plan_of("INSERT INTO customers (name, id) VALUES (?, ?)");
	cr_assert_eq(plan.kind, PLAN_ONE, "%s", plan.err);
	ctx.sql_mode = 0;
	pp[1].is_string = true;
	plan_of("INSERT INTO customers (name, id) VALUES (?, ?)");
	cr_assert_neq(plan.kind, PLAN_KEYS);
	pp[1] = (struct plan_param){ "10", 2, false, true };
	plan_of("INSERT INTO customers (name, id) VALUES (?, ?)");
	cr_assert_eq(plan.kind, PLAN_ONE, "%s", plan.err);
	cr_assert(!plan.rewritten);
	cr_assert_eq(takes, 0);
}

Test(shard_seq, refusals)
{
	/* a row of the wrong length would put the key in another place */
	plan_of("INSERT INTO customers (name, n) VALUES ('a')");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	cr_assert_eq(plan.err_code, 1136);
	/* no column list: the key's place is unknown */
	plan_of("INSERT INTO customers VALUES (NULL, 'a')");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	/* EXPLAIN takes no keys */
	plan_of("EXPLAIN SHARDS INSERT INTO customers (name) VALUES ('a')");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	cr_assert(strstr(plan.err, "sequence customer_ids"), "%s", plan.err);
	cr_assert_eq(takes, 0);
	/* in a transaction on another shard than the key's: the key's
	 * shard (the transaction spans them: docs/transactions.md) */
	ctx.in_trans = true;
	ctx.trans_shard = (shard_of(1000) + 1) % 4;
	plan_of("INSERT INTO customers (name) VALUES ('a')");
	cr_assert_eq(plan.kind, PLAN_ONE, "%s", plan.err);
	cr_assert_eq(plan.parts[0].shard, (unsigned)shard_of(1000));
}

/* ---- blocks -------------------------------------------------------------- */

Test(shard_seq, block_from_update_ok)
{
	uint64_t a, b;

	cr_assert_eq(seq_block_from_ok(1011, 10, &a, &b), 0);
	cr_assert_eq(a, 1001);
	cr_assert_eq(b, 1011);
	cr_assert_eq(seq_block_from_ok(11, 10, &a, &b), 0, "start 1");
	cr_assert_eq(a, 1);
	cr_assert_eq(seq_block_from_ok(10, 10, &a, &b), -1, "key 0");
	cr_assert_eq(seq_block_from_ok(0, 10, &a, &b), -1);
	cr_assert_eq(seq_block_from_ok(1ull << 63, 10, &a, &b), 0,
		     "up to 2^63-1");
	cr_assert_eq(seq_block_from_ok((1ull << 63) + 1, 10, &a, &b), -1);
}

Test(shard_seq, block_take_and_want)
{
	struct seq_block c = { 0 };
	int64_t k[30];

	cr_assert_eq(seq_block_want(&c, 10, 0), 10, "empty: a block");
	cr_assert_eq(seq_block_want(&c, 10, 25), 25, "more than a block");
	cr_assert_eq(seq_block_take(&c, 1, k), -1);
	cr_assert_eq(seq_block_add(&c, 1, 11), 0);
	cr_assert_eq(seq_block_want(&c, 10, 0), 0, "a whole block");
	cr_assert_eq(seq_block_take(&c, 4, k), 0);
	cr_assert_eq(k[0], 1);
	cr_assert_eq(k[3], 4);
	cr_assert_eq(seq_block_want(&c, 10, 0), 0, "6 left, over half");
	cr_assert_eq(seq_block_take(&c, 2, k), 0);
	cr_assert_eq(seq_block_want(&c, 10, 0), 10, "4 left: the next one");
	/* another worker took 11..20: this one gets 21..30 */
	cr_assert_eq(seq_block_add(&c, 21, 31), 0);
	cr_assert_eq(c.avail, 14);
	cr_assert_eq(seq_block_take(&c, 6, k), 0, "across two blocks");
	cr_assert_eq(k[0], 7);
	cr_assert_eq(k[3], 10);
	cr_assert_eq(k[4], 21);
	cr_assert_eq(k[5], 22);
	cr_assert_eq(seq_block_take(&c, 9, k), -1, "only 8: nothing taken");
	cr_assert_eq(c.avail, 8);
	cr_assert_eq(seq_block_add(&c, 5, 9), -1, "below what it holds");
	cr_assert_eq(seq_block_add(&c, 31, 41), 0, "contiguous");
	cr_assert_eq(c.n, 1);
	cr_assert_eq(seq_block_take(&c, 18, k), 0);
	cr_assert_eq(k[17], 40);
	cr_assert_eq(c.avail, 0);
	cr_assert_eq(c.n, 0);
}
