/*
 * groups.c - the servers and groups a proxy starts with (see groups.h).
 */
#include "groups.h"

#include "backend_tls.h"
#include "config.h"
#include "shard_map.h"
#include "worker.h"

#include <stdarg.h>
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

/* The slot of the TLS settings server ss has under cfg (ss NULL: one
 * named by flags), or -1 with err. */
static int server_tls_slot(const struct config *cfg,
			   const struct server_spec *ss, char *err,
			   size_t errlen)
{
	struct btls_settings st;
	int slot;

	btls_effective(cfg, ss, &st);
	slot = btls_slot(&st);
	if (slot < 0)
		snprintf(err, errlen, "more than %u different TLS settings for "
			 "servers over myring's life: restart it",
			 BTLS_SLOTS_MAX);
	return slot;
}

static void server_init(struct backend_server *sv, const struct netaddr *addr,
			uint32_t weight, uint32_t max_conns, unsigned group,
			int tls_slot)
{
	sv->addr = *addr;
	atomic_store(&sv->tls_slot, (uint16_t)tls_slot);
	atomic_store(&sv->weight, weight);
	atomic_store(&sv->max_conns, max_conns);
	sv->group = group;
	atomic_store(&sv->check.lag_ms, -1);
}

static void group_settings(struct backend_group *g, const struct group_spec *gs)
{
	atomic_store(&g->reads, gs->reads);
	atomic_store(&g->causal, gs->causal);
	atomic_store(&g->causal_timeout_ms, gs->causal_timeout_ms);
	atomic_store(&g->max_lag_ms, gs->max_lag_ms);
	atomic_store(&g->check_interval_ms, gs->check_interval_ms);
	atomic_store(&g->fail_checks, gs->fail_checks);
	atomic_store(&g->ok_checks, gs->ok_checks);
}

/* Its max-connections, or --pool-size (ss NULL: a server of the flags). */
static uint32_t server_cap(const struct config *cfg,
			   const struct server_spec *ss)
{
	return ss && ss->max_conns ? ss->max_conns : cfg->pool_size;
}

