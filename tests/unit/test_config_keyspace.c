/* The config file's keyspace: (config_keyspace.c, docs/config.md). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collation.h"
#include "config.h"
#include "shard_map.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

static struct config cfg;
static char err[512];

static void setup(void)
{
	cli_defaults(&cfg);
	err[0] = '\0';
}

static void teardown(void)
{
	config_free(&cfg);
#ifdef __SANITIZE_ADDRESS__
	if (__lsan_do_recoverable_leak_check())
		abort();
#endif
}

TestSuite(config_keyspace, .init = setup, .fini = teardown);

/* Three groups, then whatever the test adds (lines 1..10 are these). */
#define GROUPS                                                                 \
	"auth: proxy\n"                                                        \
	"groups:\n"                                                            \
	"  - name: g0\n"                                                       \
	"    servers: [10.0.0.1:3306]\n"                                       \
	"  - name: g1\n"                                                       \
	"    servers: [10.0.0.2:3306]\n"                                       \
	"  - name: g2\n"                                                       \
	"    servers: [10.0.0.3:3306]\n"                                       \
	"  - name: s3\n"                                                       \
	"    servers: [10.0.0.4:3306]\n"

static int load(const char *yaml)
{
	return config_load_string("myring.yaml", yaml, strlen(yaml), &cfg, err,
				  sizeof(err));
}

static void expect_error(const char *yaml, unsigned line,
			 const char *const *needles)
{
	char prefix[64];

	cr_assert_eq(load(yaml), -1, "accepted:\n%s", yaml);
	snprintf(prefix, sizeof(prefix), "myring.yaml:%u: ", line);
	cr_assert(!strncmp(err, prefix, strlen(prefix)),
		  "want line %u, got: %s", line, err);
	for (; *needles; needles++)
		cr_assert(strstr(err, *needles), "'%s' not in: %s", *needles,
			  err);
	cr_assert_null(cfg.keyspace, "a failed load keeps no keyspace");
}

#define EXPECT_ERROR(yaml, line, ...) \
	expect_error(yaml, line, (const char *const[]){ __VA_ARGS__, NULL })

static const char full[] =
	"keyspace:\n"                                            /* 1 */
	"  schema: shop\n"
	"  shards:\n"
	"    - name: s0\n"
	"      group: g0\n"                                      /* 5 */
	"    - name: s1\n"
	"      group: g1\n"
	"    - g2\n"
	"    - s3\n"
	"  default-shard: s0\n"                                  /* 10 */
	"  tables:\n"
	"    - name: customers\n"
	"      key: id\n"
	"      function: hash\n"
	"      key-type: int\n"                                  /* 15 */
	"    - name: users\n"
	"      key: login\n"
	"      key-type: string\n"
	"      collation: utf8mb4_unicode_ci\n"
	"    - name: orders\n"                                   /* 20 */
	"      key: customer_id\n"
	"    - name: events\n"
	"      key: ts\n"
	"      function: range\n"
	"      bounds: [-1000, 2000, 3000]\n"                    /* 25 */
	"    - name: countries\n"
	"      type: broadcast\n"
	"    - name: settings\n"
	"      type: unsharded\n"
	"      shard: g2\n"                                      /* 30 */
	"    - name: notes\n"
	"      type: unsharded\n"
	GROUPS;

