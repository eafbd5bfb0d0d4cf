/*
 * libFuzzer target for the shard planner (shard_plan.c and its merge).
 * The first byte picks the session (current schema the keyspace's or
 * not, in a transaction and on which shard, sql_mode, a default shard
 * for unmapped tables); the rest is the text.  Checked:
 *  - nothing is read outside the text (ASan), planning ends, and the plan
 *    is one of its kinds with what that kind promises: PLAN_ONE is the
 *    client's own text on a shard of the keyspace (or, for an INSERT given
 *    sequence keys, its rewritten text that parses again); PLAN_KEYS
 *    only when the keys are not at hand; PLAN_MULTI has texts
 *    for ascending shards that parse again (with FLOAT columns asked
 *    for as doubles too); PLAN_ANSWER has its cells;
 *    PLAN_ERROR a "myring: " message, a code and a SQLSTATE;
 *  - a row merge's spec is made for shard columns of the planned count,
 *    and rows fed through it (numbers, NULLs, from the input's bytes)
 *    are merged or refused with a message, never a crash.
 * Built by tests/fuzz/build.sh with ASan and UBSan; any failure aborts.
 * Seeds: tests/fuzz/seeds_plan/.
 */
#include "merge.h"
#include "shard_plan.h"
#include "sql_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t bounds[] = { 100, 200, 300 };

static struct shard_table tables[] = {
	{ .name = "customers", .kind = TABLE_SHARDED, .key = "id",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT, .nlookups = 2,
	  .lookups = {
		{ .column = "email", .table = "lookup_customers_email",
		  .unique = true, .type = SHARD_KEY_STRING, .shard = 1 },
		{ .column = "city", .table = "lookup_customers_city",
		  .type = SHARD_KEY_INT, .shard = 2 },
	  } },
	{ .name = "orders", .kind = TABLE_SHARDED, .key = "customer_id",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT },
	{ .name = "events", .kind = TABLE_SHARDED, .key = "id",
	  .fn = SHARD_FN_RANGE, .key_type = SHARD_KEY_INT, .bounds = bounds,
	  .nbounds = 3 },
	{ .name = "users", .kind = TABLE_SHARDED, .key = "name",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_STRING,
	  .collation = 45 },
	{ .name = "t", .kind = TABLE_SHARDED, .key = "a",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT },
	{ .name = "countries", .kind = TABLE_BROADCAST },
	{ .name = "settings", .kind = TABLE_UNSHARDED, .shard = 2 },
	{ .name = "seqd", .kind = TABLE_SHARDED, .key = "id",
	  .fn = SHARD_FN_HASH, .key_type = SHARD_KEY_INT, .sequence = "ids" },
};

/* Sequence keys: at hand or not, as a bit of the input's length says. */
static int take_keys(void *arg, unsigned seq, unsigned n, int64_t *keys)
{
	static int64_t next = 1;

	(void)seq;
	if (!*(const bool *)arg)
		return -1;
	for (unsigned i = 0; i < n; i++)
		keys[i] = next++;
	return 0;
}

static void fail(const char *what, const char *sql, size_t len,
		 const struct shard_plan *p)
{
	fprintf(stderr, "fuzz_plan: %s\n  input: [%.*s]\n  kind %d: %s\n",
		what, (int)(len > 400 ? 400 : len), sql, p->kind, p->err);
	abort();
}

static int sink(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	(void)p;
	(void)len;
	return 0;
}

