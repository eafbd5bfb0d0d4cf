/*
 * The shard planner (shard_plan.h): for a keyspace of four shards with
 * hash, range, string-keyed, broadcast and unsharded tables, which plan
 * each form of statement gets (its kind, its shards, the text each shard
 * is sent, the refusals and their messages); then the merges of scatter
 * SELECTs, fed hand-built shard results through merge.h, against the
 * rows one server holding all of them would answer.
 *
 * No test assumes which shard a key lands on: keys are found by asking
 * shard_for_value() (tests/unit/shard_map_stub.c stands in for
 * shard_map.c until it is linked).
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyspace_fixture.h"
#include "merge.h"
#include "shard_plan.h"
#include "sql_parse.h"

/* ---- the keyspace -------------------------------------------------------- */

static int64_t event_bounds[] = { 100, 200, 300 };

static struct shard_table tables[] = {
	{ .name = "customers", .kind = TABLE_SHARDED, .key = "id",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT },
	{ .name = "orders", .kind = TABLE_SHARDED, .key = "customer_id",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT },
	{ .name = "events", .kind = TABLE_SHARDED, .key = "id",
	  .fn = SHARD_FN_RANGE, .key_type = SHARD_KEY_INT,
	  .bounds = event_bounds, .nbounds = 3 },
	{ .name = "users", .kind = TABLE_SHARDED, .key = "name",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_STRING,
	  .collation = COLL_UTF8MB4_GENERAL_CI },
	{ .name = "countries", .kind = TABLE_BROADCAST },
	{ .name = "settings", .kind = TABLE_UNSHARDED, .shard = 2 },
};

static struct keyspace ks;

static void ks_init(int default_shard)
{
	memset(&ks, 0, sizeof(ks));
	strcpy(ks.schema, "app");
	ks.nshards = 4;
	for (unsigned i = 0; i < 4; i++) {
		snprintf(ks.shards[i].name, sizeof(ks.shards[i].name), "s%u", i);
		snprintf(ks.shards[i].group, sizeof(ks.shards[i].group), "g%u",
			 i);
		ks.shards[i].hash_lo = (uint64_t)i << 62;
		ks.shards[i].hash_hi = ((uint64_t)i << 62) | ((1ull << 62) - 1);
	}
	ks.tables = tables;
	ks.ntables = sizeof(tables) / sizeof(*tables);
	ks.default_shard = default_shard;
}

static const struct shard_table *table(const char *name)
{
	for (unsigned i = 0; i < ks.ntables; i++)
		if (!strcmp(tables[i].name, name))
			return &tables[i];
	cr_assert_fail("no table %s", name);
	return NULL;
}

/* The nth (from 0) positive integer key of table t on shard sh. */
static long key_on(const char *t, unsigned sh, unsigned nth)
{
	char buf[24];

	for (long k = 1; k < 100000; k++) {
		int n = snprintf(buf, sizeof(buf), "%ld", k);

		if (shard_for_value(&ks, table(t), buf, (size_t)n, false) ==
		    (int)sh && nth-- == 0)
			return k;
	}
	cr_assert_fail("no key of %s on shard %u", t, sh);
	return 0;
}

/* ---- planning ------------------------------------------------------------ */

static struct sql_arena arena;
static struct shard_plan plan;
static char text[4096];
static struct plan_ctx ctx;

static void setup(void)
{
	ks_init(-1);
	sql_arena_init(&arena, 0);
	plan_ctx_app(&ctx, &ks);
}

static void teardown(void)
{
	sql_arena_free(&arena);
}

TestSuite(shard_plan, .init = setup, .fini = teardown);

static const struct shard_plan *plan_of(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sql_arena_reset(&arena);
	cr_assert_eq(shard_plan(&arena, &ctx, text, strlen(text), &plan), 0);
	if (plan.kind == PLAN_ONE || plan.kind == PLAN_MULTI) {
		cr_assert_gt(plan.nparts, 0, "%s", text);
		for (unsigned i = 1; i < plan.nparts; i++)
			cr_assert_lt(plan.parts[i - 1].shard,
				     plan.parts[i].shard, "ascending shards");
	}
	return &plan;
}

static void expect_kind(const char *sql, uint8_t kind)
{
	plan_of("%s", sql);
	cr_assert_eq(plan.kind, kind, "%s: kind %d, not %d (%s)", sql,
		     plan.kind, kind, plan.err);
}

/* PLAN_ONE to shard sh, the client's own text (zero-copy). */
static void expect_one(unsigned sh)
{
	cr_assert_eq(plan.kind, PLAN_ONE, "%s: kind %d (%s)", text, plan.kind,
		     plan.err);
	cr_assert_eq(plan.nparts, 1);
	cr_assert_eq(plan.parts[0].shard, sh, "%s: shard %u, not %u", text,
		     plan.parts[0].shard, sh);
	cr_assert_eq(plan.parts[0].sql, text, "the client's text itself");
	cr_assert_eq(plan.parts[0].len, strlen(text));
}

static void expect_error(const char *needle)
{
	cr_assert_eq(plan.kind, PLAN_ERROR, "%s: kind %d, not an error", text,
		     plan.kind);
	cr_assert(strstr(plan.err, needle), "%s: '%s' lacks '%s'", text,
		  plan.err, needle);
	cr_assert_eq(strncmp(plan.err, "myring: ", 8), 0);
}

static void expect_unsupported(const char *needle)
{
	expect_error(needle);
	cr_assert_eq(plan.err_code, 1235);
	cr_assert_str_eq(plan.sqlstate, "42000");
}

static const char *part_sql(unsigned i)
{
	static char buf[4][2048];

	cr_assert_lt(i, plan.nparts);
	snprintf(buf[i % 4], sizeof(buf[0]), "%.*s", (int)plan.parts[i].len,
		 plan.parts[i].sql);
	return buf[i % 4];
}

/* PLAN_MULTI to every shard, each sent `sql`. */
static void expect_scatter(uint8_t result, const char *sql)
{
	cr_assert_eq(plan.kind, PLAN_MULTI, "%s: kind %d (%s)", text,
		     plan.kind, plan.err);
	cr_assert_eq(plan.result, result);
	cr_assert_eq(plan.nparts, 4, "%s", text);
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(plan.parts[i].shard, i);
		if (sql)
			cr_assert_str_eq(part_sql(i), sql);
	}
	if (result == PLAN_RESULT_ROWS)
		cr_assert_not_null(plan.merge);
}

/* ---- what goes where ----------------------------------------------------- */

Test(shard_plan, statements_without_keyspace_tables_pass)
{
	static const char *const pass[] = {
		"SELECT 1", "SELECT NOW(), @@version", "SET @a = 1",
		"SET NAMES utf8mb4", "USE app", "BEGIN", "COMMIT", "ROLLBACK",
		"SHOW TABLES", "SHOW CREATE TABLE customers",
		"SELECT * FROM other.t WHERE id = 1", "SAVEPOINT a",
		"SELECT 1; SELECT 2", "SELECT * FROM other.customers",
		"KILL 5", "FLUSH TABLES", "UNLOCK TABLES",
	};

	for (size_t i = 0; i < sizeof(pass) / sizeof(*pass); i++)
		expect_kind(pass[i], PLAN_PASS);
	/* Another schema: unqualified names are not the keyspace's. */
	ctx.schema = "other";
	ctx.schema_len = 5;
	expect_kind("SELECT * FROM customers", PLAN_PASS);
	plan_of("SELECT * FROM app.customers WHERE app.customers.id = %ld",
		key_on("customers", 3, 0));
	expect_one(3);
	plan_of("SELECT * FROM APP.customers");
	cr_assert_eq(plan.kind, PLAN_MULTI, "schema names are caseless");
}

Test(shard_plan, key_equality_goes_to_its_shard_as_written)
{
	for (unsigned sh = 0; sh < 4; sh++) {
		long k = key_on("customers", sh, 0);

		plan_of("SELECT * FROM customers WHERE id = %ld", k);
		expect_one(sh);
		cr_assert(plan.select && !plan.writes);
		plan_of("select name from customers where name = 'x' and "
			"%ld = ID", k);
		expect_one(sh);
		plan_of("SELECT * FROM customers c WHERE c.id = '%ld'", k);
		expect_one(sh);
		plan_of("SELECT * FROM customers WHERE customers.id = %ld "
			"FOR UPDATE", k);
		expect_one(sh);
		plan_of("SELECT * FROM customers WHERE id IN (%ld, %ld)", k,
			key_on("customers", sh, 1));
		expect_one(sh);
	}
	/* range and string keys */
	plan_of("SELECT * FROM events WHERE id = 150");
	expect_one(1);
	plan_of("SELECT * FROM events WHERE id = -7");
	expect_one(0);
	plan_of("SELECT * FROM events WHERE id = 300");
	expect_one(3);
	plan_of("SELECT * FROM users WHERE name = 'Bob'");
	expect_one((unsigned)shard_for_value(&ks, table("users"), "Bob", 3,
					     true));
	/* beyond ASCII: UTF-8 only from a utf8mb4 client */
	plan_of("SELECT * FROM users WHERE name = 'B\xc3\xb6" "b'");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("INSERT INTO users (name) VALUES ('B\xc3\xb6" "b')");
	expect_unsupported("literal value of its key column name");
	ctx.utf8 = true;
	plan_of("SELECT * FROM users WHERE name = 'B\xc3\xb6" "b'");
	expect_one((unsigned)shard_for_value(&ks, table("users"),
					     "B\xc3\xb6" "b", 4, true));
	plan_of("INSERT INTO users (name) VALUES ('B\xc3\xb6" "b')");
	cr_assert_eq(plan.kind, PLAN_ONE);
}

/* The server converts a latin1 literal to the column's character set
 * before comparing: the key is placed as its UTF-8 form would be. */
Test(shard_plan, latin1_string_keys_are_placed_as_their_utf8)
{
	/* "Bjørn Œuvre": ø is 0xF8 in latin1, Œ (0x8C) is cp1252's */
	const char *utf8 = "Bj\xc3\xb8rn \xc5\x92uvre";
	unsigned want = (unsigned)shard_for_value(&ks, table("users"), utf8,
						  strlen(utf8), true);

	ctx.latin1 = true;
	plan_of("SELECT * FROM users WHERE name = 'Bj\xf8rn \x8cuvre'");
	expect_one(want);
	plan_of("INSERT INTO users (name) VALUES ('Bj\xf8rn \x8cuvre')");
	expect_one(want);
	/* a utf8 introducer or N'' from a latin1 client: bytes as UTF-8 */
	plan_of("SELECT * FROM users WHERE name = _utf8mb4'%s'", utf8);
	expect_one(want);
	plan_of("SELECT * FROM users WHERE name = N'%s'", utf8);
	expect_one(want);
	/* _latin1 from a UTF-8 client */
	ctx.latin1 = false;
	ctx.utf8 = true;
	plan_of("SELECT * FROM users WHERE name = _latin1'Bj\xf8rn \x8cuvre'");
	expect_one(want);
	/* the same bytes from a UTF-8 client are not valid UTF-8: the
	 * server would not find the row by them either way; not placed */
	plan_of("SELECT * FROM users WHERE name = 'Bj\xf8rn \x8cuvre'");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	/* other character sets: beyond ASCII scatters, ASCII is placed */
	ctx.utf8 = false;
	plan_of("SELECT * FROM users WHERE name = _cp1250'Bj\xf8rn'");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT * FROM users WHERE name = _cp1250'Bob'");
	expect_one((unsigned)shard_for_value(&ks, table("users"), "Bob", 3,
					     true));
}