int groups_setup(struct proxy *px, const struct config *cfg,
		 const struct netaddr *addrs, unsigned naddrs, char *err,
		 size_t errlen)
{
	unsigned ngroups = cfg->ngroups ? cfg->ngroups : 1, k = 0;

	if (naddrs > SERVERS_MAX) {
		snprintf(err, errlen, "%u servers: at most %u", naddrs,
			 SERVERS_MAX);
		return -1;
	}
	px->servers = calloc(SERVERS_MAX, sizeof(*px->servers));
	px->groups = calloc(ngroups, sizeof(*px->groups));
	if (!px->servers || !px->groups)
		goto oom;
	px->nservers = naddrs;
	px->ngroups = ngroups;
	px->configured_groups = cfg->ngroups > 0;
	for (unsigned gi = 0; gi < ngroups; gi++) {
		const struct group_spec *gs = cfg->ngroups ? &cfg->groups[gi] :
					      NULL;
		struct backend_group *g = &px->groups[gi];
		unsigned n = gs ? gs->nservers : naddrs;
		struct group_spec flags;

		if (!gs) {
			/* --backend: one server, nothing to split;
			 * --primary/--replica: a split group. */
			group_spec_defaults(&flags, "default");
			flags.reads = naddrs > 1 ? READ_REPLICAS : READ_PRIMARY;
			flags.max_lag_ms = cfg->max_lag_ms;
			if (cfg->check_interval_ms)
				flags.check_interval_ms = cfg->check_interval_ms;
		}
		snprintf(g->name, sizeof(g->name), "%s", gs ? gs->name : "default");
		group_settings(g, gs ? gs : &flags);
		g->servers = calloc(SERVERS_MAX, sizeof(*g->servers));
		if (!g->servers)
			goto oom;
		g->nservers = n;
		for (unsigned i = 0; i < n; i++, k++) {
			const struct server_spec *ss = gs ? &gs->servers[i] : NULL;
			int slot = server_tls_slot(cfg, ss, err, errlen);

			if (slot < 0)
				return -1;
			g->servers[i] = k;
			server_init(&px->servers[k], &addrs[k],
				    ss ? ss->weight : 1,
				    server_cap(cfg, ss), gi, slot);
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

/* The server of group gi at address addr, or -1. */
static int group_server_at(const struct proxy *px, unsigned gi,
			   const struct netaddr *addr)
{
	const struct backend_group *g = &px->groups[gi];

	for (unsigned i = 0; i < g->nservers; i++)
		if (!strcmp(px->servers[g->servers[i]].addr.text, addr->text))
			return (int)g->servers[i];
	return -1;
}

static void note_add(char *note, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_add(char *note, size_t cap, const char *fmt, ...)
{
	size_t len = strlen(note);
	va_list ap;

	if (len + 2 >= cap)
		return;
	if (len)
		len += (size_t)snprintf(note + len, cap - len, "; ");
	va_start(ap, fmt);
	vsnprintf(note + len, cap - len, fmt, ap);
	va_end(ap);
}

/* Whether the new configuration names the same groups, in the same
 * order (rules and sessions know groups by index). */
static bool same_groups(const struct proxy *px, const struct config *cfg,
			char *err, size_t errlen)
{
	if (!cfg->ngroups) {
		snprintf(err, errlen, "groups: were removed (the servers of "
			 "--backend/--primary/--replica change only on restart)");
		return false;
	}
	if (cfg->ngroups != px->ngroups) {
		snprintf(err, errlen, "groups: %u group(s) instead of %u: "
			 "adding or removing groups needs a restart",
			 cfg->ngroups, px->ngroups);
		return false;
	}
	for (unsigned gi = 0; gi < px->ngroups; gi++)
		if (strcmp(cfg->groups[gi].name, px->groups[gi].name)) {
			snprintf(err, errlen, "groups: '%s' where '%s' was: "
				 "renaming, adding or removing groups needs a "
				 "restart", cfg->groups[gi].name,
				 px->groups[gi].name);
			return false;
		}
	return true;
}

int groups_reload_check(const struct proxy *px, const struct config *cfg,
			struct netaddr **out, char *err, size_t errlen)
{
	struct netaddr *addrs;
	unsigned n = 0, added = 0, k = 0;
	char why[400];

	*out = NULL;
	if (!px->configured_groups) {
		/* Flags named the servers: a reload cannot change them. */
		return 0;
	}
	if (!same_groups(px, cfg, err, errlen))
		return -1;
	for (unsigned gi = 0; gi < cfg->ngroups; gi++)
		n += cfg->groups[gi].nservers;
	addrs = calloc(n ? n : 1, sizeof(*addrs));
	if (!addrs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Everything is resolved and counted before anything changes. */
	for (unsigned gi = 0; gi < cfg->ngroups; gi++)
		for (unsigned i = 0; i < cfg->groups[gi].nservers; i++, k++) {
			if (net_resolve(&cfg->groups[gi].servers[i].hp,
					&addrs[k], why, sizeof(why))) {
				snprintf(err, errlen, "groups: '%s': server: %s",
					 cfg->groups[gi].name, why);
				free(addrs);
				return -1;
			}
			if (group_server_at(px, gi, &addrs[k]) < 0)
				added++;
		}
	if (px->nservers + added > SERVERS_MAX) {
		snprintf(err, errlen, "groups: %u servers: at most %u over the "
			 "proxy's life (removed ones count until a restart)",
			 px->nservers + added, SERVERS_MAX);
		free(addrs);
		return -1;
	}
	/* The TLS settings of every server get their slot now: apply
	 * cannot fail. */
	for (unsigned gi = 0; gi < cfg->ngroups; gi++)
		for (unsigned i = 0; i < cfg->groups[gi].nservers; i++)
			if (server_tls_slot(cfg, &cfg->groups[gi].servers[i],
					    err, errlen) < 0) {
				free(addrs);
				return -1;
			}
	*out = addrs;
	return 0;
}

void groups_reload_apply(struct proxy *px, const struct config *cfg,
			 struct netaddr *addrs, char *note, size_t notelen)
{
	unsigned k = 0;

	note[0] = '\0';
	if (!addrs) {
		/* Servers named by flags stay, with the global TLS settings
		 * as reloaded (new files are new settings). */
		int slot = server_tls_slot(cfg, NULL, NULL, 0);

		for (unsigned i = 0; slot >= 0 && i < px->nservers; i++)
			atomic_store_explicit(&px->servers[i].tls_slot,
					      (uint16_t)slot,
					      memory_order_release);
		return;
	}
	for (unsigned gi = 0; gi < cfg->ngroups; gi++) {
		const struct group_spec *gs = &cfg->groups[gi];
		struct backend_group *g = &px->groups[gi];
		unsigned first = k;

		group_settings(g, gs);
		for (unsigned i = 0; i < gs->nservers; i++, k++) {
			const struct server_spec *ss = &gs->servers[i];
			uint32_t max = server_cap(cfg, ss);
			int at = group_server_at(px, gi, &addrs[k]);
			/* Found: groups_reload_check made the slots. */
			int slot = server_tls_slot(cfg, ss, NULL, 0);
			unsigned ns;

			if (at >= 0) {
				struct backend_server *sv = &px->servers[at];

				atomic_store(&sv->weight, ss->weight);
				atomic_store(&sv->max_conns, max);
				/* Its new context is published already
				 * (tls_reload comes first). */
				atomic_store_explicit(&sv->tls_slot,
						      (uint16_t)slot,
						      memory_order_release);
				if (atomic_exchange(&sv->draining, 0))
					note_add(note, notelen, "'%s': %s back",
						 g->name, sv->addr.text);
				continue;
			}
			/* Workers see the server whole before its index. */
			ns = px->nservers;
			server_init(&px->servers[ns], &addrs[k], ss->weight, max,
				    gi, slot);
			atomic_store(&px->nservers, ns + 1);
			g->servers[g->nservers] = ns;
			atomic_store(&g->nservers, g->nservers + 1);
			note_add(note, notelen, "'%s': %s added", g->name,
				 addrs[k].text);
		}
		for (unsigned i = 0; i < g->nservers; i++) {
			struct backend_server *sv = &px->servers[g->servers[i]];
			bool named = false;

			for (unsigned j = first; j < k && !named; j++)
				named = !strcmp(addrs[j].text, sv->addr.text);
			if (!named && !atomic_exchange(&sv->draining, 1))
				note_add(note, notelen, "'%s': %s draining",
					 g->name, sv->addr.text);
		}
	}
	free(addrs);
}

int groups_find(const struct proxy *px, const char *name)
{
	for (unsigned i = 0; i < px->ngroups; i++)
		if (!strcmp(px->groups[i].name, name))
			return (int)i;
	return -1;
}

int groups_resolve_keyspace(const struct proxy *px, struct keyspace *ks,
			    char *err, size_t errlen)
{
	for (unsigned i = 0; ks && i < ks->nshards; i++) {
		struct shard *sh = &ks->shards[i];

		sh->group_index = groups_find(px, sh->group);
		if (sh->group_index < 0) {
			snprintf(err, errlen, "keyspace: shard '%s': no backend "
				 "group '%s'", sh->name, sh->group);
			return -1;
		}
	}
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