/* Feeds rows made of the input's bytes to the plan's merge. */
static void merge_some(const struct shard_plan *p, struct sql_arena *a,
		       const uint8_t *data, size_t size)
{
	static const char *const vals[] = { "1", "-2", "0", NULL, "7",
					    "12345678901234567890", "3", "x" };
	struct rs_coldef cols[64];
	struct merge_spec spec;
	struct merge *m;
	char err[256];
	unsigned ncols = 1 + (data[size / 2] & 7);
	uint8_t row[2048];

	/* the planned count, when the plan knows it */
	for (unsigned n = 1; n <= 64; n++) {
		memset(cols, 0, sizeof(cols));
		for (unsigned i = 0; i < n; i++) {
			cols[i].name = (struct mysql_str){ "c", 1 };
			cols[i].type = (i + size) % 3 ? RS_TYPE_LONGLONG :
				       RS_TYPE_NEWDECIMAL;
			cols[i].charset = 63;
			cols[i].length = 20;
		}
		if (!shard_plan_merge_spec(p, a, cols, n, RS_TEXT, RS_TEXT,
					   &spec, err, sizeof(err))) {
			ncols = n;
			break;
		}
		if (strncmp(err, "myring: ", 8))
			fail("merge spec error without myring:", "", 0, p);
		if (n == 64)
			return;
	}
	spec.emit = sink;
	m = merge_new(&spec, err, sizeof(err));
	if (!m)
		return;
	for (size_t i = 0; i < size && i < 64; i++) {
		struct rs_cell cells[64];
		unsigned s = data[i] % p->nparts;
		size_t len;

		for (unsigned c = 0; c < ncols; c++) {
			const char *v = vals[(data[(i + c) % size] >> 3) & 7];

			cells[c] = (struct rs_cell){ (const uint8_t *)v,
						     v ? (uint32_t)strlen(v) : 0,
						     v == NULL };
		}
		if (rs_text_row_size(cells, ncols) > sizeof(row))
			break;
		len = rs_build_text_row(row, cells, ncols);
		if (merge_row(m, s, row, len) != MERGE_OK)
			break;
	}
	for (unsigned s = 0; s < p->nparts; s++)
		if (merge_end(m, s) == MERGE_ERROR)
			break;
	merge_free(m);
}

