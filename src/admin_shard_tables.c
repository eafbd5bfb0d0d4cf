/*
 * admin_shard_tables.c - the admin tables of the keyspace: stats.shards
 * (SHOW SHARDS) and stats.shard_tables.  The keyspace is the one myring
 * started with (a reload cannot change it); the primaries are what the
 * checker found last.
 */
#include "admin_tables.h"

#include "collation.h"
#include "health.h"
#include "shard_map.h"

#include <inttypes.h>
#include <stdio.h>

static void tb_for(struct table *t, const char *name)
{
	const struct catalog_entry *ce = catalog_find("stats", name);

	tb_init(t, ce->name, ce->cols, ce->types, ce->ncols);
}

/* The server of group g that takes writes: the one the checker found
 * with read_only = 0, or the group's only server; -1 if none. */
static int group_primary(const struct proxy *px, unsigned g)
{
	const struct backend_group *grp = &px->groups[g];
	unsigned n = atomic_load(&grp->nservers);

	for (unsigned i = 0; i < n; i++) {
		const struct backend_server *sv = &px->servers[grp->servers[i]];

		if (atomic_load(&sv->check.role) == ROLE_PRIMARY &&
		    server_health(sv) != HEALTH_DRAINING)
			return (int)grp->servers[i];
	}
	return n == 1 ? (int)grp->servers[0] : -1;
}

void shards_table(const struct proxy *px, struct table *t)
{
	const struct keyspace *ks = px->cfg.keyspace;

	tb_for(t, "shards");
	for (unsigned i = 0; ks && i < ks->nshards; i++) {
		const struct shard *sh = &ks->shards[i];
		size_t r = tb_row(t);
		int g = sh->group_index, p;

		tb_text(t, r, 0, "%s", sh->name);
		tb_text(t, r, 1, "%s", sh->group);
		tb_text(t, r, 2, "0x%016" PRIx64, sh->hash_lo);
		tb_text(t, r, 3, "0x%016" PRIx64, sh->hash_hi);
		if (g < 0 || (unsigned)g >= px->ngroups)
			continue;
		tb_u64(t, r, 4, atomic_load(&px->groups[g].nservers));
		p = group_primary(px, (unsigned)g);
		if (p < 0) {
			tb_text(t, r, 6, "no primary");
			continue;
		}
		tb_text(t, r, 5, "%s", px->servers[p].addr.text);
		tb_text(t, r, 6, "%s", health_name(server_health(&px->servers[p])));
	}
}

static const char *kind_word(uint8_t kind)
{
	switch (kind) {
	case TABLE_SHARDED: return "sharded";
	case TABLE_BROADCAST: return "broadcast";
	default: return "unsharded";
	}
}

/* "1000,2000,3000" */
static void bounds_text(const struct shard_table *st, struct table *t,
			size_t r, unsigned col)
{
	char buf[SHARDS_MAX * 21];
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < st->nbounds && len < sizeof(buf); i++) {
		int k = snprintf(buf + len, sizeof(buf) - len, "%s%" PRId64,
				 i ? "," : "", st->bounds[i]);
		if (k < 0)
			break;
		len += (size_t)k;
	}
	tb_text(t, r, col, "%s", buf);
}

/* "email unique myring.lookup_customers_email@s0, ..." */
static void lookups_text(const struct keyspace *ks,
			 const struct shard_table *st, struct table *t,
			 size_t r, unsigned col)
{
	char buf[SHARD_LOOKUPS_MAX * 200];
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < st->nlookups && len < sizeof(buf); i++) {
		const struct shard_lookup *l = &st->lookups[i];
		int k = snprintf(buf + len, sizeof(buf) - len,
				 "%s%s%s myring.%s@%s", i ? ", " : "",
				 l->column, l->unique ? " unique" : "",
				 l->table, ks->shards[l->shard].name);
		if (k < 0)
			break;
		len += (size_t)k;
	}
	if (st->nlookups)
		tb_text(t, r, col, "%s", buf);
}

void shard_tables_table(const struct proxy *px, struct table *t)
{
	const struct keyspace *ks = px->cfg.keyspace;

	tb_for(t, "shard_tables");
	for (unsigned i = 0; ks && i < ks->ntables; i++) {
		const struct shard_table *st = &ks->tables[i];
		size_t r = tb_row(t);

		tb_text(t, r, 0, "%s", st->name);
		tb_text(t, r, 1, "%s", kind_word(st->kind));
		if (st->kind == TABLE_SHARDED) {
			tb_text(t, r, 2, "%s", st->key);
			tb_text(t, r, 3, "%s", st->fn == SHARD_FN_RANGE ? "range" :
				"hash");
			tb_text(t, r, 4, "%s", st->key_type == SHARD_KEY_STRING ?
				"string" : "int");
			if (st->key_type == SHARD_KEY_STRING)
				tb_text(t, r, 5, "%s", coll_name(st->collation) ?
					coll_name(st->collation) : "?");
			if (st->fn == SHARD_FN_RANGE)
				bounds_text(st, t, r, 7);
		}
		if (st->kind == TABLE_UNSHARDED && st->shard < ks->nshards)
			tb_text(t, r, 6, "%s", ks->shards[st->shard].name);
		tb_u64(t, r, 8, st->line);
		if (st->sequence[0]) {
			int q = keyspace_sequence(ks, st->sequence);

			tb_text(t, r, 9, "%s", st->sequence);
			if (q >= 0) {
				const struct shard_sequence *sq =
					&ks->sequences[q];

				tb_text(t, r, 10, "%s",
					ks->shards[sq->shard].name);
				tb_u64(t, r, 11, sq->block);
			}
		}
		lookups_text(ks, st, t, r, 12);
	}
}
