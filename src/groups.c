/*
 * groups.c - the servers and groups a proxy starts with (see groups.h).
 */
#include "groups.h"

#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void server_check_strings(const struct server_check *c, char *err,
			  size_t errlen, char *gtid, size_t gtidlen)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t s1 = atomic_load_explicit(&c->seq, memory_order_acquire);

		if (s1 & 1)
			continue;
		if (err)
			snprintf(err, errlen, "%s", c->last_error);
		if (gtid)
			snprintf(gtid, gtidlen, "%s", c->gtid_pos);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&c->seq, memory_order_relaxed) == s1)
			return;
	}
	if (err && errlen)
		err[0] = '\0';
	if (gtid && gtidlen)
		gtid[0] = '\0';
}

static void server_init(struct backend_server *sv, const struct netaddr *addr,
			uint32_t weight, uint32_t max_conns, unsigned group)
{
	sv->addr = *addr;
	sv->weight = weight;
	sv->max_conns = max_conns;
	sv->group = group;
	atomic_store(&sv->check.lag_ms, -1);
}

static void group_defaults(struct backend_group *g, const char *name)
{
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->reads = READ_REPLICAS;
	g->causal = CAUSAL_OFF;
	g->causal_timeout_ms = 1000;
	g->check_interval_ms = 1000;
	g->fail_checks = 3;
	g->ok_checks = 2;
}

int groups_setup(struct proxy *px, const struct config *cfg,
		 const struct netaddr *addrs, unsigned naddrs, char *err,
		 size_t errlen)
{
	unsigned ngroups = cfg->ngroups ? cfg->ngroups : 1, k = 0;

	px->servers = calloc(naddrs, sizeof(*px->servers));
	px->groups = calloc(ngroups, sizeof(*px->groups));
	if (!px->servers || !px->groups)
		goto oom;
	px->nservers = naddrs;
	px->ngroups = ngroups;
	for (unsigned gi = 0; gi < ngroups; gi++) {
		const struct group_spec *gs = cfg->ngroups ? &cfg->groups[gi] :
					      NULL;
		struct backend_group *g = &px->groups[gi];
		unsigned n = gs ? gs->nservers : naddrs;

		group_defaults(g, gs ? gs->name : "default");
		g->servers = calloc(n, sizeof(*g->servers));
		if (!g->servers)
			goto oom;
		g->nservers = n;
		if (gs) {
			g->reads = gs->reads;
			g->causal = gs->causal;
			g->causal_timeout_ms = gs->causal_timeout_ms;
			g->max_lag_ms = gs->max_lag_ms;
			g->check_interval_ms = gs->check_interval_ms;
			g->fail_checks = gs->fail_checks;
			g->ok_checks = gs->ok_checks;
		} else {
			/* --backend: one server, nothing to split;
			 * --primary/--replica: a split group. */
			g->reads = naddrs > 1 ? READ_REPLICAS : READ_PRIMARY;
			g->max_lag_ms = cfg->max_lag_ms;
			if (cfg->check_interval_ms)
				g->check_interval_ms = cfg->check_interval_ms;
		}
		for (unsigned i = 0; i < n; i++, k++) {
			const struct server_spec *ss = gs ? &gs->servers[i] : NULL;

			g->servers[i] = k;
			server_init(&px->servers[k], &addrs[k],
				    ss ? ss->weight : 1,
				    ss && ss->max_conns ? ss->max_conns :
				    cfg->pool_size, gi);
		}
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

bool gtid_parse(const char *gtid, uint32_t *domain, uint32_t *server,
		uint64_t *seq)
{
	unsigned long long d, s, n;
	int end = 0;

	if (sscanf(gtid, "%llu-%llu-%llu%n", &d, &s, &n, &end) != 3 ||
	    gtid[end] || d > UINT32_MAX || s > UINT32_MAX)
		return false;
	*domain = (uint32_t)d;
	*server = (uint32_t)s;
	*seq = n;
	return true;
}

void group_note_gtid(struct backend_group *g, const char *gtid)
{
	uint32_t d, s;
	uint64_t n, cur;

	if (!gtid_parse(gtid, &d, &s, &n))
		return;
	cur = atomic_load(&g->causal_seq);
	while (n > cur)
		if (atomic_compare_exchange_weak(&g->causal_seq, &cur, n)) {
			atomic_store(&g->causal_ds, (uint64_t)d << 32 | s);
			break;
		}
}

void group_causal_gtid(const struct backend_group *g, char *out, size_t cap)
{
	uint64_t n = atomic_load(&g->causal_seq);
	uint64_t ds = atomic_load(&g->causal_ds);

	if (!n) {
		out[0] = '\0';
		return;
	}
	snprintf(out, cap, "%u-%u-%llu", (unsigned)(ds >> 32),
		 (unsigned)(ds & 0xffffffffu), (unsigned long long)n);
}

int groups_find(const struct proxy *px, const char *name)
{
	for (unsigned i = 0; i < px->ngroups; i++)
		if (!strcmp(px->groups[i].name, name))
			return (int)i;
	return -1;
}

void groups_free(struct proxy *px)
{
	for (unsigned i = 0; i < px->ngroups; i++)
		free(px->groups[i].servers);
	free(px->groups);
	free(px->servers);
	px->groups = NULL;
	px->servers = NULL;
	px->ngroups = px->nservers = 0;
}