Test(config_keyspace, full_example)
{
	const struct keyspace *ks;
	const struct shard_table *t;

	cr_assert_eq(load(full), 0, "%s", err);
	ks = cfg.keyspace;
	cr_assert_not_null(ks);
	cr_expect_str_eq(ks->schema, "shop");
	cr_assert_eq(ks->nshards, 4);
	cr_expect_str_eq(ks->shards[0].name, "s0");
	cr_expect_str_eq(ks->shards[0].group, "g0");
	cr_expect_str_eq(ks->shards[2].name, "g2");
	cr_expect_str_eq(ks->shards[2].group, "g2");
	cr_expect_str_eq(ks->shards[3].group, "s3");
	cr_expect_eq(ks->shards[0].group_index, -1, "resolved at start");
	cr_expect_eq(ks->shards[1].hash_lo, 0x4000000000000000ull);
	cr_expect_eq(ks->shards[3].hash_hi, UINT64_MAX);
	cr_expect_eq(ks->default_shard, 0);
	cr_assert_eq(ks->ntables, 7);

	t = keyspace_table(ks, "CUSTOMERS", 9);
	cr_assert_not_null(t);
	cr_expect_eq(t->kind, TABLE_SHARDED);
	cr_expect_str_eq(t->key, "id");
	cr_expect_eq(t->fn, SHARD_FN_HASH);
	cr_expect_eq(t->key_type, SHARD_KEY_INT);
	cr_expect_eq(t->line, 12);

	t = keyspace_table(ks, "users", 5);
	cr_expect_eq(t->key_type, SHARD_KEY_STRING);
	cr_expect_eq(t->collation, COLL_UTF8MB4_UNICODE_CI);

	t = keyspace_table(ks, "orders", 6);
	cr_expect_eq(t->fn, SHARD_FN_HASH, "hash is the default");
	cr_expect_eq(t->key_type, SHARD_KEY_INT, "int is the default");

	t = keyspace_table(ks, "events", 6);
	cr_expect_eq(t->fn, SHARD_FN_RANGE);
	cr_assert_eq(t->nbounds, 3);
	cr_expect_eq(t->bounds[0], -1000);
	cr_expect_eq(t->bounds[2], 3000);
	cr_expect_eq(shard_for_value(ks, t, "2500", 4, false), 2);

	cr_expect_eq(keyspace_table(ks, "countries", 9)->kind, TABLE_BROADCAST);
	t = keyspace_table(ks, "settings", 8);
	cr_expect_eq(t->kind, TABLE_UNSHARDED);
	cr_expect_eq(t->shard, 2);
	cr_expect_eq(keyspace_table(ks, "notes", 5)->shard, 0,
		     "default-shard");
}

/* The keyspace may come before groups: in the file. */
Test(config_keyspace, before_groups)
{
	cr_assert_eq(load("keyspace:\n  schema: s\n  shards: [g0, g1]\n"
			  GROUPS), 0, "%s", err);
	cr_assert_eq(cfg.keyspace->nshards, 2);
	cr_expect_eq(cfg.keyspace->default_shard, -1);
	cr_expect_eq(cfg.keyspace->ntables, 0);
}

Test(config_keyspace, hash_ranges)
{
	const struct keyspace *ks;

	cr_assert_eq(load(GROUPS
			  "keyspace:\n"
			  "  schema: s\n"
			  "  shards:\n"
			  "    - name: b\n"
			  "      group: g1\n"
			  "      hash-range: 0x8000000000000000-0xffffffffffffffff\n"
			  "    - name: a\n"
			  "      group: g0\n"
			  "      hash-range: 0x0 - 0x7FFFFFFFFFFFFFFF\n"), 0,
		     "%s", err);
	ks = cfg.keyspace;
	cr_expect_eq(ks->shards[0].hash_lo, 0x8000000000000000ull);
	cr_expect_eq(ks->shards[1].hash_hi, 0x7fffffffffffffffull);
	cr_expect_eq(shard_of_hash(ks, 5), 1);
}

/* A file without keyspace: loaded over one with it drops it; a failed
 * load leaves the one in force. */
Test(config_keyspace, reload_semantics)
{
	struct keyspace *before;

	cr_assert_eq(load(full), 0, "%s", err);
	before = cfg.keyspace;
	cr_assert_eq(load(GROUPS "keyspace:\n  schema: x\n  shards: [nope]\n"),
		     -1);
	cr_expect_eq(cfg.keyspace, before);
	cr_assert_eq(load(GROUPS), 0, "%s", err);
	cr_expect_null(cfg.keyspace);
}

