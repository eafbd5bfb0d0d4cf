/*
 * admin_xa_tables.c - stats.transactions (the in-doubt transactions over
 * shards that recovery saw last) and the admin port's XA COMMIT | XA
 * ROLLBACK 'xid', which resolves one by hand (docs/transactions.md).
 */
#include "admin_tables.h"

#include "mysql_proto.h"
#include "mysql_srv.h"
#include "session_xa.h"
#include "shard_map.h"

#include <stdio.h>
#include <stdlib.h>

#define SHOWN_MAX 1000

void transactions_table(const struct proxy *px, struct table *t)
{
	const struct catalog_entry *ce = catalog_find("stats", "transactions");
	const struct keyspace *ks = px->cfg.keyspace;
	struct xa_indoubt *v = calloc(SHOWN_MAX, sizeof(*v));
	unsigned n = v ? xa_indoubt_copy(v, SHOWN_MAX) : 0;

	tb_init(t, ce->name, ce->cols, ce->types, ce->ncols);
	for (unsigned i = 0; i < n; i++) {
		size_t r = tb_row(t);

		tb_text(t, r, 0, "%s", v[i].gtrid);
		if (ks && v[i].decision_shard < ks->nshards)
			tb_text(t, r, 1, "%s",
				ks->shards[v[i].decision_shard].name);
		tb_text(t, r, 2, "%s", v[i].participants);
		tb_text(t, r, 3, "%s", v[i].state);
		tb_u64(t, r, 4, v[i].age_ms);
	}
	free(v);
}

void xa_resolve_stmt(const char *gtrid, bool commit, struct pkt_buf *out)
{
	if (xa_resolve(gtrid, commit)) {
		srv_err(out, 1397, "XAE04", "myring admin: not a transaction "
			"of myring's (see stats.transactions), or too many "
			"resolutions wait already");
		return;
	}
	srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
}
