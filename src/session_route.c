/*
 * session_route.c - which server of its group a pooled session's command
 * goes to (auth: proxy; groups.h).
 *
 * Only a command that finds the session without a connection is routed:
 * a session inside a transaction, pinned, or with commands in flight
 * keeps the connection it has, on the server it is on.  Then:
 *  - a read (a statement the classifier calls read-only, or the EXECUTE of
 *    one, under autocommit with no transaction open) goes to a replica of
 *    the group, by weight and load (the fewest connections this worker
 *    has lent on it per unit of weight), or to the primary when no replica
 *    is usable (reads: any also counts the primary among the candidates);
 *  - everything else goes to the primary: the one online server whose
 *    read_only is 0.
 * A server is usable while the checker says it is online (health); a
 * group of one server uses it whatever the checker says, and before the
 * first check of a group has answered, its first server stands in as the
 * primary.
 */
#include "session.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

static const struct backend_server *server(const struct session *s,
					   unsigned i)
{
	return &s->c.w->px->servers[i];
}

static uint8_t health_of(const struct backend_server *sv)
{
	return server_health(sv);
}

static uint8_t role_of(const struct backend_server *sv)
{
	return atomic_load_explicit(&sv->check.role, memory_order_relaxed);
}

/* The group's primary, or -1. */
static int primary_of(const struct session *s, const struct backend_group *g)
{
	bool any_checked = false;

	if (g->nservers == 1 && health_of(server(s, g->servers[0])) !=
	    HEALTH_DRAINING)
		return (int)g->servers[0];
	for (unsigned i = 0; i < g->nservers; i++) {
		const struct backend_server *sv = server(s, g->servers[i]);
		uint8_t h = health_of(sv);

		any_checked |= h != HEALTH_UNKNOWN;
		if (h == HEALTH_ONLINE && role_of(sv) == ROLE_PRIMARY)
			return (int)g->servers[i];
	}
	/* Nothing known yet: the first server, as configured. */
	return any_checked ? -1 : (int)g->servers[0];
}

/* Connections this worker has lent on server i: its share of the load. */
static unsigned lent_on(const struct worker *w, unsigned i)
{
	unsigned n = 0;

	for (unsigned k = 0; k < w->npools; k++)
		if (w->pools[k]->key.server == i)
			n += w->pools[k]->nlent + w->pools[k]->nwaiters;
	return n;
}

/* The replica (or, with reads: any, primary too) for a read, or -1;
 * never exclude. */
static int reader_of(struct session *s, const struct backend_group *g,
		     int primary, int exclude)
{
	struct worker *w = s->c.w;
	int best = -1;
	uint64_t best_score = UINT64_MAX;
	unsigned start = w->route_rr++;

	for (unsigned k = 0; k < g->nservers; k++) {
		/* Round robin among equals: start at a moving offset. */
		unsigned i = g->servers[(start + k) % g->nservers];
		const struct backend_server *sv = server(s, i);
		uint64_t score;

		if (!sv->weight || health_of(sv) != HEALTH_ONLINE ||
		    (int)i == exclude)
			continue;
		if ((int)i == primary ? g->reads != READ_ANY :
		    role_of(sv) != ROLE_REPLICA)
			continue;
		score = ((uint64_t)lent_on(w, i) + 1) * 1000000 / sv->weight;
		if (score < best_score) {
			best_score = score;
			best = (int)i;
		}
	}
	return best;
}

/* Whether the session could run a read on another server now: autocommit
 * on and no transaction open (a transaction, even one only read so far,
 * belongs to one server). */
static bool autocommit_idle(const struct session *s)
{
	const struct mysql_state_var *ac =
		mysql_state_get_var(&s->st, "autocommit");

	if (s->in_trans || !mysql_state_trx_idle(&s->st))
		return false;
	return !ac || !ac->value || !strcasecmp(ac->value, "ON") ||
	       !strcmp(ac->value, "1");
}

int route_choose(struct session *s, const char *group, bool read,
		 int exclude, unsigned *out, const char **why, uint16_t *err,
		 char *msg, size_t msglen)
{
	const struct proxy *px = s->c.w->px;
	const struct backend_group *g;
	int gi = group ? groups_find(px, group) : (int)s->group;
	int primary, reader;

	if (gi < 0) {
		/* Checked at load; a reload may have removed it since. */
		*err = 1105;
		snprintf(msg, msglen, "no backend group '%s'", group);
		return -1;
	}
	g = &px->groups[gi];
	primary = primary_of(s, g);
	if (read && g->reads != READ_PRIMARY && autocommit_idle(s)) {
		reader = reader_of(s, g, primary, exclude);
		if (reader >= 0) {
			*out = (unsigned)reader;
			*why = reader == primary ? "read, primary among readers" :
			       "read";
			return 0;
		}
	}
	if (primary < 0 || primary == exclude) {
		*err = ER_BACKEND_UNREACHABLE;
		snprintf(msg, msglen, "group '%s' has no primary online (no "
			 "server with read_only = 0 passes its checks)", g->name);
		return -1;
	}
	*out = (unsigned)primary;
	*why = read ? "read, no replica usable" : "primary";
	return 0;
}