Test(config_keyspace, needs_groups)
{
	EXPECT_ERROR("keyspace:\n  schema: s\n  shards: [a]\n", 1,
		     "keyspace: needs groups:");
	EXPECT_ERROR("backend: 10.0.0.1:3306\n"
		     "keyspace:\n  schema: s\n  shards: [a]\n", 2,
		     "keyspace: needs groups:");
}

Test(config_keyspace, shard_errors)
{
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0, g9]\n", 13,
		     "keyspace: shard 'g9': group: unknown backend group 'g9'",
		     "did you mean 'g0'");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - name: a\n      group: nope\n", 15,
		     "keyspace: shard 'a': group: unknown backend group 'nope'");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0, g0]\n", 13,
		     "keyspace: shard 'g0': defined twice");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: []\n", 13,
		     "keyspace: shards: expected a list of 1..64 shards");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: g0\n", 13,
		     "keyspace: shards: expected a list");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - group: g0\n", 14, "keyspace: a shard needs name:");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - name: a\n      groop: g0\n", 15,
		     "keyspace: shard: unknown key 'groop'",
		     "did you mean 'group'");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - [g0]\n", 14, "expected a group name or a mapping");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - name: a b\n", 14, "keyspace: shard: name: expected "
		     "1..63 characters");
}

Test(config_keyspace, hash_range_errors)
{
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - name: g0\n      hash-range: 0-0x7fffffffffffffff\n",
		     15, "keyspace: shard 'g0': hash-range: expected 0xLO-0xHI");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - name: g0\n      hash-range: 0x0-0x12345678901234567\n",
		     15, "hash-range: expected 0xLO-0xHI");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - name: g0\n      hash-range: 0x5-0x4\n", 14,
		     "keyspace: shard 'g0': hash-range: 0x0000000000000005 is "
		     "above 0x0000000000000004");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - name: g0\n      hash-range: 0x0-0x7fffffffffffffff\n"
		     "    - g1\n", 16, "keyspace: shard 'g1': hash-range: give "
		     "it on every shard or on none");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - name: g0\n      hash-range: 0x0-0x7fffffffffffffff\n"
		     "    - name: g1\n      hash-range: 0x8000000000000001-"
		     "0xffffffffffffffff\n", 13, "keyspace: shards: hash-range: "
		     "no shard covers 0x8000000000000000-0x8000000000000000");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards:\n"
		     "    - name: g0\n      hash-range: 0x0-0x8fffffffffffffff\n"
		     "    - name: g1\n      hash-range: 0x8000000000000000-"
		     "0xffffffffffffffff\n", 13, "keyspace: shards: hash-range: "
		     "shards 'g0' and 'g1' overlap at 0x8000000000000000");
}

Test(config_keyspace, keyspace_errors)
{
	EXPECT_ERROR(GROUPS "keyspace: [a]\n", 11, "keyspace: expected a mapping");
	EXPECT_ERROR(GROUPS "keyspace:\n  shards: [g0]\n", 12,
		     "keyspace: schema: required");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n", 12,
		     "keyspace: shards: required");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: my-db\n  shards: [g0]\n", 12,
		     "keyspace: schema: expected 1..63 characters of "
		     "[A-Za-z0-9_$]");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0]\n"
		     "  shardz: 1\n", 14, "keyspace: unknown key 'shardz'",
		     "did you mean 'shards'");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0]\n"
		     "  default-shard: g1\n", 14,
		     "keyspace: default-shard: unknown shard 'g1'");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0]\n"
		     "  sequences:\n    - name: ids\n", 15,
		     "keyspace: sequence 'ids': shard: required");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0]\n"
		     "  sequences:\n    - name: ids\n      shard: g9\n", 16,
		     "keyspace: sequence 'ids': shard: unknown shard 'g9'");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0]\n"
		     "  sequences:\n    - name: ids\n      shard: g0\n"
		     "      block: 0\n", 17,
		     "keyspace: sequence 'ids': block: expected an integer "
		     "from 1 to 1000000000, got '0'");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0]\n"
		     "  sequences:\n    - name: ids\n      shard: g0\n"
		     "    - name: IDS\n      shard: g0\n", 17,
		     "keyspace: sequence 'IDS': defined twice");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0]\n"
		     "  sequences:\n    - name: ids\n      shard: g0\n"
		     "      step: 2\n", 17,
		     "keyspace: sequence: unknown key 'step'");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0]\n"
		     "  tables: orders\n", 14,
		     "keyspace: tables: expected a list of tables");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  schema: t\n", 13,
		     "duplicate key 'schema'");
	EXPECT_ERROR(GROUPS "keyspace:\n  schema: s\n  shards: [g0]\n"
		     "keyspace:\n  schema: s\n", 14, "duplicate key 'keyspace'");
}