Test(shard_plan, keys_that_do_not_narrow_scatter)
{
	static const char *const scatter[] = {
		"SELECT * FROM customers",
		"SELECT * FROM customers WHERE id = 1.5",
		"SELECT * FROM customers WHERE id = 1 OR id = 2",
		"SELECT * FROM customers WHERE NOT id = 1",
		"SELECT * FROM customers WHERE id NOT IN (1)",
		"SELECT * FROM customers WHERE id > 5",
		"SELECT * FROM customers WHERE id = x",
		"SELECT * FROM customers WHERE id IN (1, x)",
		"SELECT * FROM customers c LEFT JOIN orders o ON "
		"c.id = o.customer_id AND o.customer_id = 1",
		"SELECT * FROM users WHERE name = 42",
	};

	for (size_t i = 0; i < sizeof(scatter) / sizeof(*scatter); i++) {
		plan_of("%s", scatter[i]);
		expect_scatter(PLAN_RESULT_ROWS, NULL);
	}
	plan_of("SELECT * FROM customers");
	cr_assert_str_eq(part_sql(0), "SELECT * FROM customers");
	cr_assert_str_eq(part_sql(3), "SELECT * FROM customers");
}

/* WHERE id = a AND id = b with a and b on different shards: no row
 * passes on any shard, so one shard answers (it once was refused as a
 * join across shards). */
Test(shard_plan, contradictory_keys_go_to_one_shard)
{
	long a = key_on("customers", 1, 0), b = key_on("customers", 2, 0);
	long c = key_on("customers", 3, 0);

	plan_of("SELECT * FROM customers WHERE id = %ld AND id = %ld", a, b);
	expect_one(0);
	plan_of("SELECT COUNT(*) FROM customers WHERE id IN (%ld, %ld) AND "
		"id = %ld", a, b, c);
	expect_one(0);
	plan_of("SELECT c.name FROM customers c JOIN orders o ON o.customer_id "
		"= c.id WHERE c.id = %ld AND o.customer_id = %ld", a, b);
	expect_one(0);
	/* an empty subquery does not narrow its statement */
	plan_of("SELECT * FROM customers WHERE n > (SELECT COUNT(*) FROM "
		"orders WHERE customer_id = %ld AND customer_id = %ld)", a, b);
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	/* nor an empty branch of a UNION its other branch */
	plan_of("SELECT name FROM customers WHERE id = %ld UNION SELECT name "
		"FROM customers WHERE id = %ld AND id = %ld", c, a, b);
	expect_one(3);
	/* a write in a transaction: the transaction's shard */
	ctx.in_trans = true;
	ctx.trans_shard = 2;
	plan_of("UPDATE customers SET n = 1 WHERE id = %ld AND id = %ld", a, c);
	expect_one(2);
	ctx.in_trans = false;
	ctx.trans_shard = -1;
	plan_of("DELETE FROM customers WHERE id = %ld AND id = %ld", a, c);
	expect_one(0);
}

Test(shard_plan, in_lists_are_cut_to_each_shards_keys)
{
	long a0 = key_on("customers", 0, 0), b0 = key_on("customers", 0, 1);
	long a2 = key_on("customers", 2, 0), a3 = key_on("customers", 3, 0);
	char want[256];

	plan_of("SELECT id FROM customers WHERE id IN (%ld, %ld, %ld, %ld) "
		"AND name <> 'x'", a2, a0, a3, b0);
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert_eq(plan.nparts, 3);
	cr_assert_eq(plan.parts[0].shard, 0);
	cr_assert_eq(plan.parts[1].shard, 2);
	cr_assert_eq(plan.parts[2].shard, 3);
	snprintf(want, sizeof(want), "SELECT id FROM customers WHERE id IN "
		 "(%ld, %ld) AND name <> 'x'", a0, b0);
	cr_assert_str_eq(part_sql(0), want);
	snprintf(want, sizeof(want), "SELECT id FROM customers WHERE id IN "
		 "(%ld) AND name <> 'x'", a2);
	cr_assert_str_eq(part_sql(1), want);
	snprintf(want, sizeof(want), "SELECT id FROM customers WHERE id IN "
		 "(%ld) AND name <> 'x'", a3);
	cr_assert_str_eq(part_sql(2), want);
	/* range: 5 and 10 on s0, 150 on s1, 250 on s2 */
	plan_of("SELECT * FROM events WHERE id IN (5, 150, 250, 10)");
	cr_assert_eq(plan.nparts, 3);
	cr_assert_str_eq(part_sql(0), "SELECT * FROM events WHERE id IN "
				      "(5, 10)");
	cr_assert_str_eq(part_sql(1), "SELECT * FROM events WHERE id IN "
				      "(150)");
	cr_assert_str_eq(part_sql(2), "SELECT * FROM events WHERE id IN "
				      "(250)");
	/* two restrictions: their intersection */
	plan_of("SELECT * FROM customers WHERE id IN (%ld, %ld) AND "
		"id = %ld", a0, a2, a2);
	expect_one(2);
}

Test(shard_plan, joins_need_co_located_tables)
{
	long k = key_on("customers", 1, 0);

	plan_of("SELECT * FROM customers c JOIN orders o ON c.id = "
		"o.customer_id WHERE c.id = %ld", k);
	expect_one(1);
	plan_of("SELECT * FROM customers c JOIN orders o ON o.customer_id = "
		"c.id WHERE o.customer_id = %ld", k);
	expect_one(1);
	plan_of("SELECT * FROM customers c, orders o WHERE c.id = %ld AND "
		"o.customer_id = %ld", k, k);
	expect_one(1);
	plan_of("SELECT * FROM orders JOIN orders o2 USING (customer_id) "
		"WHERE orders.customer_id = %ld", k);
	expect_one(1);
	plan_of("SELECT * FROM customers c JOIN orders o ON c.id = "
		"o.customer_id");
	expect_scatter(PLAN_RESULT_ROWS, "SELECT * FROM customers AS c JOIN "
			"orders AS o ON c.id = o.customer_id");
	plan_of("SELECT * FROM customers c LEFT JOIN orders o ON c.id = "
		"o.customer_id AND o.status = 1 WHERE c.id IN (%ld, %ld)",
		k, key_on("customers", 3, 0));
	cr_assert_eq(plan.nparts, 2);
	/* not co-located */
	plan_of("SELECT * FROM customers c JOIN orders o ON c.name = o.name");
	expect_unsupported("a join of sharded tables not on their shard keys "
			   "(customers and orders)");
	plan_of("SELECT * FROM customers c JOIN events e ON c.id = e.id");
	expect_unsupported("not on their shard keys");
	plan_of("SELECT * FROM customers c JOIN users u ON c.id = u.name");
	expect_unsupported("not on their shard keys");
	/* co-located, on keys of different shards: no rows, one shard */
	plan_of("SELECT * FROM customers c JOIN orders o ON c.id = "
		"o.customer_id WHERE c.id = %ld AND o.customer_id = %ld", k,
		key_on("customers", 2, 0));
	expect_one(0);
	/* ... unless both sides are on one shard */
	plan_of("SELECT * FROM customers c, orders o WHERE c.id = %ld AND "
		"o.customer_id = %ld", k, key_on("customers", 1, 1));
	expect_one(1);
}

Test(shard_plan, broadcast_and_unsharded_tables)
{
	long k = key_on("customers", 2, 0);

	plan_of("SELECT * FROM countries");
	expect_one(0);
	plan_of("SELECT c.id, k.name FROM customers c JOIN countries k ON "
		"c.cc = k.cc WHERE c.id = %ld", k);
	expect_one(2);
	plan_of("SELECT c.id FROM customers c JOIN countries k ON c.cc = k.cc");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT * FROM settings");
	expect_one(2);
	plan_of("SELECT * FROM settings s JOIN countries k ON 1");
	expect_one(2);
	plan_of("SELECT * FROM customers c JOIN settings s ON 1 WHERE "
		"c.id = %ld", k);
	expect_one(2);
	plan_of("SELECT * FROM customers c JOIN settings s ON 1");
	expect_unsupported("customers joined with a table on another shard");
	plan_of("SELECT * FROM customers c JOIN settings s ON 1 WHERE "
		"c.id = %ld", key_on("customers", 1, 0));
	expect_error("different shards");
	/* not in the map */
	plan_of("SELECT * FROM nope");
	expect_unsupported("table nope is not in the keyspace's map");
	ks.default_shard = 1;
	plan_of("SELECT * FROM nope");
	expect_one(1);
	plan_of("UPDATE nope SET a = 1");
	expect_one(1);
}

