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

int groups_setup(struct proxy *px, const struct config *cfg, char *err,
		 size_t errlen)
{
	struct backend_group *g;

	px->servers = calloc(1, sizeof(*px->servers));
	px->groups = calloc(1, sizeof(*px->groups));
	if (!px->servers || !px->groups) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	px->nservers = 1;
	px->ngroups = 1;
	px->servers[0].addr = px->backend;
	px->servers[0].max_conns = cfg->pool_size;
	px->servers[0].weight = 1;
	atomic_store(&px->servers[0].check.lag_ms, -1);
	g = &px->groups[0];
	snprintf(g->name, sizeof(g->name), "default");
	g->servers = calloc(1, sizeof(*g->servers));
	if (!g->servers) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	g->nservers = 1;
	g->reads = READ_PRIMARY;
	g->fail_checks = 3;
	g->ok_checks = 2;
	return 0;
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