/* Lines 11..14: keyspace:, schema:, shards: over three groups, tables:;
 * the first table starts on line 15. */
#define KS GROUPS "keyspace:\n  schema: s\n  shards: [g0, g1, g2]\n  tables:\n"

Test(config_keyspace, table_errors)
{
	EXPECT_ERROR(KS "    - name: orders\n", 15,
		     "keyspace: table 'orders': key: required");
	EXPECT_ERROR(KS "    - key: id\n", 15, "keyspace: a table needs name:");
	EXPECT_ERROR(KS "    - orders\n", 15, "keyspace: tables: expected a "
		     "mapping");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "      function: lookup\n", 17,
		     "keyspace: table 'orders': function: lookup is not a "
		     "placement", "list the secondary column under lookup:");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "      function: modulo\n", 17,
		     "keyspace: table 'orders': function: expected hash or "
		     "range, got 'modulo'");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "      sequence: order_ids\n", 17,
		     "keyspace: table 'orders': sequence: unknown sequence "
		     "'order_ids'");
	EXPECT_ERROR(KS "    - name: users\n      key: login\n"
		     "      key-type: string\n      sequence: ids\n", 18,
		     "keyspace: table 'users': sequence: needs key-type: int");
	EXPECT_ERROR(KS "    - name: notes\n      type: broadcast\n"
		     "      sequence: ids\n", 17,
		     "keyspace: table 'notes': sequence: only with a sharded "
		     "table");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "      lookup: orders_by_email\n", 17,
		     "keyspace: table 'orders': lookup: expected a list of "
		     "secondary columns");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "      key-type: uuid\n", 17,
		     "key-type: expected int or string, got 'uuid'");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "      collation: utf8mb4_bin\n", 17,
		     "keyspace: table 'orders': collation: only with key-type: "
		     "string");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "      key-type: string\n      collation: klingon_ci\n", 18,
		     "keyspace: table 'orders': collation: unknown collation "
		     "'klingon_ci'");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "      key-type: string\n      collation: big5_chinese_ci\n",
		     15, "keyspace: table 'orders': collation: big5_chinese_ci "
		     "cannot be hashed");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "      bounds: [1, 2]\n", 17, "keyspace: table 'orders': "
		     "bounds: only with function: range");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n"
		     "    - name: ORDERS\n      key: id\n", 17,
		     "keyspace: table 'ORDERS': listed twice (first on line 15)");
	EXPECT_ERROR(KS "    - name: orders\n      key: id\n      colour: red\n",
		     17, "keyspace: table: unknown key 'colour'");
	EXPECT_ERROR(KS "    - name: orders.x\n      key: id\n", 15,
		     "keyspace: table: name: expected 1..63 characters");
	EXPECT_ERROR(KS "    - name: orders\n      key: 'a b'\n", 16,
		     "keyspace: table 'orders': key: expected 1..63 characters");
}