Test(shard_plan, subqueries_unions_and_derived_tables)
{
	long k = key_on("orders", 3, 0);

	plan_of("SELECT * FROM customers c WHERE EXISTS (SELECT 1 FROM orders "
		"o WHERE o.customer_id = c.id)");
	expect_scatter(PLAN_RESULT_ROWS, "SELECT * FROM customers AS c WHERE "
			"EXISTS (SELECT 1 FROM orders AS o WHERE o.customer_id "
			"= c.id)");
	plan_of("SELECT * FROM customers WHERE cc IN (SELECT cc FROM "
		"countries)");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	/* a semi-join on co-located keys runs on each shard */
	plan_of("SELECT * FROM customers WHERE id IN (SELECT customer_id FROM "
		"orders WHERE status = 1)");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT * FROM customers c WHERE c.id IN (SELECT o.customer_id "
		"FROM orders o JOIN countries k ON o.cc = k.cc)");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT * FROM customers WHERE id NOT IN (SELECT customer_id "
		"FROM orders)");
	expect_unsupported("a subquery over sharded table orders across "
			   "shards");
	plan_of("SELECT * FROM customers WHERE id IN (SELECT customer_id FROM "
		"orders GROUP BY customer_id HAVING COUNT(*) > 1)");
	expect_unsupported("subquery over sharded table orders");
	plan_of("SELECT * FROM customers WHERE id IN (SELECT id FROM events)");
	expect_unsupported("subquery over sharded table events");
	plan_of("SELECT * FROM customers WHERE name IN (SELECT customer_id "
		"FROM orders)");
	expect_unsupported("a subquery over sharded table orders across "
			   "shards");
	plan_of("SELECT * FROM customers WHERE id = 1 OR id IN (SELECT "
		"customer_id FROM orders)");
	expect_unsupported("a subquery over sharded table orders across "
			   "shards");
	plan_of("SELECT * FROM customers WHERE id = %ld AND x IN (SELECT y "
		"FROM orders WHERE customer_id = %ld)", k, k);
	expect_one(3);
	plan_of("SELECT * FROM customers WHERE id = %ld AND x IN (SELECT y "
		"FROM orders)", k);
	expect_unsupported("subquery over sharded table orders");
	plan_of("SELECT * FROM (SELECT * FROM customers WHERE id = %ld) AS d",
		k);
	expect_one(3);
	plan_of("SELECT * FROM (SELECT COUNT(*) FROM customers) AS d");
	expect_unsupported("a derived table or WITH query over sharded table "
			   "customers across shards is not supported "
			   "(aggregates without GROUP BY on the shard key)");
	plan_of("WITH x AS (SELECT DISTINCT a FROM customers) SELECT * FROM x");
	expect_unsupported("WITH query over sharded table customers across "
			   "shards is not supported (DISTINCT without the "
			   "shard key)");
	plan_of("SELECT id FROM customers WHERE id = %ld UNION ALL SELECT "
		"customer_id FROM orders WHERE customer_id = %ld", k, k);
	expect_one(3);
	plan_of("SELECT cc FROM countries UNION SELECT k FROM settings");
	expect_one(2);
	plan_of("SELECT id FROM customers EXCEPT SELECT id FROM events");
	expect_unsupported("UNION, EXCEPT or INTERSECT");
	/* a WITH's name hides a table in its own query only */
	plan_of("WITH customers AS (SELECT 1 AS id) SELECT * FROM customers");
	cr_assert_eq(plan.kind, PLAN_PASS);
	plan_of("SELECT * FROM (WITH customers AS (SELECT 1 AS x) SELECT * "
		"FROM customers) AS d, customers AS c");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
}

Test(shard_plan, several_statements)
{
	expect_kind("SELECT 1; SET @a = 2; SELECT 3", PLAN_PASS);
	plan_of("SELECT 1; SELECT * FROM customers");
	expect_unsupported("several statements");
	plan_of("SELECT * FROM customers WHERE id = 1; SELECT 1");
	expect_unsupported("several statements");
}

Test(shard_plan, unparsable_text_in_the_keyspace_is_refused)
{
	plan_of("SELECT * FROM customers WHERE");
	expect_error("could not be parsed");
	cr_assert_eq(plan.err_code, 1064);
	plan_of("TRUNCATE TABLE customers");
	expect_unsupported("TRUNCATE");
	plan_of("LOCK TABLES customers READ");
	expect_unsupported("LOCK statements in a sharded keyspace");
	plan_of("SET @n = (SELECT COUNT(*) FROM customers)");
	expect_unsupported("SET with a subquery over keyspace tables");
	ctx.schema = "";
	ctx.schema_len = 0;
	expect_kind("SELEKT 1", PLAN_PASS);
	expect_kind("TRUNCATE TABLE other.t", PLAN_PASS);
	expect_kind("TRUNCATE TABLE application.t", PLAN_PASS);
	plan_of("TRUNCATE TABLE app.customers");
	expect_unsupported("TRUNCATE");
}

Test(shard_plan, sql_mode_decides_how_text_reads)
{
	/* "Bob" is a string by default, a name under ANSI_QUOTES */
	plan_of("SELECT * FROM users WHERE name = \"Bob\"");
	cr_assert_eq(plan.kind, PLAN_ONE);
	ctx.sql_mode = PLAN_MODE_ANSI_QUOTES;
	plan_of("SELECT * FROM users WHERE name = \"Bob\"");
	expect_scatter(PLAN_RESULT_ROWS, "SELECT * FROM users WHERE name = "
			"Bob");
}

/* ---- writes -------------------------------------------------------------- */

Test(shard_plan, inserts_go_to_their_keys_shards)
{
	long a0 = key_on("customers", 0, 0), a1 = key_on("customers", 1, 0);
	long b1 = key_on("customers", 1, 1), a3 = key_on("customers", 3, 0);
	char want[256];

	plan_of("INSERT INTO customers (id, name) VALUES (%ld, 'a')", a1);
	expect_one(1);
	cr_assert(plan.writes && !plan.select);
	plan_of("INSERT INTO customers (name, id) VALUES ('a', %ld), ('b', "
		"%ld)", a1, b1);
	expect_one(1);
	plan_of("INSERT INTO customers SET name = 'x', id = %ld", a3);
	expect_one(3);
	plan_of("INSERT INTO customers (id, n) VALUES (%ld, 1) ON DUPLICATE "
		"KEY UPDATE n = n + 1", a0);
	expect_one(0);
	plan_of("INSERT IGNORE INTO customers (id, name) VALUES (%ld, 'a'), "
		"(%ld, 'b'), (%ld, 'c'), (%ld, 'd')", a1, a0, a3, b1);
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert_eq(plan.result, PLAN_RESULT_OK);
	cr_assert_eq(plan.nparts, 3);
	snprintf(want, sizeof(want), "INSERT IGNORE INTO customers (id, name) "
		 "VALUES (%ld, 'b')", a0);
	cr_assert_str_eq(part_sql(0), want);
	snprintf(want, sizeof(want), "INSERT IGNORE INTO customers (id, name) "
		 "VALUES (%ld, 'a'), (%ld, 'd')", a1, b1);
	cr_assert_str_eq(part_sql(1), want);
	snprintf(want, sizeof(want), "INSERT IGNORE INTO customers (id, name) "
		 "VALUES (%ld, 'c')", a3);
	cr_assert_str_eq(part_sql(2), want);
	plan_of("INSERT INTO settings (k) VALUES ('a'), ('b')");
	expect_one(2);
	plan_of("INSERT INTO settings (k) SELECT cc FROM countries");
	expect_one(2);
	plan_of("REPLACE INTO events (id) VALUES (1), (101), (201), (301)");
	cr_assert_eq(plan.nparts, 4);
	cr_assert_str_eq(part_sql(3), "REPLACE INTO events (id) VALUES (301)");
}

/* mysqldump's extended INSERTs: thousands of rows are rows, not
 * subqueries (each row once took a planner scope, and 128 was the cap). */
Test(shard_plan, bulk_insert_of_5000_rows_plans)
{
	enum { ROWS = 5000 };
	size_t cap = (size_t)ROWS * 32 + 64, n = 0;
	char *sql = malloc(cap);
	unsigned rows = 0;

	cr_assert(sql);
	n += (size_t)snprintf(sql + n, cap - n,
			      "INSERT INTO customers (id, name) VALUES ");
	for (int i = 1; i <= ROWS; i++)
		n += (size_t)snprintf(sql + n, cap - n, "%s(%d, 'n%d')",
				      i > 1 ? ", " : "", i, i);
	sql_arena_reset(&arena);
	cr_assert_eq(shard_plan(&arena, &ctx, sql, n, &plan), 0);
	cr_assert_eq(plan.kind, PLAN_MULTI, "kind %d: %s", plan.kind,
		     plan.err);
	cr_assert_eq(plan.result, PLAN_RESULT_OK);
	cr_assert_eq(plan.nparts, 4);
	/* every row goes to exactly one shard */
	for (unsigned i = 0; i < plan.nparts; i++) {
		const char *q = plan.parts[i].sql, *end = q + plan.parts[i].len;

		cr_assert(!strncmp(q, "INSERT INTO customers (id, name) VALUES (",
				   41), "%.80s", q);
		for (const char *c = q; c + 1 < end; c++)
			rows += c[0] == '\'' && c[1] == 'n';
	}
	cr_assert_eq(rows, ROWS);
	free(sql);
}

Test(shard_plan, inserts_that_cannot_be_placed_are_refused)
{
	plan_of("INSERT INTO customers (name) VALUES ('a')");
	expect_unsupported("INSERT into sharded table customers needs its key "
			   "column id");
	plan_of("INSERT INTO customers VALUES (1, 'a')");
	expect_unsupported("needs its key column id");
	plan_of("INSERT INTO customers (id) VALUES (1), (1 + 1)");
	expect_unsupported("literal value of its key column id");
	plan_of("INSERT INTO customers (id) VALUES (NULL)");
	expect_unsupported("literal value");
	plan_of("INSERT INTO customers (id, n) VALUES (1, 1) ON DUPLICATE KEY "
		"UPDATE id = 2");
	expect_unsupported("changes the shard key id");
	plan_of("INSERT INTO customers (id) SELECT customer_id FROM orders");
	expect_unsupported("INSERT ... SELECT into sharded table customers");
	plan_of("INSERT INTO settings (k) SELECT id FROM customers");
	expect_unsupported("across shards");
	/* A broadcast table: every shard, the same text, one answer. */
	plan_of("INSERT INTO countries (cc) VALUES ('fr')");
	expect_scatter(PLAN_RESULT_OK, "INSERT INTO countries (cc) VALUES "
		       "('fr')");
	cr_assert(plan.copies && plan.writes);
	plan_of("INSERT INTO countries (cc) SELECT id FROM customers");
	expect_unsupported("broadcast table countries that reads other "
			   "tables");
}

Test(shard_plan, updates_and_deletes)
{
	long k = key_on("customers", 2, 0), j = key_on("customers", 0, 0);
	char want[256];

	plan_of("UPDATE customers SET name = 'x' WHERE id = %ld", k);
	expect_one(2);
	cr_assert(plan.writes);
	plan_of("DELETE FROM customers WHERE id = %ld", k);
	expect_one(2);
	plan_of("UPDATE customers SET name = 'x' WHERE id = %ld ORDER BY id "
		"LIMIT 1", k);
	expect_one(2);
	plan_of("UPDATE customers SET n = n + 1");
	expect_scatter(PLAN_RESULT_OK, "UPDATE customers SET n = n + 1");
	cr_assert_null(plan.merge);
	plan_of("DELETE FROM customers WHERE name = 'x'");
	expect_scatter(PLAN_RESULT_OK, "DELETE FROM customers WHERE name = "
			"'x'");
	plan_of("DELETE FROM customers WHERE id IN (%ld, %ld)", j, k);
	cr_assert_eq(plan.nparts, 2);
	snprintf(want, sizeof(want), "DELETE FROM customers WHERE id IN "
		 "(%ld)", k);
	cr_assert_str_eq(part_sql(1), want);
	plan_of("UPDATE customers c JOIN orders o ON c.id = o.customer_id SET "
		"o.n = 1 WHERE c.id = %ld", k);
	expect_one(2);
	plan_of("DELETE FROM settings");
	expect_one(2);
	/* refused */
	plan_of("UPDATE customers SET id = 7 WHERE id = %ld", k);
	expect_unsupported("changes the shard key id of table customers, "
			   "which would move the row to another shard");
	plan_of("UPDATE customers c SET c.id = 7");
	expect_unsupported("changes the shard key");
	plan_of("UPDATE customers SET name = 'x' ORDER BY id LIMIT 1");
	expect_unsupported("UPDATE with ORDER BY or LIMIT across shards");
	plan_of("DELETE FROM customers LIMIT 5");
	expect_unsupported("DELETE with ORDER BY or LIMIT across shards");
	plan_of("UPDATE customers c JOIN orders o ON c.id = o.customer_id SET "
		"o.n = 1");
	expect_unsupported("multi-table UPDATE across shards");
	plan_of("UPDATE countries SET name = 'x'");
	expect_scatter(PLAN_RESULT_OK, "UPDATE countries SET name = 'x'");
	cr_assert(plan.copies);
	plan_of("DELETE FROM countries WHERE cc = 'x'");
	expect_scatter(PLAN_RESULT_OK, "DELETE FROM countries WHERE cc = "
		       "'x'");
	cr_assert(plan.copies);
	plan_of("UPDATE customers c JOIN countries k ON c.cc = k.cc SET "
		"k.name = 'x' WHERE c.id = %ld", k);
	expect_unsupported("broadcast table countries that reads other "
			   "tables");
	plan_of("UPDATE customers c JOIN countries k ON c.cc = k.cc SET "
		"c.name = k.name WHERE c.id = %ld", k);
	expect_one(2);
}