/* What any plan must be, kind by kind. */
static void check(const struct plan_ctx *ctx, const struct keyspace *ks,
		  const struct shard_plan *p, struct sql_arena *arena,
		  const char *sql, size_t len, const uint8_t *data,
		  size_t size, bool keys_at_hand)
{
	switch (p->kind) {
	case PLAN_PASS:
		break;
	case PLAN_ONE:
		if (p->rewritten) {
			/* An INSERT given sequence keys: its own text. */
			struct sql_tree t;

			if (p->nparts != 1 || !p->insert_id ||
			    p->parts[0].shard >= ks->nshards ||
			    sql_parse(arena, p->parts[0].sql, p->parts[0].len,
				      &(struct sql_parse_opts){ 0 }, &t) ==
			    SQL_PARSE_SYNTAX)
				fail("a rewritten PLAN_ONE", sql, len, p);
			break;
		}
		if (p->nparts != 1 || p->parts[0].sql != sql ||
		    p->parts[0].len != len || p->parts[0].shard >= ks->nshards)
			fail("PLAN_ONE is not the client's text on a shard",
			     sql, len, p);
		break;
	case PLAN_KEYS:
		if (keys_at_hand || !p->need_keys ||
		    p->need_seq >= ks->nsequences)
			fail("PLAN_KEYS", sql, len, p);
		break;
	case PLAN_MULTI:
		/* a step, or a statement's last step, may be one part */
		if (p->nparts < (p->more || ctx->step ? 1u : 2u) ||
		    p->nparts > ks->nshards ||
		    (p->result != PLAN_RESULT_ROWS &&
		     p->result != PLAN_RESULT_OK))
			fail("PLAN_MULTI's parts", sql, len, p);
		for (unsigned i = 0; i < p->nparts; i++) {
			struct sql_parse_opts po = { 0 };
			struct sql_reading rd = { 0 };
			struct sql_tree t;

			if (i && p->parts[i].shard <= p->parts[i - 1].shard)
				fail("shards not ascending", sql, len, p);
			if (ctx->sql_mode & PLAN_MODE_NO_BACKSLASH_ESCAPES)
				rd.escapes = SQL_ESC_NONE;
			else if (ctx->sql_mode & PLAN_MODE_ANSI_QUOTES)
				rd.escapes = SQL_ESC_SINGLE;
			po.rd = &rd;
			if (ctx->sql_mode & PLAN_MODE_PIPES_AS_CONCAT)
				po.flags |= SQL_PARSE_PIPES_AS_CONCAT;
			if (sql_parse(arena, p->parts[i].sql, p->parts[i].len,
				      &po, &t) == SQL_PARSE_SYNTAX)
				fail("a shard's text does not parse", sql, len,
				     p);
		}
		if (p->result == PLAN_RESULT_ROWS) {
			if (!p->merge && !p->collect)
				fail("rows without a merge", sql, len, p);
			if (p->merge)
				merge_some(p, arena, data, size);
		}
		break;
	case PLAN_ANSWER:
		if (!p->nrows || p->ncols != 3)
			fail("an answer without rows", sql, len, p);
		for (unsigned i = 0; i < p->nrows * p->ncols; i++)
			if (i % 3 && !p->cells[i])
				fail("an answer without its text", sql, len,
				     p);
		break;
	case PLAN_ERROR:
		if (strncmp(p->err, "myring: ", 8) || !p->err_code ||
		    strlen(p->sqlstate) != 5)
			fail("an error without its message", sql, len, p);
		break;
	default:
		fail("no kind", sql, len, p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keyspace ks;
	struct plan_ctx ctx;
	struct shard_plan p;
	struct sql_arena arena;
	struct sql_buf b = { 0 };
	bool keys_at_hand;
	char *replan = NULL;
	size_t replan_len = 0;
	const char *sql;
	size_t len;

	if (size < 1)
		return 0;
	if (!ks.nshards) {
		strcpy(ks.schema, "app");
		ks.nshards = 4;
		for (unsigned i = 0; i < 4; i++) {
			snprintf(ks.shards[i].name, sizeof(ks.shards[i].name),
				 "s%u", i);
			ks.shards[i].hash_lo = (uint64_t)i << 62;
			ks.shards[i].hash_hi = ((uint64_t)i << 62) |
					       ((1ull << 62) - 1);
		}
		ks.tables = tables;
		ks.ntables = sizeof(tables) / sizeof(*tables);
		ks.nsequences = 1;
		ks.sequences[0] = (struct shard_sequence){ .name = "ids",
							   .block = 10,
							   .start = 1 };
	}
	ks.default_shard = data[0] & 0x80 ? 1 : -1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.ks = &ks;
	ctx.schema = data[0] & 1 ? "" : "APP";
	ctx.schema_len = strlen(ctx.schema);
	ctx.in_trans = data[0] & 2;
	ctx.trans_shard = data[0] & 4 ? (data[0] >> 3) & 3 : -1;
	ctx.sql_mode = (data[0] >> 5) & 3 ? 1u << (((data[0] >> 5) & 3) - 1) :
		       0;
	sql = (const char *)data + 1;
	len = size - 1;
	/* The client's character set: string keys are read in it. */
	ctx.utf8 = len & 1;
	ctx.latin1 = !ctx.utf8 && (len & 2);
	keys_at_hand = len & 4;
	ctx.take_keys = take_keys;
	ctx.keys_arg = &keys_at_hand;
	/* An execution's FLOAT columns asked for as doubles: some of the
	 * first 8 of 1 to 8 shard columns. */
	if (len & 8 && len > 1) {
		ctx.float_cols = (uint8_t)sql[len - 1];
		ctx.float_ncols = 1 + ((uint8_t)sql[len - 2] & 7);
	}
	ctx.lookups_ready = len & 32;

	sql_arena_init(&arena, 0);
	if (shard_plan(&arena, &ctx, sql, len, &p))
		fail("shard_plan returned an error", sql, len, &p);
	check(&ctx, &ks, &p, &arena, sql, len, data, size, keys_at_hand);
	/* A statement in steps: each planned again as the executor does,
	 * with made-up keys and rows read. */
	for (unsigned n = 0; n < 24 && p.kind == PLAN_MULTI && p.more; n++) {
		static const char *const cells[] = { "42", "a@x", "7",
						     "-3", NULL, "x" };
		static const size_t lens[] = { 2, 3, 1, 2, 0, 1 };
		static const struct plan_found rows = { 3, 2, cells, lens };
		static const struct plan_found keys = { 1, 2, cells, lens };
		static const struct plan_found none = { 1, 0, cells, lens };

		if (!n) {
			if (!p.replan)
				fail("a first step without the text to plan "
				     "again", sql, len, &p);
			replan_len = p.replan_len;
			replan = malloc(replan_len ? replan_len : 1);
			memcpy(replan, p.replan, replan_len);
		}
		ctx.step = p.step + 1;
		if (p.collect == PLAN_COLLECT_KEYS)
			ctx.keys_found = len & 16 ? &none : &keys;
		if (p.collect == PLAN_COLLECT_ROWS)
			ctx.rows_found = &rows;
		if (shard_plan(&arena, &ctx, replan, replan_len, &p))
			fail("shard_plan returned an error", replan,
			     replan_len, &p);
		check(&ctx, &ks, &p, &arena, replan, replan_len, data, size,
		      keys_at_hand);
	}
	shard_plan_describe(&p, &ks, &b);
	sql_buf_free(&b);
	free(replan);
	sql_arena_free(&arena);
	return 0;
}