Test(config_keyspace, sequences)
{
	static const char yaml[] = GROUPS
		"keyspace:\n  schema: s\n  shards: [g0, g1, g2]\n"
		"  default-shard: g1\n"
		"  sequences:\n"
		"    - name: customer_ids\n"
		"      shard: g2\n"
		"      block: 500\n"
		"      start: 1000\n"
		"    - name: order_ids\n"
		"  tables:\n"
		"    - name: customers\n      key: id\n"
		"      sequence: customer_ids\n"
		"    - name: orders\n      key: customer_id\n";
	const struct keyspace *ks;

	cr_assert_eq(load(yaml), 0, "%s", err);
	ks = cfg.keyspace;
	cr_assert_eq(ks->nsequences, 2);
	cr_assert_str_eq(ks->sequences[0].name, "customer_ids");
	cr_assert_eq(ks->sequences[0].shard, 2);
	cr_assert_eq(ks->sequences[0].block, 500);
	cr_assert_eq(ks->sequences[0].start, 1000);
	/* defaults: the default shard, blocks of 1000 from 1 */
	cr_assert_eq(ks->sequences[1].shard, 1);
	cr_assert_eq(ks->sequences[1].block, 1000);
	cr_assert_eq(ks->sequences[1].start, 1);
	cr_assert_str_eq(ks->tables[0].sequence, "customer_ids");
	cr_assert_str_eq(ks->tables[1].sequence, "");
}

Test(config_keyspace, range_errors)
{
	EXPECT_ERROR(KS "    - name: e\n      key: ts\n      function: range\n",
		     15, "keyspace: table 'e': bounds: required with function: "
		     "range");
	EXPECT_ERROR(KS "    - name: e\n      key: ts\n      function: range\n"
		     "      bounds: [10]\n", 15, "keyspace: table 'e': bounds: "
		     "expected 2 ascending boundaries (one fewer than the 3 "
		     "shards), got 1");
	EXPECT_ERROR(KS "    - name: e\n      key: ts\n      function: range\n"
		     "      bounds: [10, 10]\n", 15, "keyspace: table 'e': bounds: "
		     "not ascending (10 after 10)");
	EXPECT_ERROR(KS "    - name: e\n      key: ts\n      function: range\n"
		     "      bounds: [10, 1.5]\n", 18, "keyspace: table 'e': bounds: "
		     "expected a 64-bit integer, got '1.5'");
	EXPECT_ERROR(KS "    - name: e\n      key: ts\n      function: range\n"
		     "      bounds: [10, 9223372036854775808]\n", 18,
		     "expected a 64-bit integer, got '9223372036854775808'");
	EXPECT_ERROR(KS "    - name: e\n      key: ts\n      function: range\n"
		     "      bounds: 10\n", 18, "keyspace: table 'e': bounds: "
		     "expected a list of integers");
	EXPECT_ERROR(KS "    - name: e\n      key: ts\n      function: range\n"
		     "      key-type: string\n      bounds: [1, 2]\n", 18,
		     "keyspace: table 'e': key-type: function: range needs "
		     "key-type: int");
}

Test(config_keyspace, kind_errors)
{
	EXPECT_ERROR(KS "    - name: c\n      type: replicated\n", 16,
		     "keyspace: table 'c': type: expected sharded, broadcast or "
		     "unsharded, got 'replicated'");
	EXPECT_ERROR(KS "    - name: c\n      type: broadcast\n      key: id\n",
		     17, "keyspace: table 'c': key: only with a sharded table");
	EXPECT_ERROR(KS "    - name: c\n      type: broadcast\n"
		     "      function: hash\n", 17,
		     "keyspace: table 'c': function: only with a sharded table");
	EXPECT_ERROR(KS "    - name: c\n      key: id\n      shard: g1\n", 17,
		     "keyspace: table 'c': shard: only with type: unsharded");
	EXPECT_ERROR(KS "    - name: c\n      type: unsharded\n", 15,
		     "keyspace: table 'c': shard: required for an unsharded "
		     "table (there is no default-shard)");
	EXPECT_ERROR(KS "    - name: c\n      type: unsharded\n      shard: g7\n",
		     17, "keyspace: table 'c': shard: unknown shard 'g7'",
		     "did you mean");
}