Test(shard_plan, writes_in_a_transaction_go_where_they_write)
{
	long k0 = key_on("customers", 0, 0), k1 = key_on("customers", 1, 0);

	ctx.in_trans = true;
	ctx.trans_shard = -1;
	plan_of("UPDATE customers SET n = 1 WHERE id = %ld", k1);
	expect_one(1);
	/* No shard yet: the statement's first shard becomes the
	 * transaction's (session_shard.c). */
	plan_of("UPDATE customers SET n = 1");
	expect_scatter(PLAN_RESULT_OK, NULL);
	plan_of("UPDATE customers SET n = 1 WHERE id IN (%ld, %ld)", k0, k1);
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert_eq(plan.nparts, 2);
	ctx.trans_shard = 1;
	plan_of("INSERT INTO customers (id) VALUES (%ld)", k1);
	expect_one(1);
	/* Another shard: planned there (it joins the transaction as an XA
	 * branch, session_xa.h). */
	plan_of("INSERT INTO customers (id) VALUES (%ld)", k0);
	expect_one(0);
	/* Several shards: they join it too (session_shard.c). */
	plan_of("UPDATE customers SET n = 1");
	expect_scatter(PLAN_RESULT_OK, NULL);
	plan_of("INSERT INTO customers (id) VALUES (%ld), (%ld)", k0, k1);
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert_eq(plan.nparts, 2);
	/* reads are not writes */
	plan_of("SELECT * FROM customers WHERE id = %ld", k0);
	expect_one(0);
	ctx.in_trans = false;
	plan_of("UPDATE customers SET n = 1");
	expect_scatter(PLAN_RESULT_OK, NULL);
}

/* ---- EXPLAIN ------------------------------------------------------------- */

Test(shard_plan, explain_shards_answers_the_plan)
{
	long k = key_on("customers", 1, 0);
	char want[128];

	plan_of("EXPLAIN SHARDS SELECT * FROM customers WHERE id = %ld", k);
	cr_assert_eq(plan.kind, PLAN_ANSWER, "%s", plan.err);
	cr_assert_eq(plan.ncols, 3);
	cr_assert_str_eq(plan.cols[0], "shard");
	cr_assert_str_eq(plan.cols[1], "query");
	cr_assert_str_eq(plan.cols[2], "merge");
	cr_assert_eq(plan.nrows, 1);
	cr_assert_str_eq(plan.cells[0], "s1");
	snprintf(want, sizeof(want), "SELECT * FROM customers WHERE id = %ld",
		 k);
	cr_assert_str_eq(plan.cells[1], want);
	cr_assert(strstr(plan.cells[2], "one shard"));
	plan_of("EXPLAIN SHARDS SELECT g, AVG(x) FROM customers GROUP BY g "
		"ORDER BY g DESC LIMIT 3");
	cr_assert_eq(plan.kind, PLAN_ANSWER);
	cr_assert_eq(plan.nrows, 4);
	for (unsigned r = 0; r < 4; r++) {
		cr_assert_str_eq(plan.cells[3 * r + 1],
				 "SELECT g, AVG(x), SUM(x) AS myring_h0, "
				 "COUNT(x) AS myring_h1 FROM customers GROUP "
				 "BY 1 ORDER BY 1 DESC LIMIT 3");
		cr_assert_str_eq(plan.cells[3 * r + 2],
				 "GROUP BY merged on 1 key, AVG from SUM and "
				 "COUNT, LIMIT 3 (shards: LIMIT offset+limit)");
	}
	cr_assert_str_eq(plan.cells[9], "s3");
	plan_of("EXPLAIN SHARDS UPDATE customers SET n = 1");
	cr_assert_eq(plan.nrows, 4);
	cr_assert_str_eq(plan.cells[2], "affected rows summed");
	plan_of("EXPLAIN SHARDS SELECT 1");
	cr_assert_eq(plan.kind, PLAN_ANSWER);
	cr_assert_eq(plan.nrows, 1);
	cr_assert_str_eq(plan.cells[1], "SELECT 1");
	/* a refused statement's EXPLAIN SHARDS is its refusal */
	plan_of("EXPLAIN SHARDS UPDATE customers SET id = 1");
	expect_unsupported("changes the shard key");
	/* plain EXPLAIN: the first shard's plan, as written */
	plan_of("EXPLAIN SELECT * FROM customers");
	expect_one(0);
	cr_assert(!plan.writes);
	plan_of("EXPLAIN DELETE FROM customers WHERE id = %ld", k);
	expect_one(1);
	cr_assert(!plan.writes);
	/* shard_plan_describe: the same, as lines */
	{
		struct sql_buf b = { 0 };

		plan_of("SELECT COUNT(*) FROM customers");
		shard_plan_describe(&plan, &ks, &b);
		sql_buf_putc(&b, '\0');
		cr_assert(strstr(b.buf, "shard s0: SELECT COUNT(*) FROM "
					"customers\n"));
		cr_assert(strstr(b.buf, "shard s3: "));
		cr_assert(strstr(b.buf, "merge: aggregates merged\n"));
		sql_buf_free(&b);
	}
}

/* ---- scatter SELECT rewrites --------------------------------------------- */

static void expect_rewrite(const char *sql, const char *shard_sql,
			   const char *merge)
{
	plan_of("%s", sql);
	expect_scatter(PLAN_RESULT_ROWS, shard_sql);
	if (merge) {
		struct sql_buf b = { 0 };

		shard_plan_describe(&plan, &ks, &b);
		sql_buf_putc(&b, '\0');
		cr_assert(strstr(b.buf, merge), "%s: '%s' lacks '%s'", sql,
			  b.buf, merge);
		sql_buf_free(&b);
	}
}

Test(shard_plan, scatter_selects_are_rewritten_for_their_merge)
{
	expect_rewrite("SELECT a, b FROM customers ORDER BY b DESC, a LIMIT "
		       "10 OFFSET 5",
		       "SELECT a, b FROM customers ORDER BY b DESC, a LIMIT 15",
		       "k-way merge on 2 keys, OFFSET 5, LIMIT 10");
	expect_rewrite("SELECT a, b FROM customers LIMIT 5, 10",
		       "SELECT a, b FROM customers LIMIT 15", "concatenated");
	expect_rewrite("SELECT a FROM customers ORDER BY b",
		       "SELECT a, b AS myring_h0 FROM customers ORDER BY b",
		       "k-way merge on 1 key");
	expect_rewrite("SELECT count(*), SUM(x), MIN(y), MAX(z), AVG(x) FROM "
		       "customers",
		       "SELECT count(*), SUM(x), MIN(y), MAX(z), AVG(x), "
		       "SUM(x) AS myring_h0, COUNT(x) AS myring_h1 FROM "
		       "customers", "aggregates merged, AVG from SUM and COUNT");
	expect_rewrite("SELECT g, COUNT(*) AS n FROM customers GROUP BY g",
		       "SELECT g, COUNT(*) AS n FROM customers GROUP BY 1 "
		       "ORDER BY 1", "GROUP BY merged on 1 key");
	expect_rewrite("SELECT COUNT(*) FROM customers GROUP BY g, h ORDER BY "
		       "h DESC",
		       "SELECT COUNT(*), h AS myring_h0, g AS myring_h1 FROM "
		       "customers GROUP BY 2, 3 ORDER BY 2 DESC, 3", NULL);
	expect_rewrite("SELECT g, COUNT(*) AS n FROM customers GROUP BY g "
		       "HAVING n > 1 ORDER BY n DESC LIMIT 5",
		       "SELECT g, COUNT(*) AS n FROM customers GROUP BY 1 "
		       "ORDER BY 1", "HAVING after the merge, projected, sorted "
		       "on 1 column after the merge, LIMIT 5");
	expect_rewrite("SELECT g, SUM(x)+1 FROM customers GROUP BY g HAVING "
		       "COUNT(*) > 2",
		       "SELECT g, SUM(x) + 1 AS `SUM(x)+1`, SUM(x) AS "
		       "myring_h0, COUNT(*) AS myring_h1 FROM customers GROUP "
		       "BY 1 ORDER BY 1", NULL);
	expect_rewrite("SELECT COUNT(DISTINCT x) FROM customers",
		       "SELECT COUNT(DISTINCT x), x AS myring_h0 FROM "
		       "customers GROUP BY 2 ORDER BY 2", "1 DISTINCT argument");
	expect_rewrite("SELECT g, COUNT(DISTINCT x), SUM(y) FROM customers "
		       "GROUP BY g LIMIT 3",
		       "SELECT g, COUNT(DISTINCT x), SUM(y), x AS myring_h0 "
		       "FROM customers GROUP BY 1, 4 ORDER BY 1, 4", "LIMIT 3");
	expect_rewrite("SELECT DISTINCT a, b FROM customers ORDER BY b LIMIT 4",
		       "SELECT DISTINCT a, b FROM customers ORDER BY 2, 1 "
		       "LIMIT 4", "GROUP BY merged on 2 keys");
	expect_rewrite("SELECT COUNT(*) FROM customers ORDER BY 1 LIMIT 1",
		       "SELECT COUNT(*) FROM customers", "LIMIT 1");
	expect_rewrite("SELECT g, COUNT(*) FROM customers GROUP BY g ORDER BY "
		       "NULL", "SELECT g, COUNT(*) FROM customers GROUP BY 1 "
		       "ORDER BY 1", NULL);
}

