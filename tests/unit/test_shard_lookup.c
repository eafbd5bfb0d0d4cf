/*
 * Lookups in the planner (shard_plan_lookup.c, docs/sharding.md "Lookup
 * tables"): which steps a statement on a table with lookups runs, what
 * each sends where, and how the statement is planned once a step has
 * read its rows.  The steps are driven as the executor drives them:
 * planned again from the first step's replan text with step + 1 and what
 * was read, until a plan has no more steps.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyspace_fixture.h"
#include "shard_plan.h"

static struct shard_table tables[] = {
	{ .name = "customers", .kind = TABLE_SHARDED, .key = "id",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT, .nlookups = 2,
	  .lookups = {
		{ .column = "email", .table = "lookup_customers_email",
		  .unique = true, .type = SHARD_KEY_STRING, .shard = 1 },
		{ .column = "city", .table = "lookup_customers_city",
		  .type = SHARD_KEY_STRING, .shard = 2 },
	  } },
	{ .name = "orders", .kind = TABLE_SHARDED, .key = "customer_id",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT },
};

static struct keyspace ks;
static struct sql_arena arena;
static struct shard_plan plan;
static struct plan_ctx ctx;
static char text[4096];
static char replan[4096];

static void setup(void)
{
	four_shards(&ks, tables, 2);
	sql_arena_init(&arena, 0);
	plan_ctx_app(&ctx, &ks);
	ctx.utf8 = true;
	ctx.lookups_ready = true;
}

static void teardown(void)
{
	sql_arena_free(&arena);
}

TestSuite(shard_lookup, .init = setup, .fini = teardown);

static int shard_of(long key)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%ld", key);

	return shard_for_value(&ks, &tables[0], buf, (size_t)n, false);
}

/* A key on shard sh other than `not`. */
static long key_on(unsigned sh, long not)
{
	for (long k = 1; k < 100000; k++)
		if (shard_of(k) == (int)sh && k != not)
			return k;
	cr_assert_fail("no key on shard %u", sh);
	return 0;
}

static const struct shard_plan *plan_of(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ctx.step = 0;
	ctx.keys_found = ctx.rows_found = NULL;
	sql_arena_reset(&arena);
	cr_assert_eq(shard_plan(&arena, &ctx, text, strlen(text), &plan), 0);
	if (plan.replan) {
		cr_assert_lt(plan.replan_len, sizeof(replan));
		memcpy(replan, plan.replan, plan.replan_len);
		replan[plan.replan_len] = '\0';
	}
	return &plan;
}

/* The next step, with what this one read. */
static const struct shard_plan *next_step(const struct plan_found *keys,
					  const struct plan_found *rows)
{
	cr_assert(plan.more, "the plan has no more steps");
	ctx.step = plan.step + 1;
	if (keys)
		ctx.keys_found = keys;
	if (rows)
		ctx.rows_found = rows;
	sql_arena_reset(&arena);
	cr_assert_eq(shard_plan(&arena, &ctx, replan, strlen(replan), &plan),
		     0);
	return &plan;
}

static void expect_part(unsigned i, unsigned shard, const char *sql)
{
	cr_assert_gt(plan.nparts, i);
	cr_assert_eq(plan.parts[i].shard, shard, "part %u on s%u, want s%u",
		     i, plan.parts[i].shard, shard);
	cr_assert_eq(plan.parts[i].len, strlen(sql), "got: %.*s",
		     (int)plan.parts[i].len, plan.parts[i].sql);
	cr_assert(!memcmp(plan.parts[i].sql, sql, strlen(sql)), "got: %.*s",
		  (int)plan.parts[i].len, plan.parts[i].sql);
}