/* auth: proxy is checked with the flags (a flag may set it). */
Test(config_keyspace, needs_auth_proxy)
{
	cr_assert_eq(load("keyspace:\n  schema: s\n  shards: [g0]\n"
			  GROUPS), 0, "%s", err);
	cr_assert_eq(cli_check_backends(&cfg, err, sizeof(err)), 0, "%s", err);
	cfg.auth = AUTH_PASSTHROUGH;
	cr_assert_eq(cli_check_backends(&cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "the keyspace needs --auth proxy"), "%s", err);
}

/* lookup: secondary columns of a sharded table (docs/sharding.md,
 * "Lookup tables"). */
Test(config_keyspace, lookups)
{
	const struct shard_table *t;

	cr_assert_eq(load(KS "    - name: customers\n      key: id\n"
			  "      lookup:\n        - column: email\n"
			  "          unique: true\n          shard: g2\n"
			  "        - column: phone\n          type: int\n"
			  "          table: by_phone\n"), 0, "%s", err);
	t = keyspace_table(cfg.keyspace, "customers", 9);
	cr_assert(t);
	cr_assert_eq(t->nlookups, 2);
	cr_assert_str_eq(t->lookups[0].column, "email");
	cr_assert_str_eq(t->lookups[0].table, "lookup_customers_email");
	cr_assert(t->lookups[0].unique);
	cr_assert_eq(t->lookups[0].shard, 2);
	cr_assert_eq(t->lookups[0].type, SHARD_KEY_STRING);
	cr_assert_str_eq(t->lookups[1].table, "by_phone");
	cr_assert_not(t->lookups[1].unique);
	cr_assert_eq(t->lookups[1].shard, 0, "default: the first shard");
	cr_assert_eq(t->lookups[1].type, SHARD_KEY_INT);
	cr_assert_eq(shard_table_lookup(t, "PHONE", 5), 1);
	cr_assert_eq(shard_table_lookup(t, "id", 2), -1);
}

Test(config_keyspace, lookup_errors)
{
	EXPECT_ERROR(KS "    - name: notes\n      type: broadcast\n"
		     "      lookup:\n        - column: email\n", 17,
		     "keyspace: table 'notes': lookup: only with a sharded "
		     "table");
	EXPECT_ERROR(KS "    - name: c\n      key: id\n      lookup:\n"
		     "        - unique: true\n", 18,
		     "keyspace: table 'c': lookup: column: required");
	EXPECT_ERROR(KS "    - name: c\n      key: id\n      lookup:\n"
		     "        - column: id\n", 15,
		     "keyspace: table 'c': lookup: column id is the shard key");
	EXPECT_ERROR(KS "    - name: c\n      key: id\n      lookup:\n"
		     "        - column: a\n        - column: A\n", 15,
		     "lookup: column A listed twice");
	EXPECT_ERROR(KS "    - name: c\n      key: id\n      lookup:\n"
		     "        - column: a\n          shard: g7\n", 19,
		     "keyspace: table 'c': lookup a: unknown shard 'g7'");
	EXPECT_ERROR(KS "    - name: c\n      key: id\n      lookup:\n"
		     "        - column: a\n          unique: maybe\n", 19,
		     "keyspace: table 'c': lookup a: expected true or false");
	EXPECT_ERROR(KS "    - name: c\n      key: id\n      lookup:\n"
		     "        - column: a\n          sharded: true\n", 19,
		     "unknown key 'sharded'");
	EXPECT_ERROR(KS "    - name: c\n      key: id\n      lookup:\n"
		     "        - column: a\n          table: t1\n"
		     "    - name: d\n      key: id\n      lookup:\n"
		     "        - column: b\n          table: t1\n", 20,
		     "lookup b: table myring.t1 is table c's lookup too");
	EXPECT_ERROR(KS "    - name: c\n      key: id\n      lookup:\n"
		     "        - column: a\n        - column: b\n"
		     "        - column: c\n        - column: d\n"
		     "        - column: e\n", 18, "at most 4 columns");
}