Test(shard_plan, scatter_selects_myring_cannot_merge_are_refused)
{
	static const struct {
		const char *sql, *why;
	} refused[] = {
		{ "SELECT GROUP_CONCAT(a) FROM customers", "GROUP_CONCAT" },
		/* the merge needs streams sorted on every column */
		{ "SELECT DISTINCT * FROM customers", "SELECT DISTINCT *" },
		{ "SELECT STDDEV(a) FROM customers GROUP BY g", "STDDEV" },
		{ "SELECT g FROM customers GROUP BY g ORDER BY COUNT(*) DESC",
		  "ORDER BY COUNT(*) (not a column of the select list)" },
		{ "SELECT SUM(x) << 1 FROM customers",
		  "the expression SUM(x) << 1 over aggregates" },
		{ "SELECT g FROM customers GROUP BY g HAVING AVG(x) LIKE '1%'",
		  "HAVING with" },
		{ "SELECT g FROM customers GROUP BY g HAVING COUNT(*) IN "
		  "(SELECT 1)", "HAVING with" },
		{ "SELECT COUNT(DISTINCT x), COUNT(DISTINCT y) FROM customers",
		  "different DISTINCT arguments" },
		{ "SELECT * FROM customers GROUP BY g", "SELECT *" },
		{ "SELECT DISTINCT g, COUNT(*) FROM customers GROUP BY g",
		  "SELECT DISTINCT with GROUP BY" },
		{ "SELECT DISTINCT a FROM customers ORDER BY b",
		  "SELECT DISTINCT ... ORDER BY b" },
		{ "SELECT 1 FROM customers HAVING 1", "HAVING without" },
		{ "SELECT SQL_CALC_FOUND_ROWS * FROM customers",
		  "SQL_CALC_FOUND_ROWS" },
		{ "SELECT *, x FROM customers ORDER BY 2", "position" },
	};

	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		plan_of("%s", refused[i].sql);
		expect_unsupported(refused[i].why);
	}
}

/* ---- merges, end to end -------------------------------------------------- */

struct sink {
	char rows[64][8][64];
	unsigned n, ncols;
};

static int collect(void *c, const uint8_t *p, size_t len)
{
	struct sink *s = c;
	struct rs_cell cells[8];

	cr_assert_lt(s->n, 64);
	cr_assert_eq(rs_parse_text_row(p, len, s->ncols, cells), 0);
	for (unsigned i = 0; i < s->ncols; i++)
		snprintf(s->rows[s->n][i], 64, "%.*s", (int)cells[i].len,
			 cells[i].null ? "NULL" : (const char *)cells[i].p);
	for (unsigned i = 0; i < s->ncols; i++)
		if (cells[i].null)
			strcpy(s->rows[s->n][i], "NULL");
	s->n++;
	return 0;
}

static struct rs_coldef col(const char *name, uint8_t type, uint16_t charset,
			    uint8_t decimals)
{
	return (struct rs_coldef){
		.catalog = { "def", 3 }, .name = { name, strlen(name) },
		.charset = charset, .type = type, .decimals = decimals,
		.length = 20,
	};
}

#define INTCOL(n)    col(n, RS_TYPE_LONGLONG, 63, 0)
#define STRCOL(n)    col(n, RS_TYPE_VAR_STRING, COLL_UTF8MB4_GENERAL_CI, 0)
#define DECCOL(n, d) col(n, RS_TYPE_NEWDECIMAL, 63, d)

/* One text row from shard s: n cells, NULL for SQL NULL. */
static int feed(struct merge *m, unsigned s, unsigned n, ...)
{
	struct rs_cell cells[8];
	uint8_t buf[512];
	va_list ap;

	va_start(ap, n);
	for (unsigned i = 0; i < n; i++) {
		const char *v = va_arg(ap, const char *);

		cells[i] = (struct rs_cell){ (const uint8_t *)v,
					     v ? (uint32_t)strlen(v) : 0,
					     v == NULL };
	}
	va_end(ap);
	cr_assert_leq(rs_text_row_size(cells, n), sizeof(buf));
	return merge_row(m, s, buf, rs_build_text_row(buf, cells, n));
}

static struct merge *start(const struct rs_coldef *cols, unsigned ncols,
			   struct sink *sink, unsigned nout)
{
	struct merge_spec spec;
	struct merge *m;
	char err[256];

	cr_assert_eq(plan.kind, PLAN_MULTI, "%s: %s", text, plan.err);
	cr_assert_eq(shard_plan_merge_spec(&plan, &arena, cols, ncols,
					   RS_TEXT, RS_TEXT, &spec, err,
					   sizeof(err)), 0, "%s", err);
	cr_assert_eq(spec.nstreams, plan.nparts);
	spec.emit = collect;
	spec.emit_ctx = sink;
	memset(sink, 0, sizeof(*sink));
	sink->ncols = nout;
	m = merge_new(&spec, err, sizeof(err));
	cr_assert_not_null(m, "%s: %s", text, err);
	return m;
}

static void end_all(struct merge *m, int want_last)
{
	int r = 0;

	for (unsigned s = 0; s < plan.nparts; s++)
		r = merge_end(m, s);
	cr_assert_eq(r, want_last, "%s: %s", text,
		     r == MERGE_ERROR ? merge_error(m) : "");
}

static void expect_row(const struct sink *s, unsigned r, ...)
{
	va_list ap;

	cr_assert_lt(r, s->n, "%s: row %u of %u", text, r, s->n);
	va_start(ap, r);
	for (unsigned i = 0; i < s->ncols; i++)
		cr_assert_str_eq(s->rows[r][i], va_arg(ap, const char *),
				 "%s: row %u column %u", text, r, i);
	va_end(ap);
}

/*
 * GROUP BY with HAVING on an alias, AVG, ORDER BY an aggregate, LIMIT.
 * The rows (g, x): s0 (a,1) (a,2) (b,5); s1 (A,10) (c,NULL); s2 (b,7)
 * (b,NULL); s3 none.  One server: a: n 3, AVG 4.3333; b: n 3, AVG 6.0000;
 * c: n 1 (HAVING drops it); ORDER BY n DESC keeps a before b.
 */
Test(shard_plan, merge_group_by_having_avg_order_limit)
{
	struct rs_coldef cols[5] = {
		STRCOL("g"), INTCOL("n"), DECCOL("AVG(x)", 4),
		DECCOL("myring_h0", 0), INTCOL("myring_h1"),
	};
	struct sink sink;
	struct merge *m;
	const struct rs_coldef *out;
	unsigned nout;

	plan_of("SELECT g, COUNT(*) AS n, AVG(x) FROM customers GROUP BY g "
		"HAVING n > 1 ORDER BY n DESC LIMIT 2");
	cr_assert_str_eq(part_sql(0), "SELECT g, COUNT(*) AS n, AVG(x), "
				      "SUM(x) AS myring_h0, COUNT(x) AS "
				      "myring_h1 FROM customers GROUP BY 1 "
				      "ORDER BY 1");
	m = start(cols, 5, &sink, 3);
	out = merge_columns(m, &nout);
	cr_assert_eq(nout, 3);
	cr_assert_eq(out[2].type, RS_TYPE_NEWDECIMAL);
	cr_assert_eq(out[2].name.len, 6);
	feed(m, 0, 5, "a", "2", "1.5000", "3", "2");
	feed(m, 0, 5, "b", "1", "5.0000", "5", "1");
	feed(m, 1, 5, "A", "1", "10.0000", "10", "1");
	feed(m, 1, 5, "c", "1", NULL, NULL, "0");
	feed(m, 2, 5, "b", "2", "7.0000", "7", "1");
	end_all(m, MERGE_DONE);
	cr_assert_eq(sink.n, 2);
	expect_row(&sink, 0, "a", "3", "4.3333");
	expect_row(&sink, 1, "b", "3", "6.0000");
	merge_free(m);
}

/* ORDER BY a column not selected: a hidden one, left out; OFFSET. */
Test(shard_plan, merge_order_by_hidden_column_offset_limit)
{
	struct rs_coldef cols[2] = { INTCOL("a"), INTCOL("myring_h0") };
	struct sink sink;
	struct merge *m;

	plan_of("SELECT a FROM customers ORDER BY b DESC LIMIT 2 OFFSET 1");
	cr_assert_str_eq(part_sql(2), "SELECT a, b AS myring_h0 FROM customers "
				      "ORDER BY b DESC LIMIT 3");
	m = start(cols, 2, &sink, 1);
	feed(m, 0, 2, "10", "9");
	feed(m, 0, 2, "11", "3");
	feed(m, 1, 2, "20", "7");
	feed(m, 2, 2, "30", "8");
	feed(m, 2, 2, "31", "1");
	feed(m, 3, 2, "40", "2");
	end_all(m, MERGE_DONE);
	/* b: 9 8 7 3 2 1 -> skip 9, then 8 and 7 */
	cr_assert_eq(sink.n, 2);
	expect_row(&sink, 0, "30");
	expect_row(&sink, 1, "20");
	merge_free(m);
}

/* COUNT(DISTINCT x) and SUM(DISTINCT x): a value counts once whichever
 * shards hold it; NULL not at all. */
Test(shard_plan, merge_distinct_aggregates)
{
	struct rs_coldef cols[3] = {
		INTCOL("COUNT(DISTINCT x)"), DECCOL("SUM(DISTINCT x)", 0),
		INTCOL("myring_h0"),
	};
	struct sink sink;
	struct merge *m;

	plan_of("SELECT COUNT(DISTINCT x), SUM(DISTINCT x) FROM customers");
	cr_assert_str_eq(part_sql(0), "SELECT COUNT(DISTINCT x), SUM(DISTINCT "
				      "x), x AS myring_h0 FROM customers GROUP "
				      "BY 3 ORDER BY 3");
	m = start(cols, 3, &sink, 2);
	feed(m, 0, 3, "0", NULL, NULL);
	feed(m, 0, 3, "1", "1", "1");
	feed(m, 0, 3, "1", "2", "2");
	feed(m, 1, 3, "1", "2", "2");
	feed(m, 1, 3, "1", "5", "5");
	feed(m, 3, 3, "1", "1", "1");
	end_all(m, MERGE_DONE);
	cr_assert_eq(sink.n, 1);
	expect_row(&sink, 0, "3", "8");
	merge_free(m);
}

/* Expressions over aggregates, computed on the merged row. */
Test(shard_plan, merge_expressions_over_aggregates)
{
	struct rs_coldef cols[7] = {
		STRCOL("g"), DECCOL("SUM(x) + 1", 0), INTCOL("COUNT(*) * 2"),
		INTCOL("MAX(x) IS NULL"), DECCOL("myring_h0", 0),
		INTCOL("myring_h1"), INTCOL("myring_h2"),
	};
	struct sink sink;
	struct merge *m;

	plan_of("SELECT g, SUM(x) + 1, COUNT(*) * 2, MAX(x) IS NULL FROM "
		"customers GROUP BY g");
	cr_assert_str_eq(part_sql(0), "SELECT g, SUM(x) + 1, COUNT(*) * 2, "
				      "MAX(x) IS NULL, SUM(x) AS myring_h0, "
				      "COUNT(*) AS myring_h1, MAX(x) AS "
				      "myring_h2 FROM customers GROUP BY 1 "
				      "ORDER BY 1");
	m = start(cols, 7, &sink, 4);
	feed(m, 0, 7, "a", "4", "4", "0", "3", "2", "2");
	feed(m, 1, 7, "a", "-9", "2", "0", "-10", "1", "-10");
	feed(m, 1, 7, "b", NULL, "2", "1", NULL, "1", NULL);
	end_all(m, MERGE_DONE);
	cr_assert_eq(sink.n, 2);
	expect_row(&sink, 0, "a", "-6", "6", "0");
	expect_row(&sink, 1, "b", "NULL", "2", "1");
	merge_free(m);
}

