/*
 * The planner tests' keyspace: schema "app" over four shards s0..s3,
 * each a quarter of the hash space in order, with the given tables and
 * no default shard; and a session planning in it.
 */
#ifndef MYRING_TEST_KEYSPACE_FIXTURE_H
#define MYRING_TEST_KEYSPACE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "shard_plan.h"

static inline void four_shards(struct keyspace *ks, struct shard_table *tables,
			       unsigned ntables)
{
	memset(ks, 0, sizeof(*ks));
	strcpy(ks->schema, "app");
	ks->nshards = 4;
	for (unsigned i = 0; i < 4; i++) {
		snprintf(ks->shards[i].name, sizeof(ks->shards[i].name), "s%u",
			 i);
		ks->shards[i].hash_lo = (uint64_t)i << 62;
		ks->shards[i].hash_hi = ((uint64_t)i << 62) | ((1ull << 62) - 1);
	}
	ks->tables = tables;
	ks->ntables = ntables;
	ks->default_shard = -1;
}

/* A planning context for ks: the session in schema "app", no
 * transaction. */
static inline void plan_ctx_app(struct plan_ctx *ctx, const struct keyspace *ks)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->ks = ks;
	ctx->schema = "app";
	ctx->schema_len = 3;
	ctx->trans_shard = -1;
}

#endif