static void expect_partf(unsigned i, unsigned shard, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* expect_part() of a formatted text. */
static void expect_partf(unsigned i, unsigned shard, const char *fmt, ...)
{
	char want[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	expect_part(i, shard, want);
}

/* Rows of text cells. */
static struct plan_found found(unsigned ncols, unsigned nrows,
			       const char *const *cells)
{
	static size_t lens[64];

	for (unsigned i = 0; i < ncols * nrows; i++)
		lens[i] = cells[i] ? strlen(cells[i]) : 0;
	return (struct plan_found){ ncols, nrows, cells, lens };
}

Test(shard_lookup, select_by_lookup_reads_the_lookup_then_its_shards)
{
	long k1 = key_on(3, 0), k2 = key_on(0, 0);
	char a[24], b[24];
	const char *one[] = { a }, *two[] = { a, b };
	struct plan_found f1, f2, none = { 1, 0, NULL, NULL };

	plan_of("SELECT name FROM customers WHERE email = 'a@x.org'");
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert(plan.more);
	cr_assert_eq(plan.collect, PLAN_COLLECT_KEYS);
	cr_assert_not(plan.pooled);
	cr_assert_eq(plan.nparts, 1);
	expect_part(0, 1, "SELECT `keyid` FROM `myring`.`lookup_customers_email`"
		    " WHERE `value` IN ('a@x.org')");
	cr_assert(plan.replan);

	/* One key: its shard alone, the statement merged as one stream. */
	snprintf(a, sizeof(a), "%ld", k1);
	f1 = found(1, 1, one);
	next_step(&f1, NULL);
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert_not(plan.more);
	cr_assert(plan.merge);
	cr_assert_eq(plan.nparts, 1);
	cr_assert_eq(plan.parts[0].shard, 3);

	/* IN: every value in one read; two keys, two shards. */
	plan_of("SELECT name FROM customers WHERE email IN ('a@x', 'b@x') "
		"ORDER BY name");
	expect_part(0, 1, "SELECT `keyid` FROM `myring`.`lookup_customers_email`"
		    " WHERE `value` IN ('a@x', 'b@x')");
	snprintf(b, sizeof(b), "%ld", k2);
	f2 = found(1, 2, two);
	next_step(&f2, NULL);
	cr_assert_eq(plan.nparts, 2);
	cr_assert_eq(plan.parts[0].shard, 0);
	cr_assert_eq(plan.parts[1].shard, 3);

	/* No key: the lookup's shard, which has no such row either. */
	plan_of("SELECT name FROM customers WHERE city = 'Oslo'");
	expect_part(0, 2, "SELECT `keyid` FROM `myring`.`lookup_customers_city`"
		    " WHERE `value` IN ('Oslo')");
	next_step(&none, NULL);
	cr_assert_eq(plan.nparts, 1);
	cr_assert_eq(plan.parts[0].shard, 2);
}

Test(shard_lookup, the_key_or_no_lookup_condition_needs_no_lookup)
{
	long k = key_on(2, 0);

	/* The key places it: one shard, as fast as without lookups. */
	plan_of("SELECT * FROM customers WHERE id = %ld AND email = 'a'", k);
	cr_assert_eq(plan.kind, PLAN_ONE);
	cr_assert_eq(plan.parts[0].shard, 2);
	cr_assert_not(plan.more);
	/* Not an equality on a lookup column: scattered as before. */
	plan_of("SELECT * FROM customers WHERE email LIKE 'a%%'");
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert_not(plan.more);
	cr_assert_eq(plan.nparts, 4);
	plan_of("SELECT * FROM customers WHERE email = name");
	cr_assert_not(plan.more);
	/* OR is no condition on every row. */
	plan_of("SELECT * FROM customers WHERE email = 'a' OR id = 3");
	cr_assert_not(plan.more);
	/* A table without lookups. */
	plan_of("SELECT * FROM orders WHERE email = 'a'");
	cr_assert_not(plan.more);
}

Test(shard_lookup, first_use_makes_the_lookup_tables)
{
	ctx.lookups_ready = false;
	plan_of("SELECT name FROM customers WHERE email = 'a'");
	cr_assert(plan.more);
	cr_assert(plan.pooled);
	cr_assert_eq(plan.nparts, 2);   /* the lookups' shards: s1, s2 */
	expect_part(0, 1, "CREATE DATABASE IF NOT EXISTS `myring`");
	expect_part(1, 2, "CREATE DATABASE IF NOT EXISTS `myring`");
	next_step(NULL, NULL);
	cr_assert(plan.pooled);
	expect_part(0, 1, "CREATE TABLE IF NOT EXISTS "
		    "`myring`.`lookup_customers_email` (`value` VARCHAR(255) "
		    "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL, "
		    "`keyid` BIGINT NOT NULL, PRIMARY KEY (`value`), "
		    "KEY (`keyid`)) ENGINE=InnoDB");
	next_step(NULL, NULL);
	expect_part(0, 2, "CREATE TABLE IF NOT EXISTS "
		    "`myring`.`lookup_customers_city` (`value` VARCHAR(255) "
		    "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL, "
		    "`keyid` BIGINT NOT NULL, PRIMARY KEY (`value`, `keyid`), "
		    "KEY (`keyid`)) ENGINE=InnoDB");
	next_step(NULL, NULL);
	cr_assert_not(plan.pooled);
	cr_assert_eq(plan.collect, PLAN_COLLECT_KEYS);
}

Test(shard_lookup, insert_writes_its_lookup_rows_first)
{
	long k1 = key_on(0, 0), k2 = key_on(3, 0);

	plan_of("INSERT INTO customers (id, email, city, name) VALUES "
		"(%ld, 'a@x', 'Oslo', 'A'), (%ld, 'b@x', NULL, 'B')", k1, k2);
	cr_assert(plan.more);
	cr_assert(plan.writes);
	cr_assert_eq(plan.collect, PLAN_COLLECT_NONE);
	expect_partf(0, 1, "INSERT INTO `myring`."
		     "`lookup_customers_email` (`value`, `keyid`) VALUES "
		     "('a@x', %ld), ('b@x', %ld)", k1, k2);
	/* A non-unique lookup keeps a row two rows share. */
	next_step(NULL, NULL);
	expect_partf(0, 2, "INSERT INTO `myring`."
		     "`lookup_customers_city` (`value`, `keyid`) VALUES "
		     "('Oslo', %ld) ON DUPLICATE KEY UPDATE `keyid` = `keyid`", k1);
	/* Then the rows, split per shard as without lookups. */
	next_step(NULL, NULL);
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert_not(plan.more);
	cr_assert_eq(plan.nparts, 2);
	cr_assert_eq(plan.parts[0].shard, 0);
	cr_assert_eq(plan.parts[1].shard, 3);

	/* No lookup value: no lookup step. */
	plan_of("INSERT INTO customers (id, name) VALUES (%ld, 'A')", k1);
	cr_assert_eq(plan.kind, PLAN_ONE);
	plan_of("INSERT INTO customers SET id = %ld, email = 'q'", k1);
	expect_partf(0, 1, "INSERT INTO `myring`."
		     "`lookup_customers_email` (`value`, `keyid`) VALUES "
		     "('q', %ld)", k1);
}

Test(shard_lookup, inserts_a_lookup_cannot_follow_are_refused)
{
	plan_of("REPLACE INTO customers (id, email) VALUES (1, 'a')");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	cr_assert(strstr(plan.err, "which has lookups"), "%s", plan.err);
	plan_of("INSERT IGNORE INTO customers (id, email) VALUES (1, 'a')");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	plan_of("INSERT INTO customers (id, email) VALUES (1, 'a') ON "
		"DUPLICATE KEY UPDATE name = 'b'");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	plan_of("INSERT INTO customers (id, email) VALUES (1, LOWER('A'))");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	cr_assert(strstr(plan.err, "literal values of its lookup column "
			 "email"), "%s", plan.err);
	plan_of("UPDATE customers SET email = CONCAT(email, 'x') WHERE id = 1");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	plan_of("DELETE FROM customers WHERE id > 3 LIMIT 1");
	cr_assert_eq(plan.kind, PLAN_ERROR);
	/* A transaction without a shard yet begins with it. */
	ctx.in_trans = true;
	plan_of("SELECT * FROM customers WHERE email = 'a'");
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert(plan.more);
}

Test(shard_lookup, delete_reads_its_rows_then_removes_their_lookup_rows)
{
	long k = key_on(3, 0);
	char ks_[24];
	const char *rows[] = { ks_, "a@x" }, *keys[] = { ks_ };
	struct plan_found fr, fk, none = { 2, 0, NULL, NULL };

	plan_of("DELETE FROM customers WHERE id = %ld", k);
	cr_assert(plan.more);
	cr_assert_eq(plan.collect, PLAN_COLLECT_ROWS);
	expect_partf(0, 3, "SELECT `id`, `email` FROM `customers` "
		     "WHERE id = %ld FOR UPDATE", k);
	snprintf(ks_, sizeof(ks_), "%ld", k);
	fr = found(2, 1, rows);
	next_step(NULL, &fr);
	expect_partf(0, 1, "DELETE FROM `myring`."
		     "`lookup_customers_email` WHERE (`value`, `keyid`) IN "
		     "(('a@x', %ld))", k);
	next_step(NULL, NULL);
	cr_assert_eq(plan.kind, PLAN_ONE);
	cr_assert_eq(plan.parts[0].shard, 3);

	/* By the lookup: its keys first, then the same steps. */
	plan_of("DELETE FROM customers WHERE email = 'a@x'");
	cr_assert_eq(plan.collect, PLAN_COLLECT_KEYS);
	fk = found(1, 1, keys);
	next_step(&fk, NULL);
	cr_assert_eq(plan.collect, PLAN_COLLECT_ROWS);
	expect_part(0, 3, "SELECT `id`, `email` FROM `customers` WHERE email "
		    "= 'a@x' FOR UPDATE");
	/* No row: nothing to remove. */
	next_step(NULL, &none);
	cr_assert_not(plan.more);
	cr_assert_eq(plan.parts[0].shard, 3);
}

Test(shard_lookup, update_of_a_lookup_column_moves_its_rows)
{
	long k = key_on(1, 0);
	char ks_[24];
	const char *rows[] = { ks_, "old@x", ks_, NULL };
	struct plan_found fr;

	/* Not a lookup column: as without lookups. */
	plan_of("UPDATE customers SET name = 'n' WHERE id = %ld", k);
	cr_assert_eq(plan.kind, PLAN_ONE);

	plan_of("UPDATE customers SET email = 'new@x', name = 'n' WHERE "
		"id = %ld", k);
	expect_partf(0, 1, "SELECT `id`, `email` FROM `customers` "
		     "WHERE id = %ld FOR UPDATE", k);
	snprintf(ks_, sizeof(ks_), "%ld", k);
	fr = found(2, 2, rows);
	next_step(NULL, &fr);
	expect_partf(0, 1, "DELETE FROM `myring`."
		     "`lookup_customers_email` WHERE (`value`, `keyid`) IN "
		     "(('old@x', %ld))", k);
	next_step(NULL, NULL);
	expect_partf(0, 1, "INSERT INTO `myring`."
		     "`lookup_customers_email` (`value`, `keyid`) VALUES "
		     "('new@x', %ld), ('new@x', %ld)", k, k);
	next_step(NULL, NULL);
	cr_assert_eq(plan.kind, PLAN_ONE);
	cr_assert_not(plan.more);

	/* Set to NULL: the old rows go, no new one. */
	plan_of("UPDATE customers SET email = NULL WHERE id = %ld", k);
	next_step(NULL, &fr);
	cr_assert(strstr(plan.parts[0].sql, "DELETE"));
	next_step(NULL, NULL);
	cr_assert_not(plan.more);
}

Test(shard_lookup, explain_shards_shows_the_lookup_step)
{
	plan_of("EXPLAIN SHARDS SELECT * FROM customers WHERE email = 'a'");
	cr_assert_eq(plan.kind, PLAN_ANSWER);
	cr_assert_eq(plan.nrows, 1);
	cr_assert_str_eq(plan.cells[0], "s1");
	cr_assert(strstr(plan.cells[1], "lookup_customers_email"));
	cr_assert(strstr(plan.cells[2], "lookup: the keys found"), "%s",
		  plan.cells[2]);
}