/*
 * `/`, DIV and MOD over aggregates as the server computes them: SUM(x) /
 * COUNT(*) of a DECIMAL(10,2) is a DECIMAL at scale 2 + 4, rounded half
 * away from zero; a zero divisor gives NULL.  HAVING with BETWEEN and IN.
 * Groups: a: x 1.00, 2.00, 2.00 (3 rows); b: 5.50 (1 row); c: -1.00,
 * 0.00 (2 rows, SUM % 2 negative); d: 4 rows of 0.00 (NOT IN drops it).
 */
Test(shard_plan, merge_division_between_and_in)
{
	struct rs_coldef cols[6] = {
		STRCOL("g"), DECCOL("SUM(x) / COUNT(*)", 6),
		INTCOL("COUNT(*) DIV 2"), DECCOL("SUM(x) % 2", 2),
		DECCOL("myring_h0", 2), INTCOL("myring_h1"),
	};
	struct sink sink;
	struct merge *m;

	plan_of("SELECT g, SUM(x) / COUNT(*), COUNT(*) DIV 2, SUM(x) %% 2 FROM "
		"customers GROUP BY g HAVING COUNT(*) NOT BETWEEN 5 AND 9 AND "
		"COUNT(*) NOT IN (4, 7) AND 1 / (COUNT(*) - 1) IS NOT NULL");
	cr_assert_str_eq(part_sql(0), "SELECT g, SUM(x) / COUNT(*), COUNT(*) DIV "
				      "2, SUM(x) % 2, SUM(x) AS myring_h0, "
				      "COUNT(*) AS myring_h1 FROM customers "
				      "GROUP BY 1 ORDER BY 1");
	m = start(cols, 6, &sink, 4);
	feed(m, 0, 6, "a", "1.500000", "1", "1.00", "3.00", "2");
	feed(m, 1, 6, "a", "2.000000", "0", "0.00", "2.00", "1");
	feed(m, 1, 6, "b", "5.500000", "0", "1.50", "5.50", "1");
	feed(m, 2, 6, "b", NULL, "0", NULL, NULL, "0");
	feed(m, 2, 6, "c", "-0.500000", "1", "-1.00", "-1.00", "2");
	feed(m, 3, 6, "d", "0.000000", "2", "0.00", "0.00", "4");
	end_all(m, MERGE_DONE);
	/* b: 1 / (1 - 1) is NULL, so HAVING drops it */
	cr_assert_eq(sink.n, 2);
	expect_row(&sink, 0, "a", "1.666667", "1", "1.00");
	expect_row(&sink, 1, "c", "-0.500000", "1", "-1.00");
	merge_free(m);
	/* a zero divisor in a select item: NULL */
	plan_of("SELECT SUM(x) / (COUNT(*) - 1), COUNT(*) BETWEEN 1 AND NULL, "
		"COUNT(*) IN (1, NULL) FROM customers");
	{
		struct rs_coldef c2[5] = {
			DECCOL("SUM(x) / (COUNT(*) - 1)", 6),
			INTCOL("b"), INTCOL("i"), DECCOL("myring_h0", 2),
			INTCOL("myring_h1"),
		};

		m = start(c2, 5, &sink, 3);
		feed(m, 0, 5, "5.00", "1", "1", "5.00", "1");
		end_all(m, MERGE_DONE);
		cr_assert_eq(sink.n, 1);
		expect_row(&sink, 0, "NULL", "NULL", "1");
		merge_free(m);
	}
}

/* SELECT DISTINCT: one row per tuple, in ORDER BY's order. */
Test(shard_plan, merge_select_distinct)
{
	struct rs_coldef cols[2] = { STRCOL("a"), INTCOL("b") };
	struct sink sink;
	struct merge *m;

	plan_of("SELECT DISTINCT a, b FROM customers ORDER BY b DESC");
	cr_assert_str_eq(part_sql(0), "SELECT DISTINCT a, b FROM customers "
				      "ORDER BY 2 DESC, 1");
	m = start(cols, 2, &sink, 2);
	feed(m, 0, 2, "x", "2");
	feed(m, 0, 2, "y", "1");
	feed(m, 1, 2, "X", "2");
	feed(m, 1, 2, "y", "1");
	feed(m, 2, 2, "z", "1");
	end_all(m, MERGE_DONE);
	cr_assert_eq(sink.n, 3);
	cr_assert_str_eq(sink.rows[0][1], "2");
	cr_assert_str_eq(sink.rows[1][0], "y");
	cr_assert_str_eq(sink.rows[2][0], "z");
	merge_free(m);
}

/* What the evaluator cannot compute exactly fails the query by name. */
Test(shard_plan, merge_refuses_what_it_cannot_evaluate)
{
	struct rs_coldef cols[2] = { STRCOL("g"), INTCOL("COUNT(*)") };
	struct sink sink;
	struct merge *m;
	char err[128];
	struct merge_spec spec;

	plan_of("SELECT g, COUNT(*) FROM customers GROUP BY g HAVING g > 'b'");
	m = start(cols, 2, &sink, 2);
	feed(m, 0, 2, "c", "1");
	end_all(m, MERGE_ERROR);
	cr_assert(strstr(merge_error(m), "myring: comparing strings"),
		  "%s", merge_error(m));
	merge_free(m);
	/* shards that answer with other columns than planned */
	cr_assert_eq(shard_plan_merge_spec(&plan, &arena, cols, 1, RS_TEXT,
					   RS_TEXT, &spec, err, sizeof(err)),
		     -1);
	cr_assert(strstr(err, "myring: "));
}

/* Text from the shards, binary to the client (a prepared statement's
 * answer): the merge re-encodes with the shards' column definitions. */
static int collect_binary(void *c, const uint8_t *p, size_t len)
{
	uint8_t (*rows)[16] = c;
	unsigned i = 0;

	while (rows[i][15])
		i++;
	cr_assert_lt(i, 4);
	cr_assert_eq(len, 10, "0x00, a one-byte NULL bitmap, 8 bytes");
	memcpy(rows[i], p, len);
	rows[i][15] = 1;
	return 0;
}

Test(shard_plan, merge_to_the_binary_protocol)
{
	struct rs_coldef cols[2] = { INTCOL("a"), INTCOL("myring_h0") };
	uint8_t rows[4][16] = { { 0 } };
	struct merge_spec spec;
	struct merge *m;
	char err[256];

	plan_of("SELECT a FROM customers ORDER BY b LIMIT 2");
	cr_assert_eq(shard_plan_merge_spec(&plan, &arena, cols, 2, RS_TEXT,
					   RS_BINARY, &spec, err, sizeof(err)),
		     0, "%s", err);
	spec.emit = collect_binary;
	spec.emit_ctx = rows;
	m = merge_new(&spec, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	feed(m, 0, 2, "-1", "5");
	feed(m, 1, 2, "300", "2");
	feed(m, 2, 2, "7", "9");
	end_all(m, MERGE_DONE);
	cr_assert_eq(rows[0][0], 0);
	cr_assert_eq(rows[0][2] | rows[0][3] << 8, 300);
	cr_assert_eq(rows[1][2], 0xFF, "-1");
	cr_assert_eq(rows[1][9], 0xFF);
	cr_assert_eq(rows[2][15], 0, "LIMIT 2");
	merge_free(m);
}

/* A prepared statement's execution: key = ? placed by the value it binds,
 * as a literal would be; an unknown or NULL value places nothing. */
Test(shard_plan, parameters_of_an_execution_place_the_key)
{
	char v[24];
	long k = key_on("customers", 3, 0);
	struct plan_param p[2];
	int n = snprintf(v, sizeof(v), "%ld", k);

	p[0] = (struct plan_param){v, (size_t)n, false, true};
	p[1] = (struct plan_param){"x", 1, true, true};
	ctx.params = p;
	ctx.nparams = 2;
	plan_of("SELECT name FROM customers WHERE id = ? AND name <> ?");
	expect_one(3);
	/* The same value as a string, as a driver may bind it. */
	p[0].is_string = true;
	plan_of("SELECT name FROM customers WHERE id = ?");
	expect_one(3);
	/* An INSERT's key from its parameter. */
	plan_of("INSERT INTO orders (id, customer_id) VALUES (?, ?)");
	cr_assert_neq(plan.kind, PLAN_ONE, "customer_id = 'x' places nothing");
	p[1] = p[0];
	plan_of("INSERT INTO orders (id, customer_id) VALUES (?, ?)");
	expect_one(3);
	/* Not known (NULL, a date): the statement needs every shard. */
	p[0].known = false;
	plan_of("SELECT name FROM customers WHERE id = ?");
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert_eq(plan.nparts, 4);
	/* Without parameters (text): ? places nothing either. */
	ctx.params = NULL;
	ctx.nparams = 0;
	plan_of("SELECT name FROM customers WHERE id = ?");
	cr_assert_eq(plan.kind, PLAN_MULTI);
}

/* An execution over several shards: its values are written into each
 * shard's text (stmt_bind.h), where a literal means what the marker did. */
Test(shard_plan, execution_values_are_written_into_the_shards_texts)
{
	struct sql_bind b[3] = {
		{ SQL_LIT_INT, 0, { "10", 2 }, { 0 } },
		{ SQL_LIT_STRING, 0, { "it's", 4 }, { 0 } },
		{ SQL_LIT_INT, 0, { "5", 1 }, { 0 } },
	};

	ctx.bind = b;
	ctx.nbind = 3;
	plan_of("SELECT name, COUNT(*) FROM customers WHERE id > ? AND "
		"name <> ? GROUP BY name ORDER BY name LIMIT ?");
	expect_scatter(PLAN_RESULT_ROWS, "SELECT name, COUNT(*) FROM customers "
		       "WHERE id > 10 AND name <> 'it''s' GROUP BY 1 ORDER BY "
		       "1 LIMIT 5");
	/* A key bound as a value places the statement as a literal does. */
	plan_of("SELECT name FROM customers WHERE id = ? OR id = ?");
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert(strstr(part_sql(0), "id = 10 OR id = 'it''s'"), "%s",
		  part_sql(0));
	/* ORDER BY ? stays a marker: refused across shards. */
	plan_of("SELECT name FROM customers WHERE id > ? ORDER BY ?");
	expect_unsupported("ORDER BY ?");
	/* LIMIT bound to a string: not written in, refused. */
	b[2] = b[1];
	plan_of("SELECT name FROM customers WHERE id > ? LIMIT ?");
	expect_unsupported("LIMIT");
	/* On one shard the marker may stay: the execution is forwarded. */
	plan_of("SELECT name FROM customers WHERE id = 42 ORDER BY ?");
	cr_assert_eq(plan.kind, PLAN_ONE, "%s", plan.err);
	ctx.bind = NULL;
	ctx.nbind = 0;
}

/* ---- UNION across shards ------------------------------------------------- */

/* Part i's text contains needle (or, with want false, does not). */
static void expect_in_part(unsigned i, const char *needle, bool want)
{
	const char *s = part_sql(i);

	cr_assert_eq(strstr(s, needle) != NULL, want, "%s: part %u '%s' %s "
		     "'%s'", text, i, s, want ? "lacks" : "has", needle);
}

/* The plan's merge in words (EXPLAIN SHARDS' merge column). */
static const char *merge_what(void)
{
	static char buf[256];
	struct sql_buf b = { 0 };
	const char *m;

	shard_plan_describe(&plan, &ks, &b);
	cr_assert(!b.oom);
	sql_buf_putc(&b, '\0');
	m = strstr(b.buf, "merge: ");
	cr_assert_not_null(m);
	snprintf(buf, sizeof(buf), "%s", m + 7);
	buf[strcspn(buf, "\n")] = '\0';
	sql_buf_free(&b);
	return buf;
}

Test(shard_plan, union_branches_run_where_their_rows_are)
{
	long k1 = key_on("orders", 1, 0), k3 = key_on("orders", 3, 0);

	/* a broadcast branch once: on the first shard only */
	plan_of("SELECT a FROM customers UNION ALL SELECT code FROM countries");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	cr_assert_str_eq(part_sql(0), "SELECT a FROM customers UNION ALL "
				      "SELECT code FROM countries");
	for (unsigned i = 1; i < 4; i++)
		cr_assert_str_eq(part_sql(i), "SELECT a FROM customers UNION "
					      "ALL (SELECT code FROM countries "
					      "LIMIT 0)");
	/* so is a branch without tables, the first one too */
	plan_of("SELECT 1 UNION ALL SELECT a FROM customers");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	expect_in_part(0, "(SELECT 1 LIMIT 0)", false);
	expect_in_part(2, "(SELECT 1 LIMIT 0)", true);
	/* an unsharded table's branch on its shard */
	plan_of("SELECT k FROM settings UNION ALL SELECT a FROM customers");
	for (unsigned i = 0; i < 4; i++)
		expect_in_part(i, "(SELECT k FROM settings LIMIT 0)", i != 2);
	/* a key's branch on its shard: anything goes there */
	plan_of("SELECT COUNT(*) FROM orders WHERE customer_id = %ld UNION ALL "
		"SELECT a FROM customers", k3);
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	for (unsigned i = 0; i < 4; i++)
		expect_in_part(i, "LIMIT 0)", i != 3);
	/* branches on two shards: only those two */
	plan_of("SELECT a FROM orders WHERE customer_id = %ld UNION ALL SELECT "
		"b FROM orders WHERE customer_id IN (%ld, %ld)", k1, k1, k3);
	cr_assert_eq(plan.kind, PLAN_MULTI);
	cr_assert_eq(plan.nparts, 2);
	cr_assert_eq(plan.parts[0].shard, 1);
	cr_assert_eq(plan.parts[1].shard, 3);
	expect_in_part(1, "LIMIT 0", true);
	expect_in_part(1, "IN (", true);
	/* every branch on one shard: the text as written */
	plan_of("SELECT a FROM orders WHERE customer_id = %ld UNION SELECT "
		"code FROM countries UNION ALL SELECT 1", k3);
	expect_one(3);
	plan_of("SELECT code FROM countries UNION SELECT name FROM countries");
	expect_one(0);
	/* a contradiction leaves its branch to any one shard */
	plan_of("SELECT COUNT(*) FROM orders WHERE customer_id = %ld AND "
		"customer_id = %ld UNION ALL SELECT a FROM orders WHERE "
		"customer_id = %ld", k1, k3, k3);
	expect_one(3);
}

Test(shard_plan, union_branches_each_shard_answers_for_its_rows)
{
	static const struct {
		const char *sql, *why;
	} refused[] = {
		{ "SELECT COUNT(*) FROM customers UNION ALL SELECT 1",
		  "a UNION branch over sharded tables across shards with "
		  "aggregates without GROUP BY on the shard key" },
		{ "SELECT g, COUNT(*) FROM orders GROUP BY g UNION SELECT 1, 2",
		  "GROUP BY not on the shard key" },
		{ "SELECT DISTINCT a FROM customers UNION ALL SELECT 1",
		  "DISTINCT without the shard key" },
		{ "(SELECT a FROM customers ORDER BY a LIMIT 3) UNION ALL "
		  "SELECT 1", "its own LIMIT" },
		{ "SELECT a FROM customers UNION SELECT b FROM orders UNION ALL "
		  "SELECT c FROM events",
		  "a UNION DISTINCT followed by a UNION ALL" },
		{ "SELECT a FROM customers UNION ALL SELECT b FROM orders ORDER "
		  "BY a + 1", "ORDER BY a + 1 of a UNION" },
		{ "SELECT a, a FROM customers UNION ALL SELECT b, c FROM orders "
		  "ORDER BY a", "ORDER BY a of a UNION" },
		{ "SELECT * FROM customers UNION SELECT * FROM orders",
		  "with * in the first SELECT" },
		{ "SELECT a FROM customers UNION ALL SELECT b FROM orders LIMIT ?",
		  "LIMIT other than numbers" },
		{ "SELECT a FROM customers INTERSECT SELECT b FROM orders",
		  "UNION, EXCEPT or INTERSECT" },
		{ "SELECT a FROM customers UNION ALL (SELECT b FROM orders "
		  "EXCEPT SELECT c FROM events)", "UNION, EXCEPT or INTERSECT" },
		{ "SELECT a FROM customers c JOIN orders o ON o.x = c.y UNION "
		  "SELECT 1", "a join of sharded tables not on their shard keys" },
	};

	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		plan_of("%s", refused[i].sql);
		expect_unsupported(refused[i].why);
	}
	/* what each shard answers alone */
	plan_of("SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id "
		"UNION ALL SELECT id, 1 FROM customers");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT DISTINCT id, a FROM customers UNION ALL SELECT 1, 2");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT DISTINCT a FROM customers UNION SELECT b FROM orders");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT a FROM customers UNION ALL SELECT b FROM orders UNION "
		"SELECT c FROM events");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT * FROM customers UNION ALL SELECT * FROM customers");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
}

Test(shard_plan, union_order_by_and_limit_for_the_shards)
{
	plan_of("SELECT a AS x, b FROM customers UNION ALL SELECT c, d FROM "
		"orders ORDER BY b DESC, x LIMIT 5 OFFSET 10");
	expect_scatter(PLAN_RESULT_ROWS, "SELECT a AS x, b FROM customers UNION "
			"ALL SELECT c, d FROM orders ORDER BY 2 DESC, 1 LIMIT "
			"15");
	cr_assert_str_eq(merge_what(), "UNION ALL: k-way merge on 2 keys, "
			 "OFFSET 10, LIMIT 5 (shards: LIMIT offset+limit)");
	plan_of("SELECT a, b FROM customers UNION SELECT c, d FROM orders "
		"ORDER BY 2 LIMIT 3");
	expect_scatter(PLAN_RESULT_ROWS, "SELECT a, b FROM customers UNION "
			"SELECT c, d FROM orders ORDER BY 2, 1 LIMIT 3");
	cr_assert(strstr(merge_what(), "UNION: "), "%s",
		  merge_what());
	plan_of("SELECT a FROM customers UNION ALL SELECT b FROM orders ORDER "
		"BY NULL");
	expect_scatter(PLAN_RESULT_ROWS, "SELECT a FROM customers UNION ALL "
			"SELECT b FROM orders");
	plan_of("EXPLAIN SHARDS SELECT a FROM customers UNION ALL SELECT code "
		"FROM countries");
	cr_assert_eq(plan.kind, PLAN_ANSWER);
	cr_assert_eq(plan.nrows, 4);
	cr_assert_str_eq(plan.cells[2], "UNION ALL: rows concatenated");
}

/* UNION ALL ... ORDER BY LIMIT OFFSET: a k-way merge of the shards' sorted
 * unions, the broadcast branch's row once. */
Test(shard_plan, merge_union_all_sorted_with_limit)
{
	struct rs_coldef cols[2] = { INTCOL("x"), STRCOL("n") };
	struct sink sink;
	struct merge *m;

	plan_of("SELECT id AS x, name AS n FROM customers UNION ALL SELECT 0, "
		"name FROM countries ORDER BY x DESC LIMIT 4 OFFSET 1");
	m = start(cols, 2, &sink, 2);
	feed(m, 0, 2, "9", "a");
	feed(m, 0, 2, "5", "b");
	feed(m, 0, 2, "0", "country");
	feed(m, 1, 2, "8", "c");
	feed(m, 1, 2, "5", "d");
	feed(m, 2, 2, "7", "e");
	feed(m, 3, 2, "1", "f");
	end_all(m, MERGE_DONE);
	/* x: 9 8 7 5 5 1 0 -> skip 9, then 8 7 5 5 */
	cr_assert_eq(sink.n, 4);
	expect_row(&sink, 0, "8", "c");
	expect_row(&sink, 1, "7", "e");
	cr_assert_str_eq(sink.rows[2][0], "5");
	cr_assert_str_eq(sink.rows[3][0], "5");
	merge_free(m);
}

/* UNION: a row two shards both have comes once; strings compare by the
 * collation ('x' = 'X'). */
Test(shard_plan, merge_union_distinct_across_shards)
{
	struct rs_coldef cols[2] = { STRCOL("a"), INTCOL("b") };
	struct sink sink;
	struct merge *m;

	plan_of("SELECT a, b FROM customers UNION SELECT c, d FROM orders "
		"ORDER BY b DESC");
	cr_assert_str_eq(part_sql(1), "SELECT a, b FROM customers UNION SELECT "
				      "c, d FROM orders ORDER BY 2 DESC, 1");
	m = start(cols, 2, &sink, 2);
	feed(m, 0, 2, "x", "2");
	feed(m, 0, 2, "y", "1");
	feed(m, 1, 2, "X", "2");
	feed(m, 1, 2, "z", "2");
	feed(m, 2, 2, "y", "1");
	feed(m, 3, 2, NULL, "1");
	end_all(m, MERGE_DONE);
	cr_assert_eq(sink.n, 4);
	cr_assert_str_eq(sink.rows[0][1], "2");
	cr_assert_str_eq(sink.rows[1][0], "z");
	expect_row(&sink, 2, "NULL", "1");
	expect_row(&sink, 3, "y", "1");
	merge_free(m);
}

/* ---- derived tables and WITH across shards ------------------------------ */

Test(shard_plan, derived_tables_each_shard_answers_alone)
{
	long k = key_on("orders", 2, 0);

	plan_of("SELECT * FROM (SELECT * FROM customers) AS d");
	expect_scatter(PLAN_RESULT_ROWS, "SELECT * FROM (SELECT * FROM "
			"customers) AS d");
	/* grouped by the shard key: each group on one shard */
	plan_of("SELECT COUNT(*), SUM(n) FROM (SELECT customer_id, COUNT(*) AS "
		"n FROM orders GROUP BY customer_id) AS d WHERE n > 2");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	cr_assert_str_eq(merge_what(), "aggregates merged");
	/* the outer query merged as over a sharded table */
	plan_of("SELECT x FROM (SELECT a AS x, b FROM customers WHERE b > 1) d "
		"ORDER BY b LIMIT 2");
	expect_scatter(PLAN_RESULT_ROWS, "SELECT x, b AS myring_h0 FROM (SELECT "
			"a AS x, b FROM customers WHERE b > 1) AS d ORDER BY b "
			"LIMIT 2");
	/* its key, under the name it shows, places and co-locates */
	plan_of("SELECT * FROM (SELECT customer_id AS cid, amount FROM orders) "
		"AS d WHERE d.cid = %ld", k);
	expect_one(2);
	plan_of("SELECT * FROM (SELECT * FROM orders) AS d WHERE customer_id = "
		"%ld", k);
	expect_one(2);
	plan_of("SELECT * FROM (SELECT customer_id, amount FROM orders) AS d "
		"(c, x) WHERE c = %ld", k);
	expect_one(2);
	plan_of("SELECT c.name, d.n FROM customers c JOIN (SELECT customer_id, "
		"COUNT(*) AS n FROM orders GROUP BY customer_id) AS d ON "
		"d.customer_id = c.id");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT * FROM (SELECT id FROM events) AS d JOIN customers c "
		"ON c.id = d.id");
	expect_unsupported("a join of sharded tables not on their shard keys");
	plan_of("SELECT * FROM (SELECT customer_id AS x, id AS customer_id "
		"FROM orders) AS d JOIN customers c ON c.id = d.customer_id");
	expect_unsupported("a join of sharded tables not on their shard keys");
	/* nested, and joined with a broadcast table */
	plan_of("SELECT k.name, COUNT(*) FROM (SELECT * FROM (SELECT cc FROM "
		"customers) AS e) AS d JOIN countries k ON k.cc = d.cc GROUP BY "
		"k.name");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	/* WITH, once or joined with itself on the key */
	plan_of("WITH d AS (SELECT customer_id, amount FROM orders) SELECT "
		"customer_id, SUM(amount) FROM d GROUP BY customer_id");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("WITH d AS (SELECT customer_id, amount FROM orders) SELECT * "
		"FROM d AS a JOIN d AS b ON a.customer_id = b.customer_id");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("WITH d AS (SELECT customer_id, amount FROM orders) SELECT * "
		"FROM d AS a JOIN d AS b ON a.amount = b.amount");
	expect_unsupported("a join of sharded tables not on their shard keys");
	/* one not named is not run */
	plan_of("WITH d AS (SELECT id FROM customers) SELECT 1");
	expect_one(0);
	plan_of("WITH d AS (SELECT id FROM customers) SELECT * FROM orders");
	expect_scatter(PLAN_RESULT_ROWS, "WITH d AS (SELECT id FROM customers) "
			"SELECT * FROM orders");
	plan_of("WITH RECURSIVE d AS (SELECT id FROM customers) SELECT * "
		"FROM d");
	expect_unsupported("WITH query over sharded table customers");
	/* in a UNION branch */
	plan_of("SELECT x FROM (SELECT a AS x FROM customers) AS d UNION ALL "
		"SELECT 1");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
}

Test(shard_plan, derived_tables_that_combine_shards_rows_are_refused)
{
	static const struct {
		const char *sql, *why;
	} refused[] = {
		{ "SELECT COUNT(*) FROM (SELECT DISTINCT a FROM customers) AS x",
		  "(DISTINCT without the shard key)" },
		{ "SELECT * FROM (SELECT a FROM customers LIMIT 5) AS x",
		  "(its own LIMIT)" },
		{ "SELECT * FROM (SELECT g, SUM(a) FROM orders GROUP BY g) AS x",
		  "(GROUP BY not on the shard key)" },
		{ "SELECT * FROM (SELECT a FROM customers UNION ALL SELECT b "
		  "FROM orders) AS x", "a derived table or WITH query" },
		{ "SELECT * FROM (SELECT c.a FROM customers c JOIN settings s "
		  "ON 1) AS x", "(a table of one shard joined)" },
	};

	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		plan_of("%s", refused[i].sql);
		expect_unsupported(refused[i].why);
	}
}

/* A derived table whose key values are on different shards has no rows
 * anywhere: with an aggregate, its one row must come once. */
Test(shard_plan, empty_derived_aggregate_on_one_shard)
{
	long a = key_on("customers", 1, 0), b = key_on("customers", 2, 0);

	plan_of("SELECT * FROM (SELECT COUNT(*) FROM customers WHERE id = %ld "
		"AND id = %ld) AS d", a, b);
	expect_one(0);
	plan_of("SELECT * FROM (SELECT a FROM customers WHERE id = %ld AND id "
		"= %ld) AS d", a, b);
	expect_one(0);
}

/* COUNT over a derived table grouped by the shard key: the groups'
 * counts of every shard summed. */
Test(shard_plan, merge_aggregate_over_a_derived_table)
{
	struct rs_coldef cols[2] = { INTCOL("COUNT(*)"), DECCOL("SUM(n)", 0) };
	struct sink sink;
	struct merge *m;

	plan_of("SELECT COUNT(*), SUM(n) FROM (SELECT customer_id, COUNT(*) AS "
		"n FROM orders GROUP BY customer_id) AS d");
	m = start(cols, 2, &sink, 2);
	feed(m, 0, 2, "3", "7");
	feed(m, 1, 2, "0", NULL);
	feed(m, 2, 2, "2", "2");
	feed(m, 3, 2, "1", "5");
	end_all(m, MERGE_DONE);
	cr_assert_eq(sink.n, 1);
	expect_row(&sink, 0, "6", "14");
	merge_free(m);
}

/*
 * An outer join that keeps the rows of a table that is not sharded
 * against a sharded one: each shard returns the kept rows its own
 * sharded rows do not match, so across shards they would come back once
 * per shard.  Refused there; fine on one shard, and fine the other way
 * round (the sharded side kept: each of its rows lives on one shard).
 */
Test(shard_plan, outer_joins_keeping_unsharded_rows_across_shards_are_refused)
{
	plan_of("SELECT * FROM countries co LEFT JOIN customers c "
		"ON c.country = co.code");
	expect_unsupported("outer join that keeps the rows of countries");
	plan_of("SELECT * FROM customers c RIGHT JOIN countries co "
		"ON c.country = co.code");
	expect_unsupported("outer join that keeps the rows of countries");
	plan_of("SELECT co.code, COUNT(c.id) FROM countries co LEFT JOIN "
		"(customers c JOIN orders o ON o.customer_id = c.id) "
		"ON c.country = co.code GROUP BY co.code");
	expect_unsupported("outer join that keeps the rows of");
	plan_of("SELECT * FROM (SELECT 1 AS x) d LEFT JOIN customers c "
		"ON c.id = d.x");
	/* on one shard: exact */
	plan_of("SELECT * FROM countries co LEFT JOIN customers c "
		"ON c.country = co.code WHERE c.id = 7");
	cr_assert_eq(plan.kind, PLAN_ONE, "%s", plan.err);
	/* the sharded side kept, or an inner join: exact everywhere */
	plan_of("SELECT * FROM customers c LEFT JOIN countries co "
		"ON c.country = co.code");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
	plan_of("SELECT * FROM countries co JOIN customers c "
		"ON c.country = co.code");
	expect_scatter(PLAN_RESULT_ROWS, NULL);
}

/* ORDER BY positions are read from the statement's own digits: the
 * text is not NUL-terminated (it points into the client's packet), so
 * the bytes after it must not count. */
Test(shard_plan, order_by_positions_read_only_their_digits)
{
	/* the statement ends after "ORDER BY 1"; a '2' follows in memory */
	static const char sql[] = "SELECT a, b FROM customers ORDER BY 12";

	sql_arena_reset(&arena);
	cr_assert_eq(shard_plan(&arena, &ctx, sql, sizeof(sql) - 2, &plan),
		     0);
	cr_assert_eq(plan.kind, PLAN_MULTI, "%s", plan.err);
	cr_assert_str_eq(part_sql(0), "SELECT a, b FROM customers ORDER BY 1");
}

/* ---- exact FLOAT columns of an execution (shard_plan_float.c) ------------ */

static void expect_shard_text(const char *want)
{
	cr_assert_eq(plan.kind, PLAN_MULTI, "%s: kind %d (%s)", text, plan.kind,
		     plan.err);
	cr_assert_str_eq(plan.parts[0].sql, want);
}

Test(shard_plan, float_columns_asked_for_as_doubles)
{
	/* column 1 and, through MAX, column 2 are FLOATs */
	ctx.float_cols = 0x6;
	ctx.float_ncols = 3;
	plan_of("SELECT id, f AS g, MAX(f + 1) FROM customers GROUP BY id");
	expect_shard_text("SELECT id, CAST(f AS DOUBLE) AS g, MAX(CAST(f + 1 "
			  "AS DOUBLE)) AS `MAX(f + 1)` FROM customers GROUP BY "
			  "1 ORDER BY 1");
	/* a hidden ORDER BY column (the shards' column 1) */
	ctx.float_cols = 0x2;
	ctx.float_ncols = 2;
	plan_of("SELECT id FROM customers ORDER BY f DESC");
	expect_shard_text("SELECT id, CAST(f AS DOUBLE) AS myring_h0 FROM "
			  "customers ORDER BY f DESC");
	/* around a `*` of 3 columns: the one after it */
	ctx.float_cols = 0x10;
	ctx.float_ncols = 5;
	plan_of("SELECT id, *, f FROM customers");
	expect_shard_text("SELECT id, *, CAST(f AS DOUBLE) AS `f` FROM "
			  "customers");
	/* refusals: in the `*`, in a UNION, over other aggregates, the
	 * column count changed */
	ctx.float_cols = 0x4;
	plan_of("SELECT id, *, f FROM customers");
	expect_unsupported("of `*` cannot be sent exactly");
	ctx.float_cols = 0x1;
	ctx.float_ncols = 1;
	plan_of("SELECT f FROM customers UNION SELECT f FROM orders");
	expect_unsupported("UNION");
	plan_of("SELECT MAX(f) + MIN(f) FROM customers");
	cr_assert(plan.kind == PLAN_ERROR || plan.kind == PLAN_MULTI);
	plan_of("SELECT f, id FROM customers");
	expect_unsupported("columns changed");
}
